//! The postgres-server example against a real PostgreSQL: every tool, resource, prompt and
//! completion, the attacks a read-only SQL tool must survive, the write tool's guarantees, least
//! privilege, and recovery.
//!
//! `.ci/postgres` provisions a throwaway cluster (once per test binary; it is stopped when this
//! process exits). `DATABASE_URL` set by the user is used instead. The server runs as a real
//! process over stdio.

#[path = "postgres/support.rs"]
mod support;

use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

fn unique(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{tag}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

// ---- tools, resources, prompts, completions ------------------------------------------

#[test]
fn tools_are_listed_with_their_annotations() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let r = s.request("tools/list", json!({}));
    let tools = r["result"]["tools"].as_array().expect("tools").clone();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "query",
            "list_tables",
            "describe_table",
            "explain",
            "execute"
        ]
    );
    for t in &tools {
        assert!(t["description"].as_str().is_some_and(|d| d.len() > 20));
        assert!(
            t["outputSchema"].is_object(),
            "{} has no outputSchema",
            t["name"]
        );
    }
    let execute = &tools[4];
    assert_eq!(execute["annotations"]["destructiveHint"], true);
    assert_eq!(execute["annotations"]["readOnlyHint"], false);
    assert_eq!(tools[0]["annotations"]["readOnlyHint"], true);
    let required = execute["inputSchema"]["required"]
        .as_array()
        .expect("required");
    assert!(required.contains(&json!("idempotency_key")));
}

#[test]
fn query_returns_typed_columns_and_rows() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let r = s.call_ok(
        "query",
        json!({"sql": "SELECT p.id, p.sku, p.price, p.tags, p.attributes, o.status, o.ordered_at, o.shipped_on, \
                       NULL::int AS nothing, 1.5::float8 AS f, true AS b, '\\x0102'::bytea AS raw, \
                       '7 days 01:00'::interval AS iv, gen_random_uuid() IS NOT NULL AS has_uuid \
                FROM shop.products p JOIN shop.order_lines l ON l.product_id = p.id \
                JOIN shop.orders o ON o.id = l.order_id \
                WHERE o.id = $1 AND l.line_no = $2",
               "params": [2, "1"]}),
    );
    let columns: Vec<(String, String)> = r["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(columns[0], ("id".into(), "int4".into()));
    assert_eq!(columns[2], ("price".into(), "numeric".into()));
    assert_eq!(columns[5], ("status".into(), "order_status".into()));
    assert_eq!(r["rowCount"], 1);
    let row = r["rows"][0].as_array().expect("row");
    // order 2, line 1: product 1 + (2*7+1) % 20 = 16
    assert_eq!(row[0], 16);
    assert_eq!(row[1], "SKU-0016");
    assert_eq!(row[2], "52.00", "numeric is exact text");
    assert_eq!(row[3], json!(["kitchen"]));
    assert_eq!(row[4], json!({"weight_g": 1600, "fragile": false}));
    assert_eq!(row[5], "shipped");
    assert_eq!(row[6], "2024-03-02T02:00:00Z");
    assert_eq!(row[7], "2024-03-04");
    assert_eq!(row[8], Value::Null);
    assert_eq!(row[9], 1.5);
    assert_eq!(row[10], true);
    assert_eq!(row[11], "\\x0102");
    assert_eq!(row[12], "7 days 01:00:00");
    assert_eq!(r["hasMore"], false);
    assert!(r.get("nextCursor").is_none());
}

#[test]
fn query_pages_through_a_result() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let sql = "SELECT id FROM shop.customers ORDER BY id";
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let mut args = json!({"sql": sql, "page_size": 15});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let r = s.call_ok("query", args);
        seen.extend(
            r["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|row| row[0].as_i64().unwrap_or(-1)),
        );
        cursor = r["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            assert_eq!(r["hasMore"], false);
            break;
        }
    }
    assert_eq!(seen, (1..=50).collect::<Vec<i64>>());
    // A cursor only fits its own query.
    let r = s.call_ok("query", json!({"sql": sql, "page_size": 15}));
    let c = r["nextCursor"].as_str().expect("cursor").to_owned();
    let e = s.call_err("query", json!({"sql": "SELECT 1", "cursor": c}));
    assert!(e.contains("different query"), "{e}");
    let e = s.call_err(
        "query",
        json!({"sql": "SELECT $1::int + $2::int", "params": [1]}),
    );
    assert!(e.contains("2 parameter"), "{e}");
}

#[test]
fn catalog_tools_describe_the_schema() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let r = s.call_ok("list_tables", json!({"schema": "shop"}));
    let tables = r["tables"].as_array().expect("tables");
    let names: Vec<&str> = tables.iter().filter_map(|t| t["name"].as_str()).collect();
    for t in [
        "audit_log",
        "customers",
        "order_lines",
        "order_totals",
        "orders",
        "products",
    ] {
        assert!(names.contains(&t), "{t} missing from {names:?}");
    }
    let orders = tables
        .iter()
        .find(|t| t["name"] == "orders")
        .expect("orders");
    assert_eq!(orders["estimatedRows"], 200);
    assert_eq!(orders["comment"], "One order per checkout");
    assert_eq!(orders["kind"], "table");
    let all = s.call_ok("list_tables", json!({}));
    assert!(
        !all["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .any(|t| t["schema"] == "mcp_postgres_server"),
        "the server's own schema is hidden"
    );

    let d = s.call_ok(
        "describe_table",
        json!({"schema": "shop", "table": "orders"}),
    );
    let cols: Vec<&str> = d["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        cols,
        ["id", "customer_id", "status", "ordered_at", "shipped_on"]
    );
    assert_eq!(d["columns"][0]["identity"], "always");
    assert_eq!(d["columns"][2]["default"], "'pending'::shop.order_status");
    assert_eq!(d["columns"][4]["nullable"], true);
    assert_eq!(d["columns"][1]["nullable"], false);
    let defs: Vec<String> = d["constraints"]
        .as_array()
        .expect("constraints")
        .iter()
        .map(|c| format!("{} {}", c["type"], c["definition"]))
        .collect();
    assert!(
        defs.iter()
            .any(|c| c.contains("primary key") && c.contains("PRIMARY KEY (id)")),
        "{defs:?}"
    );
    assert!(
        defs.iter()
            .any(|c| c.contains("REFERENCES shop.customers(id)")),
        "{defs:?}"
    );
    assert!(
        defs.iter()
            .any(|c| c.contains("check") && c.contains("shipped_on")),
        "{defs:?}"
    );
    let idx: Vec<&str> = d["indexes"]
        .as_array()
        .expect("indexes")
        .iter()
        .filter_map(|i| i["name"].as_str())
        .collect();
    assert!(
        idx.contains(&"orders_customer_idx") && idx.contains(&"orders_pkey"),
        "{idx:?}"
    );

    let e = s.call_err(
        "describe_table",
        json!({"schema": "shop", "table": "order"}),
    );
    assert!(
        e.contains("did you mean") && e.contains("shop.orders"),
        "{e}"
    );

    let p = s.call_ok(
        "explain",
        json!({"sql": "SELECT * FROM shop.orders WHERE customer_id = $1", "params": [3]}),
    );
    let plan = &p["plan"][0]["Plan"];
    assert!(plan["Node Type"].is_string(), "{p}");
    assert!(plan["Total Cost"].is_number(), "{p}");
}

#[test]
fn resources_templates_and_completions() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let r = s.request("resources/list", json!({}));
    assert_eq!(r["result"]["resources"][0]["uri"], "postgres://tables");
    let r = s.request("resources/templates/list", json!({}));
    assert_eq!(
        r["result"]["resourceTemplates"][0]["uriTemplate"],
        "postgres://{schema}/{table}/schema"
    );

    let r = s.request("resources/read", json!({"uri": "postgres://tables"}));
    let text = r["result"]["contents"][0]["text"].as_str().expect("text");
    let v: Value = serde_json::from_str(text).expect("json");
    assert!(v["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .any(|t| t["name"] == "customers"));

    let r = s.request(
        "resources/read",
        json!({"uri": "postgres://shop/customers/schema"}),
    );
    assert_eq!(r["result"]["contents"][0]["mimeType"], "application/json");
    let v: Value = serde_json::from_str(r["result"]["contents"][0]["text"].as_str().expect("text"))
        .expect("json");
    assert_eq!(v["name"], "customers");
    assert!(v["constraints"]
        .as_array()
        .expect("c")
        .iter()
        .any(|c| c["type"] == "unique"));

    let r = s.request(
        "resources/read",
        json!({"uri": "postgres://shop/nope/schema"}),
    );
    assert_eq!(r["error"]["code"], -32002, "{r}");

    let complete = |s: &mut Server, arg: &str, value: &str, ctx: Value| -> Vec<String> {
        let r = s.request(
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "uri": "postgres://{schema}/{table}/schema"},
                   "argument": {"name": arg, "value": value}, "context": {"arguments": ctx}}),
        );
        r["result"]["completion"]["values"]
            .as_array()
            .unwrap_or_else(|| panic!("{r}"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(complete(&mut s, "schema", "sh", json!({})), ["shop"]);
    assert_eq!(
        complete(&mut s, "table", "ord", json!({"schema": "shop"})),
        ["order_lines", "order_totals", "orders"]
    );
    assert!(complete(&mut s, "table", "ord", json!({"schema": "public"})).is_empty());
    let r = s.request(
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "explore_table"},
               "argument": {"name": "table", "value": "cust"}}),
    );
    assert_eq!(r["result"]["completion"]["values"], json!(["customers"]));
}

#[test]
fn prompts_explore_and_write_queries() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let r = s.request("prompts/list", json!({}));
    let names: Vec<&str> = r["result"]["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["explore_table", "write_query"]);

    let r = s.request(
        "prompts/get",
        json!({"name": "explore_table", "arguments": {"schema": "shop", "table": "orders"}}),
    );
    let msgs = r["result"]["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(msgs[0]["content"]["type"], "resource");
    assert_eq!(
        msgs[0]["content"]["resource"]["uri"],
        "postgres://shop/orders/schema"
    );
    assert!(msgs[1]["content"]["text"]
        .as_str()
        .expect("text")
        .contains("shop.orders"));

    let r = s.request("prompts/get", json!({"name": "write_query", "arguments": {"question": "Which customers spent the most?", "schema": "shop"}}));
    let text = r["result"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(text.contains("Which customers spent the most?"));
    assert!(
        text.contains("- customers(id integer, email text"),
        "{text}"
    );
    assert!(
        text.contains("FOREIGN KEY (customer_id) REFERENCES shop.customers(id)"),
        "{text}"
    );

    let r = s.request(
        "prompts/get",
        json!({"name": "explore_table", "arguments": {"schema": "shop", "table": "missing"}}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
}

// ---- attacks: each refused or harmless, the data intact -------------------------------

#[test]
fn attack_stacked_statements_are_refused() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let e = s.call_err(
        "query",
        json!({"sql": "SELECT 1; COMMIT; DROP TABLE shop.orders"}),
    );
    assert!(e.contains("multiple commands"), "{e}");
    let e = s.call_err("query", json!({"sql": "SELECT 1; DROP TABLE shop.orders;"}));
    assert!(e.contains("multiple commands"), "{e}");
    // A lone COMMIT ends nothing of value: the statement after it never runs.
    let _ = s.call("query", json!({"sql": "COMMIT"}));
    let e = s.call_err(
        "explain",
        json!({"sql": "SELECT 1; DROP TABLE shop.orders"}),
    );
    assert!(e.contains("multiple commands"), "{e}");
    assert_intact(url);
}

#[test]
fn attack_writes_in_disguise_are_refused() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    for sql in [
        "EXPLAIN ANALYZE DELETE FROM shop.order_lines",
        "WITH d AS (DELETE FROM shop.orders RETURNING *) SELECT count(*) FROM d",
        "DELETE FROM shop.order_lines",
        "UPDATE shop.products SET price = 0",
        "CREATE TABLE shop.evil (x int)",
        "SELECT * INTO shop.evil FROM shop.orders",
    ] {
        let e = s.call_err("query", json!({"sql": sql}));
        assert!(
            e.contains("read-only transaction") || e.contains("permission denied"),
            "{sql}: {e}"
        );
    }
    // EXPLAIN ANALYZE through `explain` is still only a plan in a read-only transaction.
    let e = s.call_err(
        "explain",
        json!({"sql": "ANALYZE) DELETE FROM shop.orders --"}),
    );
    assert!(e.contains("syntax error") || e.contains("read-only"), "{e}");
    assert_intact(url);
    assert_eq!(psql(url, "SELECT to_regclass('shop.evil') IS NULL"), "t");
}

#[test]
fn attack_set_transaction_read_write_is_refused() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let e = s.call_err("query", json!({"sql": "SET TRANSACTION READ WRITE"}));
    assert!(e.contains("before any query"), "{e}");
    let e = s.call_err("query", json!({"sql": "SELECT set_config('transaction_read_only', 'off', true), (SELECT count(*) FROM shop.orders)"}));
    assert!(
        e.contains("read-write mode") || e.contains("before any query"),
        "{e}"
    );
    // Session-level tricks are rolled back and reset between calls.
    let _ = s.call(
        "query",
        json!({"sql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"}),
    );
    let e = s.call_err("query", json!({"sql": "DELETE FROM shop.order_lines"}));
    assert!(
        e.contains("read-only transaction") || e.contains("permission denied"),
        "{e}"
    );
    // And no role switch leads back to the configured role.
    let e = s.call_err(
        "query",
        json!({"sql": "SELECT set_config('role', 'postgres', false)"}),
    );
    assert!(
        e.contains("permission denied") || e.contains("does not exist"),
        "{e}"
    );
    assert_intact(url);
}

#[test]
fn attack_server_files_and_programs_are_out_of_reach() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let objects_before = psql(url, "SELECT count(*) FROM pg_largeobject_metadata");
    for sql in [
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT pg_ls_dir('.')",
        "SELECT lo_import('/etc/passwd')",
        "COPY (SELECT 1) TO PROGRAM 'touch /tmp/mcp-pwned'",
        "COPY shop.orders TO '/tmp/mcp-pwned'",
        "COPY shop.orders FROM PROGRAM 'id'",
    ] {
        let e = s.call_err("query", json!({"sql": sql}));
        assert!(
            e.contains("permission denied")
                || e.contains("must be superuser")
                || e.contains("pg_execute_server_program")
                || e.contains("pg_write_server_files")
                || e.contains("read-only"),
            "{sql}: {e}"
        );
    }
    assert!(!std::path::Path::new("/tmp/mcp-pwned").exists());
    assert_eq!(
        psql(url, "SELECT count(*) FROM pg_largeobject_metadata"),
        objects_before
    );
    assert_intact(url);
}

#[test]
fn attack_side_effecting_functions_are_refused() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let before = psql(url, "SELECT last_value FROM shop.customers_id_seq");
    let e = s.call_err(
        "query",
        json!({"sql": "SELECT nextval('shop.customers_id_seq')"}),
    );
    assert!(
        e.contains("read-only") || e.contains("permission denied"),
        "{e}"
    );
    let e = s.call_err(
        "query",
        json!({"sql": "SELECT setval('shop.customers_id_seq', 1000)"}),
    );
    assert!(
        e.contains("read-only") || e.contains("permission denied"),
        "{e}"
    );
    assert_eq!(
        psql(url, "SELECT last_value FROM shop.customers_id_seq"),
        before
    );
    // Session-level advisory locks do not outlive the call (the pool resets connections).
    let _ = s.call("query", json!({"sql": "SELECT pg_advisory_lock(424242)"}));
    assert!(eventually(Duration::from_secs(5), || {
        psql(
            url,
            "SELECT pg_try_advisory_lock(424242) AND pg_advisory_unlock(424242)",
        ) == "t"
    }));
    assert_intact(url);
}

#[test]
fn attack_terminating_other_sessions_is_impossible() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    // A victim session of the configured role, busy for a while.
    let mut victim = std::process::Command::new(psql_path())
        .args([url, "-XAtqc", "SELECT pg_sleep(20.125)"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    let mut pid = String::new();
    assert!(eventually(Duration::from_secs(10), || {
        pid = psql(
            url,
            "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(20.125)%'",
        );
        !pid.is_empty()
    }));
    let pid: i32 = pid
        .lines()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a pid");
    for f in ["pg_terminate_backend", "pg_cancel_backend"] {
        let e = s.call_err(
            "query",
            json!({"sql": format!("SELECT {f}($1)"), "params": [pid]}),
        );
        assert!(
            e.contains("permission denied") || e.contains("must be a superuser"),
            "{f}: {e}"
        );
    }
    let e = s.call_err("query", json!({"sql": "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename <> current_user"}));
    assert!(
        e.contains("permission denied") || e.contains("must be a superuser"),
        "{e}"
    );
    assert!(
        victim.try_wait().expect("wait").is_none(),
        "the victim session was killed"
    );
    assert_eq!(
        psql(
            url,
            &format!("SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}")
        ),
        "1"
    );
    let _ = psql(url, &format!("SELECT pg_cancel_backend({pid})"));
    let _ = victim.wait();
}

#[test]
fn attack_pg_sleep_is_stopped_inside_the_database() {
    let url = database_url();
    let mut s = Server::start(url, &["--statement-timeout-ms", "1000"]);
    let started = Instant::now();
    let e = s.call_err("query", json!({"sql": "SELECT pg_sleep(600)"}));
    let took = started.elapsed();
    assert!(e.contains("statement timeout"), "{e}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        eventually(Duration::from_secs(3), || {
            psql(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)' AND state = 'active'"
        ) == "0"
        }),
        "pg_sleep(600) is still running in PostgreSQL"
    );
    // The server is still fine.
    assert_eq!(
        s.call_ok("query", json!({"sql": "SELECT 1 AS one"}))["rows"],
        json!([[1]])
    );
}

#[test]
fn a_cancelled_call_stops_its_statement() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let id = s.send_request(
        "tools/call",
        json!({"name": "query", "arguments": {"sql": "SELECT pg_sleep(30.375)"}}),
    );
    assert!(eventually(Duration::from_secs(10), || {
        psql(
        url,
        "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30.375)' AND state = 'active'"
    ) == "1"
    }));
    s.send(&json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": id, "reason": "test"}}));
    assert!(
        eventually(Duration::from_secs(5), || {
            psql(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30.375)' AND state = 'active'"
        ) == "0"
        }),
        "the cancelled statement is still running"
    );
    assert_eq!(
        s.call_ok("query", json!({"sql": "SELECT 2 AS two"}))["rows"],
        json!([[2]])
    );
}

#[test]
fn attack_ten_million_rows_are_capped_paginated_and_memory_bounded() {
    let url = database_url();
    let mut s = Server::start(url, &["--max-rows", "500"]);
    let sql = "SELECT g, md5(g::text) AS h, repeat('x', 200) AS pad FROM (SELECT generate_series(1, 10000000) AS g) s";
    // Warm up, then measure the peak.
    s.call_ok("query", json!({"sql": "SELECT 1"}));
    let before = s.peak_rss_kib();
    let started = Instant::now();
    let r = s.call_ok("query", json!({"sql": sql, "page_size": 100000}));
    assert_eq!(r["rowCount"], 500, "capped at the row cap");
    assert_eq!(r["hasMore"], true);
    assert!(r["notes"].to_string().contains("row cap"), "{}", r["notes"]);
    let first = r["rows"][0][0].clone();
    assert_eq!(first, 1);
    let cursor = r["nextCursor"].as_str().expect("cursor").to_owned();
    let r = s.call_ok(
        "query",
        json!({"sql": sql, "page_size": 100000, "cursor": cursor}),
    );
    assert_eq!(r["offset"], 500);
    assert_eq!(r["rows"][0][0], 501);
    assert_eq!(r["rows"][499][0], 1000);
    let took = started.elapsed();
    let grown_kib = s.peak_rss_kib().saturating_sub(before);
    eprintln!("10M-row query: two pages in {took:?}, peak RSS grew {grown_kib} KiB");
    // 10M rows of ~250 bytes would be ~2.5 GB; two capped pages are well under 1 MB of data.
    assert!(grown_kib < 32 * 1024, "peak RSS grew {grown_kib} KiB");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

// ---- execute --------------------------------------------------------------------------

fn audit_count(url: &str, note: &str) -> String {
    psql(
        url,
        &format!("SELECT count(*) FROM shop.audit_log WHERE note = '{note}'"),
    )
}

#[test]
fn execute_without_the_scope_is_refused() {
    let url = database_url();
    let mut s = Server::start(url, &[]);
    let note = unique("noscope");
    let e = s.call_err(
        "execute",
        json!({"sql": "INSERT INTO shop.audit_log (note) VALUES ($1)", "params": [note], "idempotency_key": unique("key")}),
    );
    assert!(
        e.contains("postgres:write") && e.contains("permission denied"),
        "{e}"
    );
    assert_eq!(audit_count(url, &note), "0");
    assert!(s.elicitations.is_empty());
}

#[test]
fn execute_dry_run_changes_nothing() {
    let url = database_url();
    let mut s = Server::start(url, &["--allow-writes"]);
    let before = psql(url, "SELECT sum(stock) FROM shop.products");
    let r = s.call_ok(
        "execute",
        json!({"sql": "UPDATE shop.products SET stock = stock + $1", "params": [1000], "dry_run": true, "idempotency_key": unique("dry")}),
    );
    assert_eq!(r["status"], "dry_run");
    assert_eq!(r["rowsAffected"], 20);
    assert_eq!(psql(url, "SELECT sum(stock) FROM shop.products"), before);
    assert!(s.elicitations.is_empty(), "a dry run asks nobody");
    let e = s.call_err("execute", json!({"sql": "UPDATE shop.products SET stock = -1", "dry_run": true, "idempotency_key": unique("dry")}));
    assert!(e.contains("products_stock_check"), "{e}");
    let e = s.call_err(
        "execute",
        json!({"sql": "COMMIT", "dry_run": true, "idempotency_key": unique("dry")}),
    );
    assert!(e.contains("transaction control"), "{e}");
    let e = s.call_err("execute", json!({"sql": "UPDATE shop.products SET stock = stock; DROP TABLE shop.orders", "idempotency_key": unique("dry")}));
    assert!(e.contains("multiple commands"), "{e}");
    assert_intact(url);
}

#[test]
fn execute_commits_once_per_idempotency_key() {
    let url = database_url();
    let mut s = Server::start(url, &["--allow-writes"]);
    s.elicit = Elicit::Accept(json!({"confirm": true}));
    let note = unique("once");
    let key = unique("key");
    let args = json!({"sql": "INSERT INTO shop.audit_log (note) VALUES ($1)", "params": [note], "idempotency_key": key});
    let r = s.call_ok("execute", args.clone());
    assert_eq!(r["status"], "committed", "{r}");
    assert_eq!(r["rowsAffected"], 1);
    assert_eq!(s.elicitations.len(), 1);
    let asked = &s.elicitations[0];
    assert!(asked["message"]
        .as_str()
        .expect("message")
        .contains("INSERT INTO shop.audit_log"));
    assert!(asked["message"]
        .as_str()
        .expect("message")
        .contains("1 row(s)"));
    assert_eq!(
        asked["requestedSchema"]["properties"]["confirm"]["type"],
        "boolean"
    );

    // The retry (say, after a timeout) writes nothing and asks nobody.
    let r = s.call_ok("execute", args.clone());
    assert_eq!(r["status"], "already_committed", "{r}");
    assert_eq!(r["rowsAffected"], 1);
    assert_eq!(s.elicitations.len(), 1);
    assert_eq!(audit_count(url, &note), "1");

    // Even from another server process (the key lives in the database).
    let mut other = Server::start(url, &["--allow-writes"]);
    other.elicit = Elicit::Accept(json!({"confirm": true}));
    let r = other.call_ok("execute", args);
    assert_eq!(r["status"], "already_committed");
    assert_eq!(audit_count(url, &note), "1");

    // The same key for another statement is refused.
    let e = s.call_err(
        "execute",
        json!({"sql": "DELETE FROM shop.audit_log", "idempotency_key": key}),
    );
    assert!(e.contains("different statement"), "{e}");
    assert_eq!(audit_count(url, &note), "1");
}

#[test]
fn execute_declined_writes_nothing() {
    let url = database_url();
    let mut s = Server::start(url, &["--allow-writes"]);
    let note = unique("declined");
    s.elicit = Elicit::Decline;
    let r = s.call_ok(
        "execute",
        json!({"sql": "INSERT INTO shop.audit_log (note) VALUES ($1)", "params": [note], "idempotency_key": unique("key")}),
    );
    assert_eq!(r["status"], "declined");
    s.elicit = Elicit::Accept(json!({"confirm": false}));
    let r = s.call_ok(
        "execute",
        json!({"sql": "INSERT INTO shop.audit_log (note) VALUES ($1)", "params": [note], "idempotency_key": unique("key")}),
    );
    assert_eq!(r["status"], "declined");
    assert_eq!(s.elicitations.len(), 2);
    assert_eq!(audit_count(url, &note), "0");
    // A client that cannot be asked gets nothing written either.
    let mut blind = Server::spawn(url, &["--allow-writes"]);
    blind.request("initialize", json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}));
    blind.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let e = blind.call_err(
        "execute",
        json!({"sql": "INSERT INTO shop.audit_log (note) VALUES ($1)", "params": [note], "idempotency_key": unique("key")}),
    );
    assert!(e.contains("nothing was written"), "{e}");
    assert_eq!(audit_count(url, &note), "0");
}

#[test]
fn execute_confirms_through_input_required_in_2026() {
    let url = database_url();
    let mut s = Server::spawn(url, &["--allow-writes"]);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}}
    });
    let note = unique("modern");
    let args = json!({"sql": "INSERT INTO shop.audit_log (note) VALUES ($1)", "params": [note], "idempotency_key": unique("key")});
    let r = s.request(
        "tools/call",
        json!({"name": "execute", "arguments": args, "_meta": meta}),
    );
    let result = &r["result"];
    assert_eq!(result["resultType"], "input_required", "{r}");
    let key = result["inputRequests"]
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .expect("a question");
    assert_eq!(key, "confirm_execute_1");
    assert_eq!(audit_count(url, &note), "0", "nothing before the answer");
    let state = result["requestState"].clone();
    let r = s.request(
        "tools/call",
        json!({"name": "execute", "arguments": args, "_meta": meta, "requestState": state,
               "inputResponses": {key: {"action": "accept", "content": {"confirm": true}}}}),
    );
    assert_eq!(
        r["result"]["structuredContent"]["status"], "committed",
        "{r}"
    );
    assert_eq!(audit_count(url, &note), "1");
}

// ---- least privilege --------------------------------------------------------------------

#[test]
fn a_superuser_url_runs_the_tools_as_restricted_roles() {
    let url = database_url();
    if !is_superuser(url) {
        eprintln!("skipped: DATABASE_URL is not a superuser");
        return;
    }
    let mut s = Server::start(url, &["--allow-writes"]);
    let who = s.call_ok("query", json!({"sql": "SELECT session_user::text, current_user::text, current_setting('transaction_read_only')"}));
    assert_eq!(who["rows"][0], json!(["mcp_reader", "mcp_reader", "on"]));
    assert!(
        s.stderr().contains("restricted roles mcp_reader"),
        "{}",
        s.stderr()
    );
    let roles = psql(url, "SELECT rolname || ':' || rolsuper || rolcreaterole || rolcreatedb || rolreplication || rolbypassrls FROM pg_roles WHERE rolname IN ('mcp_reader', 'mcp_writer') ORDER BY 1");
    assert_eq!(
        roles,
        "mcp_reader:falsefalsefalsefalsefalse\nmcp_writer:falsefalsefalsefalsefalse"
    );
    let members = psql(url, "SELECT u.rolname || ':' || string_agg(b.rolname, ',' ORDER BY b.rolname) FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname IN ('mcp_reader', 'mcp_writer') GROUP BY u.rolname ORDER BY 1");
    assert_eq!(
        members,
        "mcp_reader:pg_read_all_data\nmcp_writer:pg_read_all_data,pg_write_all_data"
    );
}

#[test]
fn a_privileged_role_is_refused_when_asked_to() {
    let url = database_url();
    if !is_superuser(url) {
        eprintln!("skipped: DATABASE_URL is not a superuser");
        return;
    }
    let mut s = Server::spawn(url, &["--privileged-role", "refuse"]);
    assert_eq!(s.wait_exit(Duration::from_secs(20)), Some(2));
    let err = s.stderr();
    assert!(
        err.contains("refusing to start") && err.contains("superuser"),
        "{err}"
    );

    // A role that may signal other sessions but cannot create roles: refused whatever the policy.
    psql(url, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mcp_test_signaller') THEN CREATE ROLE mcp_test_signaller LOGIN PASSWORD 'signal-pw-1'; END IF; END $$; GRANT pg_signal_backend, pg_read_all_data TO mcp_test_signaller");
    let mut s = Server::spawn(&with_user(url, "mcp_test_signaller", "signal-pw-1"), &[]);
    assert_eq!(s.wait_exit(Duration::from_secs(20)), Some(2));
    let err = s.stderr();
    assert!(
        err.contains("pg_signal_backend") && err.contains("CREATEROLE"),
        "{err}"
    );
}

#[test]
fn a_plain_reading_role_is_used_as_is() {
    let url = database_url();
    if !is_superuser(url) {
        eprintln!("skipped: DATABASE_URL is not a superuser");
        return;
    }
    psql(url, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mcp_test_ro') THEN CREATE ROLE mcp_test_ro LOGIN PASSWORD 'ro-pw-1'; END IF; END $$; GRANT pg_read_all_data TO mcp_test_ro");
    let mut s = Server::start(&with_user(url, "mcp_test_ro", "ro-pw-1"), &[]);
    let who = s.call_ok("query", json!({"sql": "SELECT session_user::text"}));
    assert_eq!(who["rows"][0][0], "mcp_test_ro");
    assert!(
        s.stderr().contains("tools run as mcp_test_ro"),
        "{}",
        s.stderr()
    );
    let e = s.call_err("query", json!({"sql": "DELETE FROM shop.orders"}));
    assert!(e.contains("read-only"), "{e}");
    assert_intact(url);
}

// ---- availability ---------------------------------------------------------------------

#[test]
fn database_outage_fails_fast_and_recovers_without_restart() {
    let url = database_url();
    let proxy = Proxy::start(port_of(url));
    let via = with_port(url, proxy.port);
    let mut s = Server::start(
        &via,
        &["--connect-timeout-ms", "1000", "--pool-timeout-ms", "1000"],
    );
    assert_eq!(
        s.call_ok("query", json!({"sql": "SELECT 1 AS up"}))["rows"],
        json!([[1]])
    );

    proxy.down();
    for _ in 0..2 {
        let started = Instant::now();
        let e = s.call_err("query", json!({"sql": "SELECT 1 AS up"}));
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "took {:?}",
            started.elapsed()
        );
        assert!(
            e.contains("unreachable") || e.contains("lost") || e.contains("did not accept"),
            "{e}"
        );
        assert!(e.contains("retry") || e.contains("Retry"), "{e}");
    }

    proxy.up();
    let mut last = Value::Null;
    for _ in 0..20 {
        last = s.call("query", json!({"sql": "SELECT 1 AS up"}));
        if last.get("isError") != Some(&json!(true)) {
            break;
        }
        thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        last["structuredContent"]["rows"],
        json!([[1]]),
        "the server did not recover after the database came back: {}",
        text_of(&last)
    );
}

#[test]
fn an_exhausted_pool_fails_fast() {
    let url = database_url();
    let mut s = Server::start(url, &["--pool-size", "1", "--pool-timeout-ms", "300"]);
    let slow = s.send_request(
        "tools/call",
        json!({"name": "query", "arguments": {"sql": "SELECT pg_sleep(2.5)"}}),
    );
    thread::sleep(Duration::from_millis(400));
    let started = Instant::now();
    let fast = s.send_request(
        "tools/call",
        json!({"name": "query", "arguments": {"sql": "SELECT 1"}}),
    );
    let r = s.wait_response(fast, REQUEST_TIMEOUT);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(text_of(&r["result"]).contains("pool is exhausted"), "{r}");
    let r = s.wait_response(slow, REQUEST_TIMEOUT);
    assert_ne!(r["result"]["isError"], true, "{r}");
    assert_eq!(
        s.call_ok("query", json!({"sql": "SELECT 3 AS three"}))["rows"],
        json!([[3]])
    );
}
