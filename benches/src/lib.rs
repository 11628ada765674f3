//! Benchmarks for h1 against httparse and hyper. The criterion benches live
//! under `benches/`, the allocation report and the loopback servers under
//! `examples/`, the loopback driver in `loopback.sh`; `run.sh` runs them
//! all (see `README.md`).
//!
//! This library holds what they share: the inputs (the same bytes for
//! every contender), [`hyper_way`] (the head built the way hyper builds it,
//! from httparse output), helpers that put an `h1` connection in a known
//! state, and [`servers`] (the h1, hyper and raw servers and the client
//! loop of the end-to-end bench, the allocation report and the loopback).

pub mod servers;

use bytes::{Bytes, BytesMut};
use h1::{Connection, Event, ResponseHead, Role};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};

/// A small GET, as a load generator sends it.
pub const SMALL_GET: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: example.com\r\n\r\n";

/// A browser-like GET: 12 fields, several of them not in the standard
/// table (`sec-fetch-*`, `priority`).
pub const BROWSER_GET: &[u8] = b"GET /plaintext HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Connection: keep-alive\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-Site: none\r\n\
Sec-Fetch-User: ?1\r\n\
Priority: u=0, i\r\n\
\r\n";

/// A response head with 10 fields (its body is not part of the input).
pub const RESPONSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\n\
Date: Tue, 15 Apr 2025 10:00:00 GMT\r\n\
Server: nginx/1.25.3\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 5120\r\n\
Cache-Control: max-age=600\r\n\
ETag: \"5d8c72a5edda8\"\r\n\
Last-Modified: Mon, 14 Apr 2025 08:00:00 GMT\r\n\
Vary: Accept-Encoding\r\n\
Strict-Transport-Security: max-age=63072000\r\n\
X-Request-Id: 7f3c9a52-1b2e-4d8f-9a6c-0e5b4d3c2a10\r\n\
\r\n";

/// The length of [`RESPONSE_HEAD`]'s body (its `content-length`).
pub const RESPONSE_BODY: usize = 5120;

/// [`RESPONSE_HEAD`] with its body: a whole response.
pub fn response_with_body() -> Vec<u8> {
    let mut out = RESPONSE_HEAD.to_vec();
    out.resize(RESPONSE_HEAD.len() + RESPONSE_BODY, b'x');
    out
}

/// The number of requests in [`pipelined_gets`].
pub const PIPELINED: usize = 100;

/// [`PIPELINED`] small GETs back to back, as one read delivers them.
pub fn pipelined_gets() -> Vec<u8> {
    SMALL_GET.repeat(PIPELINED)
}

/// The request head benches: name, bytes, and whether it is a response.
pub fn head_cases() -> Vec<(&'static str, Vec<u8>, bool)> {
    vec![
        ("small_get", SMALL_GET.to_vec(), false),
        ("browser_get", BROWSER_GET.to_vec(), false),
        ("response_10", RESPONSE_HEAD.to_vec(), true),
        ("pipelined_100", pipelined_gets(), false),
    ]
}

/// A request head of about `size` bytes: a GET with filler fields.
pub fn big_head(size: usize) -> Vec<u8> {
    let mut h = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n".to_vec();
    let mut i = 0;
    while h.len() + 40 < size {
        h.extend_from_slice(format!("x-filler-{i:04}: {}\r\n", "v".repeat(16)).as_bytes());
        i += 1;
    }
    h.extend_from_slice(b"\r\n");
    h
}

/// A configuration that admits [`big_head`] heads of up to 1 MiB.
pub fn big_head_config() -> h1::Config {
    let mut config = h1::Config::default();
    config.limits.header_count = 10_000;
    config.limits.head_size = 1 << 20;
    config
}

/// A POST carrying `body` chunked in pieces of `chunk` bytes.
pub fn chunked_post(body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out =
        b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for piece in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A POST carrying `body` with a Content-Length.
pub fn length_post(body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// `len` bytes of body, not all alike.
pub fn body_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

/// `bytes` in a receive buffer as an IO loop hands it over: a `BytesMut`
/// split off a larger, already shared buffer, so that slicing it (as h1
/// and hyper both do) costs no allocation, as in steady state.
pub fn read_buffer(bytes: &[u8]) -> BytesMut {
    let mut buf = BytesMut::with_capacity(bytes.len() + 64);
    buf.extend_from_slice(bytes);
    buf.split()
}

/// A server connection that has already served one request, so its
/// per-connection allocations (the exchange queue) are made: what a
/// keep-alive connection looks like when the next request arrives.
pub fn warm_server(config: h1::Config) -> Connection {
    warm_server_after(config, SMALL_GET)
}

/// [`warm_server`], having served `previous` (a request without a body)
/// twice, building the `http::Request` of each head as a driver does
/// ([`Connection::http_request`]): the steady state of a keep-alive client
/// that sends the same fields on each request, as browsers and load
/// generators do (from its second head on, the connection reuses the field
/// names of the previous head where they recur at the same place).
pub fn warm_server_after(config: h1::Config, previous: &[u8]) -> Connection {
    let mut conn = Connection::new(Role::Server, config);
    for _ in 0..2 {
        conn.receive(previous).expect("warm-up request");
        loop {
            match conn.poll_event().expect("warm-up request parses") {
                Event::Request(head) => drop(conn.http_request(head).expect("warm-up request converts")),
                Event::End => break,
                other => panic!("unexpected warm-up event {other:?}"),
            }
        }
        answer_204(&mut conn);
        assert!(matches!(conn.poll_event(), Ok(Event::NeedData)));
    }
    conn
}

/// An empty `204` response, whole.
pub const NO_CONTENT: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";

/// A client connection that has received responses ([`NO_CONTENT`]) and
/// sent one more GET: ready for the response head under test.
pub fn warm_client() -> Connection {
    warm_client_after(NO_CONTENT)
}

/// [`warm_client`], having received `previous` (a whole response, body
/// included) to each of two GETs, building each `http::Response` as a
/// driver does: the steady state of a server that sends the same fields on
/// each response.
pub fn warm_client_after(previous: &[u8]) -> Connection {
    let mut conn = Connection::new(Role::Client, h1::Config::default());
    for _ in 0..2 {
        next_get(&mut conn);
        conn.receive(previous).expect("warm-up response");
        loop {
            match conn.poll_event().expect("warm-up response parses") {
                Event::Response(head) => drop(conn.http_response(head).expect("warm-up response converts")),
                Event::Data(_) => {}
                Event::End => break,
                other => panic!("unexpected warm-up event {other:?}"),
            }
        }
    }
    next_get(&mut conn);
    conn
}

/// Client: sends the next `GET http://example.com/` and drops its output.
pub fn next_get(conn: &mut Connection) {
    let get = Request::get("http://example.com/")
        .body(())
        .expect("static request");
    conn.send_request(get).expect("GET");
    conn.send_end().expect("GET end");
    conn.clear_output();
}

/// Answers the current request with an empty `204` and drops the output:
/// the least a server does before the core parses a pipelined request.
pub fn answer_204(conn: &mut Connection) {
    let mut res = Response::new(());
    *res.status_mut() = StatusCode::NO_CONTENT;
    conn.send_response(res).expect("answer");
    conn.send_end().expect("answer end");
    conn.clear_output();
}

/// [`answer_204`] with the core's own head ([`ResponseHead`]) instead of
/// an `http::Response`: a server that builds no `http` types.
pub fn answer_204_wire(conn: &mut Connection) {
    conn.send_response(ResponseHead::new(StatusCode::NO_CONTENT))
        .expect("answer");
    conn.send_end().expect("answer end");
    conn.clear_output();
}

/// A request or response head built the way hyper's h1 role builds it
/// (hyper has no public parser): httparse over the frozen read buffer,
/// then `Method`, a `Uri` from a slice of the shared `Bytes`, and a fresh
/// `HeaderMap` whose names come from the standard table where they can and
/// whose values are slices of the same `Bytes`. (hyper's server reuses the
/// previous response's map for the next request; the in-memory end-to-end
/// and allocation benches measure the real thing.)
///
/// Returns the head and the bytes it used; `None` when the head is
/// incomplete or malformed.
pub mod hyper_way {
    use super::*;

    const MAX_HEADERS: usize = 100;

    /// Byte ranges of one field, as hyper records them before building.
    #[derive(Clone, Copy, Default)]
    struct Indices {
        name: (usize, usize),
        value: (usize, usize),
    }

    fn record(bytes: &[u8], headers: &[httparse::Header<'_>], out: &mut [Indices]) {
        let base = bytes.as_ptr() as usize;
        for (h, slot) in headers.iter().zip(out.iter_mut()) {
            let name = h.name.as_ptr() as usize - base;
            let value = h.value.as_ptr() as usize - base;
            *slot = Indices {
                name: (name, name + h.name.len()),
                value: (value, value + h.value.len()),
            };
        }
    }

    fn header_map(slice: &Bytes, indices: &[Indices]) -> Option<HeaderMap> {
        let mut headers = HeaderMap::with_capacity(indices.len());
        for ix in indices {
            let name = HeaderName::from_bytes(&slice[ix.name.0..ix.name.1]).ok()?;
            let value = slice.slice(ix.value.0..ix.value.1);
            let value = if value.is_ascii() {
                // As hyper does (`header_value!`): httparse has already
                // checked the bytes, so skip `HeaderValue`'s own scan.
                // SAFETY: the value is ASCII (so valid UTF-8, the documented
                // requirement) and httparse accepted it as a field value:
                // HTAB, SP and visible characters only, as `HeaderValue`
                // requires.
                #[allow(unsafe_code)]
                unsafe {
                    HeaderValue::from_maybe_shared_unchecked(value)
                }
            } else {
                HeaderValue::from_maybe_shared(value).ok()?
            };
            headers.append(name, value);
        }
        Some(headers)
    }

    /// One request head from the front of `buf` (split off it).
    pub fn request(buf: &mut BytesMut) -> Option<Request<()>> {
        let mut indices = [Indices::default(); MAX_HEADERS];
        let (len, method, path, version, count) = {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut slots);
            let httparse::Status::Complete(len) = req.parse(buf).ok()? else {
                return None;
            };
            let method = Method::from_bytes(req.method?.as_bytes()).ok()?;
            let path = req.path?;
            let start = path.as_ptr() as usize - buf.as_ptr() as usize;
            let version = if req.version? == 1 {
                Version::HTTP_11
            } else {
                Version::HTTP_10
            };
            record(buf, req.headers, &mut indices);
            (
                len,
                method,
                (start, start + path.len()),
                version,
                req.headers.len(),
            )
        };
        let slice = buf.split_to(len).freeze();
        let uri = Uri::from_maybe_shared(slice.slice(path.0..path.1)).ok()?;
        let headers = header_map(&slice, &indices[..count])?;
        let mut req = Request::new(());
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.version_mut() = version;
        *req.headers_mut() = headers;
        Some(req)
    }

    /// One response head from the front of `buf` (split off it).
    pub fn response(buf: &mut BytesMut) -> Option<Response<()>> {
        let mut indices = [Indices::default(); MAX_HEADERS];
        let (len, status, version, count) = {
            let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut res = httparse::Response::new(&mut slots);
            let httparse::Status::Complete(len) = res.parse(buf).ok()? else {
                return None;
            };
            let status = StatusCode::from_u16(res.code?).ok()?;
            let version = if res.version? == 1 {
                Version::HTTP_11
            } else {
                Version::HTTP_10
            };
            record(buf, res.headers, &mut indices);
            (len, status, version, res.headers.len())
        };
        let slice = buf.split_to(len).freeze();
        let headers = header_map(&slice, &indices[..count])?;
        let mut res = Response::new(());
        *res.status_mut() = status;
        *res.version_mut() = version;
        *res.headers_mut() = headers;
        Some(res)
    }
}

/// The plaintext route's body (the TechEmpower plaintext test).
pub const PLAINTEXT: &[u8] = b"Hello, World!";

/// The length of the complete response at the front of `buf` (head plus
/// its Content-Length body), or `None` while it is incomplete. For the
/// benches' client loops, whose servers always send a Content-Length.
pub fn response_len(buf: &[u8]) -> Option<usize> {
    let mut slots = [httparse::EMPTY_HEADER; 32];
    let mut res = httparse::Response::new(&mut slots);
    let httparse::Status::Complete(head) = res.parse(buf).ok()? else {
        return None;
    };
    let body = res
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (buf.len() >= head + body).then_some(head + body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_head_case_parses_the_same_in_h1_and_the_hyper_way() {
        for (name, bytes, response) in head_cases() {
            let mut buf = read_buffer(&bytes);
            if response {
                let theirs = hyper_way::response(&mut buf).expect(name);
                let mut conn = warm_client();
                conn.receive_buf(read_buffer(&bytes)).expect(name);
                let Ok(Event::Response(head)) = conn.poll_event() else {
                    panic!("{name}: no response event")
                };
                let ours = head.into_response().expect(name);
                assert_eq!(ours.headers(), theirs.headers(), "{name}");
                assert_eq!(ours.status(), theirs.status(), "{name}");
            } else {
                let theirs = hyper_way::request(&mut buf).expect(name);
                let mut conn = warm_server(h1::Config::default());
                conn.receive_buf(read_buffer(&bytes)).expect(name);
                let Ok(Event::Request(head)) = conn.poll_event() else {
                    panic!("{name}: no request event")
                };
                let ours = head.into_request().expect(name);
                assert_eq!(ours.headers(), theirs.headers(), "{name}");
                assert_eq!(ours.uri(), theirs.uri(), "{name}");
                assert_eq!(ours.method(), theirs.method(), "{name}");
            }
        }
    }

    #[test]
    fn bodies_decode_to_the_same_bytes() {
        let body = body_bytes(100_000);
        for input in [chunked_post(&body, 1024), length_post(&body)] {
            let mut conn = warm_server(h1::Config::default());
            conn.receive_buf(read_buffer(&input)).expect("input");
            let mut got = Vec::new();
            loop {
                match conn.poll_event().expect("valid") {
                    Event::Request(_) => {}
                    Event::Data(d) => got.extend_from_slice(&d),
                    Event::End => break,
                    other => panic!("unexpected {other:?}"),
                }
            }
            assert_eq!(got, body);
        }
    }

    #[test]
    fn response_len_waits_for_the_body() {
        let res = b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\nHello, World!";
        assert_eq!(response_len(res), Some(res.len()));
        assert_eq!(response_len(&res[..res.len() - 1]), None);
    }
}
