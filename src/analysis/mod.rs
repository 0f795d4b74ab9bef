//! Analysis: what a packet means in context. The stage between dissect and render adds
//! connection stages (and, later, reassembly and ARP pairing) to each dissection.

pub mod tcp;

use crate::dissect::Dissection;
use tcp::{TcpTracker, TrackerConfig};

/// Every analysis that runs over a capture, in one place for the pipeline.
#[derive(Debug, Default)]
pub struct Analyzer {
    /// TCP connection tracking.
    pub tcp: TcpTracker,
}

impl Analyzer {
    /// An analyzer with the given TCP tracker limits.
    pub fn new(tcp: TrackerConfig) -> Analyzer {
        Analyzer {
            tcp: TcpTracker::new(tcp),
        }
    }

    /// Adds what context tells about `d`: its TCP stage and relative numbers.
    pub fn analyse(&mut self, d: &mut Dissection) {
        if let (Some(ip), Some(tcp)) = (&d.ipv4, &mut d.tcp) {
            let (conv, note) = self.tcp.track(d.ts, ip.src, ip.dst, tcp, d.len);
            tcp.conv = Some(conv);
            if let Some(n) = note {
                d.notes.push(n);
            }
        }
    }
}
