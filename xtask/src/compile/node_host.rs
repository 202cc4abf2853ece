//! The Node.js host: no compiling either, `node --check` on every module, then a launcher.

use std::path::Path;

use xshell::{cmd, Shell};

/// Checks every module of `dir` (but its node_modules/), then writes the launcher `out`, which
/// runs `dir/main.mjs`.
pub(crate) fn compile(sh: &Shell, dir: &str, out: &Path) -> anyhow::Result<()> {
    let path = crate::project_root().join(dir);
    for module in crate::fingerprint::source_files(&path, &["node_modules"])? {
        if module.ends_with(".mjs") || module.ends_with(".js") {
            let module = path.join(&module);
            cmd!(sh, "node --check {module}").quiet().run()?;
        }
    }
    super::write_launcher(out, &format!("exec node \"$root/{dir}/main.mjs\" \"$@\""))
}
