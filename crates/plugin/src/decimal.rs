//! Decimals on the boundary: canonical strings (see `types.decimal` in `wit/rules.wit`).

use rust_decimal::Decimal;

/// The canonical text of `value`; its scale is kept so a round trip is byte-identical.
pub(crate) fn to_wit(value: Decimal) -> String {
    value.to_string()
}

/// Whether `text` is a canonical decimal: `-`? digits (`.` digits)?, nothing else.
pub(crate) fn is_canonical(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match digits.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (digits, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses a decimal a plugin returned in `field`; the error text names the field.
pub(crate) fn from_wit(field: &str, text: &str) -> Result<Decimal, String> {
    if !is_canonical(text) {
        return Err(format!("{field}: {text:?} is not a canonical decimal"));
    }
    Decimal::from_str_exact(text).map_err(|e| format!("{field}: {text:?} is not a decimal: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn round_trip_keeps_scale() {
        for d in [
            dec!(0),
            dec!(-30.9500),
            dec!(51547.50),
            Decimal::MAX,
            Decimal::MIN,
            dec!(0.0000000000000000000000000001),
        ] {
            let text = to_wit(d);
            assert!(is_canonical(&text), "{text}");
            let back = from_wit("x", &text).unwrap();
            assert_eq!(back, d);
            assert_eq!(to_wit(back), text);
        }
    }

    #[test]
    fn rejects_non_canonical_text_naming_the_field() {
        for bad in [
            "", "-", "+1", "1e3", "1.", ".5", " 1", "1_000", "1,5", "NaN", "inf", "--1", "0x10",
        ] {
            let err = from_wit("adjustments[0].amount", bad).unwrap_err();
            assert!(err.starts_with("adjustments[0].amount: "), "{err}");
        }
        assert!(from_wit("total", "79228162514264337593543950336").is_err());
        assert!(from_wit("total", "1.00000000000000000000000000001").is_err());
    }
}
