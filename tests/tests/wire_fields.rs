//! Wire-faithful heads, as properties: the field lines a connection sends
//! (from h1's heads) arrive at the peer in the same order, with each name
//! in the same case and duplicates as separate lines, in both roles
//! (request heads, response heads with their reason phrase, trailer
//! sections), however the bytes are cut on the way.
//!
//! Expectations are the generated lines themselves, never what the code
//! under test produced.

use bytes::Bytes;
use h1::http::{Method, StatusCode};
use h1::{Connection, Event, FieldLines, RequestHead, ResponseHead, Role};
use h1_tests::take_output;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

/// One field line: a name in some case and a value.
type Line = (String, String);

/// Names that govern nothing (so the message's meaning stays the same),
/// each to be written in a random case, plus made-up tokens.
fn name() -> impl Strategy<Value = String> {
    let known = select(vec![
        "accept",
        "user-agent",
        "x-request-id",
        "set-cookie",
        "cache-control",
        "x-dup",
        "via",
        "etag",
    ]);
    let made_up = "x-[a-z0-9!#$%&'*+.^_`|~-]{1,12}";
    (
        prop_oneof![known.prop_map(str::to_owned), made_up],
        vec(any::<bool>(), 32),
    )
        .prop_map(|(n, upper)| {
            n.chars()
                .zip(upper.iter().cycle())
                .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
                .collect()
        })
}

/// A field value: visible characters and inner spaces or tabs, no
/// whitespace at either end (a received value is read without it).
fn value() -> impl Strategy<Value = String> {
    "([!-~]([ \t!-~]{0,20}[!-~])?)?"
}

/// 0 to 12 lines, names often repeated in other cases.
fn lines() -> impl Strategy<Value = Vec<Line>> {
    vec((name(), value()), 0..12).prop_flat_map(|lines| {
        // Repeat some names, in another case, somewhere later.
        let n = lines.len();
        (Just(lines), vec((any::<Index>(), value(), any::<bool>()), 0..4)).prop_map(
            move |(mut lines, dups)| {
                for (i, v, upper) in dups {
                    if n == 0 {
                        break;
                    }
                    let name = lines[i.index(n)].0.clone();
                    let name = if upper {
                        name.to_ascii_uppercase()
                    } else {
                        name.to_ascii_lowercase()
                    };
                    lines.push((name, v));
                }
                lines
            },
        )
    })
}

fn field_lines(lines: &[Line]) -> FieldLines {
    let mut f = FieldLines::new();
    for (n, v) in lines {
        f.append(n, v).expect("generated lines are valid");
    }
    f
}

fn as_lines(fields: &FieldLines) -> Vec<(Vec<u8>, Vec<u8>)> {
    fields
        .iter()
        .map(|f| (f.name().to_vec(), f.value().to_vec()))
        .collect()
}

fn want(lines: &[Line]) -> Vec<(Vec<u8>, Vec<u8>)> {
    lines
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

/// `bytes` fed to `conn` cut at `cuts`, polling after each piece; every
/// event but `NeedData`, `Paused`.
fn receive(conn: &mut Connection, bytes: &[u8], cuts: &[Index]) -> Vec<Event> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    at.push(bytes.len());
    at.sort_unstable();
    let mut events = Vec::new();
    let mut start = 0;
    for end in at {
        if end <= start {
            continue;
        }
        conn.receive(&bytes[start..end]).expect("input taken");
        start = end;
        loop {
            match conn.poll_event().expect("valid input") {
                Event::NeedData | Event::Paused => break,
                event => events.push(event),
            }
        }
    }
    events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Client to server: a request head's lines, in order and case.
    #[test]
    fn request_lines_arrive_as_sent(lines in lines(), host_case in any::<bool>(), cuts in vec(any::<Index>(), 0..12)) {
        let mut head = RequestHead::new(Method::GET, "/p?q");
        let host = if host_case { "HOST" } else { "Host" };
        let mut all = vec![(host.to_owned(), "example.com".to_owned())];
        all.extend(lines);
        *head.fields_mut() = field_lines(&all);
        let mut client = Connection::client();
        client.send_request(head).expect("send_request");
        client.send_end().expect("send_end");
        let wire = take_output(&mut client);

        let mut server = Connection::server();
        let events = receive(&mut server, &wire, &cuts);
        let Some(Event::Request(got)) = events.first() else {
            return Err(TestCaseError::fail(format!("no request: {events:?}")));
        };
        prop_assert_eq!(got.method(), b"GET");
        prop_assert_eq!(got.target(), b"/p?q");
        prop_assert_eq!(as_lines(got.fields()), want(&all));
        prop_assert!(matches!(events.get(1), Some(Event::End)));
    }

    /// Server to client: a response head's reason phrase and lines, then
    /// a chunked body's trailer lines, in order and case.
    #[test]
    fn response_and_trailer_lines_arrive_as_sent(
        lines in lines(),
        trailers in lines(),
        reason in "[ !-~]{0,16}",
        cuts in vec(any::<Index>(), 0..12),
    ) {
        let mut server = Connection::server();
        server.receive(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").expect("input");
        while !matches!(server.poll_event().expect("valid"), Event::Paused) {}
        let mut head = ResponseHead::with_reason(StatusCode::OK, &reason).expect("valid reason");
        *head.fields_mut() = field_lines(&lines);
        server.send_response(head).expect("send_response");
        server.send_data(Bytes::from_static(b"body")).expect("data");
        server.send_trailers(field_lines(&trailers)).expect("trailers");
        let wire = take_output(&mut server);

        let mut client = Connection::client();
        client
            .send_request(RequestHead::new(Method::GET, "/").tap(|h| h.fields_mut().append("Host", "a")))
            .expect("send_request");
        client.send_end().expect("send_end");
        let events = receive(&mut client, &wire, &cuts);
        let Some(Event::Response(got)) = events.first() else {
            return Err(TestCaseError::fail(format!("no response: {events:?}")));
        };
        prop_assert_eq!(got.status(), StatusCode::OK);
        prop_assert_eq!(got.reason(), reason.as_bytes());
        // The server added its framing field after the given lines.
        let mut expected = want(&lines);
        expected.push((b"transfer-encoding".to_vec(), b"chunked".to_vec()));
        prop_assert_eq!(as_lines(got.fields()), expected);
        let got_trailers = events.iter().find_map(|e| match e {
            Event::Trailers(t) => Some(as_lines(t)),
            _ => None,
        });
        let expected_trailers = (!trailers.is_empty()).then(|| want(&trailers));
        prop_assert_eq!(got_trailers, expected_trailers);
        prop_assert!(matches!(events.last(), Some(Event::End)));
    }

    /// A received head sent on, as a proxy does: the same lines reach the
    /// next hop, less the hop-by-hop ones.
    #[test]
    fn forwarded_heads_keep_their_lines(lines in lines(), cuts in vec(any::<Index>(), 0..8)) {
        let mut all = vec![("Host".to_owned(), "example.com".to_owned())];
        all.extend(lines.iter().cloned());
        all.push(("Connection".to_owned(), "keep-alive, X-Hop".to_owned()));
        all.push(("X-Hop".to_owned(), "private".to_owned()));
        let mut head = RequestHead::new(Method::GET, "/");
        *head.fields_mut() = field_lines(&all);
        let mut client = Connection::client();
        client.send_request(head).expect("send_request");
        client.send_end().expect("send_end");
        let mut proxy = Connection::server();
        let events = receive(&mut proxy, &take_output(&mut client), &cuts);
        let Some(Event::Request(mut received)) = events.into_iter().next() else {
            return Err(TestCaseError::fail("no request"));
        };
        let removed = received.fields_mut().remove_hop_by_hop();
        let hop = |n: &str| n.eq_ignore_ascii_case("connection") || n.eq_ignore_ascii_case("x-hop");
        prop_assert_eq!(removed, all.iter().filter(|(n, _)| hop(n)).count());
        let mut upstream = Connection::client();
        upstream.send_request(received).expect("forward");
        upstream.send_end().expect("end");
        let mut origin = Connection::server();
        let events = receive(&mut origin, &take_output(&mut upstream), &[]);
        let Some(Event::Request(got)) = events.first() else {
            return Err(TestCaseError::fail("no forwarded request"));
        };
        let kept: Vec<Line> = all.into_iter().filter(|(n, _)| !hop(n)).collect();
        prop_assert_eq!(as_lines(got.fields()), want(&kept));
    }
}

/// `tap`: change a value in an expression.
trait Tap: Sized {
    fn tap(self, f: impl FnOnce(&mut Self) -> Result<(), h1::Misuse>) -> Self;
}

impl Tap for RequestHead {
    fn tap(mut self, f: impl FnOnce(&mut Self) -> Result<(), h1::Misuse>) -> Self {
        f(&mut self).expect("valid");
        self
    }
}

#[test]
fn title_case_applies_to_names_without_a_case_of_their_own() {
    let mut config = h1::Config::default();
    config.title_case_names = true;
    let mut server = Connection::new(Role::Server, config);
    server
        .receive(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("input");
    while !matches!(server.poll_event().expect("valid"), Event::Paused) {}
    let res = h1::http::Response::builder()
        .header("x-from-a-map", "1")
        .body(())
        .expect("valid");
    server
        .send_full_response(res, Bytes::from_static(b"hi"))
        .expect("send");
    let wire = String::from_utf8(take_output(&mut server)).expect("ascii");
    assert_eq!(
        wire,
        "HTTP/1.1 200 OK\r\nX-From-A-Map: 1\r\nContent-Length: 2\r\n\r\nhi"
    );

    let mut head = ResponseHead::new(StatusCode::OK);
    head.fields_mut().append("x-kept-AS-is", "2").expect("valid");
    server
        .receive(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("input");
    while !matches!(server.poll_event().expect("valid"), Event::Paused) {}
    server.send_full_response(head, Bytes::new()).expect("send");
    let wire = String::from_utf8(take_output(&mut server)).expect("ascii");
    assert_eq!(
        wire,
        "HTTP/1.1 200 OK\r\nx-kept-AS-is: 2\r\nContent-Length: 0\r\n\r\n"
    );
}
