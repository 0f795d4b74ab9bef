//! Every input that once made a fuzz target fail, run again through the very code the
//! target runs (`fuzz/src/lib.rs`, included below), so a regression fails `cargo test`.
//!
//! The inputs live in `fuzz/regressions/<target>/`, one file each, named after the bug.
//! To add one: copy the crash file from `fuzz/artifacts/<target>/` there under a name that
//! says what it broke, and fix the bug.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

/// The regression inputs of one fuzz target, sorted by name.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut v: Vec<(PathBuf, Vec<u8>)> = entries
        .map(|e| {
            let path = e
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .filter(|(p, _)| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    v.sort();
    v
}

#[test]
fn dissect_target_regressions() {
    for (path, bytes) in inputs("dissect") {
        eprintln!("{}", path.display());
        harness::dissect_frames(&bytes);
    }
}

#[test]
fn capture_file_target_regressions() {
    for (path, bytes) in inputs("capture_file") {
        eprintln!("{}", path.display());
        harness::read_capture(&bytes);
    }
}

/// The seed layout the script writes is the one the target reads.
#[test]
fn frames_split_as_they_were_joined() {
    let a = [0xffu8; 14];
    let b = [1u8, 2, 3];
    let data = harness::join_frames(harness::OPT_SMALL_TABLES, &[(5, &a[..]), (-3, &b[..])]);
    let (options, frames) = harness::split_frames(&data);
    assert_eq!(options, harness::OPT_SMALL_TABLES);
    assert_eq!(frames.len(), 2);
    assert_eq!((frames[0].bytes, frames[0].len), (&a[..], 14));
    assert_eq!((frames[1].bytes, frames[1].len), (&b[..], 3));
    assert_eq!(frames[1].ts.secs - frames[0].ts.secs, -3);
    // A last frame claiming more than is left gets what is left; the frame count is capped.
    let (_, cut) = harness::split_frames(&data[..data.len() - 1]);
    assert_eq!(cut[1].bytes, &b[..2]);
    let many = vec![0u8; 1 + harness::FRAME_HEADER_LEN * (harness::MAX_FRAMES + 10)];
    assert_eq!(harness::split_frames(&many).1.len(), harness::MAX_FRAMES);
}
