//! What one (case, language) trial came to, with the known-failure list taken into account.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Diverged, or could not run; the message says how.
    Fail(String),
    /// Diverged as its known-failure entry says it would.
    XFail(String),
    /// Listed as a known failure, yet it passed: the entry must go.
    XPass(String),
    /// Its language's toolchain is missing.
    Skip(String),
}

impl Verdict {
    /// Combines a trial's result with its known-failure entry, if any.
    pub fn judge(result: Result<(), String>, known: Option<&str>) -> Verdict {
        match (result, known) {
            (Ok(()), None) => Verdict::Pass,
            (Err(message), None) => Verdict::Fail(message),
            (Err(_), Some(reason)) => Verdict::XFail(reason.to_owned()),
            (Ok(()), Some(reason)) => Verdict::XPass(reason.to_owned()),
        }
    }

    /// The short word for tables and reports.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail(_) => "fail",
            Verdict::XFail(_) => "xfail",
            Verdict::XPass(_) => "xpass",
            Verdict::Skip(_) => "skip",
        }
    }

    /// The message or reason, empty for a pass.
    pub fn detail(&self) -> &str {
        match self {
            Verdict::Pass => "",
            Verdict::Fail(detail)
            | Verdict::XFail(detail)
            | Verdict::XPass(detail)
            | Verdict::Skip(detail) => detail,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_failure_is_xfail_and_a_listed_pass_is_xpass() {
        assert_eq!(Verdict::judge(Ok(()), None), Verdict::Pass);
        let diverged = || Err("diverged".to_owned());
        assert_eq!(
            Verdict::judge(diverged(), None),
            Verdict::Fail("diverged".to_owned())
        );
        assert_eq!(
            Verdict::judge(diverged(), Some("why")),
            Verdict::XFail("why".to_owned())
        );
        let xpass = Verdict::judge(Ok(()), Some("why"));
        assert_eq!(xpass, Verdict::XPass("why".to_owned()));
    }
}
