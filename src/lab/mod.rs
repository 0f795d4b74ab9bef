//! Test networks: two network namespaces joined by a veth pair, created with iproute2
//! and removed when the guard is dropped — also when a test fails or panics.
//! Everything sent in them stays in them: the host's interfaces are never touched.

pub mod netns;
pub mod roles;
pub mod run;
