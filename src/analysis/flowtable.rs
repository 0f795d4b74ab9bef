//! A bounded table of conversations keyed by their two endpoints, shared by the TCP and
//! UDP trackers. Flows idle longer than a timeout (in capture time) are retired; when the
//! table is full, the least recently active eighth is retired early, and the first time
//! that happens the caller gets a sentence to show the user.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;
use std::net::Ipv4Addr;

use crate::capture::Timestamp;

/// One end of a conversation: address and port.
pub type Endpoint = (Ipv4Addr, u16);

/// Limits of a flow table, in capture time.
#[derive(Clone, Copy, Debug)]
pub struct TrackerConfig {
    /// Most flows tracked at once.
    pub max_flows: usize,
    /// Seconds of capture time after which an idle open flow is retired.
    pub idle_timeout: f64,
    /// Seconds of capture time after which a closed flow is retired.
    pub closed_timeout: f64,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            max_flows: 65_536,
            idle_timeout: 300.0,
            closed_timeout: 60.0,
        }
    }
}

/// What the table needs to know of a flow to retire it.
pub trait Flow {
    /// Capture time of its last packet.
    fn last_seen(&self) -> Timestamp;
    /// True once it has ended (FIN exchange or reset).
    fn is_closed(&self) -> bool;
}

/// The two endpoints of a conversation, in a fixed order so both directions share it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FlowKey(Endpoint, Endpoint);

impl FlowKey {
    /// The key of the conversation between `a` and `b`, whichever sent the packet.
    pub fn new(a: Endpoint, b: Endpoint) -> FlowKey {
        if a <= b { FlowKey(a, b) } else { FlowKey(b, a) }
    }
}

/// Keeps room for `cap` entries in `map` without it growing past the size the cap needs.
///
/// Each removed entry can leave a tombstone in the hash table, which uses up spare room;
/// once none is left while the table is more than half full, the map doubles its buckets,
/// to 4× what `cap` needs (for the TCP table, a peak of 114 MiB instead of 60 after a
/// million connections). So before that, the entries move to a clean table of the needed
/// size, by way of a vector so that the old table is freed before the new one fills. This
/// happens once per tens of thousands of removals.
pub fn keep_room<K: Eq + Hash, V>(map: &mut HashMap<K, V>, cap: usize) {
    if map.capacity() < cap && map.len() > cap / 2 {
        let entries: Vec<(K, V)> = std::mem::take(map).into_iter().collect();
        *map = HashMap::with_capacity(cap);
        map.extend(entries);
    }
}

/// How often the table looks for timed-out flows, in seconds of capture time.
const SWEEP_EVERY: f64 = 5.0;

/// A bounded map from [`FlowKey`] to flows.
#[derive(Debug)]
pub struct FlowTable<V> {
    map: HashMap<FlowKey, V>,
    cfg: TrackerConfig,
    last_sweep: f64,
    said: bool,
    /// Flows retired early because the table was full.
    pub evicted: u64,
}

impl<V: Flow> FlowTable<V> {
    /// An empty table with these limits.
    pub fn new(cfg: TrackerConfig) -> FlowTable<V> {
        FlowTable {
            map: HashMap::new(),
            cfg,
            last_sweep: f64::NEG_INFINITY,
            said: false,
            evicted: 0,
        }
    }

    /// Retires timed-out flows (every few seconds of capture time) and, when the table is
    /// full, the least recently active eighth, handing each to `retire`. Returns a
    /// sentence the first time flows were forced out early; `what` names them
    /// ("TCP connections").
    pub fn maintain(
        &mut self,
        now: Timestamp,
        what: &str,
        mut retire: impl FnMut(V),
    ) -> Option<String> {
        keep_room(&mut self.map, self.cfg.max_flows);
        let now_s = now.as_secs_f64();
        let full = self.map.len() >= self.cfg.max_flows;
        if !full && now_s - self.last_sweep <= SWEEP_EVERY {
            return None;
        }
        self.last_sweep = now_s;
        let (idle, closed) = (self.cfg.idle_timeout, self.cfg.closed_timeout);
        let stale: Vec<FlowKey> = self
            .map
            .iter()
            .filter(|(_, f)| {
                let age = now_s - f.last_seen().as_secs_f64();
                age > idle || (f.is_closed() && age > closed)
            })
            .map(|(k, _)| *k)
            .collect();
        for k in &stale {
            if let Some(f) = self.map.remove(k) {
                retire(f);
            }
        }
        if self.map.len() < self.cfg.max_flows {
            return None;
        }
        let mut by_age: Vec<(Timestamp, FlowKey)> =
            self.map.iter().map(|(k, f)| (f.last_seen(), *k)).collect();
        let n = (by_age.len() / 8).max(1);
        by_age.select_nth_unstable_by_key(n - 1, |(ts, _)| *ts);
        for (_, k) in by_age.iter().take(n) {
            if let Some(f) = self.map.remove(k) {
                retire(f);
                self.evicted += 1;
            }
        }
        if self.said {
            return None;
        }
        self.said = true;
        Some(format!(
            "The table of {what} is full ({} at once): the least recently active were retired early, so later packets of theirs are counted as new conversations.",
            self.cfg.max_flows
        ))
    }

    /// The flow under `key`, if tracked.
    pub fn get(&self, key: &FlowKey) -> Option<&V> {
        self.map.get(key)
    }

    /// The entry for `key`, to find or insert a flow.
    pub fn entry(&mut self, key: FlowKey) -> Entry<'_, FlowKey, V> {
        self.map.entry(key)
    }

    /// Removes and returns the flow under `key`.
    pub fn remove(&mut self, key: &FlowKey) -> Option<V> {
        self.map.remove(key)
    }

    /// Removes every flow (at the end of a capture).
    pub fn drain(&mut self) -> impl Iterator<Item = V> + '_ {
        self.map.drain().map(|(_, v)| v)
    }

    /// Number of flows tracked now.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no flow is tracked.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
