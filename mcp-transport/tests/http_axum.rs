//! `McpService` mounted in an axum app with `Router::route_service`, beside ordinary routes:
//! MCP in both eras and the security defaults work through the mount, and under
//! `axum::serve(...).with_graceful_shutdown` calling `McpService::shutdown` ends idle streams
//! while a call in flight still gets its answer.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use mcp_transport::http::{HttpConfig, McpService};
use serde_json::json;

const TEST: Duration = Duration::from_secs(30);

fn app(mcp: McpService) -> axum::Router {
    axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route_service("/mcp", mcp)
}

/// One request through the app, as a tower `Service`.
async fn call(app: &axum::Router, req: Request<ReqBody>) -> http::Response<axum::body::Body> {
    use tower_service::Service;
    let mut svc = app.clone();
    std::future::poll_fn(|cx| Service::<Request<ReqBody>>::poll_ready(&mut svc, cx))
        .await
        .expect("ready");
    svc.call(req).await.expect("infallible")
}

#[tokio::test]
async fn mcp_beside_other_routes() {
    within(TEST, "axum mount", async {
        let (svc, _, _) = service(HttpConfig::default());
        let app = app(svc.clone());
        // The app's own route still works.
        let req = Request::get("/health")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let resp = call(&app, req).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(&body[..], b"ok");
        // Handshake era through the mount.
        let resp = call(&app, post_json(&initialize_msg(LEGACY), &[])).await;
        let sid = header(resp.headers(), "mcp-session-id")
            .expect("session")
            .to_owned();
        let msg = rpc(
            1,
            "tools/call",
            call_params("echo", json!({"text": "through axum"}), None),
        );
        let (status, _, v) = json_of(call(&app, legacy(&sid, LEGACY, &msg)).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["result"]["content"][0]["text"], "through axum");
        // Streaming through the mount.
        let msg = rpc(
            2,
            "tools/call",
            call_params("progress", json!({"steps": 2}), Some("ax")),
        );
        let (_, mut events) = sse(call(&app, legacy(&sid, LEGACY, &msg)).await);
        let all = events.rest(STEP).await;
        assert_eq!(all.len(), 4, "priming, 2 progress, answer: {all:?}");
        // 2026-07-28 through the mount.
        let params = call_params("echo", json!({"text": "modern"}), None);
        let (status, _, v) = json_of(call(&app, modern(3, "tools/call", params, &[])).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["result"]["resultType"], "complete");
        // The security defaults come with the service.
        let mut req = post_json(&initialize_msg(LEGACY), &[]);
        req.headers_mut().insert(
            "origin",
            "http://localhost@evil.com".parse().expect("value"),
        );
        expect_error(call(&app, req).await, StatusCode::FORBIDDEN, -32600).await;
        let mut req = post_json(&initialize_msg(LEGACY), &[]);
        req.headers_mut()
            .insert("content-type", "text/plain".parse().expect("value"));
        expect_error(
            call(&app, req).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            -32600,
        )
        .await;
        assert_eq!(svc.session_count(), 1);
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_under_axum_serve() {
    within(TEST, "axum graceful shutdown", async {
        let (svc, probe, _) = service(HttpConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let stopping = svc.clone();
        let served = tokio::spawn(std::future::IntoFuture::into_future(
            axum::serve(listener, app(svc.clone())).with_graceful_shutdown(async move {
                let _ = stop_rx.await;
                stopping.shutdown();
            }),
        ));
        // A session with an idle GET stream and a call in flight.
        let mut c = Client::connect(addr).await;
        let resp = c.send(post_json(&initialize_msg(LEGACY), &[])).await;
        let sid = header(resp.headers(), "mcp-session-id")
            .expect("session")
            .to_owned();
        let mut g = Client::connect(addr).await;
        let get = Request::get("/mcp")
            .header("host", "127.0.0.1")
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid)
            .body(Full::new(Bytes::new()))
            .expect("request");
        let (_, mut stream) = sse(g.send(get).await);
        stream.next(STEP).await.expect("priming event");
        let call = tokio::spawn(async move {
            let mut c = Client::connect(addr).await;
            let msg = rpc(
                1,
                "tools/call",
                call_params("sleep", json!({"ms": 700}), None),
            );
            json_of(c.send(legacy(&sid, LEGACY, &msg)).await).await
        });
        within(STEP, "the call to start", async {
            while probe.started.load(Ordering::SeqCst) < 1 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        let t = Instant::now();
        let _ = stop_tx.send(());
        // The idle stream ends at once; the call still answers; then axum returns.
        let rest = stream.rest(Duration::from_secs(2)).await;
        assert!(rest.iter().all(|e| e.data.is_empty()), "{rest:?}");
        let (status, _, v) = within(STEP, "the call", call).await.expect("task");
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["result"]["content"][0]["text"], "slept 700");
        within(Duration::from_secs(5), "axum::serve to return", served)
            .await
            .expect("task")
            .expect("serve");
        assert!(t.elapsed() < Duration::from_secs(5));
        svc.close();
        assert_eq!(svc.session_count(), 0);
    })
    .await;
}
