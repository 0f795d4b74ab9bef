//! JSON Lines: one object per packet, the layer structs serialised with serde.

use std::io::{self, Write};

use super::Context;
use crate::dissect::Dissection;

/// Writes `d` as one line of JSON. The line is serialised into the context's scratch
/// buffer and written with one call, instead of many small writes through `dyn Write`.
pub fn write(out: &mut dyn Write, ctx: &mut Context, d: &Dissection) -> io::Result<()> {
    let mut line = std::mem::take(&mut ctx.scratch);
    line.clear();
    let result = serde_json::to_writer(&mut line, d)
        .map_err(io::Error::other)
        .and_then(|()| {
            line.push(b'\n');
            out.write_all(&line)
        });
    ctx.scratch = line;
    result
}
