//! Verdicts reused from an earlier run. A trial's verdict is kept in
//! `target/conformance/verdicts.json` under a key: the SHA-256 of everything its outcome depends
//! on (the code of the harness and of the in-process host this executable was built from, the
//! protocol host's build, the module's bytes, the case file, the snapshot, the contract's and
//! the protocol's versions, which are the harness's code). A later run whose key for the trial
//! is the same reuses the verdict instead of running the trial; any change to any of those
//! makes a new key, so a kept verdict can only be reused for exactly what produced it.
//!
//! Only results that need no attention are reused: a pass, or a failure its known-failure entry
//! expects (the known-failure list is applied afresh, so adding or removing an entry never needs
//! a rerun to be seen). A failure, an unexpected pass or a skip always runs again. Under
//! `CI=true`, with `CONFORMANCE_RUN_ALL=1`, with `--run-all`, or when the run is filtered
//! (naming a trial means wanting it run), every trial runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where the verdicts are kept, relative to the project root.
pub const STORE_FILE: &str = "target/conformance/verdicts.json";
pub use suite::run_all::{ENV as RUN_ALL_ENV, FLAG as RUN_ALL_FLAG};
/// The hash of the harness's sources (tests/, xtask/, the workspace's manifests and lock
/// file and toolchain pin) as this executable was built from them (tests/build.rs).
pub const HARNESS_HASH: &str = env!("CONFORMANCE_HARNESS_HASH");
/// The same of the in-process Rust host's sources (host/).
pub const RUST_HOST_HASH: &str = env!("CONFORMANCE_RUST_HOST_HASH");
/// The store's format; a store of another format is not read.
const FORMAT: u32 = 3;
/// How many verdicts a trial keeps, under different keys, newest first: an edit undone (or a
/// branch switched back) finds the verdicts of before the edit still there.
const KEPT_PER_TRIAL: usize = 3;

/// Whether this run may reuse verdicts, and if not, why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    Reuse,
    RunAll(String),
}

impl Policy {
    /// For the report: why every trial ran, if it did.
    pub fn run_all(&self) -> Option<String> {
        match self {
            Policy::Reuse => None,
            Policy::RunAll(why) => Some(why.clone()),
        }
    }

    /// `ci`: CI=true; `env`: the value of [`RUN_ALL_ENV`]; `flag`: [`RUN_ALL_FLAG`] given;
    /// `filtered`: the run names the trials it wants.
    pub fn decide(ci: bool, env: Option<&str>, flag: bool, filtered: bool) -> Policy {
        let env = env.filter(|value| !value.is_empty() && *value != "0");
        if ci {
            Policy::RunAll("CI=true".to_owned())
        } else if let Some(value) = env {
            Policy::RunAll(format!("{RUN_ALL_ENV}={value}"))
        } else if flag {
            Policy::RunAll(RUN_ALL_FLAG.to_owned())
        } else if filtered {
            Policy::RunAll("a filtered run".to_owned())
        } else {
            Policy::Reuse
        }
    }
}

/// A key under construction: each part is labelled and length-prefixed, so no two different
/// sets of parts hash alike.
pub struct Key(Sha256);

impl Key {
    /// A key of a kind of trial (`case`, `attack`, `property`, ...), on this harness.
    pub fn new(kind: &str) -> Key {
        Key(Sha256::new())
            .part("format", FORMAT.to_string().as_bytes())
            .part("kind", kind.as_bytes())
            .part("harness", HARNESS_HASH.as_bytes())
    }

    pub fn part(mut self, label: &str, bytes: &[u8]) -> Key {
        for piece in [label.as_bytes(), bytes] {
            self.0.update((piece.len() as u64).to_le_bytes());
            self.0.update(piece);
        }
        self
    }

    /// The contents of `root/relative`, or that it is absent: a snapshot not yet written is a
    /// state of its own.
    pub fn file(self, root: &Path, relative: &str) -> Key {
        self.path(relative, &root.join(relative))
    }

    /// The contents of the file at `path` under `label`, or that it is absent.
    pub fn path(self, label: &str, path: &Path) -> Key {
        match std::fs::read(path) {
            Ok(bytes) => self.part(label, &bytes),
            Err(_) => self.part(label, b"\0absent"),
        }
    }

    pub fn finish(self) -> String {
        format!("{:x}", self.0.finalize())
    }
}

/// The SHA-256 of `bytes`, for a part of a key that is used by many (a module's bytes).
pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// What one trial came to, as it is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub key: String,
    /// How the trial failed, before the known-failure list was applied; none when it came out
    /// as the contract says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What it rendered, and the diff against its snapshot, when the two differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// An attack's "what the host did", in a few words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
    /// How long it took when it ran.
    pub millis: u64,
}

impl Kept {
    /// What a trial came to (before the known-failure list), to keep under `key`.
    pub fn of(
        key: String,
        result: &Result<(), String>,
        divergence: Option<&crate::report::Divergence>,
        seen: Option<String>,
        millis: u64,
    ) -> Kept {
        Kept {
            key,
            error: result.clone().err(),
            output: divergence.map(|d| d.output.clone()),
            diff: divergence.map(|d| d.diff.clone()),
            seen,
            millis,
        }
    }

    /// The kept result, before the known-failure list.
    pub fn result(&self) -> Result<(), String> {
        self.error.clone().map_or(Ok(()), Err)
    }

    /// The kept output and diff, if the trial diverged from its snapshot.
    pub fn divergence(&self) -> Option<crate::report::Divergence> {
        let (output, diff) = (self.output.clone()?, self.diff.clone()?);
        Some(crate::report::Divergence { output, diff })
    }
}

#[derive(Serialize, Deserialize)]
struct File {
    format: u32,
    trials: BTreeMap<String, Vec<Kept>>,
}

/// The kept verdicts: those of earlier runs, and this run's as its trials end.
pub struct Store {
    path: PathBuf,
    policy: Policy,
    earlier: BTreeMap<String, Vec<Kept>>,
    now: Mutex<BTreeMap<String, Kept>>,
}

impl Store {
    /// Reads the store at `root/`[`STORE_FILE`]. A missing, unreadable or foreign file is an
    /// empty store (said once on stderr when it is not merely missing): the trials run.
    pub fn load(root: &Path, policy: Policy) -> Store {
        Store::load_file(root.join(STORE_FILE), policy)
    }

    /// Reads the store at `path`, as [`Store::load`] does.
    pub fn load_file(path: PathBuf, policy: Policy) -> Store {
        let earlier = match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str::<File>(&text) {
                Ok(file) if file.format == FORMAT => file.trials,
                Ok(_) => BTreeMap::new(),
                Err(error) => {
                    eprintln!("conformance: {STORE_FILE} is not a store of verdicts ({error}): every trial runs");
                    BTreeMap::new()
                }
            },
            Err(_) => BTreeMap::new(),
        };
        Store {
            path,
            policy,
            earlier,
            now: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The kept verdict of `trial`, if this run may reuse it and it was kept under `key`.
    pub fn reusable(&self, trial: &str, key: &str) -> Option<Kept> {
        if self.policy != Policy::Reuse {
            return None;
        }
        let kept = self.earlier.get(trial)?;
        kept.iter().find(|kept| kept.key == key).cloned()
    }

    /// The kept verdict of a case or an attack, if [`Store::reusable`] has it and, with the
    /// known-failure entry `known` applied now, it is a pass or an expected failure: what needs
    /// attention always runs again.
    pub fn reusable_judged(&self, trial: &str, key: &str, known: Option<&str>) -> Option<Kept> {
        let kept = self.reusable(trial, key)?;
        let verdict = crate::verdict::Verdict::judge(kept.result(), known);
        use crate::verdict::Verdict::{Pass, XFail};
        matches!(verdict, Pass | XFail(_)).then_some(kept)
    }

    /// Keeps what `trial` came to in this run (reused or not).
    pub fn keep(&self, trial: &str, kept: Kept) {
        self.now
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(trial.to_owned(), kept);
    }

    /// Writes the store: each trial's verdict of this run first, then its earlier ones under
    /// other keys (a filtered run keeps the verdicts of the trials it did not run). Written to a
    /// temporary file and renamed, so a run stopped half-way leaves the earlier store whole.
    pub fn save(&self) -> anyhow::Result<()> {
        let mut trials = self.earlier.clone();
        let now = self.now.lock().unwrap_or_else(|poison| poison.into_inner());
        for (trial, kept) in now.iter() {
            let list = trials.entry(trial.clone()).or_default();
            list.retain(|earlier| earlier.key != kept.key);
            list.insert(0, kept.clone());
            list.truncate(KEPT_PER_TRIAL);
        }
        drop(now);
        let text = serde_json::to_string(&File {
            format: FORMAT,
            trials,
        })?;
        let dir = self
            .path
            .parent()
            .context("the store lives in a directory")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let temporary = self
            .path
            .with_extension(format!("json.{}", std::process::id()));
        std::fs::write(&temporary, text)
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        std::fs::rename(&temporary, &self.path)
            .with_context(|| format!("cannot write {STORE_FILE}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(key: &str) -> Kept {
        Kept {
            key: key.to_owned(),
            error: None,
            output: None,
            diff: None,
            seen: None,
            millis: 3,
        }
    }

    #[test]
    fn every_trial_runs_under_ci_the_variable_the_flag_or_a_filter() {
        assert_eq!(Policy::decide(false, None, false, false), Policy::Reuse);
        assert_eq!(Policy::decide(false, Some(""), false, false), Policy::Reuse);
        assert_eq!(
            Policy::decide(false, Some("0"), false, false),
            Policy::Reuse
        );
        let all = |policy| matches!(policy, Policy::RunAll(_));
        assert!(all(Policy::decide(true, None, false, false)));
        assert!(all(Policy::decide(false, Some("1"), false, false)));
        assert!(all(Policy::decide(false, None, true, false)));
        assert!(all(Policy::decide(false, None, false, true)));
    }

    #[test]
    fn a_key_changes_with_any_part_and_its_boundaries() {
        let base = || Key::new("case").part("module", b"abc").finish();
        assert_eq!(base(), base());
        assert_ne!(base(), Key::new("attack").part("module", b"abc").finish());
        assert_ne!(base(), Key::new("case").part("module", b"abd").finish());
        assert_ne!(base(), Key::new("case").part("modul", b"eabc").finish());
        let dir = std::env::temp_dir().join(format!("conformance-reuse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let absent = Key::new("case").file(&dir, "snap").finish();
        std::fs::write(dir.join("snap"), "").unwrap();
        let empty = Key::new("case").file(&dir, "snap").finish();
        assert_ne!(absent, empty);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_verdict_is_reused_only_under_its_own_key_and_when_reuse_is_allowed() {
        let root = std::env::temp_dir().join(format!("conformance-store-{}", std::process::id()));
        let store = Store::load(&root, Policy::Reuse);
        assert_eq!(store.reusable("t", "k1"), None);
        store.keep("t", kept("k1"));
        store.keep("u", kept("k2"));
        store.save().unwrap();

        // A filtered run keeps the verdicts it did not make.
        let filtered = Store::load(&root, Policy::RunAll("a filtered run".to_owned()));
        assert_eq!(filtered.reusable("t", "k1"), None);
        filtered.keep("t", kept("k3"));
        filtered.save().unwrap();

        // The verdict under the earlier key is still there: an edit undone reuses it.
        let again = Store::load(&root, Policy::Reuse);
        assert_eq!(again.reusable("t", "k1"), Some(kept("k1")));
        assert_eq!(again.reusable("t", "k3"), Some(kept("k3")));
        assert_eq!(again.reusable("t", "k4"), None);
        assert_eq!(again.reusable("u", "k2"), Some(kept("k2")));
        // No more than a few keys per trial, the oldest going first.
        for key in ["k4", "k5", "k6"] {
            let store = Store::load(&root, Policy::Reuse);
            store.keep("t", kept(key));
            store.save().unwrap();
        }
        let last = Store::load(&root, Policy::Reuse);
        assert_eq!(last.reusable("t", "k3"), None);
        assert_eq!(last.reusable("t", "k4"), Some(kept("k4")));
        assert_eq!(last.reusable("t", "k6"), Some(kept("k6")));

        // A kept failure is reused only while a known-failure entry expects it.
        let store = Store::load(&root, Policy::Reuse);
        let failed = Kept::of("kf".to_owned(), &Err("diverged".to_owned()), None, None, 1);
        store.keep("f", failed.clone());
        store.save().unwrap();
        let store = Store::load(&root, Policy::Reuse);
        assert_eq!(store.reusable_judged("f", "kf", None), None);
        assert_eq!(store.reusable_judged("f", "kf", Some("why")), Some(failed));
        assert_eq!(store.reusable_judged("u", "k2", Some("why")), None);
        assert_eq!(store.reusable_judged("u", "k2", None), Some(kept("k2")));

        std::fs::write(root.join(STORE_FILE), "not json").unwrap();
        assert_eq!(Store::load(&root, Policy::Reuse).reusable("u", "k2"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
