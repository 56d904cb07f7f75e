//! kam-account: one account directory loaded once into one typed [`Account`], and every
//! analysis kam runs on it.
//!
//! This crate is where the engines meet: it reads an account directory (or the
//! embedded sample, or files in memory) with errors at file:line:col, links its parts by
//! id (plan measures to KPI observations, growth targets to the plan), loads the
//! manifest's Rhai rules and WASM plugins behind kam-core's rule traits, and returns
//! typed views that the CLI formats, the EBR report renders and an integrator embeds —
//! the same functions for all three. [`check`] runs the checks *across* files.
//!
//! It is not a formatter (the CLI's tables are the CLI's) and not a domain engine
//! (arithmetic lives in kam-core and kam-sim).
//!
//! ```no_run
//! use kam_account::{Account, plugins::Plugins, views};
//!
//! let account = Account::open(std::path::Path::new("scenarios/sample"))?;
//! let plugins = Plugins::load(&account, &[kam_plugin::RuleKind::Pricing])?;
//! let quote = views::price(&account, None, &plugins)?;
//! println!("proposal net {}", quote.proposal_net);
//! let findings = kam_account::check::check(&account)?;
//! # Ok::<(), kam_account::AccountError>(())
//! ```

pub mod alerting;
pub mod check;
pub mod delivery;
pub mod error;
pub mod fastmap;
pub mod files;
pub mod format;
pub mod history;
pub mod import;
pub mod model;
pub mod pipeline_import;
pub mod plugins;
pub mod rules;
pub mod source;
pub mod views;
pub mod volumes;

pub use error::{AccountError, Place};
pub use model::{Account, KpiData, Manifest, read_volumes};
pub use source::Source;
