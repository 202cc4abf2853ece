//! What `matrix call` comes to and prints. For people: each group of hosts with its rendering
//! once, then the hosts that differ with a diff per group (stdout); the hosts skipped or that
//! could not be asked, the messages of load failures and, with `--timings`, each host's times
//! (stderr). For machines (`--json`): all of it as one JSON object on stdout, the notes still on
//! stderr.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;
use suite::protocol::{Failure, Request};

use crate::matrix::ask::Answer;
use crate::matrix::compare::{compare, Comparison};
use crate::matrix::exit::Exit;

pub struct Report {
    pub answers: Vec<Answer>,
    /// Each host that answered, and its outcomes rendered, in the hosts' order.
    pub rendered: Vec<(String, String)>,
    pub comparison: Comparison,
    /// Table hosts this machine cannot build, with why.
    pub skipped: Vec<(String, String)>,
    /// Hosts that were wanted but could not be started, with why.
    pub unstarted: Vec<(String, String)>,
    /// From the first host's start to the last one's end: the hosts' share of the command's
    /// time (building and checking come before).
    pub wall: Duration,
}

impl Report {
    pub fn new(
        answers: Vec<Answer>,
        request: &Request,
        skipped: Vec<(String, String)>,
        unstarted: Vec<(String, String)>,
        reference_host: Option<&str>,
        wall: Duration,
    ) -> Report {
        let rendered: Vec<(String, String)> = answers
            .iter()
            .filter_map(|answer| {
                let outcomes = answer.outcomes.as_ref().ok()?;
                let rendering = conformance::render::request(request, outcomes);
                Some((answer.name.clone(), rendering))
            })
            .collect();
        Report {
            comparison: compare(&rendered, reference_host),
            rendered,
            answers,
            skipped,
            unstarted,
            wall,
        }
    }

    /// Every host that could not be asked, and why (the message names the host).
    fn failures(&self) -> Vec<String> {
        let unstarted = self.unstarted.iter();
        let unstarted = unstarted.map(|(name, why)| format!("{name} could not be run: {why}"));
        let failed = self
            .answers
            .iter()
            .filter_map(|a| a.outcomes.as_ref().err().cloned());
        unstarted.chain(failed).collect()
    }

    /// Hosts that differ come first: they answer the question asked. Then a host that could
    /// not be asked, or no host at all, leaves it open.
    pub fn exit(&self) -> Exit {
        if !self.comparison.agree() {
            Exit::Differ
        } else if !self.failures().is_empty() || self.rendered.is_empty() {
            Exit::HostFailed
        } else {
            Exit::Agree
        }
    }

    /// For people, whatever else is on stdout: each host that could not be asked, each load
    /// failure's message and, with `timings`, each host's times.
    pub fn write_notes(&self, err: &mut dyn Write, timings: bool) -> std::io::Result<()> {
        for line in self.failures() {
            writeln!(err, "error: {line}")?;
        }
        for (host, message) in load_messages(&self.answers) {
            writeln!(
                err,
                "note: {host}: the plugin could not be loaded: {message}"
            )?;
        }
        if timings {
            self.write_timings(err)?;
        }
        Ok(())
    }

    /// The groups, each with its rendering once, the hosts that differ and the diffs.
    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let groups = &self.comparison.groups;
        if let [group] = &groups[..] {
            let hosts = group.hosts.join(", ");
            return writeln!(out, "every host agrees ({hosts}):\n{}", group.rendering);
        }
        for group in groups {
            let count = match group.hosts.len() {
                1 => "1 host".to_owned(),
                n => format!("{n} hosts"),
            };
            writeln!(
                out,
                "── {count}: {}\n{}",
                group.hosts.join(", "),
                group.rendering
            )?;
        }
        if groups.is_empty() {
            return Ok(());
        }
        let reference = groups[self.comparison.reference].hosts.join(", ");
        let differing = self.comparison.differing().join(", ");
        writeln!(out, "\ndiffer from {reference}: {differing}")?;
        for (_, group) in self.comparison.others() {
            write!(out, "{}", self.comparison.diff(group))?;
        }
        Ok(())
    }

    fn write_timings(&self, err: &mut dyn Write) -> std::io::Result<()> {
        for answer in &self.answers {
            let ready = match answer.ready {
                Some(ready) => format!("ready {:>6.2}s", ready.as_secs_f64()),
                None => "not ready    ".to_owned(),
            };
            let answered = answer.answered.as_secs_f64();
            writeln!(
                err,
                "time: {:<16} {ready}  answered {answered:>6.2}s",
                answer.name
            )?;
        }
        writeln!(
            err,
            "time: all hosts, side by side, in {:.2}s",
            self.wall.as_secs_f64()
        )
    }

    /// The whole report as one JSON object and a newline.
    pub fn write_json(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(&self.json()).expect("the report serializes");
        writeln!(out, "{json}")
    }

    fn json(&self) -> Json<'_> {
        let rendering = |name: &str| {
            let found = self.rendered.iter().find(|(host, _)| host == name);
            found.map(|(_, rendering)| rendering.as_str())
        };
        let loads = load_messages(&self.answers);
        let asked = self.answers.iter().map(|answer| JsonHost {
            name: &answer.name,
            command: Some(&answer.command),
            rendering: rendering(&answer.name),
            error: answer.outcomes.as_ref().err().map(String::as_str),
            load_messages: loads
                .iter()
                .filter(|(host, _)| *host == answer.name)
                .map(|(_, message)| *message)
                .collect(),
            ready_seconds: answer.ready.map(|ready| ready.as_secs_f64()),
            answered_seconds: Some(answer.answered.as_secs_f64()),
        });
        let unstarted = self.unstarted.iter().map(|(name, why)| JsonHost {
            name,
            command: None,
            rendering: None,
            error: Some(why),
            load_messages: Vec::new(),
            ready_seconds: None,
            answered_seconds: None,
        });
        let groups = &self.comparison.groups;
        Json {
            agree: self.comparison.agree(),
            exit: self.exit() as u8,
            hosts: asked.chain(unstarted).collect(),
            groups: groups
                .iter()
                .map(|g| JsonGroup {
                    hosts: &g.hosts,
                    rendering: &g.rendering,
                })
                .collect(),
            reference_group: (!groups.is_empty()).then_some(self.comparison.reference),
            differ: self.comparison.differing(),
            diffs: self
                .comparison
                .others()
                .map(|(group, other)| JsonDiff {
                    group,
                    diff: self.comparison.diff(other),
                })
                .collect(),
            skipped: self
                .skipped
                .iter()
                .map(|(name, why)| JsonSkip { name, why })
                .collect(),
            asking_seconds: self.wall.as_secs_f64(),
        }
    }
}

/// The message of each load failure a host answered, once per host and message: the rendering
/// shows only that the plugin could not be loaded (SDKs word it each their own way).
fn load_messages(answers: &[Answer]) -> Vec<(&str, &str)> {
    let mut messages: Vec<(&str, &str)> = Vec::new();
    for answer in answers {
        for outcome in answer.outcomes.iter().flatten() {
            if let Err(Failure::Load { message }) = &outcome.result {
                let note = (answer.name.as_str(), message.as_str());
                if !messages.contains(&note) {
                    messages.push(note);
                }
            }
        }
    }
    messages
}

/// `--json`'s object.
#[derive(Serialize)]
struct Json<'a> {
    /// Every host asked gave the same outcome.
    agree: bool,
    /// The exit status.
    exit: u8,
    /// Every host wanted, in order: those asked, then those that could not be started.
    hosts: Vec<JsonHost<'a>>,
    groups: Vec<JsonGroup<'a>>,
    /// The index of the group the others are diffed against; `null` when no host answered.
    reference_group: Option<usize>,
    /// The hosts outside that group.
    differ: Vec<&'a str>,
    diffs: Vec<JsonDiff>,
    skipped: Vec<JsonSkip<'a>>,
    /// From the first host's start to the last one's end, side by side.
    asking_seconds: f64,
}

#[derive(Serialize)]
struct JsonHost<'a> {
    name: &'a str,
    command: Option<&'a str>,
    /// The outcomes in the snapshots' normalised form; `null` when the host could not be asked.
    rendering: Option<&'a str>,
    /// Why the host could not be asked.
    error: Option<&'a str>,
    load_messages: Vec<&'a str>,
    ready_seconds: Option<f64>,
    answered_seconds: Option<f64>,
}

#[derive(Serialize)]
struct JsonGroup<'a> {
    hosts: &'a [String],
    rendering: &'a str,
}

#[derive(Serialize)]
struct JsonDiff {
    /// The index of the group diffed against the reference group.
    group: usize,
    diff: String,
}

#[derive(Serialize)]
struct JsonSkip<'a> {
    name: &'a str,
    why: &'a str,
}
