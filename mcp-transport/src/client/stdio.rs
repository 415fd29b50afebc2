//! The stdio client wire: a child process, one JSON-RPC message per line.
//!
//! Responses are matched by id. Progress is matched by the token each request carries. Stdio
//! has no per-request channel, so log messages and the server's own requests are given to the
//! one request in flight, or, with several in flight, to the oldest (a handshake-era server
//! cannot say which request a question belongs to); with none in flight, logs become
//! [`ServerEvent::Log`] and questions are refused.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use mcp_core::jsonrpc::{ErrorCode, ErrorObject, Message, RequestId, ResponsePayload};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use super::{event_of, lock, ClientError, Exchange, Incoming, ServerEvent};

/// The longest line accepted from the server (16 MiB).
const MAX_LINE: usize = 16 * 1024 * 1024;

/// How to start a stdio server.
///
/// ```
/// use mcp_transport::client::ChildProcess;
/// let child = ChildProcess::new("hello").arg("--stdio").env("RUST_LOG", "warn");
/// assert_eq!(child.program(), "hello");
/// ```
#[derive(Debug, Clone)]
pub struct ChildProcess {
    program: OsString,
    args: Vec<OsString>,
    env: BTreeMap<OsString, OsString>,
    cwd: Option<PathBuf>,
    inherit_stderr: bool,
}

impl ChildProcess {
    /// A program to run (looked up on `PATH` unless it is a path).
    ///
    /// See [`ChildProcess`] for an example.
    pub fn new(program: impl Into<OsString>) -> Self {
        ChildProcess {
            program: program.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            cwd: None,
            inherit_stderr: true,
        }
    }

    /// Adds an argument.
    ///
    /// See [`ChildProcess`] for an example.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    ///
    /// # Examples
    /// ```
    /// use mcp_transport::client::ChildProcess;
    /// let child = ChildProcess::new("/usr/local/bin/postgres-server")
    ///     .args(["--allow-writes", "--stdio"])
    ///     .current_dir("/srv/app")
    ///     .inherit_stderr(false);
    /// assert_eq!(child.program(), "/usr/local/bin/postgres-server");
    /// ```
    pub fn args<I: IntoIterator<Item = impl Into<OsString>>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    ///
    /// See [`ChildProcess`] for an example.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Sets the working directory.
    ///
    /// See [`ChildProcess::args`] for an example.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Whether the child's stderr goes to ours (the default) or is discarded.
    ///
    /// See [`ChildProcess::args`] for an example.
    pub fn inherit_stderr(mut self, on: bool) -> Self {
        self.inherit_stderr = on;
        self
    }

    /// The program, for display.
    ///
    /// See [`ChildProcess`] for an example.
    pub fn program(&self) -> std::borrow::Cow<'_, str> {
        self.program.to_string_lossy()
    }
}

/// A request waiting for its answer.
struct Pending {
    tx: mpsc::Sender<Result<Incoming, ClientError>>,
    token: String,
    serial: u64,
    /// `subscriptions/listen` streams take no logs or questions.
    listen: bool,
}

/// One running child.
struct Process {
    out: mpsc::Sender<String>,
    pid: Option<u32>,
    alive: AtomicBool,
}

pub(crate) struct StdioWire {
    spec: ChildProcess,
    process: tokio::sync::Mutex<Option<Arc<Process>>>,
    pending: Arc<Mutex<HashMap<RequestId, Pending>>>,
    generation: AtomicU64,
    serial: AtomicU64,
    last_spawn: Mutex<Option<Instant>>,
    reconnect_delay: Duration,
    events: broadcast::Sender<ServerEvent>,
    stopped: AtomicBool,
}

struct Forget {
    pending: Weak<Mutex<HashMap<RequestId, Pending>>>,
    id: RequestId,
    serial: u64,
}

impl Drop for Forget {
    fn drop(&mut self) {
        if let Some(p) = self.pending.upgrade() {
            let mut p = lock(&p);
            if p.get(&self.id).is_some_and(|e| e.serial == self.serial) {
                p.remove(&self.id);
            }
        }
    }
}

impl StdioWire {
    pub(crate) fn new(spec: ChildProcess, reconnect_delay: Duration) -> Arc<StdioWire> {
        Arc::new(StdioWire {
            spec,
            process: tokio::sync::Mutex::new(None),
            pending: Arc::new(Mutex::new(HashMap::new())),
            generation: AtomicU64::new(0),
            serial: AtomicU64::new(0),
            last_spawn: Mutex::new(None),
            reconnect_delay,
            events: broadcast::channel(256).0,
            stopped: AtomicBool::new(false),
        })
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub(crate) fn events(&self) -> &broadcast::Sender<ServerEvent> {
        &self.events
    }

    /// The running child, started (again) if needed.
    async fn process(self: &Arc<Self>) -> Result<Arc<Process>, ClientError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(ClientError::Closed);
        }
        let mut guard = self.process.lock().await;
        if let Some(p) = guard.as_ref() {
            if p.alive.load(Ordering::SeqCst) {
                return Ok(p.clone());
            }
        }
        {
            let last = lock(&self.last_spawn);
            if let Some(at) = *last {
                if at.elapsed() < self.reconnect_delay {
                    return Err(ClientError::Transport(format!(
                        "{} exited; it is started again at most every {:?}",
                        self.spec.program(),
                        self.reconnect_delay
                    )));
                }
            }
        }
        *lock(&self.last_spawn) = Some(Instant::now());
        let process = self.spawn()?;
        self.generation.fetch_add(1, Ordering::SeqCst);
        *guard = Some(process.clone());
        Ok(process)
    }

    fn spawn(self: &Arc<Self>) -> Result<Arc<Process>, ClientError> {
        let spec = &self.spec;
        let mut cmd = tokio::process::Command::new(&spec.program);
        cmd.args(&spec.args)
            .envs(&spec.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if spec.inherit_stderr {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true);
        if let Some(dir) = &spec.cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| ClientError::Transport(format!("cannot start {}: {e}", spec.program())))?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(ClientError::Transport(
                "the child has no stdio pipes".into(),
            ));
        };
        let (out, mut out_rx) = mpsc::channel::<String>(1024);
        let process = Arc::new(Process {
            out,
            pid: child.id(),
            alive: AtomicBool::new(true),
        });
        tracing::debug!(program = %spec.program(), pid = ?process.pid, "started a stdio server");
        tokio::spawn(async move {
            while let Some(line) = out_rx.recv().await {
                if stdin.write_all(line.as_bytes()).await.is_err()
                    || stdin.write_all(b"\n").await.is_err()
                    || stdin.flush().await.is_err()
                {
                    break;
                }
            }
        });
        let weak = Arc::downgrade(self);
        let proc_weak = Arc::downgrade(&process);
        let program = spec.program().into_owned();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                let read = (&mut reader)
                    .take(MAX_LINE as u64 + 1)
                    .read_until(b'\n', &mut line)
                    .await;
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line.len() > MAX_LINE => {
                        tracing::warn!(%program, "a line from the server exceeds 16 MiB; closing");
                        break;
                    }
                    Ok(_) => {}
                }
                let Some(wire) = weak.upgrade() else { break };
                wire.dispatch(&line).await;
            }
            if let Some(p) = proc_weak.upgrade() {
                p.alive.store(false, Ordering::SeqCst);
            }
            let _ = child.kill().await;
            let status = child.wait().await;
            tracing::warn!(%program, ?status, "the stdio server exited");
            if let Some(wire) = weak.upgrade() {
                wire.fail_all();
            }
        });
        Ok(process)
    }

    fn fail_all(&self) {
        let drained: Vec<Pending> = lock(&self.pending).drain().map(|(_, p)| p).collect();
        for p in drained {
            let _ = p.tx.try_send(Err(ClientError::Closed));
        }
    }

    /// The request a log or question belongs to: the oldest one in flight.
    fn attribute(&self) -> Option<mpsc::Sender<Result<Incoming, ClientError>>> {
        lock(&self.pending)
            .values()
            .filter(|p| !p.listen)
            .min_by_key(|p| p.serial)
            .map(|p| p.tx.clone())
    }

    async fn dispatch(&self, line: &[u8]) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let message = match Message::parse(line) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(%e, "ignoring an unreadable line from the server");
                return;
            }
        };
        match message {
            Message::Response(r) => {
                let Some(id) = r.id else { return };
                let entry = lock(&self.pending).remove(&id);
                let Some(entry) = entry else {
                    tracing::debug!(%id, "a response to no pending request");
                    return;
                };
                let payload = match r.payload {
                    ResponsePayload::Result(raw) => serde_json::from_str(raw.get())
                        .map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string())),
                    ResponsePayload::Error(e) => Err(e),
                };
                let _ = entry.tx.send(Ok(Incoming::Response(payload))).await;
            }
            Message::Notification(n) => {
                let params: Value = n
                    .params
                    .as_deref()
                    .and_then(|p| serde_json::from_str(p.get()).ok())
                    .unwrap_or(Value::Null);
                let target = match n.method.as_str() {
                    "notifications/progress" => {
                        let token = params.get("progressToken").map(|t| match t {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        });
                        lock(&self.pending)
                            .values()
                            .find(|p| Some(&p.token) == token.as_ref())
                            .map(|p| p.tx.clone())
                    }
                    "notifications/message" => self.attribute(),
                    _ => None,
                };
                match target {
                    Some(tx) => {
                        let _ = tx.try_send(Ok(Incoming::Notification {
                            method: n.method,
                            params,
                        }));
                    }
                    None => {
                        if let Some(event) = event_of(&n.method, &params) {
                            let _ = self.events.send(event);
                        }
                    }
                }
            }
            Message::Request(req) => {
                let params: Value = req
                    .params
                    .as_deref()
                    .and_then(|p| serde_json::from_str(p.get()).ok())
                    .unwrap_or_else(|| json!({}));
                match self.attribute() {
                    Some(tx) => {
                        let _ = tx
                            .send(Ok(Incoming::Request {
                                id: req.id,
                                method: req.method,
                                params,
                            }))
                            .await;
                    }
                    None => {
                        let reply = if req.method == "ping" {
                            json!({"jsonrpc": "2.0", "id": req.id, "result": {}})
                        } else {
                            json!({"jsonrpc": "2.0", "id": req.id, "error": ErrorObject::new(
                                ErrorCode::METHOD_NOT_FOUND,
                                format!("{} outside a request is not answered by this client", req.method),
                            )})
                        };
                        self.send_raw(reply.to_string()).await;
                    }
                }
            }
        }
    }

    pub(crate) async fn start(
        self: &Arc<Self>,
        id: &RequestId,
        method: &str,
        params: &Value,
    ) -> Result<Exchange, ClientError> {
        let process = self.process().await?;
        let (tx, rx) = mpsc::channel(256);
        let token = params
            .get("_meta")
            .and_then(|m| m.get("progressToken"))
            .map(|t| match t {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        lock(&self.pending).insert(
            id.clone(),
            Pending {
                tx,
                token,
                serial,
                listen: method == "subscriptions/listen",
            },
        );
        let guard = Forget {
            pending: Arc::downgrade(&self.pending),
            id: id.clone(),
            serial,
        };
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        if process.out.send(line.to_string()).await.is_err() {
            return Err(ClientError::Closed);
        }
        Ok(Exchange {
            rx,
            _guard: Some(Box::new(guard)),
        })
    }

    pub(crate) async fn notify(self: &Arc<Self>, method: &str, params: Value) {
        let line = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.send_raw(line.to_string()).await;
    }

    pub(crate) async fn send_raw(&self, line: String) {
        let process = self.process.lock().await.clone();
        if let Some(p) = process {
            let _ = p.out.send(line).await;
        }
    }

    pub(crate) fn shutdown(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        if let Ok(mut guard) = self.process.try_lock() {
            // Dropping the process closes stdin; the reader task kills and reaps the child.
            if let Some(p) = guard.take() {
                p.alive.store(false, Ordering::SeqCst);
            }
        }
        self.fail_all();
    }
}
