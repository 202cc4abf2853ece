//! What the verdicts of a run depend on besides the harness and the trial's own files: the
//! SHA-256 of each language's module and each host's build, by name, from which each trial's key
//! in the store of kept verdicts (conformance::reuse) is made.

use std::collections::BTreeMap;

use anyhow::Context;
use conformance::reuse::{self, Key};
use xtask::{Artifact, Host, Language};

/// A module or host missing here (not built, or broken) makes no key, so its trials always run.
#[derive(Default)]
pub struct Identities {
    modules: BTreeMap<&'static str, String>,
    /// Each hostile plugin's module, by its language.
    hostile: BTreeMap<&'static str, String>,
    hosts: BTreeMap<&'static str, String>,
    /// Each host's build fingerprint (its sources, tests too, and toolchain), for the trials
    /// that run its sources rather than its program: its unit tests.
    sources: BTreeMap<&'static str, String>,
}

impl Identities {
    /// A contract module, by its language.
    pub fn add_module(&mut self, language: &'static str, wasm: &[u8]) {
        self.modules.insert(language, reuse::sha256(wasm));
    }

    /// A hostile plugin's module, by its language.
    pub fn add_hostile(&mut self, language: &'static str, wasm: &[u8]) {
        self.hostile.insert(language, reuse::sha256(wasm));
    }

    /// A built host: the in-process Rust host is the code this executable was built from; a
    /// self-contained protocol host is its program's bytes; any other protocol host is its
    /// build's fingerprint (sources and toolchain), since it runs its sources.
    pub fn add_host(&mut self, host: &'static Host, artifact: &Artifact) -> anyhow::Result<()> {
        let identity = if host.in_process {
            format!("{} {}", reuse::RUST_HOST_HASH, artifact.fingerprint)
        } else if host.self_contained {
            let program = std::fs::read(&artifact.path)
                .with_context(|| format!("{host}: cannot read {}", artifact.path.display()))?;
            format!("program {}", reuse::sha256(&program))
        } else {
            artifact.fingerprint.clone()
        };
        self.hosts.insert(host.name(), identity);
        self.sources
            .insert(host.name(), artifact.fingerprint.clone());
        Ok(())
    }

    pub fn sources(&self, key: Key, host: &Host) -> Option<Key> {
        Some(key.part("sources", self.sources.get(host.name())?.as_bytes()))
    }

    pub fn host(&self, key: Key, host: &Host) -> Option<Key> {
        let identity = self.hosts.get(host.name())?;
        Some(
            key.part("host", host.name().as_bytes())
                .part("build", identity.as_bytes()),
        )
    }

    pub fn module(&self, key: Key, label: &str, module: &str) -> Option<Key> {
        Some(key.part(label, self.modules.get(module)?.as_bytes()))
    }

    pub fn hostile(&self, key: Key, language: &str) -> Option<Key> {
        Some(key.part("hostile", self.hostile.get(language)?.as_bytes()))
    }

    pub fn pair(&self, key: Key, host: &Host, language: &Language) -> Option<Key> {
        self.module(self.host(key, host)?, "module", language.name())
    }

    /// Every contract module and host of the run: for the trials that use them all.
    pub fn everything(&self, mut key: Key) -> Key {
        for (name, identity) in self.modules.iter().chain(&self.hosts) {
            key = key.part(name, identity.as_bytes());
        }
        key
    }
}
