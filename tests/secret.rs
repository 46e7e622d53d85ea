//! Secret sources against the real filesystem, environment and processes: permission refusal,
//! newline handling, atomic 0600 storage, command failures and timeouts, and that no error or
//! `Debug` output ever contains the secret.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::time::{Duration, Instant};

use pilotwatch::secret::{
    SecretError, SecretSource, default_secret_path, hint, looks_like_secret_id, redact,
    store_secret_file,
};
use secrecy::{ExposeSecret, SecretString};

const SECRET: &str = "Zq18Q~tOpSeCrEt-value_0123456789abcdefXYZ";

fn write_with_mode(path: &Path, contents: &[u8], mode: u32) {
    fs::write(path, contents).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn file_source(path: &Path) -> SecretSource {
    SecretSource::File {
        path: path.to_path_buf(),
    }
}

fn command(argv: &[&str]) -> SecretSource {
    SecretSource::Command {
        argv: argv.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn group_readable_file_is_refused_with_the_chmod_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prod.secret");
    write_with_mode(&path, SECRET.as_bytes(), 0o644);
    let error = file_source(&path).load().unwrap_err();
    assert!(matches!(
        error,
        SecretError::FileTooOpen { mode: 0o644, .. }
    ));
    let message = error.to_string();
    assert!(message.contains("(mode 0644)"), "{message}");
    assert!(
        message.ends_with(&format!("run: chmod 600 {}", path.display())),
        "{message}"
    );
    assert!(!message.contains(SECRET));

    for mode in [0o640, 0o604, 0o620, 0o602, 0o610] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        assert!(
            matches!(
                file_source(&path).load(),
                Err(SecretError::FileTooOpen { .. })
            ),
            "{mode:o}"
        );
    }
}

#[test]
fn owner_only_file_is_read_with_one_trailing_newline_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    for (contents, expected) in [
        (format!("{SECRET}\n"), SECRET.to_string()),
        (format!("{SECRET}\r\n"), SECRET.to_string()),
        (format!("{SECRET}\n\n"), format!("{SECRET}\n")),
        (SECRET.to_string(), SECRET.to_string()),
    ] {
        write_with_mode(&path, contents.as_bytes(), 0o600);
        let loaded = file_source(&path).load().unwrap();
        assert_eq!(loaded.expose_secret(), expected);
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    assert!(file_source(&path).load().is_ok());
}

#[test]
fn empty_missing_directory_and_symlink_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    write_with_mode(&empty, b"\n", 0o600);
    let error = file_source(&empty).load().unwrap_err();
    assert!(matches!(error, SecretError::Empty { .. }));
    assert!(error.to_string().contains("is empty"));

    let missing = dir.path().join("missing");
    let error = file_source(&missing).load().unwrap_err();
    assert!(matches!(error, SecretError::FileMissing { .. }));
    assert!(error.to_string().contains("does not exist"));

    let subdir = dir.path().join("d");
    fs::create_dir(&subdir).unwrap();
    fs::set_permissions(&subdir, fs::Permissions::from_mode(0o700)).unwrap();
    let error = file_source(&subdir).load().unwrap_err();
    assert!(matches!(error, SecretError::FileNotRegular { .. }));

    let real = dir.path().join("real");
    write_with_mode(&real, SECRET.as_bytes(), 0o600);
    let link = dir.path().join("link");
    symlink(&real, &link).unwrap();
    let error = file_source(&link).load().unwrap_err();
    assert!(matches!(error, SecretError::FileIsSymlink { .. }));
    assert!(error.to_string().contains("symbolic link"));
    assert!(error.to_string().contains(&real.display().to_string()));
}

#[test]
fn oversized_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    write_with_mode(&path, &vec![b'a'; 64 * 1024 + 1], 0o600);
    assert!(matches!(
        file_source(&path).load(),
        Err(SecretError::TooLarge { .. })
    ));
}

#[test]
fn store_writes_exact_content_with_mode_0600_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = default_secret_path(dir.path(), "prod").unwrap();
    store_secret_file(&path, &SecretString::from(SECRET)).unwrap();

    let secrets_dir = dir.path().join("secrets");
    assert_eq!(
        fs::metadata(&secrets_dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(fs::read(&path).unwrap(), SECRET.as_bytes());
    let names: Vec<_> = fs::read_dir(&secrets_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("prod.secret")]);

    // Replacing keeps 0600 even if the old file had been loosened, and round-trips via load.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    store_secret_file(&path, &SecretString::from("second-value-123")).unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        file_source(&path).load().unwrap().expose_secret(),
        "second-value-123"
    );
    assert_eq!(fs::read_dir(&secrets_dir).unwrap().count(), 1);
}

#[test]
fn failed_store_leaves_no_temporary_file() {
    // Renaming a file over a directory fails even for root, after the temporary file was
    // written: the exact path where a leftover would appear.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("taken.secret");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep"), b"x").unwrap();
    let error = store_secret_file(&target, &SecretString::from(SECRET)).unwrap_err();
    assert!(matches!(error, SecretError::Io { .. }), "{error}");
    assert!(error.to_string().contains("could not replace secret file"));
    assert!(!format!("{error} {error:?}").contains(SECRET));
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("taken.secret")]);

    // A parent that is a file cannot become a directory.
    let blocker = dir.path().join("blocker");
    fs::write(&blocker, b"").unwrap();
    let error =
        store_secret_file(&blocker.join("x.secret"), &SecretString::from(SECRET)).unwrap_err();
    assert!(
        error.to_string().contains("could not create directory"),
        "{error}"
    );
}

#[test]
fn env_source_reads_a_set_variable_and_names_an_unset_one() {
    // Edition 2024 makes `set_var` unsafe (and the crate forbids unsafe), so this uses a
    // variable every test run has, and a name nobody sets; empty and non-UTF-8 values are
    // covered by the unit tests through an injected lookup.
    let path = std::env::var("PATH").unwrap();
    let loaded = SecretSource::Env { var: "PATH".into() }.load().unwrap();
    assert_eq!(loaded.expose_secret(), path);

    let var = "PILOTWATCH_TEST_SECRET_THAT_IS_NEVER_SET_4F2A";
    let error = SecretSource::Env { var: var.into() }.load().unwrap_err();
    assert!(matches!(error, SecretError::EnvUnset { .. }));
    assert!(error.to_string().contains(var));
}

#[test]
fn command_stdout_is_the_secret() {
    let loaded = command(&["/bin/sh", "-c", &format!("printf '%s\\n' '{SECRET}'")])
        .load()
        .unwrap();
    assert_eq!(loaded.expose_secret(), SECRET);
    let loaded = command(&["/bin/sh", "-c", "printf secret"]).load().unwrap();
    assert_eq!(loaded.expose_secret(), "secret");
}

#[test]
fn arguments_are_passed_without_a_shell() {
    let loaded = command(&["/bin/echo", "$HOME; `id`"]).load().unwrap();
    assert_eq!(loaded.expose_secret(), "$HOME; `id`");
}

#[test]
fn failing_command_reports_status_and_stderr_but_never_stdout() {
    let script =
        format!("printf '{SECRET}'; echo 'vault: permission denied' >&2; echo more >&2; exit 3");
    let error = command(&["/bin/sh", "-c", &script]).load().unwrap_err();
    assert!(matches!(error, SecretError::CommandFailed { .. }));
    let message = error.to_string();
    assert!(message.contains("`/bin/sh`"), "{message}");
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(message.contains("vault: permission denied"), "{message}");
    assert!(!message.contains("more"), "{message}");
    assert!(!message.contains(SECRET), "{message}");
    assert!(!format!("{error:?}").contains(SECRET));

    // A command that echoes its output on stderr too gets it redacted.
    let script = format!("printf '{SECRET}'; echo 'bad token {SECRET}' >&2; exit 1");
    let message = command(&["/bin/sh", "-c", &script])
        .load()
        .unwrap_err()
        .to_string();
    assert!(message.contains("bad token ***"), "{message}");
    assert!(!message.contains(SECRET), "{message}");

    let long = "e".repeat(1000);
    let message = command(&["/bin/sh", "-c", &format!("echo {long} >&2; exit 1")])
        .load()
        .unwrap_err()
        .to_string();
    assert!(message.contains(&"e".repeat(200)) && !message.contains(&"e".repeat(201)));
}

#[test]
fn empty_output_missing_program_and_empty_argv_are_refused() {
    let error = command(&["/bin/sh", "-c", "echo"]).load().unwrap_err();
    assert!(matches!(error, SecretError::Empty { .. }));
    let error = command(&["/nonexistent/pilotwatch-secret-helper", "--token=abc"])
        .load()
        .unwrap_err();
    assert!(matches!(error, SecretError::CommandSpawn { .. }));
    assert!(!error.to_string().contains("--token=abc"));
    assert!(matches!(
        command(&[]).load(),
        Err(SecretError::CommandEmpty)
    ));
}

#[test]
fn slow_command_is_killed_at_the_timeout() {
    let started = Instant::now();
    let error = command(&["sleep", "30"])
        .load_with_timeout(Duration::from_millis(200))
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(error, SecretError::CommandTimeout { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("200ms"), "{error}");
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");

    // A grandchild keeping the pipe open does not hold the caller past the limit either.
    let started = Instant::now();
    let error = command(&["/bin/sh", "-c", "printf x; sleep 30 & wait"])
        .load_with_timeout(Duration::from_millis(200))
        .unwrap_err();
    assert!(
        matches!(error, SecretError::CommandTimeout { .. }),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn no_error_display_or_debug_contains_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    write_with_mode(&open, SECRET.as_bytes(), 0o644);
    let ok = dir.path().join("ok");
    write_with_mode(&ok, SECRET.as_bytes(), 0o600);
    let secret_arg = format!("--token={SECRET}");

    let errors: Vec<SecretError> = vec![
        file_source(&open).load().unwrap_err(),
        file_source(&dir.path().join("none")).load().unwrap_err(),
        command(&["/bin/sh", "-c", &format!("printf {SECRET}; exit 1")])
            .load()
            .unwrap_err(),
        command(&[
            "/bin/sh",
            "-c",
            &format!("printf {SECRET}; sleep 5"),
            &secret_arg,
        ])
        .load_with_timeout(Duration::from_millis(100))
        .unwrap_err(),
        command(&["/nonexistent/x", &secret_arg])
            .load()
            .unwrap_err(),
        default_secret_path(dir.path(), "../evil").unwrap_err(),
    ];
    for error in &errors {
        let shown = format!(
            "{error} / {error:?} / {:?}",
            std::error::Error::source(error)
        );
        assert!(!shown.contains(SECRET), "{shown}");
    }

    let loaded = file_source(&ok).load().unwrap();
    assert_eq!(loaded.expose_secret(), SECRET);
    assert!(!format!("{loaded:?}").contains(SECRET));
    let source = command(&["/bin/sh", &secret_arg]);
    assert!(!source.to_string().contains(SECRET));
    assert!(!redact(&format!("got {SECRET}!"), &loaded).contains(SECRET));
    assert_eq!(hint(&loaded), "Zq1");
    assert!(!looks_like_secret_id(&loaded));
}
