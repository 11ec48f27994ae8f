//! Where a stream's values come from, and the reader of a stream with a source of its own
//! (`-f NAME=PATH`).
//!
//! Invariant: a source is opened by the thread that reads it, so a pipe whose writer has
//! not come yet holds up no other stream. A source that may wait (a pipe, a FIFO, a
//! terminal) has a thread of its own; regular files, which never wait, share a few, as
//! generated streams share leaves. Each reader is a leaf like the generated ones: it reads
//! no further than the window allows.

use crate::decimal::{self, Decimal};
use crate::error::Error;
use crate::format::{self, Fields, fields};
use crate::input::{Input, Opened};
use crate::leaf::{Feed, Turn, Turns, Values};
use crate::lines::{self, Lines, Newlines, Next, Problem};
use crate::quote::quote;

/// A named stream and where its values come from.
pub struct Stream {
    pub name: String,
    pub source: Source,
}

/// Where a stream's values come from.
pub enum Source {
    /// Values fed by a leaf thread of their own, within the window.
    Values(Values),
    /// Values read from the shared input, `NAME VALUE` a line.
    Shared,
    /// Values read from an input of its own, a value a line.
    Own(Input),
}

/// How many bytes the line buffers of a run's regular files take at most together, when
/// there are many: each gets a share, no less than its longest line needs.
const BUFFERS: usize = 16 << 20;

/// A stream with a source of its own, not opened yet: it is opened by the thread that
/// reads it.
pub(crate) struct Unopened {
    input: Input,
    name: String,
    feed: Feed,
    /// How many bytes its line buffer takes, at least.
    buffer: usize,
}

impl Unopened {
    /// Stream `name` read from `input`, one of `files` regular files that share the
    /// memory of their buffers (or the only one of its thread).
    pub(crate) fn new(input: Input, name: String, feed: Feed, files: usize) -> Self {
        let buffer = BUFFERS / files.max(1);
        Unopened {
            input,
            name,
            feed,
            buffer,
        }
    }

    /// Opens it; a source that cannot be opened fails its stream at its first item.
    fn open(self) -> Option<Reader> {
        let place = self.input.place();
        let limit = lines::limit(&self.name);
        match self.input.open() {
            Ok(opened) => Some(Reader {
                lines: Lines::new(opened, limit, self.buffer),
                place,
                name: self.name,
                feed: self.feed,
                glanced: Vec::new(),
            }),
            Err(e) => {
                let problem = format!("stream {}: cannot open: {e}", quote(self.name.as_bytes()));
                let failure = Error::Input { place, problem };
                self.feed.finish(Err(failure));
                None
            }
        }
    }
}

/// Opens a group of regular files, to be read in turns on one thread.
pub(crate) fn open(group: Vec<Unopened>) -> Vec<Reader> {
    group.into_iter().filter_map(Unopened::open).collect()
}

/// Reads one stream from a source that may wait, on a thread of its own, as far as the
/// window allows; stops once the stream has ended or the root has stopped.
pub(crate) fn read(stream: Unopened) {
    let Some(mut reader) = stream.open() else {
        return;
    };
    loop {
        let Some(room) = reader.feed.room() else {
            return; // the root has stopped
        };
        match reader.take(room) {
            Turn::Took => {}
            Turn::Ended(how) => return reader.feed.finish(how),
            Turn::Stopped => return,
        }
    }
}

/// Reads stream `name`'s values, one a line: `VALUE`, or `NAME VALUE` with this stream's
/// name; blank and `merge` lines are skipped. Ends the stream at the end of the input, or
/// fails it at the first line that is not so. Before every read that may wait, sends what
/// it holds.
pub(crate) struct Reader {
    lines: Lines<Opened>,
    place: String,
    name: String,
    feed: Feed,
    /// Values taken at a glance, not in the batch yet.
    glanced: Vec<i64>,
}

impl Reader {
    /// Takes the lines that are plain integers, the common case, at a glance, as many as
    /// `room` allows; then, if room is left, one line the slow way, or the next read.
    fn glance(&mut self, room: usize) -> usize {
        let block = self.lines.whole();
        let (mut at, mut taken) = (0, 0);
        self.glanced.clear();
        for end in Newlines::new(block) {
            if self.glanced.len() == room {
                break;
            }
            let Some(m) = decimal::canonical_integer(&block[at..end]) else {
                break; // a line that needs a closer look
            };
            self.glanced.push(m);
            (at, taken) = (end + 1, taken + 1);
        }
        self.feed.push_integers(&self.glanced);
        self.lines.consume(at, taken);
        self.glanced.len()
    }

    fn fail(&self, problem: Problem) -> Turn {
        let (place, problem) = lines::problem(&self.place, problem, self.lines.limit());
        let problem = format!("stream {}: {problem}", quote(self.name.as_bytes()));
        Turn::Ended(Err(Error::Input { place, problem }))
    }
}

/// The value of line `number` of stream `name`'s source at `place`, `None` for a line
/// that is skipped, or why it is bad.
fn value(place: &str, name: &str, number: u64, line: &[u8]) -> Result<Option<Decimal>, Error> {
    let fail = |problem: String| Error::Input {
        place: format!("{place}:{number}"),
        problem: format!("stream {}: {problem}", quote(name.as_bytes())),
    };
    let value = match fields(line) {
        Fields::Skip => return Ok(None),
        Fields::One(value) => value,
        Fields::Two(own, value) if own == name.as_bytes() => value,
        Fields::Two(other, _) => {
            return Err(fail(format!("{} is not this stream's name", quote(other))));
        }
        Fields::More(own, value, extra) if own == name.as_bytes() => {
            return Err(fail(format::crowded(value, extra)));
        }
        Fields::More(_, _, extra) => return Err(fail(format::unexpected(extra))),
    };
    match decimal::parse(value) {
        Ok(value) => Ok(Some(value)),
        Err(bad) => Err(fail(decimal::why_refused(value, bad))),
    }
}

impl Turns for Reader {
    fn feed(&mut self) -> &mut Feed {
        &mut self.feed
    }

    fn take(&mut self, room: usize) -> Turn {
        if self.glance(room) == room {
            return Turn::Took;
        }
        match self.lines.next() {
            Ok(Next::Line(number, line)) => match value(&self.place, &self.name, number, line) {
                Ok(Some(value)) => self.feed.push(value),
                Ok(None) => {}
                Err(failure) => return Turn::Ended(Err(failure)),
            },
            Ok(Next::Empty) => {
                if !self.feed.send() {
                    return Turn::Stopped;
                }
                if let Err(e) = self.lines.read() {
                    return self.fail(e);
                }
            }
            Ok(Next::End) => return Turn::Ended(Ok(())),
            Err(e) => return self.fail(e),
        }
        Turn::Took
    }

    fn into_feed(self) -> Feed {
        self.feed
    }
}
