//! Inputs, and the reader of a stream with a source of its own (`-f NAME=PATH`).
//!
//! Invariant: a path is checked with `stat` and `access`, never by opening it, since
//! opening and closing a named pipe strands its writer; it is opened by the thread that
//! reads it, so a pipe whose writer has not come yet holds up no other stream. The reader
//! is a leaf like the generated ones: it reads no further than the window allows.

use std::ffi::{CString, c_char, c_int};
use std::fs::{self, File};
use std::io::{self, ErrorKind, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::decimal;
use crate::error::Error;
use crate::leaf::Feed;
use crate::lines::{Fields, Lines, Newlines, Next, Problem, fields};
use crate::quote::{escape, quote};

/// Where lines come from.
#[derive(Debug, PartialEq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
}

/// What messages call stdin.
const STDIN: &str = "<stdin>";

impl Input {
    /// `-` is stdin; anything else a path, taken as given.
    pub fn new(path: PathBuf) -> Self {
        if path.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::Path(path)
        }
    }

    /// How messages name it: the path as given, escaped.
    pub fn place(&self) -> String {
        match self {
            Input::Stdin => STDIN.to_string(),
            Input::Path(path) => escape(path.as_os_str().as_bytes()),
        }
    }

    /// Whether it can be read: it exists, is not a directory, and is readable.
    pub fn check(&self) -> io::Result<()> {
        let Input::Path(path) = self else {
            return Ok(());
        };
        if fs::metadata(path)?.is_dir() {
            return Err(io::Error::new(ErrorKind::IsADirectory, "is a directory"));
        }
        unsafe extern "C" {
            fn access(path: *const c_char, mode: c_int) -> c_int;
        }
        const R_OK: c_int = 4;
        let path = CString::new(path.as_os_str().as_bytes())?;
        // SAFETY: `path` is a NUL-terminated string that outlives the call, and `access`
        // only reads it.
        if unsafe { access(path.as_ptr(), R_OK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub(crate) fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Input::Stdin => Box::new(io::stdin()),
            Input::Path(path) => Box::new(File::open(path)?),
        })
    }
}

/// What went wrong with a line, for a message.
pub(crate) fn problem(place: &str, problem: Problem, limit: usize) -> (String, String) {
    let (line, what) = match problem {
        Problem::Long(line) => (line, format!("a line longer than {limit} bytes")),
        Problem::Unreadable(line, e) => (line, format!("cannot read: {e}")),
    };
    (format!("{place}:{line}"), what)
}

/// Why a line of more fields than `NAME VALUE` is refused: for its value field, `value`,
/// if that is not a value; else for `extra`, the field after it.
pub(crate) fn crowded(value: &[u8], extra: &[u8]) -> String {
    match decimal::parse(value) {
        Err(bad) => decimal::refusal(value, bad),
        Ok(_) => unexpected(extra),
    }
}

/// Why a line is refused for `extra`, a field after its value.
fn unexpected(extra: &[u8]) -> String {
    format!("unexpected {} after the value", quote(extra))
}

/// Reads stream `name`'s values from `input`, one a line: `VALUE`, or `NAME VALUE` with
/// this stream's name; blank, `merge` and `#` lines are skipped. Ends the stream at the end of
/// the input, or fails it at the first line that is not so. Before every read that may
/// wait, sends what it holds.
pub(crate) fn read(input: Input, name: String, mut feed: Feed, limit: usize) {
    let place = input.place();
    let fail = |place: String, problem: String| {
        let problem = format!("stream {}: {problem}", quote(name.as_bytes()));
        Err(Error::Input { place, problem })
    };
    let mut lines = match input.open() {
        Ok(reader) => Lines::new(reader, limit),
        Err(e) => return feed.finish(fail(place, format!("cannot open: {e}"))),
    };
    let mut glanced = Vec::new();
    let how = loop {
        // The lines that are plain integers, the common case, at a glance, as many at a
        // time as the window allows; then one line.
        let block = lines.whole();
        let (mut at, mut taken) = (0, 0);
        let mut ends = Newlines::new(block).peekable();
        while ends.peek().is_some() {
            let Some(room) = feed.room() else {
                return; // the root has stopped
            };
            glanced.clear();
            while glanced.len() < room {
                let Some(end) = ends.next() else { break };
                let Some(m) = decimal::plain(&block[at..end]) else {
                    break;
                };
                glanced.push(m);
                (at, taken) = (end + 1, taken + 1);
            }
            feed.push_integers(&glanced);
            if glanced.len() < room {
                break; // a line that needs a closer look, or the end of the block
            }
        }
        lines.consume(at, taken);
        match lines.next() {
            Ok(Next::Line(number, line)) => {
                let value = match fields(line) {
                    Fields::Skip => continue,
                    Fields::One(value) => value,
                    Fields::Two(own, value) if own == name.as_bytes() => value,
                    Fields::Two(other, _) => {
                        let problem = format!("{} is not this stream's name", quote(other));
                        break fail(format!("{place}:{number}"), problem);
                    }
                    Fields::More(own, value, extra) => {
                        let problem = if own == name.as_bytes() {
                            crowded(value, extra)
                        } else {
                            unexpected(extra)
                        };
                        break fail(format!("{place}:{number}"), problem);
                    }
                };
                match decimal::parse(value) {
                    Ok(value) if feed.add(value) => {}
                    Ok(_) => return, // the root has stopped
                    Err(bad) => {
                        break fail(format!("{place}:{number}"), decimal::refusal(value, bad));
                    }
                }
            }
            Ok(Next::Empty) => {
                if !feed.send() {
                    return;
                }
                if let Err(e) = lines.read() {
                    let (place, problem) = problem(&place, e, limit);
                    break fail(place, problem);
                }
            }
            Ok(Next::End) => break Ok(()),
            Err(e) => {
                let (place, problem) = problem(&place, e, limit);
                break fail(place, problem);
            }
        }
    };
    feed.finish(how);
}
