//! Session records: one string key per session, expiring after the idle timeout.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::conn::Conn;
use super::{check_version, key, millis, FORMAT_VERSION};
use crate::http::{SessionRecord, SessionStore, StoreError, StoreFuture};

/// A [`SessionStore`] in Redis: `<prefix>:session:<id>` holds the record as versioned JSON and
/// expires after the session's idle timeout, which every request extends (on any instance).
///
/// Made by [`Redis::session_store`](super::Redis::session_store).
///
/// See [`Redis`](super::Redis) for an example.
#[derive(Clone)]
pub struct RedisSessionStore {
    conn: Arc<Conn>,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore").finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    v: u32,
    #[serde(flatten)]
    record: SessionRecord,
}

impl RedisSessionStore {
    pub(crate) fn new(conn: Arc<Conn>) -> Self {
        RedisSessionStore { conn }
    }

    fn key(&self, id: &str) -> String {
        key(&self.conn, "session", id)
    }
}

impl SessionStore for RedisSessionStore {
    fn put<'a>(&'a self, record: &'a SessionRecord, ttl: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let value = serde_json::to_string(&Stored {
                v: FORMAT_VERSION,
                record: record.clone(),
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot encode a session: {e}")))?;
            let k = self.key(&record.id);
            self.conn
                .run(|mut c| async move {
                    ::redis::cmd("SET")
                        .arg(k)
                        .arg(value)
                        .arg("PX")
                        .arg(millis(ttl))
                        .query_async::<()>(&mut c)
                        .await
                })
                .await
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<SessionRecord>> {
        Box::pin(async move {
            let k = self.key(id);
            let raw = self
                .conn
                .run(|mut c| async move {
                    ::redis::cmd("GET")
                        .arg(k)
                        .query_async::<Option<String>>(&mut c)
                        .await
                })
                .await?;
            let Some(raw) = raw else { return Ok(None) };
            match serde_json::from_str::<Stored>(&raw) {
                Ok(s) => {
                    check_version(s.v, "session record")?;
                    Ok(Some(s.record))
                }
                Err(e) => {
                    tracing::warn!(%e, "an unreadable session record is treated as missing");
                    Ok(None)
                }
            }
        })
    }

    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let k = self.key(id);
            self.conn
                .run(|mut c| async move { ::redis::cmd("DEL").arg(k).query_async::<()>(&mut c).await })
                .await
        })
    }

    fn touch<'a>(&'a self, id: &'a str, ttl: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let k = self.key(id);
            self.conn
                .run(|mut c| async move {
                    ::redis::cmd("PEXPIRE")
                        .arg(k)
                        .arg(millis(ttl))
                        .query_async::<()>(&mut c)
                        .await
                })
                .await
        })
    }

    fn shared(&self) -> bool {
        true
    }
}
