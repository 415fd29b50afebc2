//! `echo` and `add`. Run with `cargo run -p mcp-examples --bin hello` (`-- --http ADDR` for HTTP).
#[mcp_core::tool(read_only, description = "Sends the text back unchanged")]
async fn echo(text: String) -> String {
    text
}
#[mcp_core::tool(read_only, description = "Adds two integers")]
async fn add(a: i64, b: i64) -> Result<String, &'static str> {
    Ok(a.checked_add(b).ok_or("the sum overflows")?.to_string())
}
fn main() -> std::io::Result<()> {
    mcp_examples::run(mcp_core::router![echo, add])
}
