//! The classic libpcap file format.
//!
//! A 24-byte file header (magic, version 2.4, zone, sigfigs, snaplen, link type), then
//! records of a 16-byte header (seconds, micro- or nanoseconds, caplen, len) and caplen
//! bytes of packet. All integers are in the byte order the magic number shows, which
//! [`FileSource::from_reader`] recognises before it calls [`read_pcap_header`].

use super::input::Input;
use super::{CaptureError, Endian, FileSource, MAX_CAPLEN, Record, exceeds_snaplen};
use crate::capture::{LinkType, Timestamp};

/// Byte offsets in a classic pcap file.
mod field {
    /// Length of the file header, in bytes.
    pub const FILE_HEADER_LEN: usize = 24;
    /// File header: major version (u16).
    pub const VERSION_MAJOR: usize = 4;
    /// File header: minor version (u16).
    pub const VERSION_MINOR: usize = 6;
    /// File header: snapshot length, the most bytes kept per packet (u32).
    pub const SNAPLEN: usize = 16;
    /// File header: link type in the low 16 bits; FCS flags above (u32).
    pub const LINKTYPE: usize = 20;
    /// Mask for the link type in the header's link-type field (libpcap's `LT_LINKTYPE`).
    pub const LINKTYPE_MASK: u32 = 0xffff;
    /// The only major version there is.
    pub const SUPPORTED_MAJOR: u16 = 2;

    /// Length of a record header, in bytes.
    pub const RECORD_HEADER_LEN: usize = 16;
    /// Record header: seconds since the epoch (u32).
    pub const TS_SEC: usize = 0;
    /// Record header: micro- or nanoseconds after `TS_SEC` (u32).
    pub const TS_FRAC: usize = 4;
    /// Record header: bytes captured (u32).
    pub const CAPLEN: usize = 8;
    /// Record header: bytes on the wire (u32).
    pub const LEN: usize = 12;
}

/// What the pcap file header says.
#[derive(Clone, Copy, Debug)]
pub(super) struct PcapHeader {
    pub(super) version: (u16, u16),
    endian: Endian,
    nanos: bool,
    pub(super) snaplen: u32,
    pub(super) link: LinkType,
}

impl PcapHeader {
    /// The name and number of the units a record's fraction of a second counts.
    fn unit(self) -> (&'static str, u32) {
        if self.nanos {
            ("nano", crate::timestamp::NANOS_PER_SEC)
        } else {
            ("micro", 1_000_000)
        }
    }

    /// A record's time, or `None` when its fraction is a second or more (which the
    /// careful reader notes and carries).
    #[inline]
    fn timestamp(self, secs: u32, frac: u32) -> Option<Timestamp> {
        let (_, units_per_sec) = self.unit();
        (frac < units_per_sec).then(|| Timestamp {
            secs: i64::from(secs),
            nanos: if self.nanos { frac } else { frac * 1_000 },
        })
    }
}

/// Reads, checks and consumes a pcap file header.
pub(super) fn read_pcap_header(
    input: &mut Input,
    name: &str,
    endian: Endian,
    nanos: bool,
) -> Result<PcapHeader, CaptureError> {
    let available = input
        .fill(field::FILE_HEADER_LEN)
        .map_err(|e| CaptureError::read_failed(name, e))?;
    let head = input.available();
    let fields = endian
        .u16(head, field::VERSION_MAJOR)
        .zip(endian.u16(head, field::VERSION_MINOR))
        .zip(endian.u32(head, field::SNAPLEN))
        .zip(endian.u32(head, field::LINKTYPE));
    // The last field ends the header, so `fields` is `None` exactly when the file is
    // shorter than a header.
    let Some((((major, minor), snaplen), link)) = fields else {
        return Err(CaptureError::ShortFile {
            file: name.to_string(),
            what: "a pcap file header",
            wanted: field::FILE_HEADER_LEN as u64,
            got: available as u64,
        });
    };
    if major != field::SUPPORTED_MAJOR {
        return Err(CaptureError::BadVersion {
            file: name.to_string(),
            offset: 0,
            format: "pcap",
            major,
            minor,
            supported: field::SUPPORTED_MAJOR,
        });
    }
    input.consume(field::FILE_HEADER_LEN);
    Ok(PcapHeader {
        version: (major, minor),
        endian,
        nanos,
        snaplen,
        link: LinkType(link & field::LINKTYPE_MASK),
    })
}

impl FileSource {
    /// Notes a pcap header snapshot length that means "no limit" or is implausible.
    pub(super) fn note_header_snaplen(&mut self, snaplen: u32) {
        if snaplen == 0 {
            self.note(|| {
                format!(
                    "the file header gives a snapshot length of 0 (at byte {}); like libpcap, wirelens reads that as \"no limit\".",
                    field::SNAPLEN
                )
            });
        } else if snaplen > MAX_CAPLEN {
            self.note(|| {
                format!(
                    "the file header gives a snapshot length of {snaplen} bytes (at byte {}), more than any capture tool uses; records longer than {MAX_CAPLEN} bytes are still refused.",
                    field::SNAPLEN
                )
            });
        }
    }

    /// The next record when nothing about it needs a word, read straight from the buffer:
    /// its header and all its bytes are there, its lengths agree with each other and with
    /// the snapshot length, its fraction of a second is under a second and its time is not
    /// earlier than the last one. Otherwise `None`, having consumed nothing, and
    /// [`FileSource::read_pcap_record`] reads it, with its notes. Why: that careful path
    /// (waiting for bytes, one `Result` inside another, the checks that may note) cost
    /// ~330 instructions a record, a quarter of `flows`' reading thread (callgrind).
    #[inline]
    pub(super) fn quiet_pcap_record(&mut self, header: PcapHeader) -> Option<Record> {
        let head = self.input.available();
        let fields: &[u8; field::RECORD_HEADER_LEN] = head.first_chunk()?;
        let word = |at| header.endian.u32(fields, at);
        let (ts_sec, ts_frac) = (word(field::TS_SEC)?, word(field::TS_FRAC)?);
        let (caplen, len) = (word(field::CAPLEN)?, word(field::LEN)?);
        let total = field::RECORD_HEADER_LEN + caplen as usize;
        if caplen > len
            || caplen > MAX_CAPLEN
            || exceeds_snaplen(caplen, header.snaplen)
            || head.len() < total
        {
            return None;
        }
        let ts = header.timestamp(ts_sec, ts_frac)?;
        if self.prev_ts.is_some_and(|prev| ts < prev) {
            return None;
        }
        self.prev_ts = Some(ts);
        self.frames += 1;
        Some(self.take_pcap_record(header, ts, caplen, len))
    }

    /// Consumes the record at the front of the buffer (its header and `caplen` bytes, all
    /// there) and makes its [`Record`].
    fn take_pcap_record(
        &mut self,
        header: PcapHeader,
        ts: Timestamp,
        caplen: u32,
        len: u32,
    ) -> Record {
        let (offset, start) = (self.input.offset, self.input.pos + field::RECORD_HEADER_LEN);
        self.input
            .consume(field::RECORD_HEADER_LEN + caplen as usize);
        Record {
            offset,
            ts: Some(ts),
            caplen,
            len,
            snaplen: header.snaplen,
            link: header.link,
            interface: None,
            start,
        }
    }

    /// Reads one classic pcap record.
    pub(super) fn read_pcap_record(
        &mut self,
        header: PcapHeader,
    ) -> Result<Option<Record>, CaptureError> {
        let offset = self.input.offset;
        let frame = self.frames + 1;
        let available = self.fill(field::RECORD_HEADER_LEN)?;
        if available == 0 {
            return Ok(None);
        }
        let head = self.input.available();
        let word = |at| header.endian.u32(head, at);
        let (Some(ts_sec), Some(ts_frac), Some(caplen), Some(len)) = (
            word(field::TS_SEC),
            word(field::TS_FRAC),
            word(field::CAPLEN),
            word(field::LEN),
        ) else {
            return Err(CaptureError::TruncatedHeader {
                file: self.name.clone(),
                frame,
                offset,
                wanted: field::RECORD_HEADER_LEN as u64,
                got: available as u64,
            });
        };
        self.check_caplen(frame, offset, caplen)?;
        let total = field::RECORD_HEADER_LEN + caplen as usize;
        let available = self.fill(total)?;
        if available < total {
            return Err(CaptureError::Truncated {
                file: self.name.clone(),
                frame,
                offset,
                wanted: u64::from(caplen),
                got: (available - field::RECORD_HEADER_LEN) as u64,
            });
        }
        let ts = match header.timestamp(ts_sec, ts_frac) {
            Some(ts) => ts,
            None => {
                let (unit, units_per_sec) = header.unit();
                self.note(|| {
                    format!(
                        "record {frame} at byte {offset} gives {ts_frac} {unit}seconds after the second, which is a second or more; the surplus is carried into the seconds."
                    )
                });
                Timestamp {
                    secs: i64::from(ts_sec) + i64::from(ts_frac / units_per_sec),
                    nanos: (ts_frac % units_per_sec)
                        * (crate::timestamp::NANOS_PER_SEC / units_per_sec),
                }
            }
        };
        Ok(Some(self.take_pcap_record(header, ts, caplen, len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian microsecond pcap file of random records, most of them plain and
    /// some with what the careful reader notes: caplen above len or above the snapshot
    /// length of 64, a fraction of a second of a second or more, a time earlier than the
    /// one before, and a last record cut short.
    fn random_file(rng: &mut impl FnMut(u64) -> u64) -> Vec<u8> {
        let mut out = Vec::new();
        for word in [0xa1b2_c3d4_u32, 0x0004_0002, 0, 0, 64, 1] {
            out.extend(word.to_le_bytes());
        }
        let mut secs = 1_000u32;
        for _ in 0..rng(40) {
            secs = if rng(8) == 0 {
                secs - 1
            } else {
                secs + rng(2) as u32
            };
            let frac = if rng(8) == 0 {
                1_000_000 + rng(3_000_000)
            } else {
                rng(1_000_000)
            };
            let most = if rng(8) == 0 { 100 } else { 64 };
            let caplen = rng(most) as u32;
            let len = if rng(8) == 0 {
                caplen.saturating_sub(1)
            } else {
                caplen + rng(1_500) as u32
            };
            for word in [secs, frac as u32, caplen, len] {
                out.extend(word.to_le_bytes());
            }
            out.extend((0..caplen).map(|i| i as u8));
        }
        if rng(2) == 0 {
            let cut = out.len().saturating_sub(rng(20) as usize);
            out.truncate(cut.max(field::FILE_HEADER_LEN));
        }
        out
    }

    /// The quiet path reads a record only when the careful one reads the same record and
    /// says nothing about it; otherwise it consumes nothing, and the careful path, run
    /// next, agrees with a source that never took the quiet one.
    #[test]
    fn the_quiet_path_reads_only_records_with_nothing_to_say() {
        let mut rng = crate::testing::rng(0x5eed_f11e);
        let mut quiet_reads = 0;
        for _ in 0..300 {
            let bytes = random_file(&mut rng);
            let open = |b: &[u8]| {
                FileSource::from_reader("random".into(), Box::new(std::io::Cursor::new(b.to_vec())))
            };
            let (Ok(mut quick), Ok(mut careful)) = (open(&bytes), open(&bytes)) else {
                panic!("the random file's header could not be read");
            };
            let crate::capture::file::Kind::Pcap(header) = careful.kind else {
                panic!("the random file was not read as pcap");
            };
            loop {
                careful.notes.clear();
                let expected = careful.read_pcap_record(header);
                if let Ok(Some(r)) = &expected {
                    careful.frames += 1;
                    careful.check_record(r);
                }
                let said = !careful.notes.is_empty();
                match quick.quiet_pcap_record(header) {
                    Some(got) => {
                        quiet_reads += 1;
                        assert!(
                            !said,
                            "the quiet path read a record with notes: {:?}",
                            careful.notes
                        );
                        assert!(matches!(&expected, Ok(Some(r)) if *r == got));
                    }
                    None => {
                        quick.notes.clear();
                        let got = quick.read_pcap_record(header);
                        if let Ok(Some(r)) = &got {
                            quick.frames += 1;
                            quick.check_record(r);
                        }
                        assert_eq!(format!("{got:?}"), format!("{expected:?}"));
                        assert_eq!(quick.notes, careful.notes);
                    }
                }
                if !matches!(expected, Ok(Some(_))) {
                    break;
                }
            }
        }
        assert!(
            quiet_reads > 1_000,
            "only {quiet_reads} records took the quiet path"
        );
    }
}
