use std::time::{Duration, Instant};

use anyhow::Context;
use xshell::Shell;

use crate::artifact::Stamp;
use crate::fingerprint::fingerprint;
use crate::{project_root, Artifact, Language};

/// Whether `build_plugins` had to compile a language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Built {
    UpToDate,
    Compiled(Duration),
}

/// Builds the plugin of each language in `languages` into `target/plugins/<lang>/`, skipping
/// those whose sources and toolchain have not changed since the last build. Reports each
/// artifact on stderr (stdout is left to the caller's own output).
pub fn build_plugins(sh: &Shell, languages: &[Language]) -> anyhow::Result<Vec<(Artifact, Built)>> {
    let root = project_root();
    let _root = sh.push_dir(&root);
    let mut results = Vec::new();
    for &language in languages {
        let methods = language.obj();
        let toolchain = methods.probe(sh)?;
        let fingerprint = fingerprint(
            &root.join(methods.source_dir()),
            methods.ignored_dirs(),
            &toolchain,
        )?;
        let stamp_path = Artifact::stamp_path(&root, language);
        let fresh = Stamp::read(&stamp_path).is_some_and(|stamp| stamp.fingerprint == fingerprint)
            && Artifact::wasm_path(&root, language).is_file();

        let built = if fresh {
            Built::UpToDate
        } else {
            let started = Instant::now();
            sh.create_dir(Artifact::dir(&root, language))?;
            // A failed build must not leave a stamp that vouches for an old module.
            sh.remove_path(&stamp_path)?;
            methods
                .compile(sh, &Artifact::wasm_path(&root, language))
                .with_context(|| format!("{language}: building {} failed", methods.source_dir()))?;
            Stamp {
                fingerprint,
                toolchain,
            }
            .write(&stamp_path)?;
            Built::Compiled(started.elapsed())
        };
        let artifact = Artifact::load(&root, language)
            .with_context(|| format!("{language}: no plugin after the build"))?;
        report(&root, &artifact, built);
        results.push((artifact, built));
    }
    if results.iter().all(|(_, built)| *built == Built::UpToDate) {
        eprintln!("nothing to do: every plugin is up to date");
    }
    Ok(results)
}

fn report(root: &std::path::Path, artifact: &Artifact, built: Built) {
    let status = match built {
        Built::UpToDate => "up to date".to_owned(),
        Built::Compiled(took) => format!("built in {:.1}s", took.as_secs_f64()),
    };
    let wasm = artifact.wasm.strip_prefix(root).unwrap_or(&artifact.wasm);
    eprintln!(
        "{:<6} {:<15} {}  {}  {}",
        artifact.language,
        status,
        wasm.display(),
        artifact.human_size(),
        artifact.toolchain
    );
}
