//! The generator's memory between interactions: which millisecond ids are taken (an
//! interaction's `id` is its `createdDateTime` in epoch milliseconds, so two interactions may
//! not share a millisecond), and each user's open Copilot sessions, reused for a while so a
//! conversation's prompts share a `sessionId` as they do in real threads.
//!
//! Shared by the background generator and `POST /_sim/interactions`; lives in `SimState`.
//! Depends on `content` (documents, meetings) and chrono/rand.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use super::apps::AppKind;
use super::content::{self, Document};

/// A session idle this long (simulated) is not continued.
const SESSION_IDLE: Duration = Duration::minutes(30);

/// Chance that a prompt within the idle window continues its session rather than starting one.
const CONTINUE_CHANCE: f64 = 0.8;

/// Chance that a Copilot in Teams session is a meeting (else a chat).
const MEETING_CHANCE: f64 = 0.7;

/// Reserved ids older than this (relative to the newest reservation) are forgotten: by then
/// they are in the interaction log, which callers also consult.
const RESERVATION_MEMORY_MS: i64 = 10 * 60 * 1000;

/// Which way to move a taken millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bump {
    /// Later (the generator: an interaction cannot be published before it happened).
    Later,
    /// Earlier (`POST /_sim/interactions`: its items must not lie in the future).
    Earlier,
}

/// A Teams meeting a session runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// `19:meeting_…@thread.v2`.
    pub thread_id: String,
    /// Its subject.
    pub subject: &'static str,
}

/// One open Copilot conversation of a user in one experience.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// `sessionId`.
    pub id: String,
    /// The last prompt's time.
    pub last_used: DateTime<Utc>,
    /// The meeting (Copilot in Teams meetings).
    pub meeting: Option<Meeting>,
    /// The document being worked on (Word, Excel, Loop).
    pub document: Option<&'static Document>,
}

#[derive(Debug, Default)]
struct Book {
    reserved: BTreeSet<i64>,
    sessions: HashMap<(String, AppKind), Session>,
}

/// Taken ids and open sessions. See the module documentation.
#[derive(Debug, Default)]
pub struct ActivityBook {
    book: Mutex<Book>,
}

impl ActivityBook {
    /// Reserves the millisecond nearest `desired` in the direction of `bump` that is neither
    /// reserved nor `taken` (the caller's view of the interaction log), skipping whole seconds
    /// so that every `createdDateTime` prints with milliseconds.
    pub fn reserve_millis(&self, desired: i64, bump: Bump, taken: impl Fn(i64) -> bool) -> i64 {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let step = match bump {
            Bump::Later => 1,
            Bump::Earlier => -1,
        };
        let mut candidate = desired;
        while candidate.rem_euclid(1000) == 0
            || book.reserved.contains(&candidate)
            || taken(candidate)
        {
            candidate = candidate.saturating_add(step);
        }
        book.reserved.insert(candidate);
        let newest = book.reserved.last().copied().unwrap_or(candidate);
        let keep_from = newest.saturating_sub(RESERVATION_MEMORY_MS);
        while book
            .reserved
            .first()
            .is_some_and(|oldest| *oldest < keep_from)
        {
            book.reserved.pop_first();
        }
        candidate
    }

    /// The session `user_id`'s prompt in `kind` at `at` belongs to: the open one when it is
    /// recent (and the user does not start afresh), else a new one.
    pub fn session<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        user_id: &str,
        kind: AppKind,
        at: DateTime<Utc>,
    ) -> Session {
        let mut book = self.book.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (user_id.to_owned(), kind);
        let continues = book.sessions.get(&key).is_some_and(|open| {
            let idle = at - open.last_used;
            idle >= Duration::zero() && idle <= SESSION_IDLE
        }) && rng.random_bool(CONTINUE_CHANCE);
        if continues && let Some(open) = book.sessions.get_mut(&key) {
            open.last_used = at;
            return open.clone();
        }
        let session = new_session(rng, kind, at);
        book.sessions.insert(key, session.clone());
        session
    }
}

fn new_session<R: Rng + ?Sized>(rng: &mut R, kind: AppKind, at: DateTime<Utc>) -> Session {
    let meeting = (kind == AppKind::Teams && rng.random_bool(MEETING_CHANCE)).then(|| {
        // Teams meeting threads carry base64 of a GUID: 19:meeting_<b64>@thread.v2.
        let guid = random_guid(rng);
        Meeting {
            thread_id: format!("19:meeting_{}@thread.v2", STANDARD_NO_PAD.encode(guid)),
            subject: pick(rng, content::MEETINGS).copied().unwrap_or("Meeting"),
        }
    });
    let document = match kind {
        AppKind::Word | AppKind::Excel | AppKind::Loop => content::random_document(rng, kind),
        _ => None,
    };
    let id = match &meeting {
        Some(meeting) => meeting.thread_id.clone(),
        None => format!("19:{}@thread.v2", alphanumeric(rng, 32)),
    };
    Session {
        id,
        last_used: at,
        meeting,
        document,
    }
}

/// A random element of `items`.
pub fn pick<'a, T, R: Rng + ?Sized>(rng: &mut R, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() {
        return None;
    }
    items.get(rng.random_range(0..items.len()))
}

/// A random lower-case hyphenated GUID.
pub fn random_guid<R: Rng + ?Sized>(rng: &mut R) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// `len` random ASCII letters and digits.
pub fn alphanumeric<R: Rng + ?Sized>(rng: &mut R, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .filter_map(|_| ALPHABET.get(rng.random_range(0..ALPHABET.len())))
        .map(|b| char::from(*b))
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn reserved_millis_are_unique_never_whole_seconds_and_respect_the_log() {
        let book = ActivityBook::default();
        let first = book.reserve_millis(5_000, Bump::Later, |_| false);
        assert_eq!(first, 5_001, "whole seconds are skipped");
        assert_eq!(book.reserve_millis(5_001, Bump::Later, |_| false), 5_002);
        assert_eq!(book.reserve_millis(5_001, Bump::Earlier, |_| false), 4_999);
        assert_eq!(
            book.reserve_millis(7_123, Bump::Later, |ms| ms == 7_123),
            7_124
        );
    }

    #[test]
    fn sessions_continue_while_recent_and_end_when_idle() {
        let mut rng = StdRng::seed_from_u64(9);
        let book = ActivityBook::default();
        let start: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap();
        let first = book.session(&mut rng, "u", AppKind::BizChat, start);
        assert!(first.id.starts_with("19:") && first.id.ends_with("@thread.v2"));
        let mut previous = first.id.clone();
        let mut continued = 0;
        for minute in 1..=20 {
            let at = start + Duration::minutes(minute);
            let session = book.session(&mut rng, "u", AppKind::BizChat, at);
            if session.id == previous {
                continued += 1;
            }
            previous = session.id;
        }
        assert!((10..20).contains(&continued), "{continued} of 20 continued");
        let later = book.session(&mut rng, "u", AppKind::BizChat, start + Duration::hours(5));
        assert_ne!(later.id, previous, "an idle session is not continued");
        let other = book.session(&mut rng, "v", AppKind::BizChat, start);
        assert_ne!(other.id, first.id, "users do not share sessions");
    }

    #[test]
    fn teams_meetings_use_the_meeting_thread_and_apps_a_document() {
        let mut rng = StdRng::seed_from_u64(4);
        let book = ActivityBook::default();
        let at: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().unwrap();
        let meetings: Vec<_> = (0..40)
            .map(|hour| book.session(&mut rng, "u", AppKind::Teams, at + Duration::hours(hour)))
            .filter_map(|session| session.meeting.map(|m| (session.id, m)))
            .collect();
        assert!(!meetings.is_empty());
        for (id, meeting) in meetings {
            assert_eq!(id, meeting.thread_id);
            assert!(id.starts_with("19:meeting_") && id.ends_with("@thread.v2"));
        }
        let word = book.session(&mut rng, "u", AppKind::Word, at);
        assert!(word.document.is_some_and(|d| d.name.ends_with(".docx")));
    }
}
