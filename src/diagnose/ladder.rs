//! The empty-dashboard ladder: the chain every interaction climbs to reach a dashboard —
//! collector reachable → token → roles → licence → subscription alive → handshake →
//! notifications arriving → authentic → decryptable → stored → recent activity exists. Each
//! rung is judged from the findings that break it and from whether its facts were gathered at
//! all; the first broken rung is the headline, because fixing anything above it first would
//! change nothing downstream.
//!
//! Depends on `finding` and `facts` only; pure.

use serde::{Deserialize, Serialize};

use super::facts::{FactSource, Facts};
use super::finding::{Finding, FindingCode};
use crate::severity::Severity;

/// One rung, in climbing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rung {
    /// A collector runs and can be asked.
    CollectorReachable,
    /// The identity platform issues a token.
    Token,
    /// The token carries the right application permissions.
    Roles,
    /// The tenant and its users hold Copilot licences.
    Licence,
    /// A live, renewing subscription exists.
    SubscriptionAlive,
    /// Graph's validation handshake with our endpoint succeeds.
    Handshake,
    /// Notifications reach the receiver.
    NotificationsArriving,
    /// They are authentic (clientState, validation tokens).
    Authentic,
    /// Their content decrypts.
    Decryptable,
    /// They are stored.
    Stored,
    /// Someone used Copilot lately (the export API shows interactions).
    RecentActivity,
}

impl Rung {
    /// Every rung, in climbing order.
    pub const ALL: [Rung; 11] = [
        Rung::CollectorReachable,
        Rung::Token,
        Rung::Roles,
        Rung::Licence,
        Rung::SubscriptionAlive,
        Rung::Handshake,
        Rung::NotificationsArriving,
        Rung::Authentic,
        Rung::Decryptable,
        Rung::Stored,
        Rung::RecentActivity,
    ];

    /// What the rung checks, for display.
    pub fn title(self) -> &'static str {
        match self {
            Rung::CollectorReachable => "collector reachable",
            Rung::Token => "token",
            Rung::Roles => "roles",
            Rung::Licence => "licence",
            Rung::SubscriptionAlive => "subscription alive",
            Rung::Handshake => "handshake",
            Rung::NotificationsArriving => "notifications arriving",
            Rung::Authentic => "authentic",
            Rung::Decryptable => "decryptable",
            Rung::Stored => "stored",
            Rung::RecentActivity => "recent activity",
        }
    }

    /// The rung a finding bears on, if any (Graph-side findings explain others but are no rung
    /// of their own).
    pub fn of(code: FindingCode) -> Option<Rung> {
        use FindingCode as C;
        Some(match code {
            C::CollectorUnreachable | C::StoreLocked | C::CollectorTaskDied => {
                Rung::CollectorReachable
            }
            C::TenantUnknown
            | C::ClientIdUnknown
            | C::SecretIdPasted
            | C::SecretWrong
            | C::SecretUnreadable
            | C::SecretExpired
            | C::SecretExpiring
            | C::AppDisabled
            | C::ClockSkew
            | C::TokenRefused
            | C::IdentityUnreachable => Rung::Token,
            C::AdminConsentMissing
            | C::WrongPermissionSet
            | C::DelegatedPermissions
            | C::PermissionMissing
            | C::UserReadMissing => Rung::Roles,
            C::TenantLicenceMissing | C::UserLicenceMissing => Rung::Licence,
            C::SubscriptionMissing
            | C::SubscriptionExpiring
            | C::SubscriptionExpired
            | C::SubscriptionRemoved
            | C::ReauthorizationFailing
            | C::LifecycleUrlMissing
            | C::SubscriptionQuota => Rung::SubscriptionAlive,
            C::HandshakeFailing => Rung::Handshake,
            C::PushPathBroken | C::EndpointSlow | C::LatencyHigh | C::LatencyBeyondMaximum => {
                Rung::NotificationsArriving
            }
            C::ValidationTokensNull | C::ValidationTokensInvalid | C::ClientStateMismatch => {
                Rung::Authentic
            }
            C::DecryptionFailing => Rung::Decryptable,
            C::RetentionPressure | C::StoreMovedAside => Rung::Stored,
            C::NoRecentActivity => Rung::RecentActivity,
            C::GraphThrottling | C::GraphOutage => return None,
        })
    }
}

/// How a rung stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum RungState {
    /// Nothing wrong was seen.
    Ok,
    /// It holds, with something to know (an info finding, e.g. no recent activity).
    Info {
        /// The finding.
        code: FindingCode,
    },
    /// It holds, but something needs attention.
    Warning {
        /// The most urgent finding on it.
        code: FindingCode,
    },
    /// It is broken: nothing gets past it.
    Broken {
        /// The most urgent finding on it.
        code: FindingCode,
    },
    /// Its facts could not be gathered.
    Unknown {
        /// Why not.
        reason: String,
    },
}

/// Every rung with its state, and the first broken one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    /// The rungs in climbing order.
    pub rungs: Vec<(Rung, RungState)>,
    /// The first broken rung, if any.
    pub first_broken: Option<Rung>,
}

/// Judges every rung from `findings` (gathered from `facts`).
pub fn climb(findings: &[Finding], facts: &Facts) -> Ladder {
    let rungs: Vec<(Rung, RungState)> = Rung::ALL
        .iter()
        .map(|&rung| (rung, judge(rung, findings, facts)))
        .collect();
    let first_broken = rungs
        .iter()
        .find(|(_, state)| matches!(state, RungState::Broken { .. }))
        .map(|(rung, _)| *rung);
    Ladder {
        rungs,
        first_broken,
    }
}

fn judge(rung: Rung, findings: &[Finding], facts: &Facts) -> RungState {
    let worst = findings
        .iter()
        .filter(|finding| Rung::of(finding.code) == Some(rung))
        .max_by_key(|finding| finding.severity);
    match worst.map(|finding| (finding.severity, finding.code)) {
        Some((Severity::Critical, code)) => return RungState::Broken { code },
        Some((Severity::Warning, code)) => return RungState::Warning { code },
        Some((Severity::Info, code)) => return RungState::Info { code },
        Some((Severity::Ok | Severity::Unknown, _)) | None => {}
    }
    match missing_facts(rung, facts) {
        Some(reason) => RungState::Unknown {
            reason: reason.to_owned(),
        },
        None => RungState::Ok,
    }
}

/// Why the facts `rung` is judged from are missing, if they are.
fn missing_facts(rung: Rung, facts: &Facts) -> Option<&'static str> {
    match rung {
        Rung::CollectorReachable => match facts.source {
            FactSource::Collector { .. } => None,
            FactSource::Direct => Some("no collector is running"),
            FactSource::Unreachable { .. } => Some("the collector could not be asked"),
        },
        Rung::Token | Rung::Roles | Rung::Licence => facts
            .credentials
            .is_none()
            .then_some("credentials were not checked"),
        Rung::SubscriptionAlive | Rung::Handshake => facts
            .subscriptions
            .is_none()
            .then_some("subscriptions were not read"),
        Rung::NotificationsArriving | Rung::Authentic | Rung::Decryptable | Rung::Stored => facts
            .delivery
            .is_none()
            .then_some("only a running collector sees notifications"),
        Rung::RecentActivity => facts
            .export
            .is_none()
            .then_some("the export API was not read"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn every_code_but_graph_side_ones_sits_on_a_rung() {
        for &code in FindingCode::ALL {
            let graph_side = matches!(
                code,
                FindingCode::GraphThrottling | FindingCode::GraphOutage
            );
            assert_eq!(Rung::of(code).is_none(), graph_side, "{code:?}");
        }
    }
}
