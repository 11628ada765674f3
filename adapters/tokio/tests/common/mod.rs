//! Running the h1-tokio examples as child processes against real peers:
//! the `curl` binary and Python's `websockets` package. Both are required:
//! a test that needs one fails when it is missing (`.ci/run` installs
//! them).
//!
//! The examples run on `127.0.0.1:0`; their first stdout line says where
//! they listen, the following lines are their request logs. Children are
//! killed when a test ends, however it ends.

#![allow(dead_code)] // each test file uses part of it

use std::future::Future;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::timeout;

/// Upper bound for a test.
pub const LIMIT: Duration = Duration::from_secs(60);
/// How long curl may take for one transfer.
const CURL_MAX_TIME: &str = "10";

pub async fn within<F: Future>(test: F) -> F::Output {
    timeout(LIMIT, test).await.expect("test timed out")
}

/// Fails the test unless `curl` runs.
pub fn require_curl() {
    let found = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(found, "this test needs `curl` on PATH (.ci/run installs it)");
}

/// Fails the test unless `python3` runs with the `websockets` package.
pub fn require_python_websockets() {
    let found = Command::new("python3")
        .args(["-c", "import websockets"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "this test needs python3 with the `websockets` package (.ci/run installs it: pip install websockets)"
    );
}

/// A WebSocket client (Python `websockets`): 100 messages of every size up
/// to 70 KB, text and binary, each checked as it comes back, then a close.
/// Prints `echoed N` and `close code C`.
const WEBSOCKET_CLIENT: &str = r#"
import asyncio, os, sys, websockets
async def main(url):
    async with websockets.connect(url, max_size=None) as w:
        for i in range(100):
            msg = os.urandom(1 + (i * 997) % 70000) if i % 2 else "m%d" % i
            await w.send(msg)
            if await w.recv() != msg:
                print("message %d differs" % i)
                return
        print("echoed 100")
        await w.close()
        print("close code %s" % w.close_code)
asyncio.run(main(sys.argv[1]))
"#;

/// Runs the WebSocket client against `url`: every message comes back, and
/// the close is clean (code 1000, not 1006).
pub async fn websocket_echo_closes_cleanly(url: String) {
    let out = python(WEBSOCKET_CLIENT, vec![url]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("echoed 100"), "{stdout}");
    assert!(stdout.contains("close code 1000"), "{stdout}");
}

/// Runs a Python script (bounded by the test's time limit); its output.
pub async fn python(script: &str, args: Vec<String>) -> Output {
    let script = script.to_string();
    tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run python3")
    })
    .await
    .expect("python thread")
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
    for dir in ["src", "examples", "../driver/src", "../../core/src"] {
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
pub struct Server {
    child: Child,
    pub addr: String,
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
    pub async fn start(name: &str) -> Server {
        Server::start_with(name, &[]).await
    }

    /// Starts example `name` with `args` on a free port and waits for its
    /// address.
    pub async fn start_with(name: &str, args: &[&str]) -> Server {
        let path = example(name);
        let mut child = Command::new(&path)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
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

    pub async fn next_line(&mut self) -> String {
        timeout(Duration::from_secs(5), self.lines.recv())
            .await
            .expect("a line from the server in time")
            .expect("the server's stdout is open")
    }

    /// The next log line containing `needle`.
    pub async fn log_line(&mut self, needle: &str) -> String {
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
pub async fn curl(args: Vec<String>) -> Output {
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

/// `curl -p -x proxy url`: `url` through a CONNECT tunnel that the proxy
/// opens.
pub async fn curl_through_tunnel(proxy: String, url: String) -> Output {
    curl(vec!["-p".into(), "-x".into(), proxy, url]).await
}

/// An address nothing listens on (a port bound, then released).
pub fn dead_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
}

/// A tunnel through `proxy` to an address nothing listens on: curl fails
/// and reports the proxy's 502. That address, and curl's output.
pub async fn tunnel_to_nothing_gets_502(proxy: String) -> (SocketAddr, Output) {
    let dead = dead_addr();
    let out = curl_through_tunnel(proxy, format!("http://{dead}/")).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("502"), "{stderr}");
    (dead, out)
}

/// A file of test bytes (every byte value), removed on drop.
pub struct TempFile(PathBuf);

impl TempFile {
    pub fn new(name: &str, len: usize) -> (TempFile, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| ((i * 7 + i / 256) % 256) as u8).collect();
        let path = std::env::temp_dir().join(format!("h1-tokio-curl-{}-{name}", std::process::id()));
        std::fs::write(&path, &bytes).expect("write the upload file");
        (TempFile(path), bytes)
    }

    pub fn arg(&self) -> String {
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
pub fn split_response(out: &[u8]) -> (String, Vec<u8>) {
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

pub fn has_field(head: &str, name: &str, value: &str) -> bool {
    head.split("\r\n").any(|line| {
        line.split_once(':')
            .is_some_and(|(n, v)| n.eq_ignore_ascii_case(name) && v.trim().eq_ignore_ascii_case(value))
    })
}
