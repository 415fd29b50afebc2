//! Progress, logging and list-change notifications, in both eras.

#[macro_use]
mod common;

use common::client;
use futures_util::StreamExt;
use mcp_core::protocol::{LoggingLevel, ProgressToken};
use mcp_core::server::ListChanged;
use mcp_core::{Args, Server, ToolDef};
use mcp_testing::{Era, RequestOptions, TestClient};
use serde_json::{json, Value};

both_eras!(
    progress_with_a_token,
    no_progress_without_a_token,
    progress_and_logs_in_order,
    log_level_filters,
    list_changed_reaches_the_client,
    resource_updates_reach_subscribers_only,
    a_stream_yields_notifications_in_order,
    a_stream_sees_list_changes_as_they_come,
);

fn token(s: &str) -> ProgressToken {
    ProgressToken::String(s.into())
}

async fn progress_with_a_token(era: Era) {
    let client = client(era).await;
    let result = client
        .call_tool_with(
            "work",
            (),
            RequestOptions::new().progress_token(token("job-1")),
        )
        .await
        .expect("work answers");
    assert!(!result.is_error());
    let progress = client.progress();
    assert_eq!(progress.len(), 3, "{progress:?}");
    assert!(progress.iter().all(|p| p.progress_token == token("job-1")));
    let values: Vec<f64> = progress.iter().map(|p| p.progress).collect();
    assert_eq!(values, [0.0, 50.0, 100.0]);
    assert!(
        values.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing"
    );
    assert!(progress.iter().all(|p| p.total == Some(100.0)));
}

async fn no_progress_without_a_token(era: Era) {
    let client = client(era).await;
    client.call_tool("work", ()).await.expect("work answers");
    assert!(client.progress().is_empty(), "{:?}", client.progress());
}

async fn progress_and_logs_in_order(era: Era) {
    // Handshake sessions get every level by default; a 2026-07-28 request must ask.
    let opts = RequestOptions::new()
        .progress_token(ProgressToken::Number(7))
        .log_level(LoggingLevel::Debug);
    let client = client(era).await;
    client
        .call_tool_with("work", (), opts)
        .await
        .expect("work answers");
    let methods: Vec<String> = client
        .notifications()
        .iter()
        .map(|n| n["method"].as_str().unwrap_or_default().to_owned())
        .collect();
    let log = "notifications/message";
    let progress = "notifications/progress";
    assert_eq!(methods, [log, progress, log, progress, log, progress]);
    let logs: Vec<Value> = client.logs().into_iter().map(|l| l.data).collect();
    assert_eq!(logs, [json!("step 0"), json!("step 1"), json!("step 2")]);
    assert!(client
        .logs()
        .iter()
        .all(|l| l.logger.as_deref() == Some("work") && l.level == LoggingLevel::Info));
}

async fn log_level_filters(era: Era) {
    let client = client(era).await;
    let data =
        |client: &TestClient| -> Vec<Value> { client.logs().into_iter().map(|l| l.data).collect() };

    client
        .call_tool("levels", ())
        .await
        .expect("levels answers");
    if era.is_modern() {
        assert!(
            data(&client).is_empty(),
            "no logLevel, no logs: {:?}",
            data(&client)
        );
    } else {
        assert_eq!(
            data(&client),
            ["debug", "info", "warning", "error"],
            "a session without logging/setLevel gets every level"
        );
    }

    client.take_notifications();
    client
        .set_log_level(LoggingLevel::Warning)
        .await
        .expect("the level is set");
    client
        .call_tool("levels", ())
        .await
        .expect("levels answers");
    assert_eq!(data(&client), ["warning", "error"]);

    // In 2026-07-28 the level is per request: this one asks for more.
    client.take_notifications();
    let result = client
        .call_tool_with(
            "levels",
            (),
            RequestOptions::new().log_level(LoggingLevel::Info),
        )
        .await
        .expect("levels answers");
    assert!(!result.is_error());
    if era.is_modern() {
        assert_eq!(data(&client), ["info", "warning", "error"]);
    } else {
        // The handshake era filters per session; the per-request option does not apply.
        assert_eq!(data(&client), ["warning", "error"]);
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Nothing {}

async fn nothing(Args(Nothing {}): Args<Nothing>) -> &'static str {
    "ok"
}

async fn list_changed_reaches_the_client(era: Era) {
    let server = Server::new(common::router(common::Probe::default()));
    let handle = server.handle();
    let client = TestClient::builder(server)
        .era(era)
        .connect()
        .await
        .expect("connects");
    let changed = "notifications/tools/list_changed";
    if era.is_modern() {
        // 2026-07-28: only to listen streams that asked.
        let listen = client
            .start_request(
                "subscriptions/listen",
                json!({"notifications": {"toolsListChanged": true}}),
                RequestOptions::new(),
            )
            .expect("listen starts");
        let ack = client
            .wait_for_notifications("notifications/subscriptions/acknowledged", 1)
            .await
            .expect("the listen stream is acknowledged");
        assert_eq!(ack[0]["params"]["notifications"]["toolsListChanged"], true);
        // Resources were not asked for: this change must not be sent. The broadcast is
        // ordered, so once the tool change below has arrived, this one would have too.
        handle.notify_changed(ListChanged::Resources);
        handle.add_tool(ToolDef::new("added", nothing).description("Added later"));
        let notes = client
            .wait_for_notifications(changed, 1)
            .await
            .expect("the change reaches the listen stream");
        let sub = &notes[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"];
        assert_eq!(*sub, json!(listen.id()), "{notes:?}");
        let resources = "notifications/resources/list_changed";
        assert!(
            client
                .notifications()
                .iter()
                .all(|n| n["method"] != resources),
            "{:?}",
            client.notifications()
        );
        listen.cancel().expect("cancel is sent");
        let end = listen
            .response()
            .await
            .expect_err("a cancelled listen is not answered");
        assert!(end.is_no_response(), "{end:?}");
    } else {
        handle.add_tool(ToolDef::new("added", nothing).description("Added later"));
        client
            .wait_for_notifications(changed, 1)
            .await
            .expect("the change is sent unsolicited");
    }
    let tools = client.list_tools().await.expect("tools/list answers");
    assert!(tools.iter().any(|t| t.name == "added"));
}

async fn resource_updates_reach_subscribers_only(era: Era) {
    let server = Server::new(common::router(common::Probe::default()));
    let handle = server.handle();
    let client = TestClient::builder(server)
        .era(era)
        .connect()
        .await
        .expect("connects");
    let watched = "test://static-text";
    let listen = if era.is_modern() {
        let listen = client
            .start_request(
                "subscriptions/listen",
                json!({"notifications": {"resourceSubscriptions": [watched]}}),
                RequestOptions::new(),
            )
            .expect("listen starts");
        client
            .wait_for_notifications("notifications/subscriptions/acknowledged", 1)
            .await
            .expect("the listen stream is acknowledged");
        Some(listen)
    } else {
        let ok = client
            .request("resources/subscribe", json!({ "uri": watched }))
            .await
            .expect("resources/subscribe answers");
        assert_eq!(ok, json!({}));
        None
    };
    // Changes are delivered in order: once the watched one arrives, the other would have too.
    handle.notify_resource_updated("test://template/1/data");
    handle.notify_resource_updated(watched);
    let updates = client
        .wait_for_notifications("notifications/resources/updated", 1)
        .await
        .expect("the subscriber is told");
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["params"]["uri"], watched);
    if let Some(listen) = listen {
        listen.cancel().expect("cancel is sent");
        assert!(listen
            .response()
            .await
            .expect_err("a cancelled listen is not answered")
            .is_no_response());
    }
}

fn method_of(note: &Value) -> &str {
    note["method"].as_str().unwrap_or_default()
}

async fn a_stream_yields_notifications_in_order(era: Era) {
    let client = client(era).await;
    let mut stream = client.notification_stream();
    assert!(stream.try_next().is_none(), "nothing yet");
    let opts = RequestOptions::new()
        .progress_token(ProgressToken::Number(3))
        .log_level(LoggingLevel::Info);
    let call = client
        .start_call_tool("work", (), opts)
        .expect("the call starts");
    // Awaited one by one while the call runs: log, progress, log, progress, log, progress.
    let mut methods = Vec::new();
    for _ in 0..6 {
        let note = stream.next().await.expect("a notification arrives");
        methods.push(method_of(&note).to_owned());
    }
    let (log, progress) = ("notifications/message", "notifications/progress");
    assert_eq!(methods, [log, progress, log, progress, log, progress]);
    call.response().await.expect("work answers");

    // A stream made later starts from the oldest notification still held…
    let mut late = client.notification_stream();
    let first_progress = late.next_method(progress).await.expect("progress");
    assert_eq!(first_progress["params"]["progress"], 0.0);
    assert_eq!(first_progress["params"]["progressToken"], 3);
    // …and taking notifications moves it past them.
    client.take_notifications();
    assert!(late.try_next().is_none());
    client
        .call_tool_with(
            "work",
            (),
            RequestOptions::new().progress_token(ProgressToken::Number(4)),
        )
        .await
        .expect("work answers");
    let values: Vec<Value> = late
        .timeout(std::time::Duration::from_millis(50))
        .into_stream()
        .filter(|n| std::future::ready(method_of(n) == progress))
        .map(|n| n["params"]["progress"].clone())
        .collect()
        .await;
    assert_eq!(values, [json!(0.0), json!(50.0), json!(100.0)]);
}

async fn a_stream_sees_list_changes_as_they_come(era: Era) {
    let server = Server::new(common::router(common::Probe::default()));
    let handle = server.handle();
    let client = TestClient::builder(server)
        .era(era)
        .connect()
        .await
        .expect("connects");
    let mut stream = client.notification_stream();
    let listen = if era.is_modern() {
        let listen = client
            .start_request(
                "subscriptions/listen",
                json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true}}),
                RequestOptions::new(),
            )
            .expect("listen starts");
        let ack = stream.next().await.expect("the acknowledgement");
        assert_eq!(method_of(&ack), "notifications/subscriptions/acknowledged");
        Some(listen)
    } else {
        None
    };
    handle.add_tool(ToolDef::new("added", nothing).description("Added later"));
    handle.remove_prompt("test_prompt_with_arguments");
    let tools = stream.next().await.expect("the tool change");
    assert_eq!(method_of(&tools), "notifications/tools/list_changed");
    let prompts = stream.next().await.expect("the prompt change");
    assert_eq!(method_of(&prompts), "notifications/prompts/list_changed");
    if let Some(listen) = listen {
        listen.cancel().expect("cancel is sent");
        assert!(listen
            .response()
            .await
            .expect_err("a cancelled listen is not answered")
            .is_no_response());
    }
}
