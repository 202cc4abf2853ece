//! Which hosts `matrix call` asks, and how each starts: the table's hosts, built first as
//! `cargo test` builds them (the same functions) unless `--no-build`, and the protocol hosts
//! given with `--host`, run with `sh -c`. A table host that cannot be built is named with why:
//! skipped, or counted as a host that could not be asked when it was named with `--hosts` (or
//! its build failed, or it is required under CI=true).

use std::path::{Path, PathBuf};

use suite::launch::Command;
use xshell::{cmd, Shell};

use crate::build::{build_hosts, load, probe_toolchains, Outcomes};
use crate::matrix::exit::{Exit, Fatal};
use crate::project_root;
use crate::table::{Host, HOSTS};

/// A host to ask: one of the table's, or a command given with `--host`.
pub struct Chosen {
    pub name: String,
    from: Source,
}

enum Source {
    Table(&'static Host),
    Given(String),
}

/// A host ready to start: the complete command of its `serve`.
pub struct Ready {
    pub name: String,
    pub command: Command,
}

/// The hosts that will be asked, and the others with why they will not be.
#[derive(Default)]
pub struct Lineup {
    pub ready: Vec<Ready>,
    /// Left out because this machine cannot build them (a missing toolchain): named, not failed.
    pub skipped: Vec<(String, String)>,
    /// Wanted but not runnable: named with `--hosts`, a failed build, or required under CI.
    pub failed: Vec<(String, String)>,
}

/// The table's hosts `--hosts` names, or else all of them, in the table's order; then every
/// `--host`, which is asked whether `--hosts` names it or not. A `--host` name must be new and
/// given once.
pub fn choose(only: &[String], given: &[(String, String)]) -> Result<Vec<Chosen>, Fatal> {
    let usage = |message: String| Fatal::new(Exit::Usage, message);
    for (index, (name, _)) in given.iter().enumerate() {
        if Host::from_name(name).is_ok() {
            return Err(usage(format!(
                "--host {name}: the table has a host of that name; give yours another"
            )));
        }
        if given[..index].iter().any(|(other, _)| other == name) {
            return Err(usage(format!("--host {name}: given twice")));
        }
    }
    let table = HOSTS.iter().map(|host| Chosen {
        name: host.name().to_owned(),
        from: Source::Table(host),
    });
    let mut all: Vec<Option<Chosen>> = table
        .chain(given.iter().map(|(name, command)| Chosen {
            name: name.clone(),
            from: Source::Given(command.clone()),
        }))
        .map(Some)
        .collect();
    if only.is_empty() {
        return Ok(all.into_iter().flatten().collect());
    }
    let known: Vec<String> = all.iter().flatten().map(|c| c.name.clone()).collect();
    let mut chosen = Vec::new();
    for name in only {
        match known.iter().position(|known| known == name) {
            // Named twice: asked once.
            Some(at) => chosen.extend(all[at].take()),
            None => {
                let known = known.join(", ");
                return Err(usage(format!(
                    "--hosts: unknown host `{name}`; known: {known}"
                )));
            }
        }
    }
    // A host given with --host is asked whether or not --hosts names it: it was asked for.
    chosen.extend(all.into_iter().skip(HOSTS.len()).flatten());
    Ok(chosen)
}

/// Why a table host has no artifact to run.
enum Unbuilt {
    /// This machine cannot build it (a missing toolchain), or it was never built.
    Skipped(String),
    /// Its build failed.
    Failed(String),
}

/// Builds the table's hosts among `chosen` (unless `build` is false: then their last builds are
/// used) and says how each host starts. `named`: the hosts were named with `--hosts`, so one
/// that cannot run is a failure rather than a skip.
pub fn prepare(sh: &Shell, chosen: Vec<Chosen>, build: bool, named: bool) -> Lineup {
    let table: Vec<&'static Host> = chosen
        .iter()
        .filter_map(|host| match host.from {
            Source::Table(entry) => Some(entry),
            Source::Given(_) => None,
        })
        .collect();
    let mut artifacts = match (build, table.is_empty()) {
        (_, true) => Vec::new(),
        (true, false) => built(sh, &table),
        (false, false) => last_built(&table),
    };
    let root = project_root();
    let mut lineup = Lineup::default();
    for Chosen { name, from } in chosen {
        let entry = match from {
            Source::Given(line) => {
                let args = vec!["-c".to_owned(), line];
                let command = Command {
                    program: "sh".into(),
                    args,
                    env: Vec::new(),
                };
                lineup.ready.push(Ready { name, command });
                continue;
            }
            Source::Table(entry) => entry,
        };
        let at = artifacts.iter().position(|(built, _)| *built == entry);
        let artifact = at.map(|at| artifacts.swap_remove(at).1);
        let artifact = artifact.unwrap_or(Err(Unbuilt::Failed("not built".to_owned())));
        match artifact {
            Ok(path) => {
                let command = serve(entry, &root, &path);
                lineup.ready.push(Ready { name, command });
            }
            Err(Unbuilt::Skipped(why)) if !named => lineup.skipped.push((name, why)),
            Err(Unbuilt::Skipped(why) | Unbuilt::Failed(why)) => lineup.failed.push((name, why)),
        }
    }
    lineup
}

/// The command of `host`'s `serve`, with `artifact` its build. The in-process host is run as
/// its built binary, not as the table's `cargo run`: cargo's start-up (and its wait for the
/// build directory's lock while another build runs) would be most of its time.
fn serve(host: &Host, root: &Path, artifact: &Path) -> Command {
    if host.in_process {
        return Command {
            program: artifact.to_owned(),
            args: vec!["serve".to_owned()],
            env: Vec::new(),
        };
    }
    host.launch(root, artifact, &["serve"])
}

type Artifacts = Vec<(&'static Host, Result<PathBuf, Unbuilt>)>;

/// Builds the hosts of `table` that are stale, as `cargo test` does: all together, and when
/// that fails, each alone, so that one failing build leaves the others to run.
fn built(sh: &Shell, table: &[&'static Host]) -> Artifacts {
    let builds: Vec<_> = table.iter().map(|host| &host.build).collect();
    probe_toolchains(sh, &builds);
    let mut artifacts = match build_hosts(sh, table) {
        Ok(outcomes) => artifacts(outcomes),
        Err(error) => {
            let error = one_line(&format!("{error:#}"));
            eprintln!("matrix: building the hosts failed ({error}); building each alone");
            let mut artifacts = Vec::new();
            for &host in table {
                match build_hosts(sh, &[host]) {
                    Ok(outcomes) => artifacts.extend(self::artifacts(outcomes)),
                    Err(error) => {
                        let why = one_line(&format!("{error:#}"));
                        artifacts.push((host, Err(Unbuilt::Failed(why))));
                    }
                }
            }
            artifacts
        }
    };
    // The table leaves the in-process host to cargo, which builds its binary here.
    for (host, artifact) in &mut artifacts {
        if host.in_process && artifact.is_ok() {
            if let Err(why) = build_host_binary(sh) {
                *artifact = Err(Unbuilt::Failed(why));
            }
        }
    }
    artifacts
}

fn artifacts(outcomes: Outcomes<Host>) -> Artifacts {
    let ready = outcomes
        .ready
        .into_iter()
        .map(|(host, a)| (host, Ok(a.path)));
    let skipped = outcomes.skipped.into_iter();
    ready
        .chain(skipped.map(|(host, why)| (host, Err(Unbuilt::Skipped(why)))))
        .collect()
}

/// `cargo build` of the `host` binary, whose `serve` is the in-process host's protocol host.
fn build_host_binary(sh: &Shell) -> Result<(), String> {
    let cargo = crate::cargo();
    let _root = sh.push_dir(project_root());
    cmd!(sh, "{cargo} build --quiet --package host --bin host")
        .run()
        .map_err(|error| one_line(&format!("cargo build of the host binary failed: {error}")))
}

/// The hosts of `table` as last built, without building: one never built is skipped.
fn last_built(table: &[&'static Host]) -> Artifacts {
    let root = project_root();
    let path = |host: &Host| {
        let built = match host.in_process {
            true => Some(root.join(host.build.output)).filter(|path| path.is_file()),
            false => load(&host.build).map(|artifact| artifact.path),
        };
        built.ok_or_else(|| {
            let build = match host.in_process {
                true => "cargo build -p host",
                false => "cargo xtask build-hosts",
            };
            Unbuilt::Skipped(format!(
                "not built (run `{build}`, or leave out --no-build)"
            ))
        })
    };
    table.iter().map(|&host| (host, path(host))).collect()
}

/// `text` on one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
