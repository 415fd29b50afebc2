//! SSE events: one Redis stream per SSE stream, entry ids `0-<sequence>`.

use std::sync::Arc;
use std::time::Duration;

use super::conn::Conn;
use super::{key, millis};
use crate::http::{EventStore, Followed, StoreError, StoreFuture};

/// Appends an entry with the next sequence number (one past the newest entry: trimming keeps
/// the newest, so the numbering never restarts while the stream exists), trims, and refreshes
/// the expiry of the stream and of its session's index. `ARGV[5]` is `m` for a message, `end`
/// for the end-of-stream mark.
const APPEND: &str = r"
local seq = 1
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #newest > 0 then
  local id = newest[1][1]
  seq = tonumber(string.sub(id, string.find(id, '-', 1, true) + 1)) + 1
end
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '0-' .. seq, 'v', '1', ARGV[5], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return seq
";

/// An [`EventStore`] in Redis, shared by every instance.
///
/// Each SSE stream is a Redis stream `<prefix>:sse:<stream id>` whose entries are numbered
/// `0-1`, `0-2`, … (the event ids' sequence numbers), trimmed to
/// [`RedisConfig::max_events_per_stream`](super::RedisConfig::max_events_per_stream) and
/// expiring [`RedisConfig::event_ttl`](super::RedisConfig::event_ttl) after the last append;
/// `<prefix>:sse-index:<session>` lists a session's streams so that ending the session deletes
/// them. A finished stream ends with a mark, so an instance following it for a client that
/// resumed there knows when to stop.
///
/// Made by [`Redis::event_store`](super::Redis::event_store).
///
/// See [`Redis`](super::Redis) for an example.
#[derive(Clone)]
pub struct RedisEventStore {
    conn: Arc<Conn>,
    append: Arc<::redis::Script>,
}

impl std::fmt::Debug for RedisEventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEventStore").finish_non_exhaustive()
    }
}

/// One entry as XRANGE returns it.
type Entry = (String, Vec<String>);

fn entry_seq(id: &str) -> Option<u64> {
    id.split_once('-')?.1.parse().ok()
}

/// The field value of `name` in a flat `[field, value, …]` list.
fn field<'a>(fields: &'a [String], name: &str) -> Option<&'a str> {
    fields
        .chunks(2)
        .find(|kv| kv.first().map(String::as_str) == Some(name))
        .and_then(|kv| kv.get(1))
        .map(String::as_str)
}

impl RedisEventStore {
    pub(crate) fn new(conn: Arc<Conn>) -> Self {
        RedisEventStore {
            conn,
            append: Arc::new(::redis::Script::new(APPEND)),
        }
    }

    fn stream_key(&self, stream: &str) -> String {
        key(&self.conn, "sse", stream)
    }

    fn index_key(&self, session: &str) -> String {
        key(&self.conn, "sse-index", session)
    }

    async fn add(&self, stream: &str, kind: &str, value: &str) -> Result<u64, StoreError> {
        let session = stream.split('.').next().unwrap_or(stream);
        let (sk, ik) = (self.stream_key(stream), self.index_key(session));
        let script = self.append.clone();
        let max = self.conn.config.max_events_per_stream;
        let ttl = millis(self.conn.config.event_ttl);
        self.conn
            .run(|mut c| async move {
                script
                    .key(&sk)
                    .key(ik)
                    .arg(value)
                    .arg(max)
                    .arg(ttl)
                    .arg(&sk)
                    .arg(kind)
                    .invoke_async::<u64>(&mut c)
                    .await
            })
            .await
    }

    /// The events after `after` and whether the end mark follows them; `None` when the stream
    /// is unknown or the events right after `after` were trimmed.
    async fn read(&self, stream: &str, after: u64) -> Result<Option<Followed>, StoreError> {
        let sk = self.stream_key(stream);
        let count = self.conn.config.max_events_per_stream + 1;
        let (oldest, entries) = self
            .conn
            .run(|mut c| async move {
                ::redis::pipe()
                    .cmd("XRANGE")
                    .arg(&sk)
                    .arg("-")
                    .arg("+")
                    .arg("COUNT")
                    .arg(1)
                    .cmd("XRANGE")
                    .arg(&sk)
                    .arg(format!("0-{}", after.saturating_add(1)))
                    .arg("+")
                    .arg("COUNT")
                    .arg(count)
                    .query_async::<(Vec<Entry>, Vec<Entry>)>(&mut c)
                    .await
            })
            .await?;
        let Some(first) = oldest.first().and_then(|(id, _)| entry_seq(id)) else {
            return Ok(None);
        };
        // Resumption must not skip events that were trimmed.
        if first > after.saturating_add(1) {
            return Ok(None);
        }
        let mut followed = Followed::default();
        for (id, fields) in entries {
            if field(&fields, "end").is_some() {
                followed.finished = true;
                break;
            }
            let (Some(seq), Some(m)) = (entry_seq(&id), field(&fields, "m")) else {
                continue;
            };
            followed
                .events
                .push((format!("{stream}:{seq}"), m.to_owned()));
        }
        Ok(Some(followed))
    }
}

fn parse_event_id(id: &str) -> Option<(&str, u64)> {
    let (stream, seq) = id.rsplit_once(':')?;
    Some((stream, seq.parse().ok()?))
}

impl EventStore for RedisEventStore {
    fn append<'a>(&'a self, stream: &'a str, message: &'a str) -> StoreFuture<'a, String> {
        Box::pin(async move {
            let seq = self.add(stream, "m", message).await?;
            Ok(format!("{stream}:{seq}"))
        })
    }

    fn replay_after<'a>(
        &'a self,
        last_event_id: &'a str,
    ) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move {
            let Some((stream, after)) = parse_event_id(last_event_id) else {
                return Ok(None);
            };
            Ok(self.read(stream, after).await?.map(|f| f.events))
        })
    }

    fn forget<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let session = prefix.split('.').next().unwrap_or(prefix);
            let ik = self.index_key(session);
            let whole = prefix.strip_suffix('.') == Some(session);
            let own = self.stream_key(prefix);
            self.conn
                .run(|mut c| async move {
                    let members: Vec<String> = ::redis::cmd("SMEMBERS")
                        .arg(&ik)
                        .query_async(&mut c)
                        .await?;
                    let doomed: Vec<&String> =
                        members.iter().filter(|k| k.starts_with(&own)).collect();
                    let mut p = ::redis::pipe();
                    for k in &doomed {
                        p.cmd("DEL").arg(*k).ignore();
                        p.cmd("SREM").arg(&ik).arg(*k).ignore();
                    }
                    if whole {
                        p.cmd("DEL").arg(&ik).ignore();
                    }
                    p.query_async::<()>(&mut c).await
                })
                .await
        })
    }

    fn finish<'a>(&'a self, stream: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.add(stream, "end", "1").await.map(|_| ()) })
    }

    fn follow<'a>(
        &'a self,
        last_event_id: &'a str,
        wait: Duration,
    ) -> StoreFuture<'a, Option<Followed>> {
        Box::pin(async move {
            let Some((stream, after)) = parse_event_id(last_event_id) else {
                return Ok(None);
            };
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                let found = self.read(stream, after).await?;
                let done = match &found {
                    // Resuming from the priming event: the producer may not have stored
                    // anything yet.
                    None => after != 0,
                    Some(f) => !f.events.is_empty() || f.finished,
                };
                if done || tokio::time::Instant::now() >= deadline {
                    return Ok(found);
                }
                tokio::time::sleep(self.conn.config.follow_poll).await;
            }
        })
    }

    fn shared(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_decode() {
        assert_eq!(entry_seq("0-42"), Some(42));
        let fields = vec![
            "v".to_owned(),
            "1".to_owned(),
            "m".to_owned(),
            "{}".to_owned(),
        ];
        assert_eq!(field(&fields, "m"), Some("{}"));
        assert_eq!(field(&fields, "end"), None);
        assert_eq!(parse_event_id("s.ab-1:7"), Some(("s.ab-1", 7)));
    }
}
