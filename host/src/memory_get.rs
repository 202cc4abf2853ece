use std::cell::RefCell;
use std::sync::Arc;

use extism::{CurrentPlugin, Function, UserData, Val, PTR};

use crate::trace::HostCall;
use crate::Store;

/// Name of the host function, imported by plugins from the `env` namespace.
pub const HOST_MEMORY_GET: &str = "hostMemoryGet";
pub(crate) const NAMESPACE: &str = "env";

/// What one call's host functions see: its store, and where they record what they did.
pub(crate) struct CallContext {
    pub(crate) store: Arc<Store>,
    /// `Some` when the caller asked for a trace of host calls.
    pub(crate) trace: Option<Vec<HostCall>>,
    /// The message of a host function that failed, so the call's error can say it was the host.
    pub(crate) host_error: Option<String>,
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

    fn with_current<R>(f: impl FnOnce(&mut CallContext) -> R) -> Result<R, extism::Error> {
        CURRENT.with(|current| match current.borrow_mut().as_mut() {
            Some(context) => Ok(f(context)),
            None => Err(extism::Error::msg(format!(
                "{HOST_MEMORY_GET} was called outside a call made through host::Plugin"
            ))),
        })
    }
}

/// `env.hostMemoryGet(key: i64) -> i64`. See the crate docs for who owns which block.
pub(crate) fn function() -> Function {
    Function::new(
        HOST_MEMORY_GET,
        [PTR],
        [PTR],
        UserData::new(()),
        |plugin: &mut CurrentPlugin, inputs: &[Val], outputs: &mut [Val], _: UserData<()>| {
            let key = match read_key(plugin, &inputs[0]) {
                Ok(key) => key,
                Err(message) => {
                    CallContext::with_current(|context| {
                        context.host_error = Some(message.clone());
                    })?;
                    return Err(extism::Error::msg(message));
                }
            };
            let store = CallContext::with_current(|context| Arc::clone(&context.store))?;
            let value = store.get(&key);
            let value_len = value.len();
            let block = plugin.memory_new(value)?;
            outputs[0] = plugin.memory_to_val(block);
            CallContext::with_current(|context| {
                if let Some(trace) = &mut context.trace {
                    trace.push(HostCall {
                        function: HOST_MEMORY_GET,
                        key,
                        value_len,
                    });
                }
            })?;
            Ok(())
        },
    )
    .with_namespace(NAMESPACE)
}

fn read_key(plugin: &mut CurrentPlugin, offset: &Val) -> Result<Vec<u8>, String> {
    let offset = offset
        .i64()
        .ok_or_else(|| format!("{HOST_MEMORY_GET}: key offset is not an i64"))?;
    // Offset 0 is how every PDK passes an empty key (the kernel never allocates 0 bytes).
    if offset == 0 {
        return Ok(Vec::new());
    }
    let handle = plugin.memory_handle(offset as u64).ok_or_else(|| {
        format!("{HOST_MEMORY_GET}: key offset {offset} is not an allocated Extism memory block")
    })?;
    plugin
        .memory_bytes(handle)
        .map(<[u8]>::to_vec)
        .map_err(|error| format!("{HOST_MEMORY_GET}: cannot read the key block: {error}"))
}
