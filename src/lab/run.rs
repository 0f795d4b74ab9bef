//! `wirelens lab SCENARIO`: a classroom network in one command. Two namespaces — the
//! client (10.0.0.1 on `lc`) and the server (10.0.0.2 on `ls`), with fd77::1 and
//! fd77::2 as well for the IPv6 lessons — joined by a veth pair;
//! a live capture on the server's end; the scenario's socket programs run inside the
//! namespaces (the binary re-executing itself: `ip netns exec NS wirelens lab-exec …`);
//! then every packet is shown, annotated, with each socket call beside the packets it
//! caused, and a ladder diagram of each TCP connection. Everything is removed at the end —
//! also on Ctrl-C, on error and on panic — unless `--keep` is given.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::netns::{NetnsError, NetnsPair, can_create_namespaces, in_netns};
use super::roles::{Role, parse_event};
use crate::capture::file::FileSource;
use crate::capture::live::{self, Backend, LiveConfig, LiveError, LiveSource};
use crate::capture::writer::{CaptureWriter, OutFormat};
use crate::capture::{LinkType, Next, Source, Timestamp};
use crate::pipeline::{self, MAX_RUNGS, ReadOptions, RunError};
use crate::render::{self, Context, Format, ladder};

/// Prefix of every namespace the lab creates (`lab down` removes them all).
pub const PREFIX: &str = "wirelens-lab-";
/// The client's address.
pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The server's address.
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The client's IPv6 address, in the IPv6 lessons.
pub const CLIENT_IP6: Ipv6Addr = Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1);
/// The server's IPv6 address, in the IPv6 lessons.
pub const SERVER_IP6: Ipv6Addr = Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2);
/// The client's interface.
pub const CLIENT_IF: &str = "lc";
/// The server's interface, where the lab captures.
pub const SERVER_IF: &str = "ls";
/// Port of the echo server.
const ECHO_PORT: u16 = 8090;
/// A port where nothing listens.
const CLOSED_PORT: u16 = 9;
/// How long a scenario step may take before the lab gives up on it.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// The lessons the lab can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// The socket tutorial's TCP echo: handshake, data, teardown.
    Handshake,
    /// First contact (ARP request/reply), then a gratuitous ARP.
    Arp,
    /// UDP to the subnet broadcast and to 255.255.255.255, received with SO_BROADCAST.
    Broadcast,
    /// A 4000-byte UDP datagram across the 1500-byte MTU, reassembled.
    Fragments,
    /// connect() to a closed port: SYN answered by RST.
    Refused,
    /// IPv6 neighbour discovery: a solicitation and its advertisement, first by the
    /// kernel before a datagram, then crafted by `wirelens send ndp`.
    Ndp,
    /// Every scenario in turn.
    All,
}

impl Scenario {
    /// The scenarios this one runs, in order.
    fn steps(self) -> Vec<Scenario> {
        match self {
            Scenario::All => vec![
                Scenario::Arp,
                Scenario::Handshake,
                Scenario::Broadcast,
                Scenario::Fragments,
                Scenario::Refused,
            ],
            s => vec![s],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Scenario::Handshake => "handshake",
            Scenario::Arp => "arp",
            Scenario::Broadcast => "broadcast",
            Scenario::Fragments => "fragments",
            Scenario::Refused => "refused",
            Scenario::Ndp => "ndp",
            Scenario::All => "all",
        }
    }
}

/// What `wirelens lab` was asked to do.
#[derive(Clone, Debug)]
pub struct LabOptions {
    /// The scenario.
    pub scenario: Scenario,
    /// Output form.
    pub format: Format,
    /// Table width.
    pub width: u16,
    /// Leave the network up afterwards.
    pub keep: bool,
    /// Also write the capture here.
    pub write: Option<PathBuf>,
    /// Play the scenario over IPv6 (handshake and refused): IPv6 on, fd77::1 and
    /// fd77::2 on the two ends.
    pub ipv6: bool,
}

impl LabOptions {
    /// True when the network needs IPv6: `--ipv6`, or a lesson about IPv6 itself.
    fn needs_ipv6(&self) -> bool {
        self.ipv6 || self.scenario == Scenario::Ndp
    }
}

/// Why the lab could not run.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Options that do not go together.
    #[error("{0}")]
    Usage(String),
    /// Not allowed to build namespaces.
    #[error(
        "the lab needs to create network namespaces, and {0}. Run it as root (sudo wirelens lab …), or with CAP_NET_ADMIN, CAP_SYS_ADMIN and CAP_NET_RAW."
    )]
    Privilege(String),
    /// iproute2 refused or is missing.
    #[error("could not build the lab network: {0}")]
    Netns(#[from] NetnsError),
    /// The capture failed.
    #[error("{0}")]
    Capture(#[from] LiveError),
    /// Showing the packets failed.
    #[error("{0}")]
    Run(#[from] RunError),
    /// A file or process could not be handled.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The operating system's error.
        source: io::Error,
    },
}

impl LabError {
    /// Exit code: 3 for privilege and network errors, 2 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            LabError::Privilege(_) | LabError::Netns(_) | LabError::Capture(_) => 3,
            LabError::Run(e) => e.exit_code(),
            LabError::Io { .. } | LabError::Usage(_) => 2,
        }
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> LabError {
    let what = what.into();
    move |source| LabError::Io { what, source }
}

/// Socket calls reported by the programs, in arrival order.
type Events = Arc<Mutex<Vec<(Timestamp, String)>>>;

/// Owns what the lab started: the programs still running and the temporary capture.
/// Dropping it kills them and deletes the file (the namespaces have their own guard).
struct Running {
    children: Vec<Child>,
    temp: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// Runs the lab and writes what it shows to `out`.
pub fn run(opts: &LabOptions, out: &mut dyn Write) -> Result<(), LabError> {
    if opts.ipv6 && !matches!(opts.scenario, Scenario::Handshake | Scenario::Refused) {
        return Err(LabError::Usage(format!(
            "--ipv6 plays the handshake and refused scenarios over IPv6; the {} scenario has \
             no IPv6 version (lab ndp is IPv6 already).",
            opts.scenario.name()
        )));
    }
    can_create_namespaces().map_err(LabError::Privilege)?;
    live::catch_stop_signals()?;
    let pid = std::process::id();
    let client_ns = format!("{PREFIX}client-{pid}");
    let server_ns = format!("{PREFIX}server-{pid}");
    let mut pair = NetnsPair::create_named_v6(
        &client_ns,
        &server_ns,
        CLIENT_IF,
        SERVER_IF,
        Some((CLIENT_IP, SERVER_IP)),
        opts.needs_ipv6().then_some((CLIENT_IP6, SERVER_IP6)),
    )?;
    // Real checksums in the capture: veth would otherwise leave them to a card that
    // does not exist.
    for (ns, dev) in [(&client_ns, CLIENT_IF), (&server_ns, SERVER_IF)] {
        let _ = pair.exec_ok(ns, &["ethtool", "-K", dev, "tx", "off", "rx", "off"]);
    }
    let mut running = Running {
        children: Vec::new(),
        temp: std::env::temp_dir().join(format!("wirelens-lab-{pid}.pcap")),
    };
    let (ready_tx, ready_rx) = mpsc::channel();
    let capture = start_capture(&server_ns, running.temp.clone(), ready_tx);
    match ready_rx.recv_timeout(STEP_TIMEOUT) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(LabError::Capture(e)),
        Err(_) => {
            return Err(LabError::Io {
                what: "the capture on the server's interface did not start".into(),
                source: io::Error::from(io::ErrorKind::TimedOut),
            });
        }
    }
    let events: Events = Arc::new(Mutex::new(Vec::new()));
    let exe = std::env::current_exe().map_err(io_err("finding the wirelens binary"))?;
    let lab = Lab {
        exe: &exe,
        client: &client_ns,
        server: &server_ns,
        events: &events,
        ipv6: opts.ipv6,
    };
    for step in opts.scenario.steps() {
        if live::stop_requested() {
            break;
        }
        lab.note(&format!("— scenario: {} —", step.name()));
        if let Err(e) = lab.play(step, &mut running) {
            lab.note(&format!(
                "lab: the {} scenario stopped early: {e}",
                step.name()
            ));
        }
    }
    // Let the last packets arrive, then stop the capture (it drains what it has).
    std::thread::sleep(Duration::from_millis(300));
    let interrupted = live::stop_signal();
    live::request_stop();
    let captured = match capture.join() {
        Ok(Ok(n)) => n,
        Ok(Err(e)) => return Err(LabError::Capture(e)),
        Err(_) => {
            return Err(LabError::Io {
                what: "the capture thread".into(),
                source: io::Error::other("it panicked"),
            });
        }
    };
    let mut events = events.lock().map(|e| e.clone()).unwrap_or_default();
    events.sort_by_key(|(ts, _)| *ts);
    show(opts, &running.temp, &events, out)?;
    if let Some(path) = &opts.write {
        std::fs::copy(&running.temp, path)
            .map_err(io_err(format!("writing {}", path.display())))?;
    }
    if let Some(signal) = interrupted {
        eprintln!(
            "wirelens: the lab was stopped by {signal}; {captured} packets were captured and shown; removing its network."
        );
    }
    if opts.keep {
        pair.keep();
        let (c6, s6) = if opts.needs_ipv6() {
            (
                format!(" and {CLIENT_IP6}/64"),
                format!(" and {SERVER_IP6}/64"),
            )
        } else {
            Default::default()
        };
        eprintln!(
            "The lab network is still up:\n  client: namespace {client_ns}, {CLIENT_IP}/24{c6} on {CLIENT_IF}\n  server: namespace {server_ns}, {SERVER_IP}/24{s6} on {SERVER_IF}\nPlay in it with, for example:\n  sudo ip netns exec {server_ns} wirelens live -i {SERVER_IF}\n  sudo ip netns exec {client_ns} ping {SERVER_IP}\n  sudo ip netns exec {client_ns} bash\nRemove it with: sudo wirelens lab down"
        );
    }
    Ok(())
}

/// Captures on the server's interface (from a thread inside its namespace) into `path`
/// until a stop is requested; says on `ready` when the capture is open.
fn start_capture(
    server_ns: &str,
    path: PathBuf,
    ready: mpsc::Sender<Result<(), LiveError>>,
) -> std::thread::JoinHandle<Result<u64, LiveError>> {
    let ns = server_ns.to_string();
    let handle = in_netns(&ns, move || {
        let opened = LiveSource::open(Backend::Pcap, &LiveConfig::new(SERVER_IF));
        let mut source = match opened {
            Ok(s) => {
                let _ = ready.send(Ok(()));
                s
            }
            Err(e) => {
                // The error goes to whoever waits on `ready`; nothing was captured.
                let _ = ready.send(Err(e));
                return Ok(Ok(0));
            }
        };
        let file = std::fs::File::create(&path)?;
        let mut w = CaptureWriter::new(
            io::BufWriter::new(file),
            OutFormat::Pcap,
            LinkType::ETHERNET,
        )?;
        let mut notes = Vec::new();
        loop {
            match source.read_frame(&mut notes) {
                Ok(Next::Frame(f)) => w.write(f.ts, f.bytes, f.len, None)?,
                Ok(Next::Nothing) => {}
                Ok(Next::End) => break,
                Err(e) => return Ok(Err(e)),
            }
            notes.clear();
        }
        w.flush()?;
        Ok(Ok(w.frames))
    });
    std::thread::spawn(move || match handle.join() {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(LiveError::SaveFile {
            path: "the lab's temporary capture".into(),
            source: e,
        }),
        Err(_) => Err(LiveError::SaveFile {
            path: "the lab's temporary capture".into(),
            source: io::Error::other("the capture thread panicked"),
        }),
    })
}

/// The running network, for playing scenarios.
struct Lab<'a> {
    exe: &'a Path,
    client: &'a str,
    server: &'a str,
    events: &'a Events,
    /// Play handshake and refused over IPv6.
    ipv6: bool,
}

impl Lab<'_> {
    /// Records a line of the lab's own beside the socket calls.
    fn note(&self, text: &str) {
        if let Ok(mut e) = self.events.lock() {
            e.push((live_now(), text.to_string()));
        }
    }

    /// Starts `role` in `ns`; its event lines go to the event list.
    fn start(&self, ns: &str, role: &Role, running: &mut Running) -> Result<usize, LabError> {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(self.exe)
            .arg("lab-exec")
            .args(role.to_args())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io_err("starting a lab program with `ip netns exec`"))?;
        let (count_tx, count_rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            let events = Arc::clone(self.events);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(ev) = parse_event(&line)
                        && let Ok(mut e) = events.lock()
                    {
                        e.push(ev);
                        let _ = count_tx.send(());
                    }
                }
            });
        }
        if let Some(stderr) = child.stderr.take() {
            let events = Arc::clone(self.events);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(mut e) = events.lock() {
                        e.push((live_now(), format!("lab program: {line}")));
                    }
                }
            });
        }
        running.children.push(child);
        // Wait for its first line: a server is then listening.
        let _ = count_rx.recv_timeout(STEP_TIMEOUT);
        Ok(running.children.len() - 1)
    }

    /// Waits for the program started as `index` to end (or kills it after the timeout).
    fn wait(&self, index: usize, running: &mut Running) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        if let Some(c) = running.children.get_mut(index) {
            loop {
                match c.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline || live::stop_requested() => {
                        let _ = c.kill();
                        let _ = c.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    }

    /// Runs `args` in `ns` and waits for it.
    fn exec(&self, ns: &str, args: &[&str]) -> Result<(), LabError> {
        Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|_| ())
            .map_err(io_err(format!("running {}", args.join(" "))))
    }

    fn play(&self, s: Scenario, running: &mut Running) -> Result<(), LabError> {
        // The IPv4 lessons' server, and the server of those that have an IPv6 version.
        let server4 = |port| SocketAddr::V4(SocketAddrV4::new(SERVER_IP, port));
        let server_ip: IpAddr = if self.ipv6 {
            SERVER_IP6.into()
        } else {
            SERVER_IP.into()
        };
        let server = |port| SocketAddr::new(server_ip, port);
        match s {
            Scenario::Handshake => {
                let srv = self.start(
                    self.server,
                    &Role::TcpServer {
                        addr: server(ECHO_PORT),
                    },
                    running,
                )?;
                let cli = self.start(
                    self.client,
                    &Role::TcpClient {
                        to: server(ECHO_PORT),
                        message: "hello".into(),
                    },
                    running,
                )?;
                self.wait(cli, running);
                self.wait(srv, running);
            }
            Scenario::Arp => {
                for ns in [self.client, self.server] {
                    self.exec(ns, &["ip", "neigh", "flush", "all"])?;
                }
                self.note("client: the neighbour cache is empty: the client does not know the server's MAC yet");
                let cli = self.start(
                    self.client,
                    &Role::UdpSend {
                        to: server4(CLOSED_PORT),
                        size: 5,
                        iface: CLIENT_IF.into(),
                    },
                    running,
                )?;
                self.wait(cli, running);
                std::thread::sleep(Duration::from_millis(100));
                self.note(
                    "client: wirelens send arp --gratuitous → a gratuitous ARP announcing 10.0.0.1",
                );
                let exe = self.exe.display().to_string();
                self.exec(
                    self.client,
                    &[
                        &exe,
                        "send",
                        "arp",
                        "-i",
                        CLIENT_IF,
                        "--gratuitous",
                        "--quiet",
                        "--timeout",
                        "100",
                    ],
                )?;
            }
            Scenario::Broadcast => {
                let l = self.start(
                    self.server,
                    &Role::UdpListen {
                        port: 10_000,
                        count: 2,
                    },
                    running,
                )?;
                for to in [Ipv4Addr::new(10, 0, 0, 255), Ipv4Addr::BROADCAST] {
                    let c = self.start(
                        self.client,
                        &Role::UdpSend {
                            to: SocketAddr::V4(SocketAddrV4::new(to, 10_000)),
                            size: 16,
                            iface: CLIENT_IF.into(),
                        },
                        running,
                    )?;
                    self.wait(c, running);
                }
                self.wait(l, running);
            }
            Scenario::Fragments => {
                let l = self.start(
                    self.server,
                    &Role::UdpListen {
                        port: 10_001,
                        count: 1,
                    },
                    running,
                )?;
                let c = self.start(
                    self.client,
                    &Role::UdpSend {
                        to: server4(10_001),
                        size: 4000,
                        iface: CLIENT_IF.into(),
                    },
                    running,
                )?;
                self.wait(c, running);
                self.wait(l, running);
            }
            Scenario::Refused => {
                let c = self.start(
                    self.client,
                    &Role::Refused {
                        to: server(CLOSED_PORT),
                    },
                    running,
                )?;
                self.wait(c, running);
            }
            Scenario::Ndp => {
                for ns in [self.client, self.server] {
                    self.exec(ns, &["ip", "neigh", "flush", "all"])?;
                }
                self.note(&format!(
                    "client: the neighbour cache is empty: the client does not know which MAC {SERVER_IP6} is at yet"
                ));
                let cli = self.start(
                    self.client,
                    &Role::UdpSend {
                        to: SocketAddr::new(SERVER_IP6.into(), CLOSED_PORT),
                        size: 5,
                        iface: CLIENT_IF.into(),
                    },
                    running,
                )?;
                self.wait(cli, running);
                std::thread::sleep(Duration::from_millis(100));
                self.note(&format!(
                    "client: wirelens send ndp --target {SERVER_IP6} → a neighbour solicitation written byte by byte, answered by the server's kernel"
                ));
                let exe = self.exe.display().to_string();
                let target = SERVER_IP6.to_string();
                self.exec(
                    self.client,
                    &[
                        &exe,
                        "send",
                        "ndp",
                        "-i",
                        CLIENT_IF,
                        "--target",
                        &target,
                        "--quiet",
                        "--timeout",
                        "300",
                    ],
                )?;
            }
            Scenario::All => {}
        }
        Ok(())
    }
}

fn live_now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos(),
    }
}

/// Shows the captured packets with the socket calls in time order, then a ladder for
/// each TCP connection (not in JSON, whose lines are one object each).
fn show(
    opts: &LabOptions,
    capture: &Path,
    events: &[(Timestamp, String)],
    out: &mut dyn Write,
) -> Result<(), LabError> {
    let mut source = FileSource::open(capture).map_err(RunError::from)?;
    let read = ReadOptions {
        format: opts.format,
        count: None,
        width: opts.width,
        reassemble: Some(true),
        reassembly_timeout: 30.0,
        ..ReadOptions::default()
    };
    let mut analyzer = read.analyzer();
    analyzer.keep_summaries();
    let mut ctx = Context::unbatched(opts.width);
    let mut next_event = 0usize;
    let mut rungs: BTreeMap<u64, Vec<ladder::Rung>> = BTreeMap::new();
    pipeline::each_packet(&mut source, None, &mut analyzer, |d, bytes| {
        while let Some((ts, text)) = events.get(next_event).filter(|(ts, _)| *ts <= d.ts) {
            write_event(out, opts.format, &mut ctx, *ts, text).map_err(RunError::Output)?;
            next_event += 1;
        }
        if let Some((stream, rung)) = ladder::rung(d) {
            let v = rungs.entry(stream).or_default();
            if v.len() < MAX_RUNGS {
                v.push(rung);
            }
        }
        render::write_packet(out, opts.format, &mut ctx, d, bytes).map_err(RunError::Output)
    })?;
    for (ts, text) in events.get(next_event..).unwrap_or_default() {
        write_event(out, opts.format, &mut ctx, *ts, text).map_err(RunError::Output)?;
    }
    if opts.format == Format::Json {
        return Ok(());
    }
    let flows = analyzer.finish();
    for f in flows.iter().filter(|f| f.proto == "tcp") {
        let Some(r) = rungs.get(&f.stream) else {
            continue;
        };
        writeln!(out, "\nTCP stream {} as a ladder diagram:", f.stream)
            .map_err(RunError::Output)?;
        ladder::write(out, &f.client, &f.server, r, 0).map_err(RunError::Output)?;
    }
    Ok(())
}

/// One socket call: a marked line in summary/table, an object with `call` in JSON.
fn write_event(
    out: &mut dyn Write,
    format: Format,
    ctx: &mut Context,
    ts: Timestamp,
    text: &str,
) -> io::Result<()> {
    match format {
        Format::Json => {
            let v = serde_json::json!({ "call": text, "ts": ts.to_rfc3339_micros() });
            serde_json::to_writer(&mut *out, &v).map_err(io::Error::other)?;
            out.write_all(b"\n")
        }
        _ => {
            let rel = if ctx.first_ts.is_some() {
                format!("{:>10.6}", ctx.relative(ts))
            } else {
                format!("{:>10}", "")
            };
            writeln!(out, "    » {rel}  {text}")
        }
    }
}

/// Removes every namespace a lab left behind (`wirelens lab down`); returns their names.
pub fn down() -> Result<Vec<String>, LabError> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .map_err(|e| LabError::Netns(NetnsError::NoIp(e)))?;
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(PREFIX))
        .map(str::to_string)
        .collect();
    for n in &names {
        let r = Command::new("ip").args(["netns", "del", n]).output();
        if let Ok(o) = r
            && !o.status.success()
        {
            return Err(LabError::Netns(NetnsError::Failed {
                args: format!("netns del {n}"),
                stderr: String::from_utf8_lossy(&o.stderr).trim().to_string(),
            }));
        }
    }
    Ok(names)
}
