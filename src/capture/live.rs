//! What the two live backends share: the capture settings, the errors, the stop signal
//! (SIGINT, SIGTERM, `--duration`) and the drain that follows it, the BPF compiler and the
//! statistics shown at the end.
//!
//! A live source never blocks for long: each read waits at most [`READ_TIMEOUT`], so the
//! loop notices a stop request soon after it is made. Once asked to stop, a source keeps
//! reading — without waiting for new traffic — the packets the kernel had already captured
//! (the *drain*), so that every packet captured before the stop is shown and written.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{Frame, LinkType, Next, Source, Timestamp};
use crate::privilege::PrivError;

/// Longest a single read waits for a packet before the loop checks whether to stop.
pub const READ_TIMEOUT: Duration = Duration::from_millis(100);

/// Longest the drain after a stop request may go on, in wall time: it ends sooner, as soon
/// as a read finds nothing or a packet captured after the stop, and this bound keeps a
/// flood of old packets from delaying the end for ever.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// The largest snapshot length, in bytes (libpcap's maximum, and tcpdump's default).
pub const MAX_SNAPLEN: u32 = super::writer::SNAPLEN;

/// The kernel's capture buffer by default, in KiB: 16 MiB, eight times libpcap's (and
/// tcpdump's) 2 MiB. wirelens spends more time on each packet than a tool that only
/// copies it to a file, so it needs more room to ride out a burst; `bench/live.sh`
/// measures the difference.
pub const DEFAULT_BUFFER_KIB: u32 = 16 * 1024;

/// The largest capture buffer `-B` accepts, in KiB (1 GiB): the buffer is kernel memory
/// that is held for the whole capture.
pub const MAX_BUFFER_KIB: u32 = 1024 * 1024;

/// Which library captures the packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// libpcap through the `pcap` crate: kernel BPF filter, TPACKET_V3 ring.
    #[default]
    Pcap,
    /// pnet's datalink channel on a Linux `AF_PACKET` socket; the BPF filter is compiled by
    /// libpcap and applied in user space.
    Pnet,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Pcap => "pcap",
            Backend::Pnet => "pnet",
        })
    }
}

/// How to capture: which interface, how much of each packet, which packets.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// The interface to capture on, e.g. "eth0".
    pub iface: String,
    /// Bytes kept of each packet, 1..=[`MAX_SNAPLEN`].
    pub snaplen: u32,
    /// The kernel's capture buffer, in KiB, 1..=[`MAX_BUFFER_KIB`]: libpcap's ring, or
    /// the pnet socket's receive buffer.
    pub buffer_kib: u32,
    /// Put the interface in promiscuous mode (see frames addressed to other hosts).
    pub promisc: bool,
    /// A BPF filter in tcpdump syntax, e.g. "tcp port 80".
    pub filter: Option<String>,
    /// Stop after this much time, counted from when the capture opens.
    pub duration: Option<Duration>,
}

impl LiveConfig {
    /// Settings for `iface` with the defaults: whole packets, a [`DEFAULT_BUFFER_KIB`]
    /// buffer, promiscuous, no filter, no time limit.
    pub fn new(iface: &str) -> LiveConfig {
        LiveConfig {
            iface: iface.to_string(),
            snaplen: MAX_SNAPLEN,
            buffer_kib: DEFAULT_BUFFER_KIB,
            promisc: true,
            filter: None,
            duration: None,
        }
    }

    /// The capture buffer in bytes, with `buffer_kib` kept within 1..=[`MAX_BUFFER_KIB`].
    pub fn buffer_bytes(&self) -> i32 {
        let kib = self.buffer_kib.clamp(1, MAX_BUFFER_KIB);
        i32::try_from(u64::from(kib) * 1024).unwrap_or(i32::MAX)
    }
}

/// Why a live capture could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The interface does not exist.
    #[error(
        "there is no interface named {iface:?} here. The interfaces are: {}. \
         (`wirelens interfaces` shows their addresses and state.)",
        known.join(", ")
    )]
    NoSuchInterface {
        /// The name asked for.
        iface: String,
        /// The interfaces that exist.
        known: Vec<String>,
    },
    /// The process may not open a capture socket.
    #[error("{}", crate::privilege::permission_message(iface, "Capturing"))]
    Permission {
        /// The interface.
        iface: String,
    },
    /// Opening the capture failed for another reason.
    #[error("could not start capturing on {iface} with the {backend} backend: {message}.")]
    Open {
        /// The interface.
        iface: String,
        /// The backend that tried.
        backend: Backend,
        /// What the library or the system said.
        message: String,
    },
    /// The BPF expression does not compile.
    #[error(
        "the filter {expr:?} is not a valid BPF expression (tcpdump syntax): libpcap says {message:?}."
    )]
    Filter {
        /// The expression as given.
        expr: String,
        /// libpcap's message.
        message: String,
    },
    /// The pnet backend was asked for `any`.
    #[error(
        "the pnet backend cannot capture on `any`, because its socket is bound to one interface; \
         use --backend pcap, which captures on every interface as tcpdump -i any does."
    )]
    AnyNeedsPcap,
    /// The interface's link type is not one wirelens decodes.
    #[error(
        "{iface} delivers {link} frames, which wirelens cannot decode yet; \
         it decodes Ethernet interfaces such as eth0, veth pairs and lo, tun devices (raw IP) \
         and, with the pcap backend, `any` (Linux cooked)."
    )]
    LinkType {
        /// The interface.
        iface: String,
        /// Its link type, e.g. "raw IP (101)".
        link: String,
    },
    /// The interface went down or was removed during the capture.
    #[error(
        "the capture on {iface} stopped because the interface went down or was removed \
         ({detail}); every packet captured before that was shown and written."
    )]
    WentDown {
        /// The interface.
        iface: String,
        /// What the library or the system said.
        detail: String,
    },
    /// Reading failed for another reason.
    #[error("reading packets on {iface} failed: {detail}; the capture stopped there.")]
    Read {
        /// The interface.
        iface: String,
        /// What the library or the system said.
        detail: String,
    },
    /// Installing the SIGINT/SIGTERM handlers failed.
    #[error("could not install the handler for {signal}: {source}.")]
    Signal {
        /// The signal's name.
        signal: &'static str,
        /// The system's error.
        source: std::io::Error,
    },
    /// `--user` could not be switched to.
    #[error("{0}")]
    Privilege(#[from] PrivError),
    /// The `-w` file could not be created or written.
    #[error("could not write the capture file {path}: {source}.")]
    SaveFile {
        /// The path given to `-w`.
        path: String,
        /// The system's error.
        source: std::io::Error,
    },
}

impl LiveError {
    /// The process exit code: 2 for bad input (a filter that does not compile, a `-w`
    /// file that cannot be created), 3 for privilege and interface errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            LiveError::Filter { .. } | LiveError::SaveFile { .. } => 2,
            LiveError::Signal { .. } => 1,
            LiveError::NoSuchInterface { .. }
            | LiveError::Permission { .. }
            | LiveError::Open { .. }
            | LiveError::AnyNeedsPcap
            | LiveError::LinkType { .. }
            | LiveError::WentDown { .. }
            | LiveError::Read { .. }
            | LiveError::Privilege(_) => 3,
        }
    }
}

/// Compiles a tcpdump-syntax filter for frames of link type `link` with libpcap (which
/// compiles per link type: `tcp` finds the IP header at a different offset behind a
/// cooked header than behind Ethernet). The program's [`::pcap::BpfProgram::filter`]
/// applies it to a packet in user space.
pub fn compile_filter(expr: &str, link: LinkType) -> Result<::pcap::BpfProgram, LiveError> {
    let fail = |e: ::pcap::Error| LiveError::Filter {
        expr: expr.to_string(),
        message: pcap_message(&e),
    };
    let dlt = ::pcap::Linktype(dlt_of(link));
    let dead = ::pcap::Capture::dead(dlt).map_err(fail)?;
    dead.compile(expr, true).map_err(fail)
}

/// The link type a capture on `iface` will most likely have, to check a filter before
/// anything is opened: Linux cooked v2 for `any`, raw IP for a device without a
/// link-layer header (tun), Ethernet otherwise. Each backend compiles the filter again
/// for the link type it really opens.
pub fn expected_link_type(iface: &str) -> LinkType {
    if iface == super::interfaces::ANY {
        return LinkType::LINUX_SLL2;
    }
    match super::interfaces::hardware_type(iface) {
        Some(super::interfaces::ARPHRD_NONE) => LinkType::RAW,
        _ => LinkType::ETHERNET,
    }
}

/// DLT_RAW as libpcap numbers it on Linux.
const DLT_RAW: i32 = 12;

/// The DLT_ number libpcap's compiler takes for a LINKTYPE_: the same number, except
/// LINKTYPE_RAW (101), which is DLT_RAW (12) on Linux.
pub(crate) fn dlt_of(link: LinkType) -> i32 {
    match link {
        LinkType::RAW => DLT_RAW,
        LinkType(n) => i32::try_from(n).unwrap_or(i32::MAX),
    }
}

/// The LINKTYPE_ for a DLT_ number libpcap reports (the inverse of [`dlt_of`]).
pub(crate) fn link_type_of(dlt: i32) -> LinkType {
    match dlt {
        DLT_RAW => LinkType::RAW,
        n => LinkType(u32::try_from(n).unwrap_or(u32::MAX)),
    }
}

/// libpcap's own message for a pcap error (without the crate's "libpcap error: " prefix).
pub(crate) fn pcap_message(e: &::pcap::Error) -> String {
    match e {
        ::pcap::Error::PcapError(m) => m.trim_end_matches('.').to_string(),
        other => other.to_string(),
    }
}

/// Counts from the end of a capture, for the report on stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Packets the source handed to the pipeline (shown and written).
    pub captured: u64,
    /// Packets that reached the capture socket, before any user-space filter; `None` when
    /// the backend cannot tell.
    pub received: Option<u64>,
    /// Packets that passed the filter (all received ones without a filter); `None` when
    /// the backend cannot tell.
    pub passed_filter: Option<u64>,
    /// Packets the kernel dropped because the capture buffer was full; `None` when the
    /// backend cannot tell.
    pub dropped: Option<u64>,
    /// Packets the interface or its driver dropped (libpcap only).
    pub if_dropped: Option<u64>,
}

/// Set by the SIGINT/SIGTERM handler; read by every live source before each read.
static STOP: AtomicBool = AtomicBool::new(false);
/// The number of the signal that asked to stop, 0 for none.
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop_signal(signal: libc::c_int) {
    // Only async-signal-safe work here: two atomic stores.
    STOP_SIGNAL.store(signal, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

/// Makes SIGINT (Ctrl-C) and SIGTERM ask the capture to stop cleanly instead of killing
/// the process. A second signal of the same kind kills it as usual (`SA_RESETHAND`), so a
/// capture that does not stop can still be interrupted.
pub fn catch_stop_signals() -> Result<(), LiveError> {
    for (signal, name) in [(libc::SIGINT, "SIGINT"), (libc::SIGTERM, "SIGTERM")] {
        // SAFETY: `action` is zero-initialised (a valid sigaction: empty mask, no flags)
        // before the fields we need are set; the handler only stores to atomics, which is
        // async-signal-safe; a null old-action pointer is allowed.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(LiveError::Signal {
                signal: name,
                source: std::io::Error::last_os_error(),
            });
        }
    }
    Ok(())
}

/// Asks every live source in this process to stop, as SIGINT would.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// True once a stop was asked for (by a signal or [`request_stop`]).
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// The name of the signal that asked to stop, if one did.
pub fn stop_signal() -> Option<&'static str> {
    match STOP_SIGNAL.load(Ordering::SeqCst) {
        libc::SIGINT => Some("SIGINT"),
        libc::SIGTERM => Some("SIGTERM"),
        _ => None,
    }
}

/// The wall-clock time now, as a capture timestamp.
pub(crate) fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos(),
    }
}

/// When a live source stops, shared by both backends: the stop flag, the `--duration`
/// deadline, and the drain that follows either (or a read error).
#[derive(Debug)]
pub(crate) struct Control {
    deadline: Option<Instant>,
    drain: Option<Drain>,
    /// The source is finished; every later read returns [`Next::End`].
    ended: bool,
    /// The error to report once the drain after it is over.
    pending: Option<LiveError>,
    /// Frames handed out so far.
    pub(crate) captured: u64,
}

#[derive(Debug)]
struct Drain {
    /// Packets captured after this instant are past the stop: the drain ends there.
    since: Timestamp,
    started: Instant,
}

impl Control {
    pub(crate) fn new(duration: Option<Duration>) -> Control {
        Control {
            deadline: duration.and_then(|d| Instant::now().checked_add(d)),
            drain: None,
            ended: false,
            pending: None,
            captured: 0,
        }
    }

    /// Called before each read: `Some(result)` when the source must not read any more.
    pub(crate) fn before_read<'a>(&mut self) -> Option<Result<Next<'a>, LiveError>> {
        if self.drain.is_none()
            && (stop_requested() || self.deadline.is_some_and(|d| Instant::now() >= d))
        {
            self.begin_drain();
        }
        if self
            .drain
            .as_ref()
            .is_some_and(|d| d.started.elapsed() >= DRAIN_LIMIT)
        {
            self.ended = true;
        }
        if self.ended {
            return Some(self.finish());
        }
        None
    }

    /// True once a stop was asked for (or a read failed) and only old packets are read.
    pub(crate) fn draining(&self) -> bool {
        self.drain.is_some()
    }

    fn begin_drain(&mut self) {
        self.drain = Some(Drain {
            since: now(),
            started: Instant::now(),
        });
    }

    /// A packet captured at `ts` came: true to hand it out, false when it is past the stop
    /// (the drain is then over and the packet is neither shown nor written).
    pub(crate) fn accept(&mut self, ts: Timestamp) -> bool {
        if self.drain.as_ref().is_some_and(|d| ts > d.since) {
            self.ended = true;
            return false;
        }
        self.captured += 1;
        true
    }

    /// A read found nothing within its timeout: while draining, the drain is over.
    pub(crate) fn idle<'a>(&mut self) -> Result<Next<'a>, LiveError> {
        if self.drain.is_some() {
            return self.finish();
        }
        Ok(Next::Nothing)
    }

    /// Ends the source: the error a read met, if one did, else the end.
    pub(crate) fn finish<'a>(&mut self) -> Result<Next<'a>, LiveError> {
        self.ended = true;
        match self.pending.take() {
            Some(e) => Err(e),
            None => Ok(Next::End),
        }
    }

    /// A read failed: drain what the kernel still holds, then report `error`. A second
    /// failure while draining ends at once.
    pub(crate) fn fail<'a>(&mut self, error: LiveError) -> Result<Next<'a>, LiveError> {
        if self.drain.is_some() {
            self.ended = true;
            return Err(self.pending.take().unwrap_or(error));
        }
        self.pending = Some(error);
        self.begin_drain();
        Ok(Next::Nothing)
    }
}

/// An open live capture with either backend.
#[derive(Debug)]
pub enum LiveSource {
    /// libpcap.
    Pcap(super::pcap::PcapSource),
    /// pnet.
    Pnet(super::pnet::PnetSource),
}

impl LiveSource {
    /// Opens `config.iface` with `backend`. The interface must exist (otherwise the error
    /// lists those that do) and the process must have CAP_NET_RAW.
    pub fn open(backend: Backend, config: &LiveConfig) -> Result<LiveSource, LiveError> {
        super::interfaces::require(&config.iface)?;
        Ok(match backend {
            // libpcap compiles the filter itself, for the link type it opened.
            Backend::Pcap => LiveSource::Pcap(super::pcap::PcapSource::open(config)?),
            Backend::Pnet => {
                let link = super::pnet::link_type_for(&config.iface)?;
                let compile = |expr: &str| compile_filter(expr, link);
                let filter = config.filter.as_deref().map(compile).transpose()?;
                LiveSource::Pnet(super::pnet::PnetSource::open(config, link, filter)?)
            }
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self {
            LiveSource::Pcap(_) => Backend::Pcap,
            LiveSource::Pnet(_) => Backend::Pnet,
        }
    }

    /// The counts so far: captured, and what the backend knows of the kernel's side.
    pub fn stats(&mut self) -> LiveStats {
        match self {
            LiveSource::Pcap(s) => s.stats(),
            LiveSource::Pnet(s) => s.stats(),
        }
    }
}

impl Source for LiveSource {
    type Error = LiveError;

    fn name(&self) -> &str {
        match self {
            LiveSource::Pcap(s) => s.name(),
            LiveSource::Pnet(s) => s.name(),
        }
    }

    fn link_type(&self) -> Option<LinkType> {
        match self {
            LiveSource::Pcap(s) => s.link_type(),
            LiveSource::Pnet(s) => s.link_type(),
        }
    }

    fn interface_names(&self) -> Option<std::sync::Arc<super::InterfaceNames>> {
        match self {
            LiveSource::Pcap(s) => s.interface_names(),
            LiveSource::Pnet(s) => s.interface_names(),
        }
    }

    fn read_frame(&mut self, notes: &mut Vec<String>) -> Result<Next<'_>, LiveError> {
        match self {
            LiveSource::Pcap(s) => s.read_frame(notes),
            LiveSource::Pnet(s) => s.read_frame(notes),
        }
    }
}

/// Waits until `fd` has something to read (or an error to report), a signal arrives, or
/// `timeout` passes, whichever is first. Returns true when poll() reported an error on the
/// socket (POLLERR, POLLHUP, POLLNVAL), which reading would not clear.
pub(crate) fn wait_readable(fd: libc::c_int, timeout: Duration) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, and the count says one; poll only writes `revents`.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    n > 0 && p.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
}

/// The pending error on the socket (`SO_ERROR`), which reading it clears.
pub(crate) fn socket_error(fd: libc::c_int) -> Option<libc::c_int> {
    let mut err: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the kernel writes one int into `err`, which is an int, and its length into
    // `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut err as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0 && err != 0).then_some(err)
}

/// The error for a capture socket that reports a failure: the interface went down or
/// vanished (ENETDOWN, ENODEV, ENXIO, or it is no longer up), or something else.
pub(crate) fn socket_failure(iface: &str, errno: Option<libc::c_int>, detail: String) -> LiveError {
    let gone = matches!(
        errno,
        Some(libc::ENETDOWN) | Some(libc::ENODEV) | Some(libc::ENXIO)
    ) || !super::interfaces::list()
        .iter()
        .any(|i| i.name == iface && i.up);
    if gone {
        LiveError::WentDown {
            iface: iface.to_string(),
            detail,
        }
    } else {
        LiveError::Read {
            iface: iface.to_string(),
            detail,
        }
    }
}

/// Builds the frame for `bytes` (the packet as captured, before the snapshot length)
/// with `len` bytes on the wire; keeps at most `snaplen` bytes.
pub(crate) fn frame_of<'a>(
    ts: Timestamp,
    bytes: &'a [u8],
    len: u32,
    snaplen: u32,
    link: LinkType,
) -> Frame<'a> {
    let keep = bytes.len().min(snaplen as usize);
    let bytes = bytes.get(..keep).unwrap_or(bytes);
    let caplen = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    Frame {
        ts,
        caplen,
        len: len.max(caplen),
        link,
        interface: None,
        bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_with_a_syntax_error_quotes_the_expression_and_libpcap() {
        let e = compile_filter("tcp port", LinkType::ETHERNET)
            .err()
            .map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(
            e.starts_with("the filter \"tcp port\" is not a valid BPF"),
            "{e}"
        );
        assert!(
            e.contains("libpcap says \"") && e.contains("syntax error"),
            "{e}"
        );
    }

    #[test]
    fn a_compiled_filter_selects_by_protocol() {
        // An Ethernet header carrying ARP (EtherType 0x0806), then 28 zero bytes.
        let mut arp = vec![0xff; 6];
        arp.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
        arp.extend_from_slice(&[0; 28]);
        let ip = {
            let mut v = arp.clone();
            v[12] = 0x08;
            v[13] = 0x00;
            v
        };
        let f = compile_filter("arp", LinkType::ETHERNET).unwrap_or_else(|e| panic!("{e}"));
        assert!(f.filter(&arp));
        assert!(!f.filter(&ip));
        // Any prefix is judged without reading past its end.
        for n in 0..arp.len() {
            let _ = f.filter(&arp[..n]);
        }
    }

    #[test]
    fn a_filter_is_compiled_for_each_link_type() {
        // ICMP over raw IPv4 (a 20-byte header, protocol 1), then behind a cooked v2
        // header (protocol 0x0800 at offset 0).
        let mut raw = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0];
        raw.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        raw.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0]);
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6];
        sll2.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0, 0]);
        sll2.extend_from_slice(&raw);
        for (link, bytes) in [(LinkType::RAW, &raw), (LinkType::LINUX_SLL2, &sll2)] {
            let icmp = compile_filter("icmp", link).unwrap_or_else(|e| panic!("{e}"));
            let tcp = compile_filter("tcp", link).unwrap_or_else(|e| panic!("{e}"));
            assert!(icmp.filter(bytes), "{link}");
            assert!(!tcp.filter(bytes), "{link}");
        }
        assert_eq!(link_type_of(dlt_of(LinkType::RAW)), LinkType::RAW);
        assert_eq!(dlt_of(LinkType::LINUX_SLL2), 276);
    }

    #[test]
    fn the_drain_ends_at_the_first_idle_read_or_later_packet() {
        let mut c = Control::new(None);
        assert!(c.before_read().is_none());
        assert!(matches!(c.idle(), Ok(Next::Nothing)));
        c.begin_drain();
        let old = Timestamp { secs: 1, nanos: 0 };
        assert!(c.accept(old));
        assert!(c.before_read().is_none());
        let later = Timestamp {
            secs: i64::MAX,
            nanos: 0,
        };
        assert!(!c.accept(later));
        assert!(matches!(c.before_read(), Some(Ok(Next::End))));
        assert_eq!(c.captured, 1);
    }

    #[test]
    fn a_read_error_is_reported_after_the_drain() {
        let mut c = Control::new(None);
        let e = LiveError::Read {
            iface: "vb".into(),
            detail: "boom".into(),
        };
        assert!(matches!(c.fail(e), Ok(Next::Nothing)));
        assert!(c.before_read().is_none());
        assert!(matches!(c.idle(), Err(LiveError::Read { .. })));
        assert!(matches!(c.before_read(), Some(Ok(Next::End))));
    }

    #[test]
    fn a_frame_keeps_at_most_snaplen_bytes_and_the_wire_length() {
        let bytes = [7u8; 100];
        let f = frame_of(Timestamp::default(), &bytes, 100, 64, LinkType::ETHERNET);
        assert_eq!((f.caplen, f.len, f.bytes.len()), (64, 100, 64));
        let f = frame_of(Timestamp::default(), &bytes, 0, 1000, LinkType::ETHERNET);
        assert_eq!((f.caplen, f.len), (100, 100));
    }

    #[test]
    fn exit_codes_follow_the_readme() {
        let iface = || "vb".to_string();
        assert_eq!(LiveError::Permission { iface: iface() }.exit_code(), 3);
        assert_eq!(
            LiveError::NoSuchInterface {
                iface: iface(),
                known: vec!["lo".into()]
            }
            .exit_code(),
            3
        );
        assert_eq!(
            LiveError::Filter {
                expr: "x".into(),
                message: "y".into()
            }
            .exit_code(),
            2
        );
    }
}
