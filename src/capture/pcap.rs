//! Live capture with libpcap (the `pcap` crate): the default backend.
//!
//! The handle is *not* in immediate mode, so libpcap uses the kernel's TPACKET_V3 ring:
//! packets are packed one after another into blocks, and a block is handed to wirelens
//! when it is full or [`READ_TIMEOUT`] after its first packet, whichever is first. Under
//! load that is one wakeup per block instead of one per packet, and a buffer holds as many
//! packets as their bytes allow (tcpdump captures the same way); when traffic is light a
//! packet is shown at most about [`READ_TIMEOUT`] after it arrived. The buffer's size is
//! `-B` ([`LiveConfig::buffer_kib`]).
//!
//! libpcap 1.10 on Linux does not return from a blocking read when its timeout expires
//! (it polls again until a packet comes or `pcap_breakloop` is called), so the handle is
//! put in non-blocking mode and wirelens waits for the socket itself, at most
//! [`READ_TIMEOUT`] at a time: the loop notices a stop request (a signal interrupts the
//! wait) or the `--duration` deadline promptly. Before each wait the source reports
//! [`Next::Nothing`] once, so that the caller can flush its output while the link is
//! quiet. The BPF filter runs in the kernel, which drops the packets it rejects before
//! they are copied to us.

use std::fmt;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use ::pcap::{Active, Capture};

use super::live::{
    Control, LiveConfig, LiveError, LiveStats, READ_TIMEOUT, dlt_of, frame_of, link_type_of,
    pcap_message, socket_error, socket_failure, wait_readable,
};
use super::{InterfaceNames, LinkType, Next, Source, Timestamp};

/// A live capture through libpcap.
pub struct PcapSource {
    name: String,
    cap: Capture<Active>,
    /// The capture socket, to wait on; owned by `cap`.
    fd: RawFd,
    link: LinkType,
    /// This host's interface names, when the frames carry interface indexes (Linux
    /// cooked v2, from `-i any`).
    names: Option<Arc<InterfaceNames>>,
    snaplen: u32,
    control: Control,
    /// The last read found nothing: the next one waits for the socket first.
    found_nothing: bool,
    /// While draining, a wait for the block being filled was made and no packet came
    /// since: the next read that finds nothing ends the drain.
    drain_waited: bool,
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

/// The snapshot length asked of libpcap for `snaplen` wanted. In some modes libpcap on
/// Linux keeps a couple of bytes less than asked (`tcpdump --immediate-mode -s 60` keeps
/// 58), so it is asked for a little more and the frame is cut to exactly `snaplen` here,
/// as the pnet backend does.
fn kernel_snaplen(snaplen: u32) -> u32 {
    snaplen.saturating_add(64).min(super::live::MAX_SNAPLEN)
}

/// How much longer than [`READ_TIMEOUT`] the drain waits for the kernel to hand over the
/// block it is filling: the kernel's block timer is not exact.
const BLOCK_MARGIN: Duration = Duration::from_millis(50);

impl PcapSource {
    /// Opens `config.iface` with the read timeout (which is also the ring's block
    /// timeout), the buffer size, the snapshot length, promiscuous mode as asked, and the
    /// BPF filter attached in the kernel.
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
            .buffer_size(config.buffer_bytes())
            .timeout(timeout_ms)
            .open()
            .map_err(open_error)?;
        if iface == super::interfaces::ANY {
            // libpcap 1.10 opens `any` with cooked v1, which has no interface index; ask
            // for v2 as tcpdump 4.99 does. An older libpcap refuses, and v1 is kept.
            let _ = cap.set_datalink(::pcap::Linktype(dlt_of(LinkType::LINUX_SLL2)));
        }
        // The filter is compiled for the link type just chosen.
        if let Some(expr) = &config.filter {
            cap.filter(expr, true).map_err(|e| LiveError::Filter {
                expr: expr.clone(),
                message: pcap_message(&e),
            })?;
        }
        let cap = cap.setnonblock().map_err(open_error)?;
        let fd = cap.as_raw_fd();
        let link = link_type_of(cap.get_datalink().0);
        let names =
            (link == LinkType::LINUX_SLL2).then(|| Arc::new(InterfaceNames::of_this_host()));
        Ok(PcapSource {
            name: config.iface.clone(),
            cap,
            fd,
            link,
            names,
            snaplen: config.snaplen,
            control: Control::new(config.duration),
            found_nothing: false,
            drain_waited: false,
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

    fn interface_names(&self) -> Option<Arc<InterfaceNames>> {
        self.names.clone()
    }

    fn read_frame(&mut self, _notes: &mut Vec<String>) -> Result<Next<'_>, LiveError> {
        if let Some(done) = self.control.before_read() {
            return done;
        }
        if std::mem::take(&mut self.found_nothing) {
            // While draining, wait long enough for the kernel to hand over the block it
            // is filling (it does so READ_TIMEOUT after the block's first packet): the
            // packets captured just before the stop are in it.
            let wait = if self.control.draining() {
                READ_TIMEOUT.saturating_add(BLOCK_MARGIN)
            } else {
                READ_TIMEOUT
            };
            // In non-blocking mode libpcap does not report an interface that went down;
            // poll() does (POLLERR, with ENETDOWN pending on the socket).
            if wait_readable(self.fd, wait) {
                let errno = socket_error(self.fd);
                let detail = match errno {
                    Some(n) => std::io::Error::from_raw_os_error(n).to_string(),
                    None => "poll() reported an error on the capture socket".to_string(),
                };
                let error = socket_failure(&self.name, errno, detail);
                return self.control.fail(error);
            }
        }
        match self.cap.next_packet() {
            Ok(p) => {
                self.drain_waited = false;
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
            // Non-blocking: nothing is waiting. Say so (the caller may flush), and wait
            // for the socket at the next read. While draining, nothing waiting after a
            // wait for the last block means the drain is over.
            Err(::pcap::Error::TimeoutExpired) => {
                if self.control.draining() {
                    if self.drain_waited {
                        return self.control.idle();
                    }
                    self.drain_waited = true;
                }
                self.found_nothing = true;
                Ok(Next::Nothing)
            }
            Err(e) => {
                let error = read_error(&self.name, &e);
                self.control.fail(error)
            }
        }
    }
}
