//! Ethernet II: destination MAC, source MAC and EtherType — 14 bytes before the payload,
//! and a 4-byte frame check sequence after it that capture cards strip.

use super::{FieldText, ToFieldText};
use crate::text::Text;
use serde::Serialize;

use super::{Field, MacAddr, be16};

/// Byte ranges of the Ethernet II header, relative to its start.
pub mod field {
    use std::ops::Range;
    /// Destination MAC address.
    pub const DST: Range<usize> = 0..6;
    /// Source MAC address.
    pub const SRC: Range<usize> = 6..12;
    /// EtherType (or, below 0x0600, an IEEE 802.3 length).
    pub const TYPE: Range<usize> = 12..14;
}

/// Length of the Ethernet II header, in bytes (6 + 6 + 2).
pub const HEADER_LEN: usize = 14;
/// Length of the frame check sequence (CRC-32) that ends every frame, in bytes.
pub const FCS_LEN: usize = 4;
/// Smallest payload an Ethernet frame carries, in bytes; shorter ones are padded.
pub const MIN_PAYLOAD: usize = 46;
/// Largest payload of an untagged frame (the MTU), in bytes.
pub const MAX_PAYLOAD: usize = 1500;
/// Smallest frame on the wire, header and FCS included, in bytes.
pub const MIN_FRAME: usize = HEADER_LEN + MIN_PAYLOAD + FCS_LEN;
/// Largest untagged frame on the wire, header and FCS included, in bytes.
pub const MAX_FRAME: usize = HEADER_LEN + MAX_PAYLOAD + FCS_LEN;

/// An EtherType: which protocol the frame's payload belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EtherType(pub u16);

impl EtherType {
    /// Internet Protocol version 4.
    pub const IPV4: EtherType = EtherType(0x0800);
    /// Address Resolution Protocol.
    pub const ARP: EtherType = EtherType(0x0806);
    /// Wake-on-LAN magic packet.
    pub const WOL: EtherType = EtherType(0x0842);
    /// Reverse ARP.
    pub const RARP: EtherType = EtherType(0x8035);
    /// IEEE 802.1Q VLAN tag (customer tag).
    pub const VLAN: EtherType = EtherType(0x8100);
    /// IEEE 802.1ad service tag (the outer tag of QinQ).
    pub const QINQ: EtherType = EtherType(0x88a8);
    /// Old, non-standard QinQ outer tag.
    pub const QINQ_OLD: EtherType = EtherType(0x9100);
    /// Internet Protocol version 6.
    pub const IPV6: EtherType = EtherType(0x86dd);
    /// Link Layer Discovery Protocol.
    pub const LLDP: EtherType = EtherType(0x88cc);
    /// Ethernet flow control (PAUSE frames).
    pub const FLOW_CONTROL: EtherType = EtherType(0x8808);
    /// Link aggregation (LACP).
    pub const SLOW_PROTOCOLS: EtherType = EtherType(0x8809);
    /// MPLS unicast.
    pub const MPLS: EtherType = EtherType(0x8847);
    /// PPP over Ethernet, discovery stage.
    pub const PPPOE_DISCOVERY: EtherType = EtherType(0x8863);
    /// PPP over Ethernet, session stage.
    pub const PPPOE_SESSION: EtherType = EtherType(0x8864);
    /// EAP over LAN (802.1X).
    pub const EAPOL: EtherType = EtherType(0x888e);
    /// MACsec (802.1AE).
    pub const MACSEC: EtherType = EtherType(0x88e5);
    /// Precision Time Protocol.
    pub const PTP: EtherType = EtherType(0x88f7);
    /// Configuration test protocol (loopback).
    pub const LOOPBACK: EtherType = EtherType(0x9000);

    /// True for the three tag protocol identifiers that start a VLAN tag.
    pub fn is_vlan_tag(self) -> bool {
        self == Self::VLAN || self == Self::QINQ || self == Self::QINQ_OLD
    }

    /// True when the field holds an IEEE 802.3 length (≤ 1500) instead of a type.
    pub fn is_length(self) -> bool {
        usize::from(self.0) <= MAX_PAYLOAD
    }

    /// The protocol's short name, e.g. "IPv4", if we know it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::IPV4 => "IPv4",
            Self::ARP => "ARP",
            Self::WOL => "Wake-on-LAN",
            Self::RARP => "RARP",
            Self::VLAN => "802.1Q",
            Self::QINQ => "802.1ad",
            Self::QINQ_OLD => "QinQ (0x9100)",
            Self::IPV6 => "IPv6",
            Self::LLDP => "LLDP",
            Self::FLOW_CONTROL => "Ethernet flow control",
            Self::SLOW_PROTOCOLS => "LACP",
            Self::MPLS => "MPLS",
            Self::PPPOE_DISCOVERY => "PPPoE discovery",
            Self::PPPOE_SESSION => "PPPoE session",
            Self::EAPOL => "EAPOL (802.1X)",
            Self::MACSEC => "MACsec",
            Self::PTP => "PTP",
            Self::LOOPBACK => "Ethernet loopback",
            _ => return None,
        })
    }

    /// What the value says the payload is, in words.
    /// (Held in place, not formatted into a `String`: one allocation a packet in the
    /// table format.)
    pub fn describe(self) -> FieldText {
        if self.is_length() {
            return FieldText::build(|b| {
                b.s("IEEE 802.3 length: ")
                    .u(u64::from(self.0))
                    .s(" bytes of payload follow, starting with an LLC header");
            });
        }
        match self.name() {
            Some(n) if self.is_vlan_tag() => FieldText::build(|b| {
                b.s(n).s(": a VLAN tag follows");
            }),
            Some(n) => FieldText::build(|b| {
                b.s("the payload is ").s(n);
            }),
            None => "a protocol wirelens does not know".into(),
        }
    }
}

/// An Ethernet II header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ethernet {
    /// Offset of the header in the frame, in bytes (always 0 for an Ethernet capture).
    #[serde(skip)]
    pub offset: usize,
    /// Source MAC address: the sending station.
    pub src: MacAddr,
    /// Destination MAC address: the receiving station, group or everyone.
    pub dst: MacAddr,
    /// The EtherType field at offset 12, as a number (0x8100 for a tagged frame).
    #[serde(rename = "type")]
    pub ethertype: u16,
}

impl Ethernet {
    /// Reads the header from the start of `b`; `None` if fewer than 14 bytes are given.
    pub fn parse(b: &[u8]) -> Option<Ethernet> {
        if b.len() < HEADER_LEN {
            return None;
        }
        Some(Ethernet {
            offset: 0,
            dst: MacAddr::from_slice(b.get(field::DST)?)?,
            src: MacAddr::from_slice(b.get(field::SRC)?)?,
            ethertype: be16(b, field::TYPE.start),
        })
    }

    /// A header from `src` to `dst` whose payload is `ethertype`, at offset 0.
    pub fn new(src: MacAddr, dst: MacAddr, ethertype: EtherType) -> Ethernet {
        Ethernet {
            offset: 0,
            src,
            dst,
            ethertype: ethertype.0,
        }
    }

    /// Appends the 14 header bytes to `out`: destination, source, EtherType.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.dst.0);
        out.extend_from_slice(&self.src.0);
        out.extend_from_slice(&self.ethertype.to_be_bytes());
    }

    /// The header's fields, with their meanings.
    pub fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let et = EtherType(self.ethertype);
        vec![
            Field::new(
                o + field::DST.start,
                6,
                "Destination MAC",
                self.dst.ftext(),
                self.dst.describe(),
            ),
            Field::new(
                o + field::SRC.start,
                6,
                "Source MAC",
                self.src.ftext(),
                self.src.describe(),
            ),
            Field::new(
                o + field::TYPE.start,
                2,
                if et.is_length() {
                    "Length"
                } else {
                    "EtherType"
                },
                FieldText::build(|b| {
                    b.hex4(self.ethertype);
                }),
                et.describe(),
            ),
        ]
    }
}

/// The framing line of an untagged frame (always the same).
const UNTAGGED_FRAMING: &str = "Framing: 6 (destination) + 6 (source) + 2 (EtherType) = 14-byte header, \
     + 4-byte FCS (not captured) = 18 bytes of framing.";

/// The framing arithmetic a student is taught, for a frame of `caplen` captured bytes,
/// `len` bytes on the wire (FCS not included, as captures never include it) and `tags`
/// VLAN tags.
pub fn framing_lines(caplen: usize, len: usize, tags: usize) -> Vec<FieldText> {
    let tag_bytes = tags * super::vlan::TAG_LEN;
    let header = HEADER_LEN + tag_bytes;
    let mut lines = Vec::with_capacity(4);
    if tags == 0 {
        lines.push(UNTAGGED_FRAMING.into());
    } else {
        lines.push(
            format!(
                "Framing: 6 + 6 + {tags} × 4 (VLAN tag{}) + 2 (EtherType) = {header}-byte header, \
                 + {FCS_LEN}-byte FCS (not captured) = {} bytes of framing.",
                if tags == 1 { "" } else { "s" },
                header + FCS_LEN
            )
            .into(),
        );
    }
    let payload = len.saturating_sub(header);
    // The two lines every frame has are appended, not formatted (`format!` here was
    // 1.6% of the table format).
    let n = |n: usize| n as u64;
    lines.push(FieldText::build(|b| {
        b.s("Payload: ")
            .u(n(payload))
            .s(" bytes (Ethernet carries 46–")
            .u(n(MAX_PAYLOAD + tag_bytes))
            .s(" bytes; frames are ")
            .u(n(MIN_FRAME))
            .s("–")
            .u(n(MAX_FRAME + tag_bytes))
            .s(" bytes with the FCS).");
    }));
    let on_wire = len + FCS_LEN;
    if len < MIN_FRAME - FCS_LEN {
        lines.push(
            format!(
                "This frame is {len} bytes without its FCS, shorter than the 60-byte minimum: it was \
                 captured on the sending host before the network card added padding."
            )
            .into(),
        );
    } else {
        lines.push(FieldText::build(|b| {
            b.s("On the wire: ")
                .u(n(len))
                .s(" bytes + ")
                .u(n(FCS_LEN))
                .s("-byte FCS = ")
                .u(n(on_wire))
                .s(" bytes.");
        }));
    }
    if caplen < len {
        lines.push(
            format!(
                "Only {caplen} of the {len} bytes were captured (the capture's snapshot length cut the rest)."
            )
            .into(),
        );
    }
    lines
}

impl super::Layer for Ethernet {
    fn name(&self) -> &'static str {
        "Ethernet"
    }

    fn key(&self) -> &'static str {
        "eth"
    }

    fn mark(&self) -> char {
        'E'
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
            len: HEADER_LEN,
        }
    }

    fn title(&self) -> super::FieldText {
        "Ethernet II".into()
    }

    fn fields(&self) -> Vec<Field> {
        Ethernet::fields(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ARP broadcast's Ethernet header.
    const FIXTURE: [u8; 14] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
        0x02, 0x77, 0x00, 0x00, 0x00, 0x01, // source: locally administered
        0x08, 0x06, // EtherType: ARP
    ];

    #[test]
    fn parses_fixture() {
        let e = Ethernet::parse(&FIXTURE).expect("14 bytes parse");
        assert!(e.dst.is_broadcast());
        assert_eq!(e.src, MacAddr([2, 0x77, 0, 0, 0, 1]));
        assert_eq!(EtherType(e.ethertype), EtherType::ARP);
        let f = e.fields();
        assert_eq!(f.len(), 3);
        assert_eq!(f[2].offset, 12);
        assert!(f[0].meaning.contains("broadcast"));
    }

    #[test]
    fn emit_round_trips() {
        let e = Ethernet::parse(&FIXTURE).expect("14 bytes parse");
        let mut out = Vec::new();
        e.emit(&mut out);
        assert_eq!(out, FIXTURE);
        let built = Ethernet::new(
            MacAddr([2, 0x77, 0, 0, 0, 1]),
            MacAddr::BROADCAST,
            EtherType::ARP,
        );
        assert_eq!(built, e);
        let mut out = Vec::new();
        built.emit(&mut out);
        assert_eq!(Ethernet::parse(&out), Some(built));
    }

    #[test]
    fn every_prefix_is_rejected_without_panic() {
        for n in 0..FIXTURE.len() {
            assert!(Ethernet::parse(&FIXTURE[..n]).is_none(), "prefix {n}");
        }
    }

    #[test]
    fn untagged_framing_follows_the_constants() {
        assert_eq!(
            UNTAGGED_FRAMING,
            format!(
                "Framing: 6 (destination) + 6 (source) + 2 (EtherType) = {HEADER_LEN}-byte \
                 header, + {FCS_LEN}-byte FCS (not captured) = {} bytes of framing.",
                HEADER_LEN + FCS_LEN
            )
        );
    }

    #[test]
    fn framing_mentions_18_bytes_and_short_frames() {
        let l = framing_lines(42, 42, 0);
        assert!(l[0].contains("= 18 bytes of framing"));
        assert!(
            l.iter()
                .any(|s| s.contains("shorter than the 60-byte minimum"))
        );
        let l = framing_lines(64, 64, 1);
        assert!(l[0].contains("18-byte header"), "{}", l[0]);
    }
}
