//! Monte Carlo of a simple pipeline (deals with fixed values and win probabilities),
//! beside the exact enumeration of [`kam_core::growth::Pipeline::exact`].
//!
//! Path `i` draws one uniform per deal from its own ChaCha8 stream (seed, stream `i`);
//! a deal is won when the uniform is below its probability. Totals are summed exactly in
//! `Decimal`, so [`EmpiricalDistribution`] answers with the same conventions as the exact
//! distribution: mean, `P(X ≥ x)`, and the inverse-CDF quantile (smallest `x` with
//! `F(x) ≥ q`).
//!
//! ```
//! use kam_core::growth::Pipeline;
//! use kam_sim::simulate_pipeline;
//! use rust_decimal::Decimal;
//!
//! let mut p = Pipeline::new();
//! p.deal("Leipzig inbound", Decimal::from(1_200_000), Decimal::new(6, 1))?;
//! p.deal("Pune aftermarket", Decimal::from(800_000), Decimal::new(3, 1))?;
//! let r = simulate_pipeline(&p, 10_000, 42)?;
//! assert!((r.mean()? - Decimal::from(960_000)).abs() < Decimal::from(15_000));
//! # Ok::<(), kam_sim::SimError>(())
//! ```

use kam_core::growth::Pipeline;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::dist::unit_f64;
use crate::stop::POLL_EVERY;
use crate::{ModelError, SimError, Stop};

/// Simulated totals, sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmpiricalDistribution {
    values: Vec<Decimal>,
    sum: Decimal,
}

impl EmpiricalDistribution {
    /// From simulated values (any order).
    pub fn new(mut values: Vec<Decimal>) -> Result<Self, SimError> {
        if values.is_empty() {
            return Err(SimError::Options(
                "an empirical distribution needs at least one value".into(),
            ));
        }
        values.sort();
        let mut sum = Decimal::ZERO;
        for v in &values {
            sum = sum
                .checked_add(*v)
                .ok_or_else(|| SimError::Numeric("sum of simulated values overflows".into()))?;
        }
        Ok(EmpiricalDistribution { values, sum })
    }

    /// The values, ascending.
    pub fn values(&self) -> &[Decimal] {
        &self.values
    }

    /// Number of values (paths).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Always false (construction needs a value); for symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The mean (exact sum ÷ n, to `Decimal` precision).
    pub fn mean(&self) -> Result<Decimal, SimError> {
        self.sum
            .checked_div(Decimal::from(self.values.len()))
            .map(|d| d.normalize())
            .ok_or_else(|| SimError::Numeric("mean".into()))
    }

    /// The share of values `≥ x`.
    pub fn prob_at_least(&self, x: Decimal) -> Result<Decimal, SimError> {
        let below = self.values.partition_point(|v| *v < x);
        Decimal::from(self.values.len() - below)
            .checked_div(Decimal::from(self.values.len()))
            .map(|d| d.normalize())
            .ok_or_else(|| SimError::Numeric("prob_at_least".into()))
    }

    /// Inverse-CDF quantile: the `⌈q·n⌉`-th smallest value (`q = 0` gives the minimum).
    pub fn quantile(&self, q: Decimal) -> Result<Decimal, SimError> {
        let idx = quantile_index(q, self.values.len())?;
        self.values
            .get(idx)
            .copied()
            .ok_or_else(|| SimError::Numeric("quantile index".into()))
    }
}

/// The index of the inverse-CDF `q` quantile among `n` sorted values: the `⌈q·n⌉`-th
/// smallest (`q = 0` gives the minimum).
///
/// # Errors
/// `q` outside 0..=1 ([`ModelError::Probability`] on field `quantile q`).
pub(crate) fn quantile_index(q: Decimal, n: usize) -> Result<usize, SimError> {
    if q < Decimal::ZERO || q > Decimal::ONE {
        return Err(ModelError::Probability {
            field: "quantile q".into(),
            value: q,
        }
        .into());
    }
    let rank = q
        .checked_mul(Decimal::from(n))
        .map(|r| r.ceil())
        .and_then(|r| r.to_usize())
        .ok_or_else(|| SimError::Numeric("quantile rank".into()))?;
    Ok(rank.clamp(1, n.max(1)) - 1)
}

/// Simulates `paths` outcomes of `pipeline` (deals independent) from `seed`.
pub fn simulate_pipeline(
    pipeline: &Pipeline,
    paths: u64,
    seed: u64,
) -> Result<EmpiricalDistribution, SimError> {
    simulate_pipeline_until(pipeline, paths, seed, &Stop::never())
}

/// [`simulate_pipeline`], stopping early with [`SimError::Stopped`] when `stop` says so
/// (a script's wall-clock deadline: a native call must not outlive its script).
pub fn simulate_pipeline_until(
    pipeline: &Pipeline,
    paths: u64,
    seed: u64,
    stop: &Stop,
) -> Result<EmpiricalDistribution, SimError> {
    if paths == 0 {
        return Err(SimError::Options("paths must be at least 1".into()));
    }
    let n = usize::try_from(paths)
        .map_err(|_| SimError::Options(format!("{paths} paths do not fit in memory")))?;
    let mut probs = Vec::with_capacity(pipeline.deals.len());
    for d in &pipeline.deals {
        d.validate()?;
        probs.push((d.win_probability.to_f64().unwrap_or(0.0), d.value));
    }
    // Reserve before drawing: a huge path count is an error, not an allocation abort.
    let mut values: Vec<Decimal> = Vec::new();
    values
        .try_reserve_exact(n)
        .map_err(|_| SimError::Options(format!("{paths} paths do not fit in memory")))?;
    let proto = ChaCha8Rng::seed_from_u64(seed);
    for path in 0..paths {
        if stop.is_armed()
            && path.is_multiple_of(POLL_EVERY)
            && let Some(reason) = stop.reason()
        {
            return Err(SimError::Stopped {
                reason,
                done: path,
                total: paths,
            });
        }
        let mut rng = proto.clone();
        rng.set_stream(path);
        let mut total = Decimal::ZERO;
        for (p, v) in &probs {
            if unit_f64(rng.next_u64()) < *p {
                total = total
                    .checked_add(*v)
                    .ok_or_else(|| SimError::Numeric("pipeline total overflows".into()))?;
            }
        }
        values.push(total);
    }
    EmpiricalDistribution::new(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_path_count_is_an_error_not_an_abort() {
        let mut p = Pipeline::new();
        p.deal("x", Decimal::from(100), Decimal::new(5, 1)).unwrap();
        for paths in [u64::MAX, 1 << 60] {
            let e = simulate_pipeline(&p, paths, 1).unwrap_err();
            assert!(e.to_string().contains("do not fit in memory"), "{e}");
        }
    }
}
