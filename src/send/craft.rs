//! Building the frames the sender sends, with the builders of [`crate::proto`] — the same
//! code that parses captured packets. Nothing here does I/O: every function returns whole
//! Ethernet frames, which the sender shows, writes to a pcap and sends.
//!
//! An IPv4 datagram leaves through a raw IPv4 socket, which takes the datagram without
//! its Ethernet header; the header is still built here so that the packet can be shown
//! and saved as a captured one would be.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::SendError;
use crate::proto::MacAddr;
use crate::proto::arp::Arp;
use crate::proto::checksum::PseudoHeader;
use crate::proto::ethernet::{self, EtherType, Ethernet};
use crate::proto::icmpv6::{self, NeighbourMessage};
use crate::proto::ipv4::{self, IpProto, Ipv4};
use crate::proto::ipv6::{self, Ipv6};
use crate::proto::tcp::Tcp;
use crate::proto::udp::{self, Udp};

/// The Ethernet and IPv4 ends of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ends {
    /// Source MAC: the sending interface's.
    pub src_mac: MacAddr,
    /// Destination MAC: broadcast, the next hop's if known, or zero (the kernel fills
    /// it in after ARP).
    pub dst_mac: MacAddr,
    /// Source IPv4 address.
    pub src: Ipv4Addr,
    /// Destination IPv4 address.
    pub dst: Ipv4Addr,
    /// IPv4 identification; must not be 0, or the kernel picks its own for each packet
    /// (and fragments of one datagram would no longer share it).
    pub id: u16,
    /// Time to live.
    pub ttl: u8,
}

/// The Ethernet and IPv6 ends of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ends6 {
    /// Source MAC: the sending interface's.
    pub src_mac: MacAddr,
    /// Destination MAC: 33:33:… for a multicast group, the neighbour's if known, or
    /// zero (the kernel fills it in after neighbour discovery).
    pub dst_mac: MacAddr,
    /// Source IPv6 address.
    pub src: Ipv6Addr,
    /// Destination IPv6 address.
    pub dst: Ipv6Addr,
    /// Hop limit.
    pub hop_limit: u8,
}

impl Ends6 {
    /// The pseudo-header a transport checksum between these ends covers.
    pub fn pseudo_header(&self) -> PseudoHeader {
        PseudoHeader::V6 {
            src: self.src,
            dst: self.dst,
        }
    }
}

/// An Ethernet frame holding one IPv6 packet between `ends` that carries `data`, whose
/// protocol is `next_header`. `None` when `data` is longer than the 65,535 bytes the
/// payload-length field can say.
fn ipv6_frame(ends: &Ends6, next_header: u8, data: &[u8]) -> Option<Vec<u8>> {
    let mut ip = Ipv6::new(ends.src, ends.dst, next_header, data.len())?;
    ip.hop_limit = ends.hop_limit;
    let mut out = Vec::with_capacity(ethernet::HEADER_LEN + ipv6::HEADER_LEN + data.len());
    Ethernet::new(ends.src_mac, ends.dst_mac, EtherType::IPV6).emit(&mut out);
    ip.emit(&mut out);
    out.extend_from_slice(data);
    Some(out)
}

/// The frame of a neighbour discovery message `msg` between `ends` (whose hop limit
/// must be 255, [`NeighbourMessage::HOP_LIMIT`]), checksum computed.
pub fn ndp_frame(ends: &Ends6, msg: &NeighbourMessage) -> Vec<u8> {
    let mut data = Vec::with_capacity(msg.len());
    msg.emit(&ends.pseudo_header(), &mut data);
    // A neighbour message is at most 32 bytes: it always fits.
    ipv6_frame(ends, icmpv6::NEXT_HEADER, &data).unwrap_or_default()
}

/// The largest UDP payload one IPv6 packet can carry without a jumbogram, in bytes:
/// 65,535 − 8 (the IPv6 header is not counted in its payload length).
pub const MAX_UDP6_PAYLOAD: usize = u16::MAX as usize - udp::HEADER_LEN;

/// The frame of one UDP datagram over IPv6 from `sport` to `dport` carrying `payload`,
/// its checksum computed over the IPv6 pseudo-header (mandatory in IPv6). Refused when
/// the packet is bigger than `mtu` on interface `iface`: IPv6 routers never fragment,
/// and this sender does not cut IPv6 packets into fragments either.
pub fn udp6_frame(
    iface: &str,
    ends: &Ends6,
    sport: u16,
    dport: u16,
    payload: &[u8],
    mtu: usize,
) -> Result<Vec<u8>, SendError> {
    let too_long = || SendError::PayloadTooLong {
        len: payload.len(),
        max: MAX_UDP6_PAYLOAD,
    };
    let mut u = Udp::new(sport, dport, payload.len()).ok_or_else(too_long)?;
    u.fill_checksum_for(&ends.pseudo_header(), payload);
    let total = ipv6::HEADER_LEN + udp::HEADER_LEN + payload.len();
    if total > mtu {
        return Err(SendError::TooBigV6 {
            iface: iface.to_string(),
            len: total,
            mtu,
            max_payload: mtu.saturating_sub(ipv6::HEADER_LEN + udp::HEADER_LEN),
        });
    }
    let mut data = Vec::with_capacity(udp::HEADER_LEN + payload.len());
    u.emit(&mut data);
    data.extend_from_slice(payload);
    ipv6_frame(ends, ipv6::next_header::UDP, &data).ok_or_else(too_long)
}

/// An Ethernet frame carrying `arp` from `src` to `dst`.
pub fn arp_frame(src: MacAddr, dst: MacAddr, arp: &Arp) -> Vec<u8> {
    let mut out = Vec::with_capacity(ethernet::HEADER_LEN + arp.len());
    Ethernet::new(src, dst, EtherType::ARP).emit(&mut out);
    arp.emit(&mut out);
    out
}

/// The largest UDP payload one IPv4 datagram can carry, in bytes: 65,535 − 20 − 8.
pub const MAX_UDP_PAYLOAD: usize = u16::MAX as usize - ipv4::MIN_HEADER_LEN - udp::HEADER_LEN;

/// The frames of one UDP datagram from `sport` to `dport` carrying `payload`, on an
/// interface `iface` whose MTU is `mtu` bytes. A datagram bigger than the MTU is cut
/// into fragments when `fragment` is true — every fragment but the last carries a
/// multiple of 8 bytes, as the fragment offset counts in 8-byte units — and refused
/// otherwise.
pub fn udp_frames(
    iface: &str,
    ends: &Ends,
    sport: u16,
    dport: u16,
    payload: &[u8],
    mtu: usize,
    fragment: bool,
) -> Result<Vec<Vec<u8>>, SendError> {
    let too_long = || SendError::PayloadTooLong {
        len: payload.len(),
        max: MAX_UDP_PAYLOAD,
    };
    let mut u = Udp::new(sport, dport, payload.len()).ok_or_else(too_long)?;
    u.fill_checksum(ends.src, ends.dst, payload);
    // The datagram's IP payload: the UDP header and the data.
    let mut whole = Vec::with_capacity(udp::HEADER_LEN + payload.len());
    u.emit(&mut whole);
    whole.extend_from_slice(payload);
    let total = ipv4::MIN_HEADER_LEN + whole.len();
    if total > usize::from(u16::MAX) {
        return Err(too_long());
    }
    // Payload bytes per fragment: what fits under the MTU, rounded down to 8.
    let per = mtu.saturating_sub(ipv4::MIN_HEADER_LEN) / 8 * 8;
    if total <= mtu {
        return Ok(vec![ip_frame(
            ends,
            IpProto::UDP,
            &whole,
            Place::Whole { df: false },
        )?]);
    }
    if !fragment || per == 0 {
        return Err(SendError::TooBig {
            iface: iface.to_string(),
            len: total,
            mtu,
            max_payload: mtu.saturating_sub(ipv4::MIN_HEADER_LEN + udp::HEADER_LEN),
        });
    }
    let mut frames = Vec::with_capacity(whole.len().div_ceil(per));
    for (i, piece) in whole.chunks(per).enumerate() {
        let offset = i * per;
        let more = offset + piece.len() < whole.len();
        frames.push(ip_frame(
            ends,
            IpProto::UDP,
            piece,
            Place::Fragment { offset, more },
        )?);
    }
    Ok(frames)
}

/// The frame of one TCP segment: `tcp` (its checksum filled in here) and `payload`.
pub fn tcp_frame(ends: &Ends, mut tcp: Tcp, payload: &[u8]) -> Result<Vec<u8>, SendError> {
    tcp.fill_checksum(ends.src, ends.dst, payload)
        .ok_or(SendError::PayloadTooLong {
            len: payload.len(),
            max: usize::from(u16::MAX) - ipv4::MIN_HEADER_LEN - usize::from(tcp.header_len),
        })?;
    let mut seg = Vec::with_capacity(usize::from(tcp.header_len) + payload.len());
    tcp.emit(&mut seg);
    seg.extend_from_slice(payload);
    // Linux sets Don't Fragment on TCP: path MTU discovery finds the size instead.
    ip_frame(ends, IpProto::TCP, &seg, Place::Whole { df: true })
}

/// Where an IPv4 packet's data goes in its datagram.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// The whole datagram, with or without Don't Fragment.
    Whole {
        /// Routers must not fragment it.
        df: bool,
    },
    /// A fragment: its data starts `offset` bytes into the datagram; `more` follow.
    Fragment {
        /// Where the data goes, in bytes (a multiple of 8).
        offset: usize,
        /// More fragments follow.
        more: bool,
    },
}

/// An Ethernet frame holding one IPv4 packet that carries `data`, placed as `place` says.
fn ip_frame(ends: &Ends, proto: IpProto, data: &[u8], place: Place) -> Result<Vec<u8>, SendError> {
    let too_long = || SendError::PayloadTooLong {
        len: data.len(),
        max: MAX_UDP_PAYLOAD,
    };
    let mut ip = Ipv4::new(ends.src, ends.dst, proto, ends.id, data.len()).ok_or_else(too_long)?;
    ip.ttl = ends.ttl;
    match place {
        Place::Whole { df } => ip.df = df,
        Place::Fragment { offset, more } => {
            ip.mf = more;
            ip.frag_offset = u16::try_from(offset).map_err(|_| too_long())?;
        }
    }
    ip.fill_checksum();
    ip.set_offset(ethernet::HEADER_LEN);
    let mut out = Vec::with_capacity(ethernet::HEADER_LEN + usize::from(ip.total_len));
    Ethernet::new(ends.src_mac, ends.dst_mac, EtherType::IPV4).emit(&mut out);
    ip.emit(&mut out);
    out.extend_from_slice(data);
    Ok(out)
}

/// Reads bytes written in hex: "68656c6c6f", "68 65 6c 6c 6f", "68:65:6c:6c:6f", with or
/// without a leading 0x.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '-' | '_'))
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "{text:?} has an odd number of hex digits: write two per byte, like 68656c6c6f."
        ));
    }
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| {
                    format!(
                        "{text:?} is not hex: {:?} is not a byte (use 0-9 and a-f).",
                        String::from_utf8_lossy(pair)
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::arp::ArpKind;
    use crate::proto::tcp::{TcpFlags, TcpOption};

    const ME: MacAddr = MacAddr([2, 0x77, 0, 0, 0, 1]);
    const A: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);

    use crate::testing::dissect_ethernet as dissected;

    fn ends(dst: Ipv4Addr) -> Ends {
        Ends {
            src_mac: ME,
            dst_mac: MacAddr::BROADCAST,
            src: A,
            dst,
            id: 0x1234,
            ttl: 64,
        }
    }

    #[test]
    fn an_arp_request_dissects_as_built() {
        let arp = Arp::request(ME, A, B);
        let f = arp_frame(ME, MacAddr::BROADCAST, &arp);
        assert_eq!(f.len(), 42);
        let d = dissected(&f);
        let mut want = arp.clone();
        want.offset = ethernet::HEADER_LEN;
        assert_eq!(d.arp, Some(want));
        assert_eq!(d.arp.map(|a| a.kind), Some(ArpKind::Request));
        assert!(d.eth.is_some_and(|e| e.dst.is_broadcast()));
    }

    fn ends6(dst: &str) -> Ends6 {
        let dst: Ipv6Addr = dst.parse().expect("address");
        Ends6 {
            src_mac: ME,
            dst_mac: MacAddr::ipv6_multicast(dst),
            src: "fe80::77:ff:fe00:1".parse().expect("address"),
            dst,
            hop_limit: 1,
        }
    }

    #[test]
    fn a_neighbour_solicitation_dissects_as_built() {
        let target: Ipv6Addr = "fd77::2".parse().expect("address");
        let mut e = ends6("ff02::1:ff00:2");
        e.hop_limit = NeighbourMessage::HOP_LIMIT;
        let ns = NeighbourMessage {
            kind: icmpv6::NeighbourKind::Solicitation,
            target,
            lladdr: Some(ME),
        };
        let f = ndp_frame(&e, &ns);
        assert_eq!(f.len(), 14 + 40 + 32);
        assert_eq!(f.get(..6), Some(&[0x33, 0x33, 0xff, 0, 0, 2][..]));
        let d = dissected(&f);
        let ip = d.ipv6.as_ref().expect("ipv6");
        assert_eq!((ip.hop_limit, ip.payload_len), (255, 32));
        let m = d.icmpv6.as_ref().expect("icmpv6");
        assert_eq!(
            (m.icmp_type, m.checksum_ok),
            (icmpv6::types::NEIGHBOR_SOLICITATION, Some(true))
        );
        assert_eq!(m.ndp.as_ref().and_then(|n| n.target), Some(target));
        assert!(d.notes.is_empty(), "{:?}", d.notes);
    }

    #[test]
    fn a_udp_datagram_to_all_nodes_dissects_with_a_good_checksum() {
        let f = udp6_frame("va", &ends6("ff02::1"), 50000, 10000, b"hello v6", 1500)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.get(..6), Some(&[0x33, 0x33, 0, 0, 0, 1][..]));
        let d = dissected(&f);
        assert_eq!(d.ipv6.as_ref().map(|i| i.hop_limit), Some(1));
        let u = d.udp.as_ref().expect("udp");
        assert_eq!((u.length, u.checksum_ok), (16, Some(true)));
        assert!(d.notes.is_empty(), "{:?}", d.notes);
        let e = udp6_frame("va", &ends6("ff02::1"), 1, 2, &[0; 1453], 1500)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "The datagram would be 1501 bytes, more than va's MTU of 1500: wirelens does \
                 not cut IPv6 datagrams into fragments, so send at most 1452 bytes of payload."
            )
        );
    }

    #[test]
    fn a_udp_broadcast_dissects_with_good_checksums() {
        let frames = udp_frames(
            "va",
            &ends(Ipv4Addr::BROADCAST),
            50000,
            10000,
            b"hello broadcast",
            1500,
            false,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(frames.len(), 1);
        let d = dissected(&frames[0]);
        let ip = d.ipv4.as_ref().expect("ipv4");
        assert_eq!(
            (ip.checksum_ok, ip.id, ip.df, ip.mf),
            (Some(true), 0x1234, false, false)
        );
        let u = d.udp.as_ref().expect("udp");
        assert_eq!(
            (u.dst_port, u.checksum_ok, u.length),
            (10000, Some(true), 23)
        );
        assert!(d.notes.is_empty(), "{:?}", d.notes);
    }

    #[test]
    fn over_mtu_is_refused_or_fragmented_on_8_byte_boundaries() {
        let payload: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let e = udp_frames("va", &ends(B), 1, 2, &payload, 1500, false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            e,
            "The datagram would be 3028 bytes, more than va's MTU of 1500: add --fragment to \
             cut it into IPv4 fragments, or send at most 1472 bytes of payload."
        );
        let frames = udp_frames("va", &ends(B), 1, 2, &payload, 1500, true)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(frames.len(), 3);
        // Our own reassembler puts them back together, and the UDP checksum verifies.
        let mut an = crate::analysis::Analyzer::new(
            Default::default(),
            Some(crate::analysis::reassembly::ReassemblyConfig::default()),
        );
        let mut offsets = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            assert!(f.len() - ethernet::HEADER_LEN <= 1500);
            let mut d = dissected(f);
            let ip = d.ipv4.clone().expect("ipv4");
            assert_eq!((ip.id, ip.checksum_ok), (0x1234, Some(true)));
            assert_eq!(ip.frag_offset % 8, 0);
            assert_eq!(ip.mf, i < 2);
            offsets.push(ip.frag_offset);
            an.analyse(&mut d, f);
            if i == 2 {
                let u = d.udp.expect("udp from the reassembled datagram");
                assert_eq!((u.length, u.checksum_ok), (3008, Some(true)));
            }
        }
        assert_eq!(offsets, vec![0, 1480, 2960]);
    }

    #[test]
    fn payloads_over_64_kib_are_refused() {
        let big = vec![0u8; MAX_UDP_PAYLOAD + 1];
        let e = udp_frames("lo", &ends(A), 1, 2, &big, 65536, true)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("65508 bytes") && e.contains("65507"), "{e}");
        assert!(udp_frames("lo", &ends(A), 1, 2, &big[1..], 65536, true).is_ok());
    }

    #[test]
    fn a_syn_dissects_with_df_and_good_checksums() {
        let syn = Tcp::new(
            54321,
            8080,
            7,
            0,
            TcpFlags(TcpFlags::SYN),
            64240,
            vec![TcpOption::Mss { value: 1460 }],
        )
        .expect("fits");
        let f = tcp_frame(&ends(B), syn, &[]).unwrap_or_else(|e| panic!("{e}"));
        let d = dissected(&f);
        let ip = d.ipv4.as_ref().expect("ipv4");
        assert!(ip.df && ip.checksum_ok == Some(true));
        let t = d.tcp.as_ref().expect("tcp");
        assert_eq!((t.seq, t.checksum_ok, t.header_len), (7, Some(true), 24));
        assert_eq!(t.options.to_vec(), vec![TcpOption::Mss { value: 1460 }]);
    }

    #[test]
    fn hex_payloads() {
        assert_eq!(parse_hex("68 65:6c-6c_6f"), Ok(b"hello".to_vec()));
        assert_eq!(parse_hex("0xDEADbeef"), Ok(vec![0xde, 0xad, 0xbe, 0xef]));
        assert_eq!(parse_hex(""), Ok(vec![]));
        assert!(parse_hex("abc").is_err_and(|e| e.contains("odd number")));
        assert!(parse_hex("zz").is_err_and(|e| e.contains("\"zz\" is not a byte")));
        assert!(parse_hex("é1").is_err());
    }
}
