//! Prometheus metrics, kept in atomics and written in the text exposition format by hand.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use super::outcome::{observe, Outcome};
use super::{tool_name, LayerFuture};
use crate::router::is_valid_tool_name;
use crate::server::{McpRequest, McpResponse};

/// The label value for calls to tools not (yet) known to exist, and for tools beyond the
/// label limit.
const OTHER: &str = "_other";

/// The default latency buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Why a request failed authentication (the label of `mcp_auth_failures_total`).
///
/// ```
/// use mcp_core::layers::AuthFailure;
/// assert_eq!(AuthFailure::InvalidToken.as_str(), "invalid_token");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// No credentials (HTTP 401 without a token).
    MissingToken,
    /// Credentials that did not verify: bad signature, expired, wrong audience (HTTP 401).
    InvalidToken,
    /// A valid caller without a scope the operation needs (HTTP 403, or `-31403`).
    InsufficientScope,
}

impl AuthFailure {
    const ALL: [AuthFailure; 3] = [
        AuthFailure::MissingToken,
        AuthFailure::InvalidToken,
        AuthFailure::InsufficientScope,
    ];

    /// The label value.
    ///
    /// See [`AuthFailure`] for an example.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::MissingToken => "missing_token",
            AuthFailure::InvalidToken => "invalid_token",
            AuthFailure::InsufficientScope => "insufficient_scope",
        }
    }
}

/// One tool's series.
struct ToolSeries {
    outcomes: [AtomicU64; Outcome::ALL.len()],
    buckets: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl ToolSeries {
    fn new(buckets: usize) -> Self {
        ToolSeries {
            outcomes: std::array::from_fn(|_| AtomicU64::new(0)),
            buckets: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            sum_nanos: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

struct Inner {
    buckets: Vec<f64>,
    max_tools: usize,
    tools: RwLock<BTreeMap<String, Arc<ToolSeries>>>,
    other: Arc<ToolSeries>,
    requests_in_flight: AtomicI64,
    calls_in_flight: AtomicI64,
    sessions: AtomicI64,
    auth_failures: [AtomicU64; 3],
    rate_limited: [AtomicU64; 2],
    overloaded: AtomicU64,
    audit_dropped: AtomicU64,
}

/// A registry of the server's metrics. Cheap to clone; clones share the counters.
///
/// [`MetricsLayer`] fills it from the requests it sees; transports report sessions and
/// authentication failures through its methods; [`Metrics::render`] writes the Prometheus
/// text format (serve it with `mcp_transport::metrics::serve_metrics`, on its own port).
///
/// | metric | type | labels |
/// |---|---|---|
/// | `mcp_tool_calls_total` | counter | `tool`, `outcome` ([`Outcome::as_str`]) |
/// | `mcp_tool_call_duration_seconds` | histogram | `tool` |
/// | `mcp_tool_calls_in_flight` | gauge | |
/// | `mcp_requests_in_flight` | gauge | |
/// | `mcp_sessions` | gauge | |
/// | `mcp_auth_failures_total` | counter | `reason` ([`AuthFailure::as_str`]) |
/// | `mcp_rate_limit_rejections_total` | counter | `scope` (`client`, `tool`) |
/// | `mcp_overload_rejections_total` | counter | |
/// | `mcp_audit_dropped_records_total` | counter | |
///
/// Label values are bounded: a tool gets its own `tool` label only once a call proves it
/// exists (it ran, or was denied for a missing scope), and at most `max_tools` tools do
/// (1,000 by default); everything else is counted as `tool="_other"`. So a client calling
/// random tool names cannot grow the exposition.
///
/// ```
/// use mcp_core::layers::{AuthFailure, Metrics};
/// let metrics = Metrics::new();
/// metrics.auth_failure(AuthFailure::InvalidToken);
/// metrics.session_opened();
/// let text = metrics.render();
/// assert!(text.contains("mcp_auth_failures_total{reason=\"invalid_token\"} 1\n"));
/// assert!(text.contains("mcp_sessions 1\n"));
/// ```
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("max_tools", &self.inner.max_tools)
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with the default latency buckets and at most 1,000 tool labels.
    ///
    /// See [`Metrics`] for an example.
    pub fn new() -> Self {
        Self::with_buckets(BUCKETS.to_vec(), 1000)
    }

    /// A registry with these latency buckets (upper bounds in seconds; sorted and deduplicated
    /// here) and at most `max_tools` tool labels.
    ///
    /// ```
    /// use mcp_core::layers::Metrics;
    /// let m = Metrics::with_buckets(vec![0.1, 1.0], 50);
    /// assert!(m.render().contains("le=\"0.1\""));
    /// ```
    pub fn with_buckets(mut buckets: Vec<f64>, max_tools: usize) -> Self {
        buckets.retain(|b| b.is_finite());
        buckets.sort_by(f64::total_cmp);
        buckets.dedup();
        let n = buckets.len();
        Metrics {
            inner: Arc::new(Inner {
                buckets,
                max_tools,
                tools: RwLock::new(BTreeMap::new()),
                other: Arc::new(ToolSeries::new(n)),
                requests_in_flight: AtomicI64::new(0),
                calls_in_flight: AtomicI64::new(0),
                sessions: AtomicI64::new(0),
                auth_failures: std::array::from_fn(|_| AtomicU64::new(0)),
                rate_limited: std::array::from_fn(|_| AtomicU64::new(0)),
                overloaded: AtomicU64::new(0),
                audit_dropped: AtomicU64::new(0),
            }),
        }
    }

    /// A session opened (transports call this).
    ///
    /// See [`Metrics`] for an example.
    pub fn session_opened(&self) {
        self.inner.sessions.fetch_add(1, Ordering::Relaxed);
    }

    /// A session closed or expired (transports call this).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::Metrics;
    /// let metrics = Metrics::new();
    /// metrics.session_opened();
    /// metrics.session_opened();
    /// metrics.session_closed();
    /// assert!(metrics.render().contains("mcp_sessions 1\n"));
    /// metrics.set_sessions(7); // after counting them in a shared store
    /// assert!(metrics.render().contains("mcp_sessions 7\n"));
    /// ```
    pub fn session_closed(&self) {
        self.inner.sessions.fetch_sub(1, Ordering::Relaxed);
    }

    /// Sets the session count outright.
    ///
    /// See [`Metrics::session_closed`] for an example.
    pub fn set_sessions(&self, n: i64) {
        self.inner.sessions.store(n, Ordering::Relaxed);
    }

    /// A request failed authentication (transports and auth layers call this).
    ///
    /// See [`Metrics`] for an example.
    pub fn auth_failure(&self, reason: AuthFailure) {
        let i = AuthFailure::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        self.inner.auth_failures[i].fetch_add(1, Ordering::Relaxed);
    }

    /// An audit record could not be written and the log fails open.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::Metrics;
    /// let metrics = Metrics::new();
    /// metrics.audit_dropped();
    /// assert!(metrics.render().contains("mcp_audit_dropped_records_total 1\n"));
    /// ```
    pub fn audit_dropped(&self) {
        self.inner.audit_dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// The series of `tool`: its own when it is known or `proven` (and there is room),
    /// else `_other`.
    fn series(&self, tool: &str, proven: bool) -> Arc<ToolSeries> {
        {
            let tools = match self.inner.tools.read() {
                Ok(t) => t,
                Err(p) => p.into_inner(),
            };
            if let Some(s) = tools.get(tool) {
                return s.clone();
            }
            if !proven || !is_valid_tool_name(tool) || tools.len() >= self.inner.max_tools {
                return self.inner.other.clone();
            }
        }
        let mut tools = match self.inner.tools.write() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        if tools.len() >= self.inner.max_tools && !tools.contains_key(tool) {
            return self.inner.other.clone();
        }
        tools
            .entry(tool.to_owned())
            .or_insert_with(|| Arc::new(ToolSeries::new(self.inner.buckets.len())))
            .clone()
    }

    /// Counts one finished tool call.
    fn tool_call(&self, tool: &str, outcome: Outcome, elapsed: Duration) {
        // A result (even isError) or a scope denial comes from a registered tool; an error
        // may be an unknown name.
        let proven = matches!(
            outcome,
            Outcome::Ok | Outcome::ToolError | Outcome::InputRequired | Outcome::Denied
        );
        let series = self.series(tool, proven);
        series.outcomes[outcome.index()].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(i) = self.inner.buckets.iter().position(|b| secs <= *b) {
            series.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        series.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        series.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts what any request's outcome says about rejections.
    fn rejection(&self, response: &McpResponse, outcome: Outcome) {
        match outcome {
            Outcome::Denied => self.auth_failure(AuthFailure::InsufficientScope),
            Outcome::RateLimited => {
                let scope = match response {
                    Some(Err(e)) if e.code == super::RATE_LIMITED => 0,
                    _ => 1,
                };
                self.inner.rate_limited[scope].fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Unavailable => {
                let overloaded = matches!(response, Some(Err(e))
                    if e.code == super::UNAVAILABLE
                        && e.data.as_ref().and_then(|d| d.get("reason")).and_then(|r| r.as_str()) == Some("overloaded"));
                if overloaded {
                    self.inner.overloaded.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }

    /// The Prometheus text exposition (format 0.0.4). Every series is present from the
    /// start (at zero), so the set of series changes only when a new tool is proven.
    ///
    /// See [`Metrics`] for an example.
    pub fn render(&self) -> String {
        let inner = &*self.inner;
        let mut out = String::with_capacity(4096);
        let tools: Vec<(String, Arc<ToolSeries>)> = {
            let map = match inner.tools.read() {
                Ok(t) => t,
                Err(p) => p.into_inner(),
            };
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let all = tools
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .chain(std::iter::once((OTHER, &inner.other)));
        let all: Vec<_> = all.collect();

        header(
            &mut out,
            "mcp_tool_calls_total",
            "counter",
            "Tool calls by tool and outcome; every outcome but ok and input_required is a failure (isError results included).",
        );
        for (tool, s) in &all {
            for o in Outcome::ALL {
                let _ = writeln!(
                    out,
                    "mcp_tool_calls_total{{tool=\"{}\",outcome=\"{}\"}} {}",
                    escape(tool),
                    o.as_str(),
                    s.outcomes[o.index()].load(Ordering::Relaxed)
                );
            }
        }
        header(
            &mut out,
            "mcp_tool_call_duration_seconds",
            "histogram",
            "Tool call latency, from the layer's point of view.",
        );
        for (tool, s) in &all {
            let tool = escape(tool);
            let mut cumulative = 0;
            for (b, n) in inner.buckets.iter().zip(s.buckets.iter()) {
                cumulative += n.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "mcp_tool_call_duration_seconds_bucket{{tool=\"{tool}\",le=\"{b}\"}} {cumulative}"
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let sum = Duration::from_nanos(s.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
            let _ = writeln!(
                out,
                "mcp_tool_call_duration_seconds_bucket{{tool=\"{tool}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "mcp_tool_call_duration_seconds_sum{{tool=\"{tool}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "mcp_tool_call_duration_seconds_count{{tool=\"{tool}\"}} {count}"
            );
        }
        gauge(
            &mut out,
            "mcp_tool_calls_in_flight",
            "Tool calls being served now.",
            inner.calls_in_flight.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "mcp_requests_in_flight",
            "Requests of any method being served now.",
            inner.requests_in_flight.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "mcp_sessions",
            "Open sessions.",
            inner.sessions.load(Ordering::Relaxed),
        );
        header(
            &mut out,
            "mcp_auth_failures_total",
            "counter",
            "Requests that failed authentication or authorization.",
        );
        for (r, n) in AuthFailure::ALL.iter().zip(&inner.auth_failures) {
            let _ = writeln!(
                out,
                "mcp_auth_failures_total{{reason=\"{}\"}} {}",
                r.as_str(),
                n.load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "mcp_rate_limit_rejections_total",
            "counter",
            "Requests rejected by a rate limit.",
        );
        for (scope, n) in ["client", "tool"].iter().zip(&inner.rate_limited) {
            let _ = writeln!(
                out,
                "mcp_rate_limit_rejections_total{{scope=\"{scope}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        header(
            &mut out,
            "mcp_overload_rejections_total",
            "counter",
            "Requests rejected because the concurrency limit and its queue were full.",
        );
        let _ = writeln!(
            out,
            "mcp_overload_rejections_total {}",
            inner.overloaded.load(Ordering::Relaxed)
        );
        header(
            &mut out,
            "mcp_audit_dropped_records_total",
            "counter",
            "Audit records lost to a failing sink while the audit log fails open.",
        );
        let _ = writeln!(
            out,
            "mcp_audit_dropped_records_total {}",
            inner.audit_dropped.load(Ordering::Relaxed)
        );
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: i64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

/// Escapes a label value (`\`, `"` and newlines).
fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['\\', '"', '\n']) {
        return value.into();
    }
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .into()
}

/// Fills a [`Metrics`] registry from the requests passing through.
///
/// ```
/// use mcp_core::layers::{Metrics, MetricsLayer};
/// use mcp_core::{Router, Server};
/// let metrics = Metrics::new();
/// let server = Server::new(Router::new()).layer(MetricsLayer::new(&metrics));
/// # let _ = server;
/// ```
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    metrics: Metrics,
}

impl MetricsLayer {
    /// Records into `metrics`.
    ///
    /// See [`MetricsLayer`] for an example.
    pub fn new(metrics: &Metrics) -> Self {
        MetricsLayer {
            metrics: metrics.clone(),
        }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> MetricsService<S> {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service [`MetricsLayer`] builds.
///
/// See [`MetricsLayer`] for an example.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Metrics,
}

/// Keeps a gauge up while it lives.
struct InFlight<'a>(&'a AtomicI64);

impl<'a> InFlight<'a> {
    fn new(gauge: &'a AtomicI64) -> Self {
        gauge.fetch_add(1, Ordering::Relaxed);
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts a tool call as cancelled unless it finished.
struct PendingCall {
    metrics: Metrics,
    tool: Option<String>,
    start: Instant,
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        if let Some(tool) = self.tool.take() {
            let outcome = if std::thread::panicking() {
                Outcome::Panicked
            } else {
                Outcome::Cancelled
            };
            self.metrics.tool_call(&tool, outcome, self.start.elapsed());
        }
    }
}

impl<S> tower::Service<McpRequest> for MetricsService<S>
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
        let metrics = self.metrics.clone();
        let tool = tool_name(&req).map(str::to_owned);
        let fut = self.inner.call(req);
        Box::pin(async move {
            let inner = &*metrics.inner;
            let _request = InFlight::new(&inner.requests_in_flight);
            let _call = tool
                .is_some()
                .then(|| InFlight::new(&inner.calls_in_flight));
            let mut pending = PendingCall {
                metrics: metrics.clone(),
                tool,
                start: Instant::now(),
            };
            let (response, hint) = observe(fut).await;
            let outcome = Outcome::judge(&response, hint);
            if let Some(tool) = pending.tool.take() {
                metrics.tool_call(&tool, outcome, pending.start.elapsed());
            }
            metrics.rejection(&response, outcome);
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonrpc::{ErrorCode, ErrorObject};
    use crate::layers::testing::{request, Fixed};
    use serde_json::json;
    use tower::{Layer, ServiceExt};

    fn series_count(text: &str) -> usize {
        text.lines().filter(|l| !l.starts_with('#')).count()
    }

    #[tokio::test]
    async fn unknown_tools_share_one_series() {
        let metrics = Metrics::new();
        let svc = MetricsLayer::new(&metrics).layer(Fixed::new(|req| {
            if req.target() == Some("real") {
                Some(Ok(json!({"content": []})))
            } else {
                Some(Err(ErrorObject::new(
                    ErrorCode::INVALID_PARAMS,
                    "unknown tool",
                )))
            }
        }));
        svc.clone()
            .oneshot(request("tools/call", json!({"name": "real"})))
            .await
            .unwrap();
        let before = series_count(&metrics.render());
        for i in 0..500 {
            svc.clone()
                .oneshot(request("tools/call", json!({"name": format!("nope{i}")})))
                .await
                .unwrap();
        }
        let text = metrics.render();
        assert_eq!(series_count(&text), before);
        assert!(text.contains("mcp_tool_calls_total{tool=\"_other\",outcome=\"error\"} 500\n"));
        assert!(text.contains("mcp_tool_calls_total{tool=\"real\",outcome=\"ok\"} 1\n"));
    }

    #[test]
    fn the_tool_label_limit_holds() {
        let metrics = Metrics::with_buckets(vec![1.0], 2);
        for t in ["a", "b", "c"] {
            metrics.tool_call(t, Outcome::Ok, Duration::from_millis(1));
        }
        let text = metrics.render();
        assert!(text.contains("tool=\"b\""));
        assert!(!text.contains("tool=\"c\""));
        assert!(text.contains("mcp_tool_calls_total{tool=\"_other\",outcome=\"ok\"} 1\n"));
    }

    #[test]
    fn histograms_are_cumulative() {
        let metrics = Metrics::with_buckets(vec![0.5, 0.1, 1.0], 10);
        metrics.tool_call("t", Outcome::Ok, Duration::from_millis(50));
        metrics.tool_call("t", Outcome::Ok, Duration::from_millis(700));
        metrics.tool_call("t", Outcome::ToolError, Duration::from_secs(3));
        let text = metrics.render();
        for line in [
            "mcp_tool_call_duration_seconds_bucket{tool=\"t\",le=\"0.1\"} 1",
            "mcp_tool_call_duration_seconds_bucket{tool=\"t\",le=\"0.5\"} 1",
            "mcp_tool_call_duration_seconds_bucket{tool=\"t\",le=\"1\"} 2",
            "mcp_tool_call_duration_seconds_bucket{tool=\"t\",le=\"+Inf\"} 3",
            "mcp_tool_call_duration_seconds_sum{tool=\"t\"} 3.75",
            "mcp_tool_call_duration_seconds_count{tool=\"t\"} 3",
        ] {
            assert!(
                text.contains(&format!("{line}\n")),
                "missing {line} in\n{text}"
            );
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(escape("plain"), "plain");
    }
}
