//! A hex dump of the whole frame, 16 bytes a line (8 on a terminal narrower than
//! [`WIDE_COLUMNS`]), with a second line under each that marks every byte with the layer it
//! belongs to (E Ethernet, Q VLAN, A ARP, I IPv4, T TCP, U UDP, C ICMP, i/t/u quoted
//! headers, P data, O undecoded, - padding).

use super::Section;
use crate::text::Text;

/// Bytes per line.
const WIDTH: usize = 16;

/// Columns a 16-byte line needs: a 4- or 5-digit offset (captured frames are at most
/// 256 KiB), two blanks, 16 hex pairs with their blanks and the middle gap (49), a blank
/// and 16 characters. Narrower terminals get 8 bytes a line (39 columns).
pub const WIDE_COLUMNS: usize = 5 + 2 + 49 + 1 + 16;

/// Bytes per line of the dump for a terminal `width` columns wide: 16, or 8 below
/// [`WIDE_COLUMNS`].
pub fn bytes_per_line(width: usize) -> usize {
    if width >= WIDE_COLUMNS {
        WIDTH
    } else {
        WIDTH / 2
    }
}

/// Lower-case hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Each byte's two hex digits.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 0x0f]];
        i += 1;
    }
    t
};

/// Each byte as the text column shows it: itself if printable ASCII or a space, else `.`.
const SHOWN: [u8; 256] = {
    let mut t = [b'.'; 256];
    let mut i = 0x20;
    while i < 0x7f {
        t[i] = i as u8;
        i += 1;
    }
    t
};

/// The longest line: offset, 16 hex pairs, gaps, 16 characters, 16 marks (each up to
/// four bytes of UTF-8) and their gaps.
const LINE_MAX: usize = 8 + 2 + 16 * 3 + 2 + 16 + 6 + 16 * (4 + 3);

/// One line of the dump, built in a stack buffer and appended at once (perf showed
/// byte-by-byte appends of the hex dump at 9% of the table format).
struct Line {
    buf: [u8; LINE_MAX],
    at: usize,
}

impl Line {
    fn put(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.at) {
            *slot = b;
            self.at += 1;
        }
    }
}

/// The layer mark of every byte of `bytes` (blank where no section covers it).
fn marks_of(bytes: &[u8], sections: &[Section]) -> Vec<char> {
    let mut marks = vec![' '; bytes.len()];
    for s in sections.iter().filter(|s| !s.in_datagram) {
        let end = s.span.offset.saturating_add(s.span.len).min(bytes.len());
        if let Some(m) = marks.get_mut(s.span.offset.min(end)..end) {
            m.fill(s.mark);
        }
    }
    marks
}

/// Appends the dump of `bytes` to `out`, `per_line` (16 or 8) bytes a line, marking each
/// byte by the section that covers it; the legend is wrapped to `width` columns.
pub fn write(out: &mut Vec<u8>, bytes: &[u8], sections: &[Section], per_line: usize, width: usize) {
    dump(out, bytes, sections, per_line, width, true);
}

/// [`write`], with the fixed-position writer for full lines when `fast`.
fn dump(
    out: &mut Vec<u8>,
    bytes: &[u8],
    sections: &[Section],
    per_line: usize,
    width: usize,
    fast: bool,
) {
    let marks = marks_of(bytes, sections);
    let per_line = per_line.clamp(1, WIDTH);
    // The wider gap after the eighth byte, only when there is a ninth.
    let gap = |i: usize| i == 7 && per_line > 8;
    let mut line = Line {
        buf: [b' '; LINE_MAX],
        at: 0,
    };
    for (n, chunk) in bytes.chunks(per_line).enumerate() {
        let base = n * per_line;
        if fast
            && per_line == WIDTH
            && full_line(out, base, chunk, marks.get(base..).unwrap_or_default())
        {
            continue;
        }
        line.at = 0;
        let put = |line: &mut Line, b: u8| line.put(b);
        // {base:04x}: at least four hex digits.
        let digits = (usize::BITS - base.leading_zeros()).div_ceil(4).max(4);
        for i in (0..digits).rev() {
            put(&mut line, HEX[(base >> (4 * i)) & 0x0f]);
        }
        put(&mut line, b' ');
        put(&mut line, b' ');
        for (i, b) in chunk.iter().enumerate() {
            put(&mut line, HEX[usize::from(b >> 4)]);
            put(&mut line, HEX[usize::from(b & 0x0f)]);
            put(&mut line, b' ');
            if gap(i) {
                put(&mut line, b' ');
            }
        }
        for i in chunk.len()..per_line {
            for _ in 0..if gap(i) { 4 } else { 3 } {
                put(&mut line, b' ');
            }
        }
        put(&mut line, b' ');
        for &b in chunk {
            put(
                &mut line,
                if b.is_ascii_graphic() || b == b' ' {
                    b
                } else {
                    b'.'
                },
            );
        }
        // The marks, on their own line, without trailing blanks (an empty line when every
        // mark is blank).
        put(&mut line, b'\n');
        let mut end = line.at;
        for _ in 0..6 {
            put(&mut line, b' ');
        }
        for (i, m) in marks.iter().skip(base).take(chunk.len()).enumerate() {
            let mut c = [0u8; 4];
            for &b in m.encode_utf8(&mut c).as_bytes() {
                put(&mut line, b);
            }
            if *m != ' ' {
                end = line.at;
            }
            for _ in 0..if gap(i) { 3 } else { 2 } {
                put(&mut line, b' ');
            }
        }
        out.extend_from_slice(line.buf.get(..end).unwrap_or(&line.buf));
        out.push(b'\n');
    }
    write_legend(out, sections, false, width);
}

/// Where byte `i` of a 16-byte line starts: after the 4-digit offset and two blanks, three
/// columns a byte, one more after the eighth.
const fn column(i: usize) -> usize {
    6 + 3 * i + if i >= 8 { 1 } else { 0 }
}

/// A full 16-byte line at an offset below 0x10000 with one-byte marks — nearly every line
/// of a dump — written at fixed positions in one buffer (what the general loop writes, in
/// far fewer steps). Returns false, writing nothing, for any other line.
fn full_line(out: &mut Vec<u8>, base: usize, chunk: &[u8], marks: &[char]) -> bool {
    // Offset, hex, gap, blank, 16 characters, newline; then the marks line and newline.
    const TEXT: usize = column(16) + 1;
    const LEN: usize = TEXT + 16 + 1 + column(16) + 1;
    let (Ok(chunk), Some(marks)) = (
        <&[u8; WIDTH]>::try_from(chunk),
        marks.first_chunk::<WIDTH>(),
    ) else {
        return false;
    };
    if base >= 0x1_0000 || !marks.iter().all(char::is_ascii) {
        return false;
    }
    let mut l = [b' '; LEN];
    for (i, d) in l.iter_mut().take(4).enumerate() {
        *d = HEX[(base >> (4 * (3 - i))) & 0x0f];
    }
    let marks_at = TEXT + 16 + 1;
    // Fixed-size arrays and positions known for each of the 16 bytes: the compiler
    // checks no bounds in this loop (the checked writes it replaced cost twice as much).
    // Two halves of eight, each at fixed columns, so that no byte's column waits on the
    // gap after the eighth, and every mark written, a blank one over the blank already
    // there, with no branch: 24 instructions a byte before, 7% of the table format.
    for half in 0..2 {
        let first = column(8 * half);
        for j in 0..8 {
            let i = 8 * half + j;
            let b = usize::from(chunk[i]);
            let c = first + 3 * j;
            l[c..c + 2].copy_from_slice(&HEX_PAIRS[b]);
            l[TEXT + i] = SHOWN[b];
            l[marks_at + c] = marks[i] as u8;
        }
    }
    // The marks line ends after its last mark that is not blank.
    let end = marks
        .iter()
        .rposition(|&m| m != ' ')
        .map_or(marks_at, |i| marks_at + column(i) + 1);
    l[TEXT + 16] = b'\n';
    out.extend_from_slice(l.get(..end).unwrap_or_default());
    out.push(b'\n');
    true
}

/// As [`write`], with each byte's hex pair and its mark in its layer's colour (see
/// [`super::color`]), and the legend in the same colours. Stripped of its escapes, the
/// text is exactly what [`write`] appends. Kept apart from [`write`] so that the plain
/// dump does no colour work at all.
pub fn write_colored(
    out: &mut Vec<u8>,
    bytes: &[u8],
    sections: &[Section],
    per_line: usize,
    width: usize,
) {
    use super::color::{RESET, of_mark};
    let marks = marks_of(bytes, sections);
    let per_line = per_line.clamp(1, WIDTH);
    let gap = |i: usize| i == 7 && per_line > 8;
    // Switches the colour of what follows to `next`'s, ending the previous run.
    let switch = |out: &mut Vec<u8>, current: &mut Option<&'static [u8]>, next: char| {
        let c = of_mark(sections, next);
        if c != *current {
            if current.is_some() {
                out.extend_from_slice(RESET);
            }
            if let Some(c) = c {
                out.extend_from_slice(c);
            }
            *current = c;
        }
    };
    for (n, chunk) in bytes.chunks(per_line).enumerate() {
        let base = n * per_line;
        let line_marks = marks.get(base..).unwrap_or_default();
        let digits = (usize::BITS - base.leading_zeros()).div_ceil(4).max(4);
        for i in (0..digits).rev() {
            out.push(HEX[(base >> (4 * i)) & 0x0f]);
        }
        out.s("  ");
        let mut current = None;
        for (i, b) in chunk.iter().enumerate() {
            switch(out, &mut current, line_marks.get(i).copied().unwrap_or(' '));
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
            out.push(b' ');
            if gap(i) {
                out.push(b' ');
            }
        }
        if current.is_some() {
            out.extend_from_slice(RESET);
        }
        for i in chunk.len()..per_line {
            out.s(if gap(i) { "    " } else { "   " });
        }
        out.push(b' ');
        for &b in chunk {
            out.push(if b.is_ascii_graphic() || b == b' ' {
                b
            } else {
                b'.'
            });
        }
        out.push(b'\n');
        // The marks, without trailing blanks.
        let shown = line_marks.get(..chunk.len()).unwrap_or_default();
        if let Some(last) = shown.iter().rposition(|m| *m != ' ') {
            out.s("      ");
            let mut current = None;
            for (i, &m) in shown.iter().take(last + 1).enumerate() {
                if i > 0 {
                    out.s(if gap(i - 1) { "   " } else { "  " });
                }
                switch(out, &mut current, m);
                let mut c = [0u8; 4];
                out.s(m.encode_utf8(&mut c));
            }
            if current.is_some() {
                out.extend_from_slice(RESET);
            }
        }
        out.push(b'\n');
    }
    write_legend(out, sections, true, width);
}

/// The legend: each mark that appears, and its layer, in the layer's colour if `paint`;
/// entries that would pass `width` columns go on the next line.
fn write_legend(out: &mut Vec<u8>, sections: &[Section], paint: bool, width: usize) {
    let mut legend: Vec<(char, &str)> = Vec::new();
    for s in sections.iter().filter(|s| !s.in_datagram) {
        if !legend.iter().any(|(m, _)| *m == s.mark) {
            legend.push((s.mark, &s.title));
        }
    }
    out.s("      ");
    let mut at = 6;
    for (i, (m, t)) in legend.iter().enumerate() {
        let short = t.split(" (").next().unwrap_or(t);
        let mut c = [0u8; 4];
        // "X = name", and ", " before it.
        let w = super::grid::width(short) + 4 + if i > 0 { 2 } else { 0 };
        if i > 0 && at + w + 1 > width {
            out.s(",\n      ");
            at = 6 + w - 2;
        } else {
            out.s(if i > 0 { ", " } else { "" });
            at += w;
        }
        let sgr = if paint {
            super::color::of_mark(sections, *m)
        } else {
            None
        };
        if let Some(c) = sgr {
            out.extend_from_slice(c);
        }
        out.s(m.encode_utf8(&mut c)).s(" = ").s(short);
        if sgr.is_some() {
            out.extend_from_slice(super::color::RESET);
        }
    }
    out.s("\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dissect::Span;

    /// The fixed-position writer for full lines writes what the general loop writes, for
    /// frames past 0x10000 bytes, partial last lines, blank and non-ASCII marks.
    #[test]
    fn full_lines_match_the_general_loop() {
        let mut x: u64 = 0x5eed_1234;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for case in 0..400 {
            let len = if case % 50 == 0 {
                70_000
            } else {
                next(700) as usize
            };
            let bytes: Vec<u8> = (0..len).map(|_| next(256) as u8).collect();
            let mut sections = Vec::new();
            let mut at = next(20) as usize;
            for mark in ['E', 'I', 'T', 'P', '-', '·'] {
                let n = next(200) as usize;
                sections.push(Section {
                    title: "Layer (of something)".into(),
                    mark,
                    span: Span { offset: at, len: n },
                    fields: Vec::new(),
                    model: None,
                    hue: crate::proto::Hue::Green,
                    quoted: false,
                    in_datagram: next(8) == 0,
                });
                at += n + next(3) as usize;
            }
            for (per_line, width) in [(16, 100), (8, 60), (16, 30)] {
                let (mut fast, mut slow) = (Vec::new(), Vec::new());
                dump(&mut fast, &bytes, &sections, per_line, width, true);
                dump(&mut slow, &bytes, &sections, per_line, width, false);
                assert!(fast == slow, "case {case}, {len} bytes, {per_line} a line");
            }
        }
    }
}
