//! Fuzz target: arbitrary bytes as a capture file through the whole `read` pipeline (see
//! `wirelens_fuzz::read_capture`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wirelens_fuzz::read_capture(data));
