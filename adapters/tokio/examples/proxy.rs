//! A reverse proxy over h1-tokio: both roles at once, a server toward its
//! clients and a client toward one upstream, as `shared/contracts.md`
//! describes it.
//!
//! `cargo run --release -p h1-tokio --example proxy -- --addr HOST:PORT --upstream HOST:PORT`
//! (`--response-timeout SECS` changes the 504 deadline, 30 s by default).
//!
//! - each request goes to the upstream over a pool of keep-alive
//!   connections; bodies stream both ways in full duplex (one task per
//!   client connection: the request body and the response are two futures
//!   polled together), nothing is held whole in memory, and an early final
//!   response from the upstream (a 413 while the body is still being sent)
//!   reaches the client as that response;
//! - heads are forwarded as they arrived, on the wire path (`serve_heads`,
//!   `read_response_head`): the target, the reason phrase and the field
//!   lines in their order and case, less the hop-by-hop fields, with
//!   `via: 1.1 h1` added; framing is chosen afresh on each hop (by the
//!   core: a kept `content-length` frames by length, chunked was
//!   hop-by-hop); trailers are forwarded as field lines;
//! - an upgrade is forwarded, and after the upstream's 101 the two sockets
//!   are spliced; `CONNECT host:port` opens a tunnel from here;
//! - 502 when the upstream cannot be reached or closes before answering,
//!   504 when no response head comes within 30 s.
//!
//! One log line per request on stdout.

use std::future::{poll_fn, Future};
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::Duration;

use h1::http::{Method, StatusCode, Version};
use h1::{Config, FieldLines, Misuse, RequestHead, ResponseHead};
use h1_tokio::{serve_heads, BoxError, ClientConnection, Error, Parts, Served, ServerConnection};
use tokio::net::{TcpListener, TcpStream};

/// How long the upstream may take to start its answer, by default.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle upstream connections kept for reuse.
const POOL_SIZE: usize = 64;

type Upstream = ClientConnection<TcpStream>;

/// What a handler hands out when the connection leaves HTTP.
enum Switch {
    /// A CONNECT tunnel: the target's socket.
    Tunnel(TcpStream),
    /// An upgrade the upstream accepted: its socket and leftover.
    Upgrade(Parts<TcpStream>),
}

/// The proxy's shared state.
struct Proxy {
    upstream: String,
    config: Config,
    /// How long the upstream may take to start its answer (then 504).
    response_timeout: Duration,
    /// Idle keep-alive connections to the upstream.
    pool: Mutex<Vec<Upstream>>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (mut addr, mut upstream) = ("127.0.0.1:8081".to_string(), None);
    let mut response_timeout = RESPONSE_TIMEOUT;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().unwrap_or(addr),
            "--upstream" => upstream = args.next(),
            "--response-timeout" => {
                let secs = args.next().and_then(|s| s.parse().ok());
                response_timeout = secs.map_or(RESPONSE_TIMEOUT, Duration::from_secs_f64);
            }
            _ => {}
        }
    }
    let Some(upstream) = upstream else {
        eprintln!("usage: proxy [--addr HOST:PORT] --upstream HOST:PORT");
        std::process::exit(2);
    };
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let proxy = Arc::new(Proxy {
        upstream,
        config: Config::default(),
        response_timeout,
        pool: Mutex::new(Vec::new()),
    });
    loop {
        let (socket, peer) = listener.accept().await?;
        let proxy = Arc::clone(&proxy);
        tokio::spawn(async move {
            if let Err(e) = connection(proxy, socket, peer).await {
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

/// Serves one client connection, then splices it if it switched.
async fn connection(proxy: Arc<Proxy>, socket: TcpStream, peer: SocketAddr) -> Result<(), BoxError> {
    socket.set_nodelay(true)?;
    let config = proxy.config.clone();
    let served = serve_heads(socket, config, move |head, conn| {
        let proxy = Arc::clone(&proxy);
        async move { handle(&proxy, peer, head, conn).await }
    })
    .await?;
    if let Served::Upgraded {
        parts,
        value: Some(switch),
    } = served
    {
        let mut client = parts.into_upgraded();
        match switch {
            Switch::Tunnel(mut target) => tokio::io::copy_bidirectional(&mut client, &mut target).await?,
            Switch::Upgrade(upstream) => {
                tokio::io::copy_bidirectional(&mut client, &mut upstream.into_upgraded()).await?
            }
        };
    }
    Ok(())
}

/// One request: a tunnel, an upgrade, or a forwarded exchange.
async fn handle(
    proxy: &Proxy,
    peer: SocketAddr,
    head: RequestHead,
    conn: ServerConnection<TcpStream>,
) -> Result<Option<Switch>, BoxError> {
    let line = format!(
        "{} {}",
        head.method().escape_ascii(),
        head.target().escape_ascii()
    );
    let (status, switch) = if head.is_method(&Method::CONNECT) {
        tunnel(proxy, &head, &conn).await?
    } else {
        forward(proxy, head, &conn).await?
    };
    log(peer, &format!("{line} -> {}", status.as_u16()));
    Ok(switch)
}

/// CONNECT: the proxy opens the tunnel itself (a forward proxy).
async fn tunnel(
    proxy: &Proxy,
    head: &RequestHead,
    conn: &ServerConnection<TcpStream>,
) -> Result<(StatusCode, Option<Switch>), BoxError> {
    // The core checked the authority-form target: `host:port`, ASCII.
    let target = String::from_utf8_lossy(head.target()).into_owned();
    let limit = proxy.config.timeouts.connect.unwrap_or(Duration::MAX);
    match tokio::time::timeout(limit, TcpStream::connect(target)).await {
        Ok(Ok(stream)) => {
            conn.send_response(ResponseHead::new(StatusCode::OK)).await?;
            Ok((StatusCode::OK, Some(Switch::Tunnel(stream))))
        }
        _ => Ok((error(conn, StatusCode::BAD_GATEWAY).await?, None)),
    }
}

/// Answers with `status` and a short text body.
async fn error(conn: &ServerConnection<TcpStream>, status: StatusCode) -> Result<StatusCode, Error> {
    let mut res = ResponseHead::new(status);
    res.fields_mut().append("content-type", "text/plain")?;
    let text = format!("{}\n", status.canonical_reason().unwrap_or_default());
    conn.send_full(res, text.into()).await?;
    Ok(status)
}

/// A pooled upstream connection that is still usable, or a new one.
async fn upstream(proxy: &Proxy, fresh: bool) -> Result<Upstream, Error> {
    if !fresh {
        let mut pool = proxy.pool.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(conn) = pool.pop() {
            if conn.is_reusable() {
                return Ok(conn);
            }
        }
    }
    h1_tokio::connect(proxy.upstream.as_str(), proxy.config.clone()).await
}

fn release(proxy: &Proxy, conn: Upstream) {
    if conn.is_reusable() {
        let mut pool = proxy.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < POOL_SIZE {
            pool.push(conn);
        }
    }
}

/// Forwards a request and its answer, both bodies streaming at once.
async fn forward(
    proxy: &Proxy,
    head: RequestHead,
    conn: &ServerConnection<TcpStream>,
) -> Result<(StatusCode, Option<Switch>), BoxError> {
    let upgrade = head.requested_upgrade().is_some();
    let has_body = head.fields().contains("content-length") || head.fields().contains("transfer-encoding");
    let to_client = ToClient {
        head: head.is_method(&Method::HEAD),
        chunked: head.version() == Version::HTTP_11,
    };
    let out = upstream_request(head, upgrade)?;
    // An idle pooled connection may have been closed by the upstream just
    // now: a request whose bytes never left is safe to send again.
    let mut attempt = 0;
    let up = loop {
        attempt += 1;
        let up = match upstream(proxy, upgrade || attempt > 1).await {
            Ok(up) => up,
            Err(_) => return Ok((error(conn, StatusCode::BAD_GATEWAY).await?, None)),
        };
        up.send_request(out.clone()).await?;
        if has_body {
            break up;
        }
        up.send_end().await?;
        if up.is_request_unsent() && attempt == 1 {
            continue;
        }
        break up;
    };
    let sending = async {
        if has_body {
            send_body(conn, &up).await
        } else {
            Ok(())
        }
    };
    let answering = answer(&up, conn, to_client, proxy.response_timeout);
    let (sent, answered) = both(sending, answering, || up.is_sending_stopped()).await;
    let answered = match answered {
        Some(Ok(answered)) => answered,
        Some(Err(e)) => return Err(e),
        // The client's body failed (it went away): so does the exchange.
        None => {
            return Err(sent
                .and_then(Result::err)
                .map_or("request body failed".into(), Into::into))
        }
    };
    match answered {
        Answered::Switched(status) => Ok((status, Some(Switch::Upgrade(up.into_parts().await?)))),
        Answered::Forwarded(status) => {
            if matches!(sent, Some(Ok(()))) {
                release(proxy, up);
            }
            Ok((status, None))
        }
        Answered::Failed(status) => Ok((error(conn, status).await?, None)),
    }
}

/// Polls the request body's future and the answer's together. Both run to
/// their end, except that the body stops once `stopped` says the upstream
/// refused the rest, and the answer is dropped (`None`) if the body failed.
async fn both<A, B>(
    sending: impl Future<Output = Result<(), A>>,
    answering: impl Future<Output = B>,
    stopped: impl Fn() -> bool,
) -> (Option<Result<(), A>>, Option<B>) {
    let (mut sending, mut answering) = (pin!(sending), pin!(answering));
    let (mut sent, mut answered) = (None, None);
    poll_fn(|cx| {
        if sent.is_none() {
            if let Poll::Ready(r) = sending.as_mut().poll(cx) {
                sent = Some(r);
            }
        }
        if answered.is_none() && !matches!(sent, Some(Err(_))) {
            if let Poll::Ready(r) = answering.as_mut().poll(cx) {
                answered = Some(r);
            }
        }
        match (&sent, &answered) {
            (Some(Err(_)), _) | (Some(_), Some(_)) => Poll::Ready(()),
            (None, Some(_)) if stopped() => Poll::Ready(()),
            _ => Poll::Pending,
        }
    })
    .await;
    (sent, answered)
}

/// Streams the client's request body to the upstream, trailers included.
async fn send_body(conn: &ServerConnection<TcpStream>, up: &Upstream) -> Result<(), Error> {
    while let Some(chunk) = conn.read_body().await? {
        up.send_data(chunk).await?;
        if up.is_sending_stopped() {
            return Ok(());
        }
    }
    match conn.trailer_fields() {
        Some(trailers) => up.send_trailers(forwarded_trailers(trailers)).await,
        None => up.send_end().await,
    }
}

/// What the answer to the client can carry.
#[derive(Clone, Copy)]
struct ToClient {
    /// The request was HEAD: the answer has no body.
    head: bool,
    /// The client speaks HTTP/1.1: a body without a length goes chunked
    /// (and can carry trailers).
    chunked: bool,
}

enum Answered {
    /// The upstream's answer went to the client.
    Forwarded(StatusCode),
    /// The upstream accepted an upgrade; the 101 went to the client.
    Switched(StatusCode),
    /// No answer from the upstream: this status goes to the client.
    Failed(StatusCode),
}

/// Reads the upstream's answer (1xx first) and sends it to the client.
async fn answer(
    up: &Upstream,
    conn: &ServerConnection<TcpStream>,
    to_client: ToClient,
    limit: Duration,
) -> Result<Answered, BoxError> {
    let res = loop {
        let res = match tokio::time::timeout(limit, up.read_response_head()).await {
            Err(_) => return Ok(Answered::Failed(StatusCode::GATEWAY_TIMEOUT)),
            Ok(Err(_)) => return Ok(Answered::Failed(StatusCode::BAD_GATEWAY)),
            Ok(Ok(res)) => res,
        };
        match res.status() {
            // The proxy answers `expect: 100-continue` itself.
            StatusCode::CONTINUE => continue,
            s if s.is_informational() && s != StatusCode::SWITCHING_PROTOCOLS => {
                conn.send_response(client_response(res)?).await?;
            }
            _ => break res,
        }
    };
    let status = res.status();
    if status == StatusCode::SWITCHING_PROTOCOLS {
        conn.send_response(client_response(res)?).await?;
        return Ok(Answered::Switched(status));
    }
    // Trailers can follow only a chunked body: no length of its own, to an
    // HTTP/1.1 client.
    let chunked = to_client.chunked && !res.fields().contains("content-length");
    conn.send_response(client_response(res)?).await?;
    if to_client.head {
        conn.send_end().await?;
        return Ok(Answered::Forwarded(status));
    }
    while let Some(chunk) = up.read_body().await? {
        conn.send_data(chunk).await?;
    }
    match up.trailer_fields() {
        Some(trailers) if chunked && conn.inspect(|c| c.our_state() == h1::State::SendBody) => {
            conn.send_trailers(forwarded_trailers(trailers)).await?
        }
        _ => conn.send_end().await?,
    }
    Ok(Answered::Forwarded(status))
}

// ---- forwarding heads ---------------------------------------------------------------
//
// Heads go on as they arrived: a received head, its field lines changed in
// place (order and name case kept), less the hop-by-hop fields (RFC 9110
// section 7.6.1), with `via` (section 7.6.3).

/// What the proxy adds to each head it forwards.
const VIA: &str = "1.1 h1";

/// The request to send upstream: the method, the target as received and
/// the field lines as received, less hop-by-hop fields and `expect` (the
/// proxy answers `100-continue` itself: its server side sends the 100 when
/// it starts reading the body), sent as HTTP/1.1 with `via`. A body's
/// transfer coding is declared again (it was hop-by-hop; the core chunks
/// it afresh); an upgrade is forwarded with its `upgrade` lines and
/// `connection: upgrade`.
fn upstream_request(mut head: RequestHead, upgrade: bool) -> Result<RequestHead, Misuse> {
    let kept = kept_lines(head.fields(), |name| {
        name.eq_ignore_ascii_case(b"transfer-encoding") || (upgrade && name.eq_ignore_ascii_case(b"upgrade"))
    });
    let fields = head.fields_mut();
    fields.remove_hop_by_hop();
    fields.remove("expect");
    for (name, value) in &kept {
        fields.append(name, value)?;
    }
    if upgrade {
        fields.append("connection", "upgrade")?;
    }
    fields.append("via", VIA)?;
    head.set_version(Version::HTTP_11);
    Ok(head)
}

/// The response to send the client: the status, the reason phrase and the
/// field lines as received, less hop-by-hop fields (a 101 keeps its
/// `upgrade` lines, with `connection: upgrade`), with `via`. Its framing is
/// the core's choice: a kept `content-length`, or chunked.
fn client_response(mut res: ResponseHead) -> Result<ResponseHead, Misuse> {
    let upgrade = res.status() == StatusCode::SWITCHING_PROTOCOLS;
    let kept = kept_lines(res.fields(), |name| {
        upgrade && name.eq_ignore_ascii_case(b"upgrade")
    });
    let fields = res.fields_mut();
    fields.remove_hop_by_hop();
    for (name, value) in &kept {
        fields.append(name, value)?;
    }
    if upgrade {
        fields.append("connection", "upgrade")?;
    }
    fields.append("via", VIA)?;
    Ok(res)
}

/// The lines (name and value) of `fields` that `keep` names: hop-by-hop
/// lines to put back after the hop-by-hop fields are removed.
fn kept_lines(fields: &FieldLines, keep: impl Fn(&[u8]) -> bool) -> Vec<(Vec<u8>, Vec<u8>)> {
    fields
        .iter()
        .filter(|f| keep(f.name()))
        .map(|f| (f.name().to_vec(), f.value().to_vec()))
        .collect()
}

/// A trailer section forwarded to the next hop: hop-by-hop fields removed,
/// and those a trailer section may not carry (framing, routing or
/// connection control, RFC 9110 section 6.5.1), which a recipient must not
/// act on anyway.
fn forwarded_trailers(mut trailers: FieldLines) -> FieldLines {
    trailers.remove_hop_by_hop();
    trailers.remove_non_trailer_fields();
    trailers
}
