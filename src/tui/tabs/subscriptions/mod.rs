//! Tab 2, Subscriptions: the shown profile's subscriptions as a table (resource, expiry gauge
//! against Graph's 3-day cap, renewals, delivery at a glance), the selected one in full (its
//! lifetime, lifecycle URL and last lifecycle event, handshake, rich data and certificate, and
//! how its notifications fared), the last action on it, then the diagnosis: the empty-dashboard
//! ladder and every finding with evidence, cause and numbered fix (scrollable).
//!
//! `j`/`k` select a subscription; PgUp/PgDn and `g`/`G` scroll the diagnosis. `R` renew, `a`
//! reauthorize, `c` recreate and `b` backfill (the last hour; again to widen) each ask first —
//! `y` runs, `n` drops — since each writes to Graph or the store; read-only refuses before
//! asking. Compact (one column) below 120 columns; from 120 the details and the diagnosis split
//! in two. Pure; depends on the console's snapshot and command types, the diagnosis, the theme
//! and ratatui; never on the collector or the terminal.

mod cells;
mod confirm;
mod details;
mod diagnosis;
mod notes;
mod table;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{TabContext, TabReply};
use crate::console::SubscriptionRow;
use crate::diagnose::Diagnosis;
use crate::diagnose::thresholds::DELIVERY_WINDOW_MINUTES;
use crate::tui::action::Action;
use crate::tui::app::describe;
use crate::tui::theme::Theme;
pub use confirm::Confirm;

/// From this width the details and the diagnosis are shown side by side.
const WIDE: u16 = 120;

/// The width scrolling limits are reckoned at (the frame clamps to the real one).
const NOMINAL_WIDTH: usize = 80;

/// Lines a page key scrolls the diagnosis: less than the compact layout shows of it at 80×24,
/// so paging never skips a line.
const PAGE: usize = 5;

/// Most table rows shown at once in the compact layout (the rest scroll with the selection).
const COMPACT_ROWS: usize = 3;

/// The tab's own state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Index of the selected subscription (clamped to the rows when used).
    pub selected: usize,
    /// First line shown of the diagnosis.
    pub scroll: usize,
    /// The action waiting for yes or no.
    pub confirm: Option<Confirm>,
    /// The last command this tab sent, in words (to tell its outcome from others').
    pub sent: Option<String>,
}

impl State {
    /// Reacts to `action`: selection, scrolling, and the confirmed actions.
    pub fn handle(&mut self, action: Action, context: &TabContext<'_>) -> TabReply {
        let rows = rows(context);
        match action {
            Action::Confirm => return self.confirmed(context),
            Action::Cancel => {
                return match self.confirm.take() {
                    Some(_) => TabReply::Notice("cancelled: nothing was changed".into()),
                    None => TabReply::Ignored,
                };
            }
            Action::Renew | Action::Reauthorize | Action::Recreate | Action::Backfill => {
                return self.ask(action, context);
            }
            _ => {}
        }
        let last_row = rows.len().saturating_sub(1);
        let last_line = diagnosis_lines(context, NOMINAL_WIDTH)
            .len()
            .saturating_sub(1);
        let selected = self.selected.min(last_row);
        match action {
            Action::Down => self.selected = (selected + 1).min(last_row),
            Action::Up => self.selected = selected.saturating_sub(1),
            Action::Top => self.scroll = 0,
            Action::Bottom => self.scroll = last_line,
            Action::PageDown => self.scroll = (self.scroll + PAGE).min(last_line),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(PAGE),
            _ => return TabReply::Ignored,
        }
        // A question is about the row it was asked on: moving away drops it.
        if self.selected != selected
            && self
                .confirm
                .take_if(|question| question.subscription().is_some())
                .is_some()
        {
            return TabReply::Notice("the selection moved: nothing was changed".into());
        }
        TabReply::Handled
    }

    /// The tab is shown again: a question asked before leaving it is no longer on screen.
    pub fn activated(&mut self) {
        self.confirm = None;
    }

    fn ask(&mut self, action: Action, context: &TabContext<'_>) -> TabReply {
        let Some(profile) = context.profile else {
            return TabReply::Notice("no profile yet: nothing to act on".into());
        };
        let question = if action == Action::Backfill {
            Confirm::backfill_after(self.confirm.as_ref())
        } else {
            let Some(row) = selected_row(self.selected, context) else {
                return TabReply::Notice(format!(
                    "profile {} has no subscription to act on",
                    profile.name
                ));
            };
            // graph-facts §2: Graph deletes an expired subscription; PATCH and reauthorize
            // answer 404, and the fix is a new one.
            if row.expires_at <= context.now && action != Action::Recreate {
                return TabReply::Notice(format!(
                    "subscription {} has expired: Graph can no longer renew or reauthorize it; \
                     press c to recreate it",
                    row.id
                ));
            }
            let subscription = row.id.clone();
            match action {
                Action::Renew => Confirm::Renew { subscription },
                Action::Reauthorize => Confirm::Reauthorize { subscription },
                _ => Confirm::Recreate { subscription },
            }
        };
        if context.readonly {
            let command = question.command(&profile.name, context.now);
            return TabReply::Notice(format!(
                "read-only: `{}` would change something",
                describe(&command)
            ));
        }
        self.confirm = Some(question);
        TabReply::Notice("press y to confirm, n to cancel".into())
    }

    fn confirmed(&mut self, context: &TabContext<'_>) -> TabReply {
        let Some(question) = self.confirm.take() else {
            return TabReply::Ignored;
        };
        let Some(profile) = context.profile else {
            return TabReply::Notice("no profile yet: nothing was changed".into());
        };
        // The snapshot may have moved on while the question was open.
        if let Some(id) = question.subscription()
            && !profile.subscriptions.iter().any(|row| row.id == id)
        {
            return TabReply::Notice(format!(
                "subscription {id} is gone from profile {}: nothing was changed",
                profile.name
            ));
        }
        let command = question.command(&profile.name, context.now);
        let what = describe(&command);
        self.sent = Some(what.clone());
        TabReply::Command(command, what)
    }
}

fn rows<'a>(context: &TabContext<'a>) -> &'a [SubscriptionRow] {
    context
        .profile
        .map_or(&[], |profile| profile.subscriptions.as_slice())
}

fn selected_row<'a>(selected: usize, context: &TabContext<'a>) -> Option<&'a SubscriptionRow> {
    let rows = rows(context);
    rows.get(selected.min(rows.len().saturating_sub(1)))
}

fn diagnosis_of<'a>(context: &TabContext<'a>) -> Option<&'a Diagnosis> {
    Some(&context.profile?.verdict.as_ref()?.diagnosis)
}

/// Draws the tab into `area`.
pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, context: &TabContext<'_>) {
    let theme = context.theme;
    let wide = area.width >= WIDE;
    let width = usize::from(area.width);
    let rows = rows(context);
    let selected = state.selected.min(rows.len().saturating_sub(1));
    let mut top = Vec::new();
    match (context.profile, selected_row(selected, context)) {
        (None, _) => top.push(Line::styled(
            " waiting for the collector's state…",
            theme.muted,
        )),
        (Some(profile), None) => top.extend(notes::empty_lines(context, profile, width)),
        (Some(_), Some(row)) => {
            let table = table::lines(theme, rows, selected, context.now, wide);
            top.extend(visible_rows(table, selected, wide));
            if wide {
                top.push(Line::default());
            } else {
                top.extend(details::subscription_lines(
                    theme,
                    row,
                    context.now,
                    width,
                    false,
                ));
                top.extend(details::delivery_lines(theme, row, window(context), false));
            }
        }
    }
    let mut action = notes::action_lines(state, context, selected_row(selected, context), width);
    let (details_height, detail_columns) = match (wide, selected_row(selected, context)) {
        (true, Some(row)) => {
            let half = usize::from(area.width / 2);
            let left = details::subscription_lines(theme, row, context.now, half, true);
            let right = details::delivery_lines(theme, row, window(context), true);
            (left.len().max(right.len()), Some((left, right)))
        }
        _ => (0, None),
    };
    let height = |lines: usize| u16::try_from(lines).unwrap_or(u16::MAX);
    let [top_area, details_area, action_area, lower] = Layout::vertical([
        Constraint::Length(height(top.len() + 1)),
        Constraint::Length(height(details_height + usize::from(details_height > 0))),
        Constraint::Length(height(action.len())),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(top).block(pane(theme, " Subscriptions ".into())),
        top_area,
    );
    if let Some((left, right)) = detail_columns {
        let [left_area, right_area] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(details_area);
        frame.render_widget(
            Paragraph::new(left).block(pane(theme, " Selected subscription ".into())),
            left_area,
        );
        let title = format!(" Delivery, last {} min ", window(context));
        frame.render_widget(Paragraph::new(right).block(pane(theme, title)), right_area);
    }
    action.truncate(usize::from(action_area.height));
    frame.render_widget(Paragraph::new(action), action_area);
    render_diagnosis(frame, lower, state, context, wide);
}

/// A pane: a top border with its title.
fn pane(theme: &Theme, title: String) -> Block<'static> {
    Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title))
}

/// The table's header and the rows around the selection that fit the compact layout.
fn visible_rows(table: Vec<Line<'static>>, selected: usize, wide: bool) -> Vec<Line<'static>> {
    if wide || table.len() <= COMPACT_ROWS + 1 {
        return table;
    }
    let first = selected.saturating_sub(COMPACT_ROWS - 1);
    let mut lines = table.into_iter();
    let header = lines.next();
    header
        .into_iter()
        .chain(lines.skip(first).take(COMPACT_ROWS))
        .collect()
}

fn window(context: &TabContext<'_>) -> u32 {
    context
        .profile
        .and_then(|profile| profile.verdict.as_ref())
        .and_then(|verdict| verdict.facts.delivery.as_ref())
        .map_or(DELIVERY_WINDOW_MINUTES, |delivery| delivery.window_minutes)
}

/// The diagnosis as one scrolled list (compact) — ladder chain, then findings.
fn diagnosis_lines(context: &TabContext<'_>, width: usize) -> Vec<Line<'static>> {
    let theme = context.theme;
    let Some(diagnosis) = diagnosis_of(context) else {
        return vec![Line::styled(" no verdict yet", theme.muted)];
    };
    let mut lines = diagnosis::ladder_chain(theme, &diagnosis.ladder, width);
    lines.push(Line::default());
    lines.extend(diagnosis::finding_list(theme, diagnosis, width));
    lines
}

fn render_diagnosis(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &State,
    context: &TabContext<'_>,
    wide: bool,
) {
    let theme = context.theme;
    let scroll =
        |lines: usize| u16::try_from(state.scroll.min(lines.saturating_sub(1))).unwrap_or(u16::MAX);
    match (wide, diagnosis_of(context)) {
        (true, Some(diagnosis)) => {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(area);
            frame.render_widget(
                Paragraph::new(diagnosis::ladder_lines(theme, &diagnosis.ladder))
                    .block(pane(theme, " Diagnosis ".into())),
                left,
            );
            let findings = diagnosis::finding_list(theme, diagnosis, usize::from(right.width));
            let offset = scroll(findings.len());
            let title = match diagnosis.findings.len() {
                0 => " Findings ".to_owned(),
                count => format!(" Findings: {count} · PgUp/PgDn scroll "),
            };
            frame.render_widget(
                Paragraph::new(findings)
                    .block(pane(theme, title))
                    .scroll((offset, 0)),
                right,
            );
        }
        _ => {
            let lines = diagnosis_lines(context, usize::from(area.width));
            let offset = scroll(lines.len());
            frame.render_widget(
                Paragraph::new(lines)
                    .block(pane(theme, " Diagnosis ".into()))
                    .scroll((offset, 0)),
                area,
            );
        }
    }
}
