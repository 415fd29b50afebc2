//! `audit-verify`: checks the hash chain of an audit log written by
//! `mcp_core::layers::AuditLayer`.
//!
//! Run with `cargo run -p mcp-examples --bin audit-verify -- audit.jsonl`.
//!
//! ```text
//! audit-verify [--expect-records N --expect-hash HEX] [--after-records N --after-hash HEX] FILE
//! ```
//!
//! - `--expect-records`/`--expect-hash`: the chain head you kept elsewhere; catches records
//!   deleted from the end of the log, which the chain alone cannot see.
//! - `--after-records`/`--after-hash`: the log continues a chain that stood there (the file
//!   after a rotated one).
//!
//! Exit status: 0 when the chain is intact (it prints the record count and head hash), 1 at
//! the first broken record (it prints its line and what is wrong), 2 for bad usage or an
//! unreadable file.
//!
//! ```
//! use mcp_core::layers::audit::MemorySink;
//! use mcp_examples::audit::{run, INTACT};
//!
//! // An empty chain is intact.
//! let file = std::env::temp_dir().join(format!("audit-verify-doc-{}.jsonl", std::process::id()));
//! std::fs::write(&file, MemorySink::new().text())?;
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! let status = run([file.display().to_string()], &mut out, &mut err);
//! assert_eq!(status, INTACT);
//! assert!(String::from_utf8_lossy(&out).starts_with("ok: "));
//! # std::fs::remove_file(file)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::Write;

use mcp_core::layers::audit::{verify_file, Break, ChainHead, VerifyOptions};

/// Exit status: the chain is intact.
pub const INTACT: u8 = 0;
/// Exit status: a record is broken (or the head is not the expected one).
pub const BROKEN: u8 = 1;
/// Exit status: bad usage, or the file cannot be read.
pub const UNUSABLE: u8 = 2;

const USAGE: &str = "usage: audit-verify [--expect-records N --expect-hash HEX] [--after-records N --after-hash HEX] FILE";

/// The parsed command line.
#[derive(Debug, Default)]
struct Cli {
    file: Option<String>,
    expect_records: Option<u64>,
    expect_hash: Option<String>,
    after_records: Option<u64>,
    after_hash: Option<String>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Cli, String> {
    let mut cli = Cli::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{name} takes a record count, not {v:?}"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--expect-records" => {
                cli.expect_records = Some(number(&arg, value(&arg)?)?);
            }
            "--expect-hash" => cli.expect_hash = Some(value(&arg)?),
            "--after-records" => cli.after_records = Some(number(&arg, value(&arg)?)?),
            "--after-hash" => cli.after_hash = Some(value(&arg)?),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ if cli.file.is_some() => return Err("give one file".into()),
            _ => cli.file = Some(arg),
        }
    }
    Ok(cli)
}

/// Both halves of a chain head, or neither.
fn head(
    records: Option<u64>,
    hash: Option<String>,
    what: &str,
) -> Result<Option<ChainHead>, String> {
    match (records, hash) {
        (Some(records), Some(hash)) => Ok(Some(ChainHead { records, hash })),
        (None, None) => Ok(None),
        _ => Err(format!("give both --{what}-records and --{what}-hash")),
    }
}

/// The whole of `audit-verify`: parses `args` (without the program name), checks the file,
/// reports on `out` (the verdict) and `err` (usage and I/O problems), and returns the exit
/// status: [`INTACT`], [`BROKEN`] or [`UNUSABLE`].
pub fn run(args: impl IntoIterator<Item = String>, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    // The verdict is all this program is for; a closed stdout or stderr changes nothing in it.
    let cli = match parse(args.into_iter()) {
        Ok(cli) => cli,
        Err(e) => {
            if !e.is_empty() {
                let _ = writeln!(err, "audit-verify: {e}");
            }
            let _ = writeln!(err, "{USAGE}");
            return UNUSABLE;
        }
    };
    let options = (|| {
        let mut options = VerifyOptions::default();
        if let Some(h) = head(cli.expect_records, cli.expect_hash.clone(), "expect")? {
            options = options.expect_head(h);
        }
        if let Some(h) = head(cli.after_records, cli.after_hash.clone(), "after")? {
            options = options.start_after(h);
        }
        Ok::<_, String>(options)
    })();
    let (Some(file), Ok(options)) = (cli.file.as_deref(), options.as_ref()) else {
        if let Err(e) = options {
            let _ = writeln!(err, "audit-verify: {e}");
        }
        let _ = writeln!(err, "{USAGE}");
        return UNUSABLE;
    };
    match verify_file(file, options) {
        Ok(head) => {
            let _ = writeln!(out, "ok: {file}: {head}");
            INTACT
        }
        Err(e) if matches!(e.reason, Break::Io(_)) => {
            let _ = writeln!(err, "audit-verify: {file}: {e}");
            UNUSABLE
        }
        Err(e) => {
            let _ = writeln!(out, "broken: {file}: {e}");
            BROKEN
        }
    }
}
