//! Tasks driven through the test client: the same test code in the handshake era (`task` in
//! `tools/call`, `tasks/get|result|cancel`) and in 2026-07-28 (the tasks extension,
//! `tasks/get|update|cancel`).

#[macro_use]
mod common;

use std::time::Duration;

use mcp_core::jsonrpc::ErrorCode;
use mcp_core::protocol::{
    ClientCapabilities, ElicitAction, ElicitRequest, ElicitationCapability, JsonObject, TaskStatus,
    TaskSupport,
};
use mcp_core::{Context, Router, ToolDef, ToolError};
use mcp_testing::{reply, CallToolResultExt, Era, TestClient, TestError};
use serde_json::json;

both_eras!(
    a_task_runs_to_its_result,
    a_task_asks_the_scripted_user,
    a_question_without_a_responder_waits_for_update,
    a_declined_question_reaches_the_handler,
    a_cancelled_task_has_no_result,
    a_tool_error_completes_the_task,
    a_panic_fails_the_task,
    a_tool_without_task_support_makes_no_task,
    a_required_task_tool_refuses_plain_calls,
);

async fn crawl() -> String {
    tokio::time::sleep(Duration::from_millis(30)).await;
    "crawled".into()
}

async fn confirm(ctx: Context) -> Result<String, ToolError> {
    let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}}});
    let answer = ctx
        .elicit("confirm", ElicitRequest::form("Go ahead?", schema))
        .await?;
    if answer.action != ElicitAction::Accept {
        return Ok("declined".into());
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok("confirmed".into())
}

async fn forever() -> String {
    tokio::time::sleep(Duration::from_secs(600)).await;
    "too late".into()
}

async fn refuse() -> Result<String, ToolError> {
    Err(ToolError::new("nothing to crawl"))
}

async fn explode() -> String {
    panic!("this task panics on purpose")
}

async fn plain() -> &'static str {
    "plain"
}

fn router() -> Router {
    let task = |def: ToolDef| def.task_support(TaskSupport::Optional);
    Router::new()
        .tool(task(ToolDef::new("crawl", crawl).description("Crawls")))
        .tool(task(
            ToolDef::new("confirm", confirm).description("Asks, then works"),
        ))
        .tool(task(
            ToolDef::new("forever", forever).description("Never ends"),
        ))
        .tool(task(ToolDef::new("refuse", refuse).description("Fails")))
        .tool(task(ToolDef::new("explode", explode).description("Panics")))
        .tool(ToolDef::new("plain", plain).description("Not a task"))
        .tool(
            ToolDef::new("batch", crawl)
                .description("Only as a task")
                .task_support(TaskSupport::Required),
        )
}

async fn client(era: Era) -> TestClient {
    TestClient::builder(router())
        .era(era)
        .on_elicit(|_| reply::accept(json!({"ok": true})))
        .connect()
        .await
        .expect("connects")
}

async fn a_task_runs_to_its_result(era: Era) {
    let client = client(era).await;
    let task = client
        .call_tool_as_task("crawl", ())
        .await
        .expect("a task is created");
    assert_eq!(task.created().status, TaskStatus::Working);
    assert_eq!(task.created().task_id, task.id());
    assert!(!task.id().is_empty());
    assert!(task.created().ttl_ms.is_some(), "{:?}", task.created());
    assert!(task.created().poll_interval_ms.is_some());
    let result = task.wait_result().await.expect("the task completes");
    assert_eq!(result.text_content(), "crawled");
    assert!(!result.is_error());
    let info = task.status().await.expect("tasks/get answers");
    assert_eq!(info.status, TaskStatus::Completed);
    assert!(task
        .input_requests()
        .await
        .expect("tasks/get answers")
        .is_empty());
}

async fn a_task_asks_the_scripted_user(era: Era) {
    let client = client(era).await;
    let task = client
        .call_tool_as_task("confirm", ())
        .await
        .expect("a task is created");
    let result = task.wait_result().await.expect("the task completes");
    assert_eq!(result.text_content(), "confirmed");
    let asked: Vec<String> = client
        .server_requests()
        .into_iter()
        .map(|r| r.method)
        .collect();
    assert_eq!(asked, ["elicitation/create"]);
}

async fn a_question_without_a_responder_waits_for_update(era: Era) {
    // Able to answer elicitation, but nothing scripted: the test answers by hand.
    let caps = ClientCapabilities {
        elicitation: Some(ElicitationCapability {
            form: Some(JsonObject::new()),
            url: None,
        }),
        ..Default::default()
    };
    let client = TestClient::builder(router())
        .era(era)
        .capabilities(caps)
        .connect()
        .await
        .expect("connects");
    let task = client
        .call_tool_as_task("confirm", ())
        .await
        .expect("a task is created");
    let err = task
        .wait_result()
        .await
        .expect_err("no responder can answer the question");
    assert!(
        matches!(&err, TestError::NoResponder { method } if method == "elicitation/create"),
        "{err:?}"
    );
    assert_eq!(
        task.status().await.expect("tasks/get answers").status,
        TaskStatus::InputRequired
    );
    let questions = task.input_requests().await.expect("the questions");
    assert_eq!(questions.len(), 1, "{questions:?}");
    let (key, question) = questions.iter().next().expect("one question");
    assert_eq!(question["method"], "elicitation/create");
    assert_eq!(question["params"]["message"], "Go ahead?");
    if era.is_modern() {
        assert_eq!(key, "confirm");
    }
    // The handler's key works in both eras: in the handshake era a single answer goes to the
    // single waiting question.
    task.update(json!({"confirm": reply::accept(json!({"ok": true}))}))
        .await
        .expect("the answer is delivered");
    let result = task.wait_result().await.expect("the task completes");
    assert_eq!(result.text_content(), "confirmed");
}

async fn a_declined_question_reaches_the_handler(era: Era) {
    let client = TestClient::builder(router())
        .era(era)
        .on_elicit(|_| reply::decline())
        .connect()
        .await
        .expect("connects");
    let task = client
        .call_tool_as_task("confirm", ())
        .await
        .expect("a task is created");
    let result = task.wait_result().await.expect("the task completes");
    assert_eq!(result.text_content(), "declined");
}

async fn a_cancelled_task_has_no_result(era: Era) {
    let client = client(era).await;
    let task = client
        .call_tool_as_task("forever", ())
        .await
        .expect("a task is created");
    task.cancel().await.expect("tasks/cancel answers");
    let info = task.status().await.expect("tasks/get answers");
    assert_eq!(info.status, TaskStatus::Cancelled);
    assert!(info.status_message.is_some(), "{info:?}");
    let err = task.wait_result().await.expect_err("no result");
    assert!(
        matches!(&err, TestError::TaskCancelled { task_id } if task_id == task.id()),
        "{err:?}"
    );
    // Cancelling again: the handshake era refuses, 2026-07-28 acknowledges.
    let again = task.cancel().await;
    if era.is_modern() {
        again.expect("acknowledged");
    } else {
        assert_eq!(
            again.expect_err("refused").code(),
            Some(ErrorCode::INVALID_PARAMS)
        );
    }
}

async fn a_tool_error_completes_the_task(era: Era) {
    let client = client(era).await;
    let task = client
        .call_tool_as_task("refuse", ())
        .await
        .expect("a task is created");
    let result = task.wait_result().await.expect("a tool error is a result");
    assert!(result.is_error());
    assert_eq!(result.text_content(), "nothing to crawl");
    assert_eq!(
        task.status().await.expect("tasks/get answers").status,
        TaskStatus::Completed
    );
}

async fn a_panic_fails_the_task(era: Era) {
    let client = client(era).await;
    let task = client
        .call_tool_as_task("explode", ())
        .await
        .expect("a task is created");
    let err = task.wait_result().await.expect_err("the task fails");
    assert_eq!(err.code(), Some(ErrorCode::INTERNAL_ERROR), "{err:?}");
    assert_eq!(
        task.status().await.expect("tasks/get answers").status,
        TaskStatus::Failed
    );
}

async fn a_tool_without_task_support_makes_no_task(era: Era) {
    let client = client(era).await;
    let err = client
        .call_tool_as_task("plain", ())
        .await
        .expect_err("no task");
    if era.is_modern() {
        // The extension only applies to task-capable tools: an ordinary result comes back.
        assert!(
            matches!(&err, TestError::UnexpectedResult { reason, .. } if reason.contains("without creating a task")),
            "{err:?}"
        );
    } else {
        assert_eq!(err.code(), Some(ErrorCode::METHOD_NOT_FOUND), "{err:?}");
    }
}

async fn a_required_task_tool_refuses_plain_calls(era: Era) {
    let client = client(era).await;
    let expected = if era.is_modern() {
        ErrorCode::MISSING_CAPABILITY
    } else {
        ErrorCode::METHOD_NOT_FOUND
    };
    client.call("batch", ()).await.expect_error_code(expected);
    let task = client
        .call_tool_as_task("batch", ())
        .await
        .expect("as a task it runs");
    assert_eq!(
        task.wait_result()
            .await
            .expect("the task completes")
            .text_content(),
        "crawled"
    );
}

/// Tasks are per connection: another client of the same server cannot see them.
#[tokio::test]
async fn another_connection_cannot_see_the_task() {
    common::within(async {
        for era in mcp_testing::ERAS {
            let server = mcp_core::Server::new(router());
            let owner = TestClient::builder(server.clone())
                .era(era)
                .connect()
                .await
                .expect("connects");
            let other = TestClient::builder(server)
                .era(era)
                .connect()
                .await
                .expect("connects");
            let task = owner
                .call_tool_as_task("forever", ())
                .await
                .expect("a task is created");
            let params = json!({ "taskId": task.id() });
            // 2026-07-28: each tasks/* request declares the extension itself.
            let opts = if era.is_modern() {
                let mut caps = other.capabilities().clone();
                caps.extensions = Some(
                    json!({"io.modelcontextprotocol/tasks": {}})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                );
                mcp_testing::RequestOptions::new().capabilities(caps)
            } else {
                mcp_testing::RequestOptions::new()
            };
            let err = other
                .request_with("tasks/get", params, opts)
                .await
                .expect_err("someone else's task is unknown");
            assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS), "{err:?}");
            task.cancel().await.expect("the owner may cancel it");
        }
    })
    .await
}
