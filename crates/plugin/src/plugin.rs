//! Loaded plugins: one type per rule kind, each implementing its `kam_core` rule trait.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use kam_core::canonical;
use kam_core::rules::{
    AlertDecision, AlertInput, AlertRule, GrowthRule, GrowthState, KpiScoringRule, MeasureInput, PeriodError,
    PeriodFactors, PriceAdjustment, PricingInput, PricingRule, RuleError, RuleErrorKind, RuleHost,
    check_batch_len, check_growth_factor,
};
use kam_core::{Decimal, Direction};
use wasmtime::component::{ComponentExportIndex, ComponentType, InstancePre, Lift, Lower};
use wasmtime::{Store, Trap};

use crate::bindings::{alert, growth, kpi, pricing};
use crate::decimal::{from_wit, to_wit};
use crate::host::{API_VERSION, Shared};
use crate::sandbox::{Denied, LimitExceeded, Pipes, Sandbox};
use crate::{LogLine, LogStream, OutputLimits, RuleKind};

/// What all plugin kinds share: name, kind, host state, pre-linked component, log.
pub(crate) struct Loaded {
    name: String,
    kind: RuleKind,
    shared: Arc<Shared>,
    pre: InstancePre<Sandbox>,
    log: Mutex<VecDeque<LogLine>>,
    calls: AtomicU64,
    /// What one call may return (the host's default unless set for this plugin).
    output: OutputLimits,
}

impl Loaded {
    pub(crate) fn new(name: &str, kind: RuleKind, shared: Arc<Shared>, pre: InstancePre<Sandbox>) -> Self {
        let output = shared.limits.output;
        Loaded {
            name: name.to_owned(),
            kind,
            output,
            shared,
            pre,
            log: Mutex::new(VecDeque::new()),
            calls: AtomicU64::new(0),
        }
    }

    fn error(&self, kind: RuleErrorKind, message: impl Into<String>) -> RuleError {
        RuleError::new(&self.name, RuleHost::Plugin, kind, message)
    }

    /// Runs `f` in a fresh store: instantiation and the call are both bounded by the
    /// limits, and whatever happens the store is dropped afterwards.
    fn call<R>(
        &self,
        function: &str,
        f: impl FnOnce(&mut Store<Sandbox>) -> wasmtime::Result<Result<R, String>>,
    ) -> Result<R, RuleError> {
        self.call_in(function, None, f)
    }

    /// [`Loaded::call`], within what is left of `budget` when one is given (the fuel and
    /// wall time a series of calls shares), which it then reduces by what the call used.
    fn call_in<R>(
        &self,
        function: &str,
        budget: Option<&mut Budget>,
        f: impl FnOnce(&mut Store<Sandbox>) -> wasmtime::Result<Result<R, String>>,
    ) -> Result<R, RuleError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let what = format!("{}.{function}", self.kind.interface());
        let (mut store, pipes) = self
            .shared
            .new_store(&self.output)
            .map_err(|e| self.error(RuleErrorKind::Trap, format!("{what}: {e}")))?;
        let mut budget = budget;
        if let Some(b) = budget.as_deref_mut() {
            let tick = self.shared.limits.epoch_tick.as_nanos().max(1);
            let left = b.deadline.saturating_duration_since(Instant::now()).as_nanos();
            let ticks = u64::try_from(left.div_ceil(tick)).unwrap_or(u64::MAX);
            if b.fuel == 0 || ticks == 0 {
                return Err(self.error(
                    if b.fuel == 0 {
                        RuleErrorKind::OperationLimit
                    } else {
                        RuleErrorKind::Timeout
                    },
                    format!("{what}: {}", Budget::SPENT),
                ));
            }
            store
                .set_fuel(b.fuel)
                .map_err(|e| self.error(RuleErrorKind::Trap, format!("{what}: cannot set fuel: {e}")))?;
            store.set_epoch_deadline(ticks);
        }
        let result = f(&mut store);
        if let Some(b) = budget {
            b.fuel = store.get_fuel().unwrap_or(0);
        }
        let stderr_tail = self.collect_log(&pipes);
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(refusal)) => Err(self.error(
                RuleErrorKind::Failed,
                format!(
                    "{what} refused the input: {}",
                    clip(&refusal, self.output.message_bytes)
                ),
            )),
            Err(err) => {
                let (kind, detail) = self.classify(&err, &store);
                let mut message = format!("{what}: {detail}");
                if let Some(tail) = stderr_tail {
                    message.push_str(&format!(" (plugin stderr: {tail})"));
                }
                Err(self.error(kind, message))
            }
        }
    }

    fn classify(&self, err: &wasmtime::Error, store: &Store<Sandbox>) -> (RuleErrorKind, String) {
        let limits = &self.shared.limits;
        // wasmtime's error for a result larger than the store's hostcall fuel has a
        // private type, so it is known by its text.
        if format!("{err:#}").contains("fuel allocated for hostcalls has been exhausted") {
            return (
                RuleErrorKind::ResourceLimit,
                format!(
                    "returned more than {} bytes of data (the limit max_return_bytes; raise it in \
                     the plugin's kam.toml entry)",
                    self.output.return_bytes
                ),
            );
        }
        if let Some(exceeded) = &store.data().limiter.exceeded {
            return (RuleErrorKind::ResourceLimit, exceeded.clone());
        }
        if let Some(trap) = err.downcast_ref::<Trap>() {
            return match trap {
                Trap::OutOfFuel => (
                    RuleErrorKind::OperationLimit,
                    format!("ran out of fuel (limit {} per call)", limits.fuel),
                ),
                Trap::Interrupt => (
                    RuleErrorKind::Timeout,
                    format!("ran past its wall-clock deadline of {:?}", limits.wall_time),
                ),
                Trap::StackOverflow => (
                    RuleErrorKind::ResourceLimit,
                    format!("exhausted its call stack (limit {} bytes)", limits.max_wasm_stack),
                ),
                other => (RuleErrorKind::Trap, format!("trapped: {other}")),
            };
        }
        if let Some(denied) = err.downcast_ref::<Denied>() {
            return (RuleErrorKind::Trap, denied.0.clone());
        }
        if let Some(exceeded) = err.downcast_ref::<LimitExceeded>() {
            return (RuleErrorKind::ResourceLimit, exceeded.0.clone());
        }
        (RuleErrorKind::Trap, format!("failed: {err:#}"))
    }

    /// Moves the call's output into the plugin log; returns the last stderr lines (for
    /// error messages), if any.
    fn collect_log(&self, pipes: &Pipes) -> Option<String> {
        let split = |bytes: &[u8], stream: LogStream| -> Vec<LogLine> {
            String::from_utf8_lossy(bytes)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| LogLine {
                    stream,
                    text: l.to_owned(),
                })
                .collect()
        };
        let out = split(&pipes.stdout.contents(), LogStream::Stdout);
        let err = split(&pipes.stderr.contents(), LogStream::Stderr);
        let tail = (!err.is_empty()).then(|| {
            let start = err.len().saturating_sub(3);
            err.iter()
                .skip(start)
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        });
        if (!out.is_empty() || !err.is_empty())
            && let Ok(mut log) = self.log.lock()
        {
            for line in out.into_iter().chain(err) {
                if log.len() >= self.shared.limits.max_log_lines {
                    log.pop_front();
                }
                log.push_back(line);
            }
        }
        tail
    }

    /// Calls `meta.api-version` once and refuses a plugin for another major.minor.
    fn check_api_version(
        &self,
        call: impl FnOnce(&mut Store<Sandbox>) -> wasmtime::Result<String>,
    ) -> Result<(), RuleError> {
        let version = self
            .call("api-version", |store| call(store).map(Ok))
            .map_err(|e| self.error(RuleErrorKind::Load, e.message))?;
        let major_minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
        if major_minor(&version) != major_minor(API_VERSION) || version.split('.').count() != 3 {
            return Err(self.error(
                RuleErrorKind::Load,
                format!("the plugin declares API version {version:?}; this host implements kam:rules@{API_VERSION}"),
            ));
        }
        Ok(())
    }

    fn drain_log(&self) -> Vec<LogLine> {
        self.log
            .lock()
            .map(|mut l| l.drain(..).collect())
            .unwrap_or_default()
    }

    /// A result over one of the output limits.
    fn over_limit(&self, what: &str, detail: String, limit: usize, field: &str) -> RuleError {
        self.error(
            RuleErrorKind::ResourceLimit,
            format!(
                "{}.{what} returned {detail}; the limit is {limit} (raise it with {field} = N in the \
                 plugin's kam.toml entry)",
                self.kind.interface()
            ),
        )
    }

    fn pre_error(&self, e: wasmtime::Error) -> RuleError {
        self.error(
            RuleErrorKind::Load,
            format!("the component does not match world {}: {e:#}", self.kind.world()),
        )
    }
}

/// `text` cut to at most `max` bytes (at a character boundary), saying how much was cut.
fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes cut)", &text[..end], text.len() - end).into()
}

/// The fuel and wall time one call may use, shared by a series of calls: a growth
/// plugin's months re-run one by one after its batch call failed together get one
/// call's budget, not one each.
struct Budget {
    fuel: u64,
    deadline: Instant,
}

impl Budget {
    const SPENT: &'static str = "the path's budget (one call's fuel and wall time, shared by the months \
                                 re-run one call each after the batch call failed) is spent";
}

fn bad_return(loaded: &Loaded, what: &str, detail: String) -> RuleError {
    loaded.error(
        RuleErrorKind::BadReturn,
        format!("{}.{what} returned {detail}", loaded.kind.interface()),
    )
}

macro_rules! plugin_common {
    ($ty:ident) => {
        impl $ty {
            /// The plugin's name (given at load, or the file stem).
            pub fn name(&self) -> &str {
                &self.loaded.name
            }

            /// Takes the lines the plugin wrote to stdout and stderr since the last call
            /// of this function (at most [`crate::PluginLimits::max_log_lines`], newest kept).
            pub fn take_log(&self) -> Vec<LogLine> {
                self.loaded.drain_log()
            }

            /// How many component calls the plugin has made, each in a fresh instance
            /// (loading makes one, to read the API version). A batch is one call unless
            /// it failed as a whole and was re-run an item a call.
            pub fn calls(&self) -> u64 {
                self.loaded.calls.load(std::sync::atomic::Ordering::Relaxed)
            }

            /// What one call of this plugin may return.
            pub fn output_limits(&self) -> &OutputLimits {
                &self.loaded.output
            }

            /// Gives this plugin its own output limits (the host's
            /// [`crate::PluginLimits::output`] otherwise).
            pub fn set_output_limits(&mut self, output: OutputLimits) {
                self.loaded.output = output;
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("name", &self.loaded.name)
                    .finish_non_exhaustive()
            }
        }
    };
}

// ---------------------------------------------------------------- pricing

/// A loaded `pricing-rule` plugin.
pub struct PricingPlugin {
    loaded: Loaded,
    pre: pricing::PricingRulePre<Sandbox>,
    /// `kam:rules/pricing#adjust`, called through [`QuoteRef`] rather than the generated
    /// bindings: those take owned strings, four allocations per quote line.
    adjust: ComponentExportIndex,
}

plugin_common!(PricingPlugin);

/// A quote as the guest receives it (`types.pricing-input`), borrowing its text: the
/// activity names from the quote, every decimal from one buffer of canonical text.
#[derive(ComponentType, Lower)]
#[component(record)]
struct QuoteRef<'a> {
    currency: &'a str,
    lines: &'a [LineRef<'a>],
    total: &'a str,
}

/// `types.pricing-line`, borrowed.
#[derive(ComponentType, Lower)]
#[component(record)]
struct LineRef<'a> {
    activity: &'a str,
    quantity: &'a str,
    #[component(name = "billed-quantity")]
    billed_quantity: &'a str,
    amount: &'a str,
}

/// `types.price-adjustment` as returned. Results are lifted into owned strings, not
/// borrowed as `WasmStr`: wasmtime runs the guest's post-return (which frees them) before
/// `TypedFunc::call` returns, so guest memory no longer holds them afterwards.
#[derive(ComponentType, Lift)]
#[component(record)]
struct AdjustmentOut {
    label: String,
    amount: String,
}

type AdjustResult = (Result<Vec<AdjustmentOut>, String>,);

/// Decimals as canonical text in one buffer, so a batch lowers `&str` slices instead of
/// allocating a string per decimal.
struct CanonicalText {
    text: String,
    /// End of each decimal's text.
    ends: Vec<usize>,
}

impl CanonicalText {
    /// The text of `decimals`, of which there are about `count`.
    fn of(count: usize, decimals: impl Iterator<Item = Decimal>) -> Self {
        let mut text = String::with_capacity(count.saturating_mul(16));
        let mut ends = Vec::with_capacity(count);
        for d in decimals {
            canonical::push(d, &mut text);
            ends.push(text.len());
        }
        CanonicalText { text, ends }
    }

    /// How many decimals there are.
    fn len(&self) -> usize {
        self.ends.len()
    }

    /// The text of decimal `i` (empty past the end).
    fn get(&self, i: usize) -> &str {
        let start = i
            .checked_sub(1)
            .and_then(|p| self.ends.get(p))
            .copied()
            .unwrap_or(0);
        self.ends
            .get(i)
            .and_then(|&end| self.text.get(start..end))
            .unwrap_or_default()
    }
}

impl PricingPlugin {
    pub(crate) fn load(loaded: Loaded) -> Result<Self, RuleError> {
        let pre = pricing::PricingRulePre::new(loaded.pre.clone()).map_err(|e| loaded.pre_error(e))?;
        let adjust = export_index(&loaded, "pricing", "adjust")?;
        let plugin = PricingPlugin { loaded, pre, adjust };
        plugin.loaded.check_api_version(|store| {
            let b = plugin.pre.instantiate(&mut *store)?;
            b.kam_rules_meta().call_api_version(store)
        })?;
        Ok(plugin)
    }

    /// Instantiates the plugin in a fresh store without calling it (what every call
    /// does first; exposed for benchmarks).
    pub fn instantiate_only(&self) -> Result<(), RuleError> {
        self.loaded
            .call("instantiate", |store| self.pre.instantiate(store).map(|_| Ok(())))
    }
}

impl PricingRule for PricingPlugin {
    fn name(&self) -> &str {
        &self.loaded.name
    }

    fn adjust(&self, quote: &PricingInput) -> Result<Vec<PriceAdjustment>, RuleError> {
        let text = CanonicalText::of(
            3 * quote.lines.len() + 1,
            quote
                .lines
                .iter()
                .flat_map(|l| [l.quantity, l.billed_quantity, l.amount])
                .chain([quote.total]),
        );
        let decimal = |i| text.get(i);
        let lines: Vec<LineRef<'_>> = quote
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| LineRef {
                activity: &l.activity,
                quantity: decimal(3 * i),
                billed_quantity: decimal(3 * i + 1),
                amount: decimal(3 * i + 2),
            })
            .collect();
        let input = QuoteRef {
            currency: &quote.currency,
            lines: &lines,
            total: decimal(3 * quote.lines.len()),
        };
        let out = self.loaded.call("adjust", |store| {
            let instance = self.loaded.pre.instantiate(&mut *store)?;
            let adjust =
                instance.get_typed_func::<(QuoteRef<'_>,), AdjustResult>(&mut *store, &self.adjust)?;
            let (result,) = adjust.call(&mut *store, (input,))?;
            Ok(result)
        })?;
        let limits = &self.loaded.output;
        if out.len() > limits.adjustments {
            return Err(self.loaded.over_limit(
                "adjust",
                format!("{} adjustments", out.len()),
                limits.adjustments,
                "max_adjustments",
            ));
        }
        if let Some((i, a)) = out
            .iter()
            .enumerate()
            .find(|(_, a)| a.label.len() > limits.label_bytes)
        {
            return Err(self.loaded.over_limit(
                "adjust",
                format!("a label of {} bytes (adjustments[{i}])", a.label.len()),
                limits.label_bytes,
                "max_label_bytes",
            ));
        }
        out.into_iter()
            .enumerate()
            .map(|(i, a)| {
                let amount = from_wit(&a.amount, || format!("adjustments[{i}].amount"))
                    .map_err(|e| bad_return(&self.loaded, "adjust", e))?;
                Ok(PriceAdjustment {
                    label: a.label,
                    amount,
                })
            })
            .collect()
    }
}

// ---------------------------------------------------------------- growth

/// A loaded `growth-rule` plugin.
pub struct GrowthPlugin {
    loaded: Loaded,
    pre: growth::GrowthRulePre<Sandbox>,
    /// `kam:rules/growth#on-periods`, called through [`StateRef`] (see [`QuoteRef`]).
    on_periods: ComponentExportIndex,
    /// Paths whose batch call failed and whose months were re-run.
    reruns: AtomicU64,
}

plugin_common!(GrowthPlugin);

/// `types.growth-state`, borrowing its text (see [`QuoteRef`]).
#[derive(ComponentType, Lower)]
#[component(record)]
struct StateRef<'a> {
    month: u32,
    year: u32,
    #[component(name = "volume-index")]
    volume_index: &'a str,
    #[component(name = "service-lines")]
    service_lines: &'a [LineRevenueRef<'a>],
}

/// `types.service-line-revenue`, borrowed.
#[derive(ComponentType, Lower)]
#[component(record)]
struct LineRevenueRef<'a> {
    #[component(name = "service-line")]
    service_line: &'a str,
    revenue: &'a str,
}

/// `growth.period-error` as returned.
#[derive(ComponentType, Lift)]
#[component(record)]
struct PeriodRefusal {
    index: u32,
    message: String,
}

/// Owned strings, for the reason given at [`AdjustmentOut`].
type OnPeriodsResult = (Result<Vec<Vec<String>>, PeriodRefusal>,);

/// `name` of `interface` in `loaded`'s component, or a load error.
fn export_index(loaded: &Loaded, interface: &str, name: &str) -> Result<ComponentExportIndex, RuleError> {
    let component = loaded.pre.component();
    let qualified = format!("kam:rules/{interface}@{API_VERSION}");
    component
        .get_export_index(None, qualified.as_str())
        .and_then(|i| component.get_export_index(Some(&i), name))
        .ok_or_else(|| loaded.error(RuleErrorKind::Load, format!("exports no `{qualified}#{name}`")))
}

impl GrowthPlugin {
    pub(crate) fn load(loaded: Loaded) -> Result<Self, RuleError> {
        let pre = growth::GrowthRulePre::new(loaded.pre.clone()).map_err(|e| loaded.pre_error(e))?;
        let on_periods = export_index(&loaded, "growth", "on-periods")?;
        let plugin = GrowthPlugin {
            loaded,
            pre,
            on_periods,
            reruns: AtomicU64::new(0),
        };
        plugin.loaded.check_api_version(|store| {
            let b = plugin.pre.instantiate(&mut *store)?;
            b.kam_rules_meta().call_api_version(store)
        })?;
        Ok(plugin)
    }
}

impl GrowthRule for GrowthPlugin {
    fn name(&self) -> &str {
        &self.loaded.name
    }

    fn on_period(&self, state: &GrowthState) -> Result<Vec<Decimal>, RuleError> {
        let input = growth_state(state);
        let out = self.loaded.call("on-period", |store| {
            let b = self.pre.instantiate(&mut *store)?;
            b.kam_rules_growth().call_on_period(store, &input)
        })?;
        self.factors(state, &out, "on-period")
    }

    /// One component call for the whole path. If the batch as a whole fails (a trap, or
    /// the per-call fuel or deadline spent over many months), the months are re-run one
    /// call each, so every month keeps the full per-call budget and a failure names its
    /// month — the same outcome as calling `on-period` month by month.
    fn on_periods(&self, states: &[GrowthState], out: &mut PeriodFactors) -> Result<(), PeriodError> {
        let text = CanonicalText::of(
            states.iter().map(|s| 1 + s.service_lines.len()).sum(),
            states.iter().flat_map(|s| {
                std::iter::once(s.volume_index).chain(s.service_lines.iter().map(|l| l.revenue))
            }),
        );
        let decimal = |i| text.get(i);
        let mut lines = Vec::with_capacity(text.len());
        let mut at = 0;
        for s in states {
            at += 1; // the volume index
            for l in &s.service_lines {
                lines.push(LineRevenueRef {
                    service_line: &l.service_line,
                    revenue: decimal(at),
                });
                at += 1;
            }
        }
        let mut inputs = Vec::with_capacity(states.len());
        let (mut first_text, mut first_line) = (0, 0);
        for s in states {
            let n = s.service_lines.len();
            inputs.push(StateRef {
                month: s.month,
                year: s.year,
                volume_index: decimal(first_text),
                service_lines: lines.get(first_line..first_line + n).unwrap_or_default(),
            });
            first_text += 1 + n;
            first_line += n;
        }
        let batch = self.loaded.call("on-periods", |store| {
            let instance = self.loaded.pre.instantiate(&mut *store)?;
            let call = instance
                .get_typed_func::<(&[StateRef<'_>],), OnPeriodsResult>(&mut *store, &self.on_periods)?;
            // A refusal carries the failing month's index: pass it through untouched.
            let (result,) = call.call(&mut *store, (&inputs,))?;
            Ok(Ok(result))
        });
        let lists = match batch {
            Ok(Ok(lists)) => lists,
            Ok(Err(refusal)) => {
                let index = usize::try_from(refusal.index).unwrap_or(usize::MAX);
                if index >= states.len() {
                    return Err(PeriodError {
                        index: 0,
                        error: bad_return(
                            &self.loaded,
                            "on-periods",
                            format!("an error for state {index} of a batch of {}", states.len()),
                        ),
                    });
                }
                return Err(PeriodError {
                    index,
                    error: self.loaded.error(
                        RuleErrorKind::Failed,
                        format!(
                            "{}.on-periods refused state {index}: {}",
                            self.loaded.kind.interface(),
                            clip(&refusal.message, self.loaded.output.message_bytes)
                        ),
                    ),
                });
            }
            Err(_) => return self.rerun_months(states, out),
        };
        if lists.len() != states.len() {
            return Err(PeriodError {
                index: lists.len().min(states.len().saturating_sub(1)),
                error: bad_return(
                    &self.loaded,
                    "on-periods",
                    format!("{} lists of factors for {} states", lists.len(), states.len()),
                ),
            });
        }
        for (index, (state, list)) in states.iter().zip(&lists).enumerate() {
            let factors = self
                .factors(state, list, "on-periods")
                .map_err(|error| PeriodError { index, error })?;
            out.push(&factors);
        }
        Ok(())
    }
}

impl GrowthPlugin {
    /// How many paths' batch calls failed as a whole and had their months re-run one
    /// call each (within one call's budget per path).
    pub fn reruns(&self) -> u64 {
        self.reruns.load(Ordering::Relaxed)
    }

    /// After a failed batch call: the months one call each, so a failure names its
    /// month, all of them within one call's fuel and wall time — the re-run counts
    /// against the path, so a plugin failing its batches cannot cost a whole budget per
    /// month.
    fn rerun_months(&self, states: &[GrowthState], out: &mut PeriodFactors) -> Result<(), PeriodError> {
        self.reruns.fetch_add(1, Ordering::Relaxed);
        let limits = &self.loaded.shared.limits;
        let mut budget = Budget {
            fuel: limits.fuel,
            deadline: Instant::now() + limits.wall_time,
        };
        for (index, state) in states.iter().enumerate() {
            let input = growth_state(state);
            let factors = self
                .loaded
                .call_in("on-period", Some(&mut budget), |store| {
                    let b = self.pre.instantiate(&mut *store)?;
                    b.kam_rules_growth().call_on_period(store, &input)
                })
                .and_then(|list| self.factors(state, &list, "on-period"))
                .map_err(|mut error| {
                    error
                        .message
                        .push_str(" (in the month-by-month re-run after the batch call failed)");
                    PeriodError { index, error }
                })?;
            out.push(&factors);
        }
        Ok(())
    }

    /// Checks and parses one state's factors.
    fn factors(&self, state: &GrowthState, out: &[String], what: &str) -> Result<Vec<Decimal>, RuleError> {
        check_batch_len(
            &self.loaded.name,
            RuleHost::Plugin,
            out,
            state.service_lines.len(),
        )?;
        out.iter()
            .enumerate()
            .map(|(i, f)| {
                let field = || {
                    format!(
                        "factors[{i}] ({})",
                        state.service_lines.get(i).map_or("?", |s| &s.service_line)
                    )
                };
                let factor = from_wit(f, field).map_err(|e| bad_return(&self.loaded, what, e))?;
                let line = state.service_lines.get(i).map_or("?", |s| &s.service_line);
                check_growth_factor(&self.loaded.name, RuleHost::Plugin, state.month, line, factor).map_err(
                    |e| {
                        self.loaded.error(
                            RuleErrorKind::BadReturn,
                            format!("{}.{what}: {}", self.loaded.kind.interface(), e.message),
                        )
                    },
                )
            })
            .collect()
    }
}

fn growth_state(state: &GrowthState) -> growth::kam::rules::types::GrowthState {
    use growth::kam::rules::types as t;
    t::GrowthState {
        month: state.month,
        year: state.year,
        volume_index: to_wit(state.volume_index),
        service_lines: state
            .service_lines
            .iter()
            .map(|s| t::ServiceLineRevenue {
                service_line: s.service_line.clone(),
                revenue: to_wit(s.revenue),
            })
            .collect(),
    }
}

// ---------------------------------------------------------------- KPI scoring

/// A loaded `kpi-scoring-rule` plugin.
pub struct KpiScoringPlugin {
    loaded: Loaded,
    pre: kpi::KpiScoringRulePre<Sandbox>,
}

plugin_common!(KpiScoringPlugin);

impl KpiScoringPlugin {
    pub(crate) fn load(loaded: Loaded) -> Result<Self, RuleError> {
        let pre = kpi::KpiScoringRulePre::new(loaded.pre.clone()).map_err(|e| loaded.pre_error(e))?;
        let plugin = KpiScoringPlugin { loaded, pre };
        plugin.loaded.check_api_version(|store| {
            let b = plugin.pre.instantiate(&mut *store)?;
            b.kam_rules_meta().call_api_version(store)
        })?;
        Ok(plugin)
    }
}

impl KpiScoringRule for KpiScoringPlugin {
    fn name(&self) -> &str {
        &self.loaded.name
    }

    fn score(&self, measures: &[MeasureInput]) -> Result<Vec<Decimal>, RuleError> {
        use kpi::kam::rules::types as t;
        let input: Vec<t::MeasureInput> = measures
            .iter()
            .map(|m| t::MeasureInput {
                name: m.name.clone(),
                actual: to_wit(m.actual),
                target: to_wit(m.target),
                direction: match m.direction {
                    Direction::HigherIsBetter => t::Direction::HigherIsBetter,
                    Direction::LowerIsBetter => t::Direction::LowerIsBetter,
                },
                red: m.red.map(to_wit),
            })
            .collect();
        let out = self.loaded.call("score", |store| {
            let b = self.pre.instantiate(&mut *store)?;
            b.kam_rules_kpi_scoring().call_score(store, &input)
        })?;
        check_batch_len(&self.loaded.name, RuleHost::Plugin, &out, measures.len())?;
        out.iter()
            .enumerate()
            .map(|(i, s)| {
                let field = || format!("scores[{i}] ({})", measures.get(i).map_or("?", |m| &m.name));
                from_wit(s, field).map_err(|e| bad_return(&self.loaded, "score", e))
            })
            .collect()
    }
}

// ---------------------------------------------------------------- alert

/// A loaded `alert-rule` plugin.
pub struct AlertPlugin {
    loaded: Loaded,
    pre: alert::AlertRulePre<Sandbox>,
}

plugin_common!(AlertPlugin);

impl AlertPlugin {
    pub(crate) fn load(loaded: Loaded) -> Result<Self, RuleError> {
        let pre = alert::AlertRulePre::new(loaded.pre.clone()).map_err(|e| loaded.pre_error(e))?;
        let plugin = AlertPlugin { loaded, pre };
        plugin.loaded.check_api_version(|store| {
            let b = plugin.pre.instantiate(&mut *store)?;
            b.kam_rules_meta().call_api_version(store)
        })?;
        Ok(plugin)
    }
}

impl AlertRule for AlertPlugin {
    fn name(&self) -> &str {
        &self.loaded.name
    }

    fn alert(&self, inputs: &[AlertInput]) -> Result<Vec<AlertDecision>, RuleError> {
        use alert::kam::rules::types as t;
        let input: Vec<t::AlertInput> = inputs
            .iter()
            .map(|a| t::AlertInput {
                kpi: a.kpi.clone(),
                node: a.node.clone(),
                direction: match a.direction {
                    Direction::HigherIsBetter => t::Direction::HigherIsBetter,
                    Direction::LowerIsBetter => t::Direction::LowerIsBetter,
                },
                target: to_wit(a.target),
                history: a.history.iter().copied().map(to_wit).collect(),
            })
            .collect();
        let out = self.loaded.call("decide", |store| {
            let b = self.pre.instantiate(&mut *store)?;
            b.kam_rules_alert().call_decide(store, &input)
        })?;
        check_batch_len(&self.loaded.name, RuleHost::Plugin, &out, inputs.len())?;
        let limits = &self.loaded.output;
        let raised = out.iter().filter(|d| d.raise).count();
        if raised > limits.alerts {
            return Err(self.loaded.over_limit(
                "decide",
                format!("{raised} alerts"),
                limits.alerts,
                "max_alerts",
            ));
        }
        if let Some((i, d)) = out
            .iter()
            .enumerate()
            .find(|(_, d)| d.message.len() > limits.message_bytes)
        {
            return Err(self.loaded.over_limit(
                "decide",
                format!("a message of {} bytes (decision {i})", d.message.len()),
                limits.message_bytes,
                "max_message_bytes",
            ));
        }
        Ok(out
            .into_iter()
            .map(|d| AlertDecision {
                raise: d.raise,
                message: d.message,
            })
            .collect())
    }
}
