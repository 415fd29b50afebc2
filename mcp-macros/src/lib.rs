//! Attribute macros for `mcp-core`: [`#[tool]`](macro@tool), [`#[prompt]`](macro@prompt),
//! [`#[resource]`](macro@resource), [`#[server]`](macro@server), [`router!`](macro@router) and
//! [`#[derive(ObjectArgs)]`](derive@ObjectArgs).
//!
//! Use them through `mcp_core` (re-exported behind its default `macros` feature). They are thin
//! sugar over the plain-function API: everything they generate can be written by hand with
//! `ToolDef`, `PromptDef`, `ResourceDef`, `TemplateDef` and `CompletionDef`, and each macro's
//! documentation shows what it expands to.
//!
//! ```
//! use mcp_core::{tool, Router};
//!
//! /// Adds two integers.
//! #[tool(read_only)]
//! async fn add(
//!     /// The first addend.
//!     a: i64,
//!     /// The second addend.
//!     b: i64,
//! ) -> String {
//!     a.saturating_add(b).to_string()
//! }
//!
//! let router: Router = mcp_core::router![add];
//! # let _ = router;
//! ```
//!
//! # Parameters: arguments or extractors
//!
//! A parameter is an **extractor** when its type's last path segment is `Context`, `State`,
//! `Uri`, `Args` or `Completing`, or when it is marked `#[extract]` (for your own
//! `FromRequest` types). Extractors are passed through as handler arguments, so they may use
//! any pattern (`State(db): State<Db>`). Every other parameter is a **plain argument**: it
//! becomes a field of a generated `#[derive(Deserialize, JsonSchema)]` struct, named after the
//! parameter, so it must be a plain name with an owned type. On plain parameters:
//!
//! * doc comments become the property descriptions of the schema;
//! * `Option<T>` is optional; everything else is required unless it has `#[serde(default)]`;
//! * `#[serde(...)]` and `#[schemars(...)]` attributes are moved onto the field (`rename`,
//!   `default`, `flatten`, …), and `#[serde(...)]` on the function applies to the whole struct
//!   (`rename_all`, `deny_unknown_fields`, …);
//! * `#[complete(path)]` (prompts and templates) attaches a completion handler.
//!
//! A handler with only extractors takes no arguments (`{"type":"object","properties":{}}`).
//! An `Args<T>` extractor takes all the arguments as one type and cannot sit beside plain
//! parameters; its `T` must be a JSON object type ([`ObjectArgs`](derive@ObjectArgs)), checked
//! at compile time, and so must any `#[serde(flatten)]` parameter.
//!
//! # Errors
//!
//! Mistakes are compile errors spanned at the token to fix: non-`async` functions, invalid or
//! duplicate names, unsupported parameter types, unknown or repeated attribute keys (listing the
//! valid ones), template variables without a parameter, return types the router cannot
//! convert. The function itself is always emitted, with a placeholder companion, so one mistake
//! does not cascade into errors at every use.
//!
//! # Hygiene
//!
//! Generated code names everything through absolute paths into `mcp_core::__private`. When the
//! dependency is renamed in `Cargo.toml` (`mcp = { package = "mcp-core", … }`, also through
//! `workspace = true`), the new name is read from the manifest; `crate = "path"` on any macro
//! overrides it (`#[tool(crate = "my_sdk::mcp")]`, `router![crate = "my_sdk::mcp"; a, b]`).
//!
//! # Features
//!
//! This crate has no Cargo features of its own. It is switched on and off in `mcp-core`:
//!
//! | feature (of `mcp-core`) | default | what it enables |
//! |---|---|---|
//! | `macros` | yes | `mcp_core::{tool, prompt, resource, server, router, ObjectArgs}`, re-exported from this crate |
//!
//! With `default-features = false` on `mcp-core`, the macros are gone and everything is written
//! with the definition types (`ToolDef::new("add", add)`, …).
#![doc(test(attr(deny(warnings))))]

mod attr;
mod check;
mod ctxt;
mod expand;
mod krate;
mod model;

use proc_macro::TokenStream;

use model::Kind;

/// Turns an `async fn` into an MCP tool.
///
/// The function stays as written and callable. Beside it, a companion type of the same name
/// (in the type namespace, like a unit of the function) builds the definition:
/// `add::tool()` is a [`ToolDef`], to add with `Router::new().tool(add::tool())` or
/// [`router![add]`](macro@router). In an `impl` block, use [`#[server]`](macro@server).
///
/// ```
/// use mcp_core::{tool, Context, Json, Router, ToolError};
///
/// #[derive(serde::Serialize, schemars::JsonSchema)]
/// struct Quote { symbol: String, price: f64 }
///
/// /// Looks up the price of a stock.
/// #[tool(read_only, open_world, timeout = "10s", scopes = ["quotes:read"])]
/// async fn quote(
///     ctx: Context,
///     /// The ticker symbol, like `ACME`.
///     symbol: String,
///     /// The currency; US dollars when absent.
///     currency: Option<String>,
/// ) -> Result<Json<Quote>, ToolError> {
///     ctx.log_info(format!("quote {symbol} in {currency:?}")).await;
///     Ok(Json(Quote { symbol, price: 42.0 }))
/// }
///
/// let router: Router = Router::new().tool(quote::tool());
/// assert_eq!(router.tool_names().collect::<Vec<_>>(), ["quote"]);
/// let def = quote::tool::<()>();
/// assert_eq!(def.tool().description.as_deref(), Some("Looks up the price of a stock."));
/// assert_eq!(def.tool().input_schema["required"], serde_json::json!(["symbol"]));
/// assert!(def.tool().output_schema.is_some());
/// ```
///
/// # Attributes
///
/// | key | meaning |
/// |---|---|
/// | `name = "…"` | the tool name (default: the function name); 1–128 of `[A-Za-z0-9_.-]`, checked at compile time |
/// | `title = "…"` | a display name |
/// | `description = "…"` | replaces the doc comment as the description |
/// | `read_only`, `destructive`, `idempotent`, `open_world` | annotation hints; `= false` to state the opposite |
/// | `icons = ["https://…"]` | icon URLs |
/// | `scopes = ["a", "b"]` | OAuth scopes a caller needs, enforced by the auth layer |
/// | `timeout = "30s"` | cancel the call after `ms`, `s`, `m` or `h` |
/// | `task_support = "optional"` | may run as a task (`"required"`: only as a task; `"forbidden"`, the default: never) |
/// | `defer_task` | gather input first, become a task at `ctx.escalate_to_task()` (needs `task_support`) |
/// | `crate = "path"` | where `mcp_core` is |
///
/// # Return types
///
/// Anything that implements `IntoToolResult`: `String`, `&'static str`, `()`, a
/// `ContentBlock` (text, image, audio, resource link, embedded resource) or a `Vec` of them, a
/// full `CallToolResult`, or `Json<T>` for structured output (`outputSchema` from `T`,
/// `structuredContent` plus a text mirror) — or a `Result` of any of these, whose `Err` becomes
/// an `isError` result.
///
/// # Expansion
///
/// ```text
/// /// Adds two integers.
/// #[tool(read_only)]
/// async fn add(/** The first addend. */ a: i64, b: i64) -> String { … }
/// ```
///
/// expands to (paths shortened):
///
/// ```text
/// /// Adds two integers.
/// async fn add(a: i64, b: i64) -> String { … }          // unchanged
///
/// struct add {}                                          // the companion
/// const _: () = {
///     #[derive(Deserialize, JsonSchema)]
///     struct __McpArgs_add {
///         /// The first addend.
///         a: i64,
///         b: i64,
///     }
///     impl add {
///         fn tool<S>() -> ToolDef<S> {
///             ToolDef::new("add", move |Arguments(args): Arguments<__McpArgs_add>| async move {
///                 add(args.a, args.b).await
///             })
///             .description("Adds two integers.")
///             .read_only(true)
///         }
///     }
///     impl<S> Register<S> for add { /* router.tool(add::tool()) */ }
/// };
/// ```
///
/// Extractor parameters become extra closure parameters (each bound `FromRequest<S>`), in
/// their original order; the arguments extractor comes last.
///
/// [`ToolDef`]: https://docs.rs/mcp-core/latest/mcp_core/router/struct.ToolDef.html
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::free::expand(Kind::Tool, args.into(), item.into()).into()
}

/// Turns an `async fn` into an MCP prompt.
///
/// Plain parameters are the prompt's arguments (doc comments are their descriptions, `Option`
/// ones are optional). Prompt arguments arrive as strings: a parameter of another type (`u8`,
/// `bool`, …) is parsed from the string, and a value that does not parse is a `-32602` error
/// naming the argument. `#[complete(path)]` on a parameter attaches a completion handler (an
/// async function taking `Completing`). The companion `name::prompt()` is a `PromptDef`; the
/// completions are added by `router!` and `#[server]`, or by hand with `name::completions()`.
///
/// Attributes: `name`, `title`, `description`, `crate`. Return anything that implements
/// `IntoPromptResult`: a `String` (one user message), `PromptMessage`, `Vec<PromptMessage>`,
/// `GetPromptResult`, or a `Result` of these.
///
/// ```
/// use mcp_core::protocol::PromptMessage;
/// use mcp_core::router::Completing;
/// use mcp_core::prompt;
///
/// async fn languages(c: Completing) -> Vec<String> {
///     ["rust", "python"].iter().filter(|l| l.starts_with(&c.value)).map(|l| l.to_string()).collect()
/// }
///
/// /// Reviews a piece of code.
/// #[prompt(name = "code_review", title = "Code review")]
/// async fn review(
///     /// The code to review.
///     code: String,
///     /// Its language.
///     #[complete(languages)]
///     language: Option<String>,
///     /// At most this many remarks.
///     max_remarks: Option<u8>,
/// ) -> Vec<PromptMessage> {
///     let lang = language.unwrap_or_default();
///     vec![PromptMessage::user(format!("Review this {lang} code, at most {} remarks:\n{code}", max_remarks.unwrap_or(5)))]
/// }
///
/// let router: mcp_core::Router = mcp_core::router![review];
/// # let _ = router;
/// ```
///
/// Expands like [`#[tool]`](macro@tool), with `PromptDef::new` and, per `#[complete]`,
/// `CompletionDef::prompt("code_review", "language", languages)`.
#[proc_macro_attribute]
pub fn prompt(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::free::expand(Kind::Prompt, args.into(), item.into()).into()
}

/// Turns an `async fn` into an MCP resource or resource template.
///
/// `#[resource("scheme://path")]` is a static resource (`name::resource()`, a `ResourceDef`);
/// its function takes extractors only. `#[resource("scheme://{var}/…")]` is an RFC 6570
/// template, levels 1–3 (`{var}`, `{+path}`, `{#frag}`, `{/seg}`, `{.ext}`, `{;p}`, `{?q,r}`,
/// `{&s}`), whose variables bind to the plain parameters of the same name (after serde
/// renames); every variable needs a parameter and every parameter a variable, checked at
/// compile time, and the template syntax is checked at compile time too. The companion
/// `name::template()` is a `TemplateDef`. Matching is one linear pass; values are
/// percent-decoded and a value that would escape its segment (`..`, an encoded `/`, control
/// characters) does not match. Variables arrive as strings and are parsed into the parameter's
/// type. `#[complete(path)]` on a parameter completes that variable.
///
/// | key | meaning |
/// |---|---|
/// | `name = "…"` | the resource name (default: the function name) |
/// | `title`, `description` | display name; replaces the doc comment |
/// | `mime_type = "…"` | the MIME type |
/// | `list = path` | templates: a function returning the instances to list (`impl IntoIterator<Item = Resource>`; in `#[server]`, a `&self` method); called when the router is built |
/// | `crate = "path"` | where `mcp_core` is |
///
/// Return anything that implements `IntoResourceContents`: a `String` (text at the URI that
/// was read), `ResourceContents`, a `Vec` of them, `ReadResourceResult`, or a `Result` of these.
///
/// ```
/// use mcp_core::extract::Uri;
/// use mcp_core::protocol::{Resource, ResourceContents};
/// use mcp_core::resource;
///
/// /// The project README.
/// #[resource("docs://readme", mime_type = "text/markdown")]
/// async fn readme() -> String {
///     "# Hello".into()
/// }
///
/// /// One row of a table.
/// #[resource("db://{table}/rows/{id}", mime_type = "application/json", list = sample)]
/// async fn row(Uri(uri): Uri, table: String, id: u64) -> ResourceContents {
///     ResourceContents::text(uri, format!(r#"{{"table":"{table}","id":{id}}}"#))
/// }
///
/// fn sample() -> Vec<Resource> {
///     vec![Resource::new("db://users/rows/1", "the first user")]
/// }
///
/// let router: mcp_core::Router = mcp_core::Router::new()
///     .resource(readme::resource())
///     .resource_template(row::template());
/// let all: mcp_core::Router = mcp_core::router![readme, row];
/// # let _ = (router, all);
/// ```
#[proc_macro_attribute]
pub fn resource(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::free::expand(Kind::Resource, args.into(), item.into()).into()
}

/// Collects every `#[tool]`, `#[prompt]` and `#[resource]` method of an inherent `impl`
/// block into `Type::router(self) -> Router`.
///
/// Methods take `&self` (the server is shared as `Arc<Self>`, so `Self: Send + Sync +
/// 'static`), or no receiver; the other parameters follow the rules of
/// [`#[tool]`](macro@tool). Inside `#[server]`, `#[tool]`, `#[prompt]` and `#[resource]` are
/// read by `#[server]` itself and need no import. `#[complete(m)]` and `list = m` may name a
/// method of the same block. `serverInfo` is the calling crate's Cargo package name and
/// version (`env!("CARGO_PKG_NAME")`, expanded in your crate) unless set here. Duplicate tool
/// or prompt names and duplicate resource URIs are compile errors.
///
/// | key | meaning |
/// |---|---|
/// | `name = "…"`, `version = "…"` | `serverInfo` |
/// | `instructions = "…"` | instructions for the model |
/// | `crate = "path"` | where `mcp_core` is |
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use mcp_core::server;
///
/// #[derive(Default)]
/// struct Counter { n: AtomicU64 }
///
/// #[server(instructions = "A counter")]
/// impl Counter {
///     /// Adds to the counter and returns the total.
///     #[tool]
///     async fn increment(&self, /** How much to add. */ by: u64) -> String {
///         (self.n.fetch_add(by, Ordering::SeqCst) + by).to_string()
///     }
///
///     /// The current total.
///     #[resource("counter://total")]
///     async fn total(&self) -> String {
///         self.n.load(Ordering::SeqCst).to_string()
///     }
/// }
///
/// let server = mcp_core::Server::new(Counter::default().router());
/// assert_eq!(server.handle().tool_names(), ["increment"]);
/// assert_eq!(server.info().name, env!("CARGO_PKG_NAME"));
/// ```
///
/// # Expansion
///
/// ```text
/// impl Counter { /* the methods, without the helper attributes */ }
/// const _: () = {
///     struct __McpArgs_increment { /** How much to add. */ by: u64 }
///     impl Counter {
///         pub fn router(self) -> Router {
///             let router: Router<Arc<Self>> = Router::new()
///                 .server_info(Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")))
///                 .instructions("A counter");
///             let router = router.tool(ToolDef::new("increment",
///                 move |State(this): State<Arc<Self>>, Arguments(args): Arguments<__McpArgs_increment>|
///                     async move { this.increment(args.by).await })
///                 .description("Adds to the counter and returns the total."));
///             let router = router.resource(ResourceDef::new("counter://total", "total", …));
///             router.with_state(Arc::new(self))
///         }
///     }
/// };
/// ```
#[proc_macro_attribute]
pub fn server(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::server::expand(args.into(), item.into()).into()
}

/// A `Router` of the given `#[tool]`, `#[prompt]` and `#[resource]` functions (with their
/// completions), whose `serverInfo` is the calling crate's Cargo package name and version.
///
/// ```
/// use mcp_core::{prompt, tool};
///
/// /// Echoes.
/// #[tool]
/// async fn echo(text: String) -> String { text }
///
/// /// Greets.
/// #[prompt]
/// async fn greet(name: String) -> String { format!("Greet {name}") }
///
/// let router: mcp_core::Router = mcp_core::router![echo, greet];
/// assert_eq!(router.tool_names().collect::<Vec<_>>(), ["echo"]);
/// ```
///
/// `router![a, b]` expands to
///
/// ```text
/// {
///     let router = Router::new().server_info(Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")));
///     let router = <a as Register<_>>::register(router);   // router.tool(a::tool()), …
///     let router = <b as Register<_>>::register(router);
///     router
/// }
/// ```
///
/// The router's state type is inferred; use `router![…].with_state(s)` for `State<T>`
/// extractors. Write `router![crate = "path"; a, b]` when `mcp_core` is elsewhere.
#[proc_macro]
pub fn router(input: TokenStream) -> TokenStream {
    expand_with(input, |i| Ok(expand::router::expand(syn::parse2(i)?)))
}

/// Marks a struct with named fields as a JSON object type, so that it can be a whole argument
/// list: the `T` of an `Args<T>` parameter, or a `#[serde(flatten)]` parameter.
///
/// Enums, tuple structs and unit structs are refused at compile time (their JSON is not an
/// object); `#[serde(transparent)]` and `#[serde(from = "T")]` require the inner type to be an
/// object type in turn. Plain parameters never need it: the struct the macros generate from
/// them is an object by construction.
///
/// ```
/// use mcp_core::extract::Args;
/// use mcp_core::{tool, ObjectArgs};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema, ObjectArgs)]
/// struct Add { a: i64, b: i64 }
///
/// /// Adds.
/// #[tool]
/// async fn add(Args(Add { a, b }): Args<Add>) -> String { (a + b).to_string() }
///
/// let router: mcp_core::Router = mcp_core::router![add];
/// # let _ = router;
/// ```
///
/// `#[object_args(crate = "path")]` says where `mcp_core` is.
#[proc_macro_derive(ObjectArgs, attributes(object_args))]
pub fn derive_object_args(input: TokenStream) -> TokenStream {
    expand_with(input, |i| expand::derive::expand(syn::parse2(i)?))
}

/// Turns a `syn::Result` into tokens: the expansion, or the errors.
fn expand_with(
    input: TokenStream,
    f: impl FnOnce(proc_macro2::TokenStream) -> syn::Result<proc_macro2::TokenStream>,
) -> TokenStream {
    match f(input.into()) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}
