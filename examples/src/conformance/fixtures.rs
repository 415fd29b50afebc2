//! The fixtures, declared with the attribute macros: `#[tool]`, `#[prompt]` and `#[resource]`
//! functions collected by `router![…]`.
//!
//! What the macros cannot say yet is added with the plain builder on the companion's
//! definition, next to `router![…]`: a verbatim input schema (`.input_schema`), task support
//! (`.task_support`) and deferred tasks (`.defer_task`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use mcp_core::extract::Uri;
use mcp_core::protocol::{
    ContentBlock, CreateMessageParams, ElicitAction, ElicitRequest, ElicitResult, JsonObject,
    LoggingLevel, PromptMessage, ResourceContents, Role, SamplingMessage, TaskSupport,
};
use mcp_core::router::Completing;
use mcp_core::server::ListChanged;
use mcp_core::{prompt, resource, tool, Args, Context, Router, ToolError};
use serde_json::{json, Value};

/// A 1×1 PNG.
pub(crate) const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
/// A tiny silent WAV.
pub(crate) const WAV: &str = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=";

fn object(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

// ---- Text and media ------------------------------------------------------------------------

/// Returns simple text content
#[tool(name = "test_simple_text")]
async fn simple_text() -> &'static str {
    "This is a simple text response for testing."
}

/// Returns a PNG image
#[tool(name = "test_image_content")]
async fn image_content() -> ContentBlock {
    ContentBlock::image(PNG, "image/png")
}

/// Returns WAV audio
#[tool(name = "test_audio_content")]
async fn audio_content() -> ContentBlock {
    ContentBlock::audio(WAV, "audio/wav")
}

fn embedded() -> ContentBlock {
    ContentBlock::resource(
        ResourceContents::text(
            "test://embedded-resource",
            "This is an embedded resource content.",
        )
        .with_mime_type("text/plain"),
    )
}

/// Returns an embedded text resource
#[tool(name = "test_embedded_resource")]
async fn embedded_resource() -> ContentBlock {
    embedded()
}

/// Returns text, an image and a resource
#[tool(name = "test_multiple_content_types")]
async fn multiple_content_types() -> Vec<ContentBlock> {
    vec![
        ContentBlock::text("Multiple content types test:"),
        ContentBlock::image(PNG, "image/png"),
        embedded(),
    ]
}

// ---- Logging, progress, errors -------------------------------------------------------------

/// Sends three info log messages while running
#[tool(name = "test_tool_with_logging")]
async fn tool_with_logging(ctx: Context) -> &'static str {
    for (i, msg) in [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ctx.log_info(*msg).await;
    }
    "Tool with logging executed successfully"
}

/// Reports progress 0, 50 and 100 of 100
#[tool(name = "test_tool_with_progress")]
async fn tool_with_progress(ctx: Context) -> &'static str {
    for (i, p) in [0.0, 50.0, 100.0].into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ctx.progress(
            p,
            Some(100.0),
            Some(&format!("Completed step {} of 3", i + 1)),
        )
        .await;
    }
    "Progress tool completed"
}

/// Always fails with a tool error
#[tool(name = "test_error_handling")]
async fn error_handling() -> Result<String, ToolError> {
    Err(ToolError::new(
        "This tool intentionally returns an error for testing",
    ))
}

/// Logs at debug, info and warning
#[tool(name = "test_logging_tool")]
async fn logging_tool(ctx: Context) -> &'static str {
    ctx.log(LoggingLevel::Debug, Some("conformance"), "debug message")
        .await;
    ctx.log_info("info message").await;
    ctx.log(
        LoggingLevel::Warning,
        Some("conformance"),
        "warning message",
    )
    .await;
    "Logging tool completed"
}

/// Finishes after a short delay; over HTTP the stream may be resumed
#[tool(name = "test_reconnection")]
async fn reconnection(ctx: Context) -> &'static str {
    tokio::time::sleep(Duration::from_millis(100)).await;
    ctx.log_info("reconnection test finished").await;
    "Reconnection test completed"
}

/// Announces a tool-list change. The set itself stays put so `tools/list` order is stable.
#[tool(
    name = "test_trigger_tool_change",
    description = "Adds or removes a tool"
)]
async fn trigger_tool_change(ctx: Context) -> &'static str {
    ctx.server().notify_changed(ListChanged::Tools);
    "Tool list changed"
}

/// Announces a prompt-list change.
#[tool(
    name = "test_trigger_prompt_change",
    description = "Adds or removes a prompt"
)]
async fn trigger_prompt_change(ctx: Context) -> &'static str {
    ctx.server().notify_changed(ListChanged::Prompts);
    "Prompt list changed"
}

// ---- Sampling and elicitation --------------------------------------------------------------

/// Asks the client's model to answer a prompt
#[tool(name = "test_sampling")]
async fn sampling(
    ctx: Context,
    /// The prompt to send to the client's model.
    #[serde(default)]
    prompt: Option<String>,
) -> Result<String, ToolError> {
    let prompt = prompt.unwrap_or_else(|| "Hello".into());
    let answer = ctx
        .sample(
            "sampling",
            CreateMessageParams::new(vec![SamplingMessage::user(prompt)], 100),
        )
        .await?;
    Ok(format!(
        "LLM response: {}",
        answer.text().unwrap_or_default()
    ))
}

/// Asks the user for a username and an email
#[tool(name = "test_elicitation")]
async fn elicitation(
    ctx: Context,
    /// The message to show the user.
    #[serde(default)]
    message: Option<String>,
) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"}
        },
        "required": ["username", "email"]
    });
    let message = message.unwrap_or_else(|| "Please provide your information".into());
    let r = ctx
        .elicit("elicitation", ElicitRequest::form(message, schema))
        .await?;
    Ok(format!(
        "User response: action={}, content={}",
        serde_json::to_value(r.action)
            .unwrap_or_default()
            .as_str()
            .unwrap_or_default(),
        Value::Object(r.content.unwrap_or_default())
    ))
}

/// Elicitation with default values (SEP-1034)
#[tool(name = "test_elicitation_sep1034_defaults")]
async fn elicitation_defaults(ctx: Context) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
            "verified": {"type": "boolean", "description": "Verification status", "default": true}
        }
    });
    let r = ctx
        .elicit(
            "defaults",
            ElicitRequest::form(
                "Please review and update the form fields with defaults",
                schema,
            ),
        )
        .await?;
    Ok(format!(
        "Elicitation completed: action={:?}, content={}",
        r.action,
        Value::Object(r.content.unwrap_or_default())
    ))
}

/// Elicitation with every enum shape (SEP-1330)
#[tool(name = "test_elicitation_sep1330_enums")]
async fn elicitation_enums(ctx: Context) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "untitledSingle": {"type": "string", "description": "Choose an option", "enum": ["option1", "option2", "option3"]},
            "titledSingle": {"type": "string", "description": "Choose a titled option", "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"}
            ]},
            "legacyEnum": {"type": "string", "description": "Choose a legacy option", "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array", "description": "Choose multiple options",
                "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
            "titledMulti": {"type": "array", "description": "Choose multiple titled options",
                "items": {"anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"}
                ]}}
        }
    });
    let r = ctx
        .elicit(
            "enums",
            ElicitRequest::form("Please select options from the enum fields", schema),
        )
        .await?;
    Ok(format!(
        "Elicitation completed: action={:?}, content={}",
        r.action,
        Value::Object(r.content.unwrap_or_default())
    ))
}

/// Needs the sampling capability
#[tool(name = "test_missing_capability")]
async fn missing_capability(ctx: Context) -> Result<String, ToolError> {
    let r = ctx
        .sample(
            "needs_sampling",
            CreateMessageParams::new(vec![SamplingMessage::user("ping")], 10),
        )
        .await?;
    Ok(format!("sampled: {}", r.text().unwrap_or_default()))
}

fn name_form() -> ElicitRequest {
    ElicitRequest::form(
        "What is your name?",
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
    )
}

fn accepted_field(r: &ElicitResult, field: &str) -> Option<String> {
    if r.action != ElicitAction::Accept {
        return None;
    }
    r.content.as_ref()?.get(field).map(|v| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    })
}

/// Logs, then asks for a name
#[tool(name = "test_streaming_elicitation")]
async fn streaming_elicitation(ctx: Context) -> Result<String, ToolError> {
    ctx.log_info("asking for a name").await;
    let r = ctx.elicit("user_name", name_form()).await?;
    Ok(format!(
        "Hello, {}!",
        accepted_field(&r, "name").unwrap_or_else(|| "stranger".into())
    ))
}

// ---- Input-required results (2026-07-28) ---------------------------------------------------

/// Asks for the user's name
#[tool(name = "test_input_required_result_elicitation")]
async fn irr_elicitation(ctx: Context) -> Result<String, ToolError> {
    let r = ctx.elicit("user_name", name_form()).await?;
    Ok(format!(
        "Hello, {}!",
        accepted_field(&r, "name").unwrap_or_else(|| "stranger".into())
    ))
}

fn capital_question() -> CreateMessageParams {
    CreateMessageParams::new(
        vec![SamplingMessage::user("What is the capital of France?")],
        100,
    )
}

/// Asks the client's model a question
#[tool(name = "test_input_required_result_sampling")]
async fn irr_sampling(ctx: Context) -> Result<String, ToolError> {
    let r = ctx.sample("capital_question", capital_question()).await?;
    Ok(format!("The model said: {}", r.text().unwrap_or_default()))
}

/// Asks the client for its roots
#[tool(name = "test_input_required_result_list_roots")]
async fn irr_list_roots(ctx: Context) -> Result<String, ToolError> {
    let r = ctx.list_roots("client_roots").await?;
    let uris: Vec<String> = r.roots.into_iter().map(|r| r.uri).collect();
    Ok(format!("Client roots: {}", uris.join(", ")))
}

fn confirm_form() -> ElicitRequest {
    ElicitRequest::form(
        "Please confirm",
        json!({"type": "object", "properties": {"confirmed": {"type": "boolean"}}, "required": ["confirmed"]}),
    )
}

/// Asks for a confirmation, carrying state
#[tool(name = "test_input_required_result_request_state")]
async fn irr_request_state(ctx: Context) -> Result<String, ToolError> {
    let r = ctx.elicit("confirm", confirm_form()).await?;
    Ok(format!("state-ok: confirmation {:?}", r.action))
}

/// Asks for a confirmation; a tampered state is refused
#[tool(name = "test_input_required_result_tampered_state")]
async fn irr_tampered_state(ctx: Context) -> Result<String, ToolError> {
    irr_request_state(ctx).await
}

/// Asks three questions at once
#[tool(name = "test_input_required_result_multiple_inputs")]
async fn irr_multiple_inputs(ctx: Context) -> Result<String, ToolError> {
    let (name, capital, roots) = tokio::join!(
        ctx.elicit("user_name", name_form()),
        ctx.sample("capital_question", capital_question()),
        ctx.list_roots("client_roots"),
    );
    let (name, capital, roots) = (name?, capital?, roots?);
    Ok(format!(
        "state-ok: name={}, capital={}, roots={}",
        accepted_field(&name, "name").unwrap_or_default(),
        capital.text().unwrap_or_default(),
        roots.roots.len()
    ))
}

/// Asks two questions in two rounds
#[tool(name = "test_input_required_result_multi_round")]
async fn irr_multi_round(ctx: Context) -> Result<String, ToolError> {
    let first = ctx.elicit("step1", ElicitRequest::form("Step 1: your name?", json!({"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}))).await?;
    let second = ctx.elicit("step2", ElicitRequest::form("Step 2: your favourite colour?", json!({"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}))).await?;
    Ok(format!(
        "done: name={}, color={}",
        accepted_field(&first, "name").unwrap_or_default(),
        accepted_field(&second, "color").unwrap_or_default()
    ))
}

/// Asks only for what the client declared
#[tool(name = "test_input_required_result_capabilities")]
async fn irr_capabilities(ctx: Context) -> Result<String, ToolError> {
    let caps = ctx.client_capabilities().clone();
    let mut parts = Vec::new();
    if caps.supports_form_elicitation() {
        let r = ctx.elicit("user_name", name_form()).await?;
        parts.push(format!(
            "name={}",
            accepted_field(&r, "name").unwrap_or_default()
        ));
    }
    if caps.sampling.is_some() {
        let r = ctx.sample("capital_question", capital_question()).await?;
        parts.push(format!("capital={}", r.text().unwrap_or_default()));
    }
    if caps.roots.is_some() {
        let r = ctx.list_roots("client_roots").await?;
        parts.push(format!("roots={}", r.roots.len()));
    }
    Ok(format!(
        "asked only for declared capabilities: [{}]",
        parts.join(", ")
    ))
}

// ---- Hand-written input schemas (registered with `.input_schema`) --------------------------

fn schema_2020_12() -> JsonObject {
    object(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    }))
}

/// Declares a JSON Schema 2020-12 input schema, passed through verbatim
#[tool(name = "json_schema_2020_12_tool")]
async fn json_schema_tool(Args(args): Args<JsonObject>) -> String {
    format!("Received: {}", Value::Object(args))
}

fn x_mcp_header_schema() -> JsonObject {
    object(json!({
        "type": "object",
        "properties": {"region": {"type": "string", "description": "The region to query", "x-mcp-header": "Region"}},
        "required": ["region"]
    }))
}

/// Takes a region mirrored in an HTTP header
#[tool(name = "test_x_mcp_header")]
async fn x_mcp_header(
    /// The region to query; mirrored in the `Mcp-Param-Region` header.
    region: String,
) -> String {
    format!("Region: {region}")
}

// ---- Tasks (registered with `.task_support`) -----------------------------------------------

/// Greets by name; always synchronous
#[tool]
async fn greet(
    /// Who to greet.
    #[serde(default)]
    name: Option<String>,
) -> String {
    format!("Hello, {}!", name.unwrap_or_else(|| "World".into()))
}

/// Journal entries by label, and the labels oldest first.
type Journal = (HashMap<String, String>, VecDeque<String>);

/// What became of the `slow_compute` runs, by label (the most recent runs only).
fn journal() -> &'static Mutex<Journal> {
    static JOURNAL: OnceLock<Mutex<Journal>> = OnceLock::new();
    JOURNAL.get_or_init(Default::default)
}

/// How many labels the journal remembers.
const JOURNAL_CAPACITY: usize = 1024;

fn record(label: &str, state: String) {
    let mut guard = journal().lock().unwrap_or_else(|p| p.into_inner());
    let (entries, order) = &mut *guard;
    if entries.insert(label.to_owned(), state).is_none() {
        order.push_back(label.to_owned());
        while order.len() > JOURNAL_CAPACITY {
            if let Some(old) = order.pop_front() {
                entries.remove(&old);
            }
        }
    }
}

/// Records a run's fate: when the handler is dropped before it finished (a cancelled task,
/// a cancelled request), the journal says so.
struct RunGuard {
    label: String,
    step: u32,
    steps: u32,
    done: bool,
    /// Dropped with the run: ends its cancellation watcher.
    _watching: tokio::sync::oneshot::Sender<()>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if !self.done {
            record(
                &self.label,
                format!("cancelled at step {}/{}", self.step, self.steps),
            );
        }
    }
}

/// Works for `seconds` seconds; runs as a task for clients that take tasks
#[tool]
async fn slow_compute(
    ctx: Context,
    /// How long to work, in seconds.
    #[serde(default)]
    seconds: Option<f64>,
    /// A label echoed in the result.
    #[serde(default)]
    label: Option<String>,
) -> String {
    let secs = seconds.unwrap_or(1.0).clamp(0.0, 600.0);
    let label = label.unwrap_or_else(|| "result".into());
    let steps = (secs * 10.0).ceil() as u32;
    // Work a handler spawns sees cancellation through the context's token: the journal
    // records under `<label>#token` whether it fired while the run lasted.
    let token = ctx.cancellation_token();
    let (watching, run_over) = tokio::sync::oneshot::channel::<()>();
    let token_label = format!("{label}#token");
    record(&token_label, "not cancelled".into());
    tokio::spawn(async move {
        tokio::select! {
            biased;
            _ = token.cancelled() => record(&token_label, "cancelled".into()),
            _ = run_over => {}
        }
    });
    let mut guard = RunGuard {
        label: label.clone(),
        step: 0,
        steps,
        done: false,
        _watching: watching,
    };
    record(&label, format!("running: step 0/{steps}"));
    for i in 1..=steps {
        tokio::time::sleep(Duration::from_millis(100)).await;
        guard.step = i;
        record(&label, format!("running: step {i}/{steps}"));
        ctx.progress(f64::from(i), Some(f64::from(steps)), None)
            .await;
    }
    guard.done = true;
    record(&label, format!("completed: {steps}/{steps} steps"));
    format!("Computed {label} after {secs} seconds")
}

/// Tells what became of the `slow_compute` run with this label: running, completed, or cancelled (and at which step)
#[tool(read_only)]
async fn slow_compute_journal(
    /// The label the run was given.
    label: String,
) -> String {
    let guard = journal().lock().unwrap_or_else(|p| p.into_inner());
    match guard.0.get(&label) {
        Some(state) => format!("{label}: {state}"),
        None => format!("{label}: unknown"),
    }
}

/// A task that ends in a tool error after about a second
#[tool]
async fn failing_job() -> Result<String, ToolError> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    Err(ToolError::new(
        "The job failed: the input data set is empty",
    ))
}

/// A task that fails with an internal error
#[tool]
async fn protocol_error_job() -> String {
    tokio::time::sleep(Duration::from_millis(200)).await;
    panic!("protocol_error_job fails on purpose")
}

fn confirm_form_for(message: &str) -> ElicitRequest {
    ElicitRequest::form(
        message,
        json!({"type": "object", "properties": {"confirmed": {"type": "boolean"}}, "required": ["confirmed"]}),
    )
}

/// A task that asks for a confirmation
#[tool]
async fn confirm_delete(ctx: Context) -> Result<String, ToolError> {
    let r = ctx
        .elicit("confirm_delete", confirm_form_for("Delete the file?"))
        .await?;
    let confirmed = r.action == ElicitAction::Accept
        && r.content
            .as_ref()
            .and_then(|c| c.get("confirmed"))
            .and_then(Value::as_bool)
            == Some(true);
    Ok(if confirmed {
        "Deleted".into()
    } else {
        "Deletion cancelled".into()
    })
}

/// A task that asks two questions at once
#[tool]
async fn multi_input(ctx: Context) -> Result<String, ToolError> {
    let (a, b) = tokio::join!(
        ctx.elicit("first", confirm_form_for("First confirmation?")),
        ctx.elicit("second", confirm_form_for("Second confirmation?")),
    );
    Ok(format!(
        "Both answered: {:?} and {:?}",
        a?.action, b?.action
    ))
}

/// Asks for a name, then continues as a task
#[tool(name = "test_tool_with_task")]
async fn tool_with_task(ctx: Context) -> Result<String, ToolError> {
    let r = ctx.elicit("user_name", name_form()).await?;
    let name = accepted_field(&r, "name").unwrap_or_else(|| "stranger".into());
    ctx.escalate_to_task().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(format!("Hello, {name}! Your task is done."))
}

// ---- Prompts -------------------------------------------------------------------------------

async fn complete_arg(c: Completing) -> Vec<String> {
    ["paris", "park", "party", "python", "rust"]
        .iter()
        .filter(|v| v.starts_with(c.value.as_str()))
        .map(|v| v.to_string())
        .collect()
}

/// A simple prompt without arguments
#[prompt(name = "test_simple_prompt")]
async fn simple_prompt() -> String {
    "This is a simple prompt for testing.".into()
}

/// A prompt with two required arguments
#[prompt(name = "test_prompt_with_arguments")]
async fn prompt_with_arguments(
    /// First test argument.
    #[complete(complete_arg)]
    arg1: String,
    /// Second test argument.
    #[complete(complete_arg)]
    arg2: String,
) -> String {
    format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")
}

/// A prompt embedding a resource
#[prompt(name = "test_prompt_with_embedded_resource")]
async fn prompt_with_embedded_resource(
    /// URI of the resource to embed.
    #[serde(rename = "resourceUri")]
    resource_uri: String,
) -> Vec<PromptMessage> {
    vec![
        PromptMessage {
            role: Role::User,
            content: ContentBlock::resource(
                ResourceContents::text(resource_uri, "Embedded resource content for testing.")
                    .with_mime_type("text/plain"),
            ),
        },
        PromptMessage::user("Please process the embedded resource above."),
    ]
}

/// A prompt with an image
#[prompt(name = "test_prompt_with_image")]
async fn prompt_with_image() -> Vec<PromptMessage> {
    vec![
        PromptMessage {
            role: Role::User,
            content: ContentBlock::image(PNG, "image/png"),
        },
        PromptMessage::user("Please analyze the image above."),
    ]
}

/// A prompt that asks the user for context
#[prompt(name = "test_input_required_result_prompt")]
async fn irr_prompt(ctx: Context) -> Result<Vec<PromptMessage>, ToolError> {
    let r = ctx
        .elicit(
            "user_context",
            ElicitRequest::form(
                "What context should the prompt include?",
                json!({"type":"object","properties":{"context":{"type":"string"}},"required":["context"]}),
            ),
        )
        .await?;
    let context = accepted_field(&r, "context").unwrap_or_default();
    Ok(vec![PromptMessage::user(format!(
        "Context from the user: {context}"
    ))])
}

// ---- Resources -----------------------------------------------------------------------------

/// A static text resource
#[resource("test://static-text", name = "static-text", mime_type = "text/plain")]
async fn static_text() -> ResourceContents {
    ResourceContents::text(
        "test://static-text",
        "This is the content of the static text resource.",
    )
    .with_mime_type("text/plain")
}

/// A static PNG
#[resource(
    "test://static-binary",
    name = "static-binary",
    mime_type = "image/png"
)]
async fn static_binary() -> ResourceContents {
    ResourceContents::blob("test://static-binary", PNG).with_mime_type("image/png")
}

/// A resource clients can subscribe to
#[resource(
    "test://watched-resource",
    name = "watched-resource",
    mime_type = "text/plain"
)]
async fn watched() -> ResourceContents {
    ResourceContents::text("test://watched-resource", "Watched resource content")
        .with_mime_type("text/plain")
}

/// Data for any id
#[resource(
    "test://template/{id}/data",
    name = "template-data",
    mime_type = "application/json"
)]
async fn template_data(Uri(uri): Uri, #[complete(complete_arg)] id: String) -> ResourceContents {
    let body = json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
    ResourceContents::text(uri, body.to_string()).with_mime_type("application/json")
}

// ---- The router ----------------------------------------------------------------------------

/// Every fixture of the conformance suite.
///
/// `router![…]` takes every fixture the macros describe completely. The few that need what
/// `#[tool]` has no key for are added after it with the plain builder on their companion's
/// `ToolDef`: a hand-written input schema, kept verbatim, and task support.
pub fn router() -> Router {
    mcp_core::router![
        // Tools.
        simple_text,
        image_content,
        audio_content,
        embedded_resource,
        multiple_content_types,
        tool_with_logging,
        tool_with_progress,
        error_handling,
        sampling,
        elicitation,
        elicitation_defaults,
        elicitation_enums,
        reconnection,
        missing_capability,
        streaming_elicitation,
        logging_tool,
        trigger_tool_change,
        trigger_prompt_change,
        irr_elicitation,
        irr_sampling,
        irr_list_roots,
        irr_request_state,
        irr_multiple_inputs,
        irr_multi_round,
        irr_tampered_state,
        irr_capabilities,
        greet,
        slow_compute_journal,
        // Prompts, with the completions of `test_prompt_with_arguments`.
        simple_prompt,
        prompt_with_arguments,
        prompt_with_embedded_resource,
        prompt_with_image,
        irr_prompt,
        // Resources, and the template with its completion.
        static_text,
        static_binary,
        watched,
        template_data,
    ]
    // Hand-written input schemas, passed through verbatim.
    .tool(json_schema_tool::tool().input_schema(schema_2020_12()))
    .tool(x_mcp_header::tool().input_schema(x_mcp_header_schema()))
    // Task support (`#[tool]` has no key for it).
    .tool(slow_compute::tool().task_support(TaskSupport::Optional))
    .tool(failing_job::tool().task_support(TaskSupport::Required))
    .tool(protocol_error_job::tool().task_support(TaskSupport::Optional))
    .tool(confirm_delete::tool().task_support(TaskSupport::Optional))
    .tool(multi_input::tool().task_support(TaskSupport::Optional))
    .tool(
        tool_with_task::tool()
            .task_support(TaskSupport::Required)
            .defer_task(true),
    )
    .instructions("Conformance test server: every fixture of the official MCP conformance suite.")
}
