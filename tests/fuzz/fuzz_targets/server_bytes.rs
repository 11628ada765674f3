//! Arbitrary bytes, cut at arbitrary points, fed to a server connection
//! with small limits. Each request is answered at its end (`200`, `101`
//! to an upgrade request, `200` switching for CONNECT). Checks no panic,
//! the buffer bound at every `NeedData`, sticky peer-blamed errors with a
//! 4xx/5xx status, and the same events as feeding the bytes whole.
#![no_main]

use arbitrary::Arbitrary;
use h1::{Connection, Role};
use h1_fuzz::{cut_points, small_config, split_invariant};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    lenient: bool,
    eof: bool,
    bytewise: bool,
    cuts: Vec<u16>,
    /// The rest of the fuzzer's bytes, as they are.
    data: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let make = || Connection::new(Role::Server, small_config(input.lenient));
    let cuts = cut_points(&input.cuts, input.data.len());
    let bytewise = input.bytewise && input.data.len() <= 1024;
    split_invariant(&make, input.data, &cuts, bytewise, input.eof);
});
