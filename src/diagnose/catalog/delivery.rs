//! Delivery findings about notifications arriving and how fast: the push path broken and
//! nobody using Copilot (both from one comparison of activity against arrival, in
//! [`activity`]), our endpoint too slow for Graph, notifications late, and notifications later
//! than Microsoft's documented maximum — a Graph-side incident, told apart from delay of our
//! own making.
//!
//! Whether what arrives is authentic and decryptable is `authenticity`'s business. Graph rules
//! are from graph-facts §2 (latency) and §3.5 (slow and drop states, retries).
//!
//! Depends on the facts and finding types, the thresholds and `clock::stamp`; pure.

mod activity;

use chrono::{DateTime, Duration, Utc};

use super::text::{ago, count, percent, seconds, span};
use crate::clock::stamp;
use crate::diagnose::facts::{DeliveryFacts, FactSource, Facts, Spread};
use crate::diagnose::thresholds::{
    DELIVERY_WINDOW_MINUTES, DROP_STATE_SHARE, GRAPH_RETRY_HOURS, GRAPH_RETRY_TIMEOUT_SECONDS,
    GRAPH_SLOW_ACK_SECONDS, LATENCY_AVERAGE_SECONDS, LATENCY_MAXIMUM_SECONDS, SLOW_STATE_SHARE,
};
use crate::diagnose::{Finding, FindingCode};
use crate::severity::Severity;

/// The delivery findings as of `now`.
pub(super) fn findings(facts: &Facts, now: DateTime<Utc>) -> Vec<Finding> {
    let mut all = Vec::new();
    if let Some(export) = &facts.export {
        let window = facts
            .delivery
            .as_ref()
            .map_or(DELIVERY_WINDOW_MINUTES, |d| d.window_minutes);
        if let Some(delivery) = &facts.delivery {
            all.extend(activity::push_path_broken(facts, delivery, export, now));
        }
        all.extend(activity::no_recent_activity(
            facts.delivery.as_ref(),
            export,
            window,
            now,
        ));
    }
    if let Some(delivery) = &facts.delivery {
        let slow = endpoint_slow(delivery);
        let our_fault = slow.as_ref().is_some_and(|_| {
            delivery
                .ack_slow_share
                .is_some_and(|s| s > SLOW_STATE_SHARE)
        });
        all.extend(slow);
        if let Some(latency) = delivery.latency {
            let url = facts
                .subscriptions
                .as_ref()
                .and_then(|s| s.notification_url.as_deref());
            all.extend(latency_high(
                delivery,
                latency,
                facts.thresholds.latency_p95(),
                url,
                our_fault,
            ));
            all.extend(beyond_maximum(facts, delivery, latency, our_fault, now));
        }
    }
    all
}

fn endpoint_slow(delivery: &DeliveryFacts) -> Option<Finding> {
    let ack = delivery.ack?;
    let share = delivery.ack_slow_share.unwrap_or(0.0);
    let severity = if ack.p95 >= GRAPH_RETRY_TIMEOUT_SECONDS {
        Severity::Critical
    } else if share > SLOW_STATE_SHARE || ack.p95 > GRAPH_SLOW_ACK_SECONDS {
        Severity::Warning
    } else {
        return None;
    };
    let mut evidence = vec![format!(
        "acknowledgement time over {} answers: p50 {}, p95 {}, max {} (Graph's slow line: {})",
        ack.count,
        seconds(ack.p50),
        seconds(ack.p95),
        seconds(ack.max),
        seconds(GRAPH_SLOW_ACK_SECONDS)
    )];
    if let Some(share) = delivery.ack_slow_share {
        evidence.push(format!(
            "{} of answers in the last 10 minutes were slower than {} (Graph's slow state \
             begins above {})",
            percent(share),
            seconds(GRAPH_SLOW_ACK_SECONDS),
            percent(SLOW_STATE_SHARE)
        ));
    }
    if ack.p95 >= GRAPH_RETRY_TIMEOUT_SECONDS {
        evidence.push(format!(
            "at least 5 % of answers take {} or more, Graph's timeout for retried deliveries",
            seconds(GRAPH_RETRY_TIMEOUT_SECONDS)
        ));
    }
    Some(Finding {
        code: FindingCode::EndpointSlow,
        severity,
        title: format!(
            "the receiver acknowledges too slowly for Graph (p95 {})",
            seconds(ack.p95)
        ),
        evidence,
        since: None,
        cause: format!(
            "Graph counts a notification as delivered only on a 2xx within 3 seconds. When more \
             than {} of answers in 10 minutes are slow it delays new notifications by 10 \
             minutes; when more than {} exceed its {} retry timeout it drops them for 10 \
             minutes, unrecoverably. Slowness is tracked per host of the notification URL, so \
             every subscription on that host suffers.",
            percent(SLOW_STATE_SHARE),
            percent(DROP_STATE_SHARE),
            seconds(GRAPH_RETRY_TIMEOUT_SECONDS)
        ),
        fix: vec![
            "Check the machine running the collector: CPU, disk latency of the store, memory."
                .to_owned(),
            "Check the reverse proxy in front of the receiver: it must not buffer or queue \
             notification POSTs."
                .to_owned(),
            "Graph's guidance is to answer 202 at once and process afterwards; if answers \
             are still slow, look for a slow network hop between Graph and the receiver."
                .to_owned(),
        ],
    })
}

/// Latency beyond the profile's p95 line (`latency_p95_seconds`), worded against Microsoft's
/// documented average.
fn latency_high(
    delivery: &DeliveryFacts,
    latency: Spread,
    p95_line: f64,
    notification_url: Option<&str>,
    our_fault: bool,
) -> Option<Finding> {
    if latency.p95 <= p95_line {
        return None;
    }
    let mut evidence = vec![format!(
        "notification latency over {} in the last {} minutes: p50 {}, p95 {}, mean {}, max {}",
        count(latency.count, "notification"),
        delivery.window_minutes,
        seconds(latency.p50),
        seconds(latency.p95),
        seconds(latency.mean),
        seconds(latency.max)
    )];
    evidence.push(format!(
        "Microsoft documents an average under {} for Copilot interactions",
        seconds(LATENCY_AVERAGE_SECONDS)
    ));
    let cause = if our_fault {
        evidence.push(
            "the receiver is in Graph's slow state (see endpoint-slow): Graph delays new \
             notifications by 10 minutes"
                .to_owned(),
        );
        "Local delay: our endpoint answered slowly, so Graph holds notifications back."
    } else {
        "Graph delivers later than its documented average while our receiver acknowledges in \
         time. Either the delay is on Graph's side (delivery up to Microsoft's documented \
         maximum of 60 minutes is within its terms), or something between Graph and the \
         receiver (a proxy, load balancer or TLS terminator) answers slowly as Graph measures \
         it, which makes Graph hold notifications back 10 minutes at a time."
    };
    Some(Finding {
        code: FindingCode::LatencyHigh,
        severity: Severity::Warning,
        title: format!(
            "notifications arrive late (p95 {}, documented average under {})",
            seconds(latency.p95),
            seconds(LATENCY_AVERAGE_SECONDS)
        ),
        evidence,
        since: None,
        cause: cause.to_owned(),
        fix: if our_fault {
            vec!["Fix the endpoint's slowness first (endpoint-slow).".to_owned()]
        } else {
            vec![
                format!(
                    "Time the public notification URL from outside the network, as Graph \
                     reaches it: curl -s -o /dev/null -w '%{{time_total}}\\n' -X POST \
                     '{}?validationToken=probe' must answer well under 2.9 s. If it does not, \
                     fix what sits in front of the receiver.",
                    notification_url.unwrap_or("<notificationUrl>")
                ),
                "If it answers fast, nothing is wrong locally. If the delay persists, check the \
                 Microsoft 365 admin center › Health › Service health for Microsoft Graph."
                    .to_owned(),
            ]
        },
    })
}

fn beyond_maximum(
    facts: &Facts,
    delivery: &DeliveryFacts,
    latency: Spread,
    our_fault: bool,
    now: DateTime<Utc>,
) -> Option<Finding> {
    if latency.max <= LATENCY_MAXIMUM_SECONDS {
        return None;
    }
    let mut evidence = vec![
        format!(
            "the slowest notification in the last {} minutes arrived {} after its interaction \
             (Microsoft's documented maximum: 60 minutes)",
            delivery.window_minutes,
            seconds(latency.max)
        ),
        match delivery.ack {
            Some(ack) => format!(
                "our side: acknowledgement p95 {} — the rest of the delay is before Graph \
                 reached us",
                seconds(ack.p95)
            ),
            None => "our side: no acknowledgement times recorded".to_owned(),
        },
    ];
    let restarted = match facts.source {
        FactSource::Collector { since, .. }
            if now - since < Duration::minutes(i64::from(delivery.window_minutes)) =>
        {
            Some(since)
        }
        _ => None,
    };
    let (severity, cause, fix) = if let Some(since) = restarted {
        evidence.push(format!(
            "the collector started at {} ({}): Graph retries what it could not deliver while \
             it was down for up to {GRAPH_RETRY_HOURS} hours",
            stamp(since),
            ago(now, since)
        ));
        (
            Severity::Info,
            "Local delay: the receiver was not running, and Graph delivered its retries when \
             it came back.",
            vec![
                "Nothing to fix; keep the collector running (a service manager restarts it)."
                    .to_owned(),
            ],
        )
    } else if our_fault {
        (
            Severity::Warning,
            "Local delay: our endpoint was slow or failing, so Graph delayed, dropped and \
             retried notifications (for up to 4 hours).",
            vec!["Fix the endpoint's slowness first (endpoint-slow).".to_owned()],
        )
    } else {
        (
            Severity::Warning,
            "It is not you: Graph delivered later than Microsoft's documented 60-minute maximum \
             while our endpoint answered in time. This is a Graph-side incident.",
            vec![
                "Check the Microsoft 365 admin center › Health › Service health for Microsoft \
                 Graph."
                    .to_owned(),
                "Open a support case with the delay, its times and the subscription id; the \
                 poller has backfilled the interactions meanwhile."
                    .to_owned(),
            ],
        )
    };
    Some(Finding {
        code: FindingCode::LatencyBeyondMaximum,
        severity,
        title: format!(
            "a notification arrived {} late, beyond Microsoft's 60-minute maximum",
            span(Duration::seconds(latency.max as i64))
        ),
        evidence,
        since: None,
        cause: cause.to_owned(),
        fix,
    })
}

#[cfg(test)]
mod tests;
