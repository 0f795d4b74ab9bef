//! Writing captures: classic pcap (microsecond timestamps) and pcapng (with optional
//! per-packet comments, which Wireshark shows as `frame.comment`). Used by `live -w`, the
//! sender's `-w` and annotated export.

use std::io::{self, Write};

use super::{InterfaceLabel, LinkType, Timestamp};

/// The snapshot length written in headers, in bytes (what tcpdump uses by default).
pub const SNAPLEN: u32 = 262_144;

/// Which file format to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutFormat {
    /// Classic pcap, microsecond timestamps, host byte order.
    Pcap,
    /// pcapng with one section, and one interface per link type written.
    Pcapng,
}

/// Writes frames to a capture file, in either format.
#[derive(Debug)]
pub struct CaptureWriter<W: Write> {
    out: W,
    format: OutFormat,
    /// The link type, `if_name` and `if_description` of each interface described so far
    /// (pcapng: its index is the interface number); a pcap file has exactly one.
    links: Vec<(LinkType, Option<String>, Option<String>)>,
    /// The link type the file was started with, for [`CaptureWriter::write`].
    link: LinkType,
    /// Frames written so far.
    pub frames: u64,
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a capture file on `out`: writes the file header (pcap) or the section
    /// header (pcapng; each interface is described before its first packet).
    pub fn new(mut out: W, format: OutFormat, link: LinkType) -> io::Result<Self> {
        match format {
            OutFormat::Pcap => {
                out.write_all(&0xa1b2_c3d4u32.to_ne_bytes())?;
                out.write_all(&2u16.to_ne_bytes())?;
                out.write_all(&4u16.to_ne_bytes())?;
                out.write_all(&0i32.to_ne_bytes())?; // thiszone: UTC
                out.write_all(&0u32.to_ne_bytes())?; // sigfigs
                out.write_all(&SNAPLEN.to_ne_bytes())?;
                out.write_all(&link.0.to_ne_bytes())?;
            }
            OutFormat::Pcapng => {
                // Section header block: byte-order magic, version 1.0, unknown length.
                let mut shb = Vec::with_capacity(16);
                shb.extend_from_slice(&0x1a2b_3c4du32.to_ne_bytes());
                shb.extend_from_slice(&1u16.to_ne_bytes());
                shb.extend_from_slice(&0u16.to_ne_bytes());
                shb.extend_from_slice(&(-1i64).to_ne_bytes());
                write_block(&mut out, 0x0a0d_0d0a, &shb)?;
            }
        }
        Ok(CaptureWriter {
            out,
            format,
            // pcapng describes each interface when its first packet comes, so that
            // every interface written has packets, with the name it was read with.
            links: match format {
                OutFormat::Pcap => vec![(link, None, None)],
                OutFormat::Pcapng => Vec::new(),
            },
            link,
            frames: 0,
        })
    }

    /// The interface number for frames of link type `link`: a pcapng file describes a
    /// new interface the first time a link type comes (a pcapng section may describe
    /// interfaces anywhere before their packets); a pcap file has one link type and
    /// refuses another.
    fn interface_for(&mut self, link: LinkType, label: Option<&InterfaceLabel>) -> io::Result<u32> {
        let name = label.and_then(|l| l.name.as_deref());
        let description = label.and_then(|l| l.description.as_deref());
        let same = |(l, n, d): &(LinkType, Option<String>, Option<String>)| {
            *l == link
                && (self.format == OutFormat::Pcap
                    || (n.as_deref() == name && d.as_deref() == description))
        };
        if let Some(i) = self.links.iter().position(same) {
            return Ok(u32::try_from(i).unwrap_or(u32::MAX));
        }
        match self.format {
            OutFormat::Pcap => {
                let first = self.links.first().map_or(LinkType::ETHERNET, |l| l.0);
                Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "a pcap file has one link type, {first}, and this packet is {link}; \
                         write pcapng (--pcapng), which keeps each packet's link type"
                    ),
                ))
            }
            OutFormat::Pcapng => {
                write_interface(&mut self.out, link, name, description)?;
                self.links.push((
                    link,
                    name.map(str::to_owned),
                    description.map(str::to_owned),
                ));
                Ok(u32::try_from(self.links.len() - 1).unwrap_or(u32::MAX))
            }
        }
    }

    /// Writes one frame of the link type the file was started with: its time, its
    /// captured bytes and its length on the wire, and (pcapng only) a comment.
    pub fn write(
        &mut self,
        ts: Timestamp,
        bytes: &[u8],
        wire_len: u32,
        comment: Option<&str>,
    ) -> io::Result<()> {
        self.write_link(ts, self.link, bytes, wire_len, comment)
    }

    /// As [`CaptureWriter::write`], for a frame of link type `link` (a pcapng file read
    /// back may mix them): pcapng keeps it on an interface of that link type; pcap
    /// refuses a link type other than the file's.
    pub fn write_link(
        &mut self,
        ts: Timestamp,
        link: LinkType,
        bytes: &[u8],
        wire_len: u32,
        comment: Option<&str>,
    ) -> io::Result<()> {
        self.write_on(ts, link, None, bytes, wire_len, comment)
    }

    /// As [`CaptureWriter::write_link`], for a frame read from a pcapng interface with
    /// `label`'s `if_name` and `if_description`: pcapng keeps it on an interface with the
    /// same link type, name and description.
    pub fn write_on(
        &mut self,
        ts: Timestamp,
        link: LinkType,
        label: Option<&InterfaceLabel>,
        bytes: &[u8],
        wire_len: u32,
        comment: Option<&str>,
    ) -> io::Result<()> {
        let interface = self.interface_for(link, label)?;
        let caplen = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let secs = u32::try_from(ts.secs.max(0)).unwrap_or(u32::MAX);
        let micros = ts.nanos / 1_000;
        match self.format {
            OutFormat::Pcap => {
                self.out.write_all(&secs.to_ne_bytes())?;
                self.out.write_all(&micros.to_ne_bytes())?;
                self.out.write_all(&caplen.to_ne_bytes())?;
                self.out.write_all(&wire_len.max(caplen).to_ne_bytes())?;
                self.out.write_all(bytes)?;
            }
            OutFormat::Pcapng => {
                let t = u64::from(secs) * 1_000_000 + u64::from(micros);
                let mut epb = Vec::with_capacity(20 + bytes.len() + 8);
                epb.extend_from_slice(&interface.to_ne_bytes());
                epb.extend_from_slice(&((t >> 32) as u32).to_ne_bytes());
                epb.extend_from_slice(&(t as u32).to_ne_bytes());
                epb.extend_from_slice(&caplen.to_ne_bytes());
                epb.extend_from_slice(&wire_len.max(caplen).to_ne_bytes());
                epb.extend_from_slice(bytes);
                pad4(&mut epb);
                if let Some(c) = comment {
                    push_option(&mut epb, 1, c.as_bytes());
                    push_option(&mut epb, 0, &[]);
                }
                write_block(&mut self.out, 6, &epb)?;
            }
        }
        self.frames += 1;
        Ok(())
    }

    /// Flushes what is buffered to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes an Interface Description Block: link type, snaplen, `if_name` and
/// `if_description` when given, `if_tsresol` = 6 (µs).
fn write_interface(
    out: &mut impl Write,
    link: LinkType,
    name: Option<&str>,
    description: Option<&str>,
) -> io::Result<()> {
    let mut idb = Vec::with_capacity(20);
    // The block's link type field is 16 bits wide; LINKTYPE_ numbers fit.
    idb.extend_from_slice(&u16::try_from(link.0).unwrap_or(u16::MAX).to_ne_bytes());
    idb.extend_from_slice(&0u16.to_ne_bytes());
    idb.extend_from_slice(&SNAPLEN.to_ne_bytes());
    if let Some(n) = name {
        push_option(&mut idb, 2, n.as_bytes());
    }
    if let Some(d) = description {
        push_option(&mut idb, 3, d.as_bytes());
    }
    push_option(&mut idb, 9, &[6]);
    push_option(&mut idb, 0, &[]);
    write_block(out, 1, &idb)
}

/// Pads `v` with zeros to a multiple of 4 bytes.
fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// Appends a pcapng option (code, length, value padded to 4 bytes).
fn push_option(v: &mut Vec<u8>, code: u16, value: &[u8]) {
    // Option values longer than 65,535 bytes cannot be written; cut them.
    let value = value
        .get(..value.len().min(usize::from(u16::MAX)))
        .unwrap_or(value);
    v.extend_from_slice(&code.to_ne_bytes());
    v.extend_from_slice(&(value.len() as u16).to_ne_bytes());
    v.extend_from_slice(value);
    pad4(v);
}

/// Writes one pcapng block: type, total length, body, total length again.
fn write_block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(body.len() + 12)
        .map_err(|_| io::Error::other("a pcapng block cannot be larger than 4 GiB"))?;
    out.write_all(&kind.to_ne_bytes())?;
    out.write_all(&total.to_ne_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::file::FileSource;

    fn round_trip(format: OutFormat) {
        let mut w = CaptureWriter::new(Vec::new(), format, LinkType::ETHERNET)
            .unwrap_or_else(|e| panic!("{e}"));
        let ts = Timestamp {
            secs: 1_795_000_000,
            nanos: 123_456_000,
        };
        w.write(ts, &[1, 2, 3, 4, 5], 60, Some("handshake 1/3"))
            .unwrap_or_else(|e| panic!("{e}"));
        w.write(ts, &[9; 61], 61, None)
            .unwrap_or_else(|e| panic!("{e}"));
        let bytes = w.into_inner().unwrap_or_else(|e| panic!("{e}"));
        let mut src = FileSource::from_reader("mem".into(), Box::new(std::io::Cursor::new(bytes)))
            .unwrap_or_else(|e| panic!("{e}"));
        let f = src
            .next_frame()
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|f| (f.ts, f.bytes.to_vec(), f.len));
        assert_eq!(f, Some((ts, vec![1, 2, 3, 4, 5], 60)));
        let f = src
            .next_frame()
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|f| f.bytes.len());
        assert_eq!(f, Some(61));
        assert!(src.next_frame().unwrap_or_else(|e| panic!("{e}")).is_none());
    }

    #[test]
    fn pcap_round_trips_through_our_reader() {
        round_trip(OutFormat::Pcap);
    }

    #[test]
    fn pcapng_round_trips_through_our_reader() {
        round_trip(OutFormat::Pcapng);
    }

    #[test]
    fn pcapng_keeps_each_interface_name() {
        let ts = Timestamp::default();
        let tun = InterfaceLabel {
            id: 0,
            name: Some("tun0".into()),
            description: Some("a tunnel".into()),
        };
        let mut w = CaptureWriter::new(Vec::new(), OutFormat::Pcapng, LinkType::RAW)
            .unwrap_or_else(|e| panic!("{e}"));
        for label in [Some(&tun), None, Some(&tun)] {
            w.write_on(ts, LinkType::RAW, label, &[0x45; 20], 20, None)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let bytes = w.into_inner().unwrap_or_else(|e| panic!("{e}"));
        let mut src = FileSource::from_reader("mem".into(), Box::new(std::io::Cursor::new(bytes)))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut seen = Vec::new();
        while let Some(f) = src.next_frame().unwrap_or_else(|e| panic!("{e}")) {
            let i = f.interface.cloned().unwrap_or_default();
            seen.push((i.id, i.name.map(|n| n.to_string()), i.description.is_some()));
        }
        let tun0 = Some("tun0".to_string());
        assert_eq!(
            seen,
            [(0, tun0.clone(), true), (1, None, false), (0, tun0, true)]
        );
    }

    #[test]
    fn pcapng_keeps_each_link_type_and_pcap_refuses_a_second_one() {
        let ts = Timestamp::default();
        let raw = [0x45u8; 20];
        let mut w = CaptureWriter::new(Vec::new(), OutFormat::Pcapng, LinkType::LINUX_SLL2)
            .unwrap_or_else(|e| panic!("{e}"));
        for link in [LinkType::LINUX_SLL2, LinkType::RAW, LinkType::LINUX_SLL2] {
            w.write_link(ts, link, &raw, 20, None)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let bytes = w.into_inner().unwrap_or_else(|e| panic!("{e}"));
        let mut src = FileSource::from_reader("mem".into(), Box::new(std::io::Cursor::new(bytes)))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut links = Vec::new();
        while let Some(f) = src.next_frame().unwrap_or_else(|e| panic!("{e}")) {
            links.push(f.link);
        }
        assert_eq!(
            links,
            [LinkType::LINUX_SLL2, LinkType::RAW, LinkType::LINUX_SLL2]
        );

        let mut w = CaptureWriter::new(Vec::new(), OutFormat::Pcap, LinkType::LINUX_SLL2)
            .unwrap_or_else(|e| panic!("{e}"));
        let e = w.write_link(ts, LinkType::RAW, &raw, 20, None).err();
        let e = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e.contains("one link type, Linux cooked v2 (276)") && e.contains("--pcapng"),
            "{e}"
        );
    }
}
