use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ContentBlock, Icon, JsonObject};

/// A tool as listed by `tools/list`.
///
/// ```
/// use mcp_core::protocol::Tool;
/// let t: Tool = serde_json::from_str(
///     r#"{"name":"echo","description":"Echoes","inputSchema":{"type":"object"}}"#,
/// ).unwrap();
/// assert_eq!(t.name, "echo");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// Unique name, 1–128 characters of `[A-Za-z0-9_.-]`.
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments (an object schema).
    pub input_schema: JsonObject,
    /// JSON Schema of `structuredContent`, when the tool returns structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<JsonObject>,
    /// Behaviour hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
    /// Icons (2025-11-25 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Task support (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<ToolExecution>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// Hints about a tool's behaviour. Hints, not guarantees: clients must not trust them from
/// untrusted servers.
///
/// ```
/// # use mcp_core::protocol::ToolAnnotations;
/// let a = ToolAnnotations { read_only_hint: Some(true), ..Default::default() };
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"readOnlyHint":true}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool does not modify its environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may destroy or overwrite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling twice with the same arguments has no further effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    /// The tool talks to an open world (the internet, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

/// `Tool.execution` (2025-11-25).
///
/// ```
/// # use mcp_core::protocol::{ToolExecution, TaskSupport};
/// let e = ToolExecution { task_support: Some(TaskSupport::Optional) };
/// assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"taskSupport":"optional"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    /// Whether the tool can run as a task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_support: Option<TaskSupport>,
}

/// Whether a tool can, must or must not run as a task.
///
/// ```
/// # use mcp_core::protocol::TaskSupport;
/// assert_eq!(serde_json::to_string(&TaskSupport::Required).unwrap(), "\"required\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskSupport {
    /// Never as a task (the default).
    Forbidden,
    /// Either way.
    Optional,
    /// Only as a task.
    Required,
}

/// Parameters of list methods: `tools/list`, `prompts/list`, `resources/list`, ….
///
/// ```
/// # use mcp_core::protocol::PaginatedParams;
/// let p: PaginatedParams = serde_json::from_str(r#"{"cursor":"abc"}"#).unwrap();
/// assert_eq!(p.cursor.as_deref(), Some("abc"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaginatedParams {
    /// Where the previous page ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `tools/list` result.
///
/// ```
/// # use mcp_core::protocol::ListToolsResult;
/// let r: ListToolsResult = serde_json::from_str(r#"{"tools":[]}"#).unwrap();
/// assert!(r.next_cursor.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListToolsResult {
    /// This page of tools.
    pub tools: Vec<Tool>,
    /// Pass as `cursor` to get the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `tools/call` parameters.
///
/// ```
/// # use mcp_core::protocol::CallToolParams;
/// let p: CallToolParams = serde_json::from_str(r#"{"name":"add","arguments":{"a":1}}"#).unwrap();
/// assert_eq!(p.arguments.unwrap()["a"], 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolParams {
    /// The tool.
    pub name: String,
    /// Its arguments; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<JsonObject>,
    /// Run as a task (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<JsonObject>,
    /// Answers to an `input_required` result (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<JsonObject>,
    /// The sealed state of an `input_required` result, echoed (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `tools/call` result.
///
/// A tool's own failure is a result with `is_error: Some(true)`, so the model can read it and
/// try again; protocol problems (unknown tool, malformed request) are JSON-RPC errors instead.
///
/// ```
/// use mcp_core::protocol::CallToolResult;
/// let r = CallToolResult::error("the file does not exist; list the directory first");
/// assert_eq!(r.is_error, Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToolResult {
    /// Unstructured content.
    pub content: Vec<ContentBlock>,
    /// Structured output, conforming to the tool's `outputSchema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    /// Whether the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

impl CallToolResult {
    /// A successful result with one text block.
    ///
    /// ```
    /// # use mcp_core::protocol::CallToolResult;
    /// assert_eq!(CallToolResult::text("ok").content[0].as_text(), Some("ok"));
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        Self::success(vec![ContentBlock::text(text)])
    }

    /// A successful result with these blocks.
    ///
    /// ```
    /// # use mcp_core::protocol::{CallToolResult, ContentBlock};
    /// let r = CallToolResult::success(vec![ContentBlock::text("a"), ContentBlock::text("b")]);
    /// assert_eq!(r.content.len(), 2);
    /// ```
    pub fn success(content: Vec<ContentBlock>) -> Self {
        Self {
            content,
            ..Default::default()
        }
    }

    /// A failed result (`isError: true`) whose text tells the model what went wrong.
    ///
    /// ```
    /// # use mcp_core::protocol::CallToolResult;
    /// assert!(CallToolResult::error("nope").is_error());
    /// ```
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            content: vec![ContentBlock::text(message)],
            is_error: Some(true),
            ..Default::default()
        }
    }

    /// Whether `isError` is set.
    ///
    /// ```
    /// # use mcp_core::protocol::CallToolResult;
    /// assert!(!CallToolResult::text("fine").is_error());
    /// ```
    pub fn is_error(&self) -> bool {
        self.is_error == Some(true)
    }
}
