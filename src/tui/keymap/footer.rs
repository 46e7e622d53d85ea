//! Footer hint fitting: which of a context's hints fit in the footer's width, dropping the
//! least important first (by the table's priority) and keeping `? help` always, so an
//! 80-column terminal shows the few keys that matter and a wide one shows more (and the
//! hints kept for wide footers).
//!
//! Pure; depends on the binding table and its types only.

use super::{BINDINGS, Binding, Context};

/// The separator between footer hints.
pub const HINT_SEPARATOR: &str = "  ";

/// The narrowest footer (in columns for hints) that also offers the wide-only hints: well
/// past the 80-column terminal, whose footer is all the shown tab's keys.
pub const WIDE_FOOTER: usize = 100;

/// The width a hint takes in the footer: `key word`.
pub(super) fn hint_width((key, word): (&str, &str)) -> usize {
    key.chars().count() + 1 + word.chars().count()
}

/// The footer hints for `context` that fit in `width` columns, in table order. The least
/// important are dropped first; `? help` (priority 0) always stays, except in a prompt or a
/// form, where `?` is text and only their own keys are hinted.
pub fn footer_hints(context: Context, width: usize) -> Vec<(&'static str, &'static str)> {
    footer_hints_for(context, width, false)
}

/// [`footer_hints`] for a session that may be read-only: there, hints of actions that would
/// change something are not offered (the action is refused anyway).
pub fn footer_hints_for(
    context: Context,
    width: usize,
    readonly: bool,
) -> Vec<(&'static str, &'static str)> {
    let contexts: &[Context] = match context {
        Context::Prompt => &[Context::Prompt],
        Context::Form => &[Context::Form],
        Context::Help => &[Context::Help, Context::Global],
        Context::Tab(_) => &[context, Context::Global],
        Context::Global => &[Context::Global],
    };
    let mut candidates: Vec<(usize, &Binding)> = BINDINGS
        .iter()
        .enumerate()
        .filter(|(_, binding)| {
            binding.hint.is_some()
                && contexts.contains(&binding.context)
                && !(readonly && binding.writes)
                && (width >= WIDE_FOOTER || !binding.hint_wide_only)
        })
        .collect();
    candidates.sort_by_key(|&(index, binding)| (binding.priority, index));
    let mut chosen: Vec<(usize, (&'static str, &'static str))> = Vec::new();
    let mut used = 0;
    for (index, binding) in candidates {
        let Some(hint) = binding.hint else { continue };
        // A context's own hint shadows the global one for the same key (`/` in the help).
        if chosen.iter().any(|(_, (key, _))| *key == hint.0) {
            continue;
        }
        let separator = if chosen.is_empty() {
            0
        } else {
            HINT_SEPARATOR.len()
        };
        let extra = hint_width(hint) + separator;
        if binding.priority == 0 || used + extra <= width {
            used += extra;
            chosen.push((index, hint));
        }
    }
    chosen.sort_unstable_by_key(|&(index, _)| index);
    chosen.into_iter().map(|(_, hint)| hint).collect()
}
