//! The `wirelens` binary: parse the command line, call the library, map errors to exit
//! codes (0 ok, 2 usage error or unreadable input; `send`: 1 no answer, 3 no privilege).

mod cli;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
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
