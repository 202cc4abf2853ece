//! The trials that compare with snapshots: a case on a plugin and host against the case's shared
//! snapshot, each language's surface against its own, and the check that no snapshot is orphaned.

use std::path::Path;

use conformance::abi;
use conformance::case::{self, Case};
use conformance::hosts::{Driver, Module, Request};
use conformance::render;
use libtest_mimic::Trial;
use xtask::{project_root, Language};

/// One snapshot per case, named after it and shared by every language.
pub const SNAPSHOTS_DIR: &str = "tests/snapshots";
/// The trial that checks every snapshot still has its case.
pub const ORPHAN_TRIAL: &str = "snapshots_have_cases";
/// Each language's import/export surface, one snapshot per language.
const SURFACES_DIR: &str = "tests/snapshots/surfaces";
pub const SURFACE_TRIAL: &str = "surface";

/// Runs one case on one language's plugin on one host and compares the output with the case's
/// shared snapshot.
pub fn check(case: &Case, subject: &str, driver: &Driver, module: &Module) -> Result<(), String> {
    let request = Request {
        export: &case.export,
        input: &case.input,
        store: &case.store,
        limits: &case.limits,
    };
    // A failing call is a result like any other: the snapshot says how it failed.
    let (result, trace) = driver
        .call(module, &request)
        .map_err(|error| format!("{subject}: {error}"))?;
    let rendered = render::call(&result, &trace);

    let description = format!("{} ({})", case.description, case.file);
    if matches_snapshot(SNAPSHOTS_DIR, &case.name, description, rendered) {
        Ok(())
    } else {
        Err(format!(
            "{subject} diverges from the shared snapshot of case `{}` ({}): see the diff above",
            case.name, case.file
        ))
    }
}

/// Compares `rendered` with the snapshot `dir/name.snap`. insta reports a mismatch by printing
/// the diff and panicking; the panic is caught so the caller can name what diverged.
fn matches_snapshot(dir: &str, name: &str, description: String, rendered: String) -> bool {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(project_root().join(dir));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(description);
    settings.set_omit_expression(true);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, rendered))
    }))
    .is_ok()
}

/// Each language's imports and exports, snapshotted per language: the one snapshot that is not
/// shared, because the surface is what compilers legitimately differ in (WASI imports, runtime
/// exports). The lint above decides what must agree.
pub fn surface_trial(language: Language, surface: abi::Surface) -> Trial {
    Trial::test(format!("{SURFACE_TRIAL}::{language}"), move || {
        let description = format!("imports and exports of the {language} plugin");
        if matches_snapshot(SURFACES_DIR, language.name(), description, surface.render()) {
            Ok(())
        } else {
            Err(format!(
                "{language}: its import/export surface differs from {SURFACES_DIR}/{language}.snap: see above"
            )
            .into())
        }
    })
}

/// A trial that fails when a snapshot has no case: a deleted or renamed case must take its
/// snapshot with it, or the snapshot would silently stop being checked.
pub fn orphan_snapshots(root: &Path, cases: &[String]) -> Trial {
    let dir = root.join(SNAPSHOTS_DIR);
    let cases = cases.to_vec();
    Trial::test(ORPHAN_TRIAL, move || {
        let mut orphans = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|error| format!("{SNAPSHOTS_DIR}: {error}"))? {
            let path = entry.map_err(|error| error.to_string())?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if let Some(case) = name.strip_suffix(".snap") {
                if !cases.iter().any(|known| known == case) {
                    orphans.push(format!("{SNAPSHOTS_DIR}/{name}"));
                }
            }
        }
        if orphans.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "snapshots without a case in {}: {} (delete them, or restore their cases)",
                case::CASES_DIR,
                orphans.join(", ")
            )
            .into())
        }
    })
}
