use mcp_core::tool;

/// Adds two integers.
#[tool]
fn add(a: i64, b: i64) -> String {
    (a + b).to_string()
}

fn main() {
    let _ = mcp_core::Router::<()>::new().tool(add::tool());
}
