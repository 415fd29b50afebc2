//! Extractors: the typed arguments of a handler.
//!
//! A handler is a plain `async fn`; each of its arguments implements [`FromRequest`], which
//! pulls one piece out of the incoming call — the typed arguments ([`Args`]), shared state
//! ([`State`]), the request [`Context`], the resource URI ([`Uri`]). The same
//! extractors serve tools, prompts and resources: for a prompt `Args<T>` reads the prompt
//! arguments, for a resource template the URI variables.
//!
//! ```
//! use mcp_core::extract::{Args, State};
//! use mcp_core::{Context, Router};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Search { /// What to look for.
//!     query: String }
//!
//! #[derive(Clone)]
//! struct Db;
//!
//! async fn search(State(_db): State<Db>, ctx: Context, Args(s): Args<Search>) -> String {
//!     ctx.log_info(format!("searching {}", s.query)).await;
//!     format!("no hits for {}", s.query)
//! }
//!
//! let router: Router = Router::new().tool_fn("search", search).with_state(Db);
//! # let _ = router;
//! ```

use std::fmt;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::Context;
use crate::jsonrpc::{ErrorCode, ErrorObject};
use crate::protocol::JsonObject;

/// Everything a handler can extract from, for one call.
///
/// See [`FromRequest`] for an example.
#[derive(Debug)]
pub struct RequestParts {
    /// Tool arguments, prompt arguments, or template variables.
    pub arguments: JsonObject,
    /// The resource URI, for resource reads.
    pub uri: Option<String>,
    /// The request context.
    pub context: Context,
}

/// Why an extractor could not produce its value.
///
/// For tools it becomes an `isError` result the model can act on; for prompts and resources a
/// `-32602` error.
///
/// ```
/// use mcp_core::extract::Rejection;
/// let r = Rejection::invalid_arguments("`a`: invalid type: string \"x\", expected i64");
/// assert_eq!(r.error_object().code.0, -32602);
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The arguments do not match the declared type.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The handler needs something this request does not have.
    #[error("{0}")]
    Missing(String),
}

impl Rejection {
    /// Invalid arguments, with a message naming the offending field.
    ///
    /// See [`Rejection`] for an example.
    pub fn invalid_arguments(msg: impl Into<String>) -> Self {
        Rejection::InvalidArguments(msg.into())
    }

    /// The JSON-RPC error this rejection maps to outside tool calls.
    ///
    /// See [`Rejection`] for an example.
    pub fn error_object(&self) -> ErrorObject {
        ErrorObject::new(ErrorCode::INVALID_PARAMS, self.to_string())
    }
}

/// Extracts one handler argument from the call.
///
/// Implement it for your own types to add extractors; `S` is the router's state type.
///
/// ```
/// use mcp_core::extract::{FromRequest, Rejection, RequestParts};
///
/// /// The caller's client name, if it said.
/// struct ClientName(Option<String>);
///
/// impl<S> FromRequest<S> for ClientName {
///     fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
///         Ok(ClientName(parts.context.client_info().map(|i| i.name.clone())))
///     }
/// }
/// async fn hello(ClientName(name): ClientName) -> String { format!("hello {name:?}") }
/// let _: mcp_core::Router = mcp_core::Router::new().tool_fn("hello", hello);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument",
    label = "not an extractor",
    note = "handler arguments must be extractors: `Args<T>`, `State<T>`, `Context`, `Uri`, or your own `FromRequest` type"
)]
pub trait FromRequest<S>: Sized {
    /// Extracts the value.
    ///
    /// See [`FromRequest`] for an example.
    fn from_request(parts: &mut RequestParts, state: &S) -> Result<Self, Rejection>;

    /// The JSON Schema of the arguments this extractor consumes, if it consumes them.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::extract::{Args, FromRequest};
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// #[allow(dead_code)]
    /// struct Page { cursor: Option<String> }
    /// let schema = <Args<Page> as FromRequest<()>>::input_schema().unwrap();
    /// assert_eq!(schema["type"], "object");
    /// assert!(<mcp_core::Context as FromRequest<()>>::input_schema().is_none());
    /// ```
    fn input_schema() -> Option<JsonObject> {
        None
    }
}

/// Typed arguments, deserialized with serde and described with a schemars schema.
///
/// The type must deserialize from a JSON object (a struct or a map). Deserialization errors name
/// the offending field, for example `` `b`: invalid type: string "x", expected i64 ``.
///
/// ```
/// use mcp_core::extract::Args;
/// use serde::Deserialize;
/// #[derive(Deserialize, schemars::JsonSchema)]
/// struct Add { a: i64, b: i64 }
/// async fn add(Args(Add { a, b }): Args<Add>) -> String { (a + b).to_string() }
/// # let _: mcp_core::Router = mcp_core::Router::new().tool_fn("add", add);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Args<T>(pub T);

impl<S, T: DeserializeOwned + JsonSchema> FromRequest<S> for Args<T> {
    fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
        let value = Value::Object(std::mem::take(&mut parts.arguments));
        deserialize_arguments(value).map(Args)
    }

    fn input_schema() -> Option<JsonObject> {
        Some(crate::schema::schema_for::<T>())
    }
}

/// Deserializes arguments, reporting the path of the field that failed.
pub(crate) fn deserialize_arguments<T: DeserializeOwned>(value: Value) -> Result<T, Rejection> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            Rejection::invalid_arguments(inner.to_string())
        } else {
            Rejection::invalid_arguments(format!("`{path}`: {inner}"))
        }
    })
}

/// Shared state, given to the router with [`Router::with_state`](crate::Router::with_state).
///
/// Any `T` that can be taken from the router's state with [`FromRef`] works, so one state
/// struct can feed several extractors.
///
/// ```
/// use mcp_core::extract::State;
/// use std::sync::Arc;
/// #[derive(Clone, Default)]
/// struct AppState { greeting: Arc<str> }
/// async fn greet(State(s): State<AppState>) -> String { s.greeting.to_string() }
/// let r: mcp_core::Router = mcp_core::Router::new()
///     .tool_fn("greet", greet)
///     .with_state(AppState { greeting: "hi".into() });
/// # let _ = r;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct State<T>(pub T);

/// Takes a part of the state out of the whole, like `axum::extract::FromRef`.
///
/// ```
/// use mcp_core::extract::FromRef;
/// #[derive(Clone)] struct Pool;
/// #[derive(Clone)] struct App { pool: Pool }
/// impl FromRef<App> for Pool { fn from_ref(app: &App) -> Pool { app.pool.clone() } }
/// let _pool = Pool::from_ref(&App { pool: Pool });
/// ```
pub trait FromRef<T> {
    /// Clones the part out.
    ///
    /// See [`FromRef`] for an example.
    fn from_ref(input: &T) -> Self;
}

impl<T: Clone> FromRef<T> for T {
    fn from_ref(input: &T) -> Self {
        input.clone()
    }
}

impl<S, T: FromRef<S>> FromRequest<S> for State<T> {
    fn from_request(_parts: &mut RequestParts, state: &S) -> Result<Self, Rejection> {
        Ok(State(T::from_ref(state)))
    }
}

impl<S> FromRequest<S> for Context {
    fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
        Ok(parts.context.clone())
    }
}

/// The URI of the resource being read.
///
/// ```
/// use mcp_core::extract::Uri;
/// async fn read(Uri(uri): Uri) -> String { format!("you asked for {uri}") }
/// # let _: mcp_core::Router = mcp_core::Router::new().resource(mcp_core::ResourceDef::new("test://a", "a", read));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri(pub String);

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<S> FromRequest<S> for Uri {
    fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
        parts.uri.clone().map(Uri).ok_or_else(|| {
            Rejection::Missing("`Uri` is only available when reading a resource".into())
        })
    }
}
