//! What analysis learns about a packet, kept beside its layers: the TCP conversation
//! and stage, the reassembled datagram, the request a reply answers. The wire structs of
//! [`crate::proto`] hold only what is on the wire; [`crate::analysis`] fills a
//! [`PacketContext`] per packet and the renderers read it.
//!
//! This module holds data only, so that the dissector can carry a context without
//! depending on the analysis that fills it.

use std::fmt;
use std::net::IpAddr;

use serde::{Serialize, Serializer};

use crate::text::Text;

/// Everything analysis adds to one packet. Empty until [`crate::analysis`] runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PacketContext {
    /// The TCP segment's conversation: stream, stage, relative numbers, state.
    pub tcp: Option<TcpConv>,
    /// On the frame that completes a fragmented datagram: which frames it came from.
    pub reassembled: Option<Reassembled>,
    /// The datagram that frame completed; the transport layer was then decoded from it,
    /// and its offsets count from its first byte.
    pub datagram: Option<Box<Datagram>>,
    /// For a reply (ARP, ICMP or ICMPv6 echo, neighbour advertisement): the request it
    /// answers.
    pub answer: Option<Answer>,
}

impl PacketContext {
    /// Forgets everything, keeping no memory of the last packet.
    pub fn clear(&mut self) {
        *self = PacketContext::default();
    }
}

/// A reply paired with its request: an ARP reply, an echo reply, a neighbour
/// advertisement.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Answer {
    /// Frame number of the request the reply answers.
    pub answers: u64,
    /// Milliseconds from the request to the reply (to the microsecond).
    pub latency_ms: f64,
}

/// The step of a connection's life a segment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Handshake step k of 3: SYN, SYN-ACK, the client's ACK.
    Handshake(u8),
    /// Teardown steps `first` to `last` of 4: (1) the first FIN, (2) its
    /// acknowledgement, (3) the other side's FIN, (4) its acknowledgement. A segment that
    /// does two steps at once (an ACK of the first FIN carrying the second FIN) is
    /// `Teardown(2, 3)`; in a simultaneous close both FINs come first, so the steps
    /// cross the wire as 1, 3, then 2 and 4.
    Teardown(u8, u8),
    /// A segment carrying new data.
    Data,
    /// A pure acknowledgement.
    Ack,
    /// A reset.
    Reset,
    /// A keep-alive probe.
    KeepAlive,
    /// Bytes sent again.
    Retransmission,
    /// Bytes that arrive after later ones, filling a gap.
    OutOfOrder,
    /// The receiver advertises a zero window.
    ZeroWindow,
    /// The first segment seen of a connection whose handshake was not captured.
    MidStream,
}

impl fmt::Display for Stage {
    /// The text of [`Stage::write_to`], the one place the stage words are written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = Vec::with_capacity(16);
        self.write_to(&mut text);
        // Only `&str`s and digits were appended.
        f.write_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

impl Stage {
    /// Appends the stage's words (`handshake 1/3`, `data`…) to `out`; `Display` writes
    /// the same.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match *self {
            Stage::Handshake(k) => {
                out.s("handshake ").u(k.into()).s("/3");
            }
            Stage::Teardown(first, last) => {
                out.s("teardown ").u(first.into());
                if last != first {
                    out.s("+").u(last.into());
                }
                out.s("/4");
            }
            Stage::Data => {
                out.s("data");
            }
            Stage::Ack => {
                out.s("ack");
            }
            Stage::Reset => {
                out.s("reset");
            }
            Stage::KeepAlive => {
                out.s("keep-alive");
            }
            Stage::Retransmission => {
                out.s("retransmission");
            }
            Stage::OutOfOrder => {
                out.s("out-of-order");
            }
            Stage::ZeroWindow => {
                out.s("zero window");
            }
            Stage::MidStream => {
                out.s("mid-stream");
            }
        }
    }
}

impl Serialize for Stage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A connection's state as seen from the wire (RFC 9293 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    /// The client sent a SYN.
    SynSent,
    /// The server answered with SYN-ACK.
    SynReceived,
    /// The handshake completed (or the capture began mid-stream).
    Established,
    /// One side sent a FIN that is not yet acknowledged.
    FinWait,
    /// One side's FIN was acknowledged; the other side may still send.
    CloseWait,
    /// Both sides sent a FIN before the first was acknowledged (a simultaneous close).
    Closing,
    /// The second FIN was sent after the first was acknowledged; its acknowledgement
    /// is awaited.
    LastAck,
    /// Both FINs were acknowledged: the side that closed first waits 2×MSL.
    TimeWait,
    /// Reset.
    Closed,
}

impl State {
    /// The state's RFC 9293 name, as its `Display` writes it (`TIME_WAIT`).
    pub fn name(self) -> &'static str {
        match self {
            State::SynSent => "SYN_SENT",
            State::SynReceived => "SYN_RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait => "FIN_WAIT",
            State::CloseWait => "CLOSE_WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST_ACK",
            State::TimeWait => "TIME_WAIT",
            State::Closed => "CLOSED",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the tracker adds to a TCP segment (serialised inside the JSON `tcp` object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TcpConv {
    /// The segment's step: `handshake 1/3`, `data`, `teardown 2/4`…
    pub stage: Stage,
    /// Connection number, from 0, in order of first appearance.
    pub stream: u64,
    /// Sequence number relative to the sender's initial sequence number.
    pub rel_seq: u32,
    /// Acknowledgement number relative to the peer's initial sequence number (null when
    /// the ACK flag is not set).
    pub rel_ack: Option<u32>,
    /// True when the client sent this segment.
    #[serde(skip)]
    pub from_client: bool,
    /// The connection's state after this segment.
    #[serde(skip)]
    pub state: State,
    /// The sender's initial sequence number, when its SYN was seen.
    #[serde(skip)]
    pub isn: Option<u32>,
    /// The peer's initial sequence number, when its SYN was seen.
    #[serde(skip)]
    pub peer_isn: Option<u32>,
    /// The client (the side that sent the SYN, or the first segment seen).
    #[serde(skip)]
    pub client: (IpAddr, u16),
    /// The server.
    #[serde(skip)]
    pub server: (IpAddr, u16),
    /// Each side's state after this segment, client first (RFC 9293 section 3.3.2),
    /// as if the segment arrived the moment it was captured.
    #[serde(skip)]
    pub sides: [PeerState; 2],
    /// The relative sequence number the peer should expect next from the sender: this
    /// segment's, plus its data, plus one for a SYN and one for a FIN.
    #[serde(skip)]
    pub next_rel_seq: u32,
    /// How far left this segment's window is shifted (RFC 7323): `Some(0)` for a SYN
    /// (never scaled) or when the two SYNs did not both offer scaling, `Some(k)` when
    /// they did, `None` when the SYNs were not captured.
    #[serde(skip)]
    pub window_shift: Option<u8>,
}

/// One side's state in RFC 9293's state machine (section 3.3.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PeerState {
    /// Waiting for a connection request (a server before the SYN).
    Listen,
    /// Sent a SYN, waiting for the SYN-ACK.
    SynSent,
    /// Received a SYN and answered with a SYN-ACK, waiting for its ACK.
    SynReceived,
    /// The handshake is done: data flows both ways.
    Established,
    /// Sent its FIN, waiting for the ACK.
    FinWait1,
    /// Its FIN was acknowledged; waiting for the other side's FIN.
    FinWait2,
    /// Received the other side's FIN; may still send data until it closes too.
    CloseWait,
    /// Both sides sent a FIN before either was acknowledged (simultaneous close).
    Closing,
    /// Sent its FIN after receiving the other's, waiting for the last ACK.
    LastAck,
    /// Both FINs are acknowledged; waits twice the maximum segment lifetime so that a
    /// lost last ACK can be sent again.
    TimeWait,
    /// No connection (before it, or after a reset or the last ACK).
    #[default]
    Closed,
}

impl PeerState {
    /// RFC 9293's name: `SYN-SENT`, `FIN-WAIT-1`…
    pub fn name(self) -> &'static str {
        match self {
            PeerState::Listen => "LISTEN",
            PeerState::SynSent => "SYN-SENT",
            PeerState::SynReceived => "SYN-RECEIVED",
            PeerState::Established => "ESTABLISHED",
            PeerState::FinWait1 => "FIN-WAIT-1",
            PeerState::FinWait2 => "FIN-WAIT-2",
            PeerState::CloseWait => "CLOSE-WAIT",
            PeerState::Closing => "CLOSING",
            PeerState::LastAck => "LAST-ACK",
            PeerState::TimeWait => "TIME-WAIT",
            PeerState::Closed => "CLOSED",
        }
    }
}

/// What `ipv4.reassembled` says on the frame that completes a datagram.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reassembled {
    /// Frame numbers of the fragments, in offset order.
    pub fragments: Vec<u64>,
    /// Length of the datagram's payload, in bytes.
    pub length: usize,
}

/// A datagram put back together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Which frames it came from.
    pub info: Reassembled,
    /// The whole payload (the transport header and data).
    pub payload: Vec<u8>,
    /// Each fragment: frame, first byte, length in bytes, MF — for the fragment table.
    pub pieces: Vec<Piece>,
}

/// One fragment of a datagram, for the fragment table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Frame number.
    pub frame: u64,
    /// Offset of its first payload byte in the datagram, in bytes.
    pub offset: usize,
    /// Payload bytes it carries.
    pub len: usize,
    /// More Fragments flag.
    pub mf: bool,
}
