//! Hostile capture files through the real binary: each kind of damage gives one clear
//! sentence (an error, or a note on a packet) naming the byte offset, exit code 2 when
//! the file cannot be read on, and every good packet before the damage is shown first.
//!
//! Also here: reading needs no privilege (run as `nobody`), and randomly corrupted real
//! captures never make the binary panic, die of a signal or hang, in any format.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Running the binary.

/// What one run of the binary left behind.
#[derive(Debug)]
struct Run {
    /// Exit code; `None` when a signal ended the process.
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The summary lines of packets (those that start with a frame number).
    fn packets(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| {
                l.trim_start()
                    .split(' ')
                    .next()
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .collect()
    }
}

/// A fresh directory for one test.
fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wirelens-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    d
}

/// Writes `bytes` to `NAME` in a fresh directory and runs `wirelens read FILE ARGS…`.
fn read(name: &str, bytes: &[u8], args: &[&str]) -> (PathBuf, Run) {
    let dir = tempdir(name);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let run = run_binary(Command::new(env!("CARGO_BIN_EXE_wirelens")), &path, args);
    (path, run)
}

fn run_binary(mut cmd: Command, path: &Path, args: &[&str]) -> Run {
    let out = cmd
        .arg("read")
        .arg(path)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("could not run wirelens: {e}"));
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts that the run failed with exit code 2 and exactly this one-line message
/// (after "wirelens: PATH: "), and that the packets `shown` were printed before it.
fn assert_fails(run: &Run, path: &Path, message: &str, shown: usize) {
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(
        run.stderr,
        format!("wirelens: {}: {message}\n", path.display()),
        "{run:?}"
    );
    assert_eq!(run.packets().len(), shown, "{run:?}");
}

/// Asserts a clean run that showed `shown` packets, and returns the line of packet `n`.
fn assert_reads(run: &Run, shown: usize, n: usize) -> &str {
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
    let packets = run.packets();
    assert_eq!(packets.len(), shown, "{run:?}");
    packets[n - 1]
}

// ---------------------------------------------------------------------------------------
// Building files.

/// A whole Ethernet frame: an ARP request "who has 10.77.0.2? tell 10.77.0.1", 42 bytes.
const ARP_REQUEST: [u8; 42] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
    0x02, 0x77, 0x00, 0x00, 0x00, 0x01, // source
    0x08, 0x06, // EtherType: ARP
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // Ethernet/IPv4, request
    0x02, 0x77, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x4d, 0x00, 0x01, // sender MAC, IP
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x4d, 0x00, 0x02, // target MAC, IP
];

/// Length of a pcap file header, in bytes.
const PCAP_HEADER: usize = 24;
/// Length of a pcap record header, in bytes.
const RECORD_HEADER: usize = 16;
/// Bytes of one pcap record holding `ARP_REQUEST`.
const RECORD: usize = RECORD_HEADER + ARP_REQUEST.len();

/// A little-endian, microsecond pcap file header.
fn pcap_header(major: u16, minor: u16, snaplen: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(0xa1b2_c3d4u32.to_le_bytes());
    b.extend(major.to_le_bytes());
    b.extend(minor.to_le_bytes());
    b.extend([0; 8]); // time zone, significant figures
    b.extend(snaplen.to_le_bytes());
    b.extend(1u32.to_le_bytes()); // link type: Ethernet
    b
}

/// A pcap record header claiming `caplen` captured and `len` wire bytes, then `data`.
fn record(secs: u32, micros: u32, caplen: u32, len: u32, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(secs.to_le_bytes());
    b.extend(micros.to_le_bytes());
    b.extend(caplen.to_le_bytes());
    b.extend(len.to_le_bytes());
    b.extend(data);
    b
}

/// A pcap file with a 262144-byte snaplen and one ARP request per timestamp.
fn pcap(times: &[(u32, u32)]) -> Vec<u8> {
    let mut b = pcap_header(2, 4, 262_144);
    for &(s, us) in times {
        b.extend(record(s, us, 42, 42, &ARP_REQUEST));
    }
    b
}

/// A little-endian pcapng block: type, total length, body (padded to 4), total length.
fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().next_multiple_of(4);
    let total = (12 + padded) as u32;
    let mut b = Vec::new();
    b.extend(block_type.to_le_bytes());
    b.extend(total.to_le_bytes());
    b.extend(body);
    b.resize(8 + padded, 0);
    b.extend(total.to_le_bytes());
    b
}

/// Section Header Block, version `major`.0, section length unknown.
fn shb(major: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(0x1a2b_3c4du32.to_le_bytes());
    body.extend(major.to_le_bytes());
    body.extend(0u16.to_le_bytes());
    body.extend((-1i64).to_le_bytes());
    block(0x0a0d_0d0a, &body)
}

/// Interface Description Block: Ethernet, no snaplen limit, default (µs) resolution.
fn idb() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(1u16.to_le_bytes()); // link type: Ethernet
    body.extend(0u16.to_le_bytes()); // reserved
    body.extend(0u32.to_le_bytes()); // snaplen
    block(1, &body)
}

/// Enhanced Packet Block on interface 0 at `micros` holding `ARP_REQUEST` (76 bytes).
fn epb(micros: u64) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(0u32.to_le_bytes()); // interface
    body.extend(((micros >> 32) as u32).to_le_bytes());
    body.extend((micros as u32).to_le_bytes());
    body.extend(42u32.to_le_bytes()); // captured
    body.extend(42u32.to_le_bytes()); // on the wire
    body.extend(ARP_REQUEST);
    block(6, &body)
}

/// Section and interface header, then two good packets: the start of every pcapng test.
fn pcapng_two_packets() -> Vec<u8> {
    [shb(1), idb(), epb(1_000_000), epb(2_000_000)].concat()
}

/// Where the third block after the two packets of [`pcapng_two_packets`] starts.
const PCAPNG_THIRD: usize = 28 + 20 + 2 * 76;

// ---------------------------------------------------------------------------------------
// Files that cannot be read at all.

#[test]
fn bad_magic_is_one_sentence_and_exit_2() {
    let (path, run) = read("bad-magic.pcap", b"GIF89a\x01\x00\x01\x00", &[]);
    assert_fails(
        &run,
        &path,
        "this is not a capture file: the first four bytes are 47 49 46 38, not a pcap or pcapng magic number.",
        0,
    );
    let gzip = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0];
    let (path, run) = read("capture.pcap.gz", &gzip, &[]);
    assert_fails(
        &run,
        &path,
        "this is not a capture file: the first four bytes are 1f 8b 08 00, not a pcap or pcapng magic number. It looks gzip-compressed: decompress it first (gunzip).",
        0,
    );
}

#[test]
fn wrong_version_is_one_sentence_and_exit_2() {
    let mut b = pcap_header(3, 0, 262_144);
    b.extend(record(1, 0, 42, 42, &ARP_REQUEST));
    let (path, run) = read("version-3.pcap", &b, &[]);
    assert_fails(
        &run,
        &path,
        "the pcap header at byte 0 says version 3.0, but wirelens reads only version 2.x.",
        0,
    );
    let b = [shb(2), idb(), epb(1)].concat();
    let (path, run) = read("version-2.pcapng", &b, &[]);
    assert_fails(
        &run,
        &path,
        "the pcapng section header at byte 0 says version 2.0, but wirelens reads only version 1.x.",
        0,
    );
    // A second section with a bad version, after good packets.
    let b = [pcapng_two_packets(), shb(9), idb(), epb(3)].concat();
    let (path, run) = read("second-section.pcapng", &b, &[]);
    assert_fails(
        &run,
        &path,
        &format!(
            "the pcapng section header at byte {PCAPNG_THIRD} says version 9.0, but wirelens reads only version 1.x."
        ),
        2,
    );
}

#[test]
fn a_file_shorter_than_its_header_is_one_sentence_and_exit_2() {
    let (path, run) = read("short.pcap", &pcap_header(2, 4, 65_535)[..20], &[]);
    assert_fails(
        &run,
        &path,
        "the file is only 20 bytes long, too short for a pcap file header, which needs 24 bytes.",
        0,
    );
}

// ---------------------------------------------------------------------------------------
// Odd headers and records that are still readable: a note, exit 0.

#[test]
fn snaplen_zero_or_huge_is_a_note_and_the_packets_are_shown() {
    for (snaplen, note) in [
        (
            0,
            "[the file header gives a snapshot length of 0 (at byte 16); like libpcap, wirelens reads that as \"no limit\".]",
        ),
        (
            u32::MAX,
            "[the file header gives a snapshot length of 4294967295 bytes (at byte 16), more than any capture tool uses; records longer than 262144 bytes are still refused.]",
        ),
    ] {
        let mut b = pcap_header(2, 4, snaplen);
        b.extend(record(1, 0, 42, 42, &ARP_REQUEST));
        b.extend(record(2, 0, 42, 42, &ARP_REQUEST));
        let (_, run) = read(&format!("snaplen-{snaplen}.pcap"), &b, &[]);
        let first = assert_reads(&run, 2, 1);
        assert!(first.ends_with(note), "{first}");
        assert!(!assert_reads(&run, 2, 2).contains('['), "{run:?}");
    }
}

#[test]
fn a_record_longer_than_its_snaplen_is_a_note_with_its_offset() {
    let mut b = pcap_header(2, 4, 40);
    b.extend(record(1, 0, 42, 42, &ARP_REQUEST));
    let (_, run) = read("over-snaplen.pcap", &b, &[]);
    let line = assert_reads(&run, 1, 1);
    assert!(
        line.ends_with(
            "[record 1 at byte 24: caplen 42 exceeds the snapshot length 40 given for this capture.]"
        ),
        "{line}"
    );
    // The same note reaches the JSON `notes` key.
    let (_, run) = read("over-snaplen.pcap", &b, &["--format", "json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let v: serde_json::Value =
        serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    assert_eq!(
        v["notes"][0],
        "record 1 at byte 24: caplen 42 exceeds the snapshot length 40 given for this capture."
    );
}

#[test]
fn records_out_of_time_order_are_a_note_with_the_offset() {
    let b = pcap(&[(10, 500_000), (9, 0), (11, 0)]);
    let (_, run) = read("time-order.pcap", &b, &[]);
    assert!(!assert_reads(&run, 3, 1).contains('['), "{run:?}");
    let second = assert_reads(&run, 3, 2);
    assert!(
        second.ends_with(&format!(
            "[record 2 at byte {} is out of time order: 1.5 s earlier than the one before.]",
            PCAP_HEADER + RECORD
        )),
        "{second}"
    );
    assert!(!assert_reads(&run, 3, 3).contains('['), "{run:?}");
}

#[test]
fn an_unknown_pcapng_block_is_skipped_with_a_note() {
    let unknown = block(0x0000_0bee, b"not a packet");
    let b = [shb(1), idb(), epb(1), unknown.clone(), epb(2)].concat();
    let (_, run) = read("unknown-block.pcapng", &b, &[]);
    assert!(!assert_reads(&run, 2, 1).contains('['), "{run:?}");
    let second = assert_reads(&run, 2, 2);
    assert!(
        second.ends_with("[pcapng block type 0x00000bee at byte 124 is unknown and was skipped.]"),
        "{second}"
    );
}

#[test]
fn an_unknown_pcapng_block_after_the_last_packet_is_still_reported() {
    let b = [pcapng_two_packets(), block(0x0000_0bee, b"trailing")].concat();
    let (_, run) = read("trailing-block.pcapng", &b, &[]);
    assert_reads(&run, 2, 2);
    assert!(
        run.stdout.ends_with(&format!(
            "End of capture: pcapng block type 0x00000bee at byte {PCAPNG_THIRD} is unknown and was skipped.\n"
        )),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Damage after good packets: the good packets, then one sentence, exit 2.

#[test]
fn a_record_over_256_kib_is_refused_after_the_good_packets() {
    for caplen in [262_145u32, u32::MAX] {
        let mut b = pcap(&[(1, 0), (2, 0)]);
        b.extend(record(3, 0, caplen, caplen, &ARP_REQUEST));
        let (path, run) = read(&format!("caplen-{caplen}.pcap"), &b, &[]);
        assert_fails(
            &run,
            &path,
            &format!(
                "record 3 at byte {} claims {caplen} captured bytes, more than the 262144 bytes wirelens accepts for one packet; the file is probably damaged here.",
                PCAP_HEADER + 2 * RECORD
            ),
            2,
        );
    }
}

#[test]
fn a_truncated_last_record_fails_after_the_good_packets() {
    let mut b = pcap(&[(1, 0), (2, 0), (3, 0)]);
    b.truncate(b.len() - 22);
    let (path, run) = read("truncated-body.pcap", &b, &[]);
    assert_fails(
        &run,
        &path,
        &format!(
            "record 3 at byte {} is truncated: its header says 42 bytes were captured but the file ends after 20 (22 bytes are missing).",
            PCAP_HEADER + 2 * RECORD
        ),
        2,
    );
    let mut b = pcap(&[(1, 0), (2, 0)]);
    b.extend(&record(3, 0, 42, 42, &[])[..9]);
    let (path, run) = read("truncated-header.pcap", &b, &[]);
    assert_fails(
        &run,
        &path,
        &format!(
            "record 3 at byte {} is truncated: a record header is 16 bytes long but the file ends after 9.",
            PCAP_HEADER + 2 * RECORD
        ),
        2,
    );
}

#[test]
fn the_good_packets_come_first_in_every_format() {
    let mut b = pcap(&[(1, 0), (2, 0), (3, 0)]);
    b.truncate(b.len() - 22);
    let message = format!("record 3 at byte {} is truncated", PCAP_HEADER + 2 * RECORD);
    let (_, table) = read("truncated-table.pcap", &b, &["--format", "table"]);
    assert_eq!(table.code, Some(2), "{table:?}");
    assert!(table.stderr.contains(&message), "{table:?}");
    assert_eq!(table.stdout.matches("\nFrame ").count() + 1, 2, "{table:?}");
    let (_, json) = read("truncated-json.pcap", &b, &["--format", "json"]);
    assert_eq!(json.code, Some(2), "{json:?}");
    assert!(json.stderr.contains(&message), "{json:?}");
    let numbers: Vec<u64> = json
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["n"].as_u64())
                .unwrap_or_else(|| panic!("not a JSON packet: {l}"))
        })
        .collect();
    assert_eq!(numbers, [1, 2]);
}

/// An Enhanced Packet Block holding `ARP_REQUEST` whose total length (at byte 4 of the
/// block), trailing copy of it, or captured length (at byte 20) is replaced.
fn bad_epb(total: Option<u32>, trailer: Option<u32>, caplen: Option<u32>) -> Vec<u8> {
    let mut b = epb(3);
    let end = b.len();
    for (at, value) in [(4, total), (end - 4, trailer), (20, caplen)] {
        if let Some(v) = value {
            b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
    }
    b
}

#[test]
fn bad_pcapng_block_lengths_fail_after_the_good_packets() {
    let cases = [
        (
            "not-multiple-of-4",
            bad_epb(Some(77), None, None),
            "this Enhanced Packet Block says it is 77 bytes long, which is not a multiple of 4 as every block length must be",
        ),
        (
            "below-minimum",
            bad_epb(Some(8), None, None),
            "this Enhanced Packet Block says it is 8 bytes long, but it needs at least 32",
        ),
        (
            "trailer-mismatch",
            bad_epb(None, Some(80), None),
            "this Enhanced Packet Block starts by saying it is 76 bytes long but ends by saying 80; the two lengths must match",
        ),
        (
            "over-16-mib",
            bad_epb(Some(16 * 1024 * 1024 + 4), None, None),
            "this Enhanced Packet Block says it is 16777220 bytes long, more than the 16777216 bytes wirelens accepts for one block",
        ),
        (
            "caplen-past-block",
            bad_epb(None, None, Some(100)),
            "this Enhanced Packet Block (record 3) says it captured 100 bytes, but the block has room for only 44",
        ),
    ];
    for (name, third, why) in cases {
        let b = [pcapng_two_packets(), third, epb(4)].concat();
        let (path, run) = read(&format!("{name}.pcapng"), &b, &[]);
        assert_fails(
            &run,
            &path,
            &format!("the pcapng block at byte {PCAPNG_THIRD} is damaged: {why}."),
            2,
        );
    }
}

#[test]
fn a_pcapng_block_running_past_the_end_fails_after_the_good_packets() {
    let mut b = pcapng_two_packets();
    b.extend(&epb(3)[..50]);
    let (path, run) = read("truncated-block.pcapng", &b, &[]);
    assert_fails(
        &run,
        &path,
        &format!(
            "the Enhanced Packet Block (record 3) at byte {PCAPNG_THIRD} is truncated: it needs 76 bytes but the file ends after 50 (26 bytes are missing)."
        ),
        2,
    );
}

// ---------------------------------------------------------------------------------------
// Least privilege.

/// This process's effective user id, as the kernel reports it (`Uid:` real, effective…).
fn effective_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let ids = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    ids.split_whitespace().nth(1).map(str::to_string)
}

/// `privilege::is_root` holds one of the crate's `unsafe` blocks (a `geteuid` call). This
/// test also runs under Miri (`cargo +nightly miri test --test hostile -- is_root`), which
/// checks the call for undefined behaviour; Miri fakes the user id, so the comparison
/// with the kernel's is left out there.
#[test]
fn is_root_agrees_with_the_kernel() {
    let root = wirelens::privilege::is_root();
    if cfg!(miri) {
        return;
    }
    let euid = effective_uid().unwrap_or_else(|| panic!("no Uid: line in /proc/self/status"));
    assert_eq!(root, euid == "0", "effective uid {euid}");
}

/// The user and group `nobody` runs as on Debian.
const NOBODY: &str = "65534";

#[test]
fn reading_a_file_needs_no_privilege() {
    let euid = effective_uid();
    let dir = tempdir("unprivileged");
    let capture = dir.join("tcp-echo.pcap");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/tcp-echo.pcap");
    std::fs::copy(&src, &capture).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let as_is = run_binary(Command::new(env!("CARGO_BIN_EXE_wirelens")), &capture, &[]);
    assert_eq!(as_is.code, Some(0), "{as_is:?}");
    assert_eq!(as_is.packets().len(), 10, "{as_is:?}");
    if euid.as_deref() != Some("0") {
        // Not root: the run above was already unprivileged.
        return;
    }
    // Root: run the binary as nobody, with every capability dropped and no way back.
    // Copy it where nobody can reach it (the build directory may not be).
    use std::os::unix::fs::PermissionsExt;
    let exe = dir.join("wirelens");
    std::fs::copy(env!("CARGO_BIN_EXE_wirelens"), &exe).unwrap_or_else(|e| panic!("{e}"));
    for p in [&dir, &exe] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
    std::fs::set_permissions(&capture, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    let setpriv = |program: &Path| {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ])
        .arg(program);
        c
    };
    let Ok(who) = setpriv(Path::new("id")).output() else {
        eprintln!(
            "skipped: setpriv (util-linux) is not installed, so the test cannot switch to nobody"
        );
        return;
    };
    if !who.status.success() {
        // E.g. a container that withholds CAP_SETPCAP, which dropping the bounding set needs.
        eprintln!(
            "skipped: setpriv cannot switch to nobody here: {}",
            String::from_utf8_lossy(&who.stderr).trim()
        );
        return;
    }
    // "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)": one group, no other.
    let id = String::from_utf8_lossy(&who.stdout);
    assert!(
        id.starts_with(&format!("uid={NOBODY}("))
            && id.contains(&format!(" gid={NOBODY}("))
            && id.contains(&format!(" groups={NOBODY}("))
            && !id.contains(','),
        "{id}"
    );
    let unprivileged = run_binary(setpriv(&exe), &capture, &[]);
    assert_eq!(unprivileged.code, Some(0), "{unprivileged:?}");
    assert_eq!(unprivileged.stdout, as_is.stdout);
    assert_eq!(unprivileged.stderr, "");
    // And it really is unprivileged: a file only root may read is refused, in one sentence.
    let secret = dir.join("root-only.pcap");
    std::fs::copy(&src, &secret).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = run_binary(setpriv(&exe), &secret, &[]);
    assert_fails(
        &refused,
        &secret,
        "cannot open the capture file: permission was denied.",
        0,
    );
}

// ---------------------------------------------------------------------------------------
// Randomly corrupted real captures.

/// A small deterministic generator (xorshift64*), so every run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The real captures: every pcap and pcapng file in captures/.
fn real_captures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                bytes,
            )
        })
        .collect();
    v.sort();
    assert!(v.len() >= 10, "too few captures in {}", dir.display());
    v
}

/// Damages a copy of `file` in one to four ways: flipped bits, random bytes, lengths
/// set to extremes, a chunk cut out, repeated or truncated away.
fn corrupt(rng: &mut Rng, file: &[u8]) -> Vec<u8> {
    let mut b = file.to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            break;
        }
        match rng.below(6) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
            }
            2 => {
                // A 32-bit field (every length in both formats is one) set to an extreme.
                let i = rng.below(b.len().saturating_sub(4)) & !3;
                let v: u32 = [0, 1, 0xffff_ffff, 0x0004_0001, 0x0100_0000, 12, 28][rng.below(7)];
                if let Some(field) = b.get_mut(i..i + 4) {
                    field.copy_from_slice(&v.to_le_bytes());
                }
            }
            3 => {
                let start = rng.below(b.len());
                let end = (start + 1 + rng.below(64)).min(b.len());
                b.drain(start..end);
            }
            4 => {
                let start = rng.below(b.len());
                let end = (start + 1 + rng.below(128)).min(b.len());
                let chunk = b[start..end].to_vec();
                let at = rng.below(b.len());
                b.splice(at..at, chunk);
            }
            _ => b.truncate(rng.below(b.len())),
        }
    }
    b
}

/// Longest a run on one small file may take before it counts as a hang. Generous: a
/// slow debug build on a busy machine takes well under a second.
const HANG: Duration = Duration::from_secs(60);

/// How the runs on corrupted files ended.
#[derive(Debug, Default)]
struct Outcomes {
    /// Read to the end (exit 0).
    read: u64,
    /// Stopped at the damage with one sentence (exit 2).
    refused: u64,
}

/// Runs `wirelens read FILE --format F` for all three formats and checks: no signal, no
/// panic message, no hang, exit code 0 or 2, and on 2 one `wirelens:` sentence.
fn survives(path: &Path, what: &str, outcomes: &mut Outcomes) {
    for format in ["summary", "table", "json"] {
        let out_path = path.with_extension(format!("{format}.out"));
        let err_path = path.with_extension(format!("{format}.err"));
        let file =
            |p: &Path| std::fs::File::create(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_wirelens"))
            .arg("read")
            .arg(path)
            .args(["--format", format])
            .stdin(Stdio::null())
            .stdout(file(&out_path))
            .stderr(file(&err_path))
            .spawn()
            .unwrap_or_else(|e| panic!("could not run wirelens: {e}"));
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() > HANG => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "{what}: `wirelens read --format {format}` hung (kept in {})",
                        path.display()
                    );
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => panic!("{what}: waiting for wirelens failed: {e}"),
            }
        };
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        assert!(
            !stderr.contains("panicked"),
            "{what}: --format {format} panicked (kept in {}):\n{stderr}",
            path.display()
        );
        match status.code() {
            Some(0) => outcomes.read += 1,
            Some(2) => {
                assert!(
                    stderr
                        .lines()
                        .any(|l| l.starts_with("wirelens: ") && l.ends_with('.')),
                    "{what}: --format {format} failed without a sentence (kept in {}):\n{stderr}",
                    path.display()
                );
                outcomes.refused += 1;
            }
            code => panic!(
                "{what}: --format {format} ended with {code:?} / {status} (kept in {}):\n{stderr}",
                path.display()
            ),
        }
        let _ = std::fs::remove_file(&out_path);
        let _ = std::fs::remove_file(&err_path);
    }
}

/// Corrupts `runs` real captures (chosen and damaged from `seed`) and runs each through
/// all three formats.
fn corrupted_captures(name: &str, runs: u64, seed: u64) -> Outcomes {
    let captures = real_captures();
    let dir = tempdir(name);
    let mut outcomes = Outcomes::default();
    for run in 0..runs {
        // One seed per run, so a failure names the run that repeats it.
        let run_seed = seed ^ (run + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut rng = Rng(run_seed | 1);
        let (file, bytes) = &captures[rng.below(captures.len())];
        let damaged = corrupt(&mut rng, bytes);
        let path = dir.join(format!("run-{run}-{file}"));
        std::fs::write(&path, &damaged).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let what = format!("run {run} (seed {run_seed:#x}, from {file})");
        survives(&path, &what, &mut outcomes);
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir_all(&dir);
    outcomes
}

/// 1,000 corrupted captures × 3 formats = 3,000 runs of the binary (about half a minute
/// for a debug build). Set `WIRELENS_CORRUPT_SEED` to try other corruptions.
#[test]
fn a_thousand_corrupted_real_captures_never_crash_or_hang() {
    let seed = std::env::var("WIRELENS_CORRUPT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1000);
    let outcomes = corrupted_captures("corrupted-1000", 1000, seed);
    eprintln!("seed {seed:#x}: {outcomes:?}");
    // Both kinds of ending occur, or the corruption is not doing its job.
    assert!(outcomes.read > 0 && outcomes.refused > 0, "{outcomes:?}");
    assert_eq!(outcomes.read + outcomes.refused, 3000);
}
