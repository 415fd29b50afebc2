//! The SDK's own middleware: ordinary `tower::Layer`s over [`McpRequest`]s.
//!
//! The server's request handling is a `tower::Service<McpRequest>`, and [`Server::layer`]
//! wraps it. Every layer here is independent: stack the ones you want, in the order you want,
//! replace any of them with your own, or leave them out (an omitted layer costs nothing).
//!
//! | layer | what it does | answers itself with |
//! |---|---|---|
//! | [`CatchPanicLayer`] | turns a panic anywhere inside it into an error answer | `-32603`, `data.reason = "panicked"` |
//! | [`TraceLayer`] | one `tracing` span per request: method, tool, identity, outcome; W3C trace context | — |
//! | [`MetricsLayer`] | Prometheus counters, histograms and gauges in a [`Metrics`] registry | — |
//! | [`AuditLayer`] | one hash-chained [`AuditRecord`] per tool call, resource read and prompt get | `-31503` when the audit sink fails closed |
//! | [`RateLimitLayer`] | token buckets per client and per tool, on a pluggable [`RateLimitBackend`] | `-31429` (client), an `isError` result (tool) |
//! | [`ConcurrencyLimitLayer`] | at most N requests at once, a bounded queue behind them | `-31503`, `data.reason = "overloaded"` |
//! | [`TimeoutLayer`] | a default deadline for tool calls; the handler's future is dropped | an `isError` result |
//!
//! [`Server::layer`] makes the layer added last the outermost, so list them from the inside
//! out. This order is the recommended one: the panic net and the span see everything, metrics
//! and audit see every rejection, and rate limits reject before a call queues for a slot.
//!
//! ```
//! use std::time::Duration;
//! use mcp_core::layers::{
//!     audit::{AuditLog, MemorySink}, AuditLayer, CatchPanicLayer, ConcurrencyLimitLayer,
//!     Metrics, MetricsLayer, Quota, RateLimitLayer, TimeoutLayer, TraceLayer,
//! };
//! use mcp_core::{Router, Server};
//!
//! async fn search() -> &'static str { "nothing found" }
//!
//! let metrics = Metrics::new();
//! let audit = AuditLog::builder(MemorySink::new()).redact(["password"]).build()?;
//! let server = Server::new(Router::new().tool_fn("search", search))
//!     .layer(TimeoutLayer::new(Duration::from_secs(30)))
//!     .layer(ConcurrencyLimitLayer::new(64).queue(256))
//!     .layer(
//!         RateLimitLayer::new()
//!             .per_client(Quota::per_second(10))
//!             .per_tool("search", Quota::per_minute(30)),
//!     )
//!     .layer(AuditLayer::new(audit))
//!     .layer(MetricsLayer::new(&metrics))
//!     .layer(TraceLayer::new())
//!     .layer(CatchPanicLayer::new());
//! # let _ = server;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Outcomes
//!
//! Layers judge what became of a request from its [`McpResponse`]: a result, a result with
//! `isError`, an error with its code, or no answer at all (a cancelled request; a future that
//! is dropped before it finishes is cancelled too). Where the response alone cannot tell — a
//! timeout or a tool-level rate limit both answer with `isError` — the layer that produced
//! it says so with [`report`], and every observing layer of the same request sees it.
//! See [`Outcome`].
//!
//! # Error codes
//!
//! The layers answer with two application codes (outside the JSON-RPC reserved range) whose
//! numbers mirror the HTTP status a transport should send:
//!
//! - [`RATE_LIMITED`] (`-31429`) → HTTP 429 with `Retry-After: data.retryAfterSeconds`;
//! - [`UNAVAILABLE`] (`-31503`) → HTTP 503, with `Retry-After` when `data.retryAfterSeconds`
//!   is present.
//!
//! [`Server::layer`]: crate::Server::layer
//! [`McpRequest`]: crate::server::McpRequest
//! [`McpResponse`]: crate::server::McpResponse

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::{json, Value};

use crate::era::Era;
use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::{CallToolResult, JsonObject};
use crate::server::McpResponse;

pub mod audit;
mod concurrency;
pub mod forwarded;
mod health;
mod metrics;
mod outcome;
mod panic;
mod rate_limit;
mod timeout;
mod trace;

pub use audit::{AuditLayer, AuditRecord};
pub use concurrency::{ConcurrencyLimit, ConcurrencyLimitLayer};
pub use forwarded::TrustedProxies;
pub use health::{Health, Readiness};
pub use metrics::{AuthFailure, Metrics, MetricsLayer, MetricsService};
pub use outcome::{report, Outcome};
pub use panic::{CatchPanic, CatchPanicLayer};
pub use rate_limit::{
    BackendError, BackendFuture, Decision, InMemoryBackend, Quota, RateLimit, RateLimitBackend,
    RateLimitLayer,
};
pub use timeout::{Timeout, TimeoutLayer};
/// tower's traits, for writing layers of your own without depending on tower directly.
pub use tower::{layer::layer_fn, Layer, Service};
pub use trace::{Trace, TraceContext, TraceLayer};

/// `-31429`: the client sent more requests than its rate limit allows. `data` carries
/// `retryAfterSeconds` (an integer, at least 1), `retryAfterMs` and `scope: "client"`.
///
/// Over HTTP: status 429 with `Retry-After`.
///
/// ```
/// assert_eq!(mcp_core::layers::RATE_LIMITED.0, -31429);
/// ```
pub const RATE_LIMITED: ErrorCode = ErrorCode(-31429);

/// `-31503`: the server cannot take the request now. `data.reason` says why: `"overloaded"`
/// (the concurrency limit and its queue are full; `retryAfterSeconds` is set) or
/// `"audit_unavailable"` (the audit sink fails and the audit log fails closed).
///
/// Over HTTP: status 503, with `Retry-After` when `data.retryAfterSeconds` is present.
///
/// ```
/// assert_eq!(mcp_core::layers::UNAVAILABLE.0, -31503);
/// ```
pub const UNAVAILABLE: ErrorCode = ErrorCode(-31503);

/// The future every layer here returns.
pub(crate) type LayerFuture =
    Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send + 'static>>;

/// Whole seconds to wait, rounded up, at least 1: what `Retry-After` carries.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// `data` for an answer that tells the client when to come back.
pub(crate) fn retry_data(wait: Duration, extra: Value) -> Value {
    let mut data = json!({
        "retryAfterSeconds": retry_after_secs(wait),
        "retryAfterMs": u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
    });
    if let (Some(d), Value::Object(extra)) = (data.as_object_mut(), extra) {
        d.extend(extra);
    }
    data
}

/// A `tools/call` answer with `isError: true`, shaped for the era (2026-07-28 results carry
/// `resultType`).
pub(crate) fn tool_error(era: Era, text: String, meta: Option<JsonObject>) -> McpResponse {
    let mut result = CallToolResult::error(text);
    result.meta = meta;
    let mut value = match serde_json::to_value(result) {
        Ok(v) => v,
        Err(e) => {
            return Some(Err(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                format!("cannot encode a tool result: {e}"),
            )))
        }
    };
    if let (true, Some(obj)) = (era.is_modern(), value.as_object_mut()) {
        obj.insert("resultType".into(), "complete".into());
    }
    Some(Ok(value))
}

/// The tool name of a `tools/call`.
pub(crate) fn tool_name(req: &crate::server::McpRequest) -> Option<&str> {
    match req.method.as_str() {
        "tools/call" => req.target(),
        _ => None,
    }
}

/// Whether the method runs a user handler and is therefore audited: tool calls, resource
/// reads, prompt gets.
pub(crate) fn is_operation(method: &str) -> bool {
    matches!(method, "tools/call" | "resources/read" | "prompts/get")
}

#[cfg(test)]
pub(crate) mod testing {
    //! A stand-in for the runtime, for driving layers without a connection.

    use std::convert::Infallible;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use serde_json::Value;

    use crate::era::Era;
    use crate::identity::RequestMeta;
    use crate::jsonrpc::RequestId;
    use crate::protocol::ProtocolVersion;
    use crate::server::{McpRequest, McpResponse};

    type Answer = Arc<dyn Fn(&McpRequest) -> McpResponse + Send + Sync>;

    /// An inner service that answers with a function of the request.
    #[derive(Clone)]
    pub(crate) struct Fixed(pub(crate) Answer);

    impl Fixed {
        pub(crate) fn new(f: impl Fn(&McpRequest) -> McpResponse + Send + Sync + 'static) -> Self {
            Fixed(Arc::new(f))
        }
    }

    impl tower::Service<McpRequest> for Fixed {
        type Response = McpResponse;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: McpRequest) -> Self::Future {
            let answer = (self.0)(&req);
            Box::pin(async move { Ok(answer) })
        }
    }

    /// A request as the runtime would build it (without what the handlers need).
    pub(crate) fn request(method: &str, params: Value) -> McpRequest {
        McpRequest {
            id: RequestId::Number(1),
            method: method.to_owned(),
            params: Some(params),
            era: Era::Handshake(ProtocolVersion::LATEST_HANDSHAKE),
            meta: RequestMeta::default(),
            dispatch: None,
        }
    }
}
