//! WebSocket over h1-tokio's protocol switch, against tungstenite in both
//! roles: the handshake goes through h1, then tungstenite runs on the
//! handed-over socket, seeded with the leftover bytes.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use h1::http::{Request, Response, StatusCode};
use h1::Config;
use h1_tokio::{serve, ClientConnection, Error, Served, ServerConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const LIMIT: Duration = Duration::from_secs(10);

async fn within<F: Future>(test: F) -> F::Output {
    timeout(LIMIT, test).await.expect("test timed out")
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// The server half of the RFC 6455 opening handshake, answered through h1;
/// the request is handed back with the socket.
async fn handshake(req: Request<()>, conn: ServerConnection<TcpStream>) -> Result<Request<()>, Error> {
    assert!(conn.is_switch_proposed());
    let upgrade = req.headers().get("upgrade").expect("upgrade field");
    assert!(upgrade.as_bytes().eq_ignore_ascii_case(b"websocket"));
    assert_eq!(req.headers()["sec-websocket-version"], "13");
    let key = req.headers().get("sec-websocket-key").expect("key");
    let res = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "upgrade")
        .header("sec-websocket-accept", derive_accept_key(key.as_bytes()))
        .body(())
        .expect("101");
    conn.send_response(res).await?;
    Ok(req)
}

/// An h1-tokio server: the handshake via `serve`, then a tungstenite echo
/// on the handed-over socket. Returns how many messages it echoed.
async fn h1_websocket_server(listener: &TcpListener) -> usize {
    let (socket, _) = listener.accept().await.expect("accept");
    let served = serve(socket, Config::default(), handshake).await.expect("serve");
    let Served::Upgraded {
        value: request,
        parts,
    } = served
    else {
        panic!("expected an upgrade, got {served:?}");
    };
    assert_eq!(request.uri().path(), "/ws");
    let mut ws =
        WebSocketStream::from_partially_read(parts.io, parts.leftover.to_vec(), Role::Server, None).await;
    let mut echoed = 0;
    while let Some(msg) = ws.next().await {
        let msg = msg.expect("websocket message");
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await.expect("echo");
            echoed += 1;
        }
    }
    echoed
}

#[tokio::test]
async fn h1_server_handshake_then_tungstenite_client() {
    within(async {
        let (listener, addr) = bind().await;
        let client = async {
            let socket = TcpStream::connect(addr).await.expect("connect");
            let (mut ws, res) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), socket)
                .await
                .expect("client handshake");
            assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
            let big: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
            let messages = [
                Message::Text("hello".into()),
                Message::Binary(vec![0, 1, 2, 0xff]),
                Message::Text("héllo wörld".into()),
                Message::Binary(big),
            ];
            for msg in &messages {
                ws.send(msg.clone()).await.expect("send");
                let back = ws.next().await.expect("an echo").expect("echo message");
                assert_eq!(&back, msg);
            }
            ws.close(None).await.expect("close");
            // The server's close reply, then the end of the stream.
            for _ in 0..10 {
                match ws.next().await {
                    None => break,
                    Some(Ok(msg)) => assert!(msg.is_close(), "unexpected {msg:?}"),
                    Some(Err(e)) => panic!("after close: {e}"),
                }
            }
            messages.len()
        };
        let (echoed, sent) = tokio::join!(h1_websocket_server(&listener), client);
        assert_eq!(echoed, sent);
    })
    .await;
}

/// The client's first frame in the same segment as the upgrade request:
/// it reaches tungstenite as the leftover. Values from RFC 6455 (the
/// sample key and accept value of section 1.3, the masked and unmasked
/// "Hello" frames of section 5.7).
#[tokio::test]
async fn first_frame_with_the_upgrade_request() {
    within(async {
        let (listener, addr) = bind().await;
        let client = async {
            let mut socket = TcpStream::connect(addr).await.expect("connect");
            let mut request = b"GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
                Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                Sec-WebSocket-Version: 13\r\n\r\n"
                .to_vec();
            request.extend_from_slice(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
            socket.write_all(&request).await.expect("write");

            let mut received = Vec::new();
            let head_end = loop {
                if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                    break at + 4;
                }
                let mut chunk = [0u8; 4096];
                let n = socket.read(&mut chunk).await.expect("read");
                assert!(n > 0, "EOF before the 101");
                received.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8(received[..head_end].to_vec()).expect("ASCII head");
            let mut lines = head.split("\r\n");
            assert_eq!(lines.next(), Some("HTTP/1.1 101 Switching Protocols"));
            let fields: Vec<(String, String)> = lines
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (n, v) = l.split_once(':').expect("field");
                    (n.to_ascii_lowercase(), v.trim().to_string())
                })
                .collect();
            let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            assert_eq!(
                field("sec-websocket-accept"),
                Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            );
            assert!(field("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")));

            // The echo of the first frame, unmasked from the server.
            let mut frame = received[head_end..].to_vec();
            while frame.len() < 7 {
                let mut chunk = [0u8; 64];
                let n = socket.read(&mut chunk).await.expect("read");
                assert!(n > 0, "EOF before the echo");
                frame.extend_from_slice(&chunk[..n]);
            }
            assert_eq!(frame, [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);

            // A masked close frame without a payload: the server replies
            // with a close frame and ends the connection.
            socket
                .write_all(&[0x88, 0x80, 1, 2, 3, 4])
                .await
                .expect("write close");
            let mut rest = Vec::new();
            socket.read_to_end(&mut rest).await.expect("read to EOF");
            assert_eq!(rest, [0x88, 0x00]);
        };
        let (echoed, ()) = tokio::join!(h1_websocket_server(&listener), client);
        assert_eq!(echoed, 1);
    })
    .await;
}

/// An h1-tokio client's handshake against a tungstenite server, then
/// tungstenite on the handed-over socket.
#[tokio::test]
async fn h1_client_handshake_then_tungstenite_server() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let (socket, _) = listener.accept().await.expect("accept");
            let mut ws = tokio_tungstenite::accept_async(socket)
                .await
                .expect("server handshake");
            // A greeting right after the 101: it may arrive with it.
            ws.send(Message::Text("welcome".into())).await.expect("greeting");
            let mut echoed = 0;
            while let Some(msg) = ws.next().await {
                let msg = msg.expect("websocket message");
                if msg.is_text() || msg.is_binary() {
                    ws.send(msg).await.expect("echo");
                    echoed += 1;
                }
            }
            echoed
        };
        let client = async {
            let socket = TcpStream::connect(addr).await.expect("connect");
            let client = ClientConnection::new(socket);
            let key = generate_key();
            let req = Request::get(format!("http://{addr}/chat"))
                .header("connection", "upgrade")
                .header("upgrade", "websocket")
                .header("sec-websocket-version", "13")
                .header("sec-websocket-key", &key)
                .body(())
                .expect("request");
            client.send_request(req).await.expect("send_request");
            client.send_end().await.expect("send_end");
            let res = client.read_response().await.expect("response");
            assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
            assert_eq!(
                res.headers()["sec-websocket-accept"],
                derive_accept_key(key.as_bytes()).as_str()
            );
            assert!(client.is_switched());
            let parts = client.into_parts().await.expect("into_parts");
            let mut ws =
                WebSocketStream::from_partially_read(parts.io, parts.leftover.to_vec(), Role::Client, None)
                    .await;
            let greeting = ws.next().await.expect("greeting").expect("greeting message");
            assert_eq!(greeting, Message::Text("welcome".into()));
            let messages = [
                Message::Text("ping?".into()),
                Message::Binary((0..=255u8).collect()),
                Message::Text("x".repeat(70_000)),
            ];
            for msg in &messages {
                ws.send(msg.clone()).await.expect("send");
                let back = ws.next().await.expect("an echo").expect("echo message");
                assert_eq!(&back, msg);
            }
            ws.close(None).await.expect("close");
            for _ in 0..10 {
                match ws.next().await {
                    None => break,
                    Some(Ok(msg)) => assert!(msg.is_close(), "unexpected {msg:?}"),
                    Some(Err(e)) => panic!("after close: {e}"),
                }
            }
            messages.len()
        };
        let (echoed, sent) = tokio::join!(server, client);
        assert_eq!(echoed, sent);
    })
    .await;
}
