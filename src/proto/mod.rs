//! One file per protocol: what each header field is, where it sits and what it means.
//!
//! Nothing here does I/O, knows about the command line or draws tables. Each layer is a
//! plain struct (serialised to JSON with the names the README documents) that records the
//! byte offset of its header in the frame, and can list its fields as [`Field`]s — the one
//! field model that the table, the hex-dump colouring and the notes are all built from.

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmp;
pub mod icmpv6;
pub mod ipv4;
pub mod ipv6;
pub mod layer;
pub mod null;
pub mod sll;
pub mod tcp;
pub mod udp;
pub mod undecoded;
pub mod vlan;

use std::fmt;

pub use layer::{Around, Hue, Layer, Model, Span};

use serde::{Serialize, Serializer};

/// Bytes of text a [`FieldText`] holds in place, without allocating.
const INLINE: usize = 46;

/// A field's text: a constant, a short text held in place, or a longer owned string.
/// Most values ("64", "0x52dd (21213)", "10.77.0.1") and bit drawings are short and most
/// meanings are constants, so listing a packet's fields allocates little (the table
/// format lists them for every packet, and allocation was a fifth of its time).
#[derive(Clone)]
pub struct FieldText(Repr);

/// Inline texts are `ArrayString`s, whose `as_str` needs no UTF-8 check: checking on
/// every read was 5% of the table format's instructions (callgrind).
#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Inline(arrayvec::ArrayString<INLINE>),
    Owned(String),
}

impl FieldText {
    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Inline(s) => s.as_str(),
            Repr::Owned(s) => s,
        }
    }

    /// Formats `args` (see the `ftext!` macro), in place when the result is short.
    pub fn format(args: fmt::Arguments<'_>) -> FieldText {
        if let Some(s) = args.as_str() {
            return FieldText(Repr::Static(s));
        }
        let mut w = InlineWriter {
            buf: arrayvec::ArrayString::new(),
            spill: None,
        };
        // Writing to memory cannot fail.
        let _ = fmt::write(&mut w, args);
        match w.spill {
            Some(s) => FieldText(Repr::Owned(s)),
            None => FieldText(Repr::Inline(w.buf)),
        }
    }

    /// `value`'s `Display` text.
    pub fn display(value: impl fmt::Display) -> FieldText {
        FieldText::format(format_args!("{value}"))
    }

    /// A copy of `s`, in place when it is short.
    pub fn copy(s: &str) -> FieldText {
        match arrayvec::ArrayString::from(s) {
            Ok(a) => FieldText(Repr::Inline(a)),
            Err(_) => FieldText(Repr::Owned(s.to_owned())),
        }
    }

    /// The text that `build` appends with [`crate::text::Text`]'s appenders: what
    /// `ftext!` would give, without `core::fmt` (its cost per argument was a tenth of the
    /// table format's instructions, callgrind).
    pub fn build(build: impl FnOnce(&mut crate::text::TextBuf)) -> FieldText {
        use crate::text::TextBuf;
        thread_local! {
            static SCRATCH: RefCell<TextBuf> = const { RefCell::new(TextBuf::new()) };
        }
        in_scratch(&SCRATCH, TextBuf::clear, |b| {
            build(b);
            FieldText::copy(b.as_str())
        })
    }

    /// [`FieldText::build`] for writers that take a byte buffer (a layer's
    /// [`explain`](crate::proto::Layer::explain)): the bytes are checked as UTF-8.
    pub fn build_bytes(build: impl FnOnce(&mut Vec<u8>)) -> FieldText {
        thread_local! {
            static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        in_scratch(&SCRATCH, Vec::clear, |b| {
            build(b);
            FieldText::copy(std::str::from_utf8(b).unwrap_or_default())
        })
    }
}

use std::cell::RefCell;

/// Runs `f` on this thread's scratch buffer `key`, emptied by `clear` first (no
/// allocation per field text), or on a buffer of its own while the scratch is in use
/// (a text built while building another: not done today).
#[inline]
fn in_scratch<B: Default + 'static>(
    key: &'static std::thread::LocalKey<RefCell<B>>,
    clear: impl FnOnce(&mut B),
    f: impl FnOnce(&mut B) -> FieldText,
) -> FieldText {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut b) => {
            clear(&mut b);
            f(&mut b)
        }
        Err(_) => f(&mut B::default()),
    })
}

/// Collects formatted text in place, moving it to a `String` when it outgrows the
/// buffer. Pieces are whole `str`s, so the buffer always holds valid UTF-8.
struct InlineWriter {
    buf: arrayvec::ArrayString<INLINE>,
    spill: Option<String>,
}

impl fmt::Write for InlineWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(spill) = &mut self.spill {
            spill.push_str(s);
            return Ok(());
        }
        if self.buf.try_push_str(s).is_err() {
            let mut spill = String::with_capacity(self.buf.len() + s.len() + 32);
            spill.push_str(&self.buf);
            spill.push_str(s);
            self.spill = Some(spill);
        }
        Ok(())
    }
}

impl std::ops::Deref for FieldText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for FieldText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for FieldText {
    fn from(s: &'static str) -> FieldText {
        FieldText(Repr::Static(s))
    }
}

impl From<String> for FieldText {
    fn from(s: String) -> FieldText {
        FieldText(Repr::Owned(s))
    }
}

impl From<FieldText> for String {
    fn from(t: FieldText) -> String {
        match t.0 {
            Repr::Owned(s) => s,
            other => FieldText(other).as_str().to_owned(),
        }
    }
}

impl PartialEq for FieldText {
    fn eq(&self, other: &FieldText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for FieldText {}

impl PartialEq<&str> for FieldText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for FieldText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for FieldText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `format!` for field texts: a [`FieldText`], allocated only when it is long.
macro_rules! ftext {
    ($($arg:tt)*) => {
        $crate::proto::FieldText::format(format_args!($($arg)*))
    };
}
pub(crate) use ftext;

/// `to_string` for field texts: a value's `Display` text as a [`FieldText`].
pub(crate) trait ToFieldText {
    /// The `Display` text, in place when it is short.
    fn ftext(&self) -> FieldText;
}

/// Integers are written with `itoa`, addresses with [`crate::text::Text`]: most field
/// values are one of them, and `core::fmt` cost tens of nanoseconds each.
macro_rules! int_ftext {
    ($($t:ty),*) => {$(
        impl ToFieldText for $t {
            fn ftext(&self) -> FieldText {
                FieldText::copy(itoa::Buffer::new().format(*self))
            }
        }
    )*};
}
int_ftext!(u8, u16, u32, u64, usize);

impl ToFieldText for std::net::Ipv4Addr {
    fn ftext(&self) -> FieldText {
        use crate::text::Text;
        FieldText::build(|b| {
            b.ipv4(*self);
        })
    }
}

impl ToFieldText for std::net::Ipv6Addr {
    fn ftext(&self) -> FieldText {
        use crate::text::Text;
        FieldText::build(|b| {
            b.ipv6(*self);
        })
    }
}

impl ToFieldText for MacAddr {
    fn ftext(&self) -> FieldText {
        use crate::text::Text;
        FieldText::build(|b| {
            b.mac(*self);
        })
    }
}

impl ToFieldText for str {
    fn ftext(&self) -> FieldText {
        FieldText::copy(self)
    }
}

/// One header field, as the `table` format shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Offset of the field's first byte in the frame, in bytes.
    pub offset: usize,
    /// Length of the bytes that hold the field, in bytes (a bit field names its whole byte).
    pub len: usize,
    /// For a bit field, the bits it uses within `len` bytes, drawn like `.1.. ....`.
    pub bits: Option<FieldText>,
    /// The field's name, e.g. "Time to live".
    pub name: &'static str,
    /// The field's value as printed, e.g. "64".
    pub value: FieldText,
    /// What the value means, in plain words; may be empty.
    pub meaning: FieldText,
    /// True when the meaning quotes lengths of this packet ("20-byte header + 213-byte
    /// payload"), which change from packet to packet under the same name where other
    /// meanings repeat: the table format looks such a meaning up by its shape, as it does
    /// values (see [`crate::render::grid::draw`]).
    pub quotes_lengths: bool,
}

impl Field {
    /// A field that fills whole bytes.
    pub fn new(
        offset: usize,
        len: usize,
        name: &'static str,
        value: impl Into<FieldText>,
        meaning: impl Into<FieldText>,
    ) -> Field {
        Field {
            offset,
            len,
            bits: None,
            name,
            value: value.into(),
            meaning: meaning.into(),
            quotes_lengths: false,
        }
    }

    /// A bit field: `mask` selects its bits within the `len` bytes at `offset`, which
    /// hold `raw` (big-endian).
    pub fn bits(
        offset: usize,
        len: usize,
        mask: u32,
        raw: u32,
        name: &'static str,
        value: impl Into<FieldText>,
        meaning: impl Into<FieldText>,
    ) -> Field {
        Field {
            offset,
            len,
            bits: Some(draw_bits(len, mask, raw)),
            name,
            value: value.into(),
            meaning: meaning.into(),
            quotes_lengths: false,
        }
    }

    /// This field, its meaning marked as quoting the packet's lengths
    /// ([`Field::quotes_lengths`]).
    pub fn quoting_lengths(self) -> Field {
        Field {
            quotes_lengths: true,
            ..self
        }
    }
}

/// Draws the bits of `raw` selected by `mask` as Wireshark does: `0100 ....`.
fn draw_bits(len: usize, mask: u32, raw: u32) -> FieldText {
    let nibbles = len.min(4) * 2;
    // 32 bits and 7 gaps fit in place (INLINE ≥ 39). Four bits at a time from a table
    // (a bit at a time, pushed as `char`s, this was 2% of the table format's
    // instructions, callgrind).
    let mut bytes = [b' '; 39];
    for (k, quad) in bytes.chunks_mut(5).take(nibbles).enumerate() {
        let shift = 4 * (nibbles - 1 - k);
        let m = (mask >> shift) & 0xf;
        let r = (raw >> shift) & 0xf;
        if let Some(q) = quad.get_mut(..4) {
            q.copy_from_slice(&NIBBLES[(m << 4 | r) as usize]);
        }
    }
    let drawn = bytes
        .get(..(nibbles * 5).saturating_sub(1))
        .unwrap_or_default();
    let mut buf = arrayvec::ArrayString::<INLINE>::new();
    let _ = buf.try_push_str(std::str::from_utf8(drawn).unwrap_or_default());
    FieldText(Repr::Inline(buf))
}

/// The four characters [`draw_bits`] draws for the mask bits `m` and value bits `r` of
/// one nibble, at index `m << 4 | r`: `.` where the mask is clear, else the bit.
const NIBBLES: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut i = 0;
    while i < 256 {
        let (m, r) = (i >> 4, i & 0xf);
        let mut j = 0;
        while j < 4 {
            let bit = 8 >> j;
            t[i][j] = if m & bit == 0 {
                b'.'
            } else if r & bit != 0 {
                b'1'
            } else {
                b'0'
            };
            j += 1;
        }
        i += 1;
    }
    t
};

/// The source- and destination-port fields every transport header starts with (at
/// `offset` and `offset + 2`), each with the service its number names or, failing that,
/// what its range says (see [`port_meaning`]).
pub(crate) fn port_fields(
    offset: usize,
    src: u16,
    dst: u16,
    transport: crate::lookup::Transport,
) -> [Field; 2] {
    let meaning = |p: u16| match crate::lookup::service(p, transport) {
        Some(s) => FieldText::build(|b| {
            use crate::text::Text;
            b.s(s.name).s(" (").s(s.description).s(")");
        }),
        None => port_meaning(p).into(),
    };
    [
        Field::new(offset, 2, "Source port", src.ftext(), meaning(src)),
        Field::new(offset + 2, 2, "Destination port", dst.ftext(), meaning(dst)),
    ]
}

/// First port of IANA's dynamic range, 49152–65535 (RFC 6335 §6), which IANA
/// recommends for ephemeral ports.
pub const DYNAMIC_PORTS_FROM: u16 = 49152;

/// Linux's default ephemeral port range (`net.ipv4.ip_local_port_range`), which
/// differs from IANA's: no one range is "the" ephemeral range.
pub const LINUX_EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 32768..=60999;

/// What a port number with no known service says by its range alone (RFC 6335 §6:
/// system ports 0–1023, user ports 1024–49151, dynamic ports 49152–65535).
pub fn port_meaning(p: u16) -> &'static str {
    if p == 0 {
        "port 0: reserved, no program listens on it (a UDP source port of 0 means no reply is expected)"
    } else if p >= DYNAMIC_PORTS_FROM {
        "dynamic range (IANA: 49152–65535): most likely an ephemeral port the sender's OS picked for this conversation"
    } else if LINUX_EPHEMERAL_PORTS.contains(&p) {
        "no known service; possibly an ephemeral port (Linux picks them from 32768–60999 by default, IANA recommends 49152–65535)"
    } else if p < 1024 {
        "system port (0–1023) with no service known to wirelens"
    } else {
        "user port (1024–49151) with no service known to wirelens"
    }
}

/// An Ethernet MAC address (EUI-48).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff, the address every station on the LAN receives.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// 00:00:00:00:00:00, used in an ARP request for the unknown target address.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// Reads a MAC address from six bytes; `None` when fewer are given.
    pub fn from_slice(b: &[u8]) -> Option<MacAddr> {
        let arr: [u8; 6] = b.get(..6)?.try_into().ok()?;
        Some(MacAddr(arr))
    }

    /// The Ethernet address an IPv6 multicast group is sent to: 33:33 followed by the
    /// group's last 32 bits (RFC 2464, section 7): ff02::1 → 33:33:00:00:00:01.
    pub fn ipv6_multicast(group: std::net::Ipv6Addr) -> MacAddr {
        let o = group.octets();
        MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }

    /// True for ff:ff:ff:ff:ff:ff.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// True when the I/G bit (lowest bit of the first byte) is set: a group address.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// True when the U/L bit (second-lowest bit of the first byte) is set: the address
    /// was assigned locally (by software), not burned in by the maker.
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// A short description: broadcast, multicast or unicast, and who assigned it. A
    /// constant unless it names the maker (two of them in every Ethernet header: built
    /// as `String`s, they were two allocations a packet in the table format).
    pub fn describe(&self) -> FieldText {
        macro_rules! cast {
            ($who:literal) => {
                if self.is_broadcast() {
                    concat!("broadcast: every station on the LAN receives it; ", $who)
                } else if self.is_multicast() {
                    concat!(
                        "multicast: stations that joined the group receive it; ",
                        $who
                    )
                } else {
                    concat!("unicast: one station; ", $who)
                }
            };
        }
        if self.is_local() {
            return cast!("locally administered (set by software, no maker)").into();
        }
        match crate::lookup::oui_vendor(self.0) {
            Some(v) => FieldText::build(|b| {
                use crate::text::Text;
                b.s(cast!("globally unique, made by ")).s(v);
            }),
            None if self.is_multicast() => cast!("group address").into(),
            None => cast!("globally unique, maker not in our list").into(),
        }
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// Text that is not a MAC address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a MAC address: write six hex bytes separated by colons, like 02:77:00:00:00:02."
)]
pub struct ParseMacError(pub String);

impl std::str::FromStr for MacAddr {
    type Err = ParseMacError;

    /// Reads `02:77:00:00:00:02` (or with dashes, `02-77-00-00-00-02`).
    fn from_str(s: &str) -> Result<MacAddr, ParseMacError> {
        let err = || ParseMacError(s.to_string());
        let mut mac = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut mac {
            let p = parts.next().ok_or_else(err)?;
            if p.is_empty() || p.len() > 2 {
                return Err(err());
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(MacAddr(mac))
    }
}

impl Serialize for MacAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut text = [0u8; 17];
        for (i, b) in self.0.into_iter().enumerate() {
            if let Some(d) = text.get_mut(i * 3..i * 3 + 2) {
                d.copy_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]);
            }
            if let Some(colon) = text.get_mut(i * 3 + 2).filter(|_| i < 5) {
                *colon = b':';
            }
        }
        // Only hex digits and colons were written.
        s.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

/// Reads one byte at `at`, or 0 past the end (callers check lengths first; this only
/// guarantees that no input can make a getter panic).
pub(crate) fn be8(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

/// Reads a big-endian u16 at `at`, or 0 past the end.
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    take::<2>(b, at).map_or(0, u16::from_be_bytes)
}

/// Reads a big-endian u32 at `at`, or 0 past the end.
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    take::<4>(b, at).map_or(0, u32::from_be_bytes)
}

/// The `N` bytes at `at`, if all of them are there.
pub(crate) fn take<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Reads an IPv4 address at `at`, or 0.0.0.0 past the end.
pub(crate) fn ipv4_at(b: &[u8], at: usize) -> std::net::Ipv4Addr {
    std::net::Ipv4Addr::from(be32(b, at))
}

/// Formats bytes as lower-case hex pairs separated by spaces.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    /// Four bits at a time from the table, the same drawing as a bit at a time, for every
    /// field length and many masks and values.
    #[test]
    fn draw_bits_matches_a_bit_by_bit_drawing() {
        let by_bit = |len: usize, mask: u32, raw: u32| {
            let nbits = (len.min(4) * 8) as u32;
            let mut s = String::new();
            for i in (0..nbits).rev() {
                let bit = 1u32 << i;
                s.push(if mask & bit == 0 {
                    '.'
                } else if raw & bit != 0 {
                    '1'
                } else {
                    '0'
                });
                if i % 4 == 0 && i != 0 {
                    s.push(' ');
                }
            }
            s
        };
        let mut next = crate::testing::rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let x = next(u64::MAX);
            let (len, mask, raw) = ((x % 6) as usize, (x >> 8) as u32, (x >> 24) as u32);
            assert_eq!(
                draw_bits(len, mask, raw).as_str(),
                by_bit(len, mask, raw),
                "{len} {mask:x} {raw:x}"
            );
        }
    }

    #[test]
    fn field_text_equals_format_at_every_length() {
        // Short texts stay in place, longer ones spill into a String in the middle of a
        // write; either way the text is what format! makes, and equal texts are equal
        // whatever holds them.
        for n in 0..3 * INLINE {
            let word = "é".repeat(n / 2) + &"x".repeat(n % 2);
            let want = format!("{n}:{word}|{}", n * 7);
            let got = ftext!("{n}:{word}|{}", n * 7);
            assert_eq!(got.as_str(), want);
            assert_eq!(got, FieldText::from(want.clone()));
            assert_eq!(got, want.as_str().to_string().ftext());
        }
        assert!(matches!(ftext!("constant").0, Repr::Static("constant")));
        let ttl = std::hint::black_box(64);
        assert!(matches!(ftext!("{ttl}").0, Repr::Inline { .. }));
        assert!(matches!(
            ftext!("{}", "x".repeat(INLINE + 1)).0,
            Repr::Owned(_)
        ));
    }

    #[test]
    fn bit_drawings_of_four_bytes_fit_in_place() {
        let f = Field::bits(0, 4, 0x8000_0001, 0xffff_ffff, "x", "1", "");
        assert_eq!(
            f.bits.as_deref(),
            Some("1... .... .... .... .... .... .... ...1")
        );
        let f = Field::bits(0, 1, 0xf0, 0x45, "Version", "4", "IPv4");
        assert_eq!(f.bits.as_deref(), Some("0100 ...."));
    }

    #[test]
    fn mac_kinds() {
        assert!(MacAddr::BROADCAST.is_broadcast());
        assert!(MacAddr::BROADCAST.is_multicast());
        let m = MacAddr([0x02, 0x77, 0, 0, 0, 1]);
        assert!(m.is_local() && !m.is_multicast());
        assert_eq!(m.to_string(), "02:77:00:00:00:01");
        assert!(m.describe().as_str().contains("locally administered"));
    }

    #[test]
    fn macs_are_read_from_text() {
        assert_eq!(
            "02:77:00:00:00:02".parse(),
            Ok(MacAddr([2, 0x77, 0, 0, 0, 2]))
        );
        assert_eq!(
            "F6-36-a:0:0:1".parse(),
            Ok(MacAddr([0xf6, 0x36, 0xa, 0, 0, 1]))
        );
        for bad in [
            "",
            "02:77:00:00:00",
            "02:77:00:00:00:02:03",
            "0x:77:00:00:00:02",
            "027:7:0:0:0:2",
        ] {
            assert_eq!(
                bad.parse::<MacAddr>(),
                Err(ParseMacError(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn bits_are_drawn_like_wireshark() {
        assert_eq!(draw_bits(1, 0xf0, 0x45), "0100 ....");
        assert_eq!(draw_bits(2, 0x4000, 0x4000), ".1.. .... .... ....");
    }

    #[test]
    fn getters_never_panic_past_the_end() {
        let b = [1u8, 2, 3];
        assert_eq!(be16(&b, 2), 0);
        assert_eq!(be32(&b, 0), 0);
        assert_eq!(be8(&b, 9), 0);
        assert_eq!(be16(&b, usize::MAX - 1), 0);
    }

    #[test]
    fn no_port_range_is_called_the_ephemeral_range() {
        let linux = port_meaning(40000);
        assert!(
            linux.contains("32768–60999") && linux.contains("49152–65535"),
            "{linux}"
        );
        assert!(port_meaning(50000).contains("dynamic range"));
        assert!(port_meaning(5000).contains("user port"));
        assert!(port_meaning(700).contains("system port"));
        assert!(port_meaning(0).contains("reserved"));
    }
}
