//! Deadlines as data (crate docs: Timers; `Timer`, `TimerKind`, `Timeouts`):
//! which deadline applies when, how ids change, and what expiry does.

use std::time::Duration;

use bytes::Bytes;
use h1::http::{Request, Response};
use h1::{CloseReason, Config, Connection, Error, Event, Misuse, Role, State, Timer, TimerKind};
use h1_tests::{drain, kinds, take_output, Ev};

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";

fn answer(conn: &mut Connection, status: u16) -> Vec<u8> {
    let res = Response::builder()
        .status(status)
        .header("content-length", "0")
        .body(())
        .expect("valid response");
    conn.send_response(res).expect("send_response");
    conn.send_end().expect("send_end");
    take_output(conn)
}

fn timer(conn: &Connection) -> Timer {
    conn.timer().expect("a deadline applies")
}

/// Feeds `bytes` one at a time, draining after each, and checks the
/// deadline keeps `expected` throughout (except after the last byte).
fn dribble(conn: &mut Connection, bytes: &[u8], expected: Timer) -> Vec<Ev> {
    let mut events = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        conn.receive(&[*b]).expect("receive");
        events.extend(drain(conn));
        if i + 1 < bytes.len() {
            assert_eq!(conn.timer(), Some(expected), "after byte {i}");
        }
    }
    events
}

// ---- server: head read and keep-alive ------------------------------------

#[test]
fn fresh_server_has_a_head_read_deadline() {
    let conn = Connection::server();
    let t = timer(&conn);
    assert_eq!(t.kind, TimerKind::HeadRead);
    assert_eq!(t.duration, Duration::from_secs(30));

    let mut config = Config::default();
    config.timeouts.head_read = Some(Duration::from_millis(1500));
    let conn = Connection::new(Role::Server, config);
    assert_eq!(timer(&conn).duration, Duration::from_millis(1500));
}

#[test]
fn disabled_deadlines_are_not_asked_for() {
    let mut config = Config::default();
    config.timeouts.head_read = None;
    config.timeouts.keep_alive = None;
    let mut conn = Connection::new(Role::Server, config);
    assert_eq!(conn.timer(), None);
    conn.receive(GET).expect("receive");
    drain(&mut conn);
    answer(&mut conn, 200);
    assert!(drain(&mut conn).is_empty());
    assert_eq!(conn.timer(), None);
}

#[test]
fn head_read_keeps_its_id_while_a_head_is_dribbled() {
    let mut conn = Connection::server();
    let first = timer(&conn);
    let events = dribble(&mut conn, GET, first);
    assert_eq!(kinds(&events), ["request", "end", "paused"]);
    // The head is in: no head-read deadline while the response is made.
    assert_eq!(conn.timer(), None);
    answer(&mut conn, 200);
    assert!(drain(&mut conn).is_empty());

    // Idle between requests: keep-alive.
    let idle = timer(&conn);
    assert_eq!(idle.kind, TimerKind::KeepAlive);
    assert_eq!(idle.duration, Duration::from_secs(60));
    assert_ne!(idle.id, first.id);
    assert_eq!(conn.timer(), Some(idle), "asking again changes nothing");

    // The next head's first byte starts a new head-read deadline.
    conn.receive(b"G").expect("receive");
    assert!(drain(&mut conn).is_empty());
    let second = timer(&conn);
    assert_eq!(second.kind, TimerKind::HeadRead);
    assert_ne!(second.id, first.id);
    assert_ne!(second.id, idle.id);
    let events = dribble(&mut conn, &GET[1..], second);
    assert_eq!(kinds(&events), ["request", "end", "paused"]);
}

#[test]
fn head_read_deadline_fails_with_408() {
    for received in [&b""[..], b"GET / HTTP/1.1\r\nHo"] {
        let mut conn = Connection::server();
        conn.receive(received).expect("receive");
        assert!(drain(&mut conn).is_empty());
        let t = timer(&conn);
        assert_eq!(t.kind, TimerKind::HeadRead);

        let err = conn.handle_timeout(t).expect_err("head read expired");
        assert_eq!(err, Error::Timeout(TimerKind::HeadRead));
        assert_eq!(err.status().map(|s| s.as_u16()), Some(408));
        // Sticky.
        assert_eq!(conn.poll_event().expect_err("sticky"), err);
        assert_eq!(conn.poll_event().expect_err("sticky"), err);
        assert!(!conn.is_close_wanted(), "a 408 may still be sent");

        let wire = answer(&mut conn, 408);
        assert!(wire.starts_with(b"HTTP/1.1 408 Request Timeout\r\n"));
        assert!(String::from_utf8_lossy(&wire)
            .to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"));
        assert!(conn.is_close_wanted());
        assert_eq!(conn.timer(), None);
    }
}

#[test]
fn keep_alive_deadline_closes() {
    let mut conn = Connection::server();
    conn.receive(GET).expect("receive");
    drain(&mut conn);
    answer(&mut conn, 200);
    assert!(drain(&mut conn).is_empty());
    let idle = timer(&conn);
    assert_eq!(idle.kind, TimerKind::KeepAlive);
    assert!(!conn.is_close_wanted());

    conn.handle_timeout(idle).expect("keep-alive expiry is no error");
    assert!(conn.is_close_wanted());
    assert_eq!(conn.close_reason(), Some(CloseReason::IdleTimeout));
    assert!(!conn.is_read_wanted());
    assert!(!matches!(conn.poll_event(), Err(_) | Ok(Event::Request(_))));
}

#[test]
fn stale_timers_are_ignored() {
    let mut conn = Connection::server();
    let first = timer(&conn);
    conn.receive(GET).expect("receive");
    drain(&mut conn);
    answer(&mut conn, 200);
    assert!(drain(&mut conn).is_empty());
    let idle = timer(&conn);

    // The first head-read deadline is gone.
    conn.handle_timeout(first).expect("stale: ignored");
    assert!(!conn.is_close_wanted());
    assert_eq!(conn.timer(), Some(idle));
    assert!(matches!(conn.poll_event(), Ok(Event::NeedData)));

    // The next head starts; the keep-alive deadline is gone too.
    conn.receive(b"GET /2 HTTP/1.1\r\n").expect("receive");
    assert!(drain(&mut conn).is_empty());
    let second = timer(&conn);
    conn.handle_timeout(idle).expect("stale: ignored");
    assert!(!conn.is_close_wanted());
    // An old id of the same kind is stale as well.
    conn.handle_timeout(first).expect("stale: ignored");
    assert_eq!(conn.timer(), Some(second));
    // A timer with the right id but another kind is not this deadline.
    conn.handle_timeout(Timer {
        kind: TimerKind::KeepAlive,
        ..second
    })
    .expect("not this deadline: ignored");
    assert!(!conn.is_close_wanted());

    conn.receive(b"Host: a\r\n\r\n").expect("receive");
    assert_eq!(kinds(&drain(&mut conn)), ["request", "end", "paused"]);
}

#[test]
fn server_answering_before_an_expected_body_closes() {
    // RFC 9110 10.1.1: a final response before the content was read; the
    // client may or may not send it, so the connection cannot persist.
    let mut conn = Connection::server();
    conn.receive(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .expect("receive");
    assert_eq!(kinds(&drain(&mut conn)), ["request"]);
    assert!(conn.is_continue_expected());
    answer(&mut conn, 417);
    assert!(!conn.is_continue_expected());
    assert_eq!(conn.close_reason(), Some(CloseReason::UnsentBody));
}

// ---- client: expect-continue --------------------------------------------

const HEAD: &[u8] =
    b"POST /up HTTP/1.1\r\nhost: a.example\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n";

/// A client that sent a request with `expect: 100-continue` and a 5-byte
/// body (handed in with `send_data` and `send_end`); checks that only the
/// head went out.
fn client_holding_body() -> Connection {
    let mut conn = Connection::client();
    let req = Request::post("/up")
        .header("host", "a.example")
        .header("expect", "100-continue")
        .header("content-length", "5")
        .body(())
        .expect("valid request");
    conn.send_request(req).expect("send_request");
    conn.send_data(Bytes::from_static(b"hello")).expect("send_data");
    conn.send_end().expect("send_end");
    assert_eq!(
        take_output(&mut conn).escape_ascii().to_string(),
        HEAD.escape_ascii().to_string(),
        "only the head goes out"
    );
    conn
}

#[test]
fn body_waits_for_100_continue() {
    let mut conn = client_holding_body();
    let t = timer(&conn);
    assert_eq!(t.kind, TimerKind::ExpectContinue);
    assert_eq!(t.duration, Duration::from_secs(1));

    conn.receive(b"HTTP/1.1 100 Continue\r\n\r\n").expect("receive");
    assert_eq!(drain(&mut conn), [Ev::Informational(100)]);
    assert_eq!(take_output(&mut conn), b"hello");
    assert_eq!(conn.timer(), None);
    // The deadline passing now changes nothing.
    conn.handle_timeout(t).expect("stale");
    assert_eq!(take_output(&mut conn), b"");

    conn.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .expect("receive");
    assert_eq!(kinds(&drain(&mut conn)), ["response", "end"]);
    assert_eq!(conn.close_reason(), None);
}

#[test]
fn body_goes_when_the_expect_continue_deadline_passes() {
    let mut conn = client_holding_body();
    let t = timer(&conn);
    conn.handle_timeout(t)
        .expect("expect-continue expiry is no error");
    assert_eq!(take_output(&mut conn), b"hello");
    assert_eq!(conn.timer(), None);

    // A late 100 is still an informational response; nothing is sent twice.
    conn.receive(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        .expect("receive");
    assert_eq!(kinds(&drain(&mut conn)), ["informational", "response", "end"]);
    assert_eq!(take_output(&mut conn), b"");
    assert_eq!(conn.close_reason(), None);
}

#[test]
fn final_response_before_100_drops_the_body() {
    let mut conn = client_holding_body();
    let t = timer(&conn);
    conn.receive(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
        .expect("receive");
    assert_eq!(kinds(&drain(&mut conn)), ["response", "end", "finished"]);
    assert_eq!(take_output(&mut conn), b"", "the body is never sent");
    assert_eq!(conn.close_reason(), Some(CloseReason::UnsentBody));
    assert!(conn.is_close_wanted());
    // The deadline is gone.
    conn.handle_timeout(t).expect("stale");
    assert_eq!(take_output(&mut conn), b"");
}

/// The response came first and the body will never be sent: the upload
/// stops (RFC 9112 section 9.5), and a caller that goes on is told so.
#[test]
fn body_handed_in_after_the_final_response_is_refused() {
    let mut conn = Connection::client();
    let req = Request::post("/up")
        .header("host", "a.example")
        .header("expect", "100-continue")
        .header("content-length", "5")
        .body(())
        .expect("valid request");
    conn.send_request(req).expect("send_request");
    take_output(&mut conn);
    conn.receive(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
        .expect("receive");
    assert_eq!(kinds(&drain(&mut conn)), ["response", "end", "finished"]);
    assert_eq!(conn.our_state(), State::MustClose);
    assert!(matches!(
        conn.send_data(Bytes::from_static(b"hello")),
        Err(Error::Misuse(Misuse::WrongState {
            state: State::MustClose,
            ..
        }))
    ));
    assert!(conn.send_end().is_err());
    assert_eq!(take_output(&mut conn), b"");
    assert_eq!(conn.close_reason(), Some(CloseReason::UnsentBody));
}

#[test]
fn body_handed_in_after_100_goes_straight_out() {
    let mut conn = Connection::client();
    let req = Request::post("/up")
        .header("host", "a.example")
        .header("expect", "100-continue")
        .header("content-length", "5")
        .body(())
        .expect("valid request");
    conn.send_request(req).expect("send_request");
    take_output(&mut conn);
    conn.receive(b"HTTP/1.1 100 Continue\r\n\r\n").expect("receive");
    assert_eq!(drain(&mut conn), [Ev::Informational(100)]);
    conn.send_data(Bytes::from_static(b"hello")).expect("send_data");
    assert_eq!(take_output(&mut conn), b"hello");
    conn.send_end().expect("send_end");
}

#[test]
fn no_expect_no_deadline() {
    let mut conn = Connection::client();
    let req = Request::post("/up")
        .header("host", "a.example")
        .header("content-length", "5")
        .body(())
        .expect("valid request");
    conn.send_request(req).expect("send_request");
    conn.send_data(Bytes::from_static(b"hello")).expect("send_data");
    assert_eq!(conn.timer(), None);
    assert!(take_output(&mut conn).ends_with(b"\r\n\r\nhello"));
}
