//! stream-merge: leaf threads feed streams of integers to one root thread, which prints
//! every value and, as soon as every stream has delivered its n-th value, their sum.
//!
//! `cli` turns arguments into a `Config`; `run` builds the streams it names and hands them
//! to `merge`, in `root`, which spawns a `leaf` per generated stream and an `input` reader
//! for the external ones, takes their `message`s, and merges with the pure `rounds` core.

pub mod cli;
mod input;
mod leaf;
mod message;
mod root;
mod rounds;
mod window;

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::Instant;

pub use cli::Config;
pub use leaf::{Values, uniform};
pub use root::{Settings, Source, Stream, Summary, merge};

/// Why a run failed.
#[derive(Debug)]
pub enum Error {
    /// A stream's source panicked; the name is the stream's.
    Failed(String),
    /// The output could not be written; `BrokenPipe` means the reader has gone.
    Write(io::Error),
    /// The input file could not be opened.
    Open(PathBuf, io::Error),
    /// The input could not be read.
    Read(io::Error),
    /// A line of the input is bad.
    Input { line: u64, problem: String },
    /// A thread could not be started, as when the system's limit is reached.
    Spawn(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Failed(name) => write!(f, "stream '{name}' failed"),
            Error::Write(e) => write!(f, "cannot write output: {e}"),
            Error::Open(path, e) => write!(f, "cannot open '{}': {e}", path.display()),
            Error::Read(e) => write!(f, "cannot read input: {e}"),
            Error::Input { line, problem } => write!(f, "input line {line}: {problem}"),
            Error::Spawn(e) => write!(f, "cannot start a thread: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// Runs `config`, printing the merge to `out`, and to `notes` the values no merge used
/// and, with `--stats`, a summary.
pub fn run(config: &Config, out: impl Write, mut notes: impl Write) -> Result<(), Error> {
    let seed = config.seed.unwrap_or_else(rand::random);
    let streams = config.streams.iter().map(|spec| Stream {
        name: spec.name.clone(),
        source: match &spec.range {
            Some(range) => {
                Source::Values(uniform(seed, &spec.name, range.clone(), config.messages))
            }
            None => Source::External,
        },
    });
    let input: Box<dyn Read + Send> = match &config.input {
        Some(path) if path.as_os_str() != "-" => {
            Box::new(File::open(path).map_err(|e| Error::Open(path.clone(), e))?)
        }
        _ => Box::new(io::stdin()),
    };
    let start = Instant::now();
    let summary = merge(streams.collect(), input, config.settings, out)?;
    for (name, left) in summary.unmatched.iter().filter(|(_, left)| *left > 0) {
        let _ = writeln!(notes, "{name}: {left} unmatched");
    }
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
