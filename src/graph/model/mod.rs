//! Serde types for the identity platform and Graph payloads pilotwatch reads and writes.
//!
//! These are the wire contract (see `shared/graph-fixtures/`): field names, nesting and types
//! follow Microsoft's documentation. The simulator (`sim`) emits them and the client parses
//! them, so both sides agree with the fixtures rather than with each other. This module does no
//! I/O and depends on nothing else in the crate.

mod collection;
mod directory;
mod error;
mod identity;
mod interaction;
mod notification;
mod redacted_debug;
mod subscription;
pub mod well_known;

pub use collection::Collection;
pub use directory::{
    Application, AssignedPlan, PasswordCredential, PrepaidUnits, ServicePlanInfo, ServicePrincipal,
    SubscribedSku, User,
};
pub use error::{GraphError, GraphErrorBody, GraphInnerError};
pub use identity::{AccessTokenClaims, TokenError, TokenResponse, ValidationTokenClaims};
pub use interaction::{
    AiInteraction, AiInteractionAttachment, AiInteractionContext, AiInteractionLink,
    AiInteractionMention, IdentitySet, InteractionType, ItemBody,
};
pub use notification::{
    ChangeNotification, ChangeNotificationCollection, EncryptedContent, LifecycleEvent,
    ResourceData, ValidationTokens,
};
pub use subscription::{Subscription, SubscriptionCreate, SubscriptionPatch};
