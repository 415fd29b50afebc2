//! Prompts: `explore_table` and `write_query`.

use mcp_core::protocol::{ContentBlock, PromptMessage, ResourceContents, Role};
use mcp_core::response::McpError;
use mcp_core::{Args, State};
use schemars::JsonSchema;
use serde::Deserialize;

use super::app::App;
use super::catalog::{describe, table_schema_uri, Described};

/// Arguments of `explore_table`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ExploreArgs {
    /// The table to explore.
    pub(crate) table: String,
    /// Its schema (default `public`).
    #[serde(default)]
    pub(crate) schema: Option<String>,
}

/// A guided exploration of one table, with its schema attached.
pub(crate) async fn explore_table(
    State(app): State<App>,
    Args(a): Args<ExploreArgs>,
) -> Result<Vec<PromptMessage>, McpError> {
    let schema = a
        .schema
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "public".into());
    let table = a.table;
    let d = match describe(&app, schema.clone(), table.clone())
        .await
        .map_err(|e| McpError::internal(e.to_string()))?
    {
        Described::Found(d) => d,
        Described::Missing(similar) => {
            let hint = if similar.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", similar.join(", "))
            };
            return Err(McpError::invalid_params(format!(
                "no readable table {schema}.{table}{hint}"
            )));
        }
    };
    let json = serde_json::to_string_pretty(&*d).map_err(|e| McpError::internal(e.to_string()))?;
    let estimate = match d.estimated_rows {
        Some(n) => format!("PostgreSQL estimates {n} rows."),
        None => "Its size is unknown (never analyzed).".into(),
    };
    let text = format!(
        "Explore the {kind} {schema}.{table} of this PostgreSQL database; its definition is \
         attached. {estimate}\n\n\
         Use only the read tools (`query`, `describe_table`, `explain`); do not call `execute`.\n\
         1. Count its rows (SELECT count(*) …) if the estimate is small enough, else rely on \
         the estimate.\n\
         2. Look at 10 sample rows (add ORDER BY on the primary key).\n\
         3. For the important columns: null counts, distinct counts, ranges or most common \
         values.\n\
         4. Follow its foreign keys with `describe_table` and check that references resolve.\n\
         5. Summarise what a row means, its keys and relationships, and any data-quality \
         issues you found.",
        kind = d.kind,
    );
    Ok(vec![
        PromptMessage {
            role: Role::User,
            content: ContentBlock::resource(
                ResourceContents::text(table_schema_uri(&schema, &table), json)
                    .with_mime_type("application/json"),
            ),
        },
        PromptMessage::user(text),
    ])
}

/// Arguments of `write_query`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct WriteQueryArgs {
    /// The question the query should answer, in plain words.
    pub(crate) question: String,
    /// The schema to work in (default `public`).
    #[serde(default)]
    pub(crate) schema: Option<String>,
}

/// Help writing one read-only query, with the schema's tables and foreign keys in view.
pub(crate) async fn write_query(
    State(app): State<App>,
    Args(a): Args<WriteQueryArgs>,
) -> Result<String, McpError> {
    let schema = a
        .schema
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "public".into());
    let s = schema.clone();
    let (tables, keys) = app
        .read(move |tx| {
            Box::pin(async move {
                let tables = tx
                    .query(
                        "SELECT c.relname::text, string_agg(quote_ident(a.attname) || ' ' || \
                                format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) \
                         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') \
                           AND NOT c.relispartition AND has_table_privilege(c.oid, 'SELECT') \
                         GROUP BY c.relname ORDER BY 1 LIMIT 50",
                        &[&s],
                    )
                    .await?
                    .iter()
                    .map(|r| Ok(format!("- {}({})", r.try_get::<_, String>(0)?, r.try_get::<_, String>(1)?)))
                    .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
                let keys = tx
                    .query(
                        "SELECT c.relname || ': ' || pg_get_constraintdef(k.oid, true) \
                         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
                         JOIN pg_namespace n ON n.oid = c.relnamespace \
                         WHERE k.contype = 'f' AND n.nspname = $1 AND has_table_privilege(c.oid, 'SELECT') \
                         ORDER BY 1 LIMIT 100",
                        &[&s],
                    )
                    .await?
                    .iter()
                    .map(|r| Ok(format!("- {}", r.try_get::<_, String>(0)?)))
                    .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
                Ok((tables, keys))
            })
        })
        .await
        .map_err(|e| McpError::internal(e.to_string()))?;
    if tables.is_empty() {
        return Err(McpError::invalid_params(format!(
            "the schema {schema} has no tables this server may read"
        )));
    }
    let keys = if keys.is_empty() {
        "(none)".to_owned()
    } else {
        keys.join("\n")
    };
    Ok(format!(
        "Write one read-only PostgreSQL query that answers this question:\n\n{question}\n\n\
         Tables in schema {schema} (name(column type, …)):\n{tables}\n\n\
         Foreign keys:\n{keys}\n\n\
         Rules:\n\
         - Exactly one statement (SELECT or WITH … SELECT); it runs in a read-only transaction.\n\
         - Put values the user supplied in `params` as $1, $2, … instead of in the SQL text.\n\
         - Use `describe_table` if you need constraints or indexes, and `explain` to check the \
         plan of anything that may scan large tables.\n\
         - Run it with the `query` tool. Results come a page at a time (at most {cap} rows); \
         add ORDER BY so pages are stable, and aggregate rather than fetch raw rows when you can.\n\
         - Then answer the question from the result, showing the query you ran.",
        question = a.question,
        tables = tables.join("\n"),
        cap = app.config.max_rows,
    ))
}
