//! Store and collector findings: retention discarding history early (the count limit reached
//! before the age limit), a collector holding the store that cannot be asked, a corrupt store
//! moved aside, and collector tasks that died.
//!
//! A profile checked directly, with no collector at all, is no finding: the ladder shows the
//! collector rung as unknown instead.
//!
//! Depends on the facts and finding types, the thresholds and `clock::stamp`; pure.

use chrono::{DateTime, Duration, Utc};

use super::text::{ago, percent, share};
use crate::clock::stamp;
use crate::diagnose::facts::{DeadTask, FactSource, StoreFacts};
use crate::diagnose::thresholds::RETENTION_PRESSURE_SHARE;
use crate::diagnose::{Finding, FindingCode};
use crate::severity::Severity;

/// The store findings as of `now`.
pub(super) fn findings(
    source: &FactSource,
    store: Option<&StoreFacts>,
    dead_tasks: &[DeadTask],
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut all: Vec<Finding> = unreachable(source).into_iter().collect();
    all.extend(task_deaths(dead_tasks, now));
    if let Some(store) = store {
        all.extend(retention_pressure(store, now));
        all.extend(moved_aside(store, now));
    }
    all
}

fn unreachable(source: &FactSource) -> Option<Finding> {
    let FactSource::Unreachable { pid, reason } = source else {
        return None;
    };
    let finding = match pid {
        Some(pid) => Finding {
            code: FindingCode::StoreLocked,
            severity: Severity::Warning,
            title: format!("process {pid} holds the store but does not answer"),
            evidence: vec![
                format!("the store's lock names process {pid}"),
                format!("asking it failed: {reason}"),
            ],
            since: None,
            cause: "Only one collector can hold a profile's store. The one holding it does not \
                    answer, so what it sees of delivery is unknown: it may be hung, or be \
                    another pilotwatch version."
                .to_owned(),
            fix: vec![
                format!("See what process {pid} is: ps -p {pid} -o pid,etime,args."),
                format!(
                    "If it is a hung collector, stop it (kill {pid}) and start the collector \
                     again (pilotwatch serve, or its service unit)."
                ),
                "If it is a collector of another pilotwatch version, run this check with the \
                 same version."
                    .to_owned(),
            ],
        },
        None => Finding {
            code: FindingCode::CollectorUnreachable,
            severity: Severity::Warning,
            title: "the collector cannot be asked".to_owned(),
            evidence: vec![format!("asking it failed: {reason}")],
            since: None,
            cause: "A collector owns the store but did not answer, so what it sees of delivery \
                    is unknown."
                .to_owned(),
            fix: vec![
                "Check the collector's service status and its log.".to_owned(),
                "Restart it (pilotwatch serve, or its service unit) if it is hung.".to_owned(),
            ],
        },
    };
    Some(finding)
}

/// One critical finding for every dead task of the collector: the part of the job it did
/// (keeping the subscription, polling, receiving, diagnosing) is not done until a restart.
fn task_deaths(dead_tasks: &[DeadTask], now: DateTime<Utc>) -> Option<Finding> {
    let first = dead_tasks.iter().min_by_key(|death| death.ended_at)?;
    let label = |death: &DeadTask| match &death.profile {
        Some(profile) => format!("{} ({profile})", death.task),
        None => death.task.clone(),
    };
    let title = match dead_tasks.len() {
        1 => format!(
            "the collector's {} task died: {}",
            label(first),
            first.reason
        ),
        n => format!("{n} of the collector's tasks died, first {}", label(first)),
    };
    Some(Finding {
        code: FindingCode::CollectorTaskDied,
        severity: Severity::Critical,
        title,
        evidence: dead_tasks
            .iter()
            .map(|death| {
                format!(
                    "{} ended at {} ({}): {}",
                    label(death),
                    stamp(death.ended_at),
                    ago(now, death.ended_at),
                    death.reason
                )
            })
            .collect(),
        since: Some(first.ended_at),
        cause: "A task of the collector ended although it should run until the collector \
                stops: a bug in pilotwatch. What it did (keeping the subscription alive, \
                polling, receiving notifications or diagnosing) is not being done, and it is \
                not restarted by itself, so a crash loop cannot hide the bug or hammer Graph."
            .to_owned(),
        fix: vec![
            "Read the collector's log around that time (journalctl -u pilotwatch, or \
             $XDG_STATE_HOME/pilotwatch/logs/) for the panic message and backtrace."
                .to_owned(),
            "Restart the collector (systemctl restart pilotwatch, or stop and start \
             pilotwatch serve); the subscription and store carry over."
                .to_owned(),
            "Report the log lines to pilotwatch's maintainers: a task dying is always a bug."
                .to_owned(),
        ],
    })
}

fn retention_pressure(store: &StoreFacts, now: DateTime<Utc>) -> Option<Finding> {
    if store.max_interactions == 0
        || share(store.interactions, store.max_interactions) < RETENTION_PRESSURE_SHARE
    {
        return None;
    }
    let oldest = store.oldest_created_at?;
    let age_limit = Duration::days(i64::from(store.retention_days));
    // The age limit is what discards, as configured: no pressure.
    if now - oldest >= age_limit {
        return None;
    }
    Some(Finding {
        code: FindingCode::RetentionPressure,
        severity: Severity::Warning,
        title: "the store is full: interactions are discarded before their retention age"
            .to_owned(),
        evidence: vec![
            format!(
                "{} interactions held of a limit of {} ({})",
                store.interactions,
                store.max_interactions,
                percent(share(store.interactions, store.max_interactions))
            ),
            format!(
                "the oldest was created at {} ({}), younger than the {}-day retention",
                stamp(oldest),
                ago(now, oldest),
                store.retention_days
            ),
        ],
        since: None,
        cause: "The count limit is reached before the age limit, so the oldest interactions \
                are discarded earlier than the retention days promise."
            .to_owned(),
        fix: vec![
            "Raise the store's interaction limit (retention max_interactions), if the disk \
             allows."
                .to_owned(),
            "Or lower the retention days so the two limits agree.".to_owned(),
        ],
    })
}

fn moved_aside(store: &StoreFacts, now: DateTime<Utc>) -> Option<Finding> {
    let moved = store.moved_aside.as_ref()?;
    Some(Finding {
        code: FindingCode::StoreMovedAside,
        severity: Severity::Warning,
        title: "the store was unreadable and was moved aside; a fresh one was started".to_owned(),
        evidence: vec![
            format!(
                "moved aside at {} ({}) to {}",
                stamp(moved.at),
                ago(now, moved.at),
                moved.path
            ),
            format!("{} interactions held since", store.interactions),
        ],
        since: Some(moved.at),
        cause: "The collector found its store corrupt (for example after a disk fault or a \
                power loss) and set it aside rather than risk it; history from before that \
                moment is in the moved copy, not on the dashboard."
            .to_owned(),
        fix: vec![
            "Nothing is needed to keep collecting: the poller backfills what the export API \
             still holds."
                .to_owned(),
            format!(
                "Keep {} until you no longer need its history, then delete it.",
                moved.path
            ),
            "Check the disk (dmesg, SMART) if it happens again.".to_owned(),
        ],
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::diagnose::facts::MovedAside;

    fn now() -> DateTime<Utc> {
        "2026-09-22T08:00:00Z".parse().unwrap()
    }

    fn store(interactions: u64, oldest_days: i64) -> StoreFacts {
        StoreFacts {
            interactions,
            max_interactions: 1_000,
            retention_days: 7,
            oldest_created_at: Some(now() - Duration::days(oldest_days)),
            moved_aside: None,
        }
    }

    fn codes(source: &FactSource, store: Option<&StoreFacts>) -> Vec<FindingCode> {
        findings(source, store, &[], now())
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    fn collector() -> FactSource {
        FactSource::Collector {
            pid: 4242,
            since: now() - Duration::days(1),
        }
    }

    #[test]
    fn a_healthy_store_and_a_direct_check_have_no_finding() {
        assert_eq!(codes(&collector(), Some(&store(10, 1))), []);
        assert_eq!(codes(&FactSource::Direct, None), []);
    }

    #[test]
    fn retention_pressure_from_95_percent_while_younger_than_the_age_limit() {
        assert_eq!(codes(&collector(), Some(&store(949, 3))), []);
        assert_eq!(
            codes(&collector(), Some(&store(950, 3))),
            [FindingCode::RetentionPressure]
        );
        // The age limit discards as configured: the count limit is not what bites.
        assert_eq!(codes(&collector(), Some(&store(1_000, 7))), []);
    }

    #[test]
    fn an_unreachable_collector_is_named_by_its_pid_when_known() {
        let locked = FactSource::Unreachable {
            pid: Some(4242),
            reason: "connection refused".into(),
        };
        let found = findings(&locked, None, &[], now());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::StoreLocked);
        assert!(found[0].fix[0].contains("ps -p 4242"));
        let anonymous = FactSource::Unreachable {
            pid: None,
            reason: "timed out".into(),
        };
        assert_eq!(codes(&anonymous, None), [FindingCode::CollectorUnreachable]);
    }

    #[test]
    fn a_moved_aside_store_says_where_and_since_when() {
        let mut facts = store(10, 0);
        facts.moved_aside = Some(MovedAside {
            at: now() - Duration::hours(2),
            path: "/var/lib/pilotwatch/contoso.corrupt-20260922".into(),
        });
        let found = findings(&collector(), Some(&facts), &[], now());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, FindingCode::StoreMovedAside);
        assert_eq!(found[0].since, Some(now() - Duration::hours(2)));
        assert!(found[0].evidence[0].contains("contoso.corrupt-20260922"));
    }

    #[test]
    fn a_dead_task_is_critical_names_every_death_and_says_how_to_recover() {
        let dead = [
            DeadTask {
                task: "poller".into(),
                profile: Some("contoso".into()),
                ended_at: now() - Duration::minutes(3),
                reason: "panicked: index out of bounds".into(),
            },
            DeadTask {
                task: "committer".into(),
                profile: None,
                ended_at: now() - Duration::minutes(1),
                reason: "it returned".into(),
            },
        ];
        assert!(findings(&collector(), None, &[], now()).is_empty());
        let one = findings(&collector(), None, &dead[..1], now());
        assert_eq!(one[0].code, FindingCode::CollectorTaskDied);
        assert_eq!(one[0].severity, Severity::Critical);
        assert!(
            one[0].title.contains("poller (contoso)") && one[0].title.contains("index out of"),
            "{}",
            one[0].title
        );
        let both = findings(&collector(), None, &dead, now());
        assert_eq!(both.len(), 1, "one finding for all deaths");
        assert!(
            both[0]
                .title
                .starts_with("2 of the collector's tasks died, first poller")
        );
        assert_eq!(both[0].evidence.len(), 2);
        assert_eq!(both[0].since, Some(now() - Duration::minutes(3)));
        assert!(
            both[0]
                .fix
                .iter()
                .any(|step| step.contains("restart pilotwatch"))
        );
    }
}
