use serde::{Deserialize, Serialize};

use super::{ClientCapabilities, Icon, JsonObject, ServerCapabilities};

/// A client's or server's name and version.
///
/// ```
/// use mcp_core::protocol::Implementation;
/// let me = Implementation::new("my-server", "1.2.3");
/// assert_eq!(serde_json::to_string(&me).unwrap(), r#"{"name":"my-server","version":"1.2.3"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// Programmatic name.
    pub name: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Version string.
    pub version: String,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Icons (2025-11-25 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icons: Option<Vec<Icon>>,
    /// Home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
}

impl Implementation {
    /// A name and a version, nothing else.
    ///
    /// ```
    /// # use mcp_core::protocol::Implementation;
    /// assert_eq!(Implementation::new("a", "1").version, "1");
    /// ```
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            ..Default::default()
        }
    }
}

/// `initialize` parameters (handshake era).
///
/// ```
/// use mcp_core::protocol::InitializeParams;
/// let p: InitializeParams = serde_json::from_str(
///     r#"{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"0"}}"#,
/// ).unwrap();
/// assert_eq!(p.protocol_version, "2025-11-25");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeParams {
    /// The version the client asks for; any string (we answer with one we serve).
    pub protocol_version: String,
    /// What the client can do.
    #[serde(default)]
    pub capabilities: ClientCapabilities,
    /// Who the client is.
    pub client_info: Implementation,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `initialize` result (handshake era).
///
/// ```
/// use mcp_core::protocol::{Implementation, InitializeResult, ProtocolVersion, ServerCapabilities};
/// let r = InitializeResult {
///     protocol_version: ProtocolVersion::V2025_11_25,
///     capabilities: ServerCapabilities::default(),
///     server_info: Implementation::new("s", "1"),
///     instructions: None,
///     meta: None,
/// };
/// assert!(serde_json::to_string(&r).unwrap().contains("\"protocolVersion\":\"2025-11-25\""));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitializeResult {
    /// The version this session speaks.
    pub protocol_version: super::ProtocolVersion,
    /// What the server offers.
    pub capabilities: ServerCapabilities,
    /// Who the server is.
    pub server_info: Implementation,
    /// How to use this server, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `server/discover` result (2026-07-28). Cache hints and `resultType` are added by the runtime.
///
/// ```
/// use mcp_core::protocol::{DiscoverResult, ServerCapabilities};
/// let d = DiscoverResult {
///     supported_versions: vec!["2026-07-28".into()],
///     capabilities: ServerCapabilities::default(),
///     instructions: None,
/// };
/// assert!(serde_json::to_string(&d).unwrap().contains("supportedVersions"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverResult {
    /// Every modern version the server serves.
    pub supported_versions: Vec<String>,
    /// What the server offers.
    pub capabilities: ServerCapabilities,
    /// How to use this server, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// Parameters of a request that carries nothing but metadata: `ping`, `server/discover`,
/// `roots/list`.
///
/// In the handshake era `params` is usually absent altogether (or `{}`); in 2026-07-28 every
/// request carries the `_meta` envelope (`io.modelcontextprotocol/protocolVersion`,
/// `…/clientCapabilities`, …), which is all `server/discover` has.
///
/// ```
/// use mcp_core::protocol::{meta, RequestParams};
/// let p: RequestParams = serde_json::from_str(
///     r#"{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}"#,
/// ).unwrap();
/// assert_eq!(p.meta.as_ref().unwrap()[meta::PROTOCOL_VERSION], "2026-07-28");
/// assert_eq!(serde_json::to_string(&RequestParams::default()).unwrap(), "{}");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestParams {
    /// Request metadata: the 2026-07-28 envelope, `progressToken`, ….
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// A result with no content of its own: the answer to `ping`, `logging/setLevel`,
/// `resources/subscribe` and `resources/unsubscribe`, and the closing result of a
/// `subscriptions/listen` stream (whose `_meta` names the subscription).
///
/// ```
/// use mcp_core::protocol::EmptyResult;
/// let r: EmptyResult = serde_json::from_str("{}").unwrap();
/// assert!(r.meta.is_none());
/// assert_eq!(serde_json::to_string(&r).unwrap(), "{}");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmptyResult {
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}
