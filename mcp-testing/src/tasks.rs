//! Driving tasks — tool calls that outlive their request — the same way in both eras.

use std::time::Duration;

use mcp_core::jsonrpc::ErrorObject;
use mcp_core::protocol::{CallToolResult, ClientCapabilities, JsonObject, TaskStatus};
use mcp_core::server::TASKS_EXTENSION;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::capture::{Held, ServerRequest};
use crate::client::{decode, respond, tool_params};
use crate::{RequestOptions, TestClient, TestError};

/// How often [`TaskHandle::wait_result`] polls `tasks/get` (whatever interval the server
/// suggests: tests should not wait for it).
const POLL: Duration = Duration::from_millis(10);

/// A task's state, read from `tasks/get` or from the answer that created it, in either era.
///
/// See [`TaskHandle`] for an example.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskInfo {
    /// The task id.
    pub task_id: String,
    /// Its state.
    pub status: TaskStatus,
    /// The server's human-readable status message.
    pub status_message: Option<String>,
    /// How long the server keeps it after creation (`ttl` in the handshake era, `ttlMs` in
    /// 2026-07-28), in milliseconds.
    pub ttl_ms: Option<u64>,
    /// The polling interval the server suggests, in milliseconds.
    pub poll_interval_ms: Option<u64>,
    /// The task object as the server sent it (in 2026-07-28 `tasks/get` also inlines the
    /// `result`, the `error` or the `inputRequests`).
    pub raw: Value,
}

impl TaskInfo {
    fn from_value(method: &str, raw: Value) -> Result<TaskInfo, TestError> {
        let unexpected = |reason: String| TestError::UnexpectedResult {
            method: method.to_owned(),
            reason,
        };
        let task_id = raw
            .get("taskId")
            .and_then(Value::as_str)
            .ok_or_else(|| unexpected(format!("no taskId in {raw}")))?
            .to_owned();
        let status = raw
            .get("status")
            .cloned()
            .and_then(|s| serde_json::from_value(s).ok())
            .ok_or_else(|| unexpected(format!("no valid task status in {raw}")))?;
        let number = |modern: &str, legacy: &str| {
            raw.get(modern)
                .or_else(|| raw.get(legacy))
                .and_then(Value::as_u64)
        };
        Ok(TaskInfo {
            task_id,
            status,
            status_message: raw
                .get("statusMessage")
                .and_then(Value::as_str)
                .map(str::to_owned),
            ttl_ms: number("ttlMs", "ttl"),
            poll_interval_ms: number("pollIntervalMs", "pollInterval"),
            raw,
        })
    }
}

/// A task started with [`TestClient::call_tool_as_task`]: poll it, answer its questions,
/// cancel it, or wait for its result, with the same code in both eras — `tasks/get`,
/// `tasks/result`, `tasks/cancel` in the handshake era; the `io.modelcontextprotocol/tasks`
/// extension's `tasks/get`, `tasks/update`, `tasks/cancel` in 2026-07-28.
///
/// A task's questions (`ctx.elicit(..)` inside it) go to the client's scripted responders in
/// both eras. Questions no responder can answer wait for [`update`](Self::update).
///
/// ```
/// use mcp_core::protocol::{TaskStatus, TaskSupport};
/// use mcp_core::{Router, ToolDef};
/// use mcp_testing::{CallToolResultExt, TestClient, ERAS};
///
/// async fn crawl() -> String {
///     tokio::time::sleep(std::time::Duration::from_millis(20)).await;
///     "crawled".into()
/// }
///
/// fn router() -> Router {
///     Router::new().tool(ToolDef::new("crawl", crawl).task_support(TaskSupport::Optional))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// for era in ERAS {
///     let client = TestClient::builder(router()).era(era).connect().await?;
///     let task = client.call_tool_as_task("crawl", ()).await?;
///     assert_eq!(task.created().status, TaskStatus::Working);
///     let result = task.wait_result().await?;
///     assert_eq!(result.text_content(), "crawled");
///     assert_eq!(task.status().await?.status, TaskStatus::Completed);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TaskHandle {
    client: TestClient,
    created: TaskInfo,
}

impl TestClient {
    /// Calls a tool as a task: with `task: {}` in the handshake era, declaring the
    /// `io.modelcontextprotocol/tasks` extension in 2026-07-28. Fails with
    /// [`TestError::UnexpectedResult`] when the server answers without creating a task (a
    /// tool that does not support tasks, a session older than 2025-11-25).
    ///
    /// See [`TaskHandle`] for an example.
    pub async fn call_tool_as_task(
        &self,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<TaskHandle, TestError> {
        self.call_tool_as_task_with(name, arguments, RequestOptions::new())
            .await
    }

    /// [`call_tool_as_task`](Self::call_tool_as_task) with per-request options.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::{ProgressToken, TaskSupport};
    /// use mcp_core::{Context, Router, ToolDef};
    /// use mcp_testing::{RequestOptions, TestClient};
    ///
    /// async fn build(ctx: Context) -> &'static str {
    ///     ctx.progress(1.0, Some(1.0), Some("compiled")).await;
    ///     "built"
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let router = Router::new().tool(ToolDef::new("build", build).task_support(TaskSupport::Optional));
    /// let client = TestClient::new(router).await?;
    /// let opts = RequestOptions::new().progress_token(ProgressToken::Number(1));
    /// let task = client.call_tool_as_task_with("build", (), opts).await?;
    /// assert!(!task.id().is_empty());
    /// task.wait_result().await?;
    /// # Ok(()) }
    /// ```
    pub async fn call_tool_as_task_with(
        &self,
        name: &str,
        arguments: impl Serialize,
        opts: RequestOptions,
    ) -> Result<TaskHandle, TestError> {
        let mut params = tool_params(name, arguments)?;
        let opts = if self.era().is_modern() {
            let caps = opts.capabilities.clone();
            opts.capabilities(self.with_tasks_extension(caps))
        } else {
            params["task"] = json!({});
            opts
        };
        let result = self.request_with("tools/call", params, opts).await?;
        let task = if self.era().is_modern() {
            (result.get("resultType").and_then(Value::as_str) == Some("task"))
                .then(|| result.clone())
        } else {
            result.get("task").cloned()
        };
        let Some(task) = task else {
            return Err(TestError::UnexpectedResult {
                method: "tools/call".into(),
                reason: format!(
                    "the tool {name:?} answered without creating a task (does it support tasks?): {result}"
                ),
            });
        };
        Ok(TaskHandle {
            client: self.clone(),
            created: TaskInfo::from_value("tools/call", task)?,
        })
    }

    /// The client's capabilities (or `caps`) plus the tasks extension.
    fn with_tasks_extension(&self, caps: Option<ClientCapabilities>) -> ClientCapabilities {
        let mut caps = caps.unwrap_or_else(|| self.capabilities().clone());
        caps.extensions
            .get_or_insert_with(JsonObject::new)
            .entry(TASKS_EXTENSION)
            .or_insert_with(|| json!({}));
        caps
    }
}

impl TaskHandle {
    /// The task id.
    ///
    /// See [`TestClient::call_tool_as_task_with`] for an example.
    pub fn id(&self) -> &str {
        &self.created.task_id
    }

    /// The task as the creating call returned it.
    ///
    /// See [`TaskHandle`] for an example.
    pub fn created(&self) -> &TaskInfo {
        &self.created
    }

    /// Options for the `tasks/*` requests: in 2026-07-28 each must declare the extension.
    fn opts(&self) -> RequestOptions {
        let opts = RequestOptions::new();
        if self.client.era().is_modern() {
            opts.capabilities(self.client.with_tasks_extension(None))
        } else {
            opts
        }
    }

    async fn task_request(&self, method: &str, extra: Value) -> Result<Value, TestError> {
        let mut params = json!({ "taskId": self.id() });
        if let (Some(obj), Value::Object(extra)) = (params.as_object_mut(), extra) {
            obj.extend(extra);
        }
        self.client.request_with(method, params, self.opts()).await
    }

    /// The task's current state (`tasks/get`).
    ///
    /// See [`TaskHandle`] for an example.
    pub async fn status(&self) -> Result<TaskInfo, TestError> {
        let raw = self.task_request("tasks/get", Value::Null).await?;
        TaskInfo::from_value("tasks/get", raw)
    }

    /// The task's questions that wait for the test, by key: in 2026-07-28 the `inputRequests`
    /// of `tasks/get`; in the handshake era the task's server→client requests no responder
    /// answered, keyed by their JSON-RPC id. Empty when the task is not waiting for the test.
    ///
    /// # Examples
    ///
    /// A question no responder answers waits for the test, in both eras:
    ///
    /// ```
    /// use mcp_core::protocol::{ElicitRequest, TaskSupport};
    /// use mcp_core::{Context, Router, ToolDef, ToolError};
    /// use mcp_testing::{reply, CallToolResultExt, TestClient, TestError, ERAS};
    /// use serde_json::json;
    ///
    /// async fn deploy(ctx: Context) -> Result<String, ToolError> {
    ///     let schema = json!({"type": "object", "properties": {"env": {"type": "string"}}});
    ///     let answer = ctx.elicit("env", ElicitRequest::form("Which environment?", schema)).await?;
    ///     let env = answer.content.and_then(|c| c.get("env").cloned()).unwrap_or_default();
    ///     Ok(format!("deployed to {}", env.as_str().unwrap_or("?")))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// for era in ERAS {
    ///     let router = Router::new().tool(ToolDef::new("deploy", deploy).task_support(TaskSupport::Optional));
    ///     let client = TestClient::builder(router)
    ///         .era(era)
    ///         .capabilities(serde_json::from_value(json!({"elicitation": {"form": {}}})).unwrap())
    ///         .connect()
    ///         .await?;
    ///     let task = client.call_tool_as_task("deploy", ()).await?;
    ///     // Waiting gets as far as the question nobody scripted an answer for.
    ///     assert!(matches!(task.wait_result().await, Err(TestError::NoResponder { .. })));
    ///     assert_eq!(task.input_requests().await?.len(), 1);
    ///     // The handler's key works in both eras.
    ///     task.update(json!({"env": reply::accept(json!({"env": "staging"}))})).await?;
    ///     assert_eq!(task.wait_result().await?.text_content(), "deployed to staging");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn input_requests(&self) -> Result<JsonObject, TestError> {
        let deadline = Instant::now() + self.client.inner.timeout;
        loop {
            let info = self.status().await?;
            if self.client.era().is_modern() {
                return Ok(info
                    .raw
                    .get("inputRequests")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default());
            }
            // Handshake era: while the task waits, its question may still be on its way to the
            // client, or be being answered by a responder.
            let held = self.held_requests();
            if !held.is_empty() || info.status != TaskStatus::InputRequired {
                return Ok(held);
            }
            self.pause(deadline, "tasks/get").await?;
        }
    }

    /// Answers the task's questions: `responses` maps each key of
    /// [`input_requests`](Self::input_requests) to the answer (an elicitation or sampling
    /// result, `{roots}` for roots). 2026-07-28 sends `tasks/update`; the handshake era answers
    /// the held server→client requests — there the keys are JSON-RPC ids, but a single answer
    /// goes to a single waiting question whatever its key, so the same test works in both eras.
    ///
    /// See [`TaskHandle::input_requests`] for an example.
    pub async fn update(&self, responses: impl Serialize) -> Result<(), TestError> {
        let responses = match serde_json::to_value(responses) {
            Ok(Value::Object(map)) => map,
            Ok(other) => {
                return Err(TestError::InvalidInput(format!(
                    "task responses must serialize to a JSON object keyed by question, not {other}"
                )))
            }
            Err(e) => {
                return Err(TestError::InvalidInput(format!(
                    "task responses do not serialize to JSON: {e}"
                )))
            }
        };
        if self.client.era().is_modern() {
            self.task_request("tasks/update", json!({ "inputResponses": responses }))
                .await?;
            return Ok(());
        }
        if responses.is_empty() {
            return Ok(());
        }
        let deadline = Instant::now() + self.client.inner.timeout;
        let held = loop {
            let held = self.held();
            if !held.is_empty() {
                break held;
            }
            self.pause(deadline, "a question of the task").await?;
        };
        let single = held.len() == 1 && responses.len() == 1;
        for (key, answer) in responses {
            let question = held
                .iter()
                .find(|h| h.id.to_string() == key)
                .or_else(|| single.then(|| &held[0]))
                .ok_or_else(|| {
                    TestError::InvalidInput(format!(
                        "task {} has no question {key:?} waiting; waiting: {:?}",
                        self.id(),
                        held.iter().map(|h| h.id.to_string()).collect::<Vec<_>>()
                    ))
                })?;
            if self.client.inner.capture.release(&question.id) {
                respond(
                    &self.client.inner.connection,
                    &question.id,
                    &question.method,
                    Ok(answer),
                )?;
            }
        }
        Ok(())
    }

    /// Cancels the task (`tasks/cancel`); its handler is dropped. A handshake-era server
    /// refuses to cancel a finished task (`-32602`); a 2026-07-28 one acknowledges anyway.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::TaskSupport;
    /// use mcp_core::{Router, ToolDef};
    /// use mcp_testing::{TestClient, TestError};
    ///
    /// async fn forever() -> &'static str { std::future::pending().await }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), TestError> {
    /// let router = Router::new().tool(ToolDef::new("forever", forever).task_support(TaskSupport::Optional));
    /// let client = TestClient::new(router).await?;
    /// let task = client.call_tool_as_task("forever", ()).await?;
    /// task.cancel().await?;
    /// assert!(matches!(task.wait_result().await, Err(TestError::TaskCancelled { .. })));
    /// # Ok(()) }
    /// ```
    pub async fn cancel(&self) -> Result<(), TestError> {
        self.task_request("tasks/cancel", Value::Null).await?;
        Ok(())
    }

    /// Waits for the task to end and returns its tool result, answering its questions with
    /// the scripted responders on the way (polling `tasks/get`; the handshake era then fetches
    /// the result with `tasks/result`). A task that failed is [`TestError::Rpc`], a cancelled
    /// one [`TestError::TaskCancelled`], a question no responder can answer
    /// [`TestError::NoResponder`]; gives up after the client's timeout.
    ///
    /// See [`TaskHandle`] for an example.
    pub async fn wait_result(&self) -> Result<CallToolResult, TestError> {
        let deadline = Instant::now() + self.client.inner.timeout;
        let modern = self.client.era().is_modern();
        loop {
            let info = self.status().await?;
            match info.status {
                TaskStatus::Completed | TaskStatus::Failed if !modern => {
                    let result = self.task_request("tasks/result", Value::Null).await?;
                    return decode("tasks/result", result);
                }
                TaskStatus::Completed => {
                    let result = info.raw.get("result").cloned().ok_or_else(|| {
                        TestError::UnexpectedResult {
                            method: "tasks/get".into(),
                            reason: format!("a completed task without a result: {}", info.raw),
                        }
                    })?;
                    return decode("tasks/get", result);
                }
                TaskStatus::Failed => {
                    let error = info
                        .raw
                        .get("error")
                        .cloned()
                        .and_then(|e| serde_json::from_value::<ErrorObject>(e).ok())
                        .ok_or_else(|| TestError::UnexpectedResult {
                            method: "tasks/get".into(),
                            reason: format!("a failed task without an error: {}", info.raw),
                        })?;
                    return Err(TestError::Rpc(error));
                }
                TaskStatus::Cancelled => {
                    return Err(TestError::TaskCancelled {
                        task_id: self.id().to_owned(),
                    })
                }
                TaskStatus::InputRequired if modern => self.answer_questions(&info).await?,
                TaskStatus::InputRequired => {
                    if let Some(question) = self.held().into_iter().next() {
                        return Err(TestError::NoResponder {
                            method: question.method,
                        });
                    }
                }
                TaskStatus::Working => {}
            }
            self.pause(deadline, "tasks/get").await?;
        }
    }

    /// 2026-07-28: answers the `inputRequests` of `tasks/get` with the responders.
    async fn answer_questions(&self, info: &TaskInfo) -> Result<(), TestError> {
        let Some(Value::Object(requests)) = info.raw.get("inputRequests") else {
            return Ok(());
        };
        let inner = &self.client.inner;
        let mut responses = JsonObject::new();
        for (key, entry) in requests {
            let method = entry.get("method").and_then(Value::as_str).ok_or_else(|| {
                TestError::Protocol(format!("inputRequests[{key:?}] has no method: {entry}"))
            })?;
            let params = entry.get("params").cloned().unwrap_or(Value::Null);
            inner.capture.server_request(ServerRequest {
                method: method.to_owned(),
                params: params.clone(),
                key: Some(key.clone()),
            });
            responses.insert(key.clone(), inner.responders.answer(method, &params)?);
        }
        if !responses.is_empty() {
            self.task_request("tasks/update", json!({ "inputResponses": responses }))
                .await?;
        }
        Ok(())
    }

    /// Handshake era: this task's questions no responder answered.
    fn held(&self) -> Vec<Held> {
        self.client
            .inner
            .capture
            .held()
            .into_iter()
            .filter(|h| h.task_id.as_deref().is_none_or(|t| t == self.id()))
            .collect()
    }

    fn held_requests(&self) -> JsonObject {
        self.held()
            .into_iter()
            .map(|h| {
                (
                    h.id.to_string(),
                    json!({ "method": h.method, "params": h.params }),
                )
            })
            .collect()
    }

    /// Sleeps one polling interval, or fails at the deadline.
    async fn pause(&self, deadline: Instant, waiting_for: &str) -> Result<(), TestError> {
        if Instant::now() >= deadline {
            return Err(TestError::Timeout {
                method: format!("{waiting_for} (task {})", self.id()),
                after: self.client.inner.timeout,
            });
        }
        tokio::time::sleep_until((Instant::now() + POLL).min(deadline)).await;
        Ok(())
    }
}
