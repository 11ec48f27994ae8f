//! The `stream-merge` command: parses the arguments, runs, and maps the outcome to an exit
//! status: 0 done, 1 failed at run time, 2 a usage error. A closed stdout is no error;
//! a failing stderr never panics.

use std::io::{self, ErrorKind, Write};
use std::process::ExitCode;

use stream_merge::cli::{self, Command};
use stream_merge::{Error, Polled};

fn main() -> ExitCode {
    let config = match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => return print(cli::HELP),
        Ok(Command::Version) => {
            return print(concat!("stream-merge ", env!("CARGO_PKG_VERSION"), "\n"));
        }
        Err(problem) => {
            let _ = writeln!(stderr(), "stream-merge: {problem} (see --help)");
            return ExitCode::from(2);
        }
    };
    match stream_merge::run(config, Polled(io::stdout().lock()), stderr()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Write(e)) => write_failed(e),
        Err(Error::Usage(problem)) => {
            let _ = writeln!(stderr(), "stream-merge: {problem} (see --help)");
            ExitCode::from(2)
        }
        Err(e) => {
            let _ = writeln!(stderr(), "stream-merge: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints help or version.
fn print(text: &str) -> ExitCode {
    let mut out = Polled(io::stdout().lock());
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => write_failed(e),
    }
}

/// The reader has gone, as with `stream-merge | head`: nothing left to do. Any other
/// write error is a failure.
fn write_failed(e: io::Error) -> ExitCode {
    if e.kind() == ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    let _ = writeln!(stderr(), "stream-merge: cannot write output: {e}");
    ExitCode::FAILURE
}

/// Where messages go: stderr, waiting where a parent left it non-blocking, as it often
/// shares stdout's descriptor, so that no message is lost to a full pipe.
fn stderr() -> Polled<io::Stderr> {
    Polled(io::stderr())
}
