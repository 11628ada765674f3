//! Arbitrary bytes, cut at arbitrary points, fed to a client connection
//! with small limits that has sent 1 to 4 pipelined requests (GET, HEAD,
//! CONNECT, upgrade GET). Checks no panic, the buffer bound at every
//! `NeedData`, sticky peer-blamed errors with a 4xx/5xx status, and the
//! same events as feeding the bytes whole.
#![no_main]

use arbitrary::Arbitrary;
use h1_fuzz::{client_with, cut_points, small_config, split_invariant, ClientRequest};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    lenient: bool,
    eof: bool,
    bytewise: bool,
    /// 1 to 4 requests, each byte picking a kind.
    requests: u8,
    kinds: [u8; 4],
    cuts: Vec<u16>,
    /// The rest of the fuzzer's bytes, as they are.
    data: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let n = 1 + usize::from(input.requests % 4);
    let requests: Vec<ClientRequest> = input.kinds[..n]
        .iter()
        .map(|&b| ClientRequest::from_byte(b))
        .collect();
    let make = || client_with(small_config(input.lenient), &requests);
    let cuts = cut_points(&input.cuts, input.data.len());
    let bytewise = input.bytewise && input.data.len() <= 1024;
    split_invariant(&make, input.data, &cuts, bytewise, input.eof);
});
