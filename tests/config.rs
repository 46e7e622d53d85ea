#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The configuration file: the example, validation errors, unknown keys, saving atomically with
//! private permissions, and XDG discovery.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use pilotwatch::config::{Cloud, Config, ConfigError, EXAMPLE_CONFIG, Paths, Profile};
use pilotwatch::secret::SecretSource;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("test.toml"))
}

/// A minimal valid profile followed by `extra` lines inside the same table.
fn with(extra: &str) -> String {
    format!(
        "[[profile]]\nname = \"p\"\ntenant = \"contoso.onmicrosoft.com\"\n\
         client_id = \"11111111-2222-4333-8444-555555555555\"\n\
         secret = {{ kind = \"env\", var = \"S\" }}\n{extra}\n"
    )
}

fn profile(name: &str) -> Profile {
    parse(&with("")).unwrap().profiles.remove(0).renamed(name)
}

trait Renamed {
    fn renamed(self, name: &str) -> Self;
}

impl Renamed for Profile {
    fn renamed(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }
}

#[test]
fn example_parses_validates_and_covers_every_key() {
    let config = parse(EXAMPLE_CONFIG).unwrap();
    assert_eq!(config.profiles.len(), 2);
    let sim = config.profile("sim").unwrap();
    assert_eq!(sim.cloud.authority().as_str(), "http://127.0.0.1:7780/");
    assert_eq!(sim.cloud.graph_root().as_str(), "http://127.0.0.1:7780/");
    assert!(sim.store_bodies);
    assert_eq!(
        sim.secret,
        SecretSource::Env {
            var: "PILOTWATCH_SIM_SECRET".into()
        }
    );
    let prod = config.profile("contoso-prod").unwrap();
    assert_eq!(prod.cloud, Cloud::Public);
    assert_eq!(prod.tenant, "contoso.onmicrosoft.com");
    assert_eq!(prod.secret_expires.unwrap().to_string(), "2027-03-31");
    assert_eq!(prod.receiver_bind.unwrap().port(), 8443);
    assert!(prod.ca_file.is_some() && prod.encryption_certificate.is_some());
    assert!(prod.encryption_key.is_some() && prod.lifecycle_notification_url.is_some());
    assert_eq!(prod.thresholds.secret_expiry_warning_days, [30, 14, 7, 1]);
    // Every key a profile can have appears in the example: a default-valued field serialized
    // back must name only keys the example also names.
    let saved = toml::to_string(&config).unwrap();
    for key in saved
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
    {
        assert!(
            EXAMPLE_CONFIG.contains(&format!("{key} =")),
            "example lacks `{key}`"
        );
    }
}

#[test]
fn defaults_apply_when_keys_are_absent() {
    let p = parse(&with("")).unwrap().profiles.remove(0);
    assert_eq!(p.cloud, Cloud::Public);
    assert_eq!(
        p.cloud.graph_root().as_str(),
        "https://graph.microsoft.com/"
    );
    assert!(!p.store_bodies);
    assert_eq!(p.thresholds.secret_expiry_warning_days, [30, 14, 7, 1]);
    // Diagnosis's own lines (`diagnose::thresholds`): 15 minutes of silence, 10 s of p95.
    assert_eq!(p.thresholds.notification_silence_minutes, 15);
    assert_eq!(p.thresholds.latency_p95_seconds, 10);
    let l5 = parse(&with("cloud = \"usgov-l5\""))
        .unwrap()
        .profiles
        .remove(0);
    assert_eq!(
        l5.cloud.graph_root().as_str(),
        "https://dod-graph.microsoft.us/"
    );
}

/// Each invalid value is refused with a message naming the profile and the key.
#[test]
fn every_validation_error_names_its_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("name", "", "name = \"bad name!\""),
        ("tenant", "tenant = \"common\"", ""),
        ("client_id", "client_id = \"not-a-guid\"", ""),
        (
            "cloud.authority",
            "",
            "cloud = { authority = \"http://login.example.com\", graph = \"https://g.example.com\" }",
        ),
        (
            "cloud.graph",
            "",
            "cloud = { authority = \"https://login.example.com\", graph = \"ftp://g.example.com\" }",
        ),
        (
            "cloud.graph",
            "",
            "cloud = { authority = \"http://127.0.0.1:7780\", graph = \"http://127.0.0.1:7780/v1.0\" }",
        ),
        (
            "notification_url",
            "",
            "notification_url = \"http://example.com/notify\"",
        ),
        (
            "lifecycle_notification_url",
            "",
            "lifecycle_notification_url = \"http://10.1.2.3/lc\"",
        ),
        ("encryption_key", "", "encryption_certificate = \"/c.pem\""),
        (
            "thresholds.secret_expiry_warning_days",
            "",
            "thresholds = { secret_expiry_warning_days = [1, 7] }",
        ),
        (
            "thresholds.notification_silence_minutes",
            "",
            "thresholds = { notification_silence_minutes = 0 }",
        ),
        (
            "thresholds.latency_p95_seconds",
            "",
            "thresholds = { latency_p95_seconds = 0 }",
        ),
    ];
    for (key, replace, extra) in cases {
        let mut text = with(extra);
        if !replace.is_empty() {
            let field = replace.split(" = ").next().unwrap();
            let old = text
                .lines()
                .find(|l| l.starts_with(&format!("{field} =")))
                .unwrap()
                .to_string();
            text = text.replace(&old, replace);
        }
        if extra.starts_with("name =") {
            text = text.replace("name = \"p\"\n", "");
        }
        let err = parse(&text).expect_err(key);
        let message = err.to_string();
        assert!(
            matches!(&err, ConfigError::Invalid { key: k, .. } if k == key),
            "{key}: got {message}"
        );
        assert!(message.contains(&format!("`{key}`")), "{message}");
        assert!(message.starts_with("profile `"), "{message}");
    }
}

#[test]
fn unknown_keys_are_errors_with_a_position() {
    for (typo, line) in [
        ("stor_bodies = true", 6),
        ("thresholds = { latency_p99_seconds = 3 }", 6),
        (
            "cloud = { authority = \"https://a.example\", graph = \"https://g.example\", extra = 1 }",
            6,
        ),
    ] {
        let err = parse(&with(typo)).unwrap_err();
        let ConfigError::Parse {
            line: at, message, ..
        } = &err
        else {
            panic!("expected a parse error, got {err}");
        };
        assert_eq!(*at, line, "{err}");
        assert!(message.contains("unknown"), "{message}");
        assert!(err.to_string().starts_with("test.toml:6:"), "{err}");
    }
    let err = parse("[[profle]]\nname = \"x\"\n").unwrap_err();
    assert!(err.to_string().contains("profle"), "{err}");
    let err = parse(&with("cloud = \"usgov-l6\"")).unwrap_err();
    assert!(err.to_string().contains("usgov-l6"), "{err}");
    let err = parse("[[profile]\n").unwrap_err();
    assert!(matches!(err, ConfigError::Parse { line: 1, .. }), "{err}");
}

#[test]
fn duplicate_names_are_refused_everywhere() {
    let text = format!("{}{}", with(""), with(""));
    let err = parse(&text).unwrap_err();
    assert!(
        matches!(err, ConfigError::DuplicateProfile(ref n) if n == "p"),
        "{err}"
    );

    let mut config = Config::default();
    config.add_profile(profile("a")).unwrap();
    let err = config.add_profile(profile("a")).unwrap_err();
    assert!(matches!(err, ConfigError::DuplicateProfile(_)), "{err}");
    assert_eq!(config.profiles.len(), 1);
    let err = config.add_profile(profile("no spaces")).unwrap_err();
    assert!(
        matches!(err, ConfigError::Invalid { key: "name", .. }),
        "{err}"
    );
    assert_eq!(config.profiles.len(), 1);

    assert!(matches!(
        config.remove_profile("b"),
        Err(ConfigError::NoSuchProfile(_))
    ));
    assert_eq!(config.remove_profile("a").unwrap().name, "a");
    assert!(config.profiles.is_empty());
    assert!(matches!(
        config.profile("a"),
        Err(ConfigError::NoSuchProfile(_))
    ));
}

#[test]
fn missing_file_is_empty_and_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        Config::load(&dir.path().join("absent.toml")).unwrap(),
        Config::default()
    );
    assert!(matches!(
        Config::load(dir.path()),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn save_load_round_trip_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new/sub/config.toml");
    let config = parse(EXAMPLE_CONFIG).unwrap();
    config.save(&path).unwrap();
    assert_eq!(Config::load(&path).unwrap(), config);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    // Saving again replaces the file, and leaves no temporary files behind.
    let mut smaller = config.clone();
    smaller.remove_profile("sim").unwrap();
    smaller.save(&path).unwrap();
    assert_eq!(Config::load(&path).unwrap(), smaller);
    let entries: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn failed_saves_leave_the_old_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    parse(EXAMPLE_CONFIG).unwrap().save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();

    // An invalid configuration is refused before anything is written.
    let mut bad = parse(EXAMPLE_CONFIG).unwrap();
    bad.profiles[0].client_id = "nope".into();
    assert!(matches!(bad.save(&path), Err(ConfigError::Invalid { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // A write that fails at the rename (the target is a non-empty directory) cleans up.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), b"x").unwrap();
    let err = parse(EXAMPLE_CONFIG).unwrap().save(&blocked).unwrap_err();
    assert!(matches!(err, ConfigError::Write { .. }), "{err}");
    assert!(err.to_string().contains("unchanged"), "{err}");
    assert_eq!(std::fs::read(blocked.join("keep")).unwrap(), b"x");
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["blocked", "config.toml"]);

    // A parent that is a file cannot become a directory.
    let err = Config::default()
        .save(&path.join("config.toml"))
        .unwrap_err();
    assert!(matches!(err, ConfigError::Write { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// XDG variables are process-global, so this test re-runs itself in a child process with them
/// set, rather than mutating the environment other tests share.
#[test]
fn xdg_environment_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "xdg_child",
            "--exact",
            "--ignored",
            "--quiet",
            "--test-threads=1",
        ])
        .env("XDG_CONFIG_HOME", dir.path().join("cfg"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("PILOTWATCH_TEST_XDG_ROOT", dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "child failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The child proved it ran by leaving a marker.
    assert!(dir.path().join("child-ran").exists());
}

#[test]
#[ignore = "run by xdg_environment_is_honoured with XDG variables set"]
fn xdg_child() {
    let root = std::path::PathBuf::from(std::env::var_os("PILOTWATCH_TEST_XDG_ROOT").unwrap());
    let paths = Paths::discover().unwrap();
    assert_eq!(paths.config_file, root.join("cfg/pilotwatch/config.toml"));
    assert_eq!(paths.data_dir, root.join("data/pilotwatch"));
    let overridden = Paths::with_config("/tmp/elsewhere.toml").unwrap();
    assert_eq!(overridden.config_file, Path::new("/tmp/elsewhere.toml"));
    assert_eq!(overridden.data_dir, paths.data_dir);
    std::fs::write(root.join("child-ran"), b"").unwrap();
}

#[test]
fn the_readme_shows_the_example_config_verbatim() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(pilotwatch::config::EXAMPLE_CONFIG),
        "README.md's example config drifted from src/config.example.toml"
    );
}
