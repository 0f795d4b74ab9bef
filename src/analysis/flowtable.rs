//! A bounded table of conversations keyed by their two endpoints, shared by the TCP and
//! UDP trackers. Flows idle longer than a timeout (in capture time) are retired; when the
//! table is full, the least recently active eighth is retired early, and the first time
//! that happens the caller gets a sentence to show the user.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
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
/// thread asks. It holds the conversation's state by value: a boxed closure here was an
/// allocation per conversation freed on another thread, and the allocator's locks
/// contended (perf: most of `flows`' futex calls).
pub struct RetiredFlow(Retiring);

/// What a [`RetiredFlow`] holds.
enum Retiring {
    Ready(Box<FlowSummary>),
    Tcp(super::tcp::Conn),
    Udp(super::udp::UdpFlow),
}

impl RetiredFlow {
    /// A conversation already summarised.
    pub fn ready(summary: FlowSummary) -> RetiredFlow {
        RetiredFlow(Retiring::Ready(Box::new(summary)))
    }

    /// A TCP connection, summarised when asked.
    pub(super) fn tcp(conn: super::tcp::Conn) -> RetiredFlow {
        RetiredFlow(Retiring::Tcp(conn))
    }

    /// A UDP conversation, summarised when asked.
    pub(super) fn udp(flow: super::udp::UdpFlow) -> RetiredFlow {
        RetiredFlow(Retiring::Udp(flow))
    }

    /// The conversation's summary.
    pub fn summarise(self) -> FlowSummary {
        match self.0 {
            Retiring::Ready(summary) => *summary,
            Retiring::Tcp(conn) => super::tcp::summarise(&conn),
            Retiring::Udp(flow) => super::udp::summarise(&flow),
        }
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

    /// Records a retired conversation; its summary is made only if it is wanted, and for
    /// a sink, when and where the sink chooses.
    pub fn push(&mut self, flow: RetiredFlow) {
        if let Some(sink) = &self.sink {
            sink.borrow_mut().retire_later(flow);
        } else if self.keep {
            self.kept.push(flow.summarise());
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

impl TrackerConfig {
    /// The whole second at or before the time `f` times out if nothing more is seen of it.
    fn due_at<V: Flow>(&self, f: &V) -> i64 {
        let timeout = if f.is_closed() {
            self.idle_timeout.min(self.closed_timeout)
        } else {
            self.idle_timeout
        };
        // A saturating cast: an infinite timeout never comes due, a NaN one at once.
        f.last_seen().secs.saturating_add(timeout.floor() as i64)
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
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FlowKey(Endpoint, Endpoint);

/// Whether `a` orders before `b` or equal, as [`Endpoint`]s order (IPv4 before IPv6, then
/// the address's bytes, then the port), comparing each address as one number: comparing
/// `IpAddr`s byte by byte was 4% of `flows`' analysing thread (callgrind), in
/// [`FlowKey::new`].
fn endpoint_le(a: &Endpoint, b: &Endpoint) -> bool {
    match (a.0, b.0) {
        (IpAddr::V4(x), IpAddr::V4(y)) => (x.to_bits(), a.1) <= (y.to_bits(), b.1),
        (IpAddr::V6(x), IpAddr::V6(y)) => (x.to_bits(), a.1) <= (y.to_bits(), b.1),
        (IpAddr::V4(_), IpAddr::V6(_)) => true,
        (IpAddr::V6(_), IpAddr::V4(_)) => false,
    }
}

impl FlowKey {
    /// The key of the conversation between `a` and `b`, whichever sent the packet.
    pub fn new(a: Endpoint, b: Endpoint) -> FlowKey {
        if endpoint_le(&a, &b) {
            FlowKey(a, b)
        } else {
            FlowKey(b, a)
        }
    }
}

/// Each endpoint as one word (IPv4: the address and the port) or three (IPv6: the
/// address's halves, then the port): fewer steps of the hasher than the derived hash,
/// which also wrote each endpoint's family and its port on their own. Equal keys hash
/// alike, as they must.
impl Hash for FlowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for (ip, port) in [self.0, self.1] {
            match ip {
                IpAddr::V4(a) => state.write_u64(u64::from(a.to_bits()) << 16 | u64::from(port)),
                IpAddr::V6(a) => {
                    let bits = a.to_bits();
                    state.write_u64(bits as u64);
                    state.write_u64((bits >> 64) as u64);
                    state.write_u64(u64::from(port));
                }
            }
        }
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
#[inline]
pub fn keep_room<K: Eq + Hash, V, S: BuildHasher + Clone>(map: &mut HashMap<K, V, S>, cap: usize) {
    // Checked before every packet: the rebuild is kept out of line.
    if map.capacity() < cap && map.len() > cap / 2 {
        rebuild(map, cap);
    }
}

/// [`keep_room`]'s move of `map`'s entries to a clean table with room for `cap`.
#[cold]
#[inline(never)]
fn rebuild<K: Eq + Hash, V, S: BuildHasher + Clone>(map: &mut HashMap<K, V, S>, cap: usize) {
    let hasher = map.hasher().clone();
    let old = std::mem::replace(map, HashMap::with_hasher(hasher.clone()));
    let entries: Vec<(K, V)> = old.into_iter().collect();
    *map = HashMap::with_capacity_and_hasher(cap, hasher);
    map.extend(entries);
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
    /// Each flow's key under a whole second at or before the earliest time it could time
    /// out (its last packet plus the shorter timeout), earliest first; stale entries (a
    /// flow retired, or active since) are checked and dropped or pushed again when they
    /// come due. Why: a sweep that walked the whole table every five seconds of capture
    /// time was a sixth of `flows`' analysing thread on a long capture; now a sweep
    /// looks only at the flows that may be due.
    due: DueList,
    /// The keys taken off `due` by one sweep (kept for their memory).
    popped: Vec<FlowKey>,
    /// The capture time given to the latest [`FlowTable::maintain`] call: the packet
    /// being tracked, which sets its flow's last-seen time.
    now: Timestamp,
    /// The latest capture time seen; a packet before it (a capture's clock can step
    /// back) gets its flow a new entry in `due`.
    latest: Timestamp,
}

/// Flow keys by the whole second of capture time they come due, earliest first.
#[derive(Debug, Default)]
struct DueList {
    /// The keys due in each second.
    by_second: BTreeMap<i64, Vec<FlowKey>>,
    /// How many keys in all.
    len: usize,
    /// Emptied lists, kept for their memory.
    spare: Vec<Vec<FlowKey>>,
}

impl DueList {
    /// Adds `key`, due in second `at`.
    fn push(&mut self, at: i64, key: FlowKey) {
        self.len += 1;
        // Most keys go to the latest second so far (a new flow's, the capture being in
        // time order): its list is reached down the tree's right edge, with no search
        // (the search was half of this function, callgrind).
        if let Some(mut last) = self.by_second.last_entry()
            && *last.key() == at
        {
            last.get_mut().push(key);
            return;
        }
        let spare = &mut self.spare;
        self.by_second
            .entry(at)
            .or_insert_with(|| spare.pop().unwrap_or_default())
            .push(key);
    }

    /// Moves every key due before second `horizon` to `out`.
    fn take_before(&mut self, horizon: i64, out: &mut Vec<FlowKey>) {
        while let Some(first) = self.by_second.first_entry()
            && *first.key() < horizon
        {
            let mut keys = first.remove();
            self.len -= keys.len();
            out.append(&mut keys);
            if self.spare.len() < 64 {
                self.spare.push(keys);
            }
        }
    }

    /// Removes every key.
    fn clear(&mut self) {
        self.by_second.clear();
        self.len = 0;
    }
}

/// Whole seconds of capture time past which a sweep looks at the flows due: more than
/// the one second that rounding an entry down can lose.
const DUE_MARGIN: i64 = 2;

impl<V: Flow> FlowTable<V> {
    /// An empty table with these limits.
    pub fn new(cfg: TrackerConfig) -> FlowTable<V> {
        FlowTable {
            map: HashMap::default(),
            cfg,
            last_sweep: f64::NEG_INFINITY,
            said: false,
            evicted: 0,
            due: DueList::default(),
            popped: Vec::new(),
            now: Timestamp::default(),
            latest: Timestamp {
                secs: i64::MIN,
                nanos: 0,
            },
        }
    }

    /// Whether a flow has timed out at `now_s` (seconds of capture time).
    fn stale(&self, f: &V, now_s: f64) -> bool {
        let age = now_s - f.last_seen().as_secs_f64();
        age > self.cfg.idle_timeout || (f.is_closed() && age > self.cfg.closed_timeout)
    }

    /// Retires timed-out flows (every few seconds of capture time) and, when the table is
    /// full, the least recently active eighth, handing each to `retire`. Returns a
    /// sentence the first time flows were forced out early; `what` names them
    /// ("TCP connections"). `now` is the packet about to be tracked.
    pub fn maintain(
        &mut self,
        now: Timestamp,
        what: &str,
        mut retire: impl FnMut(V),
    ) -> Option<String> {
        keep_room(&mut self.map, self.cfg.max_flows);
        self.now = now;
        self.latest = self.latest.max(now);
        let now_s = now.as_secs_f64();
        let full = self.map.len() >= self.cfg.max_flows;
        if !full && now_s - self.last_sweep <= SWEEP_EVERY {
            return None;
        }
        self.last_sweep = now_s;
        if !full {
            self.sweep_due(now, &mut retire);
            return None;
        }
        let stale: Vec<FlowKey> = self
            .map
            .iter()
            .filter(|(_, f)| self.stale(f, now_s))
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

    /// Retires every flow timed out at `now`, as a walk over the whole table would, but
    /// looking only at the flows that `due` says may be.
    fn sweep_due(&mut self, now: Timestamp, retire: &mut impl FnMut(V)) {
        let now_s = now.as_secs_f64();
        let horizon = now.secs.saturating_add(DUE_MARGIN);
        let mut popped = std::mem::take(&mut self.popped);
        popped.clear();
        self.due.take_before(horizon, &mut popped);
        // A key can be due twice (its clock stepped back, or it closed). Looking at it
        // twice is harmless: a flow retired the first time is gone the second, and one
        // kept is pushed again each time, entries that `due`'s bound below keeps in check.
        // So only repeats in a row (a burst of packets stepped back) are dropped: sorting
        // the keys to drop every repeat was 4% of `flows`' analysing thread (callgrind),
        // comparing addresses. Keys are looked at in the order they came due.
        popped.dedup();
        for k in &popped {
            let Some(f) = self.map.get(k) else {
                continue;
            };
            if self.stale(f, now_s) {
                if let Some(f) = self.map.remove(k) {
                    retire(f);
                }
            } else {
                let at = self.cfg.due_at(f);
                self.due.push(at, *k);
            }
        }
        self.popped = popped;
        // Entries of flows retired early or reused pile up only until they come due;
        // a flood of short flows could outrun that, so the list is rebuilt past a bound.
        if self.due.len > 4 * self.map.len().max(1024) {
            self.due.clear();
            for (k, f) in &self.map {
                self.due.push(self.cfg.due_at(f), *k);
            }
        }
    }

    /// The flow under `key`, if tracked.
    pub fn get(&self, key: &FlowKey) -> Option<&V> {
        self.map.get(key)
    }

    /// Follows one packet of the flow under `key` (made by `make` if new) with `step`,
    /// which sets the flow's last-seen time to the packet's, the one given to the latest
    /// [`FlowTable::maintain`] call. Returns what `step` returns.
    pub fn update<R>(
        &mut self,
        key: FlowKey,
        make: impl FnOnce() -> V,
        step: impl FnOnce(&mut V) -> R,
    ) -> R {
        let stepped_back = self.now < self.latest;
        let (new, f) = match self.map.entry(key) {
            Entry::Vacant(v) => (true, v.insert(make())),
            Entry::Occupied(o) => (false, o.into_mut()),
        };
        let was_closed = !new && f.is_closed();
        let r = step(f);
        // A flow comes due sooner than its entry in `due` says only if it is new, if it
        // just closed (the shorter timeout), or if its last-seen time stepped back.
        if new || stepped_back || (f.is_closed() && !was_closed) {
            let at = self.cfg.due_at(f);
            self.due.push(at, key);
        }
        r
    }

    /// Removes and returns the flow under `key`.
    pub fn remove(&mut self, key: &FlowKey) -> Option<V> {
        self.map.remove(key)
    }

    /// Removes every flow (at the end of a capture).
    pub fn drain(&mut self) -> impl Iterator<Item = V> + '_ {
        self.due.clear();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A flow with only what the table reads.
    #[derive(Debug)]
    struct Probe {
        last: Timestamp,
        closed: bool,
    }

    impl Flow for Probe {
        fn last_seen(&self) -> Timestamp {
            self.last
        }
        fn is_closed(&self) -> bool {
            self.closed
        }
    }

    /// `endpoint_le` orders endpoints as the tuple's own order does, so a key's two ends
    /// are put in the same order as comparing the endpoints themselves puts them.
    #[test]
    fn endpoint_le_orders_as_endpoints_do() {
        let mut next = crate::testing::rng(0x5151_2024);
        let mut ends = Vec::new();
        for _ in 0..400 {
            // Few distinct values per part, so that ties on each part are common.
            let port = [0, 1, 80, 443, 65535][next(5) as usize];
            let ip = match next(3) {
                0 => IpAddr::from([next(2) as u8 * 200, 0, 0, next(3) as u8]),
                1 => IpAddr::from(std::net::Ipv6Addr::from(
                    u128::from(next(3)) << 120 | u128::from(next(3)),
                )),
                _ => IpAddr::from(std::net::Ipv6Addr::from(u128::from(next(4)))),
            };
            ends.push((ip, port));
        }
        for a in &ends {
            for b in &ends {
                assert_eq!(endpoint_le(a, b), a <= b, "{a:?} {b:?}");
            }
        }
        let (a, b) = (ends[0], ends[1]);
        assert_eq!(FlowKey::new(a, b), FlowKey::new(b, a));
    }

    fn key(n: u64) -> FlowKey {
        let ip = IpAddr::from([10, 0, 0, (n % 7) as u8]);
        FlowKey::new((ip, n as u16), (ip, 80))
    }

    /// The sweep over the due list retires, at every packet, exactly the flows that a walk
    /// over the whole table (the rule it replaced) retires: with flows that close, go
    /// quiet and come back, and a capture clock that sometimes steps back.
    #[test]
    fn due_sweep_retires_what_a_full_walk_retires() {
        let cfg = TrackerConfig {
            max_flows: 1 << 20,
            idle_timeout: 300.0,
            closed_timeout: 60.0,
        };
        let mut next = crate::testing::rng(0x9e37_79b9_7f4a_7c15);
        let (mut retired_total, mut sweeps) = (0, 0);
        for round in 0..20 {
            let mut table: FlowTable<Probe> = FlowTable::new(cfg);
            // The reference: every flow, walked in full at each sweep.
            let mut all: HashMap<FlowKey, Probe> = HashMap::new();
            let mut last_sweep = f64::NEG_INFINITY;
            let mut ts = Timestamp {
                secs: 1_700_000_000,
                nanos: 0,
            };
            for _ in 0..3000 {
                let step =
                    next(40_000_000_000) as i64 - if next(20) == 0 { 60_000_000_000 } else { 0 };
                let nanos = i64::from(ts.nanos) + step + ts.secs * 1_000_000_000;
                ts = Timestamp {
                    secs: nanos.div_euclid(1_000_000_000),
                    nanos: nanos.rem_euclid(1_000_000_000) as u32,
                };
                let mut got = Vec::new();
                table.maintain(ts, "flows", |f| got.push(f.last));
                let now_s = ts.as_secs_f64();
                let mut want = Vec::new();
                if now_s - last_sweep > SWEEP_EVERY {
                    last_sweep = now_s;
                    sweeps += 1;
                    all.retain(|_, f| {
                        let age = now_s - f.last.as_secs_f64();
                        let stale =
                            age > cfg.idle_timeout || (f.closed && age > cfg.closed_timeout);
                        if stale {
                            want.push(f.last);
                        }
                        !stale
                    });
                }
                got.sort();
                want.sort();
                assert_eq!(got, want, "round {round} at {ts:?}");
                retired_total += got.len();
                let k = key(next(200 + round * 40));
                let closed = next(10) == 0;
                let make = || Probe { last: ts, closed };
                table.update(k, make, |f| (f.last, f.closed) = (ts, f.closed || closed));
                let f = all.entry(k).or_insert(Probe { last: ts, closed });
                (f.last, f.closed) = (ts, f.closed || closed);
            }
        }
        assert!(
            retired_total > 1000 && sweeps > 1000,
            "{retired_total} retired in {sweeps} sweeps"
        );
    }
}
