//! The window: how far a stream may run ahead of the merge.
//!
//! Invariant: a leaf (a generated stream's, or the reader of a source of its own) has
//! produced at most `merged + size` values, `merged` being the rounds the root had merged
//! when it last moved the window (never more than it has merged now); so its queue at the
//! root never holds more than `size` values, whatever the relative speed of the streams.
//! The shared input's reader keeps to it by its slowest stream (see `input`). It is also
//! the run's starting gate: no thread does any work before every thread has started, so
//! that how many run at once never depends on how fast the first ones finish.

use std::sync::{Condvar, Mutex};

/// Shared by the root, which moves it, and the leaves, which wait on it.
pub(crate) struct Window {
    size: u64,
    state: Mutex<State>,
    moved: Condvar,
}

struct State {
    merged: u64,
    /// Every thread of the run has started.
    open: bool,
    stopped: bool,
}

impl Window {
    pub(crate) fn new(size: u64) -> Self {
        let state = Mutex::new(State {
            merged: 0,
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

    /// How many values a leaf may have produced, as the window stands.
    fn edge(&self, state: &State) -> u64 {
        state.merged.saturating_add(self.size)
    }

    /// How many more values a leaf that has produced `produced` may produce: waits until
    /// that is at least one. `None` once the root has stopped.
    pub(crate) fn room(&self, produced: u64) -> Option<u64> {
        let state = self.state.lock().unwrap();
        let state = self
            .moved
            .wait_while(state, |state| {
                !state.stopped && produced >= self.edge(state)
            })
            .unwrap();
        (!state.stopped).then(|| self.edge(&state) - produced)
    }

    /// How many values a leaf may have produced now, without waiting. `None` once the
    /// root has stopped.
    pub(crate) fn limit(&self) -> Option<u64> {
        let state = self.state.lock().unwrap();
        (!state.stopped).then(|| self.edge(&state))
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
        let state = (self.moved)
            .wait_while(state, |state| !state.open && !state.stopped)
            .unwrap();
        !state.stopped
    }

    /// The root has merged `merged` rounds. Leaves see it, and are woken, only once the
    /// merge has moved half a window since they last were: a woken leaf then has room for a
    /// long run of values, and the root does not pay for waking leaves on every message.
    pub(crate) fn advance(&self, merged: u64) {
        let mut state = self.state.lock().unwrap();
        if merged - state.merged >= self.size.div_ceil(2) {
            state.merged = merged;
            self.moved.notify_all();
        }
    }

    /// The root has stopped: wakes every leaf, for good.
    pub(crate) fn stop(&self) {
        self.state.lock().unwrap().stopped = true;
        self.moved.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_what_the_window_leaves() {
        let window = Window::new(4);
        assert_eq!(window.room(0), Some(4));
        assert_eq!(window.room(3), Some(1));
        window.advance(1); // less than half the window: not yet seen
        assert_eq!(window.room(3), Some(1));
        window.advance(10);
        assert_eq!(window.room(4), Some(10));
        window.stop();
        assert_eq!(window.room(0), None);
    }

    #[test]
    fn threads_wait_at_the_gate_until_it_opens_or_the_run_stops() {
        let window = Window::new(2);
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| window.wait_open());
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!waiting.is_finished());
            window.open();
            assert!(waiting.join().unwrap());
        });
        let stopped = Window::new(2);
        stopped.stop();
        assert!(!stopped.wait_open());
    }

    #[test]
    fn a_leaf_at_the_edge_waits_for_a_merge_or_the_stop() {
        let window = Window::new(2);
        std::thread::scope(|scope| {
            let leaf = scope.spawn(|| window.room(2));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!leaf.is_finished());
            window.advance(1);
            assert_eq!(leaf.join().unwrap(), Some(1));
            let leaf = scope.spawn(|| window.room(3));
            window.stop();
            assert_eq!(leaf.join().unwrap(), None);
        });
    }
}
