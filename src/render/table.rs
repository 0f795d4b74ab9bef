//! Per packet: a heading, one table per layer with columns offset, bytes (hex), field,
//! value and meaning; the Ethernet framing arithmetic; notes; and a marked hex dump.
//!
//! The whole packet is built in the context's scratch buffer and written with one call.
//! Tables are drawn by [`super::grid`], which draws what comfy-table would, in a
//! fraction of the time.

use std::io::{self, Write};

use super::{Context, color, grid, hexdump, sections, story};
use crate::analysis::reassembly::Datagram;
use crate::dissect::Dissection;
use crate::proto::{FieldText, ethernet};
use crate::text::Text;

/// Longest run of bytes shown in the bytes column before it is cut with "…".
const MAX_BYTES_SHOWN: usize = 8;

/// The header of every layer table.
const HEADER: [&str; 5] = ["offset", "bytes (hex)", "field", "value", "meaning"];

/// The header of every layer table on a terminal narrower than [`NARROW_BELOW`]: the
/// bytes are left to the hex dump under the tables, and a bit field's bits go under its
/// value, so that the meaning column keeps room for words.
const NARROW_HEADER: [&str; 4] = ["offset", "field", "value", "meaning"];

/// Tables narrower than this many columns drop the "bytes (hex)" column. At 80 columns
/// the five columns left the meaning about 15 columns, one or two words a line.
pub const NARROW_BELOW: usize = 90;

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
    // Taken, not borrowed, for the time of the packet, and given back after.
    let mut scratch = SCRATCH.with(|s| {
        s.try_borrow_mut()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    });
    render_with(out, width, paint, rel, d, bytes, &mut scratch);
    SCRATCH.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            *s = scratch;
        }
    });
}

/// Buffers [`render`] reuses from packet to packet, so that drawing a packet allocates
/// them no more (five to seven allocations a packet before).
#[derive(Default)]
struct Scratch {
    /// A prose line before it is wrapped.
    line: Vec<u8>,
    /// The offset and bytes cells of one table, one after the other.
    texts: String,
    /// Where each of those cells is in `texts`.
    ranges: Vec<(usize, usize)>,
    /// The cells of one table; empty between uses (see [`recycle`]).
    cells: Vec<&'static str>,
    /// The columns of each row of one table looked up by shape ([`grid::Vary::rows`]).
    varies: Vec<u32>,
}

thread_local! {
    /// This thread's [`Scratch`].
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// `cells`, emptied, as a vector that outlives what its cells borrowed: the same
/// allocation (the standard library collects a vector into one of the same layout in
/// place).
fn recycle(mut cells: Vec<&str>) -> Vec<&'static str> {
    cells.clear();
    cells.into_iter().map(|_| "").collect()
}

/// [`render`] with `scratch`'s buffers.
#[allow(clippy::too_many_arguments)]
fn render_with(
    out: &mut Vec<u8>,
    width: usize,
    paint: bool,
    rel: f64,
    d: &Dissection,
    bytes: &[u8],
    scratch: &mut Scratch,
) {
    let Scratch {
        line,
        texts,
        ranges,
        cells: kept,
        varies,
    } = scratch;
    // The escape starting a run of `mark`'s colour, when colouring.
    let sgr = |s: &super::Section| {
        if paint {
            color::hue(s.hue, s.quoted)
        } else {
            None
        }
    };
    // Prose lines are built in `line`, then wrapped to the width.
    line.clear();
    line.s("Frame ")
        .u(d.n)
        .s(": ")
        .u(d.len.into())
        .s(" bytes on the wire, ")
        .u(d.caplen.into())
        .s(" captured, at ");
    line.extend_from_slice(&d.ts.rfc3339_micros_bytes());
    line.s(" (+").secs6(rel, 0).s(" s)");
    if let (Some(name), Some(index)) = (&d.seen_on, d.sll.as_ref().and_then(|l| l.ifindex)) {
        line.s(", seen on ")
            .s(name)
            .s(" (interface ")
            .u(index.into())
            .s(" of this host)");
    }
    if let Some(i) = &d.interface {
        line.s(", ");
        write_interface(line, i);
    }
    // New every packet (its number and time): wrapped without the memo, where it would
    // only push out a line that comes back.
    wrap_now(out, line, width, "", "", paint.then_some(color::HEADING));
    let secs = sections(d);
    let datagram: &[u8] = d
        .ctx
        .datagram
        .as_ref()
        .map_or(&[], |dg| dg.payload.as_slice());
    for s in secs.iter().filter(|s| !s.fields.is_empty()) {
        let end = s.span.offset + s.span.len.saturating_sub(1);
        let (src, place) = if s.in_datagram {
            (datagram, " of the datagram's payload")
        } else {
            (bytes, "")
        };
        out.s("\n");
        let title_color = sgr(s);
        line.clear();
        line.s(&s.title);
        push_model(line, s);
        line.s(" — bytes ")
            .u(s.span.offset as u64)
            .s("–")
            .u(end as u64)
            .s(place);
        wrap(out, line, width, "", "", title_color);
        texts.clear();
        ranges.clear();
        let narrow = width < NARROW_BELOW;
        for f in &s.fields {
            let start = texts.len();
            texts.push_str(itoa::Buffer::new().format(f.offset));
            ranges.push((start, texts.len()));
            let start = texts.len();
            if narrow {
                // The value, and the bits under it.
                texts.push_str(&f.value);
            } else if let Some(b) = src.get(f.offset..(f.offset + f.len).min(bytes.len())) {
                push_hex(texts, b.get(..MAX_BYTES_SHOWN).unwrap_or(b));
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
        let header: &[&str] = if narrow { &NARROW_HEADER } else { &HEADER };
        let mut cells: Vec<&str> = std::mem::take(kept);
        cells.extend(header);
        for (f, pair) in s.fields.iter().zip(ranges.chunks_exact(2)) {
            let text = |(a, b): (usize, usize)| texts.get(a..b).unwrap_or_default();
            if narrow {
                cells.extend([text(pair[0]), f.name, text(pair[1]), &f.meaning]);
            } else {
                cells.extend([text(pair[0]), text(pair[1]), f.name, &f.value, &f.meaning]);
            }
        }
        // The bytes and the value change under the same field name and meaning, and so
        // does a meaning that quotes the packet's lengths (IPv4's total length, UDP's
        // length): its row is found by its shape too. (The total length's meaning took
        // 1 453 texts in the generated 200k file, whose IPv4 tables were 21 808 distinct
        // ones; found by shape, its pinned table took 1.98 s against 2.16, 7 alternating
        // runs, the real file's the same. Every meaning written for the packet, found so,
        // cost the real file 4% more instructions and 8% more time: each is patched into
        // the drawing on every packet, and most repeat word for word. bench/PROFILE.md
        // section 20.)
        let (vary, meaning) = if narrow {
            (1 << 2, 1 << 3)
        } else {
            (1 << 1 | 1 << 3, 1 << 4)
        };
        varies.clear();
        varies.extend(
            s.fields
                .iter()
                .map(|f| if f.quotes_lengths { meaning } else { 0 }),
        );
        grid::draw(
            out,
            header.len(),
            grid::Vary {
                columns: vary,
                rows: varies,
            },
            header,
            cells.get(header.len()..).unwrap_or_default(),
            width,
            title_color,
        );
        *kept = recycle(cells);
        out.s("\n");
        if s.mark == 'E' {
            for l in ethernet::framing_lines(d.caplen as usize, d.len as usize, d.vlan.len()) {
                wrap(out, l.as_bytes(), width, "  ", "  ", None);
            }
        }
    }
    for s in secs.iter().filter(|s| s.fields.is_empty()) {
        out.s("\n");
        line.clear();
        line.s(&s.title);
        push_model(line, s);
        line.s(" — ")
            .u(s.span.len as u64)
            .s(" bytes at ")
            .u(s.span.offset as u64)
            .s("–")
            .u((s.span.offset + s.span.len.saturating_sub(1)) as u64);
        wrap(out, line, width, "", "", sgr(s));
    }
    if let Some(st) = story::story(d) {
        out.s("\n");
        wrap(
            out,
            st.title.as_bytes(),
            width,
            "",
            "",
            paint.then_some(color::HEADING),
        );
        let mut cells: Vec<&str> = std::mem::take(kept);
        cells.extend(story::HEADER);
        for r in &st.rows {
            cells.extend(r.iter().map(FieldText::as_str));
        }
        grid::draw(
            out,
            story::HEADER.len(),
            // The value and the meaning quote sequence numbers that change every segment.
            grid::Vary::columns(1 << 1 | 1 << 2),
            &story::HEADER,
            cells.get(story::HEADER.len()..).unwrap_or_default(),
            width,
            None,
        );
        *kept = recycle(cells);
        out.s("\n");
    }
    if let Some(dg) = &d.ctx.datagram {
        // In the colour of the network layer: the last header of the frame itself.
        let ip = secs
            .iter()
            .rev()
            .find(|s| !s.in_datagram && !s.quoted && !s.fields.is_empty());
        write_fragments(out, dg, width, ip.and_then(sgr));
    }
    if !d.notes.is_empty() {
        let note_color = paint.then_some(color::NOTE);
        out.s("\n");
        color::paint(out, note_color, b"Notes:");
        out.s("\n");
        for n in &d.notes {
            wrap(out, n.as_bytes(), width, "  • ", "    ", note_color);
        }
    }
    out.s("\n");
    wrap(
        out,
        b"Hex dump (each byte marked with its layer):",
        width,
        "",
        "",
        None,
    );
    let per_line = hexdump::bytes_per_line(width);
    if paint {
        hexdump::write_colored(out, bytes, &secs, per_line, width);
    } else {
        hexdump::write(out, bytes, &secs, per_line, width);
    }
    out.s("\n");
}

/// Appends " — link layer (OSI 2)" or the like to a heading: where the section's layer
/// sits in the models, when one can truthfully be named.
fn push_model(line: &mut Vec<u8>, s: &super::Section) {
    if let Some(m) = s.model {
        line.s(" — ").s(m.describe());
    }
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
    let mut line = Vec::new();
    line.s("Fragments of the reassembled datagram (")
        .u(dg.info.length as u64)
        .s(" bytes of payload)");
    wrap(out, &line, width, "", "", sgr);
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
    grid::draw(
        out,
        header.len(),
        grid::Vary::columns(0),
        &header,
        cells.get(header.len()..).unwrap_or_default(),
        width,
        sgr,
    );
    out.s("\n");
}

/// Appends `text` (UTF-8) as lines of at most `width` display columns, broken at spaces:
/// the first line starts with `first`, the others with `rest`, and each line's text is in
/// colour `sgr` (the indents are not). A word wider than a line is cut between
/// characters. Text that fits is written as it is, without splitting.
pub fn wrap(
    out: &mut Vec<u8>,
    text: &[u8],
    width: usize,
    first: &str,
    rest: &str,
    sgr: Option<&[u8]>,
) {
    if text.len() > WRAP_MEMO_LINE_MAX {
        return wrap_now(out, text, width, first, rest, sgr);
    }
    WRAPS.with_borrow_mut(|memo| memo.wrap(out, text, width, first, rest, sgr));
}

/// Slots of the [`WrapMemo`] of each thread.
const WRAP_MEMO_SLOTS: usize = 256;
/// Longest text the [`WrapMemo`] keeps (longer texts are wrapped every time).
const WRAP_MEMO_LINE_MAX: usize = 1024;

thread_local! {
    /// The lines this thread wrapped lately, for [`wrap`].
    static WRAPS: std::cell::RefCell<WrapMemo> = std::cell::RefCell::default();
}

/// Prose wrapped before, by its text, width, indents and colour, in a direct-mapped
/// table: a packet's framing arithmetic, section headings and notes are mostly the
/// lines of the packets before, and wrapping them word by word was a tenth of the table
/// format's instructions (callgrind, `bench/PROFILE.md` section 13). Each slot holds one
/// wrapping, compared byte for byte, so what is written never depends on the memo.
#[derive(Debug, Default)]
struct WrapMemo {
    slots: Vec<WrapSlot>,
}

/// One wrapped text: what [`wrap_now`] was given, and what it wrote.
#[derive(Debug, Default)]
struct WrapSlot {
    width: usize,
    text: Vec<u8>,
    first: String,
    rest: String,
    sgr: Option<Vec<u8>>,
    wrapped: Vec<u8>,
}

impl WrapMemo {
    /// [`wrap_now`], through the memo.
    fn wrap(
        &mut self,
        out: &mut Vec<u8>,
        text: &[u8],
        width: usize,
        first: &str,
        rest: &str,
        sgr: Option<&[u8]>,
    ) {
        if self.slots.is_empty() {
            // No call has width `usize::MAX`, so an unused slot matches nothing.
            self.slots.resize_with(WRAP_MEMO_SLOTS, || WrapSlot {
                width: usize::MAX,
                ..WrapSlot::default()
            });
        }
        let h = grid::hash_bytes(text)
            ^ (width as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ ((first.len() + 31 * rest.len()) as u64).rotate_left(32);
        let Some(slot) = self.slots.get_mut((h >> 8) as usize % WRAP_MEMO_SLOTS) else {
            return wrap_now(out, text, width, first, rest, sgr);
        };
        // The indents and colours are a few bytes: compared without a `memcmp` call each
        // (they were 2.5% of the table format's time under perf).
        let same = |a: &[u8], b: &[u8]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y);
        if slot.width != width
            || !same(slot.first.as_bytes(), first.as_bytes())
            || !same(slot.rest.as_bytes(), rest.as_bytes())
            || !same(
                slot.sgr.as_deref().unwrap_or_default(),
                sgr.unwrap_or_default(),
            )
            || slot.sgr.is_some() != sgr.is_some()
            || slot.text != text
        {
            slot.width = width;
            slot.text.clear();
            slot.text.extend_from_slice(text);
            slot.first.clear();
            slot.first.push_str(first);
            slot.rest.clear();
            slot.rest.push_str(rest);
            slot.sgr = sgr.map(<[u8]>::to_vec);
            slot.wrapped.clear();
            wrap_now(&mut slot.wrapped, text, width, first, rest, sgr);
        }
        out.extend_from_slice(&slot.wrapped);
    }
}

/// [`wrap`] without the memo: splits `text` into lines, by searching back for spaces
/// when it is plain words ([`plain_words`]), otherwise word by word.
fn wrap_now(
    out: &mut Vec<u8>,
    text: &[u8],
    width: usize,
    first: &str,
    rest: &str,
    sgr: Option<&[u8]>,
) {
    let text = std::str::from_utf8(text).unwrap_or_default();
    if grid::width(first) + grid::width(text) <= width {
        emit_line(out, first, text, sgr);
        return;
    }
    let room = |indent: &str| width.saturating_sub(grid::width(indent)).max(1);
    let (room_first, room_rest) = (room(first), room(rest));
    if plain_words(text.as_bytes(), room_first.min(room_rest)) {
        wrap_plain(out, text, (first, room_first), (rest, room_rest), sgr);
    } else {
        wrap_words(out, text, width, first, rest, sgr);
    }
}

/// Appends one wrapped line: `indent`, then `piece` in colour `sgr`, then a newline.
fn emit_line(out: &mut Vec<u8>, indent: &str, piece: &str, sgr: Option<&[u8]>) {
    out.s(indent);
    color::paint(out, sgr, piece.as_bytes());
    out.push(b'\n');
}

/// [`wrap_now`] for `text` that [`plain_words`] admits, with the first line's indent and
/// room, then the other lines': each line is the longest run of words that fits, so it
/// ends at the last space within its room, and it is written straight from `text`. The
/// same lines as [`wrap_words`] writes.
fn wrap_plain(
    out: &mut Vec<u8>,
    text: &str,
    (first, room_first): (&str, usize),
    (rest, room_rest): (&str, usize),
    sgr: Option<&[u8]>,
) {
    let (mut start, mut indent, mut room_now) = (0, first, room_first);
    while let Some(left) = text.get(start..) {
        if left.len() <= room_now {
            emit_line(out, indent, left, sgr);
            return;
        }
        let end = left
            .as_bytes()
            .get(..=room_now)
            .and_then(|l| l.iter().rposition(|&b| b == b' '))
            .unwrap_or(left.len());
        emit_line(out, indent, left.get(..end).unwrap_or_default(), sgr);
        (start, indent, room_now) = (start + end + 1, rest, room_rest);
    }
}

/// [`wrap_now`] word by word, for any text: a word wider than a line is cut between
/// characters.
fn wrap_words(
    out: &mut Vec<u8>,
    text: &str,
    width: usize,
    first: &str,
    rest: &str,
    sgr: Option<&[u8]>,
) {
    let emit = |out: &mut Vec<u8>, indent: &str, piece: &str| emit_line(out, indent, piece, sgr);
    let room = |indent: &str| width.saturating_sub(grid::width(indent)).max(1);
    let (room_first, room_rest) = (room(first), room(rest));
    let mut indent = first;
    // Whether `indent` is still `first` (a flag: comparing the strings per word was a
    // `memcmp` call per word, 16% of the table format's time under `perf`).
    let mut on_first = true;
    let mut piece = String::with_capacity(text.len());
    // The width of `piece`, kept as words are added (measuring it again for every word
    // made wrapping quadratic in a line's words).
    let mut piece_w = 0;
    // Words are found by searching bytes for spaces: a space is one byte in UTF-8, so
    // every word is a `str` of its own (`str::split` cost a fifth of wrapping).
    let bytes = text.as_bytes();
    let mut start = 0;
    while start <= bytes.len() {
        let end = bytes
            .get(start..)
            .and_then(|rest| rest.iter().position(|&b| b == b' '))
            .map_or(bytes.len(), |i| start + i);
        let word = text.get(start..end).unwrap_or_default();
        start = end + 1;
        if word.is_empty() {
            continue;
        }
        let word_w = grid::width(word);
        let needed = piece_w + usize::from(!piece.is_empty()) + word_w;
        let room_now = if on_first { room_first } else { room_rest };
        if needed <= room_now {
            if !piece.is_empty() {
                piece.push(' ');
            }
            piece.push_str(word);
            piece_w = needed;
            continue;
        }
        if !piece.is_empty() {
            emit(out, indent, &piece);
            indent = rest;
            on_first = false;
            piece.clear();
        }
        // A word too wide for a whole line is cut into pieces that fill lines.
        let mut w = 0;
        for c in word.chars() {
            let cw = grid::width(c.encode_utf8(&mut [0u8; 4]));
            if w + cw > room(indent) && !piece.is_empty() {
                emit(out, indent, &piece);
                indent = rest;
                on_first = false;
                piece.clear();
                w = 0;
            }
            piece.push(c);
            w += cw;
        }
        piece_w = w;
    }
    if !piece.is_empty() || on_first {
        emit(out, indent, &piece);
    }
}

/// Whether `text` is words of printable ASCII, none longer than `room`, with one space
/// between each two and none at either end: then it is wrapped by searching back for
/// spaces, not word by word (the frame's heading, wrapped anew for every packet, was 4%
/// of the table format's instructions).
fn plain_words(text: &[u8], room: usize) -> bool {
    let (Some(&a), Some(&z)) = (text.first(), text.last()) else {
        return false;
    };
    let (mut ok, mut word, mut longest, mut prev) = (a != b' ' && z != b' ', 0usize, 0, 0u8);
    for &b in text {
        let space = b == b' ';
        ok &= (0x20..0x7f).contains(&b) && !(space && prev == b' ');
        word = if space { 0 } else { word + 1 };
        longest = longest.max(word);
        prev = b;
    }
    ok && longest <= room
}

/// Appends which pcapng interface a packet was captured on, as the frame's heading says
/// it: "on interface 1 (tun0: the tunnel) of the file" (the viewer's says it too).
pub fn write_interface(out: &mut Vec<u8>, i: &crate::capture::InterfaceLabel) {
    out.s("on interface ").u(i.id.into());
    match (&i.name, &i.description) {
        (Some(n), Some(desc)) => {
            out.s(" (").s(n).s(": ").s(desc).s(")");
        }
        (Some(n), None) | (None, Some(n)) => {
            out.s(" (").s(n).s(")");
        }
        (None, None) => {}
    }
    out.s(" of the file");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cells' vector keeps its allocation from table to table, as [`recycle`] says.
    #[test]
    fn recycled_cells_keep_their_room() {
        let text = String::from("a cell");
        let mut cells: Vec<&str> = Vec::with_capacity(100);
        cells.push(&text);
        let kept = recycle(cells);
        assert!(kept.is_empty());
        assert!(kept.capacity() >= 100, "room: {}", kept.capacity());
    }

    fn wrapped(text: &str, width: usize) -> String {
        let mut out = Vec::new();
        wrap(&mut out, text.as_bytes(), width, "  • ", "    ", None);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_every_word() {
        let text = "The TCP checksum is 0x1234 but should be 0xabcd: the segment was damaged";
        for width in [20, 30, 45, 80] {
            let got = wrapped(text, width);
            for l in got.lines() {
                assert!(grid::width(l) <= width, "{l:?} is wider than {width}");
            }
            let words: Vec<&str> = got.split_whitespace().filter(|w| *w != "•").collect();
            assert_eq!(words.join(" "), text);
        }
        assert_eq!(wrapped(text, 100), format!("  • {text}\n"));
        assert_eq!(wrapped("", 10), "  • \n");
    }

    /// The memo writes what wrapping writes, also when texts, widths, indents and colours
    /// come back in any order, and when two of them share a slot.
    #[test]
    fn wrap_memo_gives_what_wrapping_gives() {
        let texts = [
            "",
            "short",
            "Framing: 6 (destination) + 6 (source) + 2 (EtherType) = 14-byte header, + 4-byte FCS",
            "a 0123456789abcdef→0123456789 b c d e f g h i j k l m n o p q r s t u v w x y z",
            "  two  spaces  and → arrows → between  words  ",
        ];
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let text = texts[(x % texts.len() as u64) as usize];
            let width = [0, 1, 10, 20, 45, 100][(x >> 8) as usize % 6];
            let (first, rest) = [("", ""), ("  • ", "    "), ("  ", "  ")][(x >> 16) as usize % 3];
            let sgr: Option<&[u8]> = [None, Some(&b"\x1b[1m"[..])][(x >> 24) as usize % 2];
            let mut want = Vec::new();
            wrap_now(&mut want, text.as_bytes(), width, first, rest, sgr);
            let mut got = b"kept".to_vec();
            wrap(&mut got, text.as_bytes(), width, first, rest, sgr);
            assert_eq!(got.get(4..), Some(want.as_slice()), "{text:?} at {width}");
        }
    }

    /// Plain words wrapped by searching back for spaces give the lines that wrapping
    /// word by word gives, for random words, widths and indents; and texts that are not
    /// plain words (two spaces, a space at an end, a word too long, a character not
    /// printable ASCII) are refused.
    #[test]
    fn plain_words_wrap_as_word_by_word() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut plain = 0;
        for _ in 0..5000 {
            let words: Vec<String> = (0..1 + next(30))
                .map(|_| {
                    "abcdefghijklmnopqrstuvwxyz0123456789(),.:+=-"[..1 + next(44) as usize]
                        .chars()
                        .take(1 + next(12) as usize)
                        .collect()
                })
                .collect();
            let text = words.join(" ");
            let width: usize = [1, 5, 12, 20, 40, 77, 100, 200][next(8) as usize];
            let (first, rest) = [("", ""), ("  • ", "    "), ("  ", "  ")][next(3) as usize];
            let sgr: Option<&[u8]> = [None, Some(&b"\x1b[1m"[..])][next(2) as usize];
            let room = |i: &str| width.saturating_sub(grid::width(i)).max(1);
            let (rf, rr) = (room(first), room(rest));
            let longest = words.iter().map(String::len).max().unwrap_or(0);
            assert_eq!(
                plain_words(text.as_bytes(), rf.min(rr)),
                longest <= rf.min(rr)
            );
            if !plain_words(text.as_bytes(), rf.min(rr)) {
                continue;
            }
            plain += 1;
            let (mut got, mut want) = (Vec::new(), Vec::new());
            wrap_plain(&mut got, &text, (first, rf), (rest, rr), sgr);
            wrap_words(&mut want, &text, width, first, rest, sgr);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{text:?} at {width}"
            );
        }
        assert!(plain > 1000, "only {plain} plain texts");
        for text in ["a  b", " a b", "a b ", "a→b", "a\tb", ""] {
            assert!(!plain_words(text.as_bytes(), 80), "{text:?}");
        }
    }

    #[test]
    fn wrap_cuts_a_word_wider_than_the_line() {
        let got = wrapped("a 0123456789abcdef→0123456789 b", 10);
        for l in got.lines() {
            assert!(grid::width(l) <= 10, "{l:?}");
        }
        let joined: String = got
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '•')
            .collect();
        assert_eq!(joined, "a0123456789abcdef→0123456789b");
    }

    /// The table format of `bytes`, a frame on Ethernet, `width` columns wide.
    fn table_of(bytes: &[u8], width: usize) -> String {
        let d = crate::testing::dissect_ethernet(bytes);
        let mut out = Vec::new();
        render(&mut out, width, false, 0.0, &d, bytes);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The headings of the table of `bytes`, a frame on Ethernet.
    fn headings(bytes: &[u8]) -> Vec<String> {
        table_of(bytes, 200)
            .lines()
            .filter(|l| l.contains(" — ") && !l.starts_with(' ') && !l.starts_with('│'))
            .map(str::to_string)
            .collect()
    }

    fn ends() -> crate::send::craft::Ends {
        use crate::proto::MacAddr;
        crate::send::craft::Ends {
            src_mac: MacAddr([2, 0x77, 0, 0, 0, 1]),
            dst_mac: MacAddr([2, 0x77, 0, 0, 0, 2]),
            src: std::net::Ipv4Addr::new(10, 77, 0, 1),
            dst: std::net::Ipv4Addr::new(10, 77, 0, 2),
            id: 0x1234,
            ttl: 64,
        }
    }

    /// Datagrams whose lengths differ (so do the meanings of IPv4's total length and
    /// UDP's length, looked up by their shape) are drawn on a thread that drew the others
    /// just as on a thread that drew nothing before, at both table layouts.
    #[test]
    fn meanings_quoting_lengths_are_drawn_as_on_a_fresh_thread() {
        let lens = [5, 95, 950, 9, 66, 951, 5, 40, 1400, 77];
        let frames: Vec<Vec<u8>> = lens
            .iter()
            .filter_map(|&n| {
                crate::send::craft::udp_frames("va", &ends(), 50000, 7, &vec![b'x'; n], 1500, false)
                    .ok()
                    .and_then(|f| f.into_iter().next())
            })
            .collect();
        assert_eq!(frames.len(), lens.len());
        let quoting: Vec<&str> = sections(&crate::testing::dissect_ethernet(&frames[0]))
            .iter()
            .flat_map(|s| &s.fields)
            .filter(|f| f.quotes_lengths)
            .map(|f| f.name)
            .collect();
        assert_eq!(quoting, ["Total length", "Length"]);
        for width in [200, 70] {
            let warm: Vec<String> = frames
                .iter()
                .chain(&frames)
                .map(|f| table_of(f, width))
                .collect();
            for (i, f) in frames.iter().chain(&frames).enumerate() {
                let f = f.clone();
                let cold = std::thread::spawn(move || table_of(&f, width))
                    .join()
                    .unwrap_or_default();
                assert_eq!(warm[i], cold, "frame {i} at width {width}");
            }
        }
    }

    #[test]
    fn every_heading_names_its_layer_in_both_models() {
        let frames = crate::send::craft::udp_frames("va", &ends(), 50000, 7, b"hello", 1500, false)
            .unwrap_or_default();
        let got = headings(frames.first().map_or(&[], Vec::as_slice));
        assert_eq!(
            got,
            [
                "Ethernet II — link layer (OSI 2) — bytes 0–13",
                "IPv4 — network layer (OSI 3) — bytes 14–33",
                "UDP — transport layer (OSI 4) — bytes 34–41",
                "Data — application layer (OSI 5–7) — 5 bytes at 42–46",
            ]
        );
    }

    #[test]
    fn arp_heading_sits_between_osi_2_and_3() {
        use crate::proto::MacAddr;
        use crate::proto::arp::Arp;
        let e = ends();
        let f = crate::send::craft::arp_frame(
            e.src_mac,
            MacAddr::BROADCAST,
            &Arp::request(e.src_mac, e.src, e.dst),
        );
        let got = headings(&f);
        assert_eq!(
            got.get(1).map(String::as_str),
            Some("ARP — link layer (between OSI 2 and 3) — bytes 14–41")
        );
    }

    #[test]
    fn a_later_fragment_names_no_layer_for_its_data() {
        let frames = crate::send::craft::udp_frames("va", &ends(), 50000, 7, &[0; 100], 60, true)
            .unwrap_or_default();
        let got = headings(frames.get(1).map_or(&[], Vec::as_slice));
        let data = got.last().map_or("", String::as_str);
        assert!(
            data.starts_with("Fragment data (part of the datagram's payload) — 40 bytes at 34"),
            "{got:?}"
        );
        assert!(!data.contains("OSI"), "{data}");
    }
}
