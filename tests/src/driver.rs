//! Driving hosts: the [`Driver`] every host is behind, and [`ProtocolHost`], the client of any
//! host that speaks docs/protocol.md (one child process per test thread, each restarted after it
//! dies). A host that dies, hangs or answers nonsense fails the trial that was waiting, by name,
//! and the next trial gets a fresh child.
//!
//! Each child runs in a process group of its own, and ending a child kills its whole group: a
//! host started through a wrapper (`npx`, a JVM launcher, a bridge that starts a browser) has
//! grandchildren that hold its stdout, and none of them may outlive it or keep a wait from
//! ending. Every wait on a child has a deadline.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use suite::launch::Command;

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
/// How long a killed process group may take to be reaped and to let go of the host's stdout.
/// SIGKILL ends a process at once, so this is only ever reached when something is wrong (a
/// process that left the group still holds the pipe); 10 s is generous for a loaded machine.
const KILL_WAIT: Duration = Duration::from_secs(10);
/// How long a host may take to exit once its stdin is closed at the end of the run, before its
/// group is killed: a JVM or a browser bridge shuts down in a second or two; nothing is lost by
/// killing one that takes longer, as every answer is in by then.
const EXIT_WAIT: Duration = Duration::from_secs(10);
/// How often a wait for an answer looks whether the child is still alive: a wrapper that died
/// while a grandchild holds its stdout is noticed this soon rather than at the answer's deadline.
const POLL: Duration = Duration::from_millis(20);

/// A host that speaks the conformance protocol.
pub struct ProtocolHost {
    name: String,
    /// The complete command, subcommand included.
    command: Command,
    servers: Vec<Mutex<Option<Server>>>,
    next: AtomicUsize,
    ids: AtomicU64,
    started: Mutex<Vec<u32>>,
    /// [`KILL_WAIT`] and [`EXIT_WAIT`], shorter in this module's tests.
    kill_wait: Duration,
    exit_wait: Duration,
}

/// A running child: the leader of its own process group.
struct Server {
    child: Child,
    /// Request lines to the thread that writes them to the child's stdin (a write to a child
    /// that does not read can block); dropping it closes the child's stdin.
    requests: Option<Sender<String>>,
    /// The writer's failure, if it failed.
    written: Receiver<std::io::Error>,
    /// Lines from the child's stdout, read on a thread of their own so that a wait can end.
    lines: Receiver<std::io::Result<String>>,
}

impl ProtocolHost {
    /// A pool of up to `size` children of `command`, whose arguments already hold the
    /// subcommand, each started at its first request.
    pub fn new(name: &str, command: Command, size: usize) -> ProtocolHost {
        handle_interrupts();
        ProtocolHost {
            name: name.to_owned(),
            command,
            servers: (0..size.max(1)).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            ids: AtomicU64::new(1),
            started: Mutex::new(Vec::new()),
            kill_wait: KILL_WAIT,
            exit_wait: EXIT_WAIT,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id of every child started so far, oldest first; each is also the id of the
    /// child's process group.
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
        match running.ask(line, wait, self.kill_wait) {
            Ok(answer) => Ok(answer),
            Err(error) => {
                // Whatever state it is in (ask has ended it), the next request gets a fresh child.
                *server = None;
                Err(format!(
                    "{} ({}): {error}",
                    self.name,
                    self.command.program.display()
                ))
            }
        }
    }

    fn start(&self) -> Result<Server, String> {
        let mut child = self
            .command
            .std()
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("{}: cannot start {}: {error}", self.name, self.command))?;
        self.started
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(child.id());
        remember_group(child.id());
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let (requests, to_write) = mpsc::channel::<String>();
        let (failed, written) = mpsc::channel();
        std::thread::spawn(move || {
            for line in to_write {
                if let Err(error) = writeln!(stdin, "{line}").and_then(|()| stdin.flush()) {
                    let _ = failed.send(error);
                    return;
                }
            }
        });
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
            requests: Some(requests),
            written,
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
                let ended = match server.take() {
                    Some(mut broken) => broken.kill(self.kill_wait).err(),
                    None => None,
                };
                Err(format!(
                    "{} broke the protocol ({why}); it answered `{}`{}",
                    self.name,
                    shorten(answer.trim_end()),
                    ended.map(|why| format!("; then {why}")).unwrap_or_default()
                ))
            }
        }
    }
}

/// Kills the process group `pgid` (a child's id: each child leads a group of its own).
fn kill_group(pgid: u32) {
    // Never 0 or 1: `kill(0)` is this process's own group and `kill(-1)` every process.
    let Some(pgid) = libc::pid_t::try_from(pgid).ok().filter(|&pgid| pgid > 1) else {
        return;
    };
    // SAFETY: kill has no memory effects; a group that is already gone is ESRCH, ignored.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    forget_group(pgid);
}

/// The process groups of the children alive now (0 is a free slot). A host's group does not
/// get the terminal's Ctrl-C, so when the run is interrupted the handler below kills these
/// groups itself: otherwise a host busy in a call (and anything it started) would outlive it.
/// Plain atomics, since a signal handler may take no lock.
static GROUPS: [AtomicI32; 1024] = [const { AtomicI32::new(0) }; 1024];

/// Keeps `pgid` among the live groups; a run with more live children than slots leaves the
/// rest to their end of input.
fn remember_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    for slot in &GROUPS {
        if slot
            .compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

fn forget_group(pgid: libc::pid_t) {
    for slot in &GROUPS {
        let _ = slot.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Kills every live group: what the interrupt handler does, async-signal-safe (atomics and
/// `kill` only).
fn kill_every_group() {
    for slot in &GROUPS {
        let pgid = slot.load(Ordering::SeqCst);
        if pgid > 1 {
            // SAFETY: as in kill_group.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

/// On SIGINT, SIGTERM or SIGHUP: the hosts' groups first, then the signal's own default (the
/// run ends as it would have).
extern "C" fn on_interrupt(signal: libc::c_int) {
    kill_every_group();
    // SAFETY: signal and raise are async-signal-safe; SIG_DFL restores the default action.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// Installs [`on_interrupt`], once per process, where no other handler was set.
fn handle_interrupts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // SAFETY: the handler only touches atomics and async-signal-safe calls.
            unsafe {
                let previous = libc::signal(signal, handler);
                // A signal the parent set to be ignored (nohup) stays ignored.
                if previous == libc::SIG_IGN {
                    libc::signal(signal, libc::SIG_IGN);
                }
            }
        }
    });
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
    /// Sends `line` and waits up to `wait` for the answer. On any trouble the child is ended
    /// (its group killed, within `kill_wait`) and the error says what happened.
    fn ask(&mut self, line: &str, wait: Duration, kill_wait: Duration) -> Result<String, String> {
        if let Some(requests) = &self.requests {
            // It fails only when the writer has, which `written` says below.
            let _ = requests.send(line.to_owned());
        }
        let deadline = Instant::now() + wait;
        let trouble = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(POLL.min(left)) {
                Ok(Ok(answer)) if !answer.is_empty() => return Ok(answer),
                Ok(Ok(_)) | Err(RecvTimeoutError::Disconnected) => break None,
                Ok(Err(error)) => break Some(format!("cannot read its answer: {error}")),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if let Ok(error) = self.written.try_recv() {
                break Some(format!("cannot send the request: {error}"));
            }
            // A wrapper that died leaves its output open when a process it started holds it.
            if let Ok(Some(_)) = self.child.try_wait() {
                break None;
            }
            if left.is_zero() {
                break Some(format!("no answer within {wait:?}: it counts as hung"));
            }
        };
        let why = match trouble {
            Some(why) => why,
            None => {
                // Its output ended or it exited: let it finish exiting, for its own status.
                let until = Instant::now() + kill_wait;
                while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < until {
                    std::thread::sleep(POLL);
                }
                match self.child.try_wait() {
                    Ok(Some(status)) => format!("it ended without answering ({status})"),
                    _ => format!(
                        "it closed its output without answering and was still running \
                         {kill_wait:?} later"
                    ),
                }
            }
        };
        match self.kill(kill_wait) {
            Ok(_) => Err(why),
            Err(also) => Err(format!("{why}; then {also}")),
        }
    }

    /// Kills the child's process group, reaps the child and waits for the end of its output,
    /// all within `within`. The status is the child's own when it had already ended.
    fn kill(&mut self, within: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + within;
        kill_group(self.child.id());
        self.requests = None;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
                Ok(None) => return Err(format!("it did not exit {within:?} after it was killed")),
                Err(error) => return Err(format!("cannot wait for it: {error}")),
            }
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                // What it wrote before it died is no answer to anything any more.
                Ok(Ok(line)) if !line.is_empty() => {}
                Ok(_) | Err(RecvTimeoutError::Disconnected) => return Ok(status),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "no end of its output {within:?} after it was killed (a process it \
                         started, outside its process group, still holds its stdout?)"
                    ))
                }
            }
        }
    }
}

impl Drop for Server {
    /// Only a safety net (a panic): every path that lets go of a server has already killed it.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            kill_group(self.child.id());
            let _ = self.child.try_wait();
        }
    }
}

impl Drop for ProtocolHost {
    /// Ends every child and everything it started, within [`EXIT_WAIT`] and [`KILL_WAIT`].
    fn drop(&mut self) {
        let mut running: Vec<Server> = self
            .servers
            .iter_mut()
            .filter_map(|server| server.get_mut().unwrap_or_else(|p| p.into_inner()).take())
            .collect();
        // End of input is the host's signal to exit: all of them at once, then one deadline.
        for server in &mut running {
            server.requests = None;
        }
        let until = Instant::now() + self.exit_wait;
        for server in &mut running {
            while matches!(server.child.try_wait(), Ok(None)) && Instant::now() < until {
                std::thread::sleep(POLL);
            }
            let program = self.command.program.display();
            if let Ok(None) = server.child.try_wait() {
                eprintln!(
                    "warning: {} ({program}): still running {:?} after its input ended; killed",
                    self.name, self.exit_wait
                );
            }
            // Whether or not it exited, its group goes: nothing it started outlives the run.
            if let Err(why) = server.kill(self.kill_wait) {
                eprintln!("warning: {} ({program}): {why}", self.name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::protocol::{seed_store, Limits};

    /// Sourced by each test's host script: `answer LINE` answers a request with one empty
    /// output; `serve` answers every request, except that a call of `spin` is never answered
    /// (the shell becomes `sleep`, which holds stdin and stdout).
    const FAKE: &str = r#"
answer() {
  id=${1#*\"id\":}; id=${id%%[!0-9]*}
  printf '{"protocol":3,"id":%s,"results":[{"output":"","failure":null,"trace":[],"logs":[]}]}\n' "$id"
}
serve() {
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    case "$line" in *'"export":"spin"'*) exec sleep 1000 ;; esac
    answer "$line"
  done
}
"#;

    /// How long anything here may take; without the deadlines, each wait is 600 s or forever.
    const LIMIT: Duration = Duration::from_secs(30);

    /// A test's directory, with `fake.sh` and the host's script `host.sh`; the script writes
    /// the process id of what it starts to `$DIR/grandchild`.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(test: &str, script: &str) -> Scratch {
            let dir = std::env::temp_dir()
                .join(format!("conformance-driver-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("a scratch directory");
            std::fs::write(dir.join("fake.sh"), FAKE).expect("fake.sh");
            let script = format!(". \"$DIR/fake.sh\"\n{script}");
            std::fs::write(dir.join("host.sh"), script).expect("host.sh");
            Scratch(dir)
        }

        fn host(&self, size: usize) -> ProtocolHost {
            let command = Command {
                program: "/bin/sh".into(),
                args: vec![self.0.join("host.sh").display().to_string()],
                env: vec![("DIR".to_owned(), self.0.display().to_string())],
            };
            ProtocolHost::new("wrapped-host", command, size)
        }

        /// The grandchild's process id, once the script has written it.
        fn grandchild(&self) -> u32 {
            let started = Instant::now();
            loop {
                let text = std::fs::read_to_string(self.0.join("grandchild")).unwrap_or_default();
                if let Some(pid) = text.strip_suffix('\n').and_then(|pid| pid.parse().ok()) {
                    return pid;
                }
                assert!(started.elapsed() < LIMIT, "no grandchild was started");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            // A failed test may leave its grandchild running.
            if std::thread::panicking() {
                let text = std::fs::read_to_string(self.0.join("grandchild")).unwrap_or_default();
                if let Ok(pid) = text.trim().parse() {
                    if alive(pid) {
                        // SAFETY: kill has no memory effects.
                        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                    }
                }
            }
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Whether `pid` is a process that has not ended (a zombie has).
    fn alive(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !matches!(
                stat.rsplit_once(") ")
                    .map(|(_, rest)| rest.as_bytes().first().copied()),
                Some(Some(b'Z' | b'X'))
            ),
            Err(_) => false,
        }
    }

    /// Whether `pid` ends within a moment (a killed process takes a moment to become a zombie).
    fn dies(pid: u32) -> bool {
        let started = Instant::now();
        while alive(pid) {
            if started.elapsed() > Duration::from_secs(5) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// `work`'s result, or a failure if it takes longer than [`LIMIT`].
    fn within<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
        let (send, done) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = send.send(work());
        });
        done.recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("{what} did not return within {LIMIT:?}"))
    }

    fn request(export: &str) -> Request {
        Request::one(export, b"", seed_store(), Limits::default())
    }

    fn line(export: &str) -> String {
        let request = WireRequest::new(1, "/nowhere.wasm".into(), &request(export));
        serde_json::to_string(&request).expect("JSON")
    }

    fn answers(host: &ProtocolHost) {
        let outcomes = host.run(Path::new("/nowhere.wasm"), &request("lookup"));
        assert_eq!(outcomes.map(|o| o.len()), Ok(1));
    }

    /// The issue's host: a wrapper that answers two requests and then ends, while a process it
    /// started still holds stdin and stdout. The third request fails at once, naming the host;
    /// the fourth gets a fresh child; nothing the wrappers started outlives the pool.
    #[test]
    fn a_wrapper_that_ends_while_its_grandchild_holds_the_output() {
        let scratch = Scratch::new(
            "ends",
            r#"exec 3<&0
sleep 1000 <&3 &
echo $! > "$DIR/grandchild"
exec 3<&-
n=0
while [ $n -lt 2 ] && IFS= read -r line; do answer "$line"; n=$((n + 1)); done
"#,
        );
        let host = Arc::new(scratch.host(1));
        answers(&host);
        answers(&host);
        let first = scratch.grandchild();
        let asked = Arc::clone(&host);
        let third = within("the third request", move || {
            asked.run(Path::new("/nowhere.wasm"), &request("lookup"))
        });
        let why = third.expect_err("the wrapper has ended");
        assert!(
            why.starts_with("wrapped-host") && why.contains("ended without answering"),
            "{why}"
        );
        assert!(dies(first), "the first grandchild outlived its wrapper");
        std::fs::remove_file(scratch.0.join("grandchild")).expect("its pid file");
        answers(&host);
        assert_eq!(host.started().len(), 2);
        let second = scratch.grandchild();
        assert!(alive(second));
        within("dropping the host", move || drop(host));
        assert!(dies(second), "the second grandchild outlived the pool");
    }

    /// What `protocol::killed_child` does, on a host behind a wrapper that waits for it: the
    /// wrapper is killed while the host spins, and the call fails at once.
    #[test]
    fn a_killed_wrapper_ends_its_spinning_grandchild() {
        let scratch = Scratch::new(
            "killed",
            r#"exec 3<&0
sh -c '. "$DIR/fake.sh"; serve' <&3 &
echo $! > "$DIR/grandchild"
wait
"#,
        );
        let host = Arc::new(scratch.host(1));
        let asked = Arc::clone(&host);
        let call =
            std::thread::spawn(move || asked.run(Path::new("/nowhere.wasm"), &request("spin")));
        let grandchild = scratch.grandchild();
        let wrapper = host.started()[0];
        // Let the request reach the grandchild and the spin begin.
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: kill has no memory effects.
        unsafe { libc::kill(wrapper as libc::pid_t, libc::SIGKILL) };
        let result = within("the spinning call", move || call.join().expect("no panic"));
        let why = result.expect_err("the wrapper was killed");
        assert!(why.starts_with("wrapped-host"), "{why}");
        assert!(
            dies(grandchild),
            "the spinning grandchild outlived its wrapper"
        );
        answers(&host);
        assert_eq!(host.started().len(), 2);
    }

    /// Every child started is among the live groups until it is killed, so an interrupt can
    /// kill it; a killed one leaves its slot.
    #[test]
    fn a_live_host_is_remembered_for_an_interrupt_until_it_is_killed() {
        let scratch = Scratch::new("remembered", "serve\n");
        let host = scratch.host(1);
        answers(&host);
        let pgid = *host.started().first().expect("a child") as i32;
        let live = || {
            GROUPS
                .iter()
                .any(|slot| slot.load(Ordering::SeqCst) == pgid)
        };
        assert!(live(), "the running host's group {pgid} is not remembered");
        drop(host);
        assert!(!live(), "the ended host's group {pgid} is still remembered");
    }

    /// A host that hangs, closing nothing, is killed with everything it started.
    #[test]
    fn a_hung_host_is_killed_with_its_group() {
        let scratch = Scratch::new(
            "hung",
            "sleep 1000 &\necho $! > \"$DIR/grandchild\"\nserve\n",
        );
        let host = Arc::new(scratch.host(1));
        let asked = Arc::clone(&host);
        let started = Instant::now();
        let result = within("the hung call", move || {
            asked.ask_line(&line("spin"), Duration::from_millis(500))
        });
        let why = result.expect_err("it hangs");
        assert!(
            why.starts_with("wrapped-host") && why.contains("counts as hung"),
            "{why}"
        );
        assert!(!why.contains("no end of"), "{why}");
        assert!(started.elapsed() < Duration::from_secs(10), "{why}");
        assert!(dies(scratch.grandchild()), "its grandchild outlived it");
        answers(&host);
    }

    /// A process that left the host's group and holds its stdout is named, after the deadline.
    #[test]
    fn a_grandchild_outside_the_group_is_reported() {
        let scratch = Scratch::new(
            "escaped",
            "setsid sh -c 'echo $$ > \"$DIR/grandchild\"; exec sleep 1000' &\nserve\n",
        );
        let mut host = scratch.host(1);
        host.kill_wait = Duration::from_secs(1);
        let host = Arc::new(host);
        let asked = Arc::clone(&host);
        let result = within("the hung call", move || {
            asked.ask_line(&line("spin"), Duration::from_millis(500))
        });
        let grandchild = scratch.grandchild();
        assert!(alive(grandchild), "setsid put it out of reach");
        // SAFETY: kill has no memory effects.
        unsafe { libc::kill(grandchild as libc::pid_t, libc::SIGKILL) };
        let why = result.expect_err("it hangs");
        assert!(
            why.contains("counts as hung") && why.contains("no end of its output 1s after"),
            "{why}"
        );
    }

    /// A host that does not exit at the end of its input is killed, group and all, when the
    /// pool is dropped.
    #[test]
    fn a_host_that_ignores_the_end_of_its_input_is_killed() {
        let scratch = Scratch::new(
            "ignores",
            "sleep 1000 &\necho $! > \"$DIR/grandchild\"\nserve\nexec sleep 1000\n",
        );
        let mut host = scratch.host(1);
        host.exit_wait = Duration::from_secs(1);
        answers(&host);
        let (child, grandchild) = (host.started()[0], scratch.grandchild());
        within("dropping the host", move || drop(host));
        assert!(dies(child), "the host outlived its pool");
        assert!(dies(grandchild), "its grandchild outlived the pool");
    }
}
