//! What the benches share: the `hello` example's `echo` tool, the wire lines a client sends, and
//! an in-process handshake-era connection driven the way the stdio transport drives it.
#![allow(dead_code)] // each bench uses its own part

use std::sync::Arc;

use mcp_core::context::{Outgoing, Sink};
use mcp_core::jsonrpc::Message;
use mcp_core::{Args, Connection, Router, Server, ToolDef};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// The `echo` tool's arguments, as in `examples/src/bin/hello.rs`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Echo {
    /// The text to send back.
    pub(crate) text: String,
}

/// `echo`: sends the text back.
pub(crate) async fn echo(Args(e): Args<Echo>) -> String {
    e.text
}

/// A router with `echo` plus `extra` more tools of the same shape (`tool_0`, `tool_1`, …).
pub(crate) fn router(extra: usize) -> Router {
    let mut r = Router::new().tool(
        ToolDef::new("echo", echo)
            .description("Sends the text back unchanged")
            .read_only(true),
    );
    for i in 0..extra {
        r = r.tool(
            ToolDef::new(format!("tool_{i}"), echo)
                .description("Sends the text back unchanged; one of many tools of a larger server")
                .read_only(true),
        );
    }
    r
}

/// `initialize` as mcpbench sends it (2025-11-25).
pub(crate) const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#;
/// `notifications/initialized`.
pub(crate) const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
/// The measured request of the end-to-end benchmark, handshake era.
pub(crate) const CALL: &str = r#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}"#;
/// The same call in the 2026-07-28 revision: the `_meta` envelope on every request.
pub(crate) const CALL_MODERN: &str = r#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;
/// `tools/list`, handshake era.
pub(crate) const LIST: &str = r#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#;
/// `ping`, handshake era: the routing floor, no handler.
pub(crate) const PING: &str = r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#;

/// Parses a line the benches know is valid.
pub(crate) fn parse(line: &str) -> Message {
    Message::parse(line.as_bytes()).expect("a valid JSON-RPC line")
}

/// A current-thread runtime: no cross-thread wake-ups in the numbers.
pub(crate) fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// One initialized handshake-era connection and the sink its answers arrive on, as on stdio.
pub(crate) struct Session {
    /// The connection.
    pub(crate) conn: Arc<Connection>,
    /// Where answers go.
    pub(crate) tx: Sink,
    /// Where answers arrive.
    pub(crate) rx: mpsc::Receiver<Outgoing>,
    _unsolicited: mpsc::Receiver<Outgoing>,
}

impl Session {
    /// Opens a connection on `server` and completes the handshake (inside `rt`).
    pub(crate) fn open(rt: &Runtime, server: &Server) -> Session {
        rt.block_on(async {
            let (utx, urx) = mpsc::channel(64);
            let (tx, mut rx) = mpsc::channel(1024);
            let conn = Connection::new(server, utx);
            conn.receive(parse(INITIALIZE), tx.clone());
            let answer = rx.recv().await.expect("initialize is answered");
            assert!(answer.json.contains("\"result\""), "{}", answer.json);
            conn.receive(parse(INITIALIZED), tx.clone());
            Session {
                conn,
                tx,
                rx,
                _unsolicited: urx,
            }
        })
    }

    /// Sends `line` and waits for its answer (call inside the runtime).
    pub(crate) async fn round_trip(&mut self, line: &str) -> Outgoing {
        self.conn.receive(parse(line), self.tx.clone());
        self.rx.recv().await.expect("an answer")
    }
}
