//! Checking a hash-chained audit log.

use std::fmt;
use std::io::{self, BufRead};
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The hash a chain starts from: 64 zeros.
///
/// See [`ChainHead`] for an example.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a line ends with before its hash.
const HASH_FIELD: &str = ",\"hash\":\"";

/// Where a chain stands: how many records it holds and the hash of the last one
/// ([`GENESIS`] when empty). Keep a copy of it somewhere else (a ticket, another system's
/// log) to detect a log cut short: the chain alone cannot tell that its last records are gone.
///
/// ```
/// use mcp_core::layers::audit::{ChainHead, GENESIS};
/// assert_eq!(ChainHead::default(), ChainHead { records: 0, hash: GENESIS.into() });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// How many records there are (the next record's `seq`).
    pub records: u64,
    /// The hash of the last record.
    pub hash: String,
}

impl Default for ChainHead {
    fn default() -> Self {
        ChainHead {
            records: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

impl fmt::Display for ChainHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} records, head {}", self.records, self.hash)
    }
}

/// How to check a log.
///
/// ```
/// use mcp_core::layers::audit::{ChainHead, VerifyOptions};
/// let opts = VerifyOptions::default().expect_head(ChainHead { records: 3, hash: "ab".repeat(32) });
/// # let _ = opts;
/// ```
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    start: Option<ChainHead>,
    expect: Option<ChainHead>,
}

impl VerifyOptions {
    /// The log continues a chain that stood at `head` (a rotated file's successor).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::audit::{verify_with, AuditLog, MemorySink, VerifyOptions};
    /// let sink = MemorySink::new();
    /// let log = AuditLog::builder(sink.clone()).build()?;
    /// let head = log.head();
    /// // An empty log checks out against where the chain stands…
    /// let opts = VerifyOptions::default().start_after(head.clone()).expect_head(head.clone());
    /// assert_eq!(verify_with("".as_bytes(), &opts).unwrap(), head);
    /// // …and a log that should hold a record is cut short.
    /// let mut longer = head.clone();
    /// longer.records += 1;
    /// let opts = VerifyOptions::default().expect_head(longer);
    /// assert!(verify_with(sink.text().as_bytes(), &opts).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_after(mut self, head: ChainHead) -> Self {
        self.start = Some(head);
        self
    }

    /// The log must end at `head`: catches records deleted from the end.
    ///
    /// See [`VerifyOptions::start_after`] for an example.
    pub fn expect_head(mut self, head: ChainHead) -> Self {
        self.expect = Some(head);
        self
    }
}

/// Why a chain is broken.
///
/// # Examples
/// ```
/// use mcp_core::layers::audit::{verify, Break};
/// let err = verify("{}\n".as_bytes()).unwrap_err();
/// assert!(matches!(err.reason, Break::Malformed(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Break {
    /// The log could not be read.
    Io(String),
    /// The line is not a record (not JSON, no `hash`, no `seq`, …).
    Malformed(String),
    /// The record's contents do not match its hash: it was edited.
    HashMismatch,
    /// The record does not follow the one before it: a record was deleted, inserted or
    /// moved.
    PrevMismatch {
        /// The previous record's hash.
        expected: String,
        /// What this record says it follows.
        found: String,
    },
    /// The sequence number skips or repeats.
    SeqMismatch {
        /// The number the record should carry.
        expected: u64,
        /// The number it carries.
        found: u64,
    },
    /// The log ends somewhere else than expected: records were removed from its end (or
    /// added).
    HeadMismatch {
        /// Where it should end.
        expected: ChainHead,
        /// Where it ends.
        found: ChainHead,
    },
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Break::Io(e) => write!(f, "cannot read the log: {e}"),
            Break::Malformed(why) => write!(f, "not an audit record: {why}"),
            Break::HashMismatch => {
                write!(f, "the record does not match its hash (it was edited)")
            }
            Break::PrevMismatch { expected, found } => write!(
                f,
                "the record does not follow the previous one (prev {found}, expected {expected}): a record before it was deleted, inserted or moved"
            ),
            Break::SeqMismatch { expected, found } => write!(
                f,
                "sequence number {found} where {expected} was expected: records were deleted, inserted or moved"
            ),
            Break::HeadMismatch { expected, found } => write!(
                f,
                "the log ends at {found}, expected {expected}: records were removed from (or added to) its end"
            ),
        }
    }
}

/// The first broken link of a chain.
///
/// ```
/// use mcp_core::layers::audit::verify;
/// let err = verify("not json\n".as_bytes()).unwrap_err();
/// assert_eq!(err.line, 1);
/// assert!(err.to_string().starts_with("line 1: not an audit record"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    /// The 1-based line of the first record that fails (one past the last line for a log cut
    /// short; 0 when the log could not be opened).
    pub line: u64,
    /// That record's sequence number, when it could be read.
    pub seq: Option<u64>,
    /// What is wrong.
    pub reason: Break,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}", self.line)?;
            if let Some(seq) = self.seq {
                write!(f, " (seq {seq})")?;
            }
            f.write_str(": ")?;
        }
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for VerifyError {}

/// Checks a whole log: every record matches its hash, follows the one before it, and carries
/// the next sequence number, starting from [`GENESIS`]. Returns where the chain ends, or the
/// first broken link.
///
/// ```
/// use mcp_core::layers::audit::{verify, AuditLog, MemorySink, GENESIS};
/// let sink = MemorySink::new();
/// let log = AuditLog::builder(sink.clone()).build()?;
/// assert_eq!(verify("".as_bytes()).unwrap().hash, GENESIS);
/// # let _ = log;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn verify<R: BufRead>(reader: R) -> Result<ChainHead, VerifyError> {
    verify_with(reader, &VerifyOptions::default())
}

/// [`verify`] a file.
///
/// # Examples
/// ```
/// use mcp_core::layers::audit::{verify_file, AuditLog, JsonLinesFile, VerifyOptions};
/// let path = std::env::temp_dir().join(format!("audit-verify-doc-{}.jsonl", std::process::id()));
/// let log = AuditLog::builder(JsonLinesFile::open(&path)?).build()?;
/// let head = verify_file(&path, &VerifyOptions::default()).unwrap();
/// assert_eq!(head, log.head());
/// std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn verify_file(
    path: impl AsRef<Path>,
    options: &VerifyOptions,
) -> Result<ChainHead, VerifyError> {
    let file = std::fs::File::open(path).map_err(|e| VerifyError {
        line: 0,
        seq: None,
        reason: Break::Io(e.to_string()),
    })?;
    verify_with(io::BufReader::new(file), options)
}

/// [`verify`] with options.
///
/// See [`VerifyOptions::start_after`] for an example.
pub fn verify_with<R: BufRead>(
    reader: R,
    options: &VerifyOptions,
) -> Result<ChainHead, VerifyError> {
    let mut head = options.start.clone().unwrap_or_default();
    let mut line_no = 0u64;
    for line in reader.split(b'\n') {
        line_no += 1;
        let fail = |seq, reason| VerifyError {
            line: line_no,
            seq,
            reason,
        };
        let line = line.map_err(|e| fail(None, Break::Io(e.to_string())))?;
        let (seq, prev, hash) = check_line(&line).map_err(|(seq, reason)| fail(seq, reason))?;
        if prev != head.hash {
            return Err(fail(
                Some(seq),
                Break::PrevMismatch {
                    expected: head.hash,
                    found: prev,
                },
            ));
        }
        if seq != head.records {
            return Err(fail(
                Some(seq),
                Break::SeqMismatch {
                    expected: head.records,
                    found: seq,
                },
            ));
        }
        head = ChainHead {
            records: seq + 1,
            hash,
        };
    }
    if let Some(expected) = &options.expect {
        if *expected != head {
            return Err(VerifyError {
                line: line_no + 1,
                seq: None,
                reason: Break::HeadMismatch {
                    expected: expected.clone(),
                    found: head,
                },
            });
        }
    }
    Ok(head)
}

/// Checks one line against its own hash; returns its `seq`, `prev` and `hash`.
fn check_line(line: &[u8]) -> Result<(u64, String, String), (Option<u64>, Break)> {
    let malformed = |why: &str| (None, Break::Malformed(why.to_owned()));
    let line = std::str::from_utf8(line).map_err(|_| malformed("not UTF-8"))?;
    let (body, hash) = split_hash(line).ok_or_else(|| malformed("no trailing \"hash\" field"))?;
    let fields: Value =
        serde_json::from_str(&body).map_err(|e| malformed(&format!("not JSON: {e}")))?;
    let seq = fields
        .get("seq")
        .and_then(Value::as_u64)
        .ok_or_else(|| malformed("no \"seq\""))?;
    let prev = fields
        .get("prev")
        .and_then(Value::as_str)
        .ok_or((Some(seq), Break::Malformed("no \"prev\"".into())))?
        .to_owned();
    if hash_hex(body.as_bytes()) != hash {
        return Err((Some(seq), Break::HashMismatch));
    }
    Ok((seq, prev, hash.to_owned()))
}

/// Splits `{…,"hash":"<64 hex>"}` into the hashed body `{…}` and the hash.
pub(super) fn split_hash(line: &str) -> Option<(String, &str)> {
    let rest = line.strip_suffix("\"}")?;
    let cut = rest.len().checked_sub(64)?;
    let hash = rest.get(cut..)?;
    if !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let before = rest.get(..cut)?.strip_suffix(HASH_FIELD)?;
    Some((format!("{before}}}"), hash))
}

/// Appends the hash of `body` (a JSON object) to it as its last field.
pub(super) fn seal(body: &str) -> (String, String) {
    let hash = hash_hex(body.as_bytes());
    let open = body.strip_suffix('}').unwrap_or(body);
    (format!("{open}{HASH_FIELD}{hash}\"}}"), hash)
}

pub(super) fn hash_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_split_are_inverse() {
        let (line, hash) = seal(r#"{"seq":0,"prev":"x"}"#);
        let (body, h) = split_hash(&line).unwrap();
        assert_eq!(body, r#"{"seq":0,"prev":"x"}"#);
        assert_eq!(h, hash);
        assert!(split_hash("{}").is_none());
        assert!(split_hash(&line.replace("\"}", "\" }")).is_none());
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let mut lines = Vec::new();
        let mut prev = GENESIS.to_owned();
        for seq in 0..3 {
            let (line, hash) = seal(&format!(r#"{{"seq":{seq},"x":"a","prev":"{prev}"}}"#));
            lines.push(line);
            prev = hash;
        }
        let log = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        assert_eq!(verify(log(&lines).as_bytes()).unwrap().records, 3);
        let (body, _) = split_hash(&lines[1]).unwrap();
        lines[1] = seal(&body.replace(r#""x":"a""#, r#""x":"b""#)).0;
        let err = verify(log(&lines).as_bytes()).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(matches!(err.reason, Break::PrevMismatch { .. }));
        assert_eq!(err.seq, Some(2));
    }
}
