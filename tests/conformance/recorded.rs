//! The trials that are neither cases nor attacks (surfaces, the orphan check, the property test,
//! the fuzz, the protocol trials, the hosts' unit tests) record their verdict and time here, so
//! the report and the results page hold every trial of the run.

use std::sync::Mutex;
use std::time::Instant;

use conformance::report::OtherRecord;
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
    let name = name.into();
    Trial::ignorable_test(name.clone(), move || {
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
        RECORDED
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(OtherRecord {
                trial: name,
                verdict,
                millis: started.elapsed().as_millis() as u64,
            });
        result
    })
}

/// Everything recorded so far.
pub fn take() -> Vec<OtherRecord> {
    std::mem::take(&mut *RECORDED.lock().unwrap_or_else(|poison| poison.into_inner()))
}
