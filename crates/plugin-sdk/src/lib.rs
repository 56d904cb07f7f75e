//! # kam-plugin-sdk — write a kam rule plugin in a few lines of Rust
//!
//! The guest side of kam's WASM plugins: the `kam:rules@0.2.0` contract (the WIT in the
//! repository's `wit/`, embedded here as [`RULES_WIT`]), canonical decimal codecs, and
//! one export macro per rule kind. A plugin implements one small trait over the same
//! `kam_core::rules` records a native rule sees, and the macro generates the component
//! bindings, checks and converts every decimal, and declares the API version:
//!
//! ```ignore
//! use kam_plugin_sdk::{Decimal, PluginError, PriceAdjustment, PricingInput, PricingPlugin};
//!
//! struct VolumeRebate;
//!
//! impl PricingPlugin for VolumeRebate {
//!     fn adjust(quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError> {
//!         let over = kam_plugin_sdk::num::sub(quote.total, Decimal::from(50_000), "total - 50000")?;
//!         Ok(if over > Decimal::ZERO {
//!             let amount = kam_plugin_sdk::num::mul(over, Decimal::new(2, 2), "rebate")?;
//!             vec![PriceAdjustment { label: "volume rebate".into(), amount: -amount }]
//!         } else {
//!             vec![]
//!         })
//!     }
//! }
//!
//! kam_plugin_sdk::export_pricing_rule!(VolumeRebate);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2` (crate type `cdylib`): the
//! result is a component the `kam-plugin` host loads directly.
//!
//! It is **not** a host: it has no wasmtime and cannot run plugins. Plugins see no
//! files, environment, clock or randomness — the host gives them none — so a rule must
//! take everything from its input. Its export macros expand to `wit-bindgen` code and
//! must be invoked once, at the root of a `cdylib` crate that depends on this crate
//! under the name `kam_plugin_sdk`.

use kam_core::canonical;
pub use kam_core::num;
pub use kam_core::rules::{
    AlertDecision, AlertInput, GrowthState, MeasureInput, PriceAdjustment, PricingInput, PricingLine,
    ServiceLineRevenue,
};
pub use kam_core::{Decimal, Direction};

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// The version of the `kam:rules` WIT package this SDK implements; plugins built with
/// it report this from `meta.api-version`.
pub const API_VERSION: &str = kam_core::rules::RULES_API_VERSION;

/// Why a plugin refuses its input: returned to the host as the rule's own error
/// (`RuleErrorKind::Failed`), with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError(pub String);

impl PluginError {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        PluginError(message.into())
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PluginError {}

impl From<kam_core::num::ArithmeticError> for PluginError {
    fn from(e: kam_core::num::ArithmeticError) -> Self {
        PluginError(e.to_string())
    }
}

impl From<String> for PluginError {
    fn from(message: String) -> Self {
        PluginError(message)
    }
}

impl From<&str> for PluginError {
    fn from(message: &str) -> Self {
        PluginError(message.to_owned())
    }
}

/// Whether `text` is a canonical `kam:rules` decimal: an optional `-`, ASCII digits,
/// optionally `.` and more digits; nothing else (no `+`, exponent, spaces or `_`).
pub fn is_canonical_decimal(text: &str) -> bool {
    !matches!(canonical::parse(text), Err(canonical::CanonicalError::Syntax))
}

/// Parses the canonical decimal `text` of the input field `field` (a path such as
/// `lines[3].amount`); text that is not canonical or does not fit a 96-bit decimal
/// exactly is an error naming the field.
pub fn parse_decimal(field: &str, text: &str) -> Result<Decimal, PluginError> {
    parse_field(text, || field.to_owned())
}

/// [`parse_decimal`] with the field name built only on error: the export macros parse
/// every decimal of a batch, and naming each field up front would cost more than parsing.
#[doc(hidden)]
pub fn parse_field(text: &str, field: impl FnOnce() -> String) -> Result<Decimal, PluginError> {
    canonical::parse(text).map_err(|e| PluginError(format!("{}: {text:?} {e}", field())))
}

/// The canonical text of `value` (scale kept: `30.9500` stays `30.9500`).
pub fn format_decimal(value: Decimal) -> String {
    canonical::format(value)
}

/// The direction for a WIT `direction` value (`higher-is-better` → true).
#[doc(hidden)]
pub fn direction(higher: bool) -> Direction {
    if higher {
        Direction::HigherIsBetter
    } else {
        Direction::LowerIsBetter
    }
}

/// A pricing adjustment rule (world `pricing-rule`).
pub trait PricingPlugin {
    /// The adjustments to add to `quote`; an empty list means none.
    fn adjust(quote: &PricingInput) -> Result<Vec<PriceAdjustment>, PluginError>;
}

/// A growth rule applied to every simulated month (world `growth-rule`).
pub trait GrowthPlugin {
    /// One factor per entry of `state.service_lines`, same order.
    fn on_period(state: &GrowthState) -> Result<Vec<Decimal>, PluginError>;
}

/// A KPI scoring rule (world `kpi-scoring-rule`).
pub trait KpiScoringPlugin {
    /// One score per measure, same order.
    fn score(measures: &[MeasureInput]) -> Result<Vec<Decimal>, PluginError>;
}

/// An alert condition (world `alert-rule`).
pub trait AlertPlugin {
    /// One decision per input, same order.
    fn decide(inputs: &[AlertInput]) -> Result<Vec<AlertDecision>, PluginError>;
}

/// Builds a pricing line from its WIT fields (used by [`export_pricing_rule!`]).
#[doc(hidden)]
pub fn pricing_line(
    index: usize,
    activity: String,
    quantity: &str,
    billed_quantity: &str,
    amount: &str,
) -> Result<PricingLine, PluginError> {
    let field = |name: &str| format!("lines[{index}] ({activity}).{name}");
    Ok(PricingLine {
        quantity: parse_field(quantity, || field("quantity"))?,
        billed_quantity: parse_field(billed_quantity, || field("billed-quantity"))?,
        amount: parse_field(amount, || field("amount"))?,
        activity,
    })
}

/// Builds a measure from its WIT fields (used by [`export_kpi_scoring_rule!`]).
#[doc(hidden)]
pub fn measure(
    index: usize,
    name: String,
    actual: &str,
    target: &str,
    higher: bool,
    red: Option<&str>,
) -> Result<MeasureInput, PluginError> {
    let field = |f: &str| format!("measures[{index}] ({name}).{f}");
    Ok(MeasureInput {
        actual: parse_field(actual, || field("actual"))?,
        target: parse_field(target, || field("target"))?,
        direction: direction(higher),
        red: red.map(|r| parse_field(r, || field("red"))).transpose()?,
        name,
    })
}

/// Builds an alert input from its WIT fields (used by [`export_alert_rule!`]).
#[doc(hidden)]
pub fn alert_input(
    index: usize,
    kpi: String,
    node: String,
    higher: bool,
    target: &str,
    history: Vec<String>,
) -> Result<AlertInput, PluginError> {
    let target = parse_field(target, || format!("inputs[{index}] ({kpi}@{node}).target"))?;
    let history = history
        .iter()
        .enumerate()
        .map(|(i, h)| parse_field(h, || format!("inputs[{index}] ({kpi}@{node}).history[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AlertInput {
        kpi,
        node,
        direction: direction(higher),
        target,
        history,
    })
}

/// Defines [`RULES_WIT`] and the hidden macro that generates a world's guest bindings
/// from it, so the WIT text exists once in this crate (checked against `wit/` by a test).
macro_rules! define_wit {
    ($d:tt, $wit:literal) => {
        /// The `kam:rules@0.2.0` WIT package this SDK was generated from (identical to
        /// `wit/rules.wit` in the kam repository).
        pub const RULES_WIT: &str = $wit;

        #[doc(hidden)]
        #[macro_export]
        macro_rules! __kam_generate {
                                            ($d world:literal) => {
                                                $crate::__wit_bindgen::generate!({
                                                    inline: $wit,
                                                    world: $d world,
                                                    runtime_path: "::kam_plugin_sdk::__wit_bindgen::rt",
                                                });
                                            };
                                        }
    };
}

define_wit!($, r#"/// The contract between kam and its WASM rule plugins.
///
/// One world per rule kind (`pricing-rule`, `growth-rule`, `kpi-scoring-rule`,
/// `alert-rule`); a plugin component targets exactly one of them. Every world also
/// exports `meta`, so the host can check the plugin's API version at load time.
///
/// Decimals cross the boundary as canonical strings (see `types.decimal`) so no
/// precision is lost and the same rule gives byte-identical results natively, as a
/// Rhai script and as a plugin. Every call takes a batch (a whole quote, one month's
/// state for all service lines, all measures of a scorecard, all alert inputs of a
/// period), so the cost of crossing the boundary is paid once per batch.
///
/// Plugins get no files, network, environment, clock or randomness: everything a rule
/// may use is in its input. A rule refuses an input by returning `err(message)`.
package kam:rules@0.2.0;

/// Records shared by all rule kinds.
interface types {
    /// An exact decimal as text: an optional `-`, one or more ASCII digits, optionally a
    /// `.` followed by one or more digits (at most 28 after the point, 96-bit mantissa).
    /// No `+`, exponent, whitespace or digit separators. Trailing zeros are kept: they
    /// carry the scale (`30.9500` and `30.95` are the same number, different scale).
    type decimal = string;

    /// Whether a larger value of a measure is better or worse.
    enum direction {
        /// More is better (OTIF, margin).
        higher-is-better,
        /// Less is better (cost per line, damage ppm).
        lower-is-better,
    }

    /// One priced line of a quote.
    record pricing-line {
        /// Activity name, e.g. `pick_line`.
        activity: string,
        /// The quantity actually performed.
        quantity: decimal,
        /// The quantity billed (at least `quantity` under a minimum commitment).
        billed-quantity: decimal,
        /// The line amount in the quote currency.
        amount: decimal,
    }

    /// A whole quote.
    record pricing-input {
        /// ISO 4217 currency code.
        currency: string,
        /// The lines, in rate card order.
        lines: list<pricing-line>,
        /// The quote total before adjustments.
        total: decimal,
    }

    /// A signed amount added to a quote (negative for a rebate).
    record price-adjustment {
        /// Shown on the quote.
        label: string,
        /// Unrounded amount in the quote currency.
        amount: decimal,
    }

    /// Revenue of one service line in one simulated month.
    record service-line-revenue {
        /// Service line name, e.g. `warehousing`.
        service-line: string,
        /// Revenue this month before the rule is applied.
        revenue: decimal,
    }

    /// One month of one simulated path.
    record growth-state {
        /// Month index from the start of the horizon, 0-based.
        month: u32,
        /// Contract year, 1-based.
        year: u32,
        /// The shared customer volume index (1 = plan).
        volume-index: decimal,
        /// Revenue by service line, in a fixed order for the whole run.
        service-lines: list<service-line-revenue>,
    }

    /// One scorecard measure.
    record measure-input {
        /// Measure or KPI name.
        name: string,
        /// Actual value this period.
        actual: decimal,
        /// Target value.
        target: decimal,
        /// Whether higher or lower is better.
        direction: direction,
        /// The red threshold, where the measure has one.
        red: option<decimal>,
    }

    /// One KPI history at one account node.
    record alert-input {
        /// KPI id.
        kpi: string,
        /// Account node id (site, region, global).
        node: string,
        /// Whether higher or lower is better.
        direction: direction,
        /// Target value.
        target: decimal,
        /// Values per period, oldest first; the last is the current period.
        history: list<decimal>,
    }

    /// Whether to raise an alert, and why.
    record alert-decision {
        /// Whether the condition holds.
        raise: bool,
        /// Explanation shown on the alert.
        message: string,
    }
}

/// What every plugin tells the host about itself.
interface meta {
    /// The version of `kam:rules` the plugin was built against, e.g. `0.2.0`. The host
    /// refuses a plugin whose major.minor differs from its own.
    api-version: func() -> string;
}

/// A pricing adjustment rule: rebates, surcharges, customer-specific terms.
interface pricing {
    use types.{pricing-input, price-adjustment};

    /// The adjustments to add to `quote`; an empty list means none.
    adjust: func(quote: pricing-input) -> result<list<price-adjustment>, string>;
}

/// A growth rule applied to every month of every simulated path.
interface growth {
    use types.{growth-state, decimal};

    /// Why a batch failed: the position in the batch of the month that failed, and why.
    record period-error {
        /// Index in `states` of the failing month.
        index: u32,
        /// The rule's explanation.
        message: string,
    }

    /// One multiplicative factor per entry of `state.service-lines`, same order.
    on-period: func(state: growth-state) -> result<list<decimal>, string>;

    /// `on-period` for every month of one simulated path (month order): one list of
    /// factors per state, same order. The host calls this once per path, so the cost of
    /// crossing the boundary is paid per path rather than per month; it must give the
    /// same factors as `on-period` state by state.
    on-periods: func(states: list<growth-state>) -> result<list<list<decimal>>, period-error>;
}

/// A KPI scoring rule (1 = on target).
interface kpi-scoring {
    use types.{measure-input, decimal};

    /// One score per measure, same order.
    score: func(measures: list<measure-input>) -> result<list<decimal>, string>;
}

/// An alert condition.
interface alert {
    use types.{alert-input, alert-decision};

    /// One decision per input, same order.
    decide: func(inputs: list<alert-input>) -> result<list<alert-decision>, string>;
}

/// A plugin that adjusts priced quotes.
world pricing-rule {
    export meta;
    export pricing;
}

/// A plugin that scales service-line revenue per simulated month.
world growth-rule {
    export meta;
    export growth;
}

/// A plugin that scores scorecard measures.
world kpi-scoring-rule {
    export meta;
    export kpi-scoring;
}

/// A plugin that decides alerts.
world alert-rule {
    export meta;
    export alert;
}
"#);

/// Exports a [`PricingPlugin`] as a `pricing-rule` component. Invoke once at the crate
/// root, after the type: `export_pricing_rule!(MyRule);`. A second form,
/// `export_pricing_rule!(MyRule, api_version = "0.1.0")`, overrides the declared
/// version (only for testing the host's version check).
#[macro_export]
macro_rules! export_pricing_rule {
    ($rule:ty) => {
        $crate::export_pricing_rule!($rule, api_version = $crate::API_VERSION);
    };
    ($rule:ty, api_version = $version:expr) => {
        #[doc(hidden)]
        #[allow(missing_docs, unsafe_code, unused_imports, clippy::all)]
        mod __kam_plugin {
            use super::*;
            $crate::__kam_generate!("pricing-rule");
            use exports::kam::rules::pricing as wit;

            struct Adapter;

            impl exports::kam::rules::meta::Guest for Adapter {
                fn api_version() -> ::std::string::String {
                    ::std::string::String::from($version)
                }
            }

            impl wit::Guest for Adapter {
                fn adjust(
                    quote: wit::PricingInput,
                ) -> ::std::result::Result<::std::vec::Vec<wit::PriceAdjustment>, ::std::string::String>
                {
                    let run = || -> ::std::result::Result<_, $crate::PluginError> {
                        let lines = quote
                            .lines
                            .into_iter()
                            .enumerate()
                            .map(|(i, l)| {
                                $crate::pricing_line(
                                    i,
                                    l.activity,
                                    &l.quantity,
                                    &l.billed_quantity,
                                    &l.amount,
                                )
                            })
                            .collect::<::std::result::Result<::std::vec::Vec<_>, _>>()?;
                        let input = $crate::PricingInput {
                            total: $crate::parse_decimal("total", &quote.total)?,
                            currency: quote.currency,
                            lines,
                        };
                        let out = <$rule as $crate::PricingPlugin>::adjust(&input)?;
                        Ok(out
                            .into_iter()
                            .map(|a| wit::PriceAdjustment {
                                label: a.label,
                                amount: $crate::format_decimal(a.amount),
                            })
                            .collect())
                    };
                    run().map_err(|e| e.0)
                }
            }

            export!(Adapter);
        }
    };
}

/// Exports a [`GrowthPlugin`] as a `growth-rule` component (see [`export_pricing_rule!`]).
#[macro_export]
macro_rules! export_growth_rule {
    ($rule:ty) => {
        $crate::export_growth_rule!($rule, api_version = $crate::API_VERSION);
    };
    ($rule:ty, api_version = $version:expr) => {
        #[doc(hidden)]
        #[allow(missing_docs, unsafe_code, unused_imports, clippy::all)]
        mod __kam_plugin {
            use super::*;
            $crate::__kam_generate!("growth-rule");
            use exports::kam::rules::growth as wit;

            struct Adapter;

            impl exports::kam::rules::meta::Guest for Adapter {
                fn api_version() -> ::std::string::String {
                    ::std::string::String::from($version)
                }
            }

            fn growth_state(
                state: wit::GrowthState,
            ) -> ::std::result::Result<$crate::GrowthState, $crate::PluginError> {
                let service_lines = state
                    .service_lines
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let revenue = $crate::parse_field(&s.revenue, || {
                            ::std::format!("service_lines[{i}] ({}).revenue", s.service_line)
                        })?;
                        Ok($crate::ServiceLineRevenue {
                            service_line: s.service_line,
                            revenue,
                        })
                    })
                    .collect::<::std::result::Result<::std::vec::Vec<_>, $crate::PluginError>>()?;
                Ok($crate::GrowthState {
                    month: state.month,
                    year: state.year,
                    volume_index: $crate::parse_decimal("volume_index", &state.volume_index)?,
                    service_lines,
                })
            }

            fn factors(
                state: wit::GrowthState,
            ) -> ::std::result::Result<::std::vec::Vec<::std::string::String>, $crate::PluginError> {
                let out = <$rule as $crate::GrowthPlugin>::on_period(&growth_state(state)?)?;
                Ok(out.into_iter().map($crate::format_decimal).collect())
            }

            impl wit::Guest for Adapter {
                fn on_period(
                    state: wit::GrowthState,
                ) -> ::std::result::Result<::std::vec::Vec<::std::string::String>, ::std::string::String>
                {
                    factors(state).map_err(|e| e.0)
                }

                fn on_periods(
                    states: ::std::vec::Vec<wit::GrowthState>,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<::std::vec::Vec<::std::string::String>>,
                    wit::PeriodError,
                > {
                    states
                        .into_iter()
                        .enumerate()
                        .map(|(i, state)| {
                            factors(state).map_err(|e| wit::PeriodError {
                                index: u32::try_from(i).unwrap_or(u32::MAX),
                                message: e.0,
                            })
                        })
                        .collect()
                }
            }

            export!(Adapter);
        }
    };
}

/// Exports a [`KpiScoringPlugin`] as a `kpi-scoring-rule` component (see
/// [`export_pricing_rule!`]).
#[macro_export]
macro_rules! export_kpi_scoring_rule {
    ($rule:ty) => {
        $crate::export_kpi_scoring_rule!($rule, api_version = $crate::API_VERSION);
    };
    ($rule:ty, api_version = $version:expr) => {
        #[doc(hidden)]
        #[allow(missing_docs, unsafe_code, unused_imports, clippy::all)]
        mod __kam_plugin {
            use super::*;
            $crate::__kam_generate!("kpi-scoring-rule");
            use exports::kam::rules::kpi_scoring as wit;

            struct Adapter;

            impl exports::kam::rules::meta::Guest for Adapter {
                fn api_version() -> ::std::string::String {
                    ::std::string::String::from($version)
                }
            }

            impl wit::Guest for Adapter {
                fn score(
                    measures: ::std::vec::Vec<wit::MeasureInput>,
                ) -> ::std::result::Result<::std::vec::Vec<::std::string::String>, ::std::string::String>
                {
                    let run = || -> ::std::result::Result<_, $crate::PluginError> {
                        let input = measures
                            .into_iter()
                            .enumerate()
                            .map(|(i, m)| {
                                let higher = ::std::matches!(
                                    m.direction,
                                    kam::rules::types::Direction::HigherIsBetter
                                );
                                $crate::measure(i, m.name, &m.actual, &m.target, higher, m.red.as_deref())
                            })
                            .collect::<::std::result::Result<::std::vec::Vec<_>, _>>()?;
                        let out = <$rule as $crate::KpiScoringPlugin>::score(&input)?;
                        Ok(out.into_iter().map($crate::format_decimal).collect())
                    };
                    run().map_err(|e| e.0)
                }
            }

            export!(Adapter);
        }
    };
}

/// Exports an [`AlertPlugin`] as an `alert-rule` component (see [`export_pricing_rule!`]).
#[macro_export]
macro_rules! export_alert_rule {
    ($rule:ty) => {
        $crate::export_alert_rule!($rule, api_version = $crate::API_VERSION);
    };
    ($rule:ty, api_version = $version:expr) => {
        #[doc(hidden)]
        #[allow(missing_docs, unsafe_code, unused_imports, clippy::all)]
        mod __kam_plugin {
            use super::*;
            $crate::__kam_generate!("alert-rule");
            use exports::kam::rules::alert as wit;

            struct Adapter;

            impl exports::kam::rules::meta::Guest for Adapter {
                fn api_version() -> ::std::string::String {
                    ::std::string::String::from($version)
                }
            }

            impl wit::Guest for Adapter {
                fn decide(
                    inputs: ::std::vec::Vec<wit::AlertInput>,
                ) -> ::std::result::Result<::std::vec::Vec<wit::AlertDecision>, ::std::string::String>
                {
                    let run = || -> ::std::result::Result<_, $crate::PluginError> {
                        let input = inputs
                            .into_iter()
                            .enumerate()
                            .map(|(i, a)| {
                                let higher = ::std::matches!(
                                    a.direction,
                                    kam::rules::types::Direction::HigherIsBetter
                                );
                                $crate::alert_input(i, a.kpi, a.node, higher, &a.target, a.history)
                            })
                            .collect::<::std::result::Result<::std::vec::Vec<_>, _>>()?;
                        let out = <$rule as $crate::AlertPlugin>::decide(&input)?;
                        Ok(out
                            .into_iter()
                            .map(|d| wit::AlertDecision {
                                raise: d.raise,
                                message: d.message,
                            })
                            .collect())
                    };
                    run().map_err(|e| e.0)
                }
            }

            export!(Adapter);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_wit_is_the_repository_wit() {
        assert_eq!(RULES_WIT, include_str!("../../../wit/rules.wit"));
    }

    #[test]
    fn canonical_decimals() {
        for ok in [
            "0",
            "51547.50",
            "-30.9500",
            "0.000001",
            "79228162514264337593543950335",
        ] {
            assert!(is_canonical_decimal(ok), "{ok}");
            assert_eq!(parse_decimal("x", ok).map(format_decimal).as_deref(), Ok(ok));
        }
        for bad in [
            "", "-", "+1", "1e3", "1.", ".5", " 1", "1_000", "1,5", "NaN", "--1",
        ] {
            assert!(!is_canonical_decimal(bad), "{bad}");
            assert!(parse_decimal("lines[0].amount", bad).is_err());
        }
        let err = parse_decimal("lines[2] (pick_line).amount", "1e3").unwrap_err();
        assert!(err.0.contains("lines[2] (pick_line).amount"), "{err}");
        // Too large for 96 bits.
        assert!(parse_decimal("total", "79228162514264337593543950336").is_err());
    }

    #[test]
    fn record_builders_name_the_field() {
        let err = pricing_line(3, "pick_line".into(), "1", "x", "2").unwrap_err();
        assert!(err.0.contains("lines[3] (pick_line).billed-quantity"), "{err}");
        let m = measure(0, "OTIF".into(), "97.8", "98.5", true, Some("95")).unwrap();
        assert_eq!(m.red, Some(Decimal::new(95, 0)));
        let a = alert_input(
            1,
            "otif".into(),
            "site".into(),
            false,
            "1",
            vec!["2".into(), "y".into()],
        )
        .unwrap_err();
        assert!(a.0.contains("inputs[1] (otif@site).history[1]"), "{a}");
    }
}
