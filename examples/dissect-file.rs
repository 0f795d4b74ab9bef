//! The smallest use of the library: open a capture, dissect every frame, print one line
//! per packet with its layers and notes.
//!
//! cargo run --example dissect-file -- captures/tcp-echo.pcap

use std::path::PathBuf;

use wirelens::capture::file::FileSource;
use wirelens::dissect::dissect;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: dissect-file CAPTURE")?;
    let mut source = FileSource::open(&path)?;
    let mut n = 0;
    while let Some(frame) = source.next_frame()? {
        n += 1;
        let d = dissect(n, &frame);
        let ip = d
            .ipv4
            .as_ref()
            .map(|ip| format!("{} → {}", ip.src, ip.dst))
            .unwrap_or_default();
        println!("{n:>4} {:<6} {ip} {:?}", d.top_protocol(), d.notes);
    }
    Ok(())
}
