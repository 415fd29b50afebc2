//! The router: tools, resources, templates, prompts and completions, registered as plain
//! async functions.
//!
//! ```
//! use mcp_core::{extract::Args, Router, ToolDef};
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Echo { /// The text to send back.
//!     text: String }
//! async fn echo(Args(e): Args<Echo>) -> String { e.text }
//!
//! let router: Router = Router::new()
//!     .tool(ToolDef::new("echo", echo).description("Sends the text back").read_only(true));
//! assert_eq!(router.tool_names().collect::<Vec<_>>(), ["echo"]);
//! ```

use std::time::Duration;

use crate::extract::{FromRequest, Rejection, RequestParts};
use crate::handler::{bind_state, erase, ErasedHandler, Handler};
use crate::jsonrpc::ErrorObject;
use crate::protocol::{
    CallToolResult, Completion, GetPromptResult, Icon, Implementation, JsonObject, Prompt,
    PromptArgument, ReadResourceResult, Resource, ResourceTemplate, Tool, ToolAnnotations,
};
use crate::response::{IntoCompletion, IntoPromptResult, IntoResourceContents, IntoToolResult};
use crate::template::UriTemplate;

pub(crate) type ToolFn<S> = ErasedHandler<S, CallToolResult>;
pub(crate) type PromptFn<S> = ErasedHandler<S, Result<GetPromptResult, ErrorObject>>;
pub(crate) type ResourceFn<S> = ErasedHandler<S, ReadResourceFn>;
pub(crate) type CompletionFn<S> = ErasedHandler<S, Result<Completion, ErrorObject>>;

/// A resource result still waiting for the URI it answers.
pub(crate) type ReadResourceFn =
    Box<dyn FnOnce(&str) -> Result<ReadResourceResult, ErrorObject> + Send>;

/// Whether a tool name is valid: 1–128 characters of `[A-Za-z0-9_.-]`.
///
/// ```
/// assert!(mcp_core::router::is_valid_tool_name("db.query_v2"));
/// assert!(!mcp_core::router::is_valid_tool_name("has space"));
/// assert!(!mcp_core::router::is_valid_tool_name(""));
/// ```
pub fn is_valid_tool_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// A tool: its metadata and its handler.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use mcp_core::{Args, Router, Server, ToolDef};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Query { sql: String }
/// async fn run(Args(q): Args<Query>) -> String { format!("ran {}", q.sql) }
///
/// let def = ToolDef::new("db.query", run)
///     .title("Query")
///     .description("Runs a read-only SQL query")
///     .read_only(true)
///     .open_world(false)
///     .scopes(["db:read"])
///     .timeout(Duration::from_secs(5));
/// assert_eq!(def.tool().title.as_deref(), Some("Query"));
/// assert_eq!(def.tool().annotations.as_ref().unwrap().read_only_hint, Some(true));
/// assert_eq!(def.tool().input_schema["required"], serde_json::json!(["sql"]));
///
/// let server = Server::new(Router::new().tool(def));
/// assert_eq!(server.tool_scopes("db.query"), Some(vec!["db:read".to_string()]));
/// ```
pub struct ToolDef<S = ()> {
    pub(crate) tool: Tool,
    pub(crate) handler: ToolFn<S>,
    pub(crate) scopes: Vec<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) defer_task: bool,
}

impl<S> std::fmt::Debug for ToolDef<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolDef")
            .field("tool", &self.tool)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync + 'static> ToolDef<S> {
    /// A tool named `name` served by `handler`. The input schema comes from the handler's
    /// `Args<T>`, the output schema from a `Json<T>` return type.
    ///
    /// # Panics
    /// When `name` is not 1–128 characters of `[A-Za-z0-9_.-]` — a programming error, caught
    /// at startup (the `#[tool]` macro catches it at compile time).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::{Json, ToolDef, ToolError};
    ///
    /// #[derive(serde::Serialize, schemars::JsonSchema)]
    /// struct Clock { unix: u64 }
    /// async fn now() -> Result<Json<Clock>, ToolError> { Ok(Json(Clock { unix: 0 })) }
    ///
    /// let def: ToolDef = ToolDef::new("now", now);
    /// assert_eq!(def.tool().name, "now");
    /// // No `Args<T>`: an empty object schema. `Json<T>` return: an output schema.
    /// assert_eq!(def.tool().input_schema["type"], "object");
    /// assert!(def.tool().output_schema.is_some());
    /// ```
    pub fn new<H, T>(name: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, S>,
        H::Output: IntoToolResult,
        T: 'static,
    {
        let name = name.into();
        assert!(
            is_valid_tool_name(&name),
            "invalid tool name {name:?}: use 1-128 characters of A-Z, a-z, 0-9, `_`, `.` and `-`"
        );
        let tool = Tool {
            name,
            input_schema: H::input_schema().unwrap_or_else(crate::schema::empty_object),
            output_schema: <H::Output as IntoToolResult>::output_schema(),
            ..Default::default()
        };
        ToolDef {
            tool,
            handler: erase(handler, IntoToolResult::into_tool_result),
            scopes: Vec::new(),
            timeout: None,
            defer_task: false,
        }
    }
}

impl<S> ToolDef<S> {
    /// What the tool does, for the model.
    ///
    /// See [`ToolDef`] for an example.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.tool.description = Some(d.into());
        self
    }

    /// A display name.
    ///
    /// See [`ToolDef`] for an example.
    pub fn title(mut self, t: impl Into<String>) -> Self {
        self.tool.title = Some(t.into());
        self
    }

    /// Replaces the input schema, verbatim (hand-written schemas pass through untouched).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::ToolDef;
    /// use serde_json::json;
    ///
    /// async fn ping() -> &'static str { "pong" }
    /// let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
    /// let def: ToolDef = ToolDef::new("ping", ping)
    ///     .input_schema(schema.as_object().unwrap().clone())
    ///     .output_schema(json!({"type": "object"}).as_object().unwrap().clone());
    /// assert_eq!(def.tool().input_schema["properties"]["n"]["type"], "integer");
    /// assert_eq!(def.tool().output_schema.as_ref().unwrap()["type"], "object");
    /// ```
    pub fn input_schema(mut self, schema: JsonObject) -> Self {
        self.tool.input_schema = schema;
        self
    }

    /// Replaces the output schema, verbatim.
    ///
    /// See [`ToolDef::input_schema`] for an example.
    pub fn output_schema(mut self, schema: JsonObject) -> Self {
        self.tool.output_schema = Some(schema);
        self
    }

    /// All behaviour hints at once.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::ToolAnnotations;
    /// use mcp_core::ToolDef;
    ///
    /// async fn wipe() -> &'static str { "wiped" }
    /// let hints = ToolAnnotations { title: Some("Wipe the disk".into()), ..Default::default() };
    /// let def: ToolDef = ToolDef::new("wipe", wipe).annotations(hints).destructive(true).idempotent(true);
    /// let a = def.tool().annotations.as_ref().unwrap();
    /// assert_eq!(a.title.as_deref(), Some("Wipe the disk"));
    /// assert_eq!((a.destructive_hint, a.idempotent_hint), (Some(true), Some(true)));
    /// ```
    pub fn annotations(mut self, a: ToolAnnotations) -> Self {
        self.tool.annotations = Some(a);
        self
    }

    fn hints(&mut self) -> &mut ToolAnnotations {
        self.tool.annotations.get_or_insert_with(Default::default)
    }

    /// `readOnlyHint`.
    ///
    /// See [`ToolDef`] for an example.
    pub fn read_only(mut self, v: bool) -> Self {
        self.hints().read_only_hint = Some(v);
        self
    }

    /// `destructiveHint`.
    ///
    /// See [`ToolDef::annotations`] for an example.
    pub fn destructive(mut self, v: bool) -> Self {
        self.hints().destructive_hint = Some(v);
        self
    }

    /// `idempotentHint`.
    ///
    /// See [`ToolDef::annotations`] for an example.
    pub fn idempotent(mut self, v: bool) -> Self {
        self.hints().idempotent_hint = Some(v);
        self
    }

    /// `openWorldHint`.
    ///
    /// See [`ToolDef`] for an example.
    pub fn open_world(mut self, v: bool) -> Self {
        self.hints().open_world_hint = Some(v);
        self
    }

    /// Icons.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::Icon;
    /// use mcp_core::ToolDef;
    ///
    /// async fn draw() -> &'static str { "done" }
    /// let def: ToolDef = ToolDef::new("draw", draw).icons(vec![Icon::new("https://example.com/pen.svg")]);
    /// assert_eq!(def.tool().icons.as_ref().unwrap()[0].src, "https://example.com/pen.svg");
    /// ```
    pub fn icons(mut self, icons: Vec<Icon>) -> Self {
        self.tool.icons = Some(icons);
        self
    }

    /// OAuth scopes a caller needs (enforced by the auth layer).
    ///
    /// See [`ToolDef`] for an example.
    pub fn scopes<I: IntoIterator<Item = impl Into<String>>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// How long a call may run before it is cancelled and answered with `isError`.
    ///
    /// See [`ToolDef`] for an example.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Lets the tool run as a task: `Optional` (the client decides in the handshake era; in
    /// 2026-07-28 clients that declared the tasks extension get a task) or `Required`.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::TaskSupport;
    /// use mcp_core::ToolDef;
    ///
    /// async fn build() -> &'static str { "built" }
    /// let def: ToolDef = ToolDef::new("build", build).task_support(TaskSupport::Optional);
    /// assert!(def.supports_tasks());
    /// let def: ToolDef = ToolDef::new("build", build).task_support(TaskSupport::Forbidden);
    /// assert!(!def.supports_tasks());
    /// ```
    pub fn task_support(mut self, support: crate::protocol::TaskSupport) -> Self {
        self.tool.execution = Some(crate::protocol::ToolExecution {
            task_support: Some(support),
        });
        self
    }

    /// In 2026-07-28, gather input first (ordinary `input_required` rounds) and become a task
    /// only when the handler calls [`Context::escalate_to_task`](crate::Context::escalate_to_task).
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::TaskSupport;
    /// use mcp_core::ToolDef;
    ///
    /// async fn migrate() -> &'static str { "migrated" }
    /// let def: ToolDef = ToolDef::new("migrate", migrate)
    ///     .task_support(TaskSupport::Optional)
    ///     .defer_task(true);
    /// assert!(def.supports_tasks());
    /// ```
    pub fn defer_task(mut self, defer: bool) -> Self {
        self.defer_task = defer;
        self
    }

    /// Whether calls may run as tasks.
    ///
    /// See [`ToolDef::task_support`] for an example.
    pub fn supports_tasks(&self) -> bool {
        matches!(
            self.tool.execution.as_ref().and_then(|e| e.task_support),
            Some(crate::protocol::TaskSupport::Optional | crate::protocol::TaskSupport::Required)
        )
    }

    /// The metadata as listed.
    ///
    /// See [`ToolDef`] for an example.
    pub fn tool(&self) -> &Tool {
        &self.tool
    }

    fn bind(self, state: S) -> ToolDef<()>
    where
        S: Clone + Send + Sync + 'static,
    {
        ToolDef {
            tool: self.tool,
            handler: bind_state(self.handler, state),
            scopes: self.scopes,
            timeout: self.timeout,
            defer_task: self.defer_task,
        }
    }
}

/// A prompt: its metadata and its handler.
///
/// # Examples
/// ```
/// use mcp_core::{Args, PromptDef, Router};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Review {
///     /// The code to review.
///     code: String,
///     /// What to focus on.
///     focus: Option<String>,
/// }
/// async fn review(Args(r): Args<Review>) -> String {
///     format!("Review this code ({}):\n{}", r.focus.as_deref().unwrap_or("anything"), r.code)
/// }
///
/// let router: Router = Router::new().prompt(
///     PromptDef::new("review", review)
///         .title("Code review")
///         .description("Asks the model to review a snippet"),
/// );
/// # let _ = router;
/// ```
pub struct PromptDef<S = ()> {
    pub(crate) prompt: Prompt,
    pub(crate) handler: PromptFn<S>,
}

impl<S> std::fmt::Debug for PromptDef<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptDef")
            .field("prompt", &self.prompt)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync + 'static> PromptDef<S> {
    /// A prompt named `name`. Its arguments come from the handler's `Args<T>` (fields become
    /// arguments; `Option` fields are optional; doc comments become descriptions).
    ///
    /// See [`PromptDef`] for an example.
    pub fn new<H, T>(name: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, S>,
        H::Output: IntoPromptResult,
        T: 'static,
    {
        let arguments = H::input_schema()
            .map(|s| prompt_arguments(&s))
            .filter(|a| !a.is_empty());
        PromptDef {
            prompt: Prompt {
                name: name.into(),
                arguments,
                ..Default::default()
            },
            handler: erase(handler, IntoPromptResult::into_prompt_result),
        }
    }
}

impl<S> PromptDef<S> {
    /// What the prompt is for.
    ///
    /// See [`PromptDef`] for an example.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.prompt.description = Some(d.into());
        self
    }

    /// A display name.
    ///
    /// See [`PromptDef`] for an example.
    pub fn title(mut self, t: impl Into<String>) -> Self {
        self.prompt.title = Some(t.into());
        self
    }

    /// Replaces the argument list.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::protocol::PromptArgument;
    /// use mcp_core::PromptDef;
    ///
    /// async fn haiku() -> String { "Write a haiku.".into() }
    /// let topic = PromptArgument {
    ///     name: "topic".into(),
    ///     title: None,
    ///     description: Some("What the haiku is about".into()),
    ///     required: Some(false),
    /// };
    /// let def: PromptDef = PromptDef::new("haiku", haiku).arguments(vec![topic]);
    /// # let _ = def;
    /// ```
    pub fn arguments(mut self, args: Vec<PromptArgument>) -> Self {
        self.prompt.arguments = Some(args);
        self
    }

    fn bind(self, state: S) -> PromptDef<()>
    where
        S: Clone + Send + Sync + 'static,
    {
        PromptDef {
            prompt: self.prompt,
            handler: bind_state(self.handler, state),
        }
    }
}

/// Prompt arguments from an object schema.
fn prompt_arguments(schema: &JsonObject) -> Vec<PromptArgument> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, p)| PromptArgument {
            name: name.clone(),
            title: p.get("title").and_then(|t| t.as_str()).map(Into::into),
            description: p
                .get("description")
                .and_then(|d| d.as_str())
                .map(Into::into),
            required: Some(required.contains(&name.as_str())),
        })
        .collect()
}

/// A static resource at a fixed URI.
///
/// # Examples
/// ```
/// use mcp_core::{ResourceDef, Router, Server};
///
/// async fn readme() -> String { "# Hello".into() }
/// let router: Router = Router::new().resource(
///     ResourceDef::new("docs://readme", "readme", readme)
///         .title("README")
///         .description("The project's README")
///         .mime_type("text/markdown"),
/// );
/// assert!(Server::new(router).capabilities().resources.is_some());
/// ```
pub struct ResourceDef<S = ()> {
    pub(crate) resource: Resource,
    pub(crate) handler: ResourceFn<S>,
}

impl<S> std::fmt::Debug for ResourceDef<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceDef")
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

fn defer_resource<O: IntoResourceContents + Send + 'static>(o: O) -> ReadResourceFn {
    Box::new(move |uri: &str| o.into_resource_result(uri))
}

impl<S: Send + Sync + 'static> ResourceDef<S> {
    /// A resource at `uri` named `name`.
    ///
    /// See [`ResourceDef`] for an example.
    pub fn new<H, T>(uri: impl Into<String>, name: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, S>,
        H::Output: IntoResourceContents,
        T: 'static,
    {
        ResourceDef {
            resource: Resource::new(uri, name),
            handler: erase(handler, defer_resource),
        }
    }
}

impl<S> ResourceDef<S> {
    /// What it is.
    ///
    /// See [`ResourceDef`] for an example.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.resource.description = Some(d.into());
        self
    }

    /// Its MIME type.
    ///
    /// See [`ResourceDef`] for an example.
    pub fn mime_type(mut self, m: impl Into<String>) -> Self {
        self.resource.mime_type = Some(m.into());
        self
    }

    /// A display name.
    ///
    /// See [`ResourceDef`] for an example.
    pub fn title(mut self, t: impl Into<String>) -> Self {
        self.resource.title = Some(t.into());
        self
    }

    fn bind(self, state: S) -> ResourceDef<()>
    where
        S: Clone + Send + Sync + 'static,
    {
        ResourceDef {
            resource: self.resource,
            handler: bind_state(self.handler, state),
        }
    }
}

/// A resource template: URIs matching an RFC 6570 template, served by one handler whose
/// `Args<T>` receives the template variables.
///
/// # Examples
/// ```
/// use mcp_core::{Args, Router, TemplateDef};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct User { id: u32 }
/// async fn profile(Args(u): Args<User>) -> String { format!("user {}", u.id) }
///
/// let router: Router = Router::new().resource_template(
///     TemplateDef::new("users://{id}/profile", "profile", profile)
///         .title("User profile")
///         .description("A user's public profile")
///         .mime_type("text/plain"),
/// );
/// # let _ = router;
/// ```
pub struct TemplateDef<S = ()> {
    pub(crate) template: ResourceTemplate,
    pub(crate) matcher: UriTemplate,
    pub(crate) handler: ResourceFn<S>,
    pub(crate) list: Option<ListFn<S>>,
}

/// Lists the concrete resources a template serves (for `resources/list`).
pub(crate) type ListFn<S> = ErasedHandler<S, Vec<Resource>>;

impl<S> std::fmt::Debug for TemplateDef<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateDef")
            .field("template", &self.template)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync + 'static> TemplateDef<S> {
    /// A template such as `test://template/{id}/data`.
    ///
    /// # Panics
    /// When the template is not valid RFC 6570 — a programming error caught at startup.
    ///
    /// # Examples
    ///
    /// See [`TemplateDef`] for an example.
    pub fn new<H, T>(uri_template: impl Into<String>, name: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, S>,
        H::Output: IntoResourceContents,
        T: 'static,
    {
        let uri_template = uri_template.into();
        let matcher = match UriTemplate::parse(&uri_template) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        TemplateDef {
            template: ResourceTemplate {
                uri_template,
                name: name.into(),
                ..Default::default()
            },
            matcher,
            handler: erase(handler, defer_resource),
            list: None,
        }
    }
}

impl<S> TemplateDef<S> {
    /// What the resources are.
    ///
    /// See [`TemplateDef`] for an example.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.template.description = Some(d.into());
        self
    }

    /// The MIME type of every matching resource.
    ///
    /// See [`TemplateDef`] for an example.
    pub fn mime_type(mut self, m: impl Into<String>) -> Self {
        self.template.mime_type = Some(m.into());
        self
    }

    /// A display name.
    ///
    /// See [`TemplateDef`] for an example.
    pub fn title(mut self, t: impl Into<String>) -> Self {
        self.template.title = Some(t.into());
        self
    }

    /// A handler that lists the resources this template serves; they appear in
    /// `resources/list` after the static resources. It takes the usual extractors (`State`,
    /// `Context`) and returns any iterator of [`Resource`]s.
    ///
    /// ```
    /// use mcp_core::protocol::Resource;
    /// use mcp_core::{Args, Router, TemplateDef};
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Id { id: String }
    /// async fn read(Args(i): Args<Id>) -> String { format!("item {}", i.id) }
    /// async fn all() -> Vec<Resource> {
    ///     (1..=3).map(|i| Resource::new(format!("items://{i}"), format!("item {i}"))).collect()
    /// }
    /// let r: Router = Router::new().resource_template(TemplateDef::new("items://{id}", "item", read).list(all));
    /// # let _ = r;
    /// ```
    pub fn list<H, T, I>(mut self, handler: H) -> Self
    where
        S: Send + Sync + 'static,
        H: Handler<T, S, Output = I>,
        I: IntoIterator<Item = Resource> + Send + 'static,
        T: 'static,
    {
        self.list = Some(erase(handler, |items: I| items.into_iter().collect()));
        self
    }

    fn bind(self, state: S) -> TemplateDef<()>
    where
        S: Clone + Send + Sync + 'static,
    {
        TemplateDef {
            template: self.template,
            matcher: self.matcher,
            handler: bind_state(self.handler, state.clone()),
            list: self.list.map(|l| bind_state(l, state)),
        }
    }
}

/// What a completion handler is asked: which argument, and what was typed so far.
///
/// An extractor for completion handlers.
///
/// ```
/// use mcp_core::router::Completing;
/// async fn languages(c: Completing) -> Vec<String> {
///     ["rust", "ruby", "python"].iter().filter(|l| l.starts_with(&c.value)).map(|s| s.to_string()).collect()
/// }
/// # let _: mcp_core::Router = mcp_core::Router::new().completion(mcp_core::CompletionDef::prompt("p", "lang", languages));
/// ```
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Completing {
    /// The argument (or template variable) being completed.
    pub argument: String,
    /// What the user typed so far.
    pub value: String,
    /// Other arguments' values.
    #[serde(default)]
    pub context: std::collections::BTreeMap<String, String>,
}

impl<S> FromRequest<S> for Completing {
    fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
        crate::extract::deserialize_arguments(serde_json::Value::Object(std::mem::take(
            &mut parts.arguments,
        )))
    }
}

/// What a completion is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CompletionTarget {
    Prompt(String),
    Template(String),
}

/// A completion handler for one prompt argument or template variable.
///
/// # Examples
/// ```
/// use mcp_core::router::Completing;
/// use mcp_core::{Args, CompletionDef, PromptDef, Router, TemplateDef};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Lang { lang: String }
/// async fn greet(Args(l): Args<Lang>) -> String { format!("Say hello in {}", l.lang) }
/// async fn docs(Args(l): Args<Lang>) -> String { format!("docs for {}", l.lang) }
/// async fn langs(c: Completing) -> Vec<String> {
///     ["rust", "ruby"].iter().filter(|l| l.starts_with(&c.value)).map(|l| l.to_string()).collect()
/// }
///
/// let router: Router = Router::new()
///     .prompt(PromptDef::new("greet", greet))
///     .resource_template(TemplateDef::new("docs://{lang}", "docs", docs))
///     .completion(CompletionDef::prompt("greet", "lang", langs))
///     .completion(CompletionDef::template("docs://{lang}", "lang", langs));
/// # let _ = router;
/// ```
pub struct CompletionDef<S = ()> {
    pub(crate) target: CompletionTarget,
    pub(crate) argument: String,
    pub(crate) handler: CompletionFn<S>,
}

impl<S> std::fmt::Debug for CompletionDef<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompletionDef")
            .field("target", &self.target)
            .field("argument", &self.argument)
            .finish()
    }
}

impl<S: Send + Sync + 'static> CompletionDef<S> {
    /// Completes `argument` of the prompt `prompt`.
    ///
    /// See [`CompletionDef`] for an example.
    pub fn prompt<H, T>(prompt: impl Into<String>, argument: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, S>,
        H::Output: IntoCompletion,
        T: 'static,
    {
        CompletionDef {
            target: CompletionTarget::Prompt(prompt.into()),
            argument: argument.into(),
            handler: erase(handler, IntoCompletion::into_completion),
        }
    }

    /// Completes the variable `variable` of the resource template `uri_template`.
    ///
    /// See [`CompletionDef`] for an example.
    pub fn template<H, T>(
        uri_template: impl Into<String>,
        variable: impl Into<String>,
        handler: H,
    ) -> Self
    where
        H: Handler<T, S>,
        H::Output: IntoCompletion,
        T: 'static,
    {
        CompletionDef {
            target: CompletionTarget::Template(uri_template.into()),
            argument: variable.into(),
            handler: erase(handler, IntoCompletion::into_completion),
        }
    }

    fn bind(self, state: S) -> CompletionDef<()>
    where
        S: Clone + Send + Sync + 'static,
    {
        CompletionDef {
            target: self.target,
            argument: self.argument,
            handler: bind_state(self.handler, state),
        }
    }
}

/// Collects tools, resources, templates, prompts and completions; `S` is the state type that
/// handlers extract with `State<T>`, fixed by [`Router::with_state`].
///
/// # Examples
/// ```
/// use mcp_core::{Args, Router, Server, State, ToolDef};
///
/// #[derive(Clone)]
/// struct Db { greeting: String }
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Name { name: String }
/// async fn hello(State(db): State<Db>, Args(n): Args<Name>) -> String {
///     format!("{}, {}!", db.greeting, n.name)
/// }
///
/// let router: Router = Router::<Db>::new()
///     .tool(ToolDef::new("hello", hello).description("Greets someone"))
///     .server_info(mcp_core::crate_info!())
///     .instructions("Call `hello` with a name.")
///     .logging(false)
///     .with_state(Db { greeting: "Hi".into() });
/// assert_eq!(router.tool_names().collect::<Vec<_>>(), ["hello"]);
/// let server = Server::new(router);
/// assert!(server.capabilities().logging.is_none());
/// assert_eq!(server.info().name, env!("CARGO_PKG_NAME"));
/// ```
pub struct Router<S = ()> {
    pub(crate) tools: Vec<ToolDef<S>>,
    pub(crate) prompts: Vec<PromptDef<S>>,
    pub(crate) resources: Vec<ResourceDef<S>>,
    pub(crate) templates: Vec<TemplateDef<S>>,
    pub(crate) completions: Vec<CompletionDef<S>>,
    pub(crate) info: Option<Implementation>,
    pub(crate) instructions: Option<String>,
    pub(crate) logging: bool,
}

impl<S> std::fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "tools",
                &self.tools.iter().map(|t| &t.tool.name).collect::<Vec<_>>(),
            )
            .field(
                "prompts",
                &self
                    .prompts
                    .iter()
                    .map(|p| &p.prompt.name)
                    .collect::<Vec<_>>(),
            )
            .field("resources", &self.resources.len())
            .field("templates", &self.templates.len())
            .finish()
    }
}

impl<S> Default for Router<S> {
    fn default() -> Self {
        Router {
            tools: Vec::new(),
            prompts: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            completions: Vec::new(),
            info: None,
            instructions: None,
            logging: true,
        }
    }
}

impl<S: Send + Sync + 'static> Router<S> {
    /// An empty router.
    ///
    /// See [`Router`] for an example.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool. A later tool with the same name replaces an earlier one.
    ///
    /// See [`Router`] for an example.
    pub fn tool(mut self, tool: impl Into<ToolDef<S>>) -> Self {
        let tool = tool.into();
        self.tools.retain(|t| t.tool.name != tool.tool.name);
        self.tools.push(tool);
        self
    }

    /// Adds a tool from a function, without a description. Prefer [`Router::tool`] with a
    /// [`ToolDef`] and a description: models pick tools by their descriptions.
    ///
    /// # Examples
    /// ```
    /// use mcp_core::Router;
    ///
    /// async fn ping() -> &'static str { "pong" }
    /// let router: Router = Router::new().tool_fn("ping", ping);
    /// assert_eq!(router.tool_names().collect::<Vec<_>>(), ["ping"]);
    /// ```
    pub fn tool_fn<H, T>(self, name: impl Into<String>, handler: H) -> Self
    where
        H: Handler<T, S>,
        H::Output: IntoToolResult,
        T: 'static,
    {
        self.tool(ToolDef::new(name, handler))
    }

    /// Adds a prompt.
    ///
    /// See [`PromptDef`] for an example.
    pub fn prompt(mut self, prompt: impl Into<PromptDef<S>>) -> Self {
        let prompt = prompt.into();
        self.prompts.retain(|p| p.prompt.name != prompt.prompt.name);
        self.prompts.push(prompt);
        self
    }

    /// Adds a static resource.
    ///
    /// See [`ResourceDef`] for an example.
    pub fn resource(mut self, resource: impl Into<ResourceDef<S>>) -> Self {
        let resource = resource.into();
        self.resources
            .retain(|r| r.resource.uri != resource.resource.uri);
        self.resources.push(resource);
        self
    }

    /// Adds a resource template.
    ///
    /// See [`TemplateDef`] for an example.
    pub fn resource_template(mut self, template: impl Into<TemplateDef<S>>) -> Self {
        let template = template.into();
        self.templates
            .retain(|t| t.template.uri_template != template.template.uri_template);
        self.templates.push(template);
        self
    }

    /// Adds a completion handler.
    ///
    /// See [`CompletionDef`] for an example.
    pub fn completion(mut self, completion: impl Into<CompletionDef<S>>) -> Self {
        self.completions.push(completion.into());
        self
    }

    /// Sets `serverInfo`. Without it the server reports the executable's name; use
    /// [`crate_info!`](crate::crate_info) to report your crate's name and version.
    ///
    /// See [`Router`] for an example.
    pub fn server_info(mut self, info: Implementation) -> Self {
        self.info = Some(info);
        self
    }

    /// Instructions for the model on how to use this server.
    ///
    /// See [`Router`] for an example.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }

    /// Whether to declare the `logging` capability (on by default).
    ///
    /// See [`Router`] for an example.
    pub fn logging(mut self, enabled: bool) -> Self {
        self.logging = enabled;
        self
    }

    /// The names of the registered tools, in registration order.
    ///
    /// See [`Router`] for an example.
    pub fn tool_names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|t| t.tool.name.as_str())
    }

    /// Gives the handlers their state, producing a router ready to serve.
    ///
    /// See [`Router`] for an example.
    pub fn with_state(self, state: S) -> Router<()>
    where
        S: Clone,
    {
        Router {
            tools: self
                .tools
                .into_iter()
                .map(|t| t.bind(state.clone()))
                .collect(),
            prompts: self
                .prompts
                .into_iter()
                .map(|p| p.bind(state.clone()))
                .collect(),
            resources: self
                .resources
                .into_iter()
                .map(|r| r.bind(state.clone()))
                .collect(),
            templates: self
                .templates
                .into_iter()
                .map(|t| t.bind(state.clone()))
                .collect(),
            completions: self
                .completions
                .into_iter()
                .map(|c| c.bind(state.clone()))
                .collect(),
            info: self.info,
            instructions: self.instructions,
            logging: self.logging,
        }
    }
}
