use mcp_core::prompt;

/// Summarizes.
#[prompt]
async fn summarize(text: String) -> u32 {
    text.len() as u32
}

fn main() {
    let _ = mcp_core::Router::<()>::new().prompt(summarize::prompt());
}
