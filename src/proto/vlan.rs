//! IEEE 802.1Q VLAN tags (and 802.1ad QinQ, a tag inside a tag). A tag is 4 bytes: the
//! tag protocol identifier (0x8100 or 0x88a8) sits where the EtherType was, followed by
//! the tag control information (priority, drop eligibility, VLAN ID) and the real
//! EtherType. This layer holds those last 4 bytes: TCI and inner EtherType.

use super::{ToFieldText, ftext};
use serde::Serialize;

use super::ethernet::EtherType;
use super::{Field, be16};

/// Byte ranges of a VLAN tag after its TPID, relative to the tag's TCI.
pub mod field {
    use std::ops::Range;
    /// Tag control information: PCP (3 bits), DEI (1 bit), VID (12 bits).
    pub const TCI: Range<usize> = 0..2;
    /// EtherType of what follows the tag.
    pub const TYPE: Range<usize> = 2..4;
    /// Mask of the priority code point within the TCI.
    pub const PCP_MASK: u16 = 0xe000;
    /// Mask of the drop eligible indicator within the TCI.
    pub const DEI_MASK: u16 = 0x1000;
    /// Mask of the VLAN identifier within the TCI.
    pub const VID_MASK: u16 = 0x0fff;
}

/// Length of one tag on the wire, TPID included, in bytes.
pub const TAG_LEN: usize = 4;

/// One VLAN tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vlan {
    /// Offset of the TCI in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// The TPID that announced this tag (0x8100 or 0x88a8).
    #[serde(skip)]
    pub tpid: u16,
    /// VLAN identifier, 0–4095.
    pub id: u16,
    /// Priority code point, 0–7 (IEEE 802.1p class of service).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// EtherType of what follows the tag.
    #[serde(rename = "type")]
    pub ethertype: u16,
}

impl Vlan {
    /// Reads a tag's TCI and EtherType from the start of `b`; `None` if under 4 bytes.
    pub fn parse(b: &[u8], offset: usize, tpid: u16) -> Option<Vlan> {
        if b.len() < TAG_LEN {
            return None;
        }
        let tci = be16(b, field::TCI.start);
        Some(Vlan {
            offset,
            tpid,
            id: tci & field::VID_MASK,
            pcp: (tci >> 13) as u8,
            dei: tci & field::DEI_MASK != 0,
            ethertype: be16(b, field::TYPE.start),
        })
    }

    fn tci(&self) -> u16 {
        (u16::from(self.pcp) << 13) | (u16::from(self.dei) << 12) | self.id
    }

    /// The tag's fields, with their meanings.
    pub fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let tci = u32::from(self.tci());
        let vid_meaning = match self.id {
            0 => "no VLAN: the tag only carries a priority".ftext(),
            4095 => "reserved value".ftext(),
            n => ftext!("the frame belongs to VLAN {n}"),
        };
        vec![
            Field::bits(
                o,
                2,
                u32::from(field::PCP_MASK),
                tci,
                "Priority (PCP)",
                self.pcp.ftext(),
                pcp_name(self.pcp),
            ),
            Field::bits(
                o,
                2,
                u32::from(field::DEI_MASK),
                tci,
                "Drop eligible (DEI)",
                u8::from(self.dei).ftext(),
                if self.dei {
                    "may be dropped first under congestion"
                } else {
                    "not marked for dropping"
                },
            ),
            Field::bits(
                o,
                2,
                u32::from(field::VID_MASK),
                tci,
                "VLAN ID",
                self.id.ftext(),
                vid_meaning,
            ),
            Field::new(
                o + field::TYPE.start,
                2,
                "EtherType",
                ftext!("0x{:04x}", self.ethertype),
                EtherType(self.ethertype).describe(),
            ),
        ]
    }
}

/// The traffic class an 802.1p priority code point names (IEEE 802.1Q table I-2).
pub fn pcp_name(pcp: u8) -> &'static str {
    match pcp {
        0 => "best effort",
        1 => "background (lowest)",
        2 => "excellent effort",
        3 => "critical applications",
        4 => "video, < 100 ms latency",
        5 => "voice, < 10 ms latency",
        6 => "internetwork control",
        _ => "network control (highest)",
    }
}

impl super::Layer for Vlan {
    fn name(&self) -> &'static str {
        "802.1Q"
    }

    fn key(&self) -> &'static str {
        "vlan"
    }

    fn mark(&self) -> char {
        'Q'
    }

    fn hue(&self) -> super::Hue {
        super::Hue::BoldBlue
    }

    fn model(&self) -> super::Model {
        super::Model::Link
    }

    fn span(&self) -> super::Span {
        super::Span {
            offset: self.offset,
            len: TAG_LEN,
        }
    }

    fn title(&self) -> super::FieldText {
        super::ftext!("802.1Q VLAN tag (TPID 0x{:04x})", self.tpid)
    }

    fn fields(&self) -> Vec<Field> {
        Vlan::fields(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: [u8; 4] = [
        0xa0, 0x64, // TCI: PCP 5, DEI 0, VID 100
        0x08, 0x00, // EtherType: IPv4
    ];

    #[test]
    fn parses_fixture() {
        let v = Vlan::parse(&FIXTURE, 14, 0x8100).expect("4 bytes parse");
        assert_eq!((v.pcp, v.dei, v.id, v.ethertype), (5, false, 100, 0x0800));
        assert_eq!(v.tci(), 0xa064);
        let f = v.fields();
        assert_eq!(f[0].bits.as_deref(), Some("101. .... .... ...."));
        assert_eq!(f[3].offset, 16);
    }

    #[test]
    fn every_prefix_is_rejected_without_panic() {
        for n in 0..FIXTURE.len() {
            assert!(Vlan::parse(&FIXTURE[..n], 14, 0x8100).is_none());
        }
    }
}
