//! Per-request settings.

use std::time::Duration;

use mcp_core::identity::Identity;
use mcp_core::protocol::{ClientCapabilities, JsonObject, LoggingLevel, ProgressToken};
use serde_json::Value;

/// Settings for one request: a progress token, a log level, capabilities, the caller's
/// identity, extra `_meta`, a timeout. Start from [`RequestOptions::new`] and chain.
///
/// ```
/// use std::time::Duration;
/// use mcp_core::protocol::{LoggingLevel, ProgressToken};
/// use mcp_testing::RequestOptions;
///
/// let opts = RequestOptions::new()
///     .progress_token(ProgressToken::String("job-1".into()))
///     .log_level(LoggingLevel::Info)
///     .timeout(Duration::from_secs(2));
/// # let _ = opts;
/// ```
#[derive(Debug, Clone)]
pub struct RequestOptions {
    pub(crate) progress_token: Option<ProgressToken>,
    pub(crate) log_level: Option<LoggingLevel>,
    pub(crate) capabilities: Option<ClientCapabilities>,
    pub(crate) meta: JsonObject,
    pub(crate) timeout: Option<Duration>,
    pub(crate) follow_input_required: bool,
    pub(crate) identity: Option<Identity>,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            progress_token: None,
            log_level: None,
            capabilities: None,
            meta: JsonObject::new(),
            timeout: None,
            follow_input_required: true,
            identity: None,
        }
    }
}

impl RequestOptions {
    /// The defaults: no progress token, the client's log level and capabilities, the client's
    /// timeout, and `input_required` results answered automatically.
    ///
    /// See [`RequestOptions`] for an example.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for progress notifications: puts `token` in `params._meta.progressToken`. Both
    /// eras.
    ///
    /// See [`TestClient::call_tool_with`](crate::TestClient::call_tool_with) for an example.
    pub fn progress_token(mut self, token: ProgressToken) -> Self {
        self.progress_token = Some(token);
        self
    }

    /// The least severe log level to receive for this request, sent as the envelope's
    /// `logLevel` (2026-07-28 only; handshake-era sessions filter with `logging/setLevel`, see
    /// [`TestClient::set_log_level`](crate::TestClient::set_log_level)).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::{ClientCapabilities, LoggingLevel};
    /// use mcp_core::{Context, Router};
    /// use mcp_testing::{Era, RequestOptions, TestClient};
    ///
    /// async fn work(ctx: Context) -> String {
    ///     ctx.log_info("working").await;
    ///     format!("sampling: {}", ctx.client_capabilities().sampling.is_some())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::builder(Router::new().tool_fn("work", work)).era(Era::Modern).connect().await?;
    /// let opts = RequestOptions::new()
    ///     .log_level(LoggingLevel::Info)
    ///     .capabilities(ClientCapabilities::default())
    ///     .timeout(std::time::Duration::from_secs(5));
    /// client.call_with("work", (), opts).await.expect_text("sampling: false");
    /// assert_eq!(client.logs().len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn log_level(mut self, level: LoggingLevel) -> Self {
        self.log_level = Some(level);
        self
    }

    /// The capabilities this one request declares, instead of the client's (2026-07-28 only;
    /// handshake-era capabilities are fixed by `initialize`).
    ///
    /// See [`RequestOptions::log_level`] for an example.
    pub fn capabilities(mut self, capabilities: ClientCapabilities) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// Adds a `params._meta` entry. Entries set here win over the envelope the client adds,
    /// so a test can send, say, a wrong protocol version.
    ///
    /// See [`TestClient::request_with`](crate::TestClient::request_with) for an example.
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.meta.insert(key.into(), value.into());
        self
    }

    /// How long to wait for the response (all `input_required` rounds together).
    ///
    /// See [`RequestOptions::log_level`] for an example.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends this request as `identity`, as if an authentication layer had established it,
    /// instead of the client's default ([`TestClientBuilder::identity`](crate::TestClientBuilder::identity)).
    /// Both eras; every `input_required` retry carries it too.
    ///
    /// ```
    /// use mcp_core::identity::Identity;
    /// let opts = mcp_testing::RequestOptions::new()
    ///     .identity(Identity::new("alice").with_scopes(["db.write"]));
    /// # let _ = opts;
    /// ```
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Whether to answer a 2026-07-28 `input_required` result with the scripted responders
    /// and retry (the default), or to return it as it is.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::ElicitRequest;
    /// use mcp_core::{Context, Router, ToolError};
    /// use mcp_testing::{reply, Era, RequestOptions, TestClient};
    /// use serde_json::json;
    ///
    /// async fn ask(ctx: Context) -> Result<String, ToolError> {
    ///     let answer = ctx.elicit("name", ElicitRequest::form("Name?", json!({"type": "object"}))).await?;
    ///     Ok(format!("{:?}", answer.action))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::builder(Router::new().tool_fn("ask", ask))
    ///     .era(Era::Modern)
    ///     .on_elicit(|_| reply::decline())
    ///     .connect()
    ///     .await?;
    /// let opts = RequestOptions::new().follow_input_required(false);
    /// let params = json!({"name": "ask", "arguments": {}});
    /// let raw = client.request_with("tools/call", params, opts).await?;
    /// assert_eq!(raw["resultType"], "input_required");
    /// assert!(raw["inputRequests"].get("name").is_some());
    /// # Ok(()) }
    /// ```
    pub fn follow_input_required(mut self, follow: bool) -> Self {
        self.follow_input_required = follow;
        self
    }
}
