//! The fixtures, written with the plain-function API.

use std::time::Duration;

use mcp_core::protocol::{
    ContentBlock, CreateMessageParams, ElicitAction, ElicitRequest, JsonObject, PromptMessage,
    ResourceContents, Role, SamplingMessage, TaskSupport,
};
use mcp_core::server::ListChanged;
use mcp_core::{
    Args, CompletionDef, Context, PromptDef, ResourceDef, Router, TemplateDef, ToolDef, ToolError,
};
use serde::Deserialize;
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

async fn simple_text() -> &'static str {
    "This is a simple text response for testing."
}

async fn image_content() -> ContentBlock {
    ContentBlock::image(PNG, "image/png")
}

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

async fn embedded_resource() -> ContentBlock {
    embedded()
}

async fn multiple_content_types() -> Vec<ContentBlock> {
    vec![
        ContentBlock::text("Multiple content types test:"),
        ContentBlock::image(PNG, "image/png"),
        embedded(),
    ]
}

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

async fn error_handling() -> Result<String, ToolError> {
    Err(ToolError::new(
        "This tool intentionally returns an error for testing",
    ))
}

#[derive(Deserialize, schemars::JsonSchema, Default)]
struct SamplingArgs {
    /// The prompt to send to the client's model.
    #[serde(default)]
    prompt: Option<String>,
}

async fn sampling(ctx: Context, Args(a): Args<SamplingArgs>) -> Result<String, ToolError> {
    let prompt = a.prompt.unwrap_or_else(|| "Hello".into());
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

#[derive(Deserialize, schemars::JsonSchema, Default)]
struct ElicitArgs {
    /// The message to show the user.
    #[serde(default)]
    message: Option<String>,
}

async fn elicitation(ctx: Context, Args(a): Args<ElicitArgs>) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"}
        },
        "required": ["username", "email"]
    });
    let message = a
        .message
        .unwrap_or_else(|| "Please provide your information".into());
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

async fn json_schema_tool(Args(args): Args<JsonObject>) -> String {
    format!("Received: {}", Value::Object(args))
}

async fn reconnection(ctx: Context) -> &'static str {
    tokio::time::sleep(Duration::from_millis(100)).await;
    ctx.log_info("reconnection test finished").await;
    "Reconnection test completed"
}

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

fn accepted_field(r: &mcp_core::protocol::ElicitResult, field: &str) -> Option<String> {
    if r.action != ElicitAction::Accept {
        return None;
    }
    r.content.as_ref()?.get(field).map(|v| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    })
}

async fn streaming_elicitation(ctx: Context) -> Result<String, ToolError> {
    ctx.log_info("asking for a name").await;
    let r = ctx.elicit("user_name", name_form()).await?;
    Ok(format!(
        "Hello, {}!",
        accepted_field(&r, "name").unwrap_or_else(|| "stranger".into())
    ))
}

async fn logging_tool(ctx: Context) -> &'static str {
    ctx.log(
        mcp_core::protocol::LoggingLevel::Debug,
        Some("conformance"),
        "debug message",
    )
    .await;
    ctx.log_info("info message").await;
    ctx.log(
        mcp_core::protocol::LoggingLevel::Warning,
        Some("conformance"),
        "warning message",
    )
    .await;
    "Logging tool completed"
}

/// Announces a tool-list change. The set itself stays put so `tools/list` order is stable.
async fn trigger_tool_change(ctx: Context) -> &'static str {
    ctx.server().notify_changed(ListChanged::Tools);
    "Tool list changed"
}

/// Announces a prompt-list change.
async fn trigger_prompt_change(ctx: Context) -> &'static str {
    ctx.server().notify_changed(ListChanged::Prompts);
    "Prompt list changed"
}

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

async fn irr_sampling(ctx: Context) -> Result<String, ToolError> {
    let r = ctx.sample("capital_question", capital_question()).await?;
    Ok(format!("The model said: {}", r.text().unwrap_or_default()))
}

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

async fn irr_request_state(ctx: Context) -> Result<String, ToolError> {
    let r = ctx.elicit("confirm", confirm_form()).await?;
    Ok(format!("state-ok: confirmation {:?}", r.action))
}

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

async fn irr_multi_round(ctx: Context) -> Result<String, ToolError> {
    let first = ctx.elicit("step1", ElicitRequest::form("Step 1: your name?", json!({"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}))).await?;
    let second = ctx.elicit("step2", ElicitRequest::form("Step 2: your favourite colour?", json!({"type":"object","properties":{"color":{"type":"string"}},"required":["color"]}))).await?;
    Ok(format!(
        "done: name={}, color={}",
        accepted_field(&first, "name").unwrap_or_default(),
        accepted_field(&second, "color").unwrap_or_default()
    ))
}

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

#[derive(Deserialize, schemars::JsonSchema)]
struct RegionArgs {
    /// The region to query; mirrored in the `Mcp-Param-Region` header.
    region: String,
}

async fn x_mcp_header(Args(a): Args<RegionArgs>) -> String {
    format!("Region: {}", a.region)
}

fn x_mcp_header_schema() -> JsonObject {
    object(json!({
        "type": "object",
        "properties": {"region": {"type": "string", "description": "The region to query", "x-mcp-header": "Region"}},
        "required": ["region"]
    }))
}

async fn simple_prompt() -> String {
    "This is a simple prompt for testing.".into()
}

#[derive(Deserialize, schemars::JsonSchema)]
struct PromptArgs {
    /// First test argument.
    arg1: String,
    /// Second test argument.
    arg2: String,
}

async fn prompt_with_arguments(Args(a): Args<PromptArgs>) -> String {
    format!(
        "Prompt with arguments: arg1='{}', arg2='{}'",
        a.arg1, a.arg2
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ResourcePromptArgs {
    /// URI of the resource to embed.
    resource_uri: String,
}

async fn prompt_with_embedded_resource(Args(a): Args<ResourcePromptArgs>) -> Vec<PromptMessage> {
    vec![
        PromptMessage {
            role: Role::User,
            content: ContentBlock::resource(
                ResourceContents::text(a.resource_uri, "Embedded resource content for testing.")
                    .with_mime_type("text/plain"),
            ),
        },
        PromptMessage::user("Please process the embedded resource above."),
    ]
}

async fn prompt_with_image() -> Vec<PromptMessage> {
    vec![
        PromptMessage {
            role: Role::User,
            content: ContentBlock::image(PNG, "image/png"),
        },
        PromptMessage::user("Please analyze the image above."),
    ]
}

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

async fn complete_arg(c: mcp_core::router::Completing) -> Vec<String> {
    ["paris", "park", "party", "python", "rust"]
        .iter()
        .filter(|v| v.starts_with(c.value.as_str()))
        .map(|v| v.to_string())
        .collect()
}

async fn static_text() -> ResourceContents {
    ResourceContents::text(
        "test://static-text",
        "This is the content of the static text resource.",
    )
    .with_mime_type("text/plain")
}

async fn static_binary() -> ResourceContents {
    ResourceContents::blob("test://static-binary", PNG).with_mime_type("image/png")
}

async fn watched() -> ResourceContents {
    ResourceContents::text("test://watched-resource", "Watched resource content")
        .with_mime_type("text/plain")
}

#[derive(Deserialize, schemars::JsonSchema)]
struct TemplateVars {
    id: String,
}

async fn template_data(
    mcp_core::extract::Uri(uri): mcp_core::extract::Uri,
    Args(v): Args<TemplateVars>,
) -> ResourceContents {
    let body = json!({"id": v.id, "templateTest": true, "data": format!("Data for ID: {}", v.id)});
    ResourceContents::text(uri, body.to_string()).with_mime_type("application/json")
}

#[derive(Deserialize, schemars::JsonSchema)]
struct GreetArgs {
    /// Who to greet.
    #[serde(default)]
    name: Option<String>,
}

async fn greet(Args(a): Args<GreetArgs>) -> String {
    format!("Hello, {}!", a.name.unwrap_or_else(|| "World".into()))
}

#[derive(Deserialize, schemars::JsonSchema)]
struct ComputeArgs {
    /// How long to work, in seconds.
    #[serde(default)]
    seconds: Option<f64>,
    /// A label echoed in the result.
    #[serde(default)]
    label: Option<String>,
}

async fn slow_compute(ctx: Context, Args(a): Args<ComputeArgs>) -> String {
    let secs = a.seconds.unwrap_or(1.0).clamp(0.0, 600.0);
    if secs > 0.0 {
        let steps = (secs * 10.0).ceil() as u32;
        for i in 1..=steps {
            tokio::time::sleep(Duration::from_millis(100)).await;
            ctx.progress(f64::from(i), Some(f64::from(steps)), None)
                .await;
        }
    }
    format!(
        "Computed {} after {secs} seconds",
        a.label.unwrap_or_else(|| "result".into())
    )
}

async fn failing_job() -> Result<String, ToolError> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    Err(ToolError::new(
        "The job failed: the input data set is empty",
    ))
}

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

async fn tool_with_task(ctx: Context) -> Result<String, ToolError> {
    let r = ctx.elicit("user_name", name_form()).await?;
    let name = accepted_field(&r, "name").unwrap_or_else(|| "stranger".into());
    ctx.escalate_to_task().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(format!("Hello, {name}! Your task is done."))
}

/// Every fixture of the conformance suite.
pub(crate) fn router() -> Router {
    Router::new()
        .tool(
            ToolDef::new("test_simple_text", simple_text)
                .description("Returns simple text content"),
        )
        .tool(ToolDef::new("test_image_content", image_content).description("Returns a PNG image"))
        .tool(ToolDef::new("test_audio_content", audio_content).description("Returns WAV audio"))
        .tool(
            ToolDef::new("test_embedded_resource", embedded_resource)
                .description("Returns an embedded text resource"),
        )
        .tool(
            ToolDef::new("test_multiple_content_types", multiple_content_types)
                .description("Returns text, an image and a resource"),
        )
        .tool(
            ToolDef::new("test_tool_with_logging", tool_with_logging)
                .description("Sends three info log messages while running"),
        )
        .tool(
            ToolDef::new("test_tool_with_progress", tool_with_progress)
                .description("Reports progress 0, 50 and 100 of 100"),
        )
        .tool(
            ToolDef::new("test_error_handling", error_handling)
                .description("Always fails with a tool error"),
        )
        .tool(
            ToolDef::new("test_sampling", sampling)
                .description("Asks the client's model to answer a prompt"),
        )
        .tool(
            ToolDef::new("test_elicitation", elicitation)
                .description("Asks the user for a username and an email"),
        )
        .tool(
            ToolDef::new("test_elicitation_sep1034_defaults", elicitation_defaults)
                .description("Elicitation with default values (SEP-1034)"),
        )
        .tool(
            ToolDef::new("test_elicitation_sep1330_enums", elicitation_enums)
                .description("Elicitation with every enum shape (SEP-1330)"),
        )
        .tool(
            ToolDef::new("json_schema_2020_12_tool", json_schema_tool)
                .description("Declares a JSON Schema 2020-12 input schema, passed through verbatim")
                .input_schema(schema_2020_12()),
        )
        .tool(
            ToolDef::new("test_reconnection", reconnection)
                .description("Finishes after a short delay; over HTTP the stream may be resumed"),
        )
        .tool(
            ToolDef::new("test_missing_capability", missing_capability)
                .description("Needs the sampling capability"),
        )
        .tool(
            ToolDef::new("test_streaming_elicitation", streaming_elicitation)
                .description("Logs, then asks for a name"),
        )
        .tool(
            ToolDef::new("test_logging_tool", logging_tool)
                .description("Logs at debug, info and warning"),
        )
        .tool(
            ToolDef::new("test_trigger_tool_change", trigger_tool_change)
                .description("Adds or removes a tool"),
        )
        .tool(
            ToolDef::new("test_trigger_prompt_change", trigger_prompt_change)
                .description("Adds or removes a prompt"),
        )
        .tool(
            ToolDef::new("test_input_required_result_elicitation", irr_elicitation)
                .description("Asks for the user's name"),
        )
        .tool(
            ToolDef::new("test_input_required_result_sampling", irr_sampling)
                .description("Asks the client's model a question"),
        )
        .tool(
            ToolDef::new("test_input_required_result_list_roots", irr_list_roots)
                .description("Asks the client for its roots"),
        )
        .tool(
            ToolDef::new(
                "test_input_required_result_request_state",
                irr_request_state,
            )
            .description("Asks for a confirmation, carrying state"),
        )
        .tool(
            ToolDef::new(
                "test_input_required_result_multiple_inputs",
                irr_multiple_inputs,
            )
            .description("Asks three questions at once"),
        )
        .tool(
            ToolDef::new("test_input_required_result_multi_round", irr_multi_round)
                .description("Asks two questions in two rounds"),
        )
        .tool(
            ToolDef::new(
                "test_input_required_result_tampered_state",
                irr_request_state,
            )
            .description("Asks for a confirmation; a tampered state is refused"),
        )
        .tool(
            ToolDef::new("test_input_required_result_capabilities", irr_capabilities)
                .description("Asks only for what the client declared"),
        )
        .tool(
            ToolDef::new("test_x_mcp_header", x_mcp_header)
                .description("Takes a region mirrored in an HTTP header")
                .input_schema(x_mcp_header_schema()),
        )
        .tool(ToolDef::new("greet", greet).description("Greets by name; always synchronous"))
        .tool(
            ToolDef::new("slow_compute", slow_compute)
                .description(
                    "Works for `seconds` seconds; runs as a task for clients that take tasks",
                )
                .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::new("failing_job", failing_job)
                .description("A task that ends in a tool error after about a second")
                .task_support(TaskSupport::Required),
        )
        .tool(
            ToolDef::new("protocol_error_job", protocol_error_job)
                .description("A task that fails with an internal error")
                .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::new("confirm_delete", confirm_delete)
                .description("A task that asks for a confirmation")
                .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::new("multi_input", multi_input)
                .description("A task that asks two questions at once")
                .task_support(TaskSupport::Optional),
        )
        .tool(
            ToolDef::new("test_tool_with_task", tool_with_task)
                .description("Asks for a name, then continues as a task")
                .task_support(TaskSupport::Required)
                .defer_task(true),
        )
        .prompt(
            PromptDef::new("test_simple_prompt", simple_prompt)
                .description("A simple prompt without arguments"),
        )
        .prompt(
            PromptDef::new("test_prompt_with_arguments", prompt_with_arguments)
                .description("A prompt with two required arguments"),
        )
        .prompt(
            PromptDef::new(
                "test_prompt_with_embedded_resource",
                prompt_with_embedded_resource,
            )
            .description("A prompt embedding a resource"),
        )
        .prompt(
            PromptDef::new("test_prompt_with_image", prompt_with_image)
                .description("A prompt with an image"),
        )
        .prompt(
            PromptDef::new("test_input_required_result_prompt", irr_prompt)
                .description("A prompt that asks the user for context"),
        )
        .completion(CompletionDef::prompt(
            "test_prompt_with_arguments",
            "arg1",
            complete_arg,
        ))
        .completion(CompletionDef::prompt(
            "test_prompt_with_arguments",
            "arg2",
            complete_arg,
        ))
        .completion(CompletionDef::template(
            "test://template/{id}/data",
            "id",
            complete_arg,
        ))
        .resource(
            ResourceDef::new("test://static-text", "static-text", static_text)
                .description("A static text resource")
                .mime_type("text/plain"),
        )
        .resource(
            ResourceDef::new("test://static-binary", "static-binary", static_binary)
                .description("A static PNG")
                .mime_type("image/png"),
        )
        .resource(
            ResourceDef::new("test://watched-resource", "watched-resource", watched)
                .description("A resource clients can subscribe to")
                .mime_type("text/plain"),
        )
        .resource_template(
            TemplateDef::new("test://template/{id}/data", "template-data", template_data)
                .description("Data for any id")
                .mime_type("application/json"),
        )
        .instructions(
            "Conformance test server: every fixture of the official MCP conformance suite.",
        )
        .server_info(mcp_core::crate_info!())
}
