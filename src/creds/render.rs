//! Plain text of a [`CredentialReport`] for `pilotwatch creds test`: a header line with the
//! overall state, then one block per check — `[CRIT] title — summary`, the evidence, the cause
//! and the numbered fix.
//!
//! No colours (the CLI prints to pipes and honours `NO_COLOR`) and no wrapping (terminals wrap).
//! Everything printed comes from the report, which never holds a secret. Pure: depends only on
//! the report types and [`Severity`].

use std::fmt::{self, Write as _};

use crate::clock::stamp;
use crate::creds::report::{Check, CredentialReport};
use crate::severity::Severity;
use crate::terminal_text::printable_lines;

/// The report as text, ending with a newline.
pub fn render(report: &CredentialReport) -> String {
    let mut text = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_report(&mut text, report);
    // Evidence quotes the network (error messages, display names): no escape sequence of theirs
    // reaches the terminal.
    printable_lines(&text).into_owned()
}

/// A fixed-width tag per severity, so block titles line up.
pub fn tag(severity: Severity) -> &'static str {
    match severity {
        Severity::Ok => "[ OK ]",
        Severity::Info => "[INFO]",
        Severity::Warning => "[WARN]",
        Severity::Critical => "[CRIT]",
        Severity::Unknown => "[UNKN]",
    }
}

fn write_report(out: &mut String, report: &CredentialReport) -> fmt::Result {
    writeln!(
        out,
        "profile {} (tenant {}, client {}): {}",
        report.profile,
        report.tenant,
        report.client_id,
        report.severity.label()
    )?;
    writeln!(out, "checked at {}", stamp(report.checked_at))?;
    for check in &report.checks {
        writeln!(out)?;
        write_check(out, check)?;
    }
    Ok(())
}

/// One check as text, as [`render`] prints it (no control characters).
pub fn render_check(check: &Check) -> String {
    let mut text = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_check(&mut text, check);
    printable_lines(&text).into_owned()
}

fn write_check(out: &mut String, check: &Check) -> fmt::Result {
    writeln!(
        out,
        "{} {} — {}",
        tag(check.severity),
        check.title,
        check.summary
    )?;
    for line in &check.evidence {
        writeln!(out, "       {line}")?;
    }
    if let Some(cause) = &check.cause {
        writeln!(out, "       Cause: {cause}")?;
    }
    if !check.fix.is_empty() {
        writeln!(out, "       Fix:")?;
        for (number, step) in check.fix.iter().enumerate() {
            writeln!(out, "         {}. {step}", number + 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::Duration;

    use super::*;
    use crate::creds::assess::assess;
    use crate::creds::assess::test_facts::*;
    use crate::creds::facts::{CredentialFacts, Readable, SecretShape, ServerClock, TokenFacts};
    use crate::graph::auth::AuthError;
    use crate::graph::model::well_known::{
        CHANGE_TRACKING_APP_ID, COPILOT_SERVICE_PLANS, GRAPH_DEFAULT_SCOPE,
    };

    /// Profiles in many states, so every kind of text gets rendered.
    fn scenarios() -> Vec<CredentialFacts> {
        let mut secret_id = healthy();
        secret_id.secret.loaded = Ok(SecretShape {
            hint: "9a0".into(),
            looks_like_secret_id: true,
            length: 36,
        });
        let mut broken_tenant = healthy();
        let mut principal = service_principal();
        principal.app_role_assignment_required = true;
        broken_tenant.service_principal = Readable::Read(principal);
        broken_tenant.subscribed_skus = Readable::Read(Vec::new());
        broken_tenant.sampled_users = Readable::Read(vec![unlicensed_user()]);
        broken_tenant.checked_at = now() + Duration::days(64);
        broken_tenant.server_date = Some(ServerClock {
            server: now() + Duration::minutes(7),
            local: now(),
        });
        let mut delegated = healthy();
        let mut claims = claims();
        claims.scp = Some("User.Read".into());
        delegated.token = TokenFacts::Granted {
            claims: Some(claims),
            expires_at: now(),
        };
        vec![
            healthy(),
            refused(secret_id, rejection_fixture(TOKEN_ERROR_7000215, 401)),
            refused(healthy(), rejection_fixture(TOKEN_ERROR_90002, 400)),
            refused(healthy(), rejection_fixture(TOKEN_ERROR_700016, 400)),
            refused(healthy(), rejection_fixture(TOKEN_ERROR_7000222, 401)),
            refused(healthy(), rejection(Some(70_011), "invalid_scope", 400)),
            refused(healthy(), rejection(Some(50_196), "invalid_request", 400)),
            refused(
                healthy(),
                AuthError::Network {
                    message: "invalid peer certificate: UnknownIssuer".into(),
                    tls_certificate: true,
                },
            ),
            broken_tenant,
            delegated,
        ]
    }

    #[test]
    fn escape_sequences_from_the_network_never_reach_the_terminal() {
        let mut facts = healthy();
        if let Readable::Read(principal) = &mut facts.service_principal {
            principal.display_name = "\u{1b}]0;pwned\u{7}\u{1b}[2JCopilot export".into();
        }
        let text = render(&assess(&facts));
        assert!(text.contains("]0;pwned[2JCopilot export"), "{text}");
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
    }

    #[test]
    fn header_and_blocks_follow_the_documented_layout() {
        let report = assess(&refused(
            healthy(),
            rejection_fixture(TOKEN_ERROR_7000222, 401),
        ));
        let text = render(&report);
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            format!(
                "profile contoso (tenant {}, client {}): CRITICAL",
                report.tenant, report.client_id
            )
        );
        assert!(text.contains(
            "\n[CRIT] Token — token refused: the client secret has expired (AADSTS7000222)\n"
        ));
        assert!(text.contains("\n       Cause: The secret configured for app"));
        assert!(text.contains("\n       Fix:\n         1. Open Microsoft Entra admin center"));
        assert!(text.contains("\n         3. Store it: `pilotwatch creds add contoso --replace`"));
        assert!(text.contains("\n[UNKN] Application permissions — not checked: no token\n"));
        assert!(text.contains("\n[ OK ] Client secret — the client secret loads from file"));
        assert!(text.ends_with('\n'));
        // One block per check, in order.
        let titles: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with('['))
            .map(|line| &line[7..])
            .collect();
        assert_eq!(titles.len(), report.checks.len());
        for (line, check) in titles.iter().zip(&report.checks) {
            assert!(line.starts_with(&check.title), "{line}");
        }
    }

    #[test]
    fn a_healthy_report_has_no_cause_or_fix() {
        let text = render(&assess(&healthy()));
        assert!(text.lines().next().unwrap().ends_with(": OK"));
        assert!(!text.contains("Cause:"));
        assert!(!text.contains("Fix:"));
        assert_eq!(text.matches("[ OK ]").count(), 8);
    }

    /// Every GUID and URL in the text must come from the facts or from Microsoft's documented
    /// constants: the report invents no identifier and echoes nothing it was not given.
    #[test]
    fn rendered_identifiers_all_come_from_the_facts_or_documented_constants() {
        let mut documented: Vec<String> = COPILOT_SERVICE_PLANS
            .iter()
            .map(|(id, _)| (*id).to_owned())
            .collect();
        documented.push(CHANGE_TRACKING_APP_ID.to_owned());
        documented.push(GRAPH_DEFAULT_SCOPE.to_owned());
        for facts in scenarios() {
            let known = serde_json::to_string(&facts).unwrap();
            let text = render(&assess(&facts));
            for word in text.split(|c: char| c.is_whitespace() || "`\"(),;".contains(c)) {
                let word = word.trim_end_matches(['.', ':']);
                let is_guid = uuid::Uuid::try_parse(word).is_ok();
                let is_url = word.starts_with("http://") || word.starts_with("https://");
                if !(is_guid || is_url) {
                    continue;
                }
                let explained = known.contains(word)
                    || documented.iter().any(|d| d == word)
                    || word
                        .strip_prefix("https://login.microsoftonline.com/error?code=")
                        .is_some_and(|code| known.contains(&format!("\"code\":{code}")));
                assert!(
                    explained,
                    "`{word}` is in neither the facts nor the docs:\n{text}"
                );
            }
        }
    }

    #[test]
    fn only_the_hint_of_the_secret_is_ever_shown() {
        // The probe derives the shape from the secret; only the hint may reach the text.
        let secret = "Q~7xY9.abcdefghijklmnopqrstuvwxyz012345";
        let mut facts = healthy();
        facts.secret.loaded = Ok(SecretShape {
            hint: secret.chars().take(3).collect(),
            looks_like_secret_id: false,
            length: secret.len(),
        });
        for facts in [
            facts.clone(),
            refused(facts, rejection_fixture(TOKEN_ERROR_7000215, 401)),
        ] {
            let text = render(&assess(&facts));
            assert!(text.contains("`Q~7`"));
            assert!(!text.contains(&secret[..4]));
        }
    }
}
