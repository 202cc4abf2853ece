//! The targets, each checked against the figures: met, missed, or not measured (with
//! the reason), for every language it applies to.

use crate::bench::results::{Figures, Loop};
use crate::bench::Sizes;
use crate::{Host, Language};

/// One target for one subject.
pub(crate) struct Verdict {
    /// The target's anchor in the analysis notes (`docs/performance-notes.md`).
    pub(crate) id: &'static str,
    pub(crate) target: &'static str,
    pub(crate) subject: String,
    pub(crate) measured: String,
    /// `None`: not measured, and `measured` says why.
    pub(crate) met: Option<bool>,
}

const NOT_MEASURED: &str = "not measured";

pub(crate) fn check(
    figures: &Figures,
    sizes: &Sizes,
    conformance_loop: Option<&Loop>,
    languages: &[Language],
) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    let rust = Host::Rust;
    for &language in languages {
        let call =
            |host: Host, scenario: &str| figures.ns(host, &format!("call/{language}/{scenario}"));
        let subject = format!("{language} on rust-host");
        verdicts.push(ratio_at_most(
            "say-hello-vs-noop",
            "say_hello at most 1.3x the no-op call (Rust host)",
            subject.clone(),
            call(rust, "say_hello"),
            call(rust, "noop"),
            1.3,
        ));
        let (go_hello, rust_hello) = (call(Host::Go, "say_hello"), call(rust, "say_hello"));
        verdicts.push(match (go_hello, rust_hello) {
            (Some(go), Some(rust)) => Verdict {
                id: "rust-vs-go-host",
                target: "Rust host at least 3x faster per say_hello than the Go host",
                subject: format!("{language}"),
                measured: format!("{:.2}x faster", go / rust),
                met: Some(go / rust >= 3.0),
            },
            _ => not_measured(
                "rust-vs-go-host",
                "Rust host at least 3x faster per say_hello than the Go host",
                format!("{language}"),
            ),
        });
        verdicts.push(match call(rust, "get_1MiB") {
            Some(ns) => {
                let gib_s = (1u64 << 20) as f64 / ns * 1e9 / (1u64 << 30) as f64;
                Verdict {
                    id: "one-mib-value",
                    target: "at least 4 GiB/s for a 1 MiB value (Rust host)",
                    subject: subject.clone(),
                    measured: format!("{gib_s:.2} GiB/s"),
                    met: Some(gib_s >= 4.0),
                }
            }
            None => not_measured(
                "one-mib-value",
                "at least 4 GiB/s for a 1 MiB value (Rust host)",
                subject.clone(),
            ),
        });
        verdicts.push(match ready_instance_ns(figures, rust, language) {
            Some(ns) => Verdict {
                id: "ready-instance",
                target: "a ready instance in under 50 us (Rust host)",
                subject: subject.clone(),
                measured: super::duration(ns),
                met: Some(ns < 50_000.0),
            },
            None => not_measured(
                "ready-instance",
                "a ready instance in under 50 us (Rust host)",
                subject.clone(),
            ),
        });
        let size_limit = match language {
            Language::Rust => Some(40_000),
            Language::TinyGo => Some(200_000),
            // No target: the page reports its size and instance cost and what shrinks them.
            Language::Go => None,
        };
        if let Some(limit) = size_limit {
            let target = match language {
                Language::Rust => "the Rust plugin under 40 KB",
                _ => "the TinyGo plugin under 200 KB",
            };
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
    let edit_target = "edit to verdict under 15 s for one changed plugin";
    let run_target = "the built conformance run under 5 s";
    match conformance_loop {
        Some(measured) => {
            for (file, languages, seconds) in &measured.edits {
                verdicts.push(Verdict {
                    id: "edit-to-verdict",
                    target: edit_target,
                    subject: format!("{file} ({})", languages.join(", ")),
                    measured: format!("{seconds:.1} s"),
                    met: Some(*seconds < 15.0),
                });
            }
            let median = measured.built_run_median();
            verdicts.push(Verdict {
                id: "built-run",
                target: run_target,
                subject: "cargo test --test conformance".to_owned(),
                measured: format!(
                    "{median:.1} s (median of {})",
                    measured.built_run_seconds.len()
                ),
                met: Some(median < 5.0),
            });
        }
        None => {
            verdicts.push(not_measured(
                "edit-to-verdict",
                edit_target,
                "every plugin source".into(),
            ));
            verdicts.push(not_measured(
                "built-run",
                run_target,
                "cargo test --test conformance".into(),
            ));
        }
    }
    verdicts
}

/// An instance ready for a call: the Rust host's benchmark makes one and calls `noop` (Extism
/// instantiates at the first call), so a `noop` call comes off; host-go's makes one outright.
pub(crate) fn ready_instance_ns(figures: &Figures, host: Host, language: Language) -> Option<f64> {
    let instance = figures.ns(host, &format!("instance/{language}"))?;
    match host {
        Host::Rust => Some(instance - figures.ns(host, &format!("call/{language}/noop"))?),
        Host::Go => Some(instance),
    }
}

fn ratio_at_most(
    id: &'static str,
    target: &'static str,
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

fn not_measured(id: &'static str, target: &'static str, subject: String) -> Verdict {
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
        let mut figures = Figures::default();
        figures.insert(Host::Rust, "call/rust/noop", 4_000.0);
        figures.insert(Host::Rust, "call/rust/say_hello", 5_000.0);
        figures.insert(Host::Go, "call/rust/say_hello", 12_000.0);
        figures.insert(Host::Rust, "call/rust/get_1MiB", 2_000_000.0);
        figures.insert(Host::Rust, "instance/rust", 44_000.0);
        let sizes = Sizes(vec![(Language::Rust, 39_999), (Language::TinyGo, 200_000)]);
        let verdicts = check(&figures, &sizes, None, &[Language::Rust, Language::TinyGo]);

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
        assert_eq!(
            verdict(&verdicts, "built-run", "cargo test --test conformance").met,
            None
        );
    }
}
