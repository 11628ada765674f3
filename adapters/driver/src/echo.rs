//! The echo server of the project's contract (`shared/contracts.md` in
//! the repository), shared by every adapter's `echo` example so that they
//! behave identically: routing, the answers, and the JSON body that
//! describes the request as received. Useful as a test peer.
//!
//! It is written on the wire path, the project's recommended way: each
//! request is routed and described from its [`RequestHead`] as it arrived
//! (no `http` types are built), and `GET /plaintext` is answered with a
//! [`ResponseHead`] whose fields were built once and which is cloned per
//! response (sharing its bytes: nothing is allocated per request).
//!
//! [`handle`] is the whole handler for the async adapters' `serve_heads`;
//! the blocking adapter's example calls the same functions around its own
//! connection type.

use std::sync::LazyLock;

use bytes::Bytes;
use h1::http::{Method, StatusCode, Version};
use h1::{FieldLines, RequestHead, ResponseHead};

use crate::{Error, ServerConnection, Transport};

/// What the echo server does with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /plaintext`: `Hello, World!`.
    Plaintext,
    /// The request asks to upgrade to this protocol (the first one it
    /// offers): 101, then raw echo.
    Upgrade(Bytes),
    /// CONNECT: 200, then raw echo.
    Connect,
    /// Anything else: the request echoed back as JSON.
    Echo,
}

/// The body of `GET /plaintext`.
pub const PLAINTEXT: &[u8] = b"Hello, World!";

/// Where a request goes.
pub fn route(head: &RequestHead) -> Route {
    if head.is_method(&Method::CONNECT) {
        return Route::Connect;
    }
    if head.is_method(&Method::GET) && path(head.target()) == b"/plaintext" {
        return Route::Plaintext;
    }
    if let Some(protocol) = head.requested_upgrade() {
        return Route::Upgrade(Bytes::copy_from_slice(protocol));
    }
    Route::Echo
}

/// The path of a request-target: an origin-form target up to its query,
/// or the path of an absolute-form one (`/` when it has none).
fn path(target: &[u8]) -> &[u8] {
    let before_query = |t: &[u8]| -> usize { t.iter().position(|&b| b == b'?').unwrap_or(t.len()) };
    if target.first() == Some(&b'/') {
        return &target[..before_query(target)];
    }
    let Some(scheme_end) = target.windows(3).position(|w| w == b"://") else {
        return target;
    };
    let rest = &target[scheme_end + 3..];
    let path = &rest[rest
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(rest.len())..];
    match &path[..before_query(path)] {
        b"" => b"/",
        path => path,
    }
}

/// A `200` head with this `content-type`, built once.
fn typed_head(content_type: &'static str) -> ResponseHead {
    let mut head = ResponseHead::new(StatusCode::OK);
    head.fields_mut()
        .append("content-type", content_type)
        .expect("a valid field");
    head
}

static PLAINTEXT_HEAD: LazyLock<ResponseHead> = LazyLock::new(|| typed_head("text/plain"));
static JSON_HEAD: LazyLock<ResponseHead> = LazyLock::new(|| typed_head("application/json"));

/// The head of the `GET /plaintext` answer (`200`, `content-type:
/// text/plain`; `send_full` adds the `content-length`): a clone of one
/// built once, which shares its bytes.
pub fn plaintext_head() -> ResponseHead {
    PLAINTEXT_HEAD.clone()
}

/// The answer to a plaintext or echo route: the head and the whole body,
/// for `send_full` (which adds the `content-length`, and sends no body to
/// HEAD). `head` is the request as received; `body` and `trailers` are
/// what it carried.
pub fn answer(
    route: &Route,
    head: &RequestHead,
    body: &[u8],
    trailers: Option<&FieldLines>,
) -> (ResponseHead, Bytes) {
    match route {
        Route::Plaintext => (plaintext_head(), Bytes::from_static(PLAINTEXT)),
        _ => (JSON_HEAD.clone(), Bytes::from(echo_json(head, body, trailers))),
    }
}

/// The `101 Switching Protocols` to `protocol` (one the request offered).
pub fn switch_response(protocol: &[u8]) -> Result<ResponseHead, Error> {
    let mut head = ResponseHead::new(StatusCode::SWITCHING_PROTOCOLS);
    head.fields_mut().append("upgrade", protocol)?;
    head.fields_mut().append("connection", "upgrade")?;
    Ok(head)
}

/// The `200` that opens a CONNECT tunnel.
pub fn connect_response() -> ResponseHead {
    ResponseHead::new(StatusCode::OK)
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
/// `headers` with names lowercased, `fields` as the lines arrived,
/// `trailers` (names lowercased) as the body's trailer section carried them.
pub fn echo_json(head: &RequestHead, body: &[u8], trailers: Option<&FieldLines>) -> Vec<u8> {
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
    out.extend_from_slice(b",\"headers\":");
    json_pairs(&mut out, Some(head.fields()), true);
    out.extend_from_slice(b",\"fields\":");
    json_pairs(&mut out, Some(head.fields()), false);
    out.extend_from_slice(b",\"body\":");
    json_string(&mut out, body);
    out.extend_from_slice(b",\"trailers\":");
    json_pairs(&mut out, trailers, true);
    out.push(b'}');
    out
}

/// Field lines as a JSON list of `[name, value]` pairs, names lowercased
/// if `lowercase`.
fn json_pairs(out: &mut Vec<u8>, fields: Option<&FieldLines>, lowercase: bool) {
    out.push(b'[');
    for (i, field) in fields.into_iter().flatten().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        if lowercase {
            json_string(out, &field.name().to_ascii_lowercase());
        } else {
            json_string(out, field.name());
        }
        out.push(b',');
        json_string(out, field.value());
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

/// The echo server's handler for `serve_heads`: the answer to one
/// request. After a switch (upgrade or CONNECT) the caller echoes raw
/// bytes on the handed-over socket.
pub async fn handle<IO: Unpin, Rt: Transport<IO>>(
    head: RequestHead,
    conn: ServerConnection<IO, Rt>,
) -> Result<(), Error> {
    match route(&head) {
        Route::Plaintext => {
            conn.send_full(plaintext_head(), Bytes::from_static(PLAINTEXT))
                .await
        }
        Route::Upgrade(protocol) => conn.send_response(switch_response(&protocol)?).await,
        Route::Connect => conn.send_response(connect_response()).await,
        route => {
            let mut body = Vec::new();
            while let Some(chunk) = conn.read_body().await? {
                body.extend_from_slice(&chunk);
            }
            let (res, payload) = answer(&route, &head, &body, conn.trailer_fields().as_ref());
            conn.send_full(res, payload).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(line: &str) -> RequestHead {
        let (method, target) = line.split_once(' ').expect("method and target");
        RequestHead::new(Method::from_bytes(method.as_bytes()).expect("method"), target)
    }

    #[test]
    fn routes() {
        assert_eq!(route(&head("GET /plaintext")), Route::Plaintext);
        assert_eq!(route(&head("GET /plaintext?x=1")), Route::Plaintext);
        assert_eq!(route(&head("GET http://a.example/plaintext?x")), Route::Plaintext);
        assert_eq!(route(&head("GET /plaintext/more")), Route::Echo);
        assert_eq!(route(&head("POST /plaintext")), Route::Echo);
        assert_eq!(route(&head("GET http://a.example")), Route::Echo);
        assert_eq!(route(&head("CONNECT a.example:443")), Route::Connect);
        let mut upgrade = head("GET /chat");
        upgrade
            .fields_mut()
            .append("Connection", "Upgrade")
            .expect("field");
        upgrade
            .fields_mut()
            .append("Upgrade", "websocket, h2c")
            .expect("field");
        assert_eq!(route(&upgrade), Route::Upgrade(Bytes::from_static(b"websocket")));
    }

    #[test]
    fn the_json_describes_the_head_as_received() {
        let mut req = head("GET /caf%C3%A9");
        req.fields_mut().append("Host", "a").expect("field");
        req.fields_mut().append("X-Obs", "\u{e9}").expect("field");
        let mut trailers = FieldLines::new();
        trailers.append("X-Sum", "9").expect("field");
        let json = echo_json(&req, b"b\xff", Some(&trailers));
        assert_eq!(
            String::from_utf8(json).expect("ASCII"),
            r#"{"method":"GET","target":"/caf%C3%A9","version":"HTTP/1.1","#.to_owned()
                + r#""headers":[["host","a"],["x-obs","\u00c3\u00a9"]],"#
                + r#""fields":[["Host","a"],["X-Obs","\u00c3\u00a9"]],"#
                + r#""body":"b\u00ff","trailers":[["x-sum","9"]]}"#
        );
    }

    #[test]
    fn answers_share_the_heads_built_once() {
        let (a, b) = (plaintext_head(), plaintext_head());
        let (x, y) = (a.fields().get("content-type"), b.fields().get("content-type"));
        assert_eq!(x, Some(&b"text/plain"[..]));
        // The same bytes, not a copy of them.
        assert_eq!(x.map(<[u8]>::as_ptr), y.map(<[u8]>::as_ptr));
        let switch = switch_response(b"websocket").expect("valid protocol");
        assert_eq!(switch.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(switch.fields().get("upgrade"), Some(&b"websocket"[..]));
        assert!(switch_response(b"bad\r\nvalue").is_err());
    }
}
