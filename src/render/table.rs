//! Per packet: a heading, one table per layer with columns offset, bytes (hex), field,
//! value and meaning; the Ethernet framing arithmetic; notes; and a marked hex dump.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table};

use super::{Context, hexdump, sections};
use crate::dissect::Dissection;
use crate::proto::{ethernet, hex};

/// Longest run of bytes shown in the bytes column before it is cut with "…".
const MAX_BYTES_SHOWN: usize = 8;

/// Writes the tables and hex dump of `d`, whose captured bytes are `bytes`.
pub fn write(
    out: &mut dyn Write,
    ctx: &mut Context,
    d: &Dissection,
    bytes: &[u8],
) -> io::Result<()> {
    let rel = ctx.relative(d.ts);
    writeln!(
        out,
        "Frame {}: {} bytes on the wire, {} captured, at {} (+{rel:.6} s)",
        d.n,
        d.len,
        d.caplen,
        d.ts.to_rfc3339_micros()
    )?;
    let secs = sections(d);
    for s in secs.iter().filter(|s| !s.fields.is_empty()) {
        let end = s.span.offset + s.span.len.saturating_sub(1);
        writeln!(out, "\n{} — bytes {}–{end}", s.title, s.span.offset)?;
        let mut t = new_table(ctx.width);
        for f in &s.fields {
            let mut shown = bytes
                .get(f.offset..(f.offset + f.len).min(bytes.len()))
                .map(|b| {
                    if b.len() > MAX_BYTES_SHOWN {
                        format!("{} …", hex(&b[..MAX_BYTES_SHOWN]))
                    } else {
                        hex(b)
                    }
                })
                .unwrap_or_default();
            if let Some(bits) = &f.bits {
                shown.push('\n');
                shown.push_str(bits);
            }
            t.add_row(vec![
                f.offset.to_string(),
                shown,
                f.name.to_string(),
                f.value.clone(),
                f.meaning.clone(),
            ]);
        }
        writeln!(out, "{t}")?;
        if s.mark == 'E' {
            for line in ethernet::framing_lines(d.caplen as usize, d.len as usize, d.vlan.len()) {
                writeln!(out, "  {line}")?;
            }
        }
    }
    for s in secs.iter().filter(|s| s.fields.is_empty()) {
        writeln!(
            out,
            "\n{} — {} bytes at {}–{}",
            s.title,
            s.span.len,
            s.span.offset,
            s.span.offset + s.span.len.saturating_sub(1)
        )?;
    }
    if !d.notes.is_empty() {
        writeln!(out, "\nNotes:")?;
        for n in &d.notes {
            writeln!(out, "  • {n}")?;
        }
    }
    writeln!(out, "\nHex dump (each byte marked with its layer):")?;
    hexdump::write(out, bytes, &secs)?;
    writeln!(out)
}

fn new_table(width: u16) -> Table {
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(vec!["offset", "bytes (hex)", "field", "value", "meaning"]);
    t
}
