//! # kam-script — the Rhai scripting host for kam
//!
//! Analysts write what-if scenarios and their company's own rules in [Rhai](https://rhai.rs).
//! This crate is the host: a sandboxed [`ScriptHost`] (one per process, `Send + Sync`,
//! compiled scripts cached), the analyst API over `kam-core` (names fixed by
//! `docs/analyst-api.md`; `kam api` lists it), and [`rules`] — scripts that implement the
//! `kam_core::rules` traits with fixed entry points.
//!
//! Numbers in scripts are exact: Rhai is built with `decimal` + `no_float`, so `4.50` is
//! the `Decimal` 4.50 and `1200` an integer; API functions accept either wherever a
//! number is expected. Division is exact too: unlike plain Rhai, integer ÷ integer gives
//! the exact decimal (`7 / 2 == 3.5`, `3 / 4 == 0.75`), never a truncated integer; `x /= y`,
//! which Rhai would truncate on integers, is a compile error asking for `x = x / y`.
//!
//! It is **not** the domain: every computation is delegated to `kam-core` (and `kam-sim`);
//! this layer converts and validates arguments and reports errors at the script's line
//! and column. Scripts get no clock, randomness, file or network access.
//!
//! ```
//! use kam_script::ScriptHost;
//!
//! let host = ScriptHost::default();
//! let out = host.eval_source("q.rhai", r#"
//!     let m = money(4.50, "EUR") * 1200;
//!     m.amount
//! "#)?;
//! assert_eq!(out.to_string(), "5400.00");
//! # Ok::<(), kam_script::ScriptError>(())
//! ```

pub mod api;
pub mod error;
mod growth;
pub mod host;
pub mod rules;

pub use api::ApiEntry;
pub use error::{ScriptError, ScriptErrorKind};
pub use host::{CompiledScript, Limits, ScriptHost};
pub use rules::{ScriptAlertRule, ScriptGrowthRule, ScriptKpiScoringRule, ScriptPricingRule};
