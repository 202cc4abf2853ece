//! The measurements gathered for the page: every host's figures (read back by each host's
//! `HostBench::read`, `crate::figures`) and the conformance-loop JSON.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::table::Host;

/// Mean nanoseconds per iteration, by host and benchmark id (`call/rust/noop`).
#[derive(Debug, Default)]
pub(crate) struct Figures {
    ns: BTreeMap<(String, String), f64>,
}

impl Figures {
    pub(crate) fn insert(&mut self, host: &Host, id: &str, ns: f64) {
        self.ns.insert((host.name().to_owned(), id.to_owned()), ns);
    }

    pub(crate) fn ns(&self, host: &Host, id: &str) -> Option<f64> {
        self.ns
            .get(&(host.name().to_owned(), id.to_owned()))
            .copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.ns.len()
    }
}

/// What `tests/benches/conformance_loop.rs` measured, each figure once per run.
#[derive(Debug)]
pub(crate) struct Loop {
    /// `cargo test --test conformance`, nothing changed: every verdict reused.
    pub(crate) reused_run_seconds: Vec<f64>,
    /// The same with every trial run.
    pub(crate) built_run_seconds: Vec<f64>,
    /// `cargo test`, nothing changed.
    pub(crate) no_op_test_seconds: Vec<f64>,
    pub(crate) edits: Vec<LoopEdit>,
}

/// One edited source: its file, `plugin` or `host`, the languages or hosts built from it, and
/// the seconds from the edit to the verdict, each run.
#[derive(Debug)]
pub(crate) struct LoopEdit {
    pub(crate) file: String,
    pub(crate) kind: String,
    pub(crate) names: Vec<String>,
    pub(crate) seconds: Vec<f64>,
}

impl Loop {
    pub(crate) fn read(path: &Path) -> anyhow::Result<Loop> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let json: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let numbers = |value: &Value| -> Vec<f64> {
            value
                .as_array()
                .map(|items| items.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default()
        };
        let figure = |name: &str| -> anyhow::Result<Vec<f64>> {
            let seconds = numbers(&json[name]);
            if seconds.is_empty() {
                bail!("{}: no {name} (measured by an older benchmark: run `cargo xtask bench-report` again)", path.display());
            }
            Ok(seconds)
        };
        let mut edits = Vec::new();
        for edit in json["edits"].as_array().into_iter().flatten() {
            let seconds = numbers(&edit["seconds"]);
            let (Some(file), Some(kind), false) = (
                edit["file"].as_str(),
                edit["kind"].as_str(),
                seconds.is_empty(),
            ) else {
                bail!("{}: an edit without file, kind or seconds", path.display());
            };
            let names = edit["names"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect();
            edits.push(LoopEdit {
                file: file.to_owned(),
                kind: kind.to_owned(),
                names,
                seconds,
            });
        }
        Ok(Loop {
            reused_run_seconds: figure("reused_run_seconds")?,
            built_run_seconds: figure("built_run_seconds")?,
            no_op_test_seconds: figure("no_op_test_seconds")?,
            edits,
        })
    }
}

pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_middle_pair_s_mean() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }
}
