//! Analysis: what a packet means in context. The stage between dissect and render adds
//! connection stages to each dissection, and keeps per-conversation summaries for
//! `wirelens flows`.

pub mod arp;
pub mod flowtable;
pub mod pairing;
pub mod reassembly;
pub mod stats;
pub mod tcp;
pub mod udp;

use serde::Serialize;

use crate::capture::Timestamp;
use crate::dissect::Dissection;
use crate::dissect::lean::{Datagram, FlowPacket, FlowTransport};
use arp::ArpTracker;
use flowtable::{Endpoint, TrackerConfig};
use pairing::PairTracker;
use reassembly::{Reassembler, ReassemblyConfig};
use tcp::{State, TcpTracker};
use udp::UdpTracker;

/// How a TCP connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClosedBy {
    /// FIN exchange.
    Fin,
    /// Reset.
    Rst,
}

/// One conversation as `wirelens flows` shows it (one JSON line per conversation).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowSummary {
    /// "tcp" or "udp".
    pub proto: &'static str,
    /// Conversation number within its protocol, from 0 (tshark's `tcp.stream`/`udp.stream`).
    pub stream: u64,
    /// The client (the side that sent the SYN, or the first packet), `ip:port`.
    pub client: String,
    /// The server, `ip:port`.
    pub server: String,
    /// Service name of the server port, when known.
    pub service: Option<&'static str>,
    /// Packets both ways.
    pub packets: u64,
    /// Frame bytes both ways.
    pub bytes: u64,
    /// Packets the client sent.
    pub client_packets: u64,
    /// Packets the server sent.
    pub server_packets: u64,
    /// Frame bytes the client sent.
    pub client_bytes: u64,
    /// Frame bytes the server sent.
    pub server_bytes: u64,
    /// Payload bytes the client sent.
    pub client_payload: u64,
    /// Payload bytes the server sent.
    pub server_payload: u64,
    /// Capture time of the first packet.
    #[serde(serialize_with = "crate::timestamp::ser_rfc3339")]
    pub start: Timestamp,
    /// Seconds from the first to the last packet.
    pub duration: f64,
    /// TCP: `complete` when all three handshake steps were seen, else `incomplete`.
    pub handshake: Option<&'static str>,
    /// TCP: `fin`, `rst`, or null while open.
    pub closed_by: Option<ClosedBy>,
    /// TCP: the final state.
    pub state: Option<State>,
    /// Zeek's connection state code (S0, S1, SF, REJ, RSTO, RSTR, OTH…).
    pub conn_state: &'static str,
    /// Zeek-style history: one letter per kind of event and direction, upper case from
    /// the client (e.g. `ShADadFf`).
    pub history: String,
}

impl FlowSummary {
    /// The parts every protocol shares; `sides` holds (packets, frame bytes, payload
    /// bytes) sent by the client and by the server.
    pub fn new(
        client: Endpoint,
        server: Endpoint,
        first: Timestamp,
        last: Timestamp,
        sides: [(u64, u64, u64); 2],
    ) -> FlowSummary {
        let [(cp, cb, cpl), (sp, sb, spl)] = sides;
        FlowSummary {
            proto: "",
            stream: 0,
            client: endpoint_text(client),
            server: endpoint_text(server),
            service: None,
            packets: cp + sp,
            bytes: cb + sb,
            client_packets: cp,
            server_packets: sp,
            client_bytes: cb,
            server_bytes: sb,
            client_payload: cpl,
            server_payload: spl,
            start: first,
            duration: ((last.as_secs_f64() - first.as_secs_f64()).max(0.0) * 1e6).round() / 1e6,
            handshake: None,
            closed_by: None,
            state: None,
            conn_state: "OTH",
            history: String::new(),
        }
    }
}

/// `ip:port`, or `[ipv6]:port`, as `SocketAddr`'s `Display` writes them, built without
/// `core::fmt` (perf showed the `format!`s as 7% of `flows'` analysing thread for IPv4,
/// and callgrind 10% for the IPv6 ones of the real-traffic corpus).
pub fn endpoint_text(e: Endpoint) -> String {
    let mut v = Vec::with_capacity(48); // "[ffff:…:ffff]:65535" is 47 bytes
    write_endpoint(&mut v, e);
    // Only hex digits, dots, colons and brackets were appended.
    String::from_utf8(v).unwrap_or_default()
}

/// Appends [`endpoint_text`] of `e` to `out`.
pub fn write_endpoint(out: &mut impl crate::text::Text, e: Endpoint) {
    out.ip(e.0, true).s(":").u(u64::from(e.1));
}

/// Every analysis that runs over a capture, in one place for the pipeline.
#[derive(Debug, Default)]
pub struct Analyzer {
    /// TCP connection tracking.
    pub tcp: TcpTracker,
    /// UDP conversation tracking.
    pub udp: UdpTracker,
    /// ARP request/reply pairing and the ARP table.
    pub arp: ArpTracker,
    /// Echo replies and neighbour advertisements paired with their requests.
    pub pairs: PairTracker,
    /// IPv4 and IPv6 reassembly, when enabled.
    pub reassembler: Option<Reassembler>,
    /// ARP packets seen.
    pub arp_packets: u64,
    /// ICMP packets seen.
    pub icmp_packets: u64,
}

impl Analyzer {
    /// An analyzer with the given flow-table limits, reassembling IPv4 datagrams when
    /// `reassembly` is given.
    pub fn new(cfg: TrackerConfig, reassembly: Option<ReassemblyConfig>) -> Analyzer {
        Analyzer {
            tcp: TcpTracker::new(cfg),
            udp: UdpTracker::new(cfg),
            reassembler: reassembly.map(Reassembler::new),
            ..Analyzer::default()
        }
    }

    /// Keep a summary of every conversation for [`Analyzer::finish`] (`wirelens flows`).
    pub fn keep_summaries(&mut self) {
        self.tcp.keep_retired(true);
        self.udp.keep_retired(true);
    }

    /// Send the summary of every conversation to `sink` as it is retired (and, at
    /// [`Analyzer::finish`], of those still open) instead of keeping them in memory.
    pub fn send_summaries_to(&mut self, sink: flowtable::SharedSink) {
        self.tcp.send_retired_to(sink.clone());
        self.udp.send_retired_to(sink);
    }

    /// Adds what context tells about `d`, whose captured bytes are `bytes`: reassembly,
    /// ARP pairing, TCP stages and relative numbers, and conversation counts. Only an
    /// IP fragment's bytes are read (by the reassembler), so a caller may pass an empty
    /// slice for any other frame (`flows` does, to copy no bytes between its threads).
    pub fn analyse(&mut self, d: &mut Dissection, bytes: &[u8]) {
        if let Some(a) = &mut d.arp {
            self.arp_packets += 1;
            let (pair, note) = self.arp.track(d.n, d.ts, a);
            d.ctx.answer = pair;
            if let Some(n) = note {
                d.notes.push(n);
            }
        }
        // Only a fragment, and only with reassembly on, costs anything here.
        let fragment = match (&self.reassembler, &d.ipv4, &d.ipv6) {
            (None, _, _) => None,
            (Some(_), Some(ip), _) if ip.is_fragment() => Some(reassembly::Fragment::v4(ip)),
            (Some(_), None, Some(ip)) => reassembly::Fragment::v6(ip),
            _ => None,
        };
        if let (Some(r), Some(frag)) = (&mut self.reassembler, fragment) {
            let end = (frag.start + frag.len).min(bytes.len());
            let payload = bytes.get(frag.start..end).unwrap_or_default();
            let out = r.offer(d.n, d.ts, &frag, payload);
            d.notes.extend(out.notes);
            match out.datagram {
                Some(dg) => {
                    crate::dissect::decode_reassembled(d, &dg.payload);
                    d.ctx.reassembled = Some(dg.info.clone());
                    d.ctx.datagram = Some(Box::new(dg));
                }
                // With reassembly on, a fragment's transport header is shown once, from the
                // whole datagram (as Wireshark does): a first fragment's partial one goes.
                None => crate::dissect::hold_fragment(d),
            }
        }
        self.icmp_packets += u64::from(d.icmp.is_some() || d.icmpv6.is_some());
        let Some((src, dst)) = d.ip_addrs() else {
            return;
        };
        if let Some(ic) = &d.icmp {
            d.ctx.answer = self.pairs.icmp(d.n, d.ts, src, dst, ic);
        } else if let Some(ic) = &d.icmpv6 {
            d.ctx.answer = self.pairs.icmpv6(d.n, d.ts, src, dst, ic);
        }
        let note = if let Some(tcp) = &mut d.tcp {
            let (conv, note) = self.tcp.track(d.ts, src, dst, tcp, d.len);
            d.ctx.tcp = Some(conv);
            note
        } else if let Some(udp) = &d.udp {
            self.udp.track(d.ts, src, dst, &Datagram::of(udp), d.len)
        } else {
            None
        };
        if let Some(n) = note {
            d.notes.push(n);
        }
    }

    /// [`Analyzer::analyse`] for a packet read the lean way: what the analyser does with
    /// a dissection that [`FlowPacket::of`] accepts, less pairing an ICMP message with its
    /// request (`flows` shows no pairs). The note a tracker may give (it had to retire
    /// conversations early) is dropped, as `flows` shows no notes.
    pub fn analyse_flow(&mut self, p: &FlowPacket) {
        match &p.transport {
            FlowTransport::Tcp(seg) => {
                self.tcp.track_quietly(p.ts, p.src, p.dst, seg, p.len);
            }
            FlowTransport::Udp(dg) => {
                self.udp.track(p.ts, p.src, p.dst, dg, p.len);
            }
            FlowTransport::Icmp => self.icmp_packets += 1,
        }
    }

    /// Ends the capture: the summaries of every conversation kept, TCP then UDP, each in
    /// stream order.
    pub fn finish(&mut self) -> Vec<FlowSummary> {
        let mut v = self.tcp.finish();
        v.extend(self.udp.finish());
        v
    }

    /// What is left unfinished at the end of a capture (datagrams never completed), one
    /// sentence each.
    pub fn leftovers(&mut self) -> Vec<String> {
        self.reassembler
            .as_mut()
            .map(Reassembler::finish)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn endpoint_text_matches_format() {
        for (ip, port) in [
            (Ipv4Addr::new(0, 0, 0, 0), 0),
            (Ipv4Addr::new(10, 1, 20, 255), 80),
            (Ipv4Addr::new(255, 255, 255, 255), 65535),
            (Ipv4Addr::new(192, 168, 100, 9), 1024),
        ] {
            assert_eq!(endpoint_text((ip.into(), port)), format!("{ip}:{port}"));
        }
        let v6: std::net::Ipv6Addr = "fd77::1".parse().unwrap();
        assert_eq!(endpoint_text((v6.into(), 8090)), "[fd77::1]:8090");
    }
}
