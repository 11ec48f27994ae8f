//! A queue of `i64`s that keeps large batches in the vectors they came in: such a batch's
//! values are taken by handing over its vector, not by copying it, and the vector handed
//! back in its place is one the queue emptied. So the root reads each value once, where
//! its leaf wrote it. Small batches are copied into a ring, as a `VecDeque` would hold
//! them: for them a copy costs less than a vector to follow at every round.
//!
//! Invariant: the queue holds `chunks[0][used..]`, every later chunk, then `copied`,
//! oldest first; no chunk is empty, and each was at least half full when taken, which it
//! stays but the first. A vector is taken only while `copied` is empty, so that its values
//! come after every value held. So the chunks take at most twice their values' bytes, and
//! the first one and `SPARE` spares besides.

use std::collections::VecDeque;

/// How many emptied chunks it keeps to hand back: as many as a stream's batches in flight
/// mostly are, so that a leaf gets back memory, not a new allocation.
const SPARE: usize = 4;

/// A batch of fewer values than this is copied. Measured: with 1000 streams, whose batches
/// hold 262 values, taking vectors ran 8% faster than copying; with 10,000 streams, whose
/// batches hold 26, 18% slower.
const TAKEN: usize = 256;

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

    /// Appends the values of `values`, leaving it empty with room for as many: a vector of
    /// `TAKEN` values or more, at least half full, is taken as it is and an emptied one
    /// handed back; other values are copied.
    pub(crate) fn take(&mut self, values: &mut Vec<i64>) {
        let (n, room) = (values.len(), values.capacity());
        self.len += n;
        if self.copied.is_empty() && n >= TAKEN && 2 * n >= room {
            let emptied = self.spare.pop();
            let emptied = emptied.unwrap_or_else(|| Vec::with_capacity(room));
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
        let skip = |k: usize| if k == 0 { self.used } else { 0 };
        let chunks = self.chunks.iter().enumerate();
        let chunks = chunks.flat_map(move |(k, chunk)| chunk[skip(k)..].iter().copied());
        chunks.chain(self.copied.iter().copied())
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

    /// A vector of `values` with room for `room`.
    fn batch(values: std::ops::Range<usize>, room: usize) -> Vec<i64> {
        let mut batch = Vec::with_capacity(room);
        batch.extend(values.map(|v| v as i64));
        batch
    }

    #[test]
    fn a_large_vector_at_least_half_full_is_taken_as_it_is_and_an_emptied_one_given_back() {
        let mut chunks = Chunks::default();
        let mut first = batch(0..TAKEN, 2 * TAKEN);
        let at = first.as_ptr();
        chunks.take(&mut first);
        assert_eq!(chunks.piece(0).as_ptr(), at, "not copied");
        assert!(first.is_empty() && first.capacity() >= 2 * TAKEN);
        chunks.take(&mut batch(TAKEN..3 * TAKEN, 2 * TAKEN));
        assert_eq!(chunks.drop_front(TAKEN), TAKEN as i64 - 1);
        let mut third = batch(3 * TAKEN..5 * TAKEN, 2 * TAKEN);
        chunks.take(&mut third);
        assert_eq!(third.as_ptr(), at, "the chunk emptied, handed back");
        let copied = [batch(0..TAKEN - 1, TAKEN), batch(0..TAKEN, 2 * TAKEN + 1)];
        for mut small in copied {
            let at = small.as_ptr();
            chunks.take(&mut small);
            assert!(small.is_empty() && small.as_ptr() == at, "copied");
        }
    }

    #[test]
    fn values_read_the_same_wherever_the_chunks_and_the_ring_split_them() {
        let all = 6 * TAKEN;
        for room in [TAKEN, 2 * TAKEN + 1] {
            for step in [1, TAKEN - 1, TAKEN, TAKEN + 7, room] {
                let mut chunks = Chunks::default();
                let (mut next, mut k) = (0, 0);
                while next < all {
                    // A value alone now and then, which goes to the ring, and drops that
                    // empty it now and then, after which vectors are taken again.
                    let end = (next + if k % 5 == 4 { 1 } else { step }).min(all);
                    chunks.take(&mut batch(next..end, room));
                    (next, k) = (end, k + 1);
                    match k % 7 {
                        0 => _ = chunks.drop_front(chunks.len()),
                        3 => _ = chunks.drop_front(chunks.len().div_ceil(2)),
                        _ => {}
                    }
                }
                let want: Vec<i64> = chunks.iter().collect();
                let mut front = 0;
                for drop in [0, 1, TAKEN - 1, TAKEN + 1, 2, 3 * TAKEN] {
                    let want = &want[front..];
                    assert_eq!(chunks.len(), want.len(), "room {room} step {step}");
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
    fn its_chunks_take_at_most_twice_their_values_the_first_and_the_spares() {
        let mut chunks = Chunks::default();
        let room = 2 * TAKEN + 1;
        for k in 0..2000 {
            // Batches of every length up to full, some dropped between them.
            chunks.take(&mut batch(0..(k * 37) % room, room));
            if chunks.len() >= 3 {
                chunks.drop_front(chunks.len() / 3);
            }
            let taken: usize = chunks.chunks.iter().map(Vec::capacity).sum();
            let spare: usize = chunks.spare.iter().map(Vec::capacity).sum();
            let values = chunks.len() - chunks.copied.len();
            assert!(taken + spare <= 2 * values + (1 + SPARE) * room, "{k}");
        }
    }
}
