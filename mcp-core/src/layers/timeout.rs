//! A deadline for tool calls.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::outcome::{report, Outcome};
use super::{tool_error, tool_name, LayerFuture};
use crate::server::{McpRequest, McpResponse};

#[derive(Debug, Clone, Default)]
struct Config {
    default: Option<Duration>,
    per_tool: HashMap<String, Duration>,
}

/// Cancels tool calls that run too long: the rest of the stack's future (and with it the
/// handler's) is dropped, and the call is answered with an `isError` result — the same words
/// the runtime uses for a [`ToolDef::timeout`](crate::ToolDef::timeout).
///
/// Both apply: the runtime enforces a tool's own `timeout` inside this layer, so the shorter
/// deadline wins. A tool whose own timeout is *longer* than this layer's default must be
/// named with [`TimeoutLayer::tool`] (or given [`TimeoutLayer::no_timeout`]) to get it.
///
/// A call that runs as a task is bounded only until the task is created.
///
/// ```
/// use std::time::Duration;
/// use mcp_core::layers::TimeoutLayer;
/// use mcp_core::{Router, Server};
///
/// let timeouts = TimeoutLayer::new(Duration::from_secs(30))
///     .tool("report", Duration::from_secs(300))
///     .no_timeout("watch");
/// let server = Server::new(Router::new()).layer(timeouts);
/// # let _ = server;
/// ```
#[derive(Debug, Clone)]
pub struct TimeoutLayer {
    config: Arc<Config>,
}

impl TimeoutLayer {
    /// Every tool call gets `default` unless named otherwise.
    ///
    /// See [`TimeoutLayer`] for an example.
    pub fn new(default: Duration) -> Self {
        TimeoutLayer {
            config: Arc::new(Config {
                default: Some(default),
                per_tool: HashMap::new(),
            }),
        }
    }

    /// Only the tools named with [`TimeoutLayer::tool`] get a deadline.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use mcp_core::layers::TimeoutLayer;
    /// use mcp_core::{Router, Server};
    ///
    /// // No default deadline: only the tools named here (and those with their own `timeout`).
    /// let timeouts = TimeoutLayer::per_tool_only().tool("export", Duration::from_secs(120));
    /// let server = Server::new(Router::new()).layer(timeouts);
    /// # let _ = server;
    /// ```
    pub fn per_tool_only() -> Self {
        TimeoutLayer {
            config: Arc::new(Config::default()),
        }
    }

    /// The deadline of one tool.
    ///
    /// See [`TimeoutLayer`] for an example.
    pub fn tool(mut self, name: impl Into<String>, timeout: Duration) -> Self {
        Arc::make_mut(&mut self.config)
            .per_tool
            .insert(name.into(), timeout);
        self
    }

    /// No deadline for this tool.
    ///
    /// See [`TimeoutLayer`] for an example.
    pub fn no_timeout(self, name: impl Into<String>) -> Self {
        self.tool(name, Duration::MAX)
    }

    fn limit(&self, tool: &str) -> Option<Duration> {
        self.config
            .per_tool
            .get(tool)
            .copied()
            .or(self.config.default)
            .filter(|d| *d != Duration::MAX)
    }
}

impl<S> tower::Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`TimeoutLayer`] builds.
///
/// See [`TimeoutLayer`] for an example.
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    layer: TimeoutLayer,
}

impl<S> tower::Service<McpRequest> for Timeout<S>
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
        let limited = tool_name(&req).and_then(|t| Some((t.to_owned(), self.layer.limit(t)?)));
        let Some((tool, limit)) = limited else {
            return Box::pin(self.inner.call(req));
        };
        let era = req.era;
        let fut = self.inner.call(req);
        Box::pin(async move {
            match tokio::time::timeout(limit, fut).await {
                Ok(answer) => answer,
                Err(_) => {
                    tracing::warn!(tool = %tool, ?limit, "tool call timed out; cancelled");
                    report(Outcome::TimedOut);
                    Ok(tool_error(
                        era,
                        format!("the tool {tool:?} timed out after {limit:?} and was cancelled"),
                        None,
                    ))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::testing::request;
    use serde_json::json;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tower::{Layer, ServiceExt};

    /// Never answers; records being dropped.
    #[derive(Clone)]
    struct Forever(Arc<AtomicBool>);

    struct SetOnDrop(Arc<AtomicBool>);

    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    impl tower::Service<McpRequest> for Forever {
        type Response = McpResponse;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _req: McpRequest) -> Self::Future {
            let guard = SetOnDrop(self.0.clone());
            Box::pin(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
                Ok(None)
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_call_is_cut_off_and_dropped() {
        let dropped = Arc::new(AtomicBool::new(false));
        let svc = TimeoutLayer::new(Duration::from_secs(1))
            .no_timeout("watch")
            .layer(Forever(dropped.clone()));
        let start = tokio::time::Instant::now();
        let answer = svc
            .clone()
            .oneshot(request("tools/call", json!({"name": "slow"})))
            .await
            .unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        assert!(dropped.load(Ordering::SeqCst));
        assert_eq!(Outcome::of(&answer), Outcome::TimedOut);
        // Exempt tools and other methods are not bounded.
        let watch = svc
            .clone()
            .oneshot(request("tools/call", json!({"name": "watch"})));
        assert!(tokio::time::timeout(Duration::from_secs(3600), watch)
            .await
            .is_err());
    }
}
