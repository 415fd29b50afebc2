//! The client configurations the docs tell users to paste: every ```json block preceded by a
//! `<!-- client-config: CLIENT -->` marker in README.md and docs/*.md. Each must parse, have the
//! shape that client reads (Claude Desktop, VS Code, Cursor), name a binary of this package with
//! flags it accepts and environment variables it reads, and — for `hello` — really answer
//! `initialize` at the command or the URL it gives.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

const MARKER: &str = "<!-- client-config:";

/// The binaries of `mcp-examples`, by name.
fn binary(name: &str) -> Option<&'static str> {
    Some(match name {
        "hello" => env!("CARGO_BIN_EXE_hello"),
        "conformance-server" => env!("CARGO_BIN_EXE_conformance-server"),
        "postgres-server" => env!("CARGO_BIN_EXE_postgres-server"),
        "axum-mount" => env!("CARGO_BIN_EXE_axum-mount"),
        "oauth-server" => env!("CARGO_BIN_EXE_oauth-server"),
        "gateway" => env!("CARGO_BIN_EXE_gateway"),
        "audit-verify" => env!("CARGO_BIN_EXE_audit-verify"),
        _ => return None,
    })
}

#[derive(Debug)]
struct Snippet {
    file: String,
    line: usize,
    client: String,
    json: Value,
}

/// Every marked ```json block of the README and the book.
fn snippets() -> Vec<Snippet> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a docs entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);

    let mut found = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable markdown");
        let file = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(rest) = line.trim().strip_prefix(MARKER) else {
                continue;
            };
            let client = rest.trim().trim_end_matches("-->").trim().to_owned();
            let here = format!("{file}:{}", i + 1);
            assert_eq!(
                lines.get(i + 1).map(|l| l.trim()),
                Some("```json"),
                "{here}: a client-config marker must be followed by a ```json block"
            );
            let body: Vec<&str> = lines[i + 2..]
                .iter()
                .take_while(|l| l.trim() != "```")
                .copied()
                .collect();
            let json = serde_json::from_str(&body.join("\n"))
                .unwrap_or_else(|e| panic!("{here}: the {client} configuration is not JSON: {e}"));
            found.push(Snippet {
                file: file.clone(),
                line: i + 1,
                client,
                json,
            });
        }
    }
    found
}

fn object<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} must be a JSON object, not {v}"))
}

fn only_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str) {
    for key in obj.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "{what}: unexpected key {key:?} (this client reads {allowed:?})"
        );
    }
}

fn strings(v: Option<&Value>, what: &str) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .unwrap_or_else(|| panic!("{what} must hold strings, not {i}"))
                    .to_owned()
            })
            .collect(),
        Some(other) => panic!("{what} must be an array of strings, not {other}"),
    }
}

fn string_map(v: Option<&Value>, what: &str) -> Vec<(String, String)> {
    match v {
        None => Vec::new(),
        Some(v) => object(v, what)
            .iter()
            .map(|(k, v)| {
                let v = v
                    .as_str()
                    .unwrap_or_else(|| panic!("{what}.{k} must be a string"));
                (k.clone(), v.to_owned())
            })
            .collect(),
    }
}

/// What a configuration asks the client to run or reach.
#[derive(Debug)]
enum Launch {
    Stdio {
        command: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
    Http {
        url: String,
    },
}

/// Checks the shape for `client` and returns each server's launch, by name.
fn servers_of(s: &Snippet) -> Vec<(String, Launch)> {
    let here = format!("{}:{} ({})", s.file, s.line, s.client);
    let top = object(&s.json, &here);
    let (list_key, allowed_top): (&str, &[&str]) = match s.client.as_str() {
        "claude-desktop" | "cursor" => ("mcpServers", &["mcpServers"]),
        "vscode" => ("servers", &["servers", "inputs"]),
        other => panic!("{here}: unknown client {other:?} (claude-desktop, vscode, cursor)"),
    };
    only_keys(top, allowed_top, &here);
    let servers = object(
        top.get(list_key)
            .unwrap_or_else(|| panic!("{here}: no top-level {list_key:?}")),
        &format!("{here} {list_key}"),
    );
    assert!(!servers.is_empty(), "{here}: no server configured");
    let inputs: Vec<String> = top
        .get("inputs")
        .map(|i| {
            i.as_array()
                .unwrap_or_else(|| panic!("{here}: inputs must be an array"))
                .iter()
                .map(|input| {
                    let input = object(input, &format!("{here} input"));
                    only_keys(
                        input,
                        &[
                            "type",
                            "id",
                            "description",
                            "password",
                            "options",
                            "default",
                        ],
                        &format!("{here} input"),
                    );
                    assert!(
                        matches!(
                            input.get("type").and_then(Value::as_str),
                            Some("promptString" | "pickString")
                        ),
                        "{here}: an input's type is promptString or pickString"
                    );
                    input
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_else(|| panic!("{here}: an input needs an id"))
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default();

    let mut out = Vec::new();
    for (name, server) in servers {
        let what = format!("{here} server {name:?}");
        let server = object(server, &what);
        let launch = match s.client.as_str() {
            "claude-desktop" => {
                only_keys(server, &["command", "args", "env"], &what);
                stdio_launch(server, &what)
            }
            "cursor" => {
                if server.contains_key("url") {
                    only_keys(server, &["url", "headers"], &what);
                    http_launch(server, &what)
                } else {
                    only_keys(server, &["command", "args", "env"], &what);
                    stdio_launch(server, &what)
                }
            }
            _ => match server.get("type").and_then(Value::as_str) {
                Some("stdio") => {
                    only_keys(
                        server,
                        &["type", "command", "args", "env", "envFile"],
                        &what,
                    );
                    stdio_launch(server, &what)
                }
                Some("http") => {
                    only_keys(server, &["type", "url", "headers"], &what);
                    http_launch(server, &what)
                }
                other => panic!("{what}: \"type\" must be \"stdio\" or \"http\", not {other:?}"),
            },
        };
        // `${input:ID}` must name a declared input.
        let text = Value::Object(server.clone()).to_string();
        for part in text.split("${input:").skip(1) {
            let id = part.split('}').next().unwrap_or_default();
            assert!(
                inputs.iter().any(|i| i == id),
                "{what}: ${{input:{id}}} names no declared input"
            );
        }
        out.push((name.clone(), launch));
    }
    out
}

fn stdio_launch(server: &Map<String, Value>, what: &str) -> Launch {
    let command = server
        .get("command")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{what}: no \"command\""))
        .to_owned();
    Launch::Stdio {
        command,
        args: strings(server.get("args"), &format!("{what} args")),
        env: string_map(server.get("env"), &format!("{what} env")),
    }
}

fn http_launch(server: &Map<String, Value>, what: &str) -> Launch {
    let url = server
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{what}: no \"url\""))
        .to_owned();
    Launch::Http { url }
}

/// The binary a documented command path names: `<absolute prefix>/target/release/<bin>`.
fn documented_binary(command: &str, what: &str) -> &'static str {
    assert!(
        command.starts_with('/') || command.starts_with("${workspaceFolder}/"),
        "{what}: clients need an absolute command path, not {command:?}"
    );
    let (dir, name) = command.rsplit_once('/').unwrap_or(("", command));
    assert!(
        dir.ends_with("/target/release"),
        "{what}: {command:?} is not a target/release/<binary> path"
    );
    binary(name).unwrap_or_else(|| panic!("{what}: {name:?} is not a binary of mcp-examples"))
}

fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `bin ARGS --help`: every documented argument must be accepted, every documented
/// environment variable named in the usage text.
fn check_flags(bin: &str, args: &[String], env: &[(String, String)], what: &str) {
    let out = Command::new(bin)
        .args(args)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {bin}: {e}"));
    let usage = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what}: `{bin} {} --help` failed, so an argument is not accepted:\n{usage}",
        args.join(" ")
    );
    for (key, _) in env {
        assert!(
            usage.contains(key.as_str()),
            "{what}: the usage text of {bin} does not mention {key}"
        );
    }
}

fn initialize_line() -> String {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "client-configs-test", "version": "1"}
        }
    })
    .to_string()
}

/// Starts the command as the client would and checks it answers `initialize` on stdout.
fn check_stdio_answers(bin: &str, args: &[String], what: &str) {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start {bin}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{}", initialize_line()).expect("write initialize");
    stdin.flush().expect("flush");
    let mut line = String::new();
    let read = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
    drop(stdin);
    kill(child);
    read.unwrap_or_else(|e| panic!("{what}: reading the answer failed: {e}"));
    let answer: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("{what}: the answer is not JSON ({e}): {line:?}"));
    assert_eq!(
        answer["result"]["protocolVersion"], "2025-06-18",
        "{what}: unexpected answer {answer}"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// POSTs `initialize` to `http://127.0.0.1:PORT/PATH` and returns the status line.
fn post_initialize(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = initialize_line();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    Ok(response.lines().next().unwrap_or_default().to_owned())
}

/// Starts `hello --http 127.0.0.1:PORT` as the docs say and checks the URL's path answers.
fn check_http_answers(url: &str, what: &str) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{what}: a local server's URL starts with http://, not {url:?}"));
    let (authority, path) = rest.split_once('/').map_or((rest, "/"), |(a, p)| (a, p));
    let path = format!("/{path}");
    let (host, port) = authority
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{what}: {url:?} names no port"));
    assert!(
        matches!(host, "127.0.0.1" | "localhost"),
        "{what}: {url:?} is not a loopback URL"
    );
    port.parse::<u16>()
        .unwrap_or_else(|_| panic!("{what}: {port:?} is not a port"));
    assert_eq!(
        path,
        mcp_transport::http::HttpConfig::default().path,
        "{what}: {url:?} is not the path the HTTP transport serves"
    );

    // The documented port may be taken here: serve on a free one, at the documented path.
    let port = free_port();
    let bin = binary("hello").expect("hello");
    let child = Command::new(bin)
        .args(["--http", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start hello --http: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        match post_initialize(port, &path) {
            Ok(status) if !status.is_empty() => break status,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => {
                kill(child);
                panic!("{what}: hello --http never answered: {other:?}");
            }
        }
    };
    kill(child);
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "{what}: POST {path} answered {status:?}"
    );
}

#[test]
fn documented_client_configurations_work() {
    let snippets = snippets();
    for client in ["claude-desktop", "vscode", "cursor"] {
        assert!(
            snippets.iter().any(|s| s.client == client),
            "the docs have no marked {client} configuration"
        );
    }
    let mut http_checked = false;
    for s in &snippets {
        for (name, launch) in servers_of(s) {
            let what = format!("{}:{} ({}) server {name:?}", s.file, s.line, s.client);
            match launch {
                Launch::Stdio { command, args, env } => {
                    let bin = documented_binary(&command, &what);
                    check_flags(bin, &args, &env, &what);
                    if bin == binary("hello").expect("hello") {
                        check_stdio_answers(bin, &args, &what);
                    }
                }
                Launch::Http { url } => {
                    check_http_answers(&url, &what);
                    http_checked = true;
                }
            }
        }
    }
    assert!(http_checked, "no HTTP configuration was checked");
}
