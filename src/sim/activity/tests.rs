//! Unit tests of the history generator (pure: no simulator, no clock).

use std::collections::{HashMap, HashSet};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::graph::model::InteractionType;
use crate::sim::tenant::Tenant;

fn start() -> DateTime<Utc> {
    // A Wednesday afternoon.
    "2026-11-25T14:00:00Z".parse().unwrap()
}

fn generate(seed: u64, activity: &Activity) -> (Tenant, Vec<Generated>) {
    let tenant = Tenant::generate(seed, start());
    let book = ActivityBook::default();
    let users: Vec<&SimUser> = tenant.users.iter().filter(|u| u.has_copilot_seat).collect();
    let synth = Synth::new(&tenant, &book);
    let mut rng = StdRng::seed_from_u64(seed);
    let from = start() - Duration::days(i64::from(activity.history_days));
    let items = history(&mut rng, &synth, &users, activity, from, start());
    drop(users);
    (tenant, items)
}

fn interactions(items: &[Generated]) -> Vec<AiInteraction> {
    items
        .iter()
        .map(|g| g.interaction.as_ref().clone())
        .collect()
}

#[test]
fn same_seed_same_history_other_seed_other_history() {
    let activity = Activity::default();
    let (_, first) = generate(11, &activity);
    let (_, again) = generate(11, &activity);
    let (_, other) = generate(12, &activity);
    assert!(!first.is_empty());
    assert_eq!(interactions(&first), interactions(&again));
    assert_ne!(interactions(&first), interactions(&other));
}

#[test]
fn history_volume_follows_the_rate_and_shape() {
    let activity = Activity::default();
    let (_, items) = generate(5, &activity);
    // Two days ending on a Wednesday afternoon at 240 pairs/h peak: about 11 peak hours a day.
    let pairs = items.len() / 2;
    assert!((3_500..7_500).contains(&pairs), "{pairs} pairs");
    let flat = Activity {
        day_night: false,
        ..Activity::default()
    };
    let (_, flat_items) = generate(5, &flat);
    let flat_pairs = flat_items.len() / 2;
    assert!((10_500..12_600).contains(&flat_pairs), "{flat_pairs} pairs");
    let silent = Activity {
        pairs_per_hour: 0.0,
        ..Activity::default()
    };
    assert!(generate(5, &silent).1.is_empty());
}

#[test]
fn only_licensed_users_and_well_formed_pairs() {
    let (tenant, items) = generate(3, &Activity::default());
    let licensed: HashSet<&str> = tenant
        .users
        .iter()
        .filter(|u| u.has_copilot_seat)
        .map(|u| u.id.as_str())
        .collect();
    let mut ids = HashSet::new();
    let mut by_request: HashMap<&str, Vec<&AiInteraction>> = HashMap::new();
    let mut previous = None;
    for generated in &items {
        let item = generated.interaction.as_ref();
        assert!(licensed.contains(generated.user_id.as_str()));
        assert!(ids.insert(item.id.clone()), "duplicate id {}", item.id);
        assert_eq!(
            item.id,
            item.created_date_time.timestamp_millis().to_string()
        );
        assert_eq!(item.etag.as_deref(), Some(item.id.as_str()));
        assert_ne!(item.created_date_time.timestamp_subsec_millis(), 0);
        assert!(item.session_id.starts_with("19:") && item.session_id.ends_with("@thread.v2"));
        assert!(
            previous.is_none_or(|p| p <= item.created_date_time),
            "not ordered"
        );
        previous = Some(item.created_date_time);
        by_request.entry(&item.request_id).or_default().push(item);
    }
    for (request_id, pair) in by_request {
        let [prompt, response] = pair.as_slice() else {
            panic!("request {request_id} has {} items", pair.len());
        };
        assert_eq!(prompt.interaction_type, InteractionType::UserPrompt);
        assert_eq!(response.interaction_type, InteractionType::AiResponse);
        assert_eq!(prompt.session_id, response.session_id);
        let delay = response.created_date_time - prompt.created_date_time;
        assert!(delay >= Duration::seconds(1) && delay <= Duration::milliseconds(8_100));
        let user = prompt.from.as_ref().and_then(|f| f.user_id()).unwrap();
        assert!(licensed.contains(user));
        let application = response.from.as_ref().and_then(|f| f.application.as_ref());
        assert_eq!(application.unwrap()["applicationIdentityType"], "bot");
        let html = &response.body.as_ref().unwrap().content;
        for attachment in &response.attachments {
            assert!(html.contains(&format!(
                "<attachment id=\"{}\"></attachment>",
                attachment.attachment_id
            )));
        }
    }
}

#[test]
fn experiences_are_mixed_with_chat_and_teams_in_front() {
    let (_, items) = generate(8, &Activity::default());
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for generated in &items {
        *counts
            .entry(generated.interaction.app_class.as_str())
            .or_default() += 1;
    }
    assert_eq!(counts.len(), APP_CLASSES.len(), "{counts:?}");
    let count = |kind: AppKind| counts.get(kind.app_class()).copied().unwrap_or(0);
    assert!(count(AppKind::BizChat) > count(AppKind::Word));
    assert!(count(AppKind::Teams) > count(AppKind::Loop));
    let meetings = items
        .iter()
        .filter(|g| {
            g.interaction
                .contexts
                .iter()
                .any(|c| c.context_type.as_deref() == Some("TeamsMeeting"))
        })
        .count();
    assert!(meetings > 0);
}

#[test]
fn the_default_history_is_fast_enough_to_seed_at_start() {
    let started = std::time::Instant::now();
    let (_, items) = generate(1, &Activity::default());
    let elapsed = started.elapsed();
    assert!(!items.is_empty());
    // About 60 ms in a release build and 150 ms in a debug one on an idle machine; the bound
    // leaves room for a busy test host while still catching an accidental quadratic.
    assert!(elapsed < std::time::Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn an_extreme_rate_generates_only_the_history_the_log_can_keep() {
    let to = start();
    let from = to - Duration::days(30);
    assert_eq!(history_start(from, to, 240.0), from, "the default fits");
    let capped = history_start(from, to, 100_000.0);
    let hours = (to - capped).num_seconds() as f64 / 3600.0;
    let pairs = hours * 100_000.0;
    assert!(capped > from);
    assert!(pairs <= MAX_HISTORY_PAIRS as f64 && pairs > MAX_HISTORY_PAIRS as f64 * 0.99);
}
