//! Drives the real binary with arguments and checks its output, exit status and stderr.

use std::ffi::{OsStr, c_int};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_stream-merge");

/// Runs with `args` and stdin closed at once; a run that hangs fails (see `finish`).
fn run(args: &[impl AsRef<OsStr>]) -> Output {
    finish(spawn(args))
}

/// A pipe: its read end and its write end, both closed on exec, so that no other
/// test's child holds it open.
fn pipe() -> (OwnedFd, OwnedFd) {
    unsafe extern "C" {
        fn pipe2(fds: *mut c_int, flags: c_int) -> c_int;
    }
    const O_CLOEXEC: c_int = 0o2000000;
    let mut fds: [c_int; 2] = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    let made = unsafe { pipe2(fds.as_mut_ptr(), O_CLOEXEC) };
    assert_eq!(made, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Runs with `args` and, as stdout, a pipe whose reader has gone before the run starts, so
/// that every write fails; a run that hangs fails (see `finish`).
fn run_into_closed_pipe(args: &[impl AsRef<OsStr>]) -> Output {
    let (reader, writer) = pipe();
    drop(reader);
    finish(spawn_with(args, Stdio::null(), Stdio::from(writer)))
}

/// Starts the binary with `args`, stdin, stdout and stderr each a pipe to the test.
fn spawn(args: &[impl AsRef<OsStr>]) -> Child {
    spawn_with(args, Stdio::piped(), Stdio::piped())
}

/// Starts the binary with `args`, `stdin` and `stdout`, and stderr a pipe to the test.
fn spawn_with(args: &[impl AsRef<OsStr>], stdin: Stdio, stdout: Stdio) -> Child {
    let mut command = Command::new(BIN);
    command.args(args).stdin(stdin).stdout(stdout);
    command
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs")
}

/// Runs with `input` on stdin, written while the output is read; a run that hangs fails.
fn run_with_input(args: &[&str], input: impl AsRef<[u8]>) -> Output {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().unwrap();
    let input = input.as_ref().to_vec();
    // The run may end before reading it all.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = finish(child);
    let _ = writer.join();
    output
}

mod common;

use common::{Dir, assert_stats, shown_path, test_name};

/// Asserts that a run succeeded with nothing on stderr.
fn assert_quiet(output: &Output) {
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "{output:?}"
    );
}

/// A failed run's exit status, stdout and one-line stderr.
fn failure(output: &Output) -> (Option<i32>, String, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code(), stdout, stderr)
}

/// Waits for `child` to exit, reading what it prints: a run that should end must not hang
/// the test suite.
fn finish(child: Child) -> Output {
    let pid = child.id();
    let (tx, output) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match output.recv_timeout(Duration::from_secs(20)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("still running after 20 s");
        }
    }
}

/// A usage error's whole stderr, for `problem`.
fn usage(problem: &str) -> String {
    format!("stream-merge: {problem} (see --help)\n")
}

/// Asserts that `args` are a usage error whose whole stderr is `problem`'s line.
fn assert_usage(args: &[&str], problem: &str) {
    let output = run(args);
    let (code, stdout, stderr) = failure(&output);
    assert_eq!((code, stdout.as_str()), (Some(2), ""), "{args:?}");
    assert_eq!(stderr, usage(problem), "{args:?}");
}

/// The name rule's message for a name that `quoted` shows.
fn invalid_name(quoted: &str) -> String {
    format!(
        "invalid stream name {quoted}: a name is not empty, is not 'merge', does not start \
         with '#', and has no spaces, control or invisible characters"
    )
}

/// What a run whose stdout is /dev/full says.
const CANNOT_WRITE: &str =
    "stream-merge: cannot write output: No space left on device (os error 28)\n";

/// What a message adds when a line has a time but the run is not by time.
const TIME_HINT: &str = ": lines with a time need --by-time";

/// What a message says of a token that is not a value, after it.
const NOT_A_VALUE: &str = "is not a value: a value is a decimal such as 7, -12, 20.5, .5 or 2.5E3";

/// The lines of a run's stdout, as (name, value) text.
fn lines_of(stdout: &[u8]) -> Vec<(String, String)> {
    let stdout = std::str::from_utf8(stdout).unwrap();
    let pair = |line: &str| {
        let (name, value) = line.split_once(' ').expect("NAME VALUE");
        (name.to_string(), value.to_string())
    };
    stdout.lines().map(pair).collect()
}

/// The lines of a successful run that printed nothing on stderr.
fn lines_of_run(args: &[&str]) -> Vec<(String, String)> {
    let output = run(args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    assert!(output.stderr.is_empty(), "{args:?}: {output:?}");
    lines_of(&output.stdout)
}

/// The values of stream `name`, or the merges for `merge`, in order, as printed.
fn values(lines: &[(String, String)], name: &str) -> Vec<String> {
    let values = lines.iter().filter(|(n, _)| n == name);
    values.map(|(_, value)| value.clone()).collect()
}

/// A value printed as a whole number.
fn integer(value: &str) -> i128 {
    value.parse().expect("an integer")
}

/// The values of stream `name`, or the merges, as whole numbers: for runs of integers.
fn integers(lines: &[(String, String)], name: &str) -> Vec<i128> {
    values(lines, name).iter().map(|v| integer(v)).collect()
}

/// Asserts that merge k is the sum of the k-th values and comes after them, that no value
/// outside `names` appears, and that every stream has `rounds` values.
fn assert_merged(lines: &[(String, String)], names: &[&str], rounds: usize) {
    let streams: Vec<Vec<i128>> = names.iter().map(|name| integers(lines, name)).collect();
    let merges = integers(lines, "merge");
    assert_eq!(merges.len(), rounds);
    for (k, &merge) in merges.iter().enumerate() {
        assert_eq!(
            merge,
            streams.iter().map(|s| s[k]).sum::<i128>(),
            "merge {k}"
        );
    }
    let mut seen = vec![0; names.len()];
    let mut merged = 0;
    for (name, _) in lines {
        if name == "merge" {
            merged += 1;
            assert!(
                seen.iter().all(|&n| n >= merged),
                "merge {merged} before its values"
            );
        } else {
            seen[names
                .iter()
                .position(|n| n == name)
                .expect("a known stream")] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n == rounds));
}

mod merging {
    use super::*;

    #[test]
    fn the_default_run_is_the_original_example() {
        let lines = lines_of_run(&[]);
        assert_merged(&lines, &["x", "y"], 4);
        assert!(integers(&lines, "x").iter().all(|v| (0..10).contains(v)));
        assert!(integers(&lines, "y").iter().all(|v| (100..110).contains(v)));
    }

    #[test]
    fn every_merge_sums_the_nth_value_of_every_stream() {
        let args = [
            "-n",
            "5000",
            "-s",
            "a=0..10",
            "-s",
            "b=-1000..1000",
            "-s",
            "c=5..6",
        ];
        let lines = lines_of_run(&args);
        assert_merged(&lines, &["a", "b", "c"], 5000);
        let (b, c) = (integers(&lines, "b"), integers(&lines, "c"));
        assert!(b.iter().all(|v| (-1000..1000).contains(v)));
        assert!(c.iter().all(|&v| v == 5));
    }

    #[test]
    fn many_streams_merge_as_two_do() {
        let specs: Vec<String> = (0..100)
            .map(|k| format!("--stream=s{k}=-{k}..{k}.5"))
            .collect();
        let mut args: Vec<&str> = specs.iter().map(String::as_str).collect();
        args.extend(["-n", "3000", "--seed", "4"]);
        let output = run(&args);
        assert!(output.status.success(), "{output:?}");
        let lines = lines_of(&output.stdout);
        let names: Vec<String> = (0..100).map(|k| format!("s{k}")).collect();
        let tenths = |v: &String| -> i64 { v.replace('.', "").parse().unwrap() };
        let streams: Vec<Vec<i64>> = names
            .iter()
            .map(|n| values(&lines, n).iter().map(tenths).collect())
            .collect();
        let merges: Vec<i64> = values(&lines, "merge").iter().map(tenths).collect();
        assert_eq!(merges.len(), 3000);
        for (k, merge) in merges.iter().enumerate() {
            assert_eq!(
                *merge,
                streams.iter().map(|s| s[k]).sum::<i64>(),
                "merge {k}"
            );
        }
    }

    #[test]
    fn zero_messages_print_nothing() {
        assert!(lines_of_run(&["-n", "0"]).is_empty());
    }

    #[test]
    fn sums_are_exact_beyond_i64() {
        let max = "x=9223372036854775806..9223372036854775807";
        let min = "z=-9223372036854775808..-9223372036854775807";
        let high = lines_of_run(&[
            "-n",
            "2",
            "-s",
            max,
            "-s",
            &max.replace('x', "y"),
            "-s",
            &max.replace('x', "w"),
        ]);
        assert_merged(&high, &["x", "y", "w"], 2);
        assert_eq!(integers(&high, "merge"), [3 * (i64::MAX as i128 - 1); 2]);
        let low = lines_of_run(&["-n", "1", "-s", min, "-s", &min.replace('z', "v")]);
        assert_eq!(integers(&low, "merge"), [2 * i64::MIN as i128]);
    }

    #[test]
    fn merges_only_prints_just_the_merges() {
        let all = lines_of_run(&["-n", "300", "--seed", "9"]);
        let merges = lines_of_run(&["-n", "300", "--seed", "9", "--merges-only"]);
        assert!(merges.iter().all(|(name, _)| name == "merge"));
        assert_eq!(integers(&merges, "merge"), integers(&all, "merge"));
    }
}

mod window {
    use super::*;

    #[test]
    fn the_smallest_window_still_merges_every_round() {
        let lines = lines_of_run(&[
            "-n", "3000", "--window", "1", "-s", "a=0..5", "-s", "b=7..9", "-s", "c=-9..0",
        ]);
        assert_merged(&lines, &["a", "b", "c"], 3000);
    }
}

mod seeds {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_values_and_merges() {
        let args = ["-n", "2000", "--seed", "42"];
        let view = |lines: &[(String, String)]| ["x", "y", "merge"].map(|n| integers(lines, n));
        let (first, second) = (lines_of_run(&args), lines_of_run(&args));
        assert_eq!(view(&first), view(&second));
        let other = lines_of_run(&["-n", "2000", "--seed", "43"]);
        assert_ne!(view(&first), view(&other));
    }

    #[test]
    fn a_streams_values_do_not_depend_on_its_neighbours() {
        let alone = lines_of_run(&["-n", "500", "--seed", "5", "-s", "a=0..1000"]);
        let crowded = lines_of_run(&[
            "-n",
            "500",
            "--seed",
            "5",
            "-s",
            "b=0..7",
            "-s",
            "a=0..1000",
            "-s",
            "c=1..2",
        ]);
        assert_eq!(integers(&alone, "a"), integers(&crowded, "a"));
    }

    #[test]
    fn runs_without_a_seed_differ() {
        let args = ["-n", "100", "-s", "a=0..1000000"];
        assert_ne!(lines_of_run(&args), lines_of_run(&args));
    }
}

mod usage {
    use super::*;

    #[test]
    fn help_and_version_end_the_reading_before_the_checks_across_options() {
        let help = run(&["--help"]).stdout;
        for args in [&["--fill", "0", "--strict", "-h"][..], &["-h", "--bogus"]] {
            let output = run(args);
            assert_quiet(&output);
            assert_eq!(output.stdout, help, "{args:?}");
        }
        let output = run(&["--carry", "--strict", "-V", "-n"]);
        assert!(output.status.success(), "{output:?}");
        let version = format!("stream-merge {}\n", env!("CARGO_PKG_VERSION"));
        assert_eq!(output.stdout, version.as_bytes());
        // Before them, the first mistake is the usage error.
        assert_usage(&["--bogus", "-h"], "unknown option '--bogus'");
    }

    #[test]
    fn help_lists_every_option() {
        let output = run(&["--help"]);
        assert!(output.status.success());
        let help = String::from_utf8(output.stdout).unwrap();
        for option in [
            "-n, --messages N",
            "-s, --stream NAME=LO..HI",
            "-s, --stream NAME ",
            "-i, --input FILE",
            "-f, --file NAME=PATH",
            "-t, --by-time",
            "    --strict",
            "    --fill VALUE",
            "    --carry",
            "    --seed S",
            "-m, --merges-only",
            "    --window W",
            "    --stats",
            "-h, --help",
            "-V, --version",
            "Examples:",
        ] {
            assert!(help.contains(option), "{option}");
        }
        assert_eq!(run(&["-h"]).stdout, help.as_bytes());
    }

    #[test]
    fn version_names_the_program() {
        let output = run(&["-V"]);
        assert!(output.status.success());
        assert_eq!(
            output.stdout,
            format!("stream-merge {}\n", env!("CARGO_PKG_VERSION")).as_bytes()
        );
    }

    #[test]
    fn each_usage_error_is_one_line_and_exit_2() {
        let number = |option: &str, low: u8, got: &str| {
            format!("{option} takes a whole number from {low} to 18446744073709551615, got '{got}'")
        };
        let stdin_once = "stdin can be read by only one input: give the others -f NAME=PATH";
        let stdin_once = stdin_once.to_string();
        for (args, problem) in [
            (&["--messages"][..], "--messages needs a value".to_string()),
            (&["-n", "x"], number("--messages", 0, "x")),
            (
                &["-n", "99999999999999999999"],
                number("--messages", 0, "99999999999999999999"),
            ),
            (&["--seed", "-1"], number("--seed", 0, "-1")),
            (&["--window"], "--window needs a value".to_string()),
            (
                &["--frobnicate"],
                "unknown option '--frobnicate'".to_string(),
            ),
            (&["extra"], "unexpected argument 'extra'".to_string()),
            (
                &["-s", "x=0-1"],
                "invalid stream 'x=0-1': expected NAME=LO..HI".to_string(),
            ),
            (
                &["-s", "x=a..b"],
                format!("invalid stream 'x=a..b': 'a' {NOT_A_VALUE}"),
            ),
            (
                &["-s", "x=3..1"],
                "invalid stream 'x=3..1': LO must be less than HI".to_string(),
            ),
            (&["-s", "merge=0..1"], invalid_name("'merge'")),
            (
                &["-s", "x=0..1", "-s", "x=0..2"],
                "stream 'x' is given twice".to_string(),
            ),
            (&["-m=1"], "-m takes no value".to_string()),
            (&["-f", "a=-", "-s", "x"], stdin_once.clone()),
            (&["-f", "a=-", "-f", "b=-"], stdin_once),
            (
                &["-i", "in.txt"],
                "--input needs a stream on the shared input (-s NAME)".to_string(),
            ),
            (
                &["--fill", "0", "--strict"],
                "--fill and --strict cannot go together".to_string(),
            ),
        ] {
            assert_usage(args, &problem);
        }
    }
}

mod closed_output {
    use super::*;

    #[test]
    fn stats_are_printed_after_a_closed_stdout_too() {
        // Only the closed stdout can end this run; how far it gets depends on when.
        let output = run_into_closed_pipe(&["-n", "18446744073709551615", "--stats"]);
        assert!(output.status.success(), "{output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        let labels = [
            "rounds merged: ",
            "rounds dropped: 0",
            "rounds filled: 0",
            "rounds carried: 0",
            "values: x ",
            "elapsed: ",
            "rounds per second: ",
        ];
        assert_eq!(stderr.lines().count(), labels.len(), "{stderr}");
        for (line, label) in stderr.lines().zip(labels) {
            assert!(line.starts_with(label), "{stderr}");
        }
    }

    #[test]
    fn a_stdout_closed_altogether_loses_the_output_and_exits_0() {
        // The runtime opens /dev/null where descriptor 1 is closed.
        let mut command = Command::new("sh");
        command.args(["-c", "exec \"$0\" -n 1000 >&-", BIN]);
        let output = finish(command.stderr(Stdio::piped()).spawn().unwrap());
        assert_quiet(&output);
    }

    #[test]
    fn a_closed_stdout_ends_a_long_run_at_once_and_quietly() {
        // Only the closed stdout can end this run.
        let mut child = spawn(&["-n", "18446744073709551615"]);
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with('x') || first.starts_with('y'), "{first}");
        // The reader is dropped: stdout is closed.
        let output = finish(child);
        assert_quiet(&output);
    }

    #[test]
    fn an_output_that_fails_is_a_run_time_error() {
        let full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = finish(spawn_with(&["-n", "100000"], Stdio::null(), full.into()));
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr, CANNOT_WRITE);
    }
}

mod shared_input {
    use super::*;

    #[test]
    fn the_programs_own_output_feeds_back_in() {
        let first = lines_of_run(&["--seed", "5", "-n", "1000"]);
        let text: String = first
            .iter()
            .map(|(name, value)| format!("{name} {value}\n"))
            .collect();
        let output = run_with_input(&["-s", "x", "-s", "y"], &text);
        assert_quiet(&output);
        let second = lines_of(&output.stdout);
        assert_merged(&second, &["x", "y"], 1000);
        for name in ["x", "y", "merge"] {
            assert_eq!(integers(&first, name), integers(&second, name), "{name}");
        }
    }

    #[test]
    fn generated_and_external_streams_mix() {
        let output = run_with_input(&["-s", "a", "-s", "g=5..6", "-n", "3"], "a 1\na 2\na 3\n");
        assert_quiet(&output);
        assert_eq!(integers(&lines_of(&output.stdout), "merge"), [6, 7, 8]);
    }

    #[test]
    fn unequal_streams_end_with_the_shortest_and_report_the_rest() {
        let output = run_with_input(&["-s", "a", "-s", "b", "-m"], "a 1\na 2\na 3\nb 10\n");
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, b"merge 11\n");
        // a's second value is in the round that ended the run: the only one unmatched.
        assert_eq!(output.stderr, b"a: 1 unmatched\n");
    }

    #[test]
    fn a_long_generated_stream_stops_when_a_short_external_one_ends() {
        let output = run_with_input(
            &["-s", "x=0..10", "-s", "y", "-n", "1000000000", "-m"],
            "y 100\ny 100\ny 100\n",
        );
        assert!(output.status.success(), "{output:?}");
        let merges = integers(&lines_of(&output.stdout), "merge");
        assert_eq!(merges.len(), 3);
        assert!(merges.iter().all(|m| (100..110).contains(m)), "{merges:?}");
        // x ran ahead by at most its window; what no merge used is reported.
        let stderr = String::from_utf8(output.stderr).unwrap();
        let left: u64 = stderr
            .strip_prefix("x: ")
            .and_then(|s| s.strip_suffix(" unmatched\n"))
            .unwrap()
            .parse()
            .unwrap();
        assert!(left <= 16384, "{stderr}"); // the default window
    }

    #[test]
    fn crlf_blank_and_merge_lines_are_accepted() {
        let input = "x 1\r\n\r\n   \t\n  y\t  2  \r\nmerge 3\r\nx -4\ny 10";
        let output = run_with_input(&["-s", "x", "-s", "y"], input);
        assert_quiet(&output);
        let lines = lines_of(&output.stdout);
        assert_merged(&lines, &["x", "y"], 2);
        assert_eq!(integers(&lines, "x"), [1, -4]);
        assert_eq!(integers(&lines, "y"), [2, 10]);
        assert_eq!(integers(&lines, "merge"), [3, 6]);
    }

    #[test]
    fn each_bad_line_is_reported_with_its_place_after_the_merges_before_it() {
        // A line naming no stream on the input is every one's next item: only merge 1 is
        // made. A bad line of x is x's third item: y's 4 still makes merge 2.
        let dir = Dir::new(test_name!());
        let f = dir.source("f", "zeros.txt", "0\n".repeat(9));
        for (line, merges, problem) in [
            (
                "z 1",
                "merge 3\n",
                "<stdin>:5: no stream is named 'z': declare it with -s NAME",
            ),
            (
                "g 1",
                "merge 3\n",
                "<stdin>:5: stream 'g' is generated (-s g=LO..HI), not read from the input",
            ),
            (
                "f 1",
                "merge 3\n",
                "<stdin>:5: stream 'f' has a source of its own (-f), not this input",
            ),
            (
                "x\x0c1",
                "merge 3\n",
                "<stdin>:5: no stream is named 'x\\x0C1': declare it with -s NAME",
            ),
            (
                "x",
                "merge 3\nmerge 7\n",
                "<stdin>:5: stream 'x': a value is expected after the name",
            ),
            (
                "x 1 2",
                "merge 3\nmerge 7\n",
                "<stdin>:5: stream 'x': unexpected '2' after the value: lines with a time need \
                 --by-time",
            ),
            (
                "x one",
                "merge 3\nmerge 7\n",
                "<stdin>:5: stream 'x': 'one' is not a value: a value is a decimal such as 7, \
                 -12, 20.5, .5 or 2.5E3",
            ),
            (
                "x 1e30",
                "merge 3\nmerge 7\n",
                "<stdin>:5: stream 'x': '1e30' is out of range: a value is m·10^-s with m a \
                 64-bit integer and at most 18 digits after the point",
            ),
        ] {
            let input = format!("x 1\ny 2\n\nx 3\n{line}\ny 4\n");
            let args = [
                "-s", "x", "-s", "y", "-s", "g=0..1", "-f", &f, "-n", "9", "-m",
            ];
            let output = run_with_input(&args, &input);
            let (code, stdout, stderr) = failure(&output);
            assert_eq!(code, Some(1), "{line}: {stderr}");
            assert_eq!(stderr, format!("stream-merge: {problem}\n"), "{line}");
            assert_eq!(stdout, merges, "{line}");
        }
    }

    #[test]
    fn a_line_naming_no_stream_is_named_as_the_first_streams_failure_after_a_bad_line() {
        let input = "x bad\nzz 1\n";
        let output = run_with_input(&["-s", "y", "-s", "x"], input);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        let unknown = "stream-merge: <stdin>:2: no stream is named 'zz': declare it with -s NAME\n";
        assert_eq!(stderr, unknown);
        // With x first on the command line, its bad line is the failure named.
        let output = run_with_input(&["-s", "x", "-s", "y"], input);
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        assert_eq!(
            stderr,
            format!("stream-merge: <stdin>:1: stream 'x': 'bad' {NOT_A_VALUE}\n")
        );
    }

    #[test]
    fn any_form_of_a_value_merges_as_its_canonical_form_does() {
        // Runs of x, y and merge lines as the output prints them, taken at a glance, with
        // other forms of the same values mixed in, across many blocks of input.
        let (mut canonical, mut mixed) = (String::new(), String::new());
        for k in 0..59_990i64 {
            let (name, v) = (["x", "y"][(k / 7 % 2) as usize], k % 1000 - 500);
            let sign = if v < 0 { "-" } else { "+" };
            let odd = match k % 13 {
                0 => format!("{name} {sign}{}", v.abs()),
                1 => format!("{name}\t{v}.e0"),
                2 => format!(" {name} {v} \r"),
                3 => format!("{name} {sign}00{}", v.abs()),
                _ => format!("{name} {v}"),
            };
            canonical += &format!("{name} {v}\n");
            mixed += &format!("{odd}\n");
            if k % 29 == 0 {
                mixed += "merge 1\n";
            }
        }
        let args = ["-s", "x", "-s", "y"];
        let (expected, output) = (
            run_with_input(&args, canonical),
            run_with_input(&args, mixed),
        );
        assert_quiet(&output);
        let (expected, output) = (lines_of(&expected.stdout), lines_of(&output.stdout));
        for name in ["x", "y", "merge"] {
            assert!(values(&output, name) == values(&expected, name), "{name}");
        }
        assert_eq!(values(&output, "merge").len(), 29_995);
    }

    #[test]
    fn merges_appear_as_soon_as_the_line_that_completes_them_arrives() {
        let mut child = spawn(&["-s", "x", "-s", "y"]);
        let mut stdin = child.stdin.take().unwrap();
        let (tx, printed) = std::sync::mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            stdout
                .lines()
                .map_while(Result::ok)
                .try_for_each(|l| tx.send(l))
        });
        for k in 0..20 {
            // The pipe stays open: the program waits for more while we look for the merge.
            writeln!(stdin, "x {k}\ny {}", 100 * k).unwrap();
            stdin.flush().unwrap();
            for expected in [
                format!("x {k}"),
                format!("y {}", 100 * k),
                format!("merge {}", 101 * k),
            ] {
                let line = printed
                    .recv_timeout(Duration::from_secs(20))
                    .expect("a line, promptly");
                assert_eq!(line, expected);
            }
        }
        drop(stdin);
        assert!(finish(child).status.success());
    }

    #[test]
    fn input_can_come_from_a_file() {
        let dir = Dir::new(test_name!());
        let path = dir.file("input.txt", "y 5\nx 1\n");
        let path = path.as_str();
        for args in [
            &["-s", "x", "-s", "y", "-i", path][..],
            &["-s", "x", "-s", "y", &format!("--input={path}")],
        ] {
            let output = run(args);
            assert!(output.status.success(), "{output:?}");
            let lines = lines_of(&output.stdout);
            assert_eq!(integers(&lines, "x"), [1]);
            assert_eq!(integers(&lines, "y"), [5]);
            assert_eq!(integers(&lines, "merge"), [6]);
        }
        let output = run_with_input(&["-s", "x", "-s", "y", "-i", "-"], "x 1\ny 1\n");
        let lines = lines_of(&output.stdout);
        assert_eq!(integers(&lines, "x"), [1]);
        assert_eq!(integers(&lines, "y"), [1]);
        assert_eq!(integers(&lines, "merge"), [2]);
    }

    #[test]
    fn an_input_that_cannot_be_read_is_named_before_any_output() {
        let output = run(&["-s", "x", "-i", "/no/such/file"]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        let expected =
            "stream-merge: /no/such/file: cannot read: No such file or directory (os error 2)\n";
        assert_eq!(stderr, expected);
    }

    #[test]
    fn input_is_not_read_without_an_external_stream() {
        let mut child = spawn(&["-n", "2", "-m"]);
        // stdin, a pipe, is held open until the run ends: a run that read it would hang,
        // and fail at `finish`'s guard.
        let stdin = child.stdin.take();
        let output = finish(child);
        drop(stdin);
        assert!(output.status.success());
        let lines = lines_of(&output.stdout);
        assert_eq!(lines.len(), 2);
        assert_eq!(integers(&lines, "merge").len(), 2);
    }
}

mod decimals {
    use super::*;

    /// The largest `i64`.
    const MAX: &str = "9223372036854775807";

    /// The merges of two rounds of streams `s0`, `s1`, ... on the shared input, whose values
    /// are `terms`, and of `z`, whose values are `z1` and `z2`.
    fn merges_of(terms: impl Iterator<Item = [String; 2]>, z1: &str, z2: &str) -> Output {
        let mut args = vec!["-m".to_string()];
        let mut input = String::new();
        for (k, [first, second]) in terms.enumerate() {
            args.extend(["-s".to_string(), format!("s{k}")]);
            input += &format!("s{k} {first}\ns{k} {second}\n");
        }
        args.extend(["-s".to_string(), "z".to_string()]);
        input += &format!("z {z1}\nz {z2}\n");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_with_input(&args, &input)
    }

    /// A decimal as (mantissa, scale), parsed independently of the program: plain digits
    /// with an optional sign and point, as the program prints them.
    fn exact(text: &str) -> (i128, u32) {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let mantissa = format!("{whole}{fraction}").parse().unwrap();
        (mantissa, fraction.len() as u32)
    }

    /// The sum of `terms` at the largest of their scales, printed by hand.
    fn sum(terms: &[(i128, u32)]) -> String {
        let scale = terms.iter().map(|t| t.1).max().unwrap();
        let total: i128 = terms.iter().map(|&(m, s)| m * 10i128.pow(scale - s)).sum();
        let digits = total.unsigned_abs().to_string();
        let digits = format!("{digits:0>width$}", width = scale as usize + 1);
        let (whole, fraction) = digits.split_at(digits.len() - scale as usize);
        let sign = if total < 0 { "-" } else { "" };
        match scale {
            0 => format!("{sign}{whole}"),
            _ => format!("{sign}{whole}.{fraction}"),
        }
    }

    #[test]
    fn sums_follow_the_finest_scale_as_bc_does() {
        let input = "x 1.50\ny 2\nx 0.1\ny 0.2\nx -1.5\ny 1.50\nx 1e3\ny 2.5E-2\nx 7\ny 8\n";
        let output = run_with_input(&["-s", "x", "-s", "y", "-m"], input);
        assert!(output.status.success(), "{output:?}");
        let expected = "merge 3.50\nmerge 0.3\nmerge 0.00\nmerge 1000.025\nmerge 15\n";
        assert_eq!(String::from_utf8(output.stdout).unwrap(), expected);
    }

    #[test]
    fn decimal_sums_match_an_independent_exact_computation() {
        // Values of every scale from 0 to 18 and of every size, from a fixed LCG.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state
        };
        let mut input = String::new();
        for _ in 0..3000 {
            for name in ["a", "b", "c"] {
                let scale = next() % 19;
                let mantissa = (next() as i64) >> (next() % 64);
                let digits = format!("{:0>19}", mantissa.unsigned_abs());
                let (whole, fraction) = digits.split_at(19 - scale as usize);
                let sign = if mantissa < 0 { "-" } else { "" };
                input += &format!("{name} {sign}{whole}.{fraction}e0\n");
            }
        }
        let output = run_with_input(&["-s", "a", "-s", "b", "-s", "c"], &input);
        assert!(output.status.success(), "{output:?}");
        let lines = lines_of(&output.stdout);
        let streams = ["a", "b", "c"].map(|name| values(&lines, name));
        let merges = values(&lines, "merge");
        assert_eq!(merges.len(), 3000);
        for (k, merge) in merges.iter().enumerate() {
            let terms = streams.each_ref().map(|values| exact(&values[k]));
            assert_eq!(*merge, sum(&terms), "round {k}: {terms:?}");
        }
    }

    #[test]
    fn values_print_in_canonical_form_and_feed_back_unchanged() {
        let input = [
            "007.50", "+.5", "-.5", "5.", "-0", "-0.00", "1e-05", "2.5E3",
        ];
        let expected = ["7.50", "0.5", "-0.5", "5", "0", "0.00", "0.00001", "2500"];
        let dir = Dir::new(test_name!());
        let v = dir.source("v", "canonical.txt", input.join("\n"));
        let output = run(&["-f", &v, "-s", "z=0..1", "-n", "8"]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(values(&lines_of(&output.stdout), "v"), expected);
        let again = dir.source("v", "canonical-again.txt", expected.join("\n"));
        let output = run(&["-f", &again, "-s", "z=0..1", "-n", "8"]);
        assert_eq!(values(&lines_of(&output.stdout), "v"), expected);
    }

    #[test]
    fn a_decimal_range_gives_multiples_of_its_finest_digit() {
        let output = run(&[
            "-s",
            "t=19.5..25.25",
            "-s",
            "u=-1..1",
            "-n",
            "2000",
            "--seed",
            "3",
        ]);
        assert!(output.status.success(), "{output:?}");
        let lines = lines_of(&output.stdout);
        let t = values(&lines, "t");
        assert_eq!(t.len(), 2000);
        for value in &t {
            let (whole, fraction) = value.split_once('.').expect("two digits after the point");
            assert_eq!(fraction.len(), 2, "{value}");
            let hundredths: i64 = format!("{whole}{fraction}").parse().unwrap();
            assert!((1950..2525).contains(&hundredths), "{value}");
        }
        // Both ends are reached over many values, so the whole range is used.
        assert!(t.iter().any(|v| v.starts_with("19.")) && t.iter().any(|v| v.starts_with("25.")));
        assert!(
            values(&lines, "merge")
                .iter()
                .all(|m| m.split_once('.').unwrap().1.len() == 2)
        );
    }

    #[test]
    fn a_sum_outside_i128_is_an_error_after_the_merges_before_it() {
        // 21 streams; z is at scale 18, so each other term is about 9.2e36: twenty of them
        // pass i128's 1.7e38. Round 1 sums to zero on the way, round 2 does not.
        let signs = (0..20).map(|k| if k % 2 == 0 { "" } else { "-" });
        let terms = signs.map(|sign| [format!("{sign}{MAX}"), MAX.to_string()]);
        let output = merges_of(terms, "0.000000000000000000", "0.000000000000000000");
        let (code, stdout, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        assert_eq!(stdout, "merge 0.000000000000000000\n");
        let expected =
            "stream-merge: merge 2: the exact sum is outside the 128-bit range of sums\n";
        assert_eq!(stderr, expected);
    }

    #[test]
    fn a_sum_of_nineteen_terms_never_passes_i128() {
        // 18 terms at the limits and one at scale 18: 18 * 2^63 * 10^18 is below 2^127, so
        // even the largest sums of 19 terms are exact.
        let terms = (0..18).map(|_| ["-9223372036854775808".to_string(), MAX.to_string()]);
        let output = merges_of(terms, "-0.000000000000000001", "0.000000000000000001");
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "merge -166020696663385964544.000000000000000001\n\
             merge 166020696663385964526.000000000000000001\n"
        );
    }
}

mod sources {
    use super::*;
    use std::fs::OpenOptions;
    use std::thread;

    #[test]
    fn each_stream_reads_a_source_of_its_own() {
        let dir = Dir::new(test_name!());
        let x = dir.source("x", "x.txt", "1\n\nx 2\r\nmerge 3\n \t3.5  \n4");
        let y = dir.source("y", "y.txt", "y 10\n20\n30\n40\n");
        let output = run(&["-f", &x, "--file", &y]);
        assert!(output.status.success(), "{output:?}");
        let lines = lines_of(&output.stdout);
        assert_eq!(values(&lines, "x"), ["1", "2", "3.5", "4"]);
        assert_eq!(values(&lines, "merge"), ["11", "22", "33.5", "44"]);
    }

    #[test]
    fn plain_and_other_lines_mixed_keep_to_a_small_window() {
        // Plain integers are taken a block at a time, other forms one at a time: both
        // count against the window.
        let text: String = (0..3000)
            .map(|k| match k % 5 {
                0 => format!("x {k}\n"),
                1 => format!("{k}.0\n"),
                _ => format!("{k}\n"),
            })
            .collect();
        let dir = Dir::new(test_name!());
        let x = dir.source("x", "x.txt", text);
        let y = dir.source("y", "y.txt", "0\n".repeat(3000));
        let output = run(&["-f", &x, "-f", &y, "-m", "--window", "3"]);
        assert_quiet(&output);
        let merges = values(&lines_of(&output.stdout), "merge");
        let expected: Vec<String> = (0..3000)
            .map(|k| {
                if k % 5 == 1 {
                    format!("{k}.0")
                } else {
                    k.to_string()
                }
            })
            .collect();
        assert_eq!(merges, expected);
    }

    #[test]
    fn stdin_can_be_a_streams_own_source() {
        let dir = Dir::new(test_name!());
        let y = dir.source("y", "y.txt", "10\n20\n");
        let output = run_with_input(&["-f", "x=-", "-f", &y, "-m"], "1\n2\n");
        assert_quiet(&output);
        assert_eq!(output.stdout, b"merge 11\nmerge 22\n");
    }

    #[test]
    fn a_bad_line_names_its_path_line_and_stream() {
        let dir = Dir::new(test_name!());
        let x = dir.file("bad-x.txt", "1\n\n2\nx\x1b[2J 3\n");
        let y = dir.file("bad-y.txt", "1\n2\n3\n4\n");
        for (line, problem) in [
            (
                "x\x1b[2J 3",
                "'x\\x1B[2J' is not this stream's name".to_string(),
            ),
            ("3 4 5", "unexpected '4' after the value".to_string()),
            ("1,5", format!("'1,5' {NOT_A_VALUE}")),
        ] {
            fs::write(&x, format!("1\n\n2\n{line}\n")).unwrap();
            let output = run(&["-f", &format!("x={x}"), "-f", &format!("y={y}"), "-m"]);
            let (code, stdout, stderr) = failure(&output);
            assert_eq!((code, stdout.as_str()), (Some(1), "merge 2\nmerge 4\n"));
            let place = format!("{}:4: stream 'x'", shown_path(&x));
            assert_eq!(stderr, format!("stream-merge: {place}: {problem}\n"));
            assert!(!stderr.contains('\x1b'), "{stderr}");
        }
    }

    #[test]
    fn paths_are_checked_before_any_output() {
        let dir = env!("CARGO_TARGET_TMPDIR");
        let no_such_file = "cannot read: No such file or directory (os error 2)";
        for (path, problem) in [
            (
                "/no/such/file",
                format!("/no/such/file: stream 'x': {no_such_file}"),
            ),
            (
                dir,
                format!(
                    "{}: stream 'x': cannot read: is a directory",
                    shown_path(dir)
                ),
            ),
            (
                "/tmp/\x1b]0;PWNED\x07",
                format!("/tmp/\\x1B]0;PWNED\\x07: stream 'x': {no_such_file}"),
            ),
        ] {
            let output = run(&["-s", "g=0..9", "-n", "1000", "-f", &format!("x={path}")]);
            let (code, stdout, stderr) = failure(&output);
            assert_eq!((code, stdout.as_str()), (Some(1), ""), "{path}");
            assert_eq!(stderr, format!("stream-merge: {problem}\n"));
        }
    }

    #[test]
    fn a_pipe_without_its_writer_holds_up_no_other_stream() {
        let dir = Dir::new(test_name!());
        let (x, y) = (dir.fifo("no-writer-yet"), dir.fifo("writer-y"));
        let child = spawn(&["-f", &format!("x={x}"), "-f", &format!("y={y}")]);
        // Opening y for writing waits until y's reader has opened it: x's reader, still
        // waiting for a writer, did not hold it up.
        fs::write(&y, "y 7\n").unwrap();
        fs::write(&x, "5\n").unwrap();
        let output = finish(child);
        assert_eq!(output.stdout, b"x 5\ny 7\nmerge 12\n");
        assert!(output.status.success(), "{output:?}");
    }

    #[test]
    fn a_writer_that_fills_one_fifo_before_opening_the_other_finishes_within_the_window() {
        let dir = Dir::new(test_name!());
        // 50000 lines: more than the default window lets x run ahead and the pipe (64 KiB)
        // hold, not more than they and the reader's buffer hold; 200000 lines hold only in
        // a larger window.
        for (lines, window) in [(50_000, None), (200_000, Some("200000"))] {
            let (a, b) = (
                dir.fifo(&format!("a{lines}")),
                dir.fifo(&format!("b{lines}")),
            );
            let writer = {
                let (a, b) = (a.clone(), b.clone());
                thread::spawn(move || {
                    fs::write(&a, "1\n".repeat(lines)).unwrap();
                    fs::write(&b, "2\n".repeat(lines)).unwrap();
                })
            };
            let (x, y) = (format!("x={a}"), format!("y={b}"));
            let mut args = vec!["-f", &x, "-f", &y, "-m"];
            if let Some(window) = window {
                args.extend(["--window", window]);
            }
            let output = run(&args);
            writer.join().unwrap();
            assert!(output.status.success(), "{output:?}");
            let merges = values(&lines_of(&output.stdout), "merge");
            assert_eq!(merges, vec!["3"; lines]);
        }
    }

    /// The peak resident memory of a running process, in KiB.
    fn peak(pid: u32) -> u64 {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[test]
    fn an_endless_source_beside_a_slow_one_stays_within_bounded_memory() {
        let dir = Dir::new(test_name!());
        let (fast, slow) = (dir.fifo("endless"), dir.fifo("slow"));
        let mut child = spawn(&["-f", &format!("x={fast}"), "-f", &format!("y={slow}"), "-m"]);
        let endless = {
            let fast = fast.clone();
            thread::spawn(move || {
                let mut pipe = OpenOptions::new().write(true).open(fast).unwrap();
                let block = "1\n".repeat(1 << 15);
                while pipe.write_all(block.as_bytes()).is_ok() {} // until the run ends
            })
        };
        let mut pipe = OpenOptions::new().write(true).open(&slow).unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        for k in 0..20 {
            writeln!(pipe, "{k}").unwrap();
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            assert_eq!(line, format!("merge {}\n", k + 1));
            // A negative check needs a wait: the endless source has 10 ms a round to fill
            // the memory, were the run to let it run ahead.
            thread::sleep(Duration::from_millis(10));
        }
        let kib = peak(child.id());
        drop(pipe);
        let output = finish(child);
        endless.join().unwrap();
        assert!(output.status.success(), "{output:?}");
        assert!(kib < 8 * 1024, "peak {kib} KiB");
    }
}

mod endings {
    use super::*;

    #[test]
    fn strict_reports_a_failure_among_the_deciding_items_rather_than_the_uneven_end() {
        let dir = Dir::new(test_name!());
        // Round 3 is decided by x's end and y's bad line: the failure wins.
        let x = dir.source("x", "x.txt", "1\n2\n");
        let y = dir.file("y.txt", "1\n2\nbad\n");
        let output = run(&["--strict", "-m", "-f", &x, "-f", &format!("y={y}")]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), "merge 2\nmerge 4\n"));
        let expected = format!(
            "stream-merge: {}:3: stream 'y': 'bad' {NOT_A_VALUE}\n",
            shown_path(&y)
        );
        assert_eq!(stderr, expected);
    }

    #[test]
    fn strict_fails_when_one_stream_ends_before_another() {
        let dir = Dir::new(test_name!());
        let x = dir.source("x", "x.txt", "1\n2\n3\n");
        let y = dir.source("y", "y.txt", "1\n2\n3\n4\n");
        let z = dir.source("z", "z.txt", "1\n2\n3\n");
        let output = run(&["--strict", "-m", "-f", &x, "-f", &y, "-f", &z]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!(
            (code, stdout.as_str()),
            (Some(1), "merge 3\nmerge 6\nmerge 9\n")
        );
        let expected =
            "stream-merge: stream 'x' ended after 3 values, but 'y' has more (--strict)\n";
        assert_eq!(stderr, expected);
        let output = run(&["--strict", "-m", "-f", &x, "-f", &z]);
        assert_quiet(&output);
    }

    #[test]
    fn fill_counts_an_ended_stream_as_its_value_until_every_one_has_ended() {
        let dir = Dir::new(test_name!());
        let x = dir.source("x", "x.txt", "1\n2\n");
        let y = dir.source("y", "y.txt", "10\n20\n30\n40\n");
        let output = run(&["--fill", "0.5", "-f", &x, "-f", &y]);
        assert_quiet(&output);
        let lines = lines_of(&output.stdout);
        assert_eq!(values(&lines, "x"), ["1", "2"]);
        assert_eq!(values(&lines, "merge"), ["11", "22", "30.5", "40.5"]);
    }

    #[test]
    fn a_failed_stream_is_not_filled() {
        let dir = Dir::new(test_name!());
        let x = dir.source("x", "fill-bad-x.txt", "1\nbad\n");
        let y = dir.source("y", "fill-bad-y.txt", "10\n20\n30\n");
        let output = run(&["--fill", "0", "-m", "-f", &x, "-f", &y]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), "merge 11\n"));
        let path = shown_path(&dir.path("fill-bad-x.txt"));
        let expected = format!("stream-merge: {path}:2: stream 'x': 'bad' {NOT_A_VALUE}\n");
        assert_eq!(stderr, expected);
    }

    /// Twenty runs of a generated x of 1000 values beside a y of `good` lines, then a bad one,
    /// in `dir`.
    fn runs_with_a_bad_line_after(dir: &Dir, good: usize) -> Vec<Output> {
        let path = dir.file(
            &format!("bad-after-{good}.txt"),
            "y 1\n".repeat(good) + "y bad\n",
        );
        let args = [
            "-s", "x=0..10", "-n", "1000", "-s", "y", "--seed", "1", "-i", &path, "-m",
        ];
        (0..20).map(|_| run(&args)).collect()
    }

    #[test]
    fn a_bad_line_right_after_the_shortest_stream_fails_every_run() {
        let dir = Dir::new(test_name!());
        let runs = runs_with_a_bad_line_after(&dir, 1000);
        let path = shown_path(&dir.path("bad-after-1000.txt"));
        let expected = format!("stream-merge: {path}:1001: stream 'y': 'bad' {NOT_A_VALUE}\n");
        for output in &runs {
            let (code, stdout, stderr) = failure(output);
            assert_eq!(code, Some(1));
            assert_eq!(stdout.as_bytes(), runs[0].stdout);
            assert_eq!(stderr, expected);
        }
        assert_eq!(runs[0].stdout.iter().filter(|&&b| b == b'\n').count(), 1000);
    }

    #[test]
    fn a_bad_line_past_the_end_of_the_run_never_counts() {
        let dir = Dir::new(test_name!());
        let runs = runs_with_a_bad_line_after(&dir, 1001);
        for output in &runs {
            assert_eq!(output.status.code(), Some(0), "{output:?}");
            assert_eq!(output.stdout, runs[0].stdout);
            // y's 1001st value is in the round at which the run ends.
            assert_eq!(output.stderr, b"y: 1 unmatched\n");
        }
        assert_eq!(runs[0].stdout.iter().filter(|&&b| b == b'\n').count(), 1000);
    }

    #[test]
    fn the_first_failing_stream_on_the_command_line_is_named() {
        let dir = Dir::new(test_name!());
        let a = dir.source("a", "a.txt", "1\nbad-a\n");
        let b = dir.source("b", "b.txt", "1\nbad-b\n");
        let path = shown_path(&dir.path("b.txt"));
        let expected = format!("stream-merge: {path}:2: stream 'b': 'bad-b' {NOT_A_VALUE}\n");
        for _ in 0..10 {
            let output = run(&["-m", "-f", &b, "-f", &a]);
            let (code, stdout, stderr) = failure(&output);
            assert_eq!((code, stdout.as_str()), (Some(1), "merge 2\n"));
            assert_eq!(stderr, expected);
        }
    }

    #[test]
    fn stats_summarise_the_run_on_stderr() {
        let output = run(&["-n", "1234", "--stats", "--merges-only"]);
        assert!(output.status.success());
        assert_eq!(
            String::from_utf8(output.stdout).unwrap().lines().count(),
            1234
        );
        let stats = String::from_utf8(output.stderr).unwrap();
        let first = [
            "rounds merged: 1234",
            "rounds dropped: 0",
            "rounds filled: 0",
            "rounds carried: 0",
            "values: x 1234, y 1234",
        ];
        assert_stats(&stats, &first, &[]);
    }

    #[test]
    fn stats_count_the_values_each_stream_delivered() {
        let dir = Dir::new(test_name!());
        let x = dir.source("x", "x.txt", "1\n2\n3\n");
        let args = [
            "--stats", "--fill", "0", "-f", &x, "-s", "g=0..1", "-n", "5",
        ];
        let output = run(&args);
        assert!(output.status.success(), "{output:?}");
        let merges = integers(&lines_of(&output.stdout), "merge");
        // g's values are 0: each merge is x's value, or the fill once x has ended.
        assert_eq!(merges, [1, 2, 3, 0, 0]);
        let stderr = String::from_utf8(output.stderr).unwrap();
        let first = [
            "rounds merged: 5",
            "rounds dropped: 0",
            "rounds filled: 2",
            "rounds carried: 0",
            "values: x 3, g 5",
        ];
        assert_stats(&stderr, &first, &[]);
    }
}

mod hostile_input {
    use super::*;

    #[test]
    fn an_endless_line_ends_the_run_at_once() {
        for (args, place) in [
            (
                &["-s", "x", "-s", "y", "-i", "/dev/zero"][..],
                "/dev/zero:1",
            ),
            (
                &["-f", "x=/dev/zero", "-f", "y=/dev/null"],
                "/dev/zero:1: stream 'x'",
            ),
        ] {
            let output = finish(spawn(args));
            let (code, stdout, stderr) = failure(&output);
            assert_eq!((code, stdout.as_str()), (Some(1), ""), "{args:?}");
            let expected = format!("stream-merge: {place}: a line longer than 4096 bytes\n");
            assert_eq!(stderr, expected, "{args:?}");
        }
    }

    #[test]
    fn a_line_over_the_limit_is_a_bad_line_and_the_limit_grows_with_names() {
        let long = format!("x 1\ny 1\nx {}1\n", "0".repeat(4100));
        let output = run_with_input(&["-s", "x", "-s", "y", "-m"], &long);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), "merge 2\n"));
        assert_eq!(
            stderr,
            "stream-merge: <stdin>:3: a line longer than 4096 bytes\n"
        );
        let name = "n".repeat(5000);
        let output = run_with_input(&["-s", &name, "-s", "y", "-m"], format!("{name} 1\ny 2\n"));
        assert!(output.status.success(), "{output:?}");
    }

    #[test]
    fn escape_sequences_never_reach_the_terminal() {
        let output = run_with_input(&["-s", "x", "-s", "y"], "\x1b]0;PWNED\x07\x1b[2J evil 5\n");
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        let expected = "stream-merge: <stdin>:1: no stream is named \
                        '\\x1B]0;PWNED\\x07\\x1B[2J': declare it with -s NAME\n";
        assert_eq!(stderr, expected);
        assert!(
            !stderr.contains('\x1b') && !stderr.contains('\x07'),
            "{stderr}"
        );
    }

    #[test]
    fn a_nul_is_escaped_as_a_byte_so_that_a_digit_after_it_reads_as_a_digit() {
        let output = run_with_input(&["-s", "x", "-s", "y"], "x 2\x007\n");
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        let expected = "stream-merge: <stdin>:1: stream 'x': '2\\x007' is not a value: \
                        a value is a decimal such as 7, -12, 20.5, .5 or 2.5E3\n";
        assert_eq!(stderr, expected);
    }

    #[test]
    fn a_long_token_is_quoted_once_and_cut() {
        let name = format!("{}\u{202E}", "é".repeat(1500));
        let output = run_with_input(&["-s", "x", "-s", "y"], format!("{name} 1\n"));
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        let expected = format!(
            "stream-merge: <stdin>:1: no stream is named '{}'... (3003 bytes): declare it with \
             -s NAME\n",
            "é".repeat(40)
        );
        assert_eq!(stderr, expected);
        assert!(stderr.len() < 200, "{stderr}");
    }

    /// A `y` line, then more lines of stream `name` than the shared input's lead bound lets
    /// it have ahead of `y`.
    fn past_the_lead(name: &str) -> String {
        let mut input = "y 1\n".to_string();
        input += &format!("{name} 2\n").repeat(stream_merge::LEAD as usize + 2);
        input
    }

    #[test]
    fn a_hint_never_shows_a_name_that_a_shell_would_read_otherwise() {
        let output = run_with_input(&["-s", "a'b", "-s", "y", "-m"], past_the_lead("a'b"));
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        assert!(
            stderr.ends_with("give 'a\\'b' a source of its own with -f NAME=PATH\n"),
            "{stderr}"
        );
    }

    #[test]
    fn a_stream_too_far_ahead_on_the_shared_input_fails_the_run() {
        let output = run_with_input(&["-s", "x", "-s", "y", "-m"], past_the_lead("x"));
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), "merge 3\n"));
        let lead = 1_000_000; // the README's figure, not `stream_merge::LEAD`
        let expected = format!(
            "stream-merge: <stdin>:{}: the streams on this input are {lead} values ahead of \
             'y' in all, as many as it holds; give 'x' a source of its own with -f x=PATH\n",
            lead + 3
        );
        assert_eq!(stderr, expected);
        // Within the bound, a burst is merged as it comes.
        let mut input = "x 2\n".repeat(100_000);
        input += &"y 1\n".repeat(100_000);
        let output = run_with_input(&["-s", "x", "-s", "y", "-m"], &input);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, "merge 3\n".repeat(100_000).as_bytes());
    }

    #[test]
    fn a_long_name_on_the_shared_input_may_get_less_far_ahead_as_its_lines_are_kept() {
        // Each value ahead keeps its line, `NAME VALUE`, of at most 10,023 bytes: the lead
        // is as many as 64 MiB of such lines, 6695.
        let name = "k".repeat(10_000);
        let mut input = "y 1\n".to_string();
        input += &format!("{name} 2\n").repeat(6697);
        let output = run_with_input(&["-s", &name, "-s", "y"], &input);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        assert_eq!(stdout, format!("{name} 2\ny 1\nmerge 3\n"));
        let expected = format!(
            "stream-merge: <stdin>:6698: the streams on this input are 6695 values ahead of \
             'y' in all, as many as it holds; give '{}'... (10000 bytes) a source of its own \
             with -f NAME=PATH\n",
            "k".repeat(40)
        );
        assert_eq!(stderr, expected);
        // Merges only, no line is kept: the lead is as for a short name.
        let output = run_with_input(&["-s", &name, "-s", "y", "-m"], &input);
        assert!(output.status.success(), "{output:?}");
    }
}

mod write_errors {
    use super::*;
    use std::fs::{File, OpenOptions};

    fn full() -> File {
        OpenOptions::new().write(true).open("/dev/full").unwrap()
    }

    #[test]
    fn a_failing_stderr_does_not_panic() {
        let output = Command::new(BIN)
            .arg("--bogus")
            .stderr(full())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
    }

    #[test]
    fn help_and_version_that_cannot_be_written_fail() {
        for arg in ["--help", "--version"] {
            let output = finish(spawn_with(&[arg], Stdio::null(), full().into()));
            let (code, _, stderr) = failure(&output);
            assert_eq!(code, Some(1), "{arg}");
            assert_eq!(stderr, CANNOT_WRITE, "{arg}");
        }
    }
}

mod messages {
    use super::*;

    #[test]
    fn a_name_may_not_start_with_a_hash_or_hold_an_invisible_character() {
        for (name, quoted) in [
            ("#a", "'#a'"),
            ("#", "'#'"),
            ("a\u{200B}b", "'a\\u{200B}b'"),
            ("\u{3164}", "'\\u{3164}'"),
            ("a\u{E0100}", "'a\\u{E0100}'"),
            ("a b", "'a b'"),
            ("", "''"),
        ] {
            assert_usage(&["-s", name], &invalid_name(quoted));
            assert_usage(&["-f", &format!("{name}=p")], &invalid_name(quoted));
        }
        let output = run_with_input(&["-s", "a#b", "-m"], "a#b 1\n");
        assert_eq!(output.stdout, b"merge 1\n", "{output:?}");
    }

    #[test]
    fn comment_lines_are_skipped_in_either_format() {
        let input = "# sensor A, Celsius\nx 1\n  \t# x 7\ny 2\r\n#y 8\nx 3\ny 4\n#\n";
        let output = run_with_input(&["-s", "x", "-s", "y"], input);
        assert_quiet(&output);
        let lines = lines_of(&output.stdout);
        assert_eq!(integers(&lines, "x"), [1, 3]);
        assert_eq!(integers(&lines, "y"), [2, 4]);
        assert_eq!(integers(&lines, "merge"), [3, 7]);
        let dir = Dir::new(test_name!());
        let x = dir.source("x", "x.txt", "# load, %\n1\n\t#2\nx 3\n# x 4\n");
        let output = run(&["-f", &x, "-s", "g=5..6", "-m"]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, b"merge 6\nmerge 8\n");
    }

    /// `lines` with a comment put before every line whose index is in `at`.
    fn with_comments(lines: &[String], at: &[usize]) -> String {
        let mut text = String::new();
        for (k, line) in lines.iter().enumerate() {
            if at.contains(&k) {
                text += ["# a comment\n", "  #x 1\n", "\t#\n"][k % 3];
            }
            text += line;
        }
        text
    }

    #[test]
    fn comments_among_long_runs_of_plain_lines_are_skipped() {
        // Past the first 64 KiB, where plain lines are taken a block at a time.
        let at = [0, 9_000, 20_001, 20_002, 29_999];
        let shared: Vec<String> = (0..30_000)
            .map(|k| format!("{} {}\n", ["x", "y"][k / 100 % 2], k % 977))
            .collect();
        let args = ["-s", "x", "-s", "y"];
        let plain = run_with_input(&args, shared.concat());
        let commented = run_with_input(&args, with_comments(&shared, &at));
        assert!(commented.status.success(), "{:?}", commented.status);
        assert!(commented.stderr.is_empty());
        let (plain, commented) = (lines_of(&plain.stdout), lines_of(&commented.stdout));
        for name in ["x", "y", "merge"] {
            assert!(values(&plain, name) == values(&commented, name), "{name}");
        }
        assert_eq!(values(&commented, "merge").len(), 15_000);
        let own_lines: Vec<String> = (0..30_000).map(|k| format!("{}\n", k % 977)).collect();
        let dir = Dir::new(test_name!());
        let plain = dir.source("x", "plain-x.txt", own_lines.concat());
        let commented = dir.source("x", "commented-x.txt", with_comments(&own_lines, &at));
        let y = dir.source("y", "y.txt", "1\n".repeat(30_000));
        let plain = run(&["-f", &plain, "-f", &y, "-m"]);
        let commented = run(&["-f", &commented, "-f", &y, "-m"]);
        assert!(commented.status.success(), "{:?}", commented.status);
        assert!(commented.stderr.is_empty());
        assert_eq!(lines_of(&commented.stdout).len(), 30_000);
        assert!(
            plain.stdout == commented.stdout,
            "a source of its own differs"
        );
    }

    #[test]
    fn a_name_given_twice_among_many_streams_is_found_at_once() {
        // 100,000 streams, a short argument each: argv must fit in the 2 MiB that exec
        // allows with the usual 8 MiB stack, pointers included.
        let mut args: Vec<String> = (0..100_000).map(|k| format!("-ss{k}")).collect();
        args.push("-ss5=0..1".to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = finish(spawn(&args));
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(2), ""));
        assert_eq!(stderr, usage("stream 's5' is given twice"));
    }

    #[test]
    fn an_unknown_name_is_quoted_as_its_bytes() {
        let output = run_with_input(&["-s", "b"], b"a\xff 0\n");
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        let expected =
            "stream-merge: <stdin>:1: no stream is named 'a\\xFF': declare it with -s NAME\n";
        assert_eq!(stderr, expected);
        let output = run_with_input(&["-s", "b"], [&[0xff; 100][..], b" 0\n"].concat());
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        let expected = format!(
            "stream-merge: <stdin>:1: no stream is named '{}'... (100 bytes): declare it with \
             -s NAME\n",
            "\\xFF".repeat(40)
        );
        assert_eq!(stderr, expected);
    }

    /// A name of 100 KB, and how messages show it.
    fn long_name() -> (String, String) {
        let name = "n".repeat(100_000);
        let shown = format!("'{}'... (100000 bytes)", "n".repeat(40));
        (name, shown)
    }

    #[test]
    fn a_long_name_is_cut_in_messages_about_its_source() {
        let (name, shown) = long_name();
        let dir = Dir::new(test_name!());
        let path = dir.file("bad.txt", "1\nbad\n");
        let output = run(&["-f", &format!("{name}={path}"), "-m"]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), "merge 1\n"));
        let expected = format!(
            "stream-merge: {}:2: stream {shown}: 'bad' {NOT_A_VALUE}\n",
            shown_path(&path)
        );
        assert_eq!(stderr, expected);
        let output = run(&["-f", &format!("{name}=/no/such/file")]);
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        let expected = format!(
            "stream-merge: /no/such/file: stream {shown}: cannot read: No such file or \
             directory (os error 2)\n"
        );
        assert_eq!(stderr, expected);
    }

    #[test]
    fn a_long_name_is_cut_in_messages_of_the_command_line_and_of_the_run() {
        let (name, shown) = long_name();
        let problem = format!("stream {shown} is given twice");
        assert_usage(&["-s", &name, "-s", &format!("{name}=0..1")], &problem);
        let dir = Dir::new(test_name!());
        let long = dir.source(&name, "long.txt", "1\n");
        let y = dir.source("y", "y.txt", "1\n2\n");
        let output = run(&["--strict", "-m", "-f", &long, "-f", &y]);
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        let expected = format!(
            "stream-merge: stream {shown} ended after 1 value, but 'y' has more (--strict)\n"
        );
        assert_eq!(stderr, expected);
    }

    #[test]
    fn a_long_name_is_cut_in_the_notes_after_the_run() {
        let name = "n".repeat(100_000);
        let cut = format!("{}... (100000 bytes)", "n".repeat(40));
        let dir = Dir::new(test_name!());
        let long = dir.source(&name, "long.txt", "1 1\n3 3\n");
        let y = dir.source("y", "y.txt", "1 1\n2 2\n");
        let output = run(&["-t", "-m", "--stats", "-f", &long, "-f", &y]);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert_eq!(output.stdout, b"merge 2 1\n");
        let stderr = String::from_utf8(output.stderr).unwrap();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines[..2],
            [format!("{cut}: 1 unmatched"), "y: 1 unmatched".into()]
        );
        assert_eq!(lines[2], format!("{cut}: missing at 1 time, first at 2"));
        assert!(
            lines.contains(&format!("values: {cut} 2, y 2").as_str()),
            "{stderr}"
        );
    }

    #[test]
    fn a_long_name_is_cut_in_messages_of_the_shared_input() {
        let (name, shown) = long_name();
        let output = run_with_input(&["-s", &name, "-m"], format!("{name} bad\n"));
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        assert_eq!(
            stderr,
            format!("stream-merge: <stdin>:1: stream {shown}: 'bad' {NOT_A_VALUE}\n")
        );
        let generated = format!("{name}=0..1");
        // A long name on the input, so that its lines may be as long.
        let other = "o".repeat(100_000);
        let output = run_with_input(&["-s", &generated, "-s", &other], format!("{name} 1\n"));
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        let expected = format!(
            "stream-merge: <stdin>:1: stream {shown} is generated (-s NAME=LO..HI), not read \
             from the input\n"
        );
        assert_eq!(stderr, expected);
    }

    #[test]
    fn a_short_name_is_shown_whole_in_a_hint() {
        let output = run_with_input(&["-s", "g=0..1", "-s", "x"], "g 1\n");
        let (code, _, stderr) = failure(&output);
        assert_eq!(code, Some(1));
        let expected = "stream-merge: <stdin>:1: stream 'g' is generated (-s g=LO..HI), not read \
                        from the input\n";
        assert_eq!(stderr, expected);
    }

    #[test]
    fn a_long_path_is_cut_in_messages() {
        let path = "a/".repeat(2500);
        let shown = format!("{}... (5000 bytes)", "a/".repeat(60));
        let too_long = "cannot read: File name too long (os error 36)";
        let output = run(&["-s", "x", "-i", &path]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        assert_eq!(stderr, format!("stream-merge: {shown}: {too_long}\n"));
        let output = run(&["-f", &format!("x={path}")]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        assert_eq!(
            stderr,
            format!("stream-merge: {shown}: stream 'x': {too_long}\n")
        );
    }

    #[test]
    fn a_line_of_three_fields_blames_its_value_first() {
        let out_of_range = "is out of range: a value is m·10^-s with m a 64-bit integer and at \
                            most 18 digits after the point";
        for (line, problem) in [
            ("a x 2", format!("'x' {NOT_A_VALUE}")),
            ("a 1e30 2 3", format!("'1e30' {out_of_range}")),
            (
                "a 1 2",
                format!("unexpected '2' after the value{TIME_HINT}"),
            ),
            ("a 1 z", "unexpected 'z' after the value".to_string()),
        ] {
            let output = run_with_input(&["-s", "a"], format!("{line}\n"));
            let (code, _, stderr) = failure(&output);
            assert_eq!(code, Some(1), "{line}");
            assert_eq!(
                stderr,
                format!("stream-merge: <stdin>:1: stream 'a': {problem}\n")
            );
        }
        let dir = Dir::new(test_name!());
        let path = dir.path("crowded-x.txt");
        for (line, problem) in [
            ("x x 2", format!("'x' {NOT_A_VALUE}")),
            (
                "x 1 2",
                format!("unexpected '2' after the value{TIME_HINT}"),
            ),
            ("y x 2", "'y' is not this stream's name".to_string()),
            ("3 4 5", "unexpected '4' after the value".to_string()),
        ] {
            fs::write(&path, format!("1\n{line}\n")).unwrap();
            let output = run(&["-f", &format!("x={path}"), "-m"]);
            let (code, stdout, stderr) = failure(&output);
            assert_eq!((code, stdout.as_str()), (Some(1), "merge 1\n"), "{line}");
            let expected = format!(
                "stream-merge: {}:2: stream 'x': {problem}\n",
                shown_path(&path)
            );
            assert_eq!(stderr, expected);
        }
    }

    #[test]
    fn the_window_takes_a_whole_number_from_1_and_says_so() {
        for (args, got) in [
            (&["--window", "0"][..], "'0'"),
            (&["--window=00"], "'00'"),
            (&["--window", "-1"], "'-1'"),
            (&["--window", "x"], "'x'"),
            (
                &["--window", "18446744073709551616"],
                "'18446744073709551616'",
            ),
        ] {
            let problem =
                format!("--window takes a whole number from 1 to 18446744073709551615, got {got}");
            assert_usage(args, &problem);
        }
        assert_usage(
            &["--seed", "x"],
            "--seed takes a whole number from 0 to 18446744073709551615, got 'x'",
        );
        assert!(run(&["--window", "1", "-n", "1"]).status.success());
    }

    #[test]
    fn the_first_path_that_fails_the_check_is_named_sources_first_and_no_stats_follow() {
        let dir = Dir::new(test_name!());
        let missing = |name: &str| (dir.path(name), shown_path(&dir.path(name)));
        let ((input, input_shown), (b, b_shown), (c, _)) =
            (missing("in"), missing("b"), missing("c"));
        let fifo = dir.fifo("fifo");
        let [b, c, x, y] = [("b", &b), ("c", &c), ("x", &fifo), ("y", &fifo)]
            .map(|(name, path)| format!("{name}={path}"));
        let cannot = "cannot read: No such file or directory (os error 2)";
        for (args, expected) in [
            // The sources in the order given, then the shared input, given first here.
            (
                vec!["--stats", "-s", "a", "-i", &input, "-f", &b, "-f", &c],
                format!("stream-merge: {b_shown}: stream 'b': {cannot}\n"),
            ),
            (
                vec!["--stats", "-s", "a", "-i", &input],
                format!("stream-merge: {input_shown}: {cannot}\n"),
            ),
            // Each path on its own before any is found read twice.
            (
                vec!["-f", &x, "-f", &y, "-f", &b],
                format!("stream-merge: {b_shown}: stream 'b': {cannot}\n"),
            ),
        ] {
            let (code, stdout, stderr) = failure(&run(&args));
            assert_eq!((code, stdout.as_str()), (Some(1), ""), "{args:?}");
            assert_eq!(stderr, expected, "{args:?}");
        }
    }

    #[test]
    fn an_empty_input_path_is_a_usage_error() {
        assert_usage(&["-s", "x", "-i", ""], "--input: the path is empty");
        assert_usage(&["-s", "x", "--input="], "--input: the path is empty");
        assert_usage(&["-f", "a="], "invalid file stream 'a=': the path is empty");
    }
}

mod resources {
    use super::*;
    use std::collections::HashMap;
    use std::os::fd::AsRawFd;
    use std::thread;

    /// GNU time, which tells a command's peak resident memory.
    const TIME: &str = "/usr/bin/time";

    /// Runs with `input` on stdin, under `/usr/bin/time` if there is one: the output, and
    /// the peak resident memory in KiB (`None` without `/usr/bin/time`). Its report goes in
    /// `dir`.
    fn measured(dir: &Dir, args: &[&str], input: impl AsRef<[u8]>) -> (Output, Option<u64>) {
        let report = dir.path("peak");
        let _ = fs::remove_file(&report);
        let timed = Path::new(TIME).exists();
        let mut command = Command::new(if timed { TIME } else { BIN });
        if timed {
            command.args(["-f", "%M", "-o", &report, BIN]);
        }
        let piped = Stdio::piped;
        let child = command
            .args(args)
            .stdin(piped())
            .stdout(piped())
            .stderr(piped());
        let mut child = child.spawn().expect("the binary runs");
        let mut stdin = child.stdin.take().unwrap();
        let input = input.as_ref().to_vec();
        let writer = thread::spawn(move || stdin.write_all(&input));
        let output = finish(child);
        let _ = writer.join();
        let peak = timed.then(|| {
            let text = fs::read_to_string(&report).unwrap();
            let last = text.lines().last().expect("a peak");
            last.trim().parse().expect("KiB")
        });
        (output, peak)
    }

    /// `-s NAME=0..10` for each of ten streams.
    fn ten_generated() -> Vec<String> {
        (0..10)
            .flat_map(|k| ["-s".to_string(), format!("g{k}=0..10")])
            .collect()
    }

    const HUGE: [&str; 3] = ["4294967296", "1000000000000", "18446744073709551615"];

    #[test]
    fn a_huge_window_runs_in_the_memory_of_the_default() {
        let dir = Dir::new(test_name!());
        let ten = ten_generated();
        let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
        for (count, streams) in [(2, &[][..]), (10, &ten)] {
            let mut args = vec!["-n", "4", "-m", "--seed", "11"];
            args.extend(streams);
            let (default, default_peak) = measured(&dir, &args, "");
            assert!(default.status.success(), "{default:?}");
            assert!(default.stderr.is_empty(), "{default:?}");
            assert_eq!(integers(&lines_of(&default.stdout), "merge").len(), 4);
            for window in HUGE {
                let mut huge = args.clone();
                huge.extend(["--window", window]);
                let (output, peak) = measured(&dir, &huge, "");
                assert!(output.status.success(), "{huge:?}: {output:?}");
                assert!(output.stderr.is_empty(), "{huge:?}: {output:?}");
                // The same seed: the same merges, whatever the window.
                assert_eq!(output.stdout, default.stdout, "{huge:?}");
                if let (Some(peak), Some(default_peak)) = (peak, default_peak) {
                    let figures = format!(
                        "{count} streams, --window {window}: peak {peak} KiB, with the \
                         default window {default_peak} KiB"
                    );
                    eprintln!("{figures}");
                    assert!(peak < 3 * default_peak, "{figures}");
                }
            }
        }
    }

    #[test]
    fn a_huge_window_still_holds_as_many_values_as_its_input_makes_it() {
        let long: String = (1..=300_000).map(|k| format!("{k}\n")).collect();
        let dir = Dir::new(test_name!());
        let a = dir.source("a", "a.txt", long);
        let b = dir.source("b", "b.txt", "1\n2\n3\n");
        for window in HUGE {
            let args = ["--window", window, "-f", &a, "-f", &b, "-m"];
            let (output, peak) = measured(&dir, &args, "");
            assert!(output.status.success(), "{window}: {output:?}");
            assert_eq!(output.stdout, b"merge 2\nmerge 4\nmerge 6\n", "{window}");
            assert_eq!(output.stderr, b"a: 1 unmatched\n", "{window}");
            if let Some(peak) = peak {
                eprintln!("--window {window}, 300000 values beside 3: peak {peak} KiB");
                assert!(peak < 64 * 1024, "--window {window}: peak {peak} KiB");
            }
        }
    }

    #[test]
    fn sixty_streams_on_the_shared_input_share_one_lead_of_a_million_values() {
        // s0..s58 in turn, s59 never: each line adds one to the lead over s59.
        let specs: Vec<String> = (0..60).map(|k| format!("-ss{k}")).collect();
        let mut args: Vec<&str> = specs.iter().map(String::as_str).collect();
        args.push("-m");
        let lead = stream_merge::LEAD;
        let lines = lead as usize + 100;
        let mut input = String::with_capacity(8 * lines);
        for k in 0..lines {
            input += &format!("s{} {}\n", k % 59, k % 7);
        }
        let dir = Dir::new(test_name!());
        let (output, peak) = measured(&dir, &args, &input);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        // Line LEAD + 1 is the one that would pass the budget: it is s(LEAD % 59)'s.
        let ahead = lead as usize % 59;
        let expected = format!(
            "stream-merge: <stdin>:{}: the streams on this input are {lead} values ahead of \
             's59' in all, as many as it holds; give 's{ahead}' a source of its own with \
             -f s{ahead}=PATH\n",
            lead + 1
        );
        assert_eq!(stderr, expected);
        if let Some(peak) = peak {
            eprintln!("60 streams on the shared input, one silent: peak {peak} KiB");
            assert!(peak < 100 * 1024, "peak {peak} KiB");
        }
    }

    #[test]
    fn two_streams_taking_turns_by_time_share_one_lead_over_a_silent_one() {
        // x and y in turn, a line each, at times 1, 2, ...; z never: each line is one more
        // value later than z's latest time, which it has none of.
        let lead = stream_merge::LEAD;
        let rounds = lead / 2 + 10;
        let mut input = String::with_capacity(16 * 2 * rounds as usize);
        for t in 1..=rounds {
            input += &format!("x 1 {t}\ny 2 {t}\n");
        }
        let dir = Dir::new(test_name!());
        let args = ["-t", "-m", "-s", "x", "-s", "y", "-s", "z"];
        let (output, _) = measured(&dir, &args, &input);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        // Line LEAD + 1, x's at time LEAD / 2 + 1, is the one that would pass the bound.
        let expected = format!(
            "stream-merge: <stdin>:{}: the streams on this input are {lead} values ahead of \
             'z' in all, as many as it holds; give 'x' a source of its own with -f x=PATH\n",
            lead + 1
        );
        assert_eq!(stderr, expected);
    }

    #[test]
    fn two_streams_taking_turns_for_more_lines_than_the_lead_merge_every_round() {
        // Neither is ever more than one value ahead of the other.
        let rounds = stream_merge::LEAD as usize / 2 + 100_000;
        let input = "x 1\ny 2\n".repeat(rounds);
        let dir = Dir::new(test_name!());
        let (output, _) = measured(&dir, &["-m", "-s", "x", "-s", "y"], &input);
        assert!(
            output.status.success(),
            "{:?}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout, "merge 3\n".repeat(rounds).as_bytes());
        assert_eq!(output.stderr, b"");
    }

    /// The most files this process may have open, as `ulimit -Hn` says.
    fn hard_descriptor_limit() -> Option<u64> {
        let limits = fs::read_to_string("/proc/self/limits").ok()?;
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(4)?.parse().ok()
    }

    #[test]
    fn ten_thousand_sources_of_their_own_merge_within_96_mib() {
        const SOURCES: usize = 10_000;
        if hard_descriptor_limit().is_some_and(|most| most < SOURCES as u64 + 100) {
            eprintln!("skipped: fewer than {SOURCES} files can be open (ulimit -Hn)");
            return;
        }
        let dir = Dir::new(test_name!());
        let values = |k: usize| [k as i128, 2 * k as i128 - 7, (k % 3) as i128];
        let mut specs = Vec::new();
        for k in 0..SOURCES {
            let [a, b, c] = values(k);
            let text = format!("{a}\n{b}\n{c}\n");
            specs.push(dir.source(&format!("s{k}"), &k.to_string(), text));
        }
        let mut args: Vec<&str> = specs.iter().flat_map(|spec| ["-f", spec]).collect();
        let output = finish(spawn(&args));
        assert!(output.status.success(), "{:?}", output.status);
        assert!(output.stderr.is_empty(), "{output:?}");
        // Every stream's own lines, and each merge the sum of the k-th values.
        let mut streams: HashMap<String, Vec<i128>> = HashMap::new();
        for (name, value) in lines_of(&output.stdout) {
            streams.entry(name).or_default().push(integer(&value));
        }
        let merges = streams.remove("merge").expect("merges");
        assert_eq!(streams.len(), SOURCES);
        for k in 0..SOURCES {
            assert_eq!(streams[&format!("s{k}")], values(k), "s{k}");
        }
        let sums: Vec<i128> = (0..3)
            .map(|j| (0..SOURCES).map(|k| values(k)[j]).sum())
            .collect();
        assert_eq!(merges, sums);
        args.push("-m");
        let (output, peak) = measured(&dir, &args, "");
        assert!(output.status.success(), "{:?}", output.status);
        let expected: String = sums.iter().map(|sum| format!("merge {sum}\n")).collect();
        assert_eq!(String::from_utf8(output.stdout).unwrap(), expected);
        if let Some(peak) = peak {
            // The README's 69 MB, with room for a debug build's own.
            assert!(peak < 96 * 1024, "{SOURCES} sources: peak {peak} KiB");
        }
    }

    /// What `check` says of `second` reading the same pipe, FIFO or device as `first`.
    fn read_twice(second: &str, first: &str) -> String {
        usage(&format!(
            "{second} reads the same pipe, FIFO or device as {first}: give each stream an \
             input of its own"
        ))
    }

    #[test]
    fn the_same_pipe_given_to_two_streams_is_a_usage_error() {
        let dir = Dir::new(test_name!());
        let fifo = dir.fifo("twice.fifo");
        let (a, b, also_a) = (
            format!("a={fifo}"),
            format!("b={fifo}"),
            format!("-i{fifo}"),
        );
        for (args, expected) in [
            (
                &["-f", "a=-", "-f", "b=/dev/stdin"][..],
                read_twice("stream 'b'", "stream 'a'"),
            ),
            (
                &["-s", "x", "-f", "b=/dev/stdin"],
                read_twice("the shared input", "stream 'b'"),
            ),
            (
                &["-f", &a, "-f", &b],
                read_twice("stream 'b'", "stream 'a'"),
            ),
            (
                &["-s", "x", &also_a, "-f", &a],
                read_twice("the shared input", "stream 'a'"),
            ),
            // Any device may be a terminal: even /dev/null is not read twice.
            (
                &["-f", "a=/dev/null", "-f", "b=/dev/null"],
                read_twice("stream 'b'", "stream 'a'"),
            ),
        ] {
            let output = finish(spawn(args));
            let (code, stdout, stderr) = failure(&output);
            assert_eq!((code, stdout.as_str()), (Some(2), ""), "{args:?}");
            assert_eq!(stderr, expected, "{args:?}");
        }
    }

    #[test]
    fn stdin_redirected_from_a_regular_file_may_be_read_by_two_streams() {
        let dir = Dir::new(test_name!());
        let path = dir.file("stdin.txt", "1\n2\n");
        let stdin = fs::File::open(&path).unwrap().into();
        let args = ["-f", "a=-", "-f", "b=/dev/stdin", "-m"];
        let output = finish(spawn_with(&args, stdin, Stdio::piped()));
        assert_quiet(&output);
        assert_eq!(output.stdout, b"merge 2\nmerge 4\n");
    }

    #[test]
    fn more_sources_that_may_wait_than_the_bound_are_a_usage_error() {
        let dir = Dir::new(test_name!());
        // FIFOs, all different: the check opens none of them.
        let sources: Vec<String> = (0..=4096)
            .map(|k| format!("s{k}={}", dir.fifo(&k.to_string())))
            .collect();
        let args: Vec<&str> = sources.iter().flat_map(|s| ["-f", s.as_str()]).collect();
        assert_usage(
            &args,
            "4097 inputs are pipes, FIFOs or character devices (the shared input counts as \
             one), and at most 4096 can be, a thread each (regular files have no such limit)",
        );
    }

    #[test]
    fn a_regular_file_given_twice_merges_each_value_with_itself() {
        let dir = Dir::new(test_name!());
        let path = dir.file("twice.txt", "1\n2\n-3.5\n");
        let (a, b) = (format!("a={path}"), format!("b={path}"));
        let output = run(&["-f", &a, "-f", &b, "-m"]);
        assert_quiet(&output);
        assert_eq!(output.stdout, b"merge 2\nmerge 4\nmerge -7.0\n");
        let output = run(&["-f", &a, "-f", &b]);
        assert!(output.status.success(), "{output:?}");
        let lines = lines_of(&output.stdout);
        assert_eq!(values(&lines, "a"), ["1", "2", "-3.5"]);
        assert_eq!(values(&lines, "b"), ["1", "2", "-3.5"]);
    }

    #[test]
    fn a_socket_is_refused_before_anything_is_printed() {
        // Not in the test's own directory, whose path may be past the 108 bytes a socket's
        // may have: in the system's, named for this process, and removed after.
        let socket = std::env::temp_dir().join(format!("stream-merge-{}.sock", std::process::id()));
        let socket = socket.to_str().unwrap();
        let _ = fs::remove_file(socket);
        let _listener = std::os::unix::net::UnixListener::bind(socket).unwrap();
        let refused = "cannot read: is a socket, which is not read as a stream";
        let source = format!("a={socket}");
        let output = run(&["-s", "g=0..10", "-n", "1000", "-f", &source]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        assert_eq!(
            stderr,
            format!(
                "stream-merge: {}: stream 'a': {refused}\n",
                shown_path(socket)
            )
        );
        let output = run(&["-s", "g=0..10", "-n", "1000", "-s", "x", "-i", socket]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        let expected = format!("stream-merge: {}: {refused}\n", shown_path(socket));
        assert_eq!(stderr, expected);
        fs::remove_file(socket).unwrap();
    }

    unsafe extern "C" {
        fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
        fn ioctl(fd: c_int, request: std::ffi::c_ulong, ...) -> c_int;
    }

    /// Makes reads and writes of `fd` return at once where they would wait.
    fn set_nonblocking(fd: &OwnedFd) {
        const F_GETFL: c_int = 3;
        const F_SETFL: c_int = 4;
        const O_NONBLOCK: c_int = 0o4000;
        // SAFETY: `fd` is open; F_GETFL takes no argument and F_SETFL an int.
        let flags = unsafe { fcntl(fd.as_raw_fd(), F_GETFL) };
        assert!(flags >= 0, "F_GETFL: {}", std::io::Error::last_os_error());
        // SAFETY: as above.
        let set = unsafe { fcntl(fd.as_raw_fd(), F_SETFL, flags | O_NONBLOCK) };
        assert_eq!(set, 0, "F_SETFL: {}", std::io::Error::last_os_error());
    }

    /// Runs `args` with stdin a pipe whose read end is non-blocking, writing each of
    /// `steps`' input only once the lines it expects before have been printed: the run
    /// must wait for every value, not take an empty pipe for its end.
    fn run_on_nonblocking_stdin(args: &[&str], steps: &[(&str, &[&str])]) -> Output {
        let (reader, writer) = pipe();
        set_nonblocking(&reader);
        // The description is shared: a read here on the empty pipe returns at once.
        let mut probe = fs::File::from(reader.try_clone().unwrap());
        let empty = std::io::Read::read(&mut probe, &mut [0; 1]).unwrap_err();
        assert_eq!(empty.kind(), std::io::ErrorKind::WouldBlock);
        drop(probe);
        let mut child = spawn_with(args, Stdio::from(reader), Stdio::piped());
        let mut writer = fs::File::from(writer);
        let (tx, printed) = std::sync::mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        thread::spawn(move || {
            stdout
                .lines()
                .map_while(Result::ok)
                .try_for_each(|l| tx.send(l))
        });
        for (input, expected) in steps {
            writer.write_all(input.as_bytes()).unwrap();
            for line in *expected {
                let got = printed.recv_timeout(Duration::from_secs(20));
                assert_eq!(got.as_deref(), Ok(*line), "{args:?}, after {input:?}");
            }
        }
        drop(writer);
        let output = finish(child);
        assert!(printed.try_recv().is_err(), "more lines than expected");
        output
    }

    #[test]
    fn a_non_blocking_stdin_on_the_shared_input_waits_for_every_value() {
        let output = run_on_nonblocking_stdin(
            &["-s", "a", "-s", "b"],
            &[
                ("a 1\nb 2\n", &["a 1", "b 2", "merge 3"]),
                ("a 3\n", &[]),
                ("b 4\n", &["a 3", "b 4", "merge 7"]),
                ("b 5\na -6\n", &["a -6", "b 5", "merge -1"]),
            ],
        );
        assert_quiet(&output);
    }

    #[test]
    fn a_non_blocking_stdin_as_a_source_of_its_own_waits_for_every_value() {
        let dir = Dir::new(test_name!());
        let b = dir.source("b", "b.txt", "10\n20\n30\n");
        let output = run_on_nonblocking_stdin(
            &["-f", "a=-", "-f", &b],
            &[
                ("1\n", &["a 1", "b 10", "merge 11"]),
                ("2\n", &["a 2", "b 20", "merge 22"]),
                ("3\n", &["a 3", "b 30", "merge 33"]),
            ],
        );
        assert_quiet(&output);
    }

    /// Waits until the pipe whose read end is `fd` is about full, which is when a write
    /// to it would block, and 100 ms more: a write that found it full and did not wait
    /// has failed or lost its bytes by then (a negative check: no handshake tells).
    fn until_full(fd: &OwnedFd) {
        const F_GETPIPE_SZ: c_int = 1032;
        const FIONREAD: std::ffi::c_ulong = 0x541B;
        // SAFETY: `fd` is open; F_GETPIPE_SZ takes no argument.
        let size = unsafe { fcntl(fd.as_raw_fd(), F_GETPIPE_SZ) };
        assert!(
            size > 0,
            "F_GETPIPE_SZ: {}",
            std::io::Error::last_os_error()
        );
        let queued = || {
            let mut bytes: c_int = 0;
            // SAFETY: `fd` is open; FIONREAD writes an int where its argument points.
            let told = unsafe { ioctl(fd.as_raw_fd(), FIONREAD, &mut bytes) };
            assert_eq!(told, 0, "FIONREAD: {}", std::io::Error::last_os_error());
            bytes
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        // Within a page of full: a last write may leave a page's bytes unfilled.
        while queued() < size - size.min(4096) && Instant::now() < deadline {
            thread::yield_now();
        }
        thread::sleep(Duration::from_millis(100));
    }

    /// What the pipe whose read end is `fd` gives until its writers have gone.
    fn drain(fd: OwnedFd) -> Vec<u8> {
        let mut all = Vec::new();
        std::io::Read::read_to_end(&mut fs::File::from(fd), &mut all).unwrap();
        all
    }

    #[test]
    fn a_non_blocking_stdout_waits_for_its_reader() {
        // 2 MB of merges through a pipe of 64 KiB.
        let args = ["-m", "-n", "200000", "--seed", "1"];
        let (reader, writer) = pipe();
        set_nonblocking(&writer);
        let child = spawn_with(&args, Stdio::null(), Stdio::from(writer));
        until_full(&reader);
        let stdout = drain(reader);
        assert_quiet(&finish(child));
        assert_eq!(stdout, run(&args).stdout);
    }

    #[test]
    fn a_non_blocking_stderr_waits_for_its_reader() {
        // `--stats` names 10,000 streams in one line of about 110 KB: more than the pipe.
        let names: Vec<String> = (0..10_000).map(|k| format!("s{k}=0..1")).collect();
        let mut args = vec!["-m", "-n", "1", "--stats"];
        args.extend(names.iter().flat_map(|name| ["-s", name.as_str()]));
        let (reader, writer) = pipe();
        set_nonblocking(&writer);
        let child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(writer))
            .spawn()
            .unwrap();
        until_full(&reader);
        let stderr = String::from_utf8(drain(reader)).unwrap();
        assert!(finish(child).status.success());
        let values: Vec<String> = (0..10_000).map(|k| format!("s{k} 1")).collect();
        let first = [
            "rounds merged: 1",
            "rounds dropped: 0",
            "rounds filled: 0",
            "rounds carried: 0",
            &format!("values: {}", values.join(", ")),
        ];
        assert_stats(&stderr, &first, &[]);
    }

    /// `-f a=S4 -f b=B`: four values beside `b`'s many, in files of `dir`.
    fn four_beside(dir: &Dir, b: impl AsRef<[u8]>) -> [String; 4] {
        let a = dir.source("a", "a.txt", "1\n2\n3\n4\n");
        let b = dir.source("b", "b.txt", b);
        ["-f".to_string(), a, "-f".to_string(), b]
    }

    fn two_hundred_thousand() -> String {
        (1..=200_000).map(|k| format!("{k}\n")).collect()
    }

    #[test]
    fn each_streams_lines_and_the_unmatched_value_last_are_the_same_in_every_run() {
        let dir = Dir::new(test_name!());
        let args = four_beside(&dir, two_hundred_thousand());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let runs: Vec<Output> = (0..20).map(|_| run(&args)).collect();
        for output in &runs {
            assert!(output.status.success(), "{output:?}");
            // b's fifth value is printed: its round ended the run.
            assert_eq!(output.stderr, b"b: 1 unmatched\n");
            let lines = lines_of(&output.stdout);
            assert_eq!(lines.len(), 13, "{lines:?}");
            assert_eq!(values(&lines, "a"), ["1", "2", "3", "4"]);
            assert_eq!(values(&lines, "b"), ["1", "2", "3", "4", "5"]);
            assert_eq!(values(&lines, "merge"), ["2", "4", "6", "8"]);
            // Each merge after the lines of the values it sums.
            let at = |name: &str, value: usize| {
                let line = (name.to_string(), value.to_string());
                lines.iter().position(|l| *l == line).unwrap()
            };
            for k in 1..=4 {
                assert!(at("a", k) < at("merge", 2 * k) && at("b", k) < at("merge", 2 * k));
            }
            // The unmatched value, decided last, comes after every merge.
            assert_eq!(at("b", 5), 12, "{lines:?}");
        }
    }

    #[test]
    fn a_failure_past_the_end_is_never_reported_even_with_a_closed_stdout() {
        let b: String = (1..=1000).map(|k| format!("{k}\n")).collect::<String>() + "bad1001\n";
        let dir = Dir::new(test_name!());
        let args = four_beside(&dir, b);
        for k in 0..20 {
            let output = run_into_closed_pipe(&args);
            assert_eq!(output.status.code(), Some(0), "run {k}: {output:?}");
            assert!(output.stderr.is_empty(), "run {k}: {output:?}");
        }
        let mut merges_only = args.to_vec();
        merges_only.push("-m".to_string());
        for k in 0..20 {
            let output = run(&merges_only);
            assert_eq!(output.status.code(), Some(0), "run {k}: {output:?}");
            assert_eq!(output.stdout, b"merge 2\nmerge 4\nmerge 6\nmerge 8\n");
            assert_eq!(output.stderr, b"b: 1 unmatched\n", "run {k}");
        }
    }

    #[test]
    fn stats_after_a_failure_still_summarise_the_run() {
        let not_a_value = "stream-merge: <stdin>:3: stream 'b': 'x' is not a value: a value is a \
                           decimal such as 7, -12, 20.5, .5 or 2.5E3";
        let output = run_with_input(&["-s", "a", "-s", "b", "-m", "--stats"], "a 1\nb 2\nb x\n");
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        assert_eq!(output.stdout, b"merge 3\n");
        let stats = String::from_utf8(output.stderr).unwrap();
        // The failed round counts no value: b's failure decided it, and a had ended.
        let first = [
            "rounds merged: 1",
            "rounds dropped: 0",
            "rounds filled: 0",
            "rounds carried: 0",
            "values: a 1, b 1",
        ];
        assert_stats(&stats, &first, &[not_a_value]);
        // A run that ends as it should counts the values of its last round, unmatched.
        let dir = Dir::new(test_name!());
        let mut args = four_beside(&dir, two_hundred_thousand()).to_vec();
        args.extend(["-m".to_string(), "--stats".to_string()]);
        let output = run(&args);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, b"merge 2\nmerge 4\nmerge 6\nmerge 8\n");
        let stats = String::from_utf8(output.stderr).unwrap();
        let first = [
            "b: 1 unmatched",
            "rounds merged: 4",
            "rounds dropped: 0",
            "rounds filled: 0",
            "rounds carried: 0",
            "values: a 4, b 5",
        ];
        assert_stats(&stats, &first, &[]);
    }

    #[test]
    fn too_few_free_descriptors_fail_the_run_before_anything_is_printed() {
        let dir = Dir::new(test_name!());
        let mut args = vec!["-m".to_string()];
        for k in 1..=30 {
            let source = dir.source(&format!("s{k}"), &format!("f{k}"), format!("{k}\n"));
            args.extend(["-f".to_string(), source]);
        }
        let limited = |limit: u32| {
            let script = format!("ulimit -n {limit} && exec \"$0\" \"$@\"");
            let output = Command::new("sh")
                .args(["-c", &script, BIN])
                .args(&args)
                .output();
            output.unwrap()
        };
        let mut first: Option<String> = None;
        for k in 0..10 {
            let output = limited(12);
            let (code, stdout, stderr) = failure(&output);
            assert_eq!((code, stdout.as_str()), (Some(1), ""), "run {k}");
            let prefix = "stream-merge: cannot open 30 inputs at once: only ";
            let free = stderr
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(" more files can be open (ulimit -n)\n"));
            let free: u64 = free.and_then(|n| n.parse().ok()).expect(&stderr);
            assert!(free < 12, "{stderr}");
            assert_eq!(stderr, *first.get_or_insert(stderr.clone()), "run {k}");
        }
        // With room for them all, the same run merges.
        let output = limited(64);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, b"merge 465\n");
    }

    #[test]
    fn each_readers_line_limit_follows_its_own_streams_name() {
        let name = "n".repeat(5000);
        let shown = format!("'{}'... (5000 bytes)", "n".repeat(40));
        // 5002 bytes: within the long name's limit, 5064.
        let dir = Dir::new(test_name!());
        let long = dir.source(&name, "long.txt", format!("1\n{name} 2\n3\n"));
        // 4500 bytes: a value, but longer than a short name's limit.
        let wide = format!("{}5", "0".repeat(4499));
        let short = dir.file("short.txt", format!("1\n{wide}\n3\n"));
        let output = run(&["-m", "-f", &long, "-f", &format!("a={short}")]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), "merge 2\n"));
        let expected = format!(
            "stream-merge: {}:2: stream 'a': a line longer than 4096 bytes\n",
            shown_path(&short)
        );
        assert_eq!(stderr, expected);
        // The same line is fine in the long-named stream's own file.
        let wide_long = dir.source(&name, "wide.txt", format!("1\n{wide}\n3\n"));
        let fine = dir.source("a", "fine.txt", "1\n2\n3\n");
        let output = run(&["-m", "-f", &long, "-f", &fine]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, b"merge 2\nmerge 4\nmerge 6\n");
        let output = run(&["-m", "-f", &wide_long, "-f", &fine]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, b"merge 2\nmerge 7\nmerge 6\n");
        // And the long name's limit has its own end.
        let wider = format!("{}5", "0".repeat(5100));
        let too_long = dir.file("too-long.txt", format!("1\n{wider}\n"));
        let output = run(&["-m", "-f", &format!("{name}={too_long}"), "-f", &fine]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), "merge 2\n"));
        let expected = format!(
            "stream-merge: {}:2: stream {shown}: a line longer than 5064 bytes\n",
            shown_path(&too_long)
        );
        assert_eq!(stderr, expected);
    }

    #[test]
    fn dev_null_and_a_regular_file_are_fine_sources() {
        let dir = Dir::new(test_name!());
        let b = dir.source("b", "b.txt", "1\n2\n");
        let output = run(&["-f", "a=/dev/null", "-f", &b, "-m"]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            (output.stdout.as_slice(), output.stderr.as_slice()),
            (&b""[..], &b"b: 1 unmatched\n"[..])
        );
        let output = run(&["-f", "a=/dev/null", "-s", "g=0..1", "-n", "5", "-m"]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, b"");
        assert_eq!(output.stderr, b"g: 1 unmatched\n");
    }

    #[test]
    fn a_source_that_cannot_be_opened_fails_at_round_1_before_anything_is_printed() {
        // /dev/tty passes the check (it exists and anyone may read it), but opens only for
        // a process with a controlling terminal.
        let Err(cannot) = fs::File::open("/dev/tty") else {
            eprintln!("skipped: this process has a controlling terminal");
            return;
        };
        let dir = Dir::new(test_name!());
        let b = dir.source("b", "b.txt", "1\n2\n");
        for args in [
            &["-f", "a=/dev/tty", "-s", "g=0..10", "-n", "1000"][..],
            &["-f", &b, "-f", "a=/dev/tty", "-m"],
        ] {
            let output = finish(spawn(args));
            let (code, stdout, stderr) = failure(&output);
            assert_eq!((code, stdout.as_str()), (Some(1), ""), "{args:?}");
            let expected = format!("stream-merge: /dev/tty: stream 'a': cannot open: {cannot}\n");
            assert_eq!(stderr, expected, "{args:?}");
        }
    }
}
