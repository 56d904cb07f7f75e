//! kam-core's integration tests: the pure domain through its public API — worked
//! examples with their sources named, and proptest properties — as one test binary with
//! a module per area.

mod metrics;
mod negotiation;
mod plan;
mod pricing;
mod scorecard;
mod stakeholders;
