//! Benchmarks for h1 against httparse and hyper. The criterion benches and
//! the loopback comparison live under `benches/`; this library holds what
//! they share.
