//! `docs/performance.md`: every figure of every host with benchmarks, its ratio to the no-op
//! floor and to the reference (in-process) host, the targets, and where the numbers came from.

use std::fmt::Write;

use crate::bench::results::{median, Figures, Loop};
use crate::bench::targets::{ready_instance_ns, Verdict};
use crate::bench::{duration, measured_hosts, Sizes, SCENARIOS};
use crate::table::{Host, LANGUAGES};

pub(crate) struct Page<'a> {
    pub(crate) date: String,
    pub(crate) environment: Vec<(String, String)>,
    pub(crate) figures: &'a Figures,
    pub(crate) sizes: &'a Sizes,
    pub(crate) conformance_loop: Option<&'a Loop>,
    pub(crate) verdicts: &'a [Verdict],
    /// The hand-written analysis, `docs/performance-notes.md`.
    pub(crate) notes: String,
    pub(crate) chart: &'a str,
}

impl Page<'_> {
    pub(crate) fn render(&self) -> String {
        let mut page = String::new();
        let out = &mut page;
        let _ = writeln!(out, "# Performance\n");
        let sources: Vec<String> = measured_hosts()
            .iter()
            .map(|(host, bench)| format!("{host}'s from {}", bench.what))
            .collect();
        let _ = writeln!(
            out,
            "Written by `cargo xtask bench-report` on {}; do not edit by hand (the analysis at \
             the end comes from `docs/performance-notes.md`). The figures of each host come \
             from its own benchmarks, on the same `.wasm` files: {}; the loop from \
             `tests/benches/conformance_loop.rs`. Times are means per iteration.\n",
            self.date,
            sources.join("; ")
        );
        self.targets(out);
        self.calls(out);
        self.values(out);
        self.compile_and_instance(out);
        self.sizes(out);
        self.conformance_loop(out);
        let _ = writeln!(out, "## Chart\n\n![time per call]({})\n", self.chart);
        let _ = writeln!(out, "## Where this ran\n\n| | |\n|---|---|");
        for (what, value) in &self.environment {
            let _ = writeln!(out, "| {what} | {} |", cell(value));
        }
        let _ = writeln!(out, "\n## Analysis\n\n{}", self.notes.trim());
        page
    }

    fn targets(&self, out: &mut String) {
        let _ = writeln!(out, "## Targets\n");
        let _ = writeln!(out, "| target | subject | measured | |\n|---|---|---|---|");
        for verdict in self.verdicts {
            let status = match verdict.met {
                Some(true) => "met".to_owned(),
                Some(false) => format!("**missed**: see [why](#{})", verdict.id),
                None => "not measured".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {status} |",
                verdict.target, verdict.subject, verdict.measured
            );
        }
        let _ = writeln!(out);
    }

    fn calls(&self, out: &mut String) {
        let hosts = hosts();
        let _ = writeln!(
            out,
            "## Per call\n\nOne instance, called over and over. `x noop` is the call's time over \
             the `noop` export's on the same host and plugin (the fixed cost of a call); \
             `<host>/<reference>` is a host's time over the reference host's.\n"
        );
        let _ = writeln!(
            out,
            "{}",
            head(&["scenario", "plugin"], &hosts, &["x noop"], false)
        );
        for scenario in SCENARIOS {
            for language in LANGUAGES {
                let id = format!("call/{language}/{scenario}");
                let noop = format!("call/{language}/noop");
                let mut row = format!("| {scenario} | {language} |");
                for &host in &hosts {
                    let ns = self.ns(host, &id);
                    let over_noop = match (ns, self.ns(host, &noop)) {
                        (Some(ns), Some(floor)) => format!("{:.2}", ns / floor),
                        _ => "-".to_owned(),
                    };
                    let _ = write!(row, " {} | {over_noop} |", time(ns));
                }
                for (host, reference) in others(&hosts) {
                    let _ = write!(
                        row,
                        " {} |",
                        ratio(self.ns(host, &id), self.ns(reference, &id))
                    );
                }
                let _ = writeln!(out, "{row}");
            }
        }
        let _ = writeln!(out);
    }

    fn values(&self, out: &mut String) {
        let hosts = hosts();
        let _ = writeln!(
            out,
            "## Moving values\n\n`lookup` of a key whose value has the given size: one \
             `hostMemoryGet` that copies the value into Extism memory, the plugin reading it, \
             and the same bytes going back out as the call's output. Bytes of value per second.\n"
        );
        let _ = writeln!(out, "{}", head(&["value", "plugin"], &hosts, &[], true));
        for (scenario, bytes) in [("get_1KiB", 1u64 << 10), ("get_1MiB", 1 << 20)] {
            for language in LANGUAGES {
                let id = format!("call/{language}/{scenario}");
                let rate = |host: &Host| self.ns(host, &id).map(|ns| bytes as f64 / ns * 1e9);
                let mut row = format!("| {} | {language} |", &scenario[4..]);
                for &host in &hosts {
                    let _ = write!(row, " {} |", throughput(rate(host)));
                }
                for (host, reference) in others(&hosts) {
                    let _ = write!(row, " {} |", ratio(rate(reference), rate(host)));
                }
                let _ = writeln!(out, "{row}");
            }
        }
        let _ = writeln!(out);
    }

    fn compile_and_instance(&self, out: &mut String) {
        let hosts = hosts();
        let _ = writeln!(
            out,
            "## Compiling and instantiating\n\nCold: no compilation cache. Cached: the module \
             compiled before (each host's own compilation cache: wasmtime's on-disk cache, a \
             wazero compilation cache). Ready instance: from a compiled module to an instance \
             that can take a call, including a WASI reactor's `_initialize`, and dropping it (on \
             a host whose runtime instantiates at the first call, a `noop` call is \
             subtracted).\n"
        );
        let _ = writeln!(out, "{}", head(&["plugin", "what"], &hosts, &[], false));
        for language in LANGUAGES {
            let rows: [(&str, Figure); 3] = [
                (
                    "compile, cold",
                    Box::new(|host| self.ns(host, &format!("compile/{language}/cold"))),
                ),
                (
                    "compile, cached",
                    Box::new(|host| self.ns(host, &format!("compile/{language}/cached"))),
                ),
                (
                    "ready instance",
                    Box::new(|host| ready_instance_ns(self.figures, host, language)),
                ),
            ];
            for (what, ns) in rows {
                let mut row = format!("| {language} | {what} |");
                for &host in &hosts {
                    let _ = write!(row, " {} |", time(ns(host)));
                }
                for (host, reference) in others(&hosts) {
                    let _ = write!(row, " {} |", ratio(ns(host), ns(reference)));
                }
                let _ = writeln!(out, "{row}");
            }
        }
        let _ = writeln!(out);
    }

    fn sizes(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "## Plugin sizes\n\n`target/plugins/<language>/conformance.wasm` as \
             `cargo xtask build-plugins` leaves it.\n\n| plugin | bytes |\n|---|---:|"
        );
        for language in LANGUAGES {
            let bytes = self
                .sizes
                .get(language)
                .map_or("not built".to_owned(), |bytes| bytes.to_string());
            let _ = writeln!(out, "| {language} | {bytes} |");
        }
        let _ = writeln!(out);
    }

    fn conformance_loop(&self, out: &mut String) {
        let _ = writeln!(out, "## The conformance loop\n");
        let Some(measured) = self.conformance_loop else {
            let _ = writeln!(out, "Not measured.\n");
            return;
        };
        let runs = |seconds: &[f64]| {
            let each: Vec<String> = seconds.iter().map(|s| format!("{s:.1}")).collect();
            format!("{:.1} s | {} |", median(seconds), each.join(", "))
        };
        let _ = writeln!(
            out,
            "Each a real `cargo` in this workspace (dev profile, as a user runs it), everything \
             built first; the median and each run.\n\n\
             | what | median | runs (s) |\n|---|---:|---|\n\
             | `cargo test --test conformance`, nothing changed (every verdict reused) | {}\n\
             | `CONFORMANCE_RUN_ALL=1 cargo test --test conformance` (every trial run) | {}\n\
             | `cargo test`, nothing changed (the whole workspace) | {}\n",
            runs(&measured.reused_run_seconds),
            runs(&measured.built_run_seconds),
            runs(&measured.no_op_test_seconds),
        );
        let _ = writeln!(
            out,
            "From appending a comment to one source to the verdict of `cargo test --test \
             conformance`, the file restored (and its verdicts reused) between runs. A plugin's \
             comment leaves its module's bytes as they were, so every verdict is reused after \
             the rebuild; a host adapter's comment changes the host's build fingerprint, so \
             every trial on that host runs again.\n\n\
             | edited | rebuilds | median | runs (s) |\n|---|---|---:|---|"
        );
        for edit in &measured.edits {
            let _ = writeln!(
                out,
                "| `{}` | {} {} | {}",
                edit.file,
                edit.kind,
                edit.names.join(", "),
                runs(&edit.seconds)
            );
        }
        let _ = writeln!(out);
    }

    fn ns(&self, host: &Host, id: &str) -> Option<f64> {
        self.figures.ns(host, id)
    }
}

/// One figure of a plugin, read for any host.
type Figure<'a> = Box<dyn Fn(&Host) -> Option<f64> + 'a>;

/// The hosts with benchmarks: the page's columns.
fn hosts() -> Vec<&'static Host> {
    measured_hosts().into_iter().map(|(host, _)| host).collect()
}

/// Each host after the first, with the first: the ratio columns.
fn others<'a>(
    hosts: &'a [&'static Host],
) -> impl Iterator<Item = (&'static Host, &'static Host)> + 'a {
    hosts.iter().skip(1).map(move |&host| (host, hosts[0]))
}

/// A table's head and rule: the `leading` columns, each host's column followed by its
/// `per_host` ones, then a ratio column per host after the first, `<host>/<reference>` (or the
/// other way round when `inverted`, for rates where more is better).
fn head(leading: &[&str], hosts: &[&'static Host], per_host: &[&str], inverted: bool) -> String {
    let mut header = format!("| {} |", leading.join(" | "));
    let mut rule = "|---".repeat(leading.len()) + "|";
    for host in hosts {
        let _ = write!(header, " {host} |");
        for column in per_host {
            let _ = write!(header, " {column} |");
        }
        rule += &"---:|".repeat(1 + per_host.len());
    }
    for (host, reference) in others(hosts) {
        let (numerator, denominator) = if inverted {
            (reference, host)
        } else {
            (host, reference)
        };
        let _ = write!(header, " {}/{} |", short(numerator), short(denominator));
        rule += "---:|";
    }
    format!("{header}\n{rule}")
}

/// `go-host` is `go` in a ratio's column head.
fn short(host: &Host) -> &str {
    host.name().strip_suffix("-host").unwrap_or(host.name())
}

fn time(ns: Option<f64>) -> String {
    ns.map_or("-".to_owned(), duration)
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => format!("{:.2}", n / d),
        _ => "-".to_owned(),
    }
}

fn throughput(bytes_per_second: Option<f64>) -> String {
    match bytes_per_second {
        Some(rate) if rate >= (1u64 << 30) as f64 => {
            format!("{:.2} GiB/s", rate / (1u64 << 30) as f64)
        }
        Some(rate) => format!("{:.0} MiB/s", rate / (1u64 << 20) as f64),
        None => "-".to_owned(),
    }
}

/// A table cell: no pipes or line breaks from a tool's version line.
fn cell(text: &str) -> String {
    text.replace('|', "/").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::Figures;
    use crate::table::HOSTS;

    #[test]
    fn every_host_with_benchmarks_gets_its_columns_and_a_ratio_to_the_reference() {
        let host = |name| HOSTS.iter().find(|h| h.name() == name).unwrap();
        let mut figures = Figures::default();
        figures.insert(host("rust-host"), "call/rust/noop", 1_000.0);
        figures.insert(host("rust-host"), "call/rust/say_hello", 2_000.0);
        figures.insert(host("go-host"), "call/rust/say_hello", 6_000.0);
        let sizes = Sizes(Vec::new());
        let page = Page {
            date: "2026-12-01".into(),
            environment: Vec::new(),
            figures: &figures,
            sizes: &sizes,
            conformance_loop: None,
            verdicts: &[],
            notes: String::new(),
            chart: "chart.svg",
        }
        .render();
        assert!(
            page.contains(
                "| scenario | plugin | rust-host | x noop | go-host | x noop | python-host | x noop \
                 | node-host | x noop | java-host | x noop | java-aot-host | x noop | go/rust \
                 | python/rust | node/rust | java/rust | java-aot/rust |"
            ),
            "{page}"
        );
        assert!(
            page.contains(
                "| say_hello | rust | 2.0 us | 2.00 | 6.0 us | - | - | - | - | - | - | - | - | - | 3.00 \
                 | - | - | - | - |"
            ),
            "{page}"
        );
        assert!(
            page.contains(
                "| say_hello | go | - | - | - | - | - | - | - | - | - | - | - | - | - | - | - | - | - |"
            ),
            "{page}"
        );
        assert!(
            page.contains(
                "| value | plugin | rust-host | go-host | python-host | node-host | java-host \
                 | java-aot-host | rust/go | rust/python | rust/node | rust/java | rust/java-aot \
                 |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            ),
            "{page}"
        );
        assert!(
            page.contains(
                "| plugin | what | rust-host | go-host | python-host | node-host | java-host \
                 | java-aot-host | go/rust | python/rust | node/rust | java/rust | java-aot/rust \
                 |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            ),
            "{page}"
        );
        // The chart draws whatever hosts and languages there are.
        let svg = crate::bench::chart::draw(&figures).unwrap();
        assert!(
            svg.contains(
                "rust-host (blue), go-host (orange), python-host (green), node-host (red)"
            ),
            "{svg}"
        );
    }
}
