//! Checked decimal arithmetic: overflow and division by zero are errors, never panics.
//!
//! `rust_decimal`'s operators panic on overflow; every computation on user input in kam
//! goes through these helpers (or `Decimal::checked_*` directly) instead.

use rust_decimal::Decimal;

/// An arithmetic operation that has no exact decimal result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArithmeticError {
    /// The result does not fit a 96-bit decimal.
    #[error("arithmetic overflow in {operation}")]
    Overflow {
        /// What was being computed, e.g. `"pick_line: quantity × rate"`.
        operation: String,
    },
    /// A divisor was zero.
    #[error("division by zero in {operation}")]
    DivisionByZero {
        /// What was being computed.
        operation: String,
    },
}

fn overflow(operation: &str) -> ArithmeticError {
    ArithmeticError::Overflow {
        operation: operation.to_owned(),
    }
}

/// `a + b`, or an overflow error naming `operation`.
pub fn add(a: Decimal, b: Decimal, operation: &str) -> Result<Decimal, ArithmeticError> {
    a.checked_add(b).ok_or_else(|| overflow(operation))
}

/// `a - b`, or an overflow error naming `operation`.
pub fn sub(a: Decimal, b: Decimal, operation: &str) -> Result<Decimal, ArithmeticError> {
    a.checked_sub(b).ok_or_else(|| overflow(operation))
}

/// `a × b`, or an overflow error naming `operation`.
pub fn mul(a: Decimal, b: Decimal, operation: &str) -> Result<Decimal, ArithmeticError> {
    a.checked_mul(b).ok_or_else(|| overflow(operation))
}

/// `a ÷ b`; a zero divisor or an overflow is an error naming `operation`.
pub fn div(a: Decimal, b: Decimal, operation: &str) -> Result<Decimal, ArithmeticError> {
    if b.is_zero() {
        return Err(ArithmeticError::DivisionByZero {
            operation: operation.to_owned(),
        });
    }
    a.checked_div(b).ok_or_else(|| overflow(operation))
}

/// `part` as a percentage of `whole`: `part × 100 ÷ whole`. Multiplying first keeps the
/// quotient's 28 significant digits (`2 ÷ 3 × 100` would end in a rounded `…6670`); only
/// when the product overflows is the quotient taken first. A zero `whole` or an overflow
/// is an error naming `operation`.
///
/// ```
/// use kam_core::num::percent;
/// use rust_decimal_macros::dec;
///
/// assert_eq!(percent(dec!(2), dec!(3), "margin %")?.to_string(), "66.666666666666666666666666667");
/// # Ok::<(), kam_core::num::ArithmeticError>(())
/// ```
pub fn percent(part: Decimal, whole: Decimal, operation: &str) -> Result<Decimal, ArithmeticError> {
    match part.checked_mul(Decimal::ONE_HUNDRED) {
        Some(hundredfold) => div(hundredfold, whole, operation),
        None => mul(div(part, whole, operation)?, Decimal::ONE_HUNDRED, operation),
    }
}

/// The sum of `values`, or an overflow error naming `operation`.
pub fn sum<I>(values: I, operation: &str) -> Result<Decimal, ArithmeticError>
where
    I: IntoIterator<Item = Decimal>,
{
    values
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, v| add(acc, v, operation))
}

/// `whole` split in proportion to `weights` out of `total` (normally their sum): part
/// `i` is `whole × weights[i] / total` with trailing zeros dropped, equal parts when
/// `total` is zero, and the last part the remainder, so the parts add up to `whole`
/// exactly. Multiplying before dividing keeps whole-number shares exact.
///
/// ```
/// use kam_core::num::split;
/// use rust_decimal_macros::dec;
///
/// let parts = split(dec!(11700), &[dec!(12000), dec!(6000)], dec!(18000), "revenue")?;
/// assert_eq!(parts, [dec!(7800), dec!(3900)]);
/// let thirds = split(dec!(100), &[dec!(0); 3], dec!(0), "fee")?;
/// assert_eq!(thirds.iter().sum::<rust_decimal::Decimal>(), dec!(100));
/// # Ok::<(), kam_core::num::ArithmeticError>(())
/// ```
///
/// # Errors
/// Overflow, named `operation`.
pub fn split(
    whole: Decimal,
    weights: &[Decimal],
    total: Decimal,
    operation: &str,
) -> Result<Vec<Decimal>, ArithmeticError> {
    let count = Decimal::from(weights.len());
    let mut left = whole;
    let mut parts = Vec::with_capacity(weights.len());
    for (n, w) in weights.iter().enumerate() {
        let part = if n + 1 == weights.len() {
            left
        } else if total.is_zero() {
            div(whole, count, operation)?.normalize()
        } else {
            // Division can leave trailing zeros (2000.000…); drop them.
            div(mul(whole, *w, operation)?, total, operation)?.normalize()
        };
        left = sub(left, part, operation)?;
        parts.push(part);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_and_zero_division_are_errors() {
        assert!(matches!(
            mul(Decimal::MAX, Decimal::TWO, "x"),
            Err(ArithmeticError::Overflow { .. })
        ));
        assert!(matches!(
            add(Decimal::MAX, Decimal::ONE, "x"),
            Err(ArithmeticError::Overflow { .. })
        ));
        assert!(matches!(
            sub(Decimal::MIN, Decimal::ONE, "x"),
            Err(ArithmeticError::Overflow { .. })
        ));
        assert!(matches!(
            div(Decimal::ONE, Decimal::ZERO, "x"),
            Err(ArithmeticError::DivisionByZero { .. })
        ));
        assert_eq!(sum([Decimal::ONE, Decimal::TWO], "x"), Ok(Decimal::from(3)));
    }
}
