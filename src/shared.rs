//! The shared input: one reader thread for the streams declared with `-s NAME`, whose
//! `NAME VALUE` lines come interleaved on one input (stdin, or `--input`).
//!
//! Invariant: each stream's items reach the root in input order, and the reader holds no
//! value while it waits. It waits, like a leaf, only when every stream on it is a window
//! ahead of the merge; otherwise it must read on to reach the slowest one's lines, and
//! then the streams on it may get no more than the lead bound, `LEAD` values or fewer
//! where names are long, ahead of the slowest one on it, all together.
//! That bound is counted in the input's lines alone, so whether it is passed does not
//! depend on timing. A line that names no stream on it is the next item of every one.
//! Lines as the output prints them are taken a block at a time, and any other line one at
//! a time, with the same outcome.

use std::collections::HashMap;
use std::io::Read;
use std::ops::ControlFlow;

use crate::ahead::Ahead;
use crate::decimal::{self, Decimal};
use crate::error::Error;
use crate::feed::Transport;
use crate::format::{self, fields};
use crate::input::Input;
use crate::later::Before;
use crate::lines::{self, Lines, Newlines, Next, Problem};
use crate::message::Run;
use crate::quote::{hint, quote};
use crate::window::Window;

/// How many values the streams on the shared input may run ahead of the slowest one on
/// it, all together, at most: a budget they share, so that memory does not grow with the
/// streams; fewer where their names are long (see `lead_for`).
pub const LEAD: u64 = 1_000_000;

/// How many bytes the lines of the values ahead take at most: each keeps its line to print,
/// and a line is as long as its stream's name, so long names make the lead smaller. Lines
/// of up to 67 bytes (names of up to 22 bytes by time, 44 by position) leave it at `LEAD`.
const LEAD_LINES: u64 = 64 << 20;

/// The lead bound of streams whose values' lines take at most `line` bytes each (0 if no
/// line is kept: merges only).
pub(crate) fn lead_for(line: usize) -> u64 {
    LEAD.min(LEAD_LINES / line.max(1) as u64).max(1)
}

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
    feed: Option<Transport>,
    /// Its number among the run's streams.
    id: usize,
    /// Values read.
    count: u64,
    /// By time, the time of its last value.
    before: Before,
    /// The stream of the line that came after its last run of lines: where streams take
    /// turns in an order, as a logger's lines often do, the next line's most likely, and
    /// a look at its start spares the table's lookup. With its key (see `key`), so that a
    /// wrong guess at a short name costs no look at that stream.
    after: (usize, Option<(u64, u64)>),
}

/// Whether the line at `block[at..]` starts with the start whose first 8 bytes `key` holds,
/// as a mask and a value: `None` if the start is longer, or the block has not 8 bytes there.
#[inline(always)]
fn starts_by_key(key: Option<(u64, u64)>, block: &[u8], at: usize) -> Option<bool> {
    // Found in two comparisons: the range `at..at + 8` would also check that its end does
    // not overflow.
    let ((mask, key), first) = (key?, block.get(at..)?.first_chunk::<8>()?);
    Some(u64::from_le_bytes(*first) & mask == key)
}

impl Shared {
    /// Whether the line at `block[at..]` starts with this stream's start, `NAME `: compared
    /// as the first 8 bytes in one go, if the block has them (`starts_by_key`).
    #[inline]
    fn starts(&self, block: &[u8], at: usize) -> bool {
        starts_by_key(self.key, block, at).unwrap_or_else(|| block[at..].starts_with(&self.start))
    }

    pub(crate) fn new(name: String, id: usize, feed: Transport) -> Self {
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
            id,
            count: 0,
            before: Before::default(),
            after: (usize::MAX, None), // none yet
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
    /// Values taken as printed, not in their batch yet, and by time their times.
    copied: Run,
    /// How many values the live streams may be ahead of the slowest, all together.
    lead: u64,
}

impl Streams {
    fn new(all: Vec<Shared>, lead: u64) -> Self {
        let at_min = all.len();
        Streams {
            live: all.len() as u64,
            all,
            min: 0,
            at_min,
            total: 0,
            copied: Run::default(),
            lead,
        }
    }

    /// Stream `k` has read `n` more values.
    fn count(&mut self, k: usize, n: u64) {
        let count = self.all[k].count;
        self.all[k].count += n;
        self.total += n;
        if n > 0 {
            self.moved_from(count);
        }
    }

    /// How many values the live streams are ahead of the slowest, all together: at most
    /// the lead.
    fn ahead(&self) -> u64 {
        self.total - self.live * self.min
    }

    /// Whether one more value of stream `k` would pass the lead bound: it adds one to the
    /// lead, unless `k` is the only slowest stream, which it can only lessen.
    fn passes(&self, k: usize) -> bool {
        let alone = self.all[k].count == self.min && self.at_min == 1;
        !alone && self.ahead() >= self.lead
    }

    /// A stream that was at `count` values has moved on, or stopped.
    fn moved_from(&mut self, count: u64) {
        if count == self.min {
            self.at_min -= 1;
            if self.at_min == 0 {
                let live = self.all.iter().filter(|s| s.feed.is_some());
                self.min = live.clone().map(|s| s.count).min().unwrap_or(u64::MAX);
                self.at_min = live.filter(|s| s.count == self.min).count();
            }
        }
    }

    /// How many values stream `k` may take before the lead bound or the window, whose edge
    /// for k is `edge`, needs a look: each adds one to the lead at most, and the fewest
    /// values on this input can only grow. By time, `leads` counts the lead, and the window
    /// binds every stream, as each is used at its own pace; by position, only the slowest.
    fn left(&self, k: usize, edge: u64, leads: Option<&Leads>) -> u64 {
        let ahead = leads.map_or_else(|| self.ahead(), |leads| leads.total);
        let budget = self.lead - ahead.min(self.lead);
        if self.min >= edge {
            0
        } else if self.all[k].count == self.min || leads.is_some() {
            (edge.saturating_sub(self.all[k].count)).min(budget)
        } else {
            budget
        }
    }

    /// Takes the lines of `block` from `from` on, whose ends `newlines` gives, that are as
    /// the output prints them, and says where they end and how many lines they were:
    /// stream `k`'s values (`NAME` and a value in canonical form, and by time (`BY_TIME`) a
    /// time in canonical form after the one before), whose lines are copied as they are,
    /// and `merge` lines. Stops at any other line, and where the window (`edge`, stream
    /// k's) or the lead bound need a closer look; by time, `leads` keeps the lead. `None`
    /// once the root has hung up.
    fn take_as_printed<const BY_TIME: bool>(
        &mut self,
        k: usize,
        (block, from, newlines): (&[u8], usize, &mut Newlines),
        (edge, limit): (u64, usize),
        mut leads: Option<&mut Leads>,
    ) -> Option<(usize, u64)> {
        // `run`: where the copied lines start.
        let (mut at, mut lines, mut run) = (from, 0, from);
        let mut room = self.all[k].feed.as_ref()?.room();
        let mut left = self.left(k, edge, leads.as_deref());
        debug_assert_eq!(BY_TIME, leads.is_some(), "by time, the lead is counted");
        // By time only: by position, the time before is never looked at.
        let mut before = if BY_TIME {
            self.all[k].before
        } else {
            Before::default()
        };
        // How k's lines start, kept here: the loop would look them up again at every line.
        let (key, width) = (self.all[k].key, self.all[k].start.len());
        while let Some(end) = newlines.peek() {
            let line = &block[at..end];
            if line.len() > limit {
                break;
            }
            // A line of k's as the output prints it (`format::printed`).
            let ours = || {
                starts_by_key(key, block, at)
                    .unwrap_or_else(|| block[at..].starts_with(&self.all[k].start))
            };
            let time = BY_TIME.then_some(&mut before);
            let reading = (left > 0 && at + width <= end && ours())
                .then(|| format::printed(block, (at + width, end), time));
            match reading.flatten() {
                Some(reading) => {
                    if self.copied.len() == room || !self.copied.takes(reading) {
                        room = self.flush(k, &block[run..at], leads.as_deref_mut())?;
                        run = at;
                    }
                    self.copied.push(reading);
                    left -= 1;
                }
                None if format::is_merge(line) => {
                    if self.copied.len() > 0 {
                        room = self.flush(k, &block[run..at], leads.as_deref_mut())?;
                    }
                    run = end + 1;
                }
                _ => break,
            }
            newlines.advance();
            (at, lines) = (end + 1, lines + 1);
        }
        if BY_TIME {
            self.all[k].before = before;
        }
        self.flush(k, &block[run..at], leads)?;
        Some((at, lines))
    }

    /// Takes the line of `block` at `from`, whose end `newlines` gives, if it is stream `k`'s
    /// value as the output prints it and the bounds let it, as `take_as_printed` takes a run
    /// of that one line, and says the same; but with none of a run's bookkeeping, which
    /// costs more than the line where the lines of many streams interleave and most runs are
    /// one line. The line starts with k's `NAME `, as the caller has found. A batch that is
    /// full is sent at once, so it has room for the value.
    #[inline]
    fn take_one<const BY_TIME: bool>(
        &mut self,
        k: usize,
        (block, from, newlines): (&[u8], usize, &mut Newlines),
        (edge, limit): (u64, usize),
        leads: Option<&mut Leads>,
    ) -> Option<(usize, u64)> {
        let fits = self.left(k, edge, leads.as_deref()) > 0;
        let stream = &mut self.all[k];
        debug_assert!(stream.starts(block, from), "a line of k's");
        let at = from + stream.start.len();
        let Some(end) = newlines.peek().filter(|&end| fits && end - from <= limit) else {
            return Some((from, 0));
        };
        let mut before = stream.before;
        let time = BY_TIME.then_some(&mut before);
        let Some(reading) = format::printed(block, (at, end), time) else {
            return Some((from, 0));
        };
        stream.before = before;
        self.count(k, 1);
        if let (Some(leads), Some(time)) = (leads, reading.1) {
            leads.extend(k, (&[time.mantissa()], time.scale()));
        }
        let feed = self.all[k].feed.as_mut().expect("a live stream");
        feed.push_line(reading, &block[from..end + 1]);
        newlines.advance();
        feed.send_full().then_some((end + 1, 1))
    }

    /// Puts the copied values, whose lines are `text`, in stream `k`'s batch and, if that
    /// is full, sends it; by time, `leads` counts their times. Returns the room the batch
    /// has now; `None` once the root has hung up.
    fn flush(&mut self, k: usize, text: &[u8], leads: Option<&mut Leads>) -> Option<usize> {
        self.count(k, self.copied.len() as u64);
        if let Some(leads) = leads {
            leads.extend(k, self.copied.times());
        }
        let feed = self.all[k].feed.as_mut()?;
        feed.push_copied(&self.copied, text);
        self.copied.clear();
        if !feed.send_full() {
            return None;
        }
        Some(feed.room())
    }

    /// Appends a value of stream `k`, which is live, at `time` by time; `Break` once the
    /// root has hung up.
    fn push(&mut self, k: usize, value: Decimal, time: Option<Decimal>) -> ControlFlow<()> {
        self.count(k, 1);
        self.all[k].before = Before::of(time);
        let feed = self.all[k].feed.as_mut().expect("a live stream");
        feed.push(value, time);
        if feed.send_full() {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    }

    /// The first live stream with the fewest values.
    fn slowest(&self) -> &str {
        let live = self.all.iter().filter(|s| s.feed.is_some());
        live.min_by_key(|s| s.count).map_or("", |s| &s.name)
    }

    /// Sends what every stream holds; false once the root has hung up.
    fn send(&mut self) -> bool {
        (self.all.iter_mut().filter_map(|s| s.feed.as_mut())).all(Transport::send)
    }

    /// Stream `k` fails, at `place`, for `problem`.
    fn fail(&mut self, k: usize, place: String, problem: &str) {
        let stream = &mut self.all[k];
        if let Some(feed) = stream.feed.take() {
            feed.finish(Err(Error::of_stream(place, &stream.name, problem)));
            let count = stream.count;
            (self.live, self.total) = (self.live - 1, self.total - count);
            self.moved_from(count);
        }
    }

    /// Every live stream fails, at `place`, for `problem`: the input is over.
    fn fail_all(&mut self, place: &str, problem: &str) {
        for feed in self.all.iter_mut().filter_map(|s| s.feed.take()) {
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

/// By time, how far the streams on the shared input are ahead of the slowest one: the
/// values of each that are later than the latest time of the slowest, all together. Kept
/// as lines come, from the input's content alone. Times compare at the largest scale (see
/// `decimal::at_max_scale`), as integers; those ahead are kept in runs (see `ahead`).
struct Leads {
    /// Per stream: the times of its values later than `slowest`, its latest time, and
    /// whether it is live.
    later: Vec<Ahead>,
    latest: Vec<Option<i128>>,
    live: Vec<bool>,
    /// The latest time of the slowest live stream (`None` while one has no value yet, as
    /// if it were before every time), and how many live streams are at it.
    slowest: Option<i128>,
    at_slowest: usize,
    /// The values later than `slowest`, of every stream.
    total: u64,
}

impl Leads {
    fn new(streams: usize) -> Self {
        Leads {
            later: vec![Ahead::default(); streams],
            latest: vec![None; streams],
            live: vec![true; streams],
            slowest: None,
            at_slowest: streams,
            total: 0,
        }
    }

    /// Counts a value of stream `k` at `time`, later than its own before; true if that
    /// takes the streams past `lead`, the bound.
    fn add(&mut self, k: usize, time: Decimal, lead: u64) -> bool {
        self.extend(k, (&[time.mantissa()], time.scale()));
        self.total > lead
    }

    /// Counts values of stream `k` at `times` at one scale, increasing and later than its
    /// own before, in one go: the same as one by one, as what is counted depends only on
    /// the times. The caller makes sure that they do not take the streams past the bound,
    /// as each adds one to the lead at most.
    fn extend(&mut self, k: usize, (times, scale): (&[i64], u8)) {
        let Some(&last) = times.last() else { return };
        let was_slowest = self.is_slowest(k);
        self.later[k].extend(times, scale);
        self.total += times.len() as u64;
        self.latest[k] = Some(decimal::at_max_scale(last, scale));
        if was_slowest {
            self.left_slowest();
        }
    }

    /// Stream `k` has failed: it counts no more.
    fn remove(&mut self, k: usize) {
        let was_slowest = self.is_slowest(k);
        self.live[k] = false;
        self.total -= self.later[k].len();
        self.later[k].clear();
        if was_slowest {
            self.left_slowest();
        }
    }

    fn is_slowest(&self, k: usize) -> bool {
        self.live[k] && self.latest[k] == self.slowest
    }

    /// A stream has moved on from the slowest time, or stopped: once none is left there,
    /// the slowest is found again, and what is no longer later than it no longer counts.
    fn left_slowest(&mut self) {
        self.at_slowest -= 1;
        if self.at_slowest > 0 {
            return;
        }
        let live = (0..self.live.len()).filter(|&k| self.live[k]);
        // `None`, no time yet, is before every time, as `Option`'s order has it.
        self.slowest = live.clone().map(|k| self.latest[k]).min().flatten();
        self.at_slowest = live.filter(|&k| self.is_slowest(k)).count();
        if let Some(slowest) = self.slowest {
            for later in &mut self.later {
                self.total -= later.drop_until(slowest);
            }
        }
    }

    /// The first live stream at the slowest time.
    fn slowest_stream(&self) -> usize {
        (0..self.live.len())
            .find(|&k| self.is_slowest(k))
            .unwrap_or(0)
    }
}

/// Which stream here a line starts with, found by its first field's hash in a table made
/// for the names on this input: the fast path's lookup, a few instructions where a general
/// hash map would cost more than the rest of the line.
///
/// Invariant: open addressing, at most half full, so every probe ends at an empty slot.
struct Starts {
    /// Each slot: a stream's index plus one, or 0 for none.
    slots: Vec<u32>,
    mask: usize,
}

impl Starts {
    fn new(streams: &[Shared]) -> Self {
        let size = (2 * streams.len()).next_power_of_two().max(2);
        let mut starts = Starts {
            slots: vec![0; size],
            mask: size - 1,
        };
        for (k, stream) in streams.iter().enumerate() {
            let mut i = Self::hash(stream.name.as_bytes()) & starts.mask;
            while starts.slots[i] != 0 {
                i = (i + 1) & starts.mask;
            }
            starts.slots[i] = u32::try_from(k + 1).expect("streams fit in a u32");
        }
        starts
    }

    /// A hash of `name`: each whole word of its bytes and its last eight (or, if it is
    /// shorter, its bytes as one word), so that every byte counts, each mixed in by a
    /// multiplication by the golden ratio's odd constant and a rotation. Loads whole words
    /// only: a copy into a padded word would cost more than the rest of the lookup.
    #[inline]
    fn hash(name: &[u8]) -> usize {
        if name.len() < 8 {
            // Its bytes as a little-endian word, as `find` loads them from a line.
            return Self::short(
                name.len(),
                name.iter().rev().fold(0, |w, &b| w << 8 | u64::from(b)),
            );
        }
        let word = |bytes: &[u8]| u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        let mut hash = Self::mix(0, name.len() as u64);
        for chunk in name.chunks_exact(8) {
            hash = Self::mix(hash, word(chunk));
        }
        hash = Self::mix(hash, word(&name[name.len() - 8..]));
        (hash ^ (hash >> 32)) as usize
    }

    /// `hash` of a name of `len` bytes, below 8, that are the low bytes of `word`, the rest
    /// zeros.
    #[inline]
    fn short(len: usize, word: u64) -> usize {
        let hash = Self::mix(Self::mix(0, len as u64), word);
        (hash ^ (hash >> 32)) as usize
    }

    #[inline]
    fn mix(hash: u64, word: u64) -> u64 {
        (hash ^ word)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29)
    }

    /// The stream here whose name is the first field of the line at the start of `block`:
    /// the field's end and, for a short name, its hash found in the line's first 8 bytes,
    /// loaded as one word.
    #[inline]
    fn find(&self, all: &[Shared], block: &[u8]) -> Option<usize> {
        let first = block
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
        let ends = first.map_or(0, |w| lines::marks_of(w, b' ') | lines::marks_of(w, b'\n'));
        let hash = match (ends.trailing_zeros() / 8) as usize {
            0 => return None, // no name
            end @ 1..8 => {
                let word = first.expect("8 bytes") & (u64::MAX >> (64 - 8 * end));
                Self::short(end, word)
            }
            _ => Self::hash(&block[..block.iter().position(|&b| b == b' ' || b == b'\n')?]),
        };
        let mut i = hash & self.mask;
        loop {
            let k = (self.slots[i] as usize).checked_sub(1)?;
            if all[k].starts(block, 0) {
                return Some(k);
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// Reads `input` to its end, sending each line's value to its stream in `streams`; `names`
/// says what every name of the run stands for. Lines are at most `limit` bytes, and the
/// streams at most `lead` values ahead (see `lead_for`). Stops early once the root has
/// stopped.
pub(crate) fn read(
    input: Input,
    streams: Vec<Shared>,
    names: HashMap<Vec<u8>, Name>,
    window: &Window,
    (limit, lead, by_time): (usize, u64, bool),
) {
    let count = streams.len();
    let starts = Starts::new(&streams);
    // A regular file is read to its end without waiting: what the streams hold is sent as
    // their batches fill, or before the reader waits for the window.
    let waits = !input.never_waits();
    let mut reader = Reader {
        place: input.place(),
        edges: vec![0; count],
        leads: Leads::new(count),
        streams: Streams::new(streams, lead),
        starts,
        names,
        window,
        limit,
        by_time,
        with_room: 0,
        last: None,
    };
    let mut lines = match input.open() {
        Ok(opened) => Lines::new(opened, limit, usize::MAX),
        Err(e) => {
            return reader
                .streams
                .fail_all(&reader.place, &format!("cannot open: {e}"));
        }
    };
    loop {
        if reader.take_as_printed(&mut lines).is_break() {
            return;
        }
        let flow = match lines.next() {
            Ok(Next::Line(number, line)) => reader.line(number, line),
            Ok(Next::Empty) if waits && !reader.streams.send() => return,
            Ok(Next::Empty) => match lines.read() {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => reader.unreadable(e),
            },
            Ok(Next::End) => return reader.end(),
            Err(e) => reader.unreadable(e),
        };
        if flow.is_break() {
            return;
        }
    }
}

/// The shared input's reader, between lines.
struct Reader<'a> {
    /// How messages name the input.
    place: String,
    streams: Streams,
    names: HashMap<Vec<u8>, Name>,
    /// The streams here, by name, for the fast path.
    starts: Starts,
    window: &'a Window,
    limit: usize,
    by_time: bool,
    /// Each stream's edge in the window, when last asked.
    edges: Vec<u64>,
    /// A stream that had room in the window when last looked at: while it has, the reader
    /// need not wait.
    with_room: usize,
    /// By time, how far the streams are ahead of the slowest.
    leads: Leads,
    /// The stream of the last value: its next lines are taken as printed, a block at a
    /// time.
    last: Option<usize>,
}

impl Reader<'_> {
    /// Takes the lines of the last value's stream, as the output prints them, at the start
    /// of what `lines` holds, then those of the stream the next line names, if it is another
    /// one here, and so on. Ends at a line that its own stream does not take: that one
    /// needs a closer look. `Break` once the root has hung up.
    fn take_as_printed(&mut self, lines: &mut Lines<impl Read>) -> ControlFlow<()> {
        let block = lines.whole_lines();
        // One pass over the block's newlines for all the streams it holds.
        let mut newlines = Newlines::new(block);
        let (mut at, mut count) = (0, 0);
        // Whether the last run was one line: then the next one most likely is too, and its
        // line is taken alone.
        let mut one = false;
        while let Some(k) = self.last.filter(|&k| self.streams.all[k].feed.is_some()) {
            let leads = self.by_time.then_some(&mut self.leads);
            let bounds = (self.edges[k], self.limit);
            let cursor = (block, at, &mut newlines);
            let streams = &mut self.streams;
            let taken = match (one, self.by_time) {
                (true, true) => streams.take_one::<true>(k, cursor, bounds, leads),
                (true, false) => streams.take_one::<false>(k, cursor, bounds, leads),
                (false, true) => streams.take_as_printed::<true>(k, cursor, bounds, leads),
                (false, false) => streams.take_as_printed::<false>(k, cursor, bounds, leads),
            };
            let Some((end, taken)) = taken else {
                return ControlFlow::Break(());
            };
            (at, count) = (end, count + taken);
            match self.next_stream(k, &block[at..]) {
                Some(j) if j != k => (self.last, one) = (Some(j), taken == 1),
                // The line taken alone starts a run of k's: taken as one.
                Some(_) if one && taken == 1 => one = false,
                _ => break,
            }
        }
        lines.consume(at, count);
        ControlFlow::Continue(())
    }

    /// The stream here whose line starts `rest`, which follows a run of stream `k`'s: the
    /// one that came after k's last time, if `rest` starts with its `NAME ` (all that `find`
    /// makes sure of what it finds), or else the one `find` finds, which k then keeps.
    #[inline]
    fn next_stream(&mut self, k: usize, rest: &[u8]) -> Option<usize> {
        let all = &mut self.streams.all;
        let (after, key) = all[k].after;
        let guessed = starts_by_key(key, rest, 0)
            .unwrap_or_else(|| all.get(after).is_some_and(|s| rest.starts_with(&s.start)));
        if guessed {
            return Some(after);
        }
        let next = self.starts.find(all, rest);
        if let Some(j) = next.filter(|&j| j != k) {
            all[k].after = (j, all[j].key);
        }
        next
    }

    /// Takes line `number`, one the slow way. `Break` once there is nothing more to read
    /// for: the input failed every stream, they have all failed, or the root hung up.
    fn line(&mut self, number: u64, line: &[u8]) -> ControlFlow<()> {
        let Some([name, value, time, extra]) = fields(line) else {
            return ControlFlow::Continue(());
        };
        let k = match self.names.get(name) {
            Some(&Name::Shared(k)) => k,
            other => return self.fail_all(number, &not_here(name, other)),
        };
        if self.streams.all[k].feed.is_none() {
            return ControlFlow::Continue(()); // past the stream's end: nothing of it counts
        }
        let parsed = match value {
            [] => Err(format::no_value(self.by_time)),
            _ => format::reading(&[value, time, extra], self.by_time),
        };
        let parsed =
            parsed.and_then(
                |(value, time)| match (time, self.streams.all[k].before.time()) {
                    (Some(time), Some(before)) if decimal::compare(time, before).is_le() => {
                        Err(format::not_after(time, before))
                    }
                    _ => Ok((value, time)),
                },
            );
        let (value, time) = match parsed {
            Ok(reading) => reading,
            Err(problem) => {
                self.streams.fail(k, self.at(number), &problem);
                self.leads.remove(k);
                if self.streams.live == 0 {
                    return ControlFlow::Break(()); // every stream here has failed
                }
                return ControlFlow::Continue(());
            }
        };
        let passes = match time {
            Some(time) => self.leads.add(k, time, self.streams.lead),
            None => self.streams.passes(k),
        };
        if passes {
            let slowest = match time {
                Some(_) => &self.streams.all[self.leads.slowest_stream()].name,
                None => self.streams.slowest(),
            };
            let problem = format!(
                "the streams on this input are {} values ahead of {} in all, as many as it \
                 holds; give {} a source of its own with -f {}=PATH",
                self.streams.lead,
                quote(slowest.as_bytes()),
                quote(self.streams.all[k].name.as_bytes()),
                hint(self.streams.all[k].name.as_bytes()),
            );
            return self.fail_all(number, &problem);
        }
        if self.at_edge(k) && self.wait().is_break() {
            return ControlFlow::Break(());
        }
        self.last = Some(k);
        self.streams.push(k, value, time)
    }

    /// Whether stream `k`, and every other live stream here, is at its edge in the window,
    /// as it stands: then the reader waits, as a leaf does. Otherwise it reads on, to reach
    /// the lines of a stream with room, which the merge may be waiting for.
    fn at_edge(&mut self, k: usize) -> bool {
        if self.has_room(k) || self.has_room(self.with_room) {
            return false;
        }
        // Every stream's edge, asked once: the one with the most room stands for them all
        // until it has none.
        self.ask_edges();
        let all = &self.streams.all;
        let room = |j: usize| match all[j].feed {
            Some(_) => self.edges[j].saturating_sub(all[j].count),
            None => 0,
        };
        match (0..all.len())
            .max_by_key(|&j| room(j))
            .filter(|&j| room(j) > 0)
        {
            Some(j) => {
                self.with_room = j;
                false
            }
            None => true,
        }
    }

    /// Whether stream `j` is live and below its edge, asking the window again if its edge,
    /// as last asked, says no.
    fn has_room(&mut self, j: usize) -> bool {
        let stream = &self.streams.all[j];
        if stream.feed.is_none() {
            return false;
        }
        if stream.count < self.edges[j] {
            return true;
        }
        self.edges[j] = self.window.edge(stream.id).unwrap_or(0);
        stream.count < self.edges[j]
    }

    /// Sends what every stream holds and waits until one of them has room in the window.
    /// `Break` once the root has stopped.
    fn wait(&mut self) -> ControlFlow<()> {
        let all = &self.streams.all;
        let live = all.iter().filter(|s| s.feed.is_some());
        let places: Vec<(usize, u64)> = live.map(|s| (s.id, s.count)).collect();
        if !self.streams.send() || !self.window.wait_any(&places) {
            return ControlFlow::Break(());
        }
        self.ask_edges();
        ControlFlow::Continue(())
    }

    /// Asks the window for every stream's edge, into `edges`.
    fn ask_edges(&mut self) {
        let ids: Vec<usize> = self.streams.all.iter().map(|s| s.id).collect();
        self.window.edges_of(&ids, &mut self.edges);
    }

    /// `PATH:LINE` for line `number`.
    fn at(&self, number: u64) -> String {
        format!("{}:{number}", self.place)
    }

    /// Line `number` is every live stream's next item, a failure: the input is over.
    fn fail_all(&mut self, number: u64, problem: &str) -> ControlFlow<()> {
        self.streams.fail_all(&self.at(number), problem);
        ControlFlow::Break(())
    }

    /// The input could not be read on: every live stream fails.
    fn unreadable(&mut self, problem: Problem) -> ControlFlow<()> {
        let (place, problem) = lines::problem(&self.place, problem, self.limit);
        self.streams.fail_all(&place, &problem);
        ControlFlow::Break(())
    }

    /// The input has ended: so has every live stream.
    fn end(mut self) {
        if self.streams.send() {
            for feed in self.streams.all.iter_mut().filter_map(|s| s.feed.take()) {
                feed.finish(Ok(()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Msg;
    use crate::text::Prefix;
    use std::sync::mpsc::{self, Receiver};

    /// Streams on the shared input named `names`, with the channel their batches go to.
    fn streams(names: &[&str]) -> (Streams, Receiver<Msg>) {
        let (tx, rx) = mpsc::sync_channel(64);
        let all = names
            .iter()
            .enumerate()
            .map(|(k, &name)| {
                let (_, spent) = mpsc::sync_channel(1);
                let prefix = Prefix::new(&format::start(name));
                let transport = Transport::new(k, Some(prefix), (16, false), (tx.clone(), spent));
                Shared::new(name.to_string(), k, transport)
            })
            .collect();
        (Streams::new(all, LEAD), rx)
    }

    /// What the streams have sent: each batch's stream, values and lines.
    fn sent(streams: &mut Streams, rx: &Receiver<Msg>) -> Vec<(usize, Vec<i64>, String)> {
        assert!(streams.send());
        let batch = |msg| match msg {
            Msg::Values(batch) => {
                let lines = String::from_utf8(batch.lines.as_bytes().to_vec()).unwrap();
                (batch.stream, batch.mantissas, lines)
            }
            _ => panic!("a batch"),
        };
        rx.try_iter().map(batch).collect()
    }

    #[test]
    fn the_lead_is_as_many_values_as_64_mib_of_their_longest_lines_at_most() {
        assert_eq!(lead_for(0), LEAD); // merges only: no line is kept
        assert_eq!(lead_for(67), LEAD);
        assert_eq!(lead_for(68), LEAD_LINES / 68);
        assert_eq!(lead_for(10_023), 6695);
        assert_eq!(lead_for(usize::MAX), 1);
    }

    #[test]
    fn the_slowest_streams_are_counted_as_values_come() {
        let (mut streams, _rx) = streams(&["a", "b", "c"]);
        assert_eq!((streams.min, streams.at_min, streams.ahead()), (0, 3, 0));
        streams.count(0, 2);
        assert_eq!((streams.min, streams.at_min, streams.ahead()), (0, 2, 2));
        streams.count(1, 1);
        assert_eq!((streams.min, streams.at_min, streams.ahead()), (0, 1, 3));
        streams.count(2, 4); // the last at the minimum moves on: counted again
        assert_eq!((streams.min, streams.at_min, streams.ahead()), (1, 1, 4));
        assert_eq!(streams.slowest(), "b");
    }

    #[test]
    fn a_failure_moves_the_slowest_and_takes_its_lead_out() {
        let (mut streams, _rx) = streams(&["a", "b", "c"]);
        streams.count(1, 2);
        streams.count(2, 3);
        streams.fail(0, "in:1".to_string(), "bad");
        assert_eq!((streams.min, streams.at_min, streams.live), (2, 1, 2));
        assert_eq!((streams.ahead(), streams.slowest()), (1, "b"));
        streams.fail(1, "in:2".to_string(), "bad");
        streams.fail(2, "in:3".to_string(), "bad");
        assert_eq!((streams.live, streams.ahead()), (0, 0));
    }

    #[test]
    fn the_lead_is_one_budget_that_only_the_slowest_alone_may_pass_at() {
        let (mut three, _rx) = streams(&["a", "b", "c"]);
        three.count(0, LEAD / 2);
        three.count(1, LEAD / 2);
        assert_eq!(three.ahead(), LEAD);
        assert!(three.passes(0) && three.passes(1));
        assert!(!three.passes(2), "the slowest alone lessens the lead");
        let (mut two_slowest, _rx) = streams(&["a", "b", "c"]);
        two_slowest.count(0, LEAD);
        assert!(
            two_slowest.passes(1),
            "one of two at the minimum adds to the lead"
        );
        let (mut alone, _rx) = streams(&["a", "b"]);
        alone.count(0, LEAD);
        assert!(!alone.passes(1));
        alone.count(1, 1);
        assert_eq!(alone.ahead(), LEAD - 1);
    }

    #[test]
    fn lines_as_printed_are_copied_and_a_merge_line_breaks_the_run() {
        let (mut streams, rx) = streams(&["x", "y"]);
        let block = b"x 1\nx 2\nmerge 3\nx -4\nx 05\ny 6\n";
        let taken = streams.take_as_printed::<false>(
            0,
            (block, 0, &mut Newlines::new(block)),
            (u64::MAX, 4096),
            None,
        );
        assert_eq!(taken, Some((21, 4))); // x 05 is not as printed: a closer look
        assert_eq!(streams.all[0].count, 3);
        let expected = [(0, vec![1, 2], "x 1\nx 2\n"), (0, vec![-4], "x -4\n")];
        let expected = expected.map(|(k, m, l)| (k, m, l.to_string()));
        let sent = sent(&mut streams, &rx);
        let lines: String = sent.iter().map(|s| s.2.clone()).collect();
        let values: Vec<i64> = sent.iter().flat_map(|s| s.1.clone()).collect();
        assert_eq!(
            lines,
            expected.iter().map(|e| e.2.clone()).collect::<String>()
        );
        assert_eq!(values, [1, 2, -4]);
    }

    #[test]
    fn lines_as_printed_stop_at_the_window_and_at_the_lead() {
        let (mut streams, _rx) = streams(&["x", "y"]);
        let block = "x 1\n".repeat(10);
        // x is the slowest: the window, which allows 3 of its values, stops it.
        let taken = streams.take_as_printed::<false>(
            0,
            (block.as_bytes(), 0, &mut Newlines::new(block.as_bytes())),
            (3, 4096),
            None,
        );
        assert_eq!(taken, Some((12, 3)));
        // y, at 0 values, is the slowest now; x may go as far as the lead allows.
        streams.count(0, LEAD - 3 - 2);
        let taken = streams.take_as_printed::<false>(
            0,
            (block.as_bytes(), 0, &mut Newlines::new(block.as_bytes())),
            (3, 4096),
            None,
        );
        assert_eq!(taken, Some((8, 2)));
        assert_eq!(streams.ahead(), LEAD);
    }

    #[test]
    fn a_line_taken_alone_stops_where_a_run_of_that_line_stops() {
        // x's line, with x and y at every order of counts, the window's edge around them,
        // and the lead bound reached or not; by position and by time.
        for timed in [false, true] {
            let line: &[u8] = if timed { b"x 1 7\n" } else { b"x 1\n" };
            for (x, y) in [(0, 0), (0, 3), (3, 0), (3, 3)] {
                for edge in [0, 1, 3, 4, 5] {
                    for full in [false, true] {
                        let take = |one: bool| {
                            let (mut streams, _rx) = streams(&["x", "y"]);
                            let mut leads = Leads::new(2);
                            streams.count(0, x);
                            streams.count(1, y);
                            leads.extend(0, (&[1, 2, 3][..x as usize], 0));
                            leads.extend(1, (&[1, 2, 3][..y as usize], 0));
                            if full {
                                streams.lead = if timed { leads.total } else { streams.ahead() };
                            }
                            let cursor = (line, 0, &mut Newlines::new(line));
                            let taken = match (one, timed) {
                                (true, true) => streams.take_one::<true>(
                                    0,
                                    cursor,
                                    (edge, 64),
                                    Some(&mut leads),
                                ),
                                (true, false) => {
                                    streams.take_one::<false>(0, cursor, (edge, 64), None)
                                }
                                (false, true) => streams.take_as_printed::<true>(
                                    0,
                                    cursor,
                                    (edge, 64),
                                    Some(&mut leads),
                                ),
                                (false, false) => {
                                    streams.take_as_printed::<false>(0, cursor, (edge, 64), None)
                                }
                            };
                            let state = (streams.all[0].count, streams.min, streams.at_min);
                            (taken, state, streams.total, leads.total, leads.slowest)
                        };
                        let case = (timed, x, y, edge, full);
                        assert_eq!(take(true), take(false), "{case:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_table_of_starts_finds_every_stream_by_its_first_field_and_no_other_name() {
        let long = "a_name_longer_than_sixteen_bytes";
        let mut names: Vec<String> = (0..300).map(|k| format!("s{k}")).collect();
        names.extend((0..50).map(|k| format!("{long}{k}")));
        let edges = [
            "y",
            "abcdeZ",
            "abcdefZ",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmnop",
        ];
        names.extend(edges.map(String::from));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let (streams, _rx) = streams(&refs);
        let starts = Starts::new(&streams.all);
        for (k, name) in names.iter().enumerate() {
            for line in [format!("{name} 1\nnext 2\n"), format!("{name} 1")] {
                assert_eq!(
                    starts.find(&streams.all, line.as_bytes()),
                    Some(k),
                    "{line}"
                );
            }
        }
        for line in [
            "s300 1\n",
            "s1\n",
            "s 1\n",
            "s12x 1\n",
            "abcdefg 1\n",
            "merge 3\n",
            "",
            " y 1\nnext 2\n",
            "\ny 1\nnext 2\n",
            "abcdefZZ 1\n",
        ] {
            assert_eq!(starts.find(&streams.all, line.as_bytes()), None, "{line}");
        }
        let other = format!("{long}9x 1\n");
        assert_eq!(starts.find(&streams.all, other.as_bytes()), None);
    }

    #[test]
    fn a_streams_start_is_matched_in_one_word_or_byte_by_byte() {
        for name in ["x", "abcdef", "abcdefg", "abcdefgh", "a_rather_long_name"] {
            let (streams, _rx) = streams(&[name]);
            let stream = &streams.all[0];
            assert_eq!(stream.key.is_some(), name.len() < 8, "{name}");
            for (line, ours) in [
                (format!("{name} 12"), true),
                (format!("{name}  12"), true),
                (format!("{name} "), true),
                (format!("{name}z 12"), false),
                (format!("z{name} 12"), false),
                (format!("{name}\t12"), false),
                (name.to_string(), false),
            ] {
                let mut block = line.clone().into_bytes();
                let short = block.len();
                block.extend(b"\npadding\n");
                assert_eq!(stream.starts(&block, 0), ours, "{line:?}");
                assert_eq!(stream.starts(&block[..short], 0), ours, "{line:?}: no word");
            }
        }
    }
}
