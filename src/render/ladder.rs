//! A TCP connection as a sequence diagram: client and server columns, one arrow per
//! segment with its flags, relative seq/ack and payload length, and the handshake and
//! teardown bracketed — the picture students draw on the board.

use std::io::{self, Write};

use crate::analysis::tcp::Stage;

/// One segment of the connection, as the ladder draws it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rung {
    /// Frame number.
    pub n: u64,
    /// True when the client sent it.
    pub from_client: bool,
    /// Flag names, e.g. "SYN, ACK".
    pub flags: String,
    /// Relative sequence number.
    pub rel_seq: u32,
    /// Relative acknowledgement number, when ACK is set.
    pub rel_ack: Option<u32>,
    /// Payload length, in bytes.
    pub len: u32,
    /// Its stage.
    pub stage: Stage,
}

/// The rung of a TCP segment the tracker has labelled, with its stream number.
pub fn rung(d: &crate::dissect::Dissection) -> Option<(u64, Rung)> {
    let t = d.tcp.as_ref()?;
    let c = d.ctx.tcp.as_ref()?;
    Some((
        c.stream,
        Rung {
            n: d.n,
            from_client: c.from_client,
            flags: t.flag_string(),
            rel_seq: c.rel_seq,
            rel_ack: c.rel_ack,
            len: t.payload_len,
            stage: c.stage,
        },
    ))
}

/// Width of the arrow between the two columns, in characters.
const ARROW: usize = 46;

/// Draws the ladder of one connection between `client` and `server`.
pub fn write(
    out: &mut dyn Write,
    client: &str,
    server: &str,
    rungs: &[Rung],
    more: u64,
) -> io::Result<()> {
    let left = format!("client {client}");
    writeln!(out, "{:>8}  {left:<w$}server {server}", "", w = ARROW + 2)?;
    writeln!(out, "{:>8}  │{}│", "", " ".repeat(ARROW))?;
    for (i, r) in rungs.iter().enumerate() {
        let phase = |s: Stage| match s {
            Stage::Handshake(_) => 1,
            Stage::Teardown(..) => 2,
            _ => 0,
        };
        let p = phase(r.stage);
        let prev = i
            .checked_sub(1)
            .and_then(|j| rungs.get(j))
            .map(|x| phase(x.stage));
        let next = rungs.get(i + 1).map(|x| phase(x.stage));
        let bracket = match (p, prev == Some(p), next == Some(p)) {
            (0, _, _) => ' ',
            (_, false, true) => '┌',
            (_, true, true) => '│',
            (_, true, false) => '└',
            (_, false, false) => '[',
        };
        let mut label = format!("{}  seq={}", r.flags, r.rel_seq);
        if let Some(a) = r.rel_ack {
            label.push_str(&format!(" ack={a}"));
        }
        if r.len > 0 {
            label.push_str(&format!(" len={}", r.len));
        }
        let label: String = label.chars().take(ARROW - 6).collect();
        let fill = ARROW.saturating_sub(label.chars().count() + 4);
        let arrow = if r.from_client {
            format!("── {label} {}▶", "─".repeat(fill))
        } else {
            format!("◀{} {label} ──", "─".repeat(fill))
        };
        writeln!(out, "{:>6} {bracket} │{arrow}│  {}", r.n, r.stage)?;
    }
    if more > 0 {
        writeln!(out, "{:>8}  │ … {more} more segments not drawn", "")?;
    }
    writeln!(out, "{:>8}  │{}│", "", " ".repeat(ARROW))
}
