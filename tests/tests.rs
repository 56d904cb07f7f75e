//! kam's end-to-end tests across crates — the same rule as native code, Rhai script and
//! WASM plugin, and hostile plugins — as one test binary with a module per area: one link
//! step instead of one per file (ripgrep's `tests/tests.rs`). The pure domain's tests
//! live beside it, in `crates/core/tests`.

mod support;

mod plugin;
mod plugin_hostile;
mod rules_three_ways;
