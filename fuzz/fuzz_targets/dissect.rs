//! Fuzz target: arbitrary bytes cut into a few Ethernet frames, dissected, analysed and
//! rendered in every format (see `wirelens_fuzz::dissect_frames`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wirelens_fuzz::dissect_frames(data));
