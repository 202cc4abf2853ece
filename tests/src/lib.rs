//! The conformance contract's machinery, shared by the conformance run
//! (`tests/conformance/main.rs`) and the property test (`tests/generated.rs`): reading case files,
//! the ABI lint, rendering a call into snapshot text, the known-failure lists and the report.

pub mod abi;
pub mod base64;
pub mod case;
pub mod hosts;
pub mod known;
pub mod render;
pub mod report;
pub mod verdict;
