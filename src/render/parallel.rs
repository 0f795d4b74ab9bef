//! Table rendering on a second core.
//!
//! The table format costs tens of microseconds per packet to draw, against about one to
//! read, dissect and analyse it, so on a machine with two cores the drawing is shared:
//! packets are collected in batches; one batch goes to a worker thread while the next is
//! drawn on the calling thread; the worker's batch is written first, so the output order
//! never changes. Memory stays bounded: at most two batches are in flight.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use crate::dissect::Dissection;

/// Packets per batch.
const BATCH: usize = 32;

/// One packet to draw: its dissection, its captured bytes and its relative time.
type Item = (Dissection, Vec<u8>, f64);

/// A batch and the buffer to draw it into; both travel to the worker and back.
type Job = (Vec<Item>, Vec<u8>);

/// Draws `table`-format packets on two threads, in order.
#[derive(Debug)]
pub struct TablePool {
    width: usize,
    color: bool,
    batch: Vec<Item>,
    /// Buffers for batches drawn on this thread.
    own: Vec<u8>,
    /// A spare job (batch and buffer) to send next.
    spare: Option<Job>,
    to_worker: Option<Sender<Job>>,
    from_worker: Receiver<Job>,
    in_flight: bool,
    worker: Option<JoinHandle<()>>,
}

impl TablePool {
    /// Starts the worker thread; `None` if it cannot be started (drawing then stays on
    /// one thread). `color` as [`super::Context::color`].
    pub fn new(width: u16, color: bool) -> Option<TablePool> {
        let width = usize::from(width);
        let (to_worker, jobs) = channel::<Job>();
        let (done, from_worker) = channel::<Job>();
        let worker = std::thread::Builder::new()
            .name("wirelens-table".into())
            .spawn(move || {
                for (mut items, mut buf) in jobs {
                    buf.clear();
                    for (d, bytes, rel) in &items {
                        super::table::render(&mut buf, width, color, *rel, d, bytes);
                    }
                    items.clear();
                    if done.send((items, buf)).is_err() {
                        break;
                    }
                }
            })
            .ok()?;
        Some(TablePool {
            width,
            color,
            batch: Vec::with_capacity(BATCH),
            own: Vec::new(),
            spare: Some((Vec::with_capacity(BATCH), Vec::new())),
            to_worker: Some(to_worker),
            from_worker,
            in_flight: false,
            worker: Some(worker),
        })
    }

    /// Adds a packet; draws and writes a batch when one is full.
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
        if !self.in_flight {
            let (mut items, buf) = self.spare.take().unwrap_or_default();
            std::mem::swap(&mut items, &mut self.batch);
            self.send((items, buf))?;
            self.in_flight = true;
            return Ok(());
        }
        // The worker has the previous batch: draw this one here, then write both.
        self.draw_own();
        self.write_worker_batch(out)?;
        out.write_all(&self.own)
    }

    /// Writes everything still pending, in order.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.in_flight {
            self.write_worker_batch(out)?;
        }
        if !self.batch.is_empty() {
            self.draw_own();
            out.write_all(&self.own)?;
        }
        Ok(())
    }

    fn send(&mut self, job: Job) -> io::Result<()> {
        self.to_worker
            .as_ref()
            .and_then(|t| t.send(job).ok())
            .ok_or_else(|| io::Error::other("the table drawing thread stopped"))
    }

    /// Draws the current batch on this thread into `own` and empties it.
    fn draw_own(&mut self) {
        self.own.clear();
        for (d, bytes, rel) in &self.batch {
            super::table::render(&mut self.own, self.width, self.color, *rel, d, bytes);
        }
        self.batch.clear();
    }

    /// Waits for the worker's batch and writes it.
    fn write_worker_batch(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let (items, buf) = self
            .from_worker
            .recv()
            .map_err(|_| io::Error::other("the table drawing thread stopped"))?;
        self.in_flight = false;
        let result = out.write_all(&buf);
        self.spare = Some((items, buf));
        result
    }
}

impl Drop for TablePool {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop.
        self.to_worker = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}
