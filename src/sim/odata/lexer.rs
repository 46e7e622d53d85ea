//! `$filter` text → tokens with their character positions. Literals are typed here: quoted
//! strings (`''` escapes a quote), unquoted `DateTimeOffset` (`2025-11-24T00:00:00Z`), numbers,
//! GUIDs and `true`/`false`/`null`; an unquoted literal of any other shape is an error.
//!
//! Depends on chrono and uuid only.

use chrono::{DateTime, Utc};

use super::expr::Literal;
use super::filter::FilterError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Open,
    Close,
    Comma,
    /// Identifier, keyword or property path.
    Word(String),
    Literal(Literal),
    End,
}

/// A token and the character position it starts at.
pub(super) type Positioned = (Token, usize);

pub(super) fn tokenize(text: &str) -> Result<Vec<Positioned>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        let start = at;
        match c {
            c if c.is_whitespace() => {
                at += 1;
                continue;
            }
            '(' => {
                tokens.push((Token::Open, start));
                at += 1;
            }
            ')' => {
                tokens.push((Token::Close, start));
                at += 1;
            }
            ',' => {
                tokens.push((Token::Comma, start));
                at += 1;
            }
            '\'' => {
                let (value, end) = quoted(&chars, start, text)?;
                tokens.push((Token::Literal(Literal::String(value)), start));
                at = end;
            }
            c if c.is_ascii_digit() || (c == '-' && next_is_digit(&chars, at)) => {
                let end = scan(&chars, at, |c| {
                    c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | ':' | '.')
                });
                let raw: String = chars.get(start..end).unwrap_or_default().iter().collect();
                tokens.push((Token::Literal(typed_literal(&raw)?), start));
                at = end;
            }
            c if c.is_ascii_hexdigit() && guid_at(&chars, at).is_some() => {
                let guid = guid_at(&chars, at).unwrap_or_default();
                at += guid.len();
                tokens.push((Token::Literal(Literal::Guid(guid)), start));
            }
            c if c.is_alphabetic() || c == '_' || c == '@' || c == '$' => {
                let end = scan(&chars, at, |c| {
                    c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | '@' | '$')
                });
                let word: String = chars.get(start..end).unwrap_or_default().iter().collect();
                let token = match word.to_ascii_lowercase().as_str() {
                    "true" => Token::Literal(Literal::Bool(true)),
                    "false" => Token::Literal(Literal::Bool(false)),
                    "null" => Token::Literal(Literal::Null),
                    _ => Token::Word(word),
                };
                tokens.push((token, start));
                at = end;
            }
            other => {
                return Err(FilterError(format!(
                    "syntax error: character '{other}' is not valid at position {start} in '{text}'."
                )));
            }
        }
    }
    tokens.push((Token::End, chars.len()));
    Ok(tokens)
}

/// An unquoted GUID starting at `at` (and not running on into a longer word).
fn guid_at(chars: &[char], at: usize) -> Option<String> {
    let candidate: String = chars.get(at..at + 36)?.iter().collect();
    let runs_on = chars
        .get(at + 36)
        .is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (is_guid(&candidate) && !runs_on).then_some(candidate)
}

fn next_is_digit(chars: &[char], at: usize) -> bool {
    chars.get(at + 1).is_some_and(char::is_ascii_digit)
}

fn scan(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut end = from;
    while chars.get(end).is_some_and(|&c| keep(c)) {
        end += 1;
    }
    end
}

/// A quoted string starting at `start`; `''` is an escaped quote. Returns the value and the
/// position after the closing quote.
fn quoted(chars: &[char], start: usize, text: &str) -> Result<(String, usize), FilterError> {
    let mut value = String::new();
    let mut at = start + 1;
    loop {
        match chars.get(at) {
            Some('\'') if chars.get(at + 1) == Some(&'\'') => {
                value.push('\'');
                at += 2;
            }
            Some('\'') => return Ok((value, at + 1)),
            Some(&c) => {
                value.push(c);
                at += 1;
            }
            None => {
                return Err(FilterError(format!(
                    "unterminated string literal at position {start} in '{text}'."
                )));
            }
        }
    }
}

/// Types an unquoted literal that starts with a digit (or `-digit`).
fn typed_literal(raw: &str) -> Result<Literal, FilterError> {
    if raw.contains('T') || raw.contains(':') {
        return DateTime::parse_from_rfc3339(raw)
            .map(|at| Literal::DateTime(at.with_timezone(&Utc)))
            .map_err(|_| {
                FilterError(format!(
                    "'{raw}' is not a valid DateTimeOffset literal; use the form 2025-11-24T00:00:00Z."
                ))
            });
    }
    if is_guid(raw) {
        return Ok(Literal::Guid(raw.to_owned()));
    }
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if all_digits(whole) && fraction.is_none_or(all_digits) {
        return Ok(Literal::Number(raw.to_owned()));
    }
    Err(FilterError(format!("'{raw}' is not a valid literal.")))
}

fn is_guid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}
