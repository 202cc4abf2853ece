//! The one path every trial takes, whatever its kind (case, attack, surface, property, fuzz,
//! protocol, a host's unit tests): reuse an earlier verdict or run the trial, apply the
//! known-failure list, record the verdict, and give libtest its completion. A known failure is
//! one line in the terminal (its diff is in report.json and on the page); a real failure prints
//! its message, and the diff insta printed above it.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use conformance::known::KNOWN_FAILURES_FILE;
use conformance::report::{Divergence, Kind, Record};
use conformance::reuse::{Kept, Store};
use conformance::verdict::Verdict;
use libtest_mimic::{Completion, Failed, Trial};

use crate::floor::rerun_command;

/// What is known of a trial before it runs.
pub struct Spec {
    pub name: String,
    pub kind: Kind,
    /// Its known-failure entry's reason, if listed.
    pub known: Option<String>,
    /// The docs/findings.md heading behind its known-failure entry.
    pub finding: Option<String>,
    /// The key of its verdict in the store of kept verdicts; none when it cannot be reused.
    pub key: Option<String>,
}

impl Spec {
    /// A trial of no particular kind, never a known failure.
    pub fn other(name: impl Into<String>, key: Option<String>) -> Spec {
        Spec {
            name: name.into(),
            kind: Kind::Other,
            known: None,
            finding: None,
            key,
        }
    }
}

/// What running a trial came to, before the known-failure list.
pub enum Attempt {
    Ran(Ran),
    /// It could not run (a toolchain or a build is missing): never reused, never a failure.
    Skip(String),
}

pub struct Ran {
    /// `Err` says how it diverged or why it could not be checked.
    pub result: Result<(), String>,
    pub divergence: Option<Divergence>,
    /// An attack's "what the host did", in a few words.
    pub seen: Option<String>,
}

impl Attempt {
    /// A trial that passed or failed with a message, nothing more to say.
    pub fn result(result: Result<(), String>) -> Attempt {
        Attempt::Ran(Ran {
            result,
            divergence: None,
            seen: None,
        })
    }
}

/// Whether a trial is listed as a known failure: its work then compares quietly, since its
/// diff is expected and goes to the report, not the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed(pub bool);

/// Set to anything but empty or `0` to see known failures' diffs in the terminal too, as insta
/// prints them (and, outside CI, the `.snap.new` files it writes for `cargo insta review`).
pub const SHOW_KNOWN_DIFFS_ENV: &str = "CONFORMANCE_SHOW_KNOWN_DIFFS";

/// Judges every trial of a run, and keeps their records.
pub struct Judge {
    store: Arc<Store>,
    /// [`SHOW_KNOWN_DIFFS_ENV`] is set: known failures compare as loudly as any other.
    show_known_diffs: bool,
    records: Mutex<Vec<Record>>,
}

impl Judge {
    pub fn new(store: Arc<Store>) -> Arc<Judge> {
        let show = std::env::var(SHOW_KNOWN_DIFFS_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        Arc::new(Judge {
            store,
            show_known_diffs: show,
            records: Mutex::new(Vec::new()),
        })
    }

    /// The trial `spec` names, which runs `work` unless a kept verdict can stand for it.
    pub fn trial(
        self: &Arc<Self>,
        spec: Spec,
        work: impl FnOnce(Listed) -> Attempt + Send + 'static,
    ) -> Trial {
        let judge = Arc::clone(self);
        let kept = spec.key.as_ref().and_then(|key| {
            self.store
                .reusable_judged(&spec.name, key, spec.known.as_deref())
        });
        Trial::ignorable_test(spec.name.clone(), move || {
            let started = Instant::now();
            let (attempt, reused) = match kept {
                Some(kept) => (kept_attempt(&kept), Some(kept.millis)),
                None => {
                    let listed = spec.known.is_some() && !judge.show_known_diffs;
                    (work(Listed(listed)), None)
                }
            };
            let millis = reused.unwrap_or_else(|| started.elapsed().as_millis() as u64);
            judge.conclude(spec, attempt, millis, reused.is_some())
        })
    }

    /// Keeps what ran, judges it, records it and says what libtest shows.
    fn conclude(
        &self,
        spec: Spec,
        attempt: Attempt,
        millis: u64,
        reused: bool,
    ) -> Result<Completion, Failed> {
        let Spec {
            name,
            mut kind,
            known,
            finding,
            key,
        } = spec;
        let (verdict, divergence, seen) = match attempt {
            Attempt::Skip(why) => (Verdict::Skip(why), None, "not run".to_owned()),
            Attempt::Ran(ran) => {
                if let (Some(key), false) = (key, reused) {
                    let kept = Kept::of(
                        key,
                        &ran.result,
                        ran.divergence.as_ref(),
                        ran.seen.clone(),
                        millis,
                    );
                    self.store.keep(&name, kept);
                }
                let verdict = Verdict::judge(ran.result, known.as_deref());
                (verdict, ran.divergence, ran.seen.unwrap_or_default())
            }
        };
        if let Kind::Attack { seen: shown, .. } = &mut kind {
            *shown = seen;
        }
        let completion = completion(&name, &verdict);
        let mut record = Record {
            trial: name,
            kind,
            verdict,
            millis,
            output: None,
            diff: None,
            finding: finding.filter(|_| known.is_some()),
            reused,
        };
        record.set_divergence(divergence);
        self.records
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(record);
        completion
    }

    /// Every record so far, taken once the run is over.
    pub fn take(&self) -> Vec<Record> {
        std::mem::take(&mut *self.records.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A kept verdict as if the trial had just run.
fn kept_attempt(kept: &Kept) -> Attempt {
    Attempt::Ran(Ran {
        result: kept.result(),
        divergence: kept.divergence(),
        seen: kept.seen.clone(),
    })
}

/// What libtest shows of a verdict: a known failure as one line, a failure with how to rerun it.
fn completion(name: &str, verdict: &Verdict) -> Result<Completion, Failed> {
    let rerun = rerun_command(name);
    match verdict {
        Verdict::Pass => Ok(Completion::Completed),
        Verdict::Skip(why) => Ok(Completion::ignored_with(why)),
        Verdict::XFail(reason) => {
            let first = reason.lines().next().unwrap_or_default();
            Ok(Completion::ignored_with(format!("known failure: {first}")))
        }
        Verdict::Fail(message) => Err(format!("{message}\nrerun: {rerun}").into()),
        Verdict::XPass(reason) => Err(format!(
            "{name} passes, but {KNOWN_FAILURES_FILE} lists it as a known failure ({reason}): \
             remove the entry\nrerun: {rerun}"
        )
        .into()),
    }
}
