//! Shared by the loopback tests: the same scenario runs under async-std
//! and under smol ([`both!`]), over real sockets on 127.0.0.1, each under a
//! deadline so that nothing can hang.

#![allow(dead_code)] // each test file uses the helpers it needs

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

/// Longest a scenario may run.
pub const DEADLINE: Duration = Duration::from_secs(5);
/// Most bytes a raw reader collects.
const MAX_READ: usize = 1 << 20;

/// The socket types of one runtime.
pub trait Net {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug + 'static;
    type Listener;
    fn bind() -> impl Future<Output = (Self::Listener, SocketAddr)>;
    fn accept(listener: &Self::Listener) -> impl Future<Output = Self::Stream>;
    fn connect(addr: SocketAddr) -> impl Future<Output = Self::Stream>;
    /// Half-closes the write side (sends FIN). Needed apart from `close`:
    /// async-std's `close` only flushes.
    fn shutdown_write(stream: &Self::Stream);
    /// Runs `task` on the runtime's own threads (a second task).
    fn spawn<T: Send + 'static>(
        task: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T> + Send;
}

/// async-std's sockets.
pub struct AsyncStd;

impl Net for AsyncStd {
    type Stream = async_std::net::TcpStream;
    type Listener = async_std::net::TcpListener;

    async fn bind() -> (Self::Listener, SocketAddr) {
        let listener = async_std::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        (listener, addr)
    }

    async fn accept(listener: &Self::Listener) -> Self::Stream {
        listener.accept().await.expect("accept").0
    }

    async fn connect(addr: SocketAddr) -> Self::Stream {
        async_std::net::TcpStream::connect(addr).await.expect("connect")
    }

    fn shutdown_write(stream: &Self::Stream) {
        stream.shutdown(std::net::Shutdown::Write).expect("shutdown");
    }

    fn spawn<T: Send + 'static>(
        task: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        async_std::task::spawn(task)
    }
}

/// smol's sockets (`async-net`).
pub struct Smol;

impl Net for Smol {
    type Stream = smol::net::TcpStream;
    type Listener = smol::net::TcpListener;

    async fn bind() -> (Self::Listener, SocketAddr) {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        (listener, addr)
    }

    async fn accept(listener: &Self::Listener) -> Self::Stream {
        listener.accept().await.expect("accept").0
    }

    async fn connect(addr: SocketAddr) -> Self::Stream {
        smol::net::TcpStream::connect(addr).await.expect("connect")
    }

    fn shutdown_write(stream: &Self::Stream) {
        stream.shutdown(std::net::Shutdown::Write).expect("shutdown");
    }

    fn spawn<T: Send + 'static>(
        task: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        smol::spawn(task)
    }
}

/// Runs `fut`, failing the test if it takes longer than [`DEADLINE`].
pub async fn within<F: Future<Output = ()>>(fut: F) {
    futures_lite::future::or(fut, async {
        async_io::Timer::after(DEADLINE).await;
        panic!("test did not finish within {DEADLINE:?}");
    })
    .await
}

/// Sleeps (an `async-io` timer: works under both runtimes).
pub async fn sleep(ms: u64) {
    async_io::Timer::after(Duration::from_millis(ms)).await;
}

/// Whether `fut` completes within `ms` milliseconds.
pub async fn completes_within<F: Future>(ms: u64, fut: F) -> Option<F::Output> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        sleep(ms).await;
        None
    })
    .await
}

/// Writes `bytes` in one write call and flushes.
pub async fn send(io: &mut (impl AsyncWrite + Unpin), bytes: &[u8]) {
    io.write_all(bytes).await.expect("write");
    io.flush().await.expect("flush");
}

/// Everything until the peer closes, with `date` lines removed.
pub async fn read_to_eof(io: &mut (impl AsyncRead + Unpin)) -> String {
    let mut out = Vec::new();
    (&mut *io)
        .take(MAX_READ as u64)
        .read_to_end(&mut out)
        .await
        .expect("read to eof");
    strip_date(&String::from_utf8_lossy(&out))
}

/// Reads exactly `n` bytes.
pub async fn read_exact(io: &mut (impl AsyncRead + Unpin), n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    io.read_exact(&mut out).await.expect("read exact");
    out
}

/// Reads one message head (through the empty line), byte by byte so that
/// nothing after it is consumed; `date` lines removed.
pub async fn read_head(io: &mut (impl AsyncRead + Unpin)) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < MAX_READ, "head too long");
        let n = io.read(&mut byte).await.expect("read head");
        assert_eq!(n, 1, "eof inside a head: {:?}", String::from_utf8_lossy(&head));
        head.push(byte[0]);
    }
    strip_date(&String::from_utf8_lossy(&head))
}

/// Removes `date:` field lines, whose value changes every second.
pub fn strip_date(text: &str) -> String {
    text.split_inclusive("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("date: "))
        .collect()
}

/// Defines each named scenario (a generic `async fn name<N: Net>()`) as two
/// tests: `async_std_rt::name` under `#[async_std::test]` and
/// `smol_rt::name` under `smol::block_on`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod async_std_rt {
            use super::common::{within, AsyncStd};
            $(
                #[async_std::test]
                async fn $name() {
                    within(super::$name::<AsyncStd>()).await
                }
            )*
        }
        mod smol_rt {
            use super::common::{within, Smol};
            $(
                #[test]
                fn $name() {
                    smol::block_on(within(super::$name::<Smol>()))
                }
            )*
        }
    };
}

/// A handler that answers each request with its own body: Content-Length
/// framed when the request was, chunked (with the request's trailers)
/// otherwise. Reads the body through [`ServerConnection::body_receiver`].
pub async fn echo_body<IO>(
    req: h1::http::Request<()>,
    conn: h1_async_std::ServerConnection<IO>,
) -> Result<(), h1_async_std::Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    use h1::http::{header, Response};
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    let mut body = Vec::new();
    conn.body_receiver().read_to_end(&mut body).await?;
    let mut res = Response::builder();
    res = if chunked {
        res.header(header::TRANSFER_ENCODING, "chunked")
    } else {
        res.header(header::CONTENT_LENGTH, body.len())
    };
    conn.send_response(res.body(()).expect("response")).await?;
    if !body.is_empty() {
        conn.send_data(body.into()).await?;
    }
    match conn.trailers()? {
        Some(trailers) => conn.send_trailers(trailers).await,
        None => conn.send_end().await,
    }
}

/// A handler that answers with the request's path as a Content-Length body.
pub async fn path_body<IO>(
    req: h1::http::Request<()>,
    conn: h1_async_std::ServerConnection<IO>,
) -> Result<(), h1_async_std::Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    use h1::http::{header, Response};
    let path = req.uri().path().to_string();
    let res = Response::builder()
        .header(header::CONTENT_LENGTH, path.len())
        .body(())
        .expect("response");
    conn.send_response(res).await?;
    conn.send_data(path.into()).await?;
    conn.send_end().await
}

/// Sends `GET path` on a kept-alive connection and checks the answer of
/// [`path_body`]: exactly its head, then the path as the body.
pub async fn get_path(io: &mut (impl AsyncRead + AsyncWrite + Unpin), path: &str) {
    send(io, format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).await;
    assert_eq!(
        read_head(io).await,
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", path.len())
    );
    assert_eq!(read_exact(io, path.len()).await, path.as_bytes());
}

/// Echoes raw bytes on `io` until the peer closes (at most 100 reads).
pub async fn raw_echo(io: &mut (impl AsyncRead + AsyncWrite + Unpin)) {
    let mut buf = [0u8; 1024];
    for _ in 0..100 {
        let n = io.read(&mut buf).await.expect("read");
        if n == 0 {
            io.close().await.expect("close");
            return;
        }
        io.write_all(&buf[..n]).await.expect("write");
        io.flush().await.expect("flush");
    }
    panic!("raw echo: too many reads");
}
