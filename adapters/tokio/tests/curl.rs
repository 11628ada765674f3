//! The `demo` and `echo` examples against a real peer: the `curl` binary.
//! Skipped, with a notice, when `curl` is not on PATH.
//!
//! The examples run as child processes on `127.0.0.1:0`; their first
//! stdout line says where they listen, the following lines are the demo's
//! request log. Children are killed when a test ends, however it ends.

use std::future::Future;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(15);
/// How long curl may take for one transfer.
const CURL_MAX_TIME: &str = "5";

async fn within<F: Future>(test: F) -> F::Output {
    timeout(LIMIT, test).await.expect("test timed out")
}

fn curl_available() -> bool {
    let found = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("notice: `curl` is not on PATH; skipping this test");
    }
    found
}

// ---- the example binaries ------------------------------------------------------

/// Serializes lookups (and a build, if one is needed) across tests.
static BUILD: Mutex<()> = Mutex::new(());

/// The h1-tokio example `name`, from `target/<profile>/examples`, next to
/// this test's `target/<profile>/deps`. Other adapters have an `echo`
/// example too, and the unhashed `examples/echo` is whichever was built
/// last, so the hashed binary whose dep-info names this crate's source is
/// used. Builds the examples if none is there, or if the one there is
/// older than the sources (`cargo test --test curl` does not build them).
fn example(name: &str) -> PathBuf {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let examples = profile_dir.join("examples");
    if let Some(path) = find_example(&examples, name) {
        let built = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        if built.is_some_and(|built| built >= newest_source()) {
            return path;
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "-p", "h1-tokio", "--examples"]);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            build.arg("--release");
        }
        Some(profile) => {
            build.args(["--profile", profile]);
        }
    }
    let status = build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build -p h1-tokio --examples failed");
    find_example(&examples, name).unwrap_or_else(|| panic!("no {name} example in {}", examples.display()))
}

/// When the sources the examples are built from last changed.
fn newest_source() -> SystemTime {
    fn walk(dir: &Path, newest: &mut SystemTime, depth: usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if depth < 8 {
                    walk(&entry.path(), newest, depth + 1);
                }
            } else if let Ok(modified) = meta.modified() {
                *newest = (*newest).max(modified);
            }
        }
    }
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut newest = SystemTime::UNIX_EPOCH;
    for dir in ["src", "examples", "../common", "../../core/src"] {
        walk(&crate_dir.join(dir), &mut newest, 0);
    }
    newest
}

/// The newest `examples/<name>-<hash>` built from `adapters/tokio/examples/<name>.rs`.
fn find_example(examples: &Path, name: &str) -> Option<PathBuf> {
    let source = format!("tokio/examples/{name}.rs");
    let prefix = format!("{name}-");
    let mut best: Option<(SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(examples).ok()?.flatten() {
        let path = entry.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_prefix(&prefix) else {
            continue;
        };
        let hash = stem.strip_suffix(std::env::consts::EXE_SUFFIX).unwrap_or(stem);
        if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            continue; // a `.d` file, or another example's name
        }
        let dep_info = examples.join(format!("{name}-{hash}.d"));
        let Ok(deps) = std::fs::read_to_string(&dep_info) else {
            continue;
        };
        let first = deps.lines().next().unwrap_or_default();
        if !first.contains(&source) {
            continue;
        }
        let modified = entry.metadata().and_then(|m| m.modified()).ok()?;
        if best.as_ref().is_none_or(|(t, _)| modified > *t) {
            best = Some((modified, path));
        }
    }
    best.map(|(_, path)| path)
}

/// A running example: killed and reaped on drop.
struct Server {
    child: Child,
    addr: String,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts example `name` on a free port and waits for its address.
    async fn start(name: &str) -> Server {
        let path = example(name);
        let mut child = Command::new(&path)
            .args(["--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", path.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::unbounded_channel();
        // Ends at the child's EOF (when it is killed).
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            addr: String::new(),
            lines,
        };
        let first = server.next_line().await;
        let addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line {first:?}"));
        assert!(addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"), "{addr}");
        server.addr = addr.to_string();
        server
    }

    async fn next_line(&mut self) -> String {
        timeout(Duration::from_secs(5), self.lines.recv())
            .await
            .expect("a line from the server in time")
            .expect("the server's stdout is open")
    }

    /// The next log line containing `needle`.
    async fn log_line(&mut self, needle: &str) -> String {
        for _ in 0..100 {
            let line = self.next_line().await;
            if line.contains(needle) {
                return line;
            }
        }
        panic!("no log line with {needle:?}");
    }
}

/// Runs curl (bounded by `--max-time`) with `args`.
async fn curl(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-sS", "--max-time", CURL_MAX_TIME])
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("run curl")
    })
    .await
    .expect("curl thread")
}

/// A file of test bytes (every byte value), removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, len: usize) -> (TempFile, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| ((i * 7 + i / 256) % 256) as u8).collect();
        let path = std::env::temp_dir().join(format!("h1-tokio-curl-{}-{name}", std::process::id()));
        std::fs::write(&path, &bytes).expect("write the upload file");
        (TempFile(path), bytes)
    }

    fn arg(&self) -> String {
        format!("@{}", self.0.display())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Splits curl's `-D -` output: the final response head (after any 1xx)
/// and the body.
fn split_response(out: &[u8]) -> (String, Vec<u8>) {
    let mut rest = out;
    for _ in 0..10 {
        let at = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a response head in curl's output");
        let head = String::from_utf8_lossy(&rest[..at + 4]).into_owned();
        rest = &rest[at + 4..];
        if !head.starts_with("HTTP/1.1 1") {
            return (head, rest.to_vec());
        }
    }
    panic!("too many interim responses");
}

fn has_field(head: &str, name: &str, value: &str) -> bool {
    head.split("\r\n").any(|line| {
        line.split_once(':')
            .is_some_and(|(n, v)| n.eq_ignore_ascii_case(name) && v.trim().eq_ignore_ascii_case(value))
    })
}

// ---- tests -----------------------------------------------------------------------

#[tokio::test]
async fn demo_answers_curl() {
    if !curl_available() {
        return;
    }
    within(async {
        let mut demo = Server::start("demo").await;
        let addr = demo.addr.clone();
        let out = curl(vec!["-D".into(), "-".into(), format!("http://{addr}/")]).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let (head, body) = split_response(&out.stdout);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            has_field(&head, "content-type", "text/plain; charset=utf-8"),
            "{head}"
        );
        assert!(
            has_field(&head, "content-length", &body.len().to_string()),
            "{head}"
        );
        let text = String::from_utf8(body).expect("UTF-8 help text");
        assert!(text.starts_with("h1 demo: an HTTP/1.1 server"), "{text}");
        assert!(text.contains(&format!("curl http://{addr}/\n")), "{text}");
        let line = demo.log_line("GET / ").await;
        assert!(line.ends_with("GET / -> 200"), "{line}");
    })
    .await;
}

#[tokio::test]
async fn chunked_upload_is_echoed_by_the_demo() {
    if !curl_available() {
        return;
    }
    within(async {
        let demo = Server::start("demo").await;
        let (file, bytes) = TempFile::new("demo-upload.bin", 300_000);
        let out = curl(vec![
            "-D".into(),
            "-".into(),
            "-H".into(),
            "transfer-encoding: chunked".into(),
            "-H".into(),
            "content-type: application/x-test".into(),
            "--data-binary".into(),
            file.arg(),
            format!("http://{}/echo", demo.addr),
        ])
        .await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let (head, body) = split_response(&out.stdout);
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        // Streamed back: no length known up front.
        assert!(has_field(&head, "transfer-encoding", "chunked"), "{head}");
        assert!(has_field(&head, "content-type", "application/x-test"), "{head}");
        assert_eq!(body.len(), bytes.len());
        assert!(body == bytes, "the body came back changed");
    })
    .await;
}

#[tokio::test]
async fn chunked_upload_is_described_by_the_echo_server() {
    if !curl_available() {
        return;
    }
    within(async {
        let echo = Server::start("echo").await;
        let (file, bytes) = TempFile::new("echo-upload.bin", 100_000);
        let out = curl(vec![
            "-H".into(),
            "transfer-encoding: chunked".into(),
            "--data-binary".into(),
            file.arg(),
            format!("http://{}/upload?x=1", echo.addr),
        ])
        .await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON body");
        assert_eq!(json["method"], "POST");
        assert_eq!(json["target"], "/upload?x=1");
        assert_eq!(json["version"], "HTTP/1.1");
        // Bytes are latin-1 characters.
        let body: Vec<u8> = json["body"]
            .as_str()
            .expect("body string")
            .chars()
            .map(|c| u8::try_from(u32::from(c)).expect("a latin-1 character"))
            .collect();
        assert_eq!(body.len(), bytes.len());
        assert!(body == bytes, "the echoed body differs from the file");
        let headers = json["headers"].as_array().expect("headers list");
        let pair = |name: &str| {
            headers
                .iter()
                .filter(|h| h[0] == name)
                .map(|h| h[1].as_str().expect("value").to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(pair("transfer-encoding"), ["chunked"]);
        assert!(pair("content-length").is_empty());
        assert_eq!(pair("host"), [echo.addr.as_str()]);
        // The same lines as received: in order, names in curl's case.
        let fields = json["fields"].as_array().expect("fields list");
        assert_eq!(fields.len(), headers.len());
        assert_eq!(fields[0], serde_json::json!(["Host", echo.addr]));
        assert!(
            fields.contains(&serde_json::json!(["transfer-encoding", "chunked"])),
            "{fields:?}"
        );
        assert_eq!(json["trailers"], serde_json::json!([]));
    })
    .await;
}

#[tokio::test]
async fn curl_through_the_demo_connect_tunnel() {
    if !curl_available() {
        return;
    }
    within(async {
        let mut demo = Server::start("demo").await;
        let addr = demo.addr.clone();

        // Through the tunnel to the demo itself.
        let proxy = format!("http://{addr}");
        let out = curl(vec![
            "-p".into(),
            "-x".into(),
            proxy.clone(),
            format!("http://{addr}/"),
        ])
        .await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("UTF-8 help text");
        assert!(text.starts_with("h1 demo: an HTTP/1.1 server"), "{text}");
        let line = demo.log_line(&format!("CONNECT {addr} ")).await;
        assert!(line.ends_with(&format!("CONNECT {addr} -> 200")), "{line}");

        // A target nothing listens on: 502 from the proxy, which curl reports.
        let dead = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr")
        };
        let out = curl(vec!["-p".into(), "-x".into(), proxy, format!("http://{dead}/")]).await;
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("502"), "{stderr}");
        assert!(out.stdout.is_empty());
        let line = demo.log_line(&format!("CONNECT {dead} ")).await;
        assert!(line.ends_with("-> 502"), "{line}");
    })
    .await;
}
