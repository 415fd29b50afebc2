//! Connection pools, the read-only transaction every read runs in, and errors a model can act on.

use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime, Timeouts,
};
use mcp_core::ToolError;
use tokio_postgres::error::SqlState;
use tokio_postgres::{CancelToken, NoTls};

/// Which pool a connection came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Reads: `query`, `explain`, the catalog tools, resources, prompts and completions.
    Read,
    /// Writes: `execute`.
    Write,
}

/// A pool plus what its errors should say.
#[derive(Clone)]
pub(crate) struct DbPool {
    pool: Pool,
    /// `host:port/dbname`, for messages (no credentials).
    target: String,
    statement_timeout: Duration,
    purpose: Purpose,
}

impl std::fmt::Debug for DbPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbPool")
            .field("target", &self.target)
            .field("purpose", &self.purpose)
            .field("status", &self.pool.status())
            .finish()
    }
}

/// `host:port/dbname` of a configuration, without credentials.
pub(crate) fn describe_target(cfg: &tokio_postgres::Config) -> String {
    let host = match cfg.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let db = cfg
        .get_dbname()
        .or(cfg.get_user())
        .unwrap_or("postgres")
        .to_owned();
    format!("{host}:{port}/{db}")
}

impl DbPool {
    /// A pool of at most `size` connections made with `cfg`.
    ///
    /// Recycling runs deadpool's "clean" sequence (`CLOSE ALL; RESET ALL; UNLISTEN *;
    /// SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES`), so session state a
    /// caller's statement may have left (advisory locks, settings) never leaks into the next call,
    /// and a connection that died with the server is noticed and replaced at checkout.
    pub(crate) fn new(
        cfg: tokio_postgres::Config,
        size: usize,
        wait: Duration,
        connect: Duration,
        statement_timeout: Duration,
        purpose: Purpose,
    ) -> Result<DbPool, String> {
        let target = describe_target(&cfg);
        let manager = Manager::from_config(
            cfg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Clean,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .timeouts(Timeouts {
                wait: Some(wait),
                create: Some(connect),
                recycle: Some(connect),
            })
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| format!("cannot build the connection pool: {e}"))?;
        Ok(DbPool {
            pool,
            target,
            statement_timeout,
            purpose,
        })
    }

    /// The statement timeout of this pool's calls.
    pub(crate) fn statement_timeout(&self) -> Duration {
        self.statement_timeout
    }

    /// A connection, or an error that says what to do about it.
    pub(crate) async fn get(&self) -> Result<Conn, ToolError> {
        match self.pool.get().await {
            Ok(obj) => {
                let cancel = obj.cancel_token();
                Ok(Conn {
                    obj: Some(obj),
                    cancel,
                    released: false,
                })
            }
            Err(e) => Err(ToolError::new(self.pool_error(&e))),
        }
    }

    fn pool_error(&self, e: &PoolError) -> String {
        let status = self.pool.status();
        match e {
            PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => format!(
                "the connection pool is exhausted: all {} connections are busy with other calls; \
                 nothing was run. Retry in a moment, or make concurrent queries cheaper (the \
                 server's operator can raise --pool-size).",
                status.max_size
            ),
            PoolError::Timeout(_) => format!(
                "PostgreSQL at {} did not accept a connection in time; nothing was run. Check \
                 that the database is up and reachable, then retry: the server reconnects by \
                 itself, no restart needed.",
                self.target
            ),
            PoolError::Backend(e) => {
                if let Some(db) = e.as_db_error() {
                    if *db.code() == SqlState::INVALID_PASSWORD
                        || *db.code() == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
                    {
                        return format!(
                            "PostgreSQL at {} refused the server's login: {}. The server's \
                             operator must fix the credentials (or pg_hba.conf).",
                            self.target,
                            db.message()
                        );
                    }
                    if *db.code() == SqlState::TOO_MANY_CONNECTIONS {
                        return format!(
                            "PostgreSQL at {} has no connection slots left ({}); retry in a moment.",
                            self.target,
                            db.message()
                        );
                    }
                }
                format!(
                    "PostgreSQL at {} is unreachable ({e}); nothing was run. Check that the \
                     database is running, then retry: the server reconnects by itself, no \
                     restart needed.",
                    self.target
                )
            }
            other => format!("no database connection: {other}"),
        }
    }

    /// Turns a statement error into a message for the model.
    pub(crate) fn error(&self, e: &tokio_postgres::Error) -> ToolError {
        ToolError::new(explain_error(
            e,
            self.purpose,
            self.statement_timeout,
            &self.target,
        ))
    }
}

/// A pooled connection that cleans up after an interrupted call.
///
/// When a call is cancelled by the client, or times out on our side, its future is dropped in
/// the middle of a statement. Dropping a tokio-postgres future does not stop the statement in
/// the database, so `Conn` does: unless [`Conn::release`] was reached, its `Drop` sends
/// PostgreSQL a cancel request for the running statement and retires the connection instead of
/// returning it to the pool (where the late cancel could hit the next caller's statement).
pub(crate) struct Conn {
    obj: Option<Object>,
    cancel: CancelToken,
    released: bool,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("released", &self.released)
            .finish_non_exhaustive()
    }
}

impl Conn {
    /// The connection's client.
    pub(crate) fn client(&mut self) -> &mut Object {
        // `obj` is only taken in `drop`.
        self.obj.as_mut().unwrap_or_else(|| unreachable!())
    }

    /// Marks the call finished: the connection goes back to the pool.
    pub(crate) fn release(mut self) {
        self.released = true;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let Some(obj) = self.obj.take() else { return };
        // Take the connection out of the pool for good; keep it open until the cancel request
        // has been delivered, then close it.
        let client = Object::take(obj);
        let cancel = self.cancel.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Err(e) = cancel.cancel_query(NoTls).await {
                        tracing::warn!("could not cancel an interrupted statement: {e}");
                    }
                    drop(client);
                });
            }
            Err(_) => drop(client),
        }
    }
}

/// Releases what a caller's statement may have left on the session beyond its (rolled back)
/// transaction — session-level advisory locks, cursors — before the connection goes back to the
/// pool. (The pool's recycling also resets the session at the next checkout; this makes it
/// immediate.) Queued after the transaction's ROLLBACK, so it runs after it.
pub(crate) async fn tidy(conn: &mut Conn) {
    if let Err(e) = conn
        .client()
        .batch_execute("SELECT pg_advisory_unlock_all(); CLOSE ALL")
        .await
    {
        tracing::debug!("could not tidy a connection: {e}");
    }
}

/// Starts a READ ONLY transaction and sets its limits.
///
/// The limits are set with `set_config(…, true)` inside a `SELECT`, which also takes the
/// transaction's snapshot: from then on PostgreSQL refuses `SET TRANSACTION READ WRITE`
/// ("must be called before any query"), so the caller's statement cannot lift read-only mode.
pub(crate) async fn begin_read(
    conn: &mut Conn,
    timeout: Duration,
) -> Result<deadpool_postgres::Transaction<'_>, tokio_postgres::Error> {
    let tx = conn
        .client()
        .build_transaction()
        .read_only(true)
        .start()
        .await?;
    set_limits(&tx, timeout).await?;
    Ok(tx)
}

/// Starts a READ WRITE transaction with the same limits.
pub(crate) async fn begin_write(
    conn: &mut Conn,
    timeout: Duration,
) -> Result<deadpool_postgres::Transaction<'_>, tokio_postgres::Error> {
    let tx = conn
        .client()
        .build_transaction()
        .read_only(false)
        .start()
        .await?;
    set_limits(&tx, timeout).await?;
    Ok(tx)
}

async fn set_limits(
    tx: &deadpool_postgres::Transaction<'_>,
    timeout: Duration,
) -> Result<(), tokio_postgres::Error> {
    let ms = timeout.as_millis().to_string();
    let idle = (timeout.as_millis() * 4).max(60_000).to_string();
    tx.execute(
        "SELECT set_config('statement_timeout', $1, true), \
                set_config('lock_timeout', $1, true), \
                set_config('idle_in_transaction_session_timeout', $2, true)",
        &[&ms, &idle],
    )
    .await?;
    Ok(())
}

/// A message for the model: what PostgreSQL said, and what to do about it.
pub(crate) fn explain_error(
    e: &tokio_postgres::Error,
    purpose: Purpose,
    timeout: Duration,
    target: &str,
) -> String {
    let Some(db) = e.as_db_error() else {
        if e.is_closed() {
            return format!(
                "the connection to PostgreSQL at {target} was lost ({e}); the statement may not \
                 have run. Retry: the server reconnects by itself."
            );
        }
        return format!("database error: {e}");
    };
    let mut msg = format!("PostgreSQL error {}: {}", db.code().code(), db.message());
    if let Some(d) = db.detail() {
        msg.push_str(&format!("\nDetail: {d}"));
    }
    if let Some(h) = db.hint() {
        msg.push_str(&format!("\nHint: {h}"));
    }
    if let Some(tokio_postgres::error::ErrorPosition::Original(p)) = db.position() {
        msg.push_str(&format!("\nAt character {p} of the SQL."));
    }
    let code = db.code();
    let advice = if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        match purpose {
            Purpose::Read => Some(
                "This tool is read-only: PostgreSQL runs it in a READ ONLY transaction. \
                 Use the `execute` tool to change data (it needs the postgres:write scope and \
                 the user's confirmation).",
            ),
            Purpose::Write => None,
        }
    } else if *code == SqlState::QUERY_CANCELED {
        Some("The statement was stopped by the statement timeout. Make it cheaper: add WHERE conditions or a LIMIT, or check its plan with `explain`.")
    } else if *code == SqlState::LOCK_NOT_AVAILABLE {
        Some("The statement waited too long for a lock held by another session. Retry later.")
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        match purpose {
            Purpose::Read => Some(
                "The server reads as a restricted role: it may read tables but not server \
                 files, run programs, signal other sessions, or write anything.",
            ),
            Purpose::Write => Some(
                "The server's write role lacks this privilege; the database owner decides what \
                 it may change.",
            ),
        }
    } else if *code == SqlState::SYNTAX_ERROR && db.message().contains("multiple commands") {
        Some("Send exactly one SQL statement per call, without a second statement after a `;`.")
    } else if *code == SqlState::UNDEFINED_TABLE {
        Some("Call `list_tables` to see the tables, and qualify names with their schema.")
    } else if *code == SqlState::UNDEFINED_COLUMN {
        Some("Call `describe_table` to see the table's columns.")
    } else {
        None
    };
    if let Some(a) = advice {
        msg.push_str("\n\n");
        msg.push_str(a);
    }
    if *code == SqlState::QUERY_CANCELED {
        msg.push_str(&format!(" (timeout: {} ms)", timeout.as_millis()));
    }
    msg
}
