//! Switching the simulator's scenario: a POST of `{"name": …}` to its control API
//! (`/_sim/scenario`), refused when the collector is not pointed at a simulator or the name is
//! not one of its scenarios (checked before anything is sent, so a typo changes nothing).
//!
//! Depends on reqwest and the backend's simulation target only; never on `sim`'s code.

use std::sync::{Arc, PoisonError};

use super::Backend;
use crate::console::{CommandOutcome, ConsoleError};

/// Asks the simulator to play `name`.
pub(super) async fn switch(
    backend: Arc<Backend>,
    name: String,
) -> Result<CommandOutcome, ConsoleError> {
    let Some(target) = backend.options.simulation.as_ref() else {
        return Err(ConsoleError::Refused(
            "the collector is not running against the simulator; scenarios exist only there".into(),
        ));
    };
    if !target.scenarios.contains(&name) {
        return Err(ConsoleError::Refused(format!(
            "unknown scenario {name:?}; known: {}",
            target.scenarios.join(", ")
        )));
    }
    let http = backend
        .http
        .as_ref()
        .map_err(|error| ConsoleError::Failed(format!("no HTTP client: {error}")))?;
    let url = target
        .base_url
        .join("/_sim/scenario")
        .map_err(|error| ConsoleError::Failed(format!("the simulator's URL: {error}")))?;
    let response = http
        .post(url)
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .map_err(|error| ConsoleError::Failed(format!("the simulator did not answer: {error}")))?;
    let status = response.status();
    if !status.is_success() {
        // The simulator explains a refusal in `{"error": …}`.
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let reason = body
            .get("error")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("no reason given");
        return Err(if status.is_client_error() {
            ConsoleError::Refused(format!("the simulator refused scenario {name:?}: {reason}"))
        } else {
            ConsoleError::Failed(format!("the simulator answered {status}: {reason}"))
        });
    }
    *backend
        .scenario
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(name.clone());
    Ok(CommandOutcome::done(format!(
        "the simulator now plays {name}"
    )))
}
