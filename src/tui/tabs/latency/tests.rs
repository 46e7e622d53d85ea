//! The Latency tab's state: which window and profile it asks for, when, and which answers it
//! keeps (stale ones are dropped without a redraw). Pure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Utc};

use super::*;
use crate::console::{ConsoleError, FeedFilter, LatencyPoint};
use crate::tui::theme::Theme;

fn now() -> DateTime<Utc> {
    "2026-09-22T08:00:00Z".parse().unwrap()
}

fn context(theme: &Theme) -> TabContext<'_> {
    TabContext {
        snapshot: None,
        profile: None,
        now: now(),
        theme,
        readonly: false,
        last_outcome: None,
        pending: false,
    }
}

fn view(window: LatencyWindow, p50: f64) -> LatencyView {
    let point = LatencyPoint {
        at: now(),
        count: 3,
        p50,
        p95: p50,
        p99: p50,
        max: p50,
    };
    LatencyView {
        window,
        until: now(),
        series: vec![point],
        overall: Some(point),
        histogram: vec![(5.0, 3)],
        by_app: Vec::new(),
        ack: None,
        ours: None,
    }
}

fn asked(reply: TabReply) -> LatencyQuery {
    match reply {
        TabReply::Query(Query::Latency(query)) => query,
        other => panic!("expected a latency query, got {other:?}"),
    }
}

#[test]
fn windows_cycle_both_ways_through_all_three() {
    let mut window = LatencyWindow::FifteenMinutes;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(window);
        window = next_window(window);
    }
    assert_eq!(window, LatencyWindow::FifteenMinutes);
    assert_eq!(seen.len(), 3);
    for window in seen {
        assert_eq!(previous_window(next_window(window)), window);
    }
}

#[test]
fn changing_the_window_asks_for_it_and_other_keys_are_not_the_tabs() {
    let theme = Theme::plain();
    let context = context(&theme);
    let mut state = State::default();
    assert_eq!(
        state.window,
        LatencyWindow::Hour,
        "starts where diagnosis judges"
    );
    let query = asked(state.handle(Action::NextWindow, &context));
    assert_eq!(query.window, LatencyWindow::Day);
    assert_eq!(query.profile, None);
    let query = asked(state.handle(Action::PreviousWindow, &context));
    assert_eq!(query.window, LatencyWindow::Hour);
    assert!(matches!(
        state.handle(Action::Down, &context),
        TabReply::Ignored
    ));
    assert_eq!(
        state.wanted(&context),
        Some(Query::Latency(state.query(&context)))
    );
}

#[test]
fn answers_for_a_window_no_longer_shown_are_dropped() {
    let theme = Theme::plain();
    let context = context(&theme);
    let mut state = State::default();
    let hour = state.query(&context);
    asked(state.handle(Action::NextWindow, &context));
    let stale = Answer::Latency(hour.clone(), Ok(view(LatencyWindow::Hour, 2.0)));
    assert!(
        !state.answer(stale, &context),
        "the hour is no longer shown"
    );
    assert_eq!(state.current(&context), (None, None));

    let day = state.query(&context);
    let fresh = Answer::Latency(day.clone(), Ok(view(LatencyWindow::Day, 3.0)));
    assert!(state.answer(fresh.clone(), &context));
    assert!(
        !state.answer(fresh, &context),
        "the same numbers change nothing"
    );
    assert_eq!(
        state.current(&context).0.map(|v| v.window),
        Some(LatencyWindow::Day)
    );

    let other = Answer::Activity(FeedFilter::default(), Err(ConsoleError::Disconnected));
    assert!(!state.answer(other, &context), "not a latency answer");
}

#[test]
fn an_error_is_kept_beside_the_last_good_numbers_until_the_next_good_answer() {
    let theme = Theme::plain();
    let context = context(&theme);
    let mut state = State::default();
    let query = state.query(&context);
    state.answer(
        Answer::Latency(query.clone(), Ok(view(LatencyWindow::Hour, 2.0))),
        &context,
    );
    assert!(state.answer(
        Answer::Latency(query.clone(), Err(ConsoleError::Disconnected)),
        &context
    ));
    let (view_shown, error) = state.current(&context);
    assert!(view_shown.is_some());
    assert!(error.is_some_and(|error| error.contains("not answering")));
    assert!(state.answer(
        Answer::Latency(query, Ok(view(LatencyWindow::Hour, 2.0))),
        &context
    ));
    assert_eq!(state.current(&context).1, None);
}
