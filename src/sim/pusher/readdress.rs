//! Re-addressing a built change batch before a retry (graph-facts §3.2, §3.5): Graph retries
//! for the subscription as it is *now*, so a PATCHed `notificationUrl` is followed and items of
//! a subscription deleted or expired meanwhile are left out. An unchanged batch is resent byte
//! for byte.
//!
//! Pure: works on the batch's bytes and a lookup the caller gives; no state, no I/O.

use std::collections::BTreeMap;

use axum::body::Bytes;

use super::payload::{Batch, BuildError, distinct};
use crate::graph::model::{ChangeNotification, ChangeNotificationCollection};

/// A change batch re-addressed for a retry: the POSTs to send now and the items whose
/// subscription is gone.
#[derive(Debug, Default)]
pub struct Readdressed {
    /// One POST per current notification URL.
    pub batches: Vec<Batch>,
    /// `(subscription id, interaction id)` of items left out because their subscription was
    /// deleted or expired.
    pub orphaned: Vec<(String, String)>,
}

/// Re-addresses a built change batch to where its subscriptions point now (`url_of` gives a
/// live subscription's notification URL, `None` when it is gone). Unchanged batches are resent
/// byte for byte; otherwise the items are regrouped per URL (the validation tokens are kept)
/// and orphaned items are left out.
pub fn readdress(
    batch: &Batch,
    url_of: impl Fn(&str) -> Option<String>,
) -> Result<Readdressed, BuildError> {
    let urls: Vec<Option<String>> = batch.subscription_ids.iter().map(|id| url_of(id)).collect();
    if urls
        .iter()
        .all(|url| url.as_deref() == Some(batch.url.as_str()))
    {
        return Ok(Readdressed {
            batches: vec![batch.clone()],
            orphaned: Vec::new(),
        });
    }
    let collection: ChangeNotificationCollection = serde_json::from_slice(&batch.body)?;
    let mut groups: BTreeMap<String, Vec<ChangeNotification>> = BTreeMap::new();
    let mut orphaned = Vec::new();
    for item in collection.value {
        let target = batch
            .subscription_ids
            .iter()
            .position(|id| *id == item.subscription_id)
            .and_then(|index| urls.get(index).cloned().flatten());
        match target {
            Some(url) => groups.entry(url).or_default().push(item),
            None => {
                let interaction = item
                    .resource_data
                    .as_ref()
                    .map(|data| data.id.clone())
                    .unwrap_or_default();
                orphaned.push((item.subscription_id, interaction));
            }
        }
    }
    let mut batches = Vec::new();
    for (url, value) in groups {
        let subscription_ids = distinct(value.iter().map(|item| item.subscription_id.as_str()));
        let interaction_ids = distinct(
            value
                .iter()
                .filter_map(|item| item.resource_data.as_ref().map(|data| data.id.as_str())),
        );
        let body = serde_json::to_vec(&ChangeNotificationCollection {
            value,
            validation_tokens: collection.validation_tokens.clone(),
        })?;
        batches.push(Batch {
            kind: batch.kind,
            url,
            body: Bytes::from(body),
            subscription_ids,
            interaction_ids,
        });
    }
    Ok(Readdressed { batches, orphaned })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::model::{ResourceData, ValidationTokens};
    use crate::sim::ledger::DeliveryKind;

    fn item(subscription: &str, interaction: &str) -> ChangeNotification {
        ChangeNotification {
            id: None,
            subscription_id: subscription.to_owned(),
            subscription_expiration_date_time: "2026-11-24T08:00:00Z".parse().unwrap(),
            tenant_id: "t".to_owned(),
            client_state: None,
            change_type: Some("created".to_owned()),
            lifecycle_event: None,
            resource: None,
            resource_data: Some(ResourceData {
                id: interaction.to_owned(),
                odata_type: "#Microsoft.Graph.aiInteraction".to_owned(),
                odata_id: String::new(),
                odata_etag: None,
            }),
            encrypted_content: None,
        }
    }

    #[test]
    fn items_follow_their_subscription_or_are_left_out() {
        let body = serde_json::to_vec(&ChangeNotificationCollection {
            value: vec![item("a", "1"), item("b", "2"), item("c", "3")],
            validation_tokens: ValidationTokens::Absent,
        })
        .unwrap();
        let batch = Batch {
            kind: DeliveryKind::Change,
            url: "https://old.test/n".to_owned(),
            body: Bytes::from(body),
            subscription_ids: vec!["a".into(), "b".into(), "c".into()],
            interaction_ids: vec!["1".into(), "2".into(), "3".into()],
        };
        let same = readdress(&batch, |_| Some("https://old.test/n".to_owned())).unwrap();
        assert_eq!(same.batches.len(), 1);
        assert_eq!(same.batches[0].body, batch.body, "unchanged: byte for byte");

        let moved = readdress(&batch, |id| match id {
            "a" => Some("https://new.test/n".to_owned()),
            "b" => None,
            _ => Some("https://old.test/n".to_owned()),
        })
        .unwrap();
        assert_eq!(moved.orphaned, [("b".to_owned(), "2".to_owned())]);
        let urls: Vec<(&str, &[String])> = moved
            .batches
            .iter()
            .map(|b| (b.url.as_str(), b.interaction_ids.as_slice()))
            .collect();
        assert_eq!(
            urls,
            [
                ("https://new.test/n", &["1".to_owned()][..]),
                ("https://old.test/n", &["3".to_owned()][..]),
            ]
        );
    }
}
