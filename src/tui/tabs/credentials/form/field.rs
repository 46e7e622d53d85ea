//! A field of the profile form, and the secret's input: edited like any other field, but with
//! a `Debug` that says nothing about it and no accessor that hands out its text except as a
//! [`SecretString`].
//!
//! Pure; depends on tui-input and secrecy only.

use std::fmt;

use secrecy::SecretString;
use tui_input::Input;

/// A field of the form, in the order Tab visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The profile's name (fixed when editing).
    Name,
    /// Tenant id GUID or domain.
    Tenant,
    /// Application (client) id GUID.
    ClientId,
    /// The client secret's value.
    Secret,
}

impl Field {
    /// In the order they are shown and visited.
    pub const ALL: [Field; 4] = [Field::Name, Field::Tenant, Field::ClientId, Field::Secret];

    /// The label drawn before the field.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::Tenant => "Tenant",
            Field::ClientId => "Client id",
            Field::Secret => "Client secret",
        }
    }
}

/// The secret's text: edited like any field, but its `Debug` says nothing about it.
#[derive(Clone, Default)]
pub struct SecretInput(pub(super) Input);

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretInput([hidden])")
    }
}

impl SecretInput {
    /// How many characters were typed: what the mask shows, never what they are.
    pub fn chars(&self) -> usize {
        self.0.value().chars().count()
    }

    /// Where the cursor is, in characters.
    pub fn cursor(&self) -> usize {
        self.0.visual_cursor()
    }

    /// What was typed, as a secret; `None` when nothing was.
    pub fn value(&self) -> Option<SecretString> {
        let text = self.0.value();
        (!text.is_empty()).then(|| SecretString::from(text.to_owned()))
    }
}
