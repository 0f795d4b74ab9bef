//! One line per packet: number, relative time, source → destination, protocol, flags,
//! lengths, and a short plain-language note.

use std::io::{self, Write};

use super::Context;
use crate::dissect::Dissection;

/// Writes the summary line of `d`.
pub fn write(out: &mut dyn Write, ctx: &mut Context, d: &Dissection) -> io::Result<()> {
    let rel = ctx.relative(d.ts);
    write!(out, "{:>5} {rel:>10.6}  ", d.n)?;
    write_endpoints(out, d)?;
    write!(out, "  {:<5} {:>4} B  ", d.top_protocol(), d.len)?;
    write_detail(out, d)?;
    for (i, note) in d.notes.iter().enumerate() {
        out.write_all(if i == 0 { b"  [" } else { b" " })?;
        out.write_all(note.as_bytes())?;
        if i + 1 == d.notes.len() {
            out.write_all(b"]")?;
        }
    }
    out.write_all(b"\n")
}

fn write_endpoints(out: &mut dyn Write, d: &Dissection) -> io::Result<()> {
    if let Some(ip) = &d.ipv4 {
        let (sp, dp) = match (&d.tcp, &d.udp) {
            (Some(t), _) => (Some(t.src_port), Some(t.dst_port)),
            (_, Some(u)) => (Some(u.src_port), Some(u.dst_port)),
            _ => (None, None),
        };
        match (sp, dp) {
            (Some(s), Some(p)) => write!(out, "{}:{s} → {}:{p}", ip.src, ip.dst),
            _ => write!(out, "{} → {}", ip.src, ip.dst),
        }
    } else if let Some(e) = &d.eth {
        write!(out, "{} → {}", e.src, e.dst)
    } else {
        out.write_all(b"?")
    }
}

fn write_detail(out: &mut dyn Write, d: &Dissection) -> io::Result<()> {
    for v in &d.vlan {
        write!(out, "VLAN {} (priority {}) · ", v.id, v.pcp)?;
    }
    if let Some(t) = &d.tcp {
        out.write_all(b"[")?;
        for (i, n) in t.flags.names().enumerate() {
            if i > 0 {
                out.write_all(b", ")?;
            }
            out.write_all(n.as_bytes())?;
        }
        match &t.conv {
            Some(c) => {
                write!(out, "] seq={}", c.rel_seq)?;
                if let Some(a) = c.rel_ack {
                    write!(out, " ack={a}")?;
                }
                write!(
                    out,
                    " win={} len={} · {}: {}",
                    t.window,
                    t.payload_len,
                    c.stage,
                    c.explain(t)
                )
            }
            None => write!(
                out,
                "] seq={} ack={} win={} len={} · {}",
                t.seq,
                t.ack,
                t.window,
                t.payload_len,
                t.explain()
            ),
        }
    } else if let (Some(u), Some(ip)) = (&d.udp, &d.ipv4) {
        out.write_all(u.explain(ip.dst).as_bytes())
    } else if let Some(i) = &d.icmp {
        out.write_all(i.explain().as_bytes())?;
        if let Some(q) = i
            .quoted
            .as_deref()
            .and_then(|q| q.ipv4.as_ref().map(|ip| (q, ip)))
        {
            let (q, ip) = q;
            match (&q.tcp, &q.udp) {
                (Some(t), _) => write!(
                    out,
                    " (about TCP {}:{} → {}:{})",
                    ip.src, t.src_port, ip.dst, t.dst_port
                )?,
                (_, Some(u)) => write!(
                    out,
                    " (about UDP {}:{} → {}:{})",
                    ip.src, u.src_port, ip.dst, u.dst_port
                )?,
                _ => write!(out, " (about {} → {})", ip.src, ip.dst)?,
            }
        }
        Ok(())
    } else if let Some(a) = &d.arp {
        let who = d
            .eth
            .as_ref()
            .map(|e| e.dst.is_broadcast())
            .unwrap_or(false);
        out.write_all(a.explain().as_bytes())?;
        if let (Some(req), Some(ms)) = (a.answers, a.latency_ms) {
            write!(out, " (answers frame {req}, {ms} ms later)")?;
        }
        if who {
            out.write_all(b" (broadcast: every host on the LAN hears it)")?;
        }
        Ok(())
    } else if let Some(o) = &d.other {
        match o.name {
            Some(name) => write!(out, "{} bytes of {name} (not decoded)", o.bytes),
            None if o.by == "ip_proto" => write!(
                out,
                "{} bytes of IP protocol {}, which wirelens does not know",
                o.bytes, o.number
            ),
            None => write!(
                out,
                "{} bytes of EtherType 0x{:04x}, which wirelens does not know",
                o.bytes, o.number
            ),
        }
    } else if let Some(ip) = &d.ipv4 {
        write!(out, "IPv4 id=0x{:04x} ttl={}", ip.id, ip.ttl)
    } else {
        Ok(())
    }
}
