//! The MCP data types of both protocol eras.
//!
//! The handshake era (2024-11-05 through 2025-11-25) and the stateless 2026-07-28 revision share
//! almost every type; where they differ, the field is optional here and the runtime decides per
//! era whether it goes on the wire (`resultType`, cache hints, `execution`, …). Field names follow
//! the specification's camelCase on the wire and snake_case in Rust. Unknown members are
//! tolerated on input (clients add extensions), and `_meta` is kept wherever the schema has it.
//!
//! ```
//! use mcp_core::protocol::CallToolResult;
//! let result = CallToolResult::text("hello");
//! assert_eq!(serde_json::to_value(&result).unwrap(),
//!            serde_json::json!({"content":[{"type":"text","text":"hello"}]}));
//! ```

mod capabilities;
mod client;
mod content;
mod lifecycle;
mod notifications;
mod prompts;
mod resources;
mod tasks;
mod tools;
mod version;

pub use capabilities::*;
pub use client::*;
pub use content::*;
pub use lifecycle::*;
pub use notifications::*;
pub use prompts::*;
pub use resources::*;
pub use tasks::*;
pub use tools::*;
pub use version::*;

/// A JSON object, as it appears in schemas, `_meta` and free-form capability maps.
///
/// # Examples
/// ```
/// use mcp_core::protocol::JsonObject;
/// let mut schema = JsonObject::new();
/// schema.insert("type".into(), "object".into());
/// assert_eq!(serde_json::to_string(&schema).unwrap(), r#"{"type":"object"}"#);
/// ```
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// The reserved `_meta` key prefix of the 2026-07-28 revision.
///
/// # Examples
/// ```
/// use mcp_core::protocol::{meta, META_PREFIX};
/// assert!(meta::PROTOCOL_VERSION.starts_with(META_PREFIX));
/// ```
pub const META_PREFIX: &str = "io.modelcontextprotocol/";

/// Well-known `_meta` keys.
///
/// # Examples
/// ```
/// use mcp_core::protocol::meta;
/// use serde_json::json;
/// // A 2026-07-28 request's envelope, with a progress token and W3C trace context:
/// let params = json!({"name": "echo", "_meta": {
///     meta::PROTOCOL_VERSION: "2026-07-28",
///     meta::CLIENT_CAPABILITIES: {},
///     meta::CLIENT_INFO: {"name": "my-ide", "version": "1.0"},
///     meta::LOG_LEVEL: "info",
///     meta::PROGRESS_TOKEN: 1,
///     meta::TRACEPARENT: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
/// }});
/// assert_eq!(params["_meta"]["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
///
/// // What servers put in results and notifications:
/// let result_meta = json!({meta::SERVER_INFO: {"name": "srv", "version": "1"}});
/// let listen_meta = json!({meta::SUBSCRIPTION_ID: "sub-1"});
/// let task_meta = json!({meta::RELATED_TASK: {"taskId": "t1"}});
/// assert!(result_meta.get("io.modelcontextprotocol/serverInfo").is_some());
/// # let _ = (listen_meta, task_meta);
/// ```
pub mod meta {
    /// Request envelope: the protocol version the request claims (2026-07-28).
    ///
    /// See [`meta`](self) for an example.
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// Request envelope: the client capabilities for this request (2026-07-28).
    ///
    /// See [`meta`](self) for an example.
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// Request envelope: the client's name and version, for display (2026-07-28).
    ///
    /// See [`meta`](self) for an example.
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// Request envelope: the least severe log level the client wants for this request.
    ///
    /// See [`meta`](self) for an example.
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// Result `_meta`: the server's name and version (2026-07-28).
    ///
    /// See [`meta`](self) for an example.
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// Notification `_meta` on a listen stream: the subscription it belongs to.
    ///
    /// See [`meta`](self) for an example.
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
    /// Messages that belong to a task (2025-11-25).
    ///
    /// See [`meta`](self) for an example.
    pub const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";
    /// The progress token a request asks progress notifications for.
    ///
    /// See [`meta`](self) for an example.
    pub const PROGRESS_TOKEN: &str = "progressToken";
    /// W3C trace context, when a client propagates it.
    ///
    /// See [`meta`](self) for an example.
    pub const TRACEPARENT: &str = "traceparent";
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}
