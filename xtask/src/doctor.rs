//! `cargo xtask doctor`: every toolchain the table's entries use, found or missing, with its
//! version, who needs it, and the fix for a missing one.

use std::io::Write;

use xshell::Shell;

use crate::build::Buildable;
use crate::table::{HOSTILE, HOSTS, LANGUAGES};
use crate::toolchain::{self, Toolchain};

/// One row: a toolchain and who needs it.
struct Row {
    toolchain: &'static Toolchain,
    users: Vec<String>,
}

/// Every toolchain once, in the order the workspace meets them: its own tools, then each
/// language's, each host's and each hostile plugin's.
fn rows() -> Vec<Row> {
    let mut rows: Vec<Row> = toolchain::WORKSPACE
        .iter()
        .map(|&toolchain| Row {
            toolchain,
            users: vec!["workspace".to_owned()],
        })
        .collect();
    let builds = LANGUAGES
        .iter()
        .map(|l| (l.build(), ""))
        .chain(HOSTS.iter().map(|h| (h.build(), "")))
        .chain(HOSTILE.iter().map(|h| (h.build(), "hostile ")))
        .chain([(&crate::table::RESULTS_PAGE, "")]);
    for (build, prefix) in builds {
        let user = format!("{prefix}{}", build.name);
        for &toolchain in build.toolchains {
            match rows
                .iter_mut()
                .find(|row| row.toolchain.name == toolchain.name)
            {
                Some(row) if !row.users.contains(&user) => row.users.push(user.clone()),
                Some(_) => {}
                None => rows.push(Row {
                    toolchain,
                    users: vec![user.clone()],
                }),
            }
        }
    }
    rows
}

/// Every toolchain of the table, once each.
pub(crate) fn toolchains() -> Vec<&'static Toolchain> {
    rows().into_iter().map(|row| row.toolchain).collect()
}

/// Prints the table on stdout; fails when a toolchain is missing.
pub fn doctor(sh: &Shell) -> anyhow::Result<()> {
    match table(sh, &mut std::io::stdout())?.as_slice() {
        [] => Ok(()),
        missing => anyhow::bail!("toolchains missing: {}", missing.join(", ")),
    }
}

/// Writes the table to `out` and returns the names of the toolchains that are missing.
pub(crate) fn table(sh: &Shell, out: &mut dyn Write) -> anyhow::Result<Vec<&'static str>> {
    let _root = sh.push_dir(crate::project_root());
    let mut table = vec![[
        "toolchain".to_owned(),
        "status".to_owned(),
        "needed by".to_owned(),
        "version, or the fix".to_owned(),
    ]];
    let mut missing = Vec::new();
    for row in rows() {
        let (status, detail) = match row.toolchain.probe(sh) {
            Ok(version) => ("found", version),
            Err(error) => {
                missing.push(row.toolchain.name);
                ("missing", format!("{error:#}"))
            }
        };
        table.push([
            row.toolchain.name.to_owned(),
            status.to_owned(),
            row.users.join(", "),
            detail,
        ]);
    }
    let mut widths = [0; 3];
    for row in &table {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for [name, status, needed, detail] in &table {
        writeln!(
            out,
            "{name:<w0$}  {status:<w1$}  {needed:<w2$}  {detail}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )?;
    }
    Ok(missing)
}
