use mcp_core::tool;

/// Has a name over the 128-character limit.
#[tool(name = "a_very_long_tool_name_that_keeps_going_and_going_past_the_limit_of_one_hundred_and_twenty_eight_characters_set_by_the_specification")]
async fn long() -> String {
    String::new()
}

fn main() {}
