//! The interface the sender sends on: does it exist, is it up, what are its MAC address,
//! addresses and IPv4 subnets — is a target on one of those subnets, and does a packet
//! claim an address the interface does not own. Reading all this needs no privilege, so
//! `--dry-run` can refuse exactly what a real send would refuse.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::SendError;
use crate::proto::MacAddr;

/// An IPv4 address of the interface with its prefix length: 10.77.0.1/24.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subnet {
    /// The interface's own address.
    pub addr: Ipv4Addr,
    /// Prefix length, in bits (0–32).
    pub prefix: u8,
}

impl Subnet {
    /// The network mask as a number: /24 → 0xffffff00.
    fn mask(&self) -> u32 {
        match self.prefix {
            0 => 0,
            p => u32::MAX << (32 - u32::from(p.min(32))),
        }
    }

    /// The network address: 10.77.0.0 for 10.77.0.1/24.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask())
    }

    /// The subnet broadcast address: 10.77.0.255 for 10.77.0.1/24 (none for /31 and
    /// /32, which have no room for one).
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        (self.prefix < 31).then(|| Ipv4Addr::from(u32::from(self.addr) | !self.mask()))
    }

    /// True when `ip` is on this subnet (its network and broadcast addresses included).
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.addr) & self.mask()
    }
}

impl fmt::Display for Subnet {
    /// The network in CIDR form, e.g. "10.77.0.0/24".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

/// An IPv6 address of the interface with its prefix length: fd77::1/64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subnet6 {
    /// The interface's own address.
    pub addr: Ipv6Addr,
    /// Prefix length, in bits (0–128).
    pub prefix: u8,
}

impl Subnet6 {
    /// The network mask as a number: /64 → the high 64 bits set.
    fn mask(&self) -> u128 {
        match self.prefix {
            0 => 0,
            p => u128::MAX << (128 - u32::from(p.min(128))),
        }
    }

    /// True when `ip` is on this prefix.
    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & self.mask() == u128::from(self.addr) & self.mask()
    }
}

impl fmt::Display for Subnet6 {
    /// The prefix in CIDR form, e.g. "fd77::/64".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let net = Ipv6Addr::from(u128::from(self.addr) & self.mask());
        write!(f, "{net}/{}", self.prefix)
    }
}

/// What the sender needs to know about an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Its name, e.g. "va".
    pub name: String,
    /// Its index, for binding a packet socket.
    pub index: u32,
    /// Its MAC address (00:00:00:00:00:00 for loopback).
    pub mac: MacAddr,
    /// Its IPv4 addresses with their prefixes.
    pub subnets: Vec<Subnet>,
    /// Its IPv6 addresses with their prefixes, link-local ones included.
    pub subnets6: Vec<Subnet6>,
    /// Every address the kernel has given it, IPv4 and IPv6: the addresses it owns.
    pub addrs: Vec<IpAddr>,
    /// Administratively up (`ip link set IFACE up`).
    pub up: bool,
    /// Has a carrier (IFF_LOWER_UP): its cable, or the other end of its veth pair, is up,
    /// so frames can leave it. Read directly, not through the operational state, which
    /// the kernel updates up to a second later.
    pub carrier: bool,
    /// The loopback interface: no Ethernet on the wire, no ARP.
    pub loopback: bool,
}

impl Interface {
    /// Finds interface `name` in this network namespace. Its addresses are the kernel's
    /// (pnet reads them with getifaddrs), as `ip addr show` lists them.
    pub fn lookup(name: &str) -> Result<Interface, SendError> {
        let all = pnet::datalink::interfaces();
        let Some(i) = all.iter().find(|i| i.name == name) else {
            let mut names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            return Err(SendError::NoInterface {
                iface: name.to_string(),
                known: names.join(", "),
            });
        };
        let subnets = i
            .ips
            .iter()
            .filter_map(|n| match n {
                pnet::ipnetwork::IpNetwork::V4(v4) => Some(Subnet {
                    addr: v4.ip(),
                    prefix: v4.prefix(),
                }),
                pnet::ipnetwork::IpNetwork::V6(_) => None,
            })
            .collect();
        let subnets6 = i
            .ips
            .iter()
            .filter_map(|n| match n {
                pnet::ipnetwork::IpNetwork::V6(v6) => Some(Subnet6 {
                    addr: v6.ip(),
                    prefix: v6.prefix(),
                }),
                pnet::ipnetwork::IpNetwork::V4(_) => None,
            })
            .collect();
        Ok(Interface {
            name: i.name.clone(),
            index: i.index,
            mac: i.mac.map_or(MacAddr::ZERO, |m| MacAddr(m.octets())),
            subnets,
            subnets6,
            addrs: i.ips.iter().map(|n| n.ip()).collect(),
            up: i.is_up(),
            carrier: i.is_lower_up(),
            loopback: i.is_loopback(),
        })
    }

    /// Refuses an interface that is down or has no link: nothing sent on it would leave.
    pub fn check_usable(&self) -> Result<(), SendError> {
        if !self.up {
            return Err(SendError::Down {
                iface: self.name.clone(),
            });
        }
        if !self.carrier {
            return Err(SendError::NoCarrier {
                iface: self.name.clone(),
            });
        }
        Ok(())
    }

    /// Refuses ARP or NDP (`protocol`) on an interface without Ethernet (loopback).
    pub fn check_ethernet(&self, protocol: Resolution) -> Result<(), SendError> {
        if self.loopback || self.mac == MacAddr::ZERO {
            return Err(SendError::NotEthernet {
                iface: self.name.clone(),
                protocol,
            });
        }
        Ok(())
    }

    /// True when `ip` is one of this interface's own addresses.
    pub fn owns(&self, ip: IpAddr) -> bool {
        self.addrs.contains(&ip)
    }

    /// Refuses a packet that tells its receivers that an address is at a MAC, when the
    /// address is not one of this interface's or the MAC is not its own: sent, it would
    /// redirect the receivers' traffic for that address (ARP or NDP spoofing).
    pub fn check_claim(&self, claim: &Claim) -> Result<(), SendError> {
        let foreign = if !self.owns(claim.ip) {
            Foreign::Address
        } else if claim.mac != self.mac {
            Foreign::Mac { own: self.mac }
        } else {
            return Ok(());
        };
        Err(SendError::Spoofing {
            iface: self.name.clone(),
            claim: claim.clone(),
            foreign,
        })
    }

    /// The subnet of this interface that `ip` is on, if any.
    pub fn subnet_of(&self, ip: Ipv4Addr) -> Option<&Subnet> {
        self.subnets.iter().find(|s| s.contains(ip))
    }

    /// Refuses a target that is not on one of this interface's subnets (the limited
    /// broadcast 255.255.255.255 is always on the link), unless `any_target`.
    pub fn check_target(&self, ip: Ipv4Addr, any_target: bool) -> Result<(), SendError> {
        if any_target || ip.is_broadcast() || self.subnet_of(ip).is_some() {
            return Ok(());
        }
        Err(SendError::OffLink {
            iface: self.name.clone(),
            target: IpAddr::V4(ip),
            subnets: self.subnet_list(),
        })
    }

    /// The interface's IPv6 link-local address (fe80::/10), if it has one.
    pub fn link_local(&self) -> Option<Ipv6Addr> {
        self.subnets6
            .iter()
            .map(|s| s.addr)
            .find(|a| crate::proto::ipv6::is_link_local(*a))
    }

    /// Refuses an IPv6 target that is not on the link, unless `any_target`: on the link
    /// are link-local addresses, multicast groups of link scope (ff02::1) and the
    /// interface's own IPv6 prefixes.
    pub fn check_target_v6(&self, ip: Ipv6Addr, any_target: bool) -> Result<(), SendError> {
        use crate::proto::ipv6::{is_link_local, is_link_scope_multicast};
        if any_target
            || is_link_local(ip)
            || is_link_scope_multicast(ip)
            || self.subnets6.iter().any(|s| s.contains(ip))
        {
            return Ok(());
        }
        let mut nets: Vec<String> = self.subnets6.iter().map(Subnet6::to_string).collect();
        nets.dedup();
        Err(SendError::OffLink {
            iface: self.name.clone(),
            target: IpAddr::V6(ip),
            subnets: if nets.is_empty() {
                "none: it has no IPv6 address".to_string()
            } else {
                nets.join(", ")
            },
        })
    }

    /// The IPv6 address to send from towards `ip`: the link-local one towards a
    /// link-local address or a multicast group, else ours on its prefix, else the
    /// link-local one.
    pub fn source_for_v6(&self, ip: Ipv6Addr) -> Result<Ipv6Addr, SendError> {
        let on_prefix = || {
            self.subnets6
                .iter()
                .filter(|s| !crate::proto::ipv6::is_link_local(s.addr))
                .find(|s| s.contains(ip))
                .map(|s| s.addr)
        };
        let global = if ip.is_multicast() || crate::proto::ipv6::is_link_local(ip) {
            None
        } else {
            on_prefix()
        };
        global
            .or_else(|| self.link_local())
            .ok_or_else(|| SendError::NoIpv6Address {
                iface: self.name.clone(),
            })
    }

    /// The address to send from towards `ip`: ours on its subnet, else our first one.
    pub fn source_for(&self, ip: Ipv4Addr) -> Result<Ipv4Addr, SendError> {
        self.subnet_of(ip)
            .or_else(|| self.subnets.first())
            .map(|s| s.addr)
            .ok_or_else(|| SendError::NoAddress {
                iface: self.name.clone(),
            })
    }

    /// True when `ip` is a broadcast address here: 255.255.255.255 or the broadcast
    /// address of one of our subnets.
    pub fn is_broadcast(&self, ip: Ipv4Addr) -> bool {
        ip.is_broadcast() || self.subnets.iter().any(|s| s.broadcast() == Some(ip))
    }

    /// Our subnets for a message, "10.77.0.0/24, 192.168.5.0/24", or "none".
    pub fn subnet_list(&self) -> String {
        if self.subnets.is_empty() {
            return "none: it has no IPv4 address".to_string();
        }
        let v: Vec<String> = self.subnets.iter().map(Subnet::to_string).collect();
        v.join(", ")
    }
}

/// The protocol by which hosts on a link learn which MAC an address is at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// ARP (RFC 826), for IPv4.
    Arp,
    /// Neighbor Discovery (RFC 4861), for IPv6: neighbour advertisements.
    Ndp,
}

impl fmt::Display for Resolution {
    /// "ARP" or "NDP".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resolution::Arp => "ARP",
            Resolution::Ndp => "NDP",
        })
    }
}

/// What a packet tells the hosts that take it in: "`ip` is at `mac`". An ARP request,
/// reply or gratuitous announcement claims its sender IP and MAC; an NDP neighbour
/// advertisement its target address and link-layer address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The protocol that carries the claim.
    pub protocol: Resolution,
    /// The address claimed.
    pub ip: IpAddr,
    /// The MAC it is claimed to be at.
    pub mac: MacAddr,
    /// Who takes the claim into their neighbour cache, as the subject of a sentence:
    /// "every host that hears it", "10.77.0.2".
    pub believers: String,
}

impl Claim {
    /// The note shown with a claim sent with `--spoof`: what its receivers will believe.
    pub fn belief(&self) -> String {
        format!(
            "Allowed by --spoof: {} will believe that {} is at {} and send its traffic for {} \
             to that MAC. This is {} spoofing: the host that really has {} stops receiving \
             that traffic for as long as the false entry stays in the receivers' caches.",
            self.believers, self.ip, self.mac, self.ip, self.protocol, self.ip
        )
    }
}

/// What in a [`Claim`] is not the interface's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Foreign {
    /// The address is not one of the interface's.
    Address,
    /// The address is the interface's, the MAC is not.
    Mac {
        /// The interface's own MAC.
        own: MacAddr,
    },
}

/// The sentence of [`SendError::Spoofing`].
pub(super) fn spoofing_sentence(iface: &str, c: &Claim, foreign: Foreign) -> String {
    let (why, instead) = match foreign {
        Foreign::Address => (
            format!("{} is not an address of {iface}", c.ip),
            format!("the host that owns {}", c.ip),
        ),
        Foreign::Mac { own } => (
            format!("{} is not {iface}'s MAC ({own})", c.mac),
            iface.to_string(),
        ),
    };
    format!(
        "{why}, so telling the link that {} is at {} is {} spoofing, and \
         {} would send its traffic for {} to {} instead of to {instead}; add --spoof only \
         if that is what you mean to show, on a network of your own.",
        c.ip, c.mac, c.protocol, c.believers, c.ip, c.mac
    )
}

/// The MAC address the kernel's neighbour (ARP) cache holds for `ip` on `iface`, if it
/// has a complete entry. Read from /proc/net/arp, which shows the calling process's
/// network namespace.
pub fn neighbour_mac(iface: &str, ip: Ipv4Addr) -> Option<MacAddr> {
    let table = std::fs::read_to_string("/proc/net/arp").ok()?;
    neighbour_in(&table, iface, ip)
}

/// Flag in /proc/net/arp meaning the entry is complete (ATF_COM).
const ATF_COM: u32 = 0x2;

/// Looks `ip` on `iface` up in the text of /proc/net/arp:
/// `IP address  HW type  Flags  HW address  Mask  Device`.
fn neighbour_in(table: &str, iface: &str, ip: Ipv4Addr) -> Option<MacAddr> {
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let [addr, _hw, flags, mac, _mask, dev] = cols.as_slice() else {
            return None;
        };
        let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
        (addr.parse() == Ok(ip) && *dev == iface && flags & ATF_COM != 0)
            .then(|| mac.parse().ok())
            .flatten()
    })
}

/// The interface the tests use: `va`, 10.77.0.1/24, fd77::1/64 and
/// fe80::77:ff:fe00:1/64, up, with a carrier.
#[cfg(test)]
pub(crate) fn test_interface() -> Interface {
    tests::va()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn va() -> Interface {
        Interface {
            name: "va".into(),
            index: 2,
            mac: MacAddr([2, 0x77, 0, 0, 0, 1]),
            subnets: vec![Subnet {
                addr: Ipv4Addr::new(10, 77, 0, 1),
                prefix: 24,
            }],
            subnets6: vec![
                Subnet6 {
                    addr: Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1),
                    prefix: 64,
                },
                Subnet6 {
                    addr: Ipv6Addr::new(0xfe80, 0, 0, 0, 0x77, 0xff, 0xfe00, 1),
                    prefix: 64,
                },
            ],
            addrs: vec![
                IpAddr::V4(Ipv4Addr::new(10, 77, 0, 1)),
                IpAddr::V6(Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1)),
                IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0x77, 0xff, 0xfe00, 1)),
            ],
            up: true,
            carrier: true,
            loopback: false,
        }
    }

    #[test]
    fn subnet_arithmetic() {
        let s = va().subnets[0];
        assert_eq!(s.to_string(), "10.77.0.0/24");
        assert_eq!(s.broadcast(), Some(Ipv4Addr::new(10, 77, 0, 255)));
        assert!(s.contains(Ipv4Addr::new(10, 77, 0, 200)));
        assert!(!s.contains(Ipv4Addr::new(10, 77, 1, 2)));
        let host = Subnet {
            addr: Ipv4Addr::new(192, 0, 2, 1),
            prefix: 32,
        };
        assert_eq!(host.broadcast(), None);
        assert!(host.contains(host.addr));
        let all = Subnet {
            addr: Ipv4Addr::new(192, 0, 2, 1),
            prefix: 0,
        };
        assert!(all.contains(Ipv4Addr::new(8, 8, 8, 8)));
    }

    #[test]
    fn targets_off_the_link_are_refused_with_a_sentence() {
        let i = va();
        assert!(i.check_target(Ipv4Addr::new(10, 77, 0, 2), false).is_ok());
        assert!(i.check_target(Ipv4Addr::BROADCAST, false).is_ok());
        assert!(i.check_target(Ipv4Addr::new(10, 77, 0, 255), false).is_ok());
        let e = i
            .check_target(Ipv4Addr::new(8, 8, 8, 8), false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            e,
            "8.8.8.8 is not on a subnet of va (10.77.0.0/24): wirelens sends only to hosts on \
             the link it sends on. Add --any-target if you really mean to send there."
        );
        assert!(i.check_target(Ipv4Addr::new(8, 8, 8, 8), true).is_ok());
    }

    #[test]
    fn claims_of_addresses_or_macs_not_ours_are_refused_with_a_sentence() {
        let i = va();
        let claim = |ip: Ipv4Addr, mac: MacAddr| Claim {
            protocol: Resolution::Arp,
            ip: IpAddr::V4(ip),
            mac,
            believers: "every host that hears it".into(),
        };
        assert!(i.check_claim(&claim(i.subnets[0].addr, i.mac)).is_ok());
        let gateway = claim(Ipv4Addr::new(10, 77, 0, 254), i.mac);
        let e = i.check_claim(&gateway).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "10.77.0.254 is not an address of va, so telling the link \
                 that 10.77.0.254 is at 02:77:00:00:00:01 is ARP spoofing, and every host that \
                 hears it would send its traffic for 10.77.0.254 to 02:77:00:00:00:01 instead \
                 of to the host that owns 10.77.0.254; add --spoof only if that is what you \
                 mean to show, on a network of your own."
            )
        );
        let other_mac = claim(i.subnets[0].addr, MacAddr([2, 0, 0, 0, 0, 9]));
        let e = i
            .check_claim(&other_mac)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("02:00:00:00:00:09 is not va's MAC (02:77:00:00:00:01)"),
            "{e}"
        );
        assert!(e.contains("instead of to va;"), "{e}");
        assert!(
            gateway.belief().starts_with(
                "Allowed by --spoof: every host that hears it will believe that 10.77.0.254 is \
                 at 02:77:00:00:00:01"
            ),
            "{}",
            gateway.belief()
        );
        let ndp = Claim {
            protocol: Resolution::Ndp,
            ip: "fe80::1"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            ..gateway
        };
        let e = i
            .check_claim(&ndp)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("is NDP spoofing"), "{e}");
    }

    #[test]
    fn down_and_carrierless_interfaces_are_refused() {
        let mut i = va();
        i.carrier = false;
        let e = i
            .check_usable()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("va is up but has no link"), "{e}");
        i.up = false;
        let e = i
            .check_usable()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("va is down"), "{e}");
    }

    #[test]
    fn ipv6_targets_and_sources() {
        let i = va();
        let ip = |s: &str| s.parse::<Ipv6Addr>().expect("address");
        assert!(i.check_target_v6(ip("fd77::2"), false).is_ok());
        assert!(i.check_target_v6(ip("fe80::1"), false).is_ok());
        assert!(i.check_target_v6(ip("ff02::1"), false).is_ok());
        let e = i
            .check_target_v6(ip("2001:db8::1"), false)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "2001:db8::1 is not on a subnet of va (fd77::/64, fe80::/64): wirelens sends \
                 only to hosts on the link it sends on. Add --any-target if you really mean to \
                 send there."
            )
        );
        assert!(i.check_target_v6(ip("2001:db8::1"), true).is_ok());
        assert_eq!(i.link_local(), Some(ip("fe80::77:ff:fe00:1")));
        assert_eq!(i.source_for_v6(ip("ff02::1")).ok(), i.link_local());
        assert_eq!(i.source_for_v6(ip("fd77::2")).ok(), Some(ip("fd77::1")));
        assert_eq!(i.source_for_v6(ip("fe80::2")).ok(), i.link_local());
        let mut bare = va();
        bare.subnets6.clear();
        let e = bare
            .source_for_v6(ip("ff02::1"))
            .err()
            .map(|e| e.to_string());
        assert!(
            e.is_some_and(|e| e.starts_with("va has no IPv6 link-local address")),
            "no link-local"
        );
    }

    #[test]
    fn broadcast_and_source_addresses() {
        let i = va();
        assert!(i.is_broadcast(Ipv4Addr::new(10, 77, 0, 255)));
        assert!(i.is_broadcast(Ipv4Addr::BROADCAST));
        assert!(!i.is_broadcast(Ipv4Addr::new(10, 77, 0, 2)));
        assert_eq!(
            i.source_for(Ipv4Addr::BROADCAST).ok(),
            Some(Ipv4Addr::new(10, 77, 0, 1))
        );
        let mut bare = va();
        bare.subnets.clear();
        assert!(bare.source_for(Ipv4Addr::BROADCAST).is_err());
    }

    #[test]
    fn loopback_exists_and_is_not_ethernet() {
        let lo = Interface::lookup("lo").unwrap_or_else(|e| panic!("{e}"));
        assert!(lo.loopback);
        assert!(lo.check_ethernet(Resolution::Arp).is_err());
        let e = Interface::lookup("no-such-if0")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with("There is no interface named no-such-if0 here"),
            "{e}"
        );
        assert!(e.contains("lo"), "{e}");
    }

    #[test]
    fn the_neighbour_table_is_read() {
        let table = "IP address       HW type     Flags       HW address            Mask     Device\n\
                     10.77.0.2        0x1         0x2         02:77:00:00:00:02     *        va\n\
                     10.77.0.3        0x1         0x0         00:00:00:00:00:00     *        va\n\
                     10.77.0.4        0x1         0x2         02:77:00:00:00:04     *        vb\n";
        let ip = |d| Ipv4Addr::new(10, 77, 0, d);
        assert_eq!(
            neighbour_in(table, "va", ip(2)),
            Some(MacAddr([2, 0x77, 0, 0, 0, 2]))
        );
        assert_eq!(neighbour_in(table, "va", ip(3)), None, "incomplete entry");
        assert_eq!(neighbour_in(table, "va", ip(4)), None, "other device");
        assert_eq!(neighbour_in("garbage", "va", ip(2)), None);
    }
}
