//! Sources of frames: saved captures ([`file`]) and live interfaces ([`pcap`] on libpcap,
//! [`pnet`] on an `AF_PACKET` socket), all behind the one [`Source`] trait; every source
//! yields the same [`Frame`].

pub mod file;
pub mod interfaces;
pub mod live;
pub mod pcap;
pub mod pnet;
pub mod writer;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

pub use crate::timestamp::Timestamp;

/// Link-layer header type of a capture (the LINKTYPE_ number from the file header or the
/// pcapng interface).
///
/// Numbers without a constant here are still valid values; [`LinkType::name`] calls them
/// "unknown".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkType(pub u32);

impl LinkType {
    /// LINKTYPE_NULL: BSD loopback, a 4-byte address family in host byte order.
    pub const NULL: LinkType = LinkType(0);
    /// LINKTYPE_ETHERNET: Ethernet II / IEEE 802.3 frames.
    pub const ETHERNET: LinkType = LinkType(1);
    /// LINKTYPE_PPP: Point-to-Point Protocol.
    pub const PPP: LinkType = LinkType(9);
    /// LINKTYPE_RAW: raw IPv4 or IPv6, no link-layer header.
    pub const RAW: LinkType = LinkType(101);
    /// LINKTYPE_IEEE802_11: 802.11 wireless frames without a radio header.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// LINKTYPE_LOOP: OpenBSD loopback, a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// LINKTYPE_LINUX_SLL: Linux "cooked" capture (what `tcpdump -i any` used to write).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// LINKTYPE_IEEE802_11_RADIOTAP: 802.11 frames preceded by a radiotap header.
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// LINKTYPE_USB_LINUX_MMAPPED: Linux usbmon packets.
    pub const USB_LINUX_MMAPPED: LinkType = LinkType(220);
    /// LINKTYPE_IPV4: raw IPv4, no link-layer header.
    pub const IPV4: LinkType = LinkType(228);
    /// LINKTYPE_IPV6: raw IPv6, no link-layer header.
    pub const IPV6: LinkType = LinkType(229);
    /// LINKTYPE_NETLINK: Linux netlink messages.
    pub const NETLINK: LinkType = LinkType(253);
    /// LINKTYPE_LINUX_SLL2: Linux "cooked" capture, version 2 (`tcpdump -i any` today).
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// True for the link types wirelens decodes: Ethernet, Linux cooked v1 and v2, raw
    /// IP (101, 228, 229, and DLT 12 and 14 as some systems write them) and BSD loopback
    /// (NULL and LOOP).
    pub fn is_supported(&self) -> bool {
        matches!(
            *self,
            LinkType::ETHERNET
                | LinkType::LINUX_SLL
                | LinkType::LINUX_SLL2
                | LinkType::RAW
                | LinkType::IPV4
                | LinkType::IPV6
                | LinkType::NULL
                | LinkType::LOOP
                | LinkType(12)
                | LinkType(14)
        )
    }

    /// A human name like "Linux cooked" or "Ethernet", "unknown" otherwise.
    pub fn name(&self) -> &'static str {
        match *self {
            LinkType::NULL => "BSD loopback",
            LinkType::ETHERNET => "Ethernet",
            LinkType::PPP => "PPP",
            LinkType::RAW => "raw IP",
            LinkType::IEEE802_11 => "IEEE 802.11 wireless",
            LinkType::LOOP => "OpenBSD loopback",
            LinkType::LINUX_SLL => "Linux cooked",
            LinkType::IEEE802_11_RADIOTAP => "IEEE 802.11 with radiotap header",
            LinkType::USB_LINUX_MMAPPED => "Linux USB",
            LinkType::IPV4 => "raw IPv4",
            LinkType::IPV6 => "raw IPv6",
            LinkType::NETLINK => "Linux netlink",
            LinkType::LINUX_SLL2 => "Linux cooked v2",
            _ => "unknown",
        }
    }
}

impl fmt::Display for LinkType {
    /// The name and the number, e.g. "Ethernet (1)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// One captured packet. It borrows its bytes from the source; nothing copies a packet.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// When the packet was captured; zero when the source gives no time (pcapng Simple
    /// Packet Blocks).
    pub ts: Timestamp,
    /// Bytes captured: always `bytes.len()`.
    pub caplen: u32,
    /// Bytes on the wire, as the capture recorded it. A damaged file can make this smaller
    /// than `caplen`; the source then adds a note.
    pub len: u32,
    /// How to read the first header in `bytes`.
    pub link: LinkType,
    /// The pcapng interface the packet came from (its number, `if_name` and
    /// `if_description`); `None` for other sources.
    pub interface: Option<&'a InterfaceLabel>,
    /// The captured bytes, starting with the link-layer header.
    pub bytes: &'a [u8],
}

/// The pcapng interface a packet was captured on, as its Interface Description Block
/// says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceLabel {
    /// Its number within the section, from 0 (tshark's `frame.interface_id`).
    pub id: u32,
    /// `if_name`, when the file gives one.
    pub name: Option<Arc<str>>,
    /// `if_description`, when the file gives one.
    pub description: Option<Arc<str>>,
}

/// This host's interface names by kernel interface index, to name the interface index
/// of a Linux cooked v2 header in a live capture (`-i any`). The indexes in a file belong
/// to the host that made it, so only live sources have such a map: a file read here
/// shows index numbers, never this host's names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceNames(HashMap<u32, Arc<str>>);

impl InterfaceNames {
    /// The names of this host's (this network namespace's) interfaces now.
    pub fn of_this_host() -> InterfaceNames {
        InterfaceNames::from_pairs(
            interfaces::list()
                .into_iter()
                .filter(|i| i.index != 0)
                .map(|i| (i.index, i.name)),
        )
    }

    /// A map from (index, name) pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u32, String)>) -> InterfaceNames {
        InterfaceNames(
            pairs
                .into_iter()
                .map(|(index, name)| (index, Arc::from(name)))
                .collect(),
        )
    }

    /// The name of interface `index`, if this host has one.
    pub fn get(&self, index: u32) -> Option<&Arc<str>> {
        self.0.get(&index)
    }
}

/// What a [`Source`] has for the pipeline on one call.
#[derive(Debug)]
pub enum Next<'a> {
    /// A packet.
    Frame(Frame<'a>),
    /// No packet this time (a live read timed out, or the filter rejected what came);
    /// ask again.
    Nothing,
    /// The source is finished: the end of a file, or a live capture that was told to stop.
    End,
}

/// Anything frames come from: a saved capture or a live interface. The pipeline only
/// sees this trait, so a packet looks the same whichever source it came from.
pub trait Source {
    /// Why the source failed.
    type Error;

    /// The name used in messages: a file name or an interface name.
    fn name(&self) -> &str;

    /// The link type of the frames, when known.
    fn link_type(&self) -> Option<LinkType>;

    /// For a live capture, this host's interface names, to name the interface index of
    /// each Linux cooked v2 header; `None` for a file (its indexes are another host's).
    fn interface_names(&self) -> Option<Arc<InterfaceNames>> {
        None
    }

    /// The next frame, after appending any notes about it to `notes`. The frame borrows
    /// the source, so it must be dropped before the next call.
    fn read_frame(&mut self, notes: &mut Vec<String>) -> Result<Next<'_>, Self::Error>;
}

impl Source for file::FileSource {
    type Error = file::CaptureError;

    fn name(&self) -> &str {
        file::FileSource::name(self)
    }

    fn link_type(&self) -> Option<LinkType> {
        file::FileSource::link_type(self)
    }

    #[inline]
    fn read_frame(&mut self, notes: &mut Vec<String>) -> Result<Next<'_>, Self::Error> {
        Ok(match self.next_frame_with_notes(notes)? {
            Some(frame) => Next::Frame(frame),
            None => Next::End,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_types_are_named() {
        assert_eq!(LinkType::LINUX_SLL.name(), "Linux cooked");
        assert_eq!(LinkType(9999).to_string(), "unknown (9999)");
    }
}
