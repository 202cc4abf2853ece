//! Fuzzing the `hostMemoryGet` boundary, one trial per host (`fuzz_memory_get::<host>`): a probe module builds arbitrary kernel
//! memory (blocks of random sizes and contents, some freed, some with a forged header) and passes
//! `hostMemoryGet` an offset that is a live block, a freed one, a point inside or before a block,
//! 0, negative or far past the end. Each answer must be exactly what the contract says: the
//! store's value for a live block's bytes, the empty key's value for 0, and a host-function
//! refusal for everything else (for a forged header: an answer or a refusal); and the host must
//! go on. `cargo fuzz` cannot run in CI here (it needs nightly), so this is proptest, run for a
//! time budget: `FUZZ_SECONDS` (default 60 under CI=true, 5 elsewhere). `tests/fuzz/corpus.txt`
//! holds inputs that are always run first.

use std::path::Path;
use std::time::{Duration, Instant};

use conformance::driver::Driver;
use conformance::protocol::{Failure, Limits, Request, Store};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use xtask::{in_ci, Host};

use crate::floor::HostDriver;
use crate::judge::{Attempt, Listed};

/// Input layout (little-endian): n blocks (1..=8); n sizes (u16); a free mask (bit i frees
/// block i); target kind; target block; a delta or raw offset (i64). Block i holds the byte
/// i + 1 repeated. The output is the value block hostMemoryGet returned.
const PROBE: &str = r#"
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "input_load_u8" (func $in8 (param i64) (result i32)))
  (import "extism:host/env" "input_load_u64" (func $in64 (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "env" "hostMemoryGet" (func $get (param i64) (result i64)))
  (memory 1)
  ;; block i's offset at 8*i, its size at 64 + 8*i
  (func (export "probe") (result i32)
    (local $n i64) (local $i i64) (local $size i64) (local $block i64) (local $j i64)
    (local $at i64) (local $mask i32) (local $kind i32) (local $target i64) (local $value i64)
    (local.set $n (i64.extend_i32_u (call $in8 (i64.const 0))))
    (local.set $i (i64.const 0))
    (block $done (loop $blocks
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $size (i64.or
        (i64.extend_i32_u (call $in8 (i64.add (i64.const 1) (i64.mul (local.get $i) (i64.const 2)))))
        (i64.shl (i64.extend_i32_u (call $in8 (i64.add (i64.const 2) (i64.mul (local.get $i) (i64.const 2))))) (i64.const 8))))
      (local.set $block (call $alloc (local.get $size)))
      (i64.store (i32.wrap_i64 (i64.mul (local.get $i) (i64.const 8))) (local.get $block))
      (i64.store (i32.wrap_i64 (i64.add (i64.const 64) (i64.mul (local.get $i) (i64.const 8)))) (local.get $size))
      (local.set $j (i64.const 0))
      (block $filled (loop $fill
        (br_if $filled (i64.ge_u (local.get $j) (local.get $size)))
        (call $store_u8 (i64.add (local.get $block) (local.get $j)) (i32.wrap_i64 (i64.add (local.get $i) (i64.const 1))))
        (local.set $j (i64.add (local.get $j) (i64.const 1)))
        (br $fill)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $blocks)))
    (local.set $at (i64.add (i64.const 1) (i64.mul (local.get $n) (i64.const 2))))
    (local.set $mask (call $in8 (local.get $at)))
    (local.set $i (i64.const 0))
    (block $freed (loop $frees
      (br_if $freed (i64.ge_u (local.get $i) (local.get $n)))
      (if (i32.and (local.get $mask) (i32.shl (i32.const 1) (i32.wrap_i64 (local.get $i))))
        (then (call $free (i64.load (i32.wrap_i64 (i64.mul (local.get $i) (i64.const 8)))))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $frees)))
    (local.set $kind (call $in8 (i64.add (local.get $at) (i64.const 1))))
    (local.set $block (i64.load (i32.wrap_i64 (i64.mul
      (i64.extend_i32_u (call $in8 (i64.add (local.get $at) (i64.const 2)))) (i64.const 8)))))
    (local.set $j (call $in64 (i64.add (local.get $at) (i64.const 3))))
    (local.set $target (local.get $j))
    (if (i32.eq (local.get $kind) (i32.const 0)) (then (local.set $target (local.get $block))))
    (if (i32.eq (local.get $kind) (i32.const 1)) (then (local.set $target (i64.add (local.get $block) (local.get $j)))))
    (if (i32.eq (local.get $kind) (i32.const 2)) (then (local.set $target (i64.sub (local.get $block) (local.get $j)))))
    ;; kind 4: the block's header now claims the word's low 32 bits as its length
    (if (i32.eq (local.get $kind) (i32.const 4)) (then
      (call $store_u8 (i64.sub (local.get $block) (i64.const 4)) (i32.wrap_i64 (local.get $j)))
      (call $store_u8 (i64.sub (local.get $block) (i64.const 3)) (i32.wrap_i64 (i64.shr_u (local.get $j) (i64.const 8))))
      (call $store_u8 (i64.sub (local.get $block) (i64.const 2)) (i32.wrap_i64 (i64.shr_u (local.get $j) (i64.const 16))))
      (call $store_u8 (i64.sub (local.get $block) (i64.const 1)) (i32.wrap_i64 (i64.shr_u (local.get $j) (i64.const 24))))
      (local.set $target (local.get $block))))
    (local.set $value (call $get (local.get $target)))
    (call $output_set (local.get $value) (call $length (local.get $value)))
    (i32.const 0))
)
"#;

/// Where the offset points.
#[derive(Debug, Clone)]
enum Target {
    /// The start of block `index` (live or freed).
    Block { index: u8 },
    /// `delta` bytes into block `index`'s data (1..=its size - 1), never another block's start.
    Inside { index: u8, delta: u16 },
    /// `delta` bytes before block `index`'s data (1..=12): inside its header.
    Before { index: u8, delta: u8 },
    /// A raw offset: 0, negative, or at least 4 GiB.
    Raw(i64),
    /// The start of block `index`, whose header the probe rewrote to claim `length` bytes: the
    /// kernel believes it, so the host must check it against the memory itself.
    Forged { index: u8, length: u32 },
}

#[derive(Debug, Clone)]
struct Probe {
    sizes: Vec<u16>,
    freed: u8,
    target: Target,
    /// Store entries for some blocks' contents (block index -> value).
    values: std::collections::BTreeMap<u8, Vec<u8>>,
    empty_key_value: Vec<u8>,
}

impl Probe {
    fn input(&self) -> Vec<u8> {
        let mut input = vec![self.sizes.len() as u8];
        for size in &self.sizes {
            input.extend_from_slice(&size.to_le_bytes());
        }
        input.push(self.freed);
        let (kind, index, word) = match self.target {
            Target::Block { index } => (0, index, 0),
            Target::Inside { index, delta } => (1, index, i64::from(delta)),
            Target::Before { index, delta } => (2, index, i64::from(delta)),
            Target::Raw(offset) => (3, 0, offset),
            Target::Forged { index, length } => (4, index, i64::from(length)),
        };
        input.extend_from_slice(&[kind, index]);
        input.extend_from_slice(&word.to_le_bytes());
        input
    }

    fn key(&self, index: u8) -> Vec<u8> {
        vec![index + 1; usize::from(self.sizes[usize::from(index)])]
    }

    fn store(&self) -> Store {
        let mut store = Store::from([(Vec::new(), self.empty_key_value.clone())]);
        for (&index, value) in &self.values {
            store.insert(self.key(index), value.clone());
        }
        store
    }

    /// What the contract says: `Some(value)` for a readable key, `None` for a refusal.
    /// (Forged headers are judged in `check`: what the host reads then depends on memory the
    /// model does not know.)
    fn expected(&self) -> Option<Vec<u8>> {
        let store = self.store();
        match self.target {
            Target::Block { index } if self.freed & (1 << index) == 0 => {
                Some(store.get(&self.key(index)).cloned().unwrap_or_default())
            }
            Target::Raw(0) => Some(store.get(&Vec::new()).cloned().unwrap_or_default()),
            _ => None,
        }
    }
}

fn probe() -> impl Strategy<Value = Probe> {
    (1usize..=8)
        .prop_flat_map(|blocks| {
            let sizes = vec(1u16..=512, blocks);
            let target = prop_oneof![
                (0..blocks as u8).prop_map(|index| Target::Block { index }),
                (0..blocks as u8, 1u16..512)
                    .prop_map(|(index, delta)| Target::Inside { index, delta }),
                (0..blocks as u8, 1u8..=12)
                    .prop_map(|(index, delta)| Target::Before { index, delta }),
                prop_oneof![Just(0i64), i64::MIN..0, (1i64 << 32)..i64::MAX,].prop_map(Target::Raw),
                (0..blocks as u8, any::<u32>())
                    .prop_map(|(index, length)| Target::Forged { index, length }),
            ];
            let values = btree_map(0..blocks as u8, vec(any::<u8>(), 0..64), 0..=blocks);
            (sizes, any::<u8>(), target, values, vec(any::<u8>(), 0..16))
        })
        .prop_map(|(sizes, freed, target, values, empty_key_value)| {
            // `delta` must stay inside its block's data.
            let target = match target {
                Target::Inside { index, delta } => {
                    let size = sizes[usize::from(index)];
                    match size {
                        1 => Target::Block { index },
                        _ => Target::Inside {
                            index,
                            delta: 1 + delta % (size - 1),
                        },
                    }
                }
                other => other,
            };
            Probe {
                sizes,
                freed,
                target,
                values,
                empty_key_value,
            }
        })
}

fn check(host: &Host, driver: &dyn Driver, wasm: &Path, probe: &Probe) -> Result<(), String> {
    let input = probe.input();
    let request = Request::one("probe", &input, probe.store(), Limits::default());
    let expected = probe.expected();
    let forged = matches!(probe.target, Target::Forged { .. });
    let outcomes = driver.run(wasm, &request)?;
    let result = &outcomes.first().ok_or("no outcome")?.result;
    let fine = match (result, &expected) {
        // A forged length: whatever the host read, it must have answered or refused; the
        // process living on to the next probe is the point.
        (Ok(_), _) if forged => true,
        (Err(Failure::HostFunction { .. } | Failure::KeyTooLong { .. }), _) if forged => true,
        (Ok(output), Some(value)) => output == value,
        (Err(Failure::HostFunction { message }), None) => {
            message.contains("is not an allocated Extism memory block")
        }
        _ => false,
    };
    if !fine {
        return Err(format!(
            "{host}: {probe:?}\nexpected {expected:?}, got {result:?}"
        ));
    }
    Ok(())
}

/// A probe written one per line in `tests/fuzz/corpus.txt`: `sizes=5,12 freed=2 target=...`.
fn parse_corpus_line(line: &str) -> anyhow::Result<Probe> {
    let mut probe = Probe {
        sizes: Vec::new(),
        freed: 0,
        target: Target::Raw(0),
        values: Default::default(),
        empty_key_value: b"empty".to_vec(),
    };
    for field in line.split_whitespace() {
        let (name, value) = field
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("`{field}` is not name=value"))?;
        let numbers = || -> anyhow::Result<Vec<i64>> {
            value
                .split(',')
                .map(|n| {
                    n.parse()
                        .map_err(|_| anyhow::anyhow!("`{n}` is not a number"))
                })
                .collect()
        };
        // `inside=`, `before=` and `forged=` take a block index and a number.
        let pair = || -> anyhow::Result<[i64; 2]> {
            <[i64; 2]>::try_from(numbers()?)
                .map_err(|_| anyhow::anyhow!("`{field}` takes two numbers: <block>,<n>"))
        };
        match name {
            "sizes" => probe.sizes = numbers()?.into_iter().map(|n| n as u16).collect(),
            "freed" => probe.freed = value.parse()?,
            "block" => {
                probe.target = Target::Block {
                    index: value.parse()?,
                }
            }
            "inside" => {
                let [index, delta] = pair()?;
                probe.target = Target::Inside {
                    index: index as u8,
                    delta: delta as u16,
                };
            }
            "before" => {
                let [index, delta] = pair()?;
                probe.target = Target::Before {
                    index: index as u8,
                    delta: delta as u8,
                };
            }
            "raw" => probe.target = Target::Raw(value.parse()?),
            "forged" => {
                let [index, length] = pair()?;
                probe.target = Target::Forged {
                    index: index as u8,
                    length: length as u32,
                };
            }
            "value" => {
                let index: u8 = value.parse()?;
                probe
                    .values
                    .insert(index, format!("value of block {index}").into_bytes());
            }
            other => anyhow::bail!("unknown field `{other}`"),
        }
    }
    anyhow::ensure!(
        !probe.sizes.is_empty() && probe.sizes.len() <= 8,
        "1 to 8 sizes"
    );
    Ok(probe)
}

/// The inputs every fuzz run replays first, relative to the root.
pub const CORPUS: &str = "tests/fuzz/corpus.txt";

pub fn trial_name(host: &Host) -> String {
    format!("fuzz_memory_get::{host}")
}

/// The fuzz of one host: the corpus first, then generated probes for the time budget. Writes
/// the probe module first, shared by every host's fuzz.
pub fn work(
    root: &Path,
    host: &'static Host,
    driver: HostDriver,
) -> anyhow::Result<impl FnOnce(Listed) -> Attempt + Send + 'static> {
    let wasm_path = root.join("target/fuzz/memory_get_probe.wasm");
    std::fs::create_dir_all(wasm_path.parent().expect("a parent"))?;
    let wasm = wat::parse_str(PROBE)?;
    // Every host's trial writes the same bytes; only write when they differ, so a host reading
    // the file never sees it half-written.
    if std::fs::read(&wasm_path).ok().as_deref() != Some(&wasm[..]) {
        std::fs::write(&wasm_path, &wasm)?;
    }
    let corpus = root.join(CORPUS);
    Ok(move |_| match &driver {
        Ok(driver) => {
            let result = fuzz(host, driver.as_ref(), &wasm_path, &corpus);
            Attempt::result(result.map_err(|error| format!("{error:#}")))
        }
        Err(why) => Attempt::Skip(why.clone()),
    })
}

fn fuzz(host: &Host, driver: &dyn Driver, wasm: &Path, corpus: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(corpus)?;
    let mut replayed = 0;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let probe = parse_corpus_line(line)
            .map_err(|error| anyhow::anyhow!("tests/fuzz/corpus.txt:{}: {error}", number + 1))?;
        check(host, driver, wasm, &probe)
            .map_err(|error| anyhow::anyhow!("tests/fuzz/corpus.txt:{}: {error}", number + 1))?;
        replayed += 1;
    }

    let seconds: u64 = match std::env::var("FUZZ_SECONDS") {
        Ok(text) => text
            .parse()
            .map_err(|_| anyhow::anyhow!("FUZZ_SECONDS=`{text}` is not a number of seconds"))?,
        Err(_) if in_ci() => 60,
        Err(_) => 5,
    };
    let budget = Duration::from_secs(seconds);
    let started = Instant::now();
    let mut cases = 0u64;
    while started.elapsed() < budget {
        let config = Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        };
        // A fresh random seed per batch, so every batch explores new inputs.
        let mut runner = TestRunner::new(config);
        runner
            .run(&probe(), |probe| {
                check(host, driver, wasm, &probe).map_err(TestCaseError::fail)
            })
            .map_err(|failure| {
                anyhow::anyhow!(
                    "{failure}\nadd the smallest input above to tests/fuzz/corpus.txt once fixed"
                )
            })?;
        cases += 64;
    }
    eprintln!(
        "fuzz: {host}: {replayed} corpus inputs, then {cases} generated probes in {:.1?}",
        started.elapsed()
    );
    Ok(())
}
