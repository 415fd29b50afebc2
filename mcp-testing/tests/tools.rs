//! Tool calls through the in-process client, in both eras.

#[macro_use]
mod common;

use common::{client, Sum, FAIL_MESSAGE};
use mcp_core::jsonrpc::ErrorCode;
use mcp_core::protocol::ProtocolVersion;
use mcp_core::{Args, Router, ToolDef};
use mcp_testing::{CallToolResultExt, Era, TestClient, TestError};
use serde_json::{json, Value};

both_eras!(
    echo_and_add,
    structured_output,
    unknown_tool_is_invalid_params,
    invalid_arguments_name_the_field,
    tool_error_is_an_error_result,
    panicking_tool_is_an_error_result_and_the_server_survives,
    absent_arguments_are_accepted,
    result_type_matches_the_era,
    pagination_over_250_tools,
);

async fn echo_and_add(era: Era) {
    let client = client(era).await;
    let echoed = client
        .call_tool("echo", json!({"text": "hi"}))
        .await
        .expect("echo answers");
    assert!(!echoed.is_error(), "{echoed:?}");
    assert_eq!(echoed.text_content(), "hi");

    let sum = client
        .call_tool("add", json!({"a": 2, "b": 40}))
        .await
        .expect("add answers");
    assert_eq!(sum.text_content(), "42");

    let tools = client.list_tools().await.expect("tools/list answers");
    let echo = tools
        .iter()
        .find(|t| t.name == "echo")
        .expect("echo is listed");
    assert_eq!(echo.description.as_deref(), Some("Sends the text back"));
    assert_eq!(echo.input_schema["properties"]["text"]["type"], "string");
}

async fn structured_output(era: Era) {
    let client = client(era).await;
    let sum: Sum = client
        .call_json("add_json", json!({"a": 1, "b": 2}))
        .await
        .expect("add_json answers with structured content");
    assert_eq!(sum, Sum { sum: 3 });

    // A tool without structured output: a readable error, naming the tool and its text.
    let err = client
        .call_json::<Sum>("echo", json!({"text": "plain"}))
        .await
        .expect_err("echo has no structuredContent");
    let text = err.to_string();
    assert!(
        text.contains("structuredContent") && text.contains("plain"),
        "{text}"
    );

    // A failing tool is ToolFailed, with its message.
    let err = client
        .call_json::<Sum>("fail", ())
        .await
        .expect_err("fail fails");
    assert!(
        matches!(&err, TestError::ToolFailed { tool, message } if tool == "fail" && message == FAIL_MESSAGE),
        "{err:?}"
    );
}

async fn unknown_tool_is_invalid_params(era: Era) {
    let client = client(era).await;
    let err = client
        .call_tool("no_such_tool", json!({}))
        .await
        .expect_err("an unknown tool is a JSON-RPC error");
    assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");
    assert!(err.to_string().contains("no_such_tool"), "{err}");
}

async fn invalid_arguments_name_the_field(era: Era) {
    let client = client(era).await;
    let result = client
        .call_tool("add", json!({"a": "two", "b": 2}))
        .await
        .expect("bad arguments are a tool result, not a JSON-RPC error");
    assert!(result.is_error(), "{result:?}");
    assert!(
        result.text_content().contains("`a`"),
        "{}",
        result.text_content()
    );

    let missing = client
        .call_tool("add", json!({"a": 1}))
        .await
        .expect("missing arguments are a tool result");
    assert!(missing.is_error());
    assert!(
        missing.text_content().contains('b'),
        "{}",
        missing.text_content()
    );
}

async fn tool_error_is_an_error_result(era: Era) {
    let client = client(era).await;
    let result = client.call_tool("fail", ()).await.expect("fail answers");
    assert!(result.is_error());
    assert_eq!(result.text_content(), FAIL_MESSAGE);
}

async fn panicking_tool_is_an_error_result_and_the_server_survives(era: Era) {
    let client = client(era).await;
    let result = client.call_tool("boom", ()).await.expect("boom answers");
    assert!(result.is_error(), "{result:?}");
    assert!(
        result.text_content().contains("panicked"),
        "{}",
        result.text_content()
    );

    let next = client
        .call_tool("echo", json!({"text": "still here"}))
        .await
        .expect("the next call works");
    assert_eq!(next.text_content(), "still here");
}

async fn absent_arguments_are_accepted(era: Era) {
    let client = client(era).await;
    // `()` serializes to null: the request has no `arguments` member at all.
    let result = client.call_tool("fail", ()).await.expect("fail answers");
    assert_eq!(result.text_content(), FAIL_MESSAGE);
}

async fn result_type_matches_the_era(era: Era) {
    let client = client(era).await;
    let call = client
        .request(
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "x"}}),
        )
        .await
        .expect("tools/call answers");
    let list = client
        .request("tools/list", Value::Null)
        .await
        .expect("tools/list answers");
    let read = client
        .request("resources/read", json!({"uri": "test://static-text"}))
        .await
        .expect("resources/read answers");
    let server_info = "io.modelcontextprotocol/serverInfo";
    if era.is_modern() {
        for result in [&call, &list, &read] {
            assert_eq!(result["resultType"], "complete", "{result}");
            assert!(result["_meta"][server_info].is_object(), "{result}");
        }
        for cacheable in [&list, &read] {
            assert!(cacheable["ttlMs"].is_u64(), "{cacheable}");
            assert!(cacheable["cacheScope"].is_string(), "{cacheable}");
        }
        assert!(call.get("ttlMs").is_none(), "{call}");
    } else {
        for result in [&call, &list, &read] {
            for key in ["resultType", "ttlMs", "cacheScope"] {
                assert!(
                    result.get(key).is_none(),
                    "{key} in a handshake result: {result}"
                );
            }
            assert!(
                result.pointer(&format!("/_meta/{server_info}")).is_none(),
                "{result}"
            );
            assert!(result.get("nextCursor").is_none(), "{result}");
        }
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Nothing {}

async fn nothing(Args(Nothing {}): Args<Nothing>) -> &'static str {
    "ok"
}

async fn pagination_over_250_tools(era: Era) {
    let router = (0..250).fold(Router::new(), |r, i| {
        r.tool(ToolDef::new(format!("tool_{i:03}"), nothing).description("Does nothing"))
    });
    let client = TestClient::builder(router)
        .era(era)
        .connect()
        .await
        .expect("connects");

    let all = client.list_tools().await.expect("tools/list answers");
    assert_eq!(all.len(), 250);
    let names: std::collections::BTreeSet<_> = all.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), 250, "every tool exactly once");

    let first = client.list_tools_page(None).await.expect("page 1");
    assert_eq!(first.tools.len(), 100);
    let second = client
        .list_tools_page(first.next_cursor.as_deref())
        .await
        .expect("page 2");
    assert_eq!(second.tools.len(), 100);
    let third = client
        .list_tools_page(second.next_cursor.as_deref())
        .await
        .expect("page 3");
    assert_eq!(third.tools.len(), 50);
    assert!(third.next_cursor.is_none());
    assert_eq!(first.tools[0].name, "tool_000");
    assert_eq!(second.tools[0].name, "tool_100");
    assert_eq!(third.tools[49].name, "tool_249");

    let err = client
        .list_tools_page(Some("not-a-cursor"))
        .await
        .expect_err("a forged cursor is refused");
    assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");
}

#[tokio::test]
async fn handshake_is_done_for_you() {
    common::within(async {
        let client = TestClient::new(common::router(common::Probe::default()))
            .await
            .expect("connects");
        let init = client.initialize_result().expect("initialize ran");
        assert_eq!(init.protocol_version, ProtocolVersion::V2025_11_25);
        assert!(init.capabilities.tools.is_some());
        assert_eq!(client.era(), Era::Handshake(ProtocolVersion::V2025_11_25));
        assert!(client.connection().handshake_version().is_some());
    })
    .await
}

#[tokio::test]
async fn an_older_handshake_version_is_negotiated() {
    common::within(async {
        let client = TestClient::builder(common::router(common::Probe::default()))
            .era(Era::Handshake(ProtocolVersion::V2025_03_26))
            .connect()
            .await
            .expect("connects");
        assert_eq!(client.era(), Era::Handshake(ProtocolVersion::V2025_03_26));
        // structuredContent starts at 2025-06-18: an older session does not see it.
        let result = client
            .call_tool("add_json", json!({"a": 1, "b": 1}))
            .await
            .expect("add_json answers");
        assert!(result.structured_content.is_none(), "{result:?}");
        assert_eq!(result.text_content(), r#"{"sum":2}"#);
    })
    .await
}

#[tokio::test]
async fn modern_connection_refuses_initialize() {
    common::within(async {
        let client = TestClient::builder(common::router(common::Probe::default()))
            .era(Era::Modern)
            .connect()
            .await
            .expect("connects");
        client
            .list_tools()
            .await
            .expect("pins the connection to 2026-07-28");
        assert!(client.connection().is_modern());
        let err = client
            .request_raw(
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "x", "version": "1"}}),
            )
            .await
            .expect_err("initialize on a modern connection is refused");
        assert_eq!(err.code(), Some(ErrorCode::UNSUPPORTED_VERSION), "{err:?}");
    })
    .await
}

#[tokio::test]
async fn modern_envelope_is_checked() {
    common::within(async {
        let client = TestClient::builder(common::router(common::Probe::default()))
            .era(Era::Modern)
            .connect()
            .await
            .expect("connects");
        // No clientCapabilities: -32602.
        let err = client
            .request_raw(
                "tools/list",
                json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}),
            )
            .await
            .expect_err("an incomplete envelope is refused");
        assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");
        // An unsupported version: -32022 naming the supported ones.
        let err = client
            .request_with(
                "tools/list",
                Value::Null,
                mcp_testing::RequestOptions::new()
                    .meta("io.modelcontextprotocol/protocolVersion", "2099-01-01"),
            )
            .await
            .expect_err("an unknown version is refused");
        assert_eq!(err.code(), Some(ErrorCode::UNSUPPORTED_VERSION), "{err:?}");
        let data = err.rpc().and_then(|e| e.data.clone()).expect("error data");
        assert_eq!(data["supported"], json!(["2026-07-28"]));
        // An invalid logLevel: -32602.
        let err = client
            .request_with(
                "tools/list",
                Value::Null,
                mcp_testing::RequestOptions::new()
                    .meta("io.modelcontextprotocol/logLevel", "verbose"),
            )
            .await
            .expect_err("an invalid log level is refused");
        assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");
        // Removed methods: -32601.
        let err = client
            .request("ping", Value::Null)
            .await
            .expect_err("ping is gone in 2026-07-28");
        assert_eq!(err.code(), Some(ErrorCode::METHOD_NOT_FOUND), "{err:?}");
    })
    .await
}
