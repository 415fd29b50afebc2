//! The catalog: `list_tables`, `describe_table`, the schema resources and their completions.
//!
//! Every catalog query is fixed SQL with the names passed as parameters.

use mcp_core::extract::Uri;
use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
use mcp_core::protocol::{Completion, ResourceContents};
use mcp_core::response::McpError;
use mcp_core::router::Completing;
use mcp_core::{Args, Context, Json, State, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::app::App;

/// Kinds of relations the catalog shows.
const RELATION_KINDS: &str = "c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition";

/// Schemas never shown: PostgreSQL's own, and the server's state schema (`$1`).
const VISIBLE_SCHEMA: &str = "n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' \
     AND n.nspname <> $1 AND has_schema_privilege(n.oid, 'USAGE')";

/// One table (or view) in the list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TableInfo {
    /// Its schema.
    pub(crate) schema: String,
    /// Its name.
    pub(crate) name: String,
    /// `table`, `partitioned table`, `view`, `materialized view` or `foreign table`.
    pub(crate) kind: String,
    /// PostgreSQL's estimate of its row count (from the last ANALYZE); null when unknown.
    pub(crate) estimated_rows: Option<i64>,
    /// Its comment, if it has one.
    pub(crate) comment: Option<String>,
}

/// The tables a caller may read.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct TableList {
    /// Tables and views, ordered by schema and name.
    pub(crate) tables: Vec<TableInfo>,
}

/// Arguments of `list_tables`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub(crate) struct ListTablesArgs {
    /// Only this schema (default: every schema).
    #[serde(default)]
    pub(crate) schema: Option<String>,
}

/// The tables and views the server may read, at most 1000.
pub(crate) async fn fetch_tables(
    app: &App,
    schema: Option<String>,
) -> Result<TableList, ToolError> {
    let state = app.config.state_schema.clone();
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, \
                CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' \
                     WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END, \
                CASE WHEN c.relkind IN ('r', 'p', 'm') AND c.reltuples >= 0 THEN c.reltuples::bigint END, \
                obj_description(c.oid, 'pg_class') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {RELATION_KINDS} AND {VISIBLE_SCHEMA} \
           AND ($2::text IS NULL OR n.nspname = $2) \
           AND has_table_privilege(c.oid, 'SELECT') \
         ORDER BY 1, 2 LIMIT 1000"
    );
    let tables = app
        .read(move |tx| {
            Box::pin(async move {
                let rows = tx.query(&sql, &[&state, &schema]).await?;
                rows.iter()
                    .map(|r| {
                        Ok(TableInfo {
                            schema: r.try_get(0)?,
                            name: r.try_get(1)?,
                            kind: r.try_get(2)?,
                            estimated_rows: r.try_get(3)?,
                            comment: r.try_get(4)?,
                        })
                    })
                    .collect::<Result<Vec<_>, tokio_postgres::Error>>()
            })
        })
        .await?;
    Ok(TableList { tables })
}

/// Lists the tables and views the server may read.
pub(crate) async fn list_tables(
    State(app): State<App>,
    Args(a): Args<ListTablesArgs>,
) -> Result<Json<TableList>, ToolError> {
    Ok(Json(fetch_tables(&app, a.schema).await?))
}

/// Arguments of `describe_table`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct DescribeArgs {
    /// The table's schema (default `public`).
    #[serde(default)]
    pub(crate) schema: Option<String>,
    /// The table's name, as `list_tables` shows it (without quotes).
    pub(crate) table: String,
}

/// A column.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ColumnDescription {
    /// Its name.
    pub(crate) name: String,
    /// Its type, as SQL writes it (e.g. `character varying(80)`, `numeric(10,2)`).
    #[serde(rename = "type")]
    pub(crate) type_name: String,
    /// Whether it may be NULL.
    pub(crate) nullable: bool,
    /// Its default expression, if any.
    pub(crate) default: Option<String>,
    /// `always` or `by default` for identity columns.
    pub(crate) identity: Option<String>,
    /// The expression of a generated column.
    pub(crate) generated: Option<String>,
    /// Its comment, if it has one.
    pub(crate) comment: Option<String>,
}

/// A constraint.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct ConstraintDescription {
    /// Its name.
    pub(crate) name: String,
    /// `primary key`, `foreign key`, `unique`, `check`, `exclusion` or `not null`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// Its definition, e.g. `FOREIGN KEY (customer_id) REFERENCES customers(id)`.
    pub(crate) definition: String,
}

/// An index.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct IndexDescription {
    /// Its name.
    pub(crate) name: String,
    /// `CREATE INDEX …` as PostgreSQL would recreate it.
    pub(crate) definition: String,
    /// Whether it enforces uniqueness.
    pub(crate) unique: bool,
    /// Whether it is the primary key's.
    pub(crate) primary: bool,
}

/// Everything about one table.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TableDescription {
    /// Its schema.
    pub(crate) schema: String,
    /// Its name.
    pub(crate) name: String,
    /// `table`, `view`, …
    pub(crate) kind: String,
    /// PostgreSQL's estimate of its row count; null when unknown.
    pub(crate) estimated_rows: Option<i64>,
    /// Its comment.
    pub(crate) comment: Option<String>,
    /// Its columns, in order.
    pub(crate) columns: Vec<ColumnDescription>,
    /// Its constraints.
    pub(crate) constraints: Vec<ConstraintDescription>,
    /// Its indexes.
    pub(crate) indexes: Vec<IndexDescription>,
    /// A view's definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) view_definition: Option<String>,
}

/// What `describe` found.
pub(crate) enum Described {
    /// The table.
    Found(Box<TableDescription>),
    /// No such readable table; similar names, if any.
    Missing(Vec<String>),
}

/// Describes `schema.table`.
pub(crate) async fn describe(
    app: &App,
    schema: String,
    table: String,
) -> Result<Described, ToolError> {
    let state = app.config.state_schema.clone();
    let find = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, \
                CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' \
                     WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END, \
                CASE WHEN c.relkind IN ('r', 'p', 'm') AND c.reltuples >= 0 THEN c.reltuples::bigint END, \
                obj_description(c.oid, 'pg_class'), \
                CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {VISIBLE_SCHEMA} \
           AND n.nspname = $2 AND c.relname = $3 AND has_table_privilege(c.oid, 'SELECT')"
    );
    let similar = format!(
        "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {RELATION_KINDS} AND {VISIBLE_SCHEMA} AND has_table_privilege(c.oid, 'SELECT') \
           AND (c.relname ILIKE '%' || $2 || '%' OR $2 ILIKE '%' || c.relname || '%') \
         ORDER BY 1 LIMIT 5"
    );
    app.read(move |tx| {
        Box::pin(async move {
            let Some(t) = tx.query_opt(&find, &[&state, &schema, &table]).await? else {
                let rows = tx.query(&similar, &[&state, &table]).await?;
                let names = rows
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect::<Result<Vec<String>, _>>()?;
                return Ok(Described::Missing(names));
            };
            let oid: u32 = t.try_get(0)?;
            let columns = tx
                .query(
                    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, \
                            CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END, \
                            CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END, \
                            CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END, \
                            col_description(a.attrelid, a.attnum) \
                     FROM pg_attribute a \
                     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                     WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
                     ORDER BY a.attnum",
                    &[&oid],
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(ColumnDescription {
                        name: r.try_get(0)?,
                        type_name: r.try_get(1)?,
                        nullable: r.try_get(2)?,
                        default: r.try_get(3)?,
                        identity: r.try_get(4)?,
                        generated: r.try_get(5)?,
                        comment: r.try_get(6)?,
                    })
                })
                .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
            let constraints = tx
                .query(
                    "SELECT conname::text, \
                            CASE contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key' \
                                 WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' \
                                 ELSE 'other' END, \
                            pg_get_constraintdef(oid, true) \
                     FROM pg_constraint WHERE conrelid = $1 \
                     ORDER BY array_position(ARRAY['p','u','f','c','x']::\"char\"[], contype), conname",
                    &[&oid],
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(ConstraintDescription {
                        name: r.try_get(0)?,
                        kind: r.try_get(1)?,
                        definition: r.try_get(2)?,
                    })
                })
                .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
            let indexes = tx
                .query(
                    "SELECT c.relname::text, pg_get_indexdef(i.indexrelid, 0, true), i.indisunique, i.indisprimary \
                     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                     WHERE i.indrelid = $1 ORDER BY i.indisprimary DESC, c.relname",
                    &[&oid],
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(IndexDescription {
                        name: r.try_get(0)?,
                        definition: r.try_get(1)?,
                        unique: r.try_get(2)?,
                        primary: r.try_get(3)?,
                    })
                })
                .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
            Ok(Described::Found(Box::new(TableDescription {
                schema: t.try_get(1)?,
                name: t.try_get(2)?,
                kind: t.try_get(3)?,
                estimated_rows: t.try_get(4)?,
                comment: t.try_get(5)?,
                view_definition: t.try_get(6)?,
                columns,
                constraints,
                indexes,
            })))
        })
    })
    .await
}

fn missing_message(schema: &str, table: &str, similar: &[String]) -> String {
    let mut msg = format!("there is no table or view {schema}.{table} that this server may read");
    if similar.is_empty() {
        msg.push_str("; call `list_tables` to see the tables");
    } else {
        msg.push_str(&format!("; did you mean {}?", similar.join(", ")));
    }
    msg
}

/// Describes one table: columns, constraints, indexes.
pub(crate) async fn describe_table(
    State(app): State<App>,
    Args(a): Args<DescribeArgs>,
) -> Result<Json<TableDescription>, ToolError> {
    let schema = a.schema.unwrap_or_else(|| "public".into());
    match describe(&app, schema.clone(), a.table.clone()).await? {
        Described::Found(t) => Ok(Json(*t)),
        Described::Missing(similar) => {
            Err(ToolError::new(missing_message(&schema, &a.table, &similar)))
        }
    }
}

/// The URI of the table list resource.
pub(crate) const TABLES_URI: &str = "postgres://tables";
/// The URI template of one table's schema.
pub(crate) const TABLE_SCHEMA_TEMPLATE: &str = "postgres://{schema}/{table}/schema";

/// The URI of one table's schema resource.
pub(crate) fn table_schema_uri(schema: &str, table: &str) -> String {
    format!("postgres://{schema}/{table}/schema")
}

fn not_found(ctx: &Context, uri: &str, message: String) -> McpError {
    let code = if ctx.era().is_modern() {
        ErrorCode::INVALID_PARAMS
    } else {
        ErrorCode::RESOURCE_NOT_FOUND
    };
    McpError(ErrorObject::new(code, message).with_data(json!({"uri": uri})))
}

fn pretty<T: Serialize>(v: &T) -> Result<String, McpError> {
    serde_json::to_string_pretty(v).map_err(|e| McpError::internal(e.to_string()))
}

/// `postgres://tables`: every readable table and view.
pub(crate) async fn tables_resource(State(app): State<App>) -> Result<ResourceContents, McpError> {
    let list = fetch_tables(&app, None)
        .await
        .map_err(|e| McpError::internal(e.to_string()))?;
    Ok(ResourceContents::text(TABLES_URI, pretty(&list)?).with_mime_type("application/json"))
}

/// The variables of [`TABLE_SCHEMA_TEMPLATE`].
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct TableRef {
    /// The schema.
    pub(crate) schema: String,
    /// The table.
    pub(crate) table: String,
}

/// `postgres://{schema}/{table}/schema`: one table's description.
pub(crate) async fn table_schema_resource(
    State(app): State<App>,
    ctx: Context,
    Uri(uri): Uri,
    Args(t): Args<TableRef>,
) -> Result<ResourceContents, McpError> {
    match describe(&app, t.schema.clone(), t.table.clone())
        .await
        .map_err(|e| McpError::internal(e.to_string()))?
    {
        Described::Found(d) => {
            Ok(ResourceContents::text(uri, pretty(&*d)?).with_mime_type("application/json"))
        }
        Described::Missing(similar) => {
            let msg = missing_message(&t.schema, &t.table, &similar);
            Err(not_found(&ctx, &uri, format!("resource not found: {msg}")))
        }
    }
}

fn completion(mut values: Vec<String>) -> Completion {
    let more = values.len() > Completion::MAX_VALUES;
    values.truncate(Completion::MAX_VALUES);
    let mut c = Completion::new(values);
    c.has_more = Some(more);
    c
}

/// Completes schema names.
pub(crate) async fn complete_schema(
    State(app): State<App>,
    c: Completing,
) -> Result<Completion, McpError> {
    let state = app.config.state_schema.clone();
    let prefix = c.value;
    let sql = format!(
        "SELECT n.nspname::text FROM pg_namespace n WHERE {VISIBLE_SCHEMA} \
           AND starts_with(n.nspname, $2) ORDER BY 1 LIMIT 101"
    );
    let values = app
        .read(move |tx| {
            Box::pin(async move {
                tx.query(&sql, &[&state, &prefix])
                    .await?
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect::<Result<Vec<String>, _>>()
            })
        })
        .await
        .map_err(|e| McpError::internal(e.to_string()))?;
    Ok(completion(values))
}

/// Completes table names, within the `schema` argument when it is already filled in.
pub(crate) async fn complete_table(
    State(app): State<App>,
    c: Completing,
) -> Result<Completion, McpError> {
    let state = app.config.state_schema.clone();
    let prefix = c.value;
    let schema = c.context.get("schema").filter(|s| !s.is_empty()).cloned();
    let sql = format!(
        "SELECT DISTINCT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {RELATION_KINDS} AND {VISIBLE_SCHEMA} AND has_table_privilege(c.oid, 'SELECT') \
           AND ($2::text IS NULL OR n.nspname = $2) AND starts_with(c.relname, $3) \
         ORDER BY 1 LIMIT 101"
    );
    let values = app
        .read(move |tx| {
            Box::pin(async move {
                tx.query(&sql, &[&state, &schema, &prefix])
                    .await?
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect::<Result<Vec<String>, _>>()
            })
        })
        .await
        .map_err(|e| McpError::internal(e.to_string()))?;
    Ok(completion(values))
}
