//! The README's "With axum" and "With hyper" servers are
//! `examples/readme_axum.rs` and `examples/readme_hyper.rs`, which the
//! build compiles (and clippy lints); this checks that the README shows
//! exactly those files, and that each stays within 20 lines.

const README: &str = include_str!("../README.md");

fn shown(section: &str, example: &str, source: &str) {
    let start = README
        .find(&format!("\n## {section}\n"))
        .unwrap_or_else(|| panic!("no section {section:?} in README.md"));
    let body = &README[start + 1..];
    let end = body[3..].find("\n## ").map_or(body.len(), |i| i + 3);
    let block = format!("```rust\n{source}```");
    assert!(
        body[..end].contains(&block),
        "README.md's {section:?} does not show {example} as it is"
    );
    let lines = source.lines().count();
    assert!(lines <= 20, "{example} has {lines} lines");
}

#[test]
fn with_axum() {
    shown(
        "With axum",
        "examples/readme_axum.rs",
        include_str!("../examples/readme_axum.rs"),
    );
}

#[test]
fn with_hyper() {
    shown(
        "With hyper",
        "examples/readme_hyper.rs",
        include_str!("../examples/readme_hyper.rs"),
    );
}
