//! The raw-socket sender (`wirelens send`): crafts ARP, NDP, UDP and TCP packets with the
//! builders of [`crate::proto`], shows each one as the `table` format shows a captured
//! packet, sends it, and watches the interface for the answer — read back with the same
//! dissector, analysed and printed as `wirelens read` prints packets.
//!
//! * [`iface`]: the interface — exists, up, its MAC and subnets — and the safety checks;
//! * [`craft`]: whole Ethernet frames from the protocol builders (no I/O);
//! * [`plan`]: a [`Request`] turned into the frames to send and what to wait for;
//! * [`watch`]: sorting the frames seen on the interface, and what an answer means;
//! * [`sys`]: the raw sockets (libc), the only `unsafe` code of the sender;
//! * [`session`]: showing, sending, watching, saving and reporting.
//!
//! Safety: the sender refuses an interface that is missing, down or without link, a
//! target off the interface's subnets (unless [`Options::any_target`]), an ARP or NDP
//! packet that claims an address or MAC the interface does not own (ARP or NDP spoofing,
//! unless [`Options::spoof`]; a dry run shows it and says it would be refused), more than
//! [`MAX_RATE`] packets per second, and more than [`MAX_PACKETS`] packets unless
//! [`Options::force`]. `--dry-run` checks all of this, shows the packets and sends
//! nothing; it needs no privilege.

pub mod craft;
pub mod iface;
pub mod plan;
pub mod session;
pub mod sys;
pub mod watch;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use crate::proto::MacAddr;
use crate::proto::tcp::TcpFlags;

pub use session::run;

/// Most packets per second the sender sends, averaged over a run.
pub const MAX_RATE: f64 = 1000.0;
/// Most packets one run sends without [`Options::force`].
pub const MAX_PACKETS: u64 = 10_000;

/// What every `wirelens send` mode shares.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The interface to send on.
    pub iface: String,
    /// How many times to send the packet (each time, every fragment of it).
    pub count: u32,
    /// Time between two sends, in milliseconds.
    pub interval_ms: f64,
    /// How long to wait for answers after the last send, in milliseconds.
    pub timeout_ms: u64,
    /// Show only the results, not the packets.
    pub quiet: bool,
    /// Show the packets, send nothing.
    pub dry_run: bool,
    /// Also write the packets sent and received to this pcap file.
    pub write: Option<PathBuf>,
    /// Allow targets off the interface's subnets.
    pub any_target: bool,
    /// Allow more than [`MAX_PACKETS`] packets.
    pub force: bool,
    /// Allow an ARP or NDP packet that claims an address (or MAC) the interface does not
    /// own: ARP or NDP spoofing, on purpose.
    pub spoof: bool,
    /// Table width, in columns.
    pub width: u16,
}

/// Which ARP packet to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArpMode {
    /// "Who has `target`?", broadcast (or sent to `target_mac`); waits for the reply.
    Request {
        /// The address whose MAC is wanted.
        target: Ipv4Addr,
        /// Send the request to this MAC instead of broadcasting it.
        target_mac: Option<MacAddr>,
    },
    /// An unsolicited reply to `target` at `target_mac`: "sender IP is at sender MAC".
    Reply {
        /// The host the reply is for.
        target: Ipv4Addr,
        /// Its MAC.
        target_mac: MacAddr,
    },
    /// A gratuitous ARP announcing the sender IP (as a request, or as a reply).
    Gratuitous {
        /// Send it as a reply (opcode 2) instead of a request.
        reply: bool,
    },
    /// An RFC 5227 probe: is `target` in use? (sender IP 0.0.0.0)
    Probe {
        /// The address to probe.
        target: Ipv4Addr,
    },
}

/// `wirelens send arp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArpSpec {
    /// Which packet.
    pub mode: ArpMode,
    /// Sender IP (default: the interface's address on the target's subnet).
    pub sender_ip: Option<Ipv4Addr>,
    /// Sender MAC (default: the interface's).
    pub sender_mac: Option<MacAddr>,
}

/// `wirelens send ndp`: a neighbour solicitation (IPv6's ARP request), or with
/// `advertise` an unsolicited neighbour advertisement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NdpSpec {
    /// The address asked about (or, with `advertise`, announced).
    pub target: Ipv6Addr,
    /// The IPv6 source address (default: the interface's link-local address).
    pub source: Option<Ipv6Addr>,
    /// Send an unsolicited advertisement "`target` is at our MAC" to ff02::1 instead of
    /// a solicitation.
    pub advertise: bool,
}

/// Where a UDP datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpDest {
    /// 255.255.255.255, the limited broadcast: every host on the link.
    Broadcast,
    /// One address (which may be a subnet broadcast such as 10.77.0.255, or an IPv6
    /// multicast group such as ff02::1).
    To(IpAddr),
}

/// `wirelens send udp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpSpec {
    /// The destination.
    pub dest: UdpDest,
    /// Destination port.
    pub port: u16,
    /// Source port (default: a random one from 49152–65535).
    pub src_port: Option<u16>,
    /// The data.
    pub payload: Vec<u8>,
    /// Time to live (IPv4) or hop limit (IPv6); `None` for the default: 64, or 1 for an
    /// IPv6 multicast group of link scope such as ff02::1, which never leaves the link.
    pub ttl: Option<u8>,
    /// Cut a datagram bigger than the MTU into fragments instead of refusing it.
    pub fragment: bool,
}

/// `wirelens send tcp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSpec {
    /// The destination.
    pub to: Ipv4Addr,
    /// Destination port.
    pub port: u16,
    /// Source port (default: a random one from 49152–65535).
    pub src_port: Option<u16>,
    /// Flags to set.
    pub flags: TcpFlags,
}

/// Which packet to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// An ARP packet.
    Arp(ArpSpec),
    /// An NDP neighbour solicitation or advertisement.
    Ndp(NdpSpec),
    /// A UDP datagram.
    Udp(UdpSpec),
    /// A TCP segment.
    Tcp(TcpSpec),
}

/// One `wirelens send` run.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// What every mode shares.
    pub options: Options,
    /// The packet.
    pub packet: Packet,
}

/// How a run ended, when it ran to the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `--dry-run`: shown, not sent.
    DryRun,
    /// Sent, and whatever was awaited came (or nothing was awaited).
    Done,
    /// Sent, but the awaited answer did not come in time (an ARP request, a neighbour
    /// solicitation or a TCP segment), or a probed address turned out to be in use.
    NoAnswer,
}

impl Outcome {
    /// The process exit code: 1 for [`Outcome::NoAnswer`], else 0.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::NoAnswer => 1,
            Outcome::DryRun | Outcome::Done => 0,
        }
    }
}

/// Why the sender refused to send or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The interface does not exist in this network namespace.
    #[error("There is no interface named {iface} here; this network namespace has: {known}.")]
    NoInterface {
        /// The name asked for.
        iface: String,
        /// The interfaces there are.
        known: String,
    },
    /// The interface is administratively down.
    #[error(
        "{iface} is down, so nothing sent on it would leave: bring it up first (ip link set {iface} up)."
    )]
    Down {
        /// The interface.
        iface: String,
    },
    /// The interface is up but has no carrier.
    #[error(
        "{iface} is up but has no link (no carrier: its cable, or the other end of its veth pair, is down), so nothing sent on it would arrive."
    )]
    NoCarrier {
        /// The interface.
        iface: String,
    },
    /// ARP or NDP on an interface without Ethernet.
    #[error(
        "{iface} is a loopback interface: it has no Ethernet and no MAC address, so there is no {protocol} on it."
    )]
    NotEthernet {
        /// The interface.
        iface: String,
        /// "ARP" or "NDP".
        protocol: iface::Resolution,
    },
    /// No IPv4 address to send from.
    #[error(
        "{iface} has no IPv4 address to send from: add one (ip addr add 10.77.0.1/24 dev {iface}), or give the ARP sender address with --sender-ip."
    )]
    NoAddress {
        /// The interface.
        iface: String,
    },
    /// No IPv6 address to send from.
    #[error(
        "{iface} has no IPv6 link-local address to send from: IPv6 is off on it (echo 0 > /proc/sys/net/ipv6/conf/{iface}/disable_ipv6), or give an address it has with --source."
    )]
    NoIpv6Address {
        /// The interface.
        iface: String,
    },
    /// An IPv6 datagram over the MTU: the sender does not cut IPv6 into fragments.
    #[error(
        "The datagram would be {len} bytes, more than {iface}'s MTU of {mtu}: wirelens does not cut IPv6 datagrams into fragments, so send at most {max_payload} bytes of payload."
    )]
    TooBigV6 {
        /// The interface.
        iface: String,
        /// The datagram's length, in bytes.
        len: usize,
        /// The interface's MTU, in bytes.
        mtu: usize,
        /// The largest payload that fits, in bytes.
        max_payload: usize,
    },
    /// The target is not on the interface's link.
    #[error(
        "{target} is not on a subnet of {iface} ({subnets}): wirelens sends only to hosts on the link it sends on. Add --any-target if you really mean to send there."
    )]
    OffLink {
        /// The interface.
        iface: String,
        /// The target refused.
        target: IpAddr,
        /// The interface's subnets.
        subnets: String,
    },
    /// A packet that claims an address or MAC the interface does not own, without
    /// [`Options::spoof`].
    #[error("{}", iface::spoofing_sentence(iface, claim, *foreign))]
    Spoofing {
        /// The interface.
        iface: String,
        /// What the packet claims.
        claim: iface::Claim,
        /// What in the claim is not the interface's.
        foreign: iface::Foreign,
    },
    /// More than [`MAX_RATE`] packets per second.
    #[error(
        "Sending {per_round} packet(s) every {interval_ms} ms is {rate}, more than the 1000 packets per second wirelens allows: use --interval {min_ms} or more."
    )]
    TooFast {
        /// Packets sent each time (fragments count).
        per_round: usize,
        /// The interval asked for, in milliseconds.
        interval_ms: f64,
        /// The rate that makes, in words: "2000 packets per second".
        rate: String,
        /// The shortest interval allowed, in milliseconds.
        min_ms: f64,
    },
    /// More than [`MAX_PACKETS`] without `--force`.
    #[error(
        "That is {total} packets, more than wirelens sends without --force (10,000): add --force if you really mean to send that many."
    )]
    TooMany {
        /// Packets the run would send.
        total: u64,
    },
    /// A datagram over the MTU without `--fragment`.
    #[error(
        "The datagram would be {len} bytes, more than {iface}'s MTU of {mtu}: add --fragment to cut it into IPv4 fragments, or send at most {max_payload} bytes of payload."
    )]
    TooBig {
        /// The interface.
        iface: String,
        /// The datagram's length, in bytes.
        len: usize,
        /// The interface's MTU, in bytes.
        mtu: usize,
        /// The largest payload that fits, in bytes.
        max_payload: usize,
    },
    /// A payload no IPv4 datagram can carry.
    #[error(
        "A payload of {len} bytes does not fit in one IPv4 datagram, fragmented or not: {max} bytes is the most."
    )]
    PayloadTooLong {
        /// The payload's length, in bytes.
        len: usize,
        /// The most there is room for, in bytes.
        max: usize,
    },
    /// TCP options that do not fit in a header.
    #[error("The TCP options take {len} bytes, more than the 40 a TCP header has room for.")]
    TcpOptions {
        /// Their length, in bytes.
        len: usize,
    },
    /// No CAP_NET_RAW: the sentence of [`crate::privilege::permission_message`].
    #[error("{0}")]
    Permission(String),
    /// A socket call failed.
    #[error("Could not {what} on {iface}: {source}.")]
    Io {
        /// The interface.
        iface: String,
        /// What was being done, naming the address: "send the SYN to 10.77.0.2:8080".
        what: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// The `-w` file could not be written.
    #[error("Could not write the capture file {path}: {source}.")]
    Pcap {
        /// The file.
        path: String,
        /// The error.
        source: io::Error,
    },
    /// Writing to standard output failed.
    #[error("Could not write the output: {0}.")]
    Output(#[source] io::Error),
}

impl SendError {
    /// The process exit code: 3 without the privilege to send, 2 when the sender
    /// refused (a usage error), 1 when sending or writing failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            SendError::Permission(_) => 3,
            SendError::Io { .. } | SendError::Pcap { .. } | SendError::Output(_) => 1,
            _ => 2,
        }
    }
}

impl Options {
    /// Refuses a run that would send more than [`MAX_PACKETS`] packets without `force`,
    /// or more than [`MAX_RATE`] per second; `per_round` packets leave each time.
    pub fn check_volume(&self, per_round: usize) -> Result<(), SendError> {
        let total = u64::from(self.count).saturating_mul(per_round as u64);
        if total > MAX_PACKETS && !self.force {
            return Err(SendError::TooMany { total });
        }
        if self.count > 1 {
            let rate = per_round as f64 * 1000.0 / self.interval_ms;
            // NaN (an interval of NaN) is refused too: it is not within the limit.
            if rate.partial_cmp(&MAX_RATE).is_none_or(|o| o.is_gt()) {
                return Err(SendError::TooFast {
                    per_round,
                    interval_ms: self.interval_ms,
                    rate: if rate.is_finite() {
                        format!("{rate:.0} packets per second")
                    } else {
                        "as fast as the machine can send".to_string()
                    },
                    min_ms: per_round as f64 * 1000.0 / MAX_RATE,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(count: u32, interval_ms: f64, force: bool) -> Options {
        Options {
            iface: "va".into(),
            count,
            interval_ms,
            timeout_ms: 1000,
            quiet: false,
            dry_run: true,
            write: None,
            any_target: false,
            force,
            spoof: false,
            width: 100,
        }
    }

    #[test]
    fn volume_limits() {
        assert!(
            opts(1, 0.0, false).check_volume(45).is_ok(),
            "one datagram's fragments"
        );
        assert!(opts(1000, 1.0, false).check_volume(1).is_ok());
        let e = opts(2, 0.5, false)
            .check_volume(1)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "Sending 1 packet(s) every 0.5 ms is 2000 packets per second, more than the 1000 packets per second wirelens allows: use --interval 1 or more."
            )
        );
        assert!(opts(2, 2.0, false).check_volume(3).is_err());
        assert!(opts(2, f64::NAN, false).check_volume(1).is_err());
        assert!(opts(10_000, 1.0, false).check_volume(1).is_ok());
        let e = opts(10_001, 1.0, false)
            .check_volume(1)
            .err()
            .map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.starts_with("That is 10001 packets")));
        assert!(opts(10_001, 1.0, true).check_volume(1).is_ok());
        assert!(
            opts(5_001, 2.0, false).check_volume(2).is_err(),
            "fragments count"
        );
        assert!(
            opts(20_000, 0.5, true).check_volume(1).is_err(),
            "--force does not lift the rate"
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(SendError::Permission(String::new()).exit_code(), 3);
        assert_eq!(SendError::TooMany { total: 1 }.exit_code(), 2);
        assert_eq!(Outcome::NoAnswer.exit_code(), 1);
        assert_eq!(Outcome::DryRun.exit_code(), 0);
    }
}
