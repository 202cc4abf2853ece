//! A program to start, complete: what xtask's table resolves a host's launch into (its program,
//! arguments with the subcommand, and environment), and what the protocol client starts.

use std::path::PathBuf;

/// A command line and its environment, ready to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Command {
    /// A `std::process::Command` with the program, arguments and environment set.
    pub fn std(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

impl std::fmt::Display for Command {
    /// The command line as a person would type it (for messages).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.program.display())?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}
