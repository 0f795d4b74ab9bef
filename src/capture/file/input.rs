//! [`Input`], the buffered reader under both file formats. Its unit tests also drive it
//! through a whole [`FileSource`](super::FileSource) with readers that misbehave.

use std::io::{self, Read};

/// Size of the read buffer, in bytes. It grows (up to
/// [`MAX_BLOCK_LEN`](super::MAX_BLOCK_LEN), and only as far as the file really has the
/// bytes) only for a pcapng packet or interface block longer than this. 128 KiB, not
/// 1 MiB: the bytes the kernel copies in are still in the core's cache when the records
/// are parsed (`flows` on real-2000000.pcap, 5 alternating runs on a loaded machine:
/// median 0.80 s against 1.03 s, user time 0.90 s against 1.00 s).
const BUFFER_LEN: usize = 128 * 1024;

/// Our own buffered reader: it knows the file offset of every byte, can make a whole
/// record contiguous for zero-copy borrowing, and retries short and interrupted reads.
///
/// Invariant: `pos <= end <= buf.len()`; `buf[pos..end]` are the unconsumed bytes, and
/// `buf[pos]` sits at file offset `offset`.
pub(super) struct Input {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Index in `buf` of the first unconsumed byte.
    pub(super) pos: usize,
    end: usize,
    /// File offset of `buf[pos]`: the bytes consumed so far.
    pub(super) offset: u64,
    eof: bool,
}

impl Input {
    /// An empty buffer of [`BUFFER_LEN`] bytes in front of `reader`.
    pub(super) fn new(reader: Box<dyn Read + Send>) -> Input {
        Input {
            reader,
            buf: vec![0; BUFFER_LEN],
            pos: 0,
            end: 0,
            offset: 0,
            eof: false,
        }
    }

    /// Makes at least `want` unconsumed bytes contiguous in the buffer, unless the input
    /// ends first. Returns how many unconsumed bytes there are (possibly more than `want`).
    ///
    /// Bytes before `pos` may move, so slices from earlier calls are invalid afterwards
    /// (the borrow checker enforces this for frames). `want` is bounded by the callers (a
    /// record header plus [`MAX_CAPLEN`](super::MAX_CAPLEN), or
    /// [`MAX_BLOCK_LEN`](super::MAX_BLOCK_LEN)).
    #[inline]
    pub(super) fn fill(&mut self, want: usize) -> Result<usize, (io::Error, u64)> {
        if self.end - self.pos >= want || self.eof {
            return Ok(self.end - self.pos);
        }
        self.refill(want)
    }

    /// [`Input::fill`] when the buffer holds fewer than `want` bytes: reads more.
    #[cold]
    #[inline(never)]
    fn refill(&mut self, want: usize) -> Result<usize, (io::Error, u64)> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.pos + want > self.buf.len() {
            // Move the unconsumed tail to the front to make room behind it.
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        while self.end - self.pos < want {
            if self.end == self.buf.len() {
                // Only a block longer than the buffer gets here. Grow step by step as its
                // bytes arrive, so a damaged length costs no more memory than the file has.
                let grown = (self.buf.len() * 2).min(self.pos + want);
                self.buf.resize(grown, 0);
            }
            let space = self.buf.get_mut(self.end..).unwrap_or_default();
            let room = space.len();
            match self.reader.read(space) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                // A misbehaving reader could claim more than it was given; never trust it.
                Ok(n) => self.end += n.min(room),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let at = self.offset + (self.end - self.pos) as u64;
                    return Err((e, at));
                }
            }
        }
        Ok(self.end - self.pos)
    }

    /// The unconsumed bytes in the buffer.
    pub(super) fn available(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    /// Marks `n` bytes as consumed; they stay in the buffer until the next `fill`.
    pub(super) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.offset += n as u64;
    }

    /// Consumes up to `n` bytes without keeping them; returns how many there were.
    pub(super) fn skip(&mut self, n: u64) -> Result<u64, (io::Error, u64)> {
        let mut skipped = 0;
        while skipped < n {
            let available = self.fill(1)?;
            if available == 0 {
                break;
            }
            let step = usize::try_from(n - skipped).map_or(available, |left| left.min(available));
            self.consume(step);
            skipped += step as u64;
        }
        Ok(skipped)
    }

    /// Bytes `start..start + len` of the buffer, which an earlier `fill` made valid.
    pub(super) fn recent(&self, start: usize, len: usize) -> &[u8] {
        self.buf.get(start..start + len).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::capture::file::{FileSource, magic};

    /// A reader that hands out one byte per call and is interrupted before every byte,
    /// like a slow pipe with signals arriving.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        interrupt: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            match (self.data.get(self.at), out.first_mut()) {
                (Some(&byte), Some(slot)) => {
                    *slot = byte;
                    self.at += 1;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    /// A reader that serves `data` and then fails.
    struct Failing(Cursor<Vec<u8>>);

    impl Read for Failing {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match self.0.read(out)? {
                0 => Err(io::Error::other("the disk is on fire")),
                n => Ok(n),
            }
        }
    }

    /// A little-endian microsecond pcap with Ethernet link type and the given records
    /// (seconds, microseconds, packet bytes).
    fn pcap_file(records: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&magic::PCAP_MICROS.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes()); // major version
        out.extend_from_slice(&4u16.to_le_bytes()); // minor version
        out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        out.extend_from_slice(&65_535u32.to_le_bytes()); // snaplen
        out.extend_from_slice(&1u32.to_le_bytes()); // link type: Ethernet
        for (secs, micros, bytes) in records {
            out.extend_from_slice(&secs.to_le_bytes());
            out.extend_from_slice(&micros.to_le_bytes());
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes()); // caplen
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes()); // len
            out.extend_from_slice(bytes);
        }
        out
    }

    #[test]
    fn short_interrupted_reads_are_retried() {
        let data = pcap_file(&[(1, 2, b"abc"), (3, 4, b"defgh")]);
        let reader = Trickle {
            data,
            at: 0,
            interrupt: false,
        };
        let mut source = FileSource::from_reader("t.pcap".into(), Box::new(reader)).unwrap();
        let frame = source.next_frame().unwrap().unwrap();
        assert_eq!(frame.bytes, b"abc");
        let frame = source.next_frame().unwrap().unwrap();
        assert_eq!(frame.bytes, b"defgh");
        assert_eq!(frame.ts.secs, 3);
        assert_eq!(frame.ts.nanos, 4_000);
        assert!(source.next_frame().unwrap().is_none());
        assert_eq!(source.bytes_read(), 24 + 16 + 3 + 16 + 5);
    }

    #[test]
    fn read_failure_names_the_offset() {
        let mut data = pcap_file(&[(1, 2, b"abc")]);
        data.truncate(30);
        let reader = Failing(Cursor::new(data));
        let mut source = FileSource::from_reader("t.pcap".into(), Box::new(reader)).unwrap();
        let err = source.next_frame().unwrap_err();
        assert_eq!(err.offset(), Some(30));
        assert_eq!(
            err.to_string(),
            "t.pcap: reading failed at byte 30: the disk is on fire."
        );
        assert!(
            source.next_frame().unwrap().is_none(),
            "an error ends the source"
        );
    }

    #[test]
    fn buffer_compaction_keeps_records_whole() {
        // Records of 100 000 bytes do not divide the 1 MiB buffer evenly, so some of them
        // straddle its end and must be moved to the front.
        let packet = vec![0x5a; 100_000];
        let records: Vec<(u32, u32, &[u8])> = (0..30).map(|i| (i, 0, &packet[..])).collect();
        let data = pcap_file(&records);
        let mut source =
            FileSource::from_reader("big".into(), Box::new(Cursor::new(data))).unwrap();
        let mut count = 0;
        while let Some(frame) = source.next_frame().unwrap() {
            assert_eq!(frame.bytes, &packet[..]);
            assert_eq!(frame.ts.secs, count);
            count += 1;
        }
        assert_eq!(count, 30);
    }

    #[test]
    fn skipping_a_block_larger_than_the_buffer() {
        let mut input = Input::new(Box::new(Cursor::new(vec![7u8; 3 * BUFFER_LEN + 5])));
        assert_eq!(
            input.skip(3 * BUFFER_LEN as u64).unwrap(),
            3 * BUFFER_LEN as u64
        );
        assert_eq!(input.fill(10).unwrap(), 5);
        assert_eq!(input.skip(10).unwrap(), 5);
        assert_eq!(input.offset, 3 * BUFFER_LEN as u64 + 5);
    }
}
