//! Generate: the pieces of code shared by the free-function macros and `#[server]`.

pub(crate) mod derive;
pub(crate) mod free;
pub(crate) mod router;
pub(crate) mod server;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, ReturnType, Type};

use crate::model::{Handler, Kind, ParamKind, Place};

/// A method of the `#[server]` impl block, for `#[complete(method)]` and `list = method`.
pub(crate) struct Method {
    pub(crate) ident: Ident,
    pub(crate) has_self: bool,
    pub(crate) params: Vec<Type>,
}

/// What generated code needs to know about its surroundings.
pub(crate) struct Cx<'a> {
    pub(crate) krate: &'a syn::Path,
    pub(crate) place: Place,
    pub(crate) methods: &'a [Method],
}

impl Cx<'_> {
    /// `::mcp_core::__private`.
    pub(crate) fn private(&self) -> TokenStream {
        let krate = self.krate;
        quote!(#krate::__private)
    }

    fn method(&self, path: &syn::Path) -> Option<&Method> {
        if self.place != Place::Server {
            return None;
        }
        let ident = path.get_ident()?;
        self.methods.iter().find(|m| &m.ident == ident)
    }

    /// A handler expression for a function named in an attribute: the path itself, or, for a
    /// method of the `#[server]` impl, a closure that calls it on the shared server.
    pub(crate) fn handler_for(&self, path: &syn::Path) -> TokenStream {
        let krate = self.krate;
        let pv = self.private();
        let Some(m) = self.method(path) else {
            return path.to_token_stream();
        };
        let ident = &m.ident;
        let names: Vec<Ident> = (0..m.params.len())
            .map(|i| Ident::new(&format!("__mcp_e{i}"), Span::mixed_site()))
            .collect();
        let tys = &m.params;
        if m.has_self {
            let this = Ident::new("__mcp_this", Span::mixed_site());
            quote! {
                |#krate::extract::State(#this): #krate::extract::State<#pv::Arc<Self>>, #(#names: #tys),*| async move {
                    #this.#ident(#(#names),*).await
                }
            }
        } else {
            quote!(Self::#ident)
        }
    }

    /// A call of a `list = …` function: with `&self` for a method of the impl block.
    pub(crate) fn list_call(&self, path: &syn::Path) -> TokenStream {
        match self.method(path) {
            Some(m) if m.has_self => {
                let ident = &m.ident;
                quote!(Self::#ident(&self))
            }
            Some(m) => {
                let ident = &m.ident;
                quote!(Self::#ident())
            }
            None => quote!(#path()),
        }
    }
}

/// The name of the generated arguments struct of a handler.
pub(crate) fn args_ident(h: &Handler) -> Ident {
    format_ident!("__McpArgs_{}", h.ident.unraw())
}

fn path_string(path: &syn::Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// `#[derive(Deserialize, JsonSchema)] struct __McpArgs_x { … }`, when there are plain
/// parameters.
pub(crate) fn args_struct(h: &Handler, cx: &Cx<'_>) -> TokenStream {
    if !h.has_plain() {
        return TokenStream::new();
    }
    let pv = cx.private();
    let ident = args_ident(h);
    let base = path_string(cx.krate);
    let serde_crate = LitStr::new(&format!("{base}::__private::serde"), Span::call_site());
    let schemars_crate = LitStr::new(&format!("{base}::__private::schemars"), Span::call_site());
    let container = &h.container_attrs;
    let fields = h.params.iter().filter_map(|p| {
        let plain = p.plain()?;
        let attrs = &plain.attrs;
        let name = &plain.ident;
        let ty = &p.ty;
        Some(quote!(#(#attrs)* #name: #ty))
    });
    quote! {
        #[derive(#pv::serde::Deserialize, #pv::schemars::JsonSchema)]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate)]
        #(#container)*
        #[allow(non_camel_case_types, dead_code, clippy::all)]
        struct #ident {
            #(#fields,)*
        }
    }
}

/// Static assertions, as statements: `Args<T>` and flattened parameters must be JSON objects.
pub(crate) fn assertions(h: &Handler, cx: &Cx<'_>) -> TokenStream {
    let pv = cx.private();
    let mut out = TokenStream::new();
    for p in &h.params {
        let ty = match &p.kind {
            ParamKind::Extractor { args_of: Some(t) } => t,
            ParamKind::Plain(plain) if plain.flatten => &p.ty,
            _ => continue,
        };
        out.extend(quote_spanned! {ty.span()=>
            let _ = #pv::assert_object_args::<#ty>;
        });
    }
    out
}

/// `where` bounds making every extractor usable with the router state `state`, each spanned at
/// its parameter's type.
pub(crate) fn extractor_bounds(h: &Handler, cx: &Cx<'_>, state: &Ident) -> Vec<TokenStream> {
    let krate = cx.krate;
    h.params
        .iter()
        .filter(|p| p.plain().is_none())
        .map(|p| {
            let ty = &p.ty;
            quote_spanned!(ty.span()=> #ty: #krate::extract::FromRequest<#state>)
        })
        .collect()
}

/// The handler closure: takes the extractors (and the generated arguments), calls the function.
pub(crate) fn closure(h: &Handler, cx: &Cx<'_>) -> TokenStream {
    let krate = cx.krate;
    let pv = cx.private();
    let args = Ident::new("__mcp_args", Span::mixed_site());
    let this = Ident::new("__mcp_this", Span::mixed_site());
    let mut inputs = Vec::new();
    let mut call = Vec::new();
    if h.has_self {
        inputs.push(quote!(#krate::extract::State(#this): #krate::extract::State<#pv::Arc<Self>>));
    }
    for (i, p) in h.params.iter().enumerate() {
        match &p.kind {
            ParamKind::Extractor { .. } => {
                let name = Ident::new(&format!("__mcp_e{i}"), Span::mixed_site());
                let ty = &p.ty;
                inputs.push(quote!(#name: #ty));
                call.push(quote!(#name));
            }
            ParamKind::Plain(plain) => {
                let field = &plain.ident;
                call.push(quote!(#args.#field));
            }
        }
    }
    if h.has_plain() {
        let ident = args_ident(h);
        let extractor = match h.kind {
            Kind::Tool => quote!(#pv::Arguments),
            Kind::Prompt | Kind::Resource => quote!(#pv::StringArguments),
        };
        inputs.push(quote!(#extractor(#args): #extractor<#ident>));
    }
    let f = &h.ident;
    let callee = match (cx.place, h.has_self) {
        (Place::Server, true) => quote!(#this.#f),
        (Place::Server, false) => quote!(Self::#f),
        (Place::Free, _) => quote!(#f),
    };
    // Spanned at the return type: a return type the router cannot convert is reported there.
    quote_spanned! {output_span(h)=>
        move |#(#inputs),*| async move { #callee(#(#call),*).await }
    }
}

/// The span of the return type (or of the function name when there is none).
fn output_span(h: &Handler) -> Span {
    match &h.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => h.ident.span(),
    }
}

/// `tokens` with every span set to `span`, so that errors about them point there.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                t = proc_macro2::TokenTree::Group(group);
            } else {
                t.set_span(span);
            }
            t
        })
        .collect()
}

/// Which `*Def` a handler builds, and the `Router` method that adds it.
pub(crate) fn def_kind(h: &Handler) -> (&'static str, &'static str, &'static str) {
    match (h.kind, h.is_template) {
        (Kind::Tool, _) => ("tool", "ToolDef", "tool"),
        (Kind::Prompt, _) => ("prompt", "PromptDef", "prompt"),
        (Kind::Resource, false) => ("resource", "ResourceDef", "resource"),
        (Kind::Resource, true) => ("template", "TemplateDef", "resource_template"),
    }
}

/// The `ToolDef::new(…)…` (or `PromptDef`, `ResourceDef`, `TemplateDef`) expression.
pub(crate) fn def_expr(h: &Handler, cx: &Cx<'_>) -> TokenStream {
    let krate = cx.krate;
    let pv = cx.private();
    let name = &h.name;
    let closure = closure(h, cx);
    let description = h.description.as_ref().map(|d| quote!(.description(#d)));
    let title = h.title.as_ref().map(|t| quote!(.title(#t)));
    // The output bound (`IntoToolResult`, …) is reported at the return type.
    let span = output_span(h);
    match h.kind {
        Kind::Tool => {
            let new = respan(quote!(#krate::ToolDef::new), span);
            let hints = h.hints.iter().map(|(m, b)| {
                let m = Ident::new(m, Span::call_site());
                quote!(.#m(#b))
            });
            let icons = (!h.icons.is_empty()).then(|| {
                let icons = &h.icons;
                quote!(.icons(::std::vec![#(#krate::protocol::Icon::new(#icons)),*]))
            });
            let scopes = h.scopes.as_ref().map(|s| quote!(.scopes([#(#s),*])));
            let timeout = h
                .timeout_ms
                .map(|ms| quote!(.timeout(::core::time::Duration::from_millis(#ms))));
            let task_support = h.task_support.map(|variant| {
                let variant = Ident::new(variant, Span::call_site());
                quote!(.task_support(#krate::protocol::TaskSupport::#variant))
            });
            let defer_task = h.defer_task.as_ref().map(|b| quote!(.defer_task(#b)));
            quote!(#new(#name, #closure) #description #title #(#hints)* #icons #scopes #timeout #task_support #defer_task)
        }
        Kind::Prompt => {
            let new = respan(quote!(#krate::PromptDef::new), span);
            quote!(#new(#name, #closure) #description #title)
        }
        Kind::Resource => {
            let uri = &h.uri;
            let mime = h.mime_type.as_ref().map(|m| quote!(.mime_type(#m)));
            if h.is_template {
                let new = respan(quote!(#krate::TemplateDef::new), span);
                let def = quote!(#new(#uri, #name, #closure) #description #mime);
                match &h.title {
                    Some(t) => quote!(#pv::template_title(#def, #t)),
                    None => def,
                }
            } else {
                let new = respan(quote!(#krate::ResourceDef::new), span);
                quote!(#new(#uri, #name, #closure) #description #title #mime)
            }
        }
    }
}

/// `CompletionDef::prompt(…)` / `CompletionDef::template(…)` for every `#[complete]`.
pub(crate) fn completions(h: &Handler, cx: &Cx<'_>) -> Vec<TokenStream> {
    let krate = cx.krate;
    h.plains()
        .filter_map(|p| {
            let path = p.complete.as_ref()?;
            let handler = cx.handler_for(path);
            let wire = &p.wire;
            Some(match h.kind {
                Kind::Prompt => {
                    let name = &h.name;
                    quote!(#krate::CompletionDef::prompt(#name, #wire, #handler))
                }
                _ => {
                    let uri = &h.uri;
                    quote!(#krate::CompletionDef::template(#uri, #wire, #handler))
                }
            })
        })
        .collect()
}

/// Adds the handler (and its completions) to the router expression `router`.
pub(crate) fn registration(
    h: &Handler,
    cx: &Cx<'_>,
    router: TokenStream,
    def: TokenStream,
    list: Option<TokenStream>,
) -> TokenStream {
    let pv = cx.private();
    let (_, _, method) = def_kind(h);
    let method = Ident::new(method, Span::call_site());
    let added = match (h.is_template, list) {
        (true, Some(list)) => {
            quote!(#pv::register_template(#router, #def, ::core::option::Option::Some(#list)))
        }
        _ => quote!(#router.#method(#def)),
    };
    let completions = completions(h, cx);
    quote!(#added #(.completion(#completions))*)
}
