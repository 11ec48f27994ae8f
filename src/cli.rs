//! The command line: turns arguments into a `Config`, or into a one-line usage error.
//!
//! Invariant: a `Config` that parsing returns can be run as it is: every stream has a valid,
//! unique name, every generated stream a non-empty range, no path is empty, no two inputs
//! are stdin, and `--input` comes only with a stream on the shared input. Arguments are
//! read as given, not as UTF-8, and quoted in messages.

use std::collections::HashSet;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use crate::decimal;
use crate::format;
use crate::input::Input;
use crate::leaf::Uniform;
use crate::quote::quote;
use crate::root::Settings;
use crate::rounds::Ending;
use crate::window::{WINDOW, window_for};

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
    /// Where the shared input comes from.
    pub input: Input,
}

/// A stream: its name, and where its values come from.
#[derive(Debug, PartialEq)]
pub struct StreamSpec {
    pub name: String,
    pub kind: Kind,
}

#[derive(Debug, PartialEq)]
pub enum Kind {
    /// Values uniform in a range.
    Generated(Uniform),
    /// Values read from the shared input.
    Shared,
    /// Values read from an input of its own.
    Own(Input),
}

pub const HELP: &str = "\
stream-merge: merges streams of exact decimal values. Leaf threads generate streams, or
read them from inputs, and send them to one root thread, which prints every value and, as
soon as every stream has delivered its n-th value, their sum.

Usage: stream-merge [OPTIONS]

Options:
  -n, --messages N           values per generated stream [default: 4]
  -s, --stream NAME=LO..HI   a generated stream uniform in [LO, HI), in steps of the
                             bounds' finest digit (0..10, 19.5..25.25); repeatable;
                             replaces the default streams x=0..10 and y=100..110
  -s, --stream NAME          a stream read from the shared input, NAME VALUE a line
  -i, --input FILE           the shared input [default: - (stdin)]
  -f, --file NAME=PATH       a stream read from a source of its own, a value a line: a
                             file, a named pipe, <(command), or - for stdin
      --strict               streams must end together: fail if one ends before another
      --fill VALUE           a stream that has ended counts as VALUE until every one has
      --seed S               the same seed gives the same values and merges [default: random]
  -m, --merges-only          print only the merge lines
      --window W             how many values a stream may run ahead of the slowest one;
                             bounds memory [default: 16384, or 524288 / streams past 32]
      --stats                after the run, print rounds, values per stream, seconds and
                             rounds/s on stderr
  -h, --help                 print this help
  -V, --version              print the version

Values: decimals such as 7, -12, 20.5, .5 or 2.5E3, at most 18 digits after the point and
a 64-bit integer without it. Sums are exact, with as many digits after the point as their
most precise term.

Output: one line per item, NAME VALUE. A stream's values are printed as the root receives
them, and `merge SUM` as soon as every stream has delivered the values it sums. The run
ends with the shortest stream (values that no merge used are counted on stderr), unless
--strict or --fill says otherwise.

Input: the shared input has the output's format, NAME VALUE a line; a source of its own
(-f) has a value a line, or NAME VALUE with its own name. Blank lines and merge lines are
skipped, so the output of one run can be the input of another, and so are comments: lines
that start with # (after any blanks). A bad line ends its stream with an error naming
PATH:LINE (stdin is <stdin>), after the merges before it.

Examples:
  stream-merge -n 3 --seed 7 -s a=0..10 -s t=19.5..25.25
  stream-merge --seed 5 -n 1000 | stream-merge -s x -s y
  stream-merge -f temp=temp.log -f load=<(tail -f load.log)
";

/// Parses the arguments after the program's name. `Err` is a usage error, in a few words.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut config = Config {
        streams: Vec::new(),
        messages: 4,
        seed: None,
        settings: Settings {
            window: WINDOW,
            merges_only: false,
            ending: Ending::Shortest,
        },
        stats: false,
        input: Input::Stdin,
    };
    let (mut input, mut strict, mut fill, mut window) = (None, false, None, None);
    let mut names = HashSet::new(); // the names of `config.streams`
    // The rest of a group of short flags, such as `-V` left over from `-mV`.
    let mut pending: Option<OsString> = None;
    while let Some(arg) = pending.take().or_else(|| args.next()) {
        let bytes = arg.as_bytes();
        let (option, mut inline) = if let Some(long) = bytes.strip_prefix(b"--") {
            if long.is_empty() {
                // `--` ends the options; nothing may follow, as there are no operands.
                return match args.next() {
                    Some(stray) => Err(unexpected(&stray)),
                    None => break,
                };
            }
            match long.iter().position(|&b| b == b'=') {
                Some(at) => (&bytes[..at + 2], Some(os(&long[at + 1..]))),
                None => (bytes, None),
            }
        } else if bytes.len() > 1 && bytes[0] == b'-' {
            if !bytes[1].is_ascii() {
                return Err(format!("unknown option {}", quote(bytes)));
            }
            (&bytes[..2], (bytes.len() > 2).then(|| os(&bytes[2..])))
        } else {
            return Err(unexpected(&arg));
        };
        let mut value = |name: &str| {
            inline
                .take()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match option {
            b"-n" | b"--messages" => config.messages = whole(&value("--messages")?, "--messages")?,
            b"--seed" => config.seed = Some(whole(&value("--seed")?, "--seed")?),
            b"--window" => window = Some(at_least(&value("--window")?, "--window", 1)?),
            b"-i" | b"--input" => {
                let path = value("--input")?;
                if path.is_empty() {
                    return Err("--input: the path is empty".to_string());
                }
                input = Some(Input::new(path.into()));
            }
            b"--fill" => {
                let text = value("--fill")?;
                let parsed = decimal::parse(text.as_bytes());
                fill = Some(parsed.map_err(|bad| {
                    format!("--fill: {}", decimal::why_refused(text.as_bytes(), bad))
                })?);
            }
            b"-s" | b"--stream" => {
                let spec = stream(&value("--stream")?)?;
                add(&mut config.streams, &mut names, spec)?;
            }
            b"-f" | b"--file" => {
                let spec = file(value("--file")?)?;
                add(&mut config.streams, &mut names, spec)?;
            }
            b"-m" | b"--merges-only" | b"--stats" | b"--strict" | b"-h" | b"--help" | b"-V"
            | b"--version" => {
                match inline.take() {
                    Some(value) if option.starts_with(b"--") || value.as_bytes()[0] == b'=' => {
                        return Err(format!(
                            "{} takes no value",
                            String::from_utf8_lossy(option)
                        ));
                    }
                    rest => pending = rest.map(|flags| os(&[b"-", flags.as_bytes()].concat())),
                }
                match option {
                    b"-h" | b"--help" => return Ok(Command::Help),
                    b"-V" | b"--version" => return Ok(Command::Version),
                    b"--stats" => config.stats = true,
                    b"--strict" => strict = true,
                    _ => config.settings.merges_only = true,
                }
            }
            _ => return Err(format!("unknown option {}", quote(option))),
        }
    }
    config.settings.ending = match (strict, fill) {
        (true, Some(_)) => return Err("--fill and --strict cannot go together".to_string()),
        (true, None) => Ending::Strict,
        (false, Some(fill)) => Ending::Fill(fill),
        (false, None) => Ending::Shortest,
    };
    if config.streams.is_empty() {
        let range = |low, high| {
            Kind::Generated(Uniform {
                low,
                high,
                scale: 0,
            })
        };
        config.streams = vec![
            StreamSpec {
                name: "x".to_string(),
                kind: range(0, 10),
            },
            StreamSpec {
                name: "y".to_string(),
                kind: range(100, 110),
            },
        ];
    }
    config.settings.window = window.unwrap_or_else(|| window_for(config.streams.len()));
    let shared = config.streams.iter().any(|s| s.kind == Kind::Shared);
    match input {
        Some(_) if !shared => {
            return Err("--input needs a stream on the shared input (-s NAME)".to_string());
        }
        Some(input) => config.input = input,
        None => {}
    }
    let on_stdin = (config.streams.iter())
        .filter(|s| s.kind == Kind::Own(Input::Stdin))
        .count()
        + usize::from(shared && config.input == Input::Stdin);
    if on_stdin > 1 {
        return Err(
            "stdin can be read by only one input: give the others -f NAME=PATH".to_string(),
        );
    }
    Ok(Command::Run(config))
}

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

fn unexpected(arg: &OsString) -> String {
    format!("unexpected argument {}", quote(arg.as_bytes()))
}

/// Adds a stream whose name is not taken yet; `names` holds the names taken, so that
/// many streams cost a look-up each, not a look at every other.
fn add(
    streams: &mut Vec<StreamSpec>,
    names: &mut HashSet<String>,
    spec: StreamSpec,
) -> Result<(), String> {
    if !names.insert(spec.name.clone()) {
        return Err(format!(
            "stream {} is given twice",
            quote(spec.name.as_bytes())
        ));
    }
    streams.push(spec);
    Ok(())
}

/// A whole number from 0 to `u64::MAX`.
fn whole(value: &OsString, option: &str) -> Result<u64, String> {
    at_least(value, option, 0)
}

/// A whole number from `least` to `u64::MAX`: one message for any other value.
fn at_least(value: &OsString, option: &str, least: u64) -> Result<u64, String> {
    let number = value.to_str().and_then(|text| text.parse::<u64>().ok());
    number.filter(|&number| number >= least).ok_or_else(|| {
        let value = quote(value.as_bytes());
        format!(
            "{option} takes a whole number from {least} to {}, got {value}",
            u64::MAX
        )
    })
}

/// A stream's name, as the line format has it (see `format::name`).
fn name(name: &[u8]) -> Result<String, String> {
    format::name(name).map(str::to_string)
}

/// `NAME=LO..HI`, or `NAME` for a stream on the shared input.
fn stream(value: &OsString) -> Result<StreamSpec, String> {
    let bytes = value.as_bytes();
    let (name_part, range) = match bytes.iter().position(|&b| b == b'=') {
        Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
        None => (bytes, None),
    };
    let name = name(name_part)?;
    let Some(range) = range else {
        return Ok(StreamSpec {
            name,
            kind: Kind::Shared,
        });
    };
    let bad = |why: String| format!("invalid stream {}: {why}", quote(bytes));
    let at = (range.windows(2).position(|w| w == b".."))
        .ok_or_else(|| bad("expected NAME=LO..HI".to_string()))?;
    let bound = |text: &[u8]| decimal::parse(text).map_err(|e| bad(decimal::why_refused(text, e)));
    let (low, high) = (bound(&range[..at])?, bound(&range[at + 2..])?);
    let Some((low, high, scale)) = decimal::at_common_scale(low, high) else {
        return Err(bad(format!(
            "LO and HI at {} digits after the point do not fit in a 64-bit integer",
            low.scale().max(high.scale())
        )));
    };
    if low >= high {
        return Err(bad("LO must be less than HI".to_string()));
    }
    let kind = Kind::Generated(Uniform { low, high, scale });
    Ok(StreamSpec { name, kind })
}

/// `NAME=PATH`: PATH is everything after the first `=`, as given.
fn file(value: OsString) -> Result<StreamSpec, String> {
    let bytes = value.as_bytes();
    let Some(at) = bytes.iter().position(|&b| b == b'=') else {
        return Err(format!(
            "invalid file stream {}: expected NAME=PATH",
            quote(bytes)
        ));
    };
    let name = name(&bytes[..at])?;
    if at + 1 == bytes.len() {
        return Err(format!(
            "invalid file stream {}: the path is empty",
            quote(bytes)
        ));
    }
    let path = PathBuf::from(os(&bytes[at + 1..]));
    Ok(StreamSpec {
        name,
        kind: Kind::Own(Input::new(path)),
    })
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

    fn generated(name: &str, low: i64, high: i64, scale: u8) -> StreamSpec {
        let kind = Kind::Generated(Uniform { low, high, scale });
        StreamSpec {
            name: name.to_string(),
            kind,
        }
    }

    fn spec(name: &str, kind: Kind) -> StreamSpec {
        StreamSpec {
            name: name.to_string(),
            kind,
        }
    }

    #[test]
    fn no_arguments_give_the_original_example() {
        let config = run(&[]).unwrap();
        assert_eq!(
            config.streams,
            [generated("x", 0, 10, 0), generated("y", 100, 110, 0)]
        );
        assert_eq!(config.input, Input::Stdin);
        assert_eq!(
            (config.messages, config.seed, config.stats),
            (4, None, false)
        );
        let settings = Settings {
            window: WINDOW,
            merges_only: false,
            ending: Ending::Shortest,
        };
        assert_eq!(config.settings, settings);
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
            assert_eq!(config.streams, [generated("a", -5, -1, 0)], "{args:?}");
        }
    }

    #[test]
    fn decimal_ranges_share_the_finer_scale() {
        let config = run(&["-s", "t=19.5..25.25", "-s", "u=-1e-3..2"]).unwrap();
        let expected = [generated("t", 1950, 2525, 2), generated("u", -1, 2000, 3)];
        assert_eq!(config.streams, expected);
    }

    #[test]
    fn help_states_the_default_window() {
        assert!(HELP.contains(&format!(
            "[default: {WINDOW}, or {} / streams",
            crate::window::BUDGET
        )));
        assert_eq!(run(&[]).unwrap().settings.window, WINDOW);
        let many: Vec<String> = (0..1000).map(|k| format!("--stream=s{k}=0..1")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(run(&many).unwrap().settings.window, 524);
        assert_eq!(
            run(&[&many[..], &["--window", "9"]].concat())
                .unwrap()
                .settings
                .window,
            9
        );
    }

    #[test]
    fn streams_read_from_the_shared_input_or_a_source_of_their_own() {
        let config = run(&["-s", "x", "-s", "y=0..5", "-i", "data.txt", "-f", "z=a=b"]).unwrap();
        let own = Kind::Own(Input::Path("a=b".into()));
        let expected = [
            spec("x", Kind::Shared),
            generated("y", 0, 5, 0),
            spec("z", own),
        ];
        assert_eq!(config.streams, expected);
        assert_eq!(config.input, Input::Path("data.txt".into()));
        let config = run(&["--file=a=-", "-s", "b=0..1"]).unwrap();
        assert_eq!(config.streams[0], spec("a", Kind::Own(Input::Stdin)));
    }

    #[test]
    fn a_path_is_taken_as_given_even_if_not_utf8() {
        let path = OsString::from_vec(b"z=/tmp/\xff\x1b".to_vec());
        let args = [OsString::from("-f"), path];
        let Ok(Command::Run(config)) = parse(args) else {
            panic!()
        };
        let expected = Input::Path(PathBuf::from(OsString::from_vec(b"/tmp/\xff\x1b".to_vec())));
        assert_eq!(config.streams, [spec("z", Kind::Own(expected))]);
    }

    #[test]
    fn strict_and_fill_set_the_ending() {
        assert_eq!(run(&["--strict"]).unwrap().settings.ending, Ending::Strict);
        let fill = decimal::Decimal::new(-25, 1).unwrap();
        assert_eq!(
            run(&["--fill", "-2.5"]).unwrap().settings.ending,
            Ending::Fill(fill)
        );
        assert_eq!(
            run(&["--fill=-2.5"]).unwrap().settings.ending,
            Ending::Fill(fill)
        );
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
    fn names_that_print_as_nothing_are_refused() {
        for invisible in [
            "\u{3164}",
            "\u{115F}",
            "\u{1160}",
            "\u{FFA0}",
            "\u{2800}",
            "\u{FE0F}",
            "\u{034F}",
            "\u{E0100}",
        ] {
            for name in [invisible.to_string(), format!("a{invisible}b")] {
                let error = run(&["-s", &name]).unwrap_err();
                let code = invisible.chars().next().unwrap() as u32;
                let shown = format!("\\u{{{code:04X}}}");
                assert!(error.starts_with("invalid stream name '"), "{error}");
                assert!(error.contains(&shown), "{error}");
            }
        }
        for visible in ["a\u{3165}", "\u{2801}", "\u{FE10}", "\u{1161}b", "a#"] {
            assert!(run(&["-s", visible]).is_ok(), "{visible}");
        }
    }

    #[test]
    fn usage_errors_name_the_problem() {
        for (args, problem) in [
            (&["-n"][..], "--messages needs a value"),
            (&["-n", "-1"], "whole number"),
            (&["-n", "18446744073709551616"], "whole number"),
            (&["--seed", "x"], "whole number"),
            (
                &["--window", "0"],
                "--window takes a whole number from 1 to 18446744073709551615, got '0'",
            ),
            (
                &["-n", "x"],
                "--messages takes a whole number from 0 to 18446744073709551615, got 'x'",
            ),
            (&["--window=-3"], "whole number"),
            (&["--stats=1"], "--stats takes no value"),
            (&["--strict=1"], "--strict takes no value"),
            (&["--bogus"], "unknown option '--bogus'"),
            (&["-q"], "unknown option '-q'"),
            (&["-é"], "unknown option '-é'"),
            (&["stray"], "unexpected argument 'stray'"),
            (&["--", "stray"], "unexpected argument 'stray'"),
            (&["\x1b[2J"], "unexpected argument '\\x1B[2J'"),
            (&["--merges-only=yes"], "takes no value"),
            (&["-s", "x=0-1"], "expected NAME=LO..HI"),
            (&["-s", "x=a..b"], "'a' is not a value"),
            (&["-s", "x=0..9223372036854775808"], "out of range"),
            (&["-s", "x=0..1e-19"], "out of range"),
            (&["-s", "x=0.5..9223372036854775807"], "do not fit"),
            (&["-s", "x=5..5"], "LO must be less than HI"),
            (&["-s", "x=1..1.0"], "LO must be less than HI"),
            (&["-s", "x=2.5..1"], "LO must be less than HI"),
            (&["-s", "=0..1"], "invalid stream name ''"),
            (&["-s", "a b=0..1"], "invalid stream name"),
            (&["-s", "merge=0..1"], "invalid stream name"),
            (&["-s", "#a"], "invalid stream name '#a'"),
            (&["-f", "#a=p"], "invalid stream name '#a'"),
            (
                &["-s", "a\x1b]0;x\x07"],
                "invalid stream name 'a\\x1B]0;x\\x07'",
            ),
            (&["-s", "a\u{202E}b"], "invalid stream name 'a\\u{202E}b'"),
            (&["-s", "a\tb"], "invalid stream name 'a\\tb'"),
            (&["-f", "a\x01=p"], "invalid stream name"),
            (&["-s", "x="], "expected NAME=LO..HI"),
            (&["-s", "x", "-s", "x=0..1"], "stream 'x' is given twice"),
            (&["-s", "x", "-f", "x=p"], "stream 'x' is given twice"),
            (&["-f", "x"], "expected NAME=PATH"),
            (&["-f", "x="], "the path is empty"),
            (&["-i", "f"], "--input needs a stream on the shared input"),
            (&["-s", "x", "-i", ""], "--input: the path is empty"),
            (&["-s", "x", "--input="], "--input: the path is empty"),
            (
                &["-f", "x=p", "-i", "f"],
                "--input needs a stream on the shared input",
            ),
            (
                &["-s", "x=0..1", "--input=f"],
                "--input needs a stream on the shared input",
            ),
            (
                &["-s", "a=0..1", "-s", "a=2..3"],
                "stream 'a' is given twice",
            ),
            (
                &["-s", "a", "-f", "b=-"],
                "stdin can be read by only one input",
            ),
            (
                &["-s", "a", "-i", "-", "-f", "b=-"],
                "stdin can be read by only one input",
            ),
            (
                &["-f", "a=-", "-f", "b=-"],
                "stdin can be read by only one input",
            ),
            (&["--fill", "x"], "--fill: 'x' is not a value"),
            (
                &["--fill", "1", "--strict"],
                "--fill and --strict cannot go together",
            ),
        ] {
            let error = run(args).unwrap_err();
            assert!(error.contains(problem), "{args:?}: {error}");
        }
        assert!(run(&["-s", "a", "-i", "in", "-f", "b=-"]).is_ok());
    }
}
