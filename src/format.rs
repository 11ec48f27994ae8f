//! The line format, read and written: `NAME VALUE` (by time `NAME VALUE TIME`), one item a
//! line, as the output prints it and the inputs read it, and what a name may be.
//!
//! Invariant: what the output writes, the inputs read back unchanged: a value's line is
//! `start(NAME)` then the value in canonical form (by time, a separator and the time in
//! canonical form after it) and a newline; a merge's starts with `start(MERGE)`, and
//! inputs skip it. Inputs also skip blank lines and comments. A fast path that takes lines
//! a block at a time takes only lines of this layout, and leaves every other line to
//! `fields`.

use crate::decimal::{self, Decimal};
use crate::later::Before;
use crate::quote::{printable, quote};

/// The name of the merge lines, which no stream may take.
pub(crate) const MERGE: &str = "merge";

/// What separates a line's fields when the output writes them.
const SEPARATOR: u8 = b' ';

/// What starts a comment line's first field in an input.
const COMMENT: u8 = b'#';

/// How the output starts a line of `name`: `NAME `.
pub(crate) fn start(name: &str) -> Vec<u8> {
    [name.as_bytes(), &[SEPARATOR]].concat()
}

/// The most bytes a value or a time takes in canonical form: `-9.223372036854775808`, or
/// `-0.000000000000000001`.
const CANONICAL: usize = 21;

/// The most bytes a value's line of stream `name` takes as the output prints it, newline
/// included: `NAME VALUE`, and by time ` TIME`. What bounds the bytes of the lines that the
/// values a stream holds keep.
pub(crate) fn printed_most(name: &str, by_time: bool) -> usize {
    start(name).len() + CANONICAL + usize::from(by_time) * (1 + CANONICAL) + 1
}

/// Whether `line` is a merge line as the output prints it, as a fast path sees it: `merge`
/// alone, or followed by the separator.
pub(crate) fn is_merge(line: &[u8]) -> bool {
    (line.strip_prefix(MERGE.as_bytes()))
        .is_some_and(|rest| rest.first().is_none_or(|&b| b == SEPARATOR))
}

/// A stream's name: UTF-8, not empty, not `merge`, not starting with `#` (which marks a
/// comment line in an input), with no space, control or invisible character, since it is
/// printed as it is.
pub(crate) fn name(name: &[u8]) -> Result<&str, String> {
    match std::str::from_utf8(name) {
        Ok(text)
            if !text.is_empty()
                && text != MERGE
                && !text.starts_with(char::from(COMMENT))
                && text.chars().all(|c| c != ' ' && printable(c)) =>
        {
            Ok(text)
        }
        _ => Err(format!(
            "invalid stream name {}: a name is not empty, is not 'merge', does not start with \
             '#', and has no spaces, control or invisible characters",
            quote(name)
        )),
    }
}

/// A line's first four fields, separated by ASCII spaces and tabs, a CR before the newline
/// dropped; a field the line does not have is empty. `None` for a line that is skipped: a
/// blank line, a `merge` line, or a comment, whose first field starts with `#`.
pub(crate) fn fields(line: &[u8]) -> Option<[&[u8]; 4]> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let blank = |&b: &u8| b == b' ' || b == b'\t';
    let mut fields = line.split(blank).filter(|field| !field.is_empty());
    let first = fields.next()?;
    if first == MERGE.as_bytes() || first.starts_with(&[COMMENT]) {
        return None;
    }
    let mut next = || fields.next().unwrap_or_default();
    Some([first, next(), next(), next()])
}

/// What a line gives its stream: a value and, by time, its time.
pub(crate) type Reading = (Decimal, Option<Decimal>);

/// The reading of a line as the output prints it, from its value on, `block[start..end]`:
/// `VALUE`, or by time `VALUE TIME`, each in canonical form, with one separator, the time
/// later than `before`, the stream's time before it, which it then becomes (see `later`).
/// The fast paths' line, whose text is then its own canonical form: copied as it is, or
/// written again from the reading, the same. `None` does not mean it is not a reading:
/// `reading` tells.
#[inline(always)]
pub(crate) fn printed(
    block: &[u8],
    (start, end): (usize, usize),
    before: Option<&mut Before>,
) -> Option<Reading> {
    let rest = &block[start..end];
    let Some(before) = before else {
        return Some((decimal::canonical(rest)?, None));
    };
    // A time one more than the one before, as times that count mostly are, is known by
    // its text, and so is its length: then the separator is where that leaves it, and the
    // value before it, which has no separator in it, is read as one word. Where the block
    // has 32 bytes from the line's start, none of it is looked up past its end; a value
    // of at most 14 bytes leaves the time's 16 bytes within them.
    if let (Some(len), Some(span)) = (before.next_len(), block.get(start..start + 32)) {
        let span: &[u8; 32] = span.try_into().expect("32 bytes");
        let at = (end - start).wrapping_sub(len + 1);
        if (1..15).contains(&at) && span[at] == SEPARATOR && before.is_next(span, at + 1) {
            let value = decimal::canonical_word(span, at)?;
            return Some((value, Some(before.take_next())));
        }
    }
    let (value, at) = decimal::canonical_prefix(rest)?;
    if rest.get(at) != Some(&SEPARATOR) {
        return None;
    }
    let time = before.take(block, (start + at + 1, end))?;
    Some((value, Some(time)))
}

/// What a time may be, for messages.
const TIME: &str = "a time is a decimal such as 17, 1764614400 or 1764614400.125";

/// Why a line that is a stream's name alone is refused: it says what is expected after it.
pub(crate) fn no_value(by_time: bool) -> String {
    let expected = if by_time {
        "a value and a time are"
    } else {
        "a value is"
    };
    format!("{expected} expected after the name")
}

/// The reading of `fields`, a line's fields from its value on: `VALUE`, or by time `VALUE
/// TIME`; or why they are not one. The value is blamed first, then the time, then what
/// follows them.
pub(crate) fn reading(fields: &[&[u8]], by_time: bool) -> Result<Reading, String> {
    let field = |k: usize| fields.get(k).copied().unwrap_or_default();
    let (value, after) = (field(0), field(1));
    let value = decimal::parse(value).map_err(|bad| decimal::why_refused(value, bad))?;
    if !by_time {
        if after.is_empty() {
            return Ok((value, None));
        }
        // Only a line that `--by-time` takes: a value and a time, nothing after them.
        let hint = if field(2).is_empty() && decimal::parse(after).is_ok() {
            ": lines with a time need --by-time"
        } else {
            ""
        };
        return Err(format!("{}{hint}", unexpected(after)));
    }
    if after.is_empty() {
        return Err("a time is expected after the value".to_string());
    }
    let time = match decimal::parse(after) {
        Ok(time) => time,
        Err(decimal::Bad::Form) => return Err(format!("{} is not a time: {TIME}", quote(after))),
        Err(decimal::Bad::Range) => return Err(out_of_range(after)),
    };
    match field(2) {
        [] => Ok((value, Some(time))),
        extra => Err(format!("unexpected {} after the time", quote(extra))),
    }
}

/// The reading of a line of stream `name`'s own source, whose fields are `fields`: `VALUE`
/// or `NAME VALUE` with its own name, each with a time after the value by time. By time, a
/// line of two fields is always `VALUE TIME`.
pub(crate) fn own_reading(
    name: &str,
    fields: [&[u8]; 4],
    by_time: bool,
) -> Result<Reading, String> {
    let [first, second, third, fourth] = fields;
    let own = first == name.as_bytes();
    // Its name, where it cannot be a value: what is missing after it is said.
    let named = || own && decimal::parse(first).is_err();
    if second.is_empty() {
        return if named() {
            Err(no_value(by_time))
        } else {
            reading(&[first], by_time)
        };
    }
    if by_time && third.is_empty() {
        return if named() {
            reading(&[second], true) // its name and a value: no time
        } else {
            reading(&[first, second], true)
        };
    }
    if own {
        return reading(&[second, third, fourth], by_time);
    }
    if decimal::parse(first).is_ok() {
        return reading(&[first, second, third], by_time);
    }
    Err(format!("{} is not this stream's name", quote(first)))
}

/// Why `time` is refused, past the limits: kept out of the readers' loops, which a
/// message built in place made slower, as measured.
#[cold]
fn out_of_range(time: &[u8]) -> String {
    let limits = decimal::LIMITS;
    format!(
        "{} is out of range for a time: a time is {limits}",
        quote(time)
    )
}

/// Why a line is refused for `extra`, a field after its value.
fn unexpected(extra: &[u8]) -> String {
    format!("unexpected {} after the value", quote(extra))
}

/// Why a stream's value at `time` is refused, `before` being the time of its value before.
pub(crate) fn not_after(time: Decimal, before: Decimal) -> String {
    format!("time {time} is not after {before}, the time before it")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_canonical_text_is_longer_than_the_most_a_line_is_counted_for() {
        let extremes = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX];
        let longest = (0..=decimal::MAX_SCALE)
            .flat_map(|scale| extremes.map(|m| Decimal::new(m, scale).unwrap()))
            .map(|value| value.to_string().len())
            .max();
        assert_eq!(longest, Some(CANONICAL));
        assert_eq!(printed_most("x", false), "x -9.223372036854775808\n".len());
        assert_eq!(
            printed_most("x", true),
            "x -0.000000000000000001 -9.223372036854775808\n".len()
        );
    }

    #[test]
    fn fields_split_on_spaces_and_tabs_only() {
        let empty: &[u8] = b"";
        assert_eq!(fields(b" \t \r"), None);
        assert_eq!(fields(b"merge 12"), None);
        assert_eq!(fields(b"7\r"), Some([&b"7"[..], empty, empty, empty]));
        assert_eq!(fields(b"\tx  7 "), Some([&b"x"[..], b"7", empty, empty]));
        assert_eq!(fields(b"x 7 8 9 10"), Some([&b"x"[..], b"7", b"8", b"9"]));
        assert_eq!(
            fields(b"x\x0c7"),
            Some([&b"x\x0c7"[..], empty, empty, empty])
        );
        assert_eq!(fields(b"x\xc2\xa07").map(|f| f[1]), Some(empty));
    }

    #[test]
    fn a_line_whose_first_field_starts_with_a_hash_is_a_comment() {
        let empty: &[u8] = b"";
        assert_eq!(fields(b"# sensor A, Celsius"), None);
        assert_eq!(fields(b" \t#x 1\r"), None);
        assert_eq!(fields(b"#"), None);
        assert_eq!(fields(b"x #1"), Some([&b"x"[..], b"#1", empty, empty]));
        assert_eq!(fields(b"1#").map(|f| f[0]), Some(&b"1#"[..]));
    }

    fn read(line: &str, by_time: bool) -> Result<(String, Option<String>), String> {
        let fields = fields(line.as_bytes()).unwrap();
        let (value, time) = own_reading("x", fields, by_time)?;
        Ok((value.to_string(), time.map(|t| t.to_string())))
    }

    #[test]
    fn a_sources_own_lines_give_a_value_and_by_time_a_time() {
        let ok = |v: &str, t: Option<&str>| Ok((v.to_string(), t.map(str::to_string)));
        assert_eq!(read("7", false), ok("7", None));
        assert_eq!(read("x 7", false), ok("7", None));
        assert_eq!(read("7 17", true), ok("7", Some("17")));
        assert_eq!(read("x 7.5 1.50", true), ok("7.5", Some("1.50")));
        let hint = "unexpected '17' after the value: lines with a time need --by-time";
        assert_eq!(read("7 17", false), Err(hint.to_string()));
        assert_eq!(read("x 7 17", false), Err(hint.to_string()));
        // Still bad by time: no hint.
        let extra = Err("unexpected '17' after the value".to_string());
        assert_eq!(read("7 17 5", false), extra);
        assert_eq!(read("x 7 17 5", false), extra);
        let no_time = Err("a time is expected after the value".to_string());
        assert_eq!(read("7", true), no_time);
        assert_eq!(read("x 7", true), no_time);
        // Its name alone: what is expected after it.
        let no_value = |expected: &str| Err(format!("{expected} expected after the name"));
        assert_eq!(read("x", false), no_value("a value is"));
        assert_eq!(read("x", true), no_value("a value and a time are"));
        assert_eq!(read("y", false).unwrap_err(), read("y", true).unwrap_err());
        assert_eq!(
            read("y 7", true).unwrap_err(),
            "'y' is not a value: a value is a decimal such as 7, -12, 20.5, .5 or 2.5E3"
        );
        assert_eq!(
            read("y 7", false).unwrap_err(),
            "'y' is not this stream's name"
        );
        assert_eq!(
            read("7 abc", true).unwrap_err(),
            format!("'abc' is not a time: {TIME}")
        );
        assert_eq!(
            read("7 17 5", true).unwrap_err(),
            "unexpected '5' after the time"
        );
        assert_eq!(
            read("x 7 17 5", true).unwrap_err(),
            "unexpected '5' after the time"
        );
    }

    #[test]
    fn the_output_starts_its_lines_as_the_fast_paths_expect() {
        assert_eq!(start("x"), b"x ");
        assert_eq!(start(MERGE), b"merge ");
        assert!(is_merge(b"merge 12") && is_merge(b"merge"));
        assert!(!is_merge(b"merger 12") && !is_merge(b"merg"));
    }
    /// What `printed` must give for `line` by time: its value and time if it is exactly
    /// `VALUE TIME`, each in canonical form, the time after `before`.
    fn slowly(line: &[u8], before: Option<Decimal>) -> Option<Reading> {
        let text = std::str::from_utf8(line).ok()?;
        let (value, time) = text.split_once(' ')?;
        let (value, time): (Decimal, Decimal) = (value.parse().ok()?, time.parse().ok()?);
        let later = before.is_none_or(|before| decimal::compare(time, before).is_gt());
        (later && format!("{value} {time}") == text).then_some((value, Some(time)))
    }

    /// The stream's time before, `time`, read as a fast path reads it, so that the next
    /// is known by its text where it can be.
    fn before(time: &str) -> Before {
        let block = format!("{time}{}", "\n".repeat(16));
        let mut before = Before::default();
        before
            .take(block.as_bytes(), (0, time.len()))
            .expect("a time");
        before
    }

    #[test]
    fn every_byte_at_every_position_of_a_timed_line_is_read_as_the_slow_way_reads_it() {
        let values = [
            "7",
            "0",
            "-3",
            "105",
            "2.50",
            "12345678",
            "123456789",
            "-0.5",
        ];
        let times = ["8", "99", "1764614399", "0.5", "41"];
        for (value, time) in values
            .iter()
            .zip(times.iter().cycle())
            // Values that leave the time 16 bytes from the line's start, or past it, and
            // start as the time one more than the one before does.
            .chain([
                (&"6", &"9"),
                (&"90000000000000", &"8"),
                (&"900000000000000", &"8"),
            ])
            .chain([(&"9000000000000000", &"8"), (&"99000000000000", &"98")])
        {
            let start = before(time);
            let next = decimal::parse(time.as_bytes()).unwrap().mantissa() + 1;
            let line = format!("{value} {next}").into_bytes();
            for position in 0..line.len() {
                for byte in 0..=255u8 {
                    let mut line = line.clone();
                    line[position] = byte;
                    let expected = slowly(&line, start.time());
                    // In a block of its own, and with a block's worth of lines after it.
                    for after in [1, 40] {
                        let block = [&line[..], &b"\n".repeat(after)].concat();
                        let mut got = start;
                        let reading = printed(&block, (0, line.len()), Some(&mut got));
                        assert_eq!(reading, expected, "{:?}", String::from_utf8_lossy(&line));
                        if let Some((_, time)) = reading {
                            assert_eq!(got.time(), time);
                        }
                    }
                }
            }
        }
    }
}
