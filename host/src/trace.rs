//! One recorded host call, as traced calls return them.

/// One host function call made by a plugin, as recorded by [`crate::Plugin::call_traced`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCall {
    /// The host function's name, such as `hostMemoryGet`.
    pub function: &'static str,
    /// The key bytes the plugin passed.
    pub key: Vec<u8>,
    /// How many bytes the host returned.
    pub value_len: usize,
}
