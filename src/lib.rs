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
mod input;
mod leaf;
mod lines;
mod message;
mod quote;
mod root;
mod rounds;
mod source;
mod text;
mod window;

use std::io::Write;
use std::time::Instant;

pub use cli::{Config, Kind};
pub use decimal::Decimal;
pub use error::Error;
pub use input::LEAD;
pub use leaf::{Uniform, Values, uniform};
pub use root::{BUDGET, Settings, Source, Stream, Summary, Tally, WINDOW, merge, window_for};
pub use rounds::Ending;
pub use source::Input;

/// Runs `config`, printing the merge to `out`, and to `notes` the values no merge used
/// and, with `--stats`, a summary. Every input is checked before anything is printed.
pub fn run(config: Config, out: impl Write, mut notes: impl Write) -> Result<(), Error> {
    let check = |input: &Input, what: String| {
        input.check().map_err(|e| Error::Input {
            place: input.place(),
            problem: format!("{what}cannot read: {e}"),
        })
    };
    let mut shared = false;
    for spec in &config.streams {
        match &spec.kind {
            Kind::Own(input) => {
                let name = quote::quote(spec.name.as_bytes());
                check(input, format!("stream {name}: "))?
            }
            Kind::Shared => shared = true,
            Kind::Generated(_) => {}
        }
    }
    if shared {
        check(&config.input, String::new())?;
    }
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
    let summary = merge(streams.collect(), config.input, config.settings, out)?;
    for tally in summary.streams.iter().filter(|t| t.unmatched > 0) {
        let _ = writeln!(notes, "{}: {} unmatched", tally.name, tally.unmatched);
    }
    if config.stats {
        let seconds = start.elapsed().as_secs_f64();
        let values = (summary.streams.iter())
            .map(|t| format!("{} {}", t.name, t.delivered))
            .collect::<Vec<_>>();
        let _ = write!(
            notes,
            "rounds merged: {}\nvalues: {}\nelapsed: {seconds:.3} s\nrounds per second: {:.0}\n",
            summary.merged,
            values.join(", "),
            summary.merged as f64 / seconds,
        );
    }
    Ok(())
}
