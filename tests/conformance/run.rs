//! The run context: what a conformance run knows once its modules and hosts are built (each
//! language's [`Subject`], each host's driver, the identities its verdicts are keyed by, the
//! known failures and findings, the report's header), and one method per kind of trial
//! (`trials.rs`), every one judged by [`Judge`]. Given cases, modules and hosts, it makes trials
//! and records: the conformance executable's `main` is one caller.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use conformance::abi;
use conformance::case;
use conformance::findings::Findings;
use conformance::known::KnownFailures;
use conformance::report::Report;
use conformance::reuse::Store;
use xtask::{
    all, build_hostile_plugins, build_hosts, build_plugins, Artifact, Buildable, Host, Hostile,
    Language, Outcomes, HOSTILE, HOSTS, LANGUAGES,
};

use crate::floor::{driver, HostDriver, Scope, Subject};
use crate::identities::Identities;
use crate::judge::Judge;
use crate::listing::listed_names;
use crate::snapshots::CaseSnapshots;

/// One conformance run, built and ready to make its trials.
pub struct Run {
    pub root: PathBuf,
    /// This repository's suite, or someone else's directory of cases.
    pub scope: Scope,
    pub case_snapshots: CaseSnapshots,
    /// How many trials run at once: one child per protocol host per thread.
    pub threads: usize,
    pub judge: Arc<Judge>,
    pub identities: Identities,
    pub known: KnownFailures,
    pub findings: Findings,
    pub catalogue: Vec<case::Entry>,
    /// Every trial's name, split or not ([`listed_names`]).
    pub listed: Vec<String>,
    /// Each language in the table's order, and where it stands.
    pub subjects: Vec<(&'static Language, Subject)>,
    /// Each built language's module surface, for its surface trial.
    pub surfaces: Vec<(&'static Language, abi::Surface)>,
    /// Each host in the table's order, behind its driver or with why it was not built.
    pub drivers: Vec<(&'static Host, HostDriver)>,
    pub hosts: Outcomes<Host>,
    /// Each hostile language's module, or why it was not built.
    pub hostile: Vec<(&'static Hostile, Result<PathBuf, String>)>,
    /// The report's header: toolchains, hosts and languages.
    pub report: Report,
}

impl Run {
    /// Builds stale plugins, hosts and hostile plugins (the same code as `cargo xtask
    /// build-plugins`, `build-hosts` and `build-hostile`), lints each language's module once,
    /// and loads the catalogue, the known failures and the findings. A language or host whose
    /// toolchain is missing is kept with the reason, so its trials are visible skips.
    pub fn prepare(
        root: &Path,
        scope: Scope,
        threads: usize,
        store: Arc<Store>,
    ) -> anyhow::Result<Run> {
        let sh = xshell::Shell::new()?;
        let catalogue = case::catalogue_in(&scope.cases, &scope.cases_shown)?;
        // Someone else's cases need the contract's plugins only if one of them names none of
        // its own, and never the hostile ones.
        let plugins = !scope.external || catalogue.iter().any(|entry| !entry.own_module);
        let languages: &[Language] = if plugins { LANGUAGES } else { &[] };
        let hostile: &[Hostile] = if scope.external { &[] } else { HOSTILE };
        // One round of probes for the plugins, the hosts and the hostile plugins built below.
        let builds = languages.iter().map(|l| l.build());
        let builds = builds.chain(HOSTS.iter().map(|h| h.build()));
        let builds: Vec<_> = builds.chain(hostile.iter().map(|h| h.build())).collect();
        xtask::probe_toolchains(&sh, &builds);
        let built = build_plugins(&sh, &all(languages))?;
        let hosts = build_hosts(&sh, &all(HOSTS))?;
        let hostile = build_hostile_plugins(&sh, &all(hostile))?;
        let names: Vec<String> = catalogue.iter().map(|entry| entry.name.clone()).collect();
        let host_names: Vec<&str> = HOSTS.iter().map(|h| h.name()).collect();
        let language_names: Vec<&str> = LANGUAGES.iter().map(|l| l.name()).collect();
        let language_names = [language_names, vec![case::OWN_MODULE]].concat();
        let (known, findings) = if scope.external {
            let known = KnownFailures::load_file(
                &scope.known_failures,
                &scope.known_failures_shown,
                &host_names,
                &language_names,
                &names,
            )?;
            (known, Findings::none())
        } else {
            let hostile_names: Vec<&str> = HOSTILE.iter().map(|h| h.name()).collect();
            let known =
                KnownFailures::load(root, &host_names, &language_names, &hostile_names, &names)?;
            (known, Findings::load(root)?)
        };
        let listed = listed_names(&scope);
        // The table's columns: each language, and `module` for cases with their own.
        let mut report_languages: Vec<String> =
            languages.iter().map(|l| l.name().to_owned()).collect();
        if catalogue.iter().any(|entry| entry.own_module) {
            report_languages.push(case::OWN_MODULE.to_owned());
        }
        let case_snapshots = CaseSnapshots {
            dir: scope.snapshots.clone(),
            shown: scope.snapshots_shown.clone(),
            insta: !scope.external,
            renderings: scope.accept.then(Default::default),
        };
        let mut run = Run {
            root: root.to_owned(),
            scope,
            case_snapshots,
            threads,
            judge: Judge::new(store),
            identities: Identities::default(),
            known,
            findings,
            catalogue,
            listed,
            subjects: Vec::new(),
            surfaces: Vec::new(),
            drivers: Vec::new(),
            hosts: Outcomes::default(),
            hostile: Vec::new(),
            report: Report {
                hosts: HOSTS.iter().map(|h| h.name().to_owned()).collect(),
                languages: report_languages,
                ..Report::default()
            },
        };
        run.add_languages(built)?;
        run.add_hosts(hosts)?;
        run.add_hostile(hostile)?;
        Ok(run)
    }

    /// Each language's module: read, keyed, linted.
    fn add_languages(&mut self, built: Outcomes<Language>) -> anyhow::Result<()> {
        for (language, artifact) in &built.ready {
            eprintln!("conformance: {language} built by {}", artifact.toolchain);
            let toolchains = &mut self.report.toolchains;
            toolchains.insert(language.name().to_owned(), artifact.toolchain.clone());
            let wasm = std::fs::read(&artifact.path)
                .with_context(|| format!("{language}: cannot read {}", artifact.path.display()))?;
            self.identities.add_module(language.name(), &wasm);
            let surface = abi::Surface::read(&wasm)
                .with_context(|| format!("{language}: {}", artifact.path.display()))?;
            let violations = surface.violations();
            self.surfaces.push((language, surface));
            if violations.is_empty() {
                let ready = Subject::Ready(artifact.path.clone());
                self.subjects.push((language, ready));
                continue;
            }
            for violation in &violations {
                eprintln!("conformance: {language} breaks the ABI: {violation}");
            }
            let why = format!(
                "{language}: the ABI lint failed, so nothing was called: {}",
                violations.join("; ")
            );
            self.subjects.push((language, Subject::Broken(why)));
        }
        for (language, reason) in &built.skipped {
            eprintln!("conformance: {language} SKIPPED: {reason}");
            let toolchains = &mut self.report.toolchains;
            toolchains.insert(language.name().to_owned(), format!("skipped: {reason}"));
            let why = format!("{language} toolchain missing: see `cargo xtask doctor`");
            self.subjects.push((language, Subject::Skipped(why)));
        }
        let order = |language: &Language| LANGUAGES.iter().position(|l| l == language);
        self.subjects.sort_by_key(|(language, _)| order(language));
        Ok(())
    }

    /// Each host: keyed, and behind a driver of up to one child per test thread.
    fn add_hosts(&mut self, hosts: Outcomes<Host>) -> anyhow::Result<()> {
        for (host, artifact) in &hosts.ready {
            // A host is its SDK and engine first; the toolchain that built it says less.
            let described = format!("{} (built by {})", host.runtime, artifact.toolchain);
            eprintln!("conformance: {host}: {described}");
            self.report
                .toolchains
                .insert(host.name().to_owned(), described);
            self.identities.add_host(host, artifact)?;
            let driver = driver(&self.root, host, &artifact.path, self.threads);
            self.drivers.push((host, Ok(driver)));
        }
        for (host, reason) in &hosts.skipped {
            eprintln!("conformance: {host} SKIPPED: {reason}");
            let toolchains = &mut self.report.toolchains;
            toolchains.insert(host.name().to_owned(), format!("skipped: {reason}"));
            let why = format!("{host} toolchain missing: see `cargo xtask doctor`");
            self.drivers.push((host, Err(why)));
        }
        let order = |host: &Host| HOSTS.iter().position(|h| h == host);
        self.drivers.sort_by_key(|(host, _)| order(host));
        self.hosts = hosts;
        Ok(())
    }

    /// Each hostile language's module, read and keyed.
    fn add_hostile(&mut self, built: Outcomes<Hostile>) -> anyhow::Result<()> {
        for (language, artifact) in &built.ready {
            let wasm = std::fs::read(&artifact.path).with_context(|| {
                let path = artifact.path.display();
                format!("hostile {language}: cannot read {path}")
            })?;
            self.identities.add_hostile(language.name(), &wasm);
            self.hostile.push((language, Ok(artifact.path.clone())));
        }
        for (language, reason) in &built.skipped {
            let why = format!("hostile {language} not built: {reason}");
            self.hostile.push((language, Err(why)));
        }
        let order = |language: &Hostile| HOSTILE.iter().position(|h| h == language);
        self.hostile.sort_by_key(|(language, _)| order(language));
        Ok(())
    }

    /// The artifact of a built host.
    pub fn artifact(&self, host: &Host) -> Option<&Artifact> {
        let mut ready = self.hosts.ready.iter();
        ready
            .find(|(h, _)| *h == host)
            .map(|(_, artifact)| artifact)
    }

    /// The docs/findings.md heading behind a listed trial of `host`, by case or attack name.
    pub fn finding(&self, name: &str, host: &Host) -> Option<String> {
        let hosts: Vec<&str> = HOSTS.iter().map(|h| h.name()).collect();
        let found = self.findings.for_trial(name, host.name(), &hosts);
        found.map(|(heading, _)| heading.to_owned())
    }
}
