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
