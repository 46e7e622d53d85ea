//! The certificate invariant: every kept subscription encrypts for the current certificate.
//!
//! Graph cannot change a subscription's certificate (PATCH takes `expirationDateTime` and
//! `notificationUrl` only, graph-facts §3.2), so a subscription on an older one is replaced.
//! Make-before-break is not possible: Graph allows one tenant-wide subscription per app and
//! tenant, and one per app and user (§2), and answers a second create on the same resource with
//! 409. So the old subscription is deleted first and the new one created at once with the
//! current certificate; the poller then backfills from just before the last notification, which
//! covers the moment with no subscription and anything Graph was still retrying for the old
//! one. The previous key stays loaded (`EncryptionKeys` keeps it), so notifications already
//! encrypted for the old certificate still decrypt; the receiver still accepts them because a
//! replaced subscription's `clientState` stays known (`collector::ports`).
//!
//! Checked on restore (keys rotated while pilotwatch was stopped) and whenever the
//! [`super::KeeperWaker`] rings (rotated in process). Part of the keeper; uses `api` and its
//! seams only.

use super::plan::Desired;
use super::units::Units;
use super::{Keeper, Tracker};
use super::{api, failure};
use crate::collector::poller::GapReason;
use crate::store::records::{KeeperAction, Outcome, SubscriptionState};

impl Keeper {
    /// The keys may have rotated: every unit whose subscription encrypts for another
    /// certificate acts now (its action is the replacement).
    pub(super) fn certificate_changed(&self, units: &mut Units) {
        let current = self.certificates.current_certificate_id();
        let now = self.clock.now();
        let mut stale = 0_usize;
        for tracker in units.iter_mut() {
            let on_old = tracker
                .current
                .as_ref()
                .is_some_and(|record| record.certificate_id.as_deref() != Some(current.as_str()));
            if on_old {
                stale += 1;
                tracker.next_at = now;
                tracker.failures = 0;
            }
        }
        if stale > 0 {
            self.note(
                KeeperAction::RotateCertificate,
                Outcome::Succeeded,
                format!(
                    "the encryption certificate is now {current}: moving {stale} subscription(s) to it"
                ),
            );
        }
    }

    /// Replaces the unit's subscription with one on the current certificate: delete, then
    /// create at once, then backfill the gap.
    pub(super) async fn replace_for_certificate(&self, desired: &Desired, tracker: &mut Tracker) {
        let Some(mut old) = tracker.current.clone() else {
            return;
        };
        let old_certificate = old.certificate_id.clone().unwrap_or_default();
        if let Err(error) = api::delete(&self.graph, &old.id).await {
            self.fail(
                tracker,
                KeeperAction::RotateCertificate,
                Some(failure::classify(&error)),
                format!(
                    "cannot delete subscription {} to move it from certificate {old_certificate} to {}: {error}; it keeps encrypting for the old certificate, whose key stays loaded",
                    old.id, desired.certificate_id
                ),
            );
            return;
        }
        let from = self.gap_from(old.created_at);
        old.state = SubscriptionState::Replaced;
        self.save(&old);
        tracker.current = None;
        tracker
            .pending_gap
            .get_or_insert((from, GapReason::Replaced));
        self.establish(desired, tracker).await;
        match &tracker.current {
            Some(new) => self.note(
                KeeperAction::RotateCertificate,
                Outcome::Succeeded,
                format!(
                    "moved {} from subscription {} (certificate {old_certificate}, deleted) to subscription {} (certificate {}); notifications still encrypted for the old certificate decrypt with the previous key",
                    new.resource,
                    old.id,
                    new.id,
                    new.certificate_id.as_deref().unwrap_or("(none)")
                ),
            ),
            None => self.note(
                KeeperAction::RotateCertificate,
                Outcome::Failed,
                format!(
                    "deleted subscription {} (certificate {old_certificate}) but its replacement on certificate {} is not created yet; retrying as the creation event says",
                    old.id, desired.certificate_id
                ),
            ),
        }
    }
}
