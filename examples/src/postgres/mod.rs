//! `postgres-server`: a PostgreSQL MCP server that a database owner can point at a real
//! database.
//!
//! - `query` runs one read-only statement in a READ ONLY transaction, as a role that can only
//!   read, with a statement timeout and a row cap, a page at a time. PostgreSQL enforces all of
//!   it; the server never looks at the SQL text to decide what is allowed.
//! - `list_tables`, `describe_table` and `explain` browse the catalog; the resources
//!   `postgres://tables` and `postgres://{schema}/{table}/schema` (with completions) carry the
//!   same, and the prompts `explore_table` and `write_query` put them to work.
//! - `execute` changes data only with the `postgres:write` scope, an idempotency key and the
//!   user's confirmation, and can dry-run.
//! - Given a superuser (or any role that can do more than read), the server runs its tools as
//!   restricted roles it creates — or refuses to start, with `--privileged-role refuse`.
//!
//! The modules follow a call's path: [`Config`] (flags and environment) → [`connect`]
//! (`privilege`: inspect the role, provision restricted roles, build the pools in `db`) →
//! [`router`] (`server`: the tools of `catalog`, `query` and `write`, the `prompts`; `values`
//! turns PostgreSQL values into JSON). The full guide is `docs/postgres.md`.
//!
//! ```no_run
//! use mcp_examples::postgres::{self, Config};
//!
//! # async fn example() -> std::io::Result<()> {
//! let url = "postgres://mcp_ro:secret@localhost:5432/shop".to_owned();
//! let config = Config::parse(Vec::<String>::new(), |var| (var == "DATABASE_URL").then(|| url.clone()))?;
//! let db = postgres::connect(&config).await.map_err(std::io::Error::other)?;
//! let router = postgres::router(db, config);
//! # let _ = router;
//! # Ok(()) }
//! ```

mod app;
mod catalog;
mod config;
mod db;
mod privilege;
mod prompts;
mod query;
mod server;
mod values;
mod write;

use mcp_core::Router;

pub use config::Config;
pub use privilege::{connect, Database};

/// Every tool, resource, template, completion and prompt of the server, over a connected
/// database.
pub fn router(db: Database, config: Config) -> Router {
    server::router(app::App::new(db, config))
}

impl Config {
    /// How the server is to be served: stdio or `--http ADDR`.
    pub fn transport(&self) -> &crate::Cli {
        &self.transport
    }
}

impl Database {
    /// What the operator should know about the roles the tools run as, for the startup line.
    pub fn describe_roles(&self) -> String {
        match &self.restricted_from {
            Some(from) => format!(
                "{target}: the role {from} can do more than read; tools run as the restricted \
                 roles {reader}{writer}",
                target = self.target,
                reader = self.reader_role,
                writer = self
                    .writer_role
                    .as_deref()
                    .map(|w| format!(" (reads) and {w} (writes)"))
                    .unwrap_or_default(),
            ),
            None => format!(
                "{target}: tools run as {reader}",
                target = self.target,
                reader = self.reader_role
            ),
        }
    }
}
