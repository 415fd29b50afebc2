//! An in-process client for the macro tests: a `Connection` fed JSON-RPC text, past the
//! 2025-11-25 handshake. No sockets, no processes.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use mcp_core::context::Outgoing;
use mcp_core::jsonrpc::Message;
use mcp_core::{Connection, Router, Server};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// A connected test client.
pub struct Client {
    conn: Arc<Connection>,
    next_id: i64,
    _unsolicited: mpsc::Receiver<Outgoing>,
}

impl Client {
    /// Connects to `router` and completes the handshake.
    pub async fn new(router: Router) -> Client {
        let server = Server::new(router);
        let (tx, rx) = mpsc::channel(64);
        let conn = Connection::new(&server, tx);
        // The caller holds every scope the test tools declare.
        conn.set_default_identity(Some(
            mcp_core::identity::Identity::new("macro-tests").with_scopes(["stats:read"]),
        ));
        let mut client = Client {
            conn,
            next_id: 0,
            _unsolicited: rx,
        };
        let init = client
            .request(
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "macro-tests", "version": "1"}}),
            )
            .await;
        assert!(init.get("result").is_some(), "initialize failed: {init}");
        client.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        client
    }

    fn send(&self, msg: Value) -> mpsc::Receiver<Outgoing> {
        let (tx, rx) = mpsc::channel(64);
        let text = msg.to_string();
        let message = Message::parse(text.as_bytes()).expect("valid JSON-RPC");
        self.conn.receive(message, tx);
        rx
    }

    /// Sends a request and returns the whole response object.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut rx =
            self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let out = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("the server answers within 10 s")
                .expect("the server keeps the channel open until it answers");
            let v: Value = serde_json::from_str(&out.json).expect("the server sends JSON");
            if v.get("id") == Some(&json!(id)) {
                return v;
            }
        }
    }

    /// The `result` of a request; panics on an error response.
    pub async fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params).await;
        match r.get("result") {
            Some(v) => v.clone(),
            None => panic!("{method} failed: {r}"),
        }
    }

    /// Calls a tool.
    pub async fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.result("tools/call", json!({"name": tool, "arguments": arguments}))
            .await
    }

    /// The listed tool called `name`.
    pub async fn tool(&mut self, name: &str) -> Value {
        let list = self.result("tools/list", json!({})).await;
        list["tools"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no tool {name} in {list}"))
    }
}

/// The text of the first content block of a result.
pub fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}
