//! A [`Request`] and the interface it names, turned into what to send and what to wait
//! for. The safety checks that depend on the packet (target on the link, ARP only on
//! Ethernet) are made here, before anything is shown or sent.

use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, Ipv4Addr};

use super::craft::{self, Ends};
use super::iface::{self, Claim, Interface, Resolution};
use super::watch::Expect;
use super::{
    ArpMode, ArpSpec, Options, Packet, Request, SendError, TcpSpec, UdpDest, UdpSpec, sys,
};
use crate::proto::MacAddr;
use crate::proto::arp::{Arp, ArpKind};
use crate::proto::tcp::{Tcp, TcpFlags, TcpOption};

/// How the frames leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Whole Ethernet frames through the packet socket (ARP).
    Link,
    /// IPv4 datagrams through the raw IPv4 socket, which the kernel routes to `dst`.
    Ip {
        /// The destination.
        dst: Ipv4Addr,
        /// A broadcast destination (needs `SO_BROADCAST`).
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
    /// IPv4 identifications of the packets, to recognise them leaving.
    pub sent_ids: Vec<u16>,
    /// In a dry run, why a real run would refuse to send this (ARP spoofing without
    /// `--spoof`): a dry run always shows the packet, and says so.
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
        Packet::Udp(spec) => udp(spec, iface, req.options.any_target),
        Packet::Tcp(spec) => tcp(spec, iface, req.options.any_target),
    }
}

fn arp(spec: &ArpSpec, iface: &Interface, o: &Options) -> Result<Plan, SendError> {
    iface.check_ethernet()?;
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
    let mut notes = vec![
        "Goes out through an AF_PACKET raw socket: wirelens wrote every byte of this frame, the \
         Ethernet header included."
            .to_string(),
    ];
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

fn udp(spec: &UdpSpec, iface: &Interface, any_target: bool) -> Result<Plan, SendError> {
    let dst = match spec.dest {
        UdpDest::Broadcast => Ipv4Addr::BROADCAST,
        UdpDest::To(ip) => {
            iface.check_target(ip, any_target)?;
            ip
        }
    };
    let broadcast = iface.is_broadcast(dst);
    let (ends, mut notes) = ip_ends(iface, dst, spec.ttl)?;
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
        via: Via::Ip { dst, broadcast },
        expect: Expect::Udp {
            src: ends.src,
            sport,
            dst,
            dport: spec.port,
            broadcast,
        },
        notes,
        sent_ids: vec![ends.id],
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
            dst: spec.to,
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

    #[test]
    fn random_numbers_differ() {
        let v: std::collections::HashSet<u64> = (0..100).map(|_| random_u64()).collect();
        assert!(v.len() > 95);
        assert!((0..1000).all(|_| random_port() >= EPHEMERAL_FIRST && random_id() != 0));
    }
}
