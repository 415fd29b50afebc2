//! The server's request handling as a tower `Service` over MCP requests, so that any
//! `tower::Layer` can wrap it: authorization, rate limits, audit, metrics, timeouts,
//! concurrency limits — the SDK's own and yours, in the order you choose.
//!
//! ```
//! use std::convert::Infallible;
//! use std::task::{Context, Poll};
//! use mcp_core::server::{McpRequest, McpResponse};
//!
//! /// Logs every method, then passes the request on.
//! #[derive(Clone)]
//! struct LogMethods<S>(S);
//!
//! impl<S> tower::Service<McpRequest> for LogMethods<S>
//! where
//!     S: tower::Service<McpRequest, Response = McpResponse, Error = Infallible>,
//! {
//!     type Response = McpResponse;
//!     type Error = Infallible;
//!     type Future = S::Future;
//!     fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
//!         self.0.poll_ready(cx)
//!     }
//!     fn call(&mut self, req: McpRequest) -> Self::Future {
//!         eprintln!("{} from {}", req.method, req.meta.client_key());
//!         self.0.call(req)
//!     }
//! }
//!
//! let server = mcp_core::Server::new(mcp_core::Router::new())
//!     .layer(tower::layer::layer_fn(LogMethods));
//! # let _ = server;
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::dispatch::{Connection, ModernCall, SessionRef};
use crate::context::Sink;
use crate::era::Era;
use crate::identity::RequestMeta;
use crate::jsonrpc::{ErrorObject, Request, RequestId};

/// One MCP request on its way to the handlers.
///
/// Layers read `method`, `params`, `era` and `meta` (identity, client address, session) and
/// may answer themselves instead of calling inward.
///
/// # Examples
///
/// A layer that reads the request before passing it on:
///
/// ```
/// use std::convert::Infallible;
/// use std::task::{Context, Poll};
/// use mcp_core::server::{McpRequest, McpResponse};
///
/// #[derive(Clone)]
/// struct DenyDangerous<S>(S);
///
/// impl<S> tower::Service<McpRequest> for DenyDangerous<S>
/// where
///     S: tower::Service<McpRequest, Response = McpResponse, Error = Infallible>,
///     S::Future: Send + 'static,
/// {
///     type Response = McpResponse;
///     type Error = Infallible;
///     type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<McpResponse, Infallible>> + Send>>;
///     fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
///         self.0.poll_ready(cx)
///     }
///     fn call(&mut self, req: McpRequest) -> Self::Future {
///         let forced = req.arguments().and_then(|a| a.get("force")).and_then(|f| f.as_bool());
///         if req.method == "tools/call" && req.target() == Some("rm") && forced == Some(true) {
///             let denied = mcp_core::jsonrpc::ErrorObject::new(mcp_core::jsonrpc::ErrorCode::INVALID_PARAMS, "`force` is not allowed");
///             return Box::pin(async move { Ok(Some(Err(denied))) });
///         }
///         Box::pin(self.0.call(req))
///     }
/// }
///
/// let server = mcp_core::Server::new(mcp_core::Router::new()).layer(tower::layer::layer_fn(DenyDangerous));
/// # let _ = server;
/// ```
pub struct McpRequest {
    /// The request id.
    pub id: RequestId,
    /// The method, for example `tools/call`.
    pub method: String,
    /// The parameters, parsed.
    pub params: Option<Value>,
    /// The era the request is served in.
    pub era: Era,
    /// What the transport knows about the request.
    pub meta: RequestMeta,
    pub(crate) dispatch: Option<Dispatch>,
}

impl std::fmt::Debug for McpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("era", &self.era)
            .finish_non_exhaustive()
    }
}

impl McpRequest {
    /// `params.name` for `tools/call` and `prompts/get`, `params.uri` for `resources/read`.
    ///
    /// See [`McpRequest`] for an example.
    pub fn target(&self) -> Option<&str> {
        let key = match self.method.as_str() {
            "tools/call" | "prompts/get" => "name",
            "resources/read" => "uri",
            _ => return None,
        };
        self.params.as_ref()?.get(key)?.as_str()
    }

    /// The tool arguments of a `tools/call`.
    ///
    /// See [`McpRequest`] for an example.
    pub fn arguments(&self) -> Option<&Value> {
        self.params.as_ref()?.get("arguments")
    }
}

/// The answer: `Some(result or error)`, or `None` when nothing is sent (a cancelled listen).
///
/// See [`McpRequest`] for an example.
pub type McpResponse = Option<Result<Value, ErrorObject>>;

/// What the innermost service needs to run the request.
pub(crate) struct Dispatch {
    pub(crate) conn: Arc<Connection>,
    pub(crate) req: Request,
    pub(crate) sink: Sink,
    pub(crate) modern: Option<ModernCall>,
    pub(crate) session: SessionRef,
    pub(crate) cancel: CancellationToken,
}

/// The innermost service: the router's handlers.
///
/// # Examples
/// ```
/// use std::task::{Context, Poll, Waker};
/// use mcp_core::server::Handlers;
/// use tower::Service;
///
/// // The innermost service of every stack, always ready: backpressure comes from the layers
/// // around it (`Server::layer`), such as a concurrency limit.
/// let mut innermost = Handlers;
/// let ready = innermost.poll_ready(&mut Context::from_waker(Waker::noop()));
/// assert!(matches!(ready, Poll::Ready(Ok(()))));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Handlers;

impl tower::Service<McpRequest> for Handlers {
    type Response = McpResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<McpResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: McpRequest) -> Self::Future {
        let meta = req.meta.clone();
        let dispatch = req.dispatch.take();
        Box::pin(async move {
            let Some(d) = dispatch else {
                return Ok(Some(Err(ErrorObject::new(
                    crate::jsonrpc::ErrorCode::INTERNAL_ERROR,
                    "a layer built a request the handlers cannot serve",
                ))));
            };
            let answer = d
                .conn
                .serve(d.req, d.sink, d.modern, d.session, d.cancel, meta)
                .await;
            Ok(answer.map(|result| result.and_then(super::dispatch::Answer::into_value)))
        })
    }
}

/// The boxed service stack.
pub(crate) type Stack = tower::util::BoxCloneSyncService<McpRequest, McpResponse, Infallible>;
