//! `pilotwatch creds add | list | rm` run in-process against the simulator: command lines are
//! parsed by the real clap definitions, the configuration and data directories live in a
//! temporary directory, and what the operator would see is captured. Covers validation before
//! saving (and refusing with exit code 2, changing nothing), `--force`, `--replace`, bad input,
//! hint-only listing, removal of pilotwatch's own secret file only, and that the secret never
//! leaks into any other file or any output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use clap::Parser as _;
use common::TestSim;
use common::workspace::{Held, Workspace, add, assert_nothing_written, held, mode};
use pilotwatch::cli::{Cli, Command, CredsCommand};
use pilotwatch::commands::creds::ScriptedInput;
use pilotwatch::secret::SecretSource;
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use secrecy::{ExposeSecret, SecretString};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_add_saves_the_profile_and_a_0600_secret_file_and_names_the_roles() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    let outcome = add(&ws, &held, "sim", &["--secret-expires", "2027-03-31"]).await;
    let stdout = outcome.ok();
    assert!(
        stdout.starts_with("saved profile sim: token OK, roles: "),
        "{stdout}"
    );
    for role in [
        "AiEnterpriseInteraction.Read.All",
        "User.Read.All",
        "Application.Read.All",
        "Organization.Read.All",
    ] {
        assert!(stdout.contains(role), "{role} missing from {stdout}");
    }
    assert!(stdout.contains("pilotwatch creds test sim"), "{stdout}");

    let secret_file = ws.own_secret_file("sim");
    assert_eq!(mode(&secret_file), 0o600);
    assert_eq!(
        std::fs::read_to_string(&secret_file).unwrap(),
        held.secret.expose_secret()
    );
    let config = ws.config();
    let profile = config.profile("sim").unwrap();
    assert_eq!(profile.tenant, held.tenant);
    assert_eq!(profile.client_id, held.client_id);
    assert_eq!(profile.secret, SecretSource::File { path: secret_file });
    assert_eq!(
        profile.cloud.authority().as_str(),
        format!("{}/", held.base)
    );
    assert_eq!(profile.secret_expires.unwrap().to_string(), "2027-03-31");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_secret_id_is_refused_named_and_nothing_is_written() {
    let sim = TestSim::start("secret-id-pasted").await;
    let held = held(&sim);
    let ws = Workspace::new();
    let (message, code) = add(&ws, &held, "sim", &[]).await.err();
    assert_eq!(code, 2);
    assert!(message.contains("AADSTS7000215"), "{message}");
    assert!(message.contains("Secret ID"), "{message}");
    assert!(message.contains("Value"), "{message}");
    assert!(message.contains("--force"), "{message}");
    assert_nothing_written(&ws);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_client_id_is_refused_and_nothing_is_written() {
    let sim = TestSim::start("invalid-client-id").await;
    let held = held(&sim);
    let ws = Workspace::new();
    let (message, code) = add(&ws, &held, "sim", &[]).await.err();
    assert_eq!(code, 2);
    assert!(message.contains("AADSTS700016"), "{message}");
    assert!(!message.contains("Secret ID"), "{message}");
    assert_nothing_written(&ws);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tenant_is_refused_and_nothing_is_written() {
    let sim = TestSim::start("healthy").await;
    let mut held = held(&sim);
    held.tenant = "0f8fad5b-d9cb-469f-a165-70867728950e".to_owned();
    let ws = Workspace::new();
    let (message, code) = add(&ws, &held, "sim", &[]).await.err();
    assert_eq!(code, 2);
    assert!(message.contains("AADSTS90002"), "{message}");
    assert_nothing_written(&ws);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_saves_refused_credentials_and_says_they_are_unvalidated() {
    let sim = TestSim::start("secret-id-pasted").await;
    let held = held(&sim);
    let ws = Workspace::new();
    let stdout = add(&ws, &held, "pasted", &["--force"])
        .await
        .ok()
        .to_owned();
    assert!(stdout.contains("UNVALIDATED"), "{stdout}");
    assert!(stdout.contains("Secret ID"), "{stdout}");
    assert!(ws.config().profile("pasted").is_ok());
    assert_eq!(
        std::fs::read_to_string(ws.own_secret_file("pasted")).unwrap(),
        held.secret.expose_secret()
    );

    let mut unknown_tenant = held;
    unknown_tenant.tenant = "0f8fad5b-d9cb-469f-a165-70867728950e".to_owned();
    let stdout = add(&ws, &unknown_tenant, "elsewhere", &["--force"])
        .await
        .ok()
        .to_owned();
    assert!(
        stdout.contains("UNVALIDATED") && stdout.contains("AADSTS90002"),
        "{stdout}"
    );
    assert_eq!(ws.config().profiles.len(), 2);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_name_needs_replace_which_keeps_settings_add_cannot_set() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    add(&ws, &held, "sim", &[]).await.ok();
    // An operator's hand edit that `creds add` has no flag for.
    let mut config = ws.config();
    config.profiles[0].store_bodies = true;
    config.save(ws.config_file()).unwrap();
    let before = std::fs::read(ws.config_file()).unwrap();

    let (message, code) = add(&ws, &held, "sim", &[]).await.err();
    assert_eq!(code, 1);
    assert_eq!(message, "profile sim exists; add --replace to overwrite it");
    assert_eq!(std::fs::read(ws.config_file()).unwrap(), before);

    // Replacing with a secret the profile reads from a command: pilotwatch's own file goes.
    let secret_elsewhere = ws.root.join("operator.secret");
    std::fs::write(&secret_elsewhere, held.secret.expose_secret()).unwrap();
    std::fs::set_permissions(&secret_elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
    let path = secret_elsewhere.to_str().unwrap();
    let args = [
        "add",
        "sim",
        "--tenant",
        &held.tenant,
        "--client-id",
        &held.client_id,
        "--authority",
        &held.base,
        "--graph-url",
        &held.base,
        "--replace",
        "--secret-command",
        "cat",
        path,
    ];
    let stdout = ws
        .run(&args, &mut ScriptedInput::non_interactive())
        .await
        .ok()
        .to_owned();
    assert!(stdout.contains("token OK"), "{stdout}");
    assert!(
        stdout.contains("deleted the previous secret file"),
        "{stdout}"
    );
    assert!(!ws.own_secret_file("sim").exists());
    let config = ws.config();
    let profile = config.profile("sim").unwrap();
    assert_eq!(
        profile.secret,
        SecretSource::Command {
            argv: vec!["cat".to_owned(), path.to_owned()]
        }
    );
    assert!(profile.store_bodies, "a hand-set option was dropped");
    assert_eq!(config.profiles.len(), 1);

    // A foreign secret file is never deleted by a later replace.
    add(&ws, &held, "sim", &["--replace"]).await.ok();
    assert!(secret_elsewhere.exists());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_anything_is_read_or_written() {
    let ws = Workspace::new();
    // No simulator: none of these may reach the network, and there is nothing to reach.
    let held = Held {
        tenant: "contoso.onmicrosoft.com".to_owned(),
        client_id: "11111111-2222-4333-8444-555555555555".to_owned(),
        secret: SecretString::from("Abc8Q~not-a-real-secret-value"),
        base: "http://127.0.0.1:9".to_owned(),
    };

    let (message, code) = add(&ws, &held, "../escape", &[]).await.err();
    assert_eq!(code, 1);
    assert!(message.contains("profile name"), "{message}");

    let mut bad_tenant = Held {
        tenant: "not a tenant".to_owned(),
        ..held
    };
    let (message, _) = add(&ws, &bad_tenant, "ok", &[]).await.err();
    assert!(message.contains("`tenant`"), "{message}");
    bad_tenant.tenant = "contoso.onmicrosoft.com".to_owned();

    let remote_http = Held {
        base: "http://graph.example.com".to_owned(),
        ..bad_tenant
    };
    let (message, _) = add(&ws, &remote_http, "ok", &[]).await.err();
    assert!(message.contains("must use https"), "{message}");

    let versioned = Held {
        base: "https://graph.example.com/v1.0".to_owned(),
        ..remote_http
    };
    let (message, _) = add(&ws, &versioned, "ok", &[]).await.err();
    assert!(message.contains("cloud.graph"), "{message}");

    // Missing values with no terminal: every missing flag is named at once.
    let outcome = ws
        .run(
            &["add", "--tenant", "contoso.onmicrosoft.com"],
            &mut ScriptedInput::non_interactive(),
        )
        .await;
    let (message, _) = outcome.err();
    assert!(message.contains("NAME, --client-id"), "{message}");

    // No secret source and no terminal to type it at.
    let outcome = ws
        .run(
            &[
                "add",
                "ok",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--client-id",
                "11111111-2222-4333-8444-555555555555",
            ],
            &mut ScriptedInput::non_interactive(),
        )
        .await;
    let (message, _) = outcome.err();
    assert!(message.contains("--secret-stdin"), "{message}");

    // An empty line on standard input is not a secret.
    let outcome = ws
        .run(
            &[
                "add",
                "ok",
                "--tenant",
                "contoso.onmicrosoft.com",
                "--client-id",
                "11111111-2222-4333-8444-555555555555",
                "--secret-stdin",
                "--force",
            ],
            &mut ScriptedInput::non_interactive().with_stdin("\n"),
        )
        .await;
    let (message, code) = outcome.err();
    assert_eq!(code, 1);
    assert!(message.contains("empty"), "{message}");

    assert_nothing_written(&ws);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_is_asked_for_what_is_missing_and_the_secret_without_echo() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    let mut input =
        ScriptedInput::interactive(["typed", held.tenant.as_str(), held.client_id.as_str()])
            .with_hidden(held.secret.clone());
    let args = ["add", "--authority", &held.base, "--graph-url", &held.base];
    let stdout = ws.run(&args, &mut input).await.ok().to_owned();
    assert!(stdout.contains("saved profile typed: token OK"), "{stdout}");
    assert_eq!(input.prompts().len(), 4, "{:?}", input.prompts());
    assert!(
        input.prompts()[3].contains("hidden"),
        "{:?}",
        input.prompts()
    );
    assert_eq!(
        std::fs::read_to_string(ws.own_secret_file("typed")).unwrap(),
        held.secret.expose_secret()
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_stdin_on_a_terminal_reads_without_echo() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    // A person at a terminal typing after --secret-stdin: the hidden prompt, never a cooked line.
    let mut input =
        ScriptedInput::interactive(Vec::<String>::new()).with_hidden(held.secret.clone());
    let args = [
        "add",
        "typed",
        "--tenant",
        &held.tenant,
        "--client-id",
        &held.client_id,
        "--authority",
        &held.base,
        "--graph-url",
        &held.base,
        "--secret-stdin",
    ];
    let stdout = ws.run(&args, &mut input).await.ok().to_owned();
    assert!(stdout.contains("token OK"), "{stdout}");
    assert_eq!(input.prompts().len(), 1, "{:?}", input.prompts());
    assert!(
        input.prompts()[0].contains("hidden"),
        "{:?}",
        input.prompts()
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_a_secret_needs_only_the_name_and_keeps_every_other_setting() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    let ca = ws.root.join("ca.pem");
    std::fs::write(&ca, &sim.sim.ca_pem).unwrap();
    let ca = ca.to_str().unwrap().to_owned();
    let extra = [
        "--ca-file",
        ca.as_str(),
        "--notification-url",
        "http://127.0.0.1:7781/notify",
        "--receiver-bind",
        "127.0.0.1:7781",
        "--secret-expires",
        "2027-03-31",
    ];
    add(&ws, &held, "prod", &extra).await.ok();
    let before = ws.config().profile("prod").unwrap().clone();

    // What the report's fix says to run: `creds add NAME --replace`, the new secret piped in.
    let outcome = ws
        .run(
            &["add", "prod", "--replace", "--secret-stdin"],
            &mut common::workspace::stdin_with(&held.secret),
        )
        .await;
    let stdout = outcome.ok().to_owned();
    assert!(stdout.contains("token OK"), "{stdout}");
    assert!(
        stdout.contains("secret_expires (2027-03-31) was dropped"),
        "{stdout}"
    );
    let after = ws.config().profile("prod").unwrap().clone();
    assert_eq!(after.tenant, before.tenant);
    assert_eq!(after.client_id, before.client_id);
    assert_eq!(after.cloud, before.cloud);
    assert_eq!(after.ca_file, before.ca_file);
    assert_eq!(after.notification_url, before.notification_url);
    assert_eq!(after.receiver_bind, before.receiver_bind);
    assert_eq!(after.secret_expires, None);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unset_secret_variable_is_refused_and_forced_profiles_keep_the_source() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    let var = "PILOTWATCH_TEST_SURELY_UNSET_7c1e";
    let args = |force: bool| {
        let mut args = vec![
            "add",
            "env",
            "--tenant",
            &held.tenant,
            "--client-id",
            &held.client_id,
            "--authority",
            &held.base,
            "--graph-url",
            &held.base,
            "--secret-env",
            var,
        ];
        if force {
            args.push("--force");
        }
        args
    };
    let (message, code) = ws
        .run(&args(false), &mut ScriptedInput::non_interactive())
        .await
        .err();
    assert_eq!(code, 2);
    assert!(message.contains(var), "{message}");
    assert_nothing_written(&ws);

    let stdout = ws
        .run(&args(true), &mut ScriptedInput::non_interactive())
        .await
        .ok()
        .to_owned();
    assert!(stdout.contains("UNVALIDATED"), "{stdout}");
    assert_eq!(
        ws.config().profile("env").unwrap().secret,
        SecretSource::Env {
            var: var.to_owned()
        }
    );
    assert_eq!(
        ws.files(),
        vec![ws.config_file().to_path_buf()],
        "no secret file for env"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_needs_the_ca_file_and_works_with_it() {
    let options = SimOptions {
        https_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..SimOptions::loopback(Scenario::load("healthy").unwrap())
    };
    let sim = TestSim::start_with(options).await;
    let mut held = held(&sim);
    held.base = format!("https://localhost:{}", sim.sim.https_addr.unwrap().port());
    let ws = Workspace::new();
    let (message, code) = add(&ws, &held, "tls", &[]).await.err();
    assert_eq!(code, 2);
    assert!(message.contains("--ca-file"), "{message}");
    assert_nothing_written(&ws);

    let ca = ws.root.join("sim-ca.pem");
    std::fs::write(&ca, &sim.sim.ca_pem).unwrap();
    let stdout = add(&ws, &held, "tls", &["--ca-file", ca.to_str().unwrap()])
        .await
        .ok()
        .to_owned();
    assert!(stdout.contains("token OK"), "{stdout}");
    assert_eq!(
        ws.config().profile("tls").unwrap().ca_file.as_deref(),
        Some(ca.as_path())
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_shows_hints_never_secrets_and_says_why_one_is_unreadable() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    let empty = ws
        .run(&["list"], &mut ScriptedInput::non_interactive())
        .await;
    assert_eq!(
        empty.ok(),
        "no profiles; add one with `pilotwatch creds add`\n"
    );
    let empty_json = ws
        .run(&["list", "--json"], &mut ScriptedInput::non_interactive())
        .await;
    assert_eq!(empty_json.ok().trim(), "[]");

    add(&ws, &held, "good", &[]).await.ok();
    add(&ws, &held, "gone", &[]).await.ok();
    std::fs::remove_file(ws.own_secret_file("gone")).unwrap();

    let table = ws
        .run(&["list"], &mut ScriptedInput::non_interactive())
        .await;
    let table = table.ok();
    let hint: String = held.secret.expose_secret().chars().take(3).collect();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("CLOUD/ENDPOINTS"),
        "{table}"
    );
    let good = lines.iter().find(|l| l.starts_with("good")).unwrap();
    assert!(good.contains(&format!("{hint}…")), "{table}");
    assert!(
        good.contains(&held.client_id) && good.contains(&held.tenant),
        "{table}"
    );
    let gone = lines.iter().find(|l| l.starts_with("gone")).unwrap();
    assert!(gone.contains("unreadable: secret file"), "{table}");
    assert!(!table.contains(held.secret.expose_secret()), "{table}");

    let json = ws
        .run(&["list", "--json"], &mut ScriptedInput::non_interactive())
        .await;
    let rows: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(rows[0]["name"], "good");
    assert_eq!(rows[0]["secret"]["hint"], hint.as_str());
    assert_eq!(rows[0]["source"]["kind"], "file");
    assert!(
        rows[1]["secret"]["unreadable"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    assert!(!json.stdout.contains(held.secret.expose_secret()));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_deletes_the_profile_and_only_its_own_secret_file() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    add(&ws, &held, "mine", &[]).await.ok();
    add(&ws, &held, "theirs", &[]).await.ok();
    // Point `theirs` at a file the operator manages.
    let foreign = ws.root.join("managed-by-operator.secret");
    std::fs::write(&foreign, held.secret.expose_secret()).unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut config = ws.config();
    std::fs::remove_file(ws.own_secret_file("theirs")).unwrap();
    config.profiles[1].secret = SecretSource::File {
        path: foreign.clone(),
    };
    config.save(ws.config_file()).unwrap();

    let stdout = ws
        .run(&["rm", "mine"], &mut ScriptedInput::non_interactive())
        .await;
    assert!(
        stdout.ok().contains("deleted its secret file"),
        "{}",
        stdout.stdout
    );
    assert!(!ws.own_secret_file("mine").exists());
    assert!(ws.config().profile("mine").is_err());

    let stdout = ws
        .run(&["rm", "theirs"], &mut ScriptedInput::non_interactive())
        .await;
    assert!(
        stdout.ok().contains("did not create it"),
        "{}",
        stdout.stdout
    );
    assert!(foreign.exists(), "an operator's file was deleted");
    assert!(ws.config().profiles.is_empty());

    let (message, code) = ws
        .run(&["rm", "nobody"], &mut ScriptedInput::non_interactive())
        .await
        .err();
    assert_eq!(code, 1);
    assert!(message.contains("no profile named nobody"), "{message}");
    add(&ws, &held, "other", &[]).await.ok();
    let (message, _) = ws
        .run(&["rm", "nobody"], &mut ScriptedInput::non_interactive())
        .await
        .err();
    assert!(message.ends_with("known profiles: other"), "{message}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_appears_in_no_file_but_its_own_and_in_no_output() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let secret = held.secret.expose_secret().to_owned();
    let ws = Workspace::new();
    let mut seen = String::new();

    seen += &add(&ws, &held, "kept", &[]).await.seen();
    seen += &add(&ws, &held, "dropped", &[]).await.seen();
    seen += &add(&ws, &held, "kept", &[]).await.seen(); // exists
    seen += &add(&ws, &held, "kept", &["--replace"]).await.seen();
    let mut wrong_tenant = Held {
        tenant: "0f8fad5b-d9cb-469f-a165-70867728950e".to_owned(),
        ..held
    };
    seen += &add(&ws, &wrong_tenant, "refused", &[]).await.seen();
    seen += &add(&ws, &wrong_tenant, "forced", &["--force"]).await.seen();
    wrong_tenant.tenant = "not a tenant".to_owned();
    seen += &add(&ws, &wrong_tenant, "invalid", &[]).await.seen();
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["test"],
        &["test", "kept", "--json"],
        &["rm", "dropped"],
        &["rm", "nobody"],
    ] {
        seen += &ws
            .run(args, &mut ScriptedInput::non_interactive())
            .await
            .seen();
    }
    assert!(
        seen.contains("token OK") && seen.contains("UNVALIDATED"),
        "{seen}"
    );
    assert!(
        !seen.contains(&secret),
        "the secret leaked into the output:\n{seen}"
    );

    let own_files = [ws.own_secret_file("kept"), ws.own_secret_file("forced")];
    let files = ws.files();
    assert!(files.contains(&ws.config_file().to_path_buf()));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let holds_secret = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        if own_files.contains(file) {
            assert!(holds_secret, "{} should hold the secret", file.display());
            assert_eq!(mode(file), 0o600, "{}", file.display());
        } else {
            assert!(!holds_secret, "the secret leaked into {}", file.display());
        }
    }
    assert!(!ws.own_secret_file("dropped").exists());
    sim.stop().await;
}

#[test]
fn config_is_global_and_secret_command_takes_every_word_after_it() {
    let cli = Cli::try_parse_from([
        "pilotwatch",
        "creds",
        "add",
        "p",
        "--config",
        "/tmp/pw.toml",
        "--force",
        "--secret-command",
        "vault",
        "kv",
        "get",
        "-field=secret",
        "--",
        "x",
    ])
    .unwrap();
    assert_eq!(cli.config.as_deref(), Some(Path::new("/tmp/pw.toml")));
    let Command::Creds(creds) = cli.command else {
        panic!()
    };
    let CredsCommand::Add(add) = creds.command else {
        panic!()
    };
    assert!(add.force);
    assert_eq!(
        add.secret_command.unwrap(),
        ["vault", "kv", "get", "-field=secret", "--", "x"]
    );

    let conflicting = Cli::try_parse_from([
        "pilotwatch",
        "creds",
        "add",
        "p",
        "--secret-stdin",
        "--secret-env",
        "X",
    ]);
    assert!(conflicting.is_err());
    let half_custom = Cli::try_parse_from([
        "pilotwatch",
        "creds",
        "add",
        "p",
        "--authority",
        "http://127.0.0.1:1",
    ]);
    assert!(half_custom.is_err());
    let both = Cli::try_parse_from([
        "pilotwatch",
        "creds",
        "add",
        "p",
        "--cloud",
        "usgov-l4",
        "--authority",
        "http://127.0.0.1:1",
        "--graph-url",
        "http://127.0.0.1:1",
    ]);
    assert!(both.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_keeps_its_own_secret_file_while_another_profile_reads_it() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    add(&ws, &held, "first", &[]).await.ok();
    add(&ws, &held, "second", &[]).await.ok();
    // A hand edit: `second` now reads `first`'s file.
    let shared = ws.own_secret_file("first");
    let mut config = ws.config();
    config.profiles[1].secret = SecretSource::File {
        path: shared.clone(),
    };
    config.save(ws.config_file()).unwrap();

    let outcome = ws
        .run(&["rm", "first"], &mut ScriptedInput::non_interactive())
        .await;
    assert!(
        outcome.ok().contains("another profile still reads it"),
        "{}",
        outcome.stdout
    );
    assert!(shared.exists());
    let listed = ws
        .run(&["list"], &mut ScriptedInput::non_interactive())
        .await;
    assert!(!listed.ok().contains("unreadable"), "{}", listed.stdout);
    sim.stop().await;
}
