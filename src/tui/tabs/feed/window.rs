//! The feed's paging window: a bounded, contiguous run of the filtered feed (newest first)
//! held in memory while the user scrolls a store of any size. Pages are asked for with
//! [`FeedQuery`]s (the store pages older only, after a cursor); rows far above the user are
//! dropped, remembering the cursor that fetches them back; rows far below are dropped and
//! fetched again on the way down. Joins are deduplicated by position: only rows strictly
//! older than the last row are appended, only rows strictly newer than the first prepended.
//!
//! A page that comes back short with a cursor (a rare filter reached the scan bound) leaves
//! the search open: the tab asks again while the user scrolls, and says how far it got.
//!
//! Pure; depends on the console's query types and the store's record type only.

use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::console::embedded::feed::MAX_PAGE_ROWS;
use crate::console::{FeedCursor, FeedFilter, FeedPage, FeedQuery};
use crate::store::records::InteractionRecord;

/// Rows one page asks for.
pub const PAGE_ROWS: usize = 200;

/// Most display names kept; past it the cache starts again (pages bring the names they need).
const MAX_NAMES: usize = 10_000;

/// Most rows kept in memory.
pub const MAX_ROWS: usize = 2_000;

/// Where an interaction sits in the feed: newer is greater.
type Key<'a> = (DateTime<Utc>, &'a str);

fn key(record: &InteractionRecord) -> Key<'_> {
    (record.created_at, record.id.as_str())
}

/// The cursor that pages on from `record` (to the rows just older than it).
pub fn cursor_after(record: &InteractionRecord) -> FeedCursor {
    FeedCursor {
        created_at: record.created_at,
        id: record.id.clone(),
    }
}

/// Which way a page in flight grows the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Replaces the window with the newest rows.
    Reset,
    /// Appends older rows.
    Down,
    /// Fetches back rows dropped above.
    Up,
}

/// A page asked for and not answered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
struct InFlight {
    query: FeedQuery,
    direction: Direction,
}

/// Rows dropped above the window: fetch after `cursor` to get `count` of them back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dropped {
    cursor: Option<FeedCursor>,
    count: usize,
}

/// What an answer did to the window, so the selection can stay on the same row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    /// Whether the answer was the one awaited (others are stale and ignored).
    pub accepted: bool,
    /// Rows added at the top (the selection moves down by this many).
    pub prepended: usize,
    /// Rows removed from the top (the selection moves up by this many).
    pub dropped_top: usize,
}

/// The window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    filter: FeedFilter,
    rows: VecDeque<InteractionRecord>,
    /// Fetching after this returns `rows[0]` first; `None` when `rows[0]` is the newest.
    top: Option<FeedCursor>,
    above: Vec<Dropped>,
    dropped_above: usize,
    /// Where the rows below start; `None` once the feed is exhausted.
    below: Option<FeedCursor>,
    loaded: bool,
    in_flight: Option<InFlight>,
    /// Rows fetched back above, waiting for the fetch to reach the window.
    staging: Vec<InteractionRecord>,
    /// Where fetching back above goes on from, while it has not reached the window.
    up_resume: Option<FeedCursor>,
    /// Interactions examined by the search still open (short pages in a row).
    searched: u64,
    /// Display names by user id, from every page so far (kept across resets).
    names: HashMap<String, String>,
    /// Why the collector cannot show display names, if it said so.
    names_unavailable: Option<String>,
}

impl Window {
    /// An empty window for `filter`; [`Self::reset`] asks for its first page.
    pub fn new(filter: FeedFilter) -> Self {
        Self {
            filter,
            ..Self::default()
        }
    }

    /// The filter every page is asked with.
    pub fn filter(&self) -> &FeedFilter {
        &self.filter
    }

    /// The rows held, newest first.
    pub fn rows(&self) -> &VecDeque<InteractionRecord> {
        &self.rows
    }

    /// Rows of the filtered feed above the window (dropped to bound memory).
    pub fn dropped_above(&self) -> usize {
        self.dropped_above
    }

    /// Whether the first page has been answered.
    pub fn loaded(&self) -> bool {
        self.loaded
    }

    /// Whether the oldest matching interaction is in the window.
    pub fn exhausted(&self) -> bool {
        self.loaded && self.below.is_none()
    }

    /// Whether a page is awaited.
    pub fn waiting(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Interactions examined by an open search (a rare filter's short pages), 0 when none.
    pub fn searched(&self) -> u64 {
        self.searched
    }

    /// Starts over from the newest rows: the query for them. Pending answers become stale.
    pub fn reset(&mut self) -> FeedQuery {
        self.ask(None, PAGE_ROWS, Direction::Reset)
    }

    /// The query for rows below the window, unless one is awaited or there are none.
    pub fn more_below(&mut self) -> Option<FeedQuery> {
        if self.in_flight.is_some() || !self.loaded {
            return None;
        }
        let cursor = self.below.clone()?;
        Some(self.ask(Some(cursor), PAGE_ROWS, Direction::Down))
    }

    /// The query fetching back the nearest rows dropped above, unless one is awaited or none
    /// were dropped.
    pub fn more_above(&mut self) -> Option<FeedQuery> {
        if self.in_flight.is_some() {
            return None;
        }
        let dropped = self.above.last()?;
        let after = match &self.up_resume {
            Some(resume) => Some(resume.clone()),
            None => dropped.cursor.clone(),
        };
        // One more than is missing: the window's own first row comes back too, proving the join.
        let missing = dropped.count.saturating_sub(self.staging.len());
        let limit = (missing + 1).min(MAX_PAGE_ROWS);
        Some(self.ask(after, limit, Direction::Up))
    }

    fn ask(&mut self, after: Option<FeedCursor>, limit: usize, direction: Direction) -> FeedQuery {
        let query = FeedQuery {
            filter: self.filter.clone(),
            after,
            limit,
        };
        self.in_flight = Some(InFlight {
            query: query.clone(),
            direction,
        });
        query
    }

    /// Forgets the page awaited (it failed); the same movement asks again.
    pub fn abandon(&mut self, query: &FeedQuery) {
        if self.in_flight.as_ref().is_some_and(|f| &f.query == query) {
            self.in_flight = None;
        }
    }

    /// Display names by user id, as far as the pages so far carried them.
    pub fn names(&self) -> &HashMap<String, String> {
        &self.names
    }

    /// Why the collector cannot show display names, if it said so.
    pub fn names_unavailable(&self) -> Option<&str> {
        self.names_unavailable.as_deref()
    }

    /// Takes the answer to `query`; answers to anything but the page awaited are ignored.
    pub fn apply(&mut self, query: &FeedQuery, mut page: FeedPage) -> Applied {
        let direction = match &self.in_flight {
            Some(flight) if &flight.query == query => flight.direction,
            _ => return Applied::default(),
        };
        self.in_flight = None;
        if self.names.len() + page.names.len() > MAX_NAMES {
            self.names.clear();
        }
        self.names.extend(std::mem::take(&mut page.names));
        self.names_unavailable = page.names_unavailable.take();
        let applied = match direction {
            Direction::Reset => self.apply_reset(page),
            Direction::Down => self.apply_down(page),
            Direction::Up => self.apply_up(page),
        };
        Applied {
            accepted: true,
            ..applied
        }
    }

    fn apply_reset(&mut self, page: FeedPage) -> Applied {
        let names = std::mem::take(&mut self.names);
        let names_unavailable = self.names_unavailable.take();
        *self = Self {
            names,
            names_unavailable,
            ..Self::new(std::mem::take(&mut self.filter))
        };
        self.loaded = true;
        self.apply_down(page)
    }

    fn apply_down(&mut self, page: FeedPage) -> Applied {
        let short = page.rows.len() < PAGE_ROWS;
        for record in page.rows {
            let older = self
                .rows
                .back()
                .is_none_or(|last| key(&record).cmp(&key(last)) == Ordering::Less);
            if older {
                self.rows.push_back(record);
            }
        }
        self.below = page.next;
        self.searched = if short && self.below.is_some() {
            self.searched.saturating_add(page.scanned)
        } else {
            0
        };
        let excess = self.rows.len().saturating_sub(MAX_ROWS);
        if excess == 0 {
            return Applied::default();
        }
        let dropped_top = excess.max(PAGE_ROWS).min(self.rows.len());
        let cursor = self.top.take();
        let mut last = None;
        for _ in 0..dropped_top {
            last = self.rows.pop_front();
        }
        self.top = last.as_ref().map(cursor_after);
        self.above.push(Dropped {
            cursor,
            count: dropped_top,
        });
        self.dropped_above = self.dropped_above.saturating_add(dropped_top);
        Applied {
            accepted: true,
            prepended: 0,
            dropped_top,
        }
    }

    fn apply_up(&mut self, page: FeedPage) -> Applied {
        let first = self.rows.front().cloned();
        let mut reached = false;
        for record in page.rows {
            let newer = first
                .as_ref()
                .is_none_or(|first| key(&record).cmp(&key(first)) == Ordering::Greater);
            if newer {
                self.staging.push(record);
            } else {
                reached = true;
            }
        }
        // Not yet at the window (a short page at the scan bound, or rows that arrived late):
        // keep fetching from where this page stopped, so the rows prepended join up.
        if !reached && let Some(next) = page.next {
            self.up_resume = Some(next);
            self.searched = self.searched.saturating_add(page.scanned);
            return Applied::default();
        }
        self.searched = 0;
        self.up_resume = None;
        let Some(dropped) = self.above.pop() else {
            self.staging.clear();
            return Applied::default();
        };
        let prepended = self.staging.len();
        for record in self.staging.drain(..).rev() {
            self.rows.push_front(record);
        }
        self.top = dropped.cursor;
        self.dropped_above = if self.above.is_empty() {
            0
        } else {
            self.dropped_above.saturating_sub(prepended)
        };
        if self.rows.len() > MAX_ROWS {
            self.rows.truncate(MAX_ROWS);
            self.below = self.rows.back().map(cursor_after);
        }
        Applied {
            accepted: true,
            prepended,
            dropped_top: 0,
        }
    }

    /// Rows of `head` (the snapshot's newest interactions) newer than the window's first row,
    /// or all of them before the first page: what follow mode shows above the window.
    pub fn newer_in<'a>(
        &self,
        head: impl IntoIterator<Item = &'a InteractionRecord>,
    ) -> Vec<&'a InteractionRecord> {
        if self.dropped_above > 0 {
            return Vec::new();
        }
        let first = self.rows.front();
        head.into_iter()
            .filter(|record| {
                first.is_none_or(|first| key(record).cmp(&key(first)) == Ordering::Greater)
            })
            .collect()
    }

    /// Puts `newer` (rows newer than the window, newest first) at its top, as pausing does:
    /// the list stops moving under the user. Returns how many were added.
    pub fn freeze(&mut self, newer: Vec<InteractionRecord>) -> usize {
        if self.dropped_above > 0 {
            return 0;
        }
        let added = newer.len();
        for record in newer.into_iter().rev() {
            self.rows.push_front(record);
        }
        if self.rows.len() > MAX_ROWS {
            self.rows.truncate(MAX_ROWS);
            self.below = self.rows.back().map(cursor_after);
        }
        added
    }
}

#[cfg(test)]
mod tests;
