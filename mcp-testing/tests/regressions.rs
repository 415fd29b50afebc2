//! Regression tests for runtime bugs found while building the test client: leaked pending
//! client requests and in-flight entries, and a completion handler that asked the client in
//! 2026-07-28 and hung.
#![allow(unused_macros)]

#[macro_use]
mod common;

use std::time::Duration;

use mcp_core::context::{Outgoing, OutgoingKind};
use mcp_core::jsonrpc::{Message, RequestId};
use mcp_core::protocol::{CreateMessageParams, SamplingMessage};
use mcp_core::router::Completing;
use mcp_core::{CompletionDef, Context, PromptDef, Router};
use mcp_testing::{prompt_ref, reply, CallToolResultExt, Era, TestClient};
use serde_json::json;
use tokio::sync::mpsc;

fn message(value: serde_json::Value) -> Message {
    Message::from_value(value).expect("a valid message")
}

/// Handshake era: a request cancelled while its handler waits for the client's answer leaves
/// its entry in the connection's pending server→client requests forever. After 1024 of them
/// every later `elicit`/`sample`/`list_roots` on the connection fails with "too many requests
/// to the client are pending".
#[tokio::test]
async fn cancelling_while_asking_leaks_a_pending_entry() {
    common::within(async {
        let client = common::client(Era::Handshake(
            mcp_core::protocol::ProtocolVersion::V2025_11_25,
        ))
        .await;
        let connection = client.connection();
        for i in 0..1025 {
            let id = format!("orphan-{i}");
            let (tx, mut rx) = mpsc::channel::<Outgoing>(8);
            connection.receive(
                message(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": {"name": "ask_model", "arguments": {"prompt": "x"}}})),
                tx,
            );
            let asked = rx.recv().await.expect("the server asks the client");
            assert_eq!(asked.kind, OutgoingKind::Request, "{}", asked.json);
            // Cancel instead of answering, as a client whose user gave up does.
            client.cancel(&RequestId::from(id)).expect("sent");
            while rx.recv().await.is_some() {}
        }
        let result = client
            .call_tool("ask_model", json!({"prompt": "still works?"}))
            .await
            .expect("ask_model answers");
        assert_eq!(result.text_content(), "LLM response: Paris", "{result:?}");
    })
    .await
}

/// A request's `inflight` entry is inserted after its task is spawned; on a multi-threaded
/// runtime a fast request can finish (and remove its entry) first, leaving a stale entry that
/// is never removed: a leak, and `Connection::cancel` reports a finished request as in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn finished_requests_leave_no_inflight_entries() {
    common::within(async {
        let client = common::client(Era::Handshake(
            mcp_core::protocol::ProtocolVersion::V2025_11_25,
        ))
        .await;
        let connection = client.connection();
        const N: usize = 20_000;
        for i in 0..N {
            let (tx, mut rx) = mpsc::channel::<Outgoing>(8);
            connection.receive(
                message(
                    json!({"jsonrpc": "2.0", "id": format!("fast-{i}"), "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"text": "x"}}}),
                ),
                tx,
            );
            let answer = rx.recv().await.expect("echo answers");
            assert_eq!(answer.kind, OutgoingKind::Response);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let stale = (0..N)
            .filter(|i| connection.cancel(&RequestId::from(format!("fast-{i}"))))
            .count();
        assert_eq!(
            stale, 0,
            "{stale} finished requests still count as in flight"
        );
    })
    .await
}

/// Requests the connection answers at once — a second `initialize`, a 2026-07-28 request
/// refused by the validation ladder — never remove their `inflight` entry (the answering
/// future of `Route::Answer` has no `remove`), so every one of them leaks, and
/// `Connection::cancel` reports it as still in flight.
#[tokio::test]
async fn requests_answered_at_once_leave_no_inflight_entries() {
    common::within(async {
        for era in mcp_testing::ERAS {
            let client = common::client(era).await;
            let connection = client.connection();
            let params = if era.is_modern() {
                json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {}}})
            } else {
                json!({"protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "again", "version": "1"}})
            };
            // Handshake: initialize twice (-32600). Modern: a method that does not exist (-32601).
            let method = if era.is_modern() {
                "no/such/method"
            } else {
                "initialize"
            };
            let (tx, mut rx) = mpsc::channel::<Outgoing>(8);
            connection.receive(
                message(
                    json!({"jsonrpc": "2.0", "id": "refused", "method": method, "params": params}),
                ),
                tx,
            );
            let answer = rx.recv().await.expect("an answer");
            assert!(answer.json.contains("\"error\""), "{}", answer.json);
            tokio::task::yield_now().await;
            assert!(
                !connection.cancel(&RequestId::from("refused")),
                "{era:?}: an answered request still counts as in flight"
            );
        }
    })
    .await
}

async fn complete_by_asking(ctx: Context, c: Completing) -> Vec<String> {
    let asked = ctx
        .sample(
            "completion_hint",
            CreateMessageParams::new(vec![SamplingMessage::user(c.value)], 10),
        )
        .await;
    match asked {
        Ok(answer) => vec![answer.text().unwrap_or_default().to_owned()],
        Err(_) => Vec::new(),
    }
}

async fn plain_prompt() -> String {
    "prompt".into()
}

/// 2026-07-28: a completion handler that asks the client anything (sampling, elicitation,
/// roots) is never answered. `completion/complete` cannot return `input_required`, and the
/// runtime does not poll completion handlers with `run_round`, so `Context::ask` pends forever.
/// The handshake era answers the same handler at once.
#[tokio::test]
async fn completion_handler_that_asks_is_answered() {
    common::within(async {
        let router = Router::new()
            .prompt(PromptDef::new("p", plain_prompt).description("A prompt"))
            .completion(CompletionDef::prompt("p", "a", complete_by_asking));
        let client = TestClient::builder(router)
            .era(Era::Modern)
            .on_sample(|_| reply::sampled("hint"))
            .timeout(Duration::from_secs(3))
            .connect()
            .await
            .expect("connects");
        let outcome = client.complete(prompt_ref("p"), "a", "v").await;
        assert!(
            !matches!(&outcome, Err(e) if e.is_timeout()),
            "completion/complete was never answered: {outcome:?}"
        );
    })
    .await
}
