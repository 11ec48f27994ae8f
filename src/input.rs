//! The input: one reader thread that parses external streams' values, `NAME VALUE` a line,
//! and sends them to the root like any other leaf.
//!
//! Invariant: values reach the root in input order, and none waits in the reader while it
//! is blocked on a read: before every read that may block, the reader sends what it holds.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::SyncSender;

use crate::root::Msg;

/// At most this many values of one stream go in one message.
const BATCH: usize = 2048;

/// Reads `input` to its end, sending the values of `streams` (name to stream number);
/// then ends each of those streams. Stops at the first bad line, or once the root has hung up.
pub(crate) fn read(input: impl Read, streams: HashMap<String, usize>, tx: SyncSender<Msg>) {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let mut line = Vec::new();
    let mut held: Option<(usize, Vec<i64>)> = None; // one stream's latest values
    let send = |held: &mut Option<(usize, Vec<i64>)>| match held.take() {
        Some((stream, values)) => tx.send(Msg::Values(stream, values)).is_ok(),
        None => true,
    };
    for number in 1u64.. {
        // No whole line buffered: the read may wait, so the root gets what is here first.
        if !input.buffer().contains(&b'\n') && !send(&mut held) {
            return;
        }
        line.clear();
        let item = match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => parse(&line, &streams).map_err(|problem| Msg::BadLine(number, problem)),
            Err(e) => Err(Msg::Unreadable(e)),
        };
        match item {
            Ok(None) => {}
            Ok(Some((stream, value))) => match &mut held {
                Some((same, values)) if *same == stream && values.len() < BATCH => {
                    values.push(value)
                }
                _ => {
                    if !send(&mut held) {
                        return;
                    }
                    held = Some((stream, vec![value]));
                }
            },
            Err(problem) => {
                if send(&mut held) {
                    let _ = tx.send(problem);
                }
                return;
            }
        }
    }
    if send(&mut held) {
        for &stream in streams.values() {
            let _ = tx.send(Msg::End(stream));
        }
    }
}

/// One line: `Some((stream, value))`, `None` for a blank line or a `merge` line, or what
/// is wrong with it.
fn parse(line: &[u8], streams: &HashMap<String, usize>) -> Result<Option<(usize, i64)>, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8".to_string())?;
    let mut fields = text.split_whitespace();
    let (Some(name), value, extra) = (fields.next(), fields.next(), fields.next()) else {
        return Ok(None);
    };
    if name == "merge" {
        return Ok(None);
    }
    let Some(&stream) = streams.get(name) else {
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
    Ok(Some((stream, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> Result<Option<(usize, i64)>, String> {
        let streams = HashMap::from([("x".to_string(), 0), ("y".to_string(), 3)]);
        parse(line.as_bytes(), &streams)
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
        assert_eq!(
            parse(b"x \xff\n", &HashMap::new()),
            Err("not UTF-8".to_string())
        );
    }
}
