//! The console's command line: a bare `pilotwatch` is the console (with its flags), `demo`
//! takes a scenario and a speed, and bad values are refused by the parser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clap::Parser as _;
use pilotwatch::cli::{Cli, Command};

#[test]
fn a_bare_pilotwatch_is_the_console() {
    let cli = Cli::try_parse_from(["pilotwatch"]).unwrap();
    let Command::Tui(args) = cli.command else {
        panic!("{:?}", cli.command)
    };
    assert_eq!(args.profile, None);
    assert!(!args.console.mouse && !args.console.readonly);

    let cli = Cli::try_parse_from([
        "pilotwatch",
        "--profile",
        "contoso",
        "--theme",
        "light",
        "--mouse",
        "--readonly",
        "--data-dir",
        "/tmp/pw",
    ])
    .unwrap();
    let Command::Tui(args) = cli.command else {
        panic!("{:?}", cli.command)
    };
    assert_eq!(args.profile.as_deref(), Some("contoso"));
    assert_eq!(args.console.theme.as_deref(), Some("light"));
    assert!(args.console.mouse && args.console.readonly);
    assert_eq!(args.data_dir.unwrap().to_str(), Some("/tmp/pw"));
}

#[test]
fn demo_takes_a_scenario_and_a_positive_speed() {
    let cli = Cli::try_parse_from(["pilotwatch", "demo"]).unwrap();
    let Command::Demo(args) = cli.command else {
        panic!("{:?}", cli.command)
    };
    assert_eq!(args.scenario, "healthy");
    assert!((args.speed - 1.0).abs() < f64::EPSILON);

    let cli = Cli::try_parse_from([
        "pilotwatch",
        "demo",
        "--scenario",
        "secret-expired",
        "--speed",
        "60",
        "--theme",
        "mono",
    ])
    .unwrap();
    let Command::Demo(args) = cli.command else {
        panic!("{:?}", cli.command)
    };
    assert_eq!(args.scenario, "secret-expired");
    assert!((args.speed - 60.0).abs() < f64::EPSILON);
    assert_eq!(args.console.theme.as_deref(), Some("mono"));

    for bad in ["0", "-2", "fast", "inf"] {
        let flag = format!("--speed={bad}");
        let error = Cli::try_parse_from(["pilotwatch", "demo", &flag]).unwrap_err();
        assert!(
            error.to_string().contains("positive number"),
            "{bad}: {error}"
        );
    }
}

#[test]
fn console_flags_do_not_mix_with_other_commands() {
    let error = Cli::try_parse_from(["pilotwatch", "--theme", "light", "check"]).unwrap_err();
    assert!(
        error.to_string().contains("belong to the console"),
        "{error}"
    );
    let cli = Cli::try_parse_from(["pilotwatch", "--config", "/etc/pw.toml", "check"]).unwrap();
    assert!(matches!(cli.command, Command::Check(_)));
    let cli = Cli::try_parse_from(["pilotwatch", "--log", "debug", "check"]).unwrap();
    assert!(matches!(cli.command, Command::Check(_)));
    assert_eq!(cli.log, "debug");
}

#[test]
fn one_shot_commands_log_only_warnings_unless_asked() {
    let default_log = |args: &[&str]| {
        let mut argv = vec!["pilotwatch"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap().command.default_log()
    };
    for one_shot in [
        &["status"][..],
        &["subs"],
        &["check"],
        &["unit"],
        &["creds", "list"],
    ] {
        assert_eq!(default_log(one_shot), "warn", "{one_shot:?}");
    }
    for long_running in [&[][..], &["demo"], &["serve", "--no-control"], &["sim"]] {
        assert_eq!(default_log(long_running), "info", "{long_running:?}");
    }
}
