//! What one trial came to, with the known-failure list taken into account.

use std::fmt;

use serde::{Deserialize, Serialize};

/// In report.json a verdict is two fields of its record: `verdict` (its word) and `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Written", try_from = "Written")]
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

    /// Every verdict's word, in the order tables count them.
    pub const WORDS: [&'static str; 5] = ["pass", "fail", "xfail", "xpass", "skip"];

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

/// A verdict as report.json writes it.
#[derive(Serialize, Deserialize)]
struct Written {
    verdict: String,
    #[serde(default)]
    detail: String,
}

impl From<Verdict> for Written {
    fn from(verdict: Verdict) -> Written {
        Written {
            verdict: verdict.word().to_owned(),
            detail: verdict.detail().to_owned(),
        }
    }
}

impl TryFrom<Written> for Verdict {
    type Error = String;

    fn try_from(written: Written) -> Result<Verdict, String> {
        let detail = written.detail;
        Ok(match written.verdict.as_str() {
            "pass" => Verdict::Pass,
            "fail" => Verdict::Fail(detail),
            "xfail" => Verdict::XFail(detail),
            "xpass" => Verdict::XPass(detail),
            "skip" => Verdict::Skip(detail),
            other => return Err(format!("`{other}` is not a verdict")),
        })
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

    #[test]
    fn a_verdict_is_written_as_its_word_and_detail_and_read_back() {
        for verdict in [Verdict::Pass, Verdict::XFail("why".to_owned())] {
            let json = serde_json::to_value(&verdict).unwrap();
            assert_eq!(json["verdict"], verdict.word());
            assert_eq!(json["detail"], verdict.detail());
            assert_eq!(serde_json::from_value::<Verdict>(json).unwrap(), verdict);
        }
        let bad = serde_json::json!({"verdict": "maybe", "detail": ""});
        let error = serde_json::from_value::<Verdict>(bad).unwrap_err();
        assert!(
            error.to_string().contains("`maybe` is not a verdict"),
            "{error}"
        );
    }
}
