//! A hex dump of the whole frame, 16 bytes a line, with a second line under each that
//! marks every byte with the layer it belongs to (E Ethernet, Q VLAN, A ARP, I IPv4,
//! T TCP, U UDP, C ICMP, i/t/u quoted headers, P data, O undecoded, - padding).

use super::Section;
use crate::text::Text;

/// Bytes per line.
const WIDTH: usize = 16;

/// Lower-case hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the dump of `bytes` to `out`, marking each byte by the section that covers it.
pub fn write(out: &mut Vec<u8>, bytes: &[u8], sections: &[Section]) {
    let mut marks = vec![' '; bytes.len()];
    for s in sections.iter().filter(|s| !s.in_datagram) {
        let end = s.span.offset.saturating_add(s.span.len).min(bytes.len());
        if let Some(m) = marks.get_mut(s.span.offset.min(end)..end) {
            m.fill(s.mark);
        }
    }
    let mut mark_line = String::with_capacity(6 + WIDTH * 3);
    for (line, chunk) in bytes.chunks(WIDTH).enumerate() {
        let base = line * WIDTH;
        // {base:04x}: at least four hex digits.
        let digits = (usize::BITS - base.leading_zeros()).div_ceil(4).max(4);
        for i in (0..digits).rev() {
            out.push(HEX[(base >> (4 * i)) & 0x0f]);
        }
        out.s("  ");
        for (i, b) in chunk.iter().enumerate() {
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0x0f)]);
            out.s(if i == 7 { "  " } else { " " });
        }
        for i in chunk.len()..WIDTH {
            out.s(if i == 7 { "    " } else { "   " });
        }
        out.push(b' ');
        for &b in chunk {
            out.push(if b.is_ascii_graphic() || b == b' ' {
                b
            } else {
                b'.'
            });
        }
        // The marks line, without trailing blanks.
        mark_line.clear();
        mark_line.push_str("      ");
        for (i, m) in marks.iter().skip(base).take(chunk.len()).enumerate() {
            mark_line.push(*m);
            mark_line.push_str(if i == 7 { "   " } else { "  " });
        }
        out.s(mark_line.trim_end()).s("\n");
    }
    let mut legend: Vec<(char, &str)> = Vec::new();
    for s in sections.iter().filter(|s| !s.in_datagram) {
        if !legend.iter().any(|(m, _)| *m == s.mark) {
            legend.push((s.mark, &s.title));
        }
    }
    out.s("      ");
    for (i, (m, t)) in legend.iter().enumerate() {
        let short = t.split(" (").next().unwrap_or(t);
        let mut c = [0u8; 4];
        out.s(if i > 0 { ", " } else { "" })
            .s(m.encode_utf8(&mut c))
            .s(" = ")
            .s(short);
    }
    out.s("\n");
}
