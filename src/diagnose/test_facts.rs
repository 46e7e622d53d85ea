//! Test-only builder of [`Facts`]: a healthy profile (credentials from the canonical fixtures,
//! one live tenant-wide subscription, notifications flowing, the export API agreeing, Graph
//! answering, a roomy store) that each test then breaks in one or more places.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::facts::*;
use crate::creds::test_facts::{TOKEN_ERROR_7000222, refused, rejection_fixture};
use crate::creds::{CredentialFacts, Readable, assess};
use crate::graph::model::well_known::TENANT_WIDE_RESOURCE;
use crate::store::records::{KeeperAction, Outcome};

/// The moment every test judges at (the credential fixtures' `now`).
/// The app's client id: the `appid` of the canonical access-token fixture.
pub(crate) const CLIENT_ID: &str = "24d3b144-21ae-4080-943f-7067b395b913";

pub(crate) fn now() -> DateTime<Utc> {
    crate::creds::test_facts::now()
}

/// `now` minus `minutes`.
pub(crate) fn minutes_ago(minutes: i64) -> DateTime<Utc> {
    now() - Duration::minutes(minutes)
}

/// The profile's notification URL.
pub(crate) const NOTIFICATION_URL: &str = "https://pilotwatch.contoso.com/notify";

/// The live subscription's id.
pub(crate) const SUBSCRIPTION_ID: &str = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07";

/// A spread of seconds with the given median, 95th percentile and maximum.
pub(crate) fn spread(p50: f64, p95: f64, max: f64) -> Spread {
    Spread {
        count: 40,
        p50,
        p95,
        p99: max.min(p95 * 1.2).max(p95),
        max,
        mean: (p50 + p95) / 2.0,
    }
}

/// A keeper action that failed `in_a_row` times since `since_minutes` ago, last a minute ago.
pub(crate) fn failed(
    action: KeeperAction,
    kind: FailureKind,
    status: Option<u16>,
    in_a_row: u32,
    since_minutes: i64,
) -> ActionFact {
    ActionFact {
        action,
        at: minutes_ago(1),
        outcome: Outcome::Failed,
        failure: Some(ActionFailure {
            kind,
            status,
            code: status.map(|s| {
                if s == 403 {
                    "Forbidden"
                } else {
                    "InvalidRequest"
                }
                .into()
            }),
            detail: match kind {
                FailureKind::Handshake => "Subscription validation request failed. Notification \
                                           endpoint must respond with 200 OK to validation request."
                    .into(),
                FailureKind::Quota => "Subscription quota exceeded: 1 subscription per app and \
                                       tenant for this resource."
                    .into(),
                _ => "the request failed".into(),
            },
        }),
        failures_in_a_row: in_a_row,
        failing_since: Some(minutes_ago(since_minutes)),
        message: "failed".into(),
    }
}

/// The live subscription of a healthy profile.
pub(crate) fn live_subscription() -> SubscriptionFact {
    SubscriptionFact {
        id: SUBSCRIPTION_ID.into(),
        resource: TENANT_WIDE_RESOURCE.into(),
        expires_at: now() + Duration::hours(50),
        created_at: now() - Duration::hours(30),
        lifecycle_url: Some("https://pilotwatch.contoso.com/lifecycle".into()),
        certificate_id: Some("pilotwatch-2026".into()),
        last_renewed_at: Some(now() - Duration::hours(6)),
        last_reauthorized_at: None,
    }
}

/// Chainable changes to a healthy profile's facts.
#[derive(Debug, Clone)]
pub(crate) struct Build(Facts);

impl Build {
    /// Every part gathered, nothing wrong.
    pub(crate) fn healthy() -> Self {
        let succeeded = |action, minutes| ActionFact {
            action,
            at: minutes_ago(minutes),
            outcome: Outcome::Succeeded,
            failure: None,
            failures_in_a_row: 0,
            failing_since: None,
            message: "ok".into(),
        };
        Build(Facts {
            profile: "contoso".into(),
            client_id: Some(CLIENT_ID.into()),
            thresholds: Default::default(),
            source: FactSource::Collector {
                pid: 4242,
                since: now() - Duration::days(2),
            },
            credentials: Some(assess(&crate::creds::test_facts::healthy())),
            subscriptions: Some(SubscriptionFacts {
                resource: TENANT_WIDE_RESOURCE.into(),
                notification_url: Some(NOTIFICATION_URL.into()),
                lifecycle_url_configured: true,
                active: vec![live_subscription()],
                actions: vec![
                    succeeded(KeeperAction::Renew, 360),
                    succeeded(KeeperAction::Create, 1_800),
                ],
                lifecycle: Vec::new(),
            }),
            delivery: Some(DeliveryFacts {
                window_minutes: 60,
                received: 40,
                accepted: 40,
                rejected: BTreeMap::new(),
                token_failures: BTreeMap::new(),
                decrypt_failures: BTreeMap::new(),
                unknown_certificates: Vec::new(),
                current_certificate_id: Some("pilotwatch-2026".into()),
                last_received_at: Some(minutes_ago(2)),
                last_accepted_at: Some(minutes_ago(2)),
                ack: Some(spread(0.01, 0.04, 0.2)),
                ack_slow_share: Some(0.0),
                latency: Some(spread(3.0, 6.5, 9.0)),
            }),
            export: Some(ExportFacts {
                last_reconcile: Some(ReconcileFact {
                    at: minutes_ago(5),
                    from: minutes_ago(65),
                    to: minutes_ago(5),
                    fetched: 38,
                    missing: 0,
                    outcome: Outcome::Succeeded,
                }),
                newest_created_at: Some(minutes_ago(3)),
                seen_in_window: 38,
            }),
            graph: Some(GraphTraffic {
                window_minutes: 60,
                requests: 120,
                throttled: 0,
                failed: 0,
                trouble_since: None,
                last_request_id: None,
            }),
            store: Some(StoreFacts {
                interactions: 5_000,
                max_interactions: 1_000_000,
                retention_days: 7,
                oldest_created_at: Some(now() - Duration::days(6)),
                moved_aside: None,
            }),
            dead_tasks: Vec::new(),
        })
    }

    /// Credentials assessed from `facts`.
    pub(crate) fn credentials(mut self, facts: &CredentialFacts) -> Self {
        self.0.credentials = Some(assess(facts));
        self
    }

    /// Where the facts came from.
    pub(crate) fn source(mut self, source: FactSource) -> Self {
        self.0.source = source;
        self
    }

    /// Changes the subscription facts.
    pub(crate) fn subscriptions(mut self, change: impl FnOnce(&mut SubscriptionFacts)) -> Self {
        change(self.0.subscriptions.as_mut().unwrap());
        self
    }

    /// Changes the delivery facts.
    pub(crate) fn delivery(mut self, change: impl FnOnce(&mut DeliveryFacts)) -> Self {
        change(self.0.delivery.as_mut().unwrap());
        self
    }

    /// Changes the export facts.
    pub(crate) fn export(mut self, change: impl FnOnce(&mut ExportFacts)) -> Self {
        change(self.0.export.as_mut().unwrap());
        self
    }

    /// Changes the Graph traffic.
    pub(crate) fn graph(mut self, change: impl FnOnce(&mut GraphTraffic)) -> Self {
        change(self.0.graph.as_mut().unwrap());
        self
    }

    /// Changes the store facts.
    pub(crate) fn store(mut self, change: impl FnOnce(&mut StoreFacts)) -> Self {
        change(self.0.store.as_mut().unwrap());
        self
    }

    /// Notifications stopped `minutes` ago, while the export API kept seeing interactions
    /// (silence longer than the window leaves nothing received in it).
    pub(crate) fn silent_for(self, minutes: i64) -> Self {
        self.delivery(|d| {
            d.last_received_at = Some(minutes_ago(minutes));
            d.last_accepted_at = Some(minutes_ago(minutes));
            if minutes >= i64::from(d.window_minutes) {
                d.received = 0;
                d.accepted = 0;
                d.ack = None;
                d.latency = None;
            }
        })
    }

    /// The collector started, and created its subscription, `minutes` ago; no notification has
    /// arrived since, while the export API shows the tenant's history (newest 3 minutes old).
    pub(crate) fn fresh_start(self, minutes: i64) -> Self {
        self.source(FactSource::Collector {
            pid: 4242,
            since: minutes_ago(minutes),
        })
        .subscriptions(|s| {
            s.active[0].created_at = minutes_ago(minutes);
            s.active[0].last_renewed_at = None;
        })
        .delivery(|d| {
            d.received = 0;
            d.accepted = 0;
            d.last_received_at = None;
            d.last_accepted_at = None;
            d.ack = None;
            d.latency = None;
        })
    }

    /// `n` of the received items had null validation tokens; nothing entered the feed.
    pub(crate) fn null_tokens(self, n: u64) -> Self {
        self.delivery(|d| {
            d.rejected
                .insert(crate::store::records::RejectReason::TokensNull, n);
            d.received = n;
            d.accepted = 0;
            d.last_accepted_at = None;
        })
    }

    /// Whatever is set to `None` was not gathered.
    pub(crate) fn without(mut self, drop: impl FnOnce(&mut Facts)) -> Self {
        drop(&mut self.0);
        self
    }

    /// The facts.
    pub(crate) fn done(self) -> Facts {
        self.0
    }
}

/// Credentials whose enterprise app has "Assignment required" on.
pub(crate) fn assignment_required() -> crate::creds::CredentialFacts {
    let mut facts = crate::creds::test_facts::healthy();
    let mut principal = crate::creds::test_facts::service_principal();
    principal.app_role_assignment_required = true;
    facts.service_principal = Readable::Read(principal);
    facts
}

/// Credentials refused with AADSTS7000222: the client secret has expired.
pub(crate) fn secret_expired() -> crate::creds::CredentialFacts {
    refused(
        crate::creds::test_facts::healthy(),
        rejection_fixture(TOKEN_ERROR_7000222, 401),
    )
}

/// Healthy but for the live subscription: none, and the keeper's create failing with `kind`.
pub(crate) fn no_subscription(kind: Option<FailureKind>) -> Build {
    Build::healthy().subscriptions(move |s| {
        s.active.clear();
        if let Some(kind) = kind {
            let status = if kind == FailureKind::Quota { 403 } else { 400 };
            s.actions = vec![failed(KeeperAction::Create, kind, Some(status), 4, 30)];
        }
    })
}

/// The poller's task, dead three minutes ago of a panic.
pub(crate) fn dead_poller() -> DeadTask {
    DeadTask {
        task: "poller".into(),
        profile: Some("contoso".into()),
        ended_at: minutes_ago(3),
        reason: "panicked: index out of bounds: the len is 0 but the index is 0".into(),
    }
}
