//! The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
//! 16-bit words. IPv4 uses it over its header; TCP and UDP over a pseudo-header (source,
//! destination, protocol, length), their own header and their payload.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The addresses of the IP header a transport checksum covers: TCP, UDP and ICMPv6 sum
/// them first (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1), so a transport parser takes one of
/// these instead of an IPv4 or IPv6 address and works over either version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PseudoHeader {
    /// IPv4: 12 bytes (source, destination, zero, protocol, 16-bit length).
    V4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
    },
    /// IPv6: 40 bytes (source, destination, 32-bit length, three zero bytes, next
    /// header). The destination is the final one when a routing header is present.
    V6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
    },
}

impl PseudoHeader {
    /// The source address, as a generic IP address.
    pub fn src(&self) -> std::net::IpAddr {
        match *self {
            PseudoHeader::V4 { src, .. } => src.into(),
            PseudoHeader::V6 { src, .. } => src.into(),
        }
    }

    /// The destination address, as a generic IP address.
    pub fn dst(&self) -> std::net::IpAddr {
        match *self {
            PseudoHeader::V4 { dst, .. } => dst.into(),
            PseudoHeader::V6 { dst, .. } => dst.into(),
        }
    }
}

/// A running ones' complement sum, kept partly folded in 64 bits so adding never
/// overflows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sum(u64);

impl Sum {
    /// Adds bytes as big-endian 16-bit words; an odd last byte is padded with a zero.
    /// `add_bytes` must only be given an odd-length slice as its last piece.
    ///
    /// The words are summed as they sit in memory (little-endian, eight bytes per load,
    /// as two 32-bit halves) and the folded 16-bit result is byte-swapped once at the end.
    /// Both steps keep the ones' complement sum: 2^16 ≡ 1 modulo 0xffff, so wider words
    /// sum like 16-bit ones, and swapping the bytes of every word swaps the bytes of the
    /// sum (RFC 1071, section 2). Why: perf showed the big-endian conversion of each
    /// 8-byte word (byte shuffles, as SSE2 has no byte-swap) as most of the checksum's
    /// time, and the checksum as a fifth of the dissector's.
    pub fn add_bytes(mut self, bytes: &[u8]) -> Sum {
        // Four independent sums over 32-byte blocks, so the additions can overlap.
        let mut lanes = [0u64; 4];
        let mut blocks = bytes.chunks_exact(32);
        for block in &mut blocks {
            for (lane, c) in lanes.iter_mut().zip(block.chunks_exact(8)) {
                if let Ok(w) = <[u8; 8]>::try_from(c) {
                    let w = u64::from_le_bytes(w);
                    *lane += (w >> 32) + (w & 0xffff_ffff);
                }
            }
        }
        let mut acc: u64 = lanes.iter().map(|l| (l & 0xffff_ffff) + (l >> 32)).sum();
        let mut chunks = blocks.remainder().chunks_exact(8);
        for c in &mut chunks {
            if let Ok(w) = <[u8; 8]>::try_from(c) {
                let w = u64::from_le_bytes(w);
                acc += (w >> 32) + (w & 0xffff_ffff);
            }
        }
        let mut rest = chunks.remainder().chunks_exact(2);
        for c in &mut rest {
            if let &[a, b] = c {
                acc += u64::from(u16::from_le_bytes([a, b]));
            }
        }
        if let &[last] = rest.remainder() {
            // Padded with a zero after it: the low byte of a little-endian word.
            acc += u64::from(last);
        }
        // Each 8-byte step adds less than 2^33, so `acc` stays far from overflowing for
        // any slice in memory. Fold it to 16 bits (a non-zero sum stays non-zero, as in
        // the 16-bit loop), then swap back to big-endian order.
        let swapped = u64::from(Sum(acc).fold().swap_bytes());
        let s = self.0 + swapped;
        self.0 = (s & 0xffff_ffff) + (s >> 32);
        self
    }

    /// Adds one 16-bit word.
    pub fn add_u16(mut self, word: u16) -> Sum {
        self.0 += u64::from(word);
        self
    }

    /// Adds the IPv4 pseudo-header used by TCP and UDP: addresses, protocol and the
    /// transport length in bytes.
    pub fn add_pseudo_header(self, src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: u16) -> Sum {
        self.add_bytes(&src.octets())
            .add_bytes(&dst.octets())
            .add_u16(u16::from(proto))
            .add_u16(len)
    }

    /// Adds the pseudo-header of either IP version for upper-layer protocol `proto`
    /// carrying `len` bytes (header and payload). Both versions sum to the same words
    /// apart from the addresses: IPv6's 32-bit length and zero-padded next header add
    /// the same as IPv4's 16-bit ones.
    pub fn add_pseudo(self, ph: &PseudoHeader, proto: u8, len: u32) -> Sum {
        let s = match ph {
            PseudoHeader::V4 { src, dst } => self.add_bytes(&src.octets()).add_bytes(&dst.octets()),
            PseudoHeader::V6 { src, dst } => self.add_bytes(&src.octets()).add_bytes(&dst.octets()),
        };
        s.add_u16(u16::from(proto))
            .add_u16((len >> 16) as u16)
            .add_u16(len as u16)
    }

    /// Folds the carries back in and returns the 16-bit ones' complement sum.
    pub fn fold(self) -> u16 {
        let mut s = self.0;
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    /// The checksum to write into a header whose checksum field was zero when summed.
    pub fn checksum(self) -> u16 {
        !self.fold()
    }

    /// True when the data summed (checksum field included) verifies: the sum folds to
    /// 0xffff.
    pub fn verifies(self) -> bool {
        self.fold() == 0xffff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // The example words from RFC 1071 section 3: sum 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(Sum::default().add_bytes(&data).fold(), 0xddf2);
    }

    #[test]
    fn ipv4_header_verifies() {
        // A real IPv4 header (ICMP echo, 10.77.0.1 → 10.77.0.2) with its checksum 0x260d.
        let hdr = [
            0x45, 0x00, 0x00, 0x54, // version/IHL, DSCP/ECN, total length 84
            0x00, 0x00, 0x40, 0x00, // ID 0, DF
            0x40, 0x01, 0x26, 0x0d, // TTL 64, ICMP, checksum
            0x0a, 0x4d, 0x00, 0x01, // 10.77.0.1
            0x0a, 0x4d, 0x00, 0x02, // 10.77.0.2
        ];
        assert!(Sum::default().add_bytes(&hdr).verifies());
        let mut zeroed = hdr;
        zeroed[10] = 0;
        zeroed[11] = 0;
        assert_eq!(Sum::default().add_bytes(&zeroed).checksum(), 0x260d);
    }

    /// The plain RFC 1071 loop, 16 bits at a time, as the reference.
    fn reference(pieces: &[&[u8]]) -> u16 {
        let mut s: u64 = 0;
        for p in pieces {
            for c in p.chunks(2) {
                s += u64::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
            }
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn wide_words_sum_like_16_bit_words() {
        let mut x: u32 = 1;
        let data: Vec<u8> = (0..3000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for len in 0..300 {
            for start in [0, 1, 7, 13] {
                let d = &data[start..start + len];
                assert_eq!(
                    Sum::default().add_bytes(d).fold(),
                    reference(&[d]),
                    "{start}+{len}"
                );
                let (a, b) = d.split_at((len / 2) & !1);
                assert_eq!(
                    Sum::default().add_bytes(a).add_bytes(b).fold(),
                    reference(&[a, b])
                );
            }
        }
        let ones = [0xffu8; 3000];
        assert_eq!(Sum::default().add_bytes(&ones).fold(), reference(&[&ones]));
        assert_eq!(Sum::default().add_bytes(&[0; 64]).fold(), 0);
    }

    #[test]
    fn odd_length_is_padded() {
        assert_eq!(Sum::default().add_bytes(&[0xab]).fold(), 0xab00);
    }
}
