//! `cargo xtask`: the workspace's build tasks. See `cargo xtask --help`.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use xshell::{cmd, Shell};
use xtask::{build_plugins, project_root, Language};

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
    /// Build the plugins, then run the seed's `say_hello` call through the Rust host for each
    Demo(Languages),
    /// Format the host workspace and plugins-rust
    Fmt {
        /// Only report unformatted code, change nothing
        #[arg(long)]
        check: bool,
    },
    /// Run clippy with warnings as errors on the host workspace and plugins-rust
    Lint,
}

#[derive(clap::Args)]
struct Languages {
    /// Only these languages (repeat or comma-separate); all of them by default
    #[arg(long = "lang", value_name = "LANG", value_delimiter = ',', value_parser = Language::from_name)]
    languages: Vec<Language>,
}

impl Languages {
    fn selected(&self) -> Vec<Language> {
        if self.languages.is_empty() {
            Language::ALL.to_vec()
        } else {
            self.languages.clone()
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
            build_plugins(&sh, &languages.selected())?;
        }
        Command::Demo(languages) => {
            let built = build_plugins(&sh, &languages.selected())?;
            let root = project_root();
            let plugins: Vec<String> = built
                .iter()
                .map(|(artifact, _)| {
                    let wasm = artifact.wasm.strip_prefix(&root).unwrap_or(&artifact.wasm);
                    format!("{}={}", artifact.language, wasm.display())
                })
                .collect();
            let cargo = xtask::cargo();
            cmd!(
                sh,
                "{cargo} run --package host --bin host -- demo {plugins...}"
            )
            .run()
            .context("the demo failed")?;
        }
        Command::Fmt { check } => xtask::fmt(&sh, check)?,
        Command::Lint => xtask::lint(&sh)?,
    }
    Ok(())
}
