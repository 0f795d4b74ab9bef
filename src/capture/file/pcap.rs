//! The classic libpcap file format.
//!
//! A 24-byte file header (magic, version 2.4, zone, sigfigs, snaplen, link type), then
//! records of a 16-byte header (seconds, micro- or nanoseconds, caplen, len) and caplen
//! bytes of packet. All integers are in the byte order the magic number shows, which
//! [`FileSource::from_reader`] recognises before it calls [`read_pcap_header`].

use super::input::Input;
use super::{CaptureError, Endian, FileSource, MAX_CAPLEN, Record};
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
        let units_per_sec = if header.nanos {
            crate::timestamp::NANOS_PER_SEC
        } else {
            1_000_000
        };
        let ts = if ts_frac < units_per_sec {
            // Nearly every record: no division.
            Timestamp {
                secs: i64::from(ts_sec),
                nanos: if header.nanos {
                    ts_frac
                } else {
                    ts_frac * 1_000
                },
            }
        } else {
            let unit = if header.nanos { "nano" } else { "micro" };
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
        };
        let start = self.input.pos + field::RECORD_HEADER_LEN;
        self.input.consume(total);
        Ok(Some(Record {
            offset,
            ts: Some(ts),
            caplen,
            len,
            snaplen: header.snaplen,
            link: header.link,
            interface: None,
            start,
        }))
    }
}
