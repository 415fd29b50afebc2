//! The in-process client.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use mcp_core::context::{Outgoing, OutgoingKind, Sink};
use mcp_core::era::Era;
use mcp_core::identity::{Identity, RequestMeta};
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Message, Request, RequestId, ResponsePayload};
use mcp_core::protocol::{
    meta, CallToolResult, ClientCapabilities, CompleteResult, Completion, CompletionReference,
    CreateMessageParams, CreateMessageResult, ElicitRequest, ElicitResult, GetPromptResult,
    Implementation, InitializeResult, JsonObject, ListToolsResult, LoggingLevel,
    LoggingMessageParams, ProgressParams, Prompt, ProtocolVersion, ReadResourceResult, Resource,
    ResourceTemplate, Root, Tool,
};
use mcp_core::{Connection, Server};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::capture::{Capture, Held, NotificationStream, ServerRequest};
use crate::pages::Pages;
use crate::pending::PendingRequest;
use crate::responders::Responders;
use crate::{RequestOptions, TestError};

/// How long a request may take unless the builder or the request says otherwise.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use mcp_core::Router;
/// use mcp_testing::{TestClient, DEFAULT_TIMEOUT};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(10));
/// // A slow CI machine may need more.
/// let client = TestClient::builder(Router::new()).timeout(DEFAULT_TIMEOUT * 3).connect().await?;
/// # let _ = client;
/// # Ok(()) }
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times a 2026-07-28 request is retried after `input_required` before giving up.
///
/// # Examples
/// ```
/// use mcp_core::Router;
/// use mcp_testing::{Era, TestClient, DEFAULT_MAX_INPUT_ROUNDS};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// let client = TestClient::builder(Router::new())
///     .era(Era::Modern)
///     .max_input_rounds(DEFAULT_MAX_INPUT_ROUNDS * 2)
///     .connect()
///     .await?;
/// # let _ = client;
/// # Ok(()) }
/// ```
pub const DEFAULT_MAX_INPUT_ROUNDS: usize = 10;

/// The capacity of each request's channel.
const CHANNEL: usize = 64;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A sink whose receiver is gone, for messages that are never answered on it.
fn detached_sink() -> Sink {
    mpsc::channel(1).0
}

/// Deserializes a result, saying which method and what came back when it does not fit.
pub(crate) fn decode<T: DeserializeOwned>(method: &str, value: Value) -> Result<T, TestError> {
    serde_json::from_value(value.clone()).map_err(|e| TestError::UnexpectedResult {
        method: method.to_owned(),
        reason: format!(
            "it does not deserialize into {}: {e}; the result was {value}",
            std::any::type_name::<T>()
        ),
    })
}

fn encode(what: &str, value: impl Serialize) -> Result<Value, TestError> {
    serde_json::to_value(value)
        .map_err(|e| TestError::InvalidInput(format!("{what} does not serialize to JSON: {e}")))
}

/// The params of a server→client request (`null` when there are none).
fn request_params(request: &Request) -> Result<Value, TestError> {
    match &request.params {
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| {
            TestError::Protocol(format!("unreadable params of {} ({e})", request.method))
        }),
        None => Ok(Value::Null),
    }
}

/// What to send back for a scripted answer: the result, or an error the server can act on.
fn answer_or_error(answer: &Result<Value, TestError>) -> Result<Value, ErrorObject> {
    match answer {
        Ok(result) => Ok(result.clone()),
        Err(e) => {
            let code = match e {
                TestError::NoResponder { .. } => ErrorCode::METHOD_NOT_FOUND,
                _ => ErrorCode::INTERNAL_ERROR,
            };
            Err(ErrorObject::new(code, e.to_string()))
        }
    }
}

/// Feeds the client's response to a server→client request back into the connection.
pub(crate) fn respond(
    connection: &Arc<Connection>,
    id: &RequestId,
    method: &str,
    answer: Result<Value, ErrorObject>,
) -> Result<(), TestError> {
    let reply = match answer {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
    };
    let message = Message::from_value(reply)
        .map_err(|e| TestError::InvalidInput(format!("cannot answer {method}: {e}")))?;
    connection.receive(message, detached_sink());
    Ok(())
}

/// Reads what the server sends outside any request of the test: list changes and resource
/// updates are captured; questions from handshake-era tasks are answered by the responders,
/// or held for [`TaskHandle::update`](crate::TaskHandle::update) when none can answer.
async fn drain_unsolicited(
    mut rx: mpsc::Receiver<Outgoing>,
    capture: Arc<Capture>,
    responders: Arc<Responders>,
    connection: Weak<Connection>,
) {
    while let Some(out) = rx.recv().await {
        let request = match (out.kind, Message::parse(out.json.as_bytes())) {
            (OutgoingKind::Request, Ok(Message::Request(request))) => request,
            _ => {
                let value = serde_json::from_str(&out.json).unwrap_or(Value::String(out.json));
                capture.notification(value);
                continue;
            }
        };
        let params = request_params(&request).unwrap_or(Value::Null);
        capture.server_request(ServerRequest {
            method: request.method.clone(),
            params: params.clone(),
            key: None,
        });
        if !responders.can_answer(&request.method) {
            capture.hold(Held::new(request.id, request.method, params));
            continue;
        }
        let answer = responders.answer(&request.method, &params);
        let Some(connection) = connection.upgrade() else {
            return;
        };
        // Only a malformed message could fail here; the server then times the question out.
        let _ = respond(
            &connection,
            &request.id,
            &request.method,
            answer_or_error(&answer),
        );
    }
}

/// One request on the wire: its id and the channel its answer comes back on.
#[derive(Debug)]
pub(crate) struct Round {
    id: RequestId,
    rx: mpsc::Receiver<Outgoing>,
}

/// The client's state, shared with [`PendingRequest`]s.
pub(crate) struct Inner {
    pub(crate) connection: Arc<Connection>,
    era: Era,
    initialize: Option<InitializeResult>,
    capabilities: ClientCapabilities,
    client_info: Implementation,
    pub(crate) responders: Arc<Responders>,
    log_level: Mutex<Option<LoggingLevel>>,
    pub(crate) capture: Arc<Capture>,
    next_id: AtomicI64,
    pub(crate) timeout: Duration,
    max_rounds: usize,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClient")
            .field("era", &self.era)
            .field("capabilities", &self.capabilities)
            .field("responders", &self.responders)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.connection.close();
    }
}

impl Inner {
    fn next_id(&self) -> RequestId {
        RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn limit(&self, opts: &RequestOptions) -> Duration {
        opts.timeout.unwrap_or(self.timeout)
    }

    /// The params as sent: `_meta` extras, the progress token and, in 2026-07-28, the
    /// envelope. `None` means "no params member".
    pub(crate) fn params_for(
        &self,
        params: Value,
        opts: &RequestOptions,
    ) -> Result<Option<Value>, TestError> {
        let mut obj = match params {
            Value::Null => JsonObject::new(),
            Value::Object(m) => m,
            other => {
                return Err(TestError::InvalidInput(format!(
                    "request params must be a JSON object (or null for none), not {other}"
                )))
            }
        };
        let mut meta = match obj.remove("_meta") {
            None | Some(Value::Null) => JsonObject::new(),
            Some(Value::Object(m)) => m,
            Some(other) => {
                return Err(TestError::InvalidInput(format!(
                    "params._meta must be a JSON object, not {other}"
                )))
            }
        };
        for (key, value) in &opts.meta {
            meta.insert(key.clone(), value.clone());
        }
        if let Some(token) = &opts.progress_token {
            if !meta.contains_key(meta::PROGRESS_TOKEN) {
                meta.insert(
                    meta::PROGRESS_TOKEN.into(),
                    encode("the progress token", token)?,
                );
            }
        }
        if self.era.is_modern() {
            meta.entry(meta::PROTOCOL_VERSION)
                .or_insert_with(|| ProtocolVersion::V2026_07_28.as_str().into());
            if !meta.contains_key(meta::CLIENT_CAPABILITIES) {
                let caps = opts.capabilities.as_ref().unwrap_or(&self.capabilities);
                meta.insert(
                    meta::CLIENT_CAPABILITIES.into(),
                    encode("the client capabilities", caps)?,
                );
            }
            if !meta.contains_key(meta::CLIENT_INFO) {
                meta.insert(
                    meta::CLIENT_INFO.into(),
                    encode("the client info", &self.client_info)?,
                );
            }
            let level = opts.log_level.or(*lock(&self.log_level));
            if let (Some(level), false) = (level, meta.contains_key(meta::LOG_LEVEL)) {
                meta.insert(meta::LOG_LEVEL.into(), encode("the log level", level)?);
            }
        }
        if !meta.is_empty() {
            obj.insert("_meta".into(), Value::Object(meta));
        }
        Ok((self.era.is_modern() || !obj.is_empty()).then_some(Value::Object(obj)))
    }

    /// Sends one request with a fresh id, recording the id in `current`; `identity` stands in
    /// for what an authentication layer would have established.
    pub(crate) fn send(
        &self,
        method: &str,
        params: Option<&Value>,
        current: &Mutex<RequestId>,
        identity: Option<&Identity>,
    ) -> Result<Round, TestError> {
        let id = self.next_id();
        let mut wire = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if let Some(p) = params {
            wire["params"] = p.clone();
        }
        let message = Message::from_value(wire)
            .map_err(|e| TestError::InvalidInput(format!("cannot send {method}: {e}")))?;
        let (tx, rx) = mpsc::channel(CHANNEL);
        *lock(current) = id.clone();
        match identity {
            Some(who) => self.connection.receive_with(
                message,
                tx,
                RequestMeta::default().with_identity(who.clone()),
            ),
            None => self.connection.receive(message, tx),
        }
        Ok(Round { id, rx })
    }

    /// Sends a notification.
    pub(crate) fn notify(&self, method: &str, params: Option<Value>) -> Result<(), TestError> {
        let mut wire = json!({"jsonrpc": "2.0", "method": method});
        if let Some(p) = params {
            wire["params"] = p;
        }
        let message = Message::from_value(wire)
            .map_err(|e| TestError::InvalidInput(format!("cannot send {method}: {e}")))?;
        self.connection.receive(message, detached_sink());
        Ok(())
    }

    /// Reads one request's messages until its response: notifications are captured, the
    /// server's own requests answered by the responders.
    pub(crate) async fn drain(
        &self,
        method: &str,
        round: Round,
        deadline: Instant,
        limit: Duration,
    ) -> Result<Value, TestError> {
        let Round { id, mut rx } = round;
        // A question no responder could answer: reported once the server gives up on it.
        let mut failure: Option<TestError> = None;
        loop {
            let out = match tokio::time::timeout_at(deadline, rx.recv()).await {
                Err(_) => {
                    return Err(TestError::Timeout {
                        method: method.to_owned(),
                        after: limit,
                    })
                }
                Ok(None) => {
                    return Err(failure.unwrap_or_else(|| TestError::NoResponse {
                        method: method.to_owned(),
                    }))
                }
                Ok(Some(out)) => out,
            };
            let message = Message::parse(out.json.as_bytes()).map_err(|e| {
                TestError::Protocol(format!(
                    "the server sent an invalid JSON-RPC message ({e}): {}",
                    out.json
                ))
            })?;
            match (out.kind, message) {
                (OutgoingKind::Notification, Message::Notification(_)) => {
                    let value = serde_json::from_str(&out.json).map_err(|e| {
                        TestError::Protocol(format!("unreadable notification ({e}): {}", out.json))
                    })?;
                    self.capture.notification(value);
                }
                (OutgoingKind::Request, Message::Request(request)) => {
                    if let Err(e) = self.answer_server_request(request) {
                        failure.get_or_insert(e);
                    }
                }
                (OutgoingKind::Response, Message::Response(response)) => {
                    if response.id.as_ref() != Some(&id) {
                        return Err(TestError::Protocol(format!(
                            "the response to request {id} carries another id: {}",
                            out.json
                        )));
                    }
                    if let Some(e) = failure {
                        return Err(e);
                    }
                    return match response.payload {
                        ResponsePayload::Result(raw) => {
                            serde_json::from_str(raw.get()).map_err(|e| {
                                TestError::Protocol(format!(
                                    "unreadable result ({e}): {}",
                                    out.json
                                ))
                            })
                        }
                        ResponsePayload::Error(e) => Err(TestError::Rpc(e)),
                    };
                }
                (kind, _) => {
                    return Err(TestError::Protocol(format!(
                        "the server labelled this message {kind:?}, but it is not one: {}",
                        out.json
                    )))
                }
            }
        }
    }

    /// Answers a handshake-era server→client request by feeding the response back into the
    /// connection. A question the test did not script is answered with an error (so the
    /// server does not wait for its own timeout) and reported.
    fn answer_server_request(&self, request: Request) -> Result<(), TestError> {
        let params = request_params(&request)?;
        self.capture.server_request(ServerRequest {
            method: request.method.clone(),
            params: params.clone(),
            key: None,
        });
        let answer = self.responders.answer(&request.method, &params);
        let sent = respond(
            &self.connection,
            &request.id,
            &request.method,
            answer_or_error(&answer),
        );
        answer.and(sent)
    }

    /// Answers every entry of an `input_required` result.
    fn answer_input_requests(&self, result: &Value) -> Result<JsonObject, TestError> {
        let mut responses = JsonObject::new();
        let Some(requests) = result.get("inputRequests") else {
            return Ok(responses);
        };
        let requests = requests.as_object().ok_or_else(|| {
            TestError::Protocol(format!("inputRequests must be an object: {result}"))
        })?;
        for (key, entry) in requests {
            let method = entry.get("method").and_then(Value::as_str).ok_or_else(|| {
                TestError::Protocol(format!("inputRequests[{key:?}] has no method: {entry}"))
            })?;
            let params = entry.get("params").cloned().unwrap_or(Value::Null);
            self.capture.server_request(ServerRequest {
                method: method.to_owned(),
                params: params.clone(),
                key: Some(key.clone()),
            });
            responses.insert(key.clone(), self.responders.answer(method, &params)?);
        }
        Ok(responses)
    }

    /// Drains `first`, then, in 2026-07-28, answers `input_required` results and retries with
    /// a new id until a final answer.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run(
        &self,
        method: &str,
        params: Option<Value>,
        opts: &RequestOptions,
        first: Round,
        current: &Mutex<RequestId>,
        deadline: Instant,
        limit: Duration,
    ) -> Result<Value, TestError> {
        let mut round = first;
        let mut retries = 0;
        loop {
            let value = self.drain(method, round, deadline, limit).await?;
            let needs_input = self.era.is_modern()
                && opts.follow_input_required
                && value.get("resultType").and_then(Value::as_str) == Some("input_required");
            if !needs_input {
                return Ok(value);
            }
            if retries >= self.max_rounds {
                return Err(TestError::TooManyRounds {
                    method: method.to_owned(),
                    rounds: retries,
                });
            }
            retries += 1;
            let responses = self.answer_input_requests(&value)?;
            let mut next = match &params {
                Some(Value::Object(m)) => m.clone(),
                _ => JsonObject::new(),
            };
            next.insert("inputResponses".into(), Value::Object(responses));
            match value.get("requestState") {
                Some(state) => next.insert("requestState".into(), state.clone()),
                None => next.remove("requestState"),
            };
            round = self.send(
                method,
                Some(&Value::Object(next)),
                current,
                opts.identity.as_ref(),
            )?;
        }
    }

    async fn request(
        &self,
        method: &str,
        params: Value,
        opts: &RequestOptions,
    ) -> Result<Value, TestError> {
        let limit = self.limit(opts);
        let deadline = Instant::now() + limit;
        let params = self.params_for(params, opts)?;
        let current = Mutex::new(RequestId::Number(0));
        let first = self.send(method, params.as_ref(), &current, opts.identity.as_ref())?;
        self.run(method, params, opts, first, &current, deadline, limit)
            .await
    }

    async fn request_raw(&self, method: &str, params: Value) -> Result<Value, TestError> {
        let limit = self.timeout;
        let deadline = Instant::now() + limit;
        let params = (!params.is_null()).then_some(params);
        let round = self.send(
            method,
            params.as_ref(),
            &Mutex::new(RequestId::Number(0)),
            None,
        )?;
        self.drain(method, round, deadline, limit).await
    }
}

/// Configures a [`TestClient`]: the era, capabilities, scripted responders, timeouts.
///
/// Capabilities default to what the responders can answer — `elicitation` (form and URL) with
/// [`on_elicit`](Self::on_elicit), `sampling` with [`on_sample`](Self::on_sample), `roots` with
/// [`roots`](Self::roots) — unless set with [`capabilities`](Self::capabilities).
///
/// ```
/// use mcp_core::Router;
/// use mcp_testing::{reply, Era, TestClient};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// let client = TestClient::builder(Router::new())
///     .era(Era::Modern)
///     .on_elicit(|_request| reply::accept(serde_json::json!({"name": "Ada"})))
///     .on_sample(|_params| reply::sampled("Paris"))
///     .roots(vec![reply::root("file:///src", "sources")])
///     .connect()
///     .await?;
/// assert!(client.era().is_modern());
/// # Ok(()) }
/// ```
pub struct TestClientBuilder {
    server: Server,
    era: Era,
    capabilities: Option<ClientCapabilities>,
    client_info: Implementation,
    responders: Responders,
    log_level: Option<LoggingLevel>,
    timeout: Duration,
    max_rounds: usize,
    identity: Option<Identity>,
}

impl std::fmt::Debug for TestClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClientBuilder")
            .field("era", &self.era)
            .field("capabilities", &self.capabilities)
            .field("responders", &self.responders)
            .field("timeout", &self.timeout)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl TestClientBuilder {
    /// The protocol era: `Era::Handshake(version)` runs `initialize` at that version (the
    /// default is 2025-11-25); `Era::Modern` sends the 2026-07-28 envelope on every request.
    ///
    /// See [`TestClientBuilder`] for an example.
    pub fn era(mut self, era: Era) -> Self {
        self.era = era;
        self
    }

    /// The capabilities to declare, instead of the ones derived from the responders.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::{ClientCapabilities, Implementation};
    /// use mcp_core::Router;
    /// use mcp_testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// // A client that declares nothing, whatever responders it has.
    /// let client = TestClient::builder(Router::new())
    ///     .capabilities(ClientCapabilities::default())
    ///     .client_info(Implementation::new("my-ide", "2.1.0"))
    ///     .connect()
    ///     .await?;
    /// assert!(client.capabilities().sampling.is_none());
    /// # Ok(()) }
    /// ```
    pub fn capabilities(mut self, capabilities: ClientCapabilities) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// The `clientInfo` to send (default: `mcp-testing` and this crate's version).
    ///
    /// See [`TestClientBuilder::capabilities`] for an example.
    pub fn client_info(mut self, info: Implementation) -> Self {
        self.client_info = info;
        self
    }

    /// Answers `elicitation/create` with `responder`, in both eras.
    ///
    /// See [`TestClientBuilder`] and the [crate-level example](crate) for an example.
    pub fn on_elicit<F>(mut self, responder: F) -> Self
    where
        F: Fn(ElicitRequest) -> ElicitResult + Send + Sync + 'static,
    {
        self.responders.elicit = Some(Arc::new(responder));
        self
    }

    /// Answers `sampling/createMessage` with `responder`, in both eras.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::{CreateMessageParams, SamplingMessage};
    /// use mcp_core::{Context, Router, ToolError};
    /// use mcp_testing::{reply, TestClient, ERAS};
    ///
    /// async fn capital(ctx: Context) -> Result<String, ToolError> {
    ///     let params = CreateMessageParams::new(vec![SamplingMessage::user("Capital of France?")], 50);
    ///     Ok(ctx.sample("capital", params).await?.text().unwrap_or_default().to_owned())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// for era in ERAS {
    ///     let client = TestClient::builder(Router::new().tool_fn("capital", capital))
    ///         .era(era)
    ///         .on_sample(|_params| reply::sampled("Paris"))
    ///         .connect()
    ///         .await?;
    ///     client.call("capital", ()).await.expect_text("Paris");
    ///     assert_eq!(client.server_requests()[0].method, "sampling/createMessage");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn on_sample<F>(mut self, responder: F) -> Self
    where
        F: Fn(CreateMessageParams) -> CreateMessageResult + Send + Sync + 'static,
    {
        self.responders.sample = Some(Arc::new(responder));
        self
    }

    /// Answers `roots/list` with these roots, in both eras.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Context, Router, ToolError};
    /// use mcp_testing::{reply, TestClient};
    ///
    /// async fn roots(ctx: Context) -> Result<String, ToolError> {
    ///     Ok(ctx.list_roots("roots").await?.roots.into_iter().map(|r| r.uri).collect::<Vec<_>>().join(","))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::builder(Router::new().tool_fn("roots", roots))
    ///     .roots(vec![reply::root("file:///src", "sources")])
    ///     .connect()
    ///     .await?;
    /// client.call("roots", ()).await.expect_text("file:///src");
    /// // Later the user opens another folder:
    /// client.set_roots(vec![reply::root("file:///src", "sources"), reply::root("file:///docs", "docs")])?;
    /// client.call("roots", ()).await.expect_text("file:///src,file:///docs");
    /// # Ok(()) }
    /// ```
    pub fn roots(self, roots: Vec<Root>) -> Self {
        *lock(&self.responders.roots) = Some(roots);
        self
    }

    /// The least severe log level to receive: `logging/setLevel` after the handshake, or the
    /// envelope's `logLevel` on every 2026-07-28 request. Without it a handshake-era session
    /// receives every level and a 2026-07-28 request none.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::LoggingLevel;
    /// use mcp_core::{Context, Router};
    /// use mcp_testing::{Era, TestClient};
    ///
    /// async fn work(ctx: Context) -> &'static str {
    ///     ctx.log(LoggingLevel::Debug, None, "details").await;
    ///     ctx.log(LoggingLevel::Warning, None, "careful").await;
    ///     "done"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::builder(Router::new().tool_fn("work", work))
    ///     .era(Era::Modern)
    ///     .log_level(LoggingLevel::Warning)
    ///     .connect()
    ///     .await?;
    /// client.call_tool("work", ()).await?;
    /// let logs = client.logs();
    /// assert_eq!(logs.len(), 1);
    /// assert_eq!(logs[0].data, "careful");
    /// # Ok(()) }
    /// ```
    pub fn log_level(mut self, level: LoggingLevel) -> Self {
        self.log_level = Some(level);
        self
    }

    /// How long any one request may take (default [`DEFAULT_TIMEOUT`]).
    ///
    /// See [`DEFAULT_TIMEOUT`] for an example.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Makes every request as `identity`, as if an authentication layer had established it
    /// (through [`Connection::set_default_identity`]), so per-tool scopes can be tested without
    /// tokens. Without it requests are anonymous. [`RequestOptions::identity`] overrides it for
    /// one request, [`TestClient::set_identity`] for the rest of the connection.
    ///
    /// ```
    /// use mcp_core::identity::Identity;
    /// use mcp_core::jsonrpc::ErrorCode;
    /// use mcp_core::{Router, ToolDef};
    /// use mcp_testing::TestClient;
    ///
    /// async fn drop_table() -> &'static str { "dropped" }
    /// fn router() -> Router {
    ///     Router::new().tool(ToolDef::new("drop_table", drop_table).scopes(["db.admin"]))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let admin = Identity::new("alice").with_scopes(["db.admin"]);
    /// let client = TestClient::builder(router()).identity(admin).connect().await?;
    /// client.call("drop_table", ()).await.expect_text("dropped");
    ///
    /// let client = TestClient::builder(router()).identity(Identity::new("bob")).connect().await?;
    /// client.call("drop_table", ()).await.expect_error_code(ErrorCode::FORBIDDEN);
    /// # Ok(()) }
    /// ```
    pub fn identity(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// How many `input_required` retries one 2026-07-28 request may take (default
    /// [`DEFAULT_MAX_INPUT_ROUNDS`]).
    ///
    /// See [`DEFAULT_MAX_INPUT_ROUNDS`] for an example.
    pub fn max_input_rounds(mut self, rounds: usize) -> Self {
        self.max_rounds = rounds;
        self
    }

    /// Opens the connection; in the handshake era also runs `initialize` and sends
    /// `notifications/initialized`.
    ///
    /// Must be called inside a Tokio runtime.
    ///
    /// See [`TestClientBuilder`] for an example.
    pub async fn connect(self) -> Result<TestClient, TestError> {
        let (unsolicited, rx) = mpsc::channel::<Outgoing>(CHANNEL);
        let connection = Connection::new(&self.server, unsolicited);
        if let Some(identity) = self.identity {
            connection.set_default_identity(Some(identity));
        }
        let capture = Arc::new(Capture::default());
        let responders = Arc::new(self.responders);
        tokio::spawn(drain_unsolicited(
            rx,
            capture.clone(),
            responders.clone(),
            Arc::downgrade(&connection),
        ));
        let era = match self.era {
            Era::Handshake(v) if v.is_modern() => Era::Modern,
            era => era,
        };
        let capabilities = self
            .capabilities
            .unwrap_or_else(|| responders.capabilities());
        let mut inner = Inner {
            connection,
            era,
            initialize: None,
            capabilities,
            client_info: self.client_info,
            responders,
            log_level: Mutex::new(self.log_level),
            capture,
            next_id: AtomicI64::new(0),
            timeout: self.timeout,
            max_rounds: self.max_rounds,
        };
        if let Era::Handshake(version) = era {
            let params = json!({
                "protocolVersion": version.as_str(),
                "capabilities": encode("the client capabilities", &inner.capabilities)?,
                "clientInfo": encode("the client info", &inner.client_info)?,
            });
            let result: InitializeResult =
                decode("initialize", inner.request_raw("initialize", params).await?)?;
            inner.era = Era::Handshake(result.protocol_version);
            inner.initialize = Some(result);
            inner.notify("notifications/initialized", None)?;
            if let Some(level) = self.log_level {
                inner
                    .request_raw("logging/setLevel", json!({ "level": level }))
                    .await?;
            }
        }
        Ok(TestClient {
            inner: Arc::new(inner),
        })
    }
}

/// An in-process MCP client for tests: it talks to a [`Server`] through a [`Connection`],
/// with no sockets and no processes, in either protocol era.
///
/// It captures every notification, answers the server's questions (elicitation, sampling,
/// roots) with scripted responders — as server→client requests in the handshake era and as
/// `input_required` retries in 2026-07-28 — and gives up on any request after a timeout, so a
/// buggy server fails a test instead of hanging it. Cheap to clone; clones share the
/// connection and the captured notifications.
///
/// ```
/// use mcp_core::{Args, Router, ToolDef};
/// use mcp_testing::TestClient;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Echo { text: String }
/// async fn echo(Args(e): Args<Echo>) -> String { e.text }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// let client = TestClient::new(Router::new().tool(ToolDef::new("echo", echo))).await?;
/// let result = client.call_tool("echo", serde_json::json!({"text": "hi"})).await?;
/// assert_eq!(result.content[0].as_text(), Some("hi"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TestClient {
    pub(crate) inner: Arc<Inner>,
}

impl TestClient {
    /// A handshake-era client (2025-11-25, `initialize` done) with no responders.
    ///
    /// See [`TestClient`] for an example.
    pub async fn new(server: impl Into<Server>) -> Result<TestClient, TestError> {
        Self::builder(server).connect().await
    }

    /// A builder, for the era, capabilities and responders.
    ///
    /// See [`TestClientBuilder`] for an example.
    pub fn builder(server: impl Into<Server>) -> TestClientBuilder {
        TestClientBuilder {
            server: server.into(),
            era: Era::Handshake(ProtocolVersion::LATEST_HANDSHAKE),
            capabilities: None,
            client_info: Implementation::new("mcp-testing", env!("CARGO_PKG_VERSION")),
            responders: Responders::default(),
            log_level: None,
            timeout: DEFAULT_TIMEOUT,
            max_rounds: DEFAULT_MAX_INPUT_ROUNDS,
            identity: None,
        }
    }

    /// The era, with the negotiated version in the handshake era.
    ///
    /// See [`TestClientBuilder`] for an example.
    pub fn era(&self) -> Era {
        self.inner.era
    }

    /// The `initialize` result (handshake era).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::{Era, TestClient};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let router: Router = Router::new().instructions("Use the search tool first.");
    /// let client = TestClient::new(router).await?;
    /// let init = client.initialize_result().expect("the handshake era initializes");
    /// assert_eq!(init.instructions.as_deref(), Some("Use the search tool first."));
    /// assert!(client.era().version() >= mcp_core::protocol::ProtocolVersion::V2025_06_18);
    ///
    /// let modern = TestClient::builder(Router::new()).era(Era::Modern).connect().await?;
    /// assert!(modern.initialize_result().is_none());
    /// # Ok(()) }
    /// ```
    pub fn initialize_result(&self) -> Option<&InitializeResult> {
        self.inner.initialize.as_ref()
    }

    /// The capabilities this client declares.
    ///
    /// See [`TestClientBuilder::capabilities`] for an example.
    pub fn capabilities(&self) -> &ClientCapabilities {
        &self.inner.capabilities
    }

    /// The underlying connection, for poking at the runtime directly.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new()).await?;
    /// assert!(!client.connection().is_modern());
    /// assert!(client.connection().handshake_version().is_some());
    /// # Ok(()) }
    /// ```
    pub fn connection(&self) -> &Arc<Connection> {
        &self.inner.connection
    }

    // ----- tools -----

    /// Every tool, following `nextCursor` until the last page (with a loop guard).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Router, ToolDef};
    /// use mcp_testing::TestClient;
    ///
    /// async fn ping() -> &'static str { "pong" }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool(ToolDef::new("ping", ping).description("Pings"))).await?;
    /// let tools = client.list_tools().await?;
    /// assert_eq!(tools[0].description.as_deref(), Some("Pings"));
    ///
    /// let page = client.list_tools_page(None).await?;
    /// assert_eq!(page.tools.len(), 1);
    /// assert!(page.next_cursor.is_none());
    /// # Ok(()) }
    /// ```
    pub async fn list_tools(&self) -> Result<Vec<Tool>, TestError> {
        self.list_all("tools/list", "tools").await
    }

    /// One page of `tools/list`.
    ///
    /// See [`TestClient::list_tools`] for an example.
    pub async fn list_tools_page(
        &self,
        cursor: Option<&str>,
    ) -> Result<ListToolsResult, TestError> {
        let page = self.list_page("tools/list", cursor).await?;
        decode("tools/list", page)
    }

    /// Calls a tool. `arguments` must serialize to a JSON object, or to `null` for none.
    ///
    /// A tool's own failure is `Ok` with `is_error: Some(true)`; a JSON-RPC error (unknown
    /// tool, malformed request, missing capability) is `Err(TestError::Rpc(..))`.
    ///
    /// See [`TestClient`] for an example.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<CallToolResult, TestError> {
        self.call_tool_with(name, arguments, RequestOptions::new())
            .await
    }

    /// Calls a tool with per-request options (progress token, log level, …).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::ProgressToken;
    /// use mcp_core::{Context, Router};
    /// use mcp_testing::{RequestOptions, TestClient};
    ///
    /// async fn index(ctx: Context) -> &'static str {
    ///     for i in 1..=3 {
    ///         ctx.progress(i as f64, Some(3.0), None).await;
    ///     }
    ///     "indexed"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool_fn("index", index)).await?;
    /// let opts = RequestOptions::new().progress_token(ProgressToken::String("p1".into()));
    /// client.call_tool_with("index", (), opts).await?;
    /// let progress = client.progress();
    /// assert_eq!(progress.iter().map(|p| p.progress).collect::<Vec<_>>(), [1.0, 2.0, 3.0]);
    /// # Ok(()) }
    /// ```
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: impl Serialize,
        opts: RequestOptions,
    ) -> Result<CallToolResult, TestError> {
        let params = tool_params(name, arguments)?;
        let result = self.request_with("tools/call", params, opts).await?;
        decode("tools/call", result)
    }

    /// Calls a tool and deserializes its `structuredContent`. A failed call is
    /// [`TestError::ToolFailed`]; a missing or mismatched `structuredContent` is
    /// [`TestError::UnexpectedResult`] with the text the tool returned.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Json, Router, ToolDef};
    /// use mcp_testing::TestClient;
    ///
    /// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, PartialEq, Debug)]
    /// struct Stats { files: u32 }
    /// async fn stats() -> Json<Stats> { Json(Stats { files: 12 }) }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool(ToolDef::new("stats", stats))).await?;
    /// let stats: Stats = client.call_json("stats", ()).await?;
    /// assert_eq!(stats, Stats { files: 12 });
    /// # Ok(()) }
    /// ```
    pub async fn call_json<T: DeserializeOwned>(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<T, TestError> {
        let result = self.call_tool(name, arguments).await?;
        let text = crate::CallToolResultExt::text_content(&result);
        if result.is_error() {
            return Err(TestError::ToolFailed {
                tool: name.to_owned(),
                message: text,
            });
        }
        let Some(structured) = result.structured_content else {
            return Err(TestError::UnexpectedResult {
                method: "tools/call".into(),
                reason: format!(
                    "the tool {name:?} returned no structuredContent (return Json<T> for structured output); its text was {text:?}"
                ),
            });
        };
        serde_json::from_value(structured.clone()).map_err(|e| TestError::UnexpectedResult {
            method: "tools/call".into(),
            reason: format!(
                "the structuredContent of {name:?} does not deserialize into {}: {e}; it was {structured}",
                std::any::type_name::<T>()
            ),
        })
    }

    /// Starts a tool call without waiting for it, to cancel it or to run calls concurrently.
    ///
    /// Must be called inside a Tokio runtime.
    ///
    /// See [`PendingRequest`] for an example.
    pub fn start_call_tool(
        &self,
        name: &str,
        arguments: impl Serialize,
        opts: RequestOptions,
    ) -> Result<PendingRequest<CallToolResult>, TestError> {
        let params = tool_params(name, arguments)?;
        self.start("tools/call", params, opts)
    }

    // ----- resources, prompts, completions -----

    /// Every resource, across pages.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Args, ResourceDef, Router, TemplateDef};
    /// use mcp_testing::TestClient;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Id { id: String }
    /// async fn motd() -> String { "Hello!".into() }
    /// async fn user(Args(u): Args<Id>) -> String { format!("user {}", u.id) }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let router = Router::new()
    ///     .resource(ResourceDef::new("motd://today", "motd", motd))
    ///     .resource_template(TemplateDef::new("users://{id}", "user", user));
    /// let client = TestClient::new(router).await?;
    /// assert_eq!(client.list_resources().await?[0].uri, "motd://today");
    /// assert_eq!(client.list_resource_templates().await?[0].uri_template, "users://{id}");
    /// let read = client.read_resource("users://7").await?;
    /// assert_eq!(read.contents[0].as_text(), Some("user 7"));
    /// # Ok(()) }
    /// ```
    pub async fn list_resources(&self) -> Result<Vec<Resource>, TestError> {
        self.list_all("resources/list", "resources").await
    }

    /// Every resource template, across pages.
    ///
    /// See [`TestClient::list_resources`] for an example.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, TestError> {
        self.list_all("resources/templates/list", "resourceTemplates")
            .await
    }

    /// Reads a resource (static or matching a template).
    ///
    /// See [`TestClient::list_resources`] for an example.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, TestError> {
        let result = self
            .request("resources/read", json!({ "uri": uri }))
            .await?;
        decode("resources/read", result)
    }

    /// Every prompt, across pages.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Args, PromptDef, Router};
    /// use mcp_testing::TestClient;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Topic { topic: String }
    /// async fn haiku(Args(t): Args<Topic>) -> String { format!("Write a haiku about {}.", t.topic) }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().prompt(PromptDef::new("haiku", haiku))).await?;
    /// assert_eq!(client.list_prompts().await?[0].name, "haiku");
    /// let prompt = client.get_prompt("haiku", serde_json::json!({"topic": "rain"})).await?;
    /// assert_eq!(prompt.messages.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, TestError> {
        self.list_all("prompts/list", "prompts").await
    }

    /// Gets a prompt. `arguments` must serialize to a JSON object of strings, or to `null`.
    ///
    /// See [`TestClient::list_prompts`] for an example.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<GetPromptResult, TestError> {
        let arguments = encode("the prompt arguments", arguments)?;
        let params = match arguments {
            Value::Null => json!({ "name": name }),
            args => json!({ "name": name, "arguments": args }),
        };
        let result = self.request("prompts/get", params).await?;
        decode("prompts/get", result)
    }

    /// Completes `argument` of a prompt or resource template, given what was typed so far.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::router::Completing;
    /// use mcp_core::{Args, CompletionDef, PromptDef, Router};
    /// use mcp_testing::{prompt_ref, TestClient};
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Lang { lang: String }
    /// async fn greet(Args(l): Args<Lang>) -> String { format!("Say hi in {}", l.lang) }
    /// async fn langs(c: Completing) -> Vec<String> {
    ///     ["rust", "ruby", "python"].iter().filter(|l| l.starts_with(&c.value)).map(|l| l.to_string()).collect()
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let router = Router::new()
    ///     .prompt(PromptDef::new("greet", greet))
    ///     .completion(CompletionDef::prompt("greet", "lang", langs));
    /// let client = TestClient::new(router).await?;
    /// let completion = client.complete(prompt_ref("greet"), "lang", "r").await?;
    /// assert_eq!(completion.values, ["rust", "ruby"]);
    /// # Ok(()) }
    /// ```
    pub async fn complete(
        &self,
        reference: CompletionReference,
        argument: &str,
        value: &str,
    ) -> Result<Completion, TestError> {
        let params = json!({
            "ref": encode("the completion reference", reference)?,
            "argument": { "name": argument, "value": value },
        });
        let result: CompleteResult = decode(
            "completion/complete",
            self.request("completion/complete", params).await?,
        )?;
        Ok(result.completion)
    }

    // ----- any request -----

    /// Sends any request the way the typed methods do — with the 2026-07-28 envelope in that
    /// era, answering `input_required` — and returns the raw result.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::TestClient;
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new()).await?;
    /// let listed = client.request("tools/list", json!({})).await?;
    /// assert_eq!(listed["tools"], json!([]));
    /// let err = client.request("no/such/method", json!({})).await.unwrap_err();
    /// assert_eq!(err.code().map(|c| c.0), Some(-32601));
    /// # Ok(()) }
    /// ```
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, TestError> {
        self.request_with(method, params, RequestOptions::new())
            .await
    }

    /// [`request`](Self::request) with per-request options.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::{Era, RequestOptions, TestClient};
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::builder(Router::new()).era(Era::Modern).connect().await?;
    /// // Override the envelope to test version negotiation.
    /// let opts = RequestOptions::new().meta("io.modelcontextprotocol/protocolVersion", "1999-01-01");
    /// let err = client.request_with("tools/list", json!({}), opts).await.unwrap_err();
    /// assert_eq!(err.code().map(|c| c.0), Some(-32022));
    /// # Ok(()) }
    /// ```
    pub async fn request_with(
        &self,
        method: &str,
        params: Value,
        opts: RequestOptions,
    ) -> Result<Value, TestError> {
        self.inner.request(method, params, &opts).await
    }

    /// Sends a request exactly as given: no envelope, no progress token, no `input_required`
    /// handling (`null` params are left out). Server→client requests are still answered and
    /// notifications still captured.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::{Era, TestClient};
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::builder(Router::new()).era(Era::Modern).connect().await?;
    /// // Exactly these params: no envelope is added, so the server rejects the request.
    /// let err = client.request_raw("tools/list", json!({})).await.unwrap_err();
    /// assert_eq!(err.code().map(|c| c.0), Some(-32602));
    /// # Ok(()) }
    /// ```
    pub async fn request_raw(&self, method: &str, params: Value) -> Result<Value, TestError> {
        self.inner.request_raw(method, params).await
    }

    /// Starts any request without waiting for it.
    ///
    /// Must be called inside a Tokio runtime.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Router};
    /// use mcp_testing::{RequestOptions, TestClient};
    /// use serde_json::json;
    ///
    /// async fn ping() -> &'static str { "pong" }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool_fn("ping", ping)).await?;
    /// let pending = client.start_request("tools/call", json!({"name": "ping", "arguments": {}}), RequestOptions::new())?;
    /// let result = pending.response().await?;
    /// assert_eq!(result["content"][0]["text"], "pong");
    /// # Ok(()) }
    /// ```
    pub fn start_request(
        &self,
        method: &str,
        params: Value,
        opts: RequestOptions,
    ) -> Result<PendingRequest<Value>, TestError> {
        self.start(method, params, opts)
    }

    /// Sends a notification (`null` params are left out).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::TestClient;
    /// use serde_json::{json, Value};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new()).await?;
    /// // Unknown notifications are ignored, as the protocol requires.
    /// client.notify("notifications/custom", json!({"x": 1}))?;
    /// client.notify("notifications/initialized", Value::Null)?;
    /// assert!(client.request("ping", json!({})).await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn notify(&self, method: &str, params: Value) -> Result<(), TestError> {
        self.inner
            .notify(method, (!params.is_null()).then_some(params))
    }

    /// Sends `notifications/cancelled` for a request id (both eras).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::{RequestOptions, TestClient};
    ///
    /// async fn forever() -> &'static str { std::future::pending().await }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool_fn("forever", forever)).await?;
    /// let pending = client.start_call_tool("forever", (), RequestOptions::new())?;
    /// # tokio::task::yield_now().await;
    /// client.cancel(&pending.id())?;
    /// assert!(pending.response().await.unwrap_err().is_no_response());
    /// # Ok(()) }
    /// ```
    pub fn cancel(&self, id: &RequestId) -> Result<(), TestError> {
        self.notify(
            "notifications/cancelled",
            json!({ "requestId": id, "reason": "cancelled by the test" }),
        )
    }

    // ----- session settings -----

    /// Changes the least severe log level to receive: `logging/setLevel` in the handshake era,
    /// the envelope's `logLevel` of later requests in 2026-07-28.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::LoggingLevel;
    /// use mcp_core::{Context, Router};
    /// use mcp_testing::TestClient;
    ///
    /// async fn work(ctx: Context) -> &'static str {
    ///     ctx.log(LoggingLevel::Info, None, "working").await;
    ///     ctx.log(LoggingLevel::Error, None, "failed a step").await;
    ///     "done"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool_fn("work", work)).await?;
    /// client.set_log_level(LoggingLevel::Error).await?;
    /// client.call_tool("work", ()).await?;
    /// assert_eq!(client.logs().iter().map(|l| l.data.clone()).collect::<Vec<_>>(), ["failed a step"]);
    /// # Ok(()) }
    /// ```
    pub async fn set_log_level(&self, level: LoggingLevel) -> Result<(), TestError> {
        if !self.inner.era.is_modern() {
            self.request("logging/setLevel", json!({ "level": level }))
                .await?;
        }
        *lock(&self.inner.log_level) = Some(level);
        Ok(())
    }

    /// Replaces the roots `roots/list` answers with; in the handshake era also sends
    /// `notifications/roots/list_changed`.
    ///
    /// See [`TestClientBuilder::roots`] for an example.
    pub fn set_roots(&self, roots: Vec<Root>) -> Result<(), TestError> {
        *lock(&self.inner.responders.roots) = Some(roots);
        if !self.inner.era.is_modern() {
            self.notify("notifications/roots/list_changed", Value::Null)?;
        }
        Ok(())
    }

    /// Makes the rest of this connection's requests as `identity` (`None`: anonymous), like
    /// [`TestClientBuilder::identity`] does from the start.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::identity::Identity;
    /// use mcp_core::{Router, ToolDef};
    /// use mcp_testing::TestClient;
    ///
    /// async fn drop_table() -> &'static str { "dropped" }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let router = Router::new().tool(ToolDef::new("drop_table", drop_table).scopes(["db:admin"]));
    /// let client = TestClient::new(router).await?;
    /// client.set_identity(Some(Identity::new("bob").with_scopes(["db:read"])));
    /// client.call("drop_table", ()).await.expect_error_code(mcp_core::jsonrpc::ErrorCode::FORBIDDEN);
    /// client.set_identity(Some(Identity::new("alice").with_scopes(["db:admin"])));
    /// client.call("drop_table", ()).await.expect_text("dropped");
    /// # Ok(()) }
    /// ```
    pub fn set_identity(&self, identity: Option<Identity>) {
        self.inner.connection.set_default_identity(identity);
    }

    // ----- what was captured -----

    /// Every notification received so far (whole JSON-RPC messages), in arrival order:
    /// progress, logs, list changes, ….
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Context, Router};
    /// use mcp_testing::TestClient;
    ///
    /// async fn work(ctx: Context) -> &'static str {
    ///     ctx.log_info("step 1").await;
    ///     "done"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool_fn("work", work)).await?;
    /// client.call_tool("work", ()).await?;
    /// assert_eq!(client.notifications()[0]["method"], "notifications/message");
    /// assert_eq!(client.take_notifications().len(), 1);
    /// assert!(client.notifications().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn notifications(&self) -> Vec<Value> {
        self.inner.capture.notifications()
    }

    /// Returns the notifications received so far and forgets them.
    ///
    /// See [`TestClient::notifications`] for an example.
    pub fn take_notifications(&self) -> Vec<Value> {
        self.inner.capture.take_notifications()
    }

    /// The notifications as a stream, in arrival order: first those already captured (and not
    /// taken), then each new one as it arrives. Waiting for the next one gives up after the
    /// client's timeout.
    ///
    /// ```
    /// use mcp_core::protocol::ProgressToken;
    /// use mcp_core::{Context, Router, ToolDef};
    /// use mcp_testing::{RequestOptions, TestClient};
    ///
    /// async fn work(ctx: Context) -> &'static str {
    ///     ctx.progress(1.0, Some(2.0), None).await;
    ///     ctx.progress(2.0, Some(2.0), None).await;
    ///     "done"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool(ToolDef::new("work", work))).await?;
    /// let mut notes = client.notification_stream();
    /// let opts = RequestOptions::new().progress_token(ProgressToken::Number(1));
    /// client.call_tool_with("work", (), opts).await?;
    /// let first = notes.next_method("notifications/progress").await.expect("progress");
    /// assert_eq!(first["params"]["progress"], 1.0);
    /// let second = notes.next().await.expect("more progress");
    /// assert_eq!(second["params"]["progress"], 2.0);
    /// assert!(notes.try_next().is_none());
    /// # Ok(()) }
    /// ```
    pub fn notification_stream(&self) -> NotificationStream {
        NotificationStream {
            capture: self.inner.capture.clone(),
            position: self.inner.capture.start(),
            timeout: self.inner.timeout,
        }
    }

    /// The `notifications/progress` params received so far, in order.
    ///
    /// See [`TestClient::call_tool_with`] for an example.
    pub fn progress(&self) -> Vec<ProgressParams> {
        self.params_of("notifications/progress")
    }

    /// The `notifications/message` (log) params received so far, in order.
    ///
    /// See [`TestClientBuilder::log_level`] for an example.
    pub fn logs(&self) -> Vec<LoggingMessageParams> {
        self.params_of("notifications/message")
    }

    /// The questions the server asked so far, in order, in either era.
    ///
    /// See [`TestClientBuilder::on_sample`] for an example.
    pub fn server_requests(&self) -> Vec<ServerRequest> {
        self.inner.capture.server_requests()
    }

    /// Waits until at least `count` notifications with `method` have been received, then
    /// returns all of them; gives up after the client's timeout.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Router, Server, ToolDef};
    /// use mcp_testing::TestClient;
    ///
    /// async fn ping() -> &'static str { "pong" }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let server = Server::new(Router::new());
    /// let client = TestClient::new(server.clone()).await?;
    /// // The catalogue changes while the client is connected:
    /// server.handle().add_tool(ToolDef::new("ping", ping));
    /// let changed = client.wait_for_notifications("notifications/tools/list_changed", 1).await?;
    /// assert_eq!(changed.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_notifications(
        &self,
        method: &str,
        count: usize,
    ) -> Result<Vec<Value>, TestError> {
        let deadline = Instant::now() + self.inner.timeout;
        self.inner
            .capture
            .wait_for(method, count, deadline)
            .await
            .map_err(|seen| TestError::Timeout {
                method: format!("{count} {method} notification(s) ({seen} arrived)"),
                after: self.inner.timeout,
            })
    }

    /// Closes the connection and waits (up to the timeout) for in-flight requests to end.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::TestClient;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new()).await?;
    /// client.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn close(&self) -> Result<(), TestError> {
        self.inner.connection.close();
        tokio::time::timeout(self.inner.timeout, self.inner.connection.wait())
            .await
            .map_err(|_| TestError::Timeout {
                method: "close".into(),
                after: self.inner.timeout,
            })
    }

    // ----- internals -----

    fn params_of<T: DeserializeOwned>(&self, method: &str) -> Vec<T> {
        self.inner
            .capture
            .with_method(method)
            .into_iter()
            .filter_map(|n| n.get("params").cloned())
            .filter_map(|p| serde_json::from_value(p).ok())
            .collect()
    }

    fn start<T>(
        &self,
        method: &str,
        params: Value,
        opts: RequestOptions,
    ) -> Result<PendingRequest<T>, TestError> {
        let limit = self.inner.limit(&opts);
        let deadline = Instant::now() + limit;
        let params = self.inner.params_for(params, &opts)?;
        let current = Arc::new(Mutex::new(RequestId::Number(0)));
        // The first round goes out now, so the request is in flight (and cancellable) as soon
        // as this returns.
        let first = self
            .inner
            .send(method, params.as_ref(), &current, opts.identity.as_ref())?;
        let inner = self.inner.clone();
        let task_method = method.to_owned();
        let task_current = current.clone();
        let task = tokio::spawn(async move {
            inner
                .run(
                    &task_method,
                    params,
                    &opts,
                    first,
                    &task_current,
                    deadline,
                    limit,
                )
                .await
        });
        Ok(PendingRequest::new(
            self.inner.clone(),
            method.to_owned(),
            current,
            task,
        ))
    }

    async fn list_page(&self, method: &str, cursor: Option<&str>) -> Result<Value, TestError> {
        let params = match cursor {
            Some(c) => json!({ "cursor": c }),
            None => Value::Null,
        };
        self.request(method, params).await
    }

    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        method: &str,
        field: &str,
    ) -> Result<Vec<T>, TestError> {
        let mut pages = Pages::default();
        let mut cursor: Option<String> = None;
        let mut items = Vec::new();
        loop {
            let page = self.list_page(method, cursor.as_deref()).await?;
            let list = page.get(field).and_then(Value::as_array).ok_or_else(|| {
                TestError::UnexpectedResult {
                    method: method.to_owned(),
                    reason: format!("no `{field}` array in {page}"),
                }
            })?;
            for item in list {
                items.push(decode(method, item.clone())?);
            }
            match pages.next(method, page.get("nextCursor"))? {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }
}

pub(crate) fn tool_params(name: &str, arguments: impl Serialize) -> Result<Value, TestError> {
    match encode("the tool arguments", arguments)? {
        Value::Null => Ok(json!({ "name": name })),
        args @ Value::Object(_) => Ok(json!({ "name": name, "arguments": args })),
        other => Err(TestError::InvalidInput(format!(
            "tool arguments must serialize to a JSON object (or null for none), not {other}"
        ))),
    }
}
