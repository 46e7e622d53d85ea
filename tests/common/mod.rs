//! Shared test harness: a simulator on 127.0.0.1:0 and ways to call it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod collected;
pub mod receiver;
pub mod records;
pub mod workspace;

use chrono::Duration;
use pilotwatch::graph::model::AccessTokenClaims;
use pilotwatch::graph::model::well_known::GRAPH_AUDIENCE;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::sim::{self, RunningSim, SimOptions};

/// A running simulator plus a plain HTTP client.
pub struct TestSim {
    pub sim: RunningSim,
    /// `http://127.0.0.1:port`.
    pub base: String,
    pub http: reqwest::Client,
}

impl TestSim {
    /// Starts the named built-in scenario with default options (speed 1, seed 1, HTTP only).
    pub async fn start(scenario: &str) -> Self {
        Self::start_with(SimOptions::loopback(Scenario::load(scenario).unwrap())).await
    }

    /// Starts with explicit options.
    pub async fn start_with(options: SimOptions) -> Self {
        let sim = sim::start(options).await.unwrap();
        let base = sim.base_url();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Self { sim, base, http }
    }

    /// `{base}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An access token for the registered app carrying exactly `roles`, signed by the
    /// simulator's current key (bypasses the token endpoint; use it to test Graph routes).
    pub fn token_with_roles(&self, roles: &[&str]) -> String {
        self.token_for(roles, Duration::minutes(60))
    }

    /// A healthy-roles token valid for a week of simulated time: for tests at high `--speed`,
    /// where an hour-long token lapses in milliseconds of real time.
    pub fn long_lived_token(&self) -> String {
        self.token_for(
            &[
                "AiEnterpriseInteraction.Read.All",
                "User.Read.All",
                "Application.Read.All",
                "Organization.Read.All",
            ],
            Duration::days(7),
        )
    }

    fn token_for(&self, roles: &[&str], lifetime: Duration) -> String {
        let state = &self.sim.state;
        let now = state.now();
        let claims = AccessTokenClaims {
            aud: GRAPH_AUDIENCE.to_owned(),
            iss: format!("https://sts.windows.net/{}/", state.tenant.id),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + lifetime).timestamp(),
            appid: Some(state.tenant.app.client_id.clone()),
            azp: None,
            appidacr: Some("1".to_owned()),
            idtyp: Some("app".to_owned()),
            oid: Some(state.tenant.app.service_principal_id.clone()),
            roles: if roles.is_empty() {
                None
            } else {
                Some(roles.iter().map(|r| (*r).to_owned()).collect())
            },
            scp: None,
            tid: state.tenant.id.clone(),
            ver: "1.0".to_owned(),
            uti: None,
        };
        state.keys.sign(&claims, now).unwrap()
    }

    /// A token with the scenario's default (healthy) roles.
    pub fn token(&self) -> String {
        self.token_with_roles(&[
            "AiEnterpriseInteraction.Read.All",
            "User.Read.All",
            "Application.Read.All",
            "Organization.Read.All",
        ])
    }

    /// Stops the simulator.
    pub async fn stop(self) {
        self.sim.stop().await;
    }
}
