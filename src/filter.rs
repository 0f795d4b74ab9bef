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
    program: pcap::BpfProgram,
}

impl<S: ?Sized> std::fmt::Debug for BpfSource<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BpfSource")
    }
}

impl<'s, S: Source + ?Sized> BpfSource<'s, S> {
    /// Wraps `inner`, compiling `expr` (tcpdump syntax) for Ethernet frames.
    pub fn new(inner: &'s mut S, expr: &str) -> Result<Self, LiveError> {
        Ok(BpfSource {
            inner,
            program: compile_filter(expr)?,
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

    fn read_frame(&mut self, notes: &mut Vec<String>) -> Result<Next<'_>, Self::Error> {
        let program = &self.program;
        match self.inner.read_frame(notes)? {
            Next::Frame(f) if !program.filter(f.bytes) => {
                notes.clear();
                Ok(Next::Nothing)
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
