//! Reads and writes that wait in `poll(2)`. A parent process may leave a descriptor it
//! shares with us non-blocking (stdin, stdout and stderr often are, and share one), and
//! then a read or a write that would block fails with `WouldBlock`; through `Polled` it
//! waits until the descriptor is ready, never in a busy loop, and is tried again. A retry
//! is exact: a call that fails with `WouldBlock` has taken none of its bytes.
//!
//! Invariant: `WouldBlock` never comes out of a `Polled`; every other result is the inner
//! reader's or writer's as it is, or the error of a `poll` that failed.

use std::ffi::{c_int, c_short, c_ulong};
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd};

/// A reader or writer whose calls wait, rather than fail, while its descriptor is not
/// ready.
pub struct Polled<T>(pub T);

/// `poll(2)`'s events: ready to read, ready to write.
const POLLIN: c_short = 1;
const POLLOUT: c_short = 4;

impl<T: AsFd> Polled<T> {
    /// `call` on the inner one, again each time it would block, once `events` are ready.
    fn again<R>(
        &mut self,
        events: c_short,
        mut call: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            match call(&mut self.0) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => ready(&self.0, events)?,
                done => return done,
            }
        }
    }
}

impl<T: Read + AsFd> Read for Polled<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.again(POLLIN, |inner| inner.read(buf))
    }
}

impl<T: Write + AsFd> Write for Polled<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.again(POLLOUT, |inner| inner.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.again(POLLOUT, Write::flush)
    }
}

/// Waits until `fd` has one of `events`, or an error or hang-up to tell, which the call
/// tried again then tells: `poll(2)`, which std does not offer.
fn ready(fd: &impl AsFd, events: c_short) -> io::Result<()> {
    #[repr(C)]
    struct PollFd {
        fd: c_int,
        events: c_short,
        revents: c_short,
    }
    unsafe extern "C" {
        fn poll(fds: *mut PollFd, count: c_ulong, timeout: c_int) -> c_int;
    }
    let mut one = PollFd {
        fd: fd.as_fd().as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: `one` is a valid `pollfd` that outlives the call, the count is 1, and a
    // timeout of -1 waits with no end.
    match unsafe { poll(&mut one, 1, -1) } {
        -1 if io::Error::last_os_error().kind() != ErrorKind::Interrupted => {
            Err(io::Error::last_os_error())
        }
        _ => Ok(()),
    }
}
