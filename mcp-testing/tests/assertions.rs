//! Assertion helpers against a live server, in both eras: what they return when they hold,
//! and what their failure messages show when they do not.

#[macro_use]
mod common;

use common::{client, Sum, FAIL_MESSAGE, STATIC_TEXT};
use mcp_core::jsonrpc::ErrorCode;
use mcp_testing::{Era, Exchange};
use serde_json::{json, Value};

both_eras!(
    expectations_that_hold,
    a_failure_shows_request_response_and_expectation,
    a_json_rpc_error_is_shown,
);

/// Runs an expectation that must fail and returns its panic message.
fn failure(exchange: &Exchange, expect: impl FnOnce(&Exchange)) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| expect(exchange)))
        .expect_err("the expectation fails");
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

async fn expectations_that_hold(era: Era) {
    let client = client(era).await;
    client
        .call("echo", json!({"text": "hi"}))
        .await
        .expect_text("hi");
    client
        .call("add", json!({"a": 40, "b": 2}))
        .await
        .expect_text_contains("4");
    let failed = client.call("fail", ()).await.expect_is_error();
    assert_eq!(failed.content[0].as_text(), Some(FAIL_MESSAGE));
    client
        .call("add", json!({"a": "x"}))
        .await
        .expect_is_error();
    let sum: Sum = client
        .call("add_json", json!({"a": 1, "b": 2}))
        .await
        .expect_json();
    assert_eq!(sum, Sum { sum: 3 });
    client
        .call("add_json", json!({"a": 2, "b": 2}))
        .await
        .expect_structured(json!({"sum": 4}));
    client
        .call("echo", json!({"text": "ok"}))
        .await
        .expect_success();
    let error = client
        .call("nope", ())
        .await
        .expect_error_code(ErrorCode::INVALID_PARAMS);
    assert!(error.message.contains("nope"), "{error:?}");
    let read = client
        .exchange("resources/read", json!({"uri": "test://static-text"}))
        .await
        .expect_ok();
    assert_eq!(read["contents"][0]["text"], STATIC_TEXT);
    let exchange = client.call("echo", json!({"text": "kept"})).await;
    assert_eq!(exchange.era(), era);
    assert_eq!(
        exchange.request(),
        &json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"text": "kept"}}})
    );
    assert!(exchange.response().is_ok());
}

async fn a_failure_shows_request_response_and_expectation(era: Era) {
    let client = client(era).await;
    let exchange = client.call("echo", json!({"text": "hello"})).await;
    let message = failure(&exchange, |e| {
        e.expect_text("goodbye");
    });
    let era_name = if era.is_modern() {
        "2026-07-28"
    } else {
        "2025-11-25"
    };
    for part in [
        "tools/call \"echo\": expected the text \"goodbye\"",
        "but the text was \"hello\"",
        &format!("era: {era_name}"),
        "request:",
        "\"name\": \"echo\"",
        "\"arguments\": {",
        "response:",
        "\"text\": \"hello\"",
    ] {
        assert!(message.contains(part), "{part:?} missing from:\n{message}");
    }
    // The response shown is the raw result, as this era sends it.
    assert_eq!(
        message.contains("\"resultType\""),
        era.is_modern(),
        "{message}"
    );

    let failed = client.call("fail", ()).await;
    let message = failure(&failed, |e| {
        e.expect_text("anything");
    });
    assert!(
        message.contains(&format!("but the tool failed with {FAIL_MESSAGE:?}")),
        "{message}"
    );
    assert!(message.contains("\"isError\": true"), "{message}");
}

async fn a_json_rpc_error_is_shown(era: Era) {
    let client = client(era).await;
    let exchange = client.call("nope", json!({"x": 1})).await;
    let message = failure(&exchange, |e| {
        e.expect_is_error();
    });
    assert!(
        message.contains("expected a tool result with isError: true"),
        "{message}"
    );
    assert!(message.contains("response (JSON-RPC error):"), "{message}");
    assert!(message.contains("\"code\": -32602"), "{message}");
    let message = failure(&exchange, |e| {
        e.expect_error_code(ErrorCode::FORBIDDEN);
    });
    assert!(message.contains("but the code was -32602"), "{message}");
    let ok = client.exchange("tools/list", Value::Null).await;
    let message = failure(&ok, |e| {
        e.expect_error_code(ErrorCode::INVALID_PARAMS);
    });
    assert!(
        message.contains("but the server answered with a result"),
        "{message}"
    );
    assert!(message.contains("\"method\": \"tools/list\""), "{message}");
}
