//! Linux "cooked" capture headers: what libpcap puts in front of each packet when it
//! captures on the `any` pseudo-interface (or on a device without a link-layer header
//! it can use). `any` mixes interfaces of different kinds (Ethernet, loopback, tun…), so
//! libpcap drops each one's own link header and writes this one instead: it is on no
//! wire. Version 1 (LINKTYPE_LINUX_SLL, 113) is 16 bytes; version 2
//! (LINKTYPE_LINUX_SLL2, 276, what tcpdump 4.99 writes) is 20 bytes and adds the
//! interface index.

use serde::{Serialize, Serializer};

use super::ethernet::EtherType;
use super::{Field, FieldText, ToFieldText, be16, be32, ftext};

/// Length of a version 1 header, in bytes.
pub const V1_LEN: usize = 16;
/// Length of a version 2 header, in bytes.
pub const V2_LEN: usize = 20;
/// Room for the link-layer address in either version, in bytes.
pub const ADDR_ROOM: usize = 8;

/// Byte ranges of a version 1 header.
pub mod v1 {
    use std::ops::Range;
    /// Packet type: to us, broadcast, multicast, to another host, sent by us.
    pub const PACKET_TYPE: Range<usize> = 0..2;
    /// ARPHRD_ type of the interface (1 Ethernet, 772 loopback…).
    pub const ARPHRD: Range<usize> = 2..4;
    /// Length of the link-layer address.
    pub const ADDR_LEN: Range<usize> = 4..6;
    /// The link-layer address, padded to 8 bytes.
    pub const ADDR: Range<usize> = 6..14;
    /// Protocol: an EtherType, or a Linux ETH_P_ value below 0x0600.
    pub const PROTOCOL: Range<usize> = 14..16;
}

/// Byte ranges of a version 2 header.
pub mod v2 {
    use std::ops::Range;
    /// Protocol: an EtherType, or a Linux ETH_P_ value below 0x0600.
    pub const PROTOCOL: Range<usize> = 0..2;
    /// Reserved, zero.
    pub const RESERVED: Range<usize> = 2..4;
    /// Index of the interface the packet was seen on.
    pub const IFINDEX: Range<usize> = 4..8;
    /// ARPHRD_ type of the interface.
    pub const ARPHRD: Range<usize> = 8..10;
    /// Packet type.
    pub const PACKET_TYPE: usize = 10;
    /// Length of the link-layer address.
    pub const ADDR_LEN: usize = 11;
    /// The link-layer address, padded to 8 bytes.
    pub const ADDR: Range<usize> = 12..20;
}

/// A Linux cooked capture header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sll {
    /// Offset of the header in the frame (always 0).
    #[serde(skip)]
    pub offset: usize,
    /// 1 or 2.
    pub version: u8,
    /// Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
    pub packet_type: u16,
    /// The interface's ARPHRD_ type (1 Ethernet, 772 loopback, 65534 none, e.g. tun).
    pub arphrd: u16,
    /// The address length field, as sent (may exceed the 8 bytes of room).
    #[serde(skip)]
    pub addr_len: u16,
    /// The link-layer address (its first `addr_len` bytes, at most 8).
    #[serde(serialize_with = "ser_addr")]
    pub addr: Vec<u8>,
    /// The protocol of what follows: an EtherType.
    pub protocol: u16,
    /// Version 2: the index of the interface the packet was seen on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ifindex: Option<u32>,
}

/// A link-layer address written `aa:bb:cc:…`, colon-separated hex bytes, as the JSON
/// `sll.addr` has it.
pub struct AddrText<'a>(pub &'a [u8]);

impl std::fmt::Display for AddrText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// `aa:bb:cc:…`, the address as colon-separated hex bytes.
fn addr_text(addr: &[u8]) -> String {
    AddrText(addr).to_string()
}

fn ser_addr<S: Serializer>(addr: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&addr_text(addr))
}

impl Sll {
    /// Reads a version 1 header from the start of `b`; `None` under 16 bytes.
    pub fn parse_v1(b: &[u8]) -> Option<Sll> {
        if b.len() < V1_LEN {
            return None;
        }
        let addr_len = be16(b, v1::ADDR_LEN.start);
        let shown = usize::from(addr_len).min(ADDR_ROOM);
        Some(Sll {
            offset: 0,
            version: 1,
            packet_type: be16(b, v1::PACKET_TYPE.start),
            arphrd: be16(b, v1::ARPHRD.start),
            addr_len,
            addr: b.get(v1::ADDR.start..v1::ADDR.start + shown)?.to_vec(),
            protocol: be16(b, v1::PROTOCOL.start),
            ifindex: None,
        })
    }

    /// Reads a version 2 header from the start of `b`; `None` under 20 bytes.
    pub fn parse_v2(b: &[u8]) -> Option<Sll> {
        if b.len() < V2_LEN {
            return None;
        }
        let addr_len = u16::from(*b.get(v2::ADDR_LEN)?);
        let shown = usize::from(addr_len).min(ADDR_ROOM);
        Some(Sll {
            offset: 0,
            version: 2,
            packet_type: u16::from(*b.get(v2::PACKET_TYPE)?),
            arphrd: be16(b, v2::ARPHRD.start),
            addr_len,
            addr: b.get(v2::ADDR.start..v2::ADDR.start + shown)?.to_vec(),
            protocol: be16(b, v2::PROTOCOL.start),
            ifindex: Some(be32(b, v2::IFINDEX.start)),
        })
    }

    /// Header length: 16 or 20 bytes.
    pub fn len(&self) -> usize {
        if self.version == 2 { V2_LEN } else { V1_LEN }
    }

    /// Always false: a header has at least 16 bytes (for clippy's `len` rule).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The header's fields, with their meanings.
    pub fn fields(&self) -> Vec<Field> {
        let ptype = (
            "Packet type",
            self.packet_type.ftext(),
            packet_type_name(self.packet_type),
        );
        let arphrd = ("ARPHRD type", self.arphrd.ftext(), arphrd_name(self.arphrd));
        let addr_len = (
            "Address length",
            self.addr_len.ftext(),
            if usize::from(self.addr_len) > ADDR_ROOM {
                "bytes of link-layer address; only the first 8 fit in the header".ftext()
            } else {
                ftext!(
                    "bytes of link-layer address used, of the 8 bytes of room (the rest is padding)"
                )
            },
        );
        let addr = (
            "Address",
            if self.addr.is_empty() {
                "(none)".ftext()
            } else {
                addr_text(&self.addr).ftext()
            },
            if self.addr.is_empty() {
                "the interface has no link-layer address (loopback, tun)".ftext()
            } else if self.packet_type == 4 {
                "the sender's link-layer address: this host's own".ftext()
            } else {
                "the sender's link-layer address".ftext()
            },
        );
        let protocol = (
            "Protocol",
            ftext!("0x{:04x}", self.protocol),
            protocol_meaning(self.protocol),
        );
        if self.version == 2 {
            let ifindex = self.ifindex.unwrap_or(0);
            vec![
                Field::new(v2::PROTOCOL.start, 2, protocol.0, protocol.1, protocol.2),
                Field::new(
                    v2::RESERVED.start,
                    2,
                    "Reserved",
                    "0".ftext(),
                    "unused, zero",
                ),
                Field::new(
                    v2::IFINDEX.start,
                    4,
                    "Interface index",
                    ifindex.ftext(),
                    "the interface the packet was seen on (`ip link` lists the indexes of the host where it was captured)",
                ),
                Field::new(v2::ARPHRD.start, 2, arphrd.0, arphrd.1, arphrd.2),
                Field::new(v2::PACKET_TYPE, 1, ptype.0, ptype.1, ptype.2),
                Field::new(v2::ADDR_LEN, 1, addr_len.0, addr_len.1, addr_len.2),
                Field::new(v2::ADDR.start, 8, addr.0, addr.1, addr.2),
            ]
        } else {
            vec![
                Field::new(v1::PACKET_TYPE.start, 2, ptype.0, ptype.1, ptype.2),
                Field::new(v1::ARPHRD.start, 2, arphrd.0, arphrd.1, arphrd.2),
                Field::new(v1::ADDR_LEN.start, 2, addr_len.0, addr_len.1, addr_len.2),
                Field::new(v1::ADDR.start, 8, addr.0, addr.1, addr.2),
                Field::new(v1::PROTOCOL.start, 2, protocol.0, protocol.1, protocol.2),
            ]
        }
    }
}

impl Sll {
    /// The packet's direction in one word, for a summary line: "in" (to us), "out"
    /// (sent by this host), "bcast", "mcast", "promisc" (to another host).
    pub fn direction(&self) -> &'static str {
        match self.packet_type {
            0 => "in",
            1 => "bcast",
            2 => "mcast",
            3 => "promisc",
            4 => "out",
            _ => "?",
        }
    }
}

/// What the packet type says (Linux `PACKET_*` values).
pub fn packet_type_name(t: u16) -> &'static str {
    match t {
        0 => "to us: addressed to this host",
        1 => "broadcast: sent to every host on the link",
        2 => "multicast: sent to a group this host listens to",
        3 => "to another host: seen only because the interface is in promiscuous mode",
        4 => "outgoing: sent by this host",
        _ => "unknown packet type",
    }
}

/// The interface kind an ARPHRD_ value names (Linux `if_arp.h`).
pub fn arphrd_name(t: u16) -> &'static str {
    match t {
        1 => "Ethernet",
        24 => "IEEE 1394 (FireWire)",
        512 => "PPP",
        768 => "IP-in-IP tunnel",
        769 => "IPv6-in-IPv6 tunnel",
        772 => "loopback",
        776 => "IPv6-in-IPv4 tunnel (sit)",
        778 => "GRE tunnel",
        801 => "IEEE 802.11 wireless",
        803 => "IEEE 802.11 with radiotap header",
        823 => "GRE over IPv6 tunnel",
        824 => "netlink",
        65534 => "no link-layer header (tun device, WireGuard)",
        _ => "another kind of interface",
    }
}

/// What the protocol field says: an EtherType, or one of the Linux values below 0x0600.
fn protocol_meaning(p: u16) -> FieldText {
    match p {
        0x0001 => "Novell 802.3 frame without 802.2 header".ftext(),
        0x0003 => "every protocol (ETH_P_ALL)".ftext(),
        0x0004 => "IEEE 802.2 LLC frame".ftext(),
        0x000c => "CAN bus frame".ftext(),
        _ => EtherType(p).describe(),
    }
}

impl super::Layer for Sll {
    fn name(&self) -> &'static str {
        if self.version == 2 {
            "Linux cooked v2"
        } else {
            "Linux cooked"
        }
    }

    fn key(&self) -> &'static str {
        "sll"
    }

    fn mark(&self) -> char {
        'L'
    }

    fn hue(&self) -> super::Hue {
        super::Hue::Blue
    }

    fn model(&self) -> super::Model {
        super::Model::Link
    }

    fn span(&self) -> super::Span {
        super::Span {
            offset: self.offset,
            len: self.len(),
        }
    }

    fn title(&self) -> FieldText {
        ftext!(
            "Linux cooked capture v{} (built by libpcap, not on any wire: `any` mixes interfaces of different kinds)",
            self.version
        )
    }

    fn fields(&self) -> Vec<Field> {
        Sll::fields(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: [u8; 16] = [
        0x00, 0x04, // outgoing
        0x00, 0x01, // ARPHRD_ETHER
        0x00, 0x06, // 6-byte address
        0x02, 0x77, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // address + padding
        0x08, 0x00, // IPv4
    ];

    const V2: [u8; 20] = [
        0x86, 0xdd, // IPv6
        0x00, 0x00, // reserved
        0x00, 0x00, 0x00, 0x03, // ifindex 3
        0x03, 0x04, // ARPHRD_LOOPBACK
        0x00, // to us
        0x06, // 6-byte address
        0, 0, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn parses_both_versions() {
        let s = Sll::parse_v1(&V1).expect("16 bytes");
        assert_eq!((s.packet_type, s.arphrd, s.protocol), (4, 1, 0x0800));
        assert_eq!(addr_text(&s.addr), "02:77:00:00:00:01");
        let s = Sll::parse_v2(&V2).expect("20 bytes");
        assert_eq!((s.packet_type, s.arphrd, s.protocol), (0, 772, 0x86dd));
        assert_eq!(s.ifindex, Some(3));
        assert_eq!(s.fields().len(), 7);
    }

    #[test]
    fn short_headers_are_refused_without_panic() {
        for n in 0..V1_LEN {
            assert!(Sll::parse_v1(&V1[..n]).is_none());
        }
        for n in 0..V2_LEN {
            assert!(Sll::parse_v2(&V2[..n]).is_none());
        }
        let mut long = V1;
        long[5] = 200; // an address length past the room
        assert_eq!(Sll::parse_v1(&long).map(|s| s.addr.len()), Some(8));
    }
}
