//! The h1 demo server over tokio.
//!
//! `cargo run --release -p h1-tokio --example demo [-- --addr HOST:PORT]`
//!
//! - `GET /`: what to try;
//! - `POST /echo`: the request body streamed back, chunked;
//! - `/ws`: WebSocket echo (the handshake through h1, then tungstenite on
//!   the handed-over socket, seeded with the leftover bytes);
//! - `CONNECT host:port`: a forward tunnel (502 when the target cannot be
//!   reached).
//!
//! One log line per request on stdout.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use h1::http::{header, Method, Request, Response, StatusCode};
use h1_tokio::{Error, Parts, ServerConnection};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--addr" {
            addr = args.next().unwrap_or(addr);
        }
    }
    let listener = TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("listening on {local}");
    std::io::stdout().flush()?;
    loop {
        let (socket, peer) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = connection(socket, peer, local).await {
                log(peer, &format!("connection error: {e}"));
            }
        });
    }
}

fn log(peer: SocketAddr, line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{peer} {line}");
    let _ = out.flush();
}

async fn connection(socket: TcpStream, peer: SocketAddr, local: SocketAddr) -> Result<(), BoxError> {
    socket.set_nodelay(true)?;
    let conn = ServerConnection::new(socket);
    let mut tunnel: Option<TcpStream> = None;
    while let Some(req) = conn.read_request().await? {
        let status = route(&req, &conn, &mut tunnel, local).await?;
        log(
            peer,
            &format!("{} {} -> {}", req.method(), req.uri(), status.as_u16()),
        );
        if conn.is_switched() {
            let parts = conn.into_parts().await?;
            return match tunnel {
                Some(target) => splice(parts, target).await,
                None => websocket_echo(parts, peer, &req).await,
            };
        }
    }
    Ok(())
}

/// CONNECT: the client and the target, spliced both ways.
async fn splice(parts: Parts<TcpStream>, mut target: TcpStream) -> Result<(), BoxError> {
    let mut client = parts.into_upgraded();
    tokio::io::copy_bidirectional(&mut client, &mut target).await?;
    Ok(())
}

/// WebSocket echo, seeded with the bytes that came with the handshake.
///
/// A client's Close frame is answered with a Close frame (RFC 6455 section
/// 5.5.1): tungstenite queues the reply when it reads the Close, and
/// writes it as the stream is polled on, until it reports the end. Only
/// then is the TCP connection closed, so the client sees a clean close.
async fn websocket_echo(
    parts: Parts<TcpStream>,
    peer: SocketAddr,
    req: &Request<()>,
) -> Result<(), BoxError> {
    let mut ws =
        WebSocketStream::from_partially_read(parts.io, parts.leftover.to_vec(), Role::Server, None).await;
    let mut code = None;
    while let Some(msg) = ws.next().await {
        match msg? {
            msg @ (Message::Text(_) | Message::Binary(_)) => ws.send(msg).await?,
            Message::Close(frame) => code = frame.map(|f| u16::from(f.code)),
            _ => {}
        }
    }
    let code = code.map_or("no code".to_string(), |c| format!("code {c}"));
    log(peer, &format!("websocket {} closed ({code})", req.uri()));
    Ok(())
}

async fn route(
    req: &Request<()>,
    conn: &ServerConnection<TcpStream>,
    tunnel: &mut Option<TcpStream>,
    local: SocketAddr,
) -> Result<StatusCode, Error> {
    if req.method() == Method::CONNECT {
        let target = req
            .uri()
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let connect = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(target));
        return match connect.await {
            Ok(Ok(stream)) => {
                *tunnel = Some(stream);
                conn.send_response(Response::new(())).await?;
                Ok(StatusCode::OK)
            }
            _ => text(conn, StatusCode::BAD_GATEWAY, "cannot reach the target\n").await,
        };
    }
    match req.uri().path() {
        "/ws" => websocket_handshake(req, conn).await,
        "/echo" if req.method() == Method::POST => echo(req, conn).await,
        "/" if req.method() == Method::GET || req.method() == Method::HEAD => {
            let help = format!(
                "h1 demo: an HTTP/1.1 server on the h1 sans-IO core.\n\n\
                 Try:\n\
                 \x20 curl http://{local}/\n\
                 \x20 curl -H 'transfer-encoding: chunked' --data-binary @README.md http://{local}/echo\n\
                 \x20 curl -p -x http://{local} http://{local}/      (through the CONNECT tunnel)\n\
                 \x20 websocat ws://{local}/ws                      (WebSocket echo)\n"
            );
            text(conn, StatusCode::OK, &help).await
        }
        _ => text(conn, StatusCode::NOT_FOUND, "not found\n").await,
    }
}

async fn text(
    conn: &ServerConnection<TcpStream>,
    status: StatusCode,
    body: &str,
) -> Result<StatusCode, Error> {
    let res = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CONTENT_LENGTH, body.len())
        .body(())
        .expect("static response");
    conn.send_response(res).await?;
    conn.send_data(body.to_owned().into()).await?;
    conn.send_end().await?;
    Ok(status)
}

/// Streams the request body back as a chunked response.
async fn echo(req: &Request<()>, conn: &ServerConnection<TcpStream>) -> Result<StatusCode, Error> {
    // Reading first sends `100 Continue` to a client that waits for it.
    let first = conn.read_body().await?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(header::HeaderValue::from_static("application/octet-stream"));
    let res = Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(())
        .expect("valid head");
    conn.send_response(res).await?;
    let mut next = first;
    while let Some(chunk) = next {
        conn.send_data(chunk).await?;
        next = conn.read_body().await?;
    }
    conn.send_end().await?;
    Ok(StatusCode::OK)
}

async fn websocket_handshake(
    req: &Request<()>,
    conn: &ServerConnection<TcpStream>,
) -> Result<StatusCode, Error> {
    let key = req.headers().get("sec-websocket-key");
    let upgrade = req
        .headers()
        .get(header::UPGRADE)
        .map(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let (Some(key), Some(true), true) = (key, upgrade, conn.is_switch_proposed()) else {
        return text(conn, StatusCode::BAD_REQUEST, "expected a websocket upgrade\n").await;
    };
    let res = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "upgrade")
        .header("sec-websocket-accept", derive_accept_key(key.as_bytes()))
        .body(())
        .expect("valid head");
    conn.send_response(res).await?;
    Ok(StatusCode::SWITCHING_PROTOCOLS)
}
