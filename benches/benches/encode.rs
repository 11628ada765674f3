//! Encoding a response: a head (`content-type`, `content-length`, `date`)
//! plus a 1 KiB body, through a server connection that has just received
//! a GET, until the output is taken. Beside it, `copy`: the same output
//! bytes copied into a reused `Vec` (the floor for producing them).
//!
//! Building the `http::Response<()>` is outside the timing (`iter_batched`
//! setup), like the connection; encoding, queueing the body (a `Bytes`
//! clone, not a copy), `send_end` and taking the output with
//! `poll_output` are timed. Throughput: the bytes on the wire.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput};
use h1::http::{header, HeaderValue, Response};
use h1::{Connection, Event};
use h1_benches::{body_bytes, read_buffer, warm_server, SMALL_GET};

fn ready_to_answer() -> Connection {
    let mut conn = warm_server(h1::Config::default());
    conn.receive_buf(read_buffer(SMALL_GET)).expect("input");
    assert!(matches!(conn.poll_event(), Ok(Event::Request(_))));
    assert!(matches!(conn.poll_event(), Ok(Event::End)));
    conn
}

fn response(len: usize) -> Response<()> {
    let mut res = Response::new(());
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::DATE,
        HeaderValue::from_static("Tue, 15 Apr 2025 10:00:00 GMT"),
    );
    res
}

fn encode(conn: &mut Connection, res: Response<()>, body: &Bytes, out: &mut Vec<Bytes>) -> usize {
    conn.send_response(res).expect("head");
    conn.send_data(body.clone()).expect("body");
    conn.send_end().expect("end");
    let mut n = 0;
    while let Some(piece) = conn.poll_output() {
        n += piece.len();
        out.push(piece);
    }
    n
}

fn bench(c: &mut Criterion) {
    let body = Bytes::from(body_bytes(1024));
    let mut wire = Vec::new();
    let wire_len = encode(&mut ready_to_answer(), response(body.len()), &body, &mut wire);
    let flat: Vec<u8> = wire.iter().flat_map(|b| b.iter().copied()).collect();

    let mut group = c.benchmark_group("encode/response_1k");
    group.throughput(Throughput::Bytes(wire_len as u64));
    let mut dst = Vec::with_capacity(flat.len());
    group.bench_function("copy", |b| {
        b.iter(|| {
            dst.clear();
            dst.extend_from_slice(black_box(&flat));
            dst.len()
        })
    });
    group.bench_function("h1", |b| {
        b.iter_batched(
            || (ready_to_answer(), response(body.len()), Vec::with_capacity(4)),
            |(mut conn, res, mut out)| {
                assert_eq!(encode(&mut conn, res, &body, &mut out), wire_len);
                (conn, out)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

// criterion_group! makes an undocumented `pub fn`: keep it in a private module.
mod group {
    criterion::criterion_group!(benches, super::bench);
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
