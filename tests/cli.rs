//! Drives the real binary with arguments and checks its output, exit status and stderr.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_stream-merge");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn spawn(args: &[&str]) -> Child {
    let piped = Stdio::piped;
    let command = Command::new(BIN)
        .args(args)
        .stdin(piped())
        .stdout(piped())
        .stderr(piped())
        .spawn();
    command.expect("the binary runs")
}

/// Runs with `input` on stdin.
fn run_with_input(args: &[&str], input: impl AsRef<[u8]>) -> Output {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(input.as_ref()); // the run may end before reading it all
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// A path for this test's own file, removed if it is there already.
fn temp(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_file(&path);
    path.to_str().unwrap().to_string()
}

/// A file holding `text`, and its path.
fn file(name: &str, text: impl AsRef<[u8]>) -> String {
    let path = temp(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A failed run's exit status, stdout and one-line stderr.
fn failure(output: &Output) -> (Option<i32>, String, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code(), stdout, stderr)
}

/// Waits for `child` to exit: a run that should end must not hang the test suite.
fn finish(mut child: Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after 20 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// The (name, value) pairs of a run's stdout.
fn parse(stdout: &[u8]) -> Vec<(String, i128)> {
    let stdout = std::str::from_utf8(stdout).unwrap();
    stdout
        .lines()
        .map(|line| {
            let (name, value) = line.split_once(' ').expect("NAME VALUE");
            (name.to_string(), value.parse().expect("an integer"))
        })
        .collect()
}

/// The lines of a successful run, as (name, value) pairs.
fn lines(args: &[&str]) -> Vec<(String, i128)> {
    let output = run(args);
    assert!(output.status.success(), "{args:?}: {output:?}");
    assert!(output.stderr.is_empty(), "{args:?}: {output:?}");
    parse(&output.stdout)
}

/// Each stream's values in order, and the merges, from a run's lines.
fn split(lines: &[(String, i128)], names: &[&str]) -> (Vec<Vec<i128>>, Vec<i128>) {
    let of = |name: &str| lines.iter().filter(|l| l.0 == name).map(|l| l.1).collect();
    (names.iter().map(|&name| of(name)).collect(), of("merge"))
}

/// Asserts that merge k is the sum of the k-th values and comes after them, that no value
/// outside `names` appears, and that every stream has `rounds` values.
fn assert_merged(lines: &[(String, i128)], names: &[&str], rounds: usize) {
    let (streams, merges) = split(lines, names);
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
        let lines = lines(&[]);
        assert_merged(&lines, &["x", "y"], 4);
        let (streams, _) = split(&lines, &["x", "y"]);
        assert!(streams[0].iter().all(|v| (0..10).contains(v)));
        assert!(streams[1].iter().all(|v| (100..110).contains(v)));
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
        let lines = lines(&args);
        assert_merged(&lines, &["a", "b", "c"], 5000);
        let (streams, _) = split(&lines, &["a", "b", "c"]);
        assert!(streams[1].iter().all(|v| (-1000..1000).contains(v)));
        assert!(streams[2].iter().all(|&v| v == 5));
    }

    #[test]
    fn zero_messages_print_nothing() {
        assert!(lines(&["-n", "0"]).is_empty());
    }

    #[test]
    fn sums_are_exact_beyond_i64() {
        let max = "x=9223372036854775806..9223372036854775807";
        let min = "z=-9223372036854775808..-9223372036854775807";
        let high = lines(&[
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
        assert_eq!(split(&high, &[]).1, [3 * (i64::MAX as i128 - 1); 2]);
        let low = lines(&["-n", "1", "-s", min, "-s", &min.replace('z', "v")]);
        assert_eq!(split(&low, &[]).1, [2 * i64::MIN as i128]);
    }

    #[test]
    fn merges_only_prints_just_the_merges() {
        let all = lines(&["-n", "300", "--seed", "9"]);
        let merges = lines(&["-n", "300", "--seed", "9", "--merges-only"]);
        assert!(merges.iter().all(|(name, _)| name == "merge"));
        assert_eq!(
            merges.iter().map(|l| l.1).collect::<Vec<_>>(),
            split(&all, &[]).1
        );
    }
}

mod window {
    use super::*;

    #[test]
    fn the_smallest_window_still_merges_every_round() {
        let lines = lines(&[
            "-n", "3000", "--window", "1", "-s", "a=0..5", "-s", "b=7..9", "-s", "c=-9..0",
        ]);
        assert_merged(&lines, &["a", "b", "c"], 3000);
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
        let lines: Vec<&str> = stats.lines().collect();
        assert_eq!(
            lines[..2],
            ["rounds merged: 1234", "values: x 1234, y 1234"],
            "{stats}"
        );
        assert!(
            lines[2].starts_with("elapsed: ") && lines[2].ends_with(" s"),
            "{stats}"
        );
        assert!(lines[3].starts_with("rounds per second: "), "{stats}");
    }
}

mod seeds {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_values_and_merges() {
        let args = ["-n", "2000", "--seed", "42"];
        let (first, second) = (lines(&args), lines(&args));
        assert_eq!(split(&first, &["x", "y"]), split(&second, &["x", "y"]));
        let other = lines(&["-n", "2000", "--seed", "43"]);
        assert_ne!(split(&first, &["x", "y"]), split(&other, &["x", "y"]));
    }

    #[test]
    fn a_streams_values_do_not_depend_on_its_neighbours() {
        let alone = lines(&["-n", "500", "--seed", "5", "-s", "a=0..1000"]);
        let crowded = lines(&[
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
        assert_eq!(split(&alone, &["a"]).0, split(&crowded, &["a"]).0);
    }

    #[test]
    fn runs_without_a_seed_differ() {
        let args = ["-n", "100", "-s", "a=0..1000000"];
        assert_ne!(lines(&args), lines(&args));
    }
}

mod usage {
    use super::*;

    #[test]
    fn help_lists_every_option() {
        let output = run(&["--help"]);
        assert!(output.status.success());
        let help = String::from_utf8(output.stdout).unwrap();
        for option in [
            "--messages",
            "--stream",
            "--seed",
            "--merges-only",
            "--file",
            "--strict",
            "--fill",
            "--help",
            "--version",
            "Example",
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
        for (args, problem) in [
            (&["--messages"][..], "--messages needs a value"),
            (&["-n", "x"], "--messages takes a whole number"),
            (
                &["-n", "99999999999999999999"],
                "--messages takes a whole number",
            ),
            (&["--seed", "-1"], "--seed takes a whole number"),
            (&["--window", "0"], "--window must be at least 1"),
            (&["--window"], "--window needs a value"),
            (&["--frobnicate"], "unknown option '--frobnicate'"),
            (&["extra"], "unexpected argument 'extra'"),
            (&["-s", "x=0-1"], "invalid stream 'x=0-1'"),
            (&["-s", "x=a..b"], "invalid stream 'x=a..b'"),
            (&["-s", "x=3..1"], "LO must be less than HI"),
            (&["-s", "merge=0..1"], "invalid stream name 'merge'"),
            (
                &["-s", "x=0..1", "-s", "x=0..2"],
                "stream 'x' is given twice",
            ),
            (&["-m=1"], "-m takes no value"),
        ] {
            let output = run(args);
            let stderr = String::from_utf8(output.stderr).unwrap();
            assert_eq!(output.status.code(), Some(2), "{args:?}");
            assert!(output.stdout.is_empty(), "{args:?}");
            assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
            assert!(stderr.starts_with("stream-merge: "), "{args:?}: {stderr}");
            assert!(
                stderr.contains(problem) && stderr.contains("--help"),
                "{args:?}: {stderr}"
            );
        }
    }
}

mod closed_output {
    use super::*;

    #[test]
    fn a_closed_stdout_ends_a_long_run_at_once_and_quietly() {
        let mut child = spawn(&["-n", "100000000"]);
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with('x') || first.starts_with('y'), "{first}");
        // The reader is dropped: stdout is closed. A full run would take many seconds.
        let output = finish(child);
        assert!(output.status.success(), "{output:?}");
        assert!(output.stderr.is_empty(), "{output:?}");
    }

    #[test]
    fn an_output_that_fails_is_a_run_time_error() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = Command::new(BIN)
            .args(["-n", "100000"])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.starts_with("stream-merge: cannot write output: "),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

mod shared_input {
    use super::*;

    #[test]
    fn the_programs_own_output_feeds_back_in() {
        let first = lines(&["--seed", "5", "-n", "1000"]);
        let text: String = first
            .iter()
            .map(|(name, value)| format!("{name} {value}\n"))
            .collect();
        let output = run_with_input(&["-s", "x", "-s", "y"], &text);
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{output:?}"
        );
        let second = parse(&output.stdout);
        assert_merged(&second, &["x", "y"], 1000);
        assert_eq!(split(&first, &["x", "y"]), split(&second, &["x", "y"]));
    }

    #[test]
    fn generated_and_external_streams_mix() {
        let output = run_with_input(&["-s", "a", "-s", "g=5..6", "-n", "3"], "a 1\na 2\na 3\n");
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{output:?}"
        );
        assert_eq!(split(&parse(&output.stdout), &[]).1, [6, 7, 8]);
    }

    #[test]
    fn unequal_streams_end_with_the_shortest_and_report_the_rest() {
        let output = run_with_input(&["-s", "a", "-s", "b", "-m"], "a 1\na 2\na 3\nb 10\n");
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, b"merge 11\n");
        assert_eq!(output.stderr, b"a: 2 unmatched\n");
    }

    #[test]
    fn a_long_generated_stream_stops_when_a_short_external_one_ends() {
        let output = run_with_input(
            &["-s", "x=0..10", "-s", "y", "-n", "1000000000", "-m"],
            "y 100\ny 100\ny 100\n",
        );
        assert!(output.status.success(), "{output:?}");
        let merges = split(&parse(&output.stdout), &[]).1;
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
        assert!(left <= stream_merge::WINDOW, "{stderr}");
    }

    #[test]
    fn crlf_blank_and_merge_lines_are_accepted() {
        let input = "x 1\r\n\r\n   \t\n  y\t  2  \r\nmerge 3\r\nx -4\ny 10";
        let output = run_with_input(&["-s", "x", "-s", "y"], input);
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{output:?}"
        );
        let lines = parse(&output.stdout);
        assert_merged(&lines, &["x", "y"], 2);
        assert_eq!(
            split(&lines, &["x", "y"]),
            (vec![vec![1, -4], vec![2, 10]], vec![3, 6])
        );
    }

    #[test]
    fn each_bad_line_is_reported_with_its_place_after_the_merges_before_it() {
        // A line naming no stream on the input is every one's next item: only merge 1 is
        // made. A bad line of x is x's third item: y's 4 still makes merge 2.
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
                "<stdin>:5: no stream is named 'x\\x0C1'",
            ),
            (
                "x",
                "merge 3\nmerge 7\n",
                "<stdin>:5: stream 'x': has no value",
            ),
            (
                "x 1 2",
                "merge 3\nmerge 7\n",
                "<stdin>:5: stream 'x': unexpected '2' after the value",
            ),
            (
                "x one",
                "merge 3\nmerge 7\n",
                "<stdin>:5: stream 'x': 'one' is not a value: a value is a decimal",
            ),
            (
                "x 1e30",
                "merge 3\nmerge 7\n",
                "<stdin>:5: stream 'x': '1e30' is out of range: a value is m·10^-s",
            ),
        ] {
            let input = format!("x 1\ny 2\n\nx 3\n{line}\ny 4\n");
            let f = file("zeros-f.txt", "0\n".repeat(9));
            let f = format!("f={f}");
            let args = [
                "-s", "x", "-s", "y", "-s", "g=0..1", "-f", &f, "-n", "9", "-m",
            ];
            let output = run_with_input(&args, &input);
            let (code, stdout, stderr) = failure(&output);
            assert_eq!(code, Some(1), "{line}: {stderr}");
            assert!(
                stderr.starts_with(&format!("stream-merge: {problem}")),
                "{stderr}"
            );
            assert_eq!(stdout, merges, "{line}");
        }
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
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("input.txt");
        std::fs::write(&path, "y 5\nx 1\n").unwrap();
        let path = path.to_str().unwrap();
        for args in [
            &["-s", "x", "-s", "y", "-i", path][..],
            &["-s", "x", "-s", "y", &format!("--input={path}")],
        ] {
            let output = run(args);
            assert!(output.status.success(), "{output:?}");
            assert_eq!(
                split(&parse(&output.stdout), &["x", "y"]),
                (vec![vec![1], vec![5]], vec![6])
            );
        }
        let output = run_with_input(&["-s", "x", "-s", "y", "-i", "-"], "x 1\ny 1\n");
        assert_eq!(
            split(&parse(&output.stdout), &["x", "y"]),
            (vec![vec![1], vec![1]], vec![2])
        );
    }

    #[test]
    fn an_input_that_cannot_be_read_is_named_before_any_output() {
        let output = run(&["-s", "x", "-i", "/no/such/file"]);
        let (code, stdout, stderr) = failure(&output);
        assert_eq!((code, stdout.as_str()), (Some(1), ""));
        let expected = "stream-merge: /no/such/file: cannot read: ";
        assert!(stderr.starts_with(expected), "{stderr}");
    }

    #[test]
    fn input_is_not_read_without_an_external_stream() {
        // stdin is a pipe that never ends: reading it would hang.
        let output = finish(spawn(&["-n", "2", "-m"]));
        assert!(output.status.success());
        assert_eq!(parse(&output.stdout).len(), 2);
    }
}
