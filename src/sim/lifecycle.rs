//! WORK IN PROGRESS: lifecycle notifications (being written).

use std::sync::Arc;

use super::state::SimState;

/// Runs until shutdown.
pub async fn run(state: Arc<SimState>) {
    state.shutdown.cancelled().await;
}
