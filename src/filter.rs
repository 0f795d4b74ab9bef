//! Choosing packets: a BPF expression in tcpdump's syntax, applied to saved captures
//! through libpcap's offline filter (packets it rejects are not there at all, as with
//! `tcpdump -r FILE EXPR`), and simple display filters (`--only`, `--stream`) applied after
//! analysis, so that connection tracking still sees every packet.

use crate::capture::live::{LiveError, compile_filter};
use crate::capture::{LinkType, Next, Source};
use crate::dissect::Dissection;

/// A source that only yields the frames a compiled BPF program accepts.
pub struct BpfSource<'s, S: ?Sized> {
    inner: &'s mut S,
    expr: String,
    /// The program compiled for each link type met so far (libpcap compiles per link
    /// type, and a pcapng file may mix them); `None` where the expression does not
    /// compile for that link type, whose frames it then rejects.
    programs: Vec<(LinkType, Option<pcap::BpfProgram>)>,
}

impl<S: ?Sized> std::fmt::Debug for BpfSource<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BpfSource")
    }
}

impl<'s, S: Source + ?Sized> BpfSource<'s, S> {
    /// Wraps `inner`, compiling `expr` (tcpdump syntax) for the link type of its frames
    /// (Ethernet when it does not say); an expression that does not compile for it is
    /// an error.
    pub fn new(inner: &'s mut S, expr: &str) -> Result<Self, LiveError> {
        let link = inner.link_type().unwrap_or(LinkType::ETHERNET);
        let program = compile_filter(expr, link)?;
        Ok(BpfSource {
            inner,
            expr: expr.to_string(),
            programs: vec![(link, Some(program))],
        })
    }
}

impl<S: Source + ?Sized> Source for BpfSource<'_, S> {
    type Error = S::Error;

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn link_type(&self) -> Option<LinkType> {
        self.inner.link_type()
    }

    fn interface_names(&self) -> Option<std::sync::Arc<crate::capture::InterfaceNames>> {
        self.inner.interface_names()
    }

    fn read_frame(&mut self, notes: &mut Vec<String>) -> Result<Next<'_>, Self::Error> {
        let BpfSource {
            inner,
            expr,
            programs,
        } = self;
        match inner.read_frame(notes)? {
            Next::Frame(f) => {
                let i = match programs.iter().position(|(l, _)| *l == f.link) {
                    Some(i) => i,
                    None => {
                        programs.push((f.link, compile_filter(expr, f.link).ok()));
                        programs.len() - 1
                    }
                };
                let accepted = programs
                    .get(i)
                    .and_then(|(_, p)| p.as_ref())
                    .is_some_and(|p| p.filter(f.bytes));
                if accepted {
                    Ok(Next::Frame(f))
                } else {
                    notes.clear();
                    Ok(Next::Nothing)
                }
            }
            other => Ok(other),
        }
    }
}

/// The layer `--only` selects, by its key (one of [`crate::dissect::LAYER_KEYS`]):
/// a packet is shown when that layer is in the frame itself (not only quoted by an ICMP
/// error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Only(pub &'static str);

/// What to show of the packets read (every packet is still analysed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DisplayFilter {
    /// Only this protocol.
    pub only: Option<Only>,
    /// Only this TCP stream.
    pub stream: Option<u64>,
}

impl DisplayFilter {
    /// True when no display filter is set.
    pub fn is_empty(&self) -> bool {
        self.only.is_none() && self.stream.is_none()
    }

    /// True when `d` is to be shown.
    pub fn matches(&self, d: &Dissection) -> bool {
        let proto = self.only.is_none_or(|Only(key)| d.has(key));
        let stream = match self.stream {
            None => true,
            Some(s) => d.ctx.tcp.as_ref().is_some_and(|c| c.stream == s),
        };
        proto && stream
    }
}

/// The pcapng comment `--annotate` writes for a packet: its TCP stage and explanation,
/// ARP pairing, and its notes — what wirelens says about it, for Wireshark's packet list.
pub fn annotation(d: &Dissection) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(t) = &d.tcp
        && let Some(c) = &d.ctx.tcp
    {
        parts.push(format!("{}: {}", c.stage, c.explain(t)));
    }
    if let Some(a) = &d.arp {
        parts.push(a.explain());
    }
    if let Some(crate::context::Answer {
        answers: req,
        latency_ms: ms,
    }) = d.ctx.answer
    {
        parts.push(format!("answers frame {req}, {ms} ms later"));
    }
    parts.extend(d.notes.iter().cloned());
    (!parts.is_empty()).then(|| parts.join(" | "))
}
