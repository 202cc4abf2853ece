//! The attacks of `plugins-hostile/` as the conformance run makes them on every host: each
//! export of a hostile module, with the limits that should stop it. What a host must do is
//! written once per attack, as a snapshot shared by every hostile language on every host
//! (`tests/snapshots/attacks/<attack>.snap`), and after each attack the same host process must
//! still answer an honest call correctly.

use crate::protocol::Limits;

/// One attack: an export of every hostile module, its input and its limits.
pub struct Attack {
    pub name: &'static str,
    pub export: &'static str,
    pub input: &'static str,
    /// What should stop it, shown in the snapshot's header and the reliability table.
    pub stopped_by: &'static str,
    pub limits: fn() -> Limits,
}

/// The cap the attacks run under: 16 MiB, over what either hostile module starts with.
pub const MEMORY_MAX_PAGES: u32 = 256;
/// The timeout of the one attack that needs one.
pub const TIMEOUT_MS: u64 = 500;

fn capped() -> Limits {
    Limits {
        memory_max_pages: Some(MEMORY_MAX_PAGES),
        ..Limits::default()
    }
}

fn capped_with_timeout() -> Limits {
    Limits {
        timeout_ms: Some(TIMEOUT_MS),
        ..capped()
    }
}

pub const ATTACKS: &[Attack] = &[
    Attack {
        name: "infinite_loop",
        export: "infinite_loop",
        input: "",
        stopped_by: "a 500 ms timeout",
        limits: capped_with_timeout,
    },
    Attack {
        name: "memory_bomb",
        export: "memory_bomb",
        input: "",
        stopped_by: "a 256-page (16 MiB) memory cap",
        limits: capped,
    },
    Attack {
        name: "unbounded_recursion",
        export: "unbounded_recursion",
        input: "",
        stopped_by: "the engine's stack limit (a trap)",
        limits: capped,
    },
    Attack {
        name: "forged_key_offset",
        export: "forged_key_offset",
        input: "99999",
        stopped_by: "hostMemoryGet's check that the key is an allocated block",
        limits: capped,
    },
    Attack {
        name: "forged_key_offset_past_memory",
        export: "forged_key_offset",
        input: "1099511627776",
        stopped_by: "hostMemoryGet's check that the key is an allocated block",
        limits: capped,
    },
    Attack {
        name: "forged_output_offset",
        export: "forged_output_offset",
        input: "99999 10",
        stopped_by: "the kernel's output_set, which refuses a block it did not hand out",
        limits: capped,
    },
    Attack {
        name: "forged_output_length",
        export: "forged_output_offset",
        input: "100 2147483647",
        stopped_by: "the kernel's output_set, which refuses a length past the block",
        limits: capped,
    },
    Attack {
        name: "million_host_calls",
        export: "million_host_calls",
        input: "",
        stopped_by: "nothing: it must complete",
        limits: Limits::default,
    },
    Attack {
        name: "fails_mid_host_calls",
        export: "fails_mid_host_calls",
        input: "",
        stopped_by: "hostMemoryGet's refusal after 500 good calls",
        limits: capped,
    },
    Attack {
        name: "unreachable",
        export: "unreachable",
        input: "",
        stopped_by: "a trap",
        limits: capped,
    },
];

/// The attack called `name`.
pub fn find(name: &str) -> Option<&'static Attack> {
    ATTACKS.iter().find(|attack| attack.name == name)
}
