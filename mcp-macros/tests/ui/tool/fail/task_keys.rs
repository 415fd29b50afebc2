use mcp_core::tool;

/// Migrates.
#[tool(task_support = "sometimes")]
async fn migrate() -> String {
    String::new()
}

/// Imports, deferring without task support.
#[tool(defer_task)]
async fn import() -> String {
    String::new()
}

/// Exports, deferring a forbidden task.
#[tool(task_support = "forbidden", defer_task)]
async fn export() -> String {
    String::new()
}

fn main() {}
