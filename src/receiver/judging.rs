//! Judging one inbox entry in a single trip to the blocking pool: screen it (a store read),
//! judge its validation tokens with the identity platform's keys as already cached, and
//! decrypt its items. Each hop between the async workers and the blocking pool costs a pair
//! of context switches; at ingest rates they were a measurable share of the CPU that RSA
//! decryption needs (issue 4's benchmark).
//!
//! When the cache cannot settle the tokens — no key set yet, one being fetched, or a `kid` it
//! does not hold — the entry comes back screened, and the async path fetches keys and judges
//! it in a second trip. Screening comes first either way, so a forged batch never makes us
//! fetch. Validation tokens are judged at the batch's arrival time.
//!
//! An entry with items naming a subscription the registry does not hold goes no further than
//! screening while its grace lasts ([`OnUnknown::Hold`]): the whole entry is deferred, known
//! items included, because an entry is written and removed as one — splitting it would
//! write part of a batch now and part later. Once the grace is spent it is judged as any other,
//! its unknown items rejected.
//!
//! Depends on `batch`, `judge`, `round`, `ledger` and the processor's plumbing (`blocking`,
//! `Deferred`); the only I/O is the store read in screening and the JWKS fetch.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;

use super::ack::Acked;
use super::batch::{self, Screened};
use super::judge::{self, BatchTokens};
use super::keys::EncryptionKeys;
use super::ledger::Ledger;
use super::processor::{Deferred, Processor, blocking};
use super::retry::OnUnknown;
use super::round::{Judged, Verdict};
use crate::graph::model::ValidationTokens;
use crate::store::records::{Endpoint, NotificationRecord, RawBatch, TokenRejection};

/// What one trip settled.
pub(crate) enum Trip {
    /// The entry is judged.
    Judged(Judged),
    /// Held back, judged no further: this many items name a subscription the registry does not
    /// hold (yet), and the entry's grace is not spent.
    UnknownSubscription(u32),
    /// The entry is screened, but its tokens need keys the cache does not have.
    NeedsKeys {
        /// The entry.
        batch: RawBatch,
        /// The record every record of the entry starts from.
        base: NotificationRecord,
        /// What screening concluded.
        screened: Screened,
    },
}

/// What judging needs besides the entry.
pub(crate) struct TripContext<'a> {
    /// The app's client id: validation tokens must be addressed to it.
    pub(crate) app_id: &'a str,
    /// The identity platform's keys as cached, if the cache has a set.
    pub(crate) cached_keys: Option<Arc<JwkSet>>,
    /// The keys rich content is encrypted for.
    pub(crate) keys: &'a EncryptionKeys,
    /// When the entry is being processed (lifecycle events are dated then).
    pub(crate) now: DateTime<Utc>,
    /// Whether items naming an unknown subscription hold the entry back or are rejected.
    pub(crate) on_unknown: OnUnknown,
}

/// Screens `batch` and, when the cached keys settle its tokens, judges it.
pub(crate) fn judge_entry<L: Ledger>(
    ledger: &L,
    batch: RawBatch,
    base: NotificationRecord,
    context: &TripContext<'_>,
) -> Result<Trip, L::Error> {
    let screened = batch::screen(ledger, &batch, &base)?;
    if context.on_unknown == OnUnknown::Hold {
        let unknown = batch::unknown_items(&screened);
        if unknown > 0 {
            return Ok(Trip::UnknownSubscription(unknown));
        }
    }
    if batch.endpoint == Endpoint::Lifecycle {
        let now = context.now;
        return Ok(Trip::Judged(Judged {
            batch,
            base,
            verdict: Verdict::Lifecycle { screened, now },
        }));
    }
    let cached = context.cached_keys.as_deref();
    if cached.is_none() && tokens_need_keys(&screened) {
        return Ok(Trip::NeedsKeys {
            batch,
            base,
            screened,
        });
    }
    let tokens = batch_tokens(&screened, cached, context.app_id, batch.received_at);
    if tokens == BatchTokens::Invalid(TokenRejection::UnknownKey) {
        return Ok(Trip::NeedsKeys {
            batch,
            base,
            screened,
        });
    }
    let changes = batch::judge_changes(screened, &tokens, context.keys);
    Ok(Trip::Judged(Judged {
        batch,
        base,
        verdict: Verdict::Changes(changes),
    }))
}

/// True when judging the batch's tokens needs the identity platform's keys: some item passed
/// the `clientState` check and the batch carries real tokens (not absent, not `null`).
pub(crate) fn tokens_need_keys(screened: &Screened) -> bool {
    match screened {
        Screened::Items {
            tokens, admitted, ..
        } => {
            !admitted.is_empty()
                && matches!(tokens, ValidationTokens::Tokens(_))
                && !tokens.is_null_like()
        }
        Screened::Refused(_) => false,
    }
}

/// The batch's tokens judged at `received_at` with `keys` (`None` will do when
/// [`tokens_need_keys`] is false). A batch with no admitted item has, for judging, no tokens.
pub(crate) fn batch_tokens(
    screened: &Screened,
    keys: Option<&JwkSet>,
    app_id: &str,
    received_at: DateTime<Utc>,
) -> BatchTokens {
    match screened {
        Screened::Items {
            tokens, admitted, ..
        } if !admitted.is_empty() => {
            let tenants = batch::tenants(admitted);
            judge::judge_tokens(tokens, keys, app_id, &tenants, received_at)
        }
        _ => BatchTokens::Absent,
    }
}

impl<L: Ledger> Processor<L> {
    /// [`Self::judge`], labelled with the entry's inbox id.
    pub(crate) async fn judge_entry(
        &self,
        batch: RawBatch,
        acked: Acked,
        on_unknown: OnUnknown,
    ) -> (u64, Result<Judged, Deferred>) {
        let id = batch.id;
        (id, self.judge(batch, acked, on_unknown).await)
    }

    /// Screens and judges one entry, writing nothing, in one trip to the blocking pool (RSA
    /// decryption costs about a millisecond per item); a second trip only when the tokens need
    /// keys the cache does not hold.
    async fn judge(
        &self,
        batch: RawBatch,
        acked: Acked,
        on_unknown: OnUnknown,
    ) -> Result<Judged, Deferred> {
        let storage = |e: L::Error| Deferred::Storage(e.to_string());
        let now = self.clock.now();
        let base = batch::blank_record(&batch, acked, now);
        let (ledger, verifier) = (Arc::clone(&self.ledger), Arc::clone(&self.verifier));
        let trip = blocking(move || {
            let context = TripContext {
                app_id: &verifier.app_id,
                cached_keys: verifier.jwks.cached(),
                keys: &verifier.keys,
                now,
                on_unknown,
            };
            judge_entry(&*ledger, batch, base, &context).map_err(storage)
        })
        .await?;
        let (batch, base, screened) = match trip {
            Trip::Judged(judged) => return Ok(judged),
            Trip::UnknownSubscription(items) => return Err(Deferred::UnknownSubscription(items)),
            Trip::NeedsKeys {
                batch,
                base,
                screened,
            } => (batch, base, screened),
        };
        let tokens = self.judge_tokens(&screened, batch.received_at).await?;
        let keys = Arc::clone(&self.verifier.keys);
        let changes = blocking(move || Ok(batch::judge_changes(screened, &tokens, &keys))).await?;
        Ok(Judged {
            batch,
            base,
            verdict: Verdict::Changes(changes),
        })
    }

    /// The batch's tokens, judged at `received_at`, fetching keys only when an item passed the
    /// `clientState` check: forged batches never make us fetch.
    async fn judge_tokens(
        &self,
        screened: &Screened,
        received_at: DateTime<Utc>,
    ) -> Result<BatchTokens, Deferred> {
        let app_id = &self.verifier.app_id;
        if !tokens_need_keys(screened) {
            return Ok(batch_tokens(screened, None, app_id, received_at));
        }
        let keys = self.verifier.jwks.keys().await?;
        let judged = batch_tokens(screened, Some(&keys), app_id, received_at);
        if judged != BatchTokens::Invalid(TokenRejection::UnknownKey) {
            return Ok(judged);
        }
        // The identity platform may have rotated its keys since the cache was filled.
        let keys = self.verifier.jwks.refresh_for_unknown_kid().await?;
        Ok(batch_tokens(screened, Some(&keys), app_id, received_at))
    }
}
