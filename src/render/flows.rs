//! `wirelens flows`: one row per conversation, as a table with a legend or as JSON Lines.

use std::io::{self, Write};

use crate::analysis::FlowSummary;
use crate::analysis::arp::Binding;
use crate::capture::Timestamp;
use crate::render::grid;
use crate::text::Text;

/// Writes one JSON line per conversation (or per ARP table entry).
pub fn write_json<T: serde::Serialize>(out: &mut dyn Write, rows: &[T]) -> io::Result<()> {
    for f in rows {
        serde_json::to_writer(&mut *out, f).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes the conversations as a table (TCP then UDP, each in stream order), with ARP and
/// ICMP counted apart and a legend of the state codes under it. `first` is the capture's
/// first timestamp, for start times.
pub fn write_table(
    out: &mut dyn Write,
    flows: &[FlowSummary],
    first: Option<Timestamp>,
    arp: u64,
    icmp: u64,
    width: u16,
) -> io::Result<()> {
    // One way to draw the table: the one `wirelens flows` uses for captures of any size.
    let mut rows = FlowRows::new(false);
    if let Some(f) = first {
        rows.set_start(f);
    }
    for f in flows {
        rows.add(f)?;
    }
    rows.write(out, arp, icmp, width)
}

/// Writes the ARP table: one row per IP address, with every MAC that claimed it.
pub fn write_arp_table(
    out: &mut dyn Write,
    table: &[Binding],
    first: Option<Timestamp>,
    width: u16,
) -> io::Result<()> {
    const ARP_HEADER: [&str; 6] = [
        "IP",
        "MAC",
        "first seen s",
        "last seen s",
        "packets",
        "warning",
    ];
    let base = first.map(|f| f.as_secs_f64()).unwrap_or(0.0);
    let mut texts: Vec<String> = Vec::with_capacity(table.len() * ARP_HEADER.len());
    for b in table {
        let others: Vec<String> = b
            .macs
            .iter()
            .filter(|m| **m != b.mac)
            .map(|m| m.to_string())
            .collect();
        texts.extend([
            b.ip.to_string(),
            b.mac.to_string(),
            format!("{:.3}", b.first_seen.as_secs_f64() - base),
            format!("{:.3}", b.last_seen.as_secs_f64() - base),
            b.packets.to_string(),
            if others.is_empty() {
                String::new()
            } else {
                format!(
                    "also claimed by {}: an address conflict or ARP spoofing",
                    others.join(", ")
                )
            },
        ]);
    }
    let mut cells: Vec<&str> = ARP_HEADER.to_vec();
    cells.extend(texts.iter().map(String::as_str));
    let mut buf = Vec::new();
    grid::draw(
        &mut buf,
        ARP_HEADER.len(),
        grid::Vary::columns(0),
        &ARP_HEADER,
        cells.get(ARP_HEADER.len()..).unwrap_or_default(),
        usize::from(width),
        if super::color::enabled() {
            super::color::hue(crate::proto::Hue::Magenta, false)
        } else {
            None
        },
    );
    buf.push(b'\n');
    out.write_all(&buf)?;
    writeln!(
        out,
        "{} addresses learned from ARP senders (IP → the MAC that last claimed it).",
        table.len()
    )
}

const LEGEND: &str = "\
→ client to server, ← server to client. The client sent the first SYN (or the first packet).
zeek = conn_state (Zeek's codes): S0 attempt, no reply · S1 established, not closed · SF normal open and close
  REJ attempt rejected with RST · S2/S3 only the client/server closed · RSTO/RSTR client/server aborted
  RSTOS0 client sent SYN then RST · SH/SHR SYN/SYN-ACK then FIN, no reply · OTH no SYN seen (mid-stream)
history: S SYN · H SYN-ACK · A pure ACK · D data · F FIN · R RST · T retransmission;
  upper case from the client, lower case from the server, each recorded once per direction.
";

/// The header of the conversations table.
const HEADER: [&str; 13] = [
    "#",
    "client",
    "server",
    "service",
    "pkts →/←",
    "bytes →/←",
    "start s",
    "dur s",
    "handshake",
    "closed",
    "state",
    "zeek",
    "history",
];

/// Separates the cells of a table row in a slot (no cell contains it).
const CELL_SEP: u8 = 0x1f;

/// Bytes per slot: a two-byte length and the row. A JSON line is at most about 600
/// bytes, table cells about 300 (every number at its widest).
const JSON_SLOT: usize = 1024;
/// Bytes per slot of table cells. Most rows are short (every row of
/// `real-2000000.pcap` is 64 to 127 bytes; IPv4 endpoints, a few digits of counts), so
/// they get slots of this size, and the longer ones (long IPv6 addresses, big counts)
/// go to a second store of [`TABLE_LONG_SLOT`]-byte slots. With every row in 384-byte
/// slots, the file was three times the rows, and writing it, reading it back and
/// freeing its pages took a tenth of `flows`' time (15 alternating runs on that file:
/// 0.50 s against 0.45 s with 130-byte slots).
const TABLE_SLOT: usize = 160;
/// Bytes per slot of the table cells too long for [`TABLE_SLOT`].
const TABLE_LONG_SLOT: usize = 384;

/// Conversations of `wirelens flows`, kept in stream order without holding them in
/// memory: each retired conversation is rendered at once (a JSON line, or its table
/// cells) and stored in a fixed-size slot of an unlinked temporary file at its stream
/// number, so reading the file front to back gives stream order. Memory stays flat
/// however many conversations a capture has: the table only keeps per-column
/// statistics ([`grid::StreamStats`]) to choose its column widths.
#[derive(Debug)]
pub struct FlowRows {
    json: bool,
    tcp: Slots,
    udp: Slots,
    stats: grid::StreamStats,
    /// The capture's first timestamp in seconds, for start times.
    base: f64,
    row: Vec<u8>,
    /// The first error storing a row; reported by [`FlowRows::write`].
    error: Option<io::Error>,
}

/// Rows stored by index in fixed-size slots.
#[derive(Debug)]
struct Slots {
    /// Bytes per slot.
    slot: usize,
    store: Store,
    /// One past the highest index written.
    len: u64,
    /// Rows not yet written to the store: (index, start and end in `pending_bytes`; a
    /// start of `usize::MAX` marks a row kept in `long`). Conversations are retired
    /// roughly in stream order, so sorting these gives long runs of consecutive slots,
    /// each written with one call.
    pending: Vec<(u64, usize, usize)>,
    pending_bytes: Vec<u8>,
    /// Where rows too long for a slot go, in slots of this many bytes (made when the
    /// first such row comes), with [`LONG_ROW`] in their slot here; `None` for a store
    /// whose slots fit every row.
    long: Option<(usize, Option<Box<Slots>>)>,
}

/// The length written in a slot whose row is in the long store.
const LONG_ROW: u16 = u16::MAX;

/// Rows buffered before they are written to the store.
const PENDING: usize = 4096;

/// Where slots live: an unlinked temporary file, or memory if none could be made.
#[derive(Debug)]
enum Store {
    File(std::fs::File),
    Memory(Vec<u8>),
}

impl Store {
    fn new() -> Store {
        temp_file().map_or(Store::Memory(Vec::new()), Store::File)
    }

    /// Writes `bytes` at `at`.
    fn write_at(&mut self, bytes: &[u8], at: u64) -> io::Result<()> {
        match self {
            Store::File(f) => {
                use std::os::unix::fs::FileExt;
                f.write_all_at(bytes, at)
            }
            Store::Memory(v) => {
                let at = usize::try_from(at).map_err(io::Error::other)?;
                if v.len() < at + bytes.len() {
                    v.resize(at + bytes.len(), 0);
                }
                if let Some(dst) = v.get_mut(at..at + bytes.len()) {
                    dst.copy_from_slice(bytes);
                }
                Ok(())
            }
        }
    }

    /// Fills `chunk` from `at`; what lies past the end of the store reads as zeros.
    fn read_at(&self, chunk: &mut [u8], at: u64) -> io::Result<()> {
        match self {
            Store::File(f) => {
                use std::os::unix::fs::FileExt;
                let mut got = 0;
                while got < chunk.len() {
                    match f.read_at(chunk.get_mut(got..).unwrap_or_default(), at + got as u64) {
                        Ok(0) => break,
                        Ok(k) => got += k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                chunk.get_mut(got..).unwrap_or_default().fill(0);
            }
            Store::Memory(v) => {
                let from = usize::try_from(at).unwrap_or(usize::MAX);
                let src = v.get(from..).unwrap_or_default();
                let k = src.len().min(chunk.len());
                chunk[..k].copy_from_slice(&src[..k]);
                chunk.get_mut(k..).unwrap_or_default().fill(0);
            }
        }
        Ok(())
    }
}

impl Slots {
    /// Slots of `slot` bytes; with `long`, rows that do not fit go to slots of `long`
    /// bytes in a second store.
    fn new(slot: usize, long: Option<usize>) -> Slots {
        Slots {
            slot,
            store: Store::new(),
            len: 0,
            pending: Vec::with_capacity(PENDING),
            pending_bytes: Vec::new(),
            long: long.map(|l| (l, None)),
        }
    }

    fn put(&mut self, index: u64, row: &[u8]) -> io::Result<()> {
        if row.len() + 2 > self.slot {
            let Some((size, long)) = &mut self.long else {
                return Err(io::Error::other(format!(
                    "the row of conversation {index} is {} bytes long, more than the {} bytes \
                     wirelens can keep for one row until the table is written",
                    row.len(),
                    self.slot - 2
                )));
            };
            long.get_or_insert_with(|| Box::new(Slots::new(*size, None)))
                .put(index, row)?;
            self.pending.push((index, usize::MAX, 0));
        } else {
            let start = self.pending_bytes.len();
            self.pending_bytes.extend_from_slice(row);
            self.pending.push((index, start, self.pending_bytes.len()));
        }
        self.len = self.len.max(index + 1);
        if self.pending.len() >= PENDING {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the pending rows, one call per run of consecutive slots.
    fn flush(&mut self) -> io::Result<()> {
        if let Some((_, Some(long))) = &mut self.long {
            long.flush()?;
        }
        // Stable: a merge of the runs that conversations retire in (a quicksort of
        // these nearly sorted keys was 5% of the rows thread, callgrind).
        self.pending.sort_by_key(|p| p.0);
        let slot_len = self.slot;
        let mut run: Vec<u8> = Vec::with_capacity(slot_len * 64);
        let mut i = 0;
        while i < self.pending.len() {
            let first = self.pending[i].0;
            run.clear();
            let mut next = first;
            while let Some(&(index, a, b)) = self.pending.get(i).filter(|p| p.0 == next) {
                let at = run.len();
                run.resize(at + slot_len, 0);
                if a == usize::MAX {
                    if let Some(slot) = run.get_mut(at..at + 2) {
                        slot.copy_from_slice(&LONG_ROW.to_le_bytes());
                    }
                } else {
                    let row = self.pending_bytes.get(a..b).unwrap_or_default();
                    if let Some(slot) = run.get_mut(at..at + 2 + row.len()) {
                        slot[..2].copy_from_slice(&(row.len() as u16).to_le_bytes());
                        slot[2..].copy_from_slice(row);
                    }
                }
                next = index + 1;
                i += 1;
            }
            let at = first.checked_mul(slot_len as u64).ok_or_else(|| {
                io::Error::other(format!(
                    "conversation {first} is numbered past what wirelens can keep for \
                         the table"
                ))
            })?;
            self.store.write_at(&run, at)?;
        }
        self.pending.clear();
        self.pending_bytes.clear();
        Ok(())
    }

    /// Calls `each` with every stored row in index order (slots never written are
    /// skipped), reading the file through one buffer of many slots; a long row is read
    /// from its own store, a few slots at a time around it.
    fn for_each(&self, mut each: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        const BATCH: u64 = 256;
        /// Slots of the long store read at once.
        const LONG_BATCH: u64 = 16;
        let mut buf = vec![0u8; self.slot * BATCH as usize];
        let long = match &self.long {
            Some((_, Some(long))) => Some(long.as_ref()),
            _ => None,
        };
        let mut long_buf = Vec::new();
        // The first index in `long_buf`, and how many slots it holds.
        let mut long_at = (0u64, 0u64);
        let mut index = 0;
        while index < self.len {
            let n = (self.len - index).min(BATCH) as usize;
            let chunk = buf.get_mut(..n * self.slot).unwrap_or_default();
            self.store.read_at(chunk, index * self.slot as u64)?;
            for (k, slot) in chunk.chunks_exact(self.slot).enumerate() {
                let len = u16::from_le_bytes([slot[0], slot[1]]);
                if len == LONG_ROW
                    && let Some(long) = long
                {
                    let at = index + k as u64;
                    if !(long_at.0..long_at.0 + long_at.1).contains(&at) {
                        let m = (long.len.saturating_sub(at)).min(LONG_BATCH);
                        long_buf.resize(m as usize * long.slot, 0);
                        long.store.read_at(&mut long_buf, at * long.slot as u64)?;
                        long_at = (at, m);
                    }
                    let from = (at - long_at.0) as usize * long.slot;
                    if let Some(s) = long_buf.get(from..from + long.slot) {
                        let len = usize::from(u16::from_le_bytes([s[0], s[1]]));
                        each(s.get(2..2 + len).unwrap_or_default())?;
                    }
                } else if len > 0 {
                    each(slot.get(2..2 + usize::from(len)).unwrap_or_default())?;
                }
            }
            index += n as u64;
        }
        Ok(())
    }
}

/// Creates a temporary file and unlinks it at once: it lives as long as the handle.
fn temp_file() -> io::Result<std::fs::File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    for _ in 0..16 {
        let name = format!(
            "wirelens-flows-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => {
                std::fs::remove_file(&path)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("could not create a temporary file"))
}

impl FlowRows {
    /// An empty store for JSON Lines (`json`) or table rows.
    pub fn new(json: bool) -> FlowRows {
        let mut stats = grid::StreamStats::new(HEADER.len());
        stats.add_row(&HEADER);
        let long = (!json).then_some(TABLE_LONG_SLOT);
        FlowRows {
            json,
            tcp: Slots::new(if json { JSON_SLOT } else { TABLE_SLOT }, long),
            udp: Slots::new(if json { JSON_SLOT } else { TABLE_SLOT }, long),
            stats,
            base: 0.0,
            row: Vec::with_capacity(JSON_SLOT),
            error: None,
        }
    }

    /// Sets the capture's first timestamp: start times in the table count from it.
    pub fn set_start(&mut self, first: Timestamp) {
        self.base = first.as_secs_f64();
    }

    /// Conversations stored so far (TCP, UDP).
    pub fn counts(&self) -> (u64, u64) {
        (self.tcp.len, self.udp.len)
    }

    /// Renders and stores one conversation.
    pub fn add(&mut self, f: &FlowSummary) -> io::Result<()> {
        self.row.clear();
        if self.json {
            serde_json::to_writer(&mut self.row, f).map_err(io::Error::other)?;
        } else {
            let (seps, spaces) = write_cells(&mut self.row, f, self.base);
            // Checked as UTF-8 once, then cut where `write_cells` put the separators
            // (ASCII, so at char boundaries): per cell, the check's fixed cost was a sixth
            // of this function, and finding the separators again a sixth of the rest.
            let row = std::str::from_utf8(&self.row).unwrap_or_default();
            let cells = cells_at(row, &seps);
            debug_assert_eq!(cells, cells_of(row));
            self.stats.add_ascii_row(&cells, &spaces);
        }
        let slots = if f.proto == "tcp" {
            &mut self.tcp
        } else {
            &mut self.udp
        };
        slots.put(f.stream, &self.row)
    }

    /// Writes every conversation, TCP then UDP, each in stream order: JSON Lines, or
    /// the table with its totals line and legend (as [`write_table`] does).
    pub fn write(
        &mut self,
        out: &mut dyn Write,
        arp: u64,
        icmp: u64,
        width: u16,
    ) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.tcp.flush()?;
        self.udp.flush()?;
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        let mut count = 0u64;
        let flush = |buf: &mut Vec<u8>, out: &mut dyn Write| -> io::Result<()> {
            out.write_all(buf)?;
            buf.clear();
            Ok(())
        };
        if self.json {
            for slots in [&self.tcp, &self.udp] {
                slots.for_each(|row| {
                    buf.extend_from_slice(row);
                    buf.push(b'\n');
                    if buf.len() >= 1 << 16 {
                        flush(&mut buf, out)?;
                    }
                    Ok(())
                })?;
            }
            return flush(&mut buf, out);
        }
        let widths = self.stats.widths(usize::from(width));
        let mut scratch = grid::RowScratch::default();
        grid::write_start(&mut buf, &widths, &HEADER, &mut scratch, None);
        flush(&mut buf, out)?;
        let two = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        let mut chunks = DrawChunks::new(&widths, two);
        for slots in [&self.tcp, &self.udp] {
            slots.for_each(|row| {
                count += 1;
                chunks.push(row, out)
            })?;
        }
        chunks.finish(out)?;
        grid::write_end(&mut buf, &widths, None);
        buf.push(b'\n');
        flush(&mut buf, out)?;
        writeln!(
            out,
            "{count} conversations; also {arp} ARP and {icmp} ICMP packets, which belong to no conversation."
        )?;
        out.write_all(LEGEND.as_bytes())
    }
}

/// The 13 cells of a stored table row, cut at [`CELL_SEP`] (ASCII, so at `char`
/// boundaries); cells past the 13th are left out, missing ones are empty.
fn cells_of(row: &str) -> [&str; 13] {
    let mut cells: [&str; 13] = [""; 13];
    let (mut col, mut start) = (0, 0);
    grid::each_byte_at(row.as_bytes(), CELL_SEP, |i| {
        if let Some(slot) = cells.get_mut(col) {
            *slot = row.get(start..i).unwrap_or_default();
        }
        (col, start) = (col + 1, i + 1);
    });
    if let Some(slot) = cells.get_mut(col) {
        *slot = row.get(start..).unwrap_or_default();
    }
    cells
}

/// The 13 cells of `row`, whose 12 [`CELL_SEP`]s are at `seps` (as [`write_cells`]
/// returns them): what [`cells_of`] finds, without looking.
fn cells_at<'r>(row: &'r str, seps: &[usize; 12]) -> [&'r str; 13] {
    let mut cells: [&str; 13] = [""; 13];
    let mut start = 0;
    for (cell, &end) in cells.iter_mut().zip(seps.iter().chain([&row.len()])) {
        *cell = row.get(start..end).unwrap_or_default();
        start = end + 1;
    }
    cells
}

/// Appends the table cells of one conversation, as [`write_table`] shows them,
/// separated by [`CELL_SEP`]; returns where the separators are, counted from the row's
/// start (no cell contains one), and where each cell's spaces are, as bits (for
/// [`grid::StreamStats::add_ascii_row`]: every cell is printable ASCII, numbers,
/// addresses and fixed words, so its spaces are known as it is written).
fn write_cells(out: &mut Vec<u8>, f: &FlowSummary, base: f64) -> ([usize; 12], [u64; 13]) {
    let row_start = out.len();
    let mut seps = [0usize; 12];
    let mut spaces = [0u64; 13];
    let mut n = 0;
    let mut sep = |out: &mut Vec<u8>| {
        if let Some(at) = seps.get_mut(n) {
            *at = out.len() - row_start;
        }
        n += 1;
        out.push(CELL_SEP);
    };
    // The bit of the byte at `at` of a cell that starts at `start` (none past 64).
    let bit = |start: usize, at: usize| 1u64.checked_shl((at - start) as u32).unwrap_or(0);
    // A fixed word's spaces are looked for.
    let word = grid::spaces_of;
    let start = out.len();
    out.s(f.proto);
    spaces[0] = word(f.proto) | bit(start, out.len());
    out.s(" ").u(f.stream);
    sep(out);
    out.s(&f.client);
    sep(out);
    out.s(&f.server);
    sep(out);
    let service = f.service.unwrap_or("");
    spaces[3] = word(service);
    out.s(service);
    sep(out);
    for (i, (a, b)) in [
        (f.client_packets, f.server_packets),
        (f.client_bytes, f.server_bytes),
    ]
    .into_iter()
    .enumerate()
    {
        let start = out.len();
        out.u(a);
        spaces[4 + i] = bit(start, out.len()) | bit(start, out.len() + 2);
        out.s(" / ").u(b);
        sep(out);
    }
    out.fixed(f.start.as_secs_f64() - base, 3, 0);
    sep(out);
    out.fixed(f.duration, 3, 0);
    sep(out);
    let handshake = f.handshake.unwrap_or("");
    spaces[8] = word(handshake);
    out.s(handshake);
    sep(out);
    out.s(match f.closed_by {
        Some(crate::analysis::ClosedBy::Fin) => "fin",
        Some(crate::analysis::ClosedBy::Rst) => "rst",
        None => "",
    });
    sep(out);
    if let Some(st) = f.state {
        spaces[10] = word(st.name());
        out.s(st.name());
    }
    sep(out);
    spaces[11] = word(f.conn_state);
    out.s(f.conn_state);
    sep(out);
    // Zeek's history letters.
    out.s(&f.history);
    (seps, spaces)
}

/// Rows of the final table gathered in chunks; with two cores, two chunks of every
/// three are drawn on a second thread while this one reads the rows back and draws the
/// third, and chunks are written in order (drawing 142 000 rows took a tenth of a
/// second at the end of a 2M-packet run, with nothing else to do). Two of three, not
/// every other: this thread also reads the rows from their store, and with half the
/// drawing it finished last (perf: 98 samples against the other thread's 69).
struct DrawChunks<'w> {
    widths: &'w [usize],
    /// Raw rows of the chunk being gathered, each ended by a newline.
    raw: Vec<u8>,
    rows: usize,
    scratch: grid::RowScratch,
    drawn: Vec<u8>,
    /// Buffers the worker gave back with its chunks, reused for the next ones it is
    /// sent (a new buffer per chunk grew by copying to the chunk's size, twice a chunk).
    spare: Vec<(Vec<u8>, Vec<u8>)>,
    worker: Option<ChunkWorker>,
    /// Chunks the worker draws, not yet written (at most [`WORKER_CHUNKS`]).
    pending: usize,
    /// Chunks finished so far.
    chunks: usize,
}

/// Chunks the worker may have in hand: it draws two of every three.
const WORKER_CHUNKS: usize = 2;

/// The second thread and its channels: raw chunks in (with a buffer to draw into),
/// drawn chunks out (with the raw chunk's buffer).
struct ChunkWorker {
    to: std::sync::mpsc::SyncSender<(Vec<u8>, Vec<u8>)>,
    from: std::sync::mpsc::Receiver<(Vec<u8>, Vec<u8>)>,
    handle: std::thread::JoinHandle<()>,
}

/// Rows per chunk.
const CHUNK_ROWS: usize = 4096;

/// Draws the raw rows of `raw` (each ended by a newline, cells separated by
/// [`CELL_SEP`]) as table rows, appending to `out`.
///
/// The chunk is checked as UTF-8 once, and each row cut into cells in one pass over its
/// bytes (newlines and [`CELL_SEP`] are ASCII, so every piece is a `str`): checking each
/// row on its own and splitting it with `str::split` was a sixth of drawing the table
/// (callgrind). A chunk that is
/// not UTF-8 (never written by [`write_cells`]) is drawn row by row, an invalid row as
/// empty cells.
fn draw_chunk(out: &mut Vec<u8>, raw: &[u8], widths: &[usize], scratch: &mut grid::RowScratch) {
    let mut draw = |row: &str| {
        let cells = cells_of(row);
        let joined = (row, CELL_SEP);
        grid::write_row_cached(out, widths, &cells, Some(joined), scratch, None);
        out.push(b'\n');
    };
    match std::str::from_utf8(raw) {
        Ok(text) => text.split('\n').filter(|r| !r.is_empty()).for_each(draw),
        Err(_) => {
            for row in raw.split(|b| *b == b'\n').filter(|r| !r.is_empty()) {
                draw(std::str::from_utf8(row).unwrap_or_default());
            }
        }
    }
}

impl<'w> DrawChunks<'w> {
    fn new(widths: &'w [usize], two: bool) -> DrawChunks<'w> {
        let worker = two.then(|| {
            let (to, jobs) = std::sync::mpsc::sync_channel::<(Vec<u8>, Vec<u8>)>(1);
            let (done, from) = std::sync::mpsc::sync_channel(1);
            let w = widths.to_vec();
            std::thread::Builder::new()
                .name("wirelens-flows-table".into())
                .spawn(move || {
                    let mut scratch = grid::RowScratch::default();
                    for (raw, mut out) in jobs {
                        out.clear();
                        draw_chunk(&mut out, &raw, &w, &mut scratch);
                        if done.send((raw, out)).is_err() {
                            break;
                        }
                    }
                })
                .ok()
                .map(|handle| ChunkWorker { to, from, handle })
        });
        DrawChunks {
            widths,
            raw: Vec::new(),
            rows: 0,
            scratch: grid::RowScratch::default(),
            drawn: Vec::new(),
            spare: Vec::new(),
            worker: worker.flatten(),
            pending: 0,
            chunks: 0,
        }
    }

    /// Adds one raw row.
    fn push(&mut self, row: &[u8], out: &mut dyn Write) -> io::Result<()> {
        self.raw.extend_from_slice(row);
        self.raw.push(b'\n');
        self.rows += 1;
        if self.rows >= CHUNK_ROWS {
            self.chunk_done(out)?;
        }
        Ok(())
    }

    /// Draws or hands off the chunk gathered so far.
    fn chunk_done(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.rows = 0;
        self.chunks += 1;
        match &self.worker {
            Some(w) if self.pending < WORKER_CHUNKS && !self.chunks.is_multiple_of(3) => {
                let (mut next, into) = self.spare.pop().unwrap_or_default();
                next.clear();
                let raw = std::mem::replace(&mut self.raw, next);
                w.to.send((raw, into)).map_err(|_| {
                    io::Error::other(
                        "the second thread drawing the conversation table stopped early",
                    )
                })?;
                self.pending += 1;
            }
            _ => {
                self.drawn.clear();
                draw_chunk(&mut self.drawn, &self.raw, self.widths, &mut self.scratch);
                self.raw.clear();
                self.write_pending(out)?;
                out.write_all(&self.drawn)?;
            }
        }
        Ok(())
    }

    /// Writes the worker's chunks, in order, waiting for them.
    fn write_pending(&mut self, out: &mut dyn Write) -> io::Result<()> {
        while self.pending > 0 {
            self.pending -= 1;
            let w = self.worker.as_ref().ok_or_else(|| {
                io::Error::other("the conversation table has no second thread to draw on")
            })?;
            let (raw, drawn) = w.from.recv().map_err(|_| {
                io::Error::other("the second thread drawing the conversation table stopped early")
            })?;
            let written = out.write_all(&drawn);
            self.spare.push((raw, drawn));
            written?;
        }
        Ok(())
    }

    /// Draws and writes everything left, in order, and stops the worker.
    fn finish(mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.rows > 0 {
            let raw = std::mem::take(&mut self.raw);
            self.rows = 0;
            self.drawn.clear();
            draw_chunk(&mut self.drawn, &raw, self.widths, &mut self.scratch);
            self.write_pending(out)?;
            out.write_all(&self.drawn)?;
        } else {
            self.write_pending(out)?;
        }
        if let Some(w) = self.worker.take() {
            drop(w.to);
            let _ = w.handle.join();
        }
        Ok(())
    }
}

impl crate::analysis::flowtable::SummarySink for FlowRows {
    fn retire(&mut self, summary: FlowSummary) {
        if self.error.is_none()
            && let Err(e) = self.add(&summary)
        {
            self.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows put in any order, short ones in the slots and long ones in the second store,
    /// come back in index order with their bytes, in a file and in memory; indices never
    /// put are skipped, and a row too long for both is refused.
    #[test]
    fn slots_give_back_short_and_long_rows_in_order() {
        let mut next = crate::testing::rng(0x2545_f491_4f6c_dd1d);
        for memory in [false, true] {
            let mut slots = Slots::new(TABLE_SLOT, Some(TABLE_LONG_SLOT));
            if memory {
                slots.store = Store::Memory(Vec::new());
            }
            let mut want = std::collections::BTreeMap::new();
            // Indices a few apart, put roughly in order as conversations retire, so that
            // the store has runs, gaps and rows put after later ones.
            let mut indices: Vec<u64> = (0..20_000u64).filter(|_| next(5) != 0).collect();
            for w in indices.chunks_mut(7) {
                w.reverse();
            }
            for &i in &indices {
                let len = match next(10) {
                    0 => TABLE_SLOT - 2 + next(3) as usize,
                    1 => TABLE_SLOT + next((TABLE_LONG_SLOT - TABLE_SLOT - 1) as u64) as usize,
                    _ => 1 + next(TABLE_SLOT as u64 - 2) as usize,
                };
                let row: Vec<u8> = (0..len)
                    .map(|k| b'a' + ((i + k as u64) % 26) as u8)
                    .collect();
                slots.put(i, &row).unwrap();
                want.insert(i, row);
            }
            assert!(slots.put(1, &[b'x'; TABLE_LONG_SLOT]).is_err());
            slots.flush().unwrap();
            let mut got = Vec::new();
            slots
                .for_each(|row| {
                    got.push(row.to_vec());
                    Ok(())
                })
                .unwrap();
            let want: Vec<Vec<u8>> = want.into_values().collect();
            assert_eq!(got.len(), want.len());
            assert!(got == want, "memory: {memory}");
        }
    }

    /// The spaces `write_cells` says each cell has are the ones it has, and every cell is
    /// printable ASCII: for every conversation of the bundled captures (each handshake,
    /// closing and state they show), with their counts made random and up to 20 digits.
    #[test]
    fn write_cells_knows_the_spaces_of_its_cells() {
        let mut next = crate::testing::rng(0xcafe_f00d);
        let mut checked = 0;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Ok(mut file) = crate::capture::file::FileSource::open(&path) else {
                continue;
            };
            let mut analyzer = crate::analysis::Analyzer::default();
            analyzer.keep_summaries();
            let mut n = 0;
            while let Ok(Some(frame)) = file.next_frame() {
                n += 1;
                let mut d = crate::dissect::dissect(n, &frame);
                analyzer.analyse(&mut d, frame.bytes);
            }
            for mut f in analyzer.finish() {
                for _ in 0..20 {
                    let mut big = || match next(4) {
                        0 => next(10),
                        1 => u64::MAX - next(1000),
                        _ => next(u64::MAX),
                    };
                    (f.client_packets, f.server_packets) = (big(), big());
                    (f.client_bytes, f.server_bytes) = (big(), big());
                    f.stream = big();
                    let mut row = Vec::new();
                    let (seps, spaces) = write_cells(&mut row, &f, 0.0);
                    let row = std::str::from_utf8(&row).unwrap();
                    for (cell, known) in cells_at(row, &seps).iter().zip(spaces) {
                        assert!(cell.bytes().all(|b| (0x20..0x7f).contains(&b)), "{cell:?}");
                        assert_eq!(grid::spaces_of(cell), known, "{cell:?} in {row:?}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 1_000, "only {checked} rows");
    }

    /// The final table drawn in chunks on two threads equals the one drawn on one thread,
    /// across several chunks and a partial last one, in order.
    #[test]
    fn chunks_on_two_threads_equal_one_thread() {
        let widths = [10, 15, 15, 4, 9, 11, 6, 6, 3, 3, 2, 5, 12];
        let mut rows = Vec::new();
        for i in 0..(7 * CHUNK_ROWS + 17) {
            let sep = char::from(CELL_SEP);
            rows.push(format!(
                "tcp {i}{sep}10.0.{}.{}:{}{sep}10.1.0.1:80{sep}http{sep}{} / 3{sep}{} / 9\
                 {sep}0.{i:03}{sep}1.500{sep}ok{sep}fin{sep}{sep}SF{sep}ShAdDaFf",
                i / 256,
                i % 256,
                40000 + i % 20000,
                i % 7,
                i * 3
            ));
        }
        let draw = |two: bool| -> Vec<u8> {
            let mut out = Vec::new();
            let mut chunks = DrawChunks::new(&widths, two);
            for r in &rows {
                chunks
                    .push(r.as_bytes(), &mut out)
                    .expect("writing to a Vec works");
            }
            chunks.finish(&mut out).expect("writing to a Vec works");
            out
        };
        let one = draw(false);
        assert!(
            one.iter().filter(|b| **b == b'\n').count() >= rows.len(),
            "at least one line a row"
        );
        let text = String::from_utf8_lossy(&one);
        let at = |i: usize| text.find(&format!("│ tcp {i} ")).unwrap_or(usize::MAX);
        let order = [
            0,
            CHUNK_ROWS - 1,
            CHUNK_ROWS,
            2 * CHUNK_ROWS + 1,
            rows.len() - 1,
        ]
        .map(at);
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "rows out of order: {order:?}"
        );
        assert!(draw(true) == one, "two threads drew a different table");
    }
}

#[cfg(test)]
mod draw_tests {
    use super::*;

    /// A chunk with a row that is not UTF-8 draws that row as empty cells and the others
    /// as usual, each cut at every cell separator.
    #[test]
    fn a_row_that_is_not_utf8_is_drawn_empty_and_the_others_as_usual() {
        let widths = [4; 13];
        let sep = char::from(CELL_SEP);
        let good = format!("tcp 1{sep}a b{sep}{sep}c");
        let mut raw = Vec::new();
        for row in [good.as_bytes(), b"\xff\xfe", good.as_bytes()] {
            raw.extend_from_slice(row);
            raw.push(b'\n');
        }
        let mut scratch = grid::RowScratch::default();
        let mut got = Vec::new();
        draw_chunk(&mut got, &raw, &widths, &mut scratch);
        let mut want = Vec::new();
        for cells in [
            &["tcp 1", "a b", "", "c"][..],
            &[][..],
            &["tcp 1", "a b", "", "c"],
        ] {
            let mut row = [""; 13];
            row[..cells.len()].copy_from_slice(cells);
            grid::write_row(&mut want, &widths, &row, &mut scratch, None);
            want.push(b'\n');
        }
        assert!(got == want, "{}", String::from_utf8_lossy(&got));
        // The good rows in a chunk that is all UTF-8 (the last with no newline) draw the same.
        let valid = [good.as_str(), good.as_str()].join("\n");
        let mut twice = Vec::new();
        draw_chunk(&mut twice, valid.as_bytes(), &widths, &mut scratch);
        let mut one = Vec::new();
        draw_chunk(&mut one, good.as_bytes(), &widths, &mut scratch);
        assert!(twice == [one.as_slice(), one.as_slice()].concat());
    }
}
