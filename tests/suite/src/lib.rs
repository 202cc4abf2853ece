//! What the conformance run and xtask both know, defined once: report.json's types
//! ([`report`]), the verdict of a trial ([`verdict`]), the partition syntax of a split run
//! ([`partition`]), the switch that runs every trial ([`run_all`]), a host's launch command
//! ([`launch`]) and the contract's exports.

pub mod launch;
pub mod partition;
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
