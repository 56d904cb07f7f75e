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
#[non_exhaustive]
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
/// Every code of ISO 4217 list one (SIX Group, as published 2026-01-01, i.e. through
/// amendment 179 of 2025) that has a numeric minor unit: national currencies and the funds
/// and special codes with defined minor units (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI,
/// UYW, XAD, the CFA/CFP francs XAF, XOF, XPF, XCD, XCG).
///
/// Deliberately left out:
/// - codes whose minor unit is "N.A." in list one (precious metals XAU, XAG, XPD, XPT; the
///   units of account XDR, XSU, XUA; the bond-market units XBA–XBD; XTS and XXX): an
///   amount in them cannot be rounded to a minor unit, so kam cannot bill in them;
/// - withdrawn codes (list three), e.g. HRK (euro since 2023), SLL (redenominated to SLE),
///   CUC, ZWL (replaced by ZWG), VEF, MRO, STD.
///
/// Kept during their changeover although list one no longer carries them, so contracts and
/// stored quotes in them still load: ANG (replaced 1:1 by XCG on 2025-03-31) and BGN
/// (Bulgaria adopted the euro on 2026-01-01).
///
/// Sorted by code, without duplicates (a unit test checks this): [`Currency::all`] yields
/// codes in table order.
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BOV", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHE", 2),
    ("CHF", 2),
    ("CHW", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("COU", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MXV", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("USN", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAD", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
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
        assert_eq!(Currency::all().count(), ISO_4217.len());
    }

    #[test]
    fn full_list_one_including_recent_amendments() {
        // Source: ISO 4217 list one (SIX Group, published 2026-01-01).
        for (code, units) in [
            ("XPF", 0),
            ("RWF", 0),
            ("VUV", 0),
            ("UYI", 0),
            ("UYW", 4),
            ("CLF", 4),
            ("GHS", 2),
            ("XCG", 2),
            ("ANG", 2),
            ("SLE", 2),
            ("VES", 2),
            ("VED", 2),
            ("ZWG", 2),
            ("STN", 2),
            ("MRU", 2),
            ("XAD", 2),
            ("BOV", 2),
            ("USN", 2),
            ("LYD", 3),
        ] {
            assert_eq!(
                Currency::from_code(code).map(|c| c.minor_units()),
                Ok(units),
                "{code}"
            );
        }
        // Withdrawn codes and codes without a minor unit ("N.A.") are not billable.
        for code in [
            "HRK", "SLL", "CUC", "ZWL", "VEF", "XAU", "XDR", "XSU", "XUA", "XTS", "XXX",
        ] {
            assert!(Currency::from_code(code).is_err(), "{code}");
        }
        assert_eq!(ISO_4217.len(), 167);
    }

    #[test]
    fn table_is_sorted_unique_and_well_formed() {
        for pair in ISO_4217.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "{} must sort before {}",
                pair[0].0,
                pair[1].0
            );
        }
        for (code, units) in ISO_4217 {
            assert!(
                code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
                "{code}"
            );
            assert!(matches!(units, 0 | 2 | 3 | 4), "{code}: {units}");
        }
        let codes: Vec<String> = Currency::all().map(|c| c.code().to_owned()).collect();
        let table: Vec<&str> = ISO_4217.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, table);
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
