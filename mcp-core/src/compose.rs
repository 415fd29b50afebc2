//! Composition: several servers behind one.
//!
//! Two ways to combine servers:
//!
//! - **Local routers**, at build time: [`nest`] puts a router's tools and prompts under a
//!   prefix (`sales.get_customer`), [`merge`] joins routers.
//! - **Remote servers**, at run time: a [`Mount`] registers what a [`Remote`] offers — tools,
//!   prompts, resources, templates and completions — on a running server through its
//!   [`ServerHandle`], under a name prefix, with resource URIs kept or prefixed
//!   ([`UriMapping`]). It refreshes when the remote announces a change, and the server tells
//!   its own clients (`list_changed`). Schemas pass through verbatim.
//!
//! A mounted tool forwards each call with a [`Relay`] built from the caller's
//! [`Context`]: the remote's progress and log messages reach the caller, and its questions
//! (elicitation, sampling, roots) are asked of the caller — whichever era each side speaks.
//! Tools that support tasks keep their `execution.taskSupport`: a task call becomes a task here
//! when the remote makes the forwarded call one ([`Relay::task_created`]), the remote's task is
//! followed to its end, and its failure fails the local task (see [`Remote::forward`]).
//! Resource subscriptions go to the remote that serves the resource ([`Mounted::subscribe`]);
//! its updates, like its list changes, reach the local server's clients.
//! A circuit breaker per mount ([`BreakerConfig`]) turns a dead remote's calls into fast
//! `isError` results while the other mounts keep serving; a background probe closes it again
//! when the remote is back.
//!
//! `mcp-transport`'s `client` feature implements [`Remote`] for its MCP client, so a
//! gateway is a few lines:
//!
//! ```text
//! let server = mcp_core::Server::new(mcp_core::Router::new());
//! let sales = mcp_transport::client::Client::lazy(HttpTransport::new(url), config)?;
//! let mounted = Mount::new("sales").prefix("sales").attach(Arc::new(sales), &server.handle());
//! mounted.refresh().await?;
//! ```
//!
//! ```
//! use mcp_core::{compose, Router, ToolDef};
//! async fn get_customer() -> &'static str { "ada" }
//! let sales: Router = Router::new().tool(ToolDef::new("get_customer", get_customer).description("One customer"));
//! let app = compose::merge(Router::new(), compose::nest("sales", sales));
//! assert_eq!(app.tool_names().collect::<Vec<_>>(), ["sales.get_customer"]);
//! ```

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::context::{Context, ContextError};
use crate::era::Era;
use crate::extract::{Args, Uri};
use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::{
    meta, CallToolResult, ClientCapabilities, Completion, CreateMessageParams, ElicitRequest,
    GetPromptResult, JsonObject, LoggingLevel, LoggingMessageParams, ProgressParams, Prompt,
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate, SamplingMessage, TaskSupport,
    Tool,
};
use crate::response::McpError;
use crate::router::{
    is_valid_tool_name, Completing, CompletionDef, CompletionTarget, PromptDef, ResourceDef,
    Router, TemplateDef, ToolDef,
};
use crate::server::{ListChanged, ServerHandle};
use crate::template::UriTemplate;

/// A boxed future borrowing from its receiver.
///
/// See [`Remote`] for an example.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

// ---------------------------------------------------------------------------------------------
// Local routers

fn prefixed(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Puts a router's tools and prompts (and the completions of those prompts) under
/// `prefix.`; resources keep their URIs. Tools whose prefixed name would be invalid are left
/// out, with a warning.
///
/// ```
/// use mcp_core::{compose, Router};
/// async fn ping() -> &'static str { "pong" }
/// let r: Router = compose::nest("net", Router::new().tool_fn("ping", ping));
/// assert_eq!(r.tool_names().collect::<Vec<_>>(), ["net.ping"]);
/// ```
pub fn nest<S>(prefix: &str, mut router: Router<S>) -> Router<S> {
    router.tools.retain_mut(|t| {
        let name = prefixed(prefix, &t.tool.name);
        if !is_valid_tool_name(&name) {
            tracing::warn!(%name, "a nested tool name is invalid; the tool is left out");
            return false;
        }
        t.tool.name = name;
        true
    });
    for p in &mut router.prompts {
        p.prompt.name = prefixed(prefix, &p.prompt.name);
    }
    for c in &mut router.completions {
        if let CompletionTarget::Prompt(name) = &mut c.target {
            *name = prefixed(prefix, name);
        }
    }
    router
}

/// Joins two routers: everything of `b` is added to `a` (an item of `b` replaces one of `a`
/// with the same name or URI). `a`'s server info and instructions are kept.
///
/// # Examples
/// ```
/// use mcp_core::{compose, Router};
///
/// async fn ping() -> &'static str { "pong" }
/// async fn time() -> &'static str { "noon" }
/// let app: Router = compose::merge(
///     Router::new().tool_fn("ping", ping),
///     compose::nest("clock", Router::new().tool_fn("time", time)),
/// );
/// assert_eq!(app.tool_names().collect::<Vec<_>>(), ["ping", "clock.time"]);
/// ```
pub fn merge<S: Send + Sync + 'static>(a: Router<S>, b: Router<S>) -> Router<S> {
    let mut out = a;
    for t in b.tools {
        out = out.tool(t);
    }
    for p in b.prompts {
        out = out.prompt(p);
    }
    for r in b.resources {
        out = out.resource(r);
    }
    for t in b.templates {
        out = out.resource_template(t);
    }
    for c in b.completions {
        out = out.completion(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Remotes

/// Why a remote request failed.
///
/// # Examples
/// ```
/// use mcp_core::compose::RemoteError;
/// let e = RemoteError::Unavailable("connection refused".into());
/// assert_eq!(e.to_string(), "unavailable: connection refused");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The remote answered with a JSON-RPC error (it is up).
    #[error("{0}")]
    Rpc(ErrorObject),
    /// The remote is unreachable, broken or too slow (counts against the circuit breaker).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else (a malformed answer, too many input rounds).
    #[error("{0}")]
    Failed(String),
}

/// Everything a remote offers, as listed.
///
/// See [`Remote`] for an example.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Catalog {
    /// Tools.
    pub tools: Vec<Tool>,
    /// Prompts.
    pub prompts: Vec<Prompt>,
    /// Static resources.
    pub resources: Vec<Resource>,
    /// Resource templates.
    pub templates: Vec<ResourceTemplate>,
    /// Whether `completion/complete` is offered.
    pub completions: bool,
}

/// Something a remote announced.
///
/// # Examples
/// ```
/// use mcp_core::compose::RemoteChange;
/// use mcp_core::server::ListChanged;
///
/// let (tx, mut rx) = tokio::sync::mpsc::channel(4);
/// tx.try_send(RemoteChange::List(ListChanged::Tools)).unwrap();
/// tx.try_send(RemoteChange::ResourceUpdated("file:///a.txt".into())).unwrap();
/// assert_eq!(rx.try_recv().unwrap(), RemoteChange::List(ListChanged::Tools));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteChange {
    /// Something in the catalogue changed: fetch it again (what differs is announced).
    Catalog,
    /// The remote announced that one list changed (`Tools`, `Prompts` or `Resources`): fetch
    /// the catalogue again, and pass the announcement on even if the list looks the same.
    List(ListChanged),
    /// One resource's contents changed.
    ResourceUpdated(String),
    /// The remote was reconnected; its catalogue may differ.
    Reconnected,
}

/// A server reached some other way — a connected MCP client, usually — that a [`Mount`] can
/// put behind a local server.
///
/// # Examples
///
/// An in-memory remote with one tool, mounted under the prefix `net`:
///
/// ```
/// use std::sync::Arc;
/// use mcp_core::compose::{BoxFuture, Catalog, Health, Mount, Relay, Remote, RemoteChange, RemoteError};
/// use mcp_core::protocol::{JsonObject, LoggingLevel, LoggingMessageParams, Tool};
/// use mcp_core::{Router, Server};
/// use serde_json::{json, Value};
///
/// struct Pinger;
///
/// impl Remote for Pinger {
///     fn catalog(&self) -> BoxFuture<'_, Result<Catalog, RemoteError>> {
///         Box::pin(async {
///             let mut catalog = Catalog::default();
///             catalog.tools.push(Tool {
///                 name: "ping".into(),
///                 description: Some("Answers pong".into()),
///                 input_schema: json!({"type": "object"}).as_object().cloned().unwrap_or_default(),
///                 ..Tool::default()
///             });
///             Ok(catalog)
///         })
///     }
///
///     fn forward(&self, method: &str, _params: JsonObject, relay: Relay) -> BoxFuture<'_, Result<Value, RemoteError>> {
///         let method = method.to_owned();
///         Box::pin(async move {
///             let note = LoggingMessageParams { level: LoggingLevel::Info, logger: None, data: json!("pinging"), meta: None };
///             relay.log(note).await;
///             match method.as_str() {
///                 "tools/call" => Ok(json!({"content": [{"type": "text", "text": "pong"}]})),
///                 other => Err(RemoteError::Failed(format!("{other} is not offered"))),
///             }
///         })
///     }
///
///     fn watch(&self) -> tokio::sync::mpsc::Receiver<RemoteChange> {
///         tokio::sync::mpsc::channel(1).1
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), RemoteError> {
/// let server = Server::new(Router::new());
/// let mounted = Mount::new("net").prefix("net").attach(Arc::new(Pinger), &server.handle());
/// mounted.refresh().await?;
/// assert!(mounted.is_loaded());
/// assert_eq!(mounted.tool_names(), ["net.ping"]);
/// assert!(mounted.owns_tool("net.ping"));
/// assert_eq!(mounted.health(), Health::Closed);
/// assert_eq!(mounted.mount().name(), "net");
/// assert_eq!(server.handle().tool_names(), ["net.ping"]);
///
/// mounted.unmount();
/// assert!(server.handle().tool_names().is_empty());
/// # Ok(()) }
/// ```
pub trait Remote: Send + Sync + 'static {
    /// Fetches the whole catalogue.
    ///
    /// See [`Remote`] for an example.
    fn catalog(&self) -> BoxFuture<'_, Result<Catalog, RemoteError>>;

    /// Sends `method` (`tools/call`, `prompts/get`, `resources/read`, `completion/complete`)
    /// with `params`, on behalf of the caller behind `relay`: pass its progress and logs on,
    /// and ask it the remote's questions.
    ///
    /// Tasks: when [`Relay::task_support`] is set, the caller's `tools/call` runs as a task
    /// here (or may become one) and the remote may run it as a task too. If it does, call
    /// [`Relay::task_created`] (the caller's call becomes a task), follow the remote's task —
    /// its questions go to [`Relay::ask`] like any other — and answer with the tool result
    /// it ends with; a task that fails is [`RemoteError::Rpc`] with the task's error (the
    /// caller's task then fails with it). Without it, the call must not become a task on the
    /// remote.
    ///
    /// See [`Remote`] for an example.
    fn forward(
        &self,
        method: &str,
        params: JsonObject,
        relay: Relay,
    ) -> BoxFuture<'_, Result<Value, RemoteError>>;

    /// A stream of the remote's announcements (a new one per call).
    ///
    /// See [`Remote`] for an example.
    fn watch(&self) -> mpsc::Receiver<RemoteChange>;

    /// Asks for `ResourceUpdated` announcements of one resource (best effort).
    ///
    /// See [`Mounted::owns_uri`] for an example.
    fn subscribe(&self, uri: &str) -> BoxFuture<'_, Result<(), RemoteError>> {
        let _ = uri;
        Box::pin(async { Ok(()) })
    }
}

/// The caller of a forwarded request, as the remote's client sees it: where progress and log
/// messages go and who answers questions. Built from the handler's [`Context`], so both eras
/// work on both sides.
///
/// ```
/// use mcp_core::compose::Relay;
/// async fn proxy(ctx: mcp_core::Context) -> String {
///     let relay = Relay::new(ctx);
///     format!("the caller speaks {:?}", relay.era())
/// }
/// # let _: mcp_core::Router = mcp_core::Router::new().tool_fn("proxy", proxy);
/// ```
#[derive(Debug, Clone)]
pub struct Relay {
    ctx: Context,
    task: Option<TaskSupport>,
}

fn context_error(e: ContextError) -> ErrorObject {
    match e {
        ContextError::Client(e) => e,
        ContextError::MissingCapability { .. } | ContextError::Unsupported { .. } => {
            ErrorObject::new(ErrorCode::METHOD_NOT_FOUND, e.to_string())
        }
        other => ErrorObject::new(ErrorCode::INTERNAL_ERROR, other.to_string()),
    }
}

fn invalid(msg: impl Into<String>) -> ErrorObject {
    ErrorObject::new(ErrorCode::INVALID_PARAMS, msg)
}

impl Relay {
    /// A relay to the caller of the request `ctx` serves.
    ///
    /// See [`Relay`] for an example.
    pub fn new(ctx: Context) -> Self {
        Relay { ctx, task: None }
    }

    /// Says that the caller's `tools/call` runs as a task here, or may become one, and that
    /// the remote's tool supports tasks as `support` says: the remote may then run the call as
    /// a task (see [`Remote::forward`]).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::compose::Relay;
    /// use mcp_core::protocol::TaskSupport;
    ///
    /// async fn forward_build(ctx: mcp_core::Context) -> String {
    ///     let relay = Relay::new(ctx).with_task(TaskSupport::Optional);
    ///     assert_eq!(relay.task_support(), Some(TaskSupport::Optional));
    ///     // …send the call; when the remote answers with a task:
    ///     relay.task_created().await;
    ///     format!("following the remote's task as {:?}", relay.context().task_id())
    /// }
    /// # let _: mcp_core::Router = mcp_core::Router::new().tool_fn("build", forward_build);
    /// ```
    pub fn with_task(mut self, support: TaskSupport) -> Self {
        self.task = Some(support);
        self
    }

    /// The remote tool's task support, when the forwarded call may run as a task there.
    ///
    /// See [`Relay::with_task`] for an example.
    pub fn task_support(&self) -> Option<TaskSupport> {
        self.task
    }

    /// The remote made the forwarded call a task: the caller's call becomes one too (in
    /// 2026-07-28 the caller now gets its `CreateTaskResult`; a handshake-era task call is a
    /// task from the start), and the handler goes on in the background, following the
    /// remote's task. See [`Context::escalate_to_task`].
    ///
    /// See [`Relay::with_task`] for an example.
    pub async fn task_created(&self) {
        self.ctx.escalate_to_task().await
    }

    /// The caller's era.
    ///
    /// See [`Relay`] for an example.
    pub fn era(&self) -> Era {
        self.ctx.era()
    }

    /// What the caller can answer (declare these to the remote).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::compose::Relay;
    ///
    /// async fn proxy(ctx: mcp_core::Context) -> String {
    ///     let relay = Relay::new(ctx);
    ///     // Declare to the remote what the caller can answer.
    ///     let caps = serde_json::to_value(relay.client_capabilities()).unwrap_or_default();
    ///     format!("caller capabilities: {caps}")
    /// }
    /// # let _: mcp_core::Router = mcp_core::Router::new().tool_fn("proxy", proxy);
    /// ```
    pub fn client_capabilities(&self) -> &ClientCapabilities {
        self.ctx.client_capabilities()
    }

    /// The caller's context.
    ///
    /// See [`Relay::with_task`] for an example.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Passes a progress notification on (when the caller asked for progress).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::compose::Relay;
    /// use mcp_core::protocol::ProgressParams;
    ///
    /// async fn on_remote_progress(relay: &Relay, remote: ProgressParams) {
    ///     // The remote's token is replaced by the caller's own.
    ///     relay.progress(remote).await;
    /// }
    /// # let _ = on_remote_progress;
    /// ```
    pub async fn progress(&self, p: ProgressParams) {
        self.ctx
            .progress(p.progress, p.total, p.message.as_deref())
            .await
    }

    /// Passes a log message on (filtered by the caller's level).
    ///
    /// See [`Remote`] for an example.
    pub async fn log(&self, p: LoggingMessageParams) {
        self.ctx.log(p.level, p.logger.as_deref(), p.data).await
    }

    /// Asks the caller a question (`elicitation/create`, `sampling/createMessage`,
    /// `roots/list`) under a key that stays the same when the request runs again. In the
    /// 2026-07-28 era an unanswered question ends the handler's run (see [`Context`]).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::compose::Relay;
    /// use serde_json::json;
    ///
    /// async fn confirm(relay: &Relay) -> bool {
    ///     let params = json!({"message": "Proceed?", "requestedSchema": {"type": "object", "properties": {}}});
    ///     match relay.ask("proceed", "elicitation/create", params).await {
    ///         Ok(answer) => answer["action"] == "accept",
    ///         Err(_) => false,
    ///     }
    /// }
    /// # let _ = confirm;
    /// ```
    pub async fn ask(&self, key: &str, method: &str, params: Value) -> Result<Value, ErrorObject> {
        let to_value = |v: Result<Value, serde_json::Error>| {
            v.map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string()))
        };
        match method {
            "ping" => Ok(json!({})),
            "elicitation/create" => {
                let mut params = params;
                if let Some(obj) = params.as_object_mut() {
                    obj.entry("mode").or_insert_with(|| json!("form"));
                    obj.remove("_meta");
                    // The handshake era correlates URL elicitations by id; ours is made anew.
                    if self.era().is_modern() {
                        obj.remove("elicitationId");
                    }
                }
                let request: ElicitRequest = serde_json::from_value(params)
                    .map_err(|e| invalid(format!("malformed elicitation/create: {e}")))?;
                let answer = self.ctx.elicit(key, request).await.map_err(context_error)?;
                to_value(serde_json::to_value(answer))
            }
            "sampling/createMessage" => {
                let request: CreateMessageParams = serde_json::from_value(params)
                    .map_err(|e| invalid(format!("malformed sampling/createMessage: {e}")))?;
                let answer = self.ctx.sample(key, request).await.map_err(context_error)?;
                to_value(serde_json::to_value(answer))
            }
            "roots/list" => {
                let answer = self.ctx.list_roots(key).await.map_err(context_error)?;
                to_value(serde_json::to_value(answer))
            }
            other => Err(ErrorObject::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("{other} cannot be passed on to the caller"),
            )),
        }
    }

    /// Reproduces a remote's `-32021` for the caller: asks for each required capability the
    /// caller lacks, which makes the runtime answer `-32021` in 2026-07-28. Returns when the
    /// caller has them all (the error is then the remote's own business).
    async fn require(&self, required: &Value) {
        let caps = self.client_capabilities();
        let Some(required) = required.as_object() else {
            return;
        };
        if required.contains_key("sampling") && caps.sampling.is_none() {
            let p = CreateMessageParams::new(vec![SamplingMessage::user("")], 1);
            let _ = self.ctx.sample("__required_sampling", p).await;
        }
        if let Some(e) = required.get("elicitation") {
            let url = e.get("url").is_some();
            if url && !caps.supports_url_elicitation() {
                let _ = self
                    .ctx
                    .elicit(
                        "__required_elicitation",
                        ElicitRequest::url("", "about:blank"),
                    )
                    .await;
            } else if !url && !caps.supports_form_elicitation() {
                let _ = self
                    .ctx
                    .elicit(
                        "__required_elicitation",
                        ElicitRequest::form("", json!({"type": "object"})),
                    )
                    .await;
            }
        }
        if required.contains_key("roots") && caps.roots.is_none() {
            let _ = self.ctx.list_roots("__required_roots").await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Circuit breaker

/// When a mount's circuit opens and how long it stays open.
///
/// ```
/// use mcp_core::compose::BreakerConfig;
/// let b = BreakerConfig::default();
/// assert_eq!(b.failure_threshold, 3);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BreakerConfig {
    /// Consecutive failures (unreachable, timed out) that open the circuit.
    pub failure_threshold: u32,
    /// How long the circuit stays open before one trial call (or probe) may go through; also
    /// the interval of the background probe.
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 3,
            cooldown: Duration::from_secs(5),
        }
    }
}

impl BreakerConfig {
    /// Sets the threshold (at least 1).
    ///
    /// See [`Mount::breaker`] for an example.
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.failure_threshold = n.max(1);
        self
    }

    /// Sets the cooldown.
    ///
    /// See [`Mount::breaker`] for an example.
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }
}

/// The state of a mount's circuit.
///
/// See [`Remote`] for an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Health {
    /// Calls go through.
    Closed,
    /// Calls fail fast until the cooldown ends.
    Open {
        /// Time left.
        retry_in: Duration,
    },
    /// One trial is in flight.
    HalfOpen,
}

#[derive(Debug, Default)]
struct BreakerState {
    failures: u32,
    open_until: Option<Instant>,
    trial: bool,
}

#[derive(Debug)]
struct Breaker {
    config: BreakerConfig,
    state: Mutex<BreakerState>,
}

/// Permission for one call; report how it went, or drop it to say nothing.
struct Permit<'a> {
    breaker: &'a Breaker,
    trial: bool,
    done: bool,
}

impl Permit<'_> {
    fn success(mut self) {
        self.done = true;
        let mut s = self.breaker.lock();
        *s = BreakerState::default();
    }

    fn failure(mut self) {
        self.done = true;
        let mut s = self.breaker.lock();
        s.failures = s.failures.saturating_add(1);
        if self.trial || s.failures >= self.breaker.config.failure_threshold {
            s.open_until = Some(Instant::now() + self.breaker.config.cooldown);
        }
        s.trial = false;
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.done && self.trial {
            self.breaker.lock().trial = false;
        }
    }
}

impl Breaker {
    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn acquire(&self) -> Result<Permit<'_>, Duration> {
        let mut s = self.lock();
        match s.open_until {
            None => Ok(Permit {
                breaker: self,
                trial: false,
                done: false,
            }),
            Some(until) => {
                let now = Instant::now();
                if now < until {
                    Err(until - now)
                } else if s.trial {
                    Err(Duration::ZERO)
                } else {
                    s.trial = true;
                    Ok(Permit {
                        breaker: self,
                        trial: true,
                        done: false,
                    })
                }
            }
        }
    }

    fn health(&self) -> Health {
        let s = self.lock();
        match s.open_until {
            None => Health::Closed,
            Some(_) if s.trial => Health::HalfOpen,
            Some(until) => Health::Open {
                retry_in: until.saturating_duration_since(Instant::now()),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mounts

/// How a mount's resource URIs appear on the local server.
///
/// # Examples
/// ```
/// use mcp_core::compose::{Mount, UriMapping};
///
/// let m = Mount::new("sales").prefix("sales").uris(UriMapping::SchemePrefix);
/// assert_eq!(m.local_uri("postgres://tables"), "sales+postgres://tables");
/// assert_eq!(m.remote_uri("sales+postgres://tables"), Some("postgres://tables"));
/// assert_eq!(m.remote_uri("other://x"), None);
///
/// let m = Mount::new("sales").prefix("sales").uris(UriMapping::Verbatim);
/// assert_eq!(m.local_uri("postgres://tables"), "postgres://tables");
/// assert_eq!(m.local_name("query"), "sales.query");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UriMapping {
    /// As the remote lists them: requests are routed by the exact URIs and templates (so by
    /// scheme, when each remote has its own). The default.
    #[default]
    Verbatim,
    /// The scheme gets the mount's prefix: `postgres://tables` becomes
    /// `sales+postgres://tables` (a valid scheme), so remotes with the same URIs can coexist.
    SchemePrefix,
}

/// How to put a remote behind a local server.
///
/// ```
/// use mcp_core::compose::{Mount, UriMapping};
/// let m = Mount::new("sales").prefix("sales").uris(UriMapping::SchemePrefix).scopes(["sales:read"]);
/// assert_eq!(m.name(), "sales");
/// ```
#[derive(Debug, Clone)]
pub struct Mount {
    name: String,
    prefix: String,
    uris: UriMapping,
    scopes: Vec<String>,
    breaker: BreakerConfig,
    timeout: Option<Duration>,
    log_level: LoggingLevel,
}

impl Mount {
    /// A mount called `name` (for logs, errors and health), with no prefix.
    ///
    /// See [`Mount`] for an example.
    pub fn new(name: impl Into<String>) -> Self {
        Mount {
            name: name.into(),
            prefix: String::new(),
            uris: UriMapping::Verbatim,
            scopes: Vec::new(),
            breaker: BreakerConfig::default(),
            timeout: None,
            log_level: LoggingLevel::Debug,
        }
    }

    /// Tool and prompt names become `prefix.name` (no prefix: names as listed).
    ///
    /// See [`Mount`] for an example.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How resource URIs are mapped.
    ///
    /// See [`UriMapping`] for an example.
    pub fn uris(mut self, mapping: UriMapping) -> Self {
        self.uris = mapping;
        self
    }

    /// Scopes every mounted tool requires (enforced by the runtime, see
    /// [`ToolDef::scopes`]).
    ///
    /// See [`Mount`] for an example.
    pub fn scopes<I: IntoIterator<Item = impl Into<String>>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The circuit breaker's settings.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use mcp_core::compose::{BreakerConfig, Mount};
    /// use mcp_core::protocol::LoggingLevel;
    ///
    /// let m = Mount::new("search")
    ///     .breaker(BreakerConfig::default().failure_threshold(5).cooldown(Duration::from_secs(10)))
    ///     .timeout(Duration::from_secs(30))
    ///     .log_level(LoggingLevel::Info);
    /// # let _ = m;
    /// ```
    pub fn breaker(mut self, config: BreakerConfig) -> Self {
        self.breaker = config;
        self
    }

    /// An overall limit per forwarded request (besides the client's own idle timeout).
    ///
    /// See [`Mount::breaker`] for an example.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// The log level asked of 2026-07-28 remotes (the caller's own filter still applies;
    /// default `debug`).
    ///
    /// See [`Mount::breaker`] for an example.
    pub fn log_level(mut self, level: LoggingLevel) -> Self {
        self.log_level = level;
        self
    }

    /// The mount's name.
    ///
    /// See [`Mount`] for an example.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local name of a remote tool or prompt.
    ///
    /// See [`UriMapping`] for an example.
    pub fn local_name(&self, remote: &str) -> String {
        prefixed(&self.prefix, remote)
    }

    /// The local URI of a remote resource (or template).
    ///
    /// See [`UriMapping`] for an example.
    pub fn local_uri(&self, remote: &str) -> String {
        match self.uris {
            UriMapping::Verbatim => remote.to_owned(),
            UriMapping::SchemePrefix if self.prefix.is_empty() => remote.to_owned(),
            UriMapping::SchemePrefix => format!("{}+{remote}", self.prefix),
        }
    }

    /// The remote URI of a local one, if it belongs to this mount's mapping.
    ///
    /// See [`UriMapping`] for an example.
    pub fn remote_uri<'a>(&self, local: &'a str) -> Option<&'a str> {
        match self.uris {
            UriMapping::SchemePrefix if !self.prefix.is_empty() => local
                .strip_prefix(self.prefix.as_str())
                .and_then(|r| r.strip_prefix('+')),
            _ => Some(local),
        }
    }

    /// Registers the remote's catalogue on the server behind `handle` (once
    /// [`Mounted::refresh`] ran, or the background task did) and keeps it current: changes
    /// the remote announces are fetched and announced to the server's clients. Must be called
    /// inside a Tokio runtime.
    ///
    /// See [`Remote`] for an example.
    pub fn attach(self, remote: Arc<dyn Remote>, handle: &ServerHandle) -> Mounted {
        let state = Arc::new(MountState {
            breaker: Breaker {
                config: self.breaker.clone(),
                state: Mutex::new(BreakerState::default()),
            },
            mount: self,
            remote,
            handle: handle.clone(),
            owned: Mutex::new(Owned::default()),
            refreshing: tokio::sync::Mutex::new(()),
            subscribed: Mutex::new(HashSet::new()),
        });
        let task = tokio::spawn(watch(Arc::downgrade(&state)));
        Mounted {
            state,
            task: task.abort_handle(),
        }
    }
}

/// What a mount registered, by local name.
#[derive(Debug, Default)]
struct Owned {
    tools: Vec<String>,
    prompts: Vec<String>,
    resources: Vec<String>,
    templates: Vec<String>,
    completions: Vec<(CompletionTarget, String)>,
    loaded: bool,
}

struct MountState {
    mount: Mount,
    remote: Arc<dyn Remote>,
    handle: ServerHandle,
    breaker: Breaker,
    owned: Mutex<Owned>,
    refreshing: tokio::sync::Mutex<()>,
    subscribed: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A remote mounted on a server. Dropping it stops the background task; the registered items
/// stay until [`Mounted::unmount`].
///
/// See [`Remote`] for an example.
pub struct Mounted {
    state: Arc<MountState>,
    task: tokio::task::AbortHandle,
}

impl std::fmt::Debug for Mounted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mounted")
            .field("mount", &self.state.mount)
            .field("health", &self.health())
            .finish()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Mounted {
    /// Fetches the remote's catalogue and registers it, replacing what this mount registered
    /// before (the server announces what changed).
    ///
    /// See [`Remote`] for an example.
    pub async fn refresh(&self) -> Result<(), RemoteError> {
        self.state.refresh(&[]).await
    }

    /// The circuit's state.
    ///
    /// See [`Remote`] for an example.
    pub fn health(&self) -> Health {
        self.state.breaker.health()
    }

    /// Whether the catalogue was fetched at least once.
    ///
    /// See [`Remote`] for an example.
    pub fn is_loaded(&self) -> bool {
        lock(&self.state.owned).loaded
    }

    /// The mount's settings.
    ///
    /// See [`Remote`] for an example.
    pub fn mount(&self) -> &Mount {
        &self.state.mount
    }

    /// The local names of the tools this mount registered.
    ///
    /// See [`Remote`] for an example.
    pub fn tool_names(&self) -> Vec<String> {
        lock(&self.state.owned).tools.clone()
    }

    /// Whether a local tool name belongs to this mount.
    ///
    /// See [`Remote`] for an example.
    pub fn owns_tool(&self, name: &str) -> bool {
        lock(&self.state.owned).tools.iter().any(|t| t == name)
    }

    /// Whether a local resource URI belongs to this mount (a listed resource or a template
    /// match).
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// use mcp_core::compose::{BoxFuture, Catalog, Mount, Relay, Remote, RemoteChange, RemoteError, UriMapping};
    /// use mcp_core::protocol::{JsonObject, Resource};
    /// use mcp_core::{Router, Server};
    /// use serde_json::Value;
    ///
    /// struct Files;
    /// impl Remote for Files {
    ///     fn catalog(&self) -> BoxFuture<'_, Result<Catalog, RemoteError>> {
    ///         Box::pin(async {
    ///             let mut c = Catalog::default();
    ///             c.resources.push(Resource::new("file:///notes.txt", "notes"));
    ///             Ok(c)
    ///         })
    ///     }
    ///     fn forward(&self, _: &str, _: JsonObject, _: Relay) -> BoxFuture<'_, Result<Value, RemoteError>> {
    ///         Box::pin(async { Err(RemoteError::Failed("read-only example".into())) })
    ///     }
    ///     fn watch(&self) -> tokio::sync::mpsc::Receiver<RemoteChange> { tokio::sync::mpsc::channel(1).1 }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), RemoteError> {
    /// let server = Server::new(Router::new());
    /// let mount = Mount::new("docs").prefix("docs").uris(UriMapping::SchemePrefix);
    /// let mounted = mount.attach(Arc::new(Files), &server.handle());
    /// mounted.refresh().await?;
    /// assert!(mounted.owns_uri("docs+file:///notes.txt"));
    /// assert!(!mounted.owns_uri("file:///notes.txt"));
    /// // What a local `resources/subscribe` should trigger:
    /// mounted.subscribe("docs+file:///notes.txt").await?;
    /// # Ok(()) }
    /// ```
    pub fn owns_uri(&self, uri: &str) -> bool {
        self.state.owns_uri(uri)
    }

    /// Asks the remote for updates of a local resource URI (what a `resources/subscribe` to
    /// the local server should trigger); `ResourceUpdated` announcements are passed on to the
    /// server's subscribers.
    ///
    /// See [`Mounted::owns_uri`] for an example.
    pub async fn subscribe(&self, uri: &str) -> Result<(), RemoteError> {
        let Some(remote) = self.state.mount.remote_uri(uri) else {
            return Ok(());
        };
        if !lock(&self.state.subscribed).insert(remote.to_owned()) {
            return Ok(());
        }
        self.state.remote.subscribe(remote).await
    }

    /// Removes everything this mount registered and stops refreshing.
    ///
    /// See [`Remote`] for an example.
    pub fn unmount(self) {
        self.task.abort();
        let before = std::mem::take(&mut *lock(&self.state.owned));
        replace(&self.state.handle, &before, Defs::default(), &[]);
    }
}

#[derive(Default)]
struct Defs {
    tools: Vec<ToolDef>,
    prompts: Vec<PromptDef>,
    resources: Vec<ResourceDef>,
    templates: Vec<TemplateDef>,
    completions: Vec<CompletionDef>,
}

/// Swaps a mount's items in the server's registry in one step and announces what changed
/// (and the lists in `announce`, changed or not).
///
/// Stopgap: `ServerHandle` can add and remove tools and prompts one at a time (one
/// notification each) but has no way to remove resources or to add templates and
/// completions; this edits the registry the way `ServerHandle::add_tool` does. To be
/// replaced by `ServerHandle::update` once the runtime offers it (see `docs/gateway.md`).
fn replace(handle: &ServerHandle, before: &Owned, defs: Defs, announce: &[ListChanged]) -> Owned {
    let mut owned = Owned {
        tools: defs.tools.iter().map(|t| t.tool.name.clone()).collect(),
        prompts: defs.prompts.iter().map(|p| p.prompt.name.clone()).collect(),
        resources: defs
            .resources
            .iter()
            .map(|r| r.resource.uri.clone())
            .collect(),
        templates: defs
            .templates
            .iter()
            .map(|t| t.template.uri_template.clone())
            .collect(),
        completions: defs
            .completions
            .iter()
            .map(|c| (c.target.clone(), c.argument.clone()))
            .collect(),
        loaded: true,
    };
    owned.loaded = true;
    handle.shared.edit(|next| {
        let mut changes = Vec::new();
        let ours = |owned_now: &[String], before: &[String], key: &String| {
            before.contains(key) || owned_now.contains(key)
        };
        if swap_mounted(
            &mut next.tools,
            defs.tools,
            |t| ours(&owned.tools, &before.tools, &t.tool.name),
            |t| &t.tool,
        ) {
            changes.push(ListChanged::Tools);
        }
        if swap_mounted(
            &mut next.prompts,
            defs.prompts,
            |p| ours(&owned.prompts, &before.prompts, &p.prompt.name),
            |p| &p.prompt,
        ) {
            changes.push(ListChanged::Prompts);
        }
        let resources = swap_mounted(
            &mut next.resources,
            defs.resources,
            |r| ours(&owned.resources, &before.resources, &r.resource.uri),
            |r| &r.resource,
        );
        let templates = swap_mounted(
            &mut next.templates,
            defs.templates,
            |t| {
                ours(
                    &owned.templates,
                    &before.templates,
                    &t.template.uri_template,
                )
            },
            |t| &t.template,
        );
        if resources || templates {
            changes.push(ListChanged::Resources);
        }
        // Completions are not listed: nothing to announce.
        swap_mounted(
            &mut next.completions,
            defs.completions,
            |c| {
                let key = (c.target.clone(), c.argument.clone());
                before.completions.contains(&key) || owned.completions.contains(&key)
            },
            |c| &c.argument,
        );
        changes.extend(announce.iter().cloned());
        changes
    });
    owned
}

/// Replaces the items of `list` that `mounted` claims with `new`, in `new`'s order after the
/// others; whether what clients see of them (`listed`) changed.
fn swap_mounted<T, L: PartialEq>(
    list: &mut Vec<Arc<T>>,
    new: Vec<T>,
    mounted: impl Fn(&T) -> bool,
    listed: impl Fn(&T) -> &L,
) -> bool {
    let changed = {
        let old = list.iter().filter(|item| mounted(item));
        old.clone().count() != new.len()
            || old.zip(&new).any(|(was, now)| listed(was) != listed(now))
    };
    list.retain(|item| !mounted(item));
    list.extend(new.into_iter().map(Arc::new));
    changed
}

/// Ends the task the call runs as, if it does, in `failed` with `error`; `false` outside a
/// task. (What the handler returns afterwards is not recorded: the task is terminal.)
async fn fail_task(ctx: &Context, error: ErrorObject) -> bool {
    let Some(link) = ctx.inner.task.get() else {
        return false;
    };
    link.tasks
        .finish(&link.id, crate::server::tasks::Outcome::Failed(error))
        .await;
    true
}

/// Drops reserved, remote-specific members from a forwarded result's `_meta`.
fn clean_meta(meta: &mut Option<JsonObject>) {
    if let Some(m) = meta {
        m.remove(meta::SERVER_INFO);
        if m.is_empty() {
            *meta = None;
        }
    }
}

fn remote_failure(name: &str, e: &RemoteError) -> String {
    match e {
        RemoteError::Unavailable(why) => format!(
            "the backend {name:?} is unavailable ({why}); other tools keep working, and this one comes back when the backend does"
        ),
        RemoteError::Rpc(e) => format!("the backend {name:?} answered with an error: {} ({})", e.message, e.code),
        RemoteError::Failed(why) => format!("the backend {name:?} failed: {why}"),
    }
}

impl MountState {
    fn owns_uri(&self, uri: &str) -> bool {
        let owned = lock(&self.owned);
        if owned.resources.iter().any(|r| r == uri) {
            return true;
        }
        owned
            .templates
            .iter()
            .filter_map(|t| UriTemplate::parse(t).ok())
            .any(|t| t.matches(uri).is_some())
    }

    async fn forward(
        &self,
        method: &str,
        params: JsonObject,
        relay: Relay,
    ) -> Result<Value, RemoteError> {
        let fut = self.remote.forward(method, params, relay);
        match self.mount.timeout {
            Some(t) => tokio::time::timeout(t, fut).await.unwrap_or_else(|_| {
                Err(RemoteError::Unavailable(format!("no answer within {t:?}")))
            }),
            None => fut.await,
        }
    }

    /// Forwards one request through the breaker.
    async fn call(
        &self,
        method: &str,
        params: JsonObject,
        relay: Relay,
    ) -> Result<Value, RemoteError> {
        let name = &self.mount.name;
        let permit = self.breaker.acquire().map_err(|wait| {
            RemoteError::Unavailable(format!(
                "circuit open after repeated failures; next attempt in {:.1} s",
                wait.as_secs_f64()
            ))
        })?;
        let result = self.forward(method, params, relay).await;
        match &result {
            Err(RemoteError::Unavailable(why)) => {
                tracing::warn!(mount = %name, %method, %why, "backend unavailable");
                permit.failure();
            }
            _ => permit.success(),
        }
        result
    }

    async fn call_tool(
        &self,
        ctx: Context,
        remote_name: String,
        args: JsonObject,
        support: Option<TaskSupport>,
    ) -> CallToolResult {
        let mut params = JsonObject::new();
        params.insert("name".into(), Value::String(remote_name));
        params.insert("arguments".into(), Value::Object(args));
        let mut relay = Relay::new(ctx.clone());
        if let Some(s) = support {
            if ctx.task_id().is_some() || ctx.inner.task_capable {
                relay = relay.with_task(s);
            }
        }
        match self.call("tools/call", params, relay).await {
            Ok(v) => match serde_json::from_value::<CallToolResult>(v) {
                Ok(mut r) => {
                    clean_meta(&mut r.meta);
                    r
                }
                Err(e) => CallToolResult::error(format!(
                    "the backend {:?} sent a malformed tool result: {e}",
                    self.mount.name
                )),
            },
            // In a task, a protocol error is the task's failure (as on the remote).
            Err(RemoteError::Rpc(e)) if fail_task(&ctx, e.clone()).await => {
                CallToolResult::error(remote_failure(&self.mount.name, &RemoteError::Rpc(e)))
            }
            Err(RemoteError::Rpc(e)) if e.code == ErrorCode::MISSING_CAPABILITY => {
                if let Some(required) = e.data.as_ref().and_then(|d| d.get("requiredCapabilities"))
                {
                    Relay::new(ctx).require(required).await;
                }
                CallToolResult::error(remote_failure(&self.mount.name, &RemoteError::Rpc(e)))
            }
            Err(e) => CallToolResult::error(remote_failure(&self.mount.name, &e)),
        }
    }

    fn rpc_error(&self, e: RemoteError) -> McpError {
        match e {
            RemoteError::Rpc(e) => McpError(e),
            other => McpError(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                remote_failure(&self.mount.name, &other),
            )),
        }
    }

    async fn get_prompt(
        &self,
        ctx: Context,
        remote_name: String,
        args: JsonObject,
    ) -> Result<GetPromptResult, McpError> {
        let mut params = JsonObject::new();
        params.insert("name".into(), Value::String(remote_name));
        params.insert("arguments".into(), Value::Object(args));
        let v = self
            .call("prompts/get", params, Relay::new(ctx))
            .await
            .map_err(|e| self.rpc_error(e))?;
        serde_json::from_value(v).map_err(|e| {
            McpError(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                format!(
                    "the backend {:?} sent a malformed prompt: {e}",
                    self.mount.name
                ),
            ))
        })
    }

    async fn read(&self, ctx: Context, local_uri: String) -> Result<ReadResourceResult, McpError> {
        let era = ctx.era();
        let remote_uri = self
            .mount
            .remote_uri(&local_uri)
            .unwrap_or(&local_uri)
            .to_owned();
        let mut params = JsonObject::new();
        params.insert("uri".into(), Value::String(remote_uri));
        let v = match self.call("resources/read", params, Relay::new(ctx)).await {
            Ok(v) => v,
            Err(RemoteError::Rpc(mut e)) => {
                let not_found = e.code == ErrorCode::RESOURCE_NOT_FOUND
                    || (e.code == ErrorCode::INVALID_PARAMS
                        && e.data.as_ref().is_some_and(|d| d.get("uri").is_some()));
                if not_found {
                    e.code = if era.is_modern() {
                        ErrorCode::INVALID_PARAMS
                    } else {
                        ErrorCode::RESOURCE_NOT_FOUND
                    };
                    e.data = Some(json!({ "uri": local_uri }));
                }
                return Err(McpError(e));
            }
            Err(e) => return Err(self.rpc_error(e)),
        };
        let mut result: ReadResourceResult = serde_json::from_value(v).map_err(|e| {
            McpError(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                format!(
                    "the backend {:?} sent malformed contents: {e}",
                    self.mount.name
                ),
            ))
        })?;
        for c in &mut result.contents {
            let local = self.mount.local_uri(c.uri());
            match c {
                ResourceContents::Text(t) => t.uri = local,
                ResourceContents::Blob(b) => b.uri = local,
            }
        }
        Ok(result)
    }

    async fn complete(
        &self,
        ctx: Context,
        reference: Value,
        c: Completing,
    ) -> Result<Completion, McpError> {
        let mut params = JsonObject::new();
        params.insert("ref".into(), reference);
        params.insert(
            "argument".into(),
            json!({ "name": c.argument, "value": c.value }),
        );
        if !c.context.is_empty() {
            params.insert("context".into(), json!({ "arguments": c.context }));
        }
        let v = self
            .call("completion/complete", params, Relay::new(ctx))
            .await
            .map_err(|e| self.rpc_error(e))?;
        v.get("completion")
            .cloned()
            .and_then(|c| serde_json::from_value(c).ok())
            .ok_or_else(|| {
                McpError(ErrorObject::new(
                    ErrorCode::INTERNAL_ERROR,
                    "the backend sent a malformed completion",
                ))
            })
    }

    /// The local definitions for a catalogue.
    fn defs(self: &Arc<Self>, catalog: Catalog) -> Defs {
        let mut defs = Defs::default();
        let weak = Arc::downgrade(self);
        let mount = &self.mount;
        for tool in catalog.tools {
            let local = mount.local_name(&tool.name);
            if !is_valid_tool_name(&local) {
                tracing::warn!(mount = %mount.name, tool = %tool.name, "the tool's local name is invalid; left out");
                continue;
            }
            let w: Weak<MountState> = weak.clone();
            let remote_name = tool.name.clone();
            let support = tool
                .execution
                .as_ref()
                .and_then(|e| e.task_support)
                .filter(|s| *s != TaskSupport::Forbidden);
            let handler = move |ctx: Context, Args(args): Args<JsonObject>| {
                let w = w.clone();
                let remote_name = remote_name.clone();
                async move {
                    match w.upgrade() {
                        Some(s) => s.call_tool(ctx, remote_name, args, support).await,
                        None => CallToolResult::error("the backend was unmounted"),
                    }
                }
            };
            // A task-capable tool keeps its `execution`: the call becomes a task here when the
            // remote makes it one (`defer_task`: not before; a handshake-era task call is a
            // task from the start), so input gathered in rounds before the task, sync
            // results and tasks all look as they do on the remote.
            let mut def = ToolDef::new(local.clone(), handler)
                .scopes(mount.scopes.clone())
                .defer_task(support.is_some());
            let mut listed = tool;
            listed.name = local;
            if support.is_none() {
                listed.execution = None;
            }
            clean_meta(&mut listed.meta);
            def.tool = listed;
            defs.tools.push(def);
        }
        for prompt in catalog.prompts {
            let local = mount.local_name(&prompt.name);
            let w = weak.clone();
            let remote_name = prompt.name.clone();
            let handler = move |ctx: Context, Args(args): Args<JsonObject>| {
                let w = w.clone();
                let remote_name = remote_name.clone();
                async move {
                    match w.upgrade() {
                        Some(s) => s.get_prompt(ctx, remote_name, args).await,
                        None => Err(McpError(ErrorObject::new(
                            ErrorCode::INTERNAL_ERROR,
                            "the backend was unmounted",
                        ))),
                    }
                }
            };
            if catalog.completions {
                for arg in prompt.arguments.iter().flatten() {
                    let w = weak.clone();
                    let reference = json!({"type": "ref/prompt", "name": prompt.name});
                    let complete = move |ctx: Context, c: Completing| {
                        let w = w.clone();
                        let reference = reference.clone();
                        async move {
                            match w.upgrade() {
                                Some(s) => s.complete(ctx, reference, c).await,
                                None => Ok(Completion::new(Vec::new())),
                            }
                        }
                    };
                    defs.completions.push(CompletionDef::prompt(
                        local.clone(),
                        arg.name.clone(),
                        complete,
                    ));
                }
            }
            let mut def = PromptDef::new(local.clone(), handler);
            let mut listed = prompt;
            listed.name = local;
            def.prompt = listed;
            defs.prompts.push(def);
        }
        for resource in catalog.resources {
            let local = mount.local_uri(&resource.uri);
            let w = weak.clone();
            let handler = move |ctx: Context, Uri(uri): Uri| {
                let w = w.clone();
                async move {
                    match w.upgrade() {
                        Some(s) => s.read(ctx, uri).await,
                        None => Err(McpError(ErrorObject::new(
                            ErrorCode::INTERNAL_ERROR,
                            "the backend was unmounted",
                        ))),
                    }
                }
            };
            let mut def = ResourceDef::new(local.clone(), resource.name.clone(), handler);
            let mut listed = resource;
            listed.uri = local;
            def.resource = listed;
            defs.resources.push(def);
        }
        for template in catalog.templates {
            let local = mount.local_uri(&template.uri_template);
            let Ok(matcher) = UriTemplate::parse(&local) else {
                tracing::warn!(mount = %mount.name, template = %template.uri_template, "an invalid URI template; left out");
                continue;
            };
            let w = weak.clone();
            let handler = move |ctx: Context, Uri(uri): Uri| {
                let w = w.clone();
                async move {
                    match w.upgrade() {
                        Some(s) => s.read(ctx, uri).await,
                        None => Err(McpError(ErrorObject::new(
                            ErrorCode::INTERNAL_ERROR,
                            "the backend was unmounted",
                        ))),
                    }
                }
            };
            if catalog.completions {
                for var in template_variables(&template.uri_template) {
                    let w = weak.clone();
                    let reference = json!({"type": "ref/resource", "uri": template.uri_template});
                    let complete = move |ctx: Context, c: Completing| {
                        let w = w.clone();
                        let reference = reference.clone();
                        async move {
                            match w.upgrade() {
                                Some(s) => s.complete(ctx, reference, c).await,
                                None => Ok(Completion::new(Vec::new())),
                            }
                        }
                    };
                    defs.completions
                        .push(CompletionDef::template(local.clone(), var, complete));
                }
            }
            let mut def = TemplateDef::new(local.clone(), template.name.clone(), handler);
            let mut listed = template;
            listed.uri_template = local;
            def.template = listed;
            def.matcher = matcher;
            defs.templates.push(def);
        }
        defs
    }

    /// Fetches and registers the catalogue; `announce`: lists to announce even if unchanged.
    async fn refresh(self: &Arc<Self>, announce: &[ListChanged]) -> Result<(), RemoteError> {
        let _serial = self.refreshing.lock().await;
        let catalog = match self.remote.catalog().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(mount = %self.mount.name, %e, "fetching the catalogue failed");
                return Err(e);
            }
        };
        let defs = self.defs(catalog);
        let before = std::mem::take(&mut *lock(&self.owned));
        let owned = replace(&self.handle, &before, defs, announce);
        tracing::debug!(mount = %self.mount.name, tools = owned.tools.len(), "catalogue registered");
        *lock(&self.owned) = owned;
        // Subscriptions do not survive a reconnect; ask again.
        let subscribed: Vec<String> = lock(&self.subscribed).iter().cloned().collect();
        for uri in subscribed {
            let _ = self.remote.subscribe(&uri).await;
        }
        Ok(())
    }

    /// A probe: a refresh through the breaker (`announce`: see [`MountState::refresh`]).
    async fn probe(self: &Arc<Self>, announce: &[ListChanged]) {
        let Ok(permit) = self.breaker.acquire() else {
            return;
        };
        match self.refresh(announce).await {
            Ok(()) => permit.success(),
            Err(RemoteError::Unavailable(_)) => permit.failure(),
            Err(_) => permit.success(),
        }
    }
}

/// The variable names of a URI template, in order.
fn template_variables(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let expr = &rest[start + 1..start + end];
        let expr = expr.trim_start_matches(['+', '#', '/', '.', ';', '?', '&']);
        for v in expr.split(',') {
            let v = v.trim_end_matches('*');
            if !v.is_empty() && !out.iter().any(|x| x == v) {
                out.push(v.to_owned());
            }
        }
        rest = &rest[start + end + 1..];
    }
    out
}

/// The mount's background task: refresh on announcements, probe while the circuit is open
/// or the catalogue was never fetched.
async fn watch(state: Weak<MountState>) {
    let (mut changes, cooldown) = match state.upgrade() {
        Some(s) => (s.remote.watch(), s.mount.breaker.cooldown),
        None => return,
    };
    let period = cooldown.clamp(Duration::from_millis(50), Duration::from_secs(60));
    loop {
        let change = tokio::select! {
            c = changes.recv() => c,
            _ = tokio::time::sleep(period) => {
                let Some(s) = state.upgrade() else { return };
                let loaded = lock(&s.owned).loaded;
                if !loaded || !matches!(s.breaker.health(), Health::Closed) {
                    s.probe(&[]).await;
                }
                continue;
            }
        };
        let Some(s) = state.upgrade() else { return };
        match change {
            None => {
                // The announcement stream ended; a new one after a pause.
                tokio::time::sleep(period).await;
                changes = s.remote.watch();
            }
            Some(RemoteChange::ResourceUpdated(uri)) => {
                s.handle.notify_resource_updated(s.mount.local_uri(&uri));
            }
            Some(first) => {
                // Coalesce a burst of announcements into one refresh; the lists the remote
                // named are announced whether or not they look different.
                let mut announce = Vec::new();
                let note = |c: RemoteChange, announce: &mut Vec<ListChanged>| match c {
                    RemoteChange::ResourceUpdated(uri) => {
                        s.handle.notify_resource_updated(s.mount.local_uri(&uri))
                    }
                    RemoteChange::List(
                        l @ (ListChanged::Tools | ListChanged::Prompts | ListChanged::Resources),
                    ) if !announce.contains(&l) => announce.push(l),
                    _ => {}
                };
                note(first, &mut announce);
                tokio::time::sleep(Duration::from_millis(20)).await;
                while let Ok(next) = changes.try_recv() {
                    note(next, &mut announce);
                }
                s.probe(&announce).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapping_mounted_items_reports_only_what_clients_see_change() {
        type Item = (&'static str, u32);
        fn mounted(item: &Item) -> bool {
            item.0 != "local"
        }
        fn listed(item: &Item) -> &u32 {
            &item.1
        }
        let names = |list: &[Arc<Item>]| list.iter().map(|i| i.0).collect::<Vec<_>>();
        let mut list: Vec<Arc<Item>> = vec![Arc::new(("a", 1)), Arc::new(("local", 1))];
        // The same listing again: no change; the mount's items go after the others.
        assert!(!swap_mounted(&mut list, vec![("a", 1)], mounted, listed));
        assert_eq!(names(&list), ["local", "a"]);
        // A changed listing, an added item, a removed one: each is a change.
        assert!(swap_mounted(&mut list, vec![("a", 2)], mounted, listed));
        assert!(swap_mounted(
            &mut list,
            vec![("a", 2), ("b", 1)],
            mounted,
            listed
        ));
        assert_eq!(names(&list), ["local", "a", "b"]);
        assert!(swap_mounted(&mut list, vec![], mounted, listed));
        assert_eq!(names(&list), ["local"]);
    }

    #[test]
    fn uri_mapping_round_trips() {
        let m = Mount::new("s")
            .prefix("sales")
            .uris(UriMapping::SchemePrefix);
        assert_eq!(m.local_uri("postgres://tables"), "sales+postgres://tables");
        assert_eq!(
            m.remote_uri("sales+postgres://tables"),
            Some("postgres://tables")
        );
        assert_eq!(m.remote_uri("other://x"), None);
        let v = Mount::new("v").prefix("sales");
        assert_eq!(v.local_uri("test://a"), "test://a");
        assert_eq!(v.local_name("get"), "sales.get");
        assert_eq!(Mount::new("n").local_name("get"), "get");
    }

    #[test]
    fn template_variables_are_found() {
        assert_eq!(
            template_variables("postgres://{schema}/{table}/schema{?x,y}"),
            ["schema", "table", "x", "y"]
        );
    }

    #[tokio::test]
    async fn breaker_opens_and_recovers() {
        let b = Breaker {
            config: BreakerConfig::default()
                .failure_threshold(2)
                .cooldown(Duration::from_millis(30)),
            state: Mutex::new(BreakerState::default()),
        };
        b.acquire().map(Permit::failure).expect("closed");
        assert_eq!(b.health(), Health::Closed);
        b.acquire().map(Permit::failure).expect("closed");
        assert!(matches!(b.health(), Health::Open { .. }));
        assert!(b.acquire().is_err());
        tokio::time::sleep(Duration::from_millis(40)).await;
        let trial = b.acquire().expect("a trial after the cooldown");
        assert!(b.acquire().is_err(), "one trial at a time");
        assert_eq!(b.health(), Health::HalfOpen);
        trial.success();
        assert_eq!(b.health(), Health::Closed);
    }
}
