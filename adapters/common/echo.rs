//! The runtime-independent half of the echo server of `shared/contracts.md`,
//! included by each adapter's `echo` example (`#[path]`), so that the three
//! servers behave identically: routing, the answers, and the JSON body.

#![allow(dead_code)] // each example uses the part its runtime needs

use h1::bytes::Bytes;
use h1::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version};
use h1::RequestHead;

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

pub const PLAINTEXT: &[u8] = b"Hello, World!";

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
/// HEAD). `head` is the request as received (the connection's
/// `request_head`); `body` and `trailers` are what it carried.
pub fn answer(
    route: &Route,
    head: &RequestHead,
    body: &[u8],
    trailers: Option<&HeaderMap>,
) -> (Response<()>, Bytes) {
    let (content_type, payload) = match route {
        Route::Plaintext => ("text/plain", Bytes::from_static(PLAINTEXT)),
        _ => ("application/json", Bytes::from(echo_json(head, body, trailers))),
    };
    let mut res = Response::new(());
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    (res, payload)
}

pub fn switch_response(token: &str) -> Response<()> {
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, token)
        .header(header::CONNECTION, "upgrade")
        .body(())
        .expect("token came from a header value")
}

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

/// The echo body:
/// `{"method","target","version","headers","fields","body","trailers"}`,
/// from the request's head as received: every byte field as latin-1,
/// `headers` with names lowercased, `fields` as the lines arrived.
pub fn echo_json(head: &RequestHead, body: &[u8], trailers: Option<&HeaderMap>) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + head.target().len() + body.len());
    out.extend_from_slice(b"{\"method\":");
    json_string(&mut out, head.method());
    out.extend_from_slice(b",\"target\":");
    json_string(&mut out, head.target());
    out.extend_from_slice(b",\"version\":");
    json_string(
        &mut out,
        if head.version() == Version::HTTP_10 {
            b"HTTP/1.0"
        } else {
            b"HTTP/1.1"
        },
    );
    let fields = || head.fields().iter().map(|f| (f.name(), f.value()));
    out.extend_from_slice(b",\"headers\":");
    json_pairs(&mut out, fields(), true);
    out.extend_from_slice(b",\"fields\":");
    json_pairs(&mut out, fields(), false);
    out.extend_from_slice(b",\"body\":");
    json_string(&mut out, body);
    out.extend_from_slice(b",\"trailers\":");
    let trailers = trailers.into_iter().flatten();
    json_pairs(
        &mut out,
        trailers.map(|(n, v)| (n.as_str().as_bytes(), trim(v.as_bytes()))),
        false,
    );
    out.push(b'}');
    out
}

/// `[name, value]` pairs as a JSON list, names lowercased if `lowercase`.
fn json_pairs<'a>(out: &mut Vec<u8>, pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>, lowercase: bool) {
    out.push(b'[');
    for (i, (name, value)) in pairs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        if lowercase {
            json_string(out, &name.to_ascii_lowercase());
        } else {
            json_string(out, name);
        }
        out.push(b',');
        json_string(out, value);
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

/// The echo server's handler for the async adapters' `serve`, the same text
/// for each (their connection types differ, so it is a macro). Expands to
/// an async closure; `echo` is this module as the example names it.
#[allow(unused_macros)] // the blocking example has no async handler
macro_rules! async_handler {
    () => {
        async |req, conn| match echo::route(req) {
            echo::Route::Upgrade(token) => conn.send_response(echo::switch_response(&token)).await,
            echo::Route::Connect => conn.send_response(echo::connect_response()).await,
            route => {
                let mut body = Vec::new();
                if matches!(route, echo::Route::Echo) {
                    while let Some(chunk) = conn.read_body().await? {
                        body.extend_from_slice(&chunk);
                    }
                }
                let head = conn.request_head().expect("serve hands over the request it read");
                let (res, payload) = echo::answer(&route, head, &body, conn.trailers());
                conn.send_full(res, payload).await
            }
        }
    };
}
#[allow(unused_imports)] // the blocking example has no async handler
pub(crate) use async_handler;
