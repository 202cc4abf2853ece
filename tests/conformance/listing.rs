//! The run's trials by name, without building anything: what `--list` prints, what the report's
//! `listed` hash is made of, the check that the partitions of a split run cover it, and the check
//! that every snapshot still has its case, language or attack.

use std::path::Path;

use conformance::case;
use conformance::partition::Partition;
use libtest_mimic::Trial;
use xtask::{Host, HOSTS, LANGUAGES};

use crate::floor::case_trial_name;
use crate::judge::{Attempt, Listed};
use crate::snapshots::{SNAPSHOTS_DIR, SURFACES_DIR, SURFACE_TRIAL};
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
pub fn list_only(root: &Path) -> Vec<Trial> {
    listed_names(root)
        .into_iter()
        .map(|name| Trial::test(name, || Ok(())))
        .collect()
}

/// Every trial's name, as the run names them: `--list` and the report's `listed` come from here.
pub fn listed_names(root: &Path) -> Vec<String> {
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
                listed.push(case_trial_name(name, language, host));
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
/// would silently stop being checked.
pub fn orphans_work(root: &Path, cases: &[String]) -> impl FnOnce(Listed) -> Attempt + Send {
    let root = root.to_owned();
    let cases = cases.to_vec();
    move |_| Attempt::result(orphans(&root, &cases))
}

fn orphans(root: &Path, cases: &[String]) -> Result<(), String> {
    {
        let languages: Vec<String> = LANGUAGES.iter().map(|l| l.name().to_owned()).collect();
        let attacks: Vec<String> = conformance::attacks::ATTACKS
            .iter()
            .map(|attack| attack.name.to_owned())
            .collect();
        let mut orphans = orphans_in(root, SNAPSHOTS_DIR, cases)?;
        orphans.extend(orphans_in(root, SURFACES_DIR, &languages)?);
        orphans.extend(orphans_in(root, attacks::SNAPSHOTS_DIR, &attacks)?);
        if orphans.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "snapshots without a case in {}, a language in xtask/src/table.rs or an attack in tests/src/attacks.rs: {} \
                 (delete them, or restore what they belong to)",
                case::CASES_DIR,
                orphans.join(", ")
            ))
        }
    }
}

/// The `*.snap` files in `dir` whose name is not in `names`.
fn orphans_in(root: &Path, dir: &str, names: &[String]) -> Result<Vec<String>, String> {
    let mut orphans = Vec::new();
    let entries = std::fs::read_dir(root.join(dir)).map_err(|error| format!("{dir}: {error}"))?;
    for entry in entries {
        let path = entry.map_err(|error| error.to_string())?.path();
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        if let Some(stem) = file.strip_suffix(".snap") {
            if !names.iter().any(|known| known == stem) {
                orphans.push(format!("{dir}/{file}"));
            }
        }
    }
    Ok(orphans)
}
