//! The relay between instances: Redis pub/sub on one channel per namespace.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::conn::Conn;
use super::{check_version, FORMAT_VERSION};
use crate::http::{RelayMessage, SessionRelay, StoreError, StoreFuture};

/// A [`SessionRelay`] over Redis pub/sub: every instance publishes to and subscribes to
/// `<prefix>:relay`, and ignores what it published itself.
///
/// The subscriber reconnects on its own (backing off up to two seconds) when Redis goes away;
/// messages published meanwhile are lost to it, as pub/sub does not keep them.
///
/// Made by [`Redis::relay`](super::Redis::relay).
///
/// See [`Redis`](super::Redis) for an example.
#[derive(Clone)]
pub struct RedisRelay {
    conn: Arc<Conn>,
    channel: String,
    /// This instance's id, to skip our own messages.
    origin: String,
}

impl std::fmt::Debug for RedisRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRelay")
            .field("channel", &self.channel)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The wire form of a [`RelayMessage`].
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    v: u32,
    from: String,
    session: String,
    /// `client`, `ended` or `task-update`.
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
}

impl Wire {
    fn into_message(self) -> Option<RelayMessage> {
        match (self.kind.as_str(), self.json) {
            ("client", Some(json)) => Some(RelayMessage::Client {
                session: self.session,
                json,
            }),
            ("ended", _) => Some(RelayMessage::Ended {
                session: self.session,
            }),
            ("task-update", Some(json)) => Some(RelayMessage::TaskUpdate {
                json,
                subject: self.subject,
            }),
            _ => None,
        }
    }
}

fn random_id() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl RedisRelay {
    pub(crate) fn new(conn: Arc<Conn>) -> Self {
        let channel = format!("{}:relay", conn.config.prefix);
        RedisRelay {
            conn,
            channel,
            origin: random_id(),
        }
    }
}

impl SessionRelay for RedisRelay {
    fn publish<'a>(&'a self, message: &'a RelayMessage) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let (kind, json, subject) = match message {
                RelayMessage::Client { json, .. } => ("client", Some(json.clone()), None),
                RelayMessage::Ended { .. } => ("ended", None, None),
                RelayMessage::TaskUpdate { json, subject } => {
                    ("task-update", Some(json.clone()), subject.clone())
                }
            };
            let wire = Wire {
                v: FORMAT_VERSION,
                from: self.origin.clone(),
                session: message.session().unwrap_or_default().to_owned(),
                kind: kind.to_owned(),
                json,
                subject,
            };
            let payload = serde_json::to_string(&wire)
                .map_err(|e| StoreError::Unavailable(format!("cannot encode: {e}")))?;
            let channel = self.channel.clone();
            self.conn
                .run(|mut c| async move {
                    ::redis::cmd("PUBLISH")
                        .arg(channel)
                        .arg(payload)
                        .query_async::<i64>(&mut c)
                        .await
                })
                .await
                .map(|_| ())
        })
    }

    fn subscribe(&self) -> mpsc::Receiver<RelayMessage> {
        let (tx, rx) = mpsc::channel(1024);
        let relay = self.clone();
        tokio::spawn(async move { relay.listen(tx).await });
        rx
    }
}

impl RedisRelay {
    /// Subscribes, forwards, and resubscribes after a disconnection, until `tx` is dropped.
    async fn listen(self, tx: mpsc::Sender<RelayMessage>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            if tx.is_closed() {
                return;
            }
            let connect = self.conn.client().get_async_pubsub();
            let subscribed =
                match tokio::time::timeout(self.conn.config.connect_timeout, connect).await {
                    Ok(Ok(mut pubsub)) => {
                        let sub = pubsub.subscribe(&self.channel);
                        match tokio::time::timeout(self.conn.config.command_timeout, sub).await {
                            Ok(Ok(())) => Some(pubsub),
                            _ => None,
                        }
                    }
                    _ => None,
                };
            if let Some(mut pubsub) = subscribed {
                backoff = Duration::from_millis(100);
                tracing::debug!(channel = %self.channel, "relay subscribed");
                let mut messages = pubsub.on_message();
                loop {
                    let msg = tokio::select! {
                        m = messages.next() => m,
                        _ = tx.closed() => return,
                    };
                    let Some(msg) = msg else { break };
                    let Ok(payload) = msg.get_payload::<String>() else {
                        continue;
                    };
                    let wire = match serde_json::from_str::<Wire>(&payload) {
                        Ok(w) => w,
                        Err(e) => {
                            tracing::debug!(%e, "ignoring an unreadable relay message");
                            continue;
                        }
                    };
                    if wire.from == self.origin || check_version(wire.v, "relay message").is_err() {
                        continue;
                    }
                    if let Some(m) = wire.into_message() {
                        if tx.send(m).await.is_err() {
                            return;
                        }
                    }
                }
                tracing::warn!(channel = %self.channel, "the relay lost its Redis subscription; resubscribing");
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}
