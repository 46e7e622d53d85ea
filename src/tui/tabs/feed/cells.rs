//! How one interaction reads in the feed's columns: the app's short name, the user (display
//! name when readable: the collector's directory first, then a prompt's `from` unless that is
//! the MRI Graph usually puts there), prompt or response, the session, and latency (`first_seen_at −
//! created_at`: how long Graph and delivery took to bring it to us). Pure; depends on the
//! store's record type and chrono only.

use std::collections::HashMap;

use chrono::TimeDelta;

use crate::collector::names::is_mri;
use crate::graph::model::well_known;
use crate::store::records::InteractionRecord;
use crate::terminal_text::printable_line;

/// `appClass` without Graph's prefix: `IPM.SkypeTeams.Message.Copilot.Word` → `Word`.
pub fn app(record: &InteractionRecord) -> String {
    printable_line(well_known::app_name(&record.app_class)).into_owned()
}

/// Display names by user id: the directory's (`directory`, from the collector), then readable
/// names from the prompts in `records` (a prompt's `from` is its user; a response's is the
/// Copilot app, so responses borrow the name from their user's prompts).
pub fn known_names<'a>(
    records: impl IntoIterator<Item = &'a InteractionRecord>,
    directory: &'a HashMap<String, String>,
) -> HashMap<&'a str, &'a str> {
    let mut known: HashMap<&str, &str> = records
        .into_iter()
        .filter(|record| is_prompt(record))
        .filter_map(|record| {
            let name = record.from_display_name.as_deref()?;
            Some((record.user_id.as_deref()?, name)).filter(|_| is_name(name))
        })
        .collect();
    known.extend(
        directory
            .iter()
            .map(|(id, name)| (id.as_str(), name.as_str())),
    );
    known
}

/// The user: the display name when known (see [`known_names`]), else the user's id; `—` when
/// nobody knows (a response fetched without a user).
pub fn user(record: &InteractionRecord, known: &HashMap<&str, &str>) -> String {
    let from = || {
        record
            .from_display_name
            .as_deref()
            .filter(|name| is_prompt(record) && is_name(name))
    };
    let directory = record
        .user_id
        .as_deref()
        .and_then(|id| known.get(id).copied());
    match directory.or_else(from).or(record.user_id.as_deref()) {
        Some(user) => printable_line(user).into_owned(),
        None => "—".to_owned(),
    }
}

/// Whether `from` is a name a person reads, not blank and not the `8:orgid:` MRI.
fn is_name(from: &str) -> bool {
    !from.trim().is_empty() && !is_mri(from)
}

/// `prompt`, `response`, or Graph's word for anything else.
pub fn kind(record: &InteractionRecord) -> String {
    match record.interaction_type.as_str() {
        "userPrompt" => "prompt".to_owned(),
        "aiResponse" => "response".to_owned(),
        other => printable_line(other).into_owned(),
    }
}

fn is_prompt(record: &InteractionRecord) -> bool {
    record.interaction_type == "userPrompt"
}

/// The session id, or `—`.
pub fn session(record: &InteractionRecord) -> String {
    record
        .session_id
        .as_deref()
        .map_or_else(|| "—".to_owned(), |id| printable_line(id).into_owned())
}

/// First seen minus created: `0.8s`, `42s`, `3m 10s`, `2h 05m`; `—` when the clocks disagree
/// (seen before created means the record's times cannot be trusted).
pub fn latency(record: &InteractionRecord) -> String {
    duration(record.first_seen_at - record.created_at)
}

/// A short duration, sub-second to hours.
pub fn duration(delta: TimeDelta) -> String {
    let millis = delta.num_milliseconds();
    if millis < 0 {
        return "—".to_owned();
    }
    let seconds = millis / 1000;
    match seconds {
        0..=9 => format!("{}.{}s", seconds, (millis % 1000) / 100),
        10..=59 => format!("{seconds}s"),
        60..=3599 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => crate::tui::format::span(delta),
    }
}

/// `text` cut to `width` characters, with `…` when cut.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::store::records::InteractionSource;

    fn record(kind: &str) -> InteractionRecord {
        InteractionRecord {
            id: "1".into(),
            user_id: Some("u-1".into()),
            session_id: None,
            request_id: None,
            app_class: "IPM.SkypeTeams.Message.Copilot.Word".into(),
            interaction_type: kind.into(),
            conversation_type: None,
            created_at: "2026-11-22T08:00:00Z".parse().unwrap(),
            from_display_name: Some("Adele Vance".into()),
            attachments: 0,
            links: 0,
            contexts: 0,
            body: None,
            source: InteractionSource::Poll,
            first_seen_at: "2026-11-22T08:00:01.250Z".parse().unwrap(),
        }
    }

    #[test]
    fn columns_read_short() {
        let prompt = record("userPrompt");
        assert_eq!(app(&prompt), "Word");
        let nobody = HashMap::new();
        assert_eq!(user(&prompt, &nobody), "Adele Vance");
        assert_eq!(kind(&prompt), "prompt");
        assert_eq!(session(&prompt), "—");
        assert_eq!(latency(&prompt), "1.2s");
        // A response's `from` is the Copilot app, not the user.
        let response = record("aiResponse");
        assert_eq!(user(&response, &nobody), "u-1");
        let directory = HashMap::new();
        let known = known_names([&prompt, &response], &directory);
        assert_eq!(user(&response, &known), "Adele Vance");
        assert_eq!(kind(&response), "response");
    }

    #[test]
    fn the_mri_graph_puts_in_from_is_not_shown_as_a_name_but_the_directory_name_is() {
        let mut prompt = record("userPrompt");
        prompt.from_display_name = Some("8:orgid:u-1".into());
        let response = record("aiResponse");
        let empty = HashMap::new();
        let known = known_names([&prompt, &response], &empty);
        assert_eq!(user(&prompt, &known), "u-1");
        assert_eq!(user(&response, &known), "u-1");
        let directory = HashMap::from([("u-1".to_owned(), "Adele Vance".to_owned())]);
        let known = known_names([&prompt, &response], &directory);
        assert_eq!(user(&prompt, &known), "Adele Vance");
        assert_eq!(user(&response, &known), "Adele Vance");
    }

    #[test]
    fn durations_scale_and_distrust_negative_ones() {
        assert_eq!(duration(TimeDelta::seconds(42)), "42s");
        assert_eq!(duration(TimeDelta::seconds(190)), "3m 10s");
        assert_eq!(duration(TimeDelta::minutes(125)), "2h 05m");
        assert_eq!(duration(TimeDelta::seconds(-3)), "—");
        assert_eq!(fit("Adele Vance", 6), "Adele…");
        assert_eq!(fit("Adele", 6), "Adele");
    }
}
