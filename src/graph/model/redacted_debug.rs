//! `Debug` for payloads that carry a `clientState`: the shared secret a subscription's
//! notifications are checked against must not reach logs or panic messages, so it prints as
//! `[redacted]`. Everything else prints as the JSON Graph would see. Depends only on serde.

use std::fmt;

use serde::Serialize;

/// Writes `name` and `value` as JSON with `clientState` replaced.
pub(super) fn fmt_redacted<T: Serialize>(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    value: &T,
) -> fmt::Result {
    let mut json = serde_json::to_value(value).map_err(|_| fmt::Error)?;
    if let Some(object) = json.as_object_mut()
        && object
            .get("clientState")
            .is_some_and(|state| !state.is_null())
    {
        object.insert("clientState".to_owned(), "[redacted]".into());
    }
    write!(f, "{name} {json}")
}
