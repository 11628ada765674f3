//! Interop: WebSocket (tungstenite) over the upgrade handover, in both roles.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{connect, server};
use h1::http::{header, Request, Response, StatusCode};
use h1_blocking::{serve, ClientConnection, Served};
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

/// A WebSocket echo server: h1-blocking does the handshake, tungstenite
/// the frames on the upgraded socket. Echoes until the client closes.
fn websocket_echo(socket: TcpStream) {
    let served = serve(socket, h1::Config::default(), |req, conn| {
        let key = req.headers()["sec-websocket-key"].as_bytes();
        let res = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::CONNECTION, "upgrade")
            .header(header::UPGRADE, "websocket")
            .header("sec-websocket-accept", derive_accept_key(key))
            .body(())
            .expect("response");
        conn.send_response(res)
    })
    .expect("serve");
    let Served::Upgraded { parts, .. } = served else {
        panic!("not upgraded")
    };
    let mut ws = WebSocket::from_raw_socket(parts.into_upgraded(), Role::Server, None);
    loop {
        match ws.read() {
            Ok(msg @ (Message::Text(_) | Message::Binary(_))) => ws.send(msg).expect("echo"),
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => return,
            Err(e) => panic!("websocket: {e}"),
        }
    }
}

#[test]
fn server_role_with_a_tungstenite_client() {
    let (addr, handle) = server(1, websocket_echo);
    let (mut ws, res) = tungstenite::client(format!("ws://{addr}/chat"), connect(addr)).expect("handshake");
    assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
    for text in ["hello", "world"] {
        ws.send(Message::Text(text.into())).expect("send");
        assert_eq!(ws.read().expect("read"), Message::Text(text.into()));
    }
    ws.close(None).expect("close");
    while ws.read().is_ok() {}
    handle.join().expect("server");
}

#[test]
fn server_role_with_a_frame_in_the_handshake_segment() {
    let (addr, handle) = server(1, websocket_echo);
    let mut client = connect(addr);
    // The handshake and a masked text frame "hi" in one write: the frame
    // reaches tungstenite as the leftover.
    let mask = [1, 2, 3, 4];
    let mut bytes = b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
        Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        .to_vec();
    bytes.extend_from_slice(&[0x81, 0x80 | 2]);
    bytes.extend_from_slice(&mask);
    bytes.extend(b"hi".iter().zip(mask).map(|(b, m)| b ^ m));
    client.write_all(&bytes).expect("write");

    // The 101, then the echo: an unmasked text frame "hi" (4 bytes).
    let mut got = Vec::new();
    let head_len = loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) {
            if got.len() >= end + 4 {
                break end;
            }
        }
        let mut chunk = [0; 512];
        let n = client.read(&mut chunk).expect("read");
        assert!(n > 0, "EOF after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&got[..head_len]).to_lowercase();
    assert!(head.starts_with("http/1.1 101 switching protocols\r\n"), "{head}");
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
        "{head}"
    );
    assert_eq!(&got[head_len..], [0x81, 2, b'h', b'i']);
    // A masked close frame; the server answers it and ends.
    client.write_all(&[0x88, 0x80, 9, 9, 9, 9]).expect("write");
    let mut close = [0; 2];
    client.read_exact(&mut close).expect("close");
    assert_eq!(close, [0x88, 0]);
    handle.join().expect("server");
}

#[test]
fn client_role_with_a_tungstenite_server() {
    let (addr, handle) = server(1, |socket| {
        let mut ws = tungstenite::accept(socket).expect("handshake");
        let msg = ws.read().expect("read");
        ws.send(msg).expect("echo");
        ws.close(None).expect("close");
        while ws.read().is_ok() {}
    });
    let key = tungstenite::handshake::client::generate_key();
    let conn = ClientConnection::new(connect(addr));
    let req = Request::get("/chat")
        .header(header::HOST, addr.to_string())
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", &key)
        .body(())
        .expect("request");
    conn.send_request(req).expect("send");
    conn.send_end().expect("end");
    let res = conn.read_response().expect("response");
    assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(
        res.headers()["sec-websocket-accept"],
        derive_accept_key(key.as_bytes()).as_str()
    );
    let parts = conn.into_parts().expect("parts");
    let mut ws = WebSocket::from_raw_socket(parts.into_upgraded(), Role::Client, None);
    ws.send(Message::Binary(vec![1, 2, 3])).expect("send");
    assert_eq!(ws.read().expect("read"), Message::Binary(vec![1, 2, 3]));
    // The server's close.
    assert!(matches!(ws.read(), Ok(Message::Close(_))));
    drop(ws);
    handle.join().expect("server");
}
