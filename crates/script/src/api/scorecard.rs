//! Scorecards, health score, grades and KPI formulas over `kam_core::scorecard` / `metrics`.

use kam_core::Direction;
use kam_core::metrics::kpi::{otif, perfect_order_rate};
use kam_core::scorecard::{Scorecard, grade, health_score};
use rhai::{Array, Dynamic, Map};
use rust_decimal::Decimal;

use super::{
    Api, R, arg_err, array, field_num, field_str, fn_err, known_fields, map, non_negative, num, string,
};

fn direction(func: &str, v: &Dynamic) -> R<Direction> {
    string(func, "direction", v)?
        .parse::<Direction>()
        .map_err(|e| arg_err(func, "direction", e))
}

pub(crate) fn register(api: &mut Api<'_>) {
    api.section("Scorecards and KPIs");
    api.ty::<Scorecard>(
        "Scorecard",
        "A weighted scorecard of ratio-scored measures (weights normalized).",
    );
    api.func(
        "scorecard",
        &["name: &str", "Scorecard"],
        "scorecard(name) -> Scorecard",
        "An empty scorecard.",
        |name: Dynamic| -> R<Scorecard> { Ok(Scorecard::new(&string("scorecard", "name", &name)?)) },
    );
    api.func(
        "measure",
        &[
            "sc: &mut Scorecard",
            "name: &str",
            "actual: number",
            "target: number",
            "direction: &str",
            "weight: number",
            "()",
        ],
        "sc.measure(name, actual, target, direction, weight)",
        "Adds a ratio-scored measure: actual/target (\"higher\") or target/actual (\"lower\"); weight > 0.",
        |sc: &mut Scorecard,
         name: Dynamic,
         actual: Dynamic,
         target: Dynamic,
         dir: Dynamic,
         weight: Dynamic|
         -> R<()> {
            let f = "scorecard.measure";
            let n = string(f, "name", &name)?;
            let a = num(f, "actual", &actual)?;
            let t = num(f, "target", &target)?;
            let d = direction(f, &dir)?;
            let w = num(f, "weight", &weight)?;
            sc.measure(&n, a, t, d, w).map(|_| ()).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "overall",
        &["sc: &mut Scorecard", "cap: number", "decimal"],
        "sc.overall(cap) -> decimal",
        "The weighted score, each measure's ratio capped at `cap` (e.g. 1.10), weights normalized.",
        |sc: &mut Scorecard, cap: Dynamic| -> R<Decimal> {
            let f = "scorecard.overall";
            let c = num(f, "cap", &cap)?;
            sc.overall(c).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "contributions",
        &["sc: &mut Scorecard", "Array"],
        "sc.contributions() -> [#{ name, score, weight, contribution }, …]",
        "Each measure's score, normalized weight and weight × score at the cap of the last .overall(cap) \
         (cap 1 before any); contributions add up to the overall score.",
        |sc: &mut Scorecard| -> R<Array> {
            let cs = sc
                .contributions()
                .map_err(|e| fn_err("scorecard.contributions", e))?;
            Ok(cs
                .into_iter()
                .map(|c| {
                    let mut m = Map::new();
                    m.insert("name".into(), c.name.into());
                    m.insert(
                        "score".into(),
                        c.score.map_or(Dynamic::UNIT, Dynamic::from_decimal),
                    );
                    m.insert("weight".into(), Dynamic::from_decimal(c.weight));
                    m.insert("contribution".into(), Dynamic::from_decimal(c.contribution));
                    Dynamic::from_map(m)
                })
                .collect())
        },
    );
    api.func(
        "health_score",
        &["items: Array", "decimal"],
        "health_score([#{ weight, score }, …]) -> decimal",
        "Σ weight × score / Σ weight; a score of () is N/A and its weight is redistributed.",
        |items: Dynamic| -> R<Decimal> {
            let f = "health_score";
            let list = array(f, "items", &items)?
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let path = format!("items[{i}]");
                    let m = map(f, &path, v)?;
                    known_fields(f, &path, &m, &["weight", "score", "name"])?;
                    let w = field_num(f, &path, &m, "weight")?;
                    let s = match m.get("score") {
                        None => return Err(arg_err(f, &path, "missing field `score` (use () for N/A)")),
                        Some(s) if s.is_unit() => None,
                        Some(s) => Some(num(f, &format!("{path}.score"), s)?),
                    };
                    Ok((w, s))
                })
                .collect::<R<Vec<_>>>()?;
            health_score(&list).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "grade",
        &["score: number", "bands: Array", "String"],
        "grade(score, [#{ name, up_to }, …]) -> string",
        "The name of the first band (ascending) whose inclusive upper bound `up_to` is ≥ score.",
        |score: Dynamic, bands: Dynamic| -> R<String> {
            let f = "grade";
            let s = num(f, "score", &score)?;
            let list = array(f, "bands", &bands)?
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let path = format!("bands[{i}]");
                    let m = map(f, &path, v)?;
                    known_fields(f, &path, &m, &["name", "up_to"])?;
                    Ok((
                        field_str(f, &path, &m, "name")?,
                        field_num(f, &path, &m, "up_to")?,
                    ))
                })
                .collect::<R<Vec<_>>>()?;
            let refs: Vec<(&str, Decimal)> = list.iter().map(|(n, u)| (n.as_str(), *u)).collect();
            grade(s, &refs).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "perfect_order_rate",
        &["rates: Array", "decimal"],
        "perfect_order_rate([rate, …]) -> decimal",
        "The product of the component rates (each in 0..=1).",
        |rates: Dynamic| -> R<Decimal> {
            let f = "perfect_order_rate";
            let rs = array(f, "rates", &rates)?
                .iter()
                .enumerate()
                .map(|(i, r)| num(f, &format!("rates[{i}]"), r))
                .collect::<R<Vec<_>>>()?;
            perfect_order_rate(&rs).map_err(|e| fn_err(f, e))
        },
    );
    api.func(
        "otif",
        &["on_time_in_full: number", "total: number", "decimal"],
        "otif(on_time_in_full, total) -> decimal",
        "On-time-in-full rate: on_time_in_full / total (0 ≤ on_time_in_full ≤ total, total > 0).",
        |a: Dynamic, t: Dynamic| -> R<Decimal> {
            let f = "otif";
            let a = non_negative(f, "on_time_in_full", &a)?;
            let t = num(f, "total", &t)?;
            if t <= Decimal::ZERO {
                return Err(arg_err(f, "total", format!("must be greater than 0, got {t}")));
            }
            if a > t {
                return Err(arg_err(
                    f,
                    "on_time_in_full",
                    format!("must not exceed total {t}, got {a}"),
                ));
            }
            otif(a, t).map_err(|e| fn_err(f, e))
        },
    );
}
