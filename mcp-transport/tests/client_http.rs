//! The client (`client` feature) against this SDK's own Streamable HTTP server on loopback, in
//! both eras: negotiation, the catalogue, progress and log notifications reaching the handler,
//! questions answered by the handler (server→client requests in 2025-11-25, `input_required`
//! rounds in 2026-07-28), and an unreachable server reported as unavailable.
#![cfg(all(feature = "client", feature = "http"))]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::jsonrpc::ErrorObject;
use mcp_core::protocol::{ElicitRequest, LoggingLevel, LoggingMessageParams, ProgressParams};
use mcp_core::{Context, Router, Server, ToolDef};
use mcp_transport::client::{
    BoxFuture, Client, ClientConfig, ClientError, EraPreference, Handler, HttpTransport,
    RequestOptions, ServerAsk,
};
use mcp_transport::http::{serve_with, HttpConfig, McpService};
use serde_json::{json, Value};

async fn ask_name(ctx: Context) -> String {
    ctx.progress(1.0, Some(2.0), Some("asking")).await;
    ctx.log(LoggingLevel::Info, None, "about to ask").await;
    let schema =
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
    match ctx
        .elicit("who", ElicitRequest::form("Your name?", schema))
        .await
    {
        Ok(r) => format!(
            "hello {}",
            r.content
                .and_then(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default()
        ),
        Err(e) => format!("no answer: {e}"),
    }
}

async fn serve() -> String {
    let router: Router =
        Router::new().tool(ToolDef::new("ask_name", ask_name).description("Asks for a name"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let service = McpService::new(Server::new(router), HttpConfig::default());
    tokio::spawn(serve_with(service, listener, std::future::pending()));
    format!("http://{addr}/mcp")
}

#[derive(Default)]
struct Recorder {
    progress: Mutex<Vec<f64>>,
    logs: Mutex<Vec<String>>,
    asks: Mutex<Vec<String>>,
}

impl Handler for Recorder {
    fn progress(&self, p: ProgressParams) -> BoxFuture<'_, ()> {
        self.progress.lock().expect("lock").push(p.progress);
        Box::pin(async {})
    }
    fn log(&self, p: LoggingMessageParams) -> BoxFuture<'_, ()> {
        self.logs.lock().expect("lock").push(p.data.to_string());
        Box::pin(async {})
    }
    fn ask(&self, ask: ServerAsk) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        self.asks
            .lock()
            .expect("lock")
            .push(format!("{} {}", ask.key, ask.method));
        Box::pin(async { Ok(json!({"action": "accept", "content": {"name": "Ada"}})) })
    }
}

async fn round_trip(era: EraPreference, modern: bool) {
    let url = serve().await;
    let client = Client::connect(HttpTransport::new(url), ClientConfig::default().era(era))
        .await
        .expect("connect");
    assert_eq!(client.era().await.expect("era").is_modern(), modern);
    let tools = client.list_tools().await.expect("tools/list");
    assert_eq!(tools[0].name, "ask_name");
    if !modern {
        client
            .set_log_level(LoggingLevel::Debug)
            .await
            .expect("setLevel");
    }
    let recorder = Arc::new(Recorder::default());
    let opts = RequestOptions::new().log_level(LoggingLevel::Debug);
    let result = client
        .call_tool_with("ask_name", json!({}), &opts, recorder.as_ref())
        .await
        .expect("tools/call");
    assert_eq!(result.content[0].as_text(), Some("hello Ada"));
    let asks = recorder.asks.lock().expect("lock").clone();
    let expected_key = if modern { "who" } else { "elicitation-1" };
    assert_eq!(asks, [format!("{expected_key} elicitation/create")]);
    assert!(
        !recorder.progress.lock().expect("lock").is_empty(),
        "progress reached the handler"
    );
    assert!(
        !recorder.logs.lock().expect("lock").is_empty(),
        "logs reached the handler"
    );
    client.close();
}

#[tokio::test]
async fn modern_era_over_http() {
    tokio::time::timeout(
        Duration::from_secs(30),
        round_trip(EraPreference::Auto, true),
    )
    .await
    .expect("in time");
}

#[tokio::test]
async fn handshake_era_over_http() {
    tokio::time::timeout(
        Duration::from_secs(30),
        round_trip(EraPreference::Handshake, false),
    )
    .await
    .expect("in time");
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        Client::connect(
            HttpTransport::new(format!("http://{addr}/mcp")),
            ClientConfig::default(),
        ),
    )
    .await
    .expect("in time")
    .expect_err("nothing listens there");
    assert!(err.is_unavailable(), "{err}");
    assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
}
