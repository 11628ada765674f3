//! ServerConnection and serve over real sockets, driven by raw clients.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::{connect, read_to_end, server, silent_for, RawReader};
use h1::http::{header, HeaderMap, Response, StatusCode};
use h1_blocking::{serve, serve_heads, serve_with_shutdown, Error, Served, ServerConnection};

/// A response whose body is `body`, framed by content-length.
fn sized(body: &[u8]) -> Response<()> {
    Response::builder()
        .header(header::CONTENT_LENGTH, body.len())
        .body(())
        .expect("response")
}

/// Serves each request with a body saying `METHOD PATH BODY`.
fn describe(socket: TcpStream) -> Result<Served<TcpStream>, Error> {
    serve(socket, h1::Config::default(), |req, conn| {
        let mut body = Vec::new();
        conn.body_receiver().read_to_end(&mut body)?;
        let text = format!(
            "{} {} {}",
            req.method(),
            req.uri(),
            String::from_utf8_lossy(&body)
        );
        conn.send_response(sized(text.as_bytes()))?;
        conn.send_data(text.into())?;
        conn.send_end()
    })
}

#[test]
fn content_length_body_in_and_out() {
    let (addr, handle) = server(1, describe);
    let mut client = connect(addr);
    client
        .write_all(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
        .expect("write");
    let mut reader = RawReader::new(client.try_clone().expect("clone"));
    let res = reader.response(false);
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), Some("16"));
    assert!(res.header("date").is_some_and(|d| d.ends_with(" GMT")), "{res:?}");
    assert_eq!(res.body, b"POST /echo hello");
    client.shutdown(std::net::Shutdown::Write).expect("shutdown");
    assert!(reader.at_eof());
    let served = handle.join().expect("server");
    assert!(matches!(served[0], Ok(Served::Closed)));
}

#[test]
fn chunked_body_in_and_out() {
    let (addr, handle) = server(1, |socket| {
        serve(socket, h1::Config::default(), |_req, conn| {
            let mut chunks = Vec::new();
            while let Some(chunk) = conn.read_body()? {
                chunks.push(chunk);
            }
            // No content-length: an HTTP/1.1 client gets a chunked body.
            conn.send_response(Response::new(()))?;
            for chunk in chunks {
                conn.send_data(chunk)?;
            }
            conn.send_data("!".into())?;
            conn.send_end()
        })
    });
    let mut client = connect(addr);
    client
        .write_all(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
        )
        .expect("write");
    let mut reader = RawReader::new(client);
    let res = reader.response(false);
    assert_eq!(res.status, 200);
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    assert_eq!(res.header("content-length"), None);
    assert_eq!(res.body, b"hello world!");
    drop(reader);
    assert!(handle.join().expect("server")[0].is_ok());
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let (addr, handle) = server(1, describe);
    let mut client = connect(addr);
    client
        .write_all(
            b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\
              POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\ntwo\
              GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        )
        .expect("write");
    let mut reader = RawReader::new(client);
    let bodies: Vec<Vec<u8>> = (0..3).map(|_| reader.response(false).body).collect();
    assert_eq!(bodies, [&b"GET /1 "[..], b"POST /2 two", b"GET /3 "]);
    assert!(reader.at_eof(), "connection: close ends the connection");
    assert!(handle.join().expect("server")[0].is_ok());
}

#[test]
fn keep_alive_then_http10() {
    let (addr, handle) = server(2, describe);

    // HTTP/1.1 persists; HTTP/1.0 with keep-alive persists too, and says so.
    let mut client = connect(addr);
    let mut reader = RawReader::new(client.try_clone().expect("clone"));
    client
        .write_all(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("write");
    assert_eq!(reader.response(false).body, b"GET /a ");
    client
        .write_all(b"GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .expect("write");
    let res = reader.response(false);
    assert_eq!(res.body, b"GET /b ");
    assert_eq!(res.header("connection"), Some("keep-alive"));
    client
        .write_all(b"GET /c HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("write");
    assert_eq!(reader.response(false).body, b"GET /c ");

    // Plain HTTP/1.0 closes after the response.
    let mut client10 = connect(addr);
    client10.write_all(b"GET /d HTTP/1.0\r\n\r\n").expect("write");
    let mut reader10 = RawReader::new(client10);
    let res = reader10.response(false);
    assert_eq!(res.body, b"GET /d ");
    assert_eq!(res.header("connection"), Some("close"));
    assert!(reader10.at_eof());

    drop((client, reader));
    for served in handle.join().expect("server") {
        assert!(matches!(served, Ok(Served::Closed)));
    }
}

#[test]
fn continue_is_sent_when_the_body_is_first_read() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = std::sync::Mutex::new(go_rx);
    let (addr, handle) = server(1, move |socket| {
        serve(socket, h1::Config::default(), |req, conn| {
            if req.uri().path() == "/read" {
                // Not before the handler asks for the body.
                go_rx.lock().expect("lock").recv().expect("go");
                let mut body = String::new();
                conn.body_receiver().read_to_string(&mut body)?;
                conn.send_response(sized(body.as_bytes()))?;
                conn.send_data(body.into())?;
            } else {
                conn.send_response(sized(b""))?;
            }
            conn.send_end()
        })
    });
    let mut client = connect(addr);
    let mut reader = RawReader::new(client.try_clone().expect("clone"));
    client
        .write_all(b"PUT /read HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .expect("write");
    assert!(
        silent_for(&client, Duration::from_millis(150)),
        "100 before the body was read"
    );
    go_tx.send(()).expect("go");
    assert_eq!(reader.response(false).status, 100);
    client.write_all(b"hello").expect("write");
    let res = reader.response(false);
    assert_eq!((res.status, &res.body[..]), (200, &b"hello"[..]));

    // A handler that answers without reading: no 100, and the connection
    // is to close since the body was never sent.
    client
        .write_all(b"PUT /skip HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .expect("write");
    let res = reader.response(false);
    assert_eq!(res.status, 200);
    assert_eq!(res.header("connection"), Some("close"));
    client.shutdown(std::net::Shutdown::Write).expect("shutdown");
    assert!(reader.at_eof());
    drop((client, reader));
    handle.join().expect("server");
}

#[test]
fn trailers_both_ways() {
    let (addr, handle) = server(1, |socket| {
        serve(socket, h1::Config::default(), |_req, conn| {
            let mut body = Vec::new();
            conn.body_receiver().read_to_end(&mut body)?;
            let got = conn.trailers()?.unwrap_or_default();
            conn.send_response(Response::new(()))?;
            conn.send_data(body.into())?;
            let mut trailers = HeaderMap::new();
            trailers.insert("x-seen", got.len().into());
            if let Some(sum) = got.get("x-checksum") {
                trailers.insert("x-checksum", sum.clone());
            }
            conn.send_trailers(trailers)
        })
    });
    let mut client = connect(addr);
    client
        .write_all(
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n\
              4\r\ndata\r\n0\r\nX-Checksum: 42\r\n\r\n",
        )
        .expect("write");
    let mut reader = RawReader::new(client);
    let res = reader.response(false);
    assert_eq!(res.body, b"data");
    assert_eq!(
        res.trailers,
        [("x-seen".into(), "1".into()), ("x-checksum".into(), "42".into())]
    );
    drop(reader);
    assert!(handle.join().expect("server")[0].is_ok());
}

#[test]
fn rejected_request_gets_its_status_then_eof() {
    let (addr, handle) = server(1, |socket| {
        serve(
            socket,
            h1::Config::default(),
            |_req, _conn| -> Result<(), Error> { panic!("no request is valid") },
        )
    });
    let mut client = connect(addr);
    client
        .write_all(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello")
        .expect("write");
    let mut reader = RawReader::new(client);
    let res = reader.response(false);
    assert_eq!(res.status, 400);
    assert_eq!(res.header("connection"), Some("close"));
    assert_eq!(res.header("content-length"), Some("0"));
    assert!(reader.at_eof());
    let served = handle.join().expect("server").remove(0);
    match served {
        Err(Error::Protocol(e)) => assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST)),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[test]
fn unanswered_request_gets_500() {
    let (addr, handle) = server(1, |socket| {
        serve(socket, h1::Config::default(), |_req, _conn| Ok::<_, Error>(()))
    });
    let mut client = connect(addr);
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut reader = RawReader::new(client);
    assert_eq!(reader.response(false).status, 500);
    assert!(reader.at_eof());
    assert!(handle.join().expect("server")[0].is_ok());
}

#[test]
fn upgrade_hands_over_the_socket_with_the_leftover_first() {
    let (addr, handle) = server(1, |socket| {
        let served = serve(socket, h1::Config::default(), |req, conn| {
            assert_eq!(req.headers()[header::UPGRADE], "raw");
            let res = Response::builder()
                .status(StatusCode::SWITCHING_PROTOCOLS)
                .header(header::CONNECTION, "upgrade")
                .header(header::UPGRADE, "raw")
                .body(())
                .expect("response");
            conn.send_response(res)?;
            Ok::<_, Error>(req)
        })
        .expect("serve");
        let Served::Upgraded {
            value: request,
            parts,
        } = served
        else {
            panic!("not upgraded")
        };
        assert_eq!(request.uri(), "/chat");
        let leftover = parts.leftover.clone();
        let mut upgraded = parts.into_upgraded();
        // The leftover comes out first, then what the socket delivers.
        let mut first = [0; 5];
        upgraded.read_exact(&mut first).expect("leftover");
        upgraded.write_all(b"got:").expect("write");
        upgraded.write_all(&first).expect("write");
        let mut rest = Vec::new();
        upgraded.read_to_end(&mut rest).expect("rest");
        upgraded.write_all(&rest).expect("write");
        upgraded
            .get_ref()
            .shutdown(std::net::Shutdown::Write)
            .expect("shutdown");
        leftover
    });
    let mut client = connect(addr);
    // The request and the new protocol's first bytes in one write.
    client
        .write_all(b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: raw\r\n\r\nHELLO")
        .expect("write");
    let mut reader = RawReader::new(client.try_clone().expect("clone"));
    let res = reader.response(true);
    assert_eq!(res.status, 101);
    assert_eq!(res.header("upgrade"), Some("raw"));
    let mut got = [0; 9];
    (&reader.socket)
        .read_exact(&mut got[reader.buf.len()..])
        .expect("echo");
    got[..reader.buf.len()].copy_from_slice(&reader.buf);
    assert_eq!(&got, b"got:HELLO");
    client.write_all(b" world").expect("write");
    client.shutdown(std::net::Shutdown::Write).expect("shutdown");
    assert_eq!(read_to_end(&mut client), b" world");
    let leftover = handle.join().expect("server").remove(0);
    assert_eq!(&leftover[..], b"HELLO");
}

#[test]
fn connect_tunnel_echoes_raw_bytes() {
    let (addr, handle) = server(1, |socket| {
        let served = serve(socket, h1::Config::default(), |req, conn| {
            assert_eq!(req.method(), "CONNECT");
            assert_eq!(req.uri(), "example.com:443");
            conn.send_response(Response::new(()))
        })
        .expect("serve");
        let Served::Upgraded { parts, .. } = served else {
            panic!("not switched")
        };
        let mut writer = parts.io.try_clone().expect("clone");
        std::io::copy(&mut parts.into_upgraded(), &mut writer).expect("copy");
        writer.shutdown(std::net::Shutdown::Write).expect("shutdown");
    });
    let mut client = connect(addr);
    client
        .write_all(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        .expect("write");
    let mut reader = RawReader::new(client.try_clone().expect("clone"));
    let res = reader.response(true);
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), None);
    assert_eq!(res.header("transfer-encoding"), None);
    assert!(reader.buf.is_empty());
    client.write_all(b"\x16\x03\x01 not really tls").expect("write");
    let mut echoed = [0; 18];
    client.read_exact(&mut echoed).expect("echo");
    assert_eq!(&echoed, b"\x16\x03\x01 not really tls");
    client.shutdown(std::net::Shutdown::Write).expect("shutdown");
    assert!(read_to_end(&mut client).is_empty());
    handle.join().expect("server");
}

#[test]
fn slow_head_gets_408_while_others_are_served() {
    let mut config = h1::Config::default();
    config.timeouts.head_read = Some(Duration::from_millis(200));
    let (addr, handle) = server(2, move |socket| -> Result<usize, Error> {
        let conn = ServerConnection::with_config(socket, config.clone());
        let mut served = 0;
        while conn.read_request()?.is_some() {
            conn.send_response(sized(b"ok"))?;
            conn.send_data("ok".into())?;
            conn.send_end()?;
            served += 1;
        }
        Ok(served)
    });
    let started = Instant::now();
    let mut slow = connect(addr);
    slow.write_all(b"GET / HTTP/1.1\r\nHo").expect("write");
    let mut fast = connect(addr);
    fast.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut fast = RawReader::new(fast);
    assert_eq!(fast.response(false).body, b"ok");
    assert!(fast.at_eof());
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "the fast client waited"
    );

    let mut slow = RawReader::new(slow);
    let res = slow.response(false);
    let waited = started.elapsed();
    assert_eq!(res.status, 408);
    assert_eq!(res.header("connection"), Some("close"));
    assert!(slow.at_eof());
    assert!(waited >= Duration::from_millis(200), "timed out after {waited:?}");
    assert!(waited < Duration::from_secs(2), "timed out after {waited:?}");

    let mut results = handle.join().expect("server");
    let timed_out = results
        .iter()
        .position(Result::is_err)
        .expect("one connection timed out");
    match results.remove(timed_out) {
        Err(Error::Protocol(e)) => assert_eq!(e.status(), Some(StatusCode::REQUEST_TIMEOUT)),
        other => panic!("{other:?}"),
    }
    assert_eq!(results[0].as_ref().ok(), Some(&1));
}

#[test]
fn shutdown_finishes_the_response_then_closes() {
    let stop = Arc::new(AtomicBool::new(false));
    let (addr, handle) = server(2, move |socket| {
        serve_with_shutdown(socket, h1::Config::default(), &stop, |req, conn| {
            if req.uri() == "/stop" {
                // Shutdown is asked for while this response is in flight.
                stop.store(true, Ordering::Release);
            }
            conn.send_response(sized(b"done"))?;
            conn.send_data("done".into())?;
            conn.send_end()
        })
    });
    // A connection that served a request waits for the next one.
    let mut idle = connect(addr);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("write");
    let mut idle = RawReader::new(idle);
    assert_eq!(idle.response(false).body, b"done");
    assert!(silent_for(&idle.socket, Duration::from_millis(50)));

    // The response in flight is finished; the pipelined request after it
    // is not answered.
    let mut busy = connect(addr);
    busy.write_all(b"GET /stop HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("write");
    let mut busy = RawReader::new(busy);
    assert_eq!(busy.response(false).body, b"done");
    assert!(busy.at_eof());

    // The waiting connection notices the flag and closes.
    let started = Instant::now();
    assert!(idle.at_eof());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "closed after {:?}",
        started.elapsed()
    );
    for served in handle.join().expect("server") {
        assert!(matches!(served, Ok(Served::Closed)));
    }
}

/// `serve_heads` gives each request as it arrived: the target byte for
/// byte, the field lines in order with their names' case, duplicates
/// apart; `http_request` builds the same request as `http` types.
#[test]
fn serve_heads_gives_the_request_as_received() {
    let (addr, handle) = server(1, |socket| {
        serve_heads(socket, h1::Config::default(), |head, conn| {
            let req = conn.http_request(head.clone())?;
            assert_eq!(head.method(), req.method().as_str().as_bytes());
            assert_eq!(head.target(), req.uri().to_string().as_bytes());
            assert_eq!(head.fields().len(), req.headers().len());
            let lines: Vec<String> = head
                .fields()
                .iter()
                .map(|f| format!("{}={}", f.name().escape_ascii(), f.value().escape_ascii()))
                .collect();
            let text = format!("{} {}", head.target().escape_ascii(), lines.join(","));
            conn.send_response(sized(text.as_bytes()))?;
            conn.send_data(text.into())?;
            conn.send_end()
        })
    });
    let mut client = connect(addr);
    client
        .write_all(
            b"GET /caf%C3%A9?q=1 HTTP/1.1\r\nHost: x\r\nX-Trace: 1\r\nx-trace:  2 \r\n\r\n\
              GET /next HTTP/1.1\r\nhost: x\r\nConnection: close\r\n\r\n",
        )
        .expect("write");
    let mut reader = RawReader::new(client.try_clone().expect("clone"));
    assert_eq!(
        reader.response(false).body,
        b"/caf%C3%A9?q=1 Host=x,X-Trace=1,x-trace=2"
    );
    assert_eq!(reader.response(false).body, b"/next host=x,Connection=close");
    assert!(reader.at_eof());
    let served = handle.join().expect("server");
    assert!(matches!(served[0], Ok(Served::Closed)));
}
