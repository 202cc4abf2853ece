//! A report for people in a terminal and for CI: the table of cases, the table of attacks, the
//! line saying how many verdicts were reused, and JUnit XML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{counts, Kind, Record, Report};
use crate::verdict::Verdict;

impl Report {
    /// Cases down, `<language>@<host>` across, then the counts.
    pub fn table(&self) -> String {
        let mut cells: BTreeMap<&str, BTreeMap<String, &'static str>> = BTreeMap::new();
        for record in self.cases() {
            if let (Kind::Case { case, .. }, Some(subject)) = (&record.kind, record.subject()) {
                cells
                    .entry(case)
                    .or_default()
                    .insert(subject, record.verdict.word());
            }
        }
        let width = cells.keys().map(|case| case.len()).max().unwrap_or(4);
        let width = width.max(4);
        // A filtered run (`-- @go-host`) shows only the columns it ran.
        let ran: std::collections::BTreeSet<&String> =
            cells.values().flat_map(|row| row.keys()).collect();
        let columns: Vec<String> = self
            .columns()
            .into_iter()
            .filter(|column| ran.contains(column))
            .collect();
        let widths: Vec<usize> = columns.iter().map(|c| c.len().max(5)).collect();
        let mut out = format!("{:<width$}", "case");
        for (column, width) in columns.iter().zip(&widths) {
            let _ = write!(out, "  {column:<width$}");
        }
        out = out.trim_end().to_owned() + "\n";
        for (case, row) in &cells {
            let mut line = format!("{case:<width$}");
            for (column, width) in columns.iter().zip(&widths) {
                let word = row.get(column).copied().unwrap_or("-");
                let shown = match word {
                    "fail" | "xpass" => word.to_uppercase(),
                    _ => word.to_owned(),
                };
                let _ = write!(line, "  {shown:<width$}");
            }
            out += line.trim_end();
            out += "\n";
        }
        let part = match &self.partition {
            Some(partition) => format!(" (part {partition} of a split run)"),
            None => String::new(),
        };
        let summary = summary(&counts(self.cases()));
        let (rows, columns) = (cells.len(), columns.len());
        let _ = writeln!(
            out,
            "{rows} cases x {columns} plugin-host pairs{part}: {summary}"
        );
        out + &self.group_lines()
    }

    /// Per group: how many cases and trials, and the trials by verdict.
    fn group_lines(&self) -> String {
        let groups = self.cases_by_group();
        let width = groups.keys().map(|group| group.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (group, cases) in groups {
            let counts = counts(self.cases().filter(|r| super::in_group(r, group)));
            let trials: usize = counts.values().sum();
            let cases = cases.len();
            let _ = writeln!(
                out,
                "  {group:<width$}  {cases:>3} cases, {trials:>5} trials: {}",
                summary(&counts)
            );
        }
        out
    }

    /// Attacks down, hosts across: each cell what the host did and the verdict, per hostile
    /// language (`rust: timed out (pass)`), the languages on one line when they agree.
    pub fn attack_table(&self) -> String {
        // (attack, host) -> (language, cell), sorted by attack, then host, then language.
        let mut cells: BTreeMap<(&str, &str), Vec<(&str, String)>> = BTreeMap::new();
        let mut hosts: Vec<&str> = Vec::new();
        for record in &self.records {
            let Kind::Attack {
                attack,
                language,
                host,
                seen,
            } = &record.kind
            else {
                continue;
            };
            if !hosts.contains(&host.as_str()) {
                hosts.push(host);
            }
            let cell = format!("{seen} ({})", record.verdict.word());
            cells
                .entry((attack, host))
                .or_default()
                .push((language, cell));
        }
        let mut out = String::new();
        let mut attacks: Vec<&str> = cells.keys().map(|(attack, _)| *attack).collect();
        attacks.dedup();
        for attack in attacks {
            let _ = writeln!(out, "{attack}");
            for host in &hosts {
                let mut row = cells.get(&(attack, *host)).cloned().unwrap_or_default();
                row.sort();
                let shown = if row.windows(2).all(|pair| pair[0].1 == pair[1].1) {
                    row.first()
                        .map(|(_, cell)| cell.clone())
                        .unwrap_or_default()
                } else {
                    let each = row
                        .iter()
                        .map(|(language, cell)| format!("{language}: {cell}"));
                    each.collect::<Vec<_>>().join("; ")
                };
                let _ = writeln!(out, "  {host:<15} {shown}");
            }
        }
        out
    }

    /// How many of the run's trials reused an earlier verdict, or why every one ran.
    pub fn reused_line(&self) -> String {
        if let Some(why) = &self.reuse {
            return format!("every trial ran ({why})");
        }
        let reused = self.records.iter().filter(|r| r.reused).count();
        format!(
            "{reused} of {} verdicts reused from an earlier run, nothing they depend on having \
             changed ({}=1 or --run-all runs every trial)",
            self.records.len(),
            crate::run_all::ENV
        )
    }

    /// JUnit XML: one test case per (case, language, host), classname `<language>@<host>`. A
    /// known failure is reported as skipped with its reason; an unexpected pass as a failure.
    pub fn junit(&self) -> String {
        let counts = counts(self.cases());
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites><testsuite name=\"conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            self.cases().count(),
            counts["fail"] + counts["xpass"],
            counts["skip"] + counts["xfail"]
        );
        // What each language and host was built by (a host: its SDK and engine), as JUnit's
        // suite properties, so a result read alone still says what ran.
        out += "  <properties>\n";
        for (built, toolchain) in &self.toolchains {
            let (built, toolchain) = (xml(built), xml(toolchain));
            let _ = writeln!(
                out,
                "    <property name=\"{built}\" value=\"{toolchain}\"/>"
            );
        }
        out += "  </properties>\n";
        for record in self.cases() {
            out += &junit_case(record);
        }
        out += "</testsuite></testsuites>\n";
        out
    }
}

fn junit_case(record: &Record) -> String {
    let (Kind::Case { case, .. }, Some(subject)) = (&record.kind, record.subject()) else {
        return String::new();
    };
    let mut out = format!(
        "  <testcase classname=\"{}\" name=\"{}\"",
        xml(&subject),
        xml(case)
    );
    let detail = xml(record.verdict.detail());
    match &record.verdict {
        Verdict::Pass => out += "/>\n",
        Verdict::Fail(_) => {
            let _ = writeln!(out, "><failure message=\"{detail}\"/></testcase>");
        }
        Verdict::XPass(_) => {
            let _ = writeln!(
                out,
                "><failure message=\"passed, but listed as a known failure: {detail}\"/></testcase>"
            );
        }
        Verdict::XFail(_) => {
            let _ = writeln!(
                out,
                "><skipped message=\"known failure: {detail}\"/></testcase>"
            );
        }
        Verdict::Skip(_) => {
            let _ = writeln!(out, "><skipped message=\"{detail}\"/></testcase>");
        }
    }
    out
}

/// `1 pass, 0 fail, ...`, every verdict in order.
fn summary(counts: &super::Counts) -> String {
    let each = Verdict::WORDS.iter().map(|word| {
        let count = counts.get(*word).copied().unwrap_or(0);
        format!("{count} {word}")
    });
    each.collect::<Vec<_>>().join(", ")
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out += "&amp;",
            '<' => out += "&lt;",
            '>' => out += "&gt;",
            '"' => out += "&quot;",
            '\n' => out += "&#10;",
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{case, report};
    use super::*;

    #[test]
    fn table_has_a_row_per_case_and_a_column_per_plugin_and_host() {
        assert_eq!(
            report().table(),
            "case       rust@rust-host  go@rust-host\n\
             echo       skip            xfail\n\
             seed_call  pass            FAIL\n\
             2 cases x 2 plugin-host pairs: 1 pass, 1 fail, 1 xfail, 0 xpass, 1 skip\n  \
             bytes    1 cases,     2 trials: 0 pass, 0 fail, 1 xfail, 0 xpass, 1 skip\n  \
             seed     1 cases,     2 trials: 1 pass, 1 fail, 0 xfail, 0 xpass, 0 skip\n"
        );
    }

    #[test]
    fn a_column_that_ran_nothing_is_left_out_of_the_table() {
        let mut report = report();
        report.languages.push("zig".to_owned());
        let table = report.table();
        assert!(!table.contains("zig@rust-host"), "{table}");
        assert!(table.contains("2 cases x 2 plugin-host pairs"), "{table}");
    }

    #[test]
    fn attacks_agreeing_across_languages_share_a_cell() {
        let mut report = report();
        let attack = |language: &str, seen: &str| Record {
            trial: format!("attack::spin::{language}@rust-host"),
            kind: Kind::Attack {
                attack: "spin".to_owned(),
                language: language.to_owned(),
                host: "rust-host".to_owned(),
                seen: seen.to_owned(),
            },
            ..case("x", language, Verdict::Pass)
        };
        report.records = vec![attack("rust", "timed out"), attack("go", "timed out")];
        assert_eq!(
            report.attack_table(),
            "spin\n  rust-host       timed out (pass)\n"
        );
        report.records[1] = attack("go", "trapped");
        assert_eq!(
            report.attack_table(),
            "spin\n  rust-host       go: trapped (pass); rust: timed out (pass)\n"
        );
    }

    #[test]
    fn junit_counts_and_escapes() {
        let junit = report().junit();
        assert!(
            junit.contains("tests=\"4\" failures=\"1\" skipped=\"2\""),
            "{junit}"
        );
        assert!(junit.contains("<failure message=\"a &lt;diff&gt;&#10;here\"/>"));
        assert!(junit.contains("<skipped message=\"known failure: known\"/>"));
        assert!(junit.contains("<property name=\"go\" value=\"go version &quot;1&quot;\"/>"));
    }
}
