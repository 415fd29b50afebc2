use mcp_core::protocol::PromptMessage;
use mcp_core::router::Completing;
use mcp_core::{prompt, Router};

/// Reviews code.
#[prompt(name = "code_review", title = "Code review")]
async fn review(
    /// The code.
    code: String,
    /// The language.
    #[complete(languages)]
    language: Option<String>,
    /// How strict to be, 1 to 5.
    strictness: Option<u8>,
) -> Vec<PromptMessage> {
    vec![PromptMessage::user(format!("{code} {language:?} {strictness:?}"))]
}

async fn languages(c: Completing) -> Vec<String> {
    vec![c.value]
}

fn main() {
    let def = review::prompt::<()>();
    let _ = def;
    let _: Router = mcp_core::router![review];
}
