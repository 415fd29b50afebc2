use mcp_core::extract::Args;
use mcp_core::tool;

#[derive(serde::Deserialize, schemars::JsonSchema)]
enum Color {
    Red,
    Green,
}

/// Paints.
#[tool]
async fn paint(Args(c): Args<Color>) -> String {
    let _ = c;
    String::new()
}

fn main() {}
