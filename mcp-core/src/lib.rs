#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]
#![doc(test(attr(deny(warnings))))]

pub mod compose;
pub mod context;
pub mod era;
pub mod extract;
pub mod handler;
pub mod identity;
pub mod jsonrpc;
pub mod layers;
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

#[cfg(feature = "macros")]
pub use mcp_macros::{prompt, resource, router, server, tool, ObjectArgs};

/// What the macros' generated code needs. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use std::sync::Arc;

    use schemars::JsonSchema;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    use crate::extract::{FromRequest, Rejection, RequestParts};
    use crate::handler::ErasedHandler;
    use crate::protocol::{JsonObject, Resource};
    use crate::router::{ReadResourceFn, ResourceDef, Router, TemplateDef};

    /// Types that deserialize from, and are described as, a JSON object: the only types that can
    /// be a whole argument list.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not known to be a JSON object type, so it cannot be a whole argument list",
        label = "not a JSON object type",
        note = "tool arguments are always a JSON object: list the fields as parameters of the function, or use a struct with named fields and `#[derive(mcp_core::ObjectArgs)]`"
    )]
    pub trait ObjectArgs {}

    impl<V> ObjectArgs for std::collections::BTreeMap<String, V> {}
    impl<V, H> ObjectArgs for std::collections::HashMap<String, V, H> {}
    impl ObjectArgs for serde_json::Map<String, Value> {}
    impl<T: ObjectArgs + ?Sized> ObjectArgs for Box<T> {}

    /// A static assertion, used as `let _ = assert_object_args::<T>;`.
    pub fn assert_object_args<T: ObjectArgs + ?Sized>() {}

    /// Adds a `#[tool]`, `#[prompt]` or `#[resource]` function (and its completions) to a
    /// router; what `router![…]` calls.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a `#[tool]`, `#[prompt]` or `#[resource]` function",
        label = "not registrable",
        note = "`router![…]` takes the names of functions annotated with `#[tool]`, `#[prompt]` or `#[resource]`"
    )]
    pub trait Register<S> {
        /// Adds the item.
        fn register(router: Router<S>) -> Router<S>;
    }

    /// The generated arguments of a `#[tool]` (a struct with a field per parameter, so always
    /// an object): deserialized as declared.
    #[derive(Debug)]
    pub struct Arguments<T>(pub T);

    impl<S, T: DeserializeOwned + JsonSchema> FromRequest<S> for Arguments<T> {
        fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
            let value = Value::Object(std::mem::take(&mut parts.arguments));
            crate::extract::deserialize_arguments(value).map(Arguments)
        }

        fn input_schema() -> Option<JsonObject> {
            Some(object_schema::<T>())
        }
    }

    /// The generated arguments of a `#[prompt]` or resource template. Prompt arguments and
    /// template variables arrive as strings; a string given for a number, boolean, array or
    /// object parameter is parsed first.
    #[derive(Debug)]
    pub struct StringArguments<T>(pub T);

    impl<S, T: DeserializeOwned + JsonSchema> FromRequest<S> for StringArguments<T> {
        fn from_request(parts: &mut RequestParts, _state: &S) -> Result<Self, Rejection> {
            let mut args = std::mem::take(&mut parts.arguments);
            coerce_strings(&mut args, &object_schema::<T>());
            crate::extract::deserialize_arguments(Value::Object(args)).map(StringArguments)
        }

        fn input_schema() -> Option<JsonObject> {
            Some(object_schema::<T>())
        }
    }

    /// The schema of a generated arguments struct, without its internal type name as title.
    fn object_schema<T: JsonSchema>() -> JsonObject {
        let mut schema = crate::schema::schema_for::<T>();
        schema.remove("title");
        schema
    }

    /// Parses string values whose property schema does not accept strings.
    fn coerce_strings(args: &mut JsonObject, schema: &JsonObject) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (name, value) in args.iter_mut() {
            let Value::String(text) = value else { continue };
            let Some(prop) = props.get(name).and_then(Value::as_object) else {
                continue;
            };
            let types: Vec<&str> = match prop.get("type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ => continue,
            };
            if types.is_empty() || types.contains(&"string") {
                continue;
            }
            if let Ok(parsed) = serde_json::from_str::<Value>(text.trim()) {
                if !parsed.is_string() {
                    *value = parsed;
                }
            }
        }
    }

    /// Sets a template's title (`TemplateDef` has no builder method for it yet).
    pub fn template_title<S>(mut def: TemplateDef<S>, title: &str) -> TemplateDef<S> {
        def.template.title = Some(title.to_owned());
        def
    }

    /// Adds a template and, for `list = …`, its listed instances as resources served by the
    /// template's handler.
    pub fn register_template<S: Send + Sync + 'static>(
        router: Router<S>,
        def: TemplateDef<S>,
        instances: Option<Vec<Resource>>,
    ) -> Router<S> {
        let mut router = router;
        for resource in instances.unwrap_or_default() {
            let Some(vars) = def.matcher.matches(&resource.uri) else {
                tracing::warn!(
                    uri = %resource.uri,
                    template = %def.template.uri_template,
                    "a listed resource does not match its template; it is not listed"
                );
                continue;
            };
            let handler: ErasedHandler<S, ReadResourceFn> = def.handler.clone();
            let handler: ErasedHandler<S, ReadResourceFn> =
                Arc::new(move |mut parts: RequestParts, state: S| {
                    parts.arguments = vars.clone();
                    handler(parts, state)
                });
            let mut resource = resource;
            if resource.mime_type.is_none() {
                resource.mime_type.clone_from(&def.template.mime_type);
            }
            router = router.resource(ResourceDef { resource, handler });
        }
        router.resource_template(def)
    }
}
