//! Watching the answers: which frames seen on the interface belong to the exchange (our
//! own packet leaving, the peer's answer, our kernel's reaction to it), and what the
//! answer means, in sentences. Everything here works on [`Dissection`]s — the sender
//! reads what comes back with the same dissector as `wirelens read`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::sys::Direction;
use crate::dissect::Dissection;
use crate::proto::MacAddr;
use crate::proto::arp::ArpKind;
use crate::proto::icmpv6::{self, types as icmp6};
use crate::proto::tcp::{Tcp, TcpFlags};

/// What the sender waits for after sending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Nothing answers (a gratuitous ARP, an unsolicited ARP reply).
    Nothing,
    /// An ARP request: a reply from `target` to `asker`.
    ArpReply {
        /// The address asked about.
        target: Ipv4Addr,
        /// The sender IP the request carried.
        asker: Ipv4Addr,
    },
    /// An ARP probe: any ARP from another station claiming `ip`.
    ArpClaim {
        /// The address probed.
        ip: Ipv4Addr,
        /// Our MAC, whose own packets are no claim.
        our_mac: MacAddr,
    },
    /// A neighbour solicitation: an advertisement for `target`.
    NdpAdvert {
        /// The address asked about.
        target: Ipv6Addr,
        /// The source address the solicitation carried, where the answer goes.
        asker: Ipv6Addr,
    },
    /// A UDP datagram: only an ICMP (or ICMPv6) error could come back.
    Udp {
        /// Our address.
        src: IpAddr,
        /// Our port.
        sport: u16,
        /// The destination.
        dst: IpAddr,
        /// Its port.
        dport: u16,
        /// True for a broadcast or multicast, which no host answers with an ICMP error.
        broadcast: bool,
    },
    /// A TCP segment: a segment from the peer's port back to ours, or an ICMP error.
    Tcp {
        /// Our address.
        src: Ipv4Addr,
        /// Our port.
        sport: u16,
        /// The peer.
        dst: Ipv4Addr,
        /// Its port.
        dport: u16,
    },
}

/// What one frame seen on the interface is, for this exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// One of our own IPv4 packets, leaving (IPv4 identification `id`).
    Sent,
    /// The answer we wait for.
    Answer,
    /// Our own kernel's reaction to the answer (the RST to an unexpected SYN-ACK).
    Reaction,
    /// Part of the exchange without being an answer: the ARP (or NDP) the kernel does
    /// before an IP packet can leave.
    Related,
    /// Anything else on the interface.
    Other,
}

impl Expect {
    /// Sorts one frame seen on the interface. `sent_ids` are the IPv4 identifications
    /// of the packets we sent (for ARP there are none: a packet socket does not see
    /// its own frames). Answers count only coming in and our packets only going out,
    /// so that on loopback, where every packet is seen both ways, nothing counts twice.
    pub fn classify(&self, d: &Dissection, dir: Direction, sent_ids: &[u16]) -> Seen {
        let incoming = dir == Direction::Incoming;
        match self {
            Expect::Nothing => Seen::Other,
            Expect::ArpReply { target, asker } => match &d.arp {
                Some(a)
                    if incoming
                        && a.kind == ArpKind::Reply
                        && a.spa == Some(*target)
                        && a.tpa == Some(*asker) =>
                {
                    Seen::Answer
                }
                _ => Seen::Other,
            },
            Expect::ArpClaim { ip, our_mac } => match &d.arp {
                Some(a) if incoming && a.spa == Some(*ip) && a.sha != Some(*our_mac) => {
                    Seen::Answer
                }
                _ => Seen::Other,
            },
            Expect::NdpAdvert { target, .. } => match &d.icmpv6 {
                Some(m)
                    if incoming
                        && m.icmp_type == icmp6::NEIGHBOR_ADVERTISEMENT
                        && m.ndp.as_ref().and_then(|n| n.target) == Some(*target) =>
                {
                    Seen::Answer
                }
                _ => Seen::Other,
            },
            Expect::Udp {
                src,
                sport,
                dst,
                dport,
                ..
            } => {
                // IPv4 packets are ours by their identification; IPv6 has none (outside
                // a fragment header), so there the addresses and ports must do.
                let ours = match (&d.ipv4, &d.ipv6) {
                    (Some(ip), _) => {
                        IpAddr::V4(ip.src) == *src
                            && IpAddr::V4(ip.dst) == *dst
                            && sent_ids.contains(&ip.id)
                    }
                    (None, Some(ip)) => IpAddr::V6(ip.src) == *src && IpAddr::V6(ip.dst) == *dst,
                    (None, None) => false,
                };
                if let Some(u) = &d.udp
                    && !incoming
                    && ours
                    && u.src_port == *sport
                    && u.dst_port == *dport
                {
                    return Seen::Sent;
                }
                if let Some(ip) = &d.ipv4
                    && !incoming
                    && ours
                    && ip.is_fragment()
                {
                    return Seen::Sent; // a later fragment: no UDP header of its own
                }
                if incoming && icmp_quotes(d, *src, *dst, *sport, *dport, false) {
                    return Seen::Answer;
                }
                match (src, dst) {
                    (IpAddr::V4(s), IpAddr::V4(t)) => related_arp(d, *s, *t),
                    (IpAddr::V6(s), IpAddr::V6(t)) => related_ndp(d, *s, *t),
                    _ => Seen::Other,
                }
            }
            Expect::Tcp {
                src,
                sport,
                dst,
                dport,
            } => {
                if let (Some(ip), Some(t)) = (&d.ipv4, &d.tcp) {
                    let ours = ip.src == *src && ip.dst == *dst;
                    let ours = ours && t.src_port == *sport && t.dst_port == *dport;
                    let theirs = ip.src == *dst && ip.dst == *src;
                    let theirs = theirs && t.src_port == *dport && t.dst_port == *sport;
                    return match (ours, theirs, incoming) {
                        (true, _, false) if sent_ids.contains(&ip.id) => Seen::Sent,
                        (true, _, false) => Seen::Reaction,
                        (_, true, true) => Seen::Answer,
                        _ => Seen::Other,
                    };
                }
                if incoming && icmp_quotes(d, (*src).into(), (*dst).into(), *sport, *dport, true) {
                    return Seen::Answer;
                }
                related_arp(d, *src, *dst)
            }
        }
    }
}

/// True when `d` is an ICMP or ICMPv6 error quoting our datagram (`tcp` or UDP) from
/// `src:sport` to `dst:dport`.
fn icmp_quotes(
    d: &Dissection,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    tcp: bool,
) -> bool {
    let quoted = d.icmp.as_ref().and_then(|i| i.quoted.as_deref());
    let quoted = quoted.or_else(|| d.icmpv6.as_ref().and_then(|i| i.quoted.as_deref()));
    let Some(q) = quoted else {
        return false;
    };
    let ends = match (&q.ipv4, &q.ipv6) {
        (Some(ip), _) => (IpAddr::V4(ip.src), IpAddr::V4(ip.dst)),
        (None, Some(ip)) => (IpAddr::V6(ip.src), IpAddr::V6(ip.dst)),
        (None, None) => return false,
    };
    let ports = if tcp {
        q.tcp.as_ref().map(|t| (t.src_port, t.dst_port))
    } else {
        q.udp.as_ref().map(|u| (u.src_port, u.dst_port))
    };
    ends == (src, dst) && ports == Some((sport, dport))
}

/// A neighbour solicitation or advertisement about the destination or about us: the
/// kernel finding the destination's MAC before our packet can leave, and being asked
/// for ours.
fn related_ndp(d: &Dissection, src: Ipv6Addr, dst: Ipv6Addr) -> Seen {
    let target = d
        .icmpv6
        .as_ref()
        .filter(|m| {
            matches!(
                m.icmp_type,
                icmp6::NEIGHBOR_SOLICITATION | icmp6::NEIGHBOR_ADVERTISEMENT
            )
        })
        .and_then(|m| m.ndp.as_ref())
        .and_then(|n| n.target);
    match target {
        Some(t) if t == dst || t == src => Seen::Related,
        _ => Seen::Other,
    }
}

/// An ARP packet between our address and the destination's: the kernel finding the
/// destination's MAC before our packet can leave.
fn related_arp(d: &Dissection, src: Ipv4Addr, dst: Ipv4Addr) -> Seen {
    match &d.arp {
        Some(a)
            if (a.spa == Some(src) && a.tpa == Some(dst))
                || (a.spa == Some(dst) && a.tpa == Some(src)) =>
        {
            Seen::Related
        }
        _ => Seen::Other,
    }
}

/// Milliseconds, as people read them: "0.21 ms", "12.5 ms", "1003 ms".
pub fn ms(v: f64) -> String {
    if v < 1.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

/// The line printed for each ARP reply: "10.77.0.2 is at 02:77:00:00:00:02, 0.21 ms".
pub fn arp_reply_line(d: &Dissection, latency_ms: f64) -> String {
    let (ip, mac) = d
        .arp
        .as_ref()
        .map(|a| (a.spa, a.sha))
        .unwrap_or((None, None));
    let ip = ip.map_or_else(|| "?".to_string(), |i| i.to_string());
    let mac = mac.map_or_else(|| "?".to_string(), |m| m.to_string());
    format!("{ip} is at {mac}, {}", ms(latency_ms))
}

/// The line printed for each neighbour advertisement: "fd77::2 is at
/// 02:77:00:00:00:02, 0.21 ms". The MAC is the target link-layer address option's, or
/// the frame's source when the option is missing.
pub fn ndp_advert_line(d: &Dissection, latency_ms: f64) -> String {
    let m = d.icmpv6.as_ref();
    let ip = m
        .and_then(|m| m.ndp.as_ref())
        .and_then(|n| n.target)
        .map_or_else(|| "?".to_string(), |t| t.to_string());
    let mac = m
        .and_then(|m| {
            m.ndp_options()
                .iter()
                .find(|o| o.kind == icmpv6::opt::TARGET_LLADDR)
                .and_then(|o| o.lladdr)
        })
        .or_else(|| d.eth.as_ref().map(|e| e.src))
        .map_or_else(|| "?".to_string(), |m| m.to_string());
    format!("{ip} is at {mac}, {}", ms(latency_ms))
}

/// What the answer to a TCP segment with `sent` flags means (or its absence, after
/// `timeout_ms`), and what our kernel did about it, in sentences. `answer` is the first
/// answer with its latency; `reaction` is our kernel's first segment after it, with its
/// frame number.
pub fn tcp_verdict(
    sent: TcpFlags,
    to: Ipv4Addr,
    port: u16,
    answer: Option<(&Dissection, f64)>,
    reaction: Option<(&Tcp, u64)>,
    timeout_ms: u64,
) -> Vec<String> {
    let syn_probe = sent.has(TcpFlags::SYN) && !sent.has(TcpFlags::ACK);
    let ack_probe = sent.has(TcpFlags::ACK) && !sent.has(TcpFlags::SYN);
    let Some((d, lat)) = answer else {
        return vec![if syn_probe {
            format!(
                "No answer from {to}:{port} within {timeout_ms} ms: the port is filtered (a \
                 firewall drops the SYN without a word), or {to} is down."
            )
        } else if ack_probe {
            format!(
                "No answer from {to}:{port} within {timeout_ms} ms: a firewall drops the stray \
                 ACK (the port is filtered), or {to} is down."
            )
        } else {
            format!(
                "No answer from {to}:{port} within {timeout_ms} ms: the port is open or filtered. \
                 An open port ignores a segment without SYN, RST or ACK (RFC 9293), and so does \
                 a firewall that drops it."
            )
        }];
    };
    let lat = ms(lat);
    if let Some(ic) = &d.icmp {
        return vec![format!(
            "{} answered with ICMP after {lat}: {}. A router or firewall refused the segment \
             instead of dropping it silently.",
            d.ipv4.as_ref().map_or(to, |i| i.src),
            ic.explain()
        )];
    }
    let Some(t) = &d.tcp else {
        return vec![format!("{to}:{port} answered after {lat}.")];
    };
    let f = t.flags;
    let mut v = Vec::new();
    if syn_probe && f.has(TcpFlags::SYN | TcpFlags::ACK) {
        v.push(format!(
            "Port {port} on {to} is open: it answered our SYN with SYN-ACK after {lat}."
        ));
        v.push(
            "This is the half-open scan (nmap -sS): we sent step 1 of the three-way handshake \
             and the server agreed with step 2, which is all a scanner needs to know. We never \
             send step 3 (the ACK), so no connection is ever established and the program \
             listening on the port never sees one."
                .to_string(),
        );
        v.push(match reaction {
            Some((r, n)) if r.flags.has(TcpFlags::RST) => format!(
                "Our kernel then answered the SYN-ACK with RST (frame {n}): the SYN came from a \
                 raw socket, so the kernel has no connection for this port and resets what \
                 looks to it like a stray segment. That RST also frees the half-open \
                 connection the server was keeping for us."
            ),
            Some((r, n)) => format!(
                "Our kernel then sent [{}] (frame {n}).",
                r.flags.names().collect::<Vec<_>>().join(", ")
            ),
            None => "Our kernel did not reset the SYN-ACK while we watched (a firewall rule may \
                     drop its RST): the server will send its SYN-ACK again a few times, then \
                     give up."
                .to_string(),
        });
    } else if f.has(TcpFlags::RST) && syn_probe {
        v.push(format!(
            "Port {port} on {to} is closed: it answered our SYN with RST after {lat}. The host \
             is up, but nothing listens on that port, and its kernel says so instead of \
             staying silent."
        ));
    } else if f.has(TcpFlags::RST) && ack_probe {
        v.push(format!(
            "{to} answered our ACK with RST after {lat}: port {port} is not filtered (a \
             firewall would have dropped the stray ACK). An ACK probe cannot tell open from \
             closed: both answer an ACK that belongs to no connection with RST."
        ));
    } else if f.has(TcpFlags::RST) {
        v.push(format!(
            "Port {port} on {to} is closed: it answered with RST after {lat}, as a closed port \
             must answer any segment without RST (RFC 9293)."
        ));
    } else {
        v.push(format!(
            "{to}:{port} answered with [{}] after {lat}.",
            f.names().collect::<Vec<_>>().join(", ")
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::arp::Arp;
    use crate::proto::tcp::TcpOption;
    use crate::send::craft::{self, Ends};

    const A: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
    const B: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
    const MA: MacAddr = MacAddr([2, 0x77, 0, 0, 0, 1]);
    const MB: MacAddr = MacAddr([2, 0x77, 0, 0, 0, 2]);

    use crate::testing::dissect_ethernet as d;

    fn segment(from: Ipv4Addr, to: Ipv4Addr, sp: u16, dp: u16, flags: u16, id: u16) -> Dissection {
        let ends = Ends {
            src_mac: MA,
            dst_mac: MB,
            src: from,
            dst: to,
            id,
            ttl: 64,
        };
        let t = Tcp::new(sp, dp, 1, 2, TcpFlags(flags), 100, vec![TcpOption::Nop]).expect("fits");
        d(&craft::tcp_frame(&ends, t, &[]).unwrap_or_else(|e| panic!("{e}")))
    }

    #[test]
    fn arp_replies_are_answers_only_when_they_answer_us() {
        let e = Expect::ArpReply {
            target: B,
            asker: A,
        };
        let reply = d(&craft::arp_frame(MB, MA, &Arp::reply(MB, B, MA, A)));
        assert_eq!(e.classify(&reply, Direction::Incoming, &[]), Seen::Answer);
        assert_eq!(e.classify(&reply, Direction::Outgoing, &[]), Seen::Other);
        let other = d(&craft::arp_frame(MB, MA, &Arp::reply(MB, B, MA, B)));
        assert_eq!(e.classify(&other, Direction::Incoming, &[]), Seen::Other);
        let line = arp_reply_line(&reply, 0.213);
        assert_eq!(line, "10.77.0.2 is at 02:77:00:00:00:02, 0.21 ms");
    }

    #[test]
    fn a_probe_is_answered_by_anyone_claiming_the_address() {
        let e = Expect::ArpClaim { ip: B, our_mac: MA };
        let claim = d(&craft::arp_frame(
            MB,
            MA,
            &Arp::reply(MB, B, MA, Ipv4Addr::UNSPECIFIED),
        ));
        assert_eq!(e.classify(&claim, Direction::Incoming, &[]), Seen::Answer);
        let ours = d(&craft::arp_frame(
            MA,
            MacAddr::BROADCAST,
            &Arp::gratuitous(MA, B, false),
        ));
        assert_eq!(e.classify(&ours, Direction::Incoming, &[]), Seen::Other);
    }

    #[test]
    fn tcp_frames_are_sorted_by_direction_ports_and_id() {
        let e = Expect::Tcp {
            src: A,
            sport: 50000,
            dst: B,
            dport: 8080,
        };
        let syn = segment(A, B, 50000, 8080, TcpFlags::SYN, 7);
        assert_eq!(e.classify(&syn, Direction::Outgoing, &[7]), Seen::Sent);
        assert_eq!(
            e.classify(&syn, Direction::Incoming, &[7]),
            Seen::Other,
            "loopback echo"
        );
        let synack = segment(B, A, 8080, 50000, TcpFlags::SYN | TcpFlags::ACK, 0);
        assert_eq!(e.classify(&synack, Direction::Incoming, &[7]), Seen::Answer);
        assert_eq!(e.classify(&synack, Direction::Outgoing, &[7]), Seen::Other);
        let rst = segment(A, B, 50000, 8080, TcpFlags::RST, 0);
        assert_eq!(e.classify(&rst, Direction::Outgoing, &[7]), Seen::Reaction);
        let elsewhere = segment(B, A, 8081, 50000, TcpFlags::RST, 0);
        assert_eq!(
            e.classify(&elsewhere, Direction::Incoming, &[7]),
            Seen::Other
        );
        let who_has = d(&craft::arp_frame(
            MA,
            MacAddr::BROADCAST,
            &Arp::request(MA, A, B),
        ));
        assert_eq!(
            e.classify(&who_has, Direction::Outgoing, &[7]),
            Seen::Related
        );
    }

    #[test]
    fn our_udp_fragments_are_recognised() {
        let ends = Ends {
            src_mac: MA,
            dst_mac: MB,
            src: A,
            dst: B,
            id: 9,
            ttl: 64,
        };
        let frames = craft::udp_frames("va", &ends, 40000, 10000, &[7; 3000], 1500, true)
            .unwrap_or_else(|e| panic!("{e}"));
        let e = Expect::Udp {
            src: A.into(),
            sport: 40000,
            dst: B.into(),
            dport: 10000,
            broadcast: false,
        };
        for f in &frames {
            assert_eq!(e.classify(&d(f), Direction::Outgoing, &[9]), Seen::Sent);
            assert_eq!(e.classify(&d(f), Direction::Outgoing, &[8]), Seen::Other);
        }
    }

    #[test]
    fn a_neighbour_advertisement_for_the_target_is_the_answer() {
        use crate::proto::icmpv6::{NeighbourKind, NeighbourMessage};
        let ip = |s: &str| s.parse::<Ipv6Addr>().expect("address");
        let (a6, b6) = (ip("fd77::1"), ip("fd77::2"));
        let na = |target: Ipv6Addr| {
            let ends = craft::Ends6 {
                src_mac: MB,
                dst_mac: MA,
                src: b6,
                dst: a6,
                hop_limit: NeighbourMessage::HOP_LIMIT,
            };
            d(&craft::ndp_frame(
                &ends,
                &NeighbourMessage {
                    kind: NeighbourKind::Advertisement {
                        router: false,
                        solicited: true,
                        override_flag: true,
                    },
                    target,
                    lladdr: Some(MB),
                },
            ))
        };
        let e = Expect::NdpAdvert {
            target: b6,
            asker: a6,
        };
        assert_eq!(e.classify(&na(b6), Direction::Incoming, &[]), Seen::Answer);
        assert_eq!(e.classify(&na(b6), Direction::Outgoing, &[]), Seen::Other);
        assert_eq!(e.classify(&na(a6), Direction::Incoming, &[]), Seen::Other);
        assert_eq!(
            ndp_advert_line(&na(b6), 0.213),
            "fd77::2 is at 02:77:00:00:00:02, 0.21 ms"
        );
        // For a UDP datagram to fd77::2, the same advertisement is part of the exchange.
        let u = Expect::Udp {
            src: a6.into(),
            sport: 1,
            dst: b6.into(),
            dport: 2,
            broadcast: false,
        };
        assert_eq!(u.classify(&na(b6), Direction::Incoming, &[]), Seen::Related);
    }

    #[test]
    fn verdicts_explain_open_closed_and_silent_ports() {
        let syn = TcpFlags(TcpFlags::SYN);
        let synack = segment(B, A, 8080, 50000, TcpFlags::SYN | TcpFlags::ACK, 0);
        let rst = segment(A, B, 50000, 8080, TcpFlags::RST, 0);
        let rst_tcp = rst.tcp.clone().expect("tcp");
        let v = tcp_verdict(
            syn,
            B,
            8080,
            Some((&synack, 0.12)),
            Some((&rst_tcp, 3)),
            1000,
        );
        assert!(
            v[0].starts_with(
                "Port 8080 on 10.77.0.2 is open: it answered our SYN with SYN-ACK after 0.12 ms"
            ),
            "{v:?}"
        );
        assert!(v[1].contains("half-open"), "{v:?}");
        assert!(
            v[2].contains("answered the SYN-ACK with RST (frame 3)"),
            "{v:?}"
        );
        let v = tcp_verdict(syn, B, 8080, Some((&synack, 0.12)), None, 1000);
        assert!(v[2].contains("did not reset"), "{v:?}");
        let refused = segment(B, A, 8080, 50000, TcpFlags::RST | TcpFlags::ACK, 0);
        let v = tcp_verdict(syn, B, 8080, Some((&refused, 0.1)), None, 1000);
        assert!(
            v[0].starts_with("Port 8080 on 10.77.0.2 is closed"),
            "{v:?}"
        );
        let v = tcp_verdict(syn, B, 8080, None, None, 1000);
        assert!(
            v[0].starts_with("No answer from 10.77.0.2:8080 within 1000 ms: the port is filtered"),
            "{v:?}"
        );
        let v = tcp_verdict(
            TcpFlags(TcpFlags::ACK),
            B,
            80,
            Some((&refused, 0.1)),
            None,
            1000,
        );
        assert!(v[0].contains("not filtered"), "{v:?}");
        let v = tcp_verdict(TcpFlags(TcpFlags::FIN), B, 80, None, None, 1000);
        assert!(v[0].contains("open or filtered"), "{v:?}");
    }

    #[test]
    fn milliseconds_read_well() {
        assert_eq!(ms(0.213), "0.21 ms");
        assert_eq!(ms(12.54), "12.5 ms");
        assert_eq!(ms(1003.4), "1003 ms");
    }
}
