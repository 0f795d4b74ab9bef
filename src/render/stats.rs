//! `wirelens stats`: the protocol hierarchy as an indented tree, top talkers, a
//! packet-size histogram drawn with bars, and packets per second as a sparkline.

use std::io::{self, Write};

use crate::analysis::stats::{Count, SIZE_BINS, Stats};

/// Width of the longest histogram bar, in characters.
const BAR: usize = 40;
/// Sparkline levels, lowest first.
const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Writes every section of `s`.
pub fn write(out: &mut dyn Write, s: &Stats, top: usize) -> io::Result<()> {
    let secs = match (s.first, s.last) {
        (Some(a), Some(b)) => b.as_secs_f64() - a.as_secs_f64(),
        _ => 0.0,
    };
    writeln!(
        out,
        "{} packets, {} bytes on the wire, over {secs:.3} s\n",
        s.total.packets, s.total.bytes
    )?;
    write_hierarchy(out, s)?;
    write_talkers(out, s, top)?;
    write_sizes(out, s)?;
    write_timeline(out, s)
}

fn write_hierarchy(out: &mut dyn Write, s: &Stats) -> io::Result<()> {
    // Sum every prefix of every path, keeping the first-seen order of each level.
    let mut rows: Vec<(String, Count)> = Vec::new();
    for (path, c) in &s.hierarchy {
        let parts: Vec<&str> = path.split('/').collect();
        for depth in 1..=parts.len() {
            let prefix = parts[..depth].join("/");
            match rows.iter_mut().find(|(p, _)| *p == prefix) {
                Some((_, t)) => {
                    t.packets += c.packets;
                    t.bytes += c.bytes;
                }
                None => rows.push((prefix, *c)),
            }
        }
    }
    // Order as a tree: each prefix directly after its parent.
    rows.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
    writeln!(
        out,
        "Protocol hierarchy{:>32}{:>14}{:>8}",
        "packets", "bytes", "share"
    )?;
    for (path, c) in &rows {
        let depth = path.matches('/').count();
        let name = path.rsplit('/').next().unwrap_or(path);
        let label = format!("{}{name}", "  ".repeat(depth));
        let share = 100.0 * c.packets as f64 / s.total.packets.max(1) as f64;
        writeln!(
            out,
            "  {label:<40}{:>8}{:>14}{share:>7.1}%",
            c.packets, c.bytes
        )?;
    }
    writeln!(out)
}

fn write_talkers(out: &mut dyn Write, s: &Stats, top: usize) -> io::Result<()> {
    let talkers = s.top_talkers(top);
    writeln!(out, "Top talkers (IPv4 and IPv6 senders, by bytes)")?;
    let max = talkers.first().map_or(1, |t| t.1.bytes.max(1));
    let names: Vec<String> = talkers.iter().map(|(a, _)| a.to_string()).collect();
    // Wide enough for "255.255.255.255", and for the longest IPv6 address listed.
    let width = names.iter().map(String::len).max().unwrap_or(0).max(15);
    for ((_, c), name) in talkers.iter().zip(&names) {
        let bar = "█".repeat(((c.bytes * BAR as u64) / max) as usize);
        writeln!(
            out,
            "  {name:<width$} {:>8} packets {:>12} bytes  {bar}",
            c.packets, c.bytes
        )?;
    }
    if talkers.is_empty() {
        writeln!(out, "  (no IP packets)")?;
    }
    if s.talkers_dropped > 0 {
        writeln!(
            out,
            "  ({} packets from further addresses were not counted: the table holds {} addresses)",
            s.talkers_dropped,
            crate::analysis::stats::MAX_TALKERS
        )?;
    }
    writeln!(out)
}

fn write_sizes(out: &mut dyn Write, s: &Stats) -> io::Result<()> {
    writeln!(out, "Packet sizes (bytes on the wire)")?;
    let max = s.sizes.iter().copied().max().unwrap_or(0).max(1);
    let mut low = 0u32;
    for (i, &n) in s.sizes.iter().enumerate() {
        let high = SIZE_BINS.get(i).copied().unwrap_or(u32::MAX);
        let label = if high == u32::MAX {
            format!("{low}+")
        } else {
            format!("{low}–{high}")
        };
        let bar = "█".repeat(((n * BAR as u64) / max) as usize);
        let line = format!("  {label:>11} {n:>9}  {bar}");
        writeln!(out, "{}", line.trim_end())?;
        low = high.saturating_add(1);
    }
    writeln!(out)
}

fn write_timeline(out: &mut dyn Write, s: &Stats) -> io::Result<()> {
    let width = s.bucket_secs.max(1.0);
    writeln!(
        out,
        "Packets per {} over time (one character each)",
        if width == 1.0 {
            "second".to_string()
        } else {
            format!("{width} seconds")
        }
    )?;
    let max = s.timeline.iter().copied().max().unwrap_or(0);
    let line: String = s
        .timeline
        .iter()
        .map(|&n| {
            if n == 0 {
                ' '
            } else {
                let level = ((n * (SPARK.len() as u64 - 1)) / max.max(1)) as usize;
                SPARK.get(level).copied().unwrap_or('█')
            }
        })
        .collect();
    writeln!(out, "  {}", line.trim_end())?;
    writeln!(out, "  peak {max} packets in one bucket")
}
