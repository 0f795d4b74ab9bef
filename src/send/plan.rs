//! A [`Request`] and the interface it names, turned into what to send and what to wait
//! for. The safety checks that depend on the packet (target on the link, ARP and NDP
//! only on Ethernet, no claim of an address that is not ours) are made here, before
//! anything is shown or sent.

use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::craft::{self, Ends, Ends6};
use super::iface::{self, Claim, Interface, Resolution};
use super::watch::Expect;
use super::{
    ArpMode, ArpSpec, NdpSpec, Options, Packet, Request, SendError, TcpSpec, UdpDest, UdpSpec, sys,
};
use crate::proto::MacAddr;
use crate::proto::arp::{Arp, ArpKind};
use crate::proto::icmpv6::{NeighbourKind, NeighbourMessage};
use crate::proto::ipv6::{self, ALL_NODES};
use crate::proto::tcp::{Tcp, TcpFlags, TcpOption};

/// How the frames leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Whole Ethernet frames through the packet socket (ARP, NDP).
    Link,
    /// IP datagrams through a raw IPv4 or IPv6 socket, which the kernel routes to `dst`.
    Ip {
        /// The destination.
        dst: IpAddr,
        /// A broadcast or multicast destination (an IPv4 broadcast needs `SO_BROADCAST`).
        broadcast: bool,
    },
}

/// Everything one run sends each time, and what it waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The frames sent each time, in order (one, or the fragments of one datagram).
    pub frames: Vec<Vec<u8>>,
    /// How they leave.
    pub via: Via,
    /// What comes back.
    pub expect: Expect,
    /// One phrase naming the packet: "ARP request: who has 10.77.0.2? tell 10.77.0.1".
    pub title: String,
    /// Notes shown under the packet's tables (how it is sent, what the kernel adds).
    pub notes: Vec<String>,
    /// IPv4 identifications of the packets, to recognise them leaving (none for IPv6).
    pub sent_ids: Vec<u16>,
    /// In a dry run, why a real run would refuse to send this (ARP or NDP spoofing
    /// without `--spoof`): a dry run always shows the packet, and says so.
    pub refused: Option<String>,
}

/// Well-known window of a Linux SYN, in bytes (before scaling): 44 × 1460.
const SYN_WINDOW: u16 = 64240;
/// First port of the IANA ephemeral range, from which source ports are picked.
const EPHEMERAL_FIRST: u16 = 49152;

/// Plans `req` on `iface` (already checked to exist and be up).
pub fn make(req: &Request, iface: &Interface) -> Result<Plan, SendError> {
    match &req.packet {
        Packet::Arp(spec) => arp(spec, iface, &req.options),
        Packet::Ndp(spec) => ndp(spec, iface, &req.options),
        Packet::Udp(spec) => udp(spec, iface, req.options.any_target),
        Packet::Tcp(spec) => tcp(spec, iface, req.options.any_target),
    }
}

/// Checks a claim a packet makes ("`ip` is at `mac`") against the interface. Returns
/// the note to show under the packet and, in a dry run, why a real run would refuse it;
/// refuses it outright when it is not ours, unless `--spoof` or `--dry-run`.
fn allow_claim(
    iface: &Interface,
    c: Claim,
    o: &Options,
) -> Result<(Option<String>, Option<String>), SendError> {
    match iface.check_claim(&c) {
        Ok(()) => Ok((None, None)),
        Err(_) if o.spoof => Ok((Some(c.belief()), None)),
        Err(e) if o.dry_run => Ok((
            Some(format!(
                "Without --dry-run, wirelens refuses to send this (exit code 2): {e}"
            )),
            Some(e.to_string()),
        )),
        Err(e) => Err(e),
    }
}

const PACKET_SOCKET_NOTE: &str = "Goes out through an AF_PACKET raw socket: wirelens wrote every \
     byte of this frame, the Ethernet header included.";

fn arp(spec: &ArpSpec, iface: &Interface, o: &Options) -> Result<Plan, SendError> {
    iface.check_ethernet(Resolution::Arp)?;
    let any_target = o.any_target;
    let mac = spec.sender_mac.unwrap_or(iface.mac);
    let sender_for = |target: Ipv4Addr| match spec.sender_ip {
        Some(ip) => Ok(ip),
        None => iface.source_for(target),
    };
    // Every ARP packet but a probe tells the hosts that take it in "sender IP is at
    // sender MAC" (RFC 826 has a receiver update an entry it has for the sender, and the
    // target add one): refused, before any other check, unless both are ours.
    let claim = |ip: Ipv4Addr, believers: String| {
        let c = Claim {
            protocol: Resolution::Arp,
            ip: IpAddr::V4(ip),
            mac,
            believers,
        };
        allow_claim(iface, c, o)
    };
    let (spoof_note, refused) = match &spec.mode {
        ArpMode::Request { target, .. } => claim(
            sender_for(*target)?,
            format!(
                "{target} (the host it asks), and every host that hears it and already has \
                 the sender IP in its ARP cache,"
            ),
        )?,
        ArpMode::Reply { target, .. } => claim(sender_for(*target)?, target.to_string())?,
        ArpMode::Gratuitous { .. } => claim(
            match spec.sender_ip {
                Some(ip) => ip,
                None => iface.source_for(Ipv4Addr::UNSPECIFIED)?,
            },
            "every host that hears it".to_string(),
        )?,
        ArpMode::Probe { .. } => (None, None),
    };
    let (packet, dst, expect) = match &spec.mode {
        ArpMode::Request { target, target_mac } => {
            iface.check_target(*target, any_target)?;
            let asker = sender_for(*target)?;
            (
                Arp::request(mac, asker, *target),
                target_mac.unwrap_or(MacAddr::BROADCAST),
                Expect::ArpReply {
                    target: *target,
                    asker,
                },
            )
        }
        ArpMode::Reply { target, target_mac } => {
            iface.check_target(*target, any_target)?;
            let ip = sender_for(*target)?;
            (
                Arp::reply(mac, ip, *target_mac, *target),
                *target_mac,
                Expect::Nothing,
            )
        }
        ArpMode::Gratuitous { reply } => {
            let ip = match spec.sender_ip {
                Some(ip) => ip,
                None => iface.source_for(Ipv4Addr::UNSPECIFIED)?,
            };
            iface.check_target(ip, any_target)?;
            (
                Arp::gratuitous(mac, ip, *reply),
                MacAddr::BROADCAST,
                Expect::Nothing,
            )
        }
        ArpMode::Probe { target } => {
            iface.check_target(*target, any_target)?;
            (
                Arp::probe(mac, *target),
                MacAddr::BROADCAST,
                Expect::ArpClaim {
                    ip: *target,
                    our_mac: mac,
                },
            )
        }
    };
    let mut notes = vec![PACKET_SOCKET_NOTE.to_string()];
    if mac != iface.mac {
        notes.push(format!(
            "The sender MAC {mac} is not {}'s own ({}): answers go to {mac}.",
            iface.name, iface.mac
        ));
    }
    notes.extend(spoof_note);
    Ok(Plan {
        frames: vec![craft::arp_frame(mac, dst, &packet)],
        via: Via::Link,
        expect,
        title: match packet.kind {
            ArpKind::Request => format!("ARP request: {}", lower_first(&packet.explain())),
            ArpKind::Reply => format!("ARP reply: {}", packet.explain()),
            ArpKind::Probe => format!("ARP probe: {}", lower_first(&packet.explain())),
            _ => packet.explain(),
        },
        notes,
        sent_ids: Vec::new(),
        refused,
    })
}

fn ndp(spec: &NdpSpec, iface: &Interface, o: &Options) -> Result<Plan, SendError> {
    iface.check_ethernet(Resolution::Ndp)?;
    let target = spec.target;
    let mac = iface.mac;
    let src = match spec.source {
        Some(ip) => ip,
        None => iface.link_local().ok_or_else(|| SendError::NoIpv6Address {
            iface: iface.name.clone(),
        })?,
    };
    // A solicitation carrying a source link-layer address tells the host it asks "the
    // source is at our MAC" (RFC 4861, section 7.2.3: it creates or updates an entry
    // for the source); an advertisement tells every host that hears it "the target is
    // at our MAC". Refused, before any other check, unless both are ours.
    let c = if spec.advertise {
        Claim {
            protocol: Resolution::Ndp,
            ip: IpAddr::V6(target),
            mac,
            believers: "every host that hears it".to_string(),
        }
    } else {
        Claim {
            protocol: Resolution::Ndp,
            ip: IpAddr::V6(src),
            mac,
            believers: format!("{target} (the host it asks)"),
        }
    };
    let (spoof_note, refused) = allow_claim(iface, c, o)?;
    iface.check_target_v6(target, o.any_target)?;
    let (dst, msg, expect, title) = if spec.advertise {
        (
            ALL_NODES,
            NeighbourMessage {
                kind: NeighbourKind::Advertisement {
                    router: false,
                    solicited: false,
                    override_flag: true,
                },
                target,
                lladdr: Some(mac),
            },
            Expect::Nothing,
            format!("unsolicited neighbour advertisement: {target} is at {mac}"),
        )
    } else {
        (
            ipv6::solicited_node(target),
            NeighbourMessage {
                kind: NeighbourKind::Solicitation,
                target,
                lladdr: Some(mac),
            },
            Expect::NdpAdvert { target, asker: src },
            format!("neighbour solicitation: who has {target}? Tell {src}"),
        )
    };
    let ends = Ends6 {
        src_mac: mac,
        dst_mac: MacAddr::ipv6_multicast(dst),
        src,
        dst,
        hop_limit: NeighbourMessage::HOP_LIMIT,
    };
    let mut notes = vec![PACKET_SOCKET_NOTE.to_string()];
    notes.push(if spec.advertise {
        format!(
            "Sent to ff02::1, the all-nodes group, at {}: every IPv6 host on the link \
             receives it. The override flag is set, so hosts that have {target} in their \
             neighbour cache replace its MAC with {mac}.",
            ends.dst_mac
        )
    } else {
        format!(
            "Sent to {dst}, the solicited-node group of {target}, at {}: only hosts with an \
             address ending in the same 24 bits listen there, so unlike an ARP broadcast it \
             disturbs nobody else.",
            ends.dst_mac
        )
    });
    notes.push(
        "Hop limit 255: a host drops neighbour discovery that arrives with any other value, \
         so it knows the message was not routed in from another link (RFC 4861, section 6.1)."
            .to_string(),
    );
    notes.extend(spoof_note);
    Ok(Plan {
        frames: vec![craft::ndp_frame(&ends, &msg)],
        via: Via::Link,
        expect,
        title: format!("NDP {title}"),
        notes,
        sent_ids: Vec::new(),
        refused,
    })
}

fn udp(spec: &UdpSpec, iface: &Interface, any_target: bool) -> Result<Plan, SendError> {
    let dst = match spec.dest {
        UdpDest::Broadcast => Ipv4Addr::BROADCAST,
        UdpDest::To(IpAddr::V6(ip)) => return udp_v6(spec, iface, any_target, ip),
        UdpDest::To(IpAddr::V4(ip)) => {
            iface.check_target(ip, any_target)?;
            ip
        }
    };
    let broadcast = iface.is_broadcast(dst);
    let (ends, mut notes) = ip_ends(iface, dst, spec.ttl.unwrap_or(64))?;
    let sport = spec.src_port.unwrap_or_else(random_port);
    let mtu = mtu(iface)?;
    let frames = craft::udp_frames(
        &iface.name,
        &ends,
        sport,
        spec.port,
        &spec.payload,
        mtu,
        spec.fragment,
    )?;
    notes.insert(0, hdrincl_note("UDP"));
    if frames.len() > 1 {
        notes.push(format!(
            "The datagram is {} bytes, more than {}'s MTU of {mtu}: wirelens cut it into {} \
             fragments that share identification 0x{:04x}; the receiver puts them back \
             together.",
            20 + 8 + spec.payload.len(),
            iface.name,
            frames.len(),
            ends.id
        ));
    }
    let what = if dst.is_broadcast() {
        "limited broadcast: every host on the link receives it".to_string()
    } else if broadcast {
        "subnet broadcast: every host on the subnet receives it".to_string()
    } else {
        "unicast".to_string()
    };
    Ok(Plan {
        title: format!(
            "UDP datagram {}:{sport} → {dst}:{} with {} bytes of data ({what})",
            ends.src,
            spec.port,
            spec.payload.len()
        ),
        frames,
        via: Via::Ip {
            dst: dst.into(),
            broadcast,
        },
        expect: Expect::Udp {
            src: ends.src.into(),
            sport,
            dst: dst.into(),
            dport: spec.port,
            broadcast,
        },
        notes,
        sent_ids: vec![ends.id],
        refused: None,
    })
}

/// A UDP datagram over IPv6 to `dst`: a multicast group (ff02::1 reaches every IPv6
/// host on the link, as 255.255.255.255 does for IPv4) or one host.
fn udp_v6(
    spec: &UdpSpec,
    iface: &Interface,
    any_target: bool,
    dst: Ipv6Addr,
) -> Result<Plan, SendError> {
    iface.check_target_v6(dst, any_target)?;
    let multicast = dst.is_multicast();
    // A group of link scope never leaves the link: hop limit 1 says so, as ping6 and
    // the kernel's own multicast do.
    let hop_limit = spec.ttl.unwrap_or(if ipv6::is_link_scope_multicast(dst) {
        1
    } else {
        64
    });
    let src = iface.source_for_v6(dst)?;
    let mut notes = vec![
        "Goes out through a raw IPv6 socket (IPPROTO_RAW): wirelens wrote every byte of the \
         IPv6 and UDP headers, the checksum over the IPv6 pseudo-header included (IPv6 makes it \
         mandatory); the kernel only routes the packet and puts the Ethernet header in front."
            .to_string(),
    ];
    let dst_mac = if iface.loopback {
        notes.push(format!(
            "{} is a loopback interface: the packet never reaches a wire, and both MAC \
             addresses are zero.",
            iface.name
        ));
        MacAddr::ZERO
    } else if multicast {
        let mac = MacAddr::ipv6_multicast(dst);
        notes.push(format!(
            "An IPv6 multicast group goes to Ethernet address {mac}: 33:33 and the group's \
             last 32 bits (RFC 2464). IPv6 has no broadcast; ff02::1, all nodes, plays its \
             part."
        ));
        mac
    } else {
        notes.push(format!(
            "The destination MAC is shown as 00:00:00:00:00:00: the kernel finds {dst}'s MAC \
             with neighbour discovery (a neighbour solicitation, IPv6's ARP) and writes it \
             there before the frame leaves."
        ));
        MacAddr::ZERO
    };
    let ends = Ends6 {
        src_mac: iface.mac,
        dst_mac,
        src,
        dst,
        hop_limit,
    };
    let sport = spec.src_port.unwrap_or_else(random_port);
    let frame = craft::udp6_frame(
        &iface.name,
        &ends,
        sport,
        spec.port,
        &spec.payload,
        mtu(iface)?,
    )?;
    let what = if dst == ALL_NODES {
        "multicast to all nodes: every IPv6 host on the link receives it"
    } else if multicast {
        "multicast: the hosts that joined the group receive it"
    } else {
        "unicast"
    };
    Ok(Plan {
        title: format!(
            "UDP datagram [{src}]:{sport} → [{dst}]:{} with {} bytes of data ({what})",
            spec.port,
            spec.payload.len()
        ),
        frames: vec![frame],
        via: Via::Ip {
            dst: dst.into(),
            broadcast: multicast,
        },
        expect: Expect::Udp {
            src: src.into(),
            sport,
            dst: dst.into(),
            dport: spec.port,
            broadcast: multicast,
        },
        notes,
        sent_ids: Vec::new(),
        refused: None,
    })
}

fn tcp(spec: &TcpSpec, iface: &Interface, any_target: bool) -> Result<Plan, SendError> {
    iface.check_target(spec.to, any_target)?;
    let (ends, mut notes) = ip_ends(iface, spec.to, 64)?;
    let sport = spec.src_port.unwrap_or_else(random_port);
    let f = spec.flags;
    let options: Vec<TcpOption> = if f.has(TcpFlags::SYN) {
        // The largest segment we could take: the MTU minus 20 (IPv4) and 20 (TCP).
        let mss = mtu(iface)?.saturating_sub(40).min(65495) as u16;
        vec![TcpOption::Mss { value: mss }]
    } else {
        Vec::new()
    };
    let ack = if f.has(TcpFlags::ACK) {
        random_u64() as u32
    } else {
        0
    };
    let options_len = options.iter().map(TcpOption::len).sum();
    let seg = Tcp::new(
        sport,
        spec.port,
        random_u64() as u32,
        ack,
        f,
        SYN_WINDOW,
        options,
    )
    .ok_or(SendError::TcpOptions { len: options_len })?;
    let frame = craft::tcp_frame(&ends, seg, &[])?;
    notes.insert(0, hdrincl_note("TCP"));
    let names: Vec<&str> = f.names().collect();
    Ok(Plan {
        title: format!(
            "TCP segment {}:{sport} → {}:{} with flags [{}]",
            ends.src,
            spec.to,
            spec.port,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ),
        frames: vec![frame],
        via: Via::Ip {
            dst: spec.to.into(),
            broadcast: false,
        },
        expect: Expect::Tcp {
            src: ends.src,
            sport,
            dst: spec.to,
            dport: spec.port,
        },
        notes,
        sent_ids: vec![ends.id],
        refused: None,
    })
}

/// The ends of an IPv4 datagram to `dst` on `iface`, and notes about the destination
/// MAC shown (which the kernel, not wirelens, writes on the wire).
fn ip_ends(iface: &Interface, dst: Ipv4Addr, ttl: u8) -> Result<(Ends, Vec<String>), SendError> {
    let mut notes = Vec::new();
    let dst_mac = if iface.loopback {
        notes.push(format!(
            "{} is a loopback interface: the packet never reaches a wire, and both MAC \
             addresses are zero.",
            iface.name
        ));
        MacAddr::ZERO
    } else if iface.is_broadcast(dst) {
        MacAddr::BROADCAST
    } else if let Some(mac) = iface::neighbour_mac(&iface.name, dst) {
        mac
    } else {
        notes.push(format!(
            "The destination MAC is shown as 00:00:00:00:00:00: {dst} is not in the kernel's \
             ARP cache yet. The kernel asks for it with ARP and writes the answer there before \
             the frame leaves."
        ));
        MacAddr::ZERO
    };
    let ends = Ends {
        src_mac: iface.mac,
        dst_mac,
        src: iface.source_for(dst)?,
        dst,
        id: random_id(),
        ttl,
    };
    Ok((ends, notes))
}

fn hdrincl_note(proto: &str) -> String {
    format!(
        "Goes out through a raw IPv4 socket with IP_HDRINCL: wirelens wrote every byte of the IPv4 \
         and {proto} headers, checksums included; the kernel only routes the datagram and puts \
         the Ethernet header in front."
    )
}

fn mtu(iface: &Interface) -> Result<usize, SendError> {
    sys::mtu(&iface.name)
        .map(|m| m as usize)
        .map_err(|source| SendError::Io {
            iface: iface.name.clone(),
            what: "read the MTU".to_string(),
            source,
        })
}

/// "Who has…" → "who has…", for a title after "ARP request: ".
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// 64 random bits, from the standard library's randomly keyed SipHash (seeded by the
/// operating system) over the time: enough for ports, sequence numbers and IDs, which
/// only need to differ between runs.
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.write_u128(now);
    h.finish()
}

/// A random source port from the ephemeral range 49152–65535.
fn random_port() -> u16 {
    EPHEMERAL_FIRST + (random_u64() % u64::from(u16::MAX - EPHEMERAL_FIRST + 1)) as u16
}

/// A random IPv4 identification other than 0 (0 would let the kernel pick its own).
fn random_id() -> u16 {
    (random_u64() % u64::from(u16::MAX)) as u16 + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::Options;

    fn va() -> Interface {
        crate::send::iface::test_interface()
    }

    fn req(packet: Packet) -> Request {
        Request {
            options: Options {
                iface: "va".into(),
                count: 1,
                interval_ms: 1000.0,
                timeout_ms: 1000,
                quiet: false,
                dry_run: true,
                write: None,
                any_target: false,
                force: false,
                spoof: false,
                width: 100,
            },
            packet,
        }
    }

    fn arp_req(mode: ArpMode) -> Request {
        req(Packet::Arp(ArpSpec {
            mode,
            sender_ip: None,
            sender_mac: None,
        }))
    }

    #[test]
    fn arp_plans() {
        let b = Ipv4Addr::new(10, 77, 0, 2);
        let p = make(
            &arp_req(ArpMode::Request {
                target: b,
                target_mac: None,
            }),
            &va(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.title, "ARP request: who has 10.77.0.2? Tell 10.77.0.1");
        assert_eq!(p.frames[0][..6], [0xff; 6]);
        assert_eq!(
            p.expect,
            Expect::ArpReply {
                target: b,
                asker: Ipv4Addr::new(10, 77, 0, 1)
            }
        );
        let p = make(&arp_req(ArpMode::Gratuitous { reply: false }), &va())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            p.title.starts_with("Gratuitous ARP: 10.77.0.1 announces"),
            "{}",
            p.title
        );
        let off = arp_req(ArpMode::Probe {
            target: Ipv4Addr::new(192, 0, 2, 1),
        });
        assert!(matches!(make(&off, &va()), Err(SendError::OffLink { .. })));
        let mut lo = va();
        lo.loopback = true;
        assert!(matches!(
            make(&off, &lo),
            Err(SendError::NotEthernet { .. })
        ));
    }

    #[test]
    fn claims_of_foreign_addresses_are_refused_unless_spoof_and_shown_in_a_dry_run() {
        let gateway = Ipv4Addr::new(10, 77, 0, 254);
        let spoofed = |mode: ArpMode, dry_run: bool, spoof: bool| {
            let mut r = req(Packet::Arp(ArpSpec {
                mode,
                sender_ip: Some(gateway),
                sender_mac: None,
            }));
            r.options.dry_run = dry_run;
            r.options.spoof = spoof;
            make(&r, &va())
        };
        let b = Ipv4Addr::new(10, 77, 0, 2);
        let b_mac = MacAddr([2, 0x77, 0, 0, 0, 2]);
        for mode in [
            ArpMode::Gratuitous { reply: false },
            ArpMode::Gratuitous { reply: true },
            ArpMode::Reply {
                target: b,
                target_mac: b_mac,
            },
            ArpMode::Request {
                target: b,
                target_mac: None,
            },
        ] {
            let e = spoofed(mode.clone(), false, false)
                .err()
                .map(|e| (e.exit_code(), e.to_string()));
            let (code, e) = e.unwrap_or_else(|| panic!("{mode:?} was not refused"));
            assert_eq!(code, 2);
            assert!(
                e.starts_with(
                    "10.77.0.254 is not an address of va, so telling the link that \
                     10.77.0.254 is at 02:77:00:00:00:01 is ARP spoofing, and "
                ),
                "{e}"
            );
            // A dry run shows it, with the refusal in the notes and for the last line.
            let p = spoofed(mode.clone(), true, false).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.refused.as_deref(), Some(e.as_str()));
            assert!(
                p.notes.iter().any(|n| n
                    == &format!(
                        "Without --dry-run, wirelens refuses to send this (exit code 2): {e}"
                    )),
                "{:?}",
                p.notes
            );
            // --spoof sends it, and the notes say what its receivers will believe.
            let p = spoofed(mode.clone(), false, true).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.refused, None);
            let belief = p
                .notes
                .iter()
                .find(|n| n.starts_with("Allowed by --spoof: "));
            assert!(
                belief.is_some_and(|n| n.contains(
                    "will believe that 10.77.0.254 is at 02:77:00:00:00:01 and send its traffic \
                     for 10.77.0.254 to that MAC. This is ARP spoofing"
                )),
                "{mode:?}: {:?}",
                p.notes
            );
        }
        // The example of the issue: an address off the link is refused as spoofing too.
        let mut r = arp_req(ArpMode::Gratuitous { reply: false });
        r.options.dry_run = false;
        if let Packet::Arp(a) = &mut r.packet {
            a.sender_ip = Some(Ipv4Addr::new(192, 0, 2, 1));
        }
        assert!(matches!(make(&r, &va()), Err(SendError::Spoofing { .. })));
        // Our own address at another MAC is a false claim as well; a probe claims nothing.
        let mut r = arp_req(ArpMode::Gratuitous { reply: false });
        r.options.dry_run = false;
        if let Packet::Arp(a) = &mut r.packet {
            a.sender_mac = Some(MacAddr([2, 0, 0, 0, 0, 9]));
        }
        assert!(matches!(make(&r, &va()), Err(SendError::Spoofing { .. })));
        let probe = arp_req(ArpMode::Probe { target: b });
        assert!(make(&probe, &va()).is_ok_and(|p| p.refused.is_none()));
    }

    fn ndp_req(target: &str, source: Option<&str>, advertise: bool) -> Request {
        req(Packet::Ndp(NdpSpec {
            target: target.parse().expect("address"),
            source: source.map(|s| s.parse().expect("address")),
            advertise,
        }))
    }

    #[test]
    fn a_neighbour_solicitation_goes_to_the_solicited_node_group() {
        let p = make(&ndp_req("fd77::2", None, false), &va()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.title,
            "NDP neighbour solicitation: who has fd77::2? Tell fe80::77:ff:fe00:1"
        );
        assert_eq!(p.via, Via::Link);
        let f = &p.frames[0];
        assert_eq!(f.get(..6), Some(&[0x33, 0x33, 0xff, 0, 0, 2][..]));
        // IPv6 hop limit (byte 7 of its header) and destination ff02::1:ff00:2.
        assert_eq!(f.get(14 + 7), Some(&255));
        assert_eq!(
            f.get(38..54),
            Some(&ipv6::solicited_node("fd77::2".parse().expect("address")).octets()[..])
        );
        assert!(matches!(p.expect, Expect::NdpAdvert { .. }));
        assert_eq!(p.refused, None);
        // From our own global address too.
        assert!(make(&ndp_req("fd77::2", Some("fd77::1"), false), &va()).is_ok());
        let off = ndp_req("2001:db8::1", None, false);
        assert!(matches!(make(&off, &va()), Err(SendError::OffLink { .. })));
        let mut lo = va();
        lo.loopback = true;
        let e = make(&ndp_req("fd77::2", None, false), &lo)
            .err()
            .map(|e| e.to_string());
        assert!(
            e.is_some_and(|e| e.ends_with("so there is no NDP on it.")),
            "loopback"
        );
    }

    #[test]
    fn ndp_claims_of_foreign_addresses_are_refused_unless_spoof() {
        for (r, ip, believers) in [
            (
                ndp_req("fd77::2", Some("fd77::99"), false),
                "fd77::99",
                "fd77::2 (the host it asks)",
            ),
            (
                ndp_req("fd77::2", None, true),
                "fd77::2",
                "every host that hears it",
            ),
        ] {
            let mut real = r.clone();
            real.options.dry_run = false;
            let e = make(&real, &va())
                .err()
                .map(|e| (e.exit_code(), e.to_string()));
            let (code, e) = e.unwrap_or_else(|| panic!("{ip} was not refused"));
            assert_eq!(code, 2);
            assert_eq!(
                e,
                format!(
                    "{ip} is not an address of va, so telling the link that {ip} is at \
                     02:77:00:00:00:01 is NDP spoofing, and {believers} would send its traffic \
                     for {ip} to 02:77:00:00:00:01 instead of to the host that owns {ip}; add \
                     --spoof only if that is what you mean to show, on a network of your own."
                )
            );
            let p = make(&r, &va()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.refused.as_deref(), Some(e.as_str()));
            real.options.spoof = true;
            let p = make(&real, &va()).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                p.notes
                    .iter()
                    .any(|n| n.starts_with("Allowed by --spoof: ")),
                "{:?}",
                p.notes
            );
        }
        // Announcing our own address is no spoofing.
        let p = make(&ndp_req("fd77::1", None, true), &va()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.refused, None);
        assert_eq!(p.frames[0].get(..6), Some(&[0x33, 0x33, 0, 0, 0, 1][..]));
    }

    #[test]
    fn udp_to_all_nodes_has_hop_limit_1_and_goes_to_33_33_00_00_00_01() {
        let mut r = req(Packet::Udp(UdpSpec {
            dest: UdpDest::To("ff02::1".parse().expect("address")),
            port: 10000,
            src_port: Some(50000),
            payload: b"hi".to_vec(),
            ttl: None,
            fragment: false,
        }));
        let mut lo_mtu = va();
        lo_mtu.name = "lo".into(); // the MTU is read from the real interface
        let p = make(&r, &lo_mtu).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            p.title.starts_with(
                "UDP datagram [fe80::77:ff:fe00:1]:50000 → [ff02::1]:10000 with 2 bytes of data \
                 (multicast to all nodes"
            ),
            "{}",
            p.title
        );
        let f = &p.frames[0];
        assert_eq!(f.get(..6), Some(&[0x33, 0x33, 0, 0, 0, 1][..]));
        assert_eq!(f.get(14 + 7), Some(&1), "hop limit");
        assert!(matches!(
            p.via,
            Via::Ip {
                broadcast: true,
                ..
            }
        ));
        if let Packet::Udp(u) = &mut r.packet {
            u.ttl = Some(5);
            u.dest = UdpDest::To("fd77::2".parse().expect("address"));
        }
        let p = make(&r, &lo_mtu).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.frames[0].get(14 + 7), Some(&5), "hop limit");
        assert!(
            p.title
                .starts_with("UDP datagram [fd77::1]:50000 → [fd77::2]:10000")
        );
    }

    #[test]
    fn random_numbers_differ() {
        let v: std::collections::HashSet<u64> = (0..100).map(|_| random_u64()).collect();
        assert!(v.len() > 95);
        assert!((0..1000).all(|_| random_port() >= EPHEMERAL_FIRST && random_id() != 0));
    }
}
