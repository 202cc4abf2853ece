use std::time::Duration;

/// Limits a plugin runs under. None are set by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// How long one export call may run before it is interrupted.
    pub timeout: Option<Duration>,
    /// How many 64 KiB pages the module's memory may grow to.
    pub memory_max_pages: Option<u32>,
}
