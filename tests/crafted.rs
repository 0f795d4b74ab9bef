//! Behaviour on packets the tests craft themselves: fragment trains out of order,
//! overlapping, duplicated or never completed, and an ARP address conflict. Each test
//! writes a small pcap, runs the real binary on it and checks the JSON it prints.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use wirelens::proto::checksum::Sum;

const A: [u8; 4] = [10, 77, 0, 1];
const B: [u8; 4] = [10, 77, 0, 2];

/// A classic pcap (µs, little-endian, Ethernet) holding `frames`, one second apart.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65_535u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for (i, fr) in frames.iter().enumerate() {
        f.extend_from_slice(&(1_000 + i as u32).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(fr);
    }
    f
}

fn ethernet(ethertype: u16, src_last: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0x77, 0, 0, 0, 0x02, 0x02, 0x77, 0, 0, 0, src_last];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// One IPv4 fragment (protocol UDP) carrying `data` at byte `offset` of the datagram.
fn fragment(id: u16, offset: usize, mf: bool, data: &[u8]) -> Vec<u8> {
    let total = 20 + data.len();
    let flags_frag = (offset / 8) as u16 | if mf { 0x2000 } else { 0 };
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(total as u16).to_be_bytes());
    ip.extend_from_slice(&id.to_be_bytes());
    ip.extend_from_slice(&flags_frag.to_be_bytes());
    ip.extend_from_slice(&[64, 17, 0, 0]);
    ip.extend_from_slice(&A);
    ip.extend_from_slice(&B);
    let c = Sum::default().add_bytes(&ip).checksum();
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(data);
    ethernet(0x0800, 1, &ip)
}

/// A UDP datagram (header + `n` payload bytes) with a correct checksum.
fn udp_datagram(n: usize) -> Vec<u8> {
    let len = (8 + n) as u16;
    let mut u = vec![0x9c, 0x41, 0x27, 0x11];
    u.extend_from_slice(&len.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend((0..n).map(|i| (i % 251) as u8));
    let c = Sum::default()
        .add_pseudo_header(A.into(), B.into(), 17, len)
        .add_bytes(&u)
        .checksum();
    u[6..8].copy_from_slice(&c.to_be_bytes());
    u
}

fn arp(op: u16, src_last: u8, spa: [u8; 4], tpa: [u8; 4]) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4];
    a.extend_from_slice(&op.to_be_bytes());
    a.extend_from_slice(&[0x02, 0x77, 0, 0, 0, src_last]);
    a.extend_from_slice(&spa);
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&tpa);
    ethernet(0x0806, src_last, &a)
}

/// Writes `frames` to a pcap, runs `wirelens read … --format json` with `args`, and
/// returns the packets (and stderr).
fn run(name: &str, frames: &[Vec<u8>], args: &[&str]) -> (Vec<Value>, String) {
    let dir = std::env::temp_dir().join(format!("wirelens-crafted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, pcap(frames)).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .arg("read")
        .arg(&path)
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let packets = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (packets, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn notes(p: &Value) -> String {
    p["notes"].as_array().map_or(String::new(), |n| {
        n.iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | ")
    })
}

#[test]
fn out_of_order_fragments_are_reassembled_in_offset_order() {
    let d = udp_datagram(3000);
    let frames = [
        fragment(1, 2960, false, &d[2960..]),
        fragment(1, 0, true, &d[..1480]),
        fragment(1, 1480, true, &d[1480..2960]),
    ];
    let (p, _) = run("ooo.pcap", &frames, &["--reassemble"]);
    assert_eq!(
        p[2]["ipv4"]["reassembled"]["fragments"],
        serde_json::json!([2, 3, 1])
    );
    assert_eq!(p[2]["ipv4"]["reassembled"]["length"], 3008);
    assert_eq!(p[2]["udp"]["length"], 3008);
    assert_eq!(p[2]["udp"]["checksum_ok"], true);
    assert!(p[0]["udp"].is_null() && p[0]["ipv4"]["reassembled"].is_null());
}

#[test]
fn without_reassembly_json_keeps_fragments_raw() {
    let d = udp_datagram(2000);
    let frames = [
        fragment(2, 0, true, &d[..1480]),
        fragment(2, 1480, false, &d[1480..]),
    ];
    let (p, _) = run("raw.pcap", &frames, &[]);
    assert!(p[1]["ipv4"]["reassembled"].is_null());
    assert!(p[1]["udp"].is_null());
    assert_eq!(
        p[0]["udp"]["checksum_ok"],
        Value::Null,
        "first fragment: unverifiable"
    );
}

#[test]
fn overlapping_fragments_are_reported_and_the_first_copy_kept() {
    let d = udp_datagram(40);
    let mut evil = d[16..40].to_vec();
    evil[..8].iter_mut().for_each(|b| *b ^= 0xff); // only the overlapping bytes differ
    let frames = [
        fragment(3, 0, true, &d[..24]),
        fragment(3, 16, true, &evil), // overlaps bytes 16–23 with different contents
        fragment(3, 40, false, &d[40..]),
    ];
    let (p, _) = run("overlap.pcap", &frames, &["--reassemble"]);
    let n = notes(&p[1]);
    assert!(
        n.contains("Overlapping fragment") && n.contains("different contents"),
        "{n}"
    );
    assert_eq!(
        p[2]["ipv4"]["reassembled"]["fragments"],
        serde_json::json!([1, 2, 3])
    );
    // The first copy of bytes 16–23 was kept, so the checksum still verifies.
    assert_eq!(p[2]["udp"]["checksum_ok"], true);
}

#[test]
fn a_duplicate_fragment_is_noted() {
    let d = udp_datagram(40);
    let frames = [
        fragment(4, 0, true, &d[..24]),
        fragment(4, 0, true, &d[..24]),
        fragment(4, 24, false, &d[24..]),
    ];
    let (p, _) = run("dup.pcap", &frames, &["--reassemble"]);
    assert!(
        notes(&p[1]).contains("Duplicate fragment"),
        "{}",
        notes(&p[1])
    );
    assert_eq!(
        p[2]["ipv4"]["reassembled"]["fragments"],
        serde_json::json!([1, 2, 3])
    );
}

#[test]
fn a_missing_fragment_is_reported_with_its_hole() {
    let d = udp_datagram(3000);
    let frames = [
        fragment(5, 0, true, &d[..1480]),
        fragment(5, 2960, false, &d[2960..]),
    ];
    let (p, stderr) = run("missing.pcap", &frames, &["--reassemble"]);
    assert!(p.iter().all(|x| x["ipv4"]["reassembled"].is_null()));
    assert!(
        stderr.contains("never completed") && stderr.contains("1480–2959"),
        "{stderr}"
    );
}

#[test]
fn a_fragment_past_65535_bytes_is_refused() {
    let frames = [fragment(6, 65_512, false, &[0; 64])];
    let (p, _) = run("pod.pcap", &frames, &["--reassemble"]);
    assert!(notes(&p[0]).contains("ping of death"), "{}", notes(&p[0]));
}

#[test]
fn an_arp_reply_names_its_request_and_a_conflict_is_warned() {
    let frames = [
        arp(1, 1, A, B),
        arp(2, 2, B, A),
        arp(2, 9, B, A), // a second host claims 10.77.0.2
    ];
    let (p, _) = run("arp.pcap", &frames, &[]);
    assert_eq!(p[1]["arp"]["kind"], "reply");
    assert_eq!(p[1]["arp"]["answers"], 1);
    assert!(p[1]["arp"]["latency_ms"].as_f64().is_some());
    assert!(
        p[2]["arp"]["answers"].is_null(),
        "the request was answered already"
    );
    let n = notes(&p[2]);
    assert!(
        n.contains("10.77.0.2 is now claimed by 02:77:00:00:00:09"),
        "{n}"
    );
}
