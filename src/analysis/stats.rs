//! Capture statistics for `wirelens stats`: a protocol hierarchy (packets and bytes per
//! layer), top talkers, a packet-size histogram and packets per second over time. Memory
//! is bounded: at most [`MAX_TALKERS`] addresses are counted, and the time line keeps at
//! most [`MAX_BUCKETS`] buckets, doubling their width when the capture is longer.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::capture::Timestamp;
use crate::dissect::{Dissection, Role};

/// Most IPv4 addresses counted for top talkers.
pub const MAX_TALKERS: usize = 65_536;
/// Most buckets in the packets-per-second time line.
pub const MAX_BUCKETS: usize = 240;
/// Upper bounds of the packet-size histogram bins, in bytes (on the wire).
pub const SIZE_BINS: [u32; 8] = [64, 128, 256, 512, 1024, 1518, 9000, u32::MAX];

/// Packets and bytes of one kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
}

impl Count {
    fn add(&mut self, len: u32) {
        self.packets += 1;
        self.bytes += u64::from(len);
    }
}

/// Everything `wirelens stats` shows.
#[derive(Debug, Default)]
pub struct Stats {
    /// All packets.
    pub total: Count,
    /// Protocol hierarchy: (path like "Ethernet/IPv4/TCP", count), in first-seen order.
    pub hierarchy: Vec<(String, Count)>,
    /// Bytes and packets sent per IP address (IPv4 or IPv6).
    talkers: HashMap<IpAddr, Count>,
    /// Packets not counted per talker because the table was full.
    pub talkers_dropped: u64,
    /// Packets per size bin (see [`SIZE_BINS`]).
    pub sizes: [u64; SIZE_BINS.len()],
    /// First and last capture time.
    pub first: Option<Timestamp>,
    /// Last capture time.
    pub last: Option<Timestamp>,
    /// Packets per bucket of `bucket_secs` seconds, from the first packet.
    pub timeline: Vec<u64>,
    /// Width of a time-line bucket, in seconds.
    pub bucket_secs: f64,
}

impl Stats {
    /// Counts one packet.
    pub fn add(&mut self, d: &Dissection) {
        self.total.add(d.len);
        let path = hierarchy_path(d);
        match self.hierarchy.iter_mut().find(|(p, _)| *p == path) {
            Some((_, c)) => c.add(d.len),
            None => {
                let mut c = Count::default();
                c.add(d.len);
                self.hierarchy.push((path, c));
            }
        }
        if let Some((src, _)) = d.ip_addrs() {
            if let Some(c) = self.talkers.get_mut(&src) {
                c.add(d.len);
            } else if self.talkers.len() < MAX_TALKERS {
                self.talkers.entry(src).or_default().add(d.len);
            } else {
                self.talkers_dropped += 1;
            }
        }
        let bin = SIZE_BINS
            .iter()
            .position(|&b| d.len <= b)
            .unwrap_or(SIZE_BINS.len() - 1);
        if let Some(s) = self.sizes.get_mut(bin) {
            *s += 1;
        }
        let first = *self.first.get_or_insert(d.ts);
        self.last = Some(d.ts);
        if self.bucket_secs == 0.0 {
            self.bucket_secs = 1.0;
        }
        let t = (d.ts.as_secs_f64() - first.as_secs_f64()).max(0.0);
        let mut i = (t / self.bucket_secs) as usize;
        while i >= MAX_BUCKETS {
            // Halve the resolution: merge neighbouring buckets.
            self.timeline = self.timeline.chunks(2).map(|c| c.iter().sum()).collect();
            self.bucket_secs *= 2.0;
            i = (t / self.bucket_secs) as usize;
        }
        if self.timeline.len() <= i {
            self.timeline.resize(i + 1, 0);
        }
        if let Some(b) = self.timeline.get_mut(i) {
            *b += 1;
        }
    }

    /// The `n` addresses that sent the most bytes, most first.
    pub fn top_talkers(&self, n: usize) -> Vec<(IpAddr, Count)> {
        let mut v: Vec<(IpAddr, Count)> = self.talkers.iter().map(|(a, c)| (*a, *c)).collect();
        v.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

/// The layers of a packet as a path, e.g. "Ethernet/802.1Q/IPv4/UDP".
fn hierarchy_path(d: &Dissection) -> String {
    let mut p = String::with_capacity(32);
    d.walk(&mut |l| {
        let key = l.layer.key();
        if l.role == Role::Quoted || key == "data" || key == "padding" {
            return;
        }
        if !p.is_empty() {
            p.push('/');
        }
        p.push_str(&l.layer.hierarchy_name());
    });
    if p.is_empty() {
        p.push_str("(not decoded)");
    }
    p
}
