//! User rules written as Rhai scripts, implementing the four `kam_core::rules` traits.
//!
//! Each rule kind has one fixed entry point, checked when the script is loaded:
//!
//! | rule | entry point | returns |
//! |---|---|---|
//! | [`ScriptPricingRule`] | `fn adjust(quote)` — a `PricingInput` | `[]`/`()` or an array of `#{ label, amount }` (amount a number or a `Money` in the quote currency) |
//! | [`ScriptGrowthRule`] | `fn on_period(state)` — a `GrowthState` | an array of factors, one per `state.service_lines` entry |
//! | [`ScriptKpiScoringRule`] | `fn score(measure)` — a `MeasureInput`, called once per measure | a number |
//! | [`ScriptAlertRule`] | `fn alert(input)` — an `AlertInput`, called once per input | a bool, or `#{ raise, message }` |
//!
//! A pricing rule whose source never mentions `lines` gets the quote without its lines
//! (total and currency only), so a 1,000-line quote costs no copy; reaching `.lines` by a
//! computed name is then an error, never an empty list.
//!
//! A growth rule's months are memoized: a month whose inputs, as far as the script read
//! them, match a month already run gets that month's factors without running the script
//! (scripts are pure functions of their state; see [`ScriptGrowthRule`]).
//!
//! Numbers may be integers or decimals. Entry points are called with `eval_ast(false)`:
//! the script's top level runs never, so keep setup inside the functions (constants are
//! cheap). A missing entry point is a load error; a wrong return shape is a
//! [`RuleErrorKind::BadReturn`] error naming what was expected.
//!
//! ```
//! use std::sync::Arc;
//! use kam_core::rules::{PricingInput, PricingRule};
//! use kam_script::{ScriptHost, rules::ScriptPricingRule};
//! use rust_decimal::Decimal;
//!
//! let host = Arc::new(ScriptHost::default());
//! let rule = ScriptPricingRule::load(host, "rebate.rhai", r#"
//!     fn adjust(quote) {
//!         if quote.total > 50000 { [#{ label: "rebate", amount: -(quote.total - 50000) * 0.02 }] } else { [] }
//!     }
//! "#)?;
//! let q = PricingInput { currency: "EUR".into(), lines: vec![], total: Decimal::from(60_000) };
//! assert_eq!(rule.adjust(&q)?[0].amount, Decimal::from(-200));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use kam_core::money::Money;
use kam_core::rules::{
    AlertDecision, AlertInput, AlertRule, KpiScoringRule, MeasureInput, PriceAdjustment, PricingInput,
    PricingRule, RuleError, RuleErrorKind, RuleHost,
};
use rhai::Dynamic;
use rust_decimal::Decimal;

use crate::api::rules::{AlertHistory, Measure, QuoteInput};
use crate::api::{to_decimal, type_name};
use crate::error::{ScriptError, ScriptErrorKind};
pub use crate::growth::{MemoStats, ScriptGrowthRule};
use crate::host::{CompiledScript, ScriptHost, require_entry_point};

impl From<ScriptError> for RuleError {
    fn from(e: ScriptError) -> Self {
        let kind = match e.kind {
            ScriptErrorKind::Syntax | ScriptErrorKind::Contract => RuleErrorKind::Load,
            ScriptErrorKind::Runtime => RuleErrorKind::Failed,
            ScriptErrorKind::OperationLimit => RuleErrorKind::OperationLimit,
            ScriptErrorKind::Timeout => RuleErrorKind::Timeout,
            ScriptErrorKind::ResourceLimit => RuleErrorKind::ResourceLimit,
        };
        RuleError::new(e.file.clone(), RuleHost::Script, kind, e.to_string())
    }
}

/// A compiled rule script and the host that runs it.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) host: Arc<ScriptHost>,
    pub(crate) script: Arc<CompiledScript>,
}

impl Loaded {
    pub(crate) fn load(
        host: Arc<ScriptHost>,
        name: &str,
        source: &str,
        entry: &str,
        signature: &str,
    ) -> Result<Self, ScriptError> {
        let script = host.compile(name, source)?;
        require_entry_point(&script, entry, 1, signature)?;
        Ok(Loaded { host, script })
    }

    pub(crate) fn call(&self, entry: &str, arg: Dynamic) -> Result<Dynamic, RuleError> {
        self.host
            .call_fn(&self.script, entry, (arg,))
            .map_err(RuleError::from)
    }

    pub(crate) fn bad_return(&self, what: impl std::fmt::Display) -> RuleError {
        RuleError::new(
            self.script.name(),
            RuleHost::Script,
            RuleErrorKind::BadReturn,
            what.to_string(),
        )
    }

    pub(crate) fn number(&self, entry: &str, at: &str, v: &Dynamic) -> Result<Decimal, RuleError> {
        self.number_at(entry, || at.to_owned(), v)
    }

    /// [`Loaded::number`] with the position text built only for an error.
    pub(crate) fn number_at(
        &self,
        entry: &str,
        at: impl FnOnce() -> String,
        v: &Dynamic,
    ) -> Result<Decimal, RuleError> {
        to_decimal(v).ok_or_else(|| {
            self.bad_return(format!(
                "{entry} must return a number at {}, got {}",
                at(),
                type_name(v)
            ))
        })
    }
}

// ---------------------------------------------------------------- pricing

/// A pricing rule script: `fn adjust(quote)`.
#[derive(Debug, Clone)]
pub struct ScriptPricingRule {
    loaded: Loaded,
    // A rule that never names `lines` cannot read them: skip copying them per call.
    needs_lines: bool,
}

impl ScriptPricingRule {
    /// Compiles `source` as rule `name` and checks that it defines `fn adjust(quote)`.
    ///
    /// # Errors
    /// A syntax error, or a [`ScriptErrorKind::Contract`] error for a missing entry point.
    pub fn load(host: Arc<ScriptHost>, name: &str, source: &str) -> Result<Self, ScriptError> {
        let loaded = Loaded::load(host, name, source, "adjust", "fn adjust(quote)")?;
        Ok(ScriptPricingRule {
            loaded,
            needs_lines: source.contains("lines"),
        })
    }
}

impl PricingRule for ScriptPricingRule {
    fn name(&self) -> &str {
        self.loaded.script.name()
    }

    fn adjust(&self, quote: &PricingInput) -> Result<Vec<PriceAdjustment>, RuleError> {
        let input = if self.needs_lines {
            quote.clone()
        } else {
            PricingInput {
                currency: quote.currency.clone(),
                lines: Vec::new(),
                total: quote.total,
            }
        };
        let arg = QuoteInput {
            input: Arc::new(input),
            lines_loaded: self.needs_lines,
        };
        let this = &self.loaded;
        let out = this.call("adjust", Dynamic::from(arg))?;
        if out.is_unit() {
            return Ok(Vec::new());
        }
        let items = out.into_array().map_err(|t| {
            this.bad_return(format!(
                "adjust must return an array of #{{ label, amount }} or (), got {t}"
            ))
        })?;
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let at = format!("adjust()[{i}]");
                let Some(m) = item.clone().try_cast::<rhai::Map>() else {
                    return Err(this.bad_return(format!(
                        "{at} must be #{{ label, amount }}, got {}",
                        type_name(&item)
                    )));
                };
                let label = m
                    .get("label")
                    .and_then(|l| l.clone().into_string().ok())
                    .ok_or_else(|| this.bad_return(format!("{at}.label must be a string")))?;
                let amount_v = m
                    .get("amount")
                    .ok_or_else(|| this.bad_return(format!("{at} has no amount")))?;
                let amount = match amount_v.clone().try_cast::<Money>() {
                    Some(money) if money.currency().code() == quote.currency => money.amount(),
                    Some(money) => {
                        return Err(this.bad_return(format!(
                            "{at}.amount is in {} but the quote is in {}",
                            money.currency(),
                            quote.currency
                        )));
                    }
                    None => this.number("adjust", &format!("{at}.amount"), amount_v)?,
                };
                Ok(PriceAdjustment { label, amount })
            })
            .collect()
    }
}

// ---------------------------------------------------------------- growth

/// A KPI scoring rule script: `fn score(measure)`, called once per measure.
#[derive(Debug, Clone)]
pub struct ScriptKpiScoringRule(Loaded);

impl ScriptKpiScoringRule {
    /// Compiles `source` as rule `name` and checks that it defines `fn score(measure)`.
    ///
    /// # Errors
    /// A syntax error, or a [`ScriptErrorKind::Contract`] error for a missing entry point.
    pub fn load(host: Arc<ScriptHost>, name: &str, source: &str) -> Result<Self, ScriptError> {
        Loaded::load(host, name, source, "score", "fn score(measure)").map(ScriptKpiScoringRule)
    }
}

impl KpiScoringRule for ScriptKpiScoringRule {
    fn name(&self) -> &str {
        self.0.script.name()
    }

    fn score(&self, measures: &[MeasureInput]) -> Result<Vec<Decimal>, RuleError> {
        measures
            .iter()
            .map(|m| {
                let out = self
                    .0
                    .call("score", Dynamic::from(Measure(Arc::new(m.clone()))))?;
                self.0.number("score", &format!("measure {:?}", m.name), &out)
            })
            .collect()
    }
}

// ---------------------------------------------------------------- alerts

/// An alert rule script: `fn alert(input)`, called once per (node, KPI) history.
#[derive(Debug, Clone)]
pub struct ScriptAlertRule(Loaded);

impl ScriptAlertRule {
    /// Compiles `source` as rule `name` and checks that it defines `fn alert(input)`.
    ///
    /// # Errors
    /// A syntax error, or a [`ScriptErrorKind::Contract`] error for a missing entry point.
    pub fn load(host: Arc<ScriptHost>, name: &str, source: &str) -> Result<Self, ScriptError> {
        Loaded::load(host, name, source, "alert", "fn alert(input)").map(ScriptAlertRule)
    }
}

impl AlertRule for ScriptAlertRule {
    fn name(&self) -> &str {
        self.0.script.name()
    }

    /// The inputs are decided on the global thread pool ([`crate::host::in_parallel`]):
    /// the same decisions, output lines and first error as one after another.
    fn alert(&self, inputs: &[AlertInput]) -> Result<Vec<AlertDecision>, RuleError> {
        crate::host::in_parallel(inputs, |input| {
            let out = self
                .0
                .call("alert", Dynamic::from(AlertHistory(Arc::new(input.clone()))))?;
            if let Ok(raise) = out.as_bool() {
                return Ok(AlertDecision {
                    raise,
                    message: String::new(),
                });
            }
            let at = format!("alert for {}/{}", input.node, input.kpi);
            let Some(m) = out.clone().try_cast::<rhai::Map>() else {
                return Err(self.0.bad_return(format!(
                    "{at} must return a bool or #{{ raise, message }}, got {}",
                    type_name(&out)
                )));
            };
            let raise = m
                .get("raise")
                .and_then(|r| r.as_bool().ok())
                .ok_or_else(|| self.0.bad_return(format!("{at}: raise must be a bool")))?;
            let message = match m.get("message") {
                None => String::new(),
                Some(s) => s
                    .clone()
                    .into_string()
                    .map_err(|_| self.0.bad_return(format!("{at}: message must be a string")))?,
            };
            Ok(AlertDecision { raise, message })
        })
    }
}
