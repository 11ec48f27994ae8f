//! Why a run failed.
//!
//! Invariant: every message is one line in which untrusted text (paths, input, names from
//! input) has been quoted or escaped where it was made (see `quote`); the stream names a
//! variant holds are quoted, and so cut, as the message is written.

use std::fmt;
use std::io;

use crate::decimal::Decimal;
use crate::quote::quote;

#[derive(Debug)]
pub enum Error {
    /// A stream's source panicked; the name is the stream's.
    Panicked(String),
    /// Something is wrong at a place in an input: `PATH:LINE`, or `PATH`.
    Input { place: String, problem: String },
    /// With `--strict`, stream `ended` ended after `after` values while `longer` had more.
    Uneven {
        ended: String,
        after: u64,
        longer: String,
    },
    /// The exact sum of this round, counted from 1, at this time if by time, is outside
    /// `i128`.
    Overflow { round: u64, time: Option<Decimal> },
    /// By time, with `--strict`: stream `stream` has no value at `time`.
    Missing { stream: String, time: Decimal },
    /// The output could not be written; `BrokenPipe` means the reader has gone.
    Write(io::Error),
    /// A thread could not be started, as when the system's limit is reached.
    Spawn(io::Error),
    /// The inputs need `needed` file descriptors at once, and only `free` are free.
    Descriptors { needed: usize, free: u64 },
    /// The arguments ask for what cannot be done, as a usage error does.
    Usage(String),
}

impl Error {
    /// Stream `name`'s source is wrong at `place`, for `problem`.
    #[cold]
    pub(crate) fn of_stream(place: String, name: &str, problem: &str) -> Self {
        let problem = format!("stream {}: {problem}", quote(name.as_bytes()));
        Error::Input { place, problem }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Panicked(name) => write!(f, "stream {} failed", quote(name.as_bytes())),
            Error::Input { place, problem } => write!(f, "{place}: {problem}"),
            Error::Uneven {
                ended,
                after,
                longer,
            } => write!(
                f,
                "stream {} ended after {after} {}, but {} has more (--strict)",
                quote(ended.as_bytes()),
                if *after == 1 { "value" } else { "values" },
                quote(longer.as_bytes()),
            ),
            Error::Overflow { round, time } => {
                match time {
                    Some(time) => write!(f, "merge at time {time}")?,
                    None => write!(f, "merge {round}")?,
                }
                write!(f, ": the exact sum is outside the 128-bit range of sums")
            }
            Error::Missing { stream, time } => write!(
                f,
                "stream {} has no value at time {time} (--strict)",
                quote(stream.as_bytes())
            ),
            Error::Write(e) => write!(f, "cannot write output: {e}"),
            Error::Spawn(e) => write!(f, "cannot start a thread: {e}"),
            Error::Descriptors { needed, free } => write!(
                f,
                "cannot open {needed} inputs at once: only {free} more files can be open \
                 (ulimit -n)"
            ),
            Error::Usage(problem) => write!(f, "{problem}"),
        }
    }
}

impl std::error::Error for Error {}
