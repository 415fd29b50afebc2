//! Deterministic time: on tokio's paused clock a tool's 10 s sleep and its 1 s timeout take no
//! real time, and the test client's own timeouts run on the same clock.
#![allow(unused_macros)]

#[macro_use]
mod common;

use std::time::Duration;

use mcp_core::{Router, ToolDef};
use mcp_testing::{CallToolResultExt, Era, TestClient};

async fn sleepy() -> String {
    tokio::time::sleep(Duration::from_secs(10)).await;
    "woke up".into()
}

fn router() -> Router {
    Router::new().tool(
        ToolDef::new("sleepy", sleepy)
            .description("Sleeps for 10 s")
            .timeout(Duration::from_secs(1)),
    )
}

async fn times_out_without_waiting(era: Era) {
    let wall = std::time::Instant::now();
    let clock = tokio::time::Instant::now();
    let client = TestClient::builder(router())
        .era(era)
        .connect()
        .await
        .expect("connects");
    let result = client.call("sleepy", ()).await.expect_is_error();
    assert!(
        result.text_content().contains("timed out after 1s"),
        "{}",
        result.text_content()
    );
    let virtual_elapsed = clock.elapsed();
    assert!(
        virtual_elapsed >= Duration::from_secs(1) && virtual_elapsed < Duration::from_secs(10),
        "the timeout fired at 1 s of tokio time, not after the sleep: {virtual_elapsed:?}"
    );
    assert!(
        wall.elapsed() < Duration::from_secs(5),
        "no real waiting: {:?}",
        wall.elapsed()
    );
}

async fn the_client_timeout_uses_the_same_clock(era: Era) {
    let wall = std::time::Instant::now();
    let client = TestClient::builder(Router::new().tool(ToolDef::new("sleepy", sleepy)))
        .era(era)
        .timeout(Duration::from_secs(3))
        .connect()
        .await
        .expect("connects");
    let err = client
        .call_tool("sleepy", ())
        .await
        .expect_err("the client gives up first");
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        wall.elapsed() < Duration::from_secs(2),
        "{:?}",
        wall.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn tool_timeout_on_paused_time_handshake() {
    common::within(times_out_without_waiting(mcp_testing::ERAS[0])).await
}

#[tokio::test(start_paused = true)]
async fn tool_timeout_on_paused_time_modern() {
    common::within(times_out_without_waiting(Era::Modern)).await
}

#[tokio::test(start_paused = true)]
async fn client_timeout_on_paused_time_handshake() {
    common::within(the_client_timeout_uses_the_same_clock(mcp_testing::ERAS[0])).await
}

#[tokio::test(start_paused = true)]
async fn client_timeout_on_paused_time_modern() {
    common::within(the_client_timeout_uses_the_same_clock(Era::Modern)).await
}
