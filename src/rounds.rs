//! The pure core of the merge: one queue per stream, and rounds taken from their fronts.
//!
//! Invariant: rounds are taken in order. Round n is merged as soon as every stream has
//! delivered its n-th value (or, with a fill, has ended), and never earlier; its sum is
//! exact, at the largest scale among its terms. Otherwise the run's outcome is decided by
//! the n-th items alone (a value, an end or a failure), once every stream's is known, so it
//! never depends on which stream's item came first. Each queue holds exactly the values of
//! its stream that no round has used yet, oldest first. No threads and no I/O here.

use std::collections::VecDeque;

use crate::decimal::{Decimal, POW10};

/// How a run ends when its streams are not all of the same length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ending {
    /// With the shortest stream, as `zip` does.
    Shortest,
    /// Streams must end together, as Python's `zip(strict=True)`.
    Strict,
    /// A stream that has ended counts as this value until every stream has ended, as
    /// `itertools.zip_longest`.
    Fill(Decimal),
}

/// How a stream's items ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Last {
    End,
    Failed,
}

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Outcome {
    /// As it should: every round that could be merged was.
    Done,
    /// This stream, the first on the command line to fail where the run stopped, failed.
    Failed(usize),
    /// With `Ending::Strict`: stream `ended` ended while `longer` had more values.
    Uneven { ended: usize, longer: usize },
    /// The exact sum of this round, counted from 1, is outside `i128`.
    Overflow(u64),
}

#[derive(Clone, Debug, Default)]
struct Queue {
    mantissas: VecDeque<i64>,
    /// `(scale, count)`: the scales of `mantissas`, in runs.
    scales: VecDeque<(u8, usize)>,
    last: Option<Last>,
    delivered: u64,
}

/// Per-stream queues of values waiting for their round.
#[derive(Debug)]
pub struct Rounds {
    queues: Vec<Queue>,
    ending: Ending,
    merged: u64,
    outcome: Option<Outcome>,
    /// The sums of the rounds merged last, and their scales in runs.
    sums: Vec<i128>,
    scales: Vec<(u8, usize)>,
    /// How many streams hold up the next round (no value, and not filled), and how many of
    /// them have not told their last item yet: counted as they change, so that a message
    /// costs no pass over a thousand streams when nothing can be merged.
    blocking: usize,
    unknown: usize,
}

/// What one call to `merge` merged: sums, oldest first, and their scales in runs.
pub struct Merged<'a> {
    pub sums: &'a [i128],
    pub scales: &'a [(u8, usize)],
}

impl Rounds {
    /// Queues for `streams` streams, numbered from 0, each reserving `reserve` values:
    /// what it holds past that grows as values come, so memory follows the values held.
    pub fn new(streams: usize, ending: Ending, reserve: usize) -> Self {
        let queue = Queue {
            mantissas: VecDeque::with_capacity(reserve),
            ..Queue::default()
        };
        Rounds {
            queues: vec![queue; streams],
            ending,
            merged: 0,
            outcome: None,
            sums: Vec::new(),
            scales: Vec::new(),
            blocking: streams,
            unknown: streams,
        }
    }

    /// Appends a stream's next values: `mantissas`, with their scales in runs.
    pub fn push(&mut self, stream: usize, mantissas: &[i64], scales: &[(u8, usize)]) {
        let queue = &mut self.queues[stream];
        if queue.mantissas.is_empty() && !mantissas.is_empty() {
            self.blocking -= 1;
            self.unknown -= usize::from(queue.last.is_none());
        }
        queue.mantissas.extend(mantissas);
        queue.delivered += mantissas.len() as u64;
        for &(scale, count) in scales {
            match queue.scales.back_mut() {
                Some((last, n)) if *last == scale => *n += count,
                _ => queue.scales.push_back((scale, count)),
            }
        }
    }

    /// Records a stream's last item, after its values.
    pub fn end(&mut self, stream: usize, last: Last) {
        let queue = &mut self.queues[stream];
        queue.last = Some(last);
        if queue.mantissas.is_empty() {
            self.unknown -= 1;
            self.blocking -= usize::from(fill(self.ending, queue).is_some());
        }
    }

    /// Takes every round that can be merged, in order, and returns how many it took (their
    /// sums are `merges`); decides the outcome once no further round can be.
    pub fn merge(&mut self) -> usize {
        self.sums.clear();
        self.scales.clear();
        while self.outcome.is_none() {
            if self.blocking > 0 {
                if self.unknown == 0 {
                    self.outcome = Some(self.decide());
                }
                break;
            }
            match self.next() {
                Some((len, scale)) => self.merge_run(len, scale),
                None => self.outcome = Some(Outcome::Done), // filled: every stream has ended
            }
        }
        self.sums.len()
    }

    /// The sums of the rounds the last `merge` took, oldest first, and their scales.
    pub fn merges(&self) -> Merged<'_> {
        Merged {
            sums: &self.sums,
            scales: &self.scales,
        }
    }

    /// With no stream holding up the next round: how many rounds follow over which every
    /// stream keeps one scale, and their scale; `None` if every stream is filled.
    fn next(&self) -> Option<(usize, u8)> {
        let (mut len, mut scale) = (usize::MAX, 0);
        for queue in &self.queues {
            let (s, n) = match queue.scales.front() {
                Some(&run) => run,
                None => (
                    fill(self.ending, queue).expect("not blocking").scale(),
                    usize::MAX,
                ),
            };
            (len, scale) = (len.min(n), scale.max(s));
        }
        (len != usize::MAX).then_some((len, scale))
    }

    /// Once every stream's next item is known and some are no value: how the run ends.
    fn decide(&self) -> Outcome {
        let queues = &self.queues;
        let ended = |last| {
            queues
                .iter()
                .position(|q| q.mantissas.is_empty() && q.last == Some(last))
        };
        if let Some(failed) = ended(Last::Failed) {
            return Outcome::Failed(failed);
        }
        let longer = queues.iter().position(|q| !q.mantissas.is_empty());
        match (self.ending, ended(Last::End), longer) {
            (Ending::Strict, Some(ended), Some(longer)) => Outcome::Uneven { ended, longer },
            _ => Outcome::Done,
        }
    }

    /// Merges the next `len` rounds, over which every stream keeps one scale, at `scale`.
    fn merge_run(&mut self, len: usize, scale: u8) {
        let base = self.sums.len();
        self.sums.resize(base + len, 0);
        let terms = terms(&self.queues, self.ending, scale, len);
        // A term is at most 2^63 times its factor in size: if n terms of the largest factor
        // cannot pass 2^127, no sum needs checking.
        let largest = terms.iter().map(|&(_, factor)| factor).max().unwrap_or(1);
        let len = if (terms.len() as i128).saturating_mul(largest) <= 1 << 64 {
            add(&mut self.sums[base..], &terms);
            len
        } else {
            let added = add_checked(&mut self.sums[base..], &terms);
            if added < len {
                self.outcome = Some(Outcome::Overflow(self.merged + added as u64 + 1));
            }
            added
        };
        self.sums.truncate(base + len);
        for queue in &mut self.queues {
            if let Some(front) = queue.scales.front_mut() {
                queue.mantissas.drain(..len);
                front.1 -= len;
                if front.1 == 0 {
                    queue.scales.pop_front();
                }
                if queue.mantissas.is_empty() && fill(self.ending, queue).is_none() {
                    self.blocking += 1;
                    self.unknown += usize::from(queue.last.is_none());
                }
            }
        }
        match self.scales.last_mut() {
            Some((s, n)) if *s == scale => *n += len,
            _ => self.scales.push((scale, len)),
        }
        self.merged += len as u64;
    }

    /// How the run ended, once it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// How many rounds have been merged.
    pub fn merged(&self) -> u64 {
        self.merged
    }

    /// How many values of a stream are waiting for their round.
    pub fn waiting(&self, stream: usize) -> usize {
        self.queues[stream].mantissas.len()
    }

    /// How many values of a stream the merged rounds used.
    pub fn used(&self, stream: usize) -> u64 {
        let queue = &self.queues[stream];
        queue.delivered - queue.mantissas.len() as u64
    }

    /// How many values of a stream no round used, once the run is over: its value in the
    /// round at which the run ended as it should, which was decided but not merged. Depends
    /// on the streams' items alone, never on how far a stream had run ahead.
    pub fn unmatched(&self, stream: usize) -> u64 {
        match self.outcome {
            Some(Outcome::Done) => u64::from(self.waiting(stream) > 0),
            _ => 0,
        }
    }
}

/// The fill that stands for an ended stream, if it is filled.
fn fill(ending: Ending, queue: &Queue) -> Option<Decimal> {
    match (ending, queue.last) {
        (Ending::Fill(fill), Some(Last::End)) if queue.mantissas.is_empty() => Some(fill),
        _ => None,
    }
}

/// A stream's terms for the next rounds: the front of its queue, or the fill.
enum Terms<'a> {
    Queue(&'a [i64], &'a [i64]),
    Fill(i64),
}

/// Each stream's terms for the next `len` rounds, with the factor that brings them to
/// `scale`.
fn terms<'a>(queues: &'a [Queue], ending: Ending, scale: u8, len: usize) -> Vec<(Terms<'a>, i128)> {
    let factor = |s: u8| i128::from(POW10[usize::from(scale - s)]);
    let term = |queue: &'a Queue| match (queue.scales.front(), fill(ending, queue)) {
        (Some(&(s, _)), _) => {
            let (a, b) = queue.mantissas.as_slices();
            let a = &a[..len.min(a.len())];
            (Terms::Queue(a, &b[..len - a.len()]), factor(s))
        }
        (None, Some(fill)) => (Terms::Fill(fill.mantissa()), factor(fill.scale())),
        (None, None) => unreachable!("a stream without values in a round is filled"),
    };
    queues.iter().map(term).collect()
}

/// Adds every term to `sums`, stream by stream: a tight loop over each queue. The sums
/// cannot overflow.
fn add(sums: &mut [i128], terms: &[(Terms, i128)]) {
    for &(ref term, factor) in terms {
        match *term {
            Terms::Queue(a, b) => {
                let (first, second) = sums.split_at_mut(a.len());
                add_slice(first, a, factor);
                add_slice(second, b, factor);
            }
            Terms::Fill(m) => sums
                .iter_mut()
                .for_each(|sum| *sum += i128::from(m) * factor),
        }
    }
}

/// Adds `values`, times `factor`, to `sums`: a loop the compiler can unroll, with no
/// multiplication when there is none to do.
#[inline]
fn add_slice(sums: &mut [i128], values: &[i64], factor: i128) {
    if factor == 1 {
        sums.iter_mut()
            .zip(values)
            .for_each(|(sum, &m)| *sum += i128::from(m));
    } else {
        sums.iter_mut()
            .zip(values)
            .for_each(|(sum, &m)| *sum += i128::from(m) * factor);
    }
}

/// Adds the terms round by round, counting every wrap past the `i128` range: a sum is
/// exact when its wraps cancel out. Returns how many rounds it added: if fewer than
/// `sums.len()`, the next one's sum is outside `i128`.
fn add_checked(sums: &mut [i128], terms: &[(Terms, i128)]) -> usize {
    for (k, slot) in sums.iter_mut().enumerate() {
        let (mut sum, mut wraps) = (0i128, 0i64);
        for (term, factor) in terms {
            let m = match *term {
                Terms::Queue(a, b) => *a.get(k).unwrap_or_else(|| &b[k - a.len()]),
                Terms::Fill(m) => m,
            };
            let (next, wrapped) = sum.overflowing_add(i128::from(m) * factor);
            wraps += i64::from(wrapped) * m.signum();
            sum = next;
        }
        if wraps != 0 {
            return k;
        }
        *slot = sum;
    }
    sums.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes integer values.
    fn push(rounds: &mut Rounds, stream: usize, values: &[i64]) {
        rounds.push(stream, values, &[(0, values.len())]);
    }

    /// Merges and returns the sums, at their scales, as (sum, scale).
    fn merged(rounds: &mut Rounds) -> Vec<(i128, u8)> {
        rounds.merge();
        let merged = rounds.merges();
        let scales = merged
            .scales
            .iter()
            .flat_map(|&(s, n)| std::iter::repeat_n(s, n));
        merged.sums.iter().copied().zip(scales).collect()
    }

    fn sums(rounds: &mut Rounds) -> Vec<i128> {
        merged(rounds).into_iter().map(|(sum, _)| sum).collect()
    }

    #[test]
    fn a_round_waits_for_every_stream() {
        let mut rounds = Rounds::new(3, Ending::Shortest, 0);
        push(&mut rounds, 0, &[1, 2]);
        push(&mut rounds, 1, &[10]);
        assert_eq!(sums(&mut rounds), []);
        push(&mut rounds, 2, &[100, 200]);
        assert_eq!(sums(&mut rounds), [111]);
        assert_eq!(sums(&mut rounds), []);
        let waiting = (rounds.waiting(0), rounds.waiting(1), rounds.waiting(2));
        assert_eq!(waiting, (1, 0, 1));
        push(&mut rounds, 1, &[20]);
        assert_eq!(sums(&mut rounds), [222]);
        assert_eq!((rounds.merged(), rounds.used(0)), (2, 2));
        assert_eq!(rounds.outcome(), None);
    }

    #[test]
    fn rounds_pair_values_by_position_not_by_arrival() {
        let mut rounds = Rounds::new(2, Ending::Shortest, 0);
        push(&mut rounds, 0, &[1, 2, 3]);
        push(&mut rounds, 1, &[10]);
        push(&mut rounds, 1, &[20, 30]);
        assert_eq!(sums(&mut rounds), [11, 22, 33]);
    }

    #[test]
    fn a_rounds_scale_is_its_finest_terms() {
        let mut rounds = Rounds::new(2, Ending::Shortest, 0);
        // 1.50 + 2, 0.1 + 0.2, -1.5 + 1.50, 1000 + 0.025, 7 + 8
        rounds.push(0, &[150, 1, -15, 1000, 7], &[(2, 1), (1, 2), (0, 2)]);
        rounds.push(
            1,
            &[2, 2, 150, 25, 8],
            &[(0, 1), (1, 1), (2, 1), (3, 1), (0, 1)],
        );
        let expected = [(350, 2), (3, 1), (0, 2), (1_000_025, 3), (15, 0)];
        assert_eq!(merged(&mut rounds), expected);
    }

    #[test]
    fn sums_are_exact_beyond_i64() {
        let mut rounds = Rounds::new(3, Ending::Shortest, 0);
        for stream in 0..3 {
            push(&mut rounds, stream, &[i64::MAX - 1, i64::MIN]);
        }
        let expected = [3 * (i64::MAX as i128 - 1), 3 * i64::MIN as i128];
        assert_eq!(sums(&mut rounds), expected);
    }

    #[test]
    fn only_a_sum_outside_i128_overflows_not_a_partial_one() {
        // Stream 40 is at scale 18, so the others' terms are m·10^18, up to about 9.2e36.
        let big = i64::MAX;
        let mut rounds = Rounds::new(41, Ending::Shortest, 0);
        for stream in 0..40 {
            // Round 1: 20 terms up then 20 down; partial sums pass i128::MAX, the sum is 0.
            // Round 2: 20 terms up, about 1.8e38: past i128::MAX, about 1.7e38.
            let values = if stream < 20 { [big, big] } else { [-big, 0] };
            rounds.push(stream, &values, &[(0, 2)]);
        }
        rounds.push(40, &[0, 0], &[(18, 2)]);
        assert_eq!(merged(&mut rounds), [(0, 18)]);
        assert_eq!(rounds.outcome(), Some(Outcome::Overflow(2)));
        assert_eq!(rounds.merged(), 1);
    }

    #[test]
    fn the_run_ends_with_the_shortest_once_every_next_item_is_known() {
        let mut rounds = Rounds::new(3, Ending::Shortest, 0);
        push(&mut rounds, 0, &[1, 2]);
        rounds.end(0, Last::End);
        push(&mut rounds, 1, &[10, 20]);
        assert_eq!(sums(&mut rounds), []);
        push(&mut rounds, 2, &[100, 200]);
        assert_eq!(sums(&mut rounds), [111, 222]);
        // Stream 1's third item is not known yet: it could be a failure.
        assert_eq!(rounds.outcome(), None);
        push(&mut rounds, 1, &[30]);
        assert_eq!(rounds.outcome(), None);
        rounds.end(2, Last::Failed);
        assert_eq!(sums(&mut rounds), []);
        assert_eq!(rounds.outcome(), Some(Outcome::Failed(2)));
    }

    #[test]
    fn a_failure_past_the_shortest_stream_does_not_count() {
        let mut rounds = Rounds::new(2, Ending::Shortest, 0);
        push(&mut rounds, 0, &[1]);
        rounds.end(0, Last::End);
        push(&mut rounds, 1, &[10, 20]);
        rounds.end(1, Last::Failed);
        assert_eq!(sums(&mut rounds), [11]);
        assert_eq!(rounds.outcome(), Some(Outcome::Done));
        assert_eq!((rounds.waiting(0), rounds.waiting(1)), (0, 1));
    }

    #[test]
    fn the_first_failure_on_the_command_line_is_the_one_told() {
        for order in [[0, 1, 2], [2, 1, 0]] {
            let mut rounds = Rounds::new(3, Ending::Shortest, 0);
            for stream in order {
                push(&mut rounds, stream, &[5]);
                let last = if stream == 0 { Last::End } else { Last::Failed };
                rounds.end(stream, last);
                let _ = rounds.merge();
            }
            assert_eq!(rounds.outcome(), Some(Outcome::Failed(1)), "{order:?}");
            assert_eq!(rounds.merged(), 1);
        }
    }

    #[test]
    fn strict_streams_must_end_together() {
        let mut rounds = Rounds::new(3, Ending::Strict, 0);
        for stream in 0..3 {
            push(&mut rounds, stream, &[1]);
        }
        rounds.end(0, Last::End);
        push(&mut rounds, 1, &[2]);
        rounds.end(2, Last::End);
        assert_eq!(sums(&mut rounds), [3]);
        let uneven = Outcome::Uneven {
            ended: 0,
            longer: 1,
        };
        assert_eq!(rounds.outcome(), Some(uneven));
        let mut even = Rounds::new(2, Ending::Strict, 0);
        for stream in 0..2 {
            push(&mut even, stream, &[1]);
            even.end(stream, Last::End);
        }
        assert_eq!(sums(&mut even), [2]);
        assert_eq!(even.outcome(), Some(Outcome::Done));
    }

    #[test]
    fn a_fill_stands_for_ended_streams_until_all_have_ended() {
        let fill = Decimal::new(-5, 1).unwrap();
        let mut rounds = Rounds::new(2, Ending::Fill(fill), 0);
        push(&mut rounds, 0, &[1]);
        rounds.end(0, Last::End);
        push(&mut rounds, 1, &[10, 20]);
        // Round 1 has no fill and keeps scale 0; round 2 takes the fill's.
        assert_eq!(merged(&mut rounds), [(11, 0), (195, 1)]);
        assert_eq!(rounds.outcome(), None);
        push(&mut rounds, 1, &[30]);
        rounds.end(1, Last::End);
        assert_eq!(merged(&mut rounds), [(295, 1)]);
        assert_eq!(rounds.outcome(), Some(Outcome::Done));
        assert_eq!((rounds.waiting(0), rounds.waiting(1)), (0, 0));
    }

    #[test]
    fn a_failed_stream_is_not_filled() {
        let fill = Decimal::new(0, 0).unwrap();
        let mut rounds = Rounds::new(2, Ending::Fill(fill), 0);
        push(&mut rounds, 0, &[1]);
        rounds.end(0, Last::Failed);
        push(&mut rounds, 1, &[10, 20]);
        assert_eq!(sums(&mut rounds), [11]);
        assert_eq!(rounds.outcome(), Some(Outcome::Failed(0)));
    }
}
