//! Schemas derived from Rust types: for a table of parameter types, the generated `inputSchema`
//! is an object schema that validates against the JSON Schema 2020-12 meta-schema, accepts a
//! good value, and a bad value is refused with an error naming the offending field.

// The test types are only deserialized and described, never read.
#![allow(dead_code)]

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{text, Client};
use mcp_core::extract::Args;
use mcp_core::{tool, Router, ToolDef};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, JsonSchema)]
struct Point {
    /// Horizontal.
    x: f64,
    /// Vertical.
    y: f64,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Color {
    Red,
    Green,
}

#[derive(Deserialize, JsonSchema)]
enum Shape {
    Circle { radius: f64 },
    Square(f64),
    Empty,
}

#[derive(Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Event {
    Click { x: i32, y: i32 },
    Key { code: String },
}

#[derive(Deserialize, JsonSchema)]
struct Meters(f64);

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Page {
    page_size: u32,
    #[serde(default)]
    after_cursor: Option<String>,
    #[serde(rename = "q")]
    query: String,
}

#[derive(Deserialize, JsonSchema)]
struct Tree {
    label: String,
    #[serde(default)]
    children: Vec<Tree>,
}

#[derive(Deserialize, JsonSchema)]
struct Outer {
    inner: Point,
    tags: Vec<String>,
}

#[derive(Deserialize, JsonSchema, mcp_core::ObjectArgs)]
struct Search {
    /// What to look for.
    query: String,
    /// At most this many hits.
    #[serde(default = "ten")]
    limit: u32,
}

fn ten() -> u32 {
    10
}

macro_rules! cases {
    ($($name:ident: $ty:ty;)*) => {
        $(
            /// A schema test case.
            #[tool]
            async fn $name(
                /// The value under test.
                value: $ty,
            ) -> String {
                let _ = value;
                "ok".to_owned()
            }
        )*
    };
}

cases! {
    t_bool: bool;
    t_int: i64;
    t_uint: u8;
    t_float: f64;
    t_string: String;
    t_option: Option<u32>;
    t_vec: Vec<String>;
    t_tuple: (String, u16);
    t_array: [i32; 3];
    t_hashmap: HashMap<String, i64>;
    t_btreemap: BTreeMap<String, Vec<bool>>;
    t_struct: Point;
    t_unit_enum: Color;
    t_data_enum: Shape;
    t_tagged_enum: Event;
    t_newtype: Meters;
    t_renamed: Page;
    t_recursive: Tree;
    t_nested: Outer;
    t_option_struct: Option<Point>;
    t_vec_enum: Vec<Color>;
    t_json: Value;
}

/// Several parameters with serde attributes.
#[tool]
async fn t_params(
    /// Renamed on the wire.
    #[serde(rename = "searchText")]
    search_text: String,
    /// Defaults when missing.
    #[serde(default)]
    verbose: bool,
    /// Optional.
    max: Option<u32>,
    /// Flattened in.
    #[serde(flatten)]
    page: Search,
) -> String {
    format!("{search_text} {verbose} {max:?} {}", page.limit)
}

/// The whole argument list as one struct.
#[tool]
async fn t_args(Args(s): Args<Search>) -> String {
    format!("{} {}", s.query, s.limit)
}

/// A map as the whole argument list.
#[tool]
async fn t_map_args(Args(m): Args<BTreeMap<String, i32>>) -> String {
    m.len().to_string()
}

/// No arguments at all.
#[tool]
async fn t_none() -> String {
    "ok".to_owned()
}

struct Case {
    def: ToolDef,
    good: Value,
    bad: Value,
    /// What the error message must mention.
    field: &'static str,
}

fn case(def: ToolDef, good: Value, bad: Value, field: &'static str) -> Case {
    Case {
        def,
        good,
        bad,
        field,
    }
}

fn cases() -> Vec<Case> {
    let v = |x: Value| json!({ "value": x });
    vec![
        case(t_bool::tool(), v(json!(true)), v(json!("yes")), "value"),
        case(t_int::tool(), v(json!(-3)), v(json!(1.5)), "value"),
        case(t_uint::tool(), v(json!(255)), v(json!(256)), "value"),
        case(t_float::tool(), v(json!(2.5)), v(json!("x")), "value"),
        case(t_string::tool(), v(json!("s")), v(json!(1)), "value"),
        case(t_option::tool(), json!({}), v(json!(-1)), "value"),
        case(
            t_vec::tool(),
            v(json!(["a", "b"])),
            v(json!(["a", 1])),
            "value[1]",
        ),
        case(
            t_tuple::tool(),
            v(json!(["a", 80])),
            v(json!(["a"])),
            "value",
        ),
        case(
            t_array::tool(),
            v(json!([1, 2, 3])),
            v(json!([1, 2])),
            "value",
        ),
        case(
            t_hashmap::tool(),
            v(json!({"a": 1})),
            v(json!({"a": "1"})),
            "value.a",
        ),
        case(
            t_btreemap::tool(),
            v(json!({"a": [true]})),
            v(json!({"a": [1]})),
            "value.a[0]",
        ),
        case(
            t_struct::tool(),
            v(json!({"x": 1, "y": 2})),
            v(json!({"x": 1})),
            "value",
        ),
        case(
            t_unit_enum::tool(),
            v(json!("red")),
            v(json!("blue")),
            "value",
        ),
        case(
            t_data_enum::tool(),
            v(json!({"Circle": {"radius": 1.0}})),
            v(json!({"Circle": {"radius": "big"}})),
            "value.Circle.radius",
        ),
        case(
            t_tagged_enum::tool(),
            v(json!({"kind": "key", "code": "K"})),
            v(json!({"kind": "scroll"})),
            "value.kind",
        ),
        case(t_newtype::tool(), v(json!(3.5)), v(json!("far")), "value"),
        case(
            t_renamed::tool(),
            v(json!({"pageSize": 5, "q": "x"})),
            v(json!({"pageSize": -5, "q": "x"})),
            "value.pageSize",
        ),
        case(
            t_recursive::tool(),
            v(json!({"label": "a", "children": [{"label": "b"}]})),
            v(json!({"label": "a", "children": [{"label": 2}]})),
            "value.children[0].label",
        ),
        case(
            t_nested::tool(),
            v(json!({"inner": {"x": 0, "y": 0}, "tags": []})),
            v(json!({"inner": {"x": 0, "y": "0"}, "tags": []})),
            "value.inner.y",
        ),
        case(
            t_option_struct::tool(),
            v(json!(null)),
            v(json!({"x": 0})),
            "value",
        ),
        case(
            t_vec_enum::tool(),
            v(json!(["green"])),
            v(json!(["green", "teal"])),
            "value[1]",
        ),
        case(
            t_json::tool(),
            v(json!({"any": [1, "thing"]})),
            json!({}),
            "value",
        ),
        case(
            t_params::tool(),
            json!({"searchText": "rust", "query": "q"}),
            json!({"searchText": "rust", "query": "q", "max": "ten"}),
            "max",
        ),
        case(
            t_args::tool(),
            json!({"query": "q"}),
            json!({"query": "q", "limit": -1}),
            "limit",
        ),
        case(
            t_map_args::tool(),
            json!({"a": 1}),
            json!({"a": "one"}),
            "a",
        ),
        case(t_none::tool(), json!({}), json!(null), ""),
    ]
}

#[test]
fn every_schema_is_a_valid_2020_12_object_schema() {
    for c in cases() {
        let tool = c.def.tool();
        let schema = Value::Object(tool.input_schema.clone());
        if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
            panic!(
                "{}: the schema is not valid 2020-12: {e}\n{schema:#}",
                tool.name
            );
        }
        assert_eq!(schema["type"], "object", "{}: {schema}", tool.name);
        let validator =
            jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("{}: {e}", tool.name));
        assert!(
            validator.is_valid(&c.good),
            "{}: the schema refuses the good value {}: {schema:#}",
            tool.name,
            c.good
        );
        if !c.field.is_empty() && tool.name != "t_option_struct" {
            assert!(
                !validator.is_valid(&c.bad),
                "{}: the schema accepts the bad value {}: {schema:#}",
                tool.name,
                c.bad
            );
        }
    }
}

#[test]
fn descriptions_come_from_doc_comments() {
    let t = t_params::tool::<()>();
    let s = Value::Object(t.tool().input_schema.clone());
    assert_eq!(
        s["properties"]["searchText"]["description"],
        "Renamed on the wire."
    );
    assert_eq!(s["properties"]["query"]["description"], "What to look for.");
    assert_eq!(s["properties"]["max"]["description"], "Optional.");
    assert_eq!(s["required"], json!(["searchText", "query"]));
    assert_eq!(
        t.tool().description.as_deref(),
        Some("Several parameters with serde attributes.")
    );
    let p = t_struct::tool::<()>();
    let s = Value::Object(p.tool().input_schema.clone());
    assert_eq!(
        s["properties"]["value"]["description"],
        "The value under test."
    );
}

#[tokio::test]
async fn good_values_are_accepted_and_bad_ones_name_the_field() {
    for c in cases() {
        let name = c.def.tool().name.clone();
        let mut client = Client::new(Router::new().tool(c.def)).await;
        let ok = client.call(&name, c.good.clone()).await;
        assert_ne!(ok["isError"], true, "{name}: {} was refused: {ok}", c.good);
        if c.field.is_empty() {
            continue;
        }
        let bad = client.call(&name, c.bad.clone()).await;
        assert_eq!(
            bad["isError"], true,
            "{name}: {} was accepted: {bad}",
            c.bad
        );
        let message = text(&bad);
        assert!(
            message.contains(&format!("`{}`", c.field))
                || message.contains(&format!("field `{}`", c.field)),
            "{name}: the error for {} does not name `{}`: {message}",
            c.bad,
            c.field
        );
    }
}
