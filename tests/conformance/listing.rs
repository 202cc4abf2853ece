//! The run's trials by name, without building anything: what `--list` prints, what the report's
//! `listed` hash is made of, and the check that the partitions of a split run cover it.

use std::path::Path;

use conformance::case;
use conformance::partition::Partition;
use libtest_mimic::Trial;
use xtask::{Host, HOSTS, LANGUAGES};

use crate::floor::case_trial_name;
use crate::judge::{Attempt, Listed};
use crate::snapshots::{ORPHAN_TRIAL, SURFACE_TRIAL};
use crate::{attacks, fuzz, property, protocol_trials};

pub const PARTITIONS_TRIAL: &str = "partitions_cover_the_run";

/// The trials of a host that are not case trials, by name.
pub fn side_trial_names(host: &Host) -> Vec<String> {
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
pub fn partitions_work(root: &Path) -> impl FnOnce(Listed) -> Attempt + Send {
    let names = listed_names(root);
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
