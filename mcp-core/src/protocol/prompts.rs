use serde::{Deserialize, Serialize};

use super::{ContentBlock, Icon, JsonObject, Role};

/// A prompt as listed by `prompts/list`.
///
/// ```
/// # use mcp_core::protocol::Prompt;
/// let p: Prompt = serde_json::from_str(r#"{"name":"review","arguments":[{"name":"code","required":true}]}"#).unwrap();
/// assert_eq!(p.arguments.unwrap()[0].required, Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prompt {
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the prompt is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<PromptArgument>>,
    /// Icons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// One argument of a prompt.
///
/// ```
/// # use mcp_core::protocol::PromptArgument;
/// let a = PromptArgument { name: "code".into(), required: Some(true), ..Default::default() };
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"name":"code","required":true}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptArgument {
    /// Name.
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What to pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it must be given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
}

/// `prompts/list` result.
///
/// ```
/// # use mcp_core::protocol::ListPromptsResult;
/// let r: ListPromptsResult = serde_json::from_str(r#"{"prompts":[]}"#).unwrap();
/// assert!(r.prompts.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPromptsResult {
    /// This page.
    pub prompts: Vec<Prompt>,
    /// The next page's cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `prompts/get` parameters.
///
/// ```
/// # use mcp_core::protocol::GetPromptParams;
/// let p: GetPromptParams = serde_json::from_str(r#"{"name":"p","arguments":{"arg1":"x"}}"#).unwrap();
/// assert_eq!(p.arguments.unwrap()["arg1"], "x");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPromptParams {
    /// The prompt.
    pub name: String,
    /// Its arguments (string values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<JsonObject>,
    /// Answers to an `input_required` result (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_responses: Option<JsonObject>,
    /// The sealed state of an `input_required` result (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `prompts/get` result.
///
/// ```
/// # use mcp_core::protocol::{GetPromptResult, PromptMessage};
/// let r = GetPromptResult { description: None, messages: vec![PromptMessage::user("hi")] };
/// assert_eq!(r.messages.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPromptResult {
    /// A description of this instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The messages.
    pub messages: Vec<PromptMessage>,
}

/// One message of a prompt.
///
/// ```
/// # use mcp_core::protocol::PromptMessage;
/// let m = PromptMessage::assistant("sure");
/// assert_eq!(serde_json::to_string(&m).unwrap(),
///            r#"{"role":"assistant","content":{"type":"text","text":"sure"}}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptMessage {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: ContentBlock,
}

impl PromptMessage {
    /// A user message with text.
    ///
    /// ```
    /// # use mcp_core::protocol::{PromptMessage, Role};
    /// assert_eq!(PromptMessage::user("x").role, Role::User);
    /// ```
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: ContentBlock::text(text),
        }
    }

    /// An assistant message with text.
    ///
    /// ```
    /// # use mcp_core::protocol::{PromptMessage, Role};
    /// assert_eq!(PromptMessage::assistant("x").role, Role::Assistant);
    /// ```
    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: ContentBlock::text(text),
        }
    }
}

/// What a completion is for: a prompt or a resource template.
///
/// ```
/// # use mcp_core::protocol::CompletionReference;
/// let r: CompletionReference = serde_json::from_str(r#"{"type":"ref/prompt","name":"p"}"#).unwrap();
/// assert!(matches!(r, CompletionReference::Prompt { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum CompletionReference {
    /// A prompt's argument.
    #[serde(rename = "ref/prompt")]
    Prompt {
        /// The prompt name.
        name: String,
        /// Display name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// A resource template's variable.
    #[serde(rename = "ref/resource")]
    Resource {
        /// The URI template.
        uri: String,
    },
}

/// `completion/complete` parameters.
///
/// ```
/// # use mcp_core::protocol::CompleteParams;
/// let p: CompleteParams = serde_json::from_str(
///     r#"{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"arg1","value":"pa"}}"#,
/// ).unwrap();
/// assert_eq!(p.argument.value, "pa");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteParams {
    /// The prompt or template.
    #[serde(rename = "ref")]
    pub reference: CompletionReference,
    /// The argument being completed.
    pub argument: CompletionArgument,
    /// Values of other arguments already given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<CompletionContext>,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// The argument being completed and what the user typed so far.
///
/// ```
/// # use mcp_core::protocol::CompletionArgument;
/// let a = CompletionArgument { name: "n".into(), value: "v".into() };
/// assert_eq!(a.name, "n");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionArgument {
    /// The argument name.
    pub name: String,
    /// The partial value.
    pub value: String,
}

/// Other arguments' values, for context-dependent completions.
///
/// ```
/// # use mcp_core::protocol::CompletionContext;
/// let c: CompletionContext = serde_json::from_str(r#"{"arguments":{"schema":"public"}}"#).unwrap();
/// assert_eq!(c.arguments.unwrap()["schema"], "public");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionContext {
    /// Argument name → value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<std::collections::BTreeMap<String, String>>,
}

/// `completion/complete` result.
///
/// ```
/// # use mcp_core::protocol::{CompleteResult, Completion};
/// let r = CompleteResult { completion: Completion::new(vec!["a".into()]) };
/// assert_eq!(serde_json::to_string(&r).unwrap(),
///            r#"{"completion":{"values":["a"],"total":1,"hasMore":false}}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompleteResult {
    /// The suggestions.
    pub completion: Completion,
}

/// Completion suggestions: at most 100 values.
///
/// ```
/// # use mcp_core::protocol::Completion;
/// let c = Completion::new((0..150).map(|i| i.to_string()).collect());
/// assert_eq!(c.values.len(), 100);
/// assert_eq!(c.total, Some(150));
/// assert_eq!(c.has_more, Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// Up to 100 values.
    pub values: Vec<String>,
    /// How many there are in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// More exist than were returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
}

impl Completion {
    /// The maximum number of values in one answer.
    ///
    /// See [`Completion::new`] for an example.
    pub const MAX_VALUES: usize = 100;

    /// Suggestions, truncated to [`Completion::MAX_VALUES`] with `total` and `hasMore` set.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::Completion;
    /// let c = Completion::new((0..150).map(|i| format!("item{i}")).collect());
    /// assert_eq!(c.values.len(), Completion::MAX_VALUES);
    /// assert_eq!(c.total, Some(150));
    /// assert_eq!(c.has_more, Some(true));
    /// ```
    pub fn new(mut values: Vec<String>) -> Self {
        let total = values.len();
        values.truncate(Self::MAX_VALUES);
        Self {
            has_more: Some(total > values.len()),
            total: Some(total as u64),
            values,
        }
    }
}
