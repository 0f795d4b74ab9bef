//! `wirelens live`: capture on an interface and explain each packet as it arrives, through
//! the same pipeline as `wirelens read`; and `wirelens interfaces`, the list of interfaces
//! to capture on.
//!
//! The order of a capture follows tcpdump's: check the filter (bad input is reported
//! before anything is opened) → open the capture handle (needs CAP_NET_RAW) → switch to
//! `--user` if asked → create the `-w` file (as that user) → say "listening on …" on stderr
//! → run the pipeline until `-c`, `--duration`, SIGINT or SIGTERM, draining what the kernel
//! had already captured → close the file → one line of counts on stderr.
//!
//! Output (and the `-w` file) is flushed whenever the capture has no packet waiting, not
//! after every packet: a packet shows up in a pipe (`| jq`) as soon as the link is quiet,
//! while under load many packets go out in one write, which keeps the kernel's buffer from
//! overflowing (`bench/live.sh` measures the drops).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use comfy_table::{ContentArrangement, Table};

use crate::capture::interfaces::Interface;
use crate::capture::live::{
    self, Backend, LiveConfig, LiveError, LiveSource, LiveStats, catch_stop_signals, compile_filter,
};
use crate::capture::writer::{CaptureWriter, OutFormat};
use crate::capture::{LinkType, Next, Source};
use crate::pipeline::{self, ReadOptions, RunError, Save};

/// Everything `wirelens live` was asked to do.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Which library captures.
    pub backend: Backend,
    /// Interface, snapshot length, promiscuous mode, filter, duration.
    pub capture: LiveConfig,
    /// How to show the packets: format, `-c`, width, reassembly (as for `read`).
    pub show: ReadOptions,
    /// Write every captured packet to this file (`-w`).
    pub write: Option<PathBuf>,
    /// The `-w` file's format.
    pub write_format: OutFormat,
    /// Switch to this user once the capture handle is open (`--user`, as `tcpdump -Z`).
    pub user: Option<String>,
}

/// Runs a live capture, rendering to `out`; see the module documentation for the order of
/// events. Returns when the capture ends; the `-w` file is complete and closed by then.
pub fn run(opts: &LiveOptions, out: &mut dyn Write) -> Result<(), RunError> {
    if let Some(expr) = &opts.capture.filter {
        // A first check, before anything is opened; each backend compiles it again for
        // the link type it opens.
        compile_filter(expr, live::expected_link_type(&opts.capture.iface))?;
    }
    catch_stop_signals()?;
    let mut source = LiveSource::open(opts.backend, &opts.capture)?;
    let iface = opts.capture.iface.as_str();
    let link = source.link_type().unwrap_or(LinkType::ETHERNET);
    if !link.is_supported() {
        return Err(LiveError::LinkType {
            iface: iface.to_string(),
            link: link.to_string(),
        }
        .into());
    }
    if let Some(user) = &opts.user {
        crate::privilege::drop_to_user(user).map_err(LiveError::from)?;
    }
    let file = match &opts.write {
        Some(path) => Some((path.as_path(), RefCell::new(create_file(path)?))),
        None => None,
    };
    let mut writer = match &file {
        Some((path, f)) => Some(start_file(path, f, opts.write_format, link)?),
        None => None,
    };
    eprintln!("{}", listening_line(opts, link));
    let shared_out = RefCell::new(out);
    let result = {
        let mut idle = FlushWhenIdle {
            source: &mut source,
            out: &shared_out,
            file: file.as_ref().map(|(path, f)| (*path, f)),
        };
        let save = match (&file, writer.as_mut()) {
            (Some((path, _)), Some(writer)) => Some(Save { path, writer }),
            _ => None,
        };
        let mut out = DeferFlush(&shared_out);
        pipeline::show_source(&mut idle, &opts.show, save, true, &mut out)
    };
    let out = shared_out.into_inner();
    let flushed = out.flush().map_err(RunError::Output);
    let closed = match (writer, &file) {
        (Some(w), Some((path, _))) => w.into_inner().map(drop).map_err(|e| save_error(path, e)),
        _ => Ok(()),
    };
    let closed = closed.and_then(|()| match file {
        Some((path, f)) => close_file(f, path),
        None => Ok(()),
    });
    eprintln!("{}", report(iface, source.backend(), &source.stats()));
    result.and(flushed).and(closed)
}

/// The pipeline's output (or the `-w` file) while capturing: writes go straight through,
/// but the flush after each packet is put off until the capture is idle
/// ([`FlushWhenIdle`]).
struct DeferFlush<'a, W: Write + ?Sized>(&'a RefCell<W>);

impl<W: Write + ?Sized> Write for DeferFlush<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .try_borrow_mut()
            .map_err(io::Error::other)?
            .write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0
            .try_borrow_mut()
            .map_err(io::Error::other)?
            .write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The live source, flushing the output and the `-w` file each time it has nothing to
/// hand out (the kernel has no packet waiting, or the filter rejected one).
struct FlushWhenIdle<'a, S: ?Sized, W: Write + ?Sized> {
    source: &'a mut S,
    out: &'a RefCell<W>,
    file: Option<(&'a Path, &'a RefCell<BufWriter<File>>)>,
}

impl<S, W> Source for FlushWhenIdle<'_, S, W>
where
    S: Source + ?Sized,
    RunError: From<S::Error>,
    W: Write + ?Sized,
{
    type Error = RunError;

    fn name(&self) -> &str {
        self.source.name()
    }

    fn link_type(&self) -> Option<LinkType> {
        self.source.link_type()
    }

    fn interface_names(&self) -> Option<std::sync::Arc<crate::capture::InterfaceNames>> {
        self.source.interface_names()
    }

    fn read_frame(&mut self, notes: &mut Vec<String>) -> Result<Next<'_>, RunError> {
        match self.source.read_frame(notes) {
            Ok(Next::Nothing) => {
                if let Some((path, f)) = self.file {
                    let flushed = f.try_borrow_mut().map_err(io::Error::other);
                    flushed
                        .and_then(|mut f| f.flush())
                        .map_err(|source| save_error(path, source))?;
                }
                let flushed = self.out.try_borrow_mut().map_err(io::Error::other);
                flushed
                    .and_then(|mut o| o.flush())
                    .map_err(RunError::Output)?;
                Ok(Next::Nothing)
            }
            other => other.map_err(RunError::from),
        }
    }
}

/// The error for the `-w` file at `path`.
fn save_error(path: &Path, source: io::Error) -> RunError {
    RunError::Live(LiveError::SaveFile {
        path: path.display().to_string(),
        source,
    })
}

/// Creates the `-w` file.
fn create_file(path: &Path) -> Result<BufWriter<File>, LiveError> {
    let file = File::create(path).map_err(|source| LiveError::SaveFile {
        path: path.display().to_string(),
        source,
    })?;
    Ok(BufWriter::new(file))
}

/// Writes the `-w` file's header.
fn start_file<'a>(
    path: &Path,
    file: &'a RefCell<BufWriter<File>>,
    format: OutFormat,
    link: LinkType,
) -> Result<CaptureWriter<DeferFlush<'a, BufWriter<File>>>, LiveError> {
    CaptureWriter::new(DeferFlush(file), format, link).map_err(|source| LiveError::SaveFile {
        path: path.display().to_string(),
        source,
    })
}

/// Flushes the `-w` file and makes sure it reached the disk. A file that is not a
/// regular file (`-w /dev/null`, a pipe) has no disk to reach: it is only flushed.
fn close_file(file: RefCell<BufWriter<File>>, path: &Path) -> Result<(), RunError> {
    let file = file
        .into_inner()
        .into_inner()
        .map_err(|e| save_error(path, e.into_error()))?;
    let regular = file.metadata().map(|m| m.is_file()).unwrap_or(true);
    if regular {
        file.sync_all().map_err(|e| save_error(path, e))?;
    }
    Ok(())
}

/// The line printed on stderr once the capture is open, as tcpdump's "listening on …".
fn listening_line(opts: &LiveOptions, link: LinkType) -> String {
    let c = &opts.capture;
    let mut s = format!(
        "listening on {}, link-type {link}, snapshot length {} bytes, backend {}",
        c.iface, c.snaplen, opts.backend
    );
    if let Some(f) = &c.filter {
        s.push_str(&format!(", filter {f:?}"));
    }
    if !c.promisc {
        s.push_str(", not promiscuous");
    }
    if let Some(p) = &opts.write {
        s.push_str(&format!(", writing to {}", p.display()));
    }
    s.push_str(" (Ctrl-C stops)");
    s
}

/// The one-line report at the end, like tcpdump's three lines of counts.
pub fn report(iface: &str, backend: Backend, s: &LiveStats) -> String {
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    let mut line = format!(
        "wirelens: {} packet{} captured on {iface}",
        s.captured,
        plural(s.captured)
    );
    if let Some(signal) = live::stop_signal() {
        line.push_str(&format!(" (stopped by {signal})"));
    }
    match backend {
        Backend::Pcap => {
            if let Some(n) = s.passed_filter {
                line.push_str(&format!(", {n} received by filter"));
            }
            if let Some(n) = s.dropped {
                line.push_str(&format!(", {n} dropped by kernel"));
            }
            if let Some(n) = s.if_dropped {
                line.push_str(&format!(", {n} dropped by interface"));
            }
        }
        Backend::Pnet => {
            if let Some(n) = s.received {
                line.push_str(&format!(", {n} reached the socket"));
            }
            if let Some(n) = s.passed_filter {
                line.push_str(&format!(", {n} passed the filter"));
            }
            match s.dropped {
                Some(n) => line.push_str(&format!(", {n} dropped by kernel")),
                None => line.push_str(", kernel drops unknown"),
            }
        }
    }
    line.push_str(&format!(" (backend {backend})."));
    line
}

/// Writes the interfaces as a table: name, state, kind, MAC and addresses.
pub fn write_interfaces(out: &mut dyn Write, list: &[Interface], width: u16) -> io::Result<()> {
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width);
    t.set_header(vec!["#", "name", "state", "kind", "MAC", "addresses"]);
    for i in list {
        let state = match (i.up, i.running) {
            (true, true) => "up",
            (true, false) => "up, no carrier",
            (false, _) => "down",
        };
        let kind = match (i.loopback, i.kind) {
            (true, _) => "loopback",
            (false, Some(k)) => k,
            (false, None) => "",
        };
        let addresses = if i.addresses.is_empty() {
            "-".to_string()
        } else {
            i.addresses.join("\n")
        };
        t.add_row(vec![
            i.index.to_string(),
            i.name.clone(),
            state.to_string(),
            kind.to_string(),
            i.mac.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
            addresses,
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{} interface{}. Capture on one with: wirelens live -i NAME (needs CAP_NET_RAW).",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::MacAddr;

    #[test]
    fn the_report_says_what_each_backend_knows() {
        let s = LiveStats {
            captured: 12,
            received: None,
            passed_filter: Some(14),
            dropped: Some(0),
            if_dropped: Some(0),
        };
        let r = report("vb", Backend::Pcap, &s);
        assert!(r.starts_with("wirelens: 12 packets captured on vb"), "{r}");
        assert!(
            r.contains("14 received by filter, 0 dropped by kernel"),
            "{r}"
        );
        let s = LiveStats {
            captured: 1,
            received: Some(40),
            passed_filter: Some(1),
            dropped: None,
            if_dropped: None,
        };
        let r = report("vb", Backend::Pnet, &s);
        assert!(r.contains("1 packet captured on vb"), "{r}");
        assert!(
            r.contains("40 reached the socket, 1 passed the filter"),
            "{r}"
        );
        assert!(r.contains("kernel drops unknown"), "{r}");
    }

    /// A source that follows a script: `Some(n)` hands out an n-byte packet, `None`
    /// finds nothing waiting; then the end.
    struct Scripted {
        steps: Vec<Option<usize>>,
        pos: usize,
        bytes: [u8; 64],
    }

    impl Source for Scripted {
        type Error = LiveError;

        fn name(&self) -> &str {
            "scripted"
        }

        fn link_type(&self) -> Option<LinkType> {
            Some(LinkType::ETHERNET)
        }

        fn read_frame(&mut self, _notes: &mut Vec<String>) -> Result<Next<'_>, LiveError> {
            let step = self.steps.get(self.pos).copied();
            self.pos += 1;
            Ok(match step {
                None => Next::End,
                Some(None) => Next::Nothing,
                Some(Some(n)) => {
                    let bytes = self.bytes.get(..n).unwrap_or(&self.bytes);
                    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                    Next::Frame(crate::capture::Frame {
                        ts: crate::capture::Timestamp::default(),
                        caplen: len,
                        len,
                        link: LinkType::ETHERNET,
                        interface: None,
                        bytes,
                    })
                }
            })
        }
    }

    /// Counts the bytes written to it, and at each flush how many had been written.
    #[derive(Default)]
    struct Counting {
        written: usize,
        flushed_at: Vec<usize>,
    }

    impl Write for Counting {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written += buf.len();
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            self.flushed_at.push(self.written);
            Ok(())
        }
    }

    #[test]
    fn output_is_flushed_when_the_capture_is_idle_not_after_each_packet() {
        // Three packets in a row, a quiet moment, one more, another quiet moment.
        let mut source = Scripted {
            steps: vec![Some(60), Some(60), Some(14), None, Some(42), None],
            pos: 0,
            bytes: [0; 64],
        };
        let out = RefCell::new(Counting::default());
        let mut idle = FlushWhenIdle {
            source: &mut source,
            out: &out,
            file: None,
        };
        let mut notes = Vec::new();
        let mut shown = Vec::new();
        loop {
            match idle.read_frame(&mut notes) {
                Ok(Next::Frame(f)) => shown.push(f.bytes.len()),
                Ok(Next::Nothing) => continue,
                Ok(Next::End) => break,
                Err(e) => panic!("{e}"),
            }
            // What the pipeline does with a packet: one line, then a flush.
            let mut line = DeferFlush(&out);
            line.write_all(b"line\n").unwrap_or_else(|e| panic!("{e}"));
            line.flush().unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(shown, [60, 60, 14, 42]);
        let c = out.into_inner();
        assert_eq!(c.written, 20);
        // Flushed twice, at the quiet moments: after three lines, then after the fourth.
        assert_eq!(c.flushed_at, [15, 20]);
    }

    #[test]
    fn the_buffer_size_stays_within_its_bounds() {
        let mut c = LiveConfig::new("vb");
        assert_eq!(c.buffer_bytes(), 16 * 1024 * 1024);
        c.buffer_kib = 2048;
        assert_eq!(c.buffer_bytes(), 2 * 1024 * 1024);
        c.buffer_kib = 0;
        assert_eq!(c.buffer_bytes(), 1024);
        c.buffer_kib = u32::MAX;
        assert_eq!(c.buffer_bytes(), 1024 * 1024 * 1024);
    }

    #[test]
    fn the_interface_table_shows_every_column() {
        let list = [Interface {
            name: "vb".into(),
            index: 7,
            mac: Some(MacAddr([2, 0x77, 0, 0, 0, 2])),
            addresses: vec!["10.77.0.2/24".into()],
            up: true,
            running: false,
            loopback: false,
            kind: Some("Ethernet"),
        }];
        let mut out = Vec::new();
        write_interfaces(&mut out, &list, 100).unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out);
        for want in [
            "vb",
            "up, no carrier",
            "Ethernet",
            "02:77:00:00:00:02",
            "10.77.0.2/24",
            "1 interface.",
        ] {
            assert!(text.contains(want), "{want} missing in\n{text}");
        }
    }
}
