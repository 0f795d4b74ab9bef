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
use crate::dissect::{Dissection, Role};
use crate::proto::{Around, Hue, Layer};
use crate::text::Text;
use std::net::IpAddr;

/// Writes the summary line of `d`.
pub fn write(out: &mut dyn Write, ctx: &mut Context, d: &Dissection) -> io::Result<()> {
    let rel = ctx.relative(d.ts);
    let mut line = std::mem::take(&mut ctx.scratch);
    line.clear();
    let paint = Paint(ctx.color);
    line.u_right(d.n, 5).s(" ").secs6(rel, 10).s("  ");
    write_interface(&mut line, d);
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

/// For a packet behind a Linux cooked header (`-i any`): the interface it was seen on
/// and its direction, as tcpdump shows them, e.g. "vb out". The interface is named
/// when the capture is live on this host, numbered ("if#2") when it comes from a file
/// (its indexes are another host's), and absent for version 1, which has no index.
fn write_interface(out: &mut Vec<u8>, d: &Dissection) {
    let Some(l) = &d.sll else {
        return;
    };
    match (&d.seen_on, l.ifindex) {
        (Some(name), _) => {
            out.s(name).s(" ");
        }
        (None, Some(index)) => {
            out.s("if#").u(index.into()).s(" ");
        }
        (None, None) => {}
    }
    out.s(l.direction()).s("  ");
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
            out.ip(a, port.is_some());
            paint.off(out, ipc);
            if let Some((p, h)) = port {
                let pc = paint.layer(h);
                paint.on(out, pc);
                out.s(":").u(p.into());
                paint.off(out, pc);
            }
        }
    } else if let Some(l) = &d.sll
        && !l.addr.is_empty()
    {
        // A cooked header names only one end, the sender; the direction is written
        // before it (`write_interface`).
        out.s("from ");
        let ec = paint.layer(Hue::Blue);
        paint.on(out, ec);
        for (i, b) in l.addr.iter().enumerate() {
            if i > 0 {
                out.s(":");
            }
            let _ = write!(out, "{b:02x}");
        }
        paint.off(out, ec);
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

/// Appends what a packet that is not a TCP segment means, in words: the highest layer
/// of the frame that has something to say says it, then the request a reply answers.
/// The summary line ends with it and the table's "what it means" row repeats it.
pub fn write_explanation(out: &mut Vec<u8>, d: &Dissection) {
    let (src, dst) = d.ip_addrs().unzip();
    let around = Around {
        src,
        dst,
        link_broadcast: d.eth.as_ref().is_some_and(|e| e.dst.is_broadcast()),
    };
    // The frame's last 16 layers, in a ring on the stack: this runs for every packet of
    // the summary, and the top layers are the ones that speak.
    const RING: usize = 16;
    let mut layers: [Option<&dyn Layer>; RING] = [None; RING];
    let mut count = 0;
    d.walk(&mut |l| {
        if l.role != Role::Quoted {
            if let Some(slot) = layers.get_mut(count % RING) {
                *slot = Some(l.layer);
            }
            count += 1;
        }
    });
    for i in (count.saturating_sub(RING)..count).rev() {
        if let Some(Some(l)) = layers.get(i % RING)
            && l.explain(&around, out)
        {
            break;
        }
    }
    write_answer(out, d);
}
