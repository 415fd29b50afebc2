//! A PostgreSQL MCP server that a database owner can point at a real database
//! (`mcp_examples::postgres`; the full guide is `docs/postgres.md`).
//!
//! Run with `DATABASE_URL=postgres://user:password@localhost:5432/dbname cargo run -p
//! mcp-examples --bin postgres-server` (stdio; `--allow-writes` enables `execute`, `--help`
//! lists every option).

use mcp_examples::postgres::{self, Config};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    mcp_examples::init_tracing();
    let config = Config::from_env().unwrap_or_else(|e| refuse(e));
    let db = postgres::connect(&config)
        .await
        .unwrap_or_else(|message| refuse(message));
    eprintln!("postgres-server: {}", db.describe_roles());
    let transport = config.transport().clone();
    mcp_examples::serve(postgres::router(db, config), transport).await
}

/// Bad configuration, or a database the server will not run against: exit status 2.
fn refuse(message: impl std::fmt::Display) -> ! {
    eprintln!("postgres-server: {message}");
    std::process::exit(2)
}
