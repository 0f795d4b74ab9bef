//! What the background analysis keeps of each packet: a [`Brief`] of 24 bytes that,
//! with the per-stream [`StreamInfo`], gives back the packet's whole TCP context
//! ([`TcpConv`]), so that a packet dissected again on demand says the same words as
//! `read` without every analysed packet being held in memory.
//!
//! Encoding is checked as it is done: a context that does not come back identical from
//! its brief is kept whole instead (see [`crate::tui::store`]).

use std::net::IpAddr;

use crate::context::{PeerState, Stage, State, TcpConv};

/// The TCP segment's conversation is in the brief.
pub const TCP: u8 = 1;
/// The client sent the segment.
const FROM_CLIENT: u8 = 2;
/// `rel_ack` is set (the ACK flag was).
const HAS_ACK: u8 = 4;
/// The sender's ISN is known.
const ISN: u8 = 8;
/// The peer's ISN is known.
const PEER_ISN: u8 = 16;
/// `window_shift` is known.
const SHIFT: u8 = 32;
/// The frame is an IP fragment whose transport header waits for the whole datagram
/// ([`crate::dissect::hold_fragment`]).
pub const HELD: u8 = 64;
/// More is kept about the packet in the store's side table.
pub const EXTRA: u8 = 128;

/// The compact analysis result of one packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Brief {
    /// TCP stream number, when [`TCP`] is set.
    pub stream: u32,
    rel_seq: u32,
    rel_ack: u32,
    next_rel_seq: u32,
    stage: [u8; 3],
    state: u8,
    sides: [u8; 2],
    shift: u8,
    /// Flags: [`TCP`], [`HELD`], [`EXTRA`] and private ones.
    pub bits: u8,
}

/// What every segment of one TCP stream shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    /// The client (the side that sent the SYN, or the first segment seen).
    pub client: (IpAddr, u16),
    /// The server.
    pub server: (IpAddr, u16),
    /// Initial sequence numbers, client's then server's, once seen.
    pub isn: [Option<u32>; 2],
}

const STATES: [State; 9] = [
    State::SynSent,
    State::SynReceived,
    State::Established,
    State::FinWait,
    State::CloseWait,
    State::Closing,
    State::LastAck,
    State::TimeWait,
    State::Closed,
];

const PEERS: [PeerState; 11] = [
    PeerState::Listen,
    PeerState::SynSent,
    PeerState::SynReceived,
    PeerState::Established,
    PeerState::FinWait1,
    PeerState::FinWait2,
    PeerState::CloseWait,
    PeerState::Closing,
    PeerState::LastAck,
    PeerState::TimeWait,
    PeerState::Closed,
];

fn stage_code(s: Stage) -> [u8; 3] {
    match s {
        Stage::Handshake(k) => [0, k, 0],
        Stage::Teardown(a, b) => [1, a, b],
        Stage::Data => [2, 0, 0],
        Stage::Ack => [3, 0, 0],
        Stage::Reset => [4, 0, 0],
        Stage::KeepAlive => [5, 0, 0],
        Stage::Retransmission => [6, 0, 0],
        Stage::OutOfOrder => [7, 0, 0],
        Stage::ZeroWindow => [8, 0, 0],
        Stage::MidStream => [9, 0, 0],
    }
}

fn stage_of(c: [u8; 3]) -> Stage {
    match c[0] {
        0 => Stage::Handshake(c[1]),
        1 => Stage::Teardown(c[1], c[2]),
        2 => Stage::Data,
        3 => Stage::Ack,
        4 => Stage::Reset,
        5 => Stage::KeepAlive,
        6 => Stage::Retransmission,
        7 => Stage::OutOfOrder,
        8 => Stage::ZeroWindow,
        _ => Stage::MidStream,
    }
}

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter()
        .position(|x| x == v)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}

impl Brief {
    /// The brief of a segment with conversation `c`, updating its stream's `info`
    /// (created from `c` when `None`).
    pub fn encode(c: &TcpConv, info: &mut Option<StreamInfo>) -> Brief {
        let side = usize::from(!c.from_client);
        let info = info.get_or_insert(StreamInfo {
            client: c.client,
            server: c.server,
            isn: [None; 2],
        });
        if let (Some(isn), Some(slot)) = (c.isn, info.isn.get_mut(side)) {
            slot.get_or_insert(isn);
        }
        if let (Some(isn), Some(slot)) = (c.peer_isn, info.isn.get_mut(1 - side)) {
            slot.get_or_insert(isn);
        }
        let mut bits = TCP;
        let mut set = |on: bool, bit: u8| {
            if on {
                bits |= bit;
            }
        };
        set(c.from_client, FROM_CLIENT);
        set(c.rel_ack.is_some(), HAS_ACK);
        set(c.isn.is_some(), ISN);
        set(c.peer_isn.is_some(), PEER_ISN);
        set(c.window_shift.is_some(), SHIFT);
        Brief {
            stream: u32::try_from(c.stream).unwrap_or(u32::MAX),
            rel_seq: c.rel_seq,
            rel_ack: c.rel_ack.unwrap_or(0),
            next_rel_seq: c.next_rel_seq,
            stage: stage_code(c.stage),
            state: index_of(&STATES, &c.state),
            sides: [index_of(&PEERS, &c.sides[0]), index_of(&PEERS, &c.sides[1])],
            shift: c.window_shift.unwrap_or(0),
            bits,
        }
    }

    /// True when the brief holds a TCP conversation.
    pub fn is_tcp(&self) -> bool {
        self.bits & TCP != 0
    }

    /// The segment's stage, for a TCP segment.
    pub fn stage(&self) -> Option<Stage> {
        self.is_tcp().then(|| stage_of(self.stage))
    }

    /// The conversation this brief was made from, given its stream's `info`.
    pub fn decode(&self, info: &StreamInfo) -> Option<TcpConv> {
        if !self.is_tcp() {
            return None;
        }
        let on = |bit: u8| self.bits & bit != 0;
        let from_client = on(FROM_CLIENT);
        let side = usize::from(!from_client);
        let peer = |i: u8| PEERS.get(usize::from(i)).copied().unwrap_or_default();
        Some(TcpConv {
            stage: stage_of(self.stage),
            stream: u64::from(self.stream),
            rel_seq: self.rel_seq,
            rel_ack: on(HAS_ACK).then_some(self.rel_ack),
            from_client,
            state: STATES
                .get(usize::from(self.state))
                .copied()
                .unwrap_or(State::Closed),
            isn: if on(ISN) { info.isn[side] } else { None },
            peer_isn: if on(PEER_ISN) {
                info.isn[1 - side]
            } else {
                None
            },
            client: info.client,
            server: info.server,
            sides: [peer(self.sides[0]), peer(self.sides[1])],
            next_rel_seq: self.next_rel_seq,
            window_shift: on(SHIFT).then_some(self.shift),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn a_conversation_comes_back_from_its_brief() {
        let c = TcpConv {
            stage: Stage::Teardown(2, 3),
            stream: 7,
            rel_seq: 10,
            rel_ack: Some(20),
            from_client: false,
            state: State::LastAck,
            isn: Some(99),
            peer_isn: Some(5),
            client: (Ipv4Addr::new(10, 0, 0, 1).into(), 40000),
            server: (Ipv4Addr::new(10, 0, 0, 2).into(), 80),
            sides: [PeerState::FinWait2, PeerState::LastAck],
            next_rel_seq: 11,
            window_shift: Some(7),
        };
        let mut info = None;
        let b = Brief::encode(&c, &mut info);
        assert_eq!(std::mem::size_of::<Brief>(), 24);
        let info = info.expect("stream info");
        assert_eq!(info.isn, [Some(5), Some(99)]);
        assert_eq!(b.decode(&info), Some(c));
        assert_eq!(b.stage(), Some(Stage::Teardown(2, 3)));
    }
}
