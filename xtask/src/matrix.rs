//! `cargo xtask matrix call` (and `matrix test`, `test.rs`): a plugin author's question, "does my plugin behave the same on
//! every Extism SDK?", as one command. Any module (or `.wat` text), one call or a sequence, on
//! every host of the table and on any protocol host given with `--host`, side by side; each
//! host's outcome is rendered as the snapshots render it, hosts that agree are grouped, and the
//! others are named and diffed. Every file is checked before any host starts.
//!
//! Its parts, each using only those above it in this list: `exit` (the statuses), `args` (the
//! command line, made a request) and `modules` (the files); `hosts` (which, built how, started
//! how); `ask` (side by side, timed); `compare` (groups, diffs); `report` (the output).

mod args;
mod ask;
mod compare;
mod exit;
mod hosts;
mod modules;
mod report;
mod test;
#[cfg(test)]
mod tests;

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use clap::Subcommand;
use xshell::Shell;

pub use args::CallArgs;
pub use exit::{Exit, Fatal, EXIT_STATUSES_HELP};

use crate::table::HOSTS;

#[derive(Subcommand)]
pub enum Matrix {
    /// Call exports of any plugin on every host, side by side, and compare the outcomes: hosts
    /// that agree are grouped, the others named and diffed. Builds stale hosts first
    #[command(after_help = EXIT_STATUSES_HELP)]
    Call(Box<CallArgs>),
    /// Run a directory of cases of your own (their modules, snapshots and known failures) on
    /// every host, with the conformance run's verdicts, report and results page
    #[command(after_help = test::TEST_STATUSES_HELP)]
    Test(test::TestArgs),
}

impl Matrix {
    pub fn run(self, sh: &Shell) -> ExitCode {
        match self {
            Matrix::Call(args) => call(
                &args,
                sh,
                &mut std::io::stdout().lock(),
                &mut std::io::stderr(),
            )
            .into(),
            Matrix::Test(args) => match test::run(&args, sh) {
                Ok(exit) => exit.into(),
                Err(fatal) => {
                    eprintln!("error: {}", fatal.message);
                    fatal.exit.into()
                }
            },
        }
    }
}

/// Runs `matrix call`: the report on `out` (and `err`), any error as one line on `err`.
pub fn call(args: &CallArgs, sh: &Shell, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    match try_call(args, sh, out, err) {
        Ok(exit) => exit,
        Err(fatal) => {
            let _ = writeln!(err, "error: {}", fatal.message);
            fatal.exit
        }
    }
}

fn try_call(
    args: &CallArgs,
    sh: &Shell,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Exit, Fatal> {
    let chosen = hosts::choose(&args.only, &args.given)?;
    let modules = modules::prepare(&args.wasm, &args.links, &args.exports)?;
    let request = args.request(modules.links.clone())?;
    let lineup = hosts::prepare(sh, chosen, !args.no_build, !args.only.is_empty());
    for (host, why) in &lineup.skipped {
        let _ = writeln!(err, "skipped: {host}: {why}");
    }
    let asking = Instant::now();
    let answers = ask::ask_all(lineup.ready, &modules.main, &request);
    let wall = asking.elapsed();
    let reference = HOSTS
        .iter()
        .find(|host| host.in_process)
        .map(|host| host.name());
    let (skipped, unstarted) = (lineup.skipped, lineup.failed);
    let report = report::Report::new(answers, &request, skipped, unstarted, reference, wall);
    // A reader that went away (`| head`) is not the hosts' fault: the status stands.
    let _ = report.write_notes(err, args.timings);
    let _ = match args.json {
        true => report.write_json(out),
        false => report.write_text(out),
    };
    Ok(report.exit())
}
