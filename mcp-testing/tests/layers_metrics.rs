//! Prometheus metrics from the layer: counts per tool and outcome, latency histograms, gauges,
//! rejections, and label values that unknown tool names cannot grow.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::identity::Identity;
use mcp_core::layers::{ConcurrencyLimitLayer, Metrics, MetricsLayer, Quota, RateLimitLayer};
use mcp_core::{Args, Router, Server, ToolDef, ToolError};
use mcp_testing::{RequestOptions, TestClient, ERAS};
use serde_json::json;
use tokio::sync::Notify;

async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("the test did not finish within 60 s")
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Fail {
    fail: bool,
}

async fn maybe(Args(Fail { fail }): Args<Fail>) -> Result<String, ToolError> {
    tokio::time::sleep(Duration::from_millis(30)).await;
    if fail {
        Err(ToolError::new("asked to fail"))
    } else {
        Ok("fine".into())
    }
}

/// The value of the series `line` (`name{labels}`) in an exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn series_count(text: &str) -> usize {
    text.lines().filter(|l| !l.starts_with('#')).count()
}

#[tokio::test(start_paused = true)]
async fn ok_and_is_error_calls_are_counted_apart_with_one_histogram() {
    for era in ERAS {
        within(async {
            let metrics = Metrics::new();
            let server = Server::new(Router::new().tool(ToolDef::new("maybe", maybe)))
                .layer(MetricsLayer::new(&metrics));
            let client = TestClient::builder(server)
                .era(era)
                .connect()
                .await
                .unwrap();
            for _ in 0..10 {
                assert!(!client
                    .call_tool("maybe", json!({"fail": false}))
                    .await
                    .unwrap()
                    .is_error());
            }
            for _ in 0..3 {
                assert!(client
                    .call_tool("maybe", json!({"fail": true}))
                    .await
                    .unwrap()
                    .is_error());
            }
            let text = metrics.render();
            let ok = value(&text, "mcp_tool_calls_total{tool=\"maybe\",outcome=\"ok\"}");
            let failed = value(
                &text,
                "mcp_tool_calls_total{tool=\"maybe\",outcome=\"tool_error\"}",
            );
            assert_eq!((ok, failed), (Some(10.0), Some(3.0)), "{text}");
            assert_eq!(
                value(
                    &text,
                    "mcp_tool_call_duration_seconds_count{tool=\"maybe\"}"
                ),
                Some(13.0)
            );
            // 30 ms each (virtual time): all in the 0.05 s bucket, none in 0.025 s.
            assert_eq!(
                value(
                    &text,
                    "mcp_tool_call_duration_seconds_bucket{tool=\"maybe\",le=\"0.025\"}"
                ),
                Some(0.0)
            );
            assert_eq!(
                value(
                    &text,
                    "mcp_tool_call_duration_seconds_bucket{tool=\"maybe\",le=\"0.05\"}"
                ),
                Some(13.0)
            );
            let sum = value(&text, "mcp_tool_call_duration_seconds_sum{tool=\"maybe\"}").unwrap();
            assert!((0.38..0.40).contains(&sum), "{sum}");
            assert_eq!(value(&text, "mcp_tool_calls_in_flight"), Some(0.0));
        })
        .await
    }
}

#[tokio::test]
async fn ten_thousand_unknown_tool_names_add_no_series() {
    within(async {
        let metrics = Metrics::new();
        async fn known() -> &'static str {
            "here"
        }
        let server =
            Server::new(Router::new().tool_fn("known", known)).layer(MetricsLayer::new(&metrics));
        let client = TestClient::new(server).await.unwrap();
        client.call_tool("known", ()).await.unwrap();
        let before = metrics.render();
        // A small xorshift generator: random-looking, reproducible names.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..10_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let name = match i % 3 {
                0 => format!("tool_{state:x}"),
                1 => format!("x{}", state % 1_000_003),
                _ => format!("bad name \"{state}\"\n"),
            };
            assert!(client.call_tool(&name, ()).await.is_err());
        }
        let after = metrics.render();
        assert_eq!(series_count(&after), series_count(&before));
        assert_eq!(
            value(
                &after,
                "mcp_tool_calls_total{tool=\"_other\",outcome=\"error\"}"
            ),
            Some(10_000.0)
        );
        assert!(
            !after.contains("tool=\"tool_"),
            "no unknown name became a label"
        );
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn gauges_and_rejections() {
    within(async {
        let metrics = Metrics::new();
        let started = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let (s, r) = (started.clone(), release.clone());
        let block = move || {
            let (s, r) = (s.clone(), r.clone());
            async move {
                s.notify_one();
                r.notified().await;
                "released"
            }
        };
        async fn quick() -> &'static str {
            "quick"
        }
        let server = Server::new(
            Router::new()
                .tool(ToolDef::new("block", block))
                .tool(ToolDef::new("quick", quick))
                .tool(ToolDef::new("secret", quick).scopes(["admin"])),
        )
        .layer(ConcurrencyLimitLayer::new(1))
        .layer(
            RateLimitLayer::new()
                .per_client(Quota::per_minute(10))
                // Two: the overloaded call took one token too.
                .per_tool("quick", Quota::per_minute(2)),
        )
        .layer(MetricsLayer::new(&metrics));
        let client = TestClient::new(server.clone()).await.unwrap();
        client
            .connection()
            .set_default_identity(Some(Identity::new("alice")));

        let call = client
            .start_call_tool("block", (), RequestOptions::new())
            .unwrap();
        started.notified().await;
        let text = metrics.render();
        assert_eq!(value(&text, "mcp_tool_calls_in_flight"), Some(1.0));
        assert_eq!(value(&text, "mcp_requests_in_flight"), Some(1.0));
        // The only slot is taken and there is no queue: overloaded.
        assert!(client.call_tool("quick", ()).await.is_err());
        release.notify_one();
        call.response().await.unwrap();

        assert!(!client.call_tool("quick", ()).await.unwrap().is_error());
        assert!(
            client.call_tool("quick", ()).await.unwrap().is_error(),
            "tool limit"
        );
        assert!(client.call_tool("secret", ()).await.is_err(), "denied");
        for _ in 0..10 {
            let _ = client.call_tool("block_not_there", ()).await;
        }
        let text = metrics.render();
        assert_eq!(value(&text, "mcp_tool_calls_in_flight"), Some(0.0));
        assert_eq!(
            value(&text, "mcp_overload_rejections_total"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            value(&text, "mcp_rate_limit_rejections_total{scope=\"tool\"}"),
            Some(1.0)
        );
        assert!(value(&text, "mcp_rate_limit_rejections_total{scope=\"client\"}").unwrap() >= 1.0);
        assert_eq!(
            value(
                &text,
                "mcp_auth_failures_total{reason=\"insufficient_scope\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "mcp_tool_calls_total{tool=\"secret\",outcome=\"denied\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "mcp_tool_calls_total{tool=\"quick\",outcome=\"rate_limited\"}"
            ),
            Some(1.0)
        );
    })
    .await
}
