//! `check`'s direct mode: with no collector to ask, the facts Graph itself can give about a
//! profile — the credential report (the same probe as `creds test`) and, once a token is
//! granted, the app's subscriptions from `GET /subscriptions` (graph-facts §3.2: Graph lists
//! the calling app's subscriptions, `clientState` withheld). Delivery, the export API and the
//! store stay `None`: only a running collector sees those, and the ladder says so.
//!
//! The list is read with the probe's own Graph client, so one check asks the identity platform
//! for one token (the client's cache serves the second use) and loads the secret once.
//!
//! Depends on `config`, `creds` (probe and assess), `graph` and `diagnose::facts`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::SharedClock;
use crate::config::{Profile, SubscriptionScope};
use crate::creds::probe::{ProbeOptions, probe_keeping_client};
use crate::creds::{CredentialReport, TokenStatus, assess};
use crate::diagnose::facts::{FactSource, Facts, SubscriptionFact, SubscriptionFacts};
use crate::graph::http::{GraphClient, RateBudget};
use crate::graph::model::Subscription;
use crate::graph::model::well_known::TENANT_WIDE_RESOURCE;

/// Pages of `GET /subscriptions` read at most: an app holds a handful of subscriptions.
const MAX_LIST_PAGES: usize = 20;

/// The subscription list's time limit: a monitoring check must answer within tens of seconds.
const LIST_TIMEOUT: Duration = Duration::from_secs(20);

/// The tail every Copilot interaction resource ends with, tenant-wide or per user.
const COPILOT_RESOURCE_TAIL: &str = "interactionhistory/getallenterpriseinteractions";

/// Everything Graph can tell about `profile` without a collector, labelled `source`.
pub async fn gather(
    profile: &Profile,
    source: FactSource,
    clock: SharedClock,
    budget: RateBudget,
) -> Facts {
    let options = ProbeOptions::default();
    let (probed, graph) = probe_keeping_client(profile, clock.clone(), budget, &options).await;
    let report = assess(&probed);
    let subscriptions = match graph {
        Some(graph) if token_granted(&report) => read_subscriptions(profile, &graph, &clock).await,
        _ => None,
    };
    Facts {
        profile: profile.name.clone(),
        client_id: Some(profile.client_id.clone()),
        thresholds: profile.thresholds.diagnosis(),
        source,
        credentials: Some(report),
        subscriptions,
        delivery: None,
        export: None,
        graph: None,
        store: None,
        dead_tasks: Vec::new(),
    }
}

fn token_granted(report: &CredentialReport) -> bool {
    matches!(report.token.status, TokenStatus::Granted)
}

/// The app's Copilot subscriptions as Graph lists them, or `None` (logged) when they could not
/// be read.
async fn read_subscriptions(
    profile: &Profile,
    graph: &GraphClient,
    clock: &SharedClock,
) -> Option<SubscriptionFacts> {
    let now = clock.now();
    let listed = tokio::time::timeout(LIST_TIMEOUT, list(graph)).await;
    let listed = match listed {
        Ok(Ok(listed)) => listed,
        Ok(Err(reason)) => {
            tracing::warn!(profile = %profile.name, %reason, "cannot list the subscriptions");
            return None;
        }
        Err(_) => {
            tracing::warn!(profile = %profile.name, "listing the subscriptions timed out");
            return None;
        }
    };
    Some(subscription_facts(profile, &listed, now))
}

/// `GET /subscriptions` with the probe's client (its token cached); the error as text, since
/// it only explains a missing part of the facts.
async fn list(graph: &GraphClient) -> Result<Vec<Subscription>, String> {
    graph
        .get_all::<Subscription>("/subscriptions", MAX_LIST_PAGES)
        .await
        .map(|paged| paged.items)
        .map_err(|error| error.to_string())
}

/// The subscription facts of `listed`: those on a Copilot interaction resource are active
/// (Graph lists only subscriptions that have not been removed). Graph does not say when a
/// subscription was created or last renewed, so `created_at` is when it was read and the
/// keeper's actions and lifecycle events are empty: only the collector knows those.
pub fn subscription_facts(
    profile: &Profile,
    listed: &[Subscription],
    read_at: DateTime<Utc>,
) -> SubscriptionFacts {
    let resource = match profile.subscription_scope {
        SubscriptionScope::Tenant => TENANT_WIDE_RESOURCE.to_owned(),
        SubscriptionScope::PerUser => {
            "/copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions".to_owned()
        }
    };
    let active = listed
        .iter()
        .filter(|subscription| is_copilot_resource(&subscription.resource))
        .map(|subscription| SubscriptionFact {
            id: subscription.id.clone(),
            resource: subscription.resource.clone(),
            expires_at: subscription.expiration_date_time,
            created_at: read_at,
            lifecycle_url: subscription.lifecycle_notification_url.clone(),
            certificate_id: subscription.encryption_certificate_id.clone(),
            last_renewed_at: None,
            last_reauthorized_at: None,
        })
        .collect();
    SubscriptionFacts {
        resource,
        notification_url: profile.notification_url.as_ref().map(|url| url.to_string()),
        lifecycle_url_configured: profile.lifecycle_notification_url.is_some(),
        active,
        actions: Vec::new(),
        lifecycle: Vec::new(),
    }
}

/// Graph echoes resources as they were sent, with or without the leading `/` and in any case.
fn is_copilot_resource(resource: &str) -> bool {
    let resource = resource.trim_start_matches('/').to_ascii_lowercase();
    resource.starts_with("copilot/") && resource.ends_with(COPILOT_RESOURCE_TAIL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copilot_resources_are_recognised_in_any_spelling() {
        assert!(is_copilot_resource(TENANT_WIDE_RESOURCE));
        assert!(is_copilot_resource(
            "copilot/interactionHistory/getAllEnterpriseInteractions"
        ));
        assert!(is_copilot_resource(
            "/copilot/users/6e1f/interactionHistory/getAllEnterpriseInteractions"
        ));
        assert!(!is_copilot_resource("/users"));
        assert!(!is_copilot_resource("/teams/getAllMessages"));
    }
}
