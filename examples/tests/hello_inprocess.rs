//! The README's quick start, `src/bin/hello.rs`, in process through `mcp-testing`, in both
//! protocol eras: `echo`, `add`, the overflow error, and the tools' schema against a snapshot.
//!
//! The quick start stays one self-contained file, so instead of moving it into the library the
//! test compiles the file itself (`include!`, via the copy `build.rs` makes without its inner
//! doc comment). Its `main` hands the router to `mcp_examples::run`; inside this module that
//! name is a stand-in that keeps the router instead of serving it, so the tests drive exactly
//! what `main` builds.

use mcp_core::jsonrpc::ErrorCode;
use mcp_testing::{assert_schema_snapshot, CallToolResultExt, TestClient, ERAS};
use serde_json::json;

mod hello {
    /// What `main` calls as `mcp_examples::run` (the module shadows the library's name here).
    mod mcp_examples {
        use std::cell::RefCell;

        thread_local! {
            pub(super) static SERVED: RefCell<Option<mcp_core::Router>> = const { RefCell::new(None) };
        }

        pub(super) fn run(router: mcp_core::Router) -> std::io::Result<()> {
            SERVED.with(|served| *served.borrow_mut() = Some(router));
            Ok(())
        }
    }

    include!(concat!(env!("OUT_DIR"), "/hello.rs"));

    /// The router the quick start's `main` serves.
    pub(crate) fn router() -> mcp_core::Router {
        main().expect("main runs");
        mcp_examples::SERVED
            .with(|served| served.borrow_mut().take())
            .expect("main handed its router to mcp_examples::run")
    }
}

async fn client(era: mcp_testing::Era) -> TestClient {
    TestClient::builder(hello::router())
        .era(era)
        .connect()
        .await
        .expect("connected")
}

#[tokio::test]
async fn echo_sends_the_text_back_in_both_eras() {
    for era in ERAS {
        let c = client(era).await;
        c.call("echo", json!({"text": "hello, MCP"}))
            .await
            .expect_text("hello, MCP");
        c.call("echo", json!({"text": ""})).await.expect_text("");
        // The argument is required and typed; the model is told so and may try again.
        for (bad, why) in [
            (json!({}), "missing field `text`"),
            (json!({"text": 7}), "`text`: invalid type"),
        ] {
            let refused = c.call("echo", bad).await.expect_is_error();
            let text = refused.text_content();
            assert!(
                text.starts_with("invalid arguments: ") && text.contains(why),
                "{era:?}: {text}"
            );
        }
    }
}

#[tokio::test]
async fn add_adds_and_reports_overflow_as_a_tool_error_in_both_eras() {
    for era in ERAS {
        let c = client(era).await;
        c.call("add", json!({"a": 40, "b": 2}))
            .await
            .expect_text("42");
        c.call("add", json!({"a": -5, "b": 3}))
            .await
            .expect_text("-2");
        let overflow = c
            .call("add", json!({"a": i64::MAX, "b": 1}))
            .await
            .expect_is_error();
        assert_eq!(overflow.text_content(), "the sum overflows", "{era:?}");
        let fraction = c
            .call("add", json!({"a": 1.5, "b": 2}))
            .await
            .expect_is_error();
        assert!(
            fraction.text_content().contains("expected i64"),
            "{era:?}: {}",
            fraction.text_content()
        );
        // A tool that does not exist is a protocol error, not a tool result.
        c.call("subtract", json!({"a": 1, "b": 2}))
            .await
            .expect_error_code(ErrorCode::INVALID_PARAMS);
    }
}

#[tokio::test]
async fn tools_list_matches_the_snapshot_in_both_eras() {
    for era in ERAS {
        let c = client(era).await;
        let tools = c.list_tools().await.expect("tools/list");
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["echo", "add"], "{era:?}");
        for tool in &tools {
            let read_only = tool.annotations.as_ref().and_then(|a| a.read_only_hint);
            assert_eq!(read_only, Some(true), "{} is read-only", tool.name);
        }
        // Names, descriptions, schemas and annotations: the API clients and models rely on.
        assert_schema_snapshot!(c, "tests/snapshots/hello.json");
    }
}
