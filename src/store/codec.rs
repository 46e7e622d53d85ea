//! Value encoding: records are stored as JSON. The records are small (a few hundred bytes),
//! JSON keeps the store readable with generic tools when an operator must look inside, and
//! serde_json is already how every other record in pilotwatch is written. The hot path (the
//! inbox, written before each 202) does not use it: raw bodies get a binary layout there.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::StoreError;

/// Encodes a record.
pub(crate) fn encode<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|error| StoreError::Encode {
        what,
        reason: error.to_string(),
    })
}

/// Decodes a record read from `tree`.
pub(crate) fn decode<T: DeserializeOwned>(
    tree: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|error| StoreError::corrupt(tree, error))
}
