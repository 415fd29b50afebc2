//! `query` and `explain`: caller SQL, run read-only by PostgreSQL itself.
//!
//! Nothing here inspects the SQL text. Safety comes from how it is run:
//! - as a role that can only read (see `privilege.rs`);
//! - inside `BEGIN READ ONLY`, with the snapshot taken before the caller's statement, so
//!   `SET TRANSACTION READ WRITE` is refused, and always rolled back;
//! - with the extended query protocol: the statement is sent in one `Parse` message, which
//!   PostgreSQL rejects when it holds more than one command (`SELECT 1; COMMIT; DROP …`);
//! - with `statement_timeout` and `lock_timeout` set for the transaction, plus a client-side
//!   deadline that cancels the statement inside PostgreSQL;
//! - through a portal fetched a page at a time (`Execute` with a row limit), so a huge result is
//!   never materialised in the server: memory is bounded by the row cap.

use base64::Engine as _;
use mcp_core::{Args, Json, State, ToolError};
use postgres_types::ToSql;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::app::{timed_out, App, GRACE};
use super::db::{begin_read, tidy, Conn, DbPool};
use super::values::{to_json, Caveat, RawValue, TextParam};

/// Rows per page unless the caller asks otherwise.
const DEFAULT_PAGE: usize = 100;
/// Rows skipped per round trip when resuming at a cursor.
const SKIP_CHUNK: u64 = 1000;

/// Arguments of `query`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct QueryArgs {
    /// Exactly one read-only SQL statement (SELECT, WITH … SELECT, VALUES, TABLE, SHOW). Use $1,
    /// $2, … for values and pass them in `params`. Add ORDER BY when you page through results.
    pub(crate) sql: String,
    /// Values for $1, $2, …: strings, numbers, booleans or null. PostgreSQL converts each to
    /// its parameter's type, as it would a literal.
    #[serde(default)]
    pub(crate) params: Vec<Value>,
    /// Rows per page (default 100; at most the server's row cap).
    #[serde(default)]
    pub(crate) page_size: Option<u32>,
    /// The `nextCursor` of the previous page, to fetch the next one. Send the same `sql` and
    /// `params` with it.
    #[serde(default)]
    pub(crate) cursor: Option<String>,
}

/// One result column.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ColumnInfo {
    /// The column's name.
    pub(crate) name: String,
    /// Its PostgreSQL type, e.g. `int4`, `text`, `timestamptz`, `numeric`.
    #[serde(rename = "type")]
    pub(crate) type_name: String,
}

/// A page of a query's result.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryResult {
    /// The result's columns, in order.
    pub(crate) columns: Vec<ColumnInfo>,
    /// The rows of this page; each row lists its values in column order. `numeric` values are
    /// strings (exact), timestamps ISO 8601 strings, `bytea` `\x…` hex strings.
    pub(crate) rows: Vec<Vec<Value>>,
    /// Rows in this page.
    pub(crate) row_count: usize,
    /// How many rows came before this page.
    pub(crate) offset: u64,
    /// Whether more rows follow.
    pub(crate) has_more: bool,
    /// Pass this as `cursor` (with the same sql and params) to get the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
    /// Caveats about how values are shown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) notes: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// Offset of the next page.
    o: u64,
    /// Fingerprint of the query it belongs to.
    f: String,
}

/// A short digest of the statement and its parameters.
pub(crate) fn fingerprint(sql: &str, params: &[Value]) -> String {
    let mut h = Sha256::new();
    h.update(sql.as_bytes());
    h.update([0]);
    h.update(Value::Array(params.to_vec()).to_string().as_bytes());
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn encode_cursor(offset: u64, fp: &str) -> String {
    let json = serde_json::json!({"o": offset, "f": fp}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(cursor: &str, fp: &str) -> Result<u64, ToolError> {
    let bad = || {
        ToolError::new(
            "`cursor` is not a cursor of this server; pass the `nextCursor` of the previous page, or omit it to start from the first row",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad())?;
    let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if c.f != fp {
        return Err(ToolError::new(
            "this `cursor` belongs to a different query: send it with the same `sql` and `params` as the page it came from, or omit it to start over",
        ));
    }
    Ok(c.o)
}

/// Runs one read-only statement and returns a page of its rows.
pub(crate) async fn query(
    State(app): State<App>,
    Args(a): Args<QueryArgs>,
) -> Result<Json<QueryResult>, ToolError> {
    let cap = app.config.max_rows;
    let page = a
        .page_size
        .map(|n| n as usize)
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, cap);
    let fp = fingerprint(&a.sql, &a.params);
    let offset = match &a.cursor {
        Some(c) if !c.trim().is_empty() => decode_cursor(c, &fp)?,
        _ => 0,
    };
    let params: Vec<TextParam> = a.params.iter().map(TextParam::from_json).collect();
    let pool = app.db.reader.clone();
    let mut conn = pool.get().await?;
    let timeout = pool.statement_timeout();
    let outcome = tokio::time::timeout(timeout + GRACE, async {
        let result = run_page(&mut conn, &pool, &a.sql, &params, offset, page).await;
        tidy(&mut conn).await;
        result
    })
    .await;
    let mut result = match outcome {
        Ok(r) => {
            conn.release();
            r?
        }
        Err(_) => return Err(timed_out(timeout)),
    };
    if result.has_more {
        result.next_cursor = Some(encode_cursor(offset + result.rows.len() as u64, &fp));
    }
    if page < a.page_size.map(|n| n as usize).unwrap_or(0) {
        result.notes.push(format!(
            "page_size was capped at the server's row cap of {cap} rows"
        ));
    }
    Ok(Json(result))
}

fn param_count_error(expected: usize, got: usize) -> ToolError {
    ToolError::new(format!(
        "the statement has {expected} parameter(s) ($1…${expected}) but {got} value(s) were given in `params`"
    ))
}

async fn run_page(
    conn: &mut Conn,
    pool: &DbPool,
    sql: &str,
    params: &[TextParam],
    offset: u64,
    page: usize,
) -> Result<QueryResult, ToolError> {
    let err = |e: tokio_postgres::Error| pool.error(&e);
    let tx = begin_read(conn, pool.statement_timeout())
        .await
        .map_err(err)?;
    // One Parse message: PostgreSQL refuses a second command here.
    let stmt = tx.prepare(sql).await.map_err(err)?;
    if stmt.params().len() != params.len() {
        return Err(param_count_error(stmt.params().len(), params.len()));
    }
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let portal = tx.bind(&stmt, &refs).await.map_err(err)?;

    let mut skipped = 0u64;
    let mut exhausted = false;
    while skipped < offset {
        let want = (offset - skipped).min(SKIP_CHUNK);
        let rows = tx.query_portal(&portal, want as i32).await.map_err(err)?;
        skipped += rows.len() as u64;
        if (rows.len() as u64) < want {
            exhausted = true;
            break;
        }
    }
    let mut rows = if exhausted {
        Vec::new()
    } else {
        // One more than the page, to learn whether more follow; never more.
        tx.query_portal(&portal, (page + 1) as i32)
            .await
            .map_err(err)?
    };
    let has_more = rows.len() > page;
    rows.truncate(page);

    let columns: Vec<ColumnInfo> = stmt
        .columns()
        .iter()
        .map(|c| ColumnInfo {
            name: c.name().to_owned(),
            type_name: c.type_().name().to_owned(),
        })
        .collect();
    let mut caveats: Vec<Option<Caveat>> = vec![None; columns.len()];
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut values = Vec::with_capacity(columns.len());
        for (i, col) in stmt.columns().iter().enumerate() {
            let raw: RawValue<'_> = row.try_get(i).map_err(err)?;
            values.push(to_json(col.type_(), raw.0, &mut caveats[i]));
        }
        out.push(values);
    }
    drop(rows);
    drop(portal);
    tx.rollback().await.map_err(err)?;

    let notes = caveats
        .iter()
        .zip(&columns)
        .filter_map(|(c, col)| match c {
            Some(Caveat::Unsupported) => Some(format!(
                "column {:?}: values of type {} are not decoded and shown as null; select {}::text to see them",
                col.name, col.type_name, col.name
            )),
            Some(Caveat::Truncated) => Some(format!(
                "column {:?}: long values were cut to {} KiB",
                col.name,
                super::values::MAX_VALUE_BYTES / 1024
            )),
            None => None,
        })
        .collect();
    Ok(QueryResult {
        row_count: out.len(),
        columns,
        rows: out,
        offset: skipped.min(offset),
        has_more,
        next_cursor: None,
        notes,
    })
}

/// Arguments of `explain`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ExplainArgs {
    /// One SQL statement to plan (it is not run: EXPLAIN without ANALYZE).
    pub(crate) sql: String,
    /// Values for $1, $2, … as in `query`.
    #[serde(default)]
    pub(crate) params: Vec<Value>,
    /// Include output columns and schema-qualified names (EXPLAIN VERBOSE).
    #[serde(default)]
    pub(crate) verbose: bool,
}

/// A statement's plan.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExplainResult {
    /// The plan as PostgreSQL's `EXPLAIN (FORMAT JSON)` gives it: estimated costs and rows per
    /// node. The statement was planned, not run.
    pub(crate) plan: Value,
}

/// Shows the plan PostgreSQL would use, without running the statement.
pub(crate) async fn explain(
    State(app): State<App>,
    Args(a): Args<ExplainArgs>,
) -> Result<Json<ExplainResult>, ToolError> {
    // The caller's SQL follows the EXPLAIN options on its own line; it is still one statement
    // in one Parse message, in a READ ONLY transaction, as the reading role — even an
    // `ANALYZE` smuggled in could not write.
    let sql = format!(
        "EXPLAIN (FORMAT JSON, COSTS{})\n{}",
        if a.verbose { ", VERBOSE" } else { "" },
        a.sql
    );
    let params: Vec<TextParam> = a.params.iter().map(TextParam::from_json).collect();
    let plan = app
        .read(move |tx| {
            Box::pin(async move {
                let stmt = tx.prepare(&sql).await?;
                if stmt.params().len() != params.len() {
                    return Ok(Err(param_count_error(stmt.params().len(), params.len())));
                }
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                let rows = tx.query(&stmt, &refs).await?;
                let plan = match rows.first() {
                    Some(row) => {
                        let raw: RawValue<'_> = row.try_get(0)?;
                        let text = raw
                            .0
                            .and_then(|b| postgres_protocol::types::text_from_sql(b).ok())
                            .unwrap_or("null");
                        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()))
                    }
                    None => Value::Null,
                };
                Ok(Ok(plan))
            })
        })
        .await??;
    Ok(Json(ExplainResult { plan }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_query() {
        let fp = fingerprint("SELECT 1", &[]);
        let c = encode_cursor(200, &fp);
        assert_eq!(decode_cursor(&c, &fp).ok(), Some(200));
        let other = fingerprint("SELECT 2", &[]);
        assert!(decode_cursor(&c, &other).is_err());
        assert!(decode_cursor("garbage!", &fp).is_err());
        assert_ne!(fp, fingerprint("SELECT 1", &[serde_json::json!(1)]));
    }
}
