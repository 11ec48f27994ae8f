//! What the integration tests share: a directory of each test's own, a test's name, how
//! messages show its paths, and a check of what `--stats` prints.
#![allow(dead_code)] // each test crate uses what it needs of it

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// A directory of one test's own, as ripgrep's tests have: `CARGO_TARGET_TMPDIR/<test>/`,
/// so that no two tests share a file by name (a test crate names its tests with a prefix of
/// its own, as `time/`, so that no two crates share one either).
pub struct Dir {
    root: PathBuf,
}

impl Dir {
    /// The empty directory of the test named `test`, whatever an earlier run left in it.
    pub fn new(test: &str) -> Dir {
        static TAKEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let mut taken = TAKEN.lock().unwrap();
        assert!(!taken.iter().any(|t| t == test), "two tests in {test}");
        taken.push(test.to_string());
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        Dir { root }
    }

    /// The path of `name` in it.
    pub fn path(&self, name: &str) -> String {
        self.root.join(name).to_str().unwrap().to_string()
    }

    /// A file `name` holding `contents`, and its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        fs::write(&path, contents).unwrap();
        path
    }

    /// A FIFO `name`, and its path.
    pub fn fifo(&self, name: &str) -> String {
        let path = self.path(name);
        let made = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(made.success(), "mkfifo {path}");
        path
    }

    /// `STREAM=PATH` for `-f`, PATH a file `name` holding `contents`.
    pub fn source(&self, stream: &str, name: &str, contents: impl AsRef<[u8]>) -> String {
        format!("{stream}={}", self.file(name, contents))
    }
}

/// The name of the function it is written in: a test's name.
#[allow(unused_macros)] // each test crate uses what it needs of it
macro_rules! test_name {
    () => {{
        fn here() {}
        let path = std::any::type_name_of_val(&here);
        let path = path.strip_suffix("::here").unwrap();
        path.rsplit("::").next().unwrap()
    }};
}
#[allow(unused_imports)]
pub(crate) use test_name;

/// How messages show `path`: whole, or cut after 120 characters if longer (see
/// `a_long_path_is_cut_in_messages`), as a test's own may be under a deep target directory.
pub fn shown_path(path: &str) -> String {
    let cut: String = path.chars().take(120).collect();
    match cut.len() == path.len() {
        true => cut,
        false => format!("{cut}... ({} bytes)", path.len()),
    }
}

/// Asserts that `stats`, the stderr of a `--stats` run, starts with `first`, then tells
/// the time and the rate, then `last`.
pub fn assert_stats(stats: &str, first: &[&str], last: &[&str]) {
    let lines: Vec<&str> = stats.lines().collect();
    assert_eq!(lines.len(), first.len() + 2 + last.len(), "{stats}");
    assert_eq!(lines[..first.len()], *first, "{stats}");
    let (elapsed, rate) = (lines[first.len()], lines[first.len() + 1]);
    let seconds = elapsed
        .strip_prefix("elapsed: ")
        .and_then(|e| e.strip_suffix(" s"));
    assert!(seconds.is_some_and(|s| s.parse::<f64>().is_ok()), "{stats}");
    let rate = rate.strip_prefix("rounds per second: ");
    assert!(rate.is_some_and(|r| r.parse::<f64>().is_ok()), "{stats}");
    assert_eq!(lines[first.len() + 2..], *last, "{stats}");
}
