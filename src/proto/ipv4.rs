//! IPv4 (RFC 791): addresses, time to live, the protocol inside, and fragmentation — how a
//! datagram bigger than the link's MTU is cut into pieces that each fit a frame.

use super::{FieldText, ToFieldText, ftext};
use crate::text::Text;
use std::net::Ipv4Addr;

use serde::Serialize;

use super::checksum::Sum;
use super::{Field, be8, be16, ipv4_at};

/// Byte ranges of the IPv4 header, relative to its start.
pub mod field {
    use std::ops::Range;
    /// Version (high 4 bits) and IHL (low 4 bits, in 4-byte units).
    pub const VER_IHL: usize = 0;
    /// DSCP (high 6 bits) and ECN (low 2 bits).
    pub const DSCP_ECN: usize = 1;
    /// Total length of the datagram (header + payload), in bytes.
    pub const TOTAL_LEN: Range<usize> = 2..4;
    /// Identification: the same for every fragment of one datagram.
    pub const ID: Range<usize> = 4..6;
    /// Flags (3 bits) and fragment offset (13 bits, in 8-byte units).
    pub const FLAGS_FRAG: Range<usize> = 6..8;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Protocol of the payload.
    pub const PROTOCOL: usize = 9;
    /// Header checksum.
    pub const CHECKSUM: Range<usize> = 10..12;
    /// Source address.
    pub const SRC: Range<usize> = 12..16;
    /// Destination address.
    pub const DST: Range<usize> = 16..20;
    /// Where options start, if IHL > 5.
    pub const OPTIONS: usize = 20;
    /// Reserved ("evil") bit within the flags/offset word.
    pub const RESERVED_BIT: u16 = 0x8000;
    /// Don't Fragment bit within the flags/offset word.
    pub const DF_BIT: u16 = 0x4000;
    /// More Fragments bit within the flags/offset word.
    pub const MF_BIT: u16 = 0x2000;
    /// Fragment offset bits within the flags/offset word.
    pub const OFFSET_MASK: u16 = 0x1fff;
}

/// Length of a header without options, in bytes.
pub const MIN_HEADER_LEN: usize = 20;

/// An IP protocol number: which protocol an IPv4 payload belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpProto(pub u8);

impl IpProto {
    /// Internet Control Message Protocol.
    pub const ICMP: IpProto = IpProto(1);
    /// Internet Group Management Protocol.
    pub const IGMP: IpProto = IpProto(2);
    /// IPv4 encapsulated in IPv4.
    pub const IPIP: IpProto = IpProto(4);
    /// Transmission Control Protocol.
    pub const TCP: IpProto = IpProto(6);
    /// User Datagram Protocol.
    pub const UDP: IpProto = IpProto(17);
    /// IPv6 encapsulated in IPv4.
    pub const IPV6: IpProto = IpProto(41);
    /// Generic Routing Encapsulation.
    pub const GRE: IpProto = IpProto(47);
    /// IPsec Encapsulating Security Payload.
    pub const ESP: IpProto = IpProto(50);
    /// IPsec Authentication Header.
    pub const AH: IpProto = IpProto(51);
    /// ICMP for IPv6.
    pub const ICMPV6: IpProto = IpProto(58);
    /// Open Shortest Path First.
    pub const OSPF: IpProto = IpProto(89);
    /// Virtual Router Redundancy Protocol.
    pub const VRRP: IpProto = IpProto(112);
    /// Stream Control Transmission Protocol.
    pub const SCTP: IpProto = IpProto(132);

    /// The protocol's short name, if we know it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::ICMP => "ICMP",
            Self::IGMP => "IGMP",
            Self::IPIP => "IP-in-IP",
            Self::TCP => "TCP",
            Self::UDP => "UDP",
            Self::IPV6 => "IPv6-in-IPv4",
            Self::GRE => "GRE",
            Self::ESP => "ESP",
            Self::AH => "AH",
            Self::ICMPV6 => "ICMPv6",
            Self::OSPF => "OSPF",
            Self::VRRP => "VRRP",
            Self::SCTP => "SCTP",
            _ => return None,
        })
    }
}

/// One IPv4 option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv4Option {
    /// Option type byte (copied flag, class and number).
    #[serde(rename = "type")]
    pub kind: u8,
    /// The option's name.
    pub name: &'static str,
    /// Its length in bytes, type byte included.
    pub len: u8,
    /// Offset of the option in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
}

fn option_name(kind: u8) -> &'static str {
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

/// An IPv4 header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ipv4 {
    /// Offset of the header in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// Version: 4.
    pub version: u8,
    /// Header length, in bytes (the IHL field times 4).
    pub ihl: u8,
    /// Differentiated services code point (quality-of-service class).
    pub dscp: u8,
    /// Explicit congestion notification.
    pub ecn: u8,
    /// Total length of the datagram, header included, in bytes.
    pub total_len: u16,
    /// Identification; every fragment of one datagram shares it.
    pub id: u16,
    /// The reserved flag bit (must be zero).
    #[serde(skip)]
    pub reserved_flag: bool,
    /// Don't Fragment.
    pub df: bool,
    /// More Fragments: more pieces of this datagram follow.
    pub mf: bool,
    /// Where this fragment's payload goes in the datagram, in bytes.
    pub frag_offset: u16,
    /// Time to live: routers decrement it and drop the datagram at 0.
    pub ttl: u8,
    /// Protocol number of the payload.
    pub proto: u8,
    /// Header checksum as sent.
    pub checksum: u16,
    /// Whether the header checksum verifies; `None` when the header was not all captured.
    pub checksum_ok: Option<bool>,
    /// Source address.
    #[serde(serialize_with = "crate::text::ser_ipv4")]
    pub src: Ipv4Addr,
    /// Destination address.
    #[serde(serialize_with = "crate::text::ser_ipv4")]
    pub dst: Ipv4Addr,
    /// Options, if IHL > 5.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Ipv4Option>,
}

impl Ipv4 {
    /// Reads the header from the start of `b`: `None` under 20 bytes. Options are read
    /// as far as they were captured; the checksum is verified only if the whole header
    /// (IHL × 4 bytes) is present. `#[inline]` for the reason given at `Tcp::parse`.
    #[inline]
    pub fn parse(b: &[u8], offset: usize) -> Option<Ipv4> {
        if b.len() < MIN_HEADER_LEN {
            return None;
        }
        let ver_ihl = be8(b, field::VER_IHL);
        let ihl = (ver_ihl & 0x0f) * 4;
        let tos = be8(b, field::DSCP_ECN);
        let ff = be16(b, field::FLAGS_FRAG.start);
        let hlen = usize::from(ihl);
        let checksum_ok = (hlen >= MIN_HEADER_LEN)
            .then(|| b.get(..hlen))
            .flatten()
            .map(|h| Sum::default().add_bytes(h).verifies());
        let options = match b.get(MIN_HEADER_LEN..hlen.min(b.len())) {
            Some(opts) => parse_options(opts, offset + MIN_HEADER_LEN),
            None => Vec::new(),
        };
        Some(Ipv4 {
            offset,
            version: ver_ihl >> 4,
            ihl,
            dscp: tos >> 2,
            ecn: tos & 0x03,
            total_len: be16(b, field::TOTAL_LEN.start),
            id: be16(b, field::ID.start),
            reserved_flag: ff & field::RESERVED_BIT != 0,
            df: ff & field::DF_BIT != 0,
            mf: ff & field::MF_BIT != 0,
            frag_offset: (ff & field::OFFSET_MASK) * 8,
            ttl: be8(b, field::TTL),
            proto: be8(b, field::PROTOCOL),
            checksum: be16(b, field::CHECKSUM.start),
            checksum_ok,
            src: ipv4_at(b, field::SRC.start),
            dst: ipv4_at(b, field::DST.start),
            options,
        })
    }

    /// A 20-byte header, at offset 0, for a datagram from `src` to `dst` carrying
    /// `payload_len` bytes of `proto`: identification `id`, no flags, TTL 64 (the Linux
    /// default) and a correct checksum. `None` when the datagram would be longer than
    /// the 65,535 bytes the total-length field can say.
    ///
    /// After changing a field (`ttl`, `df`, `mf`, `frag_offset`…), call
    /// [`Ipv4::fill_checksum`] again.
    pub fn new(
        src: Ipv4Addr,
        dst: Ipv4Addr,
        proto: IpProto,
        id: u16,
        payload_len: usize,
    ) -> Option<Ipv4> {
        let total_len = u16::try_from(MIN_HEADER_LEN.checked_add(payload_len)?).ok()?;
        let mut ip = Ipv4 {
            offset: 0,
            version: 4,
            ihl: MIN_HEADER_LEN as u8,
            dscp: 0,
            ecn: 0,
            total_len,
            id,
            reserved_flag: false,
            df: false,
            mf: false,
            frag_offset: 0,
            ttl: 64,
            proto: proto.0,
            checksum: 0,
            checksum_ok: None,
            src,
            dst,
            options: Vec::new(),
        };
        ip.fill_checksum();
        Some(ip)
    }

    /// Moves the header to `offset` in the frame, with its options.
    pub fn set_offset(&mut self, offset: usize) {
        for o in &mut self.options {
            o.offset = o.offset.saturating_sub(self.offset).saturating_add(offset);
        }
        self.offset = offset;
    }

    /// Computes the header checksum over the header as [`Ipv4::emit`] writes it, and
    /// stores it (so `checksum_ok` becomes true).
    pub fn fill_checksum(&mut self) {
        self.checksum = 0;
        let mut hdr = Vec::with_capacity(usize::from(self.ihl).max(MIN_HEADER_LEN));
        self.emit(&mut hdr);
        self.checksum = Sum::default().add_bytes(&hdr).checksum();
        self.checksum_ok = Some(true);
    }

    /// Appends the header to `out`, `ihl` bytes long (at least 20): the fixed part with
    /// `checksum` as it is (a wrong one stays wrong), then the options. The parser keeps
    /// only an option's type and length, so its data bytes are written as zeros; bytes
    /// left up to `ihl` are zero too (end of option list).
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.push(self.version << 4 | (self.ihl / 4) & 0x0f);
        out.push(self.dscp << 2 | self.ecn & 0x03);
        out.extend_from_slice(&self.total_len.to_be_bytes());
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&(self.flags_word() as u16).to_be_bytes());
        out.push(self.ttl);
        out.push(self.proto);
        out.extend_from_slice(&self.checksum.to_be_bytes());
        out.extend_from_slice(&self.src.octets());
        out.extend_from_slice(&self.dst.octets());
        for opt in &self.options {
            out.push(opt.kind);
            if opt.kind > 1 {
                out.push(opt.len);
                out.resize(out.len() + usize::from(opt.len).saturating_sub(2), 0);
            }
        }
        out.resize(start + usize::from(self.ihl).max(MIN_HEADER_LEN), 0);
    }

    /// True when this packet is one piece of a fragmented datagram.
    pub fn is_fragment(&self) -> bool {
        self.mf || self.frag_offset > 0
    }

    /// Payload length per the header (total length − header length), in bytes.
    pub fn payload_len(&self) -> usize {
        usize::from(self.total_len).saturating_sub(usize::from(self.ihl))
    }

    /// The protocol of the payload.
    pub fn protocol(&self) -> IpProto {
        IpProto(self.proto)
    }

    fn flags_word(&self) -> u32 {
        let mut w = self.frag_offset / 8;
        if self.reserved_flag {
            w |= field::RESERVED_BIT;
        }
        if self.df {
            w |= field::DF_BIT;
        }
        if self.mf {
            w |= field::MF_BIT;
        }
        u32::from(w)
    }

    /// The header's fields, with their meanings.
    pub fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let ver_ihl = u32::from(self.version << 4 | (self.ihl / 4));
        let tos = u32::from(self.dscp << 2 | self.ecn);
        let ff = self.flags_word();
        let mut v = vec![
            Field::bits(
                o,
                1,
                0xf0,
                ver_ihl,
                "Version",
                self.version.ftext(),
                if self.version == 4 {
                    "IPv4"
                } else {
                    "not 4: this is not a valid IPv4 header"
                },
            ),
            Field::bits(
                o,
                1,
                0x0f,
                ver_ihl,
                "Header length (IHL)",
                FieldText::build(|b| {
                    b.u(self.ihl.into()).s(" bytes");
                }),
                FieldText::build(|b| {
                    b.s("counted in 4-byte words: ")
                        .u((self.ihl / 4).into())
                        .s(" × 4 = ")
                        .u(self.ihl.into())
                        .s(" bytes")
                        .s(if usize::from(self.ihl) > MIN_HEADER_LEN {
                            "; more than 20, so options follow"
                        } else {
                            ", no options"
                        });
                }),
            ),
            Field::bits(
                o + field::DSCP_ECN,
                1,
                0xfc,
                tos,
                "DSCP",
                self.dscp.ftext(),
                dscp_name(self.dscp),
            ),
            Field::bits(
                o + field::DSCP_ECN,
                1,
                0x03,
                tos,
                "ECN",
                self.ecn.ftext(),
                match self.ecn {
                    0 => "not ECN-capable",
                    1 | 2 => "ECN-capable transport",
                    _ => "congestion experienced: a router marked it instead of dropping it",
                },
            ),
            Field::new(
                o + field::TOTAL_LEN.start,
                2,
                "Total length",
                self.total_len.ftext(),
                FieldText::build(|b| {
                    b.s("bytes in this datagram: ")
                        .u(self.ihl.into())
                        .s("-byte header + ")
                        .u(self.payload_len() as u64)
                        .s("-byte payload");
                }),
            )
            .quoting_lengths(),
            Field::new(
                o + field::ID.start,
                2,
                "Identification",
                FieldText::build(|b| {
                    b.hex4(self.id).s(" (").u(self.id.into()).s(")");
                }),
                "all fragments of one datagram carry the same ID",
            ),
            Field::bits(
                o + field::FLAGS_FRAG.start,
                2,
                u32::from(field::RESERVED_BIT),
                ff,
                "Reserved flag",
                u8::from(self.reserved_flag).ftext(),
                if self.reserved_flag {
                    "must be zero, but is set"
                } else {
                    "must be zero"
                },
            ),
            Field::bits(
                o + field::FLAGS_FRAG.start,
                2,
                u32::from(field::DF_BIT),
                ff,
                "Don't fragment (DF)",
                u8::from(self.df).ftext(),
                if self.df {
                    "don't fragment: a router that would have to fragment it drops it and sends ICMP \"fragmentation needed\" with its MTU; path MTU discovery relies on this"
                } else {
                    "a router may fragment it to fit a smaller link"
                },
            ),
            Field::bits(
                o + field::FLAGS_FRAG.start,
                2,
                u32::from(field::MF_BIT),
                ff,
                "More fragments (MF)",
                u8::from(self.mf).ftext(),
                if self.mf {
                    "more fragments of this datagram follow"
                } else if self.frag_offset > 0 {
                    "this is the last fragment"
                } else {
                    "not fragmented: this is the whole datagram"
                },
            ),
            Field::bits(
                o + field::FLAGS_FRAG.start,
                2,
                u32::from(field::OFFSET_MASK),
                ff,
                "Fragment offset",
                FieldText::build(|b| {
                    b.u(self.frag_offset.into()).s(" bytes");
                }),
                FieldText::build(|b| {
                    b.u((self.frag_offset / 8).into())
                        .s(" × 8 bytes: where this piece's payload goes in the datagram");
                }),
            ),
            Field::new(
                o + field::TTL,
                1,
                "Time to live",
                self.ttl.ftext(),
                ttl_meaning(self.ttl),
            ),
            Field::new(
                o + field::PROTOCOL,
                1,
                "Protocol",
                self.proto.ftext(),
                match self.protocol().name() {
                    Some(n) => FieldText::build(|b| {
                        b.s("the payload is ").s(n);
                    }),
                    None => "a protocol wirelens does not know".ftext(),
                },
            ),
            Field::new(
                o + field::CHECKSUM.start,
                2,
                "Header checksum",
                FieldText::build(|b| {
                    b.hex4(self.checksum);
                }),
                match self.checksum_ok {
                    Some(true) => "correct: covers the header only",
                    Some(false) => {
                        "WRONG: the header was damaged, or the sender's NIC fills it in after capture"
                    }
                    None => "not verified: the header was not all captured",
                },
            ),
            Field::new(
                o + field::SRC.start,
                4,
                "Source address",
                self.src.ftext(),
                describe_addr(self.src),
            ),
            Field::new(
                o + field::DST.start,
                4,
                "Destination address",
                self.dst.ftext(),
                describe_addr(self.dst),
            ),
        ];
        for opt in &self.options {
            v.push(Field::new(
                opt.offset,
                usize::from(opt.len),
                "Option",
                ftext!("{} ({})", opt.name, opt.kind),
                ftext!("{} bytes", opt.len),
            ));
        }
        v
    }
}

fn parse_options(opts: &[u8], offset: usize) -> Vec<Ipv4Option> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(&kind) = opts.get(i) {
        let len = match kind {
            0 | 1 => 1,
            _ => match opts.get(i + 1) {
                Some(&l) if l >= 2 => l,
                _ => break, // malformed or cut short: stop, never loop forever
            },
        };
        out.push(Ipv4Option {
            kind,
            name: option_name(kind),
            len,
            offset: offset + i,
        });
        if kind == 0 {
            break;
        }
        i += usize::from(len);
    }
    out
}

/// What kind of address this is, the way a networking course sorts them.
pub fn describe_addr(a: Ipv4Addr) -> &'static str {
    if a.is_broadcast() {
        "limited broadcast: every host on this link, never routed"
    } else if a.is_unspecified() {
        "0.0.0.0: \"this host\", used before it has an address"
    } else if a.is_loopback() {
        "loopback: this host itself"
    } else if a.is_multicast() {
        "multicast group"
    } else if a.is_link_local() {
        "link-local (169.254/16): self-assigned, never routed"
    } else if a.is_private() {
        "private (RFC 1918): used inside a network, not routed on the Internet"
    } else if a.octets()[3] == 255 {
        "ends in .255: a subnet broadcast address if the prefix is /24"
    } else {
        "unicast"
    }
}

/// The meaning of a TTL. RFC 791 counts it in seconds, but every router subtracts 1
/// (RFC 1812 §5.3.1), so in practice it is a hop limit. The common starting values are
/// named; a captured value is the sender's start less the routers crossed.
fn ttl_meaning(ttl: u8) -> super::FieldText {
    // A macro, so that each meaning is one constant (formatting the long text was an
    // allocation per packet).
    macro_rules! hops {
        () => {
            "a hop count in practice: each router subtracts 1, and one that brings it to 0 drops the datagram and sends ICMP \"time exceeded\""
        };
    }
    match ttl {
        0 => "0: no router may forward it".into(),
        1 => "1: the first router drops it and sends ICMP \"time exceeded\" (how traceroute finds the first hop)".into(),
        64 => concat!(hops!(), " (64: Linux's and macOS's starting value)").into(),
        128 => concat!(hops!(), " (128: Windows's starting value)").into(),
        255 => concat!(hops!(), " (255: the maximum)").into(),
        _ => hops!().into(),
    }
}

/// The name of a DSCP code point (RFC 2474 class selectors, RFC 2597 assured forwarding,
/// RFC 3246 expedited forwarding, RFC 5865 voice-admit, RFC 8622 lower effort).
fn dscp_name(dscp: u8) -> &'static str {
    match dscp {
        0 => "default (best effort)",
        1 => "LE: lower effort, below best effort",
        46 => "EF: expedited forwarding (low delay, e.g. voice)",
        44 => "VOICE-ADMIT: expedited forwarding with admission control",
        8 => "CS1: class selector 1 (low-priority data)",
        16 | 24 | 32 | 40 => "class selector (compatible with the old IP precedence)",
        48 => "CS6: class selector 6 (network control)",
        56 => "CS7: class selector 7 (reserved for network control)",
        10 | 12 | 14 | 18 | 20 | 22 | 26 | 28 | 30 | 34 | 36 | 38 => {
            "AF: assured forwarding (a class and a drop precedence)"
        }
        _ => "no standard meaning: unassigned, experimental or local use",
    }
}

impl super::Layer for Ipv4 {
    fn name(&self) -> &'static str {
        "IPv4"
    }

    fn explain(&self, _around: &super::Around, out: &mut Vec<u8>) -> bool {
        use crate::text::Text;
        out.s("IPv4 id=")
            .hex4(self.id)
            .s(" ttl=")
            .u(self.ttl.into());
        true
    }

    fn key(&self) -> &'static str {
        "ipv4"
    }

    fn mark(&self) -> char {
        'I'
    }

    fn hue(&self) -> super::Hue {
        super::Hue::Green
    }

    fn model(&self) -> super::Model {
        super::Model::Network
    }

    fn span(&self) -> super::Span {
        super::Span {
            offset: self.offset,
            len: usize::from(self.ihl),
        }
    }

    fn fields(&self) -> Vec<Field> {
        Ipv4::fields(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: [u8; 24] = [
        0x46, // version 4, IHL 6 (24 bytes)
        0x00, // DSCP 0, ECN 0
        0x00, 0x20, // total length 32
        0x12, 0x34, // identification
        0x20, 0xb9, // MF set, fragment offset 185 × 8 = 1480 bytes
        0x40, // TTL 64
        0x11, // protocol UDP
        0x00, 0x00, // checksum (filled in by the test)
        0x0a, 0x4d, 0x00, 0x01, // source 10.77.0.1
        0x0a, 0x4d, 0x00, 0xff, // destination 10.77.0.255
        0x94, 0x04, 0x00, 0x00, // option: Router Alert, 4 bytes
    ];

    fn fixture() -> [u8; 24] {
        let mut b = FIXTURE;
        let c = Sum::default().add_bytes(&b).checksum();
        b[10..12].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn parses_fixture() {
        let b = fixture();
        let ip = Ipv4::parse(&b, 14).expect("24 bytes parse");
        assert_eq!((ip.version, ip.ihl, ip.total_len), (4, 24, 32));
        assert!(ip.mf && !ip.df);
        assert_eq!(ip.frag_offset, 1480);
        assert_eq!(ip.checksum_ok, Some(true));
        assert_eq!(ip.options.len(), 1);
        assert_eq!(ip.options[0].name, "Router Alert");
        assert_eq!(ip.options[0].offset, 14 + 20);
        assert_eq!(ip.flags_word(), 0x20b9);
        assert!(ip.fields().iter().any(|f| f.name == "Option"));
    }

    #[test]
    fn bad_checksum_is_reported() {
        let mut b = fixture();
        b[8] = 63;
        assert_eq!(Ipv4::parse(&b, 0).and_then(|i| i.checksum_ok), Some(false));
    }

    #[test]
    fn every_prefix_parses_or_is_rejected_without_panic() {
        let b = fixture();
        for n in 0..b.len() {
            let ip = Ipv4::parse(&b[..n], 0);
            if n < MIN_HEADER_LEN {
                assert!(ip.is_none());
            } else {
                // Header cut inside its options: fields kept, checksum unverifiable.
                assert_eq!(ip.and_then(|i| i.checksum_ok), None, "prefix {n}");
            }
        }
    }

    #[test]
    fn emit_gives_back_the_fixture() {
        let b = fixture();
        let ip = Ipv4::parse(&b, 0).expect("24 bytes parse");
        let mut out = Vec::new();
        ip.emit(&mut out);
        assert_eq!(out, b);
    }

    #[test]
    fn builder_round_trips_through_parse() {
        let (a, b) = (Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::BROADCAST);
        let mut ip = Ipv4::new(a, b, IpProto::UDP, 0xbeef, 1480).expect("fits");
        assert_eq!((ip.total_len, ip.checksum_ok), (1500, Some(true)));
        ip.set_offset(14);
        let mut out = Vec::new();
        ip.emit(&mut out);
        assert_eq!(Ipv4::parse(&out, 14).as_ref(), Some(&ip));
        // A fragment: change fields, refill the checksum, and it still round-trips.
        ip.mf = true;
        ip.frag_offset = 2960;
        ip.ttl = 1;
        ip.fill_checksum();
        let mut out = Vec::new();
        ip.emit(&mut out);
        let back = Ipv4::parse(&out, 14).expect("20 bytes parse");
        assert_eq!(back, ip);
        assert!(back.is_fragment() && back.checksum_ok == Some(true));
        // A stale checksum is emitted as it is, and the parser says so.
        ip.ttl = 2;
        let mut out = Vec::new();
        ip.emit(&mut out);
        assert_eq!(
            Ipv4::parse(&out, 14).and_then(|i| i.checksum_ok),
            Some(false)
        );
    }

    #[test]
    fn builder_refuses_datagrams_over_64_kib() {
        let a = Ipv4Addr::new(10, 77, 0, 1);
        assert!(Ipv4::new(a, a, IpProto::UDP, 1, 65_515).is_some());
        assert!(Ipv4::new(a, a, IpProto::UDP, 1, 65_516).is_none());
        assert!(Ipv4::new(a, a, IpProto::UDP, 1, usize::MAX).is_none());
    }

    #[test]
    fn option_walk_terminates_on_garbage() {
        assert_eq!(parse_options(&[7, 0, 7, 1], 0).len(), 0);
        assert_eq!(parse_options(&[1, 1, 1, 0, 9, 9], 0).len(), 4);
        assert_eq!(parse_options(&[7, 40], 0).len(), 1);
    }

    #[test]
    fn ttl_is_a_hop_count_and_dscp_names_are_not_guessed() {
        assert!(ttl_meaning(64).contains("hop count"));
        assert!(ttl_meaning(64).contains("time exceeded"));
        assert!(ttl_meaning(57).contains("hop count"));
        assert!(dscp_name(40).starts_with("class selector"));
        assert!(dscp_name(3).starts_with("no standard meaning"));
        assert!(dscp_name(1).starts_with("LE"));
    }
}
