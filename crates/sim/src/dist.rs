//! Value distributions for deal values: fixed, PERT, triangular and lognormal (from mean
//! and standard deviation), with exact `Decimal` means and inverse-CDF quantiles.
//!
//! Means are exact decimal arithmetic: PERT `(min + 4·mode + max)/6`, triangular
//! `(min + mode + max)/3`, lognormal its given mean (a non-terminating quotient such as
//! `/3` is rounded to `Decimal`'s 28 significant digits). Quantiles and the lognormal's `mu`
//! and `sigma` need special functions, computed in `f64` (regularized incomplete beta,
//! normal CDF through the incomplete gamma function, inverted by bisection to full double
//! precision) and converted to `Decimal` at the boundary, rounded to
//! [`F64_SIGNIFICANT_DIGITS`] significant digits (not decimal places, so small values keep
//! their relative precision). Sampling (inside the simulation) is `f64` too.
//!
//! ```
//! use kam_sim::dist::ValueDistribution;
//! use rust_decimal::Decimal;
//!
//! let pert = ValueDistribution::pert(Decimal::from(900), Decimal::from(1200), Decimal::from(1800))?;
//! assert_eq!(pert.mean()?, Decimal::from(1250));
//! assert_eq!(pert.quantile(Decimal::ZERO)?, Decimal::from(900));
//! let ln = ValueDistribution::lognormal(Decimal::from(100), Decimal::from(30))?;
//! assert!(ln.quantile(Decimal::new(5, 1))? < Decimal::from(100)); // median below mean
//! # Ok::<(), kam_sim::SimError>(())
//! ```

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma, StandardNormal};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};

use crate::{ModelError, SimError};

/// Significant digits kept when an `f64` result (a quantile, the lognormal's `mu` or
/// `sigma`) becomes a `Decimal`.
///
/// A double carries 15–17 significant digits; the bisections run to the last bit, but the
/// functions they invert are themselves accurate to about 1e-15 (Lanczos `ln Γ`, continued
/// fractions stopped at a relative change of 1e-16, `exp`/`ln` from the platform's libm),
/// and inverting a CDF divides that error by the density. Twelve digits leave three
/// digits of margin: they are the true value's digits, and platform differences in the
/// last bits of `exp`/`ln` do not show (except, rarely, at a rounding midpoint).
/// Significant digits rather than decimal places keep small values (a median of
/// 0.0098…) as precise as large ones; `Decimal`'s 28 decimal places limit values below
/// 1e-16 to fewer digits.
pub const F64_SIGNIFICANT_DIGITS: u32 = 12;

/// A distribution of a non-negative value (a deal's annual revenue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ValueDistribution {
    /// Always `value`.
    Fixed {
        /// The value.
        value: Decimal,
    },
    /// PERT (beta) on `[min, max]` with the given mode: `α = 1 + 4·(mode − min)/(max − min)`,
    /// `β = 1 + 4·(max − mode)/(max − min)`.
    Pert {
        /// Lowest value.
        min: Decimal,
        /// Most likely value.
        mode: Decimal,
        /// Highest value.
        max: Decimal,
    },
    /// Triangular on `[min, max]` with the given mode.
    Triangular {
        /// Lowest value.
        min: Decimal,
        /// Most likely value.
        mode: Decimal,
        /// Highest value.
        max: Decimal,
    },
    /// Lognormal with the given mean and standard deviation of the value itself:
    /// `σ² = ln(1 + sd²/mean²)`, `μ = ln(mean) − σ²/2`.
    Lognormal {
        /// Mean of the value (> 0).
        mean: Decimal,
        /// Standard deviation of the value (≥ 0).
        sd: Decimal,
    },
}

fn to_f64(x: Decimal) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// `f64` → `Decimal` rounded to [`F64_SIGNIFICANT_DIGITS`] significant digits (ties to
/// even) and normalized; non-finite, or beyond `Decimal`'s range, is an error.
pub(crate) fn from_f64(x: f64, what: &str) -> Result<Decimal, SimError> {
    Decimal::from_f64(x)
        .and_then(|d| d.round_sf(F64_SIGNIFICANT_DIGITS))
        .map(|d| d.normalize())
        .ok_or_else(|| SimError::Numeric(format!("{what}: {x} has no decimal value")))
}

impl ValueDistribution {
    /// A validated PERT distribution.
    pub fn pert(min: Decimal, mode: Decimal, max: Decimal) -> Result<Self, SimError> {
        let d = ValueDistribution::Pert { min, mode, max };
        d.validate("pert")?;
        Ok(d)
    }

    /// A validated triangular distribution.
    pub fn triangular(min: Decimal, mode: Decimal, max: Decimal) -> Result<Self, SimError> {
        let d = ValueDistribution::Triangular { min, mode, max };
        d.validate("triangular")?;
        Ok(d)
    }

    /// A validated lognormal distribution from the value's mean and standard deviation.
    pub fn lognormal(mean: Decimal, sd: Decimal) -> Result<Self, SimError> {
        let d = ValueDistribution::Lognormal { mean, sd };
        d.validate("lognormal")?;
        Ok(d)
    }

    /// Checks the parameters; `field` is the path used in the error (e.g.
    /// `opportunity[3].value`).
    pub fn validate(&self, field: &str) -> Result<(), ModelError> {
        let neg = |name: &str, v: Decimal| {
            if v < Decimal::ZERO {
                Err(ModelError::Negative {
                    field: format!("{field}.{name}"),
                    value: v,
                })
            } else {
                Ok(())
            }
        };
        match *self {
            ValueDistribution::Fixed { value } => neg("value", value),
            ValueDistribution::Pert { min, mode, max } | ValueDistribution::Triangular { min, mode, max } => {
                neg("min", min)?;
                if !(min <= mode && mode <= max) {
                    return Err(ModelError::DistributionOrder {
                        field: field.to_owned(),
                        min,
                        mode,
                        max,
                    });
                }
                Ok(())
            }
            ValueDistribution::Lognormal { mean, sd } => {
                if mean <= Decimal::ZERO {
                    return Err(ModelError::Invalid {
                        field: format!("{field}.mean"),
                        message: format!("lognormal mean must be positive, got {mean}"),
                    });
                }
                neg("sd", sd)
            }
        }
    }

    /// The exact mean.
    pub fn mean(&self) -> Result<Decimal, SimError> {
        let overflow = || SimError::Numeric("distribution mean overflows".into());
        match *self {
            ValueDistribution::Fixed { value } => Ok(value),
            ValueDistribution::Pert { min, mode, max } => {
                let s = mode
                    .checked_mul(Decimal::from(4))
                    .and_then(|m| m.checked_add(min))
                    .and_then(|m| m.checked_add(max))
                    .ok_or_else(overflow)?;
                Ok(s.checked_div(Decimal::from(6)).ok_or_else(overflow)?.normalize())
            }
            ValueDistribution::Triangular { min, mode, max } => {
                let s = min
                    .checked_add(mode)
                    .and_then(|m| m.checked_add(max))
                    .ok_or_else(overflow)?;
                Ok(s.checked_div(Decimal::from(3)).ok_or_else(overflow)?.normalize())
            }
            ValueDistribution::Lognormal { mean, .. } => Ok(mean),
        }
    }

    /// The lognormal's `(μ, σ)` in `f64`, or `None` for other kinds.
    pub fn lognormal_params_f64(&self) -> Option<(f64, f64)> {
        match *self {
            ValueDistribution::Lognormal { mean, sd } => {
                let (m, s) = (to_f64(mean), to_f64(sd));
                // ln_1p: `1 + cv²` would drop cv²'s digits for a small coefficient of
                // variation (cv = 1e-5 leaves σ with about 7 correct digits).
                let var_log = ((s / m) * (s / m)).ln_1p();
                Some((m.ln() - var_log / 2.0, var_log.sqrt()))
            }
            _ => None,
        }
    }

    /// The lognormal's `μ` (mean of the log), rounded to
    /// [`F64_SIGNIFICANT_DIGITS`] significant digits.
    pub fn mu(&self) -> Result<Decimal, SimError> {
        self.validate("lognormal")?;
        let (mu, _) = self
            .lognormal_params_f64()
            .ok_or_else(|| SimError::Numeric("mu is defined for a lognormal distribution only".into()))?;
        from_f64(mu, "lognormal mu")
    }

    /// The lognormal's `σ` (standard deviation of the log), rounded to
    /// [`F64_SIGNIFICANT_DIGITS`] significant digits.
    pub fn sigma(&self) -> Result<Decimal, SimError> {
        self.validate("lognormal")?;
        let (_, sigma) = self
            .lognormal_params_f64()
            .ok_or_else(|| SimError::Numeric("sigma is defined for a lognormal distribution only".into()))?;
        from_f64(sigma, "lognormal sigma")
    }

    /// Inverse CDF in `f64`: the smallest `x` with `F(x) ≥ q`, `q ∈ [0, 1]`. The
    /// lognormal's `q = 1` is infinite.
    pub fn quantile_f64(&self, q: f64) -> f64 {
        match *self {
            ValueDistribution::Fixed { value } => to_f64(value),
            ValueDistribution::Pert { min, mode, max } => {
                let (a, c, b) = (to_f64(min), to_f64(mode), to_f64(max));
                if b <= a {
                    return a;
                }
                let (alpha, beta) = pert_shape(a, c, b);
                a + (b - a) * inverse_beta(q, alpha, beta)
            }
            ValueDistribution::Triangular { min, mode, max } => {
                let (a, c, b) = (to_f64(min), to_f64(mode), to_f64(max));
                triangular_quantile(q, a, c, b)
            }
            ValueDistribution::Lognormal { .. } => {
                let (mu, sigma) = self.lognormal_params_f64().unwrap_or((f64::NAN, f64::NAN));
                if q <= 0.0 {
                    0.0
                } else {
                    (mu + sigma * inverse_normal_cdf(q)).exp()
                }
            }
        }
    }

    /// The CDF `F(x) = P(X ≤ x)` in `f64` (used by the tests of the quantiles).
    pub fn cdf_f64(&self, x: f64) -> f64 {
        match *self {
            ValueDistribution::Fixed { value } => {
                if x >= to_f64(value) {
                    1.0
                } else {
                    0.0
                }
            }
            ValueDistribution::Pert { min, mode, max } => {
                let (a, c, b) = (to_f64(min), to_f64(mode), to_f64(max));
                if x < a {
                    0.0
                } else if x >= b {
                    1.0
                } else {
                    let (alpha, beta) = pert_shape(a, c, b);
                    regularized_beta((x - a) / (b - a), alpha, beta)
                }
            }
            ValueDistribution::Triangular { min, mode, max } => {
                let (a, c, b) = (to_f64(min), to_f64(mode), to_f64(max));
                if x < a {
                    0.0
                } else if x >= b {
                    1.0
                } else if x <= c {
                    (x - a) * (x - a) / ((b - a) * (c - a))
                } else {
                    1.0 - (b - x) * (b - x) / ((b - a) * (b - c))
                }
            }
            ValueDistribution::Lognormal { .. } => {
                let (mu, sigma) = self.lognormal_params_f64().unwrap_or((f64::NAN, f64::NAN));
                if x <= 0.0 {
                    0.0
                } else if sigma == 0.0 {
                    if x.ln() >= mu { 1.0 } else { 0.0 }
                } else {
                    normal_cdf((x.ln() - mu) / sigma)
                }
            }
        }
    }

    /// Inverse-CDF quantile as a `Decimal` rounded to [`F64_SIGNIFICANT_DIGITS`]
    /// significant digits: the smallest `x` with `F(x) ≥ q`. `q` outside `[0, 1]`, or
    /// `q = 1` of a lognormal, is an error.
    pub fn quantile(&self, q: Decimal) -> Result<Decimal, SimError> {
        self.validate("distribution")?;
        if q < Decimal::ZERO || q > Decimal::ONE {
            return Err(ModelError::Probability {
                field: "quantile q".into(),
                value: q,
            }
            .into());
        }
        match *self {
            ValueDistribution::Fixed { value } => return Ok(value),
            ValueDistribution::Pert { min, max, .. } | ValueDistribution::Triangular { min, max, .. } => {
                if q.is_zero() {
                    return Ok(min);
                }
                if q == Decimal::ONE {
                    return Ok(max);
                }
            }
            ValueDistribution::Lognormal { sd, mean } => {
                if q == Decimal::ONE && !sd.is_zero() {
                    return Err(SimError::Numeric(
                        "lognormal quantile at q = 1 is unbounded".into(),
                    ));
                }
                if sd.is_zero() {
                    return Ok(mean);
                }
            }
        }
        from_f64(self.quantile_f64(to_f64(q)), "quantile")
    }

    /// A sampler for the simulation.
    pub(crate) fn sampler(&self) -> Result<Sampler, SimError> {
        Ok(match *self {
            ValueDistribution::Fixed { value } => Sampler::Fixed(to_f64(value)),
            ValueDistribution::Pert { min, mode, max } => {
                let (a, c, b) = (to_f64(min), to_f64(mode), to_f64(max));
                if b <= a {
                    Sampler::Fixed(a)
                } else {
                    let (alpha, beta) = pert_shape(a, c, b);
                    let dist =
                        Beta::new(alpha, beta).map_err(|e| SimError::Numeric(format!("PERT shape: {e}")))?;
                    Sampler::Pert {
                        min: a,
                        range: b - a,
                        dist,
                    }
                }
            }
            ValueDistribution::Triangular { min, mode, max } => {
                let (a, c, b) = (to_f64(min), to_f64(mode), to_f64(max));
                Sampler::Triangular { a, c, b }
            }
            ValueDistribution::Lognormal { .. } => {
                let (mu, sigma) = self
                    .lognormal_params_f64()
                    .ok_or_else(|| SimError::Numeric("lognormal parameters".into()))?;
                Sampler::Lognormal { mu, sigma }
            }
        })
    }

    /// The same distribution with every value multiplied by `factor` (≥ 0), for the
    /// sensitivity analysis.
    pub fn scaled(&self, factor: Decimal) -> Result<Self, SimError> {
        let m = |x: Decimal| {
            x.checked_mul(factor)
                .ok_or_else(|| SimError::Numeric("scaled distribution overflows".into()))
        };
        Ok(match *self {
            ValueDistribution::Fixed { value } => ValueDistribution::Fixed { value: m(value)? },
            ValueDistribution::Pert { min, mode, max } => ValueDistribution::Pert {
                min: m(min)?,
                mode: m(mode)?,
                max: m(max)?,
            },
            ValueDistribution::Triangular { min, mode, max } => ValueDistribution::Triangular {
                min: m(min)?,
                mode: m(mode)?,
                max: m(max)?,
            },
            ValueDistribution::Lognormal { mean, sd } => ValueDistribution::Lognormal {
                mean: m(mean)?,
                sd: m(sd)?,
            },
        })
    }
}

fn pert_shape(a: f64, c: f64, b: f64) -> (f64, f64) {
    let r = b - a;
    (1.0 + 4.0 * (c - a) / r, 1.0 + 4.0 * (b - c) / r)
}

fn triangular_quantile(q: f64, a: f64, c: f64, b: f64) -> f64 {
    if b <= a {
        return a;
    }
    let fc = (c - a) / (b - a);
    if q <= fc {
        a + (q * (b - a) * (c - a)).sqrt()
    } else {
        b - ((1.0 - q) * (b - a) * (b - c)).sqrt()
    }
}

/// A PERT draw as the gamma ratio `X/(X + Y)`, `X ~ Gamma(α)`, `Y ~ Gamma(β)` — the same
/// beta distribution as [`Sampler::Pert`], drawn differently: PERT shapes lie in [1, 5],
/// where Marsaglia–Tsang gammas (one normal and one uniform, a logarithm only on the
/// rare squeeze miss) take about half the time of Cheng's beta algorithm (a logarithm
/// and an exponential per draw). The delivery simulation draws one per task per path,
/// so it uses this; deal values keep [`Sampler::Pert`] so growth runs draw as before.
#[derive(Debug, Clone)]
pub(crate) struct PertGamma {
    min: f64,
    range: f64,
    x: Option<(Gamma<f64>, Gamma<f64>)>,
}

impl PertGamma {
    /// The sampler for PERT on `[min, max]` with mode `mode` (validated by the caller).
    pub(crate) fn new(min: Decimal, mode: Decimal, max: Decimal) -> Result<Self, SimError> {
        let (a, c, b) = (to_f64(min), to_f64(mode), to_f64(max));
        if b <= a {
            return Ok(PertGamma {
                min: a,
                range: 0.0,
                x: None,
            });
        }
        let (alpha, beta) = pert_shape(a, c, b);
        let gamma =
            |shape: f64| Gamma::new(shape, 1.0).map_err(|e| SimError::Numeric(format!("PERT shape: {e}")));
        Ok(PertGamma {
            min: a,
            range: b - a,
            x: Some((gamma(alpha)?, gamma(beta)?)),
        })
    }

    #[inline]
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.x {
            None => self.min,
            Some((ga, gb)) => {
                let x = ga.sample(rng);
                let y = gb.sample(rng);
                self.min + self.range * (x / (x + y))
            }
        }
    }
}

/// A compiled sampler (`f64`, used on every path).
#[derive(Debug, Clone)]
pub(crate) enum Sampler {
    Fixed(f64),
    Pert { min: f64, range: f64, dist: Beta<f64> },
    Triangular { a: f64, c: f64, b: f64 },
    Lognormal { mu: f64, sigma: f64 },
}

impl Sampler {
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Sampler::Fixed(v) => *v,
            Sampler::Pert { min, range, dist } => min + range * dist.sample(rng),
            Sampler::Triangular { a, c, b } => triangular_quantile(unit_f64(rng.next_u64()), *a, *c, *b),
            Sampler::Lognormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
        }
    }
}

/// A uniform in `[0, 1)` from 53 random bits.
#[inline]
pub(crate) fn unit_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

// ---------------------------------------------------------------- special functions

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, 9 terms; ~15 significant digits).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Modified Lentz evaluation of the continued fraction for the incomplete beta.
fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta `I_x(a, b)`.
pub(crate) fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(x, a, b) / a
    } else {
        1.0 - front * beta_cf(1.0 - x, b, a) / b
    }
}

/// Bisection for the smallest `x` in `[lo, hi]` with `f(x) ≥ q`, `f` non-decreasing.
fn bisect(q: f64, mut lo: f64, mut hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) >= q {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// Inverse of the regularized incomplete beta in `x`.
pub(crate) fn inverse_beta(q: f64, a: f64, b: f64) -> f64 {
    if q <= 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return 1.0;
    }
    bisect(q, 0.0, 1.0, |x| regularized_beta(x, a, b))
}

/// The regularized upper incomplete gamma `Q(a, x)`.
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let ln_front = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        // Series for P(a, x).
        let mut sum = 1.0 / a;
        let mut term = sum;
        let mut ap = a;
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        1.0 - sum * ln_front.exp()
    } else {
        // Continued fraction for Q(a, x) (modified Lentz).
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        ln_front.exp() * h
    }
}

/// The standard normal CDF, `Φ(x) = ½·erfc(−x/√2)` with `erfc(z) = Q(½, z²)`.
pub(crate) fn normal_cdf(x: f64) -> f64 {
    let tail = 0.5 * gamma_q(0.5, 0.5 * x * x);
    if x < 0.0 { tail } else { 1.0 - tail }
}

/// `Φ⁻¹(q)` by bisection on `Φ` (full double precision; not on the sampling path).
pub(crate) fn inverse_normal_cdf(q: f64) -> f64 {
    if q <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if q >= 1.0 {
        return f64::INFINITY;
    }
    if q < 0.5 {
        // Work in the lower tail, where Φ is computed without cancellation.
        bisect(q, -40.0, 0.0, normal_cdf)
    } else {
        // Φ is continuous and symmetric: Φ⁻¹(q) = −Φ⁻¹(1 − q).
        -bisect(1.0 - q, -40.0, 0.0, normal_cdf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_functions_match_known_values() {
        // Γ(5) = 24, Γ(0.5) = √π.
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        // Φ(1.959963984540054) = 0.975; Φ(0) = 0.5.
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-13);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-15);
        assert!((inverse_normal_cdf(0.975) - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((inverse_normal_cdf(0.1) + 1.281_551_565_544_600_4).abs() < 1e-9);
        // I_x(1, 1) = x; I_x(2, 2) = 3x² − 2x³.
        assert!((regularized_beta(0.3, 1.0, 1.0) - 0.3).abs() < 1e-14);
        let x: f64 = 0.3;
        assert!((regularized_beta(x, 2.0, 2.0) - (3.0 * x * x - 2.0 * x * x * x)).abs() < 1e-14);
        assert!((inverse_beta(0.216, 2.0, 2.0) - 0.3).abs() < 1e-9);
    }

    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn d(x: u32) -> Decimal {
        Decimal::from(x)
    }

    fn f(x: Decimal) -> f64 {
        x.to_f64().unwrap()
    }

    /// Sample mean within 5 standard errors of the exact mean, and sample variance
    /// within 15 % of the theoretical one.
    fn check_moments(dist: &ValueDistribution, var: f64, seed: u64) {
        let sampler = dist.sampler().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| sampler.sample(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
        let mean = f(dist.mean().unwrap());
        let se = (var / n as f64).sqrt();
        assert!(
            (m - mean).abs() <= 5.0 * se + 1e-9,
            "{dist:?}: sample mean {m} vs {mean}"
        );
        if var > 0.0 {
            assert!(
                (v / var - 1.0).abs() < 0.15,
                "{dist:?}: sample variance {v} vs {var}"
            );
        }
    }

    /// ∫₀¹ Q(u) du (midpoint rule) equals the mean: the quantile function carries the
    /// right first moment.
    fn quantile_mean(dist: &ValueDistribution) -> f64 {
        let k = 1000;
        (0..k)
            .map(|i| dist.quantile_f64((i as f64 + 0.5) / k as f64))
            .sum::<f64>()
            / k as f64
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn pert_moments_and_quantiles(a in 0u32..1000, w1 in 1u32..1000, w2 in 1u32..1000, seed in 0u64..1000) {
            let (min, mode, max) = (d(a), d(a + w1), d(a + w1 + w2));
            let dist = ValueDistribution::pert(min, mode, max).unwrap();
            let mean = dist.mean().unwrap();
            prop_assert!((mean * Decimal::from(6) - (min + mode * Decimal::from(4) + max)).abs() < Decimal::new(1, 20));
            let (fm, fa, fb) = (f(mean), f(min), f(max));
            check_moments(&dist, (fm - fa) * (fb - fm) / 7.0, seed);
            prop_assert!((quantile_mean(&dist) - fm).abs() < 2e-3 * (fb - fa));
            prop_assert_eq!(dist.quantile(Decimal::ZERO).unwrap(), min);
            prop_assert_eq!(dist.quantile(Decimal::ONE).unwrap(), max);
            let mut last = min;
            for q in 1..20u32 {
                let x = dist.quantile(Decimal::new(i64::from(q) * 5, 2)).unwrap();
                prop_assert!(x >= last && x <= max);
                prop_assert!((dist.cdf_f64(f(x)) - f64::from(q) * 0.05).abs() < 1e-6);
                last = x;
            }
        }

        #[test]
        fn triangular_moments_and_quantiles(a in 0u32..1000, w1 in 0u32..1000, w2 in 1u32..1000, seed in 0u64..1000) {
            let (min, mode, max) = (d(a), d(a + w1), d(a + w1 + w2));
            let dist = ValueDistribution::triangular(min, mode, max).unwrap();
            let mean = dist.mean().unwrap();
            prop_assert!((mean * Decimal::from(3) - (min + mode + max)).abs() < Decimal::new(1, 20));
            let (x, c, y) = (f(min), f(mode), f(max));
            check_moments(&dist, (x * x + y * y + c * c - x * y - x * c - y * c) / 18.0, seed);
            prop_assert!((quantile_mean(&dist) - f(mean)).abs() < 2e-3 * (y - x));
            // F(mode) = (mode − min)/(max − min): the quantile there is the mode.
            let fc = (c - x) / (y - x);
            prop_assert!((dist.quantile_f64(fc) - c).abs() < 1e-9 * y.max(1.0));
            for q in 1..20u32 {
                let qq = f64::from(q) * 0.05;
                prop_assert!((dist.cdf_f64(dist.quantile_f64(qq)) - qq).abs() < 1e-9);
            }
        }

        #[test]
        fn lognormal_moments_and_quantiles(mean in 1u32..10_000, cv in 0u32..150, seed in 0u64..1000) {
            let m = d(mean);
            let sd = Decimal::from(mean) * Decimal::new(i64::from(cv), 2);
            let dist = ValueDistribution::lognormal(m, sd).unwrap();
            prop_assert_eq!(dist.mean().unwrap(), m);
            let (mu, sigma) = dist.lognormal_params_f64().unwrap();
            // E[X] = exp(μ + σ²/2); Var[X] = (exp(σ²) − 1)·exp(2μ + σ²).
            prop_assert!(((mu + sigma * sigma / 2.0).exp() / f(m) - 1.0).abs() < 1e-12);
            let var = ((sigma * sigma).exp() - 1.0) * (2.0 * mu + sigma * sigma).exp();
            prop_assert!((var.sqrt() / f(sd).max(1e-300) - 1.0).abs() < 1e-9 || cv == 0);
            if cv <= 60 {
                // Heavier tails make the sample variance too noisy for a 15 % band.
                check_moments(&dist, var, seed);
            }
            // Median exp(μ); quantiles increasing and inverting the CDF.
            if cv > 0 {
                let med = f(dist.quantile(Decimal::new(5, 1)).unwrap());
                prop_assert!((med / mu.exp() - 1.0).abs() < 1e-11);
                prop_assert_eq!(dist.mu().unwrap(), from_f64(mu, "mu").unwrap());
                prop_assert_eq!(dist.sigma().unwrap(), from_f64(sigma, "sigma").unwrap());
                let mut last = 0.0;
                for q in 1..20u32 {
                    let qq = f64::from(q) * 0.05;
                    let x = dist.quantile_f64(qq);
                    prop_assert!(x > last);
                    prop_assert!((dist.cdf_f64(x) - qq).abs() < 1e-9);
                    last = x;
                }
                prop_assert!(dist.quantile(Decimal::ONE).is_err());
            }
        }
    }

    /// Small values keep [`F64_SIGNIFICANT_DIGITS`] significant digits (decimal places
    /// would leave a median of 0.0098… with four). Expected values from 40-digit
    /// arithmetic (mpmath), rounded to 12 significant digits, compared exactly.
    #[test]
    fn results_keep_twelve_significant_digits() {
        use rust_decimal_macros::dec;
        assert_eq!(F64_SIGNIFICANT_DIGITS, 12);
        // Lognormal median e^μ = mean / √(1 + cv²) = 0.01 / √1.04 = 0.0098058067569092016…
        let ln = ValueDistribution::lognormal(dec!(0.01), dec!(0.002)).unwrap();
        assert_eq!(ln.quantile(dec!(0.5)).unwrap(), dec!(0.00980580675691));
        // Triangular above the mode: max − √((1 − q)(max − min)(max − mode))
        // = 0.001 − √(4.5e-7) = 0.00032917960675006309…
        let tri = ValueDistribution::triangular(dec!(0), dec!(0.0001), dec!(0.001)).unwrap();
        assert_eq!(tri.quantile(dec!(0.5)).unwrap(), dec!(0.00032917960675));
        // μ = ln 100 − ln(1.25)/2 = 4.4935984103309864…, σ = √ln 1.25 = 0.47238072707743883…
        let ln = ValueDistribution::lognormal(dec!(100), dec!(50)).unwrap();
        assert_eq!(ln.mu().unwrap(), dec!(4.49359841033));
        assert_eq!(ln.sigma().unwrap(), dec!(0.472380727077));
        // A tiny coefficient of variation (1e-5): σ = √ln(1 + 1e-10) = 9.99999999975e-6
        // (ln(1 + cv²) without ln_1p gave 1.0000000413e-5), μ = 4.6051701859380913680…
        let narrow = ValueDistribution::lognormal(dec!(100), dec!(0.001)).unwrap();
        assert_eq!(narrow.sigma().unwrap(), dec!(0.00000999999999975));
        assert_eq!(narrow.mu().unwrap(), dec!(4.60517018594));
        // Exact short values stay short (normalized), and large values round too.
        assert_eq!(from_f64(0.5, "x").unwrap(), dec!(0.5));
        assert_eq!(
            from_f64(123_456_789.123_456_78, "x").unwrap(),
            dec!(123456789.123)
        );
        assert_eq!(from_f64(0.0, "x").unwrap(), Decimal::ZERO);
        assert!(matches!(from_f64(f64::NAN, "x"), Err(SimError::Numeric(_))));
        assert!(matches!(from_f64(f64::INFINITY, "x"), Err(SimError::Numeric(_))));
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        assert!(matches!(
            ValueDistribution::pert(d(3), d(2), d(1)),
            Err(SimError::Model(ModelError::DistributionOrder { .. }))
        ));
        assert!(matches!(
            ValueDistribution::triangular(d(1), d(5), d(4)),
            Err(SimError::Model(ModelError::DistributionOrder { .. }))
        ));
        assert!(matches!(
            ValueDistribution::lognormal(d(10), Decimal::NEGATIVE_ONE),
            Err(SimError::Model(ModelError::Negative { .. }))
        ));
        let p = ValueDistribution::pert(d(1), d(2), d(3)).unwrap();
        assert!(matches!(
            p.quantile(Decimal::TWO),
            Err(SimError::Model(ModelError::Probability { .. }))
        ));
        assert!(p.mu().is_err());
        // Degenerate ranges.
        let point = ValueDistribution::pert(d(5), d(5), d(5)).unwrap();
        assert_eq!(point.quantile(Decimal::new(3, 1)).unwrap(), d(5));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"kind":"pert","min":"1","mode":"2","max":"3"}"#);
        assert_eq!(serde_json::from_str::<ValueDistribution>(&json).unwrap(), p);
    }
}
