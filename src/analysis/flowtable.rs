//! A bounded table of conversations keyed by their two endpoints, shared by the TCP and
//! UDP trackers. Flows idle longer than a timeout (in capture time) are retired; when the
//! table is full, the least recently active eighth is retired early, and the first time
//! that happens the caller gets a sentence to show the user.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;

use super::FlowSummary;
use crate::capture::Timestamp;

/// Where summaries of retired conversations go instead of a list in memory: `wirelens
/// flows` renders each one as it is retired (see [`crate::render::flows::FlowRows`]), so
/// memory does not grow with the number of conversations.
pub trait SummarySink: std::fmt::Debug {
    /// Takes the summary of a conversation that was just retired.
    fn retire(&mut self, summary: FlowSummary);

    /// Takes a conversation that was just retired, not yet summarised. The default
    /// summarises it here; a sink on another thread can send it there and summarise it
    /// there (the endpoint texts and history were a sixth of `flows`' analysing thread).
    fn retire_later(&mut self, flow: RetiredFlow) {
        self.retire(flow.summarise());
    }
}

/// A retired conversation whose summary is made when it is asked for, on whatever
/// thread asks.
pub struct RetiredFlow(Box<dyn FnOnce() -> FlowSummary + Send>);

impl RetiredFlow {
    /// A conversation already summarised.
    pub fn ready(summary: FlowSummary) -> RetiredFlow {
        RetiredFlow(Box::new(move || summary))
    }

    /// The conversation's summary.
    pub fn summarise(self) -> FlowSummary {
        (self.0)()
    }
}

impl std::fmt::Debug for RetiredFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetiredFlow")
    }
}

/// A sink shared by the TCP and UDP trackers and the code that reads it afterwards.
pub type SharedSink = std::rc::Rc<std::cell::RefCell<dyn SummarySink>>;

/// What a tracker does with the summaries of conversations it retires: nothing (plain
/// reading), keep them for `finish` (tests, small captures), or hand them to a sink.
#[derive(Debug, Default)]
pub struct Retired {
    kept: Vec<FlowSummary>,
    keep: bool,
    sink: Option<SharedSink>,
}

impl Retired {
    /// Keep (or stop keeping) summaries in memory.
    pub fn keep(&mut self, keep: bool) {
        self.keep = keep;
    }

    /// Send summaries to `sink` from now on.
    pub fn send_to(&mut self, sink: SharedSink) {
        self.sink = Some(sink);
    }

    /// Records a retired conversation; `make` builds its summary only if it is wanted,
    /// and for a sink, when and where the sink chooses.
    pub fn push(&mut self, make: impl FnOnce() -> FlowSummary + Send + 'static) {
        if let Some(sink) = &self.sink {
            sink.borrow_mut().retire_later(RetiredFlow(Box::new(make)));
        } else if self.keep {
            self.kept.push(make());
        }
    }

    /// The summaries kept since the last call.
    pub fn take(&mut self) -> Vec<FlowSummary> {
        std::mem::take(&mut self.kept)
    }
}

/// One end of a conversation: address (IPv4 or IPv6) and port.
pub type Endpoint = (IpAddr, u16);

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

/// A fast hasher for flow keys (a few small integers): multiply-rotate in the style of
/// rustc's FxHash, started from a seed drawn once per table from the standard library's
/// random source. SipHash, the default, costs several times more per packet; the seed
/// keeps a crafted capture from choosing keys that all land in one bucket as easily.
#[derive(Clone, Copy, Debug)]
pub struct FlowHasher(u64);

impl FlowHasher {
    /// A hasher started from `seed` (for hashing byte strings outside a map).
    pub fn seeded(seed: u64) -> FlowHasher {
        FlowHasher(seed)
    }
}

/// The multiplier of FxHash (from the golden ratio): odd and with well-spread bits.
const SEED_MULTIPLIER: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FlowHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Whole words without a copy (a copy of a variable length was a `memcpy` call
        // per word); the tail, if any, as one zero-padded word.
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            self.write_u64(u64::from_le_bytes(word));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            let mut word = 0u64;
            for (i, b) in tail.iter().enumerate() {
                word |= u64::from(*b) << (8 * i);
            }
            self.write_u64(word);
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(n.into());
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(n.into());
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(n.into());
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(SEED_MULTIPLIER);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        // Fold the well-mixed high bits into the low ones the table indexes by.
        self.0 ^ (self.0 >> 29)
    }
}

/// Builds [`FlowHasher`]s that all start from one random seed.
#[derive(Clone, Copy, Debug)]
pub struct FlowHashBuilder(u64);

impl Default for FlowHashBuilder {
    fn default() -> Self {
        FlowHashBuilder(std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64))
    }
}

impl BuildHasher for FlowHashBuilder {
    type Hasher = FlowHasher;

    fn build_hasher(&self) -> FlowHasher {
        FlowHasher(self.0)
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
pub fn keep_room<K: Eq + Hash, V, S: BuildHasher + Clone>(map: &mut HashMap<K, V, S>, cap: usize) {
    if map.capacity() < cap && map.len() > cap / 2 {
        let hasher = map.hasher().clone();
        let old = std::mem::replace(map, HashMap::with_hasher(hasher.clone()));
        let entries: Vec<(K, V)> = old.into_iter().collect();
        *map = HashMap::with_capacity_and_hasher(cap, hasher);
        map.extend(entries);
    }
}

/// How often the table looks for timed-out flows, in seconds of capture time.
const SWEEP_EVERY: f64 = 5.0;

/// A bounded map from [`FlowKey`] to flows.
#[derive(Debug)]
pub struct FlowTable<V> {
    map: HashMap<FlowKey, V, FlowHashBuilder>,
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
            map: HashMap::default(),
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
