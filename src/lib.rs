//! stream-merge: leaf threads feed streams of integers to one root thread, which prints
//! every value and, as soon as every stream has delivered its n-th value, their sum.
//!
//! `cli` turns arguments into a `Config`; `run` builds the streams it names and hands them
//! to `root::merge`, which spawns a `leaf` per stream and merges with the pure `rounds` core.

pub mod cli;
mod leaf;
mod root;
mod rounds;
mod window;

use std::fmt;
use std::io::{self, Write};
use std::time::Instant;

pub use cli::Config;
pub use leaf::{Values, uniform};
pub use root::{Settings, Stream, Summary, merge};
pub use rounds::Rounds;

/// Why a run failed.
#[derive(Debug)]
pub enum Error {
    /// A stream's source panicked; the name is the stream's.
    Failed(String),
    /// The output could not be written; `BrokenPipe` means the reader has gone.
    Write(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Failed(name) => write!(f, "stream '{name}' failed"),
            Error::Write(e) => write!(f, "cannot write output: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Write(e)
    }
}

/// Runs `config`, printing the merge to `out` and, with `--stats`, a summary to `notes`.
pub fn run(config: &Config, out: impl Write, mut notes: impl Write) -> Result<(), Error> {
    let seed = config.seed.unwrap_or_else(rand::random);
    let streams = config.streams.iter().map(|spec| Stream {
        name: spec.name.clone(),
        values: uniform(seed, &spec.name, spec.lo, spec.hi, config.messages),
    });
    let start = Instant::now();
    let summary = merge(streams.collect(), config.settings, out)?;
    if config.stats {
        let seconds = start.elapsed().as_secs_f64();
        let items = summary
            .unmatched
            .iter()
            .map(|(name, left)| format!("{name} {}", summary.merged + *left as u64));
        let _ = write!(
            notes,
            "rounds merged: {}\nitems: {}\nelapsed: {seconds:.3} s\nrounds per second: {:.0}\n",
            summary.merged,
            items.collect::<Vec<_>>().join(", "),
            summary.merged as f64 / seconds,
        );
    }
    Ok(())
}
