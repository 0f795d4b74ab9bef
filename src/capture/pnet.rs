//! Live capture with pnet's datalink channel, on a Linux `AF_PACKET` socket.
//!
//! wirelens creates the socket itself and hands it to pnet (`Config::socket_fd`), for three
//! reasons:
//!
//! * it is created with protocol 0, which receives nothing until pnet binds it to the
//!   interface with `ETH_P_ALL`, so no packet of another interface slips in between;
//! * with the descriptor at hand, the kernel's receive time of each packet can be read with
//!   the `SIOCGSTAMPNS` ioctl (pnet itself gives only the bytes), and the kernel's counts
//!   with `getsockopt(PACKET_STATISTICS)`;
//! * a failure to create it is told apart as a missing CAP_NET_RAW.
//!
//! The BPF filter is compiled by libpcap (the same compiler the pcap backend uses) and
//! applied here in user space, to the whole packet before the snapshot length cuts it, so
//! both backends select the same packets.

use std::fmt;
use std::io;
use std::os::raw::c_int;

use ::pcap::BpfProgram;
use ::pnet::datalink::{self, Channel, DataLinkReceiver};

use super::interfaces::{self, ARPHRD_ETHER, ARPHRD_LOOPBACK, ARPHRD_NONE};
use super::live::{
    Backend, Control, LiveConfig, LiveError, LiveStats, MAX_SNAPLEN, READ_TIMEOUT, frame_of, now,
    socket_error, socket_failure,
};
use super::{LinkType, Next, Source, Timestamp};

/// `SIOCGSTAMPNS` (the `_OLD` value, which is the native one on 64-bit Linux): the receive
/// time of the last packet read from a socket, as a `timespec`.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
const SIOCGSTAMPNS: libc::Ioctl = 0x8907;

/// A live capture through pnet.
pub struct PnetSource {
    name: String,
    rx: Box<dyn DataLinkReceiver>,
    /// The socket pnet reads from; owned by `rx`, which closes it when dropped.
    fd: c_int,
    /// Ethernet, or raw IP on a tun device (the socket gives what the device carries).
    link: LinkType,
    filter: Option<BpfProgram>,
    snaplen: u32,
    control: Control,
    /// Packets read from the socket, before the filter.
    seen: u64,
    /// Packets that passed the filter.
    passed: u64,
    /// The kernel's counts so far (reading them resets them in the kernel).
    kernel: Option<(u64, u64)>,
}

impl fmt::Debug for PnetSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PnetSource")
            .field("name", &self.name)
            .field("fd", &self.fd)
            .field("filter", &self.filter.is_some())
            .field("snaplen", &self.snaplen)
            .finish_non_exhaustive()
    }
}

/// The link type pnet delivers on `iface`: Ethernet on Ethernet-like devices and `lo`
/// (Linux gives loopback an Ethernet header), raw IP on a device without a link-layer
/// header (ARPHRD_NONE: tun, WireGuard), whose `AF_PACKET` socket hands over the IP
/// packet alone. `any` and other hardware types are refused.
pub fn link_type_for(iface: &str) -> Result<LinkType, LiveError> {
    if iface == interfaces::ANY {
        return Err(LiveError::AnyNeedsPcap);
    }
    match interfaces::hardware_type(iface) {
        None | Some(ARPHRD_ETHER) | Some(ARPHRD_LOOPBACK) => Ok(LinkType::ETHERNET),
        Some(ARPHRD_NONE) => Ok(LinkType::RAW),
        Some(other) => Err(LiveError::LinkType {
            iface: iface.to_string(),
            link: format!("hardware type {other} (neither Ethernet nor raw IP)"),
        }),
    }
}

impl PnetSource {
    /// Opens `config.iface`, whose frames are of link type `link` (from
    /// [`link_type_for`]), with an `AF_PACKET` socket and pnet's channel; `filter` is the
    /// compiled `config.filter`.
    pub fn open(
        config: &LiveConfig,
        link: LinkType,
        filter: Option<BpfProgram>,
    ) -> Result<PnetSource, LiveError> {
        let iface = config.iface.as_str();
        let open_error = |message: String| LiveError::Open {
            iface: iface.to_string(),
            backend: Backend::Pnet,
            message,
        };
        let Some(nic) = datalink::interfaces().into_iter().find(|i| i.name == iface) else {
            // It was there a moment ago (LiveSource::open checks); list what is there now.
            return Err(interfaces::require(iface)
                .err()
                .unwrap_or_else(|| open_error("the interface vanished while opening".into())));
        };
        // SAFETY: socket() takes plain integers and returns a new descriptor or -1.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::EPERM) | Some(libc::EACCES) => LiveError::Permission {
                    iface: iface.to_string(),
                },
                _ => open_error(format!("socket(AF_PACKET) failed: {e}")),
            });
        }
        // On loopback every packet passes twice, once going out and once coming in;
        // libpcap keeps only the incoming copy, and so do we, so both backends show the
        // same packets. (Kernels before 4.20 lack the option; the copies then show.)
        if interfaces::hardware_type(iface) == Some(ARPHRD_LOOPBACK) {
            let on: c_int = 1;
            // SAFETY: the option value is one int, passed by pointer with its size.
            let _ = unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_PACKET,
                    libc::PACKET_IGNORE_OUTGOING,
                    (&on as *const c_int).cast(),
                    std::mem::size_of::<c_int>() as libc::socklen_t,
                )
            };
        }
        set_receive_buffer(fd, config.buffer_bytes());
        // Turns the kernel's receive timestamps on for this socket. The first call has no
        // packet to report yet and fails with ENOENT; that is expected.
        let _ = socket_time(fd);
        let channel = datalink::channel(
            &nic,
            datalink::Config {
                read_buffer_size: MAX_SNAPLEN as usize,
                read_timeout: Some(READ_TIMEOUT),
                promiscuous: config.promisc,
                socket_fd: Some(fd),
                ..datalink::Config::default()
            },
        );
        // pnet closes the socket itself when binding or configuring it fails. It calls
        // every channel "Ethernet"; on a tun the frames are raw IP packets.
        let rx = match channel {
            Ok(Channel::Ethernet(_tx, rx)) => rx,
            Ok(_) => {
                return Err(open_error(
                    "pnet opened a channel that is not Ethernet".into(),
                ));
            }
            Err(e) => {
                return Err(match e.raw_os_error() {
                    Some(libc::EPERM) | Some(libc::EACCES) => LiveError::Permission {
                        iface: iface.to_string(),
                    },
                    _ => open_error(e.to_string()),
                });
            }
        };
        Ok(PnetSource {
            name: config.iface.clone(),
            rx,
            fd,
            link,
            filter,
            snaplen: config.snaplen,
            control: Control::new(config.duration),
            seen: 0,
            passed: 0,
            kernel: None,
        })
    }

    /// Packets captured, the kernel's count of packets that reached the socket and of
    /// those it dropped (from `PACKET_STATISTICS`), and how many passed the filter.
    pub fn stats(&mut self) -> LiveStats {
        if let Some((packets, drops)) = packet_statistics(self.fd) {
            let (p, d) = self.kernel.unwrap_or((0, 0));
            self.kernel = Some((p + packets, d + drops));
        }
        LiveStats {
            captured: self.control.captured,
            received: Some(self.kernel.map_or(self.seen, |(p, _)| p.max(self.seen))),
            passed_filter: Some(self.passed),
            dropped: self.kernel.map(|(_, d)| d),
            if_dropped: None,
        }
    }
}

/// Sets the socket's receive buffer, where packets wait for wirelens, to `bytes` (`-B`).
/// `SO_RCVBUFFORCE` may exceed the system's `net.core.rmem_max` but needs CAP_NET_ADMIN;
/// without it, `SO_RCVBUF` gets as much as `rmem_max` allows. The kernel counts its own
/// bookkeeping of each packet in this buffer, so it holds fewer packets than a libpcap
/// ring of the same size. A failure leaves the system's default, which still captures.
fn set_receive_buffer(fd: c_int, bytes: i32) {
    for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: the option value is one int, passed by pointer with its size.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                option,
                (&bytes as *const c_int).cast(),
                std::mem::size_of::<c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
}

/// The kernel's receive time of the last packet read from `fd`.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn socket_time(fd: c_int) -> Option<Timestamp> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: SIOCGSTAMPNS writes one timespec through the pointer, which points to a
    // live, writable timespec; `fd` is an open socket.
    let rc = unsafe { libc::ioctl(fd, SIOCGSTAMPNS, &mut ts as *mut libc::timespec) };
    if rc != 0 {
        return None;
    }
    let nanos = u32::try_from(ts.tv_nsec)
        .ok()
        .filter(|n| *n < 1_000_000_000)?;
    Some(Timestamp {
        secs: ts.tv_sec,
        // Microseconds, as libpcap gives and as the -w file keeps: a packet then shows the
        // same relative times live and read back from the file.
        nanos: nanos / 1_000 * 1_000,
    })
}

/// Without the 64-bit ioctl, the time the packet was read stands in for its receive time.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn socket_time(_fd: c_int) -> Option<Timestamp> {
    None
}

/// The time now, to microseconds (see [`socket_time`]).
fn now_micros() -> Timestamp {
    let t = now();
    Timestamp {
        secs: t.secs,
        nanos: t.nanos / 1_000 * 1_000,
    }
}

/// Reads (and so resets) the kernel's counts for the socket: packets that reached it,
/// and packets dropped because its buffer was full.
fn packet_statistics(fd: c_int) -> Option<(u64, u64)> {
    let mut st = libc::tpacket_stats {
        tp_packets: 0,
        tp_drops: 0,
    };
    let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `st`, which is that large and
    // writable, and stores the length written in `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_STATISTICS,
            (&mut st as *mut libc::tpacket_stats).cast(),
            &mut len,
        )
    };
    (rc == 0).then(|| (u64::from(st.tp_packets), u64::from(st.tp_drops)))
}

/// Turns a read error into the message for the user. When the interface goes down, the
/// kernel marks the socket with ENETDOWN and poll() reports an error without data.
fn read_error(iface: &str, fd: c_int, e: &io::Error) -> LiveError {
    let os = e.raw_os_error().or_else(|| socket_error(fd));
    let detail = match os {
        Some(n) => format!("{}", io::Error::from_raw_os_error(n)),
        None => e.to_string(),
    };
    socket_failure(iface, os, detail)
}

impl Source for PnetSource {
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
        match self.rx.next() {
            Ok(bytes) => {
                self.seen += 1;
                if let Some(f) = &self.filter
                    && !f.filter(bytes)
                {
                    return Ok(Next::Nothing);
                }
                self.passed += 1;
                let ts = socket_time(self.fd).unwrap_or_else(now_micros);
                if !self.control.accept(ts) {
                    return self.control.finish();
                }
                let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                Ok(Next::Frame(frame_of(
                    ts,
                    bytes,
                    len,
                    self.snaplen,
                    self.link,
                )))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                ) =>
            {
                self.control.idle()
            }
            Err(e) => {
                let error = read_error(&self.name, self.fd, &e);
                self.control.fail(error)
            }
        }
    }
}
