//! What `cargo xtask matrix call` can come to: its exit statuses, one per kind of outcome so
//! that scripts can tell them apart, and the error that carries one out with its line.

use std::process::ExitCode;

/// The exit statuses, documented in `--help` ([`EXIT_STATUSES_HELP`]) and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every host that was asked gave the same outcome.
    Agree = 0,
    /// Some hosts' outcomes differ.
    Differ = 1,
    /// Bad command line: unknown flag, bad value, missing argument, unknown host.
    Usage = 2,
    /// A file could not be used: a module (missing, not a regular file, over the cap, not
    /// WebAssembly), the store file or the input file.
    BadFile = 3,
    /// The module has no such export.
    NoExport = 4,
    /// A host could not be asked: it did not start, died, hung, broke the protocol or refused
    /// the request; or a host named with `--hosts` could not be built.
    HostFailed = 5,
}

/// For `--help`: every status and what it means.
pub const EXIT_STATUSES_HELP: &str = "\
Exit status:
  0  every host asked gave the same outcome
  1  the hosts' outcomes differ (the differing hosts are named and diffed), even if a host
     also could not be asked
  2  bad usage: unknown flag, bad value, missing argument, unknown or malformed host
  3  a file could not be used: a module or --link (missing, not a regular file, over 128 MiB,
     not WebAssembly, .wat that does not compile), --store or --input-file
  4  the module has no such export
  5  a host could not be asked (did not start, died, hung, broke docs/protocol.md, refused the
     request, e.g. unsupported_limit), or a host named with --hosts could not be built; the
     other hosts' outcomes are still printed";

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// An error on its way out: the line to print and the status to exit with.
#[derive(Debug)]
pub struct Fatal {
    pub exit: Exit,
    pub message: String,
}

impl Fatal {
    pub fn new(exit: Exit, message: impl Into<String>) -> Fatal {
        Fatal {
            exit,
            message: message.into(),
        }
    }
}
