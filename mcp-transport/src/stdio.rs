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
pub async fn serve(router: mcp_core::Router) -> io::Result<()> {
    serve_server(Server::new(router)).await
}

/// Serves a configured [`Server`] on stdin and stdout until stdin closes.
pub async fn serve_server(server: Server) -> io::Result<()> {
    serve_stdio(server, StdioConfig::default()).await
}

/// Serves on this process's stdin and stdout with explicit settings.
///
/// stdin and stdout are read and written on two dedicated threads with blocking I/O: tokio's
/// own stdio goes through the blocking pool for every read and write, which costs several
/// thread hand-offs per message.
pub async fn serve_stdio(server: Server, config: StdioConfig) -> io::Result<()> {
    let (tx, rx) = mpsc::channel::<Outgoing>(config.outgoing_queue.max(1));
    let connection = Connection::new(&server, tx.clone());
    connection.set_default_identity(config.identity.clone());
    let handle = tokio::runtime::Handle::current();

    let writer = std::thread::Builder::new()
        .name("mcp-stdout".into())
        .spawn(move || write_blocking(rx, std::io::stdout().lock()))?;

    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let reader_conn = connection.clone();
    std::thread::Builder::new()
        .name("mcp-stdin".into())
        .spawn(move || {
            let result =
                read_blocking(std::io::stdin().lock(), &reader_conn, &tx, &config, &handle);
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

/// Writes each message as one line, flushing only when nothing else is waiting.
fn write_blocking(mut rx: mpsc::Receiver<Outgoing>, out: impl std::io::Write) -> io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let mut result = Ok(());
    while let Some(first) = rx.blocking_recv() {
        if result.is_err() {
            continue; // keep draining so handlers never block on a dead stdout
        }
        result = (|| {
            out.write_all(first.json.as_bytes())?;
            out.write_all(b"\n")?;
            while let Ok(next) = rx.try_recv() {
                out.write_all(next.json.as_bytes())?;
                out.write_all(b"\n")?;
            }
            out.flush()
        })();
    }
    result
}

fn read_blocking(
    input: impl std::io::BufRead,
    connection: &std::sync::Arc<Connection>,
    tx: &mpsc::Sender<Outgoing>,
    config: &StdioConfig,
    handle: &tokio::runtime::Handle,
) -> io::Result<()> {
    let mut input = input;
    let mut lines = Lines::new(config.max_line_bytes);
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            if let Some(line) = lines.finish() {
                dispatch_blocking(line, connection, tx, config, handle);
            }
            return Ok(());
        }
        let (consumed, complete) = lines.push(buf);
        input.consume(consumed);
        if complete {
            if let Some(line) = lines.take() {
                dispatch_blocking(line, connection, tx, config, handle);
            }
        }
    }
}

fn dispatch_blocking(
    line: &[u8],
    connection: &std::sync::Arc<Connection>,
    tx: &mpsc::Sender<Outgoing>,
    config: &StdioConfig,
    handle: &tokio::runtime::Handle,
) {
    match classify_line(line, config) {
        Line::Message(message) => {
            let _runtime = handle.enter();
            connection.receive(message, tx.clone());
        }
        Line::Reply(reply) => {
            let _ = tx.blocking_send(reply);
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
