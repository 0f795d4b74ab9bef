//! One line per packet: number, relative time, source → destination, protocol, flags,
//! lengths, and a short plain-language note.
//!
//! The line is built in the context's scratch buffer with [`crate::text::Text`] (no
//! `core::fmt` on the common paths, nothing allocated per packet) and written with one
//! `write_all`.

use std::io::{self, Write};

use super::Context;
use crate::dissect::Dissection;
use crate::text::Text;

/// Writes the summary line of `d`.
pub fn write(out: &mut dyn Write, ctx: &mut Context, d: &Dissection) -> io::Result<()> {
    let rel = ctx.relative(d.ts);
    let mut line = std::mem::take(&mut ctx.scratch);
    line.clear();
    line.u_right(d.n, 5).s(" ").secs6(rel, 10).s("  ");
    write_endpoints(&mut line, d);
    line.s("  ")
        .s_left(d.top_protocol(), 5)
        .s(" ")
        .u_right(d.len.into(), 4)
        .s(" B  ");
    write_detail(&mut line, d);
    for (i, note) in d.notes.iter().enumerate() {
        line.s(if i == 0 { "  [" } else { " " }).s(note);
        if i + 1 == d.notes.len() {
            line.s("]");
        }
    }
    line.push(b'\n');
    let result = out.write_all(&line);
    ctx.scratch = line;
    result
}

fn write_endpoints(out: &mut Vec<u8>, d: &Dissection) {
    if let Some(ip) = &d.ipv4 {
        let ports = match (&d.tcp, &d.udp) {
            (Some(t), _) => Some((t.src_port, t.dst_port)),
            (_, Some(u)) => Some((u.src_port, u.dst_port)),
            _ => None,
        };
        match ports {
            Some((s, p)) => {
                out.ipv4(ip.src)
                    .s(":")
                    .u(s.into())
                    .s(" → ")
                    .ipv4(ip.dst)
                    .s(":")
                    .u(p.into());
            }
            None => {
                out.ipv4(ip.src).s(" → ").ipv4(ip.dst);
            }
        }
    } else if let Some(e) = &d.eth {
        out.mac(e.src).s(" → ").mac(e.dst);
    } else {
        out.s("?");
    }
}

fn write_detail(out: &mut Vec<u8>, d: &Dissection) {
    for v in &d.vlan {
        out.s("VLAN ")
            .u(v.id.into())
            .s(" (priority ")
            .u(v.pcp.into())
            .s(") · ");
    }
    if let Some(t) = &d.tcp {
        out.s("[");
        for (i, n) in t.flags.names().enumerate() {
            if i > 0 {
                out.s(", ");
            }
            out.s(n);
        }
        match &t.conv {
            Some(c) => {
                out.s("] seq=").u(c.rel_seq.into());
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
                out.s("] seq=")
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
    } else if let (Some(u), Some(ip)) = (&d.udp, &d.ipv4) {
        u.write_explain(ip.dst, out);
    } else if let Some(i) = &d.icmp {
        i.write_explain(out);
        if let Some(q) = i
            .quoted
            .as_deref()
            .and_then(|q| q.ipv4.as_ref().map(|ip| (q, ip)))
        {
            let (q, ip) = q;
            let ports = match (&q.tcp, &q.udp) {
                (Some(t), _) => Some(("TCP", t.src_port, t.dst_port)),
                (_, Some(u)) => Some(("UDP", u.src_port, u.dst_port)),
                _ => None,
            };
            match ports {
                Some((proto, s, p)) => {
                    out.s(" (about ")
                        .s(proto)
                        .s(" ")
                        .ipv4(ip.src)
                        .s(":")
                        .u(s.into())
                        .s(" → ")
                        .ipv4(ip.dst)
                        .s(":")
                        .u(p.into())
                        .s(")");
                }
                None => {
                    out.s(" (about ").ipv4(ip.src).s(" → ").ipv4(ip.dst).s(")");
                }
            }
        }
    } else if let Some(a) = &d.arp {
        let who = d
            .eth
            .as_ref()
            .map(|e| e.dst.is_broadcast())
            .unwrap_or(false);
        a.write_explain(out);
        if let (Some(req), Some(ms)) = (a.answers, a.latency_ms) {
            // The shortest decimal that reads back as `ms`: core::fmt's `{}` for f64.
            let _ = write!(out, " (answers frame {req}, {ms} ms later)");
        }
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
    }
}
