//! Repeats a real capture (the seed of `bench/record-real.sh`) to a benchmark file of
//! any length:
//!
//! ```text
//! cargo run --release --example replicate -- bench/real-seed.pcap 2000000 /tmp/real-2M.pcap
//! ```
//!
//! Copy `k` of the seed (k = 0, 1, …) is the seed with
//!
//! * addresses moved to their own network, so no connection of one copy meets another
//!   copy's: IPv4 10.88.0.0/22 → + 4k in the 2nd–3rd octets (10.88.4.1 is copy 1's
//!   10.88.0.1), IPv6 fd88::/16 → + k in the 2nd 16-bit group (fd88:1::1), the
//!   unicast MACs → + k in their 2nd–3rd bytes, and the link-local fe80::/64 addresses
//!   → + k in the same bytes of the interface identifier (so an EUI-64 address still
//!   matches its MAC, and a solicited-node group still matches its address);
//! * ephemeral ports (32768–60999) shifted by 7k within that range;
//! * timestamps moved by k × (the seed's duration + 1 ms), so they keep increasing.
//!
//! The addresses are rewritten wherever the kernel wrote them: link-layer headers
//! (Ethernet, Linux cooked v1/v2), ARP, IPv4/IPv6 headers, the packet an ICMP or ICMPv6
//! error quotes, NDP targets, link-layer address and prefix options. Every checksum that
//! covers a rewritten byte (IPv4 header, TCP, UDP, ICMP, ICMPv6, also inside quoted
//! packets) is updated incrementally (RFC 1624), so a checksum that was right stays
//! right — also in IP fragments, whose transport checksum covers bytes of other
//! fragments. Other link types are copied unchanged except for the time.
//!
//! Only classic pcap (either byte order, micro- or nanosecond) is read; the output is
//! little-endian pcap with the seed's precision, snapshot length and link type. Large
//! files belong under /tmp, never in the repository.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::process::ExitCode;

/// pcap link types this example knows the link header of.
const LINKTYPE_ETHERNET: u32 = 1;
const LINKTYPE_RAW: u32 = 101;
const LINKTYPE_LINUX_SLL: u32 = 113;
const LINKTYPE_LINUX_SLL2: u32 = 276;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_IPV6: u16 = 0x86dd;

const PROTO_ICMP: u8 = 1;
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;

/// Ephemeral ports as Linux assigns them (net.ipv4.ip_local_port_range).
const EPHEMERAL_FIRST: u32 = 32768;
const EPHEMERAL_COUNT: u32 = 61000 - EPHEMERAL_FIRST;

/// One captured packet of the seed.
struct Record {
    /// Capture time in the file's unit (micro- or nanoseconds).
    ts: u64,
    /// Length on the wire, in bytes.
    len: u32,
    data: Vec<u8>,
}

/// A classic pcap file, read whole.
struct Pcap {
    /// Time units per second: 1 000 000 or 1 000 000 000.
    units: u64,
    /// The magic number as written by a little-endian writer.
    magic: u32,
    snaplen: u32,
    link: u32,
    records: Vec<Record>,
}

fn read_pcap(path: &str) -> Result<Pcap, String> {
    let mut raw = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut raw))
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    let word = |b: &[u8], big: bool| {
        let a = [b[0], b[1], b[2], b[3]];
        if big {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    };
    if raw.len() < 24 {
        return Err(format!(
            "{path}: shorter than a pcap file header (24 bytes)"
        ));
    }
    let (big, magic) = match word(&raw, false) {
        m @ (0xa1b2_c3d4 | 0xa1b2_3c4d) => (false, m),
        _ => match word(&raw, true) {
            m @ (0xa1b2_c3d4 | 0xa1b2_3c4d) => (true, m),
            _ => {
                return Err(format!(
                    "{path}: not a classic pcap file (pcapng is not read)"
                ));
            }
        },
    };
    let units = if magic == 0xa1b2_3c4d {
        1_000_000_000
    } else {
        1_000_000
    };
    let snaplen = word(&raw[16..], big);
    let link = word(&raw[20..], big) & 0xffff;
    let mut records = Vec::new();
    let mut at = 24;
    while at + 16 <= raw.len() {
        let h = &raw[at..at + 16];
        let caplen = word(&h[8..], big) as usize;
        let Some(data) = raw.get(at + 16..at + 16 + caplen) else {
            eprintln!(
                "replicate: {path}: record {} is cut short; using the ones before it",
                records.len() + 1
            );
            break;
        };
        records.push(Record {
            ts: u64::from(word(h, big)) * units + u64::from(word(&h[4..], big)),
            len: word(&h[12..], big),
            data: data.to_vec(),
        });
        at += 16 + caplen;
    }
    Ok(Pcap {
        units,
        magic,
        snaplen,
        link,
        records,
    })
}

/// The change of a ones' complement sum, collected while bytes are rewritten, to update
/// a checksum without reading what it covers (RFC 1624: HC' = ~(~HC + ~m + m')).
#[derive(Clone, Copy, Default)]
struct Delta(u64);

impl Delta {
    fn plus(self, other: Delta) -> Delta {
        Delta(self.0 + other.0)
    }

    /// The checksum `old` after the covered bytes changed by `self`.
    fn apply(self, old: u16) -> u16 {
        let mut sum = u64::from(!old) + self.0;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }
}

/// Writes `new` at `at`, adding the change to `d`. `base` is where the checksummed data
/// starts (an IP header): a byte at an even distance from it is the high byte of a
/// 16-bit word. Bytes past the end of the capture are left alone.
fn rewrite(buf: &mut [u8], at: usize, new: &[u8], base: usize, d: &mut Delta) {
    let Some(old) = buf.get_mut(at..at + new.len()) else {
        return;
    };
    for (i, (o, n)) in old.iter_mut().zip(new).enumerate() {
        let shift = if (at - base + i).is_multiple_of(2) {
            8
        } else {
            0
        };
        d.0 += (0xffff - (u64::from(*o) << shift)) + (u64::from(*n) << shift);
        *o = *n;
    }
}

fn get<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at + N)?.try_into().ok()
}

fn get16(buf: &[u8], at: usize) -> Option<u16> {
    get::<2>(buf, at).map(u16::from_be_bytes)
}

/// Adds `k` to the 16-bit big-endian word at `bytes[at..at + 2]`.
fn add16(bytes: &mut [u8], at: usize, k: u16) {
    let w = u16::from_be_bytes([bytes[at], bytes[at + 1]]).wrapping_add(k);
    bytes[at..at + 2].copy_from_slice(&w.to_be_bytes());
}

/// How copy `k` moves addresses and ports.
#[derive(Clone, Copy)]
struct Shift {
    k: u32,
}

impl Shift {
    fn mac(self, mut m: [u8; 6]) -> [u8; 6] {
        // group (broadcast, multicast) and all-zero (loopback) addresses stay
        if m[0] & 1 == 0 && m != [0; 6] {
            add16(&mut m, 1, self.k as u16);
        }
        m
    }

    fn ipv4(self, mut a: [u8; 4]) -> [u8; 4] {
        if a[0] == 10 && a[1] == 88 && a[2] < 4 {
            add16(&mut a, 1, (4 * self.k) as u16);
        }
        a
    }

    fn ipv6(self, mut a: [u8; 16]) -> [u8; 16] {
        if a[..2] == [0xfd, 0x88] {
            add16(&mut a, 2, self.k as u16);
        } else if a[0] == 0xfe && a[1] & 0xc0 == 0x80 && a[2..8] == [0; 6] {
            // link-local: the bytes that hold the MAC's 2nd and 3rd in an EUI-64 id
            add16(&mut a, 9, self.k as u16);
        }
        a
    }

    fn port(self, p: u16) -> u16 {
        let p = u32::from(p);
        if (EPHEMERAL_FIRST..EPHEMERAL_FIRST + EPHEMERAL_COUNT).contains(&p) {
            (EPHEMERAL_FIRST + (p - EPHEMERAL_FIRST + 7 * self.k) % EPHEMERAL_COUNT) as u16
        } else {
            p as u16
        }
    }

    fn mac_at(self, buf: &mut [u8], at: usize) {
        if let Some(m) = get::<6>(buf, at) {
            buf[at..at + 6].copy_from_slice(&self.mac(m));
        }
    }

    fn ipv4_at(self, buf: &mut [u8], at: usize, base: usize, d: &mut Delta) {
        if let Some(a) = get::<4>(buf, at) {
            rewrite(buf, at, &self.ipv4(a), base, d);
        }
    }

    fn ipv6_at(self, buf: &mut [u8], at: usize, base: usize, d: &mut Delta) {
        if let Some(a) = get::<16>(buf, at) {
            rewrite(buf, at, &self.ipv6(a), base, d);
        }
    }

    fn port_at(self, buf: &mut [u8], at: usize, base: usize, d: &mut Delta) {
        if let Some(p) = get16(buf, at) {
            rewrite(buf, at, &self.port(p).to_be_bytes(), base, d);
        }
    }

    /// Rewrites one frame of link type `link` in place.
    fn frame(self, link: u32, buf: &mut [u8]) {
        let (ethertype, l3) = match link {
            LINKTYPE_ETHERNET => {
                self.mac_at(buf, 0);
                self.mac_at(buf, 6);
                let mut at = 12;
                while get16(buf, at) == Some(ETHERTYPE_VLAN) {
                    at += 4;
                }
                (get16(buf, at), at + 2)
            }
            LINKTYPE_LINUX_SLL2 => {
                if buf.get(11) == Some(&6) {
                    self.mac_at(buf, 12);
                }
                (get16(buf, 0), 20)
            }
            LINKTYPE_LINUX_SLL => {
                if get16(buf, 4) == Some(6) {
                    self.mac_at(buf, 6);
                }
                (get16(buf, 14), 16)
            }
            LINKTYPE_RAW => match buf.first().map(|b| b >> 4) {
                Some(4) => (Some(ETHERTYPE_IPV4), 0),
                Some(6) => (Some(ETHERTYPE_IPV6), 0),
                _ => (None, 0),
            },
            _ => (None, 0),
        };
        let end = buf.len();
        match ethertype {
            Some(ETHERTYPE_IPV4) => {
                self.ipv4_packet(buf, l3, end);
            }
            Some(ETHERTYPE_IPV6) => {
                self.ipv6_packet(buf, l3, end);
            }
            Some(ETHERTYPE_ARP) => self.arp(buf, l3),
            _ => {}
        }
    }

    fn arp(self, buf: &mut [u8], at: usize) {
        // Ethernet/IPv4 ARP only: hardware length 6, protocol length 4
        if buf.get(at + 4..at + 6) != Some(&[6, 4]) {
            return;
        }
        let mut unused = Delta::default();
        self.mac_at(buf, at + 8);
        self.ipv4_at(buf, at + 14, at, &mut unused);
        self.mac_at(buf, at + 18);
        self.ipv4_at(buf, at + 24, at, &mut unused);
    }

    /// Rewrites the IPv4 packet at `ip` (the capture holds it up to `end`); returns the
    /// change of every byte it rewrote, for a checksum around it (an ICMP error's).
    fn ipv4_packet(self, buf: &mut [u8], ip: usize, end: usize) -> Delta {
        let Some(&[vihl, _, tl0, tl1]) = buf.get(ip..ip + 4) else {
            return Delta::default();
        };
        let header_len = usize::from(vihl & 0x0f) * 4; // in bytes (4-byte units on the wire)
        if vihl >> 4 != 4 || header_len < 20 || ip + 20 > end {
            return Delta::default();
        }
        let end = end.min(ip + usize::from(u16::from_be_bytes([tl0, tl1])));
        let mut addrs = Delta::default();
        self.ipv4_at(buf, ip + 12, ip, &mut addrs);
        self.ipv4_at(buf, ip + 16, ip, &mut addrs);
        let mut all = addrs;
        if let Some(c) = get16(buf, ip + 10) {
            rewrite(buf, ip + 10, &addrs.apply(c).to_be_bytes(), ip, &mut all);
        }
        let fragment_offset = get16(buf, ip + 6).unwrap_or(0) & 0x1fff; // in 8-byte units
        if fragment_offset == 0 {
            let proto = buf[ip + 9];
            all = all.plus(self.transport(buf, ip, ip + header_len, end, proto, addrs, false));
        }
        all
    }

    /// As `ipv4_packet`, for IPv6.
    fn ipv6_packet(self, buf: &mut [u8], ip: usize, end: usize) -> Delta {
        if ip + 40 > end || buf[ip] >> 4 != 6 {
            return Delta::default();
        }
        let payload_len = usize::from(get16(buf, ip + 4).unwrap_or(0));
        let end = if payload_len == 0 {
            end
        } else {
            end.min(ip + 40 + payload_len)
        };
        let mut addrs = Delta::default();
        self.ipv6_at(buf, ip + 8, ip, &mut addrs);
        self.ipv6_at(buf, ip + 24, ip, &mut addrs);
        let mut next = buf[ip + 6];
        let mut at = ip + 40;
        loop {
            let Some(&[following, len]) = buf.get(at..at + 2) else {
                return addrs;
            };
            match next {
                // hop-by-hop, routing, destination options: length in 8-byte units, minus 1
                0 | 43 | 60 => at += (usize::from(len) + 1) * 8,
                // fragment: only the first one holds the upper-layer header
                44 => {
                    if get16(buf, at + 2).unwrap_or(0) & 0xfff8 != 0 {
                        return addrs;
                    }
                    at += 8;
                }
                // authentication header: length in 4-byte units, minus 2
                51 => at += (usize::from(len) + 2) * 4,
                _ => break,
            }
            next = following;
        }
        addrs.plus(self.transport(buf, ip, at, end, next, addrs, true))
    }

    /// Rewrites the transport header at `t` of the IP packet at `ip`, whose addresses
    /// changed the pseudo-header by `pseudo`; returns the change of the bytes it rewrote.
    #[allow(clippy::too_many_arguments)]
    fn transport(
        self,
        buf: &mut [u8],
        ip: usize,
        t: usize,
        end: usize,
        proto: u8,
        pseudo: Delta,
        v6: bool,
    ) -> Delta {
        let mut d = Delta::default();
        if t + 4 > end {
            return d;
        }
        let checksum_at = match proto {
            PROTO_TCP | PROTO_UDP => {
                self.port_at(buf, t, ip, &mut d);
                self.port_at(buf, t + 2, ip, &mut d);
                if proto == PROTO_TCP { t + 16 } else { t + 6 }
            }
            PROTO_ICMP => {
                match buf[t] {
                    // errors quote the packet that caused them
                    3 | 4 | 11 | 12 => d = d.plus(self.ipv4_packet(buf, t + 8, end)),
                    // redirect: the better gateway, then the quoted packet
                    5 => {
                        self.ipv4_at(buf, t + 4, ip, &mut d);
                        d = d.plus(self.ipv4_packet(buf, t + 8, end));
                    }
                    _ => {}
                }
                t + 2
            }
            PROTO_ICMPV6 => {
                match buf[t] {
                    1..=4 => d = d.plus(self.ipv6_packet(buf, t + 8, end)),
                    133 => self.ndp_options(buf, ip, t + 8, end, &mut d),
                    134 => self.ndp_options(buf, ip, t + 16, end, &mut d),
                    135 | 136 => {
                        self.ipv6_at(buf, t + 8, ip, &mut d);
                        self.ndp_options(buf, ip, t + 24, end, &mut d);
                    }
                    137 => {
                        self.ipv6_at(buf, t + 8, ip, &mut d);
                        self.ipv6_at(buf, t + 24, ip, &mut d);
                        self.ndp_options(buf, ip, t + 40, end, &mut d);
                    }
                    _ => {}
                }
                t + 2
            }
            _ => return d,
        };
        let Some(old) = get16(buf, checksum_at).filter(|_| checksum_at + 2 <= end) else {
            return d;
        };
        if proto == PROTO_UDP && old == 0 && !v6 {
            return d; // IPv4 UDP without a checksum
        }
        // ICMPv4 has no pseudo-header; the others cover the addresses too
        let covered = if proto == PROTO_ICMP {
            d
        } else {
            d.plus(pseudo)
        };
        let mut new = covered.apply(old);
        if proto == PROTO_UDP && new == 0 {
            new = 0xffff; // 0 means "no checksum" in UDP
        }
        rewrite(buf, checksum_at, &new.to_be_bytes(), ip, &mut d);
        d
    }

    /// NDP options from `at` to `end`: link-layer addresses, prefixes, redirected packets.
    fn ndp_options(self, buf: &mut [u8], ip: usize, mut at: usize, end: usize, d: &mut Delta) {
        while let Some(&[kind, units]) = buf.get(at..at + 2) {
            let len = usize::from(units) * 8; // in bytes (8-byte units on the wire)
            if len == 0 || at + len > end {
                return;
            }
            match kind {
                1 | 2 if len == 8 => {
                    if let Some(m) = get::<6>(buf, at + 2) {
                        rewrite(buf, at + 2, &self.mac(m), ip, d);
                    }
                }
                3 if len == 32 => self.ipv6_at(buf, at + 16, ip, d),
                4 => *d = d.plus(self.ipv6_packet(buf, at + 8, at + len)),
                _ => {}
            }
            at += len;
        }
    }
}

fn run(seed: &str, count: u64, out: &str) -> Result<(), String> {
    let pcap = read_pcap(seed)?;
    let (Some(first), Some(last)) = (pcap.records.first(), pcap.records.last()) else {
        return Err(format!("{seed}: no packets"));
    };
    let period = last.ts.saturating_sub(first.ts) + pcap.units / 1000; // + 1 ms
    let file = File::create(out).map_err(|e| format!("cannot create {out}: {e}"))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let err = |e: std::io::Error| format!("cannot write {out}: {e}");
    let mut header = Vec::with_capacity(24);
    for v in [pcap.magic, 0x0004_0002, 0, 0, pcap.snaplen, pcap.link] {
        header.extend_from_slice(&v.to_le_bytes()); // version 2.4 as two u16 words
    }
    w.write_all(&header).map_err(err)?;
    let mut buf = Vec::new();
    let mut written = 0;
    'copies: for k in 0.. {
        let shift = Shift { k };
        for r in &pcap.records {
            if written == count {
                break 'copies;
            }
            buf.clear();
            buf.extend_from_slice(&r.data);
            shift.frame(pcap.link, &mut buf);
            let ts = r.ts + u64::from(k) * period;
            let mut h = [0u8; 16];
            h[0..4].copy_from_slice(&((ts / pcap.units) as u32).to_le_bytes());
            h[4..8].copy_from_slice(&((ts % pcap.units) as u32).to_le_bytes());
            h[8..12].copy_from_slice(&(buf.len() as u32).to_le_bytes());
            h[12..16].copy_from_slice(&r.len.to_le_bytes());
            w.write_all(&h).map_err(err)?;
            w.write_all(&buf).map_err(err)?;
            written += 1;
        }
    }
    w.flush().map_err(err)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: replicate SEED.pcap PACKETS OUT.pcap";
    let (Some(seed), Some(count), Some(out)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<u64>() else {
        eprintln!("replicate: PACKETS must be a whole number, not {count:?}\n{usage}");
        return ExitCode::from(2);
    };
    match run(seed, count, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replicate: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full ones' complement checksum of `data`, for comparison.
    fn checksum(data: &[u8]) -> u16 {
        let mut sum: u64 = data
            .chunks(2)
            .map(|c| u64::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn incremental_update_matches_a_full_checksum() {
        let mut data: Vec<u8> = (0..64u32).map(|i| (i * 37 + 11) as u8).collect();
        data[10] = 0;
        data[11] = 0;
        let c = checksum(&data);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        let mut d = Delta::default();
        rewrite(&mut data, 13, &[0xde, 0xad, 0xbe], 0, &mut d); // odd start
        rewrite(&mut data, 40, &[0x01, 0x02], 0, &mut d);
        let new = d.apply(c);
        data[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(new, checksum(&data));
    }
}
