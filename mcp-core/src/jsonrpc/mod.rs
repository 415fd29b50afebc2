//! JSON-RPC 2.0 messages, parsed strictly.
//!
//! MCP speaks JSON-RPC 2.0. This module parses one message at a time and refuses anything the
//! specification does not allow instead of guessing: an `id` that is not a string or an integer,
//! a member whose name is spelled in another case (`"Method"`), a member given twice, or a
//! message that is both a request and a response. Each refusal knows its JSON-RPC error code,
//! and, when the `id` could still be read, the id to answer with.
//!
//! ```
//! use mcp_core::jsonrpc::{Message, RequestId};
//!
//! let msg = Message::parse(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).unwrap();
//! let Message::Request(req) = msg else { panic!("a request") };
//! assert_eq!(req.id, RequestId::Number(7));
//! assert_eq!(req.method, "ping");
//!
//! let err = Message::parse(br#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#).unwrap_err();
//! assert_eq!(err.code(), mcp_core::jsonrpc::ErrorCode::INVALID_REQUEST);
//! ```

mod error;
mod message;

pub use error::{ErrorCode, ErrorObject, ParseError};
pub use message::{
    Message, Notification, Request, RequestId, Response, ResponsePayload, JSONRPC_VERSION,
};
