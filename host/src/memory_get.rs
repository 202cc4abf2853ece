use std::sync::Arc;

use extism::{CurrentPlugin, Function, UserData, Val, PTR};

use crate::Store;

/// Name of the host function, imported by plugins from the `env` namespace.
pub const HOST_MEMORY_GET: &str = "hostMemoryGet";
pub(crate) const NAMESPACE: &str = "env";

/// What one call sees: passed to Extism as the call's host context, so one compiled plugin can
/// serve calls against different stores.
pub(crate) struct CallContext {
    pub(crate) store: Arc<Store>,
}

/// `env.hostMemoryGet(key: i64) -> i64`. See the crate docs for who owns which block.
pub(crate) fn function() -> Function {
    Function::new(
        HOST_MEMORY_GET,
        [PTR],
        [PTR],
        UserData::new(()),
        |plugin: &mut CurrentPlugin, inputs: &[Val], outputs: &mut [Val], _: UserData<()>| {
            let key = read_key(plugin, &inputs[0])?;
            let store = Arc::clone(&plugin.host_context::<CallContext>()?.store);
            let value = plugin.memory_new(store.get(&key))?;
            outputs[0] = plugin.memory_to_val(value);
            Ok(())
        },
    )
    .with_namespace(NAMESPACE)
}

fn read_key(plugin: &mut CurrentPlugin, offset: &Val) -> Result<Vec<u8>, extism::Error> {
    let offset = offset.i64().ok_or_else(|| {
        extism::Error::msg(format!("{HOST_MEMORY_GET}: key offset is not an i64"))
    })?;
    // Offset 0 is how every PDK passes an empty key (the kernel never allocates 0 bytes).
    if offset == 0 {
        return Ok(Vec::new());
    }
    let handle = plugin.memory_handle(offset as u64).ok_or_else(|| {
        extism::Error::msg(format!(
            "{HOST_MEMORY_GET}: key offset {offset} is not an allocated Extism memory block"
        ))
    })?;
    Ok(plugin.memory_bytes(handle)?.to_vec())
}
