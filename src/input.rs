//! The input: one reader thread that parses external streams' values, `NAME VALUE` a line,
//! and sends them to the root like any other leaf.
//!
//! Invariant: each stream's values reach the root in input order, and none waits in the
//! reader while it is blocked on a read: before every read that may block, the reader sends
//! what it holds. Between streams, a batch per stream keeps interleaved input from costing
//! a message per line.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::mem;
use std::sync::mpsc::SyncSender;

use crate::message::{BATCH, Batch, Msg};

/// An external stream, as the reader knows it.
pub(crate) struct External {
    name: String,
    /// `NAME `, or `None` when only merges are printed.
    prefix: Option<Vec<u8>>,
    /// Values read and not sent yet.
    held: Batch,
}

impl External {
    pub(crate) fn new(name: String, stream: usize, prefix: Option<Vec<u8>>) -> Self {
        External {
            name,
            prefix,
            held: Batch::new(stream, 0, None),
        }
    }

    /// What it holds, leaving it empty.
    fn take(&mut self) -> Batch {
        let empty = Batch::new(self.held.stream, 0, None);
        mem::replace(&mut self.held, empty)
    }
}

/// Reads `input` to its end, sending the values of `streams`; then ends each of them. A bad
/// line or a read error ends the input there, reported before those ends. Stops early once
/// the root has hung up.
pub(crate) fn read(input: impl Read, mut streams: Vec<External>, tx: SyncSender<Msg>) {
    let index: HashMap<String, usize> = streams
        .iter()
        .enumerate()
        .map(|(i, external)| (external.name.clone(), i))
        .collect();
    // Sends what every stream holds, in stream order; false once the root has hung up.
    let send = |streams: &mut [External]| {
        let held = streams
            .iter_mut()
            .filter(|external| !external.held.values.is_empty());
        held.map(External::take)
            .all(|batch| tx.send(Msg::Values(batch)).is_ok())
    };
    let mut input = BufReader::with_capacity(1 << 16, input);
    let mut line = Vec::new();
    let mut number = 0;
    let problem = loop {
        // No whole line buffered: the read may wait, so the root gets what is here first.
        if !input.buffer().contains(&b'\n') && !send(&mut streams) {
            return;
        }
        line.clear();
        number += 1;
        let (i, value) = match input.read_until(b'\n', &mut line) {
            Ok(0) => break None,
            Ok(_) => match parse(&line, &index) {
                Ok(Some(item)) => item,
                Ok(None) => continue,
                Err(problem) => break Some(Msg::BadLine(number, problem)),
            },
            Err(e) => break Some(Msg::Unreadable(e)),
        };
        let External { prefix, held, .. } = &mut streams[i];
        held.push(value, prefix.as_deref());
        if held.values.len() >= BATCH && !send(&mut streams) {
            return;
        }
    };
    if send(&mut streams) {
        let ends = streams
            .iter()
            .map(|external| Msg::End(external.held.stream));
        for msg in problem.into_iter().chain(ends) {
            if tx.send(msg).is_err() {
                return;
            }
        }
    }
}

/// One line: `Some((i, value))` for the stream at `index[name]`, `None` for a blank line or
/// a `merge` line, or what is wrong with it.
fn parse(line: &[u8], index: &HashMap<String, usize>) -> Result<Option<(usize, i64)>, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_string())?;
    let mut fields = text.split_whitespace();
    let (Some(name), value, extra) = (fields.next(), fields.next(), fields.next()) else {
        return Ok(None);
    };
    if name == "merge" {
        return Ok(None);
    }
    let Some(&i) = index.get(name) else {
        return Err(format!("'{name}' is not an external stream (-s {name})"));
    };
    let value = value.ok_or_else(|| format!("stream '{name}' has no value"))?;
    if let Some(extra) = extra {
        return Err(format!("unexpected '{extra}' after the value"));
    }
    let value = value.parse().map_err(|_| {
        format!(
            "'{value}' is not an integer from {} to {}",
            i64::MIN,
            i64::MAX
        )
    })?;
    Ok(Some((i, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Result<Option<(usize, i64)>, String> {
        let index = HashMap::from([("x".to_string(), 0), ("y".to_string(), 3)]);
        parse(line.as_bytes(), &index)
    }

    #[test]
    fn lines_are_name_and_value_in_any_whitespace() {
        assert_eq!(parsed("x 5\n"), Ok(Some((0, 5))));
        assert_eq!(
            parsed("  y\t-9223372036854775808\r\n"),
            Ok(Some((3, i64::MIN)))
        );
        assert_eq!(parsed("y 7"), Ok(Some((3, 7))));
    }

    #[test]
    fn blank_and_merge_lines_are_skipped() {
        for line in [
            "\n",
            "\r\n",
            "  \t \n",
            "",
            "merge 12\n",
            "merge anything at all",
        ] {
            assert_eq!(parsed(line), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        for (line, problem) in [
            ("z 1\n", "'z' is not an external stream"),
            ("x\n", "stream 'x' has no value"),
            ("x 1 2\n", "unexpected '2' after the value"),
            ("x one\n", "'one' is not an integer"),
            (
                "x 9223372036854775808\n",
                "'9223372036854775808' is not an integer",
            ),
            ("x 1.5\n", "'1.5' is not an integer"),
        ] {
            let error = parsed(line).unwrap_err();
            assert!(error.contains(problem), "{line:?}: {error}");
        }
        let not_utf8 = parse(b"x \xff\n", &HashMap::new()).err();
        assert_eq!(not_utf8.as_deref(), Some("not UTF-8"));
    }
}
