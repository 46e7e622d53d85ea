//! Loading a secret from async code: reading a file or running a command blocks, so it runs on
//! tokio's blocking pool while the caller awaits. Depends only on the secret sources and tokio.

use std::time::Duration;

use secrecy::SecretString;

use super::{SecretError, SecretSource};

impl SecretSource {
    /// [`SecretSource::load_with_timeout`] without blocking the async runtime.
    pub async fn load_off_runtime(&self, timeout: Duration) -> Result<SecretString, SecretError> {
        let source = self.clone();
        tokio::task::spawn_blocking(move || source.load_with_timeout(timeout))
            .await
            .map_err(|stopped| SecretError::LoaderStopped {
                reason: stopped.to_string(),
            })?
    }
}
