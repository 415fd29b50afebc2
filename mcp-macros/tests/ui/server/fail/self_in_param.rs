use mcp_core::server;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Config {
    depth: u32,
}

#[server]
impl Config {
    /// Replaces the config.
    #[tool]
    async fn replace(&self, next: Self) -> String {
        next.depth.to_string()
    }
}

fn main() {}
