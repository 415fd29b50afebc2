use mcp_core::{tool, Router, ToolError};

/// Adds two integers.
#[tool(read_only, idempotent = true, open_world = false, title = "Add")]
async fn add(
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
) -> Result<String, ToolError> {
    a.checked_add(b)
        .map(|s| s.to_string())
        .ok_or_else(|| ToolError::new("overflow"))
}

/// A keyword-named parameter and no return type.
#[tool(name = "ns.keyword-tool")]
async fn keyword(r#type: String) {
    let _ = r#type;
}

#[tokio::main]
async fn main() {
    // The function is unchanged.
    assert_eq!(add(1, 2).await, Ok("3".to_owned()));
    keyword("x".into()).await;
    let router: Router = Router::new().tool(add::tool()).tool(keyword::tool());
    assert_eq!(router.tool_names().collect::<Vec<_>>(), ["add", "ns.keyword-tool"]);
    let def = keyword::tool::<()>();
    assert!(def.tool().input_schema["properties"].get("type").is_some());
}
