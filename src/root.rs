//! The root: spawns one leaf thread per stream, takes their messages from one channel,
//! and prints each value and each merge through one buffered writer.
//!
//! Invariant: every line is whole; a stream's values are printed in the order the root
//! received them, and each `merge` line comes after the lines of the values it sums.

use std::io::{self, BufWriter, Write};
use std::sync::mpsc::{self, Receiver};
use std::thread;

use crate::Error;
use crate::leaf::{self, Values};
use crate::rounds::Rounds;

/// What a leaf tells the root.
pub(crate) enum Msg {
    /// A stream's next values, in order.
    Values(usize, Vec<i64>),
    /// The stream has no more values.
    End(usize),
    /// The stream's source panicked.
    Failed(usize),
}

/// A named stream and the values its leaf will feed.
pub struct Stream {
    pub name: String,
    pub values: Values,
}

/// How many messages may wait in the channel before a leaf blocks on sending.
const CHANNEL: usize = 16;

/// Merges `streams` and prints to `out`; returns the number of rounds merged. The
/// calling thread is the root.
pub fn merge(streams: Vec<Stream>, merges_only: bool, out: impl Write) -> Result<u64, Error> {
    let names: Vec<String> = streams.iter().map(|s| s.name.clone()).collect();
    let (tx, rx) = mpsc::sync_channel(CHANNEL);
    thread::scope(|scope| {
        for (stream, Stream { values, .. }) in streams.into_iter().enumerate() {
            let tx = tx.clone();
            scope.spawn(move || leaf::feed(stream, values, tx));
        }
        drop(tx);
        root(rx, &names, Printer::new(out, &names, merges_only))
    })
}

/// The root's loop. Returning drops `rx`, which tells every leaf still running to stop.
fn root(
    rx: Receiver<Msg>,
    names: &[String],
    mut printer: Printer<impl Write>,
) -> Result<u64, Error> {
    let mut rounds = Rounds::new(names.len());
    for msg in rx {
        match msg {
            Msg::Values(stream, values) => {
                printer.values(stream, &values)?;
                rounds.push(stream, &values);
                while let Some(sum) = rounds.next_merge() {
                    printer.merge(sum)?;
                }
            }
            Msg::End(stream) => rounds.end(stream),
            Msg::Failed(stream) => {
                printer.flush()?;
                return Err(Error::Failed(names[stream].clone()));
            }
        }
        if rounds.is_over() {
            break;
        }
    }
    printer.flush()?;
    Ok(rounds.merged())
}

/// The root's output: `NAME VALUE` lines through one buffered writer.
struct Printer<W: Write> {
    out: BufWriter<W>,
    /// `NAME ` for each stream, or nothing at all with `--merges-only`.
    prefixes: Option<Vec<Vec<u8>>>,
}

impl<W: Write> Printer<W> {
    fn new(out: W, names: &[String], merges_only: bool) -> Self {
        let prefixes = names.iter().map(|name| format!("{name} ").into_bytes());
        Printer {
            out: BufWriter::with_capacity(1 << 16, out),
            prefixes: (!merges_only).then(|| prefixes.collect()),
        }
    }

    fn values(&mut self, stream: usize, values: &[i64]) -> io::Result<()> {
        if let Some(prefixes) = &self.prefixes {
            for &value in values {
                line(&mut self.out, &prefixes[stream], value.into())?;
            }
        }
        Ok(())
    }

    fn merge(&mut self, sum: i128) -> io::Result<()> {
        line(&mut self.out, b"merge ", sum)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes `prefix`, `n` in decimal and a newline. Done by hand: on the hot path, std's
/// formatting machinery costs more than the merge.
fn line(out: &mut impl Write, prefix: &[u8], n: i128) -> io::Result<()> {
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
    out.write_all(prefix)?;
    out.write_all(&buf[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(n: i128) -> String {
        let mut out = Vec::new();
        line(&mut out, b"v ", n).unwrap();
        String::from_utf8(out).unwrap()
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
