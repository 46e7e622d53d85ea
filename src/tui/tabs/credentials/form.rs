//! The profile form the Credentials tab opens with `n` (a new profile) and `e` (the shown one):
//! its fields (name, tenant, client id, client secret), which one has the keys, the field
//! checks made before anything is sent, and where it stands with the collector — validating,
//! failed (offering the explicit "save anyway"), saving.
//!
//! Submitting validates (`ValidateProfile`); a draft that gets a token is saved
//! (`SaveProfile`) without a further key; one that does not stays in the form with the exact
//! failure, and only Ctrl-S, on the very draft that failed, saves it anyway (`force`, the
//! CLI's `creds add --force`). The secret is typed into an [`Input`] that is never drawn and
//! never printed by `Debug`; it leaves the form only as a [`SecretString`](secrecy::SecretString).
//!
//! Pure; depends on the console's command types, the configuration's value checks (so the form
//! refuses exactly what the configuration would) and tui-input; never on drawing.

use secrecy::ExposeSecret;
use tui_input::Input;

use crate::config::{is_dns_name, is_guid, is_profile_name};
use crate::console::{Command, CommandOutcome, ConsoleError, ProfileDraft, ProfileSnapshot};
use crate::tui::action::Action;

mod field;
pub use field::{Field, SecretInput};

/// Where the form stands with the collector.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Being filled in.
    Editing,
    /// `ValidateProfile` sent with this draft; waiting.
    Validating(ProfileDraft),
    /// `SaveProfile` sent with this draft (`force` when saved anyway); waiting.
    Saving {
        /// What was sent.
        draft: ProfileDraft,
        /// Whether it was "save anyway".
        force: bool,
    },
    /// The credentials did not get a token: the exact failure, and the draft that failed
    /// (the one "save anyway" may save, as long as the fields still hold it).
    Failed {
        /// What was validated.
        draft: ProfileDraft,
        /// Why it failed.
        message: String,
    },
    /// The collector refused outright (no configuration to edit, a configuration error):
    /// saving anyway would be refused too, so it is not offered.
    Refused(String),
}

/// What the form makes of an action.
#[derive(Debug, Clone)]
pub enum FormReply {
    /// Handled inside the form.
    Handled,
    /// Tell the user something (the status line); the form stays.
    Notice(String),
    /// Send this command; the label says what runs.
    Send(Command, String),
    /// Close the form, saying why.
    Close(String),
}

/// What the form makes of a command's outcome.
#[derive(Debug, Clone)]
pub enum Next {
    /// Not the form's command, or nothing further to do.
    Stay,
    /// Send this next (a validated draft's save).
    Send(Command),
    /// The draft was saved: close the form.
    Close,
}

/// The profile form.
#[derive(Debug, Clone)]
pub struct Form {
    /// The profile edited, or `None` for a new one (whose name is typed).
    pub editing: Option<String>,
    /// The field with the keys.
    pub focus: Field,
    name: Input,
    tenant: Input,
    client_id: Input,
    secret: SecretInput,
    errors: Vec<(Field, String)>,
    /// Where it stands with the collector.
    pub phase: Phase,
}

impl Form {
    /// An empty form for a new profile.
    pub fn new_profile() -> Self {
        Self {
            editing: None,
            focus: Field::Name,
            name: Input::default(),
            tenant: Input::default(),
            client_id: Input::default(),
            secret: SecretInput::default(),
            errors: Vec::new(),
            phase: Phase::Editing,
        }
    }

    /// A form on `profile`, prefilled; its name is fixed (a profile is renamed by adding the
    /// new name and removing the old) and an empty secret keeps the saved one.
    pub fn edit(profile: &ProfileSnapshot) -> Self {
        Self {
            editing: Some(profile.name.clone()),
            focus: Field::Tenant,
            name: Input::new(profile.name.clone()),
            tenant: Input::new(profile.tenant.clone()),
            client_id: Input::new(profile.client_id.clone()),
            ..Self::new_profile()
        }
    }

    /// A field's text as shown (`None` for the secret, which is never shown).
    pub fn text(&self, field: Field) -> Option<&Input> {
        match field {
            Field::Name => Some(&self.name),
            Field::Tenant => Some(&self.tenant),
            Field::ClientId => Some(&self.client_id),
            Field::Secret => None,
        }
    }

    /// The secret as the mask sees it.
    pub fn secret(&self) -> &SecretInput {
        &self.secret
    }

    /// Why `field` was refused at the last submit, if it was.
    pub fn error(&self, field: Field) -> Option<&str> {
        self.errors
            .iter()
            .find(|(refused, _)| *refused == field)
            .map(|(_, why)| why.as_str())
    }

    /// Whether a command is out and the fields are locked.
    pub fn busy(&self) -> bool {
        matches!(self.phase, Phase::Validating(_) | Phase::Saving { .. })
    }

    /// Whether "save anyway" applies now: the validation failed and the fields still hold
    /// the draft that failed.
    pub fn can_save_anyway(&self) -> bool {
        match &self.phase {
            Phase::Failed { draft, .. } => self.draft().is_some_and(|now| same(&now, draft)),
            _ => false,
        }
    }

    /// The focused field's text, to read; never the secret's.
    pub fn input(&self) -> Option<&Input> {
        self.text(self.focus)
    }

    /// The focused field's text, to edit: `None` while a command is out (the draft sent must
    /// stay the draft shown) and for the fixed name. Typing clears the field's complaint.
    pub fn input_mut(&mut self) -> Option<&mut Input> {
        if self.busy() || (self.focus == Field::Name && self.editing.is_some()) {
            return None;
        }
        let focus = self.focus;
        self.errors.retain(|(field, _)| *field != focus);
        Some(match focus {
            Field::Name => &mut self.name,
            Field::Tenant => &mut self.tenant,
            Field::ClientId => &mut self.client_id,
            Field::Secret => &mut self.secret.0,
        })
    }

    /// Reacts to `action`; `existing` are the profile names the collector knows (a new
    /// profile may not take one).
    pub fn handle(&mut self, action: Action, existing: &[&str]) -> FormReply {
        match action {
            Action::NextField => self.move_focus(1),
            Action::PreviousField => self.move_focus(Field::ALL.len() - 1),
            Action::Open if self.focus == Field::Secret => return self.submit(existing),
            Action::Open => self.move_focus(1),
            Action::SaveAnyway => return self.save_anyway(),
            Action::Back => {
                let why = match self.phase {
                    Phase::Saving { .. } => {
                        "form closed; the save already sent still completes (see the status line)"
                    }
                    _ => "form closed: nothing was saved",
                };
                return FormReply::Close(why.into());
            }
            _ => {}
        }
        FormReply::Handled
    }

    fn move_focus(&mut self, steps: usize) {
        let count = Field::ALL.len();
        let mut index = Field::ALL
            .iter()
            .position(|field| *field == self.focus)
            .unwrap_or(0);
        // The fixed name is skipped: there is nothing to type into it.
        for _ in 0..count {
            index = (index + steps) % count;
            let field = Field::ALL.get(index).copied().unwrap_or(Field::Tenant);
            if !(field == Field::Name && self.editing.is_some()) {
                self.focus = field;
                return;
            }
        }
    }

    /// Checks every field; sends `ValidateProfile` when all pass.
    fn submit(&mut self, existing: &[&str]) -> FormReply {
        if self.busy() {
            return FormReply::Notice("still waiting for the collector's answer".into());
        }
        self.errors = self.check(existing);
        if let Some((first, _)) = self.errors.first() {
            self.focus = *first;
            return FormReply::Notice("fix the marked fields: nothing was sent".into());
        }
        let Some(draft) = self.draft() else {
            return FormReply::Notice("fix the marked fields: nothing was sent".into());
        };
        let label = format!("validating profile {}", draft.name);
        self.phase = Phase::Validating(draft.clone());
        FormReply::Send(Command::ValidateProfile { draft }, label)
    }

    fn save_anyway(&mut self) -> FormReply {
        if !self.can_save_anyway() {
            return FormReply::Notice(match self.phase {
                Phase::Failed { .. } => {
                    "the form changed since it failed: press Enter on the last field to \
                     validate it again"
                        .into()
                }
                _ => "save anyway applies only after a failed validation".into(),
            });
        }
        let Phase::Failed { draft, .. } = &self.phase else {
            return FormReply::Handled;
        };
        let draft = draft.clone();
        let label = format!("saving profile {} unvalidated", draft.name);
        self.phase = Phase::Saving {
            draft: draft.clone(),
            force: true,
        };
        FormReply::Send(Command::SaveProfile { draft, force: true }, label)
    }

    /// Every field's complaint, in field order.
    fn check(&self, existing: &[&str]) -> Vec<(Field, String)> {
        let mut errors = Vec::new();
        let name = self.name.value().trim();
        if self.editing.is_none() {
            if name.is_empty() {
                errors.push((Field::Name, "give the profile a name".to_owned()));
            } else if !is_profile_name(name) {
                errors.push((
                    Field::Name,
                    "1 to 64 characters from A-Z, a-z, 0-9, _ and -".to_owned(),
                ));
            } else if existing.contains(&name) {
                errors.push((
                    Field::Name,
                    format!("profile {name} exists: press e on it to edit it"),
                ));
            }
        }
        let tenant = self.tenant.value().trim();
        if !is_guid(tenant) && !is_dns_name(tenant) {
            errors.push((
                Field::Tenant,
                "a tenant id GUID or a domain such as contoso.onmicrosoft.com".to_owned(),
            ));
        }
        if !is_guid(self.client_id.value().trim()) {
            errors.push((
                Field::ClientId,
                "the application (client) id GUID, 8-4-4-4-12 hex digits".to_owned(),
            ));
        }
        if self.editing.is_none() && self.secret.chars() == 0 {
            errors.push((
                Field::Secret,
                "a new profile needs its client secret".to_owned(),
            ));
        }
        errors
    }

    /// The draft the fields describe (`None` when a new profile has no name yet).
    fn draft(&self) -> Option<ProfileDraft> {
        let name = match &self.editing {
            Some(name) => name.clone(),
            None => self.name.value().trim().to_owned(),
        };
        (!name.is_empty()).then(|| ProfileDraft {
            name,
            tenant: self.tenant.value().trim().to_owned(),
            client_id: self.client_id.value().trim().to_owned(),
            secret: self.secret.value(),
        })
    }

    /// Takes the outcome of `command` if it is the one the form is waiting for.
    pub fn outcome(
        &mut self,
        command: &Command,
        result: &Result<CommandOutcome, ConsoleError>,
    ) -> Next {
        let (sent, saving) = match (&self.phase, command) {
            (Phase::Validating(sent), Command::ValidateProfile { draft }) if same(sent, draft) => {
                (sent.clone(), false)
            }
            (Phase::Saving { draft: sent, .. }, Command::SaveProfile { draft, .. })
                if same(sent, draft) =>
            {
                (sent.clone(), true)
            }
            _ => return Next::Stay,
        };
        match result {
            Ok(outcome) if outcome.succeeded && saving => Next::Close,
            Ok(outcome) if outcome.succeeded => {
                self.phase = Phase::Saving {
                    draft: sent.clone(),
                    force: false,
                };
                Next::Send(Command::SaveProfile {
                    draft: sent,
                    force: false,
                })
            }
            Ok(outcome) => {
                self.phase = Phase::Failed {
                    draft: sent,
                    message: outcome.message.clone(),
                };
                Next::Stay
            }
            Err(error) => {
                self.phase = Phase::Refused(error.to_string());
                Next::Stay
            }
        }
    }
}

/// Whether two drafts say the same thing (the secret compared, never shown).
fn same(a: &ProfileDraft, b: &ProfileDraft) -> bool {
    let secrets = match (&a.secret, &b.secret) {
        (Some(a), Some(b)) => a.expose_secret() == b.expose_secret(),
        (None, None) => true,
        _ => false,
    };
    a.name == b.name && a.tenant == b.tenant && a.client_id == b.client_id && secrets
}

#[cfg(test)]
mod tests;
