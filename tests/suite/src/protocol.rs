//! The conformance protocol (docs/protocol.md) in types, and the host-neutral outcome of a call
//! that every host, in process or not, is turned into. The renderer and the checks only ever see
//! these types, never one host's own errors.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The version of docs/protocol.md these types implement.
pub const VERSION: u32 = 3;

/// The largest module file a host reads (docs/protocol.md, "Module files"): a path a user hands
/// over may name a device that never ends or a file of any size.
pub const MODULE_MAX_BYTES: u64 = 128 << 20;

/// Why the module file at `path` must not be read, checked before it is opened (a FIFO would
/// block the open, `/dev/zero` never ends): `None` when it is a regular file within
/// [`MODULE_MAX_BYTES`]. The text names no path; callers put it after one.
pub fn unusable_module_file(path: &std::path::Path) -> Option<String> {
    match std::fs::metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Some("no such file".into()),
        Err(error) => Some(error.to_string()),
        Ok(meta) if !meta.is_file() => Some(if meta.is_dir() {
            "a directory, not a regular file".into()
        } else {
            "not a regular file".into()
        }),
        Ok(meta) if meta.len() > MODULE_MAX_BYTES => Some(format!(
            "{} bytes, over the 128 MiB cap for a module",
            meta.len()
        )),
        Ok(_) => None,
    }
}

/// Reads the module file at `path` as docs/protocol.md asks of a host: checked first
/// ([`unusable_module_file`]), then opened without blocking, checked again once open and read
/// no further than [`MODULE_MAX_BYTES`], so a path swapped for a FIFO or a device after the
/// first check cannot hold the reader up. The error names no path; callers put it after one.
pub fn read_module_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    if let Some(why) = unusable_module_file(path) {
        return Err(why);
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|error| error.to_string())?;
    let meta = file.metadata().map_err(|error| error.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".to_owned());
    }
    let mut wasm = Vec::new();
    file.take(MODULE_MAX_BYTES + 1)
        .read_to_end(&mut wasm)
        .map_err(|error| error.to_string())?;
    if wasm.len() as u64 > MODULE_MAX_BYTES {
        return Err("over the 128 MiB cap for a module".to_owned());
    }
    Ok(wasm)
}

/// The contract's one host function.
pub const HOST_MEMORY_GET: &str = "hostMemoryGet";

/// Byte strings travel as standard base64 (docs/protocol.md, "Encoding").
pub mod bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn encode(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
        base64::engine::general_purpose::STANDARD.decode(text)
    }

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        decode(&text).map_err(|error| serde::de::Error::custom(format!("bad base64: {error}")))
    }

    /// For `Option<Vec<u8>>` fields that are `null` or base64.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            bytes: &Option<Vec<u8>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(bytes) => super::serialize(bytes, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Vec<u8>>, D::Error> {
            match Option::<String>::deserialize(deserializer)? {
                Some(text) => super::decode(&text)
                    .map(Some)
                    .map_err(|error| serde::de::Error::custom(format!("bad base64: {error}"))),
                None => Ok(None),
            }
        }
    }
}

/// The store `hostMemoryGet` looks keys up in; a missing key is the empty value.
pub type Store = BTreeMap<Vec<u8>, Vec<u8>>;

/// The seed's store (CONTRACT.md, "The seed's store").
pub fn seed_store() -> Store {
    Store::from([
        (b"hello".to_vec(), "👋 Hello World 🌍".as_bytes().to_vec()),
        (b"message".to_vec(), "I 💜 Extism 😍".as_bytes().to_vec()),
    ])
}

/// Limits of a call; `None` is no limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub timeout_ms: Option<u64>,
    pub memory_max_pages: Option<u32>,
    pub max_key_len: Option<u64>,
    pub max_value_len: Option<u64>,
}

impl Default for Limits {
    /// The contract's defaults, which a case's `[limits]` overrides: the Rust host's own
    /// defaults (4096 pages, 1 MiB keys, 64 MiB values) but no timeout. A timeout is set only by
    /// the cases that test one, because some SDKs have none and refuse a request that sets it
    /// (`unsupported_limit`): with a default timeout no case could run on them.
    fn default() -> Limits {
        Limits {
            timeout_ms: None,
            memory_max_pages: Some(4096),
            max_key_len: Some(1 << 20),
            max_value_len: Some(64 << 20),
        }
    }
}

/// WASI for a plugin: `auto` is on exactly when the module imports `wasi_snapshot_preview1`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Wasi {
    #[default]
    Auto,
    On,
    Off,
}

/// The host's log level: a plugin's log line reaches the host exactly when its level is at
/// least this one. Declared from the least to the most severe, so `Ord` is the contract's order.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    /// No line reaches the host.
    #[default]
    Off,
}

impl LogLevel {
    pub const ALL: [LogLevel; 6] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
        LogLevel::Off,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Off => "off",
        }
    }

    pub fn from_name(name: &str) -> Option<LogLevel> {
        LogLevel::ALL.into_iter().find(|level| level.name() == name)
    }
}

/// One log line of a plugin, as the host received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogLine {
    pub level: LogLevel,
    #[serde(with = "bytes")]
    pub text: Vec<u8>,
}

/// One export call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    pub export: String,
    #[serde(with = "bytes")]
    pub input: Vec<u8>,
}

/// A module linked beside the main one: the others import its exports by `name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub name: String,
    pub wasm: PathBuf,
}

impl Link {
    /// Why `links` cannot be a request's (docs/protocol.md, "Linked modules"), if they cannot.
    pub fn check_names(links: &[Link]) -> Result<(), String> {
        for (index, link) in links.iter().enumerate() {
            if link.name.is_empty() {
                return Err(format!("links[{index}]: the name is empty"));
            }
            if link.name == "main" {
                return Err(format!(
                    "links[{index}]: `main` is the main module's name, not a link's"
                ));
            }
            if links[..index].iter().any(|other| other.name == link.name) {
                return Err(format!(
                    "links[{index}]: the name `{}` is given twice",
                    link.name
                ));
            }
        }
        Ok(())
    }
}

/// Everything that decides a call's outcome but the plugin: the plugin's setup (linked modules,
/// WASI, config, limits, store) and the calls made, in order, on one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Modules linked beside the plugin's main one, in the manifest's order.
    pub links: Vec<Link>,
    pub wasi: Wasi,
    pub config: BTreeMap<String, String>,
    pub log_level: LogLevel,
    pub store: Store,
    pub limits: Limits,
    pub calls: Vec<Call>,
}

impl Request {
    /// One call with the default setup.
    pub fn one(export: &str, input: &[u8], store: Store, limits: Limits) -> Request {
        Request {
            links: Vec::new(),
            wasi: Wasi::Auto,
            config: BTreeMap::new(),
            log_level: LogLevel::Off,
            store,
            limits,
            calls: vec![Call {
                export: export.to_owned(),
                input: input.to_vec(),
            }],
        }
    }
}

/// A request line, as docs/protocol.md spells it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRequest {
    pub protocol: u32,
    pub id: u64,
    pub wasm: PathBuf,
    pub links: Vec<Link>,
    pub wasi: Wasi,
    pub config: BTreeMap<String, String>,
    pub log_level: LogLevel,
    pub store: Vec<WireEntry>,
    pub limits: Limits,
    pub calls: Vec<Call>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireEntry {
    #[serde(with = "bytes")]
    pub key: Vec<u8>,
    #[serde(with = "bytes")]
    pub value: Vec<u8>,
}

impl WireRequest {
    pub fn new(id: u64, wasm: PathBuf, request: &Request) -> WireRequest {
        WireRequest {
            protocol: VERSION,
            id,
            wasm,
            links: request.links.clone(),
            wasi: request.wasi,
            config: request.config.clone(),
            log_level: request.log_level,
            store: request
                .store
                .iter()
                .map(|(key, value)| WireEntry {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
            limits: request.limits.clone(),
            calls: request.calls.clone(),
        }
    }
}

/// An answer line: results, or an error for a request the host could not act on.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireAnswer {
    pub protocol: u32,
    pub id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<WireResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<WireError>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireResult {
    #[serde(with = "bytes::option")]
    pub output: Option<Vec<u8>>,
    pub failure: Option<Failure>,
    pub trace: Vec<HostCall>,
    /// `None` when the host cannot see a plugin's logs.
    pub logs: Option<Vec<LogLine>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    UnsupportedProtocol,
    MalformedRequest,
    UnsupportedLimit,
}

/// Why a call gave no output: the protocol's failure kinds (docs/protocol.md, "Failures").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Failure {
    Plugin { message: String },
    ReturnCode { code: i32 },
    Trap { message: String },
    Exit { code: i32 },
    HostFunction { message: String },
    // Kinds without fields are written `{}` so that serde refuses a field they do not take
    // (it ignores unknown fields of a unit variant).
    Timeout {},
    OutOfMemory {},
    OutOfFuel {},
    KeyTooLong { len: u64, max: u64 },
    ValueTooLong { len: u64, max: u64 },
    MissingExport {},
    Load { message: String },
}

/// One host-function call a plugin made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostCall {
    pub function: String,
    #[serde(with = "bytes")]
    pub key: Vec<u8>,
    pub value_len: u64,
}

/// What one call came to, on any host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result: Result<Vec<u8>, Failure>,
    pub trace: Vec<HostCall>,
    /// The log lines that reached the host; `None` when the host cannot see them.
    pub logs: Option<Vec<LogLine>>,
}

impl WireResult {
    /// The outcome, or why this result breaks the protocol.
    pub fn into_outcome(self) -> Result<Outcome, String> {
        let result = match (self.output, self.failure) {
            (Some(output), None) => Ok(output),
            (None, Some(failure)) => Err(failure),
            (Some(_), Some(_)) => return Err("a result with both an output and a failure".into()),
            (None, None) => return Err("a result with neither an output nor a failure".into()),
        };
        Ok(Outcome {
            result,
            trace: self.trace,
            logs: self.logs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers_are_spelled_as_docs_protocol_md_says() {
        let mut request = Request::one("say_hello", b"hi", seed_store(), Limits::default());
        request.limits.timeout_ms = None;
        let line = serde_json::to_string(&WireRequest::new(7, "/p.wasm".into(), &request)).unwrap();
        assert!(line.starts_with(r#"{"protocol":3,"id":7,"wasm":"/p.wasm","links":[],"wasi":"auto","config":{},"log_level":"off","store":[{"key":"aGVsbG8=","#), "{line}");
        assert!(line.contains(r#""limits":{"timeout_ms":null,"memory_max_pages":4096,"max_key_len":1048576,"max_value_len":67108864},"calls":[{"export":"say_hello","input":"aGk="}]}"#), "{line}");

        let answer: WireAnswer = serde_json::from_str(
            r#"{"protocol":3,"id":7,"results":[
                {"output":"AP8=","failure":null,"trace":[{"function":"hostMemoryGet","key":"aGVsbG8=","value_len":2}],"logs":[{"level":"warn","text":"aGk="}]},
                {"output":null,"failure":{"kind":"key_too_long","len":5,"max":4},"trace":[],"logs":[]},
                {"output":null,"failure":{"kind":"timeout"},"trace":[],"logs":null}]}"#,
        )
        .unwrap();
        let outcomes: Vec<Outcome> = answer
            .results
            .unwrap()
            .into_iter()
            .map(|r| r.into_outcome().unwrap())
            .collect();
        assert_eq!(outcomes[0].result, Ok(vec![0, 0xff]));
        assert_eq!(outcomes[0].trace[0].key, b"hello");
        assert_eq!(
            outcomes[1].result,
            Err(Failure::KeyTooLong { len: 5, max: 4 })
        );
        assert_eq!(outcomes[2].result, Err(Failure::Timeout {}));
        assert_eq!(
            outcomes[0].logs,
            Some(vec![LogLine {
                level: LogLevel::Warn,
                text: b"hi".to_vec()
            }])
        );
        assert_eq!(outcomes[2].logs, None);
    }

    #[test]
    fn link_names_are_refused_when_empty_main_or_repeated() {
        let link = |name: &str| Link {
            name: name.to_owned(),
            wasm: "/lib.wasm".into(),
        };
        assert_eq!(Link::check_names(&[link("a"), link("b")]), Ok(()));
        assert!(Link::check_names(&[link("")])
            .unwrap_err()
            .contains("empty"));
        assert!(Link::check_names(&[link("main")])
            .unwrap_err()
            .contains("`main`"));
        let repeated = Link::check_names(&[link("a"), link("b"), link("a")]).unwrap_err();
        assert!(repeated.starts_with("links[2]"), "{repeated}");
    }

    #[test]
    fn module_files_are_checked_before_they_are_opened() {
        let dir = std::env::temp_dir().join(format!("suite-modules-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.wasm");
        std::fs::write(&good, b"\0asm\x01\0\0\0").unwrap();
        let big = dir.join("big.wasm");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MODULE_MAX_BYTES + 1)
            .unwrap();
        let at_cap = dir.join("at-cap.wasm");
        std::fs::File::create(&at_cap)
            .unwrap()
            .set_len(MODULE_MAX_BYTES)
            .unwrap();
        assert_eq!(unusable_module_file(&good), None);
        assert_eq!(unusable_module_file(&at_cap), None);
        let over = unusable_module_file(&big).unwrap();
        assert!(
            over.starts_with("134217729 bytes, over the 128 MiB cap"),
            "{over}"
        );
        let zero = unusable_module_file(std::path::Path::new("/dev/zero"));
        assert_eq!(zero.as_deref(), Some("not a regular file"));
        assert!(unusable_module_file(&dir).unwrap().contains("directory"));
        let missing = unusable_module_file(&dir.join("missing.wasm"));
        assert_eq!(missing.as_deref(), Some("no such file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn log_levels_are_ordered_from_trace_to_off() {
        assert!(LogLevel::Trace < LogLevel::Error && LogLevel::Error < LogLevel::Off);
        for level in LogLevel::ALL {
            assert_eq!(LogLevel::from_name(level.name()), Some(level));
        }
        assert_eq!(LogLevel::from_name("warning"), None);
    }

    #[test]
    fn answers_that_break_the_protocol_are_refused() {
        let refused = |line: &str| serde_json::from_str::<WireAnswer>(line).is_err();
        // A field a kind does not take, a kind that does not exist, bad base64, a typo.
        assert!(refused(
            r#"{"protocol":3,"id":1,"results":[{"output":null,"failure":{"kind":"timeout","message":"x"},"trace":[],"logs":[]}]}"#
        ));
        assert!(refused(
            r#"{"protocol":3,"id":1,"results":[{"output":null,"failure":{"kind":"crash"},"trace":[],"logs":[]}]}"#
        ));
        assert!(refused(
            r#"{"protocol":3,"id":1,"results":[{"output":"@@","failure":null,"trace":[],"logs":[]}]}"#
        ));
        assert!(refused(r#"{"protocol":3,"id":1,"reslts":[]}"#));
        let both: WireAnswer = serde_json::from_str(
            r#"{"protocol":3,"id":1,"results":[{"output":"","failure":{"kind":"timeout"},"trace":[],"logs":[]}]}"#,
        )
        .unwrap();
        let result = both.results.unwrap().pop().unwrap();
        assert!(result.into_outcome().is_err());
    }
}
