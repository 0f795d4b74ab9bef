//! Live capture with libpcap (the `pcap` crate): the default backend.
//!
//! The handle is opened in *immediate mode*, so each packet is delivered as soon as the
//! kernel has it instead of when a buffer fills. libpcap 1.10 on Linux does not return
//! from a blocking read when its timeout expires (it polls again until a packet comes or
//! `pcap_breakloop` is called), so the handle is put in non-blocking mode and wirelens
//! waits for the socket itself, at most [`READ_TIMEOUT`] at a time: the loop notices a
//! stop request (a signal interrupts the wait) or the `--duration` deadline promptly. The
//! BPF filter runs in the kernel, which drops the packets it rejects before they are
//! copied to us.

use std::fmt;
use std::os::fd::{AsRawFd, RawFd};

use ::pcap::{Active, Capture};

use super::live::{
    Control, LiveConfig, LiveError, LiveStats, READ_TIMEOUT, frame_of, pcap_message, socket_error,
    socket_failure, wait_readable,
};
use super::{LinkType, Next, Source, Timestamp};

/// A live capture through libpcap.
pub struct PcapSource {
    name: String,
    cap: Capture<Active>,
    /// The capture socket, to wait on; owned by `cap`.
    fd: RawFd,
    link: LinkType,
    snaplen: u32,
    control: Control,
}

impl fmt::Debug for PcapSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcapSource")
            .field("name", &self.name)
            .field("link", &self.link)
            .field("snaplen", &self.snaplen)
            .finish_non_exhaustive()
    }
}

/// The snapshot length asked of libpcap for `snaplen` wanted. In immediate mode (the
/// TPACKET_V2 ring) libpcap on Linux keeps a couple of bytes less than asked (`tcpdump
/// --immediate-mode -s 60` keeps 58), so it is asked for a little more and the frame is
/// cut to exactly `snaplen` here, as the pnet backend does.
fn kernel_snaplen(snaplen: u32) -> u32 {
    snaplen.saturating_add(64).min(super::live::MAX_SNAPLEN)
}

/// DLT_RAW on Linux: the one common DLT_ number that differs from the LINKTYPE_ number
/// written in files (LINKTYPE_RAW is 101).
const DLT_RAW: i32 = 12;

/// The LINKTYPE_ for a DLT_ number.
fn link_type_of(dlt: i32) -> LinkType {
    match dlt {
        DLT_RAW => LinkType::RAW,
        n => LinkType(u32::try_from(n).unwrap_or(u32::MAX)),
    }
}

impl PcapSource {
    /// Opens `config.iface` in immediate mode with the read timeout, the snapshot length,
    /// promiscuous mode as asked, and the BPF filter attached in the kernel.
    pub fn open(config: &LiveConfig) -> Result<PcapSource, LiveError> {
        let iface = config.iface.as_str();
        let open_error = |e: ::pcap::Error| {
            let message = pcap_message(&e);
            let lower = message.to_ascii_lowercase();
            if lower.contains("permission") || lower.contains("not permitted") {
                LiveError::Permission {
                    iface: iface.to_string(),
                }
            } else {
                LiveError::Open {
                    iface: iface.to_string(),
                    backend: super::live::Backend::Pcap,
                    message,
                }
            }
        };
        let timeout_ms = i32::try_from(READ_TIMEOUT.as_millis()).unwrap_or(i32::MAX);
        let mut cap = Capture::from_device(iface)
            .map_err(open_error)?
            .promisc(config.promisc)
            .snaplen(i32::try_from(kernel_snaplen(config.snaplen)).unwrap_or(i32::MAX))
            .immediate_mode(true)
            .timeout(timeout_ms)
            .open()
            .map_err(open_error)?;
        if let Some(expr) = &config.filter {
            cap.filter(expr, true).map_err(|e| LiveError::Filter {
                expr: expr.clone(),
                message: pcap_message(&e),
            })?;
        }
        let cap = cap.setnonblock().map_err(open_error)?;
        let fd = cap.as_raw_fd();
        let link = link_type_of(cap.get_datalink().0);
        Ok(PcapSource {
            name: config.iface.clone(),
            cap,
            fd,
            link,
            snaplen: config.snaplen,
            control: Control::new(config.duration),
        })
    }

    /// Packets captured so far, and libpcap's counts: received by the filter, dropped by
    /// the kernel for lack of buffer space, dropped by the interface.
    pub fn stats(&mut self) -> LiveStats {
        let mut s = LiveStats {
            captured: self.control.captured,
            ..LiveStats::default()
        };
        if let Ok(st) = self.cap.stats() {
            s.passed_filter = Some(u64::from(st.received));
            s.dropped = Some(u64::from(st.dropped));
            s.if_dropped = Some(u64::from(st.if_dropped));
        }
        s
    }
}

/// Turns a read error into the message for the user: the interface going away is told
/// apart from other failures by libpcap's words or by the interface's state now.
fn read_error(iface: &str, e: &::pcap::Error) -> LiveError {
    let message = pcap_message(e);
    let lower = message.to_ascii_lowercase();
    let errno = (lower.contains("went down")
        || lower.contains("disappeared")
        || lower.contains("network is down"))
    .then_some(libc::ENETDOWN);
    socket_failure(iface, errno, format!("libpcap says {message:?}"))
}

impl Source for PcapSource {
    type Error = LiveError;

    fn name(&self) -> &str {
        &self.name
    }

    fn link_type(&self) -> Option<LinkType> {
        Some(self.link)
    }

    fn read_frame(&mut self, _notes: &mut Vec<String>) -> Result<Next<'_>, LiveError> {
        if let Some(done) = self.control.before_read() {
            return done;
        }
        match self.cap.next_packet() {
            Ok(p) => {
                // libpcap's timeval: microseconds (the default precision) after the second.
                let micros = u32::try_from(p.header.ts.tv_usec).unwrap_or(0).min(999_999);
                let ts = Timestamp {
                    secs: p.header.ts.tv_sec,
                    nanos: micros * 1_000,
                };
                if !self.control.accept(ts) {
                    return self.control.finish();
                }
                Ok(Next::Frame(frame_of(
                    ts,
                    p.data,
                    p.header.len,
                    self.snaplen,
                    self.link,
                )))
            }
            // Non-blocking: nothing is waiting. Wait for the socket (unless draining, when
            // "nothing waiting" means the drain is over) and let the loop come back.
            // In non-blocking mode libpcap does not report an interface that went down;
            // poll() does (POLLERR, with ENETDOWN pending on the socket).
            Err(::pcap::Error::TimeoutExpired) => {
                if !self.control.draining() && wait_readable(self.fd, READ_TIMEOUT) {
                    let errno = socket_error(self.fd);
                    let detail = match errno {
                        Some(n) => std::io::Error::from_raw_os_error(n).to_string(),
                        None => "poll() reported an error on the capture socket".to_string(),
                    };
                    let error = socket_failure(&self.name, errno, detail);
                    return self.control.fail(error);
                }
                self.control.idle()
            }
            Err(e) => {
                let error = read_error(&self.name, &e);
                self.control.fail(error)
            }
        }
    }
}
