//! The stores against a real Redis, started by `.ci/redis-nginx` (which installs it with
//! apt-get when missing) and stopped when the test process exits.

use std::sync::OnceLock;
use std::time::Duration;

use mcp_core::layers::{Quota, RateLimitBackend};
use mcp_core::protocol::TaskStatus;
use mcp_core::server::{TaskRecord, TaskStore};

use super::{Redis, RedisConfig};
use crate::http::{EventStore, SessionRecord, SessionStore};

/// One Redis for the whole test binary; each test uses its own key prefix.
fn redis_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mcp-redis-unit-{}", std::process::id()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/redis-nginx");
        let out = std::process::Command::new("bash")
            .arg(script)
            .args(["redis", "start"])
            .arg(&dir)
            .args(["--watch", &std::process::id().to_string()])
            .output()
            .expect("run .ci/redis-nginx");
        assert!(
            out.status.success(),
            "starting Redis failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout.lines().last().expect("a URL").trim().to_owned()
    })
}

fn redis(prefix: &str) -> Redis {
    Redis::new(
        RedisConfig::new(redis_url())
            .prefix(format!("unit-{prefix}-{}", std::process::id()))
            .max_events_per_stream(3),
    )
    .expect("url")
}

#[tokio::test]
async fn sessions_round_trip_and_expire() {
    let store = redis("sessions").session_store();
    let rec = SessionRecord {
        id: "s1".into(),
        protocol_version: "2025-11-25".into(),
        log_level: Some("info".into()),
        ..Default::default()
    };
    store.put(&rec, Duration::from_millis(300)).await.unwrap();
    assert_eq!(store.get("s1").await.unwrap(), Some(rec));
    store.touch("s1", Duration::from_secs(60)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        store.get("s1").await.unwrap().is_some(),
        "touch extends the lifetime"
    );
    store.remove("s1").await.unwrap();
    assert_eq!(store.get("s1").await.unwrap(), None);
}

#[tokio::test]
async fn events_replay_trim_finish_follow_and_forget() {
    let store = redis("events").event_store();
    let ids: Vec<String> = {
        let mut v = Vec::new();
        for m in ["one", "two", "three", "four"] {
            v.push(store.append("sess.x-1", m).await.unwrap());
        }
        v
    };
    assert_eq!(ids[0], "sess.x-1:1");
    assert_eq!(ids[3], "sess.x-1:4");
    // Three kept: resuming after 1 works, after 0 would skip "one" and is refused.
    let after_one = store.replay_after(&ids[0]).await.unwrap().unwrap();
    assert_eq!(
        after_one
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>(),
        ["two", "three", "four"]
    );
    assert_eq!(store.replay_after("sess.x-1:0").await.unwrap(), None);
    assert_eq!(store.replay_after("sess.unknown:0").await.unwrap(), None);
    // A follower waits for more, then sees the end.
    let follower = {
        let store = store.clone();
        let last = ids[3].clone();
        tokio::spawn(async move { store.follow(&last, Duration::from_secs(5)).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    store.append("sess.x-1", "five").await.unwrap();
    let f = follower.await.unwrap().unwrap().unwrap();
    assert_eq!(f.events, vec![("sess.x-1:5".to_owned(), "five".to_owned())]);
    store.finish("sess.x-1").await.unwrap();
    let f = store
        .follow("sess.x-1:5", Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert!(f.finished && f.events.is_empty());
    // Ending the session deletes its streams.
    store.append("sess.y-2", "other stream").await.unwrap();
    store.forget("sess.").await.unwrap();
    assert_eq!(store.replay_after("sess.y-2:0").await.unwrap(), None);
    assert_eq!(store.replay_after(&ids[2]).await.unwrap(), None);
}

#[tokio::test]
async fn a_terminal_task_keeps_its_status() {
    let store = redis("tasks").task_store();
    let mut r = TaskRecord::new("t1".into(), "alice".into(), 60_000, 500);
    store.put(r.clone()).await.unwrap();
    r.status = TaskStatus::Cancelled;
    store.put(r.clone()).await.unwrap();
    // The handler finishing elsewhere must not resurrect it.
    let mut late = r.clone();
    late.status = TaskStatus::Completed;
    store.put(late).await.unwrap();
    assert_eq!(
        store.get("t1").await.unwrap().unwrap().status,
        TaskStatus::Cancelled
    );
    store
        .put(TaskRecord::new("t2".into(), "alice".into(), 60_000, 500))
        .await
        .unwrap();
    store
        .put(TaskRecord::new("t3".into(), "bob".into(), 60_000, 500))
        .await
        .unwrap();
    let mine: Vec<String> = store
        .list("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(mine, ["t1", "t2"]);
}

#[tokio::test]
async fn two_backends_share_one_bucket_per_client() {
    let (one, two) = (
        redis("rl").rate_limit_backend(),
        redis("rl").rate_limit_backend(),
    );
    let quota = Quota::per_second(10);
    let mut allowed = 0;
    for i in 0..30 {
        let backend = if i % 2 == 0 { &one } else { &two };
        if backend
            .check("client|sub:alice", &quota)
            .await
            .unwrap()
            .is_allowed()
        {
            allowed += 1;
        }
    }
    assert!((10..=12).contains(&allowed), "{allowed} allowed");
    // Another client has its own bucket.
    assert!(one
        .check("client|sub:bob", &quota)
        .await
        .unwrap()
        .is_allowed());
}
