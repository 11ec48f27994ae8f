//! What every leaf and reader sends its stream's values through: a `Transport` (a batch
//! being filled, the channel to the root, and the spent batches that come back), and, for
//! the leaves and the readers of sources of their own, a `Paced` transport, which keeps
//! the stream within the window.
//!
//! Invariant: a stream's values reach the root in the order they were pushed, and its last
//! message, `End` or `Failed`, comes after all of them. A paced stream has pushed at most
//! as many values as the window allowed when it last asked, never more.

use std::mem;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use crate::decimal::Decimal;
use crate::error::Error;
use crate::format::Reading;
use crate::message::{Batch, Msg, Run};
use crate::text::Prefix;
use crate::window::Window;

/// One stream's way to the root.
pub(crate) struct Transport {
    stream: usize,
    /// `NAME `, or `None` when only merges are printed.
    prefix: Option<Prefix>,
    /// Values per batch.
    size: usize,
    batch: Box<Batch>,
    tx: SyncSender<Msg>,
    /// Batches the root has printed, sent back empty to be filled again: allocating a
    /// fresh one per message, and freeing it on another thread, cost more than the merge.
    spent: Receiver<Box<Batch>>,
}

impl Transport {
    pub(crate) fn new(
        stream: usize,
        prefix: Option<Prefix>,
        (size, timed): (usize, bool),
        (tx, spent): (SyncSender<Msg>, Receiver<Box<Batch>>),
    ) -> Self {
        Transport {
            stream,
            batch: Box::new(Batch::new(stream, size, prefix.as_ref(), timed)),
            prefix,
            size,
            tx,
            spent,
        }
    }

    /// Appends a value, with its time by time, and its line if lines are printed.
    #[inline]
    pub(crate) fn push(&mut self, value: Decimal, time: Option<Decimal>) {
        self.batch.push(value, time, self.prefix.as_ref());
    }

    /// Appends `run`, whose lines as printed are `lines`.
    pub(crate) fn push_copied(&mut self, run: &Run, lines: &[u8]) {
        self.batch.push_copied(run, lines);
    }

    /// Appends `reading`, whose line as the output prints it is `line`.
    #[inline]
    pub(crate) fn push_line(&mut self, reading: Reading, line: &[u8]) {
        self.batch.push_line(reading, line);
    }

    /// How many more values the batch takes.
    pub(crate) fn room(&self) -> usize {
        self.batch.room()
    }

    /// Sends the batch if it is full; false once the root has hung up.
    #[inline]
    pub(crate) fn send_full(&mut self) -> bool {
        self.batch.room() > 0 || self.send()
    }

    /// Sends what it holds; false once the root has hung up.
    pub(crate) fn send(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let fresh = match self.spent.try_recv() {
            Ok(spent) => spent,
            Err(_) => Box::new(Batch::new(
                self.stream,
                self.size,
                self.prefix.as_ref(),
                self.batch.timed,
            )),
        };
        let batch = mem::replace(&mut self.batch, fresh);
        self.tx.send(Msg::Values(batch)).is_ok()
    }

    /// Sends what it holds, then how the stream ended.
    pub(crate) fn finish(mut self, how: Result<(), Error>) {
        if self.send() {
            let last = match how {
                Ok(()) => Msg::End(self.stream),
                Err(e) => Msg::Failed(self.stream, e),
            };
            let _ = self.tx.send(last); // the root may have hung up: nothing waits for it
        }
    }
}

/// A transport that keeps its stream within the window: for leaves and the readers of
/// sources of their own, which ask how many values they may take before they take them.
pub(crate) struct Paced {
    transport: Transport,
    window: Arc<Window>,
    /// Values pushed, and how many the window allowed when last asked.
    produced: u64,
    allowed: u64,
}

impl Paced {
    pub(crate) fn new(transport: Transport, window: Arc<Window>) -> Self {
        Paced {
            transport,
            window,
            produced: 0,
            allowed: 0,
        }
    }

    /// How many values it may take now, at least one: waits until the window allows one
    /// more and the batch has room, sending what it holds first. `None` once the root has
    /// stopped.
    #[inline]
    pub(crate) fn wait(&mut self) -> Option<usize> {
        if !self.transport.send_full() {
            return None;
        }
        if self.produced == self.allowed {
            if !self.transport.send() {
                return None;
            }
            let more = self.window.wait(self.transport.stream, self.produced)?;
            self.allowed = self.produced + more;
        }
        Some(self.take_now())
    }

    /// How many values it may take without waiting, the window's edge being `edge` (see
    /// `Window::edge`): none if it is there. `None` once the root has hung up.
    #[inline]
    pub(crate) fn room(&mut self, edge: u64) -> Option<usize> {
        if !self.transport.send_full() {
            return None;
        }
        self.allowed = self.allowed.max(edge);
        Some(self.take_now())
    }

    /// How many values the window, as last asked, and the batch allow.
    fn take_now(&self) -> usize {
        (self.allowed - self.produced).min(self.transport.room() as u64) as usize
    }

    /// Appends a value, with its time by time: the caller has asked for room for it.
    #[inline]
    pub(crate) fn push(&mut self, value: Decimal, time: Option<Decimal>) {
        self.transport.push(value, time);
        self.produced += 1;
    }

    /// Appends the values `make` writes into the batch, with their lines if it is given
    /// the prefix, and returns how many: the caller has asked for room for them.
    pub(crate) fn produce(
        &mut self,
        make: impl FnOnce(&mut Batch, Option<&Prefix>) -> usize,
    ) -> usize {
        let transport = &mut self.transport;
        let made = make(&mut transport.batch, transport.prefix.as_ref());
        self.produced += made as u64;
        made
    }

    /// Its stream's place in the window: the stream's number, and the values it pushed.
    pub(crate) fn place(&self) -> (usize, u64) {
        (self.transport.stream, self.produced)
    }

    /// Sends what it holds; false once the root has hung up.
    pub(crate) fn send(&mut self) -> bool {
        self.transport.send()
    }

    /// Sends what it holds, then how the stream ended.
    pub(crate) fn finish(self, how: Result<(), Error>) {
        self.transport.finish(how);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Stream 0's transport into a channel, batches of `size`, and its two ends.
    fn transport(size: usize) -> (Transport, Receiver<Msg>, SyncSender<Box<Batch>>) {
        let (tx, rx) = mpsc::sync_channel(16);
        let (back, spent) = mpsc::sync_channel(4);
        let prefix = Some(Prefix::new(b"x "));
        (
            Transport::new(0, prefix, (size, false), (tx, spent)),
            rx,
            back,
        )
    }

    fn d(mantissa: i64) -> Decimal {
        Decimal::new(mantissa, 0).unwrap()
    }

    #[test]
    fn a_stream_ends_after_every_value_it_pushed_and_a_full_batch_goes_at_once() {
        let (mut transport, rx, _back) = transport(2);
        transport.push(d(1), None);
        assert!(
            transport.send_full() && rx.try_recv().is_err(),
            "not full yet"
        );
        transport.push(d(2), None);
        assert!(transport.send_full());
        let Ok(Msg::Values(batch)) = rx.try_recv() else {
            panic!("a batch")
        };
        assert_eq!(
            (batch.mantissas.as_slice(), batch.lines.as_bytes()),
            (&[1, 2][..], &b"x 1\nx 2\n"[..])
        );
        transport.push(d(3), None);
        transport.finish(Ok(()));
        assert!(matches!(rx.try_recv(), Ok(Msg::Values(b)) if b.mantissas == [3]));
        assert!(matches!(rx.try_recv(), Ok(Msg::End(0))));
    }

    #[test]
    fn a_spent_batch_comes_back_to_be_filled_again() {
        let (mut transport, rx, back) = transport(4);
        transport.push(d(1), None);
        assert!(transport.send());
        let Ok(Msg::Values(mut batch)) = rx.try_recv() else {
            panic!("a batch")
        };
        let spent: *const Batch = &*batch;
        batch.clear();
        back.send(batch).unwrap();
        transport.push(d(2), None);
        assert!(transport.send()); // takes the spent batch in place of the one it sends
        transport.push(d(3), None);
        assert!(transport.send());
        let _ = rx.try_recv();
        let Ok(Msg::Values(again)) = rx.try_recv() else {
            panic!("a batch")
        };
        assert_eq!(
            (&*again as *const Batch, again.mantissas.as_slice()),
            (spent, &[3][..])
        );
    }

    #[test]
    fn a_paced_stream_takes_no_more_than_the_window_allows() {
        let (transport, _rx, _back) = transport(8);
        let window = Arc::new(Window::new(3, 1));
        let mut paced = Paced::new(transport, Arc::clone(&window));
        assert_eq!(paced.room(0), Some(0), "at the edge");
        assert_eq!(paced.room(3), Some(3));
        paced.push(d(1), None);
        paced.push(d(2), None);
        assert_eq!((paced.room(3), paced.place()), (Some(1), (0, 2)));
        let made = paced.produce(|batch, prefix| {
            batch.push(d(3), None, prefix);
            1
        });
        assert_eq!((made, paced.room(3)), (1, Some(0)));
        window.stop();
        assert_eq!(paced.wait(), None, "the root has stopped");
    }
}
