//! A plugin's log lines, as the host receives them. The Extism runtime hands a plugin's
//! `log_*` kernel calls to `tracing`, as events of target `extism::pdk` at the line's level; a
//! call here runs under a `tracing` subscriber of its own, scoped to the calling thread, that
//! keeps those events and nothing else. Scoped rather than global: a process may run plugins
//! on many threads, each with its own level, and an application keeps its own subscriber.

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// The level of a plugin's log line, from the least to the most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    fn of(level: &tracing::Level) -> LogLevel {
        match *level {
            tracing::Level::TRACE => LogLevel::Trace,
            tracing::Level::DEBUG => LogLevel::Debug,
            tracing::Level::INFO => LogLevel::Info,
            tracing::Level::WARN => LogLevel::Warn,
            _ => LogLevel::Error,
        }
    }

    fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Trace => LevelFilter::TRACE,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Error => LevelFilter::ERROR,
        }
    }
}

/// One log line a plugin wrote that reached the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: LogLevel,
    pub text: Vec<u8>,
}

/// Held by the call that collects logs, see [`collect`].
static TURN: Mutex<()> = Mutex::new(());

/// The runtime's target for a plugin's log lines (its `pdk` module).
const PLUGIN_LOG_TARGET: &str = "extism::pdk";

/// Runs `f` with every plugin log line at `level` or above that it causes on this thread kept,
/// and returns them in order with `f`'s result. `None` keeps none (logging is off).
pub(crate) fn collect<T>(level: Option<LogLevel>, f: impl FnOnce() -> T) -> (T, Vec<LogLine>) {
    let Some(level) = level else {
        return (f(), Vec::new());
    };
    // The runtime's level is `tracing`'s maximum over every live subscriber, global to the
    // process, and a plugin reads it (`get_log_level`) to decide what to send: while two calls
    // collected at different levels, the quieter one would see the louder one's level. So calls
    // that collect take turns.
    let _turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let collector = Collector {
        level,
        lines: Arc::clone(&lines),
    };
    let result = tracing::subscriber::with_default(collector, f);
    let lines = std::mem::take(&mut *lines.lock().unwrap_or_else(|p| p.into_inner()));
    (result, lines)
}

struct Collector {
    level: LogLevel,
    lines: Arc<Mutex<Vec<LogLine>>>,
}

impl Collector {
    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event()
            && metadata.target() == PLUGIN_LOG_TARGET
            && LogLevel::of(metadata.level()) >= self.level
    }
}

impl Subscriber for Collector {
    // Asked per event: an interest cached for a callsite would hold on every thread, and
    // other threads collect at other levels.
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    // The runtime compares a line's level with the current maximum before it reads the line,
    // and tells the plugin that maximum (`get_log_level`).
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.level.filter())
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.wants(metadata)
    }

    fn event(&self, event: &Event<'_>) {
        if !self.wants(event.metadata()) {
            return;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(LogLine {
                level: LogLevel::of(event.metadata().level()),
                text: message.0.into_bytes(),
            });
    }

    // No spans are kept: only events are lines.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The event's `message` field: the line, which the runtime formats as `"{}"`.
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_owned();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}
