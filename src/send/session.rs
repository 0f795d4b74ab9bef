//! One run of the sender: check, plan, show, send, watch, save and report.
//!
//! The frames seen on the interface go through the same pipeline as a capture file:
//! dissect → analyse → render (the summary line), and into the `-w` pcap. The crafted
//! packets are shown with the `table` renderer before anything is sent.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::iface::Interface;
use super::plan::{self, Plan, Via};
use super::sys::{Direction, PacketSocket, RawIpSocket};
use super::watch::{self, Expect, Seen};
use super::{ArpMode, Outcome, Packet, Request, SendError};
use crate::analysis::Analyzer;
use crate::analysis::reassembly::ReassemblyConfig;
use crate::capture::writer::{CaptureWriter, OutFormat};
use crate::capture::{Frame, LinkType, Timestamp};
use crate::dissect::{Dissection, dissect};
use crate::proto::tcp::Tcp;
use crate::render::{Context, summary, table};

/// Largest frame read from the interface, in bytes (loopback's MTU is 64 KiB).
const RECV_BUF: usize = 65_536 + 64;

/// Sends what `req` asks for and reports on `out`. Every check is made before the
/// first packet leaves; `--dry-run` stops after showing the packets.
pub fn run(req: &Request, out: &mut dyn Write) -> Result<Outcome, SendError> {
    let o = &req.options;
    let iface = Interface::lookup(&o.iface)?;
    iface.check_usable()?;
    let plan = plan::make(req, &iface)?;
    o.check_volume(plan.frames.len())?;
    let sockets = if o.dry_run {
        None
    } else {
        Some(Sockets::open(&iface, plan.via)?)
    };
    let mut pcap = Pcap::create(o.write.as_deref())?;
    let w = |r: io::Result<()>| r.map_err(SendError::Output);
    if !o.quiet {
        show(out, req, &iface, &plan).map_err(SendError::Output)?;
    }
    let Some(sockets) = sockets else {
        if let Some(p) = &mut pcap {
            for f in &plan.frames {
                p.write(now(), f, f.len())?;
            }
        }
        w(writeln!(
            out,
            "Dry run: nothing was sent on {}.",
            iface.name
        ))?;
        if let Some(why) = &plan.refused {
            // A dry run always works (exit code 0), and says what a real run would do.
            w(writeln!(
                out,
                "Without --dry-run, wirelens refuses to send this (exit code 2): {why}"
            ))?;
        }
        if let Some(p) = pcap {
            let path = p.path.clone();
            w(writeln!(out, "Saved {} frame(s) to {path}.", p.finish()?))?;
        }
        w(out.flush())?;
        return Ok(Outcome::DryRun);
    };
    let mut s = Session {
        out,
        req,
        iface: &iface,
        plan: &plan,
        sockets,
        pcap,
        analyzer: Analyzer::new(Default::default(), Some(ReassemblyConfig::default())),
        ctx: Context::unbatched(o.width),
        n: 0,
        tally: Tally::default(),
    };
    s.exchange()?;
    let outcome = s.report()?;
    if let Some(p) = s.pcap.take() {
        let path = p.path.clone();
        let n = p.finish()?;
        w(writeln!(s.out, "Saved {n} frame(s) to {path}."))?;
    }
    w(s.out.flush())?;
    Ok(outcome)
}

/// The time now, as a capture timestamp.
fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos(),
    }
}

/// `t + d`, or `t` plus an hour when that would overflow the clock.
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(3600)))
        .unwrap_or(t)
}

/// Shows the crafted packets as the `table` format shows captured ones.
fn show(out: &mut dyn Write, req: &Request, iface: &Interface, plan: &Plan) -> io::Result<()> {
    let o = &req.options;
    let n = plan.frames.len();
    writeln!(
        out,
        "{} on {}: {}{}",
        if o.dry_run {
            "Would send"
        } else {
            "About to send"
        },
        iface.name,
        plan.title,
        if n > 1 {
            format!(", in {n} fragments")
        } else {
            String::new()
        }
    )?;
    let mut ctx = Context::unbatched(o.width);
    // The display reassembles fragments, so the last one shows the whole UDP datagram.
    let mut an = Analyzer::new(Default::default(), Some(ReassemblyConfig::default()));
    let ts = now();
    for (i, f) in plan.frames.iter().enumerate() {
        let mut d = dissected(i as u64 + 1, ts, f, f.len());
        an.analyse(&mut d, f);
        d.notes.extend(plan.notes.iter().cloned());
        writeln!(out)?;
        table::write(out, &mut ctx, &d, f)?;
    }
    if o.count > 1 {
        writeln!(
            out,
            "This is sent {} times, {} ms apart.",
            o.count, o.interval_ms
        )?;
    }
    out.flush()
}

fn dissected(n: u64, ts: Timestamp, bytes: &[u8], wire_len: usize) -> Dissection {
    dissect(
        n,
        &Frame {
            ts,
            caplen: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            len: u32::try_from(wire_len).unwrap_or(u32::MAX),
            link: LinkType::ETHERNET,
            interface: None,
            bytes,
        },
    )
}

/// The sockets of one run: always a packet socket (to watch, and to send ARP and NDP),
/// and a raw IPv4 or IPv6 socket for UDP and TCP.
struct Sockets {
    packet: PacketSocket,
    ip: Option<RawIpSocket>,
}

impl Sockets {
    fn open(iface: &Interface, via: Via) -> Result<Sockets, SendError> {
        let refused = |source: io::Error| {
            if source.kind() == io::ErrorKind::PermissionDenied {
                SendError::Permission(crate::privilege::permission_message(&iface.name, "Sending"))
            } else {
                SendError::Io {
                    iface: iface.name.clone(),
                    what: "open a raw socket".to_string(),
                    source,
                }
            }
        };
        let packet = PacketSocket::open(iface.index).map_err(refused)?;
        let ip = match via {
            Via::Link => None,
            Via::Ip {
                dst: std::net::IpAddr::V4(_),
                broadcast,
            } => Some(RawIpSocket::open(&iface.name, broadcast).map_err(refused)?),
            Via::Ip {
                dst: std::net::IpAddr::V6(_),
                ..
            } => Some(RawIpSocket::open_v6(&iface.name, iface.index).map_err(refused)?),
        };
        Ok(Sockets { packet, ip })
    }
}

/// The `-w` file.
struct Pcap {
    path: String,
    writer: CaptureWriter<BufWriter<File>>,
}

impl Pcap {
    fn create(path: Option<&std::path::Path>) -> Result<Option<Pcap>, SendError> {
        let Some(path) = path else { return Ok(None) };
        let shown = path.display().to_string();
        let err = |source| SendError::Pcap {
            path: shown.clone(),
            source,
        };
        let file = File::create(path).map_err(err)?;
        let writer = CaptureWriter::new(BufWriter::new(file), OutFormat::Pcap, LinkType::ETHERNET)
            .map_err(err)?;
        Ok(Some(Pcap {
            path: shown,
            writer,
        }))
    }

    fn write(&mut self, ts: Timestamp, bytes: &[u8], wire_len: usize) -> Result<(), SendError> {
        let len = u32::try_from(wire_len).unwrap_or(u32::MAX);
        self.writer
            .write(ts, bytes, len, None)
            .map_err(|source| SendError::Pcap {
                path: self.path.clone(),
                source,
            })
    }

    /// Flushes the file; returns how many frames it holds.
    fn finish(mut self) -> Result<u64, SendError> {
        self.writer.flush().map_err(|source| SendError::Pcap {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.writer.frames)
    }
}

/// What came of the exchange so far.
#[derive(Default)]
struct Tally {
    /// Times the packet was sent.
    rounds: u32,
    /// When it was last sent: for deadlines, and as a capture time for latencies (the
    /// same clock the frames' timestamps use, so the summary lines agree).
    last_send: Option<(Instant, Timestamp)>,
    /// IPv4 packets sent but not yet seen leaving the interface.
    pending_copies: usize,
    /// Each answer with its latency, in milliseconds.
    answers: Vec<(Dissection, f64)>,
    /// Answers that were a SYN-ACK.
    synacks: usize,
    /// Our kernel's segments after an answer, with their frame numbers.
    reactions: Vec<(Tcp, u64)>,
}

struct Session<'a> {
    out: &'a mut dyn Write,
    req: &'a Request,
    iface: &'a Interface,
    plan: &'a Plan,
    sockets: Sockets,
    pcap: Option<Pcap>,
    analyzer: Analyzer,
    ctx: Context,
    /// Frames recorded so far (shown and saved), numbered from 1.
    n: u64,
    tally: Tally,
}

impl Session<'_> {
    fn say(&mut self, line: &str) -> Result<(), SendError> {
        writeln!(self.out, "{line}")
            .and_then(|()| self.out.flush())
            .map_err(SendError::Output)
    }

    /// Shows one frame as a summary line and saves it; returns its dissection.
    fn record(
        &mut self,
        mut d: Dissection,
        bytes: &[u8],
        wire_len: usize,
    ) -> Result<Dissection, SendError> {
        self.n += 1;
        d.n = self.n;
        self.analyzer.analyse(&mut d, bytes);
        if !self.req.options.quiet {
            summary::write(self.out, &mut self.ctx, &d)
                .and_then(|()| self.out.flush())
                .map_err(SendError::Output)?;
        }
        if let Some(p) = &mut self.pcap {
            p.write(d.ts, bytes, wire_len)?;
        }
        Ok(d)
    }

    /// Sends every round and watches until the answers are in or the time is up.
    fn exchange(&mut self) -> Result<(), SendError> {
        let req: &Request = self.req;
        let o = &req.options;
        let (count, timeout) = (o.count, Duration::from_millis(o.timeout_ms));
        let interval = Duration::try_from_secs_f64(o.interval_ms / 1000.0).unwrap_or_default();
        if !o.quiet {
            let watching = match &self.plan.expect {
                Expect::Nothing
                | Expect::Udp {
                    broadcast: true, ..
                } => String::new(),
                Expect::ArpReply { .. } => " and watching for the reply".to_string(),
                Expect::NdpAdvert { .. } => " and watching for the advertisement".to_string(),
                Expect::ArpClaim { ip, .. } => format!(" and watching for anyone who claims {ip}"),
                Expect::Udp { .. } => " and watching for an ICMP error".to_string(),
                Expect::Tcp { .. } => " and watching for the answer".to_string(),
            };
            let line = format!(
                "\nSending on {}{}{}:",
                self.iface.name,
                if count > 1 {
                    format!(", {count} times")
                } else {
                    String::new()
                },
                if watching.is_empty() {
                    watching
                } else {
                    format!("{watching} for up to {} ms", o.timeout_ms)
                }
            );
            self.say(&line)?;
        }
        // Frames that crossed the interface before our first packet are no answer.
        let mut buf = vec![0u8; RECV_BUF];
        while self.recv(&mut buf, Duration::ZERO)?.is_some() {}
        let mut next_send = Instant::now();
        loop {
            let now = Instant::now();
            if self.tally.rounds < count && now >= next_send {
                self.send_round()?;
                next_send = later(next_send, interval);
                continue;
            }
            if self.done() {
                return Ok(());
            }
            let until = if self.tally.rounds < count {
                next_send
            } else {
                later(self.tally.last_send.map_or(now, |(t, _)| t), timeout)
            };
            if now >= until {
                if self.tally.rounds >= count {
                    return Ok(());
                }
                continue;
            }
            if let Some((len, wire, dir)) = self.recv(&mut buf, until - now)? {
                let ts = self::now();
                let bytes = buf.get(..len).unwrap_or_default().to_vec();
                self.seen(ts, &bytes, wire, dir)?;
            }
        }
    }

    fn recv(
        &self,
        buf: &mut [u8],
        wait: Duration,
    ) -> Result<Option<(usize, usize, Direction)>, SendError> {
        self.sockets
            .packet
            .recv(buf, wait)
            .map_err(|source| SendError::Io {
                iface: self.iface.name.clone(),
                what: "read from the interface".to_string(),
                source,
            })
    }

    /// Sends the packet (all its fragments) once.
    fn send_round(&mut self) -> Result<(), SendError> {
        let frames = &self.plan.frames;
        for f in frames {
            let sent = match (&self.sockets.ip, self.plan.via) {
                (Some(raw), Via::Ip { dst, .. }) => {
                    let datagram = f
                        .get(crate::proto::ethernet::HEADER_LEN..)
                        .unwrap_or_default();
                    raw.send_to(datagram, dst)
                }
                _ => self.sockets.packet.send(f),
            };
            sent.map_err(|source| SendError::Io {
                iface: self.iface.name.clone(),
                what: format!("send the {}", self.plan.title),
                source,
            })?;
        }
        self.tally.rounds += 1;
        let sent_at = now();
        self.tally.last_send = Some((Instant::now(), sent_at));
        match self.plan.via {
            // A packet socket never sees its own frames: record them as sent.
            Via::Link => {
                for f in frames {
                    let d = dissected(0, sent_at, f, f.len());
                    self.record(d, f, f.len())?;
                }
            }
            // The IPv4 packets are recorded when seen leaving, as the kernel sent them.
            Via::Ip { .. } => self.tally.pending_copies += frames.len(),
        }
        Ok(())
    }

    /// Handles one frame seen on the interface.
    fn seen(
        &mut self,
        ts: Timestamp,
        bytes: &[u8],
        wire: usize,
        dir: Direction,
    ) -> Result<(), SendError> {
        let d = dissected(0, ts, bytes, wire);
        let kind = self.plan.expect.classify(&d, dir, &self.plan.sent_ids);
        match kind {
            Seen::Other => return Ok(()),
            Seen::Sent => {
                self.tally.pending_copies = self.tally.pending_copies.saturating_sub(1);
            }
            _ => {}
        }
        let d = self.record(d, bytes, wire)?;
        match kind {
            Seen::Answer => {
                let lat = self.tally.last_send.map_or(0.0, |(_, sent)| {
                    (d.ts.as_secs_f64() - sent.as_secs_f64()).max(0.0) * 1000.0
                });
                match self.plan.expect {
                    Expect::ArpReply { .. } => self.say(&watch::arp_reply_line(&d, lat))?,
                    Expect::NdpAdvert { .. } => self.say(&watch::ndp_advert_line(&d, lat))?,
                    _ => {}
                }
                let f = d.tcp.as_ref().map(|t| t.flags);
                if f.is_some_and(|f| {
                    f.has(crate::proto::tcp::TcpFlags::SYN | crate::proto::tcp::TcpFlags::ACK)
                }) {
                    self.tally.synacks += 1;
                }
                self.tally.answers.push((d, lat));
            }
            Seen::Reaction if !self.tally.answers.is_empty() => {
                if let Some(t) = d.tcp {
                    self.tally.reactions.push((t, d.n));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// True when nothing more is awaited.
    fn done(&self) -> bool {
        let t = &self.tally;
        let all_sent = t.rounds >= self.req.options.count;
        let answers = t.answers.len();
        match &self.plan.expect {
            // A conflict ends probing at once, as RFC 5227 says.
            Expect::ArpClaim { .. } if answers > 0 => true,
            _ if !all_sent || t.pending_copies > 0 => false,
            Expect::Nothing => true,
            Expect::ArpReply { .. } | Expect::NdpAdvert { .. } => answers >= t.rounds as usize,
            Expect::ArpClaim { .. } => false,
            Expect::Udp { broadcast, .. } => *broadcast || answers > 0,
            Expect::Tcp { .. } => answers >= t.rounds as usize && t.reactions.len() >= t.synacks,
        }
    }

    /// Says what came of it; returns the outcome.
    fn report(&mut self) -> Result<Outcome, SendError> {
        let req: &Request = self.req;
        let o = &req.options;
        let timeout = o.timeout_ms;
        let iface = self.iface.name.clone();
        if self.tally.pending_copies > 0 {
            let line = format!(
                "{} packet(s) were not seen leaving {iface} while we watched: the kernel may \
                 still be asking for the destination's MAC with ARP, or it dropped them.",
                self.tally.pending_copies
            );
            self.say(&line)?;
        }
        let mut lines = Vec::new();
        let answered = !self.tally.answers.is_empty();
        let first = self.tally.answers.first().map(|(d, l)| (d, *l));
        let plan: &Plan = self.plan;
        let outcome = match (&req.packet, &plan.expect) {
            (_, Expect::ArpReply { target, .. }) => {
                if !answered {
                    lines.push(format!(
                        "No reply from {target} within {timeout} ms: no host on {iface} answers \
                         for {target} (it is down, or nobody has that address)."
                    ));
                    Outcome::NoAnswer
                } else {
                    if o.count > 1 {
                        lines.push(format!(
                            "{} of {} requests answered.",
                            self.tally.answers.len().min(self.tally.rounds as usize),
                            self.tally.rounds
                        ));
                    }
                    Outcome::Done
                }
            }
            (_, Expect::NdpAdvert { target, .. }) => {
                if !answered {
                    lines.push(format!(
                        "No advertisement for {target} within {timeout} ms: no host on {iface} \
                         answers for {target} (it is down, its IPv6 is off, or nobody has that \
                         address)."
                    ));
                    Outcome::NoAnswer
                } else {
                    if o.count > 1 {
                        lines.push(format!(
                            "{} of {} solicitations answered.",
                            self.tally.answers.len().min(self.tally.rounds as usize),
                            self.tally.rounds
                        ));
                    }
                    Outcome::Done
                }
            }
            (Packet::Ndp(spec), Expect::Nothing) => {
                lines.push(format!(
                    "Sent: {} is at {}, to every host on {iface} (ff02::1). Hosts that already \
                     have {} in their neighbour cache replace its MAC (the override flag is \
                     set); nobody answers an advertisement.",
                    spec.target, self.iface.mac, spec.target
                ));
                Outcome::Done
            }
            (_, Expect::ArpClaim { ip, .. }) => match first {
                Some((d, lat)) => {
                    let mac = d
                        .arp
                        .as_ref()
                        .and_then(|a| a.sha)
                        .map_or_else(|| "?".to_string(), |m| m.to_string());
                    lines.push(format!(
                        "{ip} is in use: {mac} answered the probe after {}. A host doing \
                         RFC 5227 address conflict detection would now pick another address.",
                        watch::ms(lat)
                    ));
                    Outcome::NoAnswer
                }
                None => {
                    lines.push(format!(
                        "No host answered the probe for {ip} within {timeout} ms: the address \
                         looks free on {iface}. (RFC 5227 has a host probe three times before \
                         it takes an address.)"
                    ));
                    Outcome::Done
                }
            },
            (Packet::Arp(spec), Expect::Nothing) => {
                let sent = plan.frames.first().map(|f| dissected(1, now(), f, f.len()));
                let arp = sent.and_then(|d| d.arp);
                let (ip, mac) = arp.as_ref().map_or((None, None), |a| (a.spa, a.sha));
                let ip = ip.map_or_else(|| "?".to_string(), |i| i.to_string());
                let mac = mac.map_or_else(|| "?".to_string(), |m| m.to_string());
                lines.push(match &spec.mode {
                    ArpMode::Reply { target, .. } => format!(
                        "Sent: {ip} is at {mac}, to {target}. {target} may now map {ip} to {mac} \
                         in its ARP cache although it never asked — which is how ARP spoofing \
                         works. (Linux takes an unsolicited reply only for an address it already \
                         has an entry for, unless net.ipv4.conf.all.arp_accept is 1.)"
                    ),
                    _ => format!(
                        "Sent: {ip} is at {mac}, to everyone on {iface}. Hosts that already have \
                         {ip} in their ARP cache update it; nobody answers an announcement, \
                         unless another host has {ip} too and defends it."
                    ),
                });
                Outcome::Done
            }
            (Packet::Udp(spec), Expect::Udp { dst, broadcast, .. }) => {
                match first {
                    Some((d, lat)) => {
                        let (from, why) = match (&d.ipv4, &d.ipv6) {
                            (Some(ip), _) => (
                                ip.src.into(),
                                d.icmp.as_ref().map(|i| i.explain()).unwrap_or_default(),
                            ),
                            (None, Some(ip)) => (
                                ip.src.into(),
                                d.icmpv6
                                    .as_ref()
                                    .map(|i| i.explain(ip.src, ip.dst))
                                    .unwrap_or_default(),
                            ),
                            (None, None) => (*dst, String::new()),
                        };
                        let from: std::net::IpAddr = from;
                        lines.push(format!(
                            "{from} answered with ICMP after {}: {why}.",
                            watch::ms(lat)
                        ));
                    }
                    None if *broadcast && dst.is_ipv6() => lines.push(format!(
                        "Sent to the multicast group {dst}. Every host on {iface}'s link in that \
                         group receives it (ff02::1: every IPv6 host), and a program bound to \
                         UDP port {} there gets the data. Nobody answers a multicast with an \
                         error.",
                        spec.port
                    )),
                    None if *broadcast => lines.push(format!(
                        "Sent. Every host on {iface}'s link receives it, and a program bound to \
                         UDP port {} there gets the data. Nobody answers a broadcast with an \
                         error.",
                        spec.port
                    )),
                    None => lines.push(format!(
                        "Sent. No ICMP error came back within {timeout} ms, so something probably \
                         listens on UDP port {} at {dst}: UDP itself never acknowledges, but a \
                         closed port answers with ICMP port unreachable.",
                        spec.port
                    )),
                }
                Outcome::Done
            }
            (Packet::Tcp(spec), Expect::Tcp { .. }) => {
                let reaction = self.tally.reactions.first().map(|(t, n)| (t, *n));
                lines.extend(watch::tcp_verdict(
                    spec.flags, spec.to, spec.port, first, reaction, timeout,
                ));
                if answered {
                    Outcome::Done
                } else {
                    Outcome::NoAnswer
                }
            }
            _ => Outcome::Done,
        };
        if !o.quiet {
            self.say("")?;
        }
        for l in lines {
            self.say(&l)?;
        }
        Ok(outcome)
    }
}
