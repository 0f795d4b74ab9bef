//! Command-line types. Parsing only validates; `main` turns the result into library calls.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use wirelens::capture::live::Backend;
use wirelens::render::Format;

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
    Interfaces(InterfacesArgs),
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
    #[arg(long, value_name = "N", default_value_t = 262_144,
          value_parser = clap::value_parser!(u32).range(1..=262_144))]
    pub snaplen: u32,
    /// Do not put the interface in promiscuous mode (see only frames for this host,
    /// broadcasts and multicasts).
    #[arg(long)]
    pub no_promisc: bool,
    /// Output form.
    #[arg(long, value_enum, default_value_t = FormatArg::Summary)]
    pub format: FormatArg,
    /// Table width in columns (default: the terminal's width, or 100 when not a terminal).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
    /// Put fragmented IPv4 datagrams back together (default: on for summary and table,
    /// off for json).
    #[arg(long, overrides_with = "no_reassemble")]
    pub reassemble: bool,
    /// Show fragments one by one, without reassembly.
    #[arg(long)]
    pub no_reassemble: bool,
    /// Seconds of capture time a fragmented datagram may take to complete.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub reassembly_timeout: f64,
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

/// Arguments of `wirelens interfaces`.
#[derive(Debug, clap::Args)]
pub struct InterfacesArgs {
    /// Table width in columns (default: the terminal's width, or 100 when not a terminal).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
}

/// Arguments of `wirelens flows`.
#[derive(Debug, clap::Args)]
pub struct FlowsArgs {
    /// The capture file, or - for standard input.
    pub file: PathBuf,
    /// Output form.
    #[arg(long, value_enum, default_value_t = FlowsFormat::Table)]
    pub format: FlowsFormat,
    /// Draw TCP stream STREAM (default 0) as a sequence diagram.
    #[arg(long, value_name = "STREAM", num_args = 0..=1, default_missing_value = "0")]
    pub ladder: Option<u64>,
    /// Show the ARP table (IP → MAC, first and last seen, conflicts) instead of the
    /// conversations.
    #[arg(long, conflicts_with = "ladder")]
    pub arp: bool,
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
}

/// Arguments of `wirelens read`.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// The capture file, or - for standard input.
    pub file: PathBuf,
    /// Output form.
    #[arg(long, value_enum, default_value_t = FormatArg::Summary)]
    pub format: FormatArg,
    /// Stop after this many packets.
    #[arg(short = 'c', long = "count", value_name = "COUNT")]
    pub count: Option<u64>,
    /// Table width in columns (default: the terminal's width, or 100 when not a terminal).
    #[arg(long, value_name = "COLUMNS", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,
    /// Put fragmented IPv4 datagrams back together (default: on for summary and table,
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
