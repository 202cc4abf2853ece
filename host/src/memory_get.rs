//! The `env.hostMemoryGet` host function: its memory-ownership rules, and the per-call context
//! (store and trace) it reaches through a thread-local set for the length of one call.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use extism::{CurrentPlugin, Function, UserData, Val, PTR};

use crate::shadowed_memory;
use crate::trace::HostCall;
use crate::{Failure, Limits, Store};

/// Name of the host function, imported by plugins from the `env` namespace.
pub const HOST_MEMORY_GET: &str = "hostMemoryGet";
pub(crate) const NAMESPACE: &str = "env";

/// What one call's host functions see: its store and limits, and where they record what they did.
pub(crate) struct CallContext {
    pub(crate) store: Arc<Store>,
    pub(crate) limits: Limits,
    /// `Some` when the caller asked for a trace of host calls.
    pub(crate) trace: Option<Vec<HostCall>>,
    /// Why a host function failed the call, so the call's error can say it was the host.
    pub(crate) host_failure: Option<Failure>,
}

thread_local! {
    /// The context of the call running on this thread. Host functions run on the thread that
    /// called into wasm, so one compiled module can serve calls against different stores,
    /// on any number of threads, without sharing user data.
    static CURRENT: RefCell<Option<CallContext>> = const { RefCell::new(None) };
}

impl CallContext {
    /// Runs `call` with `self` as this thread's current context and returns both. (A panic
    /// inside leaves the context set; the next call replaces it.)
    pub(crate) fn enter<R>(self, call: impl FnOnce() -> R) -> (R, CallContext) {
        let previous = CURRENT.with(|current| current.replace(Some(self)));
        let result = call();
        let context = CURRENT
            .with(|current| current.replace(previous))
            .expect("nothing takes the context during a call");
        (result, context)
    }

    fn with_current<R>(f: impl FnOnce(&mut CallContext) -> R) -> Result<R, Failure> {
        CURRENT.with(|current| match current.borrow_mut().as_mut() {
            Some(context) => Ok(f(context)),
            None => Err(refused(format!(
                "{HOST_MEMORY_GET} was called outside a call made through host::Plugin"
            ))),
        })
    }
}

fn refused(message: String) -> Failure {
    Failure::HostFunction { message }
}

/// `env.hostMemoryGet(key: i64) -> i64`. See the crate docs for who owns which block.
pub(crate) fn function() -> Function {
    Function::new(
        HOST_MEMORY_GET,
        [PTR],
        [PTR],
        UserData::new(()),
        |plugin: &mut CurrentPlugin, inputs: &[Val], outputs: &mut [Val], _: UserData<()>| {
            guarded(HOST_MEMORY_GET, || memory_get(plugin, inputs, outputs))
        },
    )
    .with_namespace(NAMESPACE)
}

/// Runs a host function's body so that neither its failure nor its panic escapes as anything
/// but a failed call: the failure is recorded for the call's error, and a panic (which would
/// otherwise unwind through wasm frames into the embedder) becomes a host-function failure.
pub(crate) fn guarded(
    name: &str,
    body: impl FnOnce() -> Result<(), Failure>,
) -> Result<(), extism::Error> {
    let failure = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(failure)) => failure,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            refused(format!("{name} panicked: {why}"))
        }
    };
    let message = failure.to_string();
    // Outside a call there is nowhere to record it; the error message still says what happened.
    let _ = CallContext::with_current(|context| context.host_failure = Some(failure));
    Err(extism::Error::msg(message))
}

fn memory_get(
    plugin: &mut CurrentPlugin,
    inputs: &[Val],
    outputs: &mut [Val],
) -> Result<(), Failure> {
    let (store, limits) =
        CallContext::with_current(|context| (Arc::clone(&context.store), context.limits.clone()))?;
    let key = read_key(plugin, &inputs[0], limits.max_key_len)?;
    let value = store.get(&key);
    let value_len = value.len();
    if value_len as u64 > limits.max_value_len {
        return Err(Failure::ValueTooLong {
            len: value_len as u64,
            max: limits.max_value_len,
        });
    }
    let block = plugin.memory_new(value).map_err(|error| {
        // The kernel's allocator reports "oom" when the memory cap stops it growing: the
        // limit struck, as when the plugin's own allocation hits it.
        if limits.memory_max_pages.is_some() && error.root_cause().to_string() == "oom" {
            return Failure::OutOfMemory;
        }
        refused(format!(
            "{HOST_MEMORY_GET}: cannot allocate {value_len} bytes for the value: {error:#}"
        ))
    })?;
    outputs[0] = plugin.memory_to_val(block);
    CallContext::with_current(|context| {
        if let Some(trace) = &mut context.trace {
            trace.push(HostCall {
                function: HOST_MEMORY_GET,
                key,
                value_len,
            });
        }
    })
}

/// Copies the key block at the offset the plugin passed. Every offset a plugin can forge is
/// refused before any byte is read: 0 is the empty key, and anything else must be the start of
/// a live kernel block (the kernel checks its bounds and walks its block list) no longer than
/// `max_len`.
fn read_key(plugin: &mut CurrentPlugin, offset: &Val, max_len: u64) -> Result<Vec<u8>, Failure> {
    let offset = offset
        .i64()
        .ok_or_else(|| refused(format!("{HOST_MEMORY_GET}: key offset is not an i64")))?;
    // Offset 0 is how every PDK passes an empty key (the kernel never allocates 0 bytes).
    if offset == 0 {
        return Ok(Vec::new());
    }
    let handle = plugin.memory_handle(offset as u64).ok_or_else(|| {
        refused(format!(
            "{HOST_MEMORY_GET}: key offset {offset} is not an allocated Extism memory block"
        ))
    })?;
    if handle.len() as u64 > max_len {
        return Err(Failure::KeyTooLong {
            len: handle.len() as u64,
            max: max_len,
        });
    }
    let block = plugin.memory_bytes(handle).map_err(|error| {
        refused(format!(
            "{HOST_MEMORY_GET}: cannot read the key block: {error}"
        ))
    })?;
    // The kernel's length comes from a block header the plugin can write: the block must lie
    // inside the memory before a byte of it is used. (Reading past the end lands in the shadow
    // of a shadowed memory, never in unmapped pages.)
    let end = handle.offset() + handle.len() as u64;
    let base = block.as_ptr().wrapping_sub(handle.offset() as usize);
    match shadowed_memory::size_at(base) {
        Some(size) if end > size as u64 => Err(refused(format!(
            "{HOST_MEMORY_GET}: key block at offset {offset} claims {} bytes, past the end of \
             Extism memory ({size} bytes)",
            handle.len()
        ))),
        _ => Ok(block.to_vec()),
    }
}
