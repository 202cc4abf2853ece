//! Where the benchmarks ran: the machine, the toolchains and the library versions, read from the
//! machine and the lock files rather than written down by hand.

use std::path::Path;

use xshell::Shell;

use crate::table::{Pinned, HOSTS, LANGUAGES};

/// Rows of (what, value) for the page.
pub(crate) fn describe(sh: &Shell, root: &Path) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    rows.push(("CPU".to_owned(), cpu));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    rows.push(("cores available".to_owned(), cores.to_string()));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    if let Some(kib) = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
    {
        rows.push((
            "memory".to_owned(),
            format!("{:.1} GiB", kib as f64 / (1 << 20) as f64),
        ));
    }
    if let Ok(kernel) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        rows.push(("Linux".to_owned(), kernel.trim().to_owned()));
    }
    for language in LANGUAGES {
        let version = crate::build::probe_all(sh, language.build.toolchains)
            .unwrap_or_else(|_| "not found".to_owned());
        rows.push((format!("{language} plugins built by"), version));
    }
    for host in HOSTS {
        let version = crate::build::probe_all(sh, host.build.toolchains)
            .unwrap_or_else(|_| "not found".to_owned());
        rows.push((format!("{host} built by"), version));
        rows.push((format!("{host} runs on"), host.runtime.to_owned()));
    }
    for host in HOSTS {
        for pinned in host.pinned {
            rows.push(pinned_row(root, pinned));
        }
    }
    let backtrace = match std::env::var("RUST_BACKTRACE") {
        Ok(value) => format!("set, to {value:?}"),
        Err(_) => "not set".to_owned(),
    };
    rows.push(("RUST_BACKTRACE".to_owned(), backtrace));
    rows
}

/// A pinned library and its version, as its lock file says.
fn pinned_row(root: &Path, pinned: &Pinned) -> (String, String) {
    let read = |file: &str| std::fs::read_to_string(root.join(file)).unwrap_or_default();
    let (label, version) = match *pinned {
        Pinned::Crate { lock, name } => (
            format!("{name} (crate)"),
            cargo_lock_version(&read(lock), name),
        ),
        Pinned::GoModule { go_mod, path } => (
            format!("{path} (Go module)"),
            go_mod_version(&read(go_mod), path),
        ),
    };
    (label, version.unwrap_or_else(|| "unknown".to_owned()))
}

fn cargo_lock_version(lock: &str, krate: &str) -> Option<String> {
    let header = format!("name = \"{krate}\"\n");
    let at = lock.find(&header)? + header.len();
    let line = lock[at..].lines().next()?;
    Some(
        line.strip_prefix("version = ")?
            .trim_matches('"')
            .to_owned(),
    )
}

fn go_mod_version(go_mod: &str, module: &str) -> Option<String> {
    go_mod.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let first = fields.next()?;
        let (name, version) = if first == "require" {
            (fields.next()?, fields.next()?)
        } else {
            (first, fields.next()?)
        };
        (name == module).then(|| version.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_lock_files() {
        let lock = "[[package]]\nname = \"extism\"\nversion = \"1.41.0\"\n";
        assert_eq!(
            cargo_lock_version(lock, "extism").as_deref(),
            Some("1.41.0")
        );
        assert_eq!(cargo_lock_version(lock, "wasmtime"), None);
        let go_mod = "module x\n\nrequire (\n\tgithub.com/extism/go-sdk v1.7.1\n)\n\
                      require github.com/tetratelabs/wazero v1.9.0 // indirect\n";
        assert_eq!(
            go_mod_version(go_mod, "github.com/extism/go-sdk").as_deref(),
            Some("v1.7.1")
        );
        assert_eq!(
            go_mod_version(go_mod, "github.com/tetratelabs/wazero").as_deref(),
            Some("v1.9.0")
        );
    }
}
