//! The `wirelens` binary: parse the command line, call the library, map errors to exit
//! codes (0 ok, 1 nothing matched or no answer, 2 usage error or unreadable input, 3
//! privilege or interface error).

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use wirelens::capture::interfaces;
use wirelens::capture::live::LiveConfig;
use wirelens::capture::writer::OutFormat;
use wirelens::live::{self, LiveOptions};
use wirelens::pipeline::{self, FlowsOptions, ReadOptions, RunError};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match cli.command {
        cli::Command::Read(args) => {
            let opts = ReadOptions {
                format: args.format.into(),
                count: args.count,
                width: args.width.unwrap_or_else(terminal_width),
                reassemble: match (args.reassemble, args.no_reassemble) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                reassembly_timeout: args.reassembly_timeout,
            };
            pipeline::read_path(&args.file, &opts, &mut out)
        }
        cli::Command::Flows(args) => {
            let opts = FlowsOptions {
                json: args.format == cli::FlowsFormat::Json,
                ladder: args.ladder,
                arp: args.arp,
                width: args.width.unwrap_or_else(terminal_width),
            };
            pipeline::flows_path(&args.file, &opts, &mut out)
        }
        cli::Command::Stats(args) => pipeline::stats_path(&args.file, args.top, &mut out),
        cli::Command::Send(args) => {
            drop(out);
            return send(args);
        }
        cli::Command::Live(args) => {
            let opts = LiveOptions {
                backend: args.backend.into(),
                capture: LiveConfig {
                    snaplen: args.snaplen,
                    promisc: !args.no_promisc,
                    filter: args.filter,
                    duration: args.duration,
                    ..LiveConfig::new(&args.interface)
                },
                show: ReadOptions {
                    format: args.format.into(),
                    count: args.count,
                    width: args.width.unwrap_or_else(terminal_width),
                    reassemble: match (args.reassemble, args.no_reassemble) {
                        (true, _) => Some(true),
                        (_, true) => Some(false),
                        _ => None,
                    },
                    reassembly_timeout: args.reassembly_timeout,
                },
                write: args.write,
                write_format: if args.pcapng {
                    OutFormat::Pcapng
                } else {
                    OutFormat::Pcap
                },
                user: args.user,
            };
            live::run(&opts, &mut out)
        }
        cli::Command::Interfaces(args) => {
            let width = args.width.unwrap_or_else(terminal_width);
            live::write_interfaces(&mut out, &interfaces::list(), width).map_err(RunError::Output)
        }
    };
    let flushed = out.flush();
    finish(result.and(flushed.map_err(RunError::Output)))
}

/// `wirelens send`: the outcome's exit code (0 done, 1 no answer), or the error's (1
/// failure, 2 refused, 3 no privilege). Output is written as it happens, line by line.
fn send(args: cli::SendArgs) -> ExitCode {
    let req = args
        .into_request(terminal_width)
        .unwrap_or_else(|e| e.exit());
    let mut out = io::stdout().lock();
    match wirelens::send::run(&req, &mut out) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(wirelens::send::SendError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = out.flush();
            eprintln!("wirelens: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Maps the outcome of a run to an exit code; a closed pipe (`| head`) is not an error.
fn finish(result: Result<(), RunError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(RunError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wirelens: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The terminal's width in columns, probed once; 100 when stdout is not a terminal.
fn terminal_width() -> u16 {
    let t = comfy_table::Table::new();
    if t.is_tty() {
        t.width().unwrap_or(100)
    } else {
        100
    }
}
