//! ICMP (RFC 792): IP's messenger — echo request/reply (ping) and error reports such as
//! "port unreachable" or "time exceeded", which quote the header of the datagram that
//! caused them.

use super::{ToFieldText, ftext};
use serde::Serialize;

use super::checksum::Sum;
use super::ipv4::Ipv4;
use super::tcp::Tcp;
use super::udp::Udp;
use super::{Field, be8, be16};
use crate::text::Text;

/// Byte ranges of the ICMP header, relative to its start.
pub mod field {
    use std::ops::Range;
    /// Message type.
    pub const TYPE: usize = 0;
    /// Code: the detail within the type.
    pub const CODE: usize = 1;
    /// Checksum over the whole ICMP message.
    pub const CHECKSUM: Range<usize> = 2..4;
    /// Echo/timestamp identifier.
    pub const ID: Range<usize> = 4..6;
    /// Echo/timestamp sequence number.
    pub const SEQ: Range<usize> = 6..8;
    /// Next-hop MTU in a "fragmentation needed" message.
    pub const MTU: Range<usize> = 6..8;
    /// Where the quoted datagram of an error message starts.
    pub const QUOTED: usize = 8;
}

/// Length of the ICMP header, in bytes.
pub const HEADER_LEN: usize = 8;

/// ICMP message types.
pub mod types {
    /// Echo reply (ping answer).
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DEST_UNREACHABLE: u8 = 3;
    /// Source quench (deprecated).
    pub const SOURCE_QUENCH: u8 = 4;
    /// Redirect.
    pub const REDIRECT: u8 = 5;
    /// Echo request (ping).
    pub const ECHO_REQUEST: u8 = 8;
    /// Router advertisement.
    pub const ROUTER_ADVERTISEMENT: u8 = 9;
    /// Router solicitation.
    pub const ROUTER_SOLICITATION: u8 = 10;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAMETER_PROBLEM: u8 = 12;
    /// Timestamp request.
    pub const TIMESTAMP: u8 = 13;
    /// Timestamp reply.
    pub const TIMESTAMP_REPLY: u8 = 14;
}

/// The headers an ICMP error quotes from the datagram that caused it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Quoted {
    /// The quoted IPv4 header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<Ipv4>,
    /// The quoted IPv6 header (an ICMPv6 error's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<super::ipv6::Ipv6>,
    /// The quoted TCP header (often only its first 8 bytes are quoted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Tcp>,
    /// The quoted UDP header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp: Option<Udp>,
    /// The quoted ICMP header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp: Option<Box<Icmp>>,
    /// The quoted ICMPv6 header (an echo request that met an error, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmpv6: Option<Box<super::icmpv6::Icmpv6>>,
}

impl Quoted {
    /// Appends which conversation the error is about: " (about UDP a:p → b:q)".
    pub fn write_about(&self, out: &mut Vec<u8>) {
        use crate::text::Text;
        let addrs: Option<(std::net::IpAddr, std::net::IpAddr)> = match (&self.ipv4, &self.ipv6) {
            (Some(ip), _) => Some((ip.src.into(), ip.dst.into())),
            (None, Some(ip)) => Some((ip.src.into(), ip.dst.into())),
            _ => None,
        };
        let Some((src, dst)) = addrs else { return };
        let ports = match (&self.tcp, &self.udp) {
            (Some(t), _) => Some(("TCP", t.src_port, t.dst_port)),
            (_, Some(u)) => Some(("UDP", u.src_port, u.dst_port)),
            _ => None,
        };
        out.s(" (about ");
        if let Some((proto, _, _)) = ports {
            out.s(proto).s(" ");
        }
        out.ip(src, ports.is_some());
        if let Some((_, s, _)) = ports {
            out.s(":").u(s.into());
        }
        out.s(" → ");
        out.ip(dst, ports.is_some());
        if let Some((_, _, p)) = ports {
            out.s(":").u(p.into());
        }
        out.s(")");
    }
}

/// An ICMP message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Icmp {
    /// Offset of the header in the frame, in bytes.
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
    /// Identifier of an echo or timestamp message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u16>,
    /// Sequence number of an echo or timestamp message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u16>,
    /// Bytes 4–7 of the header as sent: the identifier and sequence number of an echo,
    /// the next-hop MTU of "fragmentation needed", the gateway of a redirect, the pointer
    /// of a parameter problem. Not in the JSON, which names the parts it knows.
    #[serde(skip)]
    pub rest: [u8; 4],
    /// For an error message, the headers it quotes (filled in by the dissector).
    pub quoted: Option<Box<Quoted>>,
}

/// The three fields every ICMP and ICMPv6 message starts with, at `o`: type (its number
/// and name), code (its number and name) and checksum (its value and verdict).
pub(crate) fn header_fields(
    o: usize,
    (kind, kind_name): (u8, super::FieldText),
    (code, code_name): (u8, &'static str),
    (checksum, verdict): (u16, &'static str),
) -> Vec<Field> {
    vec![
        Field::new(o + field::TYPE, 1, "Type", kind.ftext(), kind_name),
        Field::new(o + field::CODE, 1, "Code", code.ftext(), code_name),
        Field::new(
            o + field::CHECKSUM.start,
            2,
            "Checksum",
            ftext!("0x{checksum:04x}"),
            verdict,
        ),
    ]
}

/// An echo message's identifier and sequence number (the same layout in ICMP and
/// ICMPv6), for the message at `o`.
pub(crate) fn echo_fields(o: usize, id: u16, seq: u16) -> [Field; 2] {
    [
        Field::new(
            o + field::ID.start,
            2,
            "Identifier",
            ftext!("0x{id:04x} ({id})"),
            "matches a reply to its request (often the pinging process's ID)",
        ),
        Field::new(
            o + field::SEQ.start,
            2,
            "Sequence number",
            seq.ftext(),
            "numbers the pings (Linux's ping counts 1, 2, 3…); a reply carries its request's number",
        ),
    ]
}

impl Icmp {
    /// Reads an ICMP header from the start of `msg` (the IP payload as captured): `None`
    /// under 8 bytes. `msg_len` is the message length per the IP header; the checksum is
    /// verified when that many bytes were captured.
    pub fn parse(msg: &[u8], offset: usize, msg_len: usize) -> Option<Icmp> {
        if msg.len() < HEADER_LEN {
            return None;
        }
        let icmp_type = be8(msg, field::TYPE);
        let echo_like = matches!(
            icmp_type,
            types::ECHO_REPLY | types::ECHO_REQUEST | types::TIMESTAMP | types::TIMESTAMP_REPLY
        );
        Some(Icmp {
            offset,
            icmp_type,
            code: be8(msg, field::CODE),
            checksum: be16(msg, field::CHECKSUM.start),
            checksum_ok: msg
                .get(..msg_len)
                .map(|whole| Sum::default().add_bytes(whole).verifies()),
            id: echo_like.then(|| be16(msg, field::ID.start)),
            seq: echo_like.then(|| be16(msg, field::SEQ.start)),
            rest: msg
                .get(field::ID.start..field::QUOTED)
                .and_then(|b| b.try_into().ok())
                .unwrap_or_default(),
            quoted: None,
        })
    }

    /// True for the error messages that quote the offending datagram.
    pub fn is_error(&self) -> bool {
        matches!(
            self.icmp_type,
            types::DEST_UNREACHABLE
                | types::SOURCE_QUENCH
                | types::REDIRECT
                | types::TIME_EXCEEDED
                | types::PARAMETER_PROBLEM
        )
    }

    /// The type's name, e.g. "Destination unreachable".
    pub fn type_name(&self) -> &'static str {
        type_name(self.icmp_type)
    }

    /// The code's meaning within the type, if it has one.
    pub fn code_name(&self) -> Option<&'static str> {
        code_name(self.icmp_type, self.code)
    }

    /// One sentence for the summary line.
    pub fn explain(&self) -> String {
        let mut out = Vec::with_capacity(64);
        self.write_explain(&mut out);
        // Only `&str`s and digits were appended, so this is always valid UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the sentence of [`Icmp::explain`] to `out`, without allocating.
    pub fn write_explain(&self, out: &mut Vec<u8>) {
        let id_seq = |out: &mut Vec<u8>| {
            out.s(" id=")
                .u(self.id.unwrap_or(0).into())
                .s(" seq=")
                .u(self.seq.unwrap_or(0).into());
        };
        match (self.icmp_type, self.code_name()) {
            (types::ECHO_REQUEST, _) => {
                out.s("ping: echo request");
                id_seq(out);
            }
            (types::ECHO_REPLY, _) => {
                out.s("ping answered: echo reply");
                id_seq(out);
            }
            (_, Some(c)) => {
                out.s(self.type_name()).s(": ").s(c);
            }
            _ => {
                out.s(self.type_name())
                    .s(" (code ")
                    .u(self.code.into())
                    .s(")");
            }
        }
    }

    /// The header's fields, with their meanings.
    pub fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let mut v = header_fields(
            o,
            (self.icmp_type, self.type_name().into()),
            (self.code, self.code_name().unwrap_or("")),
            (
                self.checksum,
                match self.checksum_ok {
                    Some(true) => "correct: covers the whole ICMP message",
                    Some(false) => "WRONG: the message was damaged",
                    None => "not verified: the message was not all captured",
                },
            ),
        );
        if let (Some(id), Some(seq)) = (self.id, self.seq) {
            v.extend(echo_fields(o, id, seq));
        } else if self.is_error() {
            v.extend(self.error_rest_fields());
        }
        v
    }
}

impl Icmp {
    /// The fields in bytes 4–7 of an error message, which differ by type (RFC 792,
    /// RFC 1191 for the next-hop MTU).
    fn error_rest_fields(&self) -> Vec<Field> {
        let o = self.offset + 4;
        let r = self.rest;
        let quoted = "the quoted IP header and the first bytes of its payload follow";
        match (self.icmp_type, self.code) {
            (types::DEST_UNREACHABLE, 4) => {
                let mtu = u16::from_be_bytes([r[2], r[3]]);
                vec![
                    Field::new(o, 2, "Unused", String::new(), "must be zero"),
                    Field::new(
                        o + 2,
                        2,
                        "Next-hop MTU",
                        mtu.ftext(),
                        if mtu == 0 {
                            "0: a router from before RFC 1191 did not say; the sender must guess a smaller size"
                        } else {
                            "the largest datagram, in bytes, the next link takes: the sender should send no bigger (path MTU discovery)"
                        },
                    ),
                ]
            }
            (types::REDIRECT, _) => vec![Field::new(
                o,
                4,
                "Gateway address",
                std::net::Ipv4Addr::from(r).ftext(),
                "the router on this link to send later datagrams for that destination to",
            )],
            (types::PARAMETER_PROBLEM, _) => vec![
                Field::new(
                    o,
                    1,
                    "Pointer",
                    r[0].ftext(),
                    if self.code == 0 {
                        ftext!("byte {} of the quoted datagram is the one in error", r[0])
                    } else {
                        "not used with this code".ftext()
                    },
                ),
                Field::new(o + 1, 3, "Unused", String::new(), quoted),
            ],
            _ => vec![Field::new(o, 4, "Unused", String::new(), quoted)],
        }
    }
}

fn type_name(t: u8) -> &'static str {
    match t {
        types::ECHO_REPLY => "Echo reply",
        types::DEST_UNREACHABLE => "Destination unreachable",
        types::SOURCE_QUENCH => "Source quench (deprecated, RFC 6633: hosts ignore it)",
        types::REDIRECT => "Redirect",
        types::ECHO_REQUEST => "Echo request",
        types::ROUTER_ADVERTISEMENT => "Router advertisement",
        types::ROUTER_SOLICITATION => "Router solicitation",
        types::TIME_EXCEEDED => "Time exceeded",
        types::PARAMETER_PROBLEM => "Parameter problem",
        types::TIMESTAMP => "Timestamp request",
        types::TIMESTAMP_REPLY => "Timestamp reply",
        15 => "Information request (obsolete, RFC 6918)",
        16 => "Information reply (obsolete, RFC 6918)",
        17 => "Address mask request (deprecated, RFC 6918)",
        18 => "Address mask reply (deprecated, RFC 6918)",
        _ => "unknown type",
    }
}

fn code_name(t: u8, c: u8) -> Option<&'static str> {
    Some(match (t, c) {
        (types::DEST_UNREACHABLE, 0) => "network unreachable",
        (types::DEST_UNREACHABLE, 1) => "host unreachable",
        (types::DEST_UNREACHABLE, 2) => "protocol unreachable",
        (types::DEST_UNREACHABLE, 3) => "port unreachable: nothing listens on that port",
        (types::DEST_UNREACHABLE, 8) => "source host isolated (obsolete)",
        (types::DEST_UNREACHABLE, 11) => "network unreachable for this type of service",
        (types::DEST_UNREACHABLE, 12) => "host unreachable for this type of service",
        (types::DEST_UNREACHABLE, 14) => "host precedence violation",
        (types::DEST_UNREACHABLE, 15) => "precedence cutoff in effect",
        (types::DEST_UNREACHABLE, 4) => "fragmentation needed but DF set",
        (types::DEST_UNREACHABLE, 5) => "source route failed",
        (types::DEST_UNREACHABLE, 6) => "destination network unknown",
        (types::DEST_UNREACHABLE, 7) => "destination host unknown",
        (types::DEST_UNREACHABLE, 9) => "network administratively prohibited",
        (types::DEST_UNREACHABLE, 10) => "host administratively prohibited",
        (types::DEST_UNREACHABLE, 13) => "communication administratively prohibited",
        (types::REDIRECT, 0) => "redirect for the network",
        (types::REDIRECT, 1) => "redirect for the host",
        (types::REDIRECT, 2) => "redirect for the type of service and network",
        (types::REDIRECT, 3) => "redirect for the type of service and host",
        (types::TIME_EXCEEDED, 0) => "TTL reached 0 in transit",
        (types::TIME_EXCEEDED, 1) => "fragment reassembly time exceeded",
        (types::PARAMETER_PROBLEM, 0) => "the pointer shows which byte is in error",
        (types::PARAMETER_PROBLEM, 1) => "a required option is missing",
        (types::PARAMETER_PROBLEM, 2) => "bad length",
        (types::ECHO_REPLY | types::ECHO_REQUEST, 0) => return None,
        _ => return None,
    })
}

impl super::Layer for Icmp {
    fn name(&self) -> &'static str {
        "ICMP"
    }

    fn explain(&self, _around: &super::Around, out: &mut Vec<u8>) -> bool {
        self.write_explain(out);
        if let Some(q) = self.quoted.as_deref() {
            q.write_about(out);
        }
        true
    }

    fn key(&self) -> &'static str {
        "icmp"
    }

    fn mark(&self) -> char {
        'C'
    }

    fn hue(&self) -> super::Hue {
        super::Hue::BoldCyan
    }

    fn model(&self) -> super::Model {
        super::Model::Network
    }

    fn span(&self) -> super::Span {
        super::Span {
            offset: self.offset,
            len: HEADER_LEN,
        }
    }

    fn fields(&self) -> Vec<Field> {
        Icmp::fields(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECHO: [u8; 12] = [
        0x08, // type: echo request
        0x00, // code 0
        0x00, 0x00, // checksum (filled in by `fixture`)
        0x12, 0x34, // identifier
        0x00, 0x01, // sequence number 1
        b'p', b'i', b'n', b'g', // data
    ];

    fn fixture() -> [u8; 12] {
        let mut b = ECHO;
        let c = Sum::default().add_bytes(&b).checksum();
        b[2..4].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn parses_echo() {
        let i = Icmp::parse(&fixture(), 34, 12).expect("parses");
        assert_eq!(
            (i.icmp_type, i.code, i.id, i.seq),
            (8, 0, Some(0x1234), Some(1))
        );
        assert_eq!(i.checksum_ok, Some(true));
        assert!(!i.is_error());
        assert_eq!(i.fields().len(), 5);
    }

    #[test]
    fn every_prefix_parses_or_is_rejected_without_panic() {
        let b = fixture();
        for n in 0..b.len() {
            let i = Icmp::parse(&b[..n], 0, 12);
            assert_eq!(i.is_some(), n >= HEADER_LEN);
            assert_eq!(i.and_then(|i| i.checksum_ok), None);
        }
    }

    #[test]
    fn error_names() {
        let mut b = fixture();
        b[0] = 3;
        b[1] = 3;
        let i = Icmp::parse(&b, 0, 12).expect("parses");
        assert!(i.is_error());
        assert!(i.explain().contains("port unreachable"));
        assert_eq!((i.id, i.seq), (None, None));
    }

    #[test]
    fn fragmentation_needed_shows_its_next_hop_mtu() {
        let mut msg = vec![
            3, 4, // type 3 destination unreachable, code 4 fragmentation needed
            0, 0, // checksum (not checked here)
            0, 0, // unused
            0x05, 0xdc, // next-hop MTU 1500
        ];
        msg.extend_from_slice(&[0x45; 20]);
        let i = Icmp::parse(&msg, 34, msg.len()).unwrap_or_else(|| panic!("parses"));
        let f = i.fields();
        let mtu = f.iter().find(|f| f.name == "Next-hop MTU");
        assert_eq!(
            mtu.map(|f| (f.offset, f.value.as_ref())),
            Some((40, "1500"))
        );
        let mut redirect = msg.clone();
        redirect[..2].copy_from_slice(&[5, 1]);
        redirect[4..8].copy_from_slice(&[10, 0, 0, 1]);
        let r = Icmp::parse(&redirect, 34, redirect.len()).unwrap_or_else(|| panic!("parses"));
        assert!(
            r.fields()
                .iter()
                .any(|f| f.name == "Gateway address" && f.value.as_ref() == "10.0.0.1")
        );
    }
}
