//! Rate cards, quotes and commercial models over `kam_core::pricing`.

use kam_core::money::{Money, RoundingLevel, RoundingPolicy};
use kam_core::pricing::{self, FuelSurcharge, IndexComponent, Markup, Quote, RateCard, Tier, TierMethod};
use rhai::{Array, Dynamic, Map};
use rust_decimal::Decimal;

use super::money::{currency, mode};
use super::{
    Api, R, arg_err, array, field_num, field_num_opt, fn_err, known_fields, map, non_negative, num, string,
};

fn money_map(m: Money) -> Dynamic {
    Dynamic::from(m)
}

fn tiers_arg(func: &str, v: &Dynamic) -> R<Vec<Tier>> {
    let items = array(func, "tiers", v)?;
    let n = items.len();
    items
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let path = format!("tiers[{i}]");
            let m = map(func, &path, t)?;
            known_fields(func, &path, &m, &["up_to", "rate"])?;
            let rate = field_num(func, &path, &m, "rate")?;
            match field_num_opt(func, &path, &m, "up_to")? {
                Some(up_to) => Ok(Tier::up_to(up_to, rate)),
                None if i + 1 == n => Ok(Tier::unbounded(rate)),
                None => Err(arg_err(func, &path, "only the last tier may omit `up_to`")),
            }
        })
        .collect()
}

pub(crate) fn register(api: &mut Api<'_>) {
    api.section("Rate cards and quotes");
    api.ty::<RateCard>(
        "RateCard",
        "A rate card in one currency (rounding half_up per line unless set). Build it with .flat, .tiered, \
         .minimum, .rounding; price volumes with .price.",
    );
    api.func(
        "rate_card",
        &["currency: &str", "RateCard"],
        "rate_card(currency) -> RateCard",
        "An empty rate card in `currency` (ISO 4217), rounding half_up per line.",
        |code: Dynamic| -> R<RateCard> { Ok(RateCard::new(currency("rate_card", "currency", &code)?)) },
    );
    api.func(
        "flat",
        &["card: &mut RateCard", "activity: &str", "rate: number", "()"],
        "card.flat(activity, rate)",
        "Prices `activity` (snake_case, e.g. \"pallet_in\") at one unit rate.",
        |card: &mut RateCard, activity: Dynamic, rate: Dynamic| -> R<()> {
            let f = "rate_card.flat";
            let a = string(f, "activity", &activity)?;
            let r = non_negative(f, "rate", &rate)?;
            card.flat(&a, r).map(|_| ()).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "tiered",
        &[
            "card: &mut RateCard",
            "activity: &str",
            "method: &str",
            "tiers: Array",
            "()",
        ],
        "card.tiered(activity, method, [#{ up_to, rate }, …, #{ rate }])",
        "Prices `activity` by tiers; method \"graduated\" (each band at its own rate) or \"all_units\" \
         (every unit at the rate of the band reached). `up_to` is inclusive; the last tier has no bound.",
        |card: &mut RateCard, activity: Dynamic, method: Dynamic, tiers: Dynamic| -> R<()> {
            let f = "rate_card.tiered";
            let a = string(f, "activity", &activity)?;
            let m = string(f, "method", &method)?
                .parse::<TierMethod>()
                .map_err(|e| arg_err(f, "method", e))?;
            let t = tiers_arg(f, &tiers)?;
            card.tiered(&a, m, t).map(|_| ()).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "minimum",
        &["card: &mut RateCard", "activity: &str", "quantity: number", "()"],
        "card.minimum(activity, quantity)",
        "A take-or-pay minimum quantity per period on `activity`: the shortfall is billed.",
        |card: &mut RateCard, activity: Dynamic, quantity: Dynamic| -> R<()> {
            let f = "rate_card.minimum";
            let a = string(f, "activity", &activity)?;
            let q = non_negative(f, "quantity", &quantity)?;
            card.minimum(&a, q).map(|_| ()).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "rounding",
        &["card: &mut RateCard", "mode: &str", "level: &str", "()"],
        "card.rounding(mode, level)",
        "Sets the rounding policy: mode \"half_even\" or \"half_up\" (half away from zero); level \"line\" \
         (round each line, total = Σ rounded lines) or \"total\" (round only the total).",
        |card: &mut RateCard, m: Dynamic, level: Dynamic| -> R<()> {
            let f = "rate_card.rounding";
            let rm = mode(f, "mode", &m)?;
            let lv = string(f, "level", &level)?
                .parse::<RoundingLevel>()
                .map_err(|e| arg_err(f, "level", e))?;
            card.set_rounding(RoundingPolicy::new(rm, lv));
            Ok(())
        },
    );
    api.func(
        "price",
        &["card: &mut RateCard", "volumes: Map", "Quote"],
        "card.price(#{ activity: quantity, … }) -> Quote",
        "Prices one period's volumes (quantities may be fractional). Unknown activities and negative \
         quantities are errors.",
        |card: &mut RateCard, volumes: Dynamic| -> R<Quote> {
            let f = "rate_card.price";
            let m = map(f, "volumes", &volumes)?;
            let mut pairs = Vec::with_capacity(m.len());
            for (k, v) in &m {
                let q = num(f, &format!("volumes.{k}"), v)?;
                pairs.push((k.to_string(), q));
            }
            card.price(pairs).map_err(|e| fn_err(f, e))
        },
    );

    api.ty::<Quote>(
        "Quote",
        "A priced quote: .total, .subtotal, .amount(activity), .lines, .warnings.",
    );
    api.getter::<Quote, Money>(
        "Quote",
        "total",
        "Money",
        "The total, after adjustments, rounded per policy.",
        |q| q.total(),
    );
    api.getter::<Quote, Money>(
        "Quote",
        "subtotal",
        "Money",
        "The total of the lines before adjustments.",
        |q| q.subtotal(),
    );
    api.func(
        "amount",
        &["q: &mut Quote", "activity: &str", "Money"],
        "q.amount(activity) -> Money",
        "The amount of `activity`'s line; an activity not in the quote is an error.",
        |q: &mut Quote, activity: Dynamic| -> R<Money> {
            let f = "quote.amount";
            let a = string(f, "activity", &activity)?;
            q.amount(&a).map_err(|e| fn_err(f, e))
        },
    );
    api.getter::<Quote, Array>(
        "Quote",
        "lines",
        "array",
        "The lines in card order: #{ activity, quantity, billed_quantity, amount (Money) }.",
        |q| {
            q.lines()
                .iter()
                .map(|l| {
                    let mut m = Map::new();
                    m.insert("activity".into(), l.activity.clone().into());
                    m.insert("quantity".into(), Dynamic::from_decimal(l.quantity));
                    m.insert("billed_quantity".into(), Dynamic::from_decimal(l.billed_quantity));
                    m.insert("amount".into(), money_map(l.amount));
                    m.insert("explanation".into(), l.explanation.clone().into());
                    Dynamic::from_map(m)
                })
                .collect()
        },
    );
    api.getter::<Quote, Array>(
        "Quote",
        "warnings",
        "array",
        "Warnings as strings, e.g. an all-units cliff just above a boundary, a minimum shortfall.",
        |q| {
            q.warnings()
                .iter()
                .map(|w| Dynamic::from(w.message.clone()))
                .collect()
        },
    );
    api.op("to_string", |q: &mut Quote| format!("Quote(total {})", q.total()));

    api.section("Commercial models");
    api.func(
        "cost_plus",
        &["cost: number or Money", "markup_pct: number", "number or Money"],
        "cost_plus(cost, markup_pct) -> number or Money",
        "cost × (1 + markup_pct/100), unrounded; a Money cost gives a Money price.",
        |cost: Dynamic, markup: Dynamic| -> R<Dynamic> {
            let f = "cost_plus";
            let pct = num(f, "markup_pct", &markup)?;
            if let Some(m) = cost.clone().try_cast::<Money>() {
                return pricing::cost_plus(&m, Markup::from_pct(pct))
                    .map(Dynamic::from)
                    .map_err(|e| fn_err(f, e));
            }
            let c = num(f, "cost", &cost)?;
            Markup::from_pct(pct)
                .apply(c)
                .map(Dynamic::from_decimal)
                .map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "markup_to_margin",
        &["pct: number", "decimal"],
        "markup_to_margin(pct) -> decimal",
        "The margin % (of price) equal to a markup of `pct` % (of cost), unrounded: 6 → 5.6603…",
        |pct: Dynamic| -> R<Decimal> {
            let p = num("markup_to_margin", "pct", &pct)?;
            pricing::markup_to_margin(p).map_err(|e| fn_err("markup_to_margin", e))
        },
    );
    api.func(
        "margin_to_markup",
        &["pct: number", "decimal"],
        "margin_to_markup(pct) -> decimal",
        "The markup % (of cost) equal to a margin of `pct` % (of price), unrounded.",
        |pct: Dynamic| -> R<Decimal> {
            let p = num("margin_to_markup", "pct", &pct)?;
            pricing::margin_to_markup(p).map_err(|e| fn_err("margin_to_markup", e))
        },
    );
    api.func(
        "fixed_plus_variable",
        &["fixed: number", "quantity: number", "rate: number", "decimal"],
        "fixed_plus_variable(fixed, quantity, rate) -> decimal",
        "fixed + quantity × rate, unrounded; a negative quantity is an error.",
        |fixed: Dynamic, quantity: Dynamic, rate: Dynamic| -> R<Decimal> {
            let f = "fixed_plus_variable";
            let fx = num(f, "fixed", &fixed)?;
            let q = non_negative(f, "quantity", &quantity)?;
            let r = num(f, "rate", &rate)?;
            pricing::fixed_plus_variable(fx, q, r).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "gainshare",
        &[
            "baseline_unit_cost: number",
            "actual_unit_cost: number",
            "volume: number",
            "provider_share_pct: number",
            "decimal",
        ],
        "gainshare(baseline_unit_cost, actual_unit_cost, volume, provider_share_pct) -> decimal",
        "The provider's share of the saving (baseline − actual) × volume: positive for a gain, negative \
         for an overrun (painshare).",
        |base: Dynamic, actual: Dynamic, volume: Dynamic, share: Dynamic| -> R<Decimal> {
            let f = "gainshare";
            let b = num(f, "baseline_unit_cost", &base)?;
            let a = num(f, "actual_unit_cost", &actual)?;
            let v = non_negative(f, "volume", &volume)?;
            let s = num(f, "provider_share_pct", &share)?;
            if s < Decimal::ZERO || s > Decimal::ONE_HUNDRED {
                return Err(arg_err(
                    f,
                    "provider_share_pct",
                    format!("must be between 0 and 100, got {s}"),
                ));
            }
            pricing::gainshare(b, a, v, s).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "index_factor",
        &["fixed_share: number", "indices: Array", "decimal"],
        "index_factor(fixed_share, [#{ weight, base, current }, …]) -> decimal",
        "fixed_share + Σ weight × current/base, unrounded; fixed_share + Σ weight must be exactly 1. \
         An index may carry a `name` for messages.",
        |fixed: Dynamic, indices: Dynamic| -> R<Decimal> {
            let f = "index_factor";
            let fs = num(f, "fixed_share", &fixed)?;
            let items = array(f, "indices", &indices)?;
            let comps = items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let path = format!("indices[{i}]");
                    let m = map(f, &path, v)?;
                    known_fields(f, &path, &m, &["name", "weight", "base", "current"])?;
                    Ok(IndexComponent {
                        name: match m.get("name") {
                            Some(n) => string(f, &format!("{path}.name"), n)?,
                            None => format!("index {i}"),
                        },
                        weight: field_num(f, &path, &m, "weight")?,
                        base: field_num(f, &path, &m, "base")?,
                        current: field_num(f, &path, &m, "current")?,
                    })
                })
                .collect::<R<Vec<_>>>()?;
            pricing::index_factor(fs, &comps).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "fuel_surcharge_pct",
        &["price: number", "bands: Map", "decimal"],
        "fuel_surcharge_pct(price, #{ base, step, pct_per_step }) -> decimal",
        "pct_per_step × ceil((price − base)/step) when price > base, else 0 (optional `ceiling_pct` caps it).",
        |price: Dynamic, bands: Dynamic| -> R<Decimal> {
            let f = "fuel_surcharge_pct";
            let p = num(f, "price", &price)?;
            let m = map(f, "bands", &bands)?;
            known_fields(f, "bands", &m, &["base", "step", "pct_per_step", "ceiling_pct"])?;
            let b = FuelSurcharge {
                base: field_num(f, "bands", &m, "base")?,
                step: field_num(f, "bands", &m, "step")?,
                pct_per_step: field_num(f, "bands", &m, "pct_per_step")?,
                ceiling_pct: field_num_opt(f, "bands", &m, "ceiling_pct")?,
            };
            pricing::fuel_surcharge_pct(p, &b).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "contribution",
        &["revenue: number", "costs: Array", "Array"],
        "contribution(revenue, [cost, …]) -> [#{ margin, margin_pct }, …]",
        "The margin after each cost layer in turn (CM1, CM2, …) and margin_pct = margin/revenue × 100 \
         (unrounded; () when revenue is 0).",
        |revenue: Dynamic, costs: Dynamic| -> R<Array> {
            let f = "contribution";
            let r = num(f, "revenue", &revenue)?;
            let cs = array(f, "costs", &costs)?
                .iter()
                .enumerate()
                .map(|(i, c)| num(f, &format!("costs[{i}]"), c))
                .collect::<R<Vec<_>>>()?;
            let layers = pricing::contribution(r, &cs).map_err(|e| fn_err(f, e))?;
            Ok(layers
                .into_iter()
                .map(|l| {
                    let mut m = Map::new();
                    m.insert("cost".into(), Dynamic::from_decimal(l.cost));
                    m.insert("margin".into(), Dynamic::from_decimal(l.margin));
                    m.insert(
                        "margin_pct".into(),
                        l.margin_pct.map_or(Dynamic::UNIT, Dynamic::from_decimal),
                    );
                    Dynamic::from_map(m)
                })
                .collect())
        },
    );
}
