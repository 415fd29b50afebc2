#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]
#![doc(test(attr(deny(warnings))))]

pub mod context;
pub mod era;
pub mod extract;
pub mod handler;
pub mod jsonrpc;
pub mod protocol;
pub mod response;
pub mod router;
pub mod schema;
pub mod server;
pub mod template;

pub use context::Context;
pub use extract::{Args, State};
pub use response::{Json, ToolError};
pub use router::{CompletionDef, PromptDef, ResourceDef, Router, TemplateDef, ToolDef};
pub use server::{Connection, Server, ServerHandle};

/// `serverInfo` for the crate this macro is called in: its Cargo package name and version.
///
/// ```
/// let info = mcp_core::crate_info!();
/// assert_eq!(info.name, env!("CARGO_PKG_NAME"));
/// ```
#[macro_export]
macro_rules! crate_info {
    () => {
        $crate::protocol::Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
    };
}

#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
    pub use serde_json;
}
