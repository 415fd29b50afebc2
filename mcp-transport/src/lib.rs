//! Transports for `mcp-core` servers.
//!
//! A transport only moves bytes: it frames and unframes JSON-RPC messages, enforces byte
//! limits, and hands each message to a [`mcp_core::Connection`]. Everything protocol-level
//! happens in `mcp-core`.
//!
//! ```no_run
//! use mcp_core::{Args, Router, ToolDef};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Echo { text: String }
//! async fn echo(Args(e): Args<Echo>) -> String { e.text }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let router: Router = Router::new().tool(ToolDef::new("echo", echo).description("Echoes"));
//!     mcp_transport::stdio::serve(router).await
//! }
//! ```
//!
//! | feature | default | what it adds |
//! |---------|---------|--------------|
//! | `stdio` | yes     | newline-delimited JSON-RPC over stdin/stdout or any `AsyncRead + AsyncWrite` |
//! | `http`  | yes     | Streamable HTTP (hyper 1.x): a tower `Service`, sessions, resumable SSE, security checks |
//! | `auth`  | no      | OAuth 2.1 resource server for HTTP: bearer JWTs (JWKS), RFC 9728 metadata, scopes |
//! | `client`| no      | MCP clients: a child-process stdio client and a Streamable HTTP client, both eras |
//! | `redis` | no      | Redis-backed session, event, task and rate-limit stores for running several instances |

#[cfg(feature = "stdio")]
pub mod stdio;

#[cfg(feature = "http")]
pub mod http;

#[cfg(feature = "auth")]
pub mod auth;

#[cfg(feature = "client")]
pub mod client;

#[cfg(feature = "redis")]
pub mod redis;

#[cfg(feature = "http")]
pub mod metrics;
