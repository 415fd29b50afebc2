use mcp_core::extract::Args;
use mcp_core::tool;

/// Doubles a number.
#[tool]
async fn double(Args(n): Args<i64>) -> String {
    (n * 2).to_string()
}

fn main() {
    let _ = mcp_core::Router::<()>::new().tool(double::tool());
}
