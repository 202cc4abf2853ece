//! The measurements, read back from where the benchmarks leave them: criterion's JSON files,
//! `go test -bench` output, the conformance-loop JSON.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::Host;

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

/// Every `new/benchmark.json` (with its `estimates.json`) under criterion's directory.
pub(crate) fn read_criterion(dir: &Path) -> anyhow::Result<Vec<(String, f64)>> {
    let mut figures = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name == "new") {
                    figures.push(read_criterion_benchmark(&path)?);
                } else {
                    pending.push(path);
                }
            }
        }
    }
    Ok(figures)
}

/// `figures.json` in `dir`, as an adapter's `bench` command writes it:
/// `{"figures": [{"id": "call/rust/noop", "mean_ns": 812.5}, ...]}`.
pub(crate) fn read_adapter_figures(dir: &Path) -> anyhow::Result<Vec<(String, f64)>> {
    let file = dir.join("figures.json");
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    parse_adapter_figures(&text).with_context(|| format!("{} is not as expected", file.display()))
}

fn parse_adapter_figures(text: &str) -> anyhow::Result<Vec<(String, f64)>> {
    let json: Value = serde_json::from_str(text)?;
    let Some(figures) = json.get("figures").and_then(Value::as_array) else {
        bail!("no `figures` array");
    };
    figures
        .iter()
        .map(|figure| {
            let id = figure.get("id").and_then(Value::as_str);
            let ns = figure.get("mean_ns").and_then(Value::as_f64);
            match (id, ns) {
                (Some(id), Some(ns)) if ns.is_finite() && ns > 0.0 => Ok((id.to_owned(), ns)),
                _ => bail!("a figure without a string `id` and a positive `mean_ns`: {figure}"),
            }
        })
        .collect()
}

/// The result lines of `go test -bench` output: `BenchmarkCall/rust/noop-2  1000  5120 ns/op`.
pub(crate) fn read_go_bench(output: &str) -> anyhow::Result<Vec<(String, f64)>> {
    let mut figures = Vec::new();
    for line in output.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(name) = fields.first().and_then(|f| f.strip_prefix("Benchmark")) else {
            continue;
        };
        let Some(at) = fields.iter().position(|&f| f == "ns/op") else {
            continue;
        };
        let ns: f64 = fields[at - 1]
            .parse()
            .with_context(|| format!("go bench: no number before ns/op in {line:?}"))?;
        figures.push((go_bench_id(name), ns));
    }
    Ok(figures)
}

/// `Call/rust/noop-2` is `call/rust/noop`: the group in lower case, without GOMAXPROCS.
fn go_bench_id(name: &str) -> String {
    let name = match name.rsplit_once('-') {
        Some((name, procs)) if procs.chars().all(|c| c.is_ascii_digit()) => name,
        _ => name,
    };
    match name.split_once('/') {
        Some((group, rest)) => format!("{}/{rest}", group.to_lowercase()),
        None => name.to_lowercase(),
    }
}

fn read_criterion_benchmark(new: &Path) -> anyhow::Result<(String, f64)> {
    let read = |file: &str| -> anyhow::Result<Value> {
        let path = new.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
    };
    let benchmark = read("benchmark.json")?;
    let estimates = read("estimates.json")?;
    let Some(id) = benchmark["full_id"].as_str() else {
        bail!("{}: no full_id", new.join("benchmark.json").display());
    };
    let Some(ns) = estimates["mean"]["point_estimate"].as_f64() else {
        bail!("{}: no mean", new.join("estimates.json").display());
    };
    Ok((id.to_owned(), ns))
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
    fn go_bench_lines_become_ids_and_nanoseconds() {
        let output = "goos: linux\nBenchmarkCall/rust/noop-2   \t 1000000\t      5120 ns/op\n\
                      BenchmarkCall/go/get_1MiB-2 \t 100\t 812345.5 ns/op\t 1290.8 MB/s\n\
                      BenchmarkInstance/tinygo \t 10\t 70000 ns/op\nPASS\n";
        assert_eq!(
            read_go_bench(output).unwrap(),
            [
                ("call/rust/noop".to_owned(), 5120.0),
                ("call/go/get_1MiB".to_owned(), 812345.5),
                ("instance/tinygo".to_owned(), 70000.0)
            ]
        );
    }

    #[test]
    fn a_go_bench_line_without_a_number_is_an_error() {
        let error = read_go_bench("BenchmarkCall/rust/noop-2 10 fast ns/op\n").unwrap_err();
        assert!(
            format!("{error:#}").contains("no number before ns/op"),
            "{error:#}"
        );
    }

    #[test]
    fn adapter_figures_are_read_and_checked() {
        let text = r#"{"figures": [{"id": "call/go/noop", "mean_ns": 812.5},
                                   {"id": "instance/go", "mean_ns": 70000}]}"#;
        assert_eq!(
            parse_adapter_figures(text).unwrap(),
            [
                ("call/go/noop".to_owned(), 812.5),
                ("instance/go".to_owned(), 70000.0)
            ]
        );
        for bad in [
            r#"{"figures": [{"id": "call/go/noop", "mean_ns": -1}]}"#,
            r#"{"figures": [{"mean_ns": 3}]}"#,
            r#"{"results": []}"#,
        ] {
            assert!(parse_adapter_figures(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_median_of_an_even_count_is_the_middle_pair_s_mean() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    }
}
