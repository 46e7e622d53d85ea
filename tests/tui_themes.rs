//! Every file shipped in `themes/` parses as a theme (so defines every slot and nothing else,
//! with valid colours) and is one of the built-ins `--theme NAME` knows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use pilotwatch::tui::Theme;
use pilotwatch::tui::theme::BUILT_IN;

#[test]
fn every_shipped_theme_parses_defines_every_slot_and_is_built_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let theme =
            Theme::load(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let text = std::fs::read_to_string(&path).unwrap();
        for slot in Theme::SLOTS {
            assert!(
                text.lines()
                    .any(|line| line.starts_with(&format!("{slot} ="))),
                "{} lacks {slot}",
                path.display()
            );
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        assert!(
            BUILT_IN.iter().any(|(built_in, _)| *built_in == name),
            "{name} is shipped but not embedded"
        );
        assert_eq!(
            theme,
            Theme::parse(&path.display().to_string(), &text).unwrap()
        );
        seen.push(name);
    }
    seen.sort();
    assert_eq!(seen, ["default", "light", "mono"]);
}
