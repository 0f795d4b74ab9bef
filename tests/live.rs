//! `wirelens live` capturing real kernel traffic. Each test builds two network namespaces
//! joined by a veth pair (va in the first, vb in the second; removed by the guard even when
//! the test fails), runs the real binary inside the second namespace on vb, and makes
//! traffic from threads that entered the namespaces with setns(2): a TCP connection
//! (handshake, data, teardown) through the kernel's own TCP stack, UDP broadcasts and the
//! ARP exchange the first connection causes. Nothing is sent outside the namespaces.
//!
//! The privileged tests need root; they skip with a printed reason otherwise, except under
//! `CI=true`, where they must run. The tests of bad input need no privilege and always run.
//! Timeouts below only keep a broken build from hanging the suite; no test measures time.

mod common;

use std::collections::HashSet;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use wirelens::capture::file::FileSource;
use wirelens::lab::netns::{NetnsPair, in_netns};

const BIN: &str = env!("CARGO_BIN_EXE_wirelens");
/// Generous bound on any wait, so that a broken build fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(30);
/// The TCP port the test server listens on.
const PORT: u16 = 8090;
/// The UDP port of the broadcasts (nothing listens there).
const BROADCAST_PORT: u16 = 7777;

fn pair() -> NetnsPair {
    NetnsPair::create("wll", "va", "vb", None).unwrap_or_else(|e| panic!("{e}"))
}

/// A scratch directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p =
            std::env::temp_dir().join(format!("wirelens-live-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        TempDir(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn join<T>(h: JoinHandle<io::Result<T>>, what: &str) -> T {
    match h.join() {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(_) => panic!("{what}: the thread panicked"),
    }
}

/// One TCP connection from a (client) to b (server) through the kernel: handshake, five
/// bytes each way, and a teardown the client starts.
fn tcp_exchange(p: &NetnsPair) {
    let server_ip = p.b.ip;
    let (ready_tx, ready_rx) = mpsc::channel();
    let server = in_netns(&p.b.ns, move || {
        let listener = TcpListener::bind((server_ip, PORT))?;
        let _ = ready_tx.send(());
        let (mut s, _) = listener.accept()?;
        s.set_read_timeout(Some(PATIENCE))?;
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf)?;
        s.write_all(&buf)?;
        // Wait for the client's FIN, then close our side.
        let mut rest = Vec::new();
        s.read_to_end(&mut rest)?;
        Ok(buf)
    });
    ready_rx
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("the server never listened: {e}"));
    let client = in_netns(&p.a.ns, move || {
        let to = SocketAddr::from((server_ip, PORT));
        let mut c = TcpStream::connect_timeout(&to, PATIENCE)?;
        c.set_read_timeout(Some(PATIENCE))?;
        c.write_all(b"hello")?;
        let mut buf = [0u8; 5];
        c.read_exact(&mut buf)?;
        // Closing sends our FIN; the kernel finishes the teardown.
        Ok(buf)
    });
    assert_eq!(&join(client, "TCP client"), b"hello");
    assert_eq!(&join(server, "TCP server"), b"hello");
}

/// Sends one UDP datagram from a to `to`, e.g. the subnet's broadcast address.
fn udp_from_a(p: &NetnsPair, to: Ipv4Addr, port: u16, payload: &'static [u8]) {
    let from = p.a.ip;
    join(
        in_netns(&p.a.ns, move || {
            let s = UdpSocket::bind((from, 0))?;
            s.set_broadcast(true)?;
            s.send_to(payload, (to, port))?;
            Ok(())
        }),
        "UDP sender",
    );
}

/// The broadcast address of the pair's /24.
fn broadcast(p: &NetnsPair) -> Ipv4Addr {
    let [a, b, c, _] = p.a.ip.octets();
    Ipv4Addr::new(a, b, c, 255)
}

/// Sends a UDP broadcast from a every 50 ms until `stop` is set (at most 600 of them).
fn keep_broadcasting(p: &NetnsPair, stop: Arc<AtomicBool>) -> JoinHandle<io::Result<()>> {
    keep_broadcasting_this(p, stop, b"filler")
}

/// [`keep_broadcasting`] with the given payload.
fn keep_broadcasting_this(
    p: &NetnsPair,
    stop: Arc<AtomicBool>,
    payload: &'static [u8],
) -> JoinHandle<io::Result<()>> {
    let (from, to) = (p.a.ip, broadcast(p));
    in_netns(&p.a.ns, move || {
        let s = UdpSocket::bind((from, 0))?;
        s.set_broadcast(true)?;
        for _ in 0..600 {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            s.send_to(payload, (to, BROADCAST_PORT))?;
            thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    })
}

/// A running `wirelens live` inside namespace b.
struct Live {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
    stderr_thread: Option<JoinHandle<()>>,
}

impl Live {
    /// Starts `wirelens live -i vb ARGS` in b and waits until it is capturing (its
    /// "listening on vb" line on stderr).
    fn start(p: &NetnsPair, args: &[&str]) -> Live {
        let mut argv = vec![BIN, "live", "-i", p.b.iface.as_str()];
        argv.extend_from_slice(args);
        let mut child = p
            .command(&p.b.ns, &argv)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {argv:?}: {e}"));
        let (line_tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if line_tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(String::new()));
        let (listening_tx, listening_rx) = mpsc::channel();
        let stderr_thread = child.stderr.take().map(|err| {
            let stderr = Arc::clone(&stderr);
            thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if line.starts_with("listening on ") {
                        let _ = listening_tx.send(());
                    }
                    if let Ok(mut s) = stderr.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                }
            })
        });
        let mut live = Live {
            child,
            lines,
            seen: Vec::new(),
            stderr,
            stderr_thread,
        };
        if listening_rx.recv_timeout(PATIENCE).is_err() {
            let _ = live.child.kill();
            let (status, _, err) = live.finish();
            panic!("{argv:?} never said it was listening ({status:?}); stderr:\n{err}");
        }
        live
    }

    /// Waits until a line of stdout satisfies `want`; false if the output ends first.
    fn wait_for_line(&mut self, want: impl Fn(&str) -> bool) -> bool {
        if self.seen.iter().any(|l| want(l)) {
            return true;
        }
        let deadline = Instant::now() + PATIENCE;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = want(&line);
                    self.seen.push(line);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap_or(0);
        // SAFETY: kill() with the pid of our own child (`ip netns exec` execs wirelens, so
        // it is wirelens) and a valid signal number.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill: {}", io::Error::last_os_error());
    }

    /// Waits for the process to end (killing it after PATIENCE) and returns its status,
    /// every stdout line and its stderr.
    fn finish(mut self) -> (ExitStatus, Vec<String>, String) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = self.child.kill();
                    let s = self.child.wait();
                    panic!("wirelens live did not end by itself; killed: {s:?}");
                }
            }
        };
        // The stdout thread ends at end of file, which closes the channel.
        while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
            self.seen.push(line);
        }
        if let Some(t) = self.stderr_thread.take() {
            let _ = t.join();
        }
        let err = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        (status, std::mem::take(&mut self.seen), err)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn stages(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| json(l)["tcp"]["stage"].as_str().map(str::to_string))
        .collect()
}

/// Asserts that the stages hold handshake 1/3, 2/3 and 3/3, in that order.
fn assert_handshake(lines: &[String]) {
    let s = stages(lines);
    let pos = |want: &str| s.iter().position(|x| x == want);
    let (one, two, three) = (
        pos("handshake 1/3"),
        pos("handshake 2/3"),
        pos("handshake 3/3"),
    );
    assert!(
        one.is_some() && one < two && two < three,
        "no kernel handshake in order in the stages {s:?}"
    );
}

/// `wirelens read FILE ARGS` stdout, which must succeed.
fn read_back(file: &Path, args: &[&str]) -> Vec<String> {
    let out = Command::new(BIN)
        .arg("read")
        .arg(file)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "wirelens read {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Counts the frames of a capture file with our own reader (which fails on any damage).
fn frames_in(file: &Path) -> usize {
    let mut src = FileSource::open(file).unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0;
    while src
        .next_frame()
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .is_some()
    {
        n += 1;
    }
    n
}

/// When tshark is installed (always under CI=true), checks that it reads `file` as
/// holding exactly the packets of the JSON `lines`: same count, lengths and MACs.
fn tshark_agrees(file: &Path, lines: &[String]) {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.len",
            "-e",
            "eth.src",
            "-e",
            "eth.dst",
        ])
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but tshark cannot run: {e}")
        }
        Err(e) => {
            eprintln!("tshark not checked: {e}");
            return;
        }
    };
    assert!(
        out.status.success(),
        "tshark -r {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let ours: Vec<String> = lines
        .iter()
        .map(|l| {
            let v = json(l);
            format!(
                "{}\t{}\t{}",
                v["len"],
                v["eth"]["src"].as_str().unwrap_or(""),
                v["eth"]["dst"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(theirs, ours, "tshark reads {} differently", file.display());
}

/// The "Done when" of the live-capture issue, for one backend: `-c 12 --format json -w
/// out.pcap` shows a kernel TCP handshake staged 1/3 … 3/3, and out.pcap holds exactly
/// the packets shown.
fn twelve_packets_with_a_handshake(backend: &str) {
    if !common::may_run() {
        return;
    }
    let p = pair();
    let dir = TempDir::new(backend);
    let file = dir.path("out.pcap");
    let file_arg = file.display().to_string();
    let live = Live::start(
        &p,
        &[
            "--backend",
            backend,
            "-c",
            "12",
            "--format",
            "json",
            "-w",
            &file_arg,
        ],
    );
    // A broadcast first (no ARP needed), then a connection, whose first packet makes a
    // ask b's MAC: ARP request, reply, then the handshake, data and teardown.
    udp_from_a(&p, broadcast(&p), BROADCAST_PORT, b"hello, everyone");
    tcp_exchange(&p);
    // More broadcasts until wirelens has its 12 packets and stops.
    let stop = Arc::new(AtomicBool::new(false));
    let filler = keep_broadcasting(&p, Arc::clone(&stop));
    let (status, lines, err) = live.finish();
    stop.store(true, Ordering::SeqCst);
    join(filler, "broadcaster");

    assert!(status.success(), "{status:?}\n{err}");
    assert_eq!(lines.len(), 12, "{lines:#?}\n{err}");
    assert_handshake(&lines);
    let values: Vec<Value> = lines.iter().map(|l| json(l)).collect();
    let first_udp = &values[0]["udp"];
    assert_eq!(first_udp["dst_port"], BROADCAST_PORT, "{}", lines[0]);
    assert_eq!(values[0]["eth"]["dst"], "ff:ff:ff:ff:ff:ff");
    let arp_ops: Vec<&Value> = values.iter().map(|v| &v["arp"]["op"]).collect();
    assert!(
        arp_ops.contains(&&Value::from(1)) && arp_ops.contains(&&Value::from(2)),
        "no ARP request and reply in {lines:#?}"
    );
    let n: Vec<u64> = values.iter().filter_map(|v| v["n"].as_u64()).collect();
    assert_eq!(n, (1..=12).collect::<Vec<u64>>());
    assert!(err.contains("12 packets captured on vb"), "{err}");

    // The file holds exactly the packets shown: read back, they render identically.
    assert_eq!(frames_in(&file), 12);
    assert_eq!(read_back(&file, &["--format", "json"]), lines);
    tshark_agrees(&file, &lines);
}

#[test]
fn pcap_backend_shows_a_kernel_handshake_and_writes_exactly_what_it_shows() {
    twelve_packets_with_a_handshake("pcap");
}

#[test]
fn pnet_backend_shows_a_kernel_handshake_and_writes_exactly_what_it_shows() {
    twelve_packets_with_a_handshake("pnet");
}

/// Both backends capture the same traffic at once with the same filter; SIGINT ends one
/// and SIGTERM the other. They must select the same packets, and each file must hold
/// exactly what its capture showed.
#[test]
fn both_backends_select_the_same_packets_and_sigint_and_sigterm_end_them_cleanly() {
    if !common::may_run() {
        return;
    }
    let p = pair();
    let dir = TempDir::new("signals");
    let filter = "tcp or arp or udp dst port 9999";
    let files = [dir.path("pcap.pcap"), dir.path("pnet.pcapng")];
    let (f0, f1) = (
        files[0].display().to_string(),
        files[1].display().to_string(),
    );
    let common = ["-f", filter, "--format", "json", "-w"];
    let a: Vec<&str> = [&["--backend", "pcap"][..], &common, &[&f0, "--no-promisc"]].concat();
    let b: Vec<&str> = [&["--backend", "pnet"][..], &common, &[&f1, "--pcapng"]].concat();
    let mut pcap = Live::start(&p, &a);
    let mut pnet = Live::start(&p, &b);

    // Rejected by the filter: a broadcast to another port.
    udp_from_a(&p, broadcast(&p), BROADCAST_PORT, b"not for the filter");
    tcp_exchange(&p);
    // Selected, and the last thing sent: once both show it, they have everything.
    udp_from_a(&p, p.b.ip, 9999, b"marker");
    let is_marker = |l: &str| json(l)["udp"]["dst_port"] == 9999;
    assert!(
        pcap.wait_for_line(is_marker),
        "pcap never showed the marker"
    );
    assert!(
        pnet.wait_for_line(is_marker),
        "pnet never showed the marker"
    );
    pcap.signal(libc::SIGINT);
    pnet.signal(libc::SIGTERM);
    let (pcap_status, pcap_lines, pcap_err) = pcap.finish();
    let (pnet_status, pnet_lines, pnet_err) = pnet.finish();
    assert!(pcap_status.success(), "{pcap_status:?}\n{pcap_err}");
    assert!(pnet_status.success(), "{pnet_status:?}\n{pnet_err}");
    assert!(pcap_err.contains("(stopped by SIGINT)"), "{pcap_err}");
    assert!(pnet_err.contains("(stopped by SIGTERM)"), "{pnet_err}");

    // The same packets, up to the marker (the time stamps differ by when each read).
    let without_time = |lines: &[String]| -> Vec<Value> {
        let mut out = Vec::new();
        for l in lines {
            let mut v = json(l);
            if let Some(o) = v.as_object_mut() {
                o.remove("ts");
            }
            let marker = v["udp"]["dst_port"] == 9999;
            out.push(v);
            if marker {
                break;
            }
        }
        out
    };
    let (x, y) = (without_time(&pcap_lines), without_time(&pnet_lines));
    assert_eq!(x, y, "the backends selected different packets");
    assert_handshake(&pcap_lines);
    for v in &x {
        let kept = v.get("tcp").is_some() || v.get("arp").is_some() || v["udp"]["dst_port"] == 9999;
        assert!(kept, "the filter let through {v}");
    }

    // Each file holds exactly what its capture showed, and is valid to the end.
    for (file, lines) in [(&files[0], &pcap_lines), (&files[1], &pnet_lines)] {
        assert_eq!(frames_in(file), lines.len(), "{}", file.display());
        assert_eq!(read_back(file, &["--format", "json"]), *lines);
        tshark_agrees(file, lines);
    }
}

/// Taking the interface down ends the capture with a clear message (exit 3) and a valid
/// file holding what was shown.
#[test]
fn an_interface_going_down_ends_the_capture_with_a_valid_file() {
    if !common::may_run() {
        return;
    }
    let p = pair();
    let dir = TempDir::new("down");
    let files = [dir.path("pcap.pcap"), dir.path("pnet.pcap")];
    let f0 = files[0].display().to_string();
    let f1 = files[1].display().to_string();
    let mut pcap = Live::start(&p, &["--backend", "pcap", "--format", "json", "-w", &f0]);
    let mut pnet = Live::start(&p, &["--backend", "pnet", "--format", "json", "-w", &f1]);
    udp_from_a(&p, broadcast(&p), BROADCAST_PORT, b"before the fall");
    let is_udp = |l: &str| json(l)["udp"]["dst_port"] == BROADCAST_PORT;
    assert!(pcap.wait_for_line(is_udp));
    assert!(pnet.wait_for_line(is_udp));
    p.exec_ok(&p.b.ns, &["ip", "link", "set", "vb", "down"])
        .unwrap_or_else(|e| panic!("{e}"));
    for (live, file) in [(pcap, &files[0]), (pnet, &files[1])] {
        let (status, lines, err) = live.finish();
        assert_eq!(status.code(), Some(3), "{err}");
        assert!(
            err.contains("the capture on vb stopped because the interface went down"),
            "{err}"
        );
        assert!(!lines.is_empty());
        assert_eq!(frames_in(file), lines.len());
        assert_eq!(read_back(file, &["--format", "json"]), lines);
    }
}

/// `--user nobody`: the capture goes on after the switch, and the -w file is created by
/// that user, as with `tcpdump -Z`.
#[test]
fn the_capture_goes_on_as_the_user_it_switched_to() {
    if !common::may_run() {
        return;
    }
    let uid = Command::new("id").args(["-u", "nobody"]).output();
    let uid: Option<u32> = uid
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok());
    let Some(uid) = uid else {
        eprintln!("skipping: there is no user nobody");
        return;
    };
    let p = pair();
    let dir = TempDir::new("user");
    // nobody must be able to create the file in the directory.
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o777))
        .unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path("as-nobody.pcapng");
    let f = file.display().to_string();
    for backend in ["pcap", "pnet"] {
        let args = [
            "--backend",
            backend,
            "--user",
            "nobody",
            "-c",
            "3",
            "-f",
            "udp",
            "--pcapng",
            "-w",
            &f,
        ];
        let live = Live::start(&p, &args);
        let stop = Arc::new(AtomicBool::new(false));
        let filler = keep_broadcasting(&p, Arc::clone(&stop));
        let (status, lines, err) = live.finish();
        stop.store(true, Ordering::SeqCst);
        join(filler, "broadcaster");
        assert!(status.success(), "{backend}: {status:?}\n{err}");
        let owner = fs::metadata(&file).map(|m| m.uid()).ok();
        assert_eq!(owner, Some(uid), "{backend}: the file is not nobody's");
        assert_eq!(lines.len(), 3, "{backend}: {lines:#?}");
        assert!(
            lines
                .iter()
                .all(|l| l.contains(&format!(":{BROADCAST_PORT}"))),
            "{backend}: {lines:#?}"
        );
        assert_eq!(frames_in(&file), 3);
        assert_eq!(read_back(&file, &[]), lines);
        let _ = fs::remove_file(&file);
    }
}

/// `--duration` ends the capture by itself, cleanly, whatever it caught.
#[test]
fn duration_ends_the_capture_with_a_valid_file() {
    if !common::may_run() {
        return;
    }
    let p = pair();
    let dir = TempDir::new("duration");
    for backend in ["pcap", "pnet"] {
        let file = dir.path(&format!("{backend}.pcap"));
        let f = file.display().to_string();
        let live = Live::start(&p, &["--backend", backend, "--duration", "0.5", "-w", &f]);
        let (status, lines, err) = live.finish();
        assert!(status.success(), "{backend}: {status:?}\n{err}");
        assert!(err.contains("captured on vb"), "{err}");
        assert_eq!(frames_in(&file), lines.len());
        assert_eq!(read_back(&file, &[]), lines);
    }
}

/// `--snaplen 60` keeps exactly 60 bytes of each packet with both backends, on screen
/// and in the file, and the length on the wire stays the real one.
#[test]
fn snaplen_keeps_exactly_that_many_bytes_with_both_backends() {
    if !common::may_run() {
        return;
    }
    let p = pair();
    let dir = TempDir::new("snaplen");
    for backend in ["pcap", "pnet"] {
        let file = dir.path(&format!("{backend}.pcap"));
        let f = file.display().to_string();
        let args = [
            "--backend",
            backend,
            "--snaplen",
            "60",
            "-c",
            "2",
            "-f",
            "udp",
            "--format",
            "json",
            "-w",
            &f,
        ];
        let live = Live::start(&p, &args);
        let stop = Arc::new(AtomicBool::new(false));
        let filler = keep_broadcasting_this(&p, Arc::clone(&stop), &[b'x'; 200]);
        let (status, lines, err) = live.finish();
        stop.store(true, Ordering::SeqCst);
        join(filler, "broadcaster");
        assert!(status.success(), "{backend}: {status:?}\n{err}");
        assert_eq!(lines.len(), 2, "{backend}: {lines:#?}");
        for l in &lines {
            let v = json(l);
            // 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + 200 bytes of data on the wire.
            assert_eq!(
                (v["caplen"].as_u64(), v["len"].as_u64()),
                (Some(60), Some(242)),
                "{backend}: {l}"
            );
        }
        assert_eq!(read_back(&file, &["--format", "json"]), lines);
    }
}

/// A reader that goes away (`| head -1`) ends the capture quietly with exit code 0.
#[test]
fn a_closed_output_pipe_ends_the_capture_quietly() {
    if !common::may_run() {
        return;
    }
    let p = pair();
    let mut live = Live::start(&p, &["--backend", "pnet"]);
    let stop = Arc::new(AtomicBool::new(false));
    let filler = keep_broadcasting(&p, Arc::clone(&stop));
    assert!(live.wait_for_line(|l| l.contains("UDP")));
    // Close our end of the pipe: drop the receiver, so the reading thread stops and the
    // pipe's read end closes at its next line.
    let (_, dead) = mpsc::channel();
    live.lines = dead;
    let (status, _, err) = live.finish();
    stop.store(true, Ordering::SeqCst);
    join(filler, "broadcaster");
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("could not write"), "{err}");
}

/// `wirelens interfaces` inside namespace b shows vb with its address, MAC and state.
#[test]
fn interfaces_lists_the_veth_with_its_address_and_mac() {
    if !common::may_run() {
        return;
    }
    let p = pair();
    let out = p
        .exec_ok(&p.b.ns, &[BIN, "interfaces", "--width", "120"])
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let vb = text
        .lines()
        .find(|l| l.contains(" vb "))
        .unwrap_or_default();
    for want in ["vb", "up", "Ethernet", "02:77:00:00:00:02", "10.77.0.2/24"] {
        assert!(vb.contains(want), "{want} missing in\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains(" lo ") && l.contains("loopback")),
        "{text}"
    );
    let names: HashSet<&str> = text
        .lines()
        .filter_map(|l| l.split('┆').nth(1).map(str::trim))
        .filter(|name| !name.is_empty())
        .collect();
    // libpcap's `any` is listed last.
    assert_eq!(names, HashSet::from(["name", "lo", "vb", "any"]), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains(" any ") && l.contains("Linux cooked")),
        "{text}"
    );
}

/// The errors of bad input need no privilege and run everywhere.
#[test]
fn an_unknown_interface_lists_the_ones_that_exist() {
    for backend in ["pcap", "pnet"] {
        let out = Command::new(BIN)
            .args(["live", "-i", "no-such-if9", "--backend", backend])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains("there is no interface named \"no-such-if9\" here. The interfaces are: ")
                && err.contains("lo"),
            "{err}"
        );
    }
}

#[test]
fn a_bpf_syntax_error_quotes_libpcap_and_the_expression() {
    for backend in ["pcap", "pnet"] {
        let out = Command::new(BIN)
            .args(["live", "-i", "lo", "--backend", backend, "-f", "tcp port"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("the filter \"tcp port\" is not a valid BPF expression"),
            "{err}"
        );
        assert!(
            err.contains("libpcap says") && err.contains("syntax error"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}

/// Without CAP_NET_RAW the error names the interface and both fixes (exit 3). As root,
/// `setpriv` removes the capability from the bounding set first; no packet is sent.
#[test]
fn without_cap_net_raw_the_message_names_the_interface_and_both_fixes() {
    let root = wirelens::privilege::is_root();
    for backend in ["pcap", "pnet"] {
        let args = ["live", "-i", "lo", "--backend", backend, "-c", "1"];
        let out = if root {
            let mut c = Command::new("setpriv");
            c.args(["--bounding-set", "-net_raw", "--inh-caps", "-net_raw", BIN]);
            c.args(args);
            match c.output() {
                Ok(o) => o,
                Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                    panic!("CI=true but setpriv cannot run: {e}")
                }
                Err(e) => {
                    eprintln!("skipping: setpriv (util-linux) cannot run: {e}");
                    return;
                }
            }
        } else {
            Command::new(BIN)
                .args(args)
                .output()
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{backend}: {err}");
        assert!(
            err.contains("Capturing on lo needs the CAP_NET_RAW capability"),
            "{err}"
        );
        assert!(
            err.contains("sudo") && err.contains("setcap cap_net_raw"),
            "{err}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["live"][..],
        &["live", "-i", "lo", "-c", "0"],
        &["live", "-i", "lo", "--duration", "-1"],
        &["live", "-i", "lo", "--snaplen", "0"],
        &["live", "-i", "lo", "--pcapng"],
        &["live", "-i", "lo", "--backend", "dpdk"],
    ] {
        let out = Command::new(BIN)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
