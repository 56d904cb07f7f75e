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

/// An amount as an executive reads it: currency and scale, three significant figures
/// at most (`EUR 100.2 M`, `EUR 640 k`, `EUR 1.25 bn`, `EUR 380`).
pub fn money_short(currency: &str, v: Decimal) -> String {
    let abs = v.abs();
    let (scaled, unit) = if abs >= Decimal::from(1_000_000_000) {
        (v / Decimal::from(1_000_000_000), " bn")
    } else if abs >= Decimal::from(1_000_000) {
        (v / Decimal::from(1_000_000), " M")
    } else if abs >= Decimal::from(1_000) {
        (v / Decimal::from(1_000), " k")
    } else {
        (v, "")
    };
    let dp = if unit.is_empty() {
        0
    } else if scaled.abs() >= Decimal::from(100) {
        if unit == " M" { 1 } else { 0 }
    } else if scaled.abs() >= Decimal::from(10) {
        1
    } else {
        2
    };
    let text = grouped(scaled, dp);
    let text = if dp > 0 {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    format!("{currency} {text}{unit}")
}

/// A percentage with sensible digits: one decimal below 100 (`6.5 %`), none above.
pub fn pct(v: Decimal) -> String {
    if v.abs() >= Decimal::ONE_HUNDRED {
        format!("{} %", v.round_dp(0))
    } else {
        format!("{:.1} %", v.round_dp(1))
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Nov 2026`.
pub fn month_year(d: chrono::NaiveDate) -> String {
    use chrono::Datelike as _;
    let m = MONTHS.get(d.month0() as usize).copied().unwrap_or("?");
    format!("{m} {}", d.year())
}

/// `20 Nov 2026`.
pub fn day(d: chrono::NaiveDate) -> String {
    use chrono::Datelike as _;
    format!("{} {}", d.day(), month_year(d))
}

/// A period label `2026-11` as `Nov 2026`; anything else unchanged.
pub fn period(p: &str) -> String {
    p.split_once('-')
        .and_then(|(y, m)| chrono::NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1))
        .map_or_else(|| p.to_owned(), month_year)
}

/// A snake_case identifier as a label (`supply_chain` → `Supply chain`), unless the
/// account's label table names it.
pub fn label(labels: &std::collections::BTreeMap<String, String>, id: &str) -> String {
    if let Some(l) = labels.get(id) {
        return l.clone();
    }
    let spaced = id.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
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
        assert_eq!(money_short("EUR", dec!(100164451.43)), "EUR 100.2 M");
        assert_eq!(money_short("EUR", dec!(640000)), "EUR 640 k");
        assert_eq!(money_short("EUR", dec!(1250000000)), "EUR 1.25 bn");
        assert_eq!(money_short("EUR", dec!(-12345)), "EUR -12.3 k");
        assert_eq!(money_short("EUR", dec!(380)), "EUR 380");
        assert_eq!(money_short("EUR", dec!(2000000)), "EUR 2 M");
        assert_eq!(pct(dec!(6.512)), "6.5 %");
        assert_eq!(period("2026-11"), "Nov 2026");
        assert_eq!(period("Q3"), "Q3");
        let labels = [("ops".to_owned(), "Operations".to_owned())]
            .into_iter()
            .collect();
        assert_eq!(label(&labels, "supply_chain"), "Supply chain");
        assert_eq!(label(&labels, "ops"), "Operations");
    }
}
