//! Graph's error body: `{"error":{"code","message","innerError":{…}}}`.
//!
//! Callers branch on the HTTP status and `code`, never on `message` text.

use serde::{Deserialize, Serialize};

/// The whole error document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphError {
    /// The error itself.
    pub error: GraphErrorBody,
}

/// `error` of a Graph error document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphErrorBody {
    /// Machine-readable code, e.g. `TooManyRequests`, `Forbidden`.
    pub code: String,
    /// Human-readable message. Never branch on it.
    pub message: String,
    /// Diagnostic ids for support tickets.
    #[serde(
        rename = "innerError",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub inner_error: Option<GraphInnerError>,
}

/// `innerError`: when and which request, for support tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphInnerError {
    /// Server time of the failure, `YYYY-MM-DDTHH:MM:SS`.
    pub date: String,
    /// Graph's id of the request.
    #[serde(rename = "request-id")]
    pub request_id: String,
    /// The caller's `client-request-id`, echoed (or a fresh one).
    #[serde(rename = "client-request-id")]
    pub client_request_id: String,
}
