//! The transport-agnostic server runtime.
//!
//! A [`Server`] is built from a [`Router`]. Transports open a [`Connection`] per stdio process
//! or HTTP session and feed it parsed messages; everything protocol-level — era
//! classification, the validation ladder, the handshake, dispatch, cancellation, sealing of
//! `requestState` — happens here, so it can be tested in process without sockets.
//!
//! ```
//! use mcp_core::{Router, Server};
//! async fn ping() -> &'static str { "pong" }
//! let server = Server::new(Router::new().tool_fn("ping_tool", ping));
//! assert_eq!(server.handle().tool_names(), ["ping_tool"]);
//! ```

mod dispatch;
pub(crate) mod seal;
mod service;
pub(crate) mod tasks;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use tokio::sync::broadcast;

pub use dispatch::{Connection, Unsolicited};
pub use service::{Handlers, McpRequest, McpResponse};
pub use tasks::{
    InMemoryTaskStore, TaskConfig, TaskFuture, TaskRecord, TaskStore, TaskStoreError,
    TASKS_EXTENSION,
};

use crate::protocol::{
    Implementation, JsonObject, ListChangedCapability, ResourcesCapability, ServerCapabilities,
};
use crate::router::{CompletionDef, PromptDef, ResourceDef, Router, TemplateDef, ToolDef};
use seal::SealKey;

/// Something in the server's catalogue changed.
///
/// ```
/// use mcp_core::server::ListChanged;
/// assert_eq!(ListChanged::Tools.notification_method(), "notifications/tools/list_changed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListChanged {
    /// The tool list.
    Tools,
    /// The prompt list.
    Prompts,
    /// The resource list.
    Resources,
    /// One resource's contents.
    ResourceUpdated(String),
}

impl ListChanged {
    /// The notification method announcing the change.
    ///
    /// See [`ListChanged`] for an example.
    pub fn notification_method(&self) -> &'static str {
        match self {
            ListChanged::Tools => "notifications/tools/list_changed",
            ListChanged::Prompts => "notifications/prompts/list_changed",
            ListChanged::Resources => "notifications/resources/list_changed",
            ListChanged::ResourceUpdated(_) => "notifications/resources/updated",
        }
    }
}

/// Tunables of the runtime. Every bound has a default.
///
/// ```
/// use mcp_core::server::ServerConfig;
/// let c = ServerConfig::default();
/// assert_eq!(c.page_size, 100);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Items per page of every list method.
    pub page_size: usize,
    /// How long to wait for the client to answer a server→client request.
    pub client_request_timeout: Duration,
    /// How long a 2026-07-28 `requestState` stays valid.
    pub request_state_ttl: Duration,
    /// Capacity of the change-notification channel.
    pub change_buffer: usize,
    /// Task lifetimes and polling.
    pub tasks: TaskConfig,
    /// Leave tools the caller lacks the scopes for out of `tools/list`.
    pub hide_forbidden_tools: bool,
    /// The deadline of tools that have no `timeout` of their own (`None`: no deadline).
    pub default_tool_timeout: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            page_size: 100,
            client_request_timeout: Duration::from_secs(120),
            request_state_ttl: Duration::from_secs(15 * 60),
            change_buffer: 64,
            tasks: TaskConfig::default(),
            hide_forbidden_tools: true,
            default_tool_timeout: None,
        }
    }
}

/// The registered handlers; replaced whole (copy on write) when something is added or removed.
#[derive(Default, Clone)]
pub(crate) struct Registry {
    pub(crate) tools: Vec<Arc<ToolDef>>,
    pub(crate) tool_index: HashMap<String, usize>,
    pub(crate) prompts: Vec<Arc<PromptDef>>,
    pub(crate) resources: Vec<Arc<ResourceDef>>,
    pub(crate) templates: Vec<Arc<TemplateDef>>,
    pub(crate) completions: Vec<Arc<CompletionDef>>,
}

impl Registry {
    fn reindex(&mut self) {
        self.tool_index = self
            .tools
            .iter()
            .enumerate()
            .map(|(i, t)| (t.tool.name.clone(), i))
            .collect();
    }

    pub(crate) fn tool(&self, name: &str) -> Option<&Arc<ToolDef>> {
        self.tool_index.get(name).map(|&i| &self.tools[i])
    }
}

pub(crate) struct Shared {
    pub(crate) registry: RwLock<Arc<Registry>>,
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) logging: bool,
    pub(crate) key: SealKey,
    pub(crate) config: ServerConfig,
    pub(crate) changes: broadcast::Sender<ListChanged>,
    /// The handshake-era connections that are told about catalogue changes. A change is
    /// delivered to each by the code that makes it: no task per connection waits for them.
    pub(crate) watchers: Mutex<Watchers>,
    pub(crate) tasks: Arc<tasks::TaskRuntime>,
    pub(crate) service: service::Stack,
    /// Whether [`Server::layer`] added anything: without layers, requests skip the tower
    /// stack (and the `McpRequest` it needs) and go straight to the handlers.
    pub(crate) layered: bool,
}

impl Shared {
    pub(crate) fn registry(&self) -> Arc<Registry> {
        match self.registry.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Capabilities as a client of `version` sees them (tasks moved to an extension in
    /// 2026-07-28 and do not exist before 2025-11-25).
    pub(crate) fn capabilities_for(
        &self,
        version: crate::protocol::ProtocolVersion,
    ) -> ServerCapabilities {
        let mut caps = self.capabilities();
        if self.registry().tools.iter().any(|t| t.supports_tasks()) {
            if version.is_modern() {
                let mut ext = JsonObject::new();
                ext.insert(tasks::TASKS_EXTENSION.into(), serde_json::json!({}));
                caps.extensions = Some(ext);
            } else if version >= crate::protocol::ProtocolVersion::V2025_11_25 {
                caps.tasks = serde_json::json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}})
                    .as_object()
                    .cloned();
            }
        }
        caps
    }

    pub(crate) fn capabilities(&self) -> ServerCapabilities {
        let reg = self.registry();
        let listed = Some(ListChangedCapability {
            list_changed: Some(true),
        });
        ServerCapabilities {
            tools: (!reg.tools.is_empty()).then(|| listed.clone()).flatten(),
            prompts: (!reg.prompts.is_empty()).then(|| listed.clone()).flatten(),
            resources: (!reg.resources.is_empty() || !reg.templates.is_empty()).then_some(
                ResourcesCapability {
                    subscribe: Some(true),
                    list_changed: Some(true),
                },
            ),
            completions: (!reg.completions.is_empty()).then(JsonObject::new),
            logging: self.logging.then(JsonObject::new),
            ..Default::default()
        }
    }

    fn update(&self, change: ListChanged, edit: impl FnOnce(&mut Registry)) {
        self.edit(|registry| {
            edit(registry);
            vec![change]
        });
    }

    /// Edits a copy of the registry, swaps it in as one step, then announces the changes
    /// `edit` reports (each once).
    pub(crate) fn edit(&self, edit: impl FnOnce(&mut Registry) -> Vec<ListChanged>) {
        let changes = {
            let mut guard = match self.registry.write() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            let mut next = Registry::clone(&guard);
            let changes = edit(&mut next);
            next.reindex();
            *guard = Arc::new(next);
            changes
        };
        let mut announced: Vec<&ListChanged> = Vec::with_capacity(changes.len());
        for change in &changes {
            if !announced.contains(&change) {
                announced.push(change);
                self.publish(change.clone());
            }
        }
    }

    /// Announces a change: to every watching handshake-era connection, and to subscribers
    /// ([`Server::subscribe`], 2026-07-28 `subscriptions/listen` streams).
    pub(crate) fn publish(&self, change: ListChanged) {
        let watching: Vec<Arc<Connection>> = {
            let watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
            watchers.map.values().filter_map(Weak::upgrade).collect()
        };
        for conn in watching {
            conn.deliver_change(&change);
        }
        let _ = self.changes.send(change);
    }

    /// Adds a connection to those told about changes; the id removes it again.
    pub(crate) fn watch(&self, conn: Weak<Connection>) -> u64 {
        let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        watchers.next += 1;
        let id = watchers.next;
        watchers.map.insert(id, conn);
        id
    }

    pub(crate) fn unwatch(&self, id: u64) {
        let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        watchers.map.remove(&id);
        if watchers.map.capacity() > 64 && watchers.map.len() < watchers.map.capacity() / 4 {
            let len = watchers.map.len();
            watchers.map.shrink_to(len * 2);
        }
    }
}

/// See [`Shared::watchers`].
#[derive(Default)]
pub(crate) struct Watchers {
    next: u64,
    map: HashMap<u64, Weak<Connection>>,
}

/// A server, ready for transports to connect to. Cheap to clone.
///
/// # Examples
/// ```
/// use mcp_core::layers::TraceLayer;
/// use mcp_core::server::ServerConfig;
/// use mcp_core::{Args, Router, Server, ToolDef};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Path { path: String }
/// async fn delete(Args(p): Args<Path>) -> String { format!("deleted {}", p.path) }
///
/// let router: Router = Router::new()
///     .server_info(mcp_core::crate_info!())
///     .tool(ToolDef::new("delete", delete).description("Deletes a file").destructive(true).scopes(["files:write"]));
/// let mut config = ServerConfig::default();
/// config.page_size = 50;
/// let server = Server::with_config(router, config)
///     .with_state_key(b"a secret shared by every instance, 32+ bytes")
///     .layer(TraceLayer::new());
///
/// assert_eq!(server.info().name, env!("CARGO_PKG_NAME"));
/// assert!(server.capabilities().tools.is_some());
/// assert_eq!(server.tool("delete").unwrap().description.as_deref(), Some("Deletes a file"));
/// assert_eq!(server.tool_scopes("delete"), Some(vec!["files:write".to_string()]));
/// assert_eq!(server.tool_scopes("missing"), None);
/// ```
#[derive(Clone)]
pub struct Server {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.shared.info)
            .finish_non_exhaustive()
    }
}

impl From<Router> for Server {
    fn from(router: Router) -> Self {
        Server::new(router)
    }
}

fn default_info() -> Implementation {
    let name = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "mcp-server".to_owned());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_else(|_| "0.0.0".to_owned());
    Implementation::new(name, version)
}

impl Server {
    /// A server with the default [`ServerConfig`].
    ///
    /// See [`Server`] for an example.
    pub fn new(router: Router) -> Self {
        Self::with_config(router, ServerConfig::default())
    }

    /// A server with explicit tunables.
    ///
    /// See [`Server`] for an example.
    pub fn with_config(router: Router, config: ServerConfig) -> Self {
        let mut registry = Registry {
            tools: router.tools.into_iter().map(Arc::new).collect(),
            prompts: router.prompts.into_iter().map(Arc::new).collect(),
            resources: router.resources.into_iter().map(Arc::new).collect(),
            templates: router.templates.into_iter().map(Arc::new).collect(),
            completions: router.completions.into_iter().map(Arc::new).collect(),
            ..Default::default()
        };
        registry.reindex();
        let (changes, _) = broadcast::channel(config.change_buffer.max(1));
        Server {
            shared: Arc::new(Shared {
                registry: RwLock::new(Arc::new(registry)),
                info: router.info.unwrap_or_else(default_info),
                instructions: router.instructions,
                logging: router.logging,
                key: SealKey::random(),
                tasks: Arc::new(tasks::TaskRuntime::new(
                    Arc::new(tasks::InMemoryTaskStore::default()),
                    config.tasks.clone(),
                )),
                config,
                changes,
                watchers: Mutex::new(Watchers::default()),
                service: service::Stack::new(service::Handlers),
                layered: false,
            }),
        }
    }

    /// Uses a fixed secret for sealing `requestState` and cursors, so that several instances
    /// behind a load balancer accept each other's. Keep it secret; 32 random bytes or more.
    ///
    /// See [`Server`] for an example.
    pub fn with_state_key(self, secret: &[u8]) -> Self {
        let shared = match Arc::try_unwrap(self.shared) {
            Ok(mut s) => {
                s.key = SealKey::from_bytes(secret);
                s
            }
            Err(shared) => {
                tracing::warn!("with_state_key called after the server was shared; key unchanged");
                return Server { shared };
            }
        };
        Server {
            shared: Arc::new(shared),
        }
    }

    /// Keeps task records in `store` (for example a shared one, so any instance can answer
    /// `tasks/get`).
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// use mcp_core::server::InMemoryTaskStore;
    /// use mcp_core::{Router, Server};
    ///
    /// let server = Server::new(Router::new()).with_task_store(Arc::new(InMemoryTaskStore::new(10_000)));
    /// # let _ = server;
    /// ```
    pub fn with_task_store(self, store: Arc<dyn TaskStore>) -> Self {
        match Arc::try_unwrap(self.shared) {
            Ok(mut s) => {
                s.tasks = Arc::new(tasks::TaskRuntime::new(store, s.config.tasks.clone()));
                Server {
                    shared: Arc::new(s),
                }
            }
            Err(shared) => {
                tracing::warn!(
                    "with_task_store called after the server was shared; store unchanged"
                );
                Server { shared }
            }
        }
    }

    /// Wraps the request handling in a `tower::Layer` (over [`McpRequest`]s). Layers added
    /// later wrap the earlier ones, so the last one added sees requests first.
    ///
    /// See [`Server`] and [the layers](crate::layers) for an example.
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: tower::Layer<service::Stack>,
        L::Service: tower::Service<McpRequest, Response = McpResponse, Error = std::convert::Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<McpRequest>>::Future: Send + 'static,
    {
        match Arc::try_unwrap(self.shared) {
            Ok(mut s) => {
                s.service = service::Stack::new(layer.layer(s.service.clone()));
                s.layered = true;
                Server {
                    shared: Arc::new(s),
                }
            }
            Err(shared) => {
                tracing::warn!("Server::layer called after the server was shared; layer not added");
                Server { shared }
            }
        }
    }

    /// The scopes a tool requires, if the tool exists.
    ///
    /// See [`Server`] for an example.
    pub fn tool_scopes(&self, name: &str) -> Option<Vec<String>> {
        self.shared.registry().tool(name).map(|t| t.scopes.clone())
    }

    /// A handle for changing the catalogue while serving.
    ///
    /// See [`ServerHandle`] for an example.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            shared: self.shared.clone(),
        }
    }

    /// The server's name and version as reported to clients.
    ///
    /// See [`Server`] for an example.
    pub fn info(&self) -> &Implementation {
        &self.shared.info
    }

    /// The capabilities derived from what is registered.
    ///
    /// See [`Server`] for an example.
    pub fn capabilities(&self) -> ServerCapabilities {
        self.shared.capabilities()
    }

    /// A registered tool's metadata (for transports that validate against its schema).
    ///
    /// See [`Server`] for an example.
    pub fn tool(&self, name: &str) -> Option<crate::protocol::Tool> {
        self.shared.registry().tool(name).map(|t| t.tool.clone())
    }
}

/// Adds and removes tools, prompts and resources on a running server; clients are notified
/// (`list_changed`). Obtain one from [`Server::handle`] or [`Context::server`](crate::Context::server).
///
/// # Examples
/// ```
/// use mcp_core::server::ListChanged;
/// use mcp_core::{PromptDef, ResourceDef, Router, Server, ToolDef};
///
/// async fn ping() -> &'static str { "pong" }
/// async fn hint() -> String { "Be brief.".into() }
/// async fn motd() -> String { "Hello!".into() }
///
/// let server = Server::new(Router::new());
/// let handle = server.handle();
/// let mut changes = handle.subscribe();
///
/// handle.add_tool(ToolDef::new("ping", ping).description("Answers pong"));
/// handle.add_prompt(PromptDef::new("hint", hint));
/// handle.add_resource(ResourceDef::new("motd://today", "motd", motd));
/// assert_eq!(handle.tool_names(), ["ping"]);
/// assert_eq!(changes.try_recv().unwrap(), ListChanged::Tools);
///
/// assert!(handle.remove_tool("ping"));
/// assert!(!handle.remove_tool("ping"));
/// assert!(handle.remove_prompt("hint"));
/// handle.notify_resource_updated("motd://today");
/// handle.notify_changed(ListChanged::Resources);
/// ```
#[derive(Clone)]
pub struct ServerHandle {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle").finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// Adds (or replaces) a tool.
    ///
    /// See [`ServerHandle`] for an example.
    pub fn add_tool(&self, tool: ToolDef) {
        self.shared.update(ListChanged::Tools, |r| {
            r.tools.retain(|t| t.tool.name != tool.tool.name);
            r.tools.push(Arc::new(tool));
        });
    }

    /// Removes a tool; returns whether it existed.
    ///
    /// See [`ServerHandle`] for an example.
    pub fn remove_tool(&self, name: &str) -> bool {
        let existed = self.shared.registry().tool(name).is_some();
        if existed {
            self.shared.update(ListChanged::Tools, |r| {
                r.tools.retain(|t| t.tool.name != name)
            });
        }
        existed
    }

    /// Adds (or replaces) a prompt.
    ///
    /// See [`ServerHandle`] for an example.
    pub fn add_prompt(&self, prompt: PromptDef) {
        self.shared.update(ListChanged::Prompts, |r| {
            r.prompts.retain(|p| p.prompt.name != prompt.prompt.name);
            r.prompts.push(Arc::new(prompt));
        });
    }

    /// Removes a prompt; returns whether it existed.
    ///
    /// See [`ServerHandle`] for an example.
    pub fn remove_prompt(&self, name: &str) -> bool {
        let existed = self
            .shared
            .registry()
            .prompts
            .iter()
            .any(|p| p.prompt.name == name);
        if existed {
            self.shared.update(ListChanged::Prompts, |r| {
                r.prompts.retain(|p| p.prompt.name != name)
            });
        }
        existed
    }

    /// Adds (or replaces) a static resource.
    ///
    /// See [`ServerHandle`] for an example.
    pub fn add_resource(&self, resource: ResourceDef) {
        self.shared.update(ListChanged::Resources, |r| {
            r.resources
                .retain(|x| x.resource.uri != resource.resource.uri);
            r.resources.push(Arc::new(resource));
        });
    }

    /// Tells subscribers that a resource's contents changed.
    ///
    /// See [`ServerHandle`] for an example.
    pub fn notify_resource_updated(&self, uri: impl Into<String>) {
        self.shared
            .publish(ListChanged::ResourceUpdated(uri.into()));
    }

    /// Announces a change without editing anything (for catalogues computed elsewhere).
    ///
    /// See [`ServerHandle`] for an example.
    pub fn notify_changed(&self, change: ListChanged) {
        self.shared.publish(change);
    }

    /// The names of the tools now registered.
    ///
    /// See [`ServerHandle`] for an example.
    pub fn tool_names(&self) -> Vec<String> {
        self.shared
            .registry()
            .tools
            .iter()
            .map(|t| t.tool.name.clone())
            .collect()
    }

    /// Subscribes to catalogue changes.
    ///
    /// See [`ServerHandle`] for an example.
    pub fn subscribe(&self) -> broadcast::Receiver<ListChanged> {
        self.shared.changes.subscribe()
    }
}
