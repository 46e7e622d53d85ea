//! Helpers for the simulated Graph's own outbound HTTP (the validation handshake and
//! notification POSTs): describing a transport failure and showing a subscriber's URL without
//! its query string, which may carry a secret (a function key, a token).
//!
//! Pure functions over `reqwest` and `url` types; depends on nothing in the simulator.

use url::Url;

/// A transport error in a few words, with its causes; the URL (which may carry the subscriber's
/// query string or a validation token) is left out.
pub fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_builder() {
        "invalid URL"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Scheme, host, port and path only: what may be logged or recorded of a subscriber's URL.
pub fn without_query(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => {
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}{}",
                parsed.scheme(),
                parsed.host_str().unwrap_or(""),
                parsed.path()
            )
        }
        Err(_) => "<invalid url>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_and_fragment_are_dropped_the_port_is_kept() {
        assert_eq!(
            without_query("https://h.test/n?code=secret"),
            "https://h.test/n"
        );
        assert_eq!(
            without_query("http://127.0.0.1:8080/a/b?sig=x#frag"),
            "http://127.0.0.1:8080/a/b"
        );
        assert_eq!(without_query("not a url ?secret"), "<invalid url>");
    }
}
