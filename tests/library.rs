//! Drives the merge through the library API, with sources the command line cannot make.

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use stream_merge::{
    Counts, Decimal, Ending, Error, Input, Settings, Source, Stream, Summary, Tally, Values,
    WINDOW, merge,
};

/// A generated stream of integers.
fn stream(name: &str, values: impl Iterator<Item = i64> + Send + 'static) -> Stream {
    let integer = |mantissa| Decimal::new(mantissa, 0).unwrap();
    let source = Source::Values(Values::new(values.map(integer)));
    Stream {
        name: name.to_string(),
        source,
    }
}

const MERGES_ONLY: Settings = Settings {
    window: WINDOW,
    merges_only: true,
    ending: Ending::Shortest,
    by_time: false,
};

#[test]
fn a_panicking_source_is_reported_by_name_after_every_merge_it_allowed() {
    let failing = (0..).map(|i| if i < 300 { i } else { panic!("sensor lost") });
    let endless = std::iter::repeat(100);
    let mut out = Vec::new();
    let streams = vec![stream("x", failing), stream("y", endless)];
    let (summary, result) = merge(streams, Input::Stdin, MERGES_ONLY, &mut out);
    assert!(
        matches!(result, Err(Error::Panicked(ref name)) if name == "x"),
        "{result:?}"
    );
    // As the binary's message says it, after `stream-merge: `.
    assert_eq!(result.unwrap_err().to_string(), "stream 'x' failed");
    assert_eq!(summary.rounds.merged, 300);
    let merges: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let expected: Vec<String> = (0..300).map(|k| format!("merge {}", k + 100)).collect();
    assert_eq!(merges, expected);
}

#[test]
fn streams_of_different_lengths_merge_as_far_as_the_shortest() {
    let mut out = Vec::new();
    let (summary, result) = merge(
        vec![stream("a", 0..5), stream("b", 10..13)],
        Input::Stdin,
        MERGES_ONLY,
        &mut out,
    );
    assert!(result.is_ok(), "{result:?}");
    let tally = |name: &str, delivered, unmatched| Tally {
        name: name.to_string(),
        delivered,
        unmatched,
        missing: (0, None),
    };
    // a's fourth value is in the round that ended the run: decided, and unmatched.
    let streams = vec![tally("a", 4, 1), tally("b", 3, 0)];
    let rounds = Counts {
        merged: 3,
        ..Counts::default()
    };
    assert_eq!(summary, Summary { rounds, streams });
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "merge 10\nmerge 12\nmerge 14\n"
    );
}

/// A writer that hands every write to the test as it happens.
struct Tap(mpsc::Sender<Vec<u8>>);

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.0.send(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_held_back_stream_keeps_the_other_within_the_window_and_each_merge_shows_at_once() {
    let (x, x_values) = mpsc::channel::<i64>();
    let pulled = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&pulled);
    let y = (0..50).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let (tap, written) = mpsc::channel();
    let settings = Settings {
        window: 1,
        ..MERGES_ONLY
    };
    thread::scope(|scope| {
        let x_tx = x; // owned here, so that a failed assertion ends x and the root with it
        let streams = vec![stream("x", x_values.into_iter()), stream("y", y)];
        let root = scope.spawn(move || merge(streams, Input::Stdin, settings, Tap(tap)));
        // A negative check needs a wait: y has 100 ms to run ahead of x, were it able to.
        thread::sleep(Duration::from_millis(100));
        assert!(pulled.load(Ordering::SeqCst) <= 1, "y ran ahead of x");
        let mut output = Vec::new();
        for k in 0..50 {
            x_tx.send(1000).unwrap();
            // The root now waits for x, but merge k must already be out.
            let expected = format!("merge {}\n", 1000 + k);
            while !String::from_utf8_lossy(&output).ends_with(&expected) {
                let bytes = written
                    .recv_timeout(Duration::from_secs(20))
                    .expect("merge printed");
                output.extend(bytes);
            }
            // Merged k + 1 rounds: y may have produced one more, no further.
            assert!(pulled.load(Ordering::SeqCst) <= k as u64 + 2, "round {k}");
        }
        drop(x_tx);
        let (summary, result) = root.join().unwrap();
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(summary.rounds.merged, 50);
    });
}

/// A reader that has gone: every write fails with a broken pipe. The first one fails only
/// once `first` is told to go on, if it is given.
struct Gone {
    first: Option<mpsc::Receiver<()>>,
}

impl Write for Gone {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        if let Some(first) = self.first.take() {
            // Bounded, so that a handshake that never comes fails the test instead of
            // hanging it: the run then ends in the broken pipe alone.
            let _ = first.recv_timeout(Duration::from_secs(20));
        }
        Err(io::ErrorKind::BrokenPipe.into())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Tells its channel when it is dropped.
struct Tell(mpsc::Sender<()>);

impl Drop for Tell {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

thread_local! {
    /// Dropped, and so told, when its thread ends.
    static AT_EXIT: RefCell<Option<Tell>> = const { RefCell::new(None) };
}

#[test]
fn a_failure_already_sent_is_not_hidden_by_a_closed_output() {
    // The root drains its channel once a write fails: the first write must wait until x's
    // failure is in it. x's leaf sends the failure right after catching the panic, and its
    // thread ends once its streams have: y, which may share it, ends after 10 values. So
    // the source, just before it panics, leaves on the leaf's thread something that tells
    // the first write to go on when that thread ends.
    let (sent, failure_sent) = mpsc::channel();
    let failing = (0..).map(move |i| {
        if i < 3 {
            return i;
        }
        AT_EXIT.with(|tell| *tell.borrow_mut() = Some(Tell(sent.clone())));
        panic!("sensor lost")
    });
    let streams = vec![
        stream("x", failing),
        stream("y", std::iter::repeat_n(1, 10)),
    ];
    let settings = Settings {
        merges_only: false,
        ..MERGES_ONLY
    };
    let gone = Gone {
        first: Some(failure_sent),
    };
    let (_, result) = merge(streams, Input::Stdin, settings, gone);
    assert!(
        matches!(result, Err(Error::Panicked(ref name)) if name == "x"),
        "{result:?}"
    );
}

#[test]
fn a_closed_output_alone_is_a_broken_pipe() {
    let streams = vec![stream("x", 0..100_000), stream("y", 0..100_000)];
    let (_, result) = merge(streams, Input::Stdin, MERGES_ONLY, Gone { first: None });
    assert!(
        matches!(result, Err(Error::Write(ref e)) if e.kind() == io::ErrorKind::BrokenPipe),
        "{result:?}"
    );
}

#[test]
fn with_more_streams_than_leaves_a_panic_fails_only_its_own_stream() {
    // Forty streams: leaves feed several each, so the failing one shares its leaf.
    let mut streams: Vec<Stream> = (0..40)
        .map(|k| stream(&format!("s{k}"), std::iter::repeat(1)))
        .collect();
    let failing = (0..).map(|i| if i < 300 { 1 } else { panic!("sensor lost") });
    streams[17] = stream("s17", failing);
    let mut out = Vec::new();
    let (_, result) = merge(streams, Input::Stdin, MERGES_ONLY, &mut out);
    assert!(
        matches!(result, Err(Error::Panicked(ref name)) if name == "s17"),
        "{result:?}"
    );
    assert_eq!(out, "merge 40\n".repeat(300).as_bytes());
}

#[test]
fn a_scale_past_a_values_or_an_empty_range_cannot_be_made() {
    assert_eq!(Decimal::new(1, 30), None);
    assert!(Decimal::new(1, 18).is_some());
    assert_eq!(stream_merge::Uniform::new(0, 10, 19), None);
    assert_eq!(stream_merge::Uniform::new(5, 5, 0), None);
    assert!(stream_merge::Uniform::new(-1, 0, 18).is_some());
}
