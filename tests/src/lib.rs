//! The conformance contract's machinery, for the conformance run (`tests/conformance/`): the
//! protocol's types and the host-neutral outcome of a call, the client of protocol hosts,
//! reading case files, the ABI lint, rendering an outcome into snapshot text, the known-failure
//! lists and the report. It does not depend on any host: the in-process Rust host is driven
//! from the conformance binary, so this library's own tests link no wasm engine.

pub mod abi;
pub mod attacks;
pub mod case;
pub mod driver;
pub mod findings;
pub mod known;
pub mod render;
pub mod reuse;

pub use suite::{partition, protocol, report, verdict};
