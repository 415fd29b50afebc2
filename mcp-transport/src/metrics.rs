//! The operations endpoints: Prometheus metrics, `/healthz` and `/readyz`, on a listener of
//! their own (keep it off the public interface: it has no authentication).
//!
//! | path | answers |
//! |---|---|
//! | `GET /metrics` | [`Metrics::render`], `text/plain; version=0.0.4` |
//! | `GET /healthz` | 200 `ok` while the process answers |
//! | `GET /readyz` | 200 `ready`, or 503 naming the failing checks ([`Health::readiness`]) |
//!
//! ```no_run
//! use mcp_core::layers::{Metrics, MetricsLayer};
//! use mcp_core::{Router, Server};
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let metrics = Metrics::new();
//!     let server = Server::new(Router::new()).layer(MetricsLayer::new(&metrics));
//!     tokio::spawn(mcp_transport::metrics::serve_metrics(
//!         "127.0.0.1:9464".parse().unwrap(),
//!         metrics.clone(),
//!     ));
//!     # let _ = server;
//!     Ok(())
//! }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper_util::rt::{TokioIo, TokioTimer};
use mcp_core::layers::{Health, Metrics};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// What the operations listener serves: metrics (optional) and health.
///
/// ```
/// use mcp_core::layers::{Health, Metrics};
/// use mcp_transport::metrics::OpsEndpoints;
///
/// let health = Health::new();
/// let ops = OpsEndpoints::new().metrics(&Metrics::new()).health(&health);
/// let ok = ops.respond(&http::Method::GET, "/healthz").unwrap();
/// assert_eq!(ok.status(), 200);
/// health.set_ready(false);
/// assert_eq!(ops.respond(&http::Method::GET, "/readyz").unwrap().status(), 503);
/// assert!(ops.respond(&http::Method::GET, "/mcp").is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct OpsEndpoints {
    metrics: Option<Metrics>,
    health: Health,
    max_connections: Option<usize>,
}

/// Connections served at once unless configured.
const MAX_CONNECTIONS: usize = 64;

/// How long a client may take to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

impl OpsEndpoints {
    /// Health only (ready), no metrics.
    ///
    /// See [`OpsEndpoints`] for an example.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `metrics` at `/metrics`.
    ///
    /// See [`OpsEndpoints`] for an example.
    pub fn metrics(mut self, metrics: &Metrics) -> Self {
        self.metrics = Some(metrics.clone());
        self
    }

    /// Answers `/readyz` from `health`.
    ///
    /// See [`OpsEndpoints`] for an example.
    pub fn health(mut self, health: &Health) -> Self {
        self.health = health.clone();
        self
    }

    /// How many connections are served at once (64 by default); more wait to be accepted.
    ///
    /// See [`OpsEndpoints::serve`] for an example.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n.max(1));
        self
    }

    /// The answer for `path`, or `None` when it is not one of these endpoints (so an HTTP
    /// server can mount them beside its own routes).
    ///
    /// See [`OpsEndpoints`] for an example.
    pub fn respond(&self, method: &Method, path: &str) -> Option<Response<Full<Bytes>>> {
        let known = matches!(path, "/healthz" | "/readyz")
            || (path == "/metrics" && self.metrics.is_some());
        if !known {
            return None;
        }
        if method != Method::GET && method != Method::HEAD {
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Some(r);
        }
        Some(match path {
            "/healthz" => text(StatusCode::OK, "ok\n"),
            "/readyz" => {
                let r = self.health.readiness();
                if r.ready {
                    text(StatusCode::OK, "ready\n")
                } else {
                    text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("not ready: {}\n", r.failing.join(", ")),
                    )
                }
            }
            _ => {
                let body = self
                    .metrics
                    .as_ref()
                    .map(Metrics::render)
                    .unwrap_or_default();
                let mut r = text(StatusCode::OK, body);
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                r
            }
        })
    }

    /// Serves on `listener` (HTTP/1.1) until `shutdown` completes; then stops accepting and
    /// returns (connections in progress finish on their own).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::{Health, Metrics};
    /// use mcp_transport::metrics::OpsEndpoints;
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// let ops = OpsEndpoints::new().metrics(&Metrics::new()).health(&Health::new()).max_connections(8);
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let task = tokio::spawn(ops.serve(listener, async { let _ = stopped.await; }));
    ///
    /// let mut conn = tokio::net::TcpStream::connect(addr).await?;
    /// conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await?;
    /// let mut answer = String::new();
    /// conn.read_to_string(&mut answer).await?;
    /// assert!(answer.starts_with("HTTP/1.1 200"));
    ///
    /// stop.send(()).ok();
    /// task.await??;
    /// # Ok(()) }
    /// ```
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let ops = Arc::new(self);
        let slots = Arc::new(Semaphore::new(
            ops.max_connections.unwrap_or(MAX_CONNECTIONS),
        ));
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                p = slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return Ok(()),
                },
                _ = &mut shutdown => return Ok(()),
            };
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((s, _)) => s,
                    Err(e) => {
                        tracing::warn!(%e, "metrics listener: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = &mut shutdown => return Ok(()),
            };
            let ops = ops.clone();
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let answer = ops
                    .respond(req.method(), req.uri().path())
                    .unwrap_or_else(|| {
                        text(
                            StatusCode::NOT_FOUND,
                            "not found: try /metrics, /healthz or /readyz\n",
                        )
                    });
                std::future::ready(Ok::<_, Infallible>(answer))
            });
            tokio::spawn(async move {
                let _permit = permit;
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .keep_alive(false)
                    .serve_connection(TokioIo::new(stream), service);
                // A client that never sends a byte never starts the header timer.
                match tokio::time::timeout(HEADER_TIMEOUT * 2, conn).await {
                    Ok(Err(e)) => tracing::debug!(%e, "metrics connection ended with an error"),
                    Err(_) => tracing::debug!("metrics connection too slow; closed"),
                    Ok(Ok(())) => {}
                }
            });
        }
    }
}

/// Serves `metrics` at `http://ADDR/metrics`, with `/healthz` and an always-ready `/readyz`,
/// until ctrl-c or SIGTERM. For readiness checks and other settings use [`OpsEndpoints`].
///
/// # Examples
/// ```no_run
/// use mcp_core::layers::{Metrics, MetricsLayer};
/// use mcp_core::{Router, Server};
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     let metrics = Metrics::new();
///     let server = Server::new(Router::new()).layer(MetricsLayer::new(&metrics));
///     // Prometheus scrapes http://127.0.0.1:9464/metrics; MCP is served elsewhere.
///     tokio::spawn(mcp_transport::metrics::serve_metrics("127.0.0.1:9464".parse().unwrap(), metrics));
///     mcp_transport::stdio::serve_server(server).await
/// }
/// ```
pub async fn serve_metrics(addr: SocketAddr, metrics: Metrics) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving metrics at /metrics, health at /healthz and /readyz");
    OpsEndpoints::new()
        .metrics(&metrics)
        .serve(listener, crate::http::shutdown_signal())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_core::layers::AuthFailure;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn the_listener_serves_metrics_and_health() {
        tokio::time::timeout(Duration::from_secs(20), async {
            let metrics = Metrics::new();
            metrics.auth_failure(AuthFailure::MissingToken);
            let health = Health::new();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(OpsEndpoints::new().metrics(&metrics).health(&health).serve(
                listener,
                async {
                    let _ = stopped.await;
                },
            ));
            let m = get(addr, "/metrics").await;
            assert!(m.starts_with("HTTP/1.1 200"), "{m}");
            assert!(m.contains("text/plain; version=0.0.4"));
            assert!(m.contains("mcp_auth_failures_total{reason=\"missing_token\"} 1"));
            assert!(get(addr, "/healthz").await.starts_with("HTTP/1.1 200"));
            assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 200"));
            health.add_check("audit", || false);
            let r = get(addr, "/readyz").await;
            assert!(r.starts_with("HTTP/1.1 503"), "{r}");
            assert!(r.ends_with("not ready: audit\n"), "{r}");
            assert!(get(addr, "/nope").await.starts_with("HTTP/1.1 404"));
            stop.send(()).unwrap();
            server.await.unwrap().unwrap();
        })
        .await
        .expect("within 20 s");
    }
}
