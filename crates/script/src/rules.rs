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
    AlertDecision, AlertInput, AlertRule, GrowthRule, GrowthState, KpiScoringRule, MeasureInput, PeriodError,
    PeriodFactors, PriceAdjustment, PricingInput, PricingRule, RuleError, RuleErrorKind, RuleHost,
    check_batch_len, on_periods_one_by_one,
};
use rhai::{Dynamic, EvalAltResult, Position};
use rust_decimal::Decimal;

use crate::api::rules::{AlertHistory, Measure, PeriodBatch, QuoteInput};
use crate::api::{to_decimal, type_name};
use crate::error::{ScriptError, ScriptErrorKind};
use crate::host::{self, BatchResults, CompiledScript, ScriptHost, require_entry_point};
pub use crate::memo::MemoStats;
use crate::memo::{Abstraction, Field, LeafRange, Memo, MemoPool};

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
struct Loaded {
    host: Arc<ScriptHost>,
    script: Arc<CompiledScript>,
}

impl Loaded {
    fn load(
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

    fn call(&self, entry: &str, arg: Dynamic) -> Result<Dynamic, RuleError> {
        self.host
            .call_fn(&self.script, entry, (arg,))
            .map_err(RuleError::from)
    }

    fn bad_return(&self, what: impl std::fmt::Display) -> RuleError {
        RuleError::new(
            self.script.name(),
            RuleHost::Script,
            RuleErrorKind::BadReturn,
            what.to_string(),
        )
    }

    fn number(&self, entry: &str, at: &str, v: &Dynamic) -> Result<Decimal, RuleError> {
        self.number_at(entry, || at.to_owned(), v)
    }

    /// [`Loaded::number`] with the position text built only for an error.
    fn number_at(&self, entry: &str, at: impl FnOnce() -> String, v: &Dynamic) -> Result<Decimal, RuleError> {
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

/// A growth rule script: `fn on_period(state)` returning one factor per service line.
///
/// A batch of months ([`GrowthRule::on_periods`], one simulated path) is one host call:
/// a helper function added to the compiled script loops over the months and calls
/// `on_period` for each inside the same evaluation, so Rhai resolves functions once per
/// batch, not once per month. The sandbox limits (operations, wall clock) apply to that
/// call; when a batch exhausts them after some months have finished, the month it stopped
/// in is re-run alone with fresh limits and the batch continues after it — so every month
/// still gets the full per-call budget, and a month that exceeds it alone fails as with
/// [`GrowthRule::on_period`] (the helper's loop adds a few operations to the first month
/// of a call). The helper also adds one call level below `on_period`.
///
/// Months are memoized: a month whose inputs, as far as the script read
/// them, equal a month already computed gets the same factors without running the script
/// — the script is a pure function of its state. A rule that depends only on the year
/// and the service lines runs a few times per thread; one that reads each month's exact
/// revenue gains nothing. [`ScriptGrowthRule::with_memo`] turns it off.
#[derive(Debug, Clone)]
pub struct ScriptGrowthRule {
    loaded: Loaded,
    /// The script with the batch helper, or `None` if the script defines a function of
    /// the helper's name itself (the batch then calls `on_period` month by month).
    batch: Option<Arc<CompiledScript>>,
    abstraction: Arc<Abstraction>,
    memo: Arc<MemoPool>,
}

/// The batch helper's name and source. `this` collects one result per month, so after a
/// failure the results so far say which month failed. `__kam_keep` is `host::BATCH_KEEP`.
const BATCH_FN: &str = "__kam_on_periods";
const BATCH_SOURCE: &str =
    "fn __kam_on_periods(states) { for state in states { this.__kam_keep(on_period(state)); } }";

/// What each month of a batch read, for the memo: `None` for a month that must not be
/// stored (it printed, or was re-run alone).
type MonthReads = Vec<Option<Vec<Field>>>;

impl ScriptGrowthRule {
    /// Compiles `source` as rule `name` and checks that it defines `fn on_period(state)`.
    ///
    /// # Errors
    /// A syntax error, or a [`ScriptErrorKind::Contract`] error for a missing entry point.
    pub fn load(host: Arc<ScriptHost>, name: &str, source: &str) -> Result<Self, ScriptError> {
        let loaded = Loaded::load(host, name, source, "on_period", "fn on_period(state)")?;
        let batch = if loaded.script.ast().iter_functions().any(|f| f.name == BATCH_FN) {
            None
        } else {
            Some(Arc::new(
                loaded.host.with_functions(&loaded.script, BATCH_SOURCE)?,
            ))
        };
        let param = loaded
            .script
            .ast()
            .iter_functions()
            .find(|f| f.name == "on_period" && f.params.len() == 1)
            .and_then(|f| f.params.first().map(|p| (*p).to_owned()))
            .unwrap_or_default();
        let abstraction = Arc::new(Abstraction::of(&loaded.script, &param));
        Ok(ScriptGrowthRule {
            loaded,
            batch,
            abstraction,
            memo: Arc::new(MemoPool::default()),
        })
    }

    /// The rule with memoization of months on (the default) or off. Off, every month runs
    /// the script: for measuring, or for a rule that prints every month it runs.
    #[must_use]
    pub fn with_memo(self, on: bool) -> Self {
        let memo = Arc::new(MemoPool::default());
        if !on {
            memo.switch_off();
        }
        ScriptGrowthRule { memo, ..self }
    }

    /// How many months calls to [`GrowthRule::on_periods`] took from the memo so far, and
    /// how many the script ran for (while memoization is on; calls still running are
    /// not counted).
    pub fn memo_stats(&self) -> MemoStats {
        self.memo.stats()
    }

    /// Converts what `on_period` returned for `state` and appends it to `out`.
    fn push_factors(
        &self,
        state: &GrowthState,
        out: Dynamic,
        factors: &mut PeriodFactors,
    ) -> Result<(), RuleError> {
        let this = &self.loaded;
        let items = out.into_array().map_err(|t| {
            this.bad_return(format!(
                "on_period must return an array of factors (one per service line), got {t}"
            ))
        })?;
        let expected = state.service_lines.len();
        if items.len() != expected {
            // The same error `check_batch_len` gives, after checking the items are numbers.
            for (i, v) in items.iter().enumerate() {
                this.number_at("on_period", || format!("index {i}"), v)?;
            }
            check_batch_len(this.script.name(), RuleHost::Script, &items, expected)?;
        }
        factors.try_push(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| this.number_at("on_period", || format!("index {i}"), v)),
        )
    }

    /// The error of a failed batch call, as if `on_period` had been called directly. Rhai
    /// drops the frame of the function a call names (the helper), and a direct call would
    /// report no `on_period` frame either, so that one goes too. Limit errors pass through
    /// frames and carry no position; an error of the helper's own loses its position,
    /// which points into the helper's source.
    fn batch_error(&self, err: EvalAltResult) -> RuleError {
        let err = match err {
            EvalAltResult::ErrorInFunctionCall(name, _, inner, _) if name == "on_period" => *inner,
            mut own if !own.is_system_exception() => {
                own.set_position(Position::NONE);
                own
            }
            other => other,
        };
        RuleError::from(self.loaded.script.error(&err))
    }

    /// Runs `states` through the batch helper (see the type's docs), appending each
    /// month's factors to `out`; with `reads`, also what each month read.
    fn run_batch(
        &self,
        batch: &CompiledScript,
        states: &[&GrowthState],
        out: &mut PeriodFactors,
        mut reads: Option<&mut MonthReads>,
    ) -> Result<(), PeriodError> {
        let mut start = 0;
        while start < states.len() {
            let rest = states.get(start..).unwrap_or(&[]);
            let mut results = Dynamic::from(BatchResults(Vec::with_capacity(rest.len())));
            let data = PeriodBatch::new(rest, reads.is_some());
            let arg = Dynamic::from_array(data.states());
            let printed = host::outputs();
            let call = self
                .loaded
                .host
                .call_method_raw(batch, BATCH_FN, &mut results, (arg,));
            let quiet = host::outputs() == printed;
            let done = results
                .try_cast::<BatchResults>()
                .map(|r| r.0)
                .unwrap_or_default();
            let n_done = done.len();
            if let Some(reads) = reads.as_deref_mut() {
                let mut months: Vec<Vec<Field>> = vec![Vec::new(); n_done];
                for (m, field) in data.take_reads() {
                    if let Some(seen) = months.get_mut(m)
                        && !seen.contains(&field)
                    {
                        seen.push(field);
                    }
                }
                reads.extend(months.into_iter().map(|m| quiet.then_some(m)));
            }
            for (k, (value, state)) in done.into_iter().zip(rest).enumerate() {
                self.push_factors(state, value, out)
                    .map_err(|error| PeriodError {
                        index: start + k,
                        error,
                    })?;
            }
            let index = start + n_done;
            let Some(state) = rest.get(n_done) else {
                break; // every month of the batch has its result
            };
            match call {
                // `exit(value)` in `on_period` ends the whole call: `value` is this
                // month's result, as it is for a direct call; the batch goes on after it.
                Ok(value) => self
                    .push_factors(state, value, out)
                    .map_err(|error| PeriodError { index, error })?,
                Err(err) => {
                    let error = self.batch_error(*err);
                    let budget = matches!(
                        error.kind,
                        RuleErrorKind::OperationLimit | RuleErrorKind::Timeout | RuleErrorKind::ResourceLimit
                    );
                    if !(budget && n_done > 0) {
                        return Err(PeriodError { index, error });
                    }
                    // The months before used up the call's budget: this one gets its own.
                    let factors = self
                        .on_period(state)
                        .map_err(|error| PeriodError { index, error })?;
                    out.push(&factors);
                }
            }
            if let Some(reads) = reads.as_deref_mut() {
                reads.push(None);
            }
            start = index + 1;
        }
        Ok(())
    }

    /// [`GrowthRule::on_periods`] through `memo`: months found there are not run.
    fn memoized(
        &self,
        batch: &CompiledScript,
        memo: &mut Memo,
        states: &[GrowthState],
        out: &mut PeriodFactors,
    ) -> Result<(), PeriodError> {
        let found: Vec<Option<LeafRange>> =
            states.iter().map(|s| memo.lookup(&self.abstraction, s)).collect();
        let missing: Vec<usize> = (0..states.len())
            .filter(|&i| matches!(found.get(i), Some(None)))
            .collect();
        memo.stats.run += missing.len() as u64;
        memo.stats.reused += (states.len() - missing.len()) as u64;
        let mut computed = PeriodFactors::new();
        let mut reads = MonthReads::new();
        let outcome = if missing.is_empty() {
            Ok(())
        } else {
            let run: Vec<&GrowthState> = missing.iter().filter_map(|&i| states.get(i)).collect();
            self.run_batch(batch, &run, &mut computed, Some(&mut reads))
        };
        for (k, factors) in computed.iter().enumerate() {
            let (Some(Some(read)), Some(state)) = (reads.get(k), missing.get(k).and_then(|&i| states.get(i)))
            else {
                continue;
            };
            if memo.insert(&self.abstraction, state, read, factors).is_err() {
                self.memo.switch_off();
                break;
            }
        }
        let mut next = computed.iter();
        for range in found {
            match range {
                Some(range) => out.push(memo.factors(range)),
                None => match next.next() {
                    Some(factors) => out.push(factors),
                    // The month that failed: its error, at its index in `states`.
                    None => {
                        return outcome.map_err(|e| PeriodError {
                            index: missing.get(e.index).copied().unwrap_or(e.index),
                            error: e.error,
                        });
                    }
                },
            }
        }
        outcome
    }
}

impl GrowthRule for ScriptGrowthRule {
    fn name(&self) -> &str {
        self.loaded.script.name()
    }

    fn on_period(&self, state: &GrowthState) -> Result<Vec<Decimal>, RuleError> {
        let arg = PeriodBatch::new(&[state], false)
            .states()
            .into_iter()
            .next()
            .unwrap_or(Dynamic::UNIT);
        let out = self.loaded.call("on_period", arg)?;
        let mut factors = PeriodFactors::new();
        self.push_factors(state, out, &mut factors)?;
        Ok(factors.get(0).map(<[Decimal]>::to_vec).unwrap_or_default())
    }

    fn on_periods(&self, states: &[GrowthState], out: &mut PeriodFactors) -> Result<(), PeriodError> {
        let Some(batch) = &self.batch else {
            return on_periods_one_by_one(self, states, out);
        };
        match self.memo.take() {
            Some(mut memo) => {
                let result = self.memoized(batch, &mut memo, states, out);
                self.memo.give(memo);
                result
            }
            None => {
                let states: Vec<&GrowthState> = states.iter().collect();
                self.run_batch(batch, &states, out, None)
            }
        }
    }
}

// ---------------------------------------------------------------- KPI scoring

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

    fn alert(&self, inputs: &[AlertInput]) -> Result<Vec<AlertDecision>, RuleError> {
        inputs
            .iter()
            .map(|input| {
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
            .collect()
    }
}
