//! Number formatting for people: thousands grouping, money, percentages. The one home of
//! these rules for the CLI's tables and the report's cells; JSON keeps exact decimals.

use rust_decimal::Decimal;

/// The serde name of a unit enum value (`"amber"`, `"in_progress"`), for display only:
/// views keep the enum itself.
pub fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::from("?"),
    }
}

/// `1234567.891` → `1,234,567.89` (2 dp).
pub fn money(v: Decimal) -> String {
    grouped(v, 2)
}

/// Thousands separators with exactly `dp` decimals (rounded half to even, like
/// `Decimal::round_dp`); the grouping rule is kam-core's.
pub fn grouped(v: Decimal, dp: u32) -> String {
    kam_core::format::group_thousands(v.round_dp(dp), dp)
}

/// A fraction as a percentage with one decimal: `0.1234` → `12.3 %`.
pub fn pct_of_fraction(v: Decimal) -> String {
    format!("{:.1} %", (v * Decimal::ONE_HUNDRED).round_dp(1))
}

/// An amount in millions with one decimal (`105100000` → `105.1`).
pub fn millions(v: Decimal) -> String {
    format!("{:.1}", (v / Decimal::from(1_000_000)).round_dp(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn grouping() {
        assert_eq!(money(dec!(1234567.891)), "1,234,567.89");
        assert_eq!(money(dec!(-1234.5)), "-1,234.50");
        assert_eq!(grouped(dec!(999), 0), "999");
        assert_eq!(grouped(dec!(1000), 0), "1,000");
        assert_eq!(pct_of_fraction(dec!(0.1234)), "12.3 %");
        assert_eq!(millions(dec!(105100000)), "105.1");
    }
}
