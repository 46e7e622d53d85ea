//! How the simulated Graph answers when something is wrong, and how it reads request bodies.
//!
//! Every Graph route answers failures with Graph's error document (`graph::model::GraphError`)
//! carrying the request's ids and the simulated time, never with axum's plain-text rejections.
//! [`RequestMeta`] carries those ids (set by the request middleware in `server`); [`GraphJson`]
//! reads JSON bodies and turns every way they can be wrong into a Graph error.
//!
//! Depends on `graph::model` and the simulator's state only.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, body::Bytes};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::graph::model::{GraphError, GraphErrorBody, GraphInnerError};

/// Ids and time of the request being answered.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// Graph's `request-id`.
    pub request_id: String,
    /// The caller's `client-request-id`, or the request id when none was sent.
    pub client_request_id: String,
    /// Simulated time when the request arrived.
    pub received: DateTime<Utc>,
}

impl RequestMeta {
    /// A Graph error answer for this request.
    pub fn error(
        &self,
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
    ) -> GraphFailure {
        GraphFailure {
            status,
            retry_after_secs: None,
            body: Box::new(GraphError {
                error: GraphErrorBody {
                    code: code.to_owned(),
                    message: message.into(),
                    inner_error: Some(GraphInnerError {
                        date: self.received.format("%Y-%m-%dT%H:%M:%S").to_string(),
                        request_id: self.request_id.clone(),
                        client_request_id: self.client_request_id.clone(),
                    }),
                },
            }),
        }
    }

    /// `403 Forbidden` for a token without any of `required` roles, worded as Graph words it.
    pub fn missing_roles(&self, required: &[&str], held: &[String]) -> GraphFailure {
        let message = format!(
            "Missing role permissions on the request. API requires one of '{}'. Roles on the request '{}'.",
            required.join(", "),
            held.join(", ")
        );
        self.error(StatusCode::FORBIDDEN, "Forbidden", message)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // The middleware always inserts it; a route mounted without it is a wiring bug, which
        // is answered rather than panicked on.
        parts
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .ok_or_else(|| {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "request metadata missing",
                )
                    .into_response()
            })
    }
}

/// A Graph error answer: status, optional `Retry-After`, and Graph's error document.
#[derive(Debug, Clone)]
pub struct GraphFailure {
    /// HTTP status.
    pub status: StatusCode,
    /// Seconds for `Retry-After` (429 and 503).
    pub retry_after_secs: Option<u64>,
    /// The body (boxed: it is large, and routes return it on every error path).
    pub body: Box<GraphError>,
}

impl GraphFailure {
    /// Adds a `Retry-After` header.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }
}

impl IntoResponse for GraphFailure {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(*self.body)).into_response();
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
                ),
            );
        }
        response
    }
}

/// A JSON request body read the way Graph reads it: `application/json` required, size limited
/// by the router's body limit, every failure answered with Graph's error document.
#[derive(Debug, Clone)]
pub struct GraphJson<T>(pub T);

impl<S, T> FromRequest<S> for GraphJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = GraphFailure;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let meta = match RequestMeta::from_request_parts(&mut parts, state).await {
            Ok(meta) => meta,
            Err(_) => RequestMeta {
                request_id: String::new(),
                client_request_id: String::new(),
                received: DateTime::<Utc>::UNIX_EPOCH,
            },
        };
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(meta.error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                format!(
                    "The content type '{content_type}' is not supported; send application/json."
                ),
            ));
        }
        let request = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    meta.error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "RequestEntityTooLarge",
                        "The request body is larger than the service accepts.",
                    )
                } else {
                    meta.error(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        "The request body could not be read.",
                    )
                }
            })?;
        serde_json::from_slice(&bytes).map(GraphJson).map_err(|error| {
            let message = if error.is_syntax() || error.is_eof() {
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.".to_owned()
            } else {
                format!("Invalid request: {error}")
            };
            meta.error(StatusCode::BAD_REQUEST, "BadRequest", message)
        })
    }
}
