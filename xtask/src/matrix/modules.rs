//! The module files `matrix call` hands every host, checked before any host starts: each is a
//! regular file within the protocol's cap (docs/protocol.md, "Module files"; so `/dev/zero` or a
//! FIFO is never opened), and WebAssembly; a `.wat` file is compiled into a temporary directory
//! first. The main module must export every function called.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use suite::protocol::{read_module_file, Link};

use crate::matrix::exit::{Exit, Fatal};

/// The modules, ready: absolute paths of WebAssembly binaries, which live as long as this.
pub struct Modules {
    pub main: PathBuf,
    pub links: Vec<Link>,
    /// Where compiled `.wat` files are, removed when the modules are dropped.
    compiled: Option<PathBuf>,
}

impl Drop for Modules {
    fn drop(&mut self) {
        if let Some(dir) = &self.compiled {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Checks and readies the plugin `wasm`, which must export every one of `exports`, and each
/// linked module.
pub fn prepare(
    wasm: &Path,
    links: &[(String, PathBuf)],
    exports: &[String],
) -> Result<Modules, Fatal> {
    let named: Vec<Link> = links
        .iter()
        .map(|(name, wasm)| Link {
            name: name.clone(),
            wasm: wasm.clone(),
        })
        .collect();
    Link::check_names(&named).map_err(|why| Fatal::new(Exit::Usage, format!("--link: {why}")))?;
    let mut modules = Modules {
        main: PathBuf::new(),
        links: Vec::new(),
        compiled: None,
    };
    let (main, bytes) = modules.ready(wasm, "plugin", "main")?;
    modules.main = main;
    for (index, link) in named.into_iter().enumerate() {
        let what = format!("--link {}", link.name);
        let (path, _) = modules.ready(&link.wasm, &what, &format!("link{index}"))?;
        modules.links.push(Link {
            name: link.name,
            wasm: path,
        });
    }
    check_exports(wasm, &bytes, exports)?;
    Ok(modules)
}

impl Modules {
    /// The module at `path` as an absolute path of a WebAssembly binary, and its bytes; `what`
    /// says what the file is, for messages, and `slot` names its compiled file if it is text.
    fn ready(&mut self, path: &Path, what: &str, slot: &str) -> Result<(PathBuf, Vec<u8>), Fatal> {
        let shown = path.display();
        let unusable = |why: String| Fatal::new(Exit::BadFile, format!("{what} {shown}: {why}"));
        let bytes = read_module_file(path).map_err(unusable)?;
        let absolute = std::path::absolute(path)
            .map_err(|error| unusable(format!("no absolute path: {error}")))?;
        if path.extension().is_none_or(|ext| ext != "wat") {
            if !bytes.starts_with(b"\0asm") {
                return Err(unusable(
                    "not a WebAssembly module (no `\\0asm` at its start; text needs the .wat extension)"
                        .to_owned(),
                ));
            }
            return Ok((absolute, bytes));
        }
        let wasm = wat::Parser::new()
            .parse_bytes(Some(path), &bytes)
            .map_err(|error| unusable(format!("not valid WebAssembly text: {}", one_line(&error))))?
            .into_owned();
        let dir = self.compiled_dir().map_err(|error| {
            Fatal::new(
                Exit::BadFile,
                format!("cannot make a directory for compiled .wat: {error}"),
            )
        })?;
        let compiled = dir.join(format!("{slot}.wasm"));
        std::fs::write(&compiled, &wasm)
            .map_err(|error| unusable(format!("cannot write {}: {error}", compiled.display())))?;
        Ok((compiled, wasm))
    }

    /// A directory of this process's own for compiled `.wat` files, made at the first one.
    fn compiled_dir(&mut self) -> std::io::Result<PathBuf> {
        if let Some(dir) = &self.compiled {
            return Ok(dir.clone());
        }
        // Numbered too: each call of a process (each test) has its own.
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let name = format!("xtask-matrix-{}-{call}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        self.compiled = Some(dir.clone());
        Ok(dir)
    }
}

/// The `wat` crate's error, which shows the source line under the message, as one line: the
/// message and where it is.
fn one_line(error: &wat::Error) -> String {
    let text = error.to_string();
    let mut lines = text.lines();
    let message = lines.next().unwrap_or_default().to_owned();
    match lines.find_map(|line| line.trim().strip_prefix("--> ")) {
        Some(at) => format!("{message} (at {at})"),
        None => message,
    }
}

/// Every one of `exports` is a function the module `bytes` (from `wasm`) exports; else
/// [`Exit::NoExport`], naming the functions it does export.
fn check_exports(wasm: &Path, bytes: &[u8], exports: &[String]) -> Result<(), Fatal> {
    let shown = wasm.display();
    let surface = conformance::abi::Surface::read(bytes)
        .map_err(|error| Fatal::new(Exit::BadFile, format!("plugin {shown}: {error:#}")))?;
    let functions: Vec<String> = surface.exported_functions().map(str::to_owned).collect();
    let Some(missing) = exports.iter().find(|export| !functions.contains(export)) else {
        return Ok(());
    };
    const SHOWN: usize = 20;
    let mut listed = functions
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if functions.len() > SHOWN {
        listed.push_str(&format!(" and {} more", functions.len() - SHOWN));
    }
    let exported = match functions.is_empty() {
        true => "it exports no function".to_owned(),
        false => format!("its functions: {listed}"),
    };
    let message = format!("plugin {shown} has no export `{missing}`; {exported}");
    Err(Fatal::new(Exit::NoExport, message))
}
