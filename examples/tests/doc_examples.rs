//! Every public item of the library crates has a compiled example in its docs, or a sentence
//! pointing at the example that covers it ("See [`Type`] for an example.").
//!
//! The check reads the sources (stable Rust has no rustdoc JSON): it finds `pub` modules,
//! structs, enums, unions, traits, type aliases, constants, statics and functions, the `pub`
//! methods and constants of inherent impls, the methods of public traits, exported
//! `macro_rules!` macros and the proc macros of `mcp-macros`. Fields, variants, trait impls,
//! re-exports, `#[doc(hidden)]` and `#[cfg(test)]` code are not counted. It relies on the
//! workspace's `unreachable_pub` lint: an item marked `pub` is reachable.
//!
//! An example is a fenced block that rustdoc compiles (no language, `rust`, `no_run`,
//! `should_panic`, `compile_fail`, …); an `ignore`d block does not count.

use std::path::{Path, PathBuf};

use regex::Regex;

const CRATES: [&str; 4] = ["mcp-core", "mcp-macros", "mcp-transport", "mcp-testing"];

/// Fence languages rustdoc does not compile.
const NOT_RUST: &[&str] = &[
    "text",
    "json",
    "jsonc",
    "toml",
    "sh",
    "bash",
    "shell",
    "console",
    "http",
    "sql",
    "yaml",
    "diff",
    "nginx",
    "ini",
    "dockerfile",
    "js",
    "javascript",
    "python",
    "txt",
    "plain",
    "none",
];

/// Blanks comments and the contents of string and character literals (keeping every byte
/// offset and newline), so braces and keywords can be found by position.
fn sanitize(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            let end = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < b.len() && depth > 0 {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (b[i] == b'r' || b[i..].starts_with(b"br")) && (i == 0 || !ident(b[i - 1])) {
            // A raw string `r#"…"#` (or `br`), else an identifier starting with r.
            let start = if b[i] == b'b' { i + 2 } else { i + 1 };
            let hashes = b[start..].iter().take_while(|&&c| c == b'#').count();
            if b.get(start + hashes) == Some(&b'"') {
                let body = start + hashes + 1;
                let mut close = vec![b'"'];
                close.extend(std::iter::repeat_n(b'#', hashes));
                let end = b[body..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map_or(b.len(), |p| body + p);
                blank(&mut out, body, end);
                i = end + close.len();
            } else {
                i += 1;
            }
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j);
            i = j + 1;
        } else if b[i] == b'\'' {
            // A character literal, or a lifetime / label (left alone).
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map(|p| i + 2 + p)
            } else {
                let len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 1 + len)
            };
            match end {
                Some(end) => {
                    blank(&mut out, i + 1, end);
                    i = end + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8 valid")
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Block {
    Module,
    Impl,
    PublicTrait,
    Other,
}

#[derive(Debug)]
struct Missing {
    place: String,
    item: String,
    why: &'static str,
}

struct Checker {
    item: Regex,
    attr: Regex,
    generics: Regex,
    include: Regex,
    link: Regex,
    missing: Vec<Missing>,
    counted: usize,
}

impl Checker {
    fn new() -> Checker {
        Checker {
            item: Regex::new(
                r#"(?m)^[ \t]*(?P<vis>pub(?:\s*\([^)]*\))?\s+)?(?:(?:const|async|unsafe|extern(?:\s*"\s*")?)\s+)*(?P<kind>fn|struct|enum|trait|type|mod|const|static|union|macro_rules!)\s*(?:r#)?(?P<name>\w+)"#,
            )
            .expect("item regex"),
            attr: Regex::new(r"#!?\[[^\]]*\]").expect("attribute regex"),
            generics: Regex::new(r"<[^<>]*>").expect("generics regex"),
            include: Regex::new(r#"include_str!\(\s*"([^"]+)"\s*\)"#).expect("include regex"),
            link: Regex::new(r"(?i)for an example|for examples").expect("link regex"),
            missing: Vec::new(),
            counted: 0,
        }
    }

    /// What a `{` opens, judged by the text since the previous `;`, `{` or `}`.
    fn block(&self, header: &str) -> Block {
        let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
        if hidden_or_test(&header) {
            return Block::Other;
        }
        let body = self.attr.replace_all(&header, " ");
        let body = body.trim();
        let body = body.strip_prefix("unsafe ").unwrap_or(body);
        if body.starts_with("impl") && !body[4..].starts_with(|c: char| c.is_alphanumeric()) {
            let mut plain = body.to_owned();
            while self.generics.is_match(&plain) {
                plain = self.generics.replace_all(&plain, "").into_owned();
            }
            let is_trait_impl = plain.split_whitespace().any(|w| w == "for");
            return if is_trait_impl {
                Block::Other
            } else {
                Block::Impl
            };
        }
        if body.starts_with("macro_rules!") {
            return Block::Other;
        }
        if let Some(rest) = body.strip_prefix("pub ") {
            let rest = rest.strip_prefix("unsafe ").unwrap_or(rest);
            if rest.starts_with("trait ") {
                return Block::PublicTrait;
            }
        }
        let words: Vec<&str> = body.split_whitespace().collect();
        let is_mod = words.first() == Some(&"mod")
            || (words.first().is_some_and(|w| w.starts_with("pub")) && words.contains(&"mod"));
        if is_mod {
            Block::Module
        } else {
            Block::Other
        }
    }

    /// `///` lines of a region, plus files it includes with `#[doc = include_str!(…)]`.
    fn outer_docs(&self, region: &str, dir: &Path) -> Vec<String> {
        let mut docs: Vec<String> = region
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("///") && !l.starts_with("////"))
            .map(|l| l[3..].to_owned())
            .collect();
        for line in region
            .lines()
            .filter(|l| l.trim_start().starts_with("#[doc"))
        {
            docs.extend(self.included(line, dir));
        }
        docs
    }

    /// `//!` lines of a file, plus `#![doc = include_str!(…)]`.
    fn inner_docs(&self, path: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut docs = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(doc) = line.strip_prefix("//!") {
                docs.push(doc.to_owned());
            } else if line.starts_with("#![doc") {
                docs.extend(self.included(line, dir));
            }
        }
        docs
    }

    fn included(&self, line: &str, dir: &Path) -> Vec<String> {
        self.include
            .captures(line)
            .and_then(|c| std::fs::read_to_string(dir.join(&c[1])).ok())
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// `None` when the docs hold a compiled example or point at one; else why not.
    fn verdict(&self, docs: &[String]) -> Option<&'static str> {
        let (mut example, mut ignored, mut open) = (false, false, false);
        for line in docs {
            let Some(info) = line.trim().strip_prefix("```") else {
                continue;
            };
            if open {
                open = false;
                continue;
            }
            open = true;
            let tokens: Vec<String> = info
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|t| !t.is_empty())
                .map(str::to_ascii_lowercase)
                .collect();
            if tokens.iter().any(|t| NOT_RUST.contains(&t.as_str())) {
                continue;
            }
            if tokens.iter().any(|t| t == "ignore") {
                ignored = true;
            } else {
                example = true;
            }
        }
        if example || docs.iter().any(|d| self.link.is_match(d)) {
            None
        } else if ignored {
            Some("its only example is `ignore`d")
        } else {
            Some("no example")
        }
    }

    fn record(&mut self, place: String, item: String, docs: &[String]) {
        self.counted += 1;
        if let Some(why) = self.verdict(docs) {
            self.missing.push(Missing { place, item, why });
        }
    }

    fn check_file(&mut self, path: &Path, root: &Path, proc_macros: bool) {
        let src = std::fs::read_to_string(path).expect("readable source");
        let clean = sanitize(&src);
        let dir = path.parent().unwrap_or(Path::new("."));
        let shown = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();

        enum Event<'h> {
            Brace(usize, u8),
            Item(usize, regex::Captures<'h>),
        }
        let mut events: Vec<Event<'_>> = clean
            .bytes()
            .enumerate()
            .filter(|(_, c)| matches!(c, b'{' | b'}' | b';'))
            .map(|(i, c)| Event::Brace(i, c))
            .collect();
        for caps in self.item.captures_iter(&clean) {
            let start = caps
                .name("vis")
                .or_else(|| caps.name("kind"))
                .map_or(0, |m| m.start());
            events.push(Event::Item(start, caps));
        }
        events.sort_by_key(|e| match e {
            Event::Item(i, _) => (*i, 0),
            Event::Brace(i, _) => (*i, 1),
        });

        let mut stack = vec![Block::Module];
        let mut boundary = 0usize;
        for event in events {
            match event {
                Event::Brace(i, c) => {
                    match c {
                        b'{' => {
                            let top = *stack.last().unwrap_or(&Block::Other);
                            let block = if top == Block::Other {
                                Block::Other
                            } else {
                                self.block(&clean[boundary..i])
                            };
                            stack.push(block);
                        }
                        b'}' if stack.len() > 1 => {
                            stack.pop();
                        }
                        _ => {}
                    }
                    boundary = i + 1;
                }
                Event::Item(start, caps) => {
                    let region_clean = &clean[boundary..start];
                    if hidden_or_test(&region_clean.replace(char::is_whitespace, "")) {
                        continue;
                    }
                    let public = caps.name("vis").is_some_and(|v| v.as_str().trim() == "pub");
                    let kind = &caps["kind"];
                    let name = &caps["name"];
                    let line = src[..start].matches('\n').count() + 1;
                    let counted = match *stack.last().unwrap_or(&Block::Other) {
                        Block::Module => match kind {
                            "macro_rules!" => region_clean.contains("macro_export"),
                            "fn" if proc_macros => region_clean.contains("#[proc_macro"),
                            _ => public,
                        },
                        Block::Impl => public && matches!(kind, "fn" | "const"),
                        Block::PublicTrait => kind == "fn",
                        Block::Other => false,
                    };
                    if !counted {
                        continue;
                    }
                    let mut docs = self.outer_docs(&src[boundary..start], dir);
                    let declared_here = clean[caps.get(0).map_or(0, |m| m.end())..]
                        .trim_start()
                        .starts_with(';');
                    if kind == "mod" && declared_here {
                        docs.extend(self.module_docs(path, name));
                    }
                    self.record(format!("{shown}:{line}"), format!("{kind} {name}"), &docs);
                }
            }
        }
    }

    /// The inner docs of the file of `mod name;` declared in `path`.
    fn module_docs(&self, path: &Path, name: &str) -> Vec<String> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let base = if matches!(stem, "lib" | "mod" | "main") {
            dir.to_path_buf()
        } else {
            dir.join(stem)
        };
        [
            base.join(format!("{name}.rs")),
            base.join(name).join("mod.rs"),
        ]
        .iter()
        .find(|p| p.exists())
        .map(|p| self.inner_docs(p))
        .unwrap_or_default()
    }
}

fn hidden_or_test(text: &str) -> bool {
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    squeezed.contains("cfg(test)") || squeezed.contains("doc(hidden)")
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a source directory")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "bin") {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_public_item_has_an_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace root");
    let mut checker = Checker::new();
    for krate in CRATES {
        let src = root.join(krate).join("src");
        let docs = checker.inner_docs(&src.join("lib.rs"));
        checker.record(
            format!("{krate}/src/lib.rs"),
            format!("crate {krate}"),
            &docs,
        );
        let mut files = Vec::new();
        sources(&src, &mut files);
        for file in files {
            checker.check_file(&file, &root, krate == "mcp-macros");
        }
    }
    assert!(
        checker.counted > 500,
        "only {} public items found: the scan is broken",
        checker.counted
    );
    let report: Vec<String> = checker
        .missing
        .iter()
        .map(|m| format!("  {}: {} ({})", m.place, m.item, m.why))
        .collect();
    assert!(
        report.is_empty(),
        "{} of {} public items have no example; add an `# Examples` section with a doctest \
         (or, for a trivial accessor, \"See [`Type`] for an example.\"):\n{}",
        report.len(),
        checker.counted,
        report.join("\n")
    );
}

#[test]
fn the_scan_sees_through_strings_and_comments() {
    let src = "let s = \"{ pub fn fake() }\"; // pub fn no() {\nlet c = '{'; let r = r#\"}\"#; fn f<'a>(x: &'a str) {}";
    let clean = sanitize(src);
    assert_eq!(clean.len(), src.len());
    assert_eq!(clean.matches('{').count(), 1, "{clean}");
    assert_eq!(clean.matches('}').count(), 1, "{clean}");
    assert!(!clean.contains("fake") && !clean.contains("no()"));
    assert!(clean.contains("'a"));

    let checker = Checker::new();
    let docs = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        checker.verdict(&docs("Adds.\n```\nassert!(true);\n```")),
        None
    );
    assert_eq!(checker.verdict(&docs("See [`Foo`] for an example.")), None);
    assert!(checker
        .verdict(&docs("Adds.\n```text\nnot rust\n```"))
        .is_some());
    assert!(checker.verdict(&docs("```ignore\nx\n```")).is_some());
    assert_eq!(
        checker.block("impl<S> Router<S> where S: Clone"),
        Block::Impl
    );
    assert_eq!(
        checker.block("impl<S> tower::Layer<S> for TraceLayer"),
        Block::Other
    );
    assert_eq!(
        checker.block("pub trait Remote: Send + Sync + 'static"),
        Block::PublicTrait
    );
    assert_eq!(checker.block("#[cfg(test)] mod tests"), Block::Other);
    assert_eq!(checker.block("pub mod meta"), Block::Module);
}
