//! Identifiers and names Microsoft documents for Copilot interaction export (graph-facts §1–4).

/// The Microsoft Graph Change Tracking app: `appid`/`azp` of every genuine validation token.
pub const CHANGE_TRACKING_APP_ID: &str = "0bf30f3b-4a52-48df-9a82-234910c4a086";

/// The scope a client-credentials request for Graph must ask for.
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// `aud` of app-only Graph access tokens.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";

/// The tenant-wide subscription resource for Copilot interactions.
pub const TENANT_WIDE_RESOURCE: &str = "/copilot/interactionHistory/getAllEnterpriseInteractions";

/// The only application permission the export API and the tenant-wide subscription accept.
pub const INTERACTION_EXPORT_ROLE: &str = "AiEnterpriseInteraction.Read.All";

/// Reads service principals and applications (assignment-required flag, secret expiry).
pub const APPLICATION_READ_ROLE: &str = "Application.Read.All";

/// Reads `subscribedSkus` (tenant licences).
pub const ORGANIZATION_READ_ROLE: &str = "Organization.Read.All";

/// Reads users and their `assignedPlans`.
pub const USER_READ_ROLE: &str = "User.Read.All";

/// The Copilot-connectors permissions operators often consent by mistake.
pub const CONNECTOR_ROLES: [&str; 2] = [
    "ExternalConnection.ReadWrite.All",
    "ExternalItem.ReadWrite.All",
];

/// Every application permission of the Copilot connectors (Graph connectors) family: the two
/// above and their least-privileged forms. Any of them without [`INTERACTION_EXPORT_ROLE`] is
/// the wrong set-up guide followed. The OwnedBy and Read forms are Graph permissions known from
/// the permissions reference, UNVERIFIED against graph-facts.
pub const CONNECTOR_PERMISSION_FAMILY: [&str; 5] = [
    "ExternalConnection.ReadWrite.All",
    "ExternalItem.ReadWrite.All",
    "ExternalConnection.ReadWrite.OwnedBy",
    "ExternalItem.ReadWrite.OwnedBy",
    "ExternalItem.Read.All",
];

/// "Microsoft 365 Copilot Chat" (formerly "Microsoft Copilot with Graph-grounded chat"): the
/// plan a user needs for the export API and per-user subscriptions.
pub const COPILOT_CHAT_PLAN_ID: &str = "3f30311c-6b1e-48a4-ab79-725b469da960";

/// The six Copilot service plans a tenant needs, all provisioned, for a tenant-wide
/// subscription: (plan id, display name).
pub const COPILOT_SERVICE_PLANS: [(&str, &str); 6] = [
    (
        "82d30987-df9b-4486-b146-198b21d164c7",
        "Copilot connectors in Microsoft 365 Copilot",
    ),
    ("931e4a88-a67f-48b5-814f-16a5f1e6028d", "Intelligent search"),
    (
        "b95945de-b3bd-46db-8437-f2beb6ea2347",
        "Microsoft 365 Copilot in Microsoft Teams",
    ),
    (
        "a62f8878-de10-42f3-b68f-6149a25ceb97",
        "Microsoft 365 Copilot in productivity apps",
    ),
    (COPILOT_CHAT_PLAN_ID, "Microsoft 365 Copilot Chat"),
    (
        "89f1c4c8-0878-40f7-804d-869c9128ab5d",
        "Power Platform connectors in Microsoft 365 Copilot",
    ),
];

/// `appClass` values documented for the export API (graph-facts §1.4).
pub const APP_CLASSES: [&str; 6] = [
    "IPM.SkypeTeams.Message.Copilot.BizChat",
    "IPM.SkypeTeams.Message.Copilot.Teams",
    "IPM.SkypeTeams.Message.Copilot.Word",
    "IPM.SkypeTeams.Message.Copilot.Excel",
    "IPM.SkypeTeams.Message.Copilot.Loop",
    "IPM.SkypeTeams.Message.Copilot.WebChat",
];

/// The prefix every documented Copilot `appClass` shares; the rest names the app.
pub const APP_CLASS_PREFIX: &str = "IPM.SkypeTeams.Message.Copilot.";

/// The app an `appClass` names (`IPM.SkypeTeams.Message.Copilot.Word` → `Word`); anything else
/// as it is. Operators filter and read by this name: every class contains "SkypeTeams", so
/// matching the whole class would make `teams` match Word.
pub fn app_name(app_class: &str) -> &str {
    app_class
        .strip_prefix(APP_CLASS_PREFIX)
        .filter(|rest| !rest.is_empty())
        .unwrap_or(app_class)
}

/// The Copilot bot's application identity in `from.application`.
pub const COPILOT_BOT_APP_ID: &str = "fb8d773d-7ef8-4ec0-a117-179f88add510";

/// Maximum lifetime of a Copilot interaction subscription, in minutes (3 days).
pub const MAX_SUBSCRIPTION_MINUTES: i64 = 4_320;

/// Expiry requests closer than this many minutes are raised to it.
pub const MIN_SUBSCRIPTION_MINUTES: i64 = 45;

/// Maximum `clientState` length on a subscription.
pub const MAX_CLIENT_STATE_LEN: usize = 128;
