//! Differential tests of the analysis against tshark, on every capture in captures/:
//!
//! * per TCP stream, `handshake` and `closed_by` from `wirelens flows --format json` agree
//!   with tshark's `tcp.completeness` (two-pass, `-2`), and packet counts each way agree
//!   with `tshark -q -z conv,tcp`;
//! * with reassembly on, the frame that completes a datagram lists the same fragment
//!   frames as tshark's `ip.fragment`, and its UDP fields equal tshark's;
//! * `arp.kind` is `gratuitous` exactly when tshark's `arp.isgratuitous` is true.
//!
//! When tshark is missing the tests skip with a reason, except under `CI=true`, where
//! they fail (CI installs tshark).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have_tshark() -> bool {
    let ok = Command::new("tshark")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but tshark is not installed"
        );
        eprintln!("skipping: tshark is not installed (apt-get install tshark)");
    }
    ok
}

/// Every capture in captures/ that reads to its end.
fn captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("captures"))
        .unwrap_or_else(|e| panic!("captures/: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng")
            ) && !p.ends_with("truncated.pcap")
                && !p.ends_with("corrupt.pcap")
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= 10,
        "expected the bundled captures, found {}",
        v.len()
    );
    v
}

fn tshark(file: &Path, args: &[&str]) -> String {
    let home = std::env::temp_dir().join("wirelens-tshark-home");
    let _ = std::fs::create_dir_all(&home);
    let out = Command::new("tshark")
        .env("HOME", &home)
        .args(["-n", "-r"])
        .arg(file)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("tshark: {e}"));
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wirelens_json(args: &[&str], file: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_wirelens"))
        .args(args)
        .arg(file)
        .args(["--format", "json"])
        .output()
        .unwrap_or_else(|e| panic!("wirelens: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Splits `a:port` into its parts.
fn endpoint(s: &str) -> String {
    let s = s.trim();
    // tshark writes an IPv6 endpoint as `fd77::1:8090`; we write `[fd77::1]:8090`.
    match s.rsplit_once(':') {
        Some((addr, port)) if addr.contains(':') => format!("[{addr}]:{port}"),
        _ => s.to_string(),
    }
}

#[test]
fn tcp_streams_agree_with_tshark_completeness_and_conversation_counts() {
    if !have_tshark() {
        return;
    }
    let mut streams_checked = 0;
    let mut mismatches = Vec::new();
    for file in captures() {
        let name = file.display().to_string();
        let ours: Vec<Value> = wirelens_json(&["flows"], &file)
            .into_iter()
            .filter(|f| f["proto"] == "tcp")
            .collect();
        // tshark: final completeness per stream (two passes), and packets per stream and
        // sender — the fallback for conversations `-z conv,tcp` leaves out (its tap skips
        // segments whose header the snapshot length cut, as in snaplen-64.pcap).
        let mut completeness: HashMap<u64, u64> = HashMap::new();
        let mut per_sender: HashMap<(u64, String), u64> = HashMap::new();
        let fields = [
            "-2",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "tcp.completeness",
            "-e",
            "ip.src",
            "-e",
            "ipv6.src",
            "-e",
            "tcp.srcport",
            "-E",
            "occurrence=f",
        ];
        for line in tshark(&file, &fields).lines() {
            let w: Vec<&str> = line.split('\t').collect();
            if let [s, c, src4, src6, sport] = w.as_slice()
                && let (Ok(s), Ok(c)) = (s.parse::<u64>(), c.parse::<u64>())
            {
                let e = completeness.entry(s).or_insert(0);
                *e = (*e).max(c);
                let src = if src4.is_empty() { src6 } else { src4 };
                *per_sender
                    .entry((s, endpoint(&format!("{src}:{sport}"))))
                    .or_insert(0) += 1;
            }
        }
        assert_eq!(
            ours.len(),
            completeness.len(),
            "{name}: stream count, ours vs tshark"
        );
        // tshark -z conv,tcp: "A <-> B  frames(B→A) bytes … frames(A→B) bytes … total …".
        let conv = tshark(&file, &["-q", "-z", "conv,tcp"]);
        let mut counts: HashMap<(String, String), (u64, u64)> = HashMap::new();
        for line in conv.lines().filter(|l| l.contains("<->")) {
            let w: Vec<&str> = line.split_whitespace().collect();
            if let [a, "<->", b, back, _, "bytes", fwd, ..] = w.as_slice() {
                let back: u64 = back.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
                let fwd: u64 = fwd.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
                counts.insert((endpoint(a), endpoint(b)), (fwd, back));
            }
        }
        for f in &ours {
            let stream = f["stream"].as_u64().unwrap_or(u64::MAX);
            let c = completeness.get(&stream).copied().unwrap_or(0);
            let want_handshake = if c & 7 == 7 { "complete" } else { "incomplete" };
            let want_closed = if c & 32 != 0 {
                Value::from("rst")
            } else if c & 16 != 0 {
                Value::from("fin")
            } else {
                Value::Null
            };
            if f["handshake"] != want_handshake {
                mismatches.push(format!(
                    "{name} stream {stream}: handshake ours {} vs tshark completeness {c}",
                    f["handshake"]
                ));
            }
            if f["closed_by"] != want_closed {
                mismatches.push(format!(
                    "{name} stream {stream}: closed_by ours {} vs tshark completeness {c}",
                    f["closed_by"]
                ));
            }
            let client = f["client"].as_str().unwrap_or_default().to_string();
            let server = f["server"].as_str().unwrap_or_default().to_string();
            let (cp, sp) = (f["client_packets"].as_u64(), f["server_packets"].as_u64());
            let theirs = counts
                .get(&(client.clone(), server.clone()))
                .map(|&(fwd, back)| (Some(fwd), Some(back)))
                .or_else(|| {
                    counts
                        .get(&(server.clone(), client.clone()))
                        .map(|&(fwd, back)| (Some(back), Some(fwd)))
                })
                .or_else(|| {
                    let by =
                        |who: &String| per_sender.get(&(stream, who.clone())).copied().unwrap_or(0);
                    Some((Some(by(&client)), Some(by(&server))))
                });
            match theirs {
                Some(t) if t == (cp, sp) => {}
                other => mismatches.push(format!(
                    "{name} stream {stream} {client} → {server}: packets ours {cp:?}/{sp:?}, tshark conv {other:?}"
                )),
            }
            streams_checked += 1;
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} disagreements:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(
        streams_checked >= 8,
        "only {streams_checked} TCP streams compared"
    );
    eprintln!("compared {streams_checked} TCP streams with tshark");
}

#[test]
fn reassembled_datagrams_agree_with_tshark_defragmentation() {
    if !have_tshark() {
        return;
    }
    let mut completed = 0;
    let mut mismatches = Vec::new();
    for file in captures() {
        let name = file.display().to_string();
        let ours = wirelens_json(&["read", "--reassemble"], &file);
        let theirs = tshark(
            &file,
            &[
                "-o",
                "ip.defragment:TRUE",
                "-o",
                "ipv6.defragment:TRUE",
                "-o",
                "udp.check_checksum:TRUE",
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "ip.fragment",
                "-e",
                "ipv6.fragment",
                "-e",
                "udp.srcport",
                "-e",
                "udp.dstport",
                "-e",
                "udp.length",
                "-e",
                "udp.checksum",
                "-e",
                "udp.checksum.status",
                "-E",
                "occurrence=a",
                "-E",
                "aggregator=,",
            ],
        );
        for line in theirs.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let [n, frags4, frags6, sp, dp, len, sum, status] = f.as_slice() else {
                continue;
            };
            let frags = if frags4.is_empty() { frags6 } else { frags4 };
            let ip = |p: &Value| -> Value {
                if p["ipv4"].is_null() {
                    p["ipv6"].clone()
                } else {
                    p["ipv4"].clone()
                }
            };
            let n: usize = n.parse().unwrap_or_else(|e| panic!("{line}: {e}"));
            if frags.is_empty() {
                // A fragment that completes nothing: tshark shows no UDP header on it
                // (it shows it once, on the completing frame), and neither may we.
                let p = ours.get(n - 1);
                let fragment = p.is_some_and(|p| {
                    p["ipv4"]["mf"] == true
                        || p["ipv4"]["frag_offset"].as_u64().is_some_and(|o| o > 0)
                        || !p["ipv6"]["fragment"].is_null()
                });
                if fragment && sp.is_empty() && p.is_some_and(|p| !p["udp"].is_null()) {
                    mismatches.push(format!(
                        "{name} frame {n}: we show a UDP header on a fragment, tshark does not"
                    ));
                }
                continue;
            }
            let Some(p) = ours.get(n - 1) else {
                mismatches.push(format!("{name} frame {n}: we have no such frame"));
                continue;
            };
            let want: Vec<u64> = frags.split(',').filter_map(|x| x.parse().ok()).collect();
            let got: Vec<u64> = ip(p)["reassembled"]["fragments"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            if got != want {
                mismatches.push(format!(
                    "{name} frame {n}: fragments ours {got:?}, tshark {want:?}"
                ));
            }
            completed += 1;
            if sp.is_empty() {
                // A datagram that carries no UDP (ICMPv6, say): its fragments are checked.
                continue;
            }
            let u = &p["udp"];
            let first = |s: &str| s.split(',').next().unwrap_or_default().to_string();
            let (sp, dp, len, sum, status) =
                (first(sp), first(dp), first(len), first(sum), first(status));
            let checks = [
                ("src_port", u["src_port"].to_string(), sp.to_string()),
                ("dst_port", u["dst_port"].to_string(), dp.to_string()),
                ("length", u["length"].to_string(), len.to_string()),
                (
                    "checksum",
                    u["checksum"]
                        .as_u64()
                        .map(|c| format!("0x{c:04x}"))
                        .unwrap_or_default(),
                    sum.to_string(),
                ),
                (
                    "checksum_ok",
                    u["checksum_ok"].to_string(),
                    match status.as_str() {
                        "1" => "true".into(),
                        "0" => "false".into(),
                        _ => "null".into(),
                    },
                ),
            ];
            for (field, o, t) in checks {
                if o != t {
                    mismatches.push(format!(
                        "{name} frame {n}: udp.{field} ours {o}, tshark {t}"
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} disagreements:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(
        completed >= 2,
        "only {completed} reassembled datagrams compared"
    );
    eprintln!("compared {completed} reassembled datagrams with tshark");
}

#[test]
fn gratuitous_arp_agrees_with_tshark() {
    if !have_tshark() {
        return;
    }
    let mut arps = 0;
    for file in captures() {
        let ours = wirelens_json(&["read"], &file);
        let theirs = tshark(
            &file,
            &[
                "-T",
                "fields",
                "-e",
                "frame.number",
                "-e",
                "arp.isgratuitous",
                "-Y",
                "arp",
            ],
        );
        for line in theirs.lines() {
            let mut it = line.split('\t');
            let n: usize = it
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{line}"));
            let grat = matches!(it.next(), Some("1" | "True" | "true"));
            let kind = ours[n - 1]["arp"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert_eq!(
                kind == "gratuitous",
                grat,
                "{} frame {n}: ours {kind}, tshark isgratuitous={grat}",
                file.display()
            );
            arps += 1;
        }
    }
    assert!(arps >= 4, "only {arps} ARP packets compared");
}
