//! Turns the ANSI colour escapes the renderers write ([`crate::render::color`]) into
//! ratatui styles, so that the viewer shows a line in exactly the colours `read` uses.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// The style an SGR parameter list (`1;34`) sets, on top of `base`.
pub fn style_of(params: &str, base: Style) -> Style {
    let mut s = base;
    for p in params.split(';') {
        s = match p {
            "" | "0" => Style::default(),
            "1" => s.add_modifier(Modifier::BOLD),
            "2" => s.add_modifier(Modifier::DIM),
            "7" => s.add_modifier(Modifier::REVERSED),
            "31" => s.fg(Color::Red),
            "32" => s.fg(Color::Green),
            "33" => s.fg(Color::Yellow),
            "34" => s.fg(Color::Blue),
            "35" => s.fg(Color::Magenta),
            "36" => s.fg(Color::Cyan),
            _ => s,
        };
    }
    s
}

/// The style of an escape such as [`crate::render::color::hue`] returns.
pub fn style_of_escape(esc: Option<&[u8]>) -> Style {
    match esc {
        Some(e) => {
            let text = String::from_utf8_lossy(e);
            let params = text.trim_start_matches("\x1b[").trim_end_matches('m');
            style_of(params, Style::default())
        }
        None => Style::default(),
    }
}

/// A line of text with SGR escapes, as styled spans (other escapes are dropped).
pub fn line(text: &str) -> Line<'static> {
    let mut spans = Vec::new();
    let mut style = Style::default();
    let mut rest = text;
    while let Some(i) = rest.find('\x1b') {
        if i > 0 {
            spans.push(Span::styled(rest[..i].to_string(), style));
        }
        let after = &rest[i + 1..];
        match after
            .strip_prefix('[')
            .and_then(|a| a.find('m').map(|m| (a, m)))
        {
            Some((a, m)) => {
                style = style_of(&a[..m], style);
                rest = &a[m + 1..];
            }
            None => rest = after,
        }
    }
    if !rest.is_empty() {
        spans.push(Span::styled(rest.to_string(), style));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_become_styles_and_the_text_stays() {
        let l = line("a \x1b[1;34mb\x1b[0m c");
        let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "a b c");
        assert_eq!(l.spans[1].style.fg, Some(Color::Blue));
        assert_eq!(l.spans[2].style, Style::default());
    }
}
