use mcp_core::resource;

/// A row of a table.
#[resource("db://{table}/rows/{id}")]
async fn row(table: String) -> String {
    table
}

fn main() {
    let _ = mcp_core::Router::<()>::new().resource_template(row::template());
}
