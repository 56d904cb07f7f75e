// Volume rebate as a kam:rules pricing plugin written in JavaScript (componentize-js).
//
// When the quote total exceeds 50,000, a rebate of 2 % of the part above 50,000,
// unrounded (the quote's rounding policy applies later). The same rule as the Rust guest
// `plugins/volume-rebate`, the Rhai script `scripts/volume_rebate.rhai` and the native
// rule; the host's tests check that all of them give the same adjustment, digit for digit.
//
// JavaScript numbers are binary floats: 51547.50 - 50000 is fine, but 0.1 + 0.2 is not
// 0.3, so no money goes through a Number. A decimal here is a BigInt mantissa and a
// scale (digits after the point), parsed from and written back to the canonical strings
// of the contract (`wit/rules.wit`, `types.decimal`), with the scale rules of
// rust_decimal: a - b has the larger scale, a x b the sum of the scales.

const API_VERSION = "0.2.0";

// The canonical grammar: an optional `-`, digits, optionally `.` and digits.
const CANONICAL = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;
const MAX_SCALE = 28;
// rust_decimal's mantissa is 96 bits; a product that does not fit loses its last digit,
// rounded half to even, exactly as rust_decimal's multiplication does.
const MANTISSA_LIMIT = 1n << 96n;

/** Parses canonical text into `{ mantissa: BigInt (signed), scale: Number }`. */
function parse(field, text) {
  const m = CANONICAL.exec(text);
  if (m === null) {
    throw `${field}: ${JSON.stringify(text)} is not a canonical decimal`;
  }
  const frac = m[3] ?? "";
  const digits = BigInt(m[2] + frac);
  if (frac.length > MAX_SCALE || digits >= MANTISSA_LIMIT) {
    throw `${field}: ${JSON.stringify(text)} does not fit a decimal (at most 28 decimals and a 96-bit mantissa)`;
  }
  return { mantissa: m[1] === "-" ? -digits : digits, scale: frac.length };
}

/** `mantissa x 10^k` for k >= 0. */
function scaleUp(mantissa, k) {
  return mantissa * 10n ** BigInt(k);
}

/** `a - b`, exact, at the larger of the two scales. */
function sub(a, b) {
  const scale = Math.max(a.scale, b.scale);
  return {
    mantissa: scaleUp(a.mantissa, scale - a.scale) - scaleUp(b.mantissa, scale - b.scale),
    scale,
  };
}

/** `a x b`, at the sum of the scales, then fitted to 96 bits and 28 decimals. */
function mul(a, b) {
  return fit({ mantissa: a.mantissa * b.mantissa, scale: a.scale + b.scale });
}

/** Drops last digits, rounded half to even, until the value fits a rust_decimal. */
function fit(value) {
  let { mantissa, scale } = value;
  const negative = mantissa < 0n;
  let digits = negative ? -mantissa : mantissa;
  while (digits >= MANTISSA_LIMIT || scale > MAX_SCALE) {
    if (scale === 0) {
      throw "the rebate does not fit a decimal";
    }
    const quotient = digits / 10n;
    const remainder = digits % 10n;
    const up = remainder > 5n || (remainder === 5n && quotient % 2n === 1n);
    digits = up ? quotient + 1n : quotient;
    scale -= 1;
  }
  return { mantissa: negative ? -digits : digits, scale };
}

/** Compares two decimals: -1, 0 or 1. */
function compare(a, b) {
  const d = sub(a, b).mantissa;
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** The canonical text of a decimal, scale kept (`30.9500`). */
function format(value) {
  const negative = value.mantissa < 0n;
  const digits = (negative ? -value.mantissa : value.mantissa).toString().padStart(value.scale + 1, "0");
  const cut = digits.length - value.scale;
  const text = value.scale === 0 ? digits : `${digits.slice(0, cut)}.${digits.slice(cut)}`;
  return negative ? `-${text}` : text;
}

const THRESHOLD = { mantissa: 50000n, scale: 0 };
const RATE = { mantissa: 2n, scale: 2 };

export const meta = {
  apiVersion() {
    return API_VERSION;
  },
};

export const pricing = {
  adjust(quote) {
    const total = parse("total", quote.total);
    if (compare(total, THRESHOLD) <= 0) {
      return [];
    }
    const rebate = mul(sub(total, THRESHOLD), RATE);
    return [{ label: "volume rebate", amount: format({ mantissa: -rebate.mantissa, scale: rebate.scale }) }];
  },
};
