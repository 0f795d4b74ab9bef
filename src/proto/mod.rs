//! One file per protocol: what each header field is, where it sits and what it means.
//!
//! Nothing here does I/O, knows about the command line or draws tables. Each layer is a
//! plain struct (serialised to JSON with the names the README documents) that records the
//! byte offset of its header in the frame, and can list its fields as [`Field`]s — the one
//! field model that the table, the hex-dump colouring and the notes are all built from.

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod tcp;
pub mod udp;
pub mod vlan;

use std::fmt;

use serde::{Serialize, Serializer};

/// A field's text: a constant or, when it is worked out per packet, an owned string
/// (most meanings are constants, and building a table then allocates nothing for them).
pub type Text = std::borrow::Cow<'static, str>;

/// One header field, as the `table` format shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Offset of the field's first byte in the frame, in bytes.
    pub offset: usize,
    /// Length of the bytes that hold the field, in bytes (a bit field names its whole byte).
    pub len: usize,
    /// For a bit field, the bits it uses within `len` bytes, drawn like `.1.. ....`.
    pub bits: Option<String>,
    /// The field's name, e.g. "Time to live".
    pub name: &'static str,
    /// The field's value as printed, e.g. "64".
    pub value: Text,
    /// What the value means, in plain words; may be empty.
    pub meaning: Text,
}

impl Field {
    /// A field that fills whole bytes.
    pub fn new(
        offset: usize,
        len: usize,
        name: &'static str,
        value: impl Into<Text>,
        meaning: impl Into<Text>,
    ) -> Field {
        Field {
            offset,
            len,
            bits: None,
            name,
            value: value.into(),
            meaning: meaning.into(),
        }
    }

    /// A bit field: `mask` selects its bits within the `len` bytes at `offset`, which
    /// hold `raw` (big-endian).
    pub fn bits(
        offset: usize,
        len: usize,
        mask: u32,
        raw: u32,
        name: &'static str,
        value: impl Into<Text>,
        meaning: impl Into<Text>,
    ) -> Field {
        Field {
            offset,
            len,
            bits: Some(draw_bits(len, mask, raw)),
            name,
            value: value.into(),
            meaning: meaning.into(),
        }
    }
}

/// Draws the bits of `raw` selected by `mask` as Wireshark does: `0100 ....`.
fn draw_bits(len: usize, mask: u32, raw: u32) -> String {
    let nbits = (len.min(4) * 8) as u32;
    let mut s = String::with_capacity(nbits as usize + nbits as usize / 4);
    for i in (0..nbits).rev() {
        let bit = 1u32 << i;
        s.push(if mask & bit == 0 {
            '.'
        } else if raw & bit != 0 {
            '1'
        } else {
            '0'
        });
        if i % 4 == 0 && i != 0 {
            s.push(' ');
        }
    }
    s
}

/// The source- and destination-port fields every transport header starts with (at
/// `offset` and `offset + 2`), each with the service its number names. Ports at or above
/// `ephemeral_from` are described as picked by the sender's operating system.
pub(crate) fn port_fields(
    offset: usize,
    src: u16,
    dst: u16,
    transport: crate::lookup::Transport,
    ephemeral_from: u16,
) -> [Field; 2] {
    let meaning = |p: u16| match crate::lookup::service(p, transport) {
        Some(s) => format!("{} ({})", s.name, s.description),
        None if p >= ephemeral_from => {
            "ephemeral port: picked by the sender's OS for this conversation".into()
        }
        None => "no well-known service".into(),
    };
    [
        Field::new(offset, 2, "Source port", src.to_string(), meaning(src)),
        Field::new(
            offset + 2,
            2,
            "Destination port",
            dst.to_string(),
            meaning(dst),
        ),
    ]
}

/// An Ethernet MAC address (EUI-48).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff, the address every station on the LAN receives.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// 00:00:00:00:00:00, used in an ARP request for the unknown target address.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// Reads a MAC address from six bytes; `None` when fewer are given.
    pub fn from_slice(b: &[u8]) -> Option<MacAddr> {
        let arr: [u8; 6] = b.get(..6)?.try_into().ok()?;
        Some(MacAddr(arr))
    }

    /// True for ff:ff:ff:ff:ff:ff.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// True when the I/G bit (lowest bit of the first byte) is set: a group address.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// True when the U/L bit (second-lowest bit of the first byte) is set: the address
    /// was assigned locally (by software), not burned in by the maker.
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// A short description: broadcast, multicast or unicast, and who assigned it.
    pub fn describe(&self) -> String {
        let cast = if self.is_broadcast() {
            "broadcast: every station on the LAN receives it"
        } else if self.is_multicast() {
            "multicast: stations that joined the group receive it"
        } else {
            "unicast: one station"
        };
        let admin = if self.is_local() {
            "locally administered (set by software, no maker)".to_string()
        } else {
            match crate::lookup::oui_vendor(self.0) {
                Some(v) => format!("globally unique, made by {v}"),
                None if self.is_multicast() => "group address".to_string(),
                None => "globally unique, maker not in our list".to_string(),
            }
        };
        format!("{cast}; {admin}")
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Text that is not a MAC address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a MAC address: write six hex bytes separated by colons, like 02:77:00:00:00:02."
)]
pub struct ParseMacError(pub String);

impl std::str::FromStr for MacAddr {
    type Err = ParseMacError;

    /// Reads `02:77:00:00:00:02` (or with dashes, `02-77-00-00-00-02`).
    fn from_str(s: &str) -> Result<MacAddr, ParseMacError> {
        let err = || ParseMacError(s.to_string());
        let mut mac = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut mac {
            let p = parts.next().ok_or_else(err)?;
            if p.is_empty() || p.len() > 2 {
                return Err(err());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(mac))
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut text = [0u8; 17];
        for (i, b) in self.0.into_iter().enumerate() {
            if let Some(d) = text.get_mut(i * 3..i * 3 + 2) {
                d.copy_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]);
            }
            if let Some(colon) = text.get_mut(i * 3 + 2).filter(|_| i < 5) {
                *colon = b':';
            }
        }
        // Only hex digits and colons were written.
        s.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

/// Reads one byte at `at`, or 0 past the end (callers check lengths first; this only
/// guarantees that no input can make a getter panic).
pub(crate) fn be8(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

/// Reads a big-endian u16 at `at`, or 0 past the end.
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    take::<2>(b, at).map_or(0, u16::from_be_bytes)
}

/// Reads a big-endian u32 at `at`, or 0 past the end.
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    take::<4>(b, at).map_or(0, u32::from_be_bytes)
}

/// The `N` bytes at `at`, if all of them are there.
pub(crate) fn take<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Reads an IPv4 address at `at`, or 0.0.0.0 past the end.
pub(crate) fn ipv4_at(b: &[u8], at: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(be32(b, at))
}

/// Formats bytes as lower-case hex pairs separated by spaces.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_kinds() {
        assert!(MacAddr::BROADCAST.is_broadcast());
        assert!(MacAddr::BROADCAST.is_multicast());
        let m = MacAddr([0x02, 0x77, 0, 0, 0, 1]);
        assert!(m.is_local() && !m.is_multicast());
        assert_eq!(m.to_string(), "02:77:00:00:00:01");
        assert!(m.describe().contains("locally administered"));
    }

    #[test]
    fn macs_are_read_from_text() {
        assert_eq!(
            "02:77:00:00:00:02".parse(),
            Ok(MacAddr([2, 0x77, 0, 0, 0, 2]))
        );
        assert_eq!(
            "F6-36-a:0:0:1".parse(),
            Ok(MacAddr([0xf6, 0x36, 0xa, 0, 0, 1]))
        );
        for bad in [
            "",
            "02:77:00:00:00",
            "02:77:00:00:00:02:03",
            "0x:77:00:00:00:02",
            "027:7:0:0:0:2",
        ] {
            assert_eq!(
                bad.parse::<MacAddr>(),
                Err(ParseMacError(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn bits_are_drawn_like_wireshark() {
        assert_eq!(draw_bits(1, 0xf0, 0x45), "0100 ....");
        assert_eq!(draw_bits(2, 0x4000, 0x4000), ".1.. .... .... ....");
    }

    #[test]
    fn getters_never_panic_past_the_end() {
        let b = [1u8, 2, 3];
        assert_eq!(be16(&b, 2), 0);
        assert_eq!(be32(&b, 0), 0);
        assert_eq!(be8(&b, 9), 0);
        assert_eq!(be16(&b, usize::MAX - 1), 0);
    }
}
