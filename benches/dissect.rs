//! The dissector alone, in packets per second: `cargo bench --bench dissect`.
//!
//! Frames are loaded into memory first, so only the dissector (slicing, field parsing,
//! checksum checks) is timed — no file reading, analysis or rendering: `dissect`, which
//! returns a new `Dissection` per frame, and `dissect_into`, which fills one reused
//! `Dissection` (as `wirelens flows` does). The sets of frames:
//!
//! * every packet of the bundled captures (`captures/`, small and varied);
//! * the real-traffic seeds of the benchmark corpus (`bench/real-seed.pcap`, Ethernet,
//!   and `bench/real-seed-sll2.pcap`, Linux cooked v2; see `bench/record-real.sh`);
//! * when `WIRELENS_BENCH_PCAP` names a capture, its first 200 000 packets: a replicated
//!   real-traffic file (`bench/compare.sh` writes `/tmp/wirelens-bench/real-2000000.pcap`)
//!   or one written by `examples/gen-capture`. The set is named after the file.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wirelens::capture::file::FileSource;
use wirelens::capture::{Frame, LinkType, Timestamp};
use wirelens::dissect::{dissect, dissect_into};

/// Captured packets with their times and lengths.
type Packets = Vec<(Timestamp, u32, LinkType, Vec<u8>)>;

/// Up to `limit` packets of the capture at `path`, read until the end or the first damage.
fn load(path: &Path, limit: usize, into: &mut Packets) {
    let Ok(mut source) = FileSource::open(path) else {
        return;
    };
    while into.len() < limit {
        match source.next_frame() {
            Ok(Some(f)) => into.push((f.ts, f.len, f.link, f.bytes.to_vec())),
            _ => break,
        }
    }
}

fn run(c: &mut Criterion, name: &str, packets: &Packets) {
    if packets.is_empty() {
        return;
    }
    let mut group = c.benchmark_group("dissect");
    group.throughput(Throughput::Elements(packets.len() as u64));
    // The frames as the reader lends them, built once for both benchmarks.
    let frames: Vec<Frame<'_>> = packets
        .iter()
        .map(|(ts, len, link, bytes)| Frame {
            ts: *ts,
            caplen: bytes.len() as u32,
            len: *len,
            link: *link,
            interface: None,
            bytes,
        })
        .collect();
    group.bench_function(name, |b| {
        b.iter(|| {
            for (i, frame) in frames.iter().enumerate() {
                // By reference: `black_box(value)` would time a 600-byte copy of the
                // result into the black box, which no caller of `dissect` makes.
                let d = dissect(i as u64 + 1, black_box(frame));
                black_box(&d);
            }
        })
    });
    // As `wirelens flows` calls it: into one `Dissection`, reused for every frame.
    group.bench_function(format!("{name}, into a reused Dissection"), |b| {
        let mut d = wirelens::dissect::Dissection::default();
        b.iter(|| {
            for (i, frame) in frames.iter().enumerate() {
                dissect_into(&mut d, i as u64 + 1, black_box(frame));
                black_box(&d);
            }
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let mut bundled = Packets::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "pcap"))
    {
        load(f, usize::MAX, &mut bundled);
    }
    run(c, "bundled captures", &bundled);
    let bench_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench");
    for (file, name) in [
        ("real-seed.pcap", "real-traffic seed, Ethernet"),
        ("real-seed-sll2.pcap", "real-traffic seed, cooked v2"),
    ] {
        let mut seed = Packets::new();
        load(&bench_dir.join(file), usize::MAX, &mut seed);
        run(c, name, &seed);
    }
    if let Some(path) = std::env::var_os("WIRELENS_BENCH_PCAP") {
        let path = Path::new(&path);
        let mut packets = Packets::new();
        load(path, 200_000, &mut packets);
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        run(
            c,
            &format!("{file} (first {} packets)", packets.len()),
            &packets,
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
