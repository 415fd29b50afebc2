//! Rate limits per client and per tool, through the in-process client, on paused time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mcp_core::identity::{Identity, RequestMeta};
use mcp_core::jsonrpc::{Message, RequestId};
use mcp_core::layers::{Quota, RateLimitLayer, RATE_LIMITED};
use mcp_core::protocol::{ClientCapabilities, ProtocolVersion};
use mcp_core::{Connection, Router, Server, ToolDef};
use mcp_testing::{CallToolResultExt, Era, TestClient, TestError, ERAS};
use serde_json::{json, Value};

/// Fails the test if it takes longer than 30 s of (virtual) time.
async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("the test did not finish within 30 s")
}

fn server(layer: RateLimitLayer, runs: Arc<AtomicUsize>) -> Server {
    let counted = move || {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            "done"
        }
    };
    let router = Router::new()
        .tool(ToolDef::new("a", counted.clone()))
        .tool(ToolDef::new("b", counted));
    Server::new(router).layer(layer)
}

async fn client_as(server: &Server, era: Era, who: &str) -> TestClient {
    let client = TestClient::builder(server.clone())
        .era(era)
        .connect()
        .await
        .expect("connects");
    client
        .connection()
        .set_default_identity(Some(Identity::new(who)));
    client
}

fn is_rate_limited(result: &Result<mcp_core::protocol::CallToolResult, TestError>) -> bool {
    matches!(result, Err(TestError::Rpc(e)) if e.code == RATE_LIMITED)
}

#[tokio::test(start_paused = true)]
async fn a_hundred_calls_a_second_against_ten_a_second_get_about_ten() {
    within(async {
        let runs = Arc::new(AtomicUsize::new(0));
        let server = server(
            RateLimitLayer::new().per_client(Quota::per_second(10)),
            runs.clone(),
        );
        let client = client_as(&server, ERAS[0], "alice").await;
        let mut ok_per_second = [0usize; 10];
        let start = tokio::time::Instant::now();
        for i in 0..1000u64 {
            tokio::time::sleep_until(start + Duration::from_millis(10 * i)).await;
            let result = client.call_tool("a", ()).await;
            match &result {
                Ok(r) => {
                    assert!(!r.is_error(), "{}", r.text_content());
                    ok_per_second[usize::try_from(i / 100).unwrap()] += 1;
                }
                Err(_) => assert!(is_rate_limited(&result), "{result:?}"),
            }
        }
        let total: usize = ok_per_second.iter().sum();
        assert_eq!(
            total,
            runs.load(Ordering::SeqCst),
            "rejected calls never ran"
        );
        // A burst of 10, then one every 100 ms: 10 + 10 × 9.99 s.
        assert!(
            (105..=111).contains(&total),
            "{total} succeeded: {ok_per_second:?}"
        );
        for (second, ok) in ok_per_second.iter().enumerate().skip(1) {
            assert!((9..=11).contains(ok), "second {second}: {ok_per_second:?}");
        }
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_new_session_for_every_call_is_still_limited() {
    within(async {
        let runs = Arc::new(AtomicUsize::new(0));
        let server = server(
            RateLimitLayer::new().per_client(Quota::per_second(10)),
            runs.clone(),
        );
        let mut ok = 0;
        let mut limited = 0;
        let start = tokio::time::Instant::now();
        for i in 0..100u64 {
            tokio::time::sleep_until(start + Duration::from_millis(10 * i)).await;
            // A fresh connection, a fresh `initialize`, a fresh session: the same caller.
            let client = client_as(&server, ERAS[0], "mallory").await;
            let result = client.call_tool("a", ()).await;
            if is_rate_limited(&result) {
                limited += 1;
                let Err(TestError::Rpc(e)) = &result else {
                    unreachable!()
                };
                let data = e.data.as_ref().expect("data");
                assert_eq!(data["scope"], "client");
                assert!(data["retryAfterSeconds"].as_u64().unwrap() >= 1);
            } else {
                assert!(!result.expect("answered").is_error());
                ok += 1;
            }
            client.close().await.expect("closes");
        }
        // One second of calls: the burst of 10 and about 10 more.
        assert!((19..=21).contains(&ok), "{ok} succeeded, {limited} limited");
        assert_eq!(ok + limited, 100);
        // Another caller is not affected.
        let other = client_as(&server, ERAS[0], "trent").await;
        assert!(!other.call_tool("a", ()).await.expect("answered").is_error());
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_tool_leaves_the_others_available() {
    for era in ERAS {
        within(async {
            let runs = Arc::new(AtomicUsize::new(0));
            let server = server(
                RateLimitLayer::new()
                    .per_client(Quota::per_second(100))
                    .per_tool("a", Quota::per_minute(3)),
                runs.clone(),
            );
            let client = client_as(&server, era, "alice").await;
            for _ in 0..3 {
                assert!(!client.call_tool("a", ()).await.unwrap().is_error());
            }
            let limited = client
                .call_tool("a", ())
                .await
                .expect("a result, not an error");
            assert!(limited.is_error(), "{era:?}");
            let text = limited.text_content();
            assert!(text.contains("retry after 20 s"), "{text}");
            assert_eq!(
                limited.meta.as_ref().unwrap()["retryAfterSeconds"],
                json!(20)
            );
            assert_eq!(
                runs.load(Ordering::SeqCst),
                3,
                "the limited call did not run"
            );
            for _ in 0..10 {
                let b = client.call_tool("b", ()).await.unwrap();
                assert!(
                    !b.is_error(),
                    "tool b is still available: {}",
                    b.text_content()
                );
            }
            // Another caller has its own bucket for tool a.
            let bob = client_as(&server, era, "bob").await;
            assert!(!bob.call_tool("a", ()).await.unwrap().is_error());
            // And a's bucket refills.
            tokio::time::advance(Duration::from_secs(20)).await;
            assert!(!client.call_tool("a", ()).await.unwrap().is_error());
        })
        .await
    }
}

/// Sends one `tools/call` on a sessionless handshake connection with the given metadata.
async fn raw_call(conn: &Arc<Connection>, id: i64, meta: RequestMeta) -> Value {
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let message = Message::from_value(json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "a"}
    }))
    .expect("a valid request");
    conn.receive_with(message, tx, meta);
    let out = rx.recv().await.expect("an answer");
    let value: Value = serde_json::from_str(&out.json).expect("JSON");
    assert_eq!(value["id"], json!(RequestId::Number(id)));
    value
}

#[tokio::test(start_paused = true)]
async fn anonymous_clients_are_keyed_by_address() {
    within(async {
        let server = server(
            RateLimitLayer::new().per_client(Quota::per_minute(2)),
            Arc::default(),
        );
        let (tx, _rx) = tokio::sync::mpsc::channel(1);
        let conn = Connection::new_handshake(
            &server,
            ProtocolVersion::LATEST_HANDSHAKE,
            ClientCapabilities::default(),
            tx,
        );
        let from = |addr: &str| {
            RequestMeta::default().with_remote_addr(addr.parse::<SocketAddr>().unwrap())
        };
        let limited = |v: &Value| v["error"]["code"] == json!(RATE_LIMITED.0);
        assert!(!limited(&raw_call(&conn, 1, from("192.0.2.1:1000")).await));
        // Another port of the same address is the same client.
        assert!(!limited(&raw_call(&conn, 2, from("192.0.2.1:2000")).await));
        assert!(limited(&raw_call(&conn, 3, from("192.0.2.1:3000")).await));
        assert!(!limited(&raw_call(&conn, 4, from("192.0.2.2:1000")).await));
        // An authenticated caller from the same address has a bucket of its own.
        let alice = from("192.0.2.1:1000").with_identity(Identity::new("alice"));
        assert!(!limited(&raw_call(&conn, 5, alice).await));
    })
    .await
}
