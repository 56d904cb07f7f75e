//! The Monte Carlo engine: compiles a scenario to `f64` parameters, simulates paths in
//! parallel (rayon, a local pool with the requested thread count) and streams each
//! chunk's per-path rows and exact sums into a [`Summary`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kam_core::rules::{
    GrowthRule, GrowthState, PeriodFactors, RuleHost, ServiceLineRevenue, check_growth_factor,
};
use rand::{Rng, SeedableRng, TryRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::SimError;
use crate::delivery::{GoLiveScratch, GoLives};
use crate::dist::{Sampler, unit_f64};
use crate::scenario::{Scenario, Slippage};
use crate::stop::{POLL_EVERY, Stop};
use crate::summary::{Summary, exact_pipeline};

/// A progress callback: `(paths done, paths in this run)`; called from worker threads.
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// Paths simulated per work item (the unit of parallelism and of progress reports).
const CHUNK: u64 = 512;

/// How to run a scenario.
#[derive(Clone)]
pub struct RunOptions {
    /// Paths in the whole run (all shards together), ≥ 1.
    pub paths: u64,
    /// The random seed.
    pub seed: u64,
    /// Worker threads; `None` uses rayon's default (one per core).
    pub threads: Option<usize>,
    /// Run only this shard of the paths.
    pub shard: Option<Shard>,
    /// A growth rule applied every month of every path.
    pub rule: Option<Arc<dyn GrowthRule>>,
    /// Progress reports.
    pub progress: Option<ProgressFn>,
    /// When to stop early (Ctrl-C, a deadline); polled between paths.
    pub stop: Stop,
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("paths", &self.paths)
            .field("seed", &self.seed)
            .field("threads", &self.threads)
            .field("shard", &self.shard)
            .field("rule", &self.rule.as_ref().map(|r| r.name().to_owned()))
            .field("progress", &self.progress.is_some())
            .field("stop", &self.stop)
            .finish()
    }
}

impl RunOptions {
    /// `paths` paths from `seed`, default threads, no shard, no rule.
    pub fn new(paths: u64, seed: u64) -> Self {
        RunOptions {
            paths,
            seed,
            threads: None,
            shard: None,
            rule: None,
            progress: None,
            stop: Stop::never(),
        }
    }
    /// With a thread count.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }
    /// With a shard.
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = Some(shard);
        self
    }
    /// With a growth rule.
    pub fn rule(mut self, rule: Arc<dyn GrowthRule>) -> Self {
        self.rule = Some(rule);
        self
    }
    /// With a progress callback.
    pub fn progress(mut self, progress: ProgressFn) -> Self {
        self.progress = Some(progress);
        self
    }
    /// Stopping early when `stop` says so ([`SimError::Stopped`]).
    pub fn stop(mut self, stop: Stop) -> Self {
        self.stop = stop;
        self
    }
}

/// Shard `index` of `count` (1-based, written `index/count`): paths
/// `⌊(index−1)·P/count⌋ .. ⌊index·P/count⌋` of a `P`-path run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// A checked shard.
    pub fn new(index: u32, count: u32) -> Result<Self, SimError> {
        if count == 0 || index == 0 || index > count {
            return Err(SimError::Options(format!(
                "shard {index}/{count}: need 1 ≤ index ≤ count"
            )));
        }
        Ok(Shard { index, count })
    }

    /// The half-open path range of this shard in a run of `paths` paths.
    pub fn range(&self, paths: u64) -> (u64, u64) {
        let at = |i: u32| ((u128::from(paths) * u128::from(i)) / u128::from(self.count)) as u64;
        (at(self.index - 1), at(self.index))
    }
}

/// The batch engines whose array jobs [`Shard::from_env`] reads: the variable holding the
/// 0-based task index (Slurm's is relative to `SLURM_ARRAY_TASK_MIN`), and the one
/// holding the task count, if the engine sets one.
const ENGINES: [(&str, &str, Option<&str>); 3] = [
    ("Kubernetes Indexed Job", "JOB_COMPLETION_INDEX", None),
    (
        "Slurm job array",
        "SLURM_ARRAY_TASK_ID",
        Some("SLURM_ARRAY_TASK_COUNT"),
    ),
    (
        "AWS Batch array job",
        "AWS_BATCH_JOB_ARRAY_INDEX",
        Some("AWS_BATCH_JOB_ARRAY_SIZE"),
    ),
];

impl Shard {
    /// This process's shard when a batch engine runs it as one task of an array job:
    /// the index from `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job),
    /// `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN` (Slurm) or `AWS_BATCH_JOB_ARRAY_INDEX`
    /// (AWS Batch), all 0-based; the count from `count` (the CLI's `--shards`), else
    /// `SLURM_ARRAY_TASK_COUNT` or `AWS_BATCH_JOB_ARRAY_SIZE`. `var` reads a variable
    /// (the process environment in the CLI), so this is testable without one.
    ///
    /// # Errors
    /// No engine's variable set, variables of two engines that disagree, a value that is
    /// not a whole number, no count, a count that disagrees with the engine's, or an
    /// index outside the count — each naming the variables.
    ///
    /// ```
    /// use kam_sim::Shard;
    /// let env = |k: &str| match k {
    ///     "SLURM_ARRAY_TASK_ID" => Some("12".to_string()),
    ///     "SLURM_ARRAY_TASK_MIN" => Some("10".to_string()),
    ///     "SLURM_ARRAY_TASK_COUNT" => Some("4".to_string()),
    ///     _ => None,
    /// };
    /// assert_eq!(Shard::from_env(env, None)?, Shard::new(3, 4)?);
    /// # Ok::<(), kam_sim::SimError>(())
    /// ```
    pub fn from_env(var: impl Fn(&str) -> Option<String>, count: Option<u32>) -> Result<Shard, SimError> {
        let bad = |m: String| SimError::Options(format!("--shard env: {m}"));
        let number = |name: &str| -> Result<Option<u64>, SimError> {
            match var(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| bad(format!("{name}={v:?} is not a whole number ≥ 0"))),
            }
        };
        // The engine, its 0-based index, and its count variable with its value.
        type Found<'a> = (&'a str, u64, Option<(&'a str, u64)>);
        let mut found: Option<Found<'_>> = None;
        for (engine, index_var, count_var) in ENGINES {
            let Some(raw) = number(index_var)? else {
                continue;
            };
            let index = if index_var == "SLURM_ARRAY_TASK_ID" {
                let min = number("SLURM_ARRAY_TASK_MIN")?.ok_or_else(|| {
                    bad("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not (run under sbatch --array)".into())
                })?;
                raw.checked_sub(min).ok_or_else(|| {
                    bad(format!(
                        "SLURM_ARRAY_TASK_ID={raw} is below SLURM_ARRAY_TASK_MIN={min}"
                    ))
                })?
            } else {
                raw
            };
            let engine_count = match count_var {
                Some(c) => number(c)?.map(|n| (c, n)),
                None => None,
            };
            if let Some((first, first_index, _)) = found {
                if first_index != index {
                    return Err(bad(format!(
                        "the {first} and the {engine} variables give different indexes ({first_index} and {index})"
                    )));
                }
                continue;
            }
            found = Some((engine, index, engine_count));
        }
        let Some((engine, index, engine_count)) = found else {
            return Err(bad(
                "no array-job index: set JOB_COMPLETION_INDEX (Kubernetes Indexed Job), SLURM_ARRAY_TASK_ID \
                 (Slurm --array) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch)"
                    .into(),
            ));
        };
        let total = match (count, engine_count) {
            (Some(n), Some((name, m))) if u64::from(n) != m => {
                return Err(bad(format!("--shards {n} but {name}={m}")));
            }
            (Some(n), _) => u64::from(n),
            (None, Some((_, m))) => m,
            (None, None) => {
                return Err(bad(format!(
                    "the {engine} gives no task count: pass --shards N (the job's completions)"
                )));
            }
        };
        if index >= total {
            return Err(bad(format!(
                "index {index} from the {engine} is not below the count {total}"
            )));
        }
        let to_u32 = |x: u64| u32::try_from(x).map_err(|_| bad(format!("{x} shards are too many")));
        Shard::new(to_u32(index)? + 1, to_u32(total)?)
    }
}

impl FromStr for Shard {
    type Err = SimError;
    fn from_str(s: &str) -> Result<Self, SimError> {
        let bad = || SimError::Options(format!("shard {s:?}: expected i/n, e.g. 2/4"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        Shard::new(
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        )
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

// ---------------------------------------------------------------- compiled model

fn f(x: Decimal) -> f64 {
    x.to_f64().unwrap_or(0.0)
}

struct BaseC {
    cell: usize,
    monthly: f64,
    /// `ln(1 − hazard)`: 0 never lost, −∞ lost after the first month.
    ln_keep: f64,
    /// `(1 + escalation)^(y−1)` per contract year.
    esc: Vec<f64>,
    exposure: f64,
    margin: f64,
}

enum SlipC {
    None,
    Fixed(u32),
    Uniform { min: u32, span: u32 },
    Discrete { cum: Vec<f64>, months: Vec<u32> },
}

impl SlipC {
    fn months(&self, u: f64) -> u32 {
        match self {
            SlipC::None => 0,
            SlipC::Fixed(m) => *m,
            SlipC::Uniform { min, span } => {
                let k = (u * f64::from(*span)) as u32; // u < 1, so k < span
                min + k.min(span.saturating_sub(1))
            }
            SlipC::Discrete { cum, months } => {
                let i = cum
                    .iter()
                    .position(|&c| u < c)
                    .unwrap_or(months.len().saturating_sub(1));
                months.get(i).copied().unwrap_or(0)
            }
        }
    }
}

struct OppC {
    cell: usize,
    p: f64,
    group: Option<usize>,
    sampler: Sampler,
    start: u32,
    slip: SlipC,
    ramp: u32,
    margin: f64,
    exposure: f64,
    /// The project whose go-live starts this deal (instead of `start` and `slip`).
    project: Option<usize>,
}

pub(crate) struct Model {
    months: usize,
    years: usize,
    n_sl: usize,
    n_reg: usize,
    drift: f64,
    vol: f64,
    step: Vec<f64>,
    base: Vec<BaseC>,
    opps: Vec<OppC>,
    n_groups: usize,
    sl_names: Vec<String>,
    /// The projects' go-lives, when the scenario links deals to projects.
    go_lives: Option<GoLives>,
    /// The delivery draws' generator: its stream `i` is path `i`'s, apart from the
    /// path's own stream, so linking a project shifts no other draw.
    delivery_proto: ChaCha8Rng,
}

/// Mixed into the seed of the delivery draws ("kam-delv").
const DELIVERY_SEED: u64 = 0x6B61_6D2D_6465_6C76;

impl Model {
    pub(crate) fn compile(s: &Scenario, seed: u64) -> Result<Model, SimError> {
        s.validate()?;
        let months = s.horizon_months as usize;
        let years = s.years() as usize;
        let n_reg = s.regions.len();
        let idx = |list: &[String], name: &str| list.iter().position(|x| x == name).unwrap_or(0);
        let cell = |sl: &str, rg: &str| idx(&s.service_lines, sl) * n_reg + idx(&s.regions, rg);

        let mut step = vec![1.0; months];
        for shock in &s.volume_index.shocks {
            let factor = 1.0 + f(shock.change);
            for v in step.iter_mut().skip(shock.month as usize) {
                *v *= factor;
            }
        }
        let base = s
            .base_book
            .iter()
            .map(|b| {
                let h = f(b.monthly_loss_hazard);
                let e = 1.0 + f(b.annual_escalation);
                BaseC {
                    cell: cell(&b.service_line, &b.region),
                    monthly: f(b.monthly_revenue),
                    ln_keep: (1.0 - h).ln(),
                    esc: (0..years).map(|y| e.powi(y as i32)).collect(),
                    exposure: f(b.volume_exposure),
                    margin: f(b.margin_pct) / 100.0,
                }
            })
            .collect();
        let group_of = |name: &str| {
            s.correlation_groups
                .iter()
                .position(|g| g.deals.iter().any(|d| d == name))
        };
        let mut opps = Vec::with_capacity(s.opportunities.len());
        for o in &s.opportunities {
            let slip = match &o.slippage {
                Slippage::None => SlipC::None,
                Slippage::Fixed { months } => SlipC::Fixed(*months),
                Slippage::Uniform { min, max } => SlipC::Uniform {
                    min: *min,
                    span: max - min + 1,
                },
                Slippage::Discrete {
                    months,
                    probabilities,
                } => {
                    let mut acc = 0.0;
                    let cum = probabilities
                        .iter()
                        .map(|p| {
                            acc += f(*p);
                            acc
                        })
                        .collect();
                    SlipC::Discrete {
                        cum,
                        months: months.clone(),
                    }
                }
            };
            opps.push(OppC {
                project: s.projects.iter().position(|p| p.deal == o.name),
                cell: cell(&o.service_line, &o.region),
                p: f(o.win_probability),
                group: group_of(&o.name),
                sampler: o.value.sampler()?,
                start: o.start_month,
                slip,
                ramp: o.ramp_up_months,
                margin: f(o.margin_pct) / 100.0,
                exposure: f(o.volume_exposure),
            });
        }
        Ok(Model {
            months,
            years,
            n_sl: s.service_lines.len(),
            n_reg,
            drift: f(s.volume_index.drift),
            vol: f(s.volume_index.volatility),
            step,
            base,
            opps,
            n_groups: s.correlation_groups.len(),
            sl_names: s.service_lines.clone(),
            go_lives: if s.projects.is_empty() {
                None
            } else {
                Some(GoLives::new(&s.projects)?)
            },
            delivery_proto: ChaCha8Rng::seed_from_u64(seed ^ DELIVERY_SEED),
        })
    }

    /// Values stored per path: annual revenue, annual margin, monthly revenue, won value.
    pub(crate) fn stride(&self) -> usize {
        2 * self.years + self.months + 1
    }
}

/// SplitMix64, seeded from the path's ChaCha stream once per deal, so a deal's value
/// draws never shift another deal's (common random numbers across what-if variants).
struct SplitMix(u64);

impl TryRng for SplitMix {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let b = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(b.get(..chunk.len()).unwrap_or(&[]));
        }
        Ok(())
    }
}

/// The output of one chunk of paths.
pub(crate) struct ChunkOut {
    pub(crate) rows: Vec<i64>,
    /// Revenue and margin by service line and year, then by region and year (cents).
    pub(crate) sums: Vec<i128>,
}

/// Revenue `level × (1 + exposure·(V_t − 1))` in one cell for months `lo..hi`: with
/// `exposure ≤ 1` the factor is never clamped at 0 (V_t > 0), so the revenue is linear
/// in `V_t` — `a + b·V_t` with `a = level·(1 − exposure)`, `b = level·exposure` — and a
/// whole segment is four additions to difference arrays instead of a loop over months.
struct Segment {
    cell: usize,
    lo: usize,
    hi: usize,
    level: f64,
    exposure: f64,
    margin: f64,
}

impl Segment {
    fn add(&self, lin: &mut [f64], cells: usize) {
        let a = self.level * (1.0 - self.exposure);
        let b = self.level * self.exposure;
        let coef = [a, b, a * self.margin, b * self.margin];
        let (i, j) = (
            4 * (self.lo * cells + self.cell),
            4 * (self.hi * cells + self.cell),
        );
        for (k, x) in coef.iter().enumerate() {
            lin[i + k] += x;
            lin[j + k] -= x;
        }
    }
}

/// Per-worker scratch, reused across the paths of a chunk.
struct Scratch {
    volume: Vec<f64>,
    rev: Vec<f64>,
    mar: Vec<f64>,
    group_u: Vec<f64>,
    by_sl: Vec<f64>,
    by_reg: Vec<f64>,
    /// Revenue then margin per cell, for each year.
    year_cells: Vec<f64>,
    /// Difference arrays of linear segments, `(months + 1) × cells × [a, b, am, bm]`.
    lin: Vec<f64>,
    /// One growth state per month (only when a rule is set), refilled for every path.
    states: Vec<GrowthState>,
    /// The rule's factors for the current path.
    factors: PeriodFactors,
    /// The delivery draws' scratch and each project's go-live month on this path.
    go_live: Option<(GoLiveScratch, Vec<u32>)>,
}

fn cents(x: f64) -> Result<i64, SimError> {
    let c = (x * 100.0).round();
    if !c.is_finite() || c.abs() > 9.0e18 {
        return Err(SimError::Numeric(format!("per-path amount {x} is out of range")));
    }
    Ok(c as i64)
}

impl Model {
    fn scratch(&self, rule: bool) -> Scratch {
        let cells = self.n_sl * self.n_reg;
        Scratch {
            volume: vec![0.0; self.months],
            rev: vec![0.0; self.months * cells],
            mar: vec![0.0; self.months * cells],
            group_u: vec![0.0; self.n_groups],
            by_sl: vec![0.0; 2 * self.n_sl * self.years],
            by_reg: vec![0.0; 2 * self.n_reg * self.years],
            lin: vec![0.0; 4 * (self.months + 1) * cells],
            year_cells: vec![0.0; 2 * self.years * cells],
            states: if rule {
                (0..self.months)
                    .map(|t| GrowthState {
                        month: t as u32,
                        year: t as u32 / 12 + 1,
                        volume_index: Decimal::ONE,
                        service_lines: self
                            .sl_names
                            .iter()
                            .map(|n| ServiceLineRevenue {
                                service_line: n.clone(),
                                revenue: Decimal::ZERO,
                            })
                            .collect(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            factors: PeriodFactors::new(),
            go_live: self.go_lives.as_ref().map(|g| (g.scratch(), vec![0; g.len()])),
        }
    }

    fn sums_len(&self) -> usize {
        2 * (self.n_sl + self.n_reg) * self.years
    }

    /// Simulates one path into `row` (length [`Model::stride`]) and adds its
    /// contributions to `sums`.
    fn path(
        &self,
        proto: &ChaCha8Rng,
        path: u64,
        rule: Option<&dyn GrowthRule>,
        sc: &mut Scratch,
        row: &mut [i64],
        sums: &mut [i128],
    ) -> Result<(), SimError> {
        let mut rng = proto.clone();
        rng.set_stream(path);
        let (m, cells, n_reg) = (self.months, self.n_sl * self.n_reg, self.n_reg);

        let mut log_v = 0.0;
        for (t, v) in sc.volume.iter_mut().enumerate() {
            let z: f64 = StandardNormal.sample(&mut rng);
            log_v += self.drift + self.vol * z;
            *v = log_v.exp() * self.step.get(t).copied().unwrap_or(1.0);
        }
        sc.rev.fill(0.0);
        sc.mar.fill(0.0);

        sc.lin.fill(0.0);
        for b in &self.base {
            let u = 1.0 - unit_f64(rng.next_u64()); // (0, 1]
            let alive = if b.ln_keep == 0.0 {
                m
            } else {
                1usize.saturating_add((u.ln() / b.ln_keep).floor() as usize)
            }
            .min(m);
            if b.exposure <= 1.0 {
                for (y, esc) in b.esc.iter().enumerate() {
                    let lo = 12 * y;
                    if lo >= alive {
                        break;
                    }
                    let seg = Segment {
                        cell: b.cell,
                        lo,
                        hi: (lo + 12).min(alive),
                        level: b.monthly * esc,
                        exposure: b.exposure,
                        margin: b.margin,
                    };
                    seg.add(&mut sc.lin, cells);
                }
            } else {
                for t in 0..alive {
                    let vf = (1.0 + b.exposure * (sc.volume[t] - 1.0)).max(0.0);
                    let r = b.monthly * b.esc[t / 12] * vf;
                    let i = t * cells + b.cell;
                    sc.rev[i] += r;
                    sc.mar[i] += r * b.margin;
                }
            }
        }

        for g in sc.group_u.iter_mut() {
            *g = unit_f64(rng.next_u64());
        }
        if let (Some(go_lives), Some((gsc, months))) = (&self.go_lives, &mut sc.go_live) {
            let mut drng = self.delivery_proto.clone();
            drng.set_stream(path);
            go_lives.draw(&mut drng, gsc, months);
        }
        let mut won_value = 0.0;
        for o in &self.opps {
            let own = unit_f64(rng.next_u64());
            let su = unit_f64(rng.next_u64());
            let value_seed = rng.next_u64();
            let u = o.group.and_then(|g| sc.group_u.get(g).copied()).unwrap_or(own);
            if u >= o.p {
                continue;
            }
            let value = o.sampler.sample(&mut SplitMix(value_seed));
            won_value += value;
            let start = match (o.project, &sc.go_live) {
                (Some(p), Some((_, months))) => months.get(p).copied().unwrap_or(o.start) as usize,
                _ => o.start.saturating_add(o.slip.months(su)) as usize,
            };
            let monthly = value / 12.0;
            let ramp = f64::from(o.ramp);
            // Ramp-up months one by one; from full rate on, one linear segment.
            let full = start.saturating_add((o.ramp as usize).saturating_sub(1)).min(m);
            let direct_to = if o.exposure <= 1.0 { full } else { m };
            for t in start..direct_to {
                let k = (t - start + 1) as f64;
                let rf = if k >= ramp { 1.0 } else { k / ramp };
                let vf = (1.0 + o.exposure * (sc.volume[t] - 1.0)).max(0.0);
                let r = monthly * rf * vf;
                let i = t * cells + o.cell;
                sc.rev[i] += r;
                sc.mar[i] += r * o.margin;
            }
            if direct_to < m {
                let seg = Segment {
                    cell: o.cell,
                    lo: direct_to.max(start),
                    hi: m,
                    level: monthly,
                    exposure: o.exposure,
                    margin: o.margin,
                };
                seg.add(&mut sc.lin, cells);
            }
        }

        // Resolve the linear segments: prefix sums over months of the four difference
        // arrays, then revenue += a + b·V_t and margin += am + bm·V_t per cell.
        let w = 4 * cells;
        for t in 1..m {
            let (prev, cur) = sc.lin.split_at_mut(t * w);
            for (c, p) in cur[..w].iter_mut().zip(&prev[(t - 1) * w..]) {
                *c += p;
            }
        }
        for t in 0..m {
            let v = sc.volume[t];
            let d = &sc.lin[t * w..(t + 1) * w];
            let rev = &mut sc.rev[t * cells..(t + 1) * cells];
            for (c, r) in rev.iter_mut().enumerate() {
                *r += d[4 * c] + d[4 * c + 1] * v;
            }
            let mar = &mut sc.mar[t * cells..(t + 1) * cells];
            for (c, r) in mar.iter_mut().enumerate() {
                *r += d[4 * c + 2] + d[4 * c + 3] * v;
            }
        }

        if let Some(rule) = rule {
            // A month's factors scale only that month, so all months' states are built
            // from the unscaled revenue first and the rule sees the path as one batch.
            for (t, state) in sc.states.iter_mut().enumerate() {
                state.volume_index = Decimal::from_i128_with_scale((sc.volume[t] * 1e6).round() as i128, 6);
                for (s, slr) in state.service_lines.iter_mut().enumerate() {
                    let base = t * cells + s * n_reg;
                    let tot: f64 = sc.rev[base..base + n_reg].iter().sum();
                    slr.revenue = Decimal::from_i128_with_scale(i128::from(cents(tot)?), 2);
                }
            }
            sc.factors.clear();
            rule.on_periods(&sc.states, &mut sc.factors)
                .map_err(|e| SimError::Rule {
                    path,
                    month: sc.states.get(e.index).map_or(e.index as u32, |s| s.month),
                    source: e.error,
                })?;
            if sc.factors.len() > m {
                return Err(SimError::RuleBatch {
                    rule: rule.name().to_owned(),
                    path,
                    got: sc.factors.len(),
                    expected: m,
                });
            }
            for t in 0..m {
                let month = t as u32;
                // A month without factors is reported as zero factors for that month.
                let factors = sc.factors.get(t).unwrap_or(&[]);
                if factors.len() != self.n_sl {
                    return Err(SimError::RuleShape {
                        rule: rule.name().to_owned(),
                        path,
                        month,
                        got: factors.len(),
                        expected: self.n_sl,
                    });
                }
                for (s, factor) in factors.iter().enumerate() {
                    if *factor == Decimal::ONE {
                        continue;
                    }
                    // The hosts check their own factors; this holds for any rule (and the
                    // product of several).
                    let line = self.sl_names.get(s).map_or("?", String::as_str);
                    check_growth_factor(rule.name(), RuleHost::Native, month, line, *factor)
                        .map_err(|source| SimError::Rule { path, month, source })?;
                    let fv = factor.to_f64().unwrap_or(1.0);
                    let base = t * cells + s * n_reg;
                    for i in base..base + n_reg {
                        sc.rev[i] *= fv;
                        sc.mar[i] *= fv;
                    }
                }
            }
        }

        // Roll up: monthly totals, then per-year cell sums (contiguous, vectorizable),
        // then annual totals and service-line and region sums from those.
        let (y_n, n_sl) = (self.years, self.n_sl);
        let mut annual = [0.0f64; 2 * 100];
        sc.year_cells.fill(0.0);
        for t in 0..m {
            let y = t / 12;
            let rev = &sc.rev[t * cells..(t + 1) * cells];
            let mar = &sc.mar[t * cells..(t + 1) * cells];
            let month_rev: f64 = rev.iter().sum();
            annual[y] += month_rev;
            row[2 * y_n + t] = cents(month_rev)?;
            let (yr, ym) = sc.year_cells[2 * y * cells..(2 * y + 2) * cells].split_at_mut(cells);
            for (acc, v) in yr.iter_mut().zip(rev) {
                *acc += v;
            }
            for (acc, v) in ym.iter_mut().zip(mar) {
                *acc += v;
            }
        }
        sc.by_sl.fill(0.0);
        sc.by_reg.fill(0.0);
        for y in 0..y_n {
            let (yr, ym) = sc.year_cells[2 * y * cells..(2 * y + 2) * cells].split_at(cells);
            annual[y_n + y] = ym.iter().sum();
            for s in 0..n_sl {
                for r in 0..n_reg {
                    let c = s * n_reg + r;
                    sc.by_sl[(s * y_n + y) * 2] += yr[c];
                    sc.by_sl[(s * y_n + y) * 2 + 1] += ym[c];
                    sc.by_reg[(r * y_n + y) * 2] += yr[c];
                    sc.by_reg[(r * y_n + y) * 2 + 1] += ym[c];
                }
            }
        }
        let (by_sl, by_reg) = (&sc.by_sl, &sc.by_reg);
        for y in 0..2 * y_n {
            row[y] = cents(annual[y])?;
        }
        row[2 * y_n + m] = cents(won_value)?;
        for (acc, v) in sums.iter_mut().zip(by_sl.iter().chain(by_reg.iter())) {
            *acc += i128::from(cents(*v)?);
        }
        Ok(())
    }
}

/// Runs `options.paths` paths of `scenario` (or the paths of `options.shard`).
///
/// ```
/// use kam_sim::{run, RunOptions, Shard, Summary, scenario::parse_scenario};
/// let s = parse_scenario(
///     "name = \"x\"\nhorizon_months = 12\nservice_lines = [\"w\"]\nregions = [\"emea\"]\n\
///      [[base_book]]\nservice_line = \"w\"\nsite = \"A\"\nregion = \"emea\"\n\
///      monthly_revenue = \"1000\"\nmonthly_loss_hazard = \"0.05\"\n", "x.toml")?;
/// let whole = run(&s, &RunOptions::new(1000, 7))?;
/// let parts = (1..=3)
///     .map(|i| run(&s, &RunOptions::new(1000, 7).shard(Shard::new(i, 3)?)))
///     .collect::<Result<Vec<_>, _>>()?;
/// assert_eq!(Summary::merge(parts)?, whole);
/// # Ok::<(), kam_sim::SimError>(())
/// ```
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<Summary, SimError> {
    if options.paths == 0 {
        return Err(SimError::Options("paths must be at least 1".into()));
    }
    if options.threads == Some(0) {
        return Err(SimError::Options("threads must be at least 1".into()));
    }
    let model = Model::compile(scenario, options.seed)?;
    if model.years > 100 {
        return Err(SimError::Options(
            "horizons over 100 years are not supported".into(),
        ));
    }
    let (first, end) = match options.shard {
        Some(s) => s.range(options.paths),
        None => (0, options.paths),
    };
    let stride = model.stride();
    let rows_len = usize::try_from(end - first)
        .ok()
        .and_then(|n| n.checked_mul(stride))
        .ok_or_else(|| SimError::Options(format!("{} paths do not fit in memory", end - first)))?;
    let proto = ChaCha8Rng::seed_from_u64(options.seed);
    let rule = options.rule.as_deref();
    let n_chunks = (end - first).div_ceil(CHUNK);
    let done = AtomicU64::new(0);
    let total = end - first;
    let armed = options.stop.is_armed();

    let work = |ci: u64| -> Result<ChunkOut, SimError> {
        let lo = first + ci * CHUNK;
        let hi = (lo + CHUNK).min(end);
        let mut sc = model.scratch(rule.is_some());
        let mut rows = vec![0i64; (hi - lo) as usize * stride];
        let mut sums = vec![0i128; model.sums_len()];
        for (k, path) in (lo..hi).enumerate() {
            if armed
                && (k as u64).is_multiple_of(POLL_EVERY)
                && let Some(reason) = options.stop.reason()
            {
                return Err(SimError::Stopped {
                    reason,
                    done: done.load(Ordering::Relaxed) + k as u64,
                    total,
                });
            }
            let row = &mut rows[k * stride..(k + 1) * stride];
            model.path(&proto, path, rule, &mut sc, row, &mut sums)?;
        }
        let d = done.fetch_add(hi - lo, Ordering::Relaxed) + (hi - lo);
        if let Some(p) = &options.progress {
            p(d, total);
        }
        Ok(ChunkOut { rows, sums })
    };

    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = options.threads {
        builder = builder.num_threads(t);
    }
    let pool = builder
        .build()
        .map_err(|e| SimError::Options(format!("thread pool: {e}")))?;
    let chunks: Vec<ChunkOut> = pool.install(|| {
        (0..n_chunks)
            .into_par_iter()
            .map(work)
            .collect::<Result<Vec<_>, _>>()
    })?;

    let mut rows = Vec::with_capacity(rows_len);
    let mut sums = vec![0i128; model.sums_len()];
    for c in chunks {
        rows.extend_from_slice(&c.rows);
        for (a, b) in sums.iter_mut().zip(c.sums) {
            *a += b;
        }
    }
    Summary::from_run(
        scenario,
        options,
        &model_meta(&model),
        first,
        end,
        rows,
        &sums,
        exact_pipeline(scenario)?,
    )
}

/// The shape facts a summary keeps.
pub(crate) struct ModelMeta {
    pub(crate) months: usize,
    pub(crate) years: usize,
}

fn model_meta(m: &Model) -> ModelMeta {
    ModelMeta {
        months: m.months,
        years: m.years,
    }
}
