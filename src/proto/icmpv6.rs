//! ICMPv6 (RFC 4443): IPv6's messenger. Besides ping and the error reports ICMP has,
//! it carries neighbour discovery (RFC 4861: IPv6's ARP, router discovery and
//! redirects) and multicast listener discovery (MLD, RFC 2710/3810: IPv6's IGMP), so an
//! IPv6 link does not work without it.

use std::net::Ipv6Addr;

use serde::Serialize;

use super::checksum::{PseudoHeader, Sum};
use super::{
    Field, FieldText, Hue, Layer, MacAddr, Model, Span, ToFieldText, be8, be16, be32, ftext, take,
};

/// Byte ranges of ICMPv6 messages, relative to their start.
pub mod field {
    use std::ops::Range;
    /// Message type.
    pub const TYPE: usize = 0;
    /// Code: the detail within the type.
    pub const CODE: usize = 1;
    /// Checksum over a pseudo-header and the whole message.
    pub const CHECKSUM: Range<usize> = 2..4;
    /// The 32 bits after the checksum: unused, MTU, pointer, identifier and sequence, or
    /// the start of the type's fixed part.
    pub const WORD: Range<usize> = 4..8;
    /// Echo identifier.
    pub const ID: Range<usize> = 4..6;
    /// Echo sequence number.
    pub const SEQ: Range<usize> = 6..8;
    /// Where an error message's invoking packet starts.
    pub const QUOTED: usize = 8;

    /// Router advertisement: current hop limit hosts should use.
    pub const RA_CUR_HOP_LIMIT: usize = 4;
    /// Router advertisement: flags (M, O, H, Prf, P).
    pub const RA_FLAGS: usize = 5;
    /// Router advertisement: router lifetime, in seconds.
    pub const RA_ROUTER_LIFETIME: Range<usize> = 6..8;
    /// Router advertisement: reachable time, in milliseconds.
    pub const RA_REACHABLE_TIME: Range<usize> = 8..12;
    /// Router advertisement: retransmission timer, in milliseconds.
    pub const RA_RETRANS_TIMER: Range<usize> = 12..16;
    /// Router advertisement: where the options start.
    pub const RA_OPTIONS: usize = 16;
    /// Router solicitation: where the options start (after 4 reserved bytes).
    pub const RS_OPTIONS: usize = 8;
    /// Neighbour solicitation/advertisement and redirect: the target address.
    pub const TARGET: Range<usize> = 8..24;
    /// Neighbour solicitation/advertisement: where the options start.
    pub const NS_OPTIONS: usize = 24;
    /// Redirect: the destination that is redirected.
    pub const REDIRECT_DEST: Range<usize> = 24..40;
    /// Redirect: where the options start.
    pub const REDIRECT_OPTIONS: usize = 40;

    /// MLD: maximum response delay (v1, in ms) or maximum response code (v2 query).
    pub const MLD_MAX_DELAY: Range<usize> = 4..6;
    /// MLD: the multicast address (0 in a general query).
    pub const MLD_ADDR: Range<usize> = 8..24;
    /// MLDv2 query: reserved 4 bits, S flag, QRV (3 bits).
    pub const MLD2_Q_FLAGS: usize = 24;
    /// MLDv2 query: querier's query interval code.
    pub const MLD2_QQIC: usize = 25;
    /// MLDv2 query: number of sources.
    pub const MLD2_Q_NUM_SOURCES: Range<usize> = 26..28;
    /// MLDv2 query: where the sources start.
    pub const MLD2_Q_SOURCES: usize = 28;
    /// MLDv2 report: number of address records.
    pub const MLD2_NUM_RECORDS: Range<usize> = 6..8;
    /// MLDv2 report: where the records start.
    pub const MLD2_RECORDS: usize = 8;

    /// Neighbour advertisement flag: the sender is a router.
    pub const NA_R: u32 = 0x8000_0000;
    /// Neighbour advertisement flag: sent in answer to a solicitation.
    pub const NA_S: u32 = 0x4000_0000;
    /// Neighbour advertisement flag: override cached link-layer addresses.
    pub const NA_O: u32 = 0x2000_0000;
    /// Router advertisement flag: managed address configuration (DHCPv6).
    pub const RA_M: u8 = 0x80;
    /// Router advertisement flag: other configuration (DHCPv6 for DNS etc.).
    pub const RA_O: u8 = 0x40;
    /// Router advertisement flag: home agent (Mobile IPv6).
    pub const RA_H: u8 = 0x20;
    /// Router advertisement: default router preference (2 bits).
    pub const RA_PRF: u8 = 0x18;
    /// Prefix information flag: on-link.
    pub const PI_L: u8 = 0x80;
    /// Prefix information flag: autonomous address configuration (SLAAC).
    pub const PI_A: u8 = 0x40;
}

/// Byte ranges inside an NDP option, relative to its start.
pub mod opt_field {
    use std::ops::Range;
    /// Option type.
    pub const TYPE: usize = 0;
    /// Option length, in 8-byte units, type and length bytes included.
    pub const LEN: usize = 1;
    /// Link-layer address options: the address.
    pub const LLADDR: usize = 2;
    /// Prefix information: prefix length, in bits.
    pub const PREFIX_LEN: usize = 2;
    /// Prefix information: flags (L, A, R).
    pub const PREFIX_FLAGS: usize = 3;
    /// Prefix information: valid lifetime, in seconds.
    pub const VALID: Range<usize> = 4..8;
    /// Prefix information: preferred lifetime, in seconds.
    pub const PREFERRED: Range<usize> = 8..12;
    /// Prefix information: reserved.
    pub const PREFIX_RESERVED: Range<usize> = 12..16;
    /// Prefix information: the prefix.
    pub const PREFIX: Range<usize> = 16..32;
    /// MTU option: reserved.
    pub const MTU_RESERVED: Range<usize> = 2..4;
    /// MTU option: the link MTU, in bytes.
    pub const MTU: Range<usize> = 4..8;
}

/// Length of the type, code and checksum, in bytes.
pub const MIN_LEN: usize = 4;
/// Length of the header of echo and error messages, in bytes.
pub const HEADER_LEN: usize = 8;
/// The next-header value of ICMPv6, as summed in its pseudo-header.
pub const NEXT_HEADER: u8 = 58;

/// ICMPv6 message types.
pub mod types {
    /// Destination unreachable.
    pub const DEST_UNREACHABLE: u8 = 1;
    /// Packet too big.
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter problem.
    pub const PARAMETER_PROBLEM: u8 = 4;
    /// Echo request (ping).
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Multicast listener query.
    pub const MLD_QUERY: u8 = 130;
    /// Multicast listener report (MLDv1).
    pub const MLD_REPORT: u8 = 131;
    /// Multicast listener done (MLDv1).
    pub const MLD_DONE: u8 = 132;
    /// Router solicitation.
    pub const ROUTER_SOLICITATION: u8 = 133;
    /// Router advertisement.
    pub const ROUTER_ADVERTISEMENT: u8 = 134;
    /// Neighbour solicitation.
    pub const NEIGHBOR_SOLICITATION: u8 = 135;
    /// Neighbour advertisement.
    pub const NEIGHBOR_ADVERTISEMENT: u8 = 136;
    /// Redirect.
    pub const REDIRECT: u8 = 137;
    /// Multicast listener report version 2.
    pub const MLD2_REPORT: u8 = 143;
}

/// NDP option types (RFC 4861 and later).
pub mod opt {
    /// Source link-layer address.
    pub const SOURCE_LLADDR: u8 = 1;
    /// Target link-layer address.
    pub const TARGET_LLADDR: u8 = 2;
    /// Prefix information.
    pub const PREFIX_INFO: u8 = 3;
    /// Redirected header.
    pub const REDIRECTED_HEADER: u8 = 4;
    /// MTU.
    pub const MTU: u8 = 5;
}

/// The message is shorter than its type, code and checksum.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Icmpv6Error {
    /// Fewer than 4 bytes were captured.
    #[error(
        "The ICMPv6 message at byte {offset} needs {MIN_LEN} bytes (type, code, checksum) but only {captured} were captured."
    )]
    Truncated {
        /// Offset of the message in the frame, in bytes.
        offset: usize,
        /// Bytes captured from there on.
        captured: usize,
    },
}

/// One neighbour discovery option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NdpOption {
    /// Offset of the option in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// Option type.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Its length in bytes (8-byte units on the wire), type and length included.
    pub len: usize,
    /// Source or target link-layer address (for Ethernet's 6-byte addresses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lladdr: Option<MacAddr>,
    /// Prefix information: prefix length, in bits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_len: Option<u8>,
    /// Prefix information: L, the prefix is on-link (reachable without a router).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onlink: Option<bool>,
    /// Prefix information: A, hosts may form addresses from it themselves (SLAAC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autonomous: Option<bool>,
    /// Prefix information: valid lifetime, in seconds (0xffffffff = forever).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_lifetime: Option<u32>,
    /// Prefix information: preferred lifetime, in seconds (0xffffffff = forever).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_lifetime: Option<u32>,
    /// Prefix information: the prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Ipv6Addr>,
    /// MTU option: the link's MTU, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Prefix information: the whole flags byte (L, A, R and reserved bits).
    #[serde(skip)]
    pub flags: u8,
    /// The option's bytes after type and length.
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// The neighbour discovery part of a message (types 133–137).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ndp {
    /// Neighbour solicitation/advertisement: the address asked or answered about;
    /// redirect: the better first hop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Ipv6Addr>,
    /// Redirect: the destination whose traffic is redirected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<Ipv6Addr>,
    /// Router advertisement: the hop limit hosts should use (0 = unspecified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cur_hop_limit: Option<u8>,
    /// Router advertisement: M, addresses come from DHCPv6.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    /// Router advertisement: O, other settings (DNS…) come from DHCPv6.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other: Option<bool>,
    /// Router advertisement: seconds hosts may use the router as default (0 = not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router_lifetime: Option<u16>,
    /// Router advertisement: reachable time, in milliseconds (0 = unspecified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reachable_time: Option<u32>,
    /// Router advertisement: retransmission timer, in milliseconds (0 = unspecified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrans_timer: Option<u32>,
    /// Neighbour advertisement: R, the sender is a router.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub router: Option<bool>,
    /// Neighbour advertisement: S, it answers a solicitation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub solicited: Option<bool>,
    /// Neighbour advertisement: O, it overrides cached link-layer addresses.
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_flag: Option<bool>,
    /// The options, as far as they were captured.
    pub options: Vec<NdpOption>,
}

/// One address record of an MLDv2 report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MldRecord {
    /// Offset of the record in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// Record type: 1–2 current state, 3–4 filter mode change, 5–6 source list change.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Length of the auxiliary data, in 4-byte units.
    #[serde(skip)]
    pub aux_len: u8,
    /// Number of sources, as the record says.
    pub num_sources: u16,
    /// The multicast address.
    pub multicast_address: Ipv6Addr,
    /// The sources, as far as they were captured.
    pub sources: Vec<Ipv6Addr>,
}

impl MldRecord {
    /// Bytes the record takes: 20 + 16 per source + its auxiliary data.
    fn wire_len(&self) -> usize {
        20 + 16 * usize::from(self.num_sources) + 4 * usize::from(self.aux_len)
    }

    /// What the record does to the listener's membership, in words.
    fn verb(&self) -> &'static str {
        match (self.kind, self.num_sources) {
            (2 | 4, 0) => "joins",
            (1 | 3, 0) => "leaves",
            (1, _) => "listens only to some sources of",
            (2, _) => "listens to all but some sources of",
            (3, _) => "switches to some sources of",
            (4, _) => "switches to all but some sources of",
            (5, _) => "adds sources of",
            (6, _) => "drops sources of",
            _ => "reports an unknown record type for",
        }
    }
}

/// The multicast listener discovery part of a message (types 130–132, 143).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Mld {
    /// Query and MLDv1: maximum response delay, in milliseconds (decoded from the
    /// maximum response code of an MLDv2 query).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_response_delay: Option<u32>,
    /// Query and MLDv1: the multicast address (:: in a general query).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multicast_address: Option<Ipv6Addr>,
    /// MLDv2 query: number of sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_sources: Option<u16>,
    /// MLDv2 query: the sources, as far as captured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Ipv6Addr>,
    /// MLDv2 report: number of address records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_records: Option<u16>,
    /// MLDv2 report: the records, as far as captured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<MldRecord>,
    /// The 16-bit maximum response code (v2 query) or delay (v1) as on the wire.
    #[serde(skip)]
    pub max_response_code: Option<u16>,
    /// MLDv2 query: the byte holding the S flag and QRV.
    #[serde(skip)]
    pub query_flags: Option<u8>,
    /// MLDv2 query: querier's query interval code.
    #[serde(skip)]
    pub qqic: Option<u8>,
}

/// An ICMPv6 message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Icmpv6 {
    /// Offset of the message in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// Message type.
    #[serde(rename = "type")]
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Checksum as sent.
    pub checksum: u16,
    /// Whether the checksum verifies; `None` when the message was not all captured.
    pub checksum_ok: Option<bool>,
    /// Echo identifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u16>,
    /// Echo sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u16>,
    /// Packet too big: the MTU of the link the packet did not fit, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Parameter problem: offset of the problem in the invoking packet, in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<u32>,
    /// Neighbour discovery (types 133–137).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ndp: Option<Ndp>,
    /// Multicast listener discovery (types 130–132 and 143).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mld: Option<Mld>,
    /// The 32 bits after the checksum as on the wire, if captured (for the table).
    #[serde(skip)]
    pub word: Option<u32>,
    /// Bytes the fields describe, from the start of the message: the header, the
    /// type's fixed part and its options or records, as far as captured.
    #[serde(skip)]
    pub decoded_len: usize,
    /// Why the body was not all read, if it was not.
    #[serde(skip)]
    pub stopped: Option<String>,
    /// For an error: the headers it quotes of the packet that caused it (filled in by
    /// the dissector, which decodes them with the other protocols).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted: Option<Box<super::icmp::Quoted>>,
}

impl Icmpv6 {
    /// Reads an ICMPv6 message from the start of `msg` (the IPv6 payload as captured,
    /// at `offset` in the frame). `msg_len` is the message length per the IPv6 header:
    /// bytes past it (Ethernet padding) are ignored, and the checksum is verified, over
    /// the pseudo-header `ph` and the message, only when all of it was captured. An
    /// error only under 4 bytes; a body cut short keeps what parsed and says why in
    /// `stopped`.
    pub fn parse(
        msg: &[u8],
        offset: usize,
        msg_len: usize,
        ph: &PseudoHeader,
    ) -> Result<Icmpv6, Icmpv6Error> {
        if msg.len() < MIN_LEN {
            return Err(Icmpv6Error::Truncated {
                offset,
                captured: msg.len(),
            });
        }
        let whole = msg.get(..msg_len);
        let m = whole.unwrap_or(msg);
        let icmp_type = be8(m, field::TYPE);
        let checksum_ok = whole.map(|w| {
            Sum::default()
                .add_pseudo(ph, NEXT_HEADER, u32::try_from(msg_len).unwrap_or(u32::MAX))
                .add_bytes(w)
                .verifies()
        });
        let word = take::<4>(m, field::WORD.start).map(u32::from_be_bytes);
        let mut p = Icmpv6 {
            offset,
            icmp_type,
            code: be8(m, field::CODE),
            checksum: be16(m, field::CHECKSUM.start),
            checksum_ok,
            id: None,
            seq: None,
            mtu: None,
            pointer: None,
            ndp: None,
            mld: None,
            word,
            decoded_len: MIN_LEN,
            stopped: None,
            quoted: None,
        };
        let fixed = match icmp_type {
            types::ECHO_REQUEST | types::ECHO_REPLY => {
                p.id = take::<2>(m, field::ID.start).map(u16::from_be_bytes);
                p.seq = take::<2>(m, field::SEQ.start).map(u16::from_be_bytes);
                HEADER_LEN
            }
            types::PACKET_TOO_BIG => {
                p.mtu = word;
                HEADER_LEN
            }
            types::PARAMETER_PROBLEM => {
                p.pointer = word;
                HEADER_LEN
            }
            t if t < 128 => HEADER_LEN,
            types::ROUTER_SOLICITATION..=types::REDIRECT => p.parse_ndp(m),
            types::MLD_QUERY | types::MLD_REPORT | types::MLD_DONE | types::MLD2_REPORT => {
                p.parse_mld(m, msg_len)
            }
            _ => MIN_LEN,
        };
        if m.len() < fixed {
            let why = format!(
                "The ICMPv6 {} at byte {offset} has a {fixed}-byte fixed part but only {} bytes were captured.",
                p.type_text(),
                m.len()
            );
            p.stopped.get_or_insert(why);
        }
        p.decoded_len = p.decoded_len.max(fixed).min(m.len());
        Ok(p)
    }

    /// Reads the neighbour discovery fields and options; returns the fixed part's
    /// length.
    fn parse_ndp(&mut self, m: &[u8]) -> usize {
        let mut ndp = Ndp::default();
        let ip_at = |r: std::ops::Range<usize>| take::<16>(m, r.start).map(Ipv6Addr::from);
        let opts_at = match self.icmp_type {
            types::ROUTER_SOLICITATION => field::RS_OPTIONS,
            types::ROUTER_ADVERTISEMENT => {
                let flags = m.get(field::RA_FLAGS).copied();
                ndp.cur_hop_limit = m.get(field::RA_CUR_HOP_LIMIT).copied();
                ndp.managed = flags.map(|f| f & field::RA_M != 0);
                ndp.other = flags.map(|f| f & field::RA_O != 0);
                ndp.router_lifetime =
                    take::<2>(m, field::RA_ROUTER_LIFETIME.start).map(u16::from_be_bytes);
                ndp.reachable_time =
                    take::<4>(m, field::RA_REACHABLE_TIME.start).map(u32::from_be_bytes);
                ndp.retrans_timer =
                    take::<4>(m, field::RA_RETRANS_TIMER.start).map(u32::from_be_bytes);
                field::RA_OPTIONS
            }
            types::NEIGHBOR_SOLICITATION => {
                ndp.target = ip_at(field::TARGET);
                field::NS_OPTIONS
            }
            types::NEIGHBOR_ADVERTISEMENT => {
                ndp.router = self.word.map(|w| w & field::NA_R != 0);
                ndp.solicited = self.word.map(|w| w & field::NA_S != 0);
                ndp.override_flag = self.word.map(|w| w & field::NA_O != 0);
                ndp.target = ip_at(field::TARGET);
                field::NS_OPTIONS
            }
            _ => {
                ndp.target = ip_at(field::TARGET);
                ndp.destination = ip_at(field::REDIRECT_DEST);
                field::REDIRECT_OPTIONS
            }
        };
        let mut at = opts_at;
        while at < m.len() {
            let o = self.offset + at;
            let units = be8(m, at + opt_field::LEN);
            let len = usize::from(units) * 8;
            if m.len() < at + 2 {
                self.stopped = Some(format!(
                    "The NDP option at byte {o} was cut short before its length byte."
                ));
                break;
            }
            if len == 0 {
                self.stopped = Some(format!(
                    "The NDP option at byte {o} has length 0, which is invalid (RFC 4861 says to drop the message), so the options after it cannot be read."
                ));
                break;
            }
            let Some(b) = m.get(at..at + len) else {
                self.stopped = Some(format!(
                    "The NDP option at byte {o} needs {len} bytes but only {} were captured.",
                    m.len() - at
                ));
                break;
            };
            ndp.options.push(parse_option(b, o));
            at += len;
        }
        self.decoded_len = at.min(m.len());
        self.ndp = Some(ndp);
        opts_at
    }

    /// Reads the MLD fields (and MLDv2 records or sources); returns the fixed part's
    /// length.
    fn parse_mld(&mut self, m: &[u8], msg_len: usize) -> usize {
        let mut mld = Mld::default();
        let addr = take::<16>(m, field::MLD_ADDR.start).map(Ipv6Addr::from);
        let code = take::<2>(m, field::MLD_MAX_DELAY.start).map(u16::from_be_bytes);
        let mut end;
        let fixed;
        if self.icmp_type == types::MLD2_REPORT {
            let n = take::<2>(m, field::MLD2_NUM_RECORDS.start).map(u16::from_be_bytes);
            mld.num_records = n;
            fixed = field::MLD2_RECORDS;
            end = fixed;
            for _ in 0..n.unwrap_or(0) {
                let rec = parse_record(m, end, self.offset);
                let whole = rec.as_ref().is_some_and(|r| end + r.wire_len() <= m.len());
                if !whole {
                    self.stopped = Some(format!(
                        "The MLDv2 address record at byte {} was cut short.",
                        self.offset + end
                    ));
                }
                let Some(rec) = rec else { break };
                end += rec.wire_len();
                mld.records.push(rec);
                if !whole {
                    break;
                }
            }
        } else if self.icmp_type == types::MLD_QUERY && msg_len >= field::MLD2_Q_SOURCES {
            // RFC 3810 §8.1: a query of 28 bytes or more is an MLDv2 query.
            mld.max_response_code = code;
            mld.max_response_delay = code.map(mld2_max_response_delay);
            mld.multicast_address = addr;
            mld.query_flags = m.get(field::MLD2_Q_FLAGS).copied();
            mld.qqic = m.get(field::MLD2_QQIC).copied();
            let n = take::<2>(m, field::MLD2_Q_NUM_SOURCES.start).map(u16::from_be_bytes);
            mld.num_sources = n;
            mld.sources = (0..usize::from(n.unwrap_or(0)))
                .map_while(|i| take::<16>(m, field::MLD2_Q_SOURCES + 16 * i))
                .map(Ipv6Addr::from)
                .collect();
            fixed = field::MLD2_Q_SOURCES;
            end = fixed + 16 * mld.sources.len();
        } else {
            mld.max_response_code = code;
            mld.max_response_delay = code.map(u32::from);
            mld.multicast_address = addr;
            fixed = field::MLD_ADDR.end;
            end = fixed;
        }
        self.decoded_len = end.min(m.len());
        self.mld = Some(mld);
        fixed
    }

    /// True for error messages (types 0–127), which quote the packet that caused them.
    pub fn is_error(&self) -> bool {
        self.icmp_type < 128
    }

    /// For an error message, where the invoking packet (its IPv6 header, then the
    /// transport header) starts, in bytes from the start of the message: 8. It may lie
    /// past the bytes captured.
    pub fn quoted_at(&self) -> Option<usize> {
        self.is_error().then_some(field::QUOTED)
    }

    /// The type's name, or "unknown type N".
    pub fn type_text(&self) -> FieldText {
        match type_name(self.icmp_type) {
            Some(n) => n.into(),
            None => ftext!("unknown type {}", self.icmp_type),
        }
    }

    /// The code's meaning within the type, if it has one.
    pub fn code_name(&self) -> Option<&'static str> {
        code_name(self.icmp_type, self.code)
    }

    /// The options of a neighbour discovery message (none for other messages).
    pub fn ndp_options(&self) -> &[NdpOption] {
        self.ndp.as_ref().map_or(&[], |n| n.options.as_slice())
    }

    fn lladdr_option(&self, kind: u8) -> Option<MacAddr> {
        self.ndp_options()
            .iter()
            .find(|o| o.kind == kind)
            .and_then(|o| o.lladdr)
    }

    /// One sentence for the summary line; `src` and `dst` are the IPv6 header's
    /// addresses.
    pub fn explain(&self, src: Ipv6Addr, dst: Ipv6Addr) -> String {
        let ndp = self.ndp.as_ref();
        let target = shown(ndp.and_then(|n| n.target));
        let id_seq = format!(
            "id={} seq={}",
            self.id.unwrap_or_default(),
            self.seq.unwrap_or_default()
        );
        match self.icmp_type {
            types::ECHO_REQUEST => format!("ping: echo request {id_seq}"),
            types::ECHO_REPLY => format!("ping answered: echo reply {id_seq}"),
            types::NEIGHBOR_SOLICITATION if src.is_unspecified() => format!(
                "DAD probe: is anyone using {target}? (duplicate address detection, before the address is used)"
            ),
            types::NEIGHBOR_SOLICITATION if dst.is_multicast() => format!(
                "Who has {target}? Tell {src} (neighbour solicitation: IPv6's ARP, sent to the solicited-node multicast group)"
            ),
            types::NEIGHBOR_SOLICITATION => format!(
                "Is {target} still there? Tell {src} (neighbour solicitation sent straight to it: checking it is still reachable)"
            ),
            types::NEIGHBOR_ADVERTISEMENT => {
                let n = ndp.cloned().unwrap_or_default();
                let mut why = vec![if n.solicited == Some(true) {
                    "answers a solicitation"
                } else {
                    "unsolicited, announces a change"
                }];
                if n.router == Some(true) {
                    why.push("the sender is a router");
                }
                if n.override_flag == Some(true) {
                    why.push("replaces cached entries");
                }
                let why = why.join(", ");
                match self.lladdr_option(opt::TARGET_LLADDR) {
                    Some(mac) => format!("{target} is at {mac} (neighbour advertisement: {why})"),
                    None => format!(
                        "{target} is here (neighbour advertisement without a link-layer address: {why})"
                    ),
                }
            }
            types::ROUTER_SOLICITATION => match self.lladdr_option(opt::SOURCE_LLADDR) {
                Some(mac) => format!(
                    "Any routers here? Tell {src} at {mac} (router solicitation: asks routers to advertise now)"
                ),
                None => format!(
                    "Any routers here? Tell {src} (router solicitation: asks routers to advertise now)"
                ),
            },
            types::ROUTER_ADVERTISEMENT => {
                let n = ndp.cloned().unwrap_or_default();
                let mut s = format!("Router {src} advertises itself");
                for p in n.options.iter().filter(|o| o.kind == opt::PREFIX_INFO) {
                    if let (Some(prefix), Some(len)) = (p.prefix, p.prefix_len) {
                        s.push_str(&format!(", prefix {prefix}/{len}"));
                    }
                }
                match n.router_lifetime {
                    Some(0) => s.push_str(", but not as a default router"),
                    Some(l) => s.push_str(&format!(", as default router for {l} s")),
                    None => {}
                }
                if n.managed == Some(true) {
                    s.push_str("; addresses from DHCPv6 (M)");
                } else if n.other == Some(true) {
                    s.push_str("; other settings from DHCPv6 (O)");
                }
                s.push_str(" (router advertisement)");
                s
            }
            types::REDIRECT => {
                let dest = ndp.and_then(|n| n.destination);
                let same = dest.is_some() && dest == ndp.and_then(|n| n.target);
                let dest = shown(dest);
                if same {
                    format!("Redirect: {dest} is on your link, send to it directly")
                } else {
                    format!("Redirect: to reach {dest}, use {target} as the next hop")
                }
            }
            types::MLD_QUERY => match self.mld.as_ref().and_then(|m| m.multicast_address) {
                Some(g) if !g.is_unspecified() => {
                    format!("MLD query: does anyone still listen to {g}?")
                }
                _ => "MLD query: which multicast groups do you listen to? (general query)"
                    .to_string(),
            },
            types::MLD_REPORT | types::MLD_DONE => {
                let g = shown(self.mld.as_ref().and_then(|m| m.multicast_address));
                if self.icmp_type == types::MLD_REPORT {
                    format!("MLD report: joins {g} (listens to it)")
                } else {
                    format!("MLD done: leaves {g}")
                }
            }
            types::MLD2_REPORT => {
                let records = self.mld.as_ref().map_or(&[][..], |m| &m.records);
                if records.is_empty() {
                    return match self.mld.as_ref().and_then(|m| m.num_records) {
                        Some(0) => "MLDv2 report: no records".to_string(),
                        _ => "MLDv2 report (its records were not captured)".to_string(),
                    };
                }
                // Group the records by what they do: "joins a, b; leaves c".
                let mut parts: Vec<(&str, Vec<String>)> = Vec::new();
                for r in records {
                    let verb = r.verb();
                    let g = r.multicast_address.to_string();
                    match parts.iter_mut().find(|(v, _)| *v == verb) {
                        Some((_, gs)) => gs.push(g),
                        None => parts.push((verb, vec![g])),
                    }
                }
                let parts: Vec<String> = parts
                    .into_iter()
                    .map(|(v, gs)| format!("{v} {}", gs.join(", ")))
                    .collect();
                format!("MLDv2 report: {}", parts.join("; "))
            }
            types::PACKET_TOO_BIG => format!(
                "Packet too big: the next link's MTU is {} bytes (routers never fragment IPv6, so the sender must send smaller packets)",
                self.mtu.unwrap_or_default()
            ),
            types::PARAMETER_PROBLEM => format!(
                "Parameter problem: {}, at byte {} of the quoted packet",
                self.code_name().unwrap_or("unknown code"),
                self.pointer.unwrap_or_default()
            ),
            _ => match self.code_name() {
                Some(c) => format!("{}: {c}", self.type_text()),
                None => format!("ICMPv6 {} (code {})", self.type_text(), self.code),
            },
        }
    }
}

/// An address for a sentence, or words saying it was not captured.
fn shown(a: Option<Ipv6Addr>) -> String {
    a.map_or_else(|| "(address not captured)".to_string(), |a| a.to_string())
}

/// Reads one NDP option (`b` holds all of it, at `offset` in the frame).
fn parse_option(b: &[u8], offset: usize) -> NdpOption {
    let kind = be8(b, opt_field::TYPE);
    let mut o = NdpOption {
        offset,
        kind,
        len: b.len(),
        lladdr: None,
        prefix_len: None,
        onlink: None,
        autonomous: None,
        valid_lifetime: None,
        preferred_lifetime: None,
        prefix: None,
        mtu: None,
        flags: 0,
        data: b.get(opt_field::LLADDR..).unwrap_or_default().to_vec(),
    };
    match kind {
        opt::SOURCE_LLADDR | opt::TARGET_LLADDR if b.len() == 8 => {
            o.lladdr = b.get(opt_field::LLADDR..).and_then(MacAddr::from_slice);
        }
        opt::PREFIX_INFO if b.len() >= opt_field::PREFIX.end => {
            let flags = be8(b, opt_field::PREFIX_FLAGS);
            o.flags = flags;
            o.prefix_len = Some(be8(b, opt_field::PREFIX_LEN));
            o.onlink = Some(flags & field::PI_L != 0);
            o.autonomous = Some(flags & field::PI_A != 0);
            o.valid_lifetime = Some(be32(b, opt_field::VALID.start));
            o.preferred_lifetime = Some(be32(b, opt_field::PREFERRED.start));
            o.prefix = take::<16>(b, opt_field::PREFIX.start).map(Ipv6Addr::from);
        }
        opt::MTU if b.len() >= opt_field::MTU.end => {
            o.mtu = Some(be32(b, opt_field::MTU.start));
        }
        _ => {}
    }
    o
}

/// Reads the MLDv2 address record at `at` in `m`: `None` when its 20-byte fixed part
/// was not all captured. Sources are read as far as captured.
fn parse_record(m: &[u8], at: usize, offset: usize) -> Option<MldRecord> {
    let group = take::<16>(m, at + 4)?;
    let num_sources = be16(m, at + 2);
    let sources = (0..usize::from(num_sources))
        .map_while(|i| take::<16>(m, at + 20 + 16 * i))
        .map(Ipv6Addr::from)
        .collect();
    Some(MldRecord {
        offset: offset + at,
        kind: be8(m, at),
        aux_len: be8(m, at + 1),
        num_sources,
        multicast_address: Ipv6Addr::from(group),
        sources,
    })
}

/// RFC 3810 §5.1.3: an MLDv2 maximum response code of 32768 or more is a floating
/// point number (3-bit exponent, 12-bit mantissa); below it is the delay in ms.
fn mld2_max_response_delay(code: u16) -> u32 {
    if code < 0x8000 {
        u32::from(code)
    } else {
        let exp = u32::from((code >> 12) & 0x7);
        let mant = u32::from(code & 0x0fff);
        (mant | 0x1000) << (exp + 3)
    }
}

/// The name of an ICMPv6 type, if we know it.
pub fn type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        types::DEST_UNREACHABLE => "Destination unreachable",
        types::PACKET_TOO_BIG => "Packet too big",
        types::TIME_EXCEEDED => "Time exceeded",
        types::PARAMETER_PROBLEM => "Parameter problem",
        types::ECHO_REQUEST => "Echo request",
        types::ECHO_REPLY => "Echo reply",
        types::MLD_QUERY => "Multicast listener query",
        types::MLD_REPORT => "Multicast listener report (MLDv1)",
        types::MLD_DONE => "Multicast listener done",
        types::ROUTER_SOLICITATION => "Router solicitation",
        types::ROUTER_ADVERTISEMENT => "Router advertisement",
        types::NEIGHBOR_SOLICITATION => "Neighbour solicitation",
        types::NEIGHBOR_ADVERTISEMENT => "Neighbour advertisement",
        types::REDIRECT => "Redirect",
        138 => "Router renumbering",
        139 => "Node information query",
        140 => "Node information response",
        141 => "Inverse neighbour discovery solicitation",
        142 => "Inverse neighbour discovery advertisement",
        types::MLD2_REPORT => "Multicast listener report v2 (MLDv2)",
        151 => "Multicast router advertisement",
        152 => "Multicast router solicitation",
        153 => "Multicast router termination",
        155 => "RPL control message",
        160 => "Extended echo request",
        161 => "Extended echo reply",
        100 | 101 | 200 | 201 => "Private experimentation",
        _ => return None,
    })
}

/// The meaning of a code within its type (RFC 4443, RFC 7112), if it has one.
pub fn code_name(t: u8, c: u8) -> Option<&'static str> {
    Some(match (t, c) {
        (types::DEST_UNREACHABLE, 0) => "no route to destination",
        (types::DEST_UNREACHABLE, 1) => {
            "communication with destination administratively prohibited"
        }
        (types::DEST_UNREACHABLE, 2) => "beyond scope of source address",
        (types::DEST_UNREACHABLE, 3) => "address unreachable: no neighbour answered",
        (types::DEST_UNREACHABLE, 4) => "port unreachable: nothing listens on that port",
        (types::DEST_UNREACHABLE, 5) => "source address failed ingress/egress policy",
        (types::DEST_UNREACHABLE, 6) => "reject route to destination",
        (types::DEST_UNREACHABLE, 7) => "error in source routing header",
        (types::TIME_EXCEEDED, 0) => "hop limit reached 0 in transit",
        (types::TIME_EXCEEDED, 1) => "fragment reassembly time exceeded",
        (types::PARAMETER_PROBLEM, 0) => "erroneous header field",
        (types::PARAMETER_PROBLEM, 1) => "unrecognized next header type",
        (types::PARAMETER_PROBLEM, 2) => "unrecognized IPv6 option",
        (types::PARAMETER_PROBLEM, 3) => "first fragment has an incomplete header chain",
        _ => return None,
    })
}

/// The name of an NDP option type, if we know it.
pub fn option_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        opt::SOURCE_LLADDR => "Source link-layer address",
        opt::TARGET_LLADDR => "Target link-layer address",
        opt::PREFIX_INFO => "Prefix information",
        opt::REDIRECTED_HEADER => "Redirected header",
        opt::MTU => "MTU",
        14 => "Nonce",
        24 => "Route information",
        25 => "Recursive DNS server (RDNSS)",
        31 => "DNS search list (DNSSL)",
        38 => "PREF64",
        _ => return None,
    })
}

fn option_meaning(kind: u8) -> &'static str {
    match kind {
        opt::SOURCE_LLADDR => {
            "the sender's link-layer (MAC) address, so the receiver need not ask for it"
        }
        opt::TARGET_LLADDR => "the target's link-layer (MAC) address: the answer to \"who has\"",
        opt::PREFIX_INFO => "a prefix on this link, and whether hosts may build addresses from it",
        opt::REDIRECTED_HEADER => "the start of the packet that caused the redirect",
        opt::MTU => "the MTU every host on this link should use",
        14 => "a random number that pairs a DAD probe with its answers (RFC 7527)",
        25 => "DNS servers hosts may use (RFC 8106)",
        31 => "DNS search domains (RFC 8106)",
        _ => "an option wirelens does not decode",
    }
}

fn lifetime_text(s: u32) -> FieldText {
    if s == u32::MAX {
        "0xffffffff: forever".into()
    } else {
        ftext!("{s} s")
    }
}

impl Layer for Icmpv6 {
    fn name(&self) -> &'static str {
        "ICMPv6"
    }
    fn explain(&self, around: &super::Around, out: &mut Vec<u8>) -> bool {
        let v6 = |a: Option<std::net::IpAddr>| match a {
            Some(std::net::IpAddr::V6(a)) => Some(a),
            _ => None,
        };
        let (Some(src), Some(dst)) = (v6(around.src), v6(around.dst)) else {
            return false;
        };
        out.extend_from_slice(Icmpv6::explain(self, src, dst).as_bytes());
        if let Some(q) = self.quoted.as_deref() {
            q.write_about(out);
        }
        true
    }
    fn key(&self) -> &'static str {
        "icmpv6"
    }
    fn mark(&self) -> char {
        'C'
    }
    fn hue(&self) -> Hue {
        Hue::BoldCyan
    }
    fn model(&self) -> Model {
        Model::Network
    }
    fn span(&self) -> Span {
        Span {
            offset: self.offset,
            len: self.decoded_len,
        }
    }

    fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let mut v = super::icmp::header_fields(
            o,
            (self.icmp_type, self.type_text()),
            (self.code, self.code_name().unwrap_or("")),
            (
                self.checksum,
                match self.checksum_ok {
                    Some(true) => {
                        "correct: covers an IPv6 pseudo-header (addresses, length, next header 58) and the whole message"
                    }
                    Some(false) => {
                        "WRONG: the message was damaged, or the sender's NIC fills it in after capture"
                    }
                    None => "not verified: the message was not all captured",
                },
            ),
        );
        let Some(word) = self.word else {
            return v;
        };
        let w = o + field::WORD.start;
        match self.icmp_type {
            types::ECHO_REQUEST | types::ECHO_REPLY => {
                v.extend(super::icmp::echo_fields(
                    o,
                    (word >> 16) as u16,
                    (word & 0xffff) as u16,
                ));
            }
            types::PACKET_TOO_BIG => v.push(Field::new(
                w,
                4,
                "MTU",
                ftext!("{word} bytes"),
                "the largest packet the next link carries; the sender must send smaller ones",
            )),
            types::PARAMETER_PROBLEM => v.push(Field::new(
                w,
                4,
                "Pointer",
                word.ftext(),
                "the byte of the quoted packet where the problem was found",
            )),
            t if t < 128 => v.push(Field::new(
                w,
                4,
                "Unused",
                ftext!("0x{word:08x}"),
                "zero; the packet that caused the error follows",
            )),
            types::ROUTER_SOLICITATION..=types::REDIRECT => self.ndp_fields(&mut v, word),
            types::MLD_QUERY | types::MLD_REPORT | types::MLD_DONE | types::MLD2_REPORT => {
                self.mld_fields(&mut v, word)
            }
            _ => {}
        }
        v
    }
}

impl Icmpv6 {
    fn ndp_fields(&self, v: &mut Vec<Field>, word: u32) {
        let o = self.offset;
        let w = o + field::WORD.start;
        let Some(n) = &self.ndp else { return };
        match self.icmp_type {
            types::ROUTER_ADVERTISEMENT => {
                let flags = (word >> 16) as u8;
                let f = u32::from(flags);
                v.push(Field::new(
                    w,
                    1,
                    "Cur hop limit",
                    (word >> 24).ftext(),
                    "the hop limit hosts should put in their packets (0: their own choice)",
                ));
                let bit = |v: &mut Vec<Field>, mask: u8, name, on, off| {
                    let set = flags & mask != 0;
                    v.push(Field::bits(
                        o + field::RA_FLAGS,
                        1,
                        u32::from(mask),
                        f,
                        name,
                        u8::from(set).ftext(),
                        if set { on } else { off },
                    ));
                };
                bit(
                    v,
                    field::RA_M,
                    "Managed (M)",
                    "get addresses from DHCPv6",
                    "no DHCPv6 for addresses",
                );
                bit(
                    v,
                    field::RA_O,
                    "Other configuration (O)",
                    "get other settings (DNS…) from DHCPv6",
                    "no DHCPv6 for other settings",
                );
                bit(
                    v,
                    field::RA_H,
                    "Home agent (H)",
                    "the router is a Mobile IPv6 home agent",
                    "not a home agent",
                );
                v.push(Field::bits(
                    o + field::RA_FLAGS,
                    1,
                    u32::from(field::RA_PRF),
                    f,
                    "Router preference",
                    ((flags & field::RA_PRF) >> 3).ftext(),
                    match (flags & field::RA_PRF) >> 3 {
                        0 => "medium",
                        1 => "high",
                        3 => "low",
                        _ => "reserved (treated as medium)",
                    },
                ));
                v.push(Field::new(
                    o + field::RA_ROUTER_LIFETIME.start,
                    2,
                    "Router lifetime",
                    ftext!("{} s", word & 0xffff),
                    if word & 0xffff == 0 {
                        "0: not a default router"
                    } else {
                        "how long hosts may use this router as their default router"
                    },
                ));
                if let Some(t) = n.reachable_time {
                    v.push(Field::new(
                        o + field::RA_REACHABLE_TIME.start,
                        4,
                        "Reachable time",
                        ftext!("{t} ms"),
                        "how long a neighbour counts as reachable after a confirmation (0: unspecified)",
                    ));
                }
                if let Some(t) = n.retrans_timer {
                    v.push(Field::new(
                        o + field::RA_RETRANS_TIMER.start,
                        4,
                        "Retrans timer",
                        ftext!("{t} ms"),
                        "time between neighbour solicitations (0: unspecified)",
                    ));
                }
            }
            types::NEIGHBOR_ADVERTISEMENT => {
                let bit = |v: &mut Vec<Field>, mask: u32, name, on, off| {
                    let set = word & mask != 0;
                    v.push(Field::bits(
                        w,
                        4,
                        mask,
                        word,
                        name,
                        u8::from(set).ftext(),
                        if set { on } else { off },
                    ));
                };
                bit(
                    v,
                    field::NA_R,
                    "Router (R)",
                    "the sender is a router",
                    "the sender is not a router",
                );
                bit(
                    v,
                    field::NA_S,
                    "Solicited (S)",
                    "answers a neighbour solicitation",
                    "unsolicited: announces a change",
                );
                bit(
                    v,
                    field::NA_O,
                    "Override (O)",
                    "replace the link-layer address in caches",
                    "do not replace a cached link-layer address",
                );
                v.push(Field::bits(
                    w,
                    4,
                    0x1fff_ffff,
                    word,
                    "Reserved",
                    (word & 0x1fff_ffff).ftext(),
                    "must be zero",
                ));
            }
            _ => v.push(Field::new(
                w,
                4,
                "Reserved",
                ftext!("0x{word:08x}"),
                "must be zero",
            )),
        }
        if let Some(t) = n.target {
            v.push(Field::new(
                o + field::TARGET.start,
                16,
                if self.icmp_type == types::REDIRECT {
                    "Target (better first hop)"
                } else {
                    "Target address"
                },
                t.ftext(),
                match self.icmp_type {
                    types::NEIGHBOR_SOLICITATION => {
                        "the address whose link-layer address is asked for"
                    }
                    types::NEIGHBOR_ADVERTISEMENT => {
                        "the address whose link-layer address is announced"
                    }
                    _ => "the router (or the destination itself) to send to instead",
                },
            ));
        }
        if let Some(d) = n.destination {
            v.push(Field::new(
                o + field::REDIRECT_DEST.start,
                16,
                "Destination address",
                d.ftext(),
                "the destination whose packets should go to the target instead",
            ));
        }
        for opt in &n.options {
            option_fields(v, opt);
        }
    }

    fn mld_fields(&self, v: &mut Vec<Field>, word: u32) {
        let o = self.offset;
        let w = o + field::WORD.start;
        let Some(m) = &self.mld else { return };
        if self.icmp_type == types::MLD2_REPORT {
            v.push(Field::new(
                w,
                2,
                "Reserved",
                (word >> 16).ftext(),
                "must be zero",
            ));
            v.push(Field::new(
                o + field::MLD2_NUM_RECORDS.start,
                2,
                "Number of records",
                (word & 0xffff).ftext(),
                "multicast address records that follow",
            ));
            for r in &m.records {
                v.push(Field::new(
                    r.offset,
                    1,
                    "Record type",
                    r.kind.ftext(),
                    match r.kind {
                        1 => "MODE_IS_INCLUDE: listens only to the sources listed",
                        2 => "MODE_IS_EXCLUDE: listens to all sources but those listed",
                        3 => "CHANGE_TO_INCLUDE: now only the sources listed (none: leaves)",
                        4 => "CHANGE_TO_EXCLUDE: now all sources but those listed (none: joins)",
                        5 => "ALLOW_NEW_SOURCES: also listens to the sources listed",
                        6 => "BLOCK_OLD_SOURCES: stops listening to the sources listed",
                        _ => "a record type wirelens does not know",
                    },
                ));
                v.push(Field::new(
                    r.offset + 1,
                    1,
                    "Aux data length",
                    r.aux_len.ftext(),
                    ftext!("{} × 4 bytes of auxiliary data", r.aux_len),
                ));
                v.push(Field::new(
                    r.offset + 2,
                    2,
                    "Number of sources",
                    r.num_sources.ftext(),
                    "source addresses listed in this record",
                ));
                v.push(Field::new(
                    r.offset + 4,
                    16,
                    "Multicast address",
                    r.multicast_address.ftext(),
                    super::ipv6::describe_addr(r.multicast_address),
                ));
                for (i, s) in r.sources.iter().enumerate() {
                    v.push(Field::new(
                        r.offset + 20 + 16 * i,
                        16,
                        "Source address",
                        s.ftext(),
                        "",
                    ));
                }
            }
            return;
        }
        let v2 = m.query_flags.is_some() || m.num_sources.is_some();
        v.push(Field::new(
            w,
            2,
            if v2 {
                "Maximum response code"
            } else {
                "Maximum response delay"
            },
            (word >> 16).ftext(),
            match (self.icmp_type, m.max_response_delay) {
                (types::MLD_QUERY, Some(ms)) => ftext!(
                    "listeners answer within a random time up to {ms} ms, so their reports spread out"
                ),
                _ => "unused in a report or done: zero".into(),
            },
        ));
        v.push(Field::new(
            o + 6,
            2,
            "Reserved",
            (word & 0xffff).ftext(),
            "must be zero",
        ));
        if let Some(g) = m.multicast_address {
            v.push(Field::new(
                o + field::MLD_ADDR.start,
                16,
                "Multicast address",
                g.ftext(),
                if g.is_unspecified() {
                    ":: a general query: about every group".into()
                } else {
                    super::ipv6::describe_addr(g)
                },
            ));
        }
        if let Some(flags) = m.query_flags {
            let f = u32::from(flags);
            v.push(Field::bits(
                o + field::MLD2_Q_FLAGS,
                1,
                0x08,
                f,
                "Suppress router-side processing (S)",
                u8::from(flags & 0x08 != 0).ftext(),
                "routers that hear it do not lower their timers",
            ));
            v.push(Field::bits(
                o + field::MLD2_Q_FLAGS,
                1,
                0x07,
                f,
                "Querier's robustness variable (QRV)",
                (flags & 0x07).ftext(),
                "how many times messages are repeated, against loss",
            ));
        }
        if let Some(q) = m.qqic {
            v.push(Field::new(
                o + field::MLD2_QQIC,
                1,
                "Querier's query interval code",
                q.ftext(),
                "seconds between general queries",
            ));
        }
        if let Some(n) = m.num_sources {
            v.push(Field::new(
                o + field::MLD2_Q_NUM_SOURCES.start,
                2,
                "Number of sources",
                n.ftext(),
                "sources this query asks about (0: any)",
            ));
        }
        for (i, s) in m.sources.iter().enumerate() {
            v.push(Field::new(
                o + field::MLD2_Q_SOURCES + 16 * i,
                16,
                "Source address",
                s.ftext(),
                "",
            ));
        }
    }
}

fn option_fields(v: &mut Vec<Field>, opt: &NdpOption) {
    let o = opt.offset;
    v.push(Field::new(
        o + opt_field::TYPE,
        1,
        "Option type",
        ftext!(
            "{} ({})",
            option_name(opt.kind).unwrap_or("unknown"),
            opt.kind
        ),
        option_meaning(opt.kind),
    ));
    v.push(Field::new(
        o + opt_field::LEN,
        1,
        "Option length",
        (opt.len / 8).ftext(),
        ftext!(
            "{} × 8 = {} bytes, type and length included",
            opt.len / 8,
            opt.len
        ),
    ));
    if let Some(mac) = opt.lladdr {
        v.push(Field::new(
            o + opt_field::LLADDR,
            6,
            "Link-layer address",
            mac.ftext(),
            mac.describe(),
        ));
        return;
    }
    if let (Some(len), Some(prefix)) = (opt.prefix_len, opt.prefix) {
        let f = u32::from(opt.flags);
        v.push(Field::new(
            o + opt_field::PREFIX_LEN,
            1,
            "Prefix length",
            len.ftext(),
            "bits of the prefix that count",
        ));
        v.push(Field::bits(
            o + opt_field::PREFIX_FLAGS,
            1,
            u32::from(field::PI_L),
            f,
            "On-link (L)",
            u8::from(opt.onlink == Some(true)).ftext(),
            if opt.onlink == Some(true) {
                "addresses in the prefix are on this link: reach them without a router"
            } else {
                "says nothing about whether the prefix is on-link"
            },
        ));
        v.push(Field::bits(
            o + opt_field::PREFIX_FLAGS,
            1,
            u32::from(field::PI_A),
            f,
            "Autonomous (A)",
            u8::from(opt.autonomous == Some(true)).ftext(),
            if opt.autonomous == Some(true) {
                "hosts may build their own address from the prefix (SLAAC)"
            } else {
                "hosts must not build addresses from it themselves"
            },
        ));
        v.push(Field::new(
            o + opt_field::VALID.start,
            4,
            "Valid lifetime",
            lifetime_text(opt.valid_lifetime.unwrap_or_default()),
            "how long addresses from the prefix stay valid",
        ));
        v.push(Field::new(
            o + opt_field::PREFERRED.start,
            4,
            "Preferred lifetime",
            lifetime_text(opt.preferred_lifetime.unwrap_or_default()),
            "how long such addresses are preferred for new connections",
        ));
        v.push(Field::new(
            o + opt_field::PREFIX_RESERVED.start,
            4,
            "Reserved",
            "",
            "must be zero",
        ));
        v.push(Field::new(
            o + opt_field::PREFIX.start,
            16,
            "Prefix",
            ftext!("{prefix}/{len}"),
            super::ipv6::describe_addr(prefix),
        ));
        return;
    }
    if let Some(mtu) = opt.mtu {
        v.push(Field::new(
            o + opt_field::MTU_RESERVED.start,
            2,
            "Reserved",
            "",
            "must be zero",
        ));
        v.push(Field::new(
            o + opt_field::MTU.start,
            4,
            "MTU",
            ftext!("{mtu} bytes"),
            "the link MTU hosts should use",
        ));
        return;
    }
    if !opt.data.is_empty() {
        v.push(Field::new(
            o + opt_field::LLADDR,
            opt.data.len(),
            "Option data",
            if opt.data.len() <= 16 {
                super::hex(&opt.data).into()
            } else {
                ftext!("{} bytes", opt.data.len())
            },
            "",
        ));
    }
}

/// Which neighbour discovery message a [`NeighbourMessage`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeighbourKind {
    /// Type 135: "who has the target? Tell me" (IPv6's ARP request).
    Solicitation,
    /// Type 136: "the target is at this link-layer address".
    Advertisement {
        /// R: the sender is a router.
        router: bool,
        /// S: it answers a solicitation (an unsolicited one announces a change).
        solicited: bool,
        /// O: receivers replace the link-layer address they have cached.
        override_flag: bool,
    },
}

/// A neighbour solicitation or advertisement to send (RFC 4861, sections 4.3 and 4.4),
/// in the owned form the sender builds: [`NeighbourMessage::emit`] writes it, checksum
/// included, and [`Icmpv6::parse`] reads the same message back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighbourMessage {
    /// Solicitation or advertisement.
    pub kind: NeighbourKind,
    /// The address asked or answered about.
    pub target: Ipv6Addr,
    /// The one option: in a solicitation the sender's MAC (source link-layer address,
    /// type 1), in an advertisement the target's (target link-layer address, type 2).
    /// `None` sends no option, as a duplicate address detection probe must.
    pub lladdr: Option<MacAddr>,
}

impl NeighbourMessage {
    /// The hop limit every neighbour discovery message carries: 255. A receiver drops
    /// one with any other value, which proves the message was not routed in from
    /// another link (RFC 4861, section 6.1).
    pub const HOP_LIMIT: u8 = 255;

    /// Bytes of the option carrying an Ethernet address: type, length and 6 bytes.
    const LLADDR_OPTION_LEN: usize = 8;

    /// Length of the message in bytes: 24 (header and target), plus 8 for the option.
    pub fn len(&self) -> usize {
        field::NS_OPTIONS + self.lladdr.map_or(0, |_| Self::LLADDR_OPTION_LEN)
    }

    /// Always false: a message holds at least its header and target.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the message to `out`, its checksum computed over the pseudo-header `ph`
    /// (the IPv6 source and destination the message is sent with) and the message.
    pub fn emit(&self, ph: &PseudoHeader, out: &mut Vec<u8>) {
        let start = out.len();
        let (kind, word, option) = match self.kind {
            NeighbourKind::Solicitation => (types::NEIGHBOR_SOLICITATION, 0u32, opt::SOURCE_LLADDR),
            NeighbourKind::Advertisement {
                router,
                solicited,
                override_flag,
            } => {
                let mut w = 0;
                for (set, bit) in [
                    (router, field::NA_R),
                    (solicited, field::NA_S),
                    (override_flag, field::NA_O),
                ] {
                    if set {
                        w |= bit;
                    }
                }
                (types::NEIGHBOR_ADVERTISEMENT, w, opt::TARGET_LLADDR)
            }
        };
        out.push(kind);
        out.push(0); // code
        out.extend_from_slice(&[0, 0]); // checksum, filled in below
        out.extend_from_slice(&word.to_be_bytes());
        out.extend_from_slice(&self.target.octets());
        if let Some(mac) = self.lladdr {
            out.push(option);
            // In 8-byte units on the wire.
            out.push((Self::LLADDR_OPTION_LEN / 8) as u8);
            out.extend_from_slice(&mac.0);
        }
        let msg = out.get(start..).unwrap_or_default();
        let c = Sum::default()
            .add_pseudo(ph, NEXT_HEADER, msg.len() as u32)
            .add_bytes(msg)
            .checksum();
        if let Some(slot) = out.get_mut(start + field::CHECKSUM.start..start + field::CHECKSUM.end)
        {
            slot.copy_from_slice(&c.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ph(src: &str, dst: &str) -> PseudoHeader {
        PseudoHeader::V6 {
            src: src.parse().expect("address"),
            dst: dst.parse().expect("address"),
        }
    }

    /// Frame 13 of captures/ipv6-noise.pcap: fd77::1 → ff02::1:ff00:2.
    const NS: [u8; 32] = [
        0x87, // type 135: neighbour solicitation
        0x00, // code 0
        0x7c, 0x32, // checksum
        0x00, 0x00, 0x00, 0x00, // reserved
        0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // target fd77::2
        0x01, // option: source link-layer address
        0x01, // length 1 × 8 bytes
        0x02, 0x77, 0x00, 0x00, 0x00, 0x01, // 02:77:00:00:00:01
    ];

    /// Frame 14: fd77::2 → fd77::1.
    const NA: [u8; 32] = [
        0x88, // type 136: neighbour advertisement
        0x00, // code 0
        0x1a, 0xbe, // checksum
        0x60, 0x00, 0x00, 0x00, // flags: solicited, override
        0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // target fd77::2
        0x02, // option: target link-layer address
        0x01, // length 1 × 8 bytes
        0x02, 0x77, 0x00, 0x00, 0x00, 0x02, // 02:77:00:00:00:02
    ];

    #[test]
    fn built_neighbour_messages_are_the_captured_ones_byte_for_byte() {
        let target: Ipv6Addr = "fd77::2".parse().expect("address");
        let ns = NeighbourMessage {
            kind: NeighbourKind::Solicitation,
            target,
            lladdr: Some(MacAddr([2, 0x77, 0, 0, 0, 1])),
        };
        let mut out = Vec::new();
        ns.emit(&ph("fd77::1", "ff02::1:ff00:2"), &mut out);
        assert_eq!((out.as_slice(), ns.len()), (&NS[..], NS.len()));
        let na = NeighbourMessage {
            kind: NeighbourKind::Advertisement {
                router: false,
                solicited: true,
                override_flag: true,
            },
            target,
            lladdr: Some(MacAddr([2, 0x77, 0, 0, 0, 2])),
        };
        let mut out = vec![0xaa]; // appended after what is already there
        na.emit(&ph("fd77::2", "fd77::1"), &mut out);
        assert_eq!(out.get(1..), Some(&NA[..]));
        let back = Icmpv6::parse(&NA, 54, NA.len(), &ph("fd77::2", "fd77::1")).expect("parses");
        assert_eq!(back.checksum_ok, Some(true));
        let bare = NeighbourMessage { lladdr: None, ..ns };
        let mut out = Vec::new();
        bare.emit(&ph("::", "ff02::1:ff00:2"), &mut out);
        assert_eq!(out.len(), 24);
        let back = Icmpv6::parse(&out, 0, out.len(), &ph("::", "ff02::1:ff00:2")).expect("parses");
        assert_eq!(back.checksum_ok, Some(true));
        assert_eq!(back.ndp.and_then(|n| n.target), Some(target));
    }

    /// Frame 4: a DAD probe, :: → ff02::1:ff00:2, with a nonce option.
    const DAD: [u8; 32] = [
        0x87, // type 135: neighbour solicitation
        0x00, // code 0
        0xb3, 0xe3, // checksum
        0x00, 0x00, 0x00, 0x00, // reserved
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x00, 0x77, 0x00, 0xff, 0xfe, 0x00, 0x00,
        0x02, // target fe80::77:ff:fe00:2
        0x0e, // option: nonce
        0x01, // length 1 × 8 bytes
        0x11, 0x98, 0x46, 0x33, 0x62, 0xf4, // the nonce
    ];

    /// Frame 8: a router solicitation, fe80::77:ff:fe00:2 → ff02::2.
    const RS: [u8; 16] = [
        0x85, // type 133: router solicitation
        0x00, // code 0
        0x7a, 0x3c, // checksum
        0x00, 0x00, 0x00, 0x00, // reserved
        0x01, // option: source link-layer address
        0x01, // length 1 × 8 bytes
        0x02, 0x77, 0x00, 0x00, 0x00, 0x02, // 02:77:00:00:00:02
    ];

    /// Frame 15: a ping, fd77::1 → fd77::2 (first 16 of the 64 bytes of data).
    const ECHO: [u8; 64] = [
        0x80, // type 128: echo request
        0x00, // code 0
        0x5a, 0x02, // checksum
        0x5f, 0x3b, // identifier
        0x00, 0x01, // sequence number 1
        0x10, 0x3e, 0x04, 0x6b, 0x00, 0x00, 0x00, 0x00, // data: ping's timestamp
        0xe9, 0xd7, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, // data
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, // data: 0x10, 0x11…
        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, //
        0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, //
        0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, //
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, //
    ];

    /// Frame 1: an MLDv2 report from :: to ff02::16 (after the hop-by-hop header).
    const MLD2: [u8; 28] = [
        0x8f, // type 143: MLDv2 report
        0x00, // code 0
        0x6f, 0x88, // checksum
        0x00, 0x00, // reserved
        0x00, 0x01, // 1 record
        0x04, // record type 4: change to exclude (with no sources: join)
        0x00, // aux data length 0
        0x00, 0x00, // 0 sources
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x00, 0x02, // ff02::1:ff00:2
    ];

    /// A router advertisement (hand-built per RFC 4861; tshark decodes it the same):
    /// fe80::1 → ff02::1.
    const RA: [u8; 64] = [
        0x86, // type 134: router advertisement
        0x00, // code 0
        0x00, 0x00, // checksum (filled in by `with_checksum`)
        0x40, // cur hop limit 64
        0xc8, // flags: M, O, preference high (01)
        0x07, 0x08, // router lifetime 1800 s
        0x00, 0x00, 0x75, 0x30, // reachable time 30000 ms
        0x00, 0x00, 0x03, 0xe8, // retrans timer 1000 ms
        0x03, // option: prefix information
        0x04, // length 4 × 8 = 32 bytes
        0x40, // prefix length 64
        0xc0, // flags: L, A
        0x00, 0x27, 0x8d, 0x00, // valid lifetime 2592000 s
        0x00, 0x09, 0x3a, 0x80, // preferred lifetime 604800 s
        0x00, 0x00, 0x00, 0x00, // reserved
        0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    // prefix fd77::
        0x05, // option: MTU
        0x01, // length 1 × 8 bytes
        0x00, 0x00, // reserved
        0x00, 0x00, 0x05, 0xdc, // MTU 1500
        0x01, // option: source link-layer address
        0x01, // length 1 × 8 bytes
        0x02, 0x77, 0x00, 0x00, 0x00, 0x01, // 02:77:00:00:00:01
    ];

    /// A packet-too-big error (hand-built per RFC 4443): 2001:db8::1 → 2001:db8::2, quoting
    /// the start of the packet that did not fit.
    const TOO_BIG: [u8; 48] = [
        0x02, // type 2: packet too big
        0x00, // code 0
        0x00, 0x00, // checksum (filled in by `with_checksum`)
        0x00, 0x00, 0x05, 0x00, // MTU 1280
        0x60, 0x00, 0x00, 0x00, // quoted IPv6: version 6…
        0x05, 0xb4, 0x11, 0x40, // payload length 1460, UDP, hop limit 64
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // source
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, // destination
    ];

    /// A redirect built with scapy (fe80::1 → fe80::2; tshark agrees on every field).
    const REDIRECT: [u8; 48] = [
        0x89, // type 137: redirect
        0x00, // code 0
        0x48, 0xc7, // checksum
        0x00, 0x00, 0x00, 0x00, // reserved
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, // target fe80::9
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, // destination
        0x02, // option: target link-layer address
        0x01, // length 1 × 8 bytes
        0x02, 0x77, 0x00, 0x00, 0x00, 0x09, // 02:77:00:00:00:09
    ];

    /// An MLDv2 query built with scapy (fe80::1 → ff02::1, after a hop-by-hop header).
    const MLD2_QUERY: [u8; 60] = [
        0x82, // type 130: multicast listener query
        0x00, // code 0
        0x53, 0x7b, // checksum
        0x27, 0x10, // maximum response code 10000 (ms, under 32768)
        0x00, 0x00, // reserved
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb, // group ff02::fb
        0x0a, // S set, QRV 2
        0x7d, // QQIC 125
        0x00, 0x02, // 2 sources
        0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, // fd77::5
        0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x06, // fd77::6
    ];

    fn with_checksum<const N: usize>(mut b: [u8; N], ph: &PseudoHeader) -> [u8; N] {
        let c = Sum::default()
            .add_pseudo(ph, NEXT_HEADER, N as u32)
            .add_bytes(&b)
            .checksum();
        b[2..4].copy_from_slice(&c.to_be_bytes());
        b
    }

    fn a(s: &str) -> Ipv6Addr {
        s.parse().expect("address")
    }

    #[test]
    fn neighbour_solicitation() {
        let ph = ph("fd77::1", "ff02::1:ff00:2");
        let m = Icmpv6::parse(&NS, 54, 32, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        let ndp = m.ndp.as_ref().expect("ndp");
        assert_eq!(ndp.target, Some(a("fd77::2")));
        assert_eq!(ndp.options.len(), 1);
        assert_eq!(ndp.options[0].lladdr, Some(MacAddr([2, 0x77, 0, 0, 0, 1])));
        assert_eq!(
            m.explain(a("fd77::1"), a("ff02::1:ff00:2")),
            "Who has fd77::2? Tell fd77::1 (neighbour solicitation: IPv6's ARP, sent to the solicited-node multicast group)"
        );
        let cut = Icmpv6::parse(&NS[..10], 54, 32, &ph).expect("parses");
        assert!(
            cut.explain(a("fd77::1"), a("ff02::1:ff00:2"))
                .starts_with("Who has (address not captured)? Tell fd77::1")
        );
        assert_eq!(
            cut.stopped.as_deref(),
            Some(
                "The ICMPv6 Neighbour solicitation at byte 54 has a 24-byte fixed part but only 10 bytes were captured."
            )
        );
        assert_eq!(
            m.span(),
            Span {
                offset: 54,
                len: 32
            }
        );
        let f = m.fields();
        let ll = f
            .iter()
            .find(|f| f.name == "Link-layer address")
            .expect("lladdr");
        assert_eq!(
            (ll.offset, ll.len, ll.value.as_str()),
            (80, 6, "02:77:00:00:00:01")
        );
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            r#"{"type":135,"code":0,"checksum":31794,"checksum_ok":true,"ndp":{"target":"fd77::2","options":[{"type":1,"len":8,"lladdr":"02:77:00:00:00:01"}]}}"#
        );
    }

    #[test]
    fn neighbour_advertisement() {
        let ph = ph("fd77::2", "fd77::1");
        let m = Icmpv6::parse(&NA, 54, 32, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        let ndp = m.ndp.as_ref().expect("ndp");
        assert_eq!(
            (ndp.router, ndp.solicited, ndp.override_flag),
            (Some(false), Some(true), Some(true))
        );
        assert_eq!(
            m.explain(a("fd77::2"), a("fd77::1")),
            "fd77::2 is at 02:77:00:00:00:02 (neighbour advertisement: answers a solicitation, replaces cached entries)"
        );
        let f = m.fields();
        let s = f.iter().find(|f| f.name == "Solicited (S)").expect("S");
        assert_eq!(
            s.bits.as_deref(),
            Some(".1.. .... .... .... .... .... .... ....")
        );
        let json = serde_json::to_value(&m).expect("json");
        assert_eq!(json["ndp"]["override"], true);
        assert_eq!(json["ndp"]["router"], false);
    }

    #[test]
    fn dad_probe() {
        let ph = ph("::", "ff02::1:ff00:2");
        let m = Icmpv6::parse(&DAD, 54, 32, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        assert_eq!(
            m.explain(Ipv6Addr::UNSPECIFIED, a("ff02::1:ff00:2")),
            "DAD probe: is anyone using fe80::77:ff:fe00:2? (duplicate address detection, before the address is used)"
        );
        let opt = &m.ndp_options()[0];
        assert_eq!((opt.kind, opt.len, opt.lladdr), (14, 8, None));
        assert!(
            m.fields()
                .iter()
                .any(|f| f.name == "Option data" && f.value == "11 98 46 33 62 f4")
        );
    }

    #[test]
    fn router_solicitation() {
        let ph = ph("fe80::77:ff:fe00:2", "ff02::2");
        let m = Icmpv6::parse(&RS, 54, 16, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        assert_eq!(
            m.explain(a("fe80::77:ff:fe00:2"), a("ff02::2")),
            "Any routers here? Tell fe80::77:ff:fe00:2 at 02:77:00:00:00:02 (router solicitation: asks routers to advertise now)"
        );
    }

    #[test]
    fn router_advertisement() {
        let ph = ph("fe80::1", "ff02::1");
        let b = with_checksum(RA, &ph);
        let m = Icmpv6::parse(&b, 54, 64, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        let n = m.ndp.as_ref().expect("ndp");
        assert_eq!(
            (n.cur_hop_limit, n.managed, n.other, n.router_lifetime),
            (Some(64), Some(true), Some(true), Some(1800))
        );
        assert_eq!(
            (n.reachable_time, n.retrans_timer),
            (Some(30000), Some(1000))
        );
        let p = &n.options[0];
        assert_eq!(
            (p.prefix_len, p.onlink, p.autonomous, p.prefix),
            (Some(64), Some(true), Some(true), Some(a("fd77::")))
        );
        assert_eq!(
            (p.valid_lifetime, p.preferred_lifetime),
            (Some(2_592_000), Some(604_800))
        );
        assert_eq!(n.options[1].mtu, Some(1500));
        assert_eq!(
            m.explain(a("fe80::1"), a("ff02::1")),
            "Router fe80::1 advertises itself, prefix fd77::/64, as default router for 1800 s; addresses from DHCPv6 (M) (router advertisement)"
        );
        let f = m.fields();
        let prf = f
            .iter()
            .find(|f| f.name == "Router preference")
            .expect("prf");
        assert_eq!((prf.value.as_str(), prf.meaning.as_str()), ("1", "high"));
        let prefix = f.iter().find(|f| f.name == "Prefix").expect("prefix");
        assert_eq!(
            (prefix.offset, prefix.value.as_str()),
            (54 + 32, "fd77::/64")
        );
        let mtu = f.iter().find(|f| f.name == "MTU").expect("mtu");
        assert_eq!(mtu.offset, 54 + 52);
        assert_eq!(m.span().len, 64);
    }

    #[test]
    fn echo_request() {
        let ph = ph("fd77::1", "fd77::2");
        let m = Icmpv6::parse(&ECHO, 54, 64, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        assert_eq!((m.id, m.seq), (Some(0x5f3b), Some(1)));
        assert_eq!(
            m.explain(a("fd77::1"), a("fd77::2")),
            "ping: echo request id=24379 seq=1"
        );
        assert_eq!(m.span().len, 8);
        assert_eq!(m.quoted_at(), None);
        // A damaged byte is caught.
        let mut bad = ECHO;
        bad[20] ^= 1;
        let m = Icmpv6::parse(&bad, 54, 64, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(false));
    }

    #[test]
    fn mldv2_report() {
        let ph = ph("::", "ff02::16");
        let m = Icmpv6::parse(&MLD2, 62, 28, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        let mld = m.mld.as_ref().expect("mld");
        assert_eq!(mld.num_records, Some(1));
        assert_eq!(mld.records[0].multicast_address, a("ff02::1:ff00:2"));
        assert_eq!(mld.records[0].offset, 70);
        assert_eq!(
            m.explain(Ipv6Addr::UNSPECIFIED, a("ff02::16")),
            "MLDv2 report: joins ff02::1:ff00:2"
        );
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            r#"{"type":143,"code":0,"checksum":28552,"checksum_ok":true,"mld":{"num_records":1,"records":[{"type":4,"num_sources":0,"multicast_address":"ff02::1:ff00:2","sources":[]}]}}"#
        );
    }

    #[test]
    fn packet_too_big() {
        let ph = ph("2001:db8::1", "2001:db8::2");
        let b = with_checksum(TOO_BIG, &ph);
        let m = Icmpv6::parse(&b, 54, 48, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        assert!(m.is_error());
        assert_eq!(m.quoted_at(), Some(8));
        assert_eq!(m.mtu, Some(1280));
        assert!(
            m.explain(a("2001:db8::1"), a("2001:db8::2"))
                .starts_with("Packet too big: the next link's MTU is 1280 bytes")
        );
        assert_eq!(m.span().len, 8);
    }

    #[test]
    fn errors_are_named_with_their_code() {
        let ph = ph("2001:db8::1", "2001:db8::2");
        let mut b = TOO_BIG;
        b[0] = types::DEST_UNREACHABLE;
        b[1] = 4;
        let m = Icmpv6::parse(&b, 0, 48, &ph).expect("parses");
        assert_eq!(
            m.explain(a("2001:db8::1"), a("2001:db8::2")),
            "Destination unreachable: port unreachable: nothing listens on that port"
        );
        assert_eq!(m.checksum_ok, Some(false));
        b[0] = types::PARAMETER_PROBLEM;
        b[1] = 1;
        let m = Icmpv6::parse(&b, 0, 48, &ph).expect("parses");
        assert_eq!(m.pointer, Some(1280));
        assert_eq!(
            m.explain(a("2001:db8::1"), a("2001:db8::2")),
            "Parameter problem: unrecognized next header type, at byte 1280 of the quoted packet"
        );
        b[0] = 99;
        let m = Icmpv6::parse(&b, 0, 48, &ph).expect("parses");
        assert_eq!(m.type_text(), "unknown type 99");
        assert!(m.is_error());
        b[0] = 250;
        let m = Icmpv6::parse(&b, 0, 48, &ph).expect("parses");
        assert_eq!(
            m.explain(a("::1"), a("::1")),
            "ICMPv6 unknown type 250 (code 1)"
        );
    }

    #[test]
    fn redirect() {
        let ph = ph("fe80::1", "fe80::2");
        let m = Icmpv6::parse(&REDIRECT, 54, 48, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        let n = m.ndp.as_ref().expect("ndp");
        assert_eq!(
            (n.target, n.destination),
            (Some(a("fe80::9")), Some(a("2001:db8::5")))
        );
        assert_eq!(
            m.explain(a("fe80::1"), a("fe80::2")),
            "Redirect: to reach 2001:db8::5, use fe80::9 as the next hop"
        );
        let cut = Icmpv6::parse(&REDIRECT[..20], 54, 48, &ph).expect("parses");
        assert_eq!(
            cut.explain(a("fe80::1"), a("fe80::2")),
            "Redirect: to reach (address not captured), use (address not captured) as the next hop"
        );
        assert!(cut.stopped.is_some());
    }

    #[test]
    fn mldv2_query() {
        let ph = ph("fe80::1", "ff02::1");
        let m = Icmpv6::parse(&MLD2_QUERY, 62, 60, &ph).expect("parses");
        assert_eq!(m.checksum_ok, Some(true));
        let mld = m.mld.as_ref().expect("mld");
        assert_eq!(mld.max_response_delay, Some(10000));
        assert_eq!(mld.num_sources, Some(2));
        assert_eq!(mld.sources, vec![a("fd77::5"), a("fd77::6")]);
        assert_eq!(
            m.explain(a("fe80::1"), a("ff02::1")),
            "MLD query: does anyone still listen to ff02::fb?"
        );
        let f = m.fields();
        let qrv = f
            .iter()
            .find(|f| f.name == "Querier's robustness variable (QRV)")
            .expect("qrv");
        assert_eq!(
            (qrv.value.as_str(), qrv.bits.as_deref()),
            ("2", Some(".... .010"))
        );
        assert_eq!(m.span().len, 60);
        // RFC 3810 §5.1.3: codes from 32768 on are floating point.
        assert_eq!(mld2_max_response_delay(0x8abc), 54752);
    }

    #[test]
    fn short_message_is_an_error_that_says_how_short() {
        let ph = ph("::", "::");
        let e = Icmpv6::parse(&NS[..3], 54, 32, &ph).expect_err("too short");
        assert_eq!(
            e.to_string(),
            "The ICMPv6 message at byte 54 needs 4 bytes (type, code, checksum) but only 3 were captured."
        );
    }

    #[test]
    fn zero_length_option_stops_the_walk() {
        let mut b = NS;
        b[25] = 0;
        let m = Icmpv6::parse(&b, 0, 32, &ph("::", "::")).expect("parses");
        assert!(m.ndp_options().is_empty());
        assert!(m.stopped.as_deref().is_some_and(|s| s.contains("length 0")));
    }

    #[test]
    fn every_prefix_parses_or_is_rejected_without_panic() {
        let ph = ph("fe80::1", "ff02::1");
        let ra = with_checksum(RA, &ph);
        let tb = with_checksum(TOO_BIG, &ph);
        let fixtures: [&[u8]; 10] = [
            &NS,
            &NA,
            &DAD,
            &RS,
            &ECHO,
            &MLD2,
            &ra,
            &tb,
            &REDIRECT,
            &MLD2_QUERY,
        ];
        for fixture in fixtures {
            for n in 0..fixture.len() {
                match Icmpv6::parse(&fixture[..n], 0, fixture.len(), &ph) {
                    Err(_) => assert!(n < MIN_LEN),
                    Ok(m) => {
                        assert_eq!(m.checksum_ok, None, "prefix {n}");
                        assert!(m.span().len <= n, "prefix {n}");
                        for f in m.fields() {
                            assert!(f.offset + f.len <= n, "prefix {n}: {f:?}");
                        }
                        let _ = m.explain(a("::"), a("ff02::1"));
                        let _ = serde_json::to_string(&m);
                    }
                }
            }
        }
    }
}
