//! Head parsing: the h1 core beside bare httparse and beside the head
//! built the way hyper builds it, on the same bytes; and a 16 KiB head fed
//! whole and one byte at a time.
//!
//! In each `head/<case>` group:
//!
//! - `httparse`: `Request::parse` / `Response::parse` into a stack array
//!   of slots; the floor (no `http` types, nothing owned).
//! - `hyper_way`: httparse, then `Method`, `Uri` and `HeaderMap` with values
//!   sliced from the shared `Bytes` ([`h1_benches::hyper_way`]); building
//!   the head *and dropping it* are timed.
//! - `h1_head_event` (a): the core up to its head event (the
//!   [`RequestHead`](h1::RequestHead) / [`ResponseHead`](h1::ResponseHead),
//!   a view of the received bytes), on one warm keep-alive connection that
//!   serves the same client's heads over and over (per-connection
//!   allocations made), given the received buffer without a copy. The
//!   event is dropped after the clock stops, as httparse's output needs no
//!   dropping: compare with `httparse` (target ≤ 2.0×).
//! - `h1_request` (b): the same, plus building the `http::Request<()>` /
//!   `Response<()>` from the head with `Connection::http_request` /
//!   `http_response`, as the drivers do, and dropping it inside the
//!   timing, which is the whole life of an owned head as `hyper_way` times
//!   it. The connection is warm as a driver's is on a keep-alive
//!   connection (from its second head on, it reuses the previous head's
//!   field names where they recur): compare with `hyper_way` (target
//!   ≤ 1.0×).
//! - `h1_request_cold` (single heads): (b) on a connection made for each
//!   head outside the timing, so cold in cache (and, for the browser-like
//!   GET, after small GETs: its field names are new to the connection).
//!
//! Every line times each iteration on its own, inputs made before the
//! clock starts and outputs dropped after it stops (the clock's own cost,
//! calibrated, is subtracted), so that all are timed alike. (a) and (b)
//! finish the message after the clock stops
//! (a request's `End` and an empty `204`; a response's body and the next
//! GET), so that the connection is ready for the next head.
//!
//! In `pipelined_100`, the core only parses the next request once the
//! current one is answered (it pauses), so both h1 lines include, per
//! request, its `End` event and an empty `204` answer whose output is
//! dropped; the others only parse.
//!
//! Setup (building connections and input buffers) is outside the timing.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput};
use h1::{Connection, Event};
use h1_benches::{
    answer_204, big_head, big_head_config, head_cases, hyper_way, next_get, read_buffer, response_with_body,
    warm_client_after, warm_server, warm_server_after, RESPONSE_BODY, SMALL_GET,
};

fn httparse_all(bytes: &[u8], response: bool) -> usize {
    let mut at = 0;
    let mut n = 0;
    while at < bytes.len() {
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let status = if response {
            httparse::Response::new(&mut slots).parse(&bytes[at..])
        } else {
            httparse::Request::new(&mut slots).parse(&bytes[at..])
        };
        match status {
            Ok(httparse::Status::Complete(len)) => at += len,
            _ => panic!("the input parses"),
        }
        n += 1;
    }
    n
}

fn hyper_way_all(buf: &mut BytesMut, response: bool) -> usize {
    let mut n = 0;
    while !buf.is_empty() {
        if response {
            drop(black_box(hyper_way::response(buf).expect("the input parses")));
        } else {
            drop(black_box(hyper_way::request(buf).expect("the input parses")));
        }
        n += 1;
    }
    n
}

/// What [`h1_all`] does with each head.
enum Heads<'a> {
    /// Keeps the head events, to be dropped after the clock stops.
    Keep(&'a mut Vec<Event>),
    /// Builds the `http` head, as a driver does, and drops it.
    Build,
}

/// Up to each head event; pipelined requests are answered in between.
fn h1_all(conn: &mut Connection, input: BytesMut, mut heads: Heads<'_>) -> usize {
    conn.receive_buf(input).expect("input");
    let mut n = 0;
    loop {
        match conn.poll_event().expect("the input parses") {
            ev if ev.is_head() => {
                n += 1;
                match &mut heads {
                    Heads::Keep(keep) => keep.push(ev),
                    Heads::Build => build(ev, conn),
                }
            }
            Event::End => answer_204(conn),
            Event::NeedData => return n,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Builds the `http::Request<()>` / `Response<()>` of a head event, as a
/// driver does, and drops it.
fn build(ev: Event, conn: &mut Connection) {
    match ev {
        Event::Request(head) => drop(black_box(conn.http_request(head).expect("converts"))),
        Event::Response(head) => drop(black_box(conn.http_response(head).expect("converts"))),
        other => panic!("unexpected {other:?}"),
    }
}

/// The cost of reading the clock once around nothing, calibrated once.
fn clock_cost() -> Duration {
    static COST: OnceLock<Duration> = OnceLock::new();
    *COST.get_or_init(|| {
        const N: u32 = 200_000;
        let mut total = Duration::ZERO;
        for _ in 0..N {
            let start = Instant::now();
            total += black_box(start).elapsed();
        }
        total / N
    })
}

/// Times `work` on its own for each of `iters` inputs from `setup` (made
/// before the clock starts), and drops its output after the clock stops.
/// The clock's own cost, calibrated, is subtracted.
fn each_timed<S, O>(iters: u64, mut setup: impl FnMut() -> S, mut work: impl FnMut(S) -> O) -> Duration {
    each_timed_on(iters, &mut (), |()| setup(), |(), input| work(input), |()| {})
}

/// [`each_timed`] with `state` lent to each step, and `after` run on it
/// once the output is dropped, outside the timing.
fn each_timed_on<T, S, O>(
    iters: u64,
    state: &mut T,
    mut setup: impl FnMut(&mut T) -> S,
    mut work: impl FnMut(&mut T, S) -> O,
    mut after: impl FnMut(&mut T),
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let input = setup(state);
        let start = Instant::now();
        let out = work(state, input);
        total += start.elapsed();
        drop(black_box(out));
        after(state);
    }
    total.saturating_sub(clock_cost() * u32::try_from(iters).unwrap_or(u32::MAX))
}

/// A keep-alive connection, warm.
type Warm = Connection;

/// Times `work` on `warm` for each of `iters` copies of `bytes` (as
/// [`each_timed`] does), then finishes the message outside the timing so
/// that the connection is ready for the next head: polls a request's `End`
/// and answers it with an empty `204`, or (a client) reads the response's
/// body and sends the next GET.
fn steady<O>(
    iters: u64,
    warm: &mut Warm,
    bytes: &[u8],
    response: bool,
    count: usize,
    work: impl FnMut(&mut Warm, BytesMut) -> O,
) -> Duration {
    let finish = |conn: &mut Warm| {
        if response {
            conn.receive(&vec![b'x'; RESPONSE_BODY]).expect("body");
            while !matches!(conn.poll_event().expect("the body parses"), Event::End) {}
            next_get(conn);
        } else if count == 1 {
            while !matches!(conn.poll_event().expect("the request ends"), Event::End) {}
            answer_204(conn);
        }
        assert!(matches!(conn.poll_event(), Ok(Event::NeedData)));
    };
    each_timed_on(iters, warm, |_| read_buffer(bytes), work, finish)
}

fn head(c: &mut Criterion) {
    for (name, bytes, response) in head_cases() {
        let count = httparse_all(&bytes, response);
        let mut group = c.benchmark_group(format!("head/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let conn = || {
            if response {
                warm_client_after(&response_with_body())
            } else {
                // The same client's previous request: a pipelined batch
                // of small GETs follows a small GET.
                let previous = if count == 1 { &bytes[..] } else { SMALL_GET };
                warm_server_after(h1::Config::default(), previous)
            }
        };
        // Every line of the group is timed the same way: each iteration on
        // its own (see `each_timed`).
        group.bench_function("httparse", |b| {
            b.iter_custom(|iters| each_timed(iters, || (), |()| httparse_all(black_box(&bytes), response)))
        });
        group.bench_function("hyper_way", |b| {
            b.iter_custom(|iters| {
                each_timed(
                    iters,
                    || read_buffer(&bytes),
                    |mut buf| {
                        assert_eq!(hyper_way_all(&mut buf, response), count);
                        buf
                    },
                )
            })
        });
        // (a) and (b): one warm connection, as a keep-alive connection
        // serving the same client is. Each iteration is timed on its own;
        // what follows the head (the request's `End` and an empty answer,
        // or for a response its body) is done after the clock stops.
        let mut warm = conn();
        group.bench_function("h1_head_event", |b| {
            b.iter_custom(|iters| {
                steady(iters, &mut warm, &bytes, response, count, |conn, input| {
                    // A single head is kept without an allocation in the
                    // timing (httparse's output needs none either).
                    if count == 1 {
                        conn.receive_buf(input).expect("input");
                        let ev = conn.poll_event().expect("the input parses");
                        assert!(ev.is_head());
                        (Some(ev), Vec::new())
                    } else {
                        let mut keep = Vec::with_capacity(count);
                        assert_eq!(h1_all(conn, input, Heads::Keep(&mut keep)), count);
                        (None, keep)
                    }
                })
            })
        });
        group.bench_function("h1_request", |b| {
            b.iter_custom(|iters| {
                steady(iters, &mut warm, &bytes, response, count, |conn, input| {
                    if count == 1 {
                        conn.receive_buf(input).expect("input");
                        let ev = conn.poll_event().expect("the input parses");
                        build(ev, conn);
                    } else {
                        assert_eq!(h1_all(conn, input, Heads::Build), count);
                    }
                })
            })
        });
        // (b) on a connection made for each head (outside the timing), so
        // cold in cache: the first request of a connection, or one that
        // comes after others have pushed it out of cache.
        if count == 1 {
            group.bench_function("h1_request_cold", |b| {
                b.iter_batched(
                    || (conn(), read_buffer(&bytes)),
                    |(mut conn, input)| {
                        conn.receive_buf(input).expect("input");
                        let ev = conn.poll_event().expect("the input parses");
                        build(ev, &mut conn);
                        conn
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        group.finish();
    }
}

/// A 16 KiB head (about 500 fields) fed whole, and one byte at a time with
/// a `poll_event` after each byte (the worst case of a slow peer), up to
/// its head event, which is dropped inside the timing in both.
/// Target: `bytewise` ≤ 3× `whole`.
fn head_feed(c: &mut Criterion) {
    let input = big_head(16 * 1024);
    let mut group = c.benchmark_group("head_feed/16k");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("whole", |b| {
        b.iter_batched(
            || (warm_server(big_head_config()), read_buffer(&input)),
            |(mut conn, buf)| {
                conn.receive_buf(buf).expect("input");
                let ev = conn.poll_event().expect("the input parses");
                assert!(ev.is_head());
                drop(black_box(ev));
                conn
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("bytewise", |b| {
        b.iter_batched(
            || warm_server(big_head_config()),
            |mut conn| {
                for byte in &input {
                    conn.receive(std::slice::from_ref(byte)).expect("input");
                    let ev = conn.poll_event().expect("the input parses");
                    if ev.is_head() {
                        drop(black_box(ev));
                        return conn;
                    }
                }
                panic!("no head event")
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

// criterion_group! makes an undocumented `pub fn`: keep it in a private module.
mod group {
    criterion::criterion_group!(benches, super::head, super::head_feed);
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
