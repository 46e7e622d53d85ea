//! WORK IN PROGRESS: routes of `subscriptions` (being written).

use std::sync::Arc;

use axum::Router;

use super::state::SimState;

/// Routes of this module.
pub fn routes() -> Router<Arc<SimState>> {
    Router::new()
}
