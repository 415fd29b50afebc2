//! Turning what a handler returns into a result.
//!
//! Tools return anything that implements [`IntoToolResult`]: a `String`, a [`ContentBlock`],
//! a list of blocks, [`Json<T>`] for structured output, a full [`CallToolResult`], `()` — or a
//! `Result` of any of these, whose `Err` becomes an `isError` result the model can read and act
//! on. Prompts, resources and completions have their own conversion traits.
//!
//! ```
//! use mcp_core::response::{Json, ToolError};
//! #[derive(serde::Serialize, schemars::JsonSchema)]
//! struct Sum { sum: i64 }
//! async fn add(a: i64, b: i64) -> Result<Json<Sum>, ToolError> {
//!     let sum = a.checked_add(b).ok_or_else(|| ToolError::new("the sum overflows an i64; use smaller numbers"))?;
//!     Ok(Json(Sum { sum }))
//! }
//! # let _ = add;
//! ```

use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;

use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::{
    CallToolResult, Completion, ContentBlock, GetPromptResult, JsonObject, PromptMessage,
    ReadResourceResult, ResourceContents,
};

/// Converts a tool handler's return value into a `tools/call` result.
///
/// # Examples
///
/// A return type of your own, with a structured result the model also sees as text:
///
/// ```
/// use mcp_core::protocol::{CallToolResult, JsonObject};
/// use mcp_core::response::IntoToolResult;
/// use mcp_core::{Router, Server, ToolDef};
///
/// struct Temperature(f64);
///
/// impl IntoToolResult for Temperature {
///     fn into_tool_result(self) -> CallToolResult {
///         let mut result = CallToolResult::text(format!("{:.1} °C", self.0));
///         result.structured_content = Some(serde_json::json!({"celsius": self.0}));
///         result
///     }
///     fn output_schema() -> Option<JsonObject> {
///         serde_json::json!({"type": "object", "properties": {"celsius": {"type": "number"}}})
///             .as_object()
///             .cloned()
///     }
/// }
///
/// async fn weather() -> Temperature { Temperature(21.5) }
/// assert_eq!(Temperature(3.0).into_tool_result().content[0].as_text(), Some("3.0 °C"));
/// let server = Server::new(Router::new().tool(ToolDef::new("weather", weather)));
/// assert!(server.tool("weather").unwrap().output_schema.is_some());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a tool",
    note = "return a `String`, `Json<T>`, `ContentBlock`, `Vec<ContentBlock>`, `CallToolResult`, `()`, or a `Result` of one of these"
)]
pub trait IntoToolResult {
    /// The conversion.
    ///
    /// See [`IntoToolResult`] for an example.
    fn into_tool_result(self) -> CallToolResult;

    /// The JSON Schema of `structuredContent`, for types that produce it.
    ///
    /// See [`IntoToolResult`] for an example.
    fn output_schema() -> Option<JsonObject> {
        None
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> CallToolResult {
        self
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::text(self)
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::text(self)
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(Vec::new())
    }
}

impl IntoToolResult for ContentBlock {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![self])
    }
}

macro_rules! block_result {
    ($($ty:ident => $variant:ident),*) => {$(
        impl IntoToolResult for crate::protocol::$ty {
            fn into_tool_result(self) -> CallToolResult {
                CallToolResult::success(vec![ContentBlock::$variant(self)])
            }
        }
    )*};
}

block_result!(
    TextContent => Text,
    ImageContent => Image,
    AudioContent => Audio,
    ResourceLink => ResourceLink,
    EmbeddedResource => Resource
);

impl IntoToolResult for ResourceContents {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::resource(self)])
    }
}

impl IntoToolResult for Vec<ContentBlock> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(self)
    }
}

impl<T: IntoToolResult, E: fmt::Display> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> CallToolResult {
        match self {
            Ok(v) => v.into_tool_result(),
            Err(e) => CallToolResult::error(e.to_string()),
        }
    }

    fn output_schema() -> Option<JsonObject> {
        T::output_schema()
    }
}

/// Structured output: serialized into `structuredContent`, mirrored as text, and described by
/// the tool's `outputSchema`.
///
/// ```
/// use mcp_core::response::{IntoToolResult, Json};
/// #[derive(serde::Serialize, schemars::JsonSchema)]
/// struct Out { n: u32 }
/// let r = Json(Out { n: 3 }).into_tool_result();
/// assert_eq!(r.structured_content.unwrap()["n"], 3);
/// assert_eq!(r.content[0].as_text(), Some(r#"{"n":3}"#));
/// assert!(<Json<Out> as IntoToolResult>::output_schema().is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize + JsonSchema> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> CallToolResult {
        match serde_json::to_value(&self.0) {
            Ok(value) => {
                let text = value.to_string();
                CallToolResult {
                    content: vec![ContentBlock::text(text)],
                    structured_content: Some(value),
                    ..Default::default()
                }
            }
            Err(e) => {
                CallToolResult::error(format!("the tool's output could not be serialized: {e}"))
            }
        }
    }

    fn output_schema() -> Option<JsonObject> {
        Some(crate::schema::schema_for::<T>())
    }
}

/// A tool failure with a message for the model. Any error converts into it with `?`.
///
/// ```
/// use mcp_core::response::ToolError;
/// fn parse(s: &str) -> Result<i64, ToolError> { Ok(s.parse::<i64>()?) }
/// assert!(parse("x").unwrap_err().to_string().contains("invalid digit"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError(String);

impl ToolError {
    /// A failure with this message. Say what went wrong and what to do instead.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Router, ToolError};
    ///
    /// async fn divide() -> Result<String, ToolError> {
    ///     Err(ToolError::new("cannot divide by zero; pass a non-zero `b`"))
    /// }
    /// assert_eq!(ToolError::new("nope").to_string(), "nope");
    /// # let _: Router = Router::new().tool_fn("divide", divide);
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        ToolError(message.into())
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for ToolError {
    fn from(e: E) -> Self {
        ToolError(e.to_string())
    }
}

/// A JSON-RPC error a handler can return for prompts, resources and completions.
///
/// ```
/// use mcp_core::response::McpError;
/// let e = McpError::invalid_params("no such table: users2");
/// assert_eq!(e.0.code.0, -32602);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct McpError(pub ErrorObject);

impl McpError {
    /// `-32602` with a message.
    ///
    /// See [`McpError`] for an example.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        McpError(ErrorObject::new(ErrorCode::INVALID_PARAMS, message))
    }

    /// `-32603` with a message.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::response::McpError;
    /// use mcp_core::{ResourceDef, Router};
    ///
    /// async fn config() -> Result<String, McpError> {
    ///     std::fs::read_to_string("/nonexistent/app.toml")
    ///         .map_err(|e| McpError::internal(format!("config unreadable: {e}")))
    /// }
    /// assert_eq!(McpError::internal("down").0.code.0, -32603);
    /// # let _: Router = Router::new().resource(ResourceDef::new("config://app", "config", config));
    /// ```
    pub fn internal(message: impl Into<String>) -> Self {
        McpError(ErrorObject::new(ErrorCode::INTERNAL_ERROR, message))
    }
}

impl fmt::Display for McpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ErrorObject> for McpError {
    fn from(e: ErrorObject) -> Self {
        McpError(e)
    }
}

/// Errors from prompt, resource and completion handlers become JSON-RPC errors through this.
///
/// # Examples
/// ```
/// use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
/// use mcp_core::response::{IntoErrorObject, McpError};
/// use mcp_core::{PromptDef, Router};
///
/// /// A domain error that maps onto JSON-RPC errors.
/// enum LookupError { NotFound(String) }
///
/// impl IntoErrorObject for LookupError {
///     fn into_error_object(self) -> ErrorObject {
///         match self {
///             LookupError::NotFound(what) => ErrorObject::new(ErrorCode::INVALID_PARAMS, format!("no {what}")),
///         }
///     }
/// }
///
/// async fn lookup() -> Result<String, LookupError> { Err(LookupError::NotFound("such page".into())) }
/// assert_eq!(LookupError::NotFound("x".into()).into_error_object().code, ErrorCode::INVALID_PARAMS);
/// assert_eq!(McpError::invalid_params("bad").into_error_object().code, ErrorCode::INVALID_PARAMS);
/// # let _: Router = Router::new().prompt(PromptDef::new("lookup", lookup));
/// ```
pub trait IntoErrorObject {
    /// The conversion.
    ///
    /// See [`IntoErrorObject`] for an example.
    fn into_error_object(self) -> ErrorObject;
}

impl IntoErrorObject for McpError {
    fn into_error_object(self) -> ErrorObject {
        self.0
    }
}

impl IntoErrorObject for ToolError {
    fn into_error_object(self) -> ErrorObject {
        ErrorObject::new(ErrorCode::INTERNAL_ERROR, self.0)
    }
}

impl IntoErrorObject for String {
    fn into_error_object(self) -> ErrorObject {
        ErrorObject::new(ErrorCode::INTERNAL_ERROR, self)
    }
}

/// Converts a prompt handler's return value into a `prompts/get` result.
///
/// ```
/// use mcp_core::response::IntoPromptResult;
/// let r = "Summarize this".to_string().into_prompt_result().unwrap();
/// assert_eq!(r.messages.len(), 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a prompt",
    note = "return a `String`, `PromptMessage`, `Vec<PromptMessage>`, `GetPromptResult`, or a `Result` of one of these"
)]
pub trait IntoPromptResult {
    /// The conversion.
    ///
    /// See [`IntoPromptResult`] for an example.
    fn into_prompt_result(self) -> Result<GetPromptResult, ErrorObject>;
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> Result<GetPromptResult, ErrorObject> {
        Ok(self)
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> Result<GetPromptResult, ErrorObject> {
        Ok(GetPromptResult {
            description: None,
            messages: self,
        })
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> Result<GetPromptResult, ErrorObject> {
        Ok(GetPromptResult {
            description: None,
            messages: vec![self],
        })
    }
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> Result<GetPromptResult, ErrorObject> {
        PromptMessage::user(self).into_prompt_result()
    }
}

impl<T: IntoPromptResult, E: IntoErrorObject> IntoPromptResult for Result<T, E> {
    fn into_prompt_result(self) -> Result<GetPromptResult, ErrorObject> {
        self.map_err(IntoErrorObject::into_error_object)?
            .into_prompt_result()
    }
}

/// Converts a resource handler's return value into `resources/read` contents.
///
/// A `String` becomes text contents at the URI that was read.
///
/// ```
/// use mcp_core::response::IntoResourceContents;
/// let r = "hello".to_string().into_resource_result("test://a").unwrap();
/// assert_eq!(r.contents[0].uri(), "test://a");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a resource",
    note = "return a `String`, `ResourceContents`, `Vec<ResourceContents>`, `ReadResourceResult`, or a `Result` of one of these"
)]
pub trait IntoResourceContents {
    /// The conversion; `uri` is the URI that was read.
    ///
    /// See [`IntoResourceContents`] for an example.
    fn into_resource_result(self, uri: &str) -> Result<ReadResourceResult, ErrorObject>;
}

impl IntoResourceContents for ReadResourceResult {
    fn into_resource_result(self, _uri: &str) -> Result<ReadResourceResult, ErrorObject> {
        Ok(self)
    }
}

impl IntoResourceContents for ResourceContents {
    fn into_resource_result(self, _uri: &str) -> Result<ReadResourceResult, ErrorObject> {
        Ok(ReadResourceResult {
            contents: vec![self],
        })
    }
}

impl IntoResourceContents for Vec<ResourceContents> {
    fn into_resource_result(self, _uri: &str) -> Result<ReadResourceResult, ErrorObject> {
        Ok(ReadResourceResult { contents: self })
    }
}

impl IntoResourceContents for String {
    fn into_resource_result(self, uri: &str) -> Result<ReadResourceResult, ErrorObject> {
        Ok(ReadResourceResult {
            contents: vec![ResourceContents::text(uri, self)],
        })
    }
}

impl<T: IntoResourceContents, E: IntoErrorObject> IntoResourceContents for Result<T, E> {
    fn into_resource_result(self, uri: &str) -> Result<ReadResourceResult, ErrorObject> {
        self.map_err(IntoErrorObject::into_error_object)?
            .into_resource_result(uri)
    }
}

/// Converts a completion handler's return value into a completion.
///
/// ```
/// use mcp_core::response::IntoCompletion;
/// let c = vec!["alpha".to_string(), "beta".to_string()].into_completion().unwrap();
/// assert_eq!(c.values.len(), 2);
/// ```
pub trait IntoCompletion {
    /// The conversion.
    ///
    /// See [`IntoCompletion`] for an example.
    fn into_completion(self) -> Result<Completion, ErrorObject>;
}

impl IntoCompletion for Completion {
    fn into_completion(self) -> Result<Completion, ErrorObject> {
        Ok(self)
    }
}

impl IntoCompletion for Vec<String> {
    fn into_completion(self) -> Result<Completion, ErrorObject> {
        Ok(Completion::new(self))
    }
}

impl<T: IntoCompletion, E: IntoErrorObject> IntoCompletion for Result<T, E> {
    fn into_completion(self) -> Result<Completion, ErrorObject> {
        self.map_err(IntoErrorObject::into_error_object)?
            .into_completion()
    }
}
