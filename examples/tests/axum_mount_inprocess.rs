//! axum-mount in process (`mcp_examples::axum_mount`): its MCP router through `mcp-testing` in
//! both protocol eras, and the whole axum app — `/health` next to `/mcp` — answering HTTP
//! requests handed to it with `tower::ServiceExt::oneshot`, no socket in between.

use axum::body::Body;
use http::{header, Request, StatusCode};
use mcp_core::Server;
use mcp_examples::axum_mount::{app, mcp_router};
use mcp_testing::{CallToolResultExt, TestClient, ERAS};
use mcp_transport::http::{HttpConfig, McpService};
use serde_json::{json, Value};
use tower::ServiceExt;

#[tokio::test]
async fn add_adds_and_refuses_overflow_in_both_eras() {
    for era in ERAS {
        let c = TestClient::builder(mcp_router())
            .era(era)
            .connect()
            .await
            .expect("connected");
        c.call("add", json!({"a": 2, "b": 3}))
            .await
            .expect_text("5");
        let overflow = c
            .call("add", json!({"a": i64::MIN, "b": -1}))
            .await
            .expect_is_error();
        assert_eq!(
            overflow.text_content(),
            "the sum overflows a 64-bit integer",
            "{era:?}"
        );
        let tools = c.list_tools().await.expect("tools/list");
        assert_eq!(tools.len(), 1);
        assert_eq!(tools[0].name, "add");
        assert_eq!(tools[0].description.as_deref(), Some("Adds two integers"));
        assert_eq!(
            tools[0].annotations.as_ref().and_then(|a| a.read_only_hint),
            Some(true)
        );
        // The addends are documented in the input schema.
        let schema = serde_json::to_value(&tools[0].input_schema).expect("json");
        assert_eq!(
            schema["properties"]["a"]["description"],
            "The first addend."
        );
        assert_eq!(schema["required"], json!(["a", "b"]));
    }
}

fn the_app() -> axum::Router {
    app(McpService::new(
        Server::new(mcp_router()),
        HttpConfig::default(),
    ))
}

/// The body of an MCP answer: plain JSON, or the first `data:` line of an SSE stream.
async fn json_body(response: axum::response::Response) -> Value {
    let is_sse = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("the body");
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    let json = if is_sse {
        text.lines()
            .find_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    } else {
        text
    };
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("not JSON ({e}): {json:?}"))
}

/// A POST to the MCP endpoint as a loopback client sends it.
fn mcp_post() -> http::request::Builder {
    Request::post("/mcp")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream")
}

#[tokio::test]
async fn the_app_serves_health_and_mcp_side_by_side() {
    let health = the_app()
        .oneshot(
            Request::get("/health")
                .header(header::HOST, "127.0.0.1:3000")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(health.status(), StatusCode::OK);
    let body = axum::body::to_bytes(health.into_body(), 1024)
        .await
        .expect("body");
    assert_eq!(&body[..], b"ok");

    // A 2026-07-28 call: one stateless POST, the envelope in `_meta`, the method in headers.
    let call = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": "add", "arguments": {"a": 20, "b": 22},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}
            }
        }
    });
    let response = the_app()
        .oneshot(
            mcp_post()
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/call")
                .header("mcp-name", "add")
                .body(Body::from(call.to_string()))
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let answer = json_body(response).await;
    assert_eq!(answer["id"], 1, "{answer}");
    assert_eq!(answer["result"]["content"][0]["text"], "42", "{answer}");

    // The handshake era starts with `initialize` on the same endpoint.
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "oneshot", "version": "0"}
        }
    });
    let response = the_app()
        .oneshot(
            mcp_post()
                .body(Body::from(initialize.to_string()))
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().contains_key("mcp-session-id"),
        "a session was made"
    );
    let answer = json_body(response).await;
    assert_eq!(
        answer["result"]["protocolVersion"], "2025-11-25",
        "{answer}"
    );
    assert_eq!(answer["result"]["serverInfo"]["name"], "mcp-examples");

    // The MCP service keeps its own protections inside the app: a foreign Host is refused.
    let response = the_app()
        .oneshot(
            Request::post("/mcp")
                .header(header::HOST, "evil.example")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json, text/event-stream")
                .body(Body::from(initialize.to_string()))
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Other paths are the app's business: not found.
    let response = the_app()
        .oneshot(
            Request::get("/elsewhere")
                .header(header::HOST, "127.0.0.1:3000")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
