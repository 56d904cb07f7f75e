//! Checked decimal arithmetic: overflow and division by zero are errors, never panics.
//!
//! `rust_decimal`'s operators panic on overflow; every computation on user input in kam
//! goes through these helpers (or `Decimal::checked_*` directly) instead.

use rust_decimal::Decimal;

/// An arithmetic operation that has no exact decimal result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
