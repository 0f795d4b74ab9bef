//! Renderers: they only format a [`crate::dissect::Dissection`]; they never
//! parse bytes and never decide what a packet means.
//!
//! * [`summary`]: one line per packet, like tcpdump but readable;
//! * [`table`]: one table per layer (offset, bytes, field, value, meaning), the Ethernet
//!   framing arithmetic, what analysis adds ([`story`]: the TCP connection, the request
//!   a reply answers), and a hex dump whose bytes are marked with their layer;
//! * [`json`]: JSON Lines, one object per packet, with the keys the README documents.

pub mod color;
pub mod flows;
pub mod grid;
pub mod hexdump;
pub mod json;
pub mod ladder;
pub mod parallel;
pub mod parquet;
pub mod stats;
pub mod story;
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
    /// Table-format output of a file read on one core, gathered until it is worth a
    /// write (see [`finish`], which writes what is left).
    pub gathered: Vec<u8>,
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
            gathered: Vec::new(),
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
            gathered: Vec::new(),
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
            if !ctx.batch {
                return table::write(out, ctx, d, bytes);
            }
            // One core, reading a file: packets gather in `ctx.gathered` and go out in
            // writes of at least `out`'s usual buffer size, which a `BufWriter` passes
            // straight through instead of copying the ~20 KB of each packet once more.
            table::render(
                &mut ctx.gathered,
                usize::from(ctx.width),
                ctx.color,
                rel,
                d,
                bytes,
            );
            if ctx.gathered.len() >= GATHERED_TABLES {
                return write_gathered(out, ctx);
            }
            Ok(())
        }
        Format::Json => json::write(out, ctx, d),
    }
}

/// Writes whatever the renderers still hold (table batches drawn on another core). Call
/// once after the last packet, also when the capture ended in an error.
pub fn finish(out: &mut dyn Write, ctx: &mut Context) -> io::Result<()> {
    write_gathered(out, ctx)?;
    match ctx.pool.as_mut() {
        Some(pool) => pool.finish(out),
        None => Ok(()),
    }
}

/// Writes and empties the table-format output gathered in `ctx`.
fn write_gathered(out: &mut dyn Write, ctx: &mut Context) -> io::Result<()> {
    if ctx.gathered.is_empty() {
        return Ok(());
    }
    let result = out.write_all(&ctx.gathered);
    ctx.gathered.clear();
    result
}

/// Bytes of table-format output gathered before they are written, on one core: at least
/// the 64 KiB buffer `main` gives stdout, so that each write passes through it.
const GATHERED_TABLES: usize = 1 << 17;

/// How many cores this process may run on. Asked once: the standard library reads
/// cgroup files to answer, which perf showed costing more than drawing a packet when it
/// was asked per packet.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

use crate::dissect::{Role, Span};
use crate::proto::{Field, FieldText, ftext};

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
    /// Where it sits in the TCP/IP and OSI models, as the table heading names it; `None`
    /// where naming a layer would be false (see [`crate::proto::Layer::heading_model`]).
    pub model: Option<crate::proto::Model>,
    /// The colour family of its layer.
    pub hue: crate::proto::Hue,
    /// True for a header quoted inside an ICMP error (drawn faint).
    pub quoted: bool,
    /// True when its offsets count in the reassembled datagram's payload, not in this
    /// frame (the transport layer of a frame that completed a datagram).
    pub in_datagram: bool,
}

/// The sections of a packet, outermost first — the one list the table and the hex dump
/// are both built from, so they never disagree. Built from the packet's layers alone:
/// a quoted header is marked with the lower-case letter of its layer, a header decoded
/// from a reassembled datagram says so, and a layer that repeats (stacked VLAN tags) is
/// numbered.
pub fn sections(d: &Dissection) -> Vec<Section> {
    let layers = d.layers();
    let mut v = Vec::with_capacity(layers.len());
    let mut first_quoted = true;
    for (i, l) in layers.iter().enumerate() {
        let layer = l.layer;
        let span = layer.span();
        let (title, mark) = match l.role {
            Role::Frame => {
                // The same protocol twice (stacked VLAN tags). Key and name both: an
                // IPv6 extension header shares the IPv6 header's key but is no second
                // IPv6 header.
                let (key, name) = (layer.key(), layer.name());
                let same_as = |o: &&crate::dissect::LayerRef<'_>| {
                    o.role == Role::Frame && o.layer.key() == key && o.layer.name() == name
                };
                let same = layers.iter().filter(same_as);
                let count = same.clone().count();
                let title = layer.title();
                if count > 1 {
                    let k = layers.iter().take(i + 1).filter(same_as).count();
                    let (head, tail) = title.split_once(" (").unwrap_or((&title, ""));
                    let paren = if tail.is_empty() { "" } else { " (" };
                    (ftext!("{head} {k} of {count}{paren}{tail}"), layer.mark())
                } else {
                    (title, layer.mark())
                }
            }
            Role::Quoted => {
                let title = if std::mem::take(&mut first_quoted) {
                    ftext!(
                        "Quoted {} header (of the datagram that caused this error)",
                        layer.name()
                    )
                } else {
                    ftext!("Quoted {} header", layer.name())
                };
                (title, layer.mark().to_ascii_lowercase())
            }
            Role::Reassembled => (
                ftext!("{} (from the reassembled datagram)", layer.title()),
                layer.mark(),
            ),
        };
        v.push(Section {
            title,
            mark,
            span,
            fields: layer.fields(),
            model: layer.heading_model(),
            hue: layer.hue(),
            quoted: l.role == Role::Quoted,
            in_datagram: l.role == Role::Reassembled,
        });
    }
    v
}
