//! Graph-side findings, read off how Graph answered our requests in the window: throttling
//! (429s) and an outage (5xx or timeouts). Both say plainly that the fault is not the
//! operator's, and carry the `request-id` Microsoft support asks for (graph-facts §8).
//!
//! Depends on the facts and finding types and the thresholds; pure.

use super::text::{count, percent, share};
use crate::diagnose::facts::GraphTraffic;
use crate::diagnose::thresholds::{
    FAILED_MINIMUM, FAILED_SHARE, THROTTLED_MINIMUM, THROTTLED_SHARE,
};
use crate::diagnose::{Finding, FindingCode};
use crate::severity::Severity;

/// The Graph-side findings.
pub(super) fn findings(traffic: &GraphTraffic) -> Vec<Finding> {
    [throttling(traffic), outage(traffic)]
        .into_iter()
        .flatten()
        .collect()
}

/// The window's totals and the request-id, one line each (the finding's `since` says when).
fn evidence(traffic: &GraphTraffic, n: u64, answered: &str) -> Vec<String> {
    let mut lines = vec![format!(
        "{n} of {} in the last {} minutes {answered} ({})",
        count(traffic.requests, "request"),
        traffic.window_minutes,
        percent(share(n, traffic.requests))
    )];
    if let Some(id) = &traffic.last_request_id {
        lines.push(format!("latest request-id: {id}"));
    }
    lines
}

fn support_step(traffic: &GraphTraffic) -> String {
    match &traffic.last_request_id {
        Some(id) => format!(
            "If it lasts, open a Microsoft support case quoting request-id {id} and the times \
             above."
        ),
        None => "If it lasts, open a Microsoft support case with the times above.".to_owned(),
    }
}

fn throttling(traffic: &GraphTraffic) -> Option<Finding> {
    if traffic.throttled < THROTTLED_MINIMUM
        || share(traffic.throttled, traffic.requests) < THROTTLED_SHARE
    {
        return None;
    }
    Some(Finding {
        code: FindingCode::GraphThrottling,
        severity: Severity::Warning,
        title: format!(
            "Graph throttles our requests ({} answered 429)",
            percent(share(traffic.throttled, traffic.requests))
        ),
        evidence: evidence(
            traffic,
            traffic.throttled,
            "were answered 429 Too Many Requests",
        ),
        since: traffic.trouble_since,
        cause: "It is not you: Graph is limiting the app's request rate (the export API allows \
                30 requests per second per app and tenant, about 83 % of that sustained). \
                pilotwatch waits as long as Retry-After asks and retries; data arrives late, \
                not lost."
            .to_owned(),
        fix: vec![
            "Nothing to fix in pilotwatch. Make sure no other process uses the same app \
             registration against this tenant: the limit is per app, so they share it."
                .to_owned(),
            support_step(traffic),
        ],
    })
}

fn outage(traffic: &GraphTraffic) -> Option<Finding> {
    if traffic.failed < FAILED_MINIMUM || share(traffic.failed, traffic.requests) < FAILED_SHARE {
        return None;
    }
    let all = traffic.failed >= traffic.requests;
    Some(Finding {
        code: FindingCode::GraphOutage,
        severity: if all {
            Severity::Critical
        } else {
            Severity::Warning
        },
        title: format!(
            "Graph is failing our requests ({} answered 5xx or timed out)",
            percent(share(traffic.failed, traffic.requests))
        ),
        evidence: evidence(traffic, traffic.failed, "failed with 5xx or timed out"),
        since: traffic.trouble_since,
        cause: "It is not you: Microsoft Graph is answering with server errors or not at all. \
                pilotwatch keeps retrying with backoff and backfills from the export API once \
                Graph recovers."
            .to_owned(),
        fix: vec![
            "Check the Microsoft 365 admin center › Health › Service health for Microsoft \
             Graph."
                .to_owned(),
            support_step(traffic),
        ],
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn traffic(requests: u64, throttled: u64, failed: u64) -> GraphTraffic {
        GraphTraffic {
            window_minutes: 60,
            requests,
            throttled,
            failed,
            trouble_since: None,
            last_request_id: Some("0f2b7c1e-5d4a-4e8f-9a61-3c2d1b0a9e87".into()),
        }
    }

    fn codes(traffic: &GraphTraffic) -> Vec<(FindingCode, Severity)> {
        findings(traffic)
            .into_iter()
            .map(|f| (f.code, f.severity))
            .collect()
    }

    #[test]
    fn quiet_traffic_has_no_finding() {
        assert_eq!(codes(&traffic(0, 0, 0)), []);
        assert_eq!(codes(&traffic(100, 0, 0)), []);
    }

    #[test]
    fn throttling_is_reported_from_five_percent_and_five_429s() {
        assert_eq!(codes(&traffic(100, 4, 0)), []);
        assert_eq!(
            codes(&traffic(35, 2, 0)),
            [],
            "a start-up burst is not throttling"
        );
        assert_eq!(codes(&traffic(40, 4, 0)), [], "10 % but only four 429s");
        assert_eq!(
            codes(&traffic(100, 5, 0)),
            [(FindingCode::GraphThrottling, Severity::Warning)]
        );
    }

    #[test]
    fn an_outage_needs_twenty_percent_and_three_failures() {
        assert_eq!(codes(&traffic(100, 0, 19)), []);
        assert_eq!(codes(&traffic(2, 0, 2)), [], "two failures are a blip");
        assert_eq!(
            codes(&traffic(100, 0, 20)),
            [(FindingCode::GraphOutage, Severity::Warning)]
        );
        assert_eq!(
            codes(&traffic(3, 0, 3)),
            [(FindingCode::GraphOutage, Severity::Critical)]
        );
    }

    #[test]
    fn both_say_it_is_not_you_and_quote_the_request_id() {
        for finding in findings(&traffic(10, 5, 5)) {
            assert!(finding.cause.starts_with("It is not you"), "{finding:?}");
            assert!(
                finding
                    .evidence
                    .iter()
                    .any(|line| line.contains("0f2b7c1e-5d4a-4e8f-9a61-3c2d1b0a9e87")),
                "{finding:?}"
            );
        }
    }
}
