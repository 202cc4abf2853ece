//! The process's exit codes: one per kind of outcome, so scripts can tell them apart.

use std::process::ExitCode;

use host::{Error, Failure};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    /// The plugin reported an error, or returned a non-zero code.
    PluginError = 1,
    /// Bad command line: unknown flag, bad value, missing argument.
    Usage = 2,
    /// A file could not be used: the plugin (missing, not wasm, does not compile), the store
    /// file or the input file.
    BadFile = 3,
    /// The plugin has no such export.
    NoExport = 4,
    /// The plugin trapped, or exited through WASI with a non-zero code.
    Aborted = 5,
    Timeout = 6,
    OutOfMemory = 7,
    /// A host function refused the plugin's call, such as `hostMemoryGet` given a bad offset
    /// or a key or value over its limit.
    HostFunction = 8,
    OutOfFuel = 9,
}

/// For `--help`: every code and what it means.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  the call succeeded
  1  the plugin reported an error or returned a non-zero code
  2  bad usage: unknown flag, bad value, missing argument
  3  a file could not be used: the plugin (missing, not wasm, does not compile), --store or --input-file
  4  the plugin has no such export
  5  the plugin trapped, or exited through WASI with a non-zero code
  6  the call ran past --timeout
  7  the plugin's memory would have grown past --memory-max
  8  a host function refused the plugin's call (bad offset, key or value over its limit)
  9  the call burnt all of --fuel";

impl Exit {
    pub fn of(error: &Error) -> Exit {
        match error {
            Error::Read { .. } | Error::Load { .. } => Exit::BadFile,
            Error::MissingExport { .. } => Exit::NoExport,
            Error::Call { failure, .. } => match failure {
                Failure::Plugin { .. } | Failure::ReturnCode { .. } => Exit::PluginError,
                Failure::Trap { .. } | Failure::Exit { .. } => Exit::Aborted,
                Failure::Timeout => Exit::Timeout,
                Failure::OutOfMemory => Exit::OutOfMemory,
                Failure::HostFunction { .. }
                | Failure::KeyTooLong { .. }
                | Failure::ValueTooLong { .. } => Exit::HostFunction,
                Failure::OutOfFuel => Exit::OutOfFuel,
            },
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// An error on its way out: the line to print and the code to exit with.
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

/// Writing the output failed. A reader that stopped early (`| head`) is not an error.
pub fn stdout_result(result: std::io::Result<()>) -> Result<(), Fatal> {
    match result {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(Fatal::new(
            Exit::BadFile,
            format!("cannot write to stdout: {error}"),
        )),
        _ => Ok(()),
    }
}

impl From<Error> for Fatal {
    fn from(error: Error) -> Fatal {
        Fatal::new(Exit::of(&error), error.to_string())
    }
}
