//! The export API's `$skiptoken`: opaque to clients, base64 (URL-safe, unpadded) of text shaped
//! like Graph's own tokens (graph-facts §1.3), `SkipValue=<n>#Cursor=<ms>|<id>#Until=<ms>`.
//!
//! It is a cursor, not an offset: the next page starts strictly after the last item returned
//! (newest first, ordered by `createdDateTime` then `id`), and `Until` pins the newest item the
//! paging may return to the first page's moment. Interactions that arrive between page fetches
//! therefore neither repeat nor shift items. `SkipValue` counts the items already returned, as
//! Graph's tokens do, and is informational.
//!
//! Depends on base64 only.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// Longest token accepted (characters).
const MAX_TOKEN_LEN: usize = 512;

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipToken {
    /// Items returned before the next page.
    pub skipped: u64,
    /// `createdDateTime` (epoch ms) of the last item returned.
    pub cursor_ms: i64,
    /// `id` of the last item returned.
    pub cursor_id: String,
    /// Nothing newer than this (epoch ms) is returned by this paging.
    pub until_ms: i64,
}

impl SkipToken {
    /// The opaque token.
    pub fn encode(&self) -> String {
        let text = format!(
            "SkipValue={}#Cursor={}|{}#Until={}",
            self.skipped, self.cursor_ms, self.cursor_id, self.until_ms
        );
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Reads a token this service issued; `None` for anything else (malformed, truncated, or
    /// another service's token).
    pub fn decode(token: &str) -> Option<Self> {
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let bytes = [URL_SAFE_NO_PAD, URL_SAFE, STANDARD_NO_PAD, STANDARD]
            .iter()
            .find_map(|engine| engine.decode(token).ok())?;
        let text = String::from_utf8(bytes).ok()?;
        let mut fields = text.split('#');
        let skipped = fields.next()?.strip_prefix("SkipValue=")?.parse().ok()?;
        let (cursor_ms, cursor_id) = fields.next()?.strip_prefix("Cursor=")?.split_once('|')?;
        let until_ms = fields.next()?.strip_prefix("Until=")?.parse().ok()?;
        if fields.next().is_some()
            || cursor_id.is_empty()
            || cursor_id.len() > 64
            || !cursor_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return None;
        }
        Some(Self {
            skipped,
            cursor_ms: cursor_ms.parse().ok()?,
            cursor_id: cursor_id.to_owned(),
            until_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_url_safe() {
        let token = SkipToken {
            skipped: 25,
            cursor_ms: 1_732_148_356_886,
            cursor_id: "1732148356886".to_owned(),
            until_ms: 1_732_148_999_001,
        };
        let encoded = token.encode();
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(SkipToken::decode(&encoded), Some(token));
    }

    #[test]
    fn foreign_and_malformed_tokens_are_refused() {
        let graphs_own =
            STANDARD.encode("SkipValue=10#MailboxFolder=MailFolders/TeamsMessagesData");
        for bad in [
            "",
            "not base64 at all!",
            graphs_own.as_str(),
            "U2tpcFZhbHVlPTI",
            &URL_SAFE_NO_PAD.encode("SkipValue=x#Cursor=1|1#Until=2"),
            &URL_SAFE_NO_PAD.encode("SkipValue=1#Cursor=1|#Until=2"),
            &URL_SAFE_NO_PAD.encode("SkipValue=1#Cursor=1|1#Until=2#More=3"),
            &URL_SAFE_NO_PAD.encode("SkipValue=1#Cursor=1|a'b#Until=2"),
        ] {
            assert_eq!(SkipToken::decode(bad), None, "{bad} accepted");
        }
    }
}
