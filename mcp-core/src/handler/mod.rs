//! Plain async functions as handlers.
//!
//! Any `async fn` (or closure returning a future) whose arguments are all
//! [extractors](crate::extract) is a [`Handler`], for up to 12 arguments. What it returns decides
//! where it can be registered: tools need [`IntoToolResult`](crate::response::IntoToolResult),
//! prompts [`IntoPromptResult`](crate::response::IntoPromptResult), and so on.
//!
//! ```
//! use mcp_core::{extract::Args, Context, Router};
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Echo { text: String }
//! async fn echo(_ctx: Context, Args(e): Args<Echo>) -> String { e.text }
//! let router: Router = Router::new().tool_fn("echo", echo);
//! # let _ = router;
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::extract::{FromRequest, Rejection, RequestParts};
use crate::protocol::JsonObject;

/// A boxed, sendable future.
///
/// See [`Handler`] for an example.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An async function usable as a handler. Implemented for functions whose arguments are all
/// extractors; you do not implement it yourself.
///
/// # Examples
///
/// Handlers are called by the router; calling one by hand shows what it extracts:
///
/// ```
/// use mcp_core::handler::Handler;
/// use mcp_core::{Args, Context};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Add { a: i64, b: i64 }
/// async fn add(Args(x): Args<Add>) -> i64 { x.a + x.b }
/// async fn client(ctx: Context) -> String { format!("{:?}", ctx.client_info()) }
///
/// fn schema_of<H: Handler<T, ()>, T>(_: &H) -> Option<mcp_core::protocol::JsonObject> {
///     H::input_schema()
/// }
/// let schema = schema_of(&add).unwrap();
/// assert_eq!(schema["required"], serde_json::json!(["a", "b"]));
/// // Only `Args<T>` contributes a schema.
/// assert!(schema_of(&client).is_none());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler",
    label = "not a valid handler",
    note = "a handler is an `async fn` whose arguments all implement `FromRequest` (Args<T>, State<T>, Context, Uri) and that is `Clone + Send + Sync + 'static`",
    note = "if an argument is a plain type like `i64`, wrap the arguments in a struct and take `Args<YourStruct>`, or use the `#[tool]` macro"
)]
pub trait Handler<T, S>: Clone + Send + Sync + Sized + 'static {
    /// What the function returns.
    type Output: Send + 'static;

    /// Extracts the arguments and runs the function. The router calls it.
    ///
    /// See [`Handler`] for an example.
    fn call(self, parts: RequestParts, state: S) -> BoxFuture<Result<Self::Output, Rejection>>;

    /// The input schema contributed by the extractors (the first one that has one).
    ///
    /// See [`Handler`] for an example.
    fn input_schema() -> Option<JsonObject>;
}

macro_rules! impl_handler {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_mut, unused_variables)]
        impl<F, Fut, S, R, $($ty,)*> Handler<($($ty,)*), S> for F
        where
            F: FnOnce($($ty),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: Send + 'static,
            S: Send + Sync + 'static,
            $($ty: FromRequest<S> + Send + 'static,)*
        {
            type Output = R;

            fn call(self, mut parts: RequestParts, state: S) -> BoxFuture<Result<R, Rejection>> {
                $(let $ty = $ty::from_request(&mut parts, &state);)*
                Box::pin(async move {
                    $(let $ty = $ty?;)*
                    Ok(self($($ty),*).await)
                })
            }

            fn input_schema() -> Option<JsonObject> {
                $(if let Some(s) = $ty::input_schema() { return Some(s); })*
                None
            }
        }
    };
}

impl_handler!();
impl_handler!(T1);
impl_handler!(T1, T2);
impl_handler!(T1, T2, T3);
impl_handler!(T1, T2, T3, T4);
impl_handler!(T1, T2, T3, T4, T5);
impl_handler!(T1, T2, T3, T4, T5, T6);
impl_handler!(T1, T2, T3, T4, T5, T6, T7);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);

/// A handler with its state type erased and its output converted, ready to store in a router.
pub(crate) type ErasedHandler<S, O> =
    Arc<dyn Fn(RequestParts, S) -> BoxFuture<Result<O, Rejection>> + Send + Sync>;

/// Erases `handler`, converting its output with `convert`.
pub(crate) fn erase<H, T, S, O>(handler: H, convert: fn(H::Output) -> O) -> ErasedHandler<S, O>
where
    H: Handler<T, S>,
    T: 'static,
    S: Send + Sync + 'static,
    O: Send + 'static,
{
    Arc::new(move |parts, state| {
        let fut = handler.clone().call(parts, state);
        Box::pin(async move { fut.await.map(convert) })
    })
}

/// Binds the state, turning a handler over `S` into one over `()`.
pub(crate) fn bind_state<S, O>(h: ErasedHandler<S, O>, state: S) -> ErasedHandler<(), O>
where
    S: Clone + Send + Sync + 'static,
    O: Send + 'static,
{
    Arc::new(move |parts, ()| h(parts, state.clone()))
}
