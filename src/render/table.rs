//! Per packet: a heading, one table per layer with columns offset, bytes (hex), field,
//! value and meaning; the Ethernet framing arithmetic; notes; and a marked hex dump.
//!
//! The whole packet is built in the context's scratch buffer and written with one call.
//! Tables are drawn by [`super::grid`], which draws what comfy-table would, in a
//! fraction of the time.

use std::io::{self, Write};

use super::{Context, color, grid, hexdump, sections};
use crate::analysis::reassembly::Datagram;
use crate::dissect::Dissection;
use crate::proto::ethernet;
use crate::text::Text;

/// Longest run of bytes shown in the bytes column before it is cut with "…".
const MAX_BYTES_SHOWN: usize = 8;

/// The header of every layer table.
const HEADER: [&str; 5] = ["offset", "bytes (hex)", "field", "value", "meaning"];

/// Writes the tables and hex dump of `d`, whose captured bytes are `bytes`.
pub fn write(
    out: &mut dyn Write,
    ctx: &mut Context,
    d: &Dissection,
    bytes: &[u8],
) -> io::Result<()> {
    let rel = ctx.relative(d.ts);
    let mut buf = std::mem::take(&mut ctx.scratch);
    buf.clear();
    render(&mut buf, usize::from(ctx.width), ctx.color, rel, d, bytes);
    let result = out.write_all(&buf);
    ctx.scratch = buf;
    result
}

/// Appends the table format of `d` (captured bytes `bytes`, `rel` seconds after the
/// first packet) for a terminal `width` columns wide, in the layer colours of
/// [`color`] when `paint` is true.
pub fn render(
    out: &mut Vec<u8>,
    width: usize,
    paint: bool,
    rel: f64,
    d: &Dissection,
    bytes: &[u8],
) {
    // The escape starting a run of `mark`'s colour, when colouring.
    let sgr = |mark: char| if paint { color::layer(mark) } else { None };
    if paint {
        out.extend_from_slice(color::HEADING);
    }
    out.s("Frame ")
        .u(d.n)
        .s(": ")
        .u(d.len.into())
        .s(" bytes on the wire, ")
        .u(d.caplen.into())
        .s(" captured, at ");
    out.extend_from_slice(&d.ts.rfc3339_micros_bytes());
    out.s(" (+").secs6(rel, 0).s(" s)");
    if paint {
        out.extend_from_slice(color::RESET);
    }
    out.s("\n");
    let secs = sections(d);
    let datagram: &[u8] = d.datagram.as_ref().map_or(&[], |dg| dg.payload.as_slice());
    // The offset and bytes cells of one table, one after the other in `texts`.
    let mut texts = String::new();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for s in secs.iter().filter(|s| !s.fields.is_empty()) {
        let end = s.span.offset + s.span.len.saturating_sub(1);
        let (src, place) = if s.in_datagram {
            (datagram, " of the datagram's payload")
        } else {
            (bytes, "")
        };
        out.s("\n");
        let title_color = sgr(s.mark);
        if let Some(c) = title_color {
            out.extend_from_slice(c);
        }
        out.s(&s.title)
            .s(" — bytes ")
            .u(s.span.offset as u64)
            .s("–")
            .u(end as u64)
            .s(place);
        if title_color.is_some() {
            out.extend_from_slice(color::RESET);
        }
        out.s("\n");
        texts.clear();
        ranges.clear();
        for f in &s.fields {
            let start = texts.len();
            texts.push_str(itoa::Buffer::new().format(f.offset));
            ranges.push((start, texts.len()));
            let start = texts.len();
            if let Some(b) = src.get(f.offset..(f.offset + f.len).min(bytes.len())) {
                push_hex(&mut texts, b.get(..MAX_BYTES_SHOWN).unwrap_or(b));
                if b.len() > MAX_BYTES_SHOWN {
                    texts.push_str(" …");
                }
            }
            if let Some(bits) = &f.bits {
                texts.push('\n');
                texts.push_str(bits);
            }
            ranges.push((start, texts.len()));
        }
        let mut cells: Vec<&str> = Vec::with_capacity(HEADER.len() * (s.fields.len() + 1));
        cells.extend(HEADER);
        for (f, pair) in s.fields.iter().zip(ranges.chunks_exact(2)) {
            let text = |(a, b): (usize, usize)| texts.get(a..b).unwrap_or_default();
            cells.extend([text(pair[0]), text(pair[1]), f.name, &f.value, &f.meaning]);
        }
        let widths = grid::column_widths(&cells, HEADER.len(), width);
        grid::write(
            out,
            &widths,
            &HEADER,
            cells.get(HEADER.len()..).unwrap_or_default(),
            title_color,
        );
        out.s("\n");
        if s.mark == 'E' {
            for line in ethernet::framing_lines(d.caplen as usize, d.len as usize, d.vlan.len()) {
                out.s("  ").s(&line).s("\n");
            }
        }
    }
    for s in secs.iter().filter(|s| s.fields.is_empty()) {
        out.s("\n");
        let title_color = sgr(s.mark);
        if let Some(c) = title_color {
            out.extend_from_slice(c);
        }
        out.s(&s.title)
            .s(" — ")
            .u(s.span.len as u64)
            .s(" bytes at ")
            .u(s.span.offset as u64)
            .s("–")
            .u((s.span.offset + s.span.len.saturating_sub(1)) as u64);
        if title_color.is_some() {
            out.extend_from_slice(color::RESET);
        }
        out.s("\n");
    }
    if let Some(dg) = &d.datagram {
        write_fragments(out, dg, width, sgr('I'));
    }
    if !d.notes.is_empty() {
        let note_color = paint.then_some(color::NOTE);
        out.s("\n");
        color::paint(out, note_color, b"Notes:");
        out.s("\n");
        for n in &d.notes {
            out.s("  ");
            if let Some(c) = note_color {
                out.extend_from_slice(c);
            }
            out.s("• ").s(n);
            if note_color.is_some() {
                out.extend_from_slice(color::RESET);
            }
            out.s("\n");
        }
    }
    out.s("\nHex dump (each byte marked with its layer):\n");
    if paint {
        hexdump::write_colored(out, bytes, &secs);
    } else {
        hexdump::write(out, bytes, &secs);
    }
    out.s("\n");
}

/// Appends bytes as lower-case hex pairs separated by spaces (what `proto::hex` returns).
fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}

/// Width of the drawing of how fragments tile the datagram, in characters.
const TILE_WIDTH: usize = 32;

/// The fragment table of a reassembled datagram: one row per fragment, and a drawing of
/// where its bytes fall in the datagram; its heading and borders in colour `sgr`.
fn write_fragments(out: &mut Vec<u8>, dg: &Datagram, width: usize, sgr: Option<&[u8]>) {
    out.s("\n");
    if let Some(c) = sgr {
        out.extend_from_slice(c);
    }
    out.s("Fragments of the reassembled datagram (")
        .u(dg.info.length as u64)
        .s(" bytes of payload)");
    if sgr.is_some() {
        out.extend_from_slice(color::RESET);
    }
    out.s("\n");
    let header = ["frame", "bytes", "length", "MF", "where it goes"];
    let total = dg.info.length.max(1);
    let mut texts: Vec<String> = Vec::with_capacity(dg.pieces.len() * header.len());
    for p in &dg.pieces {
        let from = p.offset * TILE_WIDTH / total;
        let to = ((p.offset + p.len) * TILE_WIDTH)
            .div_ceil(total)
            .max(from + 1);
        let mut bar = String::with_capacity(TILE_WIDTH * 3);
        for i in 0..TILE_WIDTH {
            bar.push(if (from..to).contains(&i) { '█' } else { '·' });
        }
        texts.extend([
            p.frame.to_string(),
            format!("{}–{}", p.offset, p.offset + p.len.saturating_sub(1)),
            p.len.to_string(),
            u8::from(p.mf).to_string(),
            bar,
        ]);
    }
    let mut cells: Vec<&str> = header.to_vec();
    cells.extend(texts.iter().map(String::as_str));
    let widths = grid::column_widths(&cells, header.len(), width);
    grid::write(
        out,
        &widths,
        &header,
        cells.get(header.len()..).unwrap_or_default(),
        sgr,
    );
    out.s("\n");
}
