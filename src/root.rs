//! The root: starts the leaves of the generated streams (see `leaves_for`), a
//! reader per stream with a source of its own (or per group of regular files, when there
//! are more of them than threads) and one for the shared input, takes their messages from
//! one channel, and prints each value and each merge through one buffered writer.
//!
//! Invariant: every line is whole; a value's line is printed once its round is decided
//! (merged, or the round at which the run ends as it should), never before and never for
//! a value past it, so each stream's lines are the same every run; each `merge` line comes
//! after the lines of the values it sums.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufWriter, ErrorKind, Write};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, Scope};
use std::time::{Duration, Instant};

use crate::decimal::Decimal;
use crate::error::Error;
use crate::feed::{Paced, Transport};
use crate::format::{self, MERGE};
use crate::input::Input;
use crate::leaf::{self, Generated};
use crate::lines::{self, LINE};
use crate::message::{self, Batch, Msg};
use crate::rounds::{CountingTimes, Counts, Ending, Last, Merged, Outcome, Rounds};
use crate::shared::{self, Name, Shared};
use crate::source::{self, Pending, Source, Stream};
use crate::text::{Prefix, Text};
use crate::window::{StopOnDrop, Window, batch, slots};

/// How the root merges and prints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// How many values a stream may hold that no round has used; at least 1.
    pub window: u64,
    /// Print only the `merge` lines.
    pub merges_only: bool,
    pub ending: Ending,
    /// Values come with times, and rounds are times.
    pub by_time: bool,
}

/// What a merge leaves: how many rounds it took, and how far each stream got.
#[derive(Debug, PartialEq)]
pub struct Summary {
    pub rounds: Counts,
    pub streams: Vec<Tally>,
}

/// One stream's count of values, decided by the streams' items alone.
#[derive(Debug, PartialEq)]
pub struct Tally {
    pub name: String,
    /// Values up to the round at which the run ended: those merged, and the unmatched.
    pub delivered: u64,
    /// Values no merge used: those of rounds not merged, and of the round at which the run
    /// ended as it should.
    pub unmatched: u64,
    /// By time: at how many times of the rounds taken it had no value of its own, and the
    /// first of them.
    pub missing: (u64, Option<Decimal>),
}

/// How many threads read the regular files at most, and feed many generated streams, on
/// `cores` cores: one per file or stream up to two per core, then each takes several in
/// turns. More threads than that only add switches between them, as measured when this was
/// chosen.
fn leaves(cores: usize) -> usize {
    2 * cores
}

/// How many threads feed `streams` generated streams at most, on `cores` cores. With two
/// streams per core or fewer, one fewer than the cores (one at least), so that the root has
/// a core to itself where there are two or more: the leaves' work is then not so much more
/// than the root's (with two streams, a merge line for every two values) that threads
/// beyond the cores pay, as threads that take turns on a core wait on each other through
/// the window. Measured on two cores: one leaf was faster with two to six streams, four
/// leaves from eight on. With more streams, `leaves`.
fn leaves_for(streams: usize, cores: usize) -> usize {
    if streams <= 2 * cores {
        cores.saturating_sub(1).max(1)
    } else {
        leaves(cores)
    }
}

/// The cores this process may run on; 2 if that cannot be told.
fn cores() -> usize {
    thread::available_parallelism().map_or(2, |cores| cores.get())
}

/// Merges `streams` and prints to `out`; streams on the shared input read it from `shared`,
/// which is not touched when there are none. The calling thread is the root; it returns as
/// soon as the outcome is decided (see `Rounds`), having printed every merge before it,
/// with how far the run got, failed or not.
///
/// Readers are not joined: one may be blocked reading an input that has not ended, and
/// must not hold up the end of the run.
pub fn merge(
    streams: Vec<Stream>,
    shared: Input,
    settings: Settings,
    out: impl Write,
) -> (Summary, Result<(), Error>) {
    let names: Vec<String> = streams.iter().map(|s| s.name.clone()).collect();
    let window = Arc::new(Window::new(settings.window, names.len()));
    let slots = slots(settings.window);
    let (tx, rx) = mpsc::sync_channel(names.len().saturating_mul(slots));
    // By time, streams that are all generated, with as many values each, merge as they do
    // by position, since a generated stream's n-th value is at time n: so each round is
    // timed by its number, and no time is looked at.
    let count = |s: &Stream| match &s.source {
        Source::Values(values) => values.count(),
        _ => None,
    };
    let first = streams.first().and_then(count);
    let by_round = settings.by_time && first.is_some() && streams.iter().all(|s| count(s) == first);
    thread::scope(|scope| {
        let started = start(scope, streams, shared, settings, &window, &tx);
        drop(tx); // from here on, the channel lives as long as the leaves' senders
        let by_time = settings.by_time && !by_round;
        let rounds = Rounds::new(names.len(), settings.ending, by_time);
        let rounds = rounds.timed_by_round(by_round);
        let mut root = Root::new(rounds, &names);
        // Wakes the leaves waiting for room once the root is done, however it ends; the
        // others find `rx` gone.
        let _stop = StopOnDrop(&window);
        let result = match started {
            Ok(returns) => {
                window.open();
                root.run(returns, rx, &window, out)
            }
            Err(e) => Err(Error::Spawn(e)),
        };
        (root.summary(), result)
    })
}

/// Starts a leaf per group of generated streams, a reader per group of streams read from
/// regular files, a reader per stream whose source may wait (a pipe, a FIFO, a terminal)
/// and, if there are streams on it, the shared input's reader. Each waits at the window's
/// gate until all have started. Returns, per stream, where the root sends its spent batches
/// back to.
fn start<'scope>(
    scope: &'scope Scope<'scope, '_>,
    streams: Vec<Stream>,
    shared: Input,
    settings: Settings,
    window: &Arc<Window>,
    tx: &SyncSender<Msg>,
) -> io::Result<Vec<SyncSender<Box<Batch>>>> {
    let mut threads = Threads::new(&streams, settings.by_time);
    let returns = threads.deal(streams, settings.merges_only, window, tx);
    threads.spawn(scope, shared, window)?;
    Ok(returns)
}

/// The run's streams, dealt to the threads that feed them.
struct Threads {
    generated: Groups<Generated>,
    files: Groups<Pending>,
    /// Sources read on a thread of their own: each that may wait, and few regular files.
    alone: Vec<Pending>,
    shared: Vec<Shared>,
    /// What every name of the run stands for, as the shared input sees it.
    names: HashMap<Vec<u8>, Name>,
    /// The shared input's line limit: as long as a short line with its longest name; and
    /// its lead bound, as short as the lines its values keep are long.
    limit: usize,
    lead: u64,
    /// Values come with times.
    by_time: bool,
}

impl Threads {
    /// None dealt yet, to as many threads at most as `leaves` and `leaves_for` give for
    /// `streams` on this machine's cores.
    fn new(streams: &[Stream], by_time: bool) -> Self {
        let cores = cores();
        let generated = (streams.iter())
            .filter(|s| matches!(s.source, Source::Values(_)))
            .count();
        Threads {
            generated: Groups::new(leaves_for(generated, cores)),
            files: Groups::new(leaves(cores)),
            alone: Vec::new(),
            shared: Vec::new(),
            names: HashMap::new(),
            limit: LINE,
            lead: 0,
            by_time,
        }
    }

    /// Deals `streams` to their threads; returns, per stream, where its spent batches go.
    fn deal(
        &mut self,
        streams: Vec<Stream>,
        merges_only: bool,
        window: &Arc<Window>,
        tx: &SyncSender<Msg>,
    ) -> Vec<SyncSender<Box<Batch>>> {
        let (batch, slots) = (batch(window.size()), slots(window.size()));
        // Whether each source is a regular file (or a block device, read the same way, to
        // its end without waiting), looked up once: it decides where the stream goes, and
        // whether its source is opened now (see `source`).
        let regular: Vec<bool> = (streams.iter())
            .map(|s| matches!(&s.source, Source::Own(input) if input.never_waits()))
            .collect();
        let files = regular.iter().filter(|&&regular| regular).count();
        // Regular files share threads only when there are more than threads: a file with a
        // thread of its own reads faster.
        let share = files > self.files.most;
        let mut longest = 0; // the longest line a value on the shared input keeps
        let mut returns = Vec::new();
        for (stream, Stream { name, source }) in streams.into_iter().enumerate() {
            // Spent batches wait to go back to their leaf, as many as it may have sent;
            // any more are freed.
            let (back, spent) = mpsc::sync_channel(slots);
            returns.push(back);
            let prefix = message::prefix(&name, merges_only);
            let channels = (tx.clone(), spent);
            let transport = Transport::new(stream, prefix, (batch, self.by_time), channels);
            let feed = |transport| Paced::new(transport, Arc::clone(window));
            let key = name.clone().into_bytes();
            let meaning = match source {
                Source::Values(values) => {
                    let feed = feed(transport);
                    self.generated.add(Generated { feed, name, values });
                    Name::Generated
                }
                Source::Own(input) if share && regular[stream] => {
                    let feed = feed(transport);
                    let stream = Pending::new(input, name, feed, (files, false), self.by_time);
                    self.files.add(stream);
                    Name::Own
                }
                Source::Own(input) => {
                    let waits = !regular[stream];
                    let stream =
                        Pending::new(input, name, feed(transport), (1, waits), self.by_time);
                    self.alone.push(stream);
                    Name::Own
                }
                Source::Shared => {
                    self.limit = self.limit.max(lines::limit(&name));
                    if !merges_only {
                        longest = longest.max(format::printed_most(&name, self.by_time));
                    }
                    self.shared.push(Shared::new(name, stream, transport));
                    Name::Shared(self.shared.len() - 1)
                }
            };
            self.names.insert(key, meaning);
        }
        self.lead = shared::lead_for(longest);
        returns
    }

    /// Starts the threads, each behind the window's gate. Generated streams' leaves are
    /// scoped: the run ends once they have. Readers are not: one may be blocked reading an
    /// input that has not ended, and must not hold up the end of the run.
    fn spawn<'scope>(
        self,
        scope: &'scope Scope<'scope, '_>,
        shared: Input,
        window: &Arc<Window>,
    ) -> io::Result<()> {
        for group in self.generated.groups {
            let leaf = gated(window, |window| leaf::feed(group, window));
            thread::Builder::new().spawn_scoped(scope, leaf)?;
        }
        for group in self.files.groups {
            let reader = gated(window, |window| leaf::feed(source::readers(group), window));
            thread::Builder::new().spawn(reader)?;
        }
        for stream in self.alone {
            let reader = gated(window, |_| source::read(stream));
            thread::Builder::new().stack_size(STACK).spawn(reader)?;
        }
        if !self.shared.is_empty() {
            let (streams, names) = (self.shared, self.names);
            let bounds = (self.limit, self.lead, self.by_time);
            let reader = gated(window, move |window| {
                shared::read(shared, streams, names, window, bounds)
            });
            thread::Builder::new().spawn(reader)?;
        }
        Ok(())
    }
}

/// `work`, once every thread of the run has started; nothing if the run stopped first.
fn gated<W: FnOnce(&Window) + Send>(
    window: &Arc<Window>,
    work: W,
) -> impl FnOnce() + Send + use<W> {
    let window = Arc::clone(window);
    move || {
        if window.wait_open() {
            work(&window);
        }
    }
}

/// The stack of a reader with a thread of its own: it needs little, and there may be
/// thousands of them.
const STACK: usize = 256 << 10;

/// Streams dealt in turn to at most `most` groups, a thread each.
struct Groups<T> {
    groups: Vec<Vec<T>>,
    most: usize,
    count: usize,
}

impl<T> Groups<T> {
    fn new(most: usize) -> Self {
        Groups {
            groups: Vec::new(),
            most,
            count: 0,
        }
    }

    fn add(&mut self, stream: T) {
        if self.groups.len() == self.most {
            self.groups[self.count % self.most].push(stream);
        } else {
            self.groups.push(vec![stream]);
        }
        self.count += 1;
    }
}

/// The root's state: the rounds, the lines it holds until their rounds are decided, and
/// what it must tell when the run ends.
struct Root<'a> {
    rounds: Rounds,
    names: &'a [String],
    held: Vec<Held>,
    /// Each stream's failure, once received.
    failures: Vec<Option<Error>>,
}

/// A stream's batches whose lines are not all printed yet, oldest first.
#[derive(Default)]
struct Held {
    batches: VecDeque<Box<Batch>>,
    /// Of the oldest batch: where its lines not yet printed start, and how many values
    /// they are.
    at: usize,
    left: usize,
    /// Values whose lines are printed, or would be if lines were printed.
    printed: u64,
}

impl<'a> Root<'a> {
    fn new(rounds: Rounds, names: &'a [String]) -> Self {
        Root {
            rounds,
            names,
            held: names.iter().map(|_| Held::default()).collect(),
            failures: names.iter().map(|_| None).collect(),
        }
    }

    /// Takes messages until the outcome is decided, and tells it. Returning drops `rx`,
    /// which tells every leaf still sending to stop.
    fn run(
        &mut self,
        returns: Vec<SyncSender<Box<Batch>>>,
        rx: Receiver<Msg>,
        window: &Window,
        out: impl Write,
    ) -> Result<(), Error> {
        let mut printer = Printer::new(out);
        let served = self.serve(&returns, &rx, window, &mut printer);
        let printed = served.and_then(|()| printer.flush());
        match printed {
            // The reader has gone: the outcome is told only if what was received already
            // decides it, so that a closed output never reports what the run would not.
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                for msg in rx.try_iter() {
                    self.receive(msg, &returns, false);
                    while self.rounds.merge() > 0 {}
                }
                match self.outcome() {
                    Some(Err(failure)) => Err(failure),
                    _ => Err(Error::Write(e)),
                }
            }
            Err(e) => Err(Error::Write(e)),
            Ok(()) => self.outcome().unwrap_or(Ok(())),
        }
    }

    /// The outcome, once decided.
    fn outcome(&mut self) -> Option<Result<(), Error>> {
        Some(match self.rounds.outcome()? {
            Outcome::Done => Ok(()),
            Outcome::Failed(s) => Err(self.failures[s].take().expect("a failed stream's failure")),
            Outcome::Uneven { ended, longer } => Err(Error::Uneven {
                ended: self.names[ended].clone(),
                after: self.rounds.merged(),
                longer: self.names[longer].clone(),
            }),
            Outcome::Missing { stream, time } => Err(Error::Missing {
                stream: self.names[stream].clone(),
                time,
            }),
            Outcome::Overflow { round, time } => Err(Error::Overflow { round, time }),
        })
    }

    /// Takes messages and prints what they decide, until the outcome is decided or every
    /// leaf has gone.
    fn serve(
        &mut self,
        returns: &[SyncSender<Box<Batch>>],
        rx: &Receiver<Msg>,
        window: &Window,
        printer: &mut Printer<impl Write>,
    ) -> io::Result<()> {
        while self.rounds.outcome().is_none() {
            let msg = match rx.try_recv() {
                Ok(msg) => msg,
                Err(_) => {
                    printer.flush()?; // about to wait: show what is merged so far
                    let Some(msg) = wait(rx) else { break };
                    msg
                }
            };
            self.receive(msg, returns, true);
            while self.rounds.merge() > 0 {
                self.print(|rounds, s| rounds.used(s), returns, printer)?;
                printer.merges(self.rounds.merges())?;
                let rounds = &self.rounds;
                window.advance(rounds.counts().merged + rounds.counts().dropped, |s| {
                    rounds.used(s)
                });
            }
        }
        // The values of the round that ended the run as it should, after every merge.
        self.print(Rounds::decided, returns, printer)
    }

    /// Hands a message to the rounds, holding a batch's lines if `hold` and they are
    /// printed; a spent batch goes back to its leaf.
    fn receive(&mut self, msg: Msg, returns: &[SyncSender<Box<Batch>>], hold: bool) {
        match msg {
            Msg::Values(mut batch) => {
                let stream = batch.stream;
                debug_assert_eq!(batch.len(), batch.mantissas.len(), "a value each");
                let values = (&mut batch.mantissas, &batch.scales[..]);
                let times = (&mut batch.times, &batch.time_scales[..]);
                self.rounds.push(stream, values, times);
                if hold && batch.lines.len() > 0 {
                    self.held[stream].hold(batch, &returns[stream]);
                } else {
                    give_back(batch, &returns[stream]);
                }
            }
            Msg::End(stream) => self.rounds.end(stream, Last::End),
            Msg::Failed(stream, e) => {
                self.failures[stream] = Some(e);
                self.rounds.end(stream, Last::Failed);
            }
        }
    }

    /// Prints each stream's lines as far as `decided` says its values are decided.
    fn print(
        &mut self,
        decided: impl Fn(&Rounds, usize) -> u64,
        returns: &[SyncSender<Box<Batch>>],
        printer: &mut Printer<impl Write>,
    ) -> io::Result<()> {
        for (s, held) in self.held.iter_mut().enumerate() {
            held.print(decided(&self.rounds, s), &returns[s], printer)?;
        }
        Ok(())
    }

    /// How far each stream got: the same every run.
    fn summary(&self) -> Summary {
        let tally = |(s, name): (usize, &String)| Tally {
            name: name.clone(),
            delivered: self.rounds.decided(s),
            unmatched: self.rounds.unmatched(s),
            missing: self.rounds.missing(s),
        };
        Summary {
            rounds: self.rounds.counts(),
            streams: self.names.iter().enumerate().map(tally).collect(),
        }
    }
}

impl Held {
    /// Keeps `batch` until its lines are printed: in the last batch kept, if that has room
    /// for them, and `batch` goes back to its leaf. So a source that sends a value at a
    /// time, as a trickle does, costs a batch's room per batch of values held, not per value.
    fn hold(&mut self, batch: Box<Batch>, back: &SyncSender<Box<Batch>>) {
        let len = batch.len();
        let absorbed = self.batches.back_mut().map(|last| last.absorb(&batch));
        match absorbed {
            None => (self.at, self.left) = (0, len),
            Some(true) => {
                if self.batches.len() == 1 {
                    self.left += len;
                }
                give_back(batch, back);
                return;
            }
            Some(false) => {}
        }
        self.batches.push_back(batch);
    }

    /// Prints the lines of the stream's values up to the `decided`-th, if not printed yet;
    /// a batch whose lines are all printed goes back to its leaf.
    fn print(
        &mut self,
        decided: u64,
        back: &SyncSender<Box<Batch>>,
        printer: &mut Printer<impl Write>,
    ) -> io::Result<()> {
        let mut count = (decided - self.printed) as usize;
        self.printed = decided;
        while count > 0 {
            let Some(batch) = self.batches.front_mut() else {
                return Ok(()); // only merges are printed
            };
            let lines = &batch.lines.as_bytes()[self.at..];
            if count < self.left {
                let end = lines::nth_newline(lines, count - 1).expect("a line per value") + 1;
                printer.lines(&lines[..end])?;
                (self.at, self.left, count) = (self.at + end, self.left - count, 0);
            } else {
                printer.lines(lines)?;
                count -= self.left;
                give_back(self.batches.pop_front().expect("the oldest batch"), back);
                let next = self.batches.front().map_or(0, |b| b.len());
                (self.at, self.left) = (0, next);
            }
        }
        Ok(())
    }
}

/// The merges' times, `times`, cut where the sums' scale changes, `scales`: each piece with
/// the scale of its sums.
fn pieces<'a>(
    scales: &'a [(u8, usize)],
    times: &'a [CountingTimes],
) -> impl Iterator<Item = (u8, CountingTimes)> + 'a {
    let mut sums = scales.iter().copied();
    let (mut sums_run, mut times_run) = (sums.next(), times.first().copied());
    let mut times = times.iter().copied().skip(1);
    std::iter::from_fn(move || {
        let ((scale, n), run) = (sums_run?, times_run?);
        let len = n.min(run.len);
        sums_run = if n > len {
            Some((scale, n - len))
        } else {
            sums.next()
        };
        times_run = if run.len > len {
            Some(CountingTimes {
                first: run.first + len as i64,
                len: run.len - len,
                ..run
            })
        } else {
            times.next()
        };
        Some((scale, CountingTimes { len, ..run }))
    })
}

/// Sends a spent batch back to its leaf, emptied, to be filled again; or frees it, if as
/// many wait there as the leaf may have sent.
fn give_back(mut batch: Box<Batch>, back: &SyncSender<Box<Batch>>) {
    batch.clear();
    let _ = back.try_send(batch);
}

/// The next message. A busy leaf sends one soon: finding it after a few yields spares the
/// root a sleep, and the leaf a wake-up call on every send. Bounded in time, so that on a
/// busy machine the root gives up its core at most once before it sleeps until a message
/// comes. `None` once every leaf has gone.
fn wait(rx: &Receiver<Msg>) -> Option<Msg> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_micros(50) {
        thread::yield_now();
        if let Ok(msg) = rx.try_recv() {
            return Some(msg);
        }
    }
    rx.recv().ok()
}

/// The root's output: `NAME VALUE` lines through one buffered writer.
struct Printer<W: Write> {
    out: BufWriter<W>,
    /// `merge` lines, written out together: many small writes to a `BufWriter` cost more
    /// than the merge.
    merges: Text,
    prefix: Prefix,
    /// The times of merges that do not count, listed to be written together: kept for its
    /// room.
    times: Vec<i64>,
}

impl<W: Write> Printer<W> {
    fn new(out: W) -> Self {
        // Small: a batch's lines and a message's merges, several KiB each, then go straight
        // to the output, with no copy into the buffer; it gathers only small writes.
        let out = BufWriter::with_capacity(1 << 12, out);
        Printer {
            out,
            merges: Text::default(),
            prefix: Prefix::new(&format::start(MERGE)),
            times: Vec::new(),
        }
    }

    /// A batch's lines, as its leaf wrote them.
    fn lines(&mut self, lines: &[u8]) -> io::Result<()> {
        self.out.write_all(lines)
    }

    fn merges(&mut self, merged: Merged) -> io::Result<()> {
        self.merges.clear();
        let mut at = 0;
        if merged.times.is_empty() {
            for &(scale, count) in merged.scales {
                let sums = &merged.sums[at..at + count];
                self.merges.lines(&self.prefix, sums, scale);
                at += count;
            }
        } else {
            // Runs of two or more times that count from 0 or more at scale 0 are written by
            // counting; the other times are listed, over a stretch at one scale of sums and
            // one of times, and written with the list.
            let listed = &mut self.times;
            let (mut from, mut scales) = (0, (0, 0));
            for (scale, run) in pieces(merged.scales, merged.times) {
                let counts = run.scale == 0 && run.len > 1;
                let counted = u64::try_from(run.first).ok().filter(|_| counts);
                if counted.is_some() || (scale, run.scale) != scales {
                    let sums = &merged.sums[from..at];
                    self.merges
                        .lines_timed(&self.prefix, sums, scales.0, listed, scales.1);
                    (from, scales) = (at, (scale, run.scale));
                    listed.clear();
                }
                match counted {
                    Some(first) => {
                        let sums = &merged.sums[at..at + run.len];
                        self.merges.lines_counted(&self.prefix, sums, scale, first);
                        from = at + run.len;
                    }
                    None => listed.extend(run.times()),
                }
                at += run.len;
            }
            let sums = &merged.sums[from..at];
            self.merges
                .lines_timed(&self.prefix, sums, scales.0, listed, scales.1);
            listed.clear();
        }
        self.out.write_all(self.merges.as_bytes())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decimal::Decimal;

    /// A batch of stream 0's values `values`, with their lines, with room for `size`.
    fn batch(values: &[i64], size: usize) -> Batch {
        let prefix = Prefix::new(b"x ");
        let mut batch = Batch::new(0, size, Some(&prefix), false);
        for &mantissa in values {
            batch.push(Decimal::new(mantissa, 0).unwrap(), None, Some(&prefix));
        }
        batch
    }

    #[test]
    fn few_generated_streams_get_a_thread_fewer_than_the_cores_and_more_get_two_a_core() {
        for (streams, cores, most) in [
            (1, 1, 1),
            (2, 1, 1),
            (3, 1, 2),
            (2, 2, 1),
            (4, 2, 1),
            (5, 2, 4),
            (1000, 2, 4),
            (32, 16, 15),
            (33, 16, 32),
        ] {
            assert_eq!(
                leaves_for(streams, cores),
                most,
                "{streams} streams, {cores} cores"
            );
        }
    }

    #[test]
    fn held_lines_are_printed_as_far_as_their_values_are_decided_and_no_further() {
        let mut held = Held::default();
        let (back, spent) = mpsc::sync_channel(4);
        held.hold(Box::new(batch(&[1, 2, 3], 3)), &back);
        held.hold(Box::new(batch(&[4, 5], 3)), &back);
        assert_eq!(spent.try_iter().count(), 0, "the first is full");
        let mut printer = Printer::new(Vec::new());
        let mut printed = Vec::new();
        for (decided, lines, returned) in [
            (0, "", 0),
            (2, "x 1\nx 2\n", 0),
            (4, "x 3\nx 4\n", 1),
            (4, "", 0),
            (5, "x 5\n", 1),
        ] {
            held.print(decided, &back, &mut printer).unwrap();
            printer.flush().unwrap();
            let out = printer.out.get_ref();
            assert_eq!(&out[printed.len()..], lines.as_bytes(), "{decided}");
            printed = out.clone();
            assert_eq!(spent.try_iter().count(), returned, "{decided}");
        }
        assert!(held.batches.is_empty());
    }

    #[test]
    fn values_sent_one_at_a_time_are_held_in_as_few_batches_as_they_fill() {
        let mut held = Held::default();
        let (back, spent) = mpsc::sync_channel(8);
        for value in 1..=5 {
            held.hold(Box::new(batch(&[value], 4)), &back);
        }
        // Four fill the first batch, and three go back at once; the fifth starts another.
        assert_eq!((held.batches.len(), spent.try_iter().count()), (2, 3));
        let mut printer = Printer::new(Vec::new());
        held.print(1, &back, &mut printer).unwrap();
        held.hold(Box::new(batch(&[6], 4)), &back);
        held.print(6, &back, &mut printer).unwrap();
        printer.flush().unwrap();
        let expected: String = (1..=6).map(|v| format!("x {v}\n")).collect();
        assert_eq!(printer.out.get_ref(), expected.as_bytes());
        assert!(held.batches.is_empty());
        assert_eq!(spent.try_iter().count(), 3);
    }

    #[test]
    fn merges_print_their_times_as_each_is_written_alone_whichever_runs_they_come_in() {
        // Sums at scales 0, 1 and 0; times that count at scale 0 (from 8, and across the
        // sums' change of scale), from -2, at scale 2, and alone.
        let sums = [1, 2, 3, 40, 50, 6, 7, 8, 9, 10, 11, 1200];
        let scales = [(0, 3), (1, 2), (0, 7)];
        let run = |first, len, scale| CountingTimes { first, len, scale };
        let times = [
            run(8, 4, 0),
            run(14, 1, 0),
            run(-2, 3, 0),
            run(99, 2, 2),
            run(7, 1, 3),
            run(1_000_000, 1, 0),
        ];
        let mut printer = Printer::new(Vec::new());
        let merged = Merged {
            sums: &sums,
            scales: &scales,
            times: &times,
        };
        printer.merges(merged).unwrap();
        printer.flush().unwrap();
        let mut expected = Text::default();
        let scale = scales.iter().flat_map(|&(s, n)| std::iter::repeat_n(s, n));
        let time = times
            .iter()
            .flat_map(|r| r.times().map(move |t| (t, r.scale)));
        for ((&sum, scale), (t, time_scale)) in sums.iter().zip(scale).zip(time) {
            expected.line_timed(&printer.prefix, sum, scale, t, time_scale);
        }
        assert_eq!(printer.out.get_ref(), expected.as_bytes());
    }

    #[test]
    fn streams_are_dealt_in_turn_to_at_most_so_many_groups() {
        let mut groups = Groups::new(3);
        (0..8).for_each(|k| groups.add(k));
        assert_eq!(groups.groups, [vec![0, 3, 6], vec![1, 4, 7], vec![2, 5]]);
    }
}
