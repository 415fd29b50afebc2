//! `execute`: the one tool that changes data.
//!
//! It needs the `postgres:write` scope, takes an idempotency key, and never commits without the
//! user's confirmation:
//!
//! 1. If the key was used before, return that outcome (nothing runs).
//! 2. Dry run: run the statement in a transaction, count the affected rows, roll back.
//!    With `dry_run: true` the call ends here.
//! 3. Ask the user, through elicitation, to confirm the statement and its row count.
//! 4. Run it again in a new transaction that first claims the key in the idempotency table; if
//!    the row count differs from the confirmed one, roll back; else commit key and change
//!    together.
//!
//! Steps 1–2 change nothing, so they are safe to run again: in 2026-07-28 the handler re-runs
//! from the top when the client answers the question. The question's key carries the row count,
//! so if the data changed between the question and the answer the user is asked again. No
//! transaction or lock is held while a human thinks.

use mcp_core::protocol::{ElicitAction, ElicitRequest};
use mcp_core::{Args, Context, Json, State, ToolError};
use postgres_types::ToSql;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::app::{read_with, timed_out, App, GRACE};
use super::config::WRITE_SCOPE;
use super::db::{begin_write, tidy, Conn, DbPool};
use super::values::TextParam;

/// Arguments of `execute`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ExecuteArgs {
    /// Exactly one SQL statement that changes data (INSERT, UPDATE, DELETE, MERGE). Use $1, $2,
    /// … for values and pass them in `params`.
    pub(crate) sql: String,
    /// Values for $1, $2, …: strings, numbers, booleans or null.
    #[serde(default)]
    pub(crate) params: Vec<Value>,
    /// Only try it: run the statement in a transaction, report how many rows it affects, and
    /// roll back. Nothing changes, and the user is not asked.
    #[serde(default)]
    pub(crate) dry_run: bool,
    /// A key unique to this change (8-200 characters of letters, digits, `-`, `_`, `.`, `:`),
    /// e.g. a UUID made up once per intended change. Calling again with the same key — after a
    /// timeout, say — returns the first call's outcome instead of writing twice.
    pub(crate) idempotency_key: String,
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ExecuteStatus {
    /// The dry run ran and was rolled back; nothing changed.
    DryRun,
    /// The change was confirmed and committed.
    Committed,
    /// The key was used before: that earlier change was committed; nothing ran now.
    AlreadyCommitted,
    /// The user did not confirm; nothing changed.
    Declined,
}

/// The outcome of `execute`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExecuteResult {
    /// What happened.
    pub(crate) status: ExecuteStatus,
    /// Rows the statement affected (in the dry run, or when committed).
    pub(crate) rows_affected: Option<u64>,
    /// The idempotency key of the call.
    pub(crate) idempotency_key: String,
    /// What happened, in words.
    pub(crate) message: String,
}

fn valid_key(key: &str) -> bool {
    (8..=200).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// SHA-256 of the statement and its parameters, hex.
fn statement_digest(sql: &str, params: &[Value]) -> String {
    let mut h = Sha256::new();
    h.update(sql.as_bytes());
    h.update([0]);
    h.update(Value::Array(params.to_vec()).to_string().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// An earlier use of a key.
struct Earlier {
    digest: String,
    rows: Option<i64>,
    at: String,
}

async fn lookup(pool: &DbPool, table: &str, key: &str) -> Result<Option<Earlier>, ToolError> {
    let sql = format!(
        "SELECT statement_sha256, rows_affected, to_char(committed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM {table} WHERE key = $1"
    );
    let key = key.to_owned();
    read_with(pool, move |tx| {
        Box::pin(async move {
            match tx.query_opt(&sql, &[&key]).await? {
                Some(r) => Ok(Some(Earlier {
                    digest: r.try_get(0)?,
                    rows: r.try_get(1)?,
                    at: r.try_get(2)?,
                })),
                None => Ok(None),
            }
        })
    })
    .await
}

fn replay(earlier: Earlier, digest: &str, key: String) -> Result<Json<ExecuteResult>, ToolError> {
    if earlier.digest != digest {
        return Err(ToolError::new(format!(
            "the idempotency key {key:?} was already used at {} for a different statement; \
             nothing was run. Use a new key for a new change.",
            earlier.at
        )));
    }
    let rows = earlier.rows.and_then(|n| u64::try_from(n).ok());
    Ok(Json(ExecuteResult {
        status: ExecuteStatus::AlreadyCommitted,
        rows_affected: rows,
        message: format!(
            "this change was already committed at {} under the same idempotency key ({} row(s)); \
             nothing was written now",
            earlier.at,
            rows.unwrap_or(0)
        ),
        idempotency_key: key,
    }))
}

fn refs(params: &[TextParam]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// How a write transaction ended.
enum Outcome {
    /// Rows affected (rolled back for a trial, committed otherwise).
    Done(u64),
    /// The key was claimed by someone else (committed meanwhile).
    KeyTaken,
    /// The statement now affects a different number of rows than confirmed; rolled back.
    Changed(u64),
}

/// Runs the statement in a write transaction. With `commit` = `Some((table, key, digest,
/// expected))` the key is claimed first and everything is committed when the row count matches;
/// otherwise the transaction is rolled back.
async fn run(
    pool: &DbPool,
    sql: &str,
    params: &[TextParam],
    commit: Option<(&str, &str, &str, u64)>,
) -> Result<Outcome, ToolError> {
    let mut conn = pool.get().await?;
    let timeout = pool.statement_timeout();
    let work = async {
        let result = run_in(&mut conn, pool, sql, params, commit).await;
        tidy(&mut conn).await;
        result
    };
    match tokio::time::timeout(timeout + GRACE, work).await {
        Ok(r) => {
            conn.release();
            r
        }
        Err(_) => Err(timed_out(timeout)),
    }
}

async fn run_in(
    conn: &mut Conn,
    pool: &DbPool,
    sql: &str,
    params: &[TextParam],
    commit: Option<(&str, &str, &str, u64)>,
) -> Result<Outcome, ToolError> {
    {
        let err = |e: tokio_postgres::Error| pool.error(&e);
        let tx = begin_write(conn, pool.statement_timeout())
            .await
            .map_err(err)?;
        if let Some((table, key, digest, _)) = commit {
            let claimed = tx
                .execute(
                    &format!(
                        "INSERT INTO {table} (key, statement_sha256) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING"
                    ),
                    &[&key, &digest],
                )
                .await
                .map_err(err)?;
            if claimed == 0 {
                tx.rollback().await.map_err(err)?;
                return Ok(Outcome::KeyTaken);
            }
        }
        let xid: i64 = tx
            .query_one("SELECT txid_current()", &[])
            .await
            .and_then(|r| r.try_get(0))
            .map_err(err)?;
        // One Parse message: a second command is refused by PostgreSQL.
        let stmt = tx.prepare(sql).await.map_err(err)?;
        if stmt.params().len() != params.len() {
            return Err(ToolError::new(format!(
                "the statement has {} parameter(s) but {} value(s) were given in `params`",
                stmt.params().len(),
                params.len()
            )));
        }
        let n = tx.execute(&stmt, &refs(params)).await.map_err(err)?;
        let still: Option<i64> = tx
            .query_one("SELECT txid_current_if_assigned()", &[])
            .await
            .and_then(|r| r.try_get(0))
            .map_err(err)?;
        if still != Some(xid) {
            let _ = tx.rollback().await;
            return Err(ToolError::new(
                "the statement ended the server's transaction (COMMIT, ROLLBACK and other \
                 transaction control are not allowed in `execute`); send one data-changing \
                 statement",
            ));
        }
        match commit {
            None => {
                tx.rollback().await.map_err(err)?;
                Ok(Outcome::Done(n))
            }
            Some((_, _, _, expected)) if n != expected => {
                tx.rollback().await.map_err(err)?;
                Ok(Outcome::Changed(n))
            }
            Some((table, key, _, _)) => {
                let rows = i64::try_from(n).unwrap_or(i64::MAX);
                tx.execute(
                    &format!("UPDATE {table} SET rows_affected = $2 WHERE key = $1"),
                    &[&key, &rows],
                )
                .await
                .map_err(err)?;
                tx.commit().await.map_err(err)?;
                Ok(Outcome::Done(n))
            }
        }
    }
}

fn confirmation(target: &str, sql: &str, params: &[Value], rows: u64) -> ElicitRequest {
    let mut message = format!("Commit this change to the database {target}?\n\n{sql}\n");
    if !params.is_empty() {
        message.push_str(&format!(
            "\nParameters: {}\n",
            Value::Array(params.to_vec())
        ));
    }
    message.push_str(&format!(
        "\nA dry run affected {rows} row(s). Nothing is written unless you confirm."
    ));
    ElicitRequest::form(
        message,
        json!({
            "type": "object",
            "properties": {
                "confirm": {
                    "type": "boolean",
                    "title": "Commit this change",
                    "description": "Check to commit the statement; leave unchecked to cancel.",
                    "default": false
                }
            },
            "required": ["confirm"]
        }),
    )
}

/// Runs one data-changing statement: scoped, dry-runnable, idempotent, confirmed by the user.
pub(crate) async fn execute(
    State(app): State<App>,
    ctx: Context,
    Args(a): Args<ExecuteArgs>,
) -> Result<Json<ExecuteResult>, ToolError> {
    app.require_scope(&ctx, WRITE_SCOPE)?;
    let Some(pool) = app.db.writer.clone() else {
        return Err(ToolError::new(
            "writes are not set up on this server; nothing was run (the operator enables them with --allow-writes)",
        ));
    };
    let key = a.idempotency_key.trim().to_owned();
    if !valid_key(&key) {
        return Err(ToolError::new(
            "`idempotency_key` must be 8-200 characters of letters, digits, `-`, `_`, `.` or `:` — e.g. a UUID you make up once for this change",
        ));
    }
    let table = format!("\"{}\".idempotency_keys", app.config.state_schema);
    let digest = statement_digest(&a.sql, &a.params);
    let params: Vec<TextParam> = a.params.iter().map(TextParam::from_json).collect();

    // 1. A retry of an earlier call?
    if let Some(earlier) = lookup(&pool, &table, &key).await? {
        return replay(earlier, &digest, key);
    }

    // 2. Dry run.
    let rows = match run(&pool, &a.sql, &params, None).await? {
        Outcome::Done(n) => n,
        Outcome::KeyTaken | Outcome::Changed(_) => unreachable!("a trial claims no key"),
    };
    if a.dry_run {
        return Ok(Json(ExecuteResult {
            status: ExecuteStatus::DryRun,
            rows_affected: Some(rows),
            message: format!(
                "dry run: the statement affected {rows} row(s) and was rolled back; nothing \
                 changed. Call again without dry_run to commit it (the user will be asked to \
                 confirm)."
            ),
            idempotency_key: key,
        }));
    }

    // 3. Ask the user. The key names the row count they are shown.
    let answer = ctx
        .elicit(
            &format!("confirm_execute_{rows}"),
            confirmation(&app.db.target, &a.sql, &a.params, rows),
        )
        .await
        .map_err(|e| {
            ToolError::new(format!(
                "could not ask the user to confirm the change, so nothing was written: {e}"
            ))
        })?;
    let confirmed = answer.action == ElicitAction::Accept
        && answer
            .content
            .as_ref()
            .and_then(|c| c.get("confirm"))
            .and_then(Value::as_bool)
            == Some(true);
    if !confirmed {
        return Ok(Json(ExecuteResult {
            status: ExecuteStatus::Declined,
            rows_affected: None,
            message: "the user did not confirm the change; nothing was written".into(),
            idempotency_key: key,
        }));
    }

    // 4. Commit, claiming the key in the same transaction.
    match run(&pool, &a.sql, &params, Some((&table, &key, &digest, rows))).await? {
        Outcome::Done(n) => Ok(Json(ExecuteResult {
            status: ExecuteStatus::Committed,
            rows_affected: Some(n),
            message: format!("committed: {n} row(s) affected"),
            idempotency_key: key,
        })),
        Outcome::KeyTaken => match lookup(&pool, &table, &key).await? {
            Some(earlier) => replay(earlier, &digest, key),
            None => Err(ToolError::new(
                "another call with this idempotency key was in progress; retry to see its outcome",
            )),
        },
        Outcome::Changed(n) => Err(ToolError::new(format!(
            "nothing was written: the data changed since the user confirmed — the statement now \
             affects {n} row(s), not the {rows} they approved. Call again to ask them anew."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(valid_key("3f0c1a2e-7b9d-4c1e-9a0b-2d3e4f5a6b7c"));
        assert!(valid_key("order:42.retry_1"));
        assert!(!valid_key("short"));
        assert!(!valid_key("has space in it"));
        assert!(!valid_key(&"x".repeat(201)));
    }

    #[test]
    fn digests_cover_params() {
        let a = statement_digest("UPDATE t SET a = $1", &[json!(1)]);
        assert_ne!(a, statement_digest("UPDATE t SET a = $1", &[json!(2)]));
        assert_eq!(a.len(), 64);
    }
}
