//! The Copilot interaction export API (graph-facts §1):
//! `GET /copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions` on `/v1.0` and
//! `/beta`, answering from the simulator's interaction log.
//!
//! Order of checks: the bearer token (401), the export budget per app per tenant (429 with
//! `Retry-After`, §1.6/§8 — checked first so rejected calls stay cheap), the
//! `AiEnterpriseInteraction.Read.All` role (403, §1.2), the query options (400), the user (404)
//! and their Copilot licence (403). Items are the user's interactions created up to now, newest
//! first, `$top` per page, with `@odata.nextLink` carrying an opaque cursor (`skiptoken`).
//!
//! Depends on the simulator's state, auth, errors and OData parsing, and on `graph::model`.

mod filter;
mod skiptoken;

use std::sync::{Arc, PoisonError};
use std::time::Instant;

use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::auth::Caller;
use super::http_error::{GraphFailure, RequestMeta};
use super::ledger::InteractionLog;
use super::odata::QueryOptions;
use super::server::BaseUrl;
use super::state::SimState;
use super::throttle::retry_after_secs;
use crate::graph::model::well_known::{COPILOT_CHAT_PLAN_ID, INTERACTION_EXPORT_ROLE};
use crate::graph::model::{AiInteraction, Collection};
pub use filter::{BOTH_BOUNDS_REQUIRED, ExportFilter};
pub use skiptoken::SkipToken;

/// `$top` when the request gives none. The docs recommend `$top=100` but do not state a
/// default; UNVERIFIED that Graph's default page size is 100.
pub const DEFAULT_TOP: usize = 100;

/// Largest `$top` accepted. Graph documents no maximum (UNVERIFIED); 1000 is Graph's usual cap.
pub const MAX_TOP: usize = 1000;

/// The only query options this function takes (graph-facts §1.3). `$select`, `$orderby`,
/// `$expand`, `$count` and others answer 400; UNVERIFIED that Graph refuses rather than ignores
/// them.
const SUPPORTED_OPTIONS: [&str; 3] = ["top", "filter", "skiptoken"];

/// Characters left as they are in a `$filter` value inside `@odata.nextLink`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Routes of the export API (mounted under `/v1.0` and `/beta`).
pub fn routes() -> Router<Arc<SimState>> {
    const PATH: &str = "/copilot/users/{user_id}/interactionHistory/getAllEnterpriseInteractions";
    // SDKs call the function with OData's empty parentheses; the docs call it without.
    Router::new()
        .route(PATH, get(get_all_enterprise_interactions))
        .route(&format!("{PATH}()"), get(get_all_enterprise_interactions))
}

/// The query of one call, checked.
#[derive(Debug)]
struct ExportQuery {
    top: usize,
    filter: ExportFilter,
    /// The `$filter` text as sent, repeated in `@odata.nextLink`.
    filter_text: Option<String>,
    token: Option<SkipToken>,
}

impl ExportQuery {
    fn parse(raw: Option<&str>) -> Result<Self, String> {
        let options = QueryOptions::parse(raw, &SUPPORTED_OPTIONS).map_err(|e| e.0)?;
        let top = options.top(DEFAULT_TOP, MAX_TOP).map_err(|e| e.0)?;
        let filter_text = options.get("filter").map(str::to_owned);
        let filter = match &filter_text {
            Some(text) => ExportFilter::parse(text)?,
            None => ExportFilter::default(),
        };
        let token = match options.get("skiptoken") {
            Some(raw) => Some(SkipToken::decode(raw).ok_or_else(|| {
                "The $skiptoken is malformed or was not issued for this request; follow @odata.nextLink exactly as returned.".to_owned()
            })?),
            None => None,
        };
        Ok(Self {
            top,
            filter,
            filter_text,
            token,
        })
    }
}

async fn get_all_enterprise_interactions(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    caller: Caller,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Collection<Arc<AiInteraction>>>, GraphFailure> {
    let budget_key = format!("{}|{}", caller.tenant_id, caller.app_id);
    if let Err(wait) = state.export_budget().check(&budget_key, Instant::now()) {
        let message = format!(
            "Too many requests from Identifier:{}+{} under category:throttle.copilot.export.",
            caller.tenant_id, caller.app_id
        );
        return Err(meta
            .error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", message)
            .retry_after(retry_after_secs(wait)));
    }
    caller.require_any(&meta, &[INTERACTION_EXPORT_ROLE])?;
    let bad_request = |message: String| meta.error(StatusCode::BAD_REQUEST, "BadRequest", message);
    let Path(user_id) =
        path.map_err(|_| bad_request("The user id in the path is not valid.".to_owned()))?;
    let query = ExportQuery::parse(uri.query()).map_err(bad_request)?;

    // UNVERIFIED (graph-facts §10.1): the status and body Graph answers for an unknown user and
    // for a user without a Copilot licence are undocumented; 404 itemNotFound and 403 Forbidden
    // are the simulator's best guess.
    let Some(user) = state.tenant.user(&user_id) else {
        return Err(meta.error(
            StatusCode::NOT_FOUND,
            "itemNotFound",
            format!("The user '{user_id}' was not found in the tenant."),
        ));
    };
    if !state.is_licensed(&user.id) {
        return Err(meta.error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "The user '{}' does not have a Microsoft 365 Copilot licence with the service plan 'Microsoft 365 Copilot Chat' ({COPILOT_CHAT_PLAN_ID}) enabled.",
                user.id
            ),
        ));
    }

    let now_ms = state.now().timestamp_millis();
    let until_ms = query
        .token
        .as_ref()
        .map_or(now_ms, |token| token.until_ms.min(now_ms));
    let cursor = query
        .token
        .as_ref()
        .map(|token| (token.cursor_ms, token.cursor_id.as_str()));
    let (value, more) = {
        let log = state
            .interactions
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        select_page(&log, &user.id, &query.filter, until_ms, cursor, query.top)
    };

    let version = if uri.path().starts_with("/beta/") {
        "/beta"
    } else {
        "/v1.0"
    };
    let next_link = match value.last() {
        Some(last) if more => {
            let token = SkipToken {
                skipped: query.token.as_ref().map_or(0, |t| t.skipped) + value.len() as u64,
                cursor_ms: last.created_date_time.timestamp_millis(),
                cursor_id: last.id.clone(),
                until_ms,
            };
            let mut link = format!(
                "{base}{version}/copilot/users/{}/interactionHistory/getAllEnterpriseInteractions?$top={}",
                user.id, query.top
            );
            if let Some(filter) = &query.filter_text {
                link.push_str("&$filter=");
                link.extend(utf8_percent_encode(filter, QUERY_VALUE));
            }
            link.push_str("&$skiptoken=");
            link.push_str(&token.encode());
            Some(link)
        }
        _ => None,
    };
    Ok(Json(Collection {
        context: Some(format!(
            "{base}{version}/$metadata#Collection(microsoft.graph.aiInteraction)"
        )),
        count: None,
        next_link,
        value,
    }))
}

/// Up to `top` of `user_id`'s interactions passing `filter`, created no later than `until_ms`
/// and strictly before `cursor` (`(ms, id)` of the previous page's last item), newest first;
/// and whether more remain.
fn select_page(
    log: &InteractionLog,
    user_id: &str,
    filter: &ExportFilter,
    until_ms: i64,
    cursor: Option<(i64, &str)>,
    top: usize,
) -> (Vec<Arc<AiInteraction>>, bool) {
    let mut page = Vec::new();
    for generated in log.iter().rev() {
        let item = &generated.interaction;
        let ms = item.created_date_time.timestamp_millis();
        if ms > until_ms || cursor.is_some_and(|cursor| (ms, item.id.as_str()) >= cursor) {
            continue;
        }
        // The log is ordered by time: nothing older can pass the lower bound.
        if filter
            .after
            .is_some_and(|after| item.created_date_time <= after)
        {
            break;
        }
        if !generated.user_id.eq_ignore_ascii_case(user_id) || !filter.matches(item) {
            continue;
        }
        if page.len() == top {
            return (page, true);
        }
        page.push(Arc::clone(item));
    }
    (page, false)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::graph::model::InteractionType;
    use crate::sim::ledger::Generated;

    fn log_of(items: &[(&str, i64)]) -> InteractionLog {
        let mut log = InteractionLog::default();
        for (user, ms) in items {
            let created = Utc.timestamp_millis_opt(*ms).single().unwrap();
            log.push(Generated {
                user_id: (*user).to_owned(),
                interaction: Arc::new(AiInteraction {
                    id: ms.to_string(),
                    session_id: "19:s@thread.v2".to_owned(),
                    request_id: "r".to_owned(),
                    app_class: "IPM.SkypeTeams.Message.Copilot.BizChat".to_owned(),
                    interaction_type: InteractionType::UserPrompt,
                    conversation_type: None,
                    etag: None,
                    created_date_time: created,
                    locale: None,
                    body: None,
                    from: None,
                    attachments: Vec::new(),
                    links: Vec::new(),
                    contexts: Vec::new(),
                    mentions: Vec::new(),
                }),
            });
        }
        log
    }

    fn ids(page: &[Arc<AiInteraction>]) -> Vec<&str> {
        page.iter().map(|item| item.id.as_str()).collect()
    }

    #[test]
    fn pages_are_newest_first_per_user_and_follow_the_cursor() {
        let log = log_of(&[
            ("a", 1_001),
            ("b", 1_002),
            ("a", 1_003),
            ("a", 1_004),
            ("a", 1_005),
        ]);
        let filter = ExportFilter::default();
        let (first, more) = select_page(&log, "A", &filter, 1_004, None, 2);
        assert_eq!(ids(&first), ["1004", "1003"]);
        assert!(more);
        let (second, more) = select_page(&log, "a", &filter, 1_004, Some((1_003, "1003")), 2);
        assert_eq!(ids(&second), ["1001"]);
        assert!(!more);
        let (exact, more) = select_page(&log, "a", &filter, 1_005, None, 4);
        assert_eq!(exact.len(), 4);
        assert!(!more, "no next page when the last page is exactly full");
    }

    #[test]
    fn the_lower_bound_stops_the_scan() {
        let log = log_of(&[("a", 1_001), ("a", 2_001), ("a", 3_001)]);
        let at = |ms| Utc.timestamp_millis_opt(ms).single().unwrap();
        let filter = ExportFilter {
            after: Some(at(1_001)),
            before: Some(at(3_001) + Duration::milliseconds(1)),
            app_classes: None,
        };
        let (page, _) = select_page(&log, "a", &filter, 9_999, None, 10);
        assert_eq!(ids(&page), ["3001", "2001"]);
    }

    #[test]
    fn query_options_are_checked() {
        assert_eq!(ExportQuery::parse(None).unwrap().top, DEFAULT_TOP);
        for bad in [
            "$top=0",
            "$top=1001",
            "$select=id",
            "$orderby=createdDateTime desc",
            "$expand=x",
            "$count=true",
            "$unknown=1",
            "$skiptoken=garbage",
            "$filter=createdDateTime gt 2025-11-24T00:00:00Z",
        ] {
            assert!(ExportQuery::parse(Some(bad)).is_err(), "{bad} accepted");
        }
    }
}
