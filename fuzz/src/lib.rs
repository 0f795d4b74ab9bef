//! The code the two fuzz targets run, kept apart from libFuzzer so that the main crate's
//! tests can run every input a fuzzer once crashed on through exactly the same code
//! (`tests/fuzz_regressions.rs` includes this file with `#[path]`).
//!
//! * [`dissect_frames`]: arbitrary bytes cut into a few Ethernet frames, each dissected
//!   (and, where `flows` would read it the lean way, read so and compared), analysed
//!   (TCP tracker, UDP tracker, reassembler, ARP tracker) and rendered in all three
//!   formats, then the end-of-capture tables.
//! * [`read_capture`]: arbitrary bytes as a capture file through the whole `read`
//!   pipeline, once per format, each time through a reader that returns different
//!   amounts per call.
//!
//! Besides "no panic, no hang, no unbounded allocation" (which libFuzzer checks), both
//! check a few properties every output must have; a violation panics like a crash.

#![forbid(unsafe_code)]

use std::io::{self, Read};

use wirelens::analysis::Analyzer;
use wirelens::analysis::flowtable::TrackerConfig;
use wirelens::analysis::reassembly::ReassemblyConfig;
use wirelens::capture::file::FileSource;
use wirelens::capture::{Frame, LinkType, Timestamp};
use wirelens::dissect::dissect;
use wirelens::pipeline::{self, ReadOptions, RunError};
use wirelens::render::{self, Context, Format};

/// Most frames one input is cut into: enough for a handshake, data and a teardown, or a
/// fragment train, while keeping each run short.
pub const MAX_FRAMES: usize = 64;

/// Bytes before each frame of a [`dissect_frames`] input: its captured length (u16,
/// big-endian), the capture-time step from the frame before (i8, in seconds, so time
/// may also go backwards) and how many bytes more than captured were on the wire (u8;
/// 255 means fewer: wire length 0).
pub const FRAME_HEADER_LEN: usize = 4;

/// Capture time of the first frame, in seconds since the epoch.
const START_SECS: i64 = 1_700_000_000;

/// `dissect_frames` option bit: tiny tables (4 flows, 2 datagrams, 4 KiB of fragments),
/// so that the eviction paths run on every few frames.
pub const OPT_SMALL_TABLES: u8 = 0x01;

/// `dissect_frames` option bit: keep conversation summaries, as `wirelens flows` does.
pub const OPT_KEEP_SUMMARIES: u8 = 0x02;

/// One frame cut out of a fuzz input.
#[derive(Clone, Copy, Debug)]
pub struct FuzzFrame<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Bytes on the wire, as a capture would record it.
    pub len: u32,
    /// The captured bytes.
    pub bytes: &'a [u8],
}

/// Cuts a [`dissect_frames`] input into its option byte and frames: after the option
/// byte, each frame is a [`FRAME_HEADER_LEN`]-byte header and its bytes; a last frame
/// that claims more bytes than are left gets what is left.
pub fn split_frames(data: &[u8]) -> (u8, Vec<FuzzFrame<'_>>) {
    let Some((&options, mut rest)) = data.split_first() else {
        return (0, Vec::new());
    };
    let mut frames = Vec::new();
    let mut secs = START_SECS;
    while frames.len() < MAX_FRAMES {
        let Some((head, body)) = rest.split_first_chunk::<FRAME_HEADER_LEN>() else {
            break;
        };
        let [len_hi, len_lo, step, extra] = *head;
        let caplen = usize::from(u16::from_be_bytes([len_hi, len_lo])).min(body.len());
        let (bytes, after) = body.split_at(caplen);
        secs += i64::from(i8::from_be_bytes([step]));
        let caplen = u32::try_from(caplen).unwrap_or(u32::MAX);
        let len = match extra {
            u8::MAX => 0,
            more => caplen.saturating_add(u32::from(more)),
        };
        frames.push(FuzzFrame {
            ts: Timestamp {
                secs,
                // A different sub-second part per frame, so relative times are not all whole.
                nanos: u32::from(step) * 3_906_250,
            },
            len,
            bytes,
        });
        rest = after;
    }
    (options, frames)
}

/// The inverse of [`split_frames`] for well-formed frames: an input the fuzzer can start
/// from (the seed script writes the same layout).
pub fn join_frames(options: u8, frames: &[(i8, &[u8])]) -> Vec<u8> {
    let mut out = vec![options];
    for (step, bytes) in frames {
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        out.extend(len.to_be_bytes());
        out.extend(step.to_be_bytes());
        out.push(0);
        out.extend(&bytes[..usize::from(len)]);
    }
    out
}

/// Dissects, analyses and renders (summary, table, JSON) every frame of `data` (see
/// [`split_frames`]), then renders the end-of-capture leftovers, the conversation tables
/// and the ARP table.
///
/// Panics if an output breaks a documented rule (a summary is exactly one line, a JSON
/// record is one line of valid JSON), or if after any frame a table holds more than its
/// cap allows.
pub fn dissect_frames(data: &[u8]) {
    let (options, frames) = split_frames(data);
    let (tracker, reassembly) = if options & OPT_SMALL_TABLES != 0 {
        (
            TrackerConfig {
                max_flows: 4,
                ..TrackerConfig::default()
            },
            ReassemblyConfig {
                max_datagrams: 2,
                max_bytes: 4096,
                ..ReassemblyConfig::default()
            },
        )
    } else {
        (TrackerConfig::default(), ReassemblyConfig::default())
    };
    let mut analyzer = Analyzer::new(tracker, Some(reassembly));
    if options & OPT_KEEP_SUMMARIES != 0 {
        analyzer.keep_summaries();
    }
    // Table widths from 40 (the least the command line accepts) to 536 columns.
    let width = 40 + u16::from(options >> 2) * 8;
    // Unbatched: each table is drawn at once, so every frame's output is checked.
    let mut ctx = Context::unbatched(width);
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let frame = Frame {
            ts: f.ts,
            caplen: u32::try_from(f.bytes.len()).unwrap_or(u32::MAX),
            len: f.len,
            link: LinkType::ETHERNET,
            interface: None,
            bytes: f.bytes,
        };
        let mut d = dissect(i as u64 + 1, &frame);
        // `flows` reads the common frames the lean way: it must agree with the dissector.
        if let Some(p) = wirelens::dissect::lean::flow_packet(&frame) {
            let full = wirelens::dissect::lean::FlowPacket::of(&d);
            assert_eq!(Some(p), full, "frame {} read the lean way differs", i + 1);
        }
        analyzer.analyse(&mut d, f.bytes);
        check_caps(&analyzer, &tracker, &reassembly, i + 1);
        for format in [Format::Summary, Format::Table, Format::Json] {
            out.clear();
            if let Err(e) = render::write_packet(&mut out, format, &mut ctx, &d, f.bytes) {
                panic!("rendering frame {} as {format:?} failed: {e}", i + 1);
            }
            check_output(format, &out);
        }
    }
    let first = frames.first().map(|f| f.ts);
    out.clear();
    let leftovers = analyzer.leftovers();
    let flows = analyzer.finish();
    let arp = analyzer.arp.table();
    let rendered = render::flows::write_table(
        &mut out,
        &flows,
        first,
        analyzer.arp_packets,
        analyzer.icmp_packets,
        width,
    )
    .and_then(|()| render::flows::write_json(&mut out, &flows))
    .and_then(|()| render::flows::write_arp_table(&mut out, &arp, first, width))
    .and_then(|()| render::flows::write_json(&mut out, &arp));
    if let Err(e) = rendered {
        panic!("rendering the conversation tables failed: {e}");
    }
    for l in &leftovers {
        assert!(
            !l.is_empty() && !l.contains('\n'),
            "bad leftover note {l:?}"
        );
    }
}

/// Checks that the TCP tracker and the reassembler hold no more than their caps allow.
fn check_caps(
    analyzer: &Analyzer,
    tracker: &TrackerConfig,
    reassembly: &ReassemblyConfig,
    n: usize,
) {
    assert!(
        analyzer.tcp.len() <= tracker.max_flows,
        "frame {n}: {} TCP connections tracked, over the cap of {}",
        analyzer.tcp.len(),
        tracker.max_flows
    );
    if let Some(r) = &analyzer.reassembler {
        assert!(
            r.in_flight() <= reassembly.max_datagrams && r.buffered_bytes() <= reassembly.max_bytes,
            "frame {n}: the reassembler holds {} datagrams and {} bytes, over its caps of {} and {}",
            r.in_flight(),
            r.buffered_bytes(),
            reassembly.max_datagrams,
            reassembly.max_bytes
        );
    }
}

/// Checks the rules every rendered packet follows.
fn check_output(format: Format, out: &[u8]) {
    let text = match std::str::from_utf8(out) {
        Ok(t) => t,
        Err(e) => panic!("{format:?} output is not UTF-8: {e}"),
    };
    match format {
        Format::Summary | Format::Json => {
            assert!(
                text.ends_with('\n') && text.matches('\n').count() == 1,
                "{format:?} output must be exactly one line: {text:?}"
            );
        }
        Format::Table => assert!(text.starts_with("Frame "), "{text:?}"),
    }
    if format == Format::Json
        && let Err(e) = serde_json::from_str::<serde_json::Value>(text)
    {
        panic!("the JSON line does not parse ({e}): {text}");
    }
}

/// A reader over a copy of the input that returns at most `chunk` bytes per call, as a
/// pipe or a slow disk may.
struct Chunked {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.data.get(self.pos..).unwrap_or_default();
        let n = buf.len().min(self.chunk).min(left.len());
        buf[..n].copy_from_slice(&left[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// Reads `data` as a capture file through `wirelens read`'s pipeline, once per format,
/// each time through a reader that returns a different amount per call (everything; a
/// few bytes; a size taken from the input).
///
/// Panics if an error names a byte offset past the end of the input or says nothing.
pub fn read_capture(data: &[u8]) {
    let odd_chunk = 1 + data.len() % 4093;
    for (format, chunk) in [
        (Format::Summary, usize::MAX),
        (Format::Table, 7),
        (Format::Json, odd_chunk),
    ] {
        let reader = Chunked {
            data: data.to_vec(),
            pos: 0,
            chunk,
        };
        let opts = ReadOptions {
            format,
            count: None,
            width: 100,
            reassemble: None,
            reassembly_timeout: 30.0,
            ..ReadOptions::default()
        };
        let result = FileSource::from_reader("fuzz input".to_string(), Box::new(reader))
            .map_err(RunError::from)
            .and_then(|mut source| pipeline::read_source(&mut source, &opts, &mut io::sink()));
        match result {
            Ok(()) => {}
            Err(RunError::Capture(e)) => {
                let message = e.to_string();
                assert!(message.starts_with("fuzz input: "), "{message}");
                if let Some(offset) = e.offset() {
                    assert!(
                        offset <= data.len() as u64,
                        "the error names byte {offset} of a {}-byte file: {message}",
                        data.len()
                    );
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}
