//! The leaves: each one feeds one stream's values, in order, into the root's channel,
//! within the window. `Feed` is what every leaf and reader sends through; `generate` is the
//! leaf of a generated stream.
//!
//! Invariant: a stream's last message is `End` or, if its source failed, `Failed`, sent
//! after every value it produced; so the root learns how each stream ended and never
//! waits on a leaf that is gone.

use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::decimal::Decimal;
use crate::error::Error;
use crate::message::{Batch, Msg};
use crate::window::Window;

/// A stream's values, produced on its leaf's thread.
pub type Values = Box<dyn Iterator<Item = Decimal> + Send>;

/// Values m·10^-scale with m uniform in `low..high`, which is not empty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uniform {
    pub low: i64,
    pub high: i64,
    pub scale: u8,
}

/// `count` values of `range`. They depend only on the run's seed and the stream's name,
/// so other streams can come and go without changing them.
pub fn uniform(seed: u64, name: &str, range: Uniform, count: u64) -> Values {
    let mut rng = SmallRng::seed_from_u64(stream_seed(seed, name));
    Box::new((0..count).map(move |_| Decimal {
        mantissa: rng.random_range(range.low..range.high),
        scale: range.scale,
    }))
}

/// The run's seed and a stream's name mixed by 64-bit FNV-1a: stable across platforms
/// and Rust versions, unlike std's hashers.
fn stream_seed(seed: u64, name: &str) -> u64 {
    let bytes = seed.to_le_bytes().into_iter().chain(name.bytes());
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One stream's way to the root: a batch being filled, the channel, and the stream's
/// place in the window.
pub(crate) struct Feed {
    stream: usize,
    /// `NAME `, or `None` when only merges are printed.
    prefix: Option<Vec<u8>>,
    batch: Batch,
    tx: SyncSender<Msg>,
    /// Batches the root has printed, sent back empty to be filled again: allocating a
    /// fresh one per message, and freeing it on another thread, cost more than the merge.
    spent: Receiver<Batch>,
    window: Arc<Window>,
    /// Values produced, and how many the window allowed when last asked.
    produced: u64,
    allowed: u64,
}

impl Feed {
    pub(crate) fn new(
        stream: usize,
        prefix: Option<Vec<u8>>,
        tx: SyncSender<Msg>,
        spent: Receiver<Batch>,
        window: Arc<Window>,
    ) -> Self {
        Feed {
            stream,
            batch: Batch::new(stream, prefix.as_deref()),
            prefix,
            tx,
            spent,
            window,
            produced: 0,
            allowed: 0,
        }
    }

    /// Waits until the window allows one more value of this stream, having sent what it
    /// holds first; false once the root has stopped.
    #[inline]
    pub(crate) fn admit(&mut self) -> bool {
        if self.produced == self.allowed {
            let room = self.send().then(|| self.window.room(self.produced));
            let Some(Some(room)) = room else { return false };
            self.allowed = self.produced + room;
        }
        self.produced += 1;
        true
    }

    /// Appends a value, sending the batch once it is full; false once the root has hung up.
    #[inline]
    pub(crate) fn push(&mut self, value: Decimal) -> bool {
        self.batch.push(value, self.prefix.as_deref());
        !self.batch.is_full() || self.send()
    }

    /// Sends what it holds; false once the root has hung up.
    pub(crate) fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let fresh = (self.spent.try_recv())
            .unwrap_or_else(|_| Batch::new(self.stream, self.prefix.as_deref()));
        let batch = mem::replace(&mut self.batch, fresh);
        self.tx.send(Msg::Values(batch)).is_ok()
    }

    /// Sends what it holds, then how the stream ended.
    pub(crate) fn finish(mut self, how: Result<(), Error>) {
        if self.send() {
            let last = match how {
                Ok(()) => Msg::End(self.stream),
                Err(e) => Msg::Failed(self.stream, e),
            };
            let _ = self.tx.send(last); // the root may have hung up: nothing waits for it
        }
    }
}

/// A generated stream's leaf: sends `values` as the window allows, then how they ended.
/// Stops early, quietly, once the root has stopped. A source that panics fails its
/// stream, after the values it gave.
pub(crate) fn generate(mut feed: Feed, name: String, mut values: Values) {
    let fed = panic::catch_unwind(AssertUnwindSafe(|| {
        while feed.admit() {
            match values.next() {
                Some(value) if feed.push(value) => {}
                Some(_) => return false,
                None => return true,
            }
        }
        false
    }));
    match fed {
        Ok(true) => feed.finish(Ok(())),
        Ok(false) => {}
        Err(_) => feed.finish(Err(Error::Panicked(name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mantissas(seed: u64, name: &str, range: Uniform) -> Vec<i64> {
        uniform(seed, name, range, 1000)
            .map(|d| d.mantissa)
            .collect()
    }

    #[test]
    fn values_are_in_range_and_follow_the_seed_and_name() {
        let range = Uniform {
            low: -3,
            high: 4,
            scale: 2,
        };
        let a = mantissas(7, "a", range);
        assert_eq!(a.len(), 1000);
        assert!(a.iter().all(|v| (-3..4).contains(v)));
        assert!(uniform(7, "a", range, 10).all(|d| d.scale == 2));
        assert_eq!(a, mantissas(7, "a", range));
        assert_ne!(a, mantissas(8, "a", range));
        assert_ne!(a, mantissas(7, "b", range));
    }

    #[test]
    fn the_widest_range_is_allowed() {
        let range = Uniform {
            low: i64::MIN,
            high: i64::MAX,
            scale: 0,
        };
        assert_eq!(uniform(1, "w", range, 10).count(), 10);
    }
}
