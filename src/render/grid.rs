//! A fast table writer that draws exactly what comfy-table draws for the one table
//! style wirelens uses: `UTF8_FULL_CONDENSED`, `ContentArrangement::Dynamic`, a fixed
//! width, one column of padding on each side, words split at spaces, left-aligned.
//!
//! Why not comfy-table itself? It costs about 14 µs for a six-row table (cells become
//! `String`s, lines are built and joined into more `String`s); the table format draws
//! four or five tables per packet, which made it more than four times slower than
//! `tshark -V`. This module does the same arithmetic — column widths by comfy-table's
//! dynamic arrangement, then its word splitting — directly into a byte buffer. The tests
//! at the end compare it with comfy-table on thousands of random tables, so the output
//! stays byte-for-byte what it was.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Lines from this width down to zero keep two columns free before a line is full
/// (comfy-table's `MIN_FREE_CHARS`).
const MIN_FREE_CHARS: usize = 2;

/// Padding on each side of every cell, in columns.
const PAD: usize = 1;

/// Display width of `s` in terminal columns, as comfy-table measures it.
pub fn width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        narrow_width(s).unwrap_or_else(|| s.width())
    }
}

/// The width of `s` when it is printable ASCII plus only characters that are one column
/// wide wherever they stand (the punctuation our meanings use: `×`, `–`, `→`, `…`, box
/// drawing…); `None` for anything else, which [`UnicodeWidthStr::width`] then measures
/// with its context rules (emoji sequences, variation selectors, combining marks).
fn narrow_width(s: &str) -> Option<usize> {
    // Read as bytes: `s` is UTF-8, so a lead byte says how many bytes follow, and the
    // ranges above are a handful of lead and continuation bytes (decoding `chars` was a
    // third of the time of measuring a meaning).
    let b = s.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        // Eight printable ASCII bytes at once: cells such as "45 00 … 06 …" are mostly
        // ASCII, and a byte a turn was 7 instructions a byte (callgrind, table format).
        if let Some(word) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok())
            && printable_word(u64::from_le_bytes(word))
        {
            i += 8;
            n += 8;
            continue;
        }
        match c {
            b' '..=b'~' => i += 1,
            // U+00A0..U+00BF, but not the soft hyphen U+00AD.
            0xc2 => match b.get(i + 1) {
                Some(&d) if d >= 0xa0 && d != 0xad => i += 2,
                _ => return None,
            },
            // U+00C0..U+00FF.
            0xc3 => i += 2,
            0xe2 => {
                let (&d1, &d2) = (b.get(i + 1)?, b.get(i + 2)?);
                let cp = 0x2000 | (u32::from(d1 & 0x3f) << 6) | u32::from(d2 & 0x3f);
                let one = matches!(cp, 0x2010..=0x2027 | 0x2190..=0x22ff | 0x2500..=0x259f);
                if !one {
                    return None;
                }
                i += 3;
            }
            _ => return None,
        }
        n += 1;
    }
    Some(n)
}

/// Whether all eight bytes of `word` are printable ASCII (0x20 to 0x7e).
#[inline]
fn printable_word(word: u64) -> bool {
    unprintable_bytes(word) == 0
}

/// The high bit of each byte of `word` that is not printable ASCII: the high bit set,
/// below 0x20 (adding 0x60 to the low seven bits leaves the high bit clear), or 0x7f.
#[inline]
const fn unprintable_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    (word & HIGH)
        | (!((word & !HIGH).wrapping_add(0x60 * ONES)) & HIGH)
        | zero_bytes(word ^ (0x7f * ONES))
}

/// Column widths (content only, without padding) for a table `table_width` columns wide
/// whose cells are `cells` (row-major, `ncols` per row, the header first if any): the
/// widths comfy-table's dynamic arrangement would choose.
pub fn column_widths(cells: &[&str], ncols: usize, table_width: usize) -> Vec<usize> {
    let mut stats = ColumnStats { cells, ncols };
    arrange(&mut stats, table_width)
}

/// The widest line of a cell, at least 1 (as comfy-table counts it).
fn cell_width(cell: &str) -> usize {
    if is_printable_ascii(cell) {
        // One line (a newline is not printable), one column per byte.
        return cell.len().max(1);
    }
    lines(cell).map(width).max().unwrap_or(0).max(1)
}

/// What the arrangement needs to know about the columns of a table.
trait Columns {
    /// Widest line of each column (at least 1 for a column with cells).
    fn max_widths(&mut self) -> Vec<usize>;
    /// The longest line of column `col` once every line wider than `average` is split
    /// as a cell `average` columns wide would split it — exactly, when it is at most
    /// `limit`; otherwise some number above `limit` (the search stops early: the
    /// arrangement only needs to know that the column does not fit).
    fn longest_after_split(&mut self, col: usize, average: usize, limit: usize) -> usize;
}

/// Column statistics gathered row by row, for a table too long to keep in memory
/// (`wirelens flows` on a big capture): the widest line of each column, and each
/// distinct *shape* of line — for printable ASCII, the line with every non-space byte
/// replaced by `x`, since splitting depends only on word lengths. Memory grows with the
/// number of distinct shapes, not with the number of rows.
#[derive(Debug, Default)]
pub struct StreamStats {
    max: Vec<usize>,
    /// Longest printable-ASCII line without a space in each column: such a line splits
    /// into pieces as wide as the cell, so only the longest one matters.
    longest_word: Vec<usize>,
    shapes: Vec<ShapeSet>,
    /// Per column, the printable-ASCII cells of at most [`SPACE_MASK_LEN`] bytes with a
    /// space already counted, as (length, bit `i` set when byte `i` is a space): their
    /// shape, known without building it. Why: most cells of a long table repeat a shape,
    /// and building and hashing the shape string was a quarter of the rows thread of
    /// `flows` (perf).
    seen: Vec<SeenShapes>,
    /// A buffer for building shapes.
    shape: String,
}

/// The longest cell [`StreamStats`] recognises by its space mask.
const SPACE_MASK_LEN: usize = 64;

/// Shapes of short printable-ASCII cells by length and space mask.
type SeenShapes =
    std::collections::HashSet<(usize, u64), crate::analysis::flowtable::FlowHashBuilder>;

/// The distinct line shapes of one column, hashed with the flow tables' fast hasher
/// (a profile of `flows` showed SipHash on every row's cells).
type ShapeSet = std::collections::HashSet<String, crate::analysis::flowtable::FlowHashBuilder>;

impl StreamStats {
    /// Statistics of an empty table with `ncols` columns.
    pub fn new(ncols: usize) -> StreamStats {
        StreamStats {
            max: vec![0; ncols],
            longest_word: vec![0; ncols],
            shapes: vec![ShapeSet::default(); ncols],
            seen: vec![SeenShapes::default(); ncols],
            shape: String::new(),
        }
    }

    /// Counts one row (or the header).
    pub fn add_row(&mut self, cells: &[&str]) {
        for (col, cell) in cells.iter().enumerate() {
            if !self.add_short(col, cell.as_bytes()) {
                self.add_row_cell(col, cell);
            }
        }
    }

    /// Counts `cell` of column `col` line by line: any cell [`StreamStats::add_short`]
    /// does not take.
    fn add_row_cell(&mut self, col: usize, cell: &str) {
        if let Some(m) = self.max.get_mut(col) {
            *m = (*m).max(cell_width(cell));
        }
        let Some(set) = self.shapes.get_mut(col) else {
            return;
        };
        for line in cell.split('\n') {
            if is_printable_ascii(line) && !line.contains(' ') {
                if let Some(w) = self.longest_word.get_mut(col) {
                    *w = (*w).max(line.len());
                }
                continue;
            }
            self.shape.clear();
            if is_printable_ascii(line) {
                self.shape
                    .extend(line.bytes().map(|b| if b == b' ' { ' ' } else { 'x' }));
            } else {
                self.shape.push_str(line);
            }
            if !set.contains(self.shape.as_str()) {
                set.insert(self.shape.clone());
            }
        }
    }

    /// Counts `cell` of column `col` in one pass when it is printable ASCII and at most
    /// [`SPACE_MASK_LEN`] bytes long (one line, one column a byte), building its shape
    /// only when it is new; false, counting nothing, for any other cell.
    fn add_short(&mut self, col: usize, cell: &[u8]) -> bool {
        if cell.len() > SPACE_MASK_LEN {
            return false;
        }
        let (printable, spaces) = ascii_and_spaces(cell);
        printable && self.add_known(col, cell, spaces)
    }

    /// Counts one row whose every cell the caller wrote as printable ASCII of at most
    /// [`SPACE_MASK_LEN`] bytes, `spaces[i]` holding the places of the spaces of cell `i`
    /// as bits (bit `j` for byte `j`): counted as [`StreamStats::add_row`] counts it,
    /// without looking at a byte. Why: looking at every byte of every cell was most of
    /// these statistics in `flows` (callgrind: 1 840 instructions a row), and the rows of
    /// its table are written from numbers, addresses and fixed words whose spaces are
    /// known. A longer cell, or one the caller misjudged (checked in debug builds), is
    /// counted as `add_row` counts it.
    pub fn add_ascii_row(&mut self, cells: &[&str], spaces: &[u64]) {
        for (col, (cell, &known)) in cells.iter().zip(spaces).enumerate() {
            debug_assert!(
                cell.len() > SPACE_MASK_LEN || ascii_and_spaces(cell.as_bytes()) == (true, known),
                "cell {col} {cell:?} is not printable ASCII with spaces {known:#b}"
            );
            if cell.len() > SPACE_MASK_LEN || !self.add_known(col, cell.as_bytes(), known) {
                self.add_row_cell(col, cell);
            }
        }
    }

    /// Counts printable-ASCII `cell` of column `col` (at most [`SPACE_MASK_LEN`] bytes),
    /// whose spaces are at the bits of `spaces`; false, counting nothing, if the table has
    /// no column `col`.
    #[inline]
    fn add_known(&mut self, col: usize, cell: &[u8], spaces: u64) -> bool {
        let (Some(m), Some(word), Some(seen), Some(set)) = (
            self.max.get_mut(col),
            self.longest_word.get_mut(col),
            self.seen.get_mut(col),
            self.shapes.get_mut(col),
        ) else {
            return false;
        };
        *m = (*m).max(cell.len().max(1));
        if spaces == 0 {
            *word = (*word).max(cell.len());
        } else if seen.insert((cell.len(), spaces)) {
            set.insert(
                cell.iter()
                    .map(|&b| if b == b' ' { ' ' } else { 'x' })
                    .collect(),
            );
        }
        true
    }

    /// The content widths comfy-table's dynamic arrangement would give these rows in a
    /// table `table_width` columns wide.
    pub fn widths(&self, table_width: usize) -> Vec<usize> {
        arrange(&mut &*self, table_width)
    }
}

/// Calls `each` with the place of every byte of `row` that is `sep`, in order, eight
/// bytes at a time (a byte loop was 5 instructions a byte, a third of drawing `flows`'
/// rows, callgrind).
pub fn each_byte_at(row: &[u8], sep: u8, mut each: impl FnMut(usize)) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut words = row.chunks_exact(8);
    let mut base = 0;
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        let mut hits = zero_bytes(u64::from_le_bytes(word) ^ (u64::from(sep) * ONES));
        while hits != 0 {
            each(base + hits.trailing_zeros() as usize / 8);
            hits &= hits - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == sep {
            each(base + i);
        }
    }
}

/// Bytes with their high bit set at each position where the bytes of `word` are zero.
const fn zero_bytes(word: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((word & LOW7).wrapping_add(LOW7)) | word) & !LOW7
}

/// The places of the spaces in `cell`, as bits (bit `i` for byte `i`; its first
/// [`SPACE_MASK_LEN`] bytes), for [`StreamStats::add_ascii_row`].
pub fn spaces_of(cell: &str) -> u64 {
    ascii_and_spaces(cell.as_bytes()).1
}

/// Whether `cell` (at most [`SPACE_MASK_LEN`] bytes) is all printable ASCII, and the
/// positions of its spaces as bits, eight bytes at a time. Why: byte by byte, this
/// loop was most of `flows`' column statistics, a few instructions for every byte of
/// every cell of hundreds of thousands of rows.
fn ascii_and_spaces(cell: &[u8]) -> (bool, u64) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let (mut bad, mut spaces) = (0u64, 0u64);
    let cell = cell.get(..SPACE_MASK_LEN).unwrap_or(cell);
    for (i, chunk) in cell.chunks(8).enumerate() {
        // The last word padded with a printable byte that is not a space (the compiler
        // makes this copy a `memcpy` call, which was still cheaper than gathering the
        // bytes into a register one by one).
        let mut bytes = [b'x'; 8];
        for (d, s) in bytes.iter_mut().zip(chunk) {
            *d = *s;
        }
        let word = u64::from_le_bytes(bytes);
        bad |= unprintable_bytes(word);
        // Each space's high bit, gathered into the top byte by the multiplication.
        let space = zero_bytes(word ^ (u64::from(b' ') * ONES)) >> 7;
        spaces |= (space.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * i);
    }
    (bad == 0, spaces)
}

impl Columns for &StreamStats {
    fn max_widths(&mut self) -> Vec<usize> {
        self.max.clone()
    }

    fn longest_after_split(&mut self, col: usize, average: usize, limit: usize) -> usize {
        let lines = self
            .shapes
            .get(col)
            .into_iter()
            .flatten()
            .map(String::as_str);
        let word = self.longest_word.get(col).copied().unwrap_or(0);
        // A word at most `average` wide stays whole; a longer one is cut into pieces as
        // wide as the cell.
        let word = if word <= average {
            word
        } else {
            average.clamp(1, usize::from(u16::MAX))
        };
        if word > limit {
            return word;
        }
        longest_after_split(lines, average, limit).max(word)
    }
}

/// [`Columns::longest_after_split`] over the lines of one column.
fn longest_after_split<'a>(
    lines: impl Iterator<Item = &'a str>,
    average: usize,
    limit: usize,
) -> usize {
    let content = average.clamp(1, usize::from(u16::MAX));
    let mut longest = 0;
    for line in lines {
        if longest > limit {
            break;
        }
        let w = width(line);
        if w <= average {
            longest = longest.max(w);
        } else {
            split_any(line, content, |_, _, pw| longest = longest.max(pw));
        }
    }
    longest
}

/// What the arrangement needs to know about each column: read from the cells.
struct ColumnStats<'a> {
    cells: &'a [&'a str],
    ncols: usize,
}

impl Columns for ColumnStats<'_> {
    fn max_widths(&mut self) -> Vec<usize> {
        let mut max = vec![0usize; self.ncols];
        for (i, cell) in self.cells.iter().enumerate() {
            if let Some(m) = max.get_mut(i % self.ncols.max(1)) {
                *m = (*m).max(cell_width(cell));
            }
        }
        max
    }

    fn longest_after_split(&mut self, col: usize, average: usize, limit: usize) -> usize {
        let lines = self
            .cells
            .iter()
            .skip(col)
            .step_by(self.ncols.max(1))
            .flat_map(|c| lines(c));
        longest_after_split(lines, average, limit)
    }
}

/// True when every byte is printable ASCII (space to tilde): one column per byte, and
/// comfy-table splits long words of such text by bytes.
fn is_printable_ascii(s: &str) -> bool {
    // A fold without an early exit, so that the compiler checks 16 or 32 bytes at a time.
    s.bytes()
        .fold(true, |ok, b| ok & (b.wrapping_sub(0x20) < 0x5f))
}

/// The widest piece [`split_line`] makes of a printable-ASCII `line`.
#[cfg(test)]
fn longest_piece_printable(line: &str, content_width: usize) -> usize {
    let mut longest = 0;
    split_printable(line, content_width, |a, b| longest = longest.max(b - a));
    longest
}

/// [`split_line`] for a printable-ASCII `line`, where every byte is one column wide:
/// the same pieces, found from byte counts alone (no width measuring, no `str::split`).
fn split_printable(line: &str, content_width: usize, mut emit: impl FnMut(usize, usize)) {
    let bytes = line.as_bytes();
    // Where the next word starts; past the end when there are no more words.
    let mut next_word = 0;
    let mut pending: Option<(usize, usize)> = None;
    let mut cur: Option<(usize, usize)> = None;
    let mut cur_len = 0usize;
    loop {
        let (ws, we) = if let Some(p) = pending.take() {
            p
        } else if next_word <= bytes.len() {
            let start = next_word;
            let end = bytes
                .get(start..)
                .and_then(|rest| rest.iter().position(|&b| b == b' '))
                .map_or(bytes.len(), |i| start + i);
            next_word = end + 1;
            (start, end)
        } else {
            break;
        };
        let next_len = we - ws;
        let nonempty = cur.is_some();
        let mut added = next_len + cur_len;
        let mut remaining = content_width.saturating_sub(cur_len);
        if nonempty {
            added += 1;
            remaining = remaining.saturating_sub(1);
        }
        if added <= content_width {
            if nonempty {
                cur_len += 1;
            }
            cur = match cur {
                Some((s, _)) => Some((s, we)),
                None if we > ws => Some((ws, we)),
                None => None,
            };
            cur_len += next_len;
            if cur_len > content_width.saturating_sub(MIN_FREE_CHARS) {
                if let Some((s, e)) = cur.take() {
                    emit(s, e);
                }
                cur_len = 0;
            }
            continue;
        }
        if let Some((s, e)) = cur.filter(|_| remaining <= MIN_FREE_CHARS) {
            pending = Some((ws, we));
            emit(s, e);
            (cur, cur_len) = (None, 0);
            continue;
        }
        if next_len > content_width {
            let head_end = ws + next_len.min(remaining);
            match cur {
                None if head_end == ws => {
                    emit(ws, ws + 1);
                    pending = Some((ws + 1, we));
                }
                None => {
                    emit(ws, head_end);
                    pending = Some((head_end, we));
                }
                Some((s, _)) => {
                    emit(s, head_end);
                    pending = Some((head_end, we));
                }
            }
            (cur, cur_len) = (None, 0);
            continue;
        }
        if let Some((s, e)) = cur {
            emit(s, e);
        }
        cur = (we > ws).then_some((ws, we));
        cur_len = next_len;
        if cur_len > content_width.saturating_sub(MIN_FREE_CHARS) {
            if let Some((s, e)) = cur.take() {
                emit(s, e);
            }
            cur_len = 0;
        }
    }
    if let Some((s, e)) = cur {
        emit(s, e);
    }
}

/// comfy-table's dynamic arrangement (`utils/arrangement/dynamic.rs`) without
/// constraints or hidden columns: fix the columns that fit into the average space, then
/// those whose split content leaves at least 3 columns unused, then share what is left.
fn arrange(stats: &mut impl Columns, table_width: usize) -> Vec<usize> {
    let max_widths = stats.max_widths();
    let ncols = max_widths.len();
    let borders = if ncols == 0 { 2 } else { ncols + 1 };
    let mut remaining_width = table_width
        .saturating_sub(borders)
        .saturating_sub(2 * PAD * ncols);
    let mut remaining_columns = ncols;
    let mut decided: Vec<Option<usize>> = vec![None; ncols];
    let average = |w: usize, c: usize| w.checked_div(c).unwrap_or(0);

    let mut found_smaller = true;
    'fit: while found_smaller {
        found_smaller = false;
        if remaining_columns == 0 || average(remaining_width, remaining_columns) == 0 {
            break;
        }
        for col in 0..ncols {
            if decided[col].is_some() {
                continue;
            }
            let max = max_widths[col];
            if max <= average(remaining_width, remaining_columns) {
                decided[col] = Some(max.max(1));
                remaining_width = remaining_width.saturating_sub(max);
                remaining_columns -= 1;
                found_smaller = true;
                if remaining_columns == 0 {
                    break 'fit;
                }
            }
        }
    }

    if remaining_columns > 0 {
        // The loop asks again for columns it could not fix, often at the same average:
        // remember the answers (column, average, longest line).
        let mut memo: Vec<(usize, usize, usize)> = Vec::new();
        let mut found_smaller = true;
        'split: while found_smaller {
            found_smaller = false;
            for (col, slot) in decided.iter_mut().enumerate() {
                if slot.is_some() {
                    continue;
                }
                let avg = average(remaining_width, remaining_columns);
                // comfy-table fixes a column when splitting leaves 3 or more columns of
                // the average unused: only a longest line up to avg - 3 matters.
                let Some(limit) = avg.checked_sub(3) else {
                    continue;
                };
                let longest = match memo.iter().find(|m| m.0 == col && m.1 == avg) {
                    Some(m) => m.2,
                    None => {
                        let l = stats.longest_after_split(col, avg, limit);
                        memo.push((col, avg, l));
                        l
                    }
                };
                if longest <= limit {
                    let longest = longest.min(usize::from(u16::MAX));
                    *slot = Some(longest.max(1));
                    remaining_width = remaining_width.saturating_sub(longest);
                    remaining_columns -= 1;
                    found_smaller = true;
                    if remaining_columns == 0 {
                        break 'split;
                    }
                }
            }
        }
    }

    if remaining_columns > 0 {
        remaining_width = remaining_width.max(remaining_columns);
        let avg = remaining_width / remaining_columns;
        let mut excess = remaining_width - avg * remaining_columns;
        for d in decided.iter_mut().filter(|d| d.is_none()) {
            let w = if excess > 0 {
                excess -= 1;
                avg + 1
            } else {
                avg
            };
            *d = Some(w.clamp(1, usize::from(u16::MAX)));
        }
    }
    decided.into_iter().map(|d| d.unwrap_or(1)).collect()
}

/// comfy-table's `split_line`: breaks `line` into pieces at most `content_width` wide,
/// at spaces where it can and inside words where it must, calling `emit` with the byte
/// range of each piece in `line`.
///
/// comfy-table builds each piece as a new `String` of words joined by single spaces; since
/// the words were split at single spaces, every piece is a contiguous part of `line`, so
/// ranges say the same without copying.
fn split_line(line: &str, content_width: usize, mut emit: impl FnMut(usize, usize)) {
    let mut words = line.split(' ');
    // Where the next word from `words` starts.
    let mut next_word = 0;
    // A word or the rest of one, to place before taking the next word.
    let mut pending: Option<(usize, usize)> = None;
    // The piece being built (`None` while it is empty) and its width as comfy-table
    // counts it.
    let mut cur: Option<(usize, usize)> = None;
    let mut cur_len = 0usize;
    loop {
        let (ws, we) = if let Some(p) = pending.take() {
            p
        } else if let Some(w) = words.next() {
            let start = next_word;
            next_word += w.len() + 1;
            (start, start + w.len())
        } else {
            break;
        };
        let next = line.get(ws..we).unwrap_or_default();
        let next_len = width(next);
        let nonempty = cur.is_some();
        let mut added = next_len + cur_len;
        let mut remaining = content_width.saturating_sub(cur_len);
        if nonempty {
            added += 1;
            remaining = remaining.saturating_sub(1);
        }
        if added <= content_width {
            if nonempty {
                cur_len += 1;
            }
            cur = match cur {
                Some((s, _)) => Some((s, we)),
                None if we > ws => Some((ws, we)),
                None => None,
            };
            cur_len += next_len;
            if cur_len > content_width.saturating_sub(MIN_FREE_CHARS) {
                if let Some((s, e)) = cur.take() {
                    emit(s, e);
                }
                cur_len = 0;
            }
            continue;
        }
        if let Some((s, e)) = cur.filter(|_| remaining <= MIN_FREE_CHARS) {
            pending = Some((ws, we));
            emit(s, e);
            (cur, cur_len) = (None, 0);
            continue;
        }
        if next_len > content_width {
            let (head, tail) = split_long_word(remaining, next);
            let head_end = ws + head.len();
            match cur {
                None if head.is_empty() => {
                    let first = tail.chars().next().map_or(0, char::len_utf8);
                    emit(ws, ws + first);
                    pending = Some((ws + first, we));
                }
                None => {
                    emit(ws, head_end);
                    pending = Some((head_end, we));
                }
                // The space between the piece and the head is kept, as comfy-table does.
                Some((s, _)) => {
                    emit(s, head_end);
                    pending = Some((head_end, we));
                }
            }
            (cur, cur_len) = (None, 0);
            continue;
        }
        if let Some((s, e)) = cur {
            emit(s, e);
        }
        cur = (we > ws).then_some((ws, we));
        cur_len = next_len;
        if cur_len > content_width.saturating_sub(MIN_FREE_CHARS) {
            if let Some((s, e)) = cur.take() {
                emit(s, e);
            }
            cur_len = 0;
        }
    }
    if let Some((s, e)) = cur {
        emit(s, e);
    }
}

/// comfy-table's `split_long_word`: the longest head of `word` at most `allowed` wide
/// (by grapheme clusters unless the word is printable ASCII), and the rest.
fn split_long_word(allowed: usize, word: &str) -> (&str, &str) {
    if word.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return word.split_at(word.len().min(allowed));
    }
    let mut current = 0;
    let mut at = word.len();
    for (index, g) in word.grapheme_indices(true) {
        let w = g.width();
        if current + w > allowed {
            at = index;
            break;
        }
        current += w;
    }
    word.split_at(at)
}

/// A box-drawing character as its three UTF-8 bytes (every one used here is U+2500..U+257F),
/// so that appending one is a fixed-size copy rather than a call to `memcpy`.
type BoxChar = [u8; 3];

/// The UTF-8 bytes of a box-drawing character.
const fn box_char(c: char) -> BoxChar {
    let c = c as u32;
    [
        0xe0 | (c >> 12) as u8,
        0x80 | ((c >> 6) & 0x3f) as u8,
        0x80 | (c & 0x3f) as u8,
    ]
}

/// The rules of `UTF8_FULL_CONDENSED`: (left, fill, junction, right).
const TOP: [BoxChar; 4] = [box_char('┌'), box_char('─'), box_char('┬'), box_char('┐')];
const HEADER_SEPARATOR: [BoxChar; 4] = [box_char('╞'), box_char('═'), box_char('╪'), box_char('╡')];
const BOTTOM: [BoxChar; 4] = [box_char('└'), box_char('─'), box_char('┴'), box_char('┘')];
/// The characters of rule `kind`: 0 top, 1 under the header, 2 (or more) bottom.
fn rule_chars(kind: u8) -> [BoxChar; 4] {
    match kind {
        0 => TOP,
        1 => HEADER_SEPARATOR,
        _ => BOTTOM,
    }
}
/// Content lines: left border, between cells, right border.
const CONTENT: [BoxChar; 3] = [box_char('│'), box_char('┆'), box_char('│')];

/// Buffers for splitting the cells of one row, reused from row to row.
#[derive(Debug, Default)]
pub struct RowScratch {
    /// The lines of every cell, column after column: (cell, start, end) byte ranges and
    /// their widths.
    pieces: Vec<(usize, usize, usize, usize)>,
    /// For each column, its first piece and how many it has.
    columns: Vec<(usize, usize)>,
    /// A blank content line for `template_widths`: borders, separators and spaces.
    template: Vec<u8>,
    /// Where each column's text starts in `template`.
    starts: Vec<usize>,
    /// The widths `template` was built for.
    template_widths: Vec<usize>,
    /// The border colour `template` was built with.
    template_border: Option<Vec<u8>>,
    /// Lines split before, for lines wider than their column.
    memo: SplitMemo,
    /// Rows drawn before, for [`write_row_cached`].
    shapes: Option<Box<ShapedRows>>,
}

/// Slots of a [`SplitMemo`].
const MEMO_SLOTS: usize = 1024;
/// Longest line a [`SplitMemo`] keeps (longer lines are split every time).
const MEMO_LINE_MAX: usize = 512;

/// The pieces of lines split before, by line and width, in a direct-mapped table: a
/// row not seen before is mostly cells seen before (the meaning of a sequence number is
/// the same from packet to packet while its value changes), and splitting its long
/// cells again was most of the cost of drawing it. Each slot holds one line, compared
/// byte for byte, so the pieces never depend on what the memo holds.
#[derive(Debug, Default)]
struct SplitMemo {
    slots: Vec<MemoSlot>,
}

/// One line, the width it was split at, and its pieces: (start, end, width).
#[derive(Debug, Default)]
struct MemoSlot {
    width: usize,
    line: Vec<u8>,
    pieces: Vec<(u32, u32, u32)>,
}

impl SplitMemo {
    /// Calls `emit` with (start, end, width) of each piece of `line` split at
    /// `content_width` — what [`split_printable`] or [`split_line`] give.
    fn split(
        &mut self,
        line: &str,
        content_width: usize,
        mut emit: impl FnMut(usize, usize, usize),
    ) {
        if line.len() > MEMO_LINE_MAX {
            return split_any(line, content_width, emit);
        }
        if self.slots.is_empty() {
            self.slots.resize_with(MEMO_SLOTS, MemoSlot::default);
        }
        let h = hash_bytes(line.as_bytes())
            ^ (content_width as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let Some(slot) = self.slots.get_mut((h >> 7) as usize % MEMO_SLOTS) else {
            return split_any(line, content_width, emit);
        };
        if slot.width != content_width || slot.line != line.as_bytes() {
            slot.width = content_width;
            slot.line.clear();
            slot.line.extend_from_slice(line.as_bytes());
            slot.pieces.clear();
            let pieces = &mut slot.pieces;
            split_any(line, content_width, |a, b, w| {
                pieces.push((a as u32, b as u32, w as u32));
            });
        }
        for &(a, b, w) in &slot.pieces {
            emit(a as usize, b as usize, w as usize);
        }
    }
}

/// [`split_printable`] for printable ASCII, else [`split_line`]: (start, end, width) of
/// each piece.
fn split_any(line: &str, content_width: usize, mut emit: impl FnMut(usize, usize, usize)) {
    if is_printable_ascii(line) {
        split_printable(line, content_width, |a, b| emit(a, b, b - a));
    } else {
        split_line(line, content_width, |a, b| {
            emit(a, b, width(line.get(a..b).unwrap_or_default()));
        });
    }
}

impl RowScratch {
    /// Builds the blank content line for `widths` unless it is already built.
    fn prepare(&mut self, widths: &[usize], border: Option<&[u8]>) {
        if self.template_widths == widths
            && self.template_border.as_deref() == border
            && !self.template.is_empty()
        {
            return;
        }
        self.template_widths.clear();
        self.template_widths.extend_from_slice(widths);
        self.template_border = border.map(<[u8]>::to_vec);
        self.template.clear();
        self.starts.clear();
        border_char(&mut self.template, &CONTENT[0], border);
        for (i, &w) in widths.iter().enumerate() {
            if i > 0 {
                border_char(&mut self.template, &CONTENT[1], border);
            }
            self.template.push(b' ');
            self.starts.push(self.template.len());
            spaces(&mut self.template, w + PAD);
        }
        border_char(&mut self.template, &CONTENT[2], border);
    }
}

/// Writes a table like comfy-table's `Display` (no newline after the last line):
/// `header` (if not empty) and `rows`, each row `widths.len()` cells long, with the
/// content widths from [`column_widths`], every row drawn anew. [`draw`] draws the same
/// table from a per-thread cache of rows; this is what it falls back on, and what its
/// tests compare it with.
///
/// `border` is an SGR escape (see [`super::color`]) that colours the border characters,
/// each run of them followed by a reset; `None` writes exactly comfy-table's text. Widths
/// never count these escapes.
pub fn write(
    out: &mut Vec<u8>,
    widths: &[usize],
    header: &[&str],
    rows: &[&str],
    border: Option<&[u8]>,
) {
    let mut scratch = RowScratch::default();
    write_start(out, widths, header, &mut scratch, border);
    for row in rows.chunks(widths.len().max(1)) {
        write_row(out, widths, row, &mut scratch, border);
        out.push(b'\n');
    }
    write_end(out, widths, border);
}

/// A fast hash of `bytes`: the flow table's FxHash-style hasher, seeded with the length.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::analysis::flowtable::FlowHasher::seeded(bytes.len() as u64);
    h.write(bytes);
    h.finish()
}

/// [`hash_bytes`] for long keys (a whole table's): four lanes of the same mixing over
/// blocks of 32 bytes, independent of each other so that the processor runs them side by
/// side (one lane waited on a multiplication per word), then the rest as one.
fn hash_wide(bytes: &[u8]) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut lanes = [
        bytes.len() as u64,
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
    ];
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, w) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            *lane = (lane.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
    }
    lanes
        .iter()
        .fold(hash_bytes(blocks.remainder()), |h, &lane| {
            (h.rotate_left(5) ^ lane).wrapping_mul(K)
        })
}

/// Draws a whole table — what [`column_widths`] then [`write`] draw — `ncols` columns
/// wide, with `header` (may be empty) above `rows` (row-major), for a terminal
/// `table_width` columns wide.
///
/// Why a second way: the table format draws four or five tables a packet, and most of
/// their rows repeat rows of the packets before (the same field, value and meaning).
/// Measuring every cell again for the arrangement was a quarter of the table format's
/// instructions (callgrind, `bench/PROFILE.md` section 11). Here each distinct row is
/// measured once: the thread's [`TableCache`] keeps, per row, its cells' widths, the
/// longest piece of each cell once split at the averages the arrangement asked about,
/// and the row as drawn at the widths it was drawn for. A row is found by one hash of
/// its cells and compared byte for byte, so what is drawn never depends on the cache.
///
/// `vary` marks the cells that change from packet to packet while the rest of the row
/// stays: a sequence number's value and bytes under the same name, a meaning that quotes
/// a length (see [`Vary`]). Such a cell that
/// [`shapeable`] admits is looked up by its shape alone — each printable ASCII character
/// but the space taken as `x` — since its width and how it splits into lines depend on
/// nothing else; a row found that way is the kept drawing with each piece of the cell's
/// own text copied over the piece drawn there. The header is looked up as it is.
///
/// Before any row is looked up, the whole table is: by the keys of all its rows, its
/// width, columns and border ([`WholeTables`]). Most of a packet's tables repeat a table
/// drawn before row for row and shape for shape, and then the kept drawing of the whole
/// table, patched the same way, is all there is to do.
pub fn draw(
    out: &mut Vec<u8>,
    ncols: usize,
    vary: Vary<'_>,
    header: &[&str],
    rows: &[&str],
    table_width: usize,
    border: Option<&[u8]>,
) {
    let table = Table {
        ncols,
        vary,
        header,
        rows,
        table_width,
        border,
    };
    TABLES.with_borrow_mut(|cache| cache.draw(out, &table));
}

/// The cells of a table that [`draw`] looks up by their shape.
#[derive(Clone, Copy, Debug, Default)]
pub struct Vary<'a> {
    /// Columns varying in every row: bit `i` for column `i`.
    pub columns: u32,
    /// Columns varying in one row, added to `columns`: bit `i` of the `r`th entry for
    /// column `i` of the `r`th row after the header (rows past its end add none). The
    /// table format marks so the meanings that quote a packet's lengths, and not the
    /// constant ones beside them.
    pub rows: &'a [u32],
}

impl Vary<'_> {
    /// The same `columns` in every row.
    pub fn columns(columns: u32) -> Vary<'static> {
        Vary { columns, rows: &[] }
    }
}

/// What [`draw`] is asked to draw, as its arguments say.
#[derive(Clone, Copy)]
struct Table<'a> {
    ncols: usize,
    vary: Vary<'a>,
    header: &'a [&'a str],
    rows: &'a [&'a str],
    table_width: usize,
    border: Option<&'a [u8]>,
}

/// Bytes the table cache of each thread keeps at most; it is emptied when full.
const TABLE_CACHE_BYTES: usize = 4 << 20;

/// Most columns a cached row has; wider tables are drawn without the cache.
const MAX_COLS: usize = 8;
/// Split lengths remembered per row.
const MEMO_PER_ROW: usize = 6;
/// Drawings (at different widths) kept per row.
const DRAWINGS_PER_ROW: usize = 4;

thread_local! {
    /// The rows this thread has measured and drawn for [`draw`].
    static TABLES: std::cell::RefCell<TableCache> = std::cell::RefCell::default();
}

/// One distinct row of cells, as [`draw`] keeps it. Its bytes live in the cache's arena,
/// so that a new row costs no allocation (most packets bring a few new rows: sequence
/// numbers, checksums, lengths).
#[derive(Clone, Copy, Debug, Default)]
struct RowEntry {
    /// The cells in the arena, each followed by 0xff (which UTF-8 never contains).
    key: (u32, u32),
    /// The widest line of each cell (at least 1).
    widths: [u32; MAX_COLS],
    /// (column, average, longest piece): [`Columns::longest_after_split`] of one cell,
    /// exact; the oldest is replaced when full.
    splits: [(u16, u16, u32); MEMO_PER_ROW],
    nsplits: u8,
    /// (layout, range in the arena): the row drawn in a layout of
    /// [`TableCache::layouts`]; `u32::MAX` marks an empty slot.
    drawings: [(u32, (u32, u32)); DRAWINGS_PER_ROW],
    /// The columns looked up by shape (see [`draw`]), as bits.
    shaped: u32,
    /// For each drawing, its patches: a range of [`TableCache::patches`].
    patches: [(u32, u32); DRAWINGS_PER_ROW],
}

/// Column widths and border colour, with the rules drawn for them.
#[derive(Debug)]
struct Layout {
    widths: Vec<usize>,
    border: Option<Vec<u8>>,
    rules: [Option<(u32, u32)>; 3],
}

/// The cache behind [`draw`]: rows by the hash of their cells, and rules by layout.
#[derive(Debug, Default)]
struct TableCache {
    index: std::collections::HashMap<u64, u32, crate::analysis::flowtable::FlowHashBuilder>,
    entries: Vec<RowEntry>,
    /// The bytes of every entry: keys and drawn rows.
    arena: Vec<u8>,
    /// Layouts seen: column widths and border colour, and the three rules (top, under
    /// the header, bottom) with their newlines, in the arena once drawn.
    layouts: Vec<Layout>,
    /// Where the drawings of rows looked up by shape take their own text: (column, start
    /// and end in the cell, where the piece starts in the drawing).
    patches: Vec<[u32; 4]>,
    /// The entry of each row of the table being drawn, the header first.
    ids: Vec<u32>,
    scratch: RowScratch,
    /// Whole tables drawn before (see [`WholeTables`]).
    whole: WholeTables,
}

/// Bytes the [`WholeTables`] of the threads drawing tables keep at most, together: one
/// thread alone keeps them all, the threads of a drawing pool an even share each (see
/// [`share_table_memory`]); they are emptied when full. (4 MiB emptied them about 200
/// times on `real-200000.pcap`. On one core, 16 MiB drew `real-200000.pcap` in 1.92 s
/// against 1.99 s with 8 MiB, and the generated file in 2.09 against 2.20 s, medians of
/// 9 alternating runs; 2 MiB took 2.15 against 1.95 s, 32 MiB no less than 16.)
const WHOLE_TABLES_BYTES: usize = 16 << 20;

/// Gives this thread's [`WholeTables`] its share of [`WHOLE_TABLES_BYTES`] when
/// `threads` threads draw tables at once (a drawing pool), so that the pool's memory
/// does not grow with its threads.
pub fn share_table_memory(threads: usize) {
    TABLES.with_borrow_mut(|cache| cache.whole.limit = WHOLE_TABLES_BYTES / threads.max(1));
}

/// Whole tables drawn before, by the key of every row (shaped as [`draw`] says) and the
/// width, columns and border: a packet's layer tables mostly have the rows of a table
/// drawn before, in the same order and with the same shapes. A table found here is one
/// hash, one probe, one comparison and one copy, where finding its rows one by one was a
/// hash, a probe, a comparison and a copy per row and the arrangement again.
#[derive(Debug, Default)]
struct WholeTables {
    index: std::collections::HashMap<u64, u32, crate::analysis::flowtable::FlowHashBuilder>,
    /// Per table: its key, its drawing (ranges of `arena`) and its patches (a range of
    /// `patches`).
    tables: Vec<[(u32, u32); 3]>,
    arena: Vec<u8>,
    /// Where a table's drawing takes the text of its shaped cells: (cell, counted in the
    /// rows without the header; start and end of the piece in the cell; where it starts
    /// in the drawing).
    patches: Vec<[u32; 4]>,
    /// The table being looked up: the table's own marks, then each row's key (as
    /// [`shape_key`] makes it), the header first.
    key: Vec<u8>,
    /// Where each row's key ends in `key`, and its shaped columns.
    rows: Vec<(u32, u32)>,
    /// Hashes of tables drawn once and not kept, in [`SEEN_SLOTS`] slots by hash: a table
    /// is kept the second time it is drawn. Why: about a fifth of the tables are new, most
    /// of them never seen again (a TCP header's lengths and options), and keeping each
    /// filled the cache and emptied it, the tables that repeat with it, every few
    /// hundred packets.
    seen: Vec<u64>,
    /// Bytes kept at most, if not [`WHOLE_TABLES_BYTES`] (0).
    limit: usize,
}

/// Slots of [`WholeTables::seen`].
const SEEN_SLOTS: usize = 4096;

/// Whether two layouts' column widths are equal, element by element: a handful of
/// numbers, where slice equality called `memcmp` once per layout searched.
fn same_widths(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The bytes of `range` in `arena`.
fn arena_get(arena: &[u8], (a, b): (u32, u32)) -> &[u8] {
    arena.get(a as usize..b as usize).unwrap_or_default()
}

/// Whether a cell may be looked up by its shape (see [`draw`]): each line printable
/// ASCII or characters one column wide wherever they stand (see [`narrow_width`]). In its
/// shape, only printable ASCII other than the space becomes `x`: widths, the places of
/// spaces and newlines, and the other characters stay, and so do the lines' pieces, the
/// narrow characters being each a grapheme of its own. [`push_row_key`] asks the first
/// half (printable ASCII and newlines) as it shapes the cell ([`shape_ascii_lines`]),
/// and this only of the others.
fn shapeable(cell: &str) -> bool {
    cell.split('\n').all(|l| narrow_width(l).is_some())
}

/// Whether `b` may stand in a cell of printable ASCII lines: printable ASCII (the space
/// among it) or a newline. Written without `||` so that the passes using it run many
/// bytes at a time.
#[inline]
fn ascii_line_byte(b: u8) -> bool {
    (b.wrapping_sub(0x20) < 0x5f) | (b == b'\n')
}

/// A byte of a shapeable cell as its shape has it: printable ASCII other than the space
/// becomes `x`, any other byte stays. A select, not a branch, for the same reason.
#[inline]
fn shape_byte(b: u8) -> u8 {
    let printable = b.wrapping_sub(b'!') <= b'~' - b'!';
    if printable { b'x' } else { b }
}

/// Shapes `piece` in place as [`shape_byte`] does and says whether it was printable
/// ASCII and newlines, in one pass of selects.
#[inline]
fn shape_ascii_lines(piece: &mut [u8]) -> bool {
    let mut ok = true;
    for b in piece.iter_mut() {
        ok &= ascii_line_byte(*b);
        *b = shape_byte(*b);
    }
    ok
}

/// Appends `bytes` to `arena` and returns their range.
fn keep(arena: &mut Vec<u8>, bytes: &[u8]) -> (u32, u32) {
    let a = arena.len();
    arena.extend_from_slice(bytes);
    (a as u32, arena.len() as u32)
}

/// Makes `key` the key of the row `cells`: each cell followed by 0xff (which UTF-8 never
/// contains), the cells of columns in `vary` by their shape where [`shapeable`], and the
/// marks first (the drawings of an entry are patched by them). Returns the columns
/// shaped, as bits.
fn shape_key(key: &mut Vec<u8>, cells: &[&str], vary: u32) -> u32 {
    key.clear();
    push_row_key(key, cells, vary)
}

/// [`shape_key`], appended to what `key` holds.
fn push_row_key(key: &mut Vec<u8>, cells: &[&str], vary: u32) -> u32 {
    key.extend_from_slice(&vary.to_le_bytes());
    let mut shaped = 0u32;
    for (i, c) in cells.iter().enumerate() {
        let at = key.len();
        crate::text::append(key, c.as_bytes());
        if i < 32 && vary & (1 << i) != 0 {
            // Shaped as it is checked, in one pass (the check for printable ASCII and the
            // shape were two passes over the cell's bytes, the larger part of making a
            // key: 526.7 M → 517.0 M instructions on 5 000 real packets, callgrind).
            let piece = key.get_mut(at..).unwrap_or_default();
            if shape_ascii_lines(piece) || shapeable(c) {
                shaped |= 1 << i;
            } else {
                // Not shapeable: the cell as it is.
                piece.copy_from_slice(c.as_bytes());
            }
        }
        key.push(0xff);
    }
    shaped
}

/// Appends `drawing`, a row drawn from cells of the same shape as `cells`, with each of
/// `patches` ([`write_row_placed`]'s) filled from `cells`.
fn write_patched(out: &mut Vec<u8>, drawing: &[u8], patches: Option<&[[u32; 4]]>, cells: &[&str]) {
    let start = out.len();
    out.extend_from_slice(drawing);
    for &[col, a, b, at] in patches.unwrap_or_default() {
        let text = cells.get(col as usize).map_or(&[][..], |c| c.as_bytes());
        let at = start + at as usize;
        if let (Some(piece), Some(slot)) = (
            text.get(a as usize..b as usize),
            out.get_mut(at..at + (b - a) as usize),
        ) {
            crate::text::copy_short(slot, piece);
        }
    }
}

/// Draws row `cells` into `out` ([`write_row`]) and keeps the drawing in `arena` and the
/// patches of its `shaped` columns in `patches`; returns the two ranges.
#[allow(clippy::too_many_arguments)]
fn draw_kept(
    out: &mut Vec<u8>,
    widths: &[usize],
    cells: &[&str],
    scratch: &mut RowScratch,
    border: Option<&[u8]>,
    shaped: u32,
    arena: &mut Vec<u8>,
    patches: &mut Vec<[u32; 4]>,
) -> ((u32, u32), (u32, u32)) {
    let start = out.len();
    let p0 = patches.len() as u32;
    write_row_placed(out, widths, cells, scratch, border, Some((shaped, patches)));
    let drawing = keep(arena, out.get(start..).unwrap_or_default());
    (drawing, (p0, patches.len() as u32))
}

/// Bytes the [`ShapedRows`] of a [`RowScratch`] keep at most; emptied when full.
const SHAPED_ROWS_BYTES: usize = 2 << 20;

/// Rows of one long table at fixed widths, drawn before, by the shape of every cell (see
/// [`draw`]): what [`write_row_cached`] draws from. The conversations of `wirelens
/// flows` are a table of hundreds of thousands of rows whose cells, at a terminal's
/// width, split into many short pieces; most rows have the shape of a row before.
#[derive(Debug, Default)]
struct ShapedRows {
    widths: Vec<usize>,
    border: Option<Vec<u8>>,
    index: std::collections::HashMap<u64, u32, crate::analysis::flowtable::FlowHashBuilder>,
    /// Per row: its key, its drawing and its patches (ranges of `arena` and `patches`).
    rows: Vec<[(u32, u32); 3]>,
    arena: Vec<u8>,
    patches: Vec<[u32; 4]>,
    key: Vec<u8>,
}

/// [`write_row`], from the rows of the same shape `scratch` drew before at these widths
/// (see [`draw`]): the same bytes. When the cells are also given `joined`, one after the
/// other with each pair separated by the byte `sep` (a control character no cell
/// contains), the row's key is made in one pass over the joined row if every cell is
/// printable ASCII and newlines (what [`shape_key`] makes cell by cell, per cell the
/// larger part of drawing a row of `wirelens flows`).
pub fn write_row_cached(
    out: &mut Vec<u8>,
    widths: &[usize],
    cells: &[&str],
    joined: Option<(&str, u8)>,
    scratch: &mut RowScratch,
    border: Option<&[u8]>,
) {
    let mut shapes = scratch.shapes.take().unwrap_or_default();
    shapes.write_row(out, widths, cells, joined, scratch, border);
    scratch.shapes = Some(shapes);
}

/// [`shape_key`] of the `ncols` cells of `row` (each pair separated by `sep`), every
/// column varying, made in one pass: the same bytes, if every byte of `row` is printable
/// ASCII, a newline or `sep` and `row` has `ncols` cells (then every cell is shaped, and
/// the columns are returned as bits); otherwise `None`, with `key` to be made again.
fn joined_key(key: &mut Vec<u8>, row: &[u8], sep: u8, ncols: usize) -> Option<u32> {
    if ncols == 0 || ncols > 32 || (0x20..0x7f).contains(&sep) || sep == b'\n' {
        return None;
    }
    key.clear();
    key.extend_from_slice(&u32::MAX.to_le_bytes());
    let at = key.len();
    key.extend_from_slice(row);
    // Three passes of selects, not branches, so that each runs many bytes at a time.
    let ok = row
        .iter()
        .fold(true, |ok, &b| ok & (ascii_line_byte(b) | (b == sep)));
    // Counted in bytes, 255 at most a run, so that the compiler compares 16 bytes an
    // instruction (counting into a `usize` widened every byte: 4 instructions a byte,
    // a quarter of drawing `flows`' rows, callgrind).
    let seps: usize = row
        .chunks(255)
        .map(|run| usize::from(run.iter().fold(0u8, |n, &b| n + u8::from(b == sep))))
        .sum();
    for b in key.get_mut(at..).unwrap_or_default() {
        *b = if *b == sep { 0xff } else { shape_byte(*b) };
    }
    key.push(0xff);
    (ok && seps + 1 == ncols).then(|| u32::MAX >> (32 - ncols))
}

impl ShapedRows {
    fn write_row(
        &mut self,
        out: &mut Vec<u8>,
        widths: &[usize],
        cells: &[&str],
        joined: Option<(&str, u8)>,
        scratch: &mut RowScratch,
        border: Option<&[u8]>,
    ) {
        if !same_widths(&self.widths, widths)
            || self.border.as_deref() != border
            || self.arena.len() + self.patches.len() * std::mem::size_of::<[u32; 4]>()
                > SHAPED_ROWS_BYTES
        {
            self.widths.clear();
            self.widths.extend_from_slice(widths);
            self.border = border.map(<[u8]>::to_vec);
            self.index.clear();
            self.rows.clear();
            self.arena.clear();
            self.patches.clear();
        }
        let quick = joined
            .and_then(|(row, sep)| joined_key(&mut self.key, row.as_bytes(), sep, cells.len()));
        let shaped = match quick {
            Some(shaped) => shaped,
            None => shape_key(&mut self.key, cells, u32::MAX),
        };
        let hash = hash_bytes(&self.key);
        if let Some(&id) = self.index.get(&hash)
            && let Some(&[k, d, (p0, p1)]) = self.rows.get(id as usize)
            && arena_get(&self.arena, k) == self.key.as_slice()
        {
            let patches = self.patches.get(p0 as usize..p1 as usize);
            write_patched(out, arena_get(&self.arena, d), patches, cells);
            return;
        }
        let k = keep(&mut self.arena, &self.key);
        let (d, p) = draw_kept(
            out,
            widths,
            cells,
            scratch,
            border,
            shaped,
            &mut self.arena,
            &mut self.patches,
        );
        self.index.insert(hash, self.rows.len() as u32);
        self.rows.push([k, d, p]);
    }
}

impl TableCache {
    fn draw(&mut self, out: &mut Vec<u8>, table: &Table<'_>) {
        let Table {
            header,
            rows,
            table_width,
            border,
            ..
        } = *table;
        let ncols = table.ncols.max(1);
        if ncols > MAX_COLS {
            let mut cells = header.to_vec();
            cells.extend_from_slice(rows);
            let widths = column_widths(&cells, ncols, table_width);
            return write(out, &widths, header, rows, border);
        }
        if self.arena.len()
            + self.entries.len() * std::mem::size_of::<RowEntry>()
            + self.patches.len() * std::mem::size_of::<[u32; 4]>()
            > TABLE_CACHE_BYTES
            || self.layouts.len() > 256
        {
            self.index.clear();
            self.entries.clear();
            self.arena.clear();
            self.patches.clear();
            self.layouts.clear();
        }
        let table_start = out.len();
        let hash = self.whole.make_key(&Table { ncols, ..*table });
        if self.whole.write(out, hash, rows) {
            return;
        }
        self.ids.clear();
        let mut from = self.whole.rows.first().map_or(0, |r| r.0 as usize);
        let (table_key, key_rows) = (
            std::mem::take(&mut self.whole.key),
            std::mem::take(&mut self.whole.rows),
        );
        let all_rows = header.chunks(ncols).chain(rows.chunks(ncols));
        for (&(end, shaped), row) in key_rows.iter().skip(1).zip(all_rows) {
            let key = table_key.get(from..end as usize).unwrap_or_default();
            let id = self.find(key, shaped, row);
            self.ids.push(id);
            from = end as usize;
        }
        (self.whole.key, self.whole.rows) = (table_key, key_rows);
        let widths = {
            let mut cols = CachedColumns {
                entries: &mut self.entries,
                ids: &self.ids,
                header,
                rows,
                ncols,
            };
            arrange(&mut cols, table_width)
        };
        let layout = self.layout(&widths, border);
        self.rule(out, layout, 0);
        let ids = std::mem::take(&mut self.ids);
        let cells = header.chunks(ncols).chain(rows.chunks(ncols));
        let header_rows = header.len().div_ceil(ncols);
        let p0 = self.whole.patches.len() as u32;
        for (i, (&id, row)) in ids.iter().zip(cells).enumerate() {
            let row_start = out.len() - table_start;
            let (a, b) = self.write_row(out, id, layout, row);
            // The row's patches, for the whole table: by cell of `rows` and place in it.
            let first_cell = i.saturating_sub(header_rows) * ncols;
            for &[col, a, b, at] in self.patches.get(a as usize..b as usize).unwrap_or_default() {
                self.whole
                    .patches
                    .push([first_cell as u32 + col, a, b, row_start as u32 + at]);
            }
            out.push(b'\n');
            if i == 0 && !header.is_empty() {
                self.rule(out, layout, 1);
            }
        }
        self.ids = ids;
        self.rule(out, layout, 2);
        // comfy-table joins lines with "\n": no newline after the bottom rule.
        out.pop();
        self.whole
            .keep(hash, out.get(table_start..).unwrap_or_default(), p0);
    }

    /// The number of the layout (`widths`, `border`), added if new. Searched from the
    /// newest: a packet's tables usually repeat the layouts of the packets just before.
    fn layout(&mut self, widths: &[usize], border: Option<&[u8]>) -> u32 {
        if let Some(i) = self
            .layouts
            .iter()
            .rposition(|l| same_widths(&l.widths, widths) && l.border.as_deref() == border)
        {
            return i as u32;
        }
        self.layouts.push(Layout {
            widths: widths.to_vec(),
            border: border.map(<[u8]>::to_vec),
            rules: [None; 3],
        });
        (self.layouts.len() - 1) as u32
    }

    /// The entry of the row `cells`, whose key ([`shape_key`]'s) is `key` and whose
    /// columns `shaped` were shaped in it; made (its cells measured) if it is new.
    fn find(&mut self, key: &[u8], shaped: u32, cells: &[&str]) -> u32 {
        let hash = hash_bytes(key);
        if let Some(&id) = self.index.get(&hash)
            && self
                .entries
                .get(id as usize)
                .is_some_and(|e| arena_get(&self.arena, e.key) == key)
        {
            return id;
        }
        let mut e = RowEntry {
            key: keep(&mut self.arena, key),
            drawings: [(u32::MAX, (0, 0)); DRAWINGS_PER_ROW],
            shaped,
            ..RowEntry::default()
        };
        for (w, c) in e.widths.iter_mut().zip(cells) {
            *w = cell_width(c).min(u32::MAX as usize) as u32;
        }
        let id = self.entries.len() as u32;
        self.entries.push(e);
        self.index.insert(hash, id);
        id
    }

    /// Writes row `cells` (entry `id`) in `layout`, drawn before or now.
    ///
    /// Returns the row's patches: a range of [`TableCache::patches`].
    fn write_row(&mut self, out: &mut Vec<u8>, id: u32, layout: u32, cells: &[&str]) -> (u32, u32) {
        let Some(Layout { widths, border, .. }) = self.layouts.get(layout as usize) else {
            return (0, 0);
        };
        let Some(entry) = self.entries.get_mut(id as usize) else {
            write_row(out, widths, cells, &mut self.scratch, border.as_deref());
            return (0, 0);
        };
        if let Some(k) = entry.drawings.iter().position(|(l, _)| *l == layout) {
            let (range, (p0, p1)) = (entry.drawings[k].1, entry.patches[k]);
            let patches = self.patches.get(p0 as usize..p1 as usize);
            write_patched(out, arena_get(&self.arena, range), patches, cells);
            return (p0, p1);
        }
        let (range, patches) = draw_kept(
            out,
            widths,
            cells,
            &mut self.scratch,
            border.as_deref(),
            entry.shaped,
            &mut self.arena,
            &mut self.patches,
        );
        entry.drawings.rotate_right(1);
        entry.drawings[0] = (layout, range);
        entry.patches.rotate_right(1);
        entry.patches[0] = patches;
        patches
    }

    /// A rule and its newline — `kind` 0 top, 1 under the header, 2 bottom.
    fn rule(&mut self, out: &mut Vec<u8>, layout: u32, kind: u8) {
        let Some(l) = self.layouts.get_mut(layout as usize) else {
            return;
        };
        let slot = usize::from(kind.min(2));
        if let Some(range) = l.rules[slot] {
            out.extend_from_slice(arena_get(&self.arena, range));
            return;
        }
        let start = out.len();
        rule(out, &l.widths, rule_chars(kind), l.border.as_deref());
        l.rules[slot] = Some(keep(&mut self.arena, out.get(start..).unwrap_or_default()));
    }
}

impl WholeTables {
    /// Makes the key of `table` (its columns as [`TableCache::draw`] settled them) and
    /// returns its hash; [`WholeTables::rows`] then says where each row's key
    /// ends.
    fn make_key(&mut self, table: &Table<'_>) -> u64 {
        let Table {
            ncols,
            vary,
            header,
            rows,
            table_width,
            border,
        } = *table;
        let key = &mut self.key;
        key.clear();
        self.rows.clear();
        key.extend_from_slice(&(ncols as u64).to_le_bytes());
        key.extend_from_slice(&(table_width as u64).to_le_bytes());
        key.extend_from_slice(&(header.len() as u64).to_le_bytes());
        match border {
            Some(b) => {
                key.extend_from_slice(&(b.len() as u64).to_le_bytes());
                key.extend_from_slice(b);
            }
            None => key.extend_from_slice(&u64::MAX.to_le_bytes()),
        }
        self.rows.push((key.len() as u32, 0));
        for row in header.chunks(ncols) {
            let shaped = push_row_key(key, row, 0);
            self.rows.push((key.len() as u32, shaped));
        }
        // Bits past the table's columns would make keys differ for nothing.
        let all = (1u32 << ncols) - 1;
        for (i, row) in rows.chunks(ncols).enumerate() {
            let more = vary.rows.get(i).copied().unwrap_or(0);
            let shaped = push_row_key(key, row, (vary.columns | more) & all);
            self.rows.push((key.len() as u32, shaped));
        }
        hash_wide(key)
    }

    /// Writes the table of [`WholeTables::key`] (hash `hash`, rows `rows`) if it was kept;
    /// returns whether it was.
    fn write(&self, out: &mut Vec<u8>, hash: u64, rows: &[&str]) -> bool {
        let Some(&id) = self.index.get(&hash) else {
            return false;
        };
        let Some(&[k, d, (p0, p1)]) = self.tables.get(id as usize) else {
            return false;
        };
        if arena_get(&self.arena, k) != self.key.as_slice() {
            return false;
        }
        write_patched(
            out,
            arena_get(&self.arena, d),
            self.patches.get(p0 as usize..p1 as usize),
            rows,
        );
        true
    }

    /// Keeps `drawing`, the table of [`WholeTables::key`] (hash `hash`), with its patches
    /// from `p0` on, if it was drawn before (see [`WholeTables::seen`]); empties the
    /// tables first when they hold too much.
    fn keep(&mut self, hash: u64, drawing: &[u8], p0: u32) {
        let mut p0 = p0 as usize;
        if self.seen.is_empty() {
            self.seen.resize(SEEN_SLOTS, 0);
        }
        if let Some(seen) = self.seen.get_mut((hash >> 40) as usize % SEEN_SLOTS)
            && *seen != hash
        {
            // Drawn for the first time (as far as the slot knows): not kept yet.
            *seen = hash;
            self.patches.truncate(p0);
            return;
        }
        let size = |t: &WholeTables| {
            t.arena.len()
                + t.key.len()
                + drawing.len()
                + t.patches.len() * std::mem::size_of::<[u32; 4]>()
                + t.tables.len() * std::mem::size_of::<[(u32, u32); 3]>()
        };
        let limit = match self.limit {
            0 => WHOLE_TABLES_BYTES,
            l => l,
        };
        if size(self) > limit {
            self.index.clear();
            self.tables.clear();
            self.arena.clear();
            // The new table's patches move to the start.
            let n = self.patches.len().saturating_sub(p0);
            self.patches.copy_within(p0.., 0);
            self.patches.truncate(n);
            p0 = 0;
            if size(self) > limit {
                // A table bigger than the whole cache is not kept.
                self.patches.clear();
                return;
            }
        }
        let k = keep(&mut self.arena, &self.key);
        let d = keep(&mut self.arena, drawing);
        self.index.insert(hash, self.tables.len() as u32);
        self.tables
            .push([k, d, (p0 as u32, self.patches.len() as u32)]);
    }
}

/// The columns of the table [`TableCache::draw`] is drawing, read from its row entries.
struct CachedColumns<'a> {
    entries: &'a mut Vec<RowEntry>,
    /// Each row's entry, the header first.
    ids: &'a [u32],
    header: &'a [&'a str],
    rows: &'a [&'a str],
    ncols: usize,
}

impl Columns for CachedColumns<'_> {
    fn max_widths(&mut self) -> Vec<usize> {
        let mut max = [0u32; MAX_COLS];
        for &id in self.ids {
            if let Some(e) = self.entries.get(id as usize) {
                for (m, w) in max.iter_mut().zip(e.widths) {
                    *m = (*m).max(w);
                }
            }
        }
        max.iter().take(self.ncols).map(|&m| m as usize).collect()
    }

    fn longest_after_split(&mut self, col: usize, average: usize, limit: usize) -> usize {
        let cells = self
            .header
            .chunks(self.ncols)
            .chain(self.rows.chunks(self.ncols));
        // Averages past u16 are not remembered (no terminal is that wide).
        let key = (u16::try_from(col).ok(), u16::try_from(average).ok());
        let mut longest = 0;
        for (&id, row) in self.ids.iter().zip(cells) {
            if longest > limit {
                break;
            }
            let Some(e) = self.entries.get_mut(id as usize) else {
                continue;
            };
            let known = match key {
                (Some(c), Some(a)) => e
                    .splits
                    .iter()
                    .take(usize::from(e.nsplits))
                    .find(|s| s.0 == c && s.1 == a)
                    .map(|s| s.2 as usize),
                _ => None,
            };
            let l = match known {
                Some(l) => l,
                None => {
                    let cell = row.get(col).copied().unwrap_or_default();
                    let l = longest_after_split(lines(cell), average, usize::MAX);
                    if let (Some(c), Some(a)) = key {
                        let slot = usize::from(e.nsplits).min(MEMO_PER_ROW - 1);
                        e.splits.copy_within(..slot, 1);
                        e.splits[0] = (c, a, l.min(u32::MAX as usize) as u32);
                        e.nsplits = (e.nsplits + 1).min(MEMO_PER_ROW as u8);
                    }
                    l
                }
            };
            longest = longest.max(l);
        }
        longest
    }
}

/// The top of a table: its top rule and, if `header` is not empty, the header and the
/// rule under it; each line ends with a newline. `border` as in [`write`].
pub fn write_start(
    out: &mut Vec<u8>,
    widths: &[usize],
    header: &[&str],
    scratch: &mut RowScratch,
    border: Option<&[u8]>,
) {
    rule(out, widths, TOP, border);
    if !header.is_empty() {
        write_row(out, widths, header, scratch, border);
        out.push(b'\n');
        rule(out, widths, HEADER_SEPARATOR, border);
    }
}

/// The bottom rule of a table, without a newline (comfy-table joins lines with "\n").
/// `border` as in [`write`].
pub fn write_end(out: &mut Vec<u8>, widths: &[usize], border: Option<&[u8]>) {
    rule(out, widths, BOTTOM, border);
    out.pop();
}

/// A border character, in colour `border` when there is one.
fn border_char(out: &mut Vec<u8>, c: &BoxChar, border: Option<&[u8]>) {
    match border {
        None => out.extend_from_slice(c),
        Some(sgr) => super::color::paint(out, Some(sgr), c),
    }
}

/// One horizontal rule and its newline; a coloured rule is one run, reset before the
/// newline.
fn rule(out: &mut Vec<u8>, widths: &[usize], chars: [BoxChar; 4], border: Option<&[u8]>) {
    if let Some(sgr) = border {
        out.extend_from_slice(sgr);
    }
    out.extend_from_slice(&chars[0]);
    for (i, w) in widths.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&chars[2]);
        }
        fill(out, chars[1], w + 2 * PAD);
    }
    out.extend_from_slice(&chars[3]);
    if border.is_some() {
        out.extend_from_slice(super::color::RESET);
    }
    out.push(b'\n');
}

/// Appends `n` copies of `c`, doubling what is already written rather than copying
/// three bytes at a time.
fn fill(out: &mut Vec<u8>, c: BoxChar, n: usize) {
    if n == 0 {
        return;
    }
    let start = out.len();
    let end = start + 3 * n;
    out.extend_from_slice(&c);
    while out.len() < end {
        let have = out.len() - start;
        out.extend_from_within(start..start + have.min(end - out.len()));
    }
}

/// The lines of one row (no newline after the last), each cell split to its width.
/// `border` as in [`write`].
pub fn write_row(
    out: &mut Vec<u8>,
    widths: &[usize],
    cells: &[&str],
    scratch: &mut RowScratch,
    border: Option<&[u8]>,
) {
    write_row_placed(out, widths, cells, scratch, border, None);
}

/// [`write_row`]; with `patches` = (columns, list), also adds to the list, for each piece
/// of a cell in one of the columns (bit `i` for column `i`), [column, start and end of
/// the piece in the cell, where it starts in what this call wrote].
fn write_row_placed(
    out: &mut Vec<u8>,
    widths: &[usize],
    cells: &[&str],
    scratch: &mut RowScratch,
    border: Option<&[u8]>,
    mut patches: Option<(u32, &mut Vec<[u32; 4]>)>,
) {
    let row_start = out.len();
    scratch.prepare(widths, border);
    let RowScratch {
        pieces,
        columns,
        template,
        starts,
        memo,
        ..
    } = scratch;
    pieces.clear();
    columns.clear();
    for (i, w) in widths.iter().enumerate() {
        let first = pieces.len();
        if let Some(cell) = cells.get(i) {
            let mut start = 0;
            for line in lines(cell) {
                let printable = is_printable_ascii(line);
                let lw = if printable { line.len() } else { width(line) };
                if lw > *w {
                    memo.split(line, *w, |a, b, pw| {
                        pieces.push((i, start + a, start + b, pw));
                    });
                } else {
                    pieces.push((i, start, start + line.len(), lw));
                }
                start += line.len() + 1;
            }
        }
        columns.push((first, pieces.len() - first));
    }
    let height = columns.iter().map(|c| c.1).max().unwrap_or(0);
    let piece_of = |col: usize, l: usize| -> Option<(&[u8], usize, usize)> {
        let &(first, count) = columns.get(col)?;
        if l >= count {
            return None;
        }
        let &(c, a, b, pw) = pieces.get(first + l)?;
        Some((cells.get(c)?.as_bytes().get(a..b)?, pw, a))
    };
    // Notes where a piece of column `i` starting at `a` in its cell was put.
    let mut note = |i: usize, a: usize, len: usize, at: usize| {
        if let Some((cols, list)) = patches.as_mut()
            && i < 32
            && *cols & (1 << i) != 0
        {
            list.push([i, a, a + len, at - row_start].map(|n| n as u32));
        }
    };
    out.reserve(height * (template.len() + 1));
    for l in 0..height {
        if l > 0 {
            out.push(b'\n');
        }
        // Most lines are text as wide as it is long (ASCII): copy the blank line and
        // drop each piece into place. Otherwise, build the line piece by piece.
        let narrow = widths
            .iter()
            .enumerate()
            .all(|(i, &w)| piece_of(i, l).is_none_or(|(t, pw, _)| t.len() == pw && pw <= w));
        if narrow {
            let base = out.len();
            out.extend_from_slice(template);
            for (i, &start) in starts.iter().enumerate() {
                if let Some((text, _, a)) = piece_of(i, l)
                    && let Some(slot) = out.get_mut(base + start..base + start + text.len())
                {
                    slot.copy_from_slice(text);
                    note(i, a, text.len(), base + start);
                }
            }
            continue;
        }
        border_char(out, &CONTENT[0], border);
        for (i, &w) in widths.iter().enumerate() {
            if i > 0 {
                border_char(out, &CONTENT[1], border);
            }
            match piece_of(i, l) {
                Some((text, pw, a)) => {
                    out.push(b' ');
                    note(i, a, text.len(), out.len());
                    out.extend_from_slice(text);
                    spaces(out, w.saturating_sub(pw) + PAD);
                }
                // A cell with fewer lines than the row (or a missing cell) is blank.
                None => spaces(out, w + 2 * PAD),
            }
        }
        border_char(out, &CONTENT[2], border);
    }
}

/// The lines of a cell: split at newlines, without searching when there are none.
fn lines(cell: &str) -> impl Iterator<Item = &str> {
    let multi = cell.len() > 8 && cell.as_bytes().contains(&b'\n')
        || cell.len() <= 8 && cell.bytes().any(|b| b == b'\n');
    let (one, many) = if multi {
        (None, Some(cell.split('\n')))
    } else {
        (Some(cell), None)
    };
    one.into_iter().chain(many.into_iter().flatten())
}

/// Appends `n` spaces.
fn spaces(out: &mut Vec<u8>, n: usize) {
    const SPACES: [u8; 64] = [b' '; 64];
    match SPACES.get(..n) {
        Some(s) => out.extend_from_slice(s),
        None => out.resize(out.len() + n, b' '),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight bytes at a time, the same answer as byte by byte, for every byte value at
    /// every position and for random cells of every length.
    #[test]
    fn ascii_and_spaces_matches_a_byte_loop() {
        let by_byte = |cell: &[u8]| {
            let printable = cell.iter().all(|b| b.wrapping_sub(b' ') < 0x5f);
            let spaces = cell
                .iter()
                .enumerate()
                .fold(0u64, |m, (i, &b)| m | u64::from(b == b' ') << i);
            (printable, spaces)
        };
        for len in 1..=SPACE_MASK_LEN {
            for at in [0, len / 2, len - 1] {
                for b in 0..=255u8 {
                    let mut cell = vec![b'a'; len];
                    cell[at] = b;
                    assert_eq!(ascii_and_spaces(&cell), by_byte(&cell), "{cell:?}");
                }
            }
        }
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let len = (rng % 65) as usize;
            let cell: Vec<u8> = (0..len)
                .map(|i| [b' ', b'x', 0x1f, 0x7f, 0x80, b'~', 0][((rng >> (i % 60)) % 7) as usize])
                .collect();
            assert_eq!(ascii_and_spaces(&cell), by_byte(&cell), "{cell:?}");
        }
    }
    use comfy_table::{ContentArrangement, Table};

    fn comfy(width: u16, header: &[&str], rows: &[Vec<&str>]) -> String {
        let mut t = Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
            .force_no_tty()
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(width);
        if !header.is_empty() {
            t.set_header(header.to_vec());
        }
        for r in rows {
            t.add_row(r.clone());
        }
        t.to_string()
    }

    fn ours(width: u16, header: &[&str], rows: &[Vec<&str>]) -> String {
        let ncols = header.len().max(rows.first().map_or(0, Vec::len));
        let mut cells: Vec<&str> = header.to_vec();
        for r in rows {
            cells.extend(r.iter().copied());
        }
        let widths = column_widths(&cells, ncols, usize::from(width));
        let flat: Vec<&str> = rows.iter().flatten().copied().collect();
        let mut out = Vec::new();
        write(&mut out, &widths, header, &flat, None);
        String::from_utf8(out).unwrap_or_default()
    }

    const WORDS: &[&str] = &[
        "a",
        "TCP",
        "0x0800",
        "ephemeral",
        "port:",
        "picked",
        "by",
        "the",
        "client's",
        "OS",
        "→",
        "…",
        "bytes 14–33",
        "0100 ....",
        ".1.. .... .... ....",
        "every-host-on-the-subnet-receives-it",
        "averyveryverylongwordwithoutanyspacesatallthatmustbesplit",
        "ünïcödé-wörd-thät-is-löng-énough-to-split",
        "██████·····",
        "",
        "x",
        "12345678901234567890",
    ];

    /// A xorshift generator from `seed`: `next(n)` is below `n`.
    use crate::testing::rng;

    /// A joined row's key, made in one pass, is [`shape_key`]'s for its cells whenever
    /// the one pass gives one, and it gives one for every row of printable ASCII and
    /// newlines with the right number of cells.
    #[test]
    fn joined_key_is_shape_key_of_the_cells() {
        let mut next = rng(0x0bad_cafe_f00d_1234);
        let alphabet: &[u8] = b"ab 09:[].\n\x1f\x1e\x7f~!";
        let (mut quick, mut slow) = (Vec::new(), Vec::new());
        let mut made = 0;
        for _ in 0..20_000 {
            let mut row = String::new();
            for _ in 0..next(40) {
                match next(50) {
                    0 => row.push('é'),
                    1 => row.push('\u{1}'),
                    _ => row.push(char::from(alphabet[next(alphabet.len() as u64) as usize])),
                }
            }
            let cells: Vec<&str> = row.split('\x1f').collect();
            let ncols = match next(4) {
                0 => 1 + next(8) as usize,
                _ => cells.len(),
            };
            let plain = row
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) || b == b'\n' || b == 0x1f);
            match joined_key(&mut quick, row.as_bytes(), 0x1f, ncols) {
                Some(shaped) => {
                    made += 1;
                    assert_eq!(cells.len(), ncols, "{row:?}");
                    assert_eq!(shaped, shape_key(&mut slow, &cells, u32::MAX), "{row:?}");
                    assert_eq!(quick, slow, "{row:?}");
                }
                None => assert!(!plain || cells.len() != ncols, "{row:?}"),
            }
        }
        assert!(made > 1_000, "only {made} rows had a quick key");
    }

    #[test]
    fn matches_comfy_table_on_random_tables() {
        let mut next = rng(0x1234_5678_9abc_def1);
        for case in 0..3_000 {
            let ncols = 1 + next(6) as usize;
            let nrows = next(7) as usize;
            let width = 8 + next(160) as u16;
            let mut texts: Vec<String> = Vec::new();
            for _ in 0..(ncols * (nrows + 1)) {
                let nwords = next(9);
                let mut s = String::new();
                for w in 0..nwords {
                    if w > 0 {
                        s.push(if next(10) == 0 { '\n' } else { ' ' });
                    }
                    s.push_str(WORDS[next(WORDS.len() as u64) as usize]);
                }
                texts.push(s);
            }
            let header: Vec<&str> = if next(4) == 0 {
                Vec::new()
            } else {
                texts[..ncols].iter().map(String::as_str).collect()
            };
            let rows: Vec<Vec<&str>> = texts[ncols..]
                .chunks(ncols)
                .map(|r| r.iter().map(String::as_str).collect())
                .collect();
            if header.is_empty() && rows.is_empty() {
                continue;
            }
            assert_eq!(
                ours(width, &header, &rows),
                comfy(width, &header, &rows),
                "case {case}: width {width}, header {header:?}, rows {rows:?}"
            );
        }
    }

    #[test]
    fn word_lengths_predict_the_longest_piece() {
        let mut next = rng(0x0dd_ba11);
        for _ in 0..20_000 {
            let mut line = String::new();
            for _ in 0..next(12) {
                for _ in 0..next(14) {
                    line.push(char::from(b'a' + next(26) as u8));
                }
                line.push(' ');
            }
            if next(2) == 0 {
                line.pop();
            }
            for w in 1..30 {
                let (mut want, mut got) = (Vec::new(), Vec::new());
                split_line(&line, w, |a, b| want.push((a, b)));
                split_printable(&line, w, |a, b| got.push((a, b)));
                assert_eq!(got, want, "{line:?} at {w}");
                let longest = want.iter().map(|(a, b)| b - a).max().unwrap_or(0);
                assert_eq!(longest_piece_printable(&line, w), longest);
            }
        }
    }

    /// The memo gives the pieces splitting gives, for lines seen again, lines evicted by
    /// others in their slot, non-ASCII lines and lines too long to keep.
    #[test]
    fn split_memo_gives_what_splitting_gives() {
        let mut next = rng(0x5eed_cafe);
        let mut lines = Vec::new();
        for _ in 0..3_000 {
            let mut line = String::new();
            for _ in 0..next(40) {
                for _ in 0..next(14) {
                    line.push(match next(30) {
                        0 => '→',
                        1 => '日',
                        n => char::from(b'a' + (n % 26) as u8),
                    });
                }
                line.push(' ');
            }
            lines.push(line);
        }
        lines.push("x".repeat(MEMO_LINE_MAX + 1));
        let mut memo = SplitMemo::default();
        for _ in 0..20_000 {
            let line = &lines[next(lines.len() as u64) as usize];
            let w = 1 + next(40) as usize;
            let (mut want, mut got) = (Vec::new(), Vec::new());
            split_any(line, w, |a, b, pw| want.push((a, b, pw)));
            memo.split(line, w, |a, b, pw| got.push((a, b, pw)));
            assert_eq!(got, want, "{line:?} at {w}");
        }
    }

    #[test]
    fn stream_stats_arrange_like_the_cells() {
        let mut next = rng(0xfeed_f00d);
        for _ in 0..500 {
            let ncols = 1 + next(13) as usize;
            let mut texts = Vec::new();
            for _ in 0..ncols * (1 + next(30) as usize) {
                let mut s = String::new();
                for w in 0..next(5) {
                    if w > 0 {
                        s.push(' ');
                    }
                    s.push_str(WORDS[next(WORDS.len() as u64) as usize]);
                }
                texts.push(s);
            }
            let cells: Vec<&str> = texts.iter().map(String::as_str).collect();
            let mut stats = StreamStats::new(ncols);
            for row in cells.chunks(ncols) {
                stats.add_row(row);
            }
            for width in [20, 60, 100, 160] {
                assert_eq!(
                    stats.widths(width),
                    column_widths(&cells, ncols, width),
                    "{ncols} columns, width {width}: {cells:?}"
                );
            }
        }
    }

    /// Cells of every kind (spaced, space-free, empty, long, multi-line, non-ASCII) given
    /// again and again: the statistics, which count a repeated short cell by its space
    /// mask alone, choose the widths the cells themselves give.
    #[test]
    fn stream_stats_of_repeated_cells_arrange_like_the_cells() {
        let pool = [
            "",
            "tcp 1",
            "tcp 12345",
            "udp 7",
            "1 / 2",
            "10 / 200",
            "a b c d",
            "10.0.0.1:443",
            "[fd77::1]:8090",
            "x",
            "complete",
            "two\nlines here",
            "wide → arrow",
            "a very long cell with many words in it that goes on and on past sixty-four bytes",
            "averyverylongwordwithoutanyspacethatisstilllongerthansixtyfourbytesintotal",
        ];
        let mut next = rng(12345);
        let cells: Vec<&str> = (0..13 * 300)
            .map(|_| pool[next(pool.len() as u64) as usize])
            .collect();
        let mut stats = StreamStats::new(13);
        for row in cells.chunks(13) {
            stats.add_row(row);
        }
        for width in [20, 40, 60, 80, 100, 140, 200, 400] {
            assert_eq!(
                stats.widths(width),
                column_widths(&cells, 13, width),
                "width {width}"
            );
        }
    }

    #[test]
    fn narrow_width_agrees_with_unicode_width() {
        // Every character the fast path accepts, alone and between others, measures
        // what unicode-width says; characters it rejects fall back to unicode-width.
        let mut accepted = 0;
        for c in (0x20u32..0x3000).filter_map(char::from_u32) {
            let alone = c.to_string();
            let Some(n) = narrow_width(&alone) else {
                continue;
            };
            accepted += 1;
            assert_eq!(n, alone.width(), "{c:?} U+{:04X}", u32::from(c));
            for ctx in [format!("a{c}b"), format!("{c}{c}"), format!("× {c} →")] {
                assert_eq!(narrow_width(&ctx), Some(ctx.width()), "{ctx:?}");
                assert_eq!(width(&ctx), ctx.width(), "{ctx:?}");
            }
        }
        // Printable ASCII (95), U+00A0..U+00FF but the soft hyphen (95), U+2010..U+2027
        // (24), U+2190..U+22FF (368) and U+2500..U+259F (160).
        assert_eq!(accepted, 742, "the fast path accepts {accepted} characters");
        for s in [
            "a\u{fe0f}",
            "→\u{fe0f}",
            "e\u{301}",
            "中",
            "\u{200b}",
            "a\nb",
        ] {
            assert_eq!(narrow_width(s), None, "{s:?}");
            assert_eq!(width(s), if s.is_ascii() { s.len() } else { s.width() });
        }
    }

    /// A thread given a share of the kept tables' memory keeps no more than that share,
    /// and still draws what it drew before.
    #[test]
    fn kept_tables_stay_within_the_threads_share() {
        std::thread::spawn(|| {
            share_table_memory(WHOLE_TABLES_BYTES / 4096);
            let limit = WHOLE_TABLES_BYTES / 4096;
            let mut most = 0;
            for i in 0..300 {
                let cells = [format!("field {i}"), "v ".repeat(i % 40)];
                let rows: Vec<&str> = cells.iter().map(String::as_str).collect();
                let drawn = || {
                    let mut out = Vec::new();
                    draw(
                        &mut out,
                        2,
                        Vary::columns(0),
                        &["name", "value"],
                        &rows,
                        80,
                        None,
                    );
                    out
                };
                let (first, again) = (drawn(), drawn());
                assert!(first == again, "table {i} drawn again differs");
                let kept = TABLES.with_borrow(|c| c.whole.arena.len());
                assert!(kept <= limit, "table {i}: {kept} bytes kept, share {limit}");
                most = most.max(kept);
            }
            assert!(most > limit / 2, "hardly anything kept: {most} bytes");
        })
        .join()
        .expect("the drawing thread finishes");
    }

    #[test]
    fn box_chars_are_their_utf8() {
        for c in [
            '┌', '─', '┬', '┐', '╞', '═', '╪', '╡', '└', '┴', '┘', '│', '┆',
        ] {
            let mut b = [0u8; 4];
            assert_eq!(&box_char(c)[..], c.encode_utf8(&mut b).as_bytes());
        }
    }

    /// [`draw`], whose rows come from a cache, draws what comfy-table draws: every table
    /// twice (the second time from the cache), tables sharing rows with earlier ones, and
    /// rows found by the shape of their varying cells (patched with their own text).
    #[test]
    fn cached_drawing_matches_comfy_table() {
        let mut next = rng(0x9e37_79b9_7f4a_7c15);
        // A small pool of cells, so that rows repeat across tables.
        let pool: Vec<String> = (0..40)
            .map(|_| {
                let mut s = String::new();
                for w in 0..next(9) {
                    if w > 0 {
                        s.push(if next(10) == 0 { '\n' } else { ' ' });
                    }
                    s.push_str(WORDS[next(WORDS.len() as u64) as usize]);
                }
                s
            })
            .collect();
        for case in 0..2_000 {
            let ncols = 1 + next(5) as usize;
            let nrows = next(6) as usize;
            let width = 8 + next(160) as u16;
            let pick = |n: u64| pool[n as usize].as_str();
            let header: Vec<&str> = if next(4) == 0 {
                Vec::new()
            } else {
                (0..ncols).map(|_| pick(next(pool.len() as u64))).collect()
            };
            // Columns looked up by shape, and their cells: numbers that keep their shape
            // from table to table while their digits change, sometimes split, sometimes
            // not ASCII.
            let vary = next(8) as u32;
            // Columns looked up by shape in some rows only ([`Vary::rows`]); a
            // list shorter than the rows leaves the last ones to `vary`.
            let row_vary: Vec<u32> = (0..next(nrows as u64 + 1))
                .map(|_| next(8) as u32)
                .collect();
            let varies =
                |r: usize, c: usize| (vary | row_vary.get(r).copied().unwrap_or(0)) & (1 << c) != 0;
            let values: Vec<String> = (0..nrows * ncols)
                .map(|_| match next(8) {
                    0 => next(10).to_string(),
                    1 => format!("{} {}", next(100), next(10)),
                    2 => format!("0x{:04x}", next(0x1_0000)),
                    3 => format!("TSval {}, TSecr {}", next(1000), next(1000)),
                    4 => format!("{}→{}", next(10), next(10)),
                    5 => format!("{:02x} {:02x} …\n{:04b} ..", next(256), next(256), next(16)),
                    6 => format!("{}\u{fe0f} {}", ["1", "a"][next(2) as usize], next(100)),
                    _ => String::new(),
                })
                .collect();
            let rows: Vec<Vec<&str>> = (0..nrows)
                .map(|r| {
                    (0..ncols)
                        .map(|c| {
                            if varies(r, c) && next(4) != 0 {
                                values[r * ncols + c].as_str()
                            } else {
                                pick(next(pool.len() as u64))
                            }
                        })
                        .collect()
                })
                .collect();
            if header.is_empty() && rows.is_empty() {
                continue;
            }
            // Rounds 0 and 1 draw the table as it is (the second from the whole-table
            // cache); rounds 2 and 3 with other digits in the varying columns: the same
            // shapes, so the kept table patched with other text.
            for round in 0..4u32 {
                let turn = [0, 0, 3, 7][round as usize];
                let rotated: Vec<Vec<String>> = rows
                    .iter()
                    .enumerate()
                    .map(|(ri, r)| {
                        r.iter()
                            .enumerate()
                            .map(|(c, cell)| {
                                if !varies(ri, c) {
                                    return cell.to_string();
                                }
                                cell.chars()
                                    .map(|ch| match ch.to_digit(10) {
                                        Some(d) => char::from_digit((d + turn) % 10, 10).unwrap(),
                                        None => ch,
                                    })
                                    .collect()
                            })
                            .collect()
                    })
                    .collect();
                let rows: Vec<Vec<&str>> = rotated
                    .iter()
                    .map(|r| r.iter().map(String::as_str).collect())
                    .collect();
                let flat: Vec<&str> = rows.iter().flatten().copied().collect();
                let want = comfy(width, &header, &rows);
                let mut out = Vec::new();
                draw(
                    &mut out,
                    ncols,
                    Vary {
                        columns: vary,
                        rows: &row_vary,
                    },
                    &header,
                    &flat,
                    usize::from(width),
                    None,
                );
                assert_eq!(
                    String::from_utf8(out).unwrap_or_default(),
                    want,
                    "case {case} round {round}: width {width}, header {header:?}, rows {rows:?}"
                );
            }
        }
    }

    /// [`write_row_cached`] writes what [`write_row`] writes, row after row of one long
    /// table whose rows share shapes, across widths and colours.
    #[test]
    fn cached_rows_equal_rows_drawn_anew() {
        let mut next = rng(0x2545_f491_4f6c_dd1d);
        let mut cached = RowScratch::default();
        let mut plain = RowScratch::default();
        for _ in 0..30 {
            let ncols = 1 + next(14) as usize;
            let widths: Vec<usize> = (0..ncols).map(|_| 1 + next(12) as usize).collect();
            let border: Option<&[u8]> = [None, Some(&b"\x1b[35m"[..])][next(2) as usize];
            for _ in 0..100 {
                let cells: Vec<String> = (0..ncols)
                    .map(|_| match next(6) {
                        0 => format!("10.88.{}.{}:{}", next(3), next(300), next(70_000)),
                        1 => format!("{} / {}", next(20), next(2000)),
                        2 => {
                            ["ShADadfF", "S", "TIME_WAIT", "tcp 12", "→ x"][next(5) as usize].into()
                        }
                        3 => format!("[fd88::{:x}]:{}", next(70_000), next(70_000)),
                        4 => format!("{}\u{fe0f}{}", ["1", "a"][next(2) as usize], next(9)),
                        _ => String::new(),
                    })
                    .collect();
                let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                let (mut want, mut got) = (Vec::new(), Vec::new());
                write_row(&mut want, &widths, &cells, &mut plain, border);
                write_row_cached(&mut got, &widths, &cells, None, &mut cached, border);
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "{cells:?} at {widths:?}"
                );
            }
        }
    }

    #[test]
    fn matches_comfy_table_on_a_packet_table() {
        let header = ["offset", "bytes (hex)", "field", "value", "meaning"];
        let rows = vec![
            vec![
                "0",
                "02 77 00 00 00 02",
                "Destination MAC",
                "02:77:00:00:00:02",
                "unicast: one station; locally administered (set by software, no maker)",
            ],
            vec!["14", "45\n0100 ....", "Version", "4", "IPv4"],
        ];
        for width in [40, 80, 100, 160, 250] {
            assert_eq!(ours(width, &header, &rows), comfy(width, &header, &rows));
        }
    }

    #[test]
    fn coloured_borders_change_no_character() {
        let header = ["offset", "field", "meaning"];
        let cells = ["0", "Version", "IPv4 ┆ │ with box characters in a cell"];
        let mut all: Vec<&str> = header.to_vec();
        all.extend(cells);
        let widths = column_widths(&all, 3, 30);
        let (mut plain, mut coloured) = (Vec::new(), Vec::new());
        write(&mut plain, &widths, &header, &cells, None);
        write(&mut coloured, &widths, &header, &cells, Some(b"\x1b[36m"));
        assert_ne!(plain, coloured);
        assert_eq!(super::super::color::strip(&coloured), plain);
    }
}
