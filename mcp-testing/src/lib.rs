//! An in-process client for testing `mcp-core` servers: no sockets, no processes.
//!
//! [`TestClient`] talks to a [`Router`](mcp_core::Router) (or a [`Server`](mcp_core::Server))
//! through the runtime's [`Connection`](mcp_core::Connection), in either protocol era: the
//! handshake era (`initialize` is done for you) or the stateless 2026-07-28 revision (every
//! request carries the `_meta` envelope). It calls tools, reads resources, gets prompts,
//! captures progress and log notifications in order, and answers the server's questions —
//! elicitation, sampling, roots — with scripted responders that work the same in both eras.
//! It can act as any caller (identity and scopes without tokens), drive tasks, assert with
//! messages that show the request and the response, and snapshot the server's schema to catch
//! breaking changes. Every wait has a timeout, so a buggy server fails a test instead of
//! hanging it.
//!
//! ```
//! use mcp_core::{Args, Context, Router, ToolDef};
//! use mcp_core::protocol::ElicitRequest;
//! use mcp_testing::{reply, TestClient, ERAS};
//! use serde_json::json;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Echo { text: String }
//!
//! async fn echo(Args(e): Args<Echo>) -> String { e.text }
//!
//! async fn greet(ctx: Context) -> Result<String, mcp_core::ToolError> {
//!     let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}});
//!     let answer = ctx.elicit("user_name", ElicitRequest::form("Your name?", schema)).await?;
//!     let name = answer.content.and_then(|c| c.get("name").cloned()).unwrap_or_default();
//!     Ok(format!("Hello, {}!", name.as_str().unwrap_or("stranger")))
//! }
//!
//! fn router() -> Router {
//!     Router::new()
//!         .tool(ToolDef::new("echo", echo).description("Echoes"))
//!         .tool(ToolDef::new("greet", greet).description("Greets the user"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mcp_testing::TestError> {
//! for era in ERAS {
//!     let client = TestClient::builder(router())
//!         .era(era)
//!         .on_elicit(|_| reply::accept(json!({"name": "Ada"})))
//!         .connect()
//!         .await?;
//!     let echoed = client.call_tool("echo", json!({"text": "hi"})).await?;
//!     assert_eq!(echoed.content[0].as_text(), Some("hi"));
//!     // A server→client request in the handshake era, an `input_required` retry in 2026-07-28.
//!     let greeted = client.call_tool("greet", ()).await?;
//!     assert_eq!(greeted.content[0].as_text(), Some("Hello, Ada!"));
//! }
//! # Ok(()) }
//! ```
//!
//! | Want to… | Use |
//! |---|---|
//! | call a tool | [`TestClient::call_tool`], [`TestClient::call_json`], [`TestClient::call_tool_with`] |
//! | see progress and logs | [`RequestOptions::progress_token`], [`TestClient::progress`], [`TestClient::logs`], [`TestClient::notifications`] |
//! | script the user and the model | [`TestClientBuilder::on_elicit`], [`TestClientBuilder::on_sample`], [`TestClientBuilder::roots`], [`reply`] |
//! | cancel | [`TestClient::start_call_tool`], [`PendingRequest::cancel`] |
//! | assert with the request and response in the failure | [`TestClient::call`], [`Exchange::expect_text`], [`Exchange::expect_error_code`], [`Exchange::expect_is_error`] |
//! | act as a caller with scopes | [`TestClientBuilder::identity`], [`RequestOptions::identity`], [`TestClient::set_identity`] |
//! | drive a task | [`TestClient::call_tool_as_task`], [`TaskHandle`] |
//! | await notifications one by one | [`TestClient::notification_stream`] |
//! | catch schema changes | [`snapshot()`], [`assert_schema_snapshot!`], [`schema_diff::classify`], the `mcp-schema-diff` CLI |
//! | send anything | [`TestClient::request`], [`TestClient::request_raw`], [`TestClient::notify`] |
//!
//! # Features
//!
//! | feature | default | what it enables |
//! |---|---|---|
//! | — | — | none: everything is always built |
//!
//! Add it as a dev-dependency. It enables Tokio's `test-util` (for paused-time tests) and uses
//! `mcp-core` without its `macros` feature (your own `mcp-core` dependency decides that). The
//! package also builds the `mcp-schema-diff` binary (`cargo run -p mcp-testing --bin
//! mcp-schema-diff -- OLD.json NEW.json`), which runs [`schema_diff::classify`] in CI and exits
//! with 1 on a breaking change.
#![doc(test(attr(deny(warnings))))]

mod capture;
mod client;
mod error;
mod exchange;
mod options;
mod pages;
mod pending;
pub mod reply;
mod responders;
pub mod schema_diff;
pub mod snapshot;
mod tasks;

pub use capture::{NotificationStream, ServerRequest};
pub use client::{TestClient, TestClientBuilder, DEFAULT_MAX_INPUT_ROUNDS, DEFAULT_TIMEOUT};
pub use error::TestError;
pub use exchange::Exchange;
pub use mcp_core::era::Era;
pub use options::RequestOptions;
pub use pending::PendingRequest;
pub use snapshot::snapshot;
pub use tasks::{TaskHandle, TaskInfo};

use mcp_core::protocol::{CallToolResult, CompletionReference, ProtocolVersion};

/// Both eras, for running one test in each: the latest handshake revision and 2026-07-28.
///
/// ```
/// assert!(mcp_testing::ERAS[1].is_modern());
/// ```
pub const ERAS: [Era; 2] = [
    Era::Handshake(ProtocolVersion::LATEST_HANDSHAKE),
    Era::Modern,
];

/// Reading tool results in tests.
///
/// See [`CallToolResultExt::text_content`] for an example.
pub trait CallToolResultExt {
    /// Every text block, joined with newlines.
    ///
    /// ```
    /// use mcp_core::protocol::CallToolResult;
    /// use mcp_testing::CallToolResultExt;
    /// assert_eq!(CallToolResult::text("hi").text_content(), "hi");
    /// ```
    fn text_content(&self) -> String;
}

impl CallToolResultExt for CallToolResult {
    fn text_content(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| b.as_text())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A completion reference to a prompt.
///
/// ```
/// let r = mcp_testing::prompt_ref("greeting");
/// assert_eq!(serde_json::to_value(&r).unwrap()["type"], "ref/prompt");
/// ```
pub fn prompt_ref(name: impl Into<String>) -> CompletionReference {
    CompletionReference::Prompt {
        name: name.into(),
        title: None,
    }
}

/// A completion reference to a resource template.
///
/// ```
/// let r = mcp_testing::template_ref("test://template/{id}/data");
/// assert_eq!(serde_json::to_value(&r).unwrap()["type"], "ref/resource");
/// ```
pub fn template_ref(uri_template: impl Into<String>) -> CompletionReference {
    CompletionReference::Resource {
        uri: uri_template.into(),
    }
}
