//! Body decoding: a 1 MiB body, chunked in 16 KiB chunks, in 1 KiB chunks,
//! and with a Content-Length, through the core, beside a plain copy of the
//! same bytes. Target: chunked decode ≥ 0.8× the copy's throughput.
//!
//! In each `body/<case>` group (throughput: the whole message's bytes):
//!
//! - `copy`: the message copied into a reused, pre-sized `Vec` (memcpy).
//! - `h1`: the whole message handed to a keep-alive server connection in
//!   one buffer (no copy), then every event polled: the request head,
//!   `Data` slices of the buffer, `End`.
//! - `h1_16k_reads`: the same message arriving as 16 KiB reads, each handed
//!   in with `receive_buf` and polled until `NeedData`, as the tokio driver
//!   does: the bytes a read leaves undecoded are joined with the next read.
//!
//! Connections and input buffers are made outside the timing.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput};
use h1::{Connection, Event};
use h1_benches::{body_bytes, chunked_post, length_post, read_buffer, warm_server};

const BODY: usize = 1024 * 1024;

/// Polls until `NeedData` or `End`, adding the body bytes seen to `got`.
fn drain(conn: &mut Connection, got: &mut usize) -> bool {
    loop {
        match conn.poll_event().expect("the input parses") {
            Event::Request(req) => drop(black_box(req)),
            Event::Data(data) => *got += black_box(data).len(),
            Event::End => return true,
            Event::NeedData => return false,
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn body(c: &mut Criterion) {
    let payload = body_bytes(BODY);
    let cases = [
        ("chunked_16k", chunked_post(&payload, 16 * 1024)),
        ("chunked_1k", chunked_post(&payload, 1024)),
        ("content_length", length_post(&payload)),
    ];
    for (name, input) in cases {
        let mut group = c.benchmark_group(format!("body/{name}"));
        group.throughput(Throughput::Bytes(input.len() as u64));
        let mut dst = Vec::with_capacity(input.len());
        group.bench_function("copy", |b| {
            b.iter(|| {
                dst.clear();
                dst.extend_from_slice(black_box(&input));
                dst.len()
            })
        });
        group.bench_function("h1", |b| {
            b.iter_batched(
                || (warm_server(h1::Config::default()), read_buffer(&input)),
                |(mut conn, buf)| {
                    conn.receive_buf(buf).expect("input");
                    let mut got = 0;
                    assert!(drain(&mut conn, &mut got));
                    assert_eq!(got, BODY);
                    conn
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("h1_16k_reads", |b| {
            b.iter_batched(
                || {
                    let reads: Vec<BytesMut> = input.chunks(16 * 1024).map(read_buffer).collect();
                    (warm_server(h1::Config::default()), reads)
                },
                |(mut conn, reads)| {
                    let mut got = 0;
                    let mut ended = false;
                    for read in reads {
                        conn.receive_buf(read).expect("input");
                        ended = drain(&mut conn, &mut got);
                    }
                    assert!(ended);
                    assert_eq!(got, BODY);
                    conn
                },
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

// criterion_group! makes an undocumented `pub fn`: keep it in a private module.
mod group {
    criterion::criterion_group!(benches, super::body);
}
/// `cargo bench` passes `--bench`; `cargo test` (which builds this target
/// so that it cannot rot) runs it without: then nothing runs.
fn main() {
    if std::env::args().any(|a| a == "--bench") {
        group::benches();
        criterion::Criterion::default()
            .configure_from_args()
            .final_summary();
    }
}
