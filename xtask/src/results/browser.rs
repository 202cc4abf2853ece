//! The results page's check in a real browser: headless Chromium loads the page and checks what
//! a person would (tests/page/check.mjs, on Playwright's `playwright-core`), skipped when nothing
//! it checks changed since the last page that passed.

use std::path::Path;

use anyhow::{bail, Context};
use serde_json::Value;
use xshell::{cmd, Shell};

use super::{PAGE, PAGE_DATA_FILE, PAGE_FILE, SCREENSHOT_FILE};

/// What a browser check of the page in `dir` checks: the page's and the check's code, the
/// browser, and each trial's name and verdict (not its time).
fn page_check_key(dir: &Path, script: &Path, chromium: &str) -> anyhow::Result<String> {
    let data_path = dir.join(PAGE_DATA_FILE);
    let json = std::fs::read_to_string(&data_path)
        .with_context(|| format!("cannot read {}", data_path.display()))?;
    let data: Value = serde_json::from_str(&json)
        .with_context(|| format!("{}: not JSON", data_path.display()))?;
    let mut parts = vec![PAGE.to_owned(), chromium.to_owned()];
    for file in [
        script.to_path_buf(),
        script.with_file_name("package-lock.json"),
    ] {
        parts.push(
            std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?,
        );
    }
    for list in ["cases", "attacks", "others"] {
        for trial in data[list].as_array().map(Vec::as_slice).unwrap_or_default() {
            let (name, verdict) = (&trial["trial"], &trial["verdict"]);
            parts.push(format!("{name} {verdict}"));
        }
    }
    Ok(crate::fingerprint::hash_bytes(parts.join("\n").as_bytes()))
}

/// Where a passing browser check leaves what it checked, in the report's directory.
const PAGE_CHECK_STAMP: &str = "page-check.stamp";

/// Loads the page in headless Chromium (tests/page/check.mjs, Playwright's `playwright-core`) and
/// checks what a person would; returns its summary line. `Ok(None)` when the browser or the
/// check's dependencies are missing and this is not CI (under `CI=true` that is an error).
/// Unless `always` or under `CI=true`, a page whose code (the template, the check, its lock file,
/// the browser) and whose trials and verdicts are those of the last page that passed is not
/// checked again: a run that reused every verdict differs from the last one in times only.
pub fn check_page(sh: &Shell, dir: &Path, always: bool) -> anyhow::Result<Option<String>> {
    let root = crate::project_root();
    let build = &crate::table::RESULTS_PAGE;
    let chromium_version = match crate::build::probe_all(sh, build.toolchains) {
        Ok(_) => crate::toolchain::CHROMIUM.probe(sh)?,
        Err(error) => {
            if crate::in_ci() {
                return Err(error.context("the results page's browser check cannot run"));
            }
            eprintln!("warning: the results page's browser check is skipped: {error:#}");
            return Ok(None);
        }
    };
    let script = root.join(build.source_dir).join("check.mjs");
    let checked = page_check_key(dir, &script, &chromium_version)?;
    let stamp = dir.join(PAGE_CHECK_STAMP);
    if !always && !crate::in_ci() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == checked) {
        return Ok(Some(
            "page: not checked again: its code and its trials' verdicts are those of the last \
             page that passed (CI=true or --run-all checks it)"
                .to_owned(),
        ));
    }
    let _ = std::fs::remove_file(&stamp);
    crate::build::prepare(sh, build)?;
    let chromium = crate::toolchain::chromium_path(sh)?;
    let (page, data, shot) = (
        dir.join(PAGE_FILE),
        dir.join(PAGE_DATA_FILE),
        dir.join(SCREENSHOT_FILE),
    );
    let output = cmd!(
        sh,
        "node {script} --page {page} --report {data} --chromium {chromium} --screenshot {shot}"
    )
    .ignore_status()
    .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "the results page's browser check failed on {}: {}{}",
            page.display(),
            stdout.trim(),
            stderr.trim()
        );
    }
    std::fs::write(&stamp, checked).with_context(|| format!("cannot write {}", stamp.display()))?;
    Ok(Some(stdout.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_page_is_checked_again_when_a_verdict_or_its_code_changes_not_a_time() {
        let dir = std::env::temp_dir().join(format!("xtask-page-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("check.mjs");
        std::fs::write(&script, "check").unwrap();
        std::fs::write(dir.join("package-lock.json"), "{}").unwrap();
        let key = |cases: Value| {
            let data = json!({"cases": cases, "attacks": [], "others": []});
            std::fs::write(dir.join(PAGE_DATA_FILE), data.to_string()).unwrap();
            page_check_key(&dir, &script, "chromium 1").unwrap()
        };
        let first = key(json!([{"trial": "a", "verdict": "pass", "millis": 3}]));
        assert_eq!(
            key(json!([{"trial": "a", "verdict": "pass", "millis": 9}])),
            first
        );
        assert_ne!(
            key(json!([{"trial": "a", "verdict": "fail", "millis": 3}])),
            first
        );
        let cases = json!([{"trial": "a", "verdict": "pass", "millis": 3}]);
        std::fs::write(&script, "check, changed").unwrap();
        assert_ne!(key(cases), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
