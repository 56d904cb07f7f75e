//! Decimals on the boundary: canonical strings (see `types.decimal` in `wit/rules.wit`).

use kam_core::canonical;
use rust_decimal::Decimal;

/// The canonical text of `value`; its scale is kept so a round trip is byte-identical.
pub(crate) fn to_wit(value: Decimal) -> String {
    canonical::format(value)
}

/// Parses a decimal a plugin returned; `field` (built only on error) names it.
pub(crate) fn from_wit(text: &str, field: impl FnOnce() -> String) -> Result<Decimal, String> {
    canonical::parse(text).map_err(|e| format!("{}: {text:?} {e}", field()))
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
            let back = from_wit(&text, || "x".into()).unwrap();
            assert_eq!(back, d);
            assert_eq!(to_wit(back), text);
        }
    }

    #[test]
    fn rejects_non_canonical_text_naming_the_field() {
        for bad in [
            "", "-", "+1", "1e3", "1.", ".5", " 1", "1_000", "1,5", "NaN", "inf", "--1", "0x10",
        ] {
            let err = from_wit(bad, || "adjustments[0].amount".into()).unwrap_err();
            assert!(err.starts_with("adjustments[0].amount: "), "{err}");
        }
        assert!(from_wit("79228162514264337593543950336", || "total".into()).is_err());
        assert!(from_wit("1.00000000000000000000000000001", || "total".into()).is_err());
    }
}
