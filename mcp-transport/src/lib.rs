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
//! | feature | default | what it enables |
//! |---------|---------|-----------------|
//! | `stdio` | yes     | [`stdio`]: newline-delimited JSON-RPC over stdin/stdout or any `AsyncRead + AsyncWrite` |
//! | `http`  | yes     | [`http`]: Streamable HTTP (hyper 1.x, HTTP/1.1) — a tower `Service`, sessions, resumable SSE, security checks; and [`metrics`]: the `/metrics`, `/healthz`, `/readyz` endpoints |
//! | `http2` | no      | (implies `http`) [`http::serve_with`] also speaks HTTP/2 with prior knowledge (h2c) on the same port |
//! | `auth`  | no      | `auth`: an OAuth 2.1 resource server for HTTP — bearer JWTs checked against a JWKS, RFC 9728 metadata, scopes |
//! | `client`| no      | `client`: an MCP client for both eras, over a child process's stdio or Streamable HTTP |
//! | `redis` | no      | `redis` (implies `http`): Redis-backed session, event, task and rate-limit stores and a relay, for several instances behind a load balancer |
//!
//! ```toml
//! [dependencies]
//! mcp-transport = { version = "0.1", default-features = false, features = ["stdio"] } # stdio only
//! ```

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
