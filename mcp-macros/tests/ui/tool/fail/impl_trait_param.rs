use mcp_core::tool;

/// Echoes.
#[tool]
async fn echo(text: impl Into<String>, times: Vec<impl Copy>) -> String {
    let _ = times;
    text.into()
}

fn main() {}
