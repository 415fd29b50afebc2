//! Tasks through the gateway: `gateway --http` fronting `conformance-server` (a stdio child,
//! prefix `conf`), called by this SDK's client.
//!
//! - 2026-07-28 (the tasks extension): a task-supporting tool answers a `CreateTaskResult`
//!   that `tasks/get` follows to its result; a task's question shows as `input_required` with
//!   its `inputRequests` and `tasks/update` answers it; a protocol error fails the task with
//!   the backend's error; `tasks/cancel` cancels; a tool that gathers input first
//!   (`test_tool_with_task`) asks in ordinary rounds and becomes a task on the last one; a
//!   required-task tool refuses callers without the extension (`-32021`).
//! - 2025-11-25 (`params.task`): the client's `as_task` call creates a task at the gateway,
//!   `tasks/result` returns the backend's result; a failing task fails with its error; a
//!   required-task tool refuses a plain call (`-32601`).
//! - Mounted tools keep `execution.taskSupport`.

mod gateway_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gateway_support::*;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::protocol::{CallToolResult, ClientCapabilities, JsonObject, TaskSupport};
use mcp_core::server::TASKS_EXTENSION;
use mcp_transport::client::{
    BoxFuture, Client, ClientConfig, ClientError, EraPreference, Handler, HttpTransport, NoHandler,
    RequestOptions, ServerAsk,
};
use serde_json::{json, Value};

/// Answers questions: a name for `user_name`, a confirmation otherwise.
#[derive(Default)]
struct Answers {
    asked: Mutex<Vec<String>>,
    created: Mutex<u32>,
}

impl Handler for Answers {
    fn task_created(&self, _task: &Value) -> BoxFuture<'_, ()> {
        *self.created.lock().expect("lock") += 1;
        Box::pin(async {})
    }
    fn ask(&self, ask: ServerAsk) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        self.asked.lock().expect("lock").push(ask.key.clone());
        Box::pin(async move {
            Ok(match ask.key.as_str() {
                "user_name" => json!({"action": "accept", "content": {"name": "Alice"}}),
                _ => json!({"action": "accept", "content": {"confirmed": true}}),
            })
        })
    }
}

fn text(v: &Value) -> String {
    v.get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

fn tool_text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Options declaring the tasks extension (2026-07-28).
fn with_tasks() -> RequestOptions {
    let mut ext = JsonObject::new();
    ext.insert(TASKS_EXTENSION.into(), json!({}));
    let caps = ClientCapabilities {
        extensions: Some(ext),
        ..ClientConfig::default().capabilities
    };
    RequestOptions::new().capabilities(caps)
}

/// Polls `tasks/get` until `done` says so (at most 15 s).
async fn poll(client: &Client, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let t = client
            .request(
                "tasks/get",
                json!({"taskId": id}),
                &with_tasks(),
                &NoHandler,
            )
            .await
            .expect("tasks/get");
        if done(&t) {
            return t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "task {id} stuck: {t}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn terminal(t: &Value) -> bool {
    matches!(
        t["status"].as_str(),
        Some("completed" | "failed" | "cancelled")
    )
}

async fn call(client: &Client, name: &str, args: Value, handler: &dyn Handler) -> Value {
    client
        .request(
            "tools/call",
            json!({"name": name, "arguments": args}),
            &with_tasks(),
            handler,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn gateway() -> (Proc, String) {
    let dir = scratch("tasks");
    let config = write_config(
        &dir,
        &format!(
            "[[backends]]\nname = \"conf\"\ncommand = [{}, \"--stdio\"]\nprefix = \"conf\"\n\n[policy.redaction]\npatterns = [{{ name = \"label\", regex = \"top-secret-\\\\d+\" }}]\n",
            toml_str(CONFORMANCE)
        ),
    );
    spawn_http_async(
        GATEWAY,
        vec![
            "--config".into(),
            config.to_string_lossy().into_owned(),
            "--http".into(),
            "127.0.0.1:0".into(),
        ],
        vec![("RUST_LOG".into(), "warn".into())],
    )
    .await
}

async fn modern() {
    let (_gateway, url) = gateway().await;
    let client = Client::connect(HttpTransport::new(url), ClientConfig::default())
        .await
        .expect("connect");
    assert!(client.era().await.expect("era").is_modern());
    let caps = client.server_capabilities().await.expect("caps");
    assert!(
        caps.extensions
            .as_ref()
            .is_some_and(|e| e.contains_key(TASKS_EXTENSION)),
        "the gateway offers the tasks extension: {caps:?}"
    );
    let tools = client.list_tools().await.expect("tools/list");
    let support = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.execution.as_ref())
            .and_then(|e| e.task_support)
    };
    assert_eq!(support("conf.slow_compute"), Some(TaskSupport::Optional));
    assert_eq!(support("conf.failing_job"), Some(TaskSupport::Required));
    assert_eq!(support("conf.greet"), None);

    // A task, followed to its result.
    let created = call(
        &client,
        "conf.slow_compute",
        json!({"seconds": 0.5, "label": "gw"}),
        &NoHandler,
    )
    .await;
    assert_eq!(created["resultType"], "task", "{created}");
    let id = created["taskId"].as_str().expect("taskId").to_owned();
    let done = poll(&client, &id, terminal).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(text(&done["result"]), "Computed gw after 0.5 seconds");

    // A task's result is redacted like any other.
    let created = call(
        &client,
        "conf.slow_compute",
        json!({"seconds": 0, "label": "top-secret-42"}),
        &NoHandler,
    )
    .await;
    let id = created["taskId"].as_str().expect("taskId").to_owned();
    let done = poll(&client, &id, terminal).await;
    assert_eq!(
        text(&done["result"]),
        "Computed [redacted:label] after 0 seconds",
        "{done}"
    );

    // Without the extension: a plain call.
    let plain = client
        .call_tool("conf.slow_compute", json!({"seconds": 0}))
        .await
        .expect("plain call");
    assert!(tool_text(&plain).starts_with("Computed"), "{plain:?}");

    // A question inside the task: input_required, answered with tasks/update.
    let created = call(
        &client,
        "conf.confirm_delete",
        json!({"filename": "x"}),
        &NoHandler,
    )
    .await;
    let id = created["taskId"].as_str().expect("taskId").to_owned();
    let waiting = poll(&client, &id, |t| {
        t["status"] == "input_required" || terminal(t)
    })
    .await;
    assert_eq!(waiting["status"], "input_required", "{waiting}");
    let requests = waiting["inputRequests"].as_object().expect("inputRequests");
    let (key, request) = requests.iter().next().expect("a question");
    assert_eq!(request["method"], "elicitation/create", "{request}");
    let ack = client
        .request(
            "tasks/update",
            json!({"taskId": id, "inputResponses": {key.clone(): {"action": "accept", "content": {"confirmed": true}}}}),
            &with_tasks(),
            &NoHandler,
        )
        .await
        .expect("tasks/update");
    assert_eq!(ack["resultType"], "complete");
    let done = poll(&client, &id, terminal).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(text(&done["result"]), "Deleted");

    // A protocol error in the backend's task fails the gateway's task with it.
    let created = call(&client, "conf.protocol_error_job", json!({}), &NoHandler).await;
    let id = created["taskId"].as_str().expect("taskId").to_owned();
    let done = poll(&client, &id, terminal).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(done["error"]["code"].is_i64(), "{done}");
    assert!(done.get("result").is_none(), "{done}");

    // A tool error is a completed task with isError.
    let created = call(&client, "conf.failing_job", json!({}), &NoHandler).await;
    let id = created["taskId"].as_str().expect("taskId").to_owned();
    let done = poll(&client, &id, terminal).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["isError"], true, "{done}");

    // Cancelled at the gateway.
    let created = call(
        &client,
        "conf.slow_compute",
        json!({"seconds": 60}),
        &NoHandler,
    )
    .await;
    let id = created["taskId"].as_str().expect("taskId").to_owned();
    client
        .request(
            "tasks/cancel",
            json!({"taskId": id}),
            &with_tasks(),
            &NoHandler,
        )
        .await
        .expect("tasks/cancel");
    let done = poll(&client, &id, terminal).await;
    assert_eq!(done["status"], "cancelled", "{done}");

    // Input in rounds first, then a task (the client answers the rounds through the handler).
    let answers = Answers::default();
    let created = call(&client, "conf.test_tool_with_task", json!({}), &answers).await;
    assert_eq!(created["resultType"], "task", "{created}");
    assert!(created.get("requestState").is_none(), "{created}");
    assert_eq!(answers.asked.lock().expect("lock").clone(), ["user_name"]);
    let id = created["taskId"].as_str().expect("taskId").to_owned();
    let done = poll(&client, &id, terminal).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(text(&done["result"]).contains("Alice"), "{done}");

    // A required-task tool without the extension.
    let err = client
        .call_tool("conf.failing_job", json!({}))
        .await
        .expect_err("refused");
    match err {
        ClientError::Rpc(e) => assert_eq!(e.code, ErrorCode::MISSING_CAPABILITY, "{e:?}"),
        other => panic!("expected -32021, got {other:?}"),
    }
    client.close();
}

async fn handshake() {
    let (_gateway, url) = gateway().await;
    let client = Client::connect(
        HttpTransport::new(url),
        ClientConfig::default().era(EraPreference::Handshake),
    )
    .await
    .expect("connect");
    assert!(!client.era().await.expect("era").is_modern());
    let caps = client.server_capabilities().await.expect("caps");
    assert!(caps.tasks.is_some(), "2025-11-25 tasks offered: {caps:?}");
    client.list_tools().await.expect("tools/list");
    let as_task = RequestOptions::new().as_task(Some(Duration::from_secs(120)));

    let answers = Arc::new(Answers::default());
    let r = client
        .call_tool_with(
            "conf.slow_compute",
            json!({"seconds": 0.3, "label": "legacy"}),
            &as_task,
            answers.as_ref(),
        )
        .await
        .expect("a task call");
    assert_eq!(tool_text(&r), "Computed legacy after 0.3 seconds");
    assert_eq!(*answers.created.lock().expect("lock"), 1, "a task was made");
    let r = client
        .call_tool_with(
            "conf.slow_compute",
            json!({"seconds": 0, "label": "top-secret-7"}),
            &as_task,
            answers.as_ref(),
        )
        .await
        .expect("a task call");
    assert_eq!(tool_text(&r), "Computed [redacted:label] after 0 seconds");

    let r = client
        .call_tool_with("conf.failing_job", json!({}), &as_task, answers.as_ref())
        .await
        .expect("failing_job as a task");
    assert!(r.is_error(), "{r:?}");

    let err = client
        .call_tool_with(
            "conf.protocol_error_job",
            json!({}),
            &as_task,
            answers.as_ref(),
        )
        .await
        .expect_err("the task fails");
    assert!(matches!(err, ClientError::TaskFailed(_)), "{err:?}");

    let err = client
        .call_tool("conf.failing_job", json!({}))
        .await
        .expect_err("a required-task tool refuses a plain call");
    match err {
        ClientError::Rpc(e) => assert_eq!(e.code, ErrorCode::METHOD_NOT_FOUND, "{e:?}"),
        other => panic!("expected -32601, got {other:?}"),
    }
    client.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_through_the_gateway_in_2026_07_28() {
    tokio::time::timeout(Duration::from_secs(90), modern())
        .await
        .expect("the test finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_through_the_gateway_in_2025_11_25() {
    tokio::time::timeout(Duration::from_secs(90), handshake())
        .await
        .expect("the test finished in time");
}
