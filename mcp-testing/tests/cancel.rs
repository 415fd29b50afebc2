//! Cancelling a call drops the handler's future and sends no response, in both eras.

#[macro_use]
mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{scripted, Probe};
use mcp_core::protocol::CallToolResult;
use mcp_testing::{CallToolResultExt, Era, PendingRequest, RequestOptions, TestClient};
use serde_json::json;

both_eras!(
    cancelled_notification_drops_the_handler,
    connection_cancel_drops_the_handler,
    cancelling_an_unknown_id_is_ignored,
    concurrent_calls,
    timeout_fails_instead_of_hanging,
);

async fn start_slow(era: Era) -> (TestClient, Probe, PendingRequest<CallToolResult>) {
    let probe = Probe::default();
    let client = scripted(era, probe.clone())
        .connect()
        .await
        .expect("connects");
    let call = client
        .start_call_tool("slow", (), RequestOptions::new())
        .expect("the call starts");
    tokio::time::timeout(Duration::from_secs(5), probe.started.notified())
        .await
        .expect("the slow handler starts");
    assert!(!call.is_finished());
    (client, probe, call)
}

async fn assert_dropped_without_response(
    client: &TestClient,
    probe: &Probe,
    call: PendingRequest<CallToolResult>,
) {
    let err = call
        .response()
        .await
        .expect_err("a cancelled request gets no response");
    assert!(err.is_no_response(), "{err:?}");
    // Dropping the future is what closed the request's channel; give the drop a moment to
    // finish on another worker, if any.
    for _ in 0..100 {
        if probe.dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        probe.dropped.load(Ordering::SeqCst),
        "the handler's future was dropped"
    );
    assert!(
        !probe.finished.load(Ordering::SeqCst),
        "the handler did not run to the end"
    );
    // The connection still serves.
    let echoed = client
        .call_tool("echo", json!({"text": "after"}))
        .await
        .expect("echo answers");
    assert_eq!(echoed.text_content(), "after");
}

async fn cancelled_notification_drops_the_handler(era: Era) {
    let (client, probe, call) = start_slow(era).await;
    call.cancel().expect("notifications/cancelled is sent");
    assert_dropped_without_response(&client, &probe, call).await;
}

async fn connection_cancel_drops_the_handler(era: Era) {
    let (client, probe, call) = start_slow(era).await;
    assert!(call.cancel_on_server(), "the call was in flight");
    assert!(!call.cancel_on_server(), "and is no longer");
    assert_dropped_without_response(&client, &probe, call).await;
}

async fn cancelling_an_unknown_id_is_ignored(era: Era) {
    let client = common::client(era).await;
    client
        .cancel(&mcp_core::jsonrpc::RequestId::from("never-sent"))
        .expect("sent");
    let echoed = client
        .call_tool("echo", json!({"text": "fine"}))
        .await
        .expect("echo answers");
    assert_eq!(echoed.text_content(), "fine");
}

async fn concurrent_calls(era: Era) {
    let (client, probe, slow) = start_slow(era).await;
    // Other calls, elicitation included, complete while the slow one runs.
    let greet = client
        .start_call_tool("greet", (), RequestOptions::new())
        .expect("starts");
    let echo = client
        .start_call_tool("echo", json!({"text": "x"}), RequestOptions::new())
        .expect("starts");
    assert_eq!(
        echo.response().await.expect("echo answers").text_content(),
        "x"
    );
    assert_eq!(
        greet
            .response()
            .await
            .expect("greet answers")
            .text_content(),
        "Hello, Ada! The model says: Paris"
    );
    slow.cancel().expect("sent");
    assert_dropped_without_response(&client, &probe, slow).await;
}

async fn timeout_fails_instead_of_hanging(era: Era) {
    let probe = Probe::default();
    let client = scripted(era, probe.clone())
        .timeout(Duration::from_millis(200))
        .connect()
        .await
        .expect("connects");
    let err = client
        .call_tool("slow", ())
        .await
        .expect_err("slow outlives the timeout");
    assert!(err.is_timeout(), "{err:?}");
    // Per-request timeouts override the client's.
    let err = client
        .call_tool_with(
            "slow",
            (),
            RequestOptions::new().timeout(Duration::from_millis(50)),
        )
        .await
        .expect_err("slow outlives the timeout");
    assert!(err.is_timeout(), "{err:?}");
}
