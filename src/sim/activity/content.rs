//! What the synthetic tenant's people ask Copilot and what it answers: prompt and response
//! templates per experience, and the documents, meetings and topics they talk about.
//!
//! Placeholders in templates: `{topic}`, `{file}`, `{meeting}`, `{person}`. Texts contain no
//! characters that need HTML escaping, so responses can be assembled as HTML directly.
//!
//! Pure data plus a substitution helper; depends on nothing else in the crate.

use rand::Rng;

use super::apps::AppKind;

/// A prompt and the opening of its answer.
#[derive(Debug, Clone, Copy)]
pub struct Exchange {
    /// What the user typed.
    pub prompt: &'static str,
    /// The first paragraph of Copilot's answer.
    pub answer: &'static str,
}

const fn ex(prompt: &'static str, answer: &'static str) -> Exchange {
    Exchange { prompt, answer }
}

const BIZCHAT: &[Exchange] = &[
    ex(
        "Summarise the open incidents from this week",
        "Here are this week's open incidents, grouped by severity.",
    ),
    ex(
        "What did {person} say about {topic}?",
        "{person} raised {topic} in two places this week; here is what was said.",
    ),
    ex(
        "Draft an email to the team about {topic}",
        "Here is a draft you can adjust before sending.",
    ),
    ex(
        "What are the action items from {meeting}?",
        "These action items came out of {meeting}.",
    ),
    ex(
        "Find the latest version of {file}",
        "The most recent version of {file} was edited yesterday.",
    ),
    ex(
        "Give me a one-paragraph status of {topic} for my manager",
        "Here is a short status update on {topic}.",
    ),
    ex(
        "Which emails need a reply from me today?",
        "Six messages look like they are waiting for your answer.",
    ),
    ex(
        "Compare {file} with last quarter's numbers",
        "Compared with last quarter, three lines changed noticeably.",
    ),
    ex(
        "Prepare me for my 1:1 with {person}",
        "Here is what you and {person} have been working on recently.",
    ),
];

const TEAMS: &[Exchange] = &[
    ex(
        "Recap the meeting so far",
        "So far the discussion has covered {topic} and two open questions.",
    ),
    ex(
        "What decisions were made in {meeting}?",
        "The group agreed on three decisions in {meeting}.",
    ),
    ex(
        "List the action items and who owns them",
        "Here are the action items with their owners.",
    ),
    ex(
        "What questions are still unresolved?",
        "Two questions were raised but not answered.",
    ),
    ex(
        "Summarise what {person} said about {topic}",
        "{person} explained the current position on {topic}.",
    ),
    ex(
        "Catch me up on this chat",
        "Here is a summary of the conversation since you were last active.",
    ),
    ex(
        "Suggest follow-up questions for {topic}",
        "You could ask the group these follow-up questions.",
    ),
];

const WORD: &[Exchange] = &[
    ex(
        "Summarise this document",
        "{file} describes {topic} in four sections.",
    ),
    ex(
        "Rewrite the introduction to be more concise",
        "Here is a shorter introduction that keeps the key points.",
    ),
    ex(
        "Draft a section on risks for {topic}",
        "Here is a draft risks section you can insert.",
    ),
    ex(
        "Turn these notes into a proposal",
        "Here is a proposal structured as background, plan and costs.",
    ),
    ex(
        "What does this document say about {topic}?",
        "The document covers {topic} in the second and fourth sections.",
    ),
];

const EXCEL: &[Exchange] = &[
    ex(
        "Show totals by region",
        "Here are the totals by region from {file}.",
    ),
    ex(
        "Highlight the rows where spend exceeds budget",
        "Twelve rows exceed their budget; they are highlighted in the sheet.",
    ),
    ex(
        "Add a column that calculates the month-over-month change",
        "I added a formula column for the month-over-month change.",
    ),
    ex(
        "What are the main trends in this data?",
        "Three trends stand out in {file}.",
    ),
    ex(
        "Create a chart of the quarterly figures",
        "Here is a chart of the quarterly figures.",
    ),
];

const LOOP: &[Exchange] = &[
    ex(
        "Create a project plan for {topic}",
        "Here is a project plan with milestones for {topic}.",
    ),
    ex(
        "Summarise the changes since my last visit",
        "Since your last visit, {person} and two others edited this page.",
    ),
    ex(
        "Brainstorm ideas for {topic}",
        "Here are eight ideas to start from.",
    ),
];

const WEBCHAT: &[Exchange] = &[
    ex(
        "What are the latest guidelines on {topic}?",
        "Based on current public sources, these are the main guidelines on {topic}.",
    ),
    ex(
        "Explain the difference between OAuth client credentials and authorization code flow",
        "The client credentials flow is for apps acting as themselves; the authorization code flow acts for a signed-in user.",
    ),
    ex(
        "Find industry benchmarks for {topic}",
        "Here are published benchmarks from several sources.",
    ),
    ex(
        "What is the weather forecast for Seattle this week?",
        "Expect mild temperatures with rain on most days.",
    ),
];

/// Subjects people work on.
pub const TOPICS: &[&str] = &[
    "the Q3 budget",
    "the vendor onboarding checklist",
    "the payments outage review",
    "the platform team hiring plan",
    "the product launch timeline",
    "customer feedback from the Fabrikam pilot",
    "the security awareness training",
    "the travel policy update",
    "the data retention policy",
    "the office move",
];

/// A document: its name and where it lives on the tenant's SharePoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document {
    /// File name.
    pub name: &'static str,
    /// Site-relative folder, e.g. `sites/Finance/Shared Documents`.
    pub folder: &'static str,
    /// Which in-app experience edits it (`None`: any).
    pub kind: Option<AppKind>,
}

const fn doc(name: &'static str, folder: &'static str, kind: Option<AppKind>) -> Document {
    Document { name, folder, kind }
}

/// Documents people have open or ask about.
pub const DOCUMENTS: &[Document] = &[
    doc(
        "Q3 Budget.xlsx",
        "sites/Finance/Shared Documents",
        Some(AppKind::Excel),
    ),
    doc(
        "Regional Sales FY27.xlsx",
        "sites/Sales/Shared Documents",
        Some(AppKind::Excel),
    ),
    doc(
        "Incidents.xlsx",
        "sites/ops/Shared Documents",
        Some(AppKind::Excel),
    ),
    doc(
        "Vendor Onboarding.docx",
        "sites/Procurement/Shared Documents",
        Some(AppKind::Word),
    ),
    doc(
        "Payments Outage Review.docx",
        "sites/ops/Shared Documents",
        Some(AppKind::Word),
    ),
    doc(
        "Hiring Plan FY27.docx",
        "sites/HR/Shared Documents",
        Some(AppKind::Word),
    ),
    doc(
        "Launch Plan.loop",
        "sites/Marketing/Shared Documents",
        Some(AppKind::Loop),
    ),
    doc(
        "Team Retro Notes.loop",
        "sites/Engineering/Shared Documents",
        Some(AppKind::Loop),
    ),
    doc(
        "Fabrikam Pilot Feedback.pptx",
        "sites/Sales/Shared Documents",
        None,
    ),
    doc("Travel Policy 2027.pdf", "sites/HR/Shared Documents", None),
];

/// The document talked about when no table offers one (the tables are never empty).
pub const FALLBACK_DOCUMENT: Document = doc("Notes.docx", "sites/Shared/Shared Documents", None);

/// Recurring meetings.
pub const MEETINGS: &[&str] = &[
    "Weekly ops sync",
    "Fabrikam pilot review",
    "Sprint planning",
    "Budget review with Finance",
    "All-hands questions",
    "Payments outage post-mortem",
    "Launch go/no-go",
];

/// Closing paragraphs of answers.
pub const CLOSINGS: &[&str] = &[
    "Let me know if you want more detail on any of these.",
    "I can turn this into a table if that helps.",
    "Sources are linked below.",
    "",
    "",
];

/// The exchanges of an experience.
pub fn exchanges(kind: AppKind) -> &'static [Exchange] {
    match kind {
        AppKind::BizChat => BIZCHAT,
        AppKind::Teams => TEAMS,
        AppKind::Word => WORD,
        AppKind::Excel => EXCEL,
        AppKind::Loop => LOOP,
        AppKind::WebChat => WEBCHAT,
    }
}

/// Documents an experience works in: its own file type, or any for chat experiences.
pub fn documents_for(kind: AppKind) -> impl Iterator<Item = &'static Document> + Clone {
    let has_own = DOCUMENTS.iter().any(|d| d.kind == Some(kind));
    DOCUMENTS
        .iter()
        .filter(move |d| !has_own || d.kind == Some(kind))
}

/// A random document of those [`documents_for`] `kind` offers.
pub fn random_document<R: Rng + ?Sized>(rng: &mut R, kind: AppKind) -> Option<&'static Document> {
    let documents = documents_for(kind);
    let count = documents.clone().count();
    if count == 0 {
        return None;
    }
    documents.clone().nth(rng.random_range(0..count))
}

/// What the placeholders of a template stand for in one exchange.
#[derive(Debug, Clone, Copy)]
pub struct Fill<'a> {
    /// `{topic}`
    pub topic: &'a str,
    /// `{file}`
    pub file: &'a str,
    /// `{meeting}`
    pub meeting: &'a str,
    /// `{person}`
    pub person: &'a str,
}

impl Fill<'_> {
    /// `template` with its placeholders replaced.
    pub fn apply(&self, template: &str) -> String {
        if !template.contains('{') {
            return template.to_owned();
        }
        template
            .replace("{topic}", self.topic)
            .replace("{file}", self.file)
            .replace("{meeting}", self.meeting)
            .replace("{person}", self.person)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_experience_has_exchanges_and_documents() {
        for kind in AppKind::ALL {
            assert!(!exchanges(kind).is_empty(), "{kind:?}");
            assert!(documents_for(kind).count() > 0, "{kind:?}");
        }
        assert!(documents_for(AppKind::Excel).all(|d| d.name.ends_with(".xlsx")));
        assert_eq!(documents_for(AppKind::BizChat).count(), DOCUMENTS.len());
    }

    #[test]
    fn templates_need_no_html_escaping_and_fill_every_placeholder() {
        let fill = Fill {
            topic: "t",
            file: "f",
            meeting: "m",
            person: "p",
        };
        for kind in AppKind::ALL {
            for exchange in exchanges(kind) {
                for text in [exchange.prompt, exchange.answer] {
                    assert!(!text.contains(['<', '>', '&', '"']), "{text}");
                    assert!(!fill.apply(text).contains('{'), "{text}");
                }
            }
        }
    }
}
