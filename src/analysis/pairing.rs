//! Replies paired with the requests they answer, for the request/response protocols
//! that are not connections: ICMP and ICMPv6 echo (ping) and IPv6 neighbour discovery
//! (a neighbour advertisement answers the solicitation for its target, as an ARP reply
//! answers an ARP request; see [`super::arp`] for ARP).
//!
//! Memory is bounded: at most [`super::arp::MAX_PENDING`] unanswered requests per kind,
//! and a request older than [`super::arp::REQUEST_TIMEOUT`] seconds of capture time is
//! answered by nothing.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};

use super::arp::{MAX_PENDING, REQUEST_TIMEOUT};
use super::flowtable::FlowHashBuilder;
use crate::capture::Timestamp;
use crate::context::Answer;
use crate::proto::icmp::{self, Icmp};
use crate::proto::icmpv6::{self, Icmpv6};

/// Requests not yet answered, by the key their answer will carry.
#[derive(Debug)]
pub struct Pending<K> {
    map: HashMap<K, (u64, Timestamp), FlowHashBuilder>,
}

impl<K> Default for Pending<K> {
    fn default() -> Self {
        Pending {
            map: HashMap::default(),
        }
    }
}

impl<K: Eq + Hash> Pending<K> {
    /// Remembers request frame `n`, sent at `ts`, under `key` (a later request with the
    /// same key replaces it). When the table is full, requests past the timeout go
    /// first; if it is still full, this one is not remembered.
    pub fn ask(&mut self, key: K, n: u64, ts: Timestamp) {
        if self.map.len() >= MAX_PENDING {
            let now = ts.as_secs_f64();
            self.map
                .retain(|_, (_, t)| now - t.as_secs_f64() <= REQUEST_TIMEOUT);
        }
        if self.map.len() < MAX_PENDING || self.map.contains_key(&key) {
            self.map.insert(key, (n, ts));
        }
    }

    /// The request a reply sent at `ts` answers, by its key, and how long the answer
    /// took; the request is then answered and forgotten.
    pub fn answer(&mut self, key: &K, ts: Timestamp) -> Option<Answer> {
        let (req, at) = self.map.remove(key)?;
        let secs = ts.as_secs_f64() - at.as_secs_f64();
        (secs <= REQUEST_TIMEOUT).then(|| Answer {
            answers: req,
            // Rounded to the microsecond, in milliseconds.
            latency_ms: (secs * 1e6).round() / 1e3,
        })
    }

    /// Requests waiting for an answer now.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no request is waiting.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// An echo request's key: (asker, asked, identifier, sequence number). Its reply comes
/// from the asked address to the asker with the same identifier and sequence number.
type EchoKey = (IpAddr, IpAddr, u16, u16);

/// Pairs echo replies with their requests and neighbour advertisements with their
/// solicitations.
#[derive(Debug, Default)]
pub struct PairTracker {
    echo: Pending<EchoKey>,
    /// Solicitations by the address they ask about.
    solicited: Pending<Ipv6Addr>,
}

impl PairTracker {
    /// Follows an ICMP message from `src` to `dst` (frame `n`): for an echo reply, the
    /// request it answers.
    pub fn icmp(
        &mut self,
        n: u64,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        ic: &Icmp,
    ) -> Option<Answer> {
        self.echo_message(n, ts, src, dst, (ic.icmp_type, ic.id, ic.seq), {
            (icmp::types::ECHO_REQUEST, icmp::types::ECHO_REPLY)
        })
    }

    /// Follows an ICMPv6 message from `src` to `dst` (frame `n`): for an echo reply, the
    /// request it answers; for a neighbour advertisement, the latest solicitation for
    /// its target.
    pub fn icmpv6(
        &mut self,
        n: u64,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        ic: &Icmpv6,
    ) -> Option<Answer> {
        let target = ic.ndp.as_ref().and_then(|nd| nd.target);
        match (ic.icmp_type, target) {
            (icmpv6::types::NEIGHBOR_SOLICITATION, Some(t)) => {
                self.solicited.ask(t, n, ts);
                None
            }
            (icmpv6::types::NEIGHBOR_ADVERTISEMENT, Some(t)) => self.solicited.answer(&t, ts),
            _ => self.echo_message(n, ts, src, dst, (ic.icmp_type, ic.id, ic.seq), {
                (icmpv6::types::ECHO_REQUEST, icmpv6::types::ECHO_REPLY)
            }),
        }
    }

    /// An echo request is remembered; an echo reply finds its request.
    fn echo_message(
        &mut self,
        n: u64,
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        (kind, id, seq): (u8, Option<u16>, Option<u16>),
        (request, reply): (u8, u8),
    ) -> Option<Answer> {
        let (Some(id), Some(seq)) = (id, seq) else {
            return None;
        };
        if kind == request {
            self.echo.ask((src, dst, id, seq), n, ts);
            None
        } else if kind == reply {
            self.echo.answer(&(dst, src, id, seq), ts)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(micros: i64) -> Timestamp {
        Timestamp {
            secs: micros / 1_000_000,
            nanos: (micros % 1_000_000) as u32 * 1000,
        }
    }

    #[test]
    fn a_reply_answers_its_request_once_and_within_the_timeout() {
        let mut p: Pending<u8> = Pending::default();
        p.ask(1, 10, ts(0));
        assert_eq!(
            p.answer(&1, ts(1_250)),
            Some(Answer {
                answers: 10,
                latency_ms: 1.25
            })
        );
        assert_eq!(p.answer(&1, ts(1_300)), None, "answered once");
        p.ask(2, 11, ts(0));
        assert_eq!(p.answer(&2, ts(11_000_000)), None, "too late");
        assert!(p.is_empty());
    }

    #[test]
    fn pending_requests_stay_bounded() {
        let mut p: Pending<u32> = Pending::default();
        for i in 0..(MAX_PENDING as u32 + 100) {
            p.ask(i, u64::from(i), ts(0));
        }
        assert_eq!(p.len(), MAX_PENDING);
    }
}
