//! The packets the viewer shows, wherever they come from.
//!
//! * A file is read twice in the background: one thread notes where each frame starts
//!   (the index, quick: it decodes nothing), another dissects and analyses every packet
//!   in order and keeps an 8-byte [`Brief`] of each (plus a side table for the rare packet
//!   that needs more: analysis notes, a reply's request, a reassembled datagram). The
//!   screen reads and dissects only the packets it shows, from their offsets, and puts
//!   back what analysis found, so a packet says exactly what `read` says of it.
//! * A live capture runs on its own thread through the same dissect → analyse steps and
//!   keeps the last `ring` packets' bytes in memory.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::brief::{self, Brief, StreamInfo};
use super::filter::Filter;
use super::flows::{FlowRow, FlowRows};
use crate::analysis::Analyzer;
use crate::analysis::arp::Binding;
use crate::analysis::reassembly::Fragment;
use crate::capture::file::FileSource;
use crate::capture::{Frame, LinkType, Next, Source, Timestamp};
use crate::context::{Answer, Datagram, Piece, Stage, TcpConv};
use crate::dissect::{self, Dissection};
use crate::pipeline::ReadOptions;
use crate::render::Format;

/// Bytes of reassembled datagrams a live view keeps for the screen, at most (a capture of
/// nothing but fragments must not fill memory); a datagram beyond it is shown as
/// fragments. A file keeps none: they are read again from their fragments.
const DATAGRAM_BUDGET: usize = 64 << 20;
/// Packets handed from a background thread to the screen at a time.
const BATCH: usize = 4096;
/// Dissected packets kept for redrawing.
const CACHE: usize = 1024;

/// A live capture's figures, for the status line.
#[derive(Clone, Copy, Debug, Default)]
pub struct LiveFigures {
    /// Packets captured so far (also those dropped from the ring).
    pub captured: u64,
    /// Packets per second over the last second.
    pub pps: f64,
    /// Packets the kernel dropped, when the backend tells.
    pub dropped: Option<u64>,
    /// The capture ended (an error, or the end of `--duration`).
    pub ended: bool,
}

/// What analysis says of a packet beyond its [`Brief`].
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// The TCP context, when its brief would not give it back exactly.
    pub conv: Option<Box<TcpConv>>,
    /// The notes, when analysis or the file added some.
    pub notes: Option<Box<[String]>>,
    /// The request a reply answers.
    pub answer: Option<Answer>,
    /// The datagram this frame completed. Of a file, its payload is not kept (it is
    /// empty here): it is put together again from the fragments when it is shown.
    pub datagram: Option<Box<Datagram>>,
    /// The hash of that payload, to check what is put together again.
    pub payload_hash: u64,
}

/// Gets every captured packet, analysed, with its bytes (the `-w` file of a live view).
pub type SaveFn = Box<dyn FnMut(&Dissection, &[u8]) -> io::Result<()> + Send>;

/// Asks a live source how many packets the kernel dropped.
pub type DropsFn<S> = Box<dyn FnMut(&mut S) -> Option<u64> + Send>;

/// A captured frame kept in memory (live capture).
#[derive(Clone, Debug)]
pub struct Owned {
    ts: Timestamp,
    len: u32,
    link: LinkType,
    bytes: Box<[u8]>,
}

/// Where each frame of a file starts, in 4 bytes a frame: the low 32 bits of each
/// offset, and the frame numbers where the high bits go up (once per 4 GiB of file, as
/// offsets only grow).
#[derive(Debug, Default)]
struct Offsets {
    low: Vec<u32>,
    /// `carries[k]` is the index of the first offset of 4 GiB × (k + 1) or more.
    carries: Vec<usize>,
}

impl Offsets {
    fn with_capacity(n: usize) -> Offsets {
        Offsets {
            low: Vec::with_capacity(n),
            carries: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.low.len()
    }

    /// Adds the next offset, which is past every one before it.
    fn push(&mut self, at: u64) {
        while (at >> 32) > self.carries.len() as u64 {
            self.carries.push(self.low.len());
        }
        // The high bits are counted by `carries`.
        self.low.push(at as u32);
    }

    /// Offset `i`.
    fn get(&self, i: usize) -> Option<u64> {
        let low = *self.low.get(i)?;
        let high = self.carries.partition_point(|&c| c <= i) as u64;
        Some(high << 32 | u64::from(low))
    }
}

/// Blocks of a pcapng file met after its first packet that change how the packets after
/// them are read (a section header, interface descriptions): a frame read from its own
/// offset would not know them, so they are read again first.
#[derive(Clone, Copy, Debug)]
struct Described {
    /// The frame whose record they come before.
    frame: u64,
    /// Where they start (the end of the frame before) and where that frame ends, in the
    /// file: they and the frame's own record.
    span: (u64, u64),
    /// The first entry of their section in [`Packets::described`]: entries before it
    /// belong to an earlier section, which a section header ends.
    section_from: usize,
}

/// Most [`Described`] spans read again to load one frame; a file that describes more
/// interfaces after its first packet shows frames past them as not loadable.
const MAX_REPLAY: usize = 1024;

/// Everything the background threads share with the screen.
#[derive(Debug, Default)]
pub struct Packets {
    /// Number of the first frame still held (a live ring forgets older ones).
    pub first: u64,
    /// Where each frame of a file starts.
    offsets: Offsets,
    /// Descriptions met after the first packet of a pcapng file, in frame order.
    described: Vec<Described>,
    /// Live frames, from frame `first` on.
    frames: VecDeque<Owned>,
    /// The analysis of each frame, from frame `first` on; may lag behind the index.
    briefs: VecDeque<Brief>,
    /// What each TCP stream's segments share, by stream number.
    pub streams: Vec<StreamInfo>,
    /// The side table, in frame number order.
    extras: VecDeque<(u64, Extra)>,
    datagram_bytes: usize,
    /// Capture time of the very first frame.
    pub first_ts: Option<Timestamp>,
    /// The index reached the end of the file.
    pub indexed_all: bool,
    /// Analysis reached the end of the file (or of a live capture).
    pub analysed_all: bool,
    /// Bytes of the file indexed so far, and its size.
    pub bytes_indexed: u64,
    /// The file's size, in bytes.
    pub file_len: u64,
    /// Why reading stopped early, as a sentence.
    pub error: Option<String>,
    /// The conversations, once analysis is done (TCP then UDP).
    pub flows: Vec<FlowRow>,
    /// The ARP table.
    pub arp: Vec<Binding>,
    /// Frames the live ring has forgotten.
    pub forgotten: u64,
    /// Live figures.
    pub live: Option<LiveFigures>,
    /// What was left unfinished at the end of the capture.
    pub leftovers: Vec<String>,
}

impl Packets {
    /// The number of frames known (indexed or captured).
    pub fn held(&self) -> u64 {
        self.offsets.len().max(self.frames.len()) as u64
    }

    /// The number of the last frame known, or `first - 1` when none is.
    pub fn last(&self) -> u64 {
        (self.first + self.held()).saturating_sub(1)
    }

    /// Frames analysed so far (from `first`).
    pub fn analysed(&self) -> u64 {
        self.briefs.len() as u64
    }

    /// The brief of frame `n`, once analysed.
    pub fn brief(&self, n: u64) -> Option<Brief> {
        let i = usize::try_from(n.checked_sub(self.first)?).ok()?;
        self.briefs.get(i).copied()
    }

    /// The stage of frame `n`, for a TCP segment that was analysed.
    pub fn stage(&self, n: u64) -> Option<Stage> {
        self.brief(n).and_then(|b| b.stage())
    }

    /// Where frame `n` of a file is, once indexed.
    fn file_place(&self, n: u64) -> Option<FilePlace> {
        let i = usize::try_from(n.checked_sub(self.first)?).ok()?;
        Some((
            self.offsets.get(i)?,
            self.offsets.get(i + 1),
            self.replay_before(n),
        ))
    }

    /// The spans of descriptions to read again before frame `n` (see [`Described`]).
    fn replay_before(&self, n: u64) -> Vec<(u64, u64)> {
        let i = self.described.partition_point(|d| d.frame < n);
        let Some(last) = i.checked_sub(1).and_then(|j| self.described.get(j)) else {
            return Vec::new();
        };
        let chain = self.described.get(last.section_from..i).unwrap_or_default();
        if chain.len() > MAX_REPLAY {
            return Vec::new();
        }
        chain.iter().map(|d| d.span).collect()
    }

    /// What analysis says of frame `n` beyond its brief, when it says more.
    fn extra(&self, n: u64) -> Option<&Extra> {
        let i = self.extras.binary_search_by_key(&n, |(m, _)| *m).ok()?;
        self.extras.get(i).map(|(_, e)| e)
    }

    /// What the segments of TCP stream `s` share, once analysis has seen it.
    pub fn stream_info(&self, s: u32) -> Option<StreamInfo> {
        self.streams.get(usize::try_from(s).ok()?).copied()
    }

    /// The frames of TCP stream `s`, in order.
    pub fn stream_frames(&self, s: u32) -> Vec<u64> {
        self.briefs
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_tcp() && b.stream == s)
            .map(|(i, _)| self.first + i as u64)
            .collect()
    }

    /// Adds analysed packets: their briefs, side-table entries and streams.
    fn add_analysed(&mut self, batch: &mut Analysed) {
        self.briefs.extend(batch.briefs.drain(..));
        for (n, e) in batch.extras.drain(..) {
            if let Some(dg) = &e.datagram {
                self.datagram_bytes += dg.payload.len();
            }
            self.extras.push_back((n, e));
        }
        for (id, info) in batch.streams.drain(..) {
            if let Some(slot) = stream_slot(&mut self.streams, id) {
                *slot = info;
            }
        }
    }

    /// Forgets the oldest frame (the live ring is full).
    fn forget_oldest(&mut self) {
        self.frames.pop_front();
        self.briefs.pop_front();
        while let Some((_, e)) = self.extras.pop_front_if(|(n, _)| *n <= self.first) {
            if let Some(dg) = e.datagram {
                self.datagram_bytes = self.datagram_bytes.saturating_sub(dg.payload.len());
            }
        }
        self.first += 1;
        self.forgotten += 1;
    }
}

/// A packet dissected for the screen, with what analysis found put back.
#[derive(Debug)]
pub struct Loaded {
    /// The dissection, as `read` shows it.
    pub d: Dissection,
    /// The captured bytes.
    pub bytes: Vec<u8>,
    /// False while analysis has not reached the packet (no stage yet).
    pub analysed: bool,
}

/// The analysis results of a run of packets, before they are handed over.
#[derive(Default)]
struct Analysed {
    briefs: Vec<Brief>,
    extras: Vec<(u64, Extra)>,
    /// Streams whose [`StreamInfo`] changed.
    streams: Vec<(u32, StreamInfo)>,
}

/// Analyses packets one by one, as `read` does, and makes their briefs.
struct Analysis {
    analyzer: Analyzer,
    /// The conversations' rows, made as analysis retires them.
    flows: Rc<RefCell<FlowRows>>,
    streams: Vec<StreamInfo>,
    out: Analysed,
    datagram_bytes: usize,
    /// Keep the payloads of reassembled datagrams (live: their fragments may leave the
    /// ring); a file's are read again.
    keep_payloads: bool,
}

impl Analysis {
    fn new(keep_payloads: bool) -> Analysis {
        let opts = ReadOptions {
            format: Format::Table,
            reassembly_timeout: 30.0,
            ..ReadOptions::default()
        };
        let mut analyzer = opts.analyzer();
        let flows = FlowRows::shared();
        analyzer.send_summaries_to(flows.clone());
        Analysis {
            analyzer,
            flows,
            streams: Vec::new(),
            out: Analysed::default(),
            datagram_bytes: 0,
            keep_payloads,
        }
    }

    /// Ends the capture: the rows of every conversation, TCP then UDP.
    fn finish_flows(&mut self) -> Vec<FlowRow> {
        // With a sink, the summaries of the conversations still open go to it too.
        self.analyzer.finish();
        self.flows.borrow_mut().take()
    }

    /// Dissects and analyses frame `n`; `source_notes` are the file's notes about it.
    /// Returns the dissection, complete.
    fn add(&mut self, n: u64, frame: &Frame<'_>, source_notes: &mut Vec<String>) -> Dissection {
        let mut d = dissect::dissect(n, frame);
        let notes_before = d.notes.len();
        let fragment = match (&d.ipv4, &d.ipv6) {
            (Some(ip), _) => ip.is_fragment(),
            (None, Some(ip)) => crate::analysis::reassembly::Fragment::v6(ip).is_some(),
            _ => false,
        };
        let had_transport =
            d.tcp.is_some() || d.udp.is_some() || d.icmp.is_some() || d.icmpv6.is_some();
        self.analyzer.analyse(&mut d, frame.bytes);
        if !source_notes.is_empty() {
            d.notes.splice(0..0, source_notes.drain(..));
        }
        let mut extra = Extra {
            answer: d.ctx.answer,
            ..Extra::default()
        };
        if d.notes.len() != notes_before || fragment {
            extra.notes = Some(d.notes.clone().into());
        }
        let mut b = Brief::default();
        if let Some(c) = &d.ctx.tcp {
            let id = u32::try_from(c.stream).unwrap_or(u32::MAX);
            let decoded = match (&d.tcp, d.ip_addrs(), stream_slot(&mut self.streams, id)) {
                (Some(tcp), Some(addrs), Some(info)) => {
                    let before = *info;
                    b = Brief::encode(c, tcp, info);
                    if *info != before {
                        self.out.streams.push((id, *info));
                    }
                    b.decode(info, tcp, addrs)
                }
                _ => None,
            };
            if decoded.as_ref() != Some(c) {
                extra.conv = Some(Box::new(c.clone()));
            }
        }
        if fragment && self.analyzer.reassembler.is_some() {
            match &d.ctx.datagram {
                Some(dg) if !self.keep_payloads => {
                    extra.datagram = Some(Box::new(Datagram {
                        info: dg.info.clone(),
                        payload: Vec::new(),
                        pieces: dg.pieces.clone(),
                    }));
                    extra.payload_hash = payload_hash(&dg.payload);
                }
                Some(dg) if self.datagram_bytes + dg.payload.len() <= DATAGRAM_BUDGET => {
                    self.datagram_bytes += dg.payload.len();
                    extra.datagram = Some(dg.clone());
                }
                Some(_) => {}
                None if had_transport => b.bits |= brief::HELD,
                None => {}
            }
        }
        if extra.conv.is_some()
            || extra.notes.is_some()
            || extra.answer.is_some()
            || extra.datagram.is_some()
        {
            b.bits |= brief::EXTRA;
            self.out.extras.push((n, extra));
        }
        self.out.briefs.push(b);
        d
    }
}

/// Puts back on a freshly dissected packet what analysis found (see [`Analysis::add`]).
fn complete(d: &mut Dissection, b: &Brief, info: Option<&StreamInfo>, e: Option<&Extra>) {
    if b.bits & brief::HELD != 0 {
        dissect::hold_fragment(d);
    }
    if let Some(e) = e {
        if let Some(dg) = &e.datagram {
            dissect::decode_reassembled(d, &dg.payload);
            d.ctx.reassembled = Some(dg.info.clone());
            d.ctx.datagram = Some(dg.clone());
        }
        d.ctx.answer = e.answer;
        if let Some(notes) = &e.notes {
            d.notes = notes.to_vec();
        }
    }
    d.ctx.tcp = match (e.and_then(|e| e.conv.as_ref()), info, &d.tcp, d.ip_addrs()) {
        (Some(c), ..) => Some(TcpConv::clone(c)),
        (None, Some(info), Some(tcp), Some(addrs)) => b.decode(info, tcp, addrs),
        _ => None,
    };
}

/// The [`StreamInfo`] of stream `id`, made room for. Streams are numbered from 0 in the
/// order they appear, so the table grows by one at a time; `None` for a number far
/// past its end (which the tracker never gives).
fn stream_slot(streams: &mut Vec<StreamInfo>, id: u32) -> Option<&mut StreamInfo> {
    let i = usize::try_from(id).ok()?;
    if i >= streams.len() {
        if i - streams.len() > 1 << 16 {
            return None;
        }
        streams.resize(i + 1, StreamInfo::default());
    }
    streams.get_mut(i)
}

/// Where frames are read from on demand.
#[derive(Debug, Clone)]
enum Backing {
    /// A file: its path and its header (pcap file header, or pcapng section and
    /// interface blocks), which is put before the bytes read from an offset.
    File { path: PathBuf, prefix: Arc<[u8]> },
    /// Live frames, in memory.
    Memory,
}

/// The packets, the threads that find them, and a cache of dissected ones.
pub struct Store {
    shared: Arc<Mutex<Packets>>,
    backing: Backing,
    name: String,
    cache: HashMap<u64, Arc<Loaded>>,
    threads: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Starts `f` on a thread named `name`, which a panic's message names; when no thread
/// can be started, the status bar says why.
fn spawn(
    name: &str,
    shared: &Mutex<Packets>,
    f: impl FnOnce() + Send + 'static,
) -> Option<JoinHandle<()>> {
    match std::thread::Builder::new().name(name.into()).spawn(f) {
        Ok(t) => Some(t),
        Err(e) => {
            lock(shared).error = Some(format!("Could not start the viewer's {name} thread: {e}."));
            None
        }
    }
}

/// Locks `m`, also after a thread panicked while holding it (the data is only ever
/// appended to, so what is there is still whole).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads a capture from `prefix`, then the file's `replay` spans, then the file from
/// `offset`, `len` bytes at most.
fn source_at(
    path: &Path,
    prefix: &Arc<[u8]>,
    replay: &[(u64, u64)],
    offset: u64,
    len: Option<u64>,
) -> Result<FileSource, String> {
    let fail = |e: io::Error| format!("{e}.");
    let mut file = File::open(path).map_err(fail)?;
    let mut head = prefix.to_vec();
    for &(start, end) in replay {
        file.seek(SeekFrom::Start(start)).map_err(fail)?;
        let want = end.saturating_sub(start);
        let got = (&mut file)
            .take(want)
            .read_to_end(&mut head)
            .map_err(fail)?;
        if got as u64 != want {
            return Err(format!(
                "the file is shorter than when it was indexed: bytes {start}–{} are gone (was it changed while the viewer had it open?).",
                end.saturating_sub(1)
            ));
        }
    }
    file.seek(SeekFrom::Start(offset)).map_err(fail)?;
    let head = io::Cursor::new(head);
    let reader: Box<dyn Read + Send> = match len {
        Some(l) => Box::new(head.chain(file.take(l))),
        None => Box::new(head.chain(file)),
    };
    FileSource::from_reader(path.display().to_string(), reader).map_err(|e| e.to_string())
}

impl Store {
    /// Opens a capture file and starts indexing and analysing it in the background.
    /// Fails, with a sentence, when the file cannot be read as a capture.
    pub fn open(path: &Path) -> Result<Store, String> {
        if path == Path::new("-") {
            return Err(
                "the viewer jumps around in the capture, which standard input cannot do: save it to a file first, or use `wirelens read -`.".into(),
            );
        }
        let source = FileSource::open(path).map_err(|e| e.to_string())?;
        let header_len = usize::try_from(source.bytes_read()).unwrap_or(0);
        drop(source);
        let mut prefix = vec![0; header_len];
        let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        file.read_exact(&mut prefix)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
        // Room for as many packets as the file probably holds (records of 60 bytes or
        // more), reserved at once: pages are only touched as they fill, and the tables
        // are never copied to grow (which would briefly need twice their memory).
        let expect = usize::try_from(file_len / 60).unwrap_or(0).min(1 << 27);
        let shared = Arc::new(Mutex::new(Packets {
            first: 1,
            file_len,
            offsets: Offsets::with_capacity(expect),
            briefs: VecDeque::with_capacity(expect),
            ..Packets::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let (p, s, st) = (path.to_path_buf(), Arc::clone(&shared), Arc::clone(&stop));
        threads.extend(spawn("index", &shared, move || index_file(&p, &s, &st)));
        let (p, s, st) = (path.to_path_buf(), Arc::clone(&shared), Arc::clone(&stop));
        threads.extend(spawn("analysis", &shared, move || {
            analyse_file(&p, &s, &st);
        }));
        Ok(Store {
            shared,
            backing: Backing::File {
                path: path.to_path_buf(),
                prefix: prefix.into(),
            },
            name: path.display().to_string(),
            cache: HashMap::new(),
            threads,
            stop,
        })
    }

    /// Starts capturing from `source` on a thread, keeping the last `ring` packets;
    /// `save` gets every packet.
    pub fn live<S>(
        name: String,
        source: S,
        ring: usize,
        save: Option<SaveFn>,
        stats: DropsFn<S>,
    ) -> Store
    where
        S: Source + Send + 'static,
        S::Error: std::fmt::Display,
    {
        let shared = Arc::new(Mutex::new(Packets {
            first: 1,
            live: Some(LiveFigures::default()),
            ..Packets::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&shared), Arc::clone(&stop));
        let t = spawn("capture", &shared, move || {
            capture(source, ring.max(1), save, stats, &s, &st);
        });
        Store {
            shared,
            backing: Backing::Memory,
            name,
            cache: HashMap::new(),
            threads: t.into_iter().collect(),
            stop,
        }
    }

    /// The file or interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shared state, locked.
    pub fn packets(&self) -> MutexGuard<'_, Packets> {
        lock(&self.shared)
    }

    /// Waits until the background threads have finished (tests, and `w` of a file).
    pub fn wait(&self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            {
                let p = self.packets();
                if p.indexed_all && p.analysed_all {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    /// Frame `n`, dissected and analysed as `read` shows it; `None` when it is not held
    /// or cannot be read.
    pub fn get(&mut self, n: u64) -> Option<Arc<Loaded>> {
        if let Some(l) = self.cache.get(&n)
            && (l.analysed || self.packets().brief(n).is_none())
        {
            return Some(Arc::clone(l));
        }
        let l = Arc::new(load(&self.shared, &self.backing, n)?);
        if self.cache.len() >= CACHE {
            self.cache.clear();
        }
        self.cache.insert(n, Arc::clone(&l));
        Some(l)
    }

    /// Starts evaluating `filter` over every frame held, on a thread.
    pub fn start_filter(&self, filter: Filter) -> FilterJob {
        let job = FilterJob {
            matches: Arc::new(Mutex::new(Vec::new())),
            done: Arc::new(AtomicBool::new(false)),
            cancel: Arc::new(AtomicBool::new(false)),
            filter: filter.clone(),
        };
        let (m, d, c) = (
            Arc::clone(&job.matches),
            Arc::clone(&job.done),
            Arc::clone(&job.cancel),
        );
        let (shared, backing) = (Arc::clone(&self.shared), self.backing.clone());
        let s = Arc::clone(&shared);
        let _ = spawn("filter", &s, move || {
            run_filter(&filter, &shared, &backing, &m, &c);
            d.store(true, Ordering::SeqCst);
        });
        job
    }

    /// Stops the background threads and waits for them.
    pub fn close(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

/// A display filter being evaluated in the background.
#[derive(Debug)]
pub struct FilterJob {
    /// The frames that match, in order.
    pub matches: Arc<Mutex<Vec<u64>>>,
    /// Every frame held has been looked at (a live job keeps going).
    pub done: Arc<AtomicBool>,
    cancel: Arc<AtomicBool>,
    /// The filter.
    pub filter: Filter,
}

impl Drop for FilterJob {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
    }
}

/// Reads frame `n` from where it is held, and completes it with its analysis.
fn load(shared: &Mutex<Packets>, backing: &Backing, n: u64) -> Option<Loaded> {
    let (place, brief, info, mut extra) = {
        let p = lock(shared);
        let i = usize::try_from(n.checked_sub(p.first)?).ok()?;
        let place = match backing {
            Backing::File { .. } => Err(p.file_place(n)?),
            Backing::Memory => Ok(p.frames.get(i)?.clone()),
        };
        let brief = p.briefs.get(i).copied();
        let info = brief.and_then(|b| p.stream_info(b.stream));
        let extra = p.extra(n).cloned();
        (place, brief, info, extra)
    };
    if let Some(e) = &mut extra {
        read_payload(shared, backing, e);
    }
    let (mut d, bytes) = match (place, backing) {
        (Ok(o), _) => {
            let frame = Frame {
                ts: o.ts,
                caplen: o.bytes.len() as u32,
                len: o.len,
                link: o.link,
                interface: None,
                bytes: &o.bytes,
            };
            (dissect::dissect(n, &frame), o.bytes.to_vec())
        }
        (Err(place), Backing::File { path, prefix }) => match read_at(path, prefix, &place, n) {
            Ok(read) => read,
            Err(e) => {
                lock(shared).error = Some(e);
                return None;
            }
        },
        (Err(_), Backing::Memory) => return None,
    };
    if let Some(b) = &brief {
        complete(&mut d, b, info.as_ref(), extra.as_ref());
    }
    Some(Loaded {
        d,
        bytes,
        analysed: brief.is_some(),
    })
}

/// Where a frame of a file is: its offset, the next frame's (when indexed) and the spans
/// to read again before it (see [`Described`]).
type FilePlace = (u64, Option<u64>, Vec<(u64, u64)>);

/// Reads frame `n` of a file from `place` and dissects it; returns it with its bytes,
/// or a sentence that names the file, the frame and its offset.
fn read_at(
    path: &Path,
    prefix: &Arc<[u8]>,
    place: &FilePlace,
    n: u64,
) -> Result<(Dissection, Vec<u8>), String> {
    let (start, end, replay) = place;
    let gone = |why: String| {
        format!(
            "Could not show frame {n} of {} (at byte offset {start}): {why}",
            path.display()
        )
    };
    let mut src = source_at(path, prefix, replay, *start, end.map(|e| e - start)).map_err(gone)?;
    // The records read again come first.
    for _ in replay {
        src.next_frame()
            .map_err(|e| gone(e.to_string()))?
            .ok_or_else(|| gone("the file ends before it.".into()))?;
    }
    let frame = src
        .next_frame()
        .map_err(|e| gone(e.to_string()))?
        .ok_or_else(|| gone("the file ends before it.".into()))?;
    Ok((dissect::dissect(n, &frame), frame.bytes.to_vec()))
}

/// The hash of a reassembled payload (the same in every run of one binary).
fn payload_hash(payload: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    h.write(payload);
    h.finish()
}

/// Puts a file's reassembled datagram back together from its fragments, as the
/// reassembler did (in frame order, the first copy of a byte kept), and checks it
/// against the hash analysis kept. When that cannot be done, the datagram is dropped:
/// the frame is then shown as a fragment.
fn read_payload(shared: &Mutex<Packets>, backing: &Backing, e: &mut Extra) {
    let Some(dg) = e.datagram.as_mut() else {
        return;
    };
    if !dg.payload.is_empty() || dg.info.length == 0 {
        return;
    }
    let payload = match backing {
        Backing::File { path, prefix } => {
            let mut pieces = dg.pieces.clone();
            pieces.sort_by_key(|p| p.frame);
            let places: Option<Vec<_>> = {
                let p = lock(shared);
                pieces
                    .iter()
                    .map(|pc| Some((*pc, p.file_place(pc.frame)?)))
                    .collect()
            };
            places.and_then(|places| reassemble(path, prefix, &places, dg.info.length))
        }
        Backing::Memory => None,
    };
    match payload {
        Some(p) if payload_hash(&p) == e.payload_hash => dg.payload = p,
        _ => e.datagram = None,
    }
}

/// The payload of `length` bytes that the fragments at `places` (in frame order) carry.
fn reassemble(
    path: &Path,
    prefix: &Arc<[u8]>,
    places: &[(Piece, FilePlace)],
    length: usize,
) -> Option<Vec<u8>> {
    let size = places
        .iter()
        .map(|(pc, _)| pc.offset.saturating_add(pc.len))
        .max()?
        .max(length);
    let mut data = vec![0u8; size];
    let mut filled = vec![false; size];
    for (pc, place) in places {
        let (d, bytes) = read_at(path, prefix, place, pc.frame).ok()?;
        // As the analyzer finds a fragment (an IPv4 one first).
        let frag = match (&d.ipv4, &d.ipv6) {
            (Some(ip), _) if ip.is_fragment() => Fragment::v4(ip),
            (None, Some(ip)) => Fragment::v6(ip)?,
            _ => return None,
        };
        let carried = bytes.get(frag.start..frag.start.checked_add(pc.len)?)?;
        let range = pc.offset..pc.offset.checked_add(pc.len)?;
        let (to, set) = (data.get_mut(range.clone())?, filled.get_mut(range)?);
        for ((d, f), b) in to.iter_mut().zip(set.iter_mut()).zip(carried) {
            if !*f {
                *d = *b;
                *f = true;
            }
        }
    }
    data.truncate(length);
    filled.get(..length)?.iter().all(|f| *f).then_some(data)
}

/// The index thread: notes where each frame of the file starts.
fn index_file(path: &Path, shared: &Mutex<Packets>, stop: &AtomicBool) {
    let mut src = match FileSource::open(path) {
        Ok(s) => s,
        Err(e) => {
            lock(shared).error = Some(e.to_string());
            lock(shared).indexed_all = true;
            return;
        }
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut first_ts = None;
    let mut n = 0u64;
    // Descriptions read with the header, which every frame is read after.
    let mut seen = src.descriptions_read();
    let mut described = Vec::new();
    let (mut count, mut section_from) = (0usize, 0usize);
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let at = src.bytes_read();
        let next = src.next_frame();
        let end = match next {
            Ok(Some(f)) => {
                first_ts.get_or_insert(f.ts);
                batch.push(at);
                n += 1;
                false
            }
            Ok(None) => true,
            Err(e) => {
                lock(shared).error = Some(e.to_string());
                true
            }
        };
        let now = src.descriptions_read();
        if !end && now != seen {
            if now.0 != seen.0 {
                section_from = count;
            }
            described.push(Described {
                frame: n,
                span: (at, src.bytes_read()),
                section_from,
            });
            count += 1;
            seen = now;
        }
        if end || batch.len() >= BATCH {
            let mut p = lock(shared);
            for at in batch.drain(..) {
                p.offsets.push(at);
            }
            p.described.append(&mut described);
            p.bytes_indexed = src.bytes_read();
            if p.first_ts.is_none() {
                p.first_ts = first_ts;
            }
            if end {
                p.indexed_all = true;
                return;
            }
        }
    }
}

/// The analysis thread: dissects and analyses the whole file in order.
fn analyse_file(path: &Path, shared: &Mutex<Packets>, stop: &AtomicBool) {
    let Ok(mut src) = FileSource::open(path) else {
        lock(shared).analysed_all = true;
        return;
    };
    let mut a = Analysis::new(false);
    let mut notes = Vec::new();
    let mut n = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let end = match src.next_frame_with_notes(&mut notes) {
            Ok(Some(f)) => {
                n += 1;
                a.add(n, &f, &mut notes);
                false
            }
            Ok(None) | Err(_) => true,
        };
        if end || a.out.briefs.len() >= BATCH {
            let mut p = lock(shared);
            p.add_analysed(&mut a.out);
            if end {
                p.flows = a.finish_flows();
                p.arp = a.analyzer.arp.table();
                p.leftovers = a.analyzer.leftovers();
                p.analysed_all = true;
                return;
            }
        }
    }
}

/// The capture thread of a live view.
fn capture<S>(
    mut source: S,
    ring: usize,
    mut save: Option<SaveFn>,
    mut stats: DropsFn<S>,
    shared: &Mutex<Packets>,
    stop: &AtomicBool,
) where
    S: Source,
    S::Error: std::fmt::Display,
{
    let mut a = Analysis::new(true);
    let mut notes = Vec::new();
    let mut n = 0u64;
    let mut pending: Vec<Owned> = Vec::new();
    let mut second = Instant::now();
    let mut in_second = 0u64;
    let mut last_flush = Instant::now();
    loop {
        let mut ended = stop.load(Ordering::Relaxed);
        if !ended {
            match source.read_frame(&mut notes) {
                Ok(Next::Frame(f)) => {
                    n += 1;
                    in_second += 1;
                    let d = a.add(n, &f, &mut notes);
                    if let Some(save) = save.as_mut()
                        && let Err(e) = save(&d, f.bytes)
                    {
                        lock(shared).error = Some(e.to_string());
                        save_failed(&mut ended);
                    }
                    pending.push(Owned {
                        ts: f.ts,
                        len: f.len,
                        link: f.link,
                        bytes: f.bytes.into(),
                    });
                }
                Ok(Next::Nothing) => {}
                Ok(Next::End) => ended = true,
                Err(e) => {
                    lock(shared).error = Some(e.to_string());
                    ended = true;
                }
            }
        }
        let now = Instant::now();
        if ended
            || pending.len() >= 256
            || now.duration_since(last_flush) > Duration::from_millis(50)
        {
            last_flush = now;
            let secs = now.duration_since(second).as_secs_f64();
            let drops = (secs >= 1.0 || ended).then(|| stats(&mut source)).flatten();
            let mut p = lock(shared);
            if p.first_ts.is_none() {
                p.first_ts = pending.first().map(|o| o.ts);
            }
            p.frames.extend(pending.drain(..));
            p.add_analysed(&mut a.out);
            while p.frames.len() > ring {
                p.forget_oldest();
            }
            let fig = p.live.get_or_insert_with(LiveFigures::default);
            fig.captured = n;
            if secs >= 1.0 {
                fig.pps = in_second as f64 / secs;
                fig.dropped = drops.or(fig.dropped);
                in_second = 0;
                second = now;
            }
            if ended {
                fig.ended = true;
                p.arp = a.analyzer.arp.table();
                p.flows = a.finish_flows();
                p.indexed_all = true;
                p.analysed_all = true;
                return;
            } else if secs >= 1.0 {
                p.arp = a.analyzer.arp.table();
            }
        }
    }
}

fn save_failed(ended: &mut bool) {
    *ended = true;
}

/// The filter thread: looks at every frame held, in order, as analysis reaches it.
fn run_filter(
    filter: &Filter,
    shared: &Mutex<Packets>,
    backing: &Backing,
    matches: &Mutex<Vec<u64>>,
    cancel: &AtomicBool,
) {
    let mut file = match backing {
        Backing::File { path, .. } => match FileSource::open(path) {
            Ok(s) => Some(s),
            Err(_) => return,
        },
        Backing::Memory => None,
    };
    let mut n = lock(shared).first;
    let mut found = Vec::new();
    loop {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        // Wait for analysis to reach frame n.
        let (ready, finished, first) = {
            let p = lock(shared);
            (
                p.brief(n).is_some() || (n >= p.first && n <= p.last() && p.analysed_all),
                p.analysed_all && n > p.last(),
                p.first,
            )
        };
        if finished && file.is_some() {
            lock(matches).append(&mut found);
            return;
        }
        if !ready {
            lock(matches).append(&mut found);
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let loaded = match &mut file {
            Some(src) => {
                let Ok(Some(frame)) = src.next_frame() else {
                    lock(matches).append(&mut found);
                    return;
                };
                let mut d = dissect::dissect(n, &frame);
                let (brief, info, mut extra) = {
                    let p = lock(shared);
                    let b = p.brief(n);
                    (
                        b,
                        b.and_then(|b| p.stream_info(b.stream)),
                        p.extra(n).cloned(),
                    )
                };
                if let Some(e) = &mut extra {
                    read_payload(shared, backing, e);
                }
                if let Some(b) = brief {
                    complete(&mut d, &b, info.as_ref(), extra.as_ref());
                }
                Some(d)
            }
            None => {
                if n < first {
                    n = first;
                    continue;
                }
                load(shared, backing, n).map(|l| l.d)
            }
        };
        if let Some(d) = loaded
            && filter.matches(&d)
        {
            found.push(n);
        }
        if found.len() >= 1024 {
            lock(matches).append(&mut found);
        }
        n += 1;
    }
}

impl Store {
    /// Calls `each` with frames `frames` (in increasing order) as they were captured;
    /// a file is read once, from the start. Returns the capture's link type.
    pub fn each_frame(
        &self,
        frames: &[u64],
        mut each: impl FnMut(&Frame<'_>) -> Result<(), String>,
    ) -> Result<LinkType, String> {
        match &self.backing {
            Backing::File { path, .. } => {
                let mut src = FileSource::open(path).map_err(|e| e.to_string())?;
                let link = src.link_type().unwrap_or(LinkType::ETHERNET);
                let mut n = 0u64;
                let mut want = frames.iter().peekable();
                while let Some(&next) = want.peek() {
                    let Some(frame) = src.next_frame().map_err(|e| e.to_string())? else {
                        break;
                    };
                    n += 1;
                    if n == *next {
                        each(&frame)?;
                        want.next();
                    }
                }
                Ok(link)
            }
            Backing::Memory => {
                let p = self.packets();
                let link = p.frames.front().map_or(LinkType::ETHERNET, |o| o.link);
                for n in frames {
                    let Some(o) = n
                        .checked_sub(p.first)
                        .and_then(|i| usize::try_from(i).ok())
                        .and_then(|i| p.frames.get(i))
                    else {
                        continue;
                    };
                    each(&Frame {
                        ts: o.ts,
                        caplen: o.bytes.len() as u32,
                        len: o.len,
                        link: o.link,
                        interface: None,
                        bytes: &o.bytes,
                    })?;
                }
                Ok(link)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_past_4_gib_come_back() {
        let mut o = Offsets::default();
        let all = [
            24,
            4_000_000_000,
            4_294_967_295,
            4_294_967_296,
            9_000_000_000,
            9_000_000_100,
        ];
        for at in all {
            o.push(at);
        }
        assert_eq!(o.len(), all.len());
        for (i, at) in all.iter().enumerate() {
            assert_eq!(o.get(i), Some(*at), "offset {i}");
        }
        assert_eq!(o.get(all.len()), None);
    }
}
