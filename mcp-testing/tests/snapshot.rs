//! Schema snapshots of the fixture server, in both eras, and what a change to it looks like.

#[macro_use]
mod common;

use common::{client, Probe};
use mcp_core::{Args, Server, ToolDef};
use mcp_testing::schema_diff::{classify, ChangeKind};
use mcp_testing::snapshot::{self, Comparison, SNAPSHOT_ENV};
use mcp_testing::{assert_schema_snapshot, Era, TestClient};
use serde_json::{json, Value};

both_eras!(
    the_fixture_matches_its_committed_snapshot,
    lists_are_complete_and_sorted,
    a_changed_server_fails_with_a_diff_and_a_verdict,
    a_compatible_change_is_reported_as_such,
);

/// The committed snapshot, the same in both eras.
const COMMITTED: &str = "tests/snapshots/fixture.json";

fn overwriting() -> bool {
    std::env::var(SNAPSHOT_ENV).is_ok()
}

async fn the_fixture_matches_its_committed_snapshot(era: Era) {
    let client = client(era).await;
    assert_schema_snapshot!(client, COMMITTED);
}

async fn lists_are_complete_and_sorted(era: Era) {
    let client = client(era).await;
    let schema = mcp_testing::snapshot(&client).await.expect("snapshot");
    let names = |field: &str, key: &str| -> Vec<String> {
        schema[field]
            .as_array()
            .expect("a list")
            .iter()
            .map(|t| t[key].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let tools = names("tools", "name");
    let mut sorted = tools.clone();
    sorted.sort();
    assert_eq!(tools, sorted);
    assert_eq!(tools.len(), 11, "{tools:?}");
    assert_eq!(names("prompts", "name"), ["test_prompt_with_arguments"]);
    assert_eq!(names("resources", "uri"), ["test://static-text"]);
    assert_eq!(
        names("resourceTemplates", "uriTemplate"),
        ["test://template/{id}/data"]
    );
    let add_json = &schema["tools"][1];
    assert_eq!(add_json["name"], "add_json");
    assert!(add_json["outputSchema"].is_object(), "{add_json}");
    // The text is canonical: written and read back, it is the same.
    let text = snapshot::to_canonical_string(&schema);
    let back: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(snapshot::to_canonical_string(&back), text);
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Echo2 {
    /// The text to send back.
    text: String,
    /// How many times.
    times: u32,
}

async fn echo2(Args(e): Args<Echo2>) -> String {
    e.text.repeat(e.times as usize)
}

/// Compares `client` with a copy of the committed snapshot, so an overwrite run cannot touch
/// the real one.
async fn compare_with_copy(client: &TestClient, name: &str) -> Comparison {
    let dir = std::env::temp_dir().join(format!(
        "mcp-testing-snapshot-{name}-{}",
        std::process::id()
    ));
    let copy = dir.join("fixture.json");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    std::fs::copy(
        snapshot::resolve(env!("CARGO_MANIFEST_DIR"), COMMITTED),
        &copy,
    )
    .expect("the committed snapshot exists");
    let actual = mcp_testing::snapshot(client).await.expect("snapshot");
    let comparison = snapshot::compare(&copy, &actual).expect("readable");
    std::fs::remove_dir_all(&dir).expect("cleaned up");
    comparison
}

async fn a_changed_server_fails_with_a_diff_and_a_verdict(era: Era) {
    if overwriting() {
        return;
    }
    let server = Server::new(common::router(Probe::default()));
    let handle = server.handle();
    // `echo` gains a required argument; `boom` goes away.
    handle.add_tool(ToolDef::new("echo", echo2).description("Sends the text back"));
    handle.remove_tool("boom");
    let client = TestClient::builder(server)
        .era(era)
        .connect()
        .await
        .expect("connects");
    let Comparison::Differs { diff, changes } =
        compare_with_copy(&client, if era.is_modern() { "m" } else { "h" }).await
    else {
        panic!("the schema changed");
    };
    assert!(diff.contains("-      \"name\": \"boom\""), "{diff}");
    assert!(diff.contains("+          \"times\": {"), "{diff}");
    let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "breaking: tools/boom: the tool was removed",
            "breaking: tools/echo/inputSchema/properties/times: new required argument",
            "compatible: tools/echo/inputSchema: title changed",
        ]
    );

    // Through the macro: a panic whose message holds both.
    let path = std::env::temp_dir().join(format!(
        "mcp-testing-snapshot-macro-{}-{}.json",
        era.is_modern(),
        std::process::id()
    ));
    std::fs::copy(
        snapshot::resolve(env!("CARGO_MANIFEST_DIR"), COMMITTED),
        &path,
    )
    .expect("copied");
    let check = {
        let (client, path) = (client.clone(), path.clone());
        tokio::spawn(async move { assert_schema_snapshot!(client, &path) })
    };
    let panic = check.await.expect_err("the assertion fails").into_panic();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    std::fs::remove_file(&path).expect("cleaned up");
    for part in [
        "the server's schema differs from the snapshot at",
        "--- committed\n+++ actual\n@@",
        "breaking changes:\n  tools/boom: the tool was removed\n  tools/echo/inputSchema/properties/times: new required argument\n",
        "compatible changes:\n  tools/echo/inputSchema: title changed\n",
        "MCP_SNAPSHOT=overwrite",
    ] {
        assert!(message.contains(part), "{part:?} missing from:\n{message}");
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Ping {
    /// Anything.
    note: Option<String>,
}

async fn ping(Args(_): Args<Ping>) -> &'static str {
    "pong"
}

async fn a_compatible_change_is_reported_as_such(era: Era) {
    if overwriting() {
        return;
    }
    let server = Server::new(common::router(Probe::default()));
    server
        .handle()
        .add_tool(ToolDef::new("ping", ping).description("Pings"));
    let client = TestClient::builder(server)
        .era(era)
        .connect()
        .await
        .expect("connects");
    let Comparison::Differs { changes, .. } =
        compare_with_copy(&client, if era.is_modern() { "cm" } else { "ch" }).await
    else {
        panic!("the schema changed");
    };
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].kind, ChangeKind::Compatible);
    assert_eq!(changes[0].path, "tools/ping");
}

/// Two versions of a server, snapshotted in process: the classifier sees what changed.
#[tokio::test]
async fn snapshots_of_two_versions_classify() {
    common::within(async {
        let v1 = TestClient::new(common::router(Probe::default()))
            .await
            .expect("connects");
        let server = Server::new(common::router(Probe::default()));
        server.handle().remove_prompt("test_prompt_with_arguments");
        let v2 = TestClient::new(server).await.expect("connects");
        let (old, new) = (
            mcp_testing::snapshot(&v1).await.expect("v1"),
            mcp_testing::snapshot(&v2).await.expect("v2"),
        );
        assert_eq!(
            classify(&old, &new),
            classify(
                &old,
                &json!({"tools": old["tools"], "resources": old["resources"],
                "resourceTemplates": old["resourceTemplates"], "prompts": []})
            )
        );
        assert!(mcp_testing::schema_diff::is_breaking(&classify(&old, &new)));
        assert!(classify(&new, &old).iter().all(|c| !c.is_breaking()));
    })
    .await
}
