//! The command line: turns arguments into a `Config`, or into a one-line usage error.
//!
//! In three steps: a `Lexer` reads the arguments as options and their values; `read` only
//! assigns what each option gives to what was `Given` (each value converted as it is read,
//! and a stream's name refused if it is taken); `config` checks across options and makes
//! the `Config`, with the defaults of what was not given.
//!
//! Invariant: a `Config` that parsing returns can be run as it is: every stream has a valid,
//! unique name, every generated stream a non-empty range, no path is empty, no two inputs
//! are stdin, and `--input` comes only with a stream on the shared input. Arguments are
//! read as given, not as UTF-8, and quoted in messages.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::decimal::{self, Decimal};
use crate::format;
use crate::input::Input;
use crate::leaf::Uniform;
use crate::quote::quote;
use crate::root::Settings;
use crate::rounds::Ending;
use crate::window::window_for;

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
  -t, --by-time              every value comes with a time (NAME VALUE TIME); rounds
                             are times, not positions: a missing reading misaligns nothing
      --strict               streams must end together, and by time have a value at every
                             time: fail if one does not
      --fill VALUE           a stream with no value in a round counts as VALUE, until every
                             stream has ended
      --carry                a stream with no value in a round counts as its latest value,
                             until every stream has ended
      --seed S               the same seed gives the same values and merges [default: random]
  -m, --merges-only          print only the merge lines
      --window W             how many values a stream may hold that no round has used;
                             bounds memory [default: 16384, or 524288 / streams past 32,
                             less where long names' lines would pass 32 MiB]
      --stats                after the run, print rounds merged, dropped, filled and
                             carried, values per stream, seconds and rounds/s on stderr
  -h, --help                 print this help
  -V, --version              print the version

Values: exact decimals such as 7, -12, 20.5, .5 or 2.5E3: m·10^-s with m a 64-bit integer
and s, the scale, from 0 to 18 (1e30 and 1e-19 are refused). Sums are exact, with as many
digits after the point as their most precise term.

Names: not empty, not merge, not starting with #, each given once, with no spaces and no
control or invisible characters.

Output: one line per item, NAME VALUE (by time NAME VALUE TIME). A value is printed once
its round is decided, and `merge SUM` as soon as every stream has delivered the values it
sums. By time, round t holds the values at the least time among every stream's next
values, once every stream's next item is known. The run ends with the shortest stream
(values that no merge used are counted on stderr), unless --strict, --fill or --carry
says otherwise.

Input: the shared input has the output's format, NAME VALUE a line; a source of its own
(-f) has a value a line, or NAME VALUE with its own name; by time, each with its TIME
after the value, a number that increases along each stream. Blank lines and merge lines are
skipped, so the output of one run can be the input of another, and so are comments: lines
that start with # (after any blanks). A bad line ends its stream with an error naming
PATH:LINE (stdin is <stdin>), after the merges before it.

Examples:
  stream-merge -n 3 --seed 7 -s a=0..10 -s t=19.5..25.25
  stream-merge --seed 5 -n 1000 | stream-merge -s x -s y
  stream-merge -f temp=temp.log -f load=<(tail -f load.log)
  stream-merge --by-time --carry -f a=a.log -f b=b.log
";

/// Values per generated stream, without `-n`.
const MESSAGES: u64 = 4;

/// Parses the arguments after the program's name. `Err` is a usage error, in a few words.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let given = read(args)?;
    if given.help {
        Ok(Command::Help)
    } else if given.version {
        Ok(Command::Version)
    } else {
        config(given).map(Command::Run)
    }
}

/// An argument, as the lexer reads it.
#[derive(Debug, PartialEq)]
enum Arg<'a> {
    /// `--NAME`, or `--NAME=VALUE`: NAME, as given, up to the first `=`.
    Long(&'a [u8]),
    /// `-C`, alone or followed in its argument by a value or by more flags: C, ASCII.
    Short(char),
    /// An argument that is no option: `stray`, `-`, or any argument after `--`.
    Value(OsString),
}

impl Arg<'_> {
    /// The usage error for an argument that the program has no use for.
    fn unexpected(&self) -> String {
        match self {
            Arg::Long(name) => format!("unknown option {}", quote(&[b"--", *name].concat())),
            Arg::Short(c) => format!("unknown option {}", quote(format!("-{c}").as_bytes())),
            Arg::Value(value) => format!("unexpected argument {}", quote(value.as_bytes())),
        }
    }
}

/// Reads arguments one at a time as options and values, as the lexopt crate does, and
/// gives an option its value when asked to.
///
/// Invariant: `attached` is what followed the long option last read in its own argument
/// (the `v` of `--opt=v`), and `group` the argument of the short option last read with
/// where what follows that option starts (the `5` of `-n5`, the `V` of `-mV`), until
/// `value` takes that as the option's value; or else the next read refuses a value given
/// to a flag (`no_value`), and reads on in the group, one flag at a time, each read in the
/// same argument, never a copy of its rest.
struct Lexer<I> {
    args: I,
    /// The option last read, as given (`--stats`, `-m`), for messages.
    option: Vec<u8>,
    attached: Option<OsString>,
    group: Option<(OsString, usize)>,
    /// `--` has been read: every argument after it is a `Value`.
    options_ended: bool,
}

impl<I: Iterator<Item = OsString>> Lexer<I> {
    fn new(args: I) -> Self {
        Lexer {
            args,
            option: Vec::new(),
            attached: None,
            group: None,
            options_ended: false,
        }
    }

    /// The next argument, `None` after the last. First, the option read before is taken
    /// to be one that takes no value, unless `value` took one (see `no_value`).
    fn next(&mut self) -> Result<Option<Arg<'_>>, String> {
        self.no_value()?;
        if let Some((arg, at)) = self.rest_of_group() {
            return self.short(arg, at);
        }
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        let bytes = arg.as_bytes();
        if self.options_ended || bytes.len() < 2 || bytes[0] != b'-' {
            return Ok(Some(Arg::Value(arg)));
        }
        if bytes == b"--" {
            self.options_ended = true;
            return Ok(self.args.next().map(Arg::Value));
        }
        if let Some(long) = bytes.strip_prefix(b"--") {
            let end = long.iter().position(|&b| b == b'=').unwrap_or(long.len());
            self.attached = (long.get(end + 1..)).map(|value| OsStr::from_bytes(value).into());
            self.option = bytes[..2 + end].to_vec();
            return Ok(Some(Arg::Long(&self.option[2..])));
        }
        self.short(arg, 1)
    }

    /// The short option at `at` in `arg`, a group of them after a `-`: ASCII, and not a
    /// `-` (`-m-` is neither a flag nor the end of the options).
    fn short(&mut self, arg: OsString, at: usize) -> Result<Option<Arg<'_>>, String> {
        let bytes = arg.as_bytes();
        match bytes[at] {
            b'-' => Err(format!("unknown option '-' in {}", quote(bytes))),
            c if c.is_ascii() => {
                self.option = vec![b'-', c];
                self.group = Some((arg, at + 1));
                Ok(Some(Arg::Short(char::from(c))))
            }
            _ => Err(format!(
                "unknown option {}",
                quote(&[b"-", &bytes[at..]].concat())
            )),
        }
    }

    /// The group of the short option last read and where its rest starts, if it has any
    /// rest; the group is done with either way.
    fn rest_of_group(&mut self) -> Option<(OsString, usize)> {
        self.group.take().filter(|(arg, at)| *at < arg.len())
    }

    /// The value of the option last read, whose long name is `long`: what is attached to
    /// it (`--opt=v`, `-nv`), else the next argument, whatever it looks like (`-n -1`).
    fn value(&mut self, long: &str) -> Result<OsString, String> {
        let rest = |(arg, at): (OsString, usize)| OsStr::from_bytes(&arg.as_bytes()[at..]).into();
        (self.attached.take())
            .or_else(|| self.rest_of_group().map(rest))
            .or_else(|| self.args.next())
            .ok_or_else(|| format!("{long} needs a value"))
    }

    /// Takes the option last read to be one that takes no value: a value given with it
    /// (`--stats=1`, `-m=1`) is refused; what follows a short one in its argument (the `V`
    /// of `-mV`) is more short flags, read next.
    fn no_value(&mut self) -> Result<(), String> {
        let equals = |(arg, at): &(OsString, usize)| arg.as_bytes().get(*at) == Some(&b'=');
        if self.attached.is_some() || self.group.as_ref().is_some_and(equals) {
            let option = String::from_utf8_lossy(&self.option);
            return Err(format!("{option} takes no value"));
        }
        Ok(())
    }
}

/// What the arguments give, option by option, before any check across options and
/// without defaults. An option given twice keeps its last value; streams add up.
#[derive(Default)]
struct Given {
    messages: Option<u64>,
    seed: Option<u64>,
    window: Option<u64>,
    input: Option<Input>,
    fill: Option<Decimal>,
    strict: bool,
    carry: bool,
    by_time: bool,
    merges_only: bool,
    stats: bool,
    help: bool,
    version: bool,
    streams: Streams,
}

/// The streams given, in order.
///
/// Invariant: no two have the same name; `names` holds the names of `specs`, so that
/// many streams cost a look-up each, not a look at every other.
#[derive(Default)]
struct Streams {
    specs: Vec<StreamSpec>,
    names: HashSet<String>,
}

impl Streams {
    /// Adds a stream whose name is not taken yet.
    fn add(&mut self, spec: StreamSpec) -> Result<(), String> {
        if !self.names.insert(spec.name.clone()) {
            return Err(format!(
                "stream {} is given twice",
                quote(spec.name.as_bytes())
            ));
        }
        self.specs.push(spec);
        Ok(())
    }
}

/// Reads what the arguments give, up to `-h` or `-V`, either of which ends the reading.
/// An option's value is converted as it is read, so that the first bad argument is the
/// one a message blames.
fn read(args: impl IntoIterator<Item = OsString>) -> Result<Given, String> {
    let mut lexer = Lexer::new(args.into_iter());
    let mut given = Given::default();
    while !given.help && !given.version {
        let Some(arg) = lexer.next()? else {
            return Ok(given);
        };
        match arg {
            Arg::Short('n') | Arg::Long(b"messages") => {
                given.messages = Some(number(&lexer.value("--messages")?, "--messages", 0)?);
            }
            Arg::Long(b"seed") => given.seed = Some(number(&lexer.value("--seed")?, "--seed", 0)?),
            Arg::Long(b"window") => {
                given.window = Some(number(&lexer.value("--window")?, "--window", 1)?);
            }
            Arg::Short('i') | Arg::Long(b"input") => {
                given.input = Some(shared_input(lexer.value("--input")?)?);
            }
            Arg::Long(b"fill") => given.fill = Some(fill_value(&lexer.value("--fill")?)?),
            Arg::Short('s') | Arg::Long(b"stream") => {
                given.streams.add(stream(&lexer.value("--stream")?)?)?;
            }
            Arg::Short('f') | Arg::Long(b"file") => {
                given.streams.add(file(lexer.value("--file")?)?)?;
            }
            Arg::Long(b"strict") => given.strict = true,
            Arg::Long(b"carry") => given.carry = true,
            Arg::Short('t') | Arg::Long(b"by-time") => given.by_time = true,
            Arg::Short('m') | Arg::Long(b"merges-only") => given.merges_only = true,
            Arg::Long(b"stats") => given.stats = true,
            Arg::Short('h') | Arg::Long(b"help") => given.help = true,
            Arg::Short('V') | Arg::Long(b"version") => given.version = true,
            arg => return Err(arg.unexpected()),
        }
    }
    lexer.no_value()?; // `-h=1`: no read after `-h` or `-V` refuses a value given with it
    Ok(given)
}

/// Checks what was given across options, and makes the `Config` of it, with the defaults
/// of what was not given.
fn config(given: Given) -> Result<Config, String> {
    let ending = match (given.fill, given.strict, given.carry) {
        (Some(_), true, _) => return Err("--fill and --strict cannot go together".to_string()),
        (Some(_), _, true) => return Err("--carry and --fill cannot go together".to_string()),
        (None, true, true) => return Err("--carry and --strict cannot go together".to_string()),
        (Some(fill), false, false) => Ending::Fill(fill),
        (None, true, false) => Ending::Strict,
        (None, false, true) => Ending::Carry,
        (None, false, false) => Ending::Shortest,
    };
    let streams = if given.streams.specs.is_empty() {
        default_streams()
    } else {
        given.streams.specs
    };
    let shared = streams.iter().any(|s| s.kind == Kind::Shared);
    if given.input.is_some() && !shared {
        return Err("--input needs a stream on the shared input (-s NAME)".to_string());
    }
    let input = given.input.unwrap_or(Input::Stdin);
    let own_stdin = streams.iter().filter(|s| s.kind == Kind::Own(Input::Stdin));
    let on_stdin = own_stdin.count() + usize::from(shared && input == Input::Stdin);
    if on_stdin > 1 {
        return Err(
            "stdin can be read by only one input: give the others -f NAME=PATH".to_string(),
        );
    }
    let window = given.window.unwrap_or_else(|| {
        let line = |s: &StreamSpec| format::printed_most(&s.name, given.by_time);
        let longest = streams.iter().map(line).max().unwrap_or(0);
        window_for(streams.len(), if given.merges_only { 0 } else { longest })
    });
    Ok(Config {
        streams,
        messages: given.messages.unwrap_or(MESSAGES),
        seed: given.seed,
        settings: Settings {
            window,
            merges_only: given.merges_only,
            ending,
            by_time: given.by_time,
        },
        stats: given.stats,
        input,
    })
}

/// The streams without `-s` or `-f`: x=0..10 and y=100..110.
fn default_streams() -> Vec<StreamSpec> {
    let range =
        |low, high| Kind::Generated(Uniform::new(low, high, 0).expect("a range that is not empty"));
    vec![
        StreamSpec {
            name: "x".to_string(),
            kind: range(0, 10),
        },
        StreamSpec {
            name: "y".to_string(),
            kind: range(100, 110),
        },
    ]
}

/// `option`'s value as a whole number from `least` to `u64::MAX`: one message for any
/// other value.
fn number(value: &OsString, option: &str, least: u64) -> Result<u64, String> {
    let number = value.to_str().and_then(|text| text.parse::<u64>().ok());
    number.filter(|&number| number >= least).ok_or_else(|| {
        let value = quote(value.as_bytes());
        format!(
            "{option} takes a whole number from {least} to {}, got {value}",
            u64::MAX
        )
    })
}

/// `--input`'s value: the shared input at `path`, which may not be empty (`-` is stdin).
fn shared_input(path: OsString) -> Result<Input, String> {
    if path.is_empty() {
        return Err("--input: the path is empty".to_string());
    }
    Ok(Input::new(path.into()))
}

/// `--fill`'s value.
fn fill_value(text: &OsString) -> Result<Decimal, String> {
    let text = text.as_bytes();
    decimal::parse(text).map_err(|bad| format!("--fill: {}", decimal::why_refused(text, bad)))
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
        let scale = low.scale().max(high.scale());
        let digits = if scale == 1 { "digit" } else { "digits" };
        return Err(bad(format!(
            "LO and HI at {scale} {digits} after the point do not fit in a 64-bit integer"
        )));
    };
    let Some(range) = Uniform::new(low, high, scale) else {
        return Err(bad("LO must be less than HI".to_string()));
    };
    let kind = Kind::Generated(range);
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
    let path = PathBuf::from(OsStr::from_bytes(&bytes[at + 1..]));
    Ok(StreamSpec {
        name,
        kind: Kind::Own(Input::new(path)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::WINDOW;
    use std::os::unix::ffi::OsStringExt;

    fn run(args: &[&str]) -> Result<Config, String> {
        match parse(args.iter().map(OsString::from))? {
            Command::Run(config) => Ok(config),
            other => panic!("{other:?}"),
        }
    }

    fn generated(name: &str, low: i64, high: i64, scale: u8) -> StreamSpec {
        let kind = Kind::Generated(Uniform::new(low, high, scale).unwrap());
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
            by_time: false,
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

    /// What the lexer reads of `args`, item by item: an option as given (`--seed`, `-n`),
    /// `=V` for the value an option takes (only `-n` and `--seed` take one here), and an
    /// argument that is no option quoted (`'stray'`).
    fn lexed(args: &[&str]) -> Result<Vec<String>, String> {
        let mut lexer = Lexer::new(args.iter().map(OsString::from));
        let mut items = Vec::new();
        while let Some(arg) = lexer.next()? {
            let takes_value = match arg {
                Arg::Short('n') => Some("--messages"),
                Arg::Long(b"seed") => Some("--seed"),
                _ => None,
            };
            items.push(match arg {
                Arg::Long(name) => format!("--{}", String::from_utf8_lossy(name)),
                Arg::Short(c) => format!("-{c}"),
                Arg::Value(value) => quote(value.as_bytes()),
            });
            if let Some(long) = takes_value {
                let value = lexer.value(long)?;
                items.push(format!("={}", value.to_str().unwrap()));
            }
        }
        lexer.no_value()?;
        Ok(items)
    }

    #[test]
    fn the_lexer_gives_an_option_its_value_in_each_form() {
        for args in [&["--seed=3"][..], &["--seed", "3"]] {
            assert_eq!(
                lexed(args),
                Ok(vec!["--seed".into(), "=3".into()]),
                "{args:?}"
            );
        }
        for args in [&["-n3"][..], &["-n", "3"]] {
            assert_eq!(lexed(args), Ok(vec!["-n".into(), "=3".into()]), "{args:?}");
        }
        // A long option's value is all after the first `=`; a short one's, all after its
        // letter, `=` too.
        assert_eq!(
            lexed(&["--seed=a=b"]),
            Ok(vec!["--seed".into(), "=a=b".into()])
        );
        assert_eq!(lexed(&["--seed="]), Ok(vec!["--seed".into(), "=".into()]));
        assert_eq!(lexed(&["-n=3"]), Ok(vec!["-n".into(), "==3".into()]));
        assert_eq!(lexed(&["--seed"]), Err("--seed needs a value".to_string()));
        assert_eq!(lexed(&["-n"]), Err("--messages needs a value".to_string()));
    }

    #[test]
    fn the_lexer_reads_a_group_of_short_flags_one_by_one() {
        assert_eq!(lexed(&["-mV"]), Ok(vec!["-m".into(), "-V".into()]));
        assert_eq!(
            lexed(&["-mmm"]),
            Ok(vec!["-m".into(), "-m".into(), "-m".into()])
        );
        assert_eq!(
            lexed(&["-mn5", "x"]),
            Ok(vec!["-m".into(), "-n".into(), "=5".into(), "'x'".into()])
        );
        assert_eq!(parse(["-mV"].map(OsString::from)), Ok(Command::Version));
        // A `-` in a group is no flag, and does not end the options as `--` does.
        for group in ["-m-", "-m--x", "-mm-V"] {
            let error = format!("unknown option '-' in '{group}'");
            assert_eq!(lexed(&[group, "-V"]), Err(error), "{group}");
        }
        // A long group, read to its end; and a byte that is no ASCII flag, after another.
        assert_eq!(lexed(&["-mé"]), Err("unknown option '-é'".to_string()));
        let long = format!("-{}", "m".repeat(100_000));
        assert_eq!(lexed(&[&long]).map(|flags| flags.len()), Ok(100_000));
        let config = run(&["-mn7"]).unwrap();
        assert!(config.settings.merges_only);
        assert_eq!(config.messages, 7);
    }

    #[test]
    fn a_value_given_to_a_flag_is_refused() {
        for (args, error) in [
            (&["--stats=1"][..], "--stats takes no value"),
            (&["--stats="], "--stats takes no value"),
            (&["-m=1"], "-m takes no value"),
            (&["-mm=1"], "-m takes no value"),
            (&["-h=1"], "-h takes no value"),
            (&["-mV="], "-V takes no value"),
        ] {
            assert_eq!(lexed(args), Err(error.to_string()), "{args:?}");
            assert_eq!(
                parse(args.iter().map(OsString::from)),
                Err(error.to_string())
            );
        }
    }

    #[test]
    fn a_double_dash_ends_the_options() {
        assert_eq!(lexed(&["--"]), Ok(vec![]));
        assert_eq!(lexed(&["--", "-n"]), Ok(vec!["'-n'".into()]));
        assert_eq!(
            lexed(&["-m", "--", "--stats", "--"]),
            Ok(vec!["-m".into(), "'--stats'".into(), "'--'".into()])
        );
        assert_eq!(run(&["-m", "--"]).map(|c| c.settings.merges_only), Ok(true));
        assert_eq!(run(&["--", "-m"]).unwrap_err(), "unexpected argument '-m'");
    }

    #[test]
    fn arguments_that_are_no_options_are_values() {
        assert_eq!(lexed(&["stray"]), Ok(vec!["'stray'".into()]));
        assert_eq!(lexed(&["-"]), Ok(vec!["'-'".into()]));
        assert_eq!(lexed(&[""]), Ok(vec!["''".into()]));
        assert_eq!(run(&["-"]).unwrap_err(), "unexpected argument '-'");
    }

    #[test]
    fn a_value_that_looks_like_an_option_is_the_options_value() {
        assert_eq!(lexed(&["-n", "-1"]), Ok(vec!["-n".into(), "=-1".into()]));
        assert_eq!(
            lexed(&["--seed", "--stats"]),
            Ok(vec!["--seed".into(), "=--stats".into()])
        );
        assert_eq!(
            run(&["-n", "-1"]).unwrap_err(),
            "--messages takes a whole number from 0 to 18446744073709551615, got '-1'"
        );
        assert_eq!(
            run(&["--seed", "--stats"]).unwrap_err(),
            "--seed takes a whole number from 0 to 18446744073709551615, got '--stats'"
        );
    }

    #[test]
    fn arguments_need_not_be_utf8() {
        let args = [&b"--\xff=\xfe"[..], b"-n\xff", b"\xff", b"-\xff"];
        let mut lexer = Lexer::new(args.iter().map(|arg| OsString::from_vec(arg.to_vec())));
        assert_eq!(lexer.next(), Ok(Some(Arg::Long(b"\xff"))));
        assert_eq!(lexer.value("--x").unwrap().as_bytes(), b"\xfe");
        assert_eq!(lexer.next(), Ok(Some(Arg::Short('n'))));
        assert_eq!(lexer.value("--messages").unwrap().as_bytes(), b"\xff");
        let value = OsString::from_vec(b"\xff".to_vec());
        assert_eq!(lexer.next(), Ok(Some(Arg::Value(value))));
        assert_eq!(lexer.next(), Err("unknown option '-\\xFF'".to_string()));
        let parsed = |arg: &[u8]| parse([OsString::from_vec(arg.to_vec())]);
        assert_eq!(
            parsed(b"--\xff=1"),
            Err("unknown option '--\\xFF'".to_string())
        );
        assert_eq!(
            parsed(b"\xff"),
            Err("unexpected argument '\\xFF'".to_string())
        );
        assert_eq!(
            parsed(b"-n\xff"),
            Err(
                "--messages takes a whole number from 0 to 18446744073709551615, got '\\xFF'"
                    .to_string()
            )
        );
    }

    #[test]
    fn an_option_given_again_keeps_its_last_value() {
        assert_eq!(run(&["--seed", "1", "--seed", "2"]).unwrap().seed, Some(2));
        assert_eq!(run(&["-n", "1", "--messages=7"]).unwrap().messages, 7);
        let settings = |args: &[&str]| run(args).unwrap().settings;
        assert_eq!(settings(&["--window", "3", "--window=5"]).window, 5);
        let fill = decimal::Decimal::new(25, 1).unwrap();
        let ending = settings(&["--fill", "1", "--fill", "2.5"]).ending;
        assert_eq!(ending, Ending::Fill(fill));
        let config = run(&["-i", "a", "-s", "x", "--input=b"]).unwrap();
        assert_eq!(config.input, Input::Path("b".into()));
        assert_eq!(
            run(&["-i", "a", "-s", "x", "-i", "-"]).unwrap().input,
            Input::Stdin
        );
    }

    #[test]
    fn help_and_version_end_the_reading() {
        let parsed = |args: &[&str]| parse(args.iter().map(OsString::from));
        assert_eq!(parsed(&["-h", "--bogus"]), Ok(Command::Help));
        assert_eq!(parsed(&["--version", "-n"]), Ok(Command::Version));
        assert_eq!(parsed(&["-Vh"]), Ok(Command::Version));
        assert_eq!(
            parsed(&["--bogus", "-h"]),
            Err("unknown option '--bogus'".to_string())
        );
    }

    /// Asserts that each of `cases`' arguments is a usage error that names its problem.
    fn refused(cases: &[(&[&str], &str)]) {
        for &(args, problem) in cases {
            let error = run(args).unwrap_err();
            assert!(error.contains(problem), "{args:?}: {error}");
        }
    }

    #[test]
    fn usage_errors_name_the_problem() {
        refused(&[
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
            (&["--fill", "x"], "--fill: 'x' is not a value"),
        ]);
    }

    #[test]
    fn usage_errors_in_a_stream_name_the_problem() {
        refused(&[
            (&["-s", "x=0-1"][..], "expected NAME=LO..HI"),
            (&["-s", "x=a..b"], "'a' is not a value"),
            (&["-s", "x=0..9223372036854775808"], "out of range"),
            (&["-s", "x=0..1e-19"], "out of range"),
            (
                &["-s", "x=0.5..9223372036854775807"],
                "LO and HI at 1 digit after the point do not fit",
            ),
            (
                &["-s", "x=0.05..9223372036854775807"],
                "LO and HI at 2 digits after the point do not fit",
            ),
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
            (
                &["-s", "a=0..1", "-s", "a=2..3"],
                "stream 'a' is given twice",
            ),
            (&["-f", "x"], "expected NAME=PATH"),
            (&["-f", "x="], "the path is empty"),
        ]);
    }

    #[test]
    fn usage_errors_across_options_name_the_problem() {
        refused(&[
            (
                &["-i", "f"][..],
                "--input needs a stream on the shared input",
            ),
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
            (
                &["--fill", "1", "--strict"],
                "--fill and --strict cannot go together",
            ),
        ]);
        assert!(run(&["-s", "a", "-i", "in", "-f", "b=-"]).is_ok());
    }
}
