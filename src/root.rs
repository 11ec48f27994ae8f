//! The root: starts the leaves of the generated streams (one each, up to two per core), a
//! reader per stream with a source of its own and one for the shared input, takes their
//! messages from one channel, and prints each value and each merge through one buffered
//! writer.
//!
//! Invariant: every line is whole; a stream's values are printed in the order the root
//! received them, and each `merge` line comes after the lines of the values it sums.

use std::collections::HashMap;
use std::io::{self, BufWriter, ErrorKind, Write};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, Scope};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::input::{self, Name, Shared};
use crate::leaf::{self, Feed, Generated, Values};
use crate::lines::LINE;
use crate::message::{self, BATCH, Batch, Msg};
use crate::rounds::{Ending, Last, Merged, Outcome, Rounds};
use crate::source::{self, Input};
use crate::text::{Prefix, Text};
use crate::window::Window;

/// How many values a stream may run ahead of the slowest one, unless `--window` says
/// otherwise. Chosen by measurement (README, Performance): a smaller window wakes the
/// leaves more often and slows the run; a larger one costs memory and gains little.
pub const WINDOW: u64 = 16384;

/// How many values all the streams' default windows hold together at most: past 32
/// streams, each gets an equal share, so that memory does not grow with the streams.
pub const BUDGET: u64 = 1 << 19;

/// The default window of a run of `streams` streams.
pub fn window_for(streams: usize) -> u64 {
    (BUDGET / streams.max(1) as u64).clamp(1, WINDOW)
}

/// A named stream and where its values come from.
pub struct Stream {
    pub name: String,
    pub source: Source,
}

pub enum Source {
    /// Values fed by a leaf thread of their own, within the window.
    Values(Values),
    /// Values read from the shared input, `NAME VALUE` a line.
    Shared,
    /// Values read from an input of its own, a value a line.
    Own(Input),
}

/// How the root merges and prints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// How many values a stream may run ahead of the slowest one; at least 1.
    pub window: u64,
    /// Print only the `merge` lines.
    pub merges_only: bool,
    pub ending: Ending,
}

/// What a merge leaves: how many rounds it merged, and how far each stream got.
#[derive(Debug, PartialEq)]
pub struct Summary {
    pub merged: u64,
    pub streams: Vec<Tally>,
}

/// One stream's count of values.
#[derive(Debug, PartialEq)]
pub struct Tally {
    pub name: String,
    /// Values the root received.
    pub delivered: u64,
    /// Values the root received that no round used.
    pub unmatched: usize,
}

/// How many leaf threads feed the generated streams at most: one per stream up to two per
/// core, then each feeds several. More threads than that only add switches between them:
/// with 2 cores, 1000 streams ran 15% slower on 8 leaves and 25% slower on 16 than on 4.
fn leaves() -> usize {
    thread::available_parallelism().map_or(4, |cores| 2 * cores.get())
}

/// How many batches a leaf may have sent and the root not printed yet.
fn batches(window: u64) -> usize {
    (window / batch(window) as u64 + 1) as usize
}

/// How many values go in a batch with a window of `window`: at most `BATCH`, and no more
/// than half the window, so that a leaf woken by the window sends at least one.
fn batch(window: u64) -> usize {
    (window / 2).clamp(1, BATCH as u64) as usize
}

/// Merges `streams` and prints to `out`; streams on the shared input read it from `shared`,
/// which is not touched when there are none. The calling thread is the root; it returns as
/// soon as the outcome is decided (see `Rounds`), having printed every merge before it.
///
/// Readers are not joined: one may be blocked reading an input that has not ended, and
/// must not hold up the end of the run.
pub fn merge(
    streams: Vec<Stream>,
    shared: Input,
    settings: Settings,
    out: impl Write,
) -> Result<Summary, Error> {
    let names: Vec<String> = streams.iter().map(|s| s.name.clone()).collect();
    let window = Arc::new(Window::new(settings.window));
    // Room for every batch the windows let the leaves send, so that a leaf never waits
    // to send: with many streams, every leaf is a window ahead at once.
    let (tx, rx) = mpsc::sync_channel(names.len().saturating_mul(batches(settings.window)));
    thread::scope(|scope| {
        let started = start(scope, streams, shared, settings.merges_only, &window, &tx);
        drop(tx); // from here on, the channel lives as long as the leaves' senders
        let room = (window.size() as usize).saturating_add(batch(window.size()));
        let rounds = Rounds::new(names.len(), settings.ending, room);
        let rounds = match started {
            Ok(returns) => Root::new(rounds, &names, returns).run(rx, &window, out),
            Err(e) => Err(Error::Spawn(e)),
        };
        window.stop(); // wakes the leaves waiting for room; the others find `rx` gone
        let rounds = rounds?;
        let tally = |(s, name): (usize, &String)| Tally {
            name: name.clone(),
            delivered: rounds.delivered(s),
            unmatched: rounds.waiting(s),
        };
        Ok(Summary {
            merged: rounds.merged(),
            streams: names.iter().enumerate().map(tally).collect(),
        })
    })
}

/// Starts a leaf per generated stream, a reader per stream with a source of its own and,
/// if there are streams on it, the shared input's reader. Returns, per stream, where the
/// root sends its spent batches back to.
fn start<'scope>(
    scope: &'scope Scope<'scope, '_>,
    streams: Vec<Stream>,
    shared: Input,
    merges_only: bool,
    window: &Arc<Window>,
    tx: &SyncSender<Msg>,
) -> io::Result<Vec<SyncSender<Batch>>> {
    // A line may be as long as a short one with the longest name read from an input.
    let limit = (streams.iter())
        .filter(|s| !matches!(s.source, Source::Values(_)))
        .map(|s| s.name.len() + 64)
        .fold(LINE, usize::max);
    let (batch, batches) = (batch(window.size()), batches(window.size()));
    let mut names = HashMap::new();
    let leaves = leaves();
    // The leaves' groups of streams, and how many generated streams there are.
    let (mut generated, mut count): (Vec<Vec<Generated>>, usize) = (Vec::new(), 0);
    let mut on_shared = Vec::new();
    let mut returns = Vec::new();
    for (stream, Stream { name, source }) in streams.into_iter().enumerate() {
        // Spent batches wait to go back to their leaf, as many as it may have sent; any
        // more are freed.
        let (back, spent) = mpsc::sync_channel(batches);
        returns.push(back);
        let prefix = message::prefix(&name, merges_only);
        let channels = (tx.clone(), spent);
        let feed = Feed::new(stream, prefix, batch, channels, Arc::clone(window));
        let key = name.clone().into_bytes();
        match source {
            Source::Values(values) => {
                names.insert(key, Name::Generated);
                let stream = Generated { feed, name, values };
                match generated.len() {
                    full if full == leaves => generated[count % leaves].push(stream),
                    _ => generated.push(vec![stream]),
                }
                count += 1;
            }
            Source::Own(input) => {
                names.insert(key, Name::Own);
                thread::Builder::new().spawn(move || source::read(input, name, feed, limit))?;
            }
            Source::Shared => {
                names.insert(key, Name::Shared(on_shared.len()));
                on_shared.push(Shared::new(name, feed));
            }
        }
    }
    for group in generated {
        let window = Arc::clone(window);
        let leaf = move || leaf::generate(group, &window);
        thread::Builder::new().spawn_scoped(scope, leaf)?;
    }
    if !on_shared.is_empty() {
        let window = Arc::clone(window);
        let reader = move || input::read(shared, on_shared, names, window, limit);
        thread::Builder::new().spawn(reader)?;
    }
    Ok(returns)
}

/// The root's state: the rounds, and what it must tell when the run ends.
struct Root<'a> {
    rounds: Rounds,
    names: &'a [String],
    returns: Vec<SyncSender<Batch>>,
    /// Each stream's failure, once received.
    failures: Vec<Option<Error>>,
}

impl<'a> Root<'a> {
    fn new(rounds: Rounds, names: &'a [String], returns: Vec<SyncSender<Batch>>) -> Self {
        let failures = names.iter().map(|_| None).collect();
        Root {
            rounds,
            names,
            returns,
            failures,
        }
    }

    /// Takes messages until the outcome is decided. Returning drops `rx`, which tells
    /// every leaf still sending to stop.
    fn run(mut self, rx: Receiver<Msg>, window: &Window, out: impl Write) -> Result<Rounds, Error> {
        let mut printer = Printer::new(out);
        let printed = self
            .take(&rx, window, &mut printer)
            .and_then(|()| printer.flush());
        match (printed, self.rounds.outcome()) {
            // A failure already sent is not hidden by a reader that has gone since.
            (Err(e), _) if e.kind() == ErrorKind::BrokenPipe => {
                for msg in rx.try_iter() {
                    if let Msg::Failed(stream, e) = msg {
                        self.failures[stream].get_or_insert(e);
                    }
                }
                let first = self.failures.into_iter().flatten().next();
                Err(first.unwrap_or(Error::Write(e)))
            }
            (Err(e), _) => Err(Error::Write(e)),
            (Ok(()), Some(Outcome::Done) | None) => Ok(self.rounds),
            (Ok(()), Some(Outcome::Failed(s))) => {
                Err(self.failures[s].take().expect("a failed stream's failure"))
            }
            (Ok(()), Some(Outcome::Uneven { ended, longer })) => Err(Error::Uneven {
                ended: self.names[ended].clone(),
                after: self.rounds.merged(),
                longer: self.names[longer].clone(),
            }),
            (Ok(()), Some(Outcome::Overflow(round))) => Err(Error::Overflow(round)),
        }
    }

    fn take(
        &mut self,
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
            match msg {
                Msg::Values(mut batch) => {
                    printer.lines(batch.lines.as_bytes())?;
                    self.rounds
                        .push(batch.stream, &batch.mantissas, &batch.scales);
                    batch.clear();
                    let _ = self.returns[batch.stream].try_send(batch); // or it is freed
                }
                Msg::End(stream) => self.rounds.end(stream, Last::End),
                Msg::Failed(stream, e) => {
                    self.failures[stream] = Some(e);
                    self.rounds.end(stream, Last::Failed);
                }
            }
            printer.merges(self.rounds.merge())?;
            window.advance(self.rounds.merged());
        }
        Ok(())
    }
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
}

impl<W: Write> Printer<W> {
    fn new(out: W) -> Self {
        // Small: a batch's lines and a message's merges, several KiB each, then go straight
        // to the output, with no copy into the buffer; it gathers only small writes.
        let out = BufWriter::with_capacity(1 << 12, out);
        Printer {
            out,
            merges: Text::default(),
            prefix: Prefix::new(b"merge "),
        }
    }

    /// A batch's lines, as its leaf wrote them.
    fn lines(&mut self, lines: &[u8]) -> io::Result<()> {
        self.out.write_all(lines)
    }

    fn merges(&mut self, merged: Merged) -> io::Result<()> {
        self.merges.clear();
        let mut at = 0;
        for &(scale, count) in merged.scales {
            self.merges
                .lines(&self.prefix, &merged.sums[at..at + count], scale);
            at += count;
        }
        self.out.write_all(self.merges.as_bytes())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
