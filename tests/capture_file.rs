//! Behaviour of the saved-capture reader on hand-built pcap and pcapng files: timestamps,
//! link types, notes, every kind of damage, memory bounds, and a random-input loop.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;

use wirelens::capture::file::{CaptureError, CaptureFormat, FileSource, MAX_CAPLEN};
use wirelens::capture::{LinkType, Timestamp};

// ---------------------------------------------------------------------------------------
// Allocation counting, per thread, so the parallel tests do not disturb each other.

/// Counts allocations made by the current thread and remembers the largest one.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn count_allocation(size: usize) {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: every call is passed straight to the system allocator; the counters are
// const-initialised thread-locals without destructors, so touching them never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation(layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation(new_size);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result, the number of allocations it made on this thread and
/// the size of the largest one, in bytes.
fn measure<T>(f: impl FnOnce() -> T) -> (T, u64, usize) {
    ALLOCATIONS.with(|n| n.set(0));
    LARGEST.with(|l| l.set(0));
    let result = f();
    (result, ALLOCATIONS.with(Cell::get), LARGEST.with(Cell::get))
}

// ---------------------------------------------------------------------------------------
// Builders for capture files.

/// Byte order of a file being built.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Order {
    Little,
    Big,
}

use Order::{Big, Little};

impl Order {
    fn u16(self, v: u16) -> [u8; 2] {
        match self {
            Little => v.to_le_bytes(),
            Big => v.to_be_bytes(),
        }
    }

    fn u32(self, v: u32) -> [u8; 4] {
        match self {
            Little => v.to_le_bytes(),
            Big => v.to_be_bytes(),
        }
    }

    fn u64(self, v: u64) -> [u8; 8] {
        match self {
            Little => v.to_le_bytes(),
            Big => v.to_be_bytes(),
        }
    }
}

/// A pcap file header.
fn pcap_header(order: Order, nanos: bool, major: u16, snaplen: u32, link: u32) -> Vec<u8> {
    let magic = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let mut out = Vec::new();
    out.extend(order.u32(magic));
    out.extend(order.u16(major)); // version major
    out.extend(order.u16(4)); // version minor
    out.extend(order.u32(0)); // thiszone
    out.extend(order.u32(0)); // sigfigs
    out.extend(order.u32(snaplen));
    out.extend(order.u32(link));
    out
}

/// A pcap record whose header gives `caplen` and `len` and whose body is `data`
/// (which a test may make shorter than `caplen`).
fn pcap_record(order: Order, secs: u32, frac: u32, caplen: u32, len: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(order.u32(secs));
    out.extend(order.u32(frac));
    out.extend(order.u32(caplen));
    out.extend(order.u32(len));
    out.extend_from_slice(data);
    out
}

/// A well-formed pcap record holding `data`.
fn packet(order: Order, secs: u32, frac: u32, data: &[u8]) -> Vec<u8> {
    let n = data.len() as u32;
    pcap_record(order, secs, frac, n, n, data)
}

/// A little-endian µs Ethernet pcap with the given (secs, usecs, data) records.
fn simple_pcap(records: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let mut out = pcap_header(Little, false, 2, 65_535, 1);
    for &(secs, usecs, data) in records {
        out.extend(packet(Little, secs, usecs, data));
    }
    out
}

/// A pcapng block: type, total length, body padded to 4, total length.
fn block(order: Order, block_type: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().next_multiple_of(4);
    let total = (12 + padded) as u32;
    let mut out = Vec::new();
    out.extend(order.u32(block_type));
    out.extend(order.u32(total));
    out.extend_from_slice(body);
    out.resize(8 + padded, 0);
    out.extend(order.u32(total));
    out
}

/// A Section Header Block, version `major`.1.
fn shb(order: Order, major: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u32(0x1a2b_3c4d)); // byte-order magic
    body.extend(order.u16(major));
    body.extend(order.u16(0)); // minor
    body.extend(order.u64(u64::MAX)); // section length: unknown
    block(order, 0x0a0d_0d0a, &body)
}

/// An option: code, length, value padded to 4.
fn option(order: Order, code: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(order.u16(code));
    out.extend(order.u16(value.len() as u16));
    out.extend_from_slice(value);
    out.resize(4 + value.len().next_multiple_of(4), 0);
    out
}

/// An Interface Description Block with the given options (end-of-options is added).
fn idb(order: Order, link: u16, snaplen: u32, options: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u16(link));
    body.extend(order.u16(0)); // reserved
    body.extend(order.u32(snaplen));
    for opt in options {
        body.extend_from_slice(opt);
    }
    if !options.is_empty() {
        body.extend(option(order, 0, &[]));
    }
    block(order, 1, &body)
}

/// An Enhanced Packet Block with a timestamp in interface units.
fn epb(order: Order, interface: u32, ts: u64, len: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u32(interface));
    body.extend(order.u32((ts >> 32) as u32));
    body.extend(order.u32(ts as u32));
    body.extend(order.u32(data.len() as u32)); // caplen
    body.extend(order.u32(len));
    body.extend_from_slice(data);
    block(order, 6, &body)
}

/// An obsolete Packet Block.
fn pb(order: Order, interface: u16, ts: u64, len: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u16(interface));
    body.extend(order.u16(0)); // drops count
    body.extend(order.u32((ts >> 32) as u32));
    body.extend(order.u32(ts as u32));
    body.extend(order.u32(data.len() as u32)); // caplen
    body.extend(order.u32(len));
    body.extend_from_slice(data);
    block(order, 2, &body)
}

/// A Simple Packet Block.
fn spb(order: Order, len: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u32(len));
    body.extend_from_slice(data);
    block(order, 3, &body)
}

/// A pcapng file of one section with one Ethernet interface (µs) and the given blocks.
fn simple_pcapng(blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = shb(Little, 1);
    out.extend(idb(Little, 1, 0, &[]));
    for b in blocks {
        out.extend_from_slice(b);
    }
    out
}

fn open(data: Vec<u8>) -> Result<FileSource, CaptureError> {
    FileSource::from_reader("test.cap".to_string(), Box::new(Cursor::new(data)))
}

fn source(data: Vec<u8>) -> FileSource {
    match open(data) {
        Ok(source) => source,
        Err(e) => panic!("could not open: {e}"),
    }
}

/// Everything a frame carries, owned, for comparisons.
#[derive(Debug, PartialEq)]
struct Seen {
    secs: i64,
    nanos: u32,
    caplen: u32,
    len: u32,
    link: LinkType,
    bytes: Vec<u8>,
    notes: Vec<String>,
}

/// Reads all frames; returns them with their notes, and the error that ended the file.
fn read_all(source: &mut FileSource) -> (Vec<Seen>, Option<CaptureError>) {
    let mut seen = Vec::new();
    loop {
        let (ts, caplen, len, link, bytes) = match source.next_frame() {
            Ok(Some(f)) => (f.ts, f.caplen, f.len, f.link, f.bytes.to_vec()),
            Ok(None) => return (seen, None),
            Err(e) => return (seen, Some(e)),
        };
        assert_eq!(caplen as usize, bytes.len());
        seen.push(Seen {
            secs: ts.secs,
            nanos: ts.nanos,
            caplen,
            len,
            link,
            bytes,
            notes: source.take_notes(),
        });
    }
}

fn read_ok(data: Vec<u8>) -> Vec<Seen> {
    let mut source = source(data);
    let (seen, error) = read_all(&mut source);
    if let Some(e) = error {
        panic!("unexpected error: {e}");
    }
    seen
}

fn read_err(data: Vec<u8>) -> (Vec<Seen>, CaptureError) {
    let mut source = source(data);
    let (seen, error) = read_all(&mut source);
    let Some(error) = error else {
        panic!("expected an error, read {} frames", seen.len());
    };
    // After an error the source is finished, never stuck on the same error.
    assert!(matches!(source.next_frame(), Ok(None)));
    (seen, error)
}

fn open_err(data: Vec<u8>) -> CaptureError {
    match open(data) {
        Ok(source) => panic!("expected an error opening, got {source:?}"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------
// Classic pcap.

#[test]
fn pcap_microseconds_and_nanoseconds_in_both_byte_orders() {
    for order in [Little, Big] {
        for nanos in [false, true] {
            let frac = if nanos { 123_456_789 } else { 123_456 };
            let mut data = pcap_header(order, nanos, 2, 65_535, 113);
            data.extend(packet(order, 1_795_439_101, frac, b"\x00\x01\x02"));
            data.extend(packet(order, 1_795_439_102, 0, b"xyz!"));
            let mut source = source(data);
            assert_eq!(
                source.format(),
                CaptureFormat::Pcap {
                    nanos,
                    big_endian: order == Big,
                    version: (2, 4)
                }
            );
            assert_eq!(source.link_type(), Some(LinkType::LINUX_SLL));
            assert_eq!(source.name(), "test.cap");
            assert_eq!(source.bytes_read(), 24);
            let (seen, error) = read_all(&mut source);
            assert!(error.is_none());
            assert_eq!(seen.len(), 2, "{order:?} nanos={nanos}");
            let first = &seen[0];
            assert_eq!(first.secs, 1_795_439_101);
            assert_eq!(first.nanos, if nanos { 123_456_789 } else { 123_456_000 });
            let ts = Timestamp {
                secs: first.secs,
                nanos: first.nanos,
            };
            assert_eq!(ts.to_rfc3339_micros(), "2026-11-23T13:05:01.123456Z");
            assert_eq!(first.bytes, b"\x00\x01\x02");
            assert_eq!((first.caplen, first.len), (3, 3));
            assert_eq!(first.link, LinkType::LINUX_SLL);
            assert!(first.notes.is_empty());
            assert_eq!(seen[1].bytes, b"xyz!");
            assert_eq!(source.bytes_read(), 24 + 19 + 20);
        }
    }
}

#[test]
fn pcap_format_describes_itself() {
    let source = source(simple_pcap(&[]));
    assert_eq!(
        source.format().describe(),
        "pcap 2.4, microsecond timestamps, little-endian"
    );
}

#[test]
fn pcap_with_no_records_is_fine() {
    assert!(read_ok(simple_pcap(&[])).is_empty());
}

#[test]
fn empty_file_is_an_error() {
    let e = open_err(Vec::new());
    assert!(matches!(e, CaptureError::Empty { .. }));
    assert_eq!(
        e.to_string(),
        "test.cap: the file is empty, so there are no packets to read."
    );
}

#[test]
fn bad_magic_is_an_error() {
    let e = open_err(b"\x7fELF\x02\x01\x01\x00".to_vec());
    assert_eq!(
        e.to_string(),
        "test.cap: this is not a capture file: the first four bytes are 7f 45 4c 46, not a pcap or pcapng magic number."
    );
    assert_eq!(e.offset(), Some(0));
}

#[test]
fn file_shorter_than_its_header_is_an_error() {
    let e = open_err(vec![0xd4, 0xc3]);
    assert!(matches!(e, CaptureError::ShortFile { got: 2, .. }), "{e}");
    let mut header = simple_pcap(&[]);
    header.truncate(20);
    let e = open_err(header);
    assert_eq!(
        e.to_string(),
        "test.cap: the file is only 20 bytes long, too short for a pcap file header, which needs 24 bytes."
    );
}

#[test]
fn wrong_pcap_version_is_an_error() {
    let e = open_err(pcap_header(Big, false, 3, 65_535, 1));
    assert_eq!(
        e.to_string(),
        "test.cap: the pcap header at byte 0 says version 3.4, but wirelens reads only version 2.x."
    );
}

#[test]
fn truncated_record_header_comes_after_the_good_frames() {
    let mut data = simple_pcap(&[(1, 0, b"one"), (2, 0, b"two")]);
    data.extend([1, 2, 3, 4, 5]);
    let (seen, e) = read_err(data);
    assert_eq!(seen.len(), 2);
    assert_eq!(e.frame(), Some(3));
    assert_eq!(e.offset(), Some(24 + 19 + 19));
    assert_eq!(
        e.to_string(),
        "test.cap: record 3 at byte 62 is truncated: a record header is 16 bytes long but the file ends after 5."
    );
}

#[test]
fn truncated_record_body_comes_after_the_good_frames() {
    let mut data = simple_pcap(&[(1, 0, b"one")]);
    data.extend(pcap_record(Little, 2, 0, 98, 98, &[0; 40]));
    let (seen, e) = read_err(data);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].bytes, b"one");
    assert!(matches!(e, CaptureError::Truncated { .. }));
    assert_eq!((e.frame(), e.offset()), (Some(2), Some(43)));
    assert_eq!(
        e.to_string(),
        "test.cap: record 2 at byte 43 is truncated: its header says 98 bytes were captured but the file ends after 40 (58 bytes are missing)."
    );
}

#[test]
fn huge_caplen_is_refused_without_allocating() {
    let mut data = simple_pcap(&[(1, 0, b"ok")]);
    data.extend(pcap_record(
        Little,
        2,
        0,
        0xffff_fff0,
        0xffff_fff0,
        &[0; 64],
    ));
    let mut source = source(data);
    assert!(matches!(source.next_frame(), Ok(Some(_))));
    let (result, _, largest) = measure(|| source.next_frame().map(|f| f.is_some()));
    let Err(e) = result else {
        panic!("a 4 GB record was accepted");
    };
    assert!(largest < 4096, "allocated {largest} bytes");
    assert!(matches!(
        e,
        CaptureError::RecordTooLong {
            caplen: 0xffff_fff0,
            ..
        }
    ));
    assert_eq!((e.frame(), e.offset()), (Some(2), Some(42)));
    assert_eq!(
        e.to_string(),
        format!(
            "test.cap: record 2 at byte 42 claims 4294967280 captured bytes, more than the {MAX_CAPLEN} bytes wirelens accepts for one packet; the file is probably damaged here."
        )
    );
}

#[test]
fn largest_allowed_caplen_is_read() {
    let data = vec![0xab; MAX_CAPLEN as usize];
    let seen = read_ok(simple_pcap(&[(1, 0, &data)]));
    assert_eq!(seen[0].caplen, MAX_CAPLEN);
}

#[test]
fn caplen_above_len_is_a_note() {
    let mut data = simple_pcap(&[]);
    data.extend(pcap_record(Little, 1, 0, 8, 4, b"abcdefgh"));
    let seen = read_ok(data);
    assert_eq!(seen[0].bytes, b"abcdefgh");
    assert_eq!((seen[0].caplen, seen[0].len), (8, 4));
    assert_eq!(
        seen[0].notes,
        [
            "record 1 at byte 24 says it captured 8 bytes but only 4 were on the wire; all 8 captured bytes are kept."
        ]
    );
}

#[test]
fn caplen_above_snaplen_is_a_note() {
    let mut data = pcap_header(Little, false, 2, 4, 1);
    data.extend(packet(Little, 1, 0, b"12345"));
    let seen = read_ok(data);
    assert_eq!(
        seen[0].notes,
        ["record 1 at byte 24: caplen 5 exceeds the snapshot length 4 given for this capture."]
    );
}

#[test]
fn snaplen_zero_or_huge_is_a_note_on_the_first_frame() {
    for (snaplen, words) in [(0, "\"no limit\""), (u32::MAX, "4294967295 bytes")] {
        let mut data = pcap_header(Little, false, 2, snaplen, 1);
        data.extend(packet(Little, 1, 0, b"a"));
        data.extend(packet(Little, 2, 0, b"b"));
        let seen = read_ok(data);
        assert_eq!(seen[0].notes.len(), 1);
        assert!(seen[0].notes[0].contains(words), "{:?}", seen[0].notes);
        assert!(seen[1].notes.is_empty());
    }
}

#[test]
fn out_of_order_timestamps_are_a_note() {
    let seen = read_ok(simple_pcap(&[
        (10, 0, b"a"),
        (10, 500_000, b"b"),
        (10, 0, b"c"),
        (11, 0, b"d"),
    ]));
    assert!(seen[0].notes.is_empty() && seen[1].notes.is_empty() && seen[3].notes.is_empty());
    assert_eq!(
        seen[2].notes,
        ["record 3 at byte 58 is out of time order: 0.5 s earlier than the one before."]
    );
}

#[test]
fn fraction_of_a_second_or_more_is_carried_with_a_note() {
    let seen = read_ok(simple_pcap(&[(10, 2_500_000, b"a")]));
    assert_eq!((seen[0].secs, seen[0].nanos), (12, 500_000_000));
    assert_eq!(seen[0].notes.len(), 1);
}

#[test]
fn notes_can_be_kept_while_the_frame_is_borrowed() {
    let mut data = simple_pcap(&[]);
    data.extend(pcap_record(Little, 1, 0, 2, 1, b"ab"));
    let mut source = source(data);
    let mut notes = Vec::new();
    let frame = source.next_frame_with_notes(&mut notes);
    let Ok(Some(frame)) = frame else {
        panic!("no frame");
    };
    assert_eq!(frame.bytes, b"ab");
    assert_eq!(notes.len(), 1);
    assert!(source.take_notes().is_empty());
}

#[test]
fn no_allocation_per_packet() {
    let payload = [0x42u8; 60];
    let records: Vec<(u32, u32, &[u8])> = (0..2_000).map(|i| (i, 0, &payload[..])).collect();
    let mut blocks = Vec::new();
    for i in 0..2_000u64 {
        blocks.push(epb(Little, 0, i * 1_000_000, 60, &payload));
    }
    for data in [simple_pcap(&records), simple_pcapng(&blocks)] {
        let mut source = source(data);
        let (frames, allocations, _) = measure(|| {
            let mut frames = 0;
            while let Ok(Some(frame)) = source.next_frame() {
                assert_eq!(frame.bytes, &payload[..]);
                frames += 1;
                assert!(source.take_notes().is_empty());
            }
            frames
        });
        assert_eq!(frames, 2_000);
        assert_eq!(allocations, 0, "{:?}", source.format());
    }
}

// ---------------------------------------------------------------------------------------
// pcapng.

#[test]
fn pcapng_two_interfaces_with_their_own_link_type_and_resolution() {
    for order in [Little, Big] {
        let mut data = shb(order, 1);
        // Interface 0: Ethernet, nanoseconds (if_tsresol 9).
        data.extend(idb(order, 1, 0, &[option(order, 9, &[9])]));
        // Interface 1: Linux cooked, 1/64 s (if_tsresol 0x86 = 2^-6).
        data.extend(idb(order, 113, 0, &[option(order, 9, &[0x86])]));
        data.extend(epb(order, 0, 1_795_439_101_123_456_789, 60, b"ether"));
        data.extend(epb(order, 1, 1_795_439_102 * 64 + 16, 4, b"sll!"));
        data.extend(pb(order, 1, 1_795_439_103 * 64 + 1, 2, b"pb"));
        let mut source = source(data);
        assert_eq!(source.format(), CaptureFormat::Pcapng);
        assert_eq!(source.link_type(), Some(LinkType::ETHERNET));
        let (seen, error) = read_all(&mut source);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].link, LinkType::ETHERNET);
        assert_eq!((seen[0].secs, seen[0].nanos), (1_795_439_101, 123_456_789));
        assert_eq!((seen[0].caplen, seen[0].len), (5, 60));
        assert_eq!(seen[0].bytes, b"ether");
        assert_eq!(seen[1].link, LinkType::LINUX_SLL);
        assert_eq!((seen[1].secs, seen[1].nanos), (1_795_439_102, 250_000_000));
        assert_eq!(seen[1].bytes, b"sll!");
        assert_eq!((seen[2].secs, seen[2].nanos), (1_795_439_103, 15_625_000));
        assert_eq!(seen[2].link, LinkType::LINUX_SLL);
        assert_eq!(seen[2].bytes, b"pb");
        assert!(seen.iter().all(|s| s.notes.is_empty()));
    }
}

#[test]
fn pcapng_default_resolution_is_microseconds_and_tsoffset_is_added() {
    let mut data = shb(Little, 1);
    data.extend(idb(
        Little,
        1,
        0,
        &[option(Little, 14, &100i64.to_le_bytes())],
    ));
    data.extend(epb(Little, 0, 1_500_000, 1, b"x"));
    let seen = read_ok(data);
    assert_eq!((seen[0].secs, seen[0].nanos), (101, 500_000_000));
}

#[test]
fn simple_packet_block_has_no_time_and_is_cut_to_snaplen() {
    let mut data = shb(Big, 1);
    data.extend(idb(Big, 101, 4, &[]));
    data.extend(spb(Big, 6, b"abcdef")); // longer than snaplen: 4 kept
    data.extend(spb(Big, 3, b"xyz")); // padded to 4: the padding is not data
    let seen = read_ok(data);
    assert_eq!(seen.len(), 2);
    assert_eq!((seen[0].secs, seen[0].nanos), (0, 0));
    assert_eq!(seen[0].link, LinkType::RAW);
    assert_eq!((seen[0].caplen, seen[0].len), (4, 6));
    assert_eq!(seen[0].bytes, b"abcd");
    assert_eq!(seen[1].bytes, b"xyz");
    assert!(seen.iter().all(|s| s.notes.is_empty()), "{seen:?}");
}

#[test]
fn unknown_block_is_skipped_with_a_note_and_known_ones_silently() {
    let data = simple_pcapng(&[
        block(Little, 4, &[0; 8]),         // Name Resolution Block
        block(Little, 0x0000_1234, b"??"), // unknown
        epb(Little, 0, 0, 1, b"a"),
        block(Little, 5, &[0; 16]), // Interface Statistics Block
        epb(Little, 0, 1, 1, b"b"),
    ]);
    let seen = read_ok(data);
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].notes,
        ["pcapng block type 0x00001234 at byte 68 is unknown and was skipped."]
    );
    assert!(seen[1].notes.is_empty());
}

#[test]
fn many_unknown_blocks_give_a_bounded_list_of_notes() {
    let mut blocks: Vec<Vec<u8>> = (0..1_000).map(|_| block(Little, 0x77, &[])).collect();
    blocks.push(epb(Little, 0, 0, 1, b"a"));
    let seen = read_ok(simple_pcapng(&blocks));
    assert_eq!(seen[0].notes.len(), 17);
    assert!(
        seen[0].notes[16].starts_with("984 more remarks"),
        "{:?}",
        seen[0].notes
    );
}

#[test]
fn several_sections_each_reset_their_interfaces() {
    let mut data = shb(Little, 1);
    data.extend(idb(Little, 1, 0, &[]));
    data.extend(idb(Little, 1, 0, &[]));
    data.extend(epb(Little, 1, 0, 1, b"a"));
    let second = data.len() as u64;
    data.extend(shb(Big, 1));
    data.extend(idb(Big, 113, 0, &[]));
    data.extend(epb(Big, 0, 0, 1, b"b"));
    data.extend(epb(Big, 1, 0, 1, b"c"));
    let (seen, e) = read_err(data);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].link, LinkType::ETHERNET);
    assert_eq!(seen[1].link, LinkType::LINUX_SLL);
    assert_eq!(e.frame(), Some(3));
    assert_eq!(e.offset(), Some(second + 28 + 20 + 36));
    assert!(
        e.to_string().ends_with(
            "refers to interface 1, but its section describes only 1 interface(s) before it."
        ),
        "{e}"
    );
}

#[test]
fn wrong_pcapng_version_is_an_error() {
    let e = open_err(shb(Little, 2));
    assert_eq!(
        e.to_string(),
        "test.cap: the pcapng section header at byte 0 says version 2.0, but wirelens reads only version 1.x."
    );
}

#[test]
fn bad_byte_order_magic_is_an_error() {
    let mut data = shb(Little, 1);
    data[8] = 0;
    let e = open_err(data);
    assert!(matches!(e, CaptureError::BadBlock { offset: 0, .. }), "{e}");
}

/// Builds a file with one good frame followed by a block of the given raw total lengths.
fn with_bad_epb(total: u32, trailer: u32, body_len: usize) -> Vec<u8> {
    let mut data = simple_pcapng(&[epb(Little, 0, 0, 1, b"a")]);
    data.extend(6u32.to_le_bytes());
    data.extend(total.to_le_bytes());
    data.extend(vec![0; body_len]);
    data.extend(trailer.to_le_bytes());
    data
}

#[test]
fn block_length_not_a_multiple_of_four_is_an_error() {
    let (seen, e) = read_err(with_bad_epb(34, 34, 22));
    assert_eq!(seen.len(), 1);
    assert_eq!(e.offset(), Some(84));
    assert_eq!(e.frame(), Some(2));
    assert_eq!(
        e.to_string(),
        "test.cap: the pcapng block at byte 84 is damaged: this Enhanced Packet Block says it is 34 bytes long, which is not a multiple of 4 as every block length must be."
    );
}

#[test]
fn block_length_below_twelve_is_an_error() {
    let mut data = simple_pcapng(&[]);
    data.extend(block(Little, 0x77, &[]));
    let at = data.len() as u64;
    data.extend(0x77u32.to_le_bytes());
    data.extend(8u32.to_le_bytes());
    data.extend(8u32.to_le_bytes());
    let (_, e) = read_err(data);
    assert_eq!(e.offset(), Some(at));
    assert!(
        e.to_string()
            .contains("says it is 8 bytes long, but it needs at least 12"),
        "{e}"
    );
    // A packet block has a larger minimum.
    let (_, e) = read_err(with_bad_epb(16, 16, 4));
    assert!(e.to_string().contains("it needs at least 32"), "{e}");
}

#[test]
fn block_trailer_mismatch_is_an_error() {
    let (seen, e) = read_err(with_bad_epb(36, 40, 24));
    assert_eq!(seen.len(), 1);
    assert_eq!(e.offset(), Some(84));
    assert_eq!(
        e.to_string(),
        "test.cap: the pcapng block at byte 84 is damaged: this Enhanced Packet Block starts by saying it is 36 bytes long but ends by saying 40; the two lengths must match."
    );
    // Skipped blocks are checked too.
    let mut data = simple_pcapng(&[]);
    let mut nrb = block(Little, 4, &[0; 8]);
    let last = nrb.len() - 4;
    nrb[last] = 0;
    data.extend(nrb);
    let (_, e) = read_err(data);
    assert!(
        e.to_string()
            .contains("Name Resolution Block starts by saying"),
        "{e}"
    );
}

#[test]
fn caplen_beyond_the_block_is_an_error() {
    let mut bad = epb(Little, 0, 0, 100, b"abcd");
    bad[20] = 100; // caplen 100 in a block with room for 4
    let (_, e) = read_err(simple_pcapng(&[bad]));
    assert!(
        e.to_string()
            .contains("says it captured 100 bytes, but the block has room for only 4"),
        "{e}"
    );
}

#[test]
fn pcapng_huge_caplen_is_refused() {
    let mut bad = epb(Little, 0, 0, 100, b"abcd");
    bad[20..24].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let (_, e) = read_err(simple_pcapng(&[bad]));
    assert!(
        matches!(
            e,
            CaptureError::RecordTooLong {
                frame: 1,
                offset: 48,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn block_over_sixteen_mebibytes_is_an_error() {
    let mut data = simple_pcapng(&[]);
    data.extend(6u32.to_le_bytes());
    data.extend((16 * 1024 * 1024 + 4u32).to_le_bytes());
    let mut source = source(data);
    let (result, _, largest) = measure(|| source.next_frame().map(|f| f.is_some()));
    let Err(e) = result else {
        panic!("accepted a 16 MiB block")
    };
    assert!(largest < 4096, "allocated {largest} bytes");
    assert!(
        e.to_string().contains("more than the 16777216 bytes"),
        "{e}"
    );
}

#[test]
fn truncated_block_claiming_sixteen_mebibytes_allocates_only_what_is_there() {
    let mut data = simple_pcapng(&[]);
    data.extend(6u32.to_le_bytes());
    data.extend((16 * 1024 * 1024u32).to_le_bytes());
    data.extend([0; 100]);
    let mut source = source(data);
    let (result, _, largest) = measure(|| source.next_frame().map(|f| f.is_some()));
    let Err(e) = result else {
        panic!("accepted a truncated block")
    };
    assert!(largest < 4 * 1024 * 1024, "allocated {largest} bytes");
    assert_eq!(
        e.to_string(),
        "test.cap: the Enhanced Packet Block (record 1) at byte 48 is truncated: it needs 16777216 bytes but the file ends after 108 (16777108 bytes are missing)."
    );
    assert_eq!(e.frame(), Some(1));
}

#[test]
fn block_larger_than_the_buffer_is_read() {
    // A packet block with 3 MiB of options: longer than the 1 MiB read buffer.
    let mut body = Vec::new();
    body.extend(0u32.to_le_bytes()); // interface
    body.extend(0u32.to_le_bytes()); // ts high
    body.extend(7u32.to_le_bytes()); // ts low
    body.extend(4u32.to_le_bytes()); // caplen
    body.extend(4u32.to_le_bytes()); // len
    body.extend(b"data");
    for _ in 0..3 * 1024 {
        body.extend(option(Little, 1, &[b'c'; 1020])); // opt_comment
    }
    let big = block(Little, 6, &body);
    let data = simple_pcapng(&[
        big.clone(),
        block(Little, 0x0a, &big),
        epb(Little, 0, 8, 1, b"z"),
    ]);
    let seen = read_ok(data);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].bytes, b"data");
    assert_eq!(seen[1].bytes, b"z");
}

#[test]
fn truncated_last_block_comes_after_the_good_frames() {
    let mut data = simple_pcapng(&[epb(Little, 0, 0, 1, b"a")]);
    let next = epb(Little, 0, 0, 8, b"abcdefgh");
    data.extend(&next[..next.len() - 6]);
    let (seen, e) = read_err(data);
    assert_eq!(seen.len(), 1);
    assert_eq!((e.frame(), e.offset()), (Some(2), Some(84)));
    assert!(
        e.to_string()
            .contains("it needs 40 bytes but the file ends after 34 (6 bytes are missing)"),
        "{e}"
    );
    // Only part of a block header left.
    let mut data = simple_pcapng(&[]);
    data.extend([6, 0, 0]);
    let (_, e) = read_err(data);
    assert!(
        matches!(
            e,
            CaptureError::TruncatedBlock {
                offset: 48,
                got: 3,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn packet_before_any_interface_is_an_error() {
    let mut data = shb(Little, 1);
    data.extend(spb(Little, 1, b"a"));
    let (_, e) = read_err(data);
    assert_eq!(e.frame(), Some(1));
    assert!(
        e.to_string()
            .contains("Simple Packet Block (record 1) refers to interface 0"),
        "{e}"
    );
}

#[test]
fn link_type_is_unknown_until_an_interface_is_read() {
    let mut data = shb(Little, 1);
    data.extend(block(Little, 4, &[0; 4]));
    data.extend(idb(Little, 276, 0, &[]));
    data.extend(epb(Little, 0, 0, 1, b"a"));
    let mut source = source(data);
    assert_eq!(source.link_type(), None);
    let (seen, _) = read_all(&mut source);
    assert_eq!(seen[0].link, LinkType::LINUX_SLL2);
    assert_eq!(source.link_type(), Some(LinkType::LINUX_SLL2));
}

#[test]
fn bad_options_are_a_note_not_an_error() {
    let mut body = Vec::new();
    body.extend(1u16.to_le_bytes()); // Ethernet
    body.extend(0u16.to_le_bytes());
    body.extend(0u32.to_le_bytes());
    body.extend(9u16.to_le_bytes()); // if_tsresol ...
    body.extend(200u16.to_le_bytes()); // ... claiming 200 bytes
    let mut data = shb(Little, 1);
    data.extend(block(Little, 1, &body));
    data.extend(idb(Little, 1, 0, &[option(Little, 9, &[0x7f])])); // 10^-127: too fine
    data.extend(epb(Little, 1, 3, 1, b"a"));
    let seen = read_ok(data);
    assert_eq!(seen[0].notes.len(), 2, "{:?}", seen[0].notes);
    assert!(seen[0].notes[0].contains("runs past the end of the block"));
    assert!(seen[0].notes[1].contains("microseconds are assumed"));
    assert_eq!(seen[0].nanos, 3_000);
}

// ---------------------------------------------------------------------------------------
// Random inputs: nothing may panic, hang or allocate without bound.

/// A tiny xorshift64 generator, so the test needs no extra crates.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// How a random input ended.
#[derive(Debug, Default)]
struct Outcomes {
    refused: u32,
    frames: u32,
    clean_ends: u32,
    errors: u32,
}

/// Reads `data` to the end, checks the reader's promises and counts what happened.
fn survives(data: Vec<u8>, outcomes: &mut Outcomes) {
    let len = data.len();
    let ((), _, largest) = measure(|| {
        let Ok(mut source) = open(data) else {
            outcomes.refused += 1;
            return;
        };
        // Every frame consumes at least 12 bytes, so this many calls must reach the end.
        let mut calls = 0;
        loop {
            calls += 1;
            assert!(calls <= len / 12 + 2, "no progress after {calls} calls");
            match source.next_frame() {
                Ok(Some(frame)) => {
                    assert_eq!(frame.bytes.len(), frame.caplen as usize);
                    assert!(frame.caplen <= MAX_CAPLEN);
                    outcomes.frames += 1;
                }
                Ok(None) => {
                    outcomes.clean_ends += 1;
                    break;
                }
                Err(e) => {
                    outcomes.errors += 1;
                    assert!(e.to_string().starts_with("test.cap: "), "{e}");
                    assert!(matches!(source.next_frame(), Ok(None)));
                    break;
                }
            }
            assert!(source.take_notes().len() <= 17);
            assert!(source.bytes_read() <= len as u64);
        }
    });
    // One read buffer, nothing more, however lengths in the file are damaged.
    assert!(
        largest <= 1024 * 1024,
        "allocated {largest} bytes for a {len}-byte input"
    );
}

/// Random bytes, sometimes behind a valid file header, sometimes shaped like records or
/// blocks with random (often lying) lengths.
fn random_input(rng: &mut XorShift) -> Vec<u8> {
    let order = if rng.below(2) == 0 { Little } else { Big };
    let pcapng = rng.below(2) == 0;
    let mut data = match (rng.below(3), pcapng) {
        (0, _) => Vec::new(),
        (_, false) => pcap_header(order, rng.below(2) == 0, 2, rng.next() as u32 % 100, 1),
        (_, true) => {
            let mut data = shb(order, 1);
            data.extend(idb(order, 1, rng.below(100) as u32, &[]));
            data
        }
    };
    let shaped = !data.is_empty() && rng.below(2) == 0;
    for _ in 0..rng.below(8) {
        let body: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
        if !shaped {
            data.extend(body);
            continue;
        }
        let lie = rng.below(4) == 0;
        let claimed = |real: usize, rng: &mut XorShift| {
            if lie {
                rng.next() as u32 % (real as u32 + 64)
            } else {
                real as u32
            }
        };
        if pcapng {
            let types = [
                1,
                2,
                3,
                4,
                5,
                6,
                0x0a,
                0x0bad,
                0x0a0d_0d0a,
                rng.next() as u32,
            ];
            let block_type = types[rng.below(types.len())];
            let mut b = block(order, block_type, &body);
            let total = claimed(b.len(), rng);
            b[4..8].copy_from_slice(&order.u32(total));
            data.extend(b);
        } else {
            let caplen = claimed(body.len(), rng);
            let len = rng.below(80) as u32;
            data.extend(pcap_record(
                order,
                rng.next() as u32,
                rng.next() as u32,
                caplen,
                len,
                &body,
            ));
        }
    }
    data
}

#[test]
fn random_inputs_never_panic_or_hang() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut outcomes = Outcomes::default();
    for _ in 0..5_000 {
        let data = random_input(&mut rng);
        survives(data, &mut outcomes);
    }
    assert!(
        outcomes.refused > 500
            && outcomes.frames > 1_000
            && outcomes.clean_ends > 500
            && outcomes.errors > 500,
        "{outcomes:?}"
    );
}

#[test]
fn mutated_captures_never_panic_or_hang() {
    let payload = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00 hello";
    let pcap = simple_pcap(&[(1, 2, payload), (3, 4, payload), (5, 6, b"")]);
    let mut big_pcap = pcap_header(Big, true, 2, 0, 1);
    big_pcap.extend(packet(Big, 1, 999_999_999, payload));
    big_pcap.extend(pcap_record(Big, 0, 0, 30, 10, &[1; 30]));
    let mut pcapng = shb(Big, 1);
    pcapng.extend(idb(
        Big,
        1,
        64,
        &[option(Big, 9, &[9]), option(Big, 14, &[0; 8])],
    ));
    pcapng.extend(idb(Big, 113, 0, &[option(Big, 9, &[0x86])]));
    pcapng.extend(epb(Big, 0, 5, 100, payload));
    pcapng.extend(block(Big, 4, &[0; 12]));
    pcapng.extend(spb(Big, 20, payload));
    pcapng.extend(pb(Big, 1, 9, 3, b"abc"));
    pcapng.extend(shb(Little, 1));
    pcapng.extend(idb(Little, 1, 0, &[]));
    pcapng.extend(epb(Little, 0, 5, 100, payload));
    let valid = [pcap, big_pcap, pcapng];
    for file in &valid {
        assert!(!read_ok(file.clone()).is_empty());
    }

    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = Outcomes::default();
    for round in 0..4_000 {
        let mut data = valid[round % valid.len()].clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(data.len());
            match rng.below(6) {
                // Overwrite a byte.
                0 | 1 => data[at] = rng.next() as u8,
                // Flip a bit.
                2 => data[at] ^= 1 << rng.below(8),
                // Put an extreme value in a 32-bit field.
                3 => {
                    let value = [0u32, 1, 12, 0xffff_ffff, 0x7fff_fffc, 262_145][rng.below(6)];
                    let at = at & !3;
                    if let Some(slot) = data.get_mut(at..at + 4) {
                        slot.copy_from_slice(&value.to_le_bytes());
                    }
                }
                // Cut the file short.
                4 => data.truncate(at),
                // Insert a byte.
                _ => data.insert(at, rng.next() as u8),
            }
            if data.is_empty() {
                break;
            }
        }
        survives(data, &mut outcomes);
    }
    // The mutations must reach deep into the files, not just break the headers.
    assert!(
        outcomes.frames > 4_000 && outcomes.clean_ends > 500 && outcomes.errors > 1_000,
        "{outcomes:?}"
    );
}
