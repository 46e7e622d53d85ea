//! Directory reads for credential diagnosis (graph-facts §7): the app's own service principal
//! (`appRoleAssignmentRequired`, `accountEnabled`), its application object (the secrets'
//! `hint` and `endDateTime`), the tenant's licences (`subscribedSkus`) and a sample of users with
//! their `assignedPlans`; and one user's display name, for the console's feed.
//!
//! Each read is one call through [`GraphClient`] (so it shares the budget, retries and error
//! parsing) and returns the typed object or the [`RequestError`]; deciding that a 403 means "not
//! readable, grant X" is the caller's business. Depends only on the Graph client and the model.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::http::{GraphClient, RequestError};
use super::model::{Application, ServicePrincipal, SubscribedSku, User};

/// `$select` of the service principal read: exactly the fields the diagnosis uses.
const SERVICE_PRINCIPAL_SELECT: &str =
    "id,appId,displayName,appRoleAssignmentRequired,accountEnabled";

/// `$select` of the application read (§7: secrets and certificates).
const APPLICATION_SELECT: &str = "id,appId,displayName,passwordCredentials,keyCredentials";

/// `$select` of the user sample.
const USER_SELECT: &str = "id,displayName,userPrincipalName,assignedPlans";

/// `$select` of a single user's name.
const USER_NAME_SELECT: &str = "id,displayName";

/// Pages of `subscribedSkus` read at most: a tenant has a handful of SKUs, never pages of them.
const MAX_SKU_PAGES: usize = 5;

/// Largest user sample a caller may ask for: one page of `$top` is all we read.
pub const MAX_USER_SAMPLE: usize = 100;

/// Characters escaped inside an OData key literal in a URL path: the query and fragment
/// delimiters, `%` itself and anything that is not plain printable ASCII.
const KEY_LITERAL: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `appId='…'` with the OData string-literal quote doubled and the URL-significant characters
/// escaped, so whatever the configuration holds stays one key.
fn app_id_key(app_id: &str) -> String {
    let literal = app_id.replace('\'', "''");
    format!("appId='{}'", utf8_percent_encode(&literal, KEY_LITERAL))
}

/// `GET /servicePrincipals(appId='…')`: the enterprise application of `app_id`. A service
/// principal may read its own object without any role (§7).
pub async fn service_principal(
    client: &GraphClient,
    app_id: &str,
) -> Result<ServicePrincipal, RequestError> {
    let path = format!(
        "/servicePrincipals({})?$select={SERVICE_PRINCIPAL_SELECT}",
        app_id_key(app_id)
    );
    Ok(client.get(&path).await?.body)
}

/// `GET /applications(appId='…')`: the app registration of `app_id`, with its secrets' hints and
/// expiry dates (never their values).
pub async fn application(client: &GraphClient, app_id: &str) -> Result<Application, RequestError> {
    let path = format!(
        "/applications({})?$select={APPLICATION_SELECT}",
        app_id_key(app_id)
    );
    Ok(client.get(&path).await?.body)
}

/// `GET /subscribedSkus`: the tenant's licences and the provisioning status of their plans.
pub async fn subscribed_skus(client: &GraphClient) -> Result<Vec<SubscribedSku>, RequestError> {
    Ok(client
        .get_all::<SubscribedSku>("/subscribedSkus", MAX_SKU_PAGES)
        .await?
        .items)
}

/// `GET /users?$select=…,assignedPlans&$top=N`: the first `sample` users (capped at
/// [`MAX_USER_SAMPLE`]) with the plans assigned to them.
pub async fn sample_users(client: &GraphClient, sample: usize) -> Result<Vec<User>, RequestError> {
    let top = sample.clamp(1, MAX_USER_SAMPLE);
    let path = format!("/users?$select={USER_SELECT}&$top={top}");
    let mut users = client.get_all::<User>(&path, 1).await?.items;
    users.truncate(top);
    Ok(users)
}

/// `GET /users/{id}?$select=id,displayName`: one user's display name (`User.Read.All` or
/// `Directory.Read.All`, §7). `id` is percent-encoded as one path segment, so no id can reach
/// another path.
pub async fn user_name(client: &GraphClient, id: &str) -> Result<User, RequestError> {
    let path = format!(
        "/users/{}?$select={USER_NAME_SELECT}",
        utf8_percent_encode(id, KEY_LITERAL)
    );
    Ok(client.get(&path).await?.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_app_id_is_used_verbatim() {
        assert_eq!(
            app_id_key("11111111-2222-4333-8444-555555555555"),
            "appId='11111111-2222-4333-8444-555555555555'"
        );
    }

    #[test]
    fn a_hostile_app_id_stays_one_key_literal() {
        let key = app_id_key("x') or true?$select=id#/../");
        assert_eq!(key, "appId='x'')%20or%20true%3F$select=id%23%2F..%2F'");
        assert!(!key.contains('?'));
        assert!(!key.contains('#'));
    }
}
