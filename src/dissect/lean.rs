//! What `wirelens flows` needs of a TCP or UDP packet, read straight from its bytes
//! without a full [`Dissection`].
//!
//! Why: `flows` counts packets and bytes per conversation and follows TCP's states; it
//! shows no field of a single packet. A full dissection is a struct of more than a
//! kilobyte, written on the reading thread and read again on the analysing one, and perf
//! showed its loads as the largest part of the analysing thread. A [`FlowPacket`] is a
//! tenth of that. [`flow_packet`] reads one only where it is sure the full dissector would
//! give the same (a test compares the two on every bundled frame, its prefixes and
//! one-byte changes, and the recorded real traffic); every other frame is dissected in
//! full.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::capture::{Frame, LinkType, Timestamp};
use crate::proto::ethernet;
use crate::proto::ipv4::{self, IpProto};
use crate::proto::ipv6;
use crate::proto::tcp::{self, Tcp, TcpFlags};
use crate::proto::udp::{self, Udp};
use crate::proto::{be8, be16, be32, take};

use super::Dissection;

/// One TCP or UDP packet as the conversation trackers see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowPacket {
    /// Capture time.
    pub ts: Timestamp,
    /// Bytes on the wire (the frame's length, as the trackers count bytes).
    pub len: u32,
    /// The network layer's source address.
    pub src: IpAddr,
    /// The network layer's destination address.
    pub dst: IpAddr,
    /// The transport header's part.
    pub transport: FlowTransport,
}

/// The transport part of a [`FlowPacket`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowTransport {
    /// A TCP segment.
    Tcp(Segment),
    /// A UDP datagram.
    Udp(Datagram),
    /// An ICMP or ICMPv6 message, which `flows` only counts.
    Icmp,
}

/// What the TCP tracker reads of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number as sent.
    pub seq: u32,
    /// Acknowledgement number as sent.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window as sent, before scaling.
    pub window: u16,
    /// Payload length per the IP header, in bytes.
    pub payload_len: u32,
    /// The window scale option's shift, read only from a SYN (the only segment whose
    /// option counts, RFC 7323); `None` otherwise and when a SYN has none.
    pub wscale: Option<u8>,
}

impl Segment {
    /// The tracker's part of a dissected TCP header.
    pub fn of(tcp: &Tcp) -> Segment {
        Segment {
            src_port: tcp.src_port,
            dst_port: tcp.dst_port,
            seq: tcp.seq,
            ack: tcp.ack,
            flags: tcp.flags,
            window: tcp.window,
            payload_len: tcp.payload_len,
            wscale: syn_wscale(tcp.flags, tcp.options.as_bytes()),
        }
    }
}

/// The window scale option in a SYN's option bytes `options`; `None` for any other
/// segment, whose options are not read.
fn syn_wscale(flags: TcpFlags, options: &[u8]) -> Option<u8> {
    flags
        .has(TcpFlags::SYN)
        .then(|| tcp::window_scale(options))
        .flatten()
}

/// What the UDP tracker reads of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload length per the UDP length field, in bytes.
    pub payload_len: u16,
}

impl Datagram {
    /// The tracker's part of a dissected UDP header.
    pub fn of(udp: &Udp) -> Datagram {
        Datagram {
            src_port: udp.src_port,
            dst_port: udp.dst_port,
            payload_len: u16::try_from(udp.payload_len()).unwrap_or(u16::MAX),
        }
    }
}

impl FlowPacket {
    /// The flow packet of a full dissection, when all that `flows` shows of what the
    /// analyser does with it is a tracker following its TCP or UDP header, or the count
    /// of ICMP messages (an ICMP message is also paired with its request, which `flows`
    /// does not show): `None` for ARP, a fragment, or a packet with no IP layer or none
    /// of those headers.
    pub fn of(d: &Dissection) -> Option<FlowPacket> {
        if d.arp.is_some() || d.is_fragment() {
            return None;
        }
        let (src, dst) = d.ip_addrs()?;
        let transport = match (&d.tcp, &d.udp) {
            (Some(t), _) => FlowTransport::Tcp(Segment::of(t)),
            (None, Some(u)) => FlowTransport::Udp(Datagram::of(u)),
            (None, None) if d.icmp.is_some() || d.icmpv6.is_some() => FlowTransport::Icmp,
            (None, None) => return None,
        };
        Some(FlowPacket {
            ts: d.ts,
            len: d.len,
            src,
            dst,
            transport,
        })
    }
}

/// Reads `frame` as a [`FlowPacket`] when it is the common case: untagged Ethernet,
/// carrying a whole, unfragmented IPv4 packet with a 20-byte header or a whole IPv6
/// packet with no extension header (the frames of the dissector's own fast paths), and in
/// it a TCP or UDP header that the dissector would decode without a note, or an ICMP or
/// ICMPv6 message long enough for the dissector to decode its header. `None`, for the
/// caller to dissect in full, for anything else.
///
/// ICMP is read here because `flows` only counts it: dissected in full, the ICMP
/// messages of the real-traffic corpus (6% of its packets) were most of the frames that
/// took a 1 176-byte [`Dissection`] from one thread to the other.
pub fn flow_packet(frame: &Frame<'_>) -> Option<FlowPacket> {
    const IP_AT: usize = ethernet::HEADER_LEN;
    if frame.link != LinkType::ETHERNET {
        return None;
    }
    let bytes = frame.bytes;
    let (src, dst, proto, segment) = if let Some((header, payload)) = super::common_ipv4(bytes) {
        use ipv4::field as ip;
        let src = Ipv4Addr::from(take::<4>(header, ip::SRC.start)?);
        let dst = Ipv4Addr::from(take::<4>(header, ip::DST.start)?);
        let proto = IpProto(be8(header, ip::PROTOCOL));
        (IpAddr::V4(src), IpAddr::V4(dst), proto, payload)
    } else {
        use ipv6::field as ip;
        let (proto, payload) = super::common_ipv6(bytes)?;
        let src = Ipv6Addr::from(take::<16>(bytes, IP_AT + ip::SRC.start)?);
        let dst = Ipv6Addr::from(take::<16>(bytes, IP_AT + ip::DST.start)?);
        (IpAddr::V6(src), IpAddr::V6(dst), proto, payload)
    };
    let transport = match proto {
        // What `Icmp::parse` and `Icmpv6::parse` need to decode the header.
        IpProto::ICMP if super::sliceable(proto, segment) => FlowTransport::Icmp,
        IpProto::ICMPV6 if segment.len() >= crate::proto::icmpv6::MIN_LEN => FlowTransport::Icmp,
        IpProto::TCP | IpProto::UDP if super::sliceable(proto, segment) => {
            transport(proto, segment)?
        }
        _ => return None,
    };
    Some(FlowPacket {
        ts: frame.ts,
        len: frame.len,
        src,
        dst,
        transport,
    })
}

/// The TCP segment or UDP datagram (`proto`) `segment`, which [`super::sliceable`] took.
fn transport(proto: IpProto, segment: &[u8]) -> Option<FlowTransport> {
    Some(if proto == IpProto::TCP {
        let data_off = usize::from(be8(segment, tcp::field::DATA_OFF) >> 4) * 4;
        let flags = TcpFlags(be16(segment, tcp::field::DATA_OFF) & 0x01ff);
        FlowTransport::Tcp(Segment {
            src_port: be16(segment, tcp::field::SRC_PORT.start),
            dst_port: be16(segment, tcp::field::DST_PORT.start),
            seq: be32(segment, tcp::field::SEQ.start),
            ack: be32(segment, tcp::field::ACK.start),
            flags,
            window: be16(segment, tcp::field::WINDOW.start),
            payload_len: u32::try_from(segment.len().checked_sub(data_off)?).ok()?,
            wscale: syn_wscale(flags, segment.get(tcp::field::OPTIONS..data_off)?),
        })
    } else {
        FlowTransport::Udp(Datagram {
            src_port: be16(segment, udp::field::SRC_PORT.start),
            dst_port: be16(segment, udp::field::DST_PORT.start),
            // The length field is the segment's (sliceable), at least the header.
            payload_len: be16(segment, udp::field::LENGTH.start)
                .checked_sub(udp::HEADER_LEN as u16)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame read the lean way gives what the full dissection gives, and the lean
    /// way takes most of the real traffic.
    #[test]
    fn lean_packets_match_the_full_dissection() {
        let (mut lean, mut all, mut icmp) = (0, 0, 0);
        for b in super::super::tests::frames() {
            let f = Frame {
                ts: Timestamp::default(),
                caplen: b.len() as u32,
                len: b.len() as u32 + 4,
                link: LinkType::ETHERNET,
                interface: None,
                bytes: &b,
            };
            all += 1;
            if let Some(p) = flow_packet(&f) {
                lean += 1;
                icmp += usize::from(p.transport == FlowTransport::Icmp);
                let d = super::super::dissect(1, &f);
                assert_eq!(Some(p), FlowPacket::of(&d), "frame {b:02x?}");
            }
        }
        assert!(
            lean > 2000 && icmp > 100,
            "only {lean} of {all} frames were read the lean way, {icmp} of them ICMP"
        );
    }

    /// Another link type is never read the lean way.
    #[test]
    fn only_ethernet_is_read_the_lean_way() {
        for b in super::super::tests::frames().iter().take(500) {
            let f = Frame {
                ts: Timestamp::default(),
                caplen: b.len() as u32,
                len: b.len() as u32,
                link: LinkType::LINUX_SLL2,
                interface: None,
                bytes: b,
            };
            assert_eq!(flow_packet(&f), None);
        }
    }
}
