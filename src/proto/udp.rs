//! UDP (RFC 768): connectionless datagrams — ports, a length and an optional checksum,
//! eight bytes in all. No handshake, no acknowledgement, and broadcast is allowed.

use super::{ToFieldText, ftext};
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use super::checksum::{PseudoHeader, Sum};
use super::{Field, be16};
use crate::lookup::{self, Transport};
use crate::text::Text;

/// Byte ranges of the UDP header, relative to its start.
pub mod field {
    use std::ops::Range;
    /// Source port.
    pub const SRC_PORT: Range<usize> = 0..2;
    /// Destination port.
    pub const DST_PORT: Range<usize> = 2..4;
    /// Length of header + payload, in bytes.
    pub const LENGTH: Range<usize> = 4..6;
    /// Checksum over the pseudo-header, header and payload (0 = none).
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// Length of the UDP header, in bytes.
pub const HEADER_LEN: usize = 8;

/// A UDP header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Udp {
    /// Offset of the header in the frame, in bytes.
    #[serde(skip)]
    pub offset: usize,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The length field: header + payload, in bytes.
    pub length: u16,
    /// Checksum as sent (0 means the sender did not compute one).
    pub checksum: u16,
    /// Whether the checksum verifies; `None` when it is zero over IPv4 (not used) or the
    /// datagram was not all captured. A zero checksum over IPv6 is `Some(false)`: IPv6
    /// makes it mandatory (RFC 8200, section 8.1).
    pub checksum_ok: Option<bool>,
}

impl Udp {
    /// Reads a UDP header from the start of `datagram` (the IP payload as captured):
    /// `None` under 8 bytes. The checksum is verified when the whole datagram (per its
    /// length field) was captured and the checksum is not zero.
    pub fn parse(datagram: &[u8], offset: usize, ph: &PseudoHeader) -> Option<Udp> {
        Udp::parse_with(datagram, offset, Some(ph))
    }

    /// [`Udp::parse`], verifying the checksum only when given the pseudo-header `ph`;
    /// without it `checksum_ok` is `None` (see [`super::tcp::Tcp::parse_with`] for why).
    #[inline]
    pub fn parse_with(datagram: &[u8], offset: usize, ph: Option<&PseudoHeader>) -> Option<Udp> {
        if datagram.len() < HEADER_LEN {
            return None;
        }
        let length = be16(datagram, field::LENGTH.start);
        let checksum = be16(datagram, field::CHECKSUM.start);
        let checksum_ok = match (ph, datagram.get(..usize::from(length))) {
            (None, _) => None,
            (Some(PseudoHeader::V6 { .. }), _) if checksum == 0 => Some(false),
            (Some(ph), Some(whole)) if checksum != 0 && usize::from(length) >= HEADER_LEN => Some(
                Sum::default()
                    .add_pseudo(ph, super::ipv4::IpProto::UDP.0, u32::from(length))
                    .add_bytes(whole)
                    .verifies(),
            ),
            _ => None,
        };
        Some(Udp {
            offset,
            src_port: be16(datagram, field::SRC_PORT.start),
            dst_port: be16(datagram, field::DST_PORT.start),
            length,
            checksum,
            checksum_ok,
        })
    }

    /// A header, at offset 0, for `payload_len` bytes from `src_port` to `dst_port`, its
    /// checksum not yet computed (see [`Udp::fill_checksum`]). `None` when the datagram
    /// would be longer than the 65,535 bytes the length field can say.
    pub fn new(src_port: u16, dst_port: u16, payload_len: usize) -> Option<Udp> {
        Some(Udp {
            offset: 0,
            src_port,
            dst_port,
            length: u16::try_from(HEADER_LEN.checked_add(payload_len)?).ok()?,
            checksum: 0,
            checksum_ok: None,
        })
    }

    /// Computes the checksum over the IPv4 pseudo-header (`src`, `dst`, UDP, length),
    /// the header and `payload`, and stores it: [`Udp::fill_checksum_for`] with
    /// [`PseudoHeader::V4`].
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) {
        self.fill_checksum_for(&PseudoHeader::V4 { src, dst }, payload);
    }

    /// Computes the checksum over the pseudo-header `ph` of either IP version (its
    /// addresses, UDP and the length), the header and `payload`, and stores it. A sum
    /// of zero is sent as 0xffff, its ones' complement twin, because zero on the wire
    /// means "no checksum" (RFC 768), which IPv6 does not allow (RFC 8200, section 8.1).
    pub fn fill_checksum_for(&mut self, ph: &PseudoHeader, payload: &[u8]) {
        self.checksum = 0;
        let mut hdr = Vec::with_capacity(HEADER_LEN);
        self.emit(&mut hdr);
        let c = Sum::default()
            .add_pseudo(ph, super::ipv4::IpProto::UDP.0, u32::from(self.length))
            .add_bytes(&hdr)
            .add_bytes(payload)
            .checksum();
        self.checksum = if c == 0 { 0xffff } else { c };
        self.checksum_ok = Some(true);
    }

    /// Appends the 8 header bytes to `out`, the checksum as it is; the payload follows
    /// from the caller.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.src_port.to_be_bytes());
        out.extend_from_slice(&self.dst_port.to_be_bytes());
        out.extend_from_slice(&self.length.to_be_bytes());
        out.extend_from_slice(&self.checksum.to_be_bytes());
    }

    /// Payload length per the length field, in bytes.
    pub fn payload_len(&self) -> usize {
        usize::from(self.length).saturating_sub(HEADER_LEN)
    }

    /// One phrase about the datagram: its size and the service its ports name.
    pub fn explain(&self, dst: IpAddr) -> String {
        let mut out = Vec::with_capacity(96);
        self.write_explain(dst, &mut out);
        // Only `&str`s and digits were appended, so this is always valid UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the phrase of [`Udp::explain`] to `out`, without allocating.
    pub fn write_explain(&self, dst: IpAddr, out: &mut Vec<u8>) {
        let service = lookup::service(self.dst_port, Transport::Udp)
            .or_else(|| lookup::service(self.src_port, Transport::Udp));
        let cast = match dst {
            IpAddr::V4(dst) if dst.is_broadcast() => {
                "; limited broadcast: every host on this link receives it"
            }
            IpAddr::V4(dst) if dst.is_multicast() => "; multicast",
            IpAddr::V4(dst) if dst.octets()[3] == 255 => {
                "; subnet broadcast: every host on the subnet receives it"
            }
            // IPv6 has no broadcast: ff02::1 (all nodes) plays its part.
            IpAddr::V6(dst) if dst.segments() == [0xff02, 0, 0, 0, 0, 0, 0, 1] => {
                "; multicast to all nodes on the link (IPv6 has no broadcast: this is its stand-in)"
            }
            IpAddr::V6(dst) if dst.is_multicast() => "; multicast",
            _ => "",
        };
        out.u(self.payload_len() as u64).s(" bytes of data");
        if let Some(s) = service {
            out.s(" (").s(s.name).s(")");
        }
        out.s(", no connection needed").s(cast);
    }

    /// The header's fields, with their meanings.
    pub fn fields(&self) -> Vec<Field> {
        let o = self.offset;
        let [src, dst] = super::port_fields(
            o + field::SRC_PORT.start,
            self.src_port,
            self.dst_port,
            Transport::Udp,
        );
        vec![
            src,
            dst,
            Field::new(
                o + field::LENGTH.start,
                2,
                "Length",
                self.length.ftext(),
                ftext!("8-byte header + {} bytes of data", self.payload_len()),
            )
            .quoting_lengths(),
            Field::new(
                o + field::CHECKSUM.start,
                2,
                "Checksum",
                ftext!("0x{:04x}", self.checksum),
                match (self.checksum, self.checksum_ok) {
                    (0, Some(false)) => {
                        "zero, which IPv6 forbids: a receiver discards the datagram (RFC 8200, section 8.1)"
                    }
                    (0, _) => "zero: the sender did not compute one (allowed for UDP over IPv4)",
                    (_, Some(true)) => {
                        "correct: covers a pseudo-header (IPs, protocol, length), the header and the data"
                    }
                    (_, Some(false)) => {
                        "WRONG: damaged, or filled in by the network card after capture (checksum offload)"
                    }
                    (_, None) => "not verified: the datagram was not all captured",
                },
            ),
        ]
    }
}

impl super::Layer for Udp {
    fn name(&self) -> &'static str {
        "UDP"
    }

    fn explain(&self, around: &super::Around, out: &mut Vec<u8>) -> bool {
        match around.dst {
            Some(dst) => {
                self.write_explain(dst, out);
                true
            }
            None => false,
        }
    }

    fn key(&self) -> &'static str {
        "udp"
    }

    fn mark(&self) -> char {
        'U'
    }

    fn hue(&self) -> super::Hue {
        super::Hue::BoldMagenta
    }

    fn model(&self) -> super::Model {
        super::Model::Transport
    }

    fn span(&self) -> super::Span {
        super::Span {
            offset: self.offset,
            len: HEADER_LEN,
        }
    }

    fn fields(&self) -> Vec<Field> {
        Udp::fields(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 255);
    const PH: PseudoHeader = PseudoHeader::V4 { src: SRC, dst: DST };

    const FIXTURE: [u8; 10] = [
        0xc3, 0x50, // source port 50000
        0x27, 0x10, // destination port 10000
        0x00, 0x0a, // length 10
        0x00, 0x00, // checksum (filled in by `fixture`)
        b'h', b'i', // payload
    ];

    fn fixture() -> [u8; 10] {
        let mut b = FIXTURE;
        let c = Sum::default()
            .add_pseudo_header(SRC, DST, 17, 10)
            .add_bytes(&b)
            .checksum();
        b[6..8].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn a_checksum_filled_over_the_ipv6_pseudo_header_verifies_there() {
        let ph = PseudoHeader::V6 {
            src: "fe80::77:ff:fe00:1".parse().expect("address"),
            dst: std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1),
        };
        let mut u = Udp::new(50000, 10000, 2).expect("fits");
        u.fill_checksum_for(&ph, b"hi");
        let mut b = Vec::new();
        u.emit(&mut b);
        b.extend_from_slice(b"hi");
        assert_eq!(
            Udp::parse(&b, 54, &ph).and_then(|u| u.checksum_ok),
            Some(true)
        );
        // The same datagram does not verify over the IPv4 pseudo-header.
        assert_eq!(
            Udp::parse(&b, 34, &PH).and_then(|u| u.checksum_ok),
            Some(false)
        );
    }

    #[test]
    fn parses_and_verifies() {
        let u = Udp::parse(&fixture(), 34, &PH).expect("10 bytes parse");
        assert_eq!((u.src_port, u.dst_port, u.length), (50000, 10000, 10));
        assert_eq!(u.checksum_ok, Some(true));
        assert_eq!(u.payload_len(), 2);
        assert_eq!(u.fields()[3].offset, 40);
    }

    /// Without a pseudo-header, the header reads the same and the checksum is left
    /// unverified.
    #[test]
    fn parse_with_no_pseudo_header_skips_only_the_checksum() {
        let checked = Udp::parse(&fixture(), 34, &PH).expect("10 bytes parse");
        let skipped = Udp::parse_with(&fixture(), 34, None).expect("10 bytes parse");
        assert_eq!(checked.checksum_ok, Some(true));
        assert_eq!(
            Udp {
                checksum_ok: None,
                ..checked
            },
            skipped
        );
    }

    #[test]
    fn zero_checksum_is_not_verified() {
        let u = Udp::parse(&FIXTURE, 0, &PH).expect("parses");
        assert_eq!(u.checksum_ok, None);
        assert!(u.fields()[3].meaning.contains("did not compute"));
    }

    #[test]
    fn emit_gives_back_the_fixture() {
        let b = fixture();
        let u = Udp::parse(&b, 0, &PH).expect("parses");
        let mut out = Vec::new();
        u.emit(&mut out);
        out.extend_from_slice(&b[HEADER_LEN..]);
        assert_eq!(out, b);
    }

    #[test]
    fn builder_round_trips_through_parse() {
        let payload = b"hello broadcast";
        let mut u = Udp::new(50000, 10000, payload.len()).expect("fits");
        u.fill_checksum(SRC, Ipv4Addr::BROADCAST, payload);
        u.offset = 34;
        let mut out = Vec::new();
        u.emit(&mut out);
        out.extend_from_slice(payload);
        assert_eq!(
            Udp::parse(
                &out,
                34,
                &PseudoHeader::V4 {
                    src: SRC,
                    dst: Ipv4Addr::BROADCAST
                }
            ),
            Some(u)
        );
        // The same bytes with the hand-made fixture's checksum computation agree.
        let mut hi = Udp::new(50000, 10000, 2).expect("fits");
        hi.fill_checksum(SRC, DST, b"hi");
        let mut out = Vec::new();
        hi.emit(&mut out);
        out.extend_from_slice(b"hi");
        assert_eq!(out, fixture());
    }

    #[test]
    fn a_zero_sum_is_sent_as_ffff() {
        // Find a payload whose checksum computes to zero by adjusting its last word.
        let mut u = Udp::new(1, 2, 2).expect("fits");
        u.fill_checksum(SRC, DST, &[0, 0]);
        let want = u.checksum;
        // Adding `want` to the data makes the ones' complement sum 0xffff: checksum 0.
        let payload = want.to_be_bytes();
        let mut z = Udp::new(1, 2, 2).expect("fits");
        z.fill_checksum(SRC, DST, &payload);
        assert_eq!(z.checksum, 0xffff);
        let mut out = Vec::new();
        z.emit(&mut out);
        out.extend_from_slice(&payload);
        assert_eq!(
            Udp::parse(&out, 0, &PH).and_then(|u| u.checksum_ok),
            Some(true)
        );
    }

    #[test]
    fn builder_refuses_datagrams_over_64_kib() {
        assert!(Udp::new(1, 2, 65_527).is_some());
        assert!(Udp::new(1, 2, 65_528).is_none());
    }

    #[test]
    fn every_prefix_parses_or_is_rejected_without_panic() {
        let b = fixture();
        for n in 0..b.len() {
            let u = Udp::parse(&b[..n], 0, &PH);
            assert_eq!(u.is_some(), n >= HEADER_LEN, "prefix {n}");
            assert_eq!(u.and_then(|u| u.checksum_ok), None);
        }
    }
}
