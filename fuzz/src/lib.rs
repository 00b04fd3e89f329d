//! The fuzz targets' logic, kept in a library so that the seed corpus can
//! be replayed by `cargo test` (without libFuzzer) and the seed generator
//! can share the input formats.
//!
//! Each target module documents its input format and the invariants it
//! asserts. The binaries in `fuzz_targets/` only call `run`.

pub mod check;
pub mod connection;
pub mod deflate;
pub mod frame_header;
pub mod handshake;
pub mod model;
pub mod roundtrip;
pub mod setup;
pub mod utf8;
