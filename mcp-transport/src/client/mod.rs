//! An MCP client for both protocol eras, over a child process's stdio or Streamable HTTP.
//!
//! [`Client::connect`] probes `server/discover` with the 2026-07-28 envelope and falls back to
//! the `initialize` handshake when the server does not answer it, so one client talks to
//! servers of either era. The typed methods ([`Client::list_tools`], [`Client::call_tool`], …)
//! cover the catalogue; [`Client::request`] sends anything, with a [`Handler`] that receives the
//! request's progress and log notifications and answers the server's questions (elicitation,
//! sampling, roots) — as server→client requests in the handshake era, as `input_required`
//! rounds in 2026-07-28. The same handler serves both, so a caller (a gateway, say) can pass the
//! questions on to its own client without caring which era either side speaks.
//!
//! ```no_run
//! use mcp_transport::client::{ChildProcess, Client, ClientConfig};
//!
//! # async fn run() -> Result<(), mcp_transport::client::ClientError> {
//! let client = Client::connect(ChildProcess::new("hello"), ClientConfig::default()).await?;
//! for tool in client.list_tools().await? {
//!     println!("{}: {}", tool.name, tool.description.unwrap_or_default());
//! }
//! let result = client.call_tool("add", serde_json::json!({"a": 2, "b": 3})).await?;
//! assert!(!result.is_error());
//! # Ok(()) }
//! ```
//!
//! Tasks: with [`RequestOptions::as_task`] a `tools/call` may run as a task on the server (the
//! tasks extension in 2026-07-28, `params.task` in 2025-11-25); the client follows the task to
//! its result, answering its questions through the same handler. Resource updates:
//! [`Client::subscribe_resource`] in either era, reported on [`Client::events`].
//!
//! Robustness: every request has an idle timeout ([`ClientConfig::request_timeout`]: how long
//! the server may stay silent, paused while the handler answers a question); a child process
//! that exits is started again on the next request (at most once per
//! [`ClientConfig::reconnect_delay`]) and the era negotiated anew; an HTTP session the server
//! forgot (404) is re-initialized and the request sent again once. Dropping a request's future
//! cancels it: `notifications/cancelled` in the handshake era and on stdio, closing the
//! response stream for 2026-07-28 over HTTP.

mod http;
mod remote;
mod sse;
mod stdio;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use mcp_core::era::Era;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject, RequestId};
use mcp_core::protocol::{
    meta, CallToolResult, ClientCapabilities, Completion, CompletionReference,
    ElicitationCapability, GetPromptResult, Implementation, JsonObject, LoggingLevel,
    LoggingMessageParams, ProgressParams, Prompt, ProtocolVersion, ReadResourceResult, Resource,
    ResourceTemplate, RootsCapability, SamplingCapability, ServerCapabilities, Tool,
};
use mcp_core::server::TASKS_EXTENSION;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

pub use self::http::HttpTransport;
pub use self::stdio::ChildProcess;

/// A boxed future borrowing from its handler.
///
/// See [`Handler`] for an example.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a request failed.
///
/// # Examples
/// ```
/// use mcp_transport::client::{Client, ClientConfig, ClientError, HttpTransport};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Nothing listens on port 9 (discard): the server is unavailable.
/// let client = Client::lazy(HttpTransport::new("http://127.0.0.1:9/mcp"), ClientConfig::default()).unwrap();
/// let err = client.list_tools().await.unwrap_err();
/// assert!(err.is_unavailable(), "{err}");
/// assert!(!ClientError::Protocol("bad JSON".into()).is_unavailable());
/// # }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with a JSON-RPC error.
    #[error("the server answered with an error: {0}")]
    Rpc(ErrorObject),
    /// The server could not be reached, or the connection broke.
    #[error("transport failure: {0}")]
    Transport(String),
    /// The server stayed silent longer than the request timeout.
    #[error("no answer from the server within {0:?}")]
    Timeout(Duration),
    /// The connection is closed (the child process exited, the client was shut down).
    #[error("the connection to the server is closed")]
    Closed,
    /// The server sent something that is not valid MCP.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// A 2026-07-28 request needed more `input_required` rounds than allowed.
    #[error("the server asked for input more than {0} times")]
    TooManyRounds(usize),
    /// The handshake-era HTTP session is gone (the server answered 404).
    #[error("the server no longer knows the session")]
    SessionExpired,
    /// A `tools/call` the server ran as a task ended in `failed`, with this protocol error.
    #[error("the server's task failed: {0}")]
    TaskFailed(ErrorObject),
    /// A `tools/call` the server ran as a task was cancelled by someone else.
    #[error("the server's task was cancelled")]
    TaskCancelled,
}

impl ClientError {
    /// Whether the failure says the server is unreachable or unresponsive (as opposed to an
    /// answer, even an error answer, from a working server).
    ///
    /// See [`ClientError`] for an example.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            ClientError::Transport(_)
                | ClientError::Timeout(_)
                | ClientError::Closed
                | ClientError::SessionExpired
        )
    }
}

/// A question the server asks while serving a request: `elicitation/create`,
/// `sampling/createMessage` or `roots/list`.
///
/// See [`Handler`] for an example.
#[derive(Debug, Clone)]
pub struct ServerAsk {
    /// A key that names the question within its request and stays the same when the request
    /// is sent again: the server's own key in 2026-07-28 (`inputRequests`), otherwise the
    /// method's short name and its count within the request (`elicitation-1`, …).
    pub key: String,
    /// The method.
    pub method: String,
    /// Its params.
    pub params: Value,
}

/// Receives what the server sends while serving one request. Every method has a default:
/// notifications are dropped, questions refused.
///
/// # Examples
///
/// A handler that shows progress and answers the server's questions:
///
/// ```
/// use mcp_core::jsonrpc::ErrorObject;
/// use mcp_core::protocol::{ElicitRequest, LoggingMessageParams, ProgressParams};
/// use mcp_core::{Context, ToolError};
/// use mcp_transport::client::{BoxFuture, Client, ClientConfig, Handler, HttpTransport, RequestOptions, ServerAsk};
/// use serde_json::{json, Value};
///
/// struct Console;
///
/// impl Handler for Console {
///     fn progress(&self, p: ProgressParams) -> BoxFuture<'_, ()> {
///         Box::pin(async move { println!("{}/{:?}", p.progress, p.total) })
///     }
///     fn log(&self, p: LoggingMessageParams) -> BoxFuture<'_, ()> {
///         Box::pin(async move { eprintln!("[{:?}] {}", p.level, p.data) })
///     }
///     fn ask(&self, ask: ServerAsk) -> BoxFuture<'_, Result<Value, ErrorObject>> {
///         Box::pin(async move {
///             assert_eq!(ask.method, "elicitation/create");
///             Ok(json!({"action": "accept", "content": {"name": "Ada"}}))
///         })
///     }
/// }
///
/// async fn greet(ctx: Context) -> Result<String, ToolError> {
///     ctx.progress(1.0, Some(2.0), None).await;
///     ctx.log_info("asking for a name").await;
///     let answer = ctx.elicit("name", ElicitRequest::form("Name?", json!({"type": "object"}))).await?;
///     let name = answer.content.and_then(|c| c.get("name").cloned()).unwrap_or_default();
///     Ok(format!("Hello, {}!", name.as_str().unwrap_or("stranger")))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let url = format!("http://{}/mcp", listener.local_addr()?);
/// # let service = mcp_transport::http::McpService::from_router(mcp_core::Router::new().tool_fn("greet", greet));
/// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
/// let client = Client::connect(HttpTransport::new(url), ClientConfig::default()).await?;
/// let result = client.call_tool_with("greet", json!({}), &RequestOptions::new(), &Console).await?;
/// assert_eq!(result.content[0].as_text(), Some("Hello, Ada!"));
/// # Ok(()) }
/// ```
pub trait Handler: Send + Sync {
    /// A `notifications/progress` for this request.
    ///
    /// See [`Handler`] for an example.
    fn progress(&self, params: ProgressParams) -> BoxFuture<'_, ()> {
        let _ = params;
        Box::pin(async {})
    }

    /// A `notifications/message` for this request.
    ///
    /// See [`Handler`] for an example.
    fn log(&self, params: LoggingMessageParams) -> BoxFuture<'_, ()> {
        let _ = params;
        Box::pin(async {})
    }

    /// The server made the request a task ([`RequestOptions::as_task`]): `task` is its
    /// `CreateTaskResult` (2026-07-28) or the `task` object of the handshake era. The client
    /// then follows the task until it ends; questions the task asks come to [`Handler::ask`].
    /// The default does nothing.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Mutex;
    /// use mcp_core::protocol::TaskSupport;
    /// use mcp_core::{Router, ToolDef};
    /// use mcp_transport::client::{BoxFuture, Client, ClientConfig, Handler, HttpTransport, RequestOptions};
    /// use serde_json::{json, Value};
    ///
    /// /// Remembers the task the server made of the call.
    /// #[derive(Default)]
    /// struct Tasks(Mutex<Vec<Value>>);
    /// impl Handler for Tasks {
    ///     fn task_created(&self, task: &Value) -> BoxFuture<'_, ()> {
    ///         self.0.lock().unwrap().push(task.clone());
    ///         Box::pin(async {})
    ///     }
    /// }
    ///
    /// async fn build() -> &'static str { "built" }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/mcp", listener.local_addr()?);
    /// let router: Router = Router::new().tool(ToolDef::new("build", build).task_support(TaskSupport::Optional));
    /// # let service = mcp_transport::http::McpService::from_router(router);
    /// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
    /// let client = Client::connect(HttpTransport::new(url), ClientConfig::default()).await?;
    /// let tasks = Tasks::default();
    /// let opts = RequestOptions::new().as_task(None);
    /// let result = client.call_tool_with("build", json!({}), &opts, &tasks).await?;
    /// assert_eq!(result.content[0].as_text(), Some("built"));
    /// assert_eq!(tasks.0.lock().unwrap().len(), 1);
    /// # Ok(()) }
    /// ```
    fn task_created(&self, task: &Value) -> BoxFuture<'_, ()> {
        let _ = task;
        Box::pin(async {})
    }

    /// Answers a question (called concurrently for the questions of one `input_required`
    /// result). The default refuses with `-32601`.
    ///
    /// See [`Handler`] for an example.
    fn ask(&self, ask: ServerAsk) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        Box::pin(async move {
            Err(ErrorObject::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("this client does not answer {}", ask.method),
            ))
        })
    }
}

/// A [`Handler`] that ignores notifications and refuses questions.
///
/// See [`Client::request`] for an example.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHandler;

impl Handler for NoHandler {}

/// Which era to speak.
///
/// # Examples
/// ```
/// use mcp_transport::client::{ClientConfig, EraPreference};
/// // A server known to speak only the handshake era: skip the `server/discover` probe.
/// let config = ClientConfig::default().era(EraPreference::Handshake);
/// assert_eq!(config.era, EraPreference::Handshake);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EraPreference {
    /// Probe `server/discover`; fall back to `initialize` (the default).
    #[default]
    Auto,
    /// Always the `initialize` handshake.
    Handshake,
    /// Always 2026-07-28; fail when the server does not speak it.
    Modern,
}

/// Settings of a [`Client`].
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use mcp_core::protocol::{ClientCapabilities, Implementation};
/// use mcp_transport::client::{ClientConfig, EraPreference};
///
/// let config = ClientConfig::default()
///     .client_info(Implementation::new("my-agent", "0.3.0"))
///     .capabilities(ClientCapabilities::default()) // declares nothing: questions are not asked
///     .era(EraPreference::Auto)
///     .request_timeout(Duration::from_secs(30))
///     .reconnect_delay(Duration::from_secs(1))
///     .watch_changes(true);
/// assert_eq!(config.request_timeout, Duration::from_secs(30));
/// assert!(config.watch_changes);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Who the client says it is.
    pub client_info: Implementation,
    /// What the client declares: in `initialize`, and in the envelope of 2026-07-28 requests
    /// unless [`RequestOptions::capabilities`] overrides it.
    pub capabilities: ClientCapabilities,
    /// Which era to speak.
    pub era: EraPreference,
    /// How long the server may stay silent during a request (the idle timeout; paused while
    /// the handler answers a question).
    pub request_timeout: Duration,
    /// How long the `server/discover` probe may take before falling back to `initialize`.
    pub discover_timeout: Duration,
    /// The least time between two attempts to start a child process or re-open a stream.
    pub reconnect_delay: Duration,
    /// How many `input_required` rounds one request may take.
    pub max_input_rounds: usize,
    /// Keep a change stream open (`subscriptions/listen`, or the handshake-era GET stream over
    /// HTTP) and report list changes on [`Client::events`].
    pub watch_changes: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            client_info: Implementation::new("mcp-transport-client", env!("CARGO_PKG_VERSION")),
            capabilities: ClientCapabilities {
                roots: Some(RootsCapability {
                    list_changed: Some(true),
                }),
                sampling: Some(SamplingCapability {
                    context: None,
                    tools: Some(JsonObject::new()),
                }),
                elicitation: Some(ElicitationCapability {
                    form: Some(JsonObject::new()),
                    url: Some(JsonObject::new()),
                }),
                ..Default::default()
            },
            era: EraPreference::Auto,
            request_timeout: Duration::from_secs(60),
            discover_timeout: Duration::from_secs(10),
            reconnect_delay: Duration::from_millis(500),
            max_input_rounds: 16,
            watch_changes: false,
        }
    }
}

impl ClientConfig {
    /// Sets the capabilities.
    ///
    /// See [`ClientConfig`] for an example.
    pub fn capabilities(mut self, caps: ClientCapabilities) -> Self {
        self.capabilities = caps;
        self
    }

    /// Sets the client info.
    ///
    /// See [`ClientConfig`] for an example.
    pub fn client_info(mut self, info: Implementation) -> Self {
        self.client_info = info;
        self
    }

    /// Sets the era preference.
    ///
    /// See [`ClientConfig`] for an example.
    pub fn era(mut self, era: EraPreference) -> Self {
        self.era = era;
        self
    }

    /// Sets the idle timeout of requests.
    ///
    /// See [`ClientConfig`] for an example.
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t;
        self
    }

    /// Sets the least time between reconnection attempts.
    ///
    /// See [`ClientConfig`] for an example.
    pub fn reconnect_delay(mut self, d: Duration) -> Self {
        self.reconnect_delay = d;
        self
    }

    /// Keeps a change stream open.
    ///
    /// See [`Client::events`] for an example.
    pub fn watch_changes(mut self, on: bool) -> Self {
        self.watch_changes = on;
        self
    }
}

/// Per-request settings.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use mcp_core::protocol::{ClientCapabilities, LoggingLevel};
/// use mcp_transport::client::RequestOptions;
///
/// let opts = RequestOptions::new()
///     .capabilities(ClientCapabilities::default())
///     .log_level(LoggingLevel::Warning)
///     .timeout(Duration::from_secs(120));
/// assert_eq!(opts.log_level, Some(LoggingLevel::Warning));
/// assert!(!opts.as_task);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RequestOptions {
    /// 2026-07-28: the capabilities to declare for this request (a gateway passes its own
    /// caller's).
    pub capabilities: Option<ClientCapabilities>,
    /// 2026-07-28: the least severe log level to receive for this request.
    pub log_level: Option<LoggingLevel>,
    /// Overrides [`ClientConfig::request_timeout`].
    pub timeout: Option<Duration>,
    /// `tools/call` only: let the server run the call as a task, and follow the task to its
    /// end (see [`RequestOptions::as_task`]).
    pub as_task: bool,
    /// With [`RequestOptions::as_task`]: how long the server should keep the task's record
    /// (the handshake era's `task.ttl`; 2026-07-28 servers choose themselves).
    pub task_ttl: Option<Duration>,
}

impl RequestOptions {
    /// Default options.
    ///
    /// See [`RequestOptions`] for an example.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares these capabilities (2026-07-28).
    ///
    /// See [`RequestOptions`] for an example.
    pub fn capabilities(mut self, caps: ClientCapabilities) -> Self {
        self.capabilities = Some(caps);
        self
    }

    /// Asks for log messages at `level` and above (2026-07-28).
    ///
    /// See [`RequestOptions`] for an example.
    pub fn log_level(mut self, level: LoggingLevel) -> Self {
        self.log_level = Some(level);
        self
    }

    /// Sets the idle timeout.
    ///
    /// See [`RequestOptions`] for an example.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Lets the server run a `tools/call` as a task: in 2026-07-28 the request declares the
    /// `io.modelcontextprotocol/tasks` extension, in the handshake era (2025-11-25 and later)
    /// it carries `task: {ttl}`. When the server creates a task, the handler hears of it
    /// ([`Handler::task_created`]) and the client follows the task — `tasks/get` (answering
    /// its `input_required` questions through the handler and `tasks/update`) in 2026-07-28,
    /// `tasks/result` in the handshake era — and returns the tool result it ends with. A task
    /// that fails is [`ClientError::TaskFailed`]. Dropping the request's future cancels the
    /// task (`tasks/cancel`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_transport::client::RequestOptions;
    /// let opts = RequestOptions::new().as_task(Some(Duration::from_secs(600)));
    /// assert!(opts.as_task);
    /// ```
    pub fn as_task(mut self, ttl: Option<Duration>) -> Self {
        self.as_task = true;
        self.task_ttl = ttl;
        self
    }
}

/// Something the server announced outside any request.
///
/// See [`Client::events`] for an example.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// `notifications/tools/list_changed`.
    ToolsChanged,
    /// `notifications/prompts/list_changed`.
    PromptsChanged,
    /// `notifications/resources/list_changed`.
    ResourcesChanged,
    /// `notifications/resources/updated`.
    ResourceUpdated(String),
    /// A log message not tied to a request.
    Log(LoggingMessageParams),
    /// A new connection was negotiated (a child process was started again, an HTTP session
    /// re-initialized): the catalogue may differ.
    Reconnected,
}

/// What the negotiation established.
#[derive(Debug)]
pub(crate) struct Session {
    era: Era,
    server_info: Implementation,
    capabilities: ServerCapabilities,
    instructions: Option<String>,
    /// The wire generation this session belongs to (a restarted child is a new one).
    generation: u64,
}

/// One message from the server that belongs to a request.
#[derive(Debug)]
pub(crate) enum Incoming {
    Notification {
        method: String,
        params: Value,
    },
    Request {
        id: RequestId,
        method: String,
        params: Value,
    },
    Response(Result<Value, ErrorObject>),
}

/// The messages of one request, as they arrive.
pub(crate) struct Exchange {
    pub(crate) rx: mpsc::Receiver<Result<Incoming, ClientError>>,
    /// Released when the exchange ends (stdio: forgets the pending entry).
    pub(crate) _guard: Option<Box<dyn Send + Sync>>,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange").finish_non_exhaustive()
    }
}

/// The era facts a wire needs to frame a request.
#[derive(Debug, Clone)]
pub(crate) struct Framing {
    pub(crate) modern: bool,
    pub(crate) version: Option<ProtocolVersion>,
    /// Extra HTTP headers (2026-07-28 `Mcp-Param-*`).
    pub(crate) headers: Vec<(String, String)>,
}

enum Wire {
    Stdio(Arc<stdio::StdioWire>),
    Http(Arc<http::HttpWire>),
}

impl Wire {
    fn generation(&self) -> u64 {
        match self {
            Wire::Stdio(w) => w.generation(),
            Wire::Http(w) => w.generation(),
        }
    }

    async fn start(
        &self,
        id: &RequestId,
        method: &str,
        params: &Value,
        framing: &Framing,
    ) -> Result<Exchange, ClientError> {
        match self {
            Wire::Stdio(w) => w.start(id, method, params).await,
            Wire::Http(w) => w.start(id, method, params, framing).await,
        }
    }

    async fn notify(&self, method: &str, params: Value, framing: &Framing) {
        match self {
            Wire::Stdio(w) => w.notify(method, params).await,
            Wire::Http(w) => w.notify(method, params, framing).await,
        }
    }

    async fn reply(&self, id: RequestId, result: Result<Value, ErrorObject>, framing: &Framing) {
        let message = match result {
            Ok(v) => json!({"jsonrpc": "2.0", "id": id, "result": v}),
            Err(e) => json!({"jsonrpc": "2.0", "id": id, "error": e}),
        };
        match self {
            Wire::Stdio(w) => w.send_raw(message.to_string()).await,
            Wire::Http(w) => w.post_message(message, framing).await,
        }
    }

    /// Whether dropping the exchange is the cancellation (2026-07-28 over HTTP).
    fn drop_cancels(&self, modern: bool) -> bool {
        matches!(self, Wire::Http(_)) && modern
    }

    fn reset_session(&self) {
        if let Wire::Http(w) = self {
            w.reset_session();
        }
    }

    fn events(&self) -> &broadcast::Sender<ServerEvent> {
        match self {
            Wire::Stdio(w) => w.events(),
            Wire::Http(w) => w.events(),
        }
    }

    fn shutdown(&self) {
        match self {
            Wire::Stdio(w) => w.shutdown(),
            Wire::Http(w) => w.shutdown(),
        }
    }
}

/// The most resources one client subscribes to in 2026-07-28 (servers honor at most 1000 per
/// `subscriptions/listen`).
const MAX_SUBSCRIPTIONS: usize = 1000;

/// `x-mcp-header` mirrors of a tool: (header name, argument path).
type Mirrors = Vec<(String, Vec<String>)>;

struct Inner {
    wire: Wire,
    config: ClientConfig,
    next_id: AtomicI64,
    session: tokio::sync::Mutex<Option<Arc<Session>>>,
    /// `x-mcp-header` mirrors per tool: (header name, argument path).
    mirrors: Mutex<HashMap<String, Mirrors>>,
    watcher: Mutex<Option<tokio::task::AbortHandle>>,
    /// Resources subscribed to (in 2026-07-28 the `subscriptions/listen` filter names them;
    /// in the handshake era over HTTP they need the GET stream).
    subscriptions: Mutex<std::collections::BTreeSet<String>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(w) = self.watcher.lock().ok().and_then(|mut w| w.take()) {
            w.abort();
        }
        self.wire.shutdown();
    }
}

/// An MCP client. Cheap to clone; clones share the connection.
///
/// # Examples
///
/// Against a server started in the example itself, on a free local port:
///
/// ```
/// use mcp_transport::client::{Client, ClientConfig, HttpTransport};
/// use serde_json::json;
///
/// # use mcp_core::{Args, Router, ToolDef};
/// # #[derive(serde::Deserialize, schemars::JsonSchema)]
/// # struct Sum { a: i64, b: i64 }
/// # async fn add(Args(s): Args<Sum>) -> String { (s.a + s.b).to_string() }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let url = format!("http://{}/mcp", listener.local_addr()?);
/// # let router: Router = Router::new().tool(ToolDef::new("add", add).description("Adds"));
/// # let service = mcp_transport::http::McpService::from_router(router);
/// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
/// let client = Client::connect(HttpTransport::new(url), ClientConfig::default()).await?;
/// assert!(client.era().await?.is_modern());
/// println!("connected to {}", client.server_info().await?.name);
/// assert!(client.server_capabilities().await?.tools.is_some());
/// assert_eq!(client.instructions().await?, None);
///
/// let tools = client.list_tools().await?;
/// assert_eq!(tools[0].name, "add");
/// let result = client.call_tool("add", json!({"a": 2, "b": 3})).await?;
/// assert_eq!(result.content[0].as_text(), Some("5"));
/// // The server offers no prompts: `prompts/list` does not exist there.
/// assert!(client.list_prompts().await.is_err());
/// client.close();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Where a [`Client`] connects to.
///
/// # Examples
/// ```
/// use mcp_transport::client::{ChildProcess, HttpTransport, Transport};
/// let local: Transport = ChildProcess::new("hello").arg("--stdio").into();
/// let remote: Transport = HttpTransport::new("https://mcp.example.com/mcp").into();
/// assert!(matches!(local, Transport::Child(_)));
/// assert!(matches!(remote, Transport::Http(_)));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Transport {
    /// A child process speaking stdio.
    Child(ChildProcess),
    /// A Streamable HTTP endpoint.
    Http(HttpTransport),
}

impl From<ChildProcess> for Transport {
    fn from(c: ChildProcess) -> Self {
        Transport::Child(c)
    }
}

impl From<HttpTransport> for Transport {
    fn from(h: HttpTransport) -> Self {
        Transport::Http(h)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn decode<T: DeserializeOwned>(method: &str, value: Value) -> Result<T, ClientError> {
    serde_json::from_value(value)
        .map_err(|e| ClientError::Protocol(format!("unexpected {method} result: {e}")))
}

/// The short name of a server→client method, for generated question keys.
fn ask_prefix(method: &str) -> &str {
    match method {
        "elicitation/create" => "elicitation",
        "sampling/createMessage" => "sampling",
        "roots/list" => "roots",
        other => other,
    }
}

/// Sends `notifications/cancelled` for an unanswered request when its future is dropped.
struct CancelGuard {
    client: Option<Client>,
    id: RequestId,
    framing: Framing,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let id = self.id.clone();
        let framing = self.framing.clone();
        rt.spawn(async move {
            client
                .inner
                .wire
                .notify(
                    "notifications/cancelled",
                    json!({"requestId": id, "reason": "the caller cancelled the request"}),
                    &framing,
                )
                .await;
        });
    }
}

impl Client {
    /// Connects and negotiates the era.
    ///
    /// See [`Client`] for an example.
    pub async fn connect(
        transport: impl Into<Transport>,
        config: ClientConfig,
    ) -> Result<Client, ClientError> {
        let client = Self::lazy(transport, config)?;
        client.session().await?;
        Ok(client)
    }

    /// A client that connects on its first request (and keeps trying on later ones when the
    /// server is not there yet).
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::client::{Client, ClientConfig, HttpTransport};
    ///
    /// # use mcp_core::{Args, Router, ToolDef};
    /// # #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// # struct Sum { a: i64, b: i64 }
    /// # async fn add(Args(s): Args<Sum>) -> String { (s.a + s.b).to_string() }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/mcp", listener.local_addr()?);
    /// # let router: Router = Router::new().tool(ToolDef::new("add", add).description("Adds"));
    /// # let service = mcp_transport::http::McpService::from_router(router);
    /// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
    /// // Nothing is sent yet: the server may start later.
    /// let client = Client::lazy(HttpTransport::new(url), ClientConfig::default())?;
    /// assert_eq!(client.config().max_input_rounds, 16);
    /// // The first request connects and negotiates.
    /// assert_eq!(client.list_tools().await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn lazy(
        transport: impl Into<Transport>,
        config: ClientConfig,
    ) -> Result<Client, ClientError> {
        let wire = match transport.into() {
            Transport::Child(c) => Wire::Stdio(stdio::StdioWire::new(c, config.reconnect_delay)),
            Transport::Http(h) => Wire::Http(http::HttpWire::new(h, &config)?),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                wire,
                config,
                next_id: AtomicI64::new(0),
                session: tokio::sync::Mutex::new(None),
                mirrors: Mutex::new(HashMap::new()),
                watcher: Mutex::new(None),
                subscriptions: Mutex::new(std::collections::BTreeSet::new()),
            }),
        })
    }

    /// The configuration.
    ///
    /// See [`Client::lazy`] for an example.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Announcements outside requests: list changes, resource updates, stray logs, reconnects.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Router, Server, ToolDef};
    /// use mcp_transport::client::{Client, ClientConfig, HttpTransport, ServerEvent};
    /// use mcp_transport::http::{HttpConfig, McpService};
    ///
    /// async fn ping() -> &'static str { "pong" }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/mcp", listener.local_addr()?);
    /// let server = Server::new(Router::new().tool_fn("ping", ping));
    /// # let service = McpService::new(server.clone(), HttpConfig::default());
    /// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
    /// let client = Client::connect(HttpTransport::new(url), ClientConfig::default().watch_changes(true)).await?;
    /// let mut events = client.events();
    /// client.list_tools().await?; // the change stream is open once a session is
    /// # tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    /// server.handle().add_tool(ToolDef::new("pong", ping));
    /// let event = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await??;
    /// assert_eq!(event, ServerEvent::ToolsChanged);
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> broadcast::Receiver<ServerEvent> {
        self.inner.wire.events().subscribe()
    }

    /// The negotiated era (connecting first if needed).
    ///
    /// See [`Client`] for an example.
    pub async fn era(&self) -> Result<Era, ClientError> {
        Ok(self.session().await?.era)
    }

    /// The server's name and version.
    ///
    /// See [`Client`] for an example.
    pub async fn server_info(&self) -> Result<Implementation, ClientError> {
        Ok(self.session().await?.server_info.clone())
    }

    /// What the server offers.
    ///
    /// See [`Client`] for an example.
    pub async fn server_capabilities(&self) -> Result<ServerCapabilities, ClientError> {
        Ok(self.session().await?.capabilities.clone())
    }

    /// The server's instructions, if any.
    ///
    /// See [`Client`] for an example.
    pub async fn instructions(&self) -> Result<Option<String>, ClientError> {
        Ok(self.session().await?.instructions.clone())
    }

    /// Stops the client: the child process is killed, streams are closed.
    ///
    /// See [`Client`] for an example.
    pub fn close(&self) {
        self.inner.wire.shutdown();
    }

    fn next_id(&self) -> RequestId {
        RequestId::Number(self.inner.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// The current session, negotiating a new one when there is none or the wire was reset.
    async fn session(&self) -> Result<Arc<Session>, ClientError> {
        let mut guard = self.inner.session.lock().await;
        let generation = self.inner.wire.generation();
        if let Some(s) = guard.as_ref() {
            if s.generation == generation {
                return Ok(s.clone());
            }
        }
        let reconnect = guard.is_some();
        *guard = None;
        let session = Arc::new(self.negotiate().await?);
        *guard = Some(session.clone());
        drop(guard);
        lock(&self.inner.mirrors).clear();
        if reconnect {
            let _ = self.inner.wire.events().send(ServerEvent::Reconnected);
        }
        if self.inner.config.watch_changes || !lock(&self.inner.subscriptions).is_empty() {
            self.spawn_watcher(&session);
        }
        Ok(session)
    }

    /// Forgets the session so the next request negotiates again.
    async fn forget_session(&self, stale: &Arc<Session>) {
        let mut guard = self.inner.session.lock().await;
        if guard.as_ref().is_some_and(|s| Arc::ptr_eq(s, stale)) {
            *guard = None;
            self.inner.wire.reset_session();
        }
    }

    fn framing(&self, session: Option<&Session>, modern: bool) -> Framing {
        Framing {
            modern,
            version: session.map(|s| s.era.version()),
            headers: Vec::new(),
        }
    }

    async fn negotiate(&self) -> Result<Session, ClientError> {
        let generation = self.inner.wire.generation();
        let config = &self.inner.config;
        if config.era != EraPreference::Handshake {
            match self.discover().await {
                Ok(mut s) => {
                    s.generation = generation;
                    return Ok(s);
                }
                Err(e) if config.era == EraPreference::Modern => return Err(e),
                Err(e) if e.is_unavailable() && !matches!(e, ClientError::Timeout(_)) => {
                    return Err(e)
                }
                Err(e) => tracing::debug!(%e, "server/discover failed; falling back to initialize"),
            }
        }
        let mut s = self.initialize().await?;
        s.generation = self.inner.wire.generation();
        Ok(s)
    }

    async fn discover(&self) -> Result<Session, ClientError> {
        let framing = self.framing(None, true);
        let mut params = JsonObject::new();
        self.stamp_envelope(&mut params, &RequestOptions::new());
        let opts = RequestOptions::new().timeout(self.inner.config.discover_timeout);
        let value = self
            .round(
                "server/discover",
                Value::Object(params),
                &framing,
                &opts,
                &NoHandler,
                &mut HashMap::new(),
            )
            .await?
            .map_err(ClientError::Rpc)?;
        let supported = value
            .get("supportedVersions")
            .and_then(Value::as_array)
            .is_some_and(|v| {
                v.iter()
                    .any(|x| x.as_str() == Some(ProtocolVersion::V2026_07_28.as_str()))
            });
        if !supported {
            return Err(ClientError::Protocol(
                "server/discover does not list 2026-07-28 among supportedVersions".into(),
            ));
        }
        Ok(Session {
            era: Era::Modern,
            server_info: value
                .get("_meta")
                .and_then(|m| m.get(meta::SERVER_INFO))
                .and_then(|i| serde_json::from_value(i.clone()).ok())
                .unwrap_or_default(),
            capabilities: value
                .get("capabilities")
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .unwrap_or_default(),
            instructions: value
                .get("instructions")
                .and_then(Value::as_str)
                .map(str::to_owned),
            generation: 0,
        })
    }

    async fn initialize(&self) -> Result<Session, ClientError> {
        let config = &self.inner.config;
        let framing = self.framing(None, false);
        let params = json!({
            "protocolVersion": ProtocolVersion::LATEST_HANDSHAKE.as_str(),
            "capabilities": config.capabilities,
            "clientInfo": config.client_info,
        });
        let value = self
            .round(
                "initialize",
                params,
                &framing,
                &RequestOptions::new(),
                &NoHandler,
                &mut HashMap::new(),
            )
            .await?
            .map_err(ClientError::Rpc)?;
        let version: ProtocolVersion = value
            .get("protocolVersion")
            .and_then(Value::as_str)
            .and_then(|v| v.parse().ok())
            .filter(|v: &ProtocolVersion| v.is_handshake())
            .ok_or_else(|| {
                ClientError::Protocol(format!(
                    "initialize answered an unsupported protocolVersion: {}",
                    value.get("protocolVersion").unwrap_or(&Value::Null)
                ))
            })?;
        let session = Session {
            era: Era::Handshake(version),
            server_info: value
                .get("serverInfo")
                .and_then(|i| serde_json::from_value(i.clone()).ok())
                .unwrap_or_default(),
            capabilities: value
                .get("capabilities")
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .unwrap_or_default(),
            instructions: value
                .get("instructions")
                .and_then(Value::as_str)
                .map(str::to_owned),
            generation: 0,
        };
        if let Wire::Http(w) = &self.inner.wire {
            w.set_version(version);
        }
        let framing = self.framing(Some(&session), false);
        self.inner
            .wire
            .notify("notifications/initialized", json!({}), &framing)
            .await;
        Ok(session)
    }

    /// Adds the 2026-07-28 envelope to `params._meta`.
    fn stamp_envelope(&self, params: &mut JsonObject, opts: &RequestOptions) {
        let config = &self.inner.config;
        let meta = params
            .entry("_meta")
            .or_insert_with(|| Value::Object(JsonObject::new()));
        if !meta.is_object() {
            *meta = Value::Object(JsonObject::new());
        }
        if let Value::Object(m) = meta {
            m.insert(
                meta::PROTOCOL_VERSION.into(),
                ProtocolVersion::V2026_07_28.as_str().into(),
            );
            let caps = opts.capabilities.as_ref().unwrap_or(&config.capabilities);
            m.insert(
                meta::CLIENT_CAPABILITIES.into(),
                serde_json::to_value(caps).unwrap_or_else(|_| json!({})),
            );
            m.insert(
                meta::CLIENT_INFO.into(),
                serde_json::to_value(&config.client_info).unwrap_or_else(|_| json!({})),
            );
            if let Some(level) = opts.log_level {
                m.insert(meta::LOG_LEVEL.into(), json!(level));
            }
        }
    }

    /// The `Mcp-Param-*` headers of a 2026-07-28 `tools/call`.
    fn param_headers(&self, params: &JsonObject) -> Vec<(String, String)> {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return Vec::new();
        };
        let mirrors = lock(&self.inner.mirrors);
        let Some(list) = mirrors.get(name) else {
            return Vec::new();
        };
        let args = params.get("arguments");
        let mut out = Vec::new();
        for (header, path) in list {
            let mut v = args;
            for key in path {
                v = v.and_then(|x| x.get(key));
            }
            let text = match v {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                Some(_) => continue,
            };
            out.push((format!("Mcp-Param-{header}"), text));
        }
        out
    }

    fn remember_mirrors(&self, tools: &[Tool]) {
        let mut mirrors = lock(&self.inner.mirrors);
        for tool in tools {
            let found = http::mirrored(&tool.input_schema);
            if found.is_empty() {
                mirrors.remove(&tool.name);
            } else {
                mirrors.insert(tool.name.clone(), found);
            }
        }
    }

    /// Sends any request and waits for its final result: the 2026-07-28 envelope is added,
    /// `input_required` rounds are answered through `handler`, and the handshake era's
    /// server→client requests too. `params` must be a JSON object or `null`.
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::client::{Client, ClientConfig, HttpTransport, NoHandler, RequestOptions};
    /// use serde_json::json;
    ///
    /// # use mcp_core::{Args, Router, ToolDef};
    /// # #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// # struct Sum { a: i64, b: i64 }
    /// # async fn add(Args(s): Args<Sum>) -> String { (s.a + s.b).to_string() }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/mcp", listener.local_addr()?);
    /// # let router: Router = Router::new().tool(ToolDef::new("add", add).description("Adds"));
    /// # let service = mcp_transport::http::McpService::from_router(router);
    /// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
    /// let client = Client::connect(HttpTransport::new(url), ClientConfig::default()).await?;
    /// let listed = client.request("tools/list", json!({}), &RequestOptions::new(), &NoHandler).await?;
    /// assert_eq!(listed["tools"][0]["name"], "add");
    /// let err = client.request("no/such/method", json!({}), &RequestOptions::new(), &NoHandler).await.unwrap_err();
    /// assert!(!err.is_unavailable());
    /// # Ok(()) }
    /// ```
    pub async fn request(
        &self,
        method: &str,
        params: Value,
        opts: &RequestOptions,
        handler: &dyn Handler,
    ) -> Result<Value, ClientError> {
        let mut params = match params {
            Value::Null => JsonObject::new(),
            Value::Object(m) => m,
            other => {
                return Err(ClientError::Protocol(format!(
                    "request params must be an object, not {other}"
                )))
            }
        };
        let mut session = self.session().await?;
        let mut keys = HashMap::new();
        let mut rounds = 0usize;
        let mut resent_session = false;
        let mut refreshed_headers = false;
        let as_task = opts.as_task && method == "tools/call";
        // A task call declares the tasks extension (2026-07-28).
        let task_opts = as_task.then(|| {
            let mut o = opts.clone();
            o.capabilities = Some(with_tasks_extension(
                opts.capabilities
                    .as_ref()
                    .unwrap_or(&self.inner.config.capabilities),
            ));
            o
        });
        loop {
            let modern = session.era.is_modern();
            let mut wire_params = params.clone();
            if modern {
                self.stamp_envelope(&mut wire_params, task_opts.as_ref().unwrap_or(opts));
            } else if as_task && session.era.at_least(ProtocolVersion::V2025_11_25) {
                let mut task = JsonObject::new();
                if let Some(ttl) = opts.task_ttl {
                    task.insert(
                        "ttl".into(),
                        json!(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
                    );
                }
                wire_params.insert("task".into(), Value::Object(task));
            }
            let mut framing = self.framing(Some(&session), modern);
            if modern && method == "tools/call" {
                framing.headers = self.param_headers(&params);
            }
            let answer = match self
                .round(
                    method,
                    Value::Object(wire_params),
                    &framing,
                    opts,
                    handler,
                    &mut keys,
                )
                .await
            {
                Err(ClientError::SessionExpired) if !resent_session => {
                    resent_session = true;
                    self.forget_session(&session).await;
                    session = self.session().await?;
                    continue;
                }
                Err(e) => return Err(e),
                Ok(a) => a,
            };
            let value = match answer {
                Err(e)
                    if e.code == ErrorCode::HEADER_MISMATCH
                        && method == "tools/call"
                        && !refreshed_headers =>
                {
                    // The tool's x-mcp-header properties may be unknown yet: list, then resend.
                    refreshed_headers = true;
                    let _ = Box::pin(self.list_tools()).await;
                    continue;
                }
                Err(e) => return Err(ClientError::Rpc(e)),
                Ok(v) => v,
            };
            let input_required =
                modern && value.get("resultType").and_then(Value::as_str) == Some("input_required");
            if !input_required {
                if as_task {
                    if let Some(task) = created_task(&value, modern) {
                        handler.task_created(&task).await;
                        let follow = TaskFollow {
                            client: self,
                            task: &task,
                            opts: task_opts.as_ref().unwrap_or(opts),
                            handler,
                        };
                        return if modern {
                            Box::pin(follow.modern()).await
                        } else {
                            Box::pin(follow.handshake()).await
                        };
                    }
                }
                return Ok(value);
            }
            rounds += 1;
            if rounds > self.inner.config.max_input_rounds {
                return Err(ClientError::TooManyRounds(
                    self.inner.config.max_input_rounds,
                ));
            }
            let responses = answer_inputs(&value, handler).await?;
            params.insert("inputResponses".into(), Value::Object(responses));
            match value.get("requestState") {
                Some(state) => params.insert("requestState".into(), state.clone()),
                None => params.remove("requestState"),
            };
        }
    }

    /// One request on the wire, until its response.
    async fn round(
        &self,
        method: &str,
        params: Value,
        framing: &Framing,
        opts: &RequestOptions,
        handler: &dyn Handler,
        keys: &mut HashMap<String, usize>,
    ) -> Result<Result<Value, ErrorObject>, ClientError> {
        let id = self.next_id();
        let mut params = params;
        // Progress comes back only for requests that carry a token.
        if method != "initialize" && method != "server/discover" {
            if let Value::Object(m) = &mut params {
                let meta = m
                    .entry("_meta")
                    .or_insert_with(|| Value::Object(JsonObject::new()));
                if let Value::Object(meta) = meta {
                    meta.entry(meta::PROGRESS_TOKEN)
                        .or_insert_with(|| json!(format!("p{id}")));
                }
            }
        }
        let limit = opts
            .timeout
            .unwrap_or(self.inner.config.request_timeout)
            .max(Duration::from_millis(1));
        let mut exchange =
            tokio::time::timeout(limit, self.inner.wire.start(&id, method, &params, framing))
                .await
                .map_err(|_| ClientError::Timeout(limit))??;
        let mut guard = CancelGuard {
            client: (!self.inner.wire.drop_cancels(framing.modern)
                && method != "initialize"
                && method != "server/discover")
                .then(|| self.clone()),
            id: id.clone(),
            framing: framing.clone(),
        };
        let mut asks = FuturesUnordered::new();
        loop {
            let waiting = !asks.is_empty();
            let next = async {
                if waiting {
                    Ok(exchange.rx.recv().await)
                } else {
                    tokio::time::timeout(limit, exchange.rx.recv())
                        .await
                        .map_err(|_| ClientError::Timeout(limit))
                }
            };
            tokio::select! {
                Some((ask_id, answer)) = asks.next(), if waiting => {
                    self.inner.wire.reply(ask_id, answer, framing).await;
                }
                message = next => {
                    let message = match message {
                        Err(e) => return Err(e),
                        Ok(None) => return Err(ClientError::Closed),
                        Ok(Some(Err(e))) => {
                            guard.client = None;
                            return Err(e);
                        }
                        Ok(Some(Ok(m))) => m,
                    };
                    match message {
                        Incoming::Response(r) => {
                            guard.client = None;
                            return Ok(r);
                        }
                        Incoming::Notification { method, params } => {
                            notify_handler(handler, &method, params).await;
                        }
                        Incoming::Request { id: ask_id, method, params } => {
                            if method == "ping" {
                                self.inner.wire.reply(ask_id, Ok(json!({})), framing).await;
                                continue;
                            }
                            let n = keys.entry(method.clone()).or_insert(0);
                            *n += 1;
                            let ask = ServerAsk {
                                key: format!("{}-{n}", ask_prefix(&method)),
                                method,
                                params,
                            };
                            asks.push(async move { (ask_id, handler.ask(ask).await) });
                        }
                    }
                }
            }
        }
    }

    /// Keeps a change stream open, restarting it when it ends. In 2026-07-28 the stream's
    /// filter names the subscribed resources, so a new subscription replaces the stream.
    fn spawn_watcher(&self, session: &Arc<Session>) {
        let caps = &session.capabilities;
        let modern = session.era.is_modern();
        let subscribed: Vec<String> = if caps.resources.is_some() {
            lock(&self.inner.subscriptions).iter().cloned().collect()
        } else {
            Vec::new()
        };
        let watch = self.inner.config.watch_changes;
        let wants = watch
            && (caps.tools.as_ref().and_then(|c| c.list_changed) == Some(true)
                || caps.prompts.as_ref().and_then(|c| c.list_changed) == Some(true)
                || caps.resources.as_ref().and_then(|c| c.list_changed) == Some(true));
        if !wants && subscribed.is_empty() {
            // Nothing to watch (any more): the last subscription ended.
            if let Some(old) = lock(&self.inner.watcher).take() {
                old.abort();
            }
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let generation = session.generation;
        let mut filter = json!({
            "toolsListChanged": watch && caps.tools.is_some(),
            "promptsListChanged": watch && caps.prompts.is_some(),
            "resourcesListChanged": watch && caps.resources.is_some(),
        });
        if modern && !subscribed.is_empty() {
            filter["resourceSubscriptions"] = json!(subscribed);
        }
        let task = tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else { return };
                if inner.wire.generation() != generation {
                    return;
                }
                let client = Client { inner };
                let delay = client.inner.config.reconnect_delay;
                if modern {
                    let _ = client.listen(filter.clone()).await;
                } else if let Wire::Http(w) = &client.inner.wire {
                    let framing = client.framing(None, false);
                    let w = w.clone();
                    drop(client);
                    if !w.get_stream(&framing).await {
                        return;
                    }
                } else {
                    // Handshake-era stdio: announcements arrive on stdout anyway.
                    return;
                }
                tokio::time::sleep(delay.max(Duration::from_millis(100))).await;
            }
        });
        if let Some(old) = lock(&self.inner.watcher).replace(task.abort_handle()) {
            old.abort();
        }
    }

    /// Runs one `subscriptions/listen` until it ends, reporting what arrives as events.
    async fn listen(&self, filter: Value) -> Result<(), ClientError> {
        let mut params = JsonObject::new();
        params.insert("notifications".into(), filter);
        self.stamp_envelope(&mut params, &RequestOptions::new());
        let framing = self.framing(None, true);
        let id = self.next_id();
        let mut exchange = self
            .inner
            .wire
            .start(
                &id,
                "subscriptions/listen",
                &Value::Object(params),
                &framing,
            )
            .await?;
        // A stream replaced by another (a new subscription) must end on the server too, or
        // both would deliver (on stdio, where closing nothing cancels it).
        let mut guard = CancelGuard {
            client: (!self.inner.wire.drop_cancels(true)).then(|| self.clone()),
            id,
            framing,
        };
        let events = self.inner.wire.events().clone();
        while let Some(message) = exchange.rx.recv().await {
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    guard.client = None;
                    return Err(e);
                }
            };
            match message {
                Incoming::Notification { method, params } => {
                    if let Some(event) = event_of(&method, &params) {
                        let _ = events.send(event);
                    }
                }
                Incoming::Response(_) => {
                    guard.client = None;
                    return Ok(());
                }
                Incoming::Request { .. } => {}
            }
        }
        guard.client = None;
        Ok(())
    }

    // ----- typed methods -----

    async fn list_all<T: DeserializeOwned>(
        &self,
        method: &str,
        field: &str,
    ) -> Result<Vec<T>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => Value::Null,
            };
            let page = self
                .request(method, params, &RequestOptions::new(), &NoHandler)
                .await?;
            let list = page
                .get(field)
                .and_then(Value::as_array)
                .ok_or_else(|| ClientError::Protocol(format!("{method}: no `{field}` array")))?;
            for item in list {
                match serde_json::from_value(item.clone()) {
                    Ok(v) => items.push(v),
                    Err(e) => tracing::warn!(%e, %method, "skipping an unreadable list entry"),
                }
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) if Some(next) != cursor.as_deref() => cursor = Some(next.to_owned()),
                _ => return Ok(items),
            }
        }
        Err(ClientError::Protocol(format!(
            "{method}: more than 1000 pages"
        )))
    }

    /// Every tool, across pages.
    ///
    /// See [`Client`] for an example.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, ClientError> {
        let tools: Vec<Tool> = self.list_all("tools/list", "tools").await?;
        self.remember_mirrors(&tools);
        Ok(tools)
    }

    /// Every prompt, across pages.
    ///
    /// See [`Client`] for an example.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, ClientError> {
        self.list_all("prompts/list", "prompts").await
    }

    /// Every resource, across pages.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Args, ResourceDef, Router, TemplateDef};
    /// use mcp_transport::client::{Client, ClientConfig, HttpTransport};
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Day { day: String }
    /// async fn today() -> String { "sunny".into() }
    /// async fn forecast(Args(d): Args<Day>) -> String { format!("{}: rain", d.day) }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/mcp", listener.local_addr()?);
    /// let router: Router = Router::new()
    ///     .resource(ResourceDef::new("weather://today", "today", today))
    ///     .resource_template(TemplateDef::new("weather://{day}", "forecast", forecast));
    /// # let service = mcp_transport::http::McpService::from_router(router);
    /// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
    /// let client = Client::connect(HttpTransport::new(url), ClientConfig::default()).await?;
    /// assert_eq!(client.list_resources().await?[0].uri, "weather://today");
    /// assert_eq!(client.list_resource_templates().await?[0].uri_template, "weather://{day}");
    /// let read = client.read_resource("weather://monday").await?;
    /// assert_eq!(read.contents[0].as_text(), Some("monday: rain"));
    /// # Ok(()) }
    /// ```
    pub async fn list_resources(&self) -> Result<Vec<Resource>, ClientError> {
        self.list_all("resources/list", "resources").await
    }

    /// Every resource template, across pages.
    ///
    /// See [`Client::list_resources`] for an example.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, ClientError> {
        self.list_all("resources/templates/list", "resourceTemplates")
            .await
    }

    /// Calls a tool (arguments: a JSON object or `null`), refusing the server's questions.
    ///
    /// See [`Client`] for an example.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, ClientError> {
        self.call_tool_with(name, arguments, &RequestOptions::new(), &NoHandler)
            .await
    }

    /// Calls a tool with options and a handler for its notifications and questions.
    ///
    /// See [`Handler`] for an example.
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        opts: &RequestOptions,
        handler: &dyn Handler,
    ) -> Result<CallToolResult, ClientError> {
        let params = match arguments {
            Value::Null => json!({ "name": name }),
            args => json!({ "name": name, "arguments": args }),
        };
        let value = self.request("tools/call", params, opts, handler).await?;
        decode("tools/call", value)
    }

    /// Gets a prompt.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::router::Completing;
    /// use mcp_core::{Args, CompletionDef, PromptDef, Router};
    /// use mcp_transport::client::{Client, ClientConfig, HttpTransport};
    /// use serde_json::json;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Lang { lang: String }
    /// async fn greet(Args(l): Args<Lang>) -> String { format!("Say hi in {}", l.lang) }
    /// async fn langs(c: Completing) -> Vec<String> {
    ///     ["rust", "ruby"].iter().filter(|l| l.starts_with(&c.value)).map(|l| l.to_string()).collect()
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/mcp", listener.local_addr()?);
    /// let router: Router = Router::new()
    ///     .prompt(PromptDef::new("greet", greet))
    ///     .completion(CompletionDef::prompt("greet", "lang", langs));
    /// # let service = mcp_transport::http::McpService::from_router(router);
    /// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
    /// let client = Client::connect(HttpTransport::new(url), ClientConfig::default()).await?;
    /// let prompt = client.get_prompt("greet", json!({"lang": "rust"})).await?;
    /// assert_eq!(prompt.messages.len(), 1);
    /// let reference = mcp_core::protocol::CompletionReference::Prompt { name: "greet".into(), title: None };
    /// assert_eq!(client.complete(reference, "lang", "r").await?.values, ["rust", "ruby"]);
    /// # Ok(()) }
    /// ```
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<GetPromptResult, ClientError> {
        let params = match arguments {
            Value::Null => json!({ "name": name }),
            args => json!({ "name": name, "arguments": args }),
        };
        let value = self
            .request("prompts/get", params, &RequestOptions::new(), &NoHandler)
            .await?;
        decode("prompts/get", value)
    }

    /// Reads a resource.
    ///
    /// See [`Client::list_resources`] for an example.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, ClientError> {
        let value = self
            .request(
                "resources/read",
                json!({ "uri": uri }),
                &RequestOptions::new(),
                &NoHandler,
            )
            .await?;
        decode("resources/read", value)
    }

    /// Completes a prompt argument or template variable.
    ///
    /// See [`Client::get_prompt`] for an example.
    pub async fn complete(
        &self,
        reference: CompletionReference,
        argument: &str,
        value: &str,
    ) -> Result<Completion, ClientError> {
        let params = json!({
            "ref": reference,
            "argument": { "name": argument, "value": value },
        });
        let result = self
            .request(
                "completion/complete",
                params,
                &RequestOptions::new(),
                &NoHandler,
            )
            .await?;
        result
            .get("completion")
            .cloned()
            .ok_or_else(|| ClientError::Protocol("completion/complete: no `completion`".into()))
            .and_then(|c| decode("completion/complete", c))
    }

    /// Sets the handshake-era log level (`logging/setLevel`); in 2026-07-28 a no-op (pass
    /// [`RequestOptions::log_level`] instead).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::LoggingLevel;
    /// use mcp_transport::client::{Client, ClientConfig, EraPreference, HttpTransport};
    ///
    /// # use mcp_core::{Args, Router, ToolDef};
    /// # #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// # struct Sum { a: i64, b: i64 }
    /// # async fn add(Args(s): Args<Sum>) -> String { (s.a + s.b).to_string() }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/mcp", listener.local_addr()?);
    /// # let router: Router = Router::new().tool(ToolDef::new("add", add).description("Adds"));
    /// # let service = mcp_transport::http::McpService::from_router(router);
    /// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
    /// let config = ClientConfig::default().era(EraPreference::Handshake);
    /// let client = Client::connect(HttpTransport::new(url), config).await?;
    /// client.set_log_level(LoggingLevel::Error).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_log_level(&self, level: LoggingLevel) -> Result<(), ClientError> {
        if self.era().await?.is_modern() {
            return Ok(());
        }
        self.request(
            "logging/setLevel",
            json!({ "level": level }),
            &RequestOptions::new(),
            &NoHandler,
        )
        .await
        .map(drop)
    }

    /// Subscribes to a resource's updates, reported on [`Client::events`] as
    /// [`ServerEvent::ResourceUpdated`]: `resources/subscribe` in the handshake era (over HTTP
    /// the updates come on the GET stream, opened for it); in 2026-07-28 the URI joins the
    /// `resourceSubscriptions` of the client's `subscriptions/listen` stream (opened, or
    /// opened again, for it).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{ResourceDef, Router, Server};
    /// use mcp_transport::client::{Client, ClientConfig, HttpTransport, ServerEvent};
    /// use mcp_transport::http::{HttpConfig, McpService};
    ///
    /// async fn status() -> String { "green".into() }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let url = format!("http://{}/mcp", listener.local_addr()?);
    /// let server = Server::new(Router::new().resource(ResourceDef::new("status://build", "build", status)));
    /// # let service = McpService::new(server.clone(), HttpConfig::default());
    /// # tokio::spawn(mcp_transport::http::serve_with(service, listener, std::future::pending()));
    /// let client = Client::connect(HttpTransport::new(url), ClientConfig::default()).await?;
    /// let mut events = client.events();
    /// client.subscribe_resource("status://build").await?;
    /// # tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    /// server.handle().notify_resource_updated("status://build");
    /// let event = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv()).await??;
    /// assert_eq!(event, ServerEvent::ResourceUpdated("status://build".into()));
    /// client.unsubscribe_resource("status://build").await?;
    /// # Ok(()) }
    /// ```
    pub async fn subscribe_resource(&self, uri: &str) -> Result<(), ClientError> {
        let session = self.session().await?;
        let modern = session.era.is_modern();
        if !modern {
            self.request(
                "resources/subscribe",
                json!({ "uri": uri }),
                &RequestOptions::new(),
                &NoHandler,
            )
            .await?;
        }
        let added = {
            let mut subs = lock(&self.inner.subscriptions);
            subs.len() < MAX_SUBSCRIPTIONS && subs.insert(uri.to_owned())
        };
        if added && (modern || lock(&self.inner.watcher).is_none()) {
            self.spawn_watcher(&session);
        }
        Ok(())
    }

    /// Ends a subscription made with [`Client::subscribe_resource`].
    ///
    /// See [`Client::subscribe_resource`] for an example.
    pub async fn unsubscribe_resource(&self, uri: &str) -> Result<(), ClientError> {
        let session = self.session().await?;
        let removed = lock(&self.inner.subscriptions).remove(uri);
        if session.era.is_modern() {
            if removed {
                self.spawn_watcher(&session);
            }
            return Ok(());
        }
        self.request(
            "resources/unsubscribe",
            json!({ "uri": uri }),
            &RequestOptions::new(),
            &NoHandler,
        )
        .await
        .map(drop)
    }
}

/// The capabilities `caps` plus the tasks extension.
fn with_tasks_extension(caps: &ClientCapabilities) -> ClientCapabilities {
    let mut caps = caps.clone();
    caps.extensions
        .get_or_insert_with(JsonObject::new)
        .entry(TASKS_EXTENSION)
        .or_insert_with(|| json!({}));
    caps
}

/// The task a `tools/call` result announces, if it is a `CreateTaskResult`.
fn created_task(value: &Value, modern: bool) -> Option<Value> {
    let task = if modern {
        (value.get("resultType").and_then(Value::as_str) == Some("task")).then_some(value)?
    } else {
        value.get("task")?
    };
    task.get("taskId").and_then(Value::as_str)?;
    Some(task.clone())
}

/// Drops the handshake era's `related-task` marker from a task's result.
fn without_related_task(mut result: Value) -> Value {
    if let Some(obj) = result.as_object_mut() {
        let empty = match obj.get_mut("_meta").and_then(Value::as_object_mut) {
            Some(m) => {
                m.remove(meta::RELATED_TASK);
                m.is_empty()
            }
            None => false,
        };
        if empty {
            obj.remove("_meta");
        }
        obj.remove("resultType");
    }
    result
}

/// Cancels the server's task (`tasks/cancel`) unless disarmed: the follower was dropped.
struct TaskCancel {
    client: Option<Client>,
    id: String,
    opts: RequestOptions,
}

impl TaskCancel {
    fn disarm(&mut self) {
        self.client = None;
    }
}

impl Drop for TaskCancel {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let id = std::mem::take(&mut self.id);
        let mut opts = std::mem::take(&mut self.opts);
        opts.timeout = Some(Duration::from_secs(10));
        rt.spawn(async move {
            let r = client
                .request("tasks/cancel", json!({ "taskId": id }), &opts, &NoHandler)
                .await;
            if let Err(e) = r {
                tracing::debug!(%e, task = %id, "cancelling the server's task failed");
            }
        });
    }
}

/// Follows a task the server created for a `tools/call` until it ends.
struct TaskFollow<'a> {
    client: &'a Client,
    task: &'a Value,
    /// The call's options (2026-07-28: with the tasks extension declared).
    opts: &'a RequestOptions,
    handler: &'a dyn Handler,
}

impl TaskFollow<'_> {
    fn id(&self) -> String {
        self.task
            .get("taskId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// Options of the follow-up requests: no task, no logs, the call's timeout and
    /// capabilities.
    fn follow_opts(&self) -> RequestOptions {
        RequestOptions {
            capabilities: self.opts.capabilities.clone(),
            timeout: self.opts.timeout,
            ..RequestOptions::default()
        }
    }

    /// 2026-07-28: polls `tasks/get` (backing off up to the task's `pollIntervalMs`),
    /// answers `input_required` through the handler and `tasks/update`.
    async fn modern(self) -> Result<Value, ClientError> {
        let id = self.id();
        let opts = self.follow_opts();
        let mut cancel = TaskCancel {
            client: Some(self.client.clone()),
            id: id.clone(),
            opts: opts.clone(),
        };
        let most = Duration::from_millis(
            self.task
                .get("pollIntervalMs")
                .and_then(Value::as_u64)
                .unwrap_or(500)
                .clamp(20, 5_000),
        );
        let least = Duration::from_millis(20).min(most);
        let mut wait = least;
        loop {
            let t = self
                .client
                .request("tasks/get", json!({ "taskId": id }), &opts, &NoHandler)
                .await?;
            match t.get("status").and_then(Value::as_str) {
                Some("completed") => {
                    cancel.disarm();
                    let result = t
                        .get("result")
                        .cloned()
                        .unwrap_or_else(|| json!({"content": []}));
                    return Ok(without_related_task(result));
                }
                Some("failed") => {
                    cancel.disarm();
                    return Err(ClientError::TaskFailed(task_error(&t)));
                }
                Some("cancelled") => {
                    cancel.disarm();
                    return Err(ClientError::TaskCancelled);
                }
                Some("input_required") => {
                    let answers = answer_inputs(&t, self.handler).await?;
                    if !answers.is_empty() {
                        self.client
                            .request(
                                "tasks/update",
                                json!({ "taskId": id, "inputResponses": answers }),
                                &opts,
                                &NoHandler,
                            )
                            .await?;
                    }
                    wait = least;
                    continue;
                }
                _ => {}
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(most);
        }
    }

    /// The handshake era: `tasks/result` (the task's questions arrive as server→client
    /// requests while it waits), asked again when it times out on a long task.
    async fn handshake(self) -> Result<Value, ClientError> {
        let id = self.id();
        let opts = self.follow_opts();
        let mut cancel = TaskCancel {
            client: Some(self.client.clone()),
            id: id.clone(),
            opts: opts.clone(),
        };
        loop {
            let r = self
                .client
                .request("tasks/result", json!({ "taskId": id }), &opts, self.handler)
                .await;
            match r {
                Ok(v) => {
                    cancel.disarm();
                    return Ok(without_related_task(v));
                }
                Err(ClientError::Rpc(e)) => {
                    // Failed, or cancelled: tasks/get tells which.
                    let t = self
                        .client
                        .request("tasks/get", json!({ "taskId": id }), &opts, &NoHandler)
                        .await?;
                    cancel.disarm();
                    return Err(match t.get("status").and_then(Value::as_str) {
                        Some("cancelled") => ClientError::TaskCancelled,
                        _ => ClientError::TaskFailed(e),
                    });
                }
                Err(ClientError::Timeout(_)) => {
                    // Quiet for a whole timeout: still there? Then wait again.
                    self.client
                        .request("tasks/get", json!({ "taskId": id }), &opts, &NoHandler)
                        .await?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The protocol error of a failed task (`tasks/get` in 2026-07-28).
fn task_error(task: &Value) -> ErrorObject {
    task.get("error")
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_else(|| {
            ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                task.get("statusMessage")
                    .and_then(Value::as_str)
                    .unwrap_or("the task failed"),
            )
        })
}

/// Answers every entry of an `input_required` result, concurrently.
async fn answer_inputs(result: &Value, handler: &dyn Handler) -> Result<JsonObject, ClientError> {
    let Some(requests) = result.get("inputRequests").and_then(Value::as_object) else {
        return Ok(JsonObject::new());
    };
    let asks = requests.iter().map(|(key, entry)| {
        let method = entry
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let params = entry.get("params").cloned().unwrap_or_else(|| json!({}));
        let key = key.clone();
        async move {
            let answer = handler
                .ask(ServerAsk {
                    key: key.clone(),
                    method,
                    params,
                })
                .await;
            (key, answer)
        }
    });
    let answers = futures_util::future::join_all(asks).await;
    let mut out = JsonObject::new();
    for (key, answer) in answers {
        out.insert(key, answer.map_err(ClientError::Rpc)?);
    }
    Ok(out)
}

async fn notify_handler(handler: &dyn Handler, method: &str, params: Value) {
    match method {
        "notifications/progress" => {
            if let Ok(p) = serde_json::from_value::<ProgressParams>(params) {
                handler.progress(p).await;
            }
        }
        "notifications/message" => {
            if let Ok(p) = serde_json::from_value::<LoggingMessageParams>(params) {
                handler.log(p).await;
            }
        }
        _ => {}
    }
}

/// The event an unsolicited notification stands for.
pub(crate) fn event_of(method: &str, params: &Value) -> Option<ServerEvent> {
    match method {
        "notifications/tools/list_changed" => Some(ServerEvent::ToolsChanged),
        "notifications/prompts/list_changed" => Some(ServerEvent::PromptsChanged),
        "notifications/resources/list_changed" => Some(ServerEvent::ResourcesChanged),
        "notifications/resources/updated" => params
            .get("uri")
            .and_then(Value::as_str)
            .map(|u| ServerEvent::ResourceUpdated(u.to_owned())),
        "notifications/message" => serde_json::from_value(params.clone())
            .ok()
            .map(ServerEvent::Log),
        _ => None,
    }
}
