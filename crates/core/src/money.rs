//! Exact money: [`Currency`] with ISO 4217 minor units, [`Money`], [`RoundingPolicy`]
//! and FX conversion at an explicit, dated [`FxRate`].
//!
//! Amounts are never rounded implicitly. Unit rates keep all their decimals; only billed
//! amounts are rounded, with the policy that travels with a quote. Adding or comparing
//! money in different currencies is a [`MoneyError::CurrencyMismatch`]; convert first.
//!
//! ```
//! use kam_core::money::{Currency, Money, RoundingMode};
//! use rust_decimal::Decimal;
//!
//! let bhd = Currency::from_code("BHD")?;
//! assert_eq!(bhd.minor_units(), 3);
//! let m = Money::new("2.34550".parse().unwrap(), bhd);
//! assert_eq!(m.round(RoundingMode::HalfEven).amount(), "2.346".parse::<Decimal>().unwrap());
//! # Ok::<(), kam_core::money::MoneyError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::num::{self, ArithmeticError};

/// What can go wrong with money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// A code that is not in kam's ISO 4217 table.
    #[error("unknown currency code {code:?} (expected an ISO 4217 code such as EUR, USD, JPY)")]
    UnknownCurrency {
        /// The code as given.
        code: String,
    },
    /// Two amounts in different currencies were combined without an FX rate.
    #[error("currency mismatch in {operation}: {left} vs {right} (convert with an FX rate first)")]
    CurrencyMismatch {
        /// What was being computed.
        operation: String,
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// An FX rate that is zero or negative.
    #[error("FX rate {from}/{to} on {as_of} must be positive, got {rate}")]
    InvalidFxRate {
        /// Base currency.
        from: Currency,
        /// Quote currency.
        to: Currency,
        /// The rate as given.
        rate: Decimal,
        /// The rate's date.
        as_of: NaiveDate,
    },
    /// A rounding mode name other than `half_even` / `half_up`.
    #[error("unknown rounding mode {0:?}: expected \"half_even\" or \"half_up\"")]
    UnknownRoundingMode(String),
    /// A rounding level name other than `line` / `total`.
    #[error("unknown rounding level {0:?}: expected \"line\" or \"total\"")]
    UnknownRoundingLevel(String),
    /// Overflow or division by zero.
    #[error(transparent)]
    Arithmetic(#[from] ArithmeticError),
}

/// ISO 4217 alphabetic code → minor units (decimal places of the currency's subunit).
///
/// Covers the currencies of the 40+ largest economies, the three-decimal currencies and
/// common others in contract logistics. Source: ISO 4217 list one (SIX Group), 2024.
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KZT", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PEN", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("VND", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("ZAR", 2),
];

/// An ISO 4217 currency. `Copy`, compared by code; serialized as its code (`"EUR"`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

impl Currency {
    /// Looks up an ISO 4217 code (upper case, e.g. `"EUR"`).
    ///
    /// # Errors
    /// [`MoneyError::UnknownCurrency`] for a code not in the table.
    pub fn from_code(code: &str) -> Result<Self, MoneyError> {
        ISO_4217
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, units)| {
                let b = c.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    minor_units: *units,
                }
            })
            .ok_or_else(|| MoneyError::UnknownCurrency {
                code: code.to_owned(),
            })
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The table holds ASCII codes only.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Decimal places of the minor unit: EUR 2, JPY 0, BHD 3.
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }

    /// Every currency kam knows, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        ISO_4217.iter().filter_map(|(c, _)| Currency::from_code(c).ok())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code).map_err(serde::de::Error::custom)
    }
}

/// How a midpoint is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Banker's rounding: 0.125 → 0.12 (`"half_even"`).
    HalfEven,
    /// Half away from zero: 0.125 → 0.13, −2.345 → −2.35 (`"half_up"`).
    #[default]
    HalfUp,
}

impl RoundingMode {
    /// The `rust_decimal` strategy for this mode.
    pub fn strategy(self) -> RoundingStrategy {
        match self {
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        }
    }

    /// `value` rounded to `dp` decimal places in this mode.
    pub fn round(self, value: Decimal, dp: u32) -> Decimal {
        value.round_dp_with_strategy(dp, self.strategy())
    }

    /// The name used in files and scripts.
    pub fn as_str(self) -> &'static str {
        match self {
            RoundingMode::HalfEven => "half_even",
            RoundingMode::HalfUp => "half_up",
        }
    }
}

impl FromStr for RoundingMode {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "half_even" => Ok(RoundingMode::HalfEven),
            "half_up" => Ok(RoundingMode::HalfUp),
            other => Err(MoneyError::UnknownRoundingMode(other.to_owned())),
        }
    }
}

/// Where rounding to the minor unit happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingLevel {
    /// Each billed line is rounded; the total is the sum of rounded lines (`"line"`).
    #[default]
    Line,
    /// Lines keep full precision; only the total is rounded (`"total"`).
    Total,
}

impl FromStr for RoundingLevel {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "line" => Ok(RoundingLevel::Line),
            "total" => Ok(RoundingLevel::Total),
            other => Err(MoneyError::UnknownRoundingLevel(other.to_owned())),
        }
    }
}

/// The rounding policy that travels with a rate card and every quote priced from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct RoundingPolicy {
    /// Midpoint rule.
    pub mode: RoundingMode,
    /// Per line or per total.
    pub level: RoundingLevel,
}

impl RoundingPolicy {
    /// A policy from its parts.
    pub const fn new(mode: RoundingMode, level: RoundingLevel) -> Self {
        RoundingPolicy { mode, level }
    }
}

/// An exact amount in one currency. Never rounded unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// `amount` in `currency`, unrounded.
    pub const fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Money {
            amount: Decimal::ZERO,
            currency,
        }
    }

    /// The exact amount.
    pub const fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Rounded to the currency's minor units with `mode`.
    pub fn round(&self, mode: RoundingMode) -> Money {
        Money {
            amount: mode.round(self.amount, self.currency.minor_units()),
            currency: self.currency,
        }
    }

    fn same_currency(&self, other: &Money, operation: &str) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                operation: operation.to_owned(),
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`; different currencies or overflow are errors.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other, "money addition")?;
        Ok(Money::new(
            num::add(self.amount, other.amount, "money addition")?,
            self.currency,
        ))
    }

    /// `self − other`; different currencies or overflow are errors.
    pub fn checked_sub(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other, "money subtraction")?;
        Ok(Money::new(
            num::sub(self.amount, other.amount, "money subtraction")?,
            self.currency,
        ))
    }

    /// `self × factor` (a rate, quantity or ratio), unrounded.
    pub fn checked_mul(&self, factor: Decimal) -> Result<Money, MoneyError> {
        Ok(Money::new(
            num::mul(self.amount, factor, "money multiplication")?,
            self.currency,
        ))
    }

    /// `self ÷ divisor`, unrounded; zero is an error.
    pub fn checked_div(&self, divisor: Decimal) -> Result<Money, MoneyError> {
        Ok(Money::new(
            num::div(self.amount, divisor, "money division")?,
            self.currency,
        ))
    }

    /// Compares amounts of the same currency.
    pub fn checked_cmp(&self, other: &Money) -> Result<std::cmp::Ordering, MoneyError> {
        self.same_currency(other, "money comparison")?;
        Ok(self.amount.cmp(&other.amount))
    }

    /// The sum of `items`, all in `currency`.
    pub fn sum<'a, I>(currency: Currency, items: I) -> Result<Money, MoneyError>
    where
        I: IntoIterator<Item = &'a Money>,
    {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }
}

impl fmt::Display for Money {
    /// `12.50 EUR`: the amount as stored (round first for display at minor units).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// A dated exchange rate: one unit of `from` buys `rate` units of `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FxRate {
    /// Base currency.
    pub from: Currency,
    /// Quote currency.
    pub to: Currency,
    /// Units of `to` per unit of `from`; must be positive.
    pub rate: Decimal,
    /// The fixing date the contract refers to.
    pub as_of: NaiveDate,
}

impl FxRate {
    /// A validated rate.
    ///
    /// # Errors
    /// [`MoneyError::InvalidFxRate`] when `rate <= 0`.
    pub fn new(from: Currency, to: Currency, rate: Decimal, as_of: NaiveDate) -> Result<Self, MoneyError> {
        let fx = FxRate {
            from,
            to,
            rate,
            as_of,
        };
        fx.validate()?;
        Ok(fx)
    }

    fn validate(&self) -> Result<(), MoneyError> {
        if self.rate <= Decimal::ZERO {
            return Err(MoneyError::InvalidFxRate {
                from: self.from,
                to: self.to,
                rate: self.rate,
                as_of: self.as_of,
            });
        }
        Ok(())
    }

    /// Converts `money` in either direction of this rate (`from → to` multiplies,
    /// `to → from` divides), unrounded; any other currency is a mismatch.
    pub fn convert(&self, money: &Money) -> Result<Money, MoneyError> {
        self.validate()?;
        if money.currency == self.from {
            Ok(Money::new(
                num::mul(money.amount, self.rate, "FX conversion")?,
                self.to,
            ))
        } else if money.currency == self.to {
            Ok(Money::new(
                num::div(money.amount, self.rate, "FX conversion")?,
                self.from,
            ))
        } else {
            Err(MoneyError::CurrencyMismatch {
                operation: format!("FX conversion with {}/{}", self.from, self.to),
                left: money.currency,
                right: self.from,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn eur() -> Currency {
        Currency::from_code("EUR").unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn minor_units_match_iso_4217() {
        // Source: shared/vectors/pricing.toml [rounding].minor_units (ISO 4217).
        for (code, units) in [
            ("EUR", 2),
            ("USD", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("BHD", 3),
            ("KWD", 3),
            ("OMR", 3),
            ("TND", 3),
        ] {
            assert_eq!(
                Currency::from_code(code).map(|c| c.minor_units()),
                Ok(units),
                "{code}"
            );
        }
        assert!(Currency::all().count() >= 60);
    }

    #[test]
    fn unknown_code_is_typed_error() {
        assert_eq!(
            Currency::from_code("XYZ"),
            Err(MoneyError::UnknownCurrency { code: "XYZ".into() })
        );
        assert!(Currency::from_code("eur").is_err());
    }

    #[test]
    fn rounding_modes_on_vectors() {
        // Source: shared/vectors/pricing.toml [rounding].cases.
        for (v, even, up) in [
            (dec!(2.345), dec!(2.34), dec!(2.35)),
            (dec!(-2.345), dec!(-2.34), dec!(-2.35)),
            (dec!(0.125), dec!(0.12), dec!(0.13)),
        ] {
            assert_eq!(RoundingMode::HalfEven.round(v, 2), even);
            assert_eq!(RoundingMode::HalfUp.round(v, 2), up);
        }
    }

    #[test]
    fn mismatch_is_error() {
        let usd = Currency::from_code("USD").unwrap_or_else(|e| unreachable!("{e}"));
        let r = Money::new(dec!(1), eur()).checked_add(&Money::new(dec!(1), usd));
        assert!(matches!(r, Err(MoneyError::CurrencyMismatch { .. })));
    }

    #[test]
    fn fx_both_directions() {
        let usd = Currency::from_code("USD").unwrap_or_else(|e| unreachable!("{e}"));
        let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap_or_default();
        let fx = FxRate::new(eur(), usd, dec!(1.08), day).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            fx.convert(&Money::new(dec!(100), eur())),
            Ok(Money::new(dec!(108.00), usd))
        );
        assert_eq!(
            fx.convert(&Money::new(dec!(108), usd)).map(|m| m.amount()),
            Ok(dec!(100))
        );
        assert!(FxRate::new(eur(), usd, dec!(0), day).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let m = Money::new(dec!(5827.50), eur());
        let json = serde_json::to_string(&m).unwrap_or_default();
        assert_eq!(json, r#"{"amount":"5827.50","currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).ok(), Some(m));
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"ABC"}"#).is_err());
    }
}
