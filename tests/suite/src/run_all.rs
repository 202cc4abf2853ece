//! The switch that runs every trial and test instead of reusing an earlier verdict: the
//! conformance run's per-trial reuse (tests/src/reuse.rs) and xtask's stamps of whole test
//! executables (xtask/src/reuse.rs) both read it here.

/// Set to anything but empty or `0` to run every trial.
pub const ENV: &str = "CONFORMANCE_RUN_ALL";
/// The flag of the conformance executable that runs every trial.
pub const FLAG: &str = "--run-all";

/// The value of [`ENV`] when it asks for every trial to run.
pub fn from_env() -> Option<String> {
    std::env::var(ENV)
        .ok()
        .filter(|value| !value.is_empty() && value != "0")
}

/// Takes [`FLAG`] out of the arguments, which libtest's parser would refuse.
pub fn take_flag(args: &mut Vec<String>) -> bool {
    let before = args.len();
    args.retain(|arg| arg != FLAG);
    args.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_taken_out_of_the_arguments() {
        let mut args = vec!["exe".to_owned(), FLAG.to_owned(), "x".to_owned()];
        assert!(take_flag(&mut args));
        assert_eq!(args, ["exe", "x"]);
        assert!(!take_flag(&mut args));
    }
}
