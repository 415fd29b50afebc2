//! A request in flight.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use mcp_core::jsonrpc::RequestId;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

use crate::client::{decode, Inner};
use crate::TestError;

/// A request started with [`TestClient::start_request`](crate::TestClient::start_request) or
/// [`TestClient::start_call_tool`](crate::TestClient::start_call_tool): cancel it, or wait for
/// its response. Dropping it stops reading the server's messages for it.
///
/// ```
/// use mcp_core::{Router, ToolDef};
/// use mcp_testing::{RequestOptions, TestClient};
///
/// async fn slow() -> String {
///     tokio::time::sleep(std::time::Duration::from_secs(60)).await;
///     "done".into()
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_testing::TestError> {
/// let client = TestClient::new(Router::new().tool(ToolDef::new("slow", slow))).await?;
/// let call = client.start_call_tool("slow", (), RequestOptions::new())?;
/// call.cancel()?;
/// assert!(call.response().await.unwrap_err().is_no_response());
/// # Ok(()) }
/// ```
pub struct PendingRequest<T = Value> {
    inner: Arc<Inner>,
    method: String,
    current: Arc<Mutex<RequestId>>,
    task: Option<JoinHandle<Result<Value, TestError>>>,
    output: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for PendingRequest<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRequest")
            .field("method", &self.method)
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl<T> Drop for PendingRequest<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl<T> PendingRequest<T> {
    pub(crate) fn new(
        inner: Arc<Inner>,
        method: String,
        current: Arc<Mutex<RequestId>>,
        task: JoinHandle<Result<Value, TestError>>,
    ) -> Self {
        PendingRequest {
            inner,
            method,
            current,
            task: Some(task),
            output: PhantomData,
        }
    }

    /// The id of the request now on the wire (a 2026-07-28 retry after `input_required` has
    /// a new one).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    /// use mcp_testing::{RequestOptions, TestClient};
    ///
    /// async fn forever() -> &'static str { std::future::pending().await }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mcp_testing::TestError> {
    /// let client = TestClient::new(Router::new().tool_fn("forever", forever)).await?;
    /// let call = client.start_call_tool("forever", (), RequestOptions::new())?;
    /// println!("request {} is on the wire", call.id());
    /// assert!(!call.is_finished());
    /// // The client went away: the transport cancels it on the server.
    /// # tokio::task::yield_now().await;
    /// assert!(call.cancel_on_server());
    /// assert!(call.response().await.unwrap_err().is_no_response());
    /// # Ok(()) }
    /// ```
    pub fn id(&self) -> RequestId {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Cancels it the way a client does: `notifications/cancelled` with its id (both eras).
    ///
    /// See [`PendingRequest`] for an example.
    pub fn cancel(&self) -> Result<(), TestError> {
        self.inner.notify(
            "notifications/cancelled",
            Some(json!({ "requestId": self.id(), "reason": "cancelled by the test" })),
        )
    }

    /// Cancels it directly on the connection ([`Connection::cancel`](mcp_core::Connection::cancel)),
    /// as a transport does when its client goes away; returns whether it was in flight.
    ///
    /// See [`PendingRequest::id`] for an example.
    pub fn cancel_on_server(&self) -> bool {
        self.inner.connection.cancel(&self.id())
    }

    /// Whether the response (or the end of the request) has arrived.
    ///
    /// See [`PendingRequest::id`] for an example.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl<T: DeserializeOwned> PendingRequest<T> {
    /// Waits for the response. A cancelled request ends in [`TestError::NoResponse`]. A panic
    /// in a scripted responder is resumed here, so assertions inside responders fail the test.
    ///
    /// See [`PendingRequest`] for an example.
    pub async fn response(mut self) -> Result<T, TestError> {
        let Some(task) = self.task.take() else {
            return Err(TestError::NoResponse {
                method: self.method.clone(),
            });
        };
        match task.await {
            Ok(result) => decode(&self.method, result?),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(TestError::NoResponse {
                method: self.method.clone(),
            }),
        }
    }
}
