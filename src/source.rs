//! Inputs, and the reader of a stream with a source of its own (`-f NAME=PATH`).
//!
//! Invariant: a path is checked with `stat` and `access`, never by opening it, since
//! opening and closing a named pipe strands its writer; it is opened by the thread that
//! reads it, so a pipe whose writer has not come yet holds up no other stream. A source
//! that may wait (a pipe, a FIFO, a terminal) has a thread of its own; regular files,
//! which never wait, share a few, as generated streams share leaves. Each reader is a leaf
//! like the generated ones: it reads no further than the window allows.

use std::ffi::{CString, c_char, c_int, c_short, c_ulong};
use std::fs::{self, File};
use std::io::{self, ErrorKind, Read};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;

use crate::decimal::{self, Decimal};
use crate::error::Error;
use crate::leaf::{Feed, Turn, Turns};
use crate::lines::{self, Fields, Lines, Newlines, Next, Problem, fields};
use crate::quote::{escape, quote};

/// Where lines come from.
#[derive(Debug, PartialEq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
}

/// What messages call stdin.
const STDIN: &str = "<stdin>";

/// What a checked input is, and what it is the same as.
pub(crate) struct Checked {
    /// A pipe, a FIFO or a terminal: one of these read by two streams would give each a
    /// share of its lines that depends on timing. `(device, inode)`.
    pub(crate) waits: Option<(u64, u64)>,
}

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

    /// Whether it can be read as a stream: it exists, is not a directory or a socket, and
    /// is readable. Stdin is taken as it comes.
    pub(crate) fn check(&self) -> io::Result<Checked> {
        let Input::Path(path) = self else {
            let stdin = fs::metadata("/dev/stdin").ok();
            return Ok(Checked {
                waits: stdin.filter(|m| !m.is_file()).map(|m| (m.dev(), m.ino())),
            });
        };
        let metadata = fs::metadata(path)?;
        let kind = metadata.file_type();
        if kind.is_dir() {
            return Err(io::Error::new(ErrorKind::IsADirectory, "is a directory"));
        }
        if kind.is_socket() {
            return Err(io::Error::other(
                "is a socket, which is not read as a stream",
            ));
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
        let waits = (!metadata.is_file() && !kind.is_block_device())
            .then(|| (metadata.dev(), metadata.ino()));
        Ok(Checked { waits })
    }

    /// Whether it is a regular file, read to its end without waiting.
    pub(crate) fn is_file(&self) -> bool {
        matches!(self, Input::Path(path) if fs::metadata(path).is_ok_and(|m| m.is_file()))
    }

    pub(crate) fn open(&self) -> io::Result<Opened> {
        Ok(Opened(match self {
            Input::Stdin => File::from(io::stdin().as_fd().try_clone_to_owned()?),
            Input::Path(path) => File::open(path)?,
        }))
    }
}

/// An open input. A read waits for data even if the descriptor is non-blocking, as a
/// parent process may leave stdin.
pub(crate) struct Opened(File);

impl Read for Opened {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => readable(self.0.as_raw_fd())?,
                read => return read,
            }
        }
    }
}

/// Waits until `fd` can be read, without spinning: `poll(2)`, which std does not offer.
fn readable(fd: c_int) -> io::Result<()> {
    #[repr(C)]
    struct PollFd {
        fd: c_int,
        events: c_short,
        revents: c_short,
    }
    unsafe extern "C" {
        fn poll(fds: *mut PollFd, count: c_ulong, timeout: c_int) -> c_int;
    }
    const POLLIN: c_short = 1;
    let mut one = PollFd {
        fd,
        events: POLLIN,
        revents: 0,
    };
    // SAFETY: `one` is a valid `pollfd` that outlives the call, the count is 1, and a
    // timeout of -1 waits with no end.
    match unsafe { poll(&mut one, 1, -1) } {
        -1 if io::Error::last_os_error().kind() != ErrorKind::Interrupted => {
            Err(io::Error::last_os_error())
        }
        _ => Ok(()),
    }
}

/// How many more files this process may open: its limit (raised to the most it may be
/// first, as a process that opens many files should) less those open now. `None` if the
/// system does not tell.
pub(crate) fn free_descriptors() -> Option<u64> {
    #[repr(C)]
    struct Limit {
        soft: u64,
        hard: u64,
    }
    unsafe extern "C" {
        fn getrlimit(resource: c_int, limit: *mut Limit) -> c_int;
        fn setrlimit(resource: c_int, limit: *const Limit) -> c_int;
    }
    const RLIMIT_NOFILE: c_int = 7;
    let mut limit = Limit { soft: 0, hard: 0 };
    // SAFETY: `limit` is a valid `rlimit` (two 64-bit counts on Linux) that outlives both
    // calls; `getrlimit` writes it, `setrlimit` only reads it.
    unsafe {
        if getrlimit(RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        let raised = Limit {
            soft: limit.hard,
            ..limit
        };
        if setrlimit(RLIMIT_NOFILE, &raised) == 0 {
            limit = raised;
        }
    }
    // Less one: the listing's own descriptor.
    let open = fs::read_dir("/proc/self/fd").ok()?.count() as u64 - 1;
    Some(limit.soft.saturating_sub(open))
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
            let Some(m) = decimal::plain(&block[at..end]) else {
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
        let (place, problem) = self::problem(&self.place, problem, self.lines.limit());
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
            return Err(fail(crowded(value, extra)));
        }
        Fields::More(_, _, extra) => return Err(fail(unexpected(extra))),
    };
    match decimal::parse(value) {
        Ok(value) => Ok(Some(value)),
        Err(bad) => Err(fail(decimal::refusal(value, bad))),
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
