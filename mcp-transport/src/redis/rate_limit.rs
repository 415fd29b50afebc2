//! Rate-limit buckets: GCRA in a Lua script, on Redis's clock.

use std::sync::Arc;
use std::time::Duration;

use mcp_core::layers::{BackendError, BackendFuture, Decision, Quota, RateLimitBackend};

use super::conn::Conn;
use super::key;

/// GCRA on the server's clock (so instances' clock skew does not matter): the key holds the
/// bucket's "theoretical arrival time" in microseconds. Returns 0 when a token was taken,
/// otherwise the microseconds until the next one is due.
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local nxt = tat + interval
local ahead = nxt - now
if ahead > tolerance then
  return math.max(1, math.ceil(ahead - tolerance))
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil(ahead / 1000) + 1)
return 0
";

/// A [`RateLimitBackend`] in Redis: every instance draws from the same buckets, so a client's
/// quota holds across all of them together.
///
/// Each bucket is one key, `<prefix>:rl1:<bucket>`, holding a timestamp and expiring as soon
/// as the bucket is full again. One script call per check, atomic on the server.
///
/// When Redis is unavailable the check fails fast (the breaker) and the layer lets the
/// request through, or refuses it with
/// [`RateLimitLayer::fail_closed`](mcp_core::layers::RateLimitLayer::fail_closed).
///
/// ```
/// use std::sync::Arc;
/// use mcp_core::layers::{Quota, RateLimitLayer};
/// use mcp_transport::redis::{Redis, RedisConfig};
/// let redis = Redis::new(RedisConfig::new("redis://127.0.0.1:6379")).unwrap();
/// let layer = RateLimitLayer::with_backend(Arc::new(redis.rate_limit_backend()))
///     .per_client(Quota::per_second(10));
/// # let _ = layer;
/// ```
///
/// Made by [`Redis::rate_limit_backend`](super::Redis::rate_limit_backend).
#[derive(Clone)]
pub struct RedisRateLimitBackend {
    conn: Arc<Conn>,
    take: Arc<::redis::Script>,
}

impl std::fmt::Debug for RedisRateLimitBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimitBackend")
            .finish_non_exhaustive()
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

impl RedisRateLimitBackend {
    pub(crate) fn new(conn: Arc<Conn>) -> Self {
        RedisRateLimitBackend {
            conn,
            take: Arc::new(::redis::Script::new(TAKE)),
        }
    }
}

impl RateLimitBackend for RedisRateLimitBackend {
    fn check<'a>(&'a self, bucket: &'a str, quota: &'a Quota) -> BackendFuture<'a> {
        Box::pin(async move {
            let k = key(&self.conn, "rl1", bucket);
            let interval = micros(quota.interval());
            let tolerance = interval.saturating_mul(u64::from(quota.burst_size()));
            let script = self.take.clone();
            let wait = self
                .conn
                .run(|mut c| async move {
                    script
                        .key(k)
                        .arg(interval)
                        .arg(tolerance)
                        .invoke_async::<u64>(&mut c)
                        .await
                })
                .await
                .map_err(|e| BackendError::new(e.to_string()))?;
            Ok(if wait == 0 {
                Decision::Allowed
            } else {
                Decision::Limited {
                    retry_after: Duration::from_micros(wait),
                }
            })
        })
    }
}
