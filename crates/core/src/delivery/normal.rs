//! The standard normal distribution in `Decimal`: Φ(z), its inverse z(q), and a square
//! root — what the PERT project needs for P(finish by x) and the duration for a
//! confidence.
//!
//! Everything is `Decimal` arithmetic (no `f64`): Φ from its Taylor series
//! `Φ(z) = ½ + φ(z)·Σ z^(2n+1)/(1·3·…·(2n+1))` for |z| ≤ 5, and from the upper tail's
//! continued fraction `Q(z) = φ(z)/(z + 1/(z + 2/(z + 3/(z + …))))` beyond, so tails
//! keep their relative precision; `φ` uses `rust_decimal`'s 28-digit `exp`. The inverse
//! is Newton's method on the tail (monotone from z = 0, quadratic near the root). Results
//! are rounded to [`NORMAL_PLACES`] decimal places; the tests hold them to 1e-20 of
//! mpmath's 40-digit values. rust_decimal's own `norm_cdf` (a 7-digit approximation) and
//! `sqrt` (which may panic after 1,000 iterations) are deliberately not used.
//!
//! It is **not** a statistics library: no other distributions, no parameters.

use rust_decimal::{Decimal, MathematicalOps};

/// Decimal places of [`cdf`] and [`inverse_cdf`].
pub const NORMAL_PLACES: u32 = 20;

/// √(2π) to 27 places.
const SQRT_2PI: Decimal = Decimal::from_parts(1_931_325_221, 207_988_598, 135_884_591, false, 27);

/// 1/√(2π) to 28 places.
const INV_SQRT_2PI: Decimal = Decimal::from_parts(2_880_526_071, 2_378_455_365, 216_267_043, false, 28);

/// Where the series hands over to the continued fraction.
const SERIES_LIMIT: Decimal = Decimal::from_parts(5, 0, 0, false, 0);

/// Beyond this, `φ(z)` is below `Decimal`'s smallest unit (e^(−z²/2) < 1e-28).
const TAIL_LIMIT: Decimal = Decimal::from_parts(12, 0, 0, false, 0);

/// The density φ(z); 0 where it is below 1e-28.
fn density(z: Decimal) -> Decimal {
    let z = z.abs();
    if z > TAIL_LIMIT {
        return Decimal::ZERO;
    }
    let half_sq = z * z / Decimal::TWO;
    // e^(−x) = 1/e^x, and e^72 (z = 12) is within Decimal's range.
    match half_sq.checked_exp() {
        Some(e) if !e.is_zero() => INV_SQRT_2PI.checked_div(e).unwrap_or(Decimal::ZERO),
        _ => Decimal::ZERO,
    }
}

/// The series `S(z) = Σ z^(2n+1)/(1·3·…·(2n+1))`, so that `Φ(z) = ½ + φ(z)·S(z)`; for
/// |z| ≤ 5 (terms stay below about 3e5).
fn series(z: Decimal) -> Decimal {
    let sq = z * z;
    let mut term = z;
    let mut sum = z;
    let mut k = Decimal::ONE;
    for _ in 0..500 {
        k += Decimal::TWO;
        term = term * sq / k;
        if term.is_zero() {
            break;
        }
        let next = sum + term;
        if next == sum {
            break;
        }
        sum = next;
    }
    sum
}

/// The continued fraction `z + 1/(z + 2/(z + 3/(z + …)))` for z > 5, so that
/// `Q(z) = φ(z)/fraction` (modified Lentz; every partial value stays above z).
fn fraction(z: Decimal) -> Decimal {
    let mut f = z;
    let mut c = z;
    let mut d = Decimal::ZERO;
    let mut n = Decimal::ZERO;
    for _ in 0..1000 {
        n += Decimal::ONE;
        d = Decimal::ONE / (z + n * d);
        c = z + n / c;
        let delta = c * d;
        f *= delta;
        if (delta - Decimal::ONE).abs() < Decimal::new(1, 27) {
            break;
        }
    }
    f
}

/// The upper tail Q(z) = 1 − Φ(z) for z ≥ 0.
fn upper_tail(z: Decimal) -> Decimal {
    let z = z.abs();
    if z <= SERIES_LIMIT {
        return Decimal::new(5, 1) - density(z) * series(z);
    }
    let phi = density(z);
    if phi.is_zero() {
        return Decimal::ZERO;
    }
    phi / fraction(z)
}

/// Newton's step `(Q(z) − p)/φ(z)` for z ≥ 0, written so that no tiny φ is divided by:
/// `(½ − p)·√(2π)·e^(z²/2) − S(z)` on the series side, `1/fraction − p·√(2π)·e^(z²/2)`
/// beyond. (φ itself has only 28 decimal places, so φ(6.4) ≈ 1.9e-9 keeps 19 digits.)
fn newton_step(z: Decimal, p: Decimal) -> Option<Decimal> {
    // √(2π)·e^(z²/2) first: a small p times √(2π) would lose digits to the 28 places.
    let grow = (z * z / Decimal::TWO).checked_exp()?.checked_mul(SQRT_2PI)?;
    if z <= SERIES_LIMIT {
        let a = (Decimal::new(5, 1) - p).checked_mul(grow)?;
        a.checked_sub(series(z))
    } else {
        let b = p.checked_mul(grow)?;
        Decimal::ONE.checked_div(fraction(z))?.checked_sub(b)
    }
}

/// Φ(z), the standard normal CDF, rounded to [`NORMAL_PLACES`] places (normalized).
pub fn cdf(z: Decimal) -> Decimal {
    let p = if z.is_sign_negative() {
        upper_tail(z)
    } else {
        Decimal::ONE - upper_tail(z)
    };
    p.round_dp(NORMAL_PLACES).normalize()
}

/// z(q), the standard normal quantile, for q in (0, 1), rounded to [`NORMAL_PLACES`]
/// places; `None` outside (0, 1).
pub fn inverse_cdf(q: Decimal) -> Option<Decimal> {
    if q <= Decimal::ZERO || q >= Decimal::ONE {
        return None;
    }
    let half = Decimal::new(5, 1);
    if q == half {
        return Some(Decimal::ZERO);
    }
    // Solve Q(z) = p on the upper side (p = the smaller tail) and mirror.
    let (p, sign) = if q > half {
        (Decimal::ONE - q, Decimal::ONE)
    } else {
        (q, -Decimal::ONE)
    };
    // Q is convex and decreasing on z ≥ 0, so Newton from 0 climbs monotonically to the
    // root: z ← z + (Q(z) − p)/φ(z).
    let mut z = Decimal::ZERO;
    let eps = Decimal::new(1, 25);
    for _ in 0..200 {
        let Some(step) = newton_step(z, p) else {
            break;
        };
        z += step;
        if step.abs() < eps {
            break;
        }
    }
    Some((sign * z).round_dp(NORMAL_PLACES).normalize())
}

/// √x for x ≥ 0 (`None` for x < 0), to `Decimal`'s precision: Newton's method from above
/// (every iterate after the first is ≥ √x), stopped when it no longer decreases.
pub fn sqrt(x: Decimal) -> Option<Decimal> {
    if x.is_sign_negative() && !x.is_zero() {
        return None;
    }
    if x.is_zero() {
        return Some(Decimal::ZERO);
    }
    let mut y = if x >= Decimal::ONE { x } else { Decimal::ONE };
    for _ in 0..400 {
        // y/2 + (x/y)/2 rather than (y + x/y)/2: y + x/y can exceed Decimal::MAX.
        let next = y / Decimal::TWO + x.checked_div(y)? / Decimal::TWO;
        if next >= y {
            break;
        }
        y = next;
    }
    Some(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// Reference values: mpmath 1.3 at 50 digits (`ncdf(z)`, `sqrt(2)·erfinv(2q − 1)`),
    /// rounded to 25 places.
    #[test]
    fn cdf_matches_mpmath_to_1e_20() {
        for (z, want) in [
            (dec!(0), dec!(0.5)),
            (dec!(0.5), dec!(0.6914624612740131036377046)),
            (dec!(1), dec!(0.8413447460685429485852325)),
            (dec!(-1), dec!(0.1586552539314570514147675)),
            (dec!(2), dec!(0.9772498680518207927997174)),
            (dec!(3), dec!(0.9986501019683699054733482)),
            (dec!(-3), dec!(0.0013498980316300945266518)),
            (dec!(4.5), dec!(0.9999966023268752699395983)),
            (dec!(5), dec!(0.9999997133484281208060883)),
            (dec!(5.5), dec!(0.9999999810104375341122806)),
            (dec!(-6), dec!(0.0000000009865876450376981)),
            (dec!(8), dec!(0.9999999999999993779039426)),
            (dec!(-8.5), dec!(0.0000000000000000094795348)),
            (dec!(10.5), dec!(1)),
            (dec!(13), dec!(1)),
            (dec!(-40), dec!(0)),
        ] {
            let got = cdf(z);
            assert!((got - want).abs() <= dec!(1e-20), "Φ({z}) = {got}, want {want}");
        }
        // The brief's check values.
        assert!((cdf(dec!(1)) - dec!(0.841344746068543)).abs() < dec!(1e-15));
    }

    #[test]
    fn inverse_matches_mpmath_to_1e_20() {
        for (q, want) in [
            (dec!(0.5), dec!(0)),
            (dec!(0.6), dec!(0.2533471031357997987981962)),
            (dec!(0.8), dec!(0.8416212335729142051787061)),
            (dec!(0.9), dec!(1.2815515655446004669651033)),
            (dec!(0.95), dec!(1.6448536269514727148638489)),
            (dec!(0.975), dec!(1.9599639845400542355245944)),
            (dec!(0.99), dec!(2.3263478740408411008856062)),
            (dec!(0.999), dec!(3.0902323061678135415403998)),
            (dec!(0.05), dec!(-1.6448536269514727148638489)),
            (dec!(1e-10), dec!(-6.3613409024040562046953758)),
            (dec!(0.9999999999), dec!(6.3613409024040562046953758)),
        ] {
            let got = inverse_cdf(q).unwrap();
            assert!((got - want).abs() <= dec!(1e-20), "z({q}) = {got}, want {want}");
        }
        assert!((inverse_cdf(dec!(0.95)).unwrap() - dec!(1.644853626951472)).abs() < dec!(1e-15));
        assert_eq!(inverse_cdf(dec!(0)), None);
        assert_eq!(inverse_cdf(dec!(1)), None);
        assert_eq!(inverse_cdf(dec!(-0.5)), None);
    }

    #[test]
    fn sqrt_is_exact_on_squares_and_close_elsewhere() {
        for (x, r) in [
            (dec!(0), dec!(0)),
            (dec!(4), dec!(2)),
            (dec!(0.0009), dec!(0.03)),
            (dec!(1e20), dec!(1e10)),
        ] {
            assert_eq!(sqrt(x).unwrap(), r);
        }
        let two = sqrt(dec!(2)).unwrap();
        assert_eq!(two.round_dp(27), dec!(1.414213562373095048801688724));
        for x in [
            dec!(1e-28),
            dec!(79228162514264337593543950335),
            dec!(0.5),
            dec!(123456.789),
        ] {
            let r = sqrt(x).unwrap();
            assert!((r / (x / r) - Decimal::ONE).abs() < dec!(1e-26), "{x}");
        }
        assert_eq!(sqrt(dec!(-1)), None);
    }

    #[test]
    fn constants_are_what_they_say() {
        assert_eq!(SQRT_2PI, dec!(2.506628274631000502415765285));
        assert_eq!(INV_SQRT_2PI, dec!(0.3989422804014326779399460599));
    }
}
