use mcp_core::tool;

struct Db;

/// Queries, taking a non-extractor as an extractor.
#[tool]
async fn query(#[extract] db: Db, sql: String) -> String {
    let _ = db;
    sql
}

fn main() {
    let _ = mcp_core::Router::<()>::new().tool(query::tool());
}
