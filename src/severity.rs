//! How bad a finding is: [`Severity`], its Nagios exit code and label, and the ordering used to
//! take the worst of several findings (a report's overall severity).
//!
//! Shared by the credential report and, later, the findings catalog, so it depends on nothing
//! else in the crate.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The state of one check or of a whole report, with the Nagios plugin meaning of each value.
///
/// # Ordering
///
/// `Ord` ranks by how urgently a human must act, so that `max` over several checks gives the
/// report's overall state: **Critical > Warning > Unknown > Info > Ok**. The Nagios exit codes
/// (0/1/2/3) are not that order: Unknown is code 3 only because it was added to the protocol
/// last. Unknown ranks below Warning because a warning is something pilotwatch *observed* and
/// can name a fix for, whereas Unknown only says a check could not run; an operator paged for a
/// real, fixable problem must not see it hidden behind "could not tell". Unknown ranks above Ok
/// because a report that could not check everything must not claim to be healthy. Info is
/// worth knowing but asks nothing of anyone (Nagios: OK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing to do.
    Ok,
    /// Worth knowing; nothing to do.
    Info,
    /// Works now, but needs attention before it breaks (or works only in part).
    Warning,
    /// Broken: the export cannot work until this is fixed.
    Critical,
    /// The check could not be carried out, so its state is not known.
    Unknown,
}

impl Severity {
    /// Every severity, from least to most urgent (the `Ord` order).
    pub const ALL: [Severity; 5] = [
        Severity::Ok,
        Severity::Info,
        Severity::Unknown,
        Severity::Warning,
        Severity::Critical,
    ];

    /// The Nagios plugin exit code: 0 OK (and info), 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn exit_code(self) -> u8 {
        match self {
            Severity::Ok | Severity::Info => 0,
            Severity::Warning => 1,
            Severity::Critical => 2,
            Severity::Unknown => 3,
        }
    }

    /// The status word: `OK`, `INFO`, `WARNING`, `CRITICAL`, `UNKNOWN`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "OK",
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
            Severity::Unknown => "UNKNOWN",
        }
    }

    /// The most urgent of `severities` (see the type's ordering); `Ok` when there are none.
    pub fn worst(severities: impl IntoIterator<Item = Severity>) -> Severity {
        severities.into_iter().max().unwrap_or(Severity::Ok)
    }

    /// Position in the urgency order documented on the type.
    fn urgency(self) -> u8 {
        match self {
            Severity::Ok => 0,
            Severity::Info => 1,
            Severity::Unknown => 2,
            Severity::Warning => 3,
            Severity::Critical => 4,
        }
    }

    /// The Nagios status word, which has no info: `OK` for it.
    pub fn nagios_label(self) -> &'static str {
        match self {
            Severity::Info => Severity::Ok.label(),
            other => other.label(),
        }
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.urgency().cmp(&other.urgency())
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn urgency_order_is_critical_warning_unknown_ok() {
        assert!(Severity::Critical > Severity::Warning);
        assert!(Severity::Warning > Severity::Unknown);
        assert!(Severity::Unknown > Severity::Info);
        assert!(Severity::Info > Severity::Ok);
        let mut shuffled = [
            Severity::Info,
            Severity::Warning,
            Severity::Critical,
            Severity::Ok,
            Severity::Unknown,
        ];
        shuffled.sort();
        assert_eq!(shuffled, Severity::ALL);
    }

    #[test]
    fn worst_takes_the_most_urgent_and_defaults_to_ok() {
        use Severity::*;
        assert_eq!(Severity::worst([]), Ok);
        assert_eq!(Severity::worst([Ok, Unknown, Ok]), Unknown);
        assert_eq!(Severity::worst([Unknown, Warning]), Warning);
        assert_eq!(Severity::worst([Warning, Critical, Unknown]), Critical);
        assert_eq!(Severity::worst([Ok, Info]), Info);
        assert_eq!(Severity::worst([Info, Unknown]), Unknown);
    }

    #[test]
    fn info_is_ok_to_nagios() {
        assert_eq!(Severity::Info.exit_code(), 0);
        assert_eq!(Severity::Info.nagios_label(), "OK");
        assert_eq!(Severity::Info.label(), "INFO");
        assert_eq!(Severity::Critical.nagios_label(), "CRITICAL");
    }

    #[test]
    fn exit_codes_and_labels_follow_nagios() {
        let table: Vec<_> = [
            Severity::Ok,
            Severity::Warning,
            Severity::Critical,
            Severity::Unknown,
        ]
        .iter()
        .map(|s| (s.exit_code(), s.label(), s.to_string()))
        .collect();
        assert_eq!(
            table,
            [
                (0, "OK", "OK".to_owned()),
                (1, "WARNING", "WARNING".to_owned()),
                (2, "CRITICAL", "CRITICAL".to_owned()),
                (3, "UNKNOWN", "UNKNOWN".to_owned()),
            ]
        );
    }

    #[test]
    fn serde_uses_lowercase_words() {
        assert_eq!(
            serde_json::to_string(&Severity::Critical).unwrap(),
            "\"critical\""
        );
        let back: Severity = serde_json::from_str("\"unknown\"").unwrap();
        assert_eq!(back, Severity::Unknown);
        assert!(serde_json::from_str::<Severity>("\"CRITICAL\"").is_err());
    }
}
