//! One `tracing` span per request, joined to the caller's W3C trace.

use std::convert::Infallible;
use std::fmt;
use std::task::{Context, Poll};

use serde_json::Value;
use tokio::time::Instant;
use tracing::field::Empty;
use tracing::Instrument;

use super::outcome::{observe, Outcome};
use super::LayerFuture;
use crate::protocol::meta;
use crate::server::{McpRequest, McpResponse};

/// A W3C `traceparent`: which trace a request belongs to and which span called it.
///
/// ```
/// use mcp_core::layers::TraceContext;
/// let tc = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
/// assert_eq!(tc.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(tc.parent_id(), "00f067aa0ba902b7");
/// assert!(tc.sampled());
/// assert!(TraceContext::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: String,
    parent_id: String,
    flags: u8,
}

impl TraceContext {
    /// Parses a `traceparent` value (version `00`, or a later version read as `00`); `None`
    /// when it is malformed, as the W3C spec asks (the request then starts a new trace).
    ///
    /// See [`TraceContext`] for an example.
    pub fn parse(value: &str) -> Option<TraceContext> {
        let value = value.trim();
        let mut parts = value.splitn(5, '-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let parent_id = parts.next()?;
        let flags = parts.next()?;
        let rest = parts.next();
        let hex = |s: &str, n: usize| {
            s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if !hex(version, 2) || version == "ff" || (version == "00" && rest.is_some()) {
            return None;
        }
        if !hex(trace_id, 32) || trace_id.bytes().all(|b| b == b'0') {
            return None;
        }
        if !hex(parent_id, 16) || parent_id.bytes().all(|b| b == b'0') || !hex(flags, 2) {
            return None;
        }
        Some(TraceContext {
            trace_id: trace_id.to_owned(),
            parent_id: parent_id.to_owned(),
            flags: u8::from_str_radix(flags, 16).ok()?,
        })
    }

    /// The request's trace context: `params._meta.traceparent` when present and valid, else
    /// the one the transport took from the `traceparent` header.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::TraceContext;
    /// use mcp_core::server::McpRequest;
    ///
    /// fn trace_id(req: &McpRequest) -> Option<String> {
    ///     TraceContext::of(req).map(|tc| tc.trace_id().to_owned())
    /// }
    /// # let _ = trace_id;
    /// ```
    pub fn of(req: &McpRequest) -> Option<TraceContext> {
        req.params
            .as_ref()
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get(meta::TRACEPARENT))
            .and_then(Value::as_str)
            .and_then(TraceContext::parse)
            .or_else(|| {
                req.meta
                    .traceparent
                    .as_deref()
                    .and_then(TraceContext::parse)
            })
    }

    /// The trace id: 32 lowercase hex digits.
    ///
    /// See [`TraceContext`] for an example.
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// The caller's span id: 16 lowercase hex digits.
    ///
    /// See [`TraceContext`] for an example.
    pub fn parent_id(&self) -> &str {
        &self.parent_id
    }

    /// Whether the caller sampled the trace.
    ///
    /// See [`TraceContext`] for an example.
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.trace_id, self.parent_id, self.flags
        )
    }
}

/// Serves each request inside a `tracing` span named `mcp.request`, with the fields
/// `rpc.method`, `rpc.jsonrpc.request_id`, `mcp.target` (tool or prompt name, resource URI),
/// `mcp.identity` (the subject — never a token), `mcp.session`, `trace_id`, `parent_span_id`
/// (from W3C trace context) and, once answered, `mcp.outcome` ([`Outcome::as_str`]) and
/// `duration_ms`. Layers and handlers inside log within it.
///
/// With the `otel` feature, the span's OpenTelemetry parent is set from the trace context, so
/// a `tracing-opentelemetry` subscriber exports it as a child of the caller's span.
///
/// ```
/// use mcp_core::layers::TraceLayer;
/// use mcp_core::{Router, Server};
/// let server = Server::new(Router::new()).layer(TraceLayer::new());
/// # let _ = server;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer {
    _private: (),
}

impl TraceLayer {
    /// The layer.
    ///
    /// See [`TraceLayer`] for an example.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> tower::Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Trace<S> {
        Trace { inner }
    }
}

/// The service [`TraceLayer`] builds.
///
/// See [`TraceLayer`] for an example.
#[derive(Debug, Clone)]
pub struct Trace<S> {
    inner: S,
}

fn span_for(req: &McpRequest) -> tracing::Span {
    let span = tracing::info_span!(
        "mcp.request",
        otel.kind = "server",
        rpc.system = "jsonrpc",
        rpc.method = %req.method,
        rpc.jsonrpc.request_id = %req.id,
        mcp.target = Empty,
        mcp.identity = Empty,
        mcp.session = Empty,
        mcp.outcome = Empty,
        trace_id = Empty,
        parent_span_id = Empty,
        duration_ms = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    if let Some(target) = req.target() {
        span.record("mcp.target", target);
    }
    if let Some(id) = &req.meta.identity {
        span.record("mcp.identity", id.subject.as_str());
    }
    if let Some(session) = &req.meta.session_id {
        span.record("mcp.session", &**session);
    }
    if let Some(tc) = TraceContext::of(req) {
        span.record("trace_id", tc.trace_id());
        span.record("parent_span_id", tc.parent_id());
        #[cfg(feature = "otel")]
        otel::set_parent(&span, &tc, req);
    }
    span
}

impl<S> tower::Service<McpRequest> for Trace<S>
where
    S: tower::Service<McpRequest, Response = McpResponse, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = LayerFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: McpRequest) -> LayerFuture {
        let span = span_for(&req);
        let fut = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        let outer = span.clone();
        Box::pin(
            async move {
                let start = Instant::now();
                let (response, hint) = observe(fut).await;
                let outcome = Outcome::judge(&response, hint);
                let elapsed = start.elapsed().as_secs_f64() * 1000.0;
                outer.record("mcp.outcome", outcome.as_str());
                outer.record("duration_ms", elapsed);
                match outcome {
                    Outcome::Panicked => {
                        tracing::error!(outcome = outcome.as_str(), "request answered")
                    }
                    o if o.is_failure() => tracing::info!(outcome = o.as_str(), "request answered"),
                    o => tracing::debug!(outcome = o.as_str(), "request answered"),
                }
                Ok(response)
            }
            .instrument(span),
        )
    }
}

#[cfg(feature = "otel")]
mod otel {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use serde_json::Value;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use super::TraceContext;
    use crate::server::McpRequest;

    /// Makes the caller's span the OpenTelemetry parent of `span`.
    pub(super) fn set_parent(span: &tracing::Span, tc: &TraceContext, req: &McpRequest) {
        let (Ok(trace_id), Ok(span_id)) = (
            TraceId::from_hex(tc.trace_id()),
            SpanId::from_hex(tc.parent_id()),
        ) else {
            return;
        };
        let state = req
            .params
            .as_ref()
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get("tracestate"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<TraceState>().ok())
            .unwrap_or_default();
        let flags = if tc.sampled() {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let remote = SpanContext::new(trace_id, span_id, flags, true, state);
        let cx = opentelemetry::Context::new().with_remote_span_context(remote);
        let _ = span.set_parent(cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Identity, RequestMeta};
    use crate::layers::testing::{request, Fixed};
    use serde_json::json;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use tower::{Layer, ServiceExt};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    /// Remembers every field recorded on every span.
    #[derive(Default, Clone)]
    struct Fields(Arc<Mutex<HashMap<String, String>>>, Arc<AtomicU64>);

    struct Collect<'a>(&'a Mutex<HashMap<String, String>>);

    impl Visit for Collect<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0
                .lock()
                .unwrap()
                .insert(field.name().to_owned(), format!("{value:?}"));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0
                .lock()
                .unwrap()
                .insert(field.name().to_owned(), value.to_owned());
        }
    }

    impl Subscriber for Fields {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &Attributes<'_>) -> Id {
            span.record(&mut Collect(&self.0));
            Id::from_u64(self.1.fetch_add(1, Ordering::SeqCst) + 1)
        }
        fn record(&self, _: &Id, values: &Record<'_>) {
            values.record(&mut Collect(&self.0));
        }
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &Event<'_>) {}
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[tokio::test]
    async fn the_span_carries_who_what_and_how_it_ended() {
        let fields = Fields::default();
        let _guard = tracing::subscriber::set_default(fields.clone());
        let svc = TraceLayer::new().layer(Fixed::new(|_| {
            Some(Ok(json!({"content": [], "isError": true})))
        }));
        let mut req = request(
            "tools/call",
            json!({"name": "search", "_meta": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}),
        );
        req.meta = RequestMeta::default().with_identity(Identity::new("alice"));
        req.meta.traceparent =
            Some("00-11111111111111111111111111111111-2222222222222222-01".into());
        svc.oneshot(req).await.unwrap();
        let f = fields.0.lock().unwrap().clone();
        assert_eq!(f["rpc.method"], "tools/call");
        assert_eq!(f["mcp.target"], "search");
        assert_eq!(f["mcp.identity"], "alice");
        assert_eq!(f["mcp.outcome"], "tool_error");
        assert_eq!(
            f["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736",
            "_meta wins over the header"
        );
        assert_eq!(f["parent_span_id"], "00f067aa0ba902b7");
        assert!(f.contains_key("duration_ms"));
    }

    #[cfg(feature = "otel")]
    #[tokio::test]
    async fn the_caller_becomes_the_opentelemetry_parent() {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        use tracing_subscriber::layer::SubscriberExt;

        let tracer = opentelemetry::trace::noop::NoopTracer::new();
        let subscriber =
            tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
        let _guard = tracing::subscriber::set_default(subscriber);
        let seen = Arc::new(Mutex::new(None));
        let record = seen.clone();
        let svc = TraceLayer::new().layer(Fixed::new(move |_| {
            let cx = tracing::Span::current().context();
            *record.lock().unwrap() = Some(cx.span().span_context().trace_id().to_string());
            Some(Ok(json!({})))
        }));
        let req = request(
            "tools/call",
            json!({"name": "t", "_meta": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}),
        );
        svc.oneshot(req).await.unwrap();
        assert_eq!(
            seen.lock().unwrap().as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    #[test]
    fn trace_context_follows_the_w3c_rules() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let tc = TraceContext::parse(ok).unwrap();
        assert!(!tc.sampled());
        assert_eq!(tc.to_string(), ok);
        // A future version may carry more fields.
        assert!(TraceContext::parse(
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"
        )
        .is_some());
        for bad in [
            "",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "{bad}");
        }
    }
}
