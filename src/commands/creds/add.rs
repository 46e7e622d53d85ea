//! `pilotwatch creds add`: gather a profile from flags (prompting on a terminal for what is
//! missing), check every value with the configuration's own validation, read the secret (no
//! echo, standard input, or a source kept in the profile), prove the credentials by requesting
//! a token, and only then write: the secret file first (0600, atomic), the configuration second,
//! so that a crash never leaves a profile pointing at a missing file. Invalid credentials are
//! refused and nothing changes, unless `--force`.
//!
//! Depends on `cli`, `config`, `secret`, `private_file` and this command's `validate`/`prompt`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use secrecy::zeroize::Zeroizing;

use crate::cli::{CloudName, CredsAddArgs};
use crate::config::{Cloud, Config, Profile, SubscriptionScope, Thresholds};
use crate::graph::auth::AccessToken;
use crate::private_file::write_private_atomically;
use crate::secret::{SecretError, SecretSource, default_secret_path, store_secret_file};

use super::validate::{self, ValidationFailure};
use super::{CredsContext, CredsError, Input, own_secret_file, release_own_secret_file};

/// Where the secret comes from this time.
enum SecretPlan {
    /// Typed at a no-echo prompt, then stored in pilotwatch's own file.
    Typed,
    /// The first line of standard input, then stored in pilotwatch's own file.
    Stdin,
    /// Read from its source whenever needed; nothing is stored.
    Kept(SecretSource),
}

impl SecretPlan {
    fn choose(args: &CredsAddArgs, interactive: bool) -> Result<Self, CredsError> {
        if args.secret_stdin {
            Ok(Self::Stdin)
        } else if let Some(var) = &args.secret_env {
            Ok(Self::Kept(SecretSource::Env { var: var.clone() }))
        } else if let Some(argv) = &args.secret_command {
            Ok(Self::Kept(SecretSource::Command { argv: argv.clone() }))
        } else if interactive {
            Ok(Self::Typed)
        } else {
            Err(CredsError::NoSecretSource)
        }
    }

    fn source(&self, own_file: &Path) -> SecretSource {
        match self {
            Self::Typed | Self::Stdin => SecretSource::File {
                path: own_file.to_path_buf(),
            },
            Self::Kept(source) => source.clone(),
        }
    }
}

/// Runs `creds add`.
pub async fn run(
    args: CredsAddArgs,
    context: &CredsContext,
    input: &mut dyn Input,
    out: &mut dyn Write,
) -> Result<(), CredsError> {
    let paths = &context.paths;
    let name = profile_name(&args, input)?;
    let own_file = default_secret_path(&paths.data_dir, &name)?;
    let config = Config::load(&paths.config_file)?;
    let previous = config.profiles.iter().find(|p| p.name == name).cloned();
    if previous.is_some() && !args.replace {
        return Err(CredsError::Exists(name));
    }
    let (tenant, client_id) = tenant_and_client(&args, previous.as_ref(), input)?;
    let plan = SecretPlan::choose(&args, input.is_interactive())?;
    let profile = build_profile(
        &args,
        name,
        tenant,
        client_id,
        plan.source(&own_file),
        previous.as_ref(),
    );
    let mut candidate = config.clone();
    if previous.is_some() {
        candidate.remove_profile(&profile.name)?;
    }
    candidate.add_profile(profile.clone())?;
    candidate.validate()?;

    let secret = match &plan {
        SecretPlan::Typed => Ok(input.read_hidden("Client secret (input hidden): ")?),
        // A terminal on standard input means a person typing: never echo what they type.
        SecretPlan::Stdin if input.is_interactive() => {
            Ok(input.read_hidden("Client secret (input hidden): ")?)
        }
        SecretPlan::Stdin => Ok(input.read_piped_secret()?),
        SecretPlan::Kept(_) => validate::load_secret(&profile).await,
    };
    let (secret, verdict) = match secret {
        Ok(secret) => {
            let verdict =
                validate::request_token(&profile, secret.clone(), context.clock.clone()).await;
            (Some(secret), verdict)
        }
        Err(failure) => (None, Err(failure)),
    };
    let verdict = match verdict {
        Err(failure) if !args.force => {
            return Err(CredsError::Refused {
                name: profile.name,
                failure: Box::new(failure),
            });
        }
        verdict => verdict,
    };

    let to_store = match (&plan, &secret) {
        (SecretPlan::Typed | SecretPlan::Stdin, Some(secret)) => Some(secret),
        _ => None,
    };
    let saved = save_profile(
        &paths.data_dir,
        &paths.config_file,
        &candidate,
        previous.as_ref(),
        to_store.map(|secret| (own_file.as_path(), secret)),
    )?;
    drop(secret);
    let stored_in = saved.stored_secret.then_some(own_file.as_path());
    report(out, &profile, &verdict, stored_in)?;
    if let Some(dropped) = previous.as_ref().and_then(|p| p.secret_expires)
        && profile.secret_expires.is_none()
    {
        writeln!(
            out,
            "  the previous secret_expires ({dropped}) was dropped: it was the old secret's; \
             give --secret-expires for the new one if Graph cannot tell (no Application.Read.All)"
        )?;
    }
    if let Some(old_file) = saved.released {
        writeln!(
            out,
            "  deleted the previous secret file {}",
            old_file.display()
        )?;
    }
    Ok(())
}

/// What [`save_profile`] did besides saving the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedProfile {
    /// The secret was written to pilotwatch's own file for the profile.
    pub stored_secret: bool,
    /// The replaced profile's own secret file, deleted because nothing reads it any more.
    pub released: Option<PathBuf>,
}

/// Saves `candidate` (the configuration with the new or replacing profile, already validated)
/// to `config_file`: the secret file first when `secret` is given (at its path, 0600, atomic),
/// the configuration second, so a crash never leaves a profile pointing at a missing file; a
/// failed save puts the secret file back as it was. Then the `previous` profile's own secret
/// file is deleted once nothing in `candidate` reads it. Shared by `creds add` and the
/// console's profile form.
pub fn save_profile(
    data_dir: &Path,
    config_file: &Path,
    candidate: &Config,
    previous: Option<&Profile>,
    secret: Option<(&Path, &SecretString)>,
) -> Result<SavedProfile, CredsError> {
    let written = match secret {
        Some((path, secret)) => Some(WrittenSecret::write(path, secret)?),
        None => None,
    };
    if let Err(error) = candidate.save(config_file) {
        if let Some(written) = written {
            written.roll_back();
        }
        return Err(error.into());
    }
    // A replaced profile's own secret file is pilotwatch's to clean up once nothing reads it
    // (the new profile does, when its secret was typed again).
    let released = match previous.and_then(|old| own_secret_file(data_dir, old)) {
        Some(old_file) if release_own_secret_file(candidate, &old_file)? => Some(old_file),
        _ => None,
    };
    Ok(SavedProfile {
        stored_secret: written.is_some(),
        released,
    })
}

/// The profile name: the flag, else asked for on a terminal, else an error naming every missing
/// flag at once (a replaced profile's tenant and client id cannot be known without its name).
fn profile_name(args: &CredsAddArgs, input: &mut dyn Input) -> Result<String, CredsError> {
    if let Some(name) = &args.name {
        return Ok(name.clone());
    }
    if input.is_interactive() {
        return Ok(input.read_line("Profile name: ")?);
    }
    let mut missing = vec!["NAME"];
    if args.tenant.is_none() {
        missing.push("--tenant");
    }
    if args.client_id.is_none() {
        missing.push("--client-id");
    }
    Err(CredsError::Missing { missing })
}

/// The tenant and client id: the flags, else the replaced profile's (so rotating a secret is
/// `creds add NAME --replace`), else asked for on a terminal, else an error naming both.
fn tenant_and_client(
    args: &CredsAddArgs,
    previous: Option<&Profile>,
    input: &mut dyn Input,
) -> Result<(String, String), CredsError> {
    let tenant = args
        .tenant
        .clone()
        .or_else(|| previous.map(|p| p.tenant.clone()));
    let client_id = args
        .client_id
        .clone()
        .or_else(|| previous.map(|p| p.client_id.clone()));
    if !input.is_interactive() {
        let missing: Vec<&'static str> = [
            (tenant.is_none(), "--tenant"),
            (client_id.is_none(), "--client-id"),
        ]
        .into_iter()
        .filter_map(|(absent, flag)| absent.then_some(flag))
        .collect();
        if !missing.is_empty() {
            return Err(CredsError::Missing { missing });
        }
    }
    let tenant = match tenant {
        Some(tenant) => tenant,
        None => input.read_line("Tenant (directory id GUID or domain): ")?,
    };
    let client_id = match client_id {
        Some(client_id) => client_id,
        None => input.read_line("Client (application) id: ")?,
    };
    Ok((tenant, client_id))
}

/// The profile the flags describe. With `--replace`, every setting without a flag is kept from
/// the profile being replaced (cloud, CA file, receiver, encryption key pair, `store_bodies`,
/// thresholds), so rotating a secret does not silently drop them — except `secret_expires`,
/// which described the old secret.
fn build_profile(
    args: &CredsAddArgs,
    name: String,
    tenant: String,
    client_id: String,
    secret: SecretSource,
    previous: Option<&Profile>,
) -> Profile {
    let cloud = match (&args.authority, &args.graph_url, args.cloud) {
        (Some(authority), Some(graph), _) => Cloud::Custom {
            authority: authority.clone(),
            graph: graph.clone(),
        },
        (_, _, Some(CloudName::Public)) => Cloud::Public,
        (_, _, Some(CloudName::UsGovL4)) => Cloud::UsGovL4,
        (_, _, Some(CloudName::UsGovL5)) => Cloud::UsGovL5,
        _ => previous.map_or(Cloud::Public, |p| p.cloud.clone()),
    };
    Profile {
        name,
        tenant,
        client_id,
        secret,
        cloud,
        ca_file: args
            .ca_file
            .clone()
            .or_else(|| previous.and_then(|p| p.ca_file.clone())),
        notification_url: args
            .notification_url
            .clone()
            .or_else(|| previous.and_then(|p| p.notification_url.clone())),
        lifecycle_notification_url: previous.and_then(|p| p.lifecycle_notification_url.clone()),
        receiver_bind: args
            .receiver_bind
            .or_else(|| previous.and_then(|p| p.receiver_bind)),
        encryption_certificate: previous.and_then(|p| p.encryption_certificate.clone()),
        encryption_key: previous.and_then(|p| p.encryption_key.clone()),
        store_bodies: previous.is_some_and(|p| p.store_bodies),
        subscription_scope: previous
            .map_or_else(SubscriptionScope::default, |p| p.subscription_scope),
        secret_expires: args.secret_expires,
        thresholds: previous.map_or_else(Thresholds::default, |p| p.thresholds.clone()),
    }
}

/// The one-line outcome, plus where the secret went.
fn report(
    out: &mut dyn Write,
    profile: &Profile,
    verdict: &Result<AccessToken, ValidationFailure>,
    stored_in: Option<&Path>,
) -> io::Result<()> {
    let name = &profile.name;
    match verdict {
        Ok(token) => {
            let mut roles = token.roles().to_vec();
            roles.sort();
            let roles = if roles.is_empty() {
                "none (the token carries no roles: admin consent is probably missing)".to_owned()
            } else {
                roles.join(", ")
            };
            writeln!(
                out,
                "saved profile {name}: token OK, roles: {roles}; run `pilotwatch creds test {name}` for the full report"
            )?;
        }
        Err(failure) => {
            writeln!(out, "saved profile {name} UNVALIDATED (--force): {failure}")?;
            writeln!(
                out,
                "  run `pilotwatch creds test {name}` once the problem is fixed"
            )?;
        }
    }
    match stored_in {
        Some(path) => writeln!(out, "  secret stored in {} (mode 600)", path.display()),
        None => writeln!(out, "  secret read from {} when needed", profile.secret),
    }
}

/// A secret file just written, with what it replaced, so a failed configuration save can put
/// things back as they were.
struct WrittenSecret {
    path: PathBuf,
    previous: Option<Zeroizing<Vec<u8>>>,
}

impl WrittenSecret {
    fn write(path: &Path, secret: &SecretString) -> Result<Self, CredsError> {
        let previous = match std::fs::read(path) {
            Ok(bytes) => Some(Zeroizing::new(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(error) => {
                return Err(SecretError::Io {
                    action: "could not read the secret file being replaced",
                    path: path.to_path_buf(),
                    error,
                }
                .into());
            }
        };
        store_secret_file(path, secret)?;
        Ok(Self {
            path: path.to_path_buf(),
            previous,
        })
    }

    /// Best effort: the error being reported matters more than a failed undo.
    fn roll_back(self) {
        let _ = match &self.previous {
            Some(bytes) => write_private_atomically(&self.path, bytes).map_err(|e| e.source),
            None => std::fs::remove_file(&self.path),
        };
    }
}
