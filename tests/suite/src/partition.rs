//! `--partition hash:K/N`, as nextest spells it: a deterministic split of the trials into N
//! disjoint parts whose union is the whole run, so a run can be spread over N machines. A trial
//! belongs to part K when the SHA-256 of its name, read as a number, is K - 1 modulo N: the same
//! trial lands in the same part on every machine and every run, whatever else is in the run.

use sha2::{Digest, Sha256};

/// One part of a split run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// 1-based, at most `total`.
    pub part: u64,
    pub total: u64,
}

impl Partition {
    /// Reads `hash:K/N`; the error names what was wrong.
    pub fn parse(text: &str) -> Result<Partition, String> {
        let expected = || format!("--partition: expected hash:K/N with 1 <= K <= N, got `{text}`");
        let Some(spec) = text.strip_prefix("hash:") else {
            return Err(expected());
        };
        let (part, total) = spec.split_once('/').ok_or_else(expected)?;
        let (part, total): (u64, u64) = match (part.parse(), total.parse()) {
            (Ok(part), Ok(total)) => (part, total),
            _ => return Err(expected()),
        };
        if part == 0 || part > total {
            return Err(expected());
        }
        Ok(Partition { part, total })
    }

    /// Whether the trial called `name` is in this part.
    pub fn contains(&self, name: &str) -> bool {
        let digest = Sha256::digest(name.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % self.total == self.part - 1
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hash:{}/{}", self.part, self.total)
    }
}

/// Takes `--partition VALUE` (or `--partition=VALUE`) out of `args`, the rest left for the test
/// harness, which does not know the option.
pub fn take(args: &mut Vec<String>) -> Result<Option<Partition>, String> {
    let mut found = None;
    let mut index = 0;
    while index < args.len() {
        let value = if args[index] == "--partition" {
            if index + 1 == args.len() {
                return Err("--partition: expected hash:K/N after it".to_owned());
            }
            let value = args.remove(index + 1);
            args.remove(index);
            value
        } else if let Some(value) = args[index].strip_prefix("--partition=") {
            let value = value.to_owned();
            args.remove(index);
            value
        } else {
            index += 1;
            continue;
        };
        if found.is_some() {
            return Err("--partition: given twice".to_owned());
        }
        found = Some(Partition::parse(&value)?);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_parts_are_disjoint_and_together_the_whole_run() {
        let names: Vec<String> = (0..3000)
            .map(|i| format!("case_{i}::rust@host-{}", i % 7))
            .collect();
        let parts: Vec<Partition> = (1..=3)
            .map(|part| Partition::parse(&format!("hash:{part}/3")).unwrap())
            .collect();
        for name in &names {
            let holding = parts.iter().filter(|p| p.contains(name)).count();
            assert_eq!(holding, 1, "{name} is in {holding} parts");
        }
        // Each part gets about a third: the hash spreads names evenly.
        for part in &parts {
            let size = names.iter().filter(|name| part.contains(name)).count();
            assert!((800..1200).contains(&size), "{part}: {size} of 3000");
        }
        // One part is the whole run.
        let whole = Partition::parse("hash:1/1").unwrap();
        assert!(names.iter().all(|name| whole.contains(name)));
    }

    #[test]
    fn bad_partitions_are_named() {
        for bad in [
            "hash:0/3",
            "hash:4/3",
            "count:1/3",
            "hash:1",
            "hash:a/3",
            "hash:1/0",
            "",
        ] {
            assert_eq!(
                Partition::parse(bad).unwrap_err(),
                format!("--partition: expected hash:K/N with 1 <= K <= N, got `{bad}`")
            );
        }
    }

    #[test]
    fn the_option_is_taken_out_of_the_arguments() {
        let mut args: Vec<String> = ["conformance", "--partition", "hash:2/3", "seed_call"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            take(&mut args).unwrap(),
            Some(Partition { part: 2, total: 3 })
        );
        assert_eq!(args, ["conformance", "seed_call"]);
        let mut args: Vec<String> = ["conformance", "--partition=hash:1/2"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            take(&mut args).unwrap(),
            Some(Partition { part: 1, total: 2 })
        );
        assert_eq!(args, ["conformance"]);
        let mut none: Vec<String> = vec!["conformance".to_owned()];
        assert_eq!(take(&mut none).unwrap(), None);
        let mut dangling: Vec<String> = ["conformance", "--partition"].map(String::from).to_vec();
        assert!(take(&mut dangling).is_err());
        let mut twice: Vec<String> = ["x", "--partition=hash:1/2", "--partition=hash:2/2"]
            .map(String::from)
            .to_vec();
        assert_eq!(take(&mut twice).unwrap_err(), "--partition: given twice");
    }
}
