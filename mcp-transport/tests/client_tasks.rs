//! The client (`client` feature) calling tools as tasks (`RequestOptions::as_task`) and
//! subscribing to resources, against this SDK's own Streamable HTTP server on loopback, in
//! both eras: the handler hears of the task, a 2026-07-28 task's questions are answered
//! through the handler and `tasks/update`, a task that fails is `TaskFailed`, dropping the
//! call cancels the server's task, and resource updates arrive as events.
#![cfg(all(feature = "client", feature = "http"))]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_core::jsonrpc::ErrorObject;
use mcp_core::protocol::{ElicitRequest, ProtocolVersion, TaskSupport};
use mcp_core::{Context, ResourceDef, Router, Server, ToolDef};
use mcp_transport::client::{
    BoxFuture, Client, ClientConfig, ClientError, EraPreference, Handler, HttpTransport,
    RequestOptions, ServerAsk, ServerEvent,
};
use mcp_transport::http::{serve_with, HttpConfig, McpService};
use serde_json::{json, Value};

/// Sets its flag when dropped (a `forever` handler whose task was cancelled).
struct OnDrop(Arc<AtomicBool>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn confirm(ctx: Context) -> String {
    tokio::time::sleep(Duration::from_millis(100)).await;
    let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
    match ctx
        .elicit("confirm", ElicitRequest::form("Go on?", schema))
        .await
    {
        Ok(r) => format!(
            "confirmed={} in task {}",
            r.content
                .and_then(|c| c.get("ok").cloned())
                .unwrap_or_default(),
            ctx.task_id().unwrap_or("none")
        ),
        Err(e) => format!("no answer: {e}"),
    }
}

async fn slow(ctx: Context) -> String {
    tokio::time::sleep(Duration::from_millis(200)).await;
    format!("slow done in task {}", ctx.task_id().unwrap_or("none"))
}

async fn broken() -> String {
    tokio::time::sleep(Duration::from_millis(50)).await;
    std::panic::resume_unwind(Box::new("broken on purpose"))
}

async fn bump(ctx: Context) -> &'static str {
    ctx.server().notify_resource_updated("mem://counter");
    "bumped"
}

async fn counter() -> String {
    "1".into()
}

/// Serves the test tools; `dropped` is set when a `forever` call ends early.
async fn serve(dropped: Arc<AtomicBool>) -> String {
    let forever = move || {
        let guard = OnDrop(dropped.clone());
        async move {
            let _guard = guard;
            tokio::time::sleep(Duration::from_secs(600)).await;
            "never".to_string()
        }
    };
    let router: Router = Router::new()
        .tool(
            ToolDef::new("confirm", confirm)
                .description("Asks for a confirmation")
                .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::new("slow", slow)
                .description("Takes a moment")
                .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::new("broken", broken)
                .description("Fails")
                .task_support(TaskSupport::Required),
        )
        .tool(
            ToolDef::new("forever", forever)
                .description("Never ends")
                .task_support(TaskSupport::Optional),
        )
        .tool(ToolDef::new("bump", bump).description("Changes the counter"))
        .resource(ResourceDef::new("mem://counter", "counter", counter));
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
    created: AtomicUsize,
    asks: Mutex<Vec<String>>,
}

impl Handler for Recorder {
    fn task_created(&self, task: &Value) -> BoxFuture<'_, ()> {
        assert!(
            task.get("taskId").and_then(Value::as_str).is_some(),
            "{task}"
        );
        self.created.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {})
    }
    fn ask(&self, ask: ServerAsk) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        self.asks
            .lock()
            .expect("lock")
            .push(format!("{} {}", ask.key, ask.method));
        Box::pin(async { Ok(json!({"action": "accept", "content": {"ok": true}})) })
    }
}

fn text(v: &mcp_core::protocol::CallToolResult) -> String {
    v.content
        .iter()
        .filter_map(|c| c.as_text())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn within<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .expect("the test did not finish in time")
}

async fn connect(era: EraPreference, dropped: Arc<AtomicBool>) -> Client {
    let client = Client::connect(
        HttpTransport::new(serve(dropped).await),
        ClientConfig::default().era(era),
    )
    .await
    .expect("connect");
    client.list_tools().await.expect("tools/list");
    client
}

async fn tasks(era: EraPreference) {
    let dropped = Arc::new(AtomicBool::new(false));
    let client = connect(era, dropped.clone()).await;
    let modern = client.era().await.expect("era").is_modern();
    let task = RequestOptions::new().as_task(Some(Duration::from_secs(60)));

    // A task that ends with a result.
    let r = Recorder::default();
    let result = client
        .call_tool_with("slow", json!({}), &task, &r)
        .await
        .expect("slow as a task");
    assert!(
        text(&result).starts_with("slow done in task "),
        "{result:?}"
    );
    assert!(!text(&result).ends_with(" none"), "it ran as a task");
    assert_eq!(r.created.load(Ordering::SeqCst), 1);
    assert!(
        result.meta.is_none(),
        "no related-task marker is left: {:?}",
        result.meta
    );

    // Without `as_task` the same tool runs as a plain call.
    let plain = client
        .call_tool_with("slow", json!({}), &RequestOptions::new(), &r)
        .await
        .expect("slow");
    assert_eq!(text(&plain), "slow done in task none");
    assert_eq!(r.created.load(Ordering::SeqCst), 1);

    // A 2026-07-28 task asks through tasks/get and hears the answer through tasks/update.
    if modern {
        let r = Recorder::default();
        let result = client
            .call_tool_with("confirm", json!({}), &task, &r)
            .await
            .expect("confirm as a task");
        assert!(
            text(&result).starts_with("confirmed=true in task "),
            "{result:?}"
        );
        assert_eq!(
            r.asks.lock().expect("lock").clone(),
            ["confirm elicitation/create"]
        );
    }

    // A task that fails carries the server's error.
    let err = client
        .call_tool_with("broken", json!({}), &task, &Recorder::default())
        .await
        .expect_err("broken fails");
    match err {
        ClientError::TaskFailed(e) => assert!(e.message.contains("panicked"), "{e:?}"),
        other => panic!("expected TaskFailed, got {other:?}"),
    }

    // Dropping the call cancels the server's task.
    let r = Arc::new(Recorder::default());
    let call = {
        let client = client.clone();
        let r = r.clone();
        let task = task.clone();
        tokio::spawn(async move {
            client
                .call_tool_with("forever", json!({}), &task, r.as_ref())
                .await
        })
    };
    while r.created.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    call.abort();
    let start = std::time::Instant::now();
    while !dropped.load(Ordering::SeqCst) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the server's task was not cancelled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_in_2026_07_28() {
    within(tasks(EraPreference::Auto)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_in_the_handshake_era() {
    within(async {
        let client = connect(EraPreference::Handshake, Arc::default()).await;
        assert!(client
            .era()
            .await
            .expect("era")
            .at_least(ProtocolVersion::V2025_11_25));
        client.close();
        tasks(EraPreference::Handshake).await;
    })
    .await;
}

async fn subscription(era: EraPreference) {
    let client = connect(era, Arc::default()).await;
    let mut events = client.events();
    client
        .subscribe_resource("mem://counter")
        .await
        .expect("subscribe");
    // The stream that carries updates may take a moment to open: bump until one arrives.
    let updated = async {
        loop {
            client.call_tool("bump", json!({})).await.expect("bump");
            let next = tokio::time::timeout(Duration::from_millis(500), async {
                loop {
                    match events.recv().await {
                        Ok(ServerEvent::ResourceUpdated(uri)) => return uri,
                        Ok(_) => continue,
                        Err(e) => panic!("events: {e}"),
                    }
                }
            })
            .await;
            if let Ok(uri) = next {
                return uri;
            }
        }
    };
    let uri = tokio::time::timeout(Duration::from_secs(10), updated)
        .await
        .expect("an update arrived");
    assert_eq!(uri, "mem://counter");

    // After unsubscribing, no more updates.
    client
        .unsubscribe_resource("mem://counter")
        .await
        .expect("unsubscribe");
    tokio::time::sleep(Duration::from_millis(200)).await;
    while events.try_recv().is_ok() {}
    client.call_tool("bump", json!({})).await.expect("bump");
    let late = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            if let Ok(ServerEvent::ResourceUpdated(uri)) = events.recv().await {
                return uri;
            }
        }
    })
    .await;
    assert!(late.is_err(), "an update after unsubscribing: {late:?}");
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_subscriptions_in_2026_07_28() {
    within(subscription(EraPreference::Auto)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_subscriptions_in_the_handshake_era() {
    within(subscription(EraPreference::Handshake)).await;
}
