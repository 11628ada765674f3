//! The servers and the client loop the end-to-end bench, the allocation
//! report and the loopback servers share, over any tokio IO (an in-memory
//! `tokio::io::duplex` or a TCP socket).
//!
//! Every server answers `GET /plaintext` with `200`, `content-type:
//! text/plain`, `content-length: 13`, a `date` and `Hello, World!`; and
//! anything else with an empty `404`.

use std::convert::Infallible;

use crate::{response_len, PLAINTEXT};
use bytes::Bytes;
use h1::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use h1::ResponseHead;
use h1_driver::echo::{self, Route};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// `h1_tokio::serve_heads`, answering exactly as the h1-tokio echo
    /// example answers `GET /plaintext` (the wire path).
    H1,
    /// `h1_tokio::serve`: the full `http::Request<()>` built, an
    /// `http::Response<()>` with a `HeaderMap` sent.
    H1Http,
    /// hyper's `http1` server with default settings.
    Hyper,
    /// hyper's `http1` server with `pipeline_flush(true)`.
    HyperPipelineFlush,
    /// Reads, counts request ends, writes canned responses: the ceiling.
    Raw,
}

impl Server {
    /// The name the reports give this server.
    pub fn name(self) -> &'static str {
        match self {
            Server::H1 => "h1_tokio",
            Server::H1Http => "h1_tokio_http",
            Server::Hyper => "hyper",
            Server::HyperPipelineFlush => "hyper_pipeline_flush",
            Server::Raw => "raw",
        }
    }

    /// Serves one connection until the client closes it.
    pub async fn serve<IO>(self, io: IO)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match self {
            Server::H1 => h1_plaintext(io).await,
            Server::H1Http => h1_http_plaintext(io).await,
            Server::Hyper => hyper_plaintext(io, false).await,
            Server::HyperPipelineFlush => hyper_plaintext(io, true).await,
            Server::Raw => raw_plaintext(io).await,
        }
    }
}

fn is_plaintext<B>(req: &Request<B>) -> bool {
    req.method() == Method::GET && req.uri().path() == "/plaintext"
}

/// The h1-tokio server on the wire path, answering `GET /plaintext` the
/// way its echo example does (routed from the `RequestHead` by
/// `h1_driver::echo::route`, answered with `echo::plaintext_head()`, a
/// `ResponseHead` built once and cloned per response); anything else gets
/// an empty 404.
pub async fn h1_plaintext<IO: AsyncRead + AsyncWrite + Unpin>(io: IO) {
    let _ = h1_tokio::serve_heads(io, h1::Config::default(), async |head, conn| {
        match echo::route(&head) {
            Route::Plaintext => {
                conn.send_full(echo::plaintext_head(), Bytes::from_static(echo::PLAINTEXT))
                    .await
            }
            _ => {
                conn.send_full(ResponseHead::new(StatusCode::NOT_FOUND), Bytes::new())
                    .await
            }
        }
    })
    .await;
}

/// The h1-tokio server on the `http` path: `serve`, each request built as
/// an `http::Request<()>`, answered with an `http::Response<()>` whose
/// `HeaderMap` holds the `content-type`.
pub async fn h1_http_plaintext<IO: AsyncRead + AsyncWrite + Unpin>(io: IO) {
    let _ = h1_tokio::serve(io, h1::Config::default(), async |req, conn| {
        let mut res = Response::new(());
        if is_plaintext(&req) {
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            conn.send_full(res, Bytes::from_static(PLAINTEXT)).await
        } else {
            *res.status_mut() = StatusCode::NOT_FOUND;
            conn.send_full(res, Bytes::new()).await
        }
    })
    .await;
}

/// hyper's http1 server (default settings: no timer, so no header read
/// timeout), optionally with `pipeline_flush(true)`.
pub async fn hyper_plaintext<IO>(io: IO, pipeline_flush: bool)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::Full;
    use hyper::body::Incoming;

    let service = hyper::service::service_fn(|req: Request<Incoming>| async move {
        let mut res = Response::new(Full::new(Bytes::new()));
        if is_plaintext(&req) {
            *res.body_mut() = Full::new(Bytes::from_static(PLAINTEXT));
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        } else {
            *res.status_mut() = StatusCode::NOT_FOUND;
        }
        Ok::<_, Infallible>(res)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.pipeline_flush(pipeline_flush);
    let _ = builder
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .await;
}

/// The canned answer of the raw server: what the others send, with a
/// fixed date.
pub const CANNED: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\
date: Tue, 15 Apr 2025 10:00:00 GMT\r\n\r\nHello, World!";

/// The ceiling: reads, counts request ends (`\r\n\r\n`, also across reads)
/// and writes one canned response per end, all of a read's in one write.
/// Knows nothing of HTTP beyond that (bodies are not supported).
pub async fn raw_plaintext<IO: AsyncRead + AsyncWrite + Unpin>(mut io: IO) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(64 * 1024);
    // How much of "\r\n\r\n" the bytes so far end with.
    let mut matched = 0usize;
    loop {
        let n = match io.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            matched = match (matched, b) {
                (0 | 2, b'\r') => matched + 1,
                (1 | 3, b'\n') => matched + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            if matched == 4 {
                out.extend_from_slice(CANNED);
                matched = 0;
            }
        }
        if !out.is_empty() {
            if io.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}

/// The client loop: `n` times, writes `request` and reads one whole
/// response into `buf` (reused: no allocation in steady state).
pub async fn client<IO: AsyncRead + AsyncWrite + Unpin>(
    io: &mut IO,
    request: &[u8],
    n: usize,
    buf: &mut Vec<u8>,
) {
    let mut read = [0u8; 4096];
    for _ in 0..n {
        io.write_all(request).await.expect("client write");
        buf.clear();
        loop {
            let got = io.read(&mut read).await.expect("client read");
            assert!(got > 0, "server closed the connection");
            buf.extend_from_slice(&read[..got]);
            if let Some(len) = response_len(buf) {
                assert_eq!(len, buf.len(), "one response per request");
                assert!(buf.starts_with(b"HTTP/1.1 200 "), "the plaintext answer");
                break;
            }
        }
    }
}
