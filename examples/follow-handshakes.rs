//! Follows TCP connections in a capture and prints each handshake and teardown step with
//! its explanation — the connection tracker without the rest of the tool.
//!
//! cargo run --example follow-handshakes -- captures/tcp-echo.pcap

use std::path::PathBuf;

use wirelens::analysis::tcp::{Stage, TcpTracker};
use wirelens::capture::file::FileSource;
use wirelens::dissect::dissect;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: follow-handshakes CAPTURE")?;
    let mut source = FileSource::open(&path)?;
    let mut tracker = TcpTracker::default();
    let mut n = 0;
    while let Some(frame) = source.next_frame()? {
        n += 1;
        let d = dissect(n, &frame);
        let (Some((src, dst)), Some(tcp)) = (d.ip_addrs(), &d.tcp) else {
            continue;
        };
        let (conv, _) = tracker.track(d.ts, src, dst, tcp, d.len);
        if matches!(
            conv.stage,
            Stage::Handshake(_) | Stage::Teardown(..) | Stage::Reset
        ) {
            println!(
                "frame {n:>3}, stream {}: {:<14} {}",
                conv.stream,
                conv.stage.to_string(),
                conv.explain(tcp)
            );
        }
    }
    Ok(())
}
