//! The activity view: users × apps under the feed's filter (prompts, responses, last use),
//! from [`Query::Activity`](crate::tui::tabs::Query::Activity). It says how many interactions
//! were counted and, when counting stopped at its bound, that the counts cover only the
//! newest ones (since when). Pure; depends on the console's activity type, the theme and
//! ratatui.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::Activity;
use super::view::count;
use crate::console::FeedFilter;
use crate::terminal_text::printable_line;
use crate::tui::format::{minute, relative};
use crate::tui::tabs::TabContext;

/// Draws the activity view into `area`.
pub fn render(
    frame: &mut Frame<'_>,
    area: Rect,
    activity: &Activity,
    filter: &FeedFilter,
    context: &TabContext<'_>,
) {
    let theme = context.theme;
    let [heading, body] =
        Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(area);
    let view = match &activity.view {
        None => {
            frame.render_widget(
                Paragraph::new(Line::styled(" counting users × apps…", theme.muted)),
                heading,
            );
            return;
        }
        Some(Err(error)) => {
            frame.render_widget(
                Paragraph::new(Line::styled(
                    format!(
                        " ✗ activity could not be counted: {}",
                        printable_line(error)
                    ),
                    theme.critical,
                )),
                heading,
            );
            return;
        }
        Some(Ok(view)) => view,
    };
    let scope = if filter.is_empty() {
        ""
    } else {
        " matching the filter"
    };
    let mut summary = vec![Span::styled(
        format!(
            " Users × apps · {} interactions{scope} counted",
            count(view.counted)
        ),
        theme.title,
    )];
    if let Some(since) = view.since {
        // The relative form only fits beside the date on a wide screen.
        let ago = if area.width >= 120 {
            format!(" ({})", relative(since, context.now))
        } else {
            String::new()
        };
        summary.push(Span::styled(
            format!(" since {}{ago}", minute(since)),
            theme.muted,
        ));
    }
    let note = if view.truncated {
        Line::styled(
            " ⚠ partial: counting stopped at its bound; older interactions are not counted",
            theme.warning,
        )
    } else {
        Line::styled(" a: back to the feed", theme.muted)
    };
    frame.render_widget(Paragraph::new(vec![Line::from(summary), note]), heading);
    if view.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                " nobody used Copilot in what was counted",
                theme.muted,
            )),
            body,
        );
        return;
    }
    let wide = area.width >= 120;
    let rows = view.rows.iter().skip(activity.scroll).map(|row| {
        let user = row
            .user_name
            .as_deref()
            .or(Some(row.user_id.as_str()).filter(|id| !id.is_empty()))
            .unwrap_or("— (unknown user)");
        let app = if wide {
            row.app.clone()
        } else {
            row.app.rsplit('.').next().unwrap_or(&row.app).to_owned()
        };
        Row::new([
            printable_line(user).into_owned(),
            printable_line(&app).into_owned(),
            format!("{:>7}", count(row.prompts)),
            format!("{:>9}", count(row.responses)),
            relative(row.last_at, context.now),
        ])
        .style(theme.text)
    });
    let (user, app) = if wide { (30, 40) } else { (22, 12) };
    let widths = [
        Constraint::Length(user),
        Constraint::Length(app),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    let header = Row::new(["user", "app", "prompts", "responses", "last used"]).style(theme.header);
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        body,
    );
}
