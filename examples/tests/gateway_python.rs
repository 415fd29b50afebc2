//! The official MCP Python client (`mcp==2.3.0`, provisioned by `.ci/python-client`) through
//! the gateway, in both eras:
//!
//! - `hello` (stdio child), `postgres-server` (Streamable HTTP, against the throwaway cluster
//!   of `.ci/postgres`) and `conformance-server` (stdio child) behind one gateway: the merged
//!   catalogue, calls on every backend, progress and elicitation passing through, a role
//!   refused a tool at the gateway, and exactly one audit record per call
//!   (`tests/gateway_client.py`).
//! - `conformance-server` alone behind the gateway, checked by the same script the direct
//!   interop test uses (`tests/interop/python_client.py`): logging, progress, sampling,
//!   elicitation, resources, prompts and completions.

mod common;
mod gateway_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::interop::{expect_all_passed, python_script};
use gateway_support::*;
use serde_json::Value;

const RUN_TIMEOUT: Duration = Duration::from_secs(150);

/// The test cluster's URL (`.ci/postgres`, stopped when this test process exits).
fn database_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let script = Path::new(MANIFEST_DIR).join("../.ci/postgres");
        let out = Command::new("bash")
            .arg(&script)
            .args(["start", "--name", "gateway", "--watch"])
            .arg(std::process::id().to_string())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(out.status.success(), "{} start failed", script.display());
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_owned())
            .expect("a DATABASE_URL")
    })
}

/// Runs a Python script against `gateway --config CONFIG [extra]` and returns its stdout.
fn run_script(script: &str, mode: &str, config: &Path, extra: &[&str]) -> String {
    let out = expect_all_passed(
        &format!("Python mode={mode}"),
        python_script(script)
            .args(["--mode", mode, "--timeout", "30", "--"])
            .arg(GATEWAY)
            .arg("--config")
            .arg(config)
            .args(extra)
            .env("RUST_LOG", "warn"),
        RUN_TIMEOUT,
        String::new,
    );
    out.stdout
}

fn merged(mode: &str) {
    let dir = scratch(&format!("python-{mode}"));
    let (_db, db_url) = spawn_http(
        POSTGRES,
        &["--http", "127.0.0.1:0"],
        &[("DATABASE_URL", database_url()), ("RUST_LOG", "warn")],
    );
    let audit = dir.join("audit.jsonl");
    let config = write_config(
        &dir,
        &format!(
            r#"
[identity]
subject = "interop"
roles = ["analyst"]

[[backends]]
name = "hello"
command = [{hello}, "--stdio"]
prefix = "hello"

[[backends]]
name = "db"
url = {db}
prefix = "db"
uris = "scheme-prefix"

[[backends]]
name = "conf"
command = [{conf}, "--stdio"]
prefix = "conf"

[policy.roles.analyst]
allow = ["*"]
deny = ["hello.add"]

[audit]
path = {audit}
"#,
            hello = toml_str(HELLO),
            db = toml_str(&db_url),
            conf = toml_str(CONFORMANCE),
            audit = toml_str(&audit.to_string_lossy()),
        ),
    );
    let stdout = run_script("tests/gateway_client.py", mode, &config, &[]);
    let calls: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CALLS "))
        .and_then(|n| n.trim().parse().ok())
        .expect("a CALLS line");
    let text = std::fs::read_to_string(&audit).expect("the audit log exists");
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
        .collect();
    assert_eq!(records.len(), calls, "one audit record per call:\n{text}");
    let denied: Vec<&Value> = records
        .iter()
        .filter(|r| r["outcome"] == "denied")
        .collect();
    assert_eq!(
        denied.len(),
        1,
        "the refused call is audited as denied:\n{text}"
    );
    assert_eq!(denied[0]["tool"], "hello.add");
    assert_eq!(denied[0]["subject"], "interop");
    for r in &records {
        if r["outcome"] != "denied" {
            assert!(
                r["backend"].is_string(),
                "a forwarded call names its backend: {r}"
            );
        }
    }
}

#[test]
fn merged_catalogue_legacy() {
    merged("legacy");
}

#[test]
fn merged_catalogue_auto() {
    merged("auto");
}

fn fronting_conformance(mode: &str) {
    let dir = scratch(&format!("passthrough-{mode}"));
    let config = write_config(
        &dir,
        &format!(
            "[[backends]]\nname = \"conformance\"\ncommand = [{}, \"--stdio\"]\n",
            toml_str(CONFORMANCE)
        ),
    );
    run_script("tests/interop/python_client.py", mode, &config, &[]);
}

#[test]
fn conformance_fixtures_pass_through_legacy() {
    fronting_conformance("legacy");
}

#[test]
fn conformance_fixtures_pass_through_auto() {
    fronting_conformance("auto");
}
