//! The synchronous work on one inbox entry, run off the async workers: parsing and screening
//! the batch, judging its change items (pure — it neither reads nor writes the store, so
//! batches are judged concurrently), then writing what judging concluded. Screening refuses,
//! before any token is looked at, what costs an attacker nothing to send: a body that is not
//! a notification collection, a batch of more than [`MAX_ITEMS`] items (Graph's are small),
//! and items for a subscription that is not ours or whose `clientState` differs — those get
//! one record per reason for the whole batch, counting its items, not one record each.
//! Strings copied from the body into records are cut to [`MAX_STORED_CHARS`].
//!
//! Writing checks what the store could not keep (an interaction id or `createdDateTime` it
//! cannot index) and rejects that item as malformed instead of failing the batch, records a
//! latency sample only for an interaction new to the store, and finally removes the entry
//! from the inbox.
//!
//! Depends on `ledger`, `judge`, the store's record types and the wire model; no async, no
//! clock (times are passed in).

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::LifecycleSignal;
use super::ack::Acked;
use super::judge::{self, BatchTokens, ItemJudgement};
use super::keys::EncryptionKeys;
use super::ledger::Ledger;
use super::processor::ProcessedBatch;
use crate::graph::model::{ChangeNotification, ChangeNotificationCollection, ValidationTokens};
use crate::store::records::{
    CertificateRef, Check, DecryptVerdict, Event, EventKind, InteractionRecord, NotificationRecord,
    RawBatch, RejectReason, TokenVerdict, lifecycle_event_name,
};

/// Most items a batch may hold; a larger one is refused whole.
pub(crate) const MAX_ITEMS: usize = 1000;

/// Longest string copied from a notification into a record, in characters.
pub(crate) const MAX_STORED_CHARS: usize = 256;

/// A batch after the cheap checks.
pub(crate) enum Screened {
    /// Refused whole: one record says why (boxed: a rare case, and records are large).
    Refused(Box<NotificationRecord>),
    /// Its items, split by the `clientState` check.
    Items {
        /// The batch's `validationTokens`.
        tokens: ValidationTokens,
        /// Items of our subscriptions with the right `clientState`, and that state.
        admitted: Vec<(ChangeNotification, SecretString)>,
        /// One record per reason for the items that failed the check.
        refused: Vec<NotificationRecord>,
    },
}

/// Parses `batch` and applies the checks that need neither tokens nor keys. `base` is the
/// record every record of the batch starts from.
pub(crate) fn screen<L: Ledger>(
    ledger: &L,
    batch: &RawBatch,
    base: &NotificationRecord,
) -> Result<Screened, L::Error> {
    let refused = |items: usize| {
        Box::new(NotificationRecord {
            rejected: Some(RejectReason::MalformedNotification),
            items: u32::try_from(items.max(1)).unwrap_or(u32::MAX),
            ..base.clone()
        })
    };
    let Some(collection) = serde_json::from_slice::<ChangeNotificationCollection>(&batch.body)
        .ok()
        .filter(|collection| !collection.value.is_empty())
    else {
        return Ok(Screened::Refused(refused(1)));
    };
    if collection.value.len() > MAX_ITEMS {
        return Ok(Screened::Refused(refused(collection.value.len())));
    }
    let states = judge::expected_states(&collection.value, |id| ledger.client_state(id))?;
    let mut admitted = Vec::new();
    let mut refusals: Vec<NotificationRecord> = Vec::new();
    for item in collection.value {
        let expected = states.get(&item.subscription_id).and_then(Option::as_ref);
        match judge::judge_client_state(item.client_state.as_deref(), expected) {
            (_, None) => {
                if let Some(state) = expected.cloned() {
                    admitted.push((item, state));
                }
            }
            (check, Some(reason)) => {
                match refusals.iter_mut().find(|r| r.rejected == Some(reason)) {
                    Some(record) => record.items = record.items.saturating_add(1),
                    None => refusals.push(NotificationRecord {
                        client_state: check,
                        validation_tokens: TokenVerdict::Unchecked,
                        decryption: if item.encrypted_content.is_some() {
                            DecryptVerdict::Skipped
                        } else {
                            DecryptVerdict::NotEncrypted
                        },
                        rejected: Some(reason),
                        ..described(base, &item)
                    }),
                }
            }
        }
    }
    Ok(Screened::Items {
        tokens: collection.validation_tokens,
        admitted,
        refused: refusals,
    })
}

/// How many items screening refused because their subscription is not in the registry (the
/// processor holds such a batch back a while: the registry write may be late).
pub(crate) fn unknown_items(screened: &Screened) -> u32 {
    match screened {
        Screened::Items { refused, .. } => refused
            .iter()
            .filter(|record| record.rejected == Some(RejectReason::UnknownSubscription))
            .map(|record| record.items)
            .fold(0, u32::saturating_add),
        Screened::Refused(_) => 0,
    }
}

/// A change batch after judging, nothing written yet: the records of what screening refused,
/// then each admitted item with its judgement.
pub(crate) struct JudgedChanges {
    refused: Vec<NotificationRecord>,
    items: Vec<(ChangeNotification, ItemJudgement)>,
}

/// Judges the admitted change items with `tokens` (judged once for the batch). Pure, and where
/// the decryption cost is: rounds of batches are judged concurrently.
pub(crate) fn judge_changes(
    screened: Screened,
    tokens: &BatchTokens,
    keys: &EncryptionKeys,
) -> JudgedChanges {
    match screened {
        Screened::Refused(record) => JudgedChanges {
            refused: vec![*record],
            items: Vec::new(),
        },
        Screened::Items {
            admitted, refused, ..
        } => JudgedChanges {
            refused,
            items: admitted
                .into_iter()
                .map(|(item, state)| {
                    let judgement = judge::judge_item(&item, Some(&state), tokens, keys);
                    (item, judgement)
                })
                .collect(),
        },
    }
}

/// Writes a record per judged item and every authentic interaction, then removes the entry.
pub(crate) fn write_changes<L: Ledger>(
    ledger: &L,
    batch: &RawBatch,
    base: &NotificationRecord,
    judged: JudgedChanges,
    produced: &mut ProcessedBatch,
) -> Result<(), L::Error> {
    for record in judged.refused {
        append(ledger, record, produced)?;
    }
    for (item, judgement) in judged.items {
        let record = change_record(ledger, batch, base, &item, judgement, produced)?;
        append(ledger, record, produced)?;
    }
    ledger.remove(batch.id)
}

/// Writes the lifecycle events of the admitted items (and a record for each refusal), then
/// removes the entry; returns the signals for the keeper, to send once committed.
pub(crate) fn write_lifecycle<L: Ledger>(
    ledger: &L,
    batch: &RawBatch,
    base: &NotificationRecord,
    screened: Screened,
    now: DateTime<Utc>,
    produced: &mut ProcessedBatch,
) -> Result<Vec<LifecycleSignal>, L::Error> {
    let mut signals = Vec::new();
    match screened {
        Screened::Refused(record) => append(ledger, *record, produced)?,
        Screened::Items {
            admitted, refused, ..
        } => {
            for record in refused {
                append(ledger, record, produced)?;
            }
            for (item, _) in admitted {
                let Some(event) = item.lifecycle_event else {
                    let record = NotificationRecord {
                        client_state: Check::Ok,
                        rejected: Some(RejectReason::MalformedNotification),
                        ..described(base, &item)
                    };
                    append(ledger, record, produced)?;
                    continue;
                };
                let subscription_id = clip(&item.subscription_id);
                ledger.append_lifecycle(&Event {
                    at: now,
                    profile: batch.profile.clone(),
                    kind: EventKind::lifecycle(event, subscription_id.clone()),
                    message: format!(
                        "Graph sent {} for subscription {subscription_id}",
                        lifecycle_event_name(event)
                    ),
                })?;
                signals.push(LifecycleSignal {
                    profile: batch.profile.clone(),
                    subscription_id,
                    event,
                });
            }
        }
    }
    ledger.remove(batch.id)?;
    Ok(signals)
}

/// The record every record of `batch` starts from.
pub(crate) fn blank_record(
    batch: &RawBatch,
    acked: Acked,
    processed_at: DateTime<Utc>,
) -> NotificationRecord {
    NotificationRecord {
        received_at: batch.received_at,
        acked_at: acked.at,
        ack_ms: acked.took_ms,
        processed_at,
        profile: batch.profile.clone(),
        subscription_id: String::new(),
        tenant_id: None,
        change_type: None,
        resource: None,
        client_state: Check::Missing,
        validation_tokens: TokenVerdict::Absent,
        decryption: DecryptVerdict::NotEncrypted,
        interaction_id: None,
        created_at: None,
        latency_ms: None,
        duplicate: false,
        accepted: false,
        rejected: None,
        items: 1,
        unknown_certificate: None,
    }
}

/// `base` with what `item` says of itself, cut to size.
fn described(base: &NotificationRecord, item: &ChangeNotification) -> NotificationRecord {
    NotificationRecord {
        subscription_id: clip(&item.subscription_id),
        tenant_id: Some(clip(&item.tenant_id)),
        change_type: item.change_type.as_deref().map(clip),
        resource: item.resource.as_deref().map(clip),
        interaction_id: item.resource_data.as_ref().map(|data| clip(&data.id)),
        ..base.clone()
    }
}

fn change_record<L: Ledger>(
    ledger: &L,
    batch: &RawBatch,
    base: &NotificationRecord,
    item: &ChangeNotification,
    judgement: ItemJudgement,
    produced: &mut ProcessedBatch,
) -> Result<NotificationRecord, L::Error> {
    let mut record = NotificationRecord {
        client_state: judgement.client_state,
        validation_tokens: judgement.tokens,
        decryption: judgement.decryption,
        rejected: judgement.rejected,
        unknown_certificate: judgement.unknown_certificate.map(|named| CertificateRef {
            id: clip(&named.id),
            thumbprint: named.thumbprint.as_deref().map(clip),
        }),
        ..described(base, item)
    };
    let Some(interaction) = judgement.interaction else {
        return Ok(record);
    };
    if InteractionRecord::check_storable(&interaction).is_err() {
        // Authentic, but the store cannot index it: kept out, never retried.
        record.rejected = Some(RejectReason::MalformedNotification);
        return Ok(record);
    }
    let new = ledger.insert_interaction(&batch.profile, &interaction, record.processed_at)?;
    let latency = (batch.received_at - interaction.created_date_time).num_milliseconds();
    if new.is_some()
        && let Ok(sample) = u64::try_from(latency)
    {
        // Only the first delivery of an interaction measures the push path.
        ledger.record_latency(batch.received_at, sample)?;
    }
    record.interaction_id = Some(interaction.id.clone());
    record.created_at = Some(interaction.created_date_time);
    record.latency_ms = Some(latency);
    record.duplicate = new.is_none();
    record.accepted = true;
    produced.interactions.extend(new);
    Ok(record)
}

fn append<L: Ledger>(
    ledger: &L,
    record: NotificationRecord,
    produced: &mut ProcessedBatch,
) -> Result<(), L::Error> {
    ledger.append_notification(&record)?;
    produced.notifications.push(record);
    Ok(())
}

/// The tenants of the admitted items, for judging the tokens.
pub(crate) fn tenants(admitted: &[(ChangeNotification, SecretString)]) -> Vec<&str> {
    let mut tenants: Vec<&str> = admitted
        .iter()
        .map(|(item, _)| item.tenant_id.as_str())
        .collect();
    tenants.sort_unstable();
    tenants.dedup();
    tenants
}

/// `text` cut to [`MAX_STORED_CHARS`] characters.
pub(crate) fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_STORED_CHARS) {
        Some((end, _)) => text.get(..end).unwrap_or_default().to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn clipping_counts_characters_not_bytes() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(MAX_STORED_CHARS + 10);
        let clipped = clip(&long);
        assert_eq!(clipped.chars().count(), MAX_STORED_CHARS);
        assert!(long.starts_with(&clipped));
    }
}
