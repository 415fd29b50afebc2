//! `#[server] impl MyServer { … }`: every `#[tool]`, `#[prompt]` and `#[resource]` method of the
//! block, collected into `MyServer::router(self)`.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ImplItem, ItemImpl, LitStr, Meta};

use super::{args_struct, assertions, def_expr, registration, Cx, Method};
use crate::attr::{AttrArgs, Keys};
use crate::ctxt::Errors;
use crate::krate;
use crate::model::{Handler, Kind, Place};

const SERVER_KEYS: &[&str] = &["name", "version", "instructions", "crate"];

/// Expands `#[server]`. Never fails: on errors it emits the impl block (without the helper
/// attributes), a dummy `router`, and the errors.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errs = Errors::default();
    let args = errs.ok(syn::parse2::<AttrArgs>(args)).unwrap_or_default();
    let mut block: ItemImpl = match syn::parse2(item.clone()) {
        Ok(b) => b,
        Err(_) => {
            let e = syn::Error::new_spanned(
                &item,
                "`#[server]` applies to an inherent `impl` block: `#[server] impl MyServer { … }`",
            );
            let mut out = item;
            out.extend(e.to_compile_error());
            return out;
        }
    };
    for p in &args.positional {
        errs.spanned(p, "`#[server]` takes no positional argument");
    }
    let keys = Keys::check(args.args, "server", SERVER_KEYS, &mut errs);
    let name = keys.str("name", &mut errs);
    let version = keys.str("version", &mut errs);
    let instructions = keys.str("instructions", &mut errs);
    let krate = keys.krate(&mut errs).unwrap_or_else(krate::default_path);

    if let Some((_, path, _)) = &block.trait_ {
        errs.spanned(
            path,
            "`#[server]` applies to an inherent `impl` block, not a trait implementation",
        );
    }
    if !block.generics.params.is_empty() {
        errs.spanned(
            &block.generics,
            "`#[server]` does not support generic impl blocks: the router needs one concrete server type",
        );
    }

    // Every method, for `#[complete(method)]` and `list = method`.
    let methods: Vec<Method> = block
        .items
        .iter()
        .filter_map(|i| match i {
            ImplItem::Fn(f) => Some(Method {
                ident: f.sig.ident.clone(),
                has_self: f.sig.receiver().is_some(),
                params: f
                    .sig
                    .inputs
                    .iter()
                    .filter_map(|a| match a {
                        FnArg::Typed(t) => Some((*t.ty).clone()),
                        FnArg::Receiver(_) => None,
                    })
                    .collect(),
            }),
            _ => None,
        })
        .collect();

    let mut handlers = Vec::new();
    for item in &mut block.items {
        let ImplItem::Fn(f) = item else { continue };
        let mut found: Vec<(Kind, syn::Attribute)> = Vec::new();
        f.attrs.retain(|a| match Kind::of_attr(a) {
            Some(k) => {
                found.push((k, a.clone()));
                false
            }
            None => true,
        });
        let mut found = found.into_iter();
        let Some((kind, attr)) = found.next() else {
            continue;
        };
        for (_, extra) in found {
            errs.spanned(
                &extra,
                "a method can be only one of `#[tool]`, `#[prompt]` and `#[resource]`",
            );
        }
        let args = match &attr.meta {
            Meta::Path(_) => Some(AttrArgs::default()),
            Meta::List(l) => errs.ok(syn::parse2::<AttrArgs>(l.tokens.clone())),
            Meta::NameValue(nv) => {
                errs.spanned(
                    nv,
                    format!("write `#[{}(…)]` with parentheses", kind.attr()),
                );
                None
            }
        };
        let Some(args) = args else { continue };
        if let Some(h) = Handler::parse(
            kind,
            args,
            attr.span(),
            &mut f.attrs,
            &mut f.sig,
            Place::Server,
            &mut errs,
        ) {
            handlers.push(h);
        }
    }

    check_duplicates(&handlers, &mut errs);

    let self_ty = block.self_ty.clone();
    let router_doc = "Every `#[tool]`, `#[prompt]` and `#[resource]` of this `impl` block in a router serving `self` (shared as `Arc<Self>`), with `serverInfo` from `#[server(name, version)]` or the crate's Cargo package.";
    if let Err(e) = errs.finish() {
        let mut out = block.into_token_stream();
        out.extend(quote! {
            const _: () = {
                impl #self_ty {
                    #[doc = #router_doc]
                    #[allow(dead_code, unreachable_pub)]
                    pub fn router(self) -> #krate::Router { ::core::unreachable!() }
                }
            };
        });
        out.extend(e.to_compile_error());
        return out;
    }

    let cx = Cx {
        krate: &krate,
        place: Place::Server,
        methods: &methods,
    };
    let pv = cx.private();
    let structs = handlers.iter().map(|h| args_struct(h, &cx));
    let asserts = handlers.iter().map(|h| assertions(h, &cx));
    let router = Ident::new("__mcp_router", Span::mixed_site());
    let mut lists = Vec::new();
    let registrations = handlers.iter().enumerate().map(|(i, h)| {
        let list = h.list.as_ref().map(|l| {
            let var = Ident::new(&format!("__mcp_list{i}"), Span::mixed_site());
            let call = cx.list_call(l);
            lists.push(quote! {
                let #var: ::std::vec::Vec<#krate::protocol::Resource> =
                    ::core::iter::IntoIterator::into_iter(#call).collect();
            });
            quote!(#var)
        });
        let def = def_expr(h, &cx);
        let added = registration(h, &cx, quote!(#router), def, list);
        quote!(let #router = #added;)
    });
    let registrations: Vec<TokenStream> = registrations.collect();
    let name = match name {
        Some(n) => n.into_token_stream(),
        None => quote!(::core::env!("CARGO_PKG_NAME")),
    };
    let version = match version {
        Some(v) => v.into_token_stream(),
        None => quote!(::core::env!("CARGO_PKG_VERSION")),
    };
    let instructions = instructions.map(|i: LitStr| quote!(.instructions(#i)));

    quote! {
        #block

        const _: () = {
            #(#structs)*

            impl #self_ty {
                #[doc = #router_doc]
                #[allow(dead_code, unreachable_pub, clippy::redundant_clone)]
                pub fn router(self) -> #krate::Router {
                    #(#asserts)*
                    #(#lists)*
                    let #router: #krate::Router<#pv::Arc<Self>> = #krate::Router::new()
                        .server_info(#krate::protocol::Implementation::new(#name, #version))
                        #instructions;
                    #(#registrations)*
                    #router.with_state(#pv::Arc::new(self))
                }
            }
        };
    }
}

/// Two tools (or prompts, or resources) with the same name: an error at the second, a note at
/// the first.
fn check_duplicates(handlers: &[Handler], errs: &mut Errors) {
    let mut seen: HashMap<(&'static str, String), &LitStr> = HashMap::new();
    for h in handlers {
        let (what, key) = match h.kind {
            Kind::Tool => ("tool", &h.name),
            Kind::Prompt => ("prompt", &h.name),
            Kind::Resource => match &h.uri {
                Some(uri) => ("resource", uri),
                None => continue,
            },
        };
        let value = key.value();
        match seen.get(&(what, value.clone())) {
            Some(first) => {
                let thing = if what == "resource" { "URI" } else { "name" };
                let mut e = syn::Error::new(
                    key.span(),
                    format!("duplicate {what} {thing} `{value}`; each {what} needs its own {thing} (set it with `name = \"…\"`)"),
                );
                e.combine(syn::Error::new(
                    first.span(),
                    format!("the first {what} named `{value}` is here"),
                ));
                if what == "resource" {
                    e = syn::Error::new(
                        key.span(),
                        format!(
                            "duplicate resource URI `{value}`; each resource needs its own URI"
                        ),
                    );
                    e.combine(syn::Error::new(
                        first.span(),
                        format!("`{value}` is first used here"),
                    ));
                }
                errs.push(e);
            }
            None => {
                seen.insert((what, value), key);
            }
        }
    }
}
