//! Reading one user's export history and storing it as it arrives: chunk by chunk (each chunk
//! one `@odata.nextLink` chain), every interaction classified against the store (delivered by a
//! notification, stored by an earlier poll, or new) and counted in a [`Tally`].
//!
//! A poll never holds more than one chunk per user in memory. An item the store cannot take (a
//! `createdDateTime` outside the range it indexes, a record it cannot encode) is skipped and
//! counted, never allowed to fail the window; a failure of the store itself stops the poll.
//!
//! Part of the poller; depends on its `window`, the Graph client, the store's records and error
//! and the [`PollerStore`](super::PollerStore) seam.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use super::{Poller, window};
use crate::collector::update::Update;
use crate::graph::http::RequestError;
use crate::graph::model::AiInteraction;
use crate::store::StoreError;
use crate::store::records::{InteractionRecord, InteractionSource};

/// How the exported interactions of a user (or of a whole poll) divide up.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tally {
    /// Interactions the export API returned (each id once per poll).
    pub fetched: u64,
    /// Of those, stored now.
    pub new: u64,
    /// Of those, stored earlier from a change notification.
    pub via_notifications: u64,
    /// Of those, never delivered by a notification.
    pub missing: u64,
    /// Of those, unusable: counted, never stored.
    pub skipped: u64,
    /// The newest `createdDateTime` of the usable ones.
    pub newest_created_at: Option<DateTime<Utc>>,
}

impl Tally {
    /// Adds `other` in.
    pub fn add(&mut self, other: Tally) {
        self.fetched += other.fetched;
        self.new += other.new;
        self.via_notifications += other.via_notifications;
        self.missing += other.missing;
        self.skipped += other.skipped;
        self.newest_created_at = self.newest_created_at.max(other.newest_created_at);
    }
}

/// What reading one user's history produced.
#[derive(Debug, Default)]
pub(super) struct UserRead {
    /// What was stored and counted (also the chunks read before a failure).
    pub tally: Tally,
    /// True when a chunk had more pages than the poller reads.
    pub truncated: bool,
    /// Why the history could not be read to the end.
    pub failure: Option<RequestError>,
}

/// Ids already counted in this poll, shared by the users read at once.
pub(super) type Seen = Mutex<HashSet<String>>;

impl Poller {
    /// Reads `user`'s interactions in `[from, to)` chunk by chunk, storing each chunk before
    /// the next is asked for. Only a store failure is an error; a Graph failure ends the user's
    /// read and is returned in [`UserRead::failure`].
    pub(super) async fn read_user(
        &self,
        user: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        seen: &Seen,
    ) -> Result<UserRead, StoreError> {
        let mut read = UserRead::default();
        let top = self.options.page_size.clamp(1, 1000);
        for (start, end) in window::chunks(from, to, self.options.chunk) {
            let path = window::export_path(user, start, end, top);
            let page = match self
                .graph
                .get_all::<AiInteraction>(&path, self.options.max_pages)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    read.failure = Some(error);
                    break;
                }
            };
            read.truncated |= page.truncated;
            let seen_at = self.clock.now();
            for item in page.items {
                if first_sighting(seen, &item.id) {
                    self.classify(&item, user, seen_at, &mut read.tally)?;
                }
            }
        }
        Ok(read)
    }

    /// Counts one exported interaction and stores it when it is new.
    fn classify(
        &self,
        item: &AiInteraction,
        owner: &str,
        seen_at: DateTime<Utc>,
        tally: &mut Tally,
    ) -> Result<(), StoreError> {
        tally.fetched += 1;
        if InteractionRecord::check_storable(item).is_ok() {
            tally.newest_created_at = tally.newest_created_at.max(Some(item.created_date_time));
        }
        match self.store.interaction(&item.id)? {
            Some(stored) if stored.source == InteractionSource::Notification => {
                tally.via_notifications += 1;
                return Ok(());
            }
            Some(_) => {
                tally.missing += 1;
                return Ok(());
            }
            None => {}
        }
        let mut record = match InteractionRecord::from_graph(
            item,
            InteractionSource::Poll,
            seen_at,
            self.profile.store_bodies,
        ) {
            Ok(record) => record,
            Err(error) => {
                self.skip(tally, owner, &error);
                return Ok(());
            }
        };
        // The export API is per user: the mailbox read is the owner, also for responses, whose
        // `from` is the Copilot application.
        record.user_id = Some(owner.to_owned());
        match self.store.insert_if_absent(&record) {
            Ok(true) => {
                tally.new += 1;
                tally.missing += 1;
                let _ = self.updates.send(Update::Interaction(record));
            }
            // Only the receiver can have stored it since the lookup: a notification delivered it.
            Ok(false) => tally.via_notifications += 1,
            Err(error) if rejects_only_this_item(&error) => self.skip(tally, owner, &error),
            Err(error) => return Err(error),
        }
        Ok(())
    }

    /// Counts an item that cannot be stored: fetched and never delivered, but one unusable
    /// item must not fail the window (which would be retried and given up).
    fn skip(&self, tally: &mut Tally, owner: &str, error: &dyn std::fmt::Display) {
        tracing::warn!(target: "pilotwatch::collector::poller", profile = %self.profile.name, user = owner, %error, "export item skipped");
        tally.skipped += 1;
        tally.missing += 1;
    }
}

/// True the first time `id` is offered in this poll (adjacent chunks overlap by a millisecond).
fn first_sighting(seen: &Seen, id: &str) -> bool {
    let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
    if seen.contains(id) {
        return false;
    }
    seen.insert(id.to_owned())
}

/// True when the store refused `record` for something in it (it cannot index the time or
/// encode the record), not because the store itself failed.
fn rejects_only_this_item(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::TimeOutOfRange { .. } | StoreError::Encode { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_item_errors_are_skipped() {
        assert!(rejects_only_this_item(&StoreError::TimeOutOfRange {
            at: "9999-01-01T00:00:00Z".into()
        }));
        assert!(rejects_only_this_item(&StoreError::Encode {
            what: "interaction",
            reason: "too long".into()
        }));
        assert!(!rejects_only_this_item(&StoreError::FlushFailed(
            "disk full".into()
        )));
        assert!(!rejects_only_this_item(&StoreError::Corrupt {
            tree: "interactions",
            reason: "garbled".into()
        }));
    }

    #[test]
    fn each_id_is_counted_once_per_poll() {
        let seen = Seen::default();
        assert!(first_sighting(&seen, "a"));
        assert!(!first_sighting(&seen, "a"));
        assert!(first_sighting(&seen, "b"));
    }

    #[test]
    fn tallies_add_up() {
        let mut total = Tally::default();
        let one = Tally {
            fetched: 3,
            new: 1,
            via_notifications: 2,
            missing: 1,
            skipped: 0,
            newest_created_at: Some(chrono::DateTime::UNIX_EPOCH),
        };
        total.add(one);
        total.add(Tally {
            newest_created_at: None,
            ..one
        });
        assert_eq!(total.newest_created_at, Some(chrono::DateTime::UNIX_EPOCH));
        total.add(one);
        assert_eq!(total.fetched, 9);
        assert_eq!(total.via_notifications, 6);
        assert_eq!(total.new, 3);
    }
}
