//! Shared by the tests that need root, network namespaces or other tools.
// Each test file uses only some of these helpers.
#![allow(dead_code)]

use std::io::Write;

use wirelens::lab::netns::can_create_namespaces;

/// Skips (returns false) with a printed reason when namespaces cannot be made here;
/// under CI=true that is a failure instead: there these tests must run.
pub fn may_run() -> bool {
    may("this test", can_create_namespaces())
}

/// True when `ready` is Ok. Otherwise the test named by the running thread skips: false,
/// with the reason printed; under CI=true that is a failure instead.
pub fn may(what: &str, ready: Result<(), String>) -> bool {
    let why = match ready {
        Ok(()) => return true,
        Err(why) => why,
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but {what} ({test}) cannot run: {why}");
    }
    // Straight to the standard error, not through eprintln!, which the test harness
    // captures and shows only for failing tests: a skip must be seen.
    let _ = writeln!(std::io::stderr(), "skipping {what} ({test}): {why}");
    false
}
