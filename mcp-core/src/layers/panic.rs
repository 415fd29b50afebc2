//! Panic isolation for the layers inside it.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use futures_util::FutureExt;
use serde_json::json;

use super::outcome::{report, Outcome};
use super::LayerFuture;
use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::server::{McpRequest, McpResponse};

/// Turns a panic anywhere inside it — in a layer's `call`, in its future, or in a handler —
/// into an error answer (`-32603`, `data.reason = "panicked"`), so one bad request cannot take
/// the connection down. Handlers are already isolated by the runtime (their panic becomes an
/// `isError` result); this layer covers middleware. Add it last, so it is the outermost.
///
/// ```
/// use mcp_core::layers::CatchPanicLayer;
/// use mcp_core::{Router, Server};
/// let server = Server::new(Router::new()).layer(CatchPanicLayer::new());
/// # let _ = server;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CatchPanicLayer {
    _private: (),
}

impl CatchPanicLayer {
    /// The layer.
    ///
    /// See [`CatchPanicLayer`] for an example.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> tower::Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

/// The service [`CatchPanicLayer`] builds.
///
/// See [`CatchPanicLayer`] for an example.
#[derive(Debug, Clone)]
pub struct CatchPanic<S> {
    inner: S,
}

fn panicked(method: &str, payload: &(dyn std::any::Any + Send)) -> McpResponse {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string payload");
    tracing::error!(
        method,
        panic = what,
        "a request panicked; answered with an internal error"
    );
    report(Outcome::Panicked);
    Some(Err(ErrorObject::new(
        ErrorCode::INTERNAL_ERROR,
        "internal error: the request failed unexpectedly; the server keeps running, and retrying may help",
    )
    .with_data(json!({"reason": "panicked"}))))
}

impl<S> tower::Service<McpRequest> for CatchPanic<S>
where
    S: tower::Service<McpRequest, Response = McpResponse, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = LayerFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: McpRequest) -> LayerFuture {
        let method = req.method.clone();
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(move || inner.call(req))) {
            Ok(fut) => Box::pin(async move {
                match AssertUnwindSafe(fut).catch_unwind().await {
                    Ok(answer) => answer,
                    Err(payload) => Ok(panicked(&method, &*payload)),
                }
            }),
            Err(payload) => {
                let answer = panicked(&method, &*payload);
                Box::pin(std::future::ready(Ok(answer)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::testing::{request, Fixed};
    use tower::{Layer, ServiceExt};

    #[tokio::test]
    async fn panics_in_call_become_errors() {
        let svc = CatchPanicLayer::new().layer(Fixed::new(|_| panic!("boom")));
        let answer = svc.oneshot(request("tools/list", json!({}))).await.unwrap();
        assert_eq!(Outcome::of(&answer), Outcome::Panicked);
    }
}
