//! The one palette: a colour for each layer mark, used by the summary line, the tables
//! (headings and borders) and the hex dump alike, so that the same colour always means
//! the same layer.
//!
//! Colours are plain ANSI SGR escapes written as bytes. Only the six basic colours that
//! read on both dark and light backgrounds are used (no white, black or yellow), with bold
//! and faint to tell related layers apart. When colour is off the renderers write exactly
//! what they wrote before colour existed.
//!
//! | mark | layer | colour |
//! |---|---|---|
//! | E | Ethernet | blue |
//! | Q | 802.1Q VLAN tag | bold blue |
//! | A | ARP | magenta |
//! | I | IPv4 | green |
//! | T | TCP | cyan |
//! | U | UDP | bold magenta |
//! | C | ICMP | bold cyan |
//! | i, t, u | headers quoted by ICMP | faint green, cyan, magenta |
//! | P | data | not coloured |
//! | O, - | undecoded bytes, padding | faint |
//! | notes | damage, bad checksums, truncation | red |

use std::sync::atomic::{AtomicBool, Ordering};

use crate::proto::Hue;

/// Ends every coloured run: back to the terminal's default colours.
pub const RESET: &[u8] = b"\x1b[0m";

/// Notes (damage, bad checksums, truncation, table-full warnings): red.
pub const NOTE: &[u8] = b"\x1b[31m";

/// Headings that belong to no layer (frame lines, the flows and stats headings): bold.
pub const HEADING: &[u8] = b"\x1b[1m";

/// The SGR escape that starts a run of a layer's colour (its [`Hue`], faint when the
/// header is quoted inside an ICMP error), or `None` for bytes shown in the terminal's
/// default colours (data).
pub const fn hue(h: Hue, quoted: bool) -> Option<&'static [u8]> {
    Some(match (h, quoted) {
        (Hue::Blue, _) => b"\x1b[34m",
        (Hue::BoldBlue, _) => b"\x1b[1;34m",
        (Hue::Magenta, _) => b"\x1b[35m",
        (Hue::Green, false) => b"\x1b[32m",
        (Hue::BoldGreen, false) => b"\x1b[1;32m",
        (Hue::Green | Hue::BoldGreen | Hue::DimGreen, _) => b"\x1b[2;32m",
        (Hue::Cyan, false) => b"\x1b[36m",
        (Hue::BoldMagenta, false) => b"\x1b[1;35m",
        (Hue::BoldCyan, false) => b"\x1b[1;36m",
        (Hue::Cyan | Hue::BoldCyan | Hue::DimCyan, _) => b"\x1b[2;36m",
        (Hue::BoldMagenta | Hue::DimMagenta, _) => b"\x1b[2;35m",
        (Hue::Dim, _) => b"\x1b[2m",
        (Hue::Plain, _) => return None,
    })
}

/// The colour of the layer whose mark is `mark`, among `sections` (the layers of one
/// packet), when colouring.
pub fn of_mark(sections: &[super::Section], mark: char) -> Option<&'static [u8]> {
    sections
        .iter()
        .find(|s| s.mark == mark)
        .and_then(|s| hue(s.hue, s.quoted))
}

/// The longest escape [`hue`], [`NOTE`] or [`HEADING`] returns, in bytes.
pub const MAX_SGR: usize = 7;

/// `--color`: when to colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum When {
    /// When stdout is a terminal, `TERM` is not `dumb` and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always, even into a pipe or a file, and whatever `NO_COLOR` says.
    Always,
    /// Never.
    Never,
}

impl When {
    /// Whether to colour, given whether stdout is a terminal and the values of the
    /// `NO_COLOR` and `TERM` environment variables (https://no-color.org: a non-empty
    /// `NO_COLOR` turns colour off unless it is asked for explicitly).
    pub fn decide(self, stdout_is_tty: bool, no_color: Option<&str>, term: Option<&str>) -> bool {
        match self {
            When::Always => true,
            When::Never => false,
            When::Auto => {
                stdout_is_tty && no_color.is_none_or(str::is_empty) && term != Some("dumb")
            }
        }
    }

    /// [`When::decide`] for this process: its stdout and environment.
    pub fn resolve(self) -> bool {
        use std::io::IsTerminal;
        let var = |name| std::env::var(name).ok();
        self.decide(
            std::io::stdout().is_terminal(),
            var("NO_COLOR").as_deref(),
            var("TERM").as_deref(),
        )
    }
}

/// Whether contexts made from now on colour their output. Off unless the binary turns it
/// on, so that the library's renderers (and the tests that call them) write plain text.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns colour on or off for every renderer created afterwards (the binary calls it once,
/// after reading `--color`; the lab and the sender build their own render contexts and
/// pick it up from here).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether colour is on (see [`set_enabled`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Appends `text` to `out` in colour `sgr` (and a reset after it), or plainly when `sgr`
/// is `None`.
pub fn paint(out: &mut Vec<u8>, sgr: Option<&[u8]>, text: &[u8]) {
    match sgr {
        Some(c) => {
            out.extend_from_slice(c);
            out.extend_from_slice(text);
            out.extend_from_slice(RESET);
        }
        None => out.extend_from_slice(text),
    }
}

/// Removes every SGR escape (`ESC [ … m`) from `bytes`: what a terminal would show,
/// without the colours. Used by tests to check that colour never changes the layout.
pub fn strip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        if b == 0x1b && tail.first() == Some(&b'[') {
            let body = tail.get(1..).unwrap_or_default();
            match body.iter().position(|&c| c == b'm') {
                Some(end)
                    if body
                        .iter()
                        .take(end)
                        .all(|c| c.is_ascii_digit() || *c == b';') =>
                {
                    rest = body.get(end + 1..).unwrap_or_default();
                    continue;
                }
                _ => {}
            }
        }
        out.push(b);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_the_terminal_no_color_and_term() {
        assert!(When::Auto.decide(true, None, Some("xterm")));
        assert!(When::Auto.decide(true, Some(""), None));
        assert!(!When::Auto.decide(false, None, Some("xterm")));
        assert!(!When::Auto.decide(true, Some("1"), Some("xterm")));
        assert!(!When::Auto.decide(true, None, Some("dumb")));
        assert!(When::Always.decide(false, Some("1"), Some("dumb")));
        assert!(!When::Never.decide(true, None, Some("xterm")));
    }

    #[test]
    fn every_layer_has_a_distinct_short_escape() {
        let hues = [
            (Hue::Blue, false),
            (Hue::BoldBlue, false),
            (Hue::Magenta, false),
            (Hue::Green, false),
            (Hue::BoldGreen, false),
            (Hue::Cyan, false),
            (Hue::BoldMagenta, false),
            (Hue::BoldCyan, false),
            (Hue::Green, true),
            (Hue::Cyan, true),
            (Hue::BoldMagenta, true),
            (Hue::Dim, false),
        ];
        let escapes: Vec<&[u8]> = hues.iter().filter_map(|&(h, q)| hue(h, q)).collect();
        assert_eq!(escapes.len(), hues.len());
        for (i, e) in escapes.iter().enumerate() {
            assert!(e.len() <= MAX_SGR);
            assert_eq!(strip(e), b"");
            assert!(!escapes.iter().skip(i + 1).any(|o| o == e));
        }
        assert_eq!(hue(Hue::Plain, false), None);
        assert!(NOTE.len() <= MAX_SGR && HEADING.len() <= MAX_SGR);
    }

    #[test]
    fn strip_keeps_everything_but_escapes() {
        let mut v = Vec::new();
        paint(&mut v, hue(Hue::Cyan, false), "│ a → b".as_bytes());
        v.extend_from_slice(b"\x1b[x plain");
        assert_eq!(strip(&v), "│ a → b\x1b[x plain".as_bytes());
    }
}
