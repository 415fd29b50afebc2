//! One multiplexed connection with bounded timeouts and a circuit breaker.

use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, RedisError, RedisResult};

use super::{RedisConfig, RedisSetupError};
use crate::http::StoreError;

/// The breaker's state.
#[derive(Debug, Default)]
struct Breaker {
    /// Failing fast until then.
    open_until: Option<Instant>,
    /// Whether the last attempt failed (for logging transitions once).
    down: bool,
}

pub(crate) struct Conn {
    pub(crate) config: RedisConfig,
    client: Client,
    cached: Mutex<Option<MultiplexedConnection>>,
    connecting: tokio::sync::Mutex<()>,
    breaker: Mutex<Breaker>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The URL without its password, for messages.
fn redacted(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Whether an error means the connection is unusable (as opposed to a command's own error).
fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_unrecoverable_error()
}

impl Conn {
    pub(crate) fn new(config: RedisConfig) -> Result<Conn, RedisSetupError> {
        let client =
            Client::open(config.url.as_str()).map_err(|e| RedisSetupError::InvalidUrl {
                url: redacted(&config.url),
                reason: e.to_string(),
            })?;
        Ok(Conn {
            config,
            client,
            cached: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            breaker: Mutex::new(Breaker::default()),
        })
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn is_available(&self) -> bool {
        !lock(&self.breaker).down
    }

    fn unavailable(&self, why: &str) -> StoreError {
        StoreError::Unavailable(format!("redis at {}: {why}", redacted(&self.config.url)))
    }

    /// Fails fast while the breaker is open.
    fn check_breaker(&self) -> Result<(), StoreError> {
        let b = lock(&self.breaker);
        match b.open_until {
            Some(until) if Instant::now() < until => Err(self.unavailable(
                "unavailable (failing fast after a recent failure; retrying shortly)",
            )),
            _ => Ok(()),
        }
    }

    /// Records a failure: drop the connection, open the breaker.
    pub(crate) fn trip(&self, why: &str) {
        *lock(&self.cached) = None;
        let mut b = lock(&self.breaker);
        b.open_until = Some(Instant::now() + self.config.retry_interval);
        if !b.down {
            b.down = true;
            tracing::warn!(
                url = %redacted(&self.config.url),
                reason = why,
                retry_in = ?self.config.retry_interval,
                "redis is unavailable; failing fast until it answers again"
            );
        }
    }

    fn recovered(&self) {
        let mut b = lock(&self.breaker);
        b.open_until = None;
        if b.down {
            b.down = false;
            tracing::info!(url = %redacted(&self.config.url), "redis is available again");
        }
    }

    /// The shared connection, connecting (once, bounded) if there is none.
    async fn connection(&self) -> Result<MultiplexedConnection, StoreError> {
        if let Some(c) = lock(&self.cached).clone() {
            return Ok(c);
        }
        self.check_breaker()?;
        // One attempt at a time; the others wait for it (bounded by the connect timeout).
        let _attempt = self.connecting.lock().await;
        if let Some(c) = lock(&self.cached).clone() {
            return Ok(c);
        }
        self.check_breaker()?;
        let settings = AsyncConnectionConfig::new()
            .set_connection_timeout(self.config.connect_timeout)
            .set_response_timeout(self.config.command_timeout);
        let attempt = self
            .client
            .get_multiplexed_async_connection_with_config(&settings);
        match tokio::time::timeout(self.config.connect_timeout, attempt).await {
            Ok(Ok(c)) => {
                *lock(&self.cached) = Some(c.clone());
                Ok(c)
            }
            Ok(Err(e)) => {
                let why = format!("cannot connect: {e}");
                self.trip(&why);
                Err(self.unavailable(&why))
            }
            Err(_) => {
                let why = format!("cannot connect within {:?}", self.config.connect_timeout);
                self.trip(&why);
                Err(self.unavailable(&why))
            }
        }
    }

    /// Runs one operation on the connection within the command timeout.
    pub(crate) async fn run<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let c = self.connection().await?;
        match tokio::time::timeout(self.config.command_timeout, op(c)).await {
            Ok(Ok(v)) => {
                self.recovered();
                Ok(v)
            }
            Ok(Err(e)) if is_connection_error(&e) => {
                let why = e.to_string();
                self.trip(&why);
                Err(self.unavailable(&why))
            }
            Ok(Err(e)) => Err(self.unavailable(&format!("command failed: {e}"))),
            Err(_) => {
                let why = format!("no answer within {:?}", self.config.command_timeout);
                self.trip(&why);
                Err(self.unavailable(&why))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redacted("redis://user:secret@db:6379/0"),
            "redis://***@db:6379/0"
        );
        assert_eq!(redacted("redis://db:6379"), "redis://db:6379");
    }

    #[tokio::test]
    async fn a_dead_server_fails_fast_and_the_breaker_opens() {
        // Nothing listens on port 1.
        let conn = Conn::new(
            RedisConfig::new("redis://127.0.0.1:1")
                .retry_interval(std::time::Duration::from_secs(60)),
        )
        .expect("url");
        let ping = || async {
            conn.run(
                |mut c| async move { ::redis::cmd("PING").query_async::<String>(&mut c).await },
            )
            .await
        };
        let started = Instant::now();
        assert!(ping().await.is_err());
        assert!(!conn.is_available());
        // Open breaker: no connection attempt at all.
        let again = Instant::now();
        let e = ping().await.expect_err("still down");
        assert!(e.to_string().contains("failing fast"), "{e}");
        assert!(again.elapsed() < std::time::Duration::from_millis(50));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
