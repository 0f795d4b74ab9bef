//! Why a capture file could not be opened or read further: [`CaptureError`], and the
//! helpers that put its messages into words a student understands.

use std::io;
use std::path::PathBuf;

use super::{MAX_CAPLEN, magic};

/// Why a capture file could not be opened or read further.
///
/// Every message is a full sentence naming the file and, where it applies, the record
/// (frame) number and the byte offset in the file.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened.
    #[error("{}: cannot open the capture file: {}.", path.display(), io_reason(source))]
    Open {
        /// The path as given.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file has no bytes at all.
    #[error("{file}: the file is empty, so there are no packets to read.")]
    Empty {
        /// The file's name.
        file: String,
    },
    /// The file ends before its first header is complete.
    #[error(
        "{file}: the file is only {got} bytes long, too short for {what}, which needs {wanted} bytes."
    )]
    ShortFile {
        /// The file's name.
        file: String,
        /// What did not fit, e.g. "a pcap file header".
        what: &'static str,
        /// Bytes needed.
        wanted: u64,
        /// Bytes the file has.
        got: u64,
    },
    /// The first four bytes are no capture magic number.
    #[error(
        "{file}: this is not a capture file: the first four bytes are {}, not a pcap or pcapng magic number.{}",
        hex_bytes(magic),
        magic_hint(magic)
    )]
    BadMagic {
        /// The file's name.
        file: String,
        /// The first four bytes of the file.
        magic: [u8; 4],
    },
    /// The file or section header has a version this reader does not know.
    #[error(
        "{file}: the {format} header at byte {offset} says version {major}.{minor}, but wirelens reads only version {supported}.x."
    )]
    BadVersion {
        /// The file's name.
        file: String,
        /// Byte offset of the header in the file.
        offset: u64,
        /// "pcap" or "pcapng section".
        format: &'static str,
        /// Major version found.
        major: u16,
        /// Minor version found.
        minor: u16,
        /// The major version supported.
        supported: u16,
    },
    /// The file ends inside a pcap record header.
    #[error(
        "{file}: record {frame} at byte {offset} is truncated: a record header is {wanted} bytes long but the file ends after {got}."
    )]
    TruncatedHeader {
        /// The file's name.
        file: String,
        /// Record number, from 1.
        frame: u64,
        /// Byte offset of the record in the file.
        offset: u64,
        /// Bytes a record header needs.
        wanted: u64,
        /// Bytes the file still had.
        got: u64,
    },
    /// The file ends inside a pcap record's packet bytes.
    #[error(
        "{file}: record {frame} at byte {offset} is truncated: its header says {wanted} bytes were captured but the file ends after {got} ({} bytes are missing).",
        wanted.saturating_sub(*got)
    )]
    Truncated {
        /// The file's name.
        file: String,
        /// Record number, from 1.
        frame: u64,
        /// Byte offset of the record (its header) in the file.
        offset: u64,
        /// Packet bytes the record header announces.
        wanted: u64,
        /// Packet bytes the file still had.
        got: u64,
    },
    /// The file ends inside a pcapng block.
    #[error(
        "{file}: the {what} at byte {offset} is truncated: it needs {wanted} bytes but the file ends after {got} ({} bytes are missing).",
        wanted.saturating_sub(*got)
    )]
    TruncatedBlock {
        /// The file's name.
        file: String,
        /// Which block, e.g. "Enhanced Packet Block (record 5)".
        what: String,
        /// The record number when the block holds a packet.
        frame: Option<u64>,
        /// Byte offset of the block in the file.
        offset: u64,
        /// Bytes the block needs.
        wanted: u64,
        /// Bytes the file still had.
        got: u64,
    },
    /// A record claims more captured bytes than any real capture holds.
    #[error(
        "{file}: record {frame} at byte {offset} claims {caplen} captured bytes, more than the {max} bytes wirelens accepts for one packet; the file is probably damaged here.",
        max = MAX_CAPLEN
    )]
    RecordTooLong {
        /// The file's name.
        file: String,
        /// Record number, from 1.
        frame: u64,
        /// Byte offset of the record in the file.
        offset: u64,
        /// The captured length the record claims.
        caplen: u32,
    },
    /// A pcapng block breaks the format's rules.
    #[error("{file}: the pcapng block at byte {offset} is damaged: {why}.")]
    BadBlock {
        /// The file's name.
        file: String,
        /// Byte offset of the block in the file.
        offset: u64,
        /// The record number when the block holds a packet.
        frame: Option<u64>,
        /// What is wrong, as the end of a sentence.
        why: String,
    },
    /// Reading failed.
    #[error("{file}: reading failed at byte {offset}: {}.", io_reason(source))]
    Io {
        /// The file's name.
        file: String,
        /// Byte offset where the read was attempted.
        offset: u64,
        /// What the operating system said.
        source: io::Error,
    },
}

impl CaptureError {
    /// The [`CaptureError::Io`] for a read of `file` that failed, given as the buffered
    /// reader reports it: what the operating system said, and the byte offset.
    pub(super) fn read_failed(file: &str, (source, offset): (io::Error, u64)) -> CaptureError {
        CaptureError::Io {
            file: file.to_string(),
            offset,
            source,
        }
    }

    /// The byte offset in the file where the problem is, if there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Open { .. } | CaptureError::Empty { .. } => None,
            CaptureError::ShortFile { .. } | CaptureError::BadMagic { .. } => Some(0),
            CaptureError::BadVersion { offset, .. }
            | CaptureError::TruncatedHeader { offset, .. }
            | CaptureError::Truncated { offset, .. }
            | CaptureError::TruncatedBlock { offset, .. }
            | CaptureError::RecordTooLong { offset, .. }
            | CaptureError::BadBlock { offset, .. }
            | CaptureError::Io { offset, .. } => Some(*offset),
        }
    }

    /// The number (from 1) of the packet record the problem is in, if it is in one.
    pub fn frame(&self) -> Option<u64> {
        match self {
            CaptureError::TruncatedHeader { frame, .. }
            | CaptureError::Truncated { frame, .. }
            | CaptureError::RecordTooLong { frame, .. } => Some(*frame),
            CaptureError::TruncatedBlock { frame, .. } | CaptureError::BadBlock { frame, .. } => {
                *frame
            }
            _ => None,
        }
    }
}

/// The operating system's reason in words a student knows, for the common cases.
fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "there is no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission was denied".to_string(),
        io::ErrorKind::IsADirectory => "it is a directory, not a file".to_string(),
        _ => error.to_string(),
    }
}

/// "7f 45 4c 46".
pub(super) fn hex_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// An extra sentence for magic numbers we can recognise but not read.
fn magic_hint(magic: &[u8; 4]) -> &'static str {
    let le = u32::from_le_bytes(*magic);
    let be = u32::from_be_bytes(*magic);
    if magic.starts_with(&magic::GZIP) {
        " It looks gzip-compressed: decompress it first (gunzip)."
    } else if le == magic::PCAP_MODIFIED || be == magic::PCAP_MODIFIED {
        " It is the old \"modified pcap\" format, which wirelens does not read: convert it with editcap."
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use crate::capture::file::FileSource;

    #[test]
    fn magic_hints() {
        let err = FileSource::from_reader(
            "x.pcap.gz".into(),
            Box::new(Cursor::new(vec![0x1f, 0x8b, 8, 0, 0, 0])),
        )
        .unwrap_err();
        assert!(err.to_string().contains("gzip"), "{err}");
    }
}
