//! Command-line types. Parsing only validates; `main` turns the result into library calls.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
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
    /// Statistics of a capture: protocol hierarchy, top talkers, packet sizes, packets
    /// per second.
    ///
    /// Example: wirelens stats captures/icmp-errors.pcap
    Stats(StatsArgs),
}

/// Arguments of `wirelens stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// The capture file, or - for standard input.
    pub file: PathBuf,
    /// How many top talkers to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
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
