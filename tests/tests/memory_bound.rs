//! Adversarial inputs never make a connection hold more than its limits
//! allow. Each stream is generated piece by piece (never materialized), fed
//! to a connection, and drained after every piece; after each drain the
//! bytes the connection holds must stay within the configured limits plus
//! a small constant. Streams either run for megabytes (endless 1xx
//! responses, a body of 1-byte chunks) or stop at the limit they attack.

use h1::{Config, Connection, Error, Event, LimitError, Role};
use h1_tests::{answer_empty_200, buffer_bound};

fn small_config() -> Config {
    let mut config = Config::default();
    config.limits.head_size = 4096;
    config.limits.header_count = 64;
    config.limits.chunk_line = 256;
    config.limits.chunk_extensions = 2048;
    config.limits.trailer_size = 1024;
    config.limits.request_target = 1024;
    config
}

/// Feeds `pieces` (each drained after feeding) and returns the first error,
/// if any, and the largest number of bytes held after a drain that asked
/// for more data. (When a piece ends in an error, the connection holds that
/// piece until it is dropped; it reads nothing more.)
fn drive(
    conn: &mut Connection,
    pieces: impl Iterator<Item = Vec<u8>>,
    max_bytes: usize,
) -> (Option<Error>, usize) {
    let mut fed = 0;
    let mut most = 0;
    for piece in pieces {
        fed += piece.len();
        conn.receive(&piece).expect("input accepted");
        loop {
            match conn.poll_event() {
                Ok(Event::NeedData) => break,
                Ok(Event::End) if conn.role() == Role::Server => answer_empty_200(conn),
                Ok(Event::Paused) => panic!("paused: the test answers every request"),
                Ok(_) => {}
                Err(e) => {
                    assert!(!conn.is_read_wanted(), "no reading after an error");
                    return (Some(e), most);
                }
            }
        }
        most = most.max(conn.buffered_len());
        // Output the server queued is written by the IO side; drop it here.
        while conn.poll_output().is_some() {}
        if fed >= max_bytes {
            break;
        }
    }
    (None, most)
}

fn repeat(prefix: &'static [u8], unit: &'static [u8]) -> impl Iterator<Item = Vec<u8>> {
    std::iter::once(prefix.to_vec()).chain(std::iter::repeat_with(move || unit.repeat(64)))
}

#[test]
fn huge_head() {
    let config = small_config();
    let mut conn = Connection::new(Role::Server, config.clone());
    let pieces = repeat(
        b"GET / HTTP/1.1\r\nHost: a\r\n",
        b"X-Filler: aaaaaaaaaaaaaaaa\r\n",
    );
    let (err, most) = drive(&mut conn, pieces, 1 << 20);
    assert!(most <= buffer_bound(&config), "held {most}");
    assert!(
        matches!(
            err,
            Some(Error::Limit(LimitError::HeadSize | LimitError::HeaderCount))
        ),
        "{err:?}"
    );
}

#[test]
fn huge_head_without_line_ends() {
    let config = small_config();
    let mut conn = Connection::new(Role::Server, config.clone());
    let (err, most) = drive(&mut conn, repeat(b"GET /", b"a"), 1 << 20);
    assert!(most <= buffer_bound(&config), "held {most}");
    assert!(
        matches!(err, Some(Error::Limit(LimitError::RequestTarget))),
        "{err:?}"
    );
}

#[test]
fn endless_chunk_extensions() {
    let config = small_config();
    let mut conn = Connection::new(Role::Server, config.clone());
    let head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    // Long extensions on one chunk line, then many short lines with extensions.
    let one_line = std::iter::once(head.to_vec()).chain(std::iter::repeat_with(|| b";a=b".repeat(16)));
    let (err, most) = drive(&mut conn, one_line, 1 << 20);
    assert!(most <= buffer_bound(&config), "held {most}");
    assert_eq!(err, Some(Error::Limit(LimitError::ChunkLine)));

    // Tiny chunks whose extensions outweigh their data (a chunk's data pays
    // for 16 + 2 x its size of extension bytes).
    let mut conn = Connection::new(Role::Server, config.clone());
    let line = b"1;ext=vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\nx\r\n";
    let (err, most) = drive(&mut conn, repeat(head, line), 1 << 20);
    assert!(most <= buffer_bound(&config), "held {most}");
    assert_eq!(err, Some(Error::Limit(LimitError::ChunkExtensions)));
}

#[test]
fn endless_trailers() {
    let config = small_config();
    let mut conn = Connection::new(Role::Server, config.clone());
    let head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n";
    let (err, most) = drive(&mut conn, repeat(head, b"X-T: v\r\n"), 1 << 20);
    assert!(most <= buffer_bound(&config), "held {most}");
    assert!(
        matches!(
            err,
            Some(Error::Limit(LimitError::TrailerSize | LimitError::HeaderCount))
        ),
        "{err:?}"
    );
}

#[test]
fn body_of_one_byte_chunks_runs_for_megabytes_in_bounded_memory() {
    let config = small_config();
    let mut conn = Connection::new(Role::Server, config.clone());
    let head = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (err, most) = drive(&mut conn, repeat(head, b"1\r\nx\r\n"), 4 << 20);
    assert_eq!(err, None);
    assert!(most <= buffer_bound(&config), "held {most}");
}

#[test]
fn endless_informational_responses_run_for_megabytes_in_bounded_memory() {
    let config = small_config();
    let mut conn = Connection::new(Role::Client, config.clone());
    let req = h1::http::Request::get("/")
        .header("host", "a")
        .body(())
        .expect("valid");
    conn.send_request(req).expect("request");
    conn.send_end().expect("end");
    let pieces = std::iter::repeat_with(|| {
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n".repeat(16)
    });
    let (err, most) = drive(&mut conn, pieces, 4 << 20);
    assert_eq!(err, None);
    assert!(most <= buffer_bound(&config), "held {most}");
}

#[test]
fn pipelined_requests_answered_as_they_come_stay_bounded() {
    let config = small_config();
    let mut conn = Connection::new(Role::Server, config.clone());
    let pieces = std::iter::repeat_with(|| b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(8));
    let (err, most) = drive(&mut conn, pieces, 2 << 20);
    assert_eq!(err, None);
    // A piece may hold several requests; what stays after a drain is at
    // most the unfinished head of the next one.
    assert!(most <= buffer_bound(&config), "held {most}");
}
