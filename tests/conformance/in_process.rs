//! The in-process Rust host (`host/`) behind the same [`Driver`] as every protocol host: the
//! host crate's own [`host::protocol::Runner`], which `host serve` runs too.

use std::path::Path;

use conformance::driver::Driver;
use conformance::protocol::{Outcome, Request};
use host::protocol::Runner;

#[derive(Default)]
pub struct InProcess(Runner);

impl InProcess {
    pub fn new() -> InProcess {
        InProcess::default()
    }
}

impl Driver for InProcess {
    fn run(&self, wasm: &Path, request: &Request) -> Result<Vec<Outcome>, String> {
        Ok(self.0.run(wasm, request))
    }
}
