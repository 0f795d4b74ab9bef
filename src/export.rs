//! Captures to Parquet: `read --format parquet`, `flows --format parquet`, and
//! `wirelens export`, which converts many captures at once into one table of packets and
//! one table of conversations that DuckDB, Spark or ClickHouse read as a whole.
//!
//! `export` writes, for each capture NAME, `OUT/packets/NAME.parquet` and
//! `OUT/flows/NAME.parquet`. Each file is written under a hidden `.NAME.partial` name and
//! renamed when complete, so that a query over `OUT/**/*.parquet` never sees half a file,
//! and so that several machines can export into one shared directory.

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::analysis::Analyzer;
use crate::analysis::flowtable::TrackerConfig;
use crate::analysis::reassembly::ReassemblyConfig;
use crate::capture::file::FileSource;
use crate::filter::{BpfSource, DisplayFilter};
use crate::pipeline::{RunError, each_packet};
use crate::progress::{self, Tracked};
use crate::render::parquet::{FlowTable, PacketTable, TableError};

/// Why an export stopped or did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A capture could not be opened or read to its end.
    #[error("{0}")]
    Run(#[from] RunError),
    /// A Parquet file could not be written.
    #[error("{0}")]
    Table(#[from] TableError),
    /// An input directory could not be listed.
    #[error("{path}: could not list this directory: {source}")]
    Dir {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The output directory could not be created.
    #[error("{path}: could not create the output directory: {source}")]
    OutDir {
        /// The directory.
        path: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The inputs name no capture file.
    #[error("{inputs}: no capture files (*.pcap, *.pcapng, *.cap) to export.")]
    NoCaptures {
        /// The inputs, joined.
        inputs: String,
    },
    /// Some captures could not be read completely (each was reported as it failed).
    #[error(
        "{} of {total} captures could not be read completely (their packets before the damage were exported): {}.",
        failed.len(),
        failed.join(", ")
    )]
    Failed {
        /// The captures that failed.
        failed: Vec<String>,
        /// How many captures there were.
        total: usize,
    },
}

impl ExportError {
    /// The process exit code: 2 for unreadable input (as `read`), 1 when writing failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            ExportError::Run(e) => e.exit_code(),
            ExportError::Table(_) | ExportError::OutDir { .. } => 1,
            ExportError::Dir { .. } | ExportError::NoCaptures { .. } => 2,
            ExportError::Failed { .. } => 2,
        }
    }
}

/// How `read --format parquet` chooses and analyses packets.
#[derive(Clone, Debug, Default)]
pub struct PacketsOptions {
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Reassemble fragmented datagrams (off by default, as for JSON: fields stay per
    /// packet).
    pub reassemble: bool,
    /// Seconds of capture time a fragmented datagram may take to complete.
    pub reassembly_timeout: f64,
    /// Keep only these analysed packets (`--only`, `--stream`).
    pub display: DisplayFilter,
    /// Keep only the packets this BPF expression selects.
    pub bpf: Option<String>,
    /// Whether a progress bar may be drawn on stderr (see [`progress::allowed`]).
    pub progress: bool,
}

/// `read FILE --format parquet -w OUTPUT`: writes one row per packet of `input` to
/// `output`; returns the number of rows. Packets before damage in the capture are
/// written before the error is returned.
pub fn packets_file(
    input: &Path,
    output: &Path,
    opts: &PacketsOptions,
) -> Result<u64, ExportError> {
    let mut file = FileSource::open(input).map_err(RunError::from)?;
    let mut file = Tracked::new(&mut file, progress::for_file(opts.progress, input));
    let mut table = PacketTable::create(output, &input.display().to_string())?;
    let mut analyzer = Analyzer::new(
        TrackerConfig::default(),
        opts.reassemble.then_some(ReassemblyConfig {
            timeout: opts.reassembly_timeout,
            ..ReassemblyConfig::default()
        }),
    );
    let mut failed = None;
    let mut sink = |d: &crate::dissect::Dissection, _: &[u8]| {
        if !opts.display.matches(d) {
            return Ok(());
        }
        table.push(d).map_err(|e| stop(&mut failed, e))
    };
    let run = match &opts.bpf {
        Some(expr) => {
            let mut filtered = BpfSource::new(&mut file, expr).map_err(RunError::from)?;
            each_packet(&mut filtered, opts.count, &mut analyzer, &mut sink)
        }
        None => each_packet(&mut file, opts.count, &mut analyzer, &mut sink),
    };
    drop(file);
    if let Some(e) = failed {
        return Err(e.into());
    }
    let rows = table.finish()?;
    let mut leftovers = run?;
    leftovers.extend(analyzer.leftovers());
    // As with JSON: what belongs to no packet goes to stderr.
    for l in leftovers {
        eprintln!("wirelens: at the end of the capture: {l}");
    }
    Ok(rows)
}

/// Keeps the first write error and returns the error that stops the packet loop.
fn stop(failed: &mut Option<TableError>, e: TableError) -> RunError {
    let text = e.to_string();
    failed.get_or_insert(e);
    RunError::Output(io::Error::other(text))
}

/// `flows FILE --format parquet -w OUTPUT`: writes one row per conversation of `input`
/// to `output` (reassembling fragments, as `flows` does); returns the number of rows.
pub fn flows_file(input: &Path, output: &Path, show_progress: bool) -> Result<u64, ExportError> {
    let mut file = FileSource::open(input).map_err(RunError::from)?;
    let mut file = Tracked::new(&mut file, progress::for_file(show_progress, input));
    let table = Rc::new(RefCell::new(FlowTable::create(
        output,
        &input.display().to_string(),
    )?));
    let mut analyzer = Analyzer::new(TrackerConfig::default(), Some(ReassemblyConfig::default()));
    analyzer.send_summaries_to(table.clone());
    let run = each_packet(&mut file, None, &mut analyzer, |_, _| Ok(()));
    analyzer.finish();
    drop(file);
    let rows = table.borrow_mut().finish()?;
    run?;
    Ok(rows)
}

/// What one capture's export came to.
#[derive(Debug)]
struct Outcome {
    packets: u64,
    flows: u64,
    /// Why it is incomplete, if it is.
    error: Option<ExportError>,
}

/// Totals of a completed [`export`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Captures exported.
    pub captures: usize,
    /// Packet rows written.
    pub packets: u64,
    /// Conversation rows written.
    pub flows: u64,
}

/// The capture files `inputs` name: files as given, directories searched recursively
/// for `*.pcap`, `*.pcapng` and `*.cap`, in name order.
pub fn list_captures(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ExportError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ExportError> {
        let fail = |source| ExportError::Dir {
            path: dir.display().to_string(),
            source,
        };
        let mut entries = std::fs::read_dir(dir)
            .map_err(fail)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "pcap" | "pcapng" | "cap"))
            {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut out)?;
        } else {
            out.push(input.clone());
        }
    }
    if out.is_empty() {
        return Err(ExportError::NoCaptures {
            inputs: inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(out)
}

/// Output names, one per capture: its file name plus `.parquet`, with `-2`, `-3`… added
/// when two captures in different directories share a name.
fn output_names(captures: &[PathBuf]) -> Vec<String> {
    let mut used = std::collections::HashSet::new();
    captures
        .iter()
        .map(|c| {
            let base = c
                .file_name()
                .map_or_else(|| "capture".into(), |n| n.to_string_lossy().into_owned());
            let mut name = format!("{base}.parquet");
            let mut k = 2;
            while !used.insert(name.clone()) {
                name = format!("{base}-{k}.parquet");
                k += 1;
            }
            name
        })
        .collect()
}

/// `wirelens export`: converts every capture `inputs` name (see [`list_captures`]) into
/// `out/packets/NAME.parquet` and `out/flows/NAME.parquet`, `jobs` captures at a time.
/// Each packet row carries its capture's path in the `capture` column. Fragments are
/// reassembled, as `flows` does, so the packet rows equal `read --format json
/// --reassemble`.
///
/// `progress` is called with one line per capture as it completes. A capture that cannot
/// be read to its end is reported there by name and the others go on; its packets
/// before the damage are kept. The result is then [`ExportError::Failed`].
pub fn export(
    inputs: &[PathBuf],
    out: &Path,
    jobs: usize,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ExportReport, ExportError> {
    let captures = list_captures(inputs)?;
    for sub in ["packets", "flows"] {
        let dir = out.join(sub);
        std::fs::create_dir_all(&dir).map_err(|source| ExportError::OutDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let names = output_names(&captures);
    let total = captures.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::with_capacity(total));
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, total) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(capture), Some(name)) = (captures.get(i), names.get(i)) else {
                        break;
                    };
                    let started = std::time::Instant::now();
                    let outcome = export_one(capture, out, name);
                    let k = done.fetch_add(1, Ordering::Relaxed) + 1;
                    let secs = started.elapsed().as_secs_f64();
                    let line = match &outcome.error {
                        None => format!(
                            "[{k}/{total}] {}: {} packets, {} conversations ({secs:.1} s)",
                            capture.display(),
                            outcome.packets,
                            outcome.flows,
                        ),
                        Some(e) => format!(
                            "[{k}/{total}] {}: FAILED: {e} ({} packets and {} conversations before it were exported)",
                            capture.display(),
                            outcome.packets,
                            outcome.flows,
                        ),
                    };
                    progress(&line);
                    if let Ok(mut v) = outcomes.lock() {
                        v.push((i, outcome));
                    }
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap_or_else(|p| p.into_inner());
    outcomes.sort_by_key(|(i, _)| *i);
    let mut report = ExportReport {
        captures: total,
        ..ExportReport::default()
    };
    let mut failed = Vec::new();
    for (i, o) in outcomes {
        report.packets += o.packets;
        report.flows += o.flows;
        if o.error.is_some()
            && let Some(c) = captures.get(i)
        {
            failed.push(c.display().to_string());
        }
    }
    if failed.is_empty() {
        Ok(report)
    } else {
        Err(ExportError::Failed { failed, total })
    }
}

/// A file written under a hidden name and renamed when complete.
struct Partial {
    partial: PathBuf,
    done: PathBuf,
}

impl Partial {
    fn new(dir: &Path, name: &str) -> Partial {
        Partial {
            partial: dir.join(format!(".{name}.partial")),
            done: dir.join(name),
        }
    }

    /// Renames the file to its final name, or removes it when it could not be written.
    fn finish(&self, written: bool) -> Result<(), ExportError> {
        if !written {
            let _ = std::fs::remove_file(&self.partial);
            return Ok(());
        }
        std::fs::rename(&self.partial, &self.done).map_err(|source| {
            TableError::Create {
                path: self.done.display().to_string(),
                source,
            }
            .into()
        })
    }
}

/// Exports one capture into `out/packets/name` and `out/flows/name`.
fn export_one(input: &Path, out: &Path, name: &str) -> Outcome {
    let failed = |error: ExportError| Outcome {
        packets: 0,
        flows: 0,
        error: Some(error),
    };
    let mut file = match FileSource::open(input) {
        Ok(f) => f,
        Err(e) => return failed(RunError::from(e).into()),
    };
    let capture = input.display().to_string();
    let packets_file = Partial::new(&out.join("packets"), name);
    let flows_file = Partial::new(&out.join("flows"), name);
    let mut packets = match PacketTable::create(&packets_file.partial, &capture) {
        Ok(t) => t,
        Err(e) => return failed(e.into()),
    };
    let flows = match FlowTable::create(&flows_file.partial, &capture) {
        Ok(t) => Rc::new(RefCell::new(t)),
        Err(e) => {
            drop(packets.finish());
            let _ = packets_file.finish(false);
            return failed(e.into());
        }
    };
    let mut analyzer = Analyzer::new(TrackerConfig::default(), Some(ReassemblyConfig::default()));
    analyzer.send_summaries_to(flows.clone());
    let mut write_error = None;
    let run = each_packet(&mut file, None, &mut analyzer, |d, _| {
        packets.push(d).map_err(|e| stop(&mut write_error, e))
    });
    analyzer.finish();
    drop(analyzer);
    let p = packets.finish();
    let f = flows.borrow_mut().finish();
    let finished = [
        packets_file.finish(p.is_ok() && write_error.is_none()),
        flows_file.finish(f.is_ok()),
    ];
    let error = match (write_error, p, f) {
        (Some(e), _, _) | (None, Err(e), _) | (None, Ok(_), Err(e)) => Some(ExportError::from(e)),
        (None, Ok(_), Ok(_)) => finished
            .into_iter()
            .find_map(Result::err)
            .or_else(|| run.err().map(ExportError::from)),
    };
    let flows = flows.borrow().written();
    Outcome {
        packets: packets.written(),
        flows,
        error,
    }
}
