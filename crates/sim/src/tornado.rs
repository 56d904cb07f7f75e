//! Tornado sensitivity: which inputs move the P50 of horizon revenue most.
//!
//! Each key input is set to a low and a high value in turn (everything else unchanged)
//! and the scenario rerun with the same seed and path count, so every variant sees the
//! same random numbers (common random numbers: deal values, wins, slippage, loss months
//! and volume shocks are drawn the same way) and the swing reflects the input, not noise.
//! Bars are sorted by swing, largest first.
//!
//! | input | low | high |
//! |---|---|---|
//! | win probability | × 0.8 | × 1.2 (capped at 1) |
//! | deal values | × 0.9 | × 1.1 |
//! | start slippage | none | planned + 3 months |
//! | ramp-up months | × 0.5 | × 2 |
//! | base-book loss hazard | × 0.5 | × 1.5 (capped at 1) |
//! | price escalation | − 1 point | + 1 point |
//! | volume index drift | − 0.25 % per month | + 0.25 % per month |
//! | volume index volatility | × 0.5 | × 1.5 |
//! | delivery risk (only with projects) | as planned | every project task's pessimistic duration × 2 |
//!
//! Delivery risk's low case is the scenario as given (its P50 is the base's, not rerun):
//! the go-lives already carry the planned uncertainty, and the bar shows what a
//! stretched tail — suppliers, IT and customer sign-offs slipping as they do — costs.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::engine::{RunOptions, run};
use crate::scenario::{Scenario, Slippage};

/// One input's bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TornadoBar {
    /// The input.
    pub input: String,
    /// What "low" means.
    pub low: String,
    /// What "high" means.
    pub high: String,
    /// P50 of horizon revenue with the input low.
    pub p50_low: Decimal,
    /// P50 of horizon revenue with the input high.
    pub p50_high: Decimal,
    /// `|p50_high − p50_low|`.
    pub swing: Decimal,
}

/// A tornado chart's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tornado {
    /// The metric.
    pub metric: String,
    /// Paths per variant.
    pub paths: u64,
    /// The seed.
    pub seed: u64,
    /// The metric for the scenario as given.
    pub base_p50: Decimal,
    /// Bars, largest swing first.
    pub bars: Vec<TornadoBar>,
}

type Tweak = fn(&mut Scenario, bool) -> Result<(), SimError>;

fn mul(x: Decimal, by: Decimal) -> Result<Decimal, SimError> {
    x.checked_mul(by)
        .ok_or_else(|| SimError::Numeric("sensitivity variant overflows".into()))
}

fn tweak_probability(s: &mut Scenario, high: bool) -> Result<(), SimError> {
    let by = if high {
        Decimal::new(12, 1)
    } else {
        Decimal::new(8, 1)
    };
    for o in &mut s.opportunities {
        o.win_probability = mul(o.win_probability, by)?.min(Decimal::ONE);
    }
    Ok(())
}

fn tweak_value(s: &mut Scenario, high: bool) -> Result<(), SimError> {
    let by = if high {
        Decimal::new(11, 1)
    } else {
        Decimal::new(9, 1)
    };
    for o in &mut s.opportunities {
        o.value = o.value.scaled(by)?;
    }
    Ok(())
}

fn tweak_slippage(s: &mut Scenario, high: bool) -> Result<(), SimError> {
    for o in &mut s.opportunities {
        if high {
            o.start_month = o.start_month.saturating_add(3);
        } else {
            o.slippage = Slippage::None;
        }
    }
    Ok(())
}

fn tweak_ramp(s: &mut Scenario, high: bool) -> Result<(), SimError> {
    for o in &mut s.opportunities {
        o.ramp_up_months = if high {
            o.ramp_up_months.saturating_mul(2)
        } else {
            o.ramp_up_months / 2
        };
    }
    Ok(())
}

fn tweak_hazard(s: &mut Scenario, high: bool) -> Result<(), SimError> {
    let by = if high {
        Decimal::new(15, 1)
    } else {
        Decimal::new(5, 1)
    };
    for b in &mut s.base_book {
        b.monthly_loss_hazard = mul(b.monthly_loss_hazard, by)?.min(Decimal::ONE);
    }
    Ok(())
}

fn tweak_escalation(s: &mut Scenario, high: bool) -> Result<(), SimError> {
    let d = Decimal::new(1, 2);
    for b in &mut s.base_book {
        b.annual_escalation = if high {
            b.annual_escalation + d
        } else {
            b.annual_escalation - d
        };
    }
    Ok(())
}

fn tweak_drift(s: &mut Scenario, high: bool) -> Result<(), SimError> {
    let d = Decimal::new(25, 4);
    let v = &mut s.volume_index;
    v.drift = if high { v.drift + d } else { v.drift - d };
    Ok(())
}

fn tweak_volatility(s: &mut Scenario, high: bool) -> Result<(), SimError> {
    let by = if high {
        Decimal::new(15, 1)
    } else {
        Decimal::new(5, 1)
    };
    s.volume_index.volatility = mul(s.volume_index.volatility, by)?;
    Ok(())
}

const INPUTS: [(&str, &str, &str, Tweak); 8] = [
    ("win probability", "x0.8", "x1.2 (max 1)", tweak_probability),
    ("deal values", "x0.9", "x1.1", tweak_value),
    ("start slippage", "none", "+3 months", tweak_slippage),
    ("ramp-up months", "x0.5", "x2", tweak_ramp),
    ("base-book loss hazard", "x0.5", "x1.5 (max 1)", tweak_hazard),
    ("price escalation", "-1 pt", "+1 pt", tweak_escalation),
    (
        "volume index drift",
        "-0.25 %/month",
        "+0.25 %/month",
        tweak_drift,
    ),
    ("volume index volatility", "x0.5", "x1.5", tweak_volatility),
];

/// Multiplies the pessimistic duration of every task of every project by `by` (≥ 1
/// keeps `most_likely ≤ pessimistic`).
///
/// # Errors
/// Overflow.
pub fn stretch_pessimistic(s: &mut Scenario, by: Decimal) -> Result<(), SimError> {
    for p in &mut s.projects {
        for t in &mut p.tasks {
            t.pessimistic = mul(t.pessimistic, by)?;
        }
    }
    Ok(())
}

/// The delivery-risk bar's high case.
const DELIVERY_STRETCH: Decimal = Decimal::from_parts(2, 0, 0, false, 0);

fn p50(s: &Scenario, options: &RunOptions) -> Result<Decimal, SimError> {
    Ok(run(s, options)?.results()?.horizon_revenue.p50)
}

/// The number of runs a tornado makes without projects: the base and a low and a high
/// variant per input (with projects, one more: [`tornado_runs`]).
pub const TORNADO_RUNS: u64 = 1 + 2 * INPUTS.len() as u64;

/// The number of runs [`tornado`] makes for `scenario`.
pub fn tornado_runs(scenario: &Scenario) -> u64 {
    TORNADO_RUNS + u64::from(!scenario.projects.is_empty())
}

/// Runs the base scenario and a low and a high variant per input ([`tornado_runs`] runs
/// of `options.paths` paths; the shard option is ignored). The progress callback, if
/// any, sees the paths of all runs together: `(done so far, runs × paths)`.
pub fn tornado(scenario: &Scenario, options: &RunOptions) -> Result<Tornado, SimError> {
    let mut opts = options.clone();
    opts.shard = None;
    let total = options.paths.saturating_mul(tornado_runs(scenario));
    let mut runs = 0u64;
    let mut p50_of = |s: &Scenario| {
        let mut o = opts.clone();
        if let Some(progress) = &options.progress {
            let progress = std::sync::Arc::clone(progress);
            let before = options.paths.saturating_mul(runs);
            o.progress = Some(std::sync::Arc::new(move |done, _| {
                progress(before.saturating_add(done), total);
            }));
        }
        runs += 1;
        p50(s, &o)
    };
    let base_p50 = p50_of(scenario)?;
    let mut bars = Vec::with_capacity(INPUTS.len());
    for (input, low, high, tweak) in INPUTS {
        let mut lo = scenario.clone();
        tweak(&mut lo, false)?;
        let mut hi = scenario.clone();
        tweak(&mut hi, true)?;
        let (p50_low, p50_high) = (p50_of(&lo)?, p50_of(&hi)?);
        bars.push(TornadoBar {
            input: input.into(),
            low: low.into(),
            high: high.into(),
            p50_low,
            p50_high,
            swing: (p50_high - p50_low).abs(),
        });
    }
    if !scenario.projects.is_empty() {
        let mut hi = scenario.clone();
        stretch_pessimistic(&mut hi, DELIVERY_STRETCH)?;
        let p50_high = p50_of(&hi)?;
        bars.push(TornadoBar {
            input: "delivery risk".into(),
            low: "as planned".into(),
            high: "pessimistic x2".into(),
            p50_low: base_p50,
            p50_high,
            swing: (p50_high - base_p50).abs(),
        });
    }
    bars.sort_by(|a, b| b.swing.cmp(&a.swing).then_with(|| a.input.cmp(&b.input)));
    Ok(Tornado {
        metric: "P50 of horizon revenue".into(),
        paths: opts.paths,
        seed: opts.seed,
        base_p50,
        bars,
    })
}

impl Tornado {
    /// Pretty JSON, fields in declaration order.
    pub fn to_json(&self) -> Result<String, SimError> {
        serde_json::to_string_pretty(self).map_err(|e| SimError::Json(e.to_string()))
    }
}

impl fmt::Display for Tornado {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Tornado: {} (base {:.0}; {} paths, seed {})",
            self.metric, self.base_p50, self.paths, self.seed
        )?;
        for b in &self.bars {
            writeln!(
                f,
                "  {:<26} swing {:>12.0}   {:<22} {:>13.0}   {:<22} {:>13.0}",
                b.input,
                b.swing,
                format!("low ({})", b.low),
                b.p50_low,
                format!("high ({})", b.high),
                b.p50_high
            )?;
        }
        Ok(())
    }
}
