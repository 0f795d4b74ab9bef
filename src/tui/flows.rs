//! The conversations table of the flows pane, kept compact: a big capture has hundreds
//! of thousands of conversations, and a [`FlowSummary`] (three strings, every counter
//! of `wirelens flows`) costs about three times what the pane shows of one.

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;

use crate::analysis::flowtable::{Endpoint, SummarySink};
use crate::analysis::{FlowSummary, endpoint_text};

/// Bytes of a conversation's history kept: the tracker writes each of its six letters
/// at most once per direction, so 12 at most.
const HISTORY: usize = 14;

/// One conversation, as the flows pane shows it (112 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRow {
    /// Conversation number within its protocol, from 0.
    pub stream: u64,
    /// Packets both ways.
    pub packets: u64,
    /// Frame bytes both ways.
    pub bytes: u64,
    /// Zeek's connection state code.
    pub conn_state: &'static str,
    /// Service name of the server port, when known.
    pub service: Option<&'static str>,
    /// The client.
    pub client: Endpoint,
    /// The server.
    pub server: Endpoint,
    history: [u8; HISTORY],
    history_len: u8,
    tcp: bool,
}

impl FlowRow {
    /// The row of `s`.
    pub fn of(s: &FlowSummary) -> FlowRow {
        let mut history = [0; HISTORY];
        // Whole characters only (the tracker writes ASCII letters).
        let mut len = 0;
        for (i, c) in s.history.char_indices() {
            if i + c.len_utf8() > HISTORY {
                break;
            }
            len = i + c.len_utf8();
        }
        history[..len].copy_from_slice(&s.history.as_bytes()[..len]);
        FlowRow {
            stream: s.stream,
            packets: s.packets,
            bytes: s.bytes,
            conn_state: s.conn_state,
            service: s.service,
            client: endpoint(&s.client),
            server: endpoint(&s.server),
            history,
            history_len: len as u8,
            tcp: s.proto == "tcp",
        }
    }

    /// "tcp" or "udp".
    pub fn proto(&self) -> &'static str {
        if self.tcp { "tcp" } else { "udp" }
    }

    /// Zeek-style history, as `wirelens flows` writes it.
    pub fn history(&self) -> &str {
        let bytes = self
            .history
            .get(..usize::from(self.history_len))
            .unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The client as `ip:port`.
    pub fn client_text(&self) -> String {
        endpoint_text(self.client)
    }

    /// The server as `ip:port`.
    pub fn server_text(&self) -> String {
        endpoint_text(self.server)
    }
}

/// The endpoint [`endpoint_text`] wrote as `text` (`ip:port`, `[ipv6]:port`: the form
/// of `SocketAddr`'s `Display`, read back exactly); 0.0.0.0:0 should it not be one.
fn endpoint(text: &str) -> Endpoint {
    text.parse::<SocketAddr>()
        .map_or((Ipv4Addr::UNSPECIFIED.into(), 0), |a| (a.ip(), a.port()))
}

/// Collects the rows of the conversations analysis retires: it is handed each summary
/// as the conversation ends, so the summaries never pile up.
#[derive(Debug, Default)]
pub struct FlowRows {
    rows: Vec<FlowRow>,
}

impl SummarySink for FlowRows {
    fn retire(&mut self, summary: FlowSummary) {
        self.rows.push(FlowRow::of(&summary));
    }
}

impl FlowRows {
    /// A collector to give to [`crate::analysis::Analyzer::send_summaries_to`].
    pub fn shared() -> Rc<RefCell<FlowRows>> {
        Rc::new(RefCell::new(FlowRows::default()))
    }

    /// The rows collected, TCP then UDP, each in stream order (as `wirelens flows`
    /// lists them); the collector is left empty.
    pub fn take(&mut self) -> Vec<FlowRow> {
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_unstable_by_key(|r| (!r.tcp, r.stream));
        rows.shrink_to_fit();
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;

    #[test]
    fn a_row_shows_what_its_summary_says() {
        let v6: std::net::IpAddr = "fd77::1".parse().unwrap();
        let mut s = FlowSummary::new(
            (v6, 40000),
            ("fd77::2".parse().unwrap(), 80),
            Timestamp::default(),
            Timestamp::default(),
            [(3, 300, 10), (2, 200, 0)],
        );
        s.proto = "tcp";
        s.stream = 9;
        s.history = "ShADadFf".into();
        s.conn_state = "SF";
        let r = FlowRow::of(&s);
        assert_eq!(std::mem::size_of::<FlowRow>(), 112);
        assert_eq!(
            (r.proto(), r.stream, r.packets, r.bytes),
            ("tcp", 9, 5, 500)
        );
        assert_eq!(r.client_text(), s.client);
        assert_eq!(r.server_text(), s.server);
        assert_eq!((r.history(), r.conn_state), ("ShADadFf", "SF"));
    }
}
