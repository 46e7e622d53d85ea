//! WORK IN PROGRESS: the activity generator (being written).

use std::sync::Arc;

use serde::Deserialize;

use super::state::SimState;
use crate::graph::model::AiInteraction;

/// `POST /_sim/interactions`: make interactions now.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateRequest {
    /// Prompt/response pairs to make.
    pub pairs: u32,
    /// Whose (default: a random licensed user).
    pub user_id: Option<String>,
    /// Which app class (default: random).
    pub app_class: Option<String>,
}

/// Generates interactions now.
pub fn generate_now(
    _state: &SimState,
    _request: &GenerateRequest,
) -> Result<Vec<AiInteraction>, String> {
    Err("not yet".to_owned())
}

/// Fills the history before start.
pub fn seed_history(_state: &SimState) {}

/// Runs until shutdown.
pub async fn run(state: Arc<SimState>) {
    state.shutdown.cancelled().await;
}
