//! Tab 1, Credentials: for the shown profile, from its verdict's credential report and the
//! credential findings — token status, roles granted against required, the secret's expiry
//! countdown against its thresholds (30/14/7/1 days), the service principal's
//! assignment-required flag, licences, clock skew — then every credential problem with its
//! cause and numbered fix, and the last "test now" outcome. `t` tests now; `n` adds a profile
//! and `e` edits the shown one in the profile form (validated before it is saved); `d` removes
//! the shown profile once `y` confirms. Read-only sessions refuse all three before anything
//! opens. The running collector keeps the profiles it started with: the outcome says so.
//!
//! Compact (one column) below 120 columns; two columns (state | problems) from 120. Pure;
//! depends on the credential report, the diagnosis, the console's command types, the theme
//! and ratatui; never on the collector or the terminal.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use tui_input::Input;

use super::{TabContext, TabReply};
use crate::console::{Command, CommandOutcome, ConsoleError, ProfileDraft};
use crate::tui::app::describe;

use crate::creds::{CheckId, CredentialReport};
use crate::diagnose::{Area, Finding};
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::action::Action;
use crate::tui::format::{minute, relative};
use crate::tui::view::badge;
use crate::tui::view::finding::finding_lines;
use crate::tui::view::wrap::hanging;

mod details;
pub mod form;
mod form_view;
mod removal;

use details::{
    principal_detail, roles_detail, secret_detail, skew_detail, tenant_licences_detail,
    token_detail, user_licences_detail,
};
use form::{Form, FormReply, Next};

/// From this width the tab shows state and problems side by side.
const WIDE: u16 = 120;

/// The width scrolling limits are reckoned at (the frame clamps to the real one).
const NOMINAL_WIDTH: usize = 80;

/// Lines a page key moves.
const PAGE: usize = 10;

/// The tab's own state.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// First line shown of the scrolled pane.
    pub scroll: usize,
    /// The profile form, while open.
    pub form: Option<Form>,
    /// The profile asked about removing, until `y` (or any other key, which keeps it).
    pub removing: Option<String>,
}

impl State {
    /// Whether the profile form is open (it then has the keys).
    pub fn form_open(&self) -> bool {
        self.form.is_some()
    }

    /// The form's focused field, to read.
    pub fn input(&self) -> Option<&Input> {
        self.form.as_ref()?.input()
    }

    /// The form's focused field, to edit (none while the form waits for the collector).
    pub fn input_mut(&mut self) -> Option<&mut Input> {
        self.form.as_mut()?.input_mut()
    }

    /// The tab is shown again: a removal asked about before leaving is no longer on screen.
    pub fn activated(&mut self) {
        self.removing = None;
    }

    /// A command's outcome arrived: the form's next step, if it was the form's command.
    pub fn outcome(
        &mut self,
        command: &Command,
        result: &Result<CommandOutcome, ConsoleError>,
    ) -> Option<Command> {
        match self.form.as_mut()?.outcome(command, result) {
            Next::Stay => None,
            Next::Send(next) => Some(next),
            Next::Close => {
                self.form = None;
                None
            }
        }
    }

    /// Reacts to `action`: the form's keys while it is open, the removal question, scrolling,
    /// `t` (test now), `n`/`e` (the form) and `d` (remove).
    pub fn handle(&mut self, action: Action, context: &TabContext<'_>) -> TabReply {
        if let Some(form) = &mut self.form {
            let existing: Vec<&str> = context
                .snapshot
                .map(|snapshot| snapshot.profiles.iter().map(|p| p.name.as_str()).collect())
                .unwrap_or_default();
            return match form.handle(action, &existing) {
                FormReply::Handled => TabReply::Handled,
                FormReply::Notice(notice) => TabReply::Notice(notice),
                FormReply::Send(command, label) => TabReply::Command(command, label),
                FormReply::Close(why) => {
                    self.form = None;
                    TabReply::Notice(why)
                }
            };
        }
        if let Some(name) = self.removing.take() {
            return if action == Action::Confirm {
                let command = Command::RemoveProfile { profile: name };
                let label = describe(&command);
                TabReply::Command(command, label)
            } else {
                TabReply::Notice(format!("kept profile {name}: nothing was changed"))
            };
        }
        match action {
            Action::NewProfile | Action::EditProfile | Action::RemoveProfile => {
                return self.open(action, context);
            }
            _ => {}
        }
        let last = problem_lines(context, NOMINAL_WIDTH)
            .len()
            .saturating_sub(1);
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

    /// `n`, `e` or `d`: refused when read-only (as every write is), else the form or the
    /// removal question.
    fn open(&mut self, action: Action, context: &TabContext<'_>) -> TabReply {
        let profile = context.profile;
        let command = match (action, profile) {
            (Action::NewProfile, _) => None,
            (Action::EditProfile, Some(profile)) => Some(Command::SaveProfile {
                draft: ProfileDraft {
                    name: profile.name.clone(),
                    tenant: profile.tenant.clone(),
                    client_id: profile.client_id.clone(),
                    secret: None,
                },
                force: false,
            }),
            (_, Some(profile)) => Some(Command::RemoveProfile {
                profile: profile.name.clone(),
            }),
            (_, None) => return TabReply::Notice("no profile shown yet".into()),
        };
        if context.readonly {
            let what = command
                .as_ref()
                .map_or_else(|| "add a profile".into(), describe);
            return TabReply::Notice(format!("read-only: `{what}` would change something"));
        }
        match (action, profile) {
            (Action::NewProfile, _) => self.form = Some(Form::new_profile()),
            (Action::EditProfile, Some(profile)) => self.form = Some(Form::edit(profile)),
            (_, Some(profile)) => {
                self.removing = Some(profile.name.clone());
                return TabReply::Notice(format!(
                    "remove profile {}? y removes it, any other key keeps it",
                    profile.name
                ));
            }
            (_, None) => {}
        }
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
    if area.width >= WIDE {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(area);
        let problems = problem_lines(context, usize::from(right.width));
        let scroll = clamp_scroll(state.scroll, problems.len());
        frame.render_widget(
            Paragraph::new(state_lines(context, usize::from(left.width)))
                .block(block(" Credentials ")),
            left,
        );
        frame.render_widget(
            Paragraph::new(problems)
                .block(block(" Problems "))
                .scroll((scroll, 0)),
            right,
        );
    } else {
        let width = usize::from(area.width);
        let mut lines = state_lines(context, width);
        lines.push(Line::default());
        lines.extend(problem_lines(context, width));
        let scroll = clamp_scroll(state.scroll, lines.len());
        frame.render_widget(
            Paragraph::new(lines)
                .block(block(" Credentials "))
                .scroll((scroll, 0)),
            area,
        );
    }
    if let Some(name) = &state.removing {
        removal::render(frame, area, name, theme);
    }
    if let Some(form) = &state.form {
        form_view::render(frame, area, form, theme);
    }
}

/// The scroll offset that keeps the last line reachable and no further.
fn clamp_scroll(scroll: usize, lines: usize) -> u16 {
    u16::try_from(scroll.min(lines.saturating_sub(1))).unwrap_or(u16::MAX)
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

/// The state of each part: the check's badge and summary, then the detail.
fn state_lines(context: &TabContext<'_>, width: usize) -> Vec<Line<'static>> {
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
    let mut lines = hanging(
        vec![
            Span::raw(" "),
            badge::badge(theme, report.severity),
            Span::raw(" "),
        ],
        &format!(
            "client {} · checked {} ({})",
            printable_line(&report.client_id),
            minute(report.checked_at),
            relative(report.checked_at, now)
        ),
        theme.muted,
        width,
        3,
    );
    let mut part = |label: &str, id: CheckId, detail: Option<String>| {
        let (severity, summary) = report
            .check(id)
            .map_or((Severity::Unknown, "not checked".to_owned()), |check| {
                (check.severity, printable_line(&check.summary).into_owned())
            });
        lines.extend(hanging(
            vec![
                Span::styled(format!(" {label:<LABEL_WIDTH$}"), theme.title),
                badge::badge(theme, severity),
                Span::raw(" "),
            ],
            &summary,
            theme.text,
            width,
            LABEL_WIDTH + 1,
        ));
        if let Some(detail) = detail {
            lines.extend(hanging(
                vec![Span::raw(" ".repeat(LABEL_WIDTH + 1))],
                &printable_line(&detail),
                theme.muted,
                width,
                LABEL_WIDTH + 1,
            ));
        }
    };
    part("Token", CheckId::Token, token_detail(report, now));
    part("Permissions", CheckId::Roles, roles_detail(report));
    part(
        "Secret expiry",
        CheckId::SecretExpiry,
        Some(secret_detail(report, now)),
    );
    part(
        "Principal",
        CheckId::ServicePrincipal,
        principal_detail(report),
    );
    part(
        "Tenant plans",
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

/// Width of the part labels ("Secret expiry", "User licences").
const LABEL_WIDTH: usize = 14;

/// Every credential problem with cause and numbered fix, then the last command's outcome.
fn problem_lines(context: &TabContext<'_>, width: usize) -> Vec<Line<'static>> {
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
        lines.extend(finding_lines(theme, finding, width));
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
