//! BSD loopback headers: 4 bytes holding the address family of the packet that
//! follows. LINKTYPE_NULL (0) writes it in the byte order of the host that captured
//! (so a reader must guess it: a family is a small number), LINKTYPE_LOOP (108,
//! OpenBSD) in network byte order. AF_INET is 2 everywhere; AF_INET6 differs by system.

use serde::Serialize;

use super::{Field, FieldText, ToFieldText, ftext};

/// Length of the header, in bytes.
pub const HEADER_LEN: usize = 4;

/// The address family of what follows, and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// AF_INET: IPv4.
    Ipv4,
    /// One of the AF_INET6 values: IPv6.
    Ipv6,
    /// Anything else.
    Other,
}

/// A BSD loopback header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Null {
    /// Offset of the header in the frame (always 0).
    #[serde(skip)]
    pub offset: usize,
    /// The address family, in the byte order the header was read in.
    pub family: u32,
    /// True for LINKTYPE_LOOP (network byte order); false for LINKTYPE_NULL.
    #[serde(skip)]
    pub network_order: bool,
    /// True when a NULL header was read as big-endian (written by a big-endian host).
    #[serde(skip)]
    pub big_endian: bool,
}

impl Null {
    /// Reads the header from the start of `b`; `None` under 4 bytes. `network_order`
    /// is true for LINKTYPE_LOOP. For LINKTYPE_NULL the byte order is guessed as
    /// libpcap and Wireshark do: a family fits in 16 bits, so a value whose low half is
    /// zero when read little-endian was written big-endian.
    pub fn parse(b: &[u8], network_order: bool) -> Option<Null> {
        let raw: [u8; 4] = b.get(..HEADER_LEN)?.try_into().ok()?;
        let be = u32::from_be_bytes(raw);
        let le = u32::from_le_bytes(raw);
        let big_endian = network_order || (le & 0xffff == 0 && le != 0);
        Some(Null {
            offset: 0,
            family: if big_endian { be } else { le },
            network_order,
            big_endian,
        })
    }

    /// What the family says follows.
    pub fn family(&self) -> Family {
        match self.family {
            2 => Family::Ipv4,
            10 | 24 | 28 | 30 => Family::Ipv6,
            _ => Family::Other,
        }
    }

    /// The header's field, with its meaning.
    pub fn fields(&self) -> Vec<Field> {
        vec![Field::new(
            self.offset,
            HEADER_LEN,
            "Address family",
            self.family.ftext(),
            family_meaning(self.family, self.network_order, self.big_endian),
        )]
    }
}

/// What an address family value names, and on which systems.
fn family_meaning(family: u32, network_order: bool, big_endian: bool) -> FieldText {
    let order = if network_order {
        "network byte order (LINKTYPE_LOOP)"
    } else if big_endian {
        "host byte order, here big-endian"
    } else {
        "host byte order, here little-endian"
    };
    let what = match family {
        2 => "AF_INET: the payload is IPv4",
        10 => "AF_INET6 on Linux: the payload is IPv6",
        24 => "AF_INET6 on NetBSD, OpenBSD and BSD/OS: the payload is IPv6",
        28 => "AF_INET6 on FreeBSD and DragonFly BSD: the payload is IPv6",
        30 => "AF_INET6 on macOS (Darwin): the payload is IPv6",
        7 => "AF_ISO: an OSI packet (not decoded)",
        23 => "AF_IPX: an IPX packet (not decoded)",
        _ => "an address family wirelens does not know",
    };
    ftext!("{what}; written in {order}")
}

impl super::Layer for Null {
    fn name(&self) -> &'static str {
        "BSD loopback"
    }

    fn key(&self) -> &'static str {
        "null"
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
            len: HEADER_LEN,
        }
    }

    fn title(&self) -> FieldText {
        if self.network_order {
            "BSD loopback (LINKTYPE_LOOP)".ftext()
        } else {
            "BSD loopback (LINKTYPE_NULL)".ftext()
        }
    }

    fn fields(&self) -> Vec<Field> {
        Null::fields(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_is_guessed_and_families_named() {
        let le = Null::parse(&[30, 0, 0, 0], false).expect("4 bytes");
        assert_eq!(
            (le.family, le.family(), le.big_endian),
            (30, Family::Ipv6, false)
        );
        let be = Null::parse(&[0, 0, 0, 2], false).expect("4 bytes");
        assert_eq!(
            (be.family, be.family(), be.big_endian),
            (2, Family::Ipv4, true)
        );
        let lp = Null::parse(&[0, 0, 0, 24], true).expect("4 bytes");
        assert_eq!(lp.family(), Family::Ipv6);
        assert!(Null::parse(&[2, 0, 0], false).is_none());
        assert!(lp.fields()[0].meaning.contains("OpenBSD"));
    }
}
