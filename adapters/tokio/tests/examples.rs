//! The `demo` and `echo` examples against real peers: the `curl` binary
//! and Python's `websockets` (required: these tests fail without them).

mod common;

use common::{
    curl, curl_through_tunnel, has_field, require_curl, require_python_websockets, split_response,
    tunnel_to_nothing_gets_502, websocket_echo_closes_cleanly, within, Server, TempFile,
};

/// The demo's WebSocket echo completes the closing handshake (RFC 6455
/// section 5.5.1): the client sees code 1000, not 1006.
#[tokio::test]
async fn demo_websocket_closes_cleanly() {
    require_python_websockets();
    within(async {
        let mut demo = Server::start("demo").await;
        websocket_echo_closes_cleanly(format!("ws://{}/ws", demo.addr)).await;
        let line = demo.log_line("websocket /ws closed").await;
        assert!(line.ends_with("(code 1000)"), "{line}");
    })
    .await;
}

// ---- tests -----------------------------------------------------------------------

#[tokio::test]
async fn demo_answers_curl() {
    require_curl();
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
    require_curl();
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
    require_curl();
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
    require_curl();
    within(async {
        let mut demo = Server::start("demo").await;
        let addr = demo.addr.clone();

        // Through the tunnel to the demo itself.
        let proxy = format!("http://{addr}");
        let out = curl_through_tunnel(proxy.clone(), format!("http://{addr}/")).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("UTF-8 help text");
        assert!(text.starts_with("h1 demo: an HTTP/1.1 server"), "{text}");
        let line = demo.log_line(&format!("CONNECT {addr} ")).await;
        assert!(line.ends_with(&format!("CONNECT {addr} -> 200")), "{line}");

        // A target nothing listens on: 502 from the proxy, which curl reports.
        let (dead, out) = tunnel_to_nothing_gets_502(proxy).await;
        assert!(out.stdout.is_empty());
        let line = demo.log_line(&format!("CONNECT {dead} ")).await;
        assert!(line.ends_with("-> 502"), "{line}");
    })
    .await;
}
