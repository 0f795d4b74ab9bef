//! Table rendering on every core.
//!
//! The table format costs tens of microseconds per packet to draw, against about one to
//! read, dissect and analyse it, so the drawing is shared: packets are collected in
//! batches, numbered in order, and put on a queue. Worker threads take the oldest batch
//! on the queue; the calling thread, whenever it has to wait for the oldest batch to be
//! written, draws a queued batch itself instead of waiting. So when another program
//! takes a core away from a worker, the calling thread does the work and is never idle.
//! Batches are written strictly in order, so the output is the same as one thread's.
//! Memory stays bounded: at most [`WINDOW`] batches are in flight.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::dissect::Dissection;

/// Packets per batch.
const BATCH: usize = 32;

/// Batches queued, being drawn or drawn but not yet written, at most.
const WINDOW: u64 = 6;

/// Worker threads at most (besides the calling thread).
const MAX_WORKERS: usize = 3;

/// One packet to draw: its dissection, its captured bytes and its relative time.
type Item = (Dissection, Vec<u8>, f64);

/// A numbered batch and the buffer it is drawn into.
#[derive(Debug, Default)]
struct Job {
    seq: u64,
    items: Vec<Item>,
    buf: Vec<u8>,
}

/// What the threads share.
#[derive(Debug, Default)]
struct State {
    /// Batches not yet taken, oldest first.
    todo: VecDeque<Job>,
    /// Batches drawn, not yet written (any order).
    done: Vec<Job>,
    /// Emptied jobs, for reuse.
    spare: Vec<Job>,
    /// Set when the pool is dropped: workers stop.
    closed: bool,
}

/// The queue and the signal that it changed.
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker can only panic inside drawing, which does not touch the state, so a
        // poisoned lock still holds a consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Draws `table`-format packets on several threads, written in order.
#[derive(Debug)]
pub struct TablePool {
    width: usize,
    /// Whether to draw in colour ([`super::Context::color`]).
    color: bool,
    /// The batch being filled.
    batch: Vec<Item>,
    /// Number of the batch being filled.
    next_seq: u64,
    /// Number of the next batch to write.
    next_write: u64,
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl TablePool {
    /// Starts the worker threads (one fewer than the cores this process may use, at
    /// least one); `None` if none can be started (drawing then stays on one thread).
    /// `color` as [`super::Context::color`].
    pub fn new(width: u16, color: bool, cores: usize) -> Option<TablePool> {
        let width = usize::from(width);
        let shared = Arc::new(Shared::default());
        let mut workers = Vec::new();
        let planned = cores.saturating_sub(1).clamp(1, MAX_WORKERS);
        // The calling thread draws too: the kept drawings' memory is shared by all.
        let threads = planned + 1;
        for _ in 0..planned {
            let shared = Arc::clone(&shared);
            let spawned = std::thread::Builder::new()
                .name("wirelens-table".into())
                .spawn(move || {
                    super::grid::share_table_memory(threads);
                    work(&shared, width, color)
                });
            match spawned {
                Ok(handle) => workers.push(handle),
                Err(_) => break,
            }
        }
        if workers.is_empty() {
            return None;
        }
        super::grid::share_table_memory(threads);
        Some(TablePool {
            width,
            color,
            batch: Vec::with_capacity(BATCH),
            next_seq: 0,
            next_write: 0,
            shared,
            workers,
        })
    }

    /// Adds a packet; queues the batch when it is full, and writes whatever batches are
    /// ready in order, drawing some itself when the window is full.
    pub fn push(
        &mut self,
        out: &mut dyn Write,
        d: &Dissection,
        bytes: &[u8],
        rel: f64,
    ) -> io::Result<()> {
        self.batch.push((d.clone(), bytes.to_vec(), rel));
        if self.batch.len() < BATCH {
            return Ok(());
        }
        self.queue_batch();
        self.drain(out, WINDOW)
    }

    /// Writes everything still pending, in order.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.batch.is_empty() {
            self.queue_batch();
        }
        self.drain(out, 0)
    }

    /// Moves the batch being filled to the queue.
    fn queue_batch(&mut self) {
        let mut st = self.shared.lock();
        let mut job = st.spare.pop().unwrap_or_default();
        job.seq = self.next_seq;
        std::mem::swap(&mut job.items, &mut self.batch);
        st.todo.push_back(job);
        drop(st);
        self.next_seq += 1;
        self.shared.changed.notify_one();
    }

    /// Writes finished batches in order until at most `keep` are in flight; while the
    /// oldest is not finished, draws queued batches on this thread or waits.
    fn drain(&mut self, out: &mut dyn Write, keep: u64) -> io::Result<()> {
        let mut st = self.shared.lock();
        loop {
            if let Some(i) = st.done.iter().position(|j| j.seq == self.next_write) {
                let mut job = st.done.swap_remove(i);
                drop(st);
                let written = out.write_all(&job.buf);
                job.buf.clear();
                job.items.clear();
                self.next_write += 1;
                st = self.shared.lock();
                st.spare.push(job);
                written?;
                continue;
            }
            if self.next_seq - self.next_write <= keep {
                return Ok(());
            }
            // The oldest batch is queued or being drawn: draw the oldest queued one here.
            if let Some(mut job) = st.todo.pop_front() {
                drop(st);
                draw(&mut job, self.width, self.color);
                st = self.shared.lock();
                st.done.push(job);
                continue;
            }
            st = self
                .shared
                .changed
                .wait(st)
                .unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Draws a job's packets into its buffer.
fn draw(job: &mut Job, width: usize, color: bool) {
    job.buf.clear();
    for (d, bytes, rel) in &job.items {
        super::table::render(&mut job.buf, width, color, *rel, d, bytes);
    }
}

/// A worker: takes the oldest queued batch, draws it, hands it back; until closed.
fn work(shared: &Shared, width: usize, color: bool) {
    let mut st = shared.lock();
    loop {
        if st.closed {
            return;
        }
        let Some(mut job) = st.todo.pop_front() else {
            st = shared.changed.wait(st).unwrap_or_else(|e| e.into_inner());
            continue;
        };
        drop(st);
        draw(&mut job, width, color);
        st = shared.lock();
        st.done.push(job);
        shared.changed.notify_all();
    }
}

impl Drop for TablePool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::file::FileSource;

    /// Every bundled capture drawn by the pool, with 1 to 4 threads, equals the same
    /// packets drawn one after the other on one thread.
    #[test]
    fn pool_output_equals_one_thread() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .expect("captures/ is readable")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
            .collect();
        paths.sort();
        assert!(!paths.is_empty());
        let mut items: Vec<(Dissection, Vec<u8>, f64)> = Vec::new();
        for path in &paths {
            let mut src = FileSource::open(path).expect("a bundled capture opens");
            let mut n = 0;
            while let Ok(Some(frame)) = src.next_frame() {
                n += 1;
                let d = crate::dissect::dissect(n, &frame);
                items.push((d, frame.bytes.to_vec(), n as f64 / 7.0));
            }
        }
        assert!(items.len() > 3 * BATCH, "{} packets", items.len());
        let mut want = Vec::new();
        for (d, b, rel) in &items {
            super::super::table::render(&mut want, 100, false, *rel, d, b);
        }
        for cores in 1..=5 {
            let mut pool = TablePool::new(100, false, cores).expect("a thread starts");
            let mut got = Vec::new();
            for (d, b, rel) in &items {
                pool.push(&mut got, d, b, *rel)
                    .expect("writing to a Vec works");
            }
            pool.finish(&mut got).expect("writing to a Vec works");
            assert!(got == want, "{cores} cores: the pool's output differs");
        }
    }
}
