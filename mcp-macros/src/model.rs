//! Parse and resolve: from an annotated `fn` to a [`Handler`], the description of what to
//! generate. Every problem is recorded in [`Errors`], spanned at the token to fix.

use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprLit, FnArg, GenericArgument, Ident, Lit, LitBool, LitStr, Meta, Pat,
    PathArguments, ReturnType, Signature, Token, Type,
};

use crate::attr::{AttrArgs, Keys};
use crate::check;
use crate::ctxt::Errors;

/// Which macro.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Tool,
    Prompt,
    Resource,
}

const TOOL_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "icons",
    "scopes",
    "timeout",
    "task_support",
    "defer_task",
    "crate",
];
const PROMPT_KEYS: &[&str] = &["name", "title", "description", "crate"];
const RESOURCE_KEYS: &[&str] = &["name", "title", "description", "mime_type", "list", "crate"];

/// Extractor types recognised by name (the last path segment).
const EXTRACTORS: &[&str] = &["Context", "State", "Uri", "Args", "Completing", "Identity"];

impl Kind {
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Kind::Tool => "tool",
            Kind::Prompt => "prompt",
            Kind::Resource => "resource",
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Tool => TOOL_KEYS,
            Kind::Prompt => PROMPT_KEYS,
            Kind::Resource => RESOURCE_KEYS,
        }
    }

    /// Recognises `#[tool]`, `#[mcp_core::tool(...)]`, … by the last path segment.
    pub(crate) fn of_attr(attr: &Attribute) -> Option<Kind> {
        let last = attr.path().segments.last()?;
        match last.ident.to_string().as_str() {
            "tool" => Some(Kind::Tool),
            "prompt" => Some(Kind::Prompt),
            "resource" => Some(Kind::Resource),
            _ => None,
        }
    }
}

/// A plain (deserialized) parameter.
pub(crate) struct Plain {
    /// The binding, used as the field name of the generated arguments struct.
    pub(crate) ident: Ident,
    /// The name on the wire (after serde renames).
    pub(crate) wire: String,
    /// Doc comments and `serde`/`schemars` attributes, moved onto the field.
    pub(crate) attrs: Vec<Attribute>,
    /// `#[complete(path)]`.
    pub(crate) complete: Option<syn::Path>,
    /// `#[serde(flatten)]`.
    pub(crate) flatten: bool,
}

/// What a parameter is.
pub(crate) enum ParamKind {
    /// Passed through as a handler argument; `Some(T)` for `Args<T>`.
    Extractor { args_of: Option<Type> },
    /// Becomes a field of the generated arguments struct.
    Plain(Plain),
}

/// One parameter (not the receiver).
pub(crate) struct Param {
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
}

impl Param {
    pub(crate) fn plain(&self) -> Option<&Plain> {
        match &self.kind {
            ParamKind::Plain(p) => Some(p),
            ParamKind::Extractor { .. } => None,
        }
    }
}

/// One annotated function, resolved.
pub(crate) struct Handler {
    pub(crate) kind: Kind,
    pub(crate) ident: Ident,
    /// The MCP name (tools, prompts) or resource name.
    pub(crate) name: LitStr,
    pub(crate) description: Option<String>,
    pub(crate) title: Option<LitStr>,
    /// `(builder method, value)` for the tool annotations.
    pub(crate) hints: Vec<(&'static str, LitBool)>,
    pub(crate) icons: Vec<LitStr>,
    pub(crate) scopes: Option<Vec<LitStr>>,
    pub(crate) timeout_ms: Option<u64>,
    /// The `TaskSupport` variant named by `task_support = "…"`.
    pub(crate) task_support: Option<&'static str>,
    pub(crate) defer_task: Option<LitBool>,
    pub(crate) uri: Option<LitStr>,
    pub(crate) is_template: bool,
    pub(crate) mime_type: Option<LitStr>,
    pub(crate) list: Option<syn::Path>,
    pub(crate) has_self: bool,
    pub(crate) params: Vec<Param>,
    pub(crate) container_attrs: Vec<Attribute>,
    pub(crate) output: ReturnType,
    pub(crate) krate: Option<syn::Path>,
}

impl Handler {
    pub(crate) fn has_plain(&self) -> bool {
        self.params.iter().any(|p| p.plain().is_some())
    }

    pub(crate) fn plains(&self) -> impl Iterator<Item = &Plain> {
        self.params.iter().filter_map(Param::plain)
    }
}

/// The text of the doc comments, or `None`.
pub(crate) fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &attr.meta {
            if let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
            {
                for line in s.value().split('\n') {
                    lines.push(line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned());
                }
            }
        }
    }
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn is_helper(attr: &Attribute, name: &str) -> bool {
    attr.path().is_ident(name)
}

/// The type `T` of `Args<T>`, if `ty` is one.
fn args_inner(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Args" {
        return None;
    }
    let PathArguments::AngleBracketed(a) = &last.arguments else {
        return None;
    };
    a.args.iter().find_map(|g| match g {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    })
}

fn is_extractor_type(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| EXTRACTORS.iter().any(|e| s.ident == e)),
        Type::Paren(p) => is_extractor_type(&p.elem),
        Type::Group(g) => is_extractor_type(&g.elem),
        _ => false,
    }
}

/// Why a plain parameter's type cannot be deserialized, if it cannot.
fn unsupported_type(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Reference(_) => Some(
            "borrowed parameters are not supported: arguments are deserialized into owned values; take an owned type such as `String` or `Vec<T>`",
        ),
        Type::ImplTrait(_) => Some("`impl Trait` parameters are not supported: arguments need a concrete type to deserialize into"),
        Type::TraitObject(_) => Some("trait objects cannot be deserialized: use a concrete type"),
        Type::Ptr(_) => Some("raw pointers cannot be tool arguments"),
        Type::BareFn(_) => Some("function pointers cannot be tool arguments"),
        Type::Never(_) => Some("`!` cannot be an argument"),
        Type::Infer(_) => Some("the type of an argument must be written out"),
        Type::Slice(_) => Some("unsized slices cannot be arguments: use `Vec<T>`"),
        Type::Macro(_) => Some("types from macros are not supported here: use a type alias"),
        Type::Paren(p) => unsupported_type(&p.elem),
        Type::Group(g) => unsupported_type(&g.elem),
        Type::Tuple(t) => t.elems.iter().find_map(unsupported_type),
        Type::Array(a) => unsupported_type(&a.elem),
        Type::Path(p) => p.path.segments.iter().find_map(|s| match &s.arguments {
            PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
                GenericArgument::Type(t) => unsupported_type(t),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    }
}

/// Whether the tokens mention `Self`.
fn mentions_self(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == "Self",
        proc_macro2::TokenTree::Group(g) => mentions_self(g.stream()),
        _ => false,
    })
}

/// `rename`, `flatten` and `default` as serde sees them on a field, and `rename_all` on the
/// container.
#[derive(Default)]
struct SerdeInfo {
    rename: Option<String>,
    flatten: bool,
    rename_all: Option<String>,
}

fn serde_info(attrs: &[Attribute]) -> SerdeInfo {
    let mut info = SerdeInfo::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let Ok(metas) = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        else {
            continue;
        };
        for meta in metas {
            match meta {
                Meta::Path(p) if p.is_ident("flatten") => info.flatten = true,
                Meta::NameValue(nv) => {
                    let value = match &nv.value {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(s), ..
                        }) => s.value(),
                        _ => continue,
                    };
                    if nv.path.is_ident("rename") {
                        info.rename = Some(value);
                    } else if nv.path.is_ident("rename_all") {
                        info.rename_all = Some(value);
                    }
                }
                Meta::List(list)
                    if list.path.is_ident("rename") || list.path.is_ident("rename_all") =>
                {
                    let Ok(inner) =
                        list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                    else {
                        continue;
                    };
                    for m in inner {
                        if let Meta::NameValue(nv) = m {
                            if nv.path.is_ident("deserialize") {
                                if let Expr::Lit(ExprLit {
                                    lit: Lit::Str(s), ..
                                }) = &nv.value
                                {
                                    if list.path.is_ident("rename") {
                                        info.rename = Some(s.value());
                                    } else {
                                        info.rename_all = Some(s.value());
                                    }
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    info
}

/// Applies a serde `rename_all` rule to a snake_case field name.
fn apply_rename_all(rule: &str, field: &str) -> String {
    let words: Vec<&str> = field.split('_').filter(|w| !w.is_empty()).collect();
    let cap = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    match rule {
        "lowercase" => field.to_lowercase(),
        "UPPERCASE" => field.to_uppercase(),
        "PascalCase" => words.iter().map(|w| cap(w)).collect(),
        "camelCase" => words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { (*w).to_owned() } else { cap(w) })
            .collect(),
        "SCREAMING_SNAKE_CASE" => field.to_uppercase(),
        "kebab-case" => field.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => field.replace('_', "-").to_uppercase(),
        _ => field.to_owned(),
    }
}

/// Where the function sits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// A free function.
    Free,
    /// A method inside `#[server] impl`.
    Server,
}

impl Handler {
    /// Resolves one annotated function. Strips the helper attributes the compiler must not
    /// see from `attrs` and `sig`, so the function itself can always be emitted.
    pub(crate) fn parse(
        kind: Kind,
        args: AttrArgs,
        attr_span: Span,
        attrs: &mut Vec<Attribute>,
        sig: &mut Signature,
        place: Place,
        errs: &mut Errors,
    ) -> Option<Handler> {
        let start = errs.count();
        let keys = Keys::check(args.args, kind.attr(), kind.keys(), errs);
        let attr = kind.attr();

        // Positional arguments: the URI of a resource, nothing otherwise.
        let mut uri = None;
        let mut positional = args.positional.into_iter();
        if kind == Kind::Resource {
            uri = positional.next();
            if uri.is_none() {
                errs.at(
                    attr_span,
                    "`#[resource]` needs a URI or URI template: `#[resource(\"scheme://path\")]` or `#[resource(\"scheme://{var}\")]`",
                );
            }
        }
        for extra in positional {
            let hint = if kind == Kind::Resource {
                "`#[resource]` takes one URI".to_owned()
            } else {
                format!(
                    "`#[{attr}]` takes no positional argument; to set the name write `name = {}`",
                    extra.token()
                )
            };
            errs.spanned(&extra, hint);
        }

        // The signature.
        if sig.asyncness.is_none() {
            errs.spanned(
                sig.fn_token,
                format!("`#[{attr}]` needs an `async fn`; add `async` before `fn`"),
            );
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            errs.spanned(
                &sig.generics,
                format!("a `#[{attr}]` function cannot be generic: its argument schema must be known when the server starts"),
            );
        }
        if let Some(u) = &sig.unsafety {
            errs.spanned(u, format!("a `#[{attr}]` function cannot be `unsafe`"));
        }
        if let Some(v) = &sig.variadic {
            errs.spanned(v, "variadic functions are not supported");
        }

        let description_doc = doc_text(attrs);

        // Container attributes for the generated arguments struct.
        let mut container_attrs = Vec::new();
        attrs.retain(|a| {
            if a.path().is_ident("serde") || a.path().is_ident("schemars") {
                container_attrs.push(a.clone());
                false
            } else {
                true
            }
        });
        let rename_all = serde_info(&container_attrs).rename_all;

        // Parameters.
        let mut has_self = false;
        let mut params = Vec::new();
        let mut args_param: Option<Span> = None;
        for input in sig.inputs.iter_mut() {
            match input {
                FnArg::Receiver(r) => {
                    if place == Place::Free {
                        errs.spanned(
                            &*r,
                            format!(
                                "`#[{attr}]` on a method needs `#[server]` on its `impl` block"
                            ),
                        );
                    } else if r.reference.is_none()
                        || r.mutability.is_some()
                        || r.colon_token.is_some()
                    {
                        errs.spanned(
                            &*r,
                            "take `&self`: handlers run concurrently and share the server (use interior mutability for state that changes)",
                        );
                    }
                    has_self = true;
                }
                FnArg::Typed(pt) => {
                    let mut extract = false;
                    let mut complete = None;
                    let mut forwarded = Vec::new();
                    let mut kept = Vec::new();
                    for a in std::mem::take(&mut pt.attrs) {
                        if is_helper(&a, "extract") {
                            if !matches!(a.meta, Meta::Path(_)) {
                                errs.spanned(&a, "write `#[extract]` without arguments");
                            }
                            extract = true;
                        } else if is_helper(&a, "complete") {
                            match a.parse_args::<syn::Path>() {
                                Ok(p) => complete = Some(p),
                                Err(_) => errs.spanned(
                                    &a,
                                    "`#[complete]` expects the path of a completion function: `#[complete(my_fn)]`",
                                ),
                            }
                        } else if a.path().is_ident("doc")
                            || a.path().is_ident("serde")
                            || a.path().is_ident("schemars")
                        {
                            forwarded.push(a);
                        } else {
                            kept.push(a);
                        }
                    }
                    pt.attrs = kept;
                    let ty = (*pt.ty).clone();
                    if extract || is_extractor_type(&ty) {
                        for a in forwarded.iter().filter(|a| !a.path().is_ident("doc")) {
                            errs.spanned(
                                a,
                                "`serde` and `schemars` attributes apply to plain parameters, not to extractors",
                            );
                        }
                        if complete.is_some() {
                            errs.spanned(
                                &pt.pat,
                                "`#[complete]` applies to plain parameters, not to extractors",
                            );
                        }
                        let args_of = if extract { None } else { args_inner(&ty) };
                        if args_of.is_some() {
                            if let Some(first) = args_param {
                                let mut e = syn::Error::new(
                                    ty.span(),
                                    "only one `Args<T>` parameter can take the arguments",
                                );
                                e.combine(syn::Error::new(first, "the first `Args<T>` is here"));
                                errs.push(e);
                            }
                            args_param = Some(ty.span());
                        }
                        params.push(Param {
                            ty,
                            kind: ParamKind::Extractor { args_of },
                        });
                        continue;
                    }
                    let ident = match &*pt.pat {
                        Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                            pi.ident.clone()
                        }
                        other => {
                            errs.spanned(
                                other,
                                "a plain parameter needs a plain name, which becomes the argument's name (destructure it in the body, or mark an extractor with `#[extract]`)",
                            );
                            continue;
                        }
                    };
                    if let Some(why) = unsupported_type(&ty) {
                        errs.spanned(&ty, format!("unsupported parameter type: {why}"));
                    } else if place == Place::Server && mentions_self(ty.to_token_stream()) {
                        errs.spanned(&ty, "name the type instead of using `Self`: the arguments struct is generated outside the `impl` block");
                    }
                    let info = serde_info(&forwarded);
                    let field = ident.unraw().to_string();
                    let wire = info.rename.clone().unwrap_or_else(|| match &rename_all {
                        Some(rule) => apply_rename_all(rule, &field),
                        None => field.clone(),
                    });
                    params.push(Param {
                        ty,
                        kind: ParamKind::Plain(Plain {
                            ident,
                            wire,
                            attrs: forwarded,
                            complete,
                            flatten: info.flatten,
                        }),
                    });
                }
            }
        }
        if let Some(at) = args_param {
            let plain: Vec<String> = params
                .iter()
                .filter_map(|p| p.plain().map(|p| format!("`{}`", p.ident.unraw())))
                .collect();
            if !plain.is_empty() {
                errs.at(
                    at,
                    format!(
                        "`Args<T>` takes all the arguments, so it cannot sit beside plain parameters ({}); move those fields into `T`, or drop `Args<T>` and list its fields as parameters",
                        plain.join(", ")
                    ),
                );
            }
        }
        let arity = params.iter().filter(|p| p.plain().is_none()).count()
            + usize::from(params.iter().any(|p| p.plain().is_some()))
            + usize::from(has_self);
        if arity > 12 {
            errs.spanned(
                &sig.inputs,
                "too many extractors: a handler takes at most 12 (the arguments and `&self` count as one each)",
            );
        }

        // Name and the common keys.
        let name = match keys.str("name", errs) {
            Some(n) => n,
            None => LitStr::new(&sig.ident.unraw().to_string(), sig.ident.span()),
        };
        let description = keys
            .str("description", errs)
            .map(|d| d.value())
            .or(description_doc);
        let title = keys.str("title", errs);
        let krate = keys.krate(errs);

        let mut handler = Handler {
            kind,
            ident: sig.ident.clone(),
            name,
            description,
            title,
            hints: Vec::new(),
            icons: Vec::new(),
            scopes: None,
            timeout_ms: None,
            task_support: None,
            defer_task: None,
            uri: None,
            is_template: false,
            mime_type: None,
            list: None,
            has_self,
            params,
            container_attrs,
            output: sig.output.clone(),
            krate,
        };

        match kind {
            Kind::Tool => handler.resolve_tool(&keys, errs),
            Kind::Prompt => handler.resolve_prompt(errs),
            Kind::Resource => handler.resolve_resource(&keys, uri, errs),
        }
        (errs.count() == start).then_some(handler)
    }

    fn resolve_tool(&mut self, keys: &Keys, errs: &mut Errors) {
        let name = self.name.value();
        if !check::is_valid_tool_name(&name) {
            errs.spanned(&self.name, check::tool_name_problem(&name));
        }
        for (key, method) in [
            ("read_only", "read_only"),
            ("destructive", "destructive"),
            ("idempotent", "idempotent"),
            ("open_world", "open_world"),
        ] {
            if let Some(b) = keys.flag(key, errs) {
                self.hints.push((method, b));
            }
        }
        self.icons = keys.str_list("icons", errs).unwrap_or_default();
        self.scopes = keys.str_list("scopes", errs);
        if let Some(t) = keys.str("timeout", errs) {
            match check::parse_duration_ms(&t.value()) {
                Ok(ms) => self.timeout_ms = Some(ms),
                Err(e) => errs.spanned(&t, e),
            }
        }
        let task_support = keys.str("task_support", errs);
        if let Some(t) = &task_support {
            self.task_support = match t.value().as_str() {
                "optional" => Some("Optional"),
                "required" => Some("Required"),
                "forbidden" => Some("Forbidden"),
                other => {
                    errs.spanned(
                        t,
                        format!("`task_support` is \"optional\", \"required\" or \"forbidden\", not {other:?}"),
                    );
                    None
                }
            };
        }
        self.defer_task = keys.flag("defer_task", errs);
        if let Some(defer) = &self.defer_task {
            let tasks = matches!(self.task_support, Some("Optional" | "Required"));
            if defer.value && !tasks && task_support.is_none() {
                errs.spanned(
                    defer,
                    "`defer_task` lets a call become a task later, so the tool must support tasks: add `task_support = \"optional\"` (or `\"required\"`)",
                );
            } else if defer.value && self.task_support == Some("Forbidden") {
                errs.spanned(
                    defer,
                    "`defer_task` cannot go with `task_support = \"forbidden\"`: a deferred call becomes a task",
                );
            }
        }
        for p in self.plains() {
            if let Some(c) = &p.complete {
                errs.spanned(
                    c,
                    "completions attach to prompt arguments and resource template variables; tool arguments have none",
                );
            }
        }
    }

    fn resolve_prompt(&mut self, errs: &mut Errors) {
        if self.name.value().is_empty() {
            errs.spanned(&self.name, "a prompt name cannot be empty");
        }
        for p in self.plains() {
            if p.flatten {
                errs.spanned(
                    &p.ident,
                    "prompt arguments are a flat list of strings; `#[serde(flatten)]` is not supported here",
                );
            }
        }
    }

    fn resolve_resource(&mut self, keys: &Keys, uri: Option<LitStr>, errs: &mut Errors) {
        self.mime_type = keys.str("mime_type", errs);
        self.list = keys.path("list", errs);
        let Some(uri) = uri else { return };
        let text = uri.value();
        self.is_template = text.contains('{') || text.contains('}');
        if !self.is_template {
            if let Some(list) = &self.list {
                errs.spanned(
                    list,
                    "`list` lists the instances of a resource template; this URI has no `{variables}`",
                );
            }
            for p in self.plains() {
                errs.spanned(
                    &p.ident,
                    format!(
                        "the resource `{text}` has no `{{variables}}`, so parameter `{}` cannot be bound; use a URI template such as `scheme://{{{}}}`, or take extractors only",
                        p.ident.unraw(),
                        p.wire
                    ),
                );
            }
            if let Some(a) = self.container_attrs.first() {
                errs.spanned(a, "a static resource has no arguments to configure");
            }
            if !text.contains("://") && !text.contains(':') {
                errs.spanned(
                    &uri,
                    "a resource URI needs a scheme, like `file:///notes.txt`",
                );
            }
            self.uri = Some(uri);
            return;
        }
        let expressions = match check::parse_template(&text) {
            Ok(e) => e,
            Err(e) => {
                errs.spanned(&uri, e);
                self.uri = Some(uri);
                return;
            }
        };
        let vars: Vec<&str> = expressions
            .iter()
            .flat_map(|e| e.vars.iter().map(String::as_str))
            .collect();
        for v in &vars {
            if !self.plains().any(|p| p.wire == *v) {
                errs.spanned(
                    &uri,
                    format!(
                        "template variable `{{{v}}}` has no matching parameter; add a parameter `{}: String` (parameters bind to variables by name)",
                        v.replace('.', "_")
                    ),
                );
            }
        }
        for p in self.plains() {
            if !vars.contains(&p.wire.as_str()) {
                let listed = vars
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                errs.spanned(
                    &p.ident,
                    format!(
                        "parameter `{}` is not a variable of the URI template `{text}` (its variables are {listed})",
                        p.wire
                    ),
                );
            }
            if p.flatten {
                errs.spanned(&p.ident, "template variables cannot be flattened");
            }
        }
        self.uri = Some(uri);
    }
}
