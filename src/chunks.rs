//! A queue of `i64`s that keeps large batches in the vectors they came in: such a batch's
//! values are taken by handing over its vector, not by copying it, and the vector handed
//! back in its place is one the queue emptied. So the root reads a large batch's values
//! where its leaf wrote them, once. Small batches are copied into a ring, as a `VecDeque`
//! holds them: for them a copy costs less than a vector to follow at every round.
//!
//! Invariant: the queue holds `chunks[0][used..]`, every later chunk, then `copied`,
//! oldest first; no chunk is empty, and each was at least half full when taken, which it
//! stays but the first. A vector is taken only while `copied` is empty, so that its values
//! come after every value held, and the ring's memory is let go then: so the most the
//! ring has held since and what the chunks hold never pass, together, the most the queue
//! held. What it takes is then at most twice the most values it held, as a `VecDeque`
//! alone would, and its first chunk and `SPARE` spares besides.

use std::collections::VecDeque;

/// How many emptied chunks it keeps to hand back: as many as a stream's batches in flight
/// mostly are, so that a leaf gets back memory, not a new allocation.
const SPARE: usize = 4;

/// A batch of fewer values than this is copied. Measured: with 1000 streams, whose batches
/// hold 262 values, taking vectors ran 8% faster than copying; with 10,000 streams, whose
/// batches hold 26, 18% slower.
pub(crate) const LARGE: usize = 256;

#[derive(Clone, Debug, Default)]
pub(crate) struct Chunks {
    chunks: VecDeque<Vec<i64>>,
    /// How many of the first chunk's values have been dropped.
    used: usize,
    copied: VecDeque<i64>,
    len: usize,
    /// The last chunks emptied, kept to hand back for the next ones taken.
    spare: Vec<Vec<i64>>,
}

impl Chunks {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends the values of `values`, leaving it empty with at least its capacity: a
    /// vector of `LARGE` values or more, at least half full, is taken as it is and an
    /// emptied one handed back; other values are copied.
    pub(crate) fn append(&mut self, values: &mut Vec<i64>) {
        let (n, capacity) = (values.len(), values.capacity());
        self.len += n;
        if self.copied.is_empty() && n >= LARGE && 2 * n >= capacity {
            self.copied = VecDeque::new();
            let emptied = match self.spare.pop() {
                Some(spare) if spare.capacity() >= capacity => spare,
                _ => Vec::with_capacity(capacity),
            };
            self.chunks.push_back(std::mem::replace(values, emptied));
        } else {
            self.copied.extend(values.iter());
            values.clear();
        }
    }

    /// The value `at` places from the front, if any.
    pub(crate) fn get(&self, at: usize) -> Option<i64> {
        self.piece(at).first().copied()
    }

    /// The values from `from` on that lie together in memory: at least one, unless the
    /// queue holds no more than `from`.
    pub(crate) fn piece(&self, from: usize) -> &[i64] {
        let mut at = from + self.used;
        let (a, b) = self.copied.as_slices();
        for piece in self.chunks.iter().map(Vec::as_slice).chain([a, b]) {
            if at < piece.len() {
                return &piece[at..];
            }
            at -= piece.len();
        }
        &[]
    }

    /// Its first values in two pieces, as a ring buffer's are: those of its first chunk,
    /// then those of the next chunk, or of the ring's first piece; or, with no chunk, the
    /// ring's two pieces.
    pub(crate) fn front(&self) -> (&[i64], &[i64]) {
        let (a, b) = self.copied.as_slices();
        match (self.chunks.front(), self.chunks.get(1)) {
            (None, _) => (a, b),
            (Some(first), next) => (&first[self.used..], next.map_or(a, Vec::as_slice)),
        }
    }

    /// Its values, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        // The values dropped are the first chunk's first `used`.
        let all = self.chunks.iter().flatten().chain(&self.copied);
        all.copied().skip(self.used)
    }

    /// Drops the first `len` values, at least one and at most as many as it holds, and
    /// returns the last of them.
    pub(crate) fn drop_front(&mut self, mut len: usize) -> i64 {
        debug_assert!((1..=self.len).contains(&len), "no more than it holds");
        self.len -= len;
        while let Some(first) = self.chunks.front() {
            let left = first.len() - self.used;
            if len < left {
                self.used += len;
                return first[self.used - 1];
            }
            let last = first[first.len() - 1];
            len -= left;
            self.used = 0;
            let mut emptied = self.chunks.pop_front().expect("a chunk");
            emptied.clear();
            if self.spare.len() < SPARE {
                self.spare.push(emptied);
            }
            if len == 0 {
                return last;
            }
        }
        let last = self.copied[len - 1];
        self.copied.drain(..len);
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vector of `values` with room for `capacity`.
    fn batch(values: std::ops::Range<usize>, capacity: usize) -> Vec<i64> {
        let mut batch = Vec::with_capacity(capacity);
        batch.extend(values.map(|v| v as i64));
        batch
    }

    #[test]
    fn a_large_vector_at_least_half_full_is_taken_as_it_is_and_an_emptied_one_given_back() {
        let mut chunks = Chunks::default();
        let mut first = batch(0..LARGE, 2 * LARGE);
        let at = first.as_ptr();
        chunks.append(&mut first);
        assert_eq!(chunks.piece(0).as_ptr(), at, "not copied");
        assert!(first.is_empty() && first.capacity() >= 2 * LARGE);
        chunks.append(&mut batch(LARGE..3 * LARGE, 2 * LARGE));
        assert_eq!(chunks.drop_front(LARGE), LARGE as i64 - 1);
        let mut third = batch(3 * LARGE..5 * LARGE, 2 * LARGE);
        chunks.append(&mut third);
        assert_eq!(third.as_ptr(), at, "the chunk emptied, handed back");
        // An emptied chunk smaller than the vector taken is not handed back for it.
        let mut queue = Chunks::default();
        queue.append(&mut batch(0..LARGE, LARGE));
        queue.drop_front(LARGE);
        let mut larger = batch(0..2 * LARGE, 2 * LARGE);
        queue.append(&mut larger);
        assert!(larger.capacity() >= 2 * LARGE);
        // Too small, or less than half full, on an empty ring: copied.
        for mut small in [batch(0..LARGE - 1, LARGE), batch(0..LARGE, 2 * LARGE + 1)] {
            let mut chunks = Chunks::default();
            let at = small.as_ptr();
            chunks.append(&mut small);
            assert!(small.is_empty() && small.as_ptr() == at, "copied");
            assert_eq!(chunks.chunks.len(), 0);
        }
    }

    #[test]
    fn values_come_out_in_the_order_they_went_in_wherever_chunks_and_ring_split_them() {
        let all = 6 * LARGE;
        for capacity in [LARGE, 2 * LARGE + 1] {
            for step in [1, LARGE - 1, LARGE, LARGE + 7, capacity] {
                // The values in, less those dropped: what the queue must hold.
                let (mut chunks, mut want) = (Chunks::default(), VecDeque::new());
                let (mut next, mut k) = (0, 0);
                while next < all {
                    // A value alone now and then, which goes to the ring, and drops that
                    // empty it now and then, after which vectors are taken again.
                    let end = (next + if k % 5 == 4 { 1 } else { step }).min(all);
                    chunks.append(&mut batch(next..end, capacity));
                    want.extend((next..end).map(|v| v as i64));
                    (next, k) = (end, k + 1);
                    let drop = match k % 7 {
                        0 => want.len(),
                        3 => want.len().div_ceil(2),
                        _ => 0,
                    };
                    if drop > 0 {
                        assert_eq!(chunks.drop_front(drop), want[drop - 1]);
                        want.drain(..drop);
                    }
                }
                let want: Vec<i64> = want.into();
                let mut front = 0;
                for drop in [0, 1, LARGE - 1, LARGE + 1, 2, 3 * LARGE] {
                    let want = &want[front..];
                    assert_eq!(chunks.len(), want.len(), "capacity {capacity} step {step}");
                    assert_eq!(chunks.iter().collect::<Vec<_>>(), want);
                    for at in (0..=want.len()).step_by(7).chain([want.len()]) {
                        assert_eq!(chunks.get(at), want.get(at).copied());
                        let piece = chunks.piece(at);
                        assert_eq!(piece, &want[at..at + piece.len()]);
                        assert_eq!(piece.is_empty(), at == want.len());
                    }
                    let (a, b) = chunks.front();
                    assert_eq!([a, b].concat(), want[..a.len() + b.len()]);
                    let drop = drop.min(want.len());
                    if drop > 0 {
                        assert_eq!(chunks.drop_front(drop), want[drop - 1]);
                    }
                    front += drop;
                }
            }
        }
    }

    #[test]
    fn it_takes_at_most_twice_the_most_values_it_held_its_first_chunk_and_spares() {
        let capacity = 8 * LARGE;
        let bound = |chunks: &Chunks, most: usize| {
            let taken: usize = chunks.chunks.iter().map(Vec::capacity).sum();
            let spare: usize = chunks.spare.iter().map(Vec::capacity).sum();
            let room = taken + spare + chunks.copied.capacity();
            room <= 2 * most + (1 + SPARE) * capacity
        };
        // Large batches less than half full, copied into a ring that grows; emptied; then
        // batches just over half full, taken, while the ring's room is let go; then batches
        // of every length, a value alone now and then, some dropped.
        let copied = (0..400).map(|_| LARGE);
        let taken = (0..200).map(|_| capacity / 2 + 1);
        let any = (0..2000).map(|k| if k % 50 == 49 { 1 } else { (k * 37) % capacity });
        let (mut chunks, mut most) = (Chunks::default(), 0);
        for (k, n) in copied.chain(taken).chain(any).enumerate() {
            if k == 400 {
                chunks.drop_front(chunks.len());
            }
            chunks.append(&mut batch(0..n, capacity));
            most = most.max(chunks.len());
            if k >= 600 && chunks.len() >= 3 {
                chunks.drop_front(chunks.len() / 3);
            }
            assert!(bound(&chunks, most), "{k}");
        }
    }
}
