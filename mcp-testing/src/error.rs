//! What can go wrong when a test talks to a server.

use std::time::Duration;

use mcp_core::jsonrpc::{ErrorCode, ErrorObject};

/// Why a request made through a [`TestClient`](crate::TestClient) did not produce the value
/// asked for.
///
/// A JSON-RPC error from the server is [`TestError::Rpc`]; everything else means the exchange
/// itself went wrong: the server took too long, dropped the request, asked for something the
/// test did not script, or sent something that is not valid MCP.
///
/// ```
/// use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
/// use mcp_testing::TestError;
///
/// let err = TestError::Rpc(ErrorObject::new(ErrorCode::INVALID_PARAMS, "unknown tool: nope"));
/// assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS));
/// assert_eq!(err.rpc().map(|e| e.message.as_str()), Some("unknown tool: nope"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// The server answered with a JSON-RPC error.
    #[error("the server answered with a JSON-RPC error: {0}")]
    Rpc(ErrorObject),
    /// No response arrived in time.
    #[error("no response to {method} within {after:?}")]
    Timeout {
        /// The request method.
        method: String,
        /// How long the client waited.
        after: Duration,
    },
    /// The server dropped the request without answering it: it was cancelled, or the
    /// connection closed.
    #[error("the server dropped the {method} request without answering it (cancelled or closed)")]
    NoResponse {
        /// The request method.
        method: String,
    },
    /// The server asked the client something the test scripted no answer for.
    #[error(
        "the server sent {method}, but the test client has no responder for it; \
         configure one with on_elicit, on_sample or roots on the builder"
    )]
    NoResponder {
        /// The method the server asked for (`elicitation/create`, `sampling/createMessage`,
        /// `roots/list`, …).
        method: String,
    },
    /// A tool call ended with `isError: true` where a value was expected.
    #[error("the tool {tool:?} failed: {message}")]
    ToolFailed {
        /// The tool.
        tool: String,
        /// The text of its error result.
        message: String,
    },
    /// A result did not have the shape the caller asked for.
    #[error("unexpected result from {method}: {reason}")]
    UnexpectedResult {
        /// The request method.
        method: String,
        /// What did not fit, and the result itself.
        reason: String,
    },
    /// The server broke the protocol: an invalid message, a response to the wrong id, a
    /// pagination cursor that loops.
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// A 2026-07-28 request still answered `input_required` after the allowed number of retries.
    #[error("{method} still answered input_required after {rounds} retries")]
    TooManyRounds {
        /// The request method.
        method: String,
        /// How many retries were made.
        rounds: usize,
    },
    /// The task was cancelled, so it has no result.
    #[error("the task {task_id} was cancelled; it has no result")]
    TaskCancelled {
        /// The task id.
        task_id: String,
    },
    /// The test asked the client to send something it cannot encode.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl TestError {
    /// The JSON-RPC error, when the server answered with one.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
    /// use mcp_testing::TestError;
    ///
    /// let err = TestError::Rpc(ErrorObject::new(ErrorCode::INVALID_PARAMS, "unknown tool"));
    /// assert_eq!(err.rpc().map(|e| e.message.as_str()), Some("unknown tool"));
    /// assert_eq!(err.code(), Some(ErrorCode::INVALID_PARAMS));
    /// assert!(!err.is_no_response());
    /// ```
    pub fn rpc(&self) -> Option<&ErrorObject> {
        match self {
            TestError::Rpc(e) => Some(e),
            _ => None,
        }
    }

    /// The JSON-RPC error, by value, when the server answered with one.
    ///
    /// ```
    /// use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
    /// let err = mcp_testing::TestError::Rpc(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "boom"));
    /// assert_eq!(err.into_rpc().unwrap().message, "boom");
    /// ```
    pub fn into_rpc(self) -> Option<ErrorObject> {
        match self {
            TestError::Rpc(e) => Some(e),
            _ => None,
        }
    }

    /// The JSON-RPC error code, when the server answered with an error.
    ///
    /// See [`TestError::rpc`] for an example.
    pub fn code(&self) -> Option<ErrorCode> {
        self.rpc().map(|e| e.code)
    }

    /// Whether the client gave up waiting.
    ///
    /// ```
    /// use std::time::Duration;
    /// let err = mcp_testing::TestError::Timeout { method: "tools/call".into(), after: Duration::from_secs(1) };
    /// assert!(err.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, TestError::Timeout { .. })
    }

    /// Whether the server dropped the request without answering (what a cancelled request does).
    ///
    /// See [`PendingRequest`](crate::PendingRequest) for an example.
    pub fn is_no_response(&self) -> bool {
        matches!(self, TestError::NoResponse { .. })
    }
}

impl From<ErrorObject> for TestError {
    fn from(e: ErrorObject) -> Self {
        TestError::Rpc(e)
    }
}
