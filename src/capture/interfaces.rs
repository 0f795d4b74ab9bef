//! The network interfaces of this host (of this network namespace): names, addresses,
//! MAC, state. `wirelens interfaces` lists them, and an unknown `-i` name is answered with
//! the names that exist.

use std::fs;

use super::live::LiveError;
use crate::proto::MacAddr;

/// One interface, as `wirelens interfaces` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Its name, e.g. "eth0".
    pub name: String,
    /// The kernel's interface index.
    pub index: u32,
    /// Its hardware address, when it has one.
    pub mac: Option<MacAddr>,
    /// Its IPv4 and IPv6 addresses with their prefix length, e.g. "10.77.0.1/24".
    pub addresses: Vec<String>,
    /// Administratively up (`ip link set … up`).
    pub up: bool,
    /// Has a carrier: the link works (a veth whose peer is down has none).
    pub running: bool,
    /// The loopback interface.
    pub loopback: bool,
    /// The kernel's name for its hardware type (from `/sys/class/net/NAME/type`), e.g.
    /// "Ethernet" or "loopback", when known.
    pub kind: Option<&'static str>,
}

/// The name of libpcap's pseudo-interface that captures on every interface at once.
pub const ANY: &str = "any";

/// libpcap's `any` pseudo-interface, as listed: index 0 (no kernel interface has it),
/// always up.
pub fn any() -> Interface {
    Interface {
        name: ANY.to_string(),
        index: 0,
        mac: None,
        addresses: Vec::new(),
        up: true,
        running: true,
        loopback: false,
        kind: Some("all, Linux cooked (pcap only)"),
    }
}

/// Every interface, in the kernel's index order, then libpcap's `any`.
pub fn list() -> Vec<Interface> {
    let mut v: Vec<Interface> = ::pnet::datalink::interfaces()
        .into_iter()
        .map(|i| Interface {
            up: i.is_up(),
            running: i.is_running(),
            loopback: i.is_loopback(),
            kind: hardware_kind(&i.name),
            mac: i.mac.map(|m| MacAddr(m.octets())),
            addresses: i.ips.iter().map(|n| n.to_string()).collect(),
            index: i.index,
            name: i.name,
        })
        .collect();
    v.sort_by_key(|i| i.index);
    v.push(any());
    v
}

/// The interface named `name`, or an error listing the names that exist.
pub fn require(name: &str) -> Result<Interface, LiveError> {
    let all = list();
    match all.iter().find(|i| i.name == name) {
        Some(i) => Ok(i.clone()),
        None => Err(LiveError::NoSuchInterface {
            iface: name.to_string(),
            known: all.into_iter().map(|i| i.name).collect(),
        }),
    }
}

/// The ARPHRD_ hardware type number of an interface, from sysfs.
pub fn hardware_type(name: &str) -> Option<u16> {
    // An interface name never contains '/', so this stays inside /sys/class/net.
    if name.contains('/') || name.is_empty() {
        return None;
    }
    fs::read_to_string(format!("/sys/class/net/{name}/type"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// ARPHRD_ETHER: Ethernet and everything that looks like it (veth, bridges, Wi-Fi).
pub const ARPHRD_ETHER: u16 = 1;
/// ARPHRD_LOOPBACK: the loopback device, which carries Ethernet headers on Linux.
pub const ARPHRD_LOOPBACK: u16 = 772;
/// ARPHRD_NONE: a device without a link-layer header (tun, WireGuard): raw IP frames.
pub const ARPHRD_NONE: u16 = 65534;

fn hardware_kind(name: &str) -> Option<&'static str> {
    Some(match hardware_type(name)? {
        ARPHRD_ETHER => "Ethernet",
        ARPHRD_LOOPBACK => "loopback",
        // ARPHRD_PPP
        512 => "PPP",
        // ARPHRD_TUNNEL, ARPHRD_TUNNEL6, ARPHRD_SIT, ARPHRD_IPGRE
        768 | 769 | 776 | 778 => "IP tunnel",
        // ARPHRD_IEEE80211_RADIOTAP
        803 => "802.11 monitor",
        // tun devices and WireGuard, raw IP without a link header
        ARPHRD_NONE => "raw IP",
        _ => "other",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_and_unknown_names_list_the_real_ones() {
        let all = list();
        let lo = all.iter().find(|i| i.loopback);
        assert!(lo.is_some(), "{all:?}");
        assert!(all.iter().any(|i| i.name == ANY), "{all:?}");
        assert!(require(ANY).is_ok());
        let err = require("no-such-if0").err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("\"no-such-if0\""), "{err}");
        for i in &all {
            assert!(err.contains(&i.name), "{err}");
        }
    }

    #[test]
    fn sysfs_lookups_stay_in_sysfs() {
        assert_eq!(hardware_type("../../../etc/passwd"), None);
        assert_eq!(hardware_type(""), None);
    }
}
