//! The router: every tool, resource, template, completion and prompt, over the shared state.

use std::time::Duration;

use mcp_core::{CompletionDef, PromptDef, ResourceDef, Router, TemplateDef, ToolDef};

use super::app::App;
use super::catalog::{TABLES_URI, TABLE_SCHEMA_TEMPLATE};
use super::config::WRITE_SCOPE;
use super::{catalog, prompts, query, write};

fn instructions(app: &App) -> String {
    let roles = match &app.db.restricted_from {
        Some(from) => format!(
            " The configured role {from} can do more than read, so reads run as the restricted role {}.",
            app.db.reader_role
        ),
        None => String::new(),
    };
    let writes = if app.config.writes_enabled() {
        "`execute` changes data: try it with dry_run first; it asks the user to confirm before it commits, and needs an idempotency key."
    } else {
        "Writes are disabled on this server (`execute` will refuse)."
    };
    format!(
        "PostgreSQL database {target}. Start with `list_tables` and `describe_table` (or the \
         postgres://tables and postgres://{{schema}}/{{table}}/schema resources), check costly \
         statements with `explain`, and read with `query`: one statement per call, read-only, \
         at most {cap} rows per page, {timeout} ms per statement.{roles} {writes}",
        target = app.db.target,
        cap = app.config.max_rows,
        timeout = app.config.statement_timeout.as_millis(),
    )
}

/// `execute`. Over HTTP it also declares the `postgres:write` scope, which the SDK enforces
/// per authenticated caller (an unauthenticated HTTP caller can never write). On stdio the
/// caller is whoever launched the process, so the operator's grant (`--allow-writes`) decides,
/// checked by the handler itself.
fn execute_tool(app: &App) -> ToolDef<App> {
    let tool = ToolDef::new("execute", write::execute)
        .title("Change data (confirmed)")
        .description(
            "Runs one data-changing statement (INSERT, UPDATE, DELETE, MERGE). Needs the \
             postgres:write scope. With dry_run it runs in a transaction, reports the \
             affected rows and rolls back. Otherwise the user is asked to confirm the \
             statement and its row count before it is committed. `idempotency_key` makes \
             retries safe: a key that was already used returns the earlier outcome instead \
             of writing again.",
        )
        .read_only(false)
        .destructive(true)
        .idempotent(true)
        .open_world(false)
        .timeout(Duration::from_secs(600));
    match app.config.transport {
        crate::Cli::Http(_) => tool.scopes([WRITE_SCOPE]),
        crate::Cli::Stdio => tool,
    }
}

/// The server's router, with `app` as its state.
pub(crate) fn router(app: App) -> Router {
    let slack = app.config.statement_timeout * 2 + Duration::from_secs(10);
    Router::new()
        .tool(
            ToolDef::new("query", query::query)
                .title("Run a read-only SQL query")
                .description(
                    "Runs exactly one read-only SQL statement and returns its columns (with \
                     types) and a page of rows. PostgreSQL enforces read-only: the statement runs \
                     in a READ ONLY transaction as a role that can only read, with a statement \
                     timeout and a row cap. For large results pass `nextCursor` back as `cursor` \
                     to get the next page (keep sql and params the same; use ORDER BY).",
                )
                .read_only(true)
                .idempotent(true)
                .open_world(false)
                .timeout(slack),
        )
        .tool(
            ToolDef::new("list_tables", catalog::list_tables)
                .title("List tables")
                .description(
                    "Lists the tables and views the server may read: schema, name, kind, \
                     estimated row count and comment.",
                )
                .read_only(true)
                .idempotent(true)
                .open_world(false),
        )
        .tool(
            ToolDef::new("describe_table", catalog::describe_table)
                .title("Describe a table")
                .description(
                    "Describes one table or view: columns (type, nullability, default, \
                     comment), constraints (primary, foreign, unique, check) and indexes.",
                )
                .read_only(true)
                .idempotent(true)
                .open_world(false),
        )
        .tool(
            ToolDef::new("explain", query::explain)
                .title("Show a query plan")
                .description(
                    "Shows the plan PostgreSQL would use for one statement (EXPLAIN, FORMAT \
                     JSON, without ANALYZE: the statement is not run). Use it to check that a \
                     query on a large table uses an index before running it.",
                )
                .read_only(true)
                .idempotent(true)
                .open_world(false)
                .timeout(slack),
        )
        .tool(execute_tool(&app))
        .resource(
            ResourceDef::new(TABLES_URI, "tables", catalog::tables_resource)
                .title("All tables")
                .description("Every table and view the server may read, as JSON")
                .mime_type("application/json"),
        )
        .resource_template(
            TemplateDef::new(
                TABLE_SCHEMA_TEMPLATE,
                "table-schema",
                catalog::table_schema_resource,
            )
            .description("One table's columns, constraints and indexes, as JSON")
            .mime_type("application/json"),
        )
        .completion(CompletionDef::template(
            TABLE_SCHEMA_TEMPLATE,
            "schema",
            catalog::complete_schema,
        ))
        .completion(CompletionDef::template(
            TABLE_SCHEMA_TEMPLATE,
            "table",
            catalog::complete_table,
        ))
        .prompt(
            PromptDef::new("explore_table", prompts::explore_table)
                .title("Explore a table")
                .description(
                    "Explore one table step by step: size, samples, columns, relationships",
                ),
        )
        .prompt(
            PromptDef::new("write_query", prompts::write_query)
                .title("Write a query")
                .description(
                    "Write one read-only query that answers a question, with the schema in view",
                ),
        )
        .completion(CompletionDef::prompt(
            "explore_table",
            "schema",
            catalog::complete_schema,
        ))
        .completion(CompletionDef::prompt(
            "explore_table",
            "table",
            catalog::complete_table,
        ))
        .completion(CompletionDef::prompt(
            "write_query",
            "schema",
            catalog::complete_schema,
        ))
        .instructions(instructions(&app))
        .server_info(mcp_core::crate_info!())
        .with_state(app)
}
