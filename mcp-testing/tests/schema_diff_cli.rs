//! The `mcp-schema-diff` command line, run as users' CI runs it: exit 0 without breaking
//! changes, 1 with one, 2 when the input is wrong.
#![allow(unused_macros)]

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mcp_core::{Args, Router, ToolDef};
use mcp_testing::{snapshot, TestClient};
use serde_json::{json, Value};

/// A scratch directory for one test, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("mcp-schema-diff-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Scratch(dir)
    }

    fn file(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.0.join(name);
        snapshot::write_snapshot(&path, value).expect("written");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the CLI, killing it if it takes more than 30 s; returns the exit code and stdout.
fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-schema-diff"))
        .args(args.iter().map(|a| a.as_ref()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("waitable").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("mcp-schema-diff did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tool(name: &str, properties: Value, required: &[&str]) -> Value {
    json!({"name": name, "description": name, "inputSchema":
        {"type": "object", "properties": properties, "required": required}})
}

fn catalogue(tools: Vec<Value>) -> Value {
    json!({"tools": tools, "prompts": [], "resources": [], "resourceTemplates": []})
}

fn v1() -> Value {
    catalogue(vec![
        tool("search", json!({"q": {"type": "string"}}), &["q"]),
        tool("stats", json!({}), &[]),
    ])
}

#[test]
fn a_breaking_change_exits_1() {
    let dir = Scratch::new("breaking");
    let old = dir.file("old.json", &v1());
    let new = dir.file(
        "new.json",
        &catalogue(vec![tool(
            "search",
            json!({"q": {"type": "string"}, "limit": {"type": "integer"}}),
            &["q", "limit"],
        )]),
    );
    let (code, out, _) = run(&[&old, &new]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("breaking   tools/search/inputSchema/properties/limit: new required argument"),
        "{out}"
    );
    assert!(
        out.contains("breaking   tools/stats: the tool was removed"),
        "{out}"
    );
    assert!(
        out.contains("2 change(s): 2 breaking, 0 compatible"),
        "{out}"
    );
}

#[test]
fn compatible_changes_exit_0() {
    let dir = Scratch::new("compatible");
    let mut bigger = v1();
    bigger["tools"]
        .as_array_mut()
        .expect("tools")
        .push(tool("export", json!({}), &[]));
    bigger["tools"][0]["inputSchema"]["properties"]["limit"] = json!({"type": "integer"});
    let (old, new) = (dir.file("old.json", &v1()), dir.file("new.json", &bigger));
    let (code, out, _) = run(&[&old, &new]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("compatible tools/export: new tool"), "{out}");
    assert!(
        out.contains("compatible tools/search/inputSchema/properties/limit: new optional argument"),
        "{out}"
    );
    // The other way round, the same changes break.
    let (code, _, _) = run(&[&new, &old]);
    assert_eq!(code, 1);
}

#[test]
fn no_change_exits_0() {
    let dir = Scratch::new("same");
    let old = dir.file("old.json", &v1());
    // Key order and formatting do not matter.
    let new = dir.0.join("new.json");
    std::fs::write(&new, v1().to_string()).expect("written");
    let (code, out, _) = run(&[&old, &new]);
    assert_eq!((code, out.trim()), (0, "no changes"));
}

#[test]
fn json_output() {
    let dir = Scratch::new("json");
    let old = dir.file("old.json", &v1());
    let new = dir.file("new.json", &catalogue(vec![]));
    let (code, out, _) = run(&[&"--json", &old, &new]);
    assert_eq!(code, 1);
    let changes: Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(
        changes,
        json!([
            {"kind": "breaking", "path": "tools/search", "message": "the tool was removed"},
            {"kind": "breaking", "path": "tools/stats", "message": "the tool was removed"}
        ])
    );
}

#[test]
fn a_saved_json_rpc_response_is_accepted() {
    let dir = Scratch::new("jsonrpc");
    let old = dir.file(
        "old.json",
        &json!({"jsonrpc": "2.0", "id": 1, "result": {"tools": v1()["tools"]}}),
    );
    let new = dir.file("new.json", &json!({"tools": v1()["tools"]}));
    let (code, out, err) = run(&[&old, &new]);
    assert_eq!((code, out.trim()), (0, "no changes"), "{err}");
}

#[test]
fn bad_input_exits_2() {
    let dir = Scratch::new("bad");
    let good = dir.file("good.json", &v1());
    let not_json = dir.0.join("not.json");
    std::fs::write(&not_json, "{").expect("written");
    let not_snapshot = dir.file("other.json", &json!({"hello": "world"}));
    let missing = dir.0.join("missing.json");
    for (args, expected) in [
        (
            vec![&good as &dyn AsRef<std::ffi::OsStr>],
            "expected two files, got 1",
        ),
        (vec![&good, &not_json], "is not JSON"),
        (vec![&good, &not_snapshot], "is not a schema snapshot"),
        (vec![&missing, &good], "cannot read"),
        (
            vec![&"--frobnicate", &good, &good],
            "unknown option --frobnicate",
        ),
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(expected), "{expected:?} missing from {err}");
        assert!(err.contains("usage: mcp-schema-diff"), "{err}");
    }
    let (code, out, _) = run(&[&"--help"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("usage: mcp-schema-diff"), "{out}");
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Query {
    /// What to look for.
    text: String,
    /// At most this many hits.
    limit: Option<u32>,
}

async fn search(Args(q): Args<Query>) -> String {
    q.text
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct QueryV2 {
    /// What to look for.
    text: String,
    /// At most this many hits.
    limit: u32,
}

async fn search_v2(Args(q): Args<QueryV2>) -> String {
    q.text
}

async fn write_snapshot_of(router: Router, path: &Path) {
    let client = TestClient::new(router).await.expect("connects");
    let schema = snapshot(&client).await.expect("snapshot");
    snapshot::write_snapshot(path, &schema).expect("written");
}

/// The whole CI story: snapshots of two versions of a real router, then the CLI.
#[tokio::test]
async fn snapshots_of_real_servers() {
    common::within(async {
        let dir = Scratch::new("servers");
        let (old, new) = (dir.0.join("v1.json"), dir.0.join("v2.json"));
        write_snapshot_of(
            Router::new().tool(ToolDef::new("search", search).description("Searches")),
            &old,
        )
        .await;
        write_snapshot_of(
            Router::new().tool(ToolDef::new("search", search_v2).description("Searches")),
            &new,
        )
        .await;
        let (code, out, _) = run(&[&old, &new]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("breaking   tools/search/inputSchema/properties/limit: type narrowed from integer or null to integer"),
            "{out}"
        );
        assert!(
            out.contains("breaking   tools/search/inputSchema/properties/limit: the argument is now required"),
            "{out}"
        );
    })
    .await
}
