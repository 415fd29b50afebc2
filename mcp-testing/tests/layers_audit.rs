//! The audit log: one record per operation whatever its outcome, a hash chain that breaks at
//! the first record edited, deleted or moved, and the failure policies.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use mcp_core::identity::Identity;
use mcp_core::layers::audit::{
    verify, verify_file, verify_with, AuditLog, AuditRecord, Break, ChainHead, JsonLinesFile,
    MemorySink, VerifyOptions,
};
use mcp_core::layers::{
    AuditLayer, CatchPanicLayer, Outcome, Quota, RateLimitLayer, TimeoutLayer, UNAVAILABLE,
};
use mcp_core::server::{McpRequest, McpResponse};
use mcp_core::{Args, PromptDef, ResourceDef, Router, Server, ToolDef, ToolError};
use mcp_testing::{Era, RequestOptions, TestClient, ERAS};
use serde_json::json;
use tokio::sync::Notify;

async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("the test did not finish within 60 s")
}

/// A middleware that panics for one tool: the audit record of that call says `panicked`.
#[derive(Clone)]
struct PanicFor<S>(S);

impl<S> mcp_core::layers::Service<McpRequest> for PanicFor<S>
where
    S: mcp_core::layers::Service<McpRequest, Response = McpResponse, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: McpRequest) -> Self::Future {
        let explode = req.target() == Some("middleware_boom");
        let fut = self.0.call(req);
        Box::pin(async move {
            tokio::task::yield_now().await;
            assert!(!explode, "a middleware panics on purpose");
            fut.await
        })
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Login {
    user: String,
    #[allow(dead_code)]
    password: String,
}

fn router(started: Arc<Notify>) -> Router {
    async fn ok(Args(l): Args<Login>) -> String {
        format!("welcome {}", l.user)
    }
    async fn fail() -> Result<String, ToolError> {
        Err(ToolError::new("no such row"))
    }
    async fn boom() -> String {
        panic!("this tool panics on purpose")
    }
    async fn slow() -> String {
        tokio::time::sleep(Duration::from_secs(10)).await;
        "late".into()
    }
    let hang = move || {
        let started = started.clone();
        async move {
            started.notify_one();
            std::future::pending::<()>().await;
            String::new()
        }
    };
    async fn page() -> String {
        "contents".into()
    }
    async fn greeting() -> String {
        "hello".into()
    }
    Router::new()
        .tool(ToolDef::new("ok", ok))
        .tool(ToolDef::new("fail", fail))
        .tool(ToolDef::new("boom", boom))
        .tool(ToolDef::new("admin", greeting).scopes(["admin"]))
        .tool(ToolDef::new("limited", greeting))
        .tool(ToolDef::new("slow", slow).timeout(Duration::from_secs(1)))
        .tool(ToolDef::new("slow_by_layer", slow))
        .tool(ToolDef::new("hang", hang))
        .tool(ToolDef::new("middleware_boom", greeting))
        .resource(ResourceDef::new("test://page", "page", page))
        .prompt(PromptDef::new("greeting", greeting))
}

/// The recommended stack, with a middleware that can panic inside the audit layer.
fn server(log: AuditLog, started: Arc<Notify>) -> Server {
    Server::new(router(started))
        .layer(TimeoutLayer::per_tool_only().tool("slow_by_layer", Duration::from_secs(2)))
        .layer(
            RateLimitLayer::new()
                .per_client(Quota::per_minute(20))
                .per_tool("limited", Quota::per_minute(1)),
        )
        .layer(mcp_core::layers::layer_fn(PanicFor))
        .layer(AuditLayer::new(log))
        .layer(CatchPanicLayer::new())
}

async fn connect(server: &Server, era: Era, who: &str) -> TestClient {
    let client = TestClient::builder(server.clone())
        .era(era)
        .connect()
        .await
        .expect("connects");
    client
        .connection()
        .set_default_identity(Some(Identity::new(who)));
    client
}

/// Every outcome once (or more), in one era; returns the expected outcome per target.
async fn run_every_outcome(era: Era, sink: &MemorySink) -> Vec<(String, Outcome)> {
    let started = Arc::new(Notify::new());
    let log = AuditLog::builder(sink.clone()).build().expect("opens");
    let server = server(log, started.clone());
    let client = connect(&server, era, "alice").await;
    let mut expected = Vec::new();
    let mut expect = |target: &str, outcome| expected.push((target.to_owned(), outcome));

    let r = client
        .call_tool("ok", json!({"user": "ada", "password": "hunter2"}))
        .await
        .expect("as expected");
    assert!(!r.is_error());
    expect("ok", Outcome::Ok);
    assert!(client
        .call_tool("fail", ())
        .await
        .expect("as expected")
        .is_error());
    expect("fail", Outcome::ToolError);
    assert!(client
        .call_tool("boom", ())
        .await
        .expect("as expected")
        .is_error());
    expect("boom", Outcome::Panicked);
    let denied = client.call_tool("admin", ()).await.expect_err("an error");
    assert_eq!(denied.code(), Some(mcp_core::jsonrpc::ErrorCode::FORBIDDEN));
    expect("admin", Outcome::Denied);
    assert!(!client
        .call_tool("limited", ())
        .await
        .expect("as expected")
        .is_error());
    expect("limited", Outcome::Ok);
    assert!(client
        .call_tool("limited", ())
        .await
        .expect("as expected")
        .is_error());
    expect("limited", Outcome::RateLimited);
    let start = tokio::time::Instant::now();
    assert!(client
        .call_tool("slow", ())
        .await
        .expect("as expected")
        .is_error());
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    expect("slow", Outcome::TimedOut);
    assert!(client
        .call_tool("slow_by_layer", ())
        .await
        .expect("as expected")
        .is_error());
    expect("slow_by_layer", Outcome::TimedOut);
    let e = client
        .call_tool("middleware_boom", ())
        .await
        .expect_err("an error");
    assert_eq!(
        e.rpc().and_then(|e| e.data.as_ref()).expect("as expected")["reason"],
        "panicked"
    );
    expect("middleware_boom", Outcome::Panicked);
    assert!(client.call_tool("no_such_tool", ()).await.is_err());
    expect("no_such_tool", Outcome::Error);
    client
        .read_resource("test://page")
        .await
        .expect("as expected");
    expect("test://page", Outcome::Ok);
    client
        .get_prompt("greeting", ())
        .await
        .expect("as expected");
    expect("greeting", Outcome::Ok);
    // Listing is not an operation: no record.
    client.list_tools().await.expect("as expected");

    let call = client
        .start_call_tool("hang", (), RequestOptions::new())
        .expect("as expected");
    started.notified().await;
    call.cancel().expect("as expected");
    assert!(call
        .response()
        .await
        .expect_err("an error")
        .is_no_response());
    expect("hang", Outcome::Cancelled);

    // A greedy caller runs into the client limit (20 a minute).
    let greedy = connect(&server, era, "greedy").await;
    for _ in 0..20 {
        assert!(!greedy
            .call_tool("ok", json!({"user": "g", "password": "p"}))
            .await
            .expect("as expected")
            .is_error());
        expect("ok", Outcome::Ok);
    }
    let limited = greedy
        .call_tool("ok", json!({"user": "g", "password": "p"}))
        .await
        .expect_err("an error");
    assert_eq!(limited.code(), Some(mcp_core::layers::RATE_LIMITED));
    expect("ok", Outcome::RateLimited);

    // The cancelled call's record is written when its future is dropped.
    for _ in 0..100 {
        if sink.lines().len() >= expected.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    expected
}

#[tokio::test(start_paused = true)]
async fn every_outcome_yields_exactly_one_record() {
    for era in ERAS {
        within(async {
            let sink = MemorySink::new();
            let expected = run_every_outcome(era, &sink).await;
            // Give any stray record the chance to appear.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let records: Vec<AuditRecord> = sink
                .lines()
                .iter()
                .map(|l| AuditRecord::parse(l).expect("a record"))
                .collect();
            let mut want: BTreeMap<(String, &str), usize> = BTreeMap::new();
            for (target, outcome) in &expected {
                *want.entry((target.clone(), outcome.as_str())).or_default() += 1;
            }
            let mut got: BTreeMap<(String, &str), usize> = BTreeMap::new();
            for r in &records {
                let key = (
                    r.target.clone().unwrap_or_default(),
                    r.outcome().unwrap().as_str(),
                );
                *got.entry(key).or_default() += 1;
            }
            assert_eq!(got, want, "{era:?}");
            assert_eq!(records.len(), expected.len());
            for outcome in [
                Outcome::Ok,
                Outcome::ToolError,
                Outcome::Denied,
                Outcome::RateLimited,
                Outcome::TimedOut,
                Outcome::Panicked,
                Outcome::Cancelled,
                Outcome::Error,
            ] {
                assert!(
                    records.iter().any(|r| r.outcome() == Some(outcome)),
                    "{outcome:?}"
                );
            }

            // What a record holds.
            let first = &records[0];
            assert_eq!(first.operation, "tools/call");
            assert_eq!(first.identity.as_deref(), Some("alice"));
            let args = first.arguments.as_ref().unwrap();
            assert_eq!(args["user"], "ada");
            assert_eq!(args["password"], "[REDACTED]");
            assert!(
                !sink.text().contains("hunter2"),
                "secrets never reach the log"
            );
            assert!(
                first.ts.ends_with('Z') && first.ts.len() == 24,
                "{}",
                first.ts
            );
            let slow = records
                .iter()
                .find(|r| r.target.as_deref() == Some("slow"))
                .unwrap();
            assert!(
                (1000.0..1100.0).contains(&slow.duration_ms),
                "{}",
                slow.duration_ms
            );
            let denied = records
                .iter()
                .find(|r| r.outcome() == Some(Outcome::Denied))
                .unwrap();
            assert_eq!(denied.error_code, Some(-31403));
            let read = records
                .iter()
                .find(|r| r.operation == "resources/read")
                .unwrap();
            assert_eq!(read.target.as_deref(), Some("test://page"));
            assert!(records.iter().any(|r| r.operation == "prompts/get"));

            // The chain is intact and continues across a restart.
            let head = verify(sink.text().as_bytes()).expect("an untouched log verifies");
            assert_eq!(head.records, records.len() as u64);
            assert_eq!(head.hash, records.last().unwrap().hash);
        })
        .await
    }
}

/// The log with `edit` applied to its lines.
fn tampered(lines: &[String], edit: impl FnOnce(&mut Vec<String>)) -> String {
    let mut lines = lines.to_vec();
    edit(&mut lines);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[tokio::test(start_paused = true)]
async fn any_edit_deletion_or_reordering_breaks_the_chain_at_that_record() {
    within(async {
        let sink = MemorySink::new();
        run_every_outcome(ERAS[0], &sink).await;
        let lines = sink.lines();
        let n = lines.len();
        assert!(n > 30, "{n} records");
        let head = verify(sink.text().as_bytes()).unwrap();
        let strict = VerifyOptions::default().expect_head(head.clone());
        assert_eq!(verify_with(sink.text().as_bytes(), &strict).unwrap(), head);

        for i in 0..n {
            let line = u64::try_from(i).unwrap() + 1;
            // Edit: one changed character in the outcome.
            let edited = tampered(&lines, |l| {
                l[i] = l[i].replacen("\"outcome\":\"", "\"outcome\":\"x", 1)
            });
            let err = verify(edited.as_bytes()).unwrap_err();
            assert_eq!(
                (err.line, &err.reason),
                (line, &Break::HashMismatch),
                "edit {i}"
            );

            // Deletion: the record after it no longer follows; the last one is missed only
            // by a chain head kept elsewhere.
            let deleted = tampered(&lines, |l| {
                l.remove(i);
            });
            let err = verify_with(deleted.as_bytes(), &strict).unwrap_err();
            assert_eq!(err.line, line, "deletion {i}: {err}");
            if i + 1 < n {
                assert!(matches!(err.reason, Break::PrevMismatch { .. }), "{err}");
            } else {
                assert!(matches!(err.reason, Break::HeadMismatch { .. }), "{err}");
            }

            // Reordering: swap with the next record.
            if i + 1 < n {
                let swapped = tampered(&lines, |l| l.swap(i, i + 1));
                let err = verify(swapped.as_bytes()).unwrap_err();
                assert_eq!(err.line, line, "swap {i}: {err}");
                assert!(matches!(err.reason, Break::PrevMismatch { .. }), "{err}");
            }
        }

        // An untouched copy still verifies, and so does a log that continues another.
        assert!(verify(sink.text().as_bytes()).is_ok());
        let tail = tampered(&lines, |l| {
            l.drain(..10);
        });
        let at_ten = ChainHead {
            records: 10,
            hash: AuditRecord::parse(&lines[9]).unwrap().hash,
        };
        assert!(verify_with(
            tail.as_bytes(),
            &VerifyOptions::default().start_after(at_ten)
        )
        .is_ok());
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn failing_closed_refuses_and_failing_open_counts() {
    within(async {
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = {
            let ran = ran.clone();
            move || {
                let ran = ran.clone();
                async move {
                    ran.fetch_add(1, Ordering::SeqCst);
                    "done"
                }
            }
        };
        let make = |log: AuditLog| {
            Server::new(Router::new().tool(ToolDef::new("t", counted.clone())))
                .layer(AuditLayer::new(log))
        };

        // Fail closed (the default).
        let sink = MemorySink::new();
        let log = AuditLog::builder(sink.clone()).build().unwrap();
        let client = TestClient::new(make(log.clone())).await.unwrap();
        assert!(!client.call_tool("t", ()).await.unwrap().is_error());
        sink.set_failing(true);
        // The record cannot be written: the result is withheld.
        let e = client.call_tool("t", ()).await.unwrap_err();
        assert_eq!(e.code(), Some(UNAVAILABLE));
        assert_eq!(
            e.rpc().unwrap().data.as_ref().unwrap()["reason"],
            "audit_unavailable"
        );
        assert_eq!(ran.load(Ordering::SeqCst), 2);
        assert!(!log.is_healthy());
        // While the sink fails, nothing runs.
        let e = client.call_tool("t", ()).await.unwrap_err();
        assert_eq!(e.code(), Some(UNAVAILABLE));
        assert_eq!(ran.load(Ordering::SeqCst), 2, "refused before running");
        sink.set_failing(false);
        assert!(!client.call_tool("t", ()).await.unwrap().is_error());
        assert!(log.is_healthy());
        assert_eq!(ran.load(Ordering::SeqCst), 3);
        let head = verify(sink.text().as_bytes()).expect("the chain skips nothing it wrote");
        assert_eq!(head.records, 2);

        // Fail open: served, and the loss is counted.
        let metrics = mcp_core::layers::Metrics::new();
        let sink = MemorySink::new();
        let log = AuditLog::builder(sink.clone())
            .fail_open()
            .metrics(&metrics)
            .build()
            .unwrap();
        let client = TestClient::new(make(log.clone())).await.unwrap();
        sink.set_failing(true);
        for _ in 0..3 {
            assert!(!client.call_tool("t", ()).await.unwrap().is_error());
        }
        assert_eq!(log.dropped(), 3);
        assert!(metrics
            .render()
            .contains("mcp_audit_dropped_records_total 3\n"));
        sink.set_failing(false);
        assert!(!client.call_tool("t", ()).await.unwrap().is_error());
        assert_eq!(verify(sink.text().as_bytes()).unwrap().records, 1);
    })
    .await
}

#[tokio::test]
async fn a_file_log_continues_its_chain_after_a_restart() {
    within(async {
        let dir = std::env::temp_dir().join(format!("mcp-layers-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.jsonl");
        let _ = std::fs::remove_file(&path);
        async fn hi() -> &'static str {
            "hi"
        }
        for _ in 0..2 {
            let log = AuditLog::builder(JsonLinesFile::open(&path).unwrap().sync_each(true))
                .build()
                .unwrap();
            let server = Server::new(Router::new().tool_fn("hi", hi)).layer(AuditLayer::new(log));
            let client = TestClient::new(server).await.unwrap();
            for _ in 0..3 {
                client.call_tool("hi", ()).await.unwrap();
            }
        }
        let head = verify_file(&path, &VerifyOptions::default()).unwrap();
        assert_eq!(head.records, 6);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("\"hi\"", "\"ho\"", 1)).unwrap();
        let err = verify_file(&path, &VerifyOptions::default()).unwrap_err();
        assert_eq!(err.line, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    })
    .await
}
