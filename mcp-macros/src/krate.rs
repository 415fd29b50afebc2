//! Where `mcp-core` is, as seen from the crate being compiled.
//!
//! Generated code names everything through absolute paths (`::mcp_core::__private::…`). When the
//! user renamed the dependency (`mcp = { package = "mcp-core" }`), the name is read from their
//! `Cargo.toml` (and the workspace's, for `workspace = true` entries); `crate = "…"` overrides.

use std::path::{Path, PathBuf};

use proc_macro2::Span;

const PACKAGE: &str = "mcp-core";

/// The path generated code uses for `mcp_core`, unless `crate = "…"` says otherwise.
pub(crate) fn default_path() -> syn::Path {
    let name = std::env::var_os("CARGO_MANIFEST_DIR")
        .and_then(|dir| renamed(Path::new(&dir)))
        .unwrap_or_else(|| "mcp_core".to_owned());
    let ident = syn::Ident::new(&name, Span::call_site());
    syn::parse_quote!(::#ident)
}

/// The key under which `mcp-core` is a dependency of the manifest in `dir`, if it is renamed.
fn renamed(dir: &Path) -> Option<String> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    if let Some(key) = dependency_key(&manifest, false) {
        return Some(key.replace('-', "_"));
    }
    // `mcp = { workspace = true }` with the rename in `[workspace.dependencies]`.
    let root = workspace_manifest(dir)?;
    let key = dependency_key(&root, true)?;
    let uses = dependency_entries(&manifest).any(|(k, _)| k == key);
    uses.then(|| key.replace('-', "_"))
}

fn workspace_manifest(dir: &Path) -> Option<String> {
    let mut at: PathBuf = dir.to_path_buf();
    loop {
        if let Ok(text) = std::fs::read_to_string(at.join("Cargo.toml")) {
            if text.lines().any(|l| l.trim() == "[workspace]") {
                return Some(text);
            }
        }
        if !at.pop() {
            return None;
        }
    }
}

/// Whether a table header names a dependency table.
fn is_dependency_table(table: &str, workspace: bool) -> bool {
    if workspace {
        return table == "workspace.dependencies";
    }
    ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .any(|t| table == *t || table.ends_with(&format!(".{t}")))
}

/// `(key, rest of the entry)` for every dependency line, plus `[dependencies.key]` tables as
/// `(key, "")`.
fn dependency_entries(manifest: &str) -> impl Iterator<Item = (String, String)> + '_ {
    let mut table = String::new();
    manifest.lines().filter_map(move |line| {
        let line = line.trim();
        if line.starts_with('[') {
            table = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned();
            for t in ["dependencies.", "dev-dependencies.", "build-dependencies."] {
                if let Some(i) = table.find(t) {
                    return Some((unquote(&table[i + t.len()..]), String::new()));
                }
            }
            return None;
        }
        if !is_dependency_table(&table, false) && table != "workspace.dependencies" {
            return None;
        }
        let (key, value) = line.split_once('=')?;
        let key = unquote(key.trim());
        let key = key.split('.').next().unwrap_or_default().to_owned();
        Some((key, value.to_owned()))
    })
}

/// The dependency key whose `package` is `mcp-core`, when it differs from `mcp-core`.
fn dependency_key(manifest: &str, workspace: bool) -> Option<String> {
    let mut table = String::new();
    let mut subtable_key: Option<String> = None;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            table = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned();
            subtable_key = None;
            let prefixes: &[&str] = if workspace {
                &["workspace.dependencies."]
            } else {
                &["dependencies.", "dev-dependencies.", "build-dependencies."]
            };
            for t in prefixes {
                if let Some(i) = table.find(t) {
                    subtable_key = Some(unquote(&table[i + t.len()..]));
                }
            }
            continue;
        }
        if let Some(key) = &subtable_key {
            if names_package(line) {
                return Some(key.clone());
            }
            continue;
        }
        if !is_dependency_table(&table, workspace) {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if names_package(value) {
                return Some(unquote(key.trim()));
            }
        }
    }
    None
}

/// Whether `text` contains `package = "mcp-core"`.
fn names_package(text: &str) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find("package") {
        let after = rest[i + "package".len()..].trim_start();
        if let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            if value.starts_with(&format!("\"{PACKAGE}\""))
                || value.starts_with(&format!("'{PACKAGE}'"))
            {
                return true;
            }
        }
        rest = &rest[i + "package".len()..];
    }
    false
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches(|c| c == '"' || c == '\'').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_renames() {
        let m = "[package]\nname = \"x\"\n\n[dependencies]\nserde = \"1\"\nmcp = { package = \"mcp-core\", path = \"../mcp-core\" }\n";
        assert_eq!(dependency_key(m, false).as_deref(), Some("mcp"));
        let t = "[dependencies.my-mcp]\npath = \"x\"\npackage = \"mcp-core\"\n";
        assert_eq!(dependency_key(t, false).as_deref(), Some("my-mcp"));
        let plain = "[dependencies]\nmcp-core = { path = \"../mcp-core\" }\n";
        assert_eq!(dependency_key(plain, false), None);
        let ws = "[workspace]\n[workspace.dependencies]\nmcp = { package = \"mcp-core\", path = \"m\" }\n";
        assert_eq!(dependency_key(ws, true).as_deref(), Some("mcp"));
        let member = "[dependencies]\nmcp = { workspace = true }\n";
        assert!(dependency_entries(member).any(|(k, _)| k == "mcp"));
    }
}
