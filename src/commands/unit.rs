//! `pilotwatch unit`: prints the systemd unit pilotwatch ships (`unit/pilotwatch.service`),
//! with `ExecStart` pointing at this very binary, ready for
//! `pilotwatch unit | sudo tee /etc/systemd/system/pilotwatch.service`.
//!
//! Depends on nothing else in the crate.

use std::io::Write;
use std::path::Path;

/// The unit as shipped, with `@BINARY@` where the binary's path goes.
pub const UNIT_TEMPLATE: &str = include_str!("unit/pilotwatch.service");

/// The unit with `binary` as the program `ExecStart` runs.
pub fn render(binary: &Path) -> String {
    UNIT_TEMPLATE.replace("@BINARY@", &binary.display().to_string())
}

/// Writes the unit for `binary` to `out`.
pub fn run(binary: &Path, out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(render(binary).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_runs_this_binary_as_a_hardened_notify_service() {
        let unit = render(Path::new("/usr/local/bin/pilotwatch"));
        assert!(!unit.contains("@BINARY@"));
        for line in [
            "ExecStart=/usr/local/bin/pilotwatch serve",
            "Type=notify",
            "User=pilotwatch",
            "StateDirectory=pilotwatch",
            "RuntimeDirectory=pilotwatch",
            "LoadCredential=client-secret:/etc/pilotwatch/client-secret",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "Restart=on-failure",
        ] {
            assert!(unit.lines().any(|l| l == line), "missing {line}");
        }
    }
}
