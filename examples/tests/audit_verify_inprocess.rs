//! audit-verify's logic (`mcp_examples::audit::run`) in process, on a real audit log: a server
//! behind `mcp_core::layers::AuditLayer` is called through `mcp-testing` in both protocol eras,
//! then its log is checked as written, with its head, rotated, and tampered with — an edited
//! record, a deleted one, a truncated tail — and with bad usage.

use std::path::{Path, PathBuf};

use mcp_core::layers::audit::{AuditLog, ChainHead, JsonLinesFile};
use mcp_core::layers::AuditLayer;
use mcp_core::{Args, Router, Server, ToolDef};
use mcp_examples::audit::{run, BROKEN, INTACT, UNUSABLE};
use mcp_testing::{TestClient, ERAS};
use serde_json::{json, Value};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Note {
    text: String,
}

async fn note(Args(Note { text }): Args<Note>) -> String {
    format!("noted: {text}")
}

/// A scratch file that is removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Scratch(std::env::temp_dir().join(format!(
            "audit-verify-{name}-{}-{nanos}.jsonl",
            std::process::id()
        )))
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn arg(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes a log of three calls in each era; returns the chain head the server kept.
async fn write_log(file: &Scratch) -> ChainHead {
    let log = AuditLog::builder(JsonLinesFile::open(file.path()).expect("open the log"))
        .build()
        .expect("an audit log");
    let router = Router::new().tool(ToolDef::new("note", note).description("Takes a note"));
    let server = Server::new(router).layer(AuditLayer::new(log.clone()));
    for era in ERAS {
        let client = TestClient::builder(server.clone())
            .era(era)
            .connect()
            .await
            .expect("connected");
        for text in ["first", "second", "third"] {
            client
                .call("note", json!({"text": text}))
                .await
                .expect_text(&format!("noted: {text}"));
        }
    }
    log.head()
}

/// `audit-verify ARGS…`: the exit status, stdout and stderr.
fn verify(args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = run(args.iter().map(|a| a.to_string()), &mut out, &mut err);
    (
        status,
        String::from_utf8(out).expect("UTF-8"),
        String::from_utf8(err).expect("UTF-8"),
    )
}

fn lines(file: &Scratch) -> Vec<String> {
    std::fs::read_to_string(file.path())
        .expect("the log")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(file: &Scratch, lines: &[String]) {
    std::fs::write(file.path(), lines.join("\n") + "\n").expect("write the log");
}

#[tokio::test]
async fn a_log_as_written_is_intact_and_ends_at_the_servers_head() {
    let file = Scratch::new("good");
    let head = write_log(&file).await;
    assert_eq!(head.records, 6, "three calls in each era");
    let records = lines(&file);
    assert_eq!(records.len(), 6);
    let last: Value = serde_json::from_str(&records[5]).expect("JSON");
    assert_eq!(last["hash"], head.hash.as_str());

    let (status, out, err) = verify(&[&file.arg()]);
    assert_eq!(status, INTACT, "{out}{err}");
    assert_eq!(
        out,
        format!("ok: {}: 6 records, head {}\n", file.arg(), head.hash)
    );
    assert!(err.is_empty(), "{err}");

    // The head kept elsewhere matches…
    let records_arg = head.records.to_string();
    let (status, out, _) = verify(&[
        "--expect-records",
        &records_arg,
        "--expect-hash",
        &head.hash,
        &file.arg(),
    ]);
    assert_eq!(status, INTACT, "{out}");
}

#[tokio::test]
async fn a_rotated_log_continues_the_chain_it_names() {
    let file = Scratch::new("rotated");
    write_log(&file).await;
    let records = lines(&file);
    let (first, second) = records.split_at(4);
    let first_hash = serde_json::from_str::<Value>(&first[3]).expect("JSON")["hash"]
        .as_str()
        .expect("hash")
        .to_owned();
    let rotated = Scratch::new("rotated-2");
    write_lines(&rotated, second);

    let (status, out, _) = verify(&[
        "--after-records",
        "4",
        "--after-hash",
        &first_hash,
        &rotated.arg(),
    ]);
    assert_eq!(status, INTACT, "{out}");
    assert!(
        out.starts_with(&format!("ok: {}: 6 records", rotated.arg())),
        "{out}"
    );
    // On its own the second file does not start a chain.
    let (status, out, _) = verify(&[&rotated.arg()]);
    assert_eq!(status, BROKEN, "{out}");
}

#[tokio::test]
async fn tampering_is_found_at_the_first_record_touched() {
    let file = Scratch::new("tampered");
    let head = write_log(&file).await;
    let original = lines(&file);

    // An edited argument: the record's own hash no longer matches (line 3, seq 2).
    let mut edited = original.clone();
    assert!(edited[2].contains("third"));
    edited[2] = edited[2].replace("third", "THIRD");
    write_lines(&file, &edited);
    let (status, out, err) = verify(&[&file.arg()]);
    assert_eq!(status, BROKEN, "{out}{err}");
    assert!(
        out.starts_with(&format!("broken: {}: line 3 (seq 2): ", file.arg())),
        "{out}"
    );

    // A deleted record: the next one no longer follows on.
    let mut deleted = original.clone();
    deleted.remove(1);
    write_lines(&file, &deleted);
    let (status, out, _) = verify(&[&file.arg()]);
    assert_eq!(status, BROKEN, "{out}");
    assert!(out.contains(": line 2"), "{out}");

    // A truncated tail is invisible to the chain alone, but not to the head kept elsewhere.
    write_lines(&file, &original[..5]);
    let (status, out, _) = verify(&[&file.arg()]);
    assert_eq!(status, INTACT, "{out}");
    let records_arg = head.records.to_string();
    let (status, out, _) = verify(&[
        "--expect-records",
        &records_arg,
        "--expect-hash",
        &head.hash,
        &file.arg(),
    ]);
    assert_eq!(status, BROKEN, "{out}");
    assert!(out.starts_with("broken: "), "{out}");
}

#[test]
fn bad_usage_and_unreadable_files_are_status_2() {
    let (status, out, err) = verify(&[]);
    assert_eq!((status, out.as_str()), (UNUSABLE, ""));
    assert!(err.starts_with("usage: audit-verify"), "{err}");

    let (status, _, err) = verify(&["--expect-records", "3", "log.jsonl"]);
    assert_eq!(status, UNUSABLE);
    assert!(
        err.contains("give both --expect-records and --expect-hash"),
        "{err}"
    );

    let (status, _, err) = verify(&["--after-records", "many", "log.jsonl"]);
    assert_eq!(status, UNUSABLE);
    assert!(err.contains("takes a record count"), "{err}");

    let (status, _, err) = verify(&["a.jsonl", "b.jsonl"]);
    assert_eq!(status, UNUSABLE);
    assert!(err.contains("give one file"), "{err}");

    let missing = Scratch::new("missing");
    let (status, out, err) = verify(&[&missing.arg()]);
    assert_eq!(status, UNUSABLE, "{out}");
    assert!(
        err.starts_with(&format!("audit-verify: {}: ", missing.arg())),
        "{err}"
    );
}
