//! An incremental `text/event-stream` parser (the WHATWG event stream format).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// The event id, when the event carried one.
    pub(crate) id: Option<String>,
    /// The data lines, joined with `\n`.
    pub(crate) data: String,
}

/// Feeds bytes in, takes events out.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    buf: Vec<u8>,
    data: Option<String>,
    id: Option<String>,
    /// The last `retry:` value, in milliseconds.
    pub(crate) retry_ms: Option<u64>,
}

/// The most bytes one event may take (16 MiB).
const MAX_EVENT: usize = 16 * 1024 * 1024;

impl Parser {
    /// Adds bytes; returns the events they complete. `Err` when an event is too large.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Event>, String> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n' || b == b'\r') {
            let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
            let ending = line.pop();
            // A CRLF pair is one line ending.
            if ending == Some(b'\r') && self.buf.first() == Some(&b'\n') {
                self.buf.remove(0);
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            if let Some(e) = self.line(&line) {
                events.push(e);
            }
        }
        let pending = self.buf.len() + self.data.as_ref().map_or(0, String::len);
        if pending > MAX_EVENT {
            return Err("an event stream event exceeds 16 MiB".into());
        }
        Ok(events)
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            let data = self.data.take()?;
            return Some(Event {
                id: self.id.clone(),
                data,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            "retry" => self.retry_ms = value.parse().ok(),
            _ => {}
        }
        None
    }

    /// The id of the last event seen (what `Last-Event-ID` resumes from).
    pub(crate) fn last_id(&self) -> Option<&str> {
        self.id.as_deref().filter(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_anywhere() {
        let mut p = Parser::default();
        let input = b"id: 1\ndata:\n\n: keep-alive\r\nid: 2\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nretry: 50\n";
        let mut events = Vec::new();
        for chunk in input.chunks(3) {
            events.extend(p.feed(chunk).expect("small"));
        }
        assert_eq!(
            events,
            vec![
                Event {
                    id: Some("1".into()),
                    data: String::new()
                },
                Event {
                    id: Some("2".into()),
                    data: "{\"a\":\n1}".into()
                },
            ]
        );
        assert_eq!(p.retry_ms, Some(50));
        assert_eq!(p.last_id(), Some("2"));
    }
}
