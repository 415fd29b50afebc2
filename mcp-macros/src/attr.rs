//! Parsing of the attribute arguments: `#[tool(name = "x", read_only, scopes = ["a"])]`.
//!
//! Every key is checked against the list the macro accepts: an unknown key lists the valid ones,
//! a repeated key points at both places (as axum-macros and tokio-macros do).

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, ExprArray, ExprLit, Ident, Lit, LitBool, LitStr, Token};

use crate::ctxt::Errors;

/// One `key` or `key = value`.
pub(crate) struct Arg {
    pub(crate) key: Ident,
    pub(crate) value: Option<Expr>,
}

/// Everything between the parentheses: positional string literals, then keys.
#[derive(Default)]
pub(crate) struct AttrArgs {
    pub(crate) positional: Vec<LitStr>,
    pub(crate) args: Vec<Arg>,
}

impl Parse for AttrArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut out = AttrArgs::default();
        while !input.is_empty() {
            if input.peek(LitStr) {
                out.positional.push(input.parse()?);
            } else {
                let key = Ident::parse_any(input).map_err(|e| {
                    syn::Error::new(e.span(), "expected a key such as `name = \"...\"`")
                })?;
                let value = if input.peek(Token![=]) {
                    input.parse::<Token![=]>()?;
                    Some(input.parse::<Expr>()?)
                } else {
                    None
                };
                out.args.push(Arg { key, value });
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(out)
    }
}

/// The keys of one attribute, checked against the valid ones.
pub(crate) struct Keys {
    args: Vec<Arg>,
}

impl Keys {
    /// Checks `args` against `valid`, reporting unknown and repeated keys.
    pub(crate) fn check(args: Vec<Arg>, attr: &str, valid: &[&str], errs: &mut Errors) -> Self {
        let mut kept: Vec<Arg> = Vec::new();
        for arg in args {
            let key = arg.key.unraw().to_string();
            if !valid.contains(&key.as_str()) {
                let list = valid
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                errs.spanned(
                    &arg.key,
                    format!("unknown key `{key}` in `#[{attr}]`; expected one of: {list}"),
                );
                continue;
            }
            if let Some(first) = kept.iter().find(|a| a.key.unraw() == key) {
                let mut e = syn::Error::new(arg.key.span(), format!("duplicate key `{key}`"));
                e.combine(syn::Error::new(
                    first.key.span(),
                    format!("`{key}` is first set here"),
                ));
                errs.push(e);
                continue;
            }
            kept.push(arg);
        }
        Keys { args: kept }
    }

    fn get(&self, key: &str) -> Option<&Arg> {
        self.args.iter().find(|a| a.key.unraw() == key)
    }

    /// `key = "string"`.
    pub(crate) fn str(&self, key: &str, errs: &mut Errors) -> Option<LitStr> {
        let arg = self.get(key)?;
        match &arg.value {
            Some(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) => Some(s.clone()),
            Some(other) => {
                errs.spanned(
                    other,
                    format!("`{key}` expects a string literal, like `{key} = \"...\"`"),
                );
                None
            }
            None => {
                errs.spanned(
                    &arg.key,
                    format!("`{key}` expects a value, like `{key} = \"...\"`"),
                );
                None
            }
        }
    }

    /// `key` (true), `key = true` or `key = false`.
    pub(crate) fn flag(&self, key: &str, errs: &mut Errors) -> Option<LitBool> {
        let arg = self.get(key)?;
        match &arg.value {
            None => Some(LitBool::new(true, arg.key.span())),
            Some(Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            })) => Some(b.clone()),
            Some(other) => {
                errs.spanned(
                    other,
                    format!("`{key}` is a flag: write `{key}`, `{key} = true` or `{key} = false`"),
                );
                None
            }
        }
    }

    /// `key = ["a", "b"]`.
    pub(crate) fn str_list(&self, key: &str, errs: &mut Errors) -> Option<Vec<LitStr>> {
        let arg = self.get(key)?;
        let bad = |errs: &mut Errors, at: &dyn quote::ToTokens| {
            errs.spanned(
                at,
                format!("`{key}` expects a list of string literals, like `{key} = [\"a\", \"b\"]`"),
            )
        };
        match &arg.value {
            Some(Expr::Array(ExprArray { elems, .. })) => {
                let mut out = Vec::new();
                for e in elems {
                    match e {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(s), ..
                        }) => out.push(s.clone()),
                        other => bad(errs, other),
                    }
                }
                Some(out)
            }
            Some(other) => {
                bad(errs, other);
                None
            }
            None => {
                bad(errs, &arg.key);
                None
            }
        }
    }

    /// `key = path::to::item`.
    pub(crate) fn path(&self, key: &str, errs: &mut Errors) -> Option<syn::Path> {
        let arg = self.get(key)?;
        match &arg.value {
            Some(Expr::Path(p)) if p.qself.is_none() => Some(p.path.clone()),
            Some(other) => {
                errs.spanned(
                    other,
                    format!("`{key}` expects the path of a function, like `{key} = my_fn`"),
                );
                None
            }
            None => {
                errs.spanned(
                    &arg.key,
                    format!("`{key}` expects the path of a function, like `{key} = my_fn`"),
                );
                None
            }
        }
    }

    /// `crate = "path"`: where `mcp_core` is, for generated code.
    pub(crate) fn krate(&self, errs: &mut Errors) -> Option<syn::Path> {
        let s = self.str("crate", errs)?;
        match s.parse::<syn::Path>() {
            Ok(p) => Some(p),
            Err(_) => {
                errs.spanned(
                    &s,
                    "`crate` expects the path of the mcp-core crate, like `crate = \"mcp\"`",
                );
                None
            }
        }
    }
}
