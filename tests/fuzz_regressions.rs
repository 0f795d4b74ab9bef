//! Every input that once made a fuzz target fail, run again through the very code the
//! target runs (`fuzz/src/lib.rs`, included below), so a regression fails `cargo test`.
//!
//! The inputs live in `fuzz/regressions/<target>/`, one file each, named after the bug.
//! To add one: copy the crash file from `fuzz/artifacts/<target>/` there under a name that
//! says what it broke, and fix the bug.

use std::path::{Path, PathBuf};

use wirelens::capture::file::FileSource;

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
fn every_regression_input_passes_its_target() {
    let mut ran = 0;
    for (path, bytes) in inputs("dissect") {
        eprintln!("{}", path.display());
        harness::dissect_frames(&bytes);
        ran += 1;
    }
    for (path, bytes) in inputs("capture_file") {
        eprintln!("{}", path.display());
        harness::read_capture(&bytes);
        ran += 1;
    }
    assert!(ran > 0, "no regression inputs were found");
}

/// The seeds pass the targets' checks: every real capture as a file, and its frames in
/// order as one `dissect` input (with default and with tiny tables).
#[test]
fn the_real_captures_pass_the_fuzz_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "too few captures in {}", dir.display());
    for path in files {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        harness::read_capture(&bytes);
        let mut source = FileSource::from_reader(
            path.display().to_string(),
            Box::new(std::io::Cursor::new(bytes)),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let mut frames = Vec::new();
        // Damaged captures end early with an error; their good frames still count.
        while let Ok(Some(frame)) = source.next_frame() {
            frames.push(frame.bytes.to_vec());
        }
        let frames: Vec<(i8, &[u8])> = frames.iter().map(|f| (1, f.as_slice())).collect();
        for options in [0, harness::OPT_SMALL_TABLES | harness::OPT_KEEP_SUMMARIES] {
            harness::dissect_frames(&harness::join_frames(options, &frames));
        }
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
