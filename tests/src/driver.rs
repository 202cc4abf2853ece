//! Driving hosts: the [`Driver`] every host is behind, and [`ProtocolHost`], the client of any
//! host that speaks docs/protocol.md (one child process per test thread, each restarted after it
//! dies). A host that dies, hangs or answers nonsense fails the trial that was waiting, by name,
//! and the next trial gets a fresh child.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use crate::protocol::{ErrorKind, Outcome, Request, WireAnswer, WireRequest, VERSION};

/// A host ready to take requests.
pub trait Driver: Send + Sync {
    /// Makes every call of `request`, in order, on one instance of the plugin at `wasm`, and
    /// returns one outcome per call. `Err` means the host itself could not be asked (it failed
    /// to start, died, hung or broke the protocol), not that the plugin failed; it names the host.
    fn run(&self, wasm: &Path, request: &Request) -> Result<Vec<Outcome>, String>;
}

/// How long a host may take to answer beyond the request's own timeout before it counts as hung.
const GRACE: Duration = Duration::from_secs(60);
/// How long a request without a timeout may take.
const NO_TIMEOUT_WAIT: Duration = Duration::from_secs(600);

/// A host that speaks the conformance protocol, started as `program args...`.
pub struct ProtocolHost {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    servers: Vec<Mutex<Option<Server>>>,
    next: AtomicUsize,
    ids: AtomicU64,
    started: Mutex<Vec<u32>>,
}

struct Server {
    child: Child,
    stdin: ChildStdin,
    /// Lines from the child's stdout, read on a thread of their own so that a wait can end.
    lines: Receiver<std::io::Result<String>>,
}

impl ProtocolHost {
    /// A pool of up to `size` children, each started at its first request.
    pub fn new(
        name: &str,
        program: PathBuf,
        args: Vec<String>,
        env: Vec<(String, String)>,
        size: usize,
    ) -> ProtocolHost {
        ProtocolHost {
            name: name.to_owned(),
            program,
            args,
            env,
            servers: (0..size.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            ids: AtomicU64::new(1),
            started: Mutex::new(Vec::new()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id of every child started so far, oldest first.
    pub fn started(&self) -> Vec<u32> {
        self.started
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    /// Sends one raw line and returns the raw answer line, for the protocol's own trials.
    pub fn ask_line(&self, line: &str, wait: Duration) -> Result<String, String> {
        let mut server = self.server();
        self.ask_on(&mut server, line, wait)
    }

    /// An idle server if there is one, else the next in turn once it is free.
    fn server(&self) -> MutexGuard<'_, Option<Server>> {
        for server in &self.servers {
            match server.try_lock() {
                Ok(idle) => return idle,
                Err(TryLockError::Poisoned(poison)) => return poison.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.servers.len();
        self.servers[turn]
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn ask_on(
        &self,
        server: &mut Option<Server>,
        line: &str,
        wait: Duration,
    ) -> Result<String, String> {
        if server.is_none() {
            *server = Some(self.start()?);
        }
        let running = server.as_mut().expect("the server was just started");
        match running.ask(line, wait) {
            Ok(answer) => Ok(answer),
            Err(error) => {
                // Whatever state it is in, the next request gets a fresh child.
                discard(server);
                Err(format!(
                    "{} ({}): {error}",
                    self.name,
                    self.program.display()
                ))
            }
        }
    }

    fn start(&self) -> Result<Server, String> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .arg("serve")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| {
                format!(
                    "{}: cannot start {} serve: {error}",
                    self.name,
                    self.program.display()
                )
            })?;
        self.started
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(child.id());
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = stdout;
            loop {
                let mut line = String::new();
                let read = stdout.read_line(&mut line);
                let end = matches!(read, Ok(0) | Err(_));
                if send.send(read.map(|_| line)).is_err() || end {
                    return;
                }
            }
        });
        Ok(Server {
            child,
            stdin,
            lines,
        })
    }
}

impl Driver for ProtocolHost {
    fn run(&self, wasm: &Path, request: &Request) -> Result<Vec<Outcome>, String> {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let line = serde_json::to_string(&WireRequest::new(id, wasm.to_owned(), request))
            .map_err(|error| format!("{}: cannot encode the request: {error}", self.name))?;
        let calls = request.calls.len() as u32;
        let wait = match request.limits.timeout_ms {
            Some(ms) => Duration::from_millis(ms) * calls + GRACE,
            None => NO_TIMEOUT_WAIT,
        };
        let mut server = self.server();
        let answer = self.ask_on(&mut server, &line, wait)?;
        match decode(&answer, id, request.calls.len()) {
            Ok(outcomes) => Ok(outcomes),
            // A limit the SDK cannot enforce: an honest answer, so the child stays.
            Err(Answer::Refused(why)) => Err(format!("{} refused the request: {why}", self.name)),
            Err(Answer::Broken(why)) => {
                // An answer out of step with its request leaves the next one unreadable too.
                discard(&mut server);
                Err(format!(
                    "{} broke the protocol ({why}); it answered `{}`",
                    self.name,
                    shorten(answer.trim_end())
                ))
            }
        }
    }
}

/// Kills the child in `server`, if any, so that the next request starts a fresh one.
fn discard(server: &mut Option<Server>) {
    if let Some(mut child) = server.take().map(|server| server.child) {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Why an answer has no outcomes.
enum Answer {
    /// The host cannot enforce a limit the request sets (`unsupported_limit`).
    Refused(String),
    /// The answer breaks docs/protocol.md.
    Broken(String),
}

impl From<String> for Answer {
    fn from(why: String) -> Answer {
        Answer::Broken(why)
    }
}

/// The answer to request `id` with `calls` calls, checked against docs/protocol.md.
fn decode(answer: &str, id: u64, calls: usize) -> Result<Vec<Outcome>, Answer> {
    let answer: WireAnswer =
        serde_json::from_str(answer).map_err(|error| format!("not an answer: {error}"))?;
    if answer.protocol != VERSION {
        return Err(format!("it speaks protocol {}, not {VERSION}", answer.protocol).into());
    }
    if answer.id != Some(id) {
        return Err(format!("the answer's id is {:?}, not {id}", answer.id).into());
    }
    match (answer.results, answer.error) {
        (Some(results), None) if results.len() == calls => Ok(results
            .into_iter()
            .map(|result| result.into_outcome())
            .collect::<Result<_, _>>()?),
        (Some(results), None) => Err(format!("{} results for {calls} calls", results.len()).into()),
        (None, Some(error)) if error.kind == ErrorKind::UnsupportedLimit => {
            Err(Answer::Refused(error.message))
        }
        (None, Some(error)) => Err(format!(
            "it refused a request the client thinks is well-formed: {:?}: {}",
            error.kind, error.message
        )
        .into()),
        _ => Err("an answer needs exactly one of `results` and `error`"
            .to_owned()
            .into()),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 400;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

impl Server {
    fn ask(&mut self, line: &str, wait: Duration) -> Result<String, String> {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(|error| format!("cannot send the request: {error}"))?;
        match self.lines.recv_timeout(wait) {
            Ok(Ok(answer)) if answer.is_empty() => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(format!("it ended without answering ({status})"))
            }
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(format!("cannot read its answer: {error}")),
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("no answer within {wait:?}: it counts as hung"))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(format!("it ended without answering ({status})"))
            }
        }
    }
}

impl Drop for ProtocolHost {
    fn drop(&mut self) {
        for server in &mut self.servers {
            let server = server.get_mut().unwrap_or_else(|p| p.into_inner());
            if let Some(server) = server.take() {
                // End of input is the host's signal to exit.
                let Server {
                    mut child, stdin, ..
                } = server;
                drop(stdin);
                let _ = child.wait();
            }
        }
    }
}
