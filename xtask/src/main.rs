//! `cargo xtask`: the workspace's build tasks. See `cargo xtask --help`.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use xshell::{cmd, Shell};
use xtask::{build_hosts, build_plugins, project_root, Host, Language, Plugins};

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
    /// Build the hosts that are programs of their own (host-go) into target/hosts/<host>/
    BuildHosts,
    /// Build the hostile test plugins of plugins-hostile/ into target/hostile/<lang>/ (skipped when nothing changed)
    BuildHostile,
    /// Build the plugins, then run the seed's `say_hello` call for each, on every host
    Demo(Languages),
    /// Install the toolchains this machine can install by itself (TinyGo, on Debian), then run doctor
    Setup,
    /// List every toolchain the workspace uses: found or missing, version, required or optional, fix
    Doctor,
    /// Format the Rust workspaces and the Go modules (plugins-go, host-go)
    Fmt {
        /// Only report unformatted code, change nothing
        #[arg(long)]
        check: bool,
    },
    /// Run clippy with warnings as errors on the Rust workspaces, and go vet on the Go modules
    Lint,
    /// Benchmark both hosts on every plugin and the conformance loop, then write docs/performance.md and its chart
    BenchReport {
        /// Write the page from the last run's results in target/bench/ without measuring again
        #[arg(long)]
        no_run: bool,
    },
}

#[derive(clap::Args)]
struct Languages {
    /// Only these languages (repeat or comma-separate): each must build. By default every
    /// language, skipping those whose toolchain is missing (an error under CI=true for a
    /// required language)
    #[arg(long = "lang", value_name = "LANG", value_delimiter = ',', value_parser = Language::from_name)]
    languages: Vec<Language>,
}

impl Languages {
    /// Builds the selected languages; a language named with `--lang` must not be skipped.
    fn build(&self, sh: &Shell) -> anyhow::Result<Plugins> {
        if self.languages.is_empty() {
            build_plugins(sh, Language::ALL)
        } else {
            let plugins = build_plugins(sh, &self.languages)?;
            plugins.require_all()?;
            Ok(plugins)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    match cli.command {
        Command::BuildPlugins(languages) => {
            languages.build(&sh)?;
        }
        Command::BuildHosts => {
            build_hosts(&sh, Host::ALL)?;
        }
        Command::BuildHostile => {
            xtask::build_hostile_plugins(&sh)?;
        }
        Command::Demo(languages) => demo(&sh, &languages)?,
        Command::Setup => xtask::setup(&sh)?,
        Command::Doctor => xtask::doctor(&sh)?,
        Command::Fmt { check } => xtask::fmt(&sh, check)?,
        Command::Lint => xtask::lint(&sh)?,
        Command::BenchReport { no_run } => xtask::bench_report(&sh, !no_run)?,
    }
    Ok(())
}

/// The seed's call through every built plugin, on the Rust host and then on every other host.
fn demo(sh: &Shell, languages: &Languages) -> anyhow::Result<()> {
    let built = languages.build(sh)?.built;
    if built.is_empty() {
        anyhow::bail!("no plugin was built, so there is nothing to demo");
    }
    let hosts = build_hosts(sh, Host::ALL)?;
    let root = project_root();
    for program in &hosts.ready {
        let host = program.host;
        let plugins: Vec<String> = built
            .iter()
            .map(|(artifact, _)| {
                let wasm = artifact.wasm.strip_prefix(&root).unwrap_or(&artifact.wasm);
                format!("{} on {host}={}", artifact.language, wasm.display())
            })
            .collect();
        match &program.program {
            None => {
                let cargo = xtask::cargo();
                cmd!(
                    sh,
                    "{cargo} run --quiet --package host --bin host -- demo {plugins...}"
                )
                .run()
            }
            Some(program) => cmd!(sh, "{program} demo {plugins...}").run(),
        }
        .with_context(|| format!("the demo on {host} failed"))?;
    }
    Ok(())
}
