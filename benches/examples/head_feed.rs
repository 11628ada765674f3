//! Feeds one 16 KiB request head to a server connection, whole or one byte
//! at a time, until its request event. For instruction counts under
//! `valgrind --tool=callgrind` (deterministic, unlike timings):
//!
//! ```sh
//! cargo build --release -p h1-benches --example head_feed
//! valgrind --tool=callgrind target/release/examples/head_feed whole
//! valgrind --tool=callgrind target/release/examples/head_feed bytes
//! valgrind --tool=callgrind target/release/examples/head_feed none   # the baseline to subtract
//! ```

use h1::{Connection, Event};
use h1_benches::{big_head, big_head_config};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "whole".into());
    let kib: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let input = big_head(kib * 1024);
    let mut conn = Connection::new(h1::Role::Server, big_head_config());
    if mode == "none" {
        // The baseline: building the input and the connection only.
        assert!(input.len() > 1000 && conn.buffered_len() == 0);
        return;
    }
    let step = if mode == "bytes" { 1 } else { input.len() };
    let mut got = false;
    for piece in input.chunks(step) {
        conn.receive(piece).expect("input");
        if let Ok(Event::Request(head)) = conn.poll_event() {
            got = head.fields().len() > 300;
            break;
        }
    }
    assert!(got, "the head parsed with its fields");
}
