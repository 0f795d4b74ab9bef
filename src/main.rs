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
use wirelens::filter::DisplayFilter;
use wirelens::live::{self, LiveOptions};
use wirelens::pipeline::{self, FlowsOptions, ReadOptions, RunError};
use wirelens::progress;

fn main() -> ExitCode {
    let cli = cli::Cli::parse_from(tcpdump_style(std::env::args_os().collect()));
    if let Some(c) = cli.command.color() {
        wirelens::render::color::set_enabled(wirelens::render::color::When::from(c).resolve());
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match cli.command {
        cli::Command::Read(args) => {
            let Some(format) = args.format.render_format() else {
                drop(out);
                return read_parquet(args);
            };
            let opts = ReadOptions {
                format,
                count: args.count,
                width: args.width.unwrap_or_else(terminal_width),
                reassemble: args.reassembly.choice(),
                reassembly_timeout: args.reassembly.reassembly_timeout,
                display: DisplayFilter {
                    only: args.only,
                    stream: args.stream,
                },
                annotate: args.annotate,
                filtered: false,
                // `read` prints every packet: a bar only when stdout is not a terminal.
                progress: progress::allowed(!args.no_progress, true),
            };
            let bpf = match (&args.filter, args.expression.is_empty()) {
                (Some(f), true) => Some(f.clone()),
                (None, false) => Some(args.expression.join(" ")),
                (Some(f), false) => Some(format!("({f}) and ({})", args.expression.join(" "))),
                (None, true) => None,
            };
            let opts = ReadOptions {
                filtered: bpf.is_some() || !opts.display.is_empty(),
                ..opts
            };
            let format = match &args.write {
                Some(p) if args.pcapng || p.extension().is_some_and(|e| e == "pcapng") => {
                    OutFormat::Pcapng
                }
                _ => OutFormat::Pcap,
            };
            if args.annotate && format != OutFormat::Pcapng {
                eprintln!(
                    "wirelens: --annotate writes packet comments, which only pcapng holds: name the -w file *.pcapng or add --pcapng."
                );
                return ExitCode::from(2);
            }
            let write = args.write.as_deref().map(|p| (p, format));
            pipeline::read_filtered(&args.file, &opts, bpf.as_deref(), write, &mut out)
        }
        cli::Command::Flows(args) if args.format == cli::FlowsFormat::Parquet => {
            drop(out);
            return flows_parquet(args);
        }
        cli::Command::Export(args) => {
            drop(out);
            return export(args);
        }
        cli::Command::Flows(args) => {
            if args.write.is_some() {
                eprintln!(
                    "wirelens: flows -w names the Parquet file of --format parquet; add --format parquet."
                );
                return ExitCode::from(2);
            }
            let opts = FlowsOptions {
                json: args.format == cli::FlowsFormat::Json,
                ladder: args.ladder,
                arp: args.arp,
                width: args.width.unwrap_or_else(terminal_width),
                progress: progress::allowed(!args.no_progress, false),
            };
            pipeline::flows_path(&args.file, &opts, &mut out)
        }
        cli::Command::Lab(args) => {
            drop(out);
            return lab(args);
        }
        cli::Command::LabExec { role } => return lab_exec(&role),
        cli::Command::Completions { shell } => {
            let mut cmd = <cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "wirelens", &mut out);
            Ok(())
        }
        cli::Command::Man => {
            let cmd = <cli::Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(RunError::Output)
        }
        cli::Command::Stats(args) => pipeline::stats_path(
            &args.file,
            args.top,
            progress::allowed(!args.no_progress, false),
            &mut out,
        ),
        cli::Command::Send(args) => {
            drop(out);
            return send(args);
        }
        cli::Command::Live(args) => {
            let opts = LiveOptions {
                backend: args.backend.into(),
                capture: LiveConfig {
                    snaplen: args.snaplen,
                    buffer_kib: args.buffer_size,
                    promisc: !args.no_promisc,
                    filter: args.filter,
                    duration: args.duration,
                    ..LiveConfig::new(&args.interface)
                },
                show: ReadOptions {
                    format: args.format.into(),
                    count: args.count,
                    width: args.width.unwrap_or_else(terminal_width),
                    reassemble: args.reassembly.choice(),
                    reassembly_timeout: args.reassembly.reassembly_timeout,
                    ..ReadOptions::default()
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
        cli::Command::Tui(args) => {
            drop(out);
            return tui(args);
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

/// `wirelens tui`: the interactive viewer; exit code 0 on `q`.
fn tui(args: cli::TuiArgs) -> ExitCode {
    use wirelens::tui::{Input, LiveInput};
    let input = match (args.file, args.interface) {
        (Some(f), _) => Input::File(f),
        (None, Some(iface)) => Input::Live(LiveInput {
            backend: args.backend.into(),
            config: LiveConfig {
                filter: args.filter,
                ..LiveConfig::new(&iface)
            },
            write: args.write,
            ring: usize::try_from(args.ring).unwrap_or(usize::MAX),
        }),
        (None, None) => return ExitCode::from(2),
    };
    match wirelens::tui::run(&input, wirelens::render::color::enabled()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wirelens: {e}");
            ExitCode::from(e.code)
        }
    }
}

/// Reports the outcome of an export: the error's sentence and exit code.
fn export_finish(result: Result<String, wirelens::export::ExportError>) -> ExitCode {
    match result {
        Ok(done) => {
            eprintln!("wirelens: {done}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("wirelens: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// `wirelens read FILE --format parquet -w OUT`.
fn read_parquet(args: cli::ReadArgs) -> ExitCode {
    let Some(output) = &args.write else {
        eprintln!(
            "wirelens: --format parquet writes a file, not the terminal: name it with -w FILE.parquet."
        );
        return ExitCode::from(2);
    };
    if args.pcapng || args.annotate {
        eprintln!(
            "wirelens: --pcapng and --annotate are for pcapng -w files; with --format parquet, -w names the Parquet file."
        );
        return ExitCode::from(2);
    }
    let bpf = match (&args.filter, args.expression.is_empty()) {
        (Some(f), true) => Some(f.clone()),
        (None, false) => Some(args.expression.join(" ")),
        (Some(f), false) => Some(format!("({f}) and ({})", args.expression.join(" "))),
        (None, true) => None,
    };
    let opts = wirelens::export::PacketsOptions {
        count: args.count,
        reassemble: args.reassembly.choice().unwrap_or(false),
        reassembly_timeout: args.reassembly.reassembly_timeout,
        display: DisplayFilter {
            only: args.only,
            stream: args.stream,
        },
        bpf,
        progress: progress::allowed(!args.no_progress, false),
    };
    export_finish(
        wirelens::export::packets_file(&args.file, output, &opts)
            .map(|rows| format!("{}: {rows} packets written.", output.display())),
    )
}

/// `wirelens flows FILE --format parquet -w OUT`.
fn flows_parquet(args: cli::FlowsArgs) -> ExitCode {
    let Some(output) = &args.write else {
        eprintln!(
            "wirelens: --format parquet writes a file, not the terminal: name it with -w FILE.parquet."
        );
        return ExitCode::from(2);
    };
    if args.ladder.is_some() || args.arp {
        eprintln!(
            "wirelens: --format parquet writes the conversations; --ladder and --arp have no Parquet form."
        );
        return ExitCode::from(2);
    }
    let progress = progress::allowed(!args.no_progress, false);
    export_finish(
        wirelens::export::flows_file(&args.file, output, progress)
            .map(|rows| format!("{}: {rows} conversations written.", output.display())),
    )
}

/// `wirelens export CAPTURE_OR_DIR... --out DIR [-j N]`.
fn export(args: cli::ExportArgs) -> ExitCode {
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    let progress = |line: &str| eprintln!("{line}");
    export_finish(
        wirelens::export::export(&args.inputs, &args.out, jobs, &progress).map(|r| {
            format!(
                "{} captures exported to {}: {} packets, {} conversations.",
                r.captures,
                args.out.display(),
                r.packets,
                r.flows
            )
        }),
    )
}

/// `wirelens lab`: builds the network, plays the scenario, shows it, removes it.
fn lab(args: cli::LabArgs) -> ExitCode {
    use wirelens::lab::run::{self, LabOptions, Scenario};
    let scenario = match args.scenario {
        cli::ScenarioArg::Down => {
            return match run::down() {
                Ok(names) if names.is_empty() => {
                    println!("No lab network is up.");
                    ExitCode::SUCCESS
                }
                Ok(names) => {
                    println!("Removed {}.", names.join(" and "));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("wirelens: {e}");
                    ExitCode::from(e.exit_code())
                }
            };
        }
        cli::ScenarioArg::Handshake => Scenario::Handshake,
        cli::ScenarioArg::Arp => Scenario::Arp,
        cli::ScenarioArg::Broadcast => Scenario::Broadcast,
        cli::ScenarioArg::Fragments => Scenario::Fragments,
        cli::ScenarioArg::Refused => Scenario::Refused,
        cli::ScenarioArg::Ndp => Scenario::Ndp,
        cli::ScenarioArg::All => Scenario::All,
    };
    let opts = LabOptions {
        scenario,
        format: args.format.into(),
        width: args.width.unwrap_or_else(terminal_width),
        keep: args.keep,
        write: args.write,
        ipv6: args.ipv6,
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let result = run::run(&opts, &mut out);
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Ok(()), Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        (Ok(()), Err(e)) => {
            eprintln!("wirelens: could not write the output: {e}");
            ExitCode::from(1)
        }
        (Err(e), _) => {
            eprintln!("wirelens: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// The hidden `lab-exec`: plays one socket program inside a lab namespace.
fn lab_exec(words: &[String]) -> ExitCode {
    let role = match wirelens::lab::roles::Role::parse(words) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wirelens lab-exec: {e}");
            return ExitCode::from(2);
        }
    };
    match role.run(&mut io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

/// tcpdump's habits: `wirelens -r FILE …` means `wirelens read FILE …` and
/// `wirelens -i IFACE …` means `wirelens live -i IFACE …`.
fn tcpdump_style(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    match args.get(1).and_then(|a| a.to_str()) {
        Some("-r") => {
            args[1] = "read".into();
        }
        Some("-i") => {
            args.insert(1, "live".into());
        }
        _ => {}
    }
    args
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
