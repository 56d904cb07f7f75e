//! kam's end-to-end tests across crates, as one test binary with a module per area:
//! one link step instead of one per file (ripgrep's `tests/tests.rs`), which keeps a
//! clean CI build smaller and faster.

mod support;

mod metrics;
mod negotiation;
mod plan;
mod plugin;
mod plugin_hostile;
mod pricing;
mod rules_three_ways;
mod scorecard;
mod stakeholders;
