//! Which differences between two schema snapshots break clients, and which do not.
//!
//! [`classify`] compares two snapshots as written by [`snapshot`](crate::snapshot()) (or any
//! JSON object with `tools`, `prompts`, `resources` and `resourceTemplates` arrays, such as a
//! saved `tools/list` result) and reports each change with a verdict. The rule is the one of
//! any API: a server may accept **more** and promise **less specific** things only where
//! clients cannot tell.
//!
//! - An input schema (what clients send) may widen but not narrow: a removed tool or argument,
//!   a new required argument, an optional argument made required, a narrower type (`number` →
//!   `integer`), a removed enum value, a tighter bound or a closed object are **breaking**; a
//!   new tool, a new optional argument, a wider type or a new enum value are **compatible**.
//! - An output schema (what clients read) is the other way round: a removed output property,
//!   one that may now be absent, a wider type or a new enum value are **breaking**; a new
//!   output property or a narrower type are **compatible**. Removing the output schema is
//!   breaking, adding one compatible.
//! - Prompts follow the input rules for their arguments; removing a prompt, resource or
//!   resource template, or changing a resource's `mimeType`, is breaking.
//! - Descriptions, titles, defaults and annotations are reported as compatible. Schema
//!   keywords this module does not understand are reported as breaking when they change, so a
//!   human looks at them.
//!
//! `$ref`s into the same schema (`#/$defs/…`) are followed, so renaming a Rust type alone is no
//! change.
//!
//! ```
//! use mcp_testing::schema_diff::{classify, ChangeKind};
//! use serde_json::json;
//!
//! let old = json!({"tools": [{"name": "search", "inputSchema": {"type": "object",
//!     "properties": {"query": {"type": "string"}}, "required": ["query"]}}]});
//! let new = json!({"tools": [{"name": "search", "inputSchema": {"type": "object",
//!     "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
//!     "required": ["query", "limit"]}}]});
//!
//! let changes = classify(&old, &new);
//! assert_eq!(changes.len(), 1);
//! assert_eq!(changes[0].kind, ChangeKind::Breaking);
//! assert_eq!(changes[0].path, "tools/search/inputSchema/properties/limit");
//! assert_eq!(changes[0].message, "new required argument");
//! ```

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// Whether a change breaks existing clients.
///
/// See the [module example](self) for an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Existing clients keep working.
    Compatible,
    /// Some existing client may fail: a removed tool, a new required argument, ….
    Breaking,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ChangeKind::Compatible => "compatible",
            ChangeKind::Breaking => "breaking",
        })
    }
}

/// One difference between two snapshots.
///
/// ```
/// use mcp_testing::schema_diff::{Change, ChangeKind};
/// let c = Change::new(ChangeKind::Breaking, "tools/search", "the tool was removed");
/// assert_eq!(c.to_string(), "breaking: tools/search: the tool was removed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Change {
    /// Breaking or compatible.
    pub kind: ChangeKind,
    /// Where: `tools/<name>/inputSchema/properties/<argument>`, `prompts/<name>/arguments/<argument>`,
    /// `resources/<uri>`, ….
    pub path: String,
    /// What changed, in words.
    pub message: String,
}

impl Change {
    /// A change.
    ///
    /// See [`Change`] for an example.
    pub fn new(kind: ChangeKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Change {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }

    /// Whether it breaks existing clients.
    ///
    /// # Examples
    /// ```
    /// use mcp_testing::schema_diff::classify;
    /// use serde_json::json;
    ///
    /// let old = json!({"tools": [{"name": "a", "inputSchema": {"type": "object"}}]});
    /// let new = json!({"tools": [
    ///     {"name": "a", "inputSchema": {"type": "object"}},
    ///     {"name": "b", "inputSchema": {"type": "object"}},
    /// ]});
    /// let changes = classify(&old, &new);
    /// assert_eq!(changes.len(), 1);
    /// assert!(!changes[0].is_breaking(), "a new tool is compatible");
    /// assert!(classify(&new, &old)[0].is_breaking(), "a removed tool is not");
    /// ```
    pub fn is_breaking(&self) -> bool {
        self.kind == ChangeKind::Breaking
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.kind, self.path, self.message)
    }
}

/// Every difference between two snapshots that matters to clients, in a stable order (by
/// catalogue, then name, then place in the schema). An empty list means no change.
///
/// See the [module example](self) for an example.
pub fn classify(old: &Value, new: &Value) -> Vec<Change> {
    let mut d = Differ::default();
    d.catalogue(old, new, "tools", "name", Differ::tool);
    d.catalogue(old, new, "prompts", "name", Differ::prompt);
    d.catalogue(old, new, "resources", "uri", Differ::resource);
    d.catalogue(
        old,
        new,
        "resourceTemplates",
        "uriTemplate",
        Differ::resource,
    );
    d.changes
}

/// Whether any of `changes` is breaking.
///
/// ```
/// use mcp_testing::schema_diff::{is_breaking, Change, ChangeKind};
/// assert!(!is_breaking(&[Change::new(ChangeKind::Compatible, "tools/x", "new tool")]));
/// ```
pub fn is_breaking(changes: &[Change]) -> bool {
    changes.iter().any(Change::is_breaking)
}

/// Which way data flows through a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// Clients send it (input schemas, prompt arguments): narrowing breaks.
    Input,
    /// Clients read it (output schemas): widening breaks.
    Output,
}

/// Keywords compared one by one below, or deliberately ignored.
const HANDLED: &[&str] = &[
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "oneOf",
    "allOf",
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "pattern",
    "format",
    "uniqueItems",
    "default",
    "title",
    "description",
    "examples",
    "$comment",
    "deprecated",
    "$schema",
    "$id",
    "$anchor",
    "$defs",
    "definitions",
    "$ref",
];

/// Lower bounds: a larger value accepts less.
const LOWER: &[&str] = &[
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
];

/// Upper bounds: a smaller value accepts less.
const UPPER: &[&str] = &[
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
];

/// Every JSON type, for a schema without `type`.
const ALL_TYPES: &[&str] = &[
    "array", "boolean", "integer", "null", "number", "object", "string",
];

/// How deep schemas are compared (recursive `$ref`s stop earlier).
const MAX_DEPTH: usize = 64;

/// One schema comparison: the two roots `$ref`s resolve against.
#[derive(Clone, Copy)]
struct Roots<'a> {
    old: &'a Value,
    new: &'a Value,
    dir: Dir,
}

#[derive(Default)]
struct Differ {
    changes: Vec<Change>,
    /// `$ref` pairs already compared, so recursive schemas end.
    refs: HashSet<(String, String)>,
}

fn show(v: Option<&Value>) -> String {
    v.map_or_else(|| "unset".to_owned(), Value::to_string)
}

/// The items of one catalogue, by their key.
fn items<'a>(snapshot: &'a Value, field: &str, key: &str) -> BTreeMap<String, &'a Value> {
    snapshot
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| Some((item.get(key)?.as_str()?.to_owned(), item)))
        .collect()
}

/// Follows local `$ref`s (`#/…`) to what they point at, returning the last reference followed.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> (&'a Value, Option<&'a str>) {
    let mut current = schema;
    let mut via = None;
    for _ in 0..MAX_DEPTH {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(target) = reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer))
        else {
            break;
        };
        via = Some(reference);
        current = target;
    }
    (current, via)
}

/// The types a schema allows; `None` when it does not say.
fn types(schema: &Value) -> Option<BTreeSet<String>> {
    match schema.get("type")? {
        Value::String(t) => Some(BTreeSet::from([t.clone()])),
        Value::Array(ts) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

fn covers(set: &Option<BTreeSet<String>>, t: &str) -> bool {
    match set {
        None => true,
        Some(s) => s.contains(t) || (t == "integer" && s.contains("number")),
    }
}

fn expand(set: &Option<BTreeSet<String>>) -> BTreeSet<String> {
    match set {
        Some(s) => s.clone(),
        None => ALL_TYPES.iter().map(|t| (*t).to_owned()).collect(),
    }
}

fn describe_types(set: &Option<BTreeSet<String>>) -> String {
    match set {
        None => "any".to_owned(),
        Some(s) => s.iter().cloned().collect::<Vec<_>>().join(" or "),
    }
}

/// The values an `enum` (or `const`) allows.
fn enum_values(schema: &Value) -> Option<Vec<&Value>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return Some(values.iter().collect());
    }
    schema.get("const").map(|c| vec![c])
}

fn required(schema: &Value) -> BTreeSet<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn properties(schema: &Value) -> BTreeMap<&str, &Value> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v))
        .collect()
}

impl Differ {
    fn push(&mut self, kind: ChangeKind, path: &str, message: impl Into<String>) {
        self.changes.push(Change::new(kind, path, message));
    }

    /// The server now accepts (input) or promises (output) less.
    fn narrowed(&mut self, dir: Dir, path: &str, message: impl Into<String>) {
        let kind = match dir {
            Dir::Input => ChangeKind::Breaking,
            Dir::Output => ChangeKind::Compatible,
        };
        self.push(kind, path, message);
    }

    /// The server now accepts (input) or may send (output) more.
    fn widened(&mut self, dir: Dir, path: &str, message: impl Into<String>) {
        let kind = match dir {
            Dir::Input => ChangeKind::Compatible,
            Dir::Output => ChangeKind::Breaking,
        };
        self.push(kind, path, message);
    }

    fn catalogue(
        &mut self,
        old: &Value,
        new: &Value,
        field: &str,
        key: &str,
        compare: fn(&mut Self, &str, &Value, &Value),
    ) {
        let noun = match field {
            "tools" => "tool",
            "prompts" => "prompt",
            "resources" => "resource",
            _ => "resource template",
        };
        let old = items(old, field, key);
        let new = items(new, field, key);
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for name in names {
            let path = format!("{field}/{name}");
            match (old.get(name), new.get(name)) {
                (Some(_), None) => self.push(
                    ChangeKind::Breaking,
                    &path,
                    format!("the {noun} was removed"),
                ),
                (None, Some(_)) => self.push(ChangeKind::Compatible, &path, format!("new {noun}")),
                (Some(o), Some(n)) => compare(self, &path, o, n),
                (None, None) => {}
            }
        }
    }

    /// Reports changes of the members not in `handled` as compatible.
    fn other_members(&mut self, path: &str, old: &Value, new: &Value, handled: &[&str]) {
        let keys: BTreeSet<&String> = old
            .as_object()
            .into_iter()
            .chain(new.as_object())
            .flat_map(|m| m.keys())
            .filter(|k| !handled.contains(&k.as_str()))
            .collect();
        for key in keys {
            let (o, n) = (old.get(key), new.get(key));
            if o != n {
                self.push(ChangeKind::Compatible, path, format!("{key} changed"));
            }
        }
    }

    fn tool(&mut self, path: &str, old: &Value, new: &Value) {
        // `$ref` pairs are per schema: another tool's `#/$defs/X` is another schema.
        self.refs.clear();
        let empty = Value::Object(Default::default());
        let old_in = old.get("inputSchema").unwrap_or(&empty);
        let new_in = new.get("inputSchema").unwrap_or(&empty);
        self.schema(
            &format!("{path}/inputSchema"),
            old_in,
            new_in,
            Roots {
                old: old_in,
                new: new_in,
                dir: Dir::Input,
            },
            0,
        );
        let out_path = format!("{path}/outputSchema");
        match (old.get("outputSchema"), new.get("outputSchema")) {
            (Some(_), None) => self.push(
                ChangeKind::Breaking,
                &out_path,
                "the output schema was removed: structuredContent is no longer promised",
            ),
            (None, Some(_)) => self.push(ChangeKind::Compatible, &out_path, "new output schema"),
            (Some(o), Some(n)) => {
                self.refs.clear();
                self.schema(
                    &out_path,
                    o,
                    n,
                    Roots {
                        old: o,
                        new: n,
                        dir: Dir::Output,
                    },
                    0,
                )
            }
            (None, None) => {}
        }
        self.annotations(path, old.get("annotations"), new.get("annotations"));
        self.task_support(path, old, new);
        self.other_members(
            path,
            old,
            new,
            &[
                "name",
                "inputSchema",
                "outputSchema",
                "annotations",
                "execution",
            ],
        );
    }

    fn annotations(&mut self, path: &str, old: Option<&Value>, new: Option<&Value>) {
        let path = format!("{path}/annotations");
        let empty = Value::Object(Default::default());
        let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        let keys: BTreeSet<&String> = old
            .as_object()
            .into_iter()
            .chain(new.as_object())
            .flat_map(|m| m.keys())
            .collect();
        for key in keys {
            let (o, n) = (old.get(key), new.get(key));
            if o != n {
                self.push(
                    ChangeKind::Compatible,
                    &path,
                    format!("{key} changed from {} to {}", show(o), show(n)),
                );
            }
        }
    }

    /// `execution.taskSupport`: whether plain calls and task calls are still accepted.
    fn task_support(&mut self, path: &str, old: &Value, new: &Value) {
        let support = |tool: &Value| {
            tool.pointer("/execution/taskSupport")
                .and_then(Value::as_str)
                .unwrap_or("forbidden")
                .to_owned()
        };
        let (o, n) = (support(old), support(new));
        if o == n {
            return;
        }
        let path = format!("{path}/execution/taskSupport");
        let plain = |s: &str| s != "required";
        let task = |s: &str| s != "forbidden";
        let message = format!("taskSupport changed from {o} to {n}");
        if (plain(&o) && !plain(&n)) || (task(&o) && !task(&n)) {
            let why = if plain(&o) && !plain(&n) {
                "calls without a task are now refused"
            } else {
                "task-augmented calls are now refused"
            };
            self.push(ChangeKind::Breaking, &path, format!("{message}: {why}"));
        } else {
            self.push(ChangeKind::Compatible, &path, message);
        }
    }

    fn prompt(&mut self, path: &str, old: &Value, new: &Value) {
        let args = |p: &Value| -> BTreeMap<String, Value> {
            p.get("arguments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| Some((a.get("name")?.as_str()?.to_owned(), a.clone())))
                .collect()
        };
        let required = |a: &Value| a.get("required").and_then(Value::as_bool) == Some(true);
        let (old_args, new_args) = (args(old), args(new));
        let names: BTreeSet<&String> = old_args.keys().chain(new_args.keys()).collect();
        for name in names {
            let arg_path = format!("{path}/arguments/{name}");
            match (old_args.get(name), new_args.get(name)) {
                (Some(_), None) => {
                    self.push(ChangeKind::Breaking, &arg_path, "the argument was removed")
                }
                (None, Some(n)) if required(n) => {
                    self.push(ChangeKind::Breaking, &arg_path, "new required argument")
                }
                (None, Some(_)) => {
                    self.push(ChangeKind::Compatible, &arg_path, "new optional argument")
                }
                (Some(o), Some(n)) => {
                    match (required(o), required(n)) {
                        (false, true) => self.push(
                            ChangeKind::Breaking,
                            &arg_path,
                            "the argument is now required",
                        ),
                        (true, false) => self.push(
                            ChangeKind::Compatible,
                            &arg_path,
                            "the argument is now optional",
                        ),
                        _ => {}
                    }
                    self.other_members(&arg_path, o, n, &["name", "required"]);
                }
                (None, None) => {}
            }
        }
        self.other_members(path, old, new, &["name", "arguments"]);
    }

    fn resource(&mut self, path: &str, old: &Value, new: &Value) {
        let (o, n) = (old.get("mimeType"), new.get("mimeType"));
        if o != n {
            self.push(
                ChangeKind::Breaking,
                path,
                format!("mimeType changed from {} to {}", show(o), show(n)),
            );
        }
        self.other_members(path, old, new, &["uri", "uriTemplate", "mimeType"]);
    }

    /// Compares two schemas at `path`.
    fn schema(&mut self, path: &str, old: &Value, new: &Value, roots: Roots<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let (old, old_ref) = resolve(roots.old, old);
        let (new, new_ref) = resolve(roots.new, new);
        if let (Some(o), Some(n)) = (old_ref, new_ref) {
            if !self.refs.insert((o.to_owned(), n.to_owned())) {
                return;
            }
        }
        if old == new {
            return;
        }
        let dir = roots.dir;
        // Boolean schemas: `true` accepts anything, `false` nothing.
        if old.is_boolean() || new.is_boolean() {
            let accepts_all =
                |s: &Value| s == &Value::Bool(true) || s.as_object().is_some_and(|m| m.is_empty());
            match (old, new) {
                (_, Value::Bool(false)) => {
                    self.narrowed(dir, path, "the schema now accepts nothing")
                }
                (Value::Bool(false), _) => {
                    self.widened(dir, path, "the schema no longer rejects everything")
                }
                (o, n) if accepts_all(o) && accepts_all(n) => {}
                (o, _) if accepts_all(o) => {
                    self.narrowed(dir, path, "the schema became restricted")
                }
                _ => self.widened(dir, path, "the schema now accepts anything"),
            }
            return;
        }
        self.types(path, old, new, dir);
        self.enums(path, old, new, dir);
        self.bounds(path, old, new, dir);
        self.object(path, old, new, roots, depth);
        self.alternatives(path, old, new, roots, depth);
        if old.get("items").is_some() || new.get("items").is_some() {
            let any = Value::Bool(true);
            self.schema(
                &format!("{path}/items"),
                old.get("items").unwrap_or(&any),
                new.get("items").unwrap_or(&any),
                roots,
                depth + 1,
            );
        }
        for key in ["default", "title", "description", "examples", "deprecated"] {
            let (o, n) = (old.get(key), new.get(key));
            if o != n {
                let message = if key == "default" {
                    format!("default changed from {} to {}", show(o), show(n))
                } else {
                    format!("{key} changed")
                };
                self.push(ChangeKind::Compatible, path, message);
            }
        }
        let unknown: BTreeSet<&String> = old
            .as_object()
            .into_iter()
            .chain(new.as_object())
            .flat_map(|m| m.keys())
            .filter(|k| !HANDLED.contains(&k.as_str()))
            .collect();
        for key in unknown {
            if old.get(key) != new.get(key) {
                self.push(
                    ChangeKind::Breaking,
                    path,
                    format!("{key} changed from {} to {} (not analysed, so treated as breaking; review it)", show(old.get(key)), show(new.get(key))),
                );
            }
        }
    }

    fn types(&mut self, path: &str, old: &Value, new: &Value, dir: Dir) {
        let (o, n) = (types(old), types(new));
        if o == n {
            return;
        }
        let lost = expand(&o).into_iter().any(|t| !covers(&n, &t));
        let gained = expand(&n).into_iter().any(|t| !covers(&o, &t));
        let message = |verb: &str| {
            format!(
                "type {verb} from {} to {}",
                describe_types(&o),
                describe_types(&n)
            )
        };
        match (lost, gained) {
            (true, true) => self.push(ChangeKind::Breaking, path, message("changed")),
            (true, false) => self.narrowed(dir, path, message("narrowed")),
            (false, true) => self.widened(dir, path, message("widened")),
            (false, false) => {}
        }
    }

    fn enums(&mut self, path: &str, old: &Value, new: &Value, dir: Dir) {
        match (enum_values(old), enum_values(new)) {
            (Some(o), Some(n)) => {
                for value in &o {
                    if !n.contains(value) {
                        self.narrowed(dir, path, format!("enum value {value} removed"));
                    }
                }
                for value in &n {
                    if !o.contains(value) {
                        self.widened(dir, path, format!("enum value {value} added"));
                    }
                }
            }
            (None, Some(n)) => self.narrowed(
                dir,
                path,
                format!(
                    "now restricted to the values {}",
                    Value::from_iter(n.into_iter().cloned())
                ),
            ),
            (Some(o), None) => self.widened(
                dir,
                path,
                format!(
                    "no longer restricted to the values {}",
                    Value::from_iter(o.into_iter().cloned())
                ),
            ),
            (None, None) => {}
        }
    }

    fn bounds(&mut self, path: &str, old: &Value, new: &Value, dir: Dir) {
        for (keys, lower) in [(LOWER, true), (UPPER, false)] {
            for key in keys {
                let (o, n) = (
                    old.get(*key).and_then(Value::as_f64),
                    new.get(*key).and_then(Value::as_f64),
                );
                match (o, n) {
                    (None, Some(v)) => self.narrowed(dir, path, format!("{key} {v} added")),
                    (Some(_), None) => self.widened(dir, path, format!("{key} removed")),
                    (Some(a), Some(b)) if a != b => {
                        let tighter = if lower { b > a } else { b < a };
                        let verb = if b > a { "raised" } else { "lowered" };
                        let message = format!("{key} {verb} from {a} to {b}");
                        if tighter {
                            self.narrowed(dir, path, message);
                        } else {
                            self.widened(dir, path, message);
                        }
                    }
                    _ => {}
                }
            }
        }
        for key in ["pattern", "format"] {
            match (old.get(key), new.get(key)) {
                (None, Some(v)) => self.narrowed(dir, path, format!("{key} {v} added")),
                (Some(v), None) => self.widened(dir, path, format!("{key} {v} removed")),
                (Some(a), Some(b)) if a != b => self.push(
                    ChangeKind::Breaking,
                    path,
                    format!("{key} changed from {a} to {b}"),
                ),
                _ => {}
            }
        }
        let unique = |s: &Value| s.get("uniqueItems").and_then(Value::as_bool) == Some(true);
        match (unique(old), unique(new)) {
            (false, true) => self.narrowed(dir, path, "items must now be unique"),
            (true, false) => self.widened(dir, path, "items no longer need to be unique"),
            _ => {}
        }
    }

    fn object(&mut self, path: &str, old: &Value, new: &Value, roots: Roots<'_>, depth: usize) {
        let dir = roots.dir;
        let (old_props, new_props) = (properties(old), properties(new));
        let (old_req, new_req) = (required(old), required(new));
        // The top level of an input schema holds the tool's arguments.
        let noun = match (dir, depth) {
            (Dir::Input, 0) => "argument",
            (Dir::Input, _) => "property",
            (Dir::Output, _) => "output property",
        };
        let names: BTreeSet<&str> = old_props.keys().chain(new_props.keys()).copied().collect();
        for name in names {
            let prop_path = format!("{path}/properties/{name}");
            match (old_props.get(name), new_props.get(name)) {
                (Some(_), None) => self.push(
                    ChangeKind::Breaking,
                    &prop_path,
                    format!("the {noun} was removed"),
                ),
                (None, Some(_)) if dir == Dir::Input && new_req.contains(name) => self.push(
                    ChangeKind::Breaking,
                    &prop_path,
                    format!("new required {noun}"),
                ),
                (None, Some(_)) if dir == Dir::Input => self.push(
                    ChangeKind::Compatible,
                    &prop_path,
                    format!("new optional {noun}"),
                ),
                (None, Some(_)) => {
                    self.push(ChangeKind::Compatible, &prop_path, format!("new {noun}"))
                }
                (Some(o), Some(n)) => {
                    self.schema(&prop_path, o, n, roots, depth + 1);
                    match (old_req.contains(name), new_req.contains(name), dir) {
                        (false, true, Dir::Input) => self.push(
                            ChangeKind::Breaking,
                            &prop_path,
                            format!("the {noun} is now required"),
                        ),
                        (true, false, Dir::Input) => self.push(
                            ChangeKind::Compatible,
                            &prop_path,
                            format!("the {noun} is now optional"),
                        ),
                        (true, false, Dir::Output) => self.push(
                            ChangeKind::Breaking,
                            &prop_path,
                            format!("the {noun} may now be absent"),
                        ),
                        (false, true, Dir::Output) => self.push(
                            ChangeKind::Compatible,
                            &prop_path,
                            format!("the {noun} is now always present"),
                        ),
                        _ => {}
                    }
                }
                (None, None) => {}
            }
        }
        // Required names that no `properties` entry declares.
        for name in new_req.difference(&old_req) {
            if !old_props.contains_key(name) && !new_props.contains_key(name) {
                self.narrowed(dir, path, format!("{name:?} is now required"));
            }
        }
        for name in old_req.difference(&new_req) {
            if !old_props.contains_key(name) && !new_props.contains_key(name) {
                self.widened(dir, path, format!("{name:?} is no longer required"));
            }
        }
        let (o, n) = (
            old.get("additionalProperties"),
            new.get("additionalProperties"),
        );
        let closed = |v: Option<&Value>| v == Some(&Value::Bool(false));
        match (closed(o), closed(n)) {
            (false, true) => {
                self.narrowed(dir, path, "additional properties are no longer accepted")
            }
            (true, false) => self.widened(dir, path, "additional properties are now accepted"),
            _ => {
                if let (Some(o @ Value::Object(_)), Some(n @ Value::Object(_))) = (o, n) {
                    self.schema(
                        &format!("{path}/additionalProperties"),
                        o,
                        n,
                        roots,
                        depth + 1,
                    );
                }
            }
        }
    }

    /// `anyOf`, `oneOf`, `allOf`: alternatives present in both are matched whole; the rest are
    /// compared pairwise when as many were removed as added, else reported as removed/added.
    fn alternatives(
        &mut self,
        path: &str,
        old: &Value,
        new: &Value,
        roots: Roots<'_>,
        depth: usize,
    ) {
        for key in ["anyOf", "oneOf", "allOf"] {
            let list = |s: &Value| -> Vec<Value> {
                s.get(key)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            let (o, n) = (list(old), list(new));
            if o == n {
                continue;
            }
            let only_old: Vec<&Value> = o.iter().filter(|a| !n.contains(a)).collect();
            let only_new: Vec<&Value> = n.iter().filter(|a| !o.contains(a)).collect();
            if only_old.len() == only_new.len() {
                for (i, (a, b)) in only_old.into_iter().zip(only_new).enumerate() {
                    let at = o.iter().position(|x| x == a).unwrap_or(i);
                    self.schema(&format!("{path}/{key}/{at}"), a, b, roots, depth + 1);
                }
                continue;
            }
            // More `allOf` parts accept less; more `anyOf`/`oneOf` alternatives accept more.
            let more_is_wider = key != "allOf";
            for _ in &only_old {
                let message = format!("a part of {key} was removed");
                if more_is_wider {
                    self.narrowed(roots.dir, path, message);
                } else {
                    self.widened(roots.dir, path, message);
                }
            }
            for _ in &only_new {
                let message = format!("a part of {key} was added");
                if more_is_wider {
                    self.widened(roots.dir, path, message);
                } else {
                    self.narrowed(roots.dir, path, message);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A snapshot with one tool `t` with this input schema.
    fn input(schema: Value) -> Value {
        json!({"tools": [{"name": "t", "description": "d", "inputSchema": schema}]})
    }

    /// A snapshot with one tool `t` with this output schema.
    fn output(schema: Value) -> Value {
        json!({"tools": [{"name": "t", "description": "d",
            "inputSchema": {"type": "object"}, "outputSchema": schema}]})
    }

    fn obj(props: Value, required: &[&str]) -> Value {
        json!({"type": "object", "properties": props, "required": required})
    }

    fn prompt(args: Value) -> Value {
        json!({"prompts": [{"name": "p", "arguments": args}]})
    }

    /// The worst change, or `None` when nothing changed.
    fn verdict(old: &Value, new: &Value) -> Option<ChangeKind> {
        classify(old, new).iter().map(|c| c.kind).max()
    }

    #[test]
    fn table() {
        use ChangeKind::{Breaking, Compatible};
        let s = json!({"type": "string"});
        let i = json!({"type": "integer"});
        let n = json!({"type": "number"});
        let two_tools = json!({"tools": [
            {"name": "t", "description": "d", "inputSchema": {"type": "object"}},
            {"name": "u", "inputSchema": {"type": "object"}}]});
        let one_tool = input(json!({"type": "object"}));
        let cases: Vec<(&str, Value, Value, Option<ChangeKind>)> = vec![
            ("no change", one_tool.clone(), one_tool.clone(), None),
            (
                "tool removed",
                two_tools.clone(),
                one_tool.clone(),
                Some(Breaking),
            ),
            (
                "tool added",
                one_tool.clone(),
                two_tools.clone(),
                Some(Compatible),
            ),
            (
                "key order and tool order do not matter",
                two_tools.clone(),
                json!({"tools": [{"inputSchema": {"type": "object"}, "name": "u"},
                    {"inputSchema": {"type": "object"}, "description": "d", "name": "t"}]}),
                None,
            ),
            (
                "new optional argument",
                input(obj(json!({"a": s}), &["a"])),
                input(obj(json!({"a": s, "b": i}), &["a"])),
                Some(Compatible),
            ),
            (
                "new required argument",
                input(obj(json!({"a": s}), &["a"])),
                input(obj(json!({"a": s, "b": i}), &["a", "b"])),
                Some(Breaking),
            ),
            (
                "optional argument made required",
                input(obj(json!({"a": s}), &[])),
                input(obj(json!({"a": s}), &["a"])),
                Some(Breaking),
            ),
            (
                "required argument made optional",
                input(obj(json!({"a": s}), &["a"])),
                input(obj(json!({"a": s}), &[])),
                Some(Compatible),
            ),
            (
                "argument removed",
                input(obj(json!({"a": s, "b": s}), &["a"])),
                input(obj(json!({"a": s}), &["a"])),
                Some(Breaking),
            ),
            (
                "type narrowed number to integer",
                input(obj(json!({"a": n}), &[])),
                input(obj(json!({"a": i}), &[])),
                Some(Breaking),
            ),
            (
                "type widened integer to number",
                input(obj(json!({"a": i}), &[])),
                input(obj(json!({"a": n}), &[])),
                Some(Compatible),
            ),
            (
                "type changed string to integer",
                input(obj(json!({"a": s}), &[])),
                input(obj(json!({"a": i}), &[])),
                Some(Breaking),
            ),
            (
                "nullable made non-null",
                input(obj(json!({"a": {"type": ["string", "null"]}}), &[])),
                input(obj(json!({"a": s}), &[])),
                Some(Breaking),
            ),
            (
                "enum value removed",
                input(obj(
                    json!({"a": {"type": "string", "enum": ["x", "y"]}}),
                    &[],
                )),
                input(obj(json!({"a": {"type": "string", "enum": ["x"]}}), &[])),
                Some(Breaking),
            ),
            (
                "enum value added",
                input(obj(json!({"a": {"type": "string", "enum": ["x"]}}), &[])),
                input(obj(
                    json!({"a": {"type": "string", "enum": ["x", "y"]}}),
                    &[],
                )),
                Some(Compatible),
            ),
            (
                "free string restricted to an enum",
                input(obj(json!({"a": s}), &[])),
                input(obj(json!({"a": {"type": "string", "enum": ["x"]}}), &[])),
                Some(Breaking),
            ),
            (
                "maxLength lowered",
                input(obj(json!({"a": {"type": "string", "maxLength": 100}}), &[])),
                input(obj(json!({"a": {"type": "string", "maxLength": 10}}), &[])),
                Some(Breaking),
            ),
            (
                "minimum lowered",
                input(obj(json!({"a": {"type": "integer", "minimum": 1}}), &[])),
                input(obj(json!({"a": {"type": "integer", "minimum": 0}}), &[])),
                Some(Compatible),
            ),
            (
                "object closed with additionalProperties: false",
                input(obj(json!({"a": s}), &[])),
                input(
                    json!({"type": "object", "properties": {"a": s}, "required": [], "additionalProperties": false}),
                ),
                Some(Breaking),
            ),
            (
                "nested property removed behind a $ref",
                input(
                    json!({"type": "object", "properties": {"f": {"$ref": "#/$defs/F"}},
                    "$defs": {"F": obj(json!({"x": s, "y": s}), &[])}}),
                ),
                input(
                    json!({"type": "object", "properties": {"f": {"$ref": "#/$defs/F"}},
                    "$defs": {"F": obj(json!({"x": s}), &[])}}),
                ),
                Some(Breaking),
            ),
            (
                "a renamed $defs entry with the same schema is no change",
                input(
                    json!({"type": "object", "properties": {"f": {"$ref": "#/$defs/Filter"}},
                    "$defs": {"Filter": obj(json!({"x": s}), &[])}}),
                ),
                input(
                    json!({"type": "object", "properties": {"f": {"$ref": "#/$defs/SearchFilter"}},
                    "$defs": {"SearchFilter": obj(json!({"x": s}), &[])}}),
                ),
                None,
            ),
            (
                "description changed",
                input(obj(
                    json!({"a": {"type": "string", "description": "old"}}),
                    &[],
                )),
                input(obj(
                    json!({"a": {"type": "string", "description": "new"}}),
                    &[],
                )),
                Some(Compatible),
            ),
            (
                "output property removed",
                output(obj(json!({"x": i, "y": i}), &["x", "y"])),
                output(obj(json!({"x": i}), &["x"])),
                Some(Breaking),
            ),
            (
                "output property added",
                output(obj(json!({"x": i}), &["x"])),
                output(obj(json!({"x": i, "y": i}), &["x", "y"])),
                Some(Compatible),
            ),
            (
                "output property may now be absent",
                output(obj(json!({"x": i}), &["x"])),
                output(obj(json!({"x": i}), &[])),
                Some(Breaking),
            ),
            (
                "output type widened",
                output(obj(json!({"x": i}), &["x"])),
                output(obj(json!({"x": n}), &["x"])),
                Some(Breaking),
            ),
            (
                "output type narrowed",
                output(obj(json!({"x": n}), &["x"])),
                output(obj(json!({"x": i}), &["x"])),
                Some(Compatible),
            ),
            (
                "output enum value added",
                output(obj(json!({"x": {"type": "string", "enum": ["a"]}}), &["x"])),
                output(obj(
                    json!({"x": {"type": "string", "enum": ["a", "b"]}}),
                    &["x"],
                )),
                Some(Breaking),
            ),
            (
                "output schema removed",
                output(obj(json!({"x": i}), &["x"])),
                one_tool.clone(),
                Some(Breaking),
            ),
            (
                "output schema added",
                one_tool.clone(),
                output(obj(json!({"x": i}), &["x"])),
                Some(Compatible),
            ),
            (
                "taskSupport optional made required",
                json!({"tools": [{"name": "t", "inputSchema": {}, "execution": {"taskSupport": "optional"}}]}),
                json!({"tools": [{"name": "t", "inputSchema": {}, "execution": {"taskSupport": "required"}}]}),
                Some(Breaking),
            ),
            (
                "taskSupport forbidden made optional",
                json!({"tools": [{"name": "t", "inputSchema": {}}]}),
                json!({"tools": [{"name": "t", "inputSchema": {}, "execution": {"taskSupport": "optional"}}]}),
                Some(Compatible),
            ),
            (
                "annotation changed",
                json!({"tools": [{"name": "t", "inputSchema": {}, "annotations": {"readOnlyHint": true}}]}),
                json!({"tools": [{"name": "t", "inputSchema": {}, "annotations": {"readOnlyHint": false}}]}),
                Some(Compatible),
            ),
            (
                "prompt removed",
                prompt(json!([])),
                json!({"prompts": []}),
                Some(Breaking),
            ),
            (
                "prompt added",
                json!({}),
                prompt(json!([])),
                Some(Compatible),
            ),
            (
                "prompt gets a required argument",
                prompt(json!([{"name": "a"}])),
                prompt(json!([{"name": "a"}, {"name": "b", "required": true}])),
                Some(Breaking),
            ),
            (
                "prompt gets an optional argument",
                prompt(json!([{"name": "a"}])),
                prompt(json!([{"name": "a"}, {"name": "b"}])),
                Some(Compatible),
            ),
            (
                "prompt argument removed",
                prompt(json!([{"name": "a"}, {"name": "b"}])),
                prompt(json!([{"name": "a"}])),
                Some(Breaking),
            ),
            (
                "resource template removed",
                json!({"resourceTemplates": [{"uriTemplate": "x://{id}", "name": "x"}]}),
                json!({"resourceTemplates": []}),
                Some(Breaking),
            ),
            (
                "resource mimeType changed",
                json!({"resources": [{"uri": "x://a", "name": "a", "mimeType": "text/plain"}]}),
                json!({"resources": [{"uri": "x://a", "name": "a", "mimeType": "application/json"}]}),
                Some(Breaking),
            ),
            (
                "anyOf alternative removed",
                input(obj(json!({"a": {"anyOf": [s, i]}}), &[])),
                input(obj(json!({"a": {"anyOf": [s]}}), &[])),
                Some(Breaking),
            ),
            (
                "unknown keyword changed",
                input(obj(
                    json!({"a": {"type": "string", "x-mcp-header": "A"}}),
                    &[],
                )),
                input(obj(
                    json!({"a": {"type": "string", "x-mcp-header": "B"}}),
                    &[],
                )),
                Some(Breaking),
            ),
        ];
        assert!(cases.len() >= 20);
        let mut failures = Vec::new();
        for (name, old, new, expected) in &cases {
            let actual = verdict(old, new);
            if actual != *expected {
                failures.push(format!(
                    "{name}: expected {expected:?}, got {actual:?}: {:#?}",
                    classify(old, new)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn paths_and_messages() {
        let old = input(obj(
            json!({"a": {"type": "string", "enum": ["x", "y"]}}),
            &[],
        ));
        let new = input(obj(json!({"a": {"type": "string", "enum": ["x"]}}), &[]));
        assert_eq!(
            classify(&old, &new),
            [Change::new(
                ChangeKind::Breaking,
                "tools/t/inputSchema/properties/a",
                "enum value \"y\" removed"
            )]
        );
        let removed = classify(&input(json!({})), &json!({"tools": []}));
        assert_eq!(
            removed[0].to_string(),
            "breaking: tools/t: the tool was removed"
        );
        let nested = classify(
            &input(obj(
                json!({"f": obj(json!({"x": {"type": "integer"}}), &[])}),
                &[],
            )),
            &input(obj(
                json!({"f": obj(json!({"x": {"type": "number"}}), &[])}),
                &[],
            )),
        );
        assert_eq!(
            nested[0].path,
            "tools/t/inputSchema/properties/f/properties/x"
        );
        assert_eq!(nested[0].message, "type widened from integer to number");
    }

    #[test]
    fn recursive_schemas_end() {
        let tree = |leaf: &str| {
            input(
                json!({"type": "object", "properties": {"root": {"$ref": "#/$defs/Node"}},
                "$defs": {"Node": {"type": "object", "properties": {
                    "label": {"type": leaf},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}}),
            )
        };
        let changes = classify(&tree("string"), &tree("integer"));
        assert_eq!(changes.len(), 1, "{changes:#?}");
        assert!(changes[0].is_breaking());
    }

    #[test]
    fn uris_appear_verbatim_in_paths() {
        let changes = classify(
            &json!({"resources": [{"uri": "file:///a/b", "name": "b"}]}),
            &json!({}),
        );
        assert_eq!(changes[0].path, "resources/file:///a/b");
        assert_eq!(changes[0].message, "the resource was removed");
    }
}
