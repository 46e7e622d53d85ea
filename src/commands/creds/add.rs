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
use crate::config::{Cloud, Config, Profile, Thresholds};
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
    let (name, tenant, client_id) = identity(&args, input)?;
    let own_file = default_secret_path(&paths.data_dir, &name)?;
    let config = Config::load(&paths.config_file)?;
    let previous = config.profiles.iter().find(|p| p.name == name).cloned();
    if previous.is_some() && !args.replace {
        return Err(CredsError::Exists(name));
    }
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

    let written = match (&plan, &secret) {
        (SecretPlan::Typed | SecretPlan::Stdin, Some(secret)) => {
            Some(WrittenSecret::write(&own_file, secret)?)
        }
        _ => None,
    };
    drop(secret);
    if let Err(error) = candidate.save(&paths.config_file) {
        if let Some(written) = written {
            written.roll_back();
        }
        return Err(error.into());
    }
    let stored_in = written.is_some().then_some(own_file.as_path());
    report(out, &profile, &verdict, stored_in)?;
    // A replaced profile's own secret file is pilotwatch's to clean up once nothing reads it
    // (the new profile does, when its secret was typed again).
    if let Some(old_file) = previous
        .as_ref()
        .and_then(|old| own_secret_file(&paths.data_dir, old))
        && release_own_secret_file(&candidate, &old_file)?
    {
        writeln!(
            out,
            "  deleted the previous secret file {}",
            old_file.display()
        )?;
    }
    Ok(())
}

/// The profile name, tenant and client id: from the flags, else asked for on a terminal, else
/// an error naming every missing flag at once.
fn identity(
    args: &CredsAddArgs,
    input: &mut dyn Input,
) -> Result<(String, String, String), CredsError> {
    let wanted = [
        (args.name.as_ref(), "NAME", "Profile name: "),
        (
            args.tenant.as_ref(),
            "--tenant",
            "Tenant (directory id GUID or domain): ",
        ),
        (
            args.client_id.as_ref(),
            "--client-id",
            "Client (application) id: ",
        ),
    ];
    if !input.is_interactive() {
        let missing: Vec<&'static str> = wanted
            .iter()
            .filter(|(given, _, _)| given.is_none())
            .map(|(_, flag, _)| *flag)
            .collect();
        if !missing.is_empty() {
            return Err(CredsError::Missing { missing });
        }
    }
    let mut answers = Vec::with_capacity(wanted.len());
    for (given, _, prompt) in wanted {
        answers.push(match given {
            Some(value) => value.clone(),
            None => input.read_line(prompt)?,
        });
    }
    let mut answers = answers.into_iter();
    match (answers.next(), answers.next(), answers.next()) {
        (Some(name), Some(tenant), Some(client_id)) => Ok((name, tenant, client_id)),
        _ => Err(CredsError::Missing {
            missing: vec!["NAME", "--tenant", "--client-id"],
        }),
    }
}

/// The profile the flags describe. Settings `creds add` has no flag for (lifecycle URL,
/// encryption key pair, `store_bodies`, thresholds) are kept from the profile being replaced,
/// so rotating a secret with `--replace` does not silently drop them.
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
        (_, _, Some(CloudName::UsGovL4)) => Cloud::UsGovL4,
        (_, _, Some(CloudName::UsGovL5)) => Cloud::UsGovL5,
        _ => Cloud::Public,
    };
    Profile {
        name,
        tenant,
        client_id,
        secret,
        cloud,
        ca_file: args.ca_file.clone(),
        notification_url: args.notification_url.clone(),
        lifecycle_notification_url: previous.and_then(|p| p.lifecycle_notification_url.clone()),
        receiver_bind: args.receiver_bind,
        encryption_certificate: previous.and_then(|p| p.encryption_certificate.clone()),
        encryption_key: previous.and_then(|p| p.encryption_key.clone()),
        store_bodies: previous.is_some_and(|p| p.store_bodies),
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
