//! `wirelens flows`: one row per conversation, as a table with a legend or as JSON Lines.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table};

use crate::analysis::FlowSummary;
use crate::analysis::arp::Binding;
use crate::capture::Timestamp;

/// Writes one JSON line per conversation (or per ARP table entry).
pub fn write_json<T: serde::Serialize>(out: &mut dyn Write, rows: &[T]) -> io::Result<()> {
    for f in rows {
        serde_json::to_writer(&mut *out, f).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes the conversations as a table, with ARP and ICMP counted apart and a legend of
/// the state codes under it. `first` is the capture's first timestamp, for start times.
pub fn write_table(
    out: &mut dyn Write,
    flows: &[FlowSummary],
    first: Option<Timestamp>,
    arp: u64,
    icmp: u64,
    width: u16,
) -> io::Result<()> {
    let mut t = new_table(width);
    t.set_header(vec![
        "#",
        "client",
        "server",
        "service",
        "pkts →/←",
        "bytes →/←",
        "start s",
        "dur s",
        "handshake",
        "closed",
        "state",
        "zeek",
        "history",
    ]);
    let base = first.map(|f| f.as_secs_f64()).unwrap_or(0.0);
    for f in flows {
        t.add_row(vec![
            format!("{} {}", f.proto, f.stream),
            f.client.clone(),
            f.server.clone(),
            f.service.unwrap_or("").to_string(),
            format!("{} / {}", f.client_packets, f.server_packets),
            format!("{} / {}", f.client_bytes, f.server_bytes),
            format!("{:.3}", f.start.as_secs_f64() - base),
            format!("{:.3}", f.duration),
            f.handshake.unwrap_or("").to_string(),
            match f.closed_by {
                Some(c) => serde_json::to_value(c)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                None => String::new(),
            },
            f.state.map(|s| s.to_string()).unwrap_or_default(),
            f.conn_state.to_string(),
            f.history.clone(),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{} conversations; also {arp} ARP and {icmp} ICMP packets, which belong to no conversation.",
        flows.len()
    )?;
    out.write_all(LEGEND.as_bytes())
}

/// Writes the ARP table: one row per IP address, with every MAC that claimed it.
pub fn write_arp_table(
    out: &mut dyn Write,
    table: &[Binding],
    first: Option<Timestamp>,
    width: u16,
) -> io::Result<()> {
    let mut t = new_table(width);
    t.set_header(vec![
        "IP",
        "MAC",
        "first seen s",
        "last seen s",
        "packets",
        "warning",
    ]);
    let base = first.map(|f| f.as_secs_f64()).unwrap_or(0.0);
    for b in table {
        let others: Vec<String> = b
            .macs
            .iter()
            .filter(|m| **m != b.mac)
            .map(|m| m.to_string())
            .collect();
        t.add_row(vec![
            b.ip.to_string(),
            b.mac.to_string(),
            format!("{:.3}", b.first_seen.as_secs_f64() - base),
            format!("{:.3}", b.last_seen.as_secs_f64() - base),
            b.packets.to_string(),
            if others.is_empty() {
                String::new()
            } else {
                format!(
                    "also claimed by {}: an address conflict or ARP spoofing",
                    others.join(", ")
                )
            },
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{} addresses learned from ARP senders (IP → the MAC that last claimed it).",
        table.len()
    )
}

fn new_table(width: u16) -> Table {
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    t
}

const LEGEND: &str = "\
→ client to server, ← server to client. The client sent the first SYN (or the first packet).
zeek = conn_state (Zeek's codes): S0 attempt, no reply · S1 established, not closed · SF normal open and close
  REJ attempt rejected with RST · S2/S3 only the client/server closed · RSTO/RSTR client/server aborted
  RSTOS0 client sent SYN then RST · SH/SHR SYN/SYN-ACK then FIN, no reply · OTH no SYN seen (mid-stream)
history: S SYN · H SYN-ACK · A pure ACK · D data · F FIN · R RST · T retransmission;
  upper case from the client, lower case from the server, each recorded once per direction.
";
