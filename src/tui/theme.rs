//! Themes: semantic style slots (ok, warning, border, selection, …) loaded from TOML, so widgets
//! ask for *what* they draw and never name a colour. The built-ins (`themes/default.toml`,
//! `light.toml`, `mono.toml`) are embedded, so the binary works from any directory; `--theme`
//! takes a built-in's name or a file's path. `NO_COLOR` forces `mono`.
//!
//! A theme file must define every slot and nothing else, with colours ratatui can parse (names,
//! `#rrggbb`, 0–255): anything else is a clear error naming the file, and no theme is half
//! applied. Depends on ratatui's style types, serde and toml only.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// Why a theme could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// Neither a built-in's name nor a path to a file.
    #[error("no theme named `{name}` (built-in themes: {}; or give a path to a .toml file)", BUILT_IN.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", "))]
    Unknown {
        /// What was asked for.
        name: String,
    },
    /// The file could not be read.
    #[error("cannot read the theme file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid theme.
    #[error("theme `{origin}` is invalid: {message}")]
    Invalid {
        /// The built-in's name or the file's path.
        origin: String,
        /// What is wrong (a missing or unknown slot, a bad colour), from the TOML parser.
        message: String,
    },
}

/// The built-in themes, by name.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// One slot as a file writes it: `{ fg = "green", bg = "#101010", modifiers = ["bold"] }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotSpec {
    #[serde(default, deserialize_with = "colour")]
    fg: Option<Color>,
    #[serde(default, deserialize_with = "colour")]
    bg: Option<Color>,
    #[serde(default)]
    modifiers: Vec<ModifierName>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ModifierName {
    Bold,
    Dim,
    Italic,
    Underlined,
    Reversed,
}

impl ModifierName {
    fn modifier(self) -> Modifier {
        match self {
            ModifierName::Bold => Modifier::BOLD,
            ModifierName::Dim => Modifier::DIM,
            ModifierName::Italic => Modifier::ITALIC,
            ModifierName::Underlined => Modifier::UNDERLINED,
            ModifierName::Reversed => Modifier::REVERSED,
        }
    }
}

impl SlotSpec {
    fn style(&self) -> Style {
        let mut style = Style::default();
        if let Some(fg) = self.fg {
            style = style.fg(fg);
        }
        if let Some(bg) = self.bg {
            style = style.bg(bg);
        }
        self.modifiers
            .iter()
            .fold(style, |style, name| style.add_modifier(name.modifier()))
    }
}

fn colour<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Color>, D::Error> {
    let text = String::deserialize(deserializer)?;
    Color::from_str(&text).map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "`{text}` is not a colour (use a name such as `green`, `#rrggbb`, or 0-255)"
        ))
    })
}

macro_rules! slots {
    ($( $(#[$doc:meta])* $slot:ident, )*) => {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ThemeFile {
            $( $slot: SlotSpec, )*
        }

        /// The styles every widget draws with, one per semantic slot.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            /// The theme's name (a built-in's, or the file's path).
            pub name: String,
            $( $(#[$doc])* pub $slot: Style, )*
        }

        impl Theme {
            /// Every slot's name, as theme files spell it.
            pub const SLOTS: &'static [&'static str] = &[ $( stringify!($slot), )* ];

            fn from_file(name: String, file: &ThemeFile) -> Self {
                Self { name, $( $slot: file.$slot.style(), )* }
            }

            /// Every slot unstyled: for laying text out without drawing it (measuring how many
            /// lines a tab has), never for the screen.
            pub fn plain() -> Self {
                Self { name: "plain".to_owned(), $( $slot: Style::default(), )* }
            }
        }
    };
}

slots! {
    /// Ordinary text.
    text,
    /// Secondary text: labels, timestamps, "not built yet".
    muted,
    /// Titles of panes and sections.
    title,
    /// The header bar.
    header,
    /// Pane borders.
    border,
    /// The border of the pane that has the keys.
    border_focused,
    /// The selected row.
    selection,
    /// The active tab's name.
    tab_active,
    /// The other tabs' names.
    tab_inactive,
    /// Keys in the footer and the help.
    key_hint,
    /// Healthy.
    ok,
    /// Worth knowing.
    info,
    /// Needs attention.
    warning,
    /// Broken.
    critical,
    /// Could not tell.
    unknown,
    /// Gauge fill.
    gauge,
    /// Latency chart: median.
    chart_p50,
    /// Latency chart: 95th percentile.
    chart_p95,
    /// Latency chart: 99th percentile.
    chart_p99,
    /// Reference lines (10 s, 60 min).
    reference_line,
    /// Notices that replace the UI or a pane (too small, collector not answering).
    notice,
}

impl Theme {
    /// A built-in theme by name.
    pub fn built_in(name: &str) -> Result<Self, ThemeError> {
        let (name, text) = BUILT_IN
            .iter()
            .find(|(candidate, _)| *candidate == name)
            .ok_or_else(|| ThemeError::Unknown {
                name: name.to_owned(),
            })?;
        Self::parse(name, text)
    }

    /// The theme `--theme` names: a built-in's name, or a path (anything with a `/` or ending
    /// in `.toml`). `no_color` (a non-empty `NO_COLOR`) forces `mono` whatever was asked.
    pub fn select(spec: Option<&str>, no_color: bool) -> Result<Self, ThemeError> {
        if no_color {
            return Self::built_in("mono");
        }
        match spec {
            None => Self::built_in("default"),
            Some(spec) if spec.contains('/') || spec.ends_with(".toml") => {
                Self::load(Path::new(spec))
            }
            Some(name) => Self::built_in(name),
        }
    }

    /// A theme file.
    pub fn load(path: &Path) -> Result<Self, ThemeError> {
        let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// A theme from its TOML text; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ThemeError> {
        let file: ThemeFile = toml::from_str(text).map_err(|error| ThemeError::Invalid {
            origin: origin.to_owned(),
            message: error.message().to_owned(),
        })?;
        Ok(Self::from_file(origin.to_owned(), &file))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn every_built_in_parses() {
        for (name, _) in BUILT_IN {
            let theme = Theme::built_in(name).unwrap();
            assert_eq!(theme.name, *name);
        }
    }

    #[test]
    fn mono_has_no_colour_and_no_color_forces_it() {
        let mono = Theme::select(Some("light"), true).unwrap();
        assert_eq!(mono.name, "mono");
        for style in [
            mono.ok,
            mono.warning,
            mono.critical,
            mono.text,
            mono.selection,
        ] {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
    }

    #[test]
    fn a_missing_slot_an_unknown_slot_or_a_bad_colour_is_a_clear_error() {
        let default = BUILT_IN[0].1;
        let missing: String = default
            .lines()
            .filter(|line| !line.starts_with("critical"))
            .collect::<Vec<_>>()
            .join("\n");
        let error = Theme::parse("t", &missing).unwrap_err().to_string();
        assert!(error.contains("critical"), "{error}");

        let unknown = format!("{default}\nsparkles = {{ fg = \"red\" }}\n");
        let error = Theme::parse("t", &unknown).unwrap_err().to_string();
        assert!(error.contains("sparkles"), "{error}");

        let bad = default.replacen("fg = \"", "fg = \"nocolour", 1);
        let error = Theme::parse("t", &bad).unwrap_err().to_string();
        assert!(error.contains("is not a colour"), "{error}");
    }

    #[test]
    fn unknown_names_and_missing_files_say_what_to_do() {
        let error = Theme::select(Some("solarized"), false)
            .unwrap_err()
            .to_string();
        assert!(error.contains("default, light, mono"), "{error}");
        let error = Theme::select(Some("/nonexistent/x.toml"), false).unwrap_err();
        assert!(matches!(error, ThemeError::Read { .. }));
    }
}
