//! Number formatting for people: thousands grouping of exact decimals, the one home of
//! that rule for pricing explanations, the simulation's tables and the CLI's and
//! report's figures. Not the canonical wire text of the plugin contract
//! ([`crate::canonical`]).

use rust_decimal::Decimal;

/// `value` with a `,` thousands separator and at least `min_dp` decimal places
/// (more if the value has them): `group_thousands(11800, 2)` is `"11,800.00"`.
///
/// ```
/// use kam_core::format::group_thousands;
/// assert_eq!(group_thousands("-1234567.5".parse().unwrap(), 2), "-1,234,567.50");
/// assert_eq!(group_thousands("0.70".parse().unwrap(), 0), "0.70");
/// ```
pub fn group_thousands(value: Decimal, min_dp: u32) -> String {
    let mut v = value;
    if v.scale() < min_dp {
        // Raising the scale adds trailing zeros only; rescale never panics (it keeps the
        // largest scale that fits).
        v.rescale(min_dp);
    }
    let text = v.to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let mut out = String::with_capacity(text.len() + int_part.len() / 3 + 1);
    out.push_str(sign);
    let len = int_part.len();
    for (i, ch) in int_part.chars().enumerate() {
        if i > 0 && (len - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac_part {
        out.push('.');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn groups_thousands_and_pads_decimals() {
        assert_eq!(group_thousands(dec!(18000), 0), "18,000");
        assert_eq!(group_thousands(dec!(11800), 2), "11,800.00");
        assert_eq!(group_thousands(dec!(999), 2), "999.00");
        assert_eq!(group_thousands(dec!(100000), 0), "100,000");
        assert_eq!(group_thousands(dec!(-0.335), 2), "-0.335");
        assert_eq!(group_thousands(Decimal::MAX, 2), group_thousands(Decimal::MAX, 0));
    }
}
