//! Where `cargo test` put an example's binary, for the tests that run an
//! example as a process (`tests/client_example.rs`, `tests/chat_support`).
//! They include this file with `#[path]`.

use std::path::PathBuf;

/// The binary of example `name`, built by `cargo test` beside the test's
/// own (`target/<profile>/deps/<test>-<hash>` →
/// `target/<profile>/examples/<name>`); `build` is the command that builds
/// it, for the message when it is missing.
pub fn binary(name: &str, build: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().unwrap().parent().unwrap();
    let path = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `{build}`",
        path.display()
    );
    path
}
