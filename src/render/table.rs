//! Per packet: a heading, one table per layer with columns offset, bytes (hex), field,
//! value and meaning; the Ethernet framing arithmetic; notes; and a marked hex dump.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table};

use super::{Context, hexdump, sections};
use crate::analysis::reassembly::Datagram;
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
    let datagram: &[u8] = d.datagram.as_ref().map_or(&[], |dg| dg.payload.as_slice());
    for s in secs.iter().filter(|s| !s.fields.is_empty()) {
        let end = s.span.offset + s.span.len.saturating_sub(1);
        let (src, place) = if s.in_datagram {
            (datagram, " of the datagram's payload")
        } else {
            (bytes, "")
        };
        writeln!(out, "\n{} — bytes {}–{end}{place}", s.title, s.span.offset)?;
        let mut t = new_table(ctx.width);
        for f in &s.fields {
            let mut shown = src
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
    if let Some(dg) = &d.datagram {
        write_fragments(out, dg, ctx.width)?;
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

/// Width of the drawing of how fragments tile the datagram, in characters.
const TILE_WIDTH: usize = 32;

/// The fragment table of a reassembled datagram: one row per fragment, and a drawing of
/// where its bytes fall in the datagram.
fn write_fragments(out: &mut dyn Write, dg: &Datagram, width: u16) -> io::Result<()> {
    writeln!(
        out,
        "\nFragments of the reassembled datagram ({} bytes of payload)",
        dg.info.length
    )?;
    let mut t = new_table(width);
    t.set_header(vec!["frame", "bytes", "length", "MF", "where it goes"]);
    let total = dg.info.length.max(1);
    for p in &dg.pieces {
        let from = p.offset * TILE_WIDTH / total;
        let to = ((p.offset + p.len) * TILE_WIDTH)
            .div_ceil(total)
            .max(from + 1);
        let mut bar = String::with_capacity(TILE_WIDTH * 3);
        for i in 0..TILE_WIDTH {
            bar.push(if (from..to).contains(&i) { '█' } else { '·' });
        }
        t.add_row(vec![
            p.frame.to_string(),
            format!("{}–{}", p.offset, p.offset + p.len.saturating_sub(1)),
            p.len.to_string(),
            u8::from(p.mf).to_string(),
            bar,
        ]);
    }
    writeln!(out, "{t}")
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
