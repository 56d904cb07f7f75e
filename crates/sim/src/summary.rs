//! Run summaries (mergeable, serializable) and the results computed from them.
//!
//! A [`Summary`] holds, for a contiguous range of path indices, each path's row of
//! integer cents (annual revenue, annual margin, monthly revenue, won pipeline value) and
//! exact sums of revenue and margin by service line and region. Shards of one run merge
//! by concatenating rows in path order and adding sums — exact, so the merged summary
//! equals the single run's. [`Summary::results`] turns a summary into [`SimResults`].
//!
//! **Quantile convention.** P10/P50/P90 are inverse-CDF percentiles of the empirical
//! distribution over paths: the smallest simulated value `x` with `F(x) ≥ q`, i.e. the
//! `⌈q·n⌉`-th smallest of `n` paths. Means are exact over the rounded per-path cents,
//! rounded to cents; probabilities are rounded to 6 decimal places.

use std::fmt;

use kam_core::growth::{Deal, ExactDistribution, GrowthError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::engine::{ModelMeta, RunOptions};
use crate::scenario::Scenario;

/// Most opportunities for which results include the exact (enumerated) distribution.
pub const MAX_EXACT_DEALS: usize = 20;

/// The summary format version written into shard files.
const FORMAT: u32 = 1;

/// A mergeable summary of the paths `first_path .. end_path` of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Format version.
    pub format: u32,
    /// Scenario name.
    pub scenario: String,
    /// FNV-1a 64 hash of the scenario's JSON: shards of different scenarios do not merge.
    pub fingerprint: String,
    /// Currency of all amounts.
    pub currency: String,
    /// The seed.
    pub seed: u64,
    /// Paths in the whole run.
    pub total_paths: u64,
    /// First path index held.
    pub first_path: u64,
    /// One past the last path index held.
    pub end_path: u64,
    /// The growth rule's name, if one ran.
    pub rule: Option<String>,
    /// Months in the horizon.
    pub months: u32,
    /// Contract years (the last may be partial).
    pub years: u32,
    /// Service lines, in scenario order.
    pub service_lines: Vec<String>,
    /// Regions, in scenario order.
    pub regions: Vec<String>,
    /// Revenue target per year, if set.
    pub targets: Vec<Option<Decimal>>,
    /// Pipeline facts that need no simulation.
    pub pipeline: PipelineFacts,
    /// Exact sums over the held paths, in currency units: for each service line, then
    /// each region, for each year: revenue, margin.
    pub sums: Vec<Decimal>,
    /// Per-path rows of integer cents, path-major: `years` annual revenues, `years`
    /// annual margins, `months` monthly revenues, the won pipeline value.
    pub rows: Vec<i64>,
}

/// What the pipeline gives without simulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineFacts {
    /// Opportunities in the scenario.
    pub deals: usize,
    /// `Σ p × mean value` (annual run rate), exact.
    pub weighted_annual_value: Decimal,
    /// The exact distribution's figures, for pipelines of at most [`MAX_EXACT_DEALS`].
    pub exact: Option<ExactPipeline>,
}

/// The exact distribution of won annual value (each deal at its mean value; correlation
/// groups as comonotone units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExactPipeline {
    /// Mean.
    pub mean: Decimal,
    /// Inverse-CDF P10.
    pub p10: Decimal,
    /// Inverse-CDF P50.
    pub p50: Decimal,
    /// Inverse-CDF P90.
    pub p90: Decimal,
    /// Distinct outcomes.
    pub outcomes: usize,
}

/// Mean and inverse-CDF P10/P50/P90 of one quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Mean.
    pub mean: Decimal,
    /// P10.
    pub p10: Decimal,
    /// P50 (median).
    pub p50: Decimal,
    /// P90.
    pub p90: Decimal,
}

/// One contract year's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearResult {
    /// Contract year, 1-based.
    pub year: u32,
    /// Months of the horizon in this year (12 except a partial last year).
    pub months: u32,
    /// Revenue.
    pub revenue: Stats,
    /// Contribution margin.
    pub margin: Stats,
    /// The year's revenue target.
    pub target: Option<Decimal>,
    /// Share of paths whose revenue reaches the target.
    pub prob_reach_target: Option<Decimal>,
}

/// Fan-chart band of one month's revenue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthBand {
    /// Month index, 0-based.
    pub month: u32,
    /// Mean.
    pub mean: Decimal,
    /// P10.
    pub p10: Decimal,
    /// P50.
    pub p50: Decimal,
    /// P90.
    pub p90: Decimal,
}

/// Mean revenue and margin of one service line or region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentResult {
    /// Service line or region.
    pub name: String,
    /// Mean revenue per year.
    pub revenue: Vec<Decimal>,
    /// Mean margin per year.
    pub margin: Vec<Decimal>,
    /// Share of the mean horizon revenue, rounded to 6 places.
    pub revenue_share: Decimal,
}

/// The pipeline's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineResult {
    /// Opportunities.
    pub deals: usize,
    /// `Σ p × mean value`, exact.
    pub weighted_annual_value: Decimal,
    /// Monte Carlo distribution of won annual value (drawn values).
    pub won_annual_value: Stats,
    /// The exact distribution beside it (small pipelines).
    pub exact: Option<ExactPipeline>,
}

/// Everything a run reports; field order is the JSON order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimResults {
    /// Scenario name.
    pub scenario: String,
    /// Currency of all amounts.
    pub currency: String,
    /// Paths summarized.
    pub paths: u64,
    /// First path index (0 unless this is a shard).
    pub first_path: u64,
    /// The seed.
    pub seed: u64,
    /// The growth rule's name, if one ran.
    pub rule: Option<String>,
    /// The quantile convention, stated.
    pub quantiles: String,
    /// Results per contract year.
    pub years: Vec<YearResult>,
    /// Revenue over the whole horizon.
    pub horizon_revenue: Stats,
    /// Margin over the whole horizon.
    pub horizon_margin: Stats,
    /// Monthly revenue bands.
    pub fan_chart: Vec<MonthBand>,
    /// Contribution by service line.
    pub by_service_line: Vec<SegmentResult>,
    /// Contribution by region.
    pub by_region: Vec<SegmentResult>,
    /// The pipeline.
    pub pipeline: PipelineResult,
    /// The tornado sensitivity, when it was asked for ([`crate::tornado`]: 17 further runs
    /// of the same paths and seed; a summary alone never has one, and a shard cannot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tornado: Option<crate::Tornado>,
}

const QUANTILE_CONVENTION: &str =
    "inverse-CDF over paths: Pq is the smallest simulated x with F(x) >= q (the ceil(q*n)-th smallest)";

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn money(cents: i128) -> Result<Decimal, SimError> {
    Decimal::try_from_i128_with_scale(cents, 2).map_err(|e| SimError::Numeric(format!("{cents} cents: {e}")))
}

/// The exact pipeline figures of a scenario (None above [`MAX_EXACT_DEALS`] deals).
pub(crate) fn exact_pipeline(s: &Scenario) -> Result<PipelineFacts, SimError> {
    let mut weighted = Decimal::ZERO;
    let mut deals = Vec::with_capacity(s.opportunities.len());
    for o in &s.opportunities {
        let d = Deal {
            name: o.name.clone(),
            value: o.value.mean()?,
            win_probability: o.win_probability,
        };
        weighted = weighted
            .checked_add(
                d.value
                    .checked_mul(d.win_probability)
                    .ok_or_else(|| SimError::Numeric("weighted pipeline overflows".into()))?,
            )
            .ok_or_else(|| SimError::Numeric("weighted pipeline overflows".into()))?;
        deals.push(d);
    }
    let exact = if deals.is_empty() || deals.len() > MAX_EXACT_DEALS {
        None
    } else {
        let mut dist = ExactDistribution::point(Decimal::ZERO);
        let in_group = |name: &str| {
            s.correlation_groups
                .iter()
                .any(|g| g.deals.iter().any(|d| d == name))
        };
        let mut result: Result<(), GrowthError> = Ok(());
        for d in deals.iter().filter(|d| !in_group(&d.name)) {
            match ExactDistribution::bernoulli(d).and_then(|u| dist.convolve(&u)) {
                Ok(x) => dist = x,
                Err(e) => result = Err(e),
            }
        }
        for g in &s.correlation_groups {
            let members: Vec<Deal> = deals
                .iter()
                .filter(|d| g.deals.contains(&d.name))
                .cloned()
                .collect();
            match ExactDistribution::comonotone_group(&members).and_then(|u| dist.convolve(&u)) {
                Ok(x) => dist = x,
                Err(e) => result = Err(e),
            }
        }
        match result {
            Err(GrowthError::TooManyOutcomes { .. }) => None,
            Err(e) => return Err(e.into()),
            Ok(()) => Some(ExactPipeline {
                mean: dist.mean()?,
                p10: dist.quantile(Decimal::new(1, 1))?,
                p50: dist.quantile(Decimal::new(5, 1))?,
                p90: dist.quantile(Decimal::new(9, 1))?,
                outcomes: dist.outcomes().len(),
            }),
        }
    };
    Ok(PipelineFacts {
        deals: deals.len(),
        weighted_annual_value: weighted.normalize(),
        exact,
    })
}

impl Summary {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_run(
        scenario: &Scenario,
        options: &RunOptions,
        meta: &ModelMeta,
        first: u64,
        end: u64,
        rows: Vec<i64>,
        sums: &[i128],
        pipeline: PipelineFacts,
    ) -> Result<Summary, SimError> {
        let json = serde_json::to_string(scenario).map_err(|e| SimError::Json(e.to_string()))?;
        let targets = (1..=meta.years as u32)
            .map(|y| scenario.targets.iter().find(|t| t.year == y).map(|t| t.revenue))
            .collect();
        Ok(Summary {
            format: FORMAT,
            scenario: scenario.name.clone(),
            fingerprint: format!("{:016x}", fnv1a(json.as_bytes())),
            currency: scenario.currency.clone(),
            seed: options.seed,
            total_paths: options.paths,
            first_path: first,
            end_path: end,
            rule: options.rule.as_ref().map(|r| r.name().to_owned()),
            months: meta.months as u32,
            years: meta.years as u32,
            service_lines: scenario.service_lines.clone(),
            regions: scenario.regions.clone(),
            targets,
            pipeline,
            sums: sums.iter().map(|c| money(*c)).collect::<Result<_, _>>()?,
            rows,
        })
    }

    fn stride(&self) -> usize {
        2 * self.years as usize + self.months as usize + 1
    }

    /// Paths held.
    pub fn paths(&self) -> u64 {
        self.end_path - self.first_path
    }

    fn check_shape(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::Merge(m));
        if self.format != FORMAT {
            return bad(format!("summary format {} (expected {FORMAT})", self.format));
        }
        if self.end_path < self.first_path || self.end_path > self.total_paths {
            return bad(format!(
                "path range {}..{} of {}",
                self.first_path, self.end_path, self.total_paths
            ));
        }
        let rows = usize::try_from(self.paths())
            .ok()
            .and_then(|p| p.checked_mul(self.stride()));
        if rows != Some(self.rows.len()) {
            return bad(format!(
                "{} row values for {} paths",
                self.rows.len(),
                self.paths()
            ));
        }
        let sums = 2 * (self.service_lines.len() + self.regions.len()) * self.years as usize;
        if self.sums.len() != sums || self.targets.len() != self.years as usize {
            return bad("sums or targets do not match the summary's shape".into());
        }
        Ok(())
    }

    /// Merges shard summaries of one run (any order) into one; exact: merging every
    /// shard gives the single run's summary. Shards must be of the same scenario, seed,
    /// path count and rule, and cover a contiguous range of paths.
    pub fn merge(mut parts: Vec<Summary>) -> Result<Summary, SimError> {
        parts.sort_by_key(|p| p.first_path);
        let mut iter = parts.into_iter();
        let mut acc = iter
            .next()
            .ok_or_else(|| SimError::Merge("no summaries to merge".into()))?;
        acc.check_shape()?;
        for p in iter {
            p.check_shape()?;
            let same = p.fingerprint == acc.fingerprint
                && p.seed == acc.seed
                && p.total_paths == acc.total_paths
                && p.rule == acc.rule
                && p.scenario == acc.scenario
                && p.months == acc.months
                && p.service_lines == acc.service_lines
                && p.regions == acc.regions
                && p.targets == acc.targets
                && p.pipeline == acc.pipeline
                && p.currency == acc.currency;
            if !same {
                return Err(SimError::Merge(format!(
                    "paths {}..{} come from a different run (scenario, seed, path count or rule differ)",
                    p.first_path, p.end_path
                )));
            }
            if p.first_path != acc.end_path {
                return Err(SimError::Merge(format!(
                    "shards do not join: paths {}..{} then {}..{}",
                    acc.first_path, acc.end_path, p.first_path, p.end_path
                )));
            }
            acc.end_path = p.end_path;
            acc.rows.extend_from_slice(&p.rows);
            for (a, b) in acc.sums.iter_mut().zip(p.sums) {
                *a = a
                    .checked_add(b)
                    .ok_or_else(|| SimError::Numeric("merged sums overflow".into()))?;
            }
        }
        Ok(acc)
    }

    /// Compact JSON of the whole summary (rows included), for shard files.
    pub fn to_shard_json(&self) -> Result<String, SimError> {
        serde_json::to_string(self).map_err(|e| SimError::Json(e.to_string()))
    }

    /// Reads a shard file written by [`Summary::to_shard_json`], checking its shape.
    pub fn from_shard_json(text: &str) -> Result<Summary, SimError> {
        let s: Summary = serde_json::from_str(text).map_err(|e| SimError::Json(e.to_string()))?;
        s.check_shape()?;
        Ok(s)
    }

    /// The results: statistics of the held paths.
    pub fn results(&self) -> Result<SimResults, SimError> {
        self.check_shape()?;
        let n = self.paths();
        if n == 0 {
            return Err(SimError::Options("no paths to summarize".into()));
        }
        let (stride, years, months) = (self.stride(), self.years as usize, self.months as usize);
        let column = |c: usize| -> Vec<i64> { self.rows.chunks_exact(stride).map(|r| r[c]).collect() };
        let mut year_results = Vec::with_capacity(years);
        for y in 0..years {
            let rev = column(y);
            let target = self.targets.get(y).copied().flatten();
            let prob = match target {
                Some(t) => {
                    let t_cents = t
                        .checked_mul(Decimal::ONE_HUNDRED)
                        .ok_or_else(|| SimError::Numeric(format!("target {t} is out of range")))?;
                    let reach = rev.iter().filter(|&&c| Decimal::from(c) >= t_cents).count();
                    Some(ratio(reach as u64, n)?)
                }
                None => None,
            };
            year_results.push(YearResult {
                year: y as u32 + 1,
                months: (months - 12 * y).min(12) as u32,
                revenue: stats(rev)?,
                margin: stats(column(years + y))?,
                target,
                prob_reach_target: prob,
            });
        }
        let horizon = |offset: usize| -> Vec<i64> {
            self.rows
                .chunks_exact(stride)
                .map(|r| r[offset..offset + years].iter().sum())
                .collect()
        };
        let mut fan = Vec::with_capacity(months);
        for t in 0..months {
            let s = stats(column(2 * years + t))?;
            fan.push(MonthBand {
                month: t as u32,
                mean: s.mean,
                p10: s.p10,
                p50: s.p50,
                p90: s.p90,
            });
        }
        let horizon_revenue = stats(horizon(0))?;
        let contributions = |names: &[String], offset: usize| -> Result<Vec<SegmentResult>, SimError> {
            let mut out = Vec::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                let mut revenue = Vec::with_capacity(years);
                let mut margin = Vec::with_capacity(years);
                let mut total = Decimal::ZERO;
                for y in 0..years {
                    let base = offset + (i * years + y) * 2;
                    let (r, m) = (self.sums[base], self.sums[base + 1]);
                    total = total
                        .checked_add(r)
                        .ok_or_else(|| SimError::Numeric("contribution sum overflows".into()))?;
                    revenue.push(mean_of(r, n)?);
                    margin.push(mean_of(m, n)?);
                }
                let share = if horizon_revenue.mean.is_zero() {
                    Decimal::ZERO
                } else {
                    mean_of(total, n)?
                        .checked_div(horizon_revenue.mean)
                        .map_or(Decimal::ZERO, |d| d.round_dp(6))
                };
                out.push(SegmentResult {
                    name: name.clone(),
                    revenue,
                    margin,
                    revenue_share: share,
                });
            }
            Ok(out)
        };
        let by_service_line = contributions(&self.service_lines, 0)?;
        let by_region = contributions(&self.regions, 2 * self.service_lines.len() * years)?;
        Ok(SimResults {
            scenario: self.scenario.clone(),
            currency: self.currency.clone(),
            paths: n,
            first_path: self.first_path,
            seed: self.seed,
            rule: self.rule.clone(),
            quantiles: QUANTILE_CONVENTION.into(),
            years: year_results,
            horizon_margin: stats(horizon(years))?,
            horizon_revenue,
            fan_chart: fan,
            by_service_line,
            by_region,
            pipeline: PipelineResult {
                deals: self.pipeline.deals,
                weighted_annual_value: self.pipeline.weighted_annual_value,
                won_annual_value: stats(column(2 * years + months))?,
                exact: self.pipeline.exact.clone(),
            },
            tornado: None,
        })
    }

    /// The results as pretty JSON with a stable field order (same inputs and seed give
    /// byte-identical output for any thread count or sharding).
    pub fn to_json(&self) -> Result<String, SimError> {
        self.results()?.to_json()
    }
}

fn ratio(k: u64, n: u64) -> Result<Decimal, SimError> {
    Decimal::from(k)
        .checked_div(Decimal::from(n))
        .map(|d| d.round_dp(6).normalize())
        .ok_or_else(|| SimError::Numeric("ratio".into()))
}

fn mean_of(sum: Decimal, n: u64) -> Result<Decimal, SimError> {
    sum.checked_div(Decimal::from(n))
        .map(|d| d.round_dp(2))
        .ok_or_else(|| SimError::Numeric("mean".into()))
}

/// Mean and inverse-CDF quantiles of integer cents.
pub(crate) fn stats(mut v: Vec<i64>) -> Result<Stats, SimError> {
    let n = v.len() as u64;
    if n == 0 {
        return Err(SimError::Options("no paths to summarize".into()));
    }
    let sum: i128 = v.iter().map(|&c| i128::from(c)).sum();
    let mean = mean_of(money(sum)?, n)?;
    let mut q = |pct: u64| -> Result<Decimal, SimError> {
        // ⌈pct·n/100⌉-th smallest, 1-based.
        let k = (pct * n).div_ceil(100).max(1) as usize;
        let (_, x, _) = v.select_nth_unstable(k - 1);
        money(i128::from(*x))
    };
    Ok(Stats {
        mean,
        p10: q(10)?,
        p50: q(50)?,
        p90: q(90)?,
    })
}

impl SimResults {
    /// Pretty JSON, fields in declaration order.
    pub fn to_json(&self) -> Result<String, SimError> {
        serde_json::to_string_pretty(self).map_err(|e| SimError::Json(e.to_string()))
    }
}

fn group(x: Decimal) -> String {
    kam_core::format::group_thousands(x.round(), 0)
}

fn pct(x: Decimal) -> String {
    format!("{:.1} %", (x * Decimal::ONE_HUNDRED).round_dp(1))
}

impl fmt::Display for SimResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} — {} paths, seed {}{} ({})",
            self.scenario,
            self.paths,
            self.seed,
            self.rule
                .as_ref()
                .map(|r| format!(", rule {r}"))
                .unwrap_or_default(),
            self.currency
        )?;
        writeln!(f, "Quantiles: {}", self.quantiles)?;
        writeln!(f)?;
        writeln!(
            f,
            "{:<5} {:>15} {:>15} {:>15} {:>15} {:>13} {:>15} {:>9}",
            "year", "revenue mean", "P10", "P50", "P90", "margin P50", "target", "P(reach)"
        )?;
        for y in &self.years {
            writeln!(
                f,
                "{:<5} {:>15} {:>15} {:>15} {:>15} {:>13} {:>15} {:>9}",
                if y.months < 12 {
                    format!("{}*", y.year)
                } else {
                    y.year.to_string()
                },
                group(y.revenue.mean),
                group(y.revenue.p10),
                group(y.revenue.p50),
                group(y.revenue.p90),
                group(y.margin.p50),
                y.target.map(group).unwrap_or_else(|| "-".into()),
                y.prob_reach_target.map(pct).unwrap_or_else(|| "-".into()),
            )?;
        }
        if self.years.iter().any(|y| y.months < 12) {
            writeln!(f, "(* partial year)")?;
        }
        let h = &self.horizon_revenue;
        writeln!(
            f,
            "horizon revenue: mean {}, P10 {}, P50 {}, P90 {}",
            group(h.mean),
            group(h.p10),
            group(h.p50),
            group(h.p90)
        )?;
        writeln!(f)?;
        let p = &self.pipeline;
        writeln!(
            f,
            "Pipeline ({} deals), won annual value: weighted {}; Monte Carlo mean {}, P10 {}, P50 {}, P90 {}",
            p.deals,
            group(p.weighted_annual_value),
            group(p.won_annual_value.mean),
            group(p.won_annual_value.p10),
            group(p.won_annual_value.p50),
            group(p.won_annual_value.p90)
        )?;
        if let Some(x) = &p.exact {
            writeln!(
                f,
                "  exact (deals at mean value, {} outcomes): mean {}, P10 {}, P50 {}, P90 {}",
                x.outcomes,
                group(x.mean),
                group(x.p10),
                group(x.p50),
                group(x.p90)
            )?;
        }
        for (title, list) in [
            ("service line", &self.by_service_line),
            ("region", &self.by_region),
        ] {
            writeln!(f)?;
            writeln!(f, "Mean revenue by {title} (per year) and share of the horizon:")?;
            for c in list.iter() {
                let years: Vec<String> = c.revenue.iter().map(|d| group(*d)).collect();
                writeln!(
                    f,
                    "  {:<28} {:>10}  {}",
                    c.name,
                    pct(c.revenue_share),
                    years.join(" | ")
                )?;
            }
        }
        if let Some(t) = &self.tornado {
            writeln!(f)?;
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.results() {
            Ok(r) => r.fmt(f),
            Err(e) => write!(
                f,
                "summary of {} (paths {}..{}): {e}",
                self.scenario, self.first_path, self.end_path
            ),
        }
    }
}
