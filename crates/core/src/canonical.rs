//! Canonical decimal text: the exact form in which decimals cross a boundary that has no
//! decimal type (the `kam:rules` WIT contract, where `decimal = string`).
//!
//! Grammar: an optional `-`, one or more ASCII digits, optionally a `.` followed by one
//! or more digits — at most 28 after the point and a mantissa below 2^96. No `+`,
//! exponent, whitespace or separators. Trailing zeros are kept (they carry the scale), so
//! [`format`] and [`parse`] round-trip byte for byte; [`format`] writes exactly what
//! `Decimal`'s `Display` writes.
//!
//! Both sides of the plugin boundary parse and write thousands of these per call, so this
//! is a single pass with 64-bit arithmetic while the mantissa fits, rather than the
//! general-purpose parser and formatter.
//!
//! ```
//! use kam_core::canonical::{format, parse, CanonicalError};
//! use rust_decimal_macros::dec;
//!
//! assert_eq!(parse("-30.9500"), Ok(dec!(-30.9500)));
//! assert_eq!(format(dec!(-30.9500)), "-30.9500");
//! assert_eq!(parse("1e3"), Err(CanonicalError::Syntax));
//! assert_eq!(parse("79228162514264337593543950336"), Err(CanonicalError::OutOfRange));
//! ```

use rust_decimal::Decimal;

/// Why a text is not a canonical decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalError {
    /// Not of the form `-`? digits (`.` digits)?.
    #[error("is not a canonical decimal (-? digits, optionally . digits; no +, exponent or spaces)")]
    Syntax,
    /// Well formed, but more than 28 decimals or a mantissa of 2^96 or more.
    #[error("does not fit a decimal (at most 28 decimals and a 96-bit mantissa)")]
    OutOfRange,
}

const MAX_SCALE: u32 = 28;
const MANTISSA_LIMIT: u128 = 1 << 96;

/// Parses canonical decimal text exactly (scale kept).
///
/// # Errors
/// [`CanonicalError::Syntax`] for anything outside the grammar, [`CanonicalError::OutOfRange`]
/// for a well-formed number a `Decimal` cannot hold exactly.
pub fn parse(text: &str) -> Result<Decimal, CanonicalError> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    // Almost every decimal on the boundary has at most 19 digits: a u64 cannot overflow,
    // the scale is below 28, and no 128-bit arithmetic (emulated in WebAssembly) is needed.
    if digits.len() <= 19 {
        return parse_short(negative, digits);
    }
    let mut int_digits = 0u32;
    let mut frac_digits: Option<u32> = None;
    // 64-bit while the mantissa stays below 10^18, 128-bit after (rare: long numbers).
    let mut small: u64 = 0;
    let mut wide: Option<u128> = None;
    let mut overflow = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                let d = b - b'0';
                match &mut frac_digits {
                    Some(f) => *f += 1,
                    None => int_digits += 1,
                }
                if overflow {
                    continue;
                }
                match &mut wide {
                    None if small < 100_000_000_000_000_000 => small = small * 10 + u64::from(d),
                    None => wide = Some(u128::from(small) * 10 + u128::from(d)),
                    Some(w) => match w.checked_mul(10).and_then(|x| x.checked_add(u128::from(d))) {
                        Some(x) if x < MANTISSA_LIMIT => *w = x,
                        _ => overflow = true,
                    },
                }
            }
            b'.' if frac_digits.is_none() && int_digits > 0 => frac_digits = Some(0),
            _ => return Err(CanonicalError::Syntax),
        }
    }
    if int_digits == 0 || frac_digits == Some(0) {
        return Err(CanonicalError::Syntax);
    }
    let scale = frac_digits.unwrap_or(0);
    if overflow || scale > MAX_SCALE {
        return Err(CanonicalError::OutOfRange);
    }
    let mantissa = wide.unwrap_or(u128::from(small));
    // Below 2^96 by construction on the wide path; the 64-bit path is below 10^19.
    let mantissa = i128::try_from(mantissa).map_err(|_| CanonicalError::OutOfRange)?;
    let mut value =
        Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| CanonicalError::OutOfRange)?;
    value.set_sign_negative(negative);
    Ok(value)
}

/// [`parse`] of at most 19 characters after the sign.
fn parse_short(negative: bool, digits: &[u8]) -> Result<Decimal, CanonicalError> {
    let mut mantissa: u64 = 0;
    let mut point = None;
    for (i, &b) in digits.iter().enumerate() {
        let digit = b.wrapping_sub(b'0');
        if digit < 10 {
            mantissa = mantissa * 10 + u64::from(digit);
        } else if b == b'.' && point.is_none() {
            point = Some(i);
        } else {
            return Err(CanonicalError::Syntax);
        }
    }
    let scale = match point {
        None if !digits.is_empty() => 0,
        Some(p) if p > 0 && p + 1 < digits.len() => digits.len() - p - 1,
        _ => return Err(CanonicalError::Syntax),
    };
    // Below 19 digits after the point, so within MAX_SCALE.
    let mut value = Decimal::from_parts(mantissa as u32, (mantissa >> 32) as u32, 0, false, scale as u32);
    value.set_sign_negative(negative);
    Ok(value)
}

/// The canonical text of `value` (the same bytes as its `Display`).
pub fn format(value: Decimal) -> String {
    let mut out = String::with_capacity(24);
    push(value, &mut out);
    out
}

/// Appends the canonical text of `value` to `out`.
pub fn push(value: Decimal, out: &mut String) {
    // Digits of the mantissa, least significant first, into a fixed buffer.
    let mut buf = [0u8; 40];
    let mut len = 0;
    let mut m = value.mantissa().unsigned_abs();
    while m > u128::from(u64::MAX) {
        let (q, r) = (m / 10, m % 10);
        buf[len] = b'0' + r as u8;
        len += 1;
        m = q;
    }
    let mut m = m as u64;
    loop {
        buf[len] = b'0' + (m % 10) as u8;
        len += 1;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    let scale = value.scale() as usize;
    // At least one digit before the point.
    while len <= scale {
        buf[len] = b'0';
        len += 1;
    }
    // Then the text in reading order, appended at once.
    let mut text = [0u8; 42];
    let mut n = 0;
    if value.is_sign_negative() {
        text[n] = b'-';
        n += 1;
    }
    for i in (0..len).rev() {
        if i + 1 == scale {
            text[n] = b'.';
            n += 1;
        }
        text[n] = buf[i];
        n += 1;
    }
    // ASCII digits, sign and point only, so always UTF-8.
    out.push_str(std::str::from_utf8(&text[..n]).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn round_trips_keep_the_scale_and_match_display() {
        for d in [
            dec!(0),
            dec!(0.000),
            -dec!(0),
            dec!(-30.9500),
            dec!(51547.50),
            dec!(1000000000000000000),
            dec!(999999999999999999),
            Decimal::MAX,
            Decimal::MIN,
            dec!(0.0000000000000000000000000001),
            dec!(-0.0000000000000000000000000001),
        ] {
            let text = format(d);
            assert_eq!(text, d.to_string(), "{d:?}");
            let back = parse(&text).unwrap();
            assert_eq!(back, d);
            assert_eq!(format(back), text);
        }
    }

    #[test]
    fn rejects_what_is_not_canonical() {
        for bad in [
            "", "-", "+1", "1e3", "1.", ".5", "-.5", " 1", "1 ", "1_000", "1,5", "NaN", "inf", "--1", "0x10",
            "1.2.3", "-1-",
        ] {
            assert_eq!(parse(bad), Err(CanonicalError::Syntax), "{bad:?}");
        }
        for big in [
            "79228162514264337593543950336",
            "1.00000000000000000000000000001",
            "792281625142643375935439503350000",
            "-79228162514264337593543950336",
        ] {
            assert_eq!(parse(big), Err(CanonicalError::OutOfRange), "{big:?}");
        }
        assert_eq!(parse("79228162514264337593543950335"), Ok(Decimal::MAX));
        assert_eq!(parse("0.0000000000000000000000000000"), Ok(Decimal::new(0, 28)));
    }

    proptest! {
        #[test]
        fn agrees_with_rust_decimal(lo in any::<u32>(), mid in any::<u32>(), hi in any::<u32>(), neg: bool, scale in 0u32..=28) {
            let d = Decimal::from_parts(lo, mid, hi, neg, scale);
            let text = format(d);
            prop_assert_eq!(&text, &d.to_string());
            let back = parse(&text).unwrap();
            prop_assert_eq!(back, d);
            prop_assert_eq!(back.scale(), d.scale());
            prop_assert_eq!(Decimal::from_str_exact(&text).unwrap(), back);
        }

        #[test]
        fn small_numbers_take_the_fast_path_exactly(m in any::<i64>(), scale in 0u32..=18) {
            let d = Decimal::new(m, scale);
            prop_assert_eq!(parse(&d.to_string()).unwrap(), d);
            prop_assert_eq!(format(d), d.to_string());
        }

        /// Texts around the 19-character fast-path boundary, well formed or not.
        #[test]
        fn short_texts_follow_the_grammar(text in "-?[0-9.]{0,22}") {
            let body = text.strip_prefix('-').unwrap_or(&text);
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let well_formed = match body.split_once('.') {
                None => digits(body),
                Some((int, frac)) => digits(int) && digits(frac),
            };
            match parse(&text) {
                Ok(d) => {
                    prop_assert!(well_formed, "{text:?} accepted");
                    let exact = Decimal::from_str_exact(&text).unwrap();
                    prop_assert_eq!(d, exact);
                    prop_assert_eq!(d.scale(), exact.scale());
                    prop_assert_eq!(d.is_sign_negative(), text.starts_with('-'));
                }
                Err(e) => prop_assert!(!well_formed && e == CanonicalError::Syntax, "{text:?}: {e:?}"),
            }
        }
    }
}
