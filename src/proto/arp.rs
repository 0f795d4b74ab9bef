//! ARP (RFC 826): how a host finds the MAC address that goes with an IPv4 address. A
//! request is broadcast ("who has 10.77.0.2? tell 10.77.0.1"); the owner answers with a
//! unicast reply ("10.77.0.2 is at …").

use super::{ToFieldText, ftext};
use std::net::Ipv4Addr;

use serde::Serialize;

use super::ethernet::EtherType;
use super::{Field, MacAddr, be8, be16, ipv4_at};
use crate::text::Text;

/// Byte ranges of the fixed part of an ARP packet, relative to its start.
pub mod field {
    use std::ops::Range;
    /// Hardware type (1 = Ethernet).
    pub const HTYPE: Range<usize> = 0..2;
    /// Protocol type (an EtherType; 0x0800 = IPv4).
    pub const PTYPE: Range<usize> = 2..4;
    /// Hardware address length, in bytes.
    pub const HLEN: usize = 4;
    /// Protocol address length, in bytes.
    pub const PLEN: usize = 5;
    /// Operation (1 = request, 2 = reply).
    pub const OPER: Range<usize> = 6..8;
    /// Where the addresses start: SHA, SPA, THA, TPA follow in that order.
    pub const ADDRS: usize = 8;
}

/// Length of the fixed part (before the addresses), in bytes.
pub const FIXED_LEN: usize = 8;
/// Length of an Ethernet/IPv4 ARP packet, in bytes: 8 + 6 + 4 + 6 + 4.
pub const ETH_IPV4_LEN: usize = 28;
/// Hardware type of Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;
/// Operation: request.
pub const OP_REQUEST: u16 = 1;
/// Operation: reply.
pub const OP_REPLY: u16 = 2;

/// What an ARP packet is for, judged from its addresses (RFC 826, RFC 5227).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArpKind {
    /// Asks who has the target IP.
    Request,
    /// Answers a request: the sender IP is at the sender MAC.
    Reply,
    /// Sender IP = target IP: a host announces (or defends) its own address.
    Gratuitous,
    /// Sender IP 0.0.0.0: a host checks whether an address is free before using it.
    Probe,
    /// Another operation (RARP, InARP…).
    Other,
}

impl ArpKind {
    /// What an operation and its addresses make a packet: the one rule both the parser
    /// and the builders use.
    pub fn classify(op: u16, spa: Option<Ipv4Addr>, tpa: Option<Ipv4Addr>) -> ArpKind {
        match op {
            OP_REQUEST | OP_REPLY if spa.is_some() && spa == tpa => ArpKind::Gratuitous,
            OP_REQUEST if spa == Some(Ipv4Addr::UNSPECIFIED) => ArpKind::Probe,
            OP_REQUEST => ArpKind::Request,
            OP_REPLY => ArpKind::Reply,
            _ => ArpKind::Other,
        }
    }
}

/// An ARP packet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arp {
    /// Offset of the packet in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// Hardware type (1 = Ethernet).
    pub htype: u16,
    /// Protocol type (0x0800 = IPv4).
    pub ptype: u16,
    /// Hardware address length, in bytes.
    pub hlen: u8,
    /// Protocol address length, in bytes.
    pub plen: u8,
    /// Operation: 1 request, 2 reply.
    pub op: u16,
    /// Sender hardware address (only for 6-byte hardware addresses).
    pub sha: Option<MacAddr>,
    /// Sender protocol address (only for 4-byte protocol addresses).
    #[serde(serialize_with = "crate::text::ser_opt_ipv4")]
    pub spa: Option<Ipv4Addr>,
    /// Target hardware address.
    pub tha: Option<MacAddr>,
    /// Target protocol address.
    #[serde(serialize_with = "crate::text::ser_opt_ipv4")]
    pub tpa: Option<Ipv4Addr>,
    /// Request, reply, gratuitous or probe.
    pub kind: ArpKind,
}

impl Arp {
    /// Reads an ARP packet from the start of `b`: `None` when the fixed part or the
    /// addresses it announces are not all there.
    pub fn parse(b: &[u8], offset: usize) -> Option<Arp> {
        if b.len() < FIXED_LEN {
            return None;
        }
        let hlen = be8(b, field::HLEN);
        let plen = be8(b, field::PLEN);
        let (h, p) = (usize::from(hlen), usize::from(plen));
        if b.len() < FIXED_LEN + 2 * h + 2 * p {
            return None;
        }
        let sha_at = field::ADDRS;
        let spa_at = sha_at + h;
        let tha_at = spa_at + p;
        let tpa_at = tha_at + h;
        let mac = |at: usize| {
            if h == 6 {
                b.get(at..at + 6).and_then(MacAddr::from_slice)
            } else {
                None
            }
        };
        let ip = |at: usize| (p == 4).then(|| ipv4_at(b, at));
        let op = be16(b, field::OPER.start);
        let spa = ip(spa_at);
        let tpa = ip(tpa_at);
        let kind = ArpKind::classify(op, spa, tpa);
        Some(Arp {
            offset,
            htype: be16(b, field::HTYPE.start),
            ptype: be16(b, field::PTYPE.start),
            hlen,
            plen,
            op,
            sha: mac(sha_at),
            spa,
            tha: mac(tha_at),
            tpa,
            kind,
        })
    }

    /// An Ethernet/IPv4 ARP packet with operation `op` and the four addresses, at
    /// offset 0; its kind follows from them as [`ArpKind::classify`] says.
    pub fn new(op: u16, sha: MacAddr, spa: Ipv4Addr, tha: MacAddr, tpa: Ipv4Addr) -> Arp {
        Arp {
            offset: 0,
            htype: HTYPE_ETHERNET,
            ptype: EtherType::IPV4.0,
            hlen: 6,
            plen: 4,
            op,
            sha: Some(sha),
            spa: Some(spa),
            tha: Some(tha),
            tpa: Some(tpa),
            kind: ArpKind::classify(op, Some(spa), Some(tpa)),
        }
    }

    /// A request: "who has `tpa`? tell `spa`" (target MAC unknown, so zero).
    pub fn request(sha: MacAddr, spa: Ipv4Addr, tpa: Ipv4Addr) -> Arp {
        Arp::new(OP_REQUEST, sha, spa, MacAddr::ZERO, tpa)
    }

    /// A reply to `tha`/`tpa`: "`spa` is at `sha`".
    pub fn reply(sha: MacAddr, spa: Ipv4Addr, tha: MacAddr, tpa: Ipv4Addr) -> Arp {
        Arp::new(OP_REPLY, sha, spa, tha, tpa)
    }

    /// A gratuitous ARP announcing that `ip` is at `mac` (sender IP = target IP). As a
    /// request (RFC 5227's announcement) the target MAC is zero; as a reply it repeats
    /// the sender's MAC, the address caches should now hold (RFC 5944, 4.6).
    pub fn gratuitous(mac: MacAddr, ip: Ipv4Addr, as_reply: bool) -> Arp {
        if as_reply {
            Arp::new(OP_REPLY, mac, ip, mac, ip)
        } else {
            Arp::new(OP_REQUEST, mac, ip, MacAddr::ZERO, ip)
        }
    }

    /// A probe (RFC 5227): "is `ip` in use?", asked with sender IP 0.0.0.0 by a host that
    /// does not want to claim the address before it knows.
    pub fn probe(mac: MacAddr, ip: Ipv4Addr) -> Arp {
        Arp::new(OP_REQUEST, mac, Ipv4Addr::UNSPECIFIED, MacAddr::ZERO, ip)
    }

    /// Appends the packet's bytes to `out`: the fixed part, then the four addresses with
    /// the sizes `hlen` and `plen` say. An address the struct does not hold (not a
    /// 6-byte MAC or a 4-byte IPv4 address) is written as zeros of its size.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let (h, p) = (usize::from(self.hlen), usize::from(self.plen));
        out.extend_from_slice(&self.htype.to_be_bytes());
        out.extend_from_slice(&self.ptype.to_be_bytes());
        out.push(self.hlen);
        out.push(self.plen);
        out.extend_from_slice(&self.op.to_be_bytes());
        let mac = |m: Option<MacAddr>, out: &mut Vec<u8>| match m {
            Some(m) if h == 6 => out.extend_from_slice(&m.0),
            _ => out.resize(out.len() + h, 0),
        };
        mac(self.sha, out);
        push_ip(out, self.spa, p);
        mac(self.tha, out);
        push_ip(out, self.tpa, p);
    }

    /// Length of this packet on the wire, in bytes.
    pub fn len(&self) -> usize {
        FIXED_LEN + 2 * usize::from(self.hlen) + 2 * usize::from(self.plen)
    }

    /// Always false: an ARP packet has at least its 8-byte fixed part.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// One sentence saying what the packet asks or tells.
    pub fn explain(&self) -> String {
        let mut out = Vec::with_capacity(96);
        self.write_explain(&mut out);
        // Only `&str`s and digits were appended, so this is always valid UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the sentence of [`Arp::explain`] to `out`, without allocating.
    pub fn write_explain(&self, out: &mut Vec<u8>) {
        fn ip(out: &mut Vec<u8>, a: Option<Ipv4Addr>) -> &mut Vec<u8> {
            match a {
                Some(a) => out.ipv4(a),
                None => out.s("?"),
            }
        }
        fn mac(out: &mut Vec<u8>, a: Option<MacAddr>) -> &mut Vec<u8> {
            match a {
                Some(a) => out.mac(a),
                None => out.s("?"),
            }
        }
        match self.kind {
            ArpKind::Request => {
                ip(out.s("Who has "), self.tpa).s("? Tell ");
                ip(out, self.spa);
            }
            ArpKind::Probe => {
                ip(out.s("Probe: is "), self.tpa)
                    .s(" in use? (sender IP 0.0.0.0: the asker has no address yet)");
            }
            ArpKind::Reply => {
                ip(out, self.spa).s(" is at ");
                mac(out, self.sha);
            }
            ArpKind::Gratuitous => {
                ip(out.s("Gratuitous ARP: "), self.spa).s(" announces it is at ");
                mac(out, self.sha).s(" (sender IP = target IP)");
            }
            ArpKind::Other => {
                out.s("ARP operation ").u(self.op.into());
            }
        }
    }

    /// The packet's fields, with their meanings.
    pub fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let (h, p) = (usize::from(self.hlen), usize::from(self.plen));
        let mut v = vec![
            Field::new(
                o + field::HTYPE.start,
                2,
                "Hardware type",
                self.htype.ftext(),
                if self.htype == HTYPE_ETHERNET {
                    "Ethernet"
                } else {
                    "not Ethernet"
                },
            ),
            Field::new(
                o + field::PTYPE.start,
                2,
                "Protocol type",
                ftext!("0x{:04x}", self.ptype),
                EtherType(self.ptype).describe(),
            ),
            Field::new(
                o + field::HLEN,
                1,
                "Hardware size",
                self.hlen.ftext(),
                "bytes in a hardware (MAC) address",
            ),
            Field::new(
                o + field::PLEN,
                1,
                "Protocol size",
                self.plen.ftext(),
                "bytes in a protocol (IPv4) address",
            ),
            Field::new(
                o + field::OPER.start,
                2,
                "Opcode",
                self.op.ftext(),
                match self.op {
                    OP_REQUEST => "request: who has the target IP?",
                    OP_REPLY => "reply: the sender IP is at the sender MAC",
                    3 => "RARP request",
                    4 => "RARP reply",
                    8 => "InARP request",
                    9 => "InARP reply",
                    _ => "unknown operation",
                },
            ),
        ];
        let mut at = o + field::ADDRS;
        let show_mac = |a: Option<MacAddr>| a.map_or_else(|| "(not a MAC)".into(), |m| m.ftext());
        let show_ip = |a: Option<Ipv4Addr>| a.map_or_else(|| "(not IPv4)".into(), |m| m.ftext());
        v.push(Field::new(
            at,
            h,
            "Sender MAC",
            show_mac(self.sha),
            "the MAC address of the host sending this packet",
        ));
        at += h;
        v.push(Field::new(
            at,
            p,
            "Sender IP",
            show_ip(self.spa),
            if self.kind == ArpKind::Probe {
                "0.0.0.0: the sender has no address yet (a probe)"
            } else {
                "the IPv4 address of the sender: a receiver that already has it in its cache updates its MAC, and the target adds it (RFC 826)"
            },
        ));
        at += p;
        v.push(Field::new(
            at,
            h,
            "Target MAC",
            show_mac(self.tha),
            if matches!(self.kind, ArpKind::Request | ArpKind::Probe) {
                "ignored in a request (usually zero): this is what the request asks for"
            } else {
                "the MAC address of the host the packet is for"
            },
        ));
        at += h;
        v.push(Field::new(
            at,
            p,
            "Target IP",
            show_ip(self.tpa),
            match self.kind {
                ArpKind::Gratuitous => "the sender's own address: an announcement",
                ArpKind::Request | ArpKind::Probe => "the address whose MAC is wanted",
                _ => "the IPv4 address of the host the packet is for",
            },
        ));
        v
    }
}

/// Appends an IPv4 address of `p` bytes (zeros unless it is a 4-byte address we hold).
fn push_ip(out: &mut Vec<u8>, a: Option<Ipv4Addr>, p: usize) {
    match a {
        Some(a) if p == 4 => out.extend_from_slice(&a.octets()),
        _ => out.resize(out.len() + p, 0),
    }
}

impl super::Layer for Arp {
    fn name(&self) -> &'static str {
        "ARP"
    }

    fn explain(&self, around: &super::Around, out: &mut Vec<u8>) -> bool {
        self.write_explain(out);
        if around.link_broadcast {
            out.extend_from_slice(b" (broadcast: every host on the LAN hears it)");
        }
        true
    }

    fn key(&self) -> &'static str {
        "arp"
    }

    fn mark(&self) -> char {
        'A'
    }

    fn hue(&self) -> super::Hue {
        super::Hue::Magenta
    }

    fn model(&self) -> super::Model {
        super::Model::LinkNetwork
    }

    fn span(&self) -> super::Span {
        super::Span {
            offset: self.offset,
            len: self.len(),
        }
    }

    fn fields(&self) -> Vec<Field> {
        Arp::fields(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: [u8; 28] = [
        0x00, 0x01, // hardware type: Ethernet
        0x08, 0x00, // protocol type: IPv4
        0x06, // hardware size
        0x04, // protocol size
        0x00, 0x01, // opcode: request
        0x02, 0x77, 0x00, 0x00, 0x00, 0x01, // sender MAC
        0x0a, 0x4d, 0x00, 0x01, // sender IP 10.77.0.1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // target MAC: unknown
        0x0a, 0x4d, 0x00, 0x02, // target IP 10.77.0.2
    ];

    #[test]
    fn parses_request() {
        let a = Arp::parse(&REQUEST, 14).expect("28 bytes parse");
        assert_eq!(a.kind, ArpKind::Request);
        assert_eq!(a.spa, Some(Ipv4Addr::new(10, 77, 0, 1)));
        assert_eq!(a.explain(), "Who has 10.77.0.2? Tell 10.77.0.1");
        let f = a.fields();
        assert_eq!(f.last().map(|f| f.offset), Some(14 + 24));
        assert_eq!(a.len(), 28);
    }

    #[test]
    fn gratuitous_and_probe() {
        let mut g = REQUEST;
        g[24..28].copy_from_slice(&[10, 77, 0, 1]);
        assert_eq!(Arp::parse(&g, 0).map(|a| a.kind), Some(ArpKind::Gratuitous));
        let mut p = REQUEST;
        p[14..18].copy_from_slice(&[0, 0, 0, 0]);
        assert_eq!(Arp::parse(&p, 0).map(|a| a.kind), Some(ArpKind::Probe));
    }

    #[test]
    fn every_prefix_is_rejected_without_panic() {
        for n in 0..REQUEST.len() {
            assert!(Arp::parse(&REQUEST[..n], 0).is_none(), "prefix {n}");
        }
    }

    #[test]
    fn emit_gives_back_the_fixture() {
        let a = Arp::parse(&REQUEST, 0).expect("28 bytes parse");
        let mut out = Vec::new();
        a.emit(&mut out);
        assert_eq!(out, REQUEST);
    }

    #[test]
    fn builders_round_trip_through_parse() {
        let me = MacAddr([0x02, 0x77, 0, 0, 0, 1]);
        let peer = MacAddr([0x02, 0x77, 0, 0, 0, 2]);
        let (a, b) = (Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2));
        let cases = [
            (Arp::request(me, a, b), ArpKind::Request),
            (Arp::reply(peer, b, me, a), ArpKind::Reply),
            (Arp::gratuitous(me, a, false), ArpKind::Gratuitous),
            (Arp::gratuitous(me, a, true), ArpKind::Gratuitous),
            (Arp::probe(me, b), ArpKind::Probe),
        ];
        for (mut built, kind) in cases {
            assert_eq!(built.kind, kind);
            built.offset = 14;
            let mut out = Vec::new();
            built.emit(&mut out);
            assert_eq!(out.len(), ETH_IPV4_LEN);
            assert_eq!(Arp::parse(&out, 14), Some(built));
        }
        let mut out = Vec::new();
        Arp::request(me, a, b).emit(&mut out);
        assert_eq!(
            out, REQUEST,
            "the builder makes the captured request byte for byte"
        );
    }

    #[test]
    fn odd_sizes_emit_zeros_of_the_announced_size() {
        let mut odd = REQUEST.to_vec();
        odd[4] = 2; // 2-byte hardware addresses
        odd[5] = 3; // 3-byte protocol addresses
        odd.truncate(8 + 2 * 2 + 2 * 3);
        let a = Arp::parse(&odd, 0).expect("sizes fit");
        let mut out = Vec::new();
        a.emit(&mut out);
        assert_eq!(out.len(), odd.len());
        assert_eq!(out[..8], odd[..8]);
        assert!(out[8..].iter().all(|&b| b == 0));
    }

    #[test]
    fn odd_sizes_do_not_panic() {
        let mut odd = REQUEST.to_vec();
        odd[4] = 0xff;
        odd[5] = 0xff;
        assert!(Arp::parse(&odd, 0).is_none());
        odd.resize(8 + 4 * 255, 0);
        let a = Arp::parse(&odd, 0).expect("long enough");
        assert_eq!((a.sha, a.spa), (None, None));
        assert_eq!(a.fields().len(), 9);
    }

    #[test]
    fn a_requests_target_mac_is_ignored_even_when_not_zero() {
        let mut a = Arp::request(
            MacAddr([2, 0, 0, 0, 0, 1]),
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
        );
        a.tha = Some(MacAddr::BROADCAST);
        let f = a.fields();
        let t = f.iter().find(|f| f.name == "Target MAC");
        assert!(t.is_some_and(|f| f.meaning.starts_with("ignored in a request")));
    }
}
