//! ARP analysis: which reply answers which request (and how long it took), and a table
//! of IP → MAC bindings that warns when one IP address is claimed by two MAC addresses —
//! an address conflict, or ARP spoofing.
//!
//! Both maps are bounded: at most [`MAX_PENDING`] unanswered requests (dropped after
//! [`REQUEST_TIMEOUT`] seconds of capture time) and [`MAX_BINDINGS`] bindings (the least
//! recently seen are forgotten first).

use std::collections::HashMap;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::flowtable::FlowHashBuilder;
use super::pairing::Pending;
use crate::capture::Timestamp;
use crate::context::Answer;
use crate::proto::MacAddr;
use crate::proto::arp::{Arp, ArpKind};

/// Most unanswered requests remembered.
pub const MAX_PENDING: usize = 4096;
/// Seconds of capture time after which an unanswered request is forgotten.
pub const REQUEST_TIMEOUT: f64 = 10.0;
/// Most IP → MAC bindings remembered.
pub const MAX_BINDINGS: usize = 65_536;
/// Most different MACs remembered for one IP address.
const MAX_CLAIMS: usize = 8;

/// One IP address as ARP saw it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Binding {
    /// Always "arp".
    pub proto: &'static str,
    /// The IPv4 address.
    pub ip: Ipv4Addr,
    /// The MAC it was last claimed by.
    pub mac: MacAddr,
    /// Every MAC that claimed it, first first (more than one is a conflict).
    pub macs: Vec<MacAddr>,
    /// Capture time it was first seen.
    #[serde(serialize_with = "crate::timestamp::ser_rfc3339")]
    pub first_seen: Timestamp,
    /// Capture time it was last seen.
    #[serde(serialize_with = "crate::timestamp::ser_rfc3339")]
    pub last_seen: Timestamp,
    /// ARP packets that announced it (as sender).
    pub packets: u64,
    /// Frame that first showed it.
    #[serde(skip)]
    pub first_frame: u64,
}

/// Pairs requests with replies and keeps the ARP table.
#[derive(Debug, Default)]
pub struct ArpTracker {
    /// (asker's IP, asked-for IP) → (frame, time) of the request.
    pending: Pending<(Ipv4Addr, Ipv4Addr)>,
    bindings: HashMap<Ipv4Addr, Binding, FlowHashBuilder>,
}

impl ArpTracker {
    /// Follows one ARP packet (frame `n`): returns, for a reply, the request it answers
    /// and how long the answer took, and a note when an address is claimed by a second
    /// MAC.
    pub fn track(&mut self, n: u64, ts: Timestamp, arp: &Arp) -> (Option<Answer>, Option<String>) {
        let (Some(spa), Some(tpa)) = (arp.spa, arp.tpa) else {
            return (None, None);
        };
        let pair = match arp.kind {
            ArpKind::Request | ArpKind::Probe => {
                self.pending.ask((spa, tpa), n, ts);
                None
            }
            ArpKind::Reply => self.pending.answer(&(tpa, spa), ts),
            _ => None,
        };
        let note = match arp.sha {
            Some(mac) if !spa.is_unspecified() => self.learn(n, ts, spa, mac),
            _ => None,
        };
        (pair, note)
    }

    fn learn(&mut self, n: u64, ts: Timestamp, ip: Ipv4Addr, mac: MacAddr) -> Option<String> {
        if !self.bindings.contains_key(&ip) && self.bindings.len() >= MAX_BINDINGS {
            // Forget the least recently seen eighth.
            let mut by_age: Vec<(Timestamp, Ipv4Addr)> = self
                .bindings
                .values()
                .map(|b| (b.last_seen, b.ip))
                .collect();
            let k = (by_age.len() / 8).max(1);
            by_age.select_nth_unstable_by_key(k - 1, |(t, _)| *t);
            for (_, ip) in by_age.iter().take(k) {
                self.bindings.remove(ip);
            }
            super::flowtable::keep_room(&mut self.bindings, MAX_BINDINGS);
        }
        let b = self.bindings.entry(ip).or_insert_with(|| Binding {
            proto: "arp",
            ip,
            mac,
            macs: vec![mac],
            first_seen: ts,
            last_seen: ts,
            packets: 0,
            first_frame: n,
        });
        b.last_seen = ts;
        b.packets += 1;
        if b.mac == mac {
            return None;
        }
        let before = b.mac;
        b.mac = mac;
        if !b.macs.contains(&mac) && b.macs.len() < MAX_CLAIMS {
            b.macs.push(mac);
        }
        Some(format!(
            "{ip} is now claimed by {mac}, but it was at {before} (first seen in frame {}): two hosts claim one address — an address conflict, or ARP spoofing.",
            b.first_frame
        ))
    }

    /// The ARP table, sorted by IP address.
    pub fn table(&self) -> Vec<Binding> {
        let mut v: Vec<Binding> = self.bindings.values().cloned().collect();
        v.sort_by_key(|b| b.ip);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arp(op: u16, sha: u8, spa: [u8; 4], tpa: [u8; 4]) -> Arp {
        let mut b = vec![0, 1, 8, 0, 6, 4, 0, op as u8];
        b.extend_from_slice(&[2, 0x77, 0, 0, 0, sha]);
        b.extend_from_slice(&spa);
        b.extend_from_slice(&[0; 6]);
        b.extend_from_slice(&tpa);
        Arp::parse(&b, 14).unwrap_or_else(|| panic!("fixture parses"))
    }

    fn ts(us: u32) -> Timestamp {
        Timestamp {
            secs: 100,
            nanos: us * 1000,
        }
    }

    #[test]
    fn a_reply_names_its_request_and_latency() {
        let mut t = ArpTracker::default();
        let req = arp(1, 1, [10, 77, 0, 1], [10, 77, 0, 2]);
        assert_eq!(t.track(1, ts(0), &req), (None, None));
        let rep = arp(2, 2, [10, 77, 0, 2], [10, 77, 0, 1]);
        let (pair, _) = t.track(2, ts(210), &rep);
        assert_eq!(
            pair,
            Some(Answer {
                answers: 1,
                latency_ms: 0.21
            })
        );
        assert_eq!(t.table().len(), 2);
    }

    #[test]
    fn two_macs_for_one_ip_is_a_warning() {
        let mut t = ArpTracker::default();
        let a = arp(2, 1, [10, 77, 0, 1], [10, 77, 0, 2]);
        assert_eq!(t.track(1, ts(0), &a).1, None);
        let spoof = arp(2, 9, [10, 77, 0, 1], [10, 77, 0, 2]);
        let note = t.track(2, ts(5), &spoof).1.unwrap_or_default();
        assert!(note.contains("two hosts claim one address"), "{note}");
        assert_eq!(t.table()[0].macs.len(), 2);
    }

    #[test]
    fn tables_stay_bounded() {
        let mut t = ArpTracker::default();
        for i in 0..100_000u32 {
            let ip = Ipv4Addr::from(0x0a00_0000 + i).octets();
            let a = arp(1, 1, ip, [10, 0, 0, 1]);
            t.track(
                u64::from(i),
                Timestamp {
                    secs: i64::from(i),
                    nanos: 0,
                },
                &a,
            );
        }
        assert!(t.bindings.len() <= MAX_BINDINGS);
        assert!(t.pending.len() <= MAX_PENDING);
    }
}
