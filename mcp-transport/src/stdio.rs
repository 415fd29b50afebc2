//! The stdio transport: one JSON-RPC message per line, UTF-8, on stdin and stdout.
//!
//! Nothing but protocol messages is written to stdout; diagnostics go to stderr through
//! `tracing`. Input is read with a bounded buffer: a line longer than
//! [`StdioConfig::max_line_bytes`] is dropped (with a warning on stderr) and the server keeps
//! serving. Garbage, invalid UTF-8 and a byte order mark do not stop it either. At end of input
//! the in-flight calls finish, their answers are written, and [`serve`] returns.
//!
//! ```no_run
//! # async fn run(router: mcp_core::Router) -> std::io::Result<()> {
//! mcp_transport::stdio::serve(router).await
//! # }
//! ```

use std::io;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use mcp_core::context::{Outgoing, OutgoingKind};
use mcp_core::jsonrpc::{Message, ParseError};
use mcp_core::{Connection, Server};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Limits and behaviour of the stdio transport.
///
/// ```
/// let config = mcp_transport::stdio::StdioConfig::default();
/// assert_eq!(config.max_line_bytes, 4 * 1024 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StdioConfig {
    /// The longest accepted line, in bytes (default 4 MiB). Longer lines are dropped.
    pub max_line_bytes: usize,
    /// Answer unparsable lines with a `-32700` error (`id: null`) instead of only logging them.
    pub reply_to_parse_errors: bool,
    /// How many outgoing messages may wait for stdout before handlers are made to wait.
    pub outgoing_queue: usize,
    /// Who the caller is. stdio has no authentication of its own: the user who starts a local
    /// server is its caller, so scopes granted here (for example from a command-line flag) are
    /// what per-tool `scopes` are checked against. `None`: no identity, scoped tools refused.
    pub identity: Option<mcp_core::identity::Identity>,
}

impl StdioConfig {
    /// Serves every request as `identity`.
    ///
    /// ```
    /// use mcp_core::identity::Identity;
    /// let config = mcp_transport::stdio::StdioConfig::default()
    ///     .with_identity(Identity::new("local-user").with_scopes(["db.write"]));
    /// assert!(config.identity.is_some());
    /// ```
    pub fn with_identity(mut self, identity: mcp_core::identity::Identity) -> Self {
        self.identity = Some(identity);
        self
    }
}

impl Default for StdioConfig {
    fn default() -> Self {
        StdioConfig {
            max_line_bytes: 4 * 1024 * 1024,
            reply_to_parse_errors: false,
            outgoing_queue: 1024,
            identity: None,
        }
    }
}

/// Serves a router on this process's stdin and stdout until stdin closes.
///
/// # Examples
/// ```no_run
/// use mcp_core::Router;
///
/// async fn ping() -> &'static str { "pong" }
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     // Answers on stdout until the client closes stdin.
///     mcp_transport::stdio::serve(Router::new().tool_fn("ping", ping)).await
/// }
/// ```
pub async fn serve(router: mcp_core::Router) -> io::Result<()> {
    serve_server(Server::new(router)).await
}

/// Serves a configured [`Server`] on stdin and stdout until stdin closes.
///
/// # Examples
/// ```no_run
/// use mcp_core::layers::TraceLayer;
/// use mcp_core::{Router, Server};
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     // Logs go to stderr: stdout belongs to the protocol.
///     let server = Server::new(Router::new()).layer(TraceLayer::new());
///     mcp_transport::stdio::serve_server(server).await
/// }
/// ```
pub async fn serve_server(server: Server) -> io::Result<()> {
    serve_stdio(server, StdioConfig::default()).await
}

/// Serves on this process's stdin and stdout with explicit settings.
///
/// stdin and stdout are read and written with blocking I/O on dedicated threads (tokio's own
/// stdio goes through the blocking pool for every read and write, which costs several thread
/// hand-offs per message). The thread that reads a request also writes its answer when the
/// request completes at once, as most do: a round trip then touches one server thread, like a
/// plain line echo. Answers that come later are written by a second thread.
///
/// # Examples
/// ```no_run
/// use mcp_core::identity::Identity;
/// use mcp_core::{Router, Server};
/// use mcp_transport::stdio::{serve_stdio, StdioConfig};
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     let mut config = StdioConfig::default();
///     // The local user who started the process may call tools that need scopes.
///     config.identity = Some(Identity::new("local-user").with_scopes(["files:write"]));
///     serve_stdio(Server::new(Router::new()), config).await
/// }
/// ```
pub async fn serve_stdio(server: Server, config: StdioConfig) -> io::Result<()> {
    let (tx, rx) = mpsc::channel::<Outgoing>(config.outgoing_queue.max(1));
    let connection = Connection::new(&server, tx.clone());
    connection.set_default_identity(config.identity.clone());
    let handle = tokio::runtime::Handle::current();

    let output = Arc::new(Output::new(rx, std::io::stdout()));
    let writer_output = output.clone();
    let writer = std::thread::Builder::new()
        .name("mcp-stdout".into())
        .spawn(move || writer_output.write_later())?;
    output.set_writer(writer.thread().clone());

    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let reader_conn = connection.clone();
    std::thread::Builder::new()
        .name("mcp-stdin".into())
        .spawn(move || {
            let _runtime = handle.enter();
            let result = read_blocking(std::io::stdin().lock(), &reader_conn, tx, &config, &output);
            let _ = done_tx.send(result);
        })?;

    let read_result = done_rx.await.unwrap_or(Ok(()));
    // End of input: in-flight calls finish and answer, then the writer drains and stops.
    connection.close();
    connection.wait().await;
    drop(connection);
    let write_result = tokio::task::spawn_blocking(move || writer.join())
        .await
        .map_err(io::Error::other)?
        .unwrap_or_else(|_| Err(io::Error::other("the stdout writer thread panicked")));
    read_result.and(write_result)
}

/// stdout and the queue of messages for it. Whoever holds the lock is the only one taking
/// messages off the queue, so they are written in the order they were queued: the reader
/// thread while it serves what it has read, the writer thread otherwise.
struct Output<W: std::io::Write> {
    inner: Mutex<OutputInner<W>>,
    /// Wakes the writer thread when a message is queued while nobody holds the lock.
    writer: std::sync::OnceLock<Waker>,
}

struct OutputInner<W: std::io::Write> {
    rx: mpsc::Receiver<Outgoing>,
    out: std::io::BufWriter<W>,
    /// The first write error; later messages are taken off the queue and dropped so that
    /// handlers never wait on a dead stdout.
    result: io::Result<()>,
    /// Every sender is gone: nothing more will be queued.
    closed: bool,
    /// Written since the last flush.
    dirty: bool,
}

/// Unparks a thread.
struct Unpark(std::thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl<W: std::io::Write> Output<W> {
    fn new(rx: mpsc::Receiver<Outgoing>, out: W) -> Self {
        Output {
            inner: Mutex::new(OutputInner {
                rx,
                out: std::io::BufWriter::with_capacity(64 * 1024, out),
                result: Ok(()),
                closed: false,
                dirty: false,
            }),
            writer: std::sync::OnceLock::new(),
        }
    }

    fn set_writer(&self, thread: std::thread::Thread) {
        let _ = self
            .writer
            .set(Waker::from(Arc::new(Unpark(thread.clone()))));
        // Had the writer already looked for messages, it did so without this waker.
        thread.unpark();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutputInner<W>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The writer thread: writes what is queued while the reader is waiting for input.
    fn write_later(&self) -> io::Result<()> {
        loop {
            {
                let mut inner = self.lock();
                inner.write_queued(self.writer.get());
                if inner.closed {
                    return std::mem::replace(&mut inner.result, Ok(()));
                }
            }
            // Woken by a queued message or the last sender going away (or spuriously).
            std::thread::park();
        }
    }
}

impl<W: std::io::Write> OutputInner<W> {
    /// Writes every queued message, flushes, and leaves `waker` to be woken by the next one.
    fn write_queued(&mut self, waker: Option<&Waker>) {
        let noop = Waker::noop();
        let mut cx = std::task::Context::from_waker(waker.unwrap_or(noop));
        loop {
            match self.rx.poll_recv(&mut cx) {
                Poll::Ready(Some(message)) => self.write(message.json.as_bytes()),
                Poll::Ready(None) => {
                    self.closed = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        if std::mem::take(&mut self.dirty) && self.result.is_ok() {
            self.result = std::io::Write::flush(&mut self.out);
        }
    }

    /// Stops the writer thread from being woken while the reader holds the lock: the reader
    /// writes what gets queued meanwhile itself.
    fn quiet(&mut self) {
        let mut cx = std::task::Context::from_waker(Waker::noop());
        while let Poll::Ready(Some(message)) = self.rx.poll_recv(&mut cx) {
            self.write(message.json.as_bytes());
        }
    }

    fn write(&mut self, line: &[u8]) {
        if self.result.is_ok() {
            use std::io::Write;
            self.dirty = true;
            self.result = self
                .out
                .write_all(line)
                .and_then(|()| self.out.write_all(b"\n"));
        }
    }
}

fn read_blocking<W: std::io::Write>(
    input: impl std::io::BufRead,
    connection: &Arc<Connection>,
    tx: mpsc::Sender<Outgoing>,
    config: &StdioConfig,
    output: &Output<W>,
) -> io::Result<()> {
    let mut input = input;
    let mut lines = Lines::new(config.max_line_bytes);
    loop {
        // Wait for input without holding stdout.
        if input.fill_buf()?.is_empty() {
            if let Some(line) = lines.finish() {
                let mut out = output.lock();
                out.quiet();
                serve_line(line, connection, &tx, config, &mut out);
                out.write_queued(output.writer.get());
            }
            return Ok(());
        }
        // Serve everything already read, then write the answers with one flush.
        let mut out = output.lock();
        out.quiet();
        loop {
            let buf = input.fill_buf()?;
            let (consumed, complete) = lines.push(buf);
            let more = consumed < buf.len();
            input.consume(consumed);
            if complete {
                if let Some(line) = lines.take() {
                    serve_line(line, connection, &tx, config, &mut out);
                }
            }
            if !more {
                break;
            }
        }
        out.write_queued(output.writer.get());
    }
}

/// Serves one line while holding stdout: a request that completes at once has queued its
/// answer by the time this returns.
fn serve_line<W: std::io::Write>(
    line: &[u8],
    connection: &Arc<Connection>,
    tx: &mpsc::Sender<Outgoing>,
    config: &StdioConfig,
    out: &mut OutputInner<W>,
) {
    match classify_line(line, config) {
        Line::Message(message) => connection.receive(message, tx.clone()),
        Line::Reply(reply) => {
            out.quiet(); // what was queued before goes first
            out.write(reply.json.as_bytes());
        }
        Line::Skip => {}
    }
}

/// Serves on any reader and writer (pipes, sockets, in-memory duplex streams).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use mcp_transport::stdio::{serve_with, StdioConfig};
/// let server = mcp_core::Server::new(mcp_core::Router::new());
/// let input: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
/// let mut output = Vec::new();
/// serve_with(server, input, &mut output, StdioConfig::default()).await?;
/// assert_eq!(output, b"{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{}}\n");
/// # Ok(())
/// # }
/// ```
pub async fn serve_with<R, W>(
    server: Server,
    reader: R,
    writer: W,
    config: StdioConfig,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::channel::<Outgoing>(config.outgoing_queue.max(1));
    let connection = Connection::new(&server, tx.clone());
    connection.set_default_identity(config.identity.clone());
    let read = read_loop(reader, connection.clone(), tx, &config);
    let write = async {
        let mut writer = writer;
        let mut result = Ok(());
        while let Some(first) = rx.recv().await {
            if result.is_err() {
                continue; // keep draining so handlers never block on a dead stdout
            }
            result = async {
                writer.write_all(first.json.as_bytes()).await?;
                writer.write_all(b"\n").await?;
                // Write whatever else is ready before one flush.
                while let Ok(next) = rx.try_recv() {
                    writer.write_all(next.json.as_bytes()).await?;
                    writer.write_all(b"\n").await?;
                }
                writer.flush().await
            }
            .await;
        }
        result
    };
    let (read_result, write_result) = tokio::join!(
        async {
            let r = read.await;
            connection.close();
            connection.wait().await;
            drop(connection);
            r
        },
        write
    );
    read_result.and(write_result)
}

async fn read_loop<R: AsyncRead + Unpin>(
    reader: R,
    connection: std::sync::Arc<Connection>,
    tx: mpsc::Sender<Outgoing>,
    config: &StdioConfig,
) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut lines = Lines::new(config.max_line_bytes);
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            if let Some(line) = lines.finish() {
                dispatch(line, &connection, &tx, config).await;
            }
            return Ok(());
        }
        let (consumed, complete) = lines.push(buf);
        reader.consume(consumed);
        if complete {
            if let Some(line) = lines.take() {
                dispatch(line, &connection, &tx, config).await;
            }
        }
    }
}

async fn dispatch(
    line: &[u8],
    connection: &std::sync::Arc<Connection>,
    tx: &mpsc::Sender<Outgoing>,
    config: &StdioConfig,
) {
    match classify_line(line, config) {
        Line::Message(message) => connection.receive(message, tx.clone()),
        Line::Reply(reply) => {
            let _ = tx.send(reply).await;
        }
        Line::Skip => {}
    }
}

/// Splits input into lines of at most `max` bytes; longer lines are dropped whole.
struct Lines {
    line: Vec<u8>,
    discarding: bool,
    /// The last line was handed out; clear it before the next bytes.
    ended: bool,
    max: usize,
}

impl Lines {
    fn new(max: usize) -> Self {
        Lines {
            line: Vec::new(),
            discarding: false,
            ended: false,
            max,
        }
    }

    /// Takes bytes up to and including the next newline; returns how many were consumed and
    /// whether a line ended.
    fn push(&mut self, buf: &[u8]) -> (usize, bool) {
        if std::mem::take(&mut self.ended) {
            self.line.clear();
            if self.line.capacity() > 1024 * 1024 {
                self.line = Vec::new(); // give back the memory of one huge line
            }
        }
        let (chunk, newline) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if self.discarding {
            // Still inside an over-long line.
        } else if self.line.len() + chunk.len() > self.max {
            tracing::warn!(
                limit = self.max,
                "dropping an input line longer than the limit"
            );
            self.discarding = true;
            self.line = Vec::new();
        } else {
            self.line.extend_from_slice(chunk);
        }
        (newline.unwrap_or(buf.len()), newline.is_some())
    }

    /// The line that just ended, or `None` if it was too long and dropped.
    fn take(&mut self) -> Option<&[u8]> {
        self.ended = true;
        if std::mem::take(&mut self.discarding) {
            return None;
        }
        Some(&self.line)
    }

    /// The unterminated last line at end of input.
    fn finish(&mut self) -> Option<&[u8]> {
        let pending = !self.ended && !self.discarding && !self.line.is_empty();
        pending.then_some(&self.line[..])
    }
}

enum Line {
    Message(Message),
    Reply(Outgoing),
    Skip,
}

/// Parses one line: a message to serve, an error to answer, or nothing.
fn classify_line(line: &[u8], config: &StdioConfig) -> Line {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Line::Skip;
    }
    match Message::parse(line) {
        Ok(message) => Line::Message(message),
        Err(error) => {
            tracing::warn!(%error, "rejecting an input line");
            let reply = match &error {
                ParseError::NotJson(_) => config.reply_to_parse_errors,
                _ => true,
            };
            if !reply {
                return Line::Skip;
            }
            let json =
                json!({"jsonrpc": "2.0", "id": error.id(), "error": error.to_error_object()})
                    .to_string();
            Line::Reply(Outgoing {
                kind: OutgoingKind::Response,
                json,
            })
        }
    }
}
