//! `Money`, `money()`, `round_money()`, `round_dp()`.

use kam_core::money::{Currency, Money, RoundingMode};
use rhai::Dynamic;
use rust_decimal::Decimal;

use super::{Api, R, arg_err, fn_err, num, string, type_name, whole};

/// The rounding mode argument of `func`.
pub(crate) fn mode(func: &str, arg: &str, v: &Dynamic) -> R<RoundingMode> {
    let s = string(func, arg, v)?;
    s.parse::<RoundingMode>().map_err(|e| arg_err(func, arg, e))
}

/// The currency argument of `func`.
pub(crate) fn currency(func: &str, arg: &str, v: &Dynamic) -> R<Currency> {
    let s = string(func, arg, v)?;
    Currency::from_code(&s).map_err(|e| arg_err(func, arg, e))
}

/// A `Money` argument.
pub(crate) fn money_arg(func: &str, arg: &str, v: &Dynamic) -> R<Money> {
    v.clone().try_cast::<Money>().ok_or_else(|| {
        arg_err(
            func,
            arg,
            format!(
                "must be a Money (from money(amount, \"EUR\")), got {}",
                type_name(v)
            ),
        )
    })
}

fn times(op: &str, m: Money, x: &Dynamic) -> R<Money> {
    let f = num(op, "factor", x)?;
    m.checked_mul(f).map_err(|e| fn_err(op, e))
}

pub(crate) fn register(api: &mut Api<'_>) {
    api.section("Money and rounding");
    api.ty::<Money>(
        "Money",
        "An exact amount in one ISO 4217 currency. `+`/`-` with the same currency, `*`/`/` by a number, \
         comparisons within one currency; mixing currencies is an error. Prints as `5400.00 EUR`.",
    );
    api.func(
        "money",
        &["amount: number", "currency: &str", "Money"],
        "money(amount, currency) -> Money",
        "A Money of `amount` (integer or decimal) in `currency` (ISO 4217 code, e.g. \"EUR\"), unrounded.",
        |amount: Dynamic, code: Dynamic| -> R<Money> {
            let a = num("money", "amount", &amount)?;
            let c = currency("money", "currency", &code)?;
            Ok(Money::new(a, c))
        },
    );
    api.getter::<Money, Decimal>("Money", "amount", "decimal", "The exact amount.", |m| m.amount());
    api.getter::<Money, String>("Money", "currency", "string", "The ISO 4217 code.", |m| {
        m.currency().code().to_owned()
    });
    api.func(
        "round_money",
        &["m: Money", "mode: &str", "Money"],
        "round_money(m, mode) -> Money",
        "`m` rounded to its currency's ISO 4217 minor units (EUR 2, JPY 0, BHD 3); mode \"half_even\" \
         (banker's) or \"half_up\" (half away from zero).",
        |m: Dynamic, mode_v: Dynamic| -> R<Money> {
            let m = money_arg("round_money", "m", &m)?;
            let rm = mode("round_money", "mode", &mode_v)?;
            let rounded = m.round(rm);
            // Show every minor unit (201400 → 201400.00); the value is unchanged.
            let mut amount = rounded.amount();
            let dp = rounded.currency().minor_units();
            if amount.scale() < dp {
                amount.rescale(dp);
            }
            Ok(Money::new(amount, rounded.currency()))
        },
    );
    api.func(
        "round_dp",
        &["x: number", "dp: int", "mode: &str", "decimal"],
        "round_dp(x, dp, mode) -> decimal",
        "The number `x` rounded to `dp` decimal places (0–28) with mode \"half_even\" or \"half_up\" \
         (half away from zero).",
        |x: Dynamic, dp: Dynamic, mode_v: Dynamic| -> R<Decimal> {
            let x = num("round_dp", "x", &x)?;
            let dp = whole(&dp)
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| *d <= 28)
                .ok_or_else(|| {
                    arg_err(
                        "round_dp",
                        "dp",
                        format!("must be an integer from 0 to 28, got {dp}"),
                    )
                })?;
            let rm = mode("round_dp", "mode", &mode_v)?;
            Ok(rm.round(x, dp))
        },
    );

    // Operators on Money (documented on the type).
    api.op("+", |a: Money, b: Money| -> R<Money> {
        a.checked_add(&b).map_err(|e| fn_err("Money +", e))
    });
    api.op("-", |a: Money, b: Money| -> R<Money> {
        a.checked_sub(&b).map_err(|e| fn_err("Money -", e))
    });
    api.op("-", |a: Money| -> R<Money> {
        Money::zero(a.currency())
            .checked_sub(&a)
            .map_err(|e| fn_err("Money -", e))
    });
    api.op("*", |a: Money, x: Dynamic| times("Money *", a, &x));
    api.op("*", |x: Dynamic, a: Money| times("Money *", a, &x));
    api.op("/", |a: Money, x: Dynamic| -> R<Money> {
        let d = num("Money /", "divisor", &x)?;
        a.checked_div(d).map_err(|e| fn_err("Money /", e))
    });
    for (name, test) in [
        (
            "==",
            (|o| o == std::cmp::Ordering::Equal) as fn(std::cmp::Ordering) -> bool,
        ),
        ("!=", |o| o != std::cmp::Ordering::Equal),
        ("<", |o| o == std::cmp::Ordering::Less),
        ("<=", |o| o != std::cmp::Ordering::Greater),
        (">", |o| o == std::cmp::Ordering::Greater),
        (">=", |o| o != std::cmp::Ordering::Less),
    ] {
        api.op(name, move |a: Money, b: Money| -> R<bool> {
            a.checked_cmp(&b)
                .map(test)
                .map_err(|e| fn_err(&format!("Money {name}"), e))
        });
    }
    api.op("to_string", |m: &mut Money| m.to_string());
    api.op("to_debug", |m: &mut Money| m.to_string());
}
