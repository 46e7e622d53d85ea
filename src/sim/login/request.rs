//! Reading a token request the way the identity platform reads it: parameters come only from an
//! `application/x-www-form-urlencoded` body (any other body reads as "no parameters"), and the
//! client may authenticate with `client_secret` in the form or with HTTP Basic, whose user and
//! password are form-urlencoded before base64 (RFC 6749 §2.3.1).
//!
//! Pure: no state, no HTTP types beyond header strings. Credentials are held as secrets from
//! the moment they are read, so no `Debug` of a request can leak them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

/// Form parameters a client-credentials request may carry, each at most once (RFC 6749 §3.2).
const SINGLE_VALUED: [&str; 7] = [
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "client_assertion",
    "client_assertion_type",
    "resource",
];

/// A token request as read from the wire. Empty values count as absent.
#[derive(Debug, Default)]
pub struct TokenRequest {
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `client_id` from the form or the Basic user name.
    pub client_id: Option<String>,
    /// `client_secret` from the form or the Basic password.
    pub client_secret: Option<SecretString>,
    /// `client_assertion` (certificate credential), never compared, only noticed.
    pub client_assertion: Option<SecretString>,
    /// `scope`.
    pub scope: Option<String>,
    /// The v1 `resource` parameter, which the v2 endpoint refuses.
    pub resource: bool,
}

/// Why a request is malformed (AADSTS9002313). Logged, never shown: the live service gives no
/// detail either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// A parameter appears more than once.
    #[error("a parameter appears more than once")]
    DuplicateParameter,
    /// `Authorization: Basic` is not base64 of `id:secret` in UTF-8.
    #[error("the Basic credentials cannot be decoded")]
    BadBasicHeader,
    /// The form and the Basic header name different clients.
    #[error("client_id in the body and in the Authorization header differ")]
    ClientIdMismatch,
    /// The form and the Basic header carry different secrets.
    #[error("client_secret in the body and in the Authorization header differ")]
    SecretMismatch,
}

/// Reads a request from its `Content-Type`, body and `Authorization` header.
pub fn parse(
    content_type: Option<&str>,
    body: &[u8],
    authorization: Option<&str>,
) -> Result<TokenRequest, Malformed> {
    let mut form = TokenRequest::default();
    if is_form(content_type) {
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            if SINGLE_VALUED.contains(&name.as_ref()) {
                if seen.iter().any(|known| *known == name) {
                    return Err(Malformed::DuplicateParameter);
                }
                seen.push(name.to_string());
            }
            let value = Some(value.into_owned()).filter(|value| !value.is_empty());
            match name.as_ref() {
                "grant_type" => form.grant_type = value,
                "client_id" => form.client_id = value,
                "client_secret" => form.client_secret = value.map(SecretString::from),
                "client_assertion" => form.client_assertion = value.map(SecretString::from),
                "scope" => form.scope = value,
                "resource" => form.resource = true,
                _ => {}
            }
        }
    }
    if let Some((user, password)) = basic_credentials(authorization)? {
        merge_basic(&mut form, user, password)?;
    }
    Ok(form)
}

fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The decoded `(user, password)` of an `Authorization: Basic` header; `None` for no header or
/// another scheme (the token endpoint ignores bearer tokens).
fn basic_credentials(
    authorization: Option<&str>,
) -> Result<Option<(String, SecretString)>, Malformed> {
    let Some((scheme, encoded)) = authorization.and_then(|value| value.trim().split_once(' '))
    else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| Malformed::BadBasicHeader)?;
    let decoded =
        SecretString::from(String::from_utf8(decoded).map_err(|_| Malformed::BadBasicHeader)?);
    let (user, password) = decoded
        .expose_secret()
        .split_once(':')
        .ok_or(Malformed::BadBasicHeader)?;
    let user = form_decode(user)?;
    let password = SecretString::from(form_decode(password)?);
    Ok(Some((user, password)))
}

/// Undoes `application/x-www-form-urlencoded` on one component: `+` is a space, `%XX` a byte.
fn form_decode(component: &str) -> Result<String, Malformed> {
    let spaced = component.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| Malformed::BadBasicHeader)
}

fn merge_basic(
    form: &mut TokenRequest,
    user: String,
    password: SecretString,
) -> Result<(), Malformed> {
    if !user.is_empty() {
        match &form.client_id {
            Some(id) if !id.eq_ignore_ascii_case(&user) => {
                return Err(Malformed::ClientIdMismatch);
            }
            Some(_) => {}
            None => form.client_id = Some(user),
        }
    }
    if !password.expose_secret().is_empty() {
        match &form.client_secret {
            Some(secret) if secret.expose_secret() != password.expose_secret() => {
                return Err(Malformed::SecretMismatch);
            }
            Some(_) => {}
            None => form.client_secret = Some(password),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded; charset=utf-8");

    fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
    }

    #[test]
    fn reads_the_form() {
        let body = b"grant_type=client_credentials&client_id=abc&client_secret=s%7Ecret+x&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&other=1&other=2";
        let request = parse(FORM, body, None).unwrap();
        assert_eq!(request.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(request.client_id.as_deref(), Some("abc"));
        assert_eq!(request.client_secret.unwrap().expose_secret(), "s~cret x");
        assert_eq!(
            request.scope.as_deref(),
            Some("https://graph.microsoft.com/.default")
        );
        assert!(!request.resource);
    }

    #[test]
    fn anything_but_a_form_has_no_parameters() {
        let body = br#"{"grant_type":"client_credentials"}"#;
        for content_type in [Some("application/json"), None, Some("text/plain")] {
            let request = parse(content_type, body, None).unwrap();
            assert!(request.grant_type.is_none());
        }
        let garbage = parse(FORM, &[0xff, 0xfe, b'=', 0x00], None).unwrap();
        assert!(garbage.grant_type.is_none());
    }

    #[test]
    fn empty_values_are_absent_and_duplicates_are_malformed() {
        let request = parse(FORM, b"grant_type=&client_secret=", None).unwrap();
        assert!(request.grant_type.is_none());
        assert!(request.client_secret.is_none());
        assert_eq!(
            parse(FORM, b"scope=a&scope=b", None).unwrap_err(),
            Malformed::DuplicateParameter
        );
    }

    #[test]
    fn basic_credentials_are_form_decoded_and_merged() {
        let header = basic("abc", "s%7Ecret+x");
        let request = parse(FORM, b"grant_type=client_credentials", Some(&header)).unwrap();
        assert_eq!(request.client_id.as_deref(), Some("abc"));
        assert_eq!(request.client_secret.unwrap().expose_secret(), "s~cret x");

        let same = parse(FORM, b"client_id=ABC", Some(&header)).unwrap();
        assert_eq!(same.client_id.as_deref(), Some("ABC"));

        assert_eq!(
            parse(FORM, b"client_id=other", Some(&header)).unwrap_err(),
            Malformed::ClientIdMismatch
        );
        assert_eq!(
            parse(FORM, b"client_secret=other", Some(&header)).unwrap_err(),
            Malformed::SecretMismatch
        );
    }

    #[test]
    fn broken_basic_headers_are_malformed_and_other_schemes_ignored() {
        for header in [
            "Basic !!!not-base64",
            &format!("Basic {}", STANDARD.encode("no-colon")),
            &format!("Basic {}", STANDARD.encode([0xff, b':', 0xfe])),
            &basic("abc", "%ff"),
        ] {
            assert_eq!(
                parse(FORM, b"", Some(header)).unwrap_err(),
                Malformed::BadBasicHeader,
                "{header}"
            );
        }
        let bearer = parse(FORM, b"", Some("Bearer abc.def.ghi")).unwrap();
        assert!(bearer.client_id.is_none());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let request = parse(FORM, b"client_secret=hunter2secret", None).unwrap();
        assert!(!format!("{request:?}").contains("hunter2secret"));
    }
}
