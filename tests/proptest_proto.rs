//! Property tests of the protocol parsers.
//!
//! 1. Round trip: arbitrary field values are encoded into header bytes by a small encoder
//!    written here from the RFCs (not from our parsers), parsed back with
//!    `Ethernet::parse`, `Vlan::parse`, `Arp::parse`, `Ipv4::parse`, `Tcp::parse`,
//!    `Udp::parse` and `Icmp::parse`, and every field of the result is compared with
//!    what was encoded (the whole struct, so a field added later cannot be forgotten).
//! 2. Truncation: every proper prefix of a valid packet, fed to `dissect`, yields a note
//!    that says what was cut short, and never a panic.

use std::net::Ipv4Addr;

use proptest::collection::vec;
use proptest::prelude::*;

use wirelens::capture::{Frame, LinkType, Timestamp};
use wirelens::dissect::{Dissection, dissect};
use wirelens::proto::MacAddr;
use wirelens::proto::arp::{Arp, ArpKind};
use wirelens::proto::checksum::PseudoHeader;
use wirelens::proto::ethernet::Ethernet;
use wirelens::proto::icmp::Icmp;
use wirelens::proto::ipv4::{Ipv4, Ipv4Option};
use wirelens::proto::tcp::{PlacedOption, Tcp, TcpFlags, TcpOption, TcpOptions};
use wirelens::proto::udp::Udp;
use wirelens::proto::vlan::Vlan;

// ---------------------------------------------------------------------------------------
// The encoder: RFC layouts, big-endian ("network byte order") throughout.

/// The Internet checksum (RFC 1071): the one's complement of the one's complement sum of
/// 16-bit words, an odd last byte padded with zero.
fn internet_checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    let mut odd: Option<u8> = None;
    for chunk in chunks {
        for &b in *chunk {
            match odd.take() {
                Some(hi) => sum += u64::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u64::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The pseudo-header TCP and UDP checksums cover (RFC 793 §3.1, RFC 768).
fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: u16) -> Vec<u8> {
    let mut p = Vec::with_capacity(12);
    p.extend(src.octets());
    p.extend(dst.octets());
    p.extend([0, proto]);
    p.extend(len.to_be_bytes());
    p
}

/// Pads options with zero bytes (an End of Options List, then zeros) to a multiple of 4.
fn pad_to_words(options: &mut Vec<u8>) {
    while !options.len().is_multiple_of(4) {
        options.push(0);
    }
}

/// Ethernet II (IEEE 802.3 clause 3): destination, source, EtherType.
fn encode_ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(14);
    b.extend(dst);
    b.extend(src);
    b.extend(ethertype.to_be_bytes());
    b
}

/// An 802.1Q tag after its TPID: PCP (3 bits), DEI (1), VID (12), then the EtherType.
fn encode_vlan(pcp: u8, dei: bool, id: u16, ethertype: u16) -> Vec<u8> {
    let tci = (u16::from(pcp) << 13) | (u16::from(dei) << 12) | id;
    let mut b = tci.to_be_bytes().to_vec();
    b.extend(ethertype.to_be_bytes());
    b
}

/// What an ARP packet holds (RFC 826).
#[derive(Clone, Debug)]
struct ArpSpec {
    htype: u16,
    ptype: u16,
    op: u16,
    sha: Vec<u8>,
    spa: Vec<u8>,
    tha: Vec<u8>,
    tpa: Vec<u8>,
}

fn encode_arp(a: &ArpSpec) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(a.htype.to_be_bytes());
    b.extend(a.ptype.to_be_bytes());
    b.push(a.sha.len() as u8); // hardware address length, in bytes
    b.push(a.spa.len() as u8); // protocol address length, in bytes
    b.extend(a.op.to_be_bytes());
    b.extend(&a.sha);
    b.extend(&a.spa);
    b.extend(&a.tha);
    b.extend(&a.tpa);
    b
}

/// What an IPv4 header holds (RFC 791); `options` are raw option bytes, padded here.
#[derive(Clone, Debug)]
struct Ipv4Spec {
    version: u8,
    dscp: u8,
    ecn: u8,
    total_len: u16,
    id: u16,
    reserved_flag: bool,
    df: bool,
    mf: bool,
    /// Fragment offset in 8-byte units, as on the wire.
    frag_units: u16,
    ttl: u8,
    proto: u8,
    options: Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    /// Store a wrong checksum (the right one plus this, when not 0).
    checksum_error: u16,
}

/// Encodes the header with its checksum; returns the bytes and the checksum stored.
fn encode_ipv4(ip: &Ipv4Spec) -> (Vec<u8>, u16) {
    let mut options = ip.options.clone();
    pad_to_words(&mut options);
    let ihl_words = (20 + options.len()) / 4;
    let mut b = Vec::with_capacity(60);
    b.push((ip.version << 4) | ihl_words as u8);
    b.push((ip.dscp << 2) | ip.ecn);
    b.extend(ip.total_len.to_be_bytes());
    b.extend(ip.id.to_be_bytes());
    let flags = (u16::from(ip.reserved_flag) << 15)
        | (u16::from(ip.df) << 14)
        | (u16::from(ip.mf) << 13)
        | ip.frag_units;
    b.extend(flags.to_be_bytes());
    b.push(ip.ttl);
    b.push(ip.proto);
    b.extend([0, 0]); // checksum, computed below over the header with this field zero
    b.extend(ip.src.octets());
    b.extend(ip.dst.octets());
    b.extend(&options);
    let checksum = internet_checksum(&[&b]).wrapping_add(ip.checksum_error);
    b[10..12].copy_from_slice(&checksum.to_be_bytes());
    (b, checksum)
}

/// What a TCP segment holds (RFC 9293).
#[derive(Clone, Debug)]
struct TcpSpec {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    /// The three reserved bits between the data offset and AE; not flags.
    reserved: u8,
    /// The nine flag bits, AE to FIN.
    flags: u16,
    window: u16,
    urgent: u16,
    options: Vec<TcpOption>,
    payload: Vec<u8>,
}

/// TCP option bytes (RFC 9293 §3.2, RFC 7323, RFC 2018); `Eol` and `Nop` are one byte.
fn encode_tcp_option(o: &TcpOption) -> Vec<u8> {
    match o {
        TcpOption::Eol => vec![0],
        TcpOption::Nop => vec![1],
        TcpOption::Mss { value } => [vec![2, 4], value.to_be_bytes().to_vec()].concat(),
        TcpOption::WindowScale { shift } => vec![3, 3, *shift],
        TcpOption::SackPermitted => vec![4, 2],
        TcpOption::Sack { blocks } => {
            let mut b = vec![5, (2 + 8 * blocks.len()) as u8];
            for (l, r) in blocks {
                b.extend(l.to_be_bytes());
                b.extend(r.to_be_bytes());
            }
            b
        }
        TcpOption::Timestamps { tsval, tsecr } => [
            vec![8, 10],
            tsval.to_be_bytes().to_vec(),
            tsecr.to_be_bytes().to_vec(),
        ]
        .concat(),
        TcpOption::Unknown { number, len } => {
            let mut b = vec![*number, *len];
            b.resize(usize::from(*len), 0xa5);
            b
        }
    }
}

/// Encodes a segment with a correct checksum for `src` → `dst`; returns the bytes, the
/// header length and the checksum stored.
fn encode_tcp(t: &TcpSpec, src: Ipv4Addr, dst: Ipv4Addr) -> (Vec<u8>, usize, u16) {
    let mut options: Vec<u8> = t.options.iter().flat_map(encode_tcp_option).collect();
    pad_to_words(&mut options);
    let header_len = 20 + options.len();
    let mut b = Vec::with_capacity(header_len + t.payload.len());
    b.extend(t.src_port.to_be_bytes());
    b.extend(t.dst_port.to_be_bytes());
    b.extend(t.seq.to_be_bytes());
    b.extend(t.ack.to_be_bytes());
    // Data offset (4 bits, in 32-bit words), reserved (3 bits), AE, then CWR … FIN.
    let word = ((header_len as u16 / 4) << 12) | (u16::from(t.reserved) << 9) | t.flags;
    b.extend(word.to_be_bytes());
    b.extend(t.window.to_be_bytes());
    b.extend([0, 0]); // checksum
    b.extend(t.urgent.to_be_bytes());
    b.extend(&options);
    b.extend(&t.payload);
    let pseudo = pseudo_header(src, dst, 6, b.len() as u16);
    let checksum = internet_checksum(&[&pseudo, &b]);
    b[16..18].copy_from_slice(&checksum.to_be_bytes());
    (b, header_len, checksum)
}

/// Encodes a UDP datagram (RFC 768) with its checksum; a computed 0 is sent as 0xffff,
/// and `no_checksum` sends 0 ("not computed"). Returns the bytes and the checksum stored.
fn encode_udp(
    src_port: u16,
    dst_port: u16,
    payload: &[u8],
    no_checksum: bool,
    src: Ipv4Addr,
    dst: Ipv4Addr,
) -> (Vec<u8>, u16) {
    let length = (8 + payload.len()) as u16;
    let mut b = Vec::with_capacity(usize::from(length));
    b.extend(src_port.to_be_bytes());
    b.extend(dst_port.to_be_bytes());
    b.extend(length.to_be_bytes());
    b.extend([0, 0]);
    b.extend(payload);
    let checksum = if no_checksum {
        0
    } else {
        match internet_checksum(&[&pseudo_header(src, dst, 17, length), &b]) {
            0 => 0xffff,
            c => c,
        }
    };
    b[6..8].copy_from_slice(&checksum.to_be_bytes());
    (b, checksum)
}

/// Encodes an ICMP message (RFC 792): type, code, checksum, the 4-byte rest of header
/// (identifier and sequence number for echo and timestamp messages), then data.
fn encode_icmp(icmp_type: u8, code: u8, rest: [u8; 4], data: &[u8]) -> (Vec<u8>, u16) {
    let mut b = vec![icmp_type, code, 0, 0];
    b.extend(rest);
    b.extend(data);
    let checksum = internet_checksum(&[&b]);
    b[2..4].copy_from_slice(&checksum.to_be_bytes());
    (b, checksum)
}

// ---------------------------------------------------------------------------------------
// Strategies.

fn mac() -> impl Strategy<Value = [u8; 6]> {
    any::<[u8; 6]>()
}

fn ipv4_addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

/// Well-formed IPv4 options: NOPs and options of any other type with a length of 2 or
/// more, fitting the 40 bytes an IHL of 15 leaves.
fn ipv4_options() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    let option = prop_oneof![Just((1u8, Vec::new())), (2u8..=255, vec(any::<u8>(), 0..8)),];
    vec(option, 0..8).prop_map(|opts| {
        let mut used = 0;
        opts.into_iter()
            .take_while(|(kind, body)| {
                used += if *kind == 1 { 1 } else { 2 + body.len() };
                used <= 39 // room for the padding's End of Options List
            })
            .collect()
    })
}

fn ipv4_spec(options: Vec<(u8, Vec<u8>)>) -> impl Strategy<Value = Ipv4Spec> {
    let raw: Vec<u8> = options
        .iter()
        .flat_map(|(kind, body)| {
            if *kind == 1 {
                vec![1]
            } else {
                [vec![*kind, (2 + body.len()) as u8], body.clone()].concat()
            }
        })
        .collect();
    (
        (0u8..16, 0u8..64, 0u8..4, any::<u16>(), any::<u16>()),
        (any::<bool>(), any::<bool>(), any::<bool>(), 0u16..8192),
        (any::<u8>(), any::<u8>(), ipv4_addr(), ipv4_addr()),
        prop_oneof![3 => Just(0u16), 1 => 1u16..],
    )
        .prop_map(
            move |(
                (version, dscp, ecn, total_len, id),
                (reserved_flag, df, mf, frag_units),
                (ttl, proto, src, dst),
                checksum_error,
            )| Ipv4Spec {
                version,
                dscp,
                ecn,
                total_len,
                id,
                reserved_flag,
                df,
                mf,
                frag_units,
                ttl,
                proto,
                options: raw.clone(),
                src,
                dst,
                checksum_error,
            },
        )
}

/// The names `Ipv4::parse` gives option types (RFC 791 and the IANA registry).
fn ipv4_option_name(kind: u8) -> &'static str {
    match kind {
        0 => "End of Options List",
        1 => "No-Operation",
        7 => "Record Route",
        68 => "Timestamp",
        130 => "Security",
        131 => "Loose Source Route",
        136 => "Stream ID",
        137 => "Strict Source Route",
        148 => "Router Alert",
        _ => "unknown option",
    }
}

/// TCP options that fit in the 40 bytes a data offset of 15 leaves (with room for
/// padding). Kinds 0–8 only with their defined lengths; unknown kinds from 9 up.
fn tcp_options() -> impl Strategy<Value = Vec<TcpOption>> {
    let option = prop_oneof![
        Just(TcpOption::Nop),
        any::<u16>().prop_map(|value| TcpOption::Mss { value }),
        any::<u8>().prop_map(|shift| TcpOption::WindowScale { shift }),
        Just(TcpOption::SackPermitted),
        vec(any::<(u32, u32)>(), 1..=4).prop_map(|blocks| TcpOption::Sack { blocks }),
        any::<(u32, u32)>().prop_map(|(tsval, tsecr)| TcpOption::Timestamps { tsval, tsecr }),
        (9u8..=255, 2u8..=12).prop_map(|(number, len)| TcpOption::Unknown { number, len }),
    ];
    vec(option, 0..8).prop_map(|opts| {
        let mut used = 0;
        opts.into_iter()
            .take_while(|o| {
                used += encode_tcp_option(o).len();
                used <= 40
            })
            .collect()
    })
}

fn tcp_spec() -> impl Strategy<Value = TcpSpec> {
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
        (0u8..8, 0u16..0x200, any::<u16>(), any::<u16>()),
        tcp_options(),
        vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(
                (src_port, dst_port, seq, ack),
                (reserved, flags, window, urgent),
                options,
                payload,
            )| {
                TcpSpec {
                    src_port,
                    dst_port,
                    seq,
                    ack,
                    reserved,
                    flags,
                    window,
                    urgent,
                    options,
                    payload,
                }
            },
        )
}

fn arp_spec() -> impl Strategy<Value = ArpSpec> {
    // Mostly Ethernet/IPv4 sizes, sometimes any size (which leaves the addresses unread).
    let sizes = prop_oneof![3 => Just((6usize, 4usize)), 1 => (0usize..12, 0usize..12)];
    let same_ip = any::<bool>();
    (
        sizes,
        any::<u16>(),
        any::<u16>(),
        prop_oneof![Just(1u16), Just(2u16), any::<u16>()],
        same_ip,
        any::<bool>(),
    )
        .prop_flat_map(|((h, p), htype, ptype, op, same_ip, probe)| {
            (
                vec(any::<u8>(), h),
                vec(any::<u8>(), p),
                vec(any::<u8>(), h),
                vec(any::<u8>(), p),
            )
                .prop_map(move |(sha, spa, tha, tpa)| {
                    let spa = if probe { vec![0; spa.len()] } else { spa };
                    let tpa = if same_ip { spa.clone() } else { tpa };
                    ArpSpec {
                        htype,
                        ptype,
                        op,
                        sha,
                        spa,
                        tha,
                        tpa,
                    }
                })
        })
}

// ---------------------------------------------------------------------------------------
// Round trips.

proptest! {
    #[test]
    fn ethernet_round_trips(dst in mac(), src in mac(), ethertype in any::<u16>(),
                            tail in vec(any::<u8>(), 0..16)) {
        let mut b = encode_ethernet(dst, src, ethertype);
        b.extend(&tail);
        let want = Ethernet { offset: 0, src: MacAddr(src), dst: MacAddr(dst), ethertype };
        prop_assert_eq!(Ethernet::parse(&b), Some(want));
    }

    #[test]
    fn vlan_round_trips(pcp in 0u8..8, dei in any::<bool>(), id in 0u16..4096,
                        ethertype in any::<u16>(), tpid in any::<u16>(), offset in 0usize..64) {
        let b = encode_vlan(pcp, dei, id, ethertype);
        let want = Vlan { offset, tpid, id, pcp, dei, ethertype };
        prop_assert_eq!(Vlan::parse(&b, offset, tpid), Some(want));
    }

    #[test]
    fn arp_round_trips(a in arp_spec(), offset in 0usize..64) {
        let b = encode_arp(&a);
        let (h, p) = (a.sha.len(), a.spa.len());
        let mac = |v: &[u8]| (h == 6).then(|| MacAddr(v.try_into().unwrap_or_default()));
        let ip = |v: &[u8]| {
            (p == 4).then(|| Ipv4Addr::from(<[u8; 4]>::try_from(v).unwrap_or_default()))
        };
        let (spa, tpa) = (ip(&a.spa), ip(&a.tpa));
        // RFC 5227 and RFC 826 terms, as the README defines the `kind` key.
        let kind = match a.op {
            1 | 2 if spa.is_some() && spa == tpa => ArpKind::Gratuitous,
            1 if spa == Some(Ipv4Addr::UNSPECIFIED) => ArpKind::Probe,
            1 => ArpKind::Request,
            2 => ArpKind::Reply,
            _ => ArpKind::Other,
        };
        let want = Arp {
            offset,
            htype: a.htype,
            ptype: a.ptype,
            hlen: h as u8,
            plen: p as u8,
            op: a.op,
            sha: mac(&a.sha),
            spa,
            tha: mac(&a.tha),
            tpa,
            kind,
        };
        let got = Arp::parse(&b, offset);
        prop_assert_eq!(got.as_ref().map(Arp::len), Some(b.len()));
        prop_assert_eq!(got, Some(want));
    }

    #[test]
    fn ipv4_round_trips(ip in ipv4_options().prop_flat_map(ipv4_spec), offset in 0usize..64) {
        let (b, checksum) = encode_ipv4(&ip);
        let mut options = Vec::new();
        let mut at = 20;
        while let Some(&kind) = b.get(at) {
            let len = if kind <= 1 { 1 } else { b[at + 1] };
            options.push(Ipv4Option { kind, name: ipv4_option_name(kind), len, offset: offset + at });
            if kind == 0 {
                break;
            }
            at += usize::from(len);
        }
        let want = Ipv4 {
            offset,
            version: ip.version,
            ihl: b.len() as u8,
            dscp: ip.dscp,
            ecn: ip.ecn,
            total_len: ip.total_len,
            id: ip.id,
            reserved_flag: ip.reserved_flag,
            df: ip.df,
            mf: ip.mf,
            frag_offset: ip.frag_units * 8,
            ttl: ip.ttl,
            proto: ip.proto,
            checksum,
            checksum_ok: Some(ip.checksum_error == 0),
            src: ip.src,
            dst: ip.dst,
            options,
        };
        prop_assert_eq!(Ipv4::parse(&b, offset), Some(want));
    }

    #[test]
    fn tcp_round_trips(t in tcp_spec(), src in ipv4_addr(), dst in ipv4_addr(),
                       offset in 0usize..64) {
        let (b, header_len, checksum) = encode_tcp(&t, src, dst);
        let mut options = t.options.clone();
        let mut placed = Vec::new();
        let mut at = offset + 20;
        for o in &options {
            let len = encode_tcp_option(o).len();
            placed.push(PlacedOption { offset: at, len, option: o.clone() });
            at += len;
        }
        if at < offset + header_len {
            // The padding starts with an End of Options List, where parsing stops.
            options.push(TcpOption::Eol);
            placed.push(PlacedOption { offset: at, len: 1, option: TcpOption::Eol });
        }
        let want = Tcp {
            offset,
            src_port: t.src_port,
            dst_port: t.dst_port,
            seq: t.seq,
            ack: t.ack,
            flags: TcpFlags(t.flags),
            window: t.window,
            header_len: header_len as u8,
            payload_len: t.payload.len() as u32,
            checksum,
            checksum_ok: Some(true),
            urgent: t.urgent,
            options: TcpOptions::from_bytes(&b[20..header_len]),
        };
        let got = Tcp::parse(&b, offset, &PseudoHeader::V4 { src, dst }, b.len());
        prop_assert_eq!(got.as_ref().map(|g| g.options.to_vec()), Some(options));
        prop_assert_eq!(got.as_ref().map(|g| g.placed_options().collect::<Vec<_>>()), Some(placed));
        prop_assert_eq!(got, Some(want));
    }

    #[test]
    fn udp_round_trips(src_port in any::<u16>(), dst_port in any::<u16>(),
                       payload in vec(any::<u8>(), 0..64), no_checksum in any::<bool>(),
                       src in ipv4_addr(), dst in ipv4_addr(), offset in 0usize..64) {
        let (b, checksum) = encode_udp(src_port, dst_port, &payload, no_checksum, src, dst);
        let want = Udp {
            offset,
            src_port,
            dst_port,
            length: b.len() as u16,
            checksum,
            checksum_ok: (!no_checksum).then_some(true),
        };
        prop_assert_eq!(Udp::parse(&b, offset, &PseudoHeader::V4 { src, dst }), Some(want));
    }

    #[test]
    fn icmp_round_trips(icmp_type in prop_oneof![Just(0u8), Just(3), Just(8), Just(11),
                                                 Just(13), Just(14), any::<u8>()],
                        code in any::<u8>(), id in any::<u16>(), seq in any::<u16>(),
                        data in vec(any::<u8>(), 0..64), offset in 0usize..64) {
        let mut rest = [0u8; 4];
        rest[..2].copy_from_slice(&id.to_be_bytes());
        rest[2..].copy_from_slice(&seq.to_be_bytes());
        let (b, checksum) = encode_icmp(icmp_type, code, rest, &data);
        // Echo (0, 8) and timestamp (13, 14) messages carry an identifier and a sequence
        // number in the rest of the header.
        let echo_like = matches!(icmp_type, 0 | 8 | 13 | 14);
        let want = Icmp {
            offset,
            icmp_type,
            code,
            checksum,
            checksum_ok: Some(true),
            id: echo_like.then_some(id),
            seq: echo_like.then_some(seq),
            rest,
            quoted: None,
        };
        prop_assert_eq!(Icmp::parse(&b, offset, b.len()), Some(want));
    }
}

// ---------------------------------------------------------------------------------------
// Every prefix of a valid packet.

/// What rides in the frame.
#[derive(Clone, Debug)]
enum Payload {
    Arp(ArpSpec),
    Tcp(TcpSpec),
    Udp(u16, u16, Vec<u8>),
    Icmp(u8, u8, [u8; 4], Vec<u8>),
}

/// A valid Ethernet frame: maybe a VLAN tag, then ARP (Ethernet/IPv4 sizes) or IPv4
/// without fragmentation carrying TCP, UDP or ICMP, with correct lengths and checksums.
fn valid_frame() -> impl Strategy<Value = Vec<u8>> {
    let eth_ipv4_arp = arp_spec().prop_filter("Ethernet/IPv4 sizes", |a| {
        a.sha.len() == 6 && a.spa.len() == 4
    });
    let payload = prop_oneof![
        eth_ipv4_arp.prop_map(Payload::Arp),
        tcp_spec().prop_map(Payload::Tcp),
        (any::<u16>(), any::<u16>(), vec(any::<u8>(), 0..32))
            .prop_map(|(s, d, p)| Payload::Udp(s, d, p)),
        (
            prop_oneof![Just(0u8), Just(8)],
            any::<u8>(),
            any::<[u8; 4]>(),
            vec(any::<u8>(), 0..32)
        )
            .prop_map(|(t, c, r, d)| Payload::Icmp(t, c, r, d)),
    ];
    (
        mac(),
        mac(),
        proptest::option::of((0u8..8, any::<bool>(), 0u16..4096)),
        payload,
        ipv4_options(),
        (ipv4_addr(), ipv4_addr(), any::<u16>(), 1u8..=255),
    )
        .prop_map(
            |(dst, src, tag, payload, options, (ip_src, ip_dst, id, ttl))| {
                let (ethertype, body) = match payload {
                    Payload::Arp(a) => (0x0806, encode_arp(&a)),
                    Payload::Tcp(t) => {
                        let (seg, _, _) = encode_tcp(&t, ip_src, ip_dst);
                        (
                            0x0800,
                            ipv4_packet(6, seg, &options, ip_src, ip_dst, id, ttl),
                        )
                    }
                    Payload::Udp(s, d, p) => {
                        let (dg, _) = encode_udp(s, d, &p, false, ip_src, ip_dst);
                        (
                            0x0800,
                            ipv4_packet(17, dg, &options, ip_src, ip_dst, id, ttl),
                        )
                    }
                    Payload::Icmp(t, c, r, data) => {
                        let (msg, _) = encode_icmp(t, c, r, &data);
                        (
                            0x0800,
                            ipv4_packet(1, msg, &options, ip_src, ip_dst, id, ttl),
                        )
                    }
                };
                let mut frame = match tag {
                    Some((pcp, dei, vid)) => {
                        let mut f = encode_ethernet(dst, src, 0x8100);
                        f.extend(encode_vlan(pcp, dei, vid, ethertype));
                        f
                    }
                    None => encode_ethernet(dst, src, ethertype),
                };
                frame.extend(body);
                frame
            },
        )
}

/// An unfragmented IPv4 datagram carrying `payload`.
fn ipv4_packet(
    proto: u8,
    payload: Vec<u8>,
    options: &[(u8, Vec<u8>)],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    ttl: u8,
) -> Vec<u8> {
    let raw: Vec<u8> = options
        .iter()
        .flat_map(|(kind, body)| {
            if *kind == 1 {
                vec![1]
            } else {
                [vec![*kind, (2 + body.len()) as u8], body.clone()].concat()
            }
        })
        .collect();
    let mut padded = raw.clone();
    pad_to_words(&mut padded);
    let spec = Ipv4Spec {
        version: 4,
        dscp: 0,
        ecn: 0,
        total_len: (20 + padded.len() + payload.len()) as u16,
        id,
        reserved_flag: false,
        df: true,
        mf: false,
        frag_units: 0,
        ttl,
        proto,
        options: raw,
        src,
        dst,
        checksum_error: 0,
    };
    let (mut b, _) = encode_ipv4(&spec);
    b.extend(payload);
    b
}

fn dissect_bytes(bytes: &[u8], wire_len: usize) -> Dissection {
    let frame = Frame {
        ts: Timestamp::default(),
        caplen: bytes.len() as u32,
        len: wire_len as u32,
        link: LinkType::ETHERNET,
        interface: None,
        bytes,
    };
    dissect(1, &frame)
}

/// True when a note says that something ran out: which length, from where.
fn is_truncation_note(note: &str) -> bool {
    note.contains("is cut short") // a header: "needs N bytes from offset O but only M …"
        || note.contains("were captured from offset") // the IPv4 total length
        || (note.starts_with("The frame is only") && note.contains("an Ethernet header needs"))
}

proptest! {
    #[test]
    fn the_whole_valid_frame_dissects_without_notes(frame in valid_frame()) {
        let d = dissect_bytes(&frame, frame.len());
        prop_assert!(d.notes.is_empty(), "{:?}", d.notes);
        prop_assert!(d.eth.is_some());
        prop_assert!(d.arp.is_some() || d.tcp.is_some() || d.udp.is_some() || d.icmp.is_some());
    }

    #[test]
    fn every_prefix_of_a_valid_frame_gives_a_truncation_note(frame in valid_frame()) {
        for n in 0..frame.len() {
            let d = dissect_bytes(&frame[..n], frame.len());
            prop_assert!(
                d.notes.iter().any(|note| is_truncation_note(note)),
                "prefix of {} of {} bytes: no note says what was cut short: {:?}",
                n,
                frame.len(),
                d.notes
            );
            // Nothing decoded may claim a byte that was not captured.
            prop_assert!(d.payload.is_none_or(|p| p.span.offset + p.span.len <= n), "{:?}", d.payload);
            prop_assert!(serde_json::to_string(&d).is_ok());
        }
    }
}
