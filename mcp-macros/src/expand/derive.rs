//! `#[derive(ObjectArgs)]`: marks a struct with named fields as a JSON object type, so that it
//! can be a whole argument list (`Args<T>`, `#[serde(flatten)]`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Expr, ExprLit, Fields, Lit, Meta, Token};

use crate::attr::{AttrArgs, Keys};
use crate::ctxt::Errors;
use crate::krate;

pub(crate) fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let mut errs = Errors::default();
    let mut krate = None;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("object_args"))
    {
        if let Some(args) = errs.ok(attr.parse_args::<AttrArgs>()) {
            let keys = Keys::check(args.args, "object_args", &["crate"], &mut errs);
            krate = keys.krate(&mut errs);
        }
    }
    let krate = krate.unwrap_or_else(krate::default_path);

    // serde attributes that change the JSON shape.
    let mut transparent = false;
    let mut from: Option<syn::Type> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let Ok(metas) = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        else {
            continue;
        };
        for meta in metas {
            match meta {
                Meta::Path(p) if p.is_ident("transparent") => transparent = true,
                Meta::NameValue(nv) if nv.path.is_ident("from") || nv.path.is_ident("try_from") => {
                    if let Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) = &nv.value
                    {
                        from = errs.ok(s.parse());
                    }
                }
                _ => {}
            }
        }
    }

    let mut bounds = Vec::new();
    if let Some(t) = &from {
        bounds.push(quote!(#t: #krate::__private::ObjectArgs));
    }
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => {
                if transparent && from.is_none() {
                    if let Some(f) = named.named.first() {
                        let t = &f.ty;
                        bounds.push(quote!(#t: #krate::__private::ObjectArgs));
                    }
                }
            }
            Fields::Unnamed(_) if from.is_some() => {}
            Fields::Unnamed(u) if transparent => {
                if let Some(f) = u.unnamed.first() {
                    let t = &f.ty;
                    bounds.push(quote!(#t: #krate::__private::ObjectArgs));
                }
            }
            Fields::Unnamed(u) => errs.spanned(
                u,
                "a tuple struct is a JSON array, not an object; give the fields names",
            ),
            Fields::Unit => errs.spanned(
                s.struct_token,
                "a unit struct is JSON `null`, not an object; give it named fields",
            ),
        },
        Data::Enum(e) if from.is_none() => errs.spanned(
            e.enum_token,
            "an enum is not a JSON object type (its schema is a `oneOf` or a string enum); wrap it in a struct field",
        ),
        Data::Enum(_) => {}
        Data::Union(u) => errs.spanned(u.union_token, "unions cannot be deserialized"),
    }
    errs.finish()?;

    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut predicates: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    predicates.extend(bounds);
    Ok(quote! {
        impl #impl_generics #krate::__private::ObjectArgs for #ident #ty_generics
        where #(#predicates,)*
        {}
    })
}
