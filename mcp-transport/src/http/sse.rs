//! Server-sent events framing.

use bytes::Bytes;

/// One SSE event carrying a JSON-RPC message, with an optional id.
pub(crate) fn event(id: Option<&str>, data: &str) -> Bytes {
    let mut s = String::with_capacity(data.len() + 32);
    if let Some(id) = id {
        s.push_str("id: ");
        s.push_str(id);
        s.push('\n');
    }
    s.push_str("event: message\n");
    // JSON text from serde_json never contains raw newlines, so one data line suffices.
    s.push_str("data: ");
    s.push_str(data);
    s.push_str("\n\n");
    Bytes::from(s)
}

/// The priming event: an id to resume from and a reconnection delay, with empty data.
pub(crate) fn priming(id: &str, retry_ms: u64) -> Bytes {
    Bytes::from(format!("id: {id}\nretry: {retry_ms}\ndata: \n\n"))
}

/// A keep-alive comment.
pub(crate) fn keep_alive() -> Bytes {
    Bytes::from_static(b": keep-alive\n\n")
}
