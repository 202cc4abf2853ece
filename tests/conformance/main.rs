//! The cross-language, cross-host conformance run, in one executable: every case in
//! `tests/cases/` against the plugin of every language on every host, each one trial named
//! `<case>::<language>@<host>`, sharing one snapshot per case in `tests/snapshots/`, so a plugin
//! or a host that diverges fails with a diff. Beside them, sharing the same modules and host
//! pools: each language's surface, the orphan check, the property test, the fuzz of the
//! `hostMemoryGet` boundary on each host, each protocol host's own protocol trials and each
//! host's unit tests. At the end it prints a table of the case results and writes them to
//! `target/conformance/`.

mod attacks;
mod fuzz;
mod in_process;
mod property;
mod protocol_trials;
mod recorded;
mod snapshots;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use conformance::abi;
use conformance::case;
use conformance::driver::{Driver, ProtocolHost};
use conformance::findings::Findings;
use conformance::known::KnownFailures;
use conformance::partition;
use conformance::report::{self, Divergence, Listed, Record, Report};
use conformance::reuse::{self, Kept, Key, Policy, Store};
use conformance::verdict::Verdict;
use libtest_mimic::{Arguments, Completion, Trial};
use xtask::{
    all, build_hostile_plugins, build_hosts, build_plugins, project_root, Buildable, Host,
    Language, HOSTILE, HOSTS, LANGUAGES,
};

use crate::snapshots::{ORPHAN_TRIAL, SURFACE_TRIAL};

/// Where the results go, relative to the project root.
const REPORT_DIR: &str = "target/conformance";

/// `--list` and the run must name the same trials, so both take their names from here.
fn trial_name(case: &str, language: &Language, host: &Host) -> String {
    format!("{case}::{}", report::subject(language.name(), host.name()))
}

fn main() -> ExitCode {
    let mut raw: Vec<String> = std::env::args().collect();
    let partition = match partition::take(&mut raw) {
        Ok(partition) => partition,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let run_all = suite::run_all::take_flag(&mut raw);
    let args = Arguments::from_iter(raw);
    // Only this part's trials, in `--list` as in the run (the setup is the same for every part).
    let in_part = |trials: Vec<Trial>| -> Vec<Trial> {
        match partition {
            Some(partition) => trials
                .into_iter()
                .filter(|trial| partition.contains(trial.name()))
                .collect(),
            None => trials,
        }
    };
    // insta reports a mismatch by panicking after it printed the diff; a backtrace would bury it.
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    let root = project_root();
    if args.list {
        // Listing must stay cheap: name the trials without building anything.
        return libtest_mimic::run(&args, in_part(list_only(&root))).exit_code();
    }
    let policy = Policy::decide(
        xtask::in_ci(),
        std::env::var(reuse::RUN_ALL_ENV).ok().as_deref(),
        run_all,
        args.filter.is_some(),
    );
    let store = Arc::new(Store::load(&root, policy.clone()));
    let (trials, report) = match prepare(&root, threads(&args), &store) {
        Ok(prepared) => prepared,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let conclusion = libtest_mimic::run(&args, in_part(trials));
    let mut report =
        std::mem::take(&mut *report.lock().unwrap_or_else(|poison| poison.into_inner()));
    report.partition = partition.map(|partition| partition.to_string());
    report.others = recorded::take();
    report.reuse = policy.run_all();
    // The next run reuses what this one found; a store that cannot be written costs only that.
    if let Err(error) = store.save() {
        eprintln!("warning: {error:#}");
    }
    // Every trial that ran is in the report, or the page and a merge would miss it silently.
    let ran = conclusion.num_passed + conclusion.num_failed + conclusion.num_ignored;
    let recorded = report.records.len() + report.attacks.len() + report.others.len();
    if ran != recorded as u64 {
        eprintln!(
            "error: {ran} trials ran but the report holds {recorded}: a trial does not record its \
             verdict (make it with tests/conformance/recorded.rs)"
        );
        return ExitCode::FAILURE;
    }
    if let Err(error) = write_report(&root, &mut report) {
        eprintln!("error: {error:#}");
        return ExitCode::FAILURE;
    }
    conclusion.exit_code()
}

/// How many trials run at once: one child per protocol host per thread.
fn threads(args: &Arguments) -> usize {
    args.test_threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Where a language stands once the build is done.
pub enum Subject {
    /// Its module, on file for every host.
    Ready(PathBuf),
    /// Its toolchain is missing: its trials are reported as ignored, with this reason.
    Skipped(String),
    /// Its module breaks the contract's ABI: its trials fail with these violations, and none
    /// of its exports is ever called.
    Broken(String),
}

/// A host that could be built, behind its driver; or why its trials are ignored.
pub type HostDriver = Result<Arc<dyn Driver>, String>;

/// Builds stale plugins and hosts (the same code as `cargo xtask build-plugins` and
/// `build-hosts`), lints each language's module once, and makes the trials. A language or host
/// whose toolchain is missing still gets its trials, reported as ignored with the reason, so a
/// skip is never silent. Each case trial adds its verdict to the report.
fn prepare(
    root: &Path,
    threads: usize,
    store: &Arc<Store>,
) -> anyhow::Result<(Vec<Trial>, Arc<Mutex<Report>>)> {
    let sh = xshell::Shell::new()?;
    // One round of probes for the plugins, the hosts and the hostile plugins built below.
    let builds = LANGUAGES
        .iter()
        .map(|l| l.build())
        .chain(HOSTS.iter().map(|h| h.build()));
    let builds: Vec<_> = builds.chain(HOSTILE.iter().map(|h| h.build())).collect();
    xtask::probe_toolchains(&sh, &builds);
    let built = build_plugins(&sh, &all(LANGUAGES))?;
    let hosts = build_hosts(&sh, &all(HOSTS))?;
    let mut report = Report::default();
    for host in HOSTS {
        for language in LANGUAGES {
            report
                .columns
                .push(report::subject(language.name(), host.name()));
        }
    }
    let mut subjects: Vec<(&'static Language, Subject)> = Vec::new();
    let mut trials = Vec::new();
    // What a verdict depends on, besides the harness (crate::reuse): each module's bytes, and
    // each host's build.
    let mut identities = Identities::default();
    for (language, artifact) in &built.ready {
        eprintln!("conformance: {language} built by {}", artifact.toolchain);
        report
            .toolchains
            .insert(language.name().to_owned(), artifact.toolchain.clone());
        let wasm = std::fs::read(&artifact.path)
            .with_context(|| format!("{language}: cannot read {}", artifact.path.display()))?;
        identities
            .modules
            .insert(language.name(), reuse::sha256(&wasm));
        let surface = abi::Surface::read(&wasm)
            .with_context(|| format!("{language}: {}", artifact.path.display()))?;
        let violations = surface.violations();
        trials.push(snapshots::surface_trial(language, surface));
        if !violations.is_empty() {
            for violation in &violations {
                eprintln!("conformance: {language} breaks the ABI: {violation}");
            }
            let why = format!(
                "{language}: the ABI lint failed, so nothing was called: {}",
                violations.join("; ")
            );
            subjects.push((language, Subject::Broken(why)));
            continue;
        }
        subjects.push((language, Subject::Ready(artifact.path.clone())));
    }
    for (language, reason) in &built.skipped {
        eprintln!("conformance: {language} SKIPPED: {reason}");
        report
            .toolchains
            .insert(language.name().to_owned(), format!("skipped: {reason}"));
        let why = format!("{language} toolchain missing: see `cargo xtask doctor`");
        let surface_why = why.clone();
        trials.push(recorded::ignorable(
            format!("{SURFACE_TRIAL}::{language}"),
            move || Ok(Completion::ignored_with(surface_why)),
        ));
        subjects.push((language, Subject::Skipped(why)));
    }
    subjects.sort_by_key(|(language, _)| LANGUAGES.iter().position(|l| l == *language));

    let mut drivers: Vec<(&'static Host, HostDriver)> = Vec::new();
    for (host, artifact) in &hosts.ready {
        // A host is its SDK and engine first; the toolchain that built it says less.
        let described = format!("{} (built by {})", host.runtime, artifact.toolchain);
        eprintln!("conformance: {host}: {described}");
        report.toolchains.insert(host.name().to_owned(), described);
        identities
            .hosts
            .insert(host.name(), host_identity(host, artifact)?);
        identities
            .sources
            .insert(host.name(), artifact.fingerprint.clone());
        drivers.push((host, Ok(driver(root, host, &artifact.path, threads))));
    }
    for (host, reason) in &hosts.skipped {
        eprintln!("conformance: {host} SKIPPED: {reason}");
        report
            .toolchains
            .insert(host.name().to_owned(), format!("skipped: {reason}"));
        let why = format!("{host} toolchain missing: see `cargo xtask doctor`");
        drivers.push((host, Err(why)));
    }
    drivers.sort_by_key(|(host, _)| HOSTS.iter().position(|h| h == *host));

    let catalogue = case::catalogue(root)?;
    let names: Vec<String> = catalogue.iter().map(|entry| entry.name.clone()).collect();
    let host_names: Vec<&str> = HOSTS.iter().map(|h| h.name()).collect();
    let language_names: Vec<&str> = LANGUAGES.iter().map(|l| l.name()).collect();
    let hostile_names: Vec<&str> = HOSTILE.iter().map(|h| h.name()).collect();
    let known = KnownFailures::load(root, &host_names, &language_names, &hostile_names, &names)?;
    let findings = Findings::load(root)?;
    trials.push(snapshots::orphan_snapshots(root, &names));
    trials.push(partitions_trial(root));
    let known_text = std::fs::read(root.join(conformance::known::KNOWN_FAILURES_FILE))
        .with_context(|| format!("cannot read {}", conformance::known::KNOWN_FAILURES_FILE))?;
    let property_key = identities
        .everything(Key::new("property"))
        .part("known-failures", &known_text)
        .part(
            "cases",
            std::env::var("PROPERTY_CASES")
                .unwrap_or_default()
                .as_bytes(),
        )
        .finish();
    trials.push(property::trial(
        &subjects,
        &drivers,
        &known,
        Some((Arc::clone(store), property_key)),
    ));
    for (host, driver) in &drivers {
        let listed = known.fuzz_reason(host.name());
        let key = identities.host(Key::new("fuzz"), host).map(|key| {
            key.file(root, fuzz::CORPUS)
                .part("known", listed.unwrap_or_default().as_bytes())
                .part(
                    "seconds",
                    std::env::var("FUZZ_SECONDS").unwrap_or_default().as_bytes(),
                )
                .finish()
        });
        trials.push(fuzz::trial(
            root,
            host,
            driver.clone(),
            listed.map(str::to_owned),
            key.map(|key| (Arc::clone(store), key)),
        )?);
    }
    for (host, artifact) in &hosts.ready {
        // The protocol trials use a module of their own, in the harness.
        let key = identities.host(Key::new("protocol"), host);
        let reuse = key.map(|key| (Arc::clone(store), key.finish()));
        if !host.in_process {
            trials.extend(protocol_trials::trials(root, host, &artifact.path, reuse));
        }
        // A host's unit tests are in its sources and read the built plugins (target/plugins/).
        let key = identities.host(Key::new("unit_tests"), host);
        let key = key.and_then(|key| identities.sources(key, host));
        let reuse = key.map(|key| (Arc::clone(store), identities.everything(key).finish()));
        if let Some(unit_tests) = &host.unit_tests {
            trials.push(unit_tests_trial(
                root,
                host,
                unit_tests,
                &artifact.path,
                reuse,
            ));
        }
    }
    for (host, reason) in &hosts.skipped {
        for name in side_trial_names(host) {
            let reason = reason.clone();
            trials.push(recorded::ignorable(name, move || {
                Ok(Completion::ignored_with(reason))
            }));
        }
    }

    let report = Arc::new(Mutex::new(report));
    attack_trials(
        root,
        &sh,
        &subjects,
        &hosts,
        (&known, &findings),
        (&identities, store),
        &report,
        &mut trials,
    )?;
    for entry in catalogue {
        let name = entry.name.clone();
        // A malformed case fails its own trials and leaves the others running.
        let case = Arc::new(case::load(root, &entry).map_err(|error| format!("{error:#}")));
        for (host, driver) in &drivers {
            for (language, subject) in &subjects {
                let (host, language) = (*host, *language);
                let trial = trial_name(&name, language, host);
                let subject_name = report::subject(language.name(), host.name());
                let known = known
                    .reason(host.name(), language.name(), &name)
                    .map(str::to_owned);
                let finding = known.as_ref().and_then(|_| {
                    let found = findings.for_trial(&name, host.name(), &host_names);
                    found.map(|(heading, _)| heading.to_owned())
                });
                let (case, report) = (Arc::clone(&case), Arc::clone(&report));
                // The case file and its snapshot, on this host, with this module.
                let key = identities
                    .pair(Key::new("case"), host, language)
                    .map(|key| {
                        key.file(
                            root,
                            &format!("{}/{}/{name}.toml", case::CASES_DIR, entry.group),
                        )
                        .file(root, &format!("{}/{name}.snap", snapshots::SNAPSHOTS_DIR))
                        .finish()
                    });
                let kept = key
                    .as_ref()
                    .and_then(|key| store.reusable_judged(&trial, key, known.as_deref()));
                let reused = kept.is_some();
                type Run = Box<dyn FnOnce() -> (Verdict, Option<Divergence>, u64) + Send>;
                let run: Run = match (driver, subject, kept) {
                    (_, _, Some(kept)) => {
                        let known = known.clone();
                        Box::new(move || {
                            let verdict = Verdict::judge(kept.result(), known.as_deref());
                            (verdict, kept.divergence(), kept.millis)
                        })
                    }
                    (Err(why), _, None) | (_, Subject::Skipped(why), None) => {
                        let why = why.clone();
                        Box::new(move || (Verdict::Skip(why), None, 0))
                    }
                    (Ok(driver), Subject::Ready(wasm), None) => {
                        let (driver, wasm) = (Arc::clone(driver), wasm.clone());
                        let subject_name = subject_name.clone();
                        let (store, trial) = (Arc::clone(store), trial.clone());
                        Box::new(move || {
                            let started = std::time::Instant::now();
                            let result = match case.as_ref() {
                                Ok(case) => {
                                    snapshots::check(case, &subject_name, driver.as_ref(), &wasm)
                                }
                                Err(error) => Err(error.clone().into()),
                            };
                            let (result, divergence) = match result {
                                Ok(()) => (Ok(()), None),
                                Err(mismatch) => (Err(mismatch.message), mismatch.divergence),
                            };
                            let millis = started.elapsed().as_millis() as u64;
                            if let Some(key) = key {
                                let kept =
                                    Kept::of(key, &result, divergence.as_ref(), None, millis);
                                store.keep(&trial, kept);
                            }
                            (Verdict::judge(result, known.as_deref()), divergence, millis)
                        })
                    }
                    (Ok(_), Subject::Broken(why), None) => {
                        let why = why.clone();
                        Box::new(move || (Verdict::judge(Err(why), known.as_deref()), None, 0))
                    }
                };
                let (case_name, group, rerun) =
                    (name.clone(), entry.group.clone(), rerun_command(&trial));
                let trial_name = trial.clone();
                trials.push(Trial::ignorable_test(trial, move || {
                    let (verdict, divergence, millis) = run();
                    let outcome = match &verdict {
                        Verdict::Pass => Ok(Completion::Completed),
                        Verdict::Skip(why) => Ok(Completion::ignored_with(why)),
                        Verdict::XFail(reason) => Ok(Completion::ignored_with(format!(
                            "{}{reason}",
                            recorded::KNOWN_FAILURE
                        ))),
                        Verdict::Fail(message) => Err(format!("{message}\nrerun: {rerun}").into()),
                        Verdict::XPass(reason) => Err(format!(
                            "{subject_name} passes, but {} lists it as a known failure \
                             ({reason}): remove the entry\nrerun: {rerun}",
                            conformance::known::KNOWN_FAILURES_FILE
                        )
                        .into()),
                    };
                    report
                        .lock()
                        .unwrap_or_else(|poison| poison.into_inner())
                        .records
                        .push(Record {
                            trial: trial_name,
                            case: case_name,
                            group,
                            language: language.name().to_owned(),
                            host: host.name().to_owned(),
                            verdict,
                            millis,
                            divergence,
                            finding,
                            reused,
                        });
                    outcome
                }));
            }
        }
    }
    Ok((trials, report))
}

/// What the verdicts of a run depend on besides the harness and the trial's own files: the
/// SHA-256 of each language's module and each host's build, by name. A module or host missing
/// here (not built, or broken) makes no key, so its trials always run.
#[derive(Default)]
pub struct Identities {
    modules: std::collections::BTreeMap<&'static str, String>,
    hosts: std::collections::BTreeMap<&'static str, String>,
    /// Each host's build fingerprint (its sources, tests too, and toolchain), for the trials
    /// that run its sources rather than its program: its unit tests.
    sources: std::collections::BTreeMap<&'static str, String>,
}

impl Identities {
    fn sources(&self, key: Key, host: &Host) -> Option<Key> {
        Some(key.part("sources", self.sources.get(host.name())?.as_bytes()))
    }

    pub fn host(&self, key: Key, host: &Host) -> Option<Key> {
        let identity = self.hosts.get(host.name())?;
        Some(
            key.part("host", host.name().as_bytes())
                .part("build", identity.as_bytes()),
        )
    }

    pub fn module(&self, key: Key, label: &str, language: &str) -> Option<Key> {
        Some(key.part(label, self.modules.get(language)?.as_bytes()))
    }

    fn pair(&self, key: Key, host: &Host, language: &Language) -> Option<Key> {
        self.module(self.host(key, host)?, "module", language.name())
    }

    /// Every module and host of the run: for the trials that use them all.
    fn everything(&self, mut key: Key) -> Key {
        for (name, identity) in self.modules.iter().chain(&self.hosts) {
            key = key.part(name, identity.as_bytes());
        }
        key
    }
}

/// The in-process Rust host is the code this executable was built from; a self-contained
/// protocol host is its program's bytes; any other protocol host is its build's fingerprint
/// (sources and toolchain), since it runs its sources.
fn host_identity(host: &Host, artifact: &xtask::Artifact) -> anyhow::Result<String> {
    if host.in_process {
        Ok(format!(
            "{} {}",
            reuse::RUST_HOST_HASH,
            artifact.fingerprint
        ))
    } else if host.self_contained {
        let program = std::fs::read(&artifact.path)
            .with_context(|| format!("{host}: cannot read {}", artifact.path.display()))?;
        Ok(format!("program {}", reuse::sha256(&program)))
    } else {
        Ok(artifact.fingerprint.clone())
    }
}

/// The hostile plugins' attacks on every host, each host with a driver of its own (one child for
/// a protocol host, so the honest call after an attack meets the process that met the attack).
#[allow(clippy::too_many_arguments)]
fn attack_trials(
    root: &Path,
    sh: &xshell::Shell,
    subjects: &[(&'static Language, Subject)],
    hosts: &xtask::Outcomes<Host>,
    (known, findings): (&KnownFailures, &Findings),
    (identities, store): (&Identities, &Arc<Store>),
    report: &Arc<Mutex<Report>>,
    trials: &mut Vec<Trial>,
) -> anyhow::Result<()> {
    let built = build_hostile_plugins(sh, &all(HOSTILE))?;
    let mut hostile: Vec<(&'static xtask::Hostile, Result<PathBuf, String>)> = Vec::new();
    let mut hostile_modules = std::collections::BTreeMap::new();
    for (language, artifact) in &built.ready {
        let wasm = std::fs::read(&artifact.path).with_context(|| {
            format!(
                "hostile {language}: cannot read {}",
                artifact.path.display()
            )
        })?;
        hostile_modules.insert(language.name(), reuse::sha256(&wasm));
        hostile.push((language, Ok(artifact.path.clone())));
    }
    for (language, reason) in &built.skipped {
        hostile.push((
            language,
            Err(format!("hostile {language} not built: {reason}")),
        ));
    }
    hostile.sort_by_key(|(language, _)| HOSTILE.iter().position(|h| h == *language));
    let honest = match subjects
        .iter()
        .find(|(language, _)| language.name() == "rust")
    {
        Some((_, Subject::Ready(wasm))) => Ok(wasm.clone()),
        _ => Err("the honest rust plugin is not ready".to_owned()),
    };
    for (host, artifact) in &hosts.ready {
        // An attack's verdict depends on its host, the hostile module and the honest one.
        let key = |attack: &str, language: &str| {
            let key = identities.host(Key::new("attack"), host)?;
            let key = identities.module(key, "honest", "rust")?;
            let hostile = hostile_modules.get(language)?;
            let snapshot = format!("{}/{attack}.snap", attacks::SNAPSHOTS_DIR);
            Some(
                key.part("attack", attack.as_bytes())
                    .part("hostile", hostile.as_bytes())
                    .file(root, &snapshot)
                    .finish(),
            )
        };
        trials.extend(attacks::trials(
            host,
            Ok(driver(root, host, &artifact.path, 1)),
            &hostile,
            &honest,
            (known, findings),
            (store, &key),
            report,
        ));
    }
    Ok(())
}

/// The driver of a built host: the Rust host in this process, or a pool of up to `size` children
/// of a protocol host.
fn driver(root: &Path, host: &Host, artifact: &Path, size: usize) -> Arc<dyn Driver> {
    if host.in_process {
        Arc::new(in_process::InProcess::new())
    } else {
        Arc::new(protocol_host(root, host, artifact, size))
    }
}

/// The client of a host that speaks docs/protocol.md, started as its table entry says.
pub fn protocol_host(root: &Path, host: &Host, artifact: &Path, size: usize) -> ProtocolHost {
    let (program, args) = host.command.resolve(root, artifact);
    let env = host
        .command
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ProtocolHost::new(host.name(), program, args, env, size)
}

/// The trials of a host that are not case trials, by name, for `--list` and for a skipped host.
fn side_trial_names(host: &Host) -> Vec<String> {
    let mut names = vec![fuzz::trial_name(host)];
    names.extend(attacks::trial_names(host));
    if !host.in_process {
        names.extend(protocol_trials::trial_names(host));
    }
    if host.unit_tests.is_some() {
        names.push(unit_tests_name(host));
    }
    names
}

fn unit_tests_name(host: &Host) -> String {
    format!("unit_tests::{host}")
}

/// The host's own unit tests (`go test ./...` for the Go host), run in its source directory.
fn unit_tests_trial(
    root: &Path,
    host: &'static Host,
    unit_tests: &'static xtask::Launch,
    artifact: &Path,
    reuse: Option<(Arc<Store>, String)>,
) -> Trial {
    let (program, args) = unit_tests.resolve(root, artifact);
    let dir = root.join(host.build.source_dir);
    recorded::reusable_test(unit_tests_name(host), reuse, move || {
        let output = std::process::Command::new(&program)
            .args(&args)
            .envs(unit_tests.env.iter().copied())
            .current_dir(&dir)
            .output()
            .map_err(|error| format!("{host}: cannot run {}: {error}", program.display()))?;
        if output.status.success() {
            return Ok(());
        }
        Err(format!(
            "{host}: `{} {}` in {} failed ({})\n{}{}",
            program.display(),
            args.join(" "),
            host.build.source_dir,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into())
    })
}

const PARTITIONS_TRIAL: &str = "partitions_cover_the_run";

/// For N = 2 to 5, the parts `hash:1/N` .. `hash:N/N` of this run's own list of trials are
/// disjoint and together the whole list, each part holding some: what a split CI run relies on
/// before its reports are merged.
fn partitions_trial(root: &Path) -> Trial {
    let names = listed_names(root);
    recorded::test(PARTITIONS_TRIAL, move || {
        for total in 2..=5 {
            let parts: Vec<partition::Partition> = (1..=total)
                .map(|part| partition::Partition::parse(&format!("hash:{part}/{total}")))
                .collect::<Result<_, _>>()?;
            let mut sizes = vec![0; parts.len()];
            for name in &names {
                let holding: Vec<usize> = (0..parts.len())
                    .filter(|&i| parts[i].contains(name))
                    .collect();
                if holding.len() != 1 {
                    return Err(format!(
                        "{name} is in {} of the {total} parts, not one",
                        holding.len()
                    )
                    .into());
                }
                sizes[holding[0]] += 1;
            }
            if let Some(empty) = sizes.iter().position(|&size| size == 0) {
                return Err(format!("hash:{}/{total} holds no trial", empty + 1).into());
            }
        }
        Ok(())
    })
}

/// The command that runs one trial and nothing else, `{trial}` standing for its name.
const RERUN: &str = "cargo test --test conformance -- --exact {trial}";

fn rerun_command(trial: &str) -> String {
    RERUN.replace("{trial}", trial)
}

/// Prints the table, writes `report.json`, `junit.xml` and the results page (index.html, with
/// the run kept in the history) for the trials that ran, and checks the page in Chromium.
fn write_report(root: &Path, report: &mut Report) -> anyhow::Result<()> {
    if report.records.is_empty() && report.attacks.is_empty() && report.others.is_empty() {
        return Ok(());
    }
    // Each trial of nextest's runs in a process of its own: a report of one trial each time,
    // all writing the same files, would be worse than none.
    if std::env::var_os("NEXTEST_RUN_ID").is_some() {
        return Ok(());
    }
    let names = listed_names(root);
    report.listed = Listed::of(&names);
    report.rerun = RERUN.to_owned();
    let mut snapshots = std::collections::BTreeMap::new();
    // Each snapshot once, though every language on every host shares it.
    let cases = report
        .records
        .iter()
        .map(|r| (r.case.clone(), snapshots::SNAPSHOTS_DIR, &r.case));
    let attacks = report.attacks.iter().map(|r| {
        let key = format!("attack:{}", r.attack);
        (key, attacks::SNAPSHOTS_DIR, &r.attack)
    });
    for (key, dir, name) in cases.chain(attacks) {
        if let std::collections::btree_map::Entry::Vacant(entry) = snapshots.entry(key) {
            if let Some(body) = snapshots::snapshot_body(dir, name) {
                entry.insert(body);
            }
        }
    }
    report.snapshots = snapshots;
    let headings: Vec<&str> = report
        .records
        .iter()
        .filter_map(|record| record.finding.as_deref())
        .chain(report.attacks.iter().filter_map(|r| r.finding.as_deref()))
        .collect();
    report.findings = Findings::load(root)?.texts(headings.into_iter());
    // A known failure is recorded twice: its one-line reason in known-failures.toml, and what
    // each side does in docs/findings.md, which must name its case or attack.
    let listed = |verdict: &Verdict| matches!(verdict, Verdict::XFail(_) | Verdict::XPass(_));
    let unexplained: Vec<&str> = report
        .records
        .iter()
        .map(|r| (&r.trial, &r.verdict, &r.finding))
        .chain(
            report
                .attacks
                .iter()
                .map(|r| (&r.trial, &r.verdict, &r.finding)),
        )
        .filter(|(_, verdict, finding)| listed(verdict) && finding.is_none())
        .map(|(trial, _, _)| trial.as_str())
        .collect();

    let dir = root.join(REPORT_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {REPORT_DIR}"))?;
    std::fs::write(dir.join("junit.xml"), report.junit())
        .with_context(|| format!("cannot write {REPORT_DIR}/junit.xml"))?;
    let json: serde_json::Value =
        serde_json::from_str(&report.json()).context("the report is not JSON")?;
    let published = xtask::results::publish(&dir, json, true)?;
    if !report.records.is_empty() {
        println!("\n{}", report.table());
    }
    if !report.attacks.is_empty() {
        println!(
            "attacks (what each host did, and the verdict):\n{}",
            report.attack_table()
        );
    }
    println!("{}", report.reused_line());
    for (built, toolchain) in &report.toolchains {
        println!("{built}: {toolchain}");
    }
    let changed = match published.changed {
        Some(changed) => format!("; {changed} trials changed verdict since the previous run"),
        None => String::new(),
    };
    println!(
        "results: {REPORT_DIR}/report.json, {REPORT_DIR}/junit.xml, {REPORT_DIR}/index.html \
         ({} KB{changed})",
        published.page_bytes / 1024
    );
    let sh = xshell::Shell::new()?;
    if let Some(line) = xtask::results::check_page(&sh, &dir, report.reuse.is_some())? {
        println!("{line}");
    }
    if let Some(first) = unexplained.first() {
        anyhow::bail!(
            "{} known failures have no entry in {} that names their case or attack under a \
             heading of their host or PDK (the first: {first})",
            unexplained.len(),
            conformance::findings::FINDINGS_FILE
        );
    }
    Ok(())
}

/// The trials' names without building anything, for `--list`.
fn list_only(root: &Path) -> Vec<Trial> {
    listed_names(root)
        .into_iter()
        .map(|name| Trial::test(name, || Ok(())))
        .collect()
}

/// Every trial's name, as the run names them: `--list` and the report's `listed` come from here.
fn listed_names(root: &Path) -> Vec<String> {
    let names = case::names(root).unwrap_or_default();
    let mut listed = vec![
        ORPHAN_TRIAL.to_owned(),
        PARTITIONS_TRIAL.to_owned(),
        property::TRIAL.to_owned(),
    ];
    for language in LANGUAGES {
        listed.push(format!("{SURFACE_TRIAL}::{language}"));
    }
    for host in HOSTS {
        listed.extend(side_trial_names(host));
    }
    for name in &names {
        for host in HOSTS {
            for language in LANGUAGES {
                listed.push(trial_name(name, language, host));
            }
        }
    }
    listed
}
