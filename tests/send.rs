//! `wirelens send`: the real binary, in two network namespaces joined by a veth pair that
//! each test creates (and that are removed when the test ends, even when it fails).
//! Nothing is ever sent outside them: the tests that run without namespaces use
//! `--dry-run`, or run without the privilege to open a raw socket at all.
//!
//! The namespace tests need root: they skip with a printed reason otherwise, except under
//! `CI=true`, where they must run. The tshark checks skip the same way without tshark.

mod common;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use wirelens::capture::file::FileSource;
use wirelens::capture::writer::{CaptureWriter, OutFormat};
use wirelens::capture::{LinkType, Timestamp};
use wirelens::lab::netns::{NetnsPair, can_create_namespaces};
use wirelens::proto::MacAddr;
use wirelens::proto::arp::Arp;
use wirelens::proto::tcp::{Tcp, TcpFlags, TcpOption};
use wirelens::send::craft::{self, Ends};

use common::may;

const BIN: &str = env!("CARGO_BIN_EXE_wirelens");
const A_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const B_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
const A_MAC: MacAddr = MacAddr([0x02, 0x77, 0, 0, 0, 0x01]);
/// The uid and gid of `nobody`, who has no capability at all.
const NOBODY: u32 = 65534;
/// Longest any helper waits for anything, so that a broken test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(10);

fn have(tool: &str) -> Result<(), String> {
    match Command::new(tool).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(format!("{tool} is not installed")),
    }
}

fn namespaces_and(tools: &[&str]) -> Result<(), String> {
    can_create_namespaces()?;
    tools.iter().try_for_each(|t| have(t))
}

fn pair() -> NetnsPair {
    NetnsPair::create("wls", "va", "vb", None).unwrap_or_else(|e| panic!("{e}"))
}

/// A file name in the temporary directory, unique to this process and `tag`.
fn temp(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("wirelens-send-{}-{tag}.pcap", std::process::id()))
}

/// Runs `wirelens send ARGS` inside namespace `ns`.
fn send_in(pair: &NetnsPair, ns: &str, args: &[&str]) -> Output {
    let mut all = vec![BIN, "send"];
    all.extend_from_slice(args);
    pair.command(ns, &all)
        .output()
        .unwrap_or_else(|e| panic!("could not run ip netns exec: {e}"))
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `f` on a thread that has moved into network namespace `ns`: sockets it opens
/// live there (the library's `in_netns`, with failures turned into panics).
fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    let inner = wirelens::lab::netns::in_netns(ns, move || Ok(f()));
    thread::spawn(move || match inner.join() {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("could not enter the namespace: {e}"),
        Err(p) => std::panic::resume_unwind(p),
    })
}

/// tcpdump capturing `count` packets matching `filter` on `iface` in `ns` into `file`;
/// returns once it is listening.
fn tcpdump(
    pair: &NetnsPair,
    ns: &str,
    iface: &str,
    file: &Path,
    count: &str,
    filter: &str,
) -> Child {
    let path = file.to_string_lossy().into_owned();
    let mut child = pair
        .command(
            ns,
            &[
                "tcpdump", "-i", iface, "-U", "-n", "-c", count, "-w", &path, filter,
            ],
        )
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("tcpdump: {e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let mut lines = BufReader::new(stderr).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("listening on") => break,
            Some(Ok(_)) => continue,
            _ => {
                let _ = child.kill();
                panic!("tcpdump stopped before it listened");
            }
        }
    }
    // Keep reading its stderr so that it never blocks on a full pipe.
    thread::spawn(move || lines.for_each(drop));
    child
}

/// Waits for `child` to exit, killing it after PATIENCE.
fn wait_or_kill(mut child: Child) {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// tshark's fields of every packet in `file`, checksum checks on, one Vec per packet.
fn tshark_fields(file: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(file);
    for p in [
        "ip.check_checksum:TRUE",
        "udp.check_checksum:TRUE",
        "tcp.check_checksum:TRUE",
    ] {
        cmd.args(["-o", p]);
    }
    cmd.args(["-T", "fields", "-E", "separator=|"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("tshark: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect()
}

/// The frames of a pcap, read with our own reader.
fn frames(file: &Path) -> Vec<Vec<u8>> {
    let mut src = FileSource::open(file).unwrap_or_else(|e| panic!("{e}"));
    let mut v = Vec::new();
    while let Some(f) = src.next_frame().unwrap_or_else(|e| panic!("{e}")) {
        v.push(f.bytes.to_vec());
    }
    v
}

/// The binary, runnable without any capability: as we are when we are not root; as
/// `nobody` when we are, from a copy in a directory of its own under /tmp. `nobody` may
/// not be able to reach the binary where cargo built it: a checkout in root's home
/// (mode 700) gave `Permission denied (os error 13)`. The directory is removed on drop.
struct Unprivileged {
    exe: PathBuf,
    /// The directory holding the copy, when there is one.
    dir: Option<PathBuf>,
}

impl Unprivileged {
    /// The binary to run for `what`, or None (with a printed reason) when it cannot be
    /// run without privilege here; under CI=true that is a failure instead.
    fn new(what: &str) -> Option<Unprivileged> {
        if !wirelens::privilege::is_root() {
            return Some(Unprivileged {
                exe: PathBuf::from(BIN),
                dir: None,
            });
        }
        let ready = Self::copy().and_then(|u| u.check().map(|()| u));
        match ready {
            Ok(u) => Some(u),
            Err(why) => {
                may(what, Err(why));
                None
            }
        }
    }

    /// Copies the binary into a new directory under /tmp that everyone may enter.
    fn copy() -> Result<Unprivileged, String> {
        use std::os::unix::fs::PermissionsExt;
        static COPIES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let tmp = Path::new("/tmp");
        let base = if tmp.is_dir() {
            tmp.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("wirelens-nobody-{}-{n}", std::process::id()));
        let fail = |doing: &str, e: std::io::Error| format!("could not {doing}: {e}");
        std::fs::create_dir(&dir).map_err(|e| fail(&format!("create {}", dir.display()), e))?;
        // From here on, dropping `u` removes the directory.
        let u = Unprivileged {
            exe: dir.join("wirelens"),
            dir: Some(dir.clone()),
        };
        let mode = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(&dir, mode.clone())
            .map_err(|e| fail(&format!("make {} mode 755", dir.display()), e))?;
        std::fs::copy(BIN, &u.exe).map_err(|e| fail(&format!("copy {BIN}"), e))?;
        std::fs::set_permissions(&u.exe, mode)
            .map_err(|e| fail(&format!("make {} mode 755", u.exe.display()), e))?;
        Ok(u)
    }

    /// Runs the copy once as nobody, to tell "cannot run here" from a failing test.
    fn check(&self) -> Result<(), String> {
        let o = self.command().arg("--version").output();
        match o {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(format!(
                "{} --version run as nobody failed: {}",
                self.exe.display(),
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Err(format!(
                "{} could not be run as nobody: {e}",
                self.exe.display()
            )),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.exe);
        if let Some(dir) = &self.dir {
            // std drops the supplementary groups too when root changes the uid. The
            // working directory is one nobody may enter, not the checkout.
            cmd.uid(NOBODY).gid(NOBODY).current_dir(dir);
        }
        cmd
    }

    /// Runs `wirelens send ARGS`.
    fn send(&self, args: &[&str]) -> Output {
        self.command()
            .arg("send")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("could not run {}: {e}", self.exe.display()))
    }
}

impl Drop for Unprivileged {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn dry_run_shows_the_tables_needs_no_privilege_and_sends_nothing() {
    let Some(bin) = Unprivileged::new("the dry-run test") else {
        return;
    };
    let file = temp("dry");
    let _ = std::fs::remove_file(&file);
    let path = file.to_string_lossy().into_owned();
    let o = bin.send(&[
        "udp",
        "-i",
        "lo",
        "--to",
        "127.0.0.1",
        "--port",
        "9",
        "--src-port",
        "50000",
        "--payload",
        "hi",
        "--dry-run",
        "-w",
        &path,
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.starts_with("Would send on lo: UDP datagram 127.0.0.1:50000 → 127.0.0.1:9"),
        "{out}"
    );
    for want in [
        "IPv4 — network layer (OSI 3) — bytes 14–33",
        "UDP — transport layer (OSI 4) — bytes 34–41",
        "│ 34     ┆ c3 50",
        "correct: covers a pseudo-header",
        "IP_HDRINCL",
        "Dry run: nothing was sent on lo.",
        "Saved 1 frame(s) to",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let f = frames(&file);
    let _ = std::fs::remove_file(&file);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].get(42..), Some(&b"hi"[..]));
}

#[test]
fn refusals_are_one_sentence_and_exit_code_2() {
    let Some(bin) = Unprivileged::new("the refusal test") else {
        return;
    };
    // All dry runs: even a wrong check could not send anything.
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "udp",
                "-i",
                "no-such-if0",
                "--broadcast",
                "--port",
                "9",
                "--dry-run",
            ],
            "wirelens: There is no interface named no-such-if0 here; this network namespace has: ",
        ),
        (
            &[
                "udp",
                "-i",
                "lo",
                "--to",
                "192.0.2.1",
                "--port",
                "9",
                "--dry-run",
            ],
            "wirelens: 192.0.2.1 is not on a subnet of lo (127.0.0.0/8): wirelens sends only to hosts on the link it sends on. Add --any-target if you really mean to send there.",
        ),
        (
            &[
                "tcp",
                "-i",
                "lo",
                "--to",
                "127.0.0.1",
                "--port",
                "9",
                "--count",
                "20000",
                "--dry-run",
            ],
            "wirelens: That is 20000 packets, more than wirelens sends without --force (10,000): add --force if you really mean to send that many.",
        ),
        (
            &[
                "tcp",
                "-i",
                "lo",
                "--to",
                "127.0.0.1",
                "--port",
                "9",
                "--count",
                "5",
                "--interval",
                "0.5",
                "--dry-run",
                "--force",
            ],
            "wirelens: Sending 1 packet(s) every 0.5 ms is 2000 packets per second, more than the 1000 packets per second wirelens allows: use --interval 1 or more.",
        ),
        (
            &["arp", "-i", "lo", "--target", "127.0.0.2", "--dry-run"],
            "wirelens: lo is a loopback interface: it has no Ethernet and no MAC address, so there is no ARP on it.",
        ),
        (
            &[
                "udp",
                "-i",
                "lo",
                "--to",
                "127.0.0.1",
                "--port",
                "9",
                "--payload-hex",
                "00",
                "--ttl",
                "1",
                "--dry-run",
                "--count",
                "2",
                "--interval",
                "0",
            ],
            "wirelens: Sending 1 packet(s) every 0 ms is as fast as the machine can send, more than the 1000 packets per second wirelens allows: use --interval 1 or more.",
        ),
    ];
    for (args, want) in cases {
        let o = bin.send(args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(err.starts_with(want), "{args:?}:\n{err}");
        assert!(out.is_empty(), "nothing is shown before a refusal: {out}");
    }
}

#[test]
fn an_arp_reply_without_target_mac_is_a_usage_error() {
    let Some(bin) = Unprivileged::new("the usage error test") else {
        return;
    };
    let o = bin.send(&[
        "arp",
        "-i",
        "lo",
        "--target",
        "127.0.0.2",
        "--reply",
        "--dry-run",
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--reply --target IP needs --target-mac MAC"),
        "{err}"
    );
}

#[test]
fn without_cap_net_raw_the_permission_sentence_and_exit_code_3() {
    // Loopback only (allowed even if a socket could be opened), and it cannot be: the
    // binary runs as nobody, or as an unprivileged user running the tests.
    let Some(bin) = Unprivileged::new("the permission test") else {
        return;
    };
    let o = bin.send(&["udp", "-i", "lo", "--to", "127.0.0.1", "--port", "9", "-q"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}{err}");
    assert!(
        err.starts_with("wirelens: Sending on lo needs the CAP_NET_RAW capability"),
        "{err}"
    );
    assert!(
        err.contains("setcap cap_net_raw,cap_net_admin=eip"),
        "{err}"
    );
    assert!(out.is_empty(), "{out}");
}

/// The frames the library crafts, as tshark reads them: checksums right, and a
/// gratuitous ARP classified as one.
#[test]
fn crafted_frames_are_well_formed_per_tshark() {
    if !may("the tshark check", have("tshark")) {
        return;
    }
    let b_mac = MacAddr([0x02, 0x77, 0, 0, 0, 0x02]);
    let ends = |dst: Ipv4Addr, dst_mac: MacAddr| Ends {
        src_mac: A_MAC,
        dst_mac,
        src: A_IP,
        dst,
        id: 0x4242,
        ttl: 64,
    };
    let mut all = vec![
        craft::arp_frame(A_MAC, MacAddr::BROADCAST, &Arp::request(A_MAC, A_IP, B_IP)),
        craft::arp_frame(
            A_MAC,
            MacAddr::BROADCAST,
            &Arp::gratuitous(A_MAC, A_IP, false),
        ),
    ];
    let bc = ends(Ipv4Addr::BROADCAST, MacAddr::BROADCAST);
    all.extend(
        craft::udp_frames("va", &bc, 50000, 10000, b"hello broadcast", 1500, false)
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let payload: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 256) as u8).collect();
    all.extend(
        craft::udp_frames("va", &ends(B_IP, b_mac), 50001, 10000, &payload, 1500, true)
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let syn = Tcp::new(
        50002,
        8080,
        1,
        0,
        TcpFlags(TcpFlags::SYN),
        64240,
        vec![TcpOption::Mss { value: 1460 }],
    )
    .unwrap_or_else(|| panic!("fits"));
    all.push(craft::tcp_frame(&ends(B_IP, b_mac), syn, &[]).unwrap_or_else(|e| panic!("{e}")));
    let file = temp("crafted");
    let mut w = CaptureWriter::new(
        File::create(&file).unwrap_or_else(|e| panic!("{e}")),
        OutFormat::Pcap,
        LinkType::ETHERNET,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for f in &all {
        w.write(Timestamp::default(), f, f.len() as u32, None)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    w.flush().unwrap_or_else(|e| panic!("{e}"));
    let rows = tshark_fields(
        &file,
        &[
            "frame.protocols",
            "arp.isgratuitous",
            "ip.checksum.status",
            "udp.checksum.status",
            "tcp.checksum.status",
            "udp.length",
            "_ws.expert.message",
        ],
    );
    let _ = std::fs::remove_file(&file);
    assert_eq!(rows.len(), 7, "{rows:?}");
    let col = |r: usize, c: usize| rows[r].get(c).map(String::as_str).unwrap_or("");
    assert_eq!((col(0, 0), col(0, 1)), ("eth:ethertype:arp", ""));
    assert_eq!(col(1, 1), "1", "gratuitous: {rows:?}");
    assert_eq!(
        (col(2, 2), col(2, 3)),
        ("1", "1"),
        "UDP broadcast: {rows:?}"
    );
    // The fragments: tshark reassembles them; the UDP checksum is over the whole.
    for r in 3..6 {
        assert_eq!(col(r, 2), "1", "fragment {r}: {rows:?}");
    }
    assert_eq!((col(5, 3), col(5, 5)), ("1", "4008"), "{rows:?}");
    assert_eq!((col(6, 2), col(6, 4)), ("1", "1"), "TCP SYN: {rows:?}");
    for r in &rows {
        assert!(!r.join(" ").to_lowercase().contains("bad"), "{r:?}");
    }
}

#[test]
fn an_arp_request_reports_the_reply_with_the_peers_mac() {
    if !may("the ARP test", namespaces_and(&[])) {
        return;
    }
    let p = pair();
    let file = temp("arp");
    let path = file.to_string_lossy().into_owned();
    let o = send_in(
        &p,
        &p.a.ns,
        &["arp", "-i", "va", "--target", "10.77.0.2", "-w", &path],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.starts_with("About to send on va: ARP request: who has 10.77.0.2? Tell 10.77.0.1"),
        "{out}"
    );
    assert!(
        out.contains("ARP — link layer (between OSI 2 and 3) — bytes 14–41"),
        "{out}"
    );
    assert!(
        out.contains("\n10.77.0.2 is at 02:77:00:00:00:02, "),
        "{out}"
    );
    assert!(out.contains("(answers frame 1, "), "{out}");
    let f = frames(&file);
    let _ = std::fs::remove_file(&file);
    assert_eq!(f.len(), 2, "the request and the reply");
    assert_eq!(
        f[1].get(6..12),
        Some(&p.b.mac[..]),
        "the reply comes from the peer's MAC"
    );

    // Nobody has 10.77.0.99: exit code 1 and one sentence.
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "arp",
            "-i",
            "va",
            "--target",
            "10.77.0.99",
            "--timeout",
            "300",
            "-q",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert_eq!(
        out,
        "No reply from 10.77.0.99 within 300 ms: no host on va answers for 10.77.0.99 (it is down, or nobody has that address).\n"
    );

    // A probe for the peer's address finds it in use; exit code 1, as arping -D.
    let o = send_in(
        &p,
        &p.a.ns,
        &["arp", "-i", "va", "--probe", "10.77.0.2", "-q"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.starts_with("10.77.0.2 is in use: 02:77:00:00:00:02 answered the probe"),
        "{out}"
    );
}

#[test]
fn a_gratuitous_arp_is_classified_gratuitous_by_tshark() {
    if !may(
        "the gratuitous ARP test",
        namespaces_and(&["tshark", "tcpdump"]),
    ) {
        return;
    }
    let p = pair();
    let file = temp("garp");
    let dump = tcpdump(&p, &p.b.ns, "vb", &file, "1", "arp");
    let o = send_in(&p, &p.a.ns, &["arp", "-i", "va", "--gratuitous"]);
    wait_or_kill(dump);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("Sent: 10.77.0.1 is at 02:77:00:00:00:01, to everyone on va."),
        "{out}"
    );
    let rows = tshark_fields(
        &file,
        &[
            "arp.isgratuitous",
            "arp.src.proto_ipv4",
            "arp.dst.proto_ipv4",
            "eth.dst",
            "arp.src.hw_mac",
        ],
    );
    let _ = std::fs::remove_file(&file);
    assert_eq!(
        rows,
        vec![
            vec![
                "1",
                "10.77.0.1",
                "10.77.0.1",
                "ff:ff:ff:ff:ff:ff",
                "02:77:00:00:00:01"
            ]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
        ],
        "as captured on the other host"
    );
}

/// The issue-16 bug: `send arp --gratuitous --sender-ip` with an address that is not the
/// interface's announced it with our MAC (ARP spoofing). It is refused (exit code 2, one
/// sentence, nothing on the wire, as the peer's capture shows), a dry run shows it and
/// says it would be refused, and `--spoof` sends it.
#[test]
fn a_gratuitous_arp_for_an_address_not_ours_is_refused_unless_spoof() {
    if !may("the ARP spoofing test", namespaces_and(&["tcpdump"])) {
        return;
    }
    let p = pair();
    let file = temp("spoof");
    // The first ARP frame the peer sees ends the capture: it must be the --spoof one.
    let dump = tcpdump(&p, &p.b.ns, "vb", &file, "1", "arp");
    let refused = |ip: &str| {
        format!(
            "wirelens: {ip} is not an address of va, so telling the link that {ip} is at \
             02:77:00:00:00:01 is ARP spoofing, and every host that hears it would send its \
             traffic for {ip} to 02:77:00:00:00:01 instead of to the host that owns {ip}; add \
             --spoof only if that is what you mean to show, on a network of your own.\n"
        )
    };
    // On the link (a gateway's address, say) and off it (the issue's example).
    for ip in ["10.77.0.253", "192.0.2.1"] {
        let o = send_in(
            &p,
            &p.a.ns,
            &["arp", "-i", "va", "--gratuitous", "--sender-ip", ip],
        );
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}{err}");
        assert_eq!(err, refused(ip));
        assert!(out.is_empty(), "nothing is shown before a refusal: {out}");
    }
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "arp",
            "-i",
            "va",
            "--gratuitous",
            "--sender-ip",
            "10.77.0.253",
            "--dry-run",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a dry run always works: {out}{err}"
    );
    let why = refused("10.77.0.253");
    let why = why.trim_start_matches("wirelens: ").trim_end();
    assert!(
        out.starts_with("Would send on va: Gratuitous ARP: 10.77.0.253 announces"),
        "{out}"
    );
    assert!(
        out.contains("ARP — link layer (between OSI 2 and 3) — bytes 14–41"),
        "{out}"
    );
    assert!(
        out.ends_with(&format!(
            "Dry run: nothing was sent on va.\nWithout --dry-run, wirelens refuses to send \
             this (exit code 2): {why}\n"
        )),
        "{out}"
    );
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "arp",
            "-i",
            "va",
            "--gratuitous",
            "--sender-ip",
            "10.77.0.254",
            "--spoof",
            "--width",
            "400",
        ],
    );
    wait_or_kill(dump);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains(
            "Allowed by --spoof: every host that hears it will believe that 10.77.0.254 is at \
             02:77:00:00:00:01"
        ),
        "the table's notes say what every receiver will believe: {out}"
    );
    assert!(
        out.contains("Sent: 10.77.0.254 is at 02:77:00:00:00:01, to everyone on va."),
        "{out}"
    );
    let f = frames(&file);
    let _ = std::fs::remove_file(&file);
    // Ethernet (14 bytes), then ARP: sender IP at bytes 14–17 of the ARP packet.
    let spa: Vec<Option<&[u8]>> = f.iter().map(|f| f.get(28..32)).collect();
    assert_eq!(
        spa,
        vec![Some(&[10, 77, 0, 254][..])],
        "the peer saw only the --spoof announcement, nothing of the refused runs"
    );
}

/// What a receiver got: the datagram and who sent it, or None after PATIENCE.
type Received = JoinHandle<Option<(Vec<u8>, std::net::SocketAddr)>>;

/// A plain UDP socket bound to 0.0.0.0:`port` with SO_BROADCAST in namespace `ns`; the
/// channel says when it is bound.
fn udp_receiver(ns: &str, port: u16) -> (Received, mpsc::Receiver<()>) {
    let (ready_tx, ready) = mpsc::channel();
    let h = in_netns(ns, move || {
        let s = UdpSocket::bind(("0.0.0.0", port)).unwrap_or_else(|e| panic!("bind: {e}"));
        s.set_broadcast(true)
            .unwrap_or_else(|e| panic!("SO_BROADCAST: {e}"));
        s.set_read_timeout(Some(PATIENCE))
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = ready_tx.send(());
        let mut buf = vec![0u8; 65536];
        let (n, from) = s.recv_from(&mut buf).ok()?;
        buf.truncate(n);
        Some((buf, from))
    });
    (h, ready)
}

#[test]
fn a_udp_broadcast_reaches_a_plain_socket_on_the_other_host_and_is_well_formed() {
    if !may(
        "the UDP broadcast test",
        namespaces_and(&["tshark", "tcpdump"]),
    ) {
        return;
    }
    let p = pair();
    let file = temp("udp");
    let (rx, ready) = udp_receiver(&p.b.ns, 10000);
    ready
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("receiver: {e}"));
    let dump = tcpdump(&p, &p.b.ns, "vb", &file, "1", "udp port 10000");
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "udp",
            "-i",
            "va",
            "--broadcast",
            "--port",
            "10000",
            "--payload",
            "hello broadcast",
        ],
    );
    let got = rx
        .join()
        .unwrap_or_else(|_| panic!("receiver thread panicked"));
    wait_or_kill(dump);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("limited broadcast: every host on the link receives it"),
        "{out}"
    );
    let (data, from) = got.unwrap_or_else(|| panic!("nothing arrived; wirelens said:\n{out}{err}"));
    assert_eq!(data, b"hello broadcast");
    assert_eq!(from.ip(), std::net::IpAddr::V4(A_IP));
    let rows = tshark_fields(
        &file,
        &[
            "eth.dst",
            "ip.dst",
            "ip.checksum.status",
            "udp.checksum.status",
            "udp.dstport",
            "data.data",
        ],
    );
    let _ = std::fs::remove_file(&file);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r: Vec<&str> = rows[0].iter().map(String::as_str).collect();
    assert_eq!(
        r,
        [
            "ff:ff:ff:ff:ff:ff",
            "255.255.255.255",
            "1",
            "1",
            "10000",
            "68656c6c6f2062726f616463617374"
        ],
        "as captured on the other host"
    );
}

#[test]
fn a_subnet_broadcast_and_a_fragmented_datagram_arrive_whole() {
    if !may("the UDP subnet broadcast test", namespaces_and(&[])) {
        return;
    }
    let p = pair();
    let (rx, ready) = udp_receiver(&p.b.ns, 10001);
    ready
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("receiver: {e}"));
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "udp",
            "-i",
            "va",
            "--to",
            "10.77.0.255",
            "--port",
            "10001",
            "--payload",
            "hello subnet",
            "-q",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let got = rx
        .join()
        .unwrap_or_else(|_| panic!("receiver thread panicked"));
    assert_eq!(
        got.map(|g| g.0),
        Some(b"hello subnet".to_vec()),
        "{out}{err}"
    );

    // 4000 bytes over a 1500-byte MTU: refused without --fragment, whole with it — the
    // receiving kernel reassembles our fragments into one datagram.
    let payload: String = (0..4000).map(|i| format!("{:02x}", i % 256)).collect();
    let args = [
        "udp",
        "-i",
        "va",
        "--to",
        "10.77.0.2",
        "--port",
        "10002",
        "--payload-hex",
        &payload,
        "-q",
    ];
    let o = send_in(&p, &p.a.ns, &args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.contains("more than va's MTU of 1500: add --fragment"),
        "{err}"
    );
    let (rx, ready) = udp_receiver(&p.b.ns, 10002);
    ready
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("receiver: {e}"));
    let mut with = args.to_vec();
    with.push("--fragment");
    let o = send_in(&p, &p.a.ns, &with);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let got = rx
        .join()
        .unwrap_or_else(|_| panic!("receiver thread panicked"));
    let want: Vec<u8> = (0..4000).map(|i| (i % 256) as u8).collect();
    assert_eq!(got.map(|g| g.0), Some(want), "{out}{err}");
}

#[test]
fn a_syn_is_answered_by_synack_when_listening_and_rst_when_closed() {
    if !may("the TCP test", namespaces_and(&[])) {
        return;
    }
    let p = pair();
    // A listener in the other namespace, kept open until the test is done.
    let (stop_tx, stop) = mpsc::channel::<()>();
    let (ready_tx, ready) = mpsc::channel();
    let listener = in_netns(&p.b.ns, move || {
        let l = TcpListener::bind((B_IP, 8080)).unwrap_or_else(|e| panic!("bind: {e}"));
        let _ = ready_tx.send(());
        let _ = stop.recv_timeout(PATIENCE * 3);
        drop(l);
    });
    ready
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("listener: {e}"));
    let file = temp("tcp");
    let path = file.to_string_lossy().into_owned();
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "tcp",
            "-i",
            "va",
            "--to",
            "10.77.0.2",
            "--port",
            "8080",
            "-w",
            &path,
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("\nPort 8080 on 10.77.0.2 is open: it answered our SYN with SYN-ACK after "),
        "{out}"
    );
    assert!(out.contains("half-open scan"), "{out}");
    assert!(
        out.contains("Our kernel then answered the SYN-ACK with RST (frame "),
        "{out}"
    );
    assert!(out.contains("handshake 2/3"), "{out}");
    // The file holds the exchange in order: our SYN, their SYN-ACK, our kernel's RST
    // (after, possibly, the ARP that found the peer's MAC).
    let flags: Vec<u8> = frames(&file)
        .iter()
        .filter(|f| f.get(12..14) == Some(&[0x08, 0x00][..]))
        .filter_map(|f| f.get(47).copied())
        .collect();
    let _ = std::fs::remove_file(&file);
    assert_eq!(flags, vec![0x02, 0x12, 0x04], "SYN, SYN-ACK, RST");

    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "tcp",
            "-i",
            "va",
            "--to",
            "10.77.0.2",
            "--port",
            "8081",
            "-q",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.starts_with("Port 8081 on 10.77.0.2 is closed: it answered our SYN with RST after "),
        "{out}"
    );
    let _ = stop_tx.send(());
    listener
        .join()
        .unwrap_or_else(|_| panic!("listener thread panicked"));
}

#[test]
fn an_interface_that_is_down_or_has_no_link_is_refused() {
    if !may("the interface state test", namespaces_and(&[])) {
        return;
    }
    let p = pair();
    p.exec_ok(&p.b.ns, &["ip", "link", "set", "vb", "down"])
        .unwrap_or_else(|e| panic!("{e}"));
    let o = send_in(&p, &p.a.ns, &["arp", "-i", "va", "--target", "10.77.0.2"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(
        err.starts_with("wirelens: va is up but has no link"),
        "{err}"
    );
    p.exec_ok(&p.a.ns, &["ip", "link", "set", "va", "down"])
        .unwrap_or_else(|e| panic!("{e}"));
    let o = send_in(
        &p,
        &p.a.ns,
        &["udp", "-i", "va", "--broadcast", "--port", "9"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert_eq!(
        err,
        "wirelens: va is down, so nothing sent on it would leave: bring it up first (ip link set va up).\n"
    );
    assert!(out.is_empty(), "{out}");
}

fn pair6() -> NetnsPair {
    NetnsPair::create_v6("wls6", "va", "vb").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_neighbour_solicitation_reports_the_peers_advertisement() {
    if !may("the NDP test", namespaces_and(&[])) {
        return;
    }
    let p = pair6();
    let file = temp("ndp");
    let path = file.to_string_lossy().into_owned();
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "ndp", "-i", "va", "--target", "fd77::2", "-w", &path, "--width", "200",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.starts_with(
            "About to send on va: NDP neighbour solicitation: who has fd77::2? Tell fe80::77:ff:fe00:1"
        ),
        "{out}"
    );
    for want in [
        "ICMPv6 — network layer (OSI 3) — bytes 54–85",
        "Neighbour solicitation",
        "\nfd77::2 is at 02:77:00:00:00:02, ",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    let f = frames(&file);
    let _ = std::fs::remove_file(&file);
    assert_eq!(f.len(), 2, "the solicitation and the advertisement");
    assert_eq!(f[0].get(..6), Some(&[0x33, 0x33, 0xff, 0, 0, 2][..]));
    assert_eq!(f[1].get(6..12), Some(&p.b.mac[..]), "from the peer");
    assert_eq!(f[1].get(54), Some(&136), "ICMPv6 type 136");

    // Nobody has fd77::99: exit code 1 and one sentence.
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "ndp",
            "-i",
            "va",
            "--target",
            "fd77::99",
            "--timeout",
            "300",
            "-q",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.starts_with("No advertisement for fd77::99 within 300 ms"),
        "{out}"
    );
}

/// `send ndp --dry-run` needs no privilege: run as nobody (or as the unprivileged user
/// running the tests) on a thread inside the namespace, whose network namespace the
/// child process inherits.
#[test]
fn a_neighbour_solicitation_dry_run_needs_no_privilege() {
    if !may("the NDP dry-run test", namespaces_and(&[])) {
        return;
    }
    let Some(bin) = Unprivileged::new("the NDP dry-run test") else {
        return;
    };
    let p = pair6();
    let mut cmd = bin.command();
    cmd.args([
        "send",
        "ndp",
        "-i",
        "va",
        "--target",
        "fd77::2",
        "--dry-run",
        "--width",
        "200",
    ]);
    let o = in_netns(&p.a.ns, move || cmd.output())
        .join()
        .unwrap_or_else(|_| panic!("thread panicked"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.starts_with("Would send on va: NDP neighbour solicitation: who has fd77::2?"),
        "{out}"
    );
    for want in [
        "33:33:ff:00:00:02",
        "ff02::1:ff00:2",
        "│ 21     ┆ ff ",
        "correct: covers an IPv6",
        "Dry run: nothing was sent on va.",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

/// A `--source` the interface does not have, and an advertisement of the peer's
/// address, are NDP spoofing: refused (exit code 2, one sentence, nothing on the wire,
/// as the peer's capture shows) unless `--spoof`.
#[test]
fn ndp_claims_of_addresses_not_ours_are_refused_unless_spoof() {
    if !may("the NDP spoofing test", namespaces_and(&["tcpdump"])) {
        return;
    }
    let p = pair6();
    let file = temp("ndp-spoof");
    // The first neighbour discovery frame the peer sees ends the capture: it must be
    // the --spoof one.
    let dump = tcpdump(
        &p,
        &p.b.ns,
        "vb",
        &file,
        "1",
        "icmp6 and (ip6[40] == 135 or ip6[40] == 136)",
    );
    let cases: [(&[&str], &str, &str); 2] = [
        (
            &["--target", "fd77::2", "--source", "fd77::99"],
            "fd77::99",
            "fd77::2 (the host it asks)",
        ),
        (
            &["--target", "fd77::2", "--advertise"],
            "fd77::2",
            "every host that hears it",
        ),
    ];
    for (extra, ip, believers) in cases {
        let mut args = vec!["ndp", "-i", "va"];
        args.extend_from_slice(extra);
        let o = send_in(&p, &p.a.ns, &args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}{err}");
        assert_eq!(
            err,
            format!(
                "wirelens: {ip} is not an address of va, so telling the link that {ip} is at \
                 02:77:00:00:00:01 is NDP spoofing, and {believers} would send its traffic for \
                 {ip} to 02:77:00:00:00:01 instead of to the host that owns {ip}; add --spoof \
                 only if that is what you mean to show, on a network of your own.\n"
            )
        );
        assert!(out.is_empty(), "nothing is shown before a refusal: {out}");
    }
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "ndp", "-i", "va", "--target", "fd77::2", "--source", "fd77::99", "--spoof", "-q",
        ],
    );
    wait_or_kill(dump);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let f = frames(&file);
    let _ = std::fs::remove_file(&file);
    // The IPv6 source address sits at bytes 22–37 of the frame.
    let src: Vec<Option<&[u8]>> = f.iter().map(|f| f.get(22..38)).collect();
    let spoofed: std::net::Ipv6Addr = "fd77::99".parse().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        src,
        vec![Some(&spoofed.octets()[..])],
        "the peer saw only the --spoof solicitation, nothing of the refused runs"
    );
}

#[test]
fn udp_to_all_nodes_is_seen_by_the_peer_with_a_verifying_checksum() {
    if !may("the IPv6 UDP test", namespaces_and(&["tcpdump"])) {
        return;
    }
    let p = pair6();
    let file = temp("udp6");
    let dump = tcpdump(&p, &p.b.ns, "vb", &file, "1", "ip6 and udp port 10000");
    let o = send_in(
        &p,
        &p.a.ns,
        &[
            "udp",
            "-i",
            "va",
            "--to",
            "ff02::1",
            "--port",
            "10000",
            "--payload",
            "hello all nodes",
        ],
    );
    wait_or_kill(dump);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("→ [ff02::1]:10000 with 15 bytes of data (multicast to all nodes"),
        "{out}"
    );
    let f = frames(&file);
    let _ = std::fs::remove_file(&file);
    assert_eq!(f.len(), 1, "{out}");
    assert_eq!(f[0].get(..6), Some(&[0x33, 0x33, 0, 0, 0, 1][..]));
    let d = wirelens::dissect::dissect(
        1,
        &wirelens::capture::Frame {
            ts: Timestamp::default(),
            caplen: f[0].len() as u32,
            len: f[0].len() as u32,
            link: LinkType::ETHERNET,
            interface: None,
            bytes: &f[0],
        },
    );
    let ip = d.ipv6.as_ref().unwrap_or_else(|| panic!("no IPv6"));
    assert_eq!(ip.hop_limit, 1);
    assert_eq!(ip.dst.to_string(), "ff02::1");
    assert_eq!(ip.src.to_string(), "fe80::77:ff:fe00:1");
    let u = d.udp.as_ref().unwrap_or_else(|| panic!("no UDP"));
    assert_eq!((u.dst_port, u.checksum_ok), (10000, Some(true)));
    assert_eq!(f[0].get(62..), Some(&b"hello all nodes"[..]));
}
