//! `router![a, b, c]`: a router with the given `#[tool]`, `#[prompt]` and `#[resource]`
//! functions and `serverInfo` from the calling crate.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitStr, Token};

use crate::krate;

pub(crate) struct RouterInput {
    krate: Option<syn::Path>,
    items: Punctuated<syn::Path, Token![,]>,
}

impl Parse for RouterInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut krate = None;
        if input.peek(Token![crate]) && input.peek2(Token![=]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            let s: LitStr = input.parse()?;
            krate = Some(s.parse::<syn::Path>()?);
            input.parse::<Token![;]>()?;
        }
        let items = Punctuated::parse_terminated(input)?;
        Ok(RouterInput { krate, items })
    }
}

pub(crate) fn expand(input: RouterInput) -> TokenStream {
    let krate = input.krate.unwrap_or_else(krate::default_path);
    let items = input.items.iter();
    quote! {{
        let router = #krate::Router::new().server_info(#krate::protocol::Implementation::new(
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
        ));
        #(let router = <#items as #krate::__private::Register<_>>::register(router);)*
        router
    }}
}
