//! The leaves: each one feeds its streams' values, each stream's in order, into the root's
//! channel, within the window, through a `Paced` transport (see `feed`); `feed` here is
//! the leaf's loop, which a thread of regular files' readers runs too; `Generated` is what
//! it feeds for generated streams: one stream, or a group of them (see `root::leaves_for`).
//!
//! Invariant: a stream's last message is `End` or, if its source failed, `Failed`, sent
//! after every value it produced; so the root learns how each stream ended and never
//! waits on a leaf that is gone.

use std::mem::MaybeUninit;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

use crate::decimal::{Decimal, MAX_SCALE};
use crate::error::Error;
use crate::feed::Paced;
use crate::message::Batch;
use crate::text::Prefix;
use crate::window::Window;

/// A stream's values, produced on its leaf's thread; by time, the n-th is at time n.
pub struct Values {
    made: Made,
    /// How many it has made.
    count: u64,
}

/// How a stream's values are made.
enum Made {
    /// Uniform values, made a block at a time.
    Drawn {
        rng: SmallRng,
        range: Uniform,
        /// How many values are still to be made.
        remaining: u64,
    },
    /// Any values, one at a time.
    OneByOne(Box<dyn Iterator<Item = Decimal> + Send>),
}

impl Values {
    /// `values`, in order.
    pub fn new(values: impl Iterator<Item = Decimal> + Send + 'static) -> Self {
        Values {
            made: Made::OneByOne(Box::new(values)),
            count: 0,
        }
    }

    /// How many values it makes, if that is known before it makes any: a uniform stream's.
    pub(crate) fn count(&self) -> Option<u64> {
        match &self.made {
            Made::Drawn { remaining, .. } if self.count == 0 => Some(*remaining),
            _ => None,
        }
    }

    /// Appends up to `count` values to `batch`, with their times if it is timed and their
    /// lines if `prefix` is given; returns how many: fewer once the values have run out.
    fn fill(&mut self, batch: &mut Batch, count: usize, prefix: Option<&Prefix>) -> usize {
        let first = self.count + 1;
        let made = self.make(batch, count, prefix, first);
        self.count += made as u64;
        made
    }

    fn make(
        &mut self,
        batch: &mut Batch,
        count: usize,
        prefix: Option<&Prefix>,
        first: u64,
    ) -> usize {
        match &mut self.made {
            Made::Drawn {
                rng,
                range,
                remaining,
            } => {
                let count = count.min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                *remaining -= count as u64;
                let start = batch.mantissas.len();
                batch.mantissas.reserve(count);
                let room = &mut batch.mantissas.spare_capacity_mut()[..count];
                draw(rng, range.low..range.high, room);
                // SAFETY: `reserve` made room for `count` values past `start`, and `draw`
                // has written each of them.
                unsafe { batch.mantissas.set_len(start + count) };
                batch.count(range.scale, count);
                if batch.timed {
                    batch.push_counted(start, range.scale, first, prefix);
                } else if let Some(prefix) = prefix {
                    batch
                        .lines
                        .lines(prefix, &batch.mantissas[start..], range.scale);
                }
                count
            }
            Made::OneByOne(values) => {
                let values = values.by_ref().take(count);
                let timed = batch.timed;
                let at = |k: u64| timed.then(|| Decimal::new(k as i64, 0)).flatten();
                (first..)
                    .zip(values)
                    .map(|(k, value)| batch.push(value, at(k), prefix))
                    .count()
            }
        }
    }
}

/// Fills `out` with values uniform in `range`. A function of its own, out of line, so that
/// the generator's state stays in registers: inlined where the batch is in reach, the
/// compiler stored and loaded it again for every value. It writes room that is not zeroed
/// first: a batch comes back from the root, whose core holds its memory, and zeroing it
/// waited on every cache line of it, where these stores wait behind the generator's
/// arithmetic.
#[inline(never)]
fn draw(rng: &mut SmallRng, range: Range<i64>, out: &mut [MaybeUninit<i64>]) {
    for m in out {
        m.write(rng.random_range(range.clone()));
    }
}

/// Values m·10^-scale with m uniform in `low..high`. Invariant, the constructor's: the
/// range is not empty and the scale is a value's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uniform {
    low: i64,
    high: i64,
    scale: u8,
}

impl Uniform {
    /// `None` if `low..high` is empty or `scale` is past `MAX_SCALE`.
    pub const fn new(low: i64, high: i64, scale: u8) -> Option<Uniform> {
        if low < high && scale <= MAX_SCALE {
            Some(Uniform { low, high, scale })
        } else {
            None
        }
    }
}

/// `count` values of `range`. They depend only on the run's seed and the stream's name,
/// so other streams can come and go without changing them.
pub fn uniform(seed: u64, name: &str, range: Uniform, count: u64) -> Values {
    let rng = SmallRng::seed_from_u64(stream_seed(seed, name));
    Values {
        made: Made::Drawn {
            rng,
            range,
            remaining: count,
        },
        count: 0,
    }
}

/// The run's seed and a stream's name mixed by 64-bit FNV-1a: stable across platforms
/// and Rust versions, unlike std's hashers.
fn stream_seed(seed: u64, name: &str) -> u64 {
    let bytes = seed.to_le_bytes().into_iter().chain(name.bytes());
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A generated stream: where its values go, its name, and its values.
pub(crate) struct Generated {
    pub(crate) feed: Paced,
    pub(crate) name: String,
    pub(crate) values: Values,
}

/// A stream that a leaf feeds in turns, with others: a generated stream, or one read
/// from a regular file.
pub(crate) trait Turns {
    fn feed(&mut self) -> &mut Paced;
    /// Takes up to `room` values, at least one being allowed.
    fn take(&mut self, room: usize) -> Turn;
    fn into_feed(self) -> Paced;
}

/// What a turn did.
pub(crate) enum Turn {
    /// Took what it could; there may be more.
    Took,
    /// The stream has no more: it ended, or failed.
    Ended(Result<(), Error>),
    /// The root has stopped.
    Stopped,
}

impl Turns for Generated {
    fn feed(&mut self) -> &mut Paced {
        &mut self.feed
    }

    /// A source that panics fails its own stream, after the values it gave.
    fn take(&mut self, room: usize) -> Turn {
        let Generated { feed, values, .. } = self;
        let fill = || feed.produce(|batch, prefix| values.fill(batch, room, prefix));
        match panic::catch_unwind(AssertUnwindSafe(fill)) {
            Ok(filled) if filled == room => Turn::Took,
            Ok(_) => Turn::Ended(Ok(())),
            Err(_) => Turn::Ended(Err(Error::Panicked(self.name.clone()))),
        }
    }

    fn into_feed(self) -> Paced {
        self.feed
    }
}

/// A leaf: feeds each stream of `group` as far as the window allows, in turn, then waits
/// until it allows more; ends each stream once it has no more, and the others go on.
/// Stops, quietly, once the root has stopped. One thread feeds several streams, so that
/// a thousand streams cost no thousand wake-ups each time the window moves, and a few
/// streams leave the root a core.
pub(crate) fn feed(mut group: Vec<impl Turns>, window: &Window) {
    while !group.is_empty() {
        let mut took = false;
        let mut i = 0;
        while i < group.len() {
            let (stream, _) = group[i].feed().place();
            let Some(edge) = window.edge(stream) else {
                return;
            };
            let room = match group[i].feed().room(edge) {
                Some(0) => {
                    i += 1;
                    continue;
                }
                Some(room) => room,
                None => return,
            };
            took = true;
            match group[i].take(room) {
                Turn::Took => i += 1,
                Turn::Ended(how) => group.swap_remove(i).into_feed().finish(how),
                Turn::Stopped => return,
            }
        }
        if !took {
            // Every stream here is at the edge of the window: send, then wait for room.
            if !group.iter_mut().all(|g| g.feed().send()) {
                return;
            }
            let places: Vec<(usize, u64)> = group.iter_mut().map(|g| g.feed().place()).collect();
            if !window.wait_any(&places) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::Transport;
    use std::sync::Arc;

    /// Up to `count` of 1000 values of `range`, as a leaf would take them.
    fn mantissas(seed: u64, name: &str, range: Uniform, count: usize) -> Vec<i64> {
        let mut batch = Batch::new(0, count, None, false);
        let made = uniform(seed, name, range, 1000).fill(&mut batch, count, None);
        assert_eq!(made, count.min(1000));
        assert_eq!(batch.scales, [(range.scale, made)]);
        batch.mantissas
    }

    #[test]
    fn values_are_in_range_and_follow_the_seed_and_name() {
        let range = Uniform::new(-3, 4, 2).unwrap();
        let a = mantissas(7, "a", range, 2000);
        assert_eq!(a.len(), 1000);
        assert!(a.iter().all(|v| (-3..4).contains(v)));
        assert_eq!(a, mantissas(7, "a", range, 1000));
        assert_eq!(a[..10], mantissas(7, "a", range, 10));
        assert_ne!(a, mantissas(8, "a", range, 1000));
        assert_ne!(a, mantissas(7, "b", range, 1000));
    }

    #[test]
    fn the_widest_range_is_allowed() {
        let range = Uniform::new(i64::MIN, i64::MAX, 0).unwrap();
        assert_eq!(mantissas(1, "w", range, 10).len(), 10);
    }

    #[test]
    fn values_added_one_at_a_time_or_many_keep_to_the_window_together() {
        let d = |mantissa| Decimal::new(mantissa, 0).unwrap();
        let window = Arc::new(Window::new(3, 1));
        let (tx, _rx) = std::sync::mpsc::sync_channel(16);
        let (_back, spent) = std::sync::mpsc::sync_channel(4);
        let transport = Transport::new(0, None, (8, false), (tx, spent));
        let mut feed = Paced::new(transport, Arc::clone(&window));
        assert_eq!(feed.wait(), Some(3));
        feed.push(d(1), None); // the window allowed 3: two more need not ask
        let room = feed.wait().unwrap();
        assert_eq!(room, 2);
        for _ in 0..room {
            feed.push(d(0), None); // the window is full after these
        }
        std::thread::scope(|scope| {
            let asking = scope.spawn(|| feed.wait());
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!asking.is_finished(), "a value went past the window");
            window.advance(2, |_| 2);
            assert_eq!(asking.join().unwrap(), Some(2));
        });
    }

    #[test]
    fn any_values_can_be_given_one_at_a_time() {
        let d = |mantissa, scale| Decimal::new(mantissa, scale).unwrap();
        let mut values = Values::new([d(1, 0), d(25, 1), d(3, 1)].into_iter());
        let mut batch = Batch::new(0, 8, Some(&Prefix::new(b"v ")), false);
        assert_eq!(values.fill(&mut batch, 8, Some(&Prefix::new(b"v "))), 3);
        assert_eq!(
            (batch.mantissas, batch.scales),
            (vec![1, 25, 3], vec![(0, 1), (1, 2)])
        );
        assert_eq!(batch.lines.as_bytes(), b"v 1\nv 2.5\nv 0.3\n");
    }
}
