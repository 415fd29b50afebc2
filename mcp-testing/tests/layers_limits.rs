//! Timeouts, the concurrency limit and its queue, and panic isolation.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use mcp_core::jsonrpc::ErrorCode;
use mcp_core::layers::{
    layer_fn, CatchPanicLayer, ConcurrencyLimitLayer, Service, TimeoutLayer, UNAVAILABLE,
};
use mcp_core::server::{McpRequest, McpResponse};
use mcp_core::{Router, Server, State, ToolDef};
use mcp_testing::{CallToolResultExt, Era, RequestOptions, TestClient, ERAS};
use tokio::time::Instant;

async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("the test did not finish within 60 s")
}

/// Set when dropped.
struct Flag(Arc<AtomicBool>);

impl Drop for Flag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[derive(Clone, Default)]
struct Probe {
    dropped: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
}

/// Ten seconds of work.
async fn ten_seconds(State(p): State<Probe>) -> String {
    let _flag = Flag(p.dropped.clone());
    tokio::time::sleep(Duration::from_secs(10)).await;
    p.finished.store(true, Ordering::SeqCst);
    "finished".into()
}

async fn check_timeout(era: Era, by_layer: bool) {
    let probe = Probe::default();
    let tool = ToolDef::new("ten_seconds", ten_seconds);
    let (tool, layer) = if by_layer {
        (tool, TimeoutLayer::new(Duration::from_secs(1)))
    } else {
        (
            tool.timeout(Duration::from_secs(1)),
            TimeoutLayer::per_tool_only(),
        )
    };
    let server = Server::new(Router::new().tool(tool).with_state(probe.clone())).layer(layer);
    let client = TestClient::builder(server)
        .era(era)
        .connect()
        .await
        .expect("connects");
    let start = Instant::now();
    let result = client
        .call_tool("ten_seconds", ())
        .await
        .expect("an answer");
    let took = start.elapsed();
    assert!(result.is_error(), "{era:?}");
    assert_eq!(
        result.text_content(),
        "the tool \"ten_seconds\" timed out after 1s and was cancelled"
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_millis(1100),
        "{took:?}"
    );
    assert!(
        probe.dropped.load(Ordering::SeqCst),
        "the handler's future was dropped"
    );
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(!probe.finished.load(Ordering::SeqCst), "and never finished");
}

#[tokio::test(start_paused = true)]
async fn a_ten_second_tool_with_a_one_second_timeout_fails_after_one_second() {
    for era in ERAS {
        // The tool's own timeout (enforced by the runtime), then the layer's default.
        within(check_timeout(era, false)).await;
        within(check_timeout(era, true)).await;
    }
}

#[derive(Clone, Default)]
struct Gauge {
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
}

async fn busy(State(g): State<Gauge>) -> String {
    let now = g.now.fetch_add(1, Ordering::SeqCst) + 1;
    g.max.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    g.now.fetch_sub(1, Ordering::SeqCst);
    "done".into()
}

#[tokio::test(start_paused = true)]
async fn a_thousand_simultaneous_calls_never_run_more_than_sixty_four_at_once() {
    within(async {
        let gauge = Gauge::default();
        let limit = ConcurrencyLimitLayer::new(64).queue(1000);
        let server = Server::new(
            Router::new()
                .tool(ToolDef::new("busy", busy))
                .with_state(gauge.clone()),
        )
        .layer(limit.clone());
        let client = TestClient::new(server).await.unwrap();
        let calls: Vec<_> = (0..1000)
            .map(|_| {
                client
                    .start_call_tool(
                        "busy",
                        (),
                        RequestOptions::new().timeout(Duration::from_secs(30)),
                    )
                    .unwrap()
            })
            .collect();
        for call in calls {
            let r = call.response().await.expect("every call is served");
            assert!(!r.is_error());
        }
        assert_eq!(
            gauge.max.load(Ordering::SeqCst),
            64,
            "the limit was reached, never passed"
        );
        assert_eq!(gauge.now.load(Ordering::SeqCst), 0);
        assert_eq!(limit.running(), 0);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn beyond_the_queue_calls_are_turned_away_with_retry_after() {
    within(async {
        let gauge = Gauge::default();
        let server = Server::new(
            Router::new()
                .tool(ToolDef::new("busy", busy))
                .with_state(gauge.clone()),
        )
        .layer(
            ConcurrencyLimitLayer::new(2)
                .queue(3)
                .retry_after(Duration::from_secs(5)),
        );
        let client = TestClient::new(server).await.unwrap();
        let calls: Vec<_> = (0..10)
            .map(|_| {
                client
                    .start_call_tool("busy", (), RequestOptions::new())
                    .unwrap()
            })
            .collect();
        let mut served = 0;
        let mut turned_away = 0;
        for call in calls {
            match call.response().await {
                Ok(r) => {
                    assert!(!r.is_error());
                    served += 1;
                }
                Err(e) => {
                    assert_eq!(e.code(), Some(UNAVAILABLE), "{e}");
                    let data = e.rpc().unwrap().data.clone().unwrap();
                    assert_eq!(data["reason"], "overloaded");
                    assert_eq!(data["retryAfterSeconds"], 5);
                    turned_away += 1;
                }
            }
        }
        assert_eq!((served, turned_away), (5, 5));
        assert_eq!(gauge.max.load(Ordering::SeqCst), 2);
    })
    .await
}

/// A broken middleware: panics in `call` for one tool, in its future for another.
#[derive(Clone)]
struct Broken<S>(S);

impl<S> Service<McpRequest> for Broken<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: McpRequest) -> Self::Future {
        assert_ne!(req.target(), Some("in_call"), "panics in call on purpose");
        let later = req.target() == Some("in_future");
        let fut = self.0.call(req);
        Box::pin(async move {
            assert!(!later, "panics in the future on purpose");
            fut.await
        })
    }
}

#[tokio::test]
async fn panics_in_middleware_and_handlers_are_isolated() {
    within(async {
        async fn fine() -> &'static str {
            "fine"
        }
        async fn boom() -> &'static str {
            panic!("handler panics on purpose")
        }
        let server = Server::new(
            Router::new()
                .tool_fn("in_call", fine)
                .tool_fn("in_future", fine)
                .tool_fn("fine", fine)
                .tool_fn("boom", boom),
        )
        .layer(layer_fn(Broken))
        .layer(CatchPanicLayer::new());
        for era in ERAS {
            let client = TestClient::builder(server.clone())
                .era(era)
                .connect()
                .await
                .unwrap();
            for tool in ["in_call", "in_future"] {
                let e = client.call_tool(tool, ()).await.unwrap_err();
                assert_eq!(e.code(), Some(ErrorCode::INTERNAL_ERROR));
                assert_eq!(
                    e.rpc().unwrap().data.as_ref().unwrap()["reason"],
                    "panicked"
                );
            }
            // A handler's panic is the runtime's to catch: an isError result.
            assert!(client.call_tool("boom", ()).await.unwrap().is_error());
            // The connection keeps serving.
            assert_eq!(
                client.call_tool("fine", ()).await.unwrap().text_content(),
                "fine"
            );
        }
    })
    .await
}
