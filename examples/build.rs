//! Hands `src/bin/hello.rs` to its in-process test (`tests/hello_inprocess.rs`) as
//! `$OUT_DIR/hello.rs`: the README's quick start stays one self-contained file, and `include!`,
//! which the test uses to compile that very file, refuses the file's inner doc comment — so the
//! copy leaves it out and is otherwise the file as it is.

use std::path::Path;

const HELLO: &str = "src/bin/hello.rs";

fn main() {
    println!("cargo:rerun-if-changed={HELLO}");
    let source = std::fs::read_to_string(HELLO).expect("src/bin/hello.rs is readable");
    let items: String = source
        .lines()
        .filter(|line| !line.starts_with("//!"))
        .map(|line| format!("{line}\n"))
        .collect();
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    std::fs::write(Path::new(&out).join("hello.rs"), items).expect("OUT_DIR is writable");
}
