//! The line format, read and written: `NAME VALUE`, one item a line, as the output prints
//! it and the inputs read it, and what a name may be.
//!
//! Invariant: what the output writes, the inputs read back unchanged: a value's line is
//! `start(NAME)` then the value in canonical form and a newline; a merge's starts with
//! `start(MERGE)`, and inputs skip it. Inputs also skip blank lines and comments. A fast
//! path that takes lines a block at a time takes only lines of this layout, and leaves every
//! other line to `fields`.

use crate::decimal;
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

/// A line's fields, separated by ASCII spaces and tabs, a CR before the newline dropped.
pub(crate) enum Fields<'a> {
    /// A blank line, a `merge` line, or a comment: a line whose first field starts with `#`.
    Skip,
    One(&'a [u8]),
    Two(&'a [u8], &'a [u8]),
    /// More than two: the first three.
    More(&'a [u8], &'a [u8], &'a [u8]),
}

pub(crate) fn fields(line: &[u8]) -> Fields<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let blank = |&b: &u8| b == b' ' || b == b'\t';
    let mut fields = line.split(blank).filter(|field| !field.is_empty());
    match (fields.next(), fields.next(), fields.next()) {
        (None, ..) => Fields::Skip,
        (Some(one), ..) if one == MERGE.as_bytes() => Fields::Skip,
        (Some(one), ..) if one.starts_with(&[COMMENT]) => Fields::Skip,
        (Some(one), None, _) => Fields::One(one),
        (Some(one), Some(two), None) => Fields::Two(one, two),
        (Some(one), Some(two), Some(three)) => Fields::More(one, two, three),
    }
}

/// Why a line of more fields than `NAME VALUE` is refused: for its value field, `value`,
/// if that is not a value; else for `extra`, the field after it.
pub(crate) fn crowded(value: &[u8], extra: &[u8]) -> String {
    match decimal::parse(value) {
        Err(bad) => decimal::why_refused(value, bad),
        Ok(_) => unexpected(extra),
    }
}

/// Why a line is refused for `extra`, a field after its value.
pub(crate) fn unexpected(extra: &[u8]) -> String {
    format!("unexpected {} after the value", quote(extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_on_spaces_and_tabs_only() {
        assert!(matches!(fields(b" \t \r"), Fields::Skip));
        assert!(matches!(fields(b"merge 12"), Fields::Skip));
        assert!(matches!(fields(b"7\r"), Fields::One(b"7")));
        assert!(matches!(fields(b"\tx  7 "), Fields::Two(b"x", b"7")));
        assert!(matches!(fields(b"x 7 8 9"), Fields::More(b"x", b"7", b"8")));
        assert!(matches!(fields(b"x\x0c7"), Fields::One(b"x\x0c7")));
        assert!(matches!(fields(b"x\xc2\xa07"), Fields::One(_)));
    }

    #[test]
    fn a_line_whose_first_field_starts_with_a_hash_is_a_comment() {
        assert!(matches!(fields(b"# sensor A, Celsius"), Fields::Skip));
        assert!(matches!(fields(b" \t#x 1\r"), Fields::Skip));
        assert!(matches!(fields(b"#"), Fields::Skip));
        assert!(matches!(fields(b"x #1"), Fields::Two(b"x", b"#1")));
        assert!(matches!(fields(b"1#"), Fields::One(b"1#")));
    }

    #[test]
    fn the_output_starts_its_lines_as_the_fast_paths_expect() {
        assert_eq!(start("x"), b"x ");
        assert_eq!(start(MERGE), b"merge ");
        assert!(is_merge(b"merge 12") && is_merge(b"merge"));
        assert!(!is_merge(b"merger 12") && !is_merge(b"merg"));
    }
}
