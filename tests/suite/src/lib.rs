//! What the conformance run and xtask both know, defined once: report.json's types
//! ([`report`]), the verdict of a trial ([`verdict`]), the partition syntax of a split run
//! ([`partition`]), the switch that runs every trial ([`run_all`]), a host's launch command
//! ([`launch`]), the conformance protocol's types ([`protocol`], which `host serve` speaks too),
//! what `host call` and `cargo xtask matrix call` read from a command line ([`cli`]) and the
//! contract's exports.

pub mod cli;
pub mod launch;
pub mod partition;
pub mod protocol;
pub mod report;
pub mod run_all;
pub mod verdict;

/// Every export the contract (CONTRACT.md) requires, each `() -> i32`: the ABI lint checks
/// modules against it and the Zig build exports exactly these.
pub const CONTRACT_EXPORTS: &[&str] = &[
    "say_hello",
    "lookup",
    "count_calls",
    "echo",
    "noop",
    "fail",
    "trap",
    "spin",
    "config_get",
    "var_count",
    "var_get",
    "var_remove",
    "var_store",
    "log_levels",
    "return_code",
    "error_then_zero",
];

/// The environment `cargo xtask matrix test` runs the conformance executable with: someone
/// else's directory of cases (its cases, `snapshots/` and `known-failures.toml`), where the
/// results go, and whether to write snapshots from the reference host.
pub mod scope {
    pub const CASES_DIR: &str = "CONFORMANCE_CASES_DIR";
    pub const OUT_DIR: &str = "CONFORMANCE_OUT_DIR";
    pub const ACCEPT: &str = "CONFORMANCE_ACCEPT";
}
