//! Merging by time (`--by-time`, `-t`) and carrying a stream's latest value (`--carry`),
//! from the specification alone: drives the real binary with arguments, stdin, files and
//! named pipes, and checks each stream's lines, the merge lines, the whole stderr and the
//! exit status. Only how the lines of different streams interleave may vary between runs,
//! so stdout is compared stream by stream, and each value's line only has to come before
//! the merge that sums it.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

mod common;

use common::{Dir, shown_path, test_name};

const BIN: &str = env!("CARGO_BIN_EXE_stream-merge");

/// How long a run may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(20);

/// What a bad value's message says after the quoted value.
const NOT_A_VALUE: &str = "is not a value: a value is a decimal such as 7, -12, 20.5, .5 or 2.5E3";

/// What a bad time's message says after the quoted time.
const NOT_A_TIME: &str =
    "is not a time: a time is a decimal such as 17, 1764614400 or 1764614400.125";

/// A test's own directory, `CARGO_TARGET_TMPDIR/time/<test>/`, made empty.
fn scratch(test: &str) -> Dir {
    Dir::new(&format!("time/{test}"))
}

/// A run's arguments: `options`, then `-f NAME=PATH` for each of `sources`.
fn with_sources(options: &[&str], sources: &[(&str, &str)]) -> Vec<String> {
    let mut args: Vec<String> = options.iter().map(|option| option.to_string()).collect();
    for (name, path) in sources {
        args.extend(["-f".into(), format!("{name}={path}")]);
    }
    args
}

/// A running binary, killed if it is still running after `LIMIT`: a hang fails the test
/// rather than the suite. The guard then also holds the named pipes it was given open, so
/// that a test waiting to open one for writing is released, and fails on what it reads.
struct Running {
    child: Option<Child>,
    lines: Option<Receiver<String>>,
    disarm: Option<Sender<()>>,
    fired: Arc<AtomicBool>,
}

fn spawn(args: &[impl AsRef<OsStr>], fifos: &[&str]) -> Running {
    let piped = Stdio::piped;
    let child = Command::new(BIN)
        .args(args)
        .stdin(piped())
        .stdout(piped())
        .stderr(piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id().to_string();
    let fired = Arc::new(AtomicBool::new(false));
    let (disarm, armed) = mpsc::channel::<()>();
    let fifos: Vec<String> = fifos.iter().map(|f| f.to_string()).collect();
    let flag = Arc::clone(&fired);
    thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = armed.recv_timeout(LIMIT) {
            flag.store(true, Ordering::SeqCst);
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            // Read and write: opening never waits, and releases a writer waiting now or
            // later, until the test is over.
            let held: Vec<_> = fifos
                .iter()
                .map(|fifo| OpenOptions::new().read(true).write(true).open(fifo))
                .collect();
            let _ = armed.recv();
            drop(held);
        }
    });
    Running {
        child: Some(child),
        lines: None,
        disarm: Some(disarm),
        fired,
    }
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn hung(&self) -> &'static str {
        if self.fired.load(Ordering::SeqCst) {
            "still running after 20 s, killed"
        } else {
            "stdout ended"
        }
    }

    /// Writes `input` to the child's stdin from a thread of its own, then closes it: the
    /// run may end before it reads it all.
    fn feed(&mut self, input: &str) -> thread::JoinHandle<()> {
        let mut stdin = self.child.as_mut().unwrap().stdin.take().unwrap();
        let input = input.as_bytes().to_vec();
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        })
    }

    /// Reads stdout line by line from now on, through `next_line` and `nothing_yet`.
    fn watch(&mut self) {
        let stdout = self.child.as_mut().unwrap().stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        self.lines = Some(rx);
    }

    /// The next line on stdout, waiting for it (the guard bounds the wait).
    fn next_line(&self) -> String {
        let lines = self.lines.as_ref().expect("watched");
        lines.recv().unwrap_or_else(|_| panic!("{}", self.hung()))
    }

    /// Asserts that no line comes on stdout within 50 ms (nothing may be printed before its
    /// round is decided). A negative check, so no handshake can end it sooner: a line
    /// printed too early is caught unless the run takes longer than that to print it.
    fn nothing_yet(&self) {
        let lines = self.lines.as_ref().expect("watched");
        match lines.recv_timeout(Duration::from_millis(50)) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(line) => panic!("printed before its round was decided: {line}"),
            Err(RecvTimeoutError::Disconnected) => panic!("{}", self.hung()),
        }
    }

    /// Waits for the run to end: its status, stderr, and what stdout had left.
    fn finish(mut self) -> Output {
        let child = self.child.take().unwrap();
        let mut output = child.wait_with_output().unwrap();
        self.disarm.take();
        assert!(!self.fired.load(Ordering::SeqCst), "{}", self.hung());
        if let Some(lines) = self.lines.take() {
            output.stdout = lines.iter().map(|l| l + "\n").collect::<String>().into();
        }
        output
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs with `args` and `input` on stdin.
fn run(args: &[impl AsRef<OsStr>], input: &str) -> Output {
    let mut running = spawn(args, &[]);
    let writer = running.feed(input);
    let output = running.finish();
    let _ = writer.join();
    output
}

/// Opens a named pipe for writing: returns once the run's reader has opened it.
fn writer(fifo: &str) -> File {
    OpenOptions::new().write(true).open(fifo).unwrap()
}

fn send(pipe: &mut File, text: &str) {
    pipe.write_all(text.as_bytes()).unwrap();
}

/// A line's stream: its first field.
fn name_of(line: &str) -> &str {
    line.split(' ').next().unwrap()
}

/// Each line with its place in its own stream: (name, k) for the k-th line of that name.
fn keyed<'a>(lines: &[&'a str]) -> Vec<(&'a str, usize)> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let keys = lines.iter().map(|line| {
        let count = seen.entry(name_of(line)).or_default();
        *count += 1;
        (name_of(line), *count)
    });
    keys.collect()
}

/// Asserts that `stdout` prints what `expected`, one interleaving the run may print, does:
/// the same lines of each stream and the same merge lines, in order; each value's line
/// before the merge that follows it in `expected` (the one that sums it, or a later one);
/// and the lines after the last merge in `expected`, after every merge.
fn assert_stdout(stdout: &[u8], expected: &str) {
    let actual = std::str::from_utf8(stdout).expect("UTF-8 output");
    assert!(
        actual.is_empty() || actual.ends_with('\n'),
        "a partial last line in\n{actual}"
    );
    let got: Vec<&str> = actual.lines().collect();
    let want: Vec<&str> = expected.lines().collect();
    let names: BTreeSet<&str> = got.iter().chain(&want).map(|l| name_of(l)).collect();
    for name in names {
        let of = |lines: &[&str]| -> Vec<String> {
            let lines = lines.iter().filter(|l| name_of(l) == name);
            lines.map(|l| l.to_string()).collect()
        };
        assert_eq!(of(&got), of(&want), "the lines of '{name}' in\n{actual}");
    }
    let at: HashMap<(&str, usize), usize> = keyed(&got)
        .into_iter()
        .enumerate()
        .map(|(place, key)| (key, place))
        .collect();
    let mut pending = Vec::new();
    let mut last_merge = None;
    for key in keyed(&want) {
        if key.0 == "merge" {
            for value in pending.drain(..) {
                let (v, m) = (at[&value], at[&key]);
                assert!(v < m, "'{}' after '{}' in\n{actual}", got[v], got[m]);
            }
            last_merge = Some(key);
        } else {
            pending.push(key);
        }
    }
    if let Some(merge) = last_merge {
        for value in pending {
            let (v, m) = (at[&value], at[&merge]);
            assert!(v > m, "'{}' before '{}' in\n{actual}", got[v], got[m]);
        }
    }
}

/// The lines of a run of streams `names` in which every round is merged, round by round:
/// each stream's n-th line then the n-th merge, each with `after(n)` after it.
fn by_round(lines: &str, names: &[&str], after: impl Fn(usize) -> String) -> String {
    let of = |name: &str| -> Vec<&str> { lines.lines().filter(|l| name_of(l) == name).collect() };
    let merges = of("merge");
    let streams: Vec<Vec<&str>> = names.iter().map(|name| of(name)).collect();
    assert!(streams.iter().all(|s| s.len() == merges.len()), "{lines}");
    let mut text = String::new();
    for (n, merge) in merges.iter().enumerate() {
        for stream in &streams {
            text += &format!("{}{}\n", stream[n], after(n + 1));
        }
        text += &format!("{merge}{}\n", after(n + 1));
    }
    text
}

/// Asserts a run's exit status, its stdout (as `assert_stdout` does) and its whole stderr.
fn assert_run(output: &Output, code: i32, stdout: &str, stderr: &str) {
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr:\n{err}");
    assert_eq!(err, stderr);
    assert_stdout(&output.stdout, stdout);
}

/// Asserts that `stderr`, of a `--stats` run, is the lines `first`, then the elapsed
/// seconds and the rate, then the lines `last`.
fn assert_stats(stderr: &[u8], first: &[&str], last: &[&str]) {
    common::assert_stats(std::str::from_utf8(stderr).unwrap(), first, last);
}

mod zip_by_time {
    use super::*;

    /// A time, and x's and y's values there.
    type Row = (u32, Option<u32>, Option<u32>);

    /// IoTPy's `timed_zip` test (`test_timed_zip_agents`), its four extends in one: every
    /// time of either stream, with x's and y's values there (`None` where it has none).
    /// Its letters are numbers here: x's `a`..`o` their place in the alphabet, y's `A`..`M`
    /// a hundred times theirs. IoTPy's streams never close, so it stops at 107, until y
    /// passes 110; here y ends, so 110 is a round too.
    const ZIP: [Row; 20] = [
        (1, Some(1), None),
        (2, None, Some(100)),
        (3, Some(2), Some(200)),
        (9, None, Some(400)),
        (10, Some(4), None),
        (15, Some(5), None),
        (17, Some(6), None),
        (20, None, Some(500)),
        (21, Some(7), Some(600)),
        (23, Some(8), Some(700)),
        (29, None, Some(800)),
        (40, Some(9), None),
        (55, Some(10), Some(900)),
        (97, Some(11), None),
        (100, Some(12), Some(1000)),
        (104, None, Some(1100)),
        (105, Some(13), Some(1200)),
        (106, Some(14), None),
        (107, None, Some(1300)),
        (110, Some(15), None),
    ];

    /// `options`, then `-f x=… -f y=…`, each file `VALUE TIME` a line, from `ZIP`.
    fn with_zip(s: &Dir, options: &[&str]) -> Vec<String> {
        let of = |pick: fn(&Row) -> Option<u32>| -> String {
            let rows = ZIP.iter().filter_map(|row| Some((row.0, pick(row)?)));
            rows.map(|(time, value)| format!("{value} {time}\n"))
                .collect()
        };
        let x = s.file("x.txt", of(|row| row.1));
        let y = s.file("y.txt", of(|row| row.2));
        with_sources(options, &[("x", &x), ("y", &y)])
    }

    /// Each row's lines, and its merge (0 for a `None`) where `merged` says so.
    fn expected(merged: impl Fn(&Row) -> bool) -> String {
        let mut text = String::new();
        for row @ &(time, x, y) in &ZIP {
            for (name, value) in [("x", x), ("y", y)] {
                if let Some(value) = value {
                    text += &format!("{name} {value} {time}\n");
                }
            }
            if merged(row) {
                let sum = x.unwrap_or(0) + y.unwrap_or(0);
                text += &format!("merge {sum} {time}\n");
            }
        }
        text
    }

    #[test]
    fn iotpys_timed_zip_vectors_merge_at_every_time_with_a_fill_of_0_for_its_none() {
        let s = scratch(test_name!());
        let mut args = with_zip(&s, &["--by-time", "--fill", "0"]);
        let output = run(&args, "");
        // x has no value at 2, 9, 20, 29, 104, 107; y none at 1, 10, 15, 17, 40, 97, 106,
        // and 110, after it has ended.
        let stderr = "x: missing at 6 times, first at 2\ny: missing at 8 times, first at 1\n";
        assert_run(&output, 0, &expected(|_| true), stderr);
        args.push("-m".into());
        let merges = "merge 1 1\nmerge 100 2\nmerge 202 3\nmerge 400 9\nmerge 4 10\n\
                      merge 5 15\nmerge 6 17\nmerge 500 20\nmerge 607 21\nmerge 708 23\n\
                      merge 800 29\nmerge 9 40\nmerge 910 55\nmerge 11 97\nmerge 1012 100\n\
                      merge 1100 104\nmerge 1213 105\nmerge 14 106\nmerge 1300 107\n\
                      merge 15 110\n";
        assert_run(&run(&args, ""), 0, merges, stderr);
    }

    #[test]
    fn without_a_fill_only_the_times_both_streams_share_are_merged() {
        let s = scratch(test_name!());
        let args = with_zip(&s, &["-t"]);
        let output = run(&args, "");
        // y ends after 107: the next items are x's value at 110 and y's end, so the run
        // ends there, and x's 15 at 110 is printed, after every merge, unmatched.
        let stderr = "x: 8 unmatched\ny: 6 unmatched\n\
                      x: missing at 6 times, first at 2\ny: missing at 7 times, first at 1\n";
        let both = |row: &Row| row.1.is_some() && row.2.is_some();
        assert_run(&output, 0, &expected(both), stderr);
        let mut merges_only = args.clone();
        merges_only.push("-m".into());
        let merges = "merge 202 3\nmerge 607 21\nmerge 708 23\nmerge 910 55\n\
                      merge 1012 100\nmerge 1213 105\n";
        assert_run(&run(&merges_only, ""), 0, merges, stderr);
    }
}

mod sensors {
    use super::*;

    /// Two temperature logs, times in minutes (10:00 is 1000); sensor a dropped its 10:02
    /// reading.
    const A: [(&str, u32); 5] = [
        ("20.1", 1000),
        ("20.3", 1001),
        ("20.2", 1003),
        ("20.4", 1004),
        ("20.6", 1005),
    ];
    const B: [(&str, u32); 6] = [
        ("19.8", 1000),
        ("19.9", 1001),
        ("20.0", 1002),
        ("20.1", 1003),
        ("19.7", 1004),
        ("19.5", 1005),
    ];

    fn log(readings: &[(&str, u32)], timed: bool) -> String {
        let line = |&(value, time): &(&str, u32)| {
            if timed {
                format!("{value} {time}\n")
            } else {
                format!("{value}\n")
            }
        };
        readings.iter().map(line).collect()
    }

    #[test]
    fn by_position_every_sum_after_a_dropped_reading_is_misaligned() {
        let s = scratch(test_name!());
        let a = s.file("a.txt", log(&A, false));
        let b = s.file("b.txt", log(&B, false));
        let output = run(&with_sources(&[], &[("a", &a), ("b", &b)]), "");
        // From the third on, a's reading of one minute meets b's of the minute before.
        let expected = "a 20.1\nb 19.8\nmerge 39.9\na 20.3\nb 19.9\nmerge 40.2\n\
                        a 20.2\nb 20.0\nmerge 40.2\na 20.4\nb 20.1\nmerge 40.5\n\
                        a 20.6\nb 19.7\nmerge 40.3\nb 19.5\n";
        assert_run(&output, 0, expected, "b: 1 unmatched\n");
    }

    #[test]
    fn by_time_only_the_round_of_the_dropped_reading_is_not_merged() {
        let s = scratch(test_name!());
        let a = s.file("a.txt", log(&A, true));
        let b = s.file("b.txt", log(&B, true));
        let output = run(&with_sources(&["-t"], &[("a", &a), ("b", &b)]), "");
        let expected = "a 20.1 1000\nb 19.8 1000\nmerge 39.9 1000\n\
                        a 20.3 1001\nb 19.9 1001\nmerge 40.2 1001\n\
                        b 20.0 1002\n\
                        a 20.2 1003\nb 20.1 1003\nmerge 40.3 1003\n\
                        a 20.4 1004\nb 19.7 1004\nmerge 40.1 1004\n\
                        a 20.6 1005\nb 19.5 1005\nmerge 40.1 1005\n";
        let stderr = "b: 1 unmatched\na: missing at 1 time, first at 1002\n";
        assert_run(&output, 0, expected, stderr);
    }

    #[test]
    fn carry_fills_the_dropped_reading_with_the_one_before_it() {
        let s = scratch(test_name!());
        let a = s.file("a.txt", log(&A, true));
        let b = s.file("b.txt", log(&B, true));
        let args = with_sources(&["-t", "--carry"], &[("a", &a), ("b", &b)]);
        let output = run(&args, "");
        let expected = "a 20.1 1000\nb 19.8 1000\nmerge 39.9 1000\n\
                        a 20.3 1001\nb 19.9 1001\nmerge 40.2 1001\n\
                        b 20.0 1002\nmerge 40.3 1002\n\
                        a 20.2 1003\nb 20.1 1003\nmerge 40.3 1003\n\
                        a 20.4 1004\nb 19.7 1004\nmerge 40.1 1004\n\
                        a 20.6 1005\nb 19.5 1005\nmerge 40.1 1005\n";
        assert_run(
            &output,
            0,
            expected,
            "a: missing at 1 time, first at 1002\n",
        );
    }
}

mod times_increase {
    use super::*;

    #[test]
    fn a_repeated_time_is_a_bad_line_after_the_merges_before_it() {
        let s = scratch(test_name!());
        let a = s.file("a.txt", "1 1\n2 2\n3 2\n");
        let b = s.file("b.txt", "1 1\n2 2\n3 3\n");
        let args = with_sources(&["-t", "-m"], &[("a", &a), ("b", &b)]);
        let output = run(&args, "");
        let stderr = format!(
            "stream-merge: {}:3: stream 'a': time 2 is not after 2, the time before it\n",
            shown_path(&a)
        );
        assert_run(&output, 1, "merge 2 1\nmerge 4 2\n", &stderr);
    }

    #[test]
    fn a_time_earlier_than_the_one_before_it_is_a_bad_line_on_the_shared_input() {
        let input = "a 1 1\nb 1 1\na 6 6\nb 6 6\nb 5 5\n";
        let output = run(&["-t", "-s", "a", "-s", "b"], input);
        let stderr =
            "stream-merge: <stdin>:5: stream 'b': time 5 is not after 6, the time before it\n";
        let expected = "a 1 1\nb 1 1\nmerge 2 1\na 6 6\nb 6 6\nmerge 12 6\n";
        assert_run(&output, 1, expected, stderr);
    }

    #[test]
    fn the_same_time_at_another_scale_is_a_repeat() {
        let input = "x 1 1.5\ny 1 1.5\nx 2 1.50\ny 2 2\n";
        let output = run(&["-t", "-m", "-s", "x", "-s", "y"], input);
        let stderr = "stream-merge: <stdin>:3: stream 'x': time 1.50 is not after 1.5, the time \
                      before it\n";
        assert_run(&output, 1, "merge 2 1.5\n", stderr);
    }

    #[test]
    fn the_first_failing_stream_on_the_command_line_is_named() {
        let s = scratch(test_name!());
        let a = s.file("a.txt", "1 1\n1 1\n");
        let b = s.file("b.txt", "1 1\n0 0\n");
        let args = with_sources(&["-t", "-m"], &[("b", &b), ("a", &a)]);
        let stderr = format!(
            "stream-merge: {}:2: stream 'b': time 0 is not after 1, the time before it\n",
            shown_path(&b)
        );
        for _ in 0..10 {
            assert_run(&run(&args, ""), 1, "merge 2 1\n", &stderr);
        }
    }

    #[test]
    fn a_bad_time_past_the_round_at_which_the_run_ends_never_counts() {
        let s = scratch(test_name!());
        let a = s.file("a.txt", "1 1\n2 2\n3 3\n");
        // b's third line is bad, but its item before, at 5, is in the round at which the
        // run ends: after a's end.
        let b = s.file("b.txt", "1 1\n5 5\n4 4\n");
        let output = run(&with_sources(&["-t"], &[("a", &a), ("b", &b)]), "");
        let expected = "a 1 1\nb 1 1\nmerge 2 1\na 2 2\na 3 3\nb 5 5\n";
        let stderr = "a: 2 unmatched\nb: 1 unmatched\nb: missing at 2 times, first at 2\n";
        assert_run(&output, 0, expected, stderr);
    }
}

mod policies {
    use super::*;

    /// Runs test `test` by time with `policy` on two sources: x, which has no value at 3
    /// and ends after 4, and y, which has a value at every time up to 6.
    fn run_with(test: &str, policy: &[&str]) -> Output {
        let s = scratch(test);
        let x = s.file("x.txt", "1 1\n2 2\n4 4\n");
        let y = s.file("y.txt", "10 1\n20 2\n30 3\n40 4\n50 5\n60 6\n");
        run(
            &with_sources(&[&["-t"], policy].concat(), &[("x", &x), ("y", &y)]),
            "",
        )
    }

    #[test]
    fn by_default_a_round_without_every_stream_is_not_merged_and_the_first_end_ends_the_run() {
        let output = run_with(test_name!(), &[]);
        // Round 3 is not merged, y's 30 unmatched; after x's end, y's 50 at 5 is the
        // round at which the run ends: printed after every merge, and unmatched.
        let expected = "x 1 1\ny 10 1\nmerge 11 1\nx 2 2\ny 20 2\nmerge 22 2\ny 30 3\n\
                        x 4 4\ny 40 4\nmerge 44 4\ny 50 5\n";
        let stderr = "y: 2 unmatched\nx: missing at 1 time, first at 3\n";
        assert_run(&output, 0, expected, stderr);
    }

    #[test]
    fn fill_counts_a_stream_without_a_value_as_the_fill_until_every_stream_has_ended() {
        let output = run_with(test_name!(), &["--fill", "0"]);
        let expected = "x 1 1\ny 10 1\nmerge 11 1\nx 2 2\ny 20 2\nmerge 22 2\n\
                        y 30 3\nmerge 30 3\nx 4 4\ny 40 4\nmerge 44 4\n\
                        y 50 5\nmerge 50 5\ny 60 6\nmerge 60 6\n";
        assert_run(&output, 0, expected, "x: missing at 3 times, first at 3\n");
    }

    #[test]
    fn carry_counts_a_stream_without_a_value_as_its_latest_until_every_stream_has_ended() {
        let output = run_with(test_name!(), &["--carry"]);
        let expected = "x 1 1\ny 10 1\nmerge 11 1\nx 2 2\ny 20 2\nmerge 22 2\n\
                        y 30 3\nmerge 32 3\nx 4 4\ny 40 4\nmerge 44 4\n\
                        y 50 5\nmerge 54 5\ny 60 6\nmerge 64 6\n";
        assert_run(&output, 0, expected, "x: missing at 3 times, first at 3\n");
    }

    #[test]
    fn strict_fails_at_the_first_time_a_stream_has_no_value_at() {
        let output = run_with(test_name!(), &["--strict", "-m"]);
        let stderr = "stream-merge: stream 'x' has no value at time 3 (--strict)\n";
        assert_run(&output, 1, "merge 11 1\nmerge 22 2\n", stderr);
    }

    #[test]
    fn carry_merges_no_round_before_every_stream_has_a_value() {
        let s = scratch(test_name!());
        let x = s.file("x.txt", "1 2\n3 4\n");
        let y = s.file("y.txt", "10 1\n20 2\n30 3\n");
        let args = with_sources(&["-t", "--carry"], &[("x", &x), ("y", &y)]);
        let output = run(&args, "");
        // At 1 x has no value yet: y's 10 is unmatched. At 3 x carries its 1; at 4, y
        // has ended and carries its 30.
        let expected = "y 10 1\nx 1 2\ny 20 2\nmerge 21 2\ny 30 3\nmerge 31 3\nx 3 4\nmerge 33 4\n";
        let stderr = "y: 1 unmatched\n\
                      x: missing at 2 times, first at 1\ny: missing at 1 time, first at 4\n";
        assert_run(&output, 0, expected, stderr);
    }

    #[test]
    fn a_value_carried_after_a_round_that_was_not_merged_is_used_not_unmatched() {
        let s = scratch(test_name!());
        let x = s.file("x.txt", "5 1\n");
        let y = s.file("y.txt", "10 2\n20 3\n");
        let args = with_sources(&["-t", "--carry"], &[("x", &x), ("y", &y)]);
        let output = run(&args, "");
        let expected = "x 5 1\ny 10 2\nmerge 15 2\ny 20 3\nmerge 25 3\n";
        let stderr = "x: missing at 2 times, first at 2\ny: missing at 1 time, first at 1\n";
        assert_run(&output, 0, expected, stderr);
    }

    #[test]
    fn strict_names_the_first_stream_on_the_command_line_with_a_later_time_or_ended() {
        let s = scratch(test_name!());
        // At 2, c has ended and a's next value is at 3: both have no value at 2.
        let c = ("c", &s.file("c.txt", "1 1\n")[..]);
        let a = ("a", &s.file("a.txt", "1 1\n3 3\n")[..]);
        let b = ("b", &s.file("b.txt", "1 1\n2 2\n")[..]);
        for (order, named) in [([c, a, b], "c"), ([a, c, b], "a"), ([b, a, c], "a")] {
            let args = with_sources(&["-t", "--strict", "-m"], &order);
            let stderr =
                format!("stream-merge: stream '{named}' has no value at time 2 (--strict)\n");
            assert_run(&run(&args, ""), 1, "merge 3 1\n", &stderr);
        }
    }

    #[test]
    fn strict_fails_when_a_stream_has_ended_before_another_time() {
        let s = scratch(test_name!());
        let x = s.file("x.txt", "1 1\n2 2\n");
        let y = s.file("y.txt", "10 1\n20 2\n30 3\n");
        let args = with_sources(&["-t", "--strict", "-m"], &[("x", &x), ("y", &y)]);
        let stderr = "stream-merge: stream 'x' has no value at time 3 (--strict)\n";
        assert_run(&run(&args, ""), 1, "merge 11 1\nmerge 22 2\n", stderr);
    }

    #[test]
    fn strict_ends_cleanly_when_every_stream_has_a_value_at_every_time() {
        let s = scratch(test_name!());
        let x = s.file("x.txt", "1 1\n2 2.0\n");
        let y = s.file("y.txt", "10 1\n20 2\n");
        let args = with_sources(&["-t", "--strict"], &[("x", &x), ("y", &y)]);
        let expected = "x 1 1\ny 10 1\nmerge 11 1\nx 2 2.0\ny 20 2\nmerge 22 2.0\n";
        assert_run(&run(&args, ""), 0, expected, "");
    }
}

mod carry_by_position {
    use super::*;

    #[test]
    fn an_ended_stream_counts_as_its_last_value_until_every_stream_has_ended() {
        let s = scratch(test_name!());
        let x = s.file("x.txt", "1\n");
        let y = s.file("y.txt", "10\n20\n");
        let z = s.file("z.txt", "100\n200\n300\n");
        let args = with_sources(&["--carry"], &[("x", &x), ("y", &y), ("z", &z)]);
        let expected = "x 1\ny 10\nz 100\nmerge 111\ny 20\nz 200\nmerge 221\nz 300\nmerge 321\n";
        assert_run(&run(&args, ""), 0, expected, "");
    }

    #[test]
    fn a_stream_that_ended_with_no_value_lets_no_round_merge() {
        let s = scratch(test_name!());
        let x = s.file("x.txt", "");
        let y = s.file("y.txt", "10\n20\n");
        let args = with_sources(&["--carry"], &[("x", &x), ("y", &y)]);
        assert_run(&run(&args, ""), 0, "y 10\ny 20\n", "y: 2 unmatched\n");
    }

    #[test]
    fn a_failed_stream_is_not_carried() {
        let s = scratch(test_name!());
        let x = s.file("x.txt", "1\nbad\n");
        let y = s.file("y.txt", "10\n20\n30\n");
        let args = with_sources(&["--carry", "-m"], &[("x", &x), ("y", &y)]);
        let stderr = format!(
            "stream-merge: {}:2: stream 'x': 'bad' {NOT_A_VALUE}\n",
            shown_path(&x)
        );
        assert_run(&run(&args, ""), 1, "merge 11\n", &stderr);
    }
}

mod usage {
    use super::*;

    #[test]
    fn carry_with_fill_or_strict_is_a_usage_error_in_either_order() {
        let with_fill = "stream-merge: --carry and --fill cannot go together (see --help)\n";
        let with_strict = "stream-merge: --carry and --strict cannot go together (see --help)\n";
        for (args, stderr) in [
            (&["--carry", "--fill", "0"][..], with_fill),
            (&["--fill", "0", "--carry"], with_fill),
            (&["-t", "--carry", "--fill=0"], with_fill),
            (&["--carry", "--strict"], with_strict),
            (&["--strict", "--carry"], with_strict),
            (
                &["--by-time", "--strict", "--carry", "-s", "x", "-s", "y"],
                with_strict,
            ),
        ] {
            let output = run(args, "x 1 1\ny 1 1\n");
            assert_eq!(output.status.code(), Some(2), "{args:?}");
            assert_eq!(String::from_utf8_lossy(&output.stderr), stderr, "{args:?}");
            assert!(output.stdout.is_empty(), "{args:?}");
        }
    }
}

mod lines {
    use super::*;

    /// Asserts that by time, x's own source of `line` (in `s`) beside y's at `y` fails at
    /// x's line 1 for `problem`, with nothing merged.
    fn assert_own_first_line_fails(s: &Dir, (line, y): (&str, &str), problem: &str) {
        let x = s.file("x.txt", line);
        let args = with_sources(&["-t", "-m"], &[("x", &x), ("y", y)]);
        let stderr = format!(
            "stream-merge: {}:1: stream 'x': {problem}\n",
            shown_path(&x)
        );
        assert_run(&run(&args, ""), 1, "", &stderr);
    }

    #[test]
    fn blanks_tabs_merge_and_comment_lines_and_crlf_are_as_without_times() {
        let expected = "x 1 1\ny 10 1\nmerge 11 1\nx 2 2\ny 20 2\nmerge 22 2\n";
        let input =
            "# readings\n\nx 1\t1\r\n  y\t10  1  \nmerge 11 1\n   # more\nx 2 2\ny 20 2\r\n\n";
        let output = run(&["-t", "-s", "x", "-s", "y"], input);
        assert_run(&output, 0, expected, "");
        let s = scratch(test_name!());
        let shared = s.file("shared.txt", input);
        let output = run(&["-t", "-s", "x", "-s", "y", "-i", &shared], "");
        assert_run(&output, 0, expected, "");
        let x = s.file("x.txt", "# x, Celsius\n1 1\r\n\n\tx 2\t2\nmerge 22 2\n");
        let y = s.file("y.txt", "10 1\n  y 20 2 \r\n");
        let output = run(&with_sources(&["-t"], &[("x", &x), ("y", &y)]), "");
        assert_run(&output, 0, expected, "");
    }

    #[test]
    fn values_and_times_print_in_canonical_form() {
        let input = "x 1 -.5\ny 2 -0.50\nx 1 1e-05\ny 2 .00001\n\
                     x 007.50 007.50\ny +2 7.5\nx 1 2.5E3\ny 2 +2500\n";
        let output = run(&["-t", "-s", "x", "-s", "y"], input);
        let expected = "x 1 -0.5\ny 2 -0.50\nmerge 3 -0.50\n\
                        x 1 0.00001\ny 2 0.00001\nmerge 3 0.00001\n\
                        x 7.50 7.50\ny 2 7.5\nmerge 9.50 7.50\n\
                        x 1 2500\ny 2 2500\nmerge 3 2500\n";
        assert_run(&output, 0, expected, "");
    }

    #[test]
    fn without_by_time_a_line_with_a_time_is_a_bad_line_that_suggests_it() {
        let hint = "unexpected '17' after the value: lines with a time need --by-time";
        let output = run(&["-s", "x", "-s", "y"], "x 3 17\n");
        assert_run(
            &output,
            1,
            "",
            &format!("stream-merge: <stdin>:1: stream 'x': {hint}\n"),
        );
        let output = run(&["-s", "x", "-s", "y", "-m"], "x 1\ny 2\nx 3\t17\r\n");
        let stderr = format!("stream-merge: <stdin>:3: stream 'x': {hint}\n");
        assert_run(&output, 1, "merge 3\n", &stderr);
        let s = scratch(test_name!());
        let x = s.file("x.txt", "3 17\n");
        let y = s.file("y.txt", "1\n");
        let output = run(&with_sources(&["-m"], &[("x", &x), ("y", &y)]), "");
        assert_run(
            &output,
            1,
            "",
            &format!("stream-merge: {}:1: stream 'x': {hint}\n", shown_path(&x)),
        );
    }

    #[test]
    fn a_line_with_more_than_a_value_and_a_time_does_not_suggest_by_time() {
        let output = run(&["-s", "x", "-s", "y"], "x 3 17 5\n");
        let stderr = "stream-merge: <stdin>:1: stream 'x': unexpected '17' after the value\n";
        assert_run(&output, 1, "", stderr);
    }

    #[test]
    fn with_by_time_a_line_without_a_time_is_a_bad_line_that_says_what_is_expected() {
        let s = scratch(test_name!());
        let y = s.file("y.txt", "1 1\n");
        for (shared, own, expected) in [
            (
                "x 3\n",
                &["3\n", "x 3\n", "x 3\r\n"][..],
                "a time is expected after the value",
            ),
            // Its name alone: a value and a time.
            (
                "x\n",
                &["x\n"],
                "a value and a time are expected after the name",
            ),
        ] {
            let output = run(&["-t", "-s", "x", "-s", "y"], shared);
            let stderr = format!("stream-merge: <stdin>:1: stream 'x': {expected}\n");
            assert_run(&output, 1, "", &stderr);
            for line in own {
                assert_own_first_line_fails(&s, (line, &y), expected);
            }
        }
    }

    #[test]
    fn a_long_value_that_starts_as_the_next_time_would_is_not_read_as_that_time() {
        // x's second value, 15 digits, starts with 2, the time one more than 1; its own
        // time is 7. Lines after it give the block room to be taken a block at a time.
        let after: String = (8..40).map(|t| format!("{t} {t}\n")).collect();
        let x = format!("5 1\n200000000000000 7\n{after}");
        let y = format!("5 1\n6 7\n{after}");
        let merges: String = (8..40).map(|t| format!("merge {} {t}\n", 2 * t)).collect();
        let expected = format!("merge 10 1\nmerge 200000000000006 7\n{merges}");
        let s = scratch(test_name!());
        let (xs, ys) = (s.file("x.txt", &x), s.file("y.txt", &y));
        let output = run(&with_sources(&["-t", "-m"], &[("x", &xs), ("y", &ys)]), "");
        assert_run(&output, 0, &expected, "");
        let shared: String = x
            .lines()
            .zip(y.lines())
            .map(|(a, b)| format!("x {a}\ny {b}\n"))
            .collect();
        let output = run(&["-t", "-m", "-s", "x", "-s", "y"], &shared);
        assert_run(&output, 0, &expected, "");
    }

    #[test]
    fn a_bad_time_or_value_is_named_with_what_it_should_be() {
        let output = run(&["-t", "-s", "x", "-s", "y"], "x 3 abc\n");
        let stderr = format!("stream-merge: <stdin>:1: stream 'x': 'abc' {NOT_A_TIME}\n");
        assert_run(&output, 1, "", &stderr);
        let output = run(
            &["-t", "-s", "x", "-s", "y", "-m"],
            "x 1 1\ny 1 1\ny 2 1,5\n",
        );
        let stderr = format!("stream-merge: <stdin>:3: stream 'y': '1,5' {NOT_A_TIME}\n");
        assert_run(&output, 1, "merge 2 1\n", &stderr);
        let output = run(&["-t", "-s", "x", "-s", "y"], "x abc 17\n");
        let stderr = format!("stream-merge: <stdin>:1: stream 'x': 'abc' {NOT_A_VALUE}\n");
        assert_run(&output, 1, "", &stderr);
        let s = scratch(test_name!());
        let y = s.file("y.txt", "1 1\n");
        for line in ["3 abc\n", "x 3 abc\n"] {
            assert_own_first_line_fails(&s, (line, &y), &format!("'abc' {NOT_A_TIME}"));
        }
        // Past the limits: the message says what they are, as for a value.
        for time in ["9223372036854775808", "1e19", "0.0000000000000000001"] {
            let output = run(&["-t", "-s", "x", "-s", "y"], &format!("x 3 {time}\n"));
            let stderr = format!(
                "stream-merge: <stdin>:1: stream 'x': '{time}' is out of range for a time: a \
                 time is m·10^-s with m a 64-bit integer and at most 18 digits after the point\n"
            );
            assert_run(&output, 1, "", &stderr);
        }
    }
}

mod scales {
    use super::*;

    #[test]
    fn a_merges_time_prints_at_the_largest_scale_of_the_times_it_sums() {
        let input = "x 2 1.5\ny 3 1.50\nx 1 2\ny 1 2.0\nx 1.5 3.000\ny 2 3\n";
        let output = run(&["-t", "-s", "x", "-s", "y"], input);
        let expected = "x 2 1.5\ny 3 1.50\nmerge 5 1.50\nx 1 2\ny 1 2.0\nmerge 2 2.0\n\
                        x 1.5 3.000\ny 2 3\nmerge 3.5 3.000\n";
        assert_run(&output, 0, expected, "");
    }

    #[test]
    fn merges_at_the_latest_times_there_are_print_them() {
        let last = "922337203685477580";
        let input = format!("x 1 {last}.6\ny 1 {last}.6\nx 2 {last}.7\ny 2 {last}.7\n");
        let output = run(&["-t", "-m", "-s", "x", "-s", "y"], &input);
        let expected = format!("merge 2 {last}.6\nmerge 4 {last}.7\n");
        assert_run(&output, 0, &expected, "");
        let input = "x 1 9223372036854775807\ny 1 9223372036854775807\n";
        let output = run(&["-t", "-m", "-s", "x", "-s", "y"], input);
        assert_run(&output, 0, "merge 2 9223372036854775807\n", "");
    }

    #[test]
    fn messages_name_a_time_at_the_largest_scale_of_its_values_whatever_their_order() {
        // y's and d's first values are at the same time, at two scales; e has none there.
        let input = "y 1 1.0\nd 1 1.00\ne 1 2\ny 1 3\nd 1 3\ne 1 3\n";
        for order in [["y", "d", "e"], ["d", "y", "e"], ["e", "y", "d"]] {
            let streams = order.map(|name| format!("--stream={name}"));
            let args = |policy: &'static [&'static str]| {
                let streams = streams.iter().map(String::as_str);
                [&["-t", "-m"], policy]
                    .concat()
                    .into_iter()
                    .chain(streams)
                    .collect::<Vec<_>>()
            };
            let output = run(&args(&["--strict"]), input);
            let stderr = "stream-merge: stream 'e' has no value at time 1.00 (--strict)\n";
            assert_run(&output, 1, "", stderr);
            let output = run(&args(&[]), input);
            let unmatched = order.map(|name| format!("{name}: 1 unmatched\n"));
            let missing = order.map(|name| {
                let first = if name == "e" { "1.00" } else { "2" };
                format!("{name}: missing at 1 time, first at {first}\n")
            });
            let stderr = [unmatched, missing].concat().concat();
            assert_run(&output, 0, "merge 3 3\n", &stderr);
        }
        // A sum past i128 at a time that the first stream gives at the smaller scale.
        let big = i64::MAX;
        let mut input = "z 1 1\nz 0.000000000000000001 2.5\n".to_string();
        let mut args = vec!["-t", "-m", "-s", "z"];
        let names: Vec<String> = (1..20).map(|k| format!("s{k}")).collect();
        for name in &names {
            input += &format!("{name} {big} 1\n{name} {big} 2.50\n");
            args.extend(["-s", name]);
        }
        let output = run(&args, &input);
        let stderr = "stream-merge: merge at time 2.50: the exact sum is outside the 128-bit \
                      range of sums\n";
        assert_run(&output, 1, "merge 175244068700240740334 1\n", stderr);
    }

    #[test]
    fn a_filled_value_has_no_time_but_its_scale_counts_when_it_is_used() {
        let input = "x 1 1\ny 1 1\ny 5 2\nx 2 3.5\ny 1 3.5\n";
        let output = run(&["-t", "--fill", "0.00", "-s", "x", "-s", "y"], input);
        let expected =
            "x 1 1\ny 1 1\nmerge 2 1\ny 5 2\nmerge 5.00 2\nx 2 3.5\ny 1 3.5\nmerge 3 3.5\n";
        assert_run(&output, 0, expected, "x: missing at 1 time, first at 2\n");
    }

    #[test]
    fn a_carried_values_time_does_not_count_but_its_scale_does() {
        let input = "x 1.5 1.000\ny 1 1\ny 2 2\n";
        let output = run(&["-t", "--carry", "-s", "x", "-s", "y"], input);
        let expected = "x 1.5 1.000\ny 1 1\nmerge 2.5 1.000\ny 2 2\nmerge 3.5 2\n";
        assert_run(&output, 0, expected, "x: missing at 1 time, first at 2\n");
    }
}

mod generated {
    use super::*;

    /// The lines of a run by position, with its n-th round's time n after each.
    fn with_times(lines: &str, names: &[&str]) -> String {
        by_round(lines, names, |n| format!(" {n}"))
    }

    #[test]
    fn a_generated_streams_nth_value_has_time_n() {
        let by_position = run(&["--seed", "3", "-n", "5"], "");
        assert_eq!(by_position.status.code(), Some(0));
        let lines = String::from_utf8(by_position.stdout).unwrap();
        assert_eq!(lines.lines().count(), 15, "{lines}");
        let output = run(&["--by-time", "--seed", "3", "-n", "5"], "");
        assert_run(&output, 0, &with_times(&lines, &["x", "y"]), "");
        let args = [
            "-t",
            "--seed",
            "3",
            "-n",
            "4",
            "-s",
            "a=0..1000",
            "-s",
            "b=1.5..2.5",
        ];
        let by_position = run(&args[1..], "");
        let lines = String::from_utf8(by_position.stdout).unwrap();
        assert_run(&run(&args, ""), 0, &with_times(&lines, &["a", "b"]), "");
    }

    #[test]
    fn generated_streams_count_their_times_from_1_beside_streams_read_with_times() {
        let by_position = run(&["--seed", "3", "-n", "3", "-s", "g=0..10", "-m"], "");
        let lines = String::from_utf8(by_position.stdout).unwrap();
        let g: Vec<i64> = lines
            .lines()
            .map(|l| l.strip_prefix("merge ").unwrap().parse().unwrap())
            .collect();
        assert_eq!(g.len(), 3, "{lines}");
        let args = ["-t", "--seed", "3", "-n", "3", "-s", "g=0..10", "-s", "y"];
        let output = run(&args, "y 5 2\n");
        // g's value at 1 has no partner; after y's end, g's value at 3 ends the run.
        let expected = format!(
            "g {} 1\ng {} 2\ny 5 2\nmerge {} 2\ng {} 3\n",
            g[0],
            g[1],
            g[1] + 5,
            g[2]
        );
        let stderr = "g: 2 unmatched\ny: missing at 1 time, first at 1\n";
        assert_run(&output, 0, &expected, stderr);
    }
}

mod output {
    use super::*;

    #[test]
    fn the_output_feeds_back_in_with_by_time() {
        let first = run(&["-t", "--seed", "5", "-n", "100"], "");
        assert_eq!(first.status.code(), Some(0));
        assert!(first.stderr.is_empty(), "{first:?}");
        let lines = String::from_utf8(first.stdout).unwrap();
        let x: Vec<&str> = lines.lines().filter(|l| name_of(l) == "x").collect();
        assert_eq!(x.len(), 100);
        for (n, line) in x.iter().enumerate() {
            assert!(line.ends_with(&format!(" {}", n + 1)), "{line}");
        }
        let again = run(&["-t", "-s", "x", "-s", "y"], &lines);
        assert_run(
            &again,
            0,
            &by_round(&lines, &["x", "y"], |_| String::new()),
            "",
        );
    }

    #[test]
    fn the_same_input_gives_the_same_outcome_in_twenty_runs() {
        let s = scratch(test_name!());
        let a = s.file("a.txt", "1 1\n2 2\n3 3\n4 4\n");
        let many: String = (1..=200_000).map(|k| format!("{k} {k}\n")).collect();
        let b = s.file("b.txt", &many);
        let args = with_sources(&["-t"], &[("a", &a), ("b", &b)]);
        let expected = "a 1 1\nb 1 1\nmerge 2 1\na 2 2\nb 2 2\nmerge 4 2\n\
                        a 3 3\nb 3 3\nmerge 6 3\na 4 4\nb 4 4\nmerge 8 4\nb 5 5\n";
        for _ in 0..20 {
            assert_run(&run(&args, ""), 0, expected, "b: 1 unmatched\n");
        }
        let mut merges_only = args.clone();
        merges_only.push("-m".into());
        let merges = "merge 2 1\nmerge 4 2\nmerge 6 3\nmerge 8 4\n";
        for _ in 0..20 {
            assert_run(&run(&merges_only, ""), 0, merges, "b: 1 unmatched\n");
        }
    }
}

mod pipes {
    use super::*;

    /// Reads a complete round: its values' lines in any order, then its merge.
    fn assert_round(running: &Running, values: &[&str], merge: &str) {
        let mut got: Vec<String> = values.iter().map(|_| running.next_line()).collect();
        got.sort();
        let mut want: Vec<&str> = values.to_vec();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(running.next_line(), merge);
    }

    #[test]
    fn each_merge_appears_as_soon_as_its_round_is_decided_and_not_before() {
        let s = scratch(test_name!());
        let (a, b) = (s.fifo("a"), s.fifo("b"));
        let args = with_sources(&["-t"], &[("a", &a), ("b", &b)]);
        let mut running = spawn(&args, &[&a, &b]);
        let (mut to_a, mut to_b) = (writer(&a), writer(&b));
        running.watch();
        send(&mut to_a, "1 1\n");
        running.nothing_yet();
        send(&mut to_b, "2 1\n");
        assert_round(&running, &["a 1 1", "b 2 1"], "merge 3 1");
        // Round 2 is decided once b's next value, at 3, is known: b has none at 2.
        send(&mut to_a, "3 2\n");
        running.nothing_yet();
        send(&mut to_b, "4 3\n");
        assert_eq!(running.next_line(), "a 3 2");
        running.nothing_yet();
        send(&mut to_a, "5 3\n");
        assert_round(&running, &["b 4 3", "a 5 3"], "merge 9 3");
        for k in 4..=12 {
            send(&mut to_a, &format!("{k} {k}\n"));
            running.nothing_yet();
            send(&mut to_b, &format!("{} {k}\n", 10 * k));
            let (x, y) = (format!("a {k} {k}"), format!("b {} {k}", 10 * k));
            assert_round(&running, &[&x, &y], &format!("merge {} {k}", 11 * k));
        }
        drop(to_a);
        running.nothing_yet();
        drop(to_b);
        let output = running.finish();
        let stderr = "a: 1 unmatched\nb: missing at 1 time, first at 2\n";
        assert_run(&output, 0, "", stderr);
    }

    /// The peak resident memory of a running process, in KiB.
    fn peak(pid: u32) -> u64 {
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Where the run is in the file at `path`, once it has stopped reading it: the offset
    /// of its descriptor, unchanged over 20 looks 10 ms apart. No handshake tells that a
    /// reader has stopped, so this looks.
    fn settled_offset(running: &mut Running, path: &str) -> u64 {
        let pid = running.pid();
        let path = fs::canonicalize(path).unwrap();
        let offset = || -> Option<u64> {
            for entry in fs::read_dir(format!("/proc/{pid}/fd")).ok()? {
                let Ok(entry) = entry else { continue };
                if fs::read_link(entry.path()).is_ok_and(|target| target == path) {
                    let fd = entry.file_name().into_string().ok()?;
                    let info = fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).ok()?;
                    let pos = info.lines().find_map(|l| l.strip_prefix("pos:"))?;
                    return pos.trim().parse().ok();
                }
            }
            None
        };
        let (mut last, mut same) = (None, 0);
        for _ in 0..2000 {
            if let Some(status) = running.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the run ended ({status}) before it waited");
            }
            let now = offset();
            match now {
                Some(pos) if now == last => {
                    same += 1;
                    if same == 20 {
                        return pos;
                    }
                }
                _ => same = 0,
            }
            last = now;
            thread::sleep(Duration::from_millis(10));
        }
        panic!("process {pid} never settled in {}", path.display());
    }

    #[test]
    fn a_stream_far_ahead_in_time_waits_at_the_window_in_bounded_memory() {
        let s = scratch(test_name!());
        let a = s.fifo("a");
        let many: String = (1..=1_000_000).map(|k| format!("{k} {k}\n")).collect();
        let b = s.file("b.txt", &many);
        let args = with_sources(&["-t"], &[("a", &a), ("b", &b)]);
        let mut running = spawn(&args, &[&a]);
        let mut to_a = writer(&a);
        // a's first item is not known yet: b's reader may only read its window ahead.
        let offset = settled_offset(&mut running, &b);
        let kib = peak(running.pid());
        // At most the default window's 16384 lines, and one read of 64 KiB past them.
        let window: usize = many.split_inclusive('\n').take(16384).map(str::len).sum();
        assert!(
            offset <= (window + 64 * 1024) as u64,
            "b read up to {offset}"
        );
        assert!(kib < 16 * 1024, "peak {kib} KiB");
        send(&mut to_a, "1 1\n");
        drop(to_a);
        let output = running.finish();
        // a has ended after 1: b's value at 2 is the round at which the run ends.
        let expected = "a 1 1\nb 1 1\nmerge 2 1\nb 2 2\n";
        assert_run(&output, 0, expected, "b: 1 unmatched\n");
    }
}

mod stats {
    use super::*;

    /// a has no value at 3, b none at 2; both end after 4.
    fn run_with(test: &str, policy: &[&str]) -> Output {
        let s = scratch(test);
        let a = s.file("a.txt", "1 1\n2 2\n4 4\n");
        let b = s.file("b.txt", "1 1\n3 3\n4 4\n");
        let options = [&["-t", "-m", "--stats"], policy].concat();
        run(&with_sources(&options, &[("a", &a), ("b", &b)]), "")
    }

    const MISSING: [&str; 2] = [
        "a: missing at 1 time, first at 3",
        "b: missing at 1 time, first at 2",
    ];

    #[test]
    fn stats_count_the_rounds_merged_and_dropped() {
        let output = run_with(test_name!(), &[]);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "merge 2 1\nmerge 8 4\n"
        );
        let mut first = vec!["a: 1 unmatched", "b: 1 unmatched"];
        first.extend(MISSING);
        first.extend([
            "rounds merged: 2",
            "rounds dropped: 2",
            "rounds filled: 0",
            "rounds carried: 0",
            "values: a 3, b 3",
        ]);
        assert_stats(&output.stderr, &first, &[]);
    }

    #[test]
    fn stats_count_the_rounds_filled() {
        let output = run_with(test_name!(), &["--fill", "0"]);
        assert_eq!(output.status.code(), Some(0));
        let merges = "merge 2 1\nmerge 2 2\nmerge 3 3\nmerge 8 4\n";
        assert_eq!(String::from_utf8_lossy(&output.stdout), merges);
        let mut first = MISSING.to_vec();
        first.extend([
            "rounds merged: 4",
            "rounds dropped: 0",
            "rounds filled: 2",
            "rounds carried: 0",
            "values: a 3, b 3",
        ]);
        assert_stats(&output.stderr, &first, &[]);
    }

    #[test]
    fn stats_count_the_rounds_carried() {
        let output = run_with(test_name!(), &["--carry"]);
        assert_eq!(output.status.code(), Some(0));
        let merges = "merge 2 1\nmerge 3 2\nmerge 5 3\nmerge 8 4\n";
        assert_eq!(String::from_utf8_lossy(&output.stdout), merges);
        let mut first = MISSING.to_vec();
        first.extend([
            "rounds merged: 4",
            "rounds dropped: 0",
            "rounds filled: 0",
            "rounds carried: 2",
            "values: a 3, b 3",
        ]);
        assert_stats(&output.stderr, &first, &[]);
    }

    #[test]
    fn stats_follow_a_failed_run_too() {
        let args = ["-t", "-s", "a", "-s", "b", "-m", "--stats"];
        let output = run(&args, "a 1 1\nb 2 1\nb x 2\n");
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(String::from_utf8_lossy(&output.stdout), "merge 3 1\n");
        let first = [
            "rounds merged: 1",
            "rounds dropped: 0",
            "rounds filled: 0",
            "rounds carried: 0",
            "values: a 1, b 1",
        ];
        let failure = format!("stream-merge: <stdin>:3: stream 'b': 'x' {NOT_A_VALUE}");
        assert_stats(&output.stderr, &first, &[&failure]);
    }
}

mod overflow {
    use super::*;

    #[test]
    fn an_overflow_names_its_round_by_its_time_after_the_merges_before_it() {
        // z is at scale 18, so each of the 19 other terms at 17 is about 9.2e36: together
        // past i128's 1.7e38.
        let mut args = vec!["-t".to_string(), "-m".to_string()];
        let mut input = String::new();
        for k in 0..19 {
            args.extend(["-s".to_string(), format!("s{k}")]);
            input += &format!("s{k} 1 1\ns{k} 9223372036854775807 17\n");
        }
        args.extend(["-s".to_string(), "z".to_string()]);
        input += "z 0.000000000000000001 1\nz 0.000000000000000001 17\n";
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args, &input);
        let stderr =
            "stream-merge: merge at time 17: the exact sum is outside the 128-bit range of sums\n";
        assert_run(&output, 1, "merge 19.000000000000000001 1\n", stderr);
    }
}
