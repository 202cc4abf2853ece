//! The run's trials, one method of [`Run`] per kind: each names the trial, says what it is and
//! what its verdict depends on ([`Spec`]), and hands its work to the judge.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use conformance::attacks::{Attack, ATTACKS};
use conformance::case::{self, Case};
use conformance::known::KNOWN_FAILURES_FILE;
use conformance::report::{subject, Kind};
use conformance::reuse::Key;
use libtest_mimic::Trial;
use suite::launch::Command;
use xtask::{Host, Hostile, Language};

use crate::floor::{case_trial_name, driver, HostDriver, Subject};
use crate::judge::{Attempt, Listed, Ran, Spec};
use crate::listing::{
    orphans_work, own_trial_names, partitions_work, unit_tests_name, ORPHAN_TRIAL, PARTITIONS_TRIAL,
};
use crate::modules;
use crate::run::Run;
use crate::snapshots::{self, SURFACE_TRIAL};
use crate::{attacks, fuzz, property, protocol_trials};

impl Run {
    /// Every trial of the run.
    pub fn trials(&self) -> anyhow::Result<Vec<Trial>> {
        let names: Vec<String> = self.catalogue.iter().map(|e| e.name.clone()).collect();
        let orphans = orphans_work(&self.root, &self.scope, &names);
        let mut trials = vec![self.judge.trial(Spec::other(ORPHAN_TRIAL, None), orphans)];
        let partitions = Spec::other(PARTITIONS_TRIAL, None);
        trials.push(
            self.judge
                .trial(partitions, partitions_work(self.listed.clone())),
        );
        if self.scope.external {
            trials.extend(self.case_trials());
            return Ok(trials);
        }
        trials.extend(self.surface_trials());
        trials.push(self.property_trial()?);
        for (host, driver) in &self.drivers {
            trials.push(self.fuzz_trial(host, driver.clone())?);
            trials.extend(self.host_trials(host));
            trials.extend(self.attack_trials(host));
        }
        trials.extend(self.case_trials());
        Ok(trials)
    }

    /// Each language's import/export surface against its own snapshot.
    fn surface_trials(&self) -> Vec<Trial> {
        let mut trials = Vec::new();
        for (language, subject) in &self.subjects {
            let name = format!("{SURFACE_TRIAL}::{language}");
            let surface = self.surfaces.iter().find(|(l, _)| l == language);
            let trial = match (surface, subject) {
                (Some((_, surface)), _) => {
                    let work = snapshots::surface_work(language, surface.clone());
                    self.judge.trial(Spec::other(name, None), work)
                }
                (None, Subject::Skipped(why)) => self.skipped(name, why.clone()),
                (None, _) => unreachable!("a built language has a surface"),
            };
            trials.push(trial);
        }
        trials
    }

    /// A trial that cannot run, for the reason given.
    fn skipped(&self, name: String, why: String) -> Trial {
        self.judge
            .trial(Spec::other(name, None), move |_| Attempt::Skip(why))
    }

    /// Every case on every language on every host; a case with its own module, on every host.
    fn case_trials(&self) -> Vec<Trial> {
        let mut trials = Vec::new();
        for entry in &self.catalogue {
            // A malformed case fails its own trials and leaves the others running.
            let loaded = case::load(entry).map_err(|error| format!("{error:#}"));
            if entry.own_module {
                trials.extend(self.own_module_trials(entry, loaded));
                continue;
            }
            let case = Arc::new(loaded);
            for (host, driver) in &self.drivers {
                for (language, subject) in &self.subjects {
                    let key = self.identities.pair(Key::new("case"), host, language);
                    let pair = (*host, driver, language.name(), subject);
                    trials.push(self.case_trial(entry, &case, pair, key));
                }
            }
        }
        trials
    }

    /// A case that brings its own module and links: compiled once, then run on each host.
    fn own_module_trials(&self, entry: &case::Entry, loaded: Result<Case, String>) -> Vec<Trial> {
        let prepared = loaded.and_then(|mut case| {
            let module = case
                .module
                .as_ref()
                .expect("an own-module case has a module");
            let ready = modules::prepare(&self.root, module)
                .map_err(|error| format!("{}: {error}", case.file))?;
            case.request.links = ready.links.clone();
            Ok((case, ready))
        });
        let (case, subject, digest) = match prepared {
            Ok((case, ready)) => (Ok(case), Subject::Ready(ready.main), Some(ready.digest)),
            Err(error) => (Err(error.clone()), Subject::Broken(error), None),
        };
        let case = Arc::new(case);
        let mut trials = Vec::new();
        for (host, driver) in &self.drivers {
            let key = self.identities.host(Key::new("case"), host);
            let key = key
                .zip(digest.as_ref())
                .map(|(key, digest)| key.part("modules", digest.as_bytes()));
            let pair = (*host, driver, case::OWN_MODULE, &subject);
            trials.push(self.case_trial(entry, &case, pair, key));
        }
        trials
    }

    /// One case on one language's plugin (or the case's own module) on one host, against the
    /// case's shared snapshot. `key` is what the verdict depends on besides the case's files.
    fn case_trial(
        &self,
        entry: &case::Entry,
        case: &Arc<Result<Case, String>>,
        (host, driver, language, subject): (&'static Host, &HostDriver, &'static str, &Subject),
        key: Option<Key>,
    ) -> Trial {
        let name = &entry.name;
        let known = self.known.reason(host.name(), language, name);
        // The case file and its snapshot, on this host, with this module.
        let key = key.map(|key| {
            let snapshot = self.scope.snapshots.join(format!("{name}.snap"));
            key.path(&entry.file, &entry.path)
                .path("snapshot", &snapshot)
                .finish()
        });
        let spec = Spec {
            name: case_trial_name(name, language, host),
            kind: Kind::Case {
                case: name.clone(),
                group: entry.group.clone(),
                language: language.to_owned(),
                host: host.name().to_owned(),
            },
            known: known.map(str::to_owned),
            finding: known.and_then(|_| self.finding(name, host)),
            key,
        };
        let subject_name = conformance::report::subject(language, host.name());
        type Work = Box<dyn FnOnce(Listed) -> Attempt + Send>;
        let work: Work = match (driver, subject) {
            (Err(why), _) | (_, Subject::Skipped(why)) => {
                let why = why.clone();
                Box::new(move |_| Attempt::Skip(why))
            }
            (Ok(_), Subject::Broken(why)) => {
                let why = why.clone();
                Box::new(move |_| Attempt::result(Err(why)))
            }
            (Ok(driver), Subject::Ready(wasm)) => {
                let (driver, wasm, case) = (Arc::clone(driver), wasm.clone(), Arc::clone(case));
                let shared = self.case_snapshots.clone();
                Box::new(move |listed| {
                    let case = match case.as_ref() {
                        Ok(case) => case,
                        Err(error) => return Attempt::result(Err(error.clone())),
                    };
                    let subject = (subject_name.as_str(), host.name());
                    let checked =
                        snapshots::check(case, subject, driver.as_ref(), &wasm, &shared, listed);
                    let (result, divergence) = match checked {
                        Ok(()) => (Ok(()), None),
                        Err(mismatch) => (Err(mismatch.message), mismatch.divergence),
                    };
                    let seen = None;
                    Attempt::Ran(Ran {
                        result,
                        divergence,
                        seen,
                    })
                })
            }
        };
        self.judge.trial(spec, work)
    }

    /// The property test over every pair, keyed by every module and host and the known-failure
    /// list (the exports it holds each host to).
    fn property_trial(&self) -> anyhow::Result<Trial> {
        let known_text = std::fs::read(self.root.join(KNOWN_FAILURES_FILE))
            .map_err(|error| anyhow::anyhow!("cannot read {KNOWN_FAILURES_FILE}: {error}"))?;
        let cases = std::env::var("PROPERTY_CASES").unwrap_or_default();
        let key = self.identities.everything(Key::new("property"));
        let key = key.part("known-failures", &known_text);
        let key = key.part("cases", cases.as_bytes()).finish();
        let work = property::work(&self.subjects, &self.drivers, &self.known);
        Ok(self
            .judge
            .trial(Spec::other(property::TRIAL, Some(key)), work))
    }

    /// The fuzz of one host's `hostMemoryGet` boundary.
    fn fuzz_trial(&self, host: &'static Host, driver: HostDriver) -> anyhow::Result<Trial> {
        let known = self.known.fuzz_reason(host.name());
        let seconds = std::env::var("FUZZ_SECONDS").unwrap_or_default();
        let key = self.identities.host(Key::new("fuzz"), host).map(|key| {
            let key = key.file(&self.root, fuzz::CORPUS);
            key.part("seconds", seconds.as_bytes()).finish()
        });
        let spec = Spec {
            known: known.map(str::to_owned),
            finding: known.and_then(|_| self.finding(&fuzz::trial_name(host), host)),
            ..Spec::other(fuzz::trial_name(host), key)
        };
        Ok(self
            .judge
            .trial(spec, fuzz::work(&self.root, host, driver)?))
    }

    /// A host's protocol trials (for a protocol host) and its own unit tests, or their skips.
    fn host_trials(&self, host: &'static Host) -> Vec<Trial> {
        let Some(artifact) = self.artifact(host) else {
            // Its fuzz and attacks say so themselves.
            let why = self.skip_reason(host);
            let names = own_trial_names(host).into_iter();
            return names.map(|name| self.skipped(name, why.clone())).collect();
        };
        let mut trials = Vec::new();
        if !host.in_process {
            // The protocol trials use a module of their own, in the harness.
            let key = self.identities.host(Key::new("protocol"), host);
            let key = key.map(Key::finish);
            for (name, work) in protocol_trials::works(&self.root, host, &artifact.path) {
                trials.push(self.judge.trial(Spec::other(name, key.clone()), work));
            }
        }
        if let Some(unit_tests) = &host.unit_tests {
            // A host's unit tests are in its sources and read the built plugins.
            let key = self.identities.host(Key::new("unit_tests"), host);
            let key = key.and_then(|key| self.identities.sources(key, host));
            let key = key.map(|key| self.identities.everything(key).finish());
            let command = unit_tests.command(&self.root, &artifact.path, &[]);
            let dir = self.root.join(host.build.source_dir);
            let work = move |_: Listed| Attempt::result(unit_tests_run(host, &command, &dir));
            trials.push(
                self.judge
                    .trial(Spec::other(unit_tests_name(host), key), work),
            );
        }
        trials
    }

    /// Why a host's trials cannot run.
    fn skip_reason(&self, host: &Host) -> String {
        let mut drivers = self.drivers.iter();
        let found = drivers.find(|(h, _)| *h == host).map(|(_, driver)| driver);
        match found {
            Some(Err(why)) => why.clone(),
            _ => format!("{host} was not built"),
        }
    }

    /// Every attack on one host, each hostile language; the same host process then answers the
    /// honest plugin's seed call. A protocol host gets one child of its own for these.
    fn attack_trials(&self, host: &'static Host) -> Vec<Trial> {
        let driver: HostDriver = match self.artifact(host) {
            Some(artifact) => Ok(driver(&self.root, host, &artifact.path, 1)),
            None => Err(self.skip_reason(host)),
        };
        let honest = Language::honest();
        let honest_wasm = match self.subjects.iter().find(|(l, _)| *l == honest) {
            Some((_, Subject::Ready(wasm))) => Ok(wasm.clone()),
            _ => Err(format!("the honest {honest} plugin is not ready")),
        };
        let mut trials = Vec::new();
        for attack in ATTACKS {
            for (language, wasm) in &self.hostile {
                let inputs = (driver.clone(), wasm.clone(), honest_wasm.clone());
                trials.push(self.attack_trial(attack, host, language, inputs));
            }
        }
        trials
    }

    fn attack_trial(
        &self,
        attack: &'static Attack,
        host: &'static Host,
        language: &'static Hostile,
        (driver, wasm, honest): (HostDriver, Result<PathBuf, String>, Result<PathBuf, String>),
    ) -> Trial {
        let known = self
            .known
            .attack_reason(host.name(), language.name(), attack.name);
        // An attack's verdict depends on its host, the hostile module, the honest one and the
        // attack's snapshot.
        let key = (|| {
            let key = self.identities.host(Key::new("attack"), host)?;
            let key = self.identities.module(key, "honest", xtask::HONEST)?;
            let key = self.identities.hostile(key, language.name())?;
            let snapshot = format!("{}/{}.snap", attacks::SNAPSHOTS_DIR, attack.name);
            let key = key.part("attack", attack.name.as_bytes());
            Some(key.file(&self.root, &snapshot).finish())
        })();
        let spec = Spec {
            name: attacks::trial_name(attack, language.name(), host.name()),
            kind: Kind::Attack {
                attack: attack.name.to_owned(),
                language: language.name().to_owned(),
                host: host.name().to_owned(),
                seen: String::new(),
            },
            known: known.map(str::to_owned),
            finding: known.and_then(|_| self.finding(attack.name, host)),
            key,
        };
        let subject = subject(language.name(), host.name());
        self.judge.trial(spec, move |listed| {
            let (driver, wasm, honest) = match (driver, wasm, honest) {
                (Ok(driver), Ok(wasm), Ok(honest)) => (driver, wasm, honest),
                (Err(why), _, _) | (_, Err(why), _) | (_, _, Err(why)) => {
                    return Attempt::Skip(why)
                }
            };
            let (result, seen, divergence) =
                attacks::attack_once(attack, driver.as_ref(), &wasm, &honest, listed);
            Attempt::Ran(Ran {
                result: result.map_err(|why| format!("{subject}: {why}")),
                divergence,
                seen: Some(seen),
            })
        })
    }
}

/// Runs a host's own unit tests (`go test ./...` for the Go host) in its source directory.
fn unit_tests_run(host: &Host, command: &Command, dir: &Path) -> Result<(), String> {
    let output = command
        .std()
        .current_dir(dir)
        .output()
        .map_err(|error| format!("{host}: cannot run {command}: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{host}: `{command}` in {} failed ({})\n{}{}",
        host.build.source_dir,
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}
