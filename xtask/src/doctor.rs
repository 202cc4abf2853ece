//! `cargo xtask doctor`: every toolchain the workspace uses, found or missing, with its version,
//! whether CI requires it, and the fix for a missing one.

use xshell::Shell;

use crate::language::Requirement;
use crate::toolchain::{self, Toolchain};
use crate::{Host, Language};

/// One row: a toolchain and who needs it.
struct Row {
    toolchain: &'static Toolchain,
    users: Vec<&'static str>,
    required: bool,
}

/// Every toolchain once, in the order the workspace meets them: its own tools, then each
/// language's, then each host's. A toolchain is required when anything required uses it.
fn rows() -> Vec<Row> {
    let mut rows: Vec<Row> = toolchain::WORKSPACE
        .iter()
        .map(|&toolchain| Row {
            toolchain,
            users: vec!["workspace"],
            required: true,
        })
        .collect();
    let languages = Language::ALL
        .iter()
        .map(|&l| (l.name(), l.requirement(), l.obj().toolchains()));
    let hosts = Host::ALL
        .iter()
        .map(|&h| (h.name(), h.requirement(), h.toolchains()));
    for (user, requirement, toolchains) in languages.chain(hosts) {
        let required = requirement == Requirement::Required;
        for &toolchain in toolchains {
            match rows
                .iter_mut()
                .find(|row| row.toolchain.name == toolchain.name)
            {
                Some(row) => {
                    row.users.push(user);
                    row.required |= required;
                }
                None => rows.push(Row {
                    toolchain,
                    users: vec![user],
                    required,
                }),
            }
        }
    }
    rows
}

/// Prints the table; fails when a required toolchain is missing.
pub fn doctor(sh: &Shell) -> anyhow::Result<()> {
    match table(sh)?.as_slice() {
        [] => Ok(()),
        missing => anyhow::bail!("required toolchains missing: {}", missing.join(", ")),
    }
}

/// Prints the table and returns the names of the required toolchains that are missing.
pub(crate) fn table(sh: &Shell) -> anyhow::Result<Vec<&'static str>> {
    let _root = sh.push_dir(crate::project_root());
    let mut table = vec![[
        "toolchain".to_owned(),
        "status".to_owned(),
        "needed".to_owned(),
        "version, or the fix".to_owned(),
    ]];
    let mut missing_required = Vec::new();
    for row in rows() {
        let needed = format!(
            "{} ({})",
            if row.required { "required" } else { "optional" },
            row.users.join(", ")
        );
        let (status, detail) = match row.toolchain.probe(sh) {
            Ok(version) => ("found", version),
            Err(error) => {
                if row.required {
                    missing_required.push(row.toolchain.name);
                }
                ("missing", format!("{error:#}"))
            }
        };
        table.push([
            row.toolchain.name.to_owned(),
            status.to_owned(),
            needed,
            detail,
        ]);
    }
    print_table(&table);
    Ok(missing_required)
}

fn print_table(table: &[[String; 4]]) {
    let mut widths = [0; 3];
    for row in table {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for [name, status, needed, detail] in table {
        println!(
            "{name:<w0$}  {status:<w1$}  {needed:<w2$}  {detail}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
}
