//! The gateway's policy layer (`mcp_examples::gateway`) in process through `mcp-testing`, in
//! both protocol eras: the same `PolicyLayer` the gateway wraps around its mounted backends,
//! here over in-process upstream routers nested under the prefixes a gateway gives its backends
//! (`db.*`, `hello.*`), with the callers' identities injected by the test client. Roles from
//! claims and `role:` scopes, tools hidden from `tools/list` and refused with -31403, the
//! default caller of an open gateway, argument limits, rate limits, redaction of tool results
//! and resources, and the audit log.
//!
//! Mounting real backends (child processes, HTTP endpoints, failover) is tested end to end in
//! `gateway_*.rs`.

use std::path::PathBuf;
use std::sync::Arc;

use mcp_core::compose::{merge, nest};
use mcp_core::identity::Identity;
use mcp_core::jsonrpc::ErrorCode;
use mcp_core::protocol::ResourceContents;
use mcp_core::{Args, Json, ResourceDef, Router, Server, ToolDef};
use mcp_examples::gateway::{Backends, Cli, Config, Policies, PolicyLayer};
use mcp_testing::{CallToolResultExt, Era, TestClient, ERAS};
use serde_json::{json, Value};

/// What the rate limit refuses with (an application code of the gateway).
const RATE_LIMITED: ErrorCode = ErrorCode(-31429);

const POLICY: &str = r#"
[identity]
subject = "local"
roles = ["analyst"]

[policy.roles.analyst]
allow = ["db.*", "hello.*"]
deny = ["db.execute"]

[policy.roles.admin]
allow = ["*"]

[policy.limits]
max_argument_bytes = 200

[policy.redaction]
builtin = ["secrets", "pii"]

[[policy.redaction.patterns]]
name = "ticket"
regex = "TICKET-[0-9]+"
"#;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Text {
    text: String,
}

async fn echo(Args(Text { text }): Args<Text>) -> String {
    text
}

async fn whoami(who: Identity) -> String {
    who.subject
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Rows {
    rows: Vec<Vec<String>>,
}

async fn query() -> Json<Rows> {
    let row = ["ada@example.com", "AKIAABCDEFGHIJKLMNOP"].map(String::from);
    Json(Rows {
        rows: vec![row.to_vec()],
    })
}

async fn execute() -> &'static str {
    "1 row changed"
}

async fn notes() -> ResourceContents {
    ResourceContents::text("notes://today", "call 555-123-4567 about TICKET-77")
}

/// Two upstream servers under the prefixes a gateway would mount them at.
fn upstream() -> Router {
    let db = Router::new()
        .tool(ToolDef::new("query", query).description("Reads rows"))
        .tool(ToolDef::new("execute", execute).description("Changes rows"));
    let hello = Router::new()
        .tool(ToolDef::new("echo", echo).description("Echoes"))
        .tool(ToolDef::new("whoami", whoami).description("Who is asking"))
        .resource(ResourceDef::new("notes://today", "notes", notes));
    merge(nest("db", db), nest("hello", hello))
}

fn scratch(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!(
        "gateway-inprocess-{name}-{}-{nanos}",
        std::process::id()
    ))
}

/// The gateway's server over `upstream()`, with the policies of `toml`. `authenticated`: every
/// caller is authenticated by the transport, so there is no default caller.
fn gateway(toml: &str, authenticated: bool) -> Server {
    let config = Config::parse(toml).expect("a valid configuration");
    let cli = Cli::parse(["--config".to_owned(), "gateway.toml".to_owned()]).expect("cli");
    let policies =
        Policies::new(&config, &cli, Backends::default(), authenticated).expect("policies");
    Server::new(upstream()).layer(PolicyLayer(Arc::new(policies)))
}

async fn connect(server: Server, era: Era, caller: Option<Identity>) -> TestClient {
    let builder = TestClient::builder(server).era(era);
    let builder = match caller {
        Some(identity) => builder.identity(identity),
        None => builder,
    };
    builder.connect().await.expect("connected")
}

fn with_roles(subject: &str, roles: &[&str]) -> Identity {
    let mut id = Identity::new(subject);
    id.claims.insert("roles".into(), json!(roles));
    id
}

async fn listed(c: &TestClient) -> Vec<String> {
    let mut names: Vec<String> = c
        .list_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn roles_decide_what_is_listed_and_callable() {
    for era in ERAS {
        // An analyst reads but may not change data: db.execute is hidden and refused.
        let c = connect(
            gateway(POLICY, true),
            era,
            Some(with_roles("ana", &["analyst"])),
        )
        .await;
        assert_eq!(
            listed(&c).await,
            ["db.query", "hello.echo", "hello.whoami"],
            "{era:?}"
        );
        let refused = c
            .call("db.execute", ())
            .await
            .expect_error_code(ErrorCode::FORBIDDEN);
        assert!(
            refused.message.contains("[analyst]") && refused.message.contains("db.execute"),
            "{refused:?}"
        );
        c.call("hello.whoami", ()).await.expect_text("ana");

        // `role:NAME` scopes are roles too: an admin may do everything.
        let admin = Identity::new("root").with_scopes(["role:admin"]);
        let c = connect(gateway(POLICY, true), era, Some(admin)).await;
        assert_eq!(
            listed(&c).await,
            ["db.execute", "db.query", "hello.echo", "hello.whoami"]
        );
        c.call("db.execute", ()).await.expect_text("1 row changed");

        // A caller without a known role sees and calls nothing.
        let c = connect(
            gateway(POLICY, true),
            era,
            Some(with_roles("eve", &["guest"])),
        )
        .await;
        assert!(listed(&c).await.is_empty(), "{era:?}");
        c.call("hello.echo", json!({"text": "hi"}))
            .await
            .expect_error_code(ErrorCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn an_open_gateway_serves_anonymous_callers_as_its_configured_identity() {
    for era in ERAS {
        // Over stdio (or HTTP without [auth]) nobody authenticates: [identity] is the caller.
        let c = connect(gateway(POLICY, false), era, None).await;
        c.call("hello.whoami", ()).await.expect_text("local");
        assert_eq!(
            listed(&c).await,
            ["db.query", "hello.echo", "hello.whoami"],
            "{era:?}"
        );
        c.call("db.execute", ())
            .await
            .expect_error_code(ErrorCode::FORBIDDEN);

        // Behind [auth] there is no default: an anonymous caller has no role at all.
        let c = connect(gateway(POLICY, true), era, None).await;
        assert!(listed(&c).await.is_empty(), "{era:?}");
        c.call("hello.whoami", ())
            .await
            .expect_error_code(ErrorCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn results_and_resources_are_redacted() {
    for era in ERAS {
        let c = connect(
            gateway(POLICY, true),
            era,
            Some(with_roles("ana", &["analyst"])),
        )
        .await;
        c.call(
            "hello.echo",
            json!({"text": "mail ada@example.com, password=hunter2, see TICKET-42"}),
        )
        .await
        .expect_text(
            "mail [redacted:email], password=[redacted:assignment], see [redacted:ticket]",
        );
        // Structured content too, at any depth.
        let rows = c.call("db.query", ()).await.expect_success();
        let text = rows.text_content();
        assert!(!text.contains("ada@example.com"), "{era:?}: {text}");
        assert!(!text.contains("AKIAABCDEFGHIJKLMNOP"), "{era:?}: {text}");
        let structured = rows.structured_content.expect("structuredContent");
        assert_eq!(
            structured["rows"],
            json!([["[redacted:email]", "[redacted:aws-access-key]"]])
        );
        let notes = c
            .read_resource("notes://today")
            .await
            .expect("resources/read");
        let notes = serde_json::to_value(&notes).expect("json");
        assert_eq!(
            notes["contents"][0]["text"], "call [redacted:phone] about [redacted:ticket]",
            "{era:?}"
        );
    }
}

#[tokio::test]
async fn arguments_are_limited_in_size() {
    for era in ERAS {
        let c = connect(
            gateway(POLICY, true),
            era,
            Some(with_roles("ana", &["analyst"])),
        )
        .await;
        c.call("hello.echo", json!({"text": "short"}))
            .await
            .expect_text("short");
        let refused = c
            .call("hello.echo", json!({"text": "x".repeat(300)}))
            .await
            .expect_error_code(ErrorCode::INVALID_PARAMS);
        assert!(
            refused.message.contains("at most 200"),
            "{era:?}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn rate_limits_apply_per_role_and_tool() {
    let toml = format!(
        "{POLICY}\n[[policy.rate_limits]]\nrole = \"analyst\"\ntools = \"hello.*\"\nper_minute = 1\nburst = 2\n"
    );
    for era in ERAS {
        let c = connect(
            gateway(&toml, true),
            era,
            Some(with_roles("ana", &["analyst"])),
        )
        .await;
        c.call("hello.echo", json!({"text": "1"}))
            .await
            .expect_text("1");
        c.call("hello.echo", json!({"text": "2"}))
            .await
            .expect_text("2");
        let refused = c
            .call("hello.echo", json!({"text": "3"}))
            .await
            .expect_error_code(RATE_LIMITED);
        assert!(
            refused.message.starts_with("rate limit exceeded"),
            "{refused:?}"
        );
        // Other tools are not limited.
        c.call("db.query", ()).await.expect_success();
    }
}

#[tokio::test]
async fn every_call_is_audited_with_its_caller_and_outcome() {
    for era in ERAS {
        let log = scratch("audit");
        let toml = format!(
            "{POLICY}\n[audit]\npath = {:?}\n",
            log.display().to_string()
        );
        let c = connect(
            gateway(&toml, true),
            era,
            Some(with_roles("ana", &["analyst"])),
        )
        .await;
        c.call("hello.echo", json!({"text": "hi"}))
            .await
            .expect_text("hi");
        c.call("db.execute", ())
            .await
            .expect_error_code(ErrorCode::FORBIDDEN);
        let text = std::fs::read_to_string(&log).expect("the audit log");
        let _ = std::fs::remove_file(&log);
        let records: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON record per line"))
            .collect();
        assert_eq!(records.len(), 2, "{era:?}: {text}");
        let summary: Vec<(&str, &str, &str)> = records
            .iter()
            .map(|r| {
                (
                    r["tool"].as_str().unwrap_or_default(),
                    r["subject"].as_str().unwrap_or_default(),
                    r["outcome"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [("hello.echo", "ana", "ok"), ("db.execute", "ana", "denied")],
            "{era:?}"
        );
        assert_eq!(records[1]["code"], -31403);
        assert_eq!(records[0]["roles"], json!(["analyst"]));
        let expected_era = if era.is_modern() {
            "2026-07-28"
        } else {
            "2025-11-25"
        };
        assert_eq!(records[0]["era"], expected_era);
    }
}
