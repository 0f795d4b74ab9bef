//! Names for numbers: which service usually listens on a port, and which company made the
//! network card a MAC address belongs to.
//!
//! Both tables are built at compile time by `build.rs` from the human-editable files
//! `data/services.tsv` and `data/oui.tsv` (see `data/README.md`). The build validates every
//! line and sorts the tables, so the lookups here are binary searches and never fail on bad
//! data: a missing entry is simply `None`.

include!(concat!(env!("OUT_DIR"), "/lookup_tables.rs"));

/// Transport code of TCP in the generated `SERVICES` table (must match `build.rs`).
const TCP_CODE: u8 = 0;
/// Transport code of UDP in the generated `SERVICES` table (must match `build.rs`).
const UDP_CODE: u8 = 1;

/// Bit of a MAC address's first byte that marks a group (multicast or broadcast) address.
const MAC_GROUP_BIT: u8 = 0x01;

/// The transport protocol a port number belongs to. TCP port 53 and UDP port 53 are
/// different ports, so a service lookup needs both.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Transmission Control Protocol.
    Tcp,
    /// User Datagram Protocol.
    Udp,
}

impl Transport {
    /// The code this transport has in the generated table.
    const fn code(self) -> u8 {
        match self {
            Transport::Tcp => TCP_CODE,
            Transport::Udp => UDP_CODE,
        }
    }
}

/// A well-known service: what usually runs on a port.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Short service name as IANA or `/etc/services` spells it, such as `domain` or `https`.
    pub name: &'static str,
    /// A short plain-language explanation, such as "name lookups (DNS)".
    pub description: &'static str,
}

/// The service registered for `port` on `transport`, or `None` if the table has no entry.
///
/// This names what *usually* runs on the port. Any program may use any port, so the answer
/// is a hint for the reader, not a fact about the packet.
#[must_use]
pub fn service(port: u16, transport: Transport) -> Option<Service> {
    let key = (port, transport.code());
    let index = SERVICES
        .binary_search_by_key(&key, |&(port, code, _, _)| (port, code))
        .ok()?;
    SERVICES
        .get(index)
        .map(|&(_, _, name, description)| Service { name, description })
}

/// The maker of the network interface with address `mac`, from its first three bytes (the
/// Organizationally Unique Identifier), or `None` if it is unknown.
///
/// Group (multicast and broadcast) addresses always give `None`: they name a set of receivers,
/// not a card. Locally administered addresses (bit `0x02` of the first byte set, as in
/// randomised Wi-Fi addresses or Docker's `02:42:…`) are chosen by software, not assigned
/// to a maker, so they give `None` too, except for the few prefixes that virtualisation
/// software uses by convention and `data/oui.tsv` lists on purpose (QEMU/KVM's `52:54:00`).
/// No manufacturer's card has a locally administered address by default, so no real vendor
/// is hidden by such an entry.
#[must_use]
pub fn oui_vendor(mac: [u8; 6]) -> Option<&'static str> {
    let [first, second, third, ..] = mac;
    if first & MAC_GROUP_BIT != 0 {
        return None;
    }
    let prefix = u32::from_be_bytes([0, first, second, third]);
    let index = OUI
        .binary_search_by_key(&prefix, |&(prefix, _)| prefix)
        .ok()?;
    OUI.get(index).map(|&(_, vendor)| vendor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit of a MAC address's first byte that marks a locally administered address.
    const MAC_LOCAL_BIT: u8 = 0x02;

    /// The first byte of a MAC address that starts with the 24-bit `prefix`.
    fn first_byte(prefix: u32) -> u8 {
        let [_, first, _, _] = prefix.to_be_bytes();
        first
    }

    fn name(port: u16, transport: Transport) -> Option<&'static str> {
        service(port, transport).map(|s| s.name)
    }

    #[test]
    fn known_ports_on_both_transports() {
        assert_eq!(name(20, Transport::Tcp), Some("ftp-data"));
        assert_eq!(name(22, Transport::Tcp), Some("ssh"));
        assert_eq!(name(53, Transport::Tcp), Some("domain"));
        assert_eq!(name(53, Transport::Udp), Some("domain"));
        assert_eq!(name(67, Transport::Udp), Some("bootps"));
        assert_eq!(name(68, Transport::Udp), Some("bootpc"));
        assert_eq!(name(80, Transport::Tcp), Some("http"));
        assert_eq!(name(123, Transport::Udp), Some("ntp"));
        assert_eq!(name(443, Transport::Tcp), Some("https"));
        assert_eq!(name(5353, Transport::Udp), Some("mdns"));
        assert_eq!(name(8080, Transport::Tcp), Some("http-alt"));
        let https = service(443, Transport::Tcp).expect("443/tcp is in the table");
        assert!(https.description.contains("HTTPS"));
    }

    #[test]
    fn transport_matters() {
        // NTP runs over UDP only and SSH over TCP only.
        assert_eq!(name(123, Transport::Tcp), None);
        assert_eq!(name(22, Transport::Udp), None);
        // The same port number can mean different services on TCP and UDP.
        assert_eq!(name(514, Transport::Tcp), Some("shell"));
        assert_eq!(name(514, Transport::Udp), Some("syslog"));
    }

    #[test]
    fn unknown_ports_give_none() {
        for transport in [Transport::Tcp, Transport::Udp] {
            assert_eq!(service(0, transport), None);
            assert_eq!(service(65_535, transport), None);
        }
    }

    #[test]
    fn every_service_entry_is_found() {
        for &(port, code, name, description) in SERVICES {
            let transport = if code == TCP_CODE {
                Transport::Tcp
            } else {
                Transport::Udp
            };
            assert_eq!(
                service(port, transport),
                Some(Service { name, description })
            );
        }
    }

    #[test]
    fn services_are_sorted_without_duplicates() {
        assert!(!SERVICES.is_empty());
        for pair in SERVICES.windows(2) {
            assert!(
                (pair[0].0, pair[0].1) < (pair[1].0, pair[1].1),
                "{pair:?} is out of order or repeated"
            );
        }
        assert!(SERVICES.iter().all(|e| e.1 == TCP_CODE || e.1 == UDP_CODE));
    }

    #[test]
    fn known_vendors() {
        assert_eq!(
            oui_vendor([0x00, 0x50, 0x56, 0x12, 0x34, 0x56]),
            Some("VMware")
        );
        assert_eq!(
            oui_vendor([0x00, 0x0c, 0x29, 0x00, 0x00, 0x01]),
            Some("VMware")
        );
        assert_eq!(
            oui_vendor([0x08, 0x00, 0x27, 0xaa, 0xbb, 0xcc]),
            Some("VirtualBox")
        );
        assert_eq!(
            oui_vendor([0x00, 0x16, 0x3e, 0x01, 0x02, 0x03]),
            Some("Xen")
        );
        assert_eq!(
            oui_vendor([0xb8, 0x27, 0xeb, 0x01, 0x02, 0x03]),
            Some("Raspberry Pi")
        );
        assert_eq!(
            oui_vendor([0xdc, 0xa6, 0x32, 0x01, 0x02, 0x03]),
            Some("Raspberry Pi")
        );
        assert_eq!(
            oui_vendor([0x00, 0x00, 0x0c, 0x07, 0xac, 0x01]),
            Some("Cisco")
        );
    }

    #[test]
    fn only_the_first_three_bytes_count() {
        for tail in [[0x00, 0x00, 0x00], [0xff, 0xff, 0xff], [0x12, 0x34, 0x56]] {
            let [d, e, f] = tail;
            assert_eq!(oui_vendor([0x00, 0x50, 0x56, d, e, f]), Some("VMware"));
        }
    }

    #[test]
    fn locally_administered_addresses_have_no_vendor() {
        // Docker's default bridge hands out 02:42:…, a randomised Wi-Fi address has the same bit.
        assert_eq!(oui_vendor([0x02, 0x42, 0xac, 0x11, 0x00, 0x02]), None);
        assert_eq!(oui_vendor([0x7a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f]), None);
        // The same bytes as VMware's prefix but with the local bit set: not VMware.
        assert_eq!(
            oui_vendor([MAC_LOCAL_BIT, 0x50, 0x56, 0x12, 0x34, 0x56]),
            None
        );
    }

    #[test]
    fn qemu_convention_is_named_although_locally_administered() {
        assert_ne!(0x52 & MAC_LOCAL_BIT, 0);
        assert_eq!(
            oui_vendor([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
            Some("QEMU/KVM")
        );
    }

    #[test]
    fn group_addresses_have_no_vendor() {
        assert_eq!(oui_vendor([0xff; 6]), None);
        // IPv4 multicast, IPv6 multicast, and Cisco's own CDP multicast.
        assert_eq!(oui_vendor([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]), None);
        assert_eq!(oui_vendor([0x33, 0x33, 0x00, 0x00, 0x00, 0x01]), None);
        assert_eq!(oui_vendor([0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc]), None);
    }

    #[test]
    fn unknown_prefix_gives_none() {
        // The first universal unicast prefix the table lacks, wherever that is.
        let missing = (0u32..1 << 24)
            .filter(|&p| first_byte(p) & (MAC_GROUP_BIT | MAC_LOCAL_BIT) == 0)
            .find(|p| OUI.binary_search_by_key(p, |e| e.0).is_err())
            .expect("the table does not cover every prefix");
        let [_, a, b, c] = missing.to_be_bytes();
        assert_eq!(oui_vendor([a, b, c, 0x00, 0x00, 0x01]), None);
    }

    #[test]
    fn oui_table_is_sorted_without_duplicates() {
        assert!(!OUI.is_empty());
        for pair in OUI.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "{pair:?} is out of order or repeated"
            );
        }
        for &(prefix, vendor) in OUI {
            assert!(prefix < 1 << 24, "{prefix:#x} is wider than 24 bits");
            assert_eq!(first_byte(prefix) & MAC_GROUP_BIT, 0, "{prefix:#08x}");
            assert!(!vendor.is_empty());
        }
    }
}
