//! The pcapng file format.
//!
//! A sequence of blocks, each `type, total length, body, total length again`. A Section
//! Header Block starts each section and fixes its byte order; Interface Description
//! Blocks give each interface's link type and clock resolution; packets come in
//! Enhanced, Simple or (obsolete) Packet Blocks. Other known blocks are skipped without
//! being kept in memory, unknown ones with a note.

use super::error::hex_bytes;
use super::{CaptureError, Endian, FileSource, Kind, MAX_BLOCK_LEN, Record, magic};
use crate::capture::{InterfaceLabel, LinkType, Timestamp};

/// At most this many interfaces per pcapng section (a real capture has a handful).
const MAX_INTERFACES: usize = 65_536;

/// pcapng block types, and offsets measured from the start of a block.
mod block {
    /// Section Header Block.
    pub const SHB: u32 = super::magic::PCAPNG;
    /// Interface Description Block.
    pub const IDB: u32 = 0x0000_0001;
    /// Packet Block (obsolete, still written by old tools).
    pub const PB: u32 = 0x0000_0002;
    /// Simple Packet Block.
    pub const SPB: u32 = 0x0000_0003;
    /// Name Resolution Block.
    pub const NRB: u32 = 0x0000_0004;
    /// Interface Statistics Block.
    pub const ISB: u32 = 0x0000_0005;
    /// Enhanced Packet Block.
    pub const EPB: u32 = 0x0000_0006;
    /// systemd Journal Export Block.
    pub const JOURNAL: u32 = 0x0000_0009;
    /// Decryption Secrets Block.
    pub const DSB: u32 = 0x0000_000a;
    /// Custom Block that may be copied.
    pub const CUSTOM: u32 = 0x0000_0bad;
    /// Custom Block that must not be copied.
    pub const CUSTOM_NO_COPY: u32 = 0x4000_0bad;

    /// Every block: type (u32).
    pub const TYPE: usize = 0;
    /// Every block: total length, header and trailer included (u32).
    pub const TOTAL_LEN: usize = 4;
    /// Length of type + total length, in bytes.
    pub const HEADER_LEN: usize = 8;
    /// Length of the trailing copy of the total length, in bytes.
    pub const TRAILER_LEN: usize = 4;
    /// The shortest possible block: header and trailer, empty body.
    pub const MIN_LEN: u32 = 12;

    /// Section Header Block offsets.
    pub mod shb {
        /// Byte-order magic (u32).
        pub const BYTE_ORDER: usize = 8;
        /// Major version (u16).
        pub const MAJOR: usize = 12;
        /// Minor version (u16).
        pub const MINOR: usize = 14;
        /// Shortest Section Header Block: fields up to the section length, and the trailer.
        pub const MIN_LEN: u32 = 28;
        /// The only major version there is.
        pub const SUPPORTED_MAJOR: u16 = 1;
    }

    /// Interface Description Block offsets.
    pub mod idb {
        /// Link type (u16).
        pub const LINKTYPE: usize = 8;
        /// Snapshot length; 0 means no limit (u32).
        pub const SNAPLEN: usize = 12;
        /// First option.
        pub const OPTIONS: usize = 16;
        /// Shortest Interface Description Block.
        pub const MIN_LEN: u32 = 20;
    }

    /// Enhanced Packet Block offsets; the obsolete Packet Block has the same layout except
    /// that its interface id is a u16 followed by a u16 drop count.
    pub mod epb {
        /// Interface id (u32 in EPB, u16 in PB).
        pub const INTERFACE: usize = 8;
        /// Upper 32 bits of the timestamp (u32).
        pub const TS_HIGH: usize = 12;
        /// Lower 32 bits of the timestamp (u32).
        pub const TS_LOW: usize = 16;
        /// Bytes captured (u32).
        pub const CAPLEN: usize = 20;
        /// Bytes on the wire (u32).
        pub const LEN: usize = 24;
        /// First packet byte.
        pub const DATA: usize = 28;
        /// Shortest Enhanced Packet Block.
        pub const MIN_LEN: u32 = 32;
    }

    /// Simple Packet Block offsets.
    pub mod spb {
        /// Bytes on the wire (u32).
        pub const LEN: usize = 8;
        /// First packet byte.
        pub const DATA: usize = 12;
        /// Shortest Simple Packet Block.
        pub const MIN_LEN: u32 = 16;
    }
}

/// pcapng option codes used here, and option layout.
mod option {
    /// End of options.
    pub const END: u16 = 0;
    /// `if_name`: the interface's name (UTF-8).
    pub const IF_NAME: u16 = 2;
    /// `if_description`: a description of the interface (UTF-8).
    pub const IF_DESCRIPTION: u16 = 3;
    /// `if_tsresol`: one byte of timestamp resolution.
    pub const IF_TSRESOL: u16 = 9;
    /// `if_tsoffset`: signed 64-bit seconds to add to every timestamp.
    pub const IF_TSOFFSET: u16 = 14;
    /// Option header: code (u16) and value length (u16), in bytes.
    pub const HEADER_LEN: usize = 4;
    /// `if_tsresol` bit saying the rest is a power of two, not of ten.
    pub const TSRESOL_BASE2: u8 = 0x80;
    /// Default clock resolution: microseconds (units per second).
    pub const DEFAULT_UNITS_PER_SEC: u128 = 1_000_000;
}

/// The name of a pcapng block type, for messages.
fn block_name(block_type: u32) -> &'static str {
    match block_type {
        block::SHB => "Section Header Block",
        block::IDB => "Interface Description Block",
        block::PB => "Packet Block",
        block::SPB => "Simple Packet Block",
        block::NRB => "Name Resolution Block",
        block::ISB => "Interface Statistics Block",
        block::EPB => "Enhanced Packet Block",
        block::JOURNAL => "systemd Journal Export Block",
        block::DSB => "Decryption Secrets Block",
        block::CUSTOM | block::CUSTOM_NO_COPY => "Custom Block",
        _ => "block of unknown type",
    }
}

/// Does this block type carry a packet?
fn is_packet_block(block_type: u32) -> bool {
    matches!(block_type, block::EPB | block::SPB | block::PB)
}

/// One pcapng interface, from its Interface Description Block.
#[derive(Clone, Copy, Debug)]
pub(super) struct Interface {
    link: LinkType,
    /// 0 means no limit.
    snaplen: u32,
    /// Timestamp units per second (10^6 unless `if_tsresol` says otherwise).
    units_per_sec: u128,
    /// Seconds to add to every timestamp (`if_tsoffset`).
    ts_offset: i64,
}

impl Interface {
    /// Turns a timestamp in this interface's units into a [`Timestamp`].
    fn timestamp(&self, units: u64) -> Timestamp {
        let units = u128::from(units);
        let per_sec = self.units_per_sec.max(1);
        let secs = i64::try_from(units / per_sec).unwrap_or(i64::MAX);
        // remainder < per_sec <= 2^127, and per_sec > 2^64 > units when that large, so
        // the product stays below 2^64 * 10^9 < 2^128.
        let nanos = (units % per_sec) * u128::from(crate::timestamp::NANOS_PER_SEC) / per_sec;
        Timestamp {
            secs: secs.saturating_add(self.ts_offset),
            nanos: u32::try_from(nanos).unwrap_or(0),
        }
    }
}

/// The state of a pcapng section.
#[derive(Debug)]
pub(super) struct Section {
    pub(super) endian: Endian,
    pub(super) interfaces: Vec<Interface>,
    /// Each interface's number, `if_name` and `if_description`, by number.
    pub(super) labels: Vec<InterfaceLabel>,
}

impl FileSource {
    /// The current pcapng section; only called while reading pcapng.
    fn section(&self) -> Option<&Section> {
        match &self.kind {
            Kind::Pcapng(section) => Some(section),
            Kind::Pcap(_) => None,
        }
    }

    /// Byte order of the current pcapng section.
    fn section_endian(&self) -> Endian {
        self.section().map_or(Endian::Little, |s| s.endian)
    }

    /// A `BadBlock` error for the block at `offset`.
    fn bad_block(&self, offset: u64, frame: Option<u64>, why: String) -> CaptureError {
        CaptureError::BadBlock {
            file: self.name.clone(),
            offset,
            frame,
            why,
        }
    }

    /// Blocks until the next packet block, which is read; `None` at the end of the file.
    pub(super) fn read_pcapng_record(&mut self) -> Result<Option<Record>, CaptureError> {
        loop {
            let offset = self.input.offset;
            let Some((block_type, total_len)) = self.block_header(offset)? else {
                return Ok(None);
            };
            match block_type {
                block::SHB => self.read_section_header(offset)?,
                block::IDB => self.read_interface(offset, total_len)?,
                block::EPB | block::PB | block::SPB => {
                    return self
                        .read_packet_block(offset, block_type, total_len)
                        .map(Some);
                }
                block::NRB
                | block::ISB
                | block::JOURNAL
                | block::DSB
                | block::CUSTOM
                | block::CUSTOM_NO_COPY => self.skip_block(offset, block_type, total_len)?,
                _ => {
                    self.note(|| {
                        format!(
                            "pcapng block type 0x{block_type:08x} at byte {offset} is unknown and was skipped."
                        )
                    });
                    self.skip_block(offset, block_type, total_len)?;
                }
            }
        }
    }

    /// Reads the interface blocks that follow a section header, so that the link type is
    /// known right after opening.
    pub(super) fn read_leading_interfaces(&mut self) -> Result<(), CaptureError> {
        loop {
            let available = self.fill(block::HEADER_LEN)?;
            let endian = self.section_endian();
            if available < block::HEADER_LEN
                || endian.u32(self.input.available(), block::TYPE) != Some(block::IDB)
            {
                return Ok(());
            }
            let offset = self.input.offset;
            if let Some((_, total_len)) = self.block_header(offset)? {
                self.read_interface(offset, total_len)?;
            }
        }
    }

    /// Reads and checks a block's type and total length without consuming anything.
    /// `None` at a clean end of file.
    fn block_header(&mut self, offset: u64) -> Result<Option<(u32, usize)>, CaptureError> {
        let available = self.fill(block::HEADER_LEN)?;
        if available == 0 {
            return Ok(None);
        }
        let endian = self.section_endian();
        let head = self.input.available();
        let block_type = endian.u32(head, block::TYPE);
        if block_type == Some(block::SHB) {
            // Its length is in the byte order its body announces; read_section_header checks it.
            return Ok(Some((block::SHB, 0)));
        }
        let Some((block_type, total_len)) = block_type.zip(endian.u32(head, block::TOTAL_LEN))
        else {
            return Err(self.truncated_block(
                offset,
                block_type,
                block::MIN_LEN as usize,
                available,
            ));
        };
        let total_len = self.check_block_len(offset, block_type, total_len)?;
        Ok(Some((block_type, total_len)))
    }

    /// Checks a block's total length against the format's rules and our limit.
    fn check_block_len(
        &self,
        offset: u64,
        block_type: u32,
        total_len: u32,
    ) -> Result<usize, CaptureError> {
        let name = block_name(block_type);
        let min_len = match block_type {
            block::SHB => block::shb::MIN_LEN,
            block::IDB => block::idb::MIN_LEN,
            block::EPB | block::PB => block::epb::MIN_LEN,
            block::SPB => block::spb::MIN_LEN,
            _ => block::MIN_LEN,
        };
        let frame = is_packet_block(block_type).then_some(self.frames + 1);
        let why = if total_len < min_len {
            format!(
                "this {name} says it is {total_len} bytes long, but it needs at least {min_len}"
            )
        } else if !total_len.is_multiple_of(4) {
            format!(
                "this {name} says it is {total_len} bytes long, which is not a multiple of 4 as every block length must be"
            )
        } else if total_len > MAX_BLOCK_LEN {
            format!(
                "this {name} says it is {total_len} bytes long, more than the {MAX_BLOCK_LEN} bytes wirelens accepts for one block"
            )
        } else {
            return Ok(total_len as usize);
        };
        Err(self.bad_block(offset, frame, why))
    }

    /// A `TruncatedBlock` error.
    fn truncated_block(
        &self,
        offset: u64,
        block_type: Option<u32>,
        wanted: usize,
        got: usize,
    ) -> CaptureError {
        let (what, frame) = match block_type {
            Some(t) if is_packet_block(t) => {
                let frame = self.frames + 1;
                (format!("{} (record {frame})", block_name(t)), Some(frame))
            }
            Some(t) => (block_name(t).to_string(), None),
            None => ("pcapng block".to_string(), None),
        };
        CaptureError::TruncatedBlock {
            file: self.name.clone(),
            what,
            frame,
            offset,
            wanted: wanted as u64,
            got: got as u64,
        }
    }

    /// Makes a whole block (whose length was checked) available and checks its trailer.
    /// The block stays unconsumed.
    fn load_block(
        &mut self,
        offset: u64,
        block_type: u32,
        total_len: usize,
    ) -> Result<(), CaptureError> {
        let available = self.fill(total_len)?;
        if available < total_len {
            return Err(self.truncated_block(offset, Some(block_type), total_len, available));
        }
        let endian = self.section_endian();
        let trailer = endian.u32(self.input.available(), total_len - block::TRAILER_LEN);
        self.check_trailer(offset, block_type, total_len, trailer)
    }

    /// Checks the trailing copy of a block's length.
    fn check_trailer(
        &self,
        offset: u64,
        block_type: u32,
        total_len: usize,
        trailer: Option<u32>,
    ) -> Result<(), CaptureError> {
        if trailer.map(|t| t as usize) == Some(total_len) {
            return Ok(());
        }
        let frame = is_packet_block(block_type).then_some(self.frames + 1);
        let found = trailer.map_or_else(|| "nothing".to_string(), |t| t.to_string());
        let why = format!(
            "this {} starts by saying it is {total_len} bytes long but ends by saying {found}; the two lengths must match",
            block_name(block_type)
        );
        Err(self.bad_block(offset, frame, why))
    }

    /// Skips a block without keeping it in memory (it may be up to [`MAX_BLOCK_LEN`]).
    fn skip_block(
        &mut self,
        offset: u64,
        block_type: u32,
        total_len: usize,
    ) -> Result<(), CaptureError> {
        let body = (total_len - block::TRAILER_LEN) as u64;
        let skipped = self
            .input
            .skip(body)
            .map_err(|e| CaptureError::read_failed(&self.name, e))?;
        let available = self.fill(block::TRAILER_LEN)?;
        let got = skipped as usize + available.min(block::TRAILER_LEN);
        if got < total_len {
            return Err(self.truncated_block(offset, Some(block_type), total_len, got));
        }
        let trailer = self.section_endian().u32(self.input.available(), 0);
        self.check_trailer(offset, block_type, total_len, trailer)?;
        self.input.consume(block::TRAILER_LEN);
        Ok(())
    }

    /// Reads a Section Header Block at the current position: byte order, version, and a
    /// fresh interface list.
    pub(super) fn read_section_header(&mut self, offset: u64) -> Result<(), CaptureError> {
        let wanted = block::shb::BYTE_ORDER + 4;
        let available = self.fill(wanted)?;
        let head = self.input.available();
        let endian = match head.get(block::shb::BYTE_ORDER..wanted) {
            Some(bom) if Endian::Big.u32(bom, 0) == Some(magic::BYTE_ORDER) => Endian::Big,
            Some(bom) if Endian::Little.u32(bom, 0) == Some(magic::BYTE_ORDER) => Endian::Little,
            Some(bom) => {
                let why = format!(
                    "this Section Header Block has the byte-order magic {}, but it must be 1a 2b 3c 4d (big-endian) or 4d 3c 2b 1a (little-endian)",
                    hex_bytes(bom)
                );
                return Err(self.bad_block(offset, None, why));
            }
            None => {
                return Err(self.truncated_block(
                    offset,
                    Some(block::SHB),
                    block::shb::MIN_LEN as usize,
                    available,
                ));
            }
        };
        let total_len = endian.u32(head, block::TOTAL_LEN).unwrap_or(0);
        let total_len = self.check_block_len(offset, block::SHB, total_len)?;
        let major = endian.u16(head, block::shb::MAJOR);
        let minor = endian.u16(head, block::shb::MINOR);
        if let Kind::Pcapng(section) = &mut self.kind {
            section.endian = endian;
        }
        self.load_block(offset, block::SHB, total_len)?;
        let (major, minor) = major.zip(minor).unwrap_or((0, 0));
        if major != block::shb::SUPPORTED_MAJOR {
            return Err(CaptureError::BadVersion {
                file: self.name.clone(),
                offset,
                format: "pcapng section",
                major,
                minor,
                supported: block::shb::SUPPORTED_MAJOR,
            });
        }
        if let Kind::Pcapng(section) = &mut self.kind {
            section.interfaces.clear();
            section.labels.clear();
        }
        self.described.0 += 1;
        self.input.consume(total_len);
        Ok(())
    }

    /// Reads an Interface Description Block whose length was checked.
    fn read_interface(&mut self, offset: u64, total_len: usize) -> Result<(), CaptureError> {
        self.load_block(offset, block::IDB, total_len)?;
        let endian = self.section_endian();
        let Some(block) = self.input.available().get(..total_len) else {
            return Err(self.truncated_block(offset, Some(block::IDB), total_len, 0));
        };
        let (interface, mut label, remark) = parse_interface(block, endian, offset);
        let count = self.section().map_or(0, |s| s.interfaces.len());
        if count >= MAX_INTERFACES {
            let why = format!(
                "this Interface Description Block would be interface number {count} of its section, but wirelens accepts at most {MAX_INTERFACES}"
            );
            return Err(self.bad_block(offset, None, why));
        }
        if let Some(remark) = remark {
            self.note(|| remark);
        }
        if let Kind::Pcapng(section) = &mut self.kind {
            label.id = u32::try_from(section.interfaces.len()).unwrap_or(u32::MAX);
            section.interfaces.push(interface);
            section.labels.push(label);
        }
        self.first_link.get_or_insert(interface.link);
        self.described.1 += 1;
        self.input.consume(total_len);
        Ok(())
    }

    /// Reads an Enhanced, Simple or obsolete Packet Block whose length was checked.
    fn read_packet_block(
        &mut self,
        offset: u64,
        block_type: u32,
        total_len: usize,
    ) -> Result<Record, CaptureError> {
        let frame = self.frames + 1;
        self.load_block(offset, block_type, total_len)?;
        let endian = self.section_endian();
        let block = self.input.available().get(..total_len).unwrap_or_default();
        let fields = parse_packet_block(block, block_type, endian);
        let name = block_name(block_type);
        let Some(fields) = fields else {
            let why = format!("this {name} (record {frame}) is too short for its fields");
            return Err(self.bad_block(offset, Some(frame), why));
        };
        let interfaces = self.section().map_or(&[][..], |s| &s.interfaces[..]);
        let Some(interface) = interfaces.get(fields.interface as usize).copied() else {
            let why = format!(
                "this {name} (record {frame}) refers to interface {}, but its section describes only {} interface(s) before it",
                fields.interface,
                interfaces.len()
            );
            return Err(self.bad_block(offset, Some(frame), why));
        };
        let room = total_len - block::TRAILER_LEN - fields.data;
        let caplen = match fields.caplen {
            Some(caplen) => caplen,
            // A Simple Packet Block holds min(len, snaplen) bytes, padded to 4.
            None => {
                let mut caplen = fields.len.min(u32::try_from(room).unwrap_or(u32::MAX));
                if interface.snaplen != 0 {
                    caplen = caplen.min(interface.snaplen);
                }
                caplen
            }
        };
        self.check_caplen(frame, offset, caplen)?;
        if caplen as usize > room {
            let why = format!(
                "this {name} (record {frame}) says it captured {caplen} bytes, but the block has room for only {room}"
            );
            return Err(self.bad_block(offset, Some(frame), why));
        }
        let start = self.input.pos + fields.data;
        self.input.consume(total_len);
        Ok(Record {
            offset,
            ts: fields.ts.map(|units| interface.timestamp(units)),
            caplen,
            len: fields.len,
            snaplen: interface.snaplen,
            link: interface.link,
            interface: Some(fields.interface),
            start,
        })
    }
}

/// Parses an Interface Description Block (whole block, trailer included), with its
/// `if_name` and `if_description` (its number is left 0 for the caller to set). Problems
/// with its options do not stop reading; the first one is returned as a note.
fn parse_interface(
    block: &[u8],
    endian: Endian,
    offset: u64,
) -> (Interface, InterfaceLabel, Option<String>) {
    let mut label = InterfaceLabel::default();
    let mut interface = Interface {
        link: LinkType(endian.u16(block, block::idb::LINKTYPE).map_or(0, u32::from)),
        snaplen: endian.u32(block, block::idb::SNAPLEN).unwrap_or(0),
        units_per_sec: option::DEFAULT_UNITS_PER_SEC,
        ts_offset: 0,
    };
    let options_end = block.len().saturating_sub(block::TRAILER_LEN);
    let options = block
        .get(block::idb::OPTIONS..options_end)
        .unwrap_or_default();
    let mut remark = None;
    let mut at = 0;
    while at < options.len() {
        let (Some(code), Some(len)) = (endian.u16(options, at), endian.u16(options, at + 2)) else {
            remark = Some(format!(
                "the Interface Description Block at byte {offset} ends in the middle of an option header; the rest of its options were ignored."
            ));
            break;
        };
        if code == option::END {
            break;
        }
        let value_at = at + option::HEADER_LEN;
        let Some(value) = options.get(value_at..value_at + usize::from(len)) else {
            remark = Some(format!(
                "option {code} of the Interface Description Block at byte {offset} says it is {len} bytes long, which runs past the end of the block; the rest of its options were ignored."
            ));
            break;
        };
        match (code, value) {
            (option::IF_TSRESOL, &[resolution]) => match units_per_sec(resolution) {
                Some(units) => interface.units_per_sec = units,
                None => {
                    remark = Some(format!(
                        "the Interface Description Block at byte {offset} gives the timestamp resolution 0x{resolution:02x}, which is too fine to represent; microseconds are assumed."
                    ));
                }
            },
            (option::IF_TSOFFSET, _) => {
                interface.ts_offset = endian.i64(value, 0).unwrap_or(0);
            }
            (option::IF_NAME, _) => label.name = Some(option_text(value).into()),
            (option::IF_DESCRIPTION, _) => label.description = Some(option_text(value).into()),
            _ => {}
        }
        // Option values are padded to a multiple of 4 bytes.
        at = value_at + usize::from(len).next_multiple_of(4);
    }
    (interface, label, remark)
}

/// A UTF-8 option value, without the NUL padding some writers add; invalid bytes are
/// shown as U+FFFD.
fn option_text(value: &[u8]) -> String {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(value.get(..end).unwrap_or_default()).into_owned()
}

/// Timestamp units per second for an `if_tsresol` value: 10^-n, or 2^-n with the top bit
/// set. `None` if the count does not fit in a u128.
fn units_per_sec(resolution: u8) -> Option<u128> {
    let exponent = u32::from(resolution & !option::TSRESOL_BASE2);
    if resolution & option::TSRESOL_BASE2 != 0 {
        2u128.checked_pow(exponent)
    } else {
        10u128.checked_pow(exponent)
    }
}

/// The fields of a packet block, as stored.
#[derive(Clone, Copy, Debug)]
struct PacketFields {
    interface: u32,
    /// Timestamp in interface units; `None` for a Simple Packet Block.
    ts: Option<u64>,
    /// `None` for a Simple Packet Block, which has no caplen field.
    caplen: Option<u32>,
    len: u32,
    /// Offset of the first packet byte in the block.
    data: usize,
}

/// Reads the fixed fields of an Enhanced, Simple or obsolete Packet Block; `None` if the
/// block is too short for them (the length checks make that impossible, but never panic).
fn parse_packet_block(block: &[u8], block_type: u32, endian: Endian) -> Option<PacketFields> {
    use block::{epb, spb};
    if block_type == block::SPB {
        return Some(PacketFields {
            interface: 0,
            ts: None,
            caplen: None,
            len: endian.u32(block, spb::LEN)?,
            data: spb::DATA,
        });
    }
    let interface = if block_type == block::PB {
        u32::from(endian.u16(block, epb::INTERFACE)?)
    } else {
        endian.u32(block, epb::INTERFACE)?
    };
    let high = u64::from(endian.u32(block, epb::TS_HIGH)?);
    let low = u64::from(endian.u32(block, epb::TS_LOW)?);
    Some(PacketFields {
        interface,
        ts: Some(high << 32 | low),
        caplen: Some(endian.u32(block, epb::CAPLEN)?),
        len: endian.u32(block, epb::LEN)?,
        data: epb::DATA,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        assert_eq!(units_per_sec(6), Some(1_000_000));
        assert_eq!(units_per_sec(9), Some(1_000_000_000));
        assert_eq!(units_per_sec(0x86), Some(64));
        assert_eq!(units_per_sec(38), Some(10u128.pow(38)));
        assert_eq!(units_per_sec(39), None);
        assert_eq!(units_per_sec(0xff), Some(1 << 127));
        let interface = |units_per_sec| Interface {
            link: LinkType::ETHERNET,
            snaplen: 0,
            units_per_sec,
            ts_offset: 0,
        };
        let t = interface(64).timestamp(65);
        assert_eq!((t.secs, t.nanos), (1, 15_625_000));
        let t = interface(1 << 127).timestamp(u64::MAX);
        assert_eq!(t.secs, 0);
        let t = interface(1).timestamp(u64::MAX);
        assert_eq!(t.secs, i64::MAX);
        let mut shifted = interface(1_000);
        shifted.ts_offset = -10;
        let t = shifted.timestamp(1_500);
        assert_eq!((t.secs, t.nanos), (-9, 500_000_000));
    }
}
