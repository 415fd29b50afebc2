//! The shared state of every handler, and the helper that runs catalog reads.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::{Context, ToolError};

use super::config::Config;
use super::db::{begin_read, tidy, DbPool};
use super::privilege::Database;

/// Extra time, beyond the statement timeout, before the server gives up on a call itself (and
/// cancels its statement in PostgreSQL).
pub(crate) const GRACE: Duration = Duration::from_secs(3);

/// A future borrowing a transaction.
pub(crate) type TxFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, tokio_postgres::Error>> + Send + 'a>>;

/// Handler state: the pools and the configuration.
#[derive(Debug, Clone)]
pub(crate) struct App(Arc<AppInner>);

/// What [`App`] shares.
#[derive(Debug)]
pub(crate) struct AppInner {
    /// The pools and roles.
    pub(crate) db: Database,
    /// The configuration.
    pub(crate) config: Config,
}

impl std::ops::Deref for App {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}

impl App {
    /// The state for `db` and `config`.
    pub(crate) fn new(db: Database, config: Config) -> App {
        App(Arc::new(AppInner { db, config }))
    }

    /// Whether the caller holds `scope`.
    ///
    /// An authenticated caller (HTTP with the SDK's auth layer) holds the scopes of its token.
    /// Without an identity — stdio, where the caller is whoever launched the server — the
    /// caller holds the scopes the operator granted (`--allow-writes`, `--scopes`,
    /// `MCP_POSTGRES_SCOPES`).
    pub(crate) fn caller_has_scope(&self, ctx: &Context, scope: &str) -> bool {
        match ctx.identity() {
            Some(identity) => identity.has_scope(scope) && self.config.scopes.contains(scope),
            None => self.config.scopes.contains(scope),
        }
    }

    /// Fails unless the caller holds `scope`.
    pub(crate) fn require_scope(&self, ctx: &Context, scope: &str) -> Result<(), ToolError> {
        if self.caller_has_scope(ctx, scope) {
            return Ok(());
        }
        let how = if self.config.scopes.contains(scope) {
            "Writes are enabled on this server, but this caller's token lacks the scope."
        } else {
            "Writes are disabled on this server; read with `query`. (The server's operator can \
             grant the scope with --allow-writes or MCP_POSTGRES_SCOPES.)"
        };
        Err(ToolError::new(format!(
            "permission denied: `execute` needs the `{scope}` scope, and this caller does not \
             hold it, so nothing was run. {how}"
        )))
    }

    /// Runs `f` in a READ ONLY transaction on a reader connection, with the statement timeout,
    /// and rolls back. An interrupted call cancels its statement in PostgreSQL.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, ToolError>
    where
        T: Send,
        F: for<'a> FnOnce(&'a deadpool_postgres::Transaction<'a>) -> TxFuture<'a, T> + Send,
    {
        read_with(&self.db.reader, f).await
    }
}

/// [`App::read`] on any pool.
pub(crate) async fn read_with<T, F>(pool: &DbPool, f: F) -> Result<T, ToolError>
where
    T: Send,
    F: for<'a> FnOnce(&'a deadpool_postgres::Transaction<'a>) -> TxFuture<'a, T> + Send,
{
    let mut conn = pool.get().await?;
    let timeout = pool.statement_timeout();
    let outcome = tokio::time::timeout(timeout + GRACE, async {
        let result = async {
            let tx = begin_read(&mut conn, timeout).await?;
            let out = f(&tx).await?;
            tx.rollback().await?;
            Ok::<T, tokio_postgres::Error>(out)
        }
        .await;
        tidy(&mut conn).await;
        result
    })
    .await;
    match outcome {
        Ok(result) => {
            conn.release();
            result.map_err(|e| pool.error(&e))
        }
        Err(_) => Err(timed_out(timeout)),
    }
}

/// The message for a call the server stopped itself.
pub(crate) fn timed_out(timeout: Duration) -> ToolError {
    ToolError::new(format!(
        "the call took longer than the statement timeout ({} ms) and was stopped; its statement \
         was cancelled inside PostgreSQL. Make it cheaper: add WHERE conditions or a LIMIT, or \
         check its plan with `explain`.",
        timeout.as_millis()
    ))
}
