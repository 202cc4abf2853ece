//! Asking every host at once: one thread per host, each starting its host as a protocol host of
//! one child (the conformance run's client), greeting it, sending the request and ending it,
//! timed from its start.

use std::path::Path;
use std::time::{Duration, Instant};

use conformance::driver::{Driver, ProtocolHost};
use suite::protocol::{ErrorKind, Outcome, Request, WireAnswer, WireRequest, VERSION};

use crate::matrix::hosts::{one_line, Ready};

/// How long a host may take to start and answer the greeting: a JVM or a Python interpreter
/// starts in a second or two on a loaded machine.
const START_WAIT: Duration = Duration::from_secs(60);

/// What one host came to.
pub struct Answer {
    pub name: String,
    /// How it was started, for people.
    pub command: String,
    /// One outcome per call, or why the host could not be asked (naming it).
    pub outcomes: Result<Vec<Outcome>, String>,
    /// From its start to its answer to the greeting: its start-up.
    pub ready: Option<Duration>,
    /// From its start to its answer to the request, or to its failure.
    pub answered: Duration,
}

/// Asks every host side by side; the answers come back in the hosts' order.
pub fn ask_all(hosts: Vec<Ready>, wasm: &Path, request: &Request) -> Vec<Answer> {
    std::thread::scope(|scope| {
        let asking: Vec<_> = hosts
            .into_iter()
            .map(|host| {
                let (name, command) = (host.name.clone(), host.command.to_string());
                (name, command, scope.spawn(move || ask(host, wasm, request)))
            })
            .collect();
        asking
            .into_iter()
            .map(|(name, command, thread)| {
                thread.join().unwrap_or_else(|_| Answer {
                    outcomes: Err(format!("{name}: xtask panicked asking it (a bug in xtask)")),
                    name,
                    command,
                    ready: None,
                    answered: Duration::ZERO,
                })
            })
            .collect()
    })
}

fn ask(host: Ready, wasm: &Path, request: &Request) -> Answer {
    let started = Instant::now();
    let command = host.command.to_string();
    let driver = ProtocolHost::new(&host.name, host.command, 1);
    let mut ready = None;
    let outcomes = greet(&driver, wasm).and_then(|()| {
        ready = Some(started.elapsed());
        driver.run(wasm, request)
    });
    let answered = started.elapsed();
    // Ended on its own thread, so that the hosts end side by side too.
    drop(driver);
    Answer {
        name: host.name,
        command,
        outcomes: outcomes.map_err(|why| one_line(&why)),
        ready,
        answered,
    }
}

/// Sends a request of protocol 0, which a protocol host answers at once, before it reads the
/// rest, with `unsupported_protocol` and the version it speaks: the host is up, and speaks
/// this client's version (a host of another version is named as such, not as broken).
fn greet(driver: &ProtocolHost, wasm: &Path) -> Result<(), String> {
    let name = driver.name();
    let nothing = Request::one("", b"", Default::default(), Default::default());
    let mut greeting = WireRequest::new(0, wasm.to_owned(), &nothing);
    greeting.protocol = 0;
    let line = serde_json::to_string(&greeting).expect("a request always serializes");
    let text = driver.ask_line(&line, START_WAIT)?;
    match serde_json::from_str::<WireAnswer>(&text) {
        Ok(WireAnswer {
            protocol,
            error: Some(error),
            ..
        }) if error.kind == ErrorKind::UnsupportedProtocol => match protocol {
            VERSION => Ok(()),
            other => Err(format!(
                "{name} speaks protocol {other}, not {VERSION} (docs/protocol.md): rebuild it, or \
                 bring its adapter up to date"
            )),
        },
        _ => {
            let mut shown = text.trim_end().to_owned();
            if shown.len() > 200 {
                let end = (0..=200).rev().find(|&end| shown.is_char_boundary(end));
                shown.truncate(end.unwrap_or(0));
                shown.push_str("...");
            }
            Err(format!(
                "{name} does not speak docs/protocol.md: to a request of protocol 0 it answered \
                 `{shown}` instead of an unsupported_protocol error"
            ))
        }
    }
}
