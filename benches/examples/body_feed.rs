//! Decodes a 1 MiB chunked body (chunks of N bytes, default 1024) through a
//! server connection, for instruction counts under callgrind:
//!
//! ```sh
//! cargo build --release -p h1-benches --example body_feed
//! valgrind --tool=callgrind target/release/examples/body_feed none 1024    # baseline
//! valgrind --tool=callgrind target/release/examples/body_feed chunked 1024
//! ```

use bytes::BytesMut;
use h1::{Connection, Event};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "chunked".into());
    let chunk: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let mut input = b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let mut body = 0;
    while body < 1 << 20 {
        input.extend_from_slice(format!("{chunk:x}\r\n").as_bytes());
        input.extend(std::iter::repeat_n(b'x', chunk));
        input.extend_from_slice(b"\r\n");
        body += chunk;
    }
    input.extend_from_slice(b"0\r\n\r\n");
    let mut conn = Connection::server();
    if mode == "none" {
        assert!(input.len() > body && conn.buffered_len() == 0);
        return;
    }
    conn.receive_buf(BytesMut::from(&input[..])).expect("input");
    let mut got = 0;
    loop {
        match conn.poll_event().expect("valid body") {
            Event::Data(d) => got += d.len(),
            Event::End => break,
            _ => {}
        }
    }
    assert_eq!(got, body);
}
