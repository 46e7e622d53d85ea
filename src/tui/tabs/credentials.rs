//! Tab 1, Credentials: for the shown profile, from its verdict's credential report and the
//! credential findings — token status, roles granted against required, the secret's expiry
//! countdown against its thresholds (30/14/7/1 days), the service principal's
//! assignment-required flag, licences, clock skew — then every credential problem with its
//! cause and numbered fix, and the last "test now" outcome. `t` tests now.
//!
//! Compact (one column) below 120 columns; two columns (state | problems) from 120. Pure;
//! depends on the credential report, the diagnosis, the theme and ratatui.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{TabContext, TabReply};
use crate::console::Command;
use crate::creds::{CheckId, CredentialReport, TokenStatus};
use crate::diagnose::{Area, Finding};
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::action::Action;
use crate::tui::format::{minute, relative};
use crate::tui::view::badge;

/// From this width the tab shows state and problems side by side.
const WIDE: u16 = 120;

/// Lines a page key moves.
const PAGE: usize = 10;

/// The tab's own state: how far the problems are scrolled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// First line shown of the scrolled pane.
    pub scroll: usize,
}

impl State {
    /// Reacts to `action`: scrolling, and `t` (test now).
    pub fn handle(&mut self, action: Action, context: &TabContext<'_>) -> TabReply {
        let last = problem_lines(context).len().saturating_sub(1);
        let scroll = match action {
            Action::Down => (self.scroll + 1).min(last),
            Action::Up => self.scroll.saturating_sub(1),
            Action::Top => 0,
            Action::Bottom => last,
            Action::PageDown => (self.scroll + PAGE).min(last),
            Action::PageUp => self.scroll.saturating_sub(PAGE),
            Action::TestCredentials => {
                return match context.profile {
                    Some(profile) => TabReply::Command(
                        Command::TestCredentials {
                            profile: profile.name.clone(),
                        },
                        format!("testing {}", profile.name),
                    ),
                    None => TabReply::Notice("no profile to test yet".into()),
                };
            }
            _ => return TabReply::Ignored,
        };
        self.scroll = scroll;
        TabReply::Handled
    }
}

/// Draws the tab into `area`.
pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, context: &TabContext<'_>) {
    let theme = context.theme;
    let block = |title: &'static str| {
        Block::default()
            .borders(Borders::TOP)
            .border_style(theme.border)
            .title(Span::styled(title, theme.title))
    };
    let scroll = u16::try_from(state.scroll).unwrap_or(u16::MAX);
    if area.width >= WIDE {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(area);
        let state_lines = state_lines(context);
        frame.render_widget(
            Paragraph::new(state_lines)
                .block(block(" Credentials "))
                .wrap(Wrap { trim: false }),
            left,
        );
        frame.render_widget(
            Paragraph::new(problem_lines(context))
                .block(block(" Problems "))
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0)),
            right,
        );
    } else {
        let mut lines = state_lines(context);
        lines.push(Line::default());
        lines.extend(problem_lines(context));
        frame.render_widget(
            Paragraph::new(lines)
                .block(block(" Credentials "))
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0)),
            area,
        );
    }
}

fn report<'a>(context: &TabContext<'a>) -> Option<&'a CredentialReport> {
    context
        .profile?
        .verdict
        .as_ref()?
        .facts
        .credentials
        .as_ref()
}

/// The state of each part: one badge line and one detail line each.
fn state_lines(context: &TabContext<'_>) -> Vec<Line<'static>> {
    let theme = context.theme;
    let Some(report) = report(context) else {
        let hint = if context.pending {
            "testing…"
        } else {
            "not checked yet: press t to test now"
        };
        return vec![Line::styled(format!(" {hint}"), theme.muted)];
    };
    let now = context.now;
    let mut lines = vec![Line::from(vec![
        Span::raw(" "),
        badge::badge(theme, report.severity),
        Span::styled(
            format!(
                " client {} · checked {} ({})",
                printable_line(&report.client_id),
                minute(report.checked_at),
                relative(report.checked_at, now)
            ),
            theme.muted,
        ),
    ])];
    let mut part = |label: &str, id: CheckId, detail: String| {
        let (severity, summary) = report
            .check(id)
            .map_or((Severity::Unknown, "not checked".to_owned()), |check| {
                (check.severity, printable_line(&check.summary).into_owned())
            });
        lines.push(Line::from(vec![
            Span::styled(format!(" {label:<18}"), theme.title),
            badge::badge(theme, severity),
            Span::styled(format!(" {summary}"), theme.text),
        ]));
        if !detail.is_empty() {
            lines.push(Line::styled(
                format!("   {}", printable_line(&detail)),
                theme.muted,
            ));
        }
    };
    part("Token", CheckId::Token, token_detail(report, now));
    part("Permissions", CheckId::Roles, roles_detail(report));
    part(
        "Secret expiry",
        CheckId::SecretExpiry,
        secret_detail(report, now),
    );
    part(
        "Service principal",
        CheckId::ServicePrincipal,
        principal_detail(report),
    );
    part(
        "Tenant licences",
        CheckId::TenantLicences,
        tenant_licences_detail(report),
    );
    part(
        "User licences",
        CheckId::UserLicences,
        user_licences_detail(report),
    );
    part("Clock skew", CheckId::ClockSkew, skew_detail(report));
    lines
}

fn token_detail(report: &CredentialReport, now: chrono::DateTime<chrono::Utc>) -> String {
    let token = &report.token;
    match token.status {
        TokenStatus::Granted => token.expires_at.map_or_else(
            || "granted".to_owned(),
            |at| format!("granted, expires {}", relative(at, now)),
        ),
        TokenStatus::Refused => format!(
            "refused: {}{}",
            token.error.as_deref().unwrap_or("no error code"),
            token
                .aadsts_code
                .map(|code| format!(" (AADSTS{code})"))
                .unwrap_or_default()
        ),
        TokenStatus::Unreachable => format!("{} could not be reached", token.authority),
        TokenStatus::UnexpectedAnswer => {
            "the token endpoint answered neither a token nor an error".to_owned()
        }
        TokenStatus::InvalidAuthority => {
            format!("authority {} cannot carry the token path", token.authority)
        }
        TokenStatus::NotTried => "not tried: the secret could not be loaded".to_owned(),
    }
}

fn roles_detail(report: &CredentialReport) -> String {
    let roles = &report.roles;
    if !roles.checked {
        return "not read: no token to read them from".to_owned();
    }
    let mark = |role: &String, missing: &[String]| {
        format!(
            "{role} {}",
            if missing.contains(role) {
                "✖ missing"
            } else {
                "✔"
            }
        )
    };
    let required: Vec<String> = roles
        .required
        .iter()
        .map(|r| mark(r, &roles.missing_required))
        .collect();
    let recommended: Vec<String> = roles
        .recommended
        .iter()
        .map(|r| mark(r, &roles.missing_recommended))
        .collect();
    format!(
        "required: {} · recommended: {}",
        required.join(", "),
        recommended.join(", ")
    )
}

fn secret_detail(report: &CredentialReport, now: chrono::DateTime<chrono::Utc>) -> String {
    let secret = &report.secret;
    let hint = secret
        .hint
        .as_deref()
        .map(|hint| format!("{hint}… · "))
        .unwrap_or_default();
    let expiry = match secret.expires_at {
        Some(at) if at <= now => format!("EXPIRED {} ({})", relative(at, now), minute(at)),
        Some(at) => format!("expires {} ({})", relative(at, now), minute(at)),
        None => "expiry unknown (set secret_expires in the profile)".to_owned(),
    };
    let threshold = secret
        .threshold_crossed_days
        .filter(|_| !secret.expired)
        .map(|days| format!(" · inside the {days}-day threshold"))
        .unwrap_or_default();
    format!("{hint}{expiry}{threshold} · thresholds 30/14/7/1 days")
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn principal_detail(report: &CredentialReport) -> String {
    let principal = &report.service_principal;
    format!(
        "assignment required: {} · enabled: {}",
        yes_no(principal.assignment_required),
        yes_no(principal.account_enabled)
    )
}

fn tenant_licences_detail(report: &CredentialReport) -> String {
    let licences = &report.licences;
    let provisioned = licences
        .plans
        .iter()
        .filter(|plan| plan.provisioning_status.as_deref() == Some("Success"))
        .count();
    let seats = licences
        .copilot_seats_assigned
        .map(|seats| format!(" · {seats} Copilot seats assigned"))
        .unwrap_or_default();
    format!(
        "{provisioned}/{} Copilot plans provisioned{seats}",
        licences.plans.len()
    )
}

fn user_licences_detail(report: &CredentialReport) -> String {
    let licences = &report.licences;
    format!(
        "{}/{} sampled users hold Copilot",
        licences.users_licensed, licences.users_sampled
    )
}

fn skew_detail(report: &CredentialReport) -> String {
    match report.clock_skew.skew_seconds {
        Some(skew) => format!("server − local: {skew:+} s"),
        None => "not measured".to_owned(),
    }
}

/// Every credential problem with cause and numbered fix, then the last test.
fn problem_lines(context: &TabContext<'_>) -> Vec<Line<'static>> {
    let theme = context.theme;
    let findings: Vec<&Finding> = context
        .profile
        .and_then(|profile| profile.verdict.as_ref())
        .map(|verdict| {
            verdict
                .diagnosis
                .findings
                .iter()
                .filter(|finding| finding.area() == Area::Credentials)
                .collect()
        })
        .unwrap_or_default();
    let mut lines = Vec::new();
    if findings.is_empty() && report(context).is_some() {
        lines.push(Line::from(vec![
            Span::raw(" "),
            badge::badge(theme, Severity::Ok),
            Span::styled(" no credential problems", theme.text),
        ]));
    }
    for finding in findings {
        lines.push(Line::from(vec![
            Span::raw(" "),
            badge::badge(theme, finding.severity),
            Span::styled(format!(" {}", printable_line(&finding.title)), theme.title),
            Span::styled(format!("  [{}]", finding.code.as_str()), theme.muted),
        ]));
        for evidence in &finding.evidence {
            lines.push(Line::styled(
                format!("   · {}", printable_line(evidence)),
                theme.muted,
            ));
        }
        lines.push(Line::styled(
            format!("   cause: {}", printable_line(&finding.cause)),
            theme.text,
        ));
        for (number, step) in finding.fix.iter().enumerate() {
            lines.push(Line::styled(
                format!("   {}. {}", number + 1, printable_line(step)),
                theme.text,
            ));
        }
        lines.push(Line::default());
    }
    lines.push(last_test_line(context));
    lines
}

fn last_test_line(context: &TabContext<'_>) -> Line<'static> {
    let theme = context.theme;
    if context.pending {
        return Line::styled(" test now: running…", theme.info);
    }
    match context.last_outcome {
        Some(outcome) => {
            let severity = if outcome.succeeded {
                Severity::Ok
            } else {
                Severity::Critical
            };
            Line::from(vec![
                Span::styled(format!(" last: {}: ", outcome.what), theme.muted),
                badge::badge(theme, severity),
                Span::styled(format!(" {}", printable_line(&outcome.message)), theme.text),
            ])
        }
        None => Line::styled(" press t to test these credentials now", theme.muted),
    }
}
