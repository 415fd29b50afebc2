use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::RequestId;

/// A JSON-RPC error code.
///
/// The constants cover JSON-RPC 2.0 itself and the codes MCP assigns. Application codes should
/// sit outside the reserved range `-32768..=-32000`.
///
/// ```
/// use mcp_core::jsonrpc::ErrorCode;
/// assert_eq!(ErrorCode::METHOD_NOT_FOUND.0, -32601);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i64);

impl ErrorCode {
    /// `-32700`: the bytes were not JSON.
    ///
    /// See [`ErrorCode`] for an example.
    pub const PARSE_ERROR: Self = Self(-32700);
    /// `-32600`: JSON, but not a valid JSON-RPC request.
    ///
    /// See [`ErrorCode`] for an example.
    pub const INVALID_REQUEST: Self = Self(-32600);
    /// `-32601`: the method does not exist (or is not available in this protocol era).
    ///
    /// See [`ErrorCode`] for an example.
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    /// `-32602`: invalid parameters (also: unknown tool or prompt, bad cursor, bad log level).
    ///
    /// See [`ErrorCode`] for an example.
    pub const INVALID_PARAMS: Self = Self(-32602);
    /// `-32603`: an internal error.
    ///
    /// See [`ErrorCode`] for an example.
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// `-32002`: resource not found (handshake era only).
    ///
    /// See [`ErrorCode`] for an example.
    pub const RESOURCE_NOT_FOUND: Self = Self(-32002);
    /// `-32042`: URL elicitation required (2025-11-25).
    ///
    /// See [`ErrorCode`] for an example.
    pub const URL_ELICITATION_REQUIRED: Self = Self(-32042);
    /// `-32020`: an HTTP header disagrees with the body (2026-07-28).
    ///
    /// See [`ErrorCode`] for an example.
    pub const HEADER_MISMATCH: Self = Self(-32020);
    /// `-32021`: the request lacks a client capability the handler needs (2026-07-28).
    ///
    /// See [`ErrorCode`] for an example.
    pub const MISSING_CAPABILITY: Self = Self(-32021);
    /// `-32022`: unsupported protocol version (2026-07-28).
    ///
    /// See [`ErrorCode`] for an example.
    pub const UNSUPPORTED_VERSION: Self = Self(-32022);
    /// `-31403`: the caller lacks a scope the operation needs. An application code (outside
    /// the reserved range); over HTTP the transport answers 403 `insufficient_scope` instead.
    ///
    /// See [`ErrorCode`] for an example.
    pub const FORBIDDEN: Self = Self(-31403);
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The `error` member of a JSON-RPC error response: data, not a Rust error.
///
/// ```
/// use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
/// let e = ErrorObject::new(ErrorCode::INVALID_PARAMS, "unknown tool: frobnicate");
/// assert_eq!(serde_json::to_string(&e).unwrap(),
///            r#"{"code":-32602,"message":"unknown tool: frobnicate"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorObject {
    /// The error code.
    pub code: ErrorCode,
    /// A short, actionable description.
    pub message: String,
    /// Extra structured detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error without `data`.
    ///
    /// ```
    /// # use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
    /// let e = ErrorObject::new(ErrorCode::INTERNAL_ERROR, "boom");
    /// assert!(e.data.is_none());
    /// ```
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches `data`.
    ///
    /// ```
    /// # use mcp_core::jsonrpc::{ErrorCode, ErrorObject};
    /// let e = ErrorObject::new(ErrorCode::INVALID_PARAMS, "bad").with_data(serde_json::json!({"field": "a"}));
    /// assert_eq!(e.data.unwrap()["field"], "a");
    /// ```
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ErrorObject {}

/// Why a byte string is not an acceptable JSON-RPC message.
///
/// ```
/// use mcp_core::jsonrpc::{ErrorCode, Message};
/// let err = Message::parse(b"not json").unwrap_err();
/// assert_eq!(err.code(), ErrorCode::PARSE_ERROR);
/// assert!(err.id().is_none());
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input is not JSON (or not UTF-8).
    #[error("parse error: {0}")]
    NotJson(String),
    /// The input is JSON but not a valid JSON-RPC 2.0 message.
    #[error("invalid request: {reason}")]
    Invalid {
        /// What is wrong, in words a client developer can act on.
        reason: String,
        /// The request id, when it could be read, so the error can be answered.
        id: Option<RequestId>,
    },
    /// A JSON array: a batch, which the protocol revisions served here do not accept.
    #[error("invalid request: JSON-RPC batches are not supported by this protocol revision")]
    Batch,
}

impl ParseError {
    /// The JSON-RPC code to answer with.
    ///
    /// ```
    /// # use mcp_core::jsonrpc::{ErrorCode, ParseError};
    /// assert_eq!(ParseError::Batch.code(), ErrorCode::INVALID_REQUEST);
    /// ```
    pub fn code(&self) -> ErrorCode {
        match self {
            ParseError::NotJson(_) => ErrorCode::PARSE_ERROR,
            ParseError::Invalid { .. } | ParseError::Batch => ErrorCode::INVALID_REQUEST,
        }
    }

    /// The id of the offending request, when it could be recovered.
    ///
    /// ```
    /// # use mcp_core::jsonrpc::{Message, RequestId};
    /// let err = Message::parse(br#"{"jsonrpc":"2.0","id":3,"Method":"ping"}"#).unwrap_err();
    /// assert_eq!(err.id(), Some(&RequestId::Number(3)));
    /// ```
    pub fn id(&self) -> Option<&RequestId> {
        match self {
            ParseError::Invalid { id, .. } => id.as_ref(),
            _ => None,
        }
    }

    /// The error object to send back.
    ///
    /// ```
    /// # use mcp_core::jsonrpc::{ErrorCode, Message};
    /// let obj = Message::parse(b"[]").unwrap_err().to_error_object();
    /// assert_eq!(obj.code, ErrorCode::INVALID_REQUEST);
    /// ```
    pub fn to_error_object(&self) -> ErrorObject {
        ErrorObject::new(self.code(), self.to_string())
    }
}
