//! Saved captures: classic pcap and pcapng files, read by our own parser.
//!
//! Why not libpcap's savefile reader? It cannot tell a user at which byte offset a file is
//! damaged, and it costs about twice as much as a plain buffered walk. So wirelens parses
//! both formats itself, and uses libpcap only for live capture and BPF.
//!
//! [`FileSource`] reads through one large buffer and hands out [`Frame`]s that borrow from
//! it: no packet is copied and nothing is allocated per packet. Every length in the file is
//! checked before it is used, so no input can make the reader panic, hang or allocate
//! without bound (see [`MAX_CAPLEN`] and [`MAX_BLOCK_LEN`]).
//!
//! This module is the shared front: opening a file, recognising its format by the magic
//! number, and turning the records both readers find into frames with notes. The rest is
//! split by concern:
//!
//! * `pcap`: the classic libpcap format, a file header and then one record per packet.
//! * `pcapng`: the block-structured pcapng format, with sections and interfaces.
//! * `input`: the buffered reader both formats sit on.
//! * `error`: [`CaptureError`], whose every message names the file, record and offset.
//!
//! All integers in a file are in the byte order its magic number (for pcapng, each
//! section's byte-order magic) shows.

mod error;
mod input;
mod pcap;
mod pcapng;

use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use super::{Frame, LinkType, Timestamp};
use input::Input;
use pcap::{PcapHeader, read_pcap_header};
use pcapng::Section;

pub use error::CaptureError;

/// The most bytes one packet record may claim to hold (libpcap's own maximum snaplen).
///
/// A larger caplen means the file is damaged; refusing it keeps a record that claims 4 GB
/// from ever being allocated or waited for.
pub const MAX_CAPLEN: u32 = 262_144;

/// The longest pcapng block accepted, in bytes. Longer blocks are reported as damage.
pub const MAX_BLOCK_LEN: u32 = 16 * 1024 * 1024;

/// At most this many notes are kept per call of [`FileSource::next_frame`]; the rest are
/// counted, so a file full of odd blocks cannot fill memory with remarks.
const MAX_NOTES: usize = 16;

/// Magic numbers, as read in the byte order they identify.
mod magic {
    /// pcap with microsecond timestamps.
    pub const PCAP_MICROS: u32 = 0xa1b2_c3d4;
    /// pcap with nanosecond timestamps.
    pub const PCAP_NANOS: u32 = 0xa1b2_3c4d;
    /// The unsupported "modified pcap" of old Red Hat tcpdump patches.
    pub const PCAP_MODIFIED: u32 = 0xa1b2_cd34;
    /// pcapng Section Header Block type; the same in both byte orders.
    pub const PCAPNG: u32 = 0x0a0d_0d0a;
    /// pcapng byte-order magic, inside the Section Header Block.
    pub const BYTE_ORDER: u32 = 0x1a2b_3c4d;
    /// The first two bytes of a gzip file.
    pub const GZIP: [u8; 2] = [0x1f, 0x8b];
}

/// Byte order of a file or pcapng section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    /// The u16 at `at`, or `None` if `bytes` is too short.
    fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let raw: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(raw),
            Endian::Big => u16::from_be_bytes(raw),
        })
    }

    /// The u32 at `at`, or `None` if `bytes` is too short.
    fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(raw),
            Endian::Big => u32::from_be_bytes(raw),
        })
    }

    /// The i64 at `at`, or `None` if `bytes` is too short.
    fn i64(self, bytes: &[u8], at: usize) -> Option<i64> {
        let raw: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Endian::Little => i64::from_le_bytes(raw),
            Endian::Big => i64::from_be_bytes(raw),
        })
    }

    fn describe(self) -> &'static str {
        match self {
            Endian::Little => "little-endian",
            Endian::Big => "big-endian",
        }
    }
}

/// Which kind of capture file a [`FileSource`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap format.
    Pcap {
        /// Timestamps are in nanoseconds (magic a1b23c4d), not microseconds (a1b2c3d4).
        nanos: bool,
        /// The file was written big-endian.
        big_endian: bool,
        /// Version from the file header, normally (2, 4).
        version: (u16, u16),
    },
    /// pcapng; byte order and clock resolution may change per section and interface.
    Pcapng,
}

impl CaptureFormat {
    /// A description for humans, e.g. "pcap 2.4, microsecond timestamps, little-endian".
    pub fn describe(&self) -> String {
        match *self {
            CaptureFormat::Pcap {
                nanos,
                big_endian,
                version: (major, minor),
            } => {
                let unit = if nanos { "nanosecond" } else { "microsecond" };
                let order = if big_endian {
                    Endian::Big
                } else {
                    Endian::Little
                };
                format!(
                    "pcap {major}.{minor}, {unit} timestamps, {}",
                    order.describe()
                )
            }
            CaptureFormat::Pcapng => "pcapng".to_string(),
        }
    }
}

/// "0.5 s", "12.000001 s": a non-negative span of nanoseconds, without trailing zeros.
fn format_span(nanos: u128) -> String {
    let secs = nanos / u128::from(crate::timestamp::NANOS_PER_SEC);
    let frac = nanos % u128::from(crate::timestamp::NANOS_PER_SEC);
    if frac == 0 {
        return format!("{secs} s");
    }
    let digits = format!("{frac:09}");
    format!("{secs}.{} s", digits.trim_end_matches('0'))
}

/// Whether a record's `caplen` is more than the snapshot length in force, which is noted.
/// A snapshot length of 0, or one above [`MAX_CAPLEN`], limits nothing.
fn exceeds_snaplen(caplen: u32, snaplen: u32) -> bool {
    snaplen != 0 && snaplen <= MAX_CAPLEN && caplen > snaplen
}

/// Whole nanoseconds of a timestamp, for differences.
fn total_nanos(ts: Timestamp) -> i128 {
    i128::from(ts.secs) * i128::from(crate::timestamp::NANOS_PER_SEC) + i128::from(ts.nanos)
}

/// What format-specific state the source carries.
#[derive(Debug)]
enum Kind {
    Pcap(PcapHeader),
    Pcapng(Section),
}

/// A packet record found by the format-specific readers, before it becomes a [`Frame`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    /// Byte offset of the record in the file.
    offset: u64,
    /// `None` for pcapng Simple Packet Blocks, which carry no time.
    ts: Option<Timestamp>,
    caplen: u32,
    len: u32,
    /// The snapshot length in force; 0 means none.
    snaplen: u32,
    link: LinkType,
    /// pcapng: the number of the interface it was captured on.
    interface: Option<u32>,
    /// Index of the first packet byte in the input buffer.
    start: usize,
}

/// A saved capture (pcap or pcapng) read frame by frame.
///
/// ```no_run
/// use wirelens::capture::file::FileSource;
/// # fn main() -> Result<(), wirelens::capture::file::CaptureError> {
/// let mut source = FileSource::open(std::path::Path::new("captures/http.pcap"))?;
/// while let Some(frame) = source.next_frame()? {
///     println!("{} {} bytes", frame.ts, frame.caplen);
///     for note in source.take_notes() {
///         println!("  note: {note}");
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct FileSource {
    name: String,
    input: Input,
    format: CaptureFormat,
    kind: Kind,
    first_link: Option<LinkType>,
    /// Packet records returned so far.
    frames: u64,
    /// Timestamp of the last timed record, for the time-order check.
    prev_ts: Option<Timestamp>,
    notes: Vec<String>,
    /// Notes left out of `notes` because of [`MAX_NOTES`].
    notes_dropped: usize,
    /// The notes belong to an earlier call and go at the start of the next one.
    notes_stale: bool,
    /// An error or the end was reached; nothing more is read.
    finished: bool,
    /// pcapng Section Header Blocks and Interface Description Blocks read so far.
    described: (u64, u64),
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSource")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("bytes_read", &self.input.offset)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl FileSource {
    /// Opens a capture file; the path `-` means standard input.
    ///
    /// Reads the file header (and, for pcapng, the interface descriptions right after it),
    /// so an empty file, a file that is not a capture or an unsupported version fails here.
    pub fn open(path: &Path) -> Result<FileSource, CaptureError> {
        if path == Path::new("-") {
            return FileSource::from_reader("standard input".to_string(), Box::new(io::stdin()));
        }
        let open_error = |source| CaptureError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(open_error)?;
        // Opening a directory succeeds on Linux; reading it would fail with a vaguer message.
        if file.metadata().map_err(open_error)?.is_dir() {
            return Err(open_error(io::ErrorKind::IsADirectory.into()));
        }
        FileSource::from_reader(path.display().to_string(), Box::new(file))
    }

    /// Reads a capture from any reader; `name` is used in messages (for tests and stdin).
    /// The reader must be `Send`, as `wirelens flows` reads on a second thread.
    pub fn from_reader(
        name: String,
        reader: Box<dyn Read + Send>,
    ) -> Result<FileSource, CaptureError> {
        let mut input = Input::new(reader);
        let available = input
            .fill(4)
            .map_err(|e| CaptureError::read_failed(&name, e))?;
        if available == 0 {
            return Err(CaptureError::Empty { file: name });
        }
        let Some(magic) = input.available().first_chunk::<4>().copied() else {
            return Err(CaptureError::ShortFile {
                file: name,
                what: "the four-byte magic number every capture file starts with",
                wanted: 4,
                got: available as u64,
            });
        };
        let (le, be) = (u32::from_le_bytes(magic), u32::from_be_bytes(magic));
        let pcap = match (le, be) {
            (magic::PCAP_MICROS, _) => Some((Endian::Little, false)),
            (magic::PCAP_NANOS, _) => Some((Endian::Little, true)),
            (_, magic::PCAP_MICROS) => Some((Endian::Big, false)),
            (_, magic::PCAP_NANOS) => Some((Endian::Big, true)),
            _ => None,
        };
        let (format, kind) = if let Some((endian, nanos)) = pcap {
            let header = read_pcap_header(&mut input, &name, endian, nanos)?;
            let format = CaptureFormat::Pcap {
                nanos,
                big_endian: endian == Endian::Big,
                version: header.version,
            };
            (format, Kind::Pcap(header))
        } else if le == magic::PCAPNG {
            let section = Section {
                endian: Endian::Little,
                interfaces: Vec::new(),
                labels: Vec::new(),
            };
            (CaptureFormat::Pcapng, Kind::Pcapng(section))
        } else {
            return Err(CaptureError::BadMagic { file: name, magic });
        };
        let mut source = FileSource {
            name,
            input,
            format,
            kind,
            first_link: None,
            frames: 0,
            prev_ts: None,
            notes: Vec::new(),
            notes_dropped: 0,
            notes_stale: false,
            finished: false,
            described: (0, 0),
        };
        match source.kind {
            Kind::Pcap(header) => {
                source.first_link = Some(header.link);
                source.note_header_snaplen(header.snaplen);
            }
            Kind::Pcapng(_) => {
                source.read_section_header(0)?;
                source.read_leading_interfaces()?;
            }
        }
        Ok(source)
    }

    /// The format detected from the magic number.
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// The link type of the file: the pcap header's, or for pcapng the first interface's
    /// once an Interface Description Block has been read (`open` reads those that follow
    /// the section header directly, so this is normally known right away).
    pub fn link_type(&self) -> Option<LinkType> {
        self.first_link
    }

    /// The name used in messages: the path as given, or "standard input".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes of the file consumed so far: the offset just after the last frame returned.
    pub fn bytes_read(&self) -> u64 {
        self.input.offset
    }

    /// How many pcapng section headers, and interface descriptions, have been read so
    /// far (both 0 for pcap). A change between two frames tells that blocks before the
    /// second one changed how later packets are read: the viewer, which reads a frame
    /// from its offset, reads those blocks again first.
    pub fn descriptions_read(&self) -> (u64, u64) {
        self.described
    }

    /// The next packet, or `Ok(None)` at a clean end of file.
    ///
    /// Frames are numbered from 1 over packet records only. The frame borrows the source's
    /// buffer, so it must be dropped before the next call. After an error the position in
    /// the file is unknown, so every later call returns `Ok(None)`; all frames before the
    /// damage have been returned by then.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        Ok(self.advance()?.map(|record| self.frame(&record)))
    }

    /// Like [`FileSource::next_frame`], but first moves the notes about the frame into
    /// `notes` (appending), so they can be used while the frame is still borrowed; with
    /// `next_frame` the frame must be dropped before [`FileSource::take_notes`] is called.
    #[inline]
    pub fn next_frame_with_notes(
        &mut self,
        notes: &mut Vec<String>,
    ) -> Result<Option<Frame<'_>>, CaptureError> {
        let record = self.advance();
        notes.append(&mut self.notes);
        Ok(record?.map(|record| self.frame(&record)))
    }

    /// Reads the next packet record, with its notes; the common part of
    /// [`FileSource::next_frame`] and [`FileSource::next_frame_with_notes`].
    fn advance(&mut self) -> Result<Option<Record>, CaptureError> {
        if self.notes_stale {
            self.notes.clear();
            self.notes_dropped = 0;
        }
        self.notes_stale = true;
        if self.finished {
            return Ok(None);
        }
        let read = match &self.kind {
            Kind::Pcap(header) => {
                let header = *header;
                if self.notes_dropped == 0
                    && let Some(record) = self.quiet_pcap_record(header)
                {
                    return Ok(Some(record));
                }
                self.read_pcap_record(header)
            }
            Kind::Pcapng(_) => self.read_pcapng_record(),
        };
        let record = match read {
            Ok(Some(record)) => record,
            Ok(None) => {
                self.finished = true;
                self.flush_dropped_notes();
                return Ok(None);
            }
            Err(error) => {
                self.finished = true;
                return Err(error);
            }
        };
        self.frames += 1;
        self.check_record(&record);
        self.flush_dropped_notes();
        Ok(Some(record))
    }

    /// The frame for a record that was just read; its bytes are still in the buffer.
    fn frame(&self, record: &Record) -> Frame<'_> {
        let bytes = self.input.recent(record.start, record.caplen as usize);
        Frame {
            ts: record.ts.unwrap_or_default(),
            caplen: u32::try_from(bytes.len()).unwrap_or(record.caplen),
            len: record.len,
            link: record.link,
            interface: match (&self.kind, record.interface) {
                (Kind::Pcapng(section), Some(id)) => section.labels.get(id as usize),
                _ => None,
            },
            bytes,
        }
    }

    /// Non-fatal remarks about the frame last returned (and about blocks skipped on the
    /// way to it), as sentences. Empty, without allocating, in the normal case.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Adds a note unless this call already has [`MAX_NOTES`].
    fn note(&mut self, text: impl FnOnce() -> String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(text());
        } else {
            self.notes_dropped += 1;
        }
    }

    /// Says how many notes [`FileSource::note`] left out.
    fn flush_dropped_notes(&mut self) {
        if self.notes_dropped > 0 {
            let dropped = std::mem::take(&mut self.notes_dropped);
            self.notes.push(format!(
                "{dropped} more remarks like these were left out to keep the list short."
            ));
        }
    }

    /// Notes what is odd about a record that was read successfully.
    fn check_record(&mut self, record: &Record) {
        let (frame, offset) = (self.frames, record.offset);
        if record.caplen > record.len {
            self.note(|| {
                format!(
                    "record {frame} at byte {offset} says it captured {} bytes but only {} were on the wire; all {} captured bytes are kept.",
                    record.caplen, record.len, record.caplen
                )
            });
        }
        if exceeds_snaplen(record.caplen, record.snaplen) {
            self.note(|| {
                format!(
                    "record {frame} at byte {offset}: caplen {} exceeds the snapshot length {} given for this capture.",
                    record.caplen, record.snaplen
                )
            });
        }
        if let Some(ts) = record.ts {
            if let Some(prev) = self.prev_ts
                && ts < prev
            {
                let earlier = (total_nanos(prev) - total_nanos(ts)).unsigned_abs();
                self.note(|| {
                    format!(
                        "record {frame} at byte {offset} is out of time order: {} earlier than the one before.",
                        format_span(earlier)
                    )
                });
            }
            self.prev_ts = Some(ts);
        }
    }

    /// Refuses a record that claims more than [`MAX_CAPLEN`] captured bytes, whichever
    /// format it comes from, before any of its bytes are waited for.
    fn check_caplen(&self, frame: u64, offset: u64, caplen: u32) -> Result<(), CaptureError> {
        if caplen > MAX_CAPLEN {
            return Err(CaptureError::RecordTooLong {
                file: self.name.clone(),
                frame,
                offset,
                caplen,
            });
        }
        Ok(())
    }

    /// Fills the input, turning a read failure into an error naming the file.
    #[inline]
    fn fill(&mut self, want: usize) -> Result<usize, CaptureError> {
        self.input
            .fill(want)
            .map_err(|e| CaptureError::read_failed(&self.name, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(format_span(500_000_000), "0.5 s");
        assert_eq!(format_span(3_000_000_000), "3 s");
        assert_eq!(format_span(12_000_001_000), "12.000001 s");
    }

    #[test]
    fn format_descriptions() {
        let pcap = CaptureFormat::Pcap {
            nanos: true,
            big_endian: true,
            version: (2, 4),
        };
        assert_eq!(
            pcap.describe(),
            "pcap 2.4, nanosecond timestamps, big-endian"
        );
        assert_eq!(CaptureFormat::Pcapng.describe(), "pcapng");
    }

    /// A record's time fraction of a second or more is carried into the seconds, with a
    /// note; under a second it is kept as it is, in micro- and in nanosecond files.
    #[test]
    fn time_fractions_under_and_over_a_second() {
        for (magic, frac, want) in [
            (0xa1b2_c3d4u32, 999_999u32, (7i64, 999_999_000u32, false)),
            (0xa1b2_c3d4, 1_500_000, (8, 500_000_000, true)),
            (0xa1b2_3c4d, 999_999_999, (7, 999_999_999, false)),
            (0xa1b2_3c4d, 2_000_000_001, (9, 1, true)),
        ] {
            let mut file = Vec::new();
            for word in [magic, 0x0004_0002, 0, 0, 65_535, 1] {
                file.extend_from_slice(&word.to_le_bytes());
            }
            for word in [7u32, frac, 1, 1] {
                file.extend_from_slice(&word.to_le_bytes());
            }
            file.push(0xab);
            let reader = Box::new(std::io::Cursor::new(file));
            let mut source = FileSource::from_reader("t.pcap".into(), reader).unwrap();
            let frame = source.next_frame().unwrap().unwrap();
            assert_eq!((frame.ts.secs, frame.ts.nanos), (want.0, want.1), "{frac}");
            let notes = source.take_notes();
            assert_eq!(
                notes.iter().any(|n| n.contains("second or more")),
                want.2,
                "{notes:?}"
            );
        }
    }

    #[test]
    fn directory_is_an_open_error() {
        let err = FileSource::open(Path::new("/")).unwrap_err();
        assert!(matches!(err, CaptureError::Open { .. }));
        assert!(err.to_string().contains("directory"), "{err}");
        let err = FileSource::open(Path::new("/nonexistent/x.pcap")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/nonexistent/x.pcap: cannot open the capture file: there is no such file."
        );
    }
}
