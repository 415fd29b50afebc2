//! A PostgreSQL MCP server that a database owner can point at a real database.
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
//! Run with `DATABASE_URL=postgres://user:password@localhost:5432/dbname cargo run -p
//! mcp-examples --bin postgres-server` (stdio; `--allow-writes` enables `execute`, `--help`
//! lists every option). The full guide is `docs/postgres.md`.

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

use crate::app::App;
use crate::config::Config;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    mcp_examples::init_tracing();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("postgres-server: {e}");
            std::process::exit(2);
        }
    };
    let db = match privilege::connect(&config).await {
        Ok(db) => db,
        Err(message) => {
            eprintln!("postgres-server: {message}");
            std::process::exit(2);
        }
    };
    match &db.restricted_from {
        Some(from) => eprintln!(
            "postgres-server: {target}: the role {from} can do more than read; tools run as the \
             restricted roles {reader}{writer}",
            target = db.target,
            reader = db.reader_role,
            writer = db
                .writer_role
                .as_deref()
                .map(|w| format!(" (reads) and {w} (writes)"))
                .unwrap_or_default(),
        ),
        None => eprintln!(
            "postgres-server: {target}: tools run as {reader}",
            target = db.target,
            reader = db.reader_role
        ),
    }
    let transport = config.transport.clone();
    let app = App::new(db, config);
    let router = server::router(app);
    match transport {
        mcp_examples::Cli::Stdio => mcp_transport::stdio::serve(router).await,
        mcp_examples::Cli::Http(addr) => mcp_examples::serve_http(router, addr).await,
    }
}
