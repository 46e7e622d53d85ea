//! The credentials form's commands: validate a draft profile (request a token with it), save
//! it (validated first; refused, changing nothing, when the credentials do not work, unless
//! the form's explicit "save anyway" forces it as `creds add --force` does) and remove a
//! profile, through the same code as `pilotwatch creds add` and `creds rm`.
//!
//! A draft carries the fields the form edits; every other setting of a replaced profile is
//! kept, and a new profile starts from the defaults (public cloud, tenant-wide subscription).
//! A typed secret is stored in pilotwatch's own 0600 file for the profile. The running
//! collector keeps the profiles it started with: changes apply at its next start.
//!
//! Depends on `config`, `secret` and `commands::creds` (validate, add, rm); the draft's secret
//! is never printed or logged.

use std::sync::Arc;

use secrecy::SecretString;

use super::Backend;
use crate::commands::creds::add::save_profile;
use crate::commands::creds::rm::remove_profile;
use crate::commands::creds::validate::{self, ValidationFailure};
use crate::config::{Cloud, Config, Paths, Profile, SubscriptionScope, Thresholds};
use crate::console::{CommandOutcome, ConsoleError, ProfileDraft};
use crate::secret::{SecretSource, default_secret_path};

/// The draft as a profile to validate or save, the configuration with it in place, and the
/// profile it replaces.
struct Prepared {
    profile: Profile,
    candidate: Config,
    previous: Option<Profile>,
}

/// Where profile edits go; refused when the backend was given none (the demo).
fn paths(backend: &Backend) -> Result<&Paths, ConsoleError> {
    backend.options.paths.as_ref().ok_or_else(|| {
        ConsoleError::Refused(
            "profiles cannot be edited here: this collector runs without a configuration file \
             (the demo); use `pilotwatch creds add` against your configuration"
                .into(),
        )
    })
}

fn refused(error: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::Refused(error.to_string())
}

fn prepare(paths: &Paths, draft: &ProfileDraft) -> Result<Prepared, ConsoleError> {
    let config = Config::load(&paths.config_file).map_err(refused)?;
    let previous = config
        .profiles
        .iter()
        .find(|profile| profile.name == draft.name)
        .cloned();
    let own_file = default_secret_path(&paths.data_dir, &draft.name).map_err(refused)?;
    let secret = match (&draft.secret, &previous) {
        (Some(_), _) => SecretSource::File { path: own_file },
        (None, Some(previous)) => previous.secret.clone(),
        (None, None) => {
            return Err(ConsoleError::Refused(format!(
                "profile {} is new: its client secret is required",
                draft.name
            )));
        }
    };
    let profile = from_draft(draft, secret, previous.as_ref());
    let mut candidate = config;
    if previous.is_some() {
        candidate.remove_profile(&profile.name).map_err(refused)?;
    }
    candidate.add_profile(profile.clone()).map_err(refused)?;
    candidate.validate().map_err(refused)?;
    Ok(Prepared {
        profile,
        candidate,
        previous,
    })
}

/// The profile a draft describes: the replaced profile's other settings, or the defaults.
fn from_draft(draft: &ProfileDraft, secret: SecretSource, previous: Option<&Profile>) -> Profile {
    let new_secret = draft.secret.is_some();
    Profile {
        name: draft.name.clone(),
        tenant: draft.tenant.trim().to_owned(),
        client_id: draft.client_id.trim().to_owned(),
        secret,
        cloud: previous.map_or(Cloud::Public, |p| p.cloud.clone()),
        ca_file: previous.and_then(|p| p.ca_file.clone()),
        notification_url: previous.and_then(|p| p.notification_url.clone()),
        lifecycle_notification_url: previous.and_then(|p| p.lifecycle_notification_url.clone()),
        receiver_bind: previous.and_then(|p| p.receiver_bind),
        encryption_certificate: previous.and_then(|p| p.encryption_certificate.clone()),
        encryption_key: previous.and_then(|p| p.encryption_key.clone()),
        store_bodies: previous.is_some_and(|p| p.store_bodies),
        subscription_scope: previous
            .map_or_else(SubscriptionScope::default, |p| p.subscription_scope),
        // The expiry described the old secret.
        secret_expires: previous
            .filter(|_| !new_secret)
            .and_then(|p| p.secret_expires),
        thresholds: previous.map_or_else(Thresholds::default, |p| p.thresholds.clone()),
    }
}

/// The secret to test: the draft's, or the saved profile's from its source.
async fn secret_of(
    draft: &ProfileDraft,
    profile: &Profile,
) -> Result<SecretString, ValidationFailure> {
    match &draft.secret {
        Some(secret) => Ok(secret.clone()),
        None => validate::load_secret(profile).await,
    }
}

/// Requests a token with the draft; `Ok` with the roles it carries.
async fn check(
    backend: &Backend,
    draft: &ProfileDraft,
    profile: &Profile,
) -> Result<String, ValidationFailure> {
    let secret = secret_of(draft, profile).await?;
    let token = validate::request_token(profile, secret, backend.options.clock.clone()).await?;
    let mut roles = token.roles().to_vec();
    roles.sort();
    Ok(if roles.is_empty() {
        "no roles (admin consent is probably missing)".to_owned()
    } else {
        format!("roles {}", roles.join(", "))
    })
}

/// Answers `ValidateProfile`: whether the draft's credentials get a token.
pub(super) async fn validate(
    backend: Arc<Backend>,
    draft: ProfileDraft,
) -> Result<CommandOutcome, ConsoleError> {
    let prepared = prepare(paths(&backend)?, &draft)?;
    Ok(match check(&backend, &draft, &prepared.profile).await {
        Ok(roles) => CommandOutcome::done(format!(
            "profile {}: token issued, {roles}",
            prepared.profile.name
        )),
        Err(failure) => {
            CommandOutcome::failed(format!("profile {}: {failure}", prepared.profile.name))
        }
    })
}

/// Answers `SaveProfile`: validated first, then saved as `creds add --replace` saves; with
/// `force`, saved even when validation fails (and the outcome says UNVALIDATED, as the CLI's
/// `--force` does).
pub(super) async fn save(
    backend: Arc<Backend>,
    draft: ProfileDraft,
    force: bool,
) -> Result<CommandOutcome, ConsoleError> {
    let paths = paths(&backend)?.clone();
    let prepared = prepare(&paths, &draft)?;
    let name = prepared.profile.name.clone();
    let verdict = match check(&backend, &draft, &prepared.profile).await {
        Ok(roles) => format!("token issued, {roles}"),
        Err(failure) if force => format!("UNVALIDATED (saved anyway): {failure}"),
        Err(failure) => {
            return Ok(CommandOutcome::failed(format!(
                "profile {name} not saved, its credentials could not be confirmed: {failure}"
            )));
        }
    };
    let secret = draft.secret.clone();
    let saved = tokio::task::spawn_blocking(move || {
        let own_file = match &prepared.profile.secret {
            SecretSource::File { path } => Some(path.clone()),
            _ => None,
        };
        let to_store = own_file.as_deref().zip(secret.as_ref());
        save_profile(
            &paths.data_dir,
            &paths.config_file,
            &prepared.candidate,
            prepared.previous.as_ref(),
            to_store,
        )
    })
    .await
    .map_err(|error| ConsoleError::Failed(format!("saving stopped: {error}")))?
    .map_err(|error| ConsoleError::Failed(error.to_string()))?;
    let mut message = format!("saved profile {name}: {verdict}");
    if saved.stored_secret {
        message.push_str("; secret stored (mode 600)");
    }
    message.push_str("; the collector uses it from its next start");
    Ok(CommandOutcome::done(message))
}

/// Answers `RemoveProfile`.
pub(super) async fn remove(
    backend: Arc<Backend>,
    name: String,
) -> Result<CommandOutcome, ConsoleError> {
    let paths = paths(&backend)?.clone();
    let (removed, fate) = tokio::task::spawn_blocking(move || {
        remove_profile(&name, &paths).map(|(p, fate)| (p.name, fate))
    })
    .await
    .map_err(|error| ConsoleError::Failed(format!("removing stopped: {error}")))?
    .map_err(|error| match error {
        crate::commands::creds::CredsError::UnknownProfile { .. } => refused(error),
        other => ConsoleError::Failed(other.to_string()),
    })?;
    Ok(CommandOutcome::done(format!(
        "removed profile {removed} ({}); the collector stops using it at its next start",
        fate.describe()
    )))
}
