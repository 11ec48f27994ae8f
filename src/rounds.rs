//! The pure core of the merge: one queue per stream, and rounds taken from their fronts,
//! by position or by time.
//!
//! Invariant: rounds are taken in order: by position, round n holds every stream's n-th
//! value; by time, round t holds the values at the least time among every stream's next
//! values. A round is decided once every stream's next item is known (a value, an end or a
//! failure), never earlier, and by those items alone, so nothing depends on which stream's
//! item came first. A stream with no value in a round counts as the ending says (a fill,
//! its latest value) or the round is not merged; a failure among the next items ends the
//! run. A merged round's sum is exact, at the largest scale among its terms. Each queue
//! holds exactly the values of its stream that no round has used yet, oldest first. No
//! threads and no I/O here.

use std::cmp::Ordering;
use std::collections::VecDeque;

use crate::ahead;
use crate::chunks::Chunks;
use crate::decimal::{self, Decimal, POW10};
use crate::message::count;

/// What stands for a stream that has no value in a round.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ending {
    /// Nothing: the round is not merged, and the run ends with the shortest stream, as
    /// `zip` does.
    Shortest,
    /// Nothing: the run fails. Streams must end together, as Python's `zip(strict=True)`.
    Strict,
    /// This value, as `itertools.zip_longest`, until every stream has ended.
    Fill(Decimal),
    /// The stream's latest value, as pandas' `merge_asof`, until every stream has ended;
    /// if it has none yet, the round is not merged.
    Carry,
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
    /// By position, with `Ending::Strict`: stream `ended` ended while `longer` had more
    /// values.
    Uneven { ended: usize, longer: usize },
    /// By time, with `Ending::Strict`: this stream had no value at this time.
    Missing { stream: usize, time: Decimal },
    /// The exact sum of this round, counted from 1, at this time if by time, is outside
    /// `i128`.
    Overflow { round: u64, time: Option<Decimal> },
}

/// Values in a queue: mantissas, in the batches they came in, with their scales in runs.
#[derive(Clone, Debug, Default)]
struct Column {
    mantissas: Chunks,
    /// `(scale, count)`: the scales of `mantissas`, in runs.
    scales: VecDeque<(u8, usize)>,
}

impl Column {
    /// Takes `mantissas`, leaving it empty with at least its capacity (see `Chunks::append`).
    fn push(&mut self, mantissas: &mut Vec<i64>, scales: &[(u8, usize)]) {
        self.mantissas.append(mantissas);
        for &(scale, count) in scales {
            match self.scales.back_mut() {
                Some((last, n)) if *last == scale => *n += count,
                _ if count == 0 => {}
                _ => self.scales.push_back((scale, count)),
            }
        }
    }

    fn front(&self) -> Option<Decimal> {
        self.front_at(0)
    }

    /// Drops the first `len` values, which share one scale; returns the last of them.
    fn pop(&mut self, len: usize) -> Option<Decimal> {
        let &(scale, _) = self.scales.front()?;
        let last = Decimal::new(self.mantissas.drop_front(len), scale);
        let front = self.scales.front_mut().expect("a run");
        front.1 -= len;
        if front.1 == 0 {
            self.scales.pop_front();
        }
        last
    }
}

#[derive(Clone, Debug, Default)]
struct Queue {
    values: Column,
    /// Their times, by time; empty by position.
    times: Column,
    last: Option<Last>,
    delivered: u64,
    /// The latest value a round used: what `Ending::Carry` counts the stream as; and
    /// whether that round was not merged.
    latest: Option<Decimal>,
    latest_dropped: bool,
    /// Values of rounds that were not merged.
    dropped: u64,
    /// By time: rounds taken at which the stream had no value of its own, and the first.
    missing: u64,
    first_missing: Option<Decimal>,
    /// Whether its next value is in the round at which the run ended as it should.
    in_last: bool,
}

impl Queue {
    fn is_empty(&self) -> bool {
        self.values.mantissas.is_empty()
    }

    fn ended(&self) -> bool {
        self.is_empty() && self.last == Some(Last::End)
    }

    /// What stands for it in the next round if it has ended: the fill, or its latest value.
    fn stand_in(&self, ending: Ending) -> Option<Decimal> {
        self.ended().then(|| self.counts_as(ending)).flatten()
    }

    /// What it counts as in a round in which it has no value of its own: the fill, or its
    /// latest value, as the ending says.
    fn counts_as(&self, ending: Ending) -> Option<Decimal> {
        match ending {
            Ending::Fill(fill) => Some(fill),
            Ending::Carry => self.latest,
            Ending::Shortest | Ending::Strict => None,
        }
    }

    /// Takes its first `len` values, which share one scale (and, by time, one time scale).
    fn take(&mut self, len: usize) {
        self.latest = self.values.pop(len);
        self.latest_dropped = false;
        if !self.times.mantissas.is_empty() {
            self.times.pop(len);
        }
    }

    /// It had no value of its own at `time`.
    fn missed(&mut self, time: Decimal) {
        self.missing += 1;
        self.first_missing.get_or_insert(time);
    }
}

/// Counts of rounds, for `--stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    pub merged: u64,
    /// Not merged: a stream had no value, and nothing stood for it.
    pub dropped: u64,
    /// Merged with a fill, or with a carried value, for a stream.
    pub filled: u64,
    pub carried: u64,
}

/// Per-stream queues of values waiting for their round.
#[derive(Debug)]
pub struct Rounds {
    queues: Vec<Queue>,
    ending: Ending,
    by_time: bool,
    /// By position, each round's time is its number, as a generated stream's n-th value is
    /// at time n: so streams that are all generated, with as many values each, merge by time
    /// as they do by position, and need no times looked at (see `timed_by_round`).
    by_round: bool,
    counts: Counts,
    outcome: Option<Outcome>,
    /// The sums of the rounds merged last, and their scales in runs; by time, their times.
    sums: Vec<i128>,
    scales: Vec<(u8, usize)>,
    times: Vec<CountingTimes>,
    /// How many streams hold up the next round (no value, and nothing stands for them), and
    /// how many of them have not told their last item yet: counted as they change, so that
    /// a message costs no pass over a thousand streams when nothing can be taken.
    blocking: usize,
    unknown: usize,
    /// A round's terms, when one is taken on its own: reused.
    scratch: Vec<Decimal>,
    /// A round not merged waits for the next call to `merge`, after the merges of this one.
    held: bool,
}

/// What one call to `merge` merged: sums, oldest first, and their scales in runs; by time,
/// their times, in runs that count.
pub struct Merged<'a> {
    pub sums: &'a [i128],
    pub scales: &'a [(u8, usize)],
    pub times: &'a [CountingTimes],
}

/// `len` times that count up by one from `first`, mantissas at `scale`: the times of merges
/// in runs, as times mostly count, so that a run of them costs no time of its own to keep,
/// nor to print. A time that does not follow the one before starts a run of its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CountingTimes {
    pub first: i64,
    pub len: usize,
    pub scale: u8,
}

impl CountingTimes {
    /// Their mantissas, in order: each worked out from the first, so that none past the
    /// last, which may be `i64::MAX`, is.
    pub fn times(self) -> impl Iterator<Item = i64> {
        (0..self.len).map(move |k| self.first + k as i64)
    }
}

/// Counts `len` more times from `first` at `scale` in `runs`: the last run takes them if
/// they follow it.
fn count_times(runs: &mut Vec<CountingTimes>, first: i64, len: usize, scale: u8) {
    match runs.last_mut() {
        Some(last)
            if last.scale == scale && last.first.checked_add(last.len as i64) == Some(first) =>
        {
            last.len += len;
        }
        _ if len == 0 => {}
        _ => runs.push(CountingTimes { first, len, scale }),
    }
}

impl Rounds {
    /// Queues for `streams` streams, numbered from 0, which hold the values that come in
    /// the batches they came in or in a ring (see `Chunks`), so memory follows the values
    /// held. `by_time`: values come with times, and rounds are times.
    pub fn new(streams: usize, ending: Ending, by_time: bool) -> Self {
        Rounds {
            queues: vec![Queue::default(); streams],
            ending,
            by_time,
            by_round: false,
            counts: Counts::default(),
            outcome: None,
            sums: Vec::new(),
            scales: Vec::new(),
            times: Vec::new(),
            blocking: streams,
            unknown: streams,
            scratch: Vec::new(),
            held: false,
        }
    }

    /// If `by_round`, and rounds are by position: each merged with its number as its time,
    /// in messages too.
    pub fn timed_by_round(self, by_round: bool) -> Self {
        Rounds {
            by_round: by_round && !self.by_time,
            ..self
        }
    }

    /// The time of round `round`, counted from 1, where rounds are timed by their number.
    fn round_time(&self, round: u64) -> Option<Decimal> {
        self.by_round
            .then(|| Decimal::new(i64::try_from(round).ok()?, 0))
            .flatten()
    }

    /// Appends a stream's next values: `mantissas`, with their scales in runs, and by time
    /// their times, `times` with `time_scales`, which are not kept by position. A stream's
    /// times must each be later than the one before, as its reader makes sure. Takes the
    /// values, and leaves `mantissas` and `times` empty with at least their capacity.
    pub fn push(
        &mut self,
        stream: usize,
        (mantissas, scales): (&mut Vec<i64>, &[(u8, usize)]),
        (times, time_scales): (&mut Vec<i64>, &[(u8, usize)]),
    ) {
        let queue = &mut self.queues[stream];
        if queue.is_empty() && !mantissas.is_empty() {
            self.blocking -= 1;
            self.unknown -= usize::from(queue.last.is_none());
        }
        queue.delivered += mantissas.len() as u64;
        queue.values.push(mantissas, scales);
        if self.by_time {
            queue.times.push(times, time_scales);
        }
    }

    /// Records a stream's last item, after its values.
    pub fn end(&mut self, stream: usize, last: Last) {
        let queue = &mut self.queues[stream];
        queue.last = Some(last);
        if queue.is_empty() {
            self.unknown -= 1;
            self.blocking -= usize::from(queue.stand_in(self.ending).is_some());
        }
    }

    /// Takes the rounds that can be taken, in order, and returns how many it took, merged or
    /// not (the merged ones' sums are `merges`); decides the outcome once no further round
    /// can be. A round not merged after merged ones waits for the next call, so that the
    /// output can keep them in order: call it until it takes none.
    pub fn merge(&mut self) -> u64 {
        let taken = self.taken();
        self.sums.clear();
        self.scales.clear();
        self.times.clear();
        self.held = false;
        while self.outcome.is_none() && !self.held {
            if self.blocking > 0 {
                if self.unknown > 0 {
                    break;
                }
                self.step();
                continue;
            }
            match self.run() {
                Some((len, scale)) => self.merge_run(len, scale),
                None => self.step(),
            }
        }
        self.taken() - taken
    }

    /// How many rounds have been taken, merged or not.
    fn taken(&self) -> u64 {
        self.counts.merged + self.counts.dropped
    }

    /// The sums of the rounds the last `merge` took, oldest first, and their scales.
    pub fn merges(&self) -> Merged<'_> {
        Merged {
            sums: &self.sums,
            scales: &self.scales,
            times: &self.times,
        }
    }

    /// With no stream holding up the next round: how many rounds follow that can be merged
    /// together, over which every stream keeps one scale and its values lie in the first
    /// two pieces of its queue (see `Chunks::front`), and their scale. By position, ended
    /// streams count as what stands in for them; `None` if every stream has ended. By
    /// time, every stream must have values at the same times; `None` if not.
    fn run(&self) -> Option<(usize, u8)> {
        let (mut len, mut scale) = (usize::MAX, 0);
        for queue in &self.queues {
            let (s, n) = match queue.values.scales.front() {
                Some(&(s, n)) => {
                    let (a, b) = queue.values.mantissas.front();
                    (s, n.min(a.len() + b.len()))
                }
                None if self.by_time => return None,
                None => (
                    queue.stand_in(self.ending).expect("not blocking").scale(),
                    usize::MAX,
                ),
            };
            (len, scale) = (len.min(n), scale.max(s));
        }
        if self.by_time {
            len = self.aligned(len);
        }
        (len != usize::MAX && len > 0).then_some((len, scale))
    }

    /// By time: of the next `most` rounds, how many in a row every stream has a value at,
    /// with times of one scale: the common case, where no reading is missing.
    fn aligned(&self, most: usize) -> usize {
        let first = &self.queues[0].times;
        let Some(&(scale, run)) = first.scales.front() else {
            return 0;
        };
        let mut len = most.min(run);
        for queue in &self.queues[1..] {
            match queue.times.scales.front() {
                Some(&(s, n)) if s == scale => len = len.min(n),
                _ => return 0,
            }
        }
        // Times that count in the first queue, and start and end alike in every other, are
        // the same in all, since each stream's times increase (its reader refuses any that
        // does not): the common case, known with no time compared but those.
        let ends = |q: &Queue| (q.times.mantissas.get(0), q.times.mantissas.get(len - 1));
        if counts_up(&first.mantissas, len) {
            let same = ends(&self.queues[0]);
            if self.queues[1..].iter().all(|q| ends(q) == same) {
                return len;
            }
        }
        for queue in &self.queues[1..] {
            len = agreeing(&first.mantissas, &queue.times.mantissas, len);
        }
        len
    }

    /// Once every stream's next item is known, and the next round cannot be merged with
    /// others: takes it on its own, or decides how the run ends.
    fn step(&mut self) {
        let failed = |q: &Queue| q.is_empty() && q.last == Some(Last::Failed);
        if let Some(failed) = self.queues.iter().position(failed) {
            self.outcome = Some(Outcome::Failed(failed));
            return;
        }
        let time = self.next_time();
        let present = |q: &Queue| Self::present(q, time);
        if !self.queues.iter().any(present) {
            self.outcome = Some(Outcome::Done); // every stream has ended
            return;
        }
        let absent = self.queues.iter().position(|q| !present(q));
        match (self.ending, absent) {
            (Ending::Shortest, _) if self.queues.iter().any(Queue::ended) => {
                for queue in &mut self.queues {
                    queue.in_last = present(queue);
                }
                self.outcome = Some(Outcome::Done);
            }
            (Ending::Strict, Some(stream)) => {
                self.outcome = Some(match time {
                    Some(time) => Outcome::Missing { stream, time },
                    None => Outcome::Uneven {
                        ended: stream,
                        longer: self.queues.iter().position(present).expect("a value"),
                    },
                });
            }
            _ => self.take_one(time),
        }
    }

    /// By time, the least time among every stream's next values, at the largest scale
    /// among those at it, as the round's merge prints it: in messages too, whatever the
    /// order of the streams.
    fn next_time(&self) -> Option<Decimal> {
        let times = self.queues.iter().filter_map(|q| q.times.front());
        times.reduce(|least, time| match decimal::compare(time, least) {
            Ordering::Less => time,
            Ordering::Equal if time.scale() > least.scale() => time,
            _ => least,
        })
    }
}

impl Rounds {
    /// Whether `queue` has a value in the round at `time` (by position, any value).
    fn present(queue: &Queue, time: Option<Decimal>) -> bool {
        match (queue.values.front(), time) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(_), Some(t)) => {
                (queue.times.front()).is_some_and(|u| decimal::compare(u, t).is_eq())
            }
        }
    }

    /// Takes the next round on its own: the values of the streams that have one in it, and
    /// for each other what stands in for it. Merged if every stream has a term; else not,
    /// and its values are unmatched.
    fn take_one(&mut self, time: Option<Decimal>) {
        let mut terms = std::mem::take(&mut self.scratch);
        terms.clear();
        let (mut filled, mut carried, mut whole) = (false, false, true);
        for queue in &self.queues {
            if Self::present(queue, time) {
                terms.extend(queue.values.front());
                continue;
            }
            let stand_in = queue.counts_as(self.ending);
            filled |= matches!(self.ending, Ending::Fill(_));
            carried |= stand_in.is_some() && self.ending == Ending::Carry;
            whole &= stand_in.is_some();
            terms.extend(stand_in);
        }
        if whole {
            let scale = terms.iter().map(|d| d.scale()).max().unwrap_or(0);
            let Some(sum) = exact_sum(&terms, scale) else {
                let round = self.taken() + 1;
                let time = time.or(self.round_time(round));
                self.outcome = Some(Outcome::Overflow { round, time });
                self.scratch = terms;
                return;
            };
            self.sums.push(sum);
            count(&mut self.scales, scale, 1);
            if let Some(at) = time.or_else(|| self.round_time(self.taken() + 1)) {
                count_times(&mut self.times, at.mantissa(), 1, at.scale());
            }
            self.counts.merged += 1;
            self.counts.filled += u64::from(filled);
            self.counts.carried += u64::from(carried);
        } else if !self.sums.is_empty() {
            // Not merged: it waits for the call after this one, so that its values are
            // printed after the merges before it.
            self.scratch = terms;
            self.held = true;
            return;
        } else {
            self.counts.dropped += 1;
        }
        self.scratch = terms;
        for queue in &mut self.queues {
            if !Self::present(queue, time) {
                time.into_iter().for_each(|t| queue.missed(t));
                if whole && self.ending == Ending::Carry && queue.latest_dropped {
                    // Its latest value, of a round not merged, is used after all.
                    (queue.dropped, queue.latest_dropped) = (queue.dropped - 1, false);
                }
                continue;
            }
            queue.dropped += u64::from(!whole);
            queue.take(1);
            queue.latest_dropped = !whole;
            if queue.is_empty() && queue.stand_in(self.ending).is_none() {
                self.blocking += 1;
                self.unknown += usize::from(queue.last.is_none());
            }
        }
    }

    /// Merges the next `len` rounds, over which every stream keeps one scale, at `scale`.
    fn merge_run(&mut self, len: usize, scale: u8) {
        let base = self.sums.len();
        let terms = terms(&self.queues, self.ending, scale, len);
        // A term is at most 2^63 times its factor in size: if n terms of the largest factor
        // cannot pass 2^127, no sum needs checking.
        let largest = terms.iter().map(|&(_, factor)| factor).max().unwrap_or(1);
        let len = if (terms.len() as i128).saturating_mul(largest) <= 1 << 64 {
            add(&mut self.sums, &terms, len);
            len
        } else {
            self.sums.resize(base + len, 0);
            let added = add_checked(&mut self.sums[base..], &terms);
            if added < len {
                let round = self.taken() + added as u64 + 1;
                let time = self
                    .by_time
                    .then(|| self.queues[0].times.front_at(added))
                    .flatten()
                    .or(self.round_time(round));
                self.outcome = Some(Outcome::Overflow { round, time });
            }
            added
        };
        self.sums.truncate(base + len);
        if len == 0 {
            return;
        }
        let stood_in = terms
            .iter()
            .any(|(term, _)| matches!(term, Terms::StandIn(_)));
        if self.by_time {
            let first = &self.queues[0].times;
            let scale = first.scales[0].0;
            if counts_up(&first.mantissas, len) {
                let start = first.mantissas.get(0).expect("a time");
                count_times(&mut self.times, start, len, scale);
            } else {
                for t in first.mantissas.iter().take(len) {
                    count_times(&mut self.times, t, 1, scale);
                }
            }
        } else if self.by_round {
            let first = self.taken() as i64 + 1;
            count_times(&mut self.times, first, len, 0);
        }
        for queue in &mut self.queues {
            if !queue.is_empty() {
                queue.take(len);
                if queue.is_empty() && queue.stand_in(self.ending).is_none() {
                    self.blocking += 1;
                    self.unknown += usize::from(queue.last.is_none());
                }
            }
        }
        count(&mut self.scales, scale, len);
        self.counts.merged += len as u64;
        if stood_in {
            match self.ending {
                Ending::Carry => self.counts.carried += len as u64,
                _ => self.counts.filled += len as u64,
            }
        }
    }

    /// How the run ended, once it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// How many rounds have been merged, dropped, filled and carried.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// How many rounds have been merged.
    pub fn merged(&self) -> u64 {
        self.counts.merged
    }

    /// How many values of a stream are waiting for their round.
    #[cfg(test)]
    fn waiting(&self, stream: usize) -> usize {
        self.queues[stream].values.mantissas.len()
    }

    /// How many values of a stream the rounds taken used, merged or not.
    pub fn used(&self, stream: usize) -> u64 {
        let queue = &self.queues[stream];
        queue.delivered - queue.values.mantissas.len() as u64
    }

    /// How many values of a stream the run decided on: those the rounds taken used, and
    /// its value in the round at which the run ended as it should.
    pub fn decided(&self, stream: usize) -> u64 {
        self.used(stream) + u64::from(self.in_last_round(stream))
    }

    /// Whether the stream had a value in the round at which the run ended as it should.
    fn in_last_round(&self, stream: usize) -> bool {
        self.outcome == Some(Outcome::Done) && self.queues[stream].in_last
    }

    /// How many values of a stream no merge used, once the run is over: those of rounds
    /// not merged, and its value in the round at which the run ended as it should, which
    /// was decided but not merged. Depends on the streams' items alone, never on how far a
    /// stream had run ahead.
    pub fn unmatched(&self, stream: usize) -> u64 {
        self.queues[stream].dropped + u64::from(self.in_last_round(stream))
    }

    /// By time: at how many times of the rounds taken the stream had no value of its own,
    /// and the first.
    pub fn missing(&self, stream: usize) -> (u64, Option<Decimal>) {
        let queue = &self.queues[stream];
        (queue.missing, queue.first_missing)
    }
}

impl Column {
    /// The value `at` places from the front, if any.
    fn front_at(&self, at: usize) -> Option<Decimal> {
        let (m, &(s, _)) = (self.mantissas.get(at)?, self.scales.front()?);
        Decimal::new(m, s)
    }
}

/// The exact sum of `terms` at `scale`, the largest of theirs; `None` if outside `i128`.
fn exact_sum(terms: &[Decimal], scale: u8) -> Option<i128> {
    let (mut sum, mut wraps) = (0i128, 0i64);
    for term in terms {
        let factor = i128::from(POW10[usize::from(scale - term.scale())]);
        let (next, wrapped) = sum.overflowing_add(i128::from(term.mantissa()) * factor);
        wraps += i64::from(wrapped) * term.mantissa().signum();
        sum = next;
    }
    (wraps == 0).then_some(sum)
}

/// A stream's terms for the next rounds: the front of its queue, or what stands in for it.
enum Terms<'a> {
    Queue(&'a [i64], &'a [i64]),
    StandIn(i64),
}

/// Each stream's terms for the next `len` rounds, which lie in the first two pieces of its
/// queue (see `run`), with the factor that brings them to `scale`.
fn terms<'a>(queues: &'a [Queue], ending: Ending, scale: u8, len: usize) -> Vec<(Terms<'a>, i128)> {
    let factor = |s: u8| i128::from(POW10[usize::from(scale - s)]);
    let term = |queue: &'a Queue| match (queue.values.scales.front(), queue.stand_in(ending)) {
        (Some(&(s, _)), _) => {
            let (a, b) = queue.values.mantissas.front();
            let a = &a[..len.min(a.len())];
            (Terms::Queue(a, &b[..len - a.len()]), factor(s))
        }
        (None, Some(value)) => (Terms::StandIn(value.mantissa()), factor(value.scale())),
        (None, None) => unreachable!("a stream without values in a round has a stand-in"),
    };
    queues.iter().map(term).collect()
}

/// Whether the first `len` of a stream's times, which increase at one scale, count up by one.
fn counts_up(times: &Chunks, len: usize) -> bool {
    let ends = (
        times.get(0),
        len.checked_sub(1).and_then(|last| times.get(last)),
    );
    matches!(ends, (Some(first), Some(last)) if ahead::count_up(first, last, len))
}

/// How many of the first `most` values of `a` and `b`, both at least that long, are the
/// same in a row: compared where the two queues' pieces overlap, a block at a time, as
/// blocks of memory are.
fn agreeing(a: &Chunks, b: &Chunks, most: usize) -> usize {
    debug_assert!(
        a.len() >= most && b.len() >= most,
        "both hold the rounds compared"
    );
    let mut same = 0;
    while same < most {
        let (x, y) = (a.piece(same), b.piece(same));
        let n = x.len().min(y.len()).min(most - same);
        let chunks = x[..n].chunks(64).zip(y[..n].chunks(64));
        let equal: usize = chunks
            .take_while(|(x, y)| x == y)
            .map(|(x, _)| x.len())
            .sum();
        let rest = x[equal..n].iter().zip(&y[equal..n]);
        let run = equal + rest.take_while(|(x, y)| x == y).count();
        same += run;
        if run < n {
            break;
        }
    }
    same
}

/// Appends the sums of the next `len` rounds to `sums`, stream by stream, a tight loop over
/// each queue: the first stream's terms written, each other's added, so that no pass zeroes
/// the sums first. The sums cannot overflow.
fn add(sums: &mut Vec<i128>, terms: &[(Terms, i128)], len: usize) {
    let base = sums.len();
    let Some(((first, factor), rest)) = terms.split_first() else {
        return sums.resize(base + len, 0);
    };
    match (first, *factor) {
        (Terms::Queue(a, b), 1) => sums.extend(a.iter().chain(*b).map(|&m| i128::from(m))),
        (Terms::Queue(a, b), factor) => {
            sums.extend(a.iter().chain(*b).map(|&m| i128::from(m) * factor));
        }
        (Terms::StandIn(m), factor) => sums.resize(base + len, i128::from(*m) * factor),
    }
    let sums = &mut sums[base..];
    for &(ref term, factor) in rest {
        match *term {
            Terms::Queue(a, b) => {
                let (first, second) = sums.split_at_mut(a.len());
                add_slice(first, a, factor);
                add_slice(second, b, factor);
            }
            Terms::StandIn(m) => sums
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
                Terms::StandIn(m) => m,
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
    use crate::chunks::LARGE;

    /// A queue holding `values` as two batches, split `shift` values in: the first taken
    /// as it came, the second too if large, else copied into the ring.
    fn split(values: &[i64], shift: usize) -> Chunks {
        let mut chunks = Chunks::default();
        for piece in [&values[..shift], &values[shift..]] {
            chunks.append(&mut piece.to_vec());
        }
        chunks
    }

    #[test]
    fn agreeing_counts_the_same_values_in_a_row_wherever_the_queues_split() {
        let (large, all) = (LARGE, 2 * LARGE + 150);
        let values: Vec<i64> = (0..all as i64).collect();
        for differ in [0, 1, 63, 64, 65, large - 1, large, large + 64, all - 1, all] {
            let mut other = values.clone();
            if let Some(v) = other.get_mut(differ) {
                *v = -1;
            }
            let shifts = [(large, large), (large + 7, large), (all - 1, large + 64)];
            for (a, b) in shifts {
                let (a, b) = (split(&values, a), split(&other, b));
                for most in [0, 1, 64, large, large + 100, all] {
                    assert_eq!(agreeing(&a, &b, most), differ.min(most), "{differ} {most}");
                }
            }
        }
    }

    #[test]
    fn rounds_over_batches_taken_as_they_came_and_copied_sum_as_one_queue_would() {
        let mut rounds = Rounds::new(2, Ending::Shortest, false);
        let all = 2 * LARGE + 3;
        let x: Vec<i64> = (0..all as i64).collect();
        let y: Vec<i64> = x.iter().map(|v| 1000 + v).collect();
        // x in two large batches; y in a large one, a value alone, then the rest copied.
        for (stream, values, cuts) in [(0, &x, [LARGE, LARGE]), (1, &y, [LARGE + 5, 1])] {
            let (first, rest) = values.split_at(cuts[0]);
            let (second, third) = rest.split_at(cuts[1]);
            for piece in [first, second, third] {
                push(&mut rounds, stream, piece);
            }
        }
        let want: Vec<i128> = (0..all as i128).map(|v| 1000 + 2 * v).collect();
        assert_eq!(sums(&mut rounds), want);
    }

    /// Pushes integer values.
    fn push(rounds: &mut Rounds, stream: usize, values: &[i64]) {
        let runs = [(0, values.len())];
        rounds.push(
            stream,
            (&mut values.to_vec(), &runs),
            (&mut Vec::new(), &[]),
        );
    }

    /// Merges and returns the sums, at their scales, as (sum, scale).
    fn merged(rounds: &mut Rounds) -> Vec<(i128, u8)> {
        let mut all = Vec::new();
        while rounds.merge() > 0 {
            let merged = rounds.merges();
            let scales = merged
                .scales
                .iter()
                .flat_map(|&(s, n)| std::iter::repeat_n(s, n));
            all.extend(merged.sums.iter().copied().zip(scales));
        }
        all
    }

    fn sums(rounds: &mut Rounds) -> Vec<i128> {
        merged(rounds).into_iter().map(|(sum, _)| sum).collect()
    }

    #[test]
    fn a_round_waits_for_every_stream() {
        let mut rounds = Rounds::new(3, Ending::Shortest, false);
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
        let mut rounds = Rounds::new(2, Ending::Shortest, false);
        push(&mut rounds, 0, &[1, 2, 3]);
        push(&mut rounds, 1, &[10]);
        push(&mut rounds, 1, &[20, 30]);
        assert_eq!(sums(&mut rounds), [11, 22, 33]);
    }

    #[test]
    fn a_rounds_scale_is_its_finest_terms() {
        let mut rounds = Rounds::new(2, Ending::Shortest, false);
        // 1.50 + 2, 0.1 + 0.2, -1.5 + 1.50, 1000 + 0.025, 7 + 8
        rounds.push(
            0,
            (&mut vec![150, 1, -15, 1000, 7], &[(2, 1), (1, 2), (0, 2)]),
            (&mut vec![], &[]),
        );
        let scales = [(0, 1), (1, 1), (2, 1), (3, 1), (0, 1)];
        rounds.push(
            1,
            (&mut vec![2, 2, 150, 25, 8], &scales),
            (&mut vec![], &[]),
        );
        let expected = [(350, 2), (3, 1), (0, 2), (1_000_025, 3), (15, 0)];
        assert_eq!(merged(&mut rounds), expected);
    }

    #[test]
    fn sums_are_exact_beyond_i64() {
        let mut rounds = Rounds::new(3, Ending::Shortest, false);
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
        let mut rounds = Rounds::new(41, Ending::Shortest, false);
        for stream in 0..40 {
            // Round 1: 20 terms up then 20 down; partial sums pass i128::MAX, the sum is 0.
            // Round 2: 20 terms up, about 1.8e38: past i128::MAX, about 1.7e38.
            let values = if stream < 20 { [big, big] } else { [-big, 0] };
            rounds.push(
                stream,
                (&mut values.to_vec(), &[(0, 2)]),
                (&mut vec![], &[]),
            );
        }
        rounds.push(40, (&mut vec![0, 0], &[(18, 2)]), (&mut vec![], &[]));
        assert_eq!(merged(&mut rounds), [(0, 18)]);
        let overflow = Outcome::Overflow {
            round: 2,
            time: None,
        };
        assert_eq!(rounds.outcome(), Some(overflow));
        assert_eq!(rounds.merged(), 1);
    }

    #[test]
    fn the_run_ends_with_the_shortest_once_every_next_item_is_known() {
        let mut rounds = Rounds::new(3, Ending::Shortest, false);
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
        let mut rounds = Rounds::new(2, Ending::Shortest, false);
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
            let mut rounds = Rounds::new(3, Ending::Shortest, false);
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
        let mut rounds = Rounds::new(3, Ending::Strict, false);
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
        let mut even = Rounds::new(2, Ending::Strict, false);
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
        let mut rounds = Rounds::new(2, Ending::Fill(fill), false);
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
        let mut rounds = Rounds::new(2, Ending::Fill(fill), false);
        push(&mut rounds, 0, &[1]);
        rounds.end(0, Last::Failed);
        push(&mut rounds, 1, &[10, 20]);
        assert_eq!(sums(&mut rounds), [11]);
        assert_eq!(rounds.outcome(), Some(Outcome::Failed(0)));
    }

    /// Pushes integer values at integer times: `(value, time)`.
    fn push_at(rounds: &mut Rounds, stream: usize, values: &[(i64, i64)]) {
        let (mut mantissas, mut times): (Vec<i64>, Vec<i64>) = values.iter().copied().unzip();
        let runs = [(0, values.len())];
        rounds.push(stream, (&mut mantissas, &runs), (&mut times, &runs));
    }

    /// Merges and returns the sums with their times, as (sum, time).
    fn timed(rounds: &mut Rounds) -> Vec<(i128, i64)> {
        let mut all = Vec::new();
        while rounds.merge() > 0 {
            let merged = rounds.merges();
            let times = merged.times.iter().flat_map(|run| run.times());
            all.extend(merged.sums.iter().copied().zip(times));
        }
        all
    }

    fn d(mantissa: i64, scale: u8) -> Decimal {
        Decimal::new(mantissa, scale).unwrap()
    }

    #[test]
    fn rounds_timed_by_their_number_merge_by_position_each_at_its_number() {
        let mut rounds = Rounds::new(2, Ending::Shortest, false).timed_by_round(true);
        push(&mut rounds, 0, &[1, 2, 3]);
        // Two runs, as the scales change; the times given are not looked at.
        rounds.push(
            1,
            (&mut vec![10, 20], &[(0, 1), (1, 1)]),
            (&mut vec![7, 7], &[(0, 2)]),
        );
        assert_eq!(timed(&mut rounds), [(11, 1), (40, 2)]);
        // An overflow is named by its round's time.
        let mut rounds = Rounds::new(21, Ending::Shortest, false).timed_by_round(true);
        for s in 0..20 {
            push(&mut rounds, s, &[i64::MAX]);
        }
        rounds.push(20, (&mut vec![1], &[(18, 1)]), (&mut vec![], &[]));
        assert_eq!(timed(&mut rounds), []);
        let time = Some(d(1, 0));
        assert_eq!(rounds.outcome(), Some(Outcome::Overflow { round: 1, time }));
    }

    #[test]
    fn by_time_rounds_at_the_same_times_merge_as_by_position() {
        let mut rounds = Rounds::new(2, Ending::Shortest, true);
        push_at(&mut rounds, 0, &[(1, 10), (2, 20), (3, 30)]);
        push_at(&mut rounds, 1, &[(10, 10), (20, 20)]);
        assert_eq!(timed(&mut rounds), [(11, 10), (22, 20)]);
        assert_eq!(rounds.outcome(), None); // stream 1's next item is not known
    }

    #[test]
    fn by_time_merges_at_times_that_count_take_one_run_of_times_and_others_one_each() {
        let mut rounds = Rounds::new(2, Ending::Shortest, true);
        let times = [5, 6, 7, 8, 9, 20, 30, 40, 41, 42];
        push_at(&mut rounds, 0, &times.map(|t| (1, t)));
        // As many times, starting and ending as stream 0's do from 40 on, but not all
        // the same: 41 is missing.
        let times = [5, 6, 7, 8, 9, 20, 30, 40, 42, 43];
        push_at(&mut rounds, 1, &times.map(|t| (2, t)));
        rounds.merge();
        let run = |first, len| CountingTimes {
            first,
            len,
            scale: 0,
        };
        let merged = [run(5, 5), run(20, 1), run(30, 1), run(40, 1)];
        assert_eq!(rounds.merges().times, merged);
        assert_eq!(rounds.merges().sums, [3; 8]);
        assert_eq!(timed(&mut rounds), [(3, 42)]);
        // Stream 0's times count, and stream 1's start as they do: not enough.
        let mut rounds = Rounds::new(2, Ending::Shortest, true);
        push_at(&mut rounds, 0, &[(1, 40), (1, 41), (1, 42)]);
        push_at(&mut rounds, 1, &[(2, 40), (2, 42), (2, 43)]);
        assert_eq!(timed(&mut rounds), [(3, 40), (3, 42)]);
    }

    #[test]
    fn by_time_a_missing_reading_drops_one_round_and_misaligns_nothing() {
        let mut rounds = Rounds::new(2, Ending::Shortest, true);
        push_at(&mut rounds, 0, &[(1, 1), (3, 3), (4, 4)]);
        push_at(&mut rounds, 1, &[(10, 1), (20, 2), (30, 3), (40, 4)]);
        rounds.end(0, Last::End);
        rounds.end(1, Last::End);
        assert_eq!(timed(&mut rounds), [(11, 1), (33, 3), (44, 4)]);
        assert_eq!(rounds.outcome(), Some(Outcome::Done));
        assert_eq!((rounds.unmatched(0), rounds.unmatched(1)), (0, 1));
        assert_eq!(rounds.missing(0), (1, Some(d(2, 0))));
        assert_eq!(rounds.missing(1), (0, None));
        let counts = Counts {
            merged: 3,
            dropped: 1,
            filled: 0,
            carried: 0,
        };
        assert_eq!(rounds.counts(), counts);
    }

    #[test]
    fn by_time_the_values_of_the_round_that_ends_the_run_are_unmatched() {
        let mut rounds = Rounds::new(3, Ending::Shortest, true);
        push_at(&mut rounds, 0, &[(1, 1)]);
        rounds.end(0, Last::End);
        push_at(&mut rounds, 1, &[(2, 1), (3, 5)]);
        push_at(&mut rounds, 2, &[(4, 1), (5, 7)]);
        assert_eq!(timed(&mut rounds), [(7, 1)]);
        assert_eq!(rounds.outcome(), Some(Outcome::Done));
        // The run ends at time 5, the least of the next values: stream 1's is in it.
        let unmatched: Vec<u64> = (0..3).map(|s| rounds.unmatched(s)).collect();
        assert_eq!(unmatched, [0, 1, 0]);
        assert_eq!((rounds.decided(1), rounds.decided(2)), (2, 1));
    }

    #[test]
    fn by_time_a_fill_or_a_carried_value_stands_for_a_missing_reading() {
        // Carried: stream 1 has no value before time 2, so round 1 is not merged; its value
        // of stream 0 is carried into round 2, so it is used after all.
        for (ending, expected) in [
            (
                Ending::Fill(d(0, 0)),
                vec![(10, 1), (200, 2), (330, 3), (40, 4), (500, 5)],
            ),
            (Ending::Carry, vec![(210, 2), (330, 3), (340, 4), (540, 5)]),
        ] {
            let mut rounds = Rounds::new(2, ending, true);
            push_at(&mut rounds, 0, &[(10, 1), (30, 3), (40, 4)]);
            rounds.end(0, Last::End);
            push_at(&mut rounds, 1, &[(200, 2), (300, 3), (500, 5)]);
            rounds.end(1, Last::End);
            assert_eq!(timed(&mut rounds), expected, "{ending:?}");
            assert_eq!(rounds.outcome(), Some(Outcome::Done));
            assert_eq!((rounds.unmatched(0), rounds.unmatched(1)), (0, 0));
        }
    }

    #[test]
    fn by_time_carry_drops_rounds_before_a_stream_has_any_value() {
        let mut rounds = Rounds::new(2, Ending::Carry, true);
        push_at(&mut rounds, 0, &[(1, 1), (2, 2)]);
        push_at(&mut rounds, 1, &[(10, 2)]);
        rounds.end(0, Last::End);
        rounds.end(1, Last::End);
        assert_eq!(timed(&mut rounds), [(12, 2)]);
        assert_eq!(rounds.unmatched(0), 1);
        assert_eq!(rounds.counts().dropped, 1);
    }

    #[test]
    fn by_time_strict_names_the_first_stream_without_a_value() {
        let mut rounds = Rounds::new(3, Ending::Strict, true);
        push_at(&mut rounds, 0, &[(1, 1), (1, 2)]);
        push_at(&mut rounds, 1, &[(1, 1), (1, 3)]);
        push_at(&mut rounds, 2, &[(1, 1)]);
        rounds.end(2, Last::End);
        assert_eq!(timed(&mut rounds), [(3, 1)]);
        let missing = Outcome::Missing {
            stream: 1,
            time: d(2, 0),
        };
        assert_eq!(rounds.outcome(), Some(missing));
    }

    #[test]
    fn by_time_a_failure_among_the_next_items_fails_the_run() {
        let mut rounds = Rounds::new(2, Ending::Fill(d(0, 0)), true);
        push_at(&mut rounds, 0, &[(1, 1), (2, 9)]);
        push_at(&mut rounds, 1, &[(1, 1)]);
        rounds.end(1, Last::Failed);
        assert_eq!(timed(&mut rounds), [(2, 1)]);
        assert_eq!(rounds.outcome(), Some(Outcome::Failed(1)));
    }

    #[test]
    fn by_time_times_compare_as_numbers_and_a_merge_takes_the_finest() {
        let mut rounds = Rounds::new(2, Ending::Shortest, true);
        rounds.push(0, (&mut vec![1], &[(0, 1)]), (&mut vec![15], &[(1, 1)])); // at 1.5
        rounds.push(1, (&mut vec![2], &[(0, 1)]), (&mut vec![150], &[(2, 1)])); // at 1.50
        rounds.merge();
        let merged = rounds.merges();
        assert_eq!(
            (merged.sums, merged.times),
            (
                &[3][..],
                &[CountingTimes {
                    first: 150,
                    len: 1,
                    scale: 2
                }][..]
            )
        );
    }

    #[test]
    fn by_position_carry_counts_an_ended_stream_as_its_last_value() {
        let mut rounds = Rounds::new(2, Ending::Carry, false);
        push(&mut rounds, 0, &[1, 2]);
        rounds.end(0, Last::End);
        push(&mut rounds, 1, &[10, 20, 30, 40]);
        rounds.end(1, Last::End);
        assert_eq!(sums(&mut rounds), [11, 22, 32, 42]);
        assert_eq!(rounds.outcome(), Some(Outcome::Done));
        assert_eq!(rounds.counts().carried, 2);
        let mut empty = Rounds::new(2, Ending::Carry, false);
        empty.end(0, Last::End);
        push(&mut empty, 1, &[10, 20]);
        empty.end(1, Last::End);
        assert_eq!(sums(&mut empty), []);
        assert_eq!(
            (empty.outcome(), empty.unmatched(1)),
            (Some(Outcome::Done), 2)
        );
    }
}
