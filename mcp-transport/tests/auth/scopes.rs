//! Scopes in front of a real `McpService`: the right scope runs the tool, a missing one is a
//! 403 `insufficient_scope` and the tool never runs; the identity reaches the handlers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use mcp_core::identity::Identity;
use mcp_core::{Router, Server, State, ToolDef};
use mcp_transport::auth::{BearerAuthLayer, Layer as _};
use mcp_transport::http::{HttpConfig, McpService};
use serde_json::{json, Value};

use crate::support::*;

const TEST: Duration = Duration::from_secs(60);
const MODERN: &str = "2026-07-28";

/// How often `secret` ran (one counter per test).
type Runs = Arc<AtomicUsize>;

async fn secret(State(runs): State<Runs>) -> String {
    runs.fetch_add(1, Ordering::SeqCst);
    "the secret is 42".into()
}

async fn whoami(who: Identity) -> String {
    format!("{} [{}]", who.subject, who.scopes.join(" "))
}

fn server() -> (Server, Runs) {
    let runs = Runs::default();
    let router = Router::<Runs>::new()
        .tool(
            ToolDef::new("secret", secret)
                .description("Reads the secret")
                .scopes(["secrets.read"]),
        )
        .tool(ToolDef::new("whoami", whoami).description("Who is calling"))
        .with_state(runs.clone());
    (Server::new(router), runs)
}

/// A 2026-07-28 `tools/call` of `name`.
fn call(id: i64, name: &str, token: &str) -> http::Request<http_body_util::Full<bytes::Bytes>> {
    let body = json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {
            "name": name, "arguments": {},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {}
            }
        }
    });
    post(
        &body,
        Some(token),
        &[
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/call"),
            ("mcp-name", name),
        ],
    )
}

fn text_of(v: &Value) -> &str {
    v["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text: {v}"))
}

#[tokio::test]
async fn the_right_scope_runs_the_tool_and_a_missing_one_is_403() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let (server, runs) = server();
        let svc = BearerAuthLayer::jwt(issuer.config())
            .expect("config")
            .scope_policy(server.clone())
            .layer(McpService::new(server, HttpConfig::default()));

        let reader = mint(|c| {
            c.insert("scope".into(), json!("tools.read secrets.read"));
        });
        let before = runs.load(Ordering::SeqCst);
        let (status, _, body) = send(&svc, call(1, "secret", &reader)).await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        assert_eq!(text_of(&json(&body)), "the secret is 42");
        assert_eq!(runs.load(Ordering::SeqCst), before + 1);

        let plain = mint(|_| {});
        let (status, headers, body) = send(&svc, call(7, "secret", &plain)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body:?}");
        let challenge = header(&headers, "www-authenticate");
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(challenge.contains("scope=\"secrets.read\""), "{challenge}");
        assert!(
            challenge.contains(&format!("resource_metadata=\"{METADATA_URL}\"")),
            "{challenge}"
        );
        let v = json(&body);
        assert_eq!(v["id"], 7, "the request id is echoed: {v}");
        assert_eq!(v["error"]["code"], -31403);
        assert_eq!(
            v["error"]["data"]["requiredScopes"],
            json!(["secrets.read"])
        );
        assert_eq!(
            runs.load(Ordering::SeqCst),
            before + 1,
            "the tool did not run"
        );

        // A tool without scopes needs none.
        let (status, _, body) = send(&svc, call(2, "whoami", &plain)).await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        assert_eq!(text_of(&json(&body)), "alice [tools.read]");
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn batches_and_sessions_are_checked_too() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let (server, runs) = server();
        let svc = BearerAuthLayer::jwt(issuer.config())
            .expect("config")
            .scope_policy(server.clone())
            .layer(McpService::new(server, HttpConfig::default()));
        let plain = mint(|_| {});
        let before = runs.load(Ordering::SeqCst);
        // A handshake-era session.
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-03-26", "capabilities": {},
            "clientInfo": {"name": "auth-tests", "version": "0"}}});
        let (status, headers, body) = send(&svc, post(&init, Some(&plain), &[])).await;
        assert_eq!(status, StatusCode::OK, "{body:?}");
        let sid = header(&headers, "mcp-session-id").to_owned();
        let session = [
            ("mcp-session-id", sid.as_str()),
            ("mcp-protocol-version", "2025-03-26"),
        ];
        let one = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "secret", "arguments": {}}});
        let (status, _, body) = send(&svc, post(&one, Some(&plain), &session)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body:?}");
        assert_eq!(json(&body)["id"], 3);
        // A 2025-03-26 batch with one forbidden member is refused whole.
        let batch = json!([
            {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "whoami"}},
            {"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "secret"}}
        ]);
        let (status, _, body) = send(&svc, post(&batch, Some(&plain), &session)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body:?}");
        assert_eq!(runs.load(Ordering::SeqCst), before, "the tool did not run");
        // Unparsable bodies and unknown tools pass on to the transport's own answers.
        let mut bad = post(&json!(null), Some(&plain), &session);
        *bad.body_mut() = http_body_util::Full::new(bytes::Bytes::from_static(b"{not json"));
        let (status, _, body) = send(&svc, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(json(&body)["error"]["code"], -32700);
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_parsing() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let (server, _runs) = server();
        let mut config = issuer.config();
        config.max_body_bytes = 1024;
        let svc = BearerAuthLayer::jwt(config)
            .expect("config")
            .scope_policy(server.clone())
            .layer(McpService::new(server, HttpConfig::default()));
        let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "secret", "arguments": {"pad": "x".repeat(4096)}}});
        let (status, _, _) = send(&svc, post(&big, Some(&mint(|_| {})), &[])).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn the_runtime_enforces_scopes_without_the_pre_check() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let (server, runs) = server();
        // No scope policy: the layer authenticates only, the runtime decides.
        let svc = BearerAuthLayer::jwt(issuer.config())
            .expect("config")
            .layer(McpService::new(server, HttpConfig::default()));
        let before = runs.load(Ordering::SeqCst);
        let (status, _, body) = send(&svc, call(9, "secret", &mint(|_| {}))).await;
        let v = json(&body);
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["error"]["code"], -31403, "{v}");
        assert_eq!(
            v["error"]["data"]["requiredScopes"],
            json!(["secrets.read"])
        );
        assert_eq!(runs.load(Ordering::SeqCst), before, "the tool did not run");
        assert_no_token_logged();
    })
    .await;
}

#[tokio::test]
async fn the_pre_check_stops_a_call_before_the_service() {
    init();
    within(TEST, async {
        let issuer = Issuer::start().await;
        let (server, _runs) = server();
        let recorder = Recorder::default();
        let svc = BearerAuthLayer::jwt(issuer.config())
            .expect("config")
            .scope_policy(server)
            .layer(recorder.clone());
        let reader = mint(|c| {
            c.insert("scope".into(), json!("secrets.read"));
        });
        let (status, _, _) = send(&svc, call(1, "secret", &reader)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(recorder.calls(), 1);
        let seen = recorder.last();
        assert_eq!(
            json(&seen.body)["params"]["name"],
            "secret",
            "the body is passed on"
        );
        assert_eq!(seen.identity.expect("identity").scopes, ["secrets.read"]);
        let (status, headers, body) = send(&svc, call(2, "secret", &mint(|_| {}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body:?}");
        assert!(header(&headers, "www-authenticate").contains("error=\"insufficient_scope\""));
        assert_eq!(
            recorder.calls(),
            1,
            "the refused call never reached the service"
        );
        // Scopes from a closure policy, for prompts too.
        let svc = BearerAuthLayer::jwt(issuer.config())
            .expect("config")
            .scope_policy(
                |method: &str, target: Option<&str>| match (method, target) {
                    ("prompts/get", Some("audit")) => vec!["audit.read".to_string()],
                    _ => Vec::new(),
                },
            )
            .layer(recorder.clone());
        let get = json!({"jsonrpc": "2.0", "id": "p", "method": "prompts/get",
            "params": {"name": "audit"}});
        let (status, headers, body) = send(&svc, post(&get, Some(&reader), &[])).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(header(&headers, "www-authenticate").contains("scope=\"audit.read\""));
        assert_eq!(json(&body)["id"], "p");
        assert_no_token_logged();
    })
    .await;
}
