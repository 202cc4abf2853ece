//! What the Rust host costs: compiling a plugin (cold, and again from wasmtime's cache), making a
//! ready instance, and calling the contract's exports, for every plugin language. The names,
//! `<group>/<language>/<scenario>`, are the ones host-go's benchmarks use, so that
//! `cargo xtask bench-report` can set the two hosts side by side.

use std::cell::{Cell, OnceCell, RefCell};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use host::{CompiledPlugin, Options, Plugin, Store};
use xtask::Language;

/// The seed's input.
const SEED_INPUT: &str = "👋 Hello from the Go Host app 🤗";

/// One call measured over and over on one instance.
struct Scenario {
    name: &'static str,
    export: &'static str,
    input: &'static str,
    /// For `hostMemoryGet` scenarios: the length of the value the key looks up.
    value_len: Option<usize>,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "noop",
        export: "noop",
        input: "",
        value_len: None,
    },
    Scenario {
        name: "say_hello",
        export: "say_hello",
        input: SEED_INPUT,
        value_len: None,
    },
    Scenario {
        name: "get_0B",
        export: "lookup",
        input: "bench-0B",
        value_len: Some(0),
    },
    Scenario {
        name: "get_1KiB",
        export: "lookup",
        input: "bench-1KiB",
        value_len: Some(1 << 10),
    },
    Scenario {
        name: "get_1MiB",
        export: "lookup",
        input: "bench-1MiB",
        value_len: Some(1 << 20),
    },
];

/// The seed's store, plus one value for each `hostMemoryGet` scenario.
fn bench_store() -> Store {
    let mut store = Store::seed();
    for scenario in SCENARIOS {
        if let Some(len) = scenario.value_len {
            let value: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            store.insert(scenario.input, value);
        }
    }
    store
}

/// What the contract says `scenario` outputs with `store`: a wrong answer fails the benchmark
/// rather than producing a fast number.
fn expected(scenario: &Scenario, store: &Store) -> Vec<u8> {
    match scenario.export {
        "noop" => Vec::new(),
        "say_hello" => [
            "👋 Hello ".as_bytes(),
            scenario.input.as_bytes(),
            b"\nkey: hello, value: ",
            store.get(b"hello"),
            b"\nkey: message, value: ",
            store.get(b"message"),
        ]
        .concat(),
        "lookup" => store.get(scenario.input.as_bytes()).to_vec(),
        other => panic!("no expected output for export {other}"),
    }
}

/// Every plugin language whose toolchain is here, built by the same code as
/// `cargo xtask build-plugins`.
fn plugins() -> Vec<(&'static Language, Vec<u8>)> {
    let sh = xshell::Shell::new().expect("a shell");
    let plugins = xtask::build_plugins(&sh, &xtask::all(xtask::LANGUAGES))
        .unwrap_or_else(|error| panic!("the plugins build: {error:#}"));
    for (language, reason) in &plugins.skipped {
        eprintln!("bench: {language} skipped: {reason}");
    }
    plugins
        .ready
        .into_iter()
        .map(|(language, artifact)| {
            let wasm = std::fs::read(&artifact.path)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", artifact.path.display()));
            (language, wasm)
        })
        .collect()
}

// Setup happens inside each benchmark's closure, which criterion calls only when the benchmark is
// selected: `cargo bench -- instance/rust` must not first compile every module (the standard Go
// one takes seconds cold), nor should a profile of one benchmark show another's setup.

fn compile(c: &mut Criterion, plugins: &[(&Language, Vec<u8>)]) {
    let mut group = c.benchmark_group("compile");
    // A standard Go module takes seconds to compile cold: ten samples are plenty.
    group.sample_size(10);
    for (language, wasm) in plugins {
        let name = language.name();
        for (how, compile_cache) in [("cold", false), ("cached", true)] {
            let options = Options {
                compile_cache,
                ..Options::default()
            };
            let compile = || CompiledPlugin::with_options(name, wasm, options.clone());
            let warm = OnceCell::new();
            group.bench_function(BenchmarkId::new(name, how), |b| {
                // Fills the cache for "cached", and fails early on a module that does not compile.
                warm.get_or_init(|| compile().unwrap_or_else(|error| panic!("{error}")));
                b.iter(|| compile().unwrap())
            });
        }
    }
    group.finish();
}

/// From a compiled module to an instance that has answered a `noop` call (Extism instantiates
/// the module at the first call), then dropped. The report subtracts a `noop` call.
fn instance(c: &mut Criterion, plugins: &[(&Language, Vec<u8>)]) {
    let mut group = c.benchmark_group("instance");
    for (language, wasm) in plugins {
        let compiled = OnceCell::new();
        group.bench_function(BenchmarkId::from_parameter(language.name()), |b| {
            let compiled = compiled.get_or_init(|| {
                CompiledPlugin::from_bytes(language.name(), wasm).unwrap_or_else(|e| panic!("{e}"))
            });
            b.iter(|| {
                let mut plugin = compiled.instantiate(Store::seed()).unwrap();
                plugin.call("noop", b"").unwrap()
            })
        });
    }
    group.finish();
}

/// One call of each scenario on one instance, reused: the steady cost of a call.
fn call(c: &mut Criterion, plugins: &[(&Language, Vec<u8>)]) {
    let store = bench_store();
    let mut group = c.benchmark_group("call");
    for (language, wasm) in plugins {
        let name = language.name();
        let plugin: RefCell<Option<Plugin>> = RefCell::new(None);
        for scenario in SCENARIOS {
            let input = scenario.input.as_bytes();
            // Bytes of value per second where a value moves, calls per second otherwise.
            group.throughput(match scenario.value_len {
                Some(len) => Throughput::Bytes(len as u64),
                None => Throughput::Elements(1),
            });
            let checked = Cell::new(false);
            group.bench_function(BenchmarkId::new(name, scenario.name), |b| {
                let mut plugin = plugin.borrow_mut();
                let plugin = plugin.get_or_insert_with(|| {
                    Plugin::from_bytes(name, wasm, store.clone()).unwrap_or_else(|e| panic!("{e}"))
                });
                if !checked.replace(true) {
                    let output = plugin
                        .call(scenario.export, input)
                        .unwrap_or_else(|error| panic!("{name} {}: {error}", scenario.name));
                    assert!(
                        output == expected(scenario, &store),
                        "{name} {}: the output is not what the contract says",
                        scenario.name
                    );
                }
                b.iter(|| plugin.call(scenario.export, input).unwrap())
            });
        }
    }
    group.finish();
}

fn host(c: &mut Criterion) {
    let plugins = plugins();
    compile(c, &plugins);
    instance(c, &plugins);
    call(c, &plugins);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = host
}
criterion_main!(benches);
