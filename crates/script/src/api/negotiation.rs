//! ZOPA, Nash bargaining, concession tactics and utility over `kam_core::negotiation`.

use kam_core::negotiation::issues::utility;
use kam_core::negotiation::tactics::concession_offer;
use kam_core::negotiation::zone::{nash_price, zopa};
use kam_core::negotiation::{LinearIssue, Package, Side, TacticFamily};
use rhai::{Dynamic, Map};
use rust_decimal::Decimal;

use super::{
    Api, R, arg_err, array, field_num, field_str, fn_err, known_fields, map, num, probability, string,
};

pub(crate) fn register(api: &mut Api<'_>) {
    api.section("Negotiation");
    api.func(
        "zopa",
        &[
            "seller_reservation: number",
            "buyer_reservation: number",
            "Map or ()",
        ],
        "zopa(seller_reservation, buyer_reservation) -> #{ low, high, width } or ()",
        "The zone of possible agreement on a price: from the seller's walk-away (low) to the buyer's \
         (high); () when the seller needs more than the buyer will pay.",
        |s: Dynamic, b: Dynamic| -> R<Dynamic> {
            let f = "zopa";
            let s = num(f, "seller_reservation", &s)?;
            let b = num(f, "buyer_reservation", &b)?;
            Ok(match zopa(s, b).map_err(|e| fn_err(f, e))? {
                None => Dynamic::UNIT,
                Some(z) => {
                    let mut m = Map::new();
                    m.insert("low".into(), Dynamic::from_decimal(z.low));
                    m.insert("high".into(), Dynamic::from_decimal(z.high));
                    m.insert("width".into(), Dynamic::from_decimal(z.width));
                    Dynamic::from_map(m)
                }
            })
        },
    );
    api.func(
        "nash_price",
        &[
            "seller_reservation: number",
            "buyer_reservation: number",
            "seller_power: number",
            "decimal",
        ],
        "nash_price(seller_reservation, buyer_reservation, seller_power) -> decimal",
        "The generalized Nash bargaining price with linear utilities: s + power × (b − s); power in [0, 1]; \
         no ZOPA is an error.",
        |s: Dynamic, b: Dynamic, p: Dynamic| -> R<Decimal> {
            let f = "nash_price";
            let s = num(f, "seller_reservation", &s)?;
            let b = num(f, "buyer_reservation", &b)?;
            let p = probability(f, "seller_power", &p)?;
            nash_price(s, b, p).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "concession_offer",
        &["params: Map", "decimal"],
        "concession_offer(#{ min, max, t, deadline, beta, kappa, family, side }) -> decimal",
        "The offer at time t of a time-dependent tactic (Faratin et al. 1998): family \"polynomial\" or \
         \"exponential\"; side \"seller\" (concedes from max down) or \"buyer\" (from min up); beta < 1 is \
         Boulware (holds out), beta > 1 Conceder.",
        |params: Dynamic| -> R<Decimal> {
            let f = "concession_offer";
            let m = map(f, "params", &params)?;
            known_fields(
                f,
                "params",
                &m,
                &["min", "max", "t", "deadline", "beta", "kappa", "family", "side"],
            )?;
            let family = field_str(f, "params", &m, "family")?
                .parse::<TacticFamily>()
                .map_err(|e| arg_err(f, "params.family", e))?;
            let side = field_str(f, "params", &m, "side")?
                .parse::<Side>()
                .map_err(|e| arg_err(f, "params.side", e))?;
            concession_offer(
                field_num(f, "params", &m, "min")?,
                field_num(f, "params", &m, "max")?,
                field_num(f, "params", &m, "t")?,
                field_num(f, "params", &m, "deadline")?,
                field_num(f, "params", &m, "beta")?,
                field_num(f, "params", &m, "kappa")?,
                family,
                side,
            )
            .map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "utility",
        &["package: Map", "issues: Array", "decimal"],
        "utility(package, [#{ name, worst, best, weight }, …]) -> decimal",
        "Additive utility in [0, 1] of `package` (#{ issue: value }) with linear value functions from \
         worst (0) to best (1); weights must sum to 1.",
        |package: Dynamic, issues: Dynamic| -> R<Decimal> {
            let f = "utility";
            let pm = map(f, "package", &package)?;
            let mut pairs = Vec::with_capacity(pm.len());
            for (k, v) in &pm {
                pairs.push((k.to_string(), num(f, &format!("package.{k}"), v)?));
            }
            let list = array(f, "issues", &issues)?
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let path = format!("issues[{i}]");
                    let m = map(f, &path, v)?;
                    known_fields(f, &path, &m, &["name", "worst", "best", "weight"])?;
                    Ok(LinearIssue {
                        name: match m.get("name") {
                            Some(n) => string(f, &format!("{path}.name"), n)?,
                            None => return Err(arg_err(f, &path, "missing field `name`")),
                        },
                        worst: field_num(f, &path, &m, "worst")?,
                        best: field_num(f, &path, &m, "best")?,
                        weight: field_num(f, &path, &m, "weight")?,
                    })
                })
                .collect::<R<Vec<_>>>()?;
            utility(&Package::from_pairs(pairs), &list).map_err(|e| fn_err(f, e))
        },
    );
}
