//! `[auth]`: `gateway --http` as an OAuth 2.1 resource server, with a local issuer (a P-256 key
//! made at test time, its JWKS served on loopback by this process) and an HTTP backend in
//! this process that records every header it receives.
//!
//! - No token, a token signed by another key, a token for another audience: 401.
//! - The caller's roles come from the token (a `roles` claim, or a scope mapped by
//!   `[auth.scope_roles]`), never from `[identity]` or `--role`: a `reader` sees and may call
//!   `api.echo` only and is refused `api.secret` at the gateway (`-31403`); an `admin` (by
//!   scope) may call both — in both protocol eras.
//! - Backends never see the caller's token (no `Authorization` header, no token anywhere in
//!   their headers); the gateway's own log (at `debug`) and its audit log never contain one;
//!   the audit log has one record per call, with the token's subject.

mod gateway_support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gateway_support::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_core::jsonrpc::ErrorCode;
use mcp_core::{Router, ToolDef};
use mcp_transport::client::{Client, ClientConfig, ClientError, EraPreference, HttpTransport};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

const RESOURCE: &str = "https://gateway.test/mcp";

/// A signing key and its public JWK.
struct Key {
    encoding: EncodingKey,
    jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn key(kid: &str) -> Key {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("pair");
    let (x, y) = pair.public_key().as_ref()[1..].split_at(32);
    Key {
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": b64(x), "y": b64(y)}),
    }
}

/// The issuer: its URL (the `iss`), and its key.
struct Issuer {
    url: String,
    key: Key,
}

impl Issuer {
    async fn start() -> Issuer {
        let key = key("k1");
        let jwks = json!({"keys": [key.jwk]}).to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the issuer");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { ([("content-type", "application/json")], jwks) }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Issuer { url, key }
    }

    /// A token for `sub` with extra claims, signed with `key` (the issuer's unless given).
    fn mint(&self, sub: &str, extra: Value, key: Option<&Key>) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let mut claims = json!({"iss": self.url, "aud": RESOURCE, "sub": sub, "iat": now,
            "exp": now + 300, "client_id": "gateway-test"});
        if let (Some(c), Value::Object(extra)) = (claims.as_object_mut(), extra) {
            c.extend(extra);
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("k1".into());
        jsonwebtoken::encode(&header, &claims, &key.unwrap_or(&self.key).encoding).expect("sign")
    }
}

async fn echo(mcp_core::Args(a): mcp_core::Args<Value>) -> String {
    a.get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

async fn secret() -> &'static str {
    "the secret is 42"
}

fn backend() -> Router {
    Router::new()
        .tool(
            ToolDef::new("echo", echo)
                .description("Echoes `text`")
                .input_schema(
                    json!({"type": "object", "properties": {"text": {"type": "string"}}})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                ),
        )
        .tool(ToolDef::new("secret", secret).description("Tells the secret"))
}

async fn connect(
    url: &str,
    token: Option<&str>,
    era: EraPreference,
) -> Result<Client, ClientError> {
    let mut t = HttpTransport::new(url);
    if let Some(token) = token {
        t = t.bearer_token(token);
    }
    Client::connect(t, ClientConfig::default().era(era)).await
}

fn names(tools: &[mcp_core::protocol::Tool]) -> Vec<String> {
    let mut n: Vec<String> = tools.iter().map(|t| t.name.clone()).collect();
    n.sort();
    n
}

fn forbidden(r: Result<mcp_core::protocol::CallToolResult, ClientError>) -> String {
    match r {
        Err(ClientError::Rpc(e)) => {
            assert_eq!(e.code, ErrorCode::FORBIDDEN, "{e:?}");
            e.message
        }
        other => panic!("expected -31403, got {other:?}"),
    }
}

async fn authenticated() {
    let issuer = Issuer::start().await;
    let seen = SeenHeaders::default();
    let backend_url = serve_backend(backend(), seen.clone()).await;
    let dir = scratch("auth");
    let audit = dir.join("audit.jsonl");
    let config = write_config(
        &dir,
        &format!(
            r#"
# Without authentication this caller would be an admin: it must never apply over --http.
[identity]
subject = "local-user"
roles = ["admin"]

[[backends]]
name = "api"
url = {backend}
prefix = "api"

[policy.roles.reader]
allow = ["api.echo"]

[policy.roles.admin]
allow = ["*"]

[audit]
path = {audit}

[auth]
resource = "{RESOURCE}"
authorization_servers = [{issuer}]
jwks_url = {jwks}
scopes_supported = ["api.admin"]

[auth.scope_roles]
"api.admin" = ["admin"]
"#,
            backend = toml_str(&backend_url),
            audit = toml_str(&audit.to_string_lossy()),
            issuer = toml_str(&issuer.url),
            jwks = toml_str(&format!("{}/jwks.json", issuer.url)),
        ),
    );
    let (gateway, url) = spawn_http_async(
        GATEWAY,
        vec![
            "--config".into(),
            config.to_string_lossy().into_owned(),
            "--http".into(),
            "127.0.0.1:0".into(),
            "--role".into(),
            "admin".into(),
        ],
        vec![("RUST_LOG".into(), "debug".into())],
    )
    .await;

    let mut tokens = Vec::new();
    let reader = issuer.mint("reader-1", json!({"roles": ["reader"]}), None);
    let admin = issuer.mint("admin-1", json!({"scope": "api.admin"}), None);
    let other_key = key("k1");
    let forged = issuer.mint("admin-1", json!({"scope": "api.admin"}), Some(&other_key));
    let elsewhere = issuer.mint(
        "admin-1",
        json!({"scope": "api.admin", "aud": "https://other.test/mcp"}),
        None,
    );
    tokens.extend([
        reader.clone(),
        admin.clone(),
        forged.clone(),
        elsewhere.clone(),
    ]);

    // Refused: no token, a forged one, one for another resource.
    for (what, token) in [
        ("no token", None),
        ("a forged token", Some(forged.as_str())),
        ("a token for another audience", Some(elsewhere.as_str())),
    ] {
        let err = connect(&url, token, EraPreference::Auto)
            .await
            .expect_err(what);
        assert!(err.to_string().contains("401"), "{what}: {err}");
    }

    let mut calls = 0;
    for era in [EraPreference::Auto, EraPreference::Handshake] {
        // A reader: api.echo only.
        let client = connect(&url, Some(&reader), era).await.expect("reader");
        let tools = client.list_tools().await.expect("tools/list");
        assert_eq!(names(&tools), ["api.echo"], "{era:?}");
        let r = client
            .call_tool("api.echo", json!({"text": "hi"}))
            .await
            .expect("api.echo");
        assert_eq!(r.content[0].as_text(), Some("hi"));
        let message = forbidden(client.call_tool("api.secret", json!({})).await);
        assert!(message.contains("reader"), "{message}");
        calls += 2;
        client.close();

        // An admin, by scope: both.
        let client = connect(&url, Some(&admin), era).await.expect("admin");
        let tools = client.list_tools().await.expect("tools/list");
        assert_eq!(names(&tools), ["api.echo", "api.secret"], "{era:?}");
        let r = client
            .call_tool("api.secret", json!({}))
            .await
            .expect("api.secret");
        assert_eq!(r.content[0].as_text(), Some("the secret is 42"));
        calls += 1;
        client.close();
    }

    // The backend never saw a token.
    let headers = seen.lock().expect("lock").clone();
    assert!(!headers.is_empty(), "the backend was called");
    for h in &headers {
        assert!(
            !h.to_ascii_lowercase().starts_with("authorization:"),
            "the backend received {h}"
        );
        for t in &tokens {
            assert!(!h.contains(t.as_str()), "a token reached the backend: {h}");
        }
    }

    // One audit record per call, with the token's subject; no token in the audit log or in
    // the gateway's own log.
    let text = std::fs::read_to_string(&audit).expect("the audit log");
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    assert_eq!(records.len(), calls, "{text}");
    let denied: Vec<&Value> = records
        .iter()
        .filter(|r| r["outcome"] == "denied")
        .collect();
    assert_eq!(denied.len(), 2, "{text}");
    assert!(denied.iter().all(|r| r["subject"] == "reader-1"), "{text}");
    assert!(
        records
            .iter()
            .all(|r| r["subject"] == "reader-1" || r["subject"] == "admin-1"),
        "{text}"
    );
    // The process is stopped so that everything it logged is read.
    let mut gateway = gateway;
    gateway.kill();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = gateway.stderr();
    assert!(log.contains("DEBUG"), "the gateway logged at debug:\n{log}");
    for t in &tokens {
        // The signature part is what makes a token usable; it must appear nowhere.
        let signature = t.rsplit('.').next().expect("a JWT");
        assert!(!log.contains(signature), "a token in the gateway's log");
        assert!(!text.contains(signature), "a token in the audit log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_are_authenticated_and_their_roles_decide() {
    tokio::time::timeout(Duration::from_secs(90), authenticated())
        .await
        .expect("the test finished in time");
}
