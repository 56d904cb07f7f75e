//! Pipelines (exact and Monte Carlo), value distributions and percentiles over
//! `kam_core::growth` and `kam-sim`.

use kam_core::growth::{ExactDistribution, PercentileMethod, Pipeline, percentile};
use kam_sim::dist::ValueDistribution;
use kam_sim::pipeline::{EmpiricalDistribution, simulate_pipeline_until};
use rhai::{Dynamic, INT};
use rust_decimal::Decimal;

use super::{Api, R, arg_err, array, fn_err, num, probability, string, whole};

/// A non-negative whole-number argument (paths, seed).
fn count(func: &str, arg: &str, v: &Dynamic) -> R<u64> {
    whole(v)
        .and_then(|i: INT| u64::try_from(i).ok())
        .ok_or_else(|| arg_err(func, arg, format!("must be a non-negative integer, got {v}")))
}

/// The most paths one `simulate` call may run: 10,000,000 (160 MB of results, seconds of
/// work). Checked before anything is allocated; without it `simulate(100000000000, 1)`
/// tried to reserve 1.6 TB and aborted the process.
pub(crate) const MAX_PATHS: u64 = 10_000_000;

/// The `paths` and `seed` arguments of a `simulate` call: non-negative integers, paths
/// at most [`MAX_PATHS`].
pub(crate) fn paths_arg(func: &str, paths: &Dynamic, seed: &Dynamic) -> R<(u64, u64)> {
    let n = count(func, "paths", paths)?;
    if n > MAX_PATHS {
        return Err(arg_err(
            func,
            "paths",
            format!("at most {MAX_PATHS} paths in one call, got {n}"),
        ));
    }
    Ok((n, count(func, "seed", seed)?))
}

pub(crate) fn register(api: &mut Api<'_>) {
    api.section("Growth and simulation");
    api.ty::<Pipeline>(
        "Pipeline",
        "A list of independent deals (value, win probability).",
    );
    api.func(
        "pipeline",
        &["Pipeline"],
        "pipeline() -> Pipeline",
        "An empty pipeline.",
        Pipeline::new,
    );
    api.func(
        "deal",
        &[
            "p: &mut Pipeline",
            "name: &str",
            "value: number",
            "win_probability: number",
            "()",
        ],
        "p.deal(name, value, win_probability)",
        "Adds a deal; value ≥ 0, win probability in [0, 1].",
        |p: &mut Pipeline, name: Dynamic, value: Dynamic, prob: Dynamic| -> R<()> {
            let f = "pipeline.deal";
            let n = string(f, "name", &name)?;
            let v = num(f, "value", &value)?;
            let pr = probability(f, "win_probability", &prob)?;
            p.deal(n, v, pr).map(|_| ()).map_err(|e| fn_err(f, e))
        },
    );
    api.getter_result::<Pipeline, Decimal>(
        "Pipeline",
        "weighted",
        "decimal",
        "Σ win probability × value.",
        |p| p.weighted_value().map_err(|e| fn_err("pipeline.weighted", e)),
    );
    api.func(
        "exact",
        &["p: &mut Pipeline", "ExactDistribution"],
        "p.exact() -> ExactDistribution",
        "The exact distribution of the total won value (deals independent; for a few dozen deals).",
        |p: &mut Pipeline| -> R<ExactDistribution> { p.exact().map_err(|e| fn_err("pipeline.exact", e)) },
    );
    api.func(
        "simulate",
        &[
            "p: &mut Pipeline",
            "paths: int",
            "seed: int",
            "SimulatedDistribution",
        ],
        "p.simulate(paths, seed) -> SimulatedDistribution",
        "Monte Carlo: `paths` outcomes (at most 10,000,000) of the total won value from `seed` (same \
         seed, same result).",
        |p: &mut Pipeline, paths: Dynamic, seed: Dynamic| -> R<EmpiricalDistribution> {
            let f = "pipeline.simulate";
            let (n, s) = paths_arg(f, &paths, &seed)?;
            simulate_pipeline_until(p, n, s, &crate::host::native_stop()).map_err(|e| fn_err(f, e))
        },
    );

    api.ty::<ExactDistribution>(
        "ExactDistribution",
        "An exact discrete distribution: .mean, .prob_at_least(x), .quantile(q) (inverse CDF).",
    );
    api.getter_result::<ExactDistribution, Decimal>(
        "ExactDistribution",
        "mean",
        "decimal",
        "The exact mean.",
        |d| d.mean().map_err(|e| fn_err("mean", e)),
    );
    api.func(
        "prob_at_least",
        &["d: &mut ExactDistribution", "x: number", "decimal"],
        "x.prob_at_least(x) -> decimal",
        "P(X ≥ x).",
        |d: &mut ExactDistribution, x: Dynamic| -> R<Decimal> {
            let v = num("prob_at_least", "x", &x)?;
            d.prob_at_least(v).map_err(|e| fn_err("prob_at_least", e))
        },
    );
    api.func(
        "quantile",
        &["d: &mut ExactDistribution", "q: number", "decimal"],
        "x.quantile(q) -> decimal",
        "Inverse CDF: the smallest x with P(X ≤ x) ≥ q, q in [0, 1].",
        |d: &mut ExactDistribution, q: Dynamic| -> R<Decimal> {
            let v = probability("quantile", "q", &q)?;
            d.quantile(v).map_err(|e| fn_err("quantile", e))
        },
    );

    api.ty::<EmpiricalDistribution>(
        "SimulatedDistribution",
        "Monte Carlo outcomes: .mean, .prob_at_least(x), .quantile(q) (inverse CDF of the sample).",
    );
    api.getter_result::<EmpiricalDistribution, Decimal>(
        "SimulatedDistribution",
        "mean",
        "decimal",
        "The sample mean.",
        |d| d.mean().map_err(|e| fn_err("mean", e)),
    );
    api.func(
        "prob_at_least",
        &["r: &mut SimulatedDistribution", "x: number", "decimal"],
        "r.prob_at_least(x) -> decimal",
        "Share of outcomes ≥ x.",
        |d: &mut EmpiricalDistribution, x: Dynamic| -> R<Decimal> {
            let v = num("prob_at_least", "x", &x)?;
            d.prob_at_least(v).map_err(|e| fn_err("prob_at_least", e))
        },
    );
    api.func(
        "quantile",
        &["r: &mut SimulatedDistribution", "q: number", "decimal"],
        "r.quantile(q) -> decimal",
        "Inverse CDF of the sample: the smallest outcome x with F(x) ≥ q.",
        |d: &mut EmpiricalDistribution, q: Dynamic| -> R<Decimal> {
            let v = probability("quantile", "q", &q)?;
            d.quantile(v).map_err(|e| fn_err("quantile", e))
        },
    );

    api.ty::<ValueDistribution>(
        "Distribution",
        "A value distribution: .mean, .quantile(q) (inverse CDF), and for lognormal .mu, .sigma.",
    );
    api.func(
        "pert",
        &["min: number", "mode: number", "max: number", "Distribution"],
        "pert(min, mode, max) -> Distribution",
        "PERT (beta) on [min, max] with the given mode.",
        |a: Dynamic, m: Dynamic, b: Dynamic| -> R<ValueDistribution> {
            let f = "pert";
            ValueDistribution::pert(num(f, "min", &a)?, num(f, "mode", &m)?, num(f, "max", &b)?)
                .map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "triangular",
        &["min: number", "mode: number", "max: number", "Distribution"],
        "triangular(min, mode, max) -> Distribution",
        "Triangular on [min, max] with the given mode.",
        |a: Dynamic, m: Dynamic, b: Dynamic| -> R<ValueDistribution> {
            let f = "triangular";
            ValueDistribution::triangular(num(f, "min", &a)?, num(f, "mode", &m)?, num(f, "max", &b)?)
                .map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "lognormal",
        &["mean: number", "sd: number", "Distribution"],
        "lognormal(mean, sd) -> Distribution",
        "Lognormal with the given mean and standard deviation of the value (not of its log).",
        |m: Dynamic, s: Dynamic| -> R<ValueDistribution> {
            let f = "lognormal";
            ValueDistribution::lognormal(num(f, "mean", &m)?, num(f, "sd", &s)?).map_err(|e| fn_err(f, e))
        },
    );
    api.getter_result::<ValueDistribution, Decimal>(
        "Distribution",
        "mean",
        "decimal",
        "The exact mean.",
        |d| d.mean().map_err(|e| fn_err("mean", e)),
    );
    api.getter_result::<ValueDistribution, Decimal>(
        "Distribution",
        "mu",
        "decimal",
        "Lognormal μ (mean of the log); an error for other distributions.",
        |d| d.mu().map_err(|e| fn_err("mu", e)),
    );
    api.getter_result::<ValueDistribution, Decimal>(
        "Distribution",
        "sigma",
        "decimal",
        "Lognormal σ (standard deviation of the log); an error for other distributions.",
        |d| d.sigma().map_err(|e| fn_err("sigma", e)),
    );
    api.func(
        "quantile",
        &["d: &mut Distribution", "q: number", "decimal"],
        "d.quantile(q) -> decimal",
        "Inverse CDF: the smallest x with F(x) ≥ q.",
        |d: &mut ValueDistribution, q: Dynamic| -> R<Decimal> {
            let v = probability("quantile", "q", &q)?;
            d.quantile(v).map_err(|e| fn_err("quantile", e))
        },
    );
    api.func(
        "percentile",
        &["values: Array", "q: number", "method: &str", "decimal"],
        "percentile(values, q, method) -> decimal",
        "The q-percentile (q in [0, 1]) of `values`: method \"linear\" (Hyndman–Fan type 7, Excel \
         PERCENTILE.INC) or \"nearest_rank\" (inverse CDF).",
        |values: Dynamic, q: Dynamic, method: Dynamic| -> R<Decimal> {
            let f = "percentile";
            let vs = array(f, "values", &values)?
                .iter()
                .enumerate()
                .map(|(i, v)| num(f, &format!("values[{i}]"), v))
                .collect::<R<Vec<_>>>()?;
            if vs.is_empty() {
                return Err(arg_err(f, "values", "must not be empty"));
            }
            let qv = probability(f, "q", &q)?;
            let m = string(f, "method", &method)?
                .parse::<PercentileMethod>()
                .map_err(|e| arg_err(f, "method", e))?;
            percentile(&vs, qv, m).map_err(|e| fn_err(f, e))
        },
    );
}
