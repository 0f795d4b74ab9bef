//! TCP (RFC 9293): ports, sequence and acknowledgement numbers, the flags that open
//! (SYN), close (FIN) and abort (RST) a connection, the receive window, and options.

use super::{FieldText, ToFieldText};
use crate::text::Text;
use std::net::Ipv4Addr;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::checksum::{PseudoHeader, Sum};
use super::{Field, be8, be16, be32};
use crate::lookup::Transport;

/// Byte ranges of the TCP header, relative to its start.
pub mod field {
    use std::ops::Range;
    /// Source port.
    pub const SRC_PORT: Range<usize> = 0..2;
    /// Destination port.
    pub const DST_PORT: Range<usize> = 2..4;
    /// Sequence number.
    pub const SEQ: Range<usize> = 4..8;
    /// Acknowledgement number.
    pub const ACK: Range<usize> = 8..12;
    /// Data offset (high 4 bits, in 4-byte units), reserved bits and the AE flag.
    pub const DATA_OFF: usize = 12;
    /// The eight classic flags, CWR to FIN.
    pub const FLAGS: usize = 13;
    /// Receive window, in bytes (before window scaling).
    pub const WINDOW: Range<usize> = 14..16;
    /// Checksum over the pseudo-header, header and payload.
    pub const CHECKSUM: Range<usize> = 16..18;
    /// Urgent pointer.
    pub const URGENT: Range<usize> = 18..20;
    /// Where options start, if the data offset is more than 5.
    pub const OPTIONS: usize = 20;
}

/// Length of a header without options, in bytes.
pub const MIN_HEADER_LEN: usize = 20;

/// The TCP flag bits (the 12-bit word formed by the low 4 bits of byte 12 and byte 13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// No more data from the sender.
    pub const FIN: u16 = 0x001;
    /// Synchronise sequence numbers: opens a connection.
    pub const SYN: u16 = 0x002;
    /// Reset: abort the connection.
    pub const RST: u16 = 0x004;
    /// Push: hand the data to the application now.
    pub const PSH: u16 = 0x008;
    /// The acknowledgement number is valid.
    pub const ACK: u16 = 0x010;
    /// The urgent pointer is valid.
    pub const URG: u16 = 0x020;
    /// ECN echo: the receiver saw congestion (or, on a SYN, the sender supports ECN).
    pub const ECE: u16 = 0x040;
    /// Congestion window reduced: the sender reacted to ECE.
    pub const CWR: u16 = 0x080;
    /// Accurate ECN (formerly NS, the nonce sum).
    pub const AE: u16 = 0x100;

    /// Every flag with its name, lowest bit first.
    pub const ALL: [(u16, &'static str); 9] = [
        (Self::FIN, "FIN"),
        (Self::SYN, "SYN"),
        (Self::RST, "RST"),
        (Self::PSH, "PSH"),
        (Self::ACK, "ACK"),
        (Self::URG, "URG"),
        (Self::ECE, "ECE"),
        (Self::CWR, "CWR"),
        (Self::AE, "AE"),
    ];

    /// True when every bit of `mask` is set.
    pub fn has(self, mask: u16) -> bool {
        self.0 & mask == mask
    }

    /// The names of the set flags, lowest bit first, e.g. `["SYN", "ACK"]`.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::ALL
            .into_iter()
            .filter(move |(bit, _)| self.0 & bit != 0)
            .map(|(_, n)| n)
    }
}

/// A flag name that [`TcpFlags::from_names`] does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a TCP flag: use SYN, ACK, FIN, RST, PSH, URG, ECE, CWR or AE, joined with commas (SYN,ACK)."
)]
pub struct UnknownFlag(pub String);

impl TcpFlags {
    /// Reads flag names joined by commas, `+`, `|` or spaces, in any case: "SYN",
    /// "syn,ack", "FIN+PSH+URG". NS is accepted for AE, its former name.
    pub fn from_names(names: &str) -> Result<TcpFlags, UnknownFlag> {
        let mut bits = 0u16;
        for name in names.split([',', '+', '|', ' ']).filter(|n| !n.is_empty()) {
            let upper = name.to_ascii_uppercase();
            let bit = match upper.as_str() {
                "NS" => Self::AE,
                _ => Self::ALL
                    .iter()
                    .find(|(_, n)| *n == upper)
                    .map(|(b, _)| *b)
                    .ok_or_else(|| UnknownFlag(name.to_string()))?,
            };
            bits |= bit;
        }
        Ok(TcpFlags(bits))
    }
}

impl Serialize for TcpFlags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for n in self.names() {
            seq.serialize_element(n)?;
        }
        seq.end()
    }
}

/// One TCP option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TcpOption {
    /// End of option list (kind 0).
    Eol,
    /// No-operation padding (kind 1).
    Nop,
    /// Maximum segment size (kind 2), in bytes.
    Mss {
        /// The largest payload the sender wants to receive, in bytes.
        value: u16,
    },
    /// Window scale (kind 3).
    WindowScale {
        /// Shift count: windows from this host are multiplied by 2^shift.
        shift: u8,
    },
    /// SACK permitted (kind 4).
    SackPermitted,
    /// Selective acknowledgement (kind 5): blocks received beyond the ack number.
    Sack {
        /// (left edge, right edge) pairs of raw sequence numbers.
        blocks: Vec<(u32, u32)>,
    },
    /// Timestamps (kind 8), for RTT measurement and PAWS.
    Timestamps {
        /// The sender's timestamp clock.
        tsval: u32,
        /// The latest timestamp received from the peer.
        tsecr: u32,
    },
    /// Any other option.
    Unknown {
        /// Option kind.
        number: u8,
        /// Option length, in bytes.
        len: u8,
    },
}

impl TcpOption {
    /// Length of the option on the wire, in bytes (kind and length bytes included).
    pub fn len(&self) -> usize {
        match self {
            TcpOption::Eol | TcpOption::Nop => 1,
            TcpOption::Mss { .. } => 4,
            TcpOption::WindowScale { .. } => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack { blocks } => 2 + 8 * blocks.len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Unknown { len, .. } => usize::from(*len).max(2),
        }
    }

    /// Always false: every option has at least its kind byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends the option's bytes to `out`. The parser keeps only an unknown option's
    /// kind and length, so its data bytes are written as zeros.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let len = self.len() as u8;
        match self {
            TcpOption::Eol => out.push(0),
            TcpOption::Nop => out.push(1),
            TcpOption::Mss { value } => {
                out.extend_from_slice(&[2, len]);
                out.extend_from_slice(&value.to_be_bytes());
            }
            TcpOption::WindowScale { shift } => out.extend_from_slice(&[3, len, *shift]),
            TcpOption::SackPermitted => out.extend_from_slice(&[4, len]),
            TcpOption::Sack { blocks } => {
                out.extend_from_slice(&[5, len]);
                for (l, r) in blocks {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
            TcpOption::Timestamps { tsval, tsecr } => {
                out.extend_from_slice(&[8, len]);
                out.extend_from_slice(&tsval.to_be_bytes());
                out.extend_from_slice(&tsecr.to_be_bytes());
            }
            TcpOption::Unknown { number, .. } => {
                out.extend_from_slice(&[*number, len]);
                out.resize(out.len() + usize::from(len) - 2, 0);
            }
        }
    }
}

/// Most bytes of options a TCP header can hold (a 60-byte header minus 20 fixed bytes).
pub const MAX_OPTIONS_LEN: usize = 40;

/// An option with its place in the frame, for the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacedOption {
    /// Offset of the option in the frame, in bytes.
    pub offset: usize,
    /// Its length, in bytes.
    pub len: usize,
    /// The option.
    pub option: TcpOption,
}

/// A TCP header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tcp {
    /// Offset of the header in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number as sent (raw).
    pub seq: u32,
    /// Acknowledgement number as sent (raw).
    pub ack: u32,
    /// Flags set, by name.
    pub flags: TcpFlags,
    /// Receive window as sent, in bytes (before scaling).
    pub window: u16,
    /// Header length, options included, in bytes (data offset × 4).
    pub header_len: u8,
    /// Payload length, in bytes, per the IP header (as tshark's `tcp.len`).
    pub payload_len: u32,
    /// Checksum as sent.
    pub checksum: u16,
    /// Whether the checksum verifies; `None` when the segment was not all captured.
    pub checksum_ok: Option<bool>,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options, in order: the option bytes as captured, read on demand (serialised as
    /// the list of [`TcpOption`]s).
    pub options: TcpOptions,
}

impl Tcp {
    /// Reads a TCP header from the start of `segment` (the IP payload as captured):
    /// `None` under 20 bytes. `seg_len` is the segment length per the IP header, in
    /// bytes; the checksum is verified over the pseudo-header when `seg_len` bytes were
    /// captured.
    ///
    /// `#[inline]`: built straight into the caller's `Option<Tcp>` slot instead of
    /// returned and copied (about a tenth of the dissector's time with `Ipv4::parse`'s).
    #[inline]
    pub fn parse(segment: &[u8], offset: usize, ph: &PseudoHeader, seg_len: usize) -> Option<Tcp> {
        Tcp::parse_with(segment, offset, Some(ph), seg_len)
    }

    /// [`Tcp::parse`], verifying the checksum only when given the pseudo-header `ph`;
    /// without it `checksum_ok` is `None`. Why: `wirelens flows` shows nothing a checksum
    /// decides, and summing every payload byte was a sixth of its reading thread.
    #[inline]
    pub fn parse_with(
        segment: &[u8],
        offset: usize,
        ph: Option<&PseudoHeader>,
        seg_len: usize,
    ) -> Option<Tcp> {
        if segment.len() < MIN_HEADER_LEN {
            return None;
        }
        let header_len = (be8(segment, field::DATA_OFF) >> 4) * 4;
        let flags = TcpFlags(be16(segment, field::DATA_OFF) & 0x01ff);
        let hlen = usize::from(header_len);
        let checksum_ok = match (segment.get(..seg_len), u32::try_from(seg_len), ph) {
            (Some(whole), Ok(len), Some(ph)) if hlen >= MIN_HEADER_LEN => Some(
                Sum::default()
                    .add_pseudo(ph, super::ipv4::IpProto::TCP.0, len)
                    .add_bytes(whole)
                    .verifies(),
            ),
            _ => None,
        };
        let options = segment
            .get(MIN_HEADER_LEN..hlen.min(segment.len()))
            .map(TcpOptions::from_bytes)
            .unwrap_or_default();
        Some(Tcp {
            offset,
            src_port: be16(segment, field::SRC_PORT.start),
            dst_port: be16(segment, field::DST_PORT.start),
            seq: be32(segment, field::SEQ.start),
            ack: be32(segment, field::ACK.start),
            flags,
            window: be16(segment, field::WINDOW.start),
            header_len,
            payload_len: u32::try_from(seg_len.saturating_sub(hlen)).unwrap_or(u32::MAX),
            checksum: be16(segment, field::CHECKSUM.start),
            checksum_ok,
            urgent: be16(segment, field::URGENT.start),
            options,
        })
    }

    /// A segment header, at offset 0, with these ports, numbers, flags, window and
    /// options, and no payload yet: [`Tcp::fill_checksum`] sets the payload length and
    /// the checksum. Options that do not end on a 4-byte boundary get an end-of-list
    /// option and zero padding, as the data offset counts in 4-byte units. `None` when
    /// the options need more than 40 bytes.
    pub fn new(
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
        mut options: Vec<TcpOption>,
    ) -> Option<Tcp> {
        let mut opts_len: usize = options.iter().map(TcpOption::len).sum();
        if !opts_len.is_multiple_of(4) {
            options.push(TcpOption::Eol);
            opts_len += 1;
        }
        let padded = opts_len.next_multiple_of(4);
        if padded > MAX_OPTIONS_LEN {
            return None;
        }
        let mut bytes = Vec::with_capacity(padded);
        for option in &options {
            option.emit(&mut bytes);
        }
        bytes.resize(padded, 0);
        Some(Tcp {
            offset: 0,
            src_port,
            dst_port,
            seq,
            ack,
            flags: TcpFlags(flags.0 & 0x01ff),
            window,
            header_len: (MIN_HEADER_LEN + padded) as u8,
            payload_len: 0,
            checksum: 0,
            checksum_ok: None,
            urgent: 0,
            options: TcpOptions::from_bytes(&bytes),
        })
    }

    /// Moves the header to `offset` in the frame, with its options.
    pub fn set_offset(&mut self, offset: usize) {
        self.offset = offset;
    }

    /// The options with their places in the frame, in order (they start right after the
    /// 20 fixed bytes).
    pub fn placed_options(&self) -> PlacedOptions<'_> {
        self.options.placed(self.offset + MIN_HEADER_LEN)
    }

    /// Sets the payload length to `payload`'s and computes the checksum over the IPv4
    /// pseudo-header (`src`, `dst`, TCP, segment length), the header and `payload`.
    /// `None` (nothing changed) when the segment would be longer than 65,535 bytes.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Option<()> {
        let seg_len =
            u16::try_from(usize::from(self.header_len).checked_add(payload.len())?).ok()?;
        self.payload_len = u32::try_from(payload.len()).ok()?;
        self.checksum = 0;
        let mut hdr = Vec::with_capacity(usize::from(self.header_len));
        self.emit(&mut hdr);
        self.checksum = Sum::default()
            .add_pseudo_header(src, dst, super::ipv4::IpProto::TCP.0, seg_len)
            .add_bytes(&hdr)
            .add_bytes(payload)
            .checksum();
        self.checksum_ok = Some(true);
        Some(())
    }

    /// Appends the header to `out`, `header_len` bytes long (at least 20): the fixed
    /// part with `checksum` as it is, the options, then zeros up to `header_len`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.src_port.to_be_bytes());
        out.extend_from_slice(&self.dst_port.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.ack.to_be_bytes());
        let word = u16::from(self.header_len / 4) << 12 | self.flags.0 & 0x01ff;
        out.extend_from_slice(&word.to_be_bytes());
        out.extend_from_slice(&self.window.to_be_bytes());
        out.extend_from_slice(&self.checksum.to_be_bytes());
        out.extend_from_slice(&self.urgent.to_be_bytes());
        out.extend_from_slice(self.options.as_bytes());
        out.resize(start + usize::from(self.header_len).max(MIN_HEADER_LEN), 0);
    }

    /// Flag names joined for display, e.g. "SYN, ACK"; "none" when no flag is set.
    pub fn flag_string(&self) -> String {
        let v: Vec<&str> = self.flags.names().collect();
        if v.is_empty() {
            "none".into()
        } else {
            v.join(", ")
        }
    }

    /// What the flags say this segment does, in one phrase (before any connection
    /// tracking, which knows more).
    pub fn explain(&self) -> &'static str {
        let f = self.flags;
        if f.has(TcpFlags::RST) {
            "reset: the sender aborts the connection"
        } else if f.has(TcpFlags::SYN | TcpFlags::ACK) {
            "the server agrees to open the connection"
        } else if f.has(TcpFlags::SYN) {
            "the client asks to open a connection"
        } else if f.has(TcpFlags::FIN) {
            "the sender has no more data to send"
        } else if self.payload_len > 0 {
            "data"
        } else if f.has(TcpFlags::ACK) {
            "acknowledgement"
        } else {
            "no flags set"
        }
    }

    /// The header's fields, with their meanings.
    pub fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let f = self.flags;
        let word = u32::from(u16::from(self.header_len / 4) << 12 | f.0);
        let [src, dst] = super::port_fields(
            o + field::SRC_PORT.start,
            self.src_port,
            self.dst_port,
            Transport::Tcp,
        );
        let mut v = vec![
            src,
            dst,
            Field::new(
                o + field::SEQ.start,
                4,
                "Sequence number",
                self.seq.ftext(),
                if f.has(TcpFlags::SYN) {
                    "the initial sequence number (ISN), chosen at random; the SYN itself uses one number"
                } else {
                    "number of the first payload byte in this segment (without payload: the next number the sender will use)"
                },
            ),
            Field::new(
                o + field::ACK.start,
                4,
                "Acknowledgment number",
                self.ack.ftext(),
                if f.has(TcpFlags::ACK) {
                    "the next byte expected from the other side: everything before it arrived"
                } else {
                    "not valid: the ACK flag is not set"
                },
            ),
            Field::bits(
                o + field::DATA_OFF,
                2,
                0xf000,
                word,
                "Header length",
                FieldText::build(|b| {
                    b.u(self.header_len.into()).s(" bytes");
                }),
                FieldText::build(|b| {
                    b.u((self.header_len / 4).into()).s(" × 4 bytes").s(
                        if usize::from(self.header_len) > MIN_HEADER_LEN {
                            "; options follow the 20 fixed bytes"
                        } else {
                            ": no options"
                        },
                    );
                }),
            ),
        ];
        // Room for the flags, the three fields after them and the options, at once (the
        // vector grew twice a segment: a fifth of the table format's allocations).
        v.reserve(TcpFlags::ALL.len() + 3 + self.placed_options().count());
        for (bit, name) in TcpFlags::ALL.into_iter().rev() {
            v.push(Field::bits(
                o + field::DATA_OFF,
                2,
                u32::from(bit),
                word,
                flag_field_name(bit),
                u8::from(f.has(bit)).ftext(),
                if f.has(bit) {
                    flag_meaning(bit).into()
                } else {
                    FieldText::build(|b| {
                        b.s(name).s(" not set");
                    })
                },
            ));
        }
        v.push(Field::new(
            o + field::WINDOW.start,
            2,
            "Window",
            self.window.ftext(),
            window_meaning(self.window, f),
        ));
        v.push(Field::new(
            o + field::CHECKSUM.start,
            2,
            "Checksum",
            FieldText::build(|b| {
                b.hex4(self.checksum);
            }),
            match self.checksum_ok {
                Some(true) => "correct: covers a pseudo-header (IPs, protocol, length), the header and the data",
                Some(false) => "WRONG: damaged, or filled in by the network card after capture (checksum offload)",
                None => "not verified: the segment was not all captured",
            },
        ));
        v.push(Field::new(
            o + field::URGENT.start,
            2,
            "Urgent pointer",
            self.urgent.ftext(),
            if f.has(TcpFlags::URG) {
                "urgent data ends this many bytes into the payload"
            } else {
                "unused: URG not set"
            },
        ));
        for p in self.placed_options() {
            let (name, value, meaning) = describe_option(&p.option);
            v.push(Field::new(p.offset, p.len, name, value, meaning));
        }
        v
    }
}

/// The meaning of the Window field. RFC 7323 §2.2: the window of a segment with SYN set
/// is never scaled, and windows of later segments are scaled only when both SYNs carried
/// the window scale option (this header alone cannot tell whether they did).
fn window_meaning(window: u16, f: TcpFlags) -> &'static str {
    if f.has(TcpFlags::SYN) {
        if window == 0 {
            "zero: no room to receive yet; a SYN's window is never scaled (RFC 7323)"
        } else {
            "bytes this host can receive, as is: a SYN's window is never scaled (RFC 7323)"
        }
    } else if window == 0 && !f.has(TcpFlags::RST) {
        "zero window: the sender of this segment can take no more data; the other side must wait, probing now and then"
    } else {
        "bytes the sender of this segment can still receive past the acknowledgment number; multiplied by 2^shift only if both SYNs carried the window scale option"
    }
}

/// The meaning of a window scale option. RFC 7323 §2.2–2.3: it takes effect only when
/// both SYNs carry it, applies to windows after the SYNs, and a shift over 14 is used as
/// 14.
fn window_scale_meaning(shift: u8) -> String {
    let used = shift.min(14);
    format!(
        "{}windows in this host's later segments (not SYNs) count in units of 2^{used} = {} bytes, if the other side's SYN carries this option too",
        if shift > 14 {
            "over the maximum of 14, so used as 14: "
        } else {
            ""
        },
        1u32 << used
    )
}

fn flag_field_name(bit: u16) -> &'static str {
    match bit {
        TcpFlags::FIN => "FIN",
        TcpFlags::SYN => "SYN",
        TcpFlags::RST => "RST",
        TcpFlags::PSH => "PSH",
        TcpFlags::ACK => "ACK",
        TcpFlags::URG => "URG",
        TcpFlags::ECE => "ECE",
        TcpFlags::CWR => "CWR",
        _ => "AE",
    }
}

fn flag_meaning(bit: u16) -> &'static str {
    match bit {
        TcpFlags::FIN => "finish: the sender has no more data to send",
        TcpFlags::SYN => "synchronise: opens a connection, carries the initial sequence number",
        TcpFlags::RST => "reset: abort the connection at once",
        TcpFlags::PSH => "push: deliver the data to the application now",
        TcpFlags::ACK => "the acknowledgment number is valid",
        TcpFlags::URG => "the urgent pointer is valid",
        TcpFlags::ECE => "ECN echo: congestion was seen (on a SYN: ECN supported)",
        TcpFlags::CWR => "congestion window reduced",
        _ => "accurate ECN",
    }
}

/// An option's field name, value and meaning. Constant texts stay constant and short
/// values are held in place ([`FieldText`]): the timestamps option and its two NOPs are
/// in nearly every segment of a Linux host, and building their texts as `String`s was
/// five allocations a segment in the table format.
fn describe_option(opt: &TcpOption) -> (&'static str, FieldText, FieldText) {
    match opt {
        TcpOption::Eol => ("Option: end of list", "".into(), "no more options".into()),
        TcpOption::Nop => ("Option: NOP", "".into(), "padding to align the next option".into()),
        TcpOption::Mss { value } => (
            "Option: MSS",
            FieldText::build(|b| {
                b.u(u64::from(*value));
            }),
            FieldText::build(|b| {
                b.s("the largest payload this host can receive in one segment, in bytes: its MTU less 20 bytes of TCP header and 20 of IPv4 (1500 − 20 − 20 = 1460) or 40 of IPv6 (1440); here ")
                    .u(u64::from(*value));
            }),
        ),
        TcpOption::WindowScale { shift } => (
            "Option: window scale",
            FieldText::build(|b| {
                b.u(u64::from(*shift));
            }),
            window_scale_meaning(*shift).into(),
        ),
        TcpOption::SackPermitted => (
            "Option: SACK permitted",
            "".into(),
            "this host understands selective acknowledgements".into(),
        ),
        TcpOption::Sack { blocks } => (
            "Option: SACK",
            FieldText::build(|b| {
                for (i, (l, r)) in blocks.iter().enumerate() {
                    if i > 0 {
                        b.s(", ");
                    }
                    b.u(u64::from(*l)).s("–").u(u64::from(*r));
                }
            }),
            "blocks of sequence numbers that arrived beyond a gap (each from its left edge up to, not including, its right edge), so only the gap need be resent; a block below the acknowledgment number reports a duplicate (D-SACK, RFC 2883)".into(),
        ),
        TcpOption::Timestamps { tsval, tsecr } => (
            "Option: timestamps",
            FieldText::build(|b| {
                b.s("TSval ").u(u64::from(*tsval)).s(", TSecr ").u(u64::from(*tsecr));
            }),
            "TSval is the sender's timestamp clock; TSecr echoes the latest TSval received from the other side (0 on a first SYN): used to measure round-trip time and to reject old duplicate segments (PAWS)".into(),
        ),
        TcpOption::Unknown { number, len } => (
            "Option: unknown",
            FieldText::build(|b| {
                b.s("kind ").u(u64::from(*number));
            }),
            FieldText::build(|b| {
                b.u(u64::from(*len)).s(" bytes");
            }),
        ),
    }
}

/// The options of one TCP header, kept as their bytes (at most 40, stored inline) and
/// read into [`TcpOption`]s when asked.
///
/// Why: parsing every option into a `Vec` (twice, with and without offsets) cost two heap
/// allocations and two frees per segment, about a tenth of the dissector's time, for
/// lists that only the table and JSON formats ever read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TcpOptions {
    /// How many bytes of `bytes` are used.
    len: u8,
    /// The option bytes as captured, from the first one up to the header's end (or the
    /// end of the capture).
    bytes: [u8; MAX_OPTIONS_LEN],
}

impl Default for TcpOptions {
    /// No options.
    fn default() -> TcpOptions {
        TcpOptions {
            len: 0,
            bytes: [0; MAX_OPTIONS_LEN],
        }
    }
}

impl TcpOptions {
    /// Keeps the option bytes `bytes` (the header after its 20 fixed bytes); anything
    /// past the 40 bytes a header can hold is left out.
    pub fn from_bytes(bytes: &[u8]) -> TcpOptions {
        let mut t = TcpOptions::default();
        let n = bytes.len().min(MAX_OPTIONS_LEN);
        if let (Some(dst), Some(src)) = (t.bytes.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
            t.len = n as u8;
        }
        t
    }

    /// The option bytes kept, padding included.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The options, in order. The walk stops at an end-of-list option, at a length under
    /// 2, and at an option cut short by the header length or the capture.
    pub fn iter(&self) -> impl Iterator<Item = TcpOption> + '_ {
        self.placed(0).map(|p| p.option)
    }

    /// The options with their places, the first option byte being at `offset` in the
    /// frame.
    pub fn placed(&self, offset: usize) -> PlacedOptions<'_> {
        PlacedOptions {
            bytes: self.as_bytes(),
            at: 0,
            offset,
        }
    }

    /// The options, in a `Vec`.
    pub fn to_vec(&self) -> Vec<TcpOption> {
        self.iter().collect()
    }

    /// True when no option can be read.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl std::fmt::Debug for TcpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for TcpOptions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// The walk over a header's options, from [`TcpOptions::placed`] or
/// [`Tcp::placed_options`].
#[derive(Clone, Debug)]
pub struct PlacedOptions<'a> {
    /// The option bytes.
    bytes: &'a [u8],
    /// Where the next option starts in `bytes`; past the end once the walk is over.
    at: usize,
    /// Offset of `bytes` in the frame.
    offset: usize,
}

/// The shift of the first window scale option in the option bytes `opts`, walked as
/// [`PlacedOptions`] walks them: to an end-of-list option, a length under 2, or an option
/// cut short. What `iter().find_map(..)` finds, without building each option (a SACK
/// option's blocks are a `Vec`): the trackers ask this of every SYN.
pub fn window_scale(opts: &[u8]) -> Option<u8> {
    let mut i = 0;
    loop {
        match *opts.get(i)? {
            0 => return None,
            1 => i += 1,
            kind => {
                let len = usize::from(*opts.get(i + 1)?);
                if len < 2 || opts.len() < i + len {
                    return None;
                }
                if kind == 3 && len == 3 {
                    return opts.get(i + 2).copied();
                }
                i += len;
            }
        }
    }
}

impl Iterator for PlacedOptions<'_> {
    type Item = PlacedOption;

    fn next(&mut self) -> Option<PlacedOption> {
        let opts = self.bytes;
        let i = self.at;
        let &kind = opts.get(i)?;
        // Unless an option is read whole below, the walk ends here.
        self.at = usize::MAX;
        let (option, len) = match kind {
            0 => (TcpOption::Eol, 1),
            1 => (TcpOption::Nop, 1),
            _ => {
                let len = usize::from(*opts.get(i + 1)?);
                // Cut short by the header length or the capture.
                let body = opts.get(i + 2..i + len.max(2))?;
                if len < 2 {
                    return None; // a length under 2 would never advance
                }
                let opt = match (kind, body.len()) {
                    (2, 2) => TcpOption::Mss {
                        value: be16(body, 0),
                    },
                    (3, 1) => TcpOption::WindowScale {
                        shift: be8(body, 0),
                    },
                    (4, 0) => TcpOption::SackPermitted,
                    (5, n) if n % 8 == 0 => TcpOption::Sack {
                        blocks: body
                            .chunks_exact(8)
                            .map(|c| (be32(c, 0), be32(c, 4)))
                            .collect(),
                    },
                    (8, 8) => TcpOption::Timestamps {
                        tsval: be32(body, 0),
                        tsecr: be32(body, 4),
                    },
                    _ => TcpOption::Unknown {
                        number: kind,
                        len: len as u8,
                    },
                };
                (opt, len)
            }
        };
        if option != TcpOption::Eol {
            self.at = i + len;
        }
        Some(PlacedOption {
            offset: self.offset + i,
            len,
            option,
        })
    }
}

impl super::Layer for Tcp {
    fn name(&self) -> &'static str {
        "TCP"
    }

    fn explain(&self, _around: &super::Around, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(Tcp::explain(self).as_bytes());
        true
    }

    fn key(&self) -> &'static str {
        "tcp"
    }

    fn mark(&self) -> char {
        'T'
    }

    fn hue(&self) -> super::Hue {
        super::Hue::Cyan
    }

    fn model(&self) -> super::Model {
        super::Model::Transport
    }

    fn span(&self) -> super::Span {
        super::Span {
            offset: self.offset,
            len: usize::from(self.header_len),
        }
    }

    fn fields(&self) -> Vec<Field> {
        Tcp::fields(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lean walk finds what the full one finds, on random option bytes of every
    /// length (kinds, lengths and cut-offs drawn from a small set so that each rule of
    /// the walk is hit).
    #[test]
    fn window_scale_matches_the_option_walk() {
        let mut rng = 0x0bad_cafe_f00d_d00du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut found = 0;
        for _ in 0..200_000 {
            let len = (next() % (MAX_OPTIONS_LEN as u64 + 1)) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| [0, 1, 1, 2, 3, 3, 3, 4, 5, 8, 10, 14, 7][(next() % 13) as usize])
                .collect();
            let opts = TcpOptions::from_bytes(&bytes);
            let want = opts.iter().find_map(|o| match o {
                TcpOption::WindowScale { shift } => Some(shift),
                _ => None,
            });
            assert_eq!(window_scale(opts.as_bytes()), want, "{bytes:?}");
            found += usize::from(want.is_some());
        }
        assert!(found > 1000, "only {found} had a window scale option");
    }

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
    const PH: PseudoHeader = PseudoHeader::V4 { src: SRC, dst: DST };

    /// A Linux SYN (checksum filled in by `fixture`).
    const SYN: [u8; 40] = [
        0xb2, 0x6e, // source port 45678
        0x1f, 0x9a, // destination port 8090
        0x54, 0x79, 0x2e, 0x40, // sequence number 1417227840
        0x00, 0x00, 0x00, 0x00, // acknowledgment number 0
        0xa0, // data offset 10 (40 bytes)
        0x02, // flags: SYN
        0xfa, 0xf0, // window 64240
        0x00, 0x00, // checksum
        0x00, 0x00, // urgent pointer
        0x02, 0x04, 0x05, 0xb4, // MSS 1460
        0x04, 0x02, // SACK permitted
        0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // timestamps 1, 0
        0x01, // NOP
        0x03, 0x03, 0x07, // window scale 7
    ];

    fn fixture() -> [u8; 40] {
        let mut b = SYN;
        let c = Sum::default()
            .add_pseudo_header(SRC, DST, 6, 40)
            .add_bytes(&b)
            .checksum();
        b[16..18].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn parses_syn_with_options() {
        let b = fixture();
        let t = Tcp::parse(&b, 34, &PH, 40).expect("40 bytes parse");
        assert_eq!((t.src_port, t.dst_port, t.header_len), (45678, 8090, 40));
        assert_eq!(t.flags.names().collect::<Vec<_>>(), vec!["SYN"]);
        assert_eq!(t.checksum_ok, Some(true));
        assert_eq!(t.payload_len, 0);
        assert_eq!(
            t.options.to_vec(),
            vec![
                TcpOption::Mss { value: 1460 },
                TcpOption::SackPermitted,
                TcpOption::Timestamps { tsval: 1, tsecr: 0 },
                TcpOption::Nop,
                TcpOption::WindowScale { shift: 7 },
            ]
        );
        assert_eq!(t.placed_options().nth(4).map(|p| p.offset), Some(34 + 37));
        let json = serde_json::to_string(&t).unwrap_or_default();
        assert!(json.contains(r#""flags":["SYN"]"#), "{json}");
        assert!(json.contains(r#"{"kind":"mss","value":1460}"#), "{json}");
    }

    #[test]
    fn wrong_checksum_and_unverifiable() {
        let mut b = fixture();
        b[15] ^= 1;
        let t = Tcp::parse(&b, 0, &PH, 40);
        assert_eq!(t.and_then(|t| t.checksum_ok), Some(false));
        let t = Tcp::parse(&b[..30], 0, &PH, 40);
        assert_eq!(t.and_then(|t| t.checksum_ok), None);
    }

    /// Without a pseudo-header, the header reads the same and the checksum is left
    /// unverified.
    #[test]
    fn parse_with_no_pseudo_header_skips_only_the_checksum() {
        let b = fixture();
        let checked = Tcp::parse(&b, 34, &PH, 40).expect("40 bytes parse");
        let skipped = Tcp::parse_with(&b, 34, None, 40).expect("40 bytes parse");
        assert_eq!(skipped.checksum_ok, None);
        assert_eq!(
            Tcp {
                checksum_ok: None,
                ..checked
            },
            skipped
        );
    }

    #[test]
    fn every_prefix_parses_or_is_rejected_without_panic() {
        let b = fixture();
        for n in 0..b.len() {
            let t = Tcp::parse(&b[..n], 0, &PH, 40);
            assert_eq!(t.is_some(), n >= MIN_HEADER_LEN, "prefix {n}");
            if let Some(t) = t {
                assert_eq!(t.checksum_ok, None);
                let _ = t.fields();
            }
        }
    }

    #[test]
    fn emit_gives_back_the_fixture() {
        let b = fixture();
        let t = Tcp::parse(&b, 0, &PH, 40).expect("40 bytes parse");
        let mut out = Vec::new();
        t.emit(&mut out);
        assert_eq!(out, b);
    }

    #[test]
    fn builder_round_trips_through_parse() {
        let opts = vec![
            TcpOption::Mss { value: 1460 },
            TcpOption::SackPermitted,
            TcpOption::Timestamps { tsval: 1, tsecr: 0 },
            TcpOption::Nop,
            TcpOption::WindowScale { shift: 7 },
        ];
        let flags = TcpFlags(TcpFlags::SYN);
        let mut t = Tcp::new(45678, 8090, 1417227840, 0, flags, 64240, opts).expect("fits");
        t.fill_checksum(SRC, DST, &[]).expect("fits");
        let mut out = Vec::new();
        t.emit(&mut out);
        assert_eq!(
            out,
            fixture(),
            "the builder makes the Linux SYN byte for byte"
        );
        t.set_offset(34);
        assert_eq!(Tcp::parse(&out, 34, &PH, out.len()).as_ref(), Some(&t));

        // Odd option lengths are padded; a payload and every flag survive the trip.
        let all = TcpFlags(TcpFlags::ALL.iter().fold(0, |a, (b, _)| a | b));
        let mut t = Tcp::new(
            1,
            2,
            3,
            4,
            all,
            5,
            vec![TcpOption::WindowScale { shift: 2 }],
        )
        .expect("fits");
        assert_eq!((t.header_len, t.options.iter().count()), (24, 2));
        t.urgent = 3;
        t.fill_checksum(SRC, DST, b"data").expect("fits");
        let mut out = Vec::new();
        t.emit(&mut out);
        out.extend_from_slice(b"data");
        assert_eq!(Tcp::parse(&out, 0, &PH, out.len()), Some(t));
    }

    #[test]
    fn builder_refuses_more_than_40_bytes_of_options() {
        let sack = |n: u32| TcpOption::Sack {
            blocks: (0..n).map(|i| (i, i + 1)).collect(),
        };
        let syn = TcpFlags(TcpFlags::SYN);
        assert!(Tcp::new(1, 2, 0, 0, syn, 0, vec![sack(4)]).is_some()); // 34 bytes
        let full = vec![sack(4), sack(0), sack(0), sack(0)]; // 40 bytes
        assert_eq!(
            Tcp::new(1, 2, 0, 0, syn, 0, full).map(|t| t.header_len),
            Some(60)
        );
        let ts = TcpOption::Timestamps { tsval: 0, tsecr: 0 };
        assert!(Tcp::new(1, 2, 0, 0, syn, 0, vec![sack(4), ts]).is_none());
    }

    #[test]
    fn flags_are_read_by_name() {
        let f = TcpFlags::from_names("syn,ACK").expect("known names");
        assert_eq!(f.0, TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!(
            TcpFlags::from_names("FIN+PSH+URG").map(|f| f.0),
            Ok(TcpFlags::FIN | TcpFlags::PSH | TcpFlags::URG)
        );
        assert_eq!(TcpFlags::from_names("ns").map(|f| f.0), Ok(TcpFlags::AE));
        let e = TcpFlags::from_names("SYN,SNY").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "\"SNY\" is not a TCP flag: use SYN, ACK, FIN, RST, PSH, URG, ECE, CWR or AE, joined with commas (SYN,ACK)."
            )
        );
    }

    #[test]
    fn option_walk_terminates_on_garbage() {
        let parse = |b: &[u8]| TcpOptions::from_bytes(b).to_vec();
        assert!(parse(&[2, 0, 2, 0]).is_empty());
        assert!(parse(&[5, 200]).is_empty());
        assert_eq!(parse(&[1, 1, 0, 2]).len(), 3);
        assert_eq!(
            parse(&[5, 10, 0, 0, 0, 1, 0, 0, 0, 2]),
            vec![TcpOption::Sack {
                blocks: vec![(1, 2)]
            }]
        );
        // Every byte string up to 40 bytes long is walked to an end, in at most one
        // option per byte; more than 40 bytes are never kept.
        let mut x: u32 = 7;
        for n in 0..2000 {
            let len = n % 45;
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x % 12) as u8
                })
                .collect();
            let o = TcpOptions::from_bytes(&b);
            assert_eq!(o.as_bytes(), &b[..len.min(MAX_OPTIONS_LEN)]);
            assert!(o.placed(0).count() <= o.as_bytes().len());
            for p in o.placed(100) {
                assert!(p.offset >= 100 && p.offset + p.len <= 100 + MAX_OPTIONS_LEN);
            }
        }
    }

    #[test]
    fn syn_window_is_never_scaled() {
        // RFC 7323 §2.2: the window of a SYN or SYN-ACK is not scaled.
        for flags in [TcpFlags::SYN, TcpFlags::SYN | TcpFlags::ACK] {
            let m = window_meaning(64240, TcpFlags(flags));
            assert!(m.contains("never scaled"), "{m}");
            assert!(!m.contains("agreed"), "{m}");
        }
        let later = window_meaning(502, TcpFlags(TcpFlags::ACK));
        assert!(later.contains("only if both SYNs"), "{later}");
    }

    #[test]
    fn window_scale_over_14_is_used_as_14() {
        assert!(window_scale_meaning(7).contains("2^7 = 128 bytes"));
        assert!(window_scale_meaning(7).contains("other side's SYN"));
        let big = window_scale_meaning(15);
        assert!(
            big.contains("used as 14") && big.contains("2^14 = 16384"),
            "{big}"
        );
    }

    #[test]
    fn mss_meaning_gives_both_ip_versions() {
        let (_, _, m) = describe_option(&TcpOption::Mss { value: 1460 });
        let m = m.as_str();
        assert!(m.contains("1460") && m.contains("1440"), "{m}");
    }
}
