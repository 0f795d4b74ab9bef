//! What analysis knows about a packet, as rows of a table under its layer tables: for a
//! TCP segment its connection (stream, stage and why, the relative numbers and the
//! arithmetic that links them to the initial sequence numbers, the next sequence number,
//! each side's state, the scaled window); for any other packet what it means, and for a
//! reply the request it answers. Every sentence the summary line says about a packet is
//! in these rows or in the notes.

use super::summary;
use crate::analysis::endpoint_text;
use crate::context::{PeerState, TcpConv};
use crate::dissect::Dissection;
use crate::proto::tcp::{Tcp, TcpFlags};

/// The header of the table.
pub const HEADER: [&str; 3] = ["fact", "value", "meaning"];

/// A table of facts: its title and rows of (fact, value, meaning).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Story {
    /// The table's heading.
    pub title: String,
    /// One row per fact.
    pub rows: Vec<[String; 3]>,
}

impl Story {
    fn row(&mut self, fact: &str, value: impl Into<String>, meaning: impl Into<String>) {
        self.rows
            .push([fact.to_owned(), value.into(), meaning.into()]);
    }
}

/// The facts analysis adds to `d`; `None` when there is nothing to say beyond the
/// layer tables.
pub fn story(d: &Dissection) -> Option<Story> {
    if let (Some(t), Some(c)) = (&d.tcp, &d.ctx.tcp) {
        return Some(tcp_story(t, c));
    }
    let mut s = Story {
        title: "What it means".into(),
        rows: Vec::new(),
    };
    // What the summary line says of it (with the request a reply answers).
    let mut text = Vec::with_capacity(128);
    summary::write_explanation(&mut text, d);
    let text = String::from_utf8_lossy(&text).into_owned();
    if !text.is_empty() {
        s.row("what it is", d.top_protocol(), text);
    }
    if let Some(a) = d.ctx.answer {
        s.row(
            "answers",
            format!("frame {}", a.answers),
            "the request this reply answers",
        );
        s.row(
            "latency",
            format!("{} ms", a.latency_ms),
            "from the request to this reply, in capture time",
        );
    }
    (!s.rows.is_empty()).then_some(s)
}

fn tcp_story(t: &Tcp, c: &TcpConv) -> Story {
    let (me, peer) = if c.from_client {
        ("client", "server")
    } else {
        ("server", "client")
    };
    let (from, to) = if c.from_client {
        (c.client, c.server)
    } else {
        (c.server, c.client)
    };
    let mut s = Story {
        title: format!(
            "TCP connection — stream {}: {} (client) ↔ {} (server)",
            c.stream,
            endpoint_text(c.client),
            endpoint_text(c.server)
        ),
        rows: Vec::new(),
    };
    s.row(
        "stream",
        c.stream.to_string(),
        format!(
            "connection {} of the capture, from 0 (tshark's tcp.stream); this segment goes {} {} → {} {}",
            c.stream,
            me,
            endpoint_text(from),
            peer,
            endpoint_text(to)
        ),
    );
    s.row("stage", c.stage.to_string(), c.explain(t));
    s.row(
        "relative seq",
        c.rel_seq.to_string(),
        match c.isn {
            Some(isn) => format!(
                "seq {} = {me} ISN {isn} + {} (relative {})",
                t.seq, c.rel_seq, c.rel_seq
            ),
            None => format!(
                "seq {} = {} + {}: the {me}'s SYN was not captured, so numbers count from its first segment seen (relative 1), as Wireshark does",
                t.seq,
                t.seq.wrapping_sub(c.rel_seq),
                c.rel_seq
            ),
        },
    );
    match c.rel_ack {
        Some(rel) => s.row(
            "relative ack",
            rel.to_string(),
            match c.peer_isn {
                Some(isn) => format!(
                    "ack {} = {peer} ISN {isn} + {rel} (relative {rel}): the {me} has received every byte the {peer} sent before this number",
                    t.ack
                ),
                None => format!(
                    "ack {} = {} + {rel}: the {peer}'s SYN was not captured, so numbers count from its first segment seen",
                    t.ack,
                    t.ack.wrapping_sub(rel)
                ),
            },
        ),
        None => s.row(
            "relative ack",
            "",
            "none: the ACK flag is not set, so the acknowledgment field means nothing",
        ),
    }
    let f = t.flags;
    let mut parts = vec![format!("seq {}", c.rel_seq)];
    if t.payload_len > 0 {
        parts.push(format!("{} bytes of data", t.payload_len));
    }
    if f.has(TcpFlags::SYN) {
        parts.push("1 for the SYN".into());
    }
    if f.has(TcpFlags::FIN) {
        parts.push("1 for the FIN".into());
    }
    s.row(
        "next seq",
        c.next_rel_seq.to_string(),
        if parts.len() == 1 {
            format!(
                "{} (this segment takes no sequence numbers): the next the {peer} expects from the {me}",
                parts.join(" + ")
            )
        } else {
            format!(
                "{} = {}: the next sequence number the {peer} expects from the {me}",
                parts.join(" + "),
                c.next_rel_seq
            )
        },
    );
    for (i, who) in ["client", "server"].iter().enumerate() {
        let st = c.sides.get(i).copied().unwrap_or_default();
        s.row(&format!("{who} state"), st.name(), state_meaning(st));
    }
    let window = u64::from(t.window);
    s.row(
        "window",
        match c.window_shift {
            Some(k) if k > 0 => format!("{} bytes", window << k),
            Some(_) => format!("{window} bytes"),
            None => format!("{window} × ? bytes"),
        },
        match c.window_shift {
            _ if f.has(TcpFlags::SYN) => format!(
                "{window} bytes: a SYN's window is never scaled (RFC 7323); the {me} may receive this much"
            ),
            Some(0) => format!(
                "{window} bytes as sent: the two SYNs did not both offer window scaling, so none applies"
            ),
            Some(k) => format!(
                "{window} × 2^{k} = {} bytes: the window scale the {me}'s SYN offered applies, as both SYNs offered one (RFC 7323)",
                window << k
            ),
            None => format!(
                "{window} as sent, times a scale the SYNs agreed on; they were not captured, so the bytes are unknown"
            ),
        },
    );
    s
}

/// What each RFC 9293 state means, in one phrase.
fn state_meaning(s: PeerState) -> &'static str {
    match s {
        PeerState::Listen => "waiting for a connection request",
        PeerState::SynSent => "sent a SYN, waiting for the SYN-ACK",
        PeerState::SynReceived => "received a SYN and sent a SYN-ACK, waiting for its ACK",
        PeerState::Established => "the handshake is done: data may flow both ways",
        PeerState::FinWait1 => "sent its FIN, waiting for it to be acknowledged",
        PeerState::FinWait2 => "its FIN is acknowledged; waiting for the other side's FIN",
        PeerState::CloseWait => {
            "received the other side's FIN; may still send data until it closes too"
        }
        PeerState::Closing => "both FINs crossed before either was acknowledged",
        PeerState::LastAck => "sent its FIN after the other's; waiting for the last ACK",
        PeerState::TimeWait => {
            "has the other side's FIN, and its own FIN is acknowledged; waits twice the maximum segment lifetime before forgetting the connection, in case its last ACK was lost"
        }
        PeerState::Closed => "no connection",
    }
}
