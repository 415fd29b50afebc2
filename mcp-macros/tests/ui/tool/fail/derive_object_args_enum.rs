#[derive(serde::Deserialize, schemars::JsonSchema, mcp_core::ObjectArgs)]
enum Mode {
    Fast,
    Slow,
}

#[derive(serde::Deserialize, schemars::JsonSchema, mcp_core::ObjectArgs)]
struct Pair(u32, u32);

fn main() {}
