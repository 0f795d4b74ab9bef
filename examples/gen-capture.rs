//! Writes a large, realistic Ethernet capture for benchmarks:
//!
//! ```text
//! cargo run --release --example gen-capture -- 2000000 /tmp/big.pcap [SEED]
//! ```
//!
//! The traffic is what a busy LAN segment carries, interleaved as it would be on the wire
//! (about 48 conversations in flight at any time, 1–999 µs between packets):
//!
//! * short TCP connections (HTTP-like): three-way handshake with Linux's SYN options,
//!   one to four request/response exchanges with acknowledgements, FIN teardown; a few are
//!   refused (SYN answered by RST) or aborted (RST after the data);
//! * ARP requests (broadcast) and their replies;
//! * UDP unicast queries and answers (DNS-like), and UDP broadcasts;
//! * UDP datagrams too big for the 1500-byte MTU, sent as IPv4 fragments;
//! * ICMP echo requests and replies.
//!
//! Every checksum (IPv4 header, TCP, UDP, ICMP) is correct. The output is deterministic
//! for a given packet count and seed, so benchmark runs compare like with like. Large
//! files belong under /tmp or another git-ignored place, never in the repository.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::net::Ipv4Addr;
use std::process::ExitCode;

use wirelens::capture::writer::{CaptureWriter, OutFormat};
use wirelens::capture::{LinkType, Timestamp};
use wirelens::proto::checksum::Sum;
use wirelens::proto::ethernet::{self, EtherType};
use wirelens::proto::ipv4::IpProto;
use wirelens::proto::tcp::TcpFlags;

/// Conversations in flight at once; packets of different ones interleave.
const IN_FLIGHT: usize = 48;
/// Largest IPv4 payload in one 1500-byte MTU frame that is a multiple of 8, in bytes.
const FRAGMENT_PAYLOAD: usize = 1480;
/// Largest TCP payload per segment with a 20-byte IP and a 32-byte TCP header, in bytes.
const MSS: usize = 1448;
/// Capture time of the first packet: 2026-01-01T00:00:00Z, in seconds since the epoch.
const START_SECS: i64 = 1_767_225_600;

/// xorshift64*: small, fast and deterministic; good enough to vary traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A station, as seen on the captured LAN segment.
#[derive(Clone, Copy)]
struct Host {
    mac: [u8; 6],
    ip: Ipv4Addr,
}

/// Hosts on the LAN (10.1.0.1–10.1.0.240, a /24 like a real office segment).
const LAN_HOSTS: u64 = 240;
/// Servers beyond the router, spread over three networks.
const REMOTE_SERVERS: u64 = 300;
/// The router: every packet to or from a remote server crosses the LAN with its MAC.
const GATEWAY: Host = Host {
    mac: [0x02, 0x20, 0x00, 0x00, 0x00, 0xfe],
    ip: Ipv4Addr::new(10, 1, 0, 254),
};
/// The LAN's DNS resolver.
const RESOLVER: Host = Host {
    mac: [0x02, 0x20, 0x00, 0x00, 0x00, 0x35],
    ip: Ipv4Addr::new(10, 1, 0, 53),
};

impl Host {
    /// LAN host `i`, 1 ≤ i ≤ [`LAN_HOSTS`].
    fn lan(i: u64) -> Host {
        let lo = i as u8;
        Host {
            mac: [0x02, 0x10, 0x00, 0x00, 0x00, lo],
            ip: Ipv4Addr::new(10, 1, 0, lo),
        }
    }

    /// Remote server `i`, reached through the gateway: in 192.0.2.0/24, 198.51.100.0/24
    /// or 203.0.113.0/24 (the documentation networks).
    fn remote(i: u64) -> Host {
        let lo = (i / 3 + 1) as u8;
        let ip = match i % 3 {
            0 => Ipv4Addr::new(192, 0, 2, lo),
            1 => Ipv4Addr::new(198, 51, 100, lo),
            _ => Ipv4Addr::new(203, 0, 113, lo),
        };
        Host {
            mac: GATEWAY.mac,
            ip,
        }
    }
}

/// Filler text for payloads.
const TEXT: &[u8] = b"<p>The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.</p>\n";

/// `len` bytes of payload starting at `from` in [`TEXT`], wrapping around.
fn text(from: usize, len: usize) -> Vec<u8> {
    TEXT.iter()
        .cycle()
        .skip(from % TEXT.len())
        .take(len)
        .copied()
        .collect()
}

/// An HTTP/1.1 GET request of about `len` bytes (a cookie pads it).
fn http_request(page: u64, len: usize) -> Vec<u8> {
    let mut r = format!(
        "GET /page/{page}.html HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: wirelens-gen/1.0\r\nAccept: */*\r\nCookie: session="
    )
    .into_bytes();
    let pad = len.saturating_sub(r.len() + 4).max(8);
    r.extend((0..pad).map(|i| b'a' + (i % 26) as u8));
    r.extend_from_slice(b"\r\n\r\n");
    r
}

/// An HTTP/1.1 200 response with a `body`-byte HTML body.
fn http_response(body: usize) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {body}\r\n\r\n"
    )
    .into_bytes();
    r.extend(text(0, body));
    r
}

/// Builds frames; keeps a running IPv4 identification counter.
struct Builder {
    ip_id: u16,
}

impl Builder {
    /// An Ethernet frame around `payload`, padded to the 60-byte minimum.
    fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(ethernet::HEADER_LEN + payload.len().max(46));
        f.extend_from_slice(&dst);
        f.extend_from_slice(&src);
        f.extend_from_slice(&ethertype.0.to_be_bytes());
        f.extend_from_slice(payload);
        let min = ethernet::MIN_FRAME - ethernet::FCS_LEN;
        if f.len() < min {
            f.resize(min, 0);
        }
        f
    }

    /// An IPv4 header (20 bytes, checksum filled in) for `payload_len` bytes of payload.
    fn ipv4(
        &mut self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        proto: IpProto,
        payload_len: usize,
        flags_frag: u16,
        id: Option<u16>,
    ) -> Vec<u8> {
        let id = id.unwrap_or_else(|| {
            self.ip_id = self.ip_id.wrapping_add(1);
            self.ip_id
        });
        let total = u16::try_from(20 + payload_len).unwrap_or(u16::MAX);
        let mut h = Vec::with_capacity(20);
        h.extend_from_slice(&[0x45, 0x00]);
        h.extend_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&id.to_be_bytes());
        h.extend_from_slice(&flags_frag.to_be_bytes());
        h.extend_from_slice(&[64, proto.0, 0, 0]);
        h.extend_from_slice(&src.octets());
        h.extend_from_slice(&dst.octets());
        let c = Sum::default().add_bytes(&h).checksum();
        h[10..12].copy_from_slice(&c.to_be_bytes());
        h
    }

    /// A whole IPv4 datagram (not fragmented, DF set) in an Ethernet frame.
    fn ip_frame(&mut self, from: Host, to: Host, proto: IpProto, l4: &[u8]) -> Vec<u8> {
        let mut ip = self.ipv4(from.ip, to.ip, proto, l4.len(), 0x4000, None);
        ip.extend_from_slice(l4);
        Builder::ethernet(to.mac, from.mac, EtherType::IPV4, &ip)
    }

    /// A TCP segment from `from` to `to`. A SYN carries Linux's options (MSS, SACK
    /// permitted, timestamps, window scale); every other segment carries timestamps.
    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        from: (Host, u16),
        to: (Host, u16),
        seq: u32,
        ack: u32,
        flags: u16,
        tsval: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut opts = Vec::with_capacity(20);
        if flags & TcpFlags::SYN != 0 {
            opts.extend_from_slice(&[2, 4, 0x05, 0xb4, 4, 2, 8, 10]); // MSS 1460, SACK ok, TS
            opts.extend_from_slice(&tsval.to_be_bytes());
            opts.extend_from_slice(
                &(if flags & TcpFlags::ACK != 0 {
                    tsval ^ 0x5a5a
                } else {
                    0
                })
                .to_be_bytes(),
            );
            opts.extend_from_slice(&[1, 3, 3, 7]); // NOP, window scale 7
        } else if flags & TcpFlags::RST == 0 {
            opts.extend_from_slice(&[1, 1, 8, 10]); // NOP, NOP, TS
            opts.extend_from_slice(&tsval.to_be_bytes());
            opts.extend_from_slice(&(tsval ^ 0x5a5a).to_be_bytes());
        }
        let hlen = 20 + opts.len();
        let mut s = Vec::with_capacity(hlen + payload.len());
        s.extend_from_slice(&from.1.to_be_bytes());
        s.extend_from_slice(&to.1.to_be_bytes());
        s.extend_from_slice(&seq.to_be_bytes());
        s.extend_from_slice(&ack.to_be_bytes());
        let off_flags = ((hlen as u16 / 4) << 12) | flags;
        s.extend_from_slice(&off_flags.to_be_bytes());
        let window: u16 = if flags & TcpFlags::SYN != 0 {
            64_240
        } else {
            502
        };
        s.extend_from_slice(&window.to_be_bytes());
        s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
        s.extend_from_slice(&opts);
        s.extend_from_slice(payload);
        let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
        let c = Sum::default()
            .add_pseudo_header(from.0.ip, to.0.ip, IpProto::TCP.0, len)
            .add_bytes(&s)
            .checksum();
        s[16..18].copy_from_slice(&c.to_be_bytes());
        self.ip_frame(from.0, to.0, IpProto::TCP, &s)
    }

    /// A UDP header and payload with its checksum.
    fn udp_bytes(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
        let mut u = Vec::with_capacity(usize::from(len));
        u.extend_from_slice(&src.1.to_be_bytes());
        u.extend_from_slice(&dst.1.to_be_bytes());
        u.extend_from_slice(&len.to_be_bytes());
        u.extend_from_slice(&[0, 0]);
        u.extend_from_slice(payload);
        let c = Sum::default()
            .add_pseudo_header(src.0, dst.0, IpProto::UDP.0, len)
            .add_bytes(&u)
            .checksum();
        // 0 means "no checksum" in UDP; a computed 0 is sent as 0xffff.
        let c = if c == 0 { 0xffff } else { c };
        u[6..8].copy_from_slice(&c.to_be_bytes());
        u
    }

    /// A UDP datagram in one frame.
    fn udp(&mut self, from: (Host, u16), to: (Host, u16), payload: &[u8]) -> Vec<u8> {
        let u = Builder::udp_bytes((from.0.ip, from.1), (to.0.ip, to.1), payload);
        self.ip_frame(from.0, to.0, IpProto::UDP, &u)
    }

    /// A UDP datagram too big for one frame, cut into IPv4 fragments.
    fn udp_fragments(
        &mut self,
        from: (Host, u16),
        to: (Host, u16),
        payload: &[u8],
    ) -> Vec<Vec<u8>> {
        let u = Builder::udp_bytes((from.0.ip, from.1), (to.0.ip, to.1), payload);
        self.ip_id = self.ip_id.wrapping_add(1);
        let id = self.ip_id;
        let mut frames = Vec::new();
        for (i, piece) in u.chunks(FRAGMENT_PAYLOAD).enumerate() {
            let offset_units = (i * FRAGMENT_PAYLOAD / 8) as u16;
            let more = (i + 1) * FRAGMENT_PAYLOAD < u.len();
            let flags_frag = offset_units | if more { 0x2000 } else { 0 };
            let mut ip = self.ipv4(
                from.0.ip,
                to.0.ip,
                IpProto::UDP,
                piece.len(),
                flags_frag,
                Some(id),
            );
            ip.extend_from_slice(piece);
            frames.push(Builder::ethernet(
                to.0.mac,
                from.0.mac,
                EtherType::IPV4,
                &ip,
            ));
        }
        frames
    }

    /// An ARP request (`reply` false, broadcast) or reply (unicast).
    fn arp(asker: Host, owner: Host, reply: bool) -> Vec<u8> {
        let mut a = Vec::with_capacity(28);
        a.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, if reply { 2 } else { 1 }]);
        if reply {
            a.extend_from_slice(&owner.mac);
            a.extend_from_slice(&owner.ip.octets());
            a.extend_from_slice(&asker.mac);
            a.extend_from_slice(&asker.ip.octets());
            Builder::ethernet(asker.mac, owner.mac, EtherType::ARP, &a)
        } else {
            a.extend_from_slice(&asker.mac);
            a.extend_from_slice(&asker.ip.octets());
            a.extend_from_slice(&[0; 6]);
            a.extend_from_slice(&owner.ip.octets());
            Builder::ethernet([0xff; 6], asker.mac, EtherType::ARP, &a)
        }
    }

    /// An ICMP echo request (type 8) or reply (type 0) with 56 bytes of data, like ping.
    fn ping(&mut self, from: Host, to: Host, reply: bool, ident: u16, seq: u16) -> Vec<u8> {
        let mut m = Vec::with_capacity(64);
        m.extend_from_slice(&[if reply { 0 } else { 8 }, 0, 0, 0]);
        m.extend_from_slice(&ident.to_be_bytes());
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend((0..56u8).map(|b| b.wrapping_add(0x10)));
        let c = Sum::default().add_bytes(&m).checksum();
        m[2..4].copy_from_slice(&c.to_be_bytes());
        self.ip_frame(from, to, IpProto::ICMP, &m)
    }
}

/// A DNS query for the A record of `hostN.example.test` and its answer (`addr`).
fn dns(id: u16, n: u64, addr: Ipv4Addr) -> (Vec<u8>, Vec<u8>) {
    let mut question = Vec::with_capacity(40);
    for label in [format!("host{n}").as_str(), "example", "test"] {
        question.push(label.len() as u8);
        question.extend_from_slice(label.as_bytes());
    }
    question.extend_from_slice(&[0, 0, 1, 0, 1]); // root, type A, class IN
    let mut q = Vec::with_capacity(12 + question.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; 1 question
    q.extend_from_slice(&question);
    let mut a = Vec::with_capacity(q.len() + 16);
    a.extend_from_slice(&id.to_be_bytes());
    a.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]); // QR RD RA; 1 question, 1 answer
    a.extend_from_slice(&question);
    // Name pointer to offset 12, type A, class IN, TTL 300 s, 4 bytes of address.
    a.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4]);
    a.extend_from_slice(&addr.octets());
    (q, a)
}

/// Makes the packets of one short TCP connection, in wire order.
fn tcp_connection(b: &mut Builder, rng: &mut Rng, client: Host, server: Host) -> Vec<Vec<u8>> {
    // Web ports, so the HTTP-like payloads make sense to a dissector that looks inside.
    const PORTS: [u16; 4] = [80, 8080, 8000, 3128];
    let c = (client, rng.range(32_768, 60_999) as u16);
    let s = (server, PORTS[(rng.next() % PORTS.len() as u64) as usize]);
    let (mut cseq, mut sseq) = (rng.next() as u32, rng.next() as u32);
    let mut ts = rng.next() as u32;
    let mut v = Vec::with_capacity(16);
    let (syn, ack, fin, rst, psh) = (
        TcpFlags::SYN,
        TcpFlags::ACK,
        TcpFlags::FIN,
        TcpFlags::RST,
        TcpFlags::PSH,
    );
    v.push(b.tcp(c, s, cseq, 0, syn, ts, &[]));
    cseq = cseq.wrapping_add(1);
    if rng.chance(3) {
        // Nothing listens: the server refuses with RST+ACK.
        v.push(b.tcp(s, c, 0, cseq, rst | ack, 0, &[]));
        return v;
    }
    v.push(b.tcp(s, c, sseq, cseq, syn | ack, ts, &[]));
    sseq = sseq.wrapping_add(1);
    ts = ts.wrapping_add(1);
    v.push(b.tcp(c, s, cseq, sseq, ack, ts, &[]));
    for _ in 0..rng.range(1, 4) {
        let req = http_request(rng.range(1, 999), rng.range(100, 400) as usize);
        v.push(b.tcp(c, s, cseq, sseq, psh | ack, ts, &req));
        cseq = cseq.wrapping_add(req.len() as u32);
        let resp = http_response(rng.range(0, 1_700) as usize);
        let mut pieces = resp.chunks(MSS).peekable();
        while let Some(piece) = pieces.next() {
            let flags = if pieces.peek().is_none() {
                psh | ack
            } else {
                ack
            };
            v.push(b.tcp(s, c, sseq, cseq, flags, ts, piece));
            sseq = sseq.wrapping_add(piece.len() as u32);
        }
        ts = ts.wrapping_add(1);
        v.push(b.tcp(c, s, cseq, sseq, ack, ts, &[]));
    }
    if rng.chance(2) {
        v.push(b.tcp(c, s, cseq, sseq, rst | ack, ts, &[]));
        return v;
    }
    v.push(b.tcp(c, s, cseq, sseq, fin | ack, ts, &[]));
    cseq = cseq.wrapping_add(1);
    v.push(b.tcp(s, c, sseq, cseq, fin | ack, ts, &[]));
    sseq = sseq.wrapping_add(1);
    v.push(b.tcp(c, s, cseq, sseq, ack, ts.wrapping_add(1), &[]));
    v
}

/// Makes one conversation of a randomly chosen kind.
fn conversation(b: &mut Builder, rng: &mut Rng) -> Vec<Vec<u8>> {
    let client = Host::lan(rng.range(1, LAN_HOSTS));
    let server = Host::remote(rng.range(0, REMOTE_SERVERS - 1));
    let peer = if rng.chance(50) {
        GATEWAY
    } else {
        Host::lan(rng.range(1, LAN_HOSTS))
    };
    match rng.next() % 100 {
        0..=77 => tcp_connection(b, rng, client, server),
        78..=83 => vec![
            Builder::arp(client, peer, false),
            Builder::arp(client, peer, true),
        ],
        84..=91 => {
            let port = rng.range(32_768, 60_999) as u16;
            let (q, a) = dns(rng.next() as u16, rng.range(1, 9_999), server.ip);
            vec![
                b.udp((client, port), (RESOLVER, 53), &q),
                b.udp((RESOLVER, 53), (client, port), &a),
            ]
        }
        92..=94 => {
            let everyone = Host {
                mac: [0xff; 6],
                ip: if rng.chance(50) {
                    Ipv4Addr::BROADCAST
                } else {
                    Ipv4Addr::new(10, 1, 0, 255)
                },
            };
            let payload = text(rng.next() as usize, rng.range(40, 300) as usize);
            vec![b.udp((client, 9), (everyone, 9), &payload)]
        }
        95..=96 => {
            let port = rng.range(32_768, 60_999) as u16;
            let payload = text(rng.next() as usize, rng.range(1_600, 4_400) as usize);
            b.udp_fragments((client, port), (peer, 9_000), &payload)
        }
        _ => {
            let (ident, seq) = (rng.next() as u16, rng.range(1, 100) as u16);
            vec![
                b.ping(client, server, false, ident, seq),
                b.ping(server, client, true, ident, seq),
            ]
        }
    }
}

fn run(count: u64, path: &str, seed: u64) -> std::io::Result<()> {
    let file = File::create(path)?;
    let mut w = CaptureWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        OutFormat::Pcap,
        LinkType::ETHERNET,
    )?;
    let mut rng = Rng(seed.max(1));
    let mut b = Builder { ip_id: 0 };
    let mut flight: Vec<VecDeque<Vec<u8>>> = Vec::with_capacity(IN_FLIGHT);
    let mut micros: u64 = 0;
    let mut written = 0;
    while written < count {
        if flight.len() < IN_FLIGHT {
            flight.push(conversation(&mut b, &mut rng).into());
            continue;
        }
        let i = (rng.next() % IN_FLIGHT as u64) as usize;
        let Some(frame) = flight[i].pop_front() else {
            flight.swap_remove(i);
            continue;
        };
        micros += rng.range(1, 999);
        let ts = Timestamp {
            secs: START_SECS + (micros / 1_000_000) as i64,
            nanos: (micros % 1_000_000) as u32 * 1_000,
        };
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        w.write(ts, &frame, len, None)?;
        written += 1;
    }
    w.flush()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(count), Some(path)) = (args.get(1).and_then(|c| c.parse().ok()), args.get(2)) else {
        eprintln!(
            "usage: gen-capture PACKETS FILE [SEED]   e.g. gen-capture 2000000 /tmp/big.pcap"
        );
        return ExitCode::from(2);
    };
    let seed = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1e55);
    match run(count, path, seed) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-capture: could not write {path}: {e}");
            ExitCode::from(1)
        }
    }
}
