//! A connected [`Client`] as a [`mcp_core::compose::Remote`], and the caller's
//! [`Relay`] as the client's [`Handler`]: what a gateway is made of.
//!
//! ```no_run
//! use std::sync::Arc;
//! use mcp_core::compose::Mount;
//! use mcp_transport::client::{ChildProcess, Client, ClientConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = mcp_core::Server::new(mcp_core::Router::new());
//! let hello = Client::lazy(ChildProcess::new("hello"), ClientConfig::default().watch_changes(true))?;
//! let mounted = Mount::new("hello").prefix("hello").attach(Arc::new(hello), &server.handle());
//! mounted.refresh().await?;
//! assert!(server.handle().tool_names().contains(&"hello.echo".to_string()));
//! # Ok(()) }
//! ```

use mcp_core::compose::{
    BoxFuture as ComposeFuture, Catalog, Relay, Remote, RemoteChange, RemoteError,
};
use mcp_core::jsonrpc::ErrorObject;
use mcp_core::protocol::{JsonObject, LoggingMessageParams, ProgressParams, TaskSupport};
use mcp_core::server::{ListChanged, TASKS_EXTENSION};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc};

use super::{BoxFuture, Client, ClientError, Handler, RequestOptions, ServerAsk, ServerEvent};

impl Handler for Relay {
    fn progress(&self, params: ProgressParams) -> BoxFuture<'_, ()> {
        Box::pin(Relay::progress(self, params))
    }

    fn log(&self, params: LoggingMessageParams) -> BoxFuture<'_, ()> {
        Box::pin(Relay::log(self, params))
    }

    fn task_created(&self, _task: &Value) -> BoxFuture<'_, ()> {
        Box::pin(Relay::task_created(self))
    }

    fn ask(&self, ask: ServerAsk) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        Box::pin(async move { Relay::ask(self, &ask.key, &ask.method, ask.params).await })
    }
}

fn remote_error(e: ClientError) -> RemoteError {
    match e {
        ClientError::Rpc(e) | ClientError::TaskFailed(e) => RemoteError::Rpc(e),
        ClientError::TaskCancelled => {
            RemoteError::Failed("the backend cancelled the task it ran the call as".into())
        }
        e if e.is_unavailable() => RemoteError::Unavailable(e.to_string()),
        e => RemoteError::Failed(e.to_string()),
    }
}

impl Remote for Client {
    fn catalog(&self) -> ComposeFuture<'_, Result<Catalog, RemoteError>> {
        Box::pin(async move {
            let caps = self.server_capabilities().await.map_err(remote_error)?;
            let mut catalog = Catalog::default();
            if caps.tools.is_some() {
                catalog.tools = self.list_tools().await.map_err(remote_error)?;
            }
            if caps.prompts.is_some() {
                catalog.prompts = self.list_prompts().await.map_err(remote_error)?;
            }
            if caps.resources.is_some() {
                catalog.resources = self.list_resources().await.map_err(remote_error)?;
                catalog.templates = self.list_resource_templates().await.map_err(remote_error)?;
            }
            catalog.completions = caps.completions.is_some();
            Ok(catalog)
        })
    }

    fn forward(
        &self,
        method: &str,
        params: JsonObject,
        relay: Relay,
    ) -> ComposeFuture<'_, Result<Value, RemoteError>> {
        let method = method.to_owned();
        Box::pin(async move {
            // The caller's capabilities, except tasks: whether the remote may make a task is
            // the relay's decision (the remote's task is followed here, not by the caller).
            let mut caps = relay.client_capabilities().clone();
            if let Some(ext) = caps.extensions.as_mut() {
                ext.remove(TASKS_EXTENSION);
                if ext.is_empty() {
                    caps.extensions = None;
                }
            }
            let mut opts = RequestOptions::new().capabilities(caps);
            // 2026-07-28 remotes send what the caller wants to see (handshake-era remotes
            // have one level per session; the caller's filter applies anyway).
            opts.log_level = relay.context().log_level();
            if method == "tools/call" {
                if let Some(support) = relay.task_support() {
                    // A handshake-era remote's task talks outside the request (its questions
                    // cannot be told apart on stdio, nor reach us on HTTP): only when it must.
                    let modern = self.era().await.map_err(remote_error)?.is_modern();
                    if modern || support == TaskSupport::Required {
                        opts.as_task = true;
                    }
                }
            }
            self.request(&method, Value::Object(params), &opts, &relay)
                .await
                .map_err(remote_error)
        })
    }

    fn watch(&self) -> mpsc::Receiver<RemoteChange> {
        let (tx, rx) = mpsc::channel(64);
        let mut events = self.events();
        tokio::spawn(async move {
            loop {
                let change = match events.recv().await {
                    Ok(ServerEvent::ToolsChanged) => RemoteChange::List(ListChanged::Tools),
                    Ok(ServerEvent::PromptsChanged) => RemoteChange::List(ListChanged::Prompts),
                    Ok(ServerEvent::ResourcesChanged) => RemoteChange::List(ListChanged::Resources),
                    Ok(ServerEvent::ResourceUpdated(uri)) => RemoteChange::ResourceUpdated(uri),
                    Ok(ServerEvent::Reconnected) => RemoteChange::Reconnected,
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => RemoteChange::Catalog,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if tx.send(change).await.is_err() {
                    return;
                }
            }
        });
        rx
    }

    fn subscribe(&self, uri: &str) -> ComposeFuture<'_, Result<(), RemoteError>> {
        let uri = uri.to_owned();
        Box::pin(async move { self.subscribe_resource(&uri).await.map_err(remote_error) })
    }
}
