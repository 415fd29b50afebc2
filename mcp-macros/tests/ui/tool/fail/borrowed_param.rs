use mcp_core::tool;

/// Echoes.
#[tool]
async fn echo(text: &str) -> String {
    text.to_owned()
}

fn main() {
    let _ = mcp_core::Router::<()>::new().tool(echo::tool());
}
