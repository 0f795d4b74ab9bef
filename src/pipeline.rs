//! The one pipeline every mode shares: source → dissect → render, into a buffered writer.

use std::io::{self, Write};
use std::path::Path;

use crate::analysis::Analyzer;
use crate::capture::LinkType;
use crate::capture::file::{CaptureError, FileSource};
use crate::dissect::dissect;
use crate::render::{self, Context, Format};

/// How `wirelens read` should show a capture.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Output form.
    pub format: Format,
    /// Stop after this many packets.
    pub count: Option<u64>,
    /// Table width in columns.
    pub width: u16,
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
    /// Writing the output failed (a closed pipe is reported as this too).
    #[error("could not write the output: {0}")]
    Output(#[source] io::Error),
}

impl RunError {
    /// The process exit code for this error: 2 for unreadable input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Capture(_) | RunError::LinkType { .. } => 2,
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
    if let Some(link) = source.link_type()
        && link != LinkType::ETHERNET
    {
        return Err(RunError::LinkType {
            file: source.name().to_string(),
            number: link.0,
            name: link.name(),
        });
    }
    let mut ctx = Context {
        first_ts: None,
        width: opts.width,
    };
    let mut analyzer = Analyzer::default();
    let mut n = 0u64;
    let mut source_notes = Vec::new();
    while opts.count.is_none_or(|c| n < c) {
        let frame = match source.next_frame_with_notes(&mut source_notes)? {
            Some(f) => f,
            None => break,
        };
        n += 1;
        let mut d = dissect(n, &frame);
        analyzer.analyse(&mut d);
        let bytes = frame.bytes;
        if !source_notes.is_empty() {
            d.notes.splice(0..0, source_notes.drain(..));
        }
        render::write_packet(out, opts.format, &mut ctx, &d, bytes).map_err(RunError::Output)?;
    }
    Ok(())
}
