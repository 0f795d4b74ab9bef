//! The one pipeline every mode shares: source → dissect → render, into a buffered writer.

use std::io::{self, Write};
use std::path::Path;

use crate::analysis::Analyzer;
use crate::analysis::flowtable::TrackerConfig;
use crate::analysis::reassembly::ReassemblyConfig;
use crate::analysis::stats::Stats;
use crate::capture::Timestamp;
use crate::capture::file::{CaptureError, FileSource};
use crate::capture::live::LiveError;
use crate::capture::writer::CaptureWriter;
use crate::capture::writer::OutFormat;
use crate::capture::{LinkType, Next, Source};
use crate::dissect::{Dissection, dissect, lean};
use crate::filter::{BpfSource, DisplayFilter, annotation};
use crate::progress::{self, Tracked};
use crate::render::ladder;
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
    /// Reassemble fragmented IPv4 datagrams and IPv6 packets (`None`: the format's default — on for
    /// summary and table, off for JSON so raw fields stay per packet).
    pub reassemble: Option<bool>,
    /// Seconds of capture time a fragmented datagram may take to complete.
    pub reassembly_timeout: f64,
    /// Which analysed packets to show (`--only`, `--stream`).
    pub display: DisplayFilter,
    /// In a pcapng `-w` file, write everything wirelens says about a packet as its
    /// comment (otherwise only a TCP segment's stage).
    pub annotate: bool,
    /// Whether a filter chose the packets (BPF or display): then showing none is exit 1.
    pub filtered: bool,
    /// Whether a progress bar may be drawn on stderr while a big file is read (see
    /// [`crate::progress::allowed`]; the file's size decides the rest).
    pub progress: bool,
}

impl ReadOptions {
    /// The analyser these options ask for (reassembly on or off, default limits).
    pub fn analyzer(&self) -> Analyzer {
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
        "{file}: link type {number} ({name}) is not supported; wirelens decodes Ethernet (1), Linux cooked (113, 276), raw IP (101, 228, 229) and BSD loopback (0, 108) captures."
    )]
    LinkType {
        /// The capture file.
        file: String,
        /// The LINKTYPE_ number.
        number: u32,
        /// Its name.
        name: &'static str,
    },
    /// A filter was given and no packet matched it (exit code 1, as grep).
    #[error("{input}: no packet matched the filter.")]
    NothingMatched {
        /// The capture file or interface.
        input: String,
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
    /// A live capture could not start or had to stop.
    #[error("{0}")]
    Live(#[from] LiveError),
}

impl RunError {
    /// The process exit code for this error: 2 for unreadable input or bad live-capture
    /// input, 3 for privilege and interface errors of a live capture, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Capture(_) | RunError::LinkType { .. } | RunError::NoStream { .. } => 2,
            RunError::Output(_) | RunError::NothingMatched { .. } => 1,
            RunError::Live(e) => e.exit_code(),
        }
    }
}

/// Opens `path` (or `-` for stdin) and renders every packet to `out`. Packets before
/// any damage in the file are written before the error is returned.
pub fn read_path(path: &Path, opts: &ReadOptions, out: &mut dyn Write) -> Result<(), RunError> {
    read_filtered(path, opts, None, None, out)
}

/// As [`read_path`], keeping only the packets the BPF expression `bpf` selects (libpcap's
/// offline filter, tcpdump syntax) and writing those shown to `write` (pcap or pcapng).
pub fn read_filtered(
    path: &Path,
    opts: &ReadOptions,
    bpf: Option<&str>,
    write: Option<(&Path, OutFormat)>,
    out: &mut dyn Write,
) -> Result<(), RunError> {
    let mut file = FileSource::open(path)?;
    let mut file = Tracked::new(&mut file, progress::for_file(opts.progress, path));
    let mut writer = match write {
        Some((p, format)) => {
            let fail = |source| {
                RunError::Live(LiveError::SaveFile {
                    path: p.display().to_string(),
                    source,
                })
            };
            let f = std::fs::File::create(p).map_err(fail)?;
            // The file keeps the input's link type.
            let link = file.link_type().unwrap_or(LinkType::ETHERNET);
            Some(CaptureWriter::new(io::BufWriter::new(f), format, link).map_err(fail)?)
        }
        None => None,
    };
    let save = match (write, writer.as_mut()) {
        (Some((path, _)), Some(writer)) => Some(Save { path, writer }),
        _ => None,
    };
    let result = match bpf {
        Some(expr) => {
            let mut filtered = BpfSource::new(&mut file, expr)?;
            show_source(&mut filtered, opts, save, false, out)
        }
        None => show_source(&mut file, opts, save, false, out),
    };
    if let (Some(w), Some((p, _))) = (writer, write) {
        w.into_inner().map_err(|source| {
            RunError::Live(LiveError::SaveFile {
                path: p.display().to_string(),
                source,
            })
        })?;
    }
    result
}

/// Renders every packet of an open capture to `out`.
pub fn read_source<S>(
    source: &mut S,
    opts: &ReadOptions,
    out: &mut dyn Write,
) -> Result<(), RunError>
where
    S: Source + ?Sized,
    RunError: From<S::Error>,
{
    show_source(source, opts, None::<Save<'_, io::Sink>>, false, out)
}

/// A capture file written alongside the output (`live -w`): every packet is written to
/// it before it is shown, so nothing shown is missing from the file.
#[derive(Debug)]
pub struct Save<'a, W: Write> {
    /// The file's name, for messages.
    pub path: &'a Path,
    /// The writer.
    pub writer: &'a mut CaptureWriter<W>,
}

/// Renders every packet of `source` to `out` (as [`read_source`]), first writing each to
/// `save` when one is given. In a pcapng file each TCP segment carries its stage as a
/// comment.
///
/// `flush_each` (live mode) flushes `out` and the file after every packet, so that `| jq`
/// and `| grep` see each packet as it arrives, and the file is valid up to the last packet
/// even if the process is killed.
pub fn show_source<S, W>(
    source: &mut S,
    opts: &ReadOptions,
    mut save: Option<Save<'_, W>>,
    flush_each: bool,
    out: &mut dyn Write,
) -> Result<(), RunError>
where
    S: Source + ?Sized,
    RunError: From<S::Error>,
    W: Write,
{
    let mut ctx = Context::new(opts.width);
    // Live output must appear packet by packet: no batches drawn on another core.
    ctx.batch = !flush_each;
    let mut analyzer = opts.analyzer();
    let mut shown = 0u64;
    let run = each_packet(source, opts.count, &mut analyzer, |d, bytes| {
        if !opts.display.matches(d) {
            return Ok(());
        }
        shown += 1;
        if let Some(s) = save.as_mut() {
            let comment = if opts.annotate {
                annotation(d)
            } else {
                d.ctx.tcp.as_ref().map(|c| c.stage.to_string())
            };
            let link = LinkType(d.link_type);
            let saved = s.writer.write_on(
                d.ts,
                link,
                d.interface.as_ref(),
                bytes,
                d.len,
                comment.as_deref(),
            );
            let saved = saved.and_then(|()| if flush_each { s.writer.flush() } else { Ok(()) });
            saved.map_err(|source| {
                RunError::Live(LiveError::SaveFile {
                    path: s.path.display().to_string(),
                    source,
                })
            })?;
        }
        render::write_packet(out, opts.format, &mut ctx, d, bytes).map_err(RunError::Output)?;
        if flush_each {
            out.flush().map_err(RunError::Output)?;
        }
        Ok(())
    });
    // Packets before an error in the file are shown before the error is returned.
    render::finish(out, &mut ctx).map_err(RunError::Output)?;
    let mut leftovers = run?;
    leftovers.extend(analyzer.leftovers());
    if opts.format == Format::Json {
        // JSON lines hold one packet each; what belongs to no packet goes to stderr.
        for l in leftovers {
            eprintln!("wirelens: at the end of the capture: {l}");
        }
    } else {
        for l in leftovers {
            let line = format!("End of capture: {l}");
            if opts.format == Format::Table {
                // A table fits the width it was given; its last words do too.
                let mut v = Vec::new();
                render::table::wrap(&mut v, line.as_bytes(), opts.width.into(), "", "  ", None);
                out.write_all(&v).map_err(RunError::Output)?;
            } else {
                writeln!(out, "{line}").map_err(RunError::Output)?;
            }
        }
    }
    if shown == 0 && opts.filtered {
        return Err(RunError::NothingMatched {
            input: source.name().to_string(),
        });
    }
    Ok(())
}

/// The source → dissect → analyse part every mode shares: calls `sink` with each packet
/// and its captured bytes, up to `count` packets. Returns the source's notes that came
/// after the last packet (about blocks that follow it), which belong to no packet.
pub fn each_packet<S>(
    source: &mut S,
    count: Option<u64>,
    analyzer: &mut Analyzer,
    mut sink: impl FnMut(&Dissection, &[u8]) -> Result<(), RunError>,
) -> Result<Vec<String>, RunError>
where
    S: Source + ?Sized,
    RunError: From<S::Error>,
{
    if let Some(link) = source.link_type()
        && !link.is_supported()
    {
        return Err(RunError::LinkType {
            file: source.name().to_string(),
            number: link.0,
            name: link.name(),
        });
    }
    // A live capture names the interface index of each cooked v2 header.
    let names = source.interface_names();
    let mut n = 0u64;
    let mut source_notes = Vec::new();
    while count.is_none_or(|c| n < c) {
        let frame = match source.read_frame(&mut source_notes)? {
            Next::Frame(f) => f,
            Next::Nothing => continue,
            Next::End => break,
        };
        n += 1;
        let mut d = dissect(n, &frame);
        if let Some(names) = &names
            && let Some(index) = d.sll.as_ref().and_then(|s| s.ifindex)
        {
            d.seen_on = names.get(index).cloned();
        }
        analyzer.analyse(&mut d, frame.bytes);
        if !source_notes.is_empty() {
            d.notes.splice(0..0, source_notes.drain(..));
        }
        sink(&d, frame.bytes)?;
    }
    Ok(source_notes)
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
    /// Whether a progress bar may be drawn on stderr while a big file is read.
    pub progress: bool,
}

/// Most segments a ladder draws; the rest are counted.
pub const MAX_RUNGS: usize = 500;

/// Reads `path` and writes its conversations (or one connection's ladder) to `out`.
///
/// Conversations are rendered as they are retired and stored in stream order in a
/// temporary file ([`flows::FlowRows`]), so memory stays flat however long the capture.
pub fn flows_path(path: &Path, opts: &FlowsOptions, out: &mut dyn Write) -> Result<(), RunError> {
    let mut file = FileSource::open(path)?;
    let mut source = Tracked::new(&mut file, progress::for_file(opts.progress, path));
    let mut analyzer = Analyzer::new(TrackerConfig::default(), Some(ReassemblyConfig::default()));
    let rows = std::rc::Rc::new(std::cell::RefCell::new(flows::FlowRows::new(opts.json)));
    // Asked once: it reads cgroup files.
    let threads = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
    let rows_thread = (threads && opts.ladder.is_none() && !opts.arp)
        .then(|| std::rc::Rc::new(std::cell::RefCell::new(RowsThread::spawn(opts.json))));
    if opts.ladder.is_some() {
        // The ladder needs its connection's summary, found at the end.
        analyzer.keep_summaries();
    } else if let Some(t) = &rows_thread {
        analyzer.send_summaries_to(t.clone());
    } else if !opts.arp {
        analyzer.send_summaries_to(rows.clone());
    }
    let mut first = None;
    let mut rungs = Vec::new();
    let mut more = 0u64;
    // The ladder reads each segment's place in its connection, which only a full
    // dissection is given.
    let lean = opts.ladder.is_none();
    if lean && let Some(r) = analyzer.reassembler.as_mut() {
        // `flows` shows no notes: the reassembler need not write them.
        r.set_quiet(true);
    }
    each_flows_packet(&mut source, &mut analyzer, threads, lean, |ts, d| {
        if first.is_none() {
            first = Some(ts);
            rows.borrow_mut().set_start(ts);
            if let Some(t) = &rows_thread {
                t.borrow_mut().set_start(ts);
            }
        }
        if let Some(want) = opts.ladder
            && let Some((stream, rung)) = d.and_then(ladder::rung)
            && stream == want
        {
            if rungs.len() < MAX_RUNGS {
                rungs.push(rung);
            } else {
                more += 1;
            }
        }
        Ok(())
    })?;
    // The bar is cleared before the table is written.
    drop(source);
    let flows = analyzer.finish();
    let w = |r: io::Result<()>| r.map_err(RunError::Output);
    if let Some(want) = opts.ladder {
        let Some(f) = flows.iter().find(|f| f.proto == "tcp" && f.stream == want) else {
            return Err(RunError::NoStream {
                file: file.name().to_string(),
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
    let mut from_thread = rows_thread.map(|t| t.borrow_mut().finish());
    let mut here = rows.borrow_mut();
    let rows = match &mut from_thread {
        Some(r) => r,
        None => &mut *here,
    };
    w(rows.write(out, analyzer.arp_packets, analyzer.icmp_packets, opts.width))
}

/// Conversations retired per batch sent to the rows thread. Each batch wakes the thread;
/// at 256 a batch those wake-ups were a fifth of `flows`' futex calls (real-2M: 2 800
/// futex calls at 256, 2 350 at 1024).
const ROWS_BATCH: usize = 1024;

/// Batches of retired conversations that may wait for the rows thread before the
/// analysing thread blocks (each at most [`ROWS_BATCH`] conversations of ~300 bytes: at
/// most ~5 MB in flight). With two, the analysing thread blocked whenever the rows thread
/// waited for a core (three threads share two): `perf record -e sched:sched_switch` put
/// 48 of its ~220 context switches on this channel, and 21 alternating runs on
/// `real-2000000.pcap` timed 0.44 s against 0.45 s (medians; under load, 0.48 against
/// 0.52 s).
const ROWS_IN_FLIGHT: usize = 16;

/// What the rows thread is sent: the capture's first time, then retired conversations.
enum RowsMsg {
    Start(crate::capture::Timestamp),
    Rows(Vec<crate::analysis::flowtable::RetiredFlow>),
}

/// A [`SummarySink`](crate::analysis::flowtable::SummarySink) that renders the retired
/// conversations into [`flows::FlowRows`] on a thread of its own. Why: with reading on
/// a second thread, the analysing thread was the slower one, and rendering rows was
/// 28% of its time (perf). Summaries move in batches, whose `Vec`s are sent back to
/// be reused.
#[derive(Debug)]
struct RowsThread {
    batch: Vec<crate::analysis::flowtable::RetiredFlow>,
    to_worker: Option<std::sync::mpsc::SyncSender<RowsMsg>>,
    spare: std::sync::mpsc::Receiver<Vec<crate::analysis::flowtable::RetiredFlow>>,
    worker: Option<std::thread::JoinHandle<flows::FlowRows>>,
}

impl RowsThread {
    /// Starts the thread, with rows for JSON Lines (`json`) or the table.
    fn spawn(json: bool) -> RowsThread {
        let (to_worker, from_main) = std::sync::mpsc::sync_channel::<RowsMsg>(ROWS_IN_FLIGHT);
        let (give_back, spare) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            let mut rows = flows::FlowRows::new(json);
            for msg in from_main {
                match msg {
                    RowsMsg::Start(ts) => rows.set_start(ts),
                    RowsMsg::Rows(mut batch) => {
                        for f in batch.drain(..) {
                            crate::analysis::flowtable::SummarySink::retire(
                                &mut rows,
                                f.summarise(),
                            );
                        }
                        let _ = give_back.send(batch);
                    }
                }
            }
            rows
        });
        RowsThread {
            batch: Vec::with_capacity(ROWS_BATCH),
            to_worker: Some(to_worker),
            spare,
            worker: Some(worker),
        }
    }

    fn send(&mut self, msg: RowsMsg) {
        if let Some(tx) = &self.to_worker {
            // Fails only if the worker panicked, which `finish` reports.
            let _ = tx.send(msg);
        }
    }

    /// Sets the capture's first timestamp (see [`flows::FlowRows::set_start`]).
    fn set_start(&mut self, first: crate::capture::Timestamp) {
        self.flush();
        self.send(RowsMsg::Start(first));
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(ROWS_BATCH));
        let full = std::mem::replace(&mut self.batch, next);
        self.send(RowsMsg::Rows(full));
    }

    /// Sends what is left, waits for the thread and returns the rows.
    fn finish(&mut self) -> flows::FlowRows {
        self.flush();
        self.to_worker = None;
        match self.worker.take().map(std::thread::JoinHandle::join) {
            Some(Ok(rows)) => rows,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            // Only if called twice; the first call got the rows.
            None => flows::FlowRows::new(false),
        }
    }
}

impl crate::analysis::flowtable::SummarySink for RowsThread {
    fn retire(&mut self, summary: crate::analysis::FlowSummary) {
        self.retire_later(crate::analysis::flowtable::RetiredFlow::ready(summary));
    }

    /// Sent to the rows thread as it is: the summary is made there.
    fn retire_later(&mut self, flow: crate::analysis::flowtable::RetiredFlow) {
        self.batch.push(flow);
        if self.batch.len() >= ROWS_BATCH {
            self.flush();
        }
    }
}

/// Frames per batch handed from the reading thread to the analysing one in `flows`.
/// Each hand-over wakes a thread; at 256 frames a batch those wake-ups cost more than a
/// tenth of the run (2M packets: 0.88 s at 256, 0.85 s at 1024, 0.75 s at 4096).
const FLOWS_BATCH: usize = 4096;

/// Batches in circulation between the two threads (each holds `FLOWS_BATCH` frames: lean
/// records of 80 bytes, and the frames dissected in full in reused slots of 1 176 bytes).
const FLOWS_BATCHES: usize = 4;

/// Frames read on `flows`' reading thread, in slots that are reused.
#[derive(Default)]
struct FlowsBatch {
    /// The batch's frames in order: each read the lean way, or the index of its full
    /// dissection in `dissections`.
    items: Vec<FlowsItem>,
    /// Full dissections; the first `spans.len()` belong to this batch.
    dissections: Vec<Dissection>,
    /// The captured bytes of the batch's IP fragments, one after the other.
    bytes: Vec<u8>,
    /// For each dissection in use, where its bytes are in `bytes`: empty unless it is a
    /// fragment (IPv4 or IPv6), the only kind of frame whose bytes [`Analyzer::analyse`]
    /// reads.
    spans: Vec<std::ops::Range<usize>>,
}

/// One frame of a [`FlowsBatch`].
enum FlowsItem {
    /// Read the lean way ([`lean::flow_packet`]).
    Lean(lean::FlowPacket),
    /// Dissected in full, into this slot of the batch's dissections.
    Full(usize),
}

/// What the reading thread hands over: a batch, or how the capture ended.
enum FlowsMsg {
    Batch(FlowsBatch),
    End(Result<(), RunError>),
}

/// `each_packet` for `flows`: every frame of `source` is analysed, then given to `sink`
/// with its capture time and, when it was dissected in full, its dissection. With
/// `threads` (more than one CPU), reading and dissecting run on a second thread, one
/// batch of frames ahead, while this one analyses. With `lean`, the common TCP and UDP
/// frames are read as [`lean::FlowPacket`]s rather than dissected (a tenth of the
/// memory each, written on one thread and read on the other); the rest are dissected in
/// full. Batches and their dissections are reused, so nothing is allocated per frame.
/// Source notes are dropped: `flows` shows none.
fn each_flows_packet<S>(
    source: &mut S,
    analyzer: &mut Analyzer,
    threads: bool,
    lean: bool,
    mut sink: impl FnMut(Timestamp, Option<&Dissection>) -> Result<(), RunError>,
) -> Result<(), RunError>
where
    S: Source<Error = CaptureError> + Send,
{
    if !threads {
        each_packet(source, None, analyzer, |d, _| sink(d.ts, Some(d)))?;
        return Ok(());
    }
    if let Some(link) = source.link_type()
        && !link.is_supported()
    {
        return Err(RunError::LinkType {
            file: source.name().to_string(),
            number: link.0,
            name: link.name(),
        });
    }
    // Four batches: one being filled, one being analysed, two waiting, so that either
    // thread can run ahead for a while when the other is descheduled.
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<FlowsMsg>(FLOWS_BATCHES - 2);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<FlowsBatch>();
    for _ in 0..FLOWS_BATCHES {
        let _ = empty_tx.send(FlowsBatch::default());
    }
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut notes = Vec::new();
            let mut n = 0u64;
            // Ends when the capture does, or when the analysing side hangs up.
            while let Ok(mut b) = empty_rx.recv() {
                b.items.clear();
                b.bytes.clear();
                b.spans.clear();
                let mut end = None;
                while b.items.len() < FLOWS_BATCH && end.is_none() {
                    match source.read_frame(&mut notes) {
                        Ok(Next::Frame(f)) => {
                            n += 1;
                            if let Some(p) = lean.then(|| lean::flow_packet(&f)).flatten() {
                                b.items.push(FlowsItem::Lean(p));
                                continue;
                            }
                            let slot = b.spans.len();
                            if b.dissections.len() == slot {
                                b.dissections.push(Dissection::default());
                            }
                            if let Some(d) = b.dissections.get_mut(slot) {
                                // `flows` shows nothing a checksum decides.
                                let skip = crate::dissect::Checksums::Skip;
                                crate::dissect::dissect_into_with(d, n, &f, skip);
                                let start = b.bytes.len();
                                if d.is_fragment() {
                                    b.bytes.extend_from_slice(f.bytes);
                                }
                                b.spans.push(start..b.bytes.len());
                                b.items.push(FlowsItem::Full(slot));
                            }
                        }
                        Ok(Next::Nothing) => {}
                        Ok(Next::End) => end = Some(Ok(())),
                        Err(e) => end = Some(Err(RunError::from(e))),
                    }
                    notes.clear();
                }
                if full_tx.send(FlowsMsg::Batch(b)).is_err() {
                    return;
                }
                if let Some(end) = end {
                    let _ = full_tx.send(FlowsMsg::End(end));
                    return;
                }
            }
        });
        let mut result = Ok(());
        while let Ok(msg) = full_rx.recv() {
            let mut b = match msg {
                FlowsMsg::Batch(b) => b,
                FlowsMsg::End(end) => {
                    result = end;
                    break;
                }
            };
            for item in &b.items {
                result = match item {
                    FlowsItem::Lean(p) => {
                        analyzer.analyse_flow(p);
                        sink(p.ts, None)
                    }
                    FlowsItem::Full(i) => {
                        let (Some(d), Some(span)) = (b.dissections.get_mut(*i), b.spans.get(*i))
                        else {
                            continue;
                        };
                        let notes = d.notes.len();
                        analyzer.analyse(d, b.bytes.get(span.clone()).unwrap_or_default());
                        let r = sink(d.ts, Some(d));
                        // What the analysis allocated is freed here, on the thread that
                        // allocated it: freed on the reading thread when it reuses the
                        // slot, it locked this thread's malloc arena against its own
                        // allocations (perf: futex calls). Also, a reassembled datagram
                        // can be 64 KiB: not kept in a slot.
                        d.ctx.clear();
                        d.notes.truncate(notes);
                        r
                    }
                };
                if result.is_err() {
                    break;
                }
            }
            if result.is_err() {
                break;
            }
            // The reading thread may have finished already (its last message waits in
            // the channel): then the batch is simply dropped.
            let _ = empty_tx.send(b);
        }
        // Hanging up stops the reading thread, which the scope then waits for.
        drop(full_rx);
        drop(empty_tx);
        result
    })
}

/// Reads `path` and writes its statistics to `out`: protocol hierarchy, the `top`
/// biggest talkers, packet sizes and packets over time. `progress` as
/// [`FlowsOptions::progress`].
pub fn stats_path(
    path: &Path,
    top: usize,
    progress: bool,
    out: &mut dyn Write,
) -> Result<(), RunError> {
    let mut file = FileSource::open(path)?;
    let mut source = Tracked::new(&mut file, progress::for_file(progress, path));
    let mut analyzer = Analyzer::default();
    let mut stats = Stats::default();
    each_packet(&mut source, None, &mut analyzer, |d, _| {
        stats.add(d);
        Ok(())
    })?;
    drop(source);
    render::stats::write(out, &stats, top).map_err(RunError::Output)
}
