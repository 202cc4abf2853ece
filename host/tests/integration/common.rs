//! What the attack tests share: how they attack and judge. Compiling is in `compile.rs`, which
//! `resources.rs` shares too.

use std::time::{Duration, Instant};

use host::{CompiledPlugin, Error, Failure, HostCall, Store};

/// What an attack came to on a fresh instance, and how long the call took.
pub fn attack(
    compiled: &CompiledPlugin,
    export: &str,
    input: &[u8],
) -> (Result<Vec<u8>, Error>, Vec<HostCall>, Duration) {
    let mut plugin = compiled.instantiate(Store::seed()).expect("an instance");
    let started = Instant::now();
    let (result, trace) = plugin.call_traced(export, input);
    (result, trace, started.elapsed())
}

#[track_caller]
pub fn failure<'a>(result: &'a Result<Vec<u8>, Error>, what: &str) -> &'a Failure {
    match result {
        Err(Error::Call { failure, .. }) => failure,
        other => panic!("{what}: expected a failed call, got {other:?}"),
    }
}

/// The host is still whole: a fresh instance of an honest plugin (one with a `lookup` export,
/// such as [`crate::compile::LOOKUP_WAT`] or the contract's plugins) answers correctly.
#[track_caller]
pub fn host_still_answers(honest: &CompiledPlugin, after: &str) {
    let mut plugin = honest.instantiate(Store::seed()).expect("an instance");
    let output = plugin.call("lookup", b"hello");
    assert_eq!(
        output.as_deref().ok(),
        Some(Store::seed().get(b"hello")),
        "after {after}: {output:?}"
    );
}
