//! `w FILE`: writes the packets the list shows to a capture file.

use std::io::BufWriter;
use std::path::Path;

use super::store::Store;
use crate::capture::writer::{CaptureWriter, OutFormat};

/// Writes `frames` to `path`: pcapng when the name ends in `.pcapng`, else pcap.
/// Returns how many packets were written, or a sentence saying what went wrong.
pub fn save(store: &mut Store, frames: &[u64], path: &Path) -> Result<usize, String> {
    if path.as_os_str().is_empty() {
        return Err("No file name given: nothing saved.".into());
    }
    let format = if path.extension().is_some_and(|e| e == "pcapng") {
        OutFormat::Pcapng
    } else {
        OutFormat::Pcap
    };
    let fail = |e: std::io::Error| format!("Could not write {}: {e}.", path.display());
    let file = std::fs::File::create(path).map_err(fail)?;
    // The link type is known once the first frame is seen; the header waits for it.
    let mut writer: Option<CaptureWriter<BufWriter<std::fs::File>>> = None;
    let mut file = Some(file);
    let mut count = 0usize;
    let link = store.each_frame(frames, |f| {
        if writer.is_none()
            && let Some(file) = file.take()
        {
            writer = Some(CaptureWriter::new(BufWriter::new(file), format, f.link).map_err(fail)?);
        }
        if let Some(w) = writer.as_mut() {
            w.write(f.ts, f.bytes, f.len, None).map_err(fail)?;
            count += 1;
        }
        Ok(())
    })?;
    if let Some(file) = file.take() {
        writer = Some(CaptureWriter::new(BufWriter::new(file), format, link).map_err(fail)?);
    }
    if let Some(w) = writer {
        w.into_inner().map_err(fail)?;
    }
    Ok(count)
}
