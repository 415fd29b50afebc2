use mcp_core::protocol::TaskSupport;
use mcp_core::{router, tool, Context};

/// Rebuilds the index; long, so clients may run it as a task.
#[tool(task_support = "optional")]
async fn reindex() -> String {
    "reindexed".into()
}

/// Asks for confirmation first, then becomes a task.
#[tool(task_support = "optional", defer_task)]
async fn migrate(ctx: Context) -> String {
    let _ = ctx;
    "migrated".into()
}

/// Only ever a task.
#[tool(task_support = "required")]
async fn backup() -> String {
    "backed up".into()
}

fn main() {
    let router: mcp_core::Router = router![reindex, migrate, backup];
    let server = mcp_core::Server::new(router);
    for (name, support) in [
        ("reindex", TaskSupport::Optional),
        ("migrate", TaskSupport::Optional),
        ("backup", TaskSupport::Required),
    ] {
        let tool = server.tool(name).expect("registered");
        let execution = tool.execution.expect("an execution block");
        assert_eq!(execution.task_support, Some(support), "{name}");
    }
}
