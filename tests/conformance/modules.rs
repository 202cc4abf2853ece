//! A case's own module and the modules linked beside it, made ready for every host: a `.wat`
//! file is compiled into `target/case-modules/`, named by its digest, and a `.wasm` file is used
//! where it is. Protocol hosts are handed paths, so the compiled module must be a file.

use std::path::{Path, PathBuf};

use conformance::case::OwnModule;
use conformance::protocol::Link;
use conformance::reuse;

/// Where compiled `.wat` modules go, relative to the project root.
pub const MODULES_DIR: &str = "target/case-modules";

/// A case's modules, ready: files any host can read.
#[derive(Debug, Clone)]
pub struct Ready {
    pub main: PathBuf,
    pub links: Vec<Link>,
    /// The digest of every source file's bytes, in order: what a verdict on them depends on.
    pub digest: String,
}

/// Compiles what needs compiling; the error names the file and what is wrong with it.
pub fn prepare(root: &Path, module: &OwnModule) -> Result<Ready, String> {
    let mut sources = Vec::new();
    for file in module.files() {
        let bytes = std::fs::read(file)
            .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
        sources.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        sources.extend_from_slice(&bytes);
    }
    let main = ready_file(root, &module.main)?;
    let mut links = Vec::new();
    for (name, file) in &module.links {
        links.push(Link {
            name: name.clone(),
            wasm: ready_file(root, file)?,
        });
    }
    Ok(Ready {
        main,
        links,
        digest: reuse::sha256(&sources),
    })
}

/// A `.wasm` file as it is; a `.wat` file compiled to a module named by its digest, written
/// once (a temporary name, then a rename, so trials on other threads never see half a file).
fn ready_file(root: &Path, file: &Path) -> Result<PathBuf, String> {
    if file.extension().is_none_or(|ext| ext != "wat") {
        return Ok(file.to_owned());
    }
    let wasm = wat::parse_file(file).map_err(|error| format!("{}: {error}", file.display()))?;
    let dir = root.join(MODULES_DIR);
    let path = dir.join(format!("{}.wasm", reuse::sha256(&wasm)));
    if path.is_file() {
        return Ok(path);
    }
    let temporary = dir.join(format!(
        ".{}.{:?}.tmp",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&temporary, &wasm))
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(path)
}
