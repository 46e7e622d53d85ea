//! WORK IN PROGRESS: the notification pusher (being written).

use std::sync::Arc;

use tokio::sync::mpsc;

use super::state::{Outbound, SimState};

/// Runs until shutdown.
pub async fn run(state: Arc<SimState>, mut outbox: mpsc::UnboundedReceiver<Outbound>) {
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            item = outbox.recv() => if item.is_none() { return },
        }
    }
}
