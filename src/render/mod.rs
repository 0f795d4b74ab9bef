//! Renderers: they only format a [`crate::dissect::Dissection`]; they never
//! parse bytes and never decide what a packet means.
//!
//! * [`summary`]: one line per packet, like tcpdump but readable;
//! * [`table`]: one table per layer (offset, bytes, field, value, meaning), the Ethernet
//!   framing arithmetic, and a hex dump whose bytes are marked with their layer;
//! * [`json`]: JSON Lines, one object per packet, with the keys the README documents.

pub mod color;
pub mod flows;
pub mod grid;
pub mod hexdump;
pub mod json;
pub mod ladder;
pub mod parallel;
pub mod stats;
pub mod summary;
pub mod table;

use std::io::{self, Write};

use crate::capture::Timestamp;
use crate::dissect::Dissection;

/// The output forms of `wirelens read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// One line per packet.
    #[default]
    Summary,
    /// Per packet, one table per layer and a hex dump.
    Table,
    /// JSON Lines.
    Json,
}

/// What every renderer may need besides the packet itself.
#[derive(Debug)]
pub struct Context {
    /// Time of the first packet, for relative times.
    pub first_ts: Option<Timestamp>,
    /// Terminal width for tables, in columns.
    pub width: u16,
    /// A buffer the renderers reuse from packet to packet, so that building a line or a
    /// table allocates nothing once it has grown to the largest packet's size.
    pub scratch: Vec<u8>,
    /// Table drawing on a second core, started with the first table-format packet when
    /// the machine has more than one core.
    pub pool: Option<parallel::TablePool>,
    /// Whether tables may be drawn in batches on a second core (reading files); off when
    /// each packet must appear as it comes (live capture, the lab, the sender).
    pub batch: bool,
    /// Colour the summary and table formats with the layer palette of [`color`] (never
    /// JSON). A new context takes [`color::enabled`].
    pub color: bool,
}

impl Clone for Context {
    /// A copy without the drawing thread (a copy starts its own when it needs one).
    fn clone(&self) -> Context {
        Context {
            first_ts: self.first_ts,
            width: self.width,
            scratch: Vec::new(),
            pool: None,
            batch: self.batch,
            color: self.color,
        }
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::new(100)
    }
}

impl Context {
    /// A context for a capture not yet started, drawing tables `width` columns wide.
    pub fn new(width: u16) -> Context {
        Context {
            first_ts: None,
            width,
            scratch: Vec::with_capacity(4096),
            pool: None,
            batch: true,
            color: color::enabled(),
        }
    }

    /// A context whose packets appear one by one, as they are written (live capture,
    /// the lab, the sender): no tables drawn in batches on another core.
    pub fn unbatched(width: u16) -> Context {
        Context {
            batch: false,
            ..Context::new(width)
        }
    }

    /// Seconds since the first packet (0 for the first one itself).
    pub fn relative(&mut self, ts: Timestamp) -> f64 {
        let first = *self.first_ts.get_or_insert(ts);
        ts.as_secs_f64() - first.as_secs_f64()
    }
}

/// Writes one packet in the chosen format. `bytes` are the frame's captured bytes.
pub fn write_packet(
    out: &mut dyn Write,
    format: Format,
    ctx: &mut Context,
    d: &Dissection,
    bytes: &[u8],
) -> io::Result<()> {
    match format {
        Format::Summary => summary::write(out, ctx, d),
        Format::Table => {
            if ctx.pool.is_none() && ctx.batch && cores() > 1 {
                ctx.pool = parallel::TablePool::new(ctx.width, ctx.color, cores());
            }
            let rel = ctx.relative(d.ts);
            if let Some(pool) = ctx.pool.as_mut() {
                return pool.push(out, d, bytes, rel);
            }
            table::write(out, ctx, d, bytes)
        }
        Format::Json => json::write(out, ctx, d),
    }
}

/// Writes whatever the renderers still hold (table batches drawn on another core). Call
/// once after the last packet, also when the capture ended in an error.
pub fn finish(out: &mut dyn Write, ctx: &mut Context) -> io::Result<()> {
    match ctx.pool.as_mut() {
        Some(pool) => pool.finish(out),
        None => Ok(()),
    }
}

/// How many cores this process may run on. Asked once: the standard library reads
/// cgroup files to answer, which perf showed costing more than drawing a packet when it
/// was asked per packet.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

use crate::dissect::Span;
use crate::proto::{Field, FieldText};

/// One layer of a packet as the table and the hex dump show it: a heading, the byte
/// range it covers, the letter that marks its bytes in the dump, and its fields.
#[derive(Clone, Debug)]
pub struct Section {
    /// Heading, e.g. "IPv4".
    pub title: FieldText,
    /// The letter marking this layer's bytes in the hex dump.
    pub mark: char,
    /// The bytes it covers.
    pub span: Span,
    /// Its fields (empty for payload and padding).
    pub fields: Vec<Field>,
    /// True when its offsets count in the reassembled datagram's payload, not in this
    /// frame (the transport layer of a frame that completed a datagram).
    pub in_datagram: bool,
}

/// The sections of a packet, outermost first — the one list the table and the hex dump
/// are both built from, so they never disagree.
pub fn sections(d: &Dissection) -> Vec<Section> {
    let mut v = Vec::with_capacity(8);
    let in_datagram = d.ctx.datagram.is_some();
    let mut push = |title: FieldText, mark: char, offset: usize, len: usize, fields: Vec<Field>| {
        let moved = in_datagram && matches!(mark, 'T' | 'U' | 'C' | 'i' | 't' | 'u');
        v.push(Section {
            title: if moved {
                crate::proto::ftext!("{title} (from the reassembled datagram)")
            } else {
                title
            },
            mark,
            span: Span { offset, len },
            fields,
            in_datagram: moved,
        })
    };
    if let Some(e) = &d.eth {
        push("Ethernet II".into(), 'E', e.offset, 14, e.fields());
    }
    for (i, t) in d.vlan.iter().enumerate() {
        let title = if d.vlan.len() > 1 {
            crate::proto::ftext!(
                "802.1Q VLAN tag {} of {} (TPID 0x{:04x})",
                i + 1,
                d.vlan.len(),
                t.tpid
            )
        } else {
            crate::proto::ftext!("802.1Q VLAN tag (TPID 0x{:04x})", t.tpid)
        };
        push(
            title,
            'Q',
            t.offset,
            crate::proto::vlan::TAG_LEN,
            t.fields(),
        );
    }
    if let Some(a) = &d.arp {
        push("ARP".into(), 'A', a.offset, a.len(), a.fields());
    }
    if let Some(ip) = &d.ipv4 {
        push(
            "IPv4".into(),
            'I',
            ip.offset,
            usize::from(ip.ihl),
            ip.fields(),
        );
    }
    if let Some(t) = &d.tcp {
        push(
            "TCP".into(),
            'T',
            t.offset,
            usize::from(t.header_len),
            t.fields(),
        );
    }
    if let Some(u) = &d.udp {
        push(
            "UDP".into(),
            'U',
            u.offset,
            crate::proto::udp::HEADER_LEN,
            u.fields(),
        );
    }
    if let Some(ic) = &d.icmp {
        push(
            "ICMP".into(),
            'C',
            ic.offset,
            crate::proto::icmp::HEADER_LEN,
            ic.fields(),
        );
        if let Some(q) = &ic.quoted {
            if let Some(ip) = &q.ipv4 {
                push(
                    "Quoted IPv4 header (of the datagram that caused this error)".into(),
                    'i',
                    ip.offset,
                    usize::from(ip.ihl),
                    ip.fields(),
                );
            }
            if let Some(t) = &q.tcp {
                push(
                    "Quoted TCP header".into(),
                    't',
                    t.offset,
                    usize::from(t.header_len),
                    t.fields(),
                );
            }
            if let Some(u) = &q.udp {
                push(
                    "Quoted UDP header".into(),
                    'u',
                    u.offset,
                    crate::proto::udp::HEADER_LEN,
                    u.fields(),
                );
            }
        }
    }
    if let Some(o) = &d.other {
        push(
            crate::proto::ftext!("{} (not decoded)", o.name.unwrap_or("Unknown protocol")),
            'O',
            o.offset,
            o.bytes,
            Vec::new(),
        );
    }
    if let Some(p) = d.payload {
        push("Data".into(), 'P', p.offset, p.len, Vec::new());
    }
    if let Some(p) = d.trailer {
        push("Ethernet padding".into(), '-', p.offset, p.len, Vec::new());
    }
    v
}
