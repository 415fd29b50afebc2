//! `#[tool]`, `#[prompt]` and `#[resource]` on a free function: the function as written, plus a
//! companion type of the same name (in the type namespace) that builds its definition.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{Ident, ItemFn};

use super::{args_struct, assertions, def_expr, def_kind, extractor_bounds, registration, Cx};
use crate::attr::AttrArgs;
use crate::ctxt::Errors;
use crate::krate;
use crate::model::{Handler, Kind, Place};

/// Expands one attribute on a free function. Never fails: on errors it emits the function, a
/// dummy companion, and the errors, so that one mistake does not cascade.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errs = Errors::default();
    let attr_span = if args.is_empty() {
        Span::call_site()
    } else {
        args.clone()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span())
    };
    let args = errs.ok(syn::parse2::<AttrArgs>(args)).unwrap_or_default();
    let mut item: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let e = syn::Error::new_spanned(
                &item,
                format!("`#[{}]` applies to an `async fn`", kind.attr()),
            );
            let mut out = item;
            out.extend(e.to_compile_error());
            return out;
        }
    };
    let handler = Handler::parse(
        kind,
        args,
        attr_span,
        &mut item.attrs,
        &mut item.sig,
        Place::Free,
        &mut errs,
    );
    let krate = handler
        .as_ref()
        .and_then(|h| h.krate.clone())
        .unwrap_or_else(krate::default_path);
    let in_impl = item.sig.receiver().is_some();
    match (handler, errs.finish()) {
        (Some(h), Ok(())) => companion(&h, &item, &krate),
        // A method: no companion can sit inside its `impl` block.
        (_, Err(e)) if in_impl => {
            let mut out = item.into_token_stream();
            out.extend(e.to_compile_error());
            out
        }
        (h, result) => {
            let mut out = dummy(kind, h.as_ref(), &item, &krate);
            if let Err(e) = result {
                out.extend(e.to_compile_error());
            }
            out
        }
    }
}

fn companion_doc(h: &Handler, accessor: &str, method: &str) -> String {
    format!(
        "The `#[{}]` companion of the function [`{f}`](fn@{f}): add it to a router with `Router::new().{method}({f}::{accessor}())` or `mcp_core::router![{f}]`.",
        h.kind.attr(),
        f = h.ident,
    )
}

fn companion(h: &Handler, item: &ItemFn, krate: &syn::Path) -> TokenStream {
    let cx = Cx {
        krate,
        place: Place::Free,
        methods: &[],
    };
    let pv = cx.private();
    let vis = &item.vis;
    let ident = &h.ident;
    let (accessor, def_ty, method) = def_kind(h);
    let doc = companion_doc(h, accessor, method);
    let accessor = Ident::new(accessor, Span::call_site());
    let def_ty = Ident::new(def_ty, Span::call_site());
    let state = Ident::new("__McpS", Span::call_site());
    let bounds = extractor_bounds(h, &cx, &state);
    let args = args_struct(h, &cx);
    let asserts = assertions(h, &cx);
    let def = def_expr(h, &cx);
    let list = h.list.as_ref().map(|l| {
        let call = cx.list_call(l);
        quote!(::core::iter::IntoIterator::into_iter(#call).collect())
    });
    let register = registration(h, &cx, quote!(router), quote!(Self::#accessor()), list);
    let accessor_doc = format!(
        "The definition of the `{}` {}, to add with `Router::{method}`.",
        h.name.value(),
        h.kind.attr()
    );
    quote! {
        #item

        #[doc = #doc]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #ident {}

        const _: () = {
            #args

            impl #ident {
                #[doc = #accessor_doc]
                #[allow(dead_code)]
                #vis fn #accessor<#state>() -> #krate::#def_ty<#state>
                where
                    #state: ::core::marker::Send + ::core::marker::Sync + 'static,
                    #(#bounds,)*
                {
                    #asserts
                    #def
                }
            }

            impl<#state> #pv::Register<#state> for #ident
            where
                #state: ::core::marker::Send + ::core::marker::Sync + 'static,
                #(#bounds,)*
            {
                fn register(router: #krate::Router<#state>) -> #krate::Router<#state> {
                    #register
                }
            }
        };
    }
}

/// The function plus a companion whose bodies are unreachable: later uses of the companion
/// type-check, so only the real error is reported.
fn dummy(kind: Kind, h: Option<&Handler>, item: &ItemFn, krate: &syn::Path) -> TokenStream {
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let accessors: &[(&str, &str)] = match (kind, h) {
        (Kind::Resource, Some(h)) => {
            let (a, _, _) = def_kind(h);
            if a == "template" {
                &[("template", "TemplateDef")]
            } else {
                &[("resource", "ResourceDef")]
            }
        }
        (Kind::Resource, None) => &[("resource", "ResourceDef"), ("template", "TemplateDef")],
        (Kind::Tool, _) => &[("tool", "ToolDef")],
        (Kind::Prompt, _) => &[("prompt", "PromptDef")],
    };
    let fns = accessors.iter().map(|(a, d)| {
        let a = Ident::new(a, Span::call_site());
        let d = Ident::new(d, Span::call_site());
        quote! {
            #[allow(dead_code)]
            #vis fn #a<__McpS>() -> #krate::#d<__McpS> { ::core::unreachable!() }
        }
    });
    let item = item.to_token_stream();
    quote! {
        #item
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #ident {}
        const _: () = {
            impl #ident { #(#fns)* }
            impl<__McpS> #krate::__private::Register<__McpS> for #ident {
                fn register(_: #krate::Router<__McpS>) -> #krate::Router<__McpS> { ::core::unreachable!() }
            }
        };
    }
}
