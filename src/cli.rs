//! Command-line types. Parsing only validates; `main` turns the result into library calls.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use wirelens::capture::live::Backend;
use wirelens::proto::MacAddr;
use wirelens::proto::tcp::TcpFlags;
use wirelens::render::Format;
use wirelens::render::color::When;
use wirelens::send;

/// wirelens: see every header field of every packet, explained.
#[derive(Debug, Parser)]
#[command(name = "wirelens", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a saved capture (pcap or pcapng) and explain every packet.
    ///
    /// Example: wirelens read captures/tcp-echo.pcap --format table -c 3
    Read(ReadArgs),
    /// List the conversations in a capture (TCP and UDP), or draw one TCP connection as a
    /// ladder diagram.
    ///
    /// Examples: wirelens flows captures/tcp-echo.pcap
    ///           wirelens flows captures/tcp-echo.pcap --ladder 0
    Flows(FlowsArgs),
    /// Convert captures to Parquet for DuckDB, Spark or ClickHouse: for each capture
    /// NAME, OUT/packets/NAME.parquet (one row per packet) and OUT/flows/NAME.parquet
    /// (one row per conversation), several captures at a time.
    ///
    /// Example: wirelens export captures/ --out lake -j 4
    Export(ExportArgs),
    /// Statistics of a capture: protocol hierarchy, top talkers, packet sizes, packets
    /// per second.
    ///
    /// Example: wirelens stats captures/icmp-errors.pcap
    Stats(StatsArgs),
    /// Craft an ARP, NDP, UDP or TCP packet, show every field, send it on an interface
    /// through a raw socket and watch for the answer. Needs CAP_NET_RAW, except with
    /// --dry-run.
    ///
    /// Examples: wirelens send arp -i va --target 10.77.0.2
    ///           wirelens send ndp -i va --target fd77::2
    ///           wirelens send udp -i va --broadcast --port 10000 --payload "hello"
    ///           wirelens send udp -i va --to ff02::1 --port 10000 --payload "hello"
    ///           wirelens send tcp -i va --to 10.77.0.2 --port 8080
    Send(SendArgs),
    /// Capture on a network interface and explain every packet as it arrives (needs
    /// CAP_NET_RAW: run with sudo, or setcap the binary).
    ///
    /// Example: sudo wirelens live -i eth0 -c 10
    ///
    /// Example: sudo wirelens live -i eth0 -f "tcp port 443" --format json | jq .tcp.stage
    ///
    /// Example: sudo wirelens live -i eth0 -w out.pcap --user $USER
    ///
    /// Ctrl-C (or SIGTERM) stops the capture cleanly: packets already captured are still
    /// shown and written. A second Ctrl-C stops at once.
    Live(LiveArgs),
    /// List the network interfaces: name, state, kind, MAC and addresses.
    ///
    /// Example: wirelens interfaces
    Interfaces(InterfacesArgs),
    /// Browse a capture file or a live interface interactively: packet list, layers,
    /// hex dump, ladder, flows and ARP table on one screen (press ? for the keys).
    ///
    /// Examples: wirelens tui captures/tcp-echo.pcap
    ///           sudo wirelens tui -i eth0 -f "tcp port 443" -w out.pcap
    Tui(TuiArgs),
    /// A classroom network in one command: two network namespaces (client 10.0.0.1,
    /// server 10.0.0.2) joined by a veth pair, a scenario played by real socket programs,
    /// every packet shown with the socket calls that caused it, and a ladder diagram.
    /// Needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN + CAP_NET_RAW).
    ///
    /// Examples: sudo wirelens lab handshake
    ///           sudo wirelens lab handshake --ipv6
    ///           sudo wirelens lab ndp
    ///           sudo wirelens lab all --format json
    ///           sudo wirelens lab handshake --keep    (then: sudo wirelens lab down)
    Lab(LabArgs),
    /// Print a shell completion script.
    ///
    /// Example: wirelens completions bash > /etc/bash_completion.d/wirelens
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    ///
    /// Example: wirelens man | man -l -
    Man,
    /// Runs one of the lab's socket programs (the lab starts it inside a namespace).
    #[command(hide = true)]
    LabExec {
        /// The role and its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        role: Vec<String>,
    },
}

/// Arguments of `wirelens lab`.
#[derive(Debug, clap::Args)]
pub struct LabArgs {
    /// The lesson to play, or `down` to remove a network left up by --keep.
    #[arg(value_enum)]
    pub scenario: ScenarioArg,
    /// Output form.
    #[arg(long, value_enum, default_value_t = FormatArg::Summary)]
    pub format: FormatArg,
    /// Leave the network up afterwards and print commands to play in it.
    #[arg(long)]
    pub keep: bool,
    /// Play handshake or refused over IPv6, between fd77::1 and fd77::2.
    #[arg(long)]
    pub ipv6: bool,
    /// Also write the capture to FILE (pcap).
    #[arg(short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// When to colour the output by layer: auto (only when stdout is a terminal, TERM is
    /// not dumb and NO_COLOR is unset or empty), always, or never. JSON is never coloured.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Table width in columns (default: the terminal's width, or 100 when not a terminal).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
}

/// `wirelens lab` scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScenarioArg {
    /// TCP echo: bind/listen/accept/recv/send/close against connect/send/recv/close.
    Handshake,
    /// First contact (ARP request and reply), then a gratuitous ARP.
    Arp,
    /// UDP to 10.0.0.255 and 255.255.255.255, received with SO_BROADCAST.
    Broadcast,
    /// A 4000-byte UDP datagram across the 1500-byte MTU, reassembled.
    Fragments,
    /// connect() to a closed port: SYN answered by RST.
    Refused,
    /// IPv6 neighbour discovery: a solicitation and its advertisement (IPv6's ARP).
    Ndp,
    /// Every IPv4 scenario in turn (arp, handshake, broadcast, fragments, refused).
    All,
    /// Remove the lab's namespaces (after --keep).
    Down,
}

/// Arguments of `wirelens live`.
#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// The interface to capture on (see `wirelens interfaces`).
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: String,
    /// Which capture library to use.
    #[arg(long, value_enum, default_value_t = BackendArg::Pcap)]
    pub backend: BackendArg,
    /// Capture only the packets this BPF expression selects (tcpdump syntax, e.g.
    /// "tcp port 80" or "arp or udp").
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Stop after this many packets.
    #[arg(short = 'c', long = "count", value_name = "COUNT",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop after this many seconds (decimals allowed).
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Also write every captured packet to FILE (pcap; pcapng with --pcapng).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Write the -w file as pcapng, with each TCP segment's stage as a packet comment.
    #[arg(long, requires = "write")]
    pub pcapng: bool,
    /// Keep at most N bytes of each packet.
    #[arg(short = 's', long, value_name = "N", default_value_t = 262_144,
          value_parser = clap::value_parser!(u32).range(1..=262_144))]
    pub snaplen: u32,
    /// The kernel's capture buffer, in KiB (as tcpdump -B): packets wait there while
    /// wirelens explains earlier ones; a burst that overflows it is dropped.
    #[arg(short = 'B', long, value_name = "KIB",
          default_value_t = wirelens::capture::live::DEFAULT_BUFFER_KIB,
          value_parser = clap::value_parser!(u32).range(1..=wirelens::capture::live::MAX_BUFFER_KIB as i64))]
    pub buffer_size: u32,
    /// Do not put the interface in promiscuous mode (see only frames for this host,
    /// broadcasts and multicasts).
    #[arg(long)]
    pub no_promisc: bool,
    /// Output form.
    #[arg(long, value_enum, default_value_t = FormatArg::Summary)]
    pub format: FormatArg,
    /// When to colour the output by layer: auto (only when stdout is a terminal, TERM is
    /// not dumb and NO_COLOR is unset or empty), always, or never. JSON is never coloured.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Table width in columns (default: the terminal's width, or 100 when not a terminal).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
    /// Fragment reassembly.
    #[command(flatten)]
    pub reassembly: ReassemblyArgs,
    /// Once the capture is open, switch to this user (as tcpdump -Z); the -w file is then
    /// created as that user.
    #[arg(long, short = 'Z', value_name = "NAME")]
    pub user: Option<String>,
}

/// Parses `--duration`: a positive number of seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    // Also refuses NaN, which is neither above nor below 0.
    if secs.is_nan() || secs <= 0.0 {
        return Err(format!("the duration must be more than 0 seconds, not {s}"));
    }
    std::time::Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{s} seconds is too long a duration"))
}

/// `wirelens live --backend` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// libpcap, with the filter in the kernel (the default).
    Pcap,
    /// pnet's AF_PACKET channel, with the filter applied in user space.
    Pnet,
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Backend {
        match b {
            BackendArg::Pcap => Backend::Pcap,
            BackendArg::Pnet => Backend::Pnet,
        }
    }
}

/// Arguments of `wirelens tui`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["file", "interface"])))]
pub struct TuiArgs {
    /// The capture file to browse.
    pub file: Option<PathBuf>,
    /// Capture on this interface instead (needs CAP_NET_RAW).
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        conflicts_with = "file"
    )]
    pub interface: Option<String>,
    /// Which capture library to use (live).
    #[arg(long, value_enum, default_value_t = BackendArg::Pcap, requires = "interface")]
    pub backend: BackendArg,
    /// Capture only the packets this BPF expression selects (live; tcpdump syntax).
    #[arg(
        short = 'f',
        long = "filter",
        value_name = "BPF",
        requires = "interface"
    )]
    pub filter: Option<String>,
    /// Keep the last N packets in view (live); older ones are dropped from view and
    /// counted, and still written with -w.
    #[arg(long, value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub ring: u64,
    /// Write every captured packet to FILE (live; pcapng when it ends in .pcapng, with
    /// each TCP segment's stage as a comment).
    #[arg(
        short = 'w',
        long = "write",
        value_name = "FILE",
        requires = "interface"
    )]
    pub write: Option<PathBuf>,
    /// When to colour the screen by layer: auto (unless NO_COLOR is set or TERM is
    /// dumb), always, or never (monochrome, the selection in reverse video).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

/// Arguments of `wirelens interfaces`.
#[derive(Debug, clap::Args)]
pub struct InterfacesArgs {
    /// Table width in columns (default: the terminal's width, or 100 when not a terminal).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
}

/// Arguments of `wirelens stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The capture file, or - for standard input.
    pub file: PathBuf,
    /// How many top talkers to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// When to colour the output by layer: auto (only when stdout is a terminal, TERM is
    /// not dumb and NO_COLOR is unset or empty), always, or never. JSON is never coloured.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Never draw the progress bar (it is drawn on stderr, when stderr is a terminal, for
    /// files of 8 MiB or more).
    #[arg(long)]
    pub no_progress: bool,
}

/// Arguments of `wirelens send`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// Which packet to send.
    #[command(subcommand)]
    pub packet: SendPacket,
}

/// The packets `wirelens send` crafts.
#[derive(Debug, Subcommand)]
pub enum SendPacket {
    /// An ARP request (waits for the reply), reply, gratuitous ARP or probe.
    Arp(SendArpArgs),
    /// An NDP neighbour solicitation (IPv6's ARP request; waits for the advertisement),
    /// or an unsolicited neighbour advertisement.
    Ndp(SendNdpArgs),
    /// A UDP datagram, to one host, broadcast or an IPv6 multicast group; we write the IP
    /// and UDP headers.
    Udp(SendUdpArgs),
    /// A TCP segment (a SYN by default), then what the port answered.
    Tcp(SendTcpArgs),
}

/// What every `wirelens send` packet shares.
#[derive(Debug, clap::Args)]
pub struct SendCommon {
    /// The interface to send on.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub iface: String,
    /// How many times to send the packet.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Milliseconds between two sends (at most 1000 packets per second are sent).
    #[arg(long, value_name = "MS", default_value_t = 1000.0, value_parser = non_negative_ms)]
    pub interval: f64,
    /// Milliseconds to wait for answers after the last send (at most an hour).
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub timeout: u64,
    /// Show only the results, not the packets.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Show the packets and send nothing (needs no privilege).
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the packets sent and received to this pcap file.
    #[arg(short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Allow a target that is not on one of the interface's subnets.
    #[arg(long)]
    pub any_target: bool,
    /// Allow more than 10,000 packets.
    #[arg(long)]
    pub force: bool,
    /// When to colour the output by layer: auto (only when stdout is a terminal, TERM is
    /// not dumb and NO_COLOR is unset or empty), always, or never. JSON is never coloured.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Table width in columns (default: the terminal's width, or 100 when not a terminal).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
}

/// Arguments of `wirelens send arp`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["target", "gratuitous", "probe"])))]
pub struct SendArpArgs {
    /// Ask who has IP (or, with --reply, tell IP where the sender IP is).
    #[arg(long, value_name = "IP")]
    pub target: Option<Ipv4Addr>,
    /// Announce the sender IP (sender IP = target IP), as a request or, with --reply, a reply.
    #[arg(long)]
    pub gratuitous: bool,
    /// Ask whether IP is in use, with sender IP 0.0.0.0 (RFC 5227); exit code 1 if it is.
    #[arg(long, value_name = "IP", conflicts_with_all = ["reply", "sender_ip"])]
    pub probe: Option<Ipv4Addr>,
    /// Send a reply (opcode 2) instead of a request; with --target it needs --target-mac.
    #[arg(long)]
    pub reply: bool,
    /// The target's MAC: where a --reply goes (a request goes there instead of broadcast).
    #[arg(long, value_name = "MAC", conflicts_with_all = ["gratuitous", "probe"])]
    pub target_mac: Option<MacAddr>,
    /// Sender IP (default: the interface's address).
    #[arg(long, value_name = "IP")]
    pub sender_ip: Option<Ipv4Addr>,
    /// Sender MAC, in the ARP packet and the Ethernet header (default: the interface's).
    #[arg(long, value_name = "MAC")]
    pub sender_mac: Option<MacAddr>,
    /// Allow a sender IP or MAC that is not the interface's own: ARP spoofing, which makes
    /// the hosts that hear it send that address's traffic to the sender MAC. Refused
    /// without it (exit code 2); --dry-run shows the packet either way.
    #[arg(long)]
    pub spoof: bool,
    /// The options every packet shares.
    #[command(flatten)]
    pub common: SendCommon,
}

/// Arguments of `wirelens send ndp`.
#[derive(Debug, clap::Args)]
pub struct SendNdpArgs {
    /// Ask who has IPV6 (sent to its solicited-node multicast group), or with
    /// --advertise announce that IPV6 is at the interface's MAC.
    #[arg(long, value_name = "IPV6")]
    pub target: Ipv6Addr,
    /// Send an unsolicited neighbour advertisement to ff02::1 (all nodes) instead of a
    /// solicitation; the target must be an address of the interface, unless --spoof.
    #[arg(long)]
    pub advertise: bool,
    /// The IPv6 source address (default: the interface's link-local address); one the
    /// interface does not have is refused, unless --spoof.
    #[arg(long, value_name = "IPV6")]
    pub source: Option<Ipv6Addr>,
    /// Allow claiming an address the interface does not own (a --source, or the target
    /// of --advertise): NDP spoofing, which makes the hosts that hear it send that
    /// address's traffic to our MAC. Refused without it (exit code 2); --dry-run shows the
    /// packet either way.
    #[arg(long)]
    pub spoof: bool,
    /// The options every packet shares.
    #[command(flatten)]
    pub common: SendCommon,
}

/// Arguments of `wirelens send udp`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("dest").required(true).args(["broadcast", "to"])))]
pub struct SendUdpArgs {
    /// Send to 255.255.255.255, the limited broadcast: every host on the link.
    #[arg(long)]
    pub broadcast: bool,
    /// Send to IP, IPv4 or IPv6 (a subnet broadcast such as 10.77.0.255 reaches every
    /// host on it; ff02::1 every IPv6 host on the link).
    #[arg(long, value_name = "IP")]
    pub to: Option<IpAddr>,
    /// Destination port.
    #[arg(long, value_name = "N")]
    pub port: u16,
    /// Source port (default: a random one from 49152–65535).
    #[arg(long, value_name = "N")]
    pub src_port: Option<u16>,
    /// The data, as text.
    #[arg(long, value_name = "TEXT", conflicts_with = "payload_hex")]
    pub payload: Option<String>,
    /// The data, in hex (68656c6c6f, or 68 65 6c 6c 6f).
    #[arg(long, value_name = "HEX", value_parser = hex_bytes)]
    pub payload_hex: Option<HexBytes>,
    /// Time to live, or IPv6 hop limit (default: 64; 1 for an IPv6 multicast group of
    /// link scope such as ff02::1).
    #[arg(long, value_name = "N")]
    pub ttl: Option<u8>,
    /// Cut a datagram bigger than the interface's MTU into IPv4 fragments instead of
    /// refusing it (IPv4 only).
    #[arg(long)]
    pub fragment: bool,
    /// The options every packet shares.
    #[command(flatten)]
    pub common: SendCommon,
}

/// Arguments of `wirelens send tcp`.
#[derive(Debug, clap::Args)]
pub struct SendTcpArgs {
    /// The host to send to.
    #[arg(long, value_name = "IP")]
    pub to: Ipv4Addr,
    /// Destination port.
    #[arg(long, value_name = "N")]
    pub port: u16,
    /// Source port (default: a random one from 49152–65535).
    #[arg(long, value_name = "N")]
    pub src_port: Option<u16>,
    /// Flags to set, joined with commas: SYN (a port scan), ACK, FIN, RST, PSH, URG…
    #[arg(long, value_name = "FLAGS", default_value = "SYN", value_parser = tcp_flags)]
    pub flags: TcpFlags,
    /// The options every packet shares.
    #[command(flatten)]
    pub common: SendCommon,
}

/// Bytes given in hex on the command line.
#[derive(Clone, Debug)]
pub struct HexBytes(pub Vec<u8>);

fn hex_bytes(s: &str) -> Result<HexBytes, String> {
    wirelens::send::craft::parse_hex(s).map(HexBytes)
}

fn tcp_flags(s: &str) -> Result<TcpFlags, String> {
    TcpFlags::from_names(s).map_err(|e| e.to_string())
}

fn non_negative_ms(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of milliseconds (0 or more)."
        )),
    }
}

impl SendCommon {
    fn options(self, width: impl FnOnce() -> u16) -> send::Options {
        send::Options {
            iface: self.iface,
            count: self.count,
            interval_ms: self.interval,
            timeout_ms: self.timeout,
            quiet: self.quiet,
            dry_run: self.dry_run,
            write: self.write,
            any_target: self.any_target,
            force: self.force,
            spoof: false,
            width: self.width.unwrap_or_else(width),
        }
    }
}

impl SendArgs {
    /// The library's request; `width` gives the terminal's width when --width is absent.
    /// Fails (as clap does) on a combination clap cannot check: --reply --target
    /// without --target-mac.
    pub fn into_request(self, width: impl FnOnce() -> u16) -> Result<send::Request, clap::Error> {
        Ok(match self.packet {
            SendPacket::Arp(a) => {
                let mode = match (a.target, a.probe, a.reply) {
                    (Some(target), _, true) => send::ArpMode::Reply {
                        target,
                        target_mac: a.target_mac.ok_or_else(|| {
                            clap::Error::raw(
                                clap::error::ErrorKind::MissingRequiredArgument,
                                "--reply --target IP needs --target-mac MAC: a reply goes to one host, whose MAC must be given.\n",
                            )
                        })?,
                    },
                    (Some(target), _, false) => send::ArpMode::Request {
                        target,
                        target_mac: a.target_mac,
                    },
                    (None, Some(target), _) => send::ArpMode::Probe { target },
                    (None, None, reply) => send::ArpMode::Gratuitous { reply },
                };
                send::Request {
                    options: send::Options {
                        spoof: a.spoof,
                        ..a.common.options(width)
                    },
                    packet: send::Packet::Arp(send::ArpSpec {
                        mode,
                        sender_ip: a.sender_ip,
                        sender_mac: a.sender_mac,
                    }),
                }
            }
            SendPacket::Ndp(n) => send::Request {
                options: send::Options {
                    spoof: n.spoof,
                    ..n.common.options(width)
                },
                packet: send::Packet::Ndp(send::NdpSpec {
                    target: n.target,
                    source: n.source,
                    advertise: n.advertise,
                }),
            },
            SendPacket::Udp(u) => send::Request {
                options: u.common.options(width),
                packet: send::Packet::Udp(send::UdpSpec {
                    dest: match u.to {
                        Some(ip) if !u.broadcast => send::UdpDest::To(ip),
                        _ => send::UdpDest::Broadcast,
                    },
                    port: u.port,
                    src_port: u.src_port,
                    payload: match (u.payload, u.payload_hex) {
                        (Some(text), _) => text.into_bytes(),
                        (None, Some(hex)) => hex.0,
                        (None, None) => Vec::new(),
                    },
                    ttl: u.ttl,
                    fragment: u.fragment,
                }),
            },
            SendPacket::Tcp(t) => send::Request {
                options: t.common.options(width),
                packet: send::Packet::Tcp(send::TcpSpec {
                    to: t.to,
                    port: t.port,
                    src_port: t.src_port,
                    flags: t.flags,
                }),
            },
        })
    }
}

/// Arguments of `wirelens flows`.
#[derive(Debug, clap::Args)]
pub struct FlowsArgs {
    /// The capture file, or - for standard input.
    pub file: PathBuf,
    /// Output form.
    #[arg(long, value_enum, default_value_t = FlowsFormat::Table)]
    pub format: FlowsFormat,
    /// With --format parquet, the Parquet file to write.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Draw TCP stream STREAM (default 0) as a sequence diagram.
    #[arg(long, value_name = "STREAM", num_args = 0..=1, default_missing_value = "0")]
    pub ladder: Option<u64>,
    /// Show the ARP table (IP → MAC, first and last seen, conflicts) instead of the
    /// conversations.
    #[arg(long, conflicts_with = "ladder")]
    pub arp: bool,
    /// When to colour the output by layer: auto (only when stdout is a terminal, TERM is
    /// not dumb and NO_COLOR is unset or empty), always, or never. JSON is never coloured.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Never draw the progress bar (it is drawn on stderr, when stderr is a terminal, for
    /// files of 8 MiB or more).
    #[arg(long)]
    pub no_progress: bool,
    /// Table width in columns (default: the terminal's width, or 100 when not a terminal).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
}

/// `wirelens flows --format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FlowsFormat {
    /// A table with a legend.
    Table,
    /// JSON Lines, one object per conversation.
    Json,
    /// A Parquet file (named with -w), one row per conversation.
    Parquet,
}

/// Arguments of `wirelens export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Capture files, and directories searched (recursively) for *.pcap, *.pcapng and
    /// *.cap.
    #[arg(required = true, value_name = "CAPTURE_OR_DIR")]
    pub inputs: Vec<PathBuf>,
    /// The directory to write packets/NAME.parquet and flows/NAME.parquet into (NAME is
    /// the capture's file name).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Captures converted at once (default: the number of CPUs).
    #[arg(short = 'j', long = "jobs", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

/// `wirelens read --format` values: the renderers' forms, and Parquet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReadFormatArg {
    /// One line per packet.
    Summary,
    /// One table per layer, the framing arithmetic and a marked hex dump.
    Table,
    /// JSON Lines, one object per packet.
    Json,
    /// A Parquet file (named with -w), one row per packet: the JSON flattened into columns.
    Parquet,
}

impl ReadFormatArg {
    /// The renderer's form, or `None` for Parquet, which is written by the exporter.
    pub fn render_format(self) -> Option<Format> {
        match self {
            ReadFormatArg::Summary => Some(Format::Summary),
            ReadFormatArg::Table => Some(Format::Table),
            ReadFormatArg::Json => Some(Format::Json),
            ReadFormatArg::Parquet => None,
        }
    }
}

/// Arguments of `wirelens read`.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// The capture file, or - for standard input.
    pub file: PathBuf,
    /// Output form.
    #[arg(long, value_enum, default_value_t = ReadFormatArg::Summary)]
    pub format: ReadFormatArg,
    /// Stop after this many packets.
    #[arg(short = 'c', long = "count", value_name = "COUNT")]
    pub count: Option<u64>,
    /// When to colour the output by layer: auto (only when stdout is a terminal, TERM is
    /// not dumb and NO_COLOR is unset or empty), always, or never. JSON is never coloured.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Never draw the progress bar (it is drawn on stderr, when stderr is a terminal and
    /// stdout is not, for files of 8 MiB or more).
    #[arg(long)]
    pub no_progress: bool,
    /// Table width in columns (default: the terminal's width, or 100 when not a terminal).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
    /// Fragment reassembly.
    #[command(flatten)]
    pub reassembly: ReassemblyArgs,
    /// Keep only the packets this BPF expression selects (tcpdump syntax, applied with
    /// libpcap's offline filter); the expression may also follow the file name.
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Show only packets with this layer: eth, vlan, arp, ipv4, ipv6, tcp, udp, icmp,
    /// icmpv6 (every packet is still analysed).
    #[arg(long, value_name = "PROTOCOL", value_parser = parse_only)]
    pub only: Option<wirelens::filter::Only>,
    /// Show only this TCP stream (see `wirelens flows`).
    #[arg(long, value_name = "N")]
    pub stream: Option<u64>,
    /// Also write the packets shown to FILE (pcapng when it ends in .pcapng or with
    /// --pcapng, else pcap). With --format parquet, the Parquet file to write.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Write the -w file as pcapng.
    #[arg(long, requires = "write")]
    pub pcapng: bool,
    /// In the pcapng -w file, add what wirelens says about each packet (stage, fragment,
    /// ARP pairing, notes) as its comment: Wireshark shows it as frame.comment.
    #[arg(long, requires = "write")]
    pub annotate: bool,
    /// No name lookups (accepted for tcpdump's habit; wirelens never does DNS).
    #[arg(short = 'n')]
    pub numeric: bool,
    /// A BPF expression after the file name, as tcpdump takes it
    /// (`wirelens read f.pcap tcp port 8090`).
    #[arg(trailing_var_arg = true, value_name = "EXPRESSION")]
    pub expression: Vec<String>,
}

/// Reads an `--only` value: the key of a layer wirelens decodes.
fn parse_only(word: &str) -> Result<wirelens::filter::Only, String> {
    let keys = wirelens::dissect::LAYER_KEYS;
    match keys.iter().find(|k| k.eq_ignore_ascii_case(word)) {
        Some(k) => Ok(wirelens::filter::Only(k)),
        None => Err(format!(
            "{word:?} is not a protocol wirelens decodes; use one of: {}.",
            keys.join(", ")
        )),
    }
}

/// `--format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// One line per packet.
    Summary,
    /// One table per layer, the framing arithmetic and a marked hex dump.
    Table,
    /// JSON Lines, one object per packet.
    Json,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Summary => Format::Summary,
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
        }
    }
}

/// `--color` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colour when stdout is a terminal, TERM is not dumb and NO_COLOR is unset or empty.
    Auto,
    /// Always colour, also into a pipe or a file, whatever NO_COLOR says.
    Always,
    /// Never colour.
    Never,
}

impl From<ColorArg> for When {
    fn from(c: ColorArg) -> When {
        match c {
            ColorArg::Auto => When::Auto,
            ColorArg::Always => When::Always,
            ColorArg::Never => When::Never,
        }
    }
}

impl Command {
    /// The `--color` of a subcommand that prints packets or tables.
    pub fn color(&self) -> Option<ColorArg> {
        match self {
            Command::Read(a) => Some(a.color),
            Command::Flows(a) => Some(a.color),
            Command::Stats(a) => Some(a.color),
            Command::Live(a) => Some(a.color),
            Command::Lab(a) => Some(a.color),
            Command::Tui(a) => Some(a.color),
            Command::Send(a) => Some(match &a.packet {
                SendPacket::Arp(p) => p.common.color,
                SendPacket::Ndp(p) => p.common.color,
                SendPacket::Udp(p) => p.common.color,
                SendPacket::Tcp(p) => p.common.color,
            }),
            Command::Interfaces(_)
            | Command::Export(_)
            | Command::Completions { .. }
            | Command::Man
            | Command::LabExec { .. } => None,
        }
    }
}

/// `--reassemble`, `--no-reassemble` and `--reassembly-timeout`, shared by `read` and
/// `live`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReassemblyArgs {
    /// Put fragmented IPv4 datagrams and IPv6 packets back together (default: on for summary and table,
    /// off for json so that its fields stay per packet).
    #[arg(long, overrides_with = "no_reassemble")]
    pub reassemble: bool,
    /// Show fragments one by one, without reassembly.
    #[arg(long)]
    pub no_reassemble: bool,
    /// Seconds of capture time a fragmented datagram may take to complete.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub reassembly_timeout: f64,
}

impl ReassemblyArgs {
    /// Forced on, forced off, or `None` for the format's default.
    pub fn choice(&self) -> Option<bool> {
        match (self.reassemble, self.no_reassemble) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}
