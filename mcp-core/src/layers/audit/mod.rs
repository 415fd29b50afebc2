//! A tamper-evident audit log: one hash-chained record per tool call, resource read and prompt
//! get, whatever became of it.
//!
//! Each record is one line of JSON. Its last field, `hash`, is the SHA-256 of the line without
//! that field, and its `prev` field is the hash of the record before it (64 zeros for the
//! first), so editing, deleting, inserting or reordering records breaks the chain at the first
//! record touched. [`verify`] (and the `audit-verify` example binary) report that record.
//!
//! ```text
//! {"seq":0,"ts":"2026-05-01T12:00:00.125Z","identity":"alice","remoteAddr":"203.0.113.7",
//!  "requestId":7,"operation":"tools/call","target":"search","arguments":{"q":"x","password":"[REDACTED]"},
//!  "outcome":"ok","durationMs":12.5,"prev":"000…000","hash":"9f2c…"}
//! ```
//! (one line in the log; wrapped here)
//!
//! ```
//! use mcp_core::layers::audit::{verify, AuditLog, MemorySink};
//! use mcp_core::layers::AuditLayer;
//! use mcp_core::{Router, Server};
//!
//! let sink = MemorySink::new();
//! let log = AuditLog::builder(sink.clone())
//!     .redact(["ssn"])
//!     .fail_open()
//!     .build()?;
//! let server = Server::new(Router::new()).layer(AuditLayer::new(log));
//! # let _ = server;
//! // Later, or in another process:
//! let head = verify(sink.text().as_bytes()).expect("the chain is intact");
//! assert_eq!(head.records, 0);
//! # Ok::<(), std::io::Error>(())
//! ```

mod sink;
mod verify;

use std::collections::HashSet;
use std::convert::Infallible;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::time::Instant;

pub use sink::{AuditSink, JsonLinesFile, MemorySink, StderrSink};
pub use verify::{
    verify, verify_file, verify_with, Break, ChainHead, VerifyError, VerifyOptions, GENESIS,
};

use super::outcome::{observe, Outcome};
use super::{is_operation, LayerFuture, Metrics, UNAVAILABLE};
use crate::jsonrpc::ErrorObject;
use crate::server::{McpRequest, McpResponse};

/// Argument fields redacted unless configured otherwise (matched by name, at any depth,
/// ignoring case).
///
/// # Examples
/// ```
/// use mcp_core::layers::audit::{AuditLog, MemorySink, DEFAULT_REDACTED};
/// assert!(DEFAULT_REDACTED.contains(&"api_key"));
/// // `redact` adds to this list; `redact_only` replaces it.
/// let log = AuditLog::builder(MemorySink::new()).redact(["ssn"]).build()?;
/// # let _ = log;
/// # Ok::<(), std::io::Error>(())
/// ```
pub const DEFAULT_REDACTED: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "access_token",
    "refresh_token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
];

/// What replaces a redacted value.
///
/// See [`AuditLogBuilder`] for an example.
pub const REDACTED: &str = "[REDACTED]";

/// One audit record, as written (without its `hash`, which is appended to the line) and as
/// read back with [`AuditRecord::parse`].
///
/// See [`AuditLogBuilder`] for an example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuditRecord {
    /// Position in the chain, from 0.
    pub seq: u64,
    /// When the operation ended, RFC 3339 UTC with milliseconds.
    pub ts: String,
    /// The authenticated subject (never a credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The OAuth client the caller's token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The client's address, after trusted-proxy resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_addr: Option<String>,
    /// The handshake-era session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The JSON-RPC request id.
    pub request_id: Value,
    /// The method: `tools/call`, `resources/read` or `prompts/get`.
    pub operation: String,
    /// The tool or prompt name, or the resource URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The arguments, with the configured fields redacted (and replaced by a digest when
    /// too large).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// What became of it ([`Outcome::as_str`]).
    pub outcome: String,
    /// The JSON-RPC error code, when the answer was an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// How long it took, in milliseconds.
    pub duration_ms: f64,
    /// The hash of the previous record.
    pub prev: String,
    /// This record's hash (read back only; written as the line's last field).
    #[serde(default, skip_serializing)]
    pub hash: String,
}

impl AuditRecord {
    /// Reads one line of an audit log (without checking its hash: that is [`verify`]'s job).
    ///
    /// ```
    /// use mcp_core::layers::audit::AuditRecord;
    /// let line = r#"{"seq":0,"ts":"2026-01-01T00:00:00.000Z","requestId":1,"operation":"tools/call","target":"echo","outcome":"ok","durationMs":1.5,"prev":"00","hash":"ab"}"#;
    /// let r = AuditRecord::parse(line).unwrap();
    /// assert_eq!(r.target.as_deref(), Some("echo"));
    /// assert_eq!(r.outcome(), Some(mcp_core::layers::Outcome::Ok));
    /// ```
    pub fn parse(line: &str) -> Result<AuditRecord, serde_json::Error> {
        serde_json::from_str(line)
    }

    /// The outcome, if it is one this version knows.
    ///
    /// See [`AuditRecord::parse`] for an example.
    pub fn outcome(&self) -> Option<Outcome> {
        Outcome::from_name(&self.outcome)
    }
}

/// What happens when the sink cannot take a record.
///
/// # Examples
/// ```
/// use mcp_core::layers::audit::{AuditLog, FailurePolicy, MemorySink};
/// let strict = AuditLog::builder(MemorySink::new()).build()?;
/// assert_eq!(strict.policy(), FailurePolicy::FailClosed);
/// let lenient = AuditLog::builder(MemorySink::new()).fail_open().build()?;
/// assert_eq!(lenient.policy(), FailurePolicy::FailOpen);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Deny: an operation whose record cannot be written gets the error `-31503`
    /// (`data.reason = "audit_unavailable"`) instead of its result, and after such a failure
    /// operations are refused before they run for as long as [`AuditSink::check`] fails.
    /// The default.
    #[default]
    FailClosed,
    /// Serve anyway and count the lost record (`mcp_audit_dropped_records_total`).
    FailOpen,
}

/// Builds an [`AuditLog`].
///
/// # Examples
///
/// Every tool call is recorded with its arguments redacted, in a hash chain that [`verify`]
/// checks:
///
/// ```
/// use mcp_core::jsonrpc::Message;
/// use mcp_core::layers::audit::{verify, AuditLog, AuditRecord, MemorySink, REDACTED};
/// use mcp_core::layers::{AuditLayer, Metrics, Outcome};
/// use mcp_core::{Args, Connection, Router, Server, ToolDef};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Login { user: String, pin: String }
/// async fn login(Args(l): Args<Login>) -> String { format!("welcome, {} ({} digits)", l.user, l.pin.len()) }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let sink = MemorySink::new();
/// let log = AuditLog::builder(sink.clone())
///     .redact(["pin"])
///     .max_argument_bytes(4096)
///     .metrics(&Metrics::new())
///     .fail_closed()
///     .build()?;
/// let server = Server::new(Router::new().tool(ToolDef::new("login", login)))
///     .layer(AuditLayer::new(log.clone()));
///
/// // Drive one connection by hand, as a transport would.
/// let (tx, mut rx) = tokio::sync::mpsc::channel(16);
/// let conn = Connection::new(&server, tx.clone());
/// let send = |json: &str| conn.receive(Message::parse(json.as_bytes()).unwrap(), tx.clone());
/// send(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"doc","version":"1"}}}"#);
/// rx.recv().await;
/// send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
/// send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"login","arguments":{"user":"ada","pin":"1234"}}}"#);
/// assert!(rx.recv().await.unwrap().json.contains("welcome, ada"));
///
/// let lines = sink.lines();
/// let record = AuditRecord::parse(&lines[0]).unwrap();
/// assert_eq!(record.target.as_deref(), Some("login"));
/// assert_eq!(record.arguments.as_ref().unwrap()["pin"], REDACTED);
/// assert_eq!(record.outcome(), Some(Outcome::Ok));
/// assert_eq!(log.head().records, 1);
/// assert_eq!(verify(sink.text().as_bytes()).unwrap(), log.head());
/// assert_eq!(log.dropped(), 0);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AuditLogBuilder<K> {
    sink: K,
    redact: HashSet<String>,
    policy: FailurePolicy,
    metrics: Option<Metrics>,
    max_argument_bytes: usize,
}

impl<K: AuditSink> AuditLogBuilder<K> {
    /// Also redacts these argument fields (by name, at any depth, ignoring case), besides
    /// [`DEFAULT_REDACTED`].
    ///
    /// See [`AuditLogBuilder`] for an example.
    pub fn redact<I: IntoIterator<Item = impl Into<String>>>(mut self, fields: I) -> Self {
        self.redact
            .extend(fields.into_iter().map(|f| f.into().to_lowercase()));
        self
    }

    /// Redacts exactly these fields (replacing [`DEFAULT_REDACTED`]).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::audit::{AuditLog, MemorySink};
    /// // Only `card_number` is redacted; `password` would be recorded as given.
    /// let log = AuditLog::builder(MemorySink::new()).redact_only(["card_number"]).build()?;
    /// # let _ = log;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn redact_only<I: IntoIterator<Item = impl Into<String>>>(mut self, fields: I) -> Self {
        self.redact = fields
            .into_iter()
            .map(|f| f.into().to_lowercase())
            .collect();
        self
    }

    /// [`FailurePolicy::FailOpen`].
    ///
    /// See [`FailurePolicy`] for an example.
    pub fn fail_open(mut self) -> Self {
        self.policy = FailurePolicy::FailOpen;
        self
    }

    /// [`FailurePolicy::FailClosed`] (the default).
    ///
    /// See [`AuditLogBuilder`] for an example.
    pub fn fail_closed(mut self) -> Self {
        self.policy = FailurePolicy::FailClosed;
        self
    }

    /// Counts dropped records in `metrics`.
    ///
    /// See [`AuditLogBuilder`] for an example.
    pub fn metrics(mut self, metrics: &Metrics) -> Self {
        self.metrics = Some(metrics.clone());
        self
    }

    /// Arguments whose JSON is longer than this (16 KiB by default) are recorded as their
    /// size and SHA-256 only.
    ///
    /// See [`AuditLogBuilder`] for an example.
    pub fn max_argument_bytes(mut self, bytes: usize) -> Self {
        self.max_argument_bytes = bytes;
        self
    }

    /// Opens the log, continuing the chain from the sink's last record.
    ///
    /// # Errors
    /// When the sink cannot be read back, or its last record is not a sealed audit record
    /// (a torn write, or a foreign file): run `audit-verify` on it, and move it aside to start
    /// a new chain.
    ///
    /// # Examples
    ///
    /// See [`AuditLogBuilder`] for an example.
    pub fn build(self) -> io::Result<AuditLog> {
        let head = match self.sink.last_line()? {
            None => ChainHead::default(),
            Some(line) => {
                let invalid = |why: &str| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("the audit log's last record cannot be continued ({why}); verify the log, and move it aside to start a new chain"),
                    )
                };
                let (body, hash) = verify::split_hash(&line).ok_or_else(|| invalid("no hash"))?;
                let seq = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("seq")?.as_u64())
                    .ok_or_else(|| invalid("no seq"))?;
                ChainHead {
                    records: seq + 1,
                    hash: hash.to_owned(),
                }
            }
        };
        Ok(AuditLog {
            inner: Arc::new(Inner {
                sink: Box::new(self.sink),
                head: Mutex::new(head),
                redact: self.redact,
                policy: self.policy,
                metrics: self.metrics,
                max_argument_bytes: self.max_argument_bytes,
                healthy: AtomicBool::new(true),
                dropped: AtomicU64::new(0),
            }),
        })
    }
}

struct Inner {
    sink: Box<dyn AuditSink>,
    head: Mutex<ChainHead>,
    redact: HashSet<String>,
    policy: FailurePolicy,
    metrics: Option<Metrics>,
    max_argument_bytes: usize,
    healthy: AtomicBool,
    dropped: AtomicU64,
}

/// The chain writer: serializes, chains and appends records to a sink. Cheap to clone; clones
/// share the chain.
///
/// ```
/// use mcp_core::layers::audit::{AuditLog, MemorySink};
/// let sink = MemorySink::new();
/// let log = AuditLog::builder(sink).build()?;
/// assert_eq!(log.head().records, 0);
/// assert!(log.is_healthy());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("head", &*self.lock_head())
            .field("policy", &self.inner.policy)
            .field("healthy", &self.is_healthy())
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// A builder writing to `sink`: [`DEFAULT_REDACTED`] fields redacted, failing closed.
    ///
    /// See [`AuditLog`] for an example.
    pub fn builder<K: AuditSink>(sink: K) -> AuditLogBuilder<K> {
        AuditLogBuilder {
            sink,
            redact: DEFAULT_REDACTED.iter().map(|s| (*s).to_owned()).collect(),
            policy: FailurePolicy::default(),
            metrics: None,
            max_argument_bytes: 16 * 1024,
        }
    }

    fn lock_head(&self) -> MutexGuard<'_, ChainHead> {
        self.inner.head.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where the chain stands. Copy it elsewhere now and then: it lets [`verify`] notice
    /// records removed from the end.
    ///
    /// See [`AuditLogBuilder`] for an example.
    pub fn head(&self) -> ChainHead {
        self.lock_head().clone()
    }

    /// Whether the last write succeeded. Use it as a readiness check:
    /// `health.add_check("audit", move || log.is_healthy())`.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::audit::{AuditLog, MemorySink};
    /// let sink = MemorySink::new();
    /// let log = AuditLog::builder(sink.clone()).build()?;
    /// assert!(log.is_healthy());
    /// assert_eq!(log.dropped(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Acquire)
    }

    /// How many records were lost while failing open.
    ///
    /// See [`AuditLog::is_healthy`] for an example.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Whether an operation may run: the log is healthy, or its sink says it can take records
    /// again.
    fn admits(&self) -> bool {
        self.is_healthy() || self.inner.sink.check().is_ok()
    }

    /// The failure policy.
    ///
    /// See [`FailurePolicy`] for an example.
    pub fn policy(&self) -> FailurePolicy {
        self.inner.policy
    }

    /// Chains and appends one record; its `seq` and `prev` are set here. Returns the record's
    /// hash.
    pub(crate) fn append(&self, mut record: AuditRecord) -> io::Result<String> {
        let mut head = self.lock_head();
        record.seq = head.records;
        record.prev.clone_from(&head.hash);
        let result = serde_json::to_string(&record)
            .map_err(io::Error::other)
            .and_then(|body| {
                let (line, hash) = verify::seal(&body);
                self.inner.sink.append(&line).map(|()| hash)
            });
        match &result {
            Ok(hash) => {
                *head = ChainHead {
                    records: head.records + 1,
                    hash: hash.clone(),
                };
                self.inner.healthy.store(true, Ordering::Release);
            }
            Err(e) => {
                self.inner.healthy.store(false, Ordering::Release);
                tracing::error!(error = %e, seq = record.seq, "cannot write an audit record");
                if self.inner.policy == FailurePolicy::FailOpen {
                    self.inner.dropped.fetch_add(1, Ordering::Relaxed);
                    if let Some(m) = &self.inner.metrics {
                        m.audit_dropped();
                    }
                }
            }
        }
        result
    }

    /// Replaces redacted fields, and oversized arguments by their digest.
    fn redact(&self, mut value: Value) -> Value {
        if !self.inner.redact.is_empty() {
            redact(&mut value, &self.inner.redact, 0);
        }
        let text = value.to_string();
        if text.len() > self.inner.max_argument_bytes {
            return json!({
                "truncated": true,
                "bytes": text.len(),
                "sha256": verify::hash_hex(text.as_bytes()),
            });
        }
        value
    }

    /// The record of `req`, still without outcome and duration.
    fn draft(&self, req: &McpRequest) -> AuditRecord {
        let identity = req.meta.identity.as_deref();
        let arguments = match req.method.as_str() {
            "tools/call" | "prompts/get" => req
                .params
                .as_ref()
                .and_then(|p| p.get("arguments"))
                .cloned()
                .map(|a| self.redact(a)),
            _ => None,
        };
        AuditRecord {
            seq: 0,
            ts: String::new(),
            identity: identity.map(|i| i.subject.clone()),
            client_id: identity.and_then(|i| i.client_id.clone()),
            remote_addr: req.meta.remote_addr.map(|a| a.ip().to_string()),
            session_id: req.meta.session_id.as_deref().map(str::to_owned),
            request_id: serde_json::to_value(&req.id).unwrap_or(Value::Null),
            operation: req.method.clone(),
            target: req.target().map(|t| truncate(t, 1024)),
            arguments,
            outcome: String::new(),
            error_code: None,
            duration_ms: 0.0,
            prev: String::new(),
            hash: String::new(),
        }
    }

    /// Completes a draft and appends it.
    fn finish(
        &self,
        mut record: AuditRecord,
        outcome: Outcome,
        response: Option<&McpResponse>,
        elapsed: Duration,
    ) -> io::Result<String> {
        record.ts = rfc3339(SystemTime::now());
        record.outcome = outcome.as_str().to_owned();
        record.error_code = match response {
            Some(Some(Err(e))) => Some(e.code.0),
            _ => None,
        };
        record.duration_ms = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0;
        self.append(record)
    }
}

/// Cuts a string to at most `max` bytes, on a character boundary.
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

fn redact(value: &mut Value, fields: &HashSet<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if fields.contains(&key.to_lowercase()) {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact(v, fields, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                redact(v, fields, depth + 1);
            }
        }
        _ => {}
    }
}

/// `2026-05-01T12:00:00.125Z`.
fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Writes one [`AuditRecord`] for every tool call, resource read and prompt get that reaches
/// it — answered, failed, rejected by an inner layer, timed out, panicked or cancelled (a
/// request whose future is dropped is recorded as cancelled when it is dropped). Other
/// methods pass through unrecorded.
///
/// Put it outside the layers whose rejections you want on record (rate limits, concurrency,
/// timeouts): see the [module docs](crate::layers).
///
/// ```
/// use mcp_core::layers::{audit::{AuditLog, JsonLinesFile}, AuditLayer};
/// use mcp_core::{Router, Server};
/// # fn main() -> std::io::Result<()> {
/// # let path = std::env::temp_dir().join(format!("audit-doc-{}.jsonl", std::process::id()));
/// let log = AuditLog::builder(JsonLinesFile::open(&path)?).redact(["ssn"]).build()?;
/// let server = Server::new(Router::new()).layer(AuditLayer::new(log));
/// # let _ = server;
/// # std::fs::remove_file(&path)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AuditLayer {
    log: AuditLog,
}

impl AuditLayer {
    /// Records into `log`.
    ///
    /// See [`AuditLayer`] for an example.
    pub fn new(log: AuditLog) -> Self {
        AuditLayer { log }
    }
}

impl<S> tower::Layer<S> for AuditLayer {
    type Service = AuditService<S>;

    fn layer(&self, inner: S) -> AuditService<S> {
        AuditService {
            inner,
            log: self.log.clone(),
        }
    }
}

/// The service [`AuditLayer`] builds.
///
/// See [`AuditLayer`] for an example.
#[derive(Debug, Clone)]
pub struct AuditService<S> {
    inner: S,
    log: AuditLog,
}

/// A record not yet written; written as cancelled (or panicked) if dropped.
struct Pending {
    log: AuditLog,
    draft: Option<AuditRecord>,
    start: Instant,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(draft) = self.draft.take() {
            let outcome = if std::thread::panicking() {
                Outcome::Panicked
            } else {
                Outcome::Cancelled
            };
            let _ = self.log.finish(draft, outcome, None, self.start.elapsed());
        }
    }
}

fn audit_unavailable() -> McpResponse {
    Some(Err(ErrorObject::new(
        UNAVAILABLE,
        "the audit log is unavailable, so the operation was refused; try again later",
    )
    .with_data(json!({"reason": "audit_unavailable"}))))
}

impl<S> tower::Service<McpRequest> for AuditService<S>
where
    S: tower::Service<McpRequest, Response = McpResponse, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = LayerFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: McpRequest) -> LayerFuture {
        if !is_operation(&req.method) {
            return Box::pin(self.inner.call(req));
        }
        let log = self.log.clone();
        let draft = log.draft(&req);
        let closed = log.policy() == FailurePolicy::FailClosed;
        if closed && !log.admits() {
            // Refuse before running anything (and try to record the refusal).
            let answer = audit_unavailable();
            let _ = log.finish(draft, Outcome::Unavailable, Some(&answer), Duration::ZERO);
            return Box::pin(std::future::ready(Ok(answer)));
        }
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut pending = Pending {
                log,
                draft: Some(draft),
                start: Instant::now(),
            };
            let (response, hint) = observe(fut).await;
            let outcome = Outcome::judge(&response, hint);
            let Some(draft) = pending.draft.take() else {
                return Ok(response);
            };
            let written =
                pending
                    .log
                    .finish(draft, outcome, Some(&response), pending.start.elapsed());
            match written {
                Err(_) if closed => Ok(audit_unavailable()),
                _ => Ok(response),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789); // a leap day
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_799); // end of 2099
        assert_eq!(rfc3339(t), "2099-12-31T23:59:59.000Z");
    }

    #[test]
    fn redaction_reaches_nested_fields_and_big_arguments_are_digested() {
        let log = AuditLog::builder(MemorySink::new())
            .redact(["SSN"])
            .max_argument_bytes(200)
            .build()
            .unwrap();
        let v = log.redact(json!({
            "user": {"Password": "hunter2", "ssn": "123", "name": "a"},
            "items": [{"token": "t"}],
        }));
        assert_eq!(v["user"]["Password"], REDACTED);
        assert_eq!(v["user"]["ssn"], REDACTED);
        assert_eq!(v["user"]["name"], "a");
        assert_eq!(v["items"][0]["token"], REDACTED);
        let big = log.redact(json!({"blob": "x".repeat(500)}));
        assert_eq!(big["truncated"], true);
        assert_eq!(big["bytes"], 511);
    }

    #[test]
    fn a_chain_continues_after_a_restart() {
        let sink = MemorySink::new();
        let log = AuditLog::builder(sink.clone()).build().unwrap();
        let record = || AuditRecord {
            seq: 0,
            ts: "t".into(),
            identity: None,
            client_id: None,
            remote_addr: None,
            session_id: None,
            request_id: json!(1),
            operation: "tools/call".into(),
            target: Some("x".into()),
            arguments: None,
            outcome: "ok".into(),
            error_code: None,
            duration_ms: 1.0,
            prev: String::new(),
            hash: String::new(),
        };
        log.append(record()).unwrap();
        let again = AuditLog::builder(sink.clone()).build().unwrap();
        assert_eq!(again.head(), log.head());
        again.append(record()).unwrap();
        let head = verify(sink.text().as_bytes()).unwrap();
        assert_eq!(head.records, 2);
        let parsed = AuditRecord::parse(&sink.lines()[1]).unwrap();
        assert_eq!(parsed.seq, 1);
        assert_eq!(parsed.hash, head.hash);

        let torn = MemorySink::new();
        torn.append("{\"seq\":0").unwrap();
        assert!(AuditLog::builder(torn).build().is_err());
    }
}
