//! # kam-core — the key-account domain for contract logistics
//!
//! `kam-core` is the pure domain model under kam: exact [`money`], 3PL [`pricing`]
//! (rate cards, tiers, minimum commitments, commercial models, cost-to-serve),
//! [`negotiation`] analysis, the global account [`plan`] and its [`stakeholders`] graph
//! (ranked by [`pagerank`]), solution [`delivery`] projects (PERT/CPM),
//! key account [`metrics`], QBR/SBR/EBR [`scorecard`]s, [`growth`] pipelines, and the
//! [`rules`] boundary through which user rules (native, Rhai, WASM) plug in, with the
//! [`canonical`] decimal text that crosses boundaries without a decimal type.
//!
//! It is **not** an application: it does no file, network or clock access (time is
//! passed in as `as_of`), knows nothing of Rhai or wasmtime, and never panics on input —
//! every public entry point returns a `Result` with a typed error naming the offending
//! item. Every amount, rate, quantity and percentage is a [`rust_decimal::Decimal`].
//!
//! ```
//! use kam_core::money::{Currency, Money};
//! use rust_decimal::Decimal;
//!
//! let eur = Currency::from_code("EUR")?;
//! let a = Money::new(Decimal::new(540000, 2), eur);
//! let b = Money::new(Decimal::new(1750000, 2), eur);
//! assert_eq!(a.checked_add(&b)?.amount(), Decimal::new(2290000, 2));
//! # Ok::<(), kam_core::money::MoneyError>(())
//! ```

pub mod account;
pub mod canonical;
pub mod coaching;
pub mod delivery;
pub mod direction;
pub mod format;
pub(crate) mod fxhash;
pub mod growth;
pub mod metrics;
pub mod money;
pub mod negotiation;
pub mod num;
pub mod pagerank;
pub mod plan;
pub mod pricing;
pub mod rag;
pub mod rules;
pub mod scorecard;
pub mod stakeholders;
pub mod text;

pub use direction::Direction;
pub use rag::Rag;
pub use rust_decimal::Decimal;
