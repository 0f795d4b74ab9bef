//! Shared by the tests that need root and network namespaces.

use wirelens::lab::netns::can_create_namespaces;

/// Skips (returns false) with a printed reason when namespaces cannot be made here;
/// under CI=true that is a failure instead: there these tests must run.
pub fn may_run() -> bool {
    match can_create_namespaces() {
        Ok(()) => true,
        Err(why) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but this test cannot run: {why}")
        }
        Err(why) => {
            eprintln!("skipping: {why}");
            false
        }
    }
}
