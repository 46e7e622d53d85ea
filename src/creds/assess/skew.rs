//! The `clock-skew` check: the server's `Date` minus the local clock. From one minute off the
//! local clock is worth fixing (latency figures drift); from five minutes JWT `nbf`/`exp`
//! checks start failing and latency figures are fiction.
//!
//! Depends on the facts and the report types.

use crate::clock::stamp;
use crate::creds::facts::CredentialFacts;
use crate::creds::report::{Check, CheckId, ClockSkewSection};
use crate::severity::Severity;

use super::check;

/// Skew (either way) from which the check warns, in seconds.
pub(super) const WARNING_SKEW_SECS: u64 = 60;
/// Skew (either way) from which the check is critical, in seconds.
pub(super) const CRITICAL_SKEW_SECS: u64 = 300;

/// Judges the local clock against the server's.
pub(super) fn assess(facts: &CredentialFacts) -> (Check, ClockSkewSection) {
    let Some(clocks) = facts.server_date else {
        let unmeasured = check(
            CheckId::ClockSkew,
            Severity::Unknown,
            "not checked: no server answer carried a Date header",
        );
        let section = ClockSkewSection {
            skew_seconds: None,
            server: None,
            local: None,
        };
        return (unmeasured, section);
    };
    let skew = (clocks.server - clocks.local).num_seconds();
    let section = ClockSkewSection {
        skew_seconds: Some(skew),
        server: Some(clocks.server),
        local: Some(clocks.local),
    };
    let direction = match skew {
        0 => "in step with".to_owned(),
        s if s > 0 => format!("{s} s behind"),
        s => format!("{} s ahead of", s.unsigned_abs()),
    };
    let severity = match skew.unsigned_abs() {
        s if s >= CRITICAL_SKEW_SECS => Severity::Critical,
        s if s >= WARNING_SKEW_SECS => Severity::Warning,
        _ => Severity::Ok,
    };
    let mut result = check(
        CheckId::ClockSkew,
        severity,
        format!("the local clock is {direction} the server's"),
    );
    result.evidence.push(format!(
        "server Date {}, local clock {} (skew {skew:+} s)",
        stamp(clocks.server),
        stamp(clocks.local)
    ));
    if severity != Severity::Ok {
        result.cause = Some(if severity == Severity::Critical {
            "At five minutes or more, tokens look not-yet-valid or expired to whoever checks \
             their nbf/exp claims, and every latency figure is off by the skew."
                .to_owned()
        } else {
            "Latency figures are off by the skew, and token lifetimes are misjudged.".to_owned()
        });
        result.fix = vec![
            "Enable time synchronisation: `timedatectl set-ntp true`.".to_owned(),
            "Check that it is working: `timedatectl` should say \"System clock synchronized: \
             yes\" (chrony: `chronyc tracking`; systemd-timesyncd: `timedatectl \
             timesync-status`)."
                .to_owned(),
        ];
    }
    (result, section)
}
