//! Draws the viewer from its state: the packet list, the layer view, the hex dump, the
//! ladder, the flows and neighbour tables, the status bar and the key help. Every word
//! about a packet comes from the renderers `read` uses (summary line, sections and
//! fields, connection story, ladder).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Lower, Pane, Prompt};
use super::sgr;
use crate::render::{self, Context, color, ladder, story, summary};

/// The keys, as `?` shows them (and the README lists them).
pub const HELP: &[(&str, &str)] = &[
    ("↑/↓ j/k", "move in the focused pane"),
    ("PgUp/PgDn", "move a page"),
    ("Home/End g/G", "first / last"),
    ("Tab", "next pane (list, layers, hex)"),
    (
        "Enter",
        "open the packet's layers; fold a layer; filter to a flow",
    ),
    ("←/→", "move by one byte in the hex dump"),
    ("/", "display filter: tcp udp arp icmp icmpv6 ipv4 ipv6 …,"),
    ("", "  stream N, host ADDR, port N, joined with and"),
    (
        "Esc",
        "clear the filter (also at its prompt); close a table",
    ),
    ("l", "ladder of the packet's TCP stream"),
    ("f", "flows (Enter filters to one)"),
    ("a", "ARP neighbour table"),
    ("n / N", "next / previous packet of the same stream"),
    ("p", "pause a live view (capture goes on)"),
    ("w", "save the packets shown (pcap; .pcapng)"),
    ("mouse", "click selects, wheel scrolls"),
    ("q Ctrl-C", "quit"),
];

/// Width of the drawing of how fragments tile a datagram, in characters (as the table's).
const TILE: usize = 32;

fn reversed() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}

/// Cuts or pads `s` to `w` columns.
fn fit(s: &str, w: usize) -> String {
    let mut out = String::with_capacity(w);
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw > w {
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
        used += cw;
    }
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(used)));
    out
}

fn title(text: String, focused: bool) -> Block<'static> {
    let style = if focused {
        Style::default().add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    Block::default()
        .borders(Borders::TOP)
        .title(Span::styled(text, style))
}

/// Draws the whole screen.
pub fn draw(f: &mut Frame<'_>, app: &mut App) {
    let area = f.area();
    let [main, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let list_share = if main.height >= 30 { 35 } else { 40 };
    let [list, lower] =
        Layout::vertical([Constraint::Percentage(list_share), Constraint::Min(4)]).areas(main);
    draw_list(f, app, list);
    match app.lower {
        Lower::Detail => {
            let hex_h = (lower.height / 3).clamp(3, 10);
            let [layers, hex] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(hex_h)]).areas(lower);
            draw_layers(f, app, layers);
            draw_hex(f, app, hex);
        }
        Lower::Ladder => draw_ladder(f, app, lower),
        Lower::Flows => draw_flows(f, app, lower),
        Lower::Neighbours => draw_neighbours(f, app, lower),
    }
    draw_status(f, app, status);
    if app.help {
        draw_help(f, area);
    }
}

fn draw_list(f: &mut Frame<'_>, app: &mut App, area: Rect) {
    let inner = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    app.areas.list = inner;
    let rows = usize::from(inner.height);
    app.settle(rows);
    let frames = app.view_range(app.top, rows);
    let (first_ts, stages): (_, Vec<_>) = {
        let p = app.store.packets();
        (
            p.first_ts,
            frames
                .iter()
                .map(|n| (p.stage(*n), p.brief(*n).is_some()))
                .collect(),
        )
    };
    let mut ctx = Context::new(inner.width.max(40));
    ctx.first_ts = first_ts;
    ctx.color = app.color;
    let mut lines = Vec::with_capacity(rows);
    let stages: Vec<String> = stages
        .into_iter()
        .map(|(stage, analysed)| match (stage, analysed) {
            (Some(s), _) => s.to_string(),
            (None, true) => String::new(),
            (None, false) => "…".to_string(),
        })
        .collect();
    // The stage column is as wide as the widest stage on screen (none: no column).
    let stage_w = stages.iter().map(|s| s.chars().count()).max().unwrap_or(0);
    for (n, stage) in frames.iter().zip(stages) {
        let mut text = Vec::with_capacity(160);
        let mut line = if stage_w > 0 {
            Line::from(Span::raw(fit(&stage, stage_w + 1)))
        } else {
            Line::default()
        };
        match app.store.get(*n) {
            Some(l) => {
                let _ = summary::write(&mut text, &mut ctx, &l.d);
                let s = String::from_utf8_lossy(&text);
                line.spans.extend(sgr::line(s.trim_end_matches('\n')).spans);
            }
            None => line
                .spans
                .push(Span::raw(format!("{n:>5} (could not be read)"))),
        }
        if Some(*n) == app.cur {
            line = line.patch_style(reversed());
            let w: usize = line.spans.iter().map(|s| s.width()).sum();
            let pad = usize::from(inner.width).saturating_sub(w);
            line.spans.push(Span::styled(" ".repeat(pad), reversed()));
        }
        lines.push(line);
    }
    let shown = app.view_len();
    let mut head = format!(" Packets ({shown}) ");
    if let Some(job) = &app.filter {
        let done = job.done.load(std::sync::atomic::Ordering::SeqCst);
        head.push_str(&format!(
            "filter: {}{} ",
            job.filter.text,
            if done { "" } else { " (filtering…)" }
        ));
    }
    if app.paused.is_some() {
        head.push_str("PAUSED ");
    } else if app.follow {
        head.push_str("following ");
    }
    let p = Paragraph::new(lines).block(title(head, app.focus == Pane::List));
    f.render_widget(p, area);
}

/// One row of the layer view.
struct Row {
    cells: [String; 4],
    /// A heading (its title, for folding).
    heading: Option<String>,
    /// The bytes of a field, in the frame.
    field: Option<(usize, usize)>,
    style: Style,
}

fn layer_rows(app: &mut App) -> Vec<Row> {
    let Some(l) = app.cur.and_then(|n| app.store.get(n)) else {
        return Vec::new();
    };
    let d = &l.d;
    let mut rows = Vec::new();
    let heading = |rows: &mut Vec<Row>, t: String, folded: bool, style: Style| {
        let mark = if folded { "▸ " } else { "▾ " };
        rows.push(Row {
            cells: [
                format!("{mark}{t}"),
                String::new(),
                String::new(),
                String::new(),
            ],
            heading: Some(t),
            field: None,
            style: style.add_modifier(Modifier::BOLD),
        });
    };
    if !l.analysed {
        rows.push(Row {
            cells: [
                "(analysis has not reached this packet yet: no stage)".into(),
                String::new(),
                String::new(),
                String::new(),
            ],
            heading: None,
            field: None,
            style: Style::default().add_modifier(Modifier::DIM),
        });
    }
    if let Some(s) = story::story(d) {
        let folded = app.folded.contains(&s.title);
        heading(&mut rows, s.title.clone(), folded, Style::default());
        if !folded {
            for [fact, value, meaning] in s.rows {
                rows.push(Row {
                    cells: [String::new(), fact.into(), value.into(), meaning.into()],
                    heading: None,
                    field: None,
                    style: Style::default(),
                });
            }
        }
    }
    if let Some(dg) = &d.ctx.datagram {
        // The fragment table of `--format table`: where each fragment's bytes fall.
        let t = format!(
            "Fragments of the reassembled datagram ({} bytes of payload)",
            dg.info.length
        );
        let folded = app.folded.contains(&t);
        heading(&mut rows, t, folded, Style::default());
        if !folded {
            rows.push(Row {
                cells: [
                    "frame".into(),
                    "bytes".into(),
                    "length, MF".into(),
                    "where it goes".into(),
                ],
                heading: None,
                field: None,
                style: Style::default().add_modifier(Modifier::BOLD),
            });
            let total = dg.info.length.max(1);
            for p in &dg.pieces {
                let from = p.offset * TILE / total;
                let to = ((p.offset + p.len) * TILE).div_ceil(total).max(from + 1);
                let bar: String = (0..TILE)
                    .map(|i| if (from..to).contains(&i) { '█' } else { '·' })
                    .collect();
                rows.push(Row {
                    cells: [
                        p.frame.to_string(),
                        format!("{}–{}", p.offset, p.offset + p.len.saturating_sub(1)),
                        format!("{} MF={}", p.len, u8::from(p.mf)),
                        bar,
                    ],
                    heading: None,
                    field: None,
                    style: Style::default(),
                });
            }
        }
    }
    for sec in render::sections(d) {
        let t = sec.title.to_string();
        let folded = app.folded.contains(&t);
        let style = if app.color {
            sgr::style_of_escape(color::hue(sec.hue, sec.quoted))
        } else {
            Style::default()
        };
        heading(&mut rows, t, folded, style);
        if folded {
            continue;
        }
        for fl in &sec.fields {
            let value = match &fl.bits {
                Some(b) => format!("{} = {}", b.as_str(), fl.value.as_str()),
                None => fl.value.to_string(),
            };
            rows.push(Row {
                cells: [
                    fl.offset.to_string(),
                    fl.name.to_string(),
                    value,
                    fl.meaning.to_string(),
                ],
                heading: None,
                field: (!sec.in_datagram).then_some((fl.offset, fl.len)),
                style: Style::default(),
            });
        }
    }
    if !d.notes.is_empty() {
        let t = "Notes".to_string();
        let folded = app.folded.contains(&t);
        let style = if app.color {
            sgr::style_of_escape(Some(color::NOTE))
        } else {
            Style::default()
        };
        heading(&mut rows, t, folded, style);
        if !folded {
            for note in &d.notes {
                rows.push(Row {
                    cells: [String::new(), "note".into(), String::new(), note.clone()],
                    heading: None,
                    field: None,
                    style,
                });
            }
        }
    }
    rows
}

/// Cuts each row's meaning into pieces of at most `width` columns, at spaces where it
/// can: the pieces after the first go on rows of their own under it, which select the
/// same field.
fn wrap_meanings(rows: Vec<Row>, width: usize) -> Vec<Row> {
    let mut out = Vec::with_capacity(rows.len());
    for mut r in rows {
        if r.heading.is_some() || r.cells[3].width() <= width {
            out.push(r);
            continue;
        }
        let text = std::mem::take(&mut r.cells[3]);
        let mut pieces = Vec::new();
        let mut line = String::new();
        for word in text.split(' ') {
            if !line.is_empty() && line.width() + 1 + word.width() > width {
                pieces.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        pieces.push(line);
        let (field, style) = (r.field, r.style);
        for (i, p) in pieces.into_iter().enumerate() {
            let cells = if i == 0 {
                let [a, b, c, _] = std::mem::take(&mut r.cells);
                [a, b, c, p]
            } else {
                [String::new(), String::new(), String::new(), p]
            };
            out.push(Row {
                cells,
                heading: None,
                field,
                style,
            });
        }
    }
    out
}

fn draw_layers(f: &mut Frame<'_>, app: &mut App, area: Rect) {
    let inner = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    app.areas.layers = inner;
    let w = usize::from(inner.width);
    let (c0, c1, c2) = (
        5,
        if w >= 100 { 24 } else { 18 },
        if w >= 100 { 22 } else { 14 },
    );
    let c3 = w.saturating_sub(c0 + c1 + c2 + 3).max(10);
    let rows = wrap_meanings(layer_rows(app), c3);
    app.layer_rows = rows.len();
    app.layer_row = app.layer_row.min(rows.len().saturating_sub(1));
    app.headers = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.heading.clone().map(|h| (i, h)))
        .collect();
    app.field_rows = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.field.map(|(o, l)| (o, l, i)))
        .collect();
    app.field = rows.get(app.layer_row).and_then(|r| r.field);
    let h = usize::from(inner.height).max(1);
    if app.layer_row < app.layer_top {
        app.layer_top = app.layer_row;
    } else if app.layer_row >= app.layer_top + h {
        app.layer_top = app.layer_row + 1 - h;
    }
    let mut lines = Vec::new();
    for (i, r) in rows.iter().enumerate().skip(app.layer_top).take(h) {
        let text = if r.heading.is_some() {
            fit(&r.cells[0], w)
        } else {
            format!(
                "{} {} {} {}",
                fit(&r.cells[0], c0),
                fit(&r.cells[1], c1),
                fit(&r.cells[2], c2),
                fit(&r.cells[3], c3)
            )
        };
        let mut style = r.style;
        if i == app.layer_row && app.focus == Pane::Layers {
            style = style.add_modifier(Modifier::REVERSED);
        } else if i == app.layer_row {
            style = style.add_modifier(Modifier::UNDERLINED);
        }
        lines.push(Line::from(Span::styled(text, style)));
    }
    // The pcapng interface, in the words of the table format's frame heading.
    let on = app
        .cur
        .and_then(|n| app.store.get(n))
        .and_then(|l| l.d.interface.clone())
        .map(|i| {
            let mut words = b", ".to_vec();
            render::table::write_interface(&mut words, &i);
            String::from_utf8_lossy(&words).into_owned()
        })
        .unwrap_or_default();
    let head = match app.cur {
        Some(n) => format!(" Layers of frame {n}{on} (Enter folds) "),
        None => " Layers ".to_string(),
    };
    f.render_widget(
        Paragraph::new(lines).block(title(head, app.focus == Pane::Layers)),
        area,
    );
}

fn draw_hex(f: &mut Frame<'_>, app: &mut App, area: Rect) {
    let inner = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    let per = if inner.width >= 6 + 16 * 3 + 17 {
        16
    } else {
        8
    };
    app.areas.hex = inner;
    app.areas.per_line = per;
    let Some(l) = app.cur.and_then(|n| app.store.get(n)) else {
        f.render_widget(Block::default().borders(Borders::TOP).title(" Hex "), area);
        return;
    };
    let sections = render::sections(&l.d);
    // The innermost layer of each byte of the frame gives its colour.
    let style_of = |b: usize| -> Style {
        if !app.color {
            return Style::default();
        }
        let sec = sections
            .iter()
            .filter(|s| !s.in_datagram && s.span.offset <= b && b < s.span.offset + s.span.len)
            .min_by_key(|s| s.span.len);
        sec.map(|s| sgr::style_of_escape(color::hue(s.hue, s.quoted)))
            .unwrap_or_default()
    };
    let top = app.byte_top();
    let mut lines = Vec::new();
    for row in top..top + usize::from(inner.height) {
        let start = row * per;
        if start >= l.bytes.len() {
            break;
        }
        let end = (start + per).min(l.bytes.len());
        let mut spans = vec![Span::raw(format!("{start:04x}  "))];
        let mut ascii = Vec::new();
        for (b, v) in l.bytes[start..end]
            .iter()
            .enumerate()
            .map(|(i, v)| (start + i, v))
        {
            let mut st = style_of(b);
            if app.field.is_some_and(|(o, n)| o <= b && b < o + n) {
                st = st.add_modifier(Modifier::REVERSED);
            }
            if app.byte == Some(b) && app.focus == Pane::Hex {
                st = st.add_modifier(Modifier::UNDERLINED | Modifier::BOLD);
            }
            spans.push(Span::styled(format!("{v:02x}"), st));
            spans.push(Span::raw(" "));
            let c = if v.is_ascii_graphic() {
                *v as char
            } else {
                '.'
            };
            ascii.push(Span::styled(c.to_string(), st));
        }
        spans.push(Span::raw(" ".repeat((per - (end - start)) * 3 + 1)));
        spans.extend(ascii);
        lines.push(Line::from(spans));
    }
    let head = match app.field {
        Some((o, n)) => format!(" Hex: bytes {o}–{} selected ", o + n.saturating_sub(1)),
        None => " Hex ".to_string(),
    };
    f.render_widget(
        Paragraph::new(lines).block(title(head, app.focus == Pane::Hex)),
        area,
    );
}

fn draw_ladder(f: &mut Frame<'_>, app: &mut App, area: Rect) {
    let inner = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    app.areas.lower = inner;
    let Some(cur) = app.cur else { return };
    let frames = {
        let p = app.store.packets();
        match p.brief(cur).filter(|b| b.is_tcp()) {
            Some(b) => p.stream_frames(b.stream),
            None => Vec::new(),
        }
    };
    // The endpoints, from the selected segment's own context.
    let ends = match app.store.get(cur) {
        Some(l) if !frames.is_empty() => l.d.ctx.tcp.as_ref().map(|c| (c.client, c.server)),
        _ => None,
    };
    let Some((client, server)) = ends else {
        let msg = "This packet is not a TCP segment (or analysis has not reached it): no ladder.";
        f.render_widget(
            Paragraph::new(msg).block(title(" Ladder ".into(), app.focus == Pane::Lower)),
            area,
        );
        return;
    };
    // The segments around the selected one: as many as fit, and a few more.
    let h = usize::from(inner.height);
    let at = frames.iter().position(|n| *n == cur).unwrap_or(0);
    let from = at.saturating_sub(h);
    let to = (at + h).min(frames.len());
    let mut rungs = Vec::new();
    for n in &frames[from..to] {
        if let Some(l) = app.store.get(*n)
            && let Some((_, r)) = ladder::rung(&l.d)
        {
            rungs.push(r);
        }
    }
    let ep = |(ip, port): (std::net::IpAddr, u16)| match ip {
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
    };
    let mut text = Vec::new();
    let more = (frames.len() - to) as u64;
    let _ = ladder::write(&mut text, &ep(client), &ep(server), &rungs, more);
    let text = String::from_utf8_lossy(&text);
    let all: Vec<&str> = text.lines().collect();
    let cur_line = all
        .iter()
        .position(|l| l.split_whitespace().next() == Some(cur.to_string().as_str()))
        .unwrap_or(0);
    let skip = cur_line
        .saturating_sub(h / 2)
        .min(all.len().saturating_sub(h));
    let mut lines: Vec<Line> = Vec::new();
    // The heading stays on top.
    if let Some(first) = all.first() {
        lines.push(Line::from(first.to_string()));
    }
    for (i, l) in all
        .iter()
        .enumerate()
        .skip(skip.max(1))
        .take(h.saturating_sub(1))
    {
        let style = if i == cur_line {
            reversed()
        } else {
            Style::default()
        };
        lines.push(Line::from(Span::styled(l.to_string(), style)));
    }
    let head = format!(
        " Ladder: TCP stream, {} segments (frame {cur} marked; l closes) ",
        frames.len()
    );
    f.render_widget(
        Paragraph::new(lines).block(title(head, app.focus == Pane::Lower)),
        area,
    );
}

/// Draws a table of `rows` (already cut to columns) with a header, the selected row in
/// reverse video.
fn draw_table(
    f: &mut Frame<'_>,
    app: &mut App,
    area: Rect,
    head: String,
    header: &[(&str, usize)],
    (offset, total, rows): (usize, usize, Vec<Vec<String>>),
) {
    let inner = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    app.areas.lower = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    app.lower_rows = total;
    app.lower_row = app.lower_row.min(total.saturating_sub(1));
    let h = usize::from(inner.height.saturating_sub(1)).max(1);
    if app.lower_row < app.lower_top {
        app.lower_top = app.lower_row;
    } else if app.lower_row >= app.lower_top + h {
        app.lower_top = app.lower_row + 1 - h;
    }
    let w = usize::from(inner.width);
    let join = |cells: &mut dyn Iterator<Item = (&str, usize)>| {
        let mut s = String::new();
        let mut used = 0;
        for (c, cw) in cells {
            let cw = cw.min(w.saturating_sub(used));
            s.push_str(&fit(c, cw));
            s.push(' ');
            used += cw + 1;
        }
        s
    };
    let mut lines = vec![Line::from(Span::styled(
        join(&mut header.iter().copied()),
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    for (i, r) in rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i + offset, r))
        .skip_while(|(i, _)| *i < app.lower_top)
        .take(h)
    {
        let text = join(&mut r.iter().map(String::as_str).zip(header.iter().map(|h| h.1)));
        let style = if i == app.lower_row {
            reversed()
        } else {
            Style::default()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    f.render_widget(
        Paragraph::new(lines).block(title(head, app.focus == Pane::Lower)),
        area,
    );
}

fn draw_flows(f: &mut Frame<'_>, app: &mut App, area: Rect) {
    // Only the rows on screen are copied out (a big capture has 100 000s of flows).
    let h = usize::from(area.height).max(2);
    let (done, total, flows) = {
        let p = app.store.packets();
        let from = app.lower_top.min(p.flows.len());
        let to = (app.lower_row.max(from) + h).min(p.flows.len());
        let from = from.min(to.saturating_sub(h));
        (
            p.analysed_all,
            p.flows.len(),
            (from, p.flows[from..to].to_vec()),
        )
    };
    let (offset, flows) = flows;
    if !done {
        app.lower_rows = 0;
        let msg = "The conversations are counted as analysis goes through the capture; they appear when it ends.";
        f.render_widget(
            Paragraph::new(msg).block(title(" Flows ".into(), app.focus == Pane::Lower)),
            area,
        );
        return;
    }
    let header = [
        ("proto", 5),
        ("stream", 6),
        ("client", 22),
        ("server", 22),
        ("service", 8),
        ("packets", 7),
        ("bytes", 9),
        ("state", 5),
        ("history", 12),
    ];
    let rows = flows
        .iter()
        .map(|fl| {
            vec![
                fl.proto().to_string(),
                fl.stream.to_string(),
                fl.client_text(),
                fl.server_text(),
                fl.service.unwrap_or("").to_string(),
                fl.packets.to_string(),
                fl.bytes.to_string(),
                fl.conn_state.to_string(),
                fl.history().to_string(),
            ]
        })
        .collect();
    let head = format!(" Flows ({total}; Enter shows one, f closes) ");
    draw_table(f, app, area, head, &header, (offset, total, rows));
}

fn draw_neighbours(f: &mut Frame<'_>, app: &mut App, area: Rect) {
    let (arp, first) = {
        let p = app.store.packets();
        (p.arp.clone(), p.first_ts)
    };
    let base = first.map(|t| t.as_secs_f64()).unwrap_or(0.0);
    let header = [
        ("IP", 15),
        ("MAC", 17),
        ("first seen s", 12),
        ("last seen s", 12),
        ("packets", 7),
        ("warning", 30),
    ];
    let rows = arp
        .iter()
        .map(|b| {
            let others: Vec<String> = b
                .macs
                .iter()
                .filter(|m| **m != b.mac)
                .map(|m| m.to_string())
                .collect();
            vec![
                b.ip.to_string(),
                b.mac.to_string(),
                format!("{:.3}", b.first_seen.as_secs_f64() - base),
                format!("{:.3}", b.last_seen.as_secs_f64() - base),
                b.packets.to_string(),
                if others.is_empty() {
                    String::new()
                } else {
                    format!("also claimed by {}", others.join(", "))
                },
            ]
        })
        .collect();
    let head = format!(" ARP neighbours ({}; a closes) ", arp.len());
    let total = arp.len();
    draw_table(f, app, area, head, &header, (0, total, rows));
}

fn draw_status(f: &mut Frame<'_>, app: &mut App, area: Rect) {
    if let Some((kind, text)) = &app.prompt {
        let label = match kind {
            Prompt::Filter => "filter: ",
            Prompt::Write => "save to: ",
        };
        let line = Line::from(vec![
            Span::styled(label, Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(text.clone()),
            Span::styled(" ", reversed()),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    if let Some(m) = &app.message {
        f.render_widget(Paragraph::new(m.clone()), area);
        return;
    }
    let p = app.store.packets();
    let mut s = format!(" {}", app.store.name());
    if let Some(live) = p.live {
        s.push_str(&format!(
            " | {} captured, {:.0} pkt/s",
            live.captured, live.pps
        ));
        match live.dropped {
            Some(d) => s.push_str(&format!(", {d} dropped by the kernel")),
            None => s.push_str(", drops unknown"),
        }
        if p.forgotten > 0 {
            s.push_str(&format!(", {} older ones out of the ring", p.forgotten));
        }
        if live.ended {
            s.push_str(" | capture ended");
        }
    } else {
        s.push_str(&format!(" | {} packets", p.held()));
        if !p.indexed_all {
            let pct = (p.bytes_indexed as f64 * 100.0 / p.file_len.max(1) as f64).min(100.0);
            s.push_str(&format!(" | indexing {pct:.0}%"));
        }
        if !p.analysed_all {
            let pct = p.analysed() as f64 * 100.0 / p.held().max(1) as f64;
            s.push_str(&format!(" | analysing {pct:.0}%"));
        }
    }
    if let Some(e) = &p.error {
        s.push_str(&format!(" | {e}"));
    }
    drop(p);
    if let Some(e) = super::background_panic() {
        s.push_str(&format!(" | {e}"));
    }
    let right = " ? keys  q quit ";
    let w = usize::from(area.width);
    let left = fit(&s, w.saturating_sub(right.len()));
    f.render_widget(
        Paragraph::new(format!("{left}{right}")).style(reversed()),
        area,
    );
}

fn draw_help(f: &mut Frame<'_>, area: Rect) {
    let w = area.width.min(76);
    let h = (HELP.len() as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, v)| Line::from(format!(" {} {v}", fit(k, 13))))
        .collect();
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys (any key closes) "),
        ),
        r,
    );
}
