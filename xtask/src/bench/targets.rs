//! The targets, each checked against the figures: met, missed, or not measured (with
//! the reason), for every language it applies to.

use crate::bench::results::{median, Figures, Loop};
use crate::bench::{measured_hosts, Sizes};
use crate::table::{Host, Language, HOSTS, LANGUAGES};

/// One target for one subject.
pub(crate) struct Verdict {
    /// The target's anchor in the analysis notes (`docs/performance-notes.md`).
    pub(crate) id: &'static str,
    pub(crate) target: String,
    pub(crate) subject: String,
    pub(crate) measured: String,
    /// `None`: not measured, and `measured` says why.
    pub(crate) met: Option<bool>,
}

const NOT_MEASURED: &str = "not measured";

/// The host the per-call targets are set for: the in-process one, the reference every other
/// host is compared with.
pub(crate) fn reference_host() -> Option<&'static Host> {
    HOSTS.iter().find(|host| host.in_process)
}

pub(crate) fn check(
    figures: &Figures,
    sizes: &Sizes,
    conformance_loop: Option<&Loop>,
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let others: Vec<&Host> = measured_hosts()
        .into_iter()
        .map(|(host, _)| host)
        .filter(|host| !host.in_process)
        .collect();
    for language in LANGUAGES {
        if let Some(reference) = reference_host() {
            reference_targets(&mut verdicts, figures, reference, &others, language);
        }
        if let Some(limit) = language.size_target {
            let target = format!("the {language} plugin under {} KB", limit / 1000);
            verdicts.push(match sizes.get(language) {
                Some(bytes) => Verdict {
                    id: "plugin-size",
                    target,
                    subject: format!("{language}"),
                    measured: format!("{bytes} B"),
                    met: Some(bytes < limit),
                },
                None => not_measured("plugin-size", target, format!("{language}")),
            });
        }
    }
    loop_targets(&mut verdicts, conformance_loop);
    verdicts
}

/// The loop's targets: seconds, each the median of the runs.
const EDIT_TARGET: (&str, f64) = ("edit to verdict under 10 s", 10.0);
const BUILT_RUN_TARGET: (&str, f64) = ("the built full run, every trial run, under 30 s", 30.0);
const NO_OP_TARGET: (&str, f64) = ("the warm no-op `cargo test` under 3 s", 3.0);

fn loop_targets(verdicts: &mut Vec<Verdict>, conformance_loop: Option<&Loop>) {
    let Some(measured) = conformance_loop else {
        for (id, (target, _), subject) in [
            (
                "edit-to-verdict",
                EDIT_TARGET,
                "every plugin and host source",
            ),
            (
                "built-run",
                BUILT_RUN_TARGET,
                "CONFORMANCE_RUN_ALL=1 cargo test --test conformance",
            ),
            ("no-op-test", NO_OP_TARGET, "cargo test"),
        ] {
            verdicts.push(not_measured(id, target.to_owned(), subject.to_owned()));
        }
        return;
    };
    let seconds = |id, (target, limit): (&str, f64), subject: String, runs: &[f64]| {
        let median = median(runs);
        Verdict {
            id,
            target: target.to_owned(),
            subject,
            measured: format!("{median:.1} s (median of {})", runs.len()),
            met: Some(median < limit),
        }
    };
    for edit in &measured.edits {
        let subject = format!("{} ({} {})", edit.file, edit.kind, edit.names.join(", "));
        verdicts.push(seconds(
            "edit-to-verdict",
            EDIT_TARGET,
            subject,
            &edit.seconds,
        ));
    }
    verdicts.push(seconds(
        "built-run",
        BUILT_RUN_TARGET,
        "CONFORMANCE_RUN_ALL=1 cargo test --test conformance".to_owned(),
        &measured.built_run_seconds,
    ));
    verdicts.push(seconds(
        "no-op-test",
        NO_OP_TARGET,
        "cargo test".to_owned(),
        &measured.no_op_test_seconds,
    ));
}

/// The per-call targets of the reference host for one language, and its lead over each other
/// host.
fn reference_targets(
    verdicts: &mut Vec<Verdict>,
    figures: &Figures,
    reference: &Host,
    others: &[&Host],
    language: &Language,
) {
    let call =
        |host: &Host, scenario: &str| figures.ns(host, &format!("call/{language}/{scenario}"));
    let subject = format!("{language} on {reference}");
    verdicts.push(ratio_at_most(
        "say-hello-vs-noop",
        format!("say_hello at most 1.3x the no-op call ({reference})"),
        subject.clone(),
        call(reference, "say_hello"),
        call(reference, "noop"),
        1.3,
    ));
    for &other in others {
        let Some(lead) = other.bench.and_then(|bench| bench.reference_lead) else {
            continue;
        };
        let target = format!("{reference} at least {lead}x faster per say_hello than {other}");
        verdicts.push(
            match (call(other, "say_hello"), call(reference, "say_hello")) {
                (Some(theirs), Some(ours)) => Verdict {
                    id: "rust-vs-go-host",
                    target,
                    subject: format!("{language}"),
                    measured: format!("{:.2}x faster", theirs / ours),
                    met: Some(theirs / ours >= lead),
                },
                _ => not_measured("rust-vs-go-host", target, format!("{language}")),
            },
        );
    }
    let target = format!("at least 4 GiB/s for a 1 MiB value ({reference})");
    verdicts.push(match call(reference, "get_1MiB") {
        Some(ns) => {
            let gib_s = (1u64 << 20) as f64 / ns * 1e9 / (1u64 << 30) as f64;
            Verdict {
                id: "one-mib-value",
                target,
                subject: subject.clone(),
                measured: format!("{gib_s:.2} GiB/s"),
                met: Some(gib_s >= 4.0),
            }
        }
        None => not_measured("one-mib-value", target, subject.clone()),
    });
    let target = format!("a ready instance in under 50 us ({reference})");
    verdicts.push(match ready_instance_ns(figures, reference, language) {
        Some(ns) => Verdict {
            id: "ready-instance",
            target,
            subject,
            measured: super::duration(ns),
            met: Some(ns < 50_000.0),
        },
        None => not_measured("ready-instance", target, subject),
    });
}

/// An instance ready for a call: a host whose benchmark makes one and calls `noop` (a runtime
/// that instantiates at the first call) has a `noop` call taken off.
pub(crate) fn ready_instance_ns(
    figures: &Figures,
    host: &Host,
    language: &Language,
) -> Option<f64> {
    let instance = figures.ns(host, &format!("instance/{language}"))?;
    match host.bench {
        Some(bench) if bench.instance_includes_noop => {
            Some(instance - figures.ns(host, &format!("call/{language}/noop"))?)
        }
        _ => Some(instance),
    }
}

fn ratio_at_most(
    id: &'static str,
    target: String,
    subject: String,
    numerator: Option<f64>,
    denominator: Option<f64>,
    limit: f64,
) -> Verdict {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => Verdict {
            id,
            target,
            subject,
            measured: format!("{:.2}x", n / d),
            met: Some(n / d <= limit),
        },
        _ => not_measured(id, target, subject),
    }
}

fn not_measured(id: &'static str, target: String, subject: String) -> Verdict {
    Verdict {
        id,
        target,
        subject,
        measured: NOT_MEASURED.to_owned(),
        met: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict<'a>(verdicts: &'a [Verdict], id: &str, subject: &str) -> &'a Verdict {
        verdicts
            .iter()
            .find(|v| v.id == id && v.subject == subject)
            .unwrap_or_else(|| panic!("no verdict {id} for {subject}"))
    }

    #[test]
    fn targets_are_judged_from_the_figures_and_unmeasured_ones_say_so() {
        let host = |name| HOSTS.iter().find(|h| h.name() == name).unwrap();
        let language = |name| Language::from_name(name).unwrap();
        let (rust_host, go_host) = (host("rust-host"), host("go-host"));
        let mut figures = Figures::default();
        figures.insert(rust_host, "call/rust/noop", 4_000.0);
        figures.insert(rust_host, "call/rust/say_hello", 5_000.0);
        figures.insert(go_host, "call/rust/say_hello", 12_000.0);
        figures.insert(rust_host, "call/rust/get_1MiB", 2_000_000.0);
        figures.insert(rust_host, "instance/rust", 44_000.0);
        let sizes = Sizes(vec![
            (language("rust"), 39_999),
            (language("tinygo"), 200_000),
        ]);
        let verdicts = check(&figures, &sizes, None);

        let ratio = verdict(&verdicts, "say-hello-vs-noop", "rust on rust-host");
        assert_eq!((ratio.measured.as_str(), ratio.met), ("1.25x", Some(true)));
        let hosts = verdict(&verdicts, "rust-vs-go-host", "rust");
        assert_eq!(
            (hosts.measured.as_str(), hosts.met),
            ("2.40x faster", Some(false))
        );
        let rate = verdict(&verdicts, "one-mib-value", "rust on rust-host");
        assert_eq!(
            (rate.measured.as_str(), rate.met),
            ("0.49 GiB/s", Some(false))
        );
        // 44 us for an instance and its first noop call, less a 4 us noop call.
        let instance = verdict(&verdicts, "ready-instance", "rust on rust-host");
        assert_eq!(
            (instance.measured.as_str(), instance.met),
            ("40.0 us", Some(true))
        );
        assert_eq!(verdict(&verdicts, "plugin-size", "rust").met, Some(true));
        assert_eq!(verdict(&verdicts, "plugin-size", "tinygo").met, Some(false));
        let unmeasured = verdict(&verdicts, "say-hello-vs-noop", "tinygo on rust-host");
        assert_eq!(
            (unmeasured.measured.as_str(), unmeasured.met),
            (NOT_MEASURED, None)
        );
        let built_run = "CONFORMANCE_RUN_ALL=1 cargo test --test conformance";
        assert_eq!(verdict(&verdicts, "built-run", built_run).met, None);

        // The loop's targets: each the median of its runs.
        let measured = Loop {
            reused_run_seconds: vec![1.0, 1.2, 1.1],
            built_run_seconds: vec![40.0, 20.0, 35.0],
            no_op_test_seconds: vec![2.0, 9.0, 2.5],
            edits: vec![crate::bench::results::LoopEdit {
                file: "plugins-c/conformance.c".to_owned(),
                kind: "plugin".to_owned(),
                names: vec!["c".to_owned()],
                seconds: vec![9.0, 11.0, 12.0],
            }],
        };
        let verdicts = check(&figures, &sizes, Some(&measured));
        let run = verdict(&verdicts, "built-run", built_run);
        assert_eq!(
            (run.measured.as_str(), run.met),
            ("35.0 s (median of 3)", Some(false))
        );
        let no_op = verdict(&verdicts, "no-op-test", "cargo test");
        assert_eq!(
            (no_op.measured.as_str(), no_op.met),
            ("2.5 s (median of 3)", Some(true))
        );
        let edit = verdict(
            &verdicts,
            "edit-to-verdict",
            "plugins-c/conformance.c (plugin c)",
        );
        assert_eq!(edit.met, Some(false));
    }
}
