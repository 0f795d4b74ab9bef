//! IPv4 and IPv6 fragment reassembly (RFC 791 and RFC 8200 section 4.5, with RFC 815's
//! hole list): fragments that share source, destination, protocol and identification are
//! put back together, and the frame that completes a datagram carries the transport
//! header decoded from the whole of it.
//!
//! Hostile or broken trains never crash it and never grow memory without bound: at most
//! [`ReassemblyConfig::max_datagrams`] datagrams and [`ReassemblyConfig::max_bytes`]
//! bytes are buffered at once (a fragment that would grow a datagram past that is not
//! kept), at most [`MAX_FRAGMENTS`] fragments are kept per datagram, and a datagram not
//! completed within [`ReassemblyConfig::timeout`] seconds of capture time is dropped and
//! reported with its holes. Overlaps (the teardrop attack), duplicates and fragments
//! reaching past 65,535 bytes (the ping of death) are reported as notes.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::analysis::flowtable::FlowHashBuilder;
use crate::capture::Timestamp;
use crate::proto::ipv4::Ipv4;
use crate::proto::ipv6::{self, Ipv6};

/// Largest IPv4 datagram payload a fragment may reach, in bytes (65,535 − 20).
pub const MAX_PAYLOAD: usize = 65_515;

/// Largest fragmentable part of an IPv6 packet a fragment may reach, in bytes: the
/// payload length field counts at most 65,535 bytes, 8 of them the fragment header.
pub const MAX_PAYLOAD_V6: usize = 65_527;

/// Most fragments kept per datagram: enough for fragments of the smallest size (8 bytes
/// of payload) to fill the largest datagram, so only duplicates and overlaps go past it.
pub const MAX_FRAGMENTS: usize = MAX_PAYLOAD_V6.div_ceil(8);

/// One fragment as the reassembler sees it, from an IPv4 header or an IPv6 fragment
/// header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The protocol of the whole datagram's payload (IPv4's protocol field, the IPv6
    /// fragment header's next header).
    pub proto: u8,
    /// Identification: 16 bits in IPv4, 32 in IPv6.
    pub id: u32,
    /// Where its data goes in the datagram, in bytes.
    pub offset: usize,
    /// Bytes of data it carries, per its header.
    pub len: usize,
    /// True when more fragments follow (the MF flag, the M flag).
    pub more: bool,
    /// Where its data starts in the frame.
    pub start: usize,
}

impl Fragment {
    /// The fragment an IPv4 header describes.
    pub fn v4(ip: &Ipv4) -> Fragment {
        Fragment {
            src: ip.src.into(),
            dst: ip.dst.into(),
            proto: ip.proto,
            id: u32::from(ip.id),
            offset: usize::from(ip.frag_offset),
            len: ip.payload_len(),
            more: ip.mf,
            start: ip.offset + usize::from(ip.ihl),
        }
    }

    /// The fragment an IPv6 packet's fragment header describes; `None` without one.
    /// Its data is what follows the fragment header, up to the payload length.
    pub fn v6(ip: &Ipv6) -> Option<Fragment> {
        let frag = ip.fragment()?;
        let (at, proto) = ip.fragmentable()?;
        Some(Fragment {
            src: ip.src.into(),
            dst: ip.dst.into(),
            proto,
            id: frag.id,
            offset: usize::from(frag.offset),
            len: (ipv6::HEADER_LEN + usize::from(ip.payload_len)).saturating_sub(at),
            more: frag.more,
            start: ip.offset + at,
        })
    }

    fn v6_id(&self) -> bool {
        self.src.is_ipv6()
    }

    /// Largest end offset its datagram may reach.
    fn max_end(&self) -> usize {
        if self.v6_id() {
            MAX_PAYLOAD_V6
        } else {
            MAX_PAYLOAD
        }
    }
}

/// An identification written as [`id_text`] writes it, when it is displayed.
#[derive(Clone, Copy)]
struct IdText(u32, bool);

impl std::fmt::Display for IdText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.1 {
            write!(f, "0x{:08x}", self.0)
        } else {
            write!(f, "0x{:04x}", self.0)
        }
    }
}

/// `0x1234` for an IPv4 identification, `0x12345678` for an IPv6 one.
fn id_text(id: u32, v6: bool) -> String {
    IdText(id, v6).to_string()
}

/// Limits of the reassembler.
#[derive(Clone, Copy, Debug)]
pub struct ReassemblyConfig {
    /// Most datagrams being reassembled at once.
    pub max_datagrams: usize,
    /// Most bytes buffered across all datagrams (payload, its fill map and the list of
    /// fragments).
    pub max_bytes: usize,
    /// Seconds of capture time a datagram may take to complete.
    pub timeout: f64,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_datagrams: 1024,
            max_bytes: 16 * 1024 * 1024,
            timeout: 30.0,
        }
    }
}

pub use crate::context::{Datagram, Piece, Reassembled};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    id: u32,
}

impl Key {
    fn id_text(&self) -> String {
        id_text(self.id, self.src.is_ipv6())
    }
}

#[derive(Debug)]
struct Pending {
    first_ts: Timestamp,
    data: Vec<u8>,
    /// Which bytes of `data` have arrived: 1 or 0, bytes rather than `bool`s so that
    /// looking for an arrived byte in a new fragment's range is a `memchr` (a `bool`
    /// slice was searched one element at a time: 4 000 instructions a fragment, most of
    /// the reassembler's time in `wirelens flows`).
    filled: Vec<u8>,
    /// Byte ranges [first, last] still missing (RFC 815); the last hole runs to
    /// "infinity" until the final fragment fixes the length.
    holes: Vec<(usize, usize)>,
    total: Option<usize>,
    pieces: Vec<Piece>,
}

/// Bytes one fragment costs in a datagram's bookkeeping: its entry in the fragment list,
/// and the one hole it can add to the hole list.
const PIECE_COST: usize = std::mem::size_of::<Piece>() + std::mem::size_of::<(usize, usize)>();

impl Pending {
    /// The frame of its first fragment: datagrams are named in this order.
    fn first_frame(&self) -> u64 {
        self.pieces
            .iter()
            .map(|x| x.frame)
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Bytes it holds, as counted against [`ReassemblyConfig::max_bytes`].
    fn bytes(&self) -> usize {
        2 * self.data.len() + PIECE_COST * self.pieces.len()
    }

    fn missing(&self) -> String {
        let ranges: Vec<String> = self
            .holes
            .iter()
            .map(|&(a, b)| {
                if b == usize::MAX {
                    format!("{a}–end")
                } else {
                    format!("{a}–{b}")
                }
            })
            .collect();
        ranges.join(", ")
    }
}

/// The outcome of offering one fragment.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Notes for this frame (position, overlaps, timeouts).
    pub notes: Vec<String>,
    /// The whole datagram, when this fragment completed it.
    pub datagram: Option<Datagram>,
    /// Notes are not written (see [`Reassembler::set_quiet`]).
    quiet: bool,
}

impl Outcome {
    /// Adds the note that `make` writes, unless notes are not wanted: then it is never
    /// written.
    fn note(&mut self, make: impl FnOnce() -> String) {
        if !self.quiet {
            self.notes.push(make());
        }
    }
}

/// Reassembles IPv4 datagrams and IPv6 packets.
#[derive(Debug, Default)]
pub struct Reassembler {
    cfg: ReassemblyConfig,
    /// Hashed as the flow tables are (a seeded multiply; SipHash was 1.7% of `flows`'
    /// analysing thread on the real-traffic file, callgrind).
    pending: HashMap<Key, Pending, FlowHashBuilder>,
    buffered: usize,
    last_sweep: f64,
    said_full: bool,
    /// No notes are written (see [`Reassembler::set_quiet`]).
    quiet: bool,
}

impl Reassembler {
    /// A reassembler with these limits.
    pub fn new(cfg: ReassemblyConfig) -> Reassembler {
        Reassembler {
            cfg,
            ..Reassembler::default()
        }
    }

    /// With `quiet`, fragments are reassembled as before but no notes are written: for a
    /// caller that shows none (`wirelens flows`), where formatting them was a fifth of
    /// the reassembler's time.
    pub fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }

    /// Datagrams being reassembled now.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Bytes buffered now (payloads, fill maps and fragment lists).
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Drops datagrams older than the timeout, with a note for each (at most a few
    /// named, the rest counted).
    fn expire(&mut self, now: f64, out: &mut Outcome) {
        if now - self.last_sweep < 1.0 {
            return;
        }
        self.last_sweep = now;
        let timeout = self.cfg.timeout;
        // In the order their first fragments came, not the map's.
        let mut old: Vec<(u64, Key)> = self
            .pending
            .iter()
            .filter(|(_, p)| now - p.first_ts.as_secs_f64() > timeout)
            .map(|(k, p)| (p.first_frame(), *k))
            .collect();
        old.sort_unstable_by_key(|&(frame, _)| frame);
        let mut said = 0;
        for (_, k) in &old {
            if let Some(p) = self.pending.remove(k) {
                self.buffered = self.buffered.saturating_sub(p.bytes());
                if said < 3 {
                    out.note(|| format!(
                        "Datagram ID {} from {} to {} timed out after {} s incomplete: bytes {} never arrived.",
                        k.id_text(), k.src, k.dst, timeout, p.missing()
                    ));
                }
                said += 1;
            }
        }
        if said > 3 {
            out.note(|| format!("…and {} more datagrams timed out incomplete.", said - 3));
        }
    }

    /// Offers one fragment (`ip` says what it is, `payload` the bytes it carries as
    /// captured, `frame` its frame number).
    pub fn offer(&mut self, frame: u64, ts: Timestamp, ip: &Fragment, payload: &[u8]) -> Outcome {
        let mut out = Outcome {
            quiet: self.quiet,
            ..Outcome::default()
        };
        self.expire(ts.as_secs_f64(), &mut out);
        let key = Key {
            src: ip.src,
            dst: ip.dst,
            proto: ip.proto,
            id: ip.id,
        };
        // Written only into a note, when there is one (a `format!` per fragment was a
        // tenth of the reassembler's time).
        let id = IdText(ip.id, ip.v6_id());
        let first = ip.offset;
        let declared = ip.len;
        if payload.len() < declared {
            out.note(|| format!(
                "This fragment was not all captured ({} of {declared} bytes), so datagram ID {id} cannot be reassembled.",
                payload.len(),
            ));
            return out;
        }
        let len = declared;
        let end = first + len; // one past the last byte
        if end > ip.max_end() {
            out.note(|| if ip.v6_id() {
                format!(
                    "This fragment would end at byte {end}, past the largest possible packet (a payload length of 65,535 bytes): a \"ping of death\"; it is dropped."
                )
            } else {
                format!(
                    "This fragment would end at byte {end}, past the largest possible datagram (65,535 bytes with its header): a \"ping of death\"; it is dropped."
                )
            });
            return out;
        }
        if len == 0 {
            out.note(|| "This fragment carries no data.".into());
            return out;
        }
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= self.cfg.max_datagrams
                || self.buffered + 2 * end + PIECE_COST > self.cfg.max_bytes
            {
                if !self.said_full {
                    self.said_full = true;
                    out.note(|| format!(
                        "Too many datagrams are being reassembled at once ({} datagrams, {} bytes buffered): new ones are not reassembled until some complete or time out.",
                        self.pending.len(),
                        self.buffered
                    ));
                }
                return out;
            }
            self.pending.insert(
                key,
                Pending {
                    first_ts: ts,
                    data: Vec::new(),
                    filled: Vec::new(),
                    holes: vec![(0, usize::MAX)],
                    total: None,
                    pieces: Vec::new(),
                },
            );
        }
        let Some(p) = self.pending.get_mut(&key) else {
            return out;
        };
        if p.pieces.len() >= MAX_FRAGMENTS {
            out.note(|| format!(
                "Datagram ID {id} already has {MAX_FRAGMENTS} fragments, as many as the largest datagram can need; this one is not kept."
            ));
            return out;
        }
        let grow = end.saturating_sub(p.data.len());
        if self.buffered + 2 * grow + PIECE_COST > self.cfg.max_bytes {
            out.note(|| format!(
                "Keeping this fragment of datagram ID {id} would take the reassembler past its limit of {} buffered bytes ({} in use): it is not kept, so the datagram cannot be completed.",
                self.cfg.max_bytes, self.buffered
            ));
            return out;
        }
        let last = end - 1;
        if p.data.len() < end {
            self.buffered += 2 * (end - p.data.len());
            p.data.resize(end, 0);
            p.filled.resize(end, 0);
        }
        // Overlaps and duplicates: bytes of [first, last] that an earlier fragment filled.
        // The first copy of a byte is kept.
        let mut overlap = 0usize;
        let mut conflict = false;
        if let (Some(data), Some(filled), Some(src)) = (
            p.data.get_mut(first..end),
            p.filled.get_mut(first..end),
            payload.get(..len),
        ) {
            if !filled.contains(&1) {
                // No byte of it arrived before (the common case): one copy.
                data.copy_from_slice(src);
                filled.fill(1);
            } else {
                for ((d, f), s) in data.iter_mut().zip(filled.iter_mut()).zip(src) {
                    if *f != 0 {
                        overlap += 1;
                        conflict |= *d != *s;
                    } else {
                        *d = *s;
                        *f = 1;
                    }
                }
            }
        }
        if overlap > 0 {
            let dup = overlap == len && p.pieces.iter().any(|x| x.offset == first && x.len == len);
            out.note(|| if dup {
                format!(
                    "Duplicate fragment: bytes {first}–{last} of datagram ID {id} arrived before{}.",
                    if conflict { ", with different contents" } else { "" }
                )
            } else {
                format!(
                    "Overlapping fragment: {overlap} of its bytes ({first}–{last}) of datagram ID {id} were already received{} (the teardrop attack sends such fragments); the first copy is kept.",
                    if conflict { ", with different contents" } else { "" }
                )
            });
        }
        if !ip.more {
            match p.total {
                Some(t) if t != end => {
                    out.note(|| format!(
                    "A second last fragment says datagram ID {id} ends at byte {end}, not {t}; the first is kept."
                ));
                }
                Some(_) => {}
                None => p.total = Some(end),
            }
        }
        // RFC 815: each hole the fragment touches is removed and what it leaves of it
        // (before and after the fragment) goes back.
        let total = p.total;
        let mut holes = Vec::with_capacity(p.holes.len() + 1);
        for &(a, b) in &p.holes {
            if last < a || first > b {
                holes.push((a, b));
                continue;
            }
            if first > a {
                holes.push((a, first - 1));
            }
            if last < b && ip.more {
                holes.push((last + 1, b));
            }
        }
        if let Some(t) = total {
            holes.retain(|&(a, _)| a < t);
            for h in &mut holes {
                h.1 = h.1.min(t - 1);
            }
        }
        p.holes = holes;
        p.pieces.push(Piece {
            frame,
            offset: first,
            len,
            mf: ip.more,
        });
        self.buffered += PIECE_COST;
        if p.holes.is_empty() && p.total.is_some() {
            if let Some(mut p) = self.pending.remove(&key) {
                self.buffered = self.buffered.saturating_sub(p.bytes());
                p.pieces.sort_by_key(|x| (x.offset, x.frame));
                let mut frames: Vec<u64> = p.pieces.iter().map(|x| x.frame).collect();
                frames.dedup();
                let n = frames.len();
                let k = frames.iter().position(|&f| f == frame).map_or(n, |i| i + 1);
                let length = p.total.unwrap_or(p.data.len());
                p.data.truncate(length);
                out.note(|| format!(
                    "Reassembly: fragment {k}/{n} completes datagram ID {id}: {length} bytes from frames {}.",
                    frames
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                out.datagram = Some(Datagram {
                    info: Reassembled {
                        fragments: frames,
                        length,
                    },
                    payload: p.data,
                    pieces: p.pieces,
                });
            }
        } else {
            out.note(|| {
                format!(
                    "Reassembly: {} fragment{} of datagram ID {id} so far; bytes {} still missing.",
                    p.pieces.len(),
                    if p.pieces.len() == 1 { "" } else { "s" },
                    p.missing()
                )
            });
        }
        out
    }

    /// The datagrams still incomplete at the end of a capture, one sentence each.
    pub fn finish(&mut self) -> Vec<String> {
        let mut left: Vec<(&Key, &Pending)> = self.pending.iter().collect();
        left.sort_unstable_by_key(|(_, p)| p.first_frame());
        let v = left
            .into_iter()
            .map(|(k, p)| {
                format!(
                    "Datagram ID {} from {} to {} was never completed: bytes {} never arrived (fragments seen in frames {}).",
                    k.id_text(),
                    k.src,
                    k.dst,
                    p.missing(),
                    p.pieces.iter().map(|x| x.frame.to_string()).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        self.pending.clear();
        self.buffered = 0;
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn frag(id: u16, offset: u16, len: u16, mf: bool) -> Fragment {
        Fragment::v4(&ipv4_frag(id, offset, len, mf))
    }

    fn ipv4_frag(id: u16, offset: u16, len: u16, mf: bool) -> Ipv4 {
        Ipv4 {
            offset: 14,
            version: 4,
            ihl: 20,
            dscp: 0,
            ecn: 0,
            total_len: 20 + len,
            id,
            reserved_flag: false,
            df: false,
            mf,
            frag_offset: offset,
            ttl: 64,
            proto: 17,
            checksum: 0,
            checksum_ok: Some(true),
            src: Ipv4Addr::new(10, 77, 0, 1),
            dst: Ipv4Addr::new(10, 77, 0, 2),
            options: Vec::new(),
        }
    }

    fn ts(s: i64) -> Timestamp {
        Timestamp { secs: s, nanos: 0 }
    }

    #[test]
    fn in_order_and_out_of_order_trains_complete() {
        for order in [[0usize, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let mut r = Reassembler::default();
            let parts = [(0u16, 16u16, true), (16, 16, true), (32, 8, false)];
            let mut done = None;
            for (i, &j) in order.iter().enumerate() {
                let (o, l, mf) = parts[j];
                let payload: Vec<u8> = (o..o + l).map(|b| b as u8).collect();
                let out = r.offer(i as u64 + 1, ts(0), &frag(7, o, l, mf), &payload);
                if i < 2 {
                    assert!(out.datagram.is_none(), "{order:?}");
                } else {
                    done = out.datagram;
                }
            }
            let d = done.expect("completed");
            assert_eq!(d.info.length, 40);
            assert_eq!(d.payload, (0..40u8).collect::<Vec<_>>());
            assert_eq!(r.buffered_bytes(), 0);
            assert_eq!(r.in_flight(), 0);
        }
    }

    /// A quiet reassembler completes the same datagrams, from the same fragments, as one
    /// that writes notes, and writes none: random fragments of a few datagrams, in any
    /// order, with overlaps, duplicates, conflicting copies, second last fragments,
    /// empty and oversized ones, and timeouts.
    #[test]
    fn a_quiet_reassembler_completes_the_same_datagrams() {
        let mut next = crate::testing::rng(0x9e37_79b9_7f4a_7c15);
        let (mut loud, mut quiet) = (Reassembler::default(), Reassembler::default());
        quiet.set_quiet(true);
        let (mut completed, mut said) = (0, 0);
        for i in 0..20_000u64 {
            let id = next(4) as u16;
            let offset = [0, 8, 16, 24, 32, 65_512][next(6) as usize];
            let len = [0, 8, 16, 24][next(4) as usize];
            let fill = next(3) as u8;
            let payload = vec![fill; usize::from(len)];
            let at = ts(i as i64 / 500);
            let f = frag(id, offset, len, next(3) != 0);
            let (a, b) = (
                loud.offer(i, at, &f, &payload),
                quiet.offer(i, at, &f, &payload),
            );
            assert!(b.notes.is_empty(), "{:?}", b.notes);
            said += a.notes.len();
            let (a, b) = (a.datagram, b.datagram);
            completed += usize::from(a.is_some());
            assert_eq!(a, b, "fragment {i}");
        }
        assert_eq!(loud.buffered_bytes(), quiet.buffered_bytes());
        assert!(completed > 100 && said > 1_000, "{completed} {said}");
    }

    #[test]
    fn overlap_duplicate_and_ping_of_death_are_noted() {
        let mut r = Reassembler::default();
        r.offer(1, ts(0), &frag(1, 0, 16, true), &[1; 16]);
        let o = r.offer(2, ts(0), &frag(1, 0, 16, true), &[1; 16]);
        assert!(
            o.notes[0].starts_with("Duplicate fragment"),
            "{:?}",
            o.notes
        );
        let o = r.offer(3, ts(0), &frag(1, 8, 16, true), &[2; 16]);
        assert!(
            o.notes[0].starts_with("Overlapping fragment"),
            "{:?}",
            o.notes
        );
        let o = r.offer(4, ts(0), &frag(2, 65_512, 16, false), &[0; 16]);
        assert!(o.notes[0].contains("ping of death"), "{:?}", o.notes);
        let o = r.offer(5, ts(0), &frag(1, 24, 8, false), &[3; 8]);
        let d = o.datagram.expect("completes");
        // First copy kept: bytes 8..16 stay 1, 16..24 come from frame 3.
        assert_eq!(&d.payload[..16], &[1; 16]);
        assert_eq!(&d.payload[16..24], &[2; 8]);
    }

    #[test]
    fn incomplete_datagrams_time_out_with_their_holes() {
        let mut r = Reassembler::default();
        r.offer(1, ts(0), &frag(9, 0, 16, true), &[0; 16]);
        let o = r.offer(2, ts(100), &frag(10, 0, 8, true), &[0; 8]);
        assert!(
            o.notes[0].contains("timed out") && o.notes[0].contains("16–end"),
            "{:?}",
            o.notes
        );
        let left = r.finish();
        assert_eq!(left.len(), 1);
        assert!(left[0].contains("never completed"));
    }

    /// Datagrams that time out together, and those left at the end, are named in the
    /// order their first fragments came, whatever order the map keeps them in: ten
    /// reassemblers (each with its own random hash seed) say the same.
    #[test]
    fn datagrams_are_named_in_the_order_their_first_fragments_came() {
        let ids = [40u16, 3, 17, 9, 28, 1];
        let said = |r: &mut Reassembler| {
            for (i, &id) in ids.iter().enumerate() {
                r.offer(i as u64 + 1, ts(0), &frag(id, 0, 8, true), &[0; 8]);
            }
            let late = r.offer(7, ts(100), &frag(99, 0, 8, true), &[0; 8]);
            for (i, &id) in ids.iter().enumerate() {
                r.offer(i as u64 + 8, ts(101), &frag(id, 0, 8, true), &[0; 8]);
            }
            (late.notes, r.finish())
        };
        let (timed_out, left) = said(&mut Reassembler::default());
        let named = |notes: &[String]| -> Vec<String> {
            notes
                .iter()
                .filter_map(|n| n.split_whitespace().nth(2).map(str::to_string))
                .collect()
        };
        assert_eq!(
            named(&timed_out[..3]),
            ["0x0028", "0x0003", "0x0011"],
            "{timed_out:?}"
        );
        assert_eq!(
            named(&left),
            [
                "0x0063", "0x0028", "0x0003", "0x0011", "0x0009", "0x001c", "0x0001"
            ],
            "{left:?}"
        );
        for _ in 0..10 {
            assert_eq!(
                said(&mut Reassembler::default()),
                (timed_out.clone(), left.clone())
            );
        }
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_never_completed_trains() {
        let mut r = Reassembler::default();
        for i in 0..100_000u32 {
            let mut ip = frag(i as u16, 0, 1480, true);
            ip.src = Ipv4Addr::from(0x0a00_0000 + (i >> 16)).into();
            r.offer(u64::from(i), ts(i64::from(i / 1000)), &ip, &[0; 1480]);
            assert!(r.in_flight() <= 1024);
            assert!(r.buffered_bytes() <= 16 * 1024 * 1024);
        }
    }
}
