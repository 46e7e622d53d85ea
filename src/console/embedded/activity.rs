//! Users × apps: prompts, responses and the last activity of each user in each Copilot app,
//! counted newest first over at most [`MAX_COUNTED`] interactions (the view says when it
//! stopped short, and since when the counts hold). Display names come from the collector's
//! directory (resolved through Graph in the background, so a later view has more of them), or
//! from a prompt's `from` when that is a name rather than the usual MRI.
//!
//! Depends on the store, the console's query types and the collector's name directory.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::feed::Matcher;
use super::{Backend, read_store};
use crate::collector::names::readable;
use crate::console::{ActivityRow, ActivityView, ConsoleError, FeedFilter};
use crate::store::records::InteractionRecord;
use crate::store::{Interactions, StoreError};

/// Most interactions one activity view examines.
pub const MAX_COUNTED: u64 = 200_000;

/// Graph's spelling of the two interaction types counted.
const PROMPT: &str = "userPrompt";
const RESPONSE: &str = "aiResponse";

/// Counts interactions matching `filter`, newest first, examining at most `max_examined`.
pub fn count_activity(
    interactions: &Interactions,
    filter: &FeedFilter,
    max_examined: u64,
) -> Result<ActivityView, StoreError> {
    let matcher = Matcher::new(filter);
    let mut tally = Tally::default();
    let end = interactions.visit_newest_first(None, max_examined, |record| {
        if matcher.matches(record) {
            tally.count(record);
        }
        ControlFlow::Continue(())
    })?;
    Ok(tally.into_view(end.resume.is_some()))
}

/// Answers an activity request.
pub(super) async fn activity(
    backend: Arc<Backend>,
    filter: FeedFilter,
) -> Result<ActivityView, ConsoleError> {
    read_store(&backend, move |backend| {
        let mut view = count_activity(&backend.store.interactions(), &filter, MAX_COUNTED)?;
        let names = backend
            .names
            .names_for(view.rows.iter().map(|row| row.user_id.as_str()));
        for row in &mut view.rows {
            if let Some(name) = names.get(&row.user_id) {
                row.user_name = Some(name.clone());
            }
        }
        Ok(view)
    })
    .await
}

#[derive(Debug, Default)]
struct Tally {
    rows: HashMap<(String, String), ActivityRow>,
    counted: u64,
    since: Option<DateTime<Utc>>,
}

impl Tally {
    fn count(&mut self, record: &InteractionRecord) {
        self.counted += 1;
        self.since = Some(
            self.since
                .map_or(record.created_at, |since| since.min(record.created_at)),
        );
        let user = record.user_id.clone().unwrap_or_default();
        let row = self
            .rows
            .entry((user.clone(), record.app_class.clone()))
            .or_insert_with(|| ActivityRow {
                user_id: user,
                user_name: None,
                app: record.app_class.clone(),
                prompts: 0,
                responses: 0,
                last_at: record.created_at,
            });
        row.last_at = row.last_at.max(record.created_at);
        match record.interaction_type.as_str() {
            PROMPT => {
                row.prompts += 1;
                // A response's sender is the Copilot app, never the user: only prompts name them.
                if row.user_name.is_none() && record.user_id.is_some() {
                    row.user_name = readable(record.from_display_name.clone());
                }
            }
            RESPONSE => row.responses += 1,
            _ => {}
        }
    }

    fn into_view(self, truncated: bool) -> ActivityView {
        let mut rows: Vec<ActivityRow> = self.rows.into_values().collect();
        rows.sort_by(|a, b| {
            b.last_at
                .cmp(&a.last_at)
                .then_with(|| a.user_id.cmp(&b.user_id))
                .then_with(|| a.app.cmp(&b.app))
        });
        ActivityView {
            rows,
            counted: self.counted,
            truncated,
            since: self.since,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::store::records::InteractionSource;

    fn record(user: Option<&str>, kind: &str, app: &str, minute: u32) -> InteractionRecord {
        let created_at: DateTime<Utc> = format!("2026-11-22T08:{minute:02}:00Z").parse().unwrap();
        InteractionRecord {
            id: format!("{minute}-{kind}"),
            user_id: user.map(str::to_owned),
            session_id: None,
            request_id: None,
            app_class: app.into(),
            interaction_type: kind.into(),
            conversation_type: None,
            created_at,
            from_display_name: Some(if kind == PROMPT { "Ann" } else { "Copilot" }.into()),
            attachments: 0,
            links: 0,
            contexts: 0,
            body: None,
            source: InteractionSource::Poll,
            first_seen_at: created_at,
        }
    }

    #[test]
    fn users_and_apps_are_counted_newest_first_with_names_from_prompts() {
        let mut tally = Tally::default();
        tally.count(&record(Some("u-1"), RESPONSE, "Word", 3));
        tally.count(&record(Some("u-1"), PROMPT, "Word", 2));
        tally.count(&record(Some("u-1"), PROMPT, "Excel", 5));
        tally.count(&record(None, RESPONSE, "Excel", 1));
        let view = tally.into_view(true);
        assert_eq!((view.counted, view.truncated), (4, true));
        assert_eq!(view.since, Some("2026-11-22T08:01:00Z".parse().unwrap()));
        let summary: Vec<_> = view
            .rows
            .iter()
            .map(|row| {
                (
                    row.user_id.as_str(),
                    row.app.as_str(),
                    row.prompts,
                    row.responses,
                    row.user_name.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("u-1", "Excel", 1, 0, Some("Ann")),
                ("u-1", "Word", 1, 1, Some("Ann")),
                ("", "Excel", 0, 1, None),
            ]
        );
    }
}
