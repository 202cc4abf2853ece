//! `cargo xtask matrix test DIR`: someone else's directory of cases (their own modules, their
//! snapshots under `DIR/snapshots/`, their known failures in `DIR/known-failures.toml`) run on
//! every host by the conformance executable itself, so the rendering, verdicts, reuse, report
//! and results page are the suite's own. Every case is read first: a malformed one is one line
//! and status 3 before anything is built.

use std::path::{Path, PathBuf};

use xshell::{cmd, Shell};

use super::exit::{Exit, Fatal};

#[derive(clap::Args)]
pub struct TestArgs {
    /// The directory of cases: `<group>/<case>.toml`, `snapshots/<case>.snap`, and optionally
    /// `known-failures.toml` (`[<host>.module]` tables of `<case> = "reason"`)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where report.json, junit.xml, the results page and the kept verdicts go [default: DIR/results]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Once every host has run, write each case's snapshot from the reference host's (rust-host's)
    /// outcome, and name the hosts that disagree with it
    #[arg(long)]
    pub accept: bool,
    /// Arguments for the run after `--`, as `cargo test` takes them: a filter (`-- @go-host`),
    /// `--exact`, `--list`
    #[arg(last = true, value_name = "ARGS")]
    pub rest: Vec<String>,
}

/// For `--help`.
pub const TEST_STATUSES_HELP: &str = "\
Exit status:
  0  every trial passed or failed as its known failure says
  1  a trial failed: a host diverged from a snapshot, a case has no snapshot yet, or a known
     failure passed
  2  bad usage: DIR is not a directory
  3  a case cannot be used (a field it does not know, a module file that is missing, a link
     named main, ...): the case file and what is wrong";

pub fn run(args: &TestArgs, sh: &Shell) -> Result<Exit, Fatal> {
    let dir = absolute(&args.dir)?;
    if !dir.is_dir() {
        let shown = args.dir.display();
        return Err(Fatal::new(
            Exit::Usage,
            format!("{shown}: not a directory of cases"),
        ));
    }
    check_cases(&dir, &args.dir.display().to_string())?;
    let out = match &args.out {
        Some(out) => absolute(out)?,
        None => dir.join("results"),
    };
    let cargo = crate::cargo();
    let rest = &args.rest;
    let run = cmd!(sh, "{cargo} test --test conformance -- {rest...}")
        .env(suite::scope::CASES_DIR, &dir)
        .env(suite::scope::OUT_DIR, &out)
        .env(suite::scope::ACCEPT, if args.accept { "1" } else { "" });
    match run.run() {
        Ok(()) => Ok(Exit::Agree),
        Err(_) => Ok(Exit::Differ),
    }
}

/// Reads every case of `dir`, so a malformed one is reported before a build, by its file.
fn check_cases(dir: &Path, shown: &str) -> Result<(), Fatal> {
    let bad = |error: anyhow::Error| Fatal::new(Exit::BadFile, format!("{error:#}"));
    let catalogue = conformance::case::catalogue_in(dir, shown).map_err(bad)?;
    if catalogue.is_empty() {
        let message = format!("{shown}: no cases (each is {shown}/<group>/<case>.toml)");
        return Err(Fatal::new(Exit::BadFile, message));
    }
    for entry in &catalogue {
        conformance::case::load(entry).map_err(bad)?;
    }
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, Fatal> {
    std::path::absolute(path)
        .map_err(|error| Fatal::new(Exit::Usage, format!("{}: {error}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path) -> TestArgs {
        TestArgs {
            dir: dir.to_owned(),
            out: None,
            accept: false,
            rest: Vec::new(),
        }
    }

    /// A directory of cases in a temporary folder, each file given as (path, text).
    fn cases(label: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("matrix-test-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn refused(dir: &Path) -> Fatal {
        let sh = Shell::new().unwrap();
        run(&args(dir), &sh).expect_err("refused before any run")
    }

    #[test]
    fn a_directory_that_is_not_one_is_bad_usage() {
        let fatal = refused(Path::new("/no/such/cases"));
        assert_eq!(fatal.exit, Exit::Usage);
        assert_eq!(fatal.message, "/no/such/cases: not a directory of cases");
    }

    #[test]
    fn a_malformed_case_is_named_with_its_file_before_anything_runs() {
        let good = "description = \"d\"\nwasm = \"m.wat\"\nexport = \"run\"\ninput = \"\"\n";
        let malformed = [
            (
                "typo",
                "description = \"d\"\nwasm = \"m.wat\"\nexprt = \"run\"\ninput = \"\"\n",
                "unknown field `exprt`",
            ),
            (
                "missing",
                "description = \"d\"\nwasm = \"gone.wat\"\nexport = \"run\"\ninput = \"\"\n",
                "is not a file",
            ),
            (
                "main",
                &format!("{good}links = [{{ name = \"main\", wasm = \"m.wat\" }}]\n"),
                "`main`",
            ),
            ("top", "", "a case belongs in a group folder"),
        ];
        for (label, text, expected) in malformed {
            let file = if label == "top" {
                "loose.toml"
            } else {
                "g/bad.toml"
            };
            let dir = cases(
                label,
                &[("g/m.wat", "(module)"), ("g/good.toml", good), (file, text)],
            );
            let fatal = refused(&dir);
            assert_eq!(fatal.exit, Exit::BadFile, "{label}: {}", fatal.message);
            assert!(
                fatal.message.contains(expected),
                "{label}: {}",
                fatal.message
            );
            assert!(
                !fatal.message.contains('\n'),
                "{label}: one line: {}",
                fatal.message
            );
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn a_directory_without_cases_says_where_they_go() {
        let dir = cases("empty", &[("known-failures.toml", "")]);
        let fatal = refused(&dir);
        assert_eq!(fatal.exit, Exit::BadFile);
        let expected = format!("no cases (each is {}/<group>/<case>.toml)", dir.display());
        assert!(fatal.message.ends_with(&expected), "{}", fatal.message);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
