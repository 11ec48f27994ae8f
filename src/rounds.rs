//! The pure core of the merge: one queue per stream, and rounds taken from their fronts.
//!
//! Invariant: a round is merged as soon as every stream has delivered its n-th value, and
//! never earlier; each queue holds exactly the values of its stream that no round has used
//! yet, oldest first. No threads and no I/O here.

use std::collections::VecDeque;

/// Per-stream queues of values waiting for their round.
#[derive(Debug)]
pub struct Rounds {
    queues: Vec<VecDeque<i64>>,
    ended: Vec<bool>,
    merged: u64,
    /// The sums of the rounds merged last.
    sums: Vec<i128>,
}

impl Rounds {
    /// Queues for `streams` streams, numbered from 0.
    pub fn new(streams: usize) -> Self {
        Rounds {
            queues: vec![VecDeque::new(); streams],
            ended: vec![false; streams],
            merged: 0,
            sums: Vec::new(),
        }
    }

    /// Appends a stream's next values to its queue.
    pub fn push(&mut self, stream: usize, values: &[i64]) {
        self.queues[stream].extend(values);
    }

    /// Takes every round that every stream has delivered and returns their sums, oldest
    /// first. Sums are `i128`, so they are exact for any number of streams up to 2^64.
    /// Stream by stream rather than round by round: a tight loop over each queue.
    pub fn merge(&mut self) -> &[i128] {
        let ready = self.queues.iter().map(VecDeque::len).min().unwrap_or(0);
        self.sums.clear();
        self.sums.resize(ready, 0);
        for queue in &mut self.queues {
            for (sum, value) in self.sums.iter_mut().zip(queue.drain(..ready)) {
                *sum += i128::from(value);
            }
        }
        self.merged += ready as u64;
        &self.sums
    }

    /// Records that a stream will deliver no more values.
    pub fn end(&mut self, stream: usize) {
        self.ended[stream] = true;
    }

    /// Whether no further round is possible: some stream has ended and has no value
    /// waiting, as in ReactiveX's `zip`. When every stream has the same length, that is
    /// when every stream has ended.
    pub fn is_over(&self) -> bool {
        (self.queues.iter().zip(&self.ended)).any(|(queue, &ended)| ended && queue.is_empty())
    }

    /// How many rounds have been merged.
    pub fn merged(&self) -> u64 {
        self.merged
    }

    /// How many values of a stream are waiting for their round.
    pub fn waiting(&self, stream: usize) -> usize {
        self.queues[stream].len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_waits_for_every_stream() {
        let mut rounds = Rounds::new(3);
        rounds.push(0, &[1, 2]);
        rounds.push(1, &[10]);
        assert_eq!(rounds.merge(), []);
        rounds.push(2, &[100, 200]);
        assert_eq!(rounds.merge(), [111]);
        assert_eq!(rounds.merge(), []);
        assert_eq!(
            (rounds.waiting(0), rounds.waiting(1), rounds.waiting(2)),
            (1, 0, 1)
        );
        rounds.push(1, &[20]);
        assert_eq!(rounds.merge(), [222]);
        assert_eq!(rounds.merged(), 2);
    }

    #[test]
    fn rounds_pair_values_by_position_not_by_arrival() {
        let mut rounds = Rounds::new(2);
        rounds.push(0, &[1, 2, 3]);
        rounds.push(1, &[10]);
        rounds.push(1, &[20, 30]);
        assert_eq!(rounds.merge(), [11, 22, 33]);
    }

    #[test]
    fn sums_do_not_overflow() {
        let mut rounds = Rounds::new(3);
        for stream in 0..3 {
            rounds.push(stream, &[i64::MAX - 1]);
        }
        assert_eq!(rounds.merge(), [3 * (i64::MAX as i128 - 1)]);
        for stream in 0..3 {
            rounds.push(stream, &[i64::MIN]);
        }
        assert_eq!(rounds.merge(), [3 * i64::MIN as i128]);
    }

    #[test]
    fn the_run_is_over_once_an_ended_stream_has_nothing_waiting() {
        let mut rounds = Rounds::new(2);
        rounds.push(0, &[1, 2]);
        rounds.end(0);
        assert!(!rounds.is_over());
        rounds.push(1, &[10]);
        assert_eq!(rounds.merge(), [11]);
        assert!(!rounds.is_over());
        rounds.push(1, &[20, 30]);
        assert_eq!(rounds.merge(), [22]);
        assert!(rounds.is_over());
        assert_eq!((rounds.waiting(0), rounds.waiting(1)), (0, 1));
    }
}
