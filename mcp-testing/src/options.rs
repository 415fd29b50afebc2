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
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for progress notifications: puts `token` in `params._meta.progressToken`. Both
    /// eras.
    pub fn progress_token(mut self, token: ProgressToken) -> Self {
        self.progress_token = Some(token);
        self
    }

    /// The least severe log level to receive for this request, sent as the envelope's
    /// `logLevel` (2026-07-28 only; handshake-era sessions filter with `logging/setLevel`, see
    /// [`TestClient::set_log_level`](crate::TestClient::set_log_level)).
    pub fn log_level(mut self, level: LoggingLevel) -> Self {
        self.log_level = Some(level);
        self
    }

    /// The capabilities this one request declares, instead of the client's (2026-07-28 only;
    /// handshake-era capabilities are fixed by `initialize`).
    pub fn capabilities(mut self, capabilities: ClientCapabilities) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// Adds a `params._meta` entry. Entries set here win over the envelope the client adds,
    /// so a test can send, say, a wrong protocol version.
    pub fn meta(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.meta.insert(key.into(), value.into());
        self
    }

    /// How long to wait for the response (all `input_required` rounds together).
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
    pub fn follow_input_required(mut self, follow: bool) -> Self {
        self.follow_input_required = follow;
        self
    }
}
