//! JSON Lines: one object per packet, the layer structs serialised with serde.

use std::io::{self, Write};

use crate::dissect::Dissection;

/// Writes `d` as one line of JSON.
pub fn write(out: &mut dyn Write, d: &Dissection) -> io::Result<()> {
    serde_json::to_writer(&mut *out, d).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
