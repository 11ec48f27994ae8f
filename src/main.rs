//! The `stream-merge` command: parses the arguments, runs, and maps the outcome to an exit
//! status: 0 done, 1 failed at run time, 2 a usage error.

use std::io::{self, ErrorKind, Write};
use std::process::ExitCode;

use stream_merge::Error;
use stream_merge::cli::{self, Command};

fn main() -> ExitCode {
    let config = match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => return print(cli::HELP),
        Ok(Command::Version) => {
            return print(concat!("stream-merge ", env!("CARGO_PKG_VERSION"), "\n"));
        }
        Err(problem) => {
            eprintln!("stream-merge: {problem} (see --help)");
            return ExitCode::from(2);
        }
    };
    match stream_merge::run(&config, io::stdout().lock(), io::stderr()) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader has gone, as with `stream-merge | head`: nothing left to do.
        Err(Error::Write(e)) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stream-merge: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints help or version; a closed stdout is no error here either.
fn print(text: &str) -> ExitCode {
    let _ = io::stdout().write_all(text.as_bytes());
    ExitCode::SUCCESS
}
