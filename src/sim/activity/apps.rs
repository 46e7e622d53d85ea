//! The Copilot experiences the synthetic tenant uses, with how often each is used and the
//! values an interaction of each carries (`appClass`, `conversationType`, the bot's name).
//!
//! Depends on `graph::model::well_known` only.

use rand::Rng;

use crate::graph::model::well_known::APP_CLASSES;

/// One Copilot experience (graph-facts §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppKind {
    /// Microsoft 365 Copilot Chat (Business Chat).
    BizChat,
    /// Copilot in Teams, meetings included.
    Teams,
    /// Copilot in Word.
    Word,
    /// Copilot in Excel.
    Excel,
    /// Copilot in Loop.
    Loop,
    /// Web-grounded Copilot Chat.
    WebChat,
}

impl AppKind {
    /// Every experience, in the order of [`APP_CLASSES`].
    pub const ALL: [AppKind; 6] = [
        Self::BizChat,
        Self::Teams,
        Self::Word,
        Self::Excel,
        Self::Loop,
        Self::WebChat,
    ];

    /// Relative usage: Business Chat and Teams dominate real tenants' Copilot traffic.
    fn weight(self) -> u32 {
        match self {
            Self::BizChat => 38,
            Self::Teams => 30,
            Self::Word => 11,
            Self::Excel => 9,
            Self::Loop => 4,
            Self::WebChat => 8,
        }
    }

    /// A weighted random experience.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let total: u32 = Self::ALL.iter().map(|kind| kind.weight()).sum();
        let mut pick = rng.random_range(0..total);
        for kind in Self::ALL {
            if pick < kind.weight() {
                return kind;
            }
            pick -= kind.weight();
        }
        Self::BizChat
    }

    /// The documented `appClass` value.
    pub fn app_class(self) -> &'static str {
        let index = Self::ALL.iter().position(|kind| *kind == self).unwrap_or(0);
        APP_CLASSES.get(index).copied().unwrap_or(APP_CLASSES[0])
    }

    /// The experience whose `appClass` is `value` (any case).
    pub fn from_app_class(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.app_class().eq_ignore_ascii_case(value))
    }

    /// `conversationType`: `bizchat` and `appchat` are documented (graph-facts §1.4) for
    /// Business Chat and Teams. UNVERIFIED: the in-app experiences are given `appchat` too and
    /// web-grounded chat `webchat`; the property is a free string, so clients must not rely
    /// on its values.
    pub fn conversation_type(self) -> &'static str {
        match self {
            Self::BizChat => "bizchat",
            Self::WebChat => "webchat",
            Self::Teams | Self::Word | Self::Excel | Self::Loop => "appchat",
        }
    }

    /// `from.application.displayName` on responses (both names are seen in Microsoft's
    /// examples: "Copilot in Teams" for Teams, "Microsoft 365 Chat" otherwise).
    pub fn bot_name(self) -> &'static str {
        match self {
            Self::Teams => "Copilot in Teams",
            _ => "Microsoft 365 Chat",
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn every_kind_maps_to_its_documented_class_and_back() {
        for kind in AppKind::ALL {
            assert_eq!(AppKind::from_app_class(kind.app_class()), Some(kind));
            assert!(kind.app_class().ends_with(&format!("{kind:?}")));
        }
        assert_eq!(
            AppKind::from_app_class("ipm.skypeteams.message.copilot.word"),
            Some(AppKind::Word)
        );
        assert_eq!(AppKind::from_app_class("IPM.Note"), None);
    }

    #[test]
    fn business_chat_and_teams_are_the_most_common() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..10_000 {
            *counts.entry(AppKind::random(&mut rng)).or_insert(0) += 1;
        }
        let count = |kind| counts.get(&kind).copied().unwrap_or(0);
        assert!(count(AppKind::BizChat) > count(AppKind::Word));
        assert!(count(AppKind::Teams) > count(AppKind::Excel));
        assert!(AppKind::ALL.iter().all(|kind| count(*kind) > 0));
    }
}
