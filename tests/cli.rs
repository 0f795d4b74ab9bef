//! Golden tests of the real binary on the bundled captures, and its behaviour on bad
//! input. Set `UPDATE_GOLDEN=1` to rewrite the golden files after a deliberate change
//! (then read the diff before committing it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn wirelens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("could not run wirelens: {e}"))
}

/// Runs wirelens and compares stdout, stderr and the exit code with `tests/golden/NAME`.
fn golden(name: &str, args: &[&str]) {
    let out = wirelens(args);
    let got = format!(
        "$ wirelens {}\n--- exit {}\n--- stderr\n{}--- stdout\n{}",
        args.join(" "),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if got != want {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (w, g))| w != g)
            .take(5)
            .map(|(i, (w, g))| format!("line {}:\n  want: {w}\n  got:  {g}", i + 1))
            .collect();
        panic!(
            "{name} differs from its golden file ({} vs {} lines):\n{}",
            want.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}

fn capture(name: &str) -> String {
    let p = Path::new("captures").join(name);
    assert!(root().join(&p).exists(), "{} is missing", p.display());
    p.display().to_string()
}

#[test]
fn summary_of_the_tcp_echo_exchange() {
    golden("tcp-echo.summary", &["read", &capture("tcp-echo.pcap")]);
}

#[test]
fn summary_of_arp_and_ping() {
    golden("arp.summary", &["read", &capture("arp.pcap")]);
}

#[test]
fn summary_of_udp_unicast_and_broadcast() {
    golden("udp.summary", &["read", &capture("udp.pcap")]);
}

#[test]
fn summary_of_fragments() {
    golden("fragments.summary", &["read", &capture("fragments.pcap")]);
}

#[test]
fn summary_of_icmp_errors() {
    golden(
        "icmp-errors.summary",
        &["read", &capture("icmp-errors.pcap")],
    );
}

#[test]
fn summary_of_crafted_packets() {
    golden("crafted.summary", &["read", &capture("crafted.pcap")]);
}

#[test]
fn table_of_a_syn() {
    golden(
        "tcp-echo-syn.table",
        &[
            "read",
            &capture("tcp-echo.pcap"),
            "--format",
            "table",
            "-c",
            "1",
            "--width",
            "100",
        ],
    );
}

#[test]
fn table_of_an_arp_request() {
    golden(
        "arp-request.table",
        &[
            "read",
            &capture("arp.pcap"),
            "--format",
            "table",
            "-c",
            "1",
            "--width",
            "100",
        ],
    );
}

#[test]
fn table_of_vlan_frames() {
    golden(
        "vlan.table",
        &[
            "read",
            &capture("vlan.pcap"),
            "--format",
            "table",
            "--width",
            "100",
        ],
    );
}

#[test]
fn table_of_icmp_errors_shows_quoted_headers() {
    golden(
        "icmp-errors.table",
        &[
            "read",
            &capture("icmp-errors.pcap"),
            "--format",
            "table",
            "--width",
            "100",
        ],
    );
}

#[test]
fn json_of_the_tcp_echo_exchange() {
    golden(
        "tcp-echo.json",
        &["read", &capture("tcp-echo.pcap"), "--format", "json"],
    );
}

#[test]
fn pcapng_reads_like_pcap() {
    let a = wirelens(&["read", &capture("tcp-echo.pcapng"), "--format", "json"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let lines = String::from_utf8_lossy(&a.stdout).lines().count();
    assert!(
        lines >= 10,
        "only {lines} packets read from the pcapng copy"
    );
}

#[test]
fn count_limits_the_packets_shown() {
    let out = wirelens(&["read", &capture("tcp-echo.pcap"), "-c", "3"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

#[test]
fn stdin_is_read_when_the_path_is_a_dash() {
    let file =
        std::fs::File::open(root().join("captures/arp.pcap")).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(["read", "-"])
        .stdin(file)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let direct = wirelens(&["read", &capture("arp.pcap")]);
    assert_eq!(out.stdout, direct.stdout);
}

#[test]
fn a_missing_file_is_one_sentence_and_exit_2() {
    golden("missing-file.err", &["read", "captures/no-such-file.pcap"]);
}

#[test]
fn a_truncated_capture_shows_the_good_packets_then_fails_with_the_offset() {
    golden("truncated.summary", &["read", &capture("truncated.pcap")]);
}

#[test]
fn a_corrupt_capture_shows_the_good_packets_then_fails_with_the_offset() {
    golden("corrupt.summary", &["read", &capture("corrupt.pcap")]);
}

#[test]
fn an_empty_file_is_an_error() {
    let dir = tempdir();
    let p = dir.join("empty.pcap");
    std::fs::write(&p, b"").unwrap_or_else(|e| panic!("{e}"));
    let out = wirelens(&["read", &p.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("empty.pcap") && err.contains("empty"), "{err}");
}

#[test]
fn a_non_ethernet_link_type_is_named_not_misparsed() {
    let dir = tempdir();
    let p = dir.join("sll.pcap");
    // A classic pcap header (µs, little-endian) with link type 113 and one record.
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&4u16.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&65535u32.to_le_bytes());
    b.extend_from_slice(&105u32.to_le_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&[0; 16]);
    std::fs::write(&p, &b).unwrap_or_else(|e| panic!("{e}"));
    let out = wirelens(&["read", &p.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("link type 105 (IEEE 802.11 wireless) is not supported"),
        "{err}"
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::Read;
    // Far more output than a pipe buffers (64 KiB), so the writer must meet the closed pipe.
    let one =
        std::fs::read(root().join("captures/tcp-echo.pcap")).unwrap_or_else(|e| panic!("{e}"));
    let mut big = one.clone();
    for _ in 0..200 {
        big.extend_from_slice(one.get(24..).unwrap_or_default());
    }
    let dir = tempdir();
    let p = dir.join("big.pcap");
    std::fs::write(&p, &big).unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(["read", &p.display().to_string(), "--format", "table"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut first = [0u8; 10];
    if let Some(o) = child.stdout.as_mut() {
        let _ = o.read(&mut first);
    }
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh directory under the target dir, unique to this test process and name.
fn tempdir() -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("wirelens-cli-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
    d
}

#[test]
fn summary_of_a_refused_connection() {
    golden(
        "tcp-refused.summary",
        &["read", &capture("tcp-refused.pcap")],
    );
}

#[test]
fn summary_of_a_capture_that_starts_mid_stream() {
    golden(
        "tcp-midstream.summary",
        &["read", &capture("tcp-midstream.pcap")],
    );
}

#[test]
fn summary_of_a_retransmission() {
    golden(
        "tcp-retransmission.summary",
        &["read", &capture("tcp-retransmission.pcap")],
    );
}

#[test]
fn summary_of_a_simultaneous_close() {
    golden(
        "tcp-simultaneous-close.summary",
        &["read", &capture("tcp-simultaneous-close.pcap")],
    );
}

#[test]
fn summary_of_a_reset_connection() {
    golden("tcp-reset.summary", &["read", &capture("tcp-reset.pcap")]);
}

#[test]
fn flows_table_of_udp() {
    golden(
        "udp.flows",
        &["flows", &capture("udp.pcap"), "--width", "160"],
    );
}

#[test]
fn flows_json_of_every_tcp_capture() {
    for name in [
        "tcp-echo",
        "tcp-refused",
        "tcp-midstream",
        "tcp-retransmission",
        "tcp-simultaneous-close",
        "tcp-reset",
    ] {
        golden(
            &format!("{name}.flows.json"),
            &[
                "flows",
                &capture(&format!("{name}.pcap")),
                "--format",
                "json",
            ],
        );
    }
}

#[test]
fn ladder_of_the_tcp_echo_exchange() {
    golden(
        "tcp-echo.ladder",
        &["flows", &capture("tcp-echo.pcap"), "--ladder"],
    );
}

#[test]
fn ladder_of_a_missing_stream_is_an_error() {
    let out = wirelens(&["flows", &capture("tcp-echo.pcap"), "--ladder", "7"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("there is no TCP stream 7; this capture has 1"),
        "{err}"
    );
}

#[test]
fn table_of_a_reassembled_datagram_shows_the_fragment_table() {
    golden(
        "fragments.table",
        &[
            "read",
            &capture("fragments.pcap"),
            "--format",
            "table",
            "--width",
            "100",
        ],
    );
}

#[test]
fn json_with_reassembly_of_the_fragments() {
    golden(
        "fragments.json",
        &[
            "read",
            &capture("fragments.pcap"),
            "--format",
            "json",
            "--reassemble",
        ],
    );
}

#[test]
fn arp_table_of_the_arp_capture() {
    golden(
        "arp.flows",
        &["flows", &capture("arp.pcap"), "--arp", "--width", "100"],
    );
}

#[test]
fn stats_of_the_icmp_errors_capture() {
    golden(
        "icmp-errors.stats",
        &["stats", &capture("icmp-errors.pcap")],
    );
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in [
        "read",
        "flows",
        "stats",
        "send",
        "live",
        "interfaces",
        "lab",
        "completions",
        "man",
    ] {
        let out = wirelens(&[sub, "--help"]);
        assert!(out.status.success(), "{sub} --help failed");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Example"),
            "`wirelens {sub} --help` shows no example:\n{help}"
        );
    }
}

#[test]
fn completions_and_man_page_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let out = wirelens(&["completions", shell]);
        assert!(out.status.success(), "completions {shell} failed");
        let script = String::from_utf8_lossy(&out.stdout);
        for sub in ["read", "flows", "live", "send", "lab"] {
            assert!(script.contains(sub), "{shell} completions miss {sub}");
        }
    }
    let man = wirelens(&["man"]);
    assert!(man.status.success());
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH wirelens 1"),
        "{page}"
    );
    assert!(page.contains(".TH wirelens 1"));
    for sub in ["read", "flows", "stats", "live", "send", "lab"] {
        assert!(page.contains(sub), "the man page does not mention {sub}");
    }
}

#[test]
fn a_bpf_filter_after_the_file_name_selects_packets_like_tcpdump() {
    golden(
        "tcp-echo.filtered.summary",
        &[
            "read",
            &capture("tcp-echo.pcap"),
            "tcp",
            "and",
            "src",
            "port",
            "8090",
        ],
    );
    let dash_f = wirelens(&[
        "read",
        &capture("tcp-echo.pcap"),
        "-f",
        "tcp and src port 8090",
    ]);
    let words = wirelens(&[
        "read",
        &capture("tcp-echo.pcap"),
        "tcp",
        "and",
        "src",
        "port",
        "8090",
    ]);
    assert_eq!(dash_f.stdout, words.stdout);
    assert_eq!(String::from_utf8_lossy(&words.stdout).lines().count(), 5);
}

#[test]
fn dash_r_is_read_and_dash_n_is_accepted() {
    let a = wirelens(&["-r", &capture("arp.pcap"), "-n"]);
    let b = wirelens(&["read", &capture("arp.pcap")]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn display_filters_show_a_subset_but_analyse_everything() {
    let icmp = wirelens(&["read", &capture("arp.pcap"), "--only", "icmp"]);
    let text = String::from_utf8_lossy(&icmp.stdout);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().all(|l| l.contains("ICMP")), "{text}");
    // Stream 0 of the echo shows the whole connection, still staged with full context.
    let s = wirelens(&[
        "read",
        &capture("tcp-echo.pcap"),
        "--stream",
        "0",
        "--only",
        "tcp",
    ]);
    let text = String::from_utf8_lossy(&s.stdout);
    assert!(
        text.contains("handshake 3/3") && text.contains("teardown 4/4"),
        "{text}"
    );
}

#[test]
fn nothing_matched_is_exit_1_and_a_bad_filter_exit_2() {
    let none = wirelens(&["read", &capture("arp.pcap"), "udp"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no packet matched the filter"));
    let bad = wirelens(&["read", &capture("arp.pcap"), "-f", "tcp["]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("\"tcp[\"") && err.contains("libpcap says"),
        "{err}"
    );
}

#[test]
fn annotated_pcapng_carries_wirelens_notes_as_frame_comments() {
    let dir = tempdir();
    let out = dir.join("annotated.pcapng");
    let run = wirelens(&[
        "read",
        &capture("fragments.pcap"),
        "-w",
        &out.display().to_string(),
        "--annotate",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Our own reader reads it back...
    let back = wirelens(&["read", &out.display().to_string()]);
    assert!(back.status.success());
    assert_eq!(String::from_utf8_lossy(&back.stdout).lines().count(), 5);
    // ...and tshark shows the comments in frame.comment.
    let tshark = Command::new("tshark")
        .args([
            "-r",
            &out.display().to_string(),
            "-T",
            "fields",
            "-e",
            "frame.comment",
        ])
        .output();
    match tshark {
        Ok(t) if t.status.success() => {
            let comments = String::from_utf8_lossy(&t.stdout);
            assert!(
                comments.contains("Reassembly: fragment 3/3 completes datagram"),
                "{comments}"
            );
        }
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but tshark is missing")
        }
        _ => eprintln!("skipping the tshark half: tshark is not installed"),
    }
    let not_ng = wirelens(&[
        "read",
        &capture("arp.pcap"),
        "-w",
        &dir.join("x.pcap").display().to_string(),
        "--annotate",
    ]);
    assert_eq!(not_ng.status.code(), Some(2));
}

/// Runs wirelens with the environment changed by `env` (`None` removes a variable).
fn wirelens_env(args: &[&str], env: &[(&str, Option<&str>)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirelens"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("could not run wirelens: {e}"))
}

/// Every bundled capture file.
fn all_captures() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("captures"))
        .unwrap_or_else(|e| panic!("captures/: {e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .map(|n| capture(&n))
        .collect();
    v.sort();
    assert!(v.len() >= 10, "only {} bundled captures found", v.len());
    v
}

/// `bytes` without its SGR escapes (`ESC [ digits/semicolons m`), written here apart from
/// the library's own, so that the test does not trust the code it checks.
fn strip_sgr(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b';') {
                j += 1;
            }
            if bytes.get(j) == Some(&b'm') {
                i = j + 1;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn has_esc(out: &Output) -> bool {
    out.stdout.contains(&0x1b)
}

#[test]
fn summary_in_colour() {
    golden(
        "tcp-echo.color.summary",
        &["read", &capture("tcp-echo.pcap"), "--color", "always"],
    );
}

#[test]
fn table_in_colour() {
    golden(
        "icmp-errors.color.table",
        &[
            "read",
            &capture("icmp-errors.pcap"),
            "--format",
            "table",
            "-c",
            "1",
            "--color",
            "always",
        ],
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_without_no_color() {
    let f = capture("tcp-echo.pcap");
    let never = wirelens_env(&["read", &f, "--color", "never"], &[("NO_COLOR", None)]);
    assert!(never.status.success() && !has_esc(&never));
    // stdout is a pipe here, so auto means no colour, with or without NO_COLOR.
    for no_color in [None, Some("1"), Some("")] {
        for args in [vec!["read", &f], vec!["read", &f, "--color", "auto"]] {
            let out = wirelens_env(&args, &[("NO_COLOR", no_color), ("TERM", Some("xterm"))]);
            assert!(out.status.success());
            assert!(
                !has_esc(&out),
                "{args:?} with NO_COLOR={no_color:?} coloured a pipe"
            );
        }
    }
    // An explicit --color always wins over NO_COLOR, and works for -r and every subcommand
    // that prints tables.
    for args in [
        vec!["read", &f, "--color", "always"],
        vec!["-r", &f, "--color", "always"],
        vec![
            "read", &f, "--format", "table", "-c", "1", "--color", "always",
        ],
        vec!["flows", "captures/arp.pcap", "--arp", "--color", "always"],
    ] {
        let out = wirelens_env(&args, &[("NO_COLOR", Some("1"))]);
        assert!(out.status.success(), "{args:?}");
        assert!(has_esc(&out), "{args:?} with NO_COLOR=1 is not coloured");
    }
    // JSON is never coloured.
    let json = wirelens_env(&["read", &f, "--format", "json", "--color", "always"], &[]);
    assert!(json.status.success() && !has_esc(&json));
    // The flag exists wherever packets or tables are printed.
    for sub in ["read", "flows", "stats", "live", "lab"] {
        let help = wirelens(&[sub, "--help"]);
        assert!(
            String::from_utf8_lossy(&help.stdout).contains("--color <WHEN>"),
            "{sub} has no --color"
        );
    }
    let help = wirelens(&["send", "arp", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--color <WHEN>"));
    let bash = wirelens(&["completions", "bash"]);
    assert!(String::from_utf8_lossy(&bash.stdout).contains("--color"));
}

#[test]
fn colour_never_changes_the_layout() {
    for f in all_captures() {
        for format in ["summary", "table"] {
            let plain = wirelens(&["read", &f, "--format", format, "--color", "never"]);
            let coloured = wirelens(&["read", &f, "--format", format, "--color", "always"]);
            assert_eq!(plain.status.code(), coloured.status.code(), "{f} {format}");
            assert_eq!(plain.stderr, coloured.stderr, "{f} {format}");
            if plain.stdout.contains(&b'\n') && format == "table" {
                assert!(has_esc(&coloured), "{f} {format} is not coloured");
            }
            assert!(
                strip_sgr(&coloured.stdout) == plain.stdout,
                "{f} --format {format}: the coloured output without its escapes differs from the plain output"
            );
        }
    }
}

#[test]
fn every_table_fits_in_80_columns() {
    use unicode_width::UnicodeWidthStr;
    for f in all_captures() {
        for width in ["80", "60"] {
            let out = wirelens(&["read", &f, "--format", "table", "--width", width]);
            let limit: usize = width.parse().unwrap_or(80);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.lines().count() > 5, "{f}: no table");
            for (i, line) in text.lines().enumerate() {
                assert!(
                    line.width() <= limit,
                    "{f} --width {width}, line {}: {} columns: {line}",
                    i + 1,
                    line.width()
                );
            }
        }
    }
}

#[test]
fn table_at_80_columns() {
    golden(
        "tcp-echo-syn.80.table",
        &[
            "read",
            &capture("tcp-echo.pcap"),
            "--format",
            "table",
            "-c",
            "1",
            "--width",
            "80",
        ],
    );
}

/// Writes a pcap of about 9.7 MB (above the 8 MiB progress threshold): 9,500 frames of
/// 1,000 bytes of a local-experimental EtherType.
fn write_big_pcap(path: &Path) {
    let mut data = Vec::with_capacity(10 << 20);
    data.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    data.extend_from_slice(&2u16.to_le_bytes());
    data.extend_from_slice(&4u16.to_le_bytes());
    data.extend_from_slice(&[0; 8]);
    data.extend_from_slice(&65_535u32.to_le_bytes());
    data.extend_from_slice(&1u32.to_le_bytes());
    let mut frame = vec![0u8; 1000];
    frame[..6].copy_from_slice(&[2, 0x77, 0, 0, 0, 2]);
    frame[6..12].copy_from_slice(&[2, 0x77, 0, 0, 0, 1]);
    frame[12..14].copy_from_slice(&[0x88, 0xb5]);
    for i in 0..9_500u32 {
        data.extend_from_slice(&(1_700_000_000 + i / 1000).to_le_bytes());
        data.extend_from_slice(&((i % 1000) * 1000).to_le_bytes());
        data.extend_from_slice(&1000u32.to_le_bytes());
        data.extend_from_slice(&1000u32.to_le_bytes());
        data.extend_from_slice(&frame);
    }
    assert!(data.len() > 8 << 20);
    std::fs::write(path, data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Runs wirelens with stderr on a new pseudo-terminal and stdout to /dev/null; returns
/// everything written to the terminal and the exit status.
fn run_with_stderr_on_a_pty(args: &[&str]) -> (String, std::process::ExitStatus) {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors into the integers it is given; the name,
    // termios and winsize pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty failed: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned by nobody else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(slave))
        .spawn()
        .unwrap_or_else(|e| panic!("could not run wirelens: {e}"));
    // Read the terminal while the child runs; the read ends (EIO) once it has exited.
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::from(master);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = f.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    });
    let status = child
        .wait()
        .unwrap_or_else(|e| panic!("waiting for wirelens: {e}"));
    let text = reader.join().unwrap_or_default();
    (text, status)
}

#[test]
fn progress_bar_on_a_terminal_stderr_only() {
    let dir = tempdir();
    let big = dir.join("big.pcap");
    write_big_pcap(&big);
    let big = big.display().to_string();
    for args in [
        vec!["flows", &big],
        vec!["stats", &big],
        vec!["read", &big],
        vec!["-r", &big, "-w", "/dev/null"],
    ] {
        let (tty, status) = run_with_stderr_on_a_pty(&args);
        assert!(status.success(), "{args:?}: {status}");
        for part in ["reading", "MiB", "packets/s", "ETA"] {
            assert!(
                tty.contains(part),
                "{args:?}: no {part:?} in what reached the terminal: {tty:?}"
            );
        }
    }
    // --no-progress, and a small file, draw nothing.
    let small = capture("tcp-echo.pcap");
    for args in [vec!["flows", &big, "--no-progress"], vec!["flows", &small]] {
        let (tty, status) = run_with_stderr_on_a_pty(&args);
        assert!(status.success(), "{args:?}: {status}");
        assert!(!tty.contains("reading"), "{args:?} drew a bar: {tty:?}");
    }
    // With stderr not a terminal, nothing at all is written to it.
    for args in [vec!["flows", &big], vec!["read", &big, "--format", "json"]] {
        let out = wirelens(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Everything the summary line says about a packet, the table says too: the stage and
/// its explanation for a TCP segment, the explanation of any other packet (with the
/// request a reply answers), and every note. Tables are drawn wide so no cell wraps.
#[test]
fn every_summary_sentence_is_in_the_table() {
    let mut checked = 0;
    for file in all_captures() {
        let summary = wirelens(&["read", &file]);
        let json = wirelens(&["read", &file, "--format", "json", "--reassemble"]);
        let table = wirelens(&["read", &file, "--format", "table", "--width", "3000"]);
        let summary = String::from_utf8_lossy(&summary.stdout).into_owned();
        let table = String::from_utf8_lossy(&table.stdout).into_owned();
        let packets: Vec<serde_json::Value> = String::from_utf8_lossy(&json.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        // The table output of each frame, by its "Frame N:" heading.
        let mut blocks: Vec<String> = Vec::new();
        for line in table.lines() {
            if line.starts_with("Frame ") && line.contains(" bytes on the wire") {
                blocks.push(String::new());
            }
            if let Some(b) = blocks.last_mut() {
                b.push_str(line);
                b.push('\n');
            }
        }
        let lines: Vec<&str> = summary.lines().filter(|l| l.contains(" B  ")).collect();
        assert_eq!(
            lines.len(),
            packets.len(),
            "{file}: summary and JSON disagree"
        );
        assert_eq!(
            blocks.len(),
            packets.len(),
            "{file}: table and JSON disagree"
        );
        for ((line, p), block) in lines.iter().zip(&packets).zip(&blocks) {
            let n = &p["n"];
            let notes: Vec<&str> = p["notes"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            let mut detail = line.split_once(" B  ").map_or("", |(_, d)| d);
            if !notes.is_empty() {
                let tail = format!("  [{}]", notes.join(" "));
                detail = detail.strip_suffix(tail.as_str()).unwrap_or_else(|| {
                    panic!("{file} frame {n}: the notes do not end the line: {line}")
                });
            }
            while detail.starts_with("VLAN ") {
                detail = detail.split_once(" · ").map_or("", |(_, rest)| rest);
            }
            let mut sentences: Vec<&str> = notes.clone();
            if p["tcp"].is_object() {
                let story = detail.split_once(" · ").map_or("", |(_, s)| s);
                match (p["tcp"]["stage"].as_str(), story.split_once(": ")) {
                    (Some(_), Some((stage, why))) => sentences.extend([stage, why]),
                    _ => sentences.push(story),
                }
            } else {
                sentences.push(detail);
            }
            for s in sentences.iter().filter(|s| !s.is_empty()) {
                assert!(
                    block.contains(s),
                    "{file} frame {n}: the summary says {s:?}, the table does not:\n{block}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} sentences checked");
}

/// Every segment's table ends with its connection: stream, stage and why, the relative
/// numbers with their arithmetic, the next sequence number, both sides' states and the
/// window, for a whole exchange, a refused connection, a simultaneous close and a
/// capture that starts mid-stream.
#[test]
fn tables_tell_each_connection_story() {
    for name in [
        "tcp-echo",
        "tcp-refused",
        "tcp-simultaneous-close",
        "tcp-midstream",
    ] {
        golden(
            &format!("{name}.table"),
            &[
                "read",
                &capture(&format!("{name}.pcap")),
                "--format",
                "table",
                "--width",
                "100",
            ],
        );
    }
}

/// A pcapng file with two interfaces of different link types: each packet is decoded
/// with its own interface's, and the table names the interface (`if_name` when given).
#[test]
fn each_pcapng_interface_keeps_its_link_type_and_name() {
    let file = capture("mixed-interfaces.pcapng");
    let json = wirelens(&["read", &file, "--format", "json"]);
    assert_eq!(json.status.code(), Some(0));
    let links: std::collections::BTreeSet<u64> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["link_type"].as_u64())
        .collect();
    assert_eq!(links, [101, 276].into_iter().collect(), "{links:?}");
    let table = wirelens(&["read", &file, "--format", "table", "--width", "200"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("on interface 0 (tun0) of the file"), "{text}");
    assert!(text.contains("on interface 1 of the file"), "{text}");
}
