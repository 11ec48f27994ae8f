//! The fast paths against the slow one. Lines as the output prints them are taken a block
//! at a time; any other line is taken one at a time. The same readings, written so that
//! every line, some lines or no line is as printed, must give the same output, stream by
//! stream, on the shared input and on sources of their own, by position and by time.

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};

mod common;

use common::Dir;

const BIN: &str = env!("CARGO_BIN_EXE_stream-merge");

/// `mantissa`·10^-`scale` as the output prints it.
fn canonical(mantissa: i64, scale: u32) -> String {
    let sign = if mantissa < 0 { "-" } else { "" };
    let (magnitude, unit) = (mantissa.unsigned_abs(), 10u64.pow(scale));
    match scale {
        0 => format!("{sign}{magnitude}"),
        _ => format!(
            "{sign}{}.{:0width$}",
            magnitude / unit,
            magnitude % unit,
            width = scale as usize
        ),
    }
}

/// The same text as a value, written otherwise, in one of three ways by `k`: with a `+`
/// (or, if negative, an exponent), or as it is: the caller then changes the separator.
fn otherwise(text: &str, k: usize) -> String {
    match (k % 3, text.starts_with('-')) {
        (0, false) => format!("+{text}"),
        (0, true) | (1, _) => format!("{text}e0"),
        _ => text.to_string(),
    }
}

/// Stream `name`'s k-th reading: x's values at scale 2, y's at scale 1 and now and then 3,
/// some negative and some zero; times at scale 0, then at scale 1, always increasing.
fn reading(name: &str, k: usize, n: usize) -> (String, String) {
    let m = (k as i64 * 37) % 2001 - 1000;
    let value = match name {
        "x" => canonical(m, 2),
        _ if k % 97 == 0 => canonical(m, 3),
        _ => canonical(m, 1),
    };
    let time = if k < n / 2 {
        canonical(k as i64 + 1, 0)
    } else {
        canonical(10 * k as i64 + 5, 1)
    };
    (value, time)
}

/// A line of `name`'s k-th reading, with its name if `named` and its time if `timed`: as
/// printed, unless `slow`, when its value and time are written otherwise, or it has a tab,
/// or a CR at its end.
fn line(name: &str, k: usize, n: usize, (named, timed, slow): (bool, bool, bool)) -> String {
    let (mut value, mut time) = reading(name, k, n);
    let mut separator = " ";
    let mut end = "\n";
    if slow {
        (value, time) = (otherwise(&value, k), otherwise(&time, k + 1));
        match k % 4 {
            0 => separator = "\t",
            1 => end = "\r\n",
            _ => {}
        }
    }
    let head = if named {
        format!("{name}{separator}")
    } else {
        String::new()
    };
    let tail = if timed {
        format!("{separator}{time}")
    } else {
        String::new()
    };
    format!("{head}{value}{tail}{end}")
}

/// Whether line `i` of a run is written otherwise, for `every`: each `every`-th, or none
/// for 0.
fn slow(i: usize, every: usize) -> bool {
    every > 0 && i % every == 0
}

/// The lines of `output`, by their first field: each stream's own, and the merges.
fn by_stream(output: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut streams = BTreeMap::<String, Vec<String>>::new();
    for line in String::from_utf8(output.to_vec()).unwrap().lines() {
        let name = line.split(' ').next().unwrap().to_string();
        streams.entry(name).or_default().push(line.to_string());
    }
    streams
}

/// Runs the binary with `args`, `stdin` on its stdin, to its end.
fn output(args: &[String], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let stdin = stdin.to_string();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut pipe, stdin.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    output
}

/// What a run that succeeds printed: its stdout stream by stream, and its stderr.
type Outcome = (BTreeMap<String, Vec<String>>, String);

/// Runs the binary as `output` does, and checks that it succeeded.
fn run(args: &[String], stdin: &str) -> Outcome {
    let output = output(args, stdin);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{args:?}: {stderr}");
    (by_stream(&output.stdout), stderr)
}

/// `-s x -s y`, by time if `timed`: x and y on the shared input.
fn shared_x_y(timed: bool) -> Vec<String> {
    let mut args = ["-s", "x", "-s", "y"].map(String::from).to_vec();
    if timed {
        args.push("--by-time".into());
    }
    args
}

/// Checks that every run of `outcomes`, each with its `every`, printed what the first did,
/// which merged all `N` rounds.
fn assert_the_same(outcomes: &[(usize, Outcome)], timed: bool) {
    let (_, first) = &outcomes[0];
    assert_eq!(first.0["merge"].len(), N, "timed: {timed}");
    for (every, outcome) in &outcomes[1..] {
        assert_eq!(outcome, first, "timed: {timed}, every {every}");
    }
}

/// How many readings each stream has: enough for many blocks, runs and batches.
const N: usize = 6000;

/// Each `every`: as printed (0), all written otherwise (1), and runs broken halfway.
const EVERY: [usize; 5] = [0, 1, 2, 7, 1000];

#[test]
fn the_shared_input_gives_the_same_output_whichever_lines_are_as_printed() {
    for timed in [false, true] {
        let mut outcomes = Vec::new();
        for every in EVERY {
            // Runs of 50 lines of one stream, then the other, with merge lines among them.
            let mut input = String::new();
            for start in (0..N).step_by(50) {
                for name in ["x", "y"] {
                    for k in start..start + 50 {
                        input += &line(name, k, N, (true, timed, slow(k, every)));
                    }
                }
                input += "merge 1 2\n";
            }
            outcomes.push((every, run(&shared_x_y(timed), &input)));
        }
        assert_the_same(&outcomes, timed);
    }
}

#[test]
fn lines_of_two_streams_in_turn_give_the_same_output_whichever_lines_are_as_printed() {
    for timed in [false, true] {
        let mut outcomes = Vec::new();
        for every in EVERY {
            // Mostly one line of a stream, then one of the other; now and then a run of
            // two or three, and a merge line.
            let (mut input, mut k) = (String::new(), 0);
            for turn in 0.. {
                let length = [1, 1, 2, 1, 1, 1, 3][turn % 7].min(N - k);
                if length == 0 {
                    break;
                }
                for name in ["x", "y"] {
                    for i in k..k + length {
                        input += &line(name, i, N, (true, timed, slow(i, every)));
                    }
                }
                if turn % 11 == 0 {
                    input += "merge\n";
                }
                k += length;
            }
            outcomes.push((every, run(&shared_x_y(timed), &input)));
        }
        assert_the_same(&outcomes, timed);
    }
}

#[test]
fn sources_of_their_own_give_the_same_output_whichever_lines_are_as_printed() {
    let dir = Dir::new("fast/sources_of_their_own");
    for timed in [false, true] {
        let mut outcomes = Vec::new();
        for every in EVERY {
            let mut args = Vec::new();
            for (name, named) in [("x", false), ("y", true)] {
                let text: String = (0..N)
                    .map(|k| line(name, k, N, (named, timed, slow(k, every))))
                    .collect();
                let file = format!("{name}-{timed}-{every}");
                args.extend(["-f".to_string(), dir.source(name, &file, text)]);
            }
            if timed {
                args.push("--by-time".into());
            }
            outcomes.push((every, run(&args, "")));
        }
        assert_the_same(&outcomes, timed);
    }
}

#[test]
fn values_as_printed_at_many_scales_sum_as_the_slow_way_sums_them() {
    // Both streams at scales 0 to 18, with the largest mantissas the fast path takes.
    let mut canonical_input = String::new();
    let mut other_input = String::new();
    for scale in 0..=18u32 {
        for (name, mantissa) in [("x", 999_999_999_999_999_999), ("y", -1)] {
            let text = canonical(mantissa, scale);
            canonical_input += &format!("{name} {text}\n");
            other_input += &format!("{name}\t{}\n", otherwise(&text, scale as usize));
        }
    }
    let args = ["-s".to_string(), "x".into(), "-s".into(), "y".into()];
    let (fast, _) = run(&args, &canonical_input);
    let (slow, _) = run(&args, &other_input);
    assert_eq!(fast, slow);
    assert_eq!(fast["merge"][0], "merge 999999999999999998");
    assert_eq!(fast["merge"][18], "merge 0.999999999999999998");
}

#[test]
fn lines_of_many_streams_in_turn_in_any_order_give_the_merges_of_the_same_lines_in_runs() {
    // Short names and long ones (past the 8 bytes looked at in one go).
    let names: Vec<String> = (0..300)
        .map(|k| match k % 3 {
            0 => format!("sensor-{k}"),
            _ => format!("s{k}"),
        })
        .collect();
    let mut args: Vec<String> = vec!["-m".into()];
    for name in &names {
        args.extend(["-s".to_string(), name.clone()]);
    }
    let value = |name: usize, round: usize| canonical((name * 7 + round) as i64 % 19 - 9, 1);
    let (mut in_turn, mut in_runs) = (String::new(), String::new());
    // In turn, in one order, now and then in another.
    for round in 0..200 {
        let mut order: Vec<usize> = (0..names.len()).collect();
        match round % 5 {
            3 => order.reverse(),
            4 => order.rotate_left(round),
            _ => {}
        }
        for k in order {
            in_turn += &format!("{} {}\n", names[k], value(k, round));
        }
    }
    for start in (0..200).step_by(50) {
        for (k, name) in names.iter().enumerate() {
            for round in start..start + 50 {
                in_runs += &format!("{name} {}\n", value(k, round));
            }
        }
    }
    let (turn, _) = run(&args, &in_turn);
    let (runs, _) = run(&args, &in_runs);
    assert_eq!(turn["merge"].len(), 200);
    assert_eq!(turn, runs);
}

#[test]
fn values_of_19_digits_leave_the_fast_path_and_sum_exactly() {
    let args = ["-s".to_string(), "x".into(), "-s".into(), "y".into()];
    let input =
        "x 9223372036854775807\ny -1\nx -9223372036854775808\ny 1\nx 12345678901234567890\n";
    let output = output(&args, input);
    let merges = by_stream(&output.stdout)
        .remove("merge")
        .unwrap_or_default();
    assert_eq!(
        merges,
        ["merge 9223372036854775806", "merge -9223372036854775807"]
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        "stream-merge: <stdin>:5: stream 'x': '12345678901234567890' is out of range: a value is \
         m·10^-s with m a 64-bit integer and at most 18 digits after the point\n"
    );
    assert_eq!(output.status.code(), Some(1));
}
