//! wirelens: a packet dissector that explains every header field.
//!
//! The crate is one pipeline — source → dissect → analyse → render:
//!
//! * [`capture`] turns a saved capture or a live interface into [`capture::Frame`]s;
//! * [`dissect`] turns a frame's bytes into a [`dissect::Dissection`]: one struct per layer
//!   plus notes saying where and why parsing stopped;
//! * [`render`] formats a dissection as a summary line, annotated tables or JSON, or as
//!   a row of Parquet columns;
//! * [`export`] writes captures as Parquet tables of packets and conversations for
//!   DuckDB, Spark or ClickHouse;
//! * [`send`] crafts packets with the same protocol code, sends them on a raw socket and
//!   watches the answers through the same pipeline.
//!
//! The protocol code in [`proto`] knows nothing about files, terminals or the command line.
//!
//! ```
//! use wirelens::capture::{Frame, LinkType, Timestamp};
//! use wirelens::dissect::dissect;
//!
//! // An ARP request, as it appears on the wire.
//! let bytes = [
//!     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x77, 0, 0, 0, 1, 0x08, 0x06, // Ethernet
//!     0, 1, 0x08, 0x00, 6, 4, 0, 1, // ARP: Ethernet/IPv4, request
//!     0x02, 0x77, 0, 0, 0, 1, 10, 77, 0, 1, // sender MAC and IP
//!     0, 0, 0, 0, 0, 0, 10, 77, 0, 2, // target MAC (unknown) and IP
//! ];
//! let frame = Frame {
//!     ts: Timestamp::default(),
//!     caplen: bytes.len() as u32,
//!     len: bytes.len() as u32,
//!     link: LinkType::ETHERNET,
//!     interface: None,
//!     bytes: &bytes,
//! };
//! let d = dissect(1, &frame);
//! let arp = d.arp.as_ref().expect("an ARP packet");
//! assert_eq!(arp.explain(), "Who has 10.77.0.2? Tell 10.77.0.1");
//! assert!(d.eth.as_ref().is_some_and(|e| e.dst.is_broadcast()));
//! ```
#![deny(missing_docs)]

pub mod analysis;
pub mod capture;
pub mod context;
pub mod dissect;
pub mod export;
pub mod filter;
pub mod lab;
pub mod live;
pub mod lookup;
pub mod pipeline;
pub mod privilege;
pub mod progress;
pub mod proto;
pub mod render;
pub mod send;
pub mod text;
pub mod timestamp;
pub mod tui;

/// What the unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    /// A xorshift generator started from `seed` (not zero): each call gives a number
    /// below its argument. Seeded, so a failing randomised test fails the same way again.
    pub(crate) fn rng(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        }
    }

    /// `bytes` as a whole Ethernet frame, captured at time zero.
    pub(crate) fn ethernet_frame(bytes: &[u8]) -> crate::capture::Frame<'_> {
        crate::capture::Frame {
            ts: crate::capture::Timestamp::default(),
            caplen: bytes.len() as u32,
            len: bytes.len() as u32,
            link: crate::capture::LinkType::ETHERNET,
            interface: None,
            bytes,
        }
    }

    /// The dissection of `bytes`, a whole Ethernet frame, as the first of a capture.
    pub(crate) fn dissect_ethernet(bytes: &[u8]) -> crate::dissect::Dissection {
        crate::dissect::dissect(1, &ethernet_frame(bytes))
    }
}
