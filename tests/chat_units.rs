//! The chat example's unit tests (`examples/chat/*.rs`, in their
//! `#[cfg(test)]` modules). The example itself is built as a program, which
//! `tests/chat.rs` and `tests/chat_browser.rs` run; this target compiles the
//! same files once more as a library so that `cargo test` runs their tests.

// Only the tests call into the example here; `main` and what only it uses
// are not dead, just not run.
#[allow(dead_code)]
#[path = "../examples/chat/main.rs"]
mod chat;
