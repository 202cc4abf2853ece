//! `cargo xtask`: the workspace's build tasks. See `cargo xtask --help`.

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use xshell::Shell;
use xtask::matrix::Matrix;
use xtask::{all, build_plugins, project_root, Language, Outcomes, HOSTILE, HOSTS, LANGUAGES};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build tasks for the plugin conformance workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build every plugin language into target/plugins/<lang>/ (skipped when nothing changed)
    BuildPlugins(Languages),
    /// Build the hosts that are programs of their own into target/hosts/<host>/
    BuildHosts,
    /// Build the hostile test plugins of plugins-hostile/ into target/hostile/<lang>/ (skipped when nothing changed)
    BuildHostile,
    /// Build the plugins, then run the seed's `say_hello` call for each, on every host
    Demo(Languages),
    /// Install the toolchains this machine can install by itself (TinyGo, on Debian), then run doctor
    Setup,
    /// List every toolchain the workspace uses: found or missing, version, who needs it, fix
    Doctor,
    /// Format every Rust workspace and Go module of the table
    Fmt {
        /// Only report unformatted code, change nothing
        #[arg(long)]
        check: bool,
    },
    /// Run clippy with warnings as errors on every Rust workspace, and go vet on every Go module
    Lint,
    /// Merge the report.json of each part of a split run (`--partition hash:K/N`) into one report and its page; fails if a part or a trial is missing or given twice
    MergeReports {
        /// The parts' report.json files, one per part
        #[arg(required = true, value_name = "REPORT")]
        reports: Vec<std::path::PathBuf>,
        /// Where the merged report.json and index.html go [default: target/conformance]
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
        /// Check the merged page in headless Chromium too (required under CI=true)
        #[arg(long)]
        check_page: bool,
    },
    /// Benchmark every host on every plugin and the conformance loop, then write docs/performance.md and its chart
    BenchReport {
        /// Write the page from the last run's results in target/bench/ without measuring again
        #[arg(long)]
        no_run: bool,
    },
    /// Run any plugin on every host and compare the outcomes (`matrix call --help`)
    #[command(subcommand)]
    Matrix(Matrix),
}

#[derive(clap::Args)]
struct Languages {
    /// Only these languages (repeat or comma-separate): each must build. By default every
    /// language, skipping those whose toolchain is missing (an error under CI=true)
    #[arg(long = "lang", value_name = "LANG", value_delimiter = ',', value_parser = Language::from_name)]
    languages: Vec<&'static Language>,
}

impl Languages {
    /// Builds the selected languages; a language named with `--lang` must not be skipped.
    fn build(&self, sh: &Shell) -> anyhow::Result<Outcomes<Language>> {
        if self.languages.is_empty() {
            build_plugins(sh, &all(LANGUAGES))
        } else {
            let plugins = build_plugins(sh, &self.languages)?;
            plugins.require_all()?;
            Ok(plugins)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Help goes out whole; a usage error is one line and status 2.
fn usage_error(error: clap::Error) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = error.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(2)
        }
        _ => {
            eprintln!("{}", xtask::usage_line(&error));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match cli.command {
        Command::BuildPlugins(languages) => {
            languages.build(&sh)?;
        }
        Command::BuildHosts => {
            xtask::build_hosts(&sh, &all(HOSTS))?;
        }
        Command::BuildHostile => {
            xtask::build_hostile_plugins(&sh, &all(HOSTILE))?;
        }
        Command::Demo(languages) => xtask::demo(&sh, &languages.build(&sh)?.ready)?,
        Command::Setup => xtask::setup(&sh)?,
        Command::Doctor => xtask::doctor(&sh)?,
        Command::Fmt { check } => xtask::fmt(&sh, check)?,
        Command::Lint => xtask::lint(&sh)?,
        Command::BenchReport { no_run } => xtask::bench_report(&sh, !no_run)?,
        Command::Matrix(matrix) => return Ok(matrix.run(&sh)),
        Command::MergeReports {
            reports,
            out,
            check_page,
        } => {
            let out = match out {
                Some(out) => std::path::absolute(out)?,
                None => project_root().join("target/conformance"),
            };
            let published = xtask::results::merge_reports(&reports, &out)?;
            println!(
                "merged {} parts: {} ({} KB)",
                reports.len(),
                published.page.display(),
                published.page_bytes / 1024
            );
            if check_page {
                if let Some(line) = xtask::results::check_page(&sh, &out, true)? {
                    println!("{line}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
