//! The window: how far a stream may run ahead of the merge, how it is sized, and the
//! batches and channel slots that follow from its size.
//!
//! Invariant: a leaf (a generated stream's, or the reader of a source of its own) has
//! produced at most `used + size` values of a stream, `used` being how many of them the
//! rounds had used when the root last moved the window (never more than they have used
//! now); so the stream's queue at the root never holds more than `size` values, whatever
//! the relative speed of the streams. The shared input's reader keeps to it by its
//! slowest stream (see `shared`). It is also the run's starting gate: no thread does any
//! work before every thread has started, so that how many run at once never depends on
//! how fast the first ones finish.

use std::sync::{Condvar, Mutex};

use crate::message::BATCH;

/// How many values a stream may hold that no round has used, unless `--window` says
/// otherwise. A smaller window wakes the leaves more often and slows the run; a larger
/// one costs memory and gains little, as measured when it was chosen.
pub const WINDOW: u64 = 16384;

/// How many values all the streams' default windows hold together at most: past 32
/// streams, each gets an equal share, so that memory does not grow with the streams.
pub const BUDGET: u64 = 1 << 19;

/// How many bytes the lines of the values that the default windows hold take together at
/// most: each value held keeps its line to print, and a line is as long as its stream's
/// name. So a run whose names are long gets a smaller window, and memory does not grow
/// with a name's length. Lines of up to 64 bytes (names of up to 19 bytes by time, 41 by
/// position) leave it as it is however many streams there are; with fewer than 32
/// streams, longer ones do too, while the streams' lines take 2048 bytes at most.
pub const LINES: u64 = 32 << 20;

/// The default window of a run of `streams` streams, whose values' lines take at most
/// `line` bytes each (0 if no line is kept: merges only).
pub(crate) fn window_for(streams: usize, line: usize) -> u64 {
    let streams = streams.max(1) as u64;
    let lines = LINES / streams.saturating_mul(line.max(1) as u64);
    (BUDGET / streams).min(lines).clamp(1, WINDOW)
}

/// How many batches a leaf may have sent and the root not printed yet.
pub(crate) fn batches(window: u64) -> usize {
    (window / batch(window) as u64 + 1) as usize
}

/// How many values go in a batch with a window of `window`: at most `BATCH`, and no more
/// than half the window, so that a leaf woken by the window sends at least one.
pub(crate) fn batch(window: u64) -> usize {
    (window / 2).clamp(1, BATCH as u64) as usize
}

/// How many messages of a stream the channel holds, and how many spent batches wait to go
/// back to its leaf: as many as the default window lets a leaf send, so that a leaf rarely
/// waits to send; no more with a larger window, so that no window reserves memory.
pub(crate) fn slots(window: u64) -> usize {
    batches(window.min(WINDOW))
}

/// Shared by the root, which moves it, and the leaves, which wait on it.
pub(crate) struct Window {
    size: u64,
    state: Mutex<State>,
    moved: Condvar,
}

struct State {
    /// How many values of each stream the rounds had used when the root last moved the
    /// window: by position the rounds taken, by time each stream's own.
    used: Vec<u64>,
    /// The rounds taken then.
    taken: u64,
    /// Every thread of the run has started.
    open: bool,
    stopped: bool,
}

impl Window {
    /// The window of `streams` streams, each `size` values wide.
    pub(crate) fn new(size: u64, streams: usize) -> Self {
        let state = Mutex::new(State {
            used: vec![0; streams],
            taken: 0,
            open: false,
            stopped: false,
        });
        Window {
            size,
            state,
            moved: Condvar::new(),
        }
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// How many values of `stream` a leaf may have produced, as the window stands.
    fn edge_of(&self, state: &State, stream: usize) -> u64 {
        state.used[stream].saturating_add(self.size)
    }

    /// How many more values of `stream` a leaf that has produced `produced` may produce:
    /// waits until that is at least one. `None` once the root has stopped.
    pub(crate) fn wait(&self, stream: usize, produced: u64) -> Option<u64> {
        let state = self.state.lock().unwrap();
        let state = self
            .moved
            .wait_while(state, |state| {
                !state.stopped && produced >= self.edge_of(state, stream)
            })
            .unwrap();
        (!state.stopped).then(|| self.edge_of(&state, stream) - produced)
    }

    /// Waits until one of `streams`, `(stream, produced)`, may produce more; false once the
    /// root has stopped.
    pub(crate) fn wait_any(&self, streams: &[(usize, u64)]) -> bool {
        let state = self.state.lock().unwrap();
        let state = self
            .moved
            .wait_while(state, |state| {
                let room = |&(s, produced): &(usize, u64)| produced < self.edge_of(state, s);
                !state.stopped && !streams.iter().any(room)
            })
            .unwrap();
        !state.stopped
    }

    /// How many values of `stream` a leaf may have produced now, without waiting: its
    /// edge. `None` once the root has stopped.
    pub(crate) fn edge(&self, stream: usize) -> Option<u64> {
        let state = self.state.lock().unwrap();
        (!state.stopped).then(|| self.edge_of(&state, stream))
    }

    /// The edges of `streams` now, into `edges`.
    pub(crate) fn edges_of(&self, streams: &[usize], edges: &mut [u64]) {
        let state = self.state.lock().unwrap();
        for (&s, edge) in streams.iter().zip(edges) {
            *edge = self.edge_of(&state, s);
        }
    }

    /// Every thread of the run has started: they may begin.
    pub(crate) fn open(&self) {
        self.state.lock().unwrap().open = true;
        self.moved.notify_all();
    }

    /// Waits until every thread of the run has started: true, or false if the run stopped
    /// first (a thread could not be started).
    pub(crate) fn wait_open(&self) -> bool {
        let state = self.state.lock().unwrap();
        let state = self
            .moved
            .wait_while(state, |state| !state.open && !state.stopped)
            .unwrap();
        !state.stopped
    }

    /// The root has taken `taken` rounds, which have used `used(s)` values of stream s.
    /// Leaves see it, and are woken, only once the rounds have moved half a window since
    /// they last were: a woken leaf then has room for a long run of values, and the root
    /// does not pay for waking leaves, or for looking at every stream, on every message.
    pub(crate) fn advance(&self, taken: u64, used: impl Fn(usize) -> u64) {
        let mut state = self.state.lock().unwrap();
        if taken - state.taken >= self.size.div_ceil(2) {
            state.taken = taken;
            for (s, slot) in state.used.iter_mut().enumerate() {
                *slot = used(s);
            }
            self.moved.notify_all();
        }
    }

    /// The root has stopped: wakes every leaf, for good.
    pub(crate) fn stop(&self) {
        self.state.lock().unwrap().stopped = true;
        self.moved.notify_all();
    }
}

/// Stops its window when dropped, however the root's work ends, a panic included: the
/// leaves waiting for room then wake and end, so the scope that joins them does not wait
/// for ever on a run that can no longer move the window.
pub(crate) struct StopOnDrop<'a>(pub(crate) &'a Window);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_window_is_a_budget_shared_past_32_streams() {
        assert_eq!(window_for(0, 0), WINDOW);
        assert_eq!(window_for(32, 0), WINDOW);
        assert_eq!(window_for(33, 0), BUDGET / 33);
        assert_eq!(window_for(1000, 0), 524);
        assert_eq!(window_for(usize::MAX, 0), 1);
    }

    #[test]
    fn the_default_window_keeps_the_lines_held_within_their_budget_for_long_names() {
        // Lines of up to 64 bytes (names of 41 bytes, 19 by time) leave the window as it is;
        // with fewer streams, while the streams' lines take 2048 bytes at most.
        assert_eq!(window_for(32, 64), WINDOW);
        assert_eq!(window_for(1000, 64), 524);
        assert_eq!(window_for(32, 65), LINES / (32 * 65));
        assert_eq!(
            (window_for(2, 1024), window_for(2, 1025)),
            (WINDOW, LINES / 2050)
        );
        assert_eq!(window_for(2, 100_045), LINES / (2 * 100_045));
        assert!(window_for(2, 100_045) * 2 * 100_045 <= LINES);
        assert_eq!(window_for(1, usize::MAX), 1);
        assert_eq!(window_for(usize::MAX, usize::MAX), 1);
    }

    #[test]
    fn batches_and_slots_follow_the_window_within_bounds() {
        assert_eq!((batch(1), batches(1)), (1, 2));
        assert_eq!((batch(3), batches(3)), (1, 4));
        assert_eq!((batch(WINDOW), batches(WINDOW)), (BATCH, 9));
        assert_eq!(batch(u64::MAX), BATCH);
        // A huge window reserves no more than the default one.
        assert_eq!(slots(u64::MAX), slots(WINDOW));
        assert_eq!(slots(4), batches(4));
    }

    #[test]
    fn a_wait_gives_what_the_window_leaves() {
        let window = Window::new(4, 2);
        assert_eq!(window.wait(0, 0), Some(4));
        assert_eq!(window.wait(0, 3), Some(1));
        window.advance(1, |_| 1); // less than half the window: not yet seen
        assert_eq!(window.wait(0, 3), Some(1));
        window.advance(10, |s| [10, 2][s]); // each stream's edge is its own
        assert_eq!((window.wait(0, 4), window.wait(1, 4)), (Some(10), Some(2)));
        assert!(window.wait_any(&[(0, 14), (1, 5)]));
        window.stop();
        assert_eq!(window.wait(0, 0), None);
        assert!(!window.wait_any(&[(0, 0)]));
    }

    #[test]
    fn threads_wait_at_the_gate_until_it_opens_or_the_run_stops() {
        let window = Window::new(2, 1);
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| window.wait_open());
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!waiting.is_finished());
            window.open();
            assert!(waiting.join().unwrap());
        });
        let stopped = Window::new(2, 1);
        stopped.stop();
        assert!(!stopped.wait_open());
    }

    #[test]
    fn a_leaf_at_the_edge_waits_for_a_merge_or_the_stop() {
        let window = Window::new(2, 1);
        std::thread::scope(|scope| {
            let leaf = scope.spawn(|| window.wait(0, 2));
            // A wait that must not end: no handshake can show that, so give it time.
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!leaf.is_finished());
            window.advance(1, |_| 1);
            assert_eq!(leaf.join().unwrap(), Some(1));
            let leaf = scope.spawn(|| window.wait(0, 3));
            window.stop();
            assert_eq!(leaf.join().unwrap(), None);
        });
    }

    #[test]
    fn a_root_that_panics_still_wakes_the_leaves_waiting_for_room() {
        let (done, ended) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let window = Window::new(2, 1);
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                std::thread::scope(|scope| {
                    let _stop = StopOnDrop(&window);
                    scope.spawn(|| window.wait(0, 2));
                    panic!("a bug in the root");
                })
            }));
            done.send(run.is_err()).unwrap();
        });
        // Without the stop, the scope would join a leaf that waits for ever: the test
        // fails after a bound instead of hanging.
        let ended = ended.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(ended, Ok(true));
    }
}
