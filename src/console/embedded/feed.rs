//! The feed: one page of interactions newest first under a [`FeedFilter`], read with the
//! store's bounded reverse scan so a page costs about the same however large the store is.
//! A rare filter returns a short page with a cursor; the view asks again from there.
//!
//! Also [`Matcher`], the filter's meaning, shared by activity and export; given the collector's
//! [`UserNames`], `user:` also matches display names already resolved. The filter's
//! `profile` is not applied: the store's interaction record does not say which profile
//! fetched it (one store serves every profile, deduplicated by Graph's id).
//!
//! Depends on the store, the console's query types and the collector's name directory.

use std::ops::ControlFlow;
use std::sync::Arc;

use super::{Backend, read_store};
use crate::collector::names::UserNames;
use crate::console::{ConsoleError, FeedCursor, FeedFilter, FeedPage, FeedQuery};
use crate::graph::model::well_known;
use crate::store::records::InteractionRecord;
use crate::store::{IndexPosition, Interactions, StoreError};

/// Most index entries one page examines: a rare filter stops here and returns a cursor.
pub const MAX_EXAMINED_PER_PAGE: u64 = 20_000;

/// Most rows one page returns, whatever the view asks.
pub const MAX_PAGE_ROWS: usize = 1_000;

/// A [`FeedFilter`] ready to test records: case-insensitive substrings, every given field
/// must match.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    names: Option<UserNames>,
    app: Option<String>,
    user: Option<String>,
    interaction_type: Option<String>,
    text: Option<String>,
}

impl Matcher {
    /// The matcher of `filter` (its `profile` is not applied; see the module documentation).
    pub fn new(filter: &FeedFilter) -> Self {
        let needle = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_lowercase)
        };
        Self {
            names: None,
            app: needle(&filter.app),
            user: needle(&filter.user),
            interaction_type: needle(&filter.interaction_type),
            text: needle(&filter.text),
        }
    }

    /// Also matches `user:` against the display names `names` knows (never asking for more).
    pub fn with_names(mut self, names: UserNames) -> Self {
        self.names = Some(names);
        self
    }

    /// Whether `record` passes.
    pub fn matches(&self, record: &InteractionRecord) -> bool {
        let name = match (&self.user, &self.names, record.user_id.as_deref()) {
            (Some(_), Some(names), Some(id)) => names.known(id),
            _ => None,
        };
        let user = [
            record.user_id.as_deref(),
            record.from_display_name.as_deref(),
            name.as_deref(),
        ];
        let app = well_known::app_name(&record.app_class);
        check(&self.app, [Some(app)])
            && check(&self.user, user)
            && check(
                &self.interaction_type,
                [Some(record.interaction_type.as_str())],
            )
            && check(
                &self.text,
                [
                    Some(app),
                    record.user_id.as_deref(),
                    record.from_display_name.as_deref(),
                    Some(record.interaction_type.as_str()),
                    record.session_id.as_deref(),
                    record.body.as_deref(),
                ],
            )
    }
}

/// True without a needle; otherwise when any present field contains it.
fn check<'a>(needle: &Option<String>, fields: impl IntoIterator<Item = Option<&'a str>>) -> bool {
    let Some(needle) = needle else {
        return true;
    };
    fields
        .into_iter()
        .flatten()
        .any(|field| field.to_lowercase().contains(needle.as_str()))
}

/// One page of matching interactions strictly older than `after`, newest first.
pub fn read_page(
    interactions: &Interactions,
    query: &FeedQuery,
    max_examined: u64,
) -> Result<FeedPage, StoreError> {
    read_matching(
        interactions,
        query,
        max_examined,
        &Matcher::new(&query.filter),
    )
}

/// [`read_page`] with a matcher of the caller's (one that knows display names).
pub fn read_matching(
    interactions: &Interactions,
    query: &FeedQuery,
    max_examined: u64,
    matcher: &Matcher,
) -> Result<FeedPage, StoreError> {
    let limit = query.limit.min(MAX_PAGE_ROWS);
    let after = query.after.as_ref().map(|cursor| IndexPosition {
        created_at: cursor.created_at,
        id: cursor.id.clone(),
    });
    let mut rows = Vec::new();
    let end = if limit == 0 {
        // Nothing asked: the view keeps its place.
        crate::store::ScanEnd {
            examined: 0,
            resume: after.clone(),
        }
    } else {
        interactions.visit_newest_first(after.as_ref(), max_examined, |record| {
            if matcher.matches(record) {
                rows.push(record.clone());
            }
            if rows.len() >= limit {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?
    };
    Ok(FeedPage {
        rows,
        next: end.resume.map(|position| FeedCursor {
            created_at: position.created_at,
            id: position.id,
        }),
        scanned: end.examined,
        ..FeedPage::default()
    })
}

/// Answers a feed request.
pub(super) async fn page(
    backend: Arc<Backend>,
    query: FeedQuery,
) -> Result<FeedPage, ConsoleError> {
    read_store(&backend, move |backend| {
        let matcher = Matcher::new(&query.filter).with_names(backend.names.clone());
        let mut page = read_matching(
            &backend.store.interactions(),
            &query,
            MAX_EXAMINED_PER_PAGE,
            &matcher,
        )?;
        page.names = backend
            .names
            .names_for(page.rows.iter().filter_map(|row| row.user_id.as_deref()));
        page.names_unavailable = backend.names.unavailable();
        Ok(page)
    })
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::store::records::InteractionSource;

    fn record() -> InteractionRecord {
        InteractionRecord {
            id: "1".into(),
            user_id: Some("u-ann".into()),
            session_id: Some("19:Session@thread".into()),
            request_id: None,
            app_class: "IPM.SkypeTeams.Message.Copilot.Word".into(),
            interaction_type: "userPrompt".into(),
            conversation_type: None,
            created_at: "2026-11-22T08:00:00Z".parse().unwrap(),
            from_display_name: Some("Ann Example".into()),
            attachments: 0,
            links: 0,
            contexts: 0,
            body: Some("Quarterly numbers".into()),
            source: InteractionSource::Poll,
            first_seen_at: "2026-11-22T08:00:01Z".parse().unwrap(),
        }
    }

    fn matches(filter: FeedFilter) -> bool {
        Matcher::new(&filter).matches(&record())
    }

    #[test]
    fn the_app_is_matched_by_its_name_not_the_shared_class_prefix() {
        // Every Copilot appClass contains "SkypeTeams": `app:teams` must still miss Word.
        assert!(!matches(FeedFilter {
            app: Some("teams".into()),
            ..FeedFilter::default()
        }));
        assert!(!matches(FeedFilter {
            text: Some("skypeteams".into()),
            ..FeedFilter::default()
        }));
    }

    #[test]
    fn every_field_narrows_case_insensitively() {
        assert!(matches(FeedFilter::default()));
        assert!(matches(FeedFilter {
            app: Some("word".into()),
            user: Some("ANN".into()),
            interaction_type: Some("prompt".into()),
            ..FeedFilter::default()
        }));
        assert!(!matches(FeedFilter {
            app: Some("excel".into()),
            ..FeedFilter::default()
        }));
        assert!(!matches(FeedFilter {
            app: Some("word".into()),
            interaction_type: Some("aiResponse".into()),
            ..FeedFilter::default()
        }));
    }

    #[test]
    fn text_searches_the_session_and_the_body_too() {
        for text in ["session@", "quarterly", "u-ann", "word"] {
            assert!(
                matches(FeedFilter {
                    text: Some(text.into()),
                    ..FeedFilter::default()
                }),
                "{text}"
            );
        }
        assert!(!matches(FeedFilter {
            text: Some("budget".into()),
            ..FeedFilter::default()
        }));
    }

    #[test]
    fn blank_needles_and_the_profile_do_not_narrow() {
        assert!(matches(FeedFilter {
            user: Some("  ".into()),
            profile: Some("elsewhere".into()),
            ..FeedFilter::default()
        }));
    }
}
