//! The simulated Graph's subscriptions: what each one is, what certificate it uploaded, and when
//! it was last renewed or reauthorized. The Graph rules that guard changes live in
//! `subscriptions`; this is only the data and the "expired subscriptions vanish" rule.
//!
//! Depends on `graph::model` (and aws-lc-rs for the certificate thumbprint) only.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::graph::model::{AiInteraction, Subscription};

/// How long Graph's own access token for a subscription's endpoint lasts: graph-facts §3.5
/// ("usually expires within 1 hour"). A subscription is authorized for this long after its
/// creation, last renewal or last reauthorization; then its notifications are held.
pub const ENDPOINT_TOKEN_LIFETIME: Duration = Duration::hours(1);

/// Upper-case hex SHA-1 of a certificate's DER: the thumbprint convention (graph-facts §5),
/// shared by certificate upload and encryption so both always name a certificate alike.
pub fn thumbprint(der: &[u8]) -> String {
    use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
    hex::encode_upper(digest(&SHA1_FOR_LEGACY_USE_ONLY, der))
}

/// The certificate a subscriber uploaded for rich notifications.
#[derive(Debug, Clone)]
pub struct UploadedCertificate {
    /// The subscriber's `encryptionCertificateId`.
    pub id: String,
    /// DER of the X.509 certificate.
    pub der: Vec<u8>,
    /// Upper-case hex SHA-1 of `der`.
    pub thumbprint: String,
    /// DER SubjectPublicKeyInfo of its RSA key (what encryption uses).
    pub public_key_spki: Vec<u8>,
    /// Key size in bits.
    pub key_bits: usize,
}

/// One subscription and what the simulator knows about it. Its `Debug` output withholds the
/// `clientState` secret.
#[derive(Clone)]
pub struct SubscriptionRecord {
    /// The resource as Graph returns it, `clientState` included.
    pub subscription: Subscription,
    /// Tenant of the creating app.
    pub tenant_id: String,
    /// The creating app's client id.
    pub app_id: String,
    /// Present when `includeResourceData` is true.
    pub certificate: Option<UploadedCertificate>,
    /// `$filter` on `appClass` appended to the resource, as a list of accepted classes.
    pub app_class_filter: Option<Vec<String>>,
    /// The user of a per-user subscription; `None` for the tenant-wide one.
    pub user_id: Option<String>,
    /// Simulated creation time.
    pub created: DateTime<Utc>,
    /// Last successful PATCH.
    pub last_renewed: Option<DateTime<Utc>>,
    /// Last successful reauthorize.
    pub last_reauthorized: Option<DateTime<Utc>>,
    /// Last `reauthorizationRequired` sent.
    pub last_reauthorization_sent: Option<DateTime<Utc>>,
    /// `$filter` on `conversationType` appended to the resource.
    pub conversation_type_filter: Option<ConversationTypeFilter>,
    /// Last explicit `POST /subscriptions/{id}/reauthorize` (a PATCH also reauthorizes, but
    /// only this call counts towards [`SubscriptionRecord::reauthorize_patch_pairs`]).
    pub last_reauthorize_call: Option<DateTime<Utc>>,
    /// How often a reauthorize and a PATCH came within 10 minutes of each other, which Graph
    /// warns leaves the subscription in an inconsistent state (graph-facts §3.2).
    pub reauthorize_patch_pairs: u32,
}

impl std::fmt::Debug for SubscriptionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `Subscription`'s own Debug withholds the clientState.
        f.debug_struct("SubscriptionRecord")
            .field("subscription", &self.subscription)
            .field("tenant_id", &self.tenant_id)
            .field("app_id", &self.app_id)
            .field("certificate", &self.certificate)
            .field("app_class_filter", &self.app_class_filter)
            .field("conversation_type_filter", &self.conversation_type_filter)
            .field("user_id", &self.user_id)
            .field("created", &self.created)
            .field("last_renewed", &self.last_renewed)
            .field("last_reauthorized", &self.last_reauthorized)
            .field("last_reauthorization_sent", &self.last_reauthorization_sent)
            .field("last_reauthorize_call", &self.last_reauthorize_call)
            .field("reauthorize_patch_pairs", &self.reauthorize_patch_pairs)
            .finish()
    }
}

/// A `$filter` on `conversationType` (a free string such as `bizchat` or `appchat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationTypeFilter {
    /// `conversationType eq 'a' or conversationType eq 'b'`.
    OneOf(Vec<String>),
    /// `conversationType ne 'a' and conversationType ne 'b'`.
    NoneOf(Vec<String>),
}

impl ConversationTypeFilter {
    /// True when an interaction of `conversation_type` passes the filter.
    pub fn accepts(&self, conversation_type: &str) -> bool {
        let listed = |values: &[String]| {
            values
                .iter()
                .any(|value| value.eq_ignore_ascii_case(conversation_type))
        };
        match self {
            Self::OneOf(values) => listed(values),
            Self::NoneOf(values) => !listed(values),
        }
    }
}

impl SubscriptionRecord {
    /// The latest of creation, renewal (PATCH) and reauthorization: when Graph last got a
    /// fresh access token for the subscription's endpoint.
    pub fn authorized_since(&self) -> DateTime<Utc> {
        [self.last_renewed, self.last_reauthorized]
            .into_iter()
            .flatten()
            .fold(self.created, DateTime::max)
    }

    /// When that token lapses: [`ENDPOINT_TOKEN_LIFETIME`] after [`Self::authorized_since`].
    pub fn authorized_until(&self) -> DateTime<Utc> {
        self.authorized_since() + ENDPOINT_TOKEN_LIFETIME
    }

    /// True once its expiry has passed.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.subscription.expiration_date_time <= now
    }

    /// True when `interaction`, in the history of `user_id`, is in this subscription's scope:
    /// its user (per-user subscriptions) and every `$filter` on the resource.
    pub fn matches(&self, interaction: &AiInteraction, user_id: &str) -> bool {
        let class_ok = self.app_class_filter.as_ref().is_none_or(|classes| {
            classes
                .iter()
                .any(|class| class.eq_ignore_ascii_case(&interaction.app_class))
        });
        let conversation_ok = self.conversation_type_filter.as_ref().is_none_or(|filter| {
            filter.accepts(interaction.conversation_type.as_deref().unwrap_or_default())
        });
        let user_ok = self
            .user_id
            .as_ref()
            .is_none_or(|wanted| wanted.eq_ignore_ascii_case(user_id));
        class_ok && conversation_ok && user_ok
    }
}

/// All subscriptions, by id.
#[derive(Debug, Default)]
pub struct Registry {
    by_id: BTreeMap<String, SubscriptionRecord>,
}

impl Registry {
    /// Forgets every subscription whose expiry has passed, as Graph deletes them; returns them.
    pub fn purge_expired(&mut self, now: DateTime<Utc>) -> Vec<SubscriptionRecord> {
        let expired: Vec<String> = self
            .by_id
            .iter()
            .filter(|(_, r)| r.is_expired(now))
            .map(|(id, _)| id.clone())
            .collect();
        expired
            .iter()
            .filter_map(|id| self.by_id.remove(id))
            .collect()
    }

    /// A live subscription by id (case-insensitive, as Graph ids are GUIDs).
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<&SubscriptionRecord> {
        self.by_id
            .get(&id.to_ascii_lowercase())
            .filter(|record| !record.is_expired(now))
    }

    /// A live subscription by id, for changing it.
    pub fn get_mut(&mut self, id: &str, now: DateTime<Utc>) -> Option<&mut SubscriptionRecord> {
        self.by_id
            .get_mut(&id.to_ascii_lowercase())
            .filter(|record| !record.is_expired(now))
    }

    /// Adds a subscription (its id must be a lower-case GUID).
    pub fn insert(&mut self, record: SubscriptionRecord) {
        self.by_id
            .insert(record.subscription.id.to_ascii_lowercase(), record);
    }

    /// Removes a subscription, live or not.
    pub fn remove(&mut self, id: &str) -> Option<SubscriptionRecord> {
        self.by_id.remove(&id.to_ascii_lowercase())
    }

    /// Live subscriptions, ordered by id.
    pub fn live(&self, now: DateTime<Utc>) -> impl Iterator<Item = &SubscriptionRecord> {
        self.by_id
            .values()
            .filter(move |record| !record.is_expired(now))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use chrono::Duration;

    fn record(client_state: &str) -> SubscriptionRecord {
        let now = Utc::now();
        SubscriptionRecord {
            subscription: Subscription {
                odata_context: None,
                id: "7f105c7d-2dc5-4530-97cd-4e7ae6534c07".into(),
                resource: "/copilot/interactionHistory/getAllEnterpriseInteractions".into(),
                application_id: None,
                change_type: "created".into(),
                client_state: Some(client_state.into()),
                notification_url: "https://x.test/n".into(),
                notification_query_options: None,
                lifecycle_notification_url: None,
                expiration_date_time: now + Duration::hours(1),
                creator_id: None,
                include_resource_data: None,
                latest_supported_tls_version: None,
                encryption_certificate: None,
                encryption_certificate_id: None,
                notification_url_app_id: None,
                notification_content_type: None,
            },
            tenant_id: "t".into(),
            app_id: "a".into(),
            certificate: None,
            app_class_filter: None,
            conversation_type_filter: Some(ConversationTypeFilter::NoneOf(vec!["bizchat".into()])),
            user_id: None,
            created: now,
            last_renewed: None,
            last_reauthorized: None,
            last_reauthorization_sent: None,
            last_reauthorize_call: None,
            reauthorize_patch_pairs: 0,
        }
    }

    #[test]
    fn authorization_lasts_an_hour_from_the_latest_creation_renewal_or_reauthorization() {
        let mut record = record("s");
        let created = record.created;
        assert_eq!(record.authorized_until(), created + ENDPOINT_TOKEN_LIFETIME);
        record.last_reauthorized = Some(created + Duration::minutes(50));
        record.last_renewed = Some(created + Duration::minutes(20));
        assert_eq!(record.authorized_until(), created + Duration::minutes(110));
        record.last_renewed = Some(created + Duration::minutes(70));
        assert_eq!(record.authorized_until(), created + Duration::minutes(130));
        assert_eq!(
            thumbprint(b"abc"),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
    }

    #[test]
    fn debug_output_withholds_client_state() {
        let text = format!("{:?}", record("very-secret-state"));
        assert!(!text.contains("very-secret-state"), "{text}");
        assert!(text.contains("[redacted]"));
    }

    fn interaction(app_class: &str, conversation_type: &str) -> AiInteraction {
        serde_json::from_value(serde_json::json!({
            "id": "1", "sessionId": "19:x@thread.v2", "requestId": "r",
            "appClass": app_class, "interactionType": "userPrompt",
            "conversationType": conversation_type, "createdDateTime": "2026-11-22T08:00:00Z",
        }))
        .unwrap()
    }

    #[test]
    fn every_filter_and_the_user_decide_the_match() {
        let mut record = record("s");
        let teams = "IPM.SkypeTeams.Message.Copilot.Teams";
        assert!(record.matches(&interaction(teams, "appchat"), "u1"));
        assert!(
            !record.matches(&interaction(teams, "BizChat"), "u1"),
            "conversationType ne"
        );
        record.app_class_filter = Some(vec!["IPM.SkypeTeams.Message.Copilot.Word".into()]);
        assert!(
            !record.matches(&interaction(teams, "appchat"), "u1"),
            "appClass eq"
        );
        record.app_class_filter = None;
        record.user_id = Some("U1".into());
        assert!(record.matches(&interaction(teams, "appchat"), "u1"));
        assert!(
            !record.matches(&interaction(teams, "appchat"), "u2"),
            "per-user scope"
        );
        let one_of = ConversationTypeFilter::OneOf(vec!["appchat".into()]);
        assert!(one_of.accepts("appchat") && !one_of.accepts("bizchat"));
    }
}
