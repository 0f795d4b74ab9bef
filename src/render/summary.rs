//! One line per packet: number, relative time, source → destination, protocol, flags,
//! lengths, and a short plain-language note.
//!
//! The line is built in the context's scratch buffer with [`crate::text::Text`] (no
//! `core::fmt` on the common paths, nothing allocated per packet) and written with one
//! `write_all`.
//!
//! With colour on, the parts that come from a layer are in that layer's colour (addresses
//! of IPv4 or Ethernet, ports of TCP/UDP, the protocol column, TCP flags, VLAN tags) and
//! the notes in the note colour: see [`super::color`]. The text is the same either way.

use std::io::{self, Write};

use super::{Context, color};
use crate::dissect::Dissection;
use crate::proto::Hue;
use crate::text::Text;
use std::net::IpAddr;

/// Writes the summary line of `d`.
pub fn write(out: &mut dyn Write, ctx: &mut Context, d: &Dissection) -> io::Result<()> {
    let rel = ctx.relative(d.ts);
    let mut line = std::mem::take(&mut ctx.scratch);
    line.clear();
    let paint = Paint(ctx.color);
    line.u_right(d.n, 5).s(" ").secs6(rel, 10).s("  ");
    write_endpoints(&mut line, d, paint);
    line.s("  ");
    let proto = d.top_protocol();
    let proto_color = d.top().and_then(|l| paint.layer(l.hue()));
    paint.on(&mut line, proto_color);
    line.s(proto);
    paint.off(&mut line, proto_color);
    // The column is padded outside the colour: escapes take no columns.
    line.s_left("", 5usize.saturating_sub(proto.chars().count()))
        .s(" ")
        .u_right(d.len.into(), 4)
        .s(" B  ");
    write_detail(&mut line, d, paint);
    let note_color = paint.then(color::NOTE);
    for (i, note) in d.notes.iter().enumerate() {
        line.s(if i == 0 { "  " } else { " " });
        if i == 0 {
            paint.on(&mut line, note_color);
            line.s("[");
        }
        line.s(note);
        if i + 1 == d.notes.len() {
            line.s("]");
            paint.off(&mut line, note_color);
        }
    }
    line.push(b'\n');
    let result = out.write_all(&line);
    ctx.scratch = line;
    result
}

/// Whether the line is coloured; every colour change goes through it, so that with
/// colour off nothing but one test of a `bool` is added to the line.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    /// A layer's colour, when colouring.
    fn layer(self, hue: Hue) -> Option<&'static [u8]> {
        if self.0 { color::hue(hue, false) } else { None }
    }

    /// `sgr`, when colouring.
    fn then(self, sgr: &'static [u8]) -> Option<&'static [u8]> {
        self.0.then_some(sgr)
    }

    /// Starts a run of colour `c`.
    fn on(self, out: &mut Vec<u8>, c: Option<&[u8]>) {
        if let Some(c) = c {
            out.extend_from_slice(c);
        }
    }

    /// Ends a run started by [`Paint::on`] with the same `c`.
    fn off(self, out: &mut Vec<u8>, c: Option<&[u8]>) {
        if c.is_some() {
            out.extend_from_slice(color::RESET);
        }
    }
}

/// For a reply: which request it answers and how long the answer took.
fn write_answer(out: &mut Vec<u8>, d: &Dissection) {
    if let Some(crate::context::Answer {
        answers: req,
        latency_ms: ms,
    }) = d.ctx.answer
    {
        // The shortest decimal that reads back as `ms`: core::fmt's `{}` for f64.
        let _ = write!(out, " (answers frame {req}, {ms} ms later)");
    }
}

/// The network layer's addresses and colour, for either IP version.
fn ip_addrs(d: &Dissection) -> Option<(IpAddr, IpAddr, Hue)> {
    use crate::proto::Layer;
    let hue = match (&d.ipv4, &d.ipv6) {
        (Some(ip), _) => ip.hue(),
        (None, Some(ip)) => ip.hue(),
        _ => return None,
    };
    d.ip_addrs().map(|(src, dst)| (src, dst, hue))
}

/// Appends an address: an IPv6 one in brackets when a port follows (`[fd77::1]:40000`,
/// RFC 5952 section 6).
fn write_addr(out: &mut Vec<u8>, a: IpAddr, with_port: bool) {
    match a {
        IpAddr::V4(a) => {
            out.ipv4(a);
        }
        IpAddr::V6(a) if with_port => {
            let _ = write!(out, "[{a}]");
        }
        IpAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
}

fn write_endpoints(out: &mut Vec<u8>, d: &Dissection, paint: Paint) {
    if let Some((src, dst, hue)) = ip_addrs(d) {
        let ports = match (&d.tcp, &d.udp) {
            (Some(t), _) => Some((t.src_port, t.dst_port, Hue::Cyan)),
            (_, Some(u)) => Some((u.src_port, u.dst_port, Hue::BoldMagenta)),
            _ => None,
        };
        let ipc = paint.layer(hue);
        for (i, (a, port)) in [
            (src, ports.map(|p| (p.0, p.2))),
            (dst, ports.map(|p| (p.1, p.2))),
        ]
        .into_iter()
        .enumerate()
        {
            if i == 1 {
                out.s(" → ");
            }
            paint.on(out, ipc);
            write_addr(out, a, port.is_some());
            paint.off(out, ipc);
            if let Some((p, h)) = port {
                let pc = paint.layer(h);
                paint.on(out, pc);
                out.s(":").u(p.into());
                paint.off(out, pc);
            }
        }
    } else if let Some(e) = &d.eth {
        let ec = paint.layer(Hue::Blue);
        paint.on(out, ec);
        out.mac(e.src);
        paint.off(out, ec);
        out.s(" → ");
        paint.on(out, ec);
        out.mac(e.dst);
        paint.off(out, ec);
    } else {
        out.s("?");
    }
}

fn write_detail(out: &mut Vec<u8>, d: &Dissection, paint: Paint) {
    let qc = paint.layer(Hue::BoldBlue);
    for v in &d.vlan {
        paint.on(out, qc);
        out.s("VLAN ")
            .u(v.id.into())
            .s(" (priority ")
            .u(v.pcp.into())
            .s(")");
        paint.off(out, qc);
        out.s(" · ");
    }
    if let Some(t) = &d.tcp {
        let tc = paint.layer(Hue::Cyan);
        paint.on(out, tc);
        out.s("[");
        for (i, n) in t.flags.names().enumerate() {
            if i > 0 {
                out.s(", ");
            }
            out.s(n);
        }
        out.s("]");
        paint.off(out, tc);
        match &d.ctx.tcp {
            Some(c) => {
                out.s(" seq=").u(c.rel_seq.into());
                if let Some(a) = c.rel_ack {
                    out.s(" ack=").u(a.into());
                }
                out.s(" win=")
                    .u(t.window.into())
                    .s(" len=")
                    .u(t.payload_len.into())
                    .s(" · ");
                c.stage.write_to(out);
                out.s(": ");
                c.write_explain(t, out);
            }
            None => {
                out.s(" seq=")
                    .u(t.seq.into())
                    .s(" ack=")
                    .u(t.ack.into())
                    .s(" win=")
                    .u(t.window.into())
                    .s(" len=")
                    .u(t.payload_len.into())
                    .s(" · ")
                    .s(t.explain());
            }
        }
    } else {
        write_explanation(out, d);
    }
}

/// Appends what a packet that is not a TCP segment means, in words: the summary line
/// ends with it and the table's "what it means" row repeats it.
pub fn write_explanation(out: &mut Vec<u8>, d: &Dissection) {
    if let (Some(u), Some((_, dst, _))) = (&d.udp, ip_addrs(d)) {
        u.write_explain(dst, out);
    } else if let Some(i) = &d.icmp {
        i.write_explain(out);
        write_answer(out, d);
        if let Some(q) = i.quoted.as_deref() {
            write_about(out, q);
        }
    } else if let (Some(i), Some(ip)) = (&d.icmpv6, &d.ipv6) {
        out.s(&i.explain(ip.src, ip.dst));
        write_answer(out, d);
        if let Some(q) = i.quoted.as_deref() {
            write_about(out, q);
        }
    } else if let Some(a) = &d.arp {
        let who = d
            .eth
            .as_ref()
            .map(|e| e.dst.is_broadcast())
            .unwrap_or(false);
        a.write_explain(out);
        write_answer(out, d);
        if who {
            out.s(" (broadcast: every host on the LAN hears it)");
        }
    } else if let Some(o) = &d.other {
        match o.name {
            Some(name) => {
                out.u(o.bytes as u64)
                    .s(" bytes of ")
                    .s(name)
                    .s(" (not decoded)");
            }
            None if o.by == "ip_proto" => {
                out.u(o.bytes as u64)
                    .s(" bytes of IP protocol ")
                    .u(o.number.into())
                    .s(", which wirelens does not know");
            }
            None => {
                out.u(o.bytes as u64)
                    .s(" bytes of EtherType ")
                    .hex4(o.number)
                    .s(", which wirelens does not know");
            }
        }
    } else if let Some(ip) = &d.ipv4 {
        out.s("IPv4 id=").hex4(ip.id).s(" ttl=").u(ip.ttl.into());
    } else if let Some(ip) = &d.ipv6 {
        let _ = write!(
            out,
            "IPv6 flow=0x{:05x} hlim={}",
            ip.flow_label, ip.hop_limit
        );
    }
}

/// Appends which conversation an ICMP or ICMPv6 error is about: " (about UDP a:p → b:q)".
fn write_about(out: &mut Vec<u8>, q: &crate::proto::icmp::Quoted) {
    let addrs: Option<(IpAddr, IpAddr)> = match (&q.ipv4, &q.ipv6) {
        (Some(ip), _) => Some((ip.src.into(), ip.dst.into())),
        (None, Some(ip)) => Some((ip.src.into(), ip.dst.into())),
        _ => None,
    };
    let Some((src, dst)) = addrs else { return };
    let ports = match (&q.tcp, &q.udp) {
        (Some(t), _) => Some(("TCP", t.src_port, t.dst_port)),
        (_, Some(u)) => Some(("UDP", u.src_port, u.dst_port)),
        _ => None,
    };
    out.s(" (about ");
    if let Some((proto, _, _)) = ports {
        out.s(proto).s(" ");
    }
    write_addr(out, src, ports.is_some());
    if let Some((_, s, _)) = ports {
        out.s(":").u(s.into());
    }
    out.s(" → ");
    write_addr(out, dst, ports.is_some());
    if let Some((_, _, p)) = ports {
        out.s(":").u(p.into());
    }
    out.s(")");
}
