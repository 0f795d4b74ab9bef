//! The one pipeline every mode shares: source → dissect → render, into a buffered writer.

use std::io::{self, Write};
use std::path::Path;

use crate::analysis::Analyzer;
use crate::analysis::flowtable::TrackerConfig;
use crate::analysis::reassembly::ReassemblyConfig;
use crate::capture::LinkType;
use crate::capture::file::{CaptureError, FileSource};
use crate::dissect::{Dissection, dissect};
use crate::render::ladder::{self, Rung};
use crate::render::{self, Context, Format, flows};

/// How `wirelens read` should show a capture.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Output form.
    pub format: Format,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Table width in columns.
    pub width: u16,
    /// Reassemble fragmented IPv4 datagrams (`None`: the format's default — on for
    /// summary and table, off for JSON so raw fields stay per packet).
    pub reassemble: Option<bool>,
    /// Seconds of capture time a fragmented datagram may take to complete.
    pub reassembly_timeout: f64,
}

impl ReadOptions {
    fn analyzer(&self) -> Analyzer {
        let on = self.reassemble.unwrap_or(self.format != Format::Json);
        Analyzer::new(
            TrackerConfig::default(),
            on.then_some(ReassemblyConfig {
                timeout: self.reassembly_timeout,
                ..ReassemblyConfig::default()
            }),
        )
    }
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The capture could not be opened or read on.
    #[error("{0}")]
    Capture(#[from] CaptureError),
    /// The capture's link type is not one we decode.
    #[error(
        "{file}: link type {number} ({name}) is not supported yet; wirelens decodes Ethernet captures (link type 1)."
    )]
    LinkType {
        /// The capture file.
        file: String,
        /// The LINKTYPE_ number.
        number: u32,
        /// Its name.
        name: &'static str,
    },
    /// `--ladder N` named a stream the capture does not have.
    #[error(
        "{file}: there is no TCP stream {stream}; this capture has {streams} (numbered from 0)."
    )]
    NoStream {
        /// The capture file.
        file: String,
        /// The stream asked for.
        stream: u64,
        /// How many TCP streams there are.
        streams: u64,
    },
    /// Writing the output failed (a closed pipe is reported as this too).
    #[error("could not write the output: {0}")]
    Output(#[source] io::Error),
}

impl RunError {
    /// The process exit code for this error: 2 for unreadable input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Capture(_) | RunError::LinkType { .. } | RunError::NoStream { .. } => 2,
            RunError::Output(_) => 1,
        }
    }
}

/// Opens `path` (or `-` for stdin) and renders every packet to `out`. Packets before
/// any damage in the file are written before the error is returned.
pub fn read_path(path: &Path, opts: &ReadOptions, out: &mut dyn Write) -> Result<(), RunError> {
    let mut source = FileSource::open(path)?;
    read_source(&mut source, opts, out)
}

/// Renders every packet of an open capture to `out`.
pub fn read_source(
    source: &mut FileSource,
    opts: &ReadOptions,
    out: &mut dyn Write,
) -> Result<(), RunError> {
    let mut ctx = Context::new(opts.width);
    let mut analyzer = opts.analyzer();
    let run = each_packet(source, opts.count, &mut analyzer, |d, bytes| {
        render::write_packet(out, opts.format, &mut ctx, d, bytes)
    });
    // Packets before an error in the file are shown before the error is returned.
    render::finish(out, &mut ctx).map_err(RunError::Output)?;
    run?;
    let leftovers = analyzer.leftovers();
    if opts.format == Format::Json {
        // JSON lines hold one packet each; what belongs to no packet goes to stderr.
        for l in leftovers {
            eprintln!("wirelens: at the end of the capture: {l}");
        }
        return Ok(());
    }
    for l in leftovers {
        writeln!(out, "End of capture: {l}").map_err(RunError::Output)?;
    }
    Ok(())
}

/// The source → dissect → analyse part every mode shares: calls `sink` with each packet
/// and its captured bytes, up to `count` packets.
fn each_packet(
    source: &mut FileSource,
    count: Option<u64>,
    analyzer: &mut Analyzer,
    mut sink: impl FnMut(&Dissection, &[u8]) -> io::Result<()>,
) -> Result<(), RunError> {
    if let Some(link) = source.link_type()
        && link != LinkType::ETHERNET
    {
        return Err(RunError::LinkType {
            file: source.name().to_string(),
            number: link.0,
            name: link.name(),
        });
    }
    let mut n = 0u64;
    let mut source_notes = Vec::new();
    while count.is_none_or(|c| n < c) {
        let frame = match source.next_frame_with_notes(&mut source_notes)? {
            Some(f) => f,
            None => break,
        };
        n += 1;
        let mut d = dissect(n, &frame);
        analyzer.analyse(&mut d, frame.bytes);
        if !source_notes.is_empty() {
            d.notes.splice(0..0, source_notes.drain(..));
        }
        sink(&d, frame.bytes).map_err(RunError::Output)?;
    }
    Ok(())
}

/// How `wirelens flows` should show a capture's conversations.
#[derive(Clone, Debug, Default)]
pub struct FlowsOptions {
    /// JSON Lines instead of a table.
    pub json: bool,
    /// Draw this TCP stream as a ladder diagram instead of listing conversations.
    pub ladder: Option<u64>,
    /// Show the ARP table instead of the conversations.
    pub arp: bool,
    /// Table width in columns.
    pub width: u16,
}

/// Most segments a ladder draws; the rest are counted.
const MAX_RUNGS: usize = 500;

/// Reads `path` and writes its conversations (or one connection's ladder) to `out`.
///
/// Conversations are rendered as they are retired and stored in stream order in a
/// temporary file ([`flows::FlowRows`]), so memory stays flat however long the capture.
pub fn flows_path(path: &Path, opts: &FlowsOptions, out: &mut dyn Write) -> Result<(), RunError> {
    let mut source = FileSource::open(path)?;
    let mut analyzer = Analyzer::new(TrackerConfig::default(), Some(ReassemblyConfig::default()));
    let rows = std::rc::Rc::new(std::cell::RefCell::new(flows::FlowRows::new(opts.json)));
    if opts.ladder.is_some() {
        // The ladder needs its connection's summary, found at the end.
        analyzer.keep_summaries();
    } else if !opts.arp {
        analyzer.send_summaries_to(rows.clone());
    }
    let mut first = None;
    let mut rungs = Vec::new();
    let mut more = 0u64;
    each_packet(&mut source, None, &mut analyzer, |d, _| {
        if first.is_none() {
            first = Some(d.ts);
            rows.borrow_mut().set_start(d.ts);
        }
        if let (Some(want), Some(t)) = (opts.ladder, &d.tcp)
            && let Some(c) = t.conv.as_ref().filter(|c| c.stream == want)
        {
            if rungs.len() < MAX_RUNGS {
                rungs.push(Rung {
                    n: d.n,
                    from_client: c.from_client,
                    flags: t.flag_string(),
                    rel_seq: c.rel_seq,
                    rel_ack: c.rel_ack,
                    len: t.payload_len,
                    stage: c.stage,
                });
            } else {
                more += 1;
            }
        }
        Ok(())
    })?;
    let flows = analyzer.finish();
    let w = |r: io::Result<()>| r.map_err(RunError::Output);
    if let Some(want) = opts.ladder {
        let Some(f) = flows.iter().find(|f| f.proto == "tcp" && f.stream == want) else {
            return Err(RunError::NoStream {
                file: source.name().to_string(),
                stream: want,
                streams: flows.iter().filter(|f| f.proto == "tcp").count() as u64,
            });
        };
        w(ladder::write(out, &f.client, &f.server, &rungs, more))?;
        return w(writeln!(
            out,
            "handshake {}, closed by {}, final state {}, conn_state {}, history {}",
            f.handshake.unwrap_or("-"),
            f.closed_by.map_or("nobody yet", |c| match c {
                crate::analysis::ClosedBy::Fin => "FIN",
                crate::analysis::ClosedBy::Rst => "RST",
            }),
            f.state.map(|s| s.to_string()).unwrap_or_default(),
            f.conn_state,
            f.history
        ));
    }
    if opts.arp {
        let table = analyzer.arp.table();
        return if opts.json {
            w(flows::write_json(out, &table))
        } else {
            w(flows::write_arp_table(out, &table, first, opts.width))
        };
    }
    let mut rows = rows.borrow_mut();
    w(rows.write(out, analyzer.arp_packets, analyzer.icmp_packets, opts.width))
}
