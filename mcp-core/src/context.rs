//! The request context: progress, logging, cancellation, and asking the client.
//!
//! One API serves both protocol eras. Progress and log messages become notifications in both.
//! Asking the client — [`Context::elicit`], [`Context::sample`], [`Context::list_roots`] — is a
//! server→client request in the handshake era. In 2026-07-28 there is no way back to the
//! client, so the first time a handler asks, its run ends and the client receives an
//! `input_required` result; when the client retries with the answers, the handler runs again
//! from the top and this time the same call returns the answer at once.
//!
//! That has one consequence for handler code: **everything before a question must be safe to
//! run twice**, and each question needs a key that stays the same across runs.
//!
//! ```
//! use mcp_core::protocol::{ElicitAction, ElicitRequest};
//! use mcp_core::{Context, response::ToolError};
//!
//! async fn delete_all(ctx: Context) -> Result<String, ToolError> {
//!     let answer = ctx
//!         .elicit("confirm", ElicitRequest::form("Delete everything?", serde_json::json!({
//!             "type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]
//!         })))
//!         .await?;
//!     if answer.action != ElicitAction::Accept {
//!         return Ok("nothing deleted".into());
//!     }
//!     ctx.progress(1.0, Some(1.0), Some("done")).await;
//!     Ok("deleted".into())
//! }
//! # let _: mcp_core::Router = mcp_core::Router::new().tool_fn("delete_all", delete_all);
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::era::Era;
use crate::jsonrpc::{ErrorObject, RequestId, ResponsePayload};
use crate::protocol::{
    ClientCapabilities, CreateMessageParams, CreateMessageResult, ElicitRequest, ElicitResult,
    Implementation, JsonObject, ListRootsResult, LoggingLevel, ProgressToken, ProtocolVersion,
};
use crate::server::ServerHandle;

/// What kind of message an [`Outgoing`] carries.
///
/// See [`Outgoing`] for an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutgoingKind {
    /// The response to the request being served (always the last message for that request).
    Response,
    /// A notification.
    Notification,
    /// A server→client request.
    Request,
}

/// One serialized message on its way to the client.
///
/// ```
/// use mcp_core::context::{Outgoing, OutgoingKind};
/// let m = Outgoing { kind: OutgoingKind::Notification, json: "{}".into() };
/// assert_eq!(m.kind, OutgoingKind::Notification);
/// ```
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The kind.
    pub kind: OutgoingKind,
    /// The JSON text, one line, no trailing newline.
    pub json: String,
}

/// Where a request's notifications, server→client requests and response go.
///
/// # Examples
/// ```
/// use mcp_core::context::{Outgoing, OutgoingKind, Sink};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (sink, mut rx): (Sink, _) = tokio::sync::mpsc::channel(16);
/// sink.send(Outgoing { kind: OutgoingKind::Notification, json: "{}".into() }).await.unwrap();
/// assert_eq!(rx.recv().await.unwrap().kind, OutgoingKind::Notification);
/// # }
/// ```
pub type Sink = mpsc::Sender<Outgoing>;

/// Why asking the client failed.
///
/// ```
/// use mcp_core::context::ContextError;
/// let e = ContextError::MissingCapability { capability: "sampling".into() };
/// assert!(e.to_string().contains("sampling"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// The client did not declare the capability this needs.
    #[error("the client does not support {capability}; it did not declare that capability")]
    MissingCapability {
        /// The capability, for example `elicitation.form`.
        capability: String,
    },
    /// The negotiated protocol version predates the feature.
    #[error("{feature} needs protocol version {since} or later; this session speaks {actual}")]
    Unsupported {
        /// The feature.
        feature: &'static str,
        /// The first version with it.
        since: ProtocolVersion,
        /// The session's version.
        actual: ProtocolVersion,
    },
    /// The client answered with an error.
    #[error("the client answered with an error: {0}")]
    Client(ErrorObject),
    /// The client's answer did not have the expected shape.
    #[error("the client's answer is malformed: {0}")]
    InvalidResponse(String),
    /// No answer in time.
    #[error("the client did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection to the client is gone.
    #[error("the connection to the client is closed")]
    Closed,
    /// Too many requests to the client are pending.
    #[error("too many requests to the client are pending")]
    Busy,
}

/// Outstanding server→client requests of one handshake-era connection.
#[derive(Debug)]
pub(crate) struct Peer {
    next_id: AtomicI64,
    pending: Mutex<HashMap<RequestId, oneshot::Sender<ResponsePayload>>>,
}

impl Default for Peer {
    /// Ids start at a random multiple of 2^16 (below 2^47, exact in every JSON number type),
    /// so that instances serving one session behind a load balancer neither send the client
    /// two requests with the same id nor take each other's answers.
    fn default() -> Self {
        let mut b = [0u8; 4];
        let _ = getrandom::fill(&mut b);
        Peer {
            next_id: AtomicI64::new(i64::from(u32::from_le_bytes(b) >> 1) << 16),
            pending: Mutex::default(),
        }
    }
}

/// The most server→client requests one connection may have outstanding.
const MAX_PENDING_PEER_REQUESTS: usize = 1024;

impl Peer {
    /// Routes a client's response to the request that awaits it. Unknown ids are ignored.
    pub(crate) fn resolve(&self, id: &RequestId, payload: ResponsePayload) -> bool {
        let waiter = self.pending.lock().ok().and_then(|mut p| p.remove(id));
        match waiter {
            Some(tx) => tx.send(payload).is_ok(),
            None => false,
        }
    }

    async fn request(
        &self,
        method: &str,
        params: Value,
        sink: &Sink,
        timeout: Duration,
    ) -> Result<Value, ContextError> {
        let id = RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.pending.lock().map_err(|_| ContextError::Closed)?;
            if pending.len() >= MAX_PENDING_PEER_REQUESTS {
                return Err(ContextError::Busy);
            }
            pending.insert(id.clone(), tx);
        }
        // Forgets the entry however this future ends; dropped while waiting (the request
        // that asked was cancelled), it also tells the client to stop.
        let mut pending = PendingGuard {
            peer: self,
            id: id.clone(),
            sink,
            cancel_reason: None,
        };
        let json =
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        if sink
            .send(Outgoing {
                kind: OutgoingKind::Request,
                json,
            })
            .await
            .is_err()
        {
            return Err(ContextError::Closed);
        }
        pending.cancel_reason = Some("the request that asked was cancelled");
        let answer = tokio::time::timeout(timeout, rx).await;
        pending.cancel_reason = None;
        match answer {
            Ok(Ok(ResponsePayload::Result(raw))) => serde_json::from_str(raw.get())
                .map_err(|e| ContextError::InvalidResponse(e.to_string())),
            Ok(Ok(ResponsePayload::Error(e))) => Err(ContextError::Client(e)),
            Ok(Err(_)) => Err(ContextError::Closed),
            Err(_) => {
                pending.cancel_reason = Some("timed out");
                Err(ContextError::Timeout(timeout))
            }
        }
    }

    fn forget(&self, id: &RequestId) {
        if let Ok(mut p) = self.pending.lock() {
            p.remove(id);
        }
    }
}

/// Removes a pending server→client request when its waiter ends, and sends
/// `notifications/cancelled` for it when the waiter ends without an answer.
struct PendingGuard<'a> {
    peer: &'a Peer,
    id: RequestId,
    sink: &'a Sink,
    cancel_reason: Option<&'static str>,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.peer.forget(&self.id);
        if let Some(reason) = self.cancel_reason {
            let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": self.id, "reason": reason}})
            .to_string();
            let _ = self.sink.try_send(Outgoing {
                kind: OutgoingKind::Notification,
                json: cancel,
            });
        }
    }
}

/// The legacy session's log threshold: 0 = everything, otherwise level + 1.
#[derive(Debug, Default)]
pub(crate) struct LogThreshold(AtomicU8);

impl LogThreshold {
    pub(crate) fn set(&self, level: LoggingLevel) {
        self.0.store(level as u8 + 1, Ordering::Relaxed);
    }

    fn level(&self) -> LoggingLevel {
        const LEVELS: [LoggingLevel; 8] = [
            LoggingLevel::Debug,
            LoggingLevel::Info,
            LoggingLevel::Notice,
            LoggingLevel::Warning,
            LoggingLevel::Error,
            LoggingLevel::Critical,
            LoggingLevel::Alert,
            LoggingLevel::Emergency,
        ];
        let t = self.0.load(Ordering::Relaxed) as usize;
        LEVELS[t.saturating_sub(1).min(LEVELS.len() - 1)]
    }

    fn allows(&self, level: LoggingLevel) -> bool {
        let t = self.0.load(Ordering::Relaxed);
        t == 0 || level as u8 + 1 >= t
    }
}

/// Why a 2026-07-28 handler run stopped before finishing.
#[derive(Debug, Default)]
pub(crate) struct Interrupts {
    /// Questions for the client, by key.
    pub(crate) inputs: JsonObject,
    /// A capability the request lacks (`requiredCapabilities` value).
    pub(crate) missing_capability: Option<Value>,
    /// A malformed answer.
    pub(crate) malformed: Option<String>,
    /// The handler asked to continue as a task.
    pub(crate) escalate: bool,
}

impl Interrupts {
    pub(crate) fn is_set(&self) -> bool {
        !self.inputs.is_empty()
            || self.missing_capability.is_some()
            || self.malformed.is_some()
            || self.escalate
    }
}

/// The task a handler runs as, once it does.
#[derive(Debug, Clone)]
pub(crate) struct TaskLink {
    pub(crate) tasks: Arc<crate::server::tasks::TaskRuntime>,
    pub(crate) id: String,
}

/// How the era-specific parts of a request reach the client.
#[derive(Debug)]
pub(crate) enum Channel {
    /// Handshake era: server→client requests over the connection.
    Handshake {
        peer: Arc<Peer>,
        log: Arc<LogThreshold>,
    },
    /// 2026-07-28: answers arrive with the retried request.
    Modern {
        answers: JsonObject,
        log: Option<LoggingLevel>,
        interrupts: Mutex<Interrupts>,
    },
}

#[derive(Debug)]
pub(crate) struct ContextInner {
    pub(crate) request_id: RequestId,
    pub(crate) era: Era,
    pub(crate) capabilities: Arc<ClientCapabilities>,
    pub(crate) client_info: Option<Arc<Implementation>>,
    pub(crate) progress_token: Option<ProgressToken>,
    pub(crate) sink: Sink,
    pub(crate) channel: Channel,
    pub(crate) cancel: CancellationToken,
    pub(crate) server: ServerHandle,
    pub(crate) peer_timeout: Duration,
    pub(crate) last_progress: Mutex<Option<f64>>,
    /// Set when the call runs as a task.
    pub(crate) task: std::sync::OnceLock<TaskLink>,
    /// Whether this call may become a task (the tool supports it and the client can take one).
    pub(crate) task_capable: bool,
    /// The authenticated caller.
    pub(crate) identity: Option<Arc<crate::identity::Identity>>,
}

/// The request context, an extractor: add `ctx: Context` to a handler's arguments.
///
/// Cheap to clone; clones share the request.
///
/// # Examples
/// ```
/// use mcp_core::{Context, Router, ToolDef};
///
/// async fn whoami(ctx: Context) -> String {
///     let client = ctx.client_info().map(|i| i.name.as_str()).unwrap_or("an unnamed client");
///     let caller = ctx.identity().map(|i| i.subject.as_str()).unwrap_or("anonymous");
///     let sampling = ctx.client_capabilities().sampling.is_some();
///     format!(
///         "request {} from {client} as {caller} in {:?} (sampling: {sampling}, log level {:?}, task {:?}, {} tools)",
///         ctx.request_id(),
///         ctx.era(),
///         ctx.log_level(),
///         ctx.task_id(),
///         ctx.server().tool_names().len(),
///     )
/// }
///
/// let router: Router = Router::new().tool(ToolDef::new("whoami", whoami).description("Describes the caller"));
/// # let _ = router;
/// ```
#[derive(Debug, Clone)]
pub struct Context {
    pub(crate) inner: Arc<ContextInner>,
}

impl Context {
    /// The id of the request being served.
    ///
    /// See [`Context`] for an example.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The protocol era (and version) of this request.
    ///
    /// See [`Context`] for an example.
    pub fn era(&self) -> Era {
        self.inner.era
    }

    /// What the client can do: from `initialize` (handshake era) or this request's envelope.
    ///
    /// See [`Context`] for an example.
    pub fn client_capabilities(&self) -> &ClientCapabilities {
        &self.inner.capabilities
    }

    /// Who the client says it is, if it said.
    ///
    /// See [`Context`] for an example.
    pub fn client_info(&self) -> Option<&Implementation> {
        self.inner.client_info.as_deref()
    }

    /// A handle on the running server: add or remove tools, prompts and resources.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Context, Router, ToolDef};
    ///
    /// async fn beta() -> &'static str { "new feature" }
    /// async fn enable_beta(ctx: Context) -> &'static str {
    ///     // Clients are told with `notifications/tools/list_changed`.
    ///     ctx.server().add_tool(ToolDef::new("beta", beta).description("A beta feature"));
    ///     "enabled"
    /// }
    /// # let _: Router = Router::new().tool(ToolDef::new("enable_beta", enable_beta));
    /// ```
    pub fn server(&self) -> &ServerHandle {
        &self.inner.server
    }

    /// Whether the client cancelled this request. The handler's future is dropped on
    /// cancellation anyway; this is for work the handler spawned.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Context, Router, ToolDef};
    ///
    /// async fn crunch(ctx: Context) -> String {
    ///     let token = ctx.cancellation_token();
    ///     let work = tokio::spawn(async move {
    ///         let mut done = 0u64;
    ///         while !token.is_cancelled() && done < 1_000 {
    ///             done += 1;
    ///             tokio::task::yield_now().await;
    ///         }
    ///         done
    ///     });
    ///     tokio::select! {
    ///         _ = ctx.cancelled() => "cancelled".into(),
    ///         n = work => format!("{} steps (cancelled: {})", n.unwrap_or(0), ctx.is_cancelled()),
    ///     }
    /// }
    /// # let _: Router = Router::new().tool(ToolDef::new("crunch", crunch));
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// Completes when the request is cancelled.
    ///
    /// See [`Context::is_cancelled`] for an example.
    pub async fn cancelled(&self) {
        self.inner.cancel.cancelled().await
    }

    /// A token cancelled with the request, to hand to spawned work.
    ///
    /// See [`Context::is_cancelled`] for an example.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// Reports progress, if the client asked for it (a `progressToken` in the request).
    ///
    /// Values must increase; one that does not is dropped, as the protocol requires.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Context, Router, ToolDef};
    ///
    /// async fn index(ctx: Context) -> &'static str {
    ///     for done in 1..=3 {
    ///         ctx.progress(done as f64, Some(3.0), Some("indexing")).await;
    ///     }
    ///     "indexed"
    /// }
    /// # let _: Router = Router::new().tool(ToolDef::new("index", index));
    /// ```
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.inner.progress_token else {
            return;
        };
        {
            let Ok(mut last) = self.inner.last_progress.lock() else {
                return;
            };
            if last.is_some_and(|l| progress <= l) {
                tracing::debug!(progress, "dropping a progress value that does not increase");
                return;
            }
            *last = Some(progress);
        }
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(t) = total {
            params["total"] = json!(t);
        }
        if let Some(m) = message {
            params["message"] = json!(m);
        }
        self.notify("notifications/progress", params).await;
    }

    /// Sends a log message to the client, if its level passes the client's filter
    /// (`logging/setLevel` in the handshake era, the request's `logLevel` in 2026-07-28).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::LoggingLevel;
    /// use mcp_core::{Context, Router, ToolDef};
    ///
    /// async fn deploy(ctx: Context) -> &'static str {
    ///     ctx.log_info("deploying").await;
    ///     ctx.log(LoggingLevel::Warning, Some("deploy"), serde_json::json!({"slow": true})).await;
    ///     "deployed"
    /// }
    /// # let _: Router = Router::new().tool(ToolDef::new("deploy", deploy));
    /// ```
    pub async fn log(&self, level: LoggingLevel, logger: Option<&str>, data: impl Serialize) {
        let allowed = match &self.inner.channel {
            Channel::Handshake { log, .. } => log.allows(level),
            Channel::Modern { log, .. } => log.is_some_and(|min| level >= min),
        };
        if !allowed {
            return;
        }
        let mut params = json!({"level": level, "data": data});
        if let Some(l) = logger {
            params["logger"] = json!(l);
        }
        self.notify("notifications/message", params).await;
    }

    /// Logs at `info`.
    ///
    /// See [`Context::log`] for an example.
    pub async fn log_info(&self, message: impl Into<String>) {
        self.log(LoggingLevel::Info, None, message.into()).await
    }

    async fn notify(&self, method: &str, params: Value) {
        let json = json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string();
        let _ = self
            .inner
            .sink
            .send(Outgoing {
                kind: OutgoingKind::Notification,
                json,
            })
            .await;
    }

    /// Asks the user for input (form or URL mode). `key` names the question; it must stay the
    /// same when the handler runs again (see the module docs).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::{ElicitAction, ElicitRequest};
    /// use mcp_core::{Context, Router, ToolDef, ToolError};
    /// use serde_json::json;
    ///
    /// async fn delete_all(ctx: Context) -> Result<String, ToolError> {
    ///     let schema = json!({"type": "object", "properties": {"confirm": {"type": "boolean"}}});
    ///     let answer = ctx.elicit("confirm", ElicitRequest::form("Delete everything?", schema)).await?;
    ///     let confirmed = answer.action == ElicitAction::Accept
    ///         && answer.content.and_then(|c| c.get("confirm").and_then(|v| v.as_bool())) == Some(true);
    ///     Ok(if confirmed { "deleted".into() } else { "kept".into() })
    /// }
    /// # let _: Router = Router::new().tool(ToolDef::new("delete_all", delete_all));
    /// ```
    pub async fn elicit(
        &self,
        key: &str,
        request: ElicitRequest,
    ) -> Result<ElicitResult, ContextError> {
        let caps = &self.inner.capabilities;
        let (supported, capability, required) = match &request {
            ElicitRequest::Form { .. } => (
                caps.supports_form_elicitation(),
                "form elicitation",
                json!({"elicitation": {"form": {}}}),
            ),
            ElicitRequest::Url { .. } => (
                caps.supports_url_elicitation(),
                "URL elicitation",
                json!({"elicitation": {"url": {}}}),
            ),
        };
        let since = match &request {
            ElicitRequest::Form { .. } => ProtocolVersion::V2025_06_18,
            ElicitRequest::Url { .. } => ProtocolVersion::V2025_11_25,
        };
        let mut params = serde_json::to_value(&request)
            .map_err(|e| ContextError::InvalidResponse(e.to_string()))?;
        if let (
            ElicitRequest::Url {
                elicitation_id: None,
                ..
            },
            Era::Handshake(_),
        ) = (&request, self.era())
        {
            params["elicitationId"] = json!(format!("{}-{key}", self.inner.request_id));
        }
        self.ask(
            key,
            "elicitation/create",
            params,
            supported,
            capability,
            required,
            since,
            "elicitation",
        )
        .await
    }

    /// Asks the client's model for a completion.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::{CreateMessageParams, SamplingMessage};
    /// use mcp_core::{Context, Router, ToolDef, ToolError};
    ///
    /// async fn summarize(ctx: Context) -> Result<String, ToolError> {
    ///     let params = CreateMessageParams::new(vec![SamplingMessage::user("Summarize: …")], 200);
    ///     let reply = ctx.sample("summary", params).await?;
    ///     Ok(reply.text().unwrap_or_default().to_owned())
    /// }
    /// # let _: Router = Router::new().tool(ToolDef::new("summarize", summarize));
    /// ```
    pub async fn sample(
        &self,
        key: &str,
        params: CreateMessageParams,
    ) -> Result<CreateMessageResult, ContextError> {
        let caps = &self.inner.capabilities;
        let wants_tools = params.tools.is_some();
        let supported = caps
            .sampling
            .as_ref()
            .is_some_and(|s| !wants_tools || s.tools.is_some());
        let required = if wants_tools {
            json!({"sampling": {"tools": {}}})
        } else {
            json!({"sampling": {}})
        };
        let params = serde_json::to_value(&params)
            .map_err(|e| ContextError::InvalidResponse(e.to_string()))?;
        self.ask(
            key,
            "sampling/createMessage",
            params,
            supported,
            "sampling",
            required,
            ProtocolVersion::V2024_11_05,
            "sampling",
        )
        .await
    }

    /// Asks the client for its roots.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Context, Router, ToolDef, ToolError};
    ///
    /// async fn roots(ctx: Context) -> Result<String, ToolError> {
    ///     let roots = ctx.list_roots("roots").await?;
    ///     Ok(roots.roots.iter().map(|r| r.uri.as_str()).collect::<Vec<_>>().join("\n"))
    /// }
    /// # let _: Router = Router::new().tool(ToolDef::new("roots", roots));
    /// ```
    pub async fn list_roots(&self, key: &str) -> Result<ListRootsResult, ContextError> {
        let supported = self.inner.capabilities.roots.is_some();
        self.ask(
            key,
            "roots/list",
            json!({}),
            supported,
            "roots",
            json!({"roots": {}}),
            ProtocolVersion::V2024_11_05,
            "roots",
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn ask<R: DeserializeOwned>(
        &self,
        key: &str,
        method: &str,
        params: Value,
        supported: bool,
        capability: &str,
        required: Value,
        since: ProtocolVersion,
        feature: &'static str,
    ) -> Result<R, ContextError> {
        if let (Some(link), Channel::Modern { .. }) = (self.inner.task.get(), &self.inner.channel) {
            if !supported {
                return Err(ContextError::MissingCapability {
                    capability: capability.into(),
                });
            }
            let answer = link
                .tasks
                .ask(&link.id, key, method, params)
                .await
                .ok_or(ContextError::Closed)?;
            return serde_json::from_value(answer)
                .map_err(|e| ContextError::InvalidResponse(e.to_string()));
        }
        match &self.inner.channel {
            Channel::Handshake { peer, .. } => {
                let actual = self.era().version();
                if actual < since {
                    return Err(ContextError::Unsupported {
                        feature,
                        since,
                        actual,
                    });
                }
                if !supported {
                    return Err(ContextError::MissingCapability {
                        capability: capability.into(),
                    });
                }
                let task = self.inner.task.get();
                let mut params = params;
                if let Some(link) = task {
                    link.tasks.set_waiting(&link.id, true).await;
                    // Tie the question to its task (2025-11-25 `related-task`).
                    if let Some(obj) = params.as_object_mut() {
                        if let Some(meta) = obj
                            .entry("_meta")
                            .or_insert_with(|| json!({}))
                            .as_object_mut()
                        {
                            meta.insert(
                                crate::protocol::meta::RELATED_TASK.into(),
                                json!({"taskId": link.id}),
                            );
                        }
                    }
                }
                let value = peer
                    .request(method, params, &self.inner.sink, self.inner.peer_timeout)
                    .await;
                if let Some(link) = task {
                    link.tasks.set_waiting(&link.id, false).await;
                }
                let value = value?;
                serde_json::from_value(value)
                    .map_err(|e| ContextError::InvalidResponse(e.to_string()))
            }
            Channel::Modern {
                answers,
                interrupts,
                ..
            } => {
                if !supported {
                    if let Ok(mut i) = interrupts.lock() {
                        i.missing_capability.get_or_insert(required);
                    }
                    return std::future::pending().await;
                }
                if let Some(answer) = answers.get(key) {
                    match serde_json::from_value::<R>(answer.clone()) {
                        Ok(r) => return Ok(r),
                        Err(e) => {
                            if let Ok(mut i) = interrupts.lock() {
                                i.malformed.get_or_insert(format!(
                                    "inputResponses[{key:?}] is malformed: {e}"
                                ));
                            }
                            return std::future::pending().await;
                        }
                    }
                }
                if let Ok(mut i) = interrupts.lock() {
                    i.inputs
                        .insert(key.to_owned(), json!({"method": method, "params": params}));
                }
                std::future::pending().await
            }
        }
    }

    /// Continues this call as a task, if it can become one: the client gets a task to poll
    /// (2026-07-28: a `CreateTaskResult`) and the handler goes on in the background.
    ///
    /// Tools registered with [`ToolDef::defer_task`](crate::ToolDef::defer_task) call this once
    /// they have gathered their input; otherwise a task-capable call becomes a task before the
    /// handler starts and this returns at once. Outside tasks it does nothing.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::{ElicitRequest, TaskSupport};
    /// use mcp_core::{Context, Router, ToolDef, ToolError};
    /// use serde_json::json;
    ///
    /// async fn migrate(ctx: Context) -> Result<String, ToolError> {
    ///     let schema = json!({"type": "object", "properties": {"table": {"type": "string"}}});
    ///     let answer = ctx.elicit("table", ElicitRequest::form("Which table?", schema)).await?;
    ///     // The question is answered: the long part runs as a task.
    ///     ctx.escalate_to_task().await;
    ///     Ok(format!("migrated {:?} as task {:?}", answer.content, ctx.task_id()))
    /// }
    /// # let _: Router = Router::new().tool(
    /// #     ToolDef::new("migrate", migrate).task_support(TaskSupport::Optional).defer_task(true),
    /// # );
    /// ```
    pub async fn escalate_to_task(&self) {
        if !self.inner.task_capable || self.inner.task.get().is_some() {
            return;
        }
        let Channel::Modern { interrupts, .. } = &self.inner.channel else {
            return;
        };
        if let Ok(mut i) = interrupts.lock() {
            i.escalate = true;
        }
        // Pending until the runtime has made the task; it polls again afterwards.
        let inner = self.inner.clone();
        std::future::poll_fn(move |cx| {
            if inner.task.get().is_some() {
                std::task::Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await
    }

    /// The least severe log level the client wants for this request: its `logLevel` in
    /// 2026-07-28 (`None` means no logs), the session's `logging/setLevel` in the handshake era
    /// (`Some(Debug)` until the client sets one).
    ///
    /// See [`Context`] for an example.
    pub fn log_level(&self) -> Option<LoggingLevel> {
        match &self.inner.channel {
            Channel::Handshake { log, .. } => Some(log.level()),
            Channel::Modern { log, .. } => *log,
        }
    }

    /// The authenticated caller, if any.
    ///
    /// See [`Context`] for an example.
    pub fn identity(&self) -> Option<&crate::identity::Identity> {
        self.inner.identity.as_deref()
    }

    /// The id of the task this call runs as, if it does.
    ///
    /// See [`Context`] for an example.
    pub fn task_id(&self) -> Option<&str> {
        self.inner.task.get().map(|l| l.id.as_str())
    }

    /// Takes the interrupt state, if this is a 2026-07-28 run that was interrupted.
    pub(crate) fn take_interrupts(&self) -> Option<Interrupts> {
        match &self.inner.channel {
            Channel::Modern { interrupts, .. } => {
                let mut guard = interrupts.lock().ok()?;
                guard.is_set().then(|| std::mem::take(&mut *guard))
            }
            Channel::Handshake { .. } => None,
        }
    }

    pub(crate) fn answers(&self) -> Option<&JsonObject> {
        match &self.inner.channel {
            Channel::Modern { answers, .. } => Some(answers),
            Channel::Handshake { .. } => None,
        }
    }
}
