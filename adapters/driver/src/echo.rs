//! The echo server of the project's contract (`shared/contracts.md` in
//! the repository), shared by every adapter's `echo` example so that they
//! behave identically: routing, the answers, and the JSON body that
//! describes the request as received. Useful as a test peer.
//!
//! [`handle`] is the whole handler for the async adapters' `serve`; the
//! blocking adapter's example calls the same functions around its own
//! connection type.

use bytes::Bytes;
use h1::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version};

use crate::{Error, ServerConnection, Transport};

/// What the echo server does with a request.
pub enum Route {
    /// `GET /plaintext`: `Hello, World!`.
    Plaintext,
    /// The request asks to upgrade to this protocol: 101, then raw echo.
    Upgrade(String),
    /// CONNECT: 200, then raw echo.
    Connect,
    /// Anything else: the request echoed back as JSON.
    Echo,
}

/// The body of `GET /plaintext`.
pub const PLAINTEXT: &[u8] = b"Hello, World!";

/// Where a request goes.
pub fn route(req: &Request<()>) -> Route {
    if req.method() == Method::CONNECT {
        return Route::Connect;
    }
    if let Some(token) = h1::requested_upgrade(req) {
        return Route::Upgrade(token.to_owned());
    }
    if req.method() == Method::GET && req.uri().path() == "/plaintext" {
        return Route::Plaintext;
    }
    Route::Echo
}

/// The answer to a plaintext or echo route: the head and the whole body,
/// for `send_full` (which adds the `content-length`, and sends no body to
/// HEAD). `body` and `trailers` are what the request carried.
pub fn answer(
    route: &Route,
    req: &Request<()>,
    body: &[u8],
    trailers: Option<&HeaderMap>,
) -> (Response<()>, Bytes) {
    let (content_type, payload) = match route {
        Route::Plaintext => ("text/plain", Bytes::from_static(PLAINTEXT)),
        _ => ("application/json", Bytes::from(echo_json(req, body, trailers))),
    };
    let mut res = Response::new(());
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    (res, payload)
}

/// The `101 Switching Protocols` to `token`.
pub fn switch_response(token: &str) -> Response<()> {
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, token)
        .header(header::CONNECTION, "upgrade")
        .body(())
        .expect("token came from a header value")
}

/// The `200` that opens a CONNECT tunnel.
pub fn connect_response() -> Response<()> {
    Response::new(())
}

/// The echo server's configuration: default limits, with bodies (which
/// it buffers to echo them) capped at 1 MiB.
pub fn config() -> h1::Config {
    let mut config = h1::Config::default();
    config.limits.body_size = Some(1024 * 1024);
    config
}

/// The echo body: `{"method","target","version","headers","body","trailers"}`.
pub fn echo_json(req: &Request<()>, body: &[u8], trailers: Option<&HeaderMap>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(b"{\"method\":");
    json_string(&mut out, req.method().as_str().as_bytes());
    out.extend_from_slice(b",\"target\":");
    json_string(&mut out, req.uri().to_string().as_bytes());
    out.extend_from_slice(b",\"version\":");
    json_string(
        &mut out,
        if req.version() == Version::HTTP_10 {
            b"HTTP/1.0"
        } else {
            b"HTTP/1.1"
        },
    );
    out.extend_from_slice(b",\"headers\":");
    json_fields(&mut out, Some(req.headers()));
    out.extend_from_slice(b",\"body\":");
    json_string(&mut out, body);
    out.extend_from_slice(b",\"trailers\":");
    json_fields(&mut out, trailers);
    out.push(b'}');
    out
}

fn json_fields(out: &mut Vec<u8>, fields: Option<&HeaderMap>) {
    out.push(b'[');
    for (i, (name, value)) in fields.into_iter().flatten().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        json_string(out, name.as_str().as_bytes());
        out.push(b',');
        json_string(out, trim(value.as_bytes()));
        out.push(b']');
    }
    out.push(b']');
}

/// Bytes as a JSON string, byte `0xNN` as `U+00NN`; everything outside
/// printable ASCII is escaped, so the output is ASCII.
pub fn json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &b in bytes {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// A field value without the whitespace around it.
pub fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &v[start..end]
}

/// The `--addr HOST:PORT` argument (default `127.0.0.1:8080`).
pub fn addr_arg() -> String {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--addr" {
            if let Some(addr) = args.next() {
                return addr;
            }
        }
    }
    "127.0.0.1:8080".to_string()
}

/// The echo server's handler for `serve`: the answer to one request.
/// After a switch (upgrade or CONNECT) the caller echoes raw bytes on
/// the handed-over socket.
pub async fn handle<IO: Unpin, Rt: Transport<IO>>(
    req: Request<()>,
    conn: ServerConnection<IO, Rt>,
) -> Result<(), Error> {
    match route(&req) {
        Route::Upgrade(token) => conn.send_response(switch_response(&token)).await,
        Route::Connect => conn.send_response(connect_response()).await,
        route => {
            let mut body = Vec::new();
            if matches!(route, Route::Echo) {
                while let Some(chunk) = conn.read_body().await? {
                    body.extend_from_slice(&chunk);
                }
            }
            let (res, payload) = answer(&route, &req, &body, conn.trailers().as_ref());
            conn.send_full(res, payload).await
        }
    }
}
