//! What the leaves and readers send the root: one stream's values, in order, with their
//! output lines already written. Formatting is most of the work per value; done where the
//! values are made, it runs beside the merge instead of on the root, the one thread every
//! value passes through.
//!
//! Invariant: a batch's `lines` are the `NAME VALUE` lines of its values, in order, or
//! empty when only merges are printed; its `scales` count its values in runs of one scale,
//! and its `mantissas` are those values until the root takes them; and it is bounded in
//! bytes as well as in values, so a long name costs about its own length, not its length
//! times the batch.

use crate::decimal::Decimal;
use crate::error::Error;
use crate::format::{self, Reading};
use crate::text::{Prefix, Text};

/// At most this many values go in one message, as IoTPy's `extend` sends several at once:
/// one message per value would cost more than the merge itself. Fewer when the window
/// is smaller.
pub(crate) const BATCH: usize = 2048;

/// A batch is full once its lines take this many bytes.
const BYTES: usize = 1 << 16;

/// What a leaf or a reader tells the root.
pub(crate) enum Msg {
    /// A stream's next values, in order: boxed, so that the channel moves a pointer, not a
    /// batch, however many messages it carries.
    Values(Box<Batch>),
    /// The stream has no more values.
    End(usize),
    /// The stream's next item is this failure; it has no more.
    Failed(usize, Error),
}

/// A batch of one stream's values, in order, with their lines.
pub(crate) struct Batch {
    pub(crate) stream: usize,
    pub(crate) mantissas: Vec<i64>,
    /// `(scale, count)`: the scales of `mantissas`, in runs.
    pub(crate) scales: Vec<(u8, usize)>,
    pub(crate) lines: Text,
    /// By time, the values' times, with their scales in runs; empty by position.
    pub(crate) times: Vec<i64>,
    pub(crate) time_scales: Vec<(u8, usize)>,
    /// Whether its values come with times.
    pub(crate) timed: bool,
    /// How many values it was given: its `mantissas`, until the root takes them out of it
    /// (see `Rounds::push`) and holds it for its lines.
    len: usize,
    /// How many values it may hold.
    size: usize,
    /// The most bytes a line takes, or 0 when lines are not printed: about twice the room
    /// for the value and the time that `format::printed_most` counts, as batches that take
    /// fewer lines a turn measured faster (that bound exactly costs 5% more instructions by
    /// time).
    line: usize,
}

impl Batch {
    /// An empty batch with room for `size` values, with times if `timed`, and, if they are
    /// printed, their lines: growing a batch value by value would cost more than filling it.
    pub(crate) fn new(stream: usize, size: usize, prefix: Option<&Prefix>, timed: bool) -> Self {
        // Allowing for a short value, and a short time.
        let short = prefix.map_or(0, |prefix| prefix.len() + 4 + 8 * usize::from(timed));
        let time = if timed { 42 } else { 0 };
        let line = prefix.map_or(0, |prefix| prefix.len() + 42 + time);
        Batch {
            stream,
            mantissas: Vec::with_capacity(size),
            scales: Vec::new(),
            // At least a line: a long name's batch holds one line, and need not grow for it.
            lines: Text::with_capacity((size * short).min(BYTES).max(line)),
            times: Vec::with_capacity(if timed { size } else { 0 }),
            time_scales: Vec::new(),
            timed,
            len: 0,
            size,
            line,
        }
    }

    /// Empties the batch, keeping its room, to be filled again.
    pub(crate) fn clear(&mut self) {
        self.mantissas.clear();
        self.scales.clear();
        self.lines.clear();
        self.times.clear();
        self.time_scales.clear();
        self.len = 0;
    }

    /// How many values it was given.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many more values it takes: as many as its size allows, and as many lines as
    /// fit in `BYTES`, or one if it is empty, so that its buffer need not grow past that.
    #[inline]
    pub(crate) fn room(&self) -> usize {
        let values = self.size - self.len;
        match BYTES.checked_sub(self.lines.len()) {
            _ if self.line == 0 => values,
            Some(bytes) => values.min((bytes / self.line).max(usize::from(self.is_empty()))),
            None => 0,
        }
    }

    /// Appends `value`, with its time if the batch is timed, and its line if the stream's
    /// lines are printed.
    #[inline]
    pub(crate) fn push(&mut self, value: Decimal, time: Option<Decimal>, prefix: Option<&Prefix>) {
        self.push_reading((value, time));
        let (m, s) = (value.mantissa().into(), value.scale());
        match (prefix, time) {
            (Some(prefix), Some(time)) => {
                self.lines
                    .line_timed(prefix, m, s, time.mantissa(), time.scale())
            }
            (Some(prefix), None) => self.lines.line(prefix, m, s),
            (None, _) => {}
        }
    }

    /// Appends `reading`, whose line as the output prints it is `line`: copied as it is, if
    /// the stream's lines are printed.
    #[inline]
    pub(crate) fn push_line(&mut self, reading: Reading, line: &[u8]) {
        self.push_reading(reading);
        if self.line > 0 {
            self.lines.extend(line);
        }
    }

    /// Appends a value, with its time if the batch is timed, without its line.
    #[inline(always)]
    fn push_reading(&mut self, (value, time): Reading) {
        self.mantissas.push(value.mantissa());
        self.count(value.scale(), 1);
        if let Some(time) = time {
            self.times.push(time.mantissa());
            count(&mut self.time_scales, time.scale(), 1);
        }
    }

    /// Gives the values from `start` on, just added at `scale`, the times `first`,
    /// `first + 1`, and so on, and writes their lines if they are printed: a generated
    /// stream's, whose n-th value is at time n.
    pub(crate) fn push_counted(
        &mut self,
        start: usize,
        scale: u8,
        first: u64,
        prefix: Option<&Prefix>,
    ) {
        let count = self.mantissas.len() - start;
        self.times.extend((first..).take(count).map(|t| t as i64));
        self::count(&mut self.time_scales, 0, count);
        if let Some(prefix) = prefix {
            (self.lines).lines_counted(prefix, &self.mantissas[start..], scale, first);
        }
    }

    /// Appends `run`, whose `VALUE` or `VALUE TIME` texts, in canonical form, are the
    /// lines of `block` that end at `ends`, the first at its start; and their lines if they
    /// are printed: `prefix` and each text.
    pub(crate) fn push_printed(
        &mut self,
        run: &Run,
        prefix: Option<&Prefix>,
        (block, ends): (&[u8], &[usize]),
    ) {
        self.extend_run(run);
        match prefix {
            // Without times: written from their values, which the tables make cheaper
            // than copying their texts.
            Some(prefix) if run.times.is_empty() => {
                self.lines.lines(prefix, &run.mantissas, run.scale);
            }
            Some(prefix) => self.lines.prefixed(prefix, block, ends),
            None => {}
        }
    }

    /// Appends `run`, whose lines as printed are `lines`: copied as they are, if the
    /// stream's lines are printed.
    pub(crate) fn push_copied(&mut self, run: &Run, lines: &[u8]) {
        self.extend_run(run);
        if self.line > 0 {
            self.lines.extend(lines);
        }
    }

    /// Appends `other`'s lines and counts its values, if it has room for them: true if so.
    /// For the root, which holds batches for their lines once the rounds took their values.
    pub(crate) fn absorb(&mut self, other: &Batch) -> bool {
        if self.room() < other.len {
            return false;
        }
        for &(scale, n) in &other.scales {
            self.count(scale, n);
        }
        self.lines.extend(other.lines.as_bytes());
        true
    }

    /// Appends `run`'s values, and by time their times, without their lines.
    fn extend_run(&mut self, run: &Run) {
        append(&mut self.mantissas, &run.mantissas);
        self.count(run.scale, run.mantissas.len());
        if !run.times.is_empty() {
            append(&mut self.times, &run.times);
            count(&mut self.time_scales, run.time_scale, run.times.len());
        }
    }

    /// Counts `count` values just added at `scale`.
    #[inline]
    pub(crate) fn count(&mut self, scale: u8, count: usize) {
        self.len += count;
        self::count(&mut self.scales, scale, count);
    }
}

/// Values taken as the output prints them, on a fast path, not in a batch yet: their
/// mantissas, all at one scale, and by time their times, all at one scale, so that a run
/// goes into a batch in one go. A reading at other scales starts the next run.
#[derive(Default)]
pub(crate) struct Run {
    mantissas: Vec<i64>,
    scale: u8,
    times: Vec<i64>,
    time_scale: u8,
}

impl Run {
    /// Makes room for `size` more values, and as many times if `timed`.
    pub(crate) fn reserve(&mut self, size: usize, timed: bool) {
        self.mantissas.reserve(size);
        if timed {
            self.times.reserve(size);
        }
    }

    /// How many values it holds.
    pub(crate) fn len(&self) -> usize {
        self.mantissas.len()
    }

    /// Whether `reading` may join the run: it is empty, or the reading's scales are its.
    #[inline]
    pub(crate) fn takes(&self, (value, time): Reading) -> bool {
        self.mantissas.is_empty()
            || (value.scale() == self.scale && time.is_none_or(|t| t.scale() == self.time_scale))
    }

    /// Appends `reading`, which it takes.
    #[inline]
    pub(crate) fn push(&mut self, (value, time): Reading) {
        (self.scale, self.time_scale) = (value.scale(), time.map_or(0, Decimal::scale));
        self.mantissas.push(value.mantissa());
        if let Some(time) = time {
            self.times.push(time.mantissa());
        }
    }

    /// The time of its last value, by time.
    pub(crate) fn last_time(&self) -> Option<Decimal> {
        Decimal::new(*self.times.last()?, self.time_scale)
    }

    /// Its times, by time, and their scale.
    pub(crate) fn times(&self) -> (&[i64], u8) {
        (&self.times, self.time_scale)
    }

    pub(crate) fn clear(&mut self) {
        self.mantissas.clear();
        self.times.clear();
    }
}

/// Appends `items` to `to`: one pushed, more copied. Where the lines of many streams
/// interleave, most runs are one value, and a copy of a length known only now is a call.
#[inline(always)]
fn append(to: &mut Vec<i64>, items: &[i64]) {
    match items {
        [one] => to.push(*one),
        _ => to.extend_from_slice(items),
    }
}

/// Counts `count` more at `scale` in `runs` of scales.
#[inline]
pub(crate) fn count(runs: &mut Vec<(u8, usize)>, scale: u8, count: usize) {
    match runs.last_mut() {
        Some((last, n)) if *last == scale => *n += count,
        _ if count == 0 => {}
        _ => runs.push((scale, count)),
    }
}

/// What starts each line of stream `name`, `NAME `, or `None` when only merges are printed.
pub(crate) fn prefix(name: &str, merges_only: bool) -> Option<Prefix> {
    (!merges_only).then(|| Prefix::new(&format::start(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_takes_as_many_values_as_its_size_and_its_bytes_allow() {
        let short = Prefix::new(b"x ");
        let mut batch = Batch::new(0, 4, Some(&short), false);
        assert_eq!(batch.room(), 4);
        for m in [1, 2, 3] {
            batch.push(Decimal::new(m, 0).unwrap(), None, Some(&short));
        }
        assert_eq!(
            (batch.room(), batch.lines.as_bytes()),
            (1, &b"x 1\nx 2\nx 3\n"[..])
        );
        // A long name: a batch holds no more than BYTES of lines, less than a line short.
        let name = vec![b'n'; 5000];
        let long = Prefix::new(&[&name[..], b" "].concat());
        let mut batch = Batch::new(0, BATCH, Some(&long), false);
        while batch.room() > 0 {
            batch.push(Decimal::new(7, 0).unwrap(), None, Some(&long));
        }
        let bytes = batch.lines.len();
        assert!((BYTES - 5001 - 42..=BYTES).contains(&bytes), "{bytes}");
        assert!(batch.mantissas.len() < 15, "{}", batch.mantissas.len());
        // A name longer than that: a line a batch.
        let huge = Prefix::new(&[&vec![b'n'; BYTES][..], b" "].concat());
        let mut batch = Batch::new(0, BATCH, Some(&huge), false);
        assert_eq!(batch.room(), 1);
        batch.push(Decimal::new(7, 0).unwrap(), None, Some(&huge));
        assert_eq!(batch.room(), 0);
        assert_eq!(Batch::new(0, 9, None, false).room(), 9);
    }

    #[test]
    fn scales_are_counted_in_runs() {
        let mut batch = Batch::new(0, 16, None, false);
        for (mantissa, scale) in [(1, 0), (2, 0), (15, 1), (3, 0), (4, 0)] {
            batch.push(Decimal::new(mantissa, scale).unwrap(), None, None);
        }
        let mut run = Run::default();
        for m in [5, 6] {
            run.push((Decimal::new(m, 0).unwrap(), None));
        }
        batch.push_copied(&run, b"");
        batch.count(2, 0); // an empty run counts nothing
        assert_eq!(batch.scales, [(0, 2), (1, 1), (0, 4)]);
        assert_eq!(batch.mantissas, [1, 2, 15, 3, 4, 5, 6]);
        assert!(batch.lines.as_bytes().is_empty());
        batch.clear();
        assert!(batch.is_empty() && batch.scales.is_empty());
    }
}
