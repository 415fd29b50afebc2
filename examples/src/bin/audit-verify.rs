//! Checks the hash chain of an audit log written by `mcp_core::layers::AuditLayer`
//! (`mcp_examples::audit`).
//!
//! Run with `cargo run -p mcp-examples --bin audit-verify -- audit.jsonl`.
//!
//! ```text
//! audit-verify [--expect-records N --expect-hash HEX] [--after-records N --after-hash HEX] FILE
//! ```
//!
//! Exit status: 0 when the chain is intact, 1 at the first broken record, 2 for bad usage or
//! an unreadable file.

use std::process::ExitCode;

fn main() -> ExitCode {
    let status = mcp_examples::audit::run(
        std::env::args().skip(1),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(status)
}
