//! The keymap's promises: every action reachable, the help complete, presses only, footers
//! that fit and keep `? help`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::footer::hint_width;
use super::*;
use Context::{Form, Global, Help, Prompt};
use KeyCode::{BackTab, Char, Enter, Esc, Tab};
use crossterm::event::KeyEventState;

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn contexts() -> Vec<Context> {
    let mut all = vec![Global, Help, Prompt, Form];
    all.extend(TabId::ALL.iter().map(|&tab| Context::Tab(tab)));
    all
}

#[test]
fn every_action_is_reachable_from_some_key() {
    for &action in Action::ALL {
        let reachable = BINDINGS.iter().any(|binding| {
            let key = KeyEvent::new(binding.key, binding.modifiers);
            action_for(key, binding.context) == Some(action) && binding.action == action
        });
        assert!(reachable, "{action:?} has no key");
    }
}

#[test]
fn help_lists_every_binding() {
    let lines = help_lines("");
    assert_eq!(lines.len(), BINDINGS.len());
    for binding in BINDINGS {
        let key = key_label(binding.key, binding.modifiers);
        assert!(
            lines
                .iter()
                .any(|line| line.key == key && line.help == binding.help),
            "{key} is missing from the help"
        );
    }
}

#[test]
fn help_filter_narrows_case_insensitively() {
    let lines = help_lines("QUIT");
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|line| line.help.contains("quit")));
    assert!(help_lines("no such words anywhere").is_empty());
}

#[test]
fn releases_and_repeats_are_ignored() {
    for kind in [KeyEventKind::Release, KeyEventKind::Repeat] {
        let key = KeyEvent::new_with_kind_and_state(
            Char('q'),
            KeyModifiers::NONE,
            kind,
            KeyEventState::NONE,
        );
        assert_eq!(action_for(key, Global), None, "{kind:?}");
    }
    assert_eq!(action_for(press(Char('q')), Global), Some(Action::Quit));
}

#[test]
fn shift_is_part_of_the_character() {
    let shifted = KeyEvent::new(Char('G'), KeyModifiers::SHIFT);
    assert_eq!(action_for(shifted, Global), Some(Action::Bottom));
    let back = KeyEvent::new(BackTab, KeyModifiers::SHIFT);
    assert_eq!(action_for(back, Global), Some(Action::PrevTab));
    let ctrl_c = KeyEvent::new(Char('c'), KeyModifiers::CONTROL);
    assert_eq!(action_for(ctrl_c, Global), Some(Action::Quit));
    assert_eq!(action_for(press(Char('c')), Global), None);
}

#[test]
fn a_tab_key_works_only_on_its_tab_and_prompts_keep_their_text() {
    let tab = Context::Tab(TabId::Credentials);
    assert_eq!(
        action_for(press(Char('t')), tab),
        Some(Action::TestCredentials)
    );
    assert_eq!(
        action_for(press(Char('t')), Context::Tab(TabId::Feed)),
        None
    );
    assert_eq!(action_for(press(Char('q')), tab), Some(Action::Quit));
    assert_eq!(action_for(press(Char('q')), Prompt), None);
    assert_eq!(action_for(press(Enter), Prompt), Some(Action::Open));
    assert_eq!(action_for(press(Esc), Prompt), Some(Action::Back));
}

#[test]
fn footer_fits_80_and_160_columns_and_keeps_help() {
    for context in contexts() {
        for width in [80, 160, 20, 5] {
            let hints = footer_hints(context, width);
            if !matches!(context, Prompt | Form) {
                assert!(hints.contains(&("?", "help")), "{context:?} at {width}");
            }
            let used: usize = hints.iter().map(|&hint| hint_width(hint)).sum::<usize>()
                + HINT_SEPARATOR.len() * hints.len().saturating_sub(1);
            if width >= 80 {
                assert!(used <= width, "{context:?}: {used} > {width}");
            }
        }
    }
}

#[test]
fn a_narrow_footer_drops_the_least_important_first() {
    let wide = footer_hints(Context::Tab(TabId::Credentials), 160);
    let narrow = footer_hints(Context::Tab(TabId::Credentials), 24);
    assert!(narrow.len() < wide.len());
    assert!(narrow.contains(&("?", "help")));
    assert!(narrow.contains(&("q", "quit")));
    assert!(!narrow.contains(&("r", "refresh")));
}

#[test]
fn the_form_keeps_its_text_and_read_only_hides_what_writes() {
    assert_eq!(action_for(press(Char('q')), Form), None);
    assert_eq!(action_for(press(Char('n')), Form), None);
    assert_eq!(action_for(press(Tab), Form), Some(Action::NextField));
    assert_eq!(
        action_for(press(BackTab), Form),
        Some(Action::PreviousField)
    );
    assert_eq!(action_for(press(Enter), Form), Some(Action::Open));
    assert_eq!(action_for(press(Esc), Form), Some(Action::Back));
    let save = KeyEvent::new(Char('s'), KeyModifiers::CONTROL);
    assert_eq!(action_for(save, Form), Some(Action::SaveAnyway));
    let credentials = Context::Tab(TabId::Credentials);
    assert_eq!(
        action_for(press(Char('n')), credentials),
        Some(Action::NewProfile)
    );
    assert_eq!(
        action_for(press(Char('n')), Context::Tab(TabId::Subscriptions)),
        Some(Action::Cancel)
    );
    let writable = footer_hints_for(credentials, 160, false);
    let readonly = footer_hints_for(credentials, 160, true);
    for hint in [("n", "new"), ("e", "edit"), ("d", "remove")] {
        assert!(writable.contains(&hint), "{hint:?}");
        assert!(!readonly.contains(&hint), "{hint:?}");
    }
    assert!(readonly.contains(&("t", "test now")));
}

#[test]
fn the_audit_trail_is_hinted_on_wide_footers_only() {
    let audit = ("A", "audit");
    for context in [
        Global,
        Context::Tab(TabId::Latency),
        Context::Tab(TabId::Feed),
    ] {
        assert!(footer_hints(context, 159).contains(&audit), "{context:?}");
        assert!(!footer_hints(context, 79).contains(&audit), "{context:?}");
    }
    // Dropped first when a wide footer is short of room.
    let narrowest_wide = footer_hints(Context::Tab(TabId::Subscriptions), WIDE_FOOTER);
    assert!(!narrowest_wide.contains(&audit));
    assert!(narrowest_wide.contains(&("/", "filter")));
}
