//! What the background analysis keeps of each packet: a [`Brief`] of 8 bytes that, with
//! the packet itself (dissected again when it is shown) and the per-stream
//! [`StreamInfo`], gives back the packet's whole TCP context ([`TcpConv`]). So a packet
//! dissected again on demand says the same words as `read` without every analysed
//! packet's context being held in memory.
//!
//! What the packet itself tells is not stored: the endpoints (its addresses and ports),
//! the relative numbers (its raw sequence and acknowledgement numbers minus the stream's
//! base of each side), whether `rel_ack` is set (its ACK flag) and `next_rel_seq` (its
//! length, plus one for a SYN and one for a FIN). Encoding is checked as it is done: a
//! context that does not come back identical from its brief is kept whole instead (see
//! [`crate::tui::store`]).

use std::net::IpAddr;

use crate::context::{PeerState, Stage, State, TcpConv};
use crate::proto::tcp::{Tcp, TcpFlags};

/// The TCP segment's conversation is in the brief.
pub const TCP: u8 = 1;
/// The client sent the segment.
const FROM_CLIENT: u8 = 2;
/// The sender's ISN is known (it is then its side's base).
const ISN: u8 = 4;
/// The peer's ISN is known.
const PEER_ISN: u8 = 8;
/// `window_shift` is known.
const SHIFT: u8 = 16;
/// The frame is an IP fragment whose transport header waits for the whole datagram
/// ([`crate::dissect::hold_fragment`]).
pub const HELD: u8 = 64;
/// More is kept about the packet in the store's side tables.
pub const EXTRA: u8 = 128;

/// The compact analysis result of one packet: 8 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Brief {
    /// TCP stream number, when [`TCP`] is set.
    pub stream: u32,
    /// The connection's state, then each side's (client first), then the window
    /// shift: four bits each, from the high bits down.
    states: u16,
    /// The stage, as [`stage_code`] writes it.
    stage: u8,
    /// Flags: [`TCP`], [`HELD`], [`EXTRA`] and private ones.
    pub bits: u8,
}

/// What every segment of one TCP stream shares: the base of each side's relative
/// numbers (its ISN, or the first sequence number seen − 1), client first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamInfo {
    /// The client's base, then the server's, once seen.
    pub base: [Option<u32>; 2],
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

/// Handshake step k: `0x10 | k`.
const HANDSHAKE: u8 = 0x10;
/// Teardown steps a to b: `0x80 | a << 3 | b`.
const TEARDOWN: u8 = 0x80;
/// The other stages: `0x20 + i`, in this order.
const OTHER: u8 = 0x20;
const OTHERS: [Stage; 8] = [
    Stage::Data,
    Stage::Ack,
    Stage::Reset,
    Stage::KeepAlive,
    Stage::Retransmission,
    Stage::OutOfOrder,
    Stage::ZeroWindow,
    Stage::MidStream,
];
/// A stage no code stands for (the check of the encoding then fails).
const NO_STAGE: u8 = 0xff;

/// One byte for a stage: the tracker's handshake steps (1–3) and teardown steps (1–4)
/// fit with room to spare.
fn stage_code(s: Stage) -> u8 {
    match s {
        Stage::Handshake(k) if k < 0x10 => HANDSHAKE | k,
        Stage::Teardown(a, b) if a < 8 && b < 8 => TEARDOWN | a << 3 | b,
        Stage::Handshake(_) | Stage::Teardown(..) => NO_STAGE,
        other => OTHERS
            .iter()
            .position(|o| *o == other)
            .and_then(|i| u8::try_from(i).ok())
            .map_or(NO_STAGE, |i| OTHER + i),
    }
}

fn stage_of(c: u8) -> Stage {
    if c & TEARDOWN != 0 {
        Stage::Teardown((c >> 3) & 7, c & 7)
    } else if c & 0xf0 == HANDSHAKE {
        Stage::Handshake(c & 0x0f)
    } else {
        OTHERS
            .get(usize::from(c.wrapping_sub(OTHER)))
            .copied()
            .unwrap_or(Stage::MidStream)
    }
}

/// The 4-bit index of `v` in `all` (15 when absent: the check then fails).
fn index_of<T: PartialEq>(all: &[T], v: &T) -> u16 {
    all.iter()
        .position(|x| x == v)
        .and_then(|i| u16::try_from(i).ok())
        .unwrap_or(15)
}

impl Brief {
    /// The brief of segment `tcp`, whose conversation is `c`; records the bases of the
    /// relative numbers in its stream's `info` when they are not known yet.
    pub fn encode(c: &TcpConv, tcp: &Tcp, info: &mut StreamInfo) -> Brief {
        let side = usize::from(!c.from_client);
        info.base[side].get_or_insert(tcp.seq.wrapping_sub(c.rel_seq));
        if let Some(rel_ack) = c.rel_ack {
            info.base[1 - side].get_or_insert(tcp.ack.wrapping_sub(rel_ack));
        }
        let mut bits = TCP;
        let mut set = |on: bool, bit: u8| {
            if on {
                bits |= bit;
            }
        };
        set(c.from_client, FROM_CLIENT);
        set(c.isn.is_some(), ISN);
        set(c.peer_isn.is_some(), PEER_ISN);
        set(c.window_shift.is_some(), SHIFT);
        let shift = c
            .window_shift
            .map_or(0, |s| if s < 16 { u16::from(s) } else { 15 });
        Brief {
            stream: u32::try_from(c.stream).unwrap_or(u32::MAX),
            states: index_of(&STATES, &c.state) << 12
                | index_of(&PEERS, &c.sides[0]) << 8
                | index_of(&PEERS, &c.sides[1]) << 4
                | shift,
            stage: stage_code(c.stage),
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

    /// The conversation of segment `tcp`, sent from `addrs.0` to `addrs.1`, that this
    /// brief was made from, given its stream's `info`.
    pub fn decode(&self, info: &StreamInfo, tcp: &Tcp, addrs: (IpAddr, IpAddr)) -> Option<TcpConv> {
        if !self.is_tcp() {
            return None;
        }
        let on = |bit: u8| self.bits & bit != 0;
        let from_client = on(FROM_CLIENT);
        let side = usize::from(!from_client);
        let nibble = |at: u16| usize::from((self.states >> at) & 0xf);
        let peer = |at: u16| PEERS.get(nibble(at)).copied().unwrap_or_default();
        // As the tracker computes them: a side without a base counts from the value.
        let rel = |v: u32, base: Option<u32>| v.wrapping_sub(base.unwrap_or(v));
        let f = tcp.flags;
        let rel_seq = rel(tcp.seq, info.base[side]);
        let seg_len = tcp
            .payload_len
            .wrapping_add(u32::from(f.has(TcpFlags::SYN)))
            .wrapping_add(u32::from(f.has(TcpFlags::FIN)));
        let sender = (addrs.0, tcp.src_port);
        let receiver = (addrs.1, tcp.dst_port);
        let (client, server) = if from_client {
            (sender, receiver)
        } else {
            (receiver, sender)
        };
        Some(TcpConv {
            stage: stage_of(self.stage),
            stream: u64::from(self.stream),
            rel_seq,
            rel_ack: f
                .has(TcpFlags::ACK)
                .then(|| rel(tcp.ack, info.base[1 - side])),
            from_client,
            state: STATES.get(nibble(12)).copied().unwrap_or(State::Closed),
            isn: if on(ISN) { info.base[side] } else { None },
            peer_isn: if on(PEER_ISN) {
                info.base[1 - side]
            } else {
                None
            },
            client,
            server,
            sides: [peer(8), peer(4)],
            next_rel_seq: rel_seq.wrapping_add(seg_len),
            // Masked to 4 bits: the cast cannot truncate.
            window_shift: on(SHIFT).then_some((self.states & 0xf) as u8),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::checksum::PseudoHeader;
    use std::net::Ipv4Addr;

    /// A TCP header from the server (port 80) to the client (port 40000).
    const SEGMENT: [u8; 20] = [
        0x00, 0x50, // source port 80
        0x9c, 0x40, // destination port 40000
        0x00, 0x00, 0x00, 0x6e, // seq 110 (ISN 99 + 11)
        0x00, 0x00, 0x00, 0x19, // ack 25 (ISN 5 + 20)
        0x50, // data offset 5 (20 bytes)
        0x11, // flags FIN, ACK
        0x01, 0x00, // window 256
        0x00, 0x00, // checksum (not checked: the segment length is not given)
        0x00, 0x00, // urgent pointer
    ];

    #[test]
    fn a_conversation_comes_back_from_its_brief_and_its_segment() {
        let (client, server) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let ph = PseudoHeader::V4 {
            src: server,
            dst: client,
        };
        let tcp = Tcp::parse(&SEGMENT, 0, &ph, 0).expect("a 20-byte header");
        let c = TcpConv {
            stage: Stage::Teardown(2, 3),
            stream: 7,
            rel_seq: 11,
            rel_ack: Some(20),
            from_client: false,
            state: State::LastAck,
            isn: Some(99),
            peer_isn: Some(5),
            client: (client.into(), 40000),
            server: (server.into(), 80),
            sides: [PeerState::FinWait2, PeerState::LastAck],
            next_rel_seq: 12,
            window_shift: Some(7),
        };
        let mut info = StreamInfo::default();
        let b = Brief::encode(&c, &tcp, &mut info);
        assert_eq!(std::mem::size_of::<Brief>(), 8);
        assert_eq!(info.base, [Some(5), Some(99)]);
        assert_eq!(
            b.decode(&info, &tcp, (server.into(), client.into())),
            Some(c)
        );
        assert_eq!(b.stage(), Some(Stage::Teardown(2, 3)));
    }

    #[test]
    fn every_stage_has_a_code_of_its_own() {
        let mut all = vec![
            Stage::Handshake(1),
            Stage::Handshake(2),
            Stage::Handshake(3),
        ];
        for a in 1..=4 {
            for b in a..=4 {
                all.push(Stage::Teardown(a, b));
            }
        }
        all.extend(OTHERS);
        for s in all {
            assert_ne!(stage_code(s), NO_STAGE, "{s:?}");
            assert_eq!(stage_of(stage_code(s)), s);
        }
    }
}
