//! The conformance fixtures (`mcp_examples::conformance`) in process through `mcp-testing`, in
//! both protocol eras: content of every kind, a tool error, logging, progress, elicitation
//! (accepted and declined), sampling, several questions at once, a resource, the template and
//! its completion, a prompt and its completion, and tasks — one polled to its result, one that
//! asks a question, one that fails.
//!
//! The official suite runs against the binary in `conformance.rs`; this is the quick, precise
//! check of what each fixture answers.

use std::time::Duration;

use mcp_core::protocol::{LoggingLevel, ProgressToken, TaskStatus};
use mcp_examples::conformance;
use mcp_testing::{
    prompt_ref, reply, template_ref, CallToolResultExt, Era, RequestOptions, TestClient,
    TestClientBuilder, ERAS,
};
use serde_json::{json, Value};

fn builder(era: Era) -> TestClientBuilder {
    TestClient::builder(conformance::router())
        .era(era)
        .timeout(Duration::from_secs(30))
}

async fn client(era: Era) -> TestClient {
    builder(era).connect().await.expect("connected")
}

/// A label no other test run uses (the task journal is process-wide).
fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{tag}-{}-{nanos}", std::process::id())
}

#[tokio::test]
async fn content_of_every_kind_and_a_tool_error() {
    for era in ERAS {
        let c = client(era).await;
        c.call("test_simple_text", ())
            .await
            .expect_text("This is a simple text response for testing.");

        let image = c.call("test_image_content", ()).await.expect_success();
        let image = serde_json::to_value(&image.content).expect("json");
        assert_eq!(image[0]["type"], "image", "{era:?}");
        assert_eq!(image[0]["mimeType"], "image/png");
        assert!(image[0]["data"]
            .as_str()
            .is_some_and(|d| d.starts_with("iVBORw0KGgo")));

        let mixed = c
            .call("test_multiple_content_types", ())
            .await
            .expect_success();
        let mixed = serde_json::to_value(&mixed.content).expect("json");
        let kinds: Vec<&str> = mixed
            .as_array()
            .expect("blocks")
            .iter()
            .filter_map(|b| b["type"].as_str())
            .collect();
        assert_eq!(kinds, ["text", "image", "resource"], "{era:?}");
        assert_eq!(mixed[2]["resource"]["uri"], "test://embedded-resource");

        let failed = c.call("test_error_handling", ()).await.expect_is_error();
        assert_eq!(
            failed.text_content(),
            "This tool intentionally returns an error for testing"
        );
    }
}

#[tokio::test]
async fn logging_reaches_the_client_in_order() {
    for era in ERAS {
        let c = builder(era)
            .log_level(LoggingLevel::Debug)
            .connect()
            .await
            .expect("connected");
        c.call("test_logging_tool", ())
            .await
            .expect_text("Logging tool completed");
        let logs: Vec<(LoggingLevel, Value)> =
            c.logs().into_iter().map(|l| (l.level, l.data)).collect();
        assert_eq!(
            logs,
            [
                (LoggingLevel::Debug, json!("debug message")),
                (LoggingLevel::Info, json!("info message")),
                (LoggingLevel::Warning, json!("warning message")),
            ],
            "{era:?}"
        );

        // A level the client did not ask for is not sent.
        let c = builder(era)
            .log_level(LoggingLevel::Warning)
            .connect()
            .await
            .expect("connected");
        c.call("test_tool_with_logging", ())
            .await
            .expect_text("Tool with logging executed successfully");
        assert!(c.logs().is_empty(), "{era:?}: {:?}", c.logs());
    }
}

#[tokio::test]
async fn progress_is_reported_step_by_step() {
    for era in ERAS {
        let c = client(era).await;
        let options = RequestOptions::new().progress_token(ProgressToken::Number(7));
        let result = c
            .call_tool_with("test_tool_with_progress", (), options)
            .await
            .expect("tools/call");
        assert_eq!(result.text_content(), "Progress tool completed");
        let progress: Vec<(f64, Option<f64>, Option<String>)> = c
            .progress()
            .into_iter()
            .map(|p| (p.progress, p.total, p.message))
            .collect();
        assert_eq!(
            progress,
            [
                (0.0, Some(100.0), Some("Completed step 1 of 3".into())),
                (50.0, Some(100.0), Some("Completed step 2 of 3".into())),
                (100.0, Some(100.0), Some("Completed step 3 of 3".into())),
            ],
            "{era:?}"
        );
    }
}

#[tokio::test]
async fn elicitation_accepted_and_declined() {
    for era in ERAS {
        let c = builder(era)
            .on_elicit(|request| {
                // The fixture's own message and form reach the user.
                let request = serde_json::to_value(&request).expect("json");
                assert_eq!(request["message"], "Who are you?");
                assert_eq!(
                    request["requestedSchema"]["required"],
                    json!(["username", "email"])
                );
                reply::accept(json!({"username": "ada", "email": "ada@example.com"}))
            })
            .connect()
            .await
            .expect("connected");
        c.call("test_elicitation", json!({"message": "Who are you?"}))
            .await
            .expect_text(
                r#"User response: action=accept, content={"email":"ada@example.com","username":"ada"}"#,
            );

        let c = builder(era)
            .on_elicit(|_| reply::decline())
            .connect()
            .await
            .expect("connected");
        c.call("test_elicitation", ())
            .await
            .expect_text("User response: action=decline, content={}");
    }
}

#[tokio::test]
async fn sampling_and_several_questions_at_once() {
    for era in ERAS {
        let c = builder(era)
            .on_elicit(|_| reply::accept(json!({"name": "Ada"})))
            .on_sample(|params| {
                let asked = serde_json::to_value(&params.messages).expect("json");
                match asked[0]["content"]["text"].as_str() {
                    Some("What is the capital of France?") => reply::sampled("Paris"),
                    other => reply::sampled(format!("echo: {}", other.unwrap_or_default())),
                }
            })
            .roots(vec![reply::root("file:///work", "work")])
            .connect()
            .await
            .expect("connected");
        c.call("test_sampling", json!({"prompt": "Hi there"}))
            .await
            .expect_text("LLM response: echo: Hi there");
        // An elicitation, a sampling request and roots/list, concurrently, in one call.
        c.call("test_input_required_result_multiple_inputs", ())
            .await
            .expect_text("state-ok: name=Ada, capital=Paris, roots=1");
    }
}

#[tokio::test]
async fn resources_and_the_template_with_its_completion() {
    for era in ERAS {
        let c = client(era).await;
        let listed: Vec<String> = c
            .list_resources()
            .await
            .expect("resources/list")
            .into_iter()
            .map(|r| r.uri)
            .collect();
        assert_eq!(
            listed,
            [
                "test://static-text",
                "test://static-binary",
                "test://watched-resource"
            ],
            "{era:?}"
        );
        let read = c
            .read_resource("test://static-text")
            .await
            .expect("resources/read");
        let read = serde_json::to_value(&read).expect("json");
        assert_eq!(
            read["contents"][0]["text"],
            "This is the content of the static text resource."
        );

        let templates = c
            .list_resource_templates()
            .await
            .expect("resources/templates/list");
        assert_eq!(templates.len(), 1);
        assert_eq!(templates[0].uri_template, "test://template/{id}/data");
        let data = c
            .read_resource("test://template/42/data")
            .await
            .expect("resources/read");
        let data = serde_json::to_value(&data).expect("json");
        let body: Value = serde_json::from_str(data["contents"][0]["text"].as_str().expect("text"))
            .expect("the template's JSON");
        assert_eq!(
            body,
            json!({"id": "42", "templateTest": true, "data": "Data for ID: 42"})
        );
        assert_eq!(data["contents"][0]["uri"], "test://template/42/data");

        let completion = c
            .complete(template_ref("test://template/{id}/data"), "id", "pa")
            .await
            .expect("completion/complete");
        assert_eq!(completion.values, ["paris", "park", "party"], "{era:?}");
    }
}

#[tokio::test]
async fn a_prompt_with_arguments_and_its_completion() {
    for era in ERAS {
        let c = client(era).await;
        let prompt = c
            .get_prompt(
                "test_prompt_with_arguments",
                json!({"arg1": "alpha", "arg2": "beta"}),
            )
            .await
            .expect("prompts/get");
        let prompt = serde_json::to_value(&prompt).expect("json");
        assert_eq!(prompt["messages"][0]["role"], "user");
        assert_eq!(
            prompt["messages"][0]["content"]["text"],
            "Prompt with arguments: arg1='alpha', arg2='beta'",
            "{era:?}"
        );
        let completion = c
            .complete(prompt_ref("test_prompt_with_arguments"), "arg1", "py")
            .await
            .expect("completion/complete");
        assert_eq!(completion.values, ["python"]);
    }
}

#[tokio::test]
async fn tasks_run_to_their_result_ask_and_fail() {
    for era in ERAS {
        let c = builder(era)
            .on_elicit(|_| reply::accept(json!({"confirmed": true})))
            .connect()
            .await
            .expect("connected");

        // Polled to completion; the journal saw every step.
        let label = unique("inprocess");
        let task = c
            .call_tool_as_task("slow_compute", json!({"seconds": 0.3, "label": label}))
            .await
            .expect("a task");
        assert_eq!(task.created().status, TaskStatus::Working, "{era:?}");
        let result = task.wait_result().await.expect("the task's result");
        assert_eq!(
            result.text_content(),
            format!("Computed {label} after 0.3 seconds")
        );
        assert_eq!(
            task.status().await.expect("tasks/get").status,
            TaskStatus::Completed
        );
        c.call("slow_compute_journal", json!({"label": label}))
            .await
            .expect_text(&format!("{label}: completed: 3/3 steps"));

        // A task that asks the user first.
        let task = c
            .call_tool_as_task("confirm_delete", ())
            .await
            .expect("a task");
        let result = task.wait_result().await.expect("the task's result");
        assert_eq!(result.text_content(), "Deleted", "{era:?}");

        // A task whose tool fails ends in the tool's error.
        let task = c
            .call_tool_as_task("failing_job", ())
            .await
            .expect("a task");
        let result = task.wait_result().await.expect("the task's result");
        assert!(result.is_error(), "{era:?}");
        assert_eq!(
            result.text_content(),
            "The job failed: the input data set is empty"
        );
    }
}
