//! Number formatting for explanations and warnings.

use rust_decimal::Decimal;

/// `value` with a `,` thousands separator and at least `min_dp` decimal places
/// (more if the value has them): `format_decimal(11800, 2)` is `"11,800.00"`.
///
/// ```
/// use kam_core::pricing::format_decimal;
/// assert_eq!(format_decimal("-1234567.5".parse().unwrap(), 2), "-1,234,567.50");
/// assert_eq!(format_decimal("0.70".parse().unwrap(), 0), "0.70");
/// ```
pub fn format_decimal(value: Decimal, min_dp: u32) -> String {
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
        assert_eq!(format_decimal(dec!(18000), 0), "18,000");
        assert_eq!(format_decimal(dec!(11800), 2), "11,800.00");
        assert_eq!(format_decimal(dec!(999), 2), "999.00");
        assert_eq!(format_decimal(dec!(100000), 0), "100,000");
        assert_eq!(format_decimal(dec!(-0.335), 2), "-0.335");
        assert_eq!(format_decimal(Decimal::MAX, 2), format_decimal(Decimal::MAX, 0));
    }
}
