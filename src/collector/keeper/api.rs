//! The `/subscriptions` calls the keeper makes (graph-facts §3.2), each one request through the
//! shared [`GraphClient`] (budget, retries, typed errors).
//!
//! A subscription id from Graph or the store is percent-encoded as one path segment, so no
//! value can change which URL is called. Depends on the Graph client, the model and the
//! poller's path-segment escape only.

use chrono::{DateTime, Utc};
use reqwest::Method;

use crate::collector::poller::window::path_segment;
use crate::graph::http::{GraphClient, RequestError};
use crate::graph::model::{Subscription, SubscriptionCreate, SubscriptionPatch};

/// Pages of `GET /subscriptions` read at most: an app has a handful of subscriptions.
const MAX_LIST_PAGES: usize = 20;

fn subscription_path(id: &str) -> String {
    format!("/subscriptions/{}", path_segment(id))
}

/// `POST /subscriptions` → `201` and the subscription. Graph validates the endpoints first.
pub async fn create(
    graph: &GraphClient,
    body: &SubscriptionCreate,
) -> Result<Subscription, RequestError> {
    Ok(graph
        .send(Method::POST, "/subscriptions", Some(body))
        .await?
        .body)
}

/// `PATCH /subscriptions/{id}` with a new expiry: renews and reauthorizes.
pub async fn renew(
    graph: &GraphClient,
    id: &str,
    expiry: DateTime<Utc>,
) -> Result<Subscription, RequestError> {
    let patch = SubscriptionPatch {
        expiration_date_time: Some(expiry),
        notification_url: None,
    };
    Ok(graph
        .send(Method::PATCH, &subscription_path(id), Some(&patch))
        .await?
        .body)
}

/// `POST /subscriptions/{id}/reauthorize`, no body → `204`: reauthorizes without extending
/// the expiry. Never within 10 minutes of a PATCH of the same subscription (`spacing`).
pub async fn reauthorize(graph: &GraphClient, id: &str) -> Result<(), RequestError> {
    let path = format!("{}/reauthorize", subscription_path(id));
    graph
        .send::<(), serde::de::IgnoredAny>(Method::POST, &path, None)
        .await?;
    Ok(())
}

/// `GET /subscriptions/{id}`.
pub async fn get(graph: &GraphClient, id: &str) -> Result<Subscription, RequestError> {
    Ok(graph.get(&subscription_path(id)).await?.body)
}

/// `GET /subscriptions`: this app's subscriptions, `clientState` withheld.
pub async fn list(graph: &GraphClient) -> Result<Vec<Subscription>, RequestError> {
    Ok(graph
        .get_all::<Subscription>("/subscriptions", MAX_LIST_PAGES)
        .await?
        .items)
}

/// `DELETE /subscriptions/{id}` → `204`. A 404 means it is gone already, which is what was
/// wanted.
pub async fn delete(graph: &GraphClient, id: &str) -> Result<(), RequestError> {
    match graph.delete(&subscription_path(id)).await {
        Ok(_) => Ok(()),
        Err(error) if error.status() == Some(404) => Ok(()),
        Err(error) => Err(error),
    }
}

/// True when a create failed because Graph could not validate an endpoint (the receiver did
/// not answer the handshake in time, or wrongly): `400` with `ValidationError`, or a
/// validation message when the code is another.
pub fn is_handshake_failure(error: &RequestError) -> bool {
    match error {
        RequestError::Graph {
            status: 400,
            code,
            message,
            ..
        } => code == "ValidationError" || message.contains("validation request failed"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(
            subscription_path("7f105c7d-2dc5-4530-97cd-4e7ae6534c07"),
            "/subscriptions/7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
        );
        let hostile = subscription_path("../users?$top=1#x");
        assert_eq!(hostile, "/subscriptions/..%2Fusers%3F%24top%3D1%23x");
    }

    #[test]
    fn handshake_failures_are_recognised_by_code_or_message() {
        let graph = |status: u16, code: &str, message: &str| RequestError::Graph {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            request_id: None,
            client_request_id: "c".to_owned(),
            date: None,
            attempts: 1,
        };
        assert!(is_handshake_failure(&graph(400, "ValidationError", "x")));
        assert!(is_handshake_failure(&graph(
            400,
            "InvalidRequest",
            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."
        )));
        assert!(!is_handshake_failure(&graph(
            400,
            "InvalidRequest",
            "bad expiry"
        )));
        assert!(!is_handshake_failure(&graph(409, "ValidationError", "x")));
    }
}
