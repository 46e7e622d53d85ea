//! The honest body of a tab that is not built yet: one line saying so, and what to use
//! meanwhile. Depends on the theme and ratatui only.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{TabContext, TabId};

/// Draws the "not built yet" line for `tab`.
pub fn render(frame: &mut Frame<'_>, area: Rect, tab: TabId, context: &TabContext<'_>) {
    let meanwhile = match tab {
        TabId::Subscriptions => "meanwhile: `pilotwatch check --verbose`",
        TabId::Latency => "meanwhile: `pilotwatch check --verbose`",
        TabId::Feed | TabId::Credentials => {
            "meanwhile: the collector's store keeps every interaction"
        }
    };
    let line = Line::styled(
        format!("The {} tab is not built yet ({meanwhile}).", tab.title()),
        context.theme.muted,
    );
    frame.render_widget(Paragraph::new(line), area);
}
