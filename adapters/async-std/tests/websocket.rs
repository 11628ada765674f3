//! WebSocket over h1-async-std's protocol switch, against tungstenite in
//! both roles: the opening handshake goes through h1, then tungstenite runs
//! on the handed-over socket, seeded with the leftover bytes. The peer is
//! either async-tungstenite (on the same runtime's sockets) or blocking
//! tungstenite on a std thread. Every scenario runs under async-std and
//! under smol, over real sockets on 127.0.0.1, under the harness deadline.

mod common;

use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::thread::{self, JoinHandle};

use async_tungstenite::tungstenite::handshake::client::generate_key;
use async_tungstenite::tungstenite::handshake::derive_accept_key;
use async_tungstenite::tungstenite::protocol::Role;
use async_tungstenite::tungstenite::{self, Message};
use async_tungstenite::WebSocketStream;
use common::{read_exact, read_head, send, sleep, Net, DEADLINE};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::zip;
use futures_lite::{AsyncReadExt, StreamExt};
use h1::http::{Request, Response, StatusCode};
use h1_async_std::{serve, ClientConnection, Error, Served, ServerConnection};

both!(
    server_with_async_tungstenite_client,
    server_connection_with_blocking_tungstenite_client,
    first_frame_in_the_upgrade_write,
    first_frame_in_the_upgrade_write_through_upgraded,
    client_with_async_tungstenite_server,
    client_with_blocking_tungstenite_server,
    first_frame_in_the_101_write,
);

/// RFC 6455 section 1.3: the sample key and its accept value.
const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// RFC 6455 section 5.7: a masked (client) and an unmasked (server)
/// single-frame text message "Hello".
const MASKED_HELLO: [u8; 11] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
const UNMASKED_HELLO: [u8; 7] = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];

/// What the clients send; each must come back unchanged. The large ones
/// span many reads and writes (and, as a single frame, a 64-bit length).
fn messages() -> Vec<Message> {
    vec![
        Message::Text("hello".into()),
        Message::Binary(vec![0, 1, 2, 0xff]),
        Message::Text("héllo wörld".into()),
        Message::Binary(Vec::new()),
        Message::Binary((0..100_000u32).map(|i| (i % 253) as u8).collect()),
        Message::Text("x".repeat(70_000)),
    ]
}

// --- server side: h1-async-std answers the handshake ---------------------

/// The server half of the RFC 6455 opening handshake, answered through h1.
async fn handshake<IO>(req: Request<()>, conn: &ServerConnection<IO>) -> Result<Request<()>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
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

/// Echoes text and binary messages until the peer closes; returns how many
/// it echoed.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut ws: WebSocketStream<S>) -> usize {
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

/// How the server hands the switched socket to tungstenite.
#[derive(Clone, Copy)]
enum Seed {
    /// `from_partially_read(parts.io, parts.leftover)`.
    PartiallyRead,
    /// `from_raw_socket(parts.into_upgraded())`: the leftover replayed by
    /// h1-async-std's `Upgraded`.
    Upgraded,
}

/// An h1-async-std server: the handshake via `serve`, then a tungstenite
/// echo on the handed-over socket. Returns how many messages it echoed and
/// the leftover it was handed.
async fn h1_websocket_server<N: Net>(listener: &N::Listener, seed: Seed) -> (usize, Vec<u8>) {
    let io = N::accept(listener).await;
    let served = serve(io, h1::Config::default(), async |req, conn| {
        handshake(req, &conn).await
    })
    .await
    .expect("serve");
    let Served::Upgraded {
        value: request,
        parts,
    } = served
    else {
        panic!("expected an upgrade, got {served:?}");
    };
    assert_eq!(request.uri().path(), "/ws");
    let leftover = parts.leftover.to_vec();
    let echoed = match seed {
        Seed::PartiallyRead => {
            echo(WebSocketStream::from_partially_read(parts.io, leftover.clone(), Role::Server, None).await)
                .await
        }
        Seed::Upgraded => {
            echo(WebSocketStream::from_raw_socket(parts.into_upgraded(), Role::Server, None).await).await
        }
    };
    (echoed, leftover)
}

/// Sends each message and checks its echo, then closes and reads to the
/// end of the stream. Returns how many messages went both ways.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocketStream<S>) -> usize {
    let messages = messages();
    for msg in &messages {
        ws.send(msg.clone()).await.expect("send");
        let back = ws.next().await.expect("an echo").expect("echo message");
        assert_eq!(&back, msg);
    }
    ws.close(None).await.expect("close");
    // The peer's close reply, then the end of the stream.
    for _ in 0..10 {
        match ws.next().await {
            None => return messages.len(),
            Some(Ok(msg)) => assert!(msg.is_close(), "unexpected {msg:?}"),
            Some(Err(e)) => panic!("after close: {e}"),
        }
    }
    panic!("the stream did not end after the close handshake");
}

async fn server_with_async_tungstenite_client<N: Net>() {
    let (listener, addr) = N::bind().await;
    let client = async {
        let io = N::connect(addr).await;
        let (mut ws, res) = async_tungstenite::client_async(format!("ws://{addr}/ws"), io)
            .await
            .expect("client handshake");
        assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
        exchange(&mut ws).await
    };
    let ((echoed, leftover), sent) =
        zip(h1_websocket_server::<N>(&listener, Seed::PartiallyRead), client).await;
    assert!(leftover.is_empty(), "tungstenite's client waits for the 101");
    assert_eq!(echoed, sent);
}

/// Blocking tungstenite sockets: bounded too, so a stuck peer thread fails
/// rather than hangs.
fn bounded(socket: &StdStream) {
    socket.set_read_timeout(Some(DEADLINE)).expect("read timeout");
    socket.set_write_timeout(Some(DEADLINE)).expect("write timeout");
}

/// Waits for a peer thread without blocking the executor (the harness
/// deadline still applies), and re-raises its panic.
async fn join<T>(handle: JoinHandle<T>) -> T {
    while !handle.is_finished() {
        sleep(2).await;
    }
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Reads until the close handshake is over on a blocking WebSocket.
fn drain_after_close(ws: &mut tungstenite::WebSocket<StdStream>) {
    for _ in 0..10 {
        match ws.read() {
            Ok(msg) => assert!(msg.is_close(), "unexpected {msg:?}"),
            Err(tungstenite::Error::ConnectionClosed) => return,
            Err(e) => panic!("after close: {e}"),
        }
    }
    panic!("the stream did not end after the close handshake");
}

/// `ServerConnection` driven by hand (no `serve`) against the blocking
/// tungstenite client on a std thread.
async fn server_connection_with_blocking_tungstenite_client<N: Net>() {
    let (listener, addr) = N::bind().await;
    let client = thread::spawn(move || {
        let socket = StdStream::connect(addr).expect("connect");
        bounded(&socket);
        let (mut ws, res) = tungstenite::client(format!("ws://{addr}/ws"), socket).expect("client handshake");
        assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
        let messages = messages();
        for msg in &messages {
            ws.send(msg.clone()).expect("send");
            assert_eq!(&ws.read().expect("an echo"), msg);
        }
        ws.close(None).expect("close");
        drain_after_close(&mut ws);
        messages.len()
    });
    let io = N::accept(&listener).await;
    let conn = ServerConnection::new(io);
    let req = conn
        .read_request()
        .await
        .expect("read_request")
        .expect("a request");
    assert_eq!(req.uri().path(), "/ws");
    handshake(req, &conn).await.expect("101");
    assert!(conn.is_switched());
    let parts = conn.into_parts().await.expect("into_parts");
    assert!(
        parts.leftover.is_empty(),
        "tungstenite's client waits for the 101"
    );
    let ws =
        WebSocketStream::from_partially_read(parts.io, parts.leftover.to_vec(), Role::Server, None).await;
    let echoed = echo(ws).await;
    assert_eq!(echoed, join(client).await);
}

/// The client's first frame in the same write as the upgrade request: it
/// reaches tungstenite as the leftover. Values from RFC 6455.
async fn first_frame_with_the_request<N: Net>(seed: Seed) {
    let (listener, addr) = N::bind().await;
    let client = async {
        let mut io = N::connect(addr).await;
        let mut request = b"GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
            Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
            Sec-WebSocket-Version: 13\r\n\r\n"
            .to_vec();
        request.extend_from_slice(&MASKED_HELLO);
        send(&mut io, &request).await;
        assert_eq!(
            read_head(&mut io).await,
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
                 sec-websocket-accept: {RFC_ACCEPT}\r\n\r\n"
            )
        );
        // The echo of the first frame, unmasked from the server.
        assert_eq!(read_exact(&mut io, UNMASKED_HELLO.len()).await, UNMASKED_HELLO);
        // A masked close frame without a payload: the server replies with
        // a close frame and ends the connection.
        send(&mut io, &[0x88, 0x80, 1, 2, 3, 4]).await;
        let mut rest = Vec::new();
        io.read_to_end(&mut rest).await.expect("read to eof");
        assert_eq!(rest, [0x88, 0x00]);
    };
    let ((echoed, leftover), ()) = zip(h1_websocket_server::<N>(&listener, seed), client).await;
    assert_eq!(leftover, MASKED_HELLO, "the frame is the leftover");
    assert_eq!(echoed, 1);
}

async fn first_frame_in_the_upgrade_write<N: Net>() {
    first_frame_with_the_request::<N>(Seed::PartiallyRead).await;
}

async fn first_frame_in_the_upgrade_write_through_upgraded<N: Net>() {
    first_frame_with_the_request::<N>(Seed::Upgraded).await;
}

// --- client side: h1-async-std sends the handshake -----------------------

/// The h1-async-std half of a client handshake on `io`: the request, the
/// 101 and its accept value checked, the socket handed over.
async fn h1_handshake<IO>(io: IO, addr: SocketAddr, key: &str) -> h1_async_std::Parts<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let client = ClientConnection::new(io);
    let req = Request::get(format!("http://{addr}/chat"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", key)
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
    assert!(res.headers()["upgrade"]
        .as_bytes()
        .eq_ignore_ascii_case(b"websocket"));
    assert!(client.is_switched());
    client.into_parts().await.expect("into_parts")
}

/// An h1-async-std client: the handshake, then tungstenite on the
/// handed-over socket. The server greets first (its greeting may arrive
/// with the 101, as leftover). Returns how many messages went both ways.
async fn h1_websocket_client<N: Net>(addr: SocketAddr) -> usize {
    let parts = h1_handshake(N::connect(addr).await, addr, &generate_key()).await;
    let mut ws =
        WebSocketStream::from_partially_read(parts.io, parts.leftover.to_vec(), Role::Client, None).await;
    let greeting = ws.next().await.expect("greeting").expect("greeting message");
    assert_eq!(greeting, Message::Text("welcome".into()));
    exchange(&mut ws).await
}

async fn client_with_async_tungstenite_server<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let io = N::accept(&listener).await;
        let mut ws = async_tungstenite::accept_async(io)
            .await
            .expect("server handshake");
        ws.send(Message::Text("welcome".into())).await.expect("greeting");
        echo(ws).await
    };
    let (echoed, sent) = zip(server, h1_websocket_client::<N>(addr)).await;
    assert_eq!(echoed, sent);
}

async fn client_with_blocking_tungstenite_server<N: Net>() {
    let listener = StdListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let server = thread::spawn(move || {
        let (socket, _) = listener.accept().expect("accept");
        bounded(&socket);
        let mut ws = tungstenite::accept(socket).expect("server handshake");
        ws.send(Message::Text("welcome".into())).expect("greeting");
        let mut echoed = 0;
        loop {
            match ws.read() {
                Ok(msg @ (Message::Text(_) | Message::Binary(_))) => {
                    ws.send(msg).expect("echo");
                    echoed += 1;
                }
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => return echoed,
                Err(e) => panic!("websocket: {e}"),
            }
        }
    });
    let sent = h1_websocket_client::<N>(addr).await;
    assert_eq!(join(server).await, sent);
}

/// The server's first frame in the same write as its 101: the h1 client
/// hands it over as the leftover, and tungstenite reads it from there.
async fn first_frame_in_the_101_write<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let mut io = N::accept(&listener).await;
        let head = read_head(&mut io).await;
        assert!(head.starts_with("GET /chat HTTP/1.1\r\n"), "{head:?}");
        let key = head
            .split("\r\n")
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-key"))
            .map(|(_, value)| value.trim().to_string())
            .expect("a key");
        assert_eq!(key, RFC_KEY);
        let mut reply = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {RFC_ACCEPT}\r\n\r\n"
        )
        .into_bytes();
        reply.extend_from_slice(&UNMASKED_HELLO);
        send(&mut io, &reply).await;
        echo(WebSocketStream::from_raw_socket(io, Role::Server, None).await).await
    };
    let client = async {
        let parts = h1_handshake(N::connect(addr).await, addr, RFC_KEY).await;
        assert_eq!(parts.leftover, &UNMASKED_HELLO[..], "the frame is the leftover");
        let mut ws =
            WebSocketStream::from_partially_read(parts.io, parts.leftover.to_vec(), Role::Client, None).await;
        let first = ws.next().await.expect("a first message").expect("first message");
        assert_eq!(first, Message::Text("Hello".into()));
        exchange(&mut ws).await
    };
    let (echoed, sent) = zip(server, client).await;
    assert_eq!(echoed, sent);
}
