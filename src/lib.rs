//! stream-merge: leaf threads feed streams of exact decimal values to one root thread,
//! which prints every value and, as soon as every stream has delivered its n-th value,
//! their sum.
//!
//! `cli` turns arguments into a `Config`; `run` checks its inputs and hands the streams to
//! `merge`, in `root`, which starts a `leaf` per group of generated streams, a `source`
//! reader per stream with an input of its own (or per group of regular files) and the
//! `shared` input's reader, takes their `message`s, and merges with the pure `rounds`
//! core. Values are `decimal`s; inputs are read as bounded `lines`, and they, stdout
//! and stderr are `polled`, in case a parent left a descriptor non-blocking; messages
//! `quote` what they show of them.

mod ahead;
mod chunks;
pub mod cli;
mod decimal;
mod digits;
mod error;
mod feed;
mod format;
mod input;
mod later;
mod leaf;
mod lines;
mod message;
mod polled;
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

use quote::{quote, shown};

pub use cli::{Config, Kind};
pub use decimal::{Bad, Decimal};
pub use error::Error;
pub use input::Input;
pub use leaf::{Uniform, Values, uniform};
pub use polled::Polled;
pub use root::{Settings, Summary, Tally, merge};
pub use rounds::Counts;
pub use rounds::Ending;
pub use shared::LEAD;
pub use source::{Source, Stream};
pub use window::{BUDGET, WINDOW};

/// How many streams may read sources that may wait (pipes, FIFOs, devices) at most: each
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
        let _ = writeln!(
            notes,
            "{}: {} unmatched",
            shown(&tally.name),
            tally.unmatched
        );
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
                shown(&tally.name)
            );
        }
    }
}

/// The summary `--stats` prints after the run.
fn stats(summary: &Summary, seconds: f64, notes: &mut impl Write) {
    let rounds = summary.rounds;
    let values = summary
        .streams
        .iter()
        .map(|t| format!("{} {}", shown(&t.name), t.delivered));
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
/// FIFO or character device (a terminal, maybe) is read by two streams, and the process
/// may open them all at once.
fn check(config: &Config) -> Result<(), Error> {
    let shared = config.streams.iter().any(|spec| spec.kind == Kind::Shared);
    // Each input, with whose it is: a stream's name, or `None` for the shared input.
    let own = config.streams.iter().filter_map(|spec| match &spec.kind {
        Kind::Own(input) => Some((Some(quote(spec.name.as_bytes())), input)),
        _ => None,
    });
    let inputs: Vec<(Option<String>, &Input)> =
        own.chain(shared.then_some((None, &config.input))).collect();
    let mut waiting = Vec::new();
    for (whose, input) in &inputs {
        let checked = input.check().map_err(|e| Error::Input {
            place: input.place(),
            problem: match whose {
                Some(name) => format!("stream {name}: cannot read: {e}"),
                None => format!("cannot read: {e}"),
            },
        })?;
        waiting.extend(checked.waits.map(|identity| (identity, whose.as_deref())));
    }
    if waiting.len() > WAITING {
        return Err(Error::Usage(format!(
            "{} inputs are pipes, FIFOs or character devices (the shared input counts as one), \
             and at most {WAITING} can be, a thread each (regular files have no such limit)",
            waiting.len()
        )));
    }
    let mut seen = HashMap::new();
    for (identity, whose) in waiting {
        if let Some(first) = seen.insert(identity, whose) {
            let name = |whose: Option<&str>| match whose {
                Some(name) => format!("stream {name}"),
                None => "the shared input".to_string(),
            };
            return Err(Error::Usage(format!(
                "{} reads the same pipe, FIFO or device as {}: give each stream an input of \
                 its own",
                name(whose),
                name(first)
            )));
        }
    }
    match input::free_descriptors() {
        Some(free) if (inputs.len() as u64) > free => Err(Error::Descriptors {
            needed: inputs.len(),
            free,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(name: &str, unmatched: u64, missing: (u64, Option<Decimal>)) -> Tally {
        Tally {
            name: name.to_string(),
            delivered: 0,
            unmatched,
            missing,
        }
    }

    #[test]
    fn the_notes_tell_unmatched_values_then_by_time_missing_readings() {
        let at = |m| Some(Decimal::new(m, 1).unwrap());
        let streams = vec![
            tally("a", 0, (1, at(25))),
            tally("b", 2, (3, at(10))),
            tally("c", 0, (0, None)),
        ];
        let summary = Summary {
            rounds: Counts::default(),
            streams,
        };
        let mut by_time = Vec::new();
        notes_on(&summary, true, &mut by_time);
        let expected = "b: 2 unmatched\na: missing at 1 time, first at 2.5\nb: missing at 3 times, first at 1.0\n";
        assert_eq!(String::from_utf8(by_time).unwrap(), expected);
        let mut by_position = Vec::new();
        notes_on(&summary, false, &mut by_position);
        assert_eq!(by_position, b"b: 2 unmatched\n");
    }

    #[test]
    fn inputs_are_checked_before_anything_runs() {
        let config = |args: &[&str]| match cli::parse(args.iter().map(Into::into)) {
            Ok(cli::Command::Run(config)) => config,
            other => panic!("{other:?}"),
        };
        let missing = config(&["-f", "a=/no/such/file"]);
        let problem = check(&missing).unwrap_err().to_string();
        assert_eq!(
            problem,
            "/no/such/file: stream 'a': cannot read: No such file or directory (os error 2)"
        );
        let waiting: Vec<String> = (0..=WAITING).map(|k| format!("s{k}=/dev/null")).collect();
        let args: Vec<&str> = waiting.iter().flat_map(|w| ["-f", w.as_str()]).collect();
        let too_many = check(&config(&args)).unwrap_err().to_string();
        let expected = "4097 inputs are pipes, FIFOs or character devices (the shared input \
                        counts as one), and at most 4096 can be, a thread each (regular files \
                        have no such limit)";
        assert_eq!(too_many, expected);
        // 4096 sources of their own and the shared input on a device: one too many as well.
        let mut with_shared = args[2..].to_vec();
        with_shared.extend(["-s", "x", "-i", "/dev/null"]);
        let too_many = check(&config(&with_shared)).unwrap_err().to_string();
        assert_eq!(too_many, expected);
        assert!(check(&config(&["-f", "a=/dev/null", "-f", "b=/etc/hostname"])).is_ok());
    }
}
