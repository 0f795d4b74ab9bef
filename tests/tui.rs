//! The interactive viewer (`wirelens tui`), tested as a person uses it: snapshots of each
//! pane drawn by ratatui's `TestBackend` at 80×24 and 120×40 on bundled captures, the
//! packets it shows checked against what `read` says, and the real binary driven in
//! tmux: keys, the terminal restored on `q`, Ctrl-C and SIGTERM, monochrome, and a live
//! view of a connection between two network namespaces the test makes. Set
//! `UPDATE_GOLDEN=1` to rewrite the snapshots after a deliberate change.
//!
//! The tmux tests skip with a printed reason without tmux, and the live one without
//! root (namespaces); under `CI=true` they must run. Waits only keep a broken build
//! from hanging; no test measures time.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use wirelens::capture::file::FileSource;
use wirelens::lab::netns::{NetnsPair, in_netns};
use wirelens::pipeline::{self, ReadOptions};
use wirelens::render::Format;
use wirelens::tui::app::{App, Pane};
use wirelens::tui::draw;
use wirelens::tui::store::Store;

/// A bundled capture, by a path relative to the package (tests run there), so that the
/// status bar and the snapshots do not depend on where the checkout is.
fn capture(name: &str) -> PathBuf {
    Path::new("captures").join(name)
}

/// A monochrome viewer of a bundled capture, once it is indexed and analysed.
fn open(name: &str) -> App {
    let store = Store::open(&capture(name)).expect("a bundled capture opens");
    assert!(
        store.wait(Duration::from_secs(20)),
        "{name} was not analysed in time"
    );
    App::new(store, false, false)
}

fn key(app: &mut App, code: KeyCode) {
    app.key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The screen as text, one line per row, trailing blanks cut.
fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    // Twice: the first draw learns the pane sizes that keys and scrolling use.
    t.draw(|f| draw::draw(f, app)).expect("drawn");
    t.draw(|f| draw::draw(f, app)).expect("drawn");
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The drawn buffer of the viewer at `w`×`h`.
fn buffer(app: &mut App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("a test terminal");
    t.draw(|f| draw::draw(f, app)).expect("drawn");
    t.draw(|f| draw::draw(f, app)).expect("drawn");
    t.backend().buffer().clone()
}

/// Cells (column, row) drawn in a colour, foreground or background.
fn coloured(buf: &Buffer) -> Vec<(u16, u16)> {
    let a = buf.area;
    (a.top()..a.bottom())
        .flat_map(|y| (a.left()..a.right()).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let c = &buf[(x, y)];
            c.fg != Color::Reset || c.bg != Color::Reset
        })
        .collect()
}

fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/tui")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).expect("golden written");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert_eq!(got, want, "{name} differs from {}", path.display());
}

/// Both sizes of one view: `setup` brings a fresh viewer to it.
fn both_sizes(name: &str, file: &str, setup: impl Fn(&mut App)) -> [String; 2] {
    [(80, 24), (120, 40)].map(|(w, h)| {
        let mut app = open(file);
        screen(&mut app, w, h);
        setup(&mut app);
        let s = screen(&mut app, w, h);
        golden(&format!("{name}-{w}x{h}"), &s);
        s
    })
}

#[test]
fn handshake_selected() {
    let [small, big] = both_sizes("tcp-echo-synack", "tcp-echo.pcap", |app| {
        key(app, KeyCode::Down)
    });
    for s in [&small, &big] {
        assert!(s.contains("handshake 2/3"), "{s}");
        assert!(s.contains("Layers of frame 2"), "{s}");
    }
    assert!(
        big.contains("ack 2629971226 = client ISN 2629971225 + 1"),
        "{big}"
    );
}

#[test]
fn fragment_with_its_tiling() {
    let [small, big] = both_sizes("fragments-tiling", "fragments.pcap", |app| {
        typed(app, "jj");
    });
    for s in [&small, &big] {
        assert!(
            s.contains("Fragments of the reassembled datagram (4008 bytes"),
            "{s}"
        );
    }
    assert!(big.contains("█"), "{big}");
}

#[test]
fn arp_reply_paired() {
    let [small, big] = both_sizes("arp-reply", "arp.pcap", |app| key(app, KeyCode::Down));
    for s in [&small, &big] {
        assert!(s.contains("answers") && s.contains("frame 1"), "{s}");
    }
    assert!(big.contains("(answers frame 1, 0.024 ms"), "{big}");
}

/// A pcapng file of two interfaces: the layer view's heading says which one the packet
/// came from, as `read --format table` says it.
#[test]
fn the_pcapng_interface_in_the_layer_heading() {
    let [small, big] = both_sizes("mixed-interfaces-last", "mixed-interfaces.pcapng", |app| {
        key(app, KeyCode::End)
    });
    for s in [&small, &big] {
        assert!(
            s.contains("Layers of frame 46, on interface 0 (tun0) of the file (Enter folds)"),
            "{s}"
        );
    }
    let mut app = open("mixed-interfaces.pcapng");
    let s = screen(&mut app, 120, 40);
    assert!(
        s.contains("Layers of frame 1, on interface 1 of the file (Enter folds)"),
        "{s}"
    );
}

#[test]
fn filter_applied() {
    let [small, _] = both_sizes("arp-filter-icmp", "arp.pcap", |app| {
        key(app, KeyCode::Char('/'));
        typed(app, "icmp");
        key(app, KeyCode::Enter);
        assert!(app.wait_filter(Duration::from_secs(10)));
    });
    assert!(small.contains("Packets (2) filter: icmp"), "{small}");
    assert!(!small.contains("Who has"), "{small}");
}

/// Without colour (`NO_COLOR`, `--color never`) no cell of any view has a colour, and
/// the selection is shown in reverse video: the selected packet's row, the selected
/// field, the selected byte, the ladder's packet and the table's row.
#[test]
fn monochrome_has_no_colour_and_shows_the_selection_reversed() {
    let reversed = |buf: &Buffer, y: u16| {
        (buf.area.left()..buf.area.right())
            .all(|x| buf[(x, y)].modifier.contains(Modifier::REVERSED))
    };
    let mut app = open("tcp-echo.pcap");
    assert!(!app.color);
    let buf = buffer(&mut app, 120, 40);
    key(&mut app, KeyCode::Down);
    let buf2 = buffer(&mut app, 120, 40);
    for b in [&buf, &buf2] {
        assert_eq!(coloured(b), [], "coloured cells in monochrome");
    }
    // The list's first row (under its title) is selected, then the second.
    let list = app.areas.list;
    assert!(
        reversed(&buf, list.y),
        "the selected packet is not reversed"
    );
    assert!(!reversed(&buf, list.y + 1));
    assert!(
        reversed(&buf2, list.y + 1),
        "the selected packet is not reversed"
    );
    assert!(!reversed(&buf2, list.y));
    // The selected field of the layer view and its bytes in the hex dump.
    key(&mut app, KeyCode::Tab);
    // Byte 23 is IPv4's protocol field.
    app.select_byte(23);
    let b = buffer(&mut app, 120, 40);
    assert_eq!(coloured(&b), []);
    let (layers, hex) = (app.areas.layers, app.areas.hex);
    let row = layers.y + (app.layer_row - app.layer_top) as u16;
    assert!(
        (layers.x + 1..layers.right()).any(|x| b[(x, row)].modifier.contains(Modifier::REVERSED)),
        "the selected field is not reversed"
    );
    let hex_cells = (hex.top()..hex.bottom())
        .flat_map(|y| (hex.left()..hex.right()).map(move |x| (x, y)))
        .filter(|&(x, y)| b[(x, y)].modifier.contains(Modifier::REVERSED))
        .count();
    assert_eq!(app.field, Some((23, 1)));
    assert!(hex_cells > 0, "the selected field's bytes are not reversed");
    // The ladder, the flows, the neighbours and the help: no colour either.
    for keys in ["l", "lf", "fa", "a?"] {
        typed(&mut app, keys);
        let b = buffer(&mut app, 120, 40);
        assert_eq!(coloured(&b), [], "coloured cells after {keys}");
    }
    key(&mut app, KeyCode::Char('?'));
    typed(&mut app, "f");
    let b = buffer(&mut app, 120, 40);
    let lower = app.areas.lower;
    assert!(
        (lower.left()..lower.right())
            .any(|x| b[(x, lower.y)].modifier.contains(Modifier::REVERSED)),
        "the selected flow is not reversed"
    );

    // The same screen in colour does have colours: the check above can fail.
    let mut app = App::new(
        Store::open(&capture("tcp-echo.pcap")).expect("opens"),
        true,
        false,
    );
    assert!(app.store.wait(Duration::from_secs(20)));
    assert_ne!(coloured(&buffer(&mut app, 120, 40)), []);
}

fn mouse(app: &mut App, kind: MouseEventKind, column: u16, row: u16) {
    app.mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    });
}

fn click(app: &mut App, column: u16, row: u16) {
    mouse(app, MouseEventKind::Down(MouseButton::Left), column, row);
}

/// crossterm's mouse events, as the event loop hands them over: a click selects the
/// packet, layer row, byte (and its field) or table row under it and focuses its pane;
/// the wheel moves the selection of the pane under it, three rows a notch.
#[test]
fn the_mouse_selects_by_click_and_scrolls_by_wheel() {
    let mut app = open("tcp-echo.pcap");
    screen(&mut app, 120, 40);
    let list = app.areas.list;
    click(&mut app, list.x + 5, list.y + 3);
    assert_eq!((app.cur, app.focus), (Some(4), Pane::List));
    mouse(&mut app, MouseEventKind::ScrollDown, list.x + 5, list.y);
    assert_eq!(app.cur, Some(7));
    mouse(&mut app, MouseEventKind::ScrollUp, list.x + 50, list.y + 1);
    assert_eq!(app.cur, Some(4));
    for _ in 0..3 {
        mouse(&mut app, MouseEventKind::ScrollDown, list.x, list.y);
    }
    assert_eq!(app.cur, Some(10), "the wheel stops at the last packet");
    click(&mut app, list.x, list.y + 3);
    assert_eq!(app.cur, Some(4));

    // In the hex dump, "0010  " then three columns a byte: byte 23 (IPv4's protocol
    // field) is the eighth of the second line.
    screen(&mut app, 120, 40);
    let hex = app.areas.hex;
    click(&mut app, hex.x + 6 + 3 * 7, hex.y + 1);
    assert_eq!((app.byte, app.focus), (Some(23), Pane::Hex));
    let s = screen(&mut app, 120, 40);
    assert_eq!(app.field, Some((23, 1)));
    assert!(s.contains("Hex: bytes 23–23 selected"), "{s}");
    // The wheel over the hex dump moves the byte three lines of 16 bytes a notch, and
    // stops at the frame's last byte (it has 71).
    mouse(&mut app, MouseEventKind::ScrollUp, hex.x + 6, hex.y);
    assert_eq!(app.byte, Some(0));
    mouse(&mut app, MouseEventKind::ScrollDown, hex.x + 6, hex.y);
    assert_eq!(app.byte, Some(3 * 16));
    mouse(&mut app, MouseEventKind::ScrollDown, hex.x + 6, hex.y);
    assert_eq!(app.byte, Some(70));
    assert_eq!(app.focus, Pane::Hex, "the wheel does not move the focus");

    // In the layer view: the third row shown.
    let layers = app.areas.layers;
    click(&mut app, layers.x + 3, layers.y + 2);
    assert_eq!(
        (app.layer_row, app.focus),
        (app.layer_top + 2, Pane::Layers)
    );
    mouse(&mut app, MouseEventKind::ScrollDown, layers.x + 3, layers.y);
    assert_eq!(app.layer_row, app.layer_top + 5);

    // A click on no pane (the status bar) changes nothing.
    click(&mut app, 3, 39);
    assert_eq!((app.cur, app.focus), (Some(4), Pane::Layers));

    // The flows table: a click selects a row, the wheel scrolls.
    key(&mut app, KeyCode::Char('f'));
    screen(&mut app, 120, 40);
    let lower = app.areas.lower;
    click(&mut app, lower.x + 2, lower.y);
    assert_eq!((app.lower_row, app.focus), (0, Pane::Lower));
    // One conversation: the wheel cannot go past it.
    mouse(&mut app, MouseEventKind::ScrollDown, lower.x + 2, lower.y);
    assert_eq!(app.lower_row, 0);
}

/// Esc at the filter's prompt leaves it and clears the filter in one press.
#[test]
fn one_esc_at_the_prompt_clears_the_filter() {
    let mut app = open("arp.pcap");
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "icmp");
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_filter(Duration::from_secs(10)));
    assert_eq!(app.view_len(), 2);
    key(&mut app, KeyCode::Char('/'));
    assert!(app.prompt.is_some());
    key(&mut app, KeyCode::Esc);
    assert!(app.prompt.is_none());
    assert!(app.filter.is_none());
    assert_eq!(app.view_len(), 6);
}

#[test]
fn ladder_flows_and_neighbours() {
    both_sizes("tcp-echo-ladder", "tcp-echo.pcap", |app| {
        typed(app, "jjl");
    });
    let [small, _] = both_sizes("tcp-echo-flows", "tcp-echo.pcap", |app| {
        key(app, KeyCode::Char('f'))
    });
    assert!(small.contains("10.77.0.1:40090"), "{small}");
    let [small, _] = both_sizes("arp-neighbours", "arp.pcap", |app| {
        key(app, KeyCode::Char('a'))
    });
    assert!(small.contains("10.77.0.2"), "{small}");
    both_sizes("tcp-echo-help", "tcp-echo.pcap", |app| {
        key(app, KeyCode::Char('?'))
    });
}

#[test]
fn enter_on_a_flow_filters_the_list_to_it() {
    let mut app = open("tcp-echo.pcap");
    screen(&mut app, 120, 40);
    key(&mut app, KeyCode::Char('f'));
    screen(&mut app, 120, 40);
    key(&mut app, KeyCode::Enter);
    assert!(app.wait_filter(Duration::from_secs(10)));
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("filter: tcp and stream 0"), "{s}");
    assert_eq!(app.view_len(), 10);
}

#[test]
fn selecting_a_byte_selects_its_field() {
    let mut app = open("tcp-echo.pcap");
    screen(&mut app, 120, 40);
    // Byte 23 is IPv4's protocol field.
    app.select_byte(23);
    let s = screen(&mut app, 120, 40);
    assert!(s.contains("Hex: bytes 23–23 selected"), "{s}");
    // n and N move along the stream.
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.cur, Some(2));
    key(&mut app, KeyCode::Char('N'));
    assert_eq!(app.cur, Some(1));
}

/// Every packet of every bundled capture, dissected again on demand and completed from
/// its brief, is the packet `read` analyses: the same layers, notes and context.
#[test]
fn the_viewer_shows_what_read_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("captures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    names.sort();
    assert!(names.len() > 10);
    for path in names {
        let Ok(mut store) = Store::open(&path) else {
            continue;
        };
        assert!(store.wait(Duration::from_secs(20)));
        let Some(want) = read_says(&path) else {
            continue;
        };
        for d in want {
            let got = store.get(d.n).expect("every packet loads");
            assert_eq!(got.d, d, "{} frame {}", path.display(), d.n);
        }
    }
}

/// What `read --format table` analyses of each packet of `path` (`None` when it does not
/// open).
fn read_says(path: &Path) -> Option<Vec<wirelens::dissect::Dissection>> {
    let mut src = FileSource::open(path).ok()?;
    let opts = ReadOptions {
        format: Format::Table,
        reassembly_timeout: 30.0,
        ..ReadOptions::default()
    };
    let mut analyzer = opts.analyzer();
    let mut want = Vec::new();
    let _ = pipeline::each_packet(&mut src, None, &mut analyzer, |d, _| {
        want.push(d.clone());
        Ok(())
    });
    Some(want)
}

/// Every packet of `path`, loaded by the viewer, is the packet `read` analyses.
fn viewer_agrees_with_read(path: &Path) {
    let mut store = Store::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(store.wait(Duration::from_secs(20)));
    let want = read_says(path).expect("opens");
    assert!(!want.is_empty());
    for d in want {
        let got = store.get(d.n).expect("every packet loads");
        assert_eq!(got.d, d, "{} frame {}", path.display(), d.n);
    }
}

/// A pcapng file that describes an interface only before its first packet, after
/// packets of another (as `-w` writes them), and one of two sections (two files one
/// after the other): each frame is read with its own section and interface.
#[test]
fn a_pcapng_interface_described_after_packets_is_known_to_every_frame() {
    let dir = Scratch::new("late-idb");
    let dir = &dir.0;
    let file = dir.join("late.pcapng");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(["read", "captures/mixed-interfaces.pcapng", "-w"])
        .arg(&file)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{out:?}");
    viewer_agrees_with_read(&file);
    let mut two = std::fs::read(capture("tcp-echo.pcapng")).expect("a bundled capture");
    two.extend(std::fs::read(&file).expect("the file just written"));
    two.extend(std::fs::read(capture("mixed-interfaces.pcapng")).expect("a bundled capture"));
    let sections = dir.join("sections.pcapng");
    std::fs::write(&sections, two).expect("written");
    viewer_agrees_with_read(&sections);
}

/// A scratch directory of the test's own, removed when dropped (also when it fails).
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("wirelens-tui-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A frame that can no longer be read (the file shrank after it was indexed) is not
/// shown, and the status bar's error names the file, the frame and its offset.
#[test]
fn a_frame_gone_from_the_file_is_named_in_the_error() {
    let scratch = Scratch::new("shrunk");
    let path = scratch.0.join("tcp-echo.pcap");
    std::fs::copy(capture("tcp-echo.pcap"), &path).expect("the capture is copied");
    let mut store = Store::open(&path).expect("the copy opens");
    assert!(store.wait(Duration::from_secs(20)), "not analysed in time");
    let last = store.packets().held();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(24 + 16))
        .expect("the copy is cut short");
    assert!(
        store.get(last).is_none(),
        "frame {last} is shown from nowhere"
    );
    let e = store.packets().error.clone().unwrap_or_default();
    assert!(
        e.contains(&format!("frame {last} of"))
            && e.contains("tcp-echo.pcap")
            && e.contains("byte offset"),
        "{e}"
    );
}

#[test]
fn a_file_that_is_not_a_capture_is_refused_with_a_sentence() {
    let e = Store::open(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("Cargo.toml")
            .as_path(),
    )
    .expect_err("not a capture");
    assert!(e.contains("Cargo.toml"), "{e}");
}

/// True when tmux is here; otherwise the test skips with the reason printed (under
/// `CI=true` it fails instead).
fn tmux_ready() -> bool {
    let ok = std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    common::may(
        "a test in tmux",
        if ok {
            Ok(())
        } else {
            Err("tmux is not installed (apt-get install tmux)".into())
        },
    )
}

/// A tmux server of the test's own (its own socket), killed when dropped, also when the
/// test fails. Its one pane runs a command with the terminal settings noted before and
/// compared after: once the command exits, the pane shows `TTY=restored` when they are
/// the same, then `EXIT=` and the exit code.
struct Tmux {
    socket: String,
    /// Where the command's process id is written.
    pid_file: PathBuf,
    /// The server's socket file, which `kill-server` leaves behind.
    socket_path: String,
}

impl Tmux {
    /// Starts `wirelens ARGS` (already quoted for sh) in a 120×40 pane, in the package
    /// directory; `prefix` goes before the binary (e.g. `ip netns exec NS`).
    fn start(tag: &str, prefix: &str, args: &str) -> Tmux {
        let socket = format!("wirelens-test-{}-{tag}", std::process::id());
        let pid_file = std::env::temp_dir().join(format!("{socket}.pid"));
        let _ = std::fs::remove_file(&pid_file);
        let mut t = Tmux {
            socket,
            pid_file,
            socket_path: String::new(),
        };
        // The inner sh writes its process id, which the binary keeps: exec all the way.
        let cmd = format!(
            "cd '{dir}' && before=$(stty -g) && sh -c \"echo \\$\\$ > '{pid}'; exec env TERM=xterm-256color {prefix} '{bin}' {args}\"; code=$?; [ \"$(stty -g)\" = \"$before\" ] && echo TTY=restored; echo EXIT=$code; sleep 60",
            dir = env!("CARGO_MANIFEST_DIR"),
            pid = t.pid_file.display(),
            bin = env!("CARGO_BIN_EXE_wirelens"),
        );
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "wl",
            "-x",
            "120",
            "-y",
            "40",
            "sh",
            "-c",
            &cmd,
        ]);
        t.socket_path = t.format("#{socket_path}");
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "wl"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn pane(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "wl"])
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    fn format(&self, f: &str) -> String {
        self.run(&["display-message", "-p", "-t", "wl", f])
            .trim()
            .to_string()
    }

    /// Waits until `cond` holds for the pane; returns the pane.
    fn wait_until(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let start = std::time::Instant::now();
        loop {
            let p = self.pane();
            if cond(&p) {
                return p;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the screen never showed {what}:\n{p}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the pane shows `text`; returns the pane.
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |p| p.contains(text))
    }

    /// The process id of the command, once it has written it.
    fn pid(&self) -> String {
        let start = std::time::Instant::now();
        loop {
            if let Ok(s) = std::fs::read_to_string(&self.pid_file)
                && !s.trim().is_empty()
            {
                return s.trim().to_string();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no process id in {}",
                self.pid_file.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// After the viewer exited with `code`: the terminal is as it was (cooked mode, the
    /// main screen, the cursor shown, no mouse reporting), with the viewer gone from it.
    fn assert_restored(&self, code: i32) {
        let p = self.wait_for("EXIT=");
        assert!(p.contains(&format!("EXIT={code}")), "{p}");
        assert!(p.contains("TTY=restored"), "raw mode was left on:\n{p}");
        assert!(!p.contains("Packets ("), "{p}");
        for (flag, want) in [
            ("#{alternate_on}", "0"),
            ("#{cursor_flag}", "1"),
            ("#{mouse_any_flag}", "0"),
            ("#{mouse_button_flag}", "0"),
            ("#{mouse_sgr_flag}", "0"),
        ] {
            assert_eq!(self.format(flag), want, "{flag} after the viewer exited");
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        let _ = std::fs::remove_file(&self.pid_file);
        if !self.socket_path.is_empty() {
            let _ = std::fs::remove_file(&self.socket_path);
        }
    }
}

/// The real binary in a real terminal: open a capture, filter, move to the SYN-ACK, read
/// the ack arithmetic, draw the ladder, quit with 0 and leave the terminal as it was.
#[test]
fn tmux_filter_handshake_ladder_and_quit() {
    if !tmux_ready() {
        return;
    }
    let t = Tmux::start("q", "", "tui captures/tcp-echo.pcap");
    t.wait_for("Packets (10)");
    // The viewer holds the terminal: raw mode, the alternate screen, mouse reporting.
    assert_eq!(t.format("#{alternate_on}"), "1");
    assert_eq!(t.format("#{mouse_any_flag}"), "1");
    t.keys(&["/", "t", "c", "p", "Enter"]);
    t.wait_for("filter: tcp");
    t.keys(&["j"]);
    // All of it at once: a capture can fall between two writes of one screen.
    let all = |texts: &'static [&'static str]| move |p: &str| texts.iter().all(|t| p.contains(t));
    t.wait_until(
        "the SYN-ACK's layers",
        all(&[
            "Layers of frame 2",
            "handshake 2/3",
            "[SYN, ACK]",
            "ack 2629971226 = client ISN 2629971225 + 1",
        ]),
    );
    t.keys(&["l"]);
    t.wait_until("the ladder", all(&["Ladder:", "SYN, ACK  seq=0 ack=1"]));
    t.keys(&["q"]);
    t.assert_restored(0);
}

/// The first line of the pane: the packet list's title.
fn title(pane: &str) -> &str {
    pane.lines().next().unwrap_or_default()
}

/// One Esc clears the filter, from the list and from the filter's prompt; Ctrl-C then
/// quits with 0 and the terminal restored.
#[test]
fn tmux_one_esc_clears_the_filter_and_ctrl_c_restores_the_terminal() {
    if !tmux_ready() {
        return;
    }
    let t = Tmux::start("ctrl-c", "", "tui captures/tcp-echo.pcap");
    t.wait_for("Packets (10)");
    t.keys(&["/", "t", "c", "p", "Enter"]);
    t.wait_until("the filter in the title", |p| {
        title(p).contains("filter: tcp") && !title(p).contains("filtering")
    });
    t.keys(&["Escape"]);
    t.wait_until("the filter gone after one Esc", |p| {
        title(p).starts_with(" Packets (10) ──")
    });
    // From the prompt, which shows the filter being edited.
    t.keys(&["/", "u", "d", "p", "Enter"]);
    t.wait_for("Packets (0) filter: udp");
    t.keys(&["/"]);
    t.wait_until("the prompt", |p| {
        p.lines().any(|l| l.starts_with("filter: udp"))
    });
    t.keys(&["Escape"]);
    t.wait_until("the prompt and the filter gone after one Esc", |p| {
        title(p).starts_with(" Packets (10) ──")
            && !p.lines().any(|l| l.starts_with("filter:"))
            && p.contains("captures/tcp-echo.pcap | 10 packets")
    });
    t.keys(&["C-c"]);
    t.assert_restored(0);
}

/// The colours the screen of a pane uses: the SGR parameters that set one (30–38,
/// 40–48, 90–97, 100–107; 39 and 49, the terminal's own colours, are not counted).
fn colours_in(screen: &str) -> Vec<String> {
    let mut found = Vec::new();
    for esc in screen.split('\x1b').skip(1) {
        let Some(params) = esc.strip_prefix('[').and_then(|e| e.split_once('m')) else {
            continue;
        };
        let colour = params
            .0
            .split(';')
            .filter_map(|p| p.parse::<u8>().ok())
            .any(|p| matches!(p, 30..=38 | 40..=48 | 90..=97 | 100..=107));
        if colour {
            found.push(params.0.to_string());
        }
    }
    found
}

/// `NO_COLOR=1` and `--color never` give the real binary a monochrome screen, the
/// selection in reverse video; `--color always` does colour it.
#[test]
fn tmux_no_color_and_color_never_are_monochrome() {
    if !tmux_ready() {
        return;
    }
    for (tag, prefix, args, mono) in [
        ("no-color", "NO_COLOR=1", "tui captures/tcp-echo.pcap", true),
        (
            "never",
            "",
            "tui --color never captures/tcp-echo.pcap",
            true,
        ),
        (
            "always",
            "",
            "tui --color always captures/tcp-echo.pcap",
            false,
        ),
    ] {
        let t = Tmux::start(tag, prefix, args);
        // The status bar, the last row written: the whole first screen is there.
        t.wait_until("the first screen", |p| {
            p.contains("Packets (10)") && p.contains("? keys  q quit")
        });
        let screen = t.run(&["capture-pane", "-e", "-p", "-t", "wl"]);
        let colours = colours_in(&screen);
        if mono {
            assert_eq!(colours, Vec::<String>::new(), "{tag}: coloured");
            assert!(
                screen.contains("\x1b[7m"),
                "{tag}: no reverse video:\n{screen}"
            );
        } else {
            assert!(!colours.is_empty(), "{tag}: no colour");
        }
        t.keys(&["q"]);
        t.assert_restored(0);
    }
}

/// SIGTERM ends the viewer cleanly: exit code 0 and the terminal restored.
#[test]
fn tmux_sigterm_restores_the_terminal() {
    if !tmux_ready() {
        return;
    }
    let t = Tmux::start("term", "", "tui captures/tcp-echo.pcap");
    t.wait_for("Packets (10)");
    let pid = t.pid();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    t.assert_restored(0);
}

/// The TCP port of the live test's connection.
const LIVE_PORT: u16 = 8090;

/// One TCP connection from a to b through the kernels of the pair's namespaces: the
/// handshake, five bytes, and the teardown the client starts.
fn kernel_handshake(p: &NetnsPair) {
    let patience = Duration::from_secs(30);
    let server_ip = p.b.ip;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let server = in_netns(&p.b.ns, move || {
        let listener = TcpListener::bind((server_ip, LIVE_PORT))?;
        let _ = ready_tx.send(());
        let (mut s, _) = listener.accept()?;
        s.set_read_timeout(Some(patience))?;
        let mut got = Vec::new();
        s.read_to_end(&mut got)?;
        Ok(got)
    });
    ready_rx
        .recv_timeout(patience)
        .unwrap_or_else(|e| panic!("the server never listened: {e}"));
    let client = in_netns(&p.a.ns, move || {
        let to = SocketAddr::from((server_ip, LIVE_PORT));
        let mut c = TcpStream::connect_timeout(&to, patience)?;
        c.write_all(b"hello")
    });
    joined(client, "TCP client");
    assert_eq!(joined(server, "TCP server"), b"hello");
}

fn joined<T>(h: std::thread::JoinHandle<std::io::Result<T>>, what: &str) -> T {
    match h.join() {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(_) => panic!("{what}: the thread panicked"),
    }
}

/// The number before " captured" in the live status bar.
fn captured(pane: &str) -> Option<u64> {
    let status = pane.lines().rev().find(|l| l.contains(" captured, "))?;
    let (before, _) = status.split_once(" captured, ")?;
    before.rsplit(' ').next()?.parse().ok()
}

/// The live view in follow mode, as a person sees it: `wirelens tui -i vb` runs in tmux
/// inside the second of two namespaces the test makes (a veth pair between them,
/// removed by its guard even when the test fails), and a connection between the
/// namespaces' own kernels appears as it happens, staged `handshake 1/3` and `2/3`,
/// with the packets-per-second and kernel drops line; the last packet stays selected;
/// `q` exits 0 with the terminal restored. Nothing is sent outside the namespaces.
#[test]
fn tmux_live_follow_shows_a_kernel_handshake() {
    if !tmux_ready() || !common::may_run() {
        return;
    }
    let p = NetnsPair::create("wlt", "va", "vb", None).unwrap_or_else(|e| panic!("{e}"));
    let prefix = format!("ip netns exec '{}'", p.b.ns);
    let t = Tmux::start("live", &prefix, "tui -i vb");
    // The capture is open before the first screen is drawn.
    t.wait_for(" vb | 0 captured, ");
    kernel_handshake(&p);
    t.wait_for("handshake 1/3");
    let server = format!("{}:{LIVE_PORT}", p.b.ip);
    t.wait_until("the SYN-ACK from the server", |pane| {
        pane.lines()
            .any(|l| l.contains("handshake 2/3") && l.contains(&format!("{server} →")))
    });
    // Figures come once a second; the pcap backend tells the kernel's drops (none).
    t.wait_until("the packets-per-second and drops line", |p| {
        p.contains(" pkt/s, 0 dropped by the kernel")
    });
    // Follow mode: once the traffic is over, the last packet captured is selected.
    t.wait_until("the last packet selected", |pane| {
        captured(pane).is_some_and(|n| n > 0 && pane.contains(&format!("Layers of frame {n} ")))
    });
    t.keys(&["q"]);
    t.assert_restored(0);
}

#[test]
fn a_pipe_is_refused_with_one_sentence_that_suggests_read() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(["tui", "captures/tcp-echo.pcap"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wirelens read"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty());
}
