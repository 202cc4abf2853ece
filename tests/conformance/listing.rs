//! The run's trials by name, without building anything: what `--list` prints, what the report's
//! `listed` hash is made of, the check that the partitions of a split run cover it, and the check
//! that every snapshot still has its case, language or attack.

use std::path::{Path, PathBuf};

use conformance::case;
use conformance::partition::Partition;
use libtest_mimic::Trial;
use xtask::{Host, HOSTS, LANGUAGES};

use crate::floor::{case_trial_name, Scope};
use crate::judge::{Attempt, Listed};
use crate::snapshots::{SURFACES_DIR, SURFACE_TRIAL};
use crate::{attacks, fuzz, property, protocol_trials};

pub const PARTITIONS_TRIAL: &str = "partitions_cover_the_run";
/// The trial that checks every snapshot still has its case.
pub const ORPHAN_TRIAL: &str = "snapshots_have_cases";

/// The trials of a host that are not case trials, by name.
pub fn side_trial_names(host: &Host) -> Vec<String> {
    let mut names = vec![fuzz::trial_name(host)];
    names.extend(attacks::trial_names(host));
    names.extend(own_trial_names(host));
    names
}

/// A host's trials of its own program and sources: its protocol trials and its unit tests.
pub fn own_trial_names(host: &Host) -> Vec<String> {
    let mut names = Vec::new();
    if !host.in_process {
        names.extend(protocol_trials::trial_names(host));
    }
    if host.unit_tests.is_some() {
        names.push(unit_tests_name(host));
    }
    names
}

pub fn unit_tests_name(host: &Host) -> String {
    format!("unit_tests::{host}")
}

/// The trials' names without building anything, for `--list`.
pub fn list_only(scope: &Scope) -> Vec<Trial> {
    listed_names(scope)
        .into_iter()
        .map(|name| Trial::test(name, || Ok(())))
        .collect()
}

/// Every trial's name, as the run names them: `--list` and the report's `listed` come from here.
/// Someone else's directory of cases lists its case trials and the two checks only.
pub fn listed_names(scope: &Scope) -> Vec<String> {
    let catalogue = case::catalogue_in(&scope.cases, &scope.cases_shown).unwrap_or_default();
    if scope.external {
        let mut listed = vec![ORPHAN_TRIAL.to_owned(), PARTITIONS_TRIAL.to_owned()];
        listed.extend(case_names(&catalogue));
        return listed;
    }
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
    listed.extend(case_names(&catalogue));
    listed
}

/// Each case on each language on each host, or on each host with its own module.
fn case_names(catalogue: &[case::Entry]) -> Vec<String> {
    let mut listed = Vec::new();
    for entry in catalogue {
        for host in HOSTS {
            if entry.own_module {
                listed.push(case_trial_name(&entry.name, case::OWN_MODULE, host));
                continue;
            }
            for language in LANGUAGES {
                listed.push(case_trial_name(&entry.name, language.name(), host));
            }
        }
    }
    listed
}

/// For N = 2 to 5, the parts `hash:1/N` .. `hash:N/N` of this run's own list of trials are
/// disjoint and together the whole list, each part holding some: what a split CI run relies on
/// before its reports are merged.
pub fn partitions_work(names: Vec<String>) -> impl FnOnce(Listed) -> Attempt + Send {
    move |_| Attempt::result((2..=5).try_for_each(|total| cover(&names, total)))
}

fn cover(names: &[String], total: u64) -> Result<(), String> {
    let parts: Vec<Partition> = (1..=total)
        .map(|part| Partition::parse(&format!("hash:{part}/{total}")))
        .collect::<Result<_, _>>()?;
    let mut sizes = vec![0; parts.len()];
    for name in names {
        let holding: Vec<usize> = (0..parts.len())
            .filter(|&i| parts[i].contains(name))
            .collect();
        if holding.len() != 1 {
            let count = holding.len();
            return Err(format!(
                "{name} is in {count} of the {total} parts, not one"
            ));
        }
        sizes[holding[0]] += 1;
    }
    match sizes.iter().position(|&size| size == 0) {
        Some(empty) => Err(format!("hash:{}/{total} holds no trial", empty + 1)),
        None => Ok(()),
    }
}

/// A trial that fails when a snapshot has no case, or a surface snapshot no language of the
/// table: a deleted or renamed case or language must take its snapshot with it, or the snapshot
/// would silently stop being checked. Someone else's directory has case snapshots only.
pub fn orphans_work(
    root: &Path,
    scope: &Scope,
    cases: &[String],
) -> impl FnOnce(Listed) -> Attempt + Send {
    let mut dirs = vec![(
        scope.snapshots.clone(),
        scope.snapshots_shown.clone(),
        cases.to_vec(),
    )];
    if !scope.external {
        let languages: Vec<String> = LANGUAGES.iter().map(|l| l.name().to_owned()).collect();
        let attacks: Vec<String> = conformance::attacks::ATTACKS
            .iter()
            .map(|attack| attack.name.to_owned())
            .collect();
        dirs.push((root.join(SURFACES_DIR), SURFACES_DIR.to_owned(), languages));
        let attack_dir = attacks::SNAPSHOTS_DIR;
        dirs.push((root.join(attack_dir), attack_dir.to_owned(), attacks));
    }
    let cases_shown = scope.cases_shown.clone();
    move |_| Attempt::result(orphans(&dirs, &cases_shown))
}

fn orphans(dirs: &[(PathBuf, String, Vec<String>)], cases_shown: &str) -> Result<(), String> {
    let mut orphans = Vec::new();
    for (dir, shown, names) in dirs {
        orphans.extend(orphans_in(dir, shown, names)?);
    }
    if orphans.is_empty() {
        return Ok(());
    }
    Err(format!(
        "snapshots without a case in {cases_shown}, a language in xtask/src/table.rs or an attack in tests/src/attacks.rs: {} \
         (delete them, or restore what they belong to)",
        orphans.join(", ")
    ))
}

/// The `*.snap` files in `dir` (shown as `shown`) whose name is not in `names`; none when
/// there is no such folder yet.
fn orphans_in(dir: &Path, shown: &str, names: &[String]) -> Result<Vec<String>, String> {
    let mut orphans = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(orphans),
        Err(error) => return Err(format!("{shown}: {error}")),
    };
    for entry in entries {
        let path = entry.map_err(|error| error.to_string())?.path();
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        if let Some(stem) = file.strip_suffix(".snap") {
            if !names.iter().any(|known| known == stem) {
                orphans.push(format!("{shown}/{file}"));
            }
        }
    }
    Ok(orphans)
}
