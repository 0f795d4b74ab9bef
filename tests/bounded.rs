//! Bounded state: a capture built to fill every table wirelens keeps — 1,000,000 distinct
//! TCP connections, 100,000 IPv4 fragment trains that never complete (each reaching the
//! far end of the 64 KiB datagram), 100,000 ARP bindings — is read by the real binary, and
//! its peak resident memory must stay under [`PEAK_RSS_BOUND_KIB`], the bound README.md
//! documents. The peak is the kernel's own count for the child (`ru_maxrss` from
//! `wait4`), not a timing and not an estimate.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use wirelens::analysis::reassembly::{Fragment, MAX_FRAGMENTS, Reassembler, ReassemblyConfig};
use wirelens::capture::Timestamp;
use wirelens::proto::ipv4::Ipv4;

/// The documented bound on the peak resident memory of `wirelens read`, whatever the
/// capture, in KiB (README.md, "Limits on memory"): 160 MiB. The tables at their caps
/// take about 140 MiB at the worst moment (a table being rebuilt while all the others are
/// full); this capture, which fills all of them, peaks at about 118 MiB.
const PEAK_RSS_BOUND_KIB: i64 = 160 * 1024;

/// Distinct TCP connections in the capture.
const TCP_FLOWS: u32 = 1_000_000;
/// Fragment trains that never complete.
const TRAINS: u32 = 100_000;
/// Distinct IP addresses announced by ARP.
const ARP_HOSTS: u32 = 100_000;

/// Where the second fragment of each train starts, in bytes: near the 65,515-byte end of
/// the largest datagram, so that each train would hold 64 KiB if nothing bounded it.
const FAR_OFFSET: u16 = 65_480;

// ---------------------------------------------------------------------------------------
// Building the capture.

/// The Internet checksum (RFC 1071) of `bytes`.
fn checksum(chunks: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in chunks {
        let mut words = chunk.chunks_exact(2);
        for w in &mut words {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = words.remainder() {
            sum += u32::from(*last) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

const MAC_A: [u8; 6] = [0x02, 0x77, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [0x02, 0x77, 0, 0, 0, 2];

fn ethernet(ethertype: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(64);
    f.extend(MAC_B);
    f.extend(MAC_A);
    f.extend(ethertype.to_be_bytes());
    f
}

/// An IPv4 header (no options) with its checksum.
fn ipv4(
    proto: u8,
    payload_len: usize,
    id: u16,
    frag: u16,
    src: Ipv4Addr,
    dst: Ipv4Addr,
) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend(((20 + payload_len) as u16).to_be_bytes());
    h.extend(id.to_be_bytes());
    h.extend(frag.to_be_bytes());
    h.extend([64, proto, 0, 0]);
    h.extend(src.octets());
    h.extend(dst.octets());
    let c = checksum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

/// A SYN opening connection `i`: its own source address and port.
fn tcp_syn(i: u32) -> Vec<u8> {
    let src = Ipv4Addr::from(0x0a00_0000 + i);
    let dst = Ipv4Addr::new(10, 255, 255, 254);
    let mut tcp = Vec::with_capacity(20);
    tcp.extend((1024 + (i % 60_000) as u16).to_be_bytes());
    tcp.extend(80u16.to_be_bytes());
    tcp.extend(i.to_be_bytes()); // sequence number
    tcp.extend(0u32.to_be_bytes()); // acknowledgement number
    tcp.extend([0x50, 0x02]); // data offset 5 words; SYN
    tcp.extend(64_240u16.to_be_bytes());
    tcp.extend([0, 0, 0, 0]); // checksum, urgent pointer
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend(src.octets());
    pseudo.extend(dst.octets());
    pseudo.extend([0, 6, 0, 20]);
    let c = checksum(&[&pseudo, &tcp]);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut f = ethernet(0x0800);
    f.extend(ipv4(6, tcp.len(), 1, 0x4000, src, dst));
    f.extend(tcp);
    f
}

/// Fragment `which` (0: bytes 0–7; 1: bytes FAR_OFFSET…+7) of train `k`; both say more
/// fragments follow, so the train never completes.
fn fragment(k: u32, which: u8) -> Vec<u8> {
    let src = Ipv4Addr::from(0xac10_0000 + k);
    let dst = Ipv4Addr::new(172, 31, 255, 254);
    let offset_units = if which == 0 { 0 } else { FAR_OFFSET / 8 };
    let mut f = ethernet(0x0800);
    f.extend(ipv4(17, 8, k as u16, 0x2000 | offset_units, src, dst));
    f.extend([0xab; 8]);
    f
}

/// A gratuitous ARP announcement by host `k`: its own IP and MAC.
fn arp_announcement(k: u32) -> Vec<u8> {
    let ip = Ipv4Addr::from(0xc0a8_0000 + k).octets();
    let mac = [0x02, 0x78, 0, (k >> 16) as u8, (k >> 8) as u8, k as u8];
    let mut f = ethernet(0x0806);
    f.extend([0, 1, 8, 0, 6, 4, 0, 2]); // Ethernet/IPv4, reply
    f.extend(mac);
    f.extend(ip);
    f.extend([0xff; 6]);
    f.extend(ip);
    f
}

/// Writes the capture: one SYN per connection, and between them the fragments and the
/// ARP announcements, one packet per microsecond of capture time (so no timeout retires
/// anything: only the caps bound the tables). Returns the number of packets.
fn write_capture(path: &Path) -> u64 {
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut header = Vec::new();
    header.extend(0xa1b2_c3d4u32.to_le_bytes());
    header.extend(2u16.to_le_bytes());
    header.extend(4u16.to_le_bytes());
    header.extend([0; 8]);
    header.extend(262_144u32.to_le_bytes());
    header.extend(1u32.to_le_bytes());
    out.write_all(&header).unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0u64;
    let mut put = |frame: Vec<u8>, out: &mut BufWriter<std::fs::File>| {
        let secs = 1_700_000_000 + (n / 1_000_000) as u32;
        let micros = (n % 1_000_000) as u32;
        let len = (frame.len() as u32).to_le_bytes();
        let record = [
            &secs.to_le_bytes()[..],
            &micros.to_le_bytes(),
            &len,
            &len,
            &frame,
        ];
        for part in record {
            out.write_all(part).unwrap_or_else(|e| panic!("{e}"));
        }
        n += 1;
    };
    let per_train = TCP_FLOWS / TRAINS;
    for i in 0..TCP_FLOWS {
        put(tcp_syn(i), &mut out);
        let (k, step) = (i / per_train, i % per_train);
        match step {
            0 => put(fragment(k, 0), &mut out),
            3 if k < ARP_HOSTS => put(arp_announcement(k), &mut out),
            5 => put(fragment(k, 1), &mut out),
            _ => {}
        }
    }
    out.flush().unwrap_or_else(|e| panic!("{e}"));
    n
}

// ---------------------------------------------------------------------------------------
// Running the binary and measuring it.

/// Runs `wirelens read PATH` (summary; reassembly, TCP, UDP and ARP tracking all on),
/// reads its output as it comes, and returns the exit code, the peak resident memory of
/// the process in KiB, the number of packet lines and the notes that say a table was full.
#[allow(
    clippy::zombie_processes,
    reason = "the child is reaped with wait4, which also gives its resource usage"
)]
fn run_and_measure(path: &Path) -> (i32, i64, u64, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .arg("read")
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("could not run wirelens: {e}"));
    let mut lines = 0u64;
    let mut full = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut r = BufReader::with_capacity(1 << 20, stdout);
        let mut line = Vec::new();
        while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            // A packet's summary line starts with its number, right-aligned in 5 columns.
            if line
                .trim_ascii_start()
                .first()
                .is_some_and(u8::is_ascii_digit)
            {
                lines += 1;
            }
            let text = String::from_utf8_lossy(&line);
            for marker in ["The table of ", "Too many datagrams are being reassembled"] {
                if let Some(at) = text.find(marker) {
                    // The note runs to the end of its sentence.
                    let sentence = &text[at..];
                    let end = sentence.find(". ").or_else(|| sentence.find(".]"));
                    full.push(sentence[..end.map_or(sentence.len(), |e| e + 1)].to_string());
                }
            }
            line.clear();
        }
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap_or_else(|e| panic!("{e}"));
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped (std's `Child` is never waited on
    // after this); `status` and `usage` are valid, writable and live for the call.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(
        reaped,
        pid,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    assert!(
        libc::WIFEXITED(status),
        "wirelens was killed: status {status:#x}"
    );
    // ru_maxrss is in KiB on Linux.
    (libc::WEXITSTATUS(status), usage.ru_maxrss, lines, full)
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wirelens-bounded-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    d
}

#[test]
fn a_million_connections_and_endless_fragment_trains_stay_under_the_memory_bound() {
    let dir = tempdir("flood");
    let path = dir.join("flood.pcap");
    let packets = write_capture(&path);
    let expected = u64::from(TCP_FLOWS + 2 * TRAINS + ARP_HOSTS);
    assert_eq!(packets, expected);
    let (code, peak_kib, lines, mut full) = run_and_measure(&path);
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "wirelens read: {packets} packets, peak RSS {peak_kib} KiB ({:.1} MiB); bound {} MiB",
        peak_kib as f64 / 1024.0,
        PEAK_RSS_BOUND_KIB / 1024
    );
    assert_eq!(code, 0);
    assert_eq!(lines, packets, "one summary line per packet");
    // The caps were reached, and each said so once. With reassembly on, a fragment's UDP
    // header counts only once its datagram completes (as in tshark with defragmentation),
    // so trains that never complete fill the reassembler, not the UDP table; the UDP table
    // shares its bounded FlowTable with TCP.
    full.sort();
    assert_eq!(full.len(), 2, "{full:#?}");
    assert_eq!(
        full[0],
        "The table of TCP connections is full (65536 at once): the least recently active were retired early, so later packets of theirs are counted as new conversations."
    );
    assert!(
        full[1].starts_with("Too many datagrams are being reassembled at once ("),
        "{}",
        full[1]
    );
    assert!(
        peak_kib < PEAK_RSS_BOUND_KIB,
        "peak RSS {peak_kib} KiB is over the documented bound of {PEAK_RSS_BOUND_KIB} KiB"
    );
}

// ---------------------------------------------------------------------------------------
// The reassembler's byte cap, directly.

fn fragment_header(k: u32, offset: u16, len: u16, mf: bool) -> Ipv4 {
    let bytes = fragment(k, 0);
    let mut ip = Ipv4::parse(&bytes[14..], 14).unwrap_or_else(|| panic!("fragment parses"));
    ip.frag_offset = offset;
    ip.total_len = 20 + len;
    ip.mf = mf;
    ip
}

/// A train admitted with a small first fragment must not grow past the byte cap when
/// later fragments reach far into the datagram.
#[test]
fn far_fragments_of_admitted_trains_stay_within_the_byte_cap() {
    let cfg = ReassemblyConfig::default();
    let mut r = Reassembler::new(cfg);
    let ts = Timestamp {
        secs: 1_700_000_000,
        nanos: 0,
    };
    for k in 0..2 * cfg.max_datagrams as u32 {
        let near = fragment_header(k, 0, 8, true);
        r.offer(u64::from(2 * k + 1), ts, &Fragment::v4(&near), &[0xab; 8]);
        let far = fragment_header(k, FAR_OFFSET, 8, true);
        r.offer(u64::from(2 * k + 2), ts, &Fragment::v4(&far), &[0xab; 8]);
        assert!(
            r.buffered_bytes() <= cfg.max_bytes,
            "train {k}: {} bytes buffered, over the cap of {}",
            r.buffered_bytes(),
            cfg.max_bytes
        );
        assert!(r.in_flight() <= cfg.max_datagrams);
    }
}

/// Duplicates of one fragment are kept only up to [`MAX_FRAGMENTS`]; before that cap each
/// one added to the datagram's list, so a flood of them grew memory (and the time spent
/// per fragment) without bound.
#[test]
fn duplicate_fragments_are_kept_at_most_max_fragments_times() {
    let mut r = Reassembler::default();
    let ts = Timestamp {
        secs: 1_700_000_000,
        nanos: 0,
    };
    let ip = fragment_header(7, 0, 8, true);
    for n in 0..MAX_FRAGMENTS + 50 {
        let out = r.offer(n as u64 + 1, ts, &Fragment::v4(&ip), &[0xab; 8]);
        let refused = out
            .notes
            .iter()
            .any(|note| note.contains(&format!("already has {MAX_FRAGMENTS} fragments")));
        assert_eq!(
            refused,
            n >= MAX_FRAGMENTS,
            "fragment {}: {:?}",
            n + 1,
            out.notes
        );
    }
    assert_eq!(r.in_flight(), 1);
}

/// The list of fragments counts against the byte cap too: before, a flood of tiny
/// duplicates in each of the 1,024 datagrams grew the lists (32 bytes a fragment, up to
/// 268 MB) while the payload bytes stayed under the cap.
#[test]
fn the_fragment_lists_count_against_the_byte_cap() {
    let cfg = ReassemblyConfig {
        max_datagrams: 4,
        max_bytes: 4096,
        ..ReassemblyConfig::default()
    };
    let mut r = Reassembler::new(cfg);
    let ts = Timestamp {
        secs: 1_700_000_000,
        nanos: 0,
    };
    let ip = fragment_header(9, 0, 8, true);
    let (mut most_kept, mut refused) = (0usize, 0usize);
    for n in 0..1000u64 {
        let out = r.offer(n + 1, ts, &Fragment::v4(&ip), &[0xab; 8]);
        for note in &out.notes {
            // "Reassembly: N fragments of datagram ID 0x0009 so far; …"
            if let Some(kept) = note
                .strip_prefix("Reassembly: ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|k| k.parse::<usize>().ok())
            {
                most_kept = most_kept.max(kept);
            }
            refused += usize::from(note.contains("past its limit of 4096 buffered bytes"));
        }
        assert!(
            r.buffered_bytes() <= cfg.max_bytes,
            "{}",
            r.buffered_bytes()
        );
    }
    // Each fragment's bookkeeping takes well over 16 bytes.
    assert!(
        most_kept > 0 && most_kept <= cfg.max_bytes / 16,
        "{most_kept} kept"
    );
    assert_eq!(refused as u64 + most_kept as u64, 1000);
}
