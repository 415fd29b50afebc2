//! postgres-server in process, through the SDK's test client (`mcp-testing`), in both protocol
//! eras: every tool, resource, template, completion and prompt, the attacks, and `execute`
//! confirmed, declined and replayed. The server is `mcp_examples::postgres`, the library the
//! binary runs; the database is the throwaway cluster of `.ci/postgres` (or `DATABASE_URL`).

#[path = "postgres/support.rs"]
mod support;

use std::time::Duration;

use mcp_core::protocol::{CompletionReference, ElicitResult};
use mcp_core::Router;
use mcp_examples::postgres::{self, Config};
use mcp_testing::{reply, CallToolResultExt, Era, TestClient, ERAS};
use serde_json::{json, Value};

/// Every test finishes within this.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

async fn router(args: &[&str]) -> Router {
    let url = support::database_url().to_owned();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let config = Config::parse(args, move |k| (k == "DATABASE_URL").then(|| url.clone()))
        .expect("valid configuration");
    let db = postgres::connect(&config).await.expect("the server starts");
    postgres::router(db, config)
}

async fn client(
    era: Era,
    args: &[&str],
    elicit: impl Fn() -> ElicitResult + Send + Sync + 'static,
) -> TestClient {
    TestClient::builder(router(args).await)
        .era(era)
        .on_elicit(move |_| elicit())
        .connect()
        .await
        .expect("connected")
}

async fn ok(c: &TestClient, tool: &str, args: Value) -> Value {
    let r = c.call_tool(tool, args.clone()).await.expect("tools/call");
    assert!(!r.is_error(), "{tool} {args} failed: {}", r.text_content());
    r.structured_content.expect("structuredContent")
}

async fn err(c: &TestClient, tool: &str, args: Value) -> String {
    let r = c.call_tool(tool, args.clone()).await.expect("tools/call");
    assert!(r.is_error(), "{tool} {args} should have failed");
    r.text_content()
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{tag}-{}-{nanos}", std::process::id())
}

async fn with_timeout(f: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, f)
        .await
        .expect("the test timed out");
}

#[tokio::test]
async fn everything_a_client_can_reach_in_both_eras() {
    with_timeout(async {
        for era in ERAS {
            let c = client(era, &[], reply::decline).await;
            let tools: Vec<String> = c
                .list_tools()
                .await
                .expect("tools")
                .into_iter()
                .map(|t| t.name)
                .collect();
            assert_eq!(
                tools,
                [
                    "query",
                    "list_tables",
                    "describe_table",
                    "explain",
                    "execute"
                ]
            );

            let r = ok(
                &c,
                "query",
                json!({"sql": "SELECT count(*) AS n, sum(price) AS total FROM shop.products"}),
            )
            .await;
            assert_eq!(r["rows"], json!([[20, "682.50"]]), "{era:?}");

            let t = ok(&c, "list_tables", json!({"schema": "shop"})).await;
            assert!(t["tables"].as_array().expect("tables").len() >= 6);
            let d = ok(
                &c,
                "describe_table",
                json!({"schema": "shop", "table": "products"}),
            )
            .await;
            assert_eq!(d["columns"][3]["type"], "numeric(10,2)");
            let p = ok(&c, "explain", json!({"sql": "SELECT * FROM shop.products"})).await;
            assert!(p["plan"][0]["Plan"]["Node Type"].is_string());

            let resources = c.list_resources().await.expect("resources");
            assert_eq!(resources[0].uri, "postgres://tables");
            let templates = c.list_resource_templates().await.expect("templates");
            assert_eq!(
                templates[0].uri_template,
                "postgres://{schema}/{table}/schema"
            );
            let read = c
                .read_resource("postgres://shop/orders/schema")
                .await
                .expect("read");
            assert_eq!(read.contents[0].uri(), "postgres://shop/orders/schema");

            let schemas = c
                .complete(
                    CompletionReference::Resource {
                        uri: "postgres://{schema}/{table}/schema".into(),
                    },
                    "schema",
                    "sh",
                )
                .await
                .expect("complete");
            assert_eq!(schemas.values, ["shop"]);
            let tables = c
                .request(
                    "completion/complete",
                    json!({"ref": {"type": "ref/prompt", "name": "explore_table"},
                           "argument": {"name": "table", "value": "order_"},
                           "context": {"arguments": {"schema": "shop"}}}),
                )
                .await
                .expect("complete");
            assert_eq!(
                tables["completion"]["values"],
                json!(["order_lines", "order_totals"])
            );

            let prompts: Vec<String> = c
                .list_prompts()
                .await
                .expect("prompts")
                .into_iter()
                .map(|p| p.name)
                .collect();
            assert_eq!(prompts, ["explore_table", "write_query"]);
            let g = c
                .get_prompt(
                    "write_query",
                    json!({"question": "Revenue per country?", "schema": "shop"}),
                )
                .await
                .expect("prompt");
            assert_eq!(g.messages.len(), 1);
            let g = c
                .get_prompt(
                    "explore_table",
                    json!({"schema": "shop", "table": "products"}),
                )
                .await
                .expect("prompt");
            assert_eq!(g.messages.len(), 2);
        }
    })
    .await;
}

#[tokio::test]
async fn attacks_are_refused_in_both_eras() {
    with_timeout(async {
        let url = support::database_url();
        for era in ERAS {
            let c = client(era, &["--statement-timeout-ms", "1000"], reply::decline).await;
            for (sql, expect) in [
                (
                    "SELECT 1; COMMIT; DROP TABLE shop.orders",
                    "multiple commands",
                ),
                ("EXPLAIN ANALYZE DELETE FROM shop.orders", "read-only"),
                (
                    "WITH d AS (DELETE FROM shop.order_lines RETURNING *) SELECT * FROM d",
                    "read-only",
                ),
                ("SET TRANSACTION READ WRITE", "before any query"),
                (
                    "COPY (SELECT 1) TO PROGRAM 'id'",
                    "pg_execute_server_program",
                ),
                ("SELECT pg_read_file('/etc/passwd')", "permission denied"),
                ("SELECT lo_import('/etc/passwd')", "permission denied"),
                (
                    "SELECT nextval('shop.orders_id_seq')",
                    "read-only|permission denied",
                ),
                ("SELECT pg_sleep(600)", "statement timeout"),
            ] {
                let e = err(&c, "query", json!({"sql": sql})).await;
                assert!(
                    expect.split('|').any(|x| e.contains(x)),
                    "{era:?} {sql}: {e}"
                );
            }
            let r = ok(
                &c,
                "query",
                json!({"sql": "SELECT generate_series(1, 10000000)", "page_size": 50}),
            )
            .await;
            assert_eq!(r["rowCount"], 50);
            assert_eq!(r["hasMore"], true);
        }
        support::assert_intact(url);
    })
    .await;
}

#[tokio::test]
async fn execute_is_scoped_confirmed_and_idempotent_in_both_eras() {
    with_timeout(async {
        let url = support::database_url();
        for era in ERAS {
            let insert = |note: &str, key: &str| {
                json!({"sql": "INSERT INTO shop.audit_log (note) VALUES ($1)", "params": [note], "idempotency_key": key})
            };
            let count = |note: &str| {
                support::psql(url, &format!("SELECT count(*) FROM shop.audit_log WHERE note = '{note}'"))
            };

            // No scope: refused.
            let c = client(era, &[], || reply::accept(json!({"confirm": true}))).await;
            let note = unique("inproc-noscope");
            let e = err(&c, "execute", insert(&note, &unique("k"))).await;
            assert!(e.contains("postgres:write"), "{e}");
            assert_eq!(count(&note), "0");

            // Confirmed: written once, however often it is retried.
            let c = client(era, &["--allow-writes"], || reply::accept(json!({"confirm": true}))).await;
            let note = unique("inproc-yes");
            let key = unique("k");
            let r = ok(&c, "execute", insert(&note, &key)).await;
            assert_eq!(r["status"], "committed", "{era:?}");
            let r = ok(&c, "execute", insert(&note, &key)).await;
            assert_eq!(r["status"], "already_committed", "{era:?}");
            assert_eq!(count(&note), "1");

            // Dry run: nothing changes.
            let r = ok(
                &c,
                "execute",
                json!({"sql": "DELETE FROM shop.order_lines", "dry_run": true, "idempotency_key": unique("k")}),
            )
            .await;
            assert_eq!(r["status"], "dry_run");
            assert_eq!(r["rowsAffected"], 600);

            // Declined: nothing written.
            let c = client(era, &["--allow-writes"], reply::decline).await;
            let note = unique("inproc-no");
            let r = ok(&c, "execute", insert(&note, &unique("k"))).await;
            assert_eq!(r["status"], "declined", "{era:?}");
            assert_eq!(count(&note), "0");
        }
        support::assert_intact(url);
    })
    .await;
}
