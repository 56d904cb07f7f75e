//! # Negotiation analysis
//!
//! What an account team needs before and during a commercial negotiation with a global
//! customer, computed with exact decimals:
//!
//! - [`issues`] — the negotiable issues (unit price, contract term, payment days, volume
//!   commitment, gainshare split, indexation cap, service levels, custom) with continuous
//!   ranges or discrete options; each side's weights and value functions (linear with a
//!   direction, or piecewise linear); packages (one value per issue); additive
//!   multi-attribute utility in \[0, 1\].
//! - [`zone`] — reservation values, the BATNA, the zone of possible agreement (ZOPA) on a
//!   single issue, and the generalized Nash solution for linear utilities.
//! - [`frontier`] — a package grid, its exact Pareto frontier, the ZOPA in utility space,
//!   the recommended package (maximum generalized Nash product among non-dominated
//!   packages) and logrolling suggestions.
//! - [`tactics`] — time-dependent concession tactics after Faratin, Sierra & Jennings
//!   (1998), polynomial and exponential families, for either side; simulations of two
//!   tactics against each other on the price ([`tactics::simulate`]) and on whole
//!   packages ([`tactics::simulate_packages`]).
//! - [`log`] — a concession log of give/get entries that refuses any offer beyond the
//!   walk-away price or below a margin floor.
//!
//! It is **not** a negotiation agent and it does not price solutions: the cost-to-serve
//! behind a margin floor comes from the caller or from a [`crate::pricing::CostModel`]
//! ([`MarginFloor::from_cost_model`]), and
//! every result is advice for the people at the table. Everything is pure and
//! deterministic: no I/O, no clock, no randomness, no floats (fractional powers, `exp`
//! and `ln` use `rust_decimal`'s decimal maths).
//!
//! ```
//! use kam_core::negotiation::{zone, tactics};
//! use rust_decimal::Decimal;
//!
//! // Price per pick line: the 3PL walks away below 0.58, the OEM above 0.66.
//! let z = zone::zopa(Decimal::new(58, 2), Decimal::new(66, 2))?.expect("a zone");
//! assert_eq!(z.width, Decimal::new(8, 2));
//! assert_eq!(zone::nash_price(z.low, z.high, Decimal::new(6, 1))?, Decimal::new(628, 3));
//!
//! // A linear (beta = 1) seller tactic halfway to its deadline.
//! let offer = tactics::concession_offer(
//!     Decimal::new(58, 2), Decimal::new(70, 2), Decimal::from(5), Decimal::from(10),
//!     Decimal::ONE, Decimal::ZERO, tactics::TacticFamily::Polynomial, tactics::Side::Seller,
//! )?;
//! assert_eq!(offer, Decimal::new(64, 2));
//! # Ok::<(), kam_core::negotiation::NegotiationError>(())
//! ```

pub mod frontier;
pub mod issues;
pub mod log;
pub mod tactics;
pub mod zone;

mod error;

pub use error::NegotiationError;
pub use frontier::{
    FrontierPoint, LogrollSuggestion, NashRecommendation, PackageGrid, ParetoAnalysis, UtilityZopa,
};
pub use issues::{
    Criterion, Issue, IssueDomain, IssueKind, LinearIssue, NegotiationSpace, Package, Party, ValueFunction,
    ValuePoint,
};
pub use log::{ConcessionEntry, ConcessionLog, CostBasis, MarginFloor, Trade};
pub use tactics::{
    PackageOutcome, PackageSimulation, PackageTactic, Side, SimulationOutcome, Tactic, TacticFamily,
};
pub use zone::{Batna, Zopa};
