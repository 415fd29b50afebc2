//! Backend failure through the gateway, driven by this SDK's own client
//! (`mcp_transport::client`) over the gateway's stdio: `hello` twice, as a stdio child
//! (`local.*`) and over HTTP (`remote.*`). Killing the HTTP backend makes its tools fail fast
//! with `isError` while the other keeps working; when it is back on the same port, its tools
//! work again. Killing the stdio child: the gateway starts it again.

mod gateway_support;

use std::time::{Duration, Instant};

use gateway_support::*;
use mcp_transport::client::{ChildProcess, Client, ClientConfig};
use serde_json::json;

fn text(r: &mcp_core::protocol::CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The children of a process (Linux).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            }
        }
    }
    out
}

async fn eventually_ok(client: &Client, tool: &str, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let r = client
            .call_tool(tool, json!({"text": "back"}))
            .await
            .expect("the gateway answers");
        if !r.is_error() {
            assert_eq!(text(&r), "back");
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "{tool} did not come back within {within:?}: {}",
            text(&r)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_backend_fails_fast_and_comes_back() {
    let test = async {
        let dir = scratch("failover");
        let (mut remote, url) = spawn_http(HELLO, &["--http", "127.0.0.1:0"], &[]);
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/mcp")
            .to_owned();
        let config = write_config(
            &dir,
            &format!(
                r#"
[[backends]]
name = "local"
command = [{hello}, "--stdio"]
prefix = "local"

[[backends]]
name = "remote"
url = {url}
prefix = "remote"
timeout_ms = 2000

[breaker]
failure_threshold = 2
cooldown_ms = 300
"#,
                hello = toml_str(HELLO),
                url = toml_str(&url),
            ),
        );
        let gateway = Client::connect(
            ChildProcess::new(GATEWAY)
                .arg("--config")
                .arg(&config)
                .env("RUST_LOG", "warn"),
            ClientConfig::default(),
        )
        .await
        .expect("connect to the gateway");
        let names: Vec<String> = gateway
            .list_tools()
            .await
            .expect("tools/list")
            .into_iter()
            .map(|t| t.name)
            .collect();
        for want in ["local.echo", "local.add", "remote.echo", "remote.add"] {
            assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
        }
        let r = gateway
            .call_tool("remote.echo", json!({"text": "hi"}))
            .await
            .expect("call");
        assert_eq!(text(&r), "hi");

        // The HTTP backend dies: its tools fail fast, the stdio backend keeps working.
        remote.kill();
        for _ in 0..4 {
            let start = Instant::now();
            let r = gateway
                .call_tool("remote.echo", json!({"text": "hi"}))
                .await
                .expect("the gateway answers");
            assert!(
                r.is_error(),
                "a dead backend's tool must fail: {}",
                text(&r)
            );
            assert!(
                start.elapsed() < Duration::from_secs(2),
                "not fast: {:?}",
                start.elapsed()
            );
            assert!(
                text(&r).contains("remote"),
                "the error names the backend: {}",
                text(&r)
            );
        }
        let r = gateway
            .call_tool("local.add", json!({"a": 2, "b": 3}))
            .await
            .expect("call");
        assert_eq!(text(&r), "5", "the healthy backend keeps working");

        // It comes back on the same address: so do its tools.
        let (_remote, _) = spawn_http(HELLO, &["--http", &addr], &[]);
        let took = eventually_ok(&gateway, "remote.echo", Duration::from_secs(20)).await;
        eprintln!("remote.echo back {took:?} after the restart");

        // The stdio child is killed: the gateway starts it again.
        let gateway_pid = children(std::process::id())
            .into_iter()
            .find(|p| {
                std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| c.contains("gateway"))
            })
            .expect("the gateway process");
        let hello_pid = children(gateway_pid)
            .into_iter()
            .next()
            .expect("the stdio child");
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(hello_pid.to_string())
            .status();
        let took = eventually_ok(&gateway, "local.echo", Duration::from_secs(20)).await;
        eprintln!("local.echo back {took:?} after killing the child");
        gateway.close();
    };
    tokio::time::timeout(Duration::from_secs(90), test)
        .await
        .expect("the test finished in time");
}
