//! A progress bar on stderr while a big capture file is read: bytes read of the total,
//! bytes and packets per second, and the time left.
//!
//! It is drawn only when the reader would otherwise stare at a silent terminal: stderr is
//! a terminal, stdout is not (or the mode prints nothing per packet: `flows`, `stats`),
//! and the file is at least [`THRESHOLD`] bytes. It is never drawn into a pipe or a file,
//! so scripts never see it, and `--no-progress` turns it off. It costs nothing per
//! packet: the position is updated every [`EVERY`] packets from the reader's own byte
//! count, and indicatif limits its drawing to a few times a second.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::capture::file::{CaptureError, FileSource};
use crate::capture::{LinkType, Next, Source};

/// Files smaller than this (8 MiB) are read in well under a second: no bar.
pub const THRESHOLD: u64 = 8 << 20;

/// Packets between two updates of the bar (often enough for the slow table format, rare
/// enough to cost nothing: an update is a clock read and a lock).
pub const EVERY: u64 = 256;

/// Draws per second, at most.
const REFRESH_HZ: u8 = 8;

/// Whether a mode may show a bar, before the file's size is known: `writes_per_packet`
/// is true when it prints something for every packet on stdout (`read` without `-w`).
/// The binary calls it with `enabled` false for `--no-progress`.
pub fn allowed(enabled: bool, writes_per_packet: bool) -> bool {
    enabled
        && std::io::stderr().is_terminal()
        && (!writes_per_packet || !std::io::stdout().is_terminal())
}

/// A bar for reading `path` when `allowed` (see [`allowed`]) and the file is at least
/// [`THRESHOLD`] bytes; `None` otherwise (also for standard input, whose size is unknown).
pub fn for_file(allowed: bool, path: &Path) -> Option<ProgressBar> {
    if !allowed || path == Path::new("-") {
        return None;
    }
    let size = std::fs::metadata(path).ok()?.len();
    (size >= THRESHOLD).then(|| bar(size, ProgressDrawTarget::stderr_with_hz(REFRESH_HZ)))
}

/// A bar for `total` bytes drawn to `target`.
pub fn bar(total: u64, target: ProgressDrawTarget) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{spinner} reading {binary_bytes}/{binary_total_bytes} {wide_bar} {binary_bytes_per_sec}, {msg}, ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("█▌·");
    let bar = ProgressBar::with_draw_target(Some(total), target).with_style(style);
    bar.set_message("0 packets/s");
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// A capture file whose reading moves a progress bar. It reads exactly as the file does.
#[derive(Debug)]
pub struct Tracked<'a> {
    inner: &'a mut FileSource,
    bar: Option<ProgressBar>,
    packets: u64,
}

impl<'a> Tracked<'a> {
    /// Reads `inner`, moving `bar` (if any) as bytes are consumed.
    pub fn new(inner: &'a mut FileSource, bar: Option<ProgressBar>) -> Tracked<'a> {
        Tracked {
            inner,
            bar,
            packets: 0,
        }
    }

    fn update(&self) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.inner.bytes_read());
            let secs = bar.elapsed().as_secs_f64();
            if secs > 0.0 {
                let rate = (self.packets as f64 / secs) as u64;
                bar.set_message(format!("{rate} packets/s"));
            }
        }
    }
}

impl Drop for Tracked<'_> {
    /// Removes the bar from the terminal, at the end or on an error.
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Source for Tracked<'_> {
    type Error = CaptureError;

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn link_type(&self) -> Option<LinkType> {
        self.inner.link_type()
    }

    #[inline]
    fn read_frame(&mut self, notes: &mut Vec<String>) -> Result<Next<'_>, Self::Error> {
        self.packets += 1;
        if self.packets.is_multiple_of(EVERY) {
            self.update();
        }
        Source::read_frame(self.inner, notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_and_stdin_get_no_bar() {
        assert!(for_file(true, Path::new("-")).is_none());
        assert!(for_file(true, Path::new("captures/tcp-echo.pcap")).is_none());
        assert!(for_file(false, Path::new("captures/tcp-echo.pcap")).is_none());
    }

    #[test]
    fn tracked_reads_like_the_file() {
        let path = Path::new("captures/fragments.pcap");
        let (mut a, mut b) = match (FileSource::open(path), FileSource::open(path)) {
            (Ok(a), Ok(b)) => (a, b),
            _ => panic!("captures/fragments.pcap cannot be opened"),
        };
        let hidden = bar(1, ProgressDrawTarget::hidden());
        let mut t = Tracked::new(&mut b, Some(hidden));
        let mut notes = Vec::new();
        loop {
            let x = match a.next_frame_with_notes(&mut notes) {
                Ok(Some(f)) => Some(f.bytes.to_vec()),
                _ => None,
            };
            let y = match t.read_frame(&mut notes) {
                Ok(Next::Frame(f)) => Some(f.bytes.to_vec()),
                _ => None,
            };
            assert_eq!(x, y);
            if x.is_none() {
                break;
            }
        }
    }
}
