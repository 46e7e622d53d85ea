//! Types a failed keeper action by Graph's answer, so diagnosis can name the cause without
//! reading the keeper's prose: the validation handshake (400 on create, graph-facts §3.1 and
//! §3.3), a used-up quota (403 naming the limit, graph-facts §2: one tenant-wide subscription
//! per app and tenant), 403, 404, 429, 5xx or a timeout, and token failures.
//!
//! Branches on status and `error.code`; the only message text read is the handshake's and the
//! quota's, which Graph gives no code of their own. Part of the keeper; depends on the Graph
//! client's error type and the store's event records only.

use super::api;
use crate::graph::http::RequestError;
use crate::store::records::{KeeperFailure, KeeperFailureKind};

/// Longest detail kept in an event, in characters: enough for Graph's message, short enough
/// for a table cell.
const MAX_DETAIL_CHARS: usize = 300;

/// The typed failure behind `error`.
pub(super) fn classify(error: &RequestError) -> KeeperFailure {
    let (status, code, detail) = match error {
        RequestError::Graph {
            status,
            code,
            message,
            ..
        } => (
            Some(*status),
            (!code.is_empty()).then(|| code.clone()),
            message.clone(),
        ),
        RequestError::UnexpectedBody { status, detail, .. } => {
            (Some(*status), None, detail.clone())
        }
        other => (None, None, other.to_string()),
    };
    KeeperFailure {
        kind: kind_of(error),
        status,
        code,
        detail: cut(&detail),
    }
}

/// A 409 whose subscription notifies another deployment's URL: the one tenant-wide
/// subscription per app and tenant is held elsewhere, which is the quota finding.
pub(super) fn held_elsewhere(detail: &str) -> KeeperFailure {
    KeeperFailure {
        kind: KeeperFailureKind::Quota,
        status: Some(409),
        code: None,
        detail: cut(detail),
    }
}

fn kind_of(error: &RequestError) -> KeeperFailureKind {
    if api::is_handshake_failure(error) {
        return KeeperFailureKind::Handshake;
    }
    match error {
        RequestError::Auth(_) => KeeperFailureKind::Unauthenticated,
        // Unreachable or timed out: Graph is not answering, from where we stand.
        RequestError::Network { .. } => KeeperFailureKind::Unavailable,
        RequestError::Graph {
            status: 403,
            message,
            ..
        } if message.to_ascii_lowercase().contains("quota") => KeeperFailureKind::Quota,
        _ => match error.status() {
            Some(401) => KeeperFailureKind::Unauthenticated,
            Some(403) => KeeperFailureKind::Forbidden,
            Some(404) => KeeperFailureKind::NotFound,
            Some(429) => KeeperFailureKind::Throttled,
            Some(500..=599) => KeeperFailureKind::Unavailable,
            _ => KeeperFailureKind::Other,
        },
    }
}

/// `text` cut to [`MAX_DETAIL_CHARS`] characters, marked when it was.
fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::auth::AuthError;

    /// The simulator's (and Graph's fixture's) handshake failure message.
    const VALIDATION_FAILED: &str = "Subscription validation request failed. Notification \
                                     endpoint must respond with 200 OK to validation request.";

    fn graph(status: u16, code: &str, message: &str) -> RequestError {
        RequestError::Graph {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            request_id: Some("r-1".to_owned()),
            client_request_id: "c-1".to_owned(),
            date: None,
            attempts: 1,
        }
    }

    #[test]
    fn graphs_answers_map_to_the_kinds_diagnosis_tells_apart() {
        let cases = [
            (
                graph(400, "InvalidRequest", VALIDATION_FAILED),
                KeeperFailureKind::Handshake,
            ),
            (
                graph(400, "ValidationError", "x"),
                KeeperFailureKind::Handshake,
            ),
            (
                graph(
                    403,
                    "ExtensionError",
                    "Subscription quota exceeded: at most 1 tenant-wide subscription",
                ),
                KeeperFailureKind::Quota,
            ),
            (
                graph(403, "Forbidden", "Insufficient privileges"),
                KeeperFailureKind::Forbidden,
            ),
            (
                graph(404, "ResourceNotFound", "gone"),
                KeeperFailureKind::NotFound,
            ),
            (
                graph(429, "TooManyRequests", "slow down"),
                KeeperFailureKind::Throttled,
            ),
            (
                graph(503, "ServiceUnavailable", "down"),
                KeeperFailureKind::Unavailable,
            ),
            (
                graph(401, "InvalidAuthenticationToken", "expired"),
                KeeperFailureKind::Unauthenticated,
            ),
            (graph(400, "BadRequest", "other"), KeeperFailureKind::Other),
            (
                AuthError::UnexpectedAnswer { status: 502 }.into(),
                KeeperFailureKind::Unauthenticated,
            ),
            (
                RequestError::Network {
                    message: "timed out".into(),
                    tls_certificate: false,
                    timeout: true,
                    attempts: 3,
                },
                KeeperFailureKind::Unavailable,
            ),
        ];
        for (error, kind) in cases {
            assert_eq!(classify(&error).kind, kind, "{error}");
        }
    }

    #[test]
    fn status_code_and_message_are_kept_the_message_cut_to_size() {
        let failure = classify(&graph(400, "InvalidRequest", VALIDATION_FAILED));
        assert_eq!(failure.status, Some(400));
        assert_eq!(failure.code.as_deref(), Some("InvalidRequest"));
        assert_eq!(failure.detail, VALIDATION_FAILED);
        assert_eq!(classify(&graph(502, "", "bad gateway")).code, None);
        let long = classify(&graph(500, "x", &"é".repeat(1000)));
        assert_eq!(long.detail.chars().count(), MAX_DETAIL_CHARS + 1);
        let network = classify(&RequestError::Network {
            message: "connection refused".into(),
            tls_certificate: false,
            timeout: false,
            attempts: 3,
        });
        assert_eq!(
            (network.status, network.kind),
            (None, KeeperFailureKind::Unavailable)
        );
        assert!(network.detail.contains("connection refused"));
    }
}
