//! The leaves: each one feeds one stream's values, in order, into the root's channel.
//!
//! Invariant: every leaf's last message is `End` or, if its source panicked, `Failed`; so
//! the root learns how each stream ended and never waits on a leaf that is gone.

use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, SyncSender};

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::message::{BATCH, Batch, Msg};
use crate::window::Window;

/// A stream's values, produced on its leaf's thread.
pub type Values = Box<dyn Iterator<Item = i64> + Send>;

/// `count` integers uniform in `range`, which is not empty. They depend only on the run's
/// seed and the stream's name, so other streams can come and go without changing them.
pub fn uniform(seed: u64, name: &str, range: Range<i64>, count: u64) -> Values {
    let mut rng = SmallRng::seed_from_u64(stream_seed(seed, name));
    Box::new((0..count).map(move |_| rng.random_range(range.clone())))
}

/// The run's seed and a stream's name mixed by 64-bit FNV-1a: stable across platforms
/// and Rust versions, unlike std's hashers.
fn stream_seed(seed: u64, name: &str) -> u64 {
    let bytes = seed.to_le_bytes().into_iter().chain(name.bytes());
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One leaf's place in the run: its stream, the window it keeps to, and its channels.
pub(crate) struct Leaf<'a> {
    pub(crate) stream: usize,
    /// `NAME `, or `None` when only merges are printed.
    pub(crate) prefix: Option<Vec<u8>>,
    pub(crate) window: &'a Window,
    pub(crate) tx: SyncSender<Msg>,
    /// Batches the root has printed, sent back empty to be filled again: allocating a
    /// fresh one per message, and freeing it on another thread, cost more than the merge.
    pub(crate) spent: Receiver<Batch>,
}

impl Leaf<'_> {
    /// Sends `values`, with their lines, to the root in batches, as the window allows; then
    /// how the stream ended. Stops early, quietly, once the root has stopped.
    pub(crate) fn feed(self, mut values: Values) {
        let prefix = self.prefix.as_deref();
        let fed = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut produced = 0;
            while let Some(room) = self.window.room(produced) {
                let size = room.min(BATCH as u64) as usize;
                let mut batch = (self.spent.try_recv())
                    .unwrap_or_else(|_| Batch::new(self.stream, size, prefix));
                for value in values.by_ref().take(size) {
                    batch.push(value, prefix);
                }
                produced += batch.values.len() as u64;
                if batch.values.is_empty() || self.tx.send(Msg::Values(batch)).is_err() {
                    return;
                }
            }
        }));
        let last = match fed {
            Ok(()) => Msg::End(self.stream),
            Err(_) => Msg::Failed(self.stream),
        };
        let _ = self.tx.send(last); // the root may have hung up already: nothing waits for it
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_in_range_and_follow_the_seed_and_name() {
        let a: Vec<i64> = uniform(7, "a", -3..4, 1000).collect();
        assert_eq!(a.len(), 1000);
        assert!(a.iter().all(|v| (-3..4).contains(v)));
        assert_eq!(a, uniform(7, "a", -3..4, 1000).collect::<Vec<_>>());
        assert_ne!(a, uniform(8, "a", -3..4, 1000).collect::<Vec<_>>());
        assert_ne!(a, uniform(7, "b", -3..4, 1000).collect::<Vec<_>>());
    }

    #[test]
    fn the_widest_range_is_allowed() {
        assert_eq!(uniform(1, "w", i64::MIN..i64::MAX, 10).count(), 10);
    }
}
