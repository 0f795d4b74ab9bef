//! A hex dump of the whole frame, 16 bytes a line, with a second line under each that
//! marks every byte with the layer it belongs to (E Ethernet, Q VLAN, A ARP, I IPv4,
//! T TCP, U UDP, C ICMP, i/t/u quoted headers, P data, O undecoded, - padding).

use std::io::{self, Write};

use super::Section;

/// Bytes per line.
const WIDTH: usize = 16;

/// Writes the dump of `bytes`, marking each byte by the section that covers it.
pub fn write(out: &mut dyn Write, bytes: &[u8], sections: &[Section]) -> io::Result<()> {
    let mut marks = vec![' '; bytes.len()];
    for s in sections.iter().filter(|s| !s.in_datagram) {
        let end = s.span.offset.saturating_add(s.span.len).min(bytes.len());
        if let Some(m) = marks.get_mut(s.span.offset.min(end)..end) {
            m.fill(s.mark);
        }
    }
    for (line, chunk) in bytes.chunks(WIDTH).enumerate() {
        let base = line * WIDTH;
        write!(out, "{base:04x}  ")?;
        for (i, b) in chunk.iter().enumerate() {
            write!(out, "{b:02x}{}", if i == 7 { "  " } else { " " })?;
        }
        for i in chunk.len()..WIDTH {
            out.write_all(if i == 7 { b"    " } else { b"   " })?;
        }
        out.write_all(b" ")?;
        for &b in chunk {
            let c = if b.is_ascii_graphic() || b == b' ' {
                b
            } else {
                b'.'
            };
            out.write_all(&[c])?;
        }
        out.write_all(b"\n")?;
        // The marks line, without trailing blanks.
        let mut line = String::with_capacity(6 + WIDTH * 3);
        line.push_str("      ");
        for (i, m) in marks.iter().skip(base).take(chunk.len()).enumerate() {
            line.push(*m);
            line.push_str(if i == 7 { "   " } else { "  " });
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    let mut legend: Vec<(char, &str)> = Vec::new();
    for s in sections.iter().filter(|s| !s.in_datagram) {
        if !legend.iter().any(|(m, _)| *m == s.mark) {
            legend.push((s.mark, &s.title));
        }
    }
    out.write_all(b"      ")?;
    for (i, (m, t)) in legend.iter().enumerate() {
        let short = t.split(" (").next().unwrap_or(t);
        write!(out, "{}{m} = {short}", if i > 0 { ", " } else { "" })?;
    }
    out.write_all(b"\n")
}
