use mcp_core::prompt;

/// Summarizes.
#[prompt(read_only)]
async fn summarize(text: String) -> String {
    text
}

fn main() {}
