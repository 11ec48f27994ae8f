//! The root: spawns one leaf thread per generated stream and one reader for the external
//! ones, takes their messages from one channel, and prints each value and each merge
//! through one buffered writer.
//!
//! Invariant: every line is whole; a stream's values are printed in the order the root
//! received them, and each `merge` line comes after the lines of the values it sums.

use std::io::{self, BufWriter, Read, Write};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::{self, Scope};

use crate::Error;
use crate::cli::WINDOW;
use crate::input::{self, External};
use crate::leaf::{Leaf, Values};
use crate::message::{self, BATCH, Batch, Msg};
use crate::rounds::Rounds;
use crate::window::Window;

/// A named stream and where its values come from.
pub struct Stream {
    pub name: String,
    pub source: Source,
}

pub enum Source {
    /// Values fed by a leaf thread of their own, within the window.
    Values(Values),
    /// Values read from the input, `NAME VALUE` a line.
    External,
}

/// How the root merges and prints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// How many values a stream may run ahead of the slowest one; at least 1.
    pub window: u64,
    /// Print only the `merge` lines.
    pub merges_only: bool,
}

/// What a merge leaves: how many rounds it merged, and each stream's values left over.
#[derive(Debug, PartialEq)]
pub struct Summary {
    pub merged: u64,
    /// Each stream's name and how many of its values the root received but no round used.
    pub unmatched: Vec<(String, usize)>,
}

/// How many messages may wait in the channel before a leaf blocks on sending: room for
/// every batch that two streams' default windows let them send, so that leaves rarely block.
const CHANNEL: usize = 2 * WINDOW as usize / BATCH;

/// Merges `streams` and prints to `out`; external streams are read from `input`, which is
/// not touched when there are none. The calling thread is the root; it returns as soon as
/// no further merge is possible, having printed every merge. A failure (a source that
/// panics, a bad input line) ends its streams, and is returned once the merges still
/// possible without them are printed.
///
/// The reader is not joined: it may be blocked reading an input that has not ended, and
/// must not hold up the end of the run.
pub fn merge(
    streams: Vec<Stream>,
    input: impl Read + Send + 'static,
    settings: Settings,
    out: impl Write,
) -> Result<Summary, Error> {
    let names: Vec<String> = streams.iter().map(|s| s.name.clone()).collect();
    let window = Window::new(settings.window);
    let (tx, rx) = mpsc::sync_channel(CHANNEL);
    thread::scope(|scope| {
        let started = start(scope, streams, input, settings.merges_only, &window, &tx);
        drop(tx); // from here on, the channel lives as long as the leaves' senders
        let rounds = match started {
            Ok(returns) => root(rx, &names, &returns, &window, Printer::new(out)),
            Err(e) => Err(Error::Spawn(e)),
        };
        window.stop(); // wakes the leaves waiting for room; the others find `rx` gone
        let rounds = rounds?;
        let unmatched = names
            .iter()
            .enumerate()
            .map(|(s, name)| (name.clone(), rounds.waiting(s)));
        Ok(Summary {
            merged: rounds.merged(),
            unmatched: unmatched.collect(),
        })
    })
}

/// Starts a leaf per generated stream and, if there are external streams, the reader.
/// Returns, per stream, where the root sends its spent batches back to.
fn start<'scope>(
    scope: &'scope Scope<'scope, '_>,
    streams: Vec<Stream>,
    input: impl Read + Send + 'static,
    merges_only: bool,
    window: &'scope Window,
    tx: &SyncSender<Msg>,
) -> io::Result<Vec<Option<Sender<Batch>>>> {
    let mut external = Vec::new();
    let mut returns = Vec::new();
    for (stream, Stream { name, source }) in streams.into_iter().enumerate() {
        let prefix = message::prefix(&name, merges_only);
        match source {
            Source::Values(values) => {
                let (back, spent) = mpsc::channel();
                returns.push(Some(back));
                let leaf = Leaf {
                    stream,
                    prefix,
                    window,
                    tx: tx.clone(),
                    spent,
                };
                thread::Builder::new().spawn_scoped(scope, move || leaf.feed(values))?;
            }
            Source::External => {
                returns.push(None);
                external.push(External::new(name, stream, prefix));
            }
        }
    }
    if !external.is_empty() {
        let tx = tx.clone();
        thread::Builder::new().spawn(move || input::read(input, external, tx))?;
    }
    Ok(returns)
}

/// The root's loop. Returning drops `rx`, which tells every leaf still sending to stop.
fn root(
    rx: Receiver<Msg>,
    names: &[String],
    returns: &[Option<Sender<Batch>>],
    window: &Window,
    mut printer: Printer<impl Write>,
) -> Result<Rounds, Error> {
    let mut rounds = Rounds::new(names.len());
    let mut failure = None;
    while !rounds.is_over() {
        let msg = match rx.try_recv() {
            Ok(msg) => msg,
            Err(_) => {
                printer.flush()?; // about to wait: show what is merged so far
                let Ok(msg) = rx.recv() else { break };
                msg
            }
        };
        // A failure ends its streams, as their end would (the reader follows a bad line
        // with the end of its streams): the merges still possible are made, and the first
        // failure is returned after them.
        let failed = match msg {
            Msg::Values(mut batch) => {
                printer.lines(&batch.lines)?;
                rounds.push(batch.stream, &batch.values);
                printer.merges(rounds.merge())?;
                window.advance(rounds.merged());
                if let Some(back) = &returns[batch.stream] {
                    batch.clear();
                    let _ = back.send(batch); // the leaf may have ended
                }
                None
            }
            Msg::End(stream) => {
                rounds.end(stream);
                None
            }
            Msg::Failed(stream) => {
                rounds.end(stream);
                Some(Error::Failed(names[stream].clone()))
            }
            Msg::BadLine(line, problem) => Some(Error::Input { line, problem }),
            Msg::Unreadable(e) => Some(Error::Read(e)),
        };
        failure = failure.or(failed);
    }
    printer.flush()?;
    failure.map_or(Ok(rounds), Err)
}

/// The root's output: `NAME VALUE` lines through one buffered writer. Its errors are
/// `Error::Write`.
struct Printer<W: Write> {
    out: BufWriter<W>,
    /// `merge` lines, written out together: many small writes to a `BufWriter` cost more
    /// than the merge.
    merges: Vec<u8>,
}

impl<W: Write> Printer<W> {
    fn new(out: W) -> Self {
        let out = BufWriter::with_capacity(1 << 16, out);
        Printer {
            out,
            merges: Vec::new(),
        }
    }

    /// A batch's lines, as its leaf wrote them.
    fn lines(&mut self, lines: &[u8]) -> Result<(), Error> {
        self.out.write_all(lines).map_err(Error::Write)
    }

    fn merges(&mut self, sums: &[i128]) -> Result<(), Error> {
        self.merges.clear();
        for &sum in sums {
            message::line(&mut self.merges, b"merge ", sum);
        }
        self.out.write_all(&self.merges).map_err(Error::Write)
    }

    fn flush(&mut self) -> Result<(), Error> {
        self.out.flush().map_err(Error::Write)
    }
}
