//! TCP connection tracking: which step of a connection's life each segment is, told as
//! it arrives — the three-way handshake, data and acknowledgements, the four-way (or
//! three-segment) teardown, resets, retransmissions.
//!
//! Connections are keyed by their 4-tuple. The client is the side that sent the first
//! SYN (or the first segment's sender when the SYN was not captured). Memory is bounded:
//! connections idle for [`TrackerConfig::idle_timeout`] seconds of capture time, or
//! closed for [`TrackerConfig::closed_timeout`], are retired, and at most
//! [`TrackerConfig::max_flows`] are tracked at once; when that cap forces
//! connections out early, the packet that caused it says so (once per run).

use std::net::IpAddr;

use super::flowtable::{
    Endpoint, Flow, FlowKey, FlowTable, Retired, RetiredFlow, SharedSink, TrackerConfig,
};
use super::{ClosedBy, FlowSummary};
use crate::capture::Timestamp;
use crate::dissect::lean::Segment;
use crate::proto::tcp::{Tcp, TcpFlags};
use crate::text::Text;

pub use crate::context::{PeerState, Stage, State, TcpConv};

impl TcpConv {
    /// One sentence saying what this segment does in the conversation and why its
    /// numbers are what they are.
    pub fn explain(&self, tcp: &Tcp) -> String {
        let mut out = Vec::with_capacity(128);
        self.write_explain(tcp, &mut out);
        // Only `&str`s and digits were appended, so this is always valid UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the sentence of [`TcpConv::explain`] to `out`, without allocating: the
    /// summary line writes it straight into its buffer.
    pub fn write_explain(&self, tcp: &Tcp, out: &mut Vec<u8>) {
        let (me, peer) = if self.from_client {
            ("client", "server")
        } else {
            ("server", "client")
        };
        let n = tcp.payload_len;
        match self.stage {
            Stage::Handshake(1) => {
                out.s(me)
                    .s(" asks to open a connection; its initial sequence number is ")
                    .u(tcp.seq.into())
                    .s(" (relative 0)");
            }
            Stage::Handshake(2) => {
                out.s(me)
                    .s(" agrees: ack = ")
                    .s(peer)
                    .s(" ISN + 1 because a SYN consumes one sequence number; its own ISN is ")
                    .u(tcp.seq.into())
                    .s(" (relative 0)");
            }
            Stage::Handshake(_) => {
                out.s(me)
                    .s(" acknowledges the ")
                    .s(peer)
                    .s("'s SYN: connection ESTABLISHED");
            }
            Stage::Teardown(first, last) => self.explain_teardown(first, last, me, peer, out),
            Stage::Reset if self.state_was_refused(tcp) => {
                out.s("connection refused: RST answers the SYN (nothing listens on port ")
                    .u(tcp.src_port.into())
                    .s(")");
            }
            Stage::Reset => {
                out.s(me)
                    .s(" aborts the connection (RST): no goodbye, buffers are thrown away");
            }
            Stage::Data => {
                out.s(me)
                    .s(" sends ")
                    .u(n.into())
                    .s(" bytes (relative seq ")
                    .u(self.rel_seq.into())
                    .s(" to ")
                    .u(self.rel_seq.wrapping_add(n).into())
                    .s(")");
            }
            Stage::Ack => {
                out.s(me)
                    .s(" acknowledges every byte before relative ")
                    .u(self.rel_ack.unwrap_or(0).into());
            }
            Stage::Retransmission => {
                out.s(me)
                    .s(" sends bytes again (relative seq ")
                    .u(self.rel_seq.into())
                    .s("): the first copy or its acknowledgement was lost");
            }
            Stage::OutOfOrder => {
                out.s("these bytes (relative seq ")
                    .u(self.rel_seq.into())
                    .s(") arrive after later ones and fill the gap");
            }
            Stage::KeepAlive => {
                out.s("keep-alive: ")
                    .s(me)
                    .s(" resends one old byte to check that the ")
                    .s(peer)
                    .s(" is still there");
            }
            Stage::ZeroWindow => {
                out.s("window 0: ")
                    .s(me)
                    .s("'s receive buffer is full; the ")
                    .s(peer)
                    .s(" must wait before sending more");
            }
            Stage::MidStream => {
                out.s("the capture started after this connection's handshake; seq/ack are relative to the first segment seen");
            }
        }
    }

    fn explain_teardown(&self, first: u8, last: u8, me: &str, peer: &str, out: &mut Vec<u8>) {
        match (first, last) {
            (1, _) => {
                out.s(me)
                    .s(" has no more data to send (FIN); the ")
                    .s(peer)
                    .s(" must still acknowledge");
            }
            (2, 3) => {
                out.s(me)
                    .s(" acknowledges the FIN and sends its own FIN in one segment");
            }
            (3, _) if self.state == State::Closing => {
                out.s(me).s(
                    " sends its own FIN before acknowledging the first one: a simultaneous close",
                );
            }
            (3, _) => {
                out.s(me).s(" has no more data either (FIN)");
            }
            _ if self.state == State::TimeWait => {
                out.s(me).s(
                    " acknowledges the last FIN: the connection is closed (the side that closed first waits in TIME_WAIT)",
                );
            }
            (2, _) if self.state == State::CloseWait => {
                out.s(me).s(
                    " acknowledges the FIN (ack = the FIN's seq + 1); it may still send data: the connection is half-closed",
                );
            }
            _ => {
                out.s(me).s(" acknowledges the ").s(peer).s("'s FIN");
            }
        }
    }

    fn state_was_refused(&self, tcp: &Tcp) -> bool {
        // A RST+ACK from the server that acknowledges the SYN and nothing more.
        !self.from_client
            && tcp.flags.has(TcpFlags::ACK)
            && self
                .peer_isn
                .is_some_and(|isn| tcp.ack == isn.wrapping_add(1))
            && self.isn.is_none()
    }
}

/// Per-direction counters and sequence tracking.
#[derive(Clone, Debug, Default)]
struct Side {
    /// Base for relative sequence numbers (the ISN, or first seq − 1 mid-stream).
    base: Option<u32>,
    /// The ISN when the SYN was seen.
    isn: Option<u32>,
    /// One past the highest sequence number sent.
    next_seq: Option<u32>,
    /// Sequence number of this side's FIN.
    fin_seq: Option<u32>,
    /// Whether the peer acknowledged that FIN.
    fin_acked: bool,
    /// The window scale this side's SYN offered: `None` before its SYN was seen,
    /// `Some(None)` when the SYN had no window scale option.
    wscale: Option<Option<u8>>,
    /// A gap seen in this direction (start, end), filled by an out-of-order segment.
    hole: Option<(u32, u32)>,
    packets: u64,
    bytes: u64,
    payload_bytes: u64,
    /// History letters already recorded for this direction (bit per letter).
    letters: u16,
}

/// Zeek's history letters of a connection: six letters, each at most once per side, so
/// twelve at most, kept in place (a `String` was an allocation per connection, freed on
/// the thread that summarises it).
type History = arrayvec::ArrayString<12>;

/// A tracked connection.
#[derive(Clone, Debug)]
pub(super) struct Conn {
    stream: u64,
    client: Endpoint,
    server: Endpoint,
    state: State,
    first_ts: Timestamp,
    last_ts: Timestamp,
    sides: [Side; 2],
    syn_seen: bool,
    synack_seen: bool,
    handshake_done: bool,
    mid_stream: bool,
    first_fin_from: Option<usize>,
    closed_by: Option<ClosedBy>,
    rst_from: Option<usize>,
    history: History,
    /// Each side's RFC 9293 state, client first.
    peer_states: [PeerState; 2],
}

/// `a` is before `b` in sequence space (RFC 1982 serial arithmetic).
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// Tracks TCP connections across a capture.
#[derive(Debug)]
pub struct TcpTracker {
    conns: FlowTable<Conn>,
    next_stream: u64,
    retired: Retired,
}

impl Default for TcpTracker {
    fn default() -> Self {
        TcpTracker::new(TrackerConfig::default())
    }
}

impl Flow for Conn {
    fn last_seen(&self) -> Timestamp {
        self.last_ts
    }
    fn is_closed(&self) -> bool {
        matches!(self.state, State::TimeWait | State::Closed)
    }
}

impl TcpTracker {
    /// A tracker with the given limits.
    pub fn new(cfg: TrackerConfig) -> TcpTracker {
        TcpTracker {
            conns: FlowTable::new(cfg),
            next_stream: 0,
            retired: Retired::default(),
        }
    }

    /// Keep summaries of retired connections for [`TcpTracker::take_retired`] (for
    /// `wirelens flows`); off by default so that plain reading stays flat in memory.
    pub fn keep_retired(&mut self, keep: bool) {
        self.retired.keep(keep);
    }

    /// Send the summary of every connection retired from now on to `sink`.
    pub fn send_retired_to(&mut self, sink: SharedSink) {
        self.retired.send_to(sink);
    }

    /// Summaries of the connections retired since the last call.
    pub fn take_retired(&mut self) -> Vec<FlowSummary> {
        self.retired.take()
    }

    /// Retires every connection still open (at the end of a capture) and returns all
    /// summaries not yet taken, in stream order.
    pub fn finish(&mut self) -> Vec<FlowSummary> {
        let drained: Vec<Conn> = self.conns.drain().collect();
        for c in drained {
            self.retired.push(RetiredFlow::tcp(c));
        }
        let mut v = self.take_retired();
        v.sort_by_key(|s| s.stream);
        v
    }

    /// Number of connections tracked right now.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// True when no connection is tracked.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// Connections retired early because the table was full.
    pub fn evicted(&self) -> u64 {
        self.conns.evicted
    }

    fn retire(&mut self, key: &FlowKey) {
        if let Some(c) = self.conns.remove(key) {
            self.retired.push(RetiredFlow::tcp(c));
        }
    }

    /// Follows one segment: returns what it is in its connection, and a note when the
    /// tracker had to retire connections early to make room (said once per run).
    pub fn track(
        &mut self,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        tcp: &Tcp,
        frame_len: u32,
    ) -> (TcpConv, Option<String>) {
        self.track_segment(ts, src, dst, &Segment::of(tcp), frame_len)
    }

    /// [`TcpTracker::track`] for the tracker's part of a segment (`wirelens flows` reads
    /// only that part of most frames).
    pub fn track_segment(
        &mut self,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        tcp: &Segment,
        frame_len: u32,
    ) -> (TcpConv, Option<String>) {
        self.track_with(ts, src, dst, tcp, |conn, a| {
            let step = conn.advance(ts, a, tcp, frame_len);
            conn.conv(&step, tcp)
        })
    }

    /// [`TcpTracker::track_segment`] for a caller that wants only the connection's
    /// state kept (`wirelens flows`): the segment's description, a `TcpConv` of ~130
    /// bytes, is not made, and the note that a full table may bring (once a capture) is
    /// dropped. Building the description and moving it out through the flow table was a
    /// tenth of the instructions of `flows`' analysing thread (callgrind).
    pub fn track_quietly(
        &mut self,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        tcp: &Segment,
        frame_len: u32,
    ) {
        self.track_with(ts, src, dst, tcp, |conn, a| {
            conn.advance(ts, a, tcp, frame_len);
        });
    }

    /// Finds or makes the connection of `tcp` (retiring those timed out first) and
    /// calls `step` with it and the segment's source endpoint.
    #[inline(always)]
    fn track_with<R>(
        &mut self,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        tcp: &Segment,
        step: impl FnOnce(&mut Conn, Endpoint) -> R,
    ) -> (R, Option<String>) {
        let retired = &mut self.retired;
        let note = self
            .conns
            .maintain(ts, "TCP connections", |c| retired.push(RetiredFlow::tcp(c)));
        let a: Endpoint = (src, tcp.src_port);
        let b: Endpoint = (dst, tcp.dst_port);
        let key = FlowKey::new(a, b);
        let f = tcp.flags;
        let is_syn = f.has(TcpFlags::SYN) && !f.has(TcpFlags::ACK);
        // Only a SYN can start a new connection on a tuple in use, so only a SYN pays for
        // a second lookup (the first was a tenth of this function's instructions).
        let reuse = is_syn
            && self.conns.get(&key).is_some_and(|c| {
                let same_syn = c.client == a && c.sides[0].isn == Some(tcp.seq);
                !same_syn
                    && (matches!(c.state, State::TimeWait | State::Closed)
                        || c.sides[0].isn.is_some())
            });
        if reuse {
            self.retire(&key);
        }
        let next_stream = &mut self.next_stream;
        let make = || {
            let synack = f.has(TcpFlags::SYN | TcpFlags::ACK);
            let (client, server) = if synack { (b, a) } else { (a, b) };
            let stream = *next_stream;
            *next_stream += 1;
            Conn {
                stream,
                client,
                server,
                state: State::Established,
                first_ts: ts,
                last_ts: ts,
                sides: Default::default(),
                syn_seen: false,
                synack_seen: false,
                handshake_done: false,
                mid_stream: !f.has(TcpFlags::SYN),
                first_fin_from: None,
                closed_by: None,
                rst_from: None,
                history: History::new(),
                peer_states: [PeerState::Closed, PeerState::Listen],
            }
        };
        let r = self.conns.update(key, make, |conn| step(conn, a));
        (r, note)
    }
}

/// What [`Conn::advance`] found a segment to be, for [`Conn::conv`] to describe.
struct Step {
    stage: Stage,
    /// The sending side: 0 the client, 1 the server.
    dir: usize,
    /// The segment's length in sequence space (payload, SYN and FIN).
    seg_len: u32,
}

impl Conn {
    /// Takes the segment `tcp` from `from` into the connection's state: counters,
    /// sequence bases, the handshake and teardown, history and each side's RFC 9293
    /// state. Returns what [`Conn::conv`] needs to describe it.
    fn advance(&mut self, ts: Timestamp, from: Endpoint, tcp: &Segment, frame_len: u32) -> Step {
        let dir = usize::from(from != self.client);
        let peer = 1 - dir;
        let f = tcp.flags;
        let (syn, ack, fin, rst) = (
            f.has(TcpFlags::SYN),
            f.has(TcpFlags::ACK),
            f.has(TcpFlags::FIN),
            f.has(TcpFlags::RST),
        );
        let first_packet = self.sides[0].packets + self.sides[1].packets == 0;
        self.last_ts = ts;
        {
            let s = &mut self.sides[dir];
            s.packets += 1;
            s.bytes += u64::from(frame_len);
            s.payload_bytes += u64::from(tcp.payload_len);
        }
        if syn {
            self.sides[dir].isn = Some(tcp.seq);
            self.sides[dir].base = Some(tcp.seq);
            self.sides[dir].wscale = Some(tcp.wscale);
        } else if self.sides[dir].base.is_none() {
            self.sides[dir].base = Some(tcp.seq.wrapping_sub(1));
        }
        if ack && self.sides[peer].base.is_none() {
            self.sides[peer].base = Some(tcp.ack.wrapping_sub(1));
        }
        let seg_len = tcp
            .payload_len
            .wrapping_add(u32::from(syn))
            .wrapping_add(u32::from(fin));
        let seq_end = tcp.seq.wrapping_add(seg_len);
        let prev_next = self.sides[dir].next_seq;
        // Does this segment acknowledge the peer's FIN for the first time?
        let acks_peer_fin = ack
            && !self.sides[peer].fin_acked
            && self.sides[peer]
                .fin_seq
                .is_some_and(|fs| !seq_lt(tcp.ack, fs.wrapping_add(1)));

        let stage = if rst {
            self.state = State::Closed;
            self.closed_by = Some(ClosedBy::Rst);
            self.rst_from.get_or_insert(dir);
            Stage::Reset
        } else if syn && !ack {
            self.syn_seen = true;
            self.state = State::SynSent;
            Stage::Handshake(1)
        } else if syn && ack {
            let again = self.synack_seen;
            self.synack_seen = true;
            if self.state == State::SynSent {
                self.state = State::SynReceived;
            }
            if again {
                Stage::Retransmission
            } else {
                Stage::Handshake(2)
            }
        } else if !self.handshake_done
            && self.synack_seen
            && dir == 0
            && ack
            && self.sides[1]
                .isn
                .is_some_and(|i| tcp.ack == i.wrapping_add(1))
        {
            self.handshake_done = true;
            self.state = State::Established;
            Stage::Handshake(3)
        } else if seg_len > 0 && prev_next.is_some_and(|n| seq_lt(tcp.seq, n)) {
            let hole = self.sides[dir].hole;
            match hole {
                Some((hs, he)) if !seq_lt(tcp.seq, hs) && !seq_lt(he, seq_end) => {
                    self.sides[dir].hole = None;
                    Stage::OutOfOrder
                }
                _ => {
                    let keepalive = tcp.payload_len <= 1
                        && !fin
                        && prev_next.is_some_and(|n| tcp.seq == n.wrapping_sub(1));
                    if keepalive {
                        Stage::KeepAlive
                    } else {
                        Stage::Retransmission
                    }
                }
            }
        } else if fin && self.sides[dir].fin_seq.is_some() {
            Stage::Retransmission
        } else if fin || (acks_peer_fin && tcp.payload_len == 0) {
            // Steps keep their numbers whichever order they cross the wire in: 1 the
            // first FIN, 2 its ACK, 3 the other FIN, 4 its ACK (see `Stage::Teardown`).
            let closer = *self.first_fin_from.get_or_insert(dir);
            // At most two steps (an ACK of one FIN and the other FIN), kept without
            // allocating: every FIN of a capture comes here.
            let mut steps = [None; 2];
            if acks_peer_fin {
                steps[0] = Some(if peer == closer { 2 } else { 4 });
            }
            if fin {
                self.sides[dir].fin_seq = Some(tcp.seq.wrapping_add(tcp.payload_len));
                steps[1] = Some(if dir == closer { 1 } else { 3 });
            }
            let first_fin_acked = self.sides[closer].fin_acked || (acks_peer_fin && peer == closer);
            self.state = match (self.sides[dir].fin_seq, self.sides[peer].fin_seq) {
                // RFC 9293: the second FIN after the first was acknowledged leaves its
                // sender in LAST_ACK; both FINs unacknowledged is a simultaneous close.
                (Some(_), Some(_)) if first_fin_acked => State::LastAck,
                (Some(_), Some(_)) => State::Closing,
                (None, Some(_)) => State::CloseWait,
                _ => State::FinWait,
            };
            let first = steps.iter().flatten().copied().min().unwrap_or(1);
            let last = steps.iter().flatten().copied().max().unwrap_or(first);
            Stage::Teardown(first, last)
        } else if tcp.window == 0 {
            Stage::ZeroWindow
        } else if first_packet && self.mid_stream {
            Stage::MidStream
        } else if tcp.payload_len > 0 {
            Stage::Data
        } else {
            Stage::Ack
        };

        if acks_peer_fin {
            self.sides[peer].fin_acked = true;
            if self
                .sides
                .iter()
                .all(|s| s.fin_seq.is_some() && s.fin_acked)
            {
                self.state = State::TimeWait;
                self.closed_by.get_or_insert(ClosedBy::Fin);
            }
        }
        // Track the highest sequence number sent, and a gap before this segment.
        let s = &mut self.sides[dir];
        match s.next_seq {
            Some(n) if seq_lt(n, tcp.seq) && tcp.payload_len > 0 => {
                s.hole = Some((n, tcp.seq));
                s.next_seq = Some(seq_end);
            }
            Some(n) if seq_lt(n, seq_end) => s.next_seq = Some(seq_end),
            None => s.next_seq = Some(seq_end),
            _ => {}
        }
        self.record_history(dir, tcp, stage);
        self.advance_peer_states(dir, tcp, stage, acks_peer_fin, first_packet);
        Step {
            stage,
            dir,
            seg_len,
        }
    }

    /// Describes the segment `tcp` that [`Conn::advance`] just took in as `step`.
    fn conv(&self, step: &Step, tcp: &Segment) -> TcpConv {
        let Step {
            stage,
            dir,
            seg_len,
        } = *step;
        let peer = 1 - dir;
        let f = tcp.flags;
        let (syn, ack) = (f.has(TcpFlags::SYN), f.has(TcpFlags::ACK));
        let rel = |v: u32, base: Option<u32>| v.wrapping_sub(base.unwrap_or(v));
        let rel_seq = rel(tcp.seq, self.sides[dir].base);
        let window_shift = if syn {
            Some(0)
        } else {
            match (self.sides[dir].wscale, self.sides[peer].wscale) {
                // RFC 7323 section 2.2: scaling applies only when both SYNs offered it.
                (Some(Some(mine)), Some(Some(_))) => Some(mine.min(14)),
                (Some(_), Some(_)) => Some(0),
                _ => None,
            }
        };
        TcpConv {
            stage,
            stream: self.stream,
            rel_seq,
            rel_ack: ack.then(|| rel(tcp.ack, self.sides[peer].base)),
            from_client: dir == 0,
            state: self.state,
            isn: self.sides[dir].isn,
            peer_isn: self.sides[peer].isn,
            client: self.client,
            server: self.server,
            sides: self.peer_states,
            next_rel_seq: rel_seq.wrapping_add(seg_len),
            window_shift,
        }
    }

    /// Moves each side through RFC 9293's states as if the segment from side `dir`
    /// arrived the moment it was captured. A FIN that does not acknowledge the other
    /// side's FIN shows that its sender had not received it: a simultaneous close.
    fn advance_peer_states(
        &mut self,
        dir: usize,
        tcp: &Segment,
        stage: Stage,
        acks_peer_fin: bool,
        first_packet: bool,
    ) {
        use PeerState as P;
        let peer = 1 - dir;
        let f = tcp.flags;
        let st = &mut self.peer_states;
        if f.has(TcpFlags::RST) {
            *st = [P::Closed; 2];
            return;
        }
        if f.has(TcpFlags::SYN) {
            if f.has(TcpFlags::ACK) {
                st[dir] = P::SynReceived;
                st[peer] = P::Established;
            } else {
                st[dir] = P::SynSent;
                st[peer] = P::SynReceived;
            }
            return;
        }
        if first_packet && self.mid_stream {
            *st = [P::Established; 2];
        }
        if f.has(TcpFlags::ACK) && st[peer] == P::SynReceived {
            st[peer] = P::Established;
        }
        if acks_peer_fin {
            st[peer] = match st[peer] {
                P::FinWait1 => P::FinWait2,
                P::Closing => P::TimeWait,
                P::LastAck => P::Closed,
                other => other,
            };
        }
        if f.has(TcpFlags::FIN) && matches!(stage, Stage::Teardown(..)) {
            let peer_fin_unacked =
                self.sides[peer].fin_seq.is_some() && !self.sides[peer].fin_acked;
            st[dir] = match st[dir] {
                P::CloseWait if peer_fin_unacked => P::Closing,
                P::CloseWait => P::LastAck,
                P::Established | P::SynReceived | P::SynSent => P::FinWait1,
                other => other,
            };
            st[peer] = match st[peer] {
                P::Established | P::SynReceived => P::CloseWait,
                P::FinWait1 => P::Closing,
                P::FinWait2 => P::TimeWait,
                other => other,
            };
        }
    }

    /// Zeek's history letters: each recorded once per direction, upper case from the
    /// client.
    fn record_history(&mut self, dir: usize, tcp: &Segment, stage: Stage) {
        let f = tcp.flags;
        let add = |letter: char, bit: u16, sides: &mut [Side; 2], h: &mut History| {
            if sides[dir].letters & bit == 0 {
                sides[dir].letters |= bit;
                // Never full: each letter once per side.
                let _ = h.try_push(if dir == 0 {
                    letter
                } else {
                    letter.to_ascii_lowercase()
                });
            }
        };
        let (sides, h) = (&mut self.sides, &mut self.history);
        if f.has(TcpFlags::SYN) {
            let l = if f.has(TcpFlags::ACK) { 'H' } else { 'S' };
            add(l, 1 << 0, sides, h);
        }
        if f.has(TcpFlags::FIN) {
            add('F', 1 << 1, sides, h);
        }
        if f.has(TcpFlags::RST) {
            add('R', 1 << 2, sides, h);
        }
        if tcp.payload_len > 0 {
            add('D', 1 << 3, sides, h);
        }
        if f.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) == 0
            && f.has(TcpFlags::ACK)
            && tcp.payload_len == 0
        {
            add('A', 1 << 4, sides, h);
        }
        if stage == Stage::Retransmission {
            add('T', 1 << 5, sides, h);
        }
    }
}

pub(super) fn summarise(c: &Conn) -> FlowSummary {
    let resp_synack = c.synack_seen;
    let rst_o = c.rst_from == Some(0);
    let rst_r = c.rst_from == Some(1);
    let fin_o = c.sides[0].fin_seq.is_some();
    let fin_r = c.sides[1].fin_seq.is_some();
    let established = c.syn_seen && resp_synack;
    let conn_state = if !c.syn_seen && !resp_synack {
        "OTH"
    } else if c.syn_seen && !resp_synack {
        if rst_r {
            "REJ"
        } else if rst_o {
            "RSTOS0"
        } else if fin_o {
            "SH"
        } else {
            "S0"
        }
    } else if !c.syn_seen {
        if rst_r {
            "RSTRH"
        } else if fin_r {
            "SHR"
        } else {
            "OTH"
        }
    } else if rst_o {
        "RSTO"
    } else if rst_r {
        "RSTR"
    } else if fin_o && fin_r {
        "SF"
    } else if fin_o {
        "S2"
    } else if fin_r {
        "S3"
    } else if established {
        "S1"
    } else {
        "OTH"
    };
    FlowSummary {
        proto: "tcp",
        stream: c.stream,
        service: crate::lookup::service(c.server.1, crate::lookup::Transport::Tcp).map(|s| s.name),
        handshake: Some(if c.handshake_done {
            "complete"
        } else {
            "incomplete"
        }),
        closed_by: c
            .closed_by
            .or_else(|| (fin_o || fin_r).then_some(ClosedBy::Fin)),
        state: Some(c.state),
        conn_state,
        history: c.history.to_string(),
        ..FlowSummary::new(
            c.client,
            c.server,
            c.first_ts,
            c.last_ts,
            c.sides
                .each_ref()
                .map(|s| (s.packets, s.bytes, s.payload_bytes)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const C: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
    const S: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);

    fn seg(
        from_client: bool,
        flags: u16,
        seq: u32,
        ack: u32,
        len: u32,
    ) -> (Ipv4Addr, Ipv4Addr, Tcp) {
        let (sp, dp, src, dst) = if from_client {
            (40000, 8090, C, S)
        } else {
            (8090, 40000, S, C)
        };
        let t = Tcp {
            offset: 34,
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 500,
            header_len: 20,
            payload_len: len,
            checksum: 0,
            checksum_ok: None,
            urgent: 0,
            options: Default::default(),
        };
        (src, dst, t)
    }

    const SYN: u16 = TcpFlags::SYN;
    const SA: u16 = TcpFlags::SYN | TcpFlags::ACK;
    const A: u16 = TcpFlags::ACK;
    const PA: u16 = TcpFlags::PSH | TcpFlags::ACK;
    const FA: u16 = TcpFlags::FIN | TcpFlags::ACK;
    const RA: u16 = TcpFlags::RST | TcpFlags::ACK;

    fn run(t: &mut TcpTracker, segs: &[(bool, u16, u32, u32, u32)]) -> Vec<String> {
        segs.iter()
            .enumerate()
            .map(|(i, &(c, f, s, a, l))| {
                let (src, dst, tcp) = seg(c, f, s, a, l);
                let ts = Timestamp {
                    secs: 1000 + i as i64,
                    nanos: 0,
                };
                t.track(ts, src.into(), dst.into(), &tcp, 66)
                    .0
                    .stage
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn tutorial_exchange_with_three_segment_teardown() {
        let mut t = TcpTracker::default();
        t.keep_retired(true);
        let stages = run(
            &mut t,
            &[
                (true, SYN, 100, 0, 0),
                (false, SA, 500, 101, 0),
                (true, A, 101, 501, 0),
                (true, PA, 101, 501, 5),
                (false, A, 501, 106, 0),
                (false, PA, 501, 106, 5),
                (true, A, 106, 506, 0),
                (true, FA, 106, 506, 0),
                (false, FA, 506, 107, 0),
                (true, A, 107, 507, 0),
            ],
        );
        assert_eq!(
            stages,
            [
                "handshake 1/3",
                "handshake 2/3",
                "handshake 3/3",
                "data",
                "ack",
                "data",
                "ack",
                "teardown 1/4",
                "teardown 2+3/4",
                "teardown 4/4"
            ]
        );
        let s = t.finish();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].conn_state, "SF");
        assert_eq!(s[0].history, "ShADadFf");
        assert_eq!(s[0].handshake, Some("complete"));
        assert_eq!(s[0].closed_by, Some(ClosedBy::Fin));
        assert_eq!(s[0].state, Some(State::TimeWait));
        assert_eq!((s[0].client_packets, s[0].server_packets), (6, 4));
    }

    #[test]
    fn four_segment_teardown() {
        let mut t = TcpTracker::default();
        let stages = run(
            &mut t,
            &[
                (true, SYN, 100, 0, 0),
                (false, SA, 500, 101, 0),
                (true, A, 101, 501, 0),
                (true, FA, 101, 501, 0),
                (false, A, 501, 102, 0),
                (false, FA, 501, 102, 0),
                (true, A, 102, 502, 0),
            ],
        );
        assert_eq!(
            &stages[3..],
            [
                "teardown 1/4",
                "teardown 2/4",
                "teardown 3/4",
                "teardown 4/4"
            ]
        );
    }

    /// Both FINs cross before either is acknowledged: steps 1 and 3, then the two ACKs
    /// (2 and 4) in whichever order they come; every label is out of 4.
    #[test]
    fn simultaneous_close_keeps_the_step_numbers() {
        let mut t = TcpTracker::default();
        let stages = run(
            &mut t,
            &[
                (true, SYN, 100, 0, 0),
                (false, SA, 500, 101, 0),
                (true, A, 101, 501, 0),
                (true, FA, 101, 501, 0),
                (false, FA, 501, 101, 0),
                (true, A, 102, 502, 0),
                (false, A, 502, 102, 0),
            ],
        );
        assert_eq!(
            &stages[3..],
            [
                "teardown 1/4",
                "teardown 3/4",
                "teardown 4/4",
                "teardown 2/4"
            ]
        );
    }

    #[test]
    fn refused_connection() {
        let mut t = TcpTracker::default();
        t.keep_retired(true);
        let (src, dst, syn) = seg(true, SYN, 100, 0, 0);
        let ts = Timestamp::default();
        t.track(ts, src.into(), dst.into(), &syn, 66);
        let (src, dst, rst) = seg(false, RA, 0, 101, 0);
        let (conv, _) = t.track(ts, src.into(), dst.into(), &rst, 54);
        assert_eq!(conv.stage, Stage::Reset);
        assert!(
            conv.explain(&rst).contains("connection refused"),
            "{}",
            conv.explain(&rst)
        );
        let s = t.finish();
        assert_eq!((s[0].conn_state, s[0].history.as_str()), ("REJ", "Sr"));
    }

    #[test]
    fn mid_stream_retransmission_and_out_of_order() {
        let mut t = TcpTracker::default();
        let stages = run(
            &mut t,
            &[
                (true, PA, 1000, 9000, 100),
                (false, A, 9000, 1100, 0),
                (true, PA, 1100, 9000, 100),
                (true, PA, 1100, 9000, 100),
                (true, PA, 1300, 9000, 100),
                (true, PA, 1200, 9000, 100),
            ],
        );
        assert_eq!(
            stages,
            [
                "mid-stream",
                "ack",
                "data",
                "retransmission",
                "data",
                "out-of-order"
            ]
        );
        let (src, dst, tcp) = seg(true, PA, 1000, 9000, 100);
        let (conv, _) = t.track(Timestamp::default(), src.into(), dst.into(), &tcp, 66);
        assert_eq!(conv.rel_seq, 1);
    }

    #[test]
    fn relative_numbers_start_at_zero_on_the_syn() {
        let mut t = TcpTracker::default();
        let (src, dst, syn) = seg(true, SYN, u32::MAX - 1, 0, 0);
        let (c, _) = t.track(Timestamp::default(), src.into(), dst.into(), &syn, 66);
        assert_eq!((c.rel_seq, c.rel_ack), (0, None));
        let (src, dst, sa) = seg(false, SA, 7, u32::MAX, 0);
        let (c, _) = t.track(Timestamp::default(), src.into(), dst.into(), &sa, 66);
        assert_eq!((c.rel_seq, c.rel_ack), (0, Some(1)));
    }

    #[test]
    fn a_new_syn_on_a_closed_tuple_starts_a_new_stream() {
        let mut t = TcpTracker::default();
        run(&mut t, &[(true, SYN, 100, 0, 0), (false, RA, 0, 101, 0)]);
        let (src, dst, syn) = seg(true, SYN, 5000, 0, 0);
        let (c, _) = t.track(Timestamp::default(), src.into(), dst.into(), &syn, 66);
        assert_eq!(c.stream, 1);
    }

    /// Tracking quietly (the lean path of `wirelens flows`) leaves every connection as
    /// tracking with descriptions does: the same summaries, field for field, after
    /// random segments of a few connections in both directions, with timeouts on the
    /// way. (Not evictions: the table picks among equally old flows in its hash order,
    /// which differs from table to table.)
    #[test]
    fn tracking_quietly_keeps_the_same_connections() {
        let mut next = crate::testing::rng(0x2545_f491_4f6c_dd1d);
        let flag_sets = [SYN, SA, A, PA, FA, RA, TcpFlags::FIN, TcpFlags::RST, 0];
        for round in 0..200 {
            let cfg = TrackerConfig {
                max_flows: 64,
                idle_timeout: 30.0,
                closed_timeout: 5.0,
            };
            let (mut loud, mut quiet) = (TcpTracker::new(cfg), TcpTracker::new(cfg));
            loud.keep_retired(true);
            quiet.keep_retired(true);
            let mut secs = 0i64;
            for _ in 0..next(300) {
                let flags = flag_sets[next(flag_sets.len() as u64) as usize];
                let (src, dst, mut tcp) = seg(
                    next(2) == 0,
                    flags,
                    next(4000) as u32,
                    next(4000) as u32,
                    [0, 1, 100][next(3) as usize],
                );
                // A handful of client ports: several connections, some reused.
                if tcp.src_port == 40000 {
                    tcp.src_port += next(4) as u16;
                } else {
                    tcp.dst_port += next(4) as u16;
                }
                secs += next(8) as i64;
                let ts = Timestamp { secs, nanos: 0 };
                let frame_len = 54 + tcp.payload_len;
                loud.track(ts, src.into(), dst.into(), &tcp, frame_len);
                quiet.track_quietly(ts, src.into(), dst.into(), &Segment::of(&tcp), frame_len);
            }
            assert_eq!(loud.finish(), quiet.finish(), "round {round}");
        }
    }

    #[test]
    fn memory_is_bounded_and_eviction_is_said_once() {
        let mut t = TcpTracker::new(TrackerConfig {
            max_flows: 64,
            ..TrackerConfig::default()
        });
        let mut notes = 0;
        for i in 0..10_000u32 {
            let (_, dst, mut syn) = seg(true, SYN, i, 0, 0);
            syn.src_port = (i % 60_000) as u16;
            let src = Ipv4Addr::from(0x0a00_0000 + i);
            let (_, note) = t.track(Timestamp::default(), src.into(), dst.into(), &syn, 66);
            notes += usize::from(note.is_some());
            assert!(t.len() <= 64);
        }
        assert_eq!(notes, 1);
        assert!(t.evicted() > 9_000);
    }
}
