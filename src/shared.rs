//! The shared input: one reader thread for the streams declared with `-s NAME`, whose
//! `NAME VALUE` lines come interleaved on one input (stdin, or `--input`).
//!
//! Invariant: each stream's items reach the root in input order, and the reader holds no
//! value while it waits. It waits, like a leaf, only when every stream on it is a window
//! ahead of the merge; otherwise it must read on to reach the slowest one's lines, and
//! then no stream on it may get more than `LEAD` values ahead of the slowest one on it.
//! That bound is counted in the input's lines alone, so whether it is passed does not
//! depend on timing. A line that names no stream on it is the next item of every one.
//! Lines as the output prints them are taken a block at a time, at a glance, and any
//! other line one at a time, with the same outcome.

use std::collections::HashMap;

use crate::decimal;
use crate::error::Error;
use crate::format::{self, Fields, fields};
use crate::input::Input;
use crate::leaf::Feed;
use crate::lines::{self, Lines, Newlines, Next};
use crate::quote::{hint, quote};
use crate::window::Window;

/// How many values the streams on the shared input may run ahead of the slowest one on
/// it, all together: a budget they share, so that memory does not grow with the streams.
pub const LEAD: u64 = 1_000_000;

/// What a name stands for, as the shared input sees it.
pub(crate) enum Name {
    /// The stream at this index of the reader's streams.
    Shared(usize),
    Generated,
    /// A stream with a source of its own (`-f`).
    Own,
}

/// A stream on the shared input.
pub(crate) struct Shared {
    name: String,
    /// `NAME `: how its lines start.
    start: Vec<u8>,
    /// The same as a mask and a value over a line's first 8 bytes, if it is that short.
    key: Option<(u64, u64)>,
    /// `None` once the stream has failed or ended.
    feed: Option<Feed>,
    /// Values read.
    count: u64,
}

impl Shared {
    /// The value of `line` if it is one of this stream's, `NAME INTEGER` in canonical
    /// form; `first` is the line's first 8 bytes, if the block has them, which are compared
    /// with its start in one go.
    #[inline]
    fn value(&self, line: &[u8], first: Option<&[u8]>) -> Option<i64> {
        let rest = match (self.key, first) {
            (Some((mask, key)), Some(first)) => {
                let word = u64::from_le_bytes(first.try_into().unwrap());
                (word & mask == key).then(|| &line[self.start.len()..])
            }
            _ => line.strip_prefix(&self.start[..]),
        };
        rest.and_then(decimal::canonical_integer)
    }

    pub(crate) fn new(name: String, feed: Feed) -> Self {
        let feed = Some(feed);
        let start = format::start(&name);
        let key = (start.len() <= 8).then(|| {
            let mut padded = [0; 8];
            padded[..start.len()].copy_from_slice(&start);
            let mask = u64::MAX >> (64 - 8 * start.len());
            (mask, u64::from_le_bytes(padded))
        });
        Shared {
            key,
            start,
            name,
            feed,
            count: 0,
        }
    }
}

/// The reader's streams, and the slowest of them still live.
struct Streams {
    all: Vec<Shared>,
    /// The fewest values read of a live stream, and how many live streams have read that
    /// many: kept as lines come, recounted only when the last of those moves on.
    min: u64,
    at_min: usize,
    /// How many streams are live, and the values they have read, all together.
    live: u64,
    total: u64,
    /// Values taken at a glance, not sent yet.
    glanced: Vec<i64>,
}

impl Streams {
    fn new(all: Vec<Shared>) -> Self {
        let at_min = all.len();
        Streams {
            live: all.len() as u64,
            all,
            min: 0,
            at_min,
            total: 0,
            glanced: Vec::new(),
        }
    }

    /// Stream `k` has read `n` more values.
    fn took(&mut self, k: usize, n: u64) {
        let count = self.all[k].count;
        self.all[k].count += n;
        self.total += n;
        if n > 0 {
            self.left(count);
        }
    }

    /// How many values the live streams are ahead of the slowest, all together: at most
    /// `LEAD`.
    fn lead(&self) -> u64 {
        self.total - self.live * self.min
    }

    /// Whether one more value of stream `k` would pass the lead bound: it adds one to the
    /// lead, unless `k` is the only slowest stream, which it can only lessen.
    fn passes(&self, k: usize) -> bool {
        let alone = self.all[k].count == self.min && self.at_min == 1;
        !alone && self.lead() >= LEAD
    }

    /// A stream that was at `count` values has moved on, or stopped.
    fn left(&mut self, count: u64) {
        if count == self.min {
            self.at_min -= 1;
            if self.at_min == 0 {
                let live = self.all.iter().filter(|s| s.feed.is_some());
                self.min = live.clone().map(|s| s.count).min().unwrap_or(u64::MAX);
                self.at_min = live.filter(|s| s.count == self.min).count();
            }
        }
    }

    /// Takes the lines at the start of `block` that need no more than a glance, and says
    /// how many bytes and lines they were: stream `k`'s values as the output prints them
    /// (`NAME` and an integer in canonical form), whose lines are copied as they are, and
    /// `merge` lines. Stops at any other line, and where the window (`allowed`) or the
    /// lead bound need a closer look. `None` once the root has hung up.
    fn glance(
        &mut self,
        k: usize,
        block: &[u8],
        allowed: u64,
        limit: usize,
    ) -> Option<(usize, u64)> {
        let (mut at, mut lines, mut run) = (0, 0, 0); // `run`: where the glanced lines start
        let mut room = self.all[k].feed.as_ref()?.batch_room();
        // How many values k may take before the lead bound or the window needs a look: each
        // adds one to the lead at most, and the fewest values on this input can only grow.
        let budget = LEAD - self.lead();
        let mut left = if self.min >= allowed {
            0
        } else if self.all[k].count == self.min {
            (allowed - self.min).min(budget)
        } else {
            budget
        };
        for end in Newlines::new(block) {
            let line = &block[at..end];
            let value = self.all[k].value(line, block.get(at..at + 8));
            match value {
                _ if line.len() > limit => break,
                Some(v) if left > 0 => {
                    if self.glanced.len() == room {
                        room = self.flush(k, &block[run..at])?;
                        run = at;
                    }
                    self.glanced.push(v);
                    left -= 1;
                }
                None if format::is_merge(line) => {
                    if !self.glanced.is_empty() {
                        room = self.flush(k, &block[run..at])?;
                    }
                    run = end + 1;
                }
                _ => break,
            }
            (at, lines) = (end + 1, lines + 1);
        }
        self.flush(k, &block[run..at])?;
        Some((at, lines))
    }

    /// Puts the glanced values, whose lines are `text`, in stream `k`'s batch and, if that
    /// is full, sends it. Returns the room the batch has now; `None` once the root has
    /// hung up.
    fn flush(&mut self, k: usize, text: &[u8]) -> Option<usize> {
        self.took(k, self.glanced.len() as u64);
        let feed = self.all[k].feed.as_mut()?;
        feed.push_copied(&self.glanced, text);
        self.glanced.clear();
        if feed.is_full() && !feed.send() {
            return None;
        }
        Some(feed.batch_room())
    }

    /// The first live stream with the fewest values.
    fn slowest(&self) -> &str {
        let live = self.all.iter().filter(|s| s.feed.is_some());
        live.min_by_key(|s| s.count).map_or("", |s| &s.name)
    }

    /// Sends what every stream holds; false once the root has hung up.
    fn send(&mut self) -> bool {
        (self.all.iter_mut().filter_map(|s| s.feed.as_mut())).all(Feed::send)
    }

    /// Stream `k` fails, at `place`, for `problem`.
    fn fail(&mut self, k: usize, place: String, problem: &str) {
        let stream = &mut self.all[k];
        if let Some(feed) = stream.feed.take() {
            let problem = format!("stream {}: {problem}", quote(stream.name.as_bytes()));
            feed.finish(Err(Error::Input { place, problem }));
            let count = stream.count;
            (self.live, self.total) = (self.live - 1, self.total - count);
            self.left(count);
        }
    }

    /// Every live stream fails, at `place`, for `problem`: the input is over.
    fn fail_all(self, place: &str, problem: &str) {
        for feed in self.all.into_iter().filter_map(|s| s.feed) {
            let (place, problem) = (place.to_string(), problem.to_string());
            feed.finish(Err(Error::Input { place, problem }));
        }
    }
}

/// Why a line naming `name` is refused: `what` says what the name stands for, which is
/// no stream on this input. A name that is no stream's is quoted as the bytes it is.
fn not_here(name: &[u8], what: Option<&Name>) -> String {
    let quoted = quote(name);
    if let Some(Name::Generated) = what {
        let hint = hint(name);
        format!("stream {quoted} is generated (-s {hint}=LO..HI), not read from the input")
    } else if let Some(Name::Own) = what {
        format!("stream {quoted} has a source of its own (-f), not this input")
    } else {
        format!("no stream is named {quoted}: declare it with -s NAME")
    }
}

/// Reads `input` to its end, sending each line's value to its stream in `streams`; `names`
/// says what every name of the run stands for. Stops early once the root has stopped.
pub(crate) fn read(
    input: Input,
    streams: Vec<Shared>,
    names: HashMap<Vec<u8>, Name>,
    window: &Window,
    limit: usize,
) {
    let place = input.place();
    let mut streams = Streams::new(streams);
    let mut lines = match input.open() {
        Ok(reader) => Lines::new(reader, limit, usize::MAX),
        Err(e) => return streams.fail_all(&place, &format!("cannot open: {e}")),
    };
    let mut allowed = 0; // values of the slowest stream the window allowed when last asked
    let mut last: Option<usize> = None; // the stream of the last value: its lines are taken at a glance
    loop {
        if let Some(k) = last.filter(|&k| streams.all[k].feed.is_some()) {
            match streams.glance(k, lines.whole(), allowed, limit) {
                Some((bytes, taken)) => lines.consume(bytes, taken),
                None => return,
            }
        }
        let (number, line) = match lines.next() {
            Ok(Next::Line(number, line)) => (number, line),
            Ok(Next::Empty) => {
                if !streams.send() {
                    return;
                }
                match lines.read() {
                    Ok(()) => continue,
                    Err(e) => {
                        let (place, problem) = lines::problem(&place, e, limit);
                        return streams.fail_all(&place, &problem);
                    }
                }
            }
            Ok(Next::End) => break,
            Err(e) => {
                let (place, problem) = lines::problem(&place, e, limit);
                return streams.fail_all(&place, &problem);
            }
        };
        let at = || format!("{place}:{number}");
        let (name, value) = match fields(line) {
            Fields::Skip => continue,
            Fields::One(name) => (name, Err("has no value".to_string())),
            Fields::Two(name, value) => (name, Ok(value)),
            Fields::More(name, value, extra) => (name, Err(format::crowded(value, extra))),
        };
        let k = match names.get(name) {
            Some(&Name::Shared(k)) => k,
            other => return streams.fail_all(&at(), &not_here(name, other)),
        };
        if streams.all[k].feed.is_none() {
            continue; // past the stream's end: nothing of it counts
        }
        let value = match value
            .map(|value| decimal::parse(value).map_err(|bad| decimal::why_refused(value, bad)))
        {
            Ok(Ok(value)) => value,
            Ok(Err(problem)) | Err(problem) => {
                streams.fail(k, at(), &problem);
                if streams.min == u64::MAX {
                    return; // every stream here has failed: nothing more to read for
                }
                continue;
            }
        };
        if streams.passes(k) {
            let problem = format!(
                "the streams on this input are {LEAD} values ahead of {} in all, as many as it \
                 holds; give {} a source of its own with -f {}=PATH",
                quote(streams.slowest().as_bytes()),
                quote(streams.all[k].name.as_bytes()),
                hint(streams.all[k].name.as_bytes()),
            );
            return streams.fail_all(&at(), &problem);
        }
        if streams.min >= allowed {
            // Every stream here is a window ahead of the merge: wait, as a leaf does.
            if !streams.send() {
                return;
            }
            match window.room(streams.min) {
                Some(room) => allowed = streams.min + room,
                None => return,
            }
        }
        streams.took(k, 1);
        if let Some(feed) = streams.all[k].feed.as_mut() {
            feed.push(value);
            if feed.is_full() && !feed.send() {
                return;
            }
        }
        last = Some(k);
    }
    if streams.send() {
        for feed in streams.all.into_iter().filter_map(|s| s.feed) {
            feed.finish(Ok(()));
        }
    }
}
