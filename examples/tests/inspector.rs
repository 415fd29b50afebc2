//! The MCP Inspector's CLI mode (`--cli`) against the `hello` example, over stdio and HTTP:
//! the commands docs/clients.md tells users to run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

fn inspector() -> (String, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/inspector");
    let out = Command::new("bash")
        .arg(script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run .ci/inspector");
    assert!(
        out.status.success(),
        "provisioning the Inspector failed (see stderr above)"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().expect("a result line");
    let (node, cli) = last.split_once(' ').expect("\"<node> <cli>\"");
    (node.to_owned(), cli.to_owned())
}

fn run(node: &str, cli: &str, args: &[&str]) -> Value {
    let out = Command::new(node)
        .arg(cli)
        .arg("--cli")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the inspector");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "inspector {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("inspector printed no JSON ({e}):\n{stdout}"))
}

fn tool_names(list: &Value) -> Vec<String> {
    list["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn inspector_cli_over_stdio() {
    let (node, cli) = inspector();
    let hello = env!("CARGO_BIN_EXE_hello");
    let list = run(&node, &cli, &[hello, "--method", "tools/list"]);
    assert_eq!(tool_names(&list), ["echo", "add"]);
    let call = run(
        &node,
        &cli,
        &[
            hello,
            "--method",
            "tools/call",
            "--tool-name",
            "echo",
            "--tool-arg",
            "text=hello",
        ],
    );
    assert_eq!(call["content"][0]["text"], "hello");
}

#[test]
fn inspector_cli_over_http() {
    let (node, cli) = inspector();
    let mut server = Command::new(env!("CARGO_BIN_EXE_hello"))
        .args(["--http", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hello --http");
    let stderr = server.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("hello printed its address");
    let list = run(
        &node,
        &cli,
        &[&url, "--transport", "http", "--method", "tools/list"],
    );
    let call = run(
        &node,
        &cli,
        &[
            &url,
            "--transport",
            "http",
            "--method",
            "tools/call",
            "--tool-name",
            "add",
            "--tool-arg",
            "a=2",
            "--tool-arg",
            "b=40",
        ],
    );
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(tool_names(&list), ["echo", "add"]);
    assert_eq!(call["content"][0]["text"], "42");
}
