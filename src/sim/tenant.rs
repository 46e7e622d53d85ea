//! The simulated tenant: its ids and domain, the app registration and its client secret, the
//! service principal, and the users. Everything is derived from the seed, so the same `--seed`
//! gives the same tenant on every run; scenarios change behaviour, never these identities.
//!
//! Depends on `graph::model` only.

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// Display names of the simulated users; the last [`UNLICENSED_USERS`] have no Copilot licence.
const USER_NAMES: [&str; 8] = [
    "Adele Vance",
    "Alex Wilber",
    "Diego Siciliani",
    "Grady Archie",
    "Isaiah Langer",
    "Johanna Lorenz",
    "Lee Gu",
    "Megan Bowen",
];

/// How many of the users have no Copilot licence in any scenario.
pub const UNLICENSED_USERS: usize = 2;

/// One simulated user.
#[derive(Debug, Clone)]
pub struct SimUser {
    /// Entra object id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Sign-in name.
    pub user_principal_name: String,
    /// Holds a Copilot licence when the tenant has Copilot at all.
    pub has_copilot_seat: bool,
}

/// The app registration pilotwatch uses.
#[derive(Debug)]
pub struct AppRegistration {
    /// Client id (`appId`).
    pub client_id: String,
    /// Application object id.
    pub object_id: String,
    /// Service principal object id (`oid` of its tokens).
    pub service_principal_id: String,
    /// Display name.
    pub display_name: String,
    /// The client secret's value.
    pub secret: SecretString,
    /// The secret's "Secret ID" (`keyId`), which operators paste by mistake.
    pub secret_key_id: String,
    /// When the secret was created.
    pub secret_created: DateTime<Utc>,
}

impl AppRegistration {
    /// First three characters of the secret, as the portal shows them.
    pub fn secret_hint(&self) -> String {
        self.secret.expose_secret().chars().take(3).collect()
    }
}

/// The whole simulated tenant.
#[derive(Debug)]
pub struct Tenant {
    /// Tenant id.
    pub id: String,
    /// Initial domain, e.g. `contoso-7f3a.onmicrosoft.com`.
    pub domain: String,
    /// Display name.
    pub display_name: String,
    /// The app registration.
    pub app: AppRegistration,
    /// Users, licensed first.
    pub users: Vec<SimUser>,
}

impl Tenant {
    /// Builds the tenant for `seed`; `now` dates the client secret's creation.
    pub fn generate(seed: u64, now: DateTime<Utc>) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let id = uuid_from(&mut rng);
        let label: String = id.chars().take(4).collect();
        let domain = format!("contoso-{label}.onmicrosoft.com");
        let users = USER_NAMES
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let login = name.to_lowercase().replace(' ', ".");
                SimUser {
                    id: uuid_from(&mut rng),
                    display_name: (*name).to_owned(),
                    user_principal_name: format!("{login}@{domain}"),
                    has_copilot_seat: index < USER_NAMES.len() - UNLICENSED_USERS,
                }
            })
            .collect();
        let app = AppRegistration {
            client_id: uuid_from(&mut rng),
            object_id: uuid_from(&mut rng),
            service_principal_id: uuid_from(&mut rng),
            display_name: "Copilot interaction export".to_owned(),
            secret: SecretString::from(secret_value(&mut rng)),
            secret_key_id: uuid_from(&mut rng),
            secret_created: now - chrono::Duration::days(30),
        };
        Self {
            id,
            domain,
            display_name: format!("Contoso {label}"),
            app,
            users,
        }
    }

    /// True when `tenant` (a GUID or a domain, any case) names this tenant.
    pub fn matches(&self, tenant: &str) -> bool {
        tenant.eq_ignore_ascii_case(&self.id) || tenant.eq_ignore_ascii_case(&self.domain)
    }

    /// The user with object id `id`.
    pub fn user(&self, id: &str) -> Option<&SimUser> {
        self.users
            .iter()
            .find(|user| user.id.eq_ignore_ascii_case(id))
    }
}

fn uuid_from(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// A value shaped like an Entra client secret: 40 characters with `~` at position 4.
fn secret_value(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.";
    let mut value: String = (0..40)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    value.replace_range(3..4, "~");
    value
}

/// Parses a GUID the way the identity platform accepts tenant ids.
pub fn is_guid(text: &str) -> bool {
    Uuid::try_parse(text).is_ok() && text.len() == 36
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_tenant_other_seed_other_tenant() {
        let now = Utc::now();
        let a = Tenant::generate(7, now);
        let b = Tenant::generate(7, now);
        let c = Tenant::generate(8, now);
        assert_eq!(a.id, b.id);
        assert_eq!(a.app.client_id, b.app.client_id);
        assert_eq!(a.app.secret.expose_secret(), b.app.secret.expose_secret());
        assert_ne!(a.id, c.id);
        assert!(a.matches(&a.domain.to_uppercase()));
        assert_eq!(
            a.users.iter().filter(|u| !u.has_copilot_seat).count(),
            UNLICENSED_USERS
        );
    }

    #[test]
    fn secret_looks_like_an_entra_secret_and_debug_hides_it() {
        let tenant = Tenant::generate(1, Utc::now());
        let secret = tenant.app.secret.expose_secret();
        assert_eq!(secret.len(), 40);
        assert_eq!(&secret[3..4], "~");
        assert_eq!(tenant.app.secret_hint(), &secret[..3]);
        assert!(!format!("{tenant:?}").contains(secret));
    }
}
