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
    serve_with(
        server,
        tokio::io::stdin(),
        tokio::io::stdout(),
        StdioConfig::default(),
    )
    .await
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
    let mut line: Vec<u8> = Vec::new();
    let mut discarding = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            if !discarding && !line.is_empty() {
                handle_line(&line, &connection, &tx, config).await;
            }
            return Ok(());
        }
        let (chunk, newline) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !discarding {
            if line.len() + chunk.len() > config.max_line_bytes {
                tracing::warn!(
                    limit = config.max_line_bytes,
                    "dropping an input line longer than the limit"
                );
                discarding = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let consumed = newline.unwrap_or(buf.len());
        reader.consume(consumed);
        if newline.is_some() {
            if !discarding {
                handle_line(&line, &connection, &tx, config).await;
            }
            discarding = false;
            line.clear();
            if line.capacity() > 1024 * 1024 {
                line.shrink_to(64 * 1024);
            }
        }
    }
}

async fn handle_line(
    line: &[u8],
    connection: &std::sync::Arc<Connection>,
    tx: &mpsc::Sender<Outgoing>,
    config: &StdioConfig,
) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    match Message::parse(line) {
        Ok(message) => connection.receive(message, tx.clone()),
        Err(error) => {
            tracing::warn!(%error, "rejecting an input line");
            let reply = match &error {
                ParseError::NotJson(_) => config.reply_to_parse_errors,
                _ => true,
            };
            if reply {
                let json =
                    json!({"jsonrpc": "2.0", "id": error.id(), "error": error.to_error_object()})
                        .to_string();
                let _ = tx
                    .send(Outgoing {
                        kind: OutgoingKind::Response,
                        json,
                    })
                    .await;
            }
        }
    }
}
