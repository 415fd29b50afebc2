//! Requests the server sends to the client: sampling, elicitation, roots.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ContentBlock, JsonObject, Role, Tool};

/// `sampling/createMessage` parameters: ask the client's model for a completion.
///
/// ```
/// use mcp_core::protocol::{CreateMessageParams, SamplingMessage};
/// let p = CreateMessageParams::new(vec![SamplingMessage::user("What is 2+2?")], 100);
/// assert_eq!(serde_json::to_value(&p).unwrap()["maxTokens"], 100);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageParams {
    /// The conversation.
    pub messages: Vec<SamplingMessage>,
    /// Model preferences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_preferences: Option<JsonObject>,
    /// A system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// `none`, `thisServer` or `allServers`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_context: Option<String>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// The most tokens to generate.
    pub max_tokens: u32,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Provider-specific metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonObject>,
    /// Tools the model may use (needs `sampling.tools`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// How the model should use them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<JsonObject>,
}

impl CreateMessageParams {
    /// Messages and a token budget.
    ///
    /// ```
    /// # use mcp_core::protocol::CreateMessageParams;
    /// assert_eq!(CreateMessageParams::new(vec![], 5).max_tokens, 5);
    /// ```
    pub fn new(messages: Vec<SamplingMessage>, max_tokens: u32) -> Self {
        Self {
            messages,
            max_tokens,
            ..Default::default()
        }
    }
}

/// One message of a sampling conversation.
///
/// ```
/// # use mcp_core::protocol::SamplingMessage;
/// let m = SamplingMessage::user("hi");
/// assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"role":"user","content":{"type":"text","text":"hi"}}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingMessage {
    /// Who speaks.
    pub role: Role,
    /// One block or several.
    pub content: SamplingContent,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

impl SamplingMessage {
    /// A user message with text.
    ///
    /// ```
    /// # use mcp_core::protocol::{Role, SamplingMessage};
    /// assert_eq!(SamplingMessage::user("x").role, Role::User);
    /// ```
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: SamplingContent::One(Box::new(ContentBlock::text(text))),
            meta: None,
        }
    }
}

/// Sampling content: a single block or a list.
///
/// ```
/// # use mcp_core::protocol::SamplingContent;
/// let many: SamplingContent = serde_json::from_str(r#"[{"type":"text","text":"a"}]"#).unwrap();
/// assert_eq!(many.blocks().count(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SamplingContent {
    /// One block.
    One(Box<ContentBlock>),
    /// Several blocks.
    Many(Vec<ContentBlock>),
}

impl SamplingContent {
    /// Every block.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::{ContentBlock, SamplingContent};
    /// let content = SamplingContent::Many(vec![ContentBlock::text("a"), ContentBlock::text("b")]);
    /// assert_eq!(content.blocks().filter_map(ContentBlock::as_text).collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn blocks(&self) -> impl Iterator<Item = &ContentBlock> {
        match self {
            SamplingContent::One(b) => std::slice::from_ref(&**b).iter(),
            SamplingContent::Many(v) => v.iter(),
        }
    }
}

/// `sampling/createMessage` result.
///
/// ```
/// # use mcp_core::protocol::CreateMessageResult;
/// let r: CreateMessageResult = serde_json::from_str(
///     r#"{"role":"assistant","content":{"type":"text","text":"4"},"model":"m"}"#,
/// ).unwrap();
/// assert_eq!(r.text(), Some("4"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageResult {
    /// Usually `assistant`.
    pub role: Role,
    /// The generated content.
    pub content: SamplingContent,
    /// The model that answered.
    pub model: String,
    /// Why generation stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

impl CreateMessageResult {
    /// The first text block, if any.
    ///
    /// See [`CreateMessageResult`] for an example.
    pub fn text(&self) -> Option<&str> {
        self.content.blocks().find_map(ContentBlock::as_text)
    }
}

/// `elicitation/create` parameters: ask the user, with a form or by sending them to a URL.
///
/// ```
/// use mcp_core::protocol::ElicitRequest;
/// let form = ElicitRequest::form("Your name?", serde_json::json!({
///     "type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]
/// }));
/// assert_eq!(serde_json::to_value(&form).unwrap()["mode"], "form");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ElicitRequest {
    /// A form the client renders.
    Form {
        /// What to ask.
        message: String,
        /// A flat object schema of primitive fields.
        #[serde(rename = "requestedSchema")]
        requested_schema: Value,
    },
    /// Send the user to a URL (2025-11-25 and later).
    Url {
        /// Why.
        message: String,
        /// Where.
        url: String,
        /// Correlates the completion notification (handshake era only).
        #[serde(
            rename = "elicitationId",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        elicitation_id: Option<String>,
    },
}

impl ElicitRequest {
    /// A form-mode request.
    ///
    /// See [`ElicitRequest`] for an example.
    pub fn form(message: impl Into<String>, requested_schema: Value) -> Self {
        ElicitRequest::Form {
            message: message.into(),
            requested_schema,
        }
    }

    /// A URL-mode request.
    ///
    /// ```
    /// # use mcp_core::protocol::ElicitRequest;
    /// let r = ElicitRequest::url("Sign in", "https://example.com/login");
    /// assert_eq!(serde_json::to_value(&r).unwrap()["mode"], "url");
    /// ```
    pub fn url(message: impl Into<String>, url: impl Into<String>) -> Self {
        ElicitRequest::Url {
            message: message.into(),
            url: url.into(),
            elicitation_id: None,
        }
    }
}

/// The user's answer to an elicitation.
///
/// ```
/// # use mcp_core::protocol::{ElicitAction, ElicitResult};
/// let r: ElicitResult = serde_json::from_str(r#"{"action":"accept","content":{"name":"Ada"}}"#).unwrap();
/// assert_eq!(r.action, ElicitAction::Accept);
/// assert_eq!(r.content.unwrap()["name"], "Ada");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// The form values, on accept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<JsonObject>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// What the user did with an elicitation.
///
/// ```
/// # use mcp_core::protocol::ElicitAction;
/// assert_eq!(serde_json::to_string(&ElicitAction::Decline).unwrap(), "\"decline\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted.
    Accept,
    /// Said no.
    Decline,
    /// Dismissed.
    Cancel,
}

/// `roots/list` result.
///
/// ```
/// # use mcp_core::protocol::ListRootsResult;
/// let r: ListRootsResult = serde_json::from_str(r#"{"roots":[{"uri":"file:///src"}]}"#).unwrap();
/// assert_eq!(r.roots[0].uri, "file:///src");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListRootsResult {
    /// The roots.
    pub roots: Vec<Root>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// A root the client exposes (a `file://` URI).
///
/// ```
/// # use mcp_core::protocol::Root;
/// let r = Root { uri: "file:///a".into(), name: None, meta: None };
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"uri":"file:///a"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Root {
    /// The URI.
    pub uri: String,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}
