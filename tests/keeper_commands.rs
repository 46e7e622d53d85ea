//! Operator orders to a running collector (`Collector::{renew, reauthorize, recreate,
//! backfill}`) against the in-process simulator: a renewal is one PATCH that moves the expiry;
//! a reauthorize is one `POST /reauthorize` that keeps it, and a PATCH within 10 minutes of it
//! is refused; a recreate deletes the subscription at Graph, creates its replacement and
//! backfills the gap; a backfill stores the window's interactions and says how many were new;
//! in per-user scope the id selects exactly one user's subscription; bad input is refused
//! with no request reaching Graph; and an order to a keeper busy renewing waits its turn.
//!
//! Every Graph request goes through a recording proxy in front of the simulator (which can
//! also hold PATCH answers back, to catch the keeper mid-renewal); the simulator's registry and
//! interaction ledger are the referee.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use common::TestSim;
use pilotwatch::clock::SharedClock;
use pilotwatch::collector::{ActionReport, Collector, CollectorCommandError, CollectorOptions};
use pilotwatch::commands::serve::sim_profile;
use pilotwatch::config::{Cloud, SubscriptionScope};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::records::{
    ClientState, EventKind, KeeperAction, Outcome, PollTrigger, SubscriptionRecord,
    SubscriptionState,
};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Simulated seconds per real second: the 10-minute reauthorize/PATCH rule spans 10 s.
const SPEED: f64 = 60.0;

/// Graph requests seen by the proxy: (method, path and query).
#[derive(Clone, Default)]
struct Traffic {
    seen: Arc<Mutex<Vec<(String, String)>>>,
    /// Real milliseconds each PATCH answer is held back.
    patch_delay_ms: Arc<AtomicU64>,
}

impl Traffic {
    /// Graph calls (not login) seen so far.
    fn graph_calls(&self) -> Vec<(String, String)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, path)| path.starts_with("/v1.0/"))
            .cloned()
            .collect()
    }

    /// The calls an order could make: subscription writes and export reads. (Diagnosis and
    /// the credential probe read other things in the background.)
    fn order_calls(&self) -> Vec<(String, String)> {
        self.graph_calls()
            .into_iter()
            .filter(|(method, path)| {
                (method != "GET" && path.starts_with("/v1.0/subscriptions"))
                    || path.contains("getAllEnterpriseInteractions")
            })
            .collect()
    }

    fn calls_since(&self, before: usize) -> Vec<(String, String)> {
        self.order_calls().split_off(before)
    }

    /// Subscription writes since `before` (a recreate's gap fill reads the export API too).
    fn writes_since(&self, before: usize) -> Vec<(String, String)> {
        self.calls_since(before)
            .into_iter()
            .filter(|(_, path)| path.starts_with("/v1.0/subscriptions"))
            .collect()
    }
}

struct Proxy {
    client: reqwest::Client,
    target: String,
    traffic: Traffic,
}

/// Forwards one request to the simulator verbatim (its `Host` too, so the simulator's
/// `@odata.nextLink`s point back at the proxy), recording it.
async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    proxy
        .traffic
        .seen
        .lock()
        .unwrap()
        .push((parts.method.to_string(), path.clone()));
    if parts.method == reqwest::Method::PATCH {
        let delay = proxy.traffic.patch_delay_ms.load(Ordering::SeqCst);
        tokio::time::sleep(StdDuration::from_millis(delay)).await;
    }
    let body = to_bytes(body, 64 << 20).await.unwrap();
    let mut outbound = proxy
        .client
        .request(parts.method.clone(), format!("{}{path}", proxy.target));
    for (name, value) in &parts.headers {
        if name != axum::http::header::CONTENT_LENGTH {
            outbound = outbound.header(name, value);
        }
    }
    let answer = outbound.body(body).send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != axum::http::header::CONTENT_LENGTH
            && name != axum::http::header::TRANSFER_ENCODING
        {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from(answer.bytes().await.unwrap()))
        .unwrap()
}

/// A collector for the simulator's tenant, its Graph traffic recorded.
struct Running {
    sim: TestSim,
    collector: Collector,
    traffic: Traffic,
    profile: String,
    _data: tempfile::TempDir,
    _proxy: JoinHandle<()>,
}

impl Running {
    async fn start(scope: SubscriptionScope) -> Self {
        let sim = TestSim::start_with(SimOptions {
            speed: SPEED,
            ..SimOptions::loopback(Scenario::load("healthy").unwrap())
        })
        .await;
        let traffic = Traffic::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base: url::Url = format!("http://{}", listener.local_addr().unwrap())
            .parse()
            .unwrap();
        let proxy = Arc::new(Proxy {
            client: reqwest::Client::new(),
            target: sim.sim.base_url().trim_end_matches('/').to_owned(),
            traffic: traffic.clone(),
        });
        let router = axum::Router::new().fallback(forward).with_state(proxy);
        let proxy = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });

        let data = tempfile::tempdir().unwrap();
        let mut profile = sim_profile(&sim.sim, data.path()).unwrap();
        profile.cloud = Cloud::Custom {
            authority: base.clone(),
            graph: base,
        };
        profile.subscription_scope = scope;
        let clock: SharedClock = sim.sim.state.clock.clone();
        let mut options = CollectorOptions::new(data.path());
        // The polling loop reads only the last minute and reconciles rarely, so a backfill
        // order's window is its own and its export calls are the only ones.
        options.poll.initial_backfill = Duration::minutes(1);
        options.poll.reconcile_every = Duration::days(30);
        let name = profile.name.clone();
        let collector = Collector::start(&[profile], clock, options).await.unwrap();
        let running = Self {
            sim,
            collector,
            traffic,
            profile: name,
            _data: data,
            _proxy: proxy,
        };
        // The initial backfill's export reads are over before a test counts requests.
        let deadline = Instant::now() + StdDuration::from_secs(8);
        while running.polls(PollTrigger::Backfill).is_empty() {
            assert!(Instant::now() < deadline, "the initial backfill in time");
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
        running
    }

    fn now(&self) -> DateTime<Utc> {
        self.sim.sim.state.now()
    }

    /// Waits (bounded) for `count` active subscriptions in the registry.
    async fn subscriptions(&self, count: usize) -> Vec<SubscriptionRecord> {
        let deadline = Instant::now() + StdDuration::from_secs(8);
        loop {
            let active = self
                .collector
                .store()
                .subscriptions()
                .active(&self.profile)
                .unwrap();
            if active.len() >= count {
                return active;
            }
            assert!(Instant::now() < deadline, "{count} subscriptions in time");
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
    }

    async fn subscription(&self) -> SubscriptionRecord {
        self.subscriptions(1).await.remove(0)
    }

    fn record(&self, id: &str) -> SubscriptionRecord {
        self.collector
            .store()
            .subscriptions()
            .get(id)
            .unwrap()
            .unwrap()
    }

    /// The simulator's view of subscription `id`: (expiry, last PATCH, last reauthorize call,
    /// reauthorize/PATCH pairs within 10 minutes), or `None` when Graph has no such one.
    fn at_graph(&self, id: &str) -> Option<AtGraph> {
        let state = &self.sim.sim.state;
        let registry = state.registry();
        registry.get(id, state.now()).map(|record| AtGraph {
            expires_at: record.subscription.expiration_date_time,
            renewed: record.last_renewed,
            reauthorize_called: record.last_reauthorize_call,
            pairs: record.reauthorize_patch_pairs,
            certificate_id: record.subscription.encryption_certificate_id.clone(),
            lifecycle_url: record.subscription.lifecycle_notification_url.clone(),
            resource: record.subscription.resource.clone(),
        })
    }

    /// Everything the simulator knows of the live subscriptions.
    fn graph_state(&self) -> Vec<(String, AtGraph)> {
        let ids: Vec<String> = {
            let state = &self.sim.sim.state;
            let registry = state.registry();
            registry
                .live(state.now())
                .map(|record| record.subscription.id.clone())
                .collect()
        };
        ids.into_iter()
            .filter_map(|id| self.at_graph(&id).map(|at| (id, at)))
            .collect()
    }

    fn keeper_events(&self) -> Vec<(KeeperAction, Outcome, String)> {
        self.collector
            .store()
            .events()
            .recent(10_000)
            .unwrap()
            .into_iter()
            .filter_map(|event| match event.kind {
                EventKind::Keeper {
                    action, outcome, ..
                } => Some((action, outcome, event.message)),
                _ => None,
            })
            .collect()
    }

    fn polls(&self, wanted: PollTrigger) -> Vec<(u64, u64, Outcome)> {
        self.collector
            .store()
            .events()
            .recent(10_000)
            .unwrap()
            .into_iter()
            .filter_map(|event| match event.kind {
                EventKind::Poll {
                    trigger,
                    fetched,
                    new,
                    outcome,
                    ..
                } if trigger == wanted => Some((fetched, new, outcome)),
                _ => None,
            })
            .collect()
    }

    fn operator_event(&self, action: KeeperAction) -> bool {
        self.keeper_events().iter().any(|(a, outcome, message)| {
            *a == action && *outcome == Outcome::Succeeded && message.contains("operator")
        })
    }

    async fn stop(self) {
        self.collector.shutdown().await;
        self.sim.stop().await;
    }
}

#[derive(Debug, Clone, PartialEq)]
struct AtGraph {
    expires_at: DateTime<Utc>,
    renewed: Option<DateTime<Utc>>,
    reauthorize_called: Option<DateTime<Utc>>,
    pairs: u32,
    certificate_id: Option<String>,
    lifecycle_url: Option<String>,
    resource: String,
}

fn is_patch_of(call: &(String, String), id: &str) -> bool {
    call.0 == "PATCH" && call.1 == format!("/v1.0/subscriptions/{id}")
}

fn is_reauthorize_of(call: &(String, String), id: &str) -> bool {
    call.0 == "POST" && call.1 == format!("/v1.0/subscriptions/{id}/reauthorize")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_is_one_patch_that_moves_the_expiry() {
    let running = Running::start(SubscriptionScope::Tenant).await;
    let before = running.subscription().await;
    assert_eq!(running.at_graph(&before.id).unwrap().renewed, None);
    // A minute and a half of simulated time, so the new expiry is visibly later.
    tokio::time::sleep(StdDuration::from_millis(1_500)).await;
    let calls = running.traffic.order_calls().len();

    let report = running
        .collector
        .renew(&running.profile, &before.id)
        .await
        .unwrap();
    let ActionReport::Renewed {
        subscription,
        expires_at,
        next_renewal,
        ..
    } = report.clone()
    else {
        panic!("a renewal report: {report:?}");
    };
    assert_eq!(subscription, before.id);
    assert!(
        expires_at > before.expires_at + Duration::minutes(1),
        "{expires_at} vs {}",
        before.expires_at
    );
    assert!(next_renewal > running.now() && next_renewal < expires_at);
    assert!(report.to_string().contains(&before.id), "{report}");

    let sent = running.traffic.calls_since(calls);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(is_patch_of(&sent[0], &before.id), "{sent:?}");
    let at_graph = running.at_graph(&before.id).unwrap();
    assert!(at_graph.renewed.is_some(), "Graph saw the PATCH");
    assert_eq!(at_graph.expires_at, expires_at);
    let stored = running.record(&before.id);
    assert_eq!(stored.expires_at, expires_at);
    assert!(stored.last_renewed_at.is_some());
    assert!(
        running.operator_event(KeeperAction::Renew),
        "{:?}",
        running.keeper_events()
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reauthorize_hits_reauthorize_and_keeps_patches_ten_minutes_away() {
    let running = Running::start(SubscriptionScope::Tenant).await;
    let before = running.subscription().await;
    let calls = running.traffic.order_calls().len();

    let report = running
        .collector
        .reauthorize(&running.profile, &before.id)
        .await
        .unwrap();
    assert_eq!(
        report,
        ActionReport::Reauthorized {
            profile: running.profile.clone(),
            subscription: before.id.clone(),
            expires_at: before.expires_at,
        }
    );
    let sent = running.traffic.calls_since(calls);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(is_reauthorize_of(&sent[0], &before.id), "{sent:?}");
    let at_graph = running.at_graph(&before.id).unwrap();
    assert!(at_graph.reauthorize_called.is_some());
    assert_eq!(
        at_graph.expires_at, before.expires_at,
        "a reauthorize keeps the expiry"
    );
    assert!(running.record(&before.id).last_reauthorized_at.is_some());
    assert!(running.operator_event(KeeperAction::Reauthorize));

    // A PATCH now would break Graph's 10-minute rule: refused, nothing sent.
    let calls = running.traffic.order_calls().len();
    let refused = running
        .collector
        .renew(&running.profile, &before.id)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, CollectorCommandError::TooSoon { .. }),
        "{refused}"
    );
    assert!(refused.is_refusal());
    assert!(running.traffic.calls_since(calls).is_empty());
    let at_graph = running.at_graph(&before.id).unwrap();
    assert_eq!(at_graph.renewed, None);
    assert_eq!(at_graph.pairs, 0);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreate_replaces_the_subscription_at_graph_and_backfills_the_gap() {
    let running = Running::start(SubscriptionScope::Tenant).await;
    let old = running.subscription().await;
    let old_at_graph = running.at_graph(&old.id).unwrap();
    let calls = running.traffic.order_calls().len();

    let report = running
        .collector
        .recreate(&running.profile, &old.id)
        .await
        .unwrap();
    let ActionReport::Recreated {
        replaced,
        subscription: new,
        expires_at,
        ..
    } = report
    else {
        panic!("a recreation report");
    };
    assert_eq!(replaced, old.id);
    assert_ne!(new, old.id);

    assert_eq!(
        running.at_graph(&old.id),
        None,
        "the old one is gone at Graph"
    );
    let new_at_graph = running.at_graph(&new).expect("Graph has the new one");
    assert_eq!(new_at_graph.expires_at, expires_at);
    assert_eq!(new_at_graph.resource, old_at_graph.resource);
    assert_eq!(new_at_graph.certificate_id, old_at_graph.certificate_id);
    assert_eq!(new_at_graph.lifecycle_url, old_at_graph.lifecycle_url);
    let sent = running.traffic.writes_since(calls);
    assert_eq!(
        sent,
        vec![
            (
                "DELETE".to_owned(),
                format!("/v1.0/subscriptions/{}", old.id)
            ),
            ("POST".to_owned(), "/v1.0/subscriptions".to_owned()),
        ]
    );
    assert_eq!(running.record(&old.id).state, SubscriptionState::Replaced);
    assert_eq!(running.record(&new).state, SubscriptionState::Active);
    assert!(running.operator_event(KeeperAction::Delete));

    // The gap between the two is read from the export API.
    let deadline = Instant::now() + StdDuration::from_secs(8);
    while running.polls(PollTrigger::GapFill).is_empty() {
        assert!(Instant::now() < deadline, "a gap fill after the recreate");
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }

    // The old id is no longer kept: orders on it are refused, with nothing sent.
    let calls = running.traffic.order_calls().len();
    let refused = running
        .collector
        .renew(&running.profile, &old.id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            CollectorCommandError::NotKept {
                state: SubscriptionState::Replaced,
                ..
            }
        ),
        "{refused}"
    );
    assert!(running.traffic.calls_since(calls).is_empty());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_stores_the_windows_interactions_and_counts_them() {
    let running = Running::start(SubscriptionScope::Tenant).await;
    let now = running.now();
    let (from, to) = (now - Duration::hours(30), now - Duration::hours(1));
    let expected: BTreeSet<String> = {
        let state = &running.sim.sim.state;
        let log = state.interactions.read().unwrap();
        log.iter()
            .filter(|g| state.is_licensed(&g.user_id))
            .filter(|g| {
                let at = g.interaction.created_date_time;
                at >= from && at < to
            })
            .map(|g| g.interaction.id.clone())
            .collect()
    };
    assert!(
        !expected.is_empty(),
        "the simulator seeds history in the window"
    );
    let calls = running.traffic.order_calls().len();

    let report = running
        .collector
        .backfill(&running.profile, from, to)
        .await
        .unwrap();
    let ActionReport::Backfilled(poll) = &report else {
        panic!("a backfill report: {report:?}");
    };
    assert!(poll.complete(), "{poll:?}");
    assert_eq!(poll.fetched, expected.len() as u64);
    assert_eq!(
        poll.new, poll.fetched,
        "nothing in the window was stored before"
    );
    assert!(
        report.to_string().contains(&format!("{} new", poll.new)),
        "{report}"
    );
    let store = running.collector.store();
    for id in &expected {
        assert!(
            store.interactions().get(id).unwrap().is_some(),
            "{id} stored"
        );
    }
    assert!(
        running
            .traffic
            .calls_since(calls)
            .iter()
            .all(|(method, path)| method == "GET" && path.contains("getAllEnterpriseInteractions")),
        "only export reads"
    );
    assert_eq!(
        running.polls(PollTrigger::Operator),
        vec![(poll.fetched, poll.new, Outcome::Succeeded)],
        "recorded as operator-requested"
    );

    // Again: everything is already there.
    let again = running
        .collector
        .backfill(&running.profile, from, to)
        .await
        .unwrap();
    let ActionReport::Backfilled(again) = again else {
        panic!("a backfill report");
    };
    assert_eq!((again.fetched, again.new), (poll.fetched, 0));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_orders_are_refused_and_reach_no_graph_endpoint() {
    let running = Running::start(SubscriptionScope::Tenant).await;
    let kept = running.subscription().await;
    let other = SubscriptionRecord {
        id: "other-profiles-subscription".into(),
        profile: "other".into(),
        state: SubscriptionState::Active,
        client_state: ClientState::new("x"),
        ..kept.clone()
    };
    running
        .collector
        .store()
        .subscriptions()
        .put(&other)
        .unwrap();
    let graph_before = running.graph_state();
    let events_before = running.keeper_events().len();
    let calls = running.traffic.order_calls().len();
    let (collector, profile) = (&running.collector, running.profile.as_str());

    let refused = collector.renew("nobody", &kept.id).await.unwrap_err();
    assert!(
        matches!(&refused, CollectorCommandError::UnknownProfile { known, .. } if known == &[profile.to_owned()]),
        "{refused}"
    );
    assert!(refused.to_string().contains(profile));
    for id in ["no-such-subscription", "../users?$top=1", ""] {
        for refused in [
            collector.renew(profile, id).await.unwrap_err(),
            collector.reauthorize(profile, id).await.unwrap_err(),
            collector.recreate(profile, id).await.unwrap_err(),
        ] {
            assert!(
                matches!(refused, CollectorCommandError::UnknownSubscription { .. }),
                "{refused}"
            );
        }
    }
    let refused = collector.recreate(profile, &other.id).await.unwrap_err();
    assert!(
        matches!(&refused, CollectorCommandError::OtherProfile { owner, .. } if owner == "other"),
        "{refused}"
    );

    let now = running.now();
    let hour = Duration::hours(1);
    let windows = [
        (now - hour, now - hour),
        (now - hour, now - hour * 2),
        (now - hour, now + hour),
        (now + hour, now + hour * 2),
        (now - Duration::days(8), now - hour),
        (now - Duration::days(8), now - Duration::days(8) + hour),
    ];
    for (from, to) in windows {
        let refused = collector.backfill(profile, from, to).await.unwrap_err();
        assert!(refused.is_refusal(), "{refused}");
        assert!(
            matches!(
                refused,
                CollectorCommandError::EmptyWindow { .. }
                    | CollectorCommandError::FutureWindow { .. }
                    | CollectorCommandError::WindowTooLong { .. }
                    | CollectorCommandError::WindowTooOld { .. }
            ),
            "{refused}"
        );
    }
    let refused = collector
        .backfill("nobody", now - hour, now)
        .await
        .unwrap_err();
    assert!(matches!(
        refused,
        CollectorCommandError::UnknownProfile { .. }
    ));

    assert!(
        running.traffic.calls_since(calls).is_empty(),
        "no request reached Graph"
    );
    assert_eq!(
        running.graph_state(),
        graph_before,
        "Graph's subscriptions are untouched"
    );
    assert_eq!(
        running.keeper_events().len(),
        events_before,
        "no keeper action recorded"
    );
    assert!(running.polls(PollTrigger::Operator).is_empty());
    assert_eq!(running.record(&kept.id), kept, "the registry is untouched");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_to_a_keeper_busy_renewing_wait_their_turn() {
    let running = Running::start(SubscriptionScope::Tenant).await;
    let kept = running.subscription().await;
    running
        .traffic
        .patch_delay_ms
        .store(1_000, Ordering::SeqCst);
    let calls = running.traffic.order_calls().len();
    let first = {
        let collector = &running.collector;
        let (profile, id) = (running.profile.clone(), kept.id.clone());
        async move { collector.renew(&profile, &id).await }
    };
    let later = async {
        // Once the first PATCH is at Graph (and held there), the keeper is mid-renewal.
        let deadline = Instant::now() + StdDuration::from_secs(5);
        while running.traffic.calls_since(calls).is_empty() {
            assert!(Instant::now() < deadline, "the first PATCH in time");
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        tokio::join!(
            running.collector.reauthorize(&running.profile, &kept.id),
            running.collector.renew(&running.profile, &kept.id),
        )
    };
    let (first, (reauthorize, second)) = tokio::time::timeout(StdDuration::from_secs(8), async {
        tokio::join!(first, later)
    })
    .await
    .expect("every order is answered");

    let first = first.unwrap();
    let second = second.unwrap();
    let reauthorize = reauthorize.unwrap_err();
    assert!(
        matches!(reauthorize, CollectorCommandError::TooSoon { .. }),
        "the reauthorize was served after the renewal, inside its 10 minutes: {reauthorize}"
    );
    let (
        ActionReport::Renewed {
            expires_at: one, ..
        },
        ActionReport::Renewed {
            expires_at: two, ..
        },
    ) = (&first, &second)
    else {
        panic!("two renewals: {first:?} {second:?}");
    };
    assert!(two >= one);
    let sent = running.traffic.calls_since(calls);
    assert_eq!(sent.len(), 2, "two PATCHes, one after the other: {sent:?}");
    assert!(sent.iter().all(|call| is_patch_of(call, &kept.id)));
    let at_graph = running.at_graph(&kept.id).unwrap();
    assert_eq!(
        at_graph.pairs, 0,
        "never a reauthorize within 10 minutes of a PATCH"
    );
    assert_eq!(at_graph.expires_at, *two);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_per_user_scope_the_id_selects_one_users_subscription() {
    let running = Running::start(SubscriptionScope::PerUser).await;
    let licensed = {
        let state = &running.sim.sim.state;
        state
            .tenant
            .users
            .iter()
            .filter(|user| state.is_licensed(&user.id))
            .count()
    };
    assert!(licensed >= 2, "the simulator licenses several users");
    let kept = running.subscriptions(licensed).await;
    let (chosen, others) = kept.split_first().unwrap();
    let calls = running.traffic.order_calls().len();

    running
        .collector
        .renew(&running.profile, &chosen.id)
        .await
        .unwrap();
    assert!(running.at_graph(&chosen.id).unwrap().renewed.is_some());
    for other in others {
        assert_eq!(
            running.at_graph(&other.id).unwrap().renewed,
            None,
            "{} untouched",
            other.id
        );
    }

    let target = &others[0];
    let report = running
        .collector
        .recreate(&running.profile, &target.id)
        .await
        .unwrap();
    let ActionReport::Recreated {
        subscription: new, ..
    } = report
    else {
        panic!("a recreation report");
    };
    assert_eq!(running.at_graph(&target.id), None);
    assert_eq!(
        running.at_graph(&new).unwrap().resource,
        target.resource,
        "the same user's resource"
    );
    let live: BTreeSet<String> = running
        .graph_state()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for untouched in kept.iter().filter(|record| record.id != target.id) {
        assert!(live.contains(&untouched.id), "{} still there", untouched.id);
    }
    let sent = running.traffic.writes_since(calls);
    assert_eq!(sent.len(), 3, "one PATCH, one DELETE, one POST: {sent:?}");
    assert!(is_patch_of(&sent[0], &chosen.id));
    running.stop().await;
}
