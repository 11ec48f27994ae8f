//! stream-merge: leaf threads feed streams of exact decimal values to one root thread,
//! which prints every value and, as soon as every stream has delivered its n-th value,
//! their sum.
//!
//! `cli` turns arguments into a `Config`; `run` checks its inputs and hands the streams to
//! `merge`, in `root`, which starts a `leaf` per generated stream, a `source` reader per
//! stream with an input of its own and an `input` reader for the shared input, takes their
//! `message`s, and merges with the pure `rounds` core. Values are `decimal`s; inputs are
//! read as bounded `lines`; messages `quote` what they show of them.

pub mod cli;
mod decimal;
mod error;
mod feed;
mod format;
mod input;
mod leaf;
mod lines;
mod message;
mod quote;
mod root;
mod rounds;
mod shared;
mod source;
mod text;
mod window;

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use quote::quote;

pub use cli::{Config, Kind};
pub use decimal::{Bad, Decimal};
pub use error::Error;
pub use input::Input;
pub use leaf::{Uniform, Values, uniform};
pub use root::{Settings, Summary, Tally, merge};
pub use rounds::Counts;
pub use rounds::Ending;
pub use shared::LEAD;
pub use source::{Source, Stream};
pub use window::{BUDGET, WINDOW, window_for};

/// How many streams may read sources that may wait (pipes, FIFOs, terminals) at most: each
/// has a thread of its own. Regular files share a few threads, and have no such bound.
pub const WAITING: usize = 4096;

/// Runs `config`, printing the merge to `out`, and to `notes` the values no merge used
/// and, with `--stats`, a summary, failed or not. Every input is checked before anything
/// is printed.
pub fn run(config: Config, out: impl Write, mut notes: impl Write) -> Result<(), Error> {
    check(&config)?;
    let seed = config.seed.unwrap_or_else(rand::random);
    let streams = config.streams.into_iter().map(|spec| Stream {
        source: match spec.kind {
            Kind::Generated(range) => {
                Source::Values(uniform(seed, &spec.name, range, config.messages))
            }
            Kind::Shared => Source::Shared,
            Kind::Own(input) => Source::Own(input),
        },
        name: spec.name,
    });
    let start = Instant::now();
    let by_time = config.settings.by_time;
    let (summary, result) = merge(streams.collect(), config.input, config.settings, out);
    if result.is_ok() {
        notes_on(&summary, by_time, &mut notes);
    }
    if config.stats && !matches!(result, Err(Error::Spawn(_))) {
        stats(&summary, start.elapsed().as_secs_f64(), &mut notes);
    }
    result
}

/// The values no merge used and, by time, the readings missing: a line per stream that has
/// any.
fn notes_on(summary: &Summary, by_time: bool, notes: &mut impl Write) {
    for tally in summary.streams.iter().filter(|t| t.unmatched > 0) {
        let _ = writeln!(notes, "{}: {} unmatched", tally.name, tally.unmatched);
    }
    if !by_time {
        return;
    }
    for tally in &summary.streams {
        if let (count, Some(first)) = tally.missing {
            let times = if count == 1 { "time" } else { "times" };
            let _ = writeln!(
                notes,
                "{}: missing at {count} {times}, first at {first}",
                tally.name
            );
        }
    }
}

/// The summary `--stats` prints after the run.
fn stats(summary: &Summary, seconds: f64, notes: &mut impl Write) {
    let rounds = summary.rounds;
    let values = (summary.streams.iter()).map(|t| format!("{} {}", t.name, t.delivered));
    let _ = write!(
        notes,
        "rounds merged: {}\nrounds dropped: {}\nrounds filled: {}\nrounds carried: {}\n\
         values: {}\nelapsed: {seconds:.3} s\nrounds per second: {:.0}\n",
        rounds.merged,
        rounds.dropped,
        rounds.filled,
        rounds.carried,
        values.collect::<Vec<_>>().join(", "),
        (rounds.merged + rounds.dropped) as f64 / seconds,
    );
}

/// Checks every input before anything is printed: each can be read as a stream, no pipe,
/// FIFO or terminal is read by two streams, and the process may open them all at once.
fn check(config: &Config) -> Result<(), Error> {
    let shared = config.streams.iter().any(|spec| spec.kind == Kind::Shared);
    let own = config.streams.iter().filter_map(|spec| match &spec.kind {
        Kind::Own(input) => Some((format!("stream {}: ", quote(spec.name.as_bytes())), input)),
        _ => None,
    });
    let inputs: Vec<(String, &Input)> = own
        .chain(shared.then(|| (String::new(), &config.input)))
        .collect();
    let mut seen = HashMap::new();
    let mut waiting = 0;
    for (what, input) in &inputs {
        let checked = input.check().map_err(|e| Error::Input {
            place: input.place(),
            problem: format!("{what}cannot read: {e}"),
        })?;
        let Some(identity) = checked.waits else {
            continue;
        };
        waiting += 1;
        if let Some(first) = seen.insert(identity, what) {
            let name = |what: &str| match what {
                "" => "the shared input".to_string(),
                stream => stream.trim_end_matches(": ").to_string(),
            };
            return Err(Error::Usage(format!(
                "{} reads the same pipe, FIFO or terminal as {}: give each stream an input of \
                 its own",
                name(what),
                name(first)
            )));
        }
    }
    if waiting > WAITING {
        return Err(Error::Usage(format!(
            "{waiting} streams read pipes, FIFOs or terminals, and at most {WAITING} can, \
             a thread each (regular files have no such limit)"
        )));
    }
    match input::free_descriptors() {
        Some(free) if (inputs.len() as u64) > free => Err(Error::Descriptors {
            needed: inputs.len(),
            free,
        }),
        _ => Ok(()),
    }
}
