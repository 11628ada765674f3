//! Parses the browser-like GET 1,000 times, through the h1 core, through
//! bare httparse, or the way hyper builds the head, for instruction counts
//! under callgrind:
//!
//! - `h1-head`: the core up to its request event (the `RequestHead`, a
//!   view of the received bytes), on a fresh connection each time;
//! - `h1`: on one warm keep-alive connection, the request event, then the
//!   `http::Request<()>` built by the connection (`Connection::http_request`,
//!   as the drivers do), and the empty `204` answer (an `http::Response`);
//! - `h1-wire`: the same connection, answered without building any `http`
//!   type (the fields read from the `RequestHead`, the `204` a
//!   `ResponseHead`);
//! - `httparse`, `hyper`: the floor and the head built the hyper way;
//!   `none`: the baseline to subtract.
//!
//! ```sh
//! cargo build --release -p h1-benches --example head_parse
//! for m in none httparse hyper h1-head h1 h1-wire; do
//!     valgrind --tool=callgrind target/release/examples/head_parse $m
//! done
//! ```

use h1::Event;
use h1_benches::{answer_204, answer_204_wire, hyper_way, read_buffer, warm_server_after, BROWSER_GET};

const ROUNDS: usize = 1000;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "h1".into());
    let mut conn = warm_server_after(h1::Config::default(), BROWSER_GET);
    let mut fields = 0;
    for _ in 0..ROUNDS {
        let buf = read_buffer(BROWSER_GET);
        fields += match mode.as_str() {
            "httparse" => {
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut req = httparse::Request::new(&mut headers);
                assert!(req.parse(&buf).expect("valid").is_complete());
                req.headers.len()
            }
            "hyper" => {
                let mut buf = buf;
                hyper_way::request(&mut buf).expect("valid").headers().len()
            }
            "h1" => {
                conn.receive_buf(buf).expect("input");
                let n = match conn.poll_event().expect("valid") {
                    Event::Request(head) => conn.http_request(head).expect("converts").headers().len(),
                    other => panic!("{other:?}"),
                };
                while !matches!(conn.poll_event().expect("valid"), Event::Paused) {}
                answer_204(&mut conn);
                n
            }
            "h1-wire" => {
                conn.receive_buf(buf).expect("input");
                let n = match conn.poll_event().expect("valid") {
                    Event::Request(head) => head.fields().len(),
                    other => panic!("{other:?}"),
                };
                while !matches!(conn.poll_event().expect("valid"), Event::Paused) {}
                answer_204_wire(&mut conn);
                n
            }
            // Up to the request event only: a fresh connection each time
            // (creating one allocates nothing), so no answer is timed.
            "h1-head" => {
                let mut fresh = h1::Connection::server();
                fresh.receive_buf(buf).expect("input");
                match fresh.poll_event().expect("valid") {
                    Event::Request(head) => head.fields().len(),
                    other => panic!("{other:?}"),
                }
            }
            _ => 12,
        };
    }
    assert_eq!(fields, 12 * ROUNDS, "every head has its 12 fields");
}
