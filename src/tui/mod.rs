//! `wirelens tui`: an interactive viewer of a capture file or a live interface.
//!
//! It is the same pipeline as `read` — source → dissect → analyse → render — with the
//! screen as the renderer: the packet list shows the summary line, the layer view the
//! sections and fields of the table format and the connection story, the ladder the
//! drawing of `flows --ladder`.
//!
//! * [`store`] holds the packets: a file is indexed and analysed on background threads,
//!   and packets are dissected again when they are shown ([`brief`] keeps what analysis
//!   found in 8 bytes a packet);
//! * [`app`] is the state and what keys do; [`draw`] draws it;
//! * [`filter`] is the display filter; [`save`] writes what is shown; [`flows`] keeps
//!   the conversations table compact.

pub mod app;
pub mod brief;
pub mod draw;
pub mod filter;
pub mod flows;
pub mod save;
pub mod sgr;
pub mod store;

use std::io::{self, IsTerminal, Write};
use std::panic::PanicHookInfo;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;
use std::time::Duration;

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::capture::live::{self, Backend, LiveConfig, LiveSource};
use crate::capture::writer::{CaptureWriter, OutFormat};
use crate::capture::{LinkType, Source};
use app::App;
use store::Store;

/// A live capture to view.
#[derive(Debug, Clone)]
pub struct LiveInput {
    /// Which capture library.
    pub backend: Backend,
    /// Interface, filter, snapshot length, buffer.
    pub config: LiveConfig,
    /// Write every captured packet here (`-w`).
    pub write: Option<PathBuf>,
    /// How many packets the view keeps (`--ring`).
    pub ring: usize,
}

/// What to view.
#[derive(Debug, Clone)]
pub enum Input {
    /// A capture file.
    File(PathBuf),
    /// A live interface.
    Live(LiveInput),
}

/// Why the viewer could not run, as a sentence; `code` is the exit code.
#[derive(Debug)]
pub struct TuiError {
    /// The sentence.
    pub message: String,
    /// The exit code (2 unusable input or terminal, 3 privilege or interface).
    pub code: u8,
}

impl std::fmt::Display for TuiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn err(code: u8, message: impl Into<String>) -> TuiError {
    TuiError {
        message: message.into(),
        code,
    }
}

/// Opens what to view: a file's background threads start, or the capture.
pub fn open(input: &Input) -> Result<Store, TuiError> {
    match input {
        Input::File(path) => Store::open(path).map_err(|e| err(2, e)),
        Input::Live(l) => {
            if let Some(expr) = &l.config.filter {
                live::compile_filter(expr, live::expected_link_type(&l.config.iface))
                    .map_err(|e| err(e.exit_code(), e.to_string()))?;
            }
            let source = LiveSource::open(l.backend, &l.config)
                .map_err(|e| err(e.exit_code(), e.to_string()))?;
            let link = source.link_type().unwrap_or(LinkType::ETHERNET);
            let save: Option<store::SaveFn> = match &l.write {
                Some(path) => {
                    let fail =
                        |e: io::Error| err(2, format!("Could not write {}: {e}.", path.display()));
                    let file = std::fs::File::create(path).map_err(fail)?;
                    let format = if path.extension().is_some_and(|e| e == "pcapng") {
                        OutFormat::Pcapng
                    } else {
                        OutFormat::Pcap
                    };
                    let mut w =
                        CaptureWriter::new(io::BufWriter::new(file), format, link).map_err(fail)?;
                    let shown = path.display().to_string();
                    Some(Box::new(move |d, bytes| {
                        let stage = d.ctx.tcp.as_ref().map(|c| c.stage.to_string());
                        w.write(d.ts, bytes, d.len, stage.as_deref())
                            .and_then(|()| w.flush())
                            .map_err(|e| {
                                io::Error::new(
                                    e.kind(),
                                    format!(
                                        "Could not write frame {} to {shown}: {e}. The capture goes on, but nothing more is saved.",
                                        d.n
                                    ),
                                )
                            })
                    }))
                }
                None => None,
            };
            Ok(Store::live(
                l.config.iface.clone(),
                source,
                l.ring,
                save,
                Box::new(|s: &mut LiveSource| s.stats().dropped),
            ))
        }
    }
}

/// The terminal is in raw mode on the alternate screen (set up by [`run`], and not yet
/// restored).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// What a background thread's panic said while the viewer held the terminal: shown in
/// the status bar, and printed once the terminal is restored.
static BACKGROUND_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Puts the terminal back as it was: cooked mode, main screen, no mouse reports, the
/// cursor shown. Only the first call after [`run`] set the terminal up does anything.
fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// A panic hook, as `std::panic::set_hook` takes it.
pub type PanicHook = Box<dyn Fn(&PanicHookInfo<'_>) + Send + Sync + 'static>;

/// The viewer's panic hook. A panic on the thread that draws (`ui`) first puts the
/// terminal back (`restore`), so that `previous` prints its message on the normal screen
/// and the shell is usable. A panic on a background thread (index, analysis, capture,
/// filter) leaves the screen to the viewer, which goes on without that thread: its
/// message is kept for the status bar and printed after the terminal is restored, as
/// printing it now would scribble over the screen.
pub fn restoring_hook(
    ui: ThreadId,
    restore: impl Fn() + Send + Sync + 'static,
    previous: PanicHook,
) -> PanicHook {
    Box::new(move |info| {
        if std::thread::current().id() == ui {
            restore();
            previous(info);
            return;
        }
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let name = std::thread::current()
            .name()
            .unwrap_or("a background thread")
            .to_string();
        *store::lock(&BACKGROUND_PANIC) = Some(format!("{name} failed{place}: {what}"));
    })
}

/// What a background thread's panic said, if one panicked while the viewer ran.
pub fn background_panic() -> Option<String> {
    store::lock(&BACKGROUND_PANIC).clone()
}

/// Runs the viewer until `q`, Ctrl-C or SIGTERM; the terminal is restored on every way
/// out, a panic included. `color` colours the screen by layer.
pub fn run(input: &Input, color: bool) -> Result<(), TuiError> {
    if !io::stdout().is_terminal() {
        return Err(err(
            2,
            "wirelens tui draws on a terminal and standard output is not one; to print the packets, use `wirelens read FILE`.",
        ));
    }
    let store = open(input)?;
    // SIGTERM (and SIGINT, should one come while raw mode is off) ends the loop cleanly.
    live::catch_stop_signals().map_err(|e| err(2, e.to_string()))?;
    let previous = std::panic::take_hook();
    std::panic::set_hook(restoring_hook(
        std::thread::current().id(),
        restore,
        previous,
    ));
    ACTIVE.store(true, Ordering::SeqCst);
    enable_raw_mode().map_err(|e| {
        ACTIVE.store(false, Ordering::SeqCst);
        err(2, format!("Could not set up the terminal: {e}."))
    })?;
    let entered = execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture);
    let result = entered
        .map_err(|e| err(2, format!("Could not set up the terminal: {e}.")))
        .and_then(|()| {
            let live = matches!(input, Input::Live(_));
            event_loop(App::new(store, color, live))
        });
    restore();
    if let Some(p) = background_panic() {
        eprintln!("wirelens: {p}");
    }
    result
}

fn event_loop(mut app: App) -> Result<(), TuiError> {
    let backend = CrosstermBackend::new(io::stdout());
    let mut term = Terminal::new(backend).map_err(|e| err(2, format!("Could not draw: {e}.")))?;
    let fail = |e: io::Error| err(2, format!("The terminal failed: {e}."));
    loop {
        term.draw(|f| draw::draw(f, &mut app)).map_err(fail)?;
        if app.quit || live::stop_requested() {
            break;
        }
        // Redraw at least every 100 ms: indexing, analysis and capture move on.
        if event::poll(Duration::from_millis(100)).map_err(fail)? {
            // Take every event that is waiting before drawing again.
            loop {
                match event::read().map_err(fail)? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => app.key(k),
                    Event::Mouse(m) => app.mouse(m),
                    _ => {}
                }
                if app.quit || !event::poll(Duration::ZERO).map_err(fail)? {
                    break;
                }
            }
        }
    }
    let _ = term.show_cursor();
    let _ = io::stdout().flush();
    app.store.close();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// The hook restores the terminal for a panic of the drawing thread, before the
    /// message is printed, and keeps a background thread's panic for the status bar.
    #[test]
    fn a_panic_of_the_drawing_thread_restores_the_terminal_first() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (a, b) = (Arc::clone(&log), Arc::clone(&log));
        let previous = std::panic::take_hook();
        std::panic::set_hook(restoring_hook(
            std::thread::current().id(),
            move || store::lock(&a).push("restore"),
            Box::new(move |_| store::lock(&b).push("print")),
        ));
        let drawing = std::panic::catch_unwind(|| panic!("drawing failed"));
        let background = std::thread::Builder::new()
            .name("analysis".into())
            .spawn(|| panic!("no more packets"))
            .map(|t| t.join());
        std::panic::set_hook(previous);
        assert!(drawing.is_err());
        assert!(matches!(background, Ok(Err(_))));
        assert_eq!(*store::lock(&log), ["restore", "print"]);
        let kept = background_panic().unwrap_or_default();
        assert!(
            kept.starts_with("analysis failed at src/tui/mod.rs:"),
            "{kept}"
        );
        assert!(kept.ends_with(": no more packets"), "{kept}");
    }
}
