//! What analysis knows about a packet, as rows of a table under its layer tables: for a
//! TCP segment its connection (stream, stage and why, the relative numbers and the
//! arithmetic that links them to the initial sequence numbers, the next sequence number,
//! each side's state, the scaled window); for any other packet what it means, and for a
//! reply the request it answers. Every sentence the summary line says about a packet is
//! in these rows or in the notes.

use super::summary;
use crate::analysis::write_endpoint;
use crate::context::{PeerState, TcpConv};
use crate::dissect::Dissection;
use crate::proto::tcp::{Tcp, TcpFlags};
use crate::proto::{FieldText, ToFieldText};
use crate::text::Text;

/// The header of the table.
pub const HEADER: [&str; 3] = ["fact", "value", "meaning"];

/// A table of facts: its title and rows of (fact, value, meaning).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Story {
    /// The table's heading.
    pub title: String,
    /// One row per fact. Field texts, so that constants and short values cost no
    /// allocation (the story's rows were a third of the table format's allocations).
    pub rows: Vec<[FieldText; 3]>,
}

impl Story {
    fn row(
        &mut self,
        fact: &'static str,
        value: impl Into<FieldText>,
        meaning: impl Into<FieldText>,
    ) {
        self.rows.push([fact.into(), value.into(), meaning.into()]);
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
    let text = FieldText::build_bytes(|v| summary::write_explanation(v, d));
    if !text.is_empty() {
        s.row("what it is", d.top_protocol(), text);
    }
    if let Some(a) = d.ctx.answer {
        s.row(
            "answers",
            FieldText::build(|v| {
                v.s("frame ").u(a.answers);
            }),
            "the request this reply answers",
        );
        s.row(
            "latency",
            FieldText::format(format_args!("{} ms", a.latency_ms)),
            "from the request to this reply, in capture time",
        );
    }
    (!s.rows.is_empty()).then_some(s)
}

/// The story of a TCP segment. Its texts are appended with the `Text` appenders by
/// `FieldText::build` rather than formatted (a dozen `format!`s a segment were 8% of the
/// table format's instructions, with their allocations).
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
        title: String::from(FieldText::build(|v| {
            v.s("TCP connection — stream ").u(c.stream).s(": ");
            write_endpoint(v, c.client);
            v.s(" (client) ↔ ");
            write_endpoint(v, c.server);
            v.s(" (server)");
        })),
        rows: Vec::with_capacity(9),
    };
    s.row(
        "stream",
        c.stream.ftext(),
        FieldText::build(|v| {
            v.s("connection ")
                .u(c.stream)
                .s(" of the capture, from 0 (tshark's tcp.stream); this segment goes ")
                .s(me)
                .s(" ");
            write_endpoint(v, from);
            v.s(" → ").s(peer).s(" ");
            write_endpoint(v, to);
        }),
    );
    s.row(
        "stage",
        FieldText::build_bytes(|b| c.stage.write_to(b)),
        c.explain(t),
    );
    let rel_seq = u64::from(c.rel_seq);
    s.row(
        "relative seq",
        rel_seq.ftext(),
        FieldText::build(|v| {
            v.s("seq ").u(t.seq.into());
            match c.isn {
                Some(isn) => {
                    v.s(" = ").s(me).s(" ISN ").u(isn.into()).s(" + ").u(rel_seq);
                    v.s(" (relative ").u(rel_seq).s(")");
                }
                None => {
                    v.s(" = ").u(t.seq.wrapping_sub(c.rel_seq).into()).s(" + ").u(rel_seq);
                    v.s(": the ").s(me).s(
                        "'s SYN was not captured, so numbers count from its first segment seen (relative 1), as Wireshark does",
                    );
                }
            }
        }),
    );
    match c.rel_ack {
        Some(rel) => {
            let rel64 = u64::from(rel);
            s.row(
                "relative ack",
                rel64.ftext(),
                FieldText::build(|v| {
                    v.s("ack ").u(t.ack.into());
                    match c.peer_isn {
                        Some(isn) => {
                            v.s(" = ").s(peer).s(" ISN ").u(isn.into()).s(" + ").u(rel64);
                            v.s(" (relative ").u(rel64).s("): the ").s(me);
                            v.s(" has received every byte the ").s(peer);
                            v.s(" sent before this number");
                        }
                        None => {
                            v.s(" = ").u(t.ack.wrapping_sub(rel).into()).s(" + ").u(rel64);
                            v.s(": the ").s(peer);
                            v.s("'s SYN was not captured, so numbers count from its first segment seen");
                        }
                    }
                }),
            );
        }
        None => s.row(
            "relative ack",
            "",
            "none: the ACK flag is not set, so the acknowledgment field means nothing",
        ),
    }
    let f = t.flags;
    let next = u64::from(c.next_rel_seq);
    s.row(
        "next seq",
        next.ftext(),
        FieldText::build(|v| {
            v.s("seq ").u(rel_seq);
            let mut parts = 1;
            if t.payload_len > 0 {
                v.s(" + ").u(t.payload_len.into()).s(" bytes of data");
                parts += 1;
            }
            if f.has(TcpFlags::SYN) {
                v.s(" + 1 for the SYN");
                parts += 1;
            }
            if f.has(TcpFlags::FIN) {
                v.s(" + 1 for the FIN");
                parts += 1;
            }
            if parts == 1 {
                v.s(" (this segment takes no sequence numbers): the next the ")
                    .s(peer)
                    .s(" expects from the ")
                    .s(me);
            } else {
                v.s(" = ")
                    .u(next)
                    .s(": the next sequence number the ")
                    .s(peer);
                v.s(" expects from the ").s(me);
            }
        }),
    );
    for (i, fact) in ["client state", "server state"].iter().enumerate() {
        let st = c.sides.get(i).copied().unwrap_or_default();
        s.row(fact, st.name(), state_meaning(st));
    }
    let window = u64::from(t.window);
    s.row(
        "window",
        FieldText::build(|v| match c.window_shift {
            Some(k) if k > 0 => {
                v.u(window << k).s(" bytes");
            }
            Some(_) => {
                v.u(window).s(" bytes");
            }
            None => {
                v.u(window).s(" × ? bytes");
            }
        }),
        FieldText::build(|v| {
            v.u(window);
            match c.window_shift {
                _ if f.has(TcpFlags::SYN) => {
                    v.s(" bytes: a SYN's window is never scaled (RFC 7323); the ").s(me);
                    v.s(" may receive this much");
                }
                Some(0) => {
                    v.s(" bytes as sent: the two SYNs did not both offer window scaling, so none applies");
                }
                Some(k) => {
                    v.s(" × 2^").u(k.into()).s(" = ").u(window << k);
                    v.s(" bytes: the window scale the ").s(me);
                    v.s("'s SYN offered applies, as both SYNs offered one (RFC 7323)");
                }
                None => {
                    v.s(" as sent, times a scale the SYNs agreed on; they were not captured, so the bytes are unknown");
                }
            }
        }),
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
