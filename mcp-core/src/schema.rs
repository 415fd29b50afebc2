//! JSON Schemas from Rust types.
//!
//! Tool input and output schemas come from here (through `Args<T>` and `Json<T>`); call it
//! directly for hand-written definitions.
//!
//! # Examples
//! ```
//! use mcp_core::{schema::schema_for, ToolDef};
//!
//! #[derive(schemars::JsonSchema)]
//! #[allow(dead_code)]
//! struct Filter { status: Option<String> }
//! async fn list() -> &'static str { "[]" }
//! let def: ToolDef = ToolDef::new("list", list).input_schema(schema_for::<Filter>());
//! assert_eq!(def.tool().input_schema["properties"]["status"]["type"], serde_json::json!(["string", "null"]));
//! ```

use schemars::JsonSchema;

use crate::protocol::JsonObject;

/// The JSON Schema (2020-12) of `T`, as an object.
///
/// ```
/// #[derive(schemars::JsonSchema)]
/// #[allow(dead_code)]
/// struct Point { x: i32, y: i32 }
/// let s = mcp_core::schema::schema_for::<Point>();
/// assert_eq!(s["type"], "object");
/// assert_eq!(s["required"], serde_json::json!(["x", "y"]));
/// ```
pub fn schema_for<T: JsonSchema>() -> JsonObject {
    let settings = schemars::generate::SchemaSettings::draft2020_12();
    let schema = settings.into_generator().into_root_schema_for::<T>();
    match schema.to_value() {
        serde_json::Value::Object(map) => map,
        // `true`/`false` schemas: accept anything, as an object schema.
        _ => {
            let mut m = JsonObject::new();
            m.insert("type".into(), "object".into());
            m
        }
    }
}

/// The schema of a tool that takes no arguments.
///
/// ```
/// assert_eq!(serde_json::Value::Object(mcp_core::schema::empty_object()),
///            serde_json::json!({"type":"object","properties":{}}));
/// ```
pub fn empty_object() -> JsonObject {
    let mut m = JsonObject::new();
    m.insert("type".into(), "object".into());
    m.insert(
        "properties".into(),
        serde_json::Value::Object(JsonObject::new()),
    );
    m
}
