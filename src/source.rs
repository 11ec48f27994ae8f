//! Where a stream's values come from, and the reader of a stream with a source of its own
//! (`-f NAME=PATH`).
//!
//! Invariant: a source that may wait (a pipe, a FIFO, a terminal) is opened by the thread
//! that reads it, so a pipe whose writer has not come yet holds up no other stream, and has
//! a thread of its own. A regular file (or a block device: see `input`), whose opening
//! never waits, is opened as its stream is dealt, before any thread has started: once a
//! process has threads, each growth of its table of open files waits for the kernel's
//! other CPUs (an RCU grace period, milliseconds), and a thousand files grow it often.
//! Regular files, which never wait, share a few threads when there are more than those, as
//! generated streams share leaves. Each reader is a leaf like the generated ones: it reads
//! no further than the window allows.

use std::cell::Cell;
use std::io;

use crate::decimal::{self, Decimal};
use crate::error::Error;
use crate::feed::Paced;
use crate::format::{self, Reading, fields};
use crate::input::{Input, Opened};
use crate::later::Before;
use crate::leaf::{Turn, Turns, Values};
use crate::lines::{self, Lines, Newlines, Next, Problem};
use crate::message::{BATCH, Run};
use crate::quote::quote;

thread_local! {
    /// Values of lines taken as printed, not in their batch yet, and where their lines end:
    /// the reading thread's, kept from take to take, as one thread may read a thousand
    /// files in turns, and allocating them for each take cost more than its lines. So each
    /// reader thread keeps less than twice the most a take has held (`reserve` doubles),
    /// two batches' worth at most.
    static TAKEN: Cell<(Run, Vec<usize>)> = Cell::default();
}

/// A named stream and where its values come from.
pub struct Stream {
    pub name: String,
    pub source: Source,
}

/// Where a stream's values come from.
pub enum Source {
    /// Values fed by a leaf thread, alone or in a group, within the window.
    Values(Values),
    /// Values read from the shared input, `NAME VALUE` a line.
    Shared,
    /// Values read from an input of its own, a value a line.
    Own(Input),
}

/// How many bytes the line buffers of a run's regular files take at most together, when
/// there are many: each gets a share, no less than its longest line needs.
const BUFFERS: usize = 8 << 20;

/// A stream with a source of its own, dealt to a thread and not read yet: a source that
/// may wait is opened by the thread that reads it, a regular file (or block device) as it
/// is dealt.
pub(crate) struct Pending {
    input: Input,
    /// A source that never waits, opened as its stream is dealt; `None` for one that may.
    opened: Option<io::Result<Opened>>,
    name: String,
    feed: Paced,
    /// How many bytes its line buffer takes, at least.
    buffer: usize,
    by_time: bool,
}

impl Pending {
    /// Stream `name` read from `input`, one of `files` regular files that share the
    /// memory of their buffers (or the only one of its thread), or a source whose reads
    /// may wait (`waits`).
    pub(crate) fn new(
        input: Input,
        name: String,
        feed: Paced,
        (files, waits): (usize, bool),
        by_time: bool,
    ) -> Self {
        let buffer = BUFFERS / files.max(1);
        Pending {
            opened: (!waits).then(|| input.open()),
            input,
            name,
            feed,
            buffer,
            by_time,
        }
    }

    /// Its reader, its source opened if it is not yet; a source that cannot be opened fails
    /// its stream at its first item.
    fn reader(self) -> Option<Reader> {
        let place = self.input.place();
        let limit = lines::limit(&self.name);
        let waits = self.opened.is_none();
        match self.opened.unwrap_or_else(|| self.input.open()) {
            Ok(opened) => Some(Reader {
                waits,
                lines: Lines::new(opened, limit, self.buffer),
                place,
                name: self.name,
                feed: self.feed,
                by_time: self.by_time,
                before: Before::default(),
            }),
            Err(e) => {
                let failure = Error::of_stream(place, &self.name, &format!("cannot open: {e}"));
                self.feed.finish(Err(failure));
                None
            }
        }
    }
}

/// The readers of a group of regular files, to be read in turns on one thread.
pub(crate) fn readers(group: Vec<Pending>) -> Vec<Reader> {
    group.into_iter().filter_map(Pending::reader).collect()
}

/// Reads one stream, on a thread of its own (a source that may wait, or one of a few
/// regular files), as far as the window allows; stops once the stream has ended or the
/// root has stopped.
pub(crate) fn read(stream: Pending) {
    let Some(mut reader) = stream.reader() else {
        return;
    };
    loop {
        let Some(room) = reader.feed.wait() else {
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
/// name, by time each with its time after the value (see `format::own_reading`); blank,
/// comment and `merge` lines are skipped. Ends the stream at the end of the input, or
/// fails it at the first line that is not so. Before every read that may wait, sends what
/// it holds.
pub(crate) struct Reader {
    lines: Lines<Opened>,
    place: String,
    name: String,
    feed: Paced,
    /// Values come with times; and the time of the last one.
    by_time: bool,
    before: Before,
    /// Its reads may wait. A regular file's (or block device's) never do, so what it holds
    /// is sent when the batch is full, not before every read.
    waits: bool,
}

impl Reader {
    /// Takes the lines as the output prints them, `VALUE`, or by time `VALUE TIME` with each
    /// time after the one before, in canonical form: the common case, a block at a time, as
    /// many as `room` allows, in one run of scales (`Run`). Their lines are the prefix and
    /// the line as it is: written again from the values without times, copied with them.
    /// Any other line is left for a closer look.
    fn take_printed<const BY_TIME: bool>(&mut self, room: usize) -> usize {
        let block = self.lines.whole_lines();
        let (mut at, mut before) = (0, self.before);
        let (mut run, mut ends) = TAKEN.take();
        run.reserve(room.min(BATCH), BY_TIME);
        ends.reserve(room.min(BATCH));
        for end in Newlines::new(block) {
            // A time not after the one before is left to the slow way, which says so.
            let time = BY_TIME.then_some(&mut before);
            let reading = (run.len() < room).then(|| format::printed(block, (at, end), time));
            let Some(reading) = reading.flatten() else {
                break;
            };
            if !run.takes(reading) {
                // Not at the run's scales: the next take reads it again, after the run's
                // last time.
                before = Before::of(run.last_time());
                break;
            }
            run.push(reading);
            ends.push(end);
            at = end + 1;
        }
        let taken = self.feed.produce(|batch, prefix| {
            batch.push_printed(&run, prefix, (block, &ends));
            run.len()
        });
        self.before = before;
        self.lines.consume(at, taken as u64);
        run.clear();
        ends.clear();
        TAKEN.set((run, ends));
        taken
    }

    /// Line `number` is bad, for `problem`: the stream's next item.
    #[cold]
    fn bad(&self, number: u64, problem: String) -> Turn {
        let place = format!("{}:{number}", self.place);
        // Built here, not by `Error::of_stream`: that call laid the reader's loop out
        // otherwise, an instruction a line more (callgrind, by time).
        let problem = format!("stream {}: {problem}", quote(self.name.as_bytes()));
        Turn::Ended(Err(Error::Input { place, problem }))
    }

    fn fail(&self, problem: Problem) -> Turn {
        let (place, problem) = lines::problem(&self.place, problem, self.lines.limit());
        Turn::Ended(Err(Error::of_stream(place, &self.name, &problem)))
    }
}

/// The reading of `line` of stream `name`'s source, `None` for a line that is skipped, or
/// why it is bad. By time, its time must come after `before`, the stream's time before it.
#[inline]
fn reading(
    name: &str,
    line: &[u8],
    by_time: bool,
    before: Option<Decimal>,
) -> Result<Option<Reading>, String> {
    let Some(fields) = fields(line) else {
        return Ok(None);
    };
    let (value, time) = format::own_reading(name, fields, by_time)?;
    if let (Some(time), Some(before)) = (time, before) {
        if decimal::compare(time, before).is_le() {
            return Err(format::not_after(time, before));
        }
    }
    Ok(Some((value, time)))
}

impl Turns for Reader {
    fn feed(&mut self) -> &mut Paced {
        &mut self.feed
    }

    /// Takes lines until `room` values are taken or a read is next, which it does: the
    /// common lines a block at a time, the others one at a time.
    fn take(&mut self, room: usize) -> Turn {
        let mut taken = 0;
        loop {
            let took = if self.by_time {
                self.take_printed::<true>(room - taken)
            } else {
                self.take_printed::<false>(room - taken)
            };
            taken += took;
            if taken == room {
                return Turn::Took;
            }
            if took > 0 {
                continue; // it may have stopped where the scales change
            }
            match self.lines.next() {
                Ok(Next::Line(number, line)) => {
                    match reading(&self.name, line, self.by_time, self.before.time()) {
                        Ok(Some((value, time))) => {
                            self.before = Before::of(time);
                            self.feed.push(value, time);
                            taken += 1;
                        }
                        Ok(None) => {}
                        Err(problem) => return self.bad(number, problem),
                    }
                }
                Ok(Next::Empty) => {
                    if self.waits && !self.feed.send() {
                        return Turn::Stopped;
                    }
                    return match self.lines.read() {
                        Ok(()) => Turn::Took,
                        Err(e) => self.fail(e),
                    };
                }
                Ok(Next::End) => return Turn::Ended(Ok(())),
                Err(e) => return self.fail(e),
            }
        }
    }

    fn into_feed(self) -> Paced {
        self.feed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::Transport;
    use crate::message::Msg;
    use crate::text::Prefix;
    use crate::window::Window;
    use std::sync::Arc;
    use std::sync::mpsc;

    /// Reads `text` as stream `x`'s own source, taking at most `most` values a turn; returns
    /// its values' lines, its mantissas with their scales, and how it ended, its file's
    /// place in a message shown as `PATH`.
    fn read(name: &str, text: &str, most: usize) -> (String, Vec<(i64, u8)>, Result<(), String>) {
        // This process's own: no other run of the tests writes it.
        let file = format!("stream-merge-source-{}-{name}-{most}", std::process::id());
        let path = std::env::temp_dir().join(file);
        std::fs::write(&path, text).unwrap();
        let (tx, rx) = mpsc::sync_channel(1 << 12);
        let (_back, spent) = mpsc::sync_channel(1);
        let prefix = Some(Prefix::new(b"x "));
        let transport = Transport::new(0, prefix, (64, false), (tx, spent));
        let feed = Paced::new(transport, Arc::new(Window::new(u64::MAX, 1)));
        let input = Input::new(path.clone());
        let place = input.place();
        let pending = Pending::new(input, "x".into(), feed, (1, true), false);
        let mut reader = pending.reader().expect("opened");
        std::fs::remove_file(path).unwrap();
        let how = loop {
            let room = reader.feed.wait().unwrap().min(most);
            match reader.take(room) {
                Turn::Took => {}
                Turn::Ended(how) => break how,
                Turn::Stopped => panic!("stopped"),
            }
        };
        reader.feed.finish(Ok(()));
        let (mut lines, mut values) = (String::new(), Vec::new());
        for msg in rx.try_iter() {
            if let Msg::Values(batch) = msg {
                lines += std::str::from_utf8(batch.lines.as_bytes()).unwrap();
                let scales = batch
                    .scales
                    .iter()
                    .flat_map(|&(s, n)| std::iter::repeat_n(s, n));
                values.extend(batch.mantissas.iter().copied().zip(scales));
            }
        }
        let how = how.map_err(|e| e.to_string().replacen(&place, "PATH", 1));
        (lines, values, how)
    }

    #[test]
    fn plain_lines_and_others_give_the_same_values_whatever_the_room() {
        // Lines of other forms, and what each gives: its line and its value, if it is one.
        let others = [
            ("7", Some(("x 7\n", (7, 0)))),
            ("x 12", Some(("x 12\n", (12, 0)))),
            ("-3", Some(("x -3\n", (-3, 0)))),
            ("2.50", Some(("x 2.50\n", (250, 2)))),
            ("# note", None),
            ("", None),
            ("merge 5", None),
            ("+4", Some(("x 4\n", (4, 0)))),
        ];
        let text: String = (0..500)
            .map(|k| format!("{}\n{}\n", others[k % 8].0, k * 37 % 1000))
            .collect();
        let (mut lines, mut values) = (String::new(), Vec::new());
        for k in 0..500 {
            if let (_, Some((line, value))) = others[k % 8] {
                lines += line;
                values.push(value);
            }
            lines += &format!("x {}\n", k * 37 % 1000);
            values.push(((k * 37 % 1000) as i64, 0));
        }
        let expected = (lines, values, Ok(()));
        for most in [usize::MAX, 1, 2, 3, 7, 64] {
            assert_eq!(read("same", &text, most), expected, "{most}");
        }
    }

    #[test]
    fn a_bad_line_ends_the_stream_after_the_values_before_it() {
        for (text, problem) in [
            ("1\n2\ny 3\n", "'y' is not this stream's name"),
            (
                "1\n2\nx 3 4\n",
                "unexpected '4' after the value: lines with a time need --by-time",
            ),
            (
                "1\n2\n3,5\n",
                "'3,5' is not a value: a value is a decimal such as 7, -12, 20.5, .5 or 2.5E3",
            ),
        ] {
            let (lines, values, how) = read("bad", text, usize::MAX);
            assert_eq!(
                (lines.as_str(), values),
                ("x 1\nx 2\n", vec![(1, 0), (2, 0)])
            );
            assert_eq!(how, Err(format!("PATH:3: stream 'x': {problem}")));
        }
    }
}
