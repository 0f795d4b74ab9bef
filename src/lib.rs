//! wirelens: a packet dissector that explains every header field.
//!
//! The crate is one pipeline — source → dissect → analyse → render:
//!
//! * [`capture`] turns a saved capture (or, later, a live interface) into [`capture::Frame`]s;
//! * [`dissect`] turns a frame's bytes into a [`dissect::Dissection`]: one struct per layer
//!   plus notes saying where and why parsing stopped;
//! * [`render`] formats a dissection as a summary line, annotated tables or JSON.
//!
//! The protocol code in [`proto`] knows nothing about files, terminals or the command line.
#![warn(missing_docs)]

pub mod analysis;
pub mod capture;
pub mod dissect;
pub mod lab;
pub mod lookup;
pub mod pipeline;
pub mod privilege;
pub mod proto;
pub mod render;
pub mod text;
