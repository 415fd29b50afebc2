//! Task records: one string key per task, an index per owner.

use std::sync::Arc;

use mcp_core::protocol::TaskStatus;
use mcp_core::server::{TaskFuture, TaskRecord, TaskStore, TaskStoreError};

use super::conn::Conn;
use super::{check_version, key};
use crate::http::StoreError;

/// Saves a record unless the stored one already ended differently (a task cancelled on one
/// instance stays cancelled when its handler, on another, finishes), and indexes it under its
/// owner. Returns 1 when saved, 0 when the stored terminal record was kept.
const PUT: &str = r"
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, old = pcall(cjson.decode, cur)
  if ok and type(old) == 'table' then
    local s = old['status']
    if (s == 'completed' or s == 'failed' or s == 'cancelled') and s ~= ARGV[2] then
      return 0
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return 1
";

/// The most tasks `list` returns per owner.
const LIST_LIMIT: isize = 1000;

/// A [`TaskStore`] in Redis, so that any instance answers `tasks/get`, `tasks/result`,
/// `tasks/list` and `tasks/cancel` for a task another instance runs.
///
/// `<prefix>:task:<id>` holds the record (it carries its own format version, `v`) and expires
/// with the task's TTL; `<prefix>:tasks:<owner>` indexes an owner's tasks by creation time.
/// A record that reached a terminal status keeps it: a later `put` with another status (the
/// handler finishing on one instance after the task was cancelled on another) is ignored.
///
/// Made by [`Redis::task_store`](super::Redis::task_store).
///
/// See [`Redis`](super::Redis) for an example.
#[derive(Clone)]
pub struct RedisTaskStore {
    conn: Arc<Conn>,
    put: Arc<::redis::Script>,
}

impl std::fmt::Debug for RedisTaskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTaskStore").finish_non_exhaustive()
    }
}

fn unavailable(e: StoreError) -> TaskStoreError {
    match e {
        StoreError::Unavailable(m) => TaskStoreError::Unavailable(m),
    }
}

fn status_name(s: TaskStatus) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn decode(raw: &str) -> Option<TaskRecord> {
    match serde_json::from_str::<TaskRecord>(raw) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(%e, "an unreadable task record is treated as missing");
            None
        }
    }
}

impl RedisTaskStore {
    pub(crate) fn new(conn: Arc<Conn>) -> Self {
        RedisTaskStore {
            conn,
            put: Arc::new(::redis::Script::new(PUT)),
        }
    }

    fn task_key(&self, id: &str) -> String {
        key(&self.conn, "task", id)
    }

    fn owner_key(&self, owner: &str) -> String {
        key(&self.conn, "tasks", owner)
    }
}

impl TaskStore for RedisTaskStore {
    fn put(&self, record: TaskRecord) -> TaskFuture<'_, ()> {
        Box::pin(async move {
            // The record lives until its TTL (counted from creation) is over.
            let expires = record.created_ms.saturating_add(record.ttl_ms);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
            let ttl = expires.saturating_sub(now).max(1000);
            let json = serde_json::to_string(&record).map_err(|e| {
                TaskStoreError::Unavailable(format!("cannot encode a task record: {e}"))
            })?;
            let (tk, ok) = (self.task_key(&record.id), self.owner_key(&record.owner));
            let script = self.put.clone();
            let status = status_name(record.status);
            self.conn
                .run(|mut c| async move {
                    script
                        .key(tk)
                        .key(ok)
                        .arg(json)
                        .arg(status)
                        .arg(ttl)
                        .arg(record.created_ms)
                        .arg(&record.id)
                        .invoke_async::<i64>(&mut c)
                        .await
                })
                .await
                .map(|_| ())
                .map_err(unavailable)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> TaskFuture<'a, Option<TaskRecord>> {
        Box::pin(async move {
            let k = self.task_key(id);
            let raw = self
                .conn
                .run(|mut c| async move {
                    ::redis::cmd("GET")
                        .arg(k)
                        .query_async::<Option<String>>(&mut c)
                        .await
                })
                .await
                .map_err(unavailable)?;
            let Some(record) = raw.as_deref().and_then(decode) else {
                return Ok(None);
            };
            check_version(record.v, "task record").map_err(unavailable)?;
            Ok((!record.expired()).then_some(record))
        })
    }

    fn list<'a>(&'a self, owner: &'a str) -> TaskFuture<'a, Vec<TaskRecord>> {
        Box::pin(async move {
            let ok = self.owner_key(owner);
            let ids: Vec<String> = {
                let ok = ok.clone();
                self.conn
                    .run(|mut c| async move {
                        ::redis::cmd("ZRANGE")
                            .arg(ok)
                            .arg(0)
                            .arg(LIST_LIMIT - 1)
                            .query_async(&mut c)
                            .await
                    })
                    .await
                    .map_err(unavailable)?
            };
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let keys: Vec<String> = ids.iter().map(|id| self.task_key(id)).collect();
            let raws: Vec<Option<String>> = self
                .conn
                .run(
                    |mut c| async move { ::redis::cmd("MGET").arg(keys).query_async(&mut c).await },
                )
                .await
                .map_err(unavailable)?;
            let mut out = Vec::new();
            let mut gone = Vec::new();
            for (id, raw) in ids.iter().zip(raws) {
                match raw.as_deref().and_then(decode) {
                    Some(r) if r.owner == owner && !r.expired() => out.push(r),
                    _ => gone.push(id.clone()),
                }
            }
            if !gone.is_empty() {
                // Expired tasks leave the index; a failure here only delays that.
                let _ = self
                    .conn
                    .run(|mut c| async move {
                        ::redis::cmd("ZREM")
                            .arg(ok)
                            .arg(gone)
                            .query_async::<()>(&mut c)
                            .await
                    })
                    .await;
            }
            Ok(out)
        })
    }
}
