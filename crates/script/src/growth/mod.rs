//! The growth rule's fast path, behind one door: [`ScriptGrowthRule`].
//!
//! A simulated path's months are one engine call: a helper compiled into the script
//! loops over them and calls `on_period` for each, keeping each month's result in a
//! host type ([`BatchResults`]); the months share one converted copy of the batch
//! ([`state`], whose getters record what each month reads); and months whose inputs,
//! as far as the script read them, match a month already run are answered from a
//! per-thread decision tree without running the script ([`memo`]). Everything of that
//! fast path lives in this module; the rest of the crate sees the rule, its memo
//! statistics and the state's getters in the analyst API.

pub(crate) mod memo;
mod state;

use std::sync::Arc;

use kam_core::rules::{
    GrowthRule, GrowthState, PeriodError, PeriodFactors, RuleError, RuleErrorKind, RuleHost, check_batch_len,
    check_growth_factor, on_periods_one_by_one,
};
use rhai::{Dynamic, Engine, EvalAltResult, Position};
use rust_decimal::Decimal;

pub use memo::MemoStats;
use memo::{Abstraction, Field, LeafRange, Memo, MemoPool};
pub(crate) use state::register;

use state::PeriodBatch;

use crate::error::ScriptError;
use crate::host::{self, CompiledScript, ScriptHost};
use crate::rules::Loaded;

/// The results a growth rule's batch helper has kept so far, one per month.
#[derive(Debug, Clone, Default)]
pub(crate) struct BatchResults(pub(crate) Vec<Dynamic>);

/// The method the batch helper calls on its `this` ([`BatchResults`]) to keep a result.
pub(crate) const BATCH_KEEP: &str = "__kam_keep";

/// Registers where a growth rule's batch helper keeps each month's result (`this`): a
/// custom type, so keeping a result is O(1) — an array would have its whole nested size
/// re-counted after every push. Scripts cannot create one.
pub(crate) fn register_engine(engine: &mut Engine) {
    engine.register_type_with_name::<BatchResults>("BatchResults");
    engine.register_fn(BATCH_KEEP, |r: &mut BatchResults, v: Dynamic| r.0.push(v));
}

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
/// failure the results so far say which month failed. `__kam_keep` is [`BATCH_KEEP`].
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
        factors.try_push(items.iter().enumerate().map(|(i, v)| {
            let factor = this.number_at("on_period", || format!("index {i}"), v)?;
            let line = state.service_lines.get(i).map_or("?", |l| &l.service_line);
            check_growth_factor(this.script.name(), RuleHost::Script, state.month, line, factor)
        }))
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
