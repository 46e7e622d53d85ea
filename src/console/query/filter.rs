//! The feed's filter syntax: `app:teams user:adele type:prompt free text`, parsed into a
//! [`FeedFilter`] and written back (to prefill the prompt). A value with spaces or a colon is
//! quoted (`user:"Adele Vance"`, `"19:meeting"`). Bad syntax is an error naming the problem;
//! the caller keeps its filter.
//!
//! The TUI's filter prompt and `pilotwatch export --filter` read the same syntax, so it lives
//! with the query types rather than in either. Pure; depends on the console's filter type only.

use crate::console::FeedFilter;

/// Why a filter does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// `name:` that is not one of the fields.
    #[error("unknown field `{0}:` (fields: app user type; quote text with a colon)")]
    UnknownField(String),
    /// `app:` with nothing after it.
    #[error("`{0}:` needs a value, e.g. `app:teams`")]
    EmptyValue(&'static str),
    /// The same field twice.
    #[error("`{0}:` is given twice; one value per field")]
    Repeated(&'static str),
    /// A `"` without its closing one.
    #[error("a quote is not closed")]
    UnclosedQuote,
}

/// The fields, as written and where they go.
const FIELDS: [&str; 3] = ["app", "user", "type"];

/// Parses `text`; blank text is the empty filter (everything).
pub fn parse(text: &str) -> Result<FeedFilter, FilterError> {
    let mut filter = FeedFilter::default();
    let mut free: Vec<String> = Vec::new();
    for token in tokens(text)? {
        let Token { field, value } = token;
        let Some(field) = field else {
            free.push(value);
            continue;
        };
        let Some(&name) = FIELDS.iter().find(|name| **name == field.to_lowercase()) else {
            return Err(FilterError::UnknownField(field));
        };
        if value.is_empty() {
            return Err(FilterError::EmptyValue(name));
        }
        let slot = match name {
            "app" => &mut filter.app,
            "user" => &mut filter.user,
            _ => &mut filter.interaction_type,
        };
        if slot.is_some() {
            return Err(FilterError::Repeated(name));
        }
        *slot = Some(value);
    }
    if !free.is_empty() {
        filter.text = Some(free.join(" "));
    }
    Ok(filter)
}

/// `filter` in the syntax [`parse`] reads (its `profile` is not part of the syntax).
pub fn to_syntax(filter: &FeedFilter) -> String {
    let fields = [
        ("app", &filter.app),
        ("user", &filter.user),
        ("type", &filter.interaction_type),
    ];
    let mut words: Vec<String> = fields
        .iter()
        .filter_map(|(name, value)| {
            value
                .as_ref()
                .map(|value| format!("{name}:{}", quoted(value)))
        })
        .collect();
    if let Some(text) = &filter.text {
        words.push(quoted(text));
    }
    words.join(" ")
}

/// A value as written: quoted when it would not read back as one word.
fn quoted(value: &str) -> String {
    if value.contains([' ', ':', '"']) || value.is_empty() {
        format!("\"{}\"", value.replace('"', ""))
    } else {
        value.to_owned()
    }
}

/// One word: `field:value`, or free text.
struct Token {
    field: Option<String>,
    value: String,
}

/// Splits on whitespace outside quotes; `name:` before a value makes it a field when `name`
/// is letters only (so `19:meeting` stays text).
fn tokens(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(tokens);
        }
        let mut word = String::new();
        let mut field = None;
        let mut quoted_any = false;
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    quoted_any = true;
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some(inner) => word.push(inner),
                            None => return Err(FilterError::UnclosedQuote),
                        }
                    }
                }
                ':' if field.is_none()
                    && !quoted_any
                    && !word.is_empty()
                    && word.chars().all(|c| c.is_ascii_alphabetic()) =>
                {
                    field = Some(std::mem::take(&mut word));
                }
                c if c.is_whitespace() => break,
                c => word.push(c),
            }
        }
        tokens.push(Token { field, value: word });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn fields_and_free_text() {
        let filter = parse("app:teams user:adele type:prompt quarterly numbers").unwrap();
        assert_eq!(filter.app.as_deref(), Some("teams"));
        assert_eq!(filter.user.as_deref(), Some("adele"));
        assert_eq!(filter.interaction_type.as_deref(), Some("prompt"));
        assert_eq!(filter.text.as_deref(), Some("quarterly numbers"));
        assert_eq!(filter.profile, None);
    }

    #[test]
    fn blank_is_everything_and_field_names_ignore_case() {
        assert!(parse("   ").unwrap().is_empty());
        assert_eq!(parse("APP:Word").unwrap().app.as_deref(), Some("Word"));
    }

    #[test]
    fn quotes_keep_spaces_and_colons() {
        let filter = parse(r#"user:"Adele Vance" "19:meeting" 19:session"#).unwrap();
        assert_eq!(filter.user.as_deref(), Some("Adele Vance"));
        assert_eq!(filter.text.as_deref(), Some("19:meeting 19:session"));
    }

    #[test]
    fn bad_syntax_says_what_is_wrong() {
        assert_eq!(
            parse("colour:red"),
            Err(FilterError::UnknownField("colour".into()))
        );
        assert_eq!(parse("app: teams"), Err(FilterError::EmptyValue("app")));
        assert_eq!(
            parse("app:teams app:word"),
            Err(FilterError::Repeated("app"))
        );
        assert_eq!(parse(r#"user:"adele"#), Err(FilterError::UnclosedQuote));
        assert!(
            FilterError::UnknownField("colour".into())
                .to_string()
                .contains("fields: app user type")
        );
    }

    #[test]
    fn written_filters_read_back() {
        let filter = parse(r#"app:word user:"Adele Vance" type:response "19:x" budget"#).unwrap();
        assert_eq!(parse(&to_syntax(&filter)).unwrap(), filter);
        assert_eq!(to_syntax(&FeedFilter::default()), "");
    }
}
