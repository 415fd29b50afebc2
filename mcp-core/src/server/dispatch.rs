//! One connection: era state, the validation ladder, and method dispatch.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_util::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::seal::{self, Cursor, RequestState};
use super::service::{Dispatch, McpRequest};
use super::{ListChanged, Registry, Server, ServerHandle, Shared};
use crate::context::{
    Channel, Context, ContextInner, Interrupts, LogThreshold, Outgoing, OutgoingKind, Peer, Sink,
};
use crate::era::{claims_modern, unsupported_version, Envelope, Era};
use crate::extract::RequestParts;
use crate::handler::BoxFuture;
use crate::identity::{Identity, RequestMeta};
use crate::jsonrpc::{
    ErrorCode, ErrorObject, Message, Notification, Request, RequestId, ResponsePayload,
};
use crate::protocol::{
    meta, CallToolParams, CallToolResult, CancelledParams, ClientCapabilities, CompleteParams,
    CompleteResult, Completion, CompletionReference, DiscoverResult, GetPromptParams,
    Implementation, InitializeParams, InitializeResult, JsonObject, ListenParams, PaginatedParams,
    ProgressToken, ProtocolVersion, ReadResourceParams, SetLevelParams, SubscriptionFilter,
    TaskStatus, TaskSupport, Tool,
};
use crate::router::CompletionTarget;
use tower::ServiceExt;

/// The handshake-era session of a request, if any.
pub(crate) type SessionRef = Option<Arc<Session>>;

/// A handshake-era session's negotiated facts.
#[derive(Debug)]
pub(crate) struct Session {
    version: ProtocolVersion,
    capabilities: Arc<ClientCapabilities>,
    client_info: Option<Arc<Implementation>>,
}

#[derive(Debug)]
enum Mode {
    /// Nothing decided yet (stdio before the first real request).
    Undecided,
    /// A handshake-era session.
    Handshake(Arc<Session>),
    /// Serving 2026-07-28.
    Modern,
}

/// The methods of the 2026-07-28 revision this runtime serves.
const MODERN_METHODS: &[&str] = &[
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "server/discover",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "completion/complete",
    "subscriptions/listen",
];

/// One client connection: a stdio process, or one HTTP session.
///
/// Feed it every message the client sends with [`Connection::receive`]; it answers on the
/// [`Sink`] given with each message, and sends unsolicited notifications (list changes) on the
/// sink given at creation.
///
/// # Examples
///
/// A transport's work, done by hand: parse each line the client sends, hand it over, write out
/// what comes back on the sink.
///
/// ```
/// use mcp_core::jsonrpc::Message;
/// use mcp_core::{Connection, Router, Server};
///
/// async fn ping() -> &'static str { "pong" }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = Server::new(Router::new().tool_fn("ping", ping));
/// let (tx, mut rx) = tokio::sync::mpsc::channel(16);
/// let conn = Connection::new(&server, tx.clone());
/// let send = |json: &str| conn.receive(Message::parse(json.as_bytes()).unwrap(), tx.clone());
///
/// send(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"doc","version":"1"}}}"#);
/// assert!(rx.recv().await.unwrap().json.contains(r#""protocolVersion":"2025-06-18""#));
/// send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
/// assert_eq!(conn.handshake_version().map(|v| v.as_str()), Some("2025-06-18"));
/// assert!(!conn.is_modern());
///
/// send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ping","arguments":{}}}"#);
/// assert!(rx.recv().await.unwrap().json.contains("pong"));
///
/// // Shutting down: no new work, then wait for what is in flight.
/// conn.close();
/// conn.wait().await;
/// # }
/// ```
pub struct Connection {
    shared: Arc<Shared>,
    mode: Mutex<Mode>,
    peer: Arc<Peer>,
    log: Arc<LogThreshold>,
    inflight: Mutex<HashMap<RequestId, (u64, AbortHandle, CancellationToken)>>,
    serial: std::sync::atomic::AtomicU64,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    subscriptions: Arc<Mutex<HashSet<String>>>,
    unsolicited: Unsolicited,
    initialized: std::sync::atomic::AtomicBool,
    /// Tasks created here without an authenticated caller (or a session) are visible only to
    /// this owner.
    /// Chosen at random when first needed.
    owner: Mutex<Option<String>>,
    default_identity: Mutex<Option<Arc<Identity>>>,
    /// Set while catalogue changes are delivered here.
    watch_id: std::sync::OnceLock<u64>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(id) = self.watch_id.get() {
            self.shared.unwatch(*id);
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// 128 random bits, hex.
fn random_owner() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    let mut owner = String::with_capacity(32);
    for x in b {
        owner.push(char::from(HEX[usize::from(x >> 4)]));
        owner.push(char::from(HEX[usize::from(x & 15)]));
    }
    owner
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn err(code: ErrorCode, msg: impl Into<String>) -> ErrorObject {
    ErrorObject::new(code, msg)
}

fn method_not_found(method: &str) -> ErrorObject {
    err(ErrorCode::METHOD_NOT_FOUND, "Method not found").with_data(Value::String(method.to_owned()))
}

/// Parses typed params from the raw text, so duplicate members are refused.
fn parse_params<T: DeserializeOwned + Default>(raw: Option<&RawValue>) -> Result<T, ErrorObject> {
    match raw {
        None => Ok(T::default()),
        Some(r) => serde_json::from_str(r.get())
            .map_err(|e| err(ErrorCode::INVALID_PARAMS, format!("invalid params: {e}"))),
    }
}

fn parse_required<T: DeserializeOwned>(raw: Option<&RawValue>) -> Result<T, ErrorObject> {
    let text = raw.map(RawValue::get).unwrap_or("{}");
    serde_json::from_str(text)
        .map_err(|e| err(ErrorCode::INVALID_PARAMS, format!("invalid params: {e}")))
}

fn to_value(v: impl Serialize) -> Result<Value, ErrorObject> {
    serde_json::to_value(v).map_err(|e| {
        err(
            ErrorCode::INTERNAL_ERROR,
            format!("result serialization failed: {e}"),
        )
    })
}

pub(crate) fn response_json(id: Option<&RequestId>, result: Result<Value, ErrorObject>) -> String {
    answer_json(id, result.map(Answer::Value))
}

/// Writes a response line straight from its parts (no intermediate `Value` for the
/// envelope). Members in sorted order, as `serde_json::Value` would write them.
pub(crate) fn answer_json(id: Option<&RequestId>, result: Result<Answer, ErrorObject>) -> String {
    #[derive(Serialize)]
    struct Success<'a, T> {
        id: Option<&'a RequestId>,
        jsonrpc: &'static str,
        result: &'a T,
    }
    #[derive(Serialize)]
    struct Failure<'a> {
        error: &'a ErrorObject,
        id: Option<&'a RequestId>,
        jsonrpc: &'static str,
    }
    let written = match &result {
        Ok(Answer::Value(v)) => serde_json::to_string(&Success {
            id,
            jsonrpc: "2.0",
            result: v,
        }),
        Ok(Answer::Tool(r)) => serde_json::to_string(&Success {
            id,
            jsonrpc: "2.0",
            result: r,
        }),
        Err(e) => serde_json::to_string(&Failure {
            error: e,
            id,
            jsonrpc: "2.0",
        }),
    };
    written.unwrap_or_else(|e| {
        let error = err(
            ErrorCode::INTERNAL_ERROR,
            format!("result serialization failed: {e}"),
        );
        serde_json::to_string(&Failure {
            error: &error,
            id,
            jsonrpc: "2.0",
        })
        .unwrap_or_default()
    })
}

/// A request's result on its way to the client.
pub(crate) enum Answer {
    /// Built as JSON (era shaping already applied).
    Value(Value),
    /// A handshake-era `tools/call` result: written straight to text when no layer needs
    /// to see it as JSON.
    Tool(CallToolResult),
}

impl Answer {
    /// The result as JSON, for layers.
    pub(crate) fn into_value(self) -> Result<Value, ErrorObject> {
        match self {
            Answer::Value(v) => Ok(v),
            Answer::Tool(r) => to_value(r),
        }
    }
}

enum Round<T> {
    Done(T),
    Interrupted(Interrupts),
}

/// Polls a handler; in 2026-07-28 a handler that waits on an unanswered question ends the round.
async fn run_round<F: Future>(fut: F, ctx: &Context) -> Round<F::Output> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
        Poll::Ready(v) => Poll::Ready(Round::Done(v)),
        Poll::Pending => match ctx.take_interrupts() {
            Some(i) => Poll::Ready(Round::Interrupted(i)),
            None => Poll::Pending,
        },
    })
    .await
}

/// How a tool handler ended.
enum ToolRun {
    Done(CallToolResult),
    Panicked(String),
}

impl ToolRun {
    /// Outside tasks a panic is a tool error the model can read.
    fn into_sync_result(self) -> CallToolResult {
        match self {
            ToolRun::Done(r) => r,
            ToolRun::Panicked(name) => CallToolResult::error(format!(
                "internal error: the tool {name:?} failed unexpectedly (it panicked); the server keeps running, and retrying may help"
            )),
        }
    }
}

/// A tools/call that runs as a task.
struct TaskMode {
    ttl_ms: u64,
    required: bool,
}

enum TaskStart {
    Interrupted(Interrupts),
    Error(ErrorObject),
}

/// What the modern era attaches to a request being served.
pub(crate) struct ModernCall {
    envelope: Envelope,
}

/// Where a connection sends what no request asked for: catalogue changes, and the messages
/// of a task that outlived its request. Either a ready [`Sink`] (stdout, on stdio), or one made
/// when the first such message comes, for transports that hold many mostly idle connections
/// (a queue per HTTP session costs more than the rest of the session).
///
/// # Examples
/// ```
/// use std::sync::{Arc, OnceLock};
/// use mcp_core::context::Sink;
/// use mcp_core::server::Unsolicited;
///
/// // Ready now:
/// let (tx, _rx) = tokio::sync::mpsc::channel(16);
/// let ready: Unsolicited = tx.into();
///
/// // Made on first use (the receiver is kept elsewhere until a stream reads it):
/// let queue: Arc<OnceLock<Sink>> = Arc::default();
/// let lazy = Unsolicited::lazy(move || {
///     queue.get_or_init(|| tokio::sync::mpsc::channel(16).0).clone()
/// });
/// # let _ = (ready, lazy);
/// ```
pub struct Unsolicited(UnsolicitedSink);

enum UnsolicitedSink {
    Ready(Sink),
    Lazy(Box<dyn Fn() -> Sink + Send + Sync>),
}

impl Unsolicited {
    /// A sink made by `make` each time one is needed; `make` should create its channel once
    /// and hand out clones of the sender.
    ///
    /// See [`Unsolicited`] for an example.
    pub fn lazy(make: impl Fn() -> Sink + Send + Sync + 'static) -> Self {
        Unsolicited(UnsolicitedSink::Lazy(Box::new(make)))
    }

    fn sink(&self) -> Sink {
        match &self.0 {
            UnsolicitedSink::Ready(sink) => sink.clone(),
            UnsolicitedSink::Lazy(make) => make(),
        }
    }
}

impl From<Sink> for Unsolicited {
    fn from(sink: Sink) -> Self {
        Unsolicited(UnsolicitedSink::Ready(sink))
    }
}

impl std::fmt::Debug for Unsolicited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            UnsolicitedSink::Ready(_) => "Unsolicited::Ready",
            UnsolicitedSink::Lazy(_) => "Unsolicited::Lazy",
        })
    }
}

impl Connection {
    /// Opens a connection. `unsolicited` receives list-change notifications (stdout on stdio,
    /// the GET stream over HTTP).
    ///
    /// See [`Connection`] for an example.
    pub fn new(server: &Server, unsolicited: impl Into<Unsolicited>) -> Arc<Connection> {
        let conn = Arc::new(Self::bare(server, unsolicited));
        conn.watch_changes();
        conn
    }

    /// A connection for stateless 2026-07-28 traffic: pinned to the modern era from the start,
    /// shareable by any number of concurrent requests (drive them with
    /// [`Connection::receive_inline`]).
    ///
    /// # Examples
    ///
    /// Stateless 2026-07-28 traffic: every request carries its envelope, and the transport drives
    /// each request's future itself.
    ///
    /// ```
    /// use mcp_core::jsonrpc::Message;
    /// use mcp_core::{Connection, Router, Server};
    ///
    /// async fn ping() -> &'static str { "pong" }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = Server::new(Router::new().tool_fn("ping", ping));
    /// let conn = Connection::new_modern(&server);
    /// assert!(conn.is_modern());
    ///
    /// let request = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ping","arguments":{},
    ///   "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    /// let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    /// let future = conn.receive_inline(Message::parse(request.as_bytes()).unwrap(), tx).unwrap();
    /// future.await; // dropping it instead would cancel the request
    /// assert!(rx.recv().await.unwrap().json.contains("pong"));
    /// # }
    /// ```
    pub fn new_modern(server: &Server) -> Arc<Connection> {
        let (tx, _rx) = tokio::sync::mpsc::channel(1);
        let conn = Self::bare(server, tx);
        *lock(&conn.mode) = Mode::Modern;
        Arc::new(conn)
    }

    /// A handshake-era connection that skips `initialize` (stateless HTTP), speaking `version`
    /// with the given client capabilities.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::jsonrpc::Message;
    /// use mcp_core::protocol::{ClientCapabilities, ProtocolVersion};
    /// use mcp_core::{Connection, Router, Server};
    ///
    /// async fn ping() -> &'static str { "pong" }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = Server::new(Router::new().tool_fn("ping", ping));
    /// let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    /// // Stateless HTTP in the handshake era: no `initialize`, the version comes from a header.
    /// let conn = Connection::new_handshake(&server, ProtocolVersion::V2025_06_18, ClientCapabilities::default(), tx.clone());
    /// assert_eq!(conn.handshake_version(), Some(ProtocolVersion::V2025_06_18));
    /// let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ping","arguments":{}}}"#;
    /// conn.receive(Message::parse(call.as_bytes()).unwrap(), tx);
    /// assert!(rx.recv().await.unwrap().json.contains("pong"));
    /// # }
    /// ```
    pub fn new_handshake(
        server: &Server,
        version: ProtocolVersion,
        capabilities: ClientCapabilities,
        unsolicited: impl Into<Unsolicited>,
    ) -> Arc<Connection> {
        let conn = Self::bare(server, unsolicited);
        *lock(&conn.mode) = Mode::Handshake(Arc::new(Session {
            version,
            capabilities: Arc::new(capabilities),
            client_info: None,
        }));
        Arc::new(conn)
    }

    /// A handshake-era session continued on this instance (revived from a session store after
    /// `initialize` ran elsewhere): like [`Connection::new`] after a successful `initialize`,
    /// catalogue changes go to `unsolicited`.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::{ClientCapabilities, Implementation, ProtocolVersion};
    /// use mcp_core::{Connection, Router, Server};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = Server::new(Router::new());
    /// let (tx, _rx) = tokio::sync::mpsc::channel(16);
    /// // What a session store kept about a session that `initialize`d on another instance:
    /// let conn = Connection::resume_handshake(
    ///     &server,
    ///     ProtocolVersion::V2025_11_25,
    ///     ClientCapabilities::default(),
    ///     Some(Implementation::new("inspector", "1.0")),
    ///     tx,
    /// );
    /// assert_eq!(conn.handshake_version(), Some(ProtocolVersion::V2025_11_25));
    /// # }
    /// ```
    pub fn resume_handshake(
        server: &Server,
        version: ProtocolVersion,
        capabilities: ClientCapabilities,
        client_info: Option<Implementation>,
        unsolicited: impl Into<Unsolicited>,
    ) -> Arc<Connection> {
        let conn = Self::bare(server, unsolicited);
        *lock(&conn.mode) = Mode::Handshake(Arc::new(Session {
            version,
            capabilities: Arc::new(capabilities),
            client_info: client_info.map(Arc::new),
        }));
        conn.initialized
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let conn = Arc::new(conn);
        conn.watch_changes();
        conn
    }

    fn bare(server: &Server, unsolicited: impl Into<Unsolicited>) -> Connection {
        let unsolicited = unsolicited.into();
        Connection {
            shared: server.shared.clone(),
            mode: Mutex::new(Mode::Undecided),
            peer: Arc::new(Peer::default()),
            log: Arc::new(LogThreshold::default()),
            inflight: Mutex::new(HashMap::new()),
            serial: std::sync::atomic::AtomicU64::new(0),
            tracker: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            subscriptions: Arc::new(Mutex::new(HashSet::new())),
            unsolicited,
            initialized: std::sync::atomic::AtomicBool::new(false),
            owner: Mutex::new(None),
            default_identity: Mutex::new(None),
            watch_id: std::sync::OnceLock::new(),
        }
    }

    /// Has catalogue changes delivered to this connection (handshake era).
    fn watch_changes(self: &Arc<Self>) {
        let id = self.shared.watch(Arc::downgrade(self));
        let _ = self.watch_id.set(id);
    }

    /// Tells a handshake-era client about a change, if it wants to know: a list change
    /// always, a resource update when it subscribed to the resource. A client whose queue is
    /// full misses the notification (they are hints; the next list call is current).
    pub(crate) fn deliver_change(&self, change: &ListChanged) {
        if self.shutdown.is_cancelled() || !matches!(*lock(&self.mode), Mode::Handshake(_)) {
            return;
        }
        let json = match change {
            ListChanged::ResourceUpdated(uri) => {
                if !lock(&self.subscriptions).contains(uri) {
                    return;
                }
                json!({"jsonrpc":"2.0","method":change.notification_method(),"params":{"uri":uri}})
            }
            _ => json!({"jsonrpc":"2.0","method":change.notification_method()}),
        }
        .to_string();
        let note = Outgoing {
            kind: OutgoingKind::Notification,
            json,
        };
        if let Err(e) = self.unsolicited.sink().try_send(note) {
            tracing::debug!(%e, "a change notification was not queued");
        }
    }

    /// Handles one message from the client. Requests run concurrently on their own tasks and
    /// answer on `sink`; notifications and responses are handled at once.
    ///
    /// See [`Connection`] for an example.
    pub fn receive(self: &Arc<Self>, message: Message, sink: Sink) {
        self.receive_with(message, sink, RequestMeta::default())
    }

    /// Like [`Connection::receive`], with what the transport knows about the request (the
    /// authenticated identity, the client address, …).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::identity::{Identity, RequestMeta};
    /// use mcp_core::jsonrpc::Message;
    /// use mcp_core::protocol::{ClientCapabilities, ProtocolVersion};
    /// use mcp_core::{Connection, Context, Router, Server};
    ///
    /// async fn whoami(ctx: Context) -> String {
    ///     ctx.identity().map(|i| i.subject.clone()).unwrap_or_default()
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = Server::new(Router::new().tool_fn("whoami", whoami));
    /// let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    /// let conn = Connection::new_handshake(&server, ProtocolVersion::V2025_06_18, ClientCapabilities::default(), tx.clone());
    /// let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
    /// let meta = RequestMeta::default().with_identity(Identity::new("alice"));
    /// conn.receive_with(Message::parse(call.as_bytes()).unwrap(), tx, meta);
    /// assert!(rx.recv().await.unwrap().json.contains("alice"));
    /// # }
    /// ```
    pub fn receive_with(self: &Arc<Self>, message: Message, sink: Sink, meta: RequestMeta) {
        let meta = self.with_default_identity(meta);
        match message {
            Message::Request(req) => self.receive_request(req, sink, meta),
            Message::Notification(n) => self.receive_notification(n),
            Message::Response(r) => {
                if let Some(id) = &r.id {
                    if !self.peer.resolve(id, r.payload) {
                        tracing::debug!(%id, "response to an unknown request id ignored");
                    }
                }
            }
        }
    }

    /// Like [`Connection::receive`], but a request is not spawned: its future is returned for
    /// the transport to drive, so dropping it cancels the request (2026-07-28 over HTTP, where
    /// closing the response stream is the cancellation).
    ///
    /// See [`Connection::new_modern`] for an example.
    pub fn receive_inline(self: &Arc<Self>, message: Message, sink: Sink) -> Option<BoxFuture<()>> {
        self.receive_inline_with(message, sink, RequestMeta::default())
    }

    /// [`Connection::receive_inline`] with request metadata.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::identity::{Identity, RequestMeta};
    /// use mcp_core::jsonrpc::Message;
    /// use mcp_core::{Connection, Context, Router, Server};
    ///
    /// async fn whoami(ctx: Context) -> String {
    ///     ctx.identity().map(|i| i.subject.clone()).unwrap_or_default()
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let conn = Connection::new_modern(&Server::new(Router::new().tool_fn("whoami", whoami)));
    /// let request = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{},
    ///   "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    /// let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    /// let meta = RequestMeta::default().with_identity(Identity::new("alice"));
    /// let future = conn.receive_inline_with(Message::parse(request.as_bytes()).unwrap(), tx, meta);
    /// future.expect("a request is driven by the caller").await;
    /// assert!(rx.recv().await.unwrap().json.contains("alice"));
    /// # }
    /// ```
    pub fn receive_inline_with(
        self: &Arc<Self>,
        message: Message,
        sink: Sink,
        meta: RequestMeta,
    ) -> Option<BoxFuture<()>> {
        let meta = self.with_default_identity(meta);
        match message {
            Message::Request(req) => {
                let token = self.shutdown.child_token();
                Some(self.request_future(req, sink, token, meta))
            }
            other => {
                self.receive_with(other, sink, meta);
                None
            }
        }
    }

    /// Every request on this connection is made by `identity` unless the transport says
    /// otherwise (for example a local stdio server run by its user).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::identity::Identity;
    /// use mcp_core::{Connection, Router, Server};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = Server::new(Router::new());
    /// let (tx, _rx) = tokio::sync::mpsc::channel(16);
    /// let conn = Connection::new(&server, tx);
    /// // A local stdio server acts for the user who started it.
    /// conn.set_default_identity(Some(Identity::new("local-user").with_scopes(["files:write"])));
    /// # }
    /// ```
    pub fn set_default_identity(&self, identity: Option<Identity>) {
        *lock(&self.default_identity) = identity.map(Arc::new);
    }

    fn with_default_identity(&self, mut meta: RequestMeta) -> RequestMeta {
        if meta.identity.is_none() {
            meta.identity = lock(&self.default_identity).clone();
        }
        meta
    }

    /// Stops accepting work: listen streams end, and [`Connection::wait`] resolves once every
    /// in-flight request has answered.
    ///
    /// See [`Connection`] for an example.
    pub fn close(&self) {
        self.shutdown.cancel();
        self.tracker.close();
    }

    /// Stops taking new requests without cancelling the ones in flight: [`Connection::wait`]
    /// then resolves when they have answered (graceful shutdown; [`Connection::close`] after
    /// the grace period cancels what is left).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use mcp_core::{Connection, Router, Server};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = Server::new(Router::new());
    /// let (tx, _rx) = tokio::sync::mpsc::channel(16);
    /// let conn = Connection::new(&server, tx);
    /// // Graceful shutdown: let in-flight requests finish, but not forever.
    /// conn.drain();
    /// if tokio::time::timeout(Duration::from_secs(10), conn.wait()).await.is_err() {
    ///     conn.close();
    /// }
    /// # }
    /// ```
    pub fn drain(&self) {
        self.tracker.close();
    }

    /// Waits for in-flight requests (after [`Connection::close`]).
    ///
    /// See [`Connection::drain`] for an example.
    pub async fn wait(&self) {
        self.tracker.wait().await
    }

    /// Cancels one in-flight request: its future is dropped and it is never answered.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::jsonrpc::{Message, RequestId};
    /// use mcp_core::protocol::{ClientCapabilities, ProtocolVersion};
    /// use mcp_core::{Connection, Router, Server};
    ///
    /// async fn slow() -> &'static str {
    ///     tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    ///     "done"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = Server::new(Router::new().tool_fn("slow", slow));
    /// let (tx, _rx) = tokio::sync::mpsc::channel(16);
    /// let conn = Connection::new_handshake(&server, ProtocolVersion::V2025_06_18, ClientCapabilities::default(), tx.clone());
    /// let call = r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"slow","arguments":{}}}"#;
    /// conn.receive(Message::parse(call.as_bytes()).unwrap(), tx);
    /// assert!(conn.cancel(&RequestId::Number(9)));
    /// assert!(!conn.cancel(&RequestId::Number(9)));
    /// # }
    /// ```
    pub fn cancel(&self, id: &RequestId) -> bool {
        match lock(&self.inflight).remove(id) {
            Some((_, abort, token)) => {
                token.cancel();
                abort.abort();
                true
            }
            None => false,
        }
    }

    /// The negotiated handshake version, once `initialize` succeeded.
    ///
    /// See [`Connection`] for an example.
    pub fn handshake_version(&self) -> Option<ProtocolVersion> {
        match &*lock(&self.mode) {
            Mode::Handshake(s) => Some(s.version),
            _ => None,
        }
    }

    /// Whether this connection is serving the 2026-07-28 revision.
    ///
    /// See [`Connection::new_modern`] for an example.
    pub fn is_modern(&self) -> bool {
        matches!(*lock(&self.mode), Mode::Modern)
    }

    fn receive_notification(&self, n: Notification) {
        match n.method.as_str() {
            "notifications/cancelled" => {
                let params: Result<CancelledParams, _> = parse_required(n.params.as_deref());
                if let Ok(CancelledParams {
                    request_id: Some(id),
                    ..
                }) = params
                {
                    if self.cancel(&id) {
                        tracing::debug!(%id, "request cancelled by the client");
                    }
                }
            }
            "notifications/initialized" => {
                self.initialized
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
            "notifications/roots/list_changed"
            | "notifications/progress"
            | "notifications/elicitation/complete" => {}
            other => tracing::debug!(method = other, "ignoring an unknown notification"),
        }
    }

    fn receive_request(self: &Arc<Self>, req: Request, sink: Sink, meta: RequestMeta) {
        let id = req.id.clone();
        let token = self.shutdown.child_token();
        let mut fut = self.request_future(req, sink, token.clone(), meta);
        // Most requests finish on their first poll (a quick tool, a list): serve them right
        // here, without a task and the thread hand-off it costs. One that waits is moved to a
        // task, which polls it again at once with its own waker.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))) {
            Ok(Poll::Ready(())) => return,
            Ok(Poll::Pending) => {}
            Err(_) => {
                tracing::error!(%id, "a request panicked outside its handler");
                return;
            }
        }
        let serial = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let conn = self.clone();
        let task_id = id.clone();
        // Inserted while holding the lock the task needs to remove it, so the entry exists
        // before the task can end; the task removes only its own entry (a client may reuse an
        // id once it has its response).
        let mut inflight = lock(&self.inflight);
        let handle = self.tracker.spawn(async move {
            fut.await;
            let mut inflight = lock(&conn.inflight);
            if inflight.get(&task_id).is_some_and(|e| e.0 == serial) {
                inflight.remove(&task_id);
            }
        });
        inflight.insert(id, (serial, handle.abort_handle(), token));
    }

    /// Routes a request and returns the future that serves it and sends its answer.
    fn request_future(
        self: &Arc<Self>,
        req: Request,
        sink: Sink,
        token: CancellationToken,
        meta: RequestMeta,
    ) -> BoxFuture<()> {
        // Only `_meta` decides the era: read it alone, skipping the rest of the params.
        let params_value: Option<Value> = req.params.as_deref().and_then(crate::era::meta_only);
        let claimed = claims_modern(params_value.as_ref());
        let method = req.method.as_str();
        enum Route {
            Modern(Box<Envelope>),
            Handshake(Arc<Session>),
            Answer(Result<Value, ErrorObject>),
        }
        let route = {
            let mut mode = lock(&self.mode);
            if claimed {
                match &*mode {
                    Mode::Handshake(_) => Route::Answer(Err(err(
                        ErrorCode::INVALID_REQUEST,
                        "this connection serves the handshake protocol era; requests carrying the 2026-07-28 envelope are not accepted on it",
                    ))),
                    _ => match self.ladder(method, params_value.as_ref()) {
                        Ok(env) => {
                            let env = Box::new(env);
                            let pin = matches!(*mode, Mode::Undecided) && method != "server/discover";
                            if pin {
                                *mode = Mode::Modern;
                            }
                            Route::Modern(env)
                        }
                        Err(e) => Route::Answer(Err(e)),
                    },
                }
            } else {
                match (&*mode, method) {
                    (Mode::Undecided, "ping") => Route::Answer(Ok(json!({}))),
                    (Mode::Undecided, "initialize") => match self.initialize(req.params.as_deref()) {
                        Ok((session, result)) => {
                            *mode = Mode::Handshake(session);
                            Route::Answer(Ok(result))
                        }
                        Err(e) => Route::Answer(Err(e)),
                    },
                    (Mode::Undecided, "server/discover") => Route::Answer(Err(method_not_found(method))),
                    (Mode::Undecided, _) => Route::Answer(Err(err(
                        ErrorCode::INVALID_PARAMS,
                        "the connection is not initialized: send `initialize` first (handshake era) or carry the 2026-07-28 `_meta` envelope",
                    ))),
                    (Mode::Handshake(_), "initialize") => Route::Answer(Err(err(
                        ErrorCode::INVALID_REQUEST,
                        "`initialize` was already received on this connection",
                    ))),
                    (Mode::Handshake(s), _) => Route::Handshake(s.clone()),
                    (Mode::Modern, "initialize") => {
                        let requested = req
                            .params
                            .as_deref()
                            .and_then(|p| serde_json::from_str::<Value>(p.get()).ok())
                            .as_ref()
                            .and_then(|p| p.get("protocolVersion"))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned();
                        let mut e = unsupported_version(&requested);
                        e.message = "connection is serving the 2026-07-28 protocol; the initialize handshake is not accepted".into();
                        Route::Answer(Err(e))
                    }
                    (Mode::Modern, _) => match self.ladder(method, params_value.as_ref()) {
                        Ok(env) => Route::Modern(Box::new(env)),
                        Err(e) => Route::Answer(Err(e)),
                    },
                }
            }
        };
        let (modern, session) = match route {
            Route::Answer(result) => {
                let json = response_json(Some(&req.id), result);
                return Box::pin(async move {
                    let _ = sink
                        .send(Outgoing {
                            kind: OutgoingKind::Response,
                            json,
                        })
                        .await;
                });
            }
            Route::Modern(envelope) => (
                Some(ModernCall {
                    envelope: *envelope,
                }),
                None,
            ),
            Route::Handshake(session) => (None, Some(session)),
        };
        let conn = self.clone();
        let era = match (&modern, &session) {
            (Some(_), _) => Era::Modern,
            (None, Some(s)) => Era::Handshake(s.version),
            (None, None) => Era::Handshake(ProtocolVersion::LATEST_HANDSHAKE),
        };
        if !self.shared.layered {
            return Box::pin(async move {
                let id = req.id.clone();
                let answer = conn
                    .serve(req, sink.clone(), modern, session, token, meta)
                    .await;
                if let Some(result) = answer {
                    let json = answer_json(Some(&id), result);
                    let _ = sink
                        .send(Outgoing {
                            kind: OutgoingKind::Response,
                            json,
                        })
                        .await;
                }
            });
        }
        let service = self.shared.service.clone();
        Box::pin(async move {
            let id = req.id.clone();
            let mcp_request = McpRequest {
                id: req.id.clone(),
                method: req.method.clone(),
                params: req
                    .params
                    .as_deref()
                    .and_then(|p| serde_json::from_str(p.get()).ok()),
                era,
                meta,
                dispatch: Some(Dispatch {
                    conn: conn.clone(),
                    req,
                    sink: sink.clone(),
                    modern,
                    session,
                    cancel: token,
                }),
            };
            let answer = match service.oneshot(mcp_request).await {
                Ok(answer) => answer,
                Err(never) => match never {},
            };
            if let Some(result) = answer {
                let json = response_json(Some(&id), result);
                let _ = sink
                    .send(Outgoing {
                        kind: OutgoingKind::Response,
                        json,
                    })
                    .await;
            }
        })
    }

    /// The 2026-07-28 validation ladder, rungs 1, 3, 4 and the envelope part of 5. (Rungs 0, 2
    /// and 6 are HTTP's; the transport runs them before the body gets here.)
    /// Runs the 2026-07-28 validation ladder on a request without serving it, so a transport
    /// can map its failures to HTTP statuses before anything runs.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Connection, Router, Server};
    /// use serde_json::json;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// async fn ping() -> &'static str { "pong" }
    /// let conn = Connection::new_modern(&Server::new(Router::new().tool_fn("ping", ping)));
    /// let good = json!({"_meta": {
    ///     "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    ///     "io.modelcontextprotocol/clientCapabilities": {},
    /// }});
    /// assert!(conn.check_modern("tools/list", Some(&good)).is_ok());
    /// // No envelope: rejected before anything runs (an HTTP transport answers 400).
    /// assert_eq!(conn.check_modern("tools/list", Some(&json!({}))).unwrap_err().code.0, -32602);
    /// # }
    /// ```
    pub fn check_modern(
        &self,
        method: &str,
        params: Option<&Value>,
    ) -> Result<Envelope, ErrorObject> {
        self.ladder(method, params)
    }

    fn ladder(&self, method: &str, params: Option<&Value>) -> Result<Envelope, ErrorObject> {
        let env = Envelope::from_params(params)?;
        env.supported_version()?;
        if !MODERN_METHODS.contains(&method) {
            return Err(method_not_found(method));
        }
        let caps = self.shared.capabilities();
        let declared = match method {
            "tools/list" | "tools/call" => caps.tools.is_some(),
            "prompts/list" | "prompts/get" => caps.prompts.is_some(),
            "resources/list" | "resources/templates/list" | "resources/read" => {
                caps.resources.is_some()
            }
            "completion/complete" => {
                caps.completions.is_some() || caps.prompts.is_some() || caps.resources.is_some()
            }
            "tasks/get" | "tasks/update" | "tasks/cancel" => self.tasks_offered(),
            _ => true,
        };
        if !declared {
            return Err(method_not_found(method));
        }
        // Rung 7 for the task surface: the request must declare the extension itself.
        if method.starts_with("tasks/") && !declares_tasks(&env.client_capabilities) {
            return Err(missing_tasks_extension());
        }
        Ok(env)
    }

    fn initialize(&self, raw: Option<&RawValue>) -> Result<(Arc<Session>, Value), ErrorObject> {
        let params: InitializeParams = parse_required(raw)?;
        let version = params
            .protocol_version
            .parse::<ProtocolVersion>()
            .ok()
            .filter(|v| v.is_handshake())
            .unwrap_or(ProtocolVersion::LATEST_HANDSHAKE);
        let session = Arc::new(Session {
            version,
            capabilities: Arc::new(params.capabilities),
            client_info: Some(Arc::new(params.client_info)),
        });
        let mut info = self.shared.info.clone();
        if version < ProtocolVersion::V2025_11_25 {
            info.icons = None;
            info.website_url = None;
            info.description = None;
        }
        let result = InitializeResult {
            protocol_version: version,
            capabilities: self.shared.capabilities_for(version),
            server_info: info,
            instructions: self.shared.instructions.clone(),
            meta: None,
        };
        Ok((session, to_value(result)?))
    }

    #[allow(clippy::too_many_arguments)]
    fn context(
        &self,
        id: &RequestId,
        progress_token: Option<ProgressToken>,
        sink: Sink,
        modern: Option<&ModernCall>,
        session: Option<&Arc<Session>>,
        answers: JsonObject,
        cancel: CancellationToken,
        task_capable: bool,
        identity: Option<Arc<Identity>>,
    ) -> Context {
        let (era, capabilities, client_info, channel) = match (modern, session) {
            (Some(m), _) => (
                Era::Modern,
                Arc::new(m.envelope.client_capabilities.clone()),
                m.envelope.client_info.clone().map(Arc::new),
                Channel::Modern {
                    answers,
                    log: m.envelope.log_level,
                    interrupts: Default::default(),
                },
            ),
            (None, Some(s)) => (
                Era::Handshake(s.version),
                s.capabilities.clone(),
                s.client_info.clone(),
                Channel::Handshake {
                    peer: self.peer.clone(),
                    log: self.log.clone(),
                },
            ),
            (None, None) => (
                Era::Handshake(ProtocolVersion::LATEST_HANDSHAKE),
                Arc::default(),
                None,
                Channel::Handshake {
                    peer: self.peer.clone(),
                    log: self.log.clone(),
                },
            ),
        };
        Context {
            inner: Arc::new(ContextInner {
                request_id: id.clone(),
                era,
                capabilities,
                client_info,
                progress_token,
                sink,
                channel,
                cancel,
                server: ServerHandle {
                    shared: self.shared.clone(),
                },
                peer_timeout: self.shared.config.client_request_timeout,
                last_progress: Mutex::new(None),
                task: std::sync::OnceLock::new(),
                task_capable,
                identity,
            }),
        }
    }

    /// Serves one request. `None` means "send nothing" (a listen stream that ended by cancel).
    pub(crate) async fn serve(
        &self,
        req: Request,
        sink: Sink,
        modern: Option<ModernCall>,
        session: Option<Arc<Session>>,
        cancel: CancellationToken,
        meta: RequestMeta,
    ) -> Option<Result<Answer, ErrorObject>> {
        let raw = req.params.as_deref();
        let era = if modern.is_some() {
            Era::Modern
        } else {
            Era::Handshake(
                session
                    .as_ref()
                    .map_or(ProtocolVersion::LATEST_HANDSHAKE, |s| s.version),
            )
        };
        let registry = self.shared.registry();
        let method = req.method.as_str();
        let result = match method {
            "ping" if !era.is_modern() => Ok(json!({})),
            "server/discover" if era.is_modern() => self.discover(),
            "logging/setLevel" if !era.is_modern() => {
                parse_required::<SetLevelParams>(raw).map(|p| {
                    self.log.set(p.level);
                    json!({})
                })
            }
            "tools/list" => self.list_tools(&registry, raw, era, &meta),
            "prompts/list" => self
                .list(raw, "prompts", &registry.prompts, |p| &p.prompt)
                .map(|(items, next)| json!({"prompts": items, "nextCursor": next})),
            "resources/list" if registry.templates.iter().any(|t| t.list.is_some()) => {
                let context = self.context(
                    &req.id,
                    None,
                    sink.clone(),
                    modern.as_ref(),
                    session.as_ref(),
                    JsonObject::new(),
                    cancel.clone(),
                    false,
                    meta.identity.clone(),
                );
                self.list_all_resources(&registry, raw, context).await
            }
            "resources/list" => self
                .list(raw, "resources", &registry.resources, |r| &r.resource)
                .map(|(items, next)| json!({"resources": items, "nextCursor": next})),
            "resources/templates/list" => self
                .list(raw, "templates", &registry.templates, |t| &t.template)
                .map(|(items, next)| json!({"resourceTemplates": items, "nextCursor": next})),
            "resources/subscribe" | "resources/unsubscribe" if !era.is_modern() => {
                parse_required::<ReadResourceParams>(raw).map(|p| {
                    let mut subs = lock(&self.subscriptions);
                    if method == "resources/subscribe" {
                        if subs.len() < 10_000 {
                            subs.insert(p.uri);
                        }
                    } else {
                        subs.remove(&p.uri);
                    }
                    json!({})
                })
            }
            "completion/complete" => {
                self.complete(
                    &registry,
                    raw,
                    &sink,
                    modern.as_ref(),
                    session.as_ref(),
                    &req.id,
                    cancel.clone(),
                    &meta,
                )
                .await
            }
            "tasks/get" | "tasks/cancel" | "tasks/update" | "tasks/result" | "tasks/list" => {
                self.task_method(method, raw, era, &self.task_owner(&meta))
                    .await
            }
            "subscriptions/listen" if era.is_modern() => {
                let ended = self.listen(&req.id, raw, &sink, cancel).await;
                return ended.map(|r| r.map(Answer::Value));
            }
            "tools/call" | "prompts/get" | "resources/read" => {
                let answer = self
                    .call(
                        method,
                        &registry,
                        &req.id,
                        raw,
                        sink,
                        modern.as_ref(),
                        session.as_ref(),
                        cancel,
                        &meta,
                    )
                    .await;
                return Some(answer.map(|a| match a {
                    Answer::Value(v) => Answer::Value(self.finish(v, method, era)),
                    typed => typed,
                }));
            }
            _ => Err(method_not_found(method)),
        };
        Some(result.map(|v| Answer::Value(self.finish(v, method, era))))
    }

    /// Era-correct result shape: `resultType`, cache hints and server info in 2026-07-28;
    /// none of them in the handshake era. `null` `nextCursor`s are dropped in both.
    fn finish(&self, mut value: Value, method: &str, era: Era) -> Value {
        if let Some(obj) = value.as_object_mut() {
            if obj.get("nextCursor").is_some_and(Value::is_null) {
                obj.remove("nextCursor");
            }
            if era.is_modern() {
                obj.entry("resultType").or_insert_with(|| "complete".into());
                let complete = obj.get("resultType").and_then(Value::as_str) == Some("complete");
                let cacheable = matches!(
                    method,
                    "server/discover"
                        | "tools/list"
                        | "prompts/list"
                        | "resources/list"
                        | "resources/templates/list"
                        | "resources/read"
                );
                if cacheable && complete {
                    obj.entry("ttlMs").or_insert(json!(0));
                    obj.entry("cacheScope").or_insert(json!("private"));
                }
                let meta = obj.entry("_meta").or_insert_with(|| json!({}));
                if let Some(m) = meta.as_object_mut() {
                    m.insert(
                        meta::SERVER_INFO.into(),
                        json!({"name": self.shared.info.name, "version": self.shared.info.version}),
                    );
                }
            }
        }
        value
    }

    fn discover(&self) -> Result<Value, ErrorObject> {
        to_value(DiscoverResult {
            supported_versions: ProtocolVersion::MODERN
                .iter()
                .map(|v| v.as_str().to_owned())
                .collect(),
            capabilities: self.shared.capabilities_for(ProtocolVersion::V2026_07_28),
            instructions: self.shared.instructions.clone(),
        })
    }

    fn page<'a, T>(
        &self,
        raw: Option<&RawValue>,
        list: &str,
        items: &'a [T],
    ) -> Result<(&'a [T], Option<String>), ErrorObject> {
        let params: PaginatedParams = parse_params(raw)?;
        let bad = || {
            err(
                ErrorCode::INVALID_PARAMS,
                "invalid cursor: pass back the `nextCursor` of the previous page unchanged",
            )
        };
        let start = match params.cursor {
            None => 0,
            Some(c) => {
                let cursor: Cursor = self.shared.key.open(&c).ok_or_else(bad)?;
                if cursor.l != list || cursor.o > items.len() {
                    return Err(bad());
                }
                cursor.o
            }
        };
        let size = self.shared.config.page_size.max(1);
        let end = (start + size).min(items.len());
        let next = (end < items.len()).then(|| {
            self.shared.key.seal(&Cursor {
                l: list.to_owned(),
                o: end,
            })
        });
        Ok((&items[start..end], next))
    }

    fn list<T, M: Serialize>(
        &self,
        raw: Option<&RawValue>,
        list: &str,
        items: &[Arc<T>],
        meta: impl Fn(&T) -> &M,
    ) -> Result<(Vec<Value>, Option<String>), ErrorObject> {
        let (page, next) = self.page(raw, list, items)?;
        let values = page
            .iter()
            .map(|i| to_value(meta(i)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((values, next))
    }

    /// `resources/list` with template listings: the static resources, then each template's.
    async fn list_all_resources(
        &self,
        registry: &Registry,
        raw: Option<&RawValue>,
        context: Context,
    ) -> Result<Value, ErrorObject> {
        let mut all: Vec<crate::protocol::Resource> = registry
            .resources
            .iter()
            .map(|r| r.resource.clone())
            .collect();
        for t in &registry.templates {
            let Some(list) = &t.list else { continue };
            let parts = RequestParts {
                arguments: JsonObject::new(),
                uri: None,
                context: context.clone(),
            };
            match AssertUnwindSafe(list(parts, ())).catch_unwind().await {
                Ok(Ok(items)) => all.extend(items),
                Ok(Err(rejection)) => return Err(rejection.error_object()),
                Err(_) => {
                    return Err(err(
                        ErrorCode::INTERNAL_ERROR,
                        format!(
                            "listing the resources of {} failed (the handler panicked)",
                            t.template.uri_template
                        ),
                    ))
                }
            }
        }
        let (page, next) = self.page(raw, "resources", &all)?;
        Ok(json!({"resources": page, "nextCursor": next}))
    }

    fn list_tools(
        &self,
        registry: &Registry,
        raw: Option<&RawValue>,
        era: Era,
        meta: &RequestMeta,
    ) -> Result<Value, ErrorObject> {
        // Tools the caller may not call are left out when the server hides them.
        let visible: Vec<Arc<crate::router::ToolDef>>;
        let tools_all = if self.shared.config.hide_forbidden_tools
            && registry.tools.iter().any(|t| !t.scopes.is_empty())
        {
            visible = registry
                .tools
                .iter()
                .filter(|t| missing_scopes(&t.scopes, meta).is_empty())
                .cloned()
                .collect();
            &visible
        } else {
            &registry.tools
        };
        let (page, next) = self.page(raw, "tools", tools_all)?;
        let tools: Vec<Value> = page
            .iter()
            .map(|t| to_value(tool_for_era(&t.tool, era)))
            .collect::<Result<_, _>>()?;
        Ok(json!({"tools": tools, "nextCursor": next}))
    }

    #[allow(clippy::too_many_arguments)]
    async fn complete(
        &self,
        registry: &Registry,
        raw: Option<&RawValue>,
        sink: &Sink,
        modern: Option<&ModernCall>,
        session: Option<&Arc<Session>>,
        id: &RequestId,
        cancel: CancellationToken,
        meta: &RequestMeta,
    ) -> Result<Value, ErrorObject> {
        let params: CompleteParams = parse_required(raw)?;
        let target = match &params.reference {
            CompletionReference::Prompt { name, .. } => {
                if !registry.prompts.iter().any(|p| &p.prompt.name == name) {
                    return Err(err(
                        ErrorCode::INVALID_PARAMS,
                        format!("unknown prompt: {name}"),
                    ));
                }
                CompletionTarget::Prompt(name.clone())
            }
            CompletionReference::Resource { uri } => {
                if !registry
                    .templates
                    .iter()
                    .any(|t| &t.template.uri_template == uri)
                {
                    return Err(err(
                        ErrorCode::INVALID_PARAMS,
                        format!("unknown resource template: {uri}"),
                    ));
                }
                CompletionTarget::Template(uri.clone())
            }
        };
        let def = registry
            .completions
            .iter()
            .find(|c| c.target == target && c.argument == params.argument.name);
        let completion = match def {
            None => Completion {
                values: Vec::new(),
                total: Some(0),
                has_more: Some(false),
            },
            Some(def) => {
                let mut arguments = JsonObject::new();
                arguments.insert("argument".into(), params.argument.name.clone().into());
                arguments.insert("value".into(), params.argument.value.clone().into());
                if let Some(ctx) = params.context.as_ref().and_then(|c| c.arguments.as_ref()) {
                    arguments.insert("context".into(), to_value(ctx)?);
                }
                let context = self.context(
                    id,
                    None,
                    sink.clone(),
                    modern,
                    session,
                    JsonObject::new(),
                    cancel,
                    false,
                    meta.identity.clone(),
                );
                let parts = RequestParts {
                    arguments,
                    uri: None,
                    context: context.clone(),
                };
                let fut = AssertUnwindSafe((def.handler)(parts, ())).catch_unwind();
                match run_round(fut, &context).await {
                    Round::Done(Ok(Ok(c))) => c?,
                    Round::Done(Ok(Err(rejection))) => return Err(rejection.error_object()),
                    Round::Done(Err(_)) => {
                        return Err(err(ErrorCode::INTERNAL_ERROR, "the completion handler panicked"))
                    }
                    // completion/complete has no input_required result in 2026-07-28.
                    Round::Interrupted(i) => {
                        return Err(match i.missing_capability {
                            Some(required) => err(
                                ErrorCode::MISSING_CAPABILITY,
                                format!("this request needs a client capability it did not declare: {required}"),
                            )
                            .with_data(json!({"requiredCapabilities": required})),
                            None => err(
                                ErrorCode::INTERNAL_ERROR,
                                "the completion handler asked the client for input, which completion/complete cannot do in the 2026-07-28 protocol",
                            ),
                        })
                    }
                }
            }
        };
        let mut completion = completion;
        if completion.values.len() > Completion::MAX_VALUES {
            completion = Completion::new(completion.values);
        }
        to_value(CompleteResult { completion })
    }

    /// `tools/call`, `prompts/get`, `resources/read`: the methods that run user handlers and,
    /// in 2026-07-28, may answer `input_required`.
    #[allow(clippy::too_many_arguments)]
    async fn call(
        &self,
        method: &str,
        registry: &Registry,
        id: &RequestId,
        raw: Option<&RawValue>,
        sink: Sink,
        modern: Option<&ModernCall>,
        session: Option<&Arc<Session>>,
        cancel: CancellationToken,
        meta: &RequestMeta,
    ) -> Result<Answer, ErrorObject> {
        // Name (or URI), arguments, and the 2026-07-28 retry fields, whatever the method.
        let mut task_hint = None;
        let (name, arguments, input_responses, request_state, request_meta) = match method {
            "tools/call" => {
                let p: CallToolParams = parse_required(raw)?;
                task_hint = p.task;
                (
                    p.name,
                    p.arguments.unwrap_or_default(),
                    p.input_responses,
                    p.request_state,
                    p.meta,
                )
            }
            "prompts/get" => {
                let p: GetPromptParams = parse_required(raw)?;
                (
                    p.name,
                    p.arguments.unwrap_or_default(),
                    p.input_responses,
                    p.request_state,
                    p.meta,
                )
            }
            _ => {
                let p: ReadResourceParams = parse_required(raw)?;
                (
                    p.uri,
                    JsonObject::new(),
                    p.input_responses,
                    p.request_state,
                    p.meta,
                )
            }
        };
        let progress_token = request_meta
            .and_then(|mut m| m.remove(meta::PROGRESS_TOKEN))
            .and_then(|t| serde_json::from_value::<ProgressToken>(t).ok());
        // Binds a 2026-07-28 `requestState` to the arguments it was issued for; the handshake
        // era has no use for it.
        let digest = if modern.is_some() {
            seal::digest(&arguments)
        } else {
            String::new()
        };
        let mut answers = JsonObject::new();
        if modern.is_some() {
            if let Some(state) = &request_state {
                let invalid = || {
                    err(ErrorCode::INVALID_PARAMS, "Invalid or expired requestState")
                        .with_data(json!({"reason": "invalid_request_state"}))
                };
                let st: RequestState = self.shared.key.open(state).ok_or_else(invalid)?;
                if st.m != method || st.n != name || st.a != digest || st.exp < seal::now_secs() {
                    return Err(invalid());
                }
                answers = st.ans;
            }
            if let Some(responses) = input_responses {
                answers.extend(responses);
            }
        }
        if method == "tools/call" {
            if let Some(def) = registry.tool(&name) {
                let missing = missing_scopes(&def.scopes, meta);
                if !missing.is_empty() {
                    return Err(forbidden(&name, &def.scopes, &missing));
                }
            }
        }
        let task_mode = match (method, registry.tool(&name)) {
            ("tools/call", Some(def)) => {
                self.task_mode(def, modern, session, task_hint.as_ref())?
            }
            _ => None,
        };
        // A task is cancelled by `tasks/cancel` (or when it expires), not when its request's
        // stream or connection ends: its context gets a token of its own.
        let cancel = match task_mode {
            Some(_) => CancellationToken::new(),
            None => cancel,
        };
        // A handshake-era task outlives its response stream: it talks on the connection's own,
        // through a relay that marks its messages as the task's.
        let (sink, relay) = match (&task_mode, modern) {
            (Some(_), None) => {
                let (tx, rx) = tokio::sync::mpsc::channel(16);
                (tx, Some(rx))
            }
            _ => (sink, None),
        };
        let context = self.context(
            id,
            progress_token,
            sink,
            modern,
            session,
            answers,
            cancel,
            task_mode.is_some(),
            meta.identity.clone(),
        );
        if let Some(rx) = relay {
            spawn_task_relay(rx, self.unsolicited.sink(), Arc::downgrade(&context.inner));
        }
        let era = context.era();

        // Find the handler and start it.
        let outcome: Round<Result<Answer, ErrorObject>> = match method {
            "tools/call" => {
                let Some(def) = registry.tool(&name) else {
                    return Err(err(
                        ErrorCode::INVALID_PARAMS,
                        format!(
                            "unknown tool: {name:?}; call tools/list to see the available tools"
                        ),
                    ));
                };
                let parts = RequestParts {
                    arguments,
                    uri: None,
                    context: context.clone(),
                };
                let handler = (def.handler)(parts, ());
                let timeout = def.timeout.or(self.shared.config.default_tool_timeout);
                let tool_name = name.clone();
                let fut: BoxFuture<ToolRun> = Box::pin(async move {
                    let run = AssertUnwindSafe(handler).catch_unwind();
                    let r = match timeout {
                        Some(t) => tokio::time::timeout(t, run).await.ok(),
                        None => Some(run.await),
                    };
                    match r {
                        Some(Ok(Ok(result))) => ToolRun::Done(result),
                        Some(Ok(Err(rejection))) => ToolRun::Done(CallToolResult::error(
                            match &rejection {
                                crate::extract::Rejection::InvalidArguments(_) => format!(
                                    "{rejection}. Check the arguments against the tool's inputSchema and call it again."
                                ),
                                _ => rejection.to_string(),
                            },
                        )),
                        Some(Err(_)) => {
                            tracing::error!(tool = %tool_name, "tool handler panicked");
                            crate::layers::report(crate::layers::Outcome::Panicked);
                            ToolRun::Panicked(tool_name)
                        }
                        None => {
                            crate::layers::report(crate::layers::Outcome::TimedOut);
                            ToolRun::Done(CallToolResult::error(format!(
                                "the tool {tool_name:?} timed out after {:?} and was cancelled",
                                timeout.unwrap_or_default()
                            )))
                        }
                    }
                });
                match task_mode {
                    None => match run_round(fut, &context).await {
                        Round::Done(run) => {
                            let result = result_for_era(run.into_sync_result(), era);
                            Round::Done(if era.is_modern() {
                                to_value(result).map(Answer::Value)
                            } else {
                                Ok(Answer::Tool(result))
                            })
                        }
                        Round::Interrupted(i) => Round::Interrupted(i),
                    },
                    Some(mode) => match self
                        .run_task(
                            fut,
                            &context,
                            mode,
                            def.defer_task,
                            session,
                            &self.task_owner(meta),
                        )
                        .await
                    {
                        Ok(v) => Round::Done(Ok(Answer::Value(v))),
                        Err(TaskStart::Interrupted(i)) => Round::Interrupted(i),
                        Err(TaskStart::Error(e)) => Round::Done(Err(e)),
                    },
                }
            }
            "prompts/get" => {
                let Some(def) = registry.prompts.iter().find(|p| p.prompt.name == name) else {
                    return Err(err(ErrorCode::INVALID_PARAMS, format!("unknown prompt: {name:?}; call prompts/list to see the available prompts")));
                };
                if let Some(args) = &def.prompt.arguments {
                    let missing: Vec<&str> = args
                        .iter()
                        .filter(|a| a.required == Some(true) && !arguments.contains_key(&a.name))
                        .map(|a| a.name.as_str())
                        .collect();
                    if !missing.is_empty() {
                        return Err(err(
                            ErrorCode::INVALID_PARAMS,
                            format!("missing required argument(s): {}", missing.join(", ")),
                        ));
                    }
                }
                let parts = RequestParts {
                    arguments,
                    uri: None,
                    context: context.clone(),
                };
                let fut = AssertUnwindSafe((def.handler)(parts, ())).catch_unwind();
                match run_round(fut, &context).await {
                    Round::Done(Ok(Ok(r))) => Round::Done(r.and_then(to_value).map(Answer::Value)),
                    Round::Done(Ok(Err(rejection))) => Round::Done(Err(rejection.error_object())),
                    Round::Done(Err(_)) => Round::Done(Err(err(
                        ErrorCode::INTERNAL_ERROR,
                        "the prompt handler panicked",
                    ))),
                    Round::Interrupted(i) => Round::Interrupted(i),
                }
            }
            _ => {
                let (handler, arguments) =
                    if let Some(def) = registry.resources.iter().find(|r| r.resource.uri == name) {
                        (def.handler.clone(), JsonObject::new())
                    } else if let Some((def, vars)) = registry
                        .templates
                        .iter()
                        .find_map(|t| t.matcher.matches(&name).map(|v| (t, v)))
                    {
                        (def.handler.clone(), vars)
                    } else {
                        let code = if era.is_modern() {
                            ErrorCode::INVALID_PARAMS
                        } else {
                            ErrorCode::RESOURCE_NOT_FOUND
                        };
                        return Err(err(code, format!("resource not found: {name}"))
                            .with_data(json!({"uri": name})));
                    };
                let parts = RequestParts {
                    arguments,
                    uri: Some(name.clone()),
                    context: context.clone(),
                };
                let fut = AssertUnwindSafe(handler(parts, ())).catch_unwind();
                match run_round(fut, &context).await {
                    Round::Done(Ok(Ok(read))) => Round::Done(read(&name).and_then(|r| {
                        if r.contents.is_empty() {
                            Err(err(
                                ErrorCode::INTERNAL_ERROR,
                                format!("the resource handler for {name} returned no contents"),
                            ))
                        } else {
                            to_value(r).map(Answer::Value)
                        }
                    })),
                    Round::Done(Ok(Err(rejection))) => Round::Done(Err(rejection.error_object())),
                    Round::Done(Err(_)) => Round::Done(Err(err(
                        ErrorCode::INTERNAL_ERROR,
                        "the resource handler panicked",
                    ))),
                    Round::Interrupted(i) => Round::Interrupted(i),
                }
            }
        };
        match outcome {
            Round::Done(r) => r,
            Round::Interrupted(i) => {
                if let Some(m) = i.malformed {
                    return Err(err(ErrorCode::INVALID_PARAMS, m));
                }
                if let Some(required) = i.missing_capability {
                    return Err(err(
                        ErrorCode::MISSING_CAPABILITY,
                        format!(
                            "this request needs a client capability it did not declare: {required}"
                        ),
                    )
                    .with_data(json!({"requiredCapabilities": required})));
                }
                let state = RequestState {
                    m: method.to_owned(),
                    n: name,
                    a: digest,
                    exp: seal::now_secs() + self.shared.config.request_state_ttl.as_secs(),
                    ans: context.answers().cloned().unwrap_or_default(),
                };
                Ok(Answer::Value(json!({
                    "resultType": "input_required",
                    "inputRequests": i.inputs,
                    "requestState": self.shared.key.seal(&state),
                })))
            }
        }
    }

    /// Who owns the tasks a request creates, and whose tasks it may see: the authenticated
    /// subject when there is one, so that a caller's tasks follow it to a new connection, a
    /// new session or another instance; otherwise this connection (one stdio process, one
    /// HTTP session, or every anonymous 2026-07-28 request of an HTTP endpoint, where the
    /// unguessable task id is what keeps a task to its creator).
    fn task_owner(&self, meta: &RequestMeta) -> String {
        match (&meta.identity, &meta.session_id) {
            // Connection owners are hex, so no subject can collide with one.
            (Some(identity), _) => format!("sub:{}", identity.subject),
            // Every instance serving the session agrees on it (scale-out).
            (None, Some(session)) => format!("session:{session}"),
            (None, None) => lock(&self.owner).get_or_insert_with(random_owner).clone(),
        }
    }

    /// Names the owner of the tasks that unauthenticated, sessionless requests on this
    /// connection create and may see (by default a random value: tasks are per connection).
    /// Instances behind a load balancer give their stateless 2026-07-28 connections the same
    /// owner, so that a task created on one is visible on the others.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Connection, Router, Server};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let server = Server::new(Router::new());
    /// // Every instance behind the balancer uses the same owner for anonymous stateless traffic.
    /// let conn = Connection::new_modern(&server);
    /// conn.set_task_owner("deployment-42");
    /// # }
    /// ```
    pub fn set_task_owner(&self, owner: impl Into<String>) {
        *lock(&self.owner) = Some(owner.into());
    }

    fn tasks_offered(&self) -> bool {
        self.shared
            .registry()
            .tools
            .iter()
            .any(|t| t.supports_tasks())
    }

    /// Decides whether this tools/call runs as a task.
    fn task_mode(
        &self,
        def: &crate::router::ToolDef,
        modern: Option<&ModernCall>,
        session: Option<&Arc<Session>>,
        hint: Option<&JsonObject>,
    ) -> Result<Option<TaskMode>, ErrorObject> {
        let support = def
            .tool
            .execution
            .as_ref()
            .and_then(|e| e.task_support)
            .unwrap_or(TaskSupport::Forbidden);
        let required = support == TaskSupport::Required;
        let tasks = &self.shared.tasks;
        if let Some(m) = modern {
            if support == TaskSupport::Forbidden {
                return Ok(None);
            }
            if declares_tasks(&m.envelope.client_capabilities) {
                return Ok(Some(TaskMode {
                    ttl_ms: tasks.ttl_ms(None),
                    required,
                }));
            }
            return if required {
                Err(missing_tasks_extension())
            } else {
                Ok(None)
            };
        }
        let version = session.map_or(ProtocolVersion::LATEST_HANDSHAKE, |s| s.version);
        if version < ProtocolVersion::V2025_11_25 {
            return Ok(None);
        }
        let name = &def.tool.name;
        match (hint, support) {
            (Some(h), TaskSupport::Optional | TaskSupport::Required) => {
                let ttl = h.get("ttl").and_then(Value::as_u64);
                Ok(Some(TaskMode { ttl_ms: tasks.ttl_ms(ttl), required }))
            }
            (Some(_), TaskSupport::Forbidden) => Err(err(
                ErrorCode::METHOD_NOT_FOUND,
                format!("the tool {name:?} does not support task-augmented calls; call it without `task`"),
            )),
            (None, TaskSupport::Required) => Err(err(
                ErrorCode::METHOD_NOT_FOUND,
                format!("the tool {name:?} must be called as a task: add `task: {{}}` to the params"),
            )),
            (None, _) => Ok(None),
        }
    }

    /// Runs a task-capable call: input first if the tool defers, then a task that keeps
    /// running in the background; the answer is the created task.
    async fn run_task(
        &self,
        mut fut: BoxFuture<ToolRun>,
        context: &Context,
        mode: TaskMode,
        defer: bool,
        session: Option<&Arc<Session>>,
        owner: &str,
    ) -> Result<Value, TaskStart> {
        let era = context.era();
        if era.is_modern() && defer {
            match run_round(&mut fut, context).await {
                Round::Done(run) => {
                    if !mode.required {
                        return to_value(result_for_era(run.into_sync_result(), era))
                            .map_err(TaskStart::Error);
                    }
                    // Finished at once but must be a task: a task born completed.
                    let record = self
                        .shared
                        .tasks
                        .create(owner, mode.ttl_ms)
                        .await
                        .map_err(TaskStart::Error)?;
                    self.shared
                        .tasks
                        .finish(&record.id, task_outcome(run, era))
                        .await;
                    let record = self
                        .shared
                        .tasks
                        .get(&record.id, owner)
                        .await
                        .map_err(TaskStart::Error)?;
                    return Ok(created_task(&record, era));
                }
                Round::Interrupted(i)
                    if i.escalate
                        && i.inputs.is_empty()
                        && i.missing_capability.is_none()
                        && i.malformed.is_none() => {}
                Round::Interrupted(i) => return Err(TaskStart::Interrupted(i)),
            }
        }
        let tasks = self.shared.tasks.clone();
        let record = tasks
            .create(owner, mode.ttl_ms)
            .await
            .map_err(TaskStart::Error)?;
        let _ = context.inner.task.set(crate::context::TaskLink {
            tasks: tasks.clone(),
            id: record.id.clone(),
        });
        let id = record.id.clone();
        let driver_tasks = tasks.clone();
        let handle = tokio::spawn(async move {
            tokio::select! {
                run = fut => driver_tasks.finish(&id, task_outcome(run, era)).await,
                // Cancelled through another instance sharing the store: drop the handler.
                () = driver_tasks.ended_elsewhere(&id) => driver_tasks.forget(&id),
            }
        });
        tasks.attach(
            &record.id,
            handle.abort_handle(),
            context.cancellation_token(),
        );
        let _ = session;
        Ok(created_task(&record, era))
    }

    /// `tasks/*` in either era.
    async fn task_method(
        &self,
        method: &str,
        raw: Option<&RawValue>,
        era: Era,
        owner: &str,
    ) -> Result<Value, ErrorObject> {
        let tasks = &self.shared.tasks;
        if !self.tasks_offered() {
            return Err(method_not_found(method));
        }
        let params: Value = parse_params::<Option<Value>>(raw)?.unwrap_or_else(|| json!({}));
        if method == "tasks/list" {
            if era.is_modern() {
                return Err(method_not_found(method));
            }
            let records = tasks
                .store
                .list(owner)
                .await
                .map_err(|e| err(ErrorCode::INTERNAL_ERROR, e.to_string()))?;
            let (page, next) = self.page(raw, "tasks", &records)?;
            let items: Vec<Value> = page.iter().map(crate::server::tasks::legacy_task).collect();
            return Ok(json!({"tasks": items, "nextCursor": next}));
        }
        let id = params
            .get("taskId")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                err(
                    ErrorCode::INVALID_PARAMS,
                    "params.taskId (a string) is required",
                )
            })?
            .to_owned();
        match (method, era.is_modern()) {
            ("tasks/get", false) => Ok(crate::server::tasks::legacy_task(
                &tasks.get(&id, owner).await?,
            )),
            ("tasks/get", true) => Ok(crate::server::tasks::modern_task(
                &tasks.get(&id, owner).await?,
                true,
            )),
            ("tasks/result", false) => {
                let r = tasks.wait_terminal(&id, owner).await?;
                match r.status {
                    TaskStatus::Completed => {
                        let mut v = r.result.unwrap_or_else(|| json!({"content": []}));
                        if let Some(obj) = v.as_object_mut() {
                            let meta = obj.entry("_meta").or_insert_with(|| json!({}));
                            meta[meta::RELATED_TASK] = json!({"taskId": id});
                        }
                        Ok(v)
                    }
                    TaskStatus::Failed => Err(r
                        .error
                        .unwrap_or_else(|| err(ErrorCode::INTERNAL_ERROR, "the task failed"))),
                    _ => Err(err(
                        ErrorCode::INVALID_PARAMS,
                        format!("task {id:?} was cancelled; it has no result"),
                    )),
                }
            }
            ("tasks/cancel", modern) => {
                let (record, was_terminal) = tasks.cancel(&id, owner).await?;
                if modern {
                    Ok(json!({}))
                } else if was_terminal {
                    Err(err(
                        ErrorCode::INVALID_PARAMS,
                        format!(
                            "task {id:?} already finished ({:?}); it cannot be cancelled",
                            record.status
                        ),
                    ))
                } else {
                    Ok(crate::server::tasks::legacy_task(&record))
                }
            }
            ("tasks/update", true) => {
                let responses = params
                    .get("inputResponses")
                    .and_then(Value::as_object)
                    .cloned()
                    .ok_or_else(|| {
                        err(
                            ErrorCode::INVALID_PARAMS,
                            "params.inputResponses (an object) is required",
                        )
                    })?;
                tasks.update(&id, owner, responses).await?;
                Ok(json!({}))
            }
            _ => Err(method_not_found(method)),
        }
    }

    /// `subscriptions/listen` (2026-07-28): acknowledge, then forward matching changes until
    /// the client cancels (no answer) or the connection closes (a final `complete`).
    async fn listen(
        &self,
        id: &RequestId,
        raw: Option<&RawValue>,
        sink: &Sink,
        cancel: CancellationToken,
    ) -> Option<Result<Value, ErrorObject>> {
        let params: ListenParams = match parse_required(raw) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let caps = self.shared.capabilities();
        let wanted = params.notifications;
        let honored = SubscriptionFilter {
            tools_list_changed: wanted.tools_list_changed && caps.tools.is_some(),
            prompts_list_changed: wanted.prompts_list_changed && caps.prompts.is_some(),
            resources_list_changed: wanted.resources_list_changed && caps.resources.is_some(),
            resource_subscriptions: wanted
                .resource_subscriptions
                .filter(|_| caps.resources.is_some())
                .map(|mut v| {
                    v.truncate(1000);
                    v
                }),
        };
        let sub_meta = json!({ meta::SUBSCRIPTION_ID: id });
        let mut rx = self.shared.changes.subscribe();
        let ack = json!({"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged",
            "params":{"_meta": sub_meta, "notifications": honored}});
        if sink
            .send(Outgoing {
                kind: OutgoingKind::Notification,
                json: ack.to_string(),
            })
            .await
            .is_err()
        {
            return None;
        }
        loop {
            let change = tokio::select! {
                _ = cancel.cancelled() => {
                    let end = json!({"resultType": "complete", "_meta": sub_meta});
                    return Some(Ok(end));
                }
                c = rx.recv() => c,
            };
            let change = match change {
                Ok(c) => c,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return Some(Ok(json!({"resultType": "complete", "_meta": sub_meta}))),
            };
            let params = match &change {
                ListChanged::Tools if honored.tools_list_changed => json!({"_meta": sub_meta}),
                ListChanged::Prompts if honored.prompts_list_changed => json!({"_meta": sub_meta}),
                ListChanged::Resources if honored.resources_list_changed => {
                    json!({"_meta": sub_meta})
                }
                ListChanged::ResourceUpdated(uri)
                    if honored
                        .resource_subscriptions
                        .as_ref()
                        .is_some_and(|s| s.contains(uri)) =>
                {
                    json!({"_meta": sub_meta, "uri": uri})
                }
                _ => continue,
            };
            let note =
                json!({"jsonrpc":"2.0","method": change.notification_method(), "params": params});
            if sink
                .send(Outgoing {
                    kind: OutgoingKind::Notification,
                    json: note.to_string(),
                })
                .await
                .is_err()
            {
                return None;
            }
        }
    }
}

/// The scopes of `required` the caller lacks (all of them when nobody is authenticated).
fn missing_scopes(required: &[String], meta: &RequestMeta) -> Vec<String> {
    match &meta.identity {
        Some(id) => id.missing_scopes(required),
        None => required.to_vec(),
    }
}

/// The error for a call without the scopes it needs (HTTP maps it to 403).
fn forbidden(name: &str, required: &[String], missing: &[String]) -> ErrorObject {
    err(
        ErrorCode::FORBIDDEN,
        format!(
            "insufficient_scope: {name:?} needs the scope(s) {}; the caller lacks {}",
            required.join(" "),
            missing.join(" ")
        ),
    )
    .with_data(json!({"requiredScopes": required, "missingScopes": missing}))
}

fn declares_tasks(caps: &ClientCapabilities) -> bool {
    caps.extensions
        .as_ref()
        .is_some_and(|e| e.contains_key(crate::server::tasks::TASKS_EXTENSION))
}

fn missing_tasks_extension() -> ErrorObject {
    err(
        ErrorCode::MISSING_CAPABILITY,
        "this request needs the io.modelcontextprotocol/tasks extension; declare it in clientCapabilities.extensions",
    )
    .with_data(json!({"requiredCapabilities": {"extensions": {crate::server::tasks::TASKS_EXTENSION: {}}}}))
}

/// Carries a handshake-era task's messages to the connection's own stream, stamped with
/// `_meta["io.modelcontextprotocol/related-task"]` once the task exists. Nobody may be reading
/// that stream (an HTTP client without a GET stream): notifications that do not fit are
/// dropped, so progress and logs never stall the handler; its requests wait for room, as the
/// handler waits for their answers anyway. Ends when the handler's context is gone.
fn spawn_task_relay(
    mut rx: tokio::sync::mpsc::Receiver<Outgoing>,
    out: Sink,
    context: std::sync::Weak<crate::context::ContextInner>,
) {
    tokio::spawn(async move {
        // Read once known: the context may be gone by the time its last messages are relayed.
        let mut task_id: Option<String> = None;
        while let Some(mut message) = rx.recv().await {
            if task_id.is_none() {
                task_id = context
                    .upgrade()
                    .and_then(|c| c.task.get().map(|t| t.id.clone()));
            }
            if let Some(task_id) = &task_id {
                if let Ok(mut v) = serde_json::from_str::<Value>(&message.json) {
                    if let Some(obj) = v.as_object_mut() {
                        let params = obj.entry("params").or_insert_with(|| json!({}));
                        if let Some(params) = params.as_object_mut() {
                            let m = params.entry("_meta").or_insert_with(|| json!({}));
                            if let Some(m) = m.as_object_mut() {
                                m.insert(meta::RELATED_TASK.into(), json!({ "taskId": task_id }));
                            }
                        }
                    }
                    message.json = v.to_string();
                }
            }
            match message.kind {
                OutgoingKind::Notification => {
                    if out.try_send(message).is_err() {
                        tracing::debug!("a task notification was dropped: nobody reads the stream");
                    }
                }
                _ => {
                    if out.send(message).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
}

/// How a task's handler ended, for its record.
fn task_outcome(run: ToolRun, era: Era) -> crate::server::tasks::Outcome {
    use crate::server::tasks::Outcome;
    match run {
        ToolRun::Done(r) => match to_value(result_for_era(r, era)) {
            Ok(v) => Outcome::Result(v),
            Err(e) => Outcome::Failed(e),
        },
        ToolRun::Panicked(name) => Outcome::Failed(err(
            ErrorCode::INTERNAL_ERROR,
            format!("the tool {name:?} failed with an internal error (it panicked)"),
        )),
    }
}

/// The answer to a task-creating tools/call.
fn created_task(record: &crate::server::tasks::TaskRecord, era: Era) -> Value {
    if era.is_modern() {
        let mut v = crate::server::tasks::modern_task(record, false);
        v["resultType"] = json!("task");
        v
    } else {
        json!({"task": crate::server::tasks::legacy_task(record)})
    }
}

/// A tool as a client of `era` may see it: fields newer than its version are left out.
fn tool_for_era(tool: &Tool, era: Era) -> std::borrow::Cow<'_, Tool> {
    if era.at_least(ProtocolVersion::V2025_11_25) {
        return std::borrow::Cow::Borrowed(tool);
    }
    let mut t = tool.clone();
    t.icons = None;
    t.execution = None;
    if !era.at_least(ProtocolVersion::V2025_06_18) {
        t.output_schema = None;
        t.title = None;
    }
    if !era.at_least(ProtocolVersion::V2025_03_26) {
        t.annotations = None;
    }
    std::borrow::Cow::Owned(t)
}

/// Structured output starts at 2025-06-18.
fn result_for_era(mut result: CallToolResult, era: Era) -> CallToolResult {
    if !era.at_least(ProtocolVersion::V2025_06_18) {
        result.structured_content = None;
    }
    result
}

impl ResponsePayload {
    /// Whether this is an error.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::jsonrpc::{Message, ResponsePayload};
    /// let msg = Message::parse(br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}"#).unwrap();
    /// let Message::Response(resp) = msg else { panic!("a response") };
    /// assert!(resp.payload.is_error());
    /// assert!(!matches!(resp.payload, ResponsePayload::Result(_)));
    /// ```
    pub fn is_error(&self) -> bool {
        matches!(self, ResponsePayload::Error(_))
    }
}
