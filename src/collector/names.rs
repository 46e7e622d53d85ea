//! Display names for the user ids the console shows. An interaction names its user only by id
//! and by a Skype MRI (`8:orgid:<id>`, graph-facts §3), so without this the feed would show
//! ids. The directory resolves, once each, the ids a view actually shows, through
//! `GET /users/{id}?$select=id,displayName` — `User.Read.All` or `Directory.Read.All`, both
//! optional: without them the console says so and keeps showing ids.
//!
//! A view asks with [`UserNames::names_for`]: it gets the names known now, and the ids not yet
//! known are queued (bounded, never blocking, each once) for the resolver task, so the next page
//! shows them. Only GUID-shaped ids are ever sent to Graph. An id no profile's tenant knows is
//! remembered as nameless; a transient failure forgets the id again after a pause, so a later
//! view asks anew. Memory is bounded by [`MAX_KNOWN`] ids.
//!
//! Depends on the Graph client and the configuration's GUID check; never on the store, the
//! console or the TUI.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::is_guid;
use crate::graph::directory::user_name;
use crate::graph::http::GraphClient;
use crate::graph::model::well_known::USER_READ_ROLE;

/// Most ids remembered; past it, new ids are neither queued nor remembered (they show as ids).
pub const MAX_KNOWN: usize = 50_000;

/// Ids waiting for the resolver; a view asking for more than this at once waits for its next
/// page to have the rest queued.
const QUEUE: usize = 1_024;

/// How long the resolver rests after Graph failed for a reason other than "no such user" or
/// "not allowed", before it asks again.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// What is known of one id.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Queued or being resolved.
    Asked,
    /// Its display name.
    Named(String),
    /// No profile's tenant names it (or it is not a GUID).
    Nameless,
}

#[derive(Debug, Default)]
struct Book {
    entries: HashMap<String, Entry>,
    /// Why names cannot be read at all, once every profile was refused.
    unavailable: Option<String>,
}

/// The directory of display names; cheap to clone, shared by the resolver and the views.
#[derive(Debug, Clone)]
pub struct UserNames {
    book: Arc<Mutex<Book>>,
    queue: mpsc::Sender<String>,
}

/// The resolver's end of the queue, handed to [`resolve`].
#[derive(Debug)]
pub struct NameQueue(mpsc::Receiver<String>);

impl UserNames {
    /// An empty directory and the queue its resolver reads.
    pub fn new() -> (Self, NameQueue) {
        let (queue, receiver) = mpsc::channel(QUEUE);
        let names = Self {
            book: Arc::new(Mutex::new(Book::default())),
            queue,
        };
        (names, NameQueue(receiver))
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The display names known now of `ids`; the others are queued for resolving, once each.
    pub fn names_for<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> BTreeMap<String, String> {
        let mut book = self.book();
        let mut known = BTreeMap::new();
        for id in ids {
            match book.entries.get(id) {
                Some(Entry::Named(name)) => {
                    known.insert(id.to_owned(), name.clone());
                }
                Some(Entry::Asked | Entry::Nameless) => {}
                None if book.unavailable.is_some() || book.entries.len() >= MAX_KNOWN => {}
                None if !is_guid(id) => {
                    book.entries.insert(id.to_owned(), Entry::Nameless);
                }
                None => {
                    if self.queue.try_send(id.to_owned()).is_ok() {
                        book.entries.insert(id.to_owned(), Entry::Asked);
                    }
                }
            }
        }
        known
    }

    /// The display name of `id` if known now; never queues (for scans over many records).
    pub fn known(&self, id: &str) -> Option<String> {
        match self.book().entries.get(id) {
            Some(Entry::Named(name)) => Some(name.clone()),
            _ => None,
        }
    }

    /// Why display names cannot be shown, when no profile may read users.
    pub fn unavailable(&self) -> Option<String> {
        self.book().unavailable.clone()
    }

    fn settle(&self, id: String, entry: Option<Entry>) {
        let mut book = self.book();
        match entry {
            Some(entry) => book.entries.insert(id, entry),
            None => book.entries.remove(&id),
        };
    }

    fn give_up(&self, why: String) {
        let mut book = self.book();
        book.entries.retain(|_, entry| *entry != Entry::Asked);
        book.unavailable = Some(why);
    }
}

/// One profile's way to the directory.
#[derive(Debug, Clone)]
pub struct NameSource {
    /// The profile, for the "not allowed" note.
    pub profile: String,
    /// Its Graph client.
    pub graph: GraphClient,
}

/// Resolves queued ids until `shutdown`, asking each profile's tenant in turn: the first that
/// knows the user names it; a profile refused with 403 is not asked again.
pub async fn resolve(
    names: UserNames,
    NameQueue(mut queue): NameQueue,
    mut sources: Vec<NameSource>,
    shutdown: CancellationToken,
) {
    let mut refused = Vec::new();
    loop {
        let id = tokio::select! {
            () = shutdown.cancelled() => return,
            id = queue.recv() => match id {
                Some(id) => id,
                None => return,
            },
        };
        let mut entry = Some(Entry::Nameless);
        let mut index = 0;
        while let Some(source) = sources.get(index) {
            match user_name(&source.graph, &id).await {
                Ok(user) => {
                    entry = Some(readable(user.display_name).map_or(Entry::Nameless, Entry::Named));
                    break;
                }
                Err(error) if error.status() == Some(404) => index += 1,
                Err(error) if error.is_permission_denied() => {
                    refused.push(sources.remove(index).profile);
                }
                Err(error) => {
                    tracing::debug!(target: "pilotwatch::names", %error, "a user's display name could not be read; asking again later");
                    entry = None;
                    break;
                }
            }
        }
        names.settle(id, entry.clone());
        if sources.is_empty() {
            names.give_up(format!(
                "display names are not shown: profile{} {} may not read users (grant \
                 {USER_READ_ROLE}, optional)",
                if refused.len() == 1 { "" } else { "s" },
                refused.join(", ")
            ));
            return;
        }
        if entry.is_none() {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(PAUSE_AFTER_FAILURE) => {}
            }
        }
    }
}

/// A display name worth showing: not blank, and not the `8:orgid:` MRI interactions carry.
pub fn readable(name: Option<String>) -> Option<String> {
    name.filter(|name| !name.trim().is_empty() && !is_mri(name))
}

/// Whether `name` is a Skype MRI (`8:orgid:<id>`), which interactions carry as a display name.
pub fn is_mri(name: &str) -> bool {
    name.starts_with("8:")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADELE: &str = "11111111-2222-4333-8444-555555555555";

    #[test]
    fn unknown_ids_are_queued_once_and_named_once_resolved() {
        let (names, NameQueue(mut queue)) = UserNames::new();
        assert!(names.names_for([ADELE, ADELE]).is_empty());
        assert_eq!(queue.try_recv().ok().as_deref(), Some(ADELE));
        assert!(queue.try_recv().is_err(), "queued once");
        assert!(names.names_for([ADELE]).is_empty(), "still being resolved");
        assert!(queue.try_recv().is_err(), "not queued again while asked");
        names.settle(ADELE.into(), Some(Entry::Named("Adele Vance".into())));
        assert_eq!(
            names.names_for([ADELE]).get(ADELE).map(String::as_str),
            Some("Adele Vance")
        );
        assert_eq!(names.known(ADELE).as_deref(), Some("Adele Vance"));
    }

    #[test]
    fn ids_that_are_not_guids_never_reach_graph() {
        let (names, NameQueue(mut queue)) = UserNames::new();
        assert!(names.names_for(["u-1", "../me", ""]).is_empty());
        assert!(queue.try_recv().is_err());
    }

    #[test]
    fn a_transient_failure_forgets_the_id_so_a_later_view_asks_again() {
        let (names, NameQueue(mut queue)) = UserNames::new();
        names.names_for([ADELE]);
        queue.try_recv().ok();
        names.settle(ADELE.into(), None);
        names.names_for([ADELE]);
        assert_eq!(queue.try_recv().ok().as_deref(), Some(ADELE));
    }

    #[test]
    fn once_no_profile_may_read_users_nothing_more_is_queued_and_the_reason_is_kept() {
        let (names, NameQueue(mut queue)) = UserNames::new();
        names.names_for([ADELE]);
        queue.try_recv().ok();
        names.give_up("no".into());
        assert_eq!(names.unavailable().as_deref(), Some("no"));
        names.names_for(["22222222-2222-4333-8444-555555555555"]);
        assert!(queue.try_recv().is_err());
    }

    #[test]
    fn an_mri_or_a_blank_is_not_a_readable_name() {
        assert_eq!(readable(Some(format!("8:orgid:{ADELE}"))), None);
        assert_eq!(readable(Some("  ".into())), None);
        assert_eq!(
            readable(Some("Adele Vance".into())).as_deref(),
            Some("Adele Vance")
        );
    }
}
