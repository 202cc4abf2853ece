//! The trials that are neither cases nor attacks (surfaces, the orphan check, the property test,
//! the fuzz, the protocol trials, the hosts' unit tests) record their verdict and time here, so
//! the report and the results page hold every trial of the run.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use conformance::report::OtherRecord;
use conformance::reuse::{Kept, Store};
use conformance::verdict::Verdict;
use libtest_mimic::{Completion, Failed, Trial};

/// What the trials recorded, taken once the run is over.
static RECORDED: Mutex<Vec<OtherRecord>> = Mutex::new(Vec::new());

/// The prefix of an ignored trial's reason that makes it a known failure.
pub const KNOWN_FAILURE: &str = "known failure: ";

/// `Trial::test`, recorded.
pub fn test(
    name: impl Into<String>,
    run: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    ignorable(name, move || run().map(|()| Completion::Completed))
}

/// `Trial::ignorable_test`, recorded: an ignored trial is a skip, or a known failure when its
/// reason says so.
pub fn ignorable(
    name: impl Into<String>,
    run: impl FnOnce() -> Result<Completion, Failed> + Send + 'static,
) -> Trial {
    reusable(name, None, run)
}

/// [`test`], whose verdict is reused from an earlier run when `reuse`'s store kept a pass under
/// the same key.
pub fn reusable_test(
    name: impl Into<String>,
    reuse: Option<(Arc<Store>, String)>,
    run: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    reusable(name, reuse, move || run().map(|()| Completion::Completed))
}

/// [`ignorable`], whose verdict is reused from an earlier run when `reuse`'s store kept a pass
/// or a known failure under the same key (the key holds the known-failure entry). A failure or
/// a skip is never reused.
pub fn reusable(
    name: impl Into<String>,
    reuse: Option<(Arc<Store>, String)>,
    run: impl FnOnce() -> Result<Completion, Failed> + Send + 'static,
) -> Trial {
    let name = name.into();
    let kept = reuse.as_ref().and_then(|(store, key)| {
        store
            .reusable(&name, key)
            .filter(|kept| kept.error.is_none())
    });
    Trial::ignorable_test(name.clone(), move || {
        if let Some(kept) = kept {
            let (result, verdict) = match kept.known_failure {
                Some(reason) => (
                    Ok(Completion::ignored_with(format!("{KNOWN_FAILURE}{reason}"))),
                    Verdict::XFail(reason),
                ),
                None => (Ok(Completion::Completed), Verdict::Pass),
            };
            record(name, verdict, kept.millis, true);
            return result;
        }
        let started = Instant::now();
        let result = run();
        let verdict = match &result {
            Ok(Completion::Completed) => Verdict::Pass,
            Ok(Completion::Ignored { reason }) => {
                let reason = reason.clone().unwrap_or_default();
                match reason.strip_prefix(KNOWN_FAILURE) {
                    Some(known) => Verdict::XFail(known.to_owned()),
                    None => Verdict::Skip(reason),
                }
            }
            Err(failed) => Verdict::Fail(failed.message().unwrap_or("failed").to_owned()),
        };
        let millis = started.elapsed().as_millis() as u64;
        if let Some((store, key)) = reuse {
            let (error, known_failure) = match &verdict {
                Verdict::Pass => (None, None),
                Verdict::XFail(reason) => (None, Some(reason.clone())),
                Verdict::Fail(message) => (Some(message.clone()), None),
                // A skip says a toolchain is missing: the next run looks again.
                Verdict::Skip(_) | Verdict::XPass(_) => (Some(verdict.word().to_owned()), None),
            };
            let kept = Kept {
                key,
                error,
                output: None,
                diff: None,
                seen: None,
                known_failure,
                millis,
            };
            store.keep(&name, kept);
        }
        record(name, verdict, millis, false);
        result
    })
}

fn record(trial: String, verdict: Verdict, millis: u64, reused: bool) {
    RECORDED
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .push(OtherRecord {
            trial,
            verdict,
            millis,
            reused,
        });
}

/// Everything recorded so far.
pub fn take() -> Vec<OtherRecord> {
    std::mem::take(&mut *RECORDED.lock().unwrap_or_else(|poison| poison.into_inner()))
}
