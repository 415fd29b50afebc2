//! The HTTP mapping of the layers' answers: 429 and 503 with Retry-After, the client address
//! through a trusted proxy, and /healthz and /readyz on the MCP listener.

use std::net::SocketAddr;
use std::time::Duration;

use mcp_core::layers::audit::{AuditLog, AuditRecord, MemorySink};
use mcp_core::layers::{
    AuditLayer, ConcurrencyLimitLayer, Health, Quota, RateLimitLayer, TrustedProxies,
};
use mcp_core::{Router, Server};
use mcp_transport::http::{serve_with, HttpConfig, McpService};
use mcp_transport::metrics::OpsEndpoints;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn send(addr: SocketAddr, request: String) -> String {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    s.write_all(request.as_bytes()).await.expect("sends");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("reads");
    out
}

async fn call(addr: SocketAddr, tool: &str, id: u32, from: &str) -> String {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}"}}}}"#
    );
    send(
        addr,
        format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n\
             X-Forwarded-For: {from}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await
}

async fn get(addr: SocketAddr, path: &str) -> String {
    send(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    )
    .await
}

#[tokio::test]
async fn rejections_map_to_statuses_with_retry_after() {
    tokio::time::timeout(Duration::from_secs(20), async {
        async fn slow() -> &'static str {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "slow"
        }
        async fn hi() -> &'static str {
            "hi"
        }
        let sink = MemorySink::new();
        let server = Server::new(Router::new().tool_fn("hi", hi).tool_fn("slow", slow))
            .layer(ConcurrencyLimitLayer::new(1).retry_after(Duration::from_secs(3)))
            .layer(RateLimitLayer::new().per_client(Quota::per_minute(3)))
            .layer(AuditLayer::new(
                AuditLog::builder(sink.clone()).build().expect("opens"),
            ));
        let health = Health::new();
        let config = HttpConfig::default()
            .stateless(true)
            .json_response(true)
            .trusted_proxies(TrustedProxies::new(["127.0.0.1"]).expect("valid"))
            .ops(OpsEndpoints::new().health(&health));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let addr = listener.local_addr().expect("bound");
        tokio::spawn(serve_with(
            McpService::new(server, config),
            listener,
            std::future::pending(),
        ));

        // Client A (through the proxy) takes the only slot; client B gets 503.
        let a = tokio::spawn(async move { call(addr, "slow", 1, "203.0.113.1").await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let busy = call(addr, "hi", 2, "203.0.113.2").await;
        assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
        assert!(busy.to_lowercase().contains("retry-after: 3\r\n"), "{busy}");
        assert!(a.await.expect("joins").starts_with("HTTP/1.1 200"));
        // B has two calls left of its three a minute; the next is 429.
        for id in 3..5 {
            let r = call(addr, "hi", id, "203.0.113.2").await;
            assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        }
        let limited = call(addr, "hi", 9, "203.0.113.2").await;
        assert!(limited.starts_with("HTTP/1.1 429"), "{limited}");
        assert!(
            limited.to_lowercase().contains("retry-after: 20\r\n"),
            "{limited}"
        );
        // Another client behind the same proxy is not affected.
        let other = call(addr, "hi", 10, "203.0.113.3").await;
        assert!(other.starts_with("HTTP/1.1 200"), "{other}");
        // The audit log has the addresses the proxy vouched for.
        let records: Vec<AuditRecord> = sink
            .lines()
            .iter()
            .map(|l| AuditRecord::parse(l).expect("a record"))
            .collect();
        assert_eq!(records.len(), 6);
        assert_eq!(records[0].remote_addr.as_deref(), Some("203.0.113.2"));
        // Health on the same listener.
        assert!(get(addr, "/healthz").await.starts_with("HTTP/1.1 200"));
        health.set_ready(false);
        assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 503"));
    })
    .await
    .expect("within 20 s")
}
