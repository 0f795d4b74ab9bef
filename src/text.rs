//! Fast text into byte buffers, for the per-packet hot paths of the renderers.
//!
//! `write!` goes through `core::fmt`, which costs tens of nanoseconds per argument;
//! a summary line has a dozen. These helpers append the same characters `format!` would
//! write — the tests below pin each one to `format!` — straight into a `Vec<u8>`.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::proto::MacAddr;

/// Lower-case hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appending text to a byte buffer. Implemented for `Vec<u8>`; everything appended is
/// UTF-8, so a buffer only ever filled through this trait is valid UTF-8.
pub trait Text {
    /// Appends a string.
    fn s(&mut self, s: &str) -> &mut Self;
    /// Appends an unsigned integer in decimal (`{}`).
    fn u(&mut self, n: u64) -> &mut Self;
    /// Appends a signed integer in decimal (`{}`).
    fn i(&mut self, n: i64) -> &mut Self;
    /// Appends `n` in decimal, right-aligned in `width` columns (`{:>width}`).
    fn u_right(&mut self, n: u64, width: usize) -> &mut Self;
    /// Appends `s` left-aligned in `width` columns (`{:<width}`), for ASCII `s`.
    fn s_left(&mut self, s: &str, width: usize) -> &mut Self;
    /// Appends an IPv4 address in dotted decimal, like its `Display`.
    fn ipv4(&mut self, a: Ipv4Addr) -> &mut Self;
    /// Appends an IPv6 address like its `Display` (RFC 5952: lower-case hex, the
    /// longest run of two or more zero groups as `::`, an IPv4-mapped address as
    /// `::ffff:a.b.c.d`).
    fn ipv6(&mut self, a: Ipv6Addr) -> &mut Self;
    /// Appends a MAC address like its `Display` (`02:77:00:00:00:01`).
    fn mac(&mut self, m: MacAddr) -> &mut Self;
    /// Appends an IP address; an IPv6 one in brackets when `port_follows`
    /// (`[fd77::1]` before `:40000`, RFC 5952 section 6).
    fn ip(&mut self, a: std::net::IpAddr, port_follows: bool) -> &mut Self;
    /// Appends `0x` and `n` as four lower-case hex digits (`0x{:04x}`).
    fn hex4(&mut self, n: u16) -> &mut Self;
    /// Appends `0x` and `n` in lower-case hex, zero-padded to at least `digits` digits
    /// (`0x{:0digits$x}`).
    fn hex(&mut self, n: u64, digits: usize) -> &mut Self;
    /// Appends `v` with six decimals, right-aligned in `width` columns: exactly what
    /// `format!("{v:>width$.6}")` writes.
    fn secs6(&mut self, v: f64, width: usize) -> &mut Self {
        self.fixed(v, 6, width)
    }
    /// Appends `v` with `decimals` decimals (at most 9), right-aligned in `width`
    /// columns: exactly what `format!("{v:>width$.decimals$}")` writes.
    fn fixed(&mut self, v: f64, decimals: u32, width: usize) -> &mut Self;
}

/// A byte buffer written only through [`Text`], which appends only whole UTF-8 (`str`s,
/// ASCII digits and punctuation): so its bytes are a `str` without checking them (the
/// check, on every field text built, was 2% of the table format's time, perf).
#[derive(Debug, Default)]
pub struct TextBuf(Vec<u8>);

impl TextBuf {
    /// An empty buffer.
    pub const fn new() -> TextBuf {
        TextBuf(Vec::new())
    }

    /// Empties the buffer, keeping its memory.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        debug_assert!(std::str::from_utf8(&self.0).is_ok());
        // SAFETY: the bytes were appended only by `Text for Vec<u8>`, each of whose
        // methods appends a `str`'s bytes or ASCII, so they are UTF-8 (the tests below
        // pin every method to `format!`).
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
}

/// Each method of [`Text`] for [`TextBuf`]: the same method of its `Vec<u8>`.
macro_rules! through_vec {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $name(&mut self, $($arg: $ty),*) -> &mut Self {
                self.0.$name($($arg),*);
                self
            }
        )*
    };
}

impl Text for TextBuf {
    through_vec! {
        s(s: &str);
        u(n: u64);
        i(n: i64);
        u_right(n: u64, width: usize);
        s_left(s: &str, width: usize);
        ipv4(a: Ipv4Addr);
        ipv6(a: Ipv6Addr);
        mac(m: MacAddr);
        ip(a: std::net::IpAddr, port_follows: bool);
        hex4(n: u16);
        hex(n: u64, digits: usize);
        fixed(v: f64, decimals: u32, width: usize);
    }
}

impl Text for Vec<u8> {
    fn s(&mut self, s: &str) -> &mut Self {
        self.extend_from_slice(s.as_bytes());
        self
    }

    fn u(&mut self, n: u64) -> &mut Self {
        self.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self
    }

    fn i(&mut self, n: i64) -> &mut Self {
        self.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self
    }

    fn u_right(&mut self, n: u64, width: usize) -> &mut Self {
        let mut b = itoa::Buffer::new();
        let digits = b.format(n);
        self.resize(self.len() + width.saturating_sub(digits.len()), b' ');
        self.extend_from_slice(digits.as_bytes());
        self
    }

    fn s_left(&mut self, s: &str, width: usize) -> &mut Self {
        self.extend_from_slice(s.as_bytes());
        let chars = s.chars().count();
        self.resize(self.len() + width.saturating_sub(chars), b' ');
        self
    }

    fn ip(&mut self, a: std::net::IpAddr, port_follows: bool) -> &mut Self {
        match a {
            std::net::IpAddr::V4(a) => self.ipv4(a),
            std::net::IpAddr::V6(a) if port_follows => self.s("[").ipv6(a).s("]"),
            std::net::IpAddr::V6(a) => self.ipv6(a),
        }
    }

    fn ipv4(&mut self, a: Ipv4Addr) -> &mut Self {
        let mut stack = [0u8; 15];
        let len = ipv4_into(a, &mut stack);
        self.extend_from_slice(stack.get(..len).unwrap_or_default());
        self
    }

    fn ipv6(&mut self, a: Ipv6Addr) -> &mut Self {
        if let Some(v4) = a.to_ipv4_mapped() {
            return self.s("::ffff:").ipv4(v4);
        }
        let groups = a.segments();
        // The first longest run of zero groups (the standard library's choice).
        let (mut best, mut run) = ((0, 0), (0, 0));
        for (i, &g) in groups.iter().enumerate() {
            if g == 0 {
                if run.1 == 0 {
                    run.0 = i;
                }
                run.1 += 1;
                if run.1 > best.1 {
                    best = run;
                }
            } else {
                run = (0, 0);
            }
        }
        let hex = |out: &mut Vec<u8>, part: &[u16]| {
            for (i, &g) in part.iter().enumerate() {
                if i > 0 {
                    out.push(b':');
                }
                let digits = ((16 - g.leading_zeros()).div_ceil(4)).max(1);
                for d in (0..digits).rev() {
                    out.push(HEX[usize::from((g >> (4 * d)) & 0x0f)]);
                }
            }
        };
        if best.1 > 1 {
            hex(self, groups.get(..best.0).unwrap_or_default());
            self.extend_from_slice(b"::");
            hex(self, groups.get(best.0 + best.1..).unwrap_or_default());
        } else {
            hex(self, &groups);
        }
        self
    }

    fn mac(&mut self, m: MacAddr) -> &mut Self {
        for (i, b) in m.0.into_iter().enumerate() {
            if i > 0 {
                self.push(b':');
            }
            self.push(HEX[usize::from(b >> 4)]);
            self.push(HEX[usize::from(b & 0x0f)]);
        }
        self
    }

    fn hex4(&mut self, n: u16) -> &mut Self {
        self.hex(n.into(), 4)
    }

    fn hex(&mut self, n: u64, digits: usize) -> &mut Self {
        self.extend_from_slice(b"0x");
        let needed = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
        for i in (0..needed.max(digits)).rev() {
            let nibble = if i < 16 { (n >> (4 * i)) & 0x0f } else { 0 };
            self.push(HEX[nibble as usize]);
        }
        self
    }

    fn fixed(&mut self, v: f64, decimals: u32, width: usize) -> &mut Self {
        let decimals = decimals.min(9);
        let scale = 10u64.pow(decimals);
        match scaled_exact(v, scale) {
            Some(n) => {
                let mut w = itoa::Buffer::new();
                let whole = w.format(n / scale);
                let len = whole.len()
                    + if decimals > 0 {
                        1 + decimals as usize
                    } else {
                        0
                    };
                self.resize(self.len() + width.saturating_sub(len), b' ');
                self.extend_from_slice(whole.as_bytes());
                if decimals > 0 {
                    self.push(b'.');
                    let mut f = itoa::Buffer::new();
                    let frac = f.format(n % scale);
                    self.resize(self.len() + decimals as usize - frac.len(), b'0');
                    self.extend_from_slice(frac.as_bytes());
                }
            }
            None => {
                use std::io::Write;
                // Negative, huge or not a number: let the standard library say it.
                let d = decimals as usize;
                let _ = write!(self, "{v:>width$.d$}");
            }
        }
        self
    }
}

/// Appends `bytes` to `v`, as `extend_from_slice` does. Up to 16 bytes (most cells and
/// pieces of a table) go in two fixed-size copies that may overlap, which the compiler
/// writes as a few moves, instead of a call to `memcpy` for a length it does not know.
/// Why: `memcpy` was a quarter of the one-core table format's cycles (perf) though a
/// sixth of its instructions, most of its calls a few bytes long. For the table's keys
/// and patches this takes as many instructions (527.1 against 526.9 M on 5 000 real
/// packets) and saved 2–3% of the time (two rounds of 9 alternating pinned runs); for all
/// text (`Text::s`) it was no better (11 runs: 2.13 against 2.01 s).
#[inline]
pub fn append(v: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    if !(append_halves::<8>(v, bytes) || append_halves::<4>(v, bytes)) {
        if n < 4 {
            for &b in bytes {
                v.push(b);
            }
        } else {
            v.extend_from_slice(bytes);
        }
    }
}

/// [`append`] for `N` to `2N` bytes: the first `N`, then the last `N` over the ones they
/// share; false, appending nothing, for any other length.
#[inline]
fn append_halves<const N: usize>(v: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let (at, n) = (v.len(), bytes.len());
    match (bytes.first_chunk::<N>(), bytes.last_chunk::<N>()) {
        (Some(head), Some(tail)) if n <= 2 * N => {
            v.extend_from_slice(head);
            v.truncate(at + n - N);
            v.extend_from_slice(tail);
            true
        }
        _ => false,
    }
}

/// Copies `src` over `dst`, which must be as long (otherwise nothing is copied), as
/// `copy_from_slice` does; up to 16 bytes as [`append`] does.
#[inline]
pub fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if dst.len() != n || copy_halves::<8>(dst, src) || copy_halves::<4>(dst, src) {
        return;
    }
    if n < 4 {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    } else {
        dst.copy_from_slice(src);
    }
}

/// [`copy_short`] for `N` to `2N` bytes, as [`append_halves`]; false, copying nothing,
/// for any other length.
#[inline]
fn copy_halves<const N: usize>(dst: &mut [u8], src: &[u8]) -> bool {
    if src.len() < N || src.len() > 2 * N {
        return false;
    }
    if let (Some(d), Some(s)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) {
        *d = *s;
    }
    if let (Some(d), Some(s)) = (dst.last_chunk_mut::<N>(), src.last_chunk::<N>()) {
        *d = *s;
    }
    true
}

/// `v` × `scale` (a power of ten up to 10⁹) rounded to the nearest integer, ties to
/// even — how `{:.N}` rounds the exact binary value of `v` — for 0 ≤ v < 2³²; `None`
/// otherwise.
fn scaled_exact(v: f64, scale: u64) -> Option<u64> {
    if v.is_sign_negative() || !(0.0..4_294_967_296.0).contains(&v) {
        return None;
    }
    if v == 0.0 {
        return Some(0);
    }
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    // v = mantissa × 2^shift exactly.
    let (mantissa, shift) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp - 1075)
    };
    let scaled = u128::from(mantissa) * u128::from(scale);
    if shift >= 0 {
        // v < 2^32 and mantissa ≥ 2^52 make shift ≤ 0 here except for whole numbers.
        return u64::try_from(scaled << shift).ok();
    }
    let down = shift.unsigned_abs();
    if down >= 127 {
        // scaled < 2^83, so the value is below one half: it rounds to zero.
        return Some(0);
    }
    let q = scaled >> down;
    let r = scaled - (q << down);
    let half = 1u128 << (down - 1);
    let q = if r > half || (r == half && q & 1 == 1) {
        q + 1
    } else {
        q
    };
    u64::try_from(q).ok()
}

/// Serialises an IPv4 address as its dotted-decimal string (what serde's own impl writes
/// for human-readable formats), without going through `core::fmt`.
pub fn ser_ipv4<S: serde::Serializer>(a: &std::net::Ipv4Addr, s: S) -> Result<S::Ok, S::Error> {
    let mut stack = [0u8; 15];
    let len = ipv4_into(*a, &mut stack);
    // Only ASCII digits and dots were written.
    let text = std::str::from_utf8(stack.get(..len).unwrap_or_default()).unwrap_or_default();
    s.serialize_str(text)
}

/// [`ser_ipv4`] for an optional address (`null` when absent).
pub fn ser_opt_ipv4<S: serde::Serializer>(
    a: &Option<std::net::Ipv4Addr>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => ser_ipv4(a, s),
        None => s.serialize_none(),
    }
}

/// Writes `a` in dotted decimal into `out` (15 bytes always suffice); returns the length.
fn ipv4_into(a: Ipv4Addr, out: &mut [u8; 15]) -> usize {
    let mut n = 0;
    for (i, o) in a.octets().into_iter().enumerate() {
        let mut put = |b: u8| {
            if let Some(slot) = out.get_mut(n) {
                *slot = b;
            }
            n += 1;
        };
        if i > 0 {
            put(b'.');
        }
        if o >= 100 {
            put(b'0' + o / 100);
        }
        if o >= 10 {
            put(b'0' + o / 10 % 10);
        }
        put(b'0' + o % 10);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `append` and `copy_short` do what `extend_from_slice` and `copy_from_slice` do, at
    /// every length up to 40 and onto buffers already holding bytes; `copy_short` leaves a
    /// destination of another length alone.
    #[test]
    fn short_copies_match_the_slice_methods() {
        let src: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        for len in 0..=src.len() {
            for before in [0usize, 1, 7, 13] {
                let mut got: Vec<u8> = vec![0xaa; before];
                let mut want = got.clone();
                append(&mut got, &src[..len]);
                want.extend_from_slice(&src[..len]);
                assert_eq!(got, want, "append {len} after {before}");
                let mut dst = vec![0x55; len + before];
                let mut expect = dst.clone();
                copy_short(&mut dst[before..], &src[..len]);
                expect[before..].copy_from_slice(&src[..len]);
                assert_eq!(dst, expect, "copy {len} at {before}");
            }
            let mut other = vec![0x55; len + 1];
            copy_short(&mut other, &src[..len]);
            assert!(
                other.iter().all(|&b| b == 0x55),
                "copy {len} into {}",
                len + 1
            );
        }
    }

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap_or_default()
    }

    #[test]
    fn integers_and_padding_match_format() {
        for n in [0u64, 7, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(
                text(|b| {
                    b.u(n);
                }),
                n.to_string()
            );
            assert_eq!(
                text(|b| {
                    b.u_right(n, 5);
                }),
                format!("{n:>5}")
            );
        }
        assert_eq!(
            text(|b| {
                b.i(-42);
            }),
            "-42"
        );
        assert_eq!(
            text(|b| {
                b.s_left("TCP", 5);
            }),
            "TCP  "
        );
        assert_eq!(
            text(|b| {
                b.s_left("802.1Q", 5);
            }),
            "802.1Q"
        );
        assert_eq!(
            text(|b| {
                b.hex4(0x0a0b);
            }),
            "0x0a0b"
        );
        for n in [0u64, 1, 0xf, 0x10, 0xab, 0x12345, 0xdead_beef, u64::MAX] {
            for digits in [0, 1, 2, 5, 8, 20] {
                assert_eq!(
                    text(|b| {
                        b.hex(n, digits);
                    }),
                    format!("0x{n:0digits$x}"),
                    "{n:#x} in {digits} digits"
                );
            }
        }
    }

    #[test]
    fn addresses_match_display() {
        for a in [
            [0, 0, 0, 0],
            [10, 77, 0, 1],
            [255, 255, 255, 255],
            [192, 168, 100, 9],
        ] {
            let ip = Ipv4Addr::from(a);
            assert_eq!(
                text(|b| {
                    b.ipv4(ip);
                }),
                ip.to_string()
            );
        }
        // IPv6: the zero runs RFC 5952 compresses (first longest, never a single group),
        // IPv4-mapped and -compatible addresses, and random ones with many zero groups.
        let mut x: u64 = 0x5eed_1234_abcd_0001;
        let mut v6: Vec<Ipv6Addr> = [
            "::",
            "::1",
            "1::",
            "fd77::1",
            "fe80::2%0",
            "ff02::1:ff00:2",
            "1:0:0:2:0:0:0:3",
            "1:0:0:2:0:0:3:4",
            "0:1:0:1:0:1:0:1",
            "::ffff:10.0.0.1",
            "::10.0.0.1",
            "2001:db8:0:0:1:0:0:1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ]
        .iter()
        .filter_map(|s| s.split('%').next()?.parse().ok())
        .collect();
        for _ in 0..5_000 {
            let mut g = [0u16; 8];
            for s in &mut g {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *s = match x % 4 {
                    0 | 1 => 0,
                    2 => (x >> 8) as u16 & 0x0fff,
                    _ => (x >> 16) as u16,
                };
            }
            v6.push(Ipv6Addr::from(g));
        }
        for a in v6 {
            assert_eq!(
                text(|b| {
                    b.ipv6(a);
                }),
                a.to_string()
            );
            let ip = std::net::IpAddr::V6(a);
            assert_eq!(
                text(|b| {
                    b.ip(ip, true);
                }),
                format!("[{a}]")
            );
        }
        let m = MacAddr([0x02, 0x77, 0xab, 0, 0xff, 0x10]);
        assert_eq!(
            text(|b| {
                b.mac(m);
            }),
            m.to_string()
        );
    }

    #[test]
    fn seconds_match_format_exactly() {
        let mut vals = vec![
            0.0,
            -0.0,
            0.000_000_5,
            0.000_001_5,
            0.000_002_5,
            1.5e-7,
            0.007_812_5,
            0.023_437_5,
            1.007_812_5,
            0.123_456_5,
            2.5e-6,
            f64::MIN_POSITIVE,
            1e-300,
            999.999_999_5,
            4_294_967_295.999_999,
            4_294_967_296.5,
            -1.25,
            f64::NAN,
            f64::INFINITY,
        ];
        // Differences of present-day timestamps, as the summary computes them.
        let base = 1_767_225_600.000_775f64;
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = (x % 2_000_000) as f64 / 1_000.0;
            let micros = (x >> 32) % 1_000_000;
            vals.push((1_767_225_600.0 + secs + micros as f64 * 1e-6) - base);
            vals.push(f64::from_bits(x >> 2));
        }
        for v in vals {
            assert_eq!(
                text(|b| {
                    b.secs6(v, 10);
                }),
                format!("{v:>10.6}"),
                "{v:e}"
            );
        }
    }
}
