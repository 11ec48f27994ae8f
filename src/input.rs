//! Inputs: stdin or a path, checked without opening them, opened as `source` and `shared`
//! say (a source of its own that never waits as its stream is dealt, any other by its
//! reader), and read so that a non-blocking descriptor waits rather than fails.
//!
//! Invariant: a path is checked with `stat` and `access`, never by opening it, since
//! opening and closing a named pipe strands its writer; so checking has no effect on any
//! input. What a check lets through can still fail to open; its reader then fails its
//! stream at its first item.

use std::ffi::{CString, c_char, c_int};
use std::fs::{self, File};
use std::io::{self, ErrorKind};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::polled::Polled;
use crate::quote::escape;

/// Where lines come from.
#[derive(Debug, PartialEq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
}

/// Whether an input of this kind is read to its end without waiting for a writer: a
/// regular file, or a block device (a disk). Any other (a pipe, a FIFO, a terminal or
/// another character device) may wait, and so gets a thread of its own.
fn reads_to_end(metadata: &fs::Metadata) -> bool {
    metadata.is_file() || metadata.file_type().is_block_device()
}

/// What messages call stdin.
const STDIN: &str = "<stdin>";

/// What a checked input is, and what it is the same as.
pub(crate) struct Checked {
    /// A pipe, a FIFO or a character device, such as a terminal: one read by two streams
    /// would give each a share of its lines that depends on timing. `(device, inode)`.
    pub(crate) waits: Option<(u64, u64)>,
}

impl Input {
    /// `-` is stdin; anything else a path, taken as given.
    pub fn new(path: PathBuf) -> Self {
        if path.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::Path(path)
        }
    }

    /// How messages name it: the path as given, escaped.
    pub fn place(&self) -> String {
        match self {
            Input::Stdin => STDIN.to_string(),
            Input::Path(path) => escape(path.as_os_str().as_bytes()),
        }
    }

    /// Whether it can be read as a stream: it exists, is not a directory or a socket, and
    /// is readable. Stdin is taken as it comes.
    pub(crate) fn check(&self) -> io::Result<Checked> {
        let Input::Path(path) = self else {
            let stdin = fs::metadata("/dev/stdin").ok();
            return Ok(Checked {
                waits: stdin
                    .filter(|m| !reads_to_end(m))
                    .map(|m| (m.dev(), m.ino())),
            });
        };
        let metadata = fs::metadata(path)?;
        let kind = metadata.file_type();
        if kind.is_dir() {
            return Err(io::Error::new(ErrorKind::IsADirectory, "is a directory"));
        }
        if kind.is_socket() {
            return Err(io::Error::other(
                "is a socket, which is not read as a stream",
            ));
        }
        unsafe extern "C" {
            fn access(path: *const c_char, mode: c_int) -> c_int;
        }
        const R_OK: c_int = 4;
        let path = CString::new(path.as_os_str().as_bytes())?;
        // SAFETY: `path` is a NUL-terminated string that outlives the call, and `access`
        // only reads it.
        if unsafe { access(path.as_ptr(), R_OK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let waits = (!reads_to_end(&metadata)).then(|| (metadata.dev(), metadata.ino()));
        Ok(Checked { waits })
    }

    /// Whether it is read to its end without waiting (see `reads_to_end`).
    pub(crate) fn never_waits(&self) -> bool {
        let path = match self {
            Input::Path(path) => path.as_path(),
            Input::Stdin => Path::new("/dev/stdin"),
        };
        fs::metadata(path).is_ok_and(|m| reads_to_end(&m))
    }

    pub(crate) fn open(&self) -> io::Result<Opened> {
        Ok(Polled(match self {
            Input::Stdin => File::from(io::stdin().as_fd().try_clone_to_owned()?),
            Input::Path(path) => File::open(path)?,
        }))
    }
}

/// An open input, whose reads wait for data (see `polled`).
pub(crate) type Opened = Polled<File>;

/// How many more files this process may open: its limit (raised to the most it may be
/// first, as a process that opens many files should) less those open now. `None` if the
/// system does not tell.
pub(crate) fn free_descriptors() -> Option<u64> {
    #[repr(C)]
    struct Limit {
        soft: u64,
        hard: u64,
    }
    unsafe extern "C" {
        fn getrlimit(resource: c_int, limit: *mut Limit) -> c_int;
        fn setrlimit(resource: c_int, limit: *const Limit) -> c_int;
    }
    const RLIMIT_NOFILE: c_int = 7;
    let mut limit = Limit { soft: 0, hard: 0 };
    // SAFETY: `limit` is a valid `rlimit` (two 64-bit counts on Linux) that outlives both
    // calls; `getrlimit` writes it, `setrlimit` only reads it.
    unsafe {
        if getrlimit(RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        let raised = Limit {
            soft: limit.hard,
            ..limit
        };
        if setrlimit(RLIMIT_NOFILE, &raised) == 0 {
            limit = raised;
        }
    }
    // Less one: the listing's own descriptor.
    let open = fs::read_dir("/proc/self/fd").ok()?.count() as u64 - 1;
    Some(limit.soft.saturating_sub(open))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A directory of this test's own, empty, and this process's: no other run of the
    /// tests uses it. The test removes it.
    fn dir(name: &str) -> PathBuf {
        let name = format!("stream-merge-input-{}-{name}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn only_what_can_be_read_as_a_stream_passes_the_check() {
        let dir = dir("check");
        let file = dir.join("file");
        fs::write(&file, "1\n").unwrap();
        let socket = dir.join("socket");
        let _listener = UnixListener::bind(&socket).unwrap();
        let input = |path: &PathBuf| Input::new(path.clone());
        let file_check = input(&file).check().unwrap();
        assert!(file_check.waits.is_none() && input(&file).never_waits());
        let problem = |path: &PathBuf| input(path).check().err().unwrap().to_string();
        assert_eq!(problem(&dir), "is a directory");
        assert_eq!(
            problem(&socket),
            "is a socket, which is not read as a stream"
        );
        assert!(problem(&dir.join("missing")).starts_with("No such file"));
        let null = Input::new("/dev/null".into());
        assert!(null.check().unwrap().waits.is_some() && !null.never_waits());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_block_device_never_waits_as_a_regular_file_does() {
        // Any block device the machine has (none, in some containers: nothing to check).
        let devices = fs::read_dir("/dev").into_iter().flatten().flatten();
        let mut blocks = devices.filter(|d| d.file_type().is_ok_and(|t| t.is_block_device()));
        let Some(block) = blocks.next() else {
            eprintln!("skipped: no block device in /dev");
            return;
        };
        // Unreadable (not root): refused by the check, so never dealt.
        if fs::File::open(block.path()).is_err() {
            eprintln!("skipped: {:?} cannot be read", block.path());
            return;
        }
        let input = Input::new(block.path());
        let checked = input
            .check()
            .expect("a readable block device passes the check");
        assert!(
            checked.waits.is_none() && input.never_waits(),
            "{:?}",
            block.path()
        );
    }

    #[test]
    fn the_same_fifo_by_two_paths_is_the_same_input() {
        let dir = dir("fifo");
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        std::os::unix::fs::symlink(&fifo, dir.join("link")).unwrap();
        let identity = |path: PathBuf| Input::new(path).check().unwrap().waits;
        let first = identity(fifo.clone());
        assert!(first.is_some());
        assert_eq!(identity(dir.join("link")), first);
        assert!(!Input::new(fifo).never_waits());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn paths_are_named_as_given_and_dash_is_stdin() {
        assert_eq!(Input::new("-".into()), Input::Stdin);
        assert_eq!(Input::Stdin.place(), "<stdin>");
        assert_eq!(Input::new("a\x1b.txt".into()).place(), "a\\x1B.txt");
    }
}
