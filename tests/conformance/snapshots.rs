//! The trials that compare with snapshots: a case on a plugin and host against the case's shared
//! snapshot, each language's surface against its own, and the check that no snapshot is orphaned.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use conformance::abi;
use conformance::case::Case;
use conformance::driver::Driver;
use conformance::render;
use conformance::report::Divergence;
use xtask::{project_root, Language};

use crate::floor::reference_host;
use crate::judge::{Attempt, Listed, Ran};

pub use crate::floor::SNAPSHOTS_DIR;
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

/// Where the cases' snapshots are, and how a mismatch is shown.
#[derive(Clone)]
pub struct CaseSnapshots {
    pub dir: PathBuf,
    pub shown: String,
    /// insta shows a mismatch's diff (and, outside CI, writes the `.snap.new`); someone else's
    /// directory is compared quietly, the diff printed here.
    pub insta: bool,
    /// With `--accept`, every trial's rendering, so the reference host's can be written once
    /// every host has run.
    pub renderings: Option<Arc<Mutex<Vec<Rendering>>>>,
}

/// One host's rendering of one case.
pub struct Rendering {
    pub case: String,
    pub description: String,
    pub host: String,
    pub text: String,
}

/// Runs one case on one language's plugin on one host and compares the output with the case's
/// shared snapshot.
pub fn check(
    case: &Case,
    (subject, host): (&str, &str),
    driver: &dyn Driver,
    wasm: &Path,
    snapshots: &CaseSnapshots,
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
    if let Some(renderings) = &snapshots.renderings {
        let mut renderings = renderings.lock().unwrap_or_else(|p| p.into_inner());
        renderings.push(Rendering {
            case: case.name.clone(),
            description: description.clone(),
            host: host.to_owned(),
            text: rendered.clone(),
        });
    }
    if snapshots.insta {
        let compared = matches_snapshot(SNAPSHOTS_DIR, &case.name, description, rendered, listed);
        return compared.map_err(|divergence| Mismatch {
            message: format!(
                "{subject} diverges from the shared snapshot of case `{}` ({}){}",
                case.name,
                case.file,
                diff_shown(listed)
            ),
            divergence: Some(divergence),
        });
    }
    let file = snapshots.dir.join(format!("{}.snap", case.name));
    let shown = format!("{}/{}.snap", snapshots.shown, case.name);
    let Some(expected) = snapshot_body_at(&file) else {
        if snapshots.renderings.is_some() {
            return Ok(());
        }
        return Err(format!(
            "{subject}: case `{}` has no snapshot ({shown}): `--accept` writes it from {}'s outcome",
            case.name,
            reference_host()
        )
        .into());
    };
    if same(&expected, &rendered) {
        return Ok(());
    }
    let divergence = Divergence::new(&expected, rendered);
    if !listed.0 {
        eprintln!("{subject} on case `{}`:\n{}", case.name, divergence.diff);
    }
    Err(Mismatch {
        message: format!(
            "{subject} diverges from the snapshot of case `{}` ({shown}){}",
            case.name,
            diff_shown(listed)
        ),
        divergence: Some(divergence),
    })
}

/// Writes each case's snapshot from the reference host's rendering, and returns one line per
/// case saying which hosts disagree with it (none when every host agrees).
pub fn accept(
    snapshots: &CaseSnapshots,
    renderings: Vec<Rendering>,
) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    let reference_host = reference_host();
    std::fs::create_dir_all(&snapshots.dir)
        .map_err(|error| anyhow::anyhow!("cannot create {}: {error}", snapshots.shown))?;
    let mut cases: Vec<&str> = renderings.iter().map(|r| r.case.as_str()).collect();
    cases.sort();
    cases.dedup();
    for case in cases {
        let of_case: Vec<&Rendering> = renderings.iter().filter(|r| r.case == case).collect();
        let Some(reference) = of_case.iter().find(|r| r.host == reference_host) else {
            lines.push(format!(
                "{case}: not accepted: {reference_host} did not run it"
            ));
            continue;
        };
        let text = format!(
            "---\nsource: cargo xtask matrix test\ndescription: {}\n---\n{}\n",
            reference.description,
            reference.text.trim_end()
        );
        let file = snapshots.dir.join(format!("{case}.snap"));
        std::fs::write(&file, text)
            .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", file.display()))?;
        let differing: Vec<&str> = of_case
            .iter()
            .filter(|r| !same(&r.text, &reference.text))
            .map(|r| r.host.as_str())
            .collect();
        lines.push(match differing.as_slice() {
            [] => format!("{case}: accepted from {reference_host}; every host agrees"),
            hosts => format!(
                "{case}: accepted from {reference_host}; differing: {}",
                hosts.join(", ")
            ),
        });
    }
    Ok(lines)
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
    snapshot_body_at(&project_root().join(dir).join(format!("{name}.snap")))
}

/// The contents of the snapshot file `path` below its header.
pub fn snapshot_body_at(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
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
