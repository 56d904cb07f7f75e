"""Volume rebate as a kam:rules pricing plugin written in Python (componentize-py).

When the quote total exceeds 50,000, a rebate of 2 % of the part above 50,000, unrounded
(the quote's rounding policy applies later). The same rule as the Rust guest
`plugins/volume-rebate`, the Rhai script `scripts/volume_rebate.rhai` and the native rule;
the host's tests check that all of them give the same adjustment, digit for digit.

Decimals cross the boundary as canonical strings (`wit/rules.wit`, `types.decimal`); they
are parsed into `decimal.Decimal`, which is exact and keeps the scale the way
rust_decimal does (`51547.50 - 50000 = 1547.50`, `1547.50 * 0.02 = 30.9500`). No float
touches the money.
"""

import decimal
import re

from wit_world import exports
from wit_world.imports import types
from wit_world.types import Err

API_VERSION = "0.2.0"

# The canonical grammar of `types.decimal`: `Decimal()` alone would also take `1e3`,
# `+1`, ` 1`, `NaN` or `Infinity`, which the contract excludes.
CANONICAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")

# rust_decimal's mantissa is 96 bits; a product that does not fit loses its last digit,
# rounded half to even, exactly as rust_decimal's multiplication does.
MANTISSA_LIMIT = 1 << 96

# Enough digits for any exact product of two 96-bit decimals: nothing rounds implicitly.
EXACT = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN, traps=[decimal.InvalidOperation])

THRESHOLD = decimal.Decimal(50000)
RATE = decimal.Decimal("0.02")


def parse(field: str, text: str) -> decimal.Decimal:
    if CANONICAL.fullmatch(text) is None:
        raise Err(f"{field}: {text!r} is not a canonical decimal")
    value = decimal.Decimal(text)
    if -value.as_tuple().exponent > 28 or mantissa(value) >= MANTISSA_LIMIT:
        raise Err(f"{field}: {text!r} does not fit a decimal (at most 28 decimals and a 96-bit mantissa)")
    return value


def mantissa(value: decimal.Decimal) -> int:
    """The unscaled digits of `value` as an integer (`30.9500` -> 309500)."""
    return int("".join(map(str, value.as_tuple().digits)))


def fit(value: decimal.Decimal) -> decimal.Decimal:
    """`value` rounded half to even, one digit at a time, until its mantissa fits 96 bits."""
    while True:
        if mantissa(value) < MANTISSA_LIMIT:
            return value
        exponent = value.as_tuple().exponent
        if exponent >= 0:
            raise Err(f"the rebate {value} does not fit a decimal")
        value = value.quantize(decimal.Decimal(1).scaleb(exponent + 1), rounding=decimal.ROUND_HALF_EVEN, context=EXACT)


def canonical(value: decimal.Decimal) -> str:
    # The `f` format writes plain digits and keeps the exponent as the scale (`30.9500`);
    # `str()` would switch to scientific notation for small values.
    return format(value, "f")


class Meta(exports.Meta):
    def api_version(self) -> str:
        return API_VERSION


class Pricing(exports.Pricing):
    def adjust(self, quote: types.PricingInput) -> list[types.PriceAdjustment]:
        total = parse("total", quote.total)
        if total <= THRESHOLD:
            return []
        over = EXACT.subtract(total, THRESHOLD)
        rebate = fit(EXACT.multiply(over, RATE))
        return [types.PriceAdjustment(label="volume rebate", amount=canonical(EXACT.minus(rebate)))]
