//! The interactive viewer (`wirelens tui`), tested as a person uses it: snapshots of each
//! pane drawn by ratatui's `TestBackend` at 80×24 and 120×40 on bundled captures, the
//! packets it shows checked against what `read` says, and the real binary driven in
//! tmux. Set `UPDATE_GOLDEN=1` to rewrite the snapshots after a deliberate change.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wirelens::capture::file::FileSource;
use wirelens::pipeline::{self, ReadOptions};
use wirelens::render::Format;
use wirelens::tui::app::App;
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
        let Ok(mut src) = FileSource::open(&path) else {
            continue;
        };
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
        for d in want {
            let got = store.get(d.n).expect("every packet loads");
            assert_eq!(got.d, d, "{} frame {}", path.display(), d.n);
        }
    }
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

/// A tmux server of the test's own (its own socket), killed when dropped, also when the
/// test fails.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pane(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "wl"])
    }

    /// Waits until the pane shows `text`; returns the pane.
    fn wait_for(&self, text: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            let p = self.pane();
            if p.contains(text) {
                return p;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "the screen never showed {text:?}:\n{p}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The real binary in a real terminal: open a capture, filter, move to the SYN-ACK, read
/// the ack arithmetic, draw the ladder, quit with 0 and leave the terminal as it was.
#[test]
fn tmux_filter_handshake_ladder_and_quit() {
    let has_tmux = std::process::Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_tmux {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "tmux is needed under CI=true"
        );
        eprintln!("skipped: tmux is not installed (apt-get install tmux)");
        return;
    }
    let t = Tmux {
        socket: format!("wirelens-test-{}", std::process::id()),
    };
    let cmd = format!(
        "cd '{}' && TERM=xterm-256color '{}' tui captures/tcp-echo.pcap; echo EXIT=$?; sleep 30",
        env!("CARGO_MANIFEST_DIR"),
        env!("CARGO_BIN_EXE_wirelens")
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
    t.wait_for("Packets (10)");
    t.run(&["send-keys", "-t", "wl", "/", "t", "c", "p", "Enter"]);
    t.wait_for("filter: tcp");
    t.run(&["send-keys", "-t", "wl", "j"]);
    let p = t.wait_for("Layers of frame 2");
    assert!(p.contains("handshake 2/3"), "{p}");
    assert!(p.contains("[SYN, ACK]"), "{p}");
    assert!(
        p.contains("ack 2629971226 = client ISN 2629971225 + 1"),
        "{p}"
    );
    t.run(&["send-keys", "-t", "wl", "l"]);
    let p = t.wait_for("Ladder:");
    assert!(p.contains("SYN, ACK  seq=0 ack=1"), "{p}");
    t.run(&["send-keys", "-t", "wl", "q"]);
    let p = t.wait_for("EXIT=");
    assert!(p.contains("EXIT=0"), "{p}");
    // Back on the main screen, with the viewer gone from it.
    assert_eq!(
        t.run(&["display-message", "-p", "-t", "wl", "#{alternate_on}"])
            .trim(),
        "0"
    );
    assert!(!p.contains("Packets ("), "{p}");
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
