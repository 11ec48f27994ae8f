//! A queue of `i64`s kept in the vectors they came in: a batch's values are taken by
//! handing over its vector, not by copying it, and the vector handed back in its place is
//! one the queue emptied. The root reads each value once, where its leaf wrote it.
//!
//! Invariant: the queue holds `chunks[0][used..]` then every later chunk, oldest first,
//! and no chunk is empty. Values go into the last chunk while they fit; a vector that does
//! not fit is taken as a new chunk if at least half full, else copied into one, which
//! happens only when the last has less than half its room left. So a chunk less than half
//! full is followed by one at least half full and, one stream's vectors being alike in
//! room as its batches are, what it holds takes at most twice its values' bytes, its first
//! and last chunks and `SPARE` spares besides.

use std::collections::VecDeque;

/// How many emptied chunks it keeps to hand back: as many as a stream's batches in flight
/// mostly are, so that a leaf gets back memory, not a new allocation.
const SPARE: usize = 4;

#[derive(Clone, Debug, Default)]
pub(crate) struct Chunks {
    chunks: VecDeque<Vec<i64>>,
    /// How many of the first chunk's values have been dropped.
    used: usize,
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

    /// Appends the values of `values`, leaving it empty, with room for as many: a vector at
    /// least half full is taken as it is, and an emptied one handed back; fewer values are
    /// copied, so that a trickle of small batches takes no vector each.
    pub(crate) fn take(&mut self, values: &mut Vec<i64>) {
        let (n, room) = (values.len(), values.capacity());
        if n == 0 {
            return;
        }
        self.len += n;
        let empty =
            |spare: &mut Vec<Vec<i64>>| spare.pop().unwrap_or_else(|| Vec::with_capacity(room));
        match self.chunks.back_mut() {
            Some(last) if last.capacity() - last.len() >= n => {
                last.extend_from_slice(values);
                values.clear();
            }
            _ if 2 * n >= room => {
                let emptied = empty(&mut self.spare);
                self.chunks.push_back(std::mem::replace(values, emptied));
            }
            _ => {
                let mut chunk = empty(&mut self.spare);
                chunk.extend_from_slice(values);
                values.clear();
                self.chunks.push_back(chunk);
            }
        }
    }

    /// The value `at` places from the front, if any.
    pub(crate) fn get(&self, at: usize) -> Option<i64> {
        let piece = self.piece(at);
        piece.first().copied()
    }

    /// The values from `from` on that lie together in memory: at least one, unless the
    /// queue holds no more than `from`.
    pub(crate) fn piece(&self, from: usize) -> &[i64] {
        let mut at = from + self.used;
        for chunk in &self.chunks {
            if at < chunk.len() {
                return &chunk[at..];
            }
            at -= chunk.len();
        }
        &[]
    }

    /// Its values, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        let skip = |k: usize| if k == 0 { self.used } else { 0 };
        let chunks = self.chunks.iter().enumerate();
        chunks.flat_map(move |(k, chunk)| chunk[skip(k)..].iter().copied())
    }

    /// Drops the first `len` values, at most as many as it holds.
    pub(crate) fn drop_front(&mut self, mut len: usize) {
        debug_assert!(len <= self.len, "no more than it holds");
        self.len -= len;
        while len > 0 {
            let left = self.chunks[0].len() - self.used;
            if len < left {
                self.used += len;
                return;
            }
            len -= left;
            self.used = 0;
            let mut emptied = self.chunks.pop_front().expect("a chunk");
            emptied.clear();
            if self.spare.len() < SPARE {
                self.spare.push(emptied);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vector of `values` with room for `room`.
    fn batch(values: std::ops::Range<i64>, room: usize) -> Vec<i64> {
        let mut batch = Vec::with_capacity(room);
        batch.extend(values);
        batch
    }

    fn held(chunks: &Chunks) -> Vec<i64> {
        chunks.iter().collect()
    }

    /// The bytes its chunks take, spare and all.
    fn bytes(chunks: &Chunks) -> usize {
        let spare: usize = chunks.spare.iter().map(Vec::capacity).sum();
        8 * (chunks.chunks.iter().map(Vec::capacity).sum::<usize>() + spare)
    }

    #[test]
    fn a_half_full_vector_is_taken_as_it_is_and_an_emptied_one_given_back() {
        let mut chunks = Chunks::default();
        let mut first = batch(0..8, 16);
        let at = first.as_ptr();
        chunks.take(&mut first);
        assert_eq!(chunks.piece(0).as_ptr(), at, "not copied");
        assert!(
            first.is_empty() && first.capacity() >= 16,
            "room for as many"
        );
        let mut next = batch(8..24, 16);
        chunks.take(&mut next);
        chunks.drop_front(8);
        let mut third = batch(24..40, 16);
        chunks.take(&mut third);
        assert_eq!(third.as_ptr(), at, "the chunk emptied, handed back");
        assert_eq!(held(&chunks), (8..40).collect::<Vec<_>>());
    }

    #[test]
    fn values_read_the_same_wherever_the_chunks_split_them() {
        for room in 1..12 {
            for step in 1..=room {
                let mut chunks = Chunks::default();
                let mut next = 0;
                while next < 40 {
                    let end = (next + step as i64).min(40);
                    chunks.take(&mut batch(next..end, room));
                    next = end;
                }
                let mut front = 0;
                for drop in [0, 1, 3, 7, 2, 11] {
                    let want: Vec<i64> = (front..40).collect();
                    assert_eq!(held(&chunks), want, "room {room} step {step}");
                    assert_eq!(chunks.len(), want.len());
                    for at in 0..=want.len() {
                        assert_eq!(chunks.get(at), want.get(at).copied());
                        let piece = chunks.piece(at);
                        assert_eq!(piece, &want[at..at + piece.len()]);
                        assert_eq!(piece.is_empty(), at == want.len());
                    }
                    chunks.drop_front(drop);
                    front += drop as i64;
                }
            }
        }
    }

    #[test]
    fn what_it_holds_takes_at_most_twice_its_values_its_ends_and_spares() {
        let mut chunks = Chunks::default();
        // Its first and last chunks, and the spares.
        let besides = (2 + SPARE) * 8 * 2048;
        for k in 0..10_000 {
            chunks.take(&mut batch(k..k + 1, 2048));
            assert!(bytes(&chunks) <= 16 * chunks.len() + besides);
        }
        for k in 0..10_000 {
            // Batches of every length up to full, some dropped between them.
            chunks.take(&mut batch(k..k + 1 + (k * 7) % 2048, 2048));
            chunks.drop_front(chunks.len() / 3);
            assert!(bytes(&chunks) <= 16 * chunks.len() + besides);
        }
    }
}
