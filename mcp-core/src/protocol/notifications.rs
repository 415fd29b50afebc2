use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::JsonObject;
use crate::jsonrpc::RequestId;

/// Syslog severities, least severe first, so `level >= threshold` filters.
///
/// ```
/// use mcp_core::protocol::LoggingLevel;
/// assert!(LoggingLevel::Error > LoggingLevel::Info);
/// let l: LoggingLevel = serde_json::from_str("\"warning\"").unwrap();
/// assert_eq!(l, LoggingLevel::Warning);
/// assert!(serde_json::from_str::<LoggingLevel>("\"verbose\"").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoggingLevel {
    /// Debugging detail.
    Debug,
    /// Informational.
    Info,
    /// Normal but significant.
    Notice,
    /// Warning.
    Warning,
    /// Error.
    Error,
    /// Critical.
    Critical,
    /// Act immediately.
    Alert,
    /// Unusable.
    Emergency,
}

/// `logging/setLevel` parameters (handshake era).
///
/// ```
/// # use mcp_core::protocol::{LoggingLevel, SetLevelParams};
/// let p: SetLevelParams = serde_json::from_str(r#"{"level":"debug"}"#).unwrap();
/// assert_eq!(p.level, LoggingLevel::Debug);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetLevelParams {
    /// The least severe level to send.
    pub level: LoggingLevel,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `notifications/message` parameters.
///
/// ```
/// # use mcp_core::protocol::{LoggingLevel, LoggingMessageParams};
/// let p = LoggingMessageParams { level: LoggingLevel::Info, logger: None, data: "hi".into(), meta: None };
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"level":"info","data":"hi"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggingMessageParams {
    /// Severity.
    pub level: LoggingLevel,
    /// Which component logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// Any JSON.
    pub data: Value,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// A progress token: what a request put in `_meta.progressToken`.
///
/// ```
/// # use mcp_core::protocol::ProgressToken;
/// let t: ProgressToken = serde_json::from_str("7").unwrap();
/// assert_eq!(t, ProgressToken::Number(7));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProgressToken {
    /// An integer token.
    Number(i64),
    /// A string token.
    String(String),
}

/// `notifications/progress` parameters.
///
/// ```
/// # use mcp_core::protocol::{ProgressParams, ProgressToken};
/// let p = ProgressParams { progress_token: ProgressToken::Number(1), progress: 50.0, total: Some(100.0), message: None, meta: None };
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"progressToken":1,"progress":50.0,"total":100.0}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressParams {
    /// The request's token.
    pub progress_token: ProgressToken,
    /// Progress so far; increases with every notification.
    pub progress: f64,
    /// The total, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// What is happening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `notifications/cancelled` parameters.
///
/// ```
/// # use mcp_core::protocol::CancelledParams;
/// let p: CancelledParams = serde_json::from_str(r#"{"requestId":3,"reason":"user"}"#).unwrap();
/// assert_eq!(p.request_id, Some(3.into()));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelledParams {
    /// The request to cancel (absent for task cancellation in 2025-11-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `notifications/resources/updated` parameters.
///
/// ```
/// # use mcp_core::protocol::ResourceUpdatedParams;
/// let p = ResourceUpdatedParams { uri: "test://watched-resource".into(), meta: None };
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"uri":"test://watched-resource"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceUpdatedParams {
    /// The resource that changed.
    pub uri: String,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// Which notifications a `subscriptions/listen` stream wants (2026-07-28).
///
/// ```
/// # use mcp_core::protocol::SubscriptionFilter;
/// let f: SubscriptionFilter = serde_json::from_str(r#"{"toolsListChanged":true}"#).unwrap();
/// assert!(f.tools_list_changed);
/// assert!(!f.prompts_list_changed);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    /// `notifications/tools/list_changed`.
    #[serde(default, skip_serializing_if = "super::is_false")]
    pub tools_list_changed: bool,
    /// `notifications/prompts/list_changed`.
    #[serde(default, skip_serializing_if = "super::is_false")]
    pub prompts_list_changed: bool,
    /// `notifications/resources/list_changed`.
    #[serde(default, skip_serializing_if = "super::is_false")]
    pub resources_list_changed: bool,
    /// `notifications/resources/updated` for these URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_subscriptions: Option<Vec<String>>,
}

/// `subscriptions/listen` parameters (2026-07-28).
///
/// ```
/// # use mcp_core::protocol::ListenParams;
/// let p: ListenParams = serde_json::from_str(r#"{"notifications":{"promptsListChanged":true}}"#).unwrap();
/// assert!(p.notifications.prompts_list_changed);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListenParams {
    /// What to deliver.
    pub notifications: SubscriptionFilter,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// Parameters of a notification that carries nothing but metadata: `notifications/initialized`
/// and the `notifications/{tools,prompts,resources,roots}/list_changed` family.
///
/// On a 2026-07-28 `subscriptions/listen` stream the `_meta` names the subscription the
/// notification belongs to ([`meta::SUBSCRIPTION_ID`](super::meta::SUBSCRIPTION_ID)).
///
/// ```
/// use mcp_core::protocol::{meta, NotificationParams};
/// let p: NotificationParams = serde_json::from_str(
///     r#"{"_meta":{"io.modelcontextprotocol/subscriptionId":"listen-1"}}"#,
/// ).unwrap();
/// assert_eq!(p.meta.unwrap()[meta::SUBSCRIPTION_ID], "listen-1");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationParams {
    /// Notification metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<JsonObject>,
}

/// `notifications/subscriptions/acknowledged` parameters (2026-07-28): the subset of the
/// requested notifications the server agreed to deliver, with the subscription id in `_meta`.
///
/// It has the same members as [`ListenParams`]: `notifications` and `_meta`.
///
/// ```
/// use mcp_core::protocol::SubscriptionsAcknowledgedParams;
/// let p: SubscriptionsAcknowledgedParams = serde_json::from_str(
///     r#"{"_meta":{"io.modelcontextprotocol/subscriptionId":"listen-1"},"notifications":{"toolsListChanged":true}}"#,
/// ).unwrap();
/// assert!(p.notifications.tools_list_changed);
/// ```
pub type SubscriptionsAcknowledgedParams = ListenParams;
