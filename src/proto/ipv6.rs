//! IPv6 (RFC 8200): 128-bit addresses, a fixed 40-byte header, and a chain of extension
//! headers (hop-by-hop options, routing, fragment, destination options…) between it and
//! the transport header. Routers never fragment IPv6; only the sender does, with a
//! fragment header.

use std::net::Ipv6Addr;

use serde::Serialize;

use super::{Field, FieldText, Hue, Layer, Model, Span, ToFieldText, be8, be16, be32, ftext, take};
use crate::text::Text;

/// Byte ranges of the IPv6 base header, relative to its start.
pub mod field {
    use std::ops::Range;
    /// Version (4 bits), traffic class (8 bits) and flow label (20 bits).
    pub const VER_TC_FLOW: Range<usize> = 0..4;
    /// Payload length: bytes after the base header, extension headers included.
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    /// Next header: the extension header or upper-layer protocol that follows.
    pub const NEXT_HEADER: usize = 6;
    /// Hop limit: IPv6's TTL.
    pub const HOP_LIMIT: usize = 7;
    /// Source address.
    pub const SRC: Range<usize> = 8..24;
    /// Destination address.
    pub const DST: Range<usize> = 24..40;
    /// Version bits of the first 32-bit word.
    pub const VERSION_MASK: u32 = 0xf000_0000;
    /// Traffic-class bits of the first 32-bit word.
    pub const TC_MASK: u32 = 0x0ff0_0000;
    /// DSCP bits (high 6 of the traffic class) of the first 32-bit word.
    pub const DSCP_MASK: u32 = 0x0fc0_0000;
    /// ECN bits (low 2 of the traffic class) of the first 32-bit word.
    pub const ECN_MASK: u32 = 0x0030_0000;
    /// Flow-label bits of the first 32-bit word.
    pub const FLOW_MASK: u32 = 0x000f_ffff;
}

/// Byte ranges of the extension headers, relative to the start of each.
pub mod ext_field {
    use std::ops::Range;
    /// Next header, in every extension header.
    pub const NEXT_HEADER: usize = 0;
    /// Header extension length: in 8-byte units not counting the first 8 (4-byte units
    /// not counting the first 2 for AH); reserved (zero) in a fragment header.
    pub const HDR_EXT_LEN: usize = 1;
    /// Where the options of hop-by-hop and destination options headers start.
    pub const OPTIONS: usize = 2;
    /// Routing header: routing type.
    pub const ROUTING_TYPE: usize = 2;
    /// Routing header: segments left (route hops still to visit).
    pub const SEGMENTS_LEFT: usize = 3;
    /// Routing header type 0 and 2: reserved 32 bits before the addresses.
    pub const ROUTING_RESERVED: Range<usize> = 4..8;
    /// Segment routing header (type 4): index of the last segment in the list.
    pub const SRH_LAST_ENTRY: usize = 4;
    /// Segment routing header (type 4): flags.
    pub const SRH_FLAGS: usize = 5;
    /// Segment routing header (type 4): tag.
    pub const SRH_TAG: Range<usize> = 6..8;
    /// Routing header: where the addresses (types 0 and 2) or segments (type 4) start.
    pub const ROUTING_ADDRS: usize = 8;
    /// Fragment header: reserved byte (where other headers have their length).
    pub const FRAG_RESERVED: usize = 1;
    /// Fragment header: offset (13 bits, in 8-byte units), 2 reserved bits, M flag.
    pub const FRAG_OFFSET_M: Range<usize> = 2..4;
    /// Fragment header: identification, shared by all fragments of one packet.
    pub const FRAG_ID: Range<usize> = 4..8;
    /// Fragment offset bits within the offset/M word.
    pub const FRAG_OFFSET_MASK: u16 = 0xfff8;
    /// Reserved bits within the offset/M word.
    pub const FRAG_RES_MASK: u16 = 0x0006;
    /// More-fragments bit within the offset/M word.
    pub const FRAG_M_BIT: u16 = 0x0001;
}

/// Length of the base header, in bytes.
pub const HEADER_LEN: usize = 40;
/// Length of a fragment header, in bytes.
pub const FRAGMENT_LEN: usize = 8;

/// Next-header numbers (the IP protocol numbers, plus IPv6's extension headers).
pub mod next_header {
    /// Hop-by-hop options header.
    pub const HOP_BY_HOP: u8 = 0;
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// Internet Group Management Protocol.
    pub const IGMP: u8 = 2;
    /// IPv4 encapsulated in IPv6.
    pub const IPV4: u8 = 4;
    /// Transmission Control Protocol.
    pub const TCP: u8 = 6;
    /// User Datagram Protocol.
    pub const UDP: u8 = 17;
    /// IPv6 encapsulated in IPv6.
    pub const IPV6: u8 = 41;
    /// Routing header.
    pub const ROUTING: u8 = 43;
    /// Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// Generic Routing Encapsulation.
    pub const GRE: u8 = 47;
    /// IPsec Encapsulating Security Payload (encrypted: nothing after it can be read).
    pub const ESP: u8 = 50;
    /// IPsec Authentication Header.
    pub const AH: u8 = 51;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
    /// No next header: nothing follows.
    pub const NO_NEXT_HEADER: u8 = 59;
    /// Destination options header.
    pub const DEST_OPTS: u8 = 60;
    /// Open Shortest Path First.
    pub const OSPF: u8 = 89;
    /// Protocol Independent Multicast.
    pub const PIM: u8 = 103;
    /// Virtual Router Redundancy Protocol.
    pub const VRRP: u8 = 112;
    /// Stream Control Transmission Protocol.
    pub const SCTP: u8 = 132;
    /// Mobility header (Mobile IPv6).
    pub const MOBILITY: u8 = 135;
    /// Host Identity Protocol.
    pub const HIP: u8 = 139;
    /// Shim6 protocol.
    pub const SHIM6: u8 = 140;
}

/// The name of a next-header value: an extension header or an upper-layer protocol.
pub fn next_header_name(n: u8) -> Option<&'static str> {
    use next_header::*;
    Some(match n {
        HOP_BY_HOP => "hop-by-hop options",
        ICMP => "ICMP",
        IGMP => "IGMP",
        IPV4 => "IPv4-in-IPv6",
        TCP => "TCP",
        UDP => "UDP",
        IPV6 => "IPv6-in-IPv6",
        ROUTING => "routing header",
        FRAGMENT => "fragment header",
        GRE => "GRE",
        ESP => "ESP (IPsec, encrypted)",
        AH => "AH (IPsec authentication header)",
        ICMPV6 => "ICMPv6",
        NO_NEXT_HEADER => "no next header",
        DEST_OPTS => "destination options",
        OSPF => "OSPF",
        PIM => "PIM",
        VRRP => "VRRP",
        SCTP => "SCTP",
        MOBILITY => "mobility header",
        HIP => "HIP",
        SHIM6 => "shim6",
        253 | 254 => "experimental",
        _ => return None,
    })
}

/// True for the next-header values this parser walks over as extension headers.
pub fn is_extension(n: u8) -> bool {
    use next_header::*;
    matches!(
        n,
        HOP_BY_HOP | ROUTING | FRAGMENT | DEST_OPTS | AH | MOBILITY | HIP | SHIM6
    )
}

/// The IPv6 base header is shorter than 40 bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Ipv6Error {
    /// Fewer than 40 bytes were captured.
    #[error(
        "The IPv6 header at byte {offset} needs {HEADER_LEN} bytes but only {captured} were captured."
    )]
    Truncated {
        /// Offset of the header in the frame, in bytes.
        offset: usize,
        /// Bytes captured from there on.
        captured: usize,
    },
}

/// The fields of a fragment header (RFC 8200 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv6Fragment {
    /// Where this fragment's data goes in the original packet's fragmentable part, in
    /// bytes (8-byte units on the wire).
    pub offset: u16,
    /// More fragments follow (the M flag).
    pub more: bool,
    /// Identification: the same for every fragment of one packet.
    pub id: u32,
    /// The reserved byte (must be zero).
    #[serde(skip)]
    pub reserved: u8,
    /// The two reserved bits next to M (must be zero).
    #[serde(skip)]
    pub reserved_bits: u8,
}

/// One option of a hop-by-hop or destination options header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6Option {
    /// Offset of the option's type byte in the frame, in bytes.
    pub offset: usize,
    /// Option type: the high 2 bits say what to do if it is unknown, the third whether it
    /// may change en route.
    pub kind: u8,
    /// Length of the option data, in bytes (0 for Pad1, which has no length byte).
    pub len: u8,
    /// The option data as captured.
    pub data: Vec<u8>,
}

impl Ipv6Option {
    /// Pad1: one byte of padding.
    pub const PAD1: u8 = 0;
    /// PadN: two or more bytes of padding.
    pub const PADN: u8 = 1;
    /// Jumbo payload: the real length of a packet over 65,535 bytes (RFC 2675).
    pub const JUMBO: u8 = 0xc2;
    /// Router alert: routers should look inside (RFC 2711).
    pub const ROUTER_ALERT: u8 = 5;

    /// The option's name, if we know it.
    pub fn name(&self) -> Option<&'static str> {
        option_name(self.kind)
    }

    /// The bytes the option takes in the header: 1 for Pad1, else 2 + data length.
    pub fn wire_len(&self) -> usize {
        if self.kind == Self::PAD1 {
            1
        } else {
            2 + usize::from(self.len)
        }
    }
}

fn option_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        Ipv6Option::PAD1 => "Pad1",
        Ipv6Option::PADN => "PadN",
        Ipv6Option::ROUTER_ALERT => "Router Alert",
        Ipv6Option::JUMBO => "Jumbo Payload",
        0x04 => "Tunnel Encapsulation Limit",
        0x26 => "Quick-Start",
        0x63 => "RPL Option",
        0xc9 => "Home Address",
        0x8b => "ILNP Nonce",
        0x8c => "Line-Identification",
        0x1e | 0x3e | 0x5e | 0x7e | 0x9e | 0xbe | 0xde | 0xfe => "experimental",
        _ => return None,
    })
}

/// What the high two bits of an option type tell a node that does not know the option.
fn option_action(kind: u8) -> &'static str {
    match kind >> 6 {
        0 => "skip it if unknown",
        1 => "drop the packet if unknown",
        2 => "drop the packet and send ICMPv6 parameter problem if unknown",
        _ => "drop and send parameter problem (unless to multicast) if unknown",
    }
}

/// What an extension header holds beyond its next-header and length bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtBody {
    /// Hop-by-hop or destination options.
    Options(Vec<Ipv6Option>),
    /// A routing header.
    Routing {
        /// Routing type: 0 (deprecated source route), 2 (Mobile IPv6), 3 (RPL), 4 (segment
        /// routing).
        routing_type: u8,
        /// Route segments still to visit before the final destination.
        segments_left: u8,
        /// For types 0, 2 and 4, the addresses or segments listed, as captured.
        addresses: Vec<Ipv6Addr>,
    },
    /// A fragment header.
    Fragment(Ipv6Fragment),
    /// An extension header read only as far as its next header and length (AH,
    /// mobility, HIP, shim6).
    Other,
}

/// One extension header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv6Ext {
    /// Offset of the header in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// Which extension header this is: the next-header number that announced it.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Its length, in bytes.
    pub len: usize,
    /// The next header after this one.
    #[serde(skip)]
    pub next_header: u8,
    /// What it holds.
    #[serde(skip)]
    pub body: ExtBody,
}

impl Ipv6Ext {
    /// Reads the extension header `kind` from the start of `b` (`offset` in the frame).
    /// When its bytes are not all in `b`, says how many it needs (2 while its length
    /// byte is missing).
    fn parse(kind: u8, b: &[u8], offset: usize) -> Result<Ipv6Ext, usize> {
        let (Some(&next), Some(&hel)) = (b.first(), b.get(ext_field::HDR_EXT_LEN)) else {
            return Err(2);
        };
        let len = match kind {
            next_header::FRAGMENT => FRAGMENT_LEN,
            next_header::AH => (usize::from(hel) + 2) * 4,
            _ => (usize::from(hel) + 1) * 8,
        };
        let Some(h) = b.get(..len) else {
            return Err(len);
        };
        let body = match kind {
            next_header::HOP_BY_HOP | next_header::DEST_OPTS => {
                ExtBody::Options(parse_options(h, offset))
            }
            next_header::ROUTING => {
                let routing_type = be8(h, ext_field::ROUTING_TYPE);
                let count = match routing_type {
                    0 | 2 => (len - ext_field::ROUTING_ADDRS) / 16,
                    4 => usize::from(be8(h, ext_field::SRH_LAST_ENTRY)) + 1,
                    _ => 0,
                };
                let addresses = (0..count)
                    .map_while(|i| take::<16>(h, ext_field::ROUTING_ADDRS + 16 * i))
                    .map(Ipv6Addr::from)
                    .collect();
                ExtBody::Routing {
                    routing_type,
                    segments_left: be8(h, ext_field::SEGMENTS_LEFT),
                    addresses,
                }
            }
            next_header::FRAGMENT => {
                let w = be16(h, ext_field::FRAG_OFFSET_M.start);
                ExtBody::Fragment(Ipv6Fragment {
                    offset: w & ext_field::FRAG_OFFSET_MASK,
                    more: w & ext_field::FRAG_M_BIT != 0,
                    id: be32(h, ext_field::FRAG_ID.start),
                    reserved: hel,
                    reserved_bits: ((w & ext_field::FRAG_RES_MASK) >> 1) as u8,
                })
            }
            _ => ExtBody::Other,
        };
        Ok(Ipv6Ext {
            offset,
            kind,
            len,
            next_header: next,
            body,
        })
    }

    /// The fragment header's fields, if this is one.
    pub fn fragment(&self) -> Option<&Ipv6Fragment> {
        match &self.body {
            ExtBody::Fragment(f) => Some(f),
            _ => None,
        }
    }

    /// The header-extension-length byte as it is on the wire.
    fn hdr_ext_len(&self) -> usize {
        match self.kind {
            next_header::AH => (self.len / 4).saturating_sub(2),
            _ => (self.len / 8).saturating_sub(1),
        }
    }
}

/// Reads the options of a hop-by-hop or destination options header `h` (whole header,
/// at `offset` in the frame). Stops at an option that runs past the header.
fn parse_options(h: &[u8], offset: usize) -> Vec<Ipv6Option> {
    let mut out = Vec::new();
    let mut i = ext_field::OPTIONS;
    while let Some(&kind) = h.get(i) {
        if kind == Ipv6Option::PAD1 {
            out.push(Ipv6Option {
                offset: offset + i,
                kind,
                len: 0,
                data: Vec::new(),
            });
            i += 1;
            continue;
        }
        let Some(&len) = h.get(i + 1) else { break };
        let Some(data) = h.get(i + 2..i + 2 + usize::from(len)) else {
            break;
        };
        out.push(Ipv6Option {
            offset: offset + i,
            kind,
            len,
            data: data.to_vec(),
        });
        i += 2 + usize::from(len);
    }
    out
}

/// Words for an extension header: "IPv6 fragment header" and so on.
fn ext_title(kind: u8) -> &'static str {
    match kind {
        next_header::HOP_BY_HOP => "IPv6 hop-by-hop options header",
        next_header::ROUTING => "IPv6 routing header",
        next_header::FRAGMENT => "IPv6 fragment header",
        next_header::DEST_OPTS => "IPv6 destination options header",
        next_header::AH => "IPv6 authentication header (AH)",
        next_header::MOBILITY => "IPv6 mobility header",
        next_header::HIP => "IPv6 HIP header",
        next_header::SHIM6 => "IPv6 shim6 header",
        _ => "IPv6 extension header",
    }
}

/// ff02::1, the all-nodes group: every IPv6 host on the link (IPv6's broadcast).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// The solicited-node multicast group of `a` (RFC 4291, section 2.7.1): ff02::1:ff
/// followed by the last 24 bits of `a`. A host joins it for each of its addresses, so a
/// neighbour solicitation sent there reaches the owner without disturbing every host.
pub fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::from([
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, o[13], o[14], o[15],
    ])
}

/// True for a link-local unicast address, fe80::/10: valid on one link only.
pub fn is_link_local(a: Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// True for a multicast group of link-local scope (ff02::/16, or ff12:: and the like):
/// routers never forward it off the link.
pub fn is_link_scope_multicast(a: Ipv6Addr) -> bool {
    a.is_multicast() && a.segments()[0] & 0x000f == 0x2
}

/// An IPv6 header and the extension headers that follow it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv6 {
    /// Offset of the header in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// Version: 6.
    pub version: u8,
    /// Traffic class: DSCP (high 6 bits) and ECN (low 2 bits).
    pub traffic_class: u8,
    /// Differentiated services code point: the high 6 bits of the traffic class.
    #[serde(skip)]
    pub dscp: u8,
    /// Explicit congestion notification: the low 2 bits of the traffic class.
    #[serde(skip)]
    pub ecn: u8,
    /// Flow label (20 bits): the same for every packet of one flow, or 0.
    pub flow_label: u32,
    /// Payload length: bytes after the 40-byte base header, extension headers included.
    pub payload_len: u16,
    /// The base header's next header.
    pub next_header: u8,
    /// Hop limit: routers decrement it and drop the packet at 0.
    pub hop_limit: u8,
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// The extension headers, in order, as far as they were captured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ext: Vec<Ipv6Ext>,
    /// The fragment header's fields, when there is one (a copy of the first fragment
    /// header in `ext`, for the JSON and for reassembly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment: Option<Ipv6Fragment>,
    /// Why the walk along the extension headers stopped early, if it did.
    #[serde(skip)]
    pub stopped: Option<String>,
}

impl Ipv6 {
    /// Reads the header from the start of `b` (which sits at `offset` in the frame),
    /// then the extension headers as far as they were captured and as the payload
    /// length allows. An error only when the 40-byte base header is not all there; a
    /// chain cut short keeps what parsed and says why in `stopped`.
    pub fn parse(b: &[u8], offset: usize) -> Result<Ipv6, Ipv6Error> {
        let Some(base) = b.get(..HEADER_LEN) else {
            return Err(Ipv6Error::Truncated {
                offset,
                captured: b.len(),
            });
        };
        let w = be32(base, field::VER_TC_FLOW.start);
        let traffic_class = ((w & field::TC_MASK) >> 20) as u8;
        let payload_len = be16(base, field::PAYLOAD_LEN.start);
        let next = be8(base, field::NEXT_HEADER);
        let mut ip = Ipv6 {
            offset,
            version: (w >> 28) as u8,
            traffic_class,
            dscp: traffic_class >> 2,
            ecn: traffic_class & 0x03,
            flow_label: w & field::FLOW_MASK,
            payload_len,
            next_header: next,
            hop_limit: be8(base, field::HOP_LIMIT),
            src: Ipv6Addr::from(take::<16>(base, field::SRC.start).unwrap_or_default()),
            dst: Ipv6Addr::from(take::<16>(base, field::DST.start).unwrap_or_default()),
            ext: Vec::new(),
            fragment: None,
            stopped: None,
        };
        ip.walk(b);
        Ok(ip)
    }

    /// Walks the extension header chain of the packet `b`.
    fn walk(&mut self, b: &[u8]) {
        // A payload length of 0 means a jumbogram (its real length is in a hop-by-hop
        // option): then only the capture bounds the walk.
        let declared_end = match self.payload_len {
            0 => usize::MAX,
            n => HEADER_LEN + usize::from(n),
        };
        let end = b.len().min(declared_end);
        let mut next = self.next_header;
        let mut at = HEADER_LEN;
        while is_extension(next) {
            let rest = b.get(at..end).unwrap_or_default();
            let offset = self.offset + at;
            match Ipv6Ext::parse(next, rest, offset) {
                Ok(ext) => {
                    at += ext.len;
                    next = ext.next_header;
                    let non_first_fragment = ext.fragment().is_some_and(|f| f.offset > 0);
                    if self.fragment.is_none() {
                        self.fragment = ext.fragment().copied();
                    }
                    self.ext.push(ext);
                    if non_first_fragment {
                        // What follows is the middle of the original packet, not a header.
                        return;
                    }
                }
                Err(need) => {
                    let what = ext_title(next);
                    let have = rest.len();
                    self.stopped = Some(if b.len() >= declared_end {
                        format!(
                            "The {what} at byte {offset} needs {need} bytes but the payload length ({}) leaves only {have}.",
                            self.payload_len
                        )
                    } else if have == 0 {
                        format!("The {what} at byte {offset} was not captured.")
                    } else {
                        format!(
                            "The {what} at byte {offset} needs {need} bytes but only {have} were captured."
                        )
                    });
                    return;
                }
            }
        }
    }

    /// A 40-byte header, at offset 0, for a packet from `src` to `dst` carrying
    /// `payload_len` bytes of `next_header`, with hop limit 64 (the Linux default; NDP
    /// needs 255, which the caller sets in `hop_limit`). `None` when the payload is
    /// longer than the 65,535 bytes the payload-length field can say.
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, payload_len: usize) -> Option<Ipv6> {
        Some(Ipv6 {
            offset: 0,
            version: 6,
            traffic_class: 0,
            dscp: 0,
            ecn: 0,
            flow_label: 0,
            payload_len: u16::try_from(payload_len).ok()?,
            next_header,
            hop_limit: 64,
            src,
            dst,
            ext: Vec::new(),
            fragment: None,
            stopped: None,
        })
    }

    /// Appends the 40-byte base header to `out` (not the extension headers). The
    /// traffic class written is `traffic_class`; `dscp` and `ecn` are views of it.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.first_word().to_be_bytes());
        out.extend_from_slice(&self.payload_len.to_be_bytes());
        out.push(self.next_header);
        out.push(self.hop_limit);
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
    }

    fn first_word(&self) -> u32 {
        u32::from(self.version & 0x0f) << 28
            | u32::from(self.traffic_class) << 20
            | self.flow_label & field::FLOW_MASK
    }

    /// Where the fragmentable part starts, in bytes from the start of the IPv6 header
    /// (just after the fragment header), and the protocol the fragment header names;
    /// `None` without a fragment header.
    pub fn fragmentable(&self) -> Option<(usize, u8)> {
        let mut at = HEADER_LEN;
        for e in &self.ext {
            at += e.len;
            if e.kind == next_header::FRAGMENT {
                return Some((at, e.next_header));
            }
        }
        None
    }

    /// The protocol after the last extension header, and where its header starts, in
    /// bytes from the start of the IPv6 header. When the walk stopped early (see
    /// `stopped`), this is the header that could not be read. For a fragment that is not
    /// the first, the protocol is that of the whole packet but the bytes there are the
    /// middle of its data, not a header: check [`Ipv6::fragment`].
    pub fn upper_layer(&self) -> (u8, usize) {
        let at = HEADER_LEN + self.ext.iter().map(|e| e.len).sum::<usize>();
        let next = self.ext.last().map_or(self.next_header, |e| e.next_header);
        (next, at)
    }

    /// True when a fragment header is present: this packet is one piece of a bigger one
    /// (an "atomic fragment", offset 0 without M, is one piece of itself).
    pub fn is_fragment(&self) -> bool {
        self.fragment.is_some()
    }

    /// The fragment header's fields, if there is one.
    pub fn fragment(&self) -> Option<&Ipv6Fragment> {
        self.fragment.as_ref()
    }

    /// Moves the header to `offset` in the frame, with its extension headers.
    pub fn set_offset(&mut self, offset: usize) {
        for e in &mut self.ext {
            let rel = e.offset.saturating_sub(self.offset);
            if let ExtBody::Options(opts) = &mut e.body {
                for o in opts {
                    o.offset = o.offset.saturating_sub(e.offset) + offset + rel;
                }
            }
            e.offset = offset + rel;
        }
        self.offset = offset;
    }
}

/// DSCP names (RFC 2474, 2597, 3246, 5865, 8622).
fn dscp_name(dscp: u8) -> &'static str {
    match dscp {
        0 => "CS0: default (best effort)",
        1 => "LE: lower effort (background)",
        8 => "CS1: low priority (scavenger)",
        10 => "AF11: assured forwarding class 1, low drop",
        12 => "AF12: assured forwarding class 1, medium drop",
        14 => "AF13: assured forwarding class 1, high drop",
        16 => "CS2: OAM",
        18 => "AF21: assured forwarding class 2, low drop",
        20 => "AF22: assured forwarding class 2, medium drop",
        22 => "AF23: assured forwarding class 2, high drop",
        24 => "CS3: broadcast video",
        26 => "AF31: assured forwarding class 3, low drop",
        28 => "AF32: assured forwarding class 3, medium drop",
        30 => "AF33: assured forwarding class 3, high drop",
        32 => "CS4: real-time interactive",
        34 => "AF41: assured forwarding class 4, low drop",
        36 => "AF42: assured forwarding class 4, medium drop",
        38 => "AF43: assured forwarding class 4, high drop",
        40 => "CS5: signalling",
        44 => "VA: voice admit",
        46 => "EF: expedited forwarding (voice)",
        48 => "CS6: network control",
        56 => "CS7: reserved for network control",
        _ => "not a standard class: local use",
    }
}

fn ecn_meaning(ecn: u8) -> &'static str {
    match ecn {
        0 => "not ECN-capable",
        1 | 2 => "ECN-capable transport",
        _ => "congestion experienced: a router marked it instead of dropping it",
    }
}

/// What kind of address this is, the way a networking course sorts them (RFC 4291 and
/// the IANA special-purpose registry).
pub fn describe_addr(a: Ipv6Addr) -> FieldText {
    let s = a.segments();
    let o = a.octets();
    if a.is_unspecified() {
        return ":: unspecified: used by a host that has no address yet, e.g. in a DAD probe"
            .into();
    }
    if a.is_loopback() {
        return "::1 loopback: this host itself".into();
    }
    if let Some(v4) = a.to_ipv4_mapped() {
        return ftext!("IPv4-mapped: stands for the IPv4 address {v4} inside IPv6 software");
    }
    if o[0] == 0xff {
        return describe_multicast(a);
    }
    if s[0] & 0xffc0 == 0xfe80 {
        return "link-local (fe80::/10): valid on this link only, never routed; every IPv6 interface has one"
            .into();
    }
    if o[0] & 0xfe == 0xfc {
        return if o[0] == 0xfd {
            "unique local (fd00::/8, locally assigned): private, like RFC 1918 in IPv4; not routed on the Internet".into()
        } else {
            "unique local (fc00::/7): private, not routed on the Internet".into()
        };
    }
    if s[0] == 0x2001 && s[1] == 0x0db8 {
        return "documentation (2001:db8::/32): for examples, never on a real network".into();
    }
    if s[0] == 0x2002 {
        return "6to4 (2002::/16): IPv6 over an IPv4 address, deprecated".into();
    }
    if s[0] & 0xe000 == 0x2000 {
        return "global unicast (2000::/3): routed on the Internet".into();
    }
    "reserved by the IETF: not in use for unicast".into()
}

fn describe_multicast(a: Ipv6Addr) -> FieldText {
    let o = a.octets();
    let s = a.segments();
    let scope = match o[1] & 0x0f {
        1 => "interface-local",
        2 => "link-local",
        3 => "realm-local",
        4 => "admin-local",
        5 => "site-local",
        8 => "organization-local",
        0xe => "global",
        _ => "reserved or unassigned",
    };
    let link = s[..7] == [0xff02, 0, 0, 0, 0, 0, 0];
    let group = if link {
        match s[7] {
            1 => Some("all nodes: every IPv6 host on the link"),
            2 => Some("all routers on the link"),
            0x5 | 0x6 => Some("OSPFv3 routers"),
            0x9 => Some("RIPng routers"),
            0xd => Some("PIM routers"),
            0x16 => Some("all MLDv2-capable routers: where MLDv2 reports go"),
            0x1a => Some("all RPL nodes"),
            0xfb => Some("mDNS: multicast DNS (.local names)"),
            0x101 => Some("NTP servers"),
            _ => None,
        }
    } else {
        None
    };
    if let Some(g) = group {
        return ftext!("multicast, {scope} scope: {g}");
    }
    if s[..7] == [0xff02, 0, 0, 0, 0, 0, 1] {
        match s[7] {
            2 => return "multicast, link-local scope: DHCPv6 servers and relay agents".into(),
            3 => return "multicast, link-local scope: LLMNR".into(),
            _ => {}
        }
    }
    if s[..6] == [0xff02, 0, 0, 0, 0, 1] && o[12] == 0xff {
        return ftext!(
            "solicited-node group of addresses ending in :{:02x}:{:04x} (their last 24 bits), where NDP asks \"who has\"",
            o[13],
            s[7]
        );
    }
    if s[..7] == [0xff05, 0, 0, 0, 0, 0, 1] && s[7] == 3 {
        return "multicast, site-local scope: all DHCPv6 servers".into();
    }
    if s[..7] == [0xff01, 0, 0, 0, 0, 0, 0] && (s[7] == 1 || s[7] == 2) {
        return "multicast, interface-local scope: all nodes/routers on this host".into();
    }
    ftext!("multicast group, {scope} scope")
}

fn hop_limit_meaning(h: u8) -> FieldText {
    ftext!(
        "each router subtracts 1 and drops the packet at 0 (IPv6's TTL){}",
        match h {
            64 => " (64: Linux/macOS default)",
            128 => " (128: Windows default)",
            255 =>
                " (255: the maximum; NDP requires it, so a receiver knows the packet came from its own link)",
            1 => " (1: dies at the first router; used for link-local multicast such as MLD)",
            _ => "",
        }
    )
}

fn next_header_meaning(n: u8) -> FieldText {
    match next_header_name(n) {
        Some(name) if is_extension(n) => FieldText::build(|b| {
            b.s("an extension header follows: ").s(name);
        }),
        Some(name) if n == next_header::NO_NEXT_HEADER => FieldText::build(|b| {
            b.s(name).s(": nothing follows");
        }),
        Some(name) => FieldText::build(|b| {
            b.s("the payload is ").s(name);
        }),
        None => "a protocol wirelens does not know".into(),
    }
}

impl Layer for Ipv6 {
    fn name(&self) -> &'static str {
        "IPv6"
    }
    fn explain(&self, _around: &super::Around, out: &mut Vec<u8>) -> bool {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        let _ = write!(
            out,
            "IPv6 flow=0x{:05x} hlim={}",
            self.flow_label, self.hop_limit
        );
        true
    }
    fn key(&self) -> &'static str {
        "ipv6"
    }
    fn mark(&self) -> char {
        '6'
    }
    fn hue(&self) -> Hue {
        Hue::BoldGreen
    }
    fn model(&self) -> Model {
        Model::Network
    }
    fn span(&self) -> Span {
        Span {
            offset: self.offset,
            len: HEADER_LEN,
        }
    }

    fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let w = self.first_word();
        // The bit fields of the first word, drawn over the bytes tshark gives them (the
        // traffic class over all four, as its bits straddle bytes 0 and 1).
        let w24 = w & 0x00ff_ffff;
        vec![
            Field::bits(
                o,
                1,
                field::VERSION_MASK >> 24,
                w >> 24,
                "Version",
                self.version.ftext(),
                if self.version == 6 {
                    "IPv6"
                } else {
                    "not 6: this is not a valid IPv6 header"
                },
            ),
            Field::bits(
                o,
                4,
                field::TC_MASK,
                w,
                "Traffic class",
                FieldText::build(|b| {
                    b.hex(self.traffic_class.into(), 2);
                }),
                "IPv6's type of service: DSCP (6 bits) and ECN (2 bits), as in IPv4",
            ),
            Field::bits(
                o,
                4,
                field::DSCP_MASK,
                w,
                "DSCP",
                self.dscp.ftext(),
                dscp_name(self.dscp),
            ),
            Field::bits(
                o,
                4,
                field::ECN_MASK,
                w,
                "ECN",
                self.ecn.ftext(),
                ecn_meaning(self.ecn),
            ),
            Field::bits(
                o + 1,
                3,
                field::FLOW_MASK,
                w24,
                "Flow label",
                FieldText::build(|b| {
                    b.hex(self.flow_label.into(), 5);
                }),
                if self.flow_label == 0 {
                    "0: no flow label"
                } else {
                    "the same for every packet of one flow, so routers can keep a flow on one path"
                },
            ),
            Field::new(
                o + field::PAYLOAD_LEN.start,
                2,
                "Payload length",
                self.payload_len.ftext(),
                if self.payload_len == 0 && self.ext.iter().any(|e| e.kind == 0) {
                    "0: a jumbogram, whose real length is in a hop-by-hop option".into()
                } else {
                    FieldText::build(|b| {
                        b.s("bytes after this 40-byte header, extension headers included: ")
                            .u((HEADER_LEN + usize::from(self.payload_len)) as u64)
                            .s(" in all");
                    })
                },
            )
            .quoting_lengths(),
            Field::new(
                o + field::NEXT_HEADER,
                1,
                "Next header",
                self.next_header.ftext(),
                next_header_meaning(self.next_header),
            ),
            Field::new(
                o + field::HOP_LIMIT,
                1,
                "Hop limit",
                self.hop_limit.ftext(),
                hop_limit_meaning(self.hop_limit),
            ),
            Field::new(
                o + field::SRC.start,
                16,
                "Source address",
                self.src.ftext(),
                describe_addr(self.src),
            ),
            Field::new(
                o + field::DST.start,
                16,
                "Destination address",
                self.dst.ftext(),
                describe_addr(self.dst),
            ),
        ]
    }
}

impl Layer for Ipv6Ext {
    fn name(&self) -> &'static str {
        match self.kind {
            next_header::HOP_BY_HOP => "IPv6 hop-by-hop",
            next_header::ROUTING => "IPv6 routing",
            next_header::FRAGMENT => "IPv6 fragment",
            next_header::DEST_OPTS => "IPv6 dest-opts",
            next_header::AH => "AH",
            next_header::MOBILITY => "IPv6 mobility",
            next_header::HIP => "HIP",
            next_header::SHIM6 => "shim6",
            _ => "IPv6 ext",
        }
    }
    fn key(&self) -> &'static str {
        "ipv6"
    }
    fn mark(&self) -> char {
        'X'
    }
    fn hue(&self) -> Hue {
        Hue::BoldGreen
    }
    fn model(&self) -> Model {
        Model::Network
    }
    fn span(&self) -> Span {
        Span {
            offset: self.offset,
            len: self.len,
        }
    }
    fn title(&self) -> FieldText {
        ext_title(self.kind).into()
    }

    fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let mut v = vec![Field::new(
            o + ext_field::NEXT_HEADER,
            1,
            "Next header",
            self.next_header.ftext(),
            next_header_meaning(self.next_header),
        )];
        match &self.body {
            ExtBody::Fragment(f) => {
                let w = u32::from(f.offset | u16::from(f.reserved_bits) << 1 | u16::from(f.more));
                v.push(Field::new(
                    o + ext_field::FRAG_RESERVED,
                    1,
                    "Reserved",
                    f.reserved.ftext(),
                    if f.reserved == 0 {
                        "must be zero"
                    } else {
                        "must be zero, but is not"
                    },
                ));
                v.push(Field::bits(
                    o + ext_field::FRAG_OFFSET_M.start,
                    2,
                    u32::from(ext_field::FRAG_OFFSET_MASK),
                    w,
                    "Fragment offset",
                    ftext!("{} bytes", f.offset),
                    ftext!(
                        "{} × 8 bytes: where this piece goes in the original packet",
                        f.offset / 8
                    ),
                ));
                v.push(Field::bits(
                    o + ext_field::FRAG_OFFSET_M.start,
                    2,
                    u32::from(ext_field::FRAG_RES_MASK),
                    w,
                    "Reserved bits",
                    f.reserved_bits.ftext(),
                    "must be zero",
                ));
                v.push(Field::bits(
                    o + ext_field::FRAG_OFFSET_M.start,
                    2,
                    u32::from(ext_field::FRAG_M_BIT),
                    w,
                    "More fragments (M)",
                    u8::from(f.more).ftext(),
                    if f.more {
                        "more fragments of this packet follow"
                    } else if f.offset > 0 {
                        "this is the last fragment"
                    } else {
                        "offset 0 and no more: an atomic fragment, the whole packet in one piece"
                    },
                ));
                v.push(Field::new(
                    o + ext_field::FRAG_ID.start,
                    4,
                    "Identification",
                    ftext!("0x{:08x} ({})", f.id, f.id),
                    "all fragments of one packet carry the same ID; only the sender fragments in IPv6",
                ));
            }
            body => {
                let hel = self.hdr_ext_len();
                v.push(Field::new(
                    o + ext_field::HDR_EXT_LEN,
                    1,
                    "Header extension length",
                    hel.ftext(),
                    if self.kind == next_header::AH {
                        ftext!("({hel} + 2) × 4 = {} bytes", self.len)
                    } else {
                        ftext!(
                            "({hel} + 1) × 8 = {} bytes: counted in 8-byte units, not counting the first 8",
                            self.len
                        )
                    },
                ));
                match body {
                    ExtBody::Options(opts) => push_option_fields(&mut v, opts),
                    ExtBody::Routing {
                        routing_type,
                        segments_left,
                        addresses,
                    } => push_routing_fields(&mut v, o, *routing_type, *segments_left, addresses),
                    _ => {
                        if self.len > 2 {
                            v.push(Field::new(
                                o + 2,
                                self.len - 2,
                                "Data",
                                ftext!("{} bytes", self.len - 2),
                                "not decoded by wirelens",
                            ));
                        }
                    }
                }
            }
        }
        v
    }
}

fn push_option_fields(v: &mut Vec<Field>, opts: &[Ipv6Option]) {
    for opt in opts {
        let name = opt.name();
        v.push(Field::new(
            opt.offset,
            1,
            "Option type",
            ftext!("{} (0x{:02x})", name.unwrap_or("unknown"), opt.kind),
            option_action(opt.kind),
        ));
        if opt.kind == Ipv6Option::PAD1 {
            continue;
        }
        v.push(Field::new(
            opt.offset + 1,
            1,
            "Option length",
            opt.len.ftext(),
            "bytes of option data that follow",
        ));
        if opt.len == 0 {
            continue;
        }
        let (value, meaning): (FieldText, FieldText) = match (opt.kind, opt.data.as_slice()) {
            (Ipv6Option::PADN, d) => (
                ftext!("{} bytes", d.len()),
                "padding, so the next header starts on an 8-byte boundary".into(),
            ),
            (Ipv6Option::ROUTER_ALERT, &[a, b]) => {
                let n = u16::from_be_bytes([a, b]);
                (
                    n.ftext(),
                    match n {
                        0 => "the packet holds an MLD message: routers must look inside",
                        1 => "the packet holds an RSVP message: routers must look inside",
                        2 => "the packet holds an Active Networks message",
                        _ => "routers must look inside the packet",
                    }
                    .into(),
                )
            }
            (Ipv6Option::JUMBO, &[a, b, c, d]) => (
                u32::from_be_bytes([a, b, c, d]).ftext(),
                "the real payload length in bytes, for a jumbogram over 65,535 bytes".into(),
            ),
            (_, d) => (super::hex(d).into(), "".into()),
        };
        v.push(Field::new(
            opt.offset + 2,
            usize::from(opt.len),
            "Option data",
            value,
            meaning,
        ));
    }
}

fn push_routing_fields(
    v: &mut Vec<Field>,
    o: usize,
    routing_type: u8,
    segments_left: u8,
    addresses: &[Ipv6Addr],
) {
    v.push(Field::new(
        o + ext_field::ROUTING_TYPE,
        1,
        "Routing type",
        routing_type.ftext(),
        match routing_type {
            0 => "0: source route (deprecated by RFC 5095, for security)",
            2 => "2: Mobile IPv6 home address",
            3 => "3: RPL source route",
            4 => "4: segment routing (SRv6)",
            _ => "a routing type wirelens does not know",
        },
    ));
    v.push(Field::new(
        o + ext_field::SEGMENTS_LEFT,
        1,
        "Segments left",
        segments_left.ftext(),
        "route stops still to visit before the final destination",
    ));
    let name = match routing_type {
        4 => {
            v.push(Field::new(
                o + ext_field::SRH_LAST_ENTRY,
                1,
                "Last entry",
                addresses.len().saturating_sub(1).ftext(),
                "index of the last segment in the list",
            ));
            v.push(Field::new(o + ext_field::SRH_FLAGS, 1, "Flags", "", ""));
            v.push(Field::new(o + ext_field::SRH_TAG.start, 2, "Tag", "", ""));
            "Segment"
        }
        0 | 2 => {
            v.push(Field::new(
                o + ext_field::ROUTING_RESERVED.start,
                4,
                "Reserved",
                "",
                "",
            ));
            if routing_type == 2 {
                "Home address"
            } else {
                "Address"
            }
        }
        _ => return,
    };
    for (i, a) in addresses.iter().enumerate() {
        v.push(Field::new(
            o + ext_field::ROUTING_ADDRS + 16 * i,
            16,
            name,
            a.ftext(),
            ftext!("stop {i} of the route"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solicited_node_groups_and_scopes() {
        let a: Ipv6Addr = "fd77::2".parse().expect("address");
        assert_eq!(solicited_node(a).to_string(), "ff02::1:ff00:2");
        let b: Ipv6Addr = "fe80::77ff:fe12:3456".parse().expect("address");
        assert_eq!(solicited_node(b).to_string(), "ff02::1:ff12:3456");
        assert!(is_link_local(b) && !is_link_local(a));
        assert!(is_link_scope_multicast(ALL_NODES));
        assert!(is_link_scope_multicast(solicited_node(a)));
        assert!(!is_link_scope_multicast(
            "ff05::2".parse().expect("address")
        ));
        assert!(!is_link_scope_multicast(a));
        assert_eq!(
            crate::proto::MacAddr::ipv6_multicast(solicited_node(b)).to_string(),
            "33:33:ff:12:34:56"
        );
    }

    /// Frame 1 of captures/ipv6-noise.pcap from the IPv6 header on: an MLDv2 report
    /// from :: behind a hop-by-hop header with a Router Alert.
    const MLD_REPORT: [u8; 76] = [
        0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
        0x00, 0x24, // payload length 36
        0x00, // next header: hop-by-hop options
        0x01, // hop limit 1
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // source ::
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16, // destination ff02::16
        0x3a, // hop-by-hop: next header ICMPv6
        0x00, // hop-by-hop: length 0 → 8 bytes
        0x05, 0x02, 0x00, 0x00, // option Router Alert, 2 bytes, value 0 (MLD)
        0x01, 0x00, // option PadN, 0 bytes
        0x8f, 0x00, 0x6f, 0x88, // ICMPv6: MLDv2 report, code 0, checksum
        0x00, 0x00, 0x00, 0x01, // reserved, 1 record
        0x04, 0x00, 0x00, 0x00, // change to exclude, no aux data, no sources
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x00, 0x02, // group
    ];

    /// A first fragment of a UDP packet with a destination options header after the
    /// fragment header (hand-built; tshark decodes it the same way).
    const FRAGMENT: [u8; 72] = [
        0x6b, 0x81, 0x23, 0x45, // version 6, traffic class 0xb8 (EF), flow label 0x12345
        0x00, 0x20, // payload length 32
        0x2c, // next header: fragment
        0x40, // hop limit 64
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // source 2001:db8::1
        0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // destination fd77::2
        0x3c, // fragment: next header destination options
        0x00, // fragment: reserved
        0x00, 0x01, // fragment: offset 0, M set
        0xde, 0xad, 0xbe, 0xef, // fragment: identification
        0x11, // destination options: next header UDP
        0x00, // destination options: 8 bytes
        0x00, // option Pad1
        0x01, 0x03, 0x00, 0x00, 0x00, // option PadN, 3 bytes
        0x30, 0x39, 0x00, 0x35, // UDP: ports 12345 → 53
        0x00, 0x10, 0x00, 0x00, // UDP: length 16, checksum (not checked here)
        0, 0, 0, 0, 0, 0, 0, 0, // UDP payload
    ];

    #[test]
    fn parses_mld_report_with_hop_by_hop() {
        let ip = Ipv6::parse(&MLD_REPORT, 14).expect("76 bytes parse");
        assert_eq!((ip.version, ip.payload_len, ip.hop_limit), (6, 36, 1));
        assert_eq!(ip.src, Ipv6Addr::UNSPECIFIED);
        assert_eq!(ip.dst.to_string(), "ff02::16");
        assert_eq!(ip.ext.len(), 1);
        assert_eq!(
            (ip.ext[0].kind, ip.ext[0].len, ip.ext[0].offset),
            (0, 8, 54)
        );
        assert_eq!(ip.upper_layer(), (next_header::ICMPV6, 48));
        assert_eq!(ip.stopped, None);
        let ExtBody::Options(opts) = &ip.ext[0].body else {
            panic!("options")
        };
        assert_eq!(opts.len(), 2);
        assert_eq!((opts[0].name(), opts[0].offset), (Some("Router Alert"), 56));
        assert_eq!(opts[1].name(), Some("PadN"));
        let f = ip.ext[0].fields();
        assert!(f.iter().any(|f| f.meaning.contains("MLD message")));
        assert_eq!(ip.ext[0].title(), "IPv6 hop-by-hop options header");
        let json = serde_json::to_string(&ip).expect("serialises");
        assert_eq!(
            json,
            r#"{"version":6,"traffic_class":0,"flow_label":0,"payload_len":36,"next_header":0,"hop_limit":1,"src":"::","dst":"ff02::16","ext":[{"type":0,"len":8}]}"#
        );
    }

    #[test]
    fn parses_first_fragment_and_walks_on() {
        let ip = Ipv6::parse(&FRAGMENT, 0).expect("parses");
        assert_eq!((ip.traffic_class, ip.dscp, ip.ecn), (0xb8, 46, 0));
        assert_eq!(ip.flow_label, 0x12345);
        assert!(ip.is_fragment());
        let frag = ip.fragment().copied().expect("fragment header");
        assert_eq!((frag.offset, frag.more, frag.id), (0, true, 0xdead_beef));
        assert_eq!(ip.ext.len(), 2);
        assert_eq!(ip.upper_layer(), (next_header::UDP, 56));
        let json = serde_json::to_value(&ip).expect("serialises");
        assert_eq!(
            json["fragment"],
            serde_json::json!({"offset": 0, "more": true, "id": 0xdead_beefu32})
        );
        assert_eq!(
            json["ext"],
            serde_json::json!([{"type": 44, "len": 8}, {"type": 60, "len": 8}])
        );
        let fields = ip.fields();
        let dscp = fields.iter().find(|f| f.name == "DSCP").expect("DSCP");
        assert!(dscp.meaning.starts_with("EF"));
        assert_eq!(
            dscp.bits.as_deref(),
            Some(".... 1011 10.. .... .... .... .... ....")
        );
        let flow = fields
            .iter()
            .find(|f| f.name == "Flow label")
            .expect("flow");
        assert_eq!((flow.offset, flow.len), (1, 3));
        assert_eq!(flow.value, "0x12345");
        assert!(
            ip.ext[0]
                .fields()
                .iter()
                .any(|f| f.name == "More fragments (M)" && f.value == "1")
        );
    }

    #[test]
    fn a_later_fragment_stops_the_walk() {
        let mut b = FRAGMENT;
        b[42..44].copy_from_slice(&0x00b8u16.to_be_bytes()); // offset 23 × 8 = 184, M 0
        let ip = Ipv6::parse(&b, 0).expect("parses");
        assert_eq!(
            ip.fragment().map(|f| (f.offset, f.more)),
            Some((184, false))
        );
        assert_eq!(ip.upper_layer(), (next_header::DEST_OPTS, 48));
        assert_eq!(ip.stopped, None);
    }

    #[test]
    fn short_base_header_is_an_error_that_says_how_short() {
        let e = Ipv6::parse(&MLD_REPORT[..22], 14).expect_err("too short");
        assert_eq!(
            e.to_string(),
            "The IPv6 header at byte 14 needs 40 bytes but only 22 were captured."
        );
    }

    #[test]
    fn every_prefix_parses_or_is_rejected_without_panic() {
        for fixture in [&MLD_REPORT[..], &FRAGMENT[..]] {
            for n in 0..=fixture.len() {
                match Ipv6::parse(&fixture[..n], 14) {
                    Err(_) => assert!(n < HEADER_LEN),
                    Ok(ip) => {
                        assert!(n >= HEADER_LEN);
                        let (_, at) = ip.upper_layer();
                        assert!(at <= n.max(HEADER_LEN), "prefix {n}");
                        if n < 48 {
                            assert!(ip.stopped.is_some(), "prefix {n}");
                        }
                        let _ = ip.fields();
                        for e in &ip.ext {
                            let _ = e.fields();
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn cut_chain_says_where() {
        let ip = Ipv6::parse(&MLD_REPORT[..45], 14).expect("parses");
        assert!(ip.ext.is_empty());
        assert_eq!(
            ip.stopped.as_deref(),
            Some(
                "The IPv6 hop-by-hop options header at byte 54 needs 8 bytes but only 5 were captured."
            )
        );
        assert_eq!(ip.upper_layer(), (0, 40));
    }

    #[test]
    fn builder_round_trips_through_parse() {
        let a: Ipv6Addr = "fd77::1".parse().expect("address");
        let b: Ipv6Addr = "fd77::2".parse().expect("address");
        let mut ip = Ipv6::new(a, b, next_header::UDP, 1232).expect("fits");
        ip.traffic_class = 0x2e;
        ip.dscp = 0x0b;
        ip.ecn = 2;
        ip.flow_label = 0xabcde;
        ip.hop_limit = 255;
        let mut out = Vec::new();
        ip.emit(&mut out);
        assert_eq!(out.len(), HEADER_LEN);
        assert_eq!(Ipv6::parse(&out, 0), Ok(ip.clone()));
        ip.set_offset(14);
        assert_eq!(Ipv6::parse(&out, 14), Ok(ip));
        assert!(Ipv6::new(a, b, 17, 65_535).is_some());
        assert!(Ipv6::new(a, b, 17, 65_536).is_none());
    }

    #[test]
    fn addresses_are_described() {
        let d = |s: &str| describe_addr(s.parse().expect("address")).to_string();
        assert!(d("::").contains("DAD probe"));
        assert!(d("::1").contains("loopback"));
        assert!(d("::ffff:10.0.0.1").contains("10.0.0.1"));
        assert!(d("fe80::77:ff:fe00:1").starts_with("link-local"));
        assert!(d("fd77::1").contains("locally assigned"));
        assert!(d("fc00::1").starts_with("unique local (fc00::/7)"));
        assert!(d("2001:db8::1").starts_with("documentation"));
        assert!(d("2a00:1450::1").starts_with("global unicast"));
        assert!(d("4000::1").starts_with("reserved"));
        assert!(d("ff02::1").contains("all nodes"));
        assert!(d("ff02::2").contains("all routers"));
        assert!(d("ff02::16").contains("MLDv2"));
        assert!(d("ff02::fb").contains("mDNS"));
        assert!(d("ff02::1:2").contains("DHCPv6"));
        assert_eq!(
            d("ff02::1:ff00:2"),
            "solicited-node group of addresses ending in :00:0002 (their last 24 bits), where NDP asks \"who has\""
        );
        assert_eq!(d("ff0e::123"), "multicast group, global scope");
        assert_eq!(
            d("ff05::1:3"),
            "multicast, site-local scope: all DHCPv6 servers"
        );
    }

    #[test]
    fn next_headers_are_named() {
        assert_eq!(next_header_name(0), Some("hop-by-hop options"));
        assert_eq!(next_header_name(58), Some("ICMPv6"));
        assert_eq!(next_header_name(44), Some("fragment header"));
        assert_eq!(next_header_name(200), None);
    }

    #[test]
    fn routing_header_lists_its_addresses() {
        let mut b = vec![0u8; 40];
        let a = Ipv6::new(
            Ipv6Addr::LOCALHOST,
            Ipv6Addr::LOCALHOST,
            next_header::ROUTING,
            24,
        )
        .expect("fits");
        b.clear();
        a.emit(&mut b);
        b.extend_from_slice(&[
            0x3b, // next header: none
            0x02, // length (2 + 1) × 8 = 24
            0x02, // routing type 2 (Mobile IPv6)
            0x01, // segments left 1
            0, 0, 0, 0, // reserved
        ]);
        b.extend_from_slice(&"2001:db8::99".parse::<Ipv6Addr>().expect("a").octets());
        let ip = Ipv6::parse(&b, 0).expect("parses");
        let ExtBody::Routing {
            routing_type,
            segments_left,
            addresses,
        } = &ip.ext[0].body
        else {
            panic!("routing")
        };
        assert_eq!((*routing_type, *segments_left), (2, 1));
        assert_eq!(addresses[0].to_string(), "2001:db8::99");
        assert_eq!(ip.upper_layer(), (next_header::NO_NEXT_HEADER, 64));
        assert!(ip.ext[0].fields().iter().any(|f| f.name == "Home address"));
    }
}
