//! `wirelens flows` reads and dissects on a second thread when it has more than one CPU
//! (`pipeline::each_flows_packet`). These tests hold the two-thread path to the one-thread
//! path's results, whatever the timing: the same output on every bundled capture, and the
//! reading error of a damaged capture reported every time, never lost when the reading
//! thread finishes before the analysing one.
//!
//! The one-thread path is chosen by pinning the process to one CPU with `taskset`
//! (`available_parallelism` follows the affinity mask); without `taskset`, or on a
//! one-CPU machine, the comparison is skipped with a reason, except under `CI=true`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn flows(args: &[&str], one_cpu: bool) -> Output {
    let bin = env!("CARGO_BIN_EXE_wirelens");
    let mut cmd = if one_cpu {
        let mut c = Command::new("taskset");
        c.args(["-c", "0", bin]);
        c
    } else {
        Command::new(bin)
    };
    cmd.arg("flows")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run wirelens: {e}"))
}

/// Whether both paths can be run here; says why not otherwise.
fn both_paths_run() -> bool {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let taskset = Command::new("taskset")
        .args(["-c", "0", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if cpus >= 2 && taskset {
        return true;
    }
    let why = format!("needs 2 CPUs (has {cpus}) and taskset (works: {taskset})");
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true, but the comparison cannot run: {why}"
    );
    eprintln!("skipping the one-thread/two-thread comparison: {why}");
    false
}

#[test]
fn two_threads_give_the_one_thread_output_on_every_capture() {
    if !both_paths_run() {
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(root().join("captures"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut compared = 0;
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
    {
        let path = f.to_string_lossy();
        for extra in [
            &[][..],
            &["--format", "json"],
            &["--arp"],
            &["--ladder", "0"],
        ] {
            let args: Vec<&str> = [&[path.as_ref()][..], extra].concat();
            let (two, one) = (flows(&args, false), flows(&args, true));
            assert_eq!(two.status.code(), one.status.code(), "{args:?}");
            assert_eq!(two.stdout, one.stdout, "{args:?}");
            assert_eq!(two.stderr, one.stderr, "{args:?}");
            compared += 1;
        }
    }
    assert!(compared >= 40, "only {compared} runs compared");
}

/// The bug this pins: the analysing side stopped, with success and no output, when it
/// could not hand a used batch back to a reading thread that had already ended after a
/// reading error.
#[test]
fn a_reading_error_is_reported_every_time() {
    let whole = std::fs::read(root().join("captures/tcp-echo.pcap")).unwrap_or_default();
    assert!(whole.len() > 100, "the bundled capture is missing");
    let dir = std::env::temp_dir().join(format!("wirelens-flows-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 5]).unwrap_or_else(|e| panic!("{e}"));
    let path = cut.to_string_lossy().into_owned();
    for _ in 0..30 {
        let out = flows(&[&path], false);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("is truncated"), "{err}");
        assert!(out.stdout.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
