//! UDP conversations: no handshake and no teardown, just datagrams between two
//! endpoints. The client is the side that sent the first datagram seen.

use std::net::IpAddr;

use super::FlowSummary;
use super::flowtable::{
    Endpoint, Flow, FlowKey, FlowTable, Retired, RetiredFlow, SharedSink, TrackerConfig,
};
use crate::capture::Timestamp;
use crate::dissect::lean::Datagram;

#[derive(Debug)]
pub(super) struct UdpFlow {
    stream: u64,
    client: Endpoint,
    server: Endpoint,
    first_ts: Timestamp,
    last_ts: Timestamp,
    /// (packets, frame bytes, payload bytes) sent by the client and by the server.
    sides: [(u64, u64, u64); 2],
}

impl Flow for UdpFlow {
    fn last_seen(&self) -> Timestamp {
        self.last_ts
    }
    fn is_closed(&self) -> bool {
        false
    }
}

/// Counts UDP datagrams per conversation.
#[derive(Debug)]
pub struct UdpTracker {
    flows: FlowTable<UdpFlow>,
    next_stream: u64,
    retired: Retired,
}

impl Default for UdpTracker {
    fn default() -> Self {
        UdpTracker::new(TrackerConfig::default())
    }
}

impl UdpTracker {
    /// A tracker with the given limits.
    pub fn new(cfg: TrackerConfig) -> UdpTracker {
        UdpTracker {
            flows: FlowTable::new(cfg),
            next_stream: 0,
            retired: Retired::default(),
        }
    }

    /// Keep summaries of retired conversations for [`UdpTracker::finish`].
    pub fn keep_retired(&mut self, keep: bool) {
        self.retired.keep(keep);
    }

    /// Send the summary of every conversation retired from now on to `sink`.
    pub fn send_retired_to(&mut self, sink: SharedSink) {
        self.retired.send_to(sink);
    }

    /// Summaries of the conversations retired since the last call.
    pub fn take_retired(&mut self) -> Vec<FlowSummary> {
        self.retired.take()
    }

    /// Counts one datagram; returns a sentence the first time the table overflows.
    pub fn track(
        &mut self,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        udp: &Datagram,
        frame_len: u32,
    ) -> Option<String> {
        let retired = &mut self.retired;
        let note = self.flows.maintain(ts, "UDP conversations", |f| {
            retired.push(RetiredFlow::udp(f))
        });
        let a = (src, udp.src_port);
        let b = (dst, udp.dst_port);
        let next = &mut self.next_stream;
        let make = || {
            let stream = *next;
            *next += 1;
            UdpFlow {
                stream,
                client: a,
                server: b,
                first_ts: ts,
                last_ts: ts,
                sides: [(0, 0, 0); 2],
            }
        };
        self.flows.update(FlowKey::new(a, b), make, |flow| {
            flow.last_ts = ts;
            let side = &mut flow.sides[usize::from(a != flow.client)];
            side.0 += 1;
            side.1 += u64::from(frame_len);
            side.2 += u64::from(udp.payload_len);
        });
        note
    }

    /// Retires every conversation and returns the summaries kept, in stream order.
    pub fn finish(&mut self) -> Vec<FlowSummary> {
        let drained: Vec<UdpFlow> = self.flows.drain().collect();
        for f in drained {
            self.retired.push(RetiredFlow::udp(f));
        }
        let mut v = self.retired.take();
        v.sort_by_key(|s| s.stream);
        v
    }
}

pub(super) fn summarise(f: &UdpFlow) -> FlowSummary {
    let replied = f.sides[1].0 > 0;
    // One allocation of the final size (pushing the `d` grew a one-byte string).
    let history = String::from(if replied { "Dd" } else { "D" });
    FlowSummary {
        proto: "udp",
        stream: f.stream,
        service: crate::lookup::service(f.server.1, crate::lookup::Transport::Udp)
            .or_else(|| crate::lookup::service(f.client.1, crate::lookup::Transport::Udp))
            .map(|s| s.name),
        conn_state: if replied { "SF" } else { "S0" },
        history,
        ..FlowSummary::new(f.client, f.server, f.first_ts, f.last_ts, f.sides)
    }
}
