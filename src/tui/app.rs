//! The viewer's state and what each key and mouse action does to it. Drawing is in
//! [`super::draw`]; nothing here touches the terminal, so tests drive it directly.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::Ordering;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::filter::Filter;
use super::store::{FilterJob, Store, lock};

/// The pane keys act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    /// The packet list.
    List,
    /// The layer view (fields and connection context).
    Layers,
    /// The hex dump.
    Hex,
    /// The ladder, flows or neighbour table, when one is shown.
    Lower,
}

/// What the lower half shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lower {
    /// The layer view and the hex dump.
    Detail,
    /// The selected packet's TCP stream as a ladder.
    Ladder,
    /// The conversations.
    Flows,
    /// The ARP neighbour table.
    Neighbours,
}

/// What a prompt at the bottom asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// A display filter (`/`).
    Filter,
    /// A file to save the packets shown to (`w`).
    Write,
}

/// Where the panes were drawn last, for the mouse.
#[derive(Clone, Copy, Debug, Default)]
pub struct Areas {
    /// The packet list's rows.
    pub list: Rect,
    /// The layer view's rows.
    pub layers: Rect,
    /// The hex dump's rows.
    pub hex: Rect,
    /// The lower table's rows.
    pub lower: Rect,
    /// Bytes per hex-dump line.
    pub per_line: usize,
}

/// The viewer.
#[derive(Debug)]
pub struct App {
    /// The packets.
    pub store: Store,
    /// Colour the screen (else monochrome, the selection in reverse video).
    pub color: bool,
    /// The selected frame.
    pub cur: Option<u64>,
    /// The first list row shown.
    pub top: usize,
    /// The pane keys act on.
    pub focus: Pane,
    /// What the lower half shows.
    pub lower: Lower,
    /// The display filter, being evaluated.
    pub filter: Option<FilterJob>,
    /// The prompt being typed, and its text.
    pub prompt: Option<(Prompt, String)>,
    /// The key help is shown.
    pub help: bool,
    /// Titles of the folded sections of the layer view.
    pub folded: HashSet<String>,
    /// The selected row of the layer view.
    pub layer_row: usize,
    /// The first layer-view row shown.
    pub layer_top: usize,
    /// The selected byte of the hex dump.
    pub byte: Option<usize>,
    /// The selected row of the flows or neighbour table, and the first shown.
    pub lower_row: usize,
    /// The first lower-table row shown.
    pub lower_top: usize,
    /// A live view is paused at this frame (capture goes on).
    pub paused: Option<u64>,
    /// A live view follows new packets (the last one is selected).
    pub follow: bool,
    /// A one-line message for the status bar.
    pub message: Option<String>,
    /// The user asked to quit.
    pub quit: bool,
    /// Where the panes were drawn.
    pub areas: Areas,
    /// The byte range of the selected field, set when the layer view is drawn.
    pub field: Option<(usize, usize)>,
    /// The byte-to-row map of the layer view, set when it is drawn: (offset, len, row).
    pub field_rows: Vec<(usize, usize, usize)>,
    /// Rows in the layer view, set when it is drawn.
    pub layer_rows: usize,
    /// The heading rows of the layer view and their titles, set when it is drawn.
    pub headers: Vec<(usize, String)>,
    /// Rows in the lower table, set when it is drawn.
    pub lower_rows: usize,
}

impl App {
    /// A viewer of `store`.
    pub fn new(store: Store, color: bool, live: bool) -> App {
        App {
            store,
            color,
            cur: None,
            top: 0,
            focus: Pane::List,
            lower: Lower::Detail,
            filter: None,
            prompt: None,
            help: false,
            folded: HashSet::new(),
            layer_row: 0,
            layer_top: 0,
            byte: None,
            lower_row: 0,
            lower_top: 0,
            paused: None,
            follow: live,
            message: None,
            quit: false,
            areas: Areas::default(),
            field: None,
            field_rows: Vec::new(),
            layer_rows: 0,
            headers: Vec::new(),
            lower_rows: 0,
        }
    }

    /// The last frame the list may show (a paused view stops where it was paused).
    fn last_shown(&self) -> (u64, u64) {
        let p = self.store.packets();
        let last = match self.paused {
            Some(at) => at.min(p.last()),
            None => p.last(),
        };
        (p.first, last)
    }

    /// The frames the list shows: all of them, or those the filter matched.
    pub fn view_len(&self) -> usize {
        let (first, last) = self.last_shown();
        match &self.filter {
            None => usize::try_from((last + 1).saturating_sub(first)).unwrap_or(usize::MAX),
            Some(job) => lock(&job.matches)
                .iter()
                .filter(|n| **n >= first && **n <= last)
                .count(),
        }
    }

    /// The frame at list row `i`.
    pub fn view_at(&self, i: usize) -> Option<u64> {
        let (first, last) = self.last_shown();
        match &self.filter {
            None => {
                let n = first + i as u64;
                (n <= last).then_some(n)
            }
            Some(job) => {
                let m = lock(&job.matches);
                let skip = m.partition_point(|n| *n < first);
                m.get(skip + i).copied().filter(|n| *n <= last)
            }
        }
    }

    /// The frames at list rows `from..from + count`.
    pub fn view_range(&self, from: usize, count: usize) -> Vec<u64> {
        let (first, last) = self.last_shown();
        match &self.filter {
            None => (0..count)
                .map(|i| first + (from + i) as u64)
                .take_while(|n| *n <= last)
                .collect(),
            Some(job) => {
                let m = lock(&job.matches);
                let skip = m.partition_point(|n| *n < first);
                m.iter()
                    .skip(skip + from)
                    .take(count)
                    .copied()
                    .take_while(|n| *n <= last)
                    .collect()
            }
        }
    }

    /// The list row of frame `n` (or of the frame after it, when it is not shown).
    pub fn view_index(&self, n: u64) -> usize {
        let (first, _) = self.last_shown();
        match &self.filter {
            None => usize::try_from(n.saturating_sub(first)).unwrap_or(0),
            Some(job) => {
                let m = lock(&job.matches);
                let skip = m.partition_point(|x| *x < first);
                m.partition_point(|x| *x < n).saturating_sub(skip)
            }
        }
    }

    /// Keeps the selection on a frame that is shown, following new packets when asked.
    pub fn settle(&mut self, list_rows: usize) {
        let len = self.view_len();
        if len == 0 {
            self.cur = None;
            self.top = 0;
            return;
        }
        let mut i = match self.cur {
            Some(n) => self.view_index(n).min(len - 1),
            None => 0,
        };
        if self.follow && self.paused.is_none() {
            i = len - 1;
        }
        self.cur = self.view_at(i);
        let rows = list_rows.max(1);
        if i < self.top {
            self.top = i;
        } else if i >= self.top + rows {
            self.top = i + 1 - rows;
        }
        self.top = self.top.min(len.saturating_sub(rows));
    }

    /// Moves the list selection by `delta` rows (clamped).
    fn move_list(&mut self, delta: i64) {
        let len = self.view_len();
        if len == 0 {
            return;
        }
        let i = self.cur.map_or(0, |n| self.view_index(n)) as i64;
        let j = (i + delta).clamp(0, len as i64 - 1) as usize;
        self.select_row(j);
    }

    /// Selects list row `j`.
    pub fn select_row(&mut self, j: usize) {
        if let Some(n) = self.view_at(j) {
            if self.cur != Some(n) {
                self.layer_row = 0;
                self.layer_top = 0;
                self.byte = None;
            }
            self.cur = Some(n);
        }
        let len = self.view_len();
        // At the last row, the selection stays on the last packet as more come (live
        // packets, or a file still being indexed).
        self.follow = self.paused.is_none() && j + 1 >= len;
    }

    /// True for a live capture.
    pub fn is_live(&self) -> bool {
        self.store.packets().live.is_some()
    }

    fn page(&self) -> i64 {
        let h = match self.focus {
            Pane::List => self.areas.list.height,
            Pane::Layers => self.areas.layers.height,
            Pane::Hex => self.areas.hex.height,
            Pane::Lower => self.areas.lower.height,
        };
        i64::from(h.max(2) - 1)
    }

    /// Moves the focused pane's selection by `delta` rows; `i64::MIN`/`MAX` go to the
    /// ends.
    fn move_focused(&mut self, delta: i64) {
        match self.focus {
            Pane::List => self.move_list(delta),
            Pane::Layers => {
                let max = self.layer_rows.saturating_sub(1) as i64;
                self.layer_row =
                    (self.layer_row as i64).saturating_add(delta).clamp(0, max) as usize;
            }
            Pane::Hex => {
                let per = self.areas.per_line.max(1) as i64;
                let len = self
                    .cur
                    .and_then(|n| self.store.get(n))
                    .map_or(0, |l| l.bytes.len()) as i64;
                if len > 0 {
                    let b = self.byte.unwrap_or(0) as i64;
                    let step = if delta.abs() == 1 {
                        delta * per
                    } else {
                        delta.saturating_mul(per)
                    };
                    self.select_byte(b.saturating_add(step).clamp(0, len - 1) as usize);
                }
            }
            Pane::Lower => {
                let max = self.lower_rows.saturating_sub(1) as i64;
                self.lower_row =
                    (self.lower_row as i64).saturating_add(delta).clamp(0, max) as usize;
            }
        }
    }

    /// Selects byte `b` of the hex dump, and the field that holds it.
    pub fn select_byte(&mut self, b: usize) {
        self.byte = Some(b);
        let best = self
            .field_rows
            .iter()
            .filter(|(o, l, _)| *o <= b && b < o + l)
            .min_by_key(|(_, l, _)| *l);
        if let Some((_, _, row)) = best {
            self.layer_row = *row;
        }
    }

    /// Applies a display filter typed at the prompt; an error goes to the status bar.
    pub fn set_filter(&mut self, text: &str) {
        match Filter::parse(text) {
            Ok(f) => {
                self.filter = Some(self.store.start_filter(f));
                self.top = 0;
                self.message = None;
            }
            Err(e) => self.message = Some(e),
        }
    }

    /// Waits for the filter to finish (tests).
    pub fn wait_filter(&self, limit: std::time::Duration) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            match &self.filter {
                Some(job) if !job.done.load(Ordering::SeqCst) => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                _ => return true,
            }
        }
        false
    }

    /// The next (`forward`) or previous segment of the selected packet's TCP stream.
    fn same_stream(&mut self, forward: bool) {
        let Some(n) = self.cur else { return };
        let frames = {
            let p = self.store.packets();
            match p.brief(n).filter(|b| b.is_tcp()) {
                Some(b) => p.stream_frames(b.stream),
                None => {
                    drop(p);
                    self.message = Some("This packet belongs to no TCP stream.".into());
                    return;
                }
            }
        };
        let next = if forward {
            frames.iter().find(|m| **m > n).copied()
        } else {
            frames.iter().rev().find(|m| **m < n).copied()
        };
        match next {
            Some(m) => {
                let i = self.view_index(m);
                if self.view_at(i) == Some(m) {
                    self.select_row(i);
                } else {
                    self.message =
                        Some(format!("Frame {m} of this stream is hidden by the filter."));
                }
            }
            None => {
                self.message = Some(if forward {
                    "This is the stream's last packet.".into()
                } else {
                    "This is the stream's first packet.".into()
                })
            }
        }
    }

    /// Saves the packets the list shows to `path` (pcapng when it ends in .pcapng).
    pub fn save(&mut self, path: &str) {
        let len = self.view_len();
        let frames = self.view_range(0, len);
        self.message = Some(
            match super::save::save(&mut self.store, &frames, Path::new(path)) {
                Ok(k) => format!("Saved {k} packets to {path}."),
                Err(e) => e,
            },
        );
    }

    /// What a key does.
    pub fn key(&mut self, k: KeyEvent) {
        if let Some((kind, mut text)) = self.prompt.take() {
            match k.code {
                KeyCode::Enter => match kind {
                    Prompt::Filter => self.set_filter(&text),
                    Prompt::Write => self.save(text.trim()),
                },
                // One press leaves the prompt; at the filter's prompt it also clears the
                // filter, as Esc does in the list, rather than asking for a second press.
                KeyCode::Esc => {
                    if kind == Prompt::Filter {
                        self.filter = None;
                    }
                }
                KeyCode::Backspace => {
                    text.pop();
                    self.prompt = Some((kind, text));
                }
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {}
                KeyCode::Char(c) => {
                    text.push(c);
                    self.prompt = Some((kind, text));
                }
                _ => self.prompt = Some((kind, text)),
            }
            return;
        }
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        self.message = None;
        if self.help {
            self.help = false;
            if matches!(k.code, KeyCode::Char('?') | KeyCode::Esc) {
                return;
            }
        }
        match k.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Char('/') => {
                let text = self
                    .filter
                    .as_ref()
                    .map(|f| f.filter.text.clone())
                    .unwrap_or_default();
                self.prompt = Some((Prompt::Filter, text));
            }
            KeyCode::Char('w') => self.prompt = Some((Prompt::Write, String::new())),
            KeyCode::Esc => {
                if self.lower != Lower::Detail {
                    self.lower = Lower::Detail;
                    self.focus = Pane::List;
                } else {
                    self.filter = None;
                }
            }
            KeyCode::Down | KeyCode::Char('j') => self.move_focused(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_focused(-1),
            KeyCode::PageDown => self.move_focused(self.page()),
            KeyCode::PageUp => self.move_focused(-self.page()),
            KeyCode::Home | KeyCode::Char('g') => self.move_focused(i64::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => self.move_focused(i64::MAX / 2),
            KeyCode::Left if self.focus == Pane::Hex => {
                let b = self.byte.unwrap_or(0);
                self.select_byte(b.saturating_sub(1));
            }
            KeyCode::Right if self.focus == Pane::Hex => {
                let len = self
                    .cur
                    .and_then(|n| self.store.get(n))
                    .map_or(0, |l| l.bytes.len());
                let b = self.byte.map_or(0, |b| b + 1);
                if b < len {
                    self.select_byte(b);
                }
            }
            KeyCode::Tab | KeyCode::BackTab => {
                let order: &[Pane] = if self.lower == Lower::Detail {
                    &[Pane::List, Pane::Layers, Pane::Hex]
                } else {
                    &[Pane::List, Pane::Lower]
                };
                let i = order.iter().position(|p| *p == self.focus).unwrap_or(0);
                let step = if k.code == KeyCode::BackTab {
                    order.len() - 1
                } else {
                    1
                };
                self.focus = order[(i + step) % order.len()];
            }
            KeyCode::Enter => self.enter(),
            KeyCode::Char('l') => self.toggle(Lower::Ladder),
            KeyCode::Char('f') => self.toggle(Lower::Flows),
            KeyCode::Char('a') => self.toggle(Lower::Neighbours),
            KeyCode::Char('n') => self.same_stream(true),
            KeyCode::Char('N') => self.same_stream(false),
            KeyCode::Char('p') => {
                if !self.is_live() {
                    self.message = Some("p pauses a live capture; a file does not move.".into());
                } else if self.paused.take().is_none() {
                    self.paused = Some(self.store.packets().last());
                    self.follow = false;
                } else {
                    self.follow = true;
                }
            }
            _ => {}
        }
    }

    fn toggle(&mut self, l: Lower) {
        if self.lower == l {
            self.lower = Lower::Detail;
            self.focus = Pane::List;
        } else {
            self.lower = l;
            self.lower_row = 0;
            self.lower_top = 0;
            if l != Lower::Ladder {
                self.focus = Pane::Lower;
            }
        }
    }

    /// Enter: opens the selected packet's layers, folds a layer, or filters to a
    /// conversation.
    fn enter(&mut self) {
        match (self.focus, self.lower) {
            (Pane::List, Lower::Detail) => self.focus = Pane::Layers,
            (Pane::Layers, _) => {
                if let Some((_, title)) = self
                    .headers
                    .iter()
                    .find(|(r, _)| *r == self.layer_row)
                    .cloned()
                    && !self.folded.remove(&title)
                {
                    self.folded.insert(title);
                }
            }
            (Pane::Lower, Lower::Flows) => {
                let flow = self.store.packets().flows.get(self.lower_row).copied();
                if let Some(f) = flow {
                    let text = if f.proto() == "tcp" {
                        format!("tcp and stream {}", f.stream)
                    } else {
                        let ((ca, cp), (sa, sp)) = (f.client, f.server);
                        format!(
                            "{} and host {ca} and host {sa} and port {cp} and port {sp}",
                            f.proto()
                        )
                    };
                    self.set_filter(&text);
                    self.lower = Lower::Detail;
                    self.focus = Pane::List;
                }
            }
            _ => {}
        }
    }

    /// What a mouse action does: a click selects, the wheel scrolls the pane under it.
    pub fn mouse(&mut self, m: MouseEvent) {
        let inside = |r: Rect| {
            m.column >= r.x && m.column < r.x + r.width && m.row >= r.y && m.row < r.y + r.height
        };
        let a = self.areas;
        let pane = if inside(a.list) {
            Pane::List
        } else if self.lower == Lower::Detail && inside(a.layers) {
            Pane::Layers
        } else if self.lower == Lower::Detail && inside(a.hex) {
            Pane::Hex
        } else if self.lower != Lower::Detail && inside(a.lower) {
            Pane::Lower
        } else {
            return;
        };
        match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let d = if m.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                let old = self.focus;
                self.focus = pane;
                self.move_focused(d);
                self.focus = old;
            }
            MouseEventKind::Down(MouseButton::Left) => {
                self.focus = pane;
                let row = usize::from(m.row.saturating_sub(match pane {
                    Pane::List => a.list.y,
                    Pane::Layers => a.layers.y,
                    Pane::Hex => a.hex.y,
                    Pane::Lower => a.lower.y,
                }));
                match pane {
                    Pane::List => self.select_row(self.top + row),
                    Pane::Layers => {
                        self.layer_row =
                            (self.layer_top + row).min(self.layer_rows.saturating_sub(1));
                    }
                    Pane::Hex => {
                        // "0000  " then three columns per byte.
                        let col = usize::from(m.column.saturating_sub(a.hex.x));
                        if col >= 6 {
                            let i = (col - 6) / 3;
                            if i < a.per_line {
                                let b = (self.byte_top() + row) * a.per_line + i;
                                let len = self
                                    .cur
                                    .and_then(|n| self.store.get(n))
                                    .map_or(0, |l| l.bytes.len());
                                if b < len {
                                    self.select_byte(b);
                                }
                            }
                        }
                    }
                    Pane::Lower => {
                        self.lower_row =
                            (self.lower_top + row).min(self.lower_rows.saturating_sub(1));
                    }
                }
            }
            _ => {}
        }
    }

    /// The first hex-dump line shown, so that the selection is on screen.
    pub fn byte_top(&self) -> usize {
        let per = self.areas.per_line.max(1);
        let rows = usize::from(self.areas.hex.height.max(1));
        let line = self.byte.or(self.field.map(|f| f.0)).unwrap_or(0) / per;
        line.saturating_sub(rows - 1)
    }
}
