//! The trials that compare with snapshots: a case on a plugin and host against the case's shared
//! snapshot, each language's surface against its own, and the check that no snapshot is orphaned.

use std::path::Path;

use conformance::abi;
use conformance::case::Case;
use conformance::driver::Driver;
use conformance::render;
use conformance::report::Divergence;
use xtask::{project_root, Language};

use crate::judge::{Attempt, Listed, Ran};

/// One snapshot per case, named after it and shared by every language.
pub const SNAPSHOTS_DIR: &str = "tests/snapshots";
/// Each language's import/export surface, one snapshot per language.
pub const SURFACES_DIR: &str = "tests/snapshots/surfaces";
pub const SURFACE_TRIAL: &str = "surface";

/// Why a trial that compares with a snapshot failed, and what it rendered if it got that far.
pub struct Mismatch {
    pub message: String,
    pub divergence: Option<Divergence>,
}

impl From<String> for Mismatch {
    fn from(message: String) -> Mismatch {
        Mismatch {
            message,
            divergence: None,
        }
    }
}

/// Runs one case on one language's plugin on one host and compares the output with the case's
/// shared snapshot.
pub fn check(
    case: &Case,
    subject: &str,
    driver: &dyn Driver,
    wasm: &Path,
    listed: Listed,
) -> Result<(), Mismatch> {
    // A failing call is a result like any other: the snapshot says how it failed.
    let outcomes = driver
        .run(wasm, &case.request)
        .map_err(|error| format!("{subject}: {error}"))?;
    if outcomes.len() != case.request.calls.len() {
        return Err(format!(
            "{subject}: {} outcomes for {} calls",
            outcomes.len(),
            case.request.calls.len()
        )
        .into());
    }
    let rendered = render::request(&case.request, &outcomes);

    let description = format!("{} ({})", case.description, case.file);
    let compared = matches_snapshot(SNAPSHOTS_DIR, &case.name, description, rendered, listed);
    compared.map_err(|divergence| Mismatch {
        message: format!(
            "{subject} diverges from the shared snapshot of case `{}` ({}){}",
            case.name,
            case.file,
            diff_shown(listed)
        ),
        divergence: Some(divergence),
    })
}

/// Where a divergence's diff is to be seen: above, from insta, unless the trial is a known
/// failure, whose diff goes to the report only.
pub fn diff_shown(listed: Listed) -> &'static str {
    match listed {
        Listed(true) => "",
        Listed(false) => ": see the diff above",
    }
}

/// Whether two renderings are the same as insta compares them: trailing whitespace aside, and
/// Windows line ends as Unix ones.
fn same(snapshot: &str, rendered: &str) -> bool {
    let normal = |text: &str| text.trim_end().replace("\r\n", "\n");
    normal(snapshot) == normal(rendered)
}

/// Compares `rendered` with the snapshot `dir/name.snap`. A listed known failure is compared
/// quietly; any other mismatch goes to insta, which prints the diff (and, outside CI, writes the
/// `.snap.new` that `cargo insta review` shows) and panics; the panic is caught so the caller can
/// name what diverged. Either way the divergence is kept for the results page.
pub fn matches_snapshot(
    dir: &str,
    name: &str,
    description: String,
    rendered: String,
    listed: Listed,
) -> Result<(), Divergence> {
    let expected = snapshot_body(dir, name);
    match &expected {
        Some(expected) if same(expected, &rendered) => return Ok(()),
        Some(expected) if listed.0 => return Err(Divergence::new(expected, rendered)),
        _ => {}
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(project_root().join(dir));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(description);
    settings.set_omit_expression(true);
    let shown = rendered.clone();
    let matched = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, shown))
    }))
    .is_ok();
    match matched {
        true => Ok(()),
        false => Err(Divergence::new(&expected.unwrap_or_default(), rendered)),
    }
}

/// The contents of the snapshot `dir/name.snap` below its header, or `None` when there is no
/// such snapshot.
pub fn snapshot_body(dir: &str, name: &str) -> Option<String> {
    let text =
        std::fs::read_to_string(project_root().join(dir).join(format!("{name}.snap"))).ok()?;
    // insta's header is YAML between two `---` lines.
    let body = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(text.as_str(), |(_, body)| body);
    Some(body.to_owned())
}

/// Each language's imports and exports, snapshotted per language: the one snapshot that is not
/// shared, because the surface is what compilers legitimately differ in (WASI imports, runtime
/// exports). The lint decides what must agree.
pub fn surface_work(
    language: &'static Language,
    surface: abi::Surface,
) -> impl FnOnce(Listed) -> Attempt + Send + 'static {
    move |listed| {
        let description = format!("imports and exports of the {language} plugin");
        let rendered = surface.render();
        match matches_snapshot(SURFACES_DIR, language.name(), description, rendered, listed) {
            Ok(()) => Attempt::result(Ok(())),
            Err(divergence) => Attempt::Ran(Ran {
                result: Err(format!(
                    "{language}: its import/export surface differs from {SURFACES_DIR}/{language}.snap{}",
                    diff_shown(listed)
                )),
                divergence: Some(divergence),
                seen: None,
            }),
        }
    }
}
