use mcp_core::{prompt, resource, router, tool, Router};

/// Echoes.
#[tool]
async fn echo(text: String) -> String {
    text
}

/// Greets.
#[prompt]
async fn greet(name: String) -> String {
    format!("Greet {name}")
}

/// A constant.
#[resource("const://pi")]
async fn pi() -> String {
    "3.14159".into()
}

mod nested {
    /// Pings, from another module.
    #[mcp_core::tool]
    pub(crate) async fn ping() -> &'static str {
        "pong"
    }
}

fn main() {
    let r: Router = router![echo, greet, pi, nested::ping];
    assert_eq!(r.tool_names().collect::<Vec<_>>(), ["echo", "ping"]);
    let empty: Router = router![];
    assert_eq!(empty.tool_names().count(), 0);
}
