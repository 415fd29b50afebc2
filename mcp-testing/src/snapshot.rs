//! Schema snapshots: what a server offers — tools with their input and output schemas and
//! annotations, prompts, resources, resource templates — as canonical JSON committed next to
//! the tests, so that a change to it shows up in review.
//!
//! [`assert_schema_snapshot!`](crate::assert_schema_snapshot) compares the live catalogue with
//! the committed file and fails with a line diff and the verdict of
//! [`schema_diff::classify`](crate::schema_diff::classify) (breaking or compatible).
//! Run the tests with `MCP_SNAPSHOT=overwrite` to write the file instead.
//!
//! The file is stable: lists are sorted by name (tools, prompts), `uri` (resources) or
//! `uriTemplate` (templates); object keys are sorted; two-space indentation; a final newline.
//!
//! # Examples
//!
//! What the committed file holds (in a test you would write
//! `assert_schema_snapshot!(client, "tests/snapshots/schema.json")` instead):
//!
//! ```
//! use mcp_core::Router;
//! use mcp_testing::{snapshot, TestClient};
//!
//! async fn ping() -> &'static str { "pong" }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mcp_testing::TestError> {
//! let client = TestClient::new(Router::new().tool_fn("ping", ping)).await?;
//! let text = snapshot::to_canonical_string(&snapshot(&client).await?);
//! assert!(text.starts_with("{\n  \"prompts\": [],\n  \"resourceTemplates\": [],\n"));
//! assert!(text.contains("\"name\": \"ping\""));
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mcp_core::jsonrpc::ErrorCode;
use serde_json::{Map, Value};

use crate::schema_diff::{classify, ChangeKind};
use crate::{TestClient, TestError};

/// The environment variable that makes [`assert_schema_snapshot!`](crate::assert_schema_snapshot)
/// write the snapshot instead of comparing: `MCP_SNAPSHOT=overwrite cargo test`.
///
/// # Examples
/// ```
/// use mcp_testing::snapshot::SNAPSHOT_ENV;
/// // In CI, overwriting must never happen silently.
/// assert_eq!(SNAPSHOT_ENV, "MCP_SNAPSHOT");
/// let overwriting = std::env::var(SNAPSHOT_ENV).is_ok_and(|v| v == "overwrite");
/// # let _ = overwriting;
/// ```
pub const SNAPSHOT_ENV: &str = "MCP_SNAPSHOT";

/// The catalogues of a snapshot: the list method, the result field, the member to sort by.
const CATALOGUES: &[(&str, &str, &str)] = &[
    ("tools/list", "tools", "name"),
    ("prompts/list", "prompts", "name"),
    ("resources/list", "resources", "uri"),
    (
        "resources/templates/list",
        "resourceTemplates",
        "uriTemplate",
    ),
];

/// Everything the server lists — `tools`, `prompts`, `resources`, `resourceTemplates`, across
/// all pages — as one JSON object, each list sorted. Items are kept as the server sent them to
/// this client's era; a list method the server does not offer is an empty list.
///
/// ```
/// use mcp_core::{Args, Router, ToolDef};
/// use mcp_testing::{snapshot, TestClient};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Query { text: String }
/// async fn search(Args(q): Args<Query>) -> String { q.text }
/// async fn ping() -> &'static str { "pong" }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// let router = Router::new()
///     .tool(ToolDef::new("search", search).description("Searches"))
///     .tool(ToolDef::new("ping", ping).description("Pings"));
/// let client = TestClient::new(router).await?;
/// let schema = snapshot(&client).await?;
/// assert_eq!(schema["tools"][0]["name"], "ping", "sorted by name");
/// assert_eq!(schema["tools"][1]["inputSchema"]["required"][0], "text");
/// assert_eq!(schema["prompts"], serde_json::json!([]));
/// # Ok(()) }
/// ```
pub async fn snapshot(client: &TestClient) -> Result<Value, TestError> {
    let mut out = Map::new();
    for (method, field, key) in CATALOGUES {
        let mut items: Vec<Value> = match client.list_all::<Value>(method, field).await {
            Ok(items) => items,
            Err(e) if e.code() == Some(ErrorCode::METHOD_NOT_FOUND) => Vec::new(),
            Err(e) => return Err(e),
        };
        items.sort_by(|a, b| {
            let k = |v: &Value| v.get(*key).and_then(Value::as_str).unwrap_or("").to_owned();
            k(a).cmp(&k(b))
        });
        out.insert((*field).to_owned(), Value::Array(items));
    }
    Ok(Value::Object(out))
}

/// `value` as canonical JSON: object keys sorted, two-space indentation, a final newline. Two
/// equal values always give the same text, whatever order their keys were built in.
///
/// ```
/// let text = mcp_testing::snapshot::to_canonical_string(&serde_json::json!({"b": [1], "a": {}}));
/// assert_eq!(text, "{\n  \"a\": {},\n  \"b\": [\n    1\n  ]\n}\n");
/// ```
pub fn to_canonical_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out.push('\n');
    out
}

fn write_value(out: &mut String, value: &Value, indent: usize) {
    let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (i, key) in keys.iter().enumerate() {
                pad(out, indent + 2);
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push_str(": ");
                write_value(out, &map[key.as_str()], indent + 2);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            pad(out, indent);
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                pad(out, indent + 2);
                write_value(out, item, indent + 2);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            pad(out, indent);
            out.push(']');
        }
        scalar_or_empty => out.push_str(&scalar_or_empty.to_string()),
    }
}

/// Writes `value` to `path` as canonical JSON, creating the directories it needs.
///
/// See [`compare`] for an example.
pub fn write_snapshot(path: impl AsRef<Path>, value: &Value) -> std::io::Result<()> {
    let path = path.as_ref();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, to_canonical_string(value))
}

/// The largest middle section (old lines × new lines, after the common start and end are cut
/// off) diffed line by line; beyond it the whole section is shown as replaced.
const MAX_DIFF_CELLS: usize = 4_000_000;

/// Lines of context around each change.
const CONTEXT: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// A unified-style line diff of `old` and `new` (`-` removed, `+` added, three lines of
/// context, `@@ -line +line @@` headers); empty when they are equal.
///
/// ```
/// let diff = mcp_testing::snapshot::line_diff("a\nb\nc\n", "a\nB\nc\n");
/// assert_eq!(diff, "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
/// ```
pub fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = diff_ops(&a, &b);
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut out = String::new();
    let mut k = 0;
    while k < changed.len() {
        // A hunk: changes closer than twice the context share one.
        let start = changed[k].saturating_sub(CONTEXT);
        let mut last = changed[k];
        while k + 1 < changed.len() && changed[k + 1] - last <= 2 * CONTEXT {
            k += 1;
            last = changed[k];
        }
        k += 1;
        let end = (last + CONTEXT + 1).min(ops.len());
        let hunk = &ops[start..end];
        let first_old = hunk.iter().find_map(|op| match op {
            Op::Same(i, _) | Op::Removed(i) => Some(*i),
            Op::Added(_) => None,
        });
        let first_new = hunk.iter().find_map(|op| match op {
            Op::Same(_, j) | Op::Added(j) => Some(*j),
            Op::Removed(_) => None,
        });
        let old_len = hunk.iter().filter(|op| !matches!(op, Op::Added(_))).count();
        let new_len = hunk
            .iter()
            .filter(|op| !matches!(op, Op::Removed(_)))
            .count();
        let _ = writeln!(
            out,
            "@@ -{},{old_len} +{},{new_len} @@",
            first_old.map_or(0, |i| i + 1),
            first_new.map_or(0, |j| j + 1)
        );
        for op in hunk {
            let _ = match op {
                Op::Same(i, _) => writeln!(out, " {}", a[*i]),
                Op::Removed(i) => writeln!(out, "-{}", a[*i]),
                Op::Added(j) => writeln!(out, "+{}", b[*j]),
            };
        }
    }
    out
}

/// The edit script: the common start and end, and a longest-common-subsequence diff between.
fn diff_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    let (n, m) = (am.len(), bm.len());
    if n.saturating_mul(m) <= MAX_DIFF_CELLS {
        // lcs[i][j]: the longest common subsequence of am[i..] and bm[j..].
        let width = m + 1;
        let mut lcs = vec![0u32; (n + 1) * width];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * width + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * width + j + 1] + 1
                } else {
                    lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push(Op::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if j < m && (i == n || lcs[i * width + j + 1] >= lcs[(i + 1) * width + j]) {
                ops.push(Op::Added(prefix + j));
                j += 1;
            } else {
                ops.push(Op::Removed(prefix + i));
                i += 1;
            }
        }
        // Show removals before additions within each run of changes.
        let mut start = prefix;
        while start < ops.len() {
            if matches!(ops[start], Op::Same(..)) {
                start += 1;
                continue;
            }
            let end = ops[start..]
                .iter()
                .position(|op| matches!(op, Op::Same(..)))
                .map_or(ops.len(), |p| start + p);
            ops[start..end].sort_by_key(|op| matches!(op, Op::Added(_)));
            start = end;
        }
    } else {
        ops.extend((0..n).map(|i| Op::Removed(prefix + i)));
        ops.extend((0..m).map(|j| Op::Added(prefix + j)));
    }
    ops.extend((0..suffix).map(|k| Op::Same(a.len() - suffix + k, b.len() - suffix + k)));
    ops
}

/// `path` relative to `base` (a crate's manifest directory), unless it is absolute. Used by
/// [`assert_schema_snapshot!`](crate::assert_schema_snapshot).
///
/// ```
/// use std::path::Path;
/// use mcp_testing::snapshot::resolve;
/// assert_eq!(resolve("/crate", "tests/schema.json"), Path::new("/crate/tests/schema.json"));
/// # #[cfg(unix)]
/// assert_eq!(resolve("/crate", "/tmp/schema.json"), Path::new("/tmp/schema.json"));
/// ```
pub fn resolve(base: &str, path: impl AsRef<Path>) -> PathBuf {
    Path::new(base).join(path)
}

/// How a snapshot compared with its file.
///
/// See [`compare`] for an example.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Comparison {
    /// The file holds the same catalogue.
    Matches,
    /// `MCP_SNAPSHOT=overwrite`: the file was written (or already matched).
    Written,
    /// There is no file yet.
    Missing,
    /// The catalogue changed.
    Differs {
        /// The line diff, committed file → live server.
        diff: String,
        /// Every change, classified.
        changes: Vec<crate::schema_diff::Change>,
    },
}

/// Compares `actual` with the snapshot at `path` (or writes it when `MCP_SNAPSHOT=overwrite`).
/// Errors are about the file: unreadable, not JSON, not writable.
///
/// # Examples
/// ```
/// use mcp_testing::snapshot::{compare, write_snapshot, Comparison};
/// use serde_json::json;
///
/// let dir = std::env::temp_dir().join(format!("mcp-compare-doc-{}", std::process::id()));
/// let path = dir.join("schema.json");
/// let old = json!({"tools": [{"name": "a", "inputSchema": {"type": "object"}}]});
/// # if std::env::var("MCP_SNAPSHOT").is_err() {
/// assert_eq!(compare(&path, &old).unwrap(), Comparison::Missing);
/// write_snapshot(&path, &old).unwrap();
/// assert_eq!(compare(&path, &old).unwrap(), Comparison::Matches);
/// let Comparison::Differs { diff, changes } = compare(&path, &json!({"tools": []})).unwrap() else {
///     panic!("the tool was removed");
/// };
/// assert!(diff.contains("-"));
/// assert!(changes[0].is_breaking());
/// # }
/// std::fs::remove_dir_all(&dir).ok();
/// ```
pub fn compare(path: impl AsRef<Path>, actual: &Value) -> Result<Comparison, String> {
    let path = path.as_ref();
    let shown = path.display();
    if std::env::var(SNAPSHOT_ENV).is_ok_and(|v| v == "overwrite") {
        write_snapshot(path, actual)
            .map_err(|e| format!("cannot write the schema snapshot {shown}: {e}"))?;
        return Ok(Comparison::Written);
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Comparison::Missing),
        Err(e) => return Err(format!("cannot read the schema snapshot {shown}: {e}")),
    };
    let committed: Value = serde_json::from_str(&text)
        .map_err(|e| format!("the schema snapshot {shown} is not JSON: {e}"))?;
    if committed == *actual {
        return Ok(Comparison::Matches);
    }
    Ok(Comparison::Differs {
        diff: line_diff(
            &to_canonical_string(&committed),
            &to_canonical_string(actual),
        ),
        changes: classify(&committed, actual),
    })
}

/// Takes the [`snapshot`] of `client` and compares it with the file at `path`; panics with a
/// readable diff when they differ or the file is missing, unless `MCP_SNAPSHOT=overwrite`,
/// which writes the file. [`assert_schema_snapshot!`](crate::assert_schema_snapshot) calls
/// this with `path` relative to the calling crate.
///
/// # Examples
/// ```
/// use mcp_core::Router;
/// use mcp_testing::{snapshot, TestClient};
///
/// async fn ping() -> &'static str { "pong" }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// let client = TestClient::new(Router::new().tool_fn("ping", ping)).await?;
/// let path = std::env::temp_dir().join(format!("mcp-assert-doc-{}.json", std::process::id()));
/// snapshot::write_snapshot(&path, &snapshot(&client).await?).unwrap();
/// // What `assert_schema_snapshot!` does, with a path of your choosing:
/// snapshot::assert_snapshot(&client, &path).await;
/// std::fs::remove_file(&path).unwrap();
/// # Ok(()) }
/// ```
pub async fn assert_snapshot(client: &TestClient, path: impl AsRef<Path>) {
    let path = path.as_ref();
    let actual = match snapshot(client).await {
        Ok(actual) => actual,
        Err(e) => panic!(
            "cannot take the schema snapshot for {}: {e}",
            path.display()
        ),
    };
    match compare(path, &actual) {
        Ok(Comparison::Matches | Comparison::Written) => {}
        Ok(Comparison::Missing) => panic!(
            "there is no schema snapshot at {}\n\
             to create it, run the tests with {SNAPSHOT_ENV}=overwrite, then review and commit the file",
            path.display()
        ),
        Ok(Comparison::Differs { diff, changes }) => {
            panic!("{}", mismatch_report(path, &diff, &changes))
        }
        Err(e) => panic!("{e}"),
    }
}

fn mismatch_report(path: &Path, diff: &str, changes: &[crate::schema_diff::Change]) -> String {
    let mut out = format!(
        "the server's schema differs from the snapshot at {}\n\n--- committed\n+++ actual\n{diff}\n",
        path.display()
    );
    for kind in [ChangeKind::Breaking, ChangeKind::Compatible] {
        let of_kind: Vec<_> = changes.iter().filter(|c| c.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{kind} changes:");
        for c in of_kind {
            let _ = writeln!(out, "  {}: {}", c.path, c.message);
        }
        out.push('\n');
    }
    let _ = write!(
        out,
        "if the change is intended, run the tests with {SNAPSHOT_ENV}=overwrite and commit the file"
    );
    out
}

/// Compares the catalogue a [`TestClient`](crate::TestClient) sees with a committed snapshot
/// file, and fails the test with a line diff and the breaking/compatible verdict of each change
/// when they differ. Use it in an async test; the path is relative to the calling crate's
/// manifest directory (absolute paths are used as they are).
///
/// Run the tests with `MCP_SNAPSHOT=overwrite` to create or update the file, then review and
/// commit it.
///
/// ```
/// use mcp_core::{Router, ToolDef};
/// use mcp_testing::{assert_schema_snapshot, snapshot, TestClient};
///
/// async fn ping() -> &'static str { "pong" }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// let client = TestClient::new(Router::new().tool(ToolDef::new("ping", ping))).await?;
/// # let dir = std::env::temp_dir().join(format!("mcp-testing-doc-{}", std::process::id()));
/// # let path = dir.join("schema.json");
/// # snapshot::write_snapshot(&path, &snapshot(&client).await?).unwrap();
/// // In a test: assert_schema_snapshot!(client, "tests/snapshots/schema.json");
/// assert_schema_snapshot!(client, &path);
/// # std::fs::remove_dir_all(dir).unwrap();
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! assert_schema_snapshot {
    ($client:expr, $path:expr $(,)?) => {
        $crate::snapshot::assert_snapshot(
            &$client,
            $crate::snapshot::resolve(::core::env!("CARGO_MANIFEST_DIR"), $path),
        )
        .await
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_text_sorts_keys_and_is_stable() {
        let a = json!({"z": 1, "a": {"y": [true, null], "b": "x"}, "m": []});
        let text = to_canonical_string(&a);
        assert_eq!(
            text,
            "{\n  \"a\": {\n    \"b\": \"x\",\n    \"y\": [\n      true,\n      null\n    ]\n  },\n  \"m\": [],\n  \"z\": 1\n}\n"
        );
        let reparsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reparsed, a);
        assert_eq!(to_canonical_string(&reparsed), text);
    }

    #[test]
    fn strings_are_escaped() {
        let text = to_canonical_string(&json!({"quote\"d": "line\nbreak"}));
        assert_eq!(text, "{\n  \"quote\\\"d\": \"line\\nbreak\"\n}\n");
    }

    #[test]
    fn diff_of_equal_texts_is_empty() {
        assert_eq!(line_diff("a\nb\n", "a\nb\n"), "");
    }

    #[test]
    fn diff_shows_context_and_separate_hunks() {
        let old: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 2\n", "line two\n")
            .replace("line 18\n", "")
            .replace("line 20\n", "line 20\nline 21\n");
        let diff = line_diff(&old, &new);
        assert_eq!(
            diff,
            "@@ -1,5 +1,5 @@\n line 1\n-line 2\n+line two\n line 3\n line 4\n line 5\n\
             @@ -15,6 +15,6 @@\n line 15\n line 16\n line 17\n-line 18\n line 19\n line 20\n+line 21\n"
        );
    }

    #[test]
    fn diff_of_additions_only_and_removals_only() {
        assert_eq!(line_diff("", "a\n"), "@@ -0,0 +1,1 @@\n+a\n");
        assert_eq!(line_diff("a\n", ""), "@@ -1,1 +0,0 @@\n-a\n");
    }

    #[test]
    fn a_huge_middle_is_shown_as_replaced() {
        let old: String = (0..3000).map(|i| format!("o{i}\n")).collect();
        let new: String = (0..3000).map(|i| format!("n{i}\n")).collect();
        let diff = line_diff(&old, &new);
        assert_eq!(diff.lines().filter(|l| l.starts_with('-')).count(), 3000);
        assert_eq!(diff.lines().filter(|l| l.starts_with('+')).count(), 3000);
    }

    #[test]
    fn compare_reports_missing_matching_and_differing_files() {
        let dir = std::env::temp_dir().join(format!("mcp-testing-compare-{}", std::process::id()));
        let path = dir.join("nested/schema.json");
        let old = json!({"tools": [{"name": "a", "inputSchema": {"type": "object"}}]});
        let new = json!({"tools": []});
        if std::env::var(SNAPSHOT_ENV).is_err() {
            assert_eq!(compare(&path, &old), Ok(Comparison::Missing));
        }
        write_snapshot(&path, &old).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written, to_canonical_string(&old));
        if std::env::var(SNAPSHOT_ENV).is_err() {
            assert_eq!(compare(&path, &old), Ok(Comparison::Matches));
            let Ok(Comparison::Differs { diff, changes }) = compare(&path, &new) else {
                panic!("expected a difference");
            };
            assert!(diff.contains("-      \"name\": \"a\""), "{diff}");
            assert_eq!(changes.len(), 1);
            assert!(changes[0].is_breaking());
            let report = mismatch_report(&path, &diff, &changes);
            assert!(
                report.contains("breaking changes:\n  tools/a: the tool was removed"),
                "{report}"
            );
            assert!(report.contains("MCP_SNAPSHOT=overwrite"), "{report}");
        }
        std::fs::write(&path, "not json").unwrap();
        if std::env::var(SNAPSHOT_ENV).is_err() {
            assert!(compare(&path, &old).unwrap_err().contains("is not JSON"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
