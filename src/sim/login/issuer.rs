//! The identity platform's issuer strings: the v1.0 (`sts.windows.net`) and v2.0
//! (`login.microsoftonline.com/…/v2.0`) `iss` values (graph-facts §4, §6). Every place that
//! signs, publishes or checks an issuer — token minting, discovery, the Graph bearer check, the
//! pusher's validation tokens — takes it from here, so they can never disagree.
//!
//! Pure: string formatting only; depends on nothing.

/// The v2.0 issuer for a tenant id (or the `{tenantid}` template).
pub fn issuer_v2(tenant: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}/v2.0")
}

/// The v1.0 issuer for a tenant id (or the `{tenantid}` template).
pub fn issuer_v1(tenant: &str) -> String {
    format!("https://sts.windows.net/{tenant}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_follow_microsoft() {
        assert_eq!(
            issuer_v2("{tenantid}"),
            "https://login.microsoftonline.com/{tenantid}/v2.0"
        );
        assert_eq!(issuer_v1("abc"), "https://sts.windows.net/abc/");
    }
}
