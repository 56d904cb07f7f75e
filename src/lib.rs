//! # kam — global key account management for contract logistics
//!
//! The facade over kam's crates: depend on `kam` to get the whole toolkit under one
//! name, or on the individual crates (`kam-core` for the pure domain only).
//!
//! - [`core`] — money, pricing, negotiation, plans, stakeholders, metrics, scorecards,
//!   growth, and the rule traits.

pub use kam_core as core;
