//! # kam-plugin — WASM rule plugins under hard limits
//!
//! The host for kam's WASM plugins: components built for the `kam:rules@0.2.0` WIT
//! package (`wit/rules.wit`, one world per rule kind) run in wasmtime and implement the
//! same [`kam_core::rules`] traits as native and Rhai rules, so pricing, simulation and
//! scorecards call them without knowing they are WASM.
//!
//! What the host guarantees for every call:
//!
//! - **bounded**: fuel (deterministic), memory ([`PluginLimits::memory_bytes`], 64 MiB
//!   by default, via `StoreLimits`), native stack, and a wall-clock deadline enforced by
//!   epoch interruption from a ticker thread the host owns (stopped on drop);
//! - **no ambient authority**: a guest that imports WASI gets an empty context — no
//!   preopened directories, environment, arguments, network or stdin; a wall clock
//!   stopped at 1970-01-01, a monotonic clock stuck at 0, fixed bytes from
//!   `wasi:random`, and timers that trap — so a plugin is a pure function of its input.
//!   Its stdout and stderr are captured as log lines ([`PricingPlugin::take_log`]);
//! - **isolated**: each call instantiates the pre-linked component in a fresh store, so
//!   a call that trapped, ran out of fuel or memory leaves nothing behind;
//! - **typed failures**: every trap, limit, refusal or malformed result is a
//!   [`RuleError`](kam_core::rules::RuleError) with `host: Plugin`, the plugin's name,
//!   the rule function, and a [`RuleErrorKind`](kam_core::rules::RuleErrorKind)
//!   (`OperationLimit` for fuel, `Timeout`, `ResourceLimit` for memory and stack, `Trap`,
//!   `Failed` when the rule refused its input, `BadReturn`, `Load`).
//!
//! Loading compiles a component once per host (cached in memory by content hash and
//! engine configuration, [`CacheKey`], and with [`PluginHost::with_disk_cache`] also on
//! disk, checksummed, for the next process), checks its world and declared API version (a
//! plugin for another rule kind, another `kam:rules` version or with a missing export is
//! a `Load` error at load time), and prepares an `InstancePre`.
//!
//! It is **not** a general WASI runtime (no files, sockets, clocks) and not an async
//! host. Guests are written with the `kam-plugin-sdk` crate; examples are in the
//! repository's `plugins/`.
//!
//! ```no_run
//! use kam_core::rules::{MeasureInput, KpiScoringRule};
//! use kam_core::Direction;
//! use kam_plugin::{PluginHost, PluginLimits};
//! use rust_decimal::Decimal;
//!
//! let host = PluginHost::new(PluginLimits::default())?;
//! let wasm = std::fs::read("plugins/target/wasm32-wasip2/release/band_kpi_score.wasm")?;
//! let scoring = host.load_kpi_scoring("band-kpi-score", &wasm)?;
//! let otif = MeasureInput {
//!     name: "OTIF %".into(),
//!     actual: Decimal::new(978, 1),
//!     target: Decimal::new(985, 1),
//!     direction: Direction::HigherIsBetter,
//!     red: None,
//! };
//! let scores = scoring.score(&[otif])?;
//! assert!(scores[0] < Decimal::ONE);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Generated code: wasmtime's bindgen! emits unsafe blocks and unsafe impls.
#[allow(unsafe_code)]
mod bindings;
mod cache;
mod decimal;
mod host;
mod limits;
mod plugin;
mod sandbox;

pub use cache::{CacheKey, CacheStats};
pub use host::{API_VERSION, HostError, PluginHost, read_bounded};
pub use limits::{OutputLimits, PluginLimits};
pub use plugin::{AlertPlugin, GrowthPlugin, KpiScoringPlugin, PricingPlugin};

/// The four kinds of rule a plugin can implement, one WIT world each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// World `pricing-rule`, interface `pricing`.
    Pricing,
    /// World `growth-rule`, interface `growth`.
    Growth,
    /// World `kpi-scoring-rule`, interface `kpi-scoring`.
    KpiScoring,
    /// World `alert-rule`, interface `alert`.
    Alert,
}

impl RuleKind {
    /// Every kind.
    pub const ALL: [RuleKind; 4] = [
        RuleKind::Pricing,
        RuleKind::Growth,
        RuleKind::KpiScoring,
        RuleKind::Alert,
    ];

    /// The WIT world a plugin of this kind targets.
    pub fn world(self) -> &'static str {
        match self {
            RuleKind::Pricing => "pricing-rule",
            RuleKind::Growth => "growth-rule",
            RuleKind::KpiScoring => "kpi-scoring-rule",
            RuleKind::Alert => "alert-rule",
        }
    }

    /// The WIT interface the world exports.
    pub fn interface(self) -> &'static str {
        match self {
            RuleKind::Pricing => "pricing",
            RuleKind::Growth => "growth",
            RuleKind::KpiScoring => "kpi-scoring",
            RuleKind::Alert => "alert",
        }
    }

    /// A human name, e.g. "pricing rule".
    pub fn describe(self) -> &'static str {
        match self {
            RuleKind::Pricing => "pricing rule",
            RuleKind::Growth => "growth rule",
            RuleKind::KpiScoring => "KPI scoring rule",
            RuleKind::Alert => "alert rule",
        }
    }
}

/// Which output stream a plugin log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogStream {
    /// The guest's stdout.
    Stdout,
    /// The guest's stderr (panic messages land here).
    Stderr,
}

/// One line a plugin wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Where it was written.
    pub stream: LogStream,
    /// The line, without its newline (invalid UTF-8 replaced).
    pub text: String,
}
