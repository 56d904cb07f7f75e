//! Shared helpers of the integration tests.
pub mod canonical;
pub mod guests;
pub mod vectors;
