//! Tasks: tool calls that outlive their request (2025-11-25 core tasks; the 2026-07-28
//! `io.modelcontextprotocol/tasks` extension).
//!
//! A task's record lives in a [`TaskStore`] (in memory now; a shared store lets another
//! instance answer `tasks/get`). The running handler lives in this process: it keeps running
//! when the client disconnects, and its result is stored when it ends.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{oneshot, Notify};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::{JsonObject, TaskStatus};

/// The extension id of 2026-07-28 tasks.
///
/// # Examples
/// ```
/// use mcp_core::server::TASKS_EXTENSION;
/// // A 2026-07-28 client declares the extension in its capabilities to get tasks.
/// let caps = serde_json::json!({"extensions": {TASKS_EXTENSION: {}}});
/// assert!(caps["extensions"].get("io.modelcontextprotocol/tasks").is_some());
/// ```
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// A boxed future returned by [`TaskStore`] methods.
///
/// See [`TaskStore`] for an example.
pub type TaskFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TaskStoreError>> + Send + 'a>>;

/// A task store failed.
///
/// ```
/// let e = mcp_core::server::TaskStoreError::Full;
/// assert!(e.to_string().contains("full"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskStoreError {
    /// The store holds as many tasks as it may.
    #[error("the task store is full; retry after some tasks expire")]
    Full,
    /// The backing service cannot be reached.
    #[error("task store unavailable: {0}")]
    Unavailable(String),
}

/// What is stored about a task. Versioned (`v`) so a rolling upgrade can read old records.
///
/// ```
/// use mcp_core::server::TaskRecord;
/// use mcp_core::protocol::TaskStatus;
/// let r = TaskRecord::new("t1".into(), "alice".into(), 60_000, 1_000);
/// assert_eq!(r.status, TaskStatus::Working);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Record format version.
    pub v: u32,
    /// The task id (128 random bits, hex).
    pub id: String,
    /// Who created it; nobody else may see it.
    pub owner: String,
    /// Its state.
    pub status: TaskStatus,
    /// A human-readable status message.
    pub status_message: Option<String>,
    /// Creation time, milliseconds since the epoch.
    pub created_ms: u64,
    /// Last change, milliseconds since the epoch.
    pub updated_ms: u64,
    /// Lifetime after creation, in milliseconds.
    pub ttl_ms: u64,
    /// Suggested polling interval, in milliseconds.
    pub poll_ms: u64,
    /// The tool result, once completed.
    pub result: Option<Value>,
    /// The protocol error, once failed.
    pub error: Option<ErrorObject>,
    /// Questions waiting for the client, by key.
    pub input_requests: JsonObject,
}

impl TaskRecord {
    /// A new working task.
    ///
    /// See [`TaskRecord`] for an example.
    pub fn new(id: String, owner: String, ttl_ms: u64, poll_ms: u64) -> Self {
        let now = now_ms();
        TaskRecord {
            v: 1,
            id,
            owner,
            status: TaskStatus::Working,
            status_message: None,
            created_ms: now,
            updated_ms: now,
            ttl_ms,
            poll_ms,
            result: None,
            error: None,
            input_requests: JsonObject::new(),
        }
    }

    /// Whether its lifetime is over.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::server::TaskRecord;
    /// assert!(!TaskRecord::new("t1".into(), "alice".into(), 60_000, 1_000).expired());
    /// let mut old = TaskRecord::new("t2".into(), "alice".into(), 1, 1_000);
    /// old.created_ms = 0;
    /// assert!(old.expired());
    /// ```
    pub fn expired(&self) -> bool {
        now_ms() > self.created_ms.saturating_add(self.ttl_ms)
    }
}

/// Where task records live.
///
/// # Examples
///
/// A store behind a shared map (a stand-in for a database):
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
/// use mcp_core::server::{TaskFuture, TaskRecord, TaskStore};
/// use mcp_core::{Router, Server};
///
/// #[derive(Default)]
/// struct MapStore(Mutex<HashMap<String, TaskRecord>>);
///
/// impl TaskStore for MapStore {
///     fn put(&self, record: TaskRecord) -> TaskFuture<'_, ()> {
///         self.0.lock().unwrap().insert(record.id.clone(), record);
///         Box::pin(async { Ok(()) })
///     }
///     fn get<'a>(&'a self, id: &'a str) -> TaskFuture<'a, Option<TaskRecord>> {
///         let found = self.0.lock().unwrap().get(id).filter(|r| !r.expired()).cloned();
///         Box::pin(async move { Ok(found) })
///     }
///     fn list<'a>(&'a self, owner: &'a str) -> TaskFuture<'a, Vec<TaskRecord>> {
///         let mut mine: Vec<_> = self.0.lock().unwrap().values().filter(|r| r.owner == owner).cloned().collect();
///         mine.sort_by_key(|r| r.created_ms);
///         Box::pin(async move { Ok(mine) })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = Arc::new(MapStore::default());
/// store.put(TaskRecord::new("t1".into(), "alice".into(), 60_000, 500)).await.unwrap();
/// assert_eq!(store.list("alice").await.unwrap().len(), 1);
/// let server = Server::new(Router::new()).with_task_store(store);
/// # let _ = server;
/// # }
/// ```
pub trait TaskStore: Send + Sync + 'static {
    /// Saves a record (insert or replace).
    ///
    /// See [`TaskStore`] for an example.
    fn put(&self, record: TaskRecord) -> TaskFuture<'_, ()>;
    /// Loads a record; expired records are gone.
    ///
    /// See [`TaskStore`] for an example.
    fn get<'a>(&'a self, id: &'a str) -> TaskFuture<'a, Option<TaskRecord>>;
    /// The owner's records, oldest first.
    ///
    /// See [`TaskStore`] for an example.
    fn list<'a>(&'a self, owner: &'a str) -> TaskFuture<'a, Vec<TaskRecord>>;
}

/// A bounded in-memory [`TaskStore`]; expired records are dropped as it goes.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use mcp_core::server::{InMemoryTaskStore, TaskRecord, TaskStore};
/// let store = InMemoryTaskStore::new(100);
/// store.put(TaskRecord::new("t".into(), "me".into(), 60_000, 500)).await.unwrap();
/// assert!(store.get("t").await.unwrap().is_some());
/// assert_eq!(store.list("someone else").await.unwrap().len(), 0);
/// # }
/// ```
#[derive(Debug)]
pub struct InMemoryTaskStore {
    records: Mutex<(HashMap<String, TaskRecord>, VecDeque<String>)>,
    capacity: usize,
}

impl InMemoryTaskStore {
    /// A store holding at most `capacity` live tasks.
    ///
    /// See [`InMemoryTaskStore`] for an example.
    pub fn new(capacity: usize) -> Self {
        InMemoryTaskStore {
            records: Mutex::new((HashMap::new(), VecDeque::new())),
            capacity: capacity.max(1),
        }
    }
}

impl Default for InMemoryTaskStore {
    fn default() -> Self {
        Self::new(10_000)
    }
}

impl TaskStore for InMemoryTaskStore {
    fn put(&self, record: TaskRecord) -> TaskFuture<'_, ()> {
        let result = (|| {
            let mut guard = self.records.lock().unwrap_or_else(|p| p.into_inner());
            let (map, order) = &mut *guard;
            if !map.contains_key(&record.id) {
                if map.len() >= self.capacity {
                    map.retain(|_, r| !r.expired());
                    order.retain(|id| map.contains_key(id));
                }
                if map.len() >= self.capacity {
                    return Err(TaskStoreError::Full);
                }
                order.push_back(record.id.clone());
            }
            map.insert(record.id.clone(), record);
            Ok(())
        })();
        Box::pin(async move { result })
    }

    fn get<'a>(&'a self, id: &'a str) -> TaskFuture<'a, Option<TaskRecord>> {
        let mut guard = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let found = match guard.0.get(id) {
            Some(r) if r.expired() => {
                guard.0.remove(id);
                None
            }
            other => other.cloned(),
        };
        Box::pin(async move { Ok(found) })
    }

    fn list<'a>(&'a self, owner: &'a str) -> TaskFuture<'a, Vec<TaskRecord>> {
        let guard = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &*guard;
        let out: Vec<TaskRecord> = order
            .iter()
            .filter_map(|id| map.get(id))
            .filter(|r| r.owner == owner && !r.expired())
            .cloned()
            .collect();
        Box::pin(async move { Ok(out) })
    }
}

/// Tunables of task execution.
///
/// ```
/// let c = mcp_core::server::TaskConfig::default();
/// assert!(c.default_ttl <= c.max_ttl);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TaskConfig {
    /// How long a task's record is kept when the client does not ask for a TTL.
    pub default_ttl: Duration,
    /// The longest TTL granted.
    pub max_ttl: Duration,
    /// The polling interval suggested to clients.
    pub poll_interval: Duration,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            default_ttl: Duration::from_secs(60 * 60),
            max_ttl: Duration::from_secs(24 * 60 * 60),
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// A task whose handler runs in this process.
#[derive(Default)]
struct Live {
    /// The handler's task.
    abort: Option<AbortHandle>,
    /// The handler's cancellation token (`Context::cancelled`), for the work it spawned.
    cancel: Option<CancellationToken>,
    /// The timer that stops the handler when the task's lifetime is over.
    expiry: Option<AbortHandle>,
    /// When the task's lifetime is over.
    expires: Option<tokio::time::Instant>,
    /// Questions waiting for `tasks/update`, by key.
    waiters: HashMap<String, oneshot::Sender<Value>>,
}

impl Live {
    /// Stops the handler and its expiry timer. Pending questions are dropped with it. The
    /// token fires first, so what watches it sees the cancellation before the handler is gone.
    fn stop(self) {
        if let Some(c) = self.cancel {
            c.cancel();
        }
        if let Some(a) = self.abort {
            a.abort();
        }
        if let Some(e) = self.expiry {
            e.abort();
        }
    }
}

/// The task runtime: the store plus the handlers running in this process.
pub(crate) struct TaskRuntime {
    pub(crate) store: Arc<dyn TaskStore>,
    pub(crate) config: TaskConfig,
    live: Mutex<HashMap<String, Live>>,
    changed: Notify,
    /// Serialises read-modify-write of records: with a store that yields (Redis), two
    /// questions asked at once would otherwise each overwrite the other's.
    modifying: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for TaskRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskRuntime")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn store_error(e: TaskStoreError) -> ErrorObject {
    ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string())
}

pub(crate) fn unknown_task(id: &str) -> ErrorObject {
    ErrorObject::new(
        ErrorCode::INVALID_PARAMS,
        format!("unknown task: {id:?} (it may have expired)"),
    )
}

/// How a task's handler ended.
pub(crate) enum Outcome {
    /// The tool ran (its result may have `isError`).
    Result(Value),
    /// A protocol-level failure.
    Failed(ErrorObject),
}

impl TaskRuntime {
    pub(crate) fn new(store: Arc<dyn TaskStore>, config: TaskConfig) -> Self {
        TaskRuntime {
            store,
            config,
            live: Mutex::new(HashMap::new()),
            changed: Notify::new(),
            modifying: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn ttl_ms(&self, requested: Option<u64>) -> u64 {
        let max = self.config.max_ttl.as_millis() as u64;
        requested
            .unwrap_or(self.config.default_ttl.as_millis() as u64)
            .clamp(1_000, max)
    }

    /// Creates a working task; it is readable before this returns.
    pub(crate) async fn create(&self, owner: &str, ttl_ms: u64) -> Result<TaskRecord, ErrorObject> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|_| {
            ErrorObject::new(ErrorCode::INTERNAL_ERROR, "no random source for task ids")
        })?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let record = TaskRecord::new(
            id.clone(),
            owner.to_owned(),
            ttl_ms,
            self.config.poll_interval.as_millis() as u64,
        );
        self.store.put(record.clone()).await.map_err(store_error)?;
        let live = Live {
            expires: Some(tokio::time::Instant::now() + Duration::from_millis(ttl_ms)),
            ..Live::default()
        };
        self.lock().insert(id, live);
        Ok(record)
    }

    /// Attaches the running handler to its task. When the task's lifetime ends before the
    /// handler does, the handler is stopped: its record is gone, so nobody could ever fetch
    /// what it computes.
    pub(crate) fn attach(
        self: &Arc<Self>,
        id: &str,
        abort: AbortHandle,
        cancel: CancellationToken,
    ) {
        let mut live = self.lock();
        let Some(l) = live.get_mut(id) else {
            // Already finished (or cancelled) before it was attached.
            return;
        };
        l.abort = Some(abort);
        l.cancel = Some(cancel);
        if let Some(deadline) = l.expires {
            let runtime = Arc::downgrade(self);
            let task_id = id.to_owned();
            let timer = tokio::spawn(async move {
                tokio::time::sleep_until(deadline).await;
                let Some(runtime) = runtime.upgrade() else {
                    return;
                };
                let expired = runtime.lock().remove(&task_id);
                if let Some(mut l) = expired {
                    // This timer is the one running: only the handler needs stopping.
                    l.expiry = None;
                    tracing::debug!(task = %task_id, "task expired while running; its handler is stopped");
                    l.stop();
                    runtime.changed.notify_waiters();
                }
            });
            l.expiry = Some(timer.abort_handle());
        }
    }

    /// Reads a task the caller owns.
    pub(crate) async fn get(&self, id: &str, owner: &str) -> Result<TaskRecord, ErrorObject> {
        match self.store.get(id).await.map_err(store_error)? {
            Some(r) if r.owner == owner => Ok(r),
            // Someone else's task is indistinguishable from no task.
            _ => Err(unknown_task(id)),
        }
    }

    async fn modify(&self, id: &str, edit: impl FnOnce(&mut TaskRecord)) -> Option<TaskRecord> {
        let _one_at_a_time = self.modifying.lock().await;
        let mut r = self.store.get(id).await.ok().flatten()?;
        edit(&mut r);
        r.updated_ms = now_ms();
        let _ = self.store.put(r.clone()).await;
        self.changed.notify_waiters();
        Some(r)
    }

    /// Completes once the task's record is terminal although its handler still runs here:
    /// it was cancelled through another instance sharing the store. Polls at the suggested
    /// polling interval; store failures are ridden out.
    pub(crate) async fn ended_elsewhere(&self, id: &str) {
        let period = self.config.poll_interval.max(Duration::from_millis(100));
        loop {
            tokio::time::sleep(period).await;
            if let Ok(Some(r)) = self.store.get(id).await {
                if r.status.is_terminal() {
                    return;
                }
            }
        }
    }

    /// Stops what is left of a task that ended elsewhere (its handler's future is already
    /// dropped): the handler's cancellation token fires and its expiry timer stops.
    pub(crate) fn forget(&self, id: &str) {
        if let Some(mut l) = self.lock().remove(id) {
            // The caller is the handler's own task, which ends now.
            l.abort = None;
            l.stop();
        }
    }

    /// Records how the handler ended, unless the task was cancelled meanwhile.
    pub(crate) async fn finish(&self, id: &str, outcome: Outcome) {
        if let Some(mut l) = self.lock().remove(id) {
            // The handler is the caller, and it ended: only its expiry timer needs stopping.
            l.abort = None;
            l.cancel = None;
            l.stop();
        }
        self.modify(id, |r| {
            if r.status.is_terminal() {
                return;
            }
            r.input_requests.clear();
            match outcome {
                Outcome::Result(v) => {
                    r.status = TaskStatus::Completed;
                    r.result = Some(v);
                }
                Outcome::Failed(e) => {
                    r.status = TaskStatus::Failed;
                    r.status_message = Some(e.message.clone());
                    r.error = Some(e);
                }
            }
        })
        .await;
    }

    /// Cancels a task the caller owns: the handler's future is dropped. Returns the record
    /// and whether it was already terminal.
    pub(crate) async fn cancel(
        &self,
        id: &str,
        owner: &str,
    ) -> Result<(TaskRecord, bool), ErrorObject> {
        let record = self.get(id, owner).await?;
        if record.status.is_terminal() {
            return Ok((record, true));
        }
        if let Some(live) = self.lock().remove(id) {
            live.stop();
        }
        let r = self
            .modify(id, |r| {
                if !r.status.is_terminal() {
                    r.status = TaskStatus::Cancelled;
                    r.status_message = Some("The task was cancelled by request.".into());
                    r.input_requests.clear();
                }
            })
            .await
            .ok_or_else(|| unknown_task(id))?;
        Ok((r, false))
    }

    /// A question from inside a running task (2026-07-28): the task shows `input_required`
    /// until `tasks/update` answers it.
    pub(crate) async fn ask(
        &self,
        id: &str,
        key: &str,
        method: &str,
        params: Value,
    ) -> Option<Value> {
        let (tx, rx) = oneshot::channel();
        self.lock()
            .entry(id.to_owned())
            .or_default()
            .waiters
            .insert(key.to_owned(), tx);
        self.modify(id, |r| {
            r.input_requests
                .insert(key.to_owned(), json!({"method": method, "params": params}));
            r.status = TaskStatus::InputRequired;
        })
        .await;
        rx.await.ok()
    }

    /// Marks the task as waiting on the client (handshake era, where the question itself
    /// travels as a server→client request) or back to working.
    pub(crate) async fn set_waiting(&self, id: &str, waiting: bool) {
        self.modify(id, |r| {
            if !r.status.is_terminal() {
                r.status = if waiting {
                    TaskStatus::InputRequired
                } else {
                    TaskStatus::Working
                };
            }
        })
        .await;
    }

    /// `tasks/update`: delivers answers; unknown keys are ignored.
    pub(crate) async fn update(
        &self,
        id: &str,
        owner: &str,
        responses: JsonObject,
    ) -> Result<(), ErrorObject> {
        self.get(id, owner).await?;
        let mut delivered = Vec::new();
        {
            let mut live = self.lock();
            if let Some(l) = live.get_mut(id) {
                for (key, value) in responses {
                    if let Some(tx) = l.waiters.remove(&key) {
                        let _ = tx.send(value);
                        delivered.push(key);
                    }
                }
            }
        }
        self.modify(id, |r| {
            for k in &delivered {
                r.input_requests.remove(k);
            }
            if r.status == TaskStatus::InputRequired && r.input_requests.is_empty() {
                r.status = TaskStatus::Working;
            }
        })
        .await;
        Ok(())
    }

    /// Waits until the task is terminal (handshake-era `tasks/result`).
    pub(crate) async fn wait_terminal(
        &self,
        id: &str,
        owner: &str,
    ) -> Result<TaskRecord, ErrorObject> {
        loop {
            let notified = self.changed.notified();
            let r = self.get(id, owner).await?;
            if r.status.is_terminal() {
                return Ok(r);
            }
            // Poll as well: another instance may finish it.
            let _ = tokio::time::timeout(Duration::from_millis(500), notified).await;
        }
    }
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since the epoch.
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// The task as the handshake era shows it.
pub(crate) fn legacy_task(r: &TaskRecord) -> Value {
    let mut v = json!({
        "taskId": r.id,
        "status": r.status,
        "createdAt": iso8601(r.created_ms),
        "lastUpdatedAt": iso8601(r.updated_ms),
        "ttl": r.ttl_ms,
        "pollInterval": r.poll_ms,
    });
    if let Some(m) = &r.status_message {
        v["statusMessage"] = json!(m);
    }
    v
}

/// The task as 2026-07-28 shows it; `detailed` adds the result, error or questions.
pub(crate) fn modern_task(r: &TaskRecord, detailed: bool) -> Value {
    let mut v = json!({
        "taskId": r.id,
        "status": r.status,
        "createdAt": iso8601(r.created_ms),
        "lastUpdatedAt": iso8601(r.updated_ms),
        "ttlMs": r.ttl_ms,
        "pollIntervalMs": r.poll_ms,
    });
    if let Some(m) = &r.status_message {
        v["statusMessage"] = json!(m);
    }
    if detailed {
        match r.status {
            TaskStatus::Completed => {
                if let Some(res) = &r.result {
                    v["result"] = res.clone();
                }
            }
            TaskStatus::Failed => {
                if let Some(e) = &r.error {
                    v["error"] = json!(e);
                }
            }
            TaskStatus::InputRequired => {
                v["inputRequests"] = Value::Object(r.input_requests.clone())
            }
            _ => {}
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_764_066_600_123), "2025-11-25T10:30:00.123Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
