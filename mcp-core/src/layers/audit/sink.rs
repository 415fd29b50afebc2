//! Where audit records go.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A destination for audit records: one line of JSON each, in order.
///
/// [`AuditLog`](super::AuditLog) serializes and chains the records and calls `append` under
/// its lock, so a sink sees lines one at a time, in chain order. `append` is synchronous (the
/// chain needs the write's verdict before the next record); a sink that talks to a remote
/// service should hand lines to a bounded buffer of its own.
///
/// ```
/// use std::io;
/// use mcp_core::layers::audit::AuditSink;
///
/// /// Sends records to syslog, say; here, nowhere.
/// struct Discard;
///
/// impl AuditSink for Discard {
///     fn append(&self, _line: &str) -> io::Result<()> {
///         Ok(())
///     }
/// }
/// let log = mcp_core::layers::audit::AuditLog::builder(Discard).build()?;
/// # let _ = log;
/// # Ok::<(), io::Error>(())
/// ```
pub trait AuditSink: Send + Sync + 'static {
    /// Appends one record: a line of JSON without its newline. An error means the record is
    /// not in the sink.
    ///
    /// See [`AuditSink`] for an example.
    fn append(&self, line: &str) -> io::Result<()>;

    /// The last record already in the sink, so a restarted server continues its chain.
    /// Sinks that cannot read back return `Ok(None)` (the chain starts afresh).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::audit::{AuditLog, AuditSink, MemorySink};
    /// let sink = MemorySink::new();
    /// assert_eq!(sink.last_line()?, None);
    /// // A log built on a sink with records continues their chain.
    /// sink.append(r#"{"seq":0}"#)?;
    /// assert_eq!(sink.last_line()?.as_deref(), Some(r#"{"seq":0}"#));
    /// assert!(sink.check().is_ok());
    /// # let _ = AuditLog::builder(MemorySink::new());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn last_line(&self) -> io::Result<Option<String>> {
        Ok(None)
    }

    /// Whether the sink looks able to take records again, asked (cheaply, before running an
    /// operation) while a log that fails closed is unhealthy. `Ok` lets the operation run, and
    /// its record's write decides. The default says `Ok`.
    ///
    /// See [`AuditSink::last_line`] for an example.
    fn check(&self) -> io::Result<()> {
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A JSON Lines file, appended to (and created if missing). Each record is written with one
/// `write` call on a file opened for appending; with [`JsonLinesFile::sync_each`] it is also
/// flushed to the disk before the call is answered.
///
/// ```no_run
/// use mcp_core::layers::audit::{AuditLog, JsonLinesFile};
/// let log = AuditLog::builder(JsonLinesFile::open("/var/log/mcp/audit.jsonl")?.sync_each(true))
///     .build()?;
/// # let _ = log;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct JsonLinesFile {
    path: PathBuf,
    file: Mutex<File>,
    sync: bool,
}

impl JsonLinesFile {
    /// Opens `path` for appending.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::audit::{AuditLog, AuditSink, JsonLinesFile};
    /// let path = std::env::temp_dir().join(format!("audit-open-doc-{}.jsonl", std::process::id()));
    /// let file = JsonLinesFile::open(&path)?.sync_each(false);
    /// assert_eq!(file.path(), path.as_path());
    /// file.append("{}")?;
    /// assert_eq!(file.last_line()?.as_deref(), Some("{}"));
    /// # let _ = AuditLog::builder(file);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_owned();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(JsonLinesFile {
            path,
            file: Mutex::new(file),
            sync: false,
        })
    }

    /// Flushes every record to the disk (`fdatasync`) before going on.
    ///
    /// See [`JsonLinesFile`] for an example.
    pub fn sync_each(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// The file's path.
    ///
    /// See [`JsonLinesFile::open`] for an example.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The longest last line [`JsonLinesFile::last_line`] reads back.
const MAX_LINE: u64 = 16 * 1024 * 1024;

impl AuditSink for JsonLinesFile {
    /// The path still names a writable file (it was not removed or made read-only).
    fn check(&self) -> io::Result<()> {
        let meta = std::fs::metadata(&self.path)?;
        if meta.permissions().readonly() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the audit file is read-only",
            ));
        }
        Ok(())
    }

    fn append(&self, line: &str) -> io::Result<()> {
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        let mut file = lock(&self.file);
        file.write_all(&buf)?;
        if self.sync {
            file.sync_data()?;
        }
        Ok(())
    }

    fn last_line(&self) -> io::Result<Option<String>> {
        let mut file = File::open(&self.path)?;
        let len = file.metadata()?.len();
        // Skip the final newline, then read backwards to the one before it.
        let mut end = len;
        let mut tail: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 8192];
        loop {
            if end == 0 {
                break;
            }
            let start = end.saturating_sub(chunk.len() as u64);
            let n = usize::try_from(end - start).unwrap_or(chunk.len());
            file.seek(SeekFrom::Start(start))?;
            file.read_exact(&mut chunk[..n])?;
            let mut block = chunk[..n].to_vec();
            block.extend_from_slice(&tail);
            tail = block;
            end = start;
            let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
            if body.contains(&b'\n') || end == 0 {
                break;
            }
            if tail.len() as u64 > MAX_LINE {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the last audit record is longer than 16 MiB",
                ));
            }
        }
        let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
        let last = match body.iter().rposition(|b| *b == b'\n') {
            Some(i) => &body[i + 1..],
            None => body,
        };
        if last.is_empty() {
            return Ok(None);
        }
        String::from_utf8(last.to_vec()).map(Some).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the last audit record is not UTF-8",
            )
        })
    }
}

/// Standard error, one record per line (for containers whose log collector keeps stderr).
/// It cannot read back, so each start begins a new chain.
///
/// ```
/// use mcp_core::layers::audit::{AuditLog, StderrSink};
/// let log = AuditLog::builder(StderrSink).build()?;
/// # let _ = log;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StderrSink;

impl AuditSink for StderrSink {
    fn append(&self, line: &str) -> io::Result<()> {
        let mut err = io::stderr().lock();
        err.write_all(line.as_bytes())?;
        err.write_all(b"\n")
    }
}

/// Records kept in memory, for tests: read them with [`MemorySink::lines`], and make the sink
/// fail on purpose with [`MemorySink::set_failing`]. Unbounded: not for production.
///
/// ```
/// use mcp_core::layers::audit::{AuditSink, MemorySink};
/// let sink = MemorySink::new();
/// sink.append("{}").unwrap();
/// sink.set_failing(true);
/// assert!(sink.append("{}").is_err());
/// assert_eq!(sink.lines(), ["{}"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    lines: Arc<Mutex<Vec<String>>>,
    failing: Arc<AtomicBool>,
}

impl MemorySink {
    /// An empty sink.
    ///
    /// See [`MemorySink`] for an example.
    pub fn new() -> Self {
        Self::default()
    }

    /// The records so far.
    ///
    /// See [`MemorySink`] for an example.
    pub fn lines(&self) -> Vec<String> {
        lock(&self.lines).clone()
    }

    /// The records, joined into JSON Lines text (what a file would hold).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::layers::audit::{AuditSink, MemorySink};
    /// let sink = MemorySink::new();
    /// sink.append("{\"seq\":0}")?;
    /// sink.append("{\"seq\":1}")?;
    /// assert_eq!(sink.text(), "{\"seq\":0}\n{\"seq\":1}\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn text(&self) -> String {
        let mut text = String::new();
        for line in lock(&self.lines).iter() {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Makes every later `append` fail (or succeed again).
    ///
    /// See [`MemorySink`] for an example.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

impl AuditSink for MemorySink {
    fn append(&self, line: &str) -> io::Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(io::Error::other("the memory sink is set to fail"));
        }
        lock(&self.lines).push(line.to_owned());
        Ok(())
    }

    fn last_line(&self) -> io::Result<Option<String>> {
        Ok(lock(&self.lines).last().cloned())
    }

    fn check(&self) -> io::Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(io::Error::other("the memory sink is set to fail"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_of_a_file_is_found_across_chunks() {
        let dir = std::env::temp_dir().join(format!("mcp-audit-sink-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.jsonl");
        let _ = std::fs::remove_file(&path);
        let sink = JsonLinesFile::open(&path).unwrap();
        assert_eq!(sink.last_line().unwrap(), None);
        sink.append("first").unwrap();
        assert_eq!(sink.last_line().unwrap().as_deref(), Some("first"));
        let long = "x".repeat(20_000);
        sink.append(&long).unwrap();
        sink.append("third").unwrap();
        assert_eq!(sink.last_line().unwrap().as_deref(), Some("third"));
        sink.append(&long).unwrap();
        assert_eq!(sink.last_line().unwrap().as_deref(), Some(long.as_str()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
