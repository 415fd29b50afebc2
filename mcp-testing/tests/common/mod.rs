//! A fixture server shared by the runtime tests, and helpers to run a check in both eras.
#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mcp_core::protocol::{
    CreateMessageParams, ElicitAction, ElicitRequest, LoggingLevel, SamplingMessage,
};
use mcp_core::router::Completing;
use mcp_core::{
    Args, CompletionDef, Context, Json, PromptDef, ResourceDef, Router, State, TemplateDef,
    ToolDef, ToolError,
};
use mcp_testing::{reply, Era, TestClient, TestClientBuilder};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Notify;

/// Runs both eras of a check as two tests, `<check>::handshake` and `<check>::modern`.
macro_rules! both_eras {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[tokio::test]
            async fn handshake() {
                crate::common::within(super::$check(mcp_testing::ERAS[0])).await
            }

            #[tokio::test]
            async fn modern() {
                crate::common::within(super::$check(mcp_testing::Era::Modern)).await
            }
        }
    )*};
}

/// Fails the test if `check` takes longer than 30 s.
pub(crate) async fn within(check: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(30), check)
        .await
        .expect("the test did not finish within 30 s")
}

/// What the `slow` tool reports about itself.
#[derive(Clone, Default)]
pub(crate) struct Probe {
    /// Notified once the handler runs.
    pub(crate) started: Arc<Notify>,
    /// Set when the handler's future is dropped.
    pub(crate) dropped: Arc<AtomicBool>,
    /// Set if the handler ran to the end.
    pub(crate) finished: Arc<AtomicBool>,
}

struct DropGuard(Arc<AtomicBool>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

pub(crate) const FAIL_MESSAGE: &str = "This tool intentionally returns an error for testing";
pub(crate) const STATIC_TEXT: &str = "This is the content of the static text resource.";

#[derive(Deserialize, schemars::JsonSchema)]
struct Echo {
    /// The text to send back.
    text: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Add {
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Sum {
    pub(crate) sum: i64,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct Question {
    /// What to ask the model.
    prompt: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ItemId {
    /// The item.
    id: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct PromptArgs {
    /// The first argument.
    arg1: String,
    /// The second argument.
    arg2: String,
}

async fn echo(Args(e): Args<Echo>) -> String {
    e.text
}

async fn add(Args(Add { a, b }): Args<Add>) -> Result<String, ToolError> {
    let sum = a
        .checked_add(b)
        .ok_or_else(|| ToolError::new("the sum overflows a 64-bit integer"))?;
    Ok(sum.to_string())
}

async fn add_json(Args(Add { a, b }): Args<Add>) -> Json<Sum> {
    Json(Sum { sum: a + b })
}

async fn fail() -> Result<String, ToolError> {
    Err(ToolError::new(FAIL_MESSAGE))
}

async fn boom() -> String {
    panic!("this tool panics on purpose")
}

/// Logs and reports progress, alternately: log, 0; log, 50; log, 100.
async fn work(ctx: Context) -> String {
    for step in 0..3 {
        ctx.log(LoggingLevel::Info, Some("work"), format!("step {step}"))
            .await;
        ctx.progress(f64::from(step) * 50.0, Some(100.0), Some("working"))
            .await;
    }
    "worked".into()
}

/// One log at each of four levels.
async fn levels(ctx: Context) -> String {
    ctx.log(LoggingLevel::Debug, None, "debug").await;
    ctx.log(LoggingLevel::Info, None, "info").await;
    ctx.log(LoggingLevel::Warning, None, "warning").await;
    ctx.log(LoggingLevel::Error, None, "error").await;
    "logged".into()
}

/// Asks the user's name, then the model; the same code serves both eras.
async fn greet(ctx: Context) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"]
    });
    let answer = ctx
        .elicit(
            "user_name",
            ElicitRequest::form("What is your name?", schema),
        )
        .await?;
    if answer.action != ElicitAction::Accept {
        return Ok("no name given".into());
    }
    let name = answer
        .content
        .as_ref()
        .and_then(|c| c.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("stranger")
        .to_owned();
    let capital = ctx
        .sample(
            "capital_question",
            CreateMessageParams::new(
                vec![SamplingMessage::user("What is the capital of France?")],
                100,
            ),
        )
        .await?;
    Ok(format!(
        "Hello, {name}! The model says: {}",
        capital.text().unwrap_or("")
    ))
}

async fn ask_model(ctx: Context, Args(q): Args<Question>) -> Result<String, ToolError> {
    let answer = ctx
        .sample(
            "llm",
            CreateMessageParams::new(vec![SamplingMessage::user(q.prompt)], 100),
        )
        .await?;
    Ok(format!("LLM response: {}", answer.text().unwrap_or("")))
}

async fn roots(ctx: Context) -> Result<String, ToolError> {
    let roots = ctx.list_roots("client_roots").await?;
    Ok(roots
        .roots
        .iter()
        .map(|r| r.uri.as_str())
        .collect::<Vec<_>>()
        .join(","))
}

async fn slow(State(probe): State<Probe>) -> String {
    let _guard = DropGuard(probe.dropped.clone());
    probe.started.notify_one();
    tokio::time::sleep(Duration::from_secs(60)).await;
    probe.finished.store(true, Ordering::SeqCst);
    "finished".into()
}

async fn static_text() -> String {
    STATIC_TEXT.into()
}

async fn template_data(Args(ItemId { id }): Args<ItemId>) -> String {
    format!("Data for item {id}")
}

async fn prompt_with_arguments(Args(a): Args<PromptArgs>) -> String {
    format!(
        "Prompt with arguments: arg1='{}', arg2='{}'",
        a.arg1, a.arg2
    )
}

async fn complete_arg1(c: Completing) -> Vec<String> {
    ["paris", "park", "lyon"]
        .iter()
        .filter(|v| v.starts_with(&c.value))
        .map(|v| v.to_string())
        .collect()
}

async fn complete_id(c: Completing) -> Vec<String> {
    ["1", "10", "42"]
        .iter()
        .filter(|v| v.starts_with(&c.value))
        .map(|v| v.to_string())
        .collect()
}

/// The fixture server.
pub(crate) fn router(probe: Probe) -> Router {
    Router::<Probe>::new()
        .tool(ToolDef::new("echo", echo).description("Sends the text back"))
        .tool(ToolDef::new("add", add).description("Adds two integers"))
        .tool(ToolDef::new("add_json", add_json).description("Adds, with structured output"))
        .tool(ToolDef::new("fail", fail).description("Always fails"))
        .tool(ToolDef::new("boom", boom).description("Always panics"))
        .tool(ToolDef::new("work", work).description("Logs and reports progress"))
        .tool(ToolDef::new("levels", levels).description("Logs at four levels"))
        .tool(ToolDef::new("greet", greet).description("Asks the user, then the model"))
        .tool(ToolDef::new("ask_model", ask_model).description("Asks the model"))
        .tool(ToolDef::new("roots", roots).description("Lists the client's roots"))
        .tool(ToolDef::new("slow", slow).description("Sleeps for a minute"))
        .resource(
            ResourceDef::new("test://static-text", "static-text", static_text)
                .mime_type("text/plain"),
        )
        .resource_template(
            TemplateDef::new("test://template/{id}/data", "template-data", template_data)
                .mime_type("text/plain"),
        )
        .prompt(
            PromptDef::new("test_prompt_with_arguments", prompt_with_arguments)
                .description("A prompt with two arguments"),
        )
        .completion(CompletionDef::prompt(
            "test_prompt_with_arguments",
            "arg1",
            complete_arg1,
        ))
        .completion(CompletionDef::template(
            "test://template/{id}/data",
            "id",
            complete_id,
        ))
        .with_state(probe)
}

/// A builder for the fixture server with every responder scripted: the user is "Ada", the
/// model answers "Paris", the roots are `file:///src` and `file:///docs`.
pub(crate) fn scripted(era: Era, probe: Probe) -> TestClientBuilder {
    TestClient::builder(router(probe))
        .era(era)
        .on_elicit(|_| reply::accept(json!({"name": "Ada"})))
        .on_sample(|_| reply::sampled("Paris"))
        .roots(vec![
            reply::root("file:///src", "sources"),
            reply::root("file:///docs", "docs"),
        ])
}

/// A connected client for the fixture server with every responder scripted.
pub(crate) async fn client(era: Era) -> TestClient {
    scripted(era, Probe::default())
        .connect()
        .await
        .expect("the test client connects")
}
