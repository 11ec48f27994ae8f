//! The root: spawns one leaf thread per generated stream and one reader for the external
//! ones, takes their messages from one channel, and prints each value and each merge
//! through one buffered writer.
//!
//! Invariant: every line is whole; a stream's values are printed in the order the root
//! received them, and each `merge` line comes after the lines of the values it sums.

use std::collections::HashMap;
use std::io::{self, BufWriter, Read, Write};
use std::sync::mpsc::{self, Receiver};
use std::thread;

use crate::leaf::{self, Values};
use crate::rounds::Rounds;
use crate::window::Window;
use crate::{Error, input};

/// What a leaf or the reader tells the root.
pub(crate) enum Msg {
    /// A stream's next values, in order.
    Values(usize, Vec<i64>),
    /// The stream has no more values.
    End(usize),
    /// The stream's source panicked.
    Failed(usize),
    /// The input's line so numbered is bad, for the reason given.
    BadLine(u64, String),
    /// The input could not be read.
    Unreadable(io::Error),
}

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
/// every batch that two streams' windows let them send, so that leaves rarely block.
const CHANNEL: usize = 16;

/// Merges `streams` and prints to `out`; external streams are read from `input`, which is
/// not touched when there are none. The calling thread is the root; it returns as soon as
/// no further merge is possible, or on the first failure, having printed everything merged.
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
        let mut external = HashMap::new();
        for (stream, Stream { name, source }) in streams.into_iter().enumerate() {
            let (window, tx) = (&window, tx.clone());
            match source {
                Source::Values(values) => {
                    scope.spawn(move || leaf::feed(stream, values, window, tx));
                }
                Source::External => {
                    external.insert(name, stream);
                }
            }
        }
        if !external.is_empty() {
            let tx = tx.clone();
            thread::spawn(move || input::read(input, external, tx));
        }
        drop(tx);
        let rounds = root(
            rx,
            &names,
            &window,
            Printer::new(out, &names, settings.merges_only),
        );
        window.stop();
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

/// The root's loop. Returning drops `rx`, which tells every leaf still sending to stop.
fn root(
    rx: Receiver<Msg>,
    names: &[String],
    window: &Window,
    mut printer: Printer<impl Write>,
) -> Result<Rounds, Error> {
    let mut rounds = Rounds::new(names.len());
    while !rounds.is_over() {
        let msg = match rx.try_recv() {
            Ok(msg) => msg,
            Err(_) => {
                printer.flush()?; // about to wait: show what is merged so far
                let Ok(msg) = rx.recv() else { break };
                msg
            }
        };
        match msg {
            Msg::Values(stream, values) => {
                printer.values(stream, &values);
                rounds.push(stream, &values);
                let merged = rounds.merged();
                while let Some(sum) = rounds.next_merge() {
                    printer.merge(sum);
                }
                printer.write()?;
                if rounds.merged() > merged {
                    window.advance(rounds.merged());
                }
            }
            Msg::End(stream) => rounds.end(stream),
            Msg::Failed(stream) => return printer.fail(Error::Failed(names[stream].clone())),
            Msg::BadLine(line, problem) => return printer.fail(Error::Input { line, problem }),
            Msg::Unreadable(e) => return printer.fail(Error::Read(e)),
        }
    }
    printer.flush()?;
    Ok(rounds)
}

/// The root's output: `NAME VALUE` lines through one buffered writer.
struct Printer<W: Write> {
    out: BufWriter<W>,
    /// The lines of the message at hand, written out in one piece: many small writes to a
    /// `BufWriter` cost more than the merge.
    text: Vec<u8>,
    /// `NAME ` for each stream, or nothing at all with `--merges-only`.
    prefixes: Option<Vec<Vec<u8>>>,
}

impl<W: Write> Printer<W> {
    fn new(out: W, names: &[String], merges_only: bool) -> Self {
        let prefixes = names.iter().map(|name| format!("{name} ").into_bytes());
        Printer {
            out: BufWriter::with_capacity(1 << 16, out),
            text: Vec::new(),
            prefixes: (!merges_only).then(|| prefixes.collect()),
        }
    }

    fn values(&mut self, stream: usize, values: &[i64]) {
        if let Some(prefixes) = &self.prefixes {
            for &value in values {
                line(&mut self.text, &prefixes[stream], value.into());
            }
        }
    }

    fn merge(&mut self, sum: i128) {
        line(&mut self.text, b"merge ", sum);
    }

    /// Hands the lines so far to the buffered writer.
    fn write(&mut self) -> io::Result<()> {
        self.out.write_all(&self.text)?;
        self.text.clear();
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write()?;
        self.out.flush()
    }

    /// Ends the run with `error`, once everything merged so far is out.
    fn fail<T>(&mut self, error: Error) -> Result<T, Error> {
        self.flush()?;
        Err(error)
    }
}

/// Appends `prefix`, `n` in decimal and a newline. Done by hand: on the hot path, std's
/// formatting machinery costs more than the merge.
fn line(text: &mut Vec<u8>, prefix: &[u8], n: i128) {
    let mut buf = [0u8; 41]; // a sign, up to 39 digits and '\n'
    let mut at = buf.len() - 1;
    buf[at] = b'\n';
    let mut wide = n.unsigned_abs();
    while wide > u128::from(u64::MAX) {
        at -= 1;
        buf[at] = b'0' + (wide % 10) as u8;
        wide /= 10;
    }
    let mut narrow = wide as u64; // 64-bit division is several times faster than 128-bit
    loop {
        at -= 1;
        buf[at] = b'0' + (narrow % 10) as u8;
        narrow /= 10;
        if narrow == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    text.extend_from_slice(prefix);
    text.extend_from_slice(&buf[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(n: i128) -> String {
        let mut text = Vec::new();
        line(&mut text, b"v ", n);
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn numbers_print_as_std_prints_them() {
        let edges = [0, 7, -7, 10, -10, 1 << 64, -(1 << 64), i128::MAX, i128::MIN];
        for n in edges
            .into_iter()
            .chain((-1000..1000).map(|n| n * 9_999_991))
        {
            assert_eq!(printed(n), format!("v {n}\n"));
        }
    }
}
