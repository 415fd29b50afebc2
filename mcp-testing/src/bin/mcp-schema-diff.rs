//! `mcp-schema-diff OLD NEW`: compares two schema snapshots of an MCP server and exits with 1
//! when the change breaks clients, for use in CI.
//!
//! Run with `cargo run -p mcp-testing --bin mcp-schema-diff -- OLD.json NEW.json`.
//!
//! The files are snapshots written by `mcp_testing::assert_schema_snapshot!` (or
//! `mcp_testing::snapshot::write_snapshot`), or any JSON object with `tools`, `prompts`,
//! `resources` or `resourceTemplates` arrays — a saved `tools/list` result, or a whole JSON-RPC
//! response holding one. The rules are those of `mcp_testing::schema_diff`.
//!
//! Exit status: 0 when nothing changed or every change is compatible, 1 when a change is
//! breaking, 2 when the files cannot be read.

use std::process::ExitCode;

use mcp_testing::schema_diff::{classify, is_breaking, ChangeKind};
use serde_json::Value;

const USAGE: &str = "\
usage: mcp-schema-diff [--json] OLD NEW

Compares two MCP schema snapshots (tools, prompts, resources, resource templates) and
reports each change as breaking or compatible.

  --json      print the changes as a JSON array of {kind, path, message}
  -h, --help  print this help

exit status: 0 no breaking change, 1 breaking change, 2 usage or input error";

/// The catalogues a snapshot may hold.
const CATALOGUES: &[&str] = &["tools", "prompts", "resources", "resourceTemplates"];

fn main() -> ExitCode {
    match run(std::env::args().skip(1)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("mcp-schema-diff: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: impl Iterator<Item = String>) -> Result<ExitCode, String> {
    let mut json = false;
    let mut files = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--json" => json = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("unknown option {flag}"))
            }
            _ => files.push(arg),
        }
    }
    let [old, new] = files.as_slice() else {
        return Err(format!("expected two files, got {}", files.len()));
    };
    let (old, new) = (load(old)?, load(new)?);
    let changes = classify(&old, &new);
    if json {
        let text = serde_json::to_string_pretty(&changes)
            .map_err(|e| format!("cannot print the changes: {e}"))?;
        println!("{text}");
    } else if changes.is_empty() {
        println!("no changes");
    } else {
        for change in &changes {
            println!("{:<10} {}: {}", change.kind, change.path, change.message);
        }
        let breaking = changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Breaking)
            .count();
        println!(
            "\n{} change(s): {breaking} breaking, {} compatible",
            changes.len(),
            changes.len() - breaking
        );
    }
    Ok(if is_breaking(&changes) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads a snapshot, unwrapping a JSON-RPC response's `result`.
fn load(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))?;
    let value = match value.get("result") {
        Some(result) if value.get("jsonrpc").is_some() => result.clone(),
        _ => value,
    };
    if !CATALOGUES
        .iter()
        .any(|c| value.get(c).is_some_and(Value::is_array))
    {
        return Err(format!(
            "{path} is not a schema snapshot: it has none of {}",
            CATALOGUES.join(", ")
        ));
    }
    Ok(value)
}
