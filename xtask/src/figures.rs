//! Benchmark figures as the hosts' benchmarks leave them: criterion's JSON files, `go test
//! -bench` output and an adapter's `figures.json`, each read into (figure id, nanoseconds).

use std::path::Path;

use anyhow::{bail, Context};
use serde_json::Value;

/// A figure id (`call/rust/noop`) and its mean nanoseconds per iteration.
pub type Figure = (String, f64);

/// Every `new/benchmark.json` (with its `estimates.json`) under criterion's directory.
pub(crate) fn read_criterion(dir: &Path) -> anyhow::Result<Vec<Figure>> {
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
pub(crate) fn read_adapter_figures(dir: &Path) -> anyhow::Result<Vec<Figure>> {
    let file = dir.join("figures.json");
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    parse_adapter_figures(&text).with_context(|| format!("{} is not as expected", file.display()))
}

fn parse_adapter_figures(text: &str) -> anyhow::Result<Vec<Figure>> {
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
pub(crate) fn read_go_bench(output: &str) -> anyhow::Result<Vec<Figure>> {
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

fn read_criterion_benchmark(new: &Path) -> anyhow::Result<Figure> {
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
}
