use serde::{Deserialize, Serialize};

use super::JsonObject;

/// What a client can do for the server: answer sampling, elicitation and roots requests.
///
/// In the handshake era these come once, in `initialize`; in 2026-07-28 every request carries
/// its own copy in the `_meta` envelope and nothing is remembered between requests.
///
/// ```
/// use mcp_core::protocol::ClientCapabilities;
/// let caps: ClientCapabilities =
///     serde_json::from_str(r#"{"elicitation":{"form":{}},"sampling":{}}"#).unwrap();
/// assert!(caps.supports_form_elicitation());
/// assert!(caps.sampling.is_some());
/// assert!(caps.roots.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCapabilities {
    /// Non-standard capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<JsonObject>,
    /// The client can list its roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roots: Option<RootsCapability>,
    /// The client can sample an LLM for the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingCapability>,
    /// The client can ask its user for input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation: Option<ElicitationCapability>,
    /// Task support (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<JsonObject>,
    /// Negotiated extensions (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
}

impl ClientCapabilities {
    /// Form-mode elicitation: declared as `elicitation: {}` (form only, the original shape) or
    /// with an explicit `form` member.
    ///
    /// ```
    /// # use mcp_core::protocol::ClientCapabilities;
    /// let caps: ClientCapabilities = serde_json::from_str(r#"{"elicitation":{"url":{}}}"#).unwrap();
    /// assert!(!caps.supports_form_elicitation());
    /// assert!(caps.supports_url_elicitation());
    /// ```
    pub fn supports_form_elicitation(&self) -> bool {
        self.elicitation
            .as_ref()
            .is_some_and(|e| e.form.is_some() || e.url.is_none())
    }

    /// URL-mode elicitation (2025-11-25 and later).
    ///
    /// ```
    /// # use mcp_core::protocol::ClientCapabilities;
    /// assert!(!ClientCapabilities::default().supports_url_elicitation());
    /// ```
    pub fn supports_url_elicitation(&self) -> bool {
        self.elicitation.as_ref().is_some_and(|e| e.url.is_some())
    }
}

/// `capabilities.roots`.
///
/// ```
/// # use mcp_core::protocol::RootsCapability;
/// let r: RootsCapability = serde_json::from_str(r#"{"listChanged":true}"#).unwrap();
/// assert_eq!(r.list_changed, Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RootsCapability {
    /// The client notifies when its roots change (handshake era).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// `capabilities.sampling`.
///
/// ```
/// # use mcp_core::protocol::SamplingCapability;
/// let s: SamplingCapability = serde_json::from_str(r#"{"tools":{}}"#).unwrap();
/// assert!(s.tools.is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplingCapability {
    /// The client honours `includeContext`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<JsonObject>,
    /// The client supports tool use in sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<JsonObject>,
}

/// `capabilities.elicitation`.
///
/// ```
/// # use mcp_core::protocol::ElicitationCapability;
/// let e: ElicitationCapability = serde_json::from_str(r#"{"form":{},"url":{}}"#).unwrap();
/// assert!(e.form.is_some() && e.url.is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCapability {
    /// Form mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<JsonObject>,
    /// URL mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<JsonObject>,
}

/// What the server offers. The runtime derives it from what is registered on the router.
///
/// ```
/// use mcp_core::protocol::{ServerCapabilities, ListChangedCapability};
/// let caps = ServerCapabilities {
///     tools: Some(ListChangedCapability { list_changed: Some(true) }),
///     ..Default::default()
/// };
/// assert_eq!(serde_json::to_string(&caps).unwrap(), r#"{"tools":{"listChanged":true}}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerCapabilities {
    /// Non-standard capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experimental: Option<JsonObject>,
    /// The server emits log messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<JsonObject>,
    /// The server answers `completion/complete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completions: Option<JsonObject>,
    /// The server has prompts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompts: Option<ListChangedCapability>,
    /// The server has resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesCapability>,
    /// The server has tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<ListChangedCapability>,
    /// Task support (2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<JsonObject>,
    /// Extensions (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<JsonObject>,
}

/// A capability whose only option is `listChanged`.
///
/// ```
/// # use mcp_core::protocol::ListChangedCapability;
/// assert_eq!(serde_json::to_string(&ListChangedCapability::default()).unwrap(), "{}");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListChangedCapability {
    /// The server notifies when the list changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}

/// `capabilities.resources`.
///
/// ```
/// # use mcp_core::protocol::ResourcesCapability;
/// let r = ResourcesCapability { subscribe: Some(true), list_changed: None };
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"subscribe":true}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesCapability {
    /// The server supports `resources/subscribe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<bool>,
    /// The server notifies when the list changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_changed: Option<bool>,
}
