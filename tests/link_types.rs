//! Link types other than Ethernet, end to end.
//!
//! * The same kernel traffic captured at once with `tcpdump -i any` (Linux cooked v2),
//!   `tcpdump -y LINUX_SLL -i any` (v1) and `tcpdump -i vb` (Ethernet) has the same flows;
//!   so have the raw-IP tun capture and the BSD NULL file made from it (captures/README.md
//!   says how each was made).
//! * `live -i any` in a namespace shows a kernel TCP handshake with its stages and each
//!   packet's interface and direction, and its `-w` file reads back identically (the
//!   file names the interface by index: its indexes are the capturing host's).
//! * A tun device (raw IP) and `lo` are captured by both backends, and `-i any` with the
//!   pnet backend is refused in one sentence.
//!
//! The live tests need root and skip with a printed reason otherwise, except under
//! `CI=true`. They send only inside the namespaces they create (a veth pair, a tun device
//! made inside one of them, loopback), which the guards remove even when a test fails.

mod common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use wirelens::lab::netns::{NetnsPair, in_netns};

const BIN: &str = env!("CARGO_BIN_EXE_wirelens");
/// Generous bound on any wait, so that a broken build fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(30);

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "wirelens {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn flows(file: &str) -> Vec<Value> {
    let path = capture(file);
    let path = path.display().to_string();
    json_lines(&run(&["flows", "--format", "json", &path]))
}

/// What a conversation is, whatever link it was captured on: everything but the byte
/// counts (which include the link headers) and the times (each capture stamps a packet
/// a few microseconds apart from the others).
const SAME_EVERYWHERE: [&str; 15] = [
    "proto",
    "stream",
    "client",
    "server",
    "service",
    "packets",
    "client_packets",
    "server_packets",
    "client_payload",
    "server_payload",
    "handshake",
    "closed_by",
    "state",
    "conn_state",
    "history",
];

/// Checks that two captures of the same traffic, with link headers of `hdr_a` and
/// `hdr_b` bytes, have the same conversations: the same keys of [`SAME_EVERYWHERE`],
/// and the same bytes once the link headers are taken off.
fn same_flows(a: &str, hdr_a: u64, b: &str, hdr_b: u64) {
    let (fa, fb) = (flows(a), flows(b));
    assert!(!fa.is_empty(), "{a} has no flows");
    assert_eq!(fa.len(), fb.len(), "{a} and {b} have different flow counts");
    for (x, y) in fa.iter().zip(&fb) {
        for key in SAME_EVERYWHERE {
            assert_eq!(
                x[key], y[key],
                "{key} differs between {a} and {b}:\n{x}\n{y}"
            );
        }
        for (bytes, packets) in [
            ("bytes", "packets"),
            ("client_bytes", "client_packets"),
            ("server_bytes", "server_packets"),
        ] {
            let ip = |f: &Value, hdr: u64| {
                let (b, p) = (f[bytes].as_u64(), f[packets].as_u64());
                let (b, p) = b
                    .zip(p)
                    .unwrap_or_else(|| panic!("no {bytes}/{packets}: {f}"));
                b - p * hdr
            };
            assert_eq!(
                ip(x, hdr_a),
                ip(y, hdr_b),
                "{bytes} without link headers differ between {a} and {b}:\n{x}\n{y}"
            );
        }
    }
}

#[test]
fn flows_are_the_same_whichever_link_type_the_traffic_was_captured_on() {
    // Cooked v2 (20-byte header), v1 (16) and Ethernet (14): one recording, three taps.
    same_flows("linux-any-v2.pcap", 20, "linux-any-v1.pcap", 16);
    same_flows("linux-any-v2.pcap", 20, "linux-vb-ethernet.pcap", 14);
    // Raw IP from a tun, and the same packets behind a 4-byte BSD loopback header.
    same_flows("tun-raw.pcap", 0, "bsd-null.pcap", 4);
    let v2 = flows("linux-any-v2.pcap");
    let protos: Vec<&str> = v2.iter().filter_map(|f| f["proto"].as_str()).collect();
    assert_eq!(protos, ["tcp", "tcp", "udp", "udp"], "{v2:#?}");
    assert!(
        v2.iter()
            .filter(|f| f["proto"] == "tcp")
            .all(|f| f["handshake"] == "complete" && f["closed_by"] == "fin"),
        "{v2:#?}"
    );
}

#[test]
fn the_arp_table_is_the_same_from_a_cooked_header_and_from_ethernet() {
    let table = |file: &str| {
        let path = capture(file).display().to_string();
        json_lines(&run(&["flows", "--arp", "--format", "json", &path]))
            .into_iter()
            .map(|v| (v["ip"].clone(), v["mac"].clone(), v["packets"].clone()))
            .collect::<Vec<_>>()
    };
    let cooked = table("linux-any-v2.pcap");
    assert_eq!(cooked.len(), 2, "{cooked:?}");
    assert_eq!(cooked, table("linux-any-v1.pcap"));
    assert_eq!(cooked, table("linux-vb-ethernet.pcap"));
}

#[test]
fn a_file_names_the_interface_by_index_and_each_packet_its_direction() {
    let path = capture("linux-any-v2.pcap").display().to_string();
    let out = run(&["read", &path]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 32, "{text}");
    // Frame 1 is the broadcast ARP request, 2 its reply sent by this host.
    assert!(
        lines[0].contains("  if#2 bcast  from 02:77:0c:00:00:01  ARP"),
        "{text}"
    );
    assert!(
        lines[1].contains("  if#2 out  from 02:77:0c:00:00:02  ARP"),
        "{text}"
    );
    for l in &lines {
        assert!(
            [" if#2 in ", " if#2 out ", " if#2 bcast ", " if#2 mcast "]
                .iter()
                .any(|w| l.contains(w)),
            "no interface and direction in {l}"
        );
    }
    // Version 1 has no interface index: the direction alone.
    let path = capture("linux-any-v1.pcap").display().to_string();
    let out = run(&["read", &path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("if#"), "{text}");
    assert!(text.lines().all(|l| l.contains(" in  ")
        || l.contains(" out  ")
        || l.contains(" bcast  ")
        || l.contains(" mcast  ")));
}

#[test]
fn a_bpf_filter_is_compiled_for_each_files_link_type() {
    for (file, want) in [
        ("linux-any-v2.pcap", 20),
        ("linux-any-v1.pcap", 20),
        ("linux-vb-ethernet.pcap", 20),
        ("tun-raw.pcap", 4),
        // Both of its interfaces: cooked v2 and raw IP.
        ("mixed-interfaces.pcapng", 24),
    ] {
        let path = capture(file).display().to_string();
        let out = run(&["read", &path, "--format", "json", "tcp"]);
        let lines = json_lines(&out);
        assert_eq!(lines.len(), want, "{file}");
        assert!(lines.iter().all(|v| v["tcp"].is_object()), "{file}");
    }
}

// --- live -------------------------------------------------------------------------

fn pair(tag: &str) -> NetnsPair {
    NetnsPair::create(
        tag,
        "va",
        "vb",
        Some((Ipv4Addr::new(10, 81, 0, 1), Ipv4Addr::new(10, 81, 0, 2))),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A scratch directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p =
            std::env::temp_dir().join(format!("wirelens-link-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        TempDir(p)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn join<T>(h: JoinHandle<io::Result<T>>, what: &str) -> T {
    match h.join() {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(_) => panic!("{what}: the thread panicked"),
    }
}

/// `wirelens live ARGS` running in namespace `ns`; `start` returns once it listens.
struct Live {
    child: std::process::Child,
    /// Its "listening on …" line.
    listening: String,
    stderr: mpsc::Receiver<String>,
}

impl Live {
    fn start(p: &NetnsPair, ns: &str, args: &[&str]) -> Live {
        let mut argv = vec![BIN, "live"];
        argv.extend_from_slice(args);
        let mut child = p
            .command(ns, &argv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {argv:?}: {e}"));
        let (tx, stderr) = mpsc::channel();
        if let Some(err) = child.stderr.take() {
            thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut seen = String::new();
        let deadline = Instant::now() + PATIENCE;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match stderr.recv_timeout(left) {
                Ok(line) if line.starts_with("listening on ") => {
                    return Live {
                        child,
                        listening: line,
                        stderr,
                    };
                }
                Ok(line) => seen.push_str(&line),
                Err(_) => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("{argv:?} never said it was listening: {seen}");
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the end (killing it after PATIENCE); its stdout and stderr.
    fn finish(mut self) -> (String, String) {
        let deadline = Instant::now() + PATIENCE;
        while self.running() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        if self.running() {
            let _ = self.child.kill();
        }
        let status = self.child.wait().unwrap_or_else(|e| panic!("{e}"));
        let mut out = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        let mut err = vec![std::mem::take(&mut self.listening)];
        err.extend(self.stderr.try_iter());
        let err = err.join("\n");
        assert!(status.success(), "wirelens live: {status:?}\n{err}");
        (out, err)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One kernel TCP connection from a to b: handshake, five bytes each way, teardown.
fn tcp_exchange(p: &NetnsPair) {
    let server_ip = p.b.ip;
    let (ready_tx, ready_rx) = mpsc::channel();
    let server = in_netns(&p.b.ns, move || {
        let listener = TcpListener::bind((server_ip, 8090))?;
        let _ = ready_tx.send(());
        let (mut s, _) = listener.accept()?;
        s.set_read_timeout(Some(PATIENCE))?;
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf)?;
        s.write_all(&buf)?;
        let mut rest = Vec::new();
        s.read_to_end(&mut rest)?;
        Ok(())
    });
    ready_rx
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("the server never listened: {e}"));
    let client = in_netns(&p.a.ns, move || {
        let mut c = TcpStream::connect_timeout(&SocketAddr::from((server_ip, 8090)), PATIENCE)?;
        c.set_read_timeout(Some(PATIENCE))?;
        c.write_all(b"hello")?;
        let mut buf = [0u8; 5];
        c.read_exact(&mut buf)?;
        Ok(())
    });
    join(client, "TCP client");
    join(server, "TCP server");
}

/// Sends a UDP datagram from namespace `ns` to `to` every 50 ms until `stop` is set.
fn keep_sending(ns: &str, to: SocketAddr, stop: Arc<AtomicBool>) -> JoinHandle<io::Result<()>> {
    in_netns(ns, move || {
        let s = UdpSocket::bind(("0.0.0.0", 0))?;
        s.set_broadcast(true)?;
        let deadline = Instant::now() + PATIENCE;
        while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
            s.send_to(b"filler", to)?;
            thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    })
}

#[test]
fn live_any_shows_a_kernel_handshake_with_each_packets_interface_and_reads_back_identically() {
    if !common::may_run() {
        return;
    }
    let p = pair("wlt");
    let dir = TempDir::new("any");
    let file = dir.path("any.pcap");
    let live = Live::start(&p, &p.b.ns, &["-i", "any", "-c", "14", "-w", &file]);
    tcp_exchange(&p);
    // Broadcasts until wirelens has its 14 packets.
    let stop = Arc::new(AtomicBool::new(false));
    let filler = keep_sending(
        &p.a.ns,
        SocketAddr::from((Ipv4Addr::new(10, 81, 0, 255), 7777)),
        Arc::clone(&stop),
    );
    let (out, err) = live.finish();
    stop.store(true, Ordering::SeqCst);
    join(filler, "broadcaster");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 14, "{out}\n{err}");
    assert!(err.contains("link-type Linux cooked v2 (276)"), "{err}");
    // Each packet says where it was seen and which way it went, with vb's name.
    for l in &lines {
        assert!(
            [" vb in  ", " vb out  ", " vb bcast  "]
                .iter()
                .any(|w| l.contains(w)),
            "no interface and direction in {l}"
        );
    }
    let at = |want: &str| lines.iter().position(|l| l.contains(want));
    let (one, two, three) = (
        at("handshake 1/3"),
        at("handshake 2/3"),
        at("handshake 3/3"),
    );
    assert!(one.is_some() && one < two && two < three, "{out}");
    let syn = one.and_then(|i| lines.get(i)).copied().unwrap_or_default();
    assert!(syn.contains(" vb in  10.81.0.1:"), "{syn}");
    let syn_ack = two.and_then(|i| lines.get(i)).copied().unwrap_or_default();
    assert!(syn_ack.contains(" vb out  10.81.0.2:8090"), "{syn_ack}");

    // The file reads back identically, except that a file names the interface by its
    // index (which belongs to the host that captured it).
    let json = json_lines(&run(&["read", &file, "--format", "json"]));
    assert_eq!(json.len(), 14);
    assert!(
        json.iter()
            .all(|v| v["link_type"] == 276 && v["sll"]["version"] == 2)
    );
    let index = json[0]["sll"]["ifindex"]
        .as_u64()
        .unwrap_or_else(|| panic!("{}", json[0]));
    let back = run(&["read", &file]);
    let back = String::from_utf8_lossy(&back.stdout);
    let expected = out.replace(" vb ", &format!(" if#{index} "));
    assert_eq!(back, expected);
}

#[test]
fn pnet_refuses_any_in_one_sentence_naming_the_pcap_backend() {
    if !common::may_run() {
        return;
    }
    let p = pair("wlt");
    let out = p
        .command(
            &p.b.ns,
            &[BIN, "live", "-i", "any", "--backend", "pnet", "-c", "1"],
        )
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("cannot capture on `any`") && err.contains("--backend pcap"),
        "{err}"
    );
    assert_eq!(
        err.trim_end().matches(". ").count(),
        0,
        "one sentence: {err}"
    );
}

/// Keeps the tun device `name` of the calling thread's namespace attached (carrier up)
/// until the returned descriptor is dropped. A tun without a reader has no carrier, and
/// the kernel sends nothing into it.
fn attach_tun(name: &str) -> io::Result<OwnedFd> {
    let fd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")?;
    // struct ifreq: the name (16 bytes), then the flags (a short); 40 bytes in all.
    let mut ifr = [0u8; 40];
    for (d, s) in ifr.iter_mut().zip(name.bytes().take(15)) {
        *d = s;
    }
    let flags = (libc::IFF_TUN | libc::IFF_NO_PI) as u16;
    ifr[16..18].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: TUNSETIFF reads and writes one struct ifreq through the pointer, which
    // points to 40 writable bytes (sizeof(struct ifreq)); the descriptor is open.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETIFF, ifr.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(OwnedFd::from(fd))
}

/// Captures 3 packets on `iface` in b with `backend`, while b sends UDP to `to`; checks
/// the link type and that the `-w` file reads back identically.
fn capture_udp(p: &NetnsPair, iface: &str, backend: &str, to: SocketAddr, link: u64) {
    let dir = TempDir::new(backend);
    let file = dir.path("out.pcap");
    // Only the datagrams: on lo, the port unreachable answers come back too.
    let args = [
        "-i",
        iface,
        "--backend",
        backend,
        "-c",
        "3",
        "-f",
        "udp",
        "--format",
        "json",
        "-w",
        &file,
    ];
    let live = Live::start(p, &p.b.ns, &args);
    let stop = Arc::new(AtomicBool::new(false));
    let sender = keep_sending(&p.b.ns, to, Arc::clone(&stop));
    let (out, err) = live.finish();
    stop.store(true, Ordering::SeqCst);
    join(sender, "UDP sender");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{iface} {backend}: {out}\n{err}");
    for v in &lines {
        assert_eq!(v["link_type"], link, "{iface} {backend}: {v}");
        assert_eq!(v["udp"]["dst_port"], to.port(), "{iface} {backend}: {v}");
    }
    let back = run(&["read", &file, "--format", "json"]);
    assert_eq!(
        String::from_utf8_lossy(&back.stdout),
        out,
        "{iface} {backend}"
    );
}

#[test]
fn a_tun_device_and_lo_are_captured_by_both_backends() {
    if !common::may_run() {
        return;
    }
    let p = pair("wlt");
    let ns = p.b.ns.clone();
    for args in [
        &["tuntap", "add", "dev", "tun0", "mode", "tun"][..],
        &["addr", "add", "10.82.0.1/24", "dev", "tun0"],
        &["link", "set", "tun0", "up"],
    ] {
        p.exec_ok(&ns, &[&["ip"][..], args].concat())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // The reader thread holds the tun open in b until told to let go.
    let (fd_tx, fd_rx) = mpsc::channel::<()>();
    let (ready_tx, ready_rx) = mpsc::channel();
    let holder = in_netns(&ns, move || {
        let fd = attach_tun("tun0")?;
        let _ = ready_tx.send(());
        let _ = fd_rx.recv_timeout(PATIENCE * 4);
        drop(fd);
        Ok(())
    });
    ready_rx
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("the tun was never attached: {e}"));
    // What b routes into the tun is raw IP; on lo it has an Ethernet header.
    let far = SocketAddr::from((Ipv4Addr::new(10, 82, 0, 2), 9999));
    let lo = SocketAddr::from((Ipv4Addr::LOCALHOST, 9998));
    for backend in ["pcap", "pnet"] {
        capture_udp(&p, "tun0", backend, far, 101);
        capture_udp(&p, "lo", backend, lo, 1);
    }
    let _ = fd_tx.send(());
    join(holder, "tun reader");
}
