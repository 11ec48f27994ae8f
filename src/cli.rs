//! The command line: turns arguments into a `Config`, or into a one-line usage error.
//!
//! Invariant: a `Config` that parsing returns can be run as it is: every stream has a valid,
//! unique name, every generated stream a non-empty range, and `--input` comes only with an
//! external stream.

use std::ffi::OsString;
use std::ops::Range;
use std::path::PathBuf;

use crate::Settings;

/// How far a stream may run ahead of the slowest one, unless `--window` says otherwise.
/// Chosen by measurement (README, Performance): a smaller window wakes the leaves more
/// often and slows the run; a larger one costs memory and gains little.
pub const WINDOW: u64 = 16384;

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    Run(Config),
    Help,
    Version,
}

/// A run's settings.
#[derive(Debug, PartialEq)]
pub struct Config {
    pub streams: Vec<StreamSpec>,
    /// Values per generated stream.
    pub messages: u64,
    /// `None`: a fresh seed for every run.
    pub seed: Option<u64>,
    pub settings: Settings,
    /// Print a summary on stderr after the run.
    pub stats: bool,
    /// Where external streams' values come from; `None` or `-`: stdin.
    pub input: Option<PathBuf>,
}

/// A stream: generated, with integers uniform in `range`, or external (`None`), with values
/// read from the input.
#[derive(Debug, PartialEq)]
pub struct StreamSpec {
    pub name: String,
    pub range: Option<Range<i64>>,
}

pub const HELP: &str = "\
stream-merge: merges streams of integers. Leaf threads generate streams, or read them from
the input, and send them to one root thread, which prints every value and, as soon as every
stream has delivered its n-th value, their sum.

Usage: stream-merge [OPTIONS]

Options:
  -n, --messages N           values per generated stream [default: 4]
  -s, --stream NAME=LO..HI   a generated stream of integers uniform in [LO, HI); repeatable;
                             replaces the default streams x=0..10 and y=100..110
  -s, --stream NAME          an external stream: its values are read from the input
  -i, --input FILE           where external streams' values come from [default: - (stdin)]
      --seed S               the same seed gives the same values and merges [default: random]
  -m, --merges-only          print only the merge lines
      --window W             how many values a stream may run ahead of the slowest one;
                             bounds memory [default: 16384]
      --stats                after the run, print rounds, items, seconds and rounds/s on stderr
  -h, --help                 print this help
  -V, --version              print the version

Output: one line per item, NAME VALUE. A stream's values are printed as the root receives
them, and `merge SUM` as soon as every stream has delivered the values it sums. The run
ends as soon as some stream has ended and all its values are merged; values that no merge
used are counted on stderr.

Input: the output's format. Blank lines and lines named merge are skipped, so the output of
one run can be the input of another.

Examples:
  stream-merge -n 3 --seed 7 -s a=0..10 -s b=-5..5
  stream-merge --seed 5 -n 1000 | stream-merge -s x -s y
";

/// Parses the arguments after the program's name. `Err` is a usage error, in a few words.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut args = args.into_iter().map(|arg| {
        arg.into_string()
            .map_err(|arg| format!("argument {arg:?} is not valid UTF-8"))
    });
    let mut config = Config {
        streams: Vec::new(),
        messages: 4,
        seed: None,
        settings: Settings {
            window: WINDOW,
            merges_only: false,
        },
        stats: false,
        input: None,
    };
    // The rest of a group of short flags, such as `-V` left over from `-mV`.
    let mut pending: Option<String> = None;
    while let Some(arg) = pending.take().map(Ok).or_else(|| args.next()) {
        let arg = arg?;
        let (option, mut inline) = if let Some(long) = arg.strip_prefix("--") {
            if long.is_empty() {
                // `--` ends the options; nothing may follow, as there are no operands.
                return match args.next() {
                    Some(stray) => Err(format!("unexpected argument '{}'", stray?)),
                    None => break,
                };
            }
            match long.split_once('=') {
                Some((name, value)) => (format!("--{name}"), Some(value.to_string())),
                None => (arg.clone(), None),
            }
        } else if let Some(short) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            let (letter, rest) = short.split_at(short.chars().next().map_or(1, char::len_utf8));
            (
                format!("-{letter}"),
                (!rest.is_empty()).then(|| rest.to_string()),
            )
        } else {
            return Err(format!("unexpected argument '{arg}'"));
        };
        let mut value = |name: &str| match inline.take() {
            Some(value) => Ok(value),
            None => args
                .next()
                .unwrap_or_else(|| Err(format!("{name} needs a value"))),
        };
        match option.as_str() {
            "-n" | "--messages" => config.messages = whole(&value("--messages")?, "--messages")?,
            "--seed" => config.seed = Some(whole(&value("--seed")?, "--seed")?),
            "--window" => match whole(&value("--window")?, "--window")? {
                0 => return Err("--window must be at least 1".to_string()),
                window => config.settings.window = window,
            },
            "-i" | "--input" => config.input = Some(value("--input")?.into()),
            "-s" | "--stream" => {
                let spec = stream(&value("--stream")?)?;
                if config.streams.iter().any(|s| s.name == spec.name) {
                    return Err(format!("stream '{}' is given twice", spec.name));
                }
                config.streams.push(spec);
            }
            "-m" | "--merges-only" | "--stats" | "-h" | "--help" | "-V" | "--version" => {
                match inline.take() {
                    Some(value) if option.starts_with("--") || value.starts_with('=') => {
                        return Err(format!("{option} takes no value"));
                    }
                    rest => pending = rest.map(|flags| format!("-{flags}")),
                }
                match option.as_str() {
                    "-h" | "--help" => return Ok(Command::Help),
                    "-V" | "--version" => return Ok(Command::Version),
                    "--stats" => config.stats = true,
                    _ => config.settings.merges_only = true,
                }
            }
            _ => return Err(format!("unknown option '{option}'")),
        }
    }
    if config.streams.is_empty() {
        config.streams = vec![spec("x", Some(0..10)), spec("y", Some(100..110))];
    }
    if config.input.is_some() && config.streams.iter().all(|s| s.range.is_some()) {
        return Err("--input needs an external stream (-s NAME)".to_string());
    }
    Ok(Command::Run(config))
}

fn spec(name: &str, range: Option<Range<i64>>) -> StreamSpec {
    let name = name.to_string();
    StreamSpec { name, range }
}

/// A whole number from 0 to `u64::MAX`.
fn whole(value: &str, option: &str) -> Result<u64, String> {
    value.parse().map_err(|_| {
        format!(
            "{option} takes a whole number from 0 to {}, got '{value}'",
            u64::MAX
        )
    })
}

/// `NAME=LO..HI`, or `NAME` for an external stream.
fn stream(value: &str) -> Result<StreamSpec, String> {
    let bad = |why: &str| format!("invalid stream '{value}': {why}");
    let (name, range) = match value.split_once('=') {
        Some((name, range)) => (name, Some(range)),
        None => (value, None),
    };
    if name.is_empty() || name.contains(char::is_whitespace) || name == "merge" {
        return Err(bad("a name is not empty, has no spaces and is not 'merge'"));
    }
    let Some(range) = range else {
        return Ok(spec(name, None));
    };
    let (lo, hi) = range
        .split_once("..")
        .ok_or_else(|| bad("expected NAME=LO..HI"))?;
    let int = |s: &str| {
        s.parse::<i64>().map_err(|_| {
            bad(&format!(
                "'{s}' is not an integer from {} to {}",
                i64::MIN,
                i64::MAX
            ))
        })
    };
    let (lo, hi) = (int(lo)?, int(hi)?);
    if lo >= hi {
        return Err(bad("LO must be less than HI"));
    }
    Ok(spec(name, Some(lo..hi)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse(args.iter().map(OsString::from))? {
            Command::Run(config) => Ok(config),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_arguments_give_the_original_example() {
        let config = run(&[]).unwrap();
        assert_eq!(
            config.streams,
            [spec("x", Some(0..10)), spec("y", Some(100..110))]
        );
        assert_eq!(config.input, None);
        assert_eq!(
            (config.messages, config.seed, config.stats),
            (4, None, false)
        );
        assert_eq!(
            config.settings,
            Settings {
                window: WINDOW,
                merges_only: false
            }
        );
    }

    #[test]
    fn values_come_inline_or_in_the_next_argument() {
        for args in [
            &["-n", "9", "--seed", "3", "-s", "a=-5..-1"][..],
            &["-n9", "--seed=3", "-sa=-5..-1"],
            &["--messages=9", "--seed", "3", "--stream=a=-5..-1"],
        ] {
            let config = run(args).unwrap();
            assert_eq!((config.messages, config.seed), (9, Some(3)), "{args:?}");
            assert_eq!(config.streams, [spec("a", Some(-5..-1))], "{args:?}");
        }
    }

    #[test]
    fn help_states_the_default_window() {
        assert!(HELP.contains(&format!("[default: {WINDOW}]")));
    }

    #[test]
    fn a_stream_without_a_range_is_external() {
        let config = run(&["-s", "x", "-s", "y=0..5", "-i", "data.txt"]).unwrap();
        assert_eq!(config.streams, [spec("x", None), spec("y", Some(0..5))]);
        assert_eq!(config.input, Some(PathBuf::from("data.txt")));
    }

    #[test]
    fn short_flags_group() {
        assert!(run(&["-m"]).unwrap().settings.merges_only);
        assert!(run(&["--stats"]).unwrap().stats);
        assert_eq!(parse(["-mV"].map(OsString::from)), Ok(Command::Version));
        assert_eq!(
            parse(["-n", "1", "-h"].map(OsString::from)),
            Ok(Command::Help)
        );
    }

    #[test]
    fn usage_errors_name_the_problem() {
        for (args, problem) in [
            (&["-n"][..], "--messages needs a value"),
            (&["-n", "-1"], "whole number"),
            (&["-n", "18446744073709551616"], "whole number"),
            (&["--seed", "x"], "whole number"),
            (&["--window", "0"], "--window must be at least 1"),
            (&["--window=-3"], "whole number"),
            (&["--stats=1"], "--stats takes no value"),
            (&["--bogus"], "unknown option '--bogus'"),
            (&["-q"], "unknown option '-q'"),
            (&["stray"], "unexpected argument 'stray'"),
            (&["--", "stray"], "unexpected argument 'stray'"),
            (&["--merges-only=yes"], "takes no value"),
            (&["-s", "x=0-1"], "expected NAME=LO..HI"),
            (&["-s", "x=a..b"], "'a' is not an integer"),
            (&["-s", "x=0..9223372036854775808"], "not an integer"),
            (&["-s", "x=5..5"], "LO must be less than HI"),
            (&["-s", "=0..1"], "a name"),
            (&["-s", "a b=0..1"], "a name"),
            (&["-s", "merge=0..1"], "a name"),
            (&["-s", "x="], "expected NAME=LO..HI"),
            (&["-s", "x", "-s", "x=0..1"], "stream 'x' is given twice"),
            (&["-i", "f"], "--input needs an external stream"),
            (
                &["-s", "x=0..1", "--input=f"],
                "--input needs an external stream",
            ),
            (
                &["-s", "a=0..1", "-s", "a=2..3"],
                "stream 'a' is given twice",
            ),
        ] {
            let error = run(args).unwrap_err();
            assert!(error.contains(problem), "{args:?}: {error}");
        }
    }
}
